//! `omg daemon status|start|stop|restart`: managing the per-user omgd.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::output::{self, Fields};
use super::{EXIT_FAILURE, EXIT_OK, Failure, print_json, unexpected};
use crate::config::Paths;
use crate::ipc::client::{Connection, daemon_binary};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::DaemonStatus;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: DaemonAction,
}

#[derive(Debug, Subcommand)]
pub enum DaemonAction {
    /// Show whether omgd runs, and its pid, uptime, index, cache and memory
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Start omgd in the background (through systemd when it manages omgd)
    Start,
    /// Stop omgd once its in-flight requests are answered
    Stop,
    /// Stop omgd, then start it again
    Restart,
}

const WAIT: Duration = Duration::from_secs(15);

async fn connect(socket: &Path) -> Option<Connection> {
    Connection::connect_socket(socket, Duration::from_secs(5))
        .await
        .ok()
}

async fn daemon_status(socket: &Path) -> Option<DaemonStatus> {
    let mut c = connect(socket).await?;
    match c.request(RequestBody::DaemonStatus).await {
        Ok(ResponseBody::Daemon(s)) => Some(s),
        _ => None,
    }
}

pub async fn run(args: &DaemonArgs, verbose: bool) -> Result<u8, Failure> {
    let paths = Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let socket = paths.socket();
    match &args.action {
        DaemonAction::Status { json } => status(&socket, *json).await,
        DaemonAction::Start => start(&paths, &socket, verbose).await,
        DaemonAction::Stop => stop(&socket).await,
        DaemonAction::Restart => {
            stop(&socket).await?;
            start(&paths, &socket, verbose).await
        }
    }
}

async fn status(socket: &Path, json: bool) -> Result<u8, Failure> {
    let Some(s) = daemon_status(socket).await else {
        return Err(Failure::new(
            format!(
                "omgd is not running (no daemon answers on {})",
                socket.display()
            ),
            EXIT_FAILURE,
        ));
    };
    if json {
        print_json(&s)?;
        return Ok(EXIT_OK);
    }
    let f = Fields {
        label_width: 11,
        width: output::terminal_width(),
    };
    let mut out = anstream::stdout().lock();
    let lookups = s.cache_hits + s.cache_misses;
    let hit_rate = if lookups == 0 {
        "no lookups yet".to_string()
    } else {
        format!(
            "{:.1}% of {lookups} lookups ({} entries)",
            s.cache_hits as f64 * 100.0 / lookups as f64,
            s.cache_entries
        )
    };
    f.line(
        &mut out,
        "Daemon",
        &format!("omgd {} (pid {})", s.version, s.pid),
    )?;
    f.line(&mut out, "Mode", &s.mode)?;
    f.line(&mut out, "Socket", s.socket.as_deref().unwrap_or("-"))?;
    f.line(&mut out, "Uptime", &format_duration(s.uptime_secs))?;
    f.line(
        &mut out,
        "Index",
        &format!("{} packages in memory", s.packages),
    )?;
    f.line(
        &mut out,
        "Requests",
        &format!(
            "{} served, {} connections open",
            s.requests, s.open_connections
        ),
    )?;
    f.line(&mut out, "Cache", &hit_rate)?;
    f.line(&mut out, "Memory", &output::human_size(s.memory_bytes))?;
    if s.idle_timeout_secs > 0 {
        f.line(
            &mut out,
            "Idle exit",
            &format!("after {}", format_duration(s.idle_timeout_secs)),
        )?;
    }
    Ok(EXIT_OK)
}

fn format_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        _ => format!("{}h {}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// Whether systemd's user manager knows omgd.socket.
fn systemd_manages_omgd() -> bool {
    std::process::Command::new("systemctl")
        .args(["--user", "cat", "omgd.socket"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn start(paths: &Paths, socket: &Path, verbose: bool) -> Result<u8, Failure> {
    if let Some(s) = daemon_status(socket).await {
        println!(
            "omgd is already running (pid {}) on {}",
            s.pid,
            socket.display()
        );
        return Ok(EXIT_OK);
    }
    if systemd_manages_omgd() {
        let ok = std::process::Command::new("systemctl")
            .args(["--user", "start", "omgd.socket"])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            println!("omgd.socket started: omgd starts with the first request");
            return Ok(EXIT_OK);
        }
    }
    let daemon = daemon_binary();
    let log = paths.cache_dir.join("omgd.log");
    crate::config::ensure_private_dir(&paths.cache_dir).map_err(|e| {
        Failure::new(
            format!("cannot create {}: {e}", paths.cache_dir.display()),
            EXIT_FAILURE,
        )
    })?;
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| Failure::new(format!("cannot open {}: {e}", log.display()), EXIT_FAILURE))?;
    let mut command = std::process::Command::new(&daemon);
    command
        .arg("--socket")
        .arg(socket)
        .arg("--foreground")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    if verbose {
        command.arg("--verbose");
    }
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| {
        Failure::new(
            format!("cannot start the daemon {}: {e}", daemon.display()),
            EXIT_FAILURE,
        )
    })?;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(s) = daemon_status(socket).await {
            println!("omgd started (pid {}) on {}", s.pid, socket.display());
            return Ok(EXIT_OK);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Failure::new(
                format!("omgd exited at start ({status}); see {}", log.display()),
                EXIT_FAILURE,
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(Failure::new(
        format!(
            "omgd did not answer within {}s; see {}",
            WAIT.as_secs(),
            log.display()
        ),
        EXIT_FAILURE,
    ))
}

async fn stop(socket: &Path) -> Result<u8, Failure> {
    let Some(mut c) = connect(socket).await else {
        println!("omgd is not running");
        return Ok(EXIT_OK);
    };
    let pid = match c.request(RequestBody::DaemonStatus).await {
        Ok(ResponseBody::Daemon(s)) => s.pid,
        Ok(_) => return Err(unexpected()),
        Err(e) => return Err(e.into()),
    };
    match c.request(RequestBody::Shutdown).await {
        Ok(ResponseBody::Done) => {}
        Ok(_) => return Err(unexpected()),
        Err(e) => return Err(e.into()),
    }
    drop(c);
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if !process_alive(pid) {
            println!("omgd (pid {pid}) stopped");
            return Ok(EXIT_OK);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut err = std::io::stderr();
    let _ = writeln!(err, "omgd (pid {pid}) is still finishing its requests");
    Ok(EXIT_FAILURE)
}

/// Whether `pid` is a running (not exited, not zombie) process.
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}
