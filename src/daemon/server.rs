//! The socket daemon: takes its listening socket from systemd (socket
//! activation) or binds it, accepts connections, talks to systemd
//! (`READY=1`, `STATUS=`, `WATCHDOG=1`, `STOPPING=1`; all skipped without
//! `NOTIFY_SOCKET`), exits when idle if socket-activated, and shuts down
//! gracefully on SIGTERM/SIGINT or a `Shutdown` request: it stops
//! accepting, lets in-flight requests finish (bounded), and removes the
//! socket only if it bound it itself.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::connection;
use super::engine::Engine;

/// How long in-flight requests may take to finish once stopping.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A listening socket and where it came from.
pub struct Listening {
    pub listener: std::os::unix::net::UnixListener,
    pub path: PathBuf,
    /// omgd bound it (and so removes it on exit); false when inherited.
    pub bound_here: bool,
}

impl Listening {
    pub fn activated(&self) -> bool {
        !self.bound_here
    }
}

/// The socket systemd passed (`LISTEN_FDS`), if any. Must run before any
/// thread starts: it edits the environment.
pub fn inherited() -> std::io::Result<Option<Listening>> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let Some(listener) = fds.take_unix_listener(0)? else {
        return Ok(None);
    };
    let path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf))
        .unwrap_or_default();
    Ok(Some(Listening {
        listener,
        path,
        bound_here: false,
    }))
}

/// Binds `path` with `mode` permissions. A live daemon already there is an
/// error; a stale socket file left by a crash is replaced.
pub fn bind(path: &Path, mode: u32) -> std::io::Result<Listening> {
    if let Some(dir) = path.parent() {
        crate::config::ensure_private_dir(dir)?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another omgd is already listening on {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(Listening {
        listener,
        path: path.to_path_buf(),
        bound_here: true,
    })
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        debug!("cannot notify the service manager: {e}");
    }
}

/// How a socket daemon runs.
pub struct Options {
    /// Exit once no client has been connected for the idle timeout.
    pub idle_exit: bool,
    /// Run `omgd work refresh` on this interval (a daemon outside systemd
    /// has no timer to do it).
    pub refresh_every: Option<Duration>,
    /// Serve io.github.omg on this bus too.
    pub bus: Option<crate::dbus::Bus>,
}

/// Serves on `listening` until told to stop (see `Options`).
pub async fn run(
    engine: Arc<Engine>,
    listening: Listening,
    options: Options,
) -> std::io::Result<()> {
    let Options {
        idle_exit,
        refresh_every,
        bus,
    } = options;
    listening.listener.set_nonblocking(true)?;
    let listener = tokio::net::UnixListener::from_std(listening.listener)?;
    let path = listening.path.clone();
    let idle_timeout = engine.config().daemon.idle_timeout();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;

    // Load the index right away, so the first answer does not wait for it.
    let warm = engine.clone();
    tokio::spawn(async move {
        match warm.index().await {
            Ok(current) => notify(&[NotifyState::Status(&format!(
                "Serving {} packages on {}",
                current.index.len(),
                path.display()
            ))]),
            Err(e) => warn!("cannot load the package index: {e}"),
        }
    });
    notify(&[
        NotifyState::Ready,
        NotifyState::Status(&format!(
            "Loading the package index; listening on {}",
            listening.path.display()
        )),
    ]);
    info!("listening on {}", listening.path.display());
    // Kept alive as long as the daemon serves.
    let _bus = match bus {
        Some(bus) => match crate::dbus::serve(engine.clone(), bus).await {
            Ok(connection) => {
                info!("serving {} on the {bus:?} bus", crate::dbus::NAME);
                Some(connection)
            }
            Err(e) => {
                warn!("not on the {bus:?} bus: {e}");
                None
            }
        },
        None => None,
    };

    if let Some(interval) = sd_notify::watchdog_enabled() {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tick.tick().await;
                notify(&[NotifyState::Watchdog]);
            }
        });
    }

    // Outside systemd nothing runs the refresh timer: do it here.
    if let Some(every) = refresh_every {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                super::engine::spawn_worker(&["work", "refresh"]);
            }
        });
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let last_activity = Arc::new(Mutex::new(Instant::now()));
    let mut connections = JoinSet::new();
    let mut idle_check = tokio::time::interval(
        (idle_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(5)),
    );

    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let engine = engine.clone();
                let stop = stop_rx.clone();
                let activity = last_activity.clone();
                engine.connections.fetch_add(1, Ordering::Relaxed);
                let caller = match crate::auth::peer::Peer::of(&stream) {
                    Some(peer) => connection::Caller::Peer(peer),
                    None => connection::Caller::Unknown,
                };
                connections.spawn(async move {
                    let (read, write) = stream.into_split();
                    if let Err(e) = connection::serve(&engine, caller, read, write, stop).await {
                        debug!("connection ended: {e}");
                    }
                    engine.connections.fetch_sub(1, Ordering::Relaxed);
                    *activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = terminate.recv() => { info!("SIGTERM: stopping"); break; }
            _ = interrupt.recv() => { info!("SIGINT: stopping"); break; }
            _ = engine.shutdown.notified() => { info!("asked to stop"); break; }
            _ = idle_check.tick(), if idle_exit => {
                let idle = last_activity.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
                if engine.connections.load(Ordering::Relaxed) == 0 && idle >= idle_timeout {
                    info!("idle for {}s: exiting until the next request", idle.as_secs());
                    break;
                }
            }
        }
    }

    notify(&[NotifyState::Stopping, NotifyState::Status("Stopping")]);
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            "requests still running after {}s were abandoned",
            DRAIN_TIMEOUT.as_secs()
        );
        connections.abort_all();
    }
    if listening.bound_here
        && let Err(e) = std::fs::remove_file(&listening.path)
    {
        debug!("cannot remove {}: {e}", listening.path.display());
    }
    Ok(())
}
