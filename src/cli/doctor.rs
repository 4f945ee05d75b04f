//! `omg doctor`: checks the installation and says what to fix — the
//! daemon's socket, the systemd units, the D-Bus and polkit files, the
//! shell hook and PATH order, the data directory, the package index and
//! its snapshot, the status file. Exit 1 when something needs fixing.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json};
use crate::config::Paths;
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::Args;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    Warning,
    Problem,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    verdict: Verdict,
    detail: String,
    /// What to do about it.
    fix: Option<String>,
}

fn check(name: &'static str, verdict: Verdict, detail: String, fix: Option<&str>) -> Check {
    Check {
        name,
        verdict,
        detail,
        fix: fix.map(String::from),
    }
}

/// The Node.js release keys: present, and every fingerprint `keys.list`
/// names among them (the files are named by fingerprint).
fn node_keys(dir: &Path) -> Check {
    let (_, how) = crate::runtime::install::key_help("node");
    let files = crate::security::pgp::key_files(dir);
    if files.is_empty() {
        return check(
            "node release keys",
            Verdict::Problem,
            format!(
                "no Node.js release keys in {}: omg install node refuses every release",
                dir.display()
            ),
            Some(how),
        );
    }
    let listed: Vec<String> = std::fs::read_to_string(dir.join("keys.list"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let missing: Vec<&String> = listed
        .iter()
        .filter(|fp| !files.iter().any(|f| f.starts_with(fp.as_str())))
        .collect();
    if !missing.is_empty() {
        return check(
            "node release keys",
            Verdict::Problem,
            format!(
                "{} lists keys that are not in {}: {}",
                dir.join("keys.list").display(),
                dir.display(),
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(how),
        );
    }
    check(
        "node release keys",
        Verdict::Ok,
        format!("{} keys in {}", files.len(), dir.display()),
        None,
    )
}

/// Bun's release key, which omg cannot ship.
fn bun_key(dir: &Path) -> Check {
    let (_, how) = crate::runtime::install::key_help("bun");
    let files = crate::security::pgp::key_files(dir);
    if files.is_empty() {
        check(
            "bun release key",
            Verdict::Warning,
            format!(
                "no Bun release key in {}: omg install bun refuses every release until it is there",
                dir.display()
            ),
            Some(how),
        )
    } else {
        check(
            "bun release key",
            Verdict::Ok,
            format!("{} in {}", files.join(", "), dir.display()),
            None,
        )
    }
}

/// The first of `dirs` holding `file`.
fn found_in(dirs: &[PathBuf], file: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(file)).find(|p| p.is_file())
}

fn share_dirs(sub: &str) -> Vec<PathBuf> {
    ["/usr/share", "/usr/local/share", "/etc"]
        .iter()
        .map(|d| Path::new(d).join(sub))
        .collect()
}

pub async fn run(session: &mut Session, json: bool) -> Result<u8, Failure> {
    let paths = Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let mut checks = Vec::new();

    // Read first: asking the daemon below may rewrite it.
    let status_file = paths.status_file();
    let status_check = match std::fs::read(&status_file) {
        Err(_) => check(
            "status file",
            Verdict::Ok,
            "none yet (written after the first refresh)".into(),
            None,
        ),
        Ok(bytes) => match omg_status::Status::from_bytes(&bytes) {
            None => check(
                "status file",
                Verdict::Problem,
                format!("{} is damaged", status_file.display()),
                Some("remove it; omgd writes it again"),
            ),
            Some(s) => {
                let age = crate::unix_now().saturating_sub(u64::from(s.last_refresh));
                if s.last_refresh != 0 && age > 2 * 86_400 {
                    check(
                        "status file",
                        Verdict::Warning,
                        format!("the last refresh was {} days ago", age / 86_400),
                        Some(
                            "`systemctl --user enable --now omgd-refresh.timer`, or `omgd work refresh`",
                        ),
                    )
                } else {
                    check(
                        "status file",
                        Verdict::Ok,
                        format!("{}", status_file.display()),
                        None,
                    )
                }
            }
        },
    };

    // The daemon: started on demand, so a missing socket is fine; one
    // that does not answer is not.
    let socket = paths.socket();
    checks.push(if !socket.exists() {
        check(
            "daemon",
            Verdict::Ok,
            format!(
                "no omgd listens on {} (one is started when needed)",
                socket.display()
            ),
            None,
        )
    } else {
        match std::os::unix::net::UnixStream::connect(&socket) {
            Ok(_) => check(
                "daemon",
                Verdict::Ok,
                format!("omgd answers on {}", socket.display()),
                None,
            ),
            Err(e) => check(
                "daemon",
                Verdict::Problem,
                format!("{} exists but nothing answers ({e})", socket.display()),
                Some("remove the stale socket, or `systemctl --user restart omgd.socket`"),
            ),
        }
    });

    // The package index, through the daemon: its size and the snapshot.
    checks.push(match session.request(RequestBody::Status).await {
        Ok(ResponseBody::Status(s)) => match &s.index.snapshot_problem {
            Some(problem) => check(
                "database",
                Verdict::Warning,
                format!(
                    "{} packages indexed; the snapshot: {problem}",
                    s.index.packages
                ),
                Some("omg answers without it; check the data directory"),
            ),
            None => check(
                "database",
                Verdict::Ok,
                format!(
                    "{} packages indexed from {}",
                    s.index.packages, s.backend_version
                ),
                None,
            ),
        },
        Ok(_) => check(
            "database",
            Verdict::Problem,
            "an unexpected answer".into(),
            None,
        ),
        Err(e) => check(
            "database",
            Verdict::Problem,
            format!("the package database cannot be read: {e}"),
            Some("see `omg --verbose status`"),
        ),
    });

    // Units, D-Bus and polkit files.
    let mut unit_dirs = vec![
        paths
            .config_dir
            .parent()
            .map_or(PathBuf::new(), |c| c.join("systemd/user")),
    ];
    unit_dirs.extend(share_dirs("systemd/user"));
    unit_dirs.push(PathBuf::from("/usr/lib/systemd/user"));
    unit_dirs.push(PathBuf::from("/usr/local/lib/systemd/user"));
    checks.push(match found_in(&unit_dirs, "omgd.socket") {
        Some(p) => check(
            "systemd units",
            Verdict::Ok,
            format!("{}", p.display()),
            None,
        ),
        None => check(
            "systemd units",
            Verdict::Warning,
            "omgd.socket is not installed: omg starts a one-shot omgd for every command".into(),
            Some(
                "make install, then `systemctl --user enable --now omgd.socket omgd-refresh.timer`",
            ),
        ),
    });
    checks.push(
        match found_in(&share_dirs("dbus-1/services"), "io.github.omg.service") {
            Some(p) => check("d-bus", Verdict::Ok, format!("{}", p.display()), None),
            None => check(
                "d-bus",
                Verdict::Warning,
                "no D-Bus activation file: desktop widgets cannot start omgd".into(),
                Some("make install (dbus/session-services/io.github.omg.service)"),
            ),
        },
    );
    checks.push(match found_in(&share_dirs("polkit-1/actions"), "io.github.omg.policy") {
        Some(p) => check("polkit", Verdict::Ok, format!("{}", p.display()), None),
        None => check(
            "polkit",
            Verdict::Warning,
            "the polkit actions are not installed: the system instance refuses unprivileged callers".into(),
            Some("make install (polkit/io.github.omg.policy)"),
        ),
    });

    // The shell hook, and what it puts on PATH first.
    let versions = crate::runtime::versions_dir(&paths);
    let path = std::env::var("PATH").unwrap_or_default();
    let hooked = std::env::var_os(crate::runtime::hook::STATE_VAR).is_some();
    checks.push(if hooked {
        check("shell hook", Verdict::Ok, "active in this shell".into(), None)
    } else {
        check(
            "shell hook",
            Verdict::Warning,
            "not active in this shell: runtime versions do not follow the directory".into(),
            Some("add `eval \"$(omg hook bash)\"` to ~/.bashrc (zsh: ~/.zshrc; fish: `omg hook fish | source`)"),
        )
    });
    let entries: Vec<&str> = path.split(':').collect();
    let ours = entries
        .iter()
        .position(|e| e.starts_with(&versions.display().to_string()));
    let system = entries
        .iter()
        .position(|e| *e == "/usr/bin" || *e == "/bin");
    checks.push(match (ours, system) {
        (Some(o), Some(s)) if o > s => check(
            "path order",
            Verdict::Problem,
            "a system directory comes before omg's runtime versions on PATH".into(),
            Some("load the hook last in your shell's startup file"),
        ),
        (Some(_), _) => check(
            "path order",
            Verdict::Ok,
            "omg's runtime versions come first".into(),
            None,
        ),
        (None, _) => check(
            "path order",
            Verdict::Ok,
            "no runtime version on PATH here".into(),
            None,
        ),
    });

    // The data directory: ours, not writable by others.
    checks.push(match std::fs::metadata(&paths.data_dir) {
        Ok(m) => {
            // SAFETY: getuid has no preconditions.
            let me = unsafe { libc::getuid() };
            let mode = m.permissions().mode();
            if m.uid() != me {
                check(
                    "data directory",
                    Verdict::Problem,
                    format!(
                        "{} belongs to uid {}, not you",
                        paths.data_dir.display(),
                        m.uid()
                    ),
                    Some("chown it back (a command run with sudo may have created it)"),
                )
            } else if mode & 0o022 != 0 {
                check(
                    "data directory",
                    Verdict::Problem,
                    format!(
                        "{} is writable by others (mode {:o})",
                        paths.data_dir.display(),
                        mode & 0o777
                    ),
                    Some("chmod go-w on it"),
                )
            } else {
                check(
                    "data directory",
                    Verdict::Ok,
                    format!("{}", paths.data_dir.display()),
                    None,
                )
            }
        }
        Err(_) => check(
            "data directory",
            Verdict::Ok,
            format!("{} does not exist yet", paths.data_dir.display()),
            None,
        ),
    });

    checks.push(status_check);

    // What each runtime's downloads are checked against.
    let runtimes = crate::config::Config::load(&paths.config_dir)
        .map(|c| c.runtimes)
        .unwrap_or_default();
    checks.push(node_keys(&runtimes.node_keys_dir()));
    checks.push(bun_key(&runtimes.bun_keys_dir()));
    checks.push(check(
        "runtime checksums",
        Verdict::Ok,
        "go, python, java, ruby and rust downloads are checked against the SHA-256 their upstream listings publish: no keys needed".into(),
        None,
    ));

    let bad = checks.iter().any(|c| c.verdict == Verdict::Problem);
    if json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            let mark = match c.verdict {
                Verdict::Ok => "ok     ",
                Verdict::Warning => "warning",
                Verdict::Problem => "PROBLEM",
            };
            println!("{mark}  {:<15} {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!("         {:<15} fix: {fix}", "");
            }
        }
    }
    Ok(if bad { EXIT_FAILURE } else { EXIT_OK })
}
