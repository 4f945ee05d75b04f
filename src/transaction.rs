//! Package transactions as both ends see them: what the client asks for
//! (`TransactionRequest`), what the daemon reports while it works
//! (`TxEvent`: steps, progress, messages, the plan, questions), how the
//! client answers questions (`Answer`), the outcome (`TransactionReport`)
//! and the ways a transaction fails (`TxError`). `TxChannel` is the daemon's
//! side of the conversation: backends send events and ask questions through
//! it from their own thread.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

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
    },
    /// Pin a package (or take its pin away): pins.toml, and on Debian a
    /// dpkg hold.
    Pin(PinChange),
    /// Remove package files from the package cache, keeping the `keep`
    /// newest versions of each package and the installed one.
    CleanCache { keep: u32 },
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

/// Whether `request` asks to refresh the databases first.
pub fn wants_refresh(request: &TransactionRequest) -> bool {
    match request.action {
        TransactionAction::Sync { .. } | TransactionAction::Upgrade => true,
        TransactionAction::Install { .. } => request.options.refresh,
        _ => false,
    }
}

/// Whether `request` is a dry run that asked for a refresh it will not
/// get (said on `channel`): a dry run never writes the databases.
pub fn dry_run_skips_refresh(request: &TransactionRequest, channel: &TxChannel) -> bool {
    if !request.options.dry_run {
        return false;
    }
    if wants_refresh(request) {
        channel.message(
            Level::Info,
            "a dry run does not refresh the package databases: planning against them as they are",
        );
    }
    true
}

/// Warns when a package a rollback touches is no longer as the
/// transaction left it (`now` and `left`: versions, none when not
/// installed).
pub fn warn_changed_since(channel: &TxChannel, name: &str, now: Option<&str>, left: Option<&str>) {
    if now == left {
        return;
    }
    channel.message(
        Level::Warning,
        format!(
            "{name} has changed since: {} now, {} after that transaction",
            now.unwrap_or("not installed"),
            left.unwrap_or("not installed")
        ),
    );
}

/// Versions a rollback cannot find anywhere: said, then the rest goes
/// ahead only when the user accepts a partial rollback (`partial`, or
/// yes to the question; the default is no).
pub fn accept_partial(
    channel: &TxChannel,
    missing: &[String],
    partial: bool,
    nowhere: &str,
) -> Result<(), TxError> {
    if missing.is_empty() {
        return Ok(());
    }
    for version in missing {
        channel.message(
            Level::Warning,
            format!("{version} is not available: {nowhere}"),
        );
    }
    if partial || channel.confirm("Roll back the rest without them?", false) {
        return Ok(());
    }
    Err(TxError::Unavailable {
        versions: missing.to_vec(),
    })
}

/// Which cached package files to delete: per package, all but the `keep`
/// newest versions and the installed one. `files` are (path, package,
/// version, size); `installed` gives a package's installed version.
pub fn prune(
    files: &[(std::path::PathBuf, String, String, u64)],
    keep: usize,
    installed: &dyn Fn(&str) -> Option<String>,
    cmp: &dyn Fn(&str, &str) -> std::cmp::Ordering,
) -> Vec<(std::path::PathBuf, u64)> {
    let mut by_package: std::collections::BTreeMap<
        &str,
        Vec<&(std::path::PathBuf, String, String, u64)>,
    > = std::collections::BTreeMap::new();
    for f in files {
        by_package.entry(f.1.as_str()).or_default().push(f);
    }
    let mut doomed = Vec::new();
    for (name, mut versions) in by_package {
        versions.sort_by(|a, b| cmp(&b.2, &a.2));
        let current = installed(name);
        let mut distinct: Vec<&str> = Vec::new();
        for f in versions {
            let version = f.2.as_str();
            if !distinct.contains(&version) {
                distinct.push(version);
            }
            let rank = distinct.iter().position(|v| *v == version).unwrap_or(0);
            if rank >= keep && current.as_deref() != Some(version) {
                doomed.push((f.0.clone(), f.3));
            }
        }
    }
    doomed
}

/// Deletes what `prune` chose (and each file's `.sig`), reporting what
/// went; on a dry run, only reports.
pub fn delete_cached(
    doomed: Vec<(std::path::PathBuf, u64)>,
    dry_run: bool,
    channel: &TxChannel,
    report: &mut TransactionReport,
) -> Result<(), TxError> {
    if doomed.is_empty() {
        channel.message(Level::Info, "the package cache has nothing to remove");
        return Ok(());
    }
    let total: u64 = doomed.iter().map(|(_, s)| s).sum();
    report.freed = total;
    report.cleaned = doomed
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    if dry_run {
        return Ok(());
    }
    if !channel.confirm(
        format!(
            "Remove {} package file{} ({} bytes) from the cache?",
            doomed.len(),
            if doomed.len() == 1 { "" } else { "s" },
            total
        ),
        true,
    ) {
        return Err(TxError::Aborted);
    }
    for (path, _) in &doomed {
        if let Err(e) = std::fs::remove_file(path) {
            return Err(TxError::Failed(format!(
                "cannot remove {}: {e}",
                path.display()
            )));
        }
        let _ = std::fs::remove_file(format!("{}.sig", path.display()));
    }
    report.committed = true;
    Ok(())
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

/// The daemon's end of a transaction's conversation with its client,
/// shared with the backend thread. Everything it holds is bounded: events
/// wait in a queue of `EVENT_QUEUE` (progress a slow client has not read
/// is dropped), and a question not answered within the question timeout
/// takes the safe answer, so the transaction and its lock are released.
pub struct TxChannel {
    events: tokio::sync::mpsc::Sender<TxEvent>,
    answers: Mutex<std::sync::mpsc::Receiver<(u32, Answer)>>,
    noconfirm: bool,
    next_question: AtomicU32,
    question_timeout: std::time::Duration,
    /// Whether the caller may have PGP keys imported (asked once, when a
    /// key is about to be).
    key_trust: std::sync::OnceLock<KeyTrust>,
    dropped: AtomicU32,
}

/// Decides whether the caller may accept a PGP key into the package
/// manager's keyring; `true` also makes "yes" the question's default.
pub type KeyTrust = Box<dyn Fn() -> bool + Send + Sync>;

/// Events a transaction may have waiting for its client.
pub const EVENT_QUEUE: usize = 1024;

/// The client's end, held by the connection serving it.
pub struct TxClientSide {
    pub events: tokio::sync::mpsc::Receiver<TxEvent>,
    pub answers: std::sync::mpsc::Sender<(u32, Answer)>,
}

/// How long a question waits for its answer unless told otherwise.
const QUESTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

impl TxChannel {
    pub fn new(noconfirm: bool) -> (TxChannel, TxClientSide) {
        let (events_tx, events_rx) = tokio::sync::mpsc::channel(EVENT_QUEUE);
        let (answers_tx, answers_rx) = std::sync::mpsc::channel();
        (
            TxChannel {
                events: events_tx,
                answers: Mutex::new(answers_rx),
                noconfirm,
                next_question: AtomicU32::new(1),
                question_timeout: QUESTION_TIMEOUT,
                key_trust: std::sync::OnceLock::new(),
                dropped: AtomicU32::new(0),
            },
            TxClientSide {
                events: events_rx,
                answers: answers_tx,
            },
        )
    }

    /// The same, with questions waiting at most `timeout` for an answer.
    pub fn with_question_timeout(
        noconfirm: bool,
        timeout: std::time::Duration,
    ) -> (TxChannel, TxClientSide) {
        let (mut channel, client) = TxChannel::new(noconfirm);
        channel.question_timeout = timeout;
        (channel, client)
    }

    /// Sets who decides on key imports (the daemon, from the caller).
    pub fn set_key_trust(&self, decide: KeyTrust) {
        let _ = self.key_trust.set(decide);
    }

    /// Whether the caller may have a PGP key imported; nobody may unless
    /// the daemon said how to decide.
    pub fn may_trust_keys(&self) -> bool {
        self.key_trust.get().is_some_and(|decide| decide())
    }

    /// Reports an event; a client that has gone away is not an error (the
    /// transaction carries on or stops at its next question), and one that
    /// does not read loses progress rather than growing the queue.
    pub fn send(&self, event: TxEvent) {
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = self.events.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events the client was too slow to take.
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn step(&self, text: impl Into<String>) {
        self.send(TxEvent::Step(text.into()));
    }

    pub fn message(&self, level: Level, text: impl Into<String>) {
        self.send(TxEvent::Message {
            level,
            text: text.into(),
        });
    }

    /// Asks the client and waits for the answer. Under `noconfirm` the
    /// default applies without asking. A client that has hung up, cannot
    /// take the question or does not answer in time gets the safe answer:
    /// no to yes/no questions, nothing picked from a list (a pick-one
    /// question takes its default, which libalpm needs).
    pub fn ask(&self, question: Question) -> Resolved {
        if self.noconfirm {
            let resolved = question.resolve(&Answer::Default);
            self.message(Level::Info, describe_default(&question, &resolved));
            return resolved;
        }
        let id = self.next_question.fetch_add(1, Ordering::Relaxed);
        let safe = || match &question {
            Question::YesNo { .. } => Resolved::Bool(false),
            Question::Choose { default, .. } => Resolved::One(*default as usize),
            Question::ChooseMany { .. } => Resolved::Many(Vec::new()),
        };
        if self
            .events
            .try_send(TxEvent::Question {
                id,
                question: question.clone(),
            })
            .is_err()
        {
            return safe();
        }
        let answers = match self.answers.lock() {
            Ok(a) => a,
            Err(_) => return safe(),
        };
        let deadline = std::time::Instant::now() + self.question_timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match answers.recv_timeout(left) {
                Ok((got, answer)) if got == id => return question.resolve(&answer),
                // An answer to an earlier question, arriving late.
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    self.message(
                        Level::Warning,
                        format!(
                            "no answer within {} s: taking the safe answer",
                            self.question_timeout.as_secs()
                        ),
                    );
                    return safe();
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return safe(),
            }
        }
    }

    /// Asks a yes/no question.
    pub fn confirm(&self, prompt: impl Into<String>, default: bool) -> bool {
        matches!(
            self.ask(Question::YesNo {
                prompt: prompt.into(),
                default,
            }),
            Resolved::Bool(true)
        )
    }
}

/// What `--noconfirm` answered, for the user to see.
fn describe_default(question: &Question, resolved: &Resolved) -> String {
    match (question, resolved) {
        (Question::YesNo { prompt, .. }, Resolved::Bool(b)) => {
            format!("{prompt} [{}]", if *b { "yes" } else { "no" })
        }
        (
            Question::Choose {
                prompt, options, ..
            },
            Resolved::One(i),
        ) => format!("{prompt} [{}]", options.get(*i).map_or("?", String::as_str)),
        (Question::ChooseMany { prompt, .. }, _) => format!("{prompt} [all]"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_the_installed() {
        let file = |name: &str, version: &str| {
            (
                std::path::PathBuf::from(format!("{name}-{version}")),
                name.to_string(),
                version.to_string(),
                10,
            )
        };
        let files = vec![
            file("vim", "9.1-1"),
            file("vim", "9.0-1"),
            file("vim", "8.2-1"),
            file("vim", "9.2-1"),
            file("gone", "1.0-1"),
        ];
        let installed = |name: &str| (name == "vim").then(|| "8.2-1".to_string());
        let doomed: Vec<String> = prune(&files, 2, &installed, &crate::version::vercmp)
            .into_iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(doomed, ["vim-9.0-1"]);
        let none: Vec<_> = prune(&files, 0, &|_| None, &crate::version::vercmp);
        assert_eq!(none.len(), 5);
    }

    #[test]
    fn answers_that_do_not_fit_take_the_default() {
        let choose = Question::Choose {
            prompt: "provider".into(),
            options: vec!["a".into(), "b".into()],
            default: 0,
        };
        assert_eq!(choose.resolve(&Answer::Pick(1)), Resolved::One(1));
        assert_eq!(choose.resolve(&Answer::Pick(7)), Resolved::One(0));
        assert_eq!(choose.resolve(&Answer::Yes), Resolved::One(0));
        let yes_no = Question::YesNo {
            prompt: "proceed?".into(),
            default: false,
        };
        assert_eq!(yes_no.resolve(&Answer::Default), Resolved::Bool(false));
        assert_eq!(yes_no.resolve(&Answer::Yes), Resolved::Bool(true));
        let many = Question::ChooseMany {
            prompt: "members".into(),
            options: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            many.resolve(&Answer::Default),
            Resolved::Many(vec![0, 1, 2])
        );
        assert_eq!(
            many.resolve(&Answer::PickMany(vec![2, 0, 9, 2])),
            Resolved::Many(vec![0, 2])
        );
    }

    #[test]
    fn a_client_that_hung_up_gets_the_safe_answer() {
        let (channel, client) = TxChannel::new(false);
        drop(client);
        assert!(!channel.confirm("Proceed with installation?", true));
    }

    #[test]
    fn an_unanswered_question_takes_the_safe_answer_in_time() {
        let (channel, client) =
            TxChannel::with_question_timeout(false, std::time::Duration::from_millis(200));
        let started = std::time::Instant::now();
        assert!(!channel.confirm("Proceed?", true));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(client);
    }

    #[test]
    fn a_client_that_does_not_read_costs_a_bounded_queue() {
        let (channel, client) = TxChannel::new(false);
        for i in 0..(EVENT_QUEUE as u32 + 500) {
            channel.step(format!("step {i}"));
        }
        assert_eq!(channel.dropped(), 500);
        // A question that cannot be delivered is not waited for.
        assert!(!channel.confirm("Proceed?", true));
        drop(client);
    }

    #[test]
    fn keys_are_trusted_only_when_the_daemon_says_so() {
        let (channel, _client) = TxChannel::new(true);
        assert!(!channel.may_trust_keys());
        channel.set_key_trust(Box::new(|| true));
        assert!(channel.may_trust_keys());
    }

    #[test]
    fn answers_reach_the_question_they_name() {
        let (channel, mut client) = TxChannel::new(false);
        let asker = std::thread::spawn(move || channel.confirm("Proceed?", false));
        let Some(TxEvent::Question { id, .. }) = client.events.blocking_recv() else {
            panic!("expected a question");
        };
        client.answers.send((id + 100, Answer::No)).unwrap();
        client.answers.send((id, Answer::Yes)).unwrap();
        assert!(asker.join().unwrap());
    }
}
