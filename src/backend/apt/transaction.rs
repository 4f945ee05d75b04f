//! Debian transactions through libapt-pkg's own machinery (rust-apt):
//! refreshing the lists, marking what the request asks for, apt's
//! resolver, the plan and its confirmation, fetching the archives with
//! progress and running dpkg with progress. The decisions are apt's; this
//! module translates between them and omg's transaction events.

use std::sync::Arc;

use rust_apt::cache::Upgrade;
use rust_apt::error::AptErrors;
use rust_apt::progress::{
    AcquireProgress, DynAcquireProgress, DynInstallProgress, InstallProgress,
};
use rust_apt::raw::{AcqTextStatus, ItemDesc, PkgAcquire};
use rust_apt::{Cache, Package, Version};

use crate::transaction::{
    Change, ChangeKind, DatabaseRefresh, DownloadState, Level, Plan, ProgressAction, Question,
    Resolved, TransactionAction, TransactionReport, TransactionRequest, TxChannel, TxError,
    TxEvent,
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
    if let TransactionAction::CleanCache { keep } = &request.action {
        let cache =
            Cache::new::<&str>(&[]).map_err(|e| failed("cannot read the package lists", &e))?;
        let files = super::rollback::cached_debs(&config);
        let installed = |name: &str| {
            cache
                .get(name)
                .and_then(|p| p.installed())
                .map(|v| v.version().to_string())
        };
        let doomed = crate::transaction::prune(
            &files,
            *keep as usize,
            &installed,
            &crate::version::debian_vercmp,
        );
        crate::transaction::delete_cached(doomed, options.dry_run, channel, &mut report)?;
        return Ok(report);
    }
    if let TransactionAction::Pin(change) = &request.action {
        super::pins::pin(&config, change, options.dry_run, channel)?;
        report.committed = !options.dry_run;
        return Ok(report);
    }
    if !options.dry_run {
        finish_interrupted_dpkg(&config, channel)?;
    }
    let refresh = match &request.action {
        TransactionAction::Sync { .. } | TransactionAction::Upgrade => true,
        TransactionAction::Install { .. } => options.refresh,
        TransactionAction::Remove { .. }
        | TransactionAction::Rollback { .. }
        | TransactionAction::Pin(_)
        | TransactionAction::CleanCache { .. } => false,
    };
    // A dry run writes nothing of the system's, the lists included: it
    // refreshes omg's private copy and plans against that.
    let _private = match (&options.private_lists, options.dry_run && refresh) {
        (Some(lists), true) => {
            channel.message(
                crate::transaction::Level::Info,
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
        TransactionAction::Sync { .. }
        | TransactionAction::Pin(_)
        | TransactionAction::CleanCache { .. } => unreachable!("returned above"),
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
    if !channel.confirm(prompt, true) {
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
        crate::config::ensure_private_dir(&lists.join("partial")).map_err(fail)?;
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

fn failed(what: &str, errors: &AptErrors) -> TxError {
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

/// The unmet dependencies of the packages the marks leave broken, as apt
/// words them.
fn unmet(cache: &Cache) -> Vec<String> {
    cache
        .packages(&rust_apt::PackageSort::default())
        .filter(|pkg| pkg.is_inst_broken())
        .flat_map(|pkg| unmet_of(&pkg))
        .collect()
}

/// Why `pkg`'s candidate cannot be installed: its dependencies nothing
/// can satisfy.
fn unmet_of(pkg: &Package<'_>) -> Vec<String> {
    let Some(candidate) = pkg.candidate() else {
        return vec![format!(
            "package {} has no installation candidate",
            pkg.name()
        )];
    };
    let mut lines = Vec::new();
    for dep in candidate.dependencies().unwrap_or_default() {
        if dep.iter().any(|base| !base.all_targets().is_empty()) {
            continue;
        }
        let names: Vec<String> = dep
            .iter()
            .map(|b| match b.version() {
                Some(v) => format!("{} ({} {v})", b.name(), b.comp_type().unwrap_or("=")),
                None => b.name().to_string(),
            })
            .collect();
        lines.push(format!(
            "{}: {}: {} but it is not installable",
            pkg.name(),
            dep.dep_type().to_str(),
            names.join(" | ")
        ));
    }
    if lines.is_empty() {
        lines.push(format!("{} has unmet dependencies", pkg.name()));
    }
    lines
}

/// Marks the install targets: names (`name`, `name=version`,
/// `name/release`), virtual names (the provider: asked when several),
/// and `.deb` files. Says whether a manual/automatic mark changed.
fn mark_install(
    cache: &Cache,
    targets: &[String],
    request: &TransactionRequest,
    channel: &TxChannel,
) -> Result<bool, TxError> {
    let options = &request.options;
    let mut missing = Vec::new();
    let mut marks_changed = false;
    for target in targets {
        let Some((pkg, version)) = find_target(cache, target, channel)? else {
            missing.push(target.clone());
            continue;
        };
        if let Some(version) = &version {
            version.set_candidate();
        }
        let candidate = pkg.candidate();
        let current = pkg.installed();
        let same =
            matches!((&current, &candidate), (Some(c), Some(n)) if c.version() == n.version());
        if same && options.upgrade_only {
            continue;
        }
        if same {
            let v = current.as_ref().map(|v| v.version().to_string());
            if pkg.is_auto_installed() != options.as_deps {
                pkg.mark_auto(options.as_deps);
                marks_changed = true;
                if !options.as_deps {
                    channel.message(
                        Level::Info,
                        format!("{} set to manually installed", pkg.name()),
                    );
                }
            }
            if options.needed || !options.as_explicit {
                channel.message(
                    Level::Info,
                    format!(
                        "{} is already the newest version ({})",
                        pkg.name(),
                        v.unwrap_or_default()
                    ),
                );
                continue;
            }
        }
        if candidate.is_none() {
            return Err(TxError::Prepare {
                reason: "a target cannot be installed".into(),
                details: vec![format!(
                    "package {} has no installation candidate",
                    pkg.name()
                )],
            });
        }
        if options.upgrade_only && current.is_none() {
            channel.message(
                Level::Warning,
                format!("{} is not installed, so not upgraded", pkg.name()),
            );
            continue;
        }
        let was_auto = pkg.is_auto_installed();
        pkg.mark_install(true, true);
        if !pkg.marked_install() {
            return Err(TxError::Prepare {
                reason: "unable to satisfy dependencies".into(),
                details: unmet_of(&pkg),
            });
        }
        pkg.protect();
        if options.upgrade_only {
            // An upgrade, not a request: the package stays as it was
            // installed.
            pkg.mark_auto(was_auto);
        } else if options.as_deps {
            pkg.mark_auto(true);
        } else if options.as_explicit {
            pkg.mark_auto(false);
        }
    }
    if !missing.is_empty() {
        return Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        });
    }
    Ok(marks_changed)
}

/// The package (and chosen version) a target names, if any.
fn find_target<'a>(
    cache: &'a Cache,
    target: &str,
    channel: &TxChannel,
) -> Result<Option<(Package<'a>, Option<Version<'a>>)>, TxError> {
    if target.ends_with(".deb") {
        let path = std::fs::canonicalize(target).unwrap_or_else(|_| target.into());
        let path = path.to_string_lossy();
        // The local file is a version whose package file is that path.
        for pkg in cache.packages(&rust_apt::PackageSort::default()) {
            for version in pkg.versions() {
                if version
                    .package_files()
                    .any(|f| f.filename().is_some_and(|n| n == path || n == target))
                {
                    return Ok(Some((pkg, Some(version))));
                }
            }
        }
        return Ok(None);
    }
    let (name, version, release) = if let Some((n, v)) = target.split_once('=') {
        (n, Some(v), None)
    } else if let Some((n, r)) = target.split_once('/') {
        (n, None, Some(r))
    } else {
        (target, None, None)
    };
    let Some(pkg) = cache.get(name) else {
        return Ok(None);
    };
    if let Some(wanted) = version {
        return Ok(pkg.get_version(wanted).map(|v| (pkg, Some(v))));
    }
    if let Some(release) = release {
        let chosen = pkg.versions().find(|v| {
            v.package_files().any(|f| {
                f.archive().is_some_and(|a| a == release)
                    || f.codename().is_some_and(|c| c == release)
            })
        });
        return Ok(chosen.map(|v| (pkg, Some(v))));
    }
    if pkg.has_versions() {
        return Ok(Some((pkg, None)));
    }
    // A virtual package: one of the packages that provide it.
    let mut providers: Vec<Package<'a>> = pkg.provides().map(|p| p.package()).collect();
    providers.sort_by(|a, b| a.name().cmp(b.name()));
    providers.dedup_by(|a, b| a.name() == b.name());
    match providers.len() {
        0 => Ok(None),
        1 => Ok(providers.pop().map(|p| (p, None))),
        _ => {
            let options: Vec<String> = providers.iter().map(|p| p.name().to_string()).collect();
            let question = Question::Choose {
                prompt: format!(
                    "There are {} providers available for {name}:",
                    options.len()
                ),
                options,
                default: 0,
            };
            match channel.ask(question) {
                Resolved::One(i) if i < providers.len() => {
                    Ok(Some((providers.swap_remove(i), None)))
                }
                _ => Err(TxError::Aborted),
            }
        }
    }
}

fn mark_remove(
    cache: &Cache,
    targets: &[String],
    request: &TransactionRequest,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let mut missing = Vec::new();
    for target in targets {
        match cache.get(target) {
            Some(pkg) if pkg.is_installed() => {
                if pkg.is_essential() {
                    let ok = channel.confirm(
                        format!(
                            "{} is an essential package: removing it can break the system. Remove it anyway?",
                            pkg.name()
                        ),
                        false,
                    );
                    if !ok {
                        return Err(TxError::Aborted);
                    }
                }
                pkg.mark_delete(request.options.purge);
                pkg.protect();
            }
            Some(pkg) if request.options.purge && pkg_has_config(&pkg) => {
                pkg.mark_delete(true);
            }
            Some(pkg) if pkg.has_versions() => channel.message(
                Level::Warning,
                format!("package {} is not installed, so not removed", pkg.name()),
            ),
            _ => missing.push(target.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        });
    }
    Ok(())
}

/// Removed, but its configuration files are still there (`rc`).
fn pkg_has_config(pkg: &Package<'_>) -> bool {
    pkg.current_state() == rust_apt::PkgCurrentState::ConfigFiles
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

/// Downloads as transaction events (and, during an update, which lists
/// changed).
struct Fetch {
    channel: Arc<TxChannel>,
    lists: Option<Arc<std::sync::Mutex<Vec<DatabaseRefresh>>>>,
}

impl Fetch {
    fn new(channel: Arc<TxChannel>) -> Fetch {
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
struct Dpkg {
    channel: Arc<TxChannel>,
    count: u32,
    seen: Vec<String>,
}

impl Dpkg {
    fn new(channel: &Arc<TxChannel>, count: usize) -> Dpkg {
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
