//! Steps both backends take the same way: whether a request refreshes
//! first, what a dry run says instead, what a rollback says about
//! packages changed since and versions found nowhere, and pruning the
//! package cache.

use super::TransactionAction;
use super::{Level, TransactionReport, TransactionRequest, TxChannel, TxError};

/// Whether `request` asks to refresh the databases first.
pub fn wants_refresh(request: &TransactionRequest) -> bool {
    match request.action {
        TransactionAction::Sync { .. } | TransactionAction::Upgrade => true,
        TransactionAction::Install { .. } => request.options.refresh,
        _ => false,
    }
}

/// Whether `request` is a dry run that asked for a refresh it will not
/// get (said on `channel`): a dry run never writes the databases.
pub fn dry_run_skips_refresh(request: &TransactionRequest, channel: &TxChannel) -> bool {
    if !request.options.dry_run {
        return false;
    }
    if wants_refresh(request) {
        channel.message(
            Level::Info,
            "a dry run does not refresh the package databases: planning against them as they are",
        );
    }
    true
}

/// Warns when a package a rollback touches is no longer as the
/// transaction left it (`now` and `left`: versions, none when not
/// installed).
pub fn warn_changed_since(channel: &TxChannel, name: &str, now: Option<&str>, left: Option<&str>) {
    if now == left {
        return;
    }
    channel.message(
        Level::Warning,
        format!(
            "{name} has changed since: {} now, {} after that transaction",
            now.unwrap_or("not installed"),
            left.unwrap_or("not installed")
        ),
    );
}

/// Versions a rollback cannot find anywhere: said, then the rest goes
/// ahead only when the user accepts a partial rollback (`partial`, or
/// yes to the question; the default is no).
pub fn accept_partial(
    channel: &TxChannel,
    missing: &[String],
    partial: bool,
    nowhere: &str,
) -> Result<(), TxError> {
    if missing.is_empty() {
        return Ok(());
    }
    for version in missing {
        channel.message(
            Level::Warning,
            format!("{version} is not available: {nowhere}"),
        );
    }
    if partial || channel.confirm("Roll back the rest without them?", false) {
        return Ok(());
    }
    Err(TxError::Unavailable {
        versions: missing.to_vec(),
    })
}

/// Which cached package files to delete: per package, all but the `keep`
/// newest versions and the installed one. `files` are (path, package,
/// version, size); `installed` gives a package's installed version.
pub fn prune(
    files: &[(std::path::PathBuf, String, String, u64)],
    keep: usize,
    installed: &dyn Fn(&str) -> Option<String>,
    cmp: &dyn Fn(&str, &str) -> std::cmp::Ordering,
) -> Vec<(std::path::PathBuf, u64)> {
    let mut by_package: std::collections::BTreeMap<
        &str,
        Vec<&(std::path::PathBuf, String, String, u64)>,
    > = std::collections::BTreeMap::new();
    for f in files {
        by_package.entry(f.1.as_str()).or_default().push(f);
    }
    let mut doomed = Vec::new();
    for (name, mut versions) in by_package {
        versions.sort_by(|a, b| cmp(&b.2, &a.2));
        let current = installed(name);
        let mut distinct: Vec<&str> = Vec::new();
        for f in versions {
            let version = f.2.as_str();
            if !distinct.contains(&version) {
                distinct.push(version);
            }
            let rank = distinct.iter().position(|v| *v == version).unwrap_or(0);
            if rank >= keep && current.as_deref() != Some(version) {
                doomed.push((f.0.clone(), f.3));
            }
        }
    }
    doomed
}

/// Deletes what `prune` chose (and each file's `.sig`), reporting what
/// went; on a dry run, only reports.
pub fn delete_cached(
    doomed: Vec<(std::path::PathBuf, u64)>,
    dry_run: bool,
    channel: &TxChannel,
    report: &mut TransactionReport,
) -> Result<(), TxError> {
    if doomed.is_empty() {
        channel.message(Level::Info, "the package cache has nothing to remove");
        return Ok(());
    }
    let total: u64 = doomed.iter().map(|(_, s)| s).sum();
    report.freed = total;
    report.cleaned = doomed
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    if dry_run {
        return Ok(());
    }
    if !channel.confirm(
        format!(
            "Remove {} package file{} ({} bytes) from the cache?",
            doomed.len(),
            if doomed.len() == 1 { "" } else { "s" },
            total
        ),
        true,
    ) {
        return Err(TxError::Aborted);
    }
    for (path, _) in &doomed {
        if let Err(e) = std::fs::remove_file(path) {
            return Err(TxError::Failed(format!(
                "cannot remove {}: {e}",
                path.display()
            )));
        }
        let _ = std::fs::remove_file(format!("{}.sig", path.display()));
    }
    report.committed = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_newest_and_the_installed() {
        let file = |name: &str, version: &str| {
            (
                std::path::PathBuf::from(format!("{name}-{version}")),
                name.to_string(),
                version.to_string(),
                10,
            )
        };
        let files = vec![
            file("vim", "9.1-1"),
            file("vim", "9.0-1"),
            file("vim", "8.2-1"),
            file("vim", "9.2-1"),
            file("gone", "1.0-1"),
        ];
        let installed = |name: &str| (name == "vim").then(|| "8.2-1".to_string());
        let doomed: Vec<String> = prune(&files, 2, &installed, &crate::version::vercmp)
            .into_iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert_eq!(doomed, ["vim-9.0-1"]);
        let none: Vec<_> = prune(&files, 0, &|_| None, &crate::version::vercmp);
        assert_eq!(none.len(), 5);
    }
}
