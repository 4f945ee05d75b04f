//! omgd on D-Bus (zbus): the bus name `io.github.omg`, the read-only
//! `io.github.omg.Status1` object for desktop widgets (`status`), and on
//! the system bus `io.github.omg.Manager1` with its transactions
//! (`manager`).

pub mod manager;
pub mod status;

use std::sync::Arc;

use crate::daemon::engine::Engine;

/// The well-known name omgd owns.
pub const NAME: &str = "io.github.omg";

/// Which bus to serve on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    Session,
    System,
}

/// Connects to `bus`, serves Status1 and owns the name; the connection
/// lives as long as the returned value. Changes are announced from a
/// background task.
pub async fn serve(engine: Arc<Engine>, bus: Bus) -> zbus::Result<zbus::Connection> {
    let builder = match bus {
        Bus::Session => zbus::connection::Builder::session()?,
        Bus::System => zbus::connection::Builder::system()?,
    };
    let mut builder = builder.serve_at(status::PATH, status::Status1::new(engine.clone()))?;
    if bus == Bus::System {
        builder = builder.serve_at(status::PATH, manager::Manager1::new(engine.clone()))?;
    }
    let connection = builder.name(NAME)?.build().await?;
    tokio::spawn(status::watch_changes(connection.clone(), engine));
    Ok(connection)
}
