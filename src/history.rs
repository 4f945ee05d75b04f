//! The transaction history: every system transaction (`history.redb` in
//! the system's data directory) and every runtime change (a user's
//! `runtime-history.redb`) with its time, user, command line, the
//! packages before and after, and how it ended. The file is
//! opened only for the moment of a write or a read, so the daemons and
//! `omg history` share it; a writer waits briefly for another.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// id → the entry as JSON.
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("history");

/// One package's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageChange {
    pub name: String,
    /// install, upgrade, downgrade, reinstall, remove, switch.
    pub change: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The package was (or, for a removal, had been) installed as a
    /// dependency.
    #[serde(default)]
    pub as_dependency: bool,
}

/// One recorded transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: u64,
    /// Unix time it ended.
    pub time: u64,
    pub user: String,
    /// What was asked (`install vim`, `runtime-install node 20`).
    pub command: String,
    pub changes: Vec<PackageChange>,
    /// `ok`, or why it failed.
    pub result: String,
    /// Config files it left for a merge (`omg merge`).
    #[serde(default)]
    pub config_files: Vec<crate::merge::ConfigFile>,
    /// The entries one command made together (`omg upgrade --all`: the
    /// repositories, the AUR builds, the runtimes) share a group, and
    /// `omg rollback` undoes them as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Entry {
    /// Whether it changed something that can be reverted.
    pub fn reversible(&self) -> bool {
        self.result == "ok" && !self.changes.is_empty()
    }

    /// What reverting its package changes means, in its order: a removal
    /// for what it installed, the old version for what it upgraded,
    /// downgraded or removed. Reinstalls of the same version need
    /// nothing.
    pub fn revert_steps(&self) -> Vec<crate::transaction::RevertStep> {
        self.changes
            .iter()
            .filter(|c| c.change != "switch")
            .filter(|c| c.old.is_some() || c.new.is_some())
            .filter(|c| !(c.change == "reinstall" && c.old == c.new))
            .map(|c| crate::transaction::RevertStep {
                name: c.name.clone(),
                left: c.new.clone(),
                restore: c.old.clone(),
                as_dependency: c.as_dependency,
            })
            .collect()
    }
}

/// Whether `group` may name a history group: 1 to 64 letters, digits and
/// dashes (it is chosen by the client and only ever compared).
pub fn valid_group(group: &str) -> bool {
    (1..=64).contains(&group.len())
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A new group name, unique on this machine.
pub fn new_group(what: &str) -> String {
    format!("{what}-{}-{}", crate::unix_now(), std::process::id())
}

/// The reversible entries of `group`, newest first.
pub fn in_group<'e>(entries: &'e [Entry], group: &str) -> Vec<&'e Entry> {
    entries
        .iter()
        .rev()
        .filter(|e| e.group.as_deref() == Some(group) && e.reversible())
        .collect()
}

/// What reverting `entries` (newest first) means as one: each package
/// goes back to the version before the oldest of them changed it.
pub fn group_revert_steps(entries: &[&Entry]) -> Vec<crate::transaction::RevertStep> {
    let mut steps: Vec<crate::transaction::RevertStep> = Vec::new();
    for entry in entries {
        for step in entry.revert_steps() {
            match steps.iter_mut().find(|s| s.name == step.name) {
                Some(newer) => {
                    newer.restore = step.restore;
                    newer.as_dependency = step.as_dependency;
                }
                None => steps.push(step),
            }
        }
    }
    steps
}

/// The entry `id` names, or without one the newest that changed
/// something.
pub fn pick(entries: &[Entry], id: Option<u64>) -> Option<&Entry> {
    match id {
        Some(id) => entries.iter().find(|e| e.id == id),
        None => entries.iter().rev().find(|e| e.reversible()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the history {path} cannot be used: {message}")]
    Unusable { path: PathBuf, message: String },
}

/// The history of a data directory.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
}

impl History {
    /// The system's package transactions.
    pub fn in_data_dir(data_dir: &Path) -> History {
        History {
            path: data_dir.join("history.redb"),
        }
    }

    /// A user's runtime changes (a file of its own, so the two never mix
    /// even when both live in one directory).
    pub fn runtimes_in(data_dir: &Path) -> History {
        History {
            path: data_dir.join("runtime-history.redb"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, message: impl std::fmt::Display) -> HistoryError {
        HistoryError::Unusable {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    /// Retries `open` while another process holds the file (up to 5 s).
    fn retry<T>(
        &self,
        mut open: impl FnMut() -> Result<T, redb::DatabaseError>,
    ) -> Result<T, HistoryError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match open() {
                Ok(db) => return Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Records an entry (its id is the next one); returns the id.
    pub fn record(
        &self,
        user: &str,
        command: &str,
        changes: Vec<PackageChange>,
        result: &str,
    ) -> Result<u64, HistoryError> {
        self.record_full(user, command, changes, result, Vec::new(), None)
    }

    /// Records an entry with the config files it left and its group.
    pub fn record_full(
        &self,
        user: &str,
        command: &str,
        changes: Vec<PackageChange>,
        result: &str,
        config_files: Vec<crate::merge::ConfigFile>,
        group: Option<&str>,
    ) -> Result<u64, HistoryError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.fail(e))?;
        }
        let db = self.retry(|| redb::Database::create(&self.path))?;
        let tx = db.begin_write().map_err(|e| self.fail(e))?;
        let id = {
            let mut table = tx.open_table(ENTRIES).map_err(|e| self.fail(e))?;
            let id = table
                .last()
                .map_err(|e| self.fail(e))?
                .map_or(1, |(k, _)| k.value() + 1);
            let entry = Entry {
                id,
                time: crate::unix_now(),
                user: user.to_string(),
                command: command.to_string(),
                changes,
                result: result.to_string(),
                config_files,
                group: group.map(str::to_string),
            };
            let bytes = serde_json::to_vec(&entry).map_err(|e| self.fail(e))?;
            table
                .insert(id, bytes.as_slice())
                .map_err(|e| self.fail(e))?;
            id
        };
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(id)
    }

    /// The config files the recorded transactions left that still wait
    /// for `omg merge`.
    pub fn config_files_waiting(&self) -> Result<Vec<crate::merge::ConfigFile>, HistoryError> {
        let entries = self.entries()?;
        Ok(crate::merge::pending(
            entries.iter().flat_map(|e| e.config_files.iter()),
        ))
    }

    /// Every entry, oldest first (none when there is no history yet).
    pub fn entries(&self) -> Result<Vec<Entry>, HistoryError> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let db = self.retry(|| redb::ReadOnlyDatabase::open(&self.path))?;
        let tx = db.begin_read().map_err(|e| self.fail(e))?;
        let table = match tx.open_table(ENTRIES) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.fail(e)),
        };
        let mut out = Vec::new();
        for row in table.iter().map_err(|e| self.fail(e))? {
            let (_, value) = row.map_err(|e| self.fail(e))?;
            match serde_json::from_slice::<Entry>(value.value()) {
                Ok(entry) => out.push(entry),
                Err(e) => log::warn!("{}: an unreadable entry: {e}", self.path.display()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_numbered_and_read_back_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::in_data_dir(dir.path());
        assert!(history.entries().unwrap().is_empty());
        let change = PackageChange {
            name: "vim".into(),
            change: "upgrade".into(),
            old: Some("1".into()),
            new: Some("2".into()),
            as_dependency: false,
        };
        assert_eq!(
            history
                .record("root", "upgrade", vec![change.clone()], "ok")
                .unwrap(),
            1
        );
        assert_eq!(
            history
                .record("alice", "remove nano", Vec::new(), "failed: locked")
                .unwrap(),
            2
        );
        let all = history.entries().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].changes, [change]);
        assert_eq!(all[1].user, "alice");
        assert_eq!(all[1].result, "failed: locked");
    }

    /// Each step as (name, what it left, what it restores).
    fn view(steps: &[crate::transaction::RevertStep]) -> Vec<(&str, Option<&str>, Option<&str>)> {
        steps
            .iter()
            .map(|s| (s.name.as_str(), s.left.as_deref(), s.restore.as_deref()))
            .collect()
    }

    fn change(name: &str, kind: &str, old: Option<&str>, new: Option<&str>) -> PackageChange {
        PackageChange {
            name: name.into(),
            change: kind.into(),
            old: old.map(Into::into),
            new: new.map(Into::into),
            as_dependency: kind == "install",
        }
    }

    #[test]
    fn reverting_undoes_each_change_and_the_newest_change_is_picked() {
        let entry = Entry {
            id: 3,
            time: 0,
            user: "root".into(),
            command: "upgrade".into(),
            changes: vec![
                change("foo", "upgrade", Some("1-1"), Some("2-1")),
                change("libnew", "install", None, Some("1-1")),
                change("old", "remove", Some("0.9-1"), None),
                change("same", "reinstall", Some("1-1"), Some("1-1")),
            ],
            result: "ok".into(),
            config_files: Vec::new(),
            group: None,
        };
        let steps = entry.revert_steps();
        let view = view(&steps);
        assert_eq!(
            view,
            [
                ("foo", Some("2-1"), Some("1-1")),
                ("libnew", Some("1-1"), None),
                ("old", None, Some("0.9-1")),
            ]
        );
        assert!(steps[1].as_dependency);
        let failed = Entry {
            id: 4,
            result: "failed: locked".into(),
            changes: Vec::new(),
            ..entry.clone()
        };
        let entries = [entry, failed];
        assert_eq!(pick(&entries, None).map(|e| e.id), Some(3));
        assert_eq!(pick(&entries, Some(4)).map(|e| e.id), Some(4));
        assert!(pick(&entries, Some(9)).is_none());
    }

    #[test]
    fn entries_written_before_the_dependency_flag_still_read() {
        let old = r#"{"name":"vim","change":"install","old":null,"new":"9"}"#;
        let change: PackageChange = serde_json::from_str(old).unwrap();
        assert!(!change.as_dependency);
    }

    #[test]
    fn a_group_reverts_to_the_versions_before_its_oldest_entry() {
        let entry = |id, changes| Entry {
            id,
            time: id,
            user: "root".into(),
            command: "upgrade".into(),
            changes,
            result: "ok".into(),
            config_files: Vec::new(),
            group: Some("upgrade-1-2".into()),
        };
        let repos = entry(1, vec![change("foo", "upgrade", Some("1-1"), Some("2-1"))]);
        let aur = entry(
            2,
            vec![
                change("foo", "upgrade", Some("2-1"), Some("3-1")),
                change("aur-app", "upgrade", Some("1.0-1"), Some("1.1-1")),
            ],
        );
        let other = Entry {
            group: None,
            ..entry(3, vec![change("bar", "install", None, Some("1-1"))])
        };
        let all = [repos, aur, other];
        let group = in_group(&all, "upgrade-1-2");
        assert_eq!(group.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 1]);
        let steps = group_revert_steps(&group);
        let view = view(&steps);
        assert_eq!(
            view,
            [
                ("foo", Some("3-1"), Some("1-1")),
                ("aur-app", Some("1.1-1"), Some("1.0-1")),
            ]
        );
        assert!(valid_group("upgrade-1-2"));
        assert!(!valid_group("../etc") && !valid_group("") && !valid_group(&"a".repeat(65)));
    }
}
