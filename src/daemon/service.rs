//! Answering requests: keeps the backend, the store and the index of one
//! daemon process, brings the index up to date with the package database
//! (checking the fingerprint on every request), and turns each request into
//! a response.

use log::{debug, warn};

use crate::backend::{self, BackendError, PackageBackend};
use crate::config::Paths;
use crate::index::{Index, IndexMeta, flags, rank, snapshot};
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody, SearchRequest, WireError};
use crate::model::{
    IndexReport, IndexSource, InstalledPackage, ListFilter, PackageInfo, StatusReport,
};
use crate::status::{self, Status};
use crate::store::{PACKAGE_INFO, Store, StoreError};

/// How many "did you mean" names an unknown package gets.
const SUGGESTIONS: usize = 5;

struct Current {
    index: Index,
    source: IndexSource,
}

/// One daemon's state.
pub struct Service {
    paths: Paths,
    backend: Box<dyn PackageBackend>,
    store: Option<Store>,
    /// Why the store (or the snapshot in it) could not be used.
    store_problem: Option<String>,
    store_tried: bool,
    current: Option<Current>,
}

impl From<BackendError> for WireError {
    fn from(e: BackendError) -> Self {
        WireError::new(ErrorKind::Database, e.to_string())
    }
}

impl Service {
    /// A service for this machine's backend.
    pub fn new(paths: Paths) -> Result<Service, BackendError> {
        let kind = backend::detect::detect()?;
        Ok(Service::with_backend(paths, backend::open(kind)?))
    }

    pub fn with_backend(paths: Paths, backend: Box<dyn PackageBackend>) -> Service {
        Service {
            paths,
            backend,
            store: None,
            store_problem: None,
            store_tried: false,
            current: None,
        }
    }

    /// Answers one request. Never panics on bad input: a panic inside is
    /// reported as an internal error.
    pub fn handle(&mut self, body: RequestBody) -> Result<ResponseBody, WireError> {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(body)));
        outcome.unwrap_or_else(|_| {
            Err(WireError::new(
                ErrorKind::Internal,
                "omgd hit an internal error answering this request",
            ))
        })
    }

    fn dispatch(&mut self, body: RequestBody) -> Result<ResponseBody, WireError> {
        match body {
            RequestBody::Search(request) => self.search(request).map(ResponseBody::Search),
            RequestBody::Info { name } => self.info(&name).map(|i| ResponseBody::Info(Box::new(i))),
            RequestBody::List { filter } => self.list(filter).map(ResponseBody::List),
            RequestBody::Status => self.status().map(ResponseBody::Status),
        }
    }

    fn store(&mut self) -> Option<&Store> {
        if !self.store_tried {
            self.store_tried = true;
            let path = self.paths.database();
            match Store::open(&path) {
                Ok((store, recovered)) => {
                    if let Some(r) = recovered {
                        let note = format!(
                            "the database {} was damaged ({}); it was moved to {} and a new one created",
                            path.display(),
                            r.reason,
                            r.moved_to.display()
                        );
                        warn!("{note}");
                        self.store_problem = Some(note);
                    }
                    self.store = Some(store);
                }
                Err(e) => {
                    warn!("{e}; answering without the snapshot");
                    self.store_problem = Some(e.to_string());
                }
            }
        }
        self.store.as_ref()
    }

    /// The index, brought up to date with the package database.
    fn index(&mut self) -> Result<&Current, WireError> {
        let started = std::time::Instant::now();
        let fingerprint = self.backend.fingerprint()?;
        debug!("fingerprint {fingerprint} in {:.1?}", started.elapsed());
        let up_to_date = self
            .current
            .as_ref()
            .is_some_and(|c| c.index.meta.fingerprint == fingerprint);
        if !up_to_date {
            let current = self.load_or_build(fingerprint)?;
            self.publish_status(&current.index);
            self.current = Some(current);
        }
        Ok(self.current.as_ref().expect("just loaded"))
    }

    fn load_or_build(&mut self, fingerprint: String) -> Result<Current, WireError> {
        let kind = self.backend.kind();
        if let Some(store) = self.store() {
            let path = store.path().display().to_string();
            let started = std::time::Instant::now();
            match snapshot::load(store, kind, &fingerprint) {
                Ok(snapshot::Loaded::Fresh(index)) => {
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
                Ok(snapshot::Loaded::Stale) => {
                    debug!("index: no snapshot for this database state in {path}; rebuilding");
                }
                Ok(snapshot::Loaded::Damaged(why)) => {
                    warn!("the index snapshot in {path} is damaged ({why}); rebuilding it");
                }
                Err(e) => warn!("{e}; rebuilding the index"),
            }
        }

        let read = self.backend.read_index()?;
        let index = Index::from_records(
            IndexMeta {
                backend: kind,
                backend_version: self.backend.library(),
                fingerprint,
                built_at: crate::unix_now(),
                last_refresh: read.last_refresh,
            },
            read.records,
        );
        debug!(
            "index: built from the {} database ({} packages)",
            kind.as_str(),
            index.len()
        );
        if let Some(store) = self.store() {
            let saved =
                snapshot::save(store, &index).and_then(|()| store.clear_table(PACKAGE_INFO));
            if let Err(e) = saved {
                warn!("{e}; the index will be rebuilt next time");
                self.store_problem = Some(e.to_string());
            } else {
                debug!("index: saved the snapshot to {}", store.path().display());
            }
        }
        Ok(Current {
            index,
            source: IndexSource::Built,
        })
    }

    /// Writes the status file for prompts, if its contents changed.
    fn publish_status(&self, index: &Index) {
        let path = self.paths.status_file();
        let upgradable = index.iter().filter(|p| p.has(flags::UPGRADABLE)).count();
        let old = status::read(&path);
        let new = Status {
            updates: status::saturate(upgradable),
            last_refresh: index
                .meta
                .last_refresh
                .map_or(0, |t| u32::try_from(t).unwrap_or(u32::MAX)),
            ..old.unwrap_or_default()
        };
        if old != Some(new)
            && let Err(e) = status::write(&path, &new)
        {
            debug!("cannot write the status file {}: {e}", path.display());
        }
    }

    fn search(&mut self, request: SearchRequest) -> Result<crate::model::SearchResults, WireError> {
        rank::validate_query(&request.query)
            .map_err(|e| WireError::new(ErrorKind::InvalidRequest, e.to_string()))?;
        let current = self.index()?;
        let started = std::time::Instant::now();
        let results = rank::search(&current.index, &request);
        debug!(
            "search: {} matches in {:.1?}",
            results.total,
            started.elapsed()
        );
        Ok(results)
    }

    fn info(&mut self, name: &str) -> Result<PackageInfo, WireError> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!("{name:?} is not a package name"),
            ));
        }
        // Details read before for this database state need no index at all.
        let key = format!("{}/{name}", self.backend.kind().as_str());
        let fingerprint = self.backend.fingerprint()?;
        if let Some(info) = self.cached_info(&key, &fingerprint) {
            debug!("info: {name} from the store");
            return Ok(info);
        }
        let current = self.index()?;
        let index = &current.index;
        if index.find(name).is_none() {
            return Err(not_found(index, name));
        }
        let fingerprint = index.meta.fingerprint.clone();
        let info = self.backend.info(name)?.ok_or_else(|| {
            WireError::new(ErrorKind::NotFound, format!("no package named {name}"))
        })?;
        if let Some(store) = self.store() {
            let encoded =
                bincode::serde::encode_to_vec((&fingerprint, &info), bincode::config::standard());
            if let Ok(bytes) = encoded
                && let Err(e) = store.put_blob(PACKAGE_INFO, &key, &bytes)
            {
                debug!("cannot cache the details of {name}: {e}");
            }
        }
        Ok(info)
    }

    fn cached_info(&mut self, key: &str, fingerprint: &str) -> Option<PackageInfo> {
        let store = self.store()?;
        let found: Result<Option<PackageInfo>, StoreError> =
            store.with_blob(PACKAGE_INFO, key, |b| {
                let (stored_fp, info): (String, PackageInfo) =
                    bincode::serde::decode_from_slice(b?, bincode::config::standard())
                        .ok()?
                        .0;
                (stored_fp == fingerprint).then_some(info)
            });
        found.ok().flatten()
    }

    fn list(&mut self, filter: ListFilter) -> Result<Vec<InstalledPackage>, WireError> {
        let current = self.index()?;
        Ok(current
            .index
            .iter()
            .filter(|p| p.is_installed())
            .filter(|p| match filter {
                ListFilter::All => true,
                ListFilter::Explicit => !p.has(flags::AUTO),
                ListFilter::Upgradable => p.has(flags::UPGRADABLE),
                ListFilter::Orphans => p.has(flags::ORPHAN),
            })
            .map(|p| p.to_installed())
            .collect())
    }

    fn status(&mut self) -> Result<StatusReport, WireError> {
        let snapshot_path = self.store().map(|s| s.path().display().to_string());
        let problem = self.store_problem.clone();
        let backend = self.backend.kind();
        let current = self.index()?;
        let index = &current.index;
        let count = |flag: u16| index.iter().filter(|p| p.has(flag)).count() as u32;
        let installed = count(flags::INSTALLED);
        Ok(StatusReport {
            backend,
            backend_version: index.meta.backend_version.clone(),
            available: count(flags::AVAILABLE),
            installed,
            explicit: index
                .iter()
                .filter(|p| p.is_installed() && !p.has(flags::AUTO))
                .count() as u32,
            upgradable: count(flags::UPGRADABLE),
            orphans: index
                .iter()
                .filter(|p| p.is_installed() && p.has(flags::ORPHAN))
                .count() as u32,
            last_refresh: index.meta.last_refresh,
            index: IndexReport {
                source: current.source,
                packages: index.len() as u32,
                built_at: index.meta.built_at,
                fingerprint: index.meta.fingerprint.clone(),
                snapshot_path,
                snapshot_problem: problem,
            },
        })
    }
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
