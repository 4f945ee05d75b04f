//! Debian transactions through libapt-pkg's own machinery (rust-apt):
//! refreshing the lists, marking what the request asks for, apt's
//! resolver, the plan and its confirmation, fetching the archives with
//! progress and running dpkg with progress. The decisions are apt's; this
//! module translates between them and omg's transaction events.

use std::sync::Arc;

use rust_apt::Cache;
use rust_apt::cache::Upgrade;
use rust_apt::error::AptErrors;
use rust_apt::progress::{AcquireProgress, InstallProgress};

use super::marks::{mark_install, mark_remove, unmet};
use super::progress::{Dpkg, Fetch};

use omg::transaction::{
    Change, ChangeKind, DatabaseRefresh, Level, NewsMode, Plan, TransactionAction,
    TransactionReport, TransactionRequest, TxChannel, TxError, TxEvent,
};

/// Runs `request` on this machine's apt system.
pub fn run(
    request: &TransactionRequest,
    channel: &Arc<TxChannel>,
) -> Result<TransactionReport, TxError> {
    // dpkg must never stop to ask (debconf, conffiles): the defaults,
    // keeping the administrator's changed files.
    // SAFETY: the backend thread is the only one touching the environment
    // while a transaction runs.
    unsafe { std::env::set_var("DEBIAN_FRONTEND", "noninteractive") };
    let config = rust_apt::config::Config::new();
    for option in ["--force-confdef", "--force-confold"] {
        if !config
            .find_vector("DPkg::Options")
            .iter()
            .any(|o| o == option)
        {
            config.set("DPkg::Options::", option);
        }
    }

    let options = &request.options;
    let mut report = TransactionReport::default();
    if !options.dry_run {
        finish_interrupted_dpkg(&config, channel)?;
    }
    let refresh = match &request.action {
        TransactionAction::Sync { .. } | TransactionAction::Upgrade => true,
        TransactionAction::Install { .. } => options.refresh,
        TransactionAction::Remove { .. }
        | TransactionAction::Rollback { .. }
        | TransactionAction::Downgrade { .. } => false,
    };
    // A dry run writes nothing of the system's, the lists included: it
    // refreshes omg's private copy and plans against that.
    let _private = match (&options.private_lists, options.dry_run && refresh) {
        (Some(lists), true) => {
            channel.message(
                omg::transaction::Level::Info,
                format!(
                    "a dry run does not touch the system's package lists: refreshing omg's private copy in {lists} and planning against it"
                ),
            );
            let private = PrivateLists::open(std::path::Path::new(lists), &config)?;
            channel.step("updating the package lists (private copy)");
            report.databases = update(channel)?;
            Some(private)
        }
        _ => None,
    };
    let refresh = refresh && !options.dry_run;
    if refresh {
        channel.step("updating the package lists");
        report.databases = update(channel)?;
    }
    if let TransactionAction::Sync { .. } = request.action {
        return Ok(report);
    }

    channel.step("reading the package lists");
    let local_debs: Vec<String> = match &request.action {
        TransactionAction::Install { targets } => targets
            .iter()
            .filter(|t| t.ends_with(".deb"))
            .cloned()
            .collect(),
        // The versions no source lists any more, from apt's archive cache.
        TransactionAction::Rollback { steps, .. } => {
            let cache =
                Cache::new::<&str>(&[]).map_err(|e| failed("cannot read the package lists", &e))?;
            super::rollback::archive_files(&cache, &config, steps)
        }
        _ => Vec::new(),
    };
    let cache = Cache::new(&local_debs).map_err(|e| failed("cannot read the package lists", &e))?;

    channel.step("resolving dependencies");
    let mut marks_changed = false;
    match &request.action {
        TransactionAction::Install { targets } => {
            marks_changed = mark_install(&cache, targets, request, channel)?;
        }
        TransactionAction::Remove { targets } => mark_remove(&cache, targets, request, channel)?,
        TransactionAction::Upgrade => {
            cache
                .upgrade(Upgrade::Upgrade)
                .map_err(|e| failed("cannot compute the upgrade", &e))?;
            super::pins::enforce(&cache, channel);
        }
        TransactionAction::Rollback { steps, partial, .. } => {
            super::rollback::mark(&cache, steps, &local_debs, *partial, channel)?
        }
        TransactionAction::Downgrade { .. } => {
            return Err(omg::transaction::downgrade_unconverted());
        }
        TransactionAction::Sync { .. } => return Ok(report),
    }
    cache.resolve(false).map_err(|e| TxError::Prepare {
        reason: "unable to satisfy dependencies".into(),
        details: messages(&e),
    })?;
    if cache.depcache().broken_count() > 0 {
        return Err(TxError::Prepare {
            reason: "unable to satisfy dependencies".into(),
            details: unmet(&cache),
        });
    }
    if options.recursive {
        // What the removal leaves unneeded goes too (apt's autoremove).
        for pkg in cache.packages(&rust_apt::PackageSort::default().installed()) {
            if pkg.is_auto_removable() && !pkg.marked_delete() {
                pkg.mark_delete(options.purge);
            }
        }
    }

    let plan = plan(&cache);
    report.changes = plan.changes.clone();
    if plan.changes.is_empty() {
        if marks_changed && !options.dry_run {
            // Only manual/automatic marks changed: apt writes them when it
            // commits, here a commit with nothing to install.
            let mut acquire = AcquireProgress::new(Fetch::new(channel.clone()));
            let mut install = InstallProgress::new(Dpkg::new(channel, 0));
            cache
                .commit(&mut acquire, &mut install)
                .map_err(|e| locked_or(&e, "cannot record the packages' marks"))?;
            report.committed = true;
            return Ok(report);
        }
        channel.message(Level::Info, "nothing to do");
        return Ok(report);
    }
    channel.send(TxEvent::Plan(plan));
    if options.dry_run {
        return Ok(report);
    }
    let prompt = if options.download_only {
        "Download these packages?"
    } else if matches!(request.action, TransactionAction::Rollback { .. }) {
        "Proceed with the rollback?"
    } else {
        "Proceed with the transaction?"
    };
    if options.ask_about_plan(&report.changes) && !channel.confirm(prompt, true) {
        return Err(TxError::Aborted);
    }

    let mut acquire = AcquireProgress::new(Fetch::new(channel.clone()));
    if options.download_only {
        channel.step("downloading packages");
        rust_apt::util::apt_lock().map_err(|e| locked_or(&e, "cannot lock the archives"))?;
        let fetched = cache.get_archives(&mut acquire);
        rust_apt::util::apt_unlock();
        fetched.map_err(|e| TxError::Commit {
            reason: "the downloads failed".into(),
            details: vec![e.what().to_string()],
        })?;
        channel.message(
            Level::Info,
            "the packages are in apt's archive cache (Dir::Cache::Archives); nothing was installed",
        );
        return Ok(report);
    }
    if options.news != NewsMode::Off && read_news(&cache, &mut acquire, &report, channel)? {
        let go_on = options.news == NewsMode::Show
            || channel.confirm("Go on with the upgrade after this news?", true);
        if !go_on {
            return Err(TxError::Aborted);
        }
    }
    channel.step("downloading and installing");
    let mut install = InstallProgress::new(Dpkg::new(channel, report.changes.len()));
    // dpkg's own lines go to the transaction's log, not between the
    // progress bars; a failure quotes their end.
    let captured = options
        .log_file
        .as_deref()
        .map(|log| crate::backend::output_log::Captured::start(std::path::Path::new(log)))
        .transpose()
        .map_err(|e| TxError::Failed(format!("cannot open the transaction's log: {e}")))?;
    let committed = cache.commit(&mut acquire, &mut install);
    let log = captured.map(crate::backend::output_log::Captured::finish);
    committed.map_err(|e| {
        let mut error = locked_or(&e, "failed to commit the transaction");
        if let (TxError::Commit { details, .. }, Some(log)) = (&mut error, &log) {
            let tail = crate::backend::output_log::tail(log, 15);
            if !tail.is_empty() {
                details.push(format!(
                    "the end of dpkg's output (all of it is in {}):",
                    log.display()
                ));
                details.extend(tail.into_iter().map(|l| format!("  {l}")));
            }
        }
        error
    })?;
    if let Some(log) = &log {
        channel.message(
            Level::Info,
            format!("dpkg's output is in {}", log.display()),
        );
    }
    report.committed = true;
    Ok(report)
}

/// Downloads the upgrade's packages, then shows the `NEWS.Debian`
/// entries each upgraded package's new version brings beyond the
/// installed one (as apt-listchanges does, before dpkg runs); whether
/// there was any.
fn read_news(
    cache: &Cache,
    acquire: &mut AcquireProgress,
    report: &TransactionReport,
    channel: &Arc<TxChannel>,
) -> Result<bool, TxError> {
    let upgraded: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Upgrade && c.old_version.is_some())
        .collect();
    if upgraded.is_empty() {
        return Ok(false);
    }
    channel.step("downloading packages");
    rust_apt::util::apt_lock().map_err(|e| locked_or(&e, "cannot lock the archives"))?;
    let fetched = cache.get_archives(acquire);
    rust_apt::util::apt_unlock();
    fetched.map_err(|e| TxError::Commit {
        reason: "the downloads failed".into(),
        details: vec![e.what().to_string()],
    })?;
    let debs = super::rollback::cached_debs(&rust_apt::config::Config::new());
    let mut any = false;
    for change in upgraded {
        let (Some(old), Some(new)) = (&change.old_version, &change.new_version) else {
            continue;
        };
        let name = change.name.split(':').next().unwrap_or(&change.name);
        let Some((deb, ..)) = debs.iter().find(|(_, n, v, _)| n == name && v == new) else {
            continue;
        };
        let Some(text) = omg::news::debian_news(deb, name) else {
            continue;
        };
        for entry in omg::news::newer_entries(&text, old, &omg::version::debian_vercmp) {
            any = true;
            channel.message(
                Level::Warning,
                format!("news of {name} {}:\n{}", entry.version, entry.text),
            );
        }
    }
    Ok(any)
}

/// A dpkg run that was killed leaves its journal in `updates/`, and apt
/// refuses to go on ("dpkg was interrupted"): finish it first, as apt
/// tells the administrator to, with `dpkg --configure -a`.
fn finish_interrupted_dpkg(
    config: &rust_apt::config::Config,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let status = config.file("Dir::State::status", "/var/lib/dpkg/status");
    let Some(admin) = std::path::Path::new(&status).parent() else {
        return Ok(());
    };
    let pending = std::fs::read_dir(admin.join("updates"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
        });
    if !pending {
        return Ok(());
    }
    channel.step("finishing the dpkg run that was interrupted (dpkg --configure -a)");
    let dpkg = config.file("Dir::Bin::dpkg", "/usr/bin/dpkg");
    let output = std::process::Command::new(&dpkg)
        .args(config.find_vector("DPkg::Options"))
        .args(["--configure", "-a"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| TxError::Failed(format!("cannot run {dpkg}: {e}")))?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        channel.message(Level::Info, line);
    }
    if !output.status.success() {
        return Err(TxError::Commit {
            reason: "dpkg was interrupted, and `dpkg --configure -a` did not finish its work"
                .into(),
            details: String::from_utf8_lossy(&output.stderr)
                .lines()
                .map(str::to_string)
                .collect(),
        });
    }
    Ok(())
}

/// `apt update`, reporting each list as a database.
/// apt reading (and updating) a private copy of the package lists until
/// dropped, when the system's come back: a dry run's refresh. The copy
/// starts as the system's lists; no binary cache is written.
struct PrivateLists {
    saved: Vec<(&'static str, String)>,
}

impl PrivateLists {
    fn open(
        lists: &std::path::Path,
        config: &rust_apt::config::Config,
    ) -> Result<PrivateLists, TxError> {
        let fail =
            |e: std::io::Error| TxError::Failed(format!("cannot prepare {}: {e}", lists.display()));
        omg::config::ensure_private_dir(&lists.join("partial")).map_err(fail)?;
        let system = config.dir("Dir::State::Lists", "/var/lib/apt/lists/");
        let empty = std::fs::read_dir(lists)
            .map_err(fail)?
            .flatten()
            .all(|e| e.file_name() == "partial");
        if empty {
            for entry in std::fs::read_dir(&system).into_iter().flatten().flatten() {
                let path = entry.path();
                let name = entry.file_name();
                if path.is_file() && name != "lock" {
                    std::fs::copy(&path, lists.join(name)).map_err(fail)?;
                }
            }
        }
        let keys = [
            "Dir::State::Lists",
            "Dir::Cache::pkgcache",
            "Dir::Cache::srcpkgcache",
        ];
        let saved = keys
            .iter()
            .map(|k| (*k, config.get(k).unwrap_or_default()))
            .collect();
        config.set("Dir::State::Lists", &format!("{}/", lists.display()));
        config.set("Dir::Cache::pkgcache", "");
        config.set("Dir::Cache::srcpkgcache", "");
        Ok(PrivateLists { saved })
    }
}

impl Drop for PrivateLists {
    fn drop(&mut self) {
        let config = rust_apt::config::Config::new();
        for (key, value) in &self.saved {
            config.set(key, value);
        }
    }
}

fn update(channel: &Arc<TxChannel>) -> Result<Vec<DatabaseRefresh>, TxError> {
    let cache = Cache::new::<&str>(&[]).map_err(|e| failed("cannot read the package lists", &e))?;
    let lists = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut progress = AcquireProgress::new(Fetch {
        channel: channel.clone(),
        lists: Some(lists.clone()),
    });
    cache
        .update(&mut progress)
        .map_err(|e| locked_or(&e, "cannot update the package lists"))?;
    let found = std::mem::take(&mut *lists.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(found)
}

pub(super) fn failed(what: &str, errors: &AptErrors) -> TxError {
    TxError::Prepare {
        reason: what.into(),
        details: messages(errors),
    }
}

/// apt's error lines (warnings too, marked).
fn messages(errors: &AptErrors) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            if e.is_error {
                e.msg.clone()
            } else {
                format!("warning: {}", e.msg)
            }
        })
        .collect()
}

/// A held dpkg or apt lock is its own error; anything else fails `what`.
fn locked_or(errors: &AptErrors, what: &str) -> TxError {
    let lines = messages(errors);
    if let Some(line) = lines.iter().find(|l| {
        l.contains("Could not get lock") || l.contains("Unable to acquire the dpkg frontend lock")
    }) {
        return TxError::Busy {
            message: line.clone(),
        };
    }
    TxError::Commit {
        reason: what.into(),
        details: lines,
    }
}

/// What the marked cache will do.
fn plan(cache: &Cache) -> Plan {
    let mut plan = Plan::default();
    for pkg in cache.get_changes(true) {
        let current = pkg.installed();
        let candidate = pkg.candidate();
        let (kind, new) = if pkg.marked_delete() {
            (ChangeKind::Remove, None)
        } else if pkg.marked_new_install() {
            (ChangeKind::Install, candidate)
        } else if pkg.marked_upgrade() {
            (ChangeKind::Upgrade, candidate)
        } else if pkg.marked_downgrade() {
            (ChangeKind::Downgrade, candidate)
        } else {
            (ChangeKind::Reinstall, candidate)
        };
        let repository = new.as_ref().and_then(|v| {
            v.package_files().find_map(|f| {
                let archive = f.archive()?;
                if archive == "now" {
                    return None;
                }
                let component = f.component().unwrap_or_default();
                Some(if component.is_empty() {
                    archive.to_string()
                } else {
                    format!("{archive}/{component}")
                })
            })
        });
        let download_size = new.as_ref().map_or(0, |v| v.size());
        let installed_size = match &new {
            Some(v) => v.installed_size(),
            None => current.as_ref().map_or(0, |v| v.installed_size()),
        };
        let old_size = current.as_ref().map_or(0, |v| v.installed_size()) as i64;
        plan.size_change += match kind {
            ChangeKind::Remove => -old_size,
            _ => installed_size as i64 - old_size,
        };
        plan.download_size += download_size;
        plan.changes.push(Change {
            name: pkg.name().to_string(),
            kind,
            repository,
            old_version: current.as_ref().map(|v| v.version().to_string()),
            new_version: new.as_ref().map(|v| v.version().to_string()),
            download_size,
            installed_size,
            as_dependency: pkg.is_auto_installed(),
        });
    }
    plan
}
