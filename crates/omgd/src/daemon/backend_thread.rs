//! The backend's own thread. Package-manager libraries are not thread-safe
//! (libapt-pkg's cache must stay on one thread), so one thread owns the
//! backend and the async side sends it jobs and awaits the answers. Each job
//! names the database state (fingerprint) it is for; when that changes, the
//! backend drops what it holds open and reads the database afresh.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use tokio::sync::oneshot;

use crate::backend::fingerprint::Watched;
use crate::backend::{self, BackendError, IndexRead, PackageBackend};
use omg::aur::resolve::{self, Records, Resolution, ResolveError, Satisfier, System};
use omg::model::{BackendKind, PackageInfo};
use omg::transaction::{
    MaintenanceRequest, TransactionReport, TransactionRequest, TxChannel, TxError,
};

/// The system as the AUR resolver sees it, through the backend.
struct BackendSystem<'a> {
    backend: &'a mut dyn PackageBackend,
    /// The first failure to read the database.
    error: Option<BackendError>,
}

impl System for BackendSystem<'_> {
    fn repository_has(&mut self, target: &str) -> bool {
        match self.backend.repository_has(target) {
            Ok(has) => has,
            Err(e) => {
                self.error.get_or_insert(e);
                false
            }
        }
    }

    fn satisfier(&mut self, depend: &str) -> Satisfier {
        match self.backend.satisfier(depend) {
            Ok(s) => s,
            Err(e) => {
                self.error.get_or_insert(e);
                Satisfier::Nothing
            }
        }
    }
}

enum Work {
    ReadIndex(oneshot::Sender<Result<IndexRead, BackendError>>),
    Info(
        String,
        oneshot::Sender<Result<Option<PackageInfo>, BackendError>>,
    ),
    Resolve(
        Vec<String>,
        Records,
        oneshot::Sender<Result<Result<Resolution, ResolveError>, BackendError>>,
    ),
    Transact(
        TransactionRequest,
        Arc<TxChannel>,
        oneshot::Sender<Result<TransactionReport, TxError>>,
    ),
    Maintain(
        MaintenanceRequest,
        Arc<TxChannel>,
        oneshot::Sender<Result<TransactionReport, TxError>>,
    ),
    Audit(
        Arc<omg::security::vulns::VulnData>,
        oneshot::Sender<Result<Vec<omg::security::vulns::Finding>, BackendError>>,
    ),
    Graph(oneshot::Sender<Result<Vec<omg::model::GraphNode>, BackendError>>),
    Versions(
        String,
        Option<String>,
        oneshot::Sender<Result<Vec<omg::model::PackageVersion>, BackendError>>,
    ),
    Owners(
        Vec<String>,
        oneshot::Sender<Result<Vec<Vec<String>>, BackendError>>,
    ),
    Files(
        String,
        oneshot::Sender<Result<Option<Vec<String>>, BackendError>>,
    ),
    CachedPackages(
        Vec<(String, String)>,
        oneshot::Sender<Result<Vec<Option<std::path::PathBuf>>, BackendError>>,
    ),
    /// Proves the thread takes jobs (the watchdog).
    Ping(oneshot::Sender<Result<(), BackendError>>),
}

struct Job {
    fingerprint: String,
    work: Work,
}

/// A handle to the backend thread; cheap to share.
pub struct BackendHandle {
    jobs: mpsc::Sender<Job>,
    /// Set while the thread carries out a transaction.
    transacting: Arc<AtomicBool>,
    pub kind: BackendKind,
    pub library: String,
    /// What the database's fingerprint covers (fixed for the process).
    pub watched: Vec<Watched>,
    /// The package manager's lock (see `PackageBackend::lock_file`).
    pub lock_file: Option<std::path::PathBuf>,
    /// Where the packages' files are on disk.
    pub root: std::path::PathBuf,
    /// The package manager's own log (see `PackageBackend::log_file`).
    pub log_file: Option<std::path::PathBuf>,
}

fn gone() -> BackendError {
    BackendError::Open("the backend thread has stopped".into())
}

/// The fingerprint a ping carries: it leaves the open database alone.
const PING: &str = "\0ping";

/// How long the backend keeps the database open after its last job.
const KEEP_OPEN: std::time::Duration = std::time::Duration::from_secs(30);

fn work_loop(
    kind: BackendKind,
    mut backend: Box<dyn PackageBackend>,
    queue: mpsc::Receiver<Job>,
    transacting: &AtomicBool,
) {
    // The database state the backend's open handles reflect.
    let mut opened_at = String::new();
    loop {
        let job = match queue.recv_timeout(KEEP_OPEN) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Quiet for a while: a resident daemon should not sit on
                // the whole database.
                if !opened_at.is_empty() {
                    backend.forget();
                    release_freed_memory();
                    opened_at.clear();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if job.fingerprint != opened_at && job.fingerprint != PING {
            backend.forget();
            opened_at = job.fingerprint;
        }
        // A panic in the library must not take the daemon down.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match job.work {
            Work::ReadIndex(reply) => {
                let read = backend.read_index().map(|mut read| {
                    // The graph too, while the database is open.
                    read.graph = backend.installed_graph().ok();
                    read
                });
                // The whole database was read: let its memory go (the
                // index keeps what it needs) rather than hold tens of
                // megabytes for the next `info`.
                backend.forget();
                release_freed_memory();
                let _ = reply.send(read);
            }
            Work::Info(name, reply) => {
                let _ = reply.send(backend.info(&name));
            }
            Work::Resolve(targets, records, reply) => {
                let mut system = BackendSystem {
                    backend: backend.as_mut(),
                    error: None,
                };
                let planned = resolve::plan(&targets, &mut system, &records);
                let _ = reply.send(match system.error {
                    Some(e) => Err(e),
                    None => Ok(planned),
                });
            }
            Work::Audit(data, reply) => {
                let _ = reply.send(backend.audit(&data));
            }
            Work::Graph(reply) => {
                let _ = reply.send(backend.installed_graph());
            }
            Work::Versions(name, archive, reply) => {
                let _ = reply.send(backend.versions(&name, archive.as_deref()));
            }
            Work::Owners(paths, reply) => {
                let _ = reply.send(backend.owners(&paths));
            }
            Work::Files(name, reply) => {
                let _ = reply.send(backend.files(&name));
            }
            Work::CachedPackages(wanted, reply) => {
                let found = wanted
                    .iter()
                    .map(|(name, version)| backend.cached_package(name, version))
                    .collect();
                let _ = reply.send(Ok(found));
            }
            Work::Ping(reply) => {
                let _ = reply.send(Ok(()));
            }
            Work::Maintain(request, channel, reply) => {
                transacting.store(true, Ordering::SeqCst);
                let outcome = backend.maintain(&request, &channel);
                transacting.store(false, Ordering::SeqCst);
                backend.forget();
                let _ = reply.send(outcome);
            }
            Work::Transact(request, channel, reply) => {
                transacting.store(true, Ordering::SeqCst);
                let outcome = backend.transact(&request, &channel);
                transacting.store(false, Ordering::SeqCst);
                // The database has changed (or may have): read it afresh.
                backend.forget();
                release_freed_memory();
                let _ = reply.send(outcome);
            }
        }));
        if outcome.is_err() {
            transacting.store(false, Ordering::SeqCst);
            log::error!("the {} backend panicked; its answer is lost", kind.as_str());
            backend.forget();
            opened_at.clear();
        }
    }
}

/// Hands memory freed by the allocator back to the system.
pub(crate) fn release_freed_memory() {
    // SAFETY: malloc_trim only walks glibc's own allocator state.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl BackendHandle {
    /// Starts the thread for `kind` and opens the backend on it.
    pub fn spawn(kind: BackendKind) -> Result<BackendHandle, BackendError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let transacting = Arc::new(AtomicBool::new(false));
        let flag = transacting.clone();
        std::thread::Builder::new()
            .name("omgd-backend".into())
            .spawn(move || match backend::open(kind) {
                Ok(b) => {
                    let _ = ready_tx.send(Ok((
                        b.library(),
                        b.watched(),
                        b.lock_file(),
                        b.root(),
                        b.log_file(),
                    )));
                    work_loop(kind, b, queue, &flag);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| BackendError::Open(format!("cannot start the backend thread: {e}")))?;
        let (library, watched, lock_file, root, log_file) =
            ready_rx.recv().map_err(|_| gone())??;
        Ok(BackendHandle {
            jobs,
            transacting,
            kind,
            library,
            watched,
            lock_file,
            root,
            log_file,
        })
    }

    async fn run<T>(
        &self,
        fingerprint: &str,
        work: impl FnOnce(oneshot::Sender<Result<T, BackendError>>) -> Work,
    ) -> Result<T, BackendError> {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            fingerprint: fingerprint.to_string(),
            work: work(tx),
        };
        self.jobs.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Whether the thread is alive: it takes a job within `timeout`, or it
    /// is carrying out a transaction (which is never to be cut short).
    pub async fn alive(&self, timeout: std::time::Duration) -> bool {
        if self.transacting.load(Ordering::SeqCst) {
            return true;
        }
        let (tx, rx) = oneshot::channel();
        // A ping names no database state: it must not close what is open.
        let job = Job {
            fingerprint: String::from(PING),
            work: Work::Ping(tx),
        };
        if self.jobs.send(job).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(Ok(()))))
            || self.transacting.load(Ordering::SeqCst)
    }

    /// Reads every package of the database in state `fingerprint` (slow:
    /// opens the database).
    pub async fn read_index(&self, fingerprint: &str) -> Result<IndexRead, BackendError> {
        self.run(fingerprint, Work::ReadIndex).await
    }

    /// Carries out a transaction, reporting through `channel`. Queries wait
    /// until it is over.
    pub async fn transact(
        &self,
        request: TransactionRequest,
        channel: Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        self.change(|reply| Work::Transact(request, channel, reply))
            .await
    }

    /// Pins a package or cleans the package cache, reporting through
    /// `channel`.
    pub async fn maintain(
        &self,
        request: MaintenanceRequest,
        channel: Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        self.change(|reply| Work::Maintain(request, channel, reply))
            .await
    }

    /// Hands the thread work that changes the system, and waits for it.
    async fn change(
        &self,
        work: impl FnOnce(oneshot::Sender<Result<TransactionReport, TxError>>) -> Work,
    ) -> Result<TransactionReport, TxError> {
        let (tx, rx) = oneshot::channel();
        let job = Job {
            fingerprint: String::new(),
            work: work(tx),
        };
        let stopped = || TxError::Failed("the backend thread has stopped".into());
        self.jobs.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Plans an AUR install against the database in state `fingerprint`.
    pub async fn resolve(
        &self,
        targets: Vec<String>,
        records: Records,
        fingerprint: &str,
    ) -> Result<Result<Resolution, ResolveError>, BackendError> {
        self.run(fingerprint, |tx| Work::Resolve(targets, records, tx))
            .await
    }

    /// Details of one package, from the database in state `fingerprint`.
    pub async fn info(
        &self,
        name: &str,
        fingerprint: &str,
    ) -> Result<Option<PackageInfo>, BackendError> {
        self.run(fingerprint, |tx| Work::Info(name.to_string(), tx))
            .await
    }

    /// The installed packages and what each depends on, from the database
    /// in state `fingerprint`.
    pub async fn graph(
        &self,
        fingerprint: &str,
    ) -> Result<Vec<omg::model::GraphNode>, BackendError> {
        self.run(fingerprint, Work::Graph).await
    }

    /// Every version of `name` that can be installed (with `archive`, the
    /// Arch Linux Archive's too).
    pub async fn versions(
        &self,
        name: String,
        archive: Option<String>,
        fingerprint: &str,
    ) -> Result<Vec<omg::model::PackageVersion>, BackendError> {
        self.run(fingerprint, |tx| Work::Versions(name, archive, tx))
            .await
    }

    /// For each of `paths`, the installed packages whose file lists have it.
    pub async fn owners(
        &self,
        paths: Vec<String>,
        fingerprint: &str,
    ) -> Result<Vec<Vec<String>>, BackendError> {
        self.run(fingerprint, |tx| Work::Owners(paths, tx)).await
    }

    /// The files of the installed package `name` (`None`: not installed).
    pub async fn files(
        &self,
        name: String,
        fingerprint: &str,
    ) -> Result<Option<Vec<String>>, BackendError> {
        self.run(fingerprint, |tx| Work::Files(name, tx)).await
    }

    /// The package files of these (name, version) pairs in the package
    /// cache, where kept.
    pub async fn cached_packages(
        &self,
        wanted: Vec<(String, String)>,
        fingerprint: &str,
    ) -> Result<Vec<Option<std::path::PathBuf>>, BackendError> {
        self.run(fingerprint, |tx| Work::CachedPackages(wanted, tx))
            .await
    }

    /// The installed packages `data` says are affected.
    pub async fn audit(
        &self,
        data: Arc<omg::security::vulns::VulnData>,
        fingerprint: &str,
    ) -> Result<Vec<omg::security::vulns::Finding>, BackendError> {
        self.run(fingerprint, |tx| Work::Audit(data, tx)).await
    }
}
