//! `omgd`: the process that answers queries. It owns the backend (on its own
//! thread), the index and the store (`engine`); the transports — a socket
//! (`server`) or stdin/stdout — only carry requests to `Engine::handle` and
//! its answers back (`connection`).

pub mod backend_thread;
pub mod connection;
pub mod engine;
pub mod logger;
pub mod refresh;
pub mod server;
pub mod watch;
