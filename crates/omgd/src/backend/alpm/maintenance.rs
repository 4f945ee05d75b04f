//! Pins and cache cleaning on Arch: pacman keeps no pins of its own, so a
//! pin is pins.toml (omg's upgrades skip pinned packages as IgnorePkg
//! does); the package cache is pruned to the newest versions of each
//! package and the installed one, as `paccache -rk N`.

use std::sync::Arc;

use super::libalpm;
use super::open_handle;
use crate::backend::pacman_conf::PacmanConf;
use omg::transaction::{
    Level, Maintenance, MaintenanceRequest, TransactionReport, TxChannel, TxError,
};

/// Carries out `request` on the database `conf` describes.
pub fn run(
    conf: &PacmanConf,
    request: &MaintenanceRequest,
    channel: &Arc<TxChannel>,
) -> Result<TransactionReport, TxError> {
    let handle = open_handle(conf).map_err(|e| TxError::Failed(e.to_string()))?;
    let mut report = TransactionReport::default();
    match &request.task {
        Maintenance::CleanCache { keep } => {
            let files = super::rollback::cached_packages(conf);
            let local = handle.localdb();
            let installed = |name: &str| local.pkg(name).ok().map(|p| p.version().to_string());
            let doomed = omg::transaction::prune(&files, *keep as usize, &installed, &|a, b| {
                libalpm::vercmp(a, b)
            });
            omg::transaction::delete_cached(doomed, request.dry_run, channel, &mut report)?;
        }
        Maintenance::Pin(change) => {
            if !change.unpin && handle.localdb().pkg(change.package.as_str()).is_err() {
                channel.message(
                    Level::Warning,
                    format!(
                        "{} is not installed; the pin applies once it is",
                        change.package
                    ),
                );
            }
            if !request.dry_run {
                omg::pins::apply(change).map_err(|e| TxError::Failed(e.to_string()))?;
                report.committed = true;
            }
        }
    }
    Ok(report)
}
