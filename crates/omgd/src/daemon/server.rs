//! The socket daemon: takes its listening socket from systemd (socket
//! activation) or binds it, accepts connections, talks to systemd
//! (`READY=1`, `STATUS=`, `WATCHDOG=1`, `STOPPING=1`; all skipped without
//! `NOTIFY_SOCKET`), exits when idle if socket-activated, and shuts down
//! gracefully on SIGTERM/SIGINT or a `Shutdown` request: it stops
//! accepting, lets in-flight requests finish (bounded), waits for every
//! transaction under way however long it takes (socket and D-Bus alike:
//! a commit is never cut short), and removes the socket only if it bound
//! it itself.
//!
//! Connections are limited overall and per user (root's are not counted,
//! so root is always answered), and the watchdog is fed only while the
//! accept loop turns and the backend thread takes jobs.

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
/// How long without a client before the daemon lets go of memory it can
/// have back cheaply (`Engine::shrink`).
const SHRINK_AFTER: Duration = Duration::from_secs(20);

/// Open connections by user; root's are not counted.
#[derive(Default)]
struct Counts {
    total: u32,
    by_uid: std::collections::HashMap<u32, u32>,
}

impl Counts {
    /// Counts a new connection from `uid` if the limits allow it.
    fn admit(&mut self, uid: Option<u32>, max_total: u32, max_per_user: u32) -> bool {
        if uid == Some(0) {
            return true;
        }
        let key = uid.unwrap_or(u32::MAX);
        let mine = self.by_uid.get(&key).copied().unwrap_or(0);
        if self.total >= max_total || mine >= max_per_user {
            return false;
        }
        self.total += 1;
        self.by_uid.insert(key, mine + 1);
        true
    }

    fn release(&mut self, uid: Option<u32>) {
        if uid == Some(0) {
            return;
        }
        let key = uid.unwrap_or(u32::MAX);
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.by_uid.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.by_uid.remove(&key);
            }
        }
    }
}

/// Tells a connection over the limits why it is closed, without waiting
/// for it.
fn refuse(stream: &tokio::net::UnixStream) {
    use omg::ipc::protocol::{ErrorKind, ServerFrame, WireError};
    let frame = ServerFrame::Fatal(WireError::new(
        ErrorKind::Locked,
        "too many connections are open: try again later",
    ));
    if let Ok(bytes) = omg::ipc::codec::frame(&frame) {
        let _ = stream.try_write(&bytes);
    }
}

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
        omg::config::ensure_private_dir(dir)?;
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
        warm.count_security_updates().await;
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

    // The accept loop stamps this each time round.
    let heartbeat = Arc::new(Mutex::new(Instant::now()));
    if let Some(interval) = sd_notify::watchdog_enabled() {
        let engine = engine.clone();
        let heartbeat = heartbeat.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tick.tick().await;
                let turned = heartbeat
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .elapsed();
                let loop_alive = turned < interval / 2;
                let backend_alive = engine.backend_alive(interval / 4).await;
                if loop_alive && backend_alive {
                    notify(&[NotifyState::Watchdog]);
                } else {
                    warn!(
                        "not feeding the watchdog: accept loop last turned {:.1?} ago, backend {}",
                        turned,
                        if backend_alive {
                            "alive"
                        } else {
                            "not answering"
                        }
                    );
                }
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
    let counts = Arc::new(Mutex::new(Counts::default()));
    let limits = &engine.config().daemon;
    let (max_total, max_per_user) = (limits.max_connections, limits.max_connections_per_user);
    let mut idle_check = tokio::time::interval(
        (idle_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(5)),
    );
    // Whether the memory was let go since the last connection.
    let mut shrunk = false;

    loop {
        *heartbeat.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
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
                let caller = match omg::auth::peer::Peer::of(&stream) {
                    Some(peer) => omg::auth::caller::Caller::Peer(peer),
                    None => omg::auth::caller::Caller::Unknown,
                };
                let uid = match &caller {
                    omg::auth::caller::Caller::Peer(peer) => Some(peer.uid),
                    _ => None,
                };
                let admitted = counts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .admit(uid, max_total, max_per_user);
                if !admitted {
                    debug!("refusing a connection from uid {uid:?}: too many open");
                    refuse(&stream);
                    continue;
                }
                shrunk = false;
                let engine = engine.clone();
                let stop = stop_rx.clone();
                let activity = last_activity.clone();
                let counts = counts.clone();
                engine.connections.fetch_add(1, Ordering::Relaxed);
                let limits = connection::Limits::socket(&engine.config().daemon, caller.is_owner());
                connections.spawn(async move {
                    let (read, write) = stream.into_split();
                    if let Err(e) =
                        connection::serve(&engine, caller, limits, read, write, stop).await
                    {
                        debug!("connection ended: {e}");
                    }
                    counts.lock().unwrap_or_else(|p| p.into_inner()).release(uid);
                    engine.connections.fetch_sub(1, Ordering::Relaxed);
                    *activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = terminate.recv() => { info!("SIGTERM: stopping"); break; }
            _ = interrupt.recv() => { info!("SIGINT: stopping"); break; }
            _ = engine.shutdown.notified() => { info!("asked to stop"); break; }
            _ = idle_check.tick() => {
                if engine.busy() > 0 {
                    *last_activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                    continue;
                }
                let idle = last_activity.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
                let quiet = engine.connections.load(Ordering::Relaxed) == 0;
                if quiet && !shrunk && idle >= SHRINK_AFTER {
                    engine.shrink();
                    shrunk = true;
                }
                if !idle_exit {
                    continue;
                }
                if engine.connections.load(Ordering::Relaxed) == 0 && idle >= idle_timeout {
                    info!("idle for {}s: exiting until the next request", idle.as_secs());
                    break;
                }
            }
        }
    }

    engine.stop_taking_transactions();
    notify(&[NotifyState::Stopping, NotifyState::Status("Stopping")]);
    drop(listener);
    let _ = stop_tx.send(true);
    // Requests finish; transactions finish whatever it takes.
    let mut waited = Duration::ZERO;
    loop {
        let round = Duration::from_secs(1);
        let drained = tokio::time::timeout(round, async {
            while connections.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        if engine.busy() == 0 && (drained || waited >= DRAIN_TIMEOUT) {
            if !drained {
                warn!(
                    "requests still running after {}s were abandoned",
                    DRAIN_TIMEOUT.as_secs()
                );
                connections.abort_all();
            }
            break;
        }
        waited += round;
        if engine.busy() > 0 {
            notify(&[NotifyState::Status(
                "Stopping once the transaction under way has finished",
            )]);
        }
    }
    if listening.bound_here
        && let Err(e) = std::fs::remove_file(&listening.path)
    {
        debug!("cannot remove {}: {e}", listening.path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn connections_are_limited_per_user_and_overall_but_not_for_root() {
        let mut counts = Counts::default();
        assert!(counts.admit(Some(65534), 3, 2));
        assert!(counts.admit(Some(65534), 3, 2));
        assert!(!counts.admit(Some(65534), 3, 2));
        assert!(counts.admit(Some(1000), 3, 2));
        assert!(!counts.admit(Some(1001), 3, 2));
        assert!(counts.admit(Some(0), 3, 2));
        counts.release(Some(65534));
        assert!(counts.admit(Some(1001), 3, 2));
        counts.release(Some(0));
        assert_eq!(counts.total, 3);
    }
}
