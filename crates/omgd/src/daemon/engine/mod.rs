//! Answering requests: the engine routes each request to the family that
//! owns it — queries (`query`), the index keeper (`index`), the AUR
//! (`aur`), transactions (`tx`), security (`security`), runtimes
//! (`runtimes`), `omg outdated` (`outdated`), the Prometheus metrics (`metrics`) — with who may ask decided
//! before (`authorize`) and package files a user names staged out of
//! their reach (`staging`). It holds what one daemon process knows: the
//! index (shared, read by any number of requests at once), the hot-result
//! cache, the store, and a handle to the backend thread.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

mod aur;
mod authorize;
mod config_files;
mod files;
mod index;
mod metrics;
mod news;
mod outdated;
mod query;
mod restarts;
mod runtimes;
mod security;
mod staging;
mod tx;

use log::warn;

use super::aur::AurService;
use super::backend_thread::BackendHandle;
use super::watch::Watch;
use crate::backend::BackendError;
use omg::auth::caller::Caller;
use omg::auth::polkit::Polkit;
use omg::config::{Config, Paths};
use omg::index::{Index, snapshot};
use omg::ipc::protocol::{ErrorKind, RequestBody, ResponseBody, SearchRequest, WireError};
use omg::model::{BackendKind, IndexSource, ListFilter};
use omg::store::Store;
use omg::transaction::TxChannel;

/// Checks the signed sources of a build (`security::pgp::verify_sources`).
pub type SignatureCheck =
    fn(&std::path::Path, &[(String, String)], &[String], &std::path::Path) -> Result<(), String>;

/// `(file, signature, keyring)` → the signer, or why not.
pub type FileCheck =
    fn(&std::path::Path, &std::path::Path, &std::path::Path) -> Result<String, String>;

/// The signature checks only `omgd` carries (the OpenPGP library): `omg`
/// and `omgd-lite` stay light, and their engines answer `NeedsBackend`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verifiers {
    /// The signed sources of an AUR build.
    pub sources: Option<SignatureCheck>,
    /// A runtime release against its publishers' keys.
    pub keyring: Option<omg::runtime::install::KeyringCheck>,
    /// `omg verify FILE --sig SIG`.
    pub file: Option<FileCheck>,
}

/// How many "did you mean" names an unknown package gets.
const SUGGESTIONS: usize = 5;

/// The index in use and where it came from.
pub struct Current {
    pub index: Index,
    pub source: IndexSource,
}

/// How this process serves (for `omg daemon status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Stdio,
    Socket { path: String, activated: bool },
}

impl From<BackendError> for WireError {
    fn from(e: BackendError) -> Self {
        WireError::new(ErrorKind::Database, e.to_string())
    }
}

/// Cache key: the database state and the request itself.
type CacheKey = (String, RequestKey);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RequestKey {
    Search(SearchRequest),
    List(ListFilter),
    Status,
}

pub struct Engine {
    paths: Paths,
    config: Config,
    kind: BackendKind,
    /// The backend; `None` in `omgd-lite`, which answers from the snapshot
    /// alone and says `NeedsBackend` for anything else.
    backend: Option<BackendHandle>,
    /// The library behind the index (from the backend or the snapshot).
    library: String,
    /// Which of the backend's databases this is (the snapshot's name,
    /// the details cache's prefix).
    snapshot_key: String,
    /// The snapshot file (none when the data directory is unusable).
    snapshot_file: Option<std::path::PathBuf>,
    watch: Watch,
    store: Option<Store>,
    store_problem: RwLock<Option<String>>,
    current: RwLock<Option<Arc<Current>>>,
    rebuilding: tokio::sync::Mutex<()>,
    cache: moka::sync::Cache<CacheKey, Arc<ResponseBody>>,
    hits: AtomicU64,
    misses: AtomicU64,
    requests: AtomicU64,
    pub connections: AtomicU32,
    started: Instant,
    /// The AUR, on Arch systems (unless config.toml turns it off).
    aur: Option<AurService>,
    verifiers: Verifiers,
    mode: Mode,
    /// Set when a client asked the daemon to stop.
    pub shutdown: tokio::sync::Notify,
    /// Signalled when this daemon rewrote the status file.
    pub status_written: tokio::sync::Notify,
    /// The system instance: callers are checked with polkit.
    system: bool,
    polkit: tokio::sync::OnceCell<Polkit>,
    /// Held while a transaction runs.
    transacting: tokio::sync::Mutex<()>,
    /// Transactions and runtime installs under way (or waiting for the
    /// one under way): the daemon does not exit while there are any.
    busy: AtomicU32,
    /// Set once the daemon is stopping: no new transaction starts.
    stopping: std::sync::atomic::AtomicBool,
    /// The dependency graph of the database state it was read in.
    graph: std::sync::Mutex<Option<(String, Arc<Vec<omg::model::GraphNode>>)>>,
}

/// Holds one count of `Engine::busy`.
struct BusyGuard<'a>(&'a AtomicU32);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Engine {
    /// An engine for the backend `kind`: with its thread (`omgd`), or
    /// without (`omgd-lite`: snapshot only).
    pub fn new(
        paths: Paths,
        config: Config,
        mode: Mode,
        kind: BackendKind,
        backend: Option<BackendHandle>,
    ) -> Engine {
        let (store, store_problem) = open_store(&paths, backend.is_some());
        let snapshot_key = snapshot::key(kind);
        let snapshot_file = store
            .as_ref()
            .map(|_| snapshot::path(&paths.data_dir, &snapshot_key));
        let stored = snapshot_file.as_deref().and_then(snapshot::meta);
        let (library, watched) = match &backend {
            Some(b) => (b.library.clone(), b.watched.clone()),
            None => stored
                .map(|m| (m.backend_version, m.watched))
                .unwrap_or_default(),
        };
        let watch = Watch::new(watched, mode != Mode::Stdio);
        // The AUR exists for Arch systems only.
        let aur = (kind == BackendKind::Alpm && config.aur.enabled)
            .then(|| AurService::new(&config.aur, &paths.data_dir))
            .and_then(|made| made.map_err(|e| warn!("the AUR is left out: {e}")).ok());
        let cache = answer_cache(config.daemon.cache_entries);
        Engine {
            paths,
            config,
            kind,
            backend,
            library,
            snapshot_key,
            snapshot_file,
            watch,
            store,
            store_problem: RwLock::new(store_problem),
            current: RwLock::new(None),
            rebuilding: tokio::sync::Mutex::new(()),
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            connections: AtomicU32::new(0),
            started: Instant::now(),
            mode,
            shutdown: tokio::sync::Notify::new(),
            status_written: tokio::sync::Notify::new(),
            system: false,
            polkit: tokio::sync::OnceCell::new(),
            transacting: tokio::sync::Mutex::new(()),
            busy: AtomicU32::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
            graph: std::sync::Mutex::new(None),
            aur,
            verifiers: Verifiers::default(),
        }
    }

    /// This engine with the signature checks `omgd` carries.
    pub fn with_verifiers(mut self, verifiers: Verifiers) -> Engine {
        self.verifiers = verifiers;
        self
    }

    /// This engine as the system instance: callers other than its owner
    /// are checked with polkit.
    pub fn as_system_instance(mut self, system: bool) -> Engine {
        self.system = system;
        self
    }

    /// The backend, or the error that sends the client to a full omgd.
    fn backend(&self) -> Result<&BackendHandle, WireError> {
        self.backend.as_ref().ok_or_else(|| {
            WireError::new(
                ErrorKind::NeedsBackend,
                "this answer needs the package database itself",
            )
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn backend_kind(&self) -> BackendKind {
        self.kind
    }

    /// Counts a transaction or runtime install as under way until the
    /// guard is dropped; refused once the daemon is stopping.
    fn busy_guard(&self) -> Result<BusyGuard<'_>, WireError> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        let guard = BusyGuard(&self.busy);
        if self.stopping.load(Ordering::SeqCst) {
            return Err(WireError::new(
                ErrorKind::Locked,
                "omgd is stopping; ask again in a moment",
            ));
        }
        Ok(guard)
    }

    /// Transactions and runtime installs under way.
    pub fn busy(&self) -> u32 {
        self.busy.load(Ordering::SeqCst)
    }

    /// From now on no transaction starts (those under way finish).
    pub fn stop_taking_transactions(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether the backend thread answers (or is busy with a transaction,
    /// which must not be interrupted), within `timeout`.
    pub async fn backend_alive(&self, timeout: std::time::Duration) -> bool {
        match &self.backend {
            Some(backend) => backend.alive(timeout).await,
            None => true,
        }
    }

    /// Whether a repository (not only the local database) has `name`.
    async fn in_repositories(&self, name: &str) -> bool {
        match self.index().await {
            Ok(current) => current
                .index
                .find(name)
                .is_some_and(|p| p.repository != "local"),
            Err(_) => false,
        }
    }

    /// Whether `omgd work refresh` is running now.
    pub fn refresh_running(&self) -> bool {
        super::refresh::refresh_running(&self.paths)
    }

    /// Whether another program holds the package manager's lock: libalpm's
    /// lock file exists, or a process holds dpkg's (fcntl) lock.
    pub fn database_locked(&self) -> bool {
        let Some(path) = self.backend.as_ref().and_then(|b| b.lock_file.as_ref()) else {
            return false;
        };
        match self.kind {
            BackendKind::Alpm => path.exists(),
            BackendKind::Apt => fcntl_locked(path),
        }
    }

    /// Answers one request. A panic inside is reported as an internal error.
    pub async fn handle(&self, body: RequestBody) -> Result<ResponseBody, WireError> {
        use futures_util::FutureExt;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let outcome = std::panic::AssertUnwindSafe(self.dispatch(body))
            .catch_unwind()
            .await;
        outcome.unwrap_or_else(|_| {
            Err(WireError::new(
                ErrorKind::Internal,
                "omgd hit an internal error answering this request",
            ))
        })
    }

    /// One line per request, each to the family that owns it.
    async fn dispatch(&self, body: RequestBody) -> Result<ResponseBody, WireError> {
        use RequestBody as R;
        match body {
            R::Search(request) => self.search_everywhere(request).await,
            R::Complete { prefix } => self.complete(&prefix).await,
            R::List { filter } => self.cached(RequestKey::List(filter)).await,
            R::Status => self.cached(RequestKey::Status).await,
            R::Info { name } => self.graded_info(&name).await,
            R::DaemonStatus => Ok(ResponseBody::Daemon(self.daemon_status())),
            R::Graph => self.graph().await,
            R::Versions { name, archive } => self.versions(name, archive).await,
            R::Owns { paths } => self.owns(paths).await,
            R::Files { name } => self.files(name).await,
            R::Provides { names, ask_aur } => self.provides(names, ask_aur).await,
            R::Reload => self.reload().await,
            R::Shutdown => self.ask_to_stop(),
            R::AurPlan { targets } => self.aur_plan(targets).await,
            R::AurUpdates => self.aur_updates().await,
            R::Outdated { refresh } => self.outdated(refresh).await,
            R::Metrics => self.metrics().await.map(ResponseBody::Metrics),
            R::Restarts => self.restarts().await.map(ResponseBody::Restarts),
            R::News { all } => self.news(all).await.map(ResponseBody::News),
            R::Restart {
                units, sensitive, ..
            } => self.restart(units, sensitive).await,
            R::RuntimeAvailable { runtime } => self.runtime_available(&runtime).await,
            R::Audit { refresh } => self.audit(refresh).await,
            R::PolicyCheck => self.policy_check().await,
            R::Osv { queries, refresh } => self.osv(&queries, refresh).await,
            R::VerifyProvenance { .. } | R::VerifyFile { .. } | R::VerifySignatures { .. } => {
                self.verify(body).await
            }
            R::Transaction(_) | R::Maintain(_) | R::RuntimeInstall(_) => Err(WireError::new(
                ErrorKind::InvalidRequest,
                "a transaction needs a connection that can carry its events",
            )),
        }
    }

    /// Carries out a request that streams (`RequestBody::streaming`):
    /// its events and questions go through `channel`.
    pub async fn stream(
        &self,
        body: RequestBody,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        match body {
            RequestBody::Transaction(request) => self.transaction(request, channel, caller).await,
            RequestBody::Maintain(request) => self.maintain(request, channel, caller).await,
            RequestBody::RuntimeInstall(install) => {
                self.runtime_install(install, channel, caller).await
            }
            other => self.handle(other).await,
        }
    }

    /// Gone idle: lets go of what the next request can have back cheaply —
    /// the index's pages (the page cache keeps them), the hot answers, the
    /// dependency graph (in the store) — and hands freed memory back.
    pub fn shrink(&self) {
        if let Some(current) = self.current() {
            current.index.release_resident();
        }
        self.cache.invalidate_all();
        if let Ok(mut graph) = self.graph.lock() {
            *graph = None;
        }
        crate::daemon::backend_thread::release_freed_memory();
        log::debug!(
            "idle: memory let go ({} KiB resident)",
            resident_memory() / 1024
        );
    }

    /// `omg daemon stop`: in-flight requests are answered first.
    fn ask_to_stop(&self) -> Result<ResponseBody, WireError> {
        self.shutdown.notify_one();
        Ok(ResponseBody::Done)
    }
}

/// The store, or why there is none (a damaged one is moved aside and a
/// new one made: the note says so).
fn open_store(paths: &Paths, warn_missing: bool) -> (Option<Store>, Option<String>) {
    let path = paths.database();
    match Store::open(&path) {
        Ok((store, recovered)) => {
            let note = recovered.map(|r| {
                let note = format!(
                    "the database {} was damaged ({}); it was moved to {} and a new one created",
                    path.display(),
                    r.reason,
                    r.moved_to.display()
                );
                warn!("{note}");
                note
            });
            (Some(store), note)
        }
        Err(e) => {
            if warn_missing {
                warn!("{e}; answering without the snapshot");
            }
            (None, Some(e.to_string()))
        }
    }
}

/// Runs `omgd ARGS` (this executable) in the background, detached; its
/// exit is reaped by a thread.
/// The hot answers. They are weighed by their size, so however many large
/// answers (`--limit 0` of a one-letter query) a caller asks for, the
/// cache holds about `entries` typical answers' worth.
fn answer_cache(entries: u64) -> moka::sync::Cache<CacheKey, Arc<ResponseBody>> {
    moka::sync::Cache::builder()
        .max_capacity(entries)
        .weigher(|_, body: &Arc<ResponseBody>| cache_weight(body))
        .build()
}

/// What an answer weighs in the cache: one entry per
/// `omg::model::CACHE_ENTRY_BYTES`.
fn cache_weight(body: &ResponseBody) -> u32 {
    let bytes = match body {
        ResponseBody::Search(results) => results.approx_bytes(),
        ResponseBody::List(list) => list
            .iter()
            .map(|p| 96 + p.name.len() + p.version.len() + p.description.len())
            .sum(),
        _ => 0,
    };
    omg::model::cache_weight(bytes)
}

pub fn spawn_worker(args: &[&str]) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let spawned = std::process::Command::new(exe)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => warn!("cannot start omgd {}: {e}", args.join(" ")),
    }
}

/// This process's resident memory in bytes (`VmRSS`), 0 if unknown.
pub fn resident_memory() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Whether some process holds a write lock (fcntl) on `path`, as dpkg and
/// apt lock theirs.
fn fcntl_locked(path: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::OpenOptions::new().read(true).open(path) else {
        return false;
    };
    // SAFETY: a zeroed flock is a valid argument; F_GETLK only fills it.
    let mut probe: libc::flock = unsafe { std::mem::zeroed() };
    probe.l_type = libc::F_WRLCK as libc::c_short;
    probe.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: the descriptor is open and `probe` lives across the call.
    let ok = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut probe) };
    ok == 0 && probe.l_type != libc::F_UNLCK as libc::c_short
}

#[cfg(test)]
mod tests {
    use super::*;
    use omg::model::{MatchKind, SearchHit, SearchResults};

    fn answer(query: &str, hits: usize) -> ResponseBody {
        let hit = SearchHit {
            name: "package".into(),
            version: "1.0-1".into(),
            repository: "main".into(),
            architecture: "amd64".into(),
            installed_version: None,
            description: "x".repeat(200),
            matched: MatchKind::Fuzzy,
            aur: None,
        };
        ResponseBody::Search(SearchResults {
            query: query.into(),
            total: hits as u32,
            hits: vec![hit; hits],
            notes: Vec::new(),
        })
    }

    #[test]
    fn large_answers_cannot_fill_the_cache_past_its_size() {
        let cache = answer_cache(1024);
        // 200 answers of 5,000 hits (~2 MB each) would be 400 MB kept.
        for i in 0..200 {
            let key = (format!("f{i}"), RequestKey::Status);
            cache.insert(key, Arc::new(answer(&format!("q{i}"), 5000)));
        }
        cache.run_pending_tasks();
        let held: usize = cache
            .iter()
            .map(|(_, body)| match &*body {
                ResponseBody::Search(r) => r.approx_bytes(),
                _ => 0,
            })
            .sum();
        assert!(
            held <= 1024 * omg::model::CACHE_ENTRY_BYTES,
            "{held} bytes kept"
        );
        // Small answers count one each.
        assert_eq!(cache_weight(&answer("vim", 10)), 1);
    }
}
