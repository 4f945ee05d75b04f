//! `omgd`: answers omg's queries from the package database.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use omg::config::{Config, Paths};
use omgd::daemon::engine::Mode;
use omgd::daemon::{logger, server};

#[derive(Debug, Parser)]
#[command(
    name = "omgd",
    version,
    about = "The omg daemon: answers queries about the system's packages",
    long_about = "omgd keeps the package index in memory and answers omg's requests over \
the omg wire protocol (4-byte big-endian length + bincode frames) on a Unix socket. \
Started by systemd's omgd.socket it takes the listening socket from LISTEN_FDS and exits \
after an idle timeout; run by hand it binds the socket itself. With --stdio it serves one \
client on its standard input and output, which is how omg answers when no daemon listens."
)]
struct Args {
    /// Serve one client on stdin/stdout, then exit
    #[arg(long, conflicts_with_all = ["user", "socket"])]
    stdio: bool,
    /// The per-user instance: socket in $XDG_RUNTIME_DIR/omg (the default)
    #[arg(long, conflicts_with = "system")]
    user: bool,
    /// The system instance: /run/omg/omgd.sock, data in /var/lib/omg
    #[arg(long)]
    system: bool,
    /// Listen on this socket instead of the instance's default
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Running outside systemd: never exit when idle
    #[arg(long)]
    foreground: bool,
    /// Do not serve io.github.omg on D-Bus (the session bus for the user
    /// instance, the system bus for the system instance)
    #[arg(long)]
    no_dbus: bool,
    /// Print the omgd(8) man page (roff) and exit
    #[arg(long, hide = true)]
    manpage: bool,
    /// Log what happens (index loads, rebuilds, connections) on stderr
    #[arg(short, long, global = true)]
    verbose: bool,
    /// The package database to serve (apt or alpm) instead of this system's
    #[arg(long, value_name = "BACKEND", env = "OMG_BACKEND")]
    backend: Option<String>,
    /// Arch: the installation root (as pacman's --root)
    #[arg(long, value_name = "DIR", env = "OMG_ALPM_ROOT")]
    root: Option<PathBuf>,
    /// Arch: the database directory (as pacman's --dbpath)
    #[arg(long, value_name = "DIR", env = "OMG_ALPM_DBPATH")]
    dbpath: Option<PathBuf>,
    /// Arch: the pacman.conf to read (as pacman's --config)
    #[arg(long, value_name = "FILE", env = "OMG_PACMAN_CONF")]
    pacman_conf: Option<PathBuf>,
    #[command(subcommand)]
    work: Option<Work>,
}

#[derive(Debug, Subcommand)]
enum Work {
    /// One-shot workers, run by systemd timers
    Work {
        #[command(subcommand)]
        task: Task,
    },
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Refresh a private copy of the package lists, count the updates,
    /// write the status file (and the metrics, see [metrics] in
    /// omg.conf(5)) and tell a running daemon
    Refresh {
        /// Recount against the private lists without downloading
        #[arg(long)]
        offline: bool,
    },
    /// Fetch the distribution's vulnerability advisories, match them
    /// against the installed packages and write the count to the status
    /// file (and the metrics)
    Scan,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("omgd: error: {message}");
    ExitCode::FAILURE
}

/// Whether this process is root through sudo for another user: then the
/// environment and the paths it is given come from that user.
fn through_sudo() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && std::env::var("SUDO_UID").is_ok_and(|uid| uid != "0")
}

/// A root omgd started through sudo takes nothing from the invoking
/// user's environment: every `OMG_*` variable goes before anything reads
/// one. Must run before any thread exists.
fn forget_the_callers_environment() {
    let names: Vec<std::ffi::OsString> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.as_encoded_bytes().starts_with(b"OMG_"))
        .collect();
    for name in names {
        // SAFETY: single-threaded here: nothing else reads the
        // environment concurrently.
        unsafe { std::env::remove_var(name) };
    }
}

/// Why `path`, given to a root omgd through sudo, may not be used: it (or
/// a directory above it) belongs to someone other than root, or others
/// may write to it (a sticky directory such as /tmp is fine: nobody can
/// replace what root owns in it).
fn unsafe_for_root(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let absolute = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) => return Some(format!("{}: {e}", path.display())),
    };
    let mut at = Some(absolute.as_path());
    let mut child_is_dir_entry = false;
    while let Some(p) = at {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => return Some(format!("{}: {e}", p.display())),
        };
        let sticky = meta.mode() & 0o1000 != 0;
        if meta.uid() != 0 {
            return Some(format!(
                "{} belongs to uid {}, not root",
                p.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 && !(sticky && child_is_dir_entry) {
            return Some(format!(
                "{} may be written by users other than root",
                p.display()
            ));
        }
        child_is_dir_entry = true;
        at = p.parent();
    }
    None
}

fn main() -> ExitCode {
    let sudo = through_sudo();
    if sudo {
        forget_the_callers_environment();
    }
    let args = Args::parse();
    if sudo {
        for path in [&args.root, &args.dbpath, &args.pacman_conf, &args.socket]
            .into_iter()
            .flatten()
        {
            if let Some(why) = unsafe_for_root(path) {
                return fail(format!(
                    "refusing {} from the user who ran sudo: {why} (sudo rights on omgd are root rights; give root's own files)",
                    path.display()
                ));
            }
        }
    }
    if args.manpage {
        use clap::CommandFactory;
        use std::io::Write;
        let mut page = Vec::new();
        if clap_mangen::Man::new(Args::command())
            .render(&mut page)
            .is_err()
        {
            return fail("cannot render the man page");
        }
        page.extend_from_slice(include_bytes!("../../../../man/omgd.8.extra"));
        let _ = std::io::stdout().write_all(&page);
        return ExitCode::SUCCESS;
    }
    logger::init(args.verbose);
    // The backend reads these from the environment; options given on the
    // command line (as sudo passes them) are put there, before any thread
    // exists.
    for (var, value) in [
        (
            "OMG_BACKEND",
            args.backend.clone().map(std::ffi::OsString::from),
        ),
        (
            "OMG_ALPM_ROOT",
            args.root.clone().map(PathBuf::into_os_string),
        ),
        (
            "OMG_ALPM_DBPATH",
            args.dbpath.clone().map(PathBuf::into_os_string),
        ),
        (
            "OMG_PACMAN_CONF",
            args.pacman_conf.clone().map(PathBuf::into_os_string),
        ),
    ] {
        if let Some(value) = value {
            // SAFETY: single-threaded here: nothing else reads the
            // environment concurrently.
            unsafe { std::env::set_var(var, value) };
        }
    }
    // Before any thread exists: this reads and clears LISTEN_FDS.
    let inherited = if args.stdio {
        None
    } else {
        match server::inherited() {
            Ok(l) => l,
            Err(e) => return fail(format!("the socket passed by systemd is unusable: {e}")),
        }
    };
    let paths = if args.system {
        Paths::system()
    } else {
        match Paths::user() {
            Ok(p) => p,
            Err(e) => return fail(e),
        }
    };
    let config = match Config::load(&paths.config_dir) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };

    match args.work {
        Some(Work::Work {
            task: Task::Refresh { offline },
        }) => return refresh(&paths, &config, offline),
        Some(Work::Work { task: Task::Scan }) => return scan(paths, config),
        None => {}
    }
    if args.stdio {
        return serve_stdio(paths, config);
    }

    let listening = match inherited {
        Some(l) => l,
        None => {
            let path = args.socket.clone().unwrap_or_else(|| paths.socket());
            let mode = if args.system { 0o666 } else { 0o600 };
            match server::bind(&path, mode) {
                Ok(l) => l,
                Err(e) => return fail(format!("cannot listen on {}: {e}", path.display())),
            }
        }
    };
    // Socket-activated daemons exit when idle; systemd brings them back.
    let idle_exit = listening.activated() && !args.foreground;
    let mode = Mode::Socket {
        path: listening.path.display().to_string(),
        activated: idle_exit,
    };
    let config_refresh = config.daemon.refresh_interval();
    let engine = match omgd::daemon::engine_with_backend(paths, config, mode) {
        Ok(e) => Arc::new(e.as_system_instance(args.system)),
        Err(e) => return fail(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let refresh_every = args.foreground.then_some(config_refresh);
    let bus = if args.no_dbus {
        None
    } else if args.system {
        Some(omgd::dbus::Bus::System)
    } else {
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").map(|_| omgd::dbus::Bus::Session)
    };
    let options = server::Options {
        idle_exit,
        refresh_every,
        bus,
    };
    match runtime.block_on(server::run(engine, listening, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn serve_stdio(paths: Paths, config: Config) -> ExitCode {
    let engine = match omgd::daemon::engine_with_backend(paths, config, Mode::Stdio) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    match omgd::daemon::serve_stdio(&engine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn scan(paths: Paths, config: Config) -> ExitCode {
    let engine = match omgd::daemon::engine_with_backend(paths, config, Mode::Stdio) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let scanned = runtime.block_on(engine.audit(true));
    runtime.block_on(engine.write_metrics());
    match scanned {
        Ok(omg::ipc::protocol::ResponseBody::Audit(report)) => {
            if let Some(note) = &report.note {
                log::warn!("{note}");
            }
            log::info!(
                "{} installed packages affected by known vulnerabilities ({})",
                report.findings.len(),
                report.source
            );
            if report.note.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(_) => fail("the scan answered something else"),
        Err(e) => fail(e.message),
    }
}

fn refresh(paths: &Paths, config: &Config, offline: bool) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start: {e}")),
    };
    let outcome = runtime.block_on(omgd::daemon::refresh::run(paths, config, offline));
    if let Ok(result) = &outcome {
        log::info!("{} updates available", result.updates);
    }
    // What `omg outdated` reports beyond the repositories (the AUR, VCS
    // upstreams, runtime releases) is asked after a full refresh; the
    // metrics are written after every one, a failed one included (it is
    // what they must show).
    match omgd::daemon::engine_with_backend(paths.clone(), config.clone(), Mode::Stdio) {
        Ok(engine) => runtime.block_on(async {
            if !offline && outcome.is_ok() {
                engine.refresh_outdated().await;
            }
            engine.write_metrics().await;
        }),
        Err(e) => log::warn!("the AUR, runtime releases and metrics were not updated: {e}"),
    }
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
