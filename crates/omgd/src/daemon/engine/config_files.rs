//! The config files a transaction leaves for a merge (`.pacnew`,
//! `.dpkg-dist`, …): the root's /etc scanned before and after, each new
//! one traced to the changed package that ships its config file, and the
//! packaged file of the version before extracted from the package cache
//! (the base of `omg merge`'s three-way merge). The count of those still
//! waiting goes into the status file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Engine;
use omg::config::Paths;
use omg::merge::{self, ConfigFile};
use omg::transaction::{ChangeKind, TransactionReport};

/// /etc as it was before a transaction.
pub(super) type Before = BTreeMap<PathBuf, SystemTime>;

impl Engine {
    /// The root's /etc before a transaction that changes the system.
    pub(super) fn config_before(&self) -> Option<Before> {
        Some(merge::scan(&self.backend.as_ref()?.root))
    }

    /// What the committed transaction `report` left, traced and with
    /// the bases kept.
    pub(super) async fn config_left(
        &self,
        before: &Before,
        report: &TransactionReport,
    ) -> Vec<ConfigFile> {
        let Some(backend) = &self.backend else {
            return Vec::new();
        };
        let root = backend.root.clone();
        let appeared = merge::appeared(before, &merge::scan(&root));
        if appeared.is_empty() {
            return Vec::new();
        }
        let fingerprint = self.fingerprint().unwrap_or_default();
        // Each changed package's files, as its package manager lists them.
        let mut lists: Vec<(&omg::transaction::Change, Vec<String>)> = Vec::new();
        for change in report
            .changes
            .iter()
            .filter(|c| c.kind != ChangeKind::Remove)
        {
            if let Ok(Some(files)) = backend.files(change.name.clone(), &fingerprint).await {
                lists.push((change, files));
            }
        }
        let mut found = Vec::new();
        for path in appeared {
            let Some(target) = merge::target_of(&path) else {
                continue;
            };
            let inside = in_package(&root, &target);
            let owner = lists.iter().find(|(_, files)| {
                files
                    .iter()
                    .any(|f| *f == inside || Path::new(f) == target.as_path())
            });
            let package = owner.map(|(c, _)| c.name.clone());
            let old_version = owner.and_then(|(c, _)| c.old_version.clone());
            let base = match (&package, &old_version) {
                (Some(name), Some(old)) => self.keep_base(name, old, &inside).await,
                _ => None,
            };
            found.push(ConfigFile {
                path: path.display().to_string(),
                target: target.display().to_string(),
                package,
                old_version,
                base,
            });
        }
        found
    }

    /// Extracts `inside` of `name`'s package file at `version` (from the
    /// package cache) into this instance's cache; its path.
    async fn keep_base(&self, name: &str, version: &str, inside: &str) -> Option<String> {
        let backend = self.backend.as_ref()?;
        let fingerprint = self.fingerprint().unwrap_or_default();
        let cached = backend
            .cached_packages(vec![(name.to_string(), version.to_string())], &fingerprint)
            .await
            .ok()?
            .pop()
            .flatten()?;
        let dest = self
            .paths
            .cache_dir
            .join("merge")
            .join(format!("{name}-{}", version.replace([':', '/'], "_")))
            .join(inside.trim_start_matches('/'));
        let inside = inside.to_string();
        let extracted = {
            let dest = dest.clone();
            tokio::task::spawn_blocking(move || merge::extract_base(&cached, &inside, &dest)).await
        };
        match extracted {
            Ok(Ok(())) => Some(dest.display().to_string()),
            Ok(Err(e)) => {
                log::warn!("no base for a three-way merge: {e}");
                None
            }
            Err(_) => None,
        }
    }

    /// The config files the history recorded that still wait.
    pub(super) fn pending_merges(&self) -> Vec<ConfigFile> {
        omg::history::History::in_data_dir(&Paths::system().data_dir)
            .config_files_waiting()
            .unwrap_or_default()
    }

    /// Puts the count of config files waiting into the status file.
    pub(super) fn count_merges(&self) {
        let waiting = omg::status::saturate(self.pending_merges().len());
        self.update_status(|s| s.config_merges = waiting);
    }
}

/// `target` (on disk) as the package lists it: relative to the root.
fn in_package(root: &Path, target: &Path) -> String {
    match target.strip_prefix(root) {
        Ok(rel) => format!("/{}", rel.display()),
        Err(_) => target.display().to_string(),
    }
}
