//! The query family: search, info, list, status, the daemon's own status
//! and the dependency graph, answered from the index (and the hot cache)
//! and, for details the index does not keep, the backend.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use log::debug;

use super::{Current, Engine, Mode, RequestKey, SUGGESTIONS, resident_memory};
use omg::index::{Index, flags, rank};
use omg::ipc::protocol::{ErrorKind, ResponseBody, SearchRequest, WireError};
use omg::model::{
    DaemonStatus, IndexReport, InstalledPackage, ListFilter, PackageInfo, SearchResults,
    StatusReport, UpdateCheck,
};
use omg::status;
use omg::store::{Cache, GRAPH, PACKAGE_INFO};

impl Engine {
    /// Every version of `name` that can be installed, and where it is.
    pub(super) async fn versions(
        &self,
        name: String,
        archive: bool,
    ) -> Result<ResponseBody, WireError> {
        if name.is_empty()
            || name
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '/')
        {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!("{name:?} is not a package name"),
            ));
        }
        let archive = (archive && self.kind == omg::model::BackendKind::Alpm)
            .then(|| self.config.arch.archive_url());
        let fingerprint = self.fingerprint()?;
        let found = self
            .backend()?
            .versions(name, archive, &fingerprint)
            .await?;
        Ok(ResponseBody::Versions(found))
    }

    /// `omg info NAME`: the details, with the security grade.
    pub(super) async fn graded_info(&self, name: &str) -> Result<ResponseBody, WireError> {
        let info = self.info(name).await?;
        Ok(ResponseBody::Info(Box::new(self.grade(info))))
    }

    /// Answers a query from the hot cache, computing it on a miss.
    pub(super) async fn cached(&self, key: RequestKey) -> Result<ResponseBody, WireError> {
        let current = self.index().await?;
        let cache_key = (current.index.meta.fingerprint.clone(), key);
        if let Some(hit) = self.cache.get(&cache_key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok((*hit).clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let body = match &cache_key.1 {
            RequestKey::Search(request) => ResponseBody::Search(self.search(&current, request)),
            RequestKey::List(filter) => ResponseBody::List(list(&current.index, *filter)),
            RequestKey::Status => ResponseBody::Status(self.status(&current)),
        };
        self.cache.insert(cache_key, Arc::new(body.clone()));
        Ok(body)
    }

    /// `omg __complete PREFIX`: the names with the prefix, from the index
    /// and, on Arch, the AUR's index when there is one.
    pub(super) async fn complete(&self, prefix: &str) -> Result<ResponseBody, WireError> {
        let prefix = rank::validate_query(prefix).map_err(WireError::from)?;
        let current = self.index().await?;
        // A checked index is in name order: the answer is always there.
        let names = rank::complete(&current.index, prefix).unwrap_or_default();
        let aur = self
            .aur
            .as_ref()
            .and_then(|aur| aur.complete_offline(prefix));
        Ok(ResponseBody::Names(match aur {
            Some(aur) => rank::merge_completions(names, aur),
            None => names,
        }))
    }

    pub(super) fn search(&self, current: &Current, request: &SearchRequest) -> SearchResults {
        let started = Instant::now();
        let results = rank::search(&current.index, request);
        debug!(
            "search: {} matches in {:.1?}",
            results.total,
            started.elapsed()
        );
        results
    }

    pub(super) async fn info(&self, name: &str) -> Result<PackageInfo, WireError> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!("{name:?} is not a package name"),
            ));
        }
        // Details read before for this database state need no index at all:
        // look them up before loading one.
        let key = format!("{}/{name}", self.snapshot_key);
        let current = match self.unchanged() {
            Some(current) => current,
            None => {
                let fingerprint = self.fingerprint()?;
                if let Some(info) = self.cached_info(&key, &fingerprint) {
                    debug!("info: {name} from the store");
                    return Ok(info);
                }
                self.index_at(fingerprint).await?
            }
        };
        let index = &current.index;
        let fingerprint = &index.meta.fingerprint;
        if let Some(info) = self.cached_info(&key, fingerprint) {
            debug!("info: {name} from the store");
            return Ok(info);
        }
        // `repo/name` (pacman's way of naming one repository's package).
        let bare = name.rsplit_once('/').map_or(name, |(_, n)| n);
        if index.find(bare).is_none() || name.starts_with("aur/") {
            return match self.aur_info(bare).await {
                Some(Ok(info)) => Ok(info),
                Some(Err(e)) => {
                    let mut error = not_found(index, bare);
                    error.message = format!("{} ({})", error.message, e.message);
                    Err(error)
                }
                None => Err(not_found(index, bare)),
            };
        }
        let info = self
            .backend()?
            .info(name, fingerprint)
            .await?
            .ok_or_else(|| {
                WireError::new(ErrorKind::NotFound, format!("no package named {name}"))
            })?;
        self.info_cache().put_tagged(&key, fingerprint, &info);
        Ok(info)
    }

    /// Details of single packages, each for the database state
    /// (fingerprint) it was read in.
    fn info_cache(&self) -> Cache<'_> {
        Cache::new(self.store.as_ref(), PACKAGE_INFO)
    }

    pub(super) fn cached_info(&self, key: &str, fingerprint: &str) -> Option<PackageInfo> {
        self.info_cache().tagged(key, fingerprint)
    }

    pub(super) fn status(&self, current: &Current) -> StatusReport {
        let index = &current.index;
        let count = |flag: u16| index.iter().filter(|p| p.has(flag)).count() as u32;
        StatusReport {
            backend: self.kind,
            backend_version: index.meta.backend_version.clone(),
            available: count(flags::AVAILABLE),
            installed: count(flags::INSTALLED),
            explicit: index
                .iter()
                .filter(|p| p.is_installed() && !p.has(flags::AUTO))
                .count() as u32,
            upgradable: count(flags::UPGRADABLE),
            orphans: count(flags::ORPHAN),
            last_refresh: index.meta.last_refresh,
            update_check: self
                .store
                .as_ref()
                .and_then(|s| crate::daemon::refresh::stored(s, self.kind.as_str()))
                .map(|r| UpdateCheck {
                    checked_at: r.time,
                    updates: r.updates,
                    last_success: r.last_success,
                    error: r.error,
                }),
            vulnerabilities: omg::security::scan::key(self.kind, &self.config.security)
                .and_then(|key| omg::security::scan::load(self.store.as_ref()?, &key))
                .map(|data| omg::model::VulnerabilityCheck {
                    affected: status::read(&self.paths.status_file())
                        .map_or(0, |s| u32::from(s.vulnerabilities)),
                    source: data.source,
                    fetched_at: data.fetched_at,
                }),
            reboot_required: self.reboot_required(),
            config_merges: self.pending_merges().len() as u32,
            index: IndexReport {
                source: current.source,
                packages: index.len() as u32,
                built_at: index.meta.built_at,
                fingerprint: index.meta.fingerprint.clone(),
                snapshot_path: self.snapshot_file.as_ref().map(|f| f.display().to_string()),
                snapshot_problem: self
                    .store_problem
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            },
        }
    }

    pub(super) fn daemon_status(&self) -> DaemonStatus {
        self.cache.run_pending_tasks();
        let (mode, socket) = match &self.mode {
            Mode::Stdio => ("stdio".to_string(), None),
            Mode::Socket { path, activated } => (
                if *activated {
                    "socket-activated"
                } else {
                    "socket"
                }
                .to_string(),
                Some(path.clone()),
            ),
        };
        let activated = matches!(
            self.mode,
            Mode::Socket {
                activated: true,
                ..
            }
        );
        DaemonStatus {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            mode,
            socket,
            uptime_secs: self.started.elapsed().as_secs(),
            packages: self.current().map_or(0, |c| c.index.len() as u32),
            requests: self.requests.load(Ordering::Relaxed),
            open_connections: self.connections.load(Ordering::Relaxed),
            cache_entries: self.cache.entry_count(),
            cache_hits: self.hits.load(Ordering::Relaxed),
            cache_misses: self.misses.load(Ordering::Relaxed),
            memory_bytes: resident_memory(),
            idle_timeout_secs: if activated {
                self.config.daemon.idle_timeout
            } else {
                0
            },
        }
    }

    /// The installed packages' dependency graph, read once per database
    /// state.
    pub(super) async fn graph(&self) -> Result<ResponseBody, WireError> {
        let fingerprint = self.fingerprint()?;
        let cached = self.graph.lock().ok().and_then(|g| {
            g.as_ref()
                .filter(|(f, _)| *f == fingerprint)
                .map(|(_, n)| n.clone())
        });
        let nodes = match cached {
            Some(nodes) => nodes,
            None => {
                // Read with the index (no need to open the database), else
                // from the database, and kept for the next daemon.
                let stored = Cache::new(self.store.as_ref(), GRAPH)
                    .tagged::<Vec<omg::model::GraphNode>>(&self.snapshot_key, &fingerprint);
                let nodes = match stored {
                    Some(nodes) => nodes,
                    None => {
                        let nodes = self.backend()?.graph(&fingerprint).await?;
                        self.keep_graph(&fingerprint, &nodes);
                        nodes
                    }
                };
                let nodes = Arc::new(nodes);
                if let Ok(mut slot) = self.graph.lock() {
                    *slot = Some((fingerprint, nodes.clone()));
                }
                nodes
            }
        };
        Ok(ResponseBody::Graph(nodes.as_ref().clone()))
    }

    /// Keeps the dependency graph read at `fingerprint` in the store.
    pub(super) fn keep_graph(&self, fingerprint: &str, nodes: &[omg::model::GraphNode]) {
        Cache::new(self.store.as_ref(), GRAPH).put_tagged(&self.snapshot_key, fingerprint, &nodes);
    }
}

fn list(index: &Index, filter: ListFilter) -> Vec<InstalledPackage> {
    index
        .iter()
        .filter(|p| p.is_installed())
        .filter(|p| match filter {
            ListFilter::All => true,
            ListFilter::Explicit => !p.has(flags::AUTO),
            ListFilter::Dependencies => p.has(flags::AUTO),
            ListFilter::Upgradable => p.has(flags::UPGRADABLE),
            ListFilter::Orphans => p.has(flags::ORPHAN),
        })
        .map(|p| p.to_installed())
        .collect()
}

/// The error for a name the index does not have: virtual packages name
/// their providers, anything else gets "did you mean" suggestions.
fn not_found(index: &Index, name: &str) -> WireError {
    let providers: Vec<String> = index
        .providers(name)
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    if !providers.is_empty() {
        let mut e = WireError::new(
            ErrorKind::NotFound,
            format!(
                "{name} is a virtual package, provided by: {}",
                providers.join(", ")
            ),
        );
        e.suggestions = providers;
        return e;
    }
    let mut e = WireError::new(ErrorKind::NotFound, format!("no package named {name}"));
    e.suggestions = rank::suggest(index, name, SUGGESTIONS);
    e
}
