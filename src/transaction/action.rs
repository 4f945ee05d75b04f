//! What a `TransactionAction` or a `Maintenance` task is, answered in one
//! place: the polkit action it needs, how the audit log and the history
//! name it, and the role a D-Bus client sees.

use super::{Maintenance, MaintenanceRequest, TransactionAction, TransactionRequest};

impl TransactionRequest {
    /// The polkit action carrying it out needs.
    pub fn polkit_action(&self) -> &'static str {
        match &self.action {
            TransactionAction::Install { targets }
                if targets
                    .iter()
                    .any(|t| crate::auth::client_files::is_package_file(t)) =>
            {
                "io.github.omg.install-untrusted"
            }
            TransactionAction::Install { .. } => "io.github.omg.install",
            TransactionAction::Downgrade { file: Some(_), .. } => "io.github.omg.install-untrusted",
            TransactionAction::Remove { .. } => "io.github.omg.remove",
            TransactionAction::Upgrade => "io.github.omg.upgrade",
            TransactionAction::Sync { .. } => "io.github.omg.refresh",
            TransactionAction::Rollback { .. } | TransactionAction::Downgrade { .. } => {
                "io.github.omg.downgrade"
            }
        }
    }
}

impl TransactionAction {
    /// The audit log's verb and subject for it.
    pub fn audit_entry(&self) -> (&'static str, String) {
        match self {
            TransactionAction::Install { targets } => ("install", targets.join(" ")),
            TransactionAction::Remove { targets } => ("remove", targets.join(" ")),
            TransactionAction::Upgrade => ("upgrade", "*".to_string()),
            TransactionAction::Sync { .. } => ("sync", "*".to_string()),
            TransactionAction::Rollback { id, .. } => {
                ("rollback", id.map(|i| i.to_string()).unwrap_or_default())
            }
            TransactionAction::Downgrade { name, version, .. } => {
                ("downgrade", format!("{name} {version}"))
            }
        }
    }

    /// What was asked for, as the command line the history shows.
    pub fn command_line(&self) -> String {
        match self {
            TransactionAction::Install { targets } => format!("install {}", targets.join(" ")),
            TransactionAction::Remove { targets } => format!("remove {}", targets.join(" ")),
            TransactionAction::Upgrade => "upgrade".into(),
            TransactionAction::Sync { .. } => "sync".into(),
            TransactionAction::Rollback { id, .. } => {
                format!("rollback {}", id.map(|i| i.to_string()).unwrap_or_default())
            }
            TransactionAction::Downgrade { name, version, .. } => {
                format!("downgrade {name} {version}")
            }
        }
    }

    /// The role a D-Bus `Transaction1` object reports.
    pub fn dbus_role(&self) -> &'static str {
        match self {
            TransactionAction::Install { .. } => "install",
            TransactionAction::Remove { .. } => "remove",
            TransactionAction::Upgrade => "upgrade",
            TransactionAction::Sync { .. } => "refresh",
            TransactionAction::Rollback { .. } => "rollback",
            TransactionAction::Downgrade { .. } => "downgrade",
        }
    }
}

impl MaintenanceRequest {
    /// The polkit action carrying it out needs.
    pub fn polkit_action(&self) -> &'static str {
        match self.task {
            Maintenance::Pin(_) => "io.github.omg.pin",
            Maintenance::CleanCache { .. } => "io.github.omg.remove",
        }
    }
}

impl Maintenance {
    /// The audit log's verb and subject for it.
    pub fn audit_entry(&self) -> (&'static str, String) {
        match self {
            Maintenance::Pin(p) if p.unpin => ("unpin", p.package.clone()),
            Maintenance::Pin(p) => ("pin", p.package.clone()),
            Maintenance::CleanCache { keep } => ("clean-cache", format!("keep {keep}")),
        }
    }
}
