//! The index keeper: finds out whether the package database changed
//! (`Watch` and the fingerprint), loads the matching snapshot or rebuilds
//! the index once however many requests wait, saves the snapshot, and
//! publishes the counts prompts read into the status file.

use std::sync::Arc;
use std::time::Instant;

use log::{debug, warn};

use super::{Current, Engine, Mode, spawn_worker};
use omg::index::{Index, IndexMeta, flags, snapshot};
use omg::ipc::protocol::{ResponseBody, WireError};
use omg::model::IndexSource;
use omg::status::{self, Status};
use omg::store::{PACKAGE_INFO, RETIRED_SNAPSHOT_HEADERS, RETIRED_SNAPSHOTS};

impl Engine {
    /// Forgets cached answers and checks the package database again
    /// (sent by `omgd work refresh` and package-manager hooks).
    pub(super) async fn reload(&self) -> Result<ResponseBody, WireError> {
        self.cache.invalidate_all();
        self.watch.touch();
        self.index().await?;
        self.count_security_updates().await;
        self.count_merges();
        Ok(ResponseBody::Done)
    }

    pub(super) fn current(&self) -> Option<Arc<Current>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The index, brought up to date with the package database.
    pub async fn index(&self) -> Result<Arc<Current>, WireError> {
        match self.unchanged() {
            Some(current) => Ok(current),
            None => self.index_at(self.fingerprint()?).await,
        }
    }

    /// The index in use, if nothing has happened to the database since it
    /// was last found to match.
    pub(super) fn unchanged(&self) -> Option<Arc<Current>> {
        self.current().filter(|_| !self.watch.maybe_changed())
    }

    pub(super) fn fingerprint(&self) -> Result<String, WireError> {
        let started = Instant::now();
        let fingerprint = self.watch.fingerprint()?;
        debug!("fingerprint {fingerprint} in {:.1?}", started.elapsed());
        Ok(fingerprint)
    }

    /// The index for the database state `fingerprint`: the one in use, the
    /// snapshot, or a rebuild.
    pub(super) async fn index_at(&self, fingerprint: String) -> Result<Arc<Current>, WireError> {
        if let Some(current) = self.current()
            && current.index.meta.fingerprint == fingerprint
        {
            self.watch.settled();
            return Ok(current);
        }
        let _only_one = self.rebuilding.lock().await;
        // Another request may have caught up while this one waited.
        if let Some(current) = self.current()
            && current.index.meta.fingerprint == fingerprint
        {
            return Ok(current);
        }
        let current = Arc::new(self.load_or_build(fingerprint).await?);
        self.publish_status(&current.index);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(current.clone());
        self.cache.invalidate_all();
        self.watch.settled();
        Ok(current)
    }

    pub(super) fn note_problem(&self, problem: String) {
        *self
            .store_problem
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(problem);
    }

    pub(super) async fn load_or_build(&self, fingerprint: String) -> Result<Current, WireError> {
        let kind = self.kind;
        if let Some(file) = &self.snapshot_file {
            let path = file.display().to_string();
            let started = Instant::now();
            // Mapped: the daemon's index is the file's pages, which it
            // lets go when idle.
            match snapshot::map(file, |meta| meta.fingerprint == fingerprint) {
                snapshot::Loaded::Fresh(index) => {
                    debug!(
                        "index: loaded the snapshot from {path} ({} packages) in {:.1?}",
                        index.len(),
                        started.elapsed()
                    );
                    return Ok(Current {
                        index,
                        source: IndexSource::Snapshot,
                    });
                }
                snapshot::Loaded::Stale => {
                    debug!("index: no snapshot for this database state in {path}; rebuilding");
                }
                snapshot::Loaded::Damaged(why) => {
                    warn!("the index snapshot {path} is damaged ({why}); rebuilding it");
                }
            }
        }

        let backend = self.backend()?;
        let read = backend.read_index(&fingerprint).await?;
        if let Some(graph) = &read.graph {
            self.keep_graph(&fingerprint, graph);
        }
        let index = Index::from_records(
            IndexMeta {
                backend: kind,
                backend_version: self.library.clone(),
                fingerprint,
                built_at: omg::unix_now(),
                last_refresh: read.last_refresh,
                watched: backend.watched.clone(),
            },
            read.records,
        );
        debug!(
            "index: built from the {} database ({} packages)",
            kind.as_str(),
            index.len()
        );
        if let (Some(store), Some(file)) = (&self.store, &self.snapshot_file) {
            let saved = snapshot::save(file, &index)
                .map_err(|e| format!("cannot save the index snapshot {}: {e}", file.display()))
                .and_then(|()| {
                    // Details read for the last state, and where snapshots
                    // were kept before they had a file of their own.
                    [PACKAGE_INFO, RETIRED_SNAPSHOTS, RETIRED_SNAPSHOT_HEADERS]
                        .into_iter()
                        .try_for_each(|table| store.clear_table(table))
                        .map_err(|e| e.to_string())
                });
            match saved {
                Ok(()) => {
                    debug!("index: saved the snapshot to {}", file.display());
                    // The file's pages instead of this process's copy.
                    let fingerprint = index.meta.fingerprint.clone();
                    if let snapshot::Loaded::Fresh(mapped) =
                        snapshot::map(file, |meta| meta.fingerprint == fingerprint)
                    {
                        drop(index);
                        crate::daemon::backend_thread::release_freed_memory();
                        return Ok(Current {
                            index: mapped,
                            source: IndexSource::Built,
                        });
                    }
                }
                Err(e) => {
                    warn!("{e}; the index will be rebuilt next time");
                    self.note_problem(e);
                }
            }
        }
        Ok(Current {
            index,
            source: IndexSource::Built,
        })
    }

    /// Writes the status file for prompts, if its contents changed. When a
    /// private refresh (`omgd work refresh`) is newer than the system's
    /// lists, its count wins, and a socket daemon has it recounted for the
    /// packages installed now.
    pub(super) fn publish_status(&self, index: &Index) {
        self.note_reboot(&[]);
        self.count_merges();
        let private = self
            .store
            .as_ref()
            .and_then(|s| crate::daemon::refresh::stored(s, self.kind.as_str()))
            .filter(|r| {
                r.last_success
                    .is_some_and(|t| t >= index.meta.last_refresh.unwrap_or(0))
            });
        if private.is_some() {
            if self.mode != Mode::Stdio {
                spawn_worker(&["work", "refresh", "--offline"]);
            }
            return;
        }
        let upgradable = index.iter().filter(|p| p.has(flags::UPGRADABLE)).count();
        let last_refresh = index
            .meta
            .last_refresh
            .map_or(0, |t| u32::try_from(t).unwrap_or(u32::MAX));
        self.update_status(|s| {
            s.updates = status::saturate(upgradable);
            s.last_refresh = last_refresh;
        });
    }

    /// Changes the status file prompts read (under its lock, so no other
    /// writer's change is lost), telling D-Bus listeners when it changed.
    pub(super) fn update_status(&self, change: impl FnOnce(&mut Status)) {
        let path = self.paths.status_file();
        match status::update(&path, change) {
            Ok(Some(_)) => self.status_written.notify_one(),
            Ok(None) => {}
            Err(e) => debug!("cannot write the status file {}: {e}", path.display()),
        }
    }
}
