//! The daemon's side of the Prometheus metrics: gathers what `omg
//! outdated`, the last scan, the status file and `[metrics] lock` say
//! into `omg::metrics::Facts`, for `omg status --prometheus` and for the
//! workers that write `omg.prom`. Nothing is fetched.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Engine;
use omg::ipc::protocol::{ResponseBody, WireError};
use omg::metrics::{self, Facts, LockDrift};
use omg::outdated::Source;

impl Engine {
    /// The metrics text.
    pub async fn metrics(&self) -> Result<String, WireError> {
        let ResponseBody::Outdated(report) = self.outdated(false).await? else {
            return Err(WireError::new(
                omg::ipc::protocol::ErrorKind::Internal,
                "the report of pending updates was not made",
            ));
        };
        let audit = match self.stored_audit().await {
            Ok(ResponseBody::Audit(audit)) => Some(audit),
            _ => None,
        };
        let current = self.index().await?;
        let architectures: BTreeMap<String, String> = report
            .rows
            .iter()
            .filter(|r| r.source == Source::Repository)
            .filter_map(|r| {
                let p = current.index.find(&r.name)?;
                Some((r.name.clone(), p.architecture.to_string()))
            })
            .collect();
        // The counts `omg status` reports: orphans, the last refresh, the
        // reboot flag, the config files waiting.
        let status = self.status(&current);
        let check = status.update_check.as_ref();
        let private_success = check.and_then(|c| c.last_success);
        let drift = match self.config.metrics.lock.clone() {
            Some(lock) => Some(self.lock_drift(lock).await),
            None => None,
        };
        Ok(metrics::render(&Facts {
            backend: self.kind,
            report: &report,
            audit: audit.as_ref(),
            architectures: &architectures,
            orphans: status.orphans,
            last_refresh: private_success.or(status.last_refresh),
            from_private_lists: private_success.is_some(),
            refresh_failed: check.is_some_and(|c| c.error.is_some()),
            reboot_required: status.reboot_required,
            config_merges: status.config_merges,
            drift,
        }))
    }

    /// Whether an update waits for a reboot: the status file's flag (an
    /// update this daemon made), or the machine's own state.
    pub(super) fn reboot_required(&self) -> bool {
        omg::status::read(&self.paths.status_file())
            .is_some_and(|s| s.has(omg::status::FLAG_REBOOT_NEEDED))
            || omg::reboot::machine_reason().is_some()
    }

    /// Puts into the status file whether a reboot is needed: an update of
    /// the kernel, init or microcode made in this boot (`changed`: the
    /// packages a transaction just changed), or the machine's state.
    pub(super) fn note_reboot(&self, changed: &[String]) {
        let marker = omg::reboot::Marker::in_dir(&self.paths.runtime_dir);
        let needing: Vec<String> = changed
            .iter()
            .filter(|n| omg::reboot::needs_reboot(n))
            .cloned()
            .collect();
        if !needing.is_empty()
            && let Err(e) = marker.record(&needing)
        {
            log::warn!(
                "cannot record that {} needs a reboot: {e}",
                needing.join(", ")
            );
        }
        let needed = !needing.is_empty()
            || marker.read().is_some()
            || omg::reboot::machine_reason().is_some();
        self.update_status(|s| {
            if needed {
                s.flags |= omg::status::FLAG_REBOOT_NEEDED;
            } else {
                s.flags &= !omg::status::FLAG_REBOOT_NEEDED;
            }
        });
    }

    /// The machine against `lock`, as `omg env check` compares them.
    async fn lock_drift(&self, lock: PathBuf) -> LockDrift {
        let outcome = match omg::envlock::Lock::read(&lock) {
            Err(e) => Err(e.to_string()),
            Ok(locked) => match self.graph().await {
                Ok(ResponseBody::Graph(nodes)) => {
                    let project = omg::envlock::machine::project_of(&lock);
                    let now = omg::envlock::machine::machine(
                        self.kind.as_str(),
                        nodes,
                        &self.paths,
                        &project,
                    );
                    Ok(omg::envlock::compare(&locked, &now))
                }
                Ok(_) => Err("the installed packages could not be listed".into()),
                Err(e) => Err(e.message),
            },
        };
        LockDrift { lock, outcome }
    }

    /// Writes `omg.prom` where `[metrics] textfile_dir` (or its default)
    /// says; a worker's failure to write is logged, never fatal.
    pub async fn write_metrics(&self) {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let Some(dir) = metrics::textfile_dir(self.config.metrics.textfile_dir.as_deref(), root)
        else {
            return;
        };
        match self.metrics().await {
            Ok(text) => match metrics::write(&dir, &text) {
                Ok(path) => log::info!("metrics written to {}", path.display()),
                Err(e) => log::warn!("cannot write the metrics into {}: {e}", dir.display()),
            },
            Err(e) => log::warn!("no metrics: {}", e.message),
        }
    }
}
