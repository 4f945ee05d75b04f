//! Answering requests. The engine holds what one daemon process knows: the
//! index (shared, read by any number of requests at once), the hot-result
//! cache, the store, and a handle to the backend thread. It keeps the index
//! in step with the package database: `Watch` says when the database may
//! have changed, the fingerprint decides, and a change loads the matching
//! snapshot or rebuilds the index (once, however many requests wait).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

mod authorize;
mod outdated;
mod staging;

use log::{debug, warn};

use super::aur::AurService;
use super::backend_thread::BackendHandle;
use super::connection::Caller;
use super::watch::Watch;
use crate::auth::polkit::Polkit;
use crate::backend::BackendError;
use crate::config::{Config, Paths};
use crate::index::{Index, IndexMeta, flags, rank, snapshot};
use crate::ipc::protocol::{
    ErrorKind, RequestBody, ResponseBody, SearchRequest, Sources, WireError,
};
use crate::model::{
    BackendKind, DaemonStatus, IndexReport, IndexSource, InstalledPackage, ListFilter, PackageInfo,
    SearchResults, StatusReport, UpdateCheck,
};
use crate::status::{self, Status};
use crate::store::{AUR_CACHE, PACKAGE_INFO, RUNTIME_INDEX, Store};
use crate::transaction::{TransactionReport, TransactionRequest, TxChannel, TxError};

/// Checks the signed sources of a build (`security::pgp::verify_sources`).
pub type SignatureCheck =
    fn(&std::path::Path, &[(String, String)], &[String], &std::path::Path) -> Result<(), String>;

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

/// AUR answers kept in the store at most.
const AUR_CACHE_ENTRIES: u64 = 512;

/// After the AUR failed to answer, searches go without it this long.
const AUR_QUIET_SECS: u64 = 60;

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
    /// Where this database's snapshot is stored.
    snapshot_key: String,
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
    /// How signatures are checked (omgd only: see `verify_signatures`).
    pub signature_check: Option<SignatureCheck>,
    /// How release signatures are checked against a keyring (omgd only).
    pub keyring_check: Option<crate::runtime::install::KeyringCheck>,
    /// How `omg verify` checks a file's signature (omgd only).
    pub file_check: Option<FileCheck>,
    mode: Mode,
    /// Set when a client asked the daemon to stop.
    pub shutdown: tokio::sync::Notify,
    /// Signalled when this daemon rewrote the status file.
    pub status_written: tokio::sync::Notify,
    /// The system instance: callers are checked with polkit.
    pub system: bool,
    polkit: tokio::sync::OnceCell<Polkit>,
    /// Held while a transaction runs.
    transacting: tokio::sync::Mutex<()>,
    /// Transactions and runtime installs under way (or waiting for the
    /// one under way): the daemon does not exit while there are any.
    busy: AtomicU32,
    /// Set once the daemon is stopping: no new transaction starts.
    stopping: std::sync::atomic::AtomicBool,
    /// The dependency graph of the database state it was read in.
    graph: std::sync::Mutex<Option<(String, Arc<Vec<crate::model::GraphNode>>)>>,
}

/// How long checking files a client named may take.
const FILE_WORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

fn too_slow() -> WireError {
    WireError::new(
        ErrorKind::Internal,
        format!(
            "the check took longer than {} s and was given up",
            FILE_WORK_TIMEOUT.as_secs()
        ),
    )
}

/// Runs `work` (file and crypto work a client asked for) on a blocking
/// thread, not the async workers, giving up after `FILE_WORK_TIMEOUT`.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WireError> {
    let task = tokio::task::spawn_blocking(work);
    tokio::time::timeout(FILE_WORK_TIMEOUT, task)
        .await
        .map_err(|_| too_slow())?
        .map_err(|e| WireError::new(ErrorKind::Internal, e.to_string()))
}

/// Files a client named, each a regular file within the size limit (or,
/// where allowed, a directory), opened without following links or
/// blocking.
fn checked_files(named: &[(&std::path::Path, bool)]) -> Result<(), WireError> {
    crate::auth::client_files::check_named(named)
        .map_err(|e| WireError::new(ErrorKind::InvalidRequest, e.to_string()))
}

/// Holds one count of `Engine::busy`.
struct BusyGuard<'a>(&'a AtomicU32);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `(file, signature, keyring)` → the signer, or why not.
pub type FileCheck =
    fn(&std::path::Path, &std::path::Path, &std::path::Path) -> Result<String, String>;

/// An install target as the policy sees it.
struct TargetAssessment {
    name: String,
    /// Built outside the repositories, as AUR packages are.
    aur: bool,
    grade: crate::security::grade::Grade,
    reason: String,
    licenses: Vec<String>,
    worst: Option<crate::security::vulns::Severity>,
}

/// The polkit action a transaction needs.
pub fn action_of(request: &TransactionRequest) -> &'static str {
    use crate::transaction::TransactionAction;
    match &request.action {
        TransactionAction::Install { targets }
            if targets
                .iter()
                .any(|t| crate::auth::client_files::is_package_file(t)) =>
        {
            "io.github.omg.install-untrusted"
        }
        TransactionAction::Install { .. } => "io.github.omg.install",
        TransactionAction::Remove { .. } => "io.github.omg.remove",
        TransactionAction::Upgrade => "io.github.omg.upgrade",
        TransactionAction::Sync { .. } => "io.github.omg.refresh",
        TransactionAction::Rollback { .. } => "io.github.omg.downgrade",
        TransactionAction::Pin(_) => "io.github.omg.pin",
        TransactionAction::CleanCache { .. } => "io.github.omg.remove",
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
        let mut store_problem = None;
        let path = paths.database();
        let store = match Store::open(&path) {
            Ok((store, recovered)) => {
                if let Some(r) = recovered {
                    let note = format!(
                        "the database {} was damaged ({}); it was moved to {} and a new one created",
                        path.display(),
                        r.reason,
                        r.moved_to.display()
                    );
                    warn!("{note}");
                    store_problem = Some(note);
                }
                Some(store)
            }
            Err(e) => {
                if backend.is_some() {
                    warn!("{e}; answering without the snapshot");
                }
                store_problem = Some(e.to_string());
                None
            }
        };
        let snapshot_key = snapshot::key(kind);
        let stored = store
            .as_ref()
            .and_then(|s| snapshot::meta(s, &snapshot_key));
        let (library, watched) = match &backend {
            Some(b) => (b.library.clone(), b.watched.clone()),
            None => stored
                .map(|m| (m.backend_version, m.watched))
                .unwrap_or_default(),
        };
        let watch = Watch::new(watched, mode != Mode::Stdio);
        // The AUR exists for Arch systems only.
        let aur = (kind == BackendKind::Alpm && config.aur.enabled)
            .then(|| AurService::new(&config.aur))
            .and_then(|made| made.map_err(|e| warn!("the AUR is left out: {e}")).ok());
        let cache = moka::sync::Cache::builder()
            .max_capacity(config.daemon.cache_entries)
            .build();
        Engine {
            paths,
            config,
            kind,
            backend,
            library,
            snapshot_key,
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
            signature_check: None,
            keyring_check: None,
            file_check: None,
        }
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

    async fn dispatch(&self, body: RequestBody) -> Result<ResponseBody, WireError> {
        match body {
            RequestBody::Search(request) => {
                rank::validate_query(&request.query)
                    .map_err(|e| WireError::new(ErrorKind::InvalidRequest, e.to_string()))?;
                self.search_everywhere(request).await
            }
            RequestBody::List { filter } => self.cached(RequestKey::List(filter)).await,
            RequestBody::Status => self.cached(RequestKey::Status).await,
            RequestBody::Info { name } => self
                .info(&name)
                .await
                .map(|i| ResponseBody::Info(Box::new(self.grade(i)))),
            RequestBody::DaemonStatus => Ok(ResponseBody::Daemon(self.daemon_status())),
            RequestBody::Reload => {
                self.cache.invalidate_all();
                self.watch.touch();
                self.index().await?;
                self.count_security_updates().await;
                Ok(ResponseBody::Done)
            }
            RequestBody::Shutdown => {
                self.shutdown.notify_one();
                Ok(ResponseBody::Done)
            }
            RequestBody::AurPlan { targets } => self.aur_plan(targets).await,
            RequestBody::AurUpdates => self.aur_updates().await,
            RequestBody::Outdated { refresh } => self.outdated(refresh).await,
            RequestBody::Graph => self.graph().await,
            RequestBody::VerifySignatures {
                dir,
                pairs,
                validpgpkeys,
            } => self.verify_signatures(dir, pairs, validpgpkeys).await,
            RequestBody::RuntimeAvailable { runtime } => self.runtime_available(&runtime).await,
            RequestBody::Audit { refresh } => self.audit(refresh).await,
            RequestBody::PolicyCheck => self.policy_check().await,
            RequestBody::VerifyProvenance {
                file,
                bundle,
                identity,
                issuer,
                trusted_root,
            } => {
                use std::path::Path;
                let mut named = vec![(Path::new(&file), false), (Path::new(&bundle), false)];
                named.extend(trusted_root.as_deref().map(|r| (Path::new(r), false)));
                checked_files(&named)?;
                let verified = crate::security::provenance::verify(
                    Path::new(&file),
                    Path::new(&bundle),
                    &identity,
                    &issuer,
                    trusted_root.as_deref().map(Path::new),
                );
                tokio::time::timeout(FILE_WORK_TIMEOUT, verified)
                    .await
                    .map_err(|_| too_slow())?
                    .map(|signer| ResponseBody::Verified { signer })
                    .map_err(|m| WireError::new(ErrorKind::Verification, m))
            }
            RequestBody::Osv { queries, refresh } => {
                let config = &self.config.security;
                crate::security::osv::lookup(
                    &config.osv_url(),
                    &queries,
                    self.store.as_ref(),
                    refresh,
                    config.max_age_secs,
                )
                .await
                .map(ResponseBody::Osv)
                .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))
            }
            RequestBody::VerifyFile {
                file,
                signature,
                keyring,
            } => {
                let Some(check) = self.file_check else {
                    return Err(WireError::new(
                        ErrorKind::NeedsBackend,
                        "checking signatures needs omgd",
                    ));
                };
                use std::path::Path;
                checked_files(&[
                    (Path::new(&file), false),
                    (Path::new(&signature), false),
                    (Path::new(&keyring), true),
                ])?;
                off_the_workers(move || {
                    check(Path::new(&file), Path::new(&signature), Path::new(&keyring))
                })
                .await?
                .map(|signer| ResponseBody::Verified { signer })
                .map_err(|m| WireError::new(ErrorKind::Verification, m))
            }
            RequestBody::Transaction(_) | RequestBody::RuntimeInstall(_) => Err(WireError::new(
                ErrorKind::InvalidRequest,
                "a transaction needs a connection that can carry its events",
            )),
        }
    }

    /// Carries out a transaction, streaming its events and questions
    /// through `channel`. Changing the system needs a daemon running as
    /// root; a dry run does not.
    pub async fn transaction(
        &self,
        mut request: TransactionRequest,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _busy = self.busy_guard()?;
        let Some(backend) = &self.backend else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "transactions need the package database",
            ));
        };
        // SAFETY: geteuid has no preconditions.
        if request.changes_system() && unsafe { libc::geteuid() } != 0 {
            return Err(WireError::new(
                ErrorKind::NeedsRoot,
                "changing the system's packages needs root: this omgd runs as an ordinary user",
            ));
        }
        self.decide_key_trust(caller, request.options.interactive, &channel)
            .await;
        // dpkg's own output goes to a log of this transaction, not to the
        // client's terminal.
        request.options.log_file = (!request.options.dry_run).then(|| {
            self.paths
                .cache_dir
                .join("logs")
                .join(format!("transaction-{}.log", crate::unix_now()))
                .display()
                .to_string()
        });
        // A dry run refreshes a private copy of the lists, never the
        // system's: where, this daemon says.
        request.options.private_lists = request.options.dry_run.then(|| {
            self.paths
                .private_lists(self.kind.as_str())
                .display()
                .to_string()
        });
        // Package files another user names are copied out of their reach
        // first (and opened with their rights).
        let _staged = self.stage_package_files(&mut request, caller).await?;
        // Only for a caller allowed to roll back: what the history holds.
        self.fill_in_rollback(&mut request, &channel)?;
        let assessed = self.assess_targets(&request).await;
        // The grade of what is asked for, before the plan and the question.
        for t in &assessed {
            channel.message(
                crate::transaction::Level::Info,
                format!(
                    "security: {} is {} ({})",
                    t.name,
                    t.grade.as_str(),
                    t.reason
                ),
            );
        }
        let violations = self.policy_violations(&assessed)?;
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            if !request.options.override_policy {
                return Err(WireError::new(
                    ErrorKind::PolicyDenied,
                    format!(
                        "the policy forbids this install (--override-policy installs anyway):\n  {}",
                        list.join("\n  ")
                    ),
                ));
            }
            // Overriding the policy is an authorization of its own.
            self.authorize(
                caller,
                crate::auth::access::OVERRIDE_POLICY,
                request.options.interactive,
            )
            .await?;
            if !request.options.dry_run {
                let log = crate::audit::AuditLog::in_data_dir(&Paths::system().data_dir);
                let entry = crate::audit::Entry {
                    user: caller.user(),
                    action: "policy-override".into(),
                    subject: violations
                        .iter()
                        .map(|v| v.package.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    details: serde_json::json!({ "violations": list }),
                };
                if let Err(e) = log.append(entry) {
                    warn!("audit log: {e}");
                }
            }
            channel.message(
                crate::transaction::Level::Warning,
                format!("installing against the policy: {}", list.join("; ")),
            );
        }
        // One transaction at a time; the next waits, and says so.
        let _one_at_a_time = match self.transacting.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                channel.step("waiting for the transaction already running to finish");
                self.transacting.lock().await
            }
        };
        let logged = request.clone();
        let outcome = backend.transact(request, channel).await;
        // Whatever happened, the database may have changed.
        self.cache.invalidate_all();
        self.watch.touch();
        // Pins and cache cleaning change no package: the audit log has
        // them, the history does not.
        let packages_change = !matches!(
            logged.action,
            crate::transaction::TransactionAction::Pin(_)
                | crate::transaction::TransactionAction::CleanCache { .. }
        );
        if logged.changes_system() && !logged.options.dry_run && packages_change {
            record_history(&logged, &outcome, caller);
        }
        match outcome {
            Ok(report) => {
                if report.committed {
                    audit_transaction(&logged, &report, caller);
                }
                Ok(ResponseBody::Transaction(report))
            }
            Err(e) => Err(self.transaction_error(e).await),
        }
    }

    /// The installed packages' dependency graph, read once per database
    /// state.
    async fn graph(&self) -> Result<ResponseBody, WireError> {
        let backend = self.backend()?;
        let fingerprint = self.fingerprint()?;
        let cached = self.graph.lock().ok().and_then(|g| {
            g.as_ref()
                .filter(|(f, _)| *f == fingerprint)
                .map(|(_, n)| n.clone())
        });
        let nodes = match cached {
            Some(nodes) => nodes,
            None => {
                let nodes = Arc::new(backend.graph(&fingerprint).await?);
                if let Ok(mut slot) = self.graph.lock() {
                    *slot = Some((fingerprint, nodes.clone()));
                }
                nodes
            }
        };
        Ok(ResponseBody::Graph(nodes.as_ref().clone()))
    }

    /// A rollback names a transaction: what reverting it means comes from
    /// this omgd's own history (never from the client), and where the Arch
    /// Linux Archive is from its configuration.
    fn fill_in_rollback(
        &self,
        request: &mut TransactionRequest,
        channel: &TxChannel,
    ) -> Result<(), WireError> {
        use crate::transaction::TransactionAction;
        let TransactionAction::Rollback {
            id, steps, archive, ..
        } = &mut request.action
        else {
            return Ok(());
        };
        let history = crate::history::History::in_data_dir(&Paths::system().data_dir);
        let entries = history
            .entries()
            .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?;
        let entry = crate::history::pick(&entries, *id).ok_or_else(|| {
            let message = match id {
                Some(id) => {
                    format!("there is no transaction {id} in the history (omg history lists them)")
                }
                None => "the history has no transaction to roll back".to_string(),
            };
            WireError::new(ErrorKind::NotFound, message)
        })?;
        if !entry.reversible() {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "transaction {} changed nothing, so there is nothing to roll back (result: {})",
                    entry.id, entry.result
                ),
            ));
        }
        channel.step(format!(
            "rolling back transaction {} ({}, by {})",
            entry.id, entry.command, entry.user
        ));
        *id = Some(entry.id);
        *steps = entry.revert_steps();
        *archive = (self.kind == BackendKind::Alpm).then(|| self.config.arch.archive_url());
        Ok(())
    }

    /// The installed packages affected by known vulnerabilities, from the
    /// advisories last fetched (fetched now with `refresh`, or when there
    /// are none yet). The count goes into the status file.
    /// The audit from the advisories already stored, never fetching
    /// (what D-Bus clients get); `NotFound` when there are none.
    pub async fn stored_audit(&self) -> Result<ResponseBody, WireError> {
        let key = crate::security::scan::key(self.kind, &self.config.security);
        let stored = key.and_then(|k| crate::security::scan::load(self.store.as_ref()?, &k));
        if stored.is_none() {
            return Err(WireError::new(
                ErrorKind::NotFound,
                "no vulnerability data has been fetched yet",
            ));
        }
        self.audit_counting(false, false).await
    }

    pub async fn audit(&self, refresh: bool) -> Result<ResponseBody, WireError> {
        self.audit_counting(refresh, true).await
    }

    /// The audit; with `count`, the security updates are counted again
    /// afterwards (which itself reads the audit, without counting).
    async fn audit_counting(&self, refresh: bool, count: bool) -> Result<ResponseBody, WireError> {
        use crate::security::{scan, vulns::AuditReport};
        let backend = self.backend()?;
        let config = &self.config.security;
        let key = scan::key(self.kind, config).ok_or_else(|| {
            WireError::new(
                ErrorKind::InvalidRequest,
                scan::ScanError::NoRelease.to_string(),
            )
        })?;
        let stored = self.store.as_ref().and_then(|s| scan::load(s, &key));
        let mut note = None;
        let data = if refresh || stored.is_none() {
            match scan::fetch(self.kind, config).await {
                Ok(data) => {
                    if let Some(store) = &self.store {
                        scan::save(store, &data);
                    }
                    data
                }
                Err(e) => match stored {
                    Some(old) => {
                        note = Some(format!("{e}; using the advisories fetched before"));
                        old
                    }
                    None => return Err(WireError::new(ErrorKind::Database, e.to_string())),
                },
            }
        } else {
            stored.unwrap_or_default()
        };
        let fingerprint = self.fingerprint()?;
        let data = Arc::new(data);
        let findings = backend.audit(data.clone(), &fingerprint).await?;
        // The count prompts and widgets show.
        self.update_status(|s| s.vulnerabilities = status::saturate(findings.len()));
        // Which pending updates fix something follows from the findings.
        if count {
            self.count_security_updates().await;
        }
        // `omg status` reports the scan.
        self.cache.invalidate_all();
        let age = crate::unix_now().saturating_sub(data.fetched_at);
        Ok(ResponseBody::Audit(AuditReport {
            source: data.source.clone(),
            fetched_at: data.fetched_at,
            stale: age > config.max_age_secs,
            findings,
            note,
        }))
    }

    async fn transaction_error(&self, error: TxError) -> WireError {
        let kind = match &error {
            TxError::Locked { .. } | TxError::Busy { .. } => ErrorKind::Locked,
            TxError::NotFound { .. } | TxError::Unavailable { .. } => ErrorKind::NotFound,
            TxError::Aborted => ErrorKind::Aborted,
            TxError::NeedsRoot(_) => ErrorKind::NeedsRoot,
            TxError::Unsupported(_) => ErrorKind::Unsupported,
            TxError::Prepare { .. } | TxError::Commit { .. } | TxError::Failed(_) => {
                ErrorKind::TransactionFailed
            }
        };
        let mut wire = WireError::new(kind, error.to_string());
        if let TxError::NotFound { targets, .. } = &error
            && let Ok(current) = self.index().await
        {
            for target in targets {
                let bare = target.rsplit_once('/').map_or(target.as_str(), |(_, n)| n);
                wire.suggestions
                    .extend(rank::suggest(&current.index, bare, SUGGESTIONS));
            }
        }
        wire
    }

    /// A search of the repositories (the index) and, on Arch, the AUR at the
    /// same time; an AUR slower than its timeout leaves the repositories'
    /// results with a note.
    async fn search_everywhere(&self, request: SearchRequest) -> Result<ResponseBody, WireError> {
        let aur = match &self.aur {
            Some(aur) if request.sources != Sources::Repositories && !request.installed_only => aur,
            _ => return self.cached(RequestKey::Search(request)).await,
        };
        let local_request = SearchRequest {
            sources: Sources::All,
            ..request.clone()
        };
        let term = crate::aur::search::term(&request.query);
        let remote = async {
            let term = term.as_ref()?;
            if let Some(stored) = self.stored_aur_search(term) {
                return Some(Ok(stored));
            }
            if let Some(ago) = self.aur_recently_down() {
                return Some(Err(format!(
                    "the AUR did not answer {ago} s ago; it is asked again after {AUR_QUIET_SECS} s"
                )));
            }
            let found = aur.search(term).await;
            match &found {
                Ok(found) => self.store_aur_search(term, found),
                Err(
                    crate::aur::rpc::AurError::Unreachable { .. }
                    | crate::aur::rpc::AurError::Timeout(_),
                ) => self.mark_aur_down(),
                Err(_) => {}
            }
            Some(found.map_err(|e| e.to_string()))
        };
        let (local, remote) = tokio::join!(self.cached(RequestKey::Search(local_request)), remote);
        let ResponseBody::Search(mut local) = local? else {
            return Err(WireError::new(
                ErrorKind::Internal,
                "a search answered something else",
            ));
        };
        if request.sources == Sources::Aur {
            local.hits.clear();
            local.total = 0;
        }
        let found = match remote {
            None => {
                local
                    .notes
                    .push("the AUR searches words of two letters or more".into());
                return Ok(ResponseBody::Search(local));
            }
            Some(Err(e)) => {
                local.notes.push(format!("{e}: results without the AUR"));
                return Ok(ResponseBody::Search(local));
            }
            Some(Ok(found)) => found,
        };
        let current = self.index().await?;
        let index = &current.index;
        let installed = |name: &str| {
            index.find(name).map(|p| {
                (
                    p.repository.to_string(),
                    p.installed_version.map(str::to_string),
                )
            })
        };
        Ok(ResponseBody::Search(crate::aur::search::merge(
            local,
            &found,
            &installed,
            request.limit,
        )))
    }

    /// Seconds since the AUR last failed to answer, when that was less than
    /// `AUR_QUIET_SECS` ago: searches then go without it rather than wait
    /// for it again (an offline machine searches at full speed).
    fn aur_recently_down(&self) -> Option<u64> {
        let store = self.store.as_ref()?;
        let since = store
            .with_blob(AUR_CACHE, "down", |b| {
                b.and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_le_bytes)
            })
            .ok()
            .flatten()?;
        let ago = crate::unix_now().saturating_sub(since);
        (ago < AUR_QUIET_SECS).then_some(ago)
    }

    fn mark_aur_down(&self) {
        if let Some(store) = &self.store {
            let _ = store.put_blob(AUR_CACHE, "down", &crate::unix_now().to_le_bytes());
        }
    }

    /// An AUR search answer saved by an earlier process, if still fresh.
    fn stored_aur_search(&self, term: &str) -> Option<Arc<Vec<crate::aur::rpc::AurPackage>>> {
        self.stored_aur(&format!("search:{term}")).map(Arc::new)
    }

    fn store_aur_search(&self, term: &str, found: &[crate::aur::rpc::AurPackage]) {
        self.store_aur(&format!("search:{term}"), found);
    }

    /// AUR records saved under `key` by an earlier process, if still fresh.
    fn stored_aur(&self, key: &str) -> Option<Vec<crate::aur::rpc::AurPackage>> {
        let store = self.store.as_ref()?;
        let max_age = self.config.aur.cache_secs;
        let found = store.with_blob(AUR_CACHE, key, |blob| {
            let ((fetched, records), _): ((u64, Vec<crate::aur::rpc::AurPackage>), _) =
                bincode::serde::decode_from_slice(blob?, bincode::config::standard()).ok()?;
            (crate::unix_now().saturating_sub(fetched) < max_age).then_some(records)
        });
        found.ok().flatten()
    }

    fn store_aur(&self, key: &str, found: &[crate::aur::rpc::AurPackage]) {
        let Some(store) = &self.store else {
            return;
        };
        // Answers expire, and however many different searches a caller
        // makes, the table keeps at most AUR_CACHE_ENTRIES of them.
        let now = crate::unix_now();
        let expired_before = now.saturating_sub(self.config.aur.cache_secs);
        let time_of = |blob: &[u8]| {
            bincode::decode_from_slice::<u64, _>(blob, bincode::config::standard())
                .ok()
                .map(|(t, _)| t)
        };
        if let Ok(blob) = bincode::serde::encode_to_vec((now, found), bincode::config::standard())
            && let Err(e) = store.put_blob_bounded(
                AUR_CACHE,
                key,
                &blob,
                AUR_CACHE_ENTRIES,
                expired_before,
                time_of,
            )
        {
            debug!("the AUR answer was not saved: {e}");
        }
    }

    fn aur_or_unsupported(&self) -> Result<&AurService, WireError> {
        self.aur.as_ref().ok_or_else(|| {
            WireError::new(
                ErrorKind::Unsupported,
                "the AUR is only used on Arch systems (and not when config.toml turns it off)",
            )
        })
    }

    /// Plans an AUR install: the resolver runs on the backend thread
    /// against the database, and each round fetches the AUR records it
    /// asks for.
    async fn aur_plan(&self, targets: Vec<String>) -> Result<ResponseBody, WireError> {
        use crate::aur::resolve::{Records, Resolution, ResolveError};
        let aur = self.aur_or_unsupported()?;
        let aur_allowed = self.policy()?.aur_allowed();
        let backend = self.backend()?;
        let fingerprint = self.fingerprint()?;
        let mut records = Records::new();
        // Each round adds at least one level of the dependency tree.
        for _ in 0..64 {
            let round = backend
                .resolve(targets.clone(), records.clone(), &fingerprint)
                .await?;
            match round {
                Ok(Resolution::Done(plan)) => {
                    if let (false, Err(v)) = (plan.builds.is_empty(), &aur_allowed) {
                        return Err(WireError::new(ErrorKind::PolicyDenied, v.to_string()));
                    }
                    return Ok(ResponseBody::AurPlan(plan));
                }
                Ok(Resolution::NeedRecords(names)) => {
                    let found = aur
                        .info(&names)
                        .await
                        .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?;
                    for name in names {
                        let mut record =
                            found.iter().find(|p| p.name == name).map(|p| (**p).clone());
                        if record.is_none() {
                            // No package of that name: one that provides it.
                            record = self.aur_provider(aur, &name).await?;
                        }
                        records.insert(name, record);
                    }
                }
                Err(e @ ResolveError::NotFound(_)) => {
                    return Err(WireError::new(ErrorKind::NotFound, e.to_string()));
                }
                Err(e) => return Err(WireError::new(ErrorKind::TransactionFailed, e.to_string())),
            }
        }
        Err(WireError::new(
            ErrorKind::TransactionFailed,
            "the AUR dependency tree is deeper than 64 levels",
        ))
    }

    /// What a runtime's upstream offers (`omg list RUNTIME --available`),
    /// asked at most once an hour (kept in the store between processes).
    async fn runtime_available(&self, runtime: &str) -> Result<ResponseBody, WireError> {
        use crate::model::AvailableVersion;
        use crate::runtime::version_file::Runtime;
        const TTL: u64 = 3600;
        let Some(which) = Runtime::from_name(runtime) else {
            return Err(WireError::new(
                ErrorKind::Unsupported,
                format!("{runtime} is not a runtime omg manages"),
            ));
        };
        let key = format!("available:{}", which.as_str());
        let stored = self.store.as_ref().and_then(|store| {
            store
                .with_blob(RUNTIME_INDEX, &key, |blob| {
                    let ((fetched, list), _): ((u64, Vec<AvailableVersion>), _) =
                        bincode::serde::decode_from_slice(blob?, bincode::config::standard())
                            .ok()?;
                    (crate::unix_now().saturating_sub(fetched) < TTL).then_some(list)
                })
                .ok()
                .flatten()
        });
        if let Some(list) = stored {
            return Ok(ResponseBody::RuntimeAvailable(list));
        }
        let versions = crate::runtime::versions_dir(&self.paths);
        let installed = crate::runtime::versions::installed(&versions, which.as_str());
        let client = crate::runtime::upstream::client()
            .map_err(|e| WireError::new(ErrorKind::Internal, e))?;
        let list =
            crate::runtime::upstream::available(which, &self.config.runtimes, &installed, &client)
                .await
                .map_err(|e| WireError::new(ErrorKind::Database, format!("cannot read {e}")))?;
        if let Some(store) = &self.store
            && let Ok(blob) = bincode::serde::encode_to_vec(
                (crate::unix_now(), &list),
                bincode::config::standard(),
            )
        {
            let _ = store.put_blob(RUNTIME_INDEX, &key, &blob);
        }
        Ok(ResponseBody::RuntimeAvailable(list))
    }

    /// Installs a runtime version for this user, reporting through
    /// `channel`.
    pub async fn runtime_install(
        &self,
        install: crate::ipc::protocol::RuntimeInstallRequest,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        use crate::runtime::install::{self, Progress};
        use crate::runtime::version_file::Runtime;
        use crate::transaction::{DownloadState, TxEvent};
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _busy = self.busy_guard()?;
        // Runtimes belong to each user: the system instance installs none
        // for its callers.
        if self.system && !matches!(caller, Caller::Parent) {
            return Err(WireError::new(
                ErrorKind::NotAuthorized,
                "runtimes are installed per user: the system instance installs none (omg runs your own omgd for them)",
            ));
        }
        let Some(runtime) = Runtime::from_name(&install.runtime) else {
            return Err(WireError::new(
                ErrorKind::Unsupported,
                format!("{} is not a runtime omg manages", install.runtime),
            ));
        };
        let Some(verify) = self.keyring_check else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "installing runtimes needs omgd",
            ));
        };
        let versions = crate::runtime::versions_dir(&self.paths);
        let downloads = self.paths.cache_dir.join("downloads");
        let mut report = |p: Progress<'_>| match p {
            Progress::Step(text) => channel.step(text),
            Progress::Download {
                file,
                received,
                total,
            } => channel.send(TxEvent::Download {
                file: file.to_string(),
                state: DownloadState::Progress,
                received,
                total,
            }),
            Progress::Done { file, size } => channel.send(TxEvent::Download {
                file: file.to_string(),
                state: DownloadState::Done,
                received: size,
                total: size,
            }),
        };
        let request = install::Request {
            runtime,
            version: &install.request,
            components: &install.components,
            targets: &install.targets,
            insecure: install.insecure,
            config: &self.config.runtimes,
            verify,
            versions: &versions,
            downloads: &downloads,
        };
        // What was there before, to tell a new install from a switch.
        let existed = crate::runtime::versions::installed(&versions, runtime.as_str());
        // A version already installed that answers the request (an exact
        // version, a partial one, or an alias that resolves against what
        // is installed) is switched to without asking upstream: `omg use`
        // works offline for what is here.
        // (Not when components or targets are asked for: those may be
        // missing from what is installed.)
        let plain = install.components.is_empty() && install.targets.is_empty();
        let here = (plain && (install.make_current || install::is_exact(&install.request)))
            .then(|| {
                crate::runtime::hook::installed_match(&versions, runtime, &install.request)
                    .filter(|_| !install::moves_upstream(&install.request))
            })
            .flatten();
        let installed = match here {
            Some(path) => {
                let version = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                channel.step(format!(
                    "{} {version} is installed: no download needed",
                    runtime.as_str()
                ));
                Ok((version, path))
            }
            None => install::install(request, &mut report).await,
        };
        let (version, path) = installed.map_err(|e| {
            let kind = match e {
                install::InstallError::NoMatch { .. }
                | install::InstallError::Unavailable { .. } => ErrorKind::NotFound,
                install::InstallError::Mismatch { .. }
                | install::InstallError::NoKeys { .. }
                | install::InstallError::BadSignature { .. }
                | install::InstallError::NoChecksum { .. } => ErrorKind::Verification,
                _ => ErrorKind::Database,
            };
            WireError::new(kind, e.to_string())
        })?;
        let name = runtime.as_str();
        let log = crate::audit::AuditLog::in_data_dir(&self.paths.data_dir);
        let record = |action: &str| crate::audit::Entry {
            user: caller.user(),
            action: action.into(),
            subject: format!("{name} {version}"),
            details: serde_json::json!({ "requested": install.request, "path": path.display().to_string() }),
        };
        if let Err(e) = log.append(record("runtime-install")) {
            warn!("audit log: {e}");
        }
        let history = crate::history::History::runtimes_in(&self.paths.data_dir);
        let previous = crate::runtime::versions::current(&versions, name);
        let mut changes = Vec::new();
        if !existed.contains(&version) {
            changes.push(crate::history::PackageChange {
                name: name.to_string(),
                change: "install".into(),
                old: None,
                new: Some(version.clone()),
                as_dependency: false,
            });
        }
        if install.make_current && previous.as_deref() != Some(version.as_str()) {
            changes.push(crate::history::PackageChange {
                name: name.to_string(),
                change: "switch".into(),
                old: previous,
                new: Some(version.clone()),
                as_dependency: false,
            });
        }
        let command = format!(
            "{} {name} {}",
            if install.make_current {
                "use"
            } else {
                "install"
            },
            install.request
        );
        if !changes.is_empty()
            && let Err(e) = history.record(&caller.user(), &command, changes, "ok")
        {
            warn!("{e}");
        }
        if install.make_current {
            install::set_current(&versions, name, &version)
                .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?;
            if let Err(e) = log.append(record("runtime-switch")) {
                warn!("audit log: {e}");
            }
        }
        Ok(ResponseBody::RuntimeInstalled {
            runtime: name.into(),
            version,
            path: path.display().to_string(),
        })
    }

    /// Checks source signatures for an AUR build. Only omgd carries the
    /// OpenPGP library (omg and omgd-lite stay light): elsewhere this asks
    /// for omgd.
    async fn verify_signatures(
        &self,
        dir: String,
        pairs: Vec<(String, String)>,
        validpgpkeys: Vec<String>,
    ) -> Result<ResponseBody, WireError> {
        let Some(check) = self.signature_check else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "checking signatures needs omgd",
            ));
        };
        let base = std::path::Path::new(&dir);
        let mut named = Vec::new();
        for (data, signature) in &pairs {
            for name in [data, signature] {
                let relative = std::path::Path::new(name);
                if relative.is_absolute()
                    || relative
                        .components()
                        .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    return Err(WireError::new(
                        ErrorKind::InvalidRequest,
                        format!("{name:?} is not a file of the build directory"),
                    ));
                }
                named.push(base.join(relative));
            }
        }
        let named: Vec<(&std::path::Path, bool)> =
            named.iter().map(|p| (p.as_path(), false)).collect();
        checked_files(&named)?;
        let keys_dir = self.paths.config_dir.join("aur-keys");
        off_the_workers(move || check(std::path::Path::new(&dir), &pairs, &validpgpkeys, &keys_dir))
            .await?
            .map(|()| ResponseBody::Done)
            .map_err(|m| WireError::new(ErrorKind::Verification, m))
    }

    /// The full record of the most popular AUR package providing `name`.
    async fn aur_provider(
        &self,
        aur: &AurService,
        name: &str,
    ) -> Result<Option<crate::aur::rpc::AurPackage>, WireError> {
        let unreachable =
            |e: crate::aur::rpc::AurError| WireError::new(ErrorKind::Database, e.to_string());
        let depend = crate::version::Depend::parse(name);
        let providers = aur.providers(&depend.name).await.map_err(unreachable)?;
        let Some(short) = providers.iter().find(|p| {
            p.provides.is_empty()
                || depend.satisfied_by(&p.name, &p.version, p.provides.iter().map(String::as_str))
        }) else {
            return Ok(None);
        };
        let full = aur
            .info(std::slice::from_ref(&short.name))
            .await
            .map_err(unreachable)?;
        Ok(full.into_iter().next().map(|p| (*p).clone()).filter(|p| {
            depend.satisfied_by(&p.name, &p.version, p.provides.iter().map(String::as_str))
        }))
    }

    /// Installed packages no repository has, that the AUR has newer.
    async fn aur_updates(&self) -> Result<ResponseBody, WireError> {
        let aur = self.aur_or_unsupported()?;
        let current = self.index().await?;
        let index = &current.index;
        let foreign: Vec<(String, String)> = index
            .names()
            .filter_map(|name| index.find(name))
            .filter(|p| p.repository == "local")
            .filter_map(|p| Some((p.name.to_string(), p.installed_version?.to_string())))
            .collect();
        let names: Vec<String> = foreign.iter().map(|(n, _)| n.clone()).collect();
        let found = aur
            .info(&names)
            .await
            .map_err(|e| WireError::new(ErrorKind::Database, e.to_string()))?;
        let mut updates = Vec::new();
        for (name, installed) in foreign {
            if let Some(record) = found.iter().find(|p| p.name == name)
                && crate::version::vercmp(&record.version, &installed)
                    == std::cmp::Ordering::Greater
            {
                updates.push(crate::model::AurUpdate {
                    name,
                    installed_version: installed,
                    aur_version: record.version.clone(),
                });
            }
        }
        Ok(ResponseBody::AurUpdates(updates))
    }

    /// `omg info` of a package the repositories do not have: the AUR's.
    async fn aur_info(&self, name: &str) -> Option<Result<PackageInfo, WireError>> {
        let aur = self.aur.as_ref()?;
        let key = format!("info:{name}");
        let record = match self.stored_aur(&key) {
            Some(stored) => stored.into_iter().next()?,
            None => match aur.info(&[name.to_string()]).await {
                Ok(found) => {
                    let found: Vec<_> = found.into_iter().map(|p| (*p).clone()).collect();
                    self.store_aur(&key, &found);
                    found.into_iter().next()?
                }
                Err(e) => {
                    return Some(Err(WireError::new(
                        ErrorKind::Database,
                        format!("the AUR could not be asked: {e}"),
                    )));
                }
            },
        };
        let installed = match self.index().await {
            Ok(current) => current.index.find(name).map(|p| {
                (
                    p.repository.to_string(),
                    p.installed_version.map(str::to_string),
                )
            }),
            Err(_) => None,
        };
        Some(Ok(crate::aur::search::info(&record, installed)))
    }

    /// Answers a query from the hot cache, computing it on a miss.
    async fn cached(&self, key: RequestKey) -> Result<ResponseBody, WireError> {
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

    fn search(&self, current: &Current, request: &SearchRequest) -> SearchResults {
        let started = Instant::now();
        let results = rank::search(&current.index, request);
        debug!(
            "search: {} matches in {:.1?}",
            results.total,
            started.elapsed()
        );
        results
    }

    fn current(&self) -> Option<Arc<Current>> {
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
    fn unchanged(&self) -> Option<Arc<Current>> {
        self.current().filter(|_| !self.watch.maybe_changed())
    }

    fn fingerprint(&self) -> Result<String, WireError> {
        let started = Instant::now();
        let fingerprint = self.watch.fingerprint()?;
        debug!("fingerprint {fingerprint} in {:.1?}", started.elapsed());
        Ok(fingerprint)
    }

    /// The index for the database state `fingerprint`: the one in use, the
    /// snapshot, or a rebuild.
    async fn index_at(&self, fingerprint: String) -> Result<Arc<Current>, WireError> {
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

    fn note_problem(&self, problem: String) {
        *self
            .store_problem
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(problem);
    }

    async fn load_or_build(&self, fingerprint: String) -> Result<Current, WireError> {
        let kind = self.kind;
        if let Some(store) = &self.store {
            let path = store.path().display().to_string();
            let started = Instant::now();
            match snapshot::load(store, &self.snapshot_key, &fingerprint) {
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

        let backend = self.backend()?;
        let read = backend.read_index(&fingerprint).await?;
        let index = Index::from_records(
            IndexMeta {
                backend: kind,
                backend_version: self.library.clone(),
                fingerprint,
                built_at: crate::unix_now(),
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
        if let Some(store) = &self.store {
            let saved = snapshot::save(store, &self.snapshot_key, &index)
                .and_then(|()| store.clear_table(PACKAGE_INFO));
            match saved {
                Ok(()) => debug!("index: saved the snapshot to {}", store.path().display()),
                Err(e) => {
                    warn!("{e}; the index will be rebuilt next time");
                    self.note_problem(e.to_string());
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
    fn publish_status(&self, index: &Index) {
        let private = self
            .store
            .as_ref()
            .and_then(|s| super::refresh::stored(s, self.kind.as_str()))
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

    /// Sets `info`'s security grade from its signature, origin and the
    /// vulnerability data last fetched.
    fn grade(&self, info: PackageInfo) -> PackageInfo {
        self.assess(info).0
    }

    /// `info` with its grade, and the advisories affecting its version.
    fn assess(
        &self,
        mut info: PackageInfo,
    ) -> (PackageInfo, Vec<crate::security::vulns::Advisory>) {
        use crate::security::{grade, scan, vulns};
        let data = scan::key(self.kind, &self.config.security)
            .and_then(|key| scan::load(self.store.as_ref()?, &key));
        let affecting = match &data {
            Some(data) => {
                // Debian's advisories name source packages and versions.
                let (name, version) = match self.kind {
                    BackendKind::Apt => (
                        info.source.clone().unwrap_or_else(|| info.name.clone()),
                        info.version.clone(),
                    ),
                    BackendKind::Alpm => (info.name.clone(), info.version.clone()),
                };
                let cmp = |a: &str, b: &str| match self.kind {
                    BackendKind::Apt => crate::version::debian_vercmp(a, b),
                    BackendKind::Alpm => crate::version::vercmp(a, b),
                };
                let bare = name.split_whitespace().next().unwrap_or(&name).to_string();
                vulns::affecting(data, &bare, &version, &cmp)
            }
            None => Vec::new(),
        };
        let (grade, reason) = grade::grade(&grade::Facts {
            signed: info.signed,
            aur: info.aur.is_some(),
            provenance: false,
            affecting: &affecting,
        });
        info.grade = Some(grade);
        info.grade_reason = Some(reason);
        (info, affecting)
    }

    /// The policies in force: the system's and this instance's.
    fn policy(&self) -> Result<crate::security::policy::Policy, WireError> {
        crate::security::policy::Policy::load(
            &Paths::system().config_dir.join("policy.toml"),
            &self.paths.config_dir.join("policy.toml"),
        )
        .map_err(|e| WireError::new(ErrorKind::PolicyDenied, e.to_string()))
    }

    /// The grade of each install target of `request`: (name, grade, why,
    /// licences, the worst vulnerability affecting it). Package files are
    /// COMMUNITY; unknown names are the transaction's to report.
    async fn assess_targets(&self, request: &TransactionRequest) -> Vec<TargetAssessment> {
        use crate::security::grade::Grade;
        use crate::transaction::TransactionAction;
        let TransactionAction::Install { targets } = &request.action else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for target in targets {
            if crate::auth::client_files::is_package_file(target) {
                let name = std::path::Path::new(target)
                    .file_name()
                    .map_or(target.clone(), |n| n.to_string_lossy().into_owned());
                // An Arch package file of a name no repository carries was
                // built from the AUR (or like it): the policy's allow_aur
                // applies, as it does to installed foreign packages.
                let aur = self.kind == BackendKind::Alpm
                    && match crate::auth::client_files::arch_package_name(&name) {
                        Some(package) => !self.in_repositories(package).await,
                        None => true,
                    };
                out.push(TargetAssessment {
                    name,
                    aur,
                    grade: Grade::Community,
                    reason: "a package file: no repository vouches for it".into(),
                    licenses: Vec::new(),
                    worst: None,
                });
                continue;
            }
            let Ok(info) = self.info(target).await else {
                continue;
            };
            let (info, affecting) = self.assess(info);
            out.push(TargetAssessment {
                aur: info.aur.is_some(),
                name: info.name.clone(),
                grade: info.grade.unwrap_or(Grade::Community),
                reason: info.grade_reason.clone().unwrap_or_default(),
                licenses: info.licenses.clone(),
                worst: affecting.iter().map(|a| a.severity).max(),
            });
        }
        out
    }

    /// The rules the assessed install targets break.
    fn policy_violations(
        &self,
        assessed: &[TargetAssessment],
    ) -> Result<Vec<crate::security::policy::Violation>, WireError> {
        use crate::security::policy::Candidate;
        let policy = self.policy()?;
        Ok(assessed
            .iter()
            .flat_map(|t| {
                policy.check(&Candidate {
                    name: &t.name,
                    grade: t.grade,
                    aur: t.aur,
                    licenses: &t.licenses,
                    worst: t.worst,
                })
            })
            .collect())
    }

    /// `omg policy check`: installed packages against the policies, from
    /// the index and the vulnerability data last fetched. Installed
    /// packages no repository offers count as COMMUNITY, affected ones as
    /// RISK, the rest as VERIFIED (a repository authenticated them).
    async fn policy_check(&self) -> Result<ResponseBody, WireError> {
        use crate::security::grade::Grade;
        use crate::security::policy::Candidate;
        let policy = self.policy()?;
        let current = self.index().await?;
        let findings = match self.audit_counting(false, false).await {
            Ok(ResponseBody::Audit(report)) => report.findings,
            _ => Vec::new(),
        };
        let mut violations = Vec::new();
        for record in current.index.iter().filter(|p| p.is_installed()) {
            let name = record.name;
            let finding = findings.iter().find(|f| f.name == name);
            let foreign = record.repository == "local" || record.repository == "aur";
            let grade = match (finding, foreign) {
                (Some(_), _) => Grade::Risk,
                (None, true) => Grade::Community,
                (None, false) => Grade::Verified,
            };
            violations.extend(policy.check(&Candidate {
                name,
                grade,
                aur: foreign && self.kind == BackendKind::Alpm,
                licenses: &[],
                worst: finding.map(|f| f.severity),
            }));
        }
        Ok(ResponseBody::PolicyCheck(violations))
    }

    async fn info(&self, name: &str) -> Result<PackageInfo, WireError> {
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
        if let Some(store) = &self.store {
            let encoded =
                bincode::serde::encode_to_vec((fingerprint, &info), bincode::config::standard());
            if let Ok(bytes) = encoded
                && let Err(e) = store.put_blob(PACKAGE_INFO, &key, &bytes)
            {
                debug!("cannot cache the details of {name}: {e}");
            }
        }
        Ok(info)
    }

    fn cached_info(&self, key: &str, fingerprint: &str) -> Option<PackageInfo> {
        let store = self.store.as_ref()?;
        let found = store.with_blob(PACKAGE_INFO, key, |b| {
            let (stored_fp, info): (String, PackageInfo) =
                bincode::serde::decode_from_slice(b?, bincode::config::standard())
                    .ok()?
                    .0;
            (stored_fp == fingerprint).then_some(info)
        });
        found.ok().flatten()
    }

    fn status(&self, current: &Current) -> StatusReport {
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
                .and_then(|s| super::refresh::stored(s, self.kind.as_str()))
                .map(|r| UpdateCheck {
                    checked_at: r.time,
                    updates: r.updates,
                    last_success: r.last_success,
                    error: r.error,
                }),
            vulnerabilities: crate::security::scan::key(self.kind, &self.config.security)
                .and_then(|key| crate::security::scan::load(self.store.as_ref()?, &key))
                .map(|data| crate::model::VulnerabilityCheck {
                    affected: status::read(&self.paths.status_file())
                        .map_or(0, |s| u32::from(s.vulnerabilities)),
                    source: data.source,
                    fetched_at: data.fetched_at,
                }),
            index: IndexReport {
                source: current.source,
                packages: index.len() as u32,
                built_at: index.meta.built_at,
                fingerprint: index.meta.fingerprint.clone(),
                snapshot_path: self.store.as_ref().map(|s| s.path().display().to_string()),
                snapshot_problem: self
                    .store_problem
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            },
        }
    }

    fn daemon_status(&self) -> DaemonStatus {
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
}

fn list(index: &Index, filter: ListFilter) -> Vec<InstalledPackage> {
    index
        .iter()
        .filter(|p| p.is_installed())
        .filter(|p| match filter {
            ListFilter::All => true,
            ListFilter::Explicit => !p.has(flags::AUTO),
            ListFilter::Upgradable => p.has(flags::UPGRADABLE),
            ListFilter::Orphans => p.has(flags::ORPHAN),
        })
        .map(|p| p.to_installed())
        .collect()
}

/// Runs `omgd ARGS` (this executable) in the background, detached; its
/// exit is reaped by a thread.
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

/// Appends a committed transaction to the system's audit log.
fn audit_transaction(request: &TransactionRequest, report: &TransactionReport, caller: &Caller) {
    use crate::transaction::TransactionAction;
    let (action, subject) = match &request.action {
        TransactionAction::Install { targets } => ("install", targets.join(" ")),
        TransactionAction::Remove { targets } => ("remove", targets.join(" ")),
        TransactionAction::Upgrade => ("upgrade", "*".to_string()),
        TransactionAction::Sync { .. } => ("sync", "*".to_string()),
        TransactionAction::Rollback { id, .. } => {
            ("rollback", id.map(|i| i.to_string()).unwrap_or_default())
        }
        TransactionAction::Pin(p) if p.unpin => ("unpin", p.package.clone()),
        TransactionAction::Pin(p) => ("pin", p.package.clone()),
        TransactionAction::CleanCache { keep } => ("clean-cache", format!("keep {keep}")),
    };
    let changes: Vec<serde_json::Value> = report
        .changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "change": c.kind.as_str(),
                "old": c.old_version,
                "new": c.new_version,
            })
        })
        .collect();
    let entry = crate::audit::Entry {
        user: caller.user(),
        action: action.into(),
        subject,
        details: serde_json::json!({ "changes": changes }),
    };
    let log = crate::audit::AuditLog::in_data_dir(&Paths::system().data_dir);
    if let Err(e) = log.append(entry) {
        warn!("audit log: {e}");
    }
}

/// What a transaction asked for, as a command line.
fn command_of(request: &TransactionRequest) -> String {
    use crate::transaction::TransactionAction;
    match &request.action {
        TransactionAction::Install { targets } => format!("install {}", targets.join(" ")),
        TransactionAction::Remove { targets } => format!("remove {}", targets.join(" ")),
        TransactionAction::Upgrade => "upgrade".into(),
        TransactionAction::Sync { .. } => "sync".into(),
        TransactionAction::Rollback { id, .. } => {
            format!("rollback {}", id.map(|i| i.to_string()).unwrap_or_default())
        }
        TransactionAction::Pin(p) if p.unpin => format!("pin --unpin {}", p.package),
        TransactionAction::Pin(p) => format!("pin {}", p.package),
        TransactionAction::CleanCache { keep } => format!("clean --cache --keep {keep}"),
    }
}

/// Records a transaction that changed something, or failed, in the
/// system's history.
fn record_history(
    request: &TransactionRequest,
    outcome: &Result<TransactionReport, TxError>,
    caller: &Caller,
) {
    let (changes, result) = match outcome {
        Ok(report) if report.committed => (
            report
                .changes
                .iter()
                .map(|c| crate::history::PackageChange {
                    name: c.name.clone(),
                    change: c.kind.as_str().into(),
                    old: c.old_version.clone(),
                    new: c.new_version.clone(),
                    as_dependency: c.as_dependency,
                })
                .collect(),
            "ok".to_string(),
        ),
        // Nothing was done (nothing to do, a refresh only).
        Ok(_) => return,
        Err(TxError::Aborted) => return,
        Err(e) => (Vec::new(), format!("failed: {e}")),
    };
    let history = crate::history::History::in_data_dir(&Paths::system().data_dir);
    if let Err(e) = history.record(&caller.user(), &command_of(request), changes, &result) {
        warn!("{e}");
    }
}
