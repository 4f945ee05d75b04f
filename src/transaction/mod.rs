//! Package transactions as both ends see them: what the client asks for
//! (`TransactionRequest`), what the daemon reports while it works
//! (`TxEvent`: steps, progress, messages, the plan, questions), how the
//! client answers questions (`Answer`), the outcome (`TransactionReport`)
//! and the ways a transaction fails (`TxError`). `TxChannel` is the daemon's
//! side of the conversation: backends send events and ask questions through
//! it from their own thread.

use serde::{Deserialize, Serialize};

mod action;
mod channel;
mod news;
mod steps;

pub use channel::{KeyTrust, TxChannel, TxClientSide};
pub use news::show_feed;
pub use steps::{
    accept_partial, delete_cached, dry_run_skips_refresh, prune, wants_refresh, warn_changed_since,
};

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionAction {
    /// Install packages: names, `repo/name`, groups, provided names, or
    /// package files.
    Install { targets: Vec<String> },
    /// Remove installed packages (or the installed members of a group).
    Remove { targets: Vec<String> },
    /// Refresh the repository databases, then upgrade every package.
    Upgrade,
    /// Refresh the repository databases only.
    Sync { force: bool },
    /// Revert a recorded transaction: the versions it replaced or removed
    /// come back, what it installed goes.
    Rollback {
        /// The transaction (`omg history`); none: the newest one that
        /// changed something.
        id: Option<u64>,
        /// Go ahead without the versions found nowhere, instead of asking.
        partial: bool,
        /// Filled in by omgd from its own history (what a client sends is
        /// replaced).
        steps: Vec<RevertStep>,
        /// The Arch Linux Archive's base URL (filled in by omgd from its
        /// configuration).
        archive: Option<String>,
        /// Without `id`: every transaction of this history group (`omg
        /// upgrade --all`) as one. Filled in by omgd with the group of the
        /// transaction rolled back (a transaction of a group takes its
        /// whole group back).
        #[serde(default)]
        group: Option<String>,
    },
    /// Replace an installed package by another version of it (older, as a
    /// rule), from wherever a rollback would find it: a repository, the
    /// package cache, the Arch Linux Archive, apt's archive cache. The
    /// install reason is kept; the history records it, so it can be rolled
    /// back.
    Downgrade {
        name: String,
        version: String,
        /// A package file of that version the client built (an AUR
        /// package, from an older commit of its package base): installed
        /// as a package file is, with the polkit action that needs.
        file: Option<String>,
    },
}

/// Changes to the package manager's state that install nothing: requests
/// of their own, not package transactions (no plan, no history), though
/// they need root, stream their messages and are audited as transactions
/// are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Maintenance {
    /// Pin a package (or take its pin away): pins.toml, and on Debian a
    /// dpkg hold.
    Pin(PinChange),
    /// Remove package files from the package cache, keeping the `keep`
    /// newest versions of each package and the installed one.
    CleanCache { keep: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceRequest {
    pub task: Maintenance,
    /// Say what would be done, change nothing.
    pub dry_run: bool,
    /// Never ask: every question takes its default answer.
    pub noconfirm: bool,
    /// polkit may ask the user to authenticate (through their agent).
    pub interactive: bool,
}

impl TransactionAction {
    /// A downgrade as the rollback of one package it is carried out as:
    /// from `installed` to `version`, keeping how it was installed.
    pub fn as_rollback(
        &self,
        installed: &str,
        archive: Option<String>,
    ) -> Option<TransactionAction> {
        let TransactionAction::Downgrade {
            name,
            version,
            file: None,
        } = self
        else {
            return None;
        };
        Some(TransactionAction::Rollback {
            id: None,
            partial: false,
            steps: vec![RevertStep {
                name: name.clone(),
                left: Some(installed.to_string()),
                restore: Some(version.clone()),
                as_dependency: false,
            }],
            archive,
            group: None,
        })
    }
}

/// A downgrade reaches a backend as the rollback omgd makes of it.
pub fn downgrade_unconverted() -> TxError {
    TxError::Unsupported(
        "a downgrade is carried out as a rollback of the one package (omgd converts it)".into(),
    )
}

/// What `omg pin` changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinChange {
    pub package: String,
    /// `*` (hold) or a version prefix; none with `unpin`.
    pub spec: Option<String>,
    pub unpin: bool,
}

/// What reverting one package's change means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevertStep {
    pub name: String,
    /// The version the transaction left (none: it removed the package).
    pub left: Option<String>,
    /// The version to go back to (none: the transaction installed the
    /// package, so it is removed).
    pub restore: Option<String>,
    /// The package was installed as a dependency before.
    pub as_dependency: bool,
}

/// How to do it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionOptions {
    /// Never ask: every question takes its default answer.
    pub noconfirm: bool,
    /// Resolve and show the plan, change nothing.
    pub dry_run: bool,
    /// Install: skip targets already installed at the same version.
    pub needed: bool,
    /// Install: mark the packages as installed as dependencies.
    pub as_deps: bool,
    /// Install: mark the packages as installed explicitly.
    pub as_explicit: bool,
    /// Install: of the packages installed, these (by name) are marked as
    /// installed as dependencies, the others as `as_deps`/`as_explicit`
    /// say (one transaction for AUR builds of both kinds).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Remove: also remove dependencies nothing else needs.
    pub recursive: bool,
    /// Remove: also remove the packages that depend on the targets.
    pub cascade: bool,
    /// Install: refresh the repository databases first.
    pub refresh: bool,
    /// Remove: also remove configuration files (Debian's purge).
    pub purge: bool,
    /// Install, upgrade: fetch the packages into the cache, install
    /// nothing.
    pub download_only: bool,
    /// The system instance may have polkit ask the user to authenticate
    /// (through their agent).
    pub interactive: bool,
    /// Install even what policy.toml forbids (recorded in the audit log).
    pub override_policy: bool,
    /// Install: only upgrade these installed packages, keeping how each
    /// was installed (`omg upgrade --security`).
    pub upgrade_only: bool,
    /// Where a dry run that asks for a refresh keeps its own copy of the
    /// package lists (filled in by omgd from its cache directory; what a
    /// client sends is replaced). A dry run never writes the system's.
    #[serde(default)]
    pub private_lists: Option<String>,
    /// Where the package manager's own output (dpkg's, scriptlets') is
    /// kept for this transaction (filled in by omgd; what a client sends is
    /// replaced).
    #[serde(default)]
    pub log_file: Option<String>,
    /// What to do with the news of the packages upgraded (filled in by
    /// omgd from `[upgrade] news`).
    #[serde(default)]
    pub news: NewsMode,
    /// The history group the transaction belongs to (`omg upgrade
    /// --all`: one rollback undoes the group).
    #[serde(default)]
    pub group: Option<String>,
    /// The client showed the plan's outline and the user accepted it:
    /// the plan question is not asked again unless the plan removes
    /// something.
    #[serde(default)]
    pub plan_accepted: bool,
}

impl TransactionOptions {
    /// Whether the plan `changes` still needs the user's yes: always,
    /// unless the client's outline was accepted and nothing is removed.
    pub fn ask_about_plan(&self, changes: &[Change]) -> bool {
        !self.plan_accepted || changes.iter().any(|c| c.kind == ChangeKind::Remove)
    }
}

/// `[upgrade] news`: the news of what an upgrade brings (Debian's
/// `NEWS.Debian` entries newer than the installed version, the Arch Linux
/// news since the last upgrade) is shown and asked about before the
/// packages are installed, only shown (asked about still when an Arch item
/// needs manual intervention or names a planned package), or not read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NewsMode {
    #[default]
    Ask,
    Show,
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRequest {
    pub action: TransactionAction,
    pub options: TransactionOptions,
}

impl TransactionRequest {
    /// Whether carrying it out changes the system (and so needs root).
    pub fn changes_system(&self) -> bool {
        !self.options.dry_run || matches!(self.action, TransactionAction::Sync { .. })
    }
}

/// One change a transaction makes to one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub name: String,
    pub kind: ChangeKind,
    /// Where the new version comes from (a repository, or `file`).
    pub repository: Option<String>,
    pub old_version: Option<String>,
    pub new_version: Option<String>,
    /// Bytes still to download (0 when cached or removed).
    pub download_size: u64,
    /// Installed size of the new version, or of the removed one.
    pub installed_size: u64,
    /// Installed as a dependency rather than on request (for a removal:
    /// had been).
    pub as_dependency: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Install,
    Upgrade,
    Downgrade,
    Reinstall,
    Remove,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Install => "install",
            ChangeKind::Upgrade => "upgrade",
            ChangeKind::Downgrade => "downgrade",
            ChangeKind::Reinstall => "reinstall",
            ChangeKind::Remove => "remove",
        }
    }
}

/// Everything the transaction will do, shown before confirming.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Total bytes to download.
    pub download_size: u64,
    /// Change of the installed size, in bytes (negative: space freed).
    pub size_change: i64,
}

/// What happened to one repository database during a refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseRefresh {
    pub name: String,
    pub updated: bool,
}

/// The outcome of a transaction that did not fail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionReport {
    /// Databases refreshed first (sync, upgrade, install --refresh).
    pub databases: Vec<DatabaseRefresh>,
    /// The changes made (or, on a dry run, that would be made).
    pub changes: Vec<Change>,
    /// Whether the changes were made: false for a dry run or when there was
    /// nothing to do.
    pub committed: bool,
    /// Package files a cache cleaning removed (or, on a dry run, would).
    pub cleaned: Vec<String>,
    /// The bytes that freed.
    pub freed: u64,
    /// Config files the transaction left for a merge (`omg merge`).
    #[serde(default)]
    pub config_files: Vec<crate::merge::ConfigFile>,
    /// Units (and processes) that still run files the transaction
    /// replaced or deleted (`omg restart`).
    #[serde(default)]
    pub restarts: Vec<crate::restart::Restart>,
    /// For a rollback: the history group it took back, if any.
    #[serde(default)]
    pub group: Option<String>,
}

/// Severity of a message from the package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// Output of install scripts and hooks, notes.
    Info,
    Warning,
    Error,
}

/// What a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProgressAction {
    Installing,
    Upgrading,
    Downgrading,
    Reinstalling,
    Removing,
    CheckingConflicts,
    CheckingSpace,
    CheckingIntegrity,
    CheckingKeys,
    Loading,
}

impl ProgressAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgressAction::Installing => "installing",
            ProgressAction::Upgrading => "upgrading",
            ProgressAction::Downgrading => "downgrading",
            ProgressAction::Reinstalling => "reinstalling",
            ProgressAction::Removing => "removing",
            ProgressAction::CheckingConflicts => "checking for file conflicts",
            ProgressAction::CheckingSpace => "checking available disk space",
            ProgressAction::CheckingIntegrity => "checking package integrity",
            ProgressAction::CheckingKeys => "checking keys in keyring",
            ProgressAction::Loading => "loading package files",
        }
    }

    /// Progress about one package (rather than the whole transaction).
    pub fn per_package(self) -> bool {
        matches!(
            self,
            ProgressAction::Installing
                | ProgressAction::Upgrading
                | ProgressAction::Downgrading
                | ProgressAction::Reinstalling
                | ProgressAction::Removing
        )
    }
}

/// State of one download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadState {
    Started,
    Progress,
    /// Finished; the file is complete.
    Done,
    /// The server's copy is the one we have (databases).
    UpToDate,
    Failed,
}

/// Something the daemon reports while a transaction runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TxEvent {
    /// A new stage begins ("resolving dependencies...").
    Step(String),
    Message {
        level: Level,
        text: String,
    },
    /// The plan, sent once before the confirmation.
    Plan(Plan),
    Download {
        file: String,
        state: DownloadState,
        received: u64,
        /// 0 when the size is not known.
        total: u64,
    },
    Progress {
        action: ProgressAction,
        /// The package, for per-package actions.
        package: String,
        percent: u8,
        /// Position of this package among `count`.
        current: u32,
        count: u32,
    },
    /// A hook runs.
    Hook {
        name: String,
        position: u32,
        total: u32,
    },
    /// A question the client must answer with an `Answer` frame carrying
    /// `id`.
    Question {
        id: u32,
        question: Question,
    },
}

/// A question for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Question {
    YesNo {
        prompt: String,
        default: bool,
    },
    /// Pick one of `options`.
    Choose {
        prompt: String,
        options: Vec<String>,
        default: u32,
    },
    /// Pick any of `options` (all by default).
    ChooseMany {
        prompt: String,
        options: Vec<String>,
    },
}

/// The client's answer to a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// Whatever the question's default is.
    Default,
    Yes,
    No,
    /// For `Choose`: the index of the option picked.
    Pick(u32),
    /// For `ChooseMany`: the indices of the options picked.
    PickMany(Vec<u32>),
}

/// The answer a question resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Bool(bool),
    One(usize),
    Many(Vec<usize>),
}

impl Question {
    /// Applies `answer` to this question: the default when the answer does
    /// not fit it (an out-of-range index, a yes to a choice).
    pub fn resolve(&self, answer: &Answer) -> Resolved {
        match (self, answer) {
            (Question::YesNo { .. }, Answer::Yes) => Resolved::Bool(true),
            (Question::YesNo { .. }, Answer::No) => Resolved::Bool(false),
            (Question::YesNo { default, .. }, _) => Resolved::Bool(*default),
            (Question::Choose { options, .. }, Answer::Pick(i))
                if (*i as usize) < options.len() =>
            {
                Resolved::One(*i as usize)
            }
            (Question::Choose { default, .. }, _) => Resolved::One(*default as usize),
            (Question::ChooseMany { options, .. }, Answer::PickMany(picked)) => {
                let mut picked: Vec<usize> = picked
                    .iter()
                    .map(|i| *i as usize)
                    .filter(|i| *i < options.len())
                    .collect();
                picked.sort_unstable();
                picked.dedup();
                Resolved::Many(picked)
            }
            (Question::ChooseMany { .. }, Answer::No) => Resolved::Many(Vec::new()),
            (Question::ChooseMany { options, .. }, _) => {
                Resolved::Many((0..options.len()).collect())
            }
        }
    }
}

/// Why a transaction did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error(
        "unable to lock the database: {lock} exists. Another package manager is running; if none is, remove that file"
    )]
    Locked { lock: String },
    #[error(
        "the package database is in use ({message}): another package manager (apt, dpkg, unattended-upgrades) is running; wait for it to finish"
    )]
    Busy { message: String },
    #[error("target not found: {}", .targets.join(", "))]
    NotFound {
        targets: Vec<String>,
        suggestions: Vec<String>,
    },
    #[error("failed to prepare the transaction ({reason}){}", bullets(.details))]
    Prepare {
        reason: String,
        details: Vec<String>,
    },
    #[error("failed to commit the transaction ({reason}){}", bullets(.details))]
    Commit {
        reason: String,
        details: Vec<String>,
    },
    #[error(
        "these versions are no longer available: {}; nothing was changed (--partial rolls back the rest)",
        .versions.join(", ")
    )]
    Unavailable { versions: Vec<String> },
    #[error("{0}")]
    Failed(String),
    #[error("the transaction was cancelled; nothing was changed")]
    Aborted,
    #[error("{0}")]
    NeedsRoot(String),
    #[error("{0}")]
    Unsupported(String),
}

/// `:` and one line per detail, or nothing.
fn bullets(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from(":");
    for line in lines {
        out.push_str("\n  - ");
        out.push_str(line);
    }
    out
}
