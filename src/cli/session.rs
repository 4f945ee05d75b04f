//! The one place that chooses which omgd answers: queries go to the
//! user's socket, else this process answers from a current snapshot
//! (`direct`), else a one-shot `omgd-lite` or `omgd`; requests that
//! change the system go to this user's own one-shot omgd when no root is
//! needed (or the user is root), else the system instance's socket, else
//! an omgd started through sudo.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use super::{BackendChoice, EXIT_FAILURE, Failure};
use crate::config::Paths;
use crate::ipc::client::{ClientError, Connection, daemon_binary, lite_binary};
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};

/// How long a daemon that accepted a connection may take to say hello.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to the daemon, opened on first use: the daemon's socket
/// when one answers, else a one-shot `omgd --stdio` child.
pub struct Session {
    verbose: bool,
    no_daemon: bool,
    socket: Option<PathBuf>,
    /// Environment for a one-shot omgd (another backend or database).
    env: Vec<(&'static str, std::ffi::OsString)>,
    connection: Option<Connection>,
    /// The connection is to `omgd-lite`, which may send us on to `omgd`.
    lite: bool,
}

impl Session {
    /// A session for the command line's global options: another backend
    /// or database goes to a one-shot omgd (a running daemon serves the
    /// system's own database).
    pub fn new(
        verbose: bool,
        no_daemon: bool,
        backend: Option<BackendChoice>,
        database: [(&'static str, Option<&Path>); 3],
    ) -> Session {
        let mut env: Vec<(&'static str, std::ffi::OsString)> = Vec::new();
        if let Some(backend) = backend {
            let name = match backend {
                BackendChoice::Apt => "apt",
                BackendChoice::Alpm => "alpm",
            };
            env.push(("OMG_BACKEND", name.into()));
        }
        for (var, value) in database {
            if let Some(v) = value {
                env.push((var, v.as_os_str().to_owned()));
            }
        }
        Session {
            verbose,
            no_daemon: no_daemon || !env.is_empty(),
            socket: Paths::user().ok().map(|p| p.socket()),
            env,
            connection: None,
            lite: false,
        }
    }

    /// Sends a query: to the daemon on this user's socket when one
    /// answers, else this process answers from a current snapshot when it
    /// can, else a one-shot `omgd-lite` (the snapshot; it sends us on to
    /// `omgd` when it cannot answer), else a one-shot `omgd`.
    pub async fn request(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        if self.connection.is_none() {
            let daemon = match self.daemon().await? {
                Some(daemon) => daemon,
                None => {
                    if let Some(answer) = super::direct::answer(&body, &self.env, self.verbose) {
                        return Ok(answer);
                    }
                    self.one_shot().await?
                }
            };
            self.connection = Some(daemon);
        }
        let connection = self.connection.as_mut().expect("just connected");
        let result = connection.request(body.clone()).await;
        match result {
            Err(ClientError::Remote(e)) if self.lite && e.kind == ErrorKind::NeedsBackend => {
                // The snapshot could not answer: the full omgd can.
                if let Some(c) = self.connection.take() {
                    c.close().await;
                }
                self.lite = false;
                let daemon = daemon_binary();
                if self.verbose {
                    eprintln!(
                        "omg: omgd-lite needs the database; starting {} --stdio",
                        daemon.display()
                    );
                }
                let mut full = Connection::spawn_stdio(&daemon, self.verbose, &self.env).await?;
                let result = full.request(body).await;
                self.connection = Some(full);
                result
            }
            other => other,
        }
    }

    /// The daemon on this user's socket, if one answers.
    async fn daemon(&self) -> Result<Option<Connection>, ClientError> {
        let Some(socket) = self.socket.as_ref().filter(|_| !self.no_daemon) else {
            return Ok(None);
        };
        match Connection::connect_socket(socket, HANDSHAKE_TIMEOUT).await {
            Ok(c) => {
                if self.verbose {
                    eprintln!("omg: using {} on {}", c.daemon, socket.display());
                }
                Ok(Some(c))
            }
            Err(e @ ClientError::VersionMismatch { .. }) => Err(e),
            Err(e) => {
                if self.verbose {
                    eprintln!("omg: no daemon on {} ({e})", socket.display());
                }
                Ok(None)
            }
        }
    }

    /// A one-shot omgd-lite (else omgd) on a pipe.
    async fn one_shot(&mut self) -> Result<Connection, ClientError> {
        // No daemon: the snapshot alone answers most queries, and
        // omgd-lite loads no package-manager library to read it.
        if let Some(lite) = lite_binary() {
            if self.verbose {
                eprintln!("omg: starting {} --stdio", lite.display());
            }
            self.lite = true;
            return Connection::spawn_stdio(&lite, self.verbose, &self.env).await;
        }
        let daemon = daemon_binary();
        if self.verbose {
            eprintln!("omg: starting {} --stdio", daemon.display());
        }
        Connection::spawn_stdio(&daemon, self.verbose, &self.env).await
    }

    pub async fn close(self) {
        if let Some(c) = self.connection {
            c.close().await;
        }
    }
}

/// Where the system instance listens (`OMG_SYSTEM_SOCKET` overrides).
fn system_socket() -> std::path::PathBuf {
    std::env::var_os("OMG_SYSTEM_SOCKET")
        .filter(|v| !v.is_empty())
        .map_or_else(|| "/run/omg/omgd.sock".into(), Into::into)
}

/// An omgd that may change the system: this user's own when no root is
/// needed or the user is root; else the system instance when it runs
/// (polkit decides there); else one started through sudo.
impl Session {
    /// A connection to an omgd for a request that may change the system
    /// (`needs_root`) or that must run as this user (not: a runtime
    /// install, a dry run).
    pub async fn privileged(&self, needs_root: bool) -> Result<Connection, Failure> {
        connect_privileged(self, needs_root).await
    }

    /// A one-shot omgd of this user's own (runtime installs: downloads and
    /// signatures live in omgd, runtimes belong to the user).
    pub async fn own_daemon(&self) -> Result<Connection, Failure> {
        Ok(Connection::spawn_stdio(&daemon_binary(), self.verbose, &self.env).await?)
    }

    /// Whether the command line points omg at another installation root
    /// or database than the system's (makepkg cannot see that one).
    pub fn other_database(&self) -> bool {
        self.env.iter().any(|(var, _)| {
            matches!(
                *var,
                "OMG_ALPM_ROOT" | "OMG_ALPM_DBPATH" | "OMG_PACMAN_CONF"
            )
        })
    }
}

async fn connect_privileged(session: &Session, needs_root: bool) -> Result<Connection, Failure> {
    let daemon = daemon_binary();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root || !needs_root {
        return Ok(Connection::spawn_stdio(&daemon, session.verbose, &session.env).await?);
    }
    let socket = system_socket();
    if socket.exists() {
        match Connection::connect_socket(&socket, std::time::Duration::from_secs(10)).await {
            Ok(connection) => {
                if session.verbose {
                    eprintln!("omg: asking the system instance on {}", socket.display());
                }
                return Ok(connection);
            }
            Err(e) => {
                if session.verbose {
                    eprintln!(
                        "omg: the system instance on {} does not answer: {e}",
                        socket.display()
                    );
                }
            }
        }
    }
    let Some(sudo) = find_program("sudo") else {
        return Err(Failure {
            message: "changing the system's packages needs root, and sudo is not installed".into(),
            hint: Some("run omg as root".into()),
            code: EXIT_FAILURE,
            kind: None,
        });
    };
    // sudo clears the environment: everything goes on the command line,
    // including the backend this user's config.toml picks.
    let daemon = program(&daemon);
    let mut command = Command::new(&sudo);
    // Nobody at a terminal to type a password: sudo must not wait for one.
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        command.arg("-n");
    }
    command.arg("--").arg(&daemon).args(["--stdio", "--system"]);
    let chosen = session.env.iter().any(|(var, _)| *var == "OMG_BACKEND");
    if !chosen
        && let Ok(paths) = crate::config::Paths::user()
        && let Ok(config) = crate::config::Config::load(&paths.config_dir)
        && let Some(kind) = config.backend
    {
        command.args(["--backend", kind.as_str()]);
    }
    for (var, value) in &session.env {
        match *var {
            "OMG_BACKEND" => command.arg("--backend").arg(value),
            "OMG_ALPM_ROOT" => command.arg("--root").arg(absolute(Path::new(value))),
            "OMG_ALPM_DBPATH" => command.arg("--dbpath").arg(absolute(Path::new(value))),
            "OMG_PACMAN_CONF" => command.arg("--pacman-conf").arg(absolute(Path::new(value))),
            _ => continue,
        };
    }
    if session.verbose {
        command.arg("--verbose");
        eprintln!(
            "omg: starting {} {} --stdio as root",
            sudo.display(),
            daemon.display()
        );
    }
    Ok(Connection::spawn(command, &sudo).await?)
}

/// Where a program is: a bare name is looked up on this PATH (sudo's may
/// differ), anything else made absolute.
fn program(path: &Path) -> OsString {
    if path.components().count() == 1
        && !path.is_absolute()
        && let Some(found) = find_program(&path.to_string_lossy())
    {
        return found.into_os_string();
    }
    absolute(path)
}

/// `path` made absolute (root's working directory may differ).
fn absolute(path: &Path) -> OsString {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .into_os_string()
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
