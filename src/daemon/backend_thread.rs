//! The backend's own thread. Package-manager libraries are not thread-safe
//! (libapt-pkg's cache must stay on one thread), so one thread owns the
//! backend and the async side sends it jobs and awaits the answers.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::backend::fingerprint::Watched;
use crate::backend::{self, BackendError, IndexRead};
use crate::model::{BackendKind, PackageInfo};

enum Job {
    ReadIndex(oneshot::Sender<Result<IndexRead, BackendError>>),
    Info(
        String,
        oneshot::Sender<Result<Option<PackageInfo>, BackendError>>,
    ),
}

/// A handle to the backend thread; cheap to share.
pub struct BackendHandle {
    jobs: mpsc::Sender<Job>,
    pub kind: BackendKind,
    pub library: String,
    /// What the database's fingerprint covers (fixed for the process).
    pub watched: Vec<Watched>,
}

fn gone() -> BackendError {
    BackendError::Open("the backend thread has stopped".into())
}

impl BackendHandle {
    /// Starts the thread for `kind` and opens the backend on it.
    pub fn spawn(kind: BackendKind) -> Result<BackendHandle, BackendError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("omgd-backend".into())
            .spawn(move || {
                let mut backend = match backend::open(kind) {
                    Ok(b) => {
                        let _ = ready_tx.send(Ok((b.library(), b.watched())));
                        b
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                for job in queue {
                    // A panic in the library must not take the daemon down.
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match job {
                            Job::ReadIndex(reply) => {
                                let _ = reply.send(backend.read_index());
                            }
                            Job::Info(name, reply) => {
                                let _ = reply.send(backend.info(&name));
                            }
                        }));
                    if outcome.is_err() {
                        log::error!("the {} backend panicked; its answer is lost", kind.as_str());
                    }
                }
            })
            .map_err(|e| BackendError::Open(format!("cannot start the backend thread: {e}")))?;
        let (library, watched) = ready_rx.recv().map_err(|_| gone())??;
        Ok(BackendHandle {
            jobs,
            kind,
            library,
            watched,
        })
    }

    /// Reads every package (slow: opens the database).
    pub async fn read_index(&self) -> Result<IndexRead, BackendError> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::ReadIndex(tx)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Details of one package.
    pub async fn info(&self, name: &str) -> Result<Option<PackageInfo>, BackendError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Info(name.to_string(), tx))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}
