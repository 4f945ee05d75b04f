//! `omgd`: the process that answers queries. It owns the backend (on its own
//! thread), the index and the store (`engine`); the transports — a socket
//! (`server`) or stdin/stdout — only carry requests to `Engine::handle` and
//! its answers back (`connection`).

pub mod aur;
pub mod backend_thread;
pub mod connection;
pub mod engine;
pub mod logger;
pub mod news_feed;
pub mod refresh;
pub mod server;
pub mod watch;

use crate::backend::BackendError;
use omg::config::{Config, Paths};

/// An engine with this machine's backend on its thread: what `omgd` runs.
/// (`omgd-lite` builds one without, and so never loads a backend library.)
pub fn engine_with_backend(
    paths: Paths,
    config: Config,
    mode: engine::Mode,
) -> Result<engine::Engine, BackendError> {
    let kind = crate::backend::detect::detect(config.backend)?;
    let backend = backend_thread::BackendHandle::spawn(kind)?;
    let verifiers = engine::Verifiers {
        sources: Some(omg::security::pgp::verify_sources),
        keyring: Some(omg::security::pgp::verify_with_keyring),
        file: Some(omg::security::pgp::verify_file),
    };
    Ok(engine::Engine::new(paths, config, mode, kind, Some(backend)).with_verifiers(verifiers))
}

/// Moves the protocol off descriptors 0 and 1: the programs a transaction
/// runs (dpkg, maintainer scripts, makepkg) inherit them, and must neither
/// read the client's frames nor write into its stream. They get
/// `/dev/null` for input and this process's stderr for output; the
/// protocol continues on private duplicates (close-on-exec).
fn protocol_fds() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let dup = |fd: i32| {
        // SAFETY: F_DUPFD_CLOEXEC on an open descriptor returns a new one
        // this function owns.
        let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if new < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `new` is open and owned by nobody else.
        Ok(unsafe { std::fs::File::from_raw_fd(new) })
    };
    let input = dup(0)?;
    let output = dup(1)?;
    let null = std::fs::File::open("/dev/null")?;
    // SAFETY: dup2 onto the standard descriptors, both sides open.
    if unsafe { libc::dup2(null.as_raw_fd(), 0) } < 0 || unsafe { libc::dup2(2, 1) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((input, output))
}

/// Serves one client on stdin/stdout until it hangs up (`omgd --stdio`,
/// `omgd-lite --stdio`). A client that goes away is not an error.
pub fn serve_stdio(engine: &engine::Engine) -> std::io::Result<()> {
    let (input, output) = protocol_fds()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (_never, stop) = tokio::sync::watch::channel(false);
    let served = runtime.block_on(async {
        // Ctrl-C at the terminal reaches the whole process group, this
        // child included: a transaction must not die half-committed. The
        // client leaving (end of input) is what ends this process.
        let _ignore_interrupts =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let input = tokio::fs::File::from_std(input);
        let output = tokio::fs::File::from_std(output);
        let limits = connection::Limits::stdio(&engine.config().daemon);
        connection::serve(
            engine,
            omg::auth::caller::Caller::Parent,
            limits,
            input,
            output,
            stop,
        )
        .await
    });
    match served {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
