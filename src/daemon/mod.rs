//! `omgd`: the process that answers queries. It owns the backend (on its own
//! thread), the index and the store (`engine`); the transports — a socket
//! (`server`) or stdin/stdout — only carry requests to `Engine::handle` and
//! its answers back (`connection`).

pub mod aur;
pub mod backend_thread;
pub mod connection;
pub mod engine;
pub mod logger;
pub mod refresh;
pub mod server;
pub mod watch;

use crate::backend::BackendError;
use crate::config::{Config, Paths};

/// An engine with this machine's backend on its thread: what `omgd` runs.
/// (`omgd-lite` builds one without, and so never loads a backend library.)
pub fn engine_with_backend(
    paths: Paths,
    config: Config,
    mode: engine::Mode,
) -> Result<engine::Engine, BackendError> {
    let kind = crate::backend::detect::detect(config.backend)?;
    let backend = backend_thread::BackendHandle::spawn(kind)?;
    let mut engine = engine::Engine::new(paths, config, mode, kind, Some(backend));
    engine.signature_check = Some(crate::security::pgp::verify_sources);
    engine.keyring_check = Some(crate::security::pgp::verify_with_keyring);
    Ok(engine)
}

/// Serves one client on stdin/stdout until it hangs up (`omgd --stdio`,
/// `omgd-lite --stdio`). A client that goes away is not an error.
pub fn serve_stdio(engine: &engine::Engine) -> std::io::Result<()> {
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
        connection::serve(engine, tokio::io::stdin(), tokio::io::stdout(), stop).await
    });
    match served {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
