//! libapt-pkg's progress callbacks as transaction events: downloads
//! (`Fetch`, which also notes which lists an update changed) and dpkg's
//! run (`Dpkg`, counting packages).

use std::sync::Arc;

use rust_apt::progress::{DynAcquireProgress, DynInstallProgress};
use rust_apt::raw::{AcqTextStatus, ItemDesc, PkgAcquire};

use omg::transaction::{DatabaseRefresh, DownloadState, Level, ProgressAction, TxChannel, TxEvent};

/// Downloads as transaction events (and, during an update, which lists
/// changed).
pub(super) struct Fetch {
    pub(super) channel: Arc<TxChannel>,
    pub(super) lists: Option<Arc<std::sync::Mutex<Vec<DatabaseRefresh>>>>,
}

impl Fetch {
    pub(super) fn new(channel: Arc<TxChannel>) -> Fetch {
        Fetch {
            channel,
            lists: None,
        }
    }

    fn download(&self, item: &ItemDesc, state: DownloadState) {
        let size = item.owner().file_size();
        self.channel.send(TxEvent::Download {
            file: item.short_desc(),
            state,
            received: if state == DownloadState::Done {
                size
            } else {
                0
            },
            total: size,
        });
    }

    fn list(&self, item: &ItemDesc, updated: bool) {
        if let Some(lists) = &self.lists
            && let Ok(mut lists) = lists.lock()
        {
            lists.push(DatabaseRefresh {
                name: item.description(),
                updated,
            });
        }
    }
}

impl DynAcquireProgress for Fetch {
    fn pulse_interval(&self) -> usize {
        500_000
    }

    fn hit(&mut self, item: &ItemDesc) {
        self.list(item, false);
        self.download(item, DownloadState::UpToDate);
    }

    fn fetch(&mut self, item: &ItemDesc) {
        self.download(item, DownloadState::Started);
    }

    fn fail(&mut self, item: &ItemDesc) {
        let owner = item.owner();
        let error = owner.error_text();
        // An unchanged list "fails" with nothing to say: it is a hit.
        if error.is_empty() {
            self.list(item, false);
            return;
        }
        self.download(item, DownloadState::Failed);
        self.channel
            .message(Level::Error, format!("{}: {error}", item.description()));
    }

    fn pulse(&mut self, _status: &AcqTextStatus, owner: &PkgAcquire) {
        for worker in owner.workers().iter() {
            let Ok(item) = worker.item() else { continue };
            self.channel.send(TxEvent::Download {
                file: item.short_desc(),
                state: DownloadState::Progress,
                received: worker.current_size(),
                total: worker.total_size(),
            });
        }
    }

    fn done(&mut self, item: &ItemDesc) {
        self.list(item, true);
        self.download(item, DownloadState::Done);
    }

    fn start(&mut self) {}

    fn stop(&mut self, _status: &AcqTextStatus) {}
}

/// dpkg's progress (apt's status pipe: a step count over the whole run
/// and the package each step is about) as transaction events counting
/// packages: the n-th package of the plan's `count`, with the run's
/// percentage.
pub(super) struct Dpkg {
    pub(super) channel: Arc<TxChannel>,
    count: u32,
    seen: Vec<String>,
}

impl Dpkg {
    pub(super) fn new(channel: &Arc<TxChannel>, count: usize) -> Dpkg {
        Dpkg {
            channel: channel.clone(),
            count: u32::try_from(count).unwrap_or(u32::MAX),
            seen: Vec::new(),
        }
    }
}

impl DynInstallProgress for Dpkg {
    fn status_changed(&mut self, package: String, done: u64, total: u64, action: String) {
        let lower = action.to_lowercase();
        let kind = if lower.contains("remov") || lower.contains("purg") {
            ProgressAction::Removing
        } else if lower.contains("upgrad") {
            ProgressAction::Upgrading
        } else {
            ProgressAction::Installing
        };
        let name = package.split(':').next().unwrap_or(&package).to_string();
        let position = match self.seen.iter().position(|p| *p == name) {
            Some(i) => i + 1,
            None => {
                self.seen.push(name.clone());
                self.seen.len()
            }
        };
        let count = self.count.max(self.seen.len() as u32);
        let percent = (done * 100).checked_div(total).unwrap_or(0).min(100) as u8;
        self.channel.send(TxEvent::Progress {
            action: kind,
            package: name,
            percent,
            current: position as u32,
            count,
        });
    }

    fn error(&mut self, package: String, _done: u64, _total: u64, error: String) {
        self.channel
            .message(Level::Error, format!("{package}: {error}"));
    }
}
