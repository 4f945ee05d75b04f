//! Pins and cache cleaning on Debian: a dpkg hold (and pins.toml) for a
//! pin, apt's archive cache pruned to the newest versions of each package
//! and the installed one.

use std::sync::Arc;

use rust_apt::Cache;

use super::transaction::failed;
use omg::transaction::{Maintenance, MaintenanceRequest, TransactionReport, TxChannel, TxError};

/// Carries out `request` on this machine's apt system.
pub fn run(
    request: &MaintenanceRequest,
    channel: &Arc<TxChannel>,
) -> Result<TransactionReport, TxError> {
    let config = rust_apt::config::Config::new();
    let mut report = TransactionReport::default();
    match &request.task {
        Maintenance::CleanCache { keep } => {
            let cache =
                Cache::new::<&str>(&[]).map_err(|e| failed("cannot read the package lists", &e))?;
            let files = super::rollback::cached_debs(&config);
            let installed = |name: &str| {
                cache
                    .get(name)
                    .and_then(|p| p.installed())
                    .map(|v| v.version().to_string())
            };
            let doomed = omg::transaction::prune(
                &files,
                *keep as usize,
                &installed,
                &omg::version::debian_vercmp,
            );
            omg::transaction::delete_cached(doomed, request.dry_run, channel, &mut report)?;
        }
        Maintenance::Pin(change) => {
            super::pins::pin(&config, change, request.dry_run, channel)?;
            report.committed = !request.dry_run;
        }
    }
    Ok(report)
}
