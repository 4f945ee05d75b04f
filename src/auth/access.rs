//! Who may send which request: one table, covering every request on every
//! instance. `docs/security.md` explains it; `tests/hostile.rs` walks it as
//! `nobody` against a root system instance.
//!
//! - Queries that read the package database or ask an upstream (and keep
//!   a bounded cache of the answer) are for anyone who reaches the socket.
//! - Anything that changes the system — dry runs included, and refreshes
//!   asked of a query — names its polkit action. Root, the process that
//!   started an `omgd --stdio`, and D-Bus callers whose front end already
//!   asked polkit pass.
//! - Stopping the daemon, reloading it, and what writes the daemon's own
//!   state for its owner (OSV answers) are for the daemon's owner: root for
//!   the system instance, the user for a user instance.
//! - Requests that name files for the daemon to open (signature checks)
//!   and runtime installs belong to a user's own daemon: its owner or its
//!   stdio parent. The system instance's socket refuses them whoever asks.

use crate::ipc::protocol::RequestBody;

/// What a request needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who can reach the socket.
    Anyone,
    /// polkit's yes for this action (on the system instance).
    Polkit(&'static str),
    /// The daemon's owner, or its stdio parent.
    Owner,
    /// A user's own daemon only: its owner or its stdio parent; never
    /// over the system instance's socket.
    OwnDaemon,
}

/// The polkit action for refreshes asked of a query.
pub const REFRESH: &str = "io.github.omg.refresh";
/// Accepting a PGP key into the package manager's keyring.
pub const TRUST_KEY: &str = "io.github.omg.trust-key";
/// Restarting the units that run replaced files.
pub const RESTART: &str = "io.github.omg.restart";
/// Installing what policy.toml forbids.
pub const OVERRIDE_POLICY: &str = "io.github.omg.override-policy";

/// What `body` needs.
pub fn required(body: &RequestBody) -> Access {
    match body {
        RequestBody::Search(_)
        | RequestBody::Info { .. }
        | RequestBody::List { .. }
        | RequestBody::Status
        | RequestBody::DaemonStatus
        | RequestBody::AurPlan { .. }
        | RequestBody::AurUpdates
        | RequestBody::RuntimeAvailable { .. }
        | RequestBody::PolicyCheck
        | RequestBody::Graph
        | RequestBody::Versions { archive: false, .. }
        | RequestBody::Owns { .. }
        | RequestBody::Files { .. }
        | RequestBody::Provides { .. }
        | RequestBody::Audit { refresh: false }
        | RequestBody::Outdated { refresh: false }
        | RequestBody::Metrics
        | RequestBody::Restarts
        | RequestBody::News { .. }
        | RequestBody::Complete { .. } => Access::Anyone,
        RequestBody::Restart { .. } => Access::Polkit(RESTART),
        RequestBody::Audit { refresh: true } | RequestBody::Outdated { refresh: true } => {
            Access::Polkit(REFRESH)
        }
        RequestBody::Transaction(tx) => Access::Polkit(tx.polkit_action()),
        RequestBody::Maintain(m) => Access::Polkit(m.polkit_action()),
        RequestBody::Shutdown | RequestBody::Reload | RequestBody::Osv { .. } => Access::Owner,
        RequestBody::RuntimeInstall(_)
        | RequestBody::Versions { archive: true, .. }
        | RequestBody::VerifyFile { .. }
        | RequestBody::VerifyProvenance { .. }
        | RequestBody::VerifySignatures { .. } => Access::OwnDaemon,
    }
}

/// A short name for a request, for refusals and logs.
pub fn name(body: &RequestBody) -> &'static str {
    match body {
        RequestBody::Search(_) => "Search",
        RequestBody::Info { .. } => "Info",
        RequestBody::List { .. } => "List",
        RequestBody::Status => "Status",
        RequestBody::DaemonStatus => "DaemonStatus",
        RequestBody::Reload => "Reload",
        RequestBody::Shutdown => "Shutdown",
        RequestBody::Transaction(_) => "Transaction",
        RequestBody::Maintain(_) => "Maintain",
        RequestBody::AurPlan { .. } => "AurPlan",
        RequestBody::AurUpdates => "AurUpdates",
        RequestBody::RuntimeAvailable { .. } => "RuntimeAvailable",
        RequestBody::RuntimeInstall(_) => "RuntimeInstall",
        RequestBody::Audit { .. } => "Audit",
        RequestBody::PolicyCheck => "PolicyCheck",
        RequestBody::Outdated { .. } => "Outdated",
        RequestBody::Graph => "Graph",
        RequestBody::Versions { .. } => "Versions",
        RequestBody::Owns { .. } => "Owns",
        RequestBody::Files { .. } => "Files",
        RequestBody::Provides { .. } => "Provides",
        RequestBody::VerifyProvenance { .. } => "VerifyProvenance",
        RequestBody::Osv { .. } => "Osv",
        RequestBody::VerifyFile { .. } => "VerifyFile",
        RequestBody::VerifySignatures { .. } => "VerifySignatures",
        RequestBody::Metrics => "Metrics",
        RequestBody::Restarts => "Restarts",
        RequestBody::News { .. } => "News",
        RequestBody::Restart { .. } => "Restart",
        RequestBody::Complete { .. } => "Complete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{TransactionAction, TransactionOptions, TransactionRequest};

    #[test]
    fn dry_runs_and_refreshing_queries_need_polkit() {
        let dry = RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Upgrade,
            options: TransactionOptions {
                dry_run: true,
                refresh: true,
                ..TransactionOptions::default()
            },
        });
        assert_eq!(required(&dry), Access::Polkit("io.github.omg.upgrade"));
        assert_eq!(
            required(&RequestBody::Audit { refresh: true }),
            Access::Polkit(REFRESH)
        );
        assert_eq!(
            required(&RequestBody::Outdated { refresh: false }),
            Access::Anyone
        );
        assert_eq!(required(&RequestBody::Shutdown), Access::Owner);
        assert_eq!(
            required(&RequestBody::VerifyFile {
                file: "/etc/shadow".into(),
                signature: "/dev/zero".into(),
                keyring: "/".into()
            }),
            Access::OwnDaemon
        );
    }
}
