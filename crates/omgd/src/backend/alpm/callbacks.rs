//! libalpm's callbacks during a transaction (log, events, progress,
//! downloads, questions), turned into `TxEvent`s and questions on a
//! `TxChannel`. The two libalpm generations name their events differently;
//! `event` is written once for each.

use std::sync::Arc;

use super::libalpm::{
    Alpm, AnyDownloadEvent, AnyEvent, AnyQuestion, DownloadEvent, DownloadResult, Event, LogLevel,
    Progress, Question as AlpmQuestion,
};
use omg::transaction::{
    DownloadState, Level, ProgressAction, Question, Resolved, TxChannel, TxEvent,
};

/// Installs every callback on `handle`, reporting to `channel`.
pub fn install(handle: &Alpm, channel: &Arc<TxChannel>) {
    handle.set_log_cb(Arc::clone(channel), log);
    handle.set_event_cb(Arc::clone(channel), event);
    handle.set_question_cb(Arc::clone(channel), question);
    handle.set_progress_cb(ProgressState::new(channel), progress);
    handle.set_dl_cb(DownloadMemory::new(channel), download);
}

fn log(level: LogLevel, message: &str, channel: &mut Arc<TxChannel>) {
    let level = if level.contains(LogLevel::ERROR) {
        Level::Error
    } else if level.contains(LogLevel::WARNING) {
        Level::Warning
    } else {
        return;
    };
    let text = message.trim_end();
    if !text.is_empty() {
        channel.message(level, text);
    }
}

#[cfg(feature = "alpm")]
fn event(event: AnyEvent, channel: &mut Arc<TxChannel>) {
    match event.event() {
        Event::CheckDepsStart => channel.step("checking dependencies..."),
        Event::ResolveDepsStart => channel.step("resolving dependencies..."),
        Event::InterConflictsStart => channel.step("looking for conflicting packages..."),
        Event::TransactionStart => channel.step("processing package changes..."),
        Event::RetrieveStart => channel.step("retrieving packages..."),
        Event::KeyDownloadStart => channel.step("downloading required keys..."),
        Event::HookStart => channel.step("running hooks..."),
        Event::PkgRetrieveStart(e) => channel.step(format!(
            "retrieving {} package{}...",
            e.num(),
            if e.num() == 1 { "" } else { "s" }
        )),
        Event::ScriptletInfo(e) => scriptlet(channel, e.line()),
        Event::OptDepRemoval(e) => optdep_removal(channel, e.pkg().name(), &e.optdep()),
        Event::DatabaseMissing(e) => database_missing(channel, e.dbname()),
        Event::PacnewCreated(e) => pacnew(channel, e.file()),
        Event::PacsaveCreated(e) => pacsave(channel, e.file()),
        _ => {}
    }
}

#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
fn event(event: AnyEvent, channel: &mut Arc<TxChannel>) {
    use super::libalpm::HookWhen;
    match event.event() {
        Event::CheckDepsStart => channel.step("checking dependencies..."),
        Event::ResolveDepsStart => channel.step("resolving dependencies..."),
        Event::InterConflictsStart => channel.step("looking for conflicting packages..."),
        Event::TransactionStart => channel.step("processing package changes..."),
        Event::RetrieveStart => channel.step("retrieving packages..."),
        Event::KeyDownloadStart => channel.step("downloading required keys..."),
        Event::HookStart(e) => channel.step(match e.when() {
            HookWhen::PreTransaction => "running pre-transaction hooks...",
            HookWhen::PostTransaction => "running post-transaction hooks...",
        }),
        Event::HookRunStart(e) => channel.send(TxEvent::Hook {
            name: e.desc().unwrap_or(e.name()).to_string(),
            position: u32::try_from(e.position()).unwrap_or(u32::MAX),
            total: u32::try_from(e.total()).unwrap_or(u32::MAX),
        }),
        Event::PkgRetrieveStart(e) => channel.step(format!(
            "retrieving {} package{}...",
            e.num(),
            if e.num() == 1 { "" } else { "s" }
        )),
        Event::ScriptletInfo(e) => scriptlet(channel, e.line()),
        Event::OptDepRemoval(e) => optdep_removal(channel, e.pkg().name(), e.optdep()),
        Event::DatabaseMissing(e) => database_missing(channel, e.dbname()),
        Event::PacnewCreated(e) => pacnew(channel, e.file()),
        Event::PacsaveCreated(e) => pacsave(channel, e.file()),
        _ => {}
    }
}

fn scriptlet(channel: &TxChannel, line: &str) {
    let line = line.trim_end();
    if !line.is_empty() {
        channel.message(Level::Info, line);
    }
}

fn optdep_removal(channel: &TxChannel, package: &str, optdep: &impl std::fmt::Display) {
    channel.message(
        Level::Warning,
        format!("{package} optionally requires {optdep}"),
    );
}

fn database_missing(channel: &TxChannel, db: &str) {
    channel.message(
        Level::Warning,
        format!("the database of repository '{db}' does not exist yet (run `omg sync`)"),
    );
}

fn pacnew(channel: &TxChannel, file: &str) {
    channel.message(Level::Warning, format!("{file} installed as {file}.pacnew"));
}

fn pacsave(channel: &TxChannel, file: &str) {
    channel.message(Level::Warning, format!("{file} saved as {file}.pacsave"));
}

fn question(question: AnyQuestion, channel: &mut Arc<TxChannel>) {
    match question.question() {
        AlpmQuestion::InstallIgnorepkg(mut q) => {
            let answer = ask_ignored(channel, q.pkg().name());
            q.set_install(answer);
        }
        AlpmQuestion::Replace(q) => {
            let answer = channel.confirm(
                format!(
                    "Replace {} with {}/{}?",
                    q.oldpkg().name(),
                    q.newdb().name(),
                    q.newpkg().name()
                ),
                true,
            );
            q.set_replace(answer);
        }
        AlpmQuestion::Conflict(mut q) => {
            let conflict = q.conflict();
            #[cfg(feature = "alpm")]
            let (new, old) = (conflict.package1(), conflict.package2());
            #[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
            let (new, old) = (conflict.package1().name(), conflict.package2().name());
            let reason = conflict.reason().to_string();
            let prompt = if reason == new || reason == old {
                format!("{new} and {old} are in conflict. Remove {old}?")
            } else {
                format!("{new} and {old} are in conflict ({reason}). Remove {old}?")
            };
            let answer = channel.confirm(prompt, false);
            q.set_remove(answer);
        }
        AlpmQuestion::Corrupted(mut q) => {
            let answer = channel.confirm(
                format!(
                    "File {} is corrupted ({}). Do you want to delete it?",
                    q.filepath(),
                    q.reason()
                ),
                true,
            );
            q.set_remove(answer);
        }
        AlpmQuestion::RemovePkgs(mut q) => {
            let names: Vec<String> = q.packages().iter().map(|p| p.name().to_string()).collect();
            let answer = channel.confirm(
                format!(
                    "These packages cannot be upgraded due to unresolvable dependencies: {}. Skip them for this upgrade?",
                    names.join(", ")
                ),
                false,
            );
            q.set_skip(answer);
        }
        AlpmQuestion::SelectProvider(mut q) => {
            let options: Vec<String> = q
                .providers()
                .iter()
                .map(|p| {
                    let repo = p.db().map(|d| d.name().to_string()).unwrap_or_default();
                    format!("{repo}/{} {}", p.name(), p.version())
                })
                .collect();
            let prompt = format!(
                "There are {} providers available for {}:",
                options.len(),
                q.depend()
            );
            let picked = match channel.ask(Question::Choose {
                prompt,
                options,
                default: 0,
            }) {
                Resolved::One(i) => i,
                _ => 0,
            };
            q.set_index(i32::try_from(picked).unwrap_or(0));
        }
        AlpmQuestion::ImportKey(mut q) => {
            #[cfg(feature = "alpm")]
            let (fingerprint, uid) = {
                let key = q.key();
                (key.fingerprint().to_string(), key.uid().to_string())
            };
            #[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
            let (fingerprint, uid) = (q.fingerprint().to_string(), q.uid().to_string());
            // Trusting a key is an authorization of its own
            // (io.github.omg.trust-key): without it the answer is no,
            // whatever the client says.
            if !channel.may_trust_keys() {
                channel.message(
                    omg::transaction::Level::Warning,
                    format!(
                        "PGP key {fingerprint} (\"{uid}\") was not imported: this caller may not trust keys (io.github.omg.trust-key)"
                    ),
                );
                q.set_import(false);
                return;
            }
            let answer = channel.confirm(format!("Import PGP key {fingerprint}, \"{uid}\"?"), true);
            q.set_import(answer);
        }
    }
}

/// The progress callback's memory: libalpm reports the same percentage
/// many times, and only changes are worth a frame.
struct ProgressState {
    channel: Arc<TxChannel>,
    last: Option<(Progress, String, i32)>,
}

impl ProgressState {
    fn new(channel: &Arc<TxChannel>) -> ProgressState {
        ProgressState {
            channel: Arc::clone(channel),
            last: None,
        }
    }
}

fn progress(
    kind: Progress,
    package: &str,
    percent: i32,
    count: usize,
    current: usize,
    state: &mut ProgressState,
) {
    let key = (kind, package.to_string(), percent);
    if state.last.as_ref() == Some(&key) {
        return;
    }
    state.last = Some(key);
    let action = match kind {
        Progress::AddStart => ProgressAction::Installing,
        Progress::UpgradeStart => ProgressAction::Upgrading,
        Progress::DowngradeStart => ProgressAction::Downgrading,
        Progress::ReinstallStart => ProgressAction::Reinstalling,
        Progress::RemoveStart => ProgressAction::Removing,
        Progress::ConflictsStart => ProgressAction::CheckingConflicts,
        Progress::DiskspaceStart => ProgressAction::CheckingSpace,
        Progress::IntegrityStart => ProgressAction::CheckingIntegrity,
        Progress::LoadStart => ProgressAction::Loading,
        Progress::KeyringStart => ProgressAction::CheckingKeys,
    };
    state.channel.send(TxEvent::Progress {
        action,
        package: package.to_string(),
        percent: u8::try_from(percent.clamp(0, 100)).unwrap_or(100),
        current: u32::try_from(current).unwrap_or(u32::MAX),
        count: u32::try_from(count).unwrap_or(u32::MAX),
    });
}

/// The download callback's memory: the last whole percentage sent per file.
struct DownloadMemory {
    channel: Arc<TxChannel>,
    last: std::collections::HashMap<String, u64>,
}

impl DownloadMemory {
    fn new(channel: &Arc<TxChannel>) -> DownloadMemory {
        DownloadMemory {
            channel: Arc::clone(channel),
            last: std::collections::HashMap::new(),
        }
    }
}

fn download(file: &str, event: AnyDownloadEvent, state: &mut DownloadMemory) {
    let size = |n: i64| u64::try_from(n).unwrap_or(0);
    let (download_state, received, total) = match event.event() {
        DownloadEvent::Init(_) => (DownloadState::Started, 0, 0),
        DownloadEvent::Progress(p) => {
            let (received, total) = (size(p.downloaded), size(p.total));
            // One frame per percent (or per 256 KiB when the size is unknown).
            let mark = (received * 100)
                .checked_div(total)
                .unwrap_or(received >> 18);
            if state.last.get(file) == Some(&mark) {
                return;
            }
            state.last.insert(file.to_string(), mark);
            (DownloadState::Progress, received, total)
        }
        DownloadEvent::Retry(_) => {
            state.channel.message(
                Level::Warning,
                format!("{file}: download failed, trying the next server"),
            );
            return;
        }
        DownloadEvent::Completed(c) => {
            state.last.remove(file);
            let done = match c.result {
                DownloadResult::Success => DownloadState::Done,
                DownloadResult::UpToDate => DownloadState::UpToDate,
                DownloadResult::Failed => DownloadState::Failed,
            };
            (done, size(c.total), size(c.total))
        }
    };
    state.channel.send(TxEvent::Download {
        file: file.to_string(),
        state: download_state,
        received,
        total,
    });
}

/// pacman's question for an ignored package named on the command line.
pub(super) fn ask_ignored(channel: &TxChannel, name: &str) -> bool {
    channel.confirm(
        format!("{name} is in IgnorePkg/IgnoreGroup. Install anyway?"),
        true,
    )
}
