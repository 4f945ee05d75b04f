//! Transactions on the Arch backend, as pacman carries them out: refresh the
//! repository databases (`-Sy`), resolve targets (names, `repo/name`,
//! groups, provided names, package files), prepare, show the plan, ask,
//! commit, and always release the transaction (and with it the lock).
//! `prepare` and `commit` are written once per libalpm generation: their
//! error payloads differ.

use std::sync::Arc;
use std::time::SystemTime;

use super::libalpm::{self, Alpm, Error as AlpmError, PackageReason, TransFlag};
use super::{Package, callbacks, open_handle};
use crate::backend::pacman_conf::PacmanConf;
use omg::transaction::{
    Change, ChangeKind, DatabaseRefresh, Level, Plan, Question, Resolved, TransactionAction,
    TransactionReport, TransactionRequest, TxChannel, TxError, TxEvent,
};

/// Carries out `request` on the database `conf` describes.
pub fn run(
    conf: &PacmanConf,
    request: &TransactionRequest,
    channel: &Arc<TxChannel>,
) -> Result<TransactionReport, TxError> {
    let lock = conf.db_path.join("db.lck");
    if let Some(pid) = crate::backend::stale_lock::clear(&lock) {
        channel.message(
            Level::Warning,
            format!(
                "removed {}, left by an omg transaction that was interrupted (process {pid} is gone); `pacman -Qk` checks the packages it was changing",
                lock.display()
            ),
        );
    }
    // A dry run that asks for a refresh refreshes a private copy of the
    // sync databases (as checkupdates) and plans against it.
    let private;
    let conf = match (&request.options.private_lists, request.options.dry_run) {
        (Some(lists), true) if omg::transaction::wants_refresh(request) => {
            let lists = std::path::Path::new(lists);
            super::private_dbpath(&conf.db_path, lists).map_err(|(path, e)| {
                TxError::Failed(format!("cannot prepare {}: {e}", path.display()))
            })?;
            channel.message(
                Level::Info,
                format!(
                    "a dry run does not touch the system's package databases: refreshing omg's private copy in {} and planning against it",
                    lists.display()
                ),
            );
            let mut copy = conf.clone();
            copy.db_path = lists.to_path_buf();
            private = copy;
            &private
        }
        _ => conf,
    };
    let mut handle = open_handle(conf).map_err(|e| TxError::Failed(e.to_string()))?;
    callbacks::install(&handle, channel);
    let options = &request.options;
    let mut report = TransactionReport::default();
    let refresh = match &request.action {
        TransactionAction::Sync { force } => Some(*force),
        TransactionAction::Upgrade => Some(false),
        TransactionAction::Install { .. } if options.refresh => Some(false),
        _ => None,
    };
    // A dry run writes nothing of the system's: it refreshes only a
    // private copy of the databases (above).
    let refresh = refresh.filter(|_| {
        request.options.private_lists.is_some()
            || !omg::transaction::dry_run_skips_refresh(request, channel)
    });
    if let Some(force) = refresh {
        report.databases = refresh_databases(&mut handle, conf, force, channel)?;
        if matches!(request.action, TransactionAction::Sync { .. }) {
            return Ok(report);
        }
    }
    if matches!(request.action, TransactionAction::Sync { .. }) {
        return Ok(report);
    }

    let mut flags = TransFlag::NONE;
    if options.dry_run {
        // Nothing is written: the lock is not needed (pacman --print).
        flags |= TransFlag::NO_LOCK;
    }
    if options.needed {
        flags |= TransFlag::NEEDED;
    }
    if options.as_deps {
        flags |= TransFlag::ALL_DEPS;
    }
    if options.as_explicit {
        flags |= TransFlag::ALL_EXPLICIT;
    }
    if options.recursive {
        flags |= TransFlag::RECURSE;
    }
    if options.cascade {
        flags |= TransFlag::CASCADE;
    }
    if options.purge {
        // pacman -Rn: no .pacsave of changed configuration files.
        flags |= TransFlag::NO_SAVE;
    }
    if options.download_only {
        // pacman -Sw: into the cache, nothing installed.
        flags |= TransFlag::DOWNLOAD_ONLY;
    }
    // A rollback's sources are found (and archived packages downloaded)
    // before the transaction starts.
    let rollback = match &request.action {
        TransactionAction::Rollback {
            steps,
            archive,
            partial,
            ..
        } => Some(super::rollback::resolve(
            &handle,
            conf,
            steps,
            archive.as_deref(),
            *partial,
            !options.dry_run,
            channel,
        )?),
        _ => None,
    };
    if let Some(r) = &rollback
        && r.targets.is_empty()
        && r.downloaded.is_empty()
        && r.removals.is_empty()
    {
        if !r.from_archive.is_empty() {
            channel.send(TxEvent::Plan(archive_only_plan(r)));
        }
        return Ok(report);
    }
    handle
        .trans_init(flags)
        .map_err(|e| lock_error(e, conf, "start the transaction"))?;
    let marker = (!options.dry_run).then(|| crate::backend::stale_lock::Marker::hold(&lock));
    let outcome = within_transaction(
        &mut handle,
        conf,
        request,
        rollback.as_ref(),
        channel,
        &mut report,
    );
    // Always: this also removes the lock file.
    let _ = handle.trans_release();
    drop(marker);
    outcome.map(|()| report)
}

/// Packages a rollback installs again get back the install reason they
/// had (libalpm marks named targets explicit). Done while the committed
/// transaction still holds the lock, as `pacman -D` does.
fn restore_reasons(handle: &Alpm, reasons: &[(String, bool)], channel: &TxChannel) {
    for (name, as_dependency) in reasons {
        let reason = if *as_dependency {
            PackageReason::Depend
        } else {
            PackageReason::Explicit
        };
        #[allow(unused_mut)]
        let result = handle.localdb().pkg(name.as_str()).and_then(|mut pkg| {
            if pkg.reason() == reason {
                return Ok(());
            }
            pkg.set_reason(reason)
        });
        if let Err(e) = result {
            channel.message(
                Level::Warning,
                format!("cannot restore the install reason of {name}: {e}"),
            );
        }
    }
}

/// A dry run's plan when every package comes from the archive (nothing
/// was downloaded, so libalpm cannot plan it).
fn archive_only_plan(r: &super::rollback::Resolution) -> Plan {
    Plan {
        changes: r
            .from_archive
            .iter()
            .map(|(name, version, _)| Change {
                name: name.clone(),
                kind: ChangeKind::Install,
                repository: Some("archive".into()),
                old_version: None,
                new_version: Some(version.clone()),
                download_size: 0,
                installed_size: 0,
                as_dependency: false,
            })
            .collect(),
        ..Plan::default()
    }
}

fn lock_error(error: AlpmError, conf: &PacmanConf, doing: &str) -> TxError {
    if error == AlpmError::HandleLock {
        TxError::Locked {
            lock: conf.db_path.join("db.lck").display().to_string(),
        }
    } else {
        TxError::Failed(format!("cannot {doing}: {error}"))
    }
}

/// `pacman -Sy`: brings every repository's database up to date.
fn refresh_databases(
    handle: &mut Alpm,
    conf: &PacmanConf,
    force: bool,
    channel: &TxChannel,
) -> Result<Vec<DatabaseRefresh>, TxError> {
    channel.step("synchronizing package databases...");
    let stamp = |name: &str| -> Option<(SystemTime, u64)> {
        let meta = std::fs::metadata(conf.db_path.join("sync").join(format!("{name}.db"))).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    };
    let before: Vec<_> = conf.repos.iter().map(|r| stamp(&r.name)).collect();
    handle.syncdbs_mut().update(force).map_err(|e| match e {
        AlpmError::HandleLock => lock_error(e, conf, ""),
        e => TxError::Failed(format!("failed to synchronize all databases ({e})")),
    })?;
    Ok(conf
        .repos
        .iter()
        .zip(before)
        .map(|(repo, before)| DatabaseRefresh {
            name: repo.name.clone(),
            updated: force || stamp(&repo.name) != before,
        })
        .collect())
}

fn within_transaction(
    handle: &mut Alpm,
    conf: &PacmanConf,
    request: &TransactionRequest,
    rollback: Option<&super::rollback::Resolution>,
    channel: &TxChannel,
    report: &mut TransactionReport,
) -> Result<(), TxError> {
    let removing = matches!(request.action, TransactionAction::Remove { .. });
    match &request.action {
        TransactionAction::Downgrade { .. } => {
            return Err(omg::transaction::downgrade_unconverted());
        }
        TransactionAction::Rollback { .. } => {
            if let Some(r) = rollback {
                add_targets(handle, &r.targets, channel)?;
                add_downloaded(handle, &r.downloaded, channel)?;
                remove_targets(handle, &r.removals, channel)?;
                for (name, version, url) in &r.from_archive {
                    channel.message(
                        Level::Info,
                        format!("{name} {version} comes from the archive ({url}); the plan leaves out what it needs"),
                    );
                }
            }
        }
        TransactionAction::Install { targets } if request.options.upgrade_only => {
            let local = handle.localdb();
            let installed: Vec<String> = targets
                .iter()
                .filter(|t| {
                    let here = local.pkg(t.as_str()).is_ok();
                    if !here {
                        channel.message(
                            Level::Warning,
                            format!("{t} is not installed, so not upgraded"),
                        );
                    }
                    here
                })
                .cloned()
                .collect();
            add_targets(handle, &installed, channel)?;
        }
        TransactionAction::Install { targets } => add_targets(handle, targets, channel)?,
        TransactionAction::Remove { targets } => remove_targets(handle, targets, channel)?,
        TransactionAction::Upgrade => {
            // Pinned packages are skipped as IgnorePkg skips them, unless
            // the upgrade stays in the pinned line.
            let pins = omg::pins::system();
            for name in pins.pins.keys() {
                let candidate = handle
                    .syncdbs()
                    .iter()
                    .find_map(|db| db.pkg(name.as_str()).ok())
                    .map(|p| p.version().to_string());
                if candidate.is_some_and(|c| !pins.allows(name, &c)) {
                    handle.add_ignorepkg(name.as_str()).map_err(|e| {
                        TxError::Failed(format!("cannot skip the pinned {name}: {e}"))
                    })?;
                }
            }
            channel.step("starting full system upgrade...");
            handle
                .sync_sysupgrade(false)
                .map_err(|e| TxError::Failed(format!("cannot compute the upgrade: {e}")))?;
        }
        TransactionAction::Sync { .. } => return Ok(()),
    }
    prepare(handle)?;
    let mut plan = plan(handle);
    // A set: the list comes from the client, the plan may be long.
    let dependencies: std::collections::HashSet<&str> = request
        .options
        .dependencies
        .iter()
        .map(String::as_str)
        .collect();
    for change in &mut plan.changes {
        if dependencies.contains(change.name.as_str()) {
            change.as_dependency = true;
        }
    }
    if plan.changes.is_empty() {
        channel.message(Level::Info, "there is nothing to do");
        return Ok(());
    }
    report.changes = plan.changes.clone();
    let planned: Vec<&str> = plan.changes.iter().map(|c| c.name.as_str()).collect();
    omg::transaction::show_feed(channel, &request.options, &planned)?;
    let held: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Remove)
        .filter(|c| conf.hold_pkg.iter().any(|h| glob_match(h, &c.name)))
        .map(|c| c.name.clone())
        .collect();
    channel.send(TxEvent::Plan(plan));
    if request.options.dry_run {
        return Ok(());
    }
    for name in &held {
        channel.message(Level::Warning, format!("{name} is designated as a HoldPkg"));
    }
    if !held.is_empty()
        && !channel.confirm(
            "HoldPkg was found in the target list. Do you want to continue?",
            false,
        )
    {
        return Err(TxError::Aborted);
    }
    let download_only = request.options.download_only;
    let prompt = if removing {
        "Do you want to remove these packages?"
    } else if download_only {
        "Download these packages?"
    } else if rollback.is_some() {
        "Proceed with the rollback?"
    } else {
        "Proceed with installation?"
    };
    if request.options.ask_about_plan(&report.changes) && !channel.confirm(prompt, true) {
        return Err(TxError::Aborted);
    }
    commit(handle)?;
    if download_only {
        channel.message(
            Level::Info,
            "the packages are in the package cache (CacheDir); nothing was installed",
        );
        return Ok(());
    }
    report.committed = true;
    if let Some(r) = rollback {
        restore_reasons(handle, &r.reasons, channel);
    }
    let reasons: Vec<(String, bool)> = report
        .changes
        .iter()
        .filter(|c| dependencies.contains(c.name.as_str()))
        .map(|c| (c.name.clone(), true))
        .collect();
    restore_reasons(handle, &reasons, channel);
    if let TransactionAction::Install { targets } = &request.action {
        super::rollback::keep_foreign_files(handle, conf, targets, channel);
    }
    Ok(())
}

/// Adds one package to the transaction; a duplicate target is skipped with
/// a warning, as pacman does.
fn add<P: libalpm::IntoPkgAdd>(
    handle: &Alpm,
    pkg: P,
    name: &str,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let error: AlpmError = match handle.trans_add_pkg(pkg) {
        Ok(()) => return Ok(()),
        Err(e) => e.into(),
    };
    if error == AlpmError::TransDupTarget {
        channel.message(Level::Warning, format!("skipping target: {name}"));
        return Ok(());
    }
    Err(TxError::Failed(format!("'{name}': {error}")))
}

/// Resolves install targets as pacman's `-S` and `-U` do.
fn add_targets(handle: &Alpm, targets: &[String], channel: &TxChannel) -> Result<(), TxError> {
    let mut missing = Vec::new();
    for target in targets {
        if super::is_package_file(target) {
            let level = handle.local_file_siglevel();
            let pkg = handle
                .pkg_load(target.as_str(), true, level)
                .map_err(|e| TxError::Failed(format!("could not load {target}: {e}")))?;
            add(handle, pkg, target, channel)?;
            continue;
        }
        // `repo/name` when `repo` is a repository.
        let (repo, name) = match target.split_once('/') {
            Some((r, n)) if handle.syncdbs().iter().any(|db| db.name() == r) => (Some(r), n),
            _ => (None, target.as_str()),
        };
        let in_scope = |db_name: &str| repo.is_none_or(|r| r == db_name);
        // As pacman: the name itself, then what provides it (libalpm asks
        // about ignored packages and about several providers), then groups.
        let found = match repo {
            None => handle.syncdbs().find_satisfier(name),
            Some(r) => handle
                .syncdbs()
                .iter()
                .find(|db| db.name() == r)
                .and_then(|db| db.pkg(name).ok().or_else(|| db.pkgs().find_satisfier(name)))
                .filter(|pkg| !pkg.should_ignore() || callbacks::ask_ignored(channel, pkg.name())),
        };
        if let Some(pkg) = found {
            add(handle, pkg, target, channel)?;
            continue;
        }
        let declined = handle
            .syncdbs()
            .iter()
            .filter(|db| in_scope(db.name()))
            .filter_map(|db| db.pkg(name).ok())
            .any(|pkg| pkg.should_ignore());
        if declined {
            channel.message(Level::Warning, format!("skipping target: {target}"));
            continue;
        }
        if add_group(handle, name, &in_scope, channel)? {
            continue;
        }
        missing.push(target.clone());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        })
    }
}

/// Adds package files just downloaded, checked as `pacman -U URL` checks
/// them (RemoteFileSigLevel). A file that fails is deleted with its
/// signature, so no later transaction finds it in the cache.
fn add_downloaded(handle: &Alpm, files: &[String], channel: &TxChannel) -> Result<(), TxError> {
    for file in files {
        let level = handle.remote_file_siglevel();
        match handle.pkg_load(file.as_str(), true, level) {
            Ok(pkg) => add(handle, pkg, file, channel)?,
            Err(e) => {
                let _ = std::fs::remove_file(file);
                let _ = std::fs::remove_file(format!("{file}.sig"));
                return Err(TxError::Failed(format!(
                    "{file} was refused: {e} (the download was deleted)"
                )));
            }
        }
    }
    Ok(())
}

/// Installs the members of group `name` the user picks; false when no
/// repository in scope has such a group.
fn add_group(
    handle: &Alpm,
    name: &str,
    in_scope: &dyn Fn(&str) -> bool,
    channel: &TxChannel,
) -> Result<bool, TxError> {
    let mut members: Vec<(String, Package<'_>)> = Vec::new();
    for db in handle.syncdbs().iter().filter(|db| in_scope(db.name())) {
        let Ok(group) = db.group(name) else { continue };
        for pkg in group.packages().iter() {
            if !members.iter().any(|(_, p)| p.name() == pkg.name()) {
                members.push((db.name().to_string(), pkg));
            }
        }
    }
    if members.is_empty() {
        return Ok(false);
    }
    let options = members
        .iter()
        .map(|(repo, p)| format!("{repo}/{} {}", p.name(), p.version()))
        .collect::<Vec<_>>();
    let prompt = format!(
        "There {} {} member{} in group {name}:",
        if members.len() == 1 { "is" } else { "are" },
        members.len(),
        if members.len() == 1 { "" } else { "s" }
    );
    let picked = match channel.ask(Question::ChooseMany { prompt, options }) {
        Resolved::Many(picked) => picked,
        _ => Vec::new(),
    };
    if picked.is_empty() {
        return Err(TxError::Aborted);
    }
    for i in picked {
        let (_, pkg) = members[i];
        add(handle, pkg, pkg.name(), channel)?;
    }
    Ok(true)
}

/// Resolves remove targets as pacman's `-R` does: installed names, then the
/// installed members of a group.
fn remove_targets(handle: &Alpm, targets: &[String], channel: &TxChannel) -> Result<(), TxError> {
    let local = handle.localdb();
    let mut missing = Vec::new();
    let remove = |pkg: Package<'_>| match handle.trans_remove_pkg(pkg) {
        Ok(()) => Ok(()),
        Err(AlpmError::TransDupTarget) => {
            channel.message(Level::Warning, format!("skipping target: {}", pkg.name()));
            Ok(())
        }
        Err(e) => Err(TxError::Failed(format!("'{}': {e}", pkg.name()))),
    };
    for target in targets {
        // `local/name` is accepted, as by pacman.
        let name = target.strip_prefix("local/").unwrap_or(target);
        if let Ok(pkg) = local.pkg(name) {
            remove(pkg)?;
            continue;
        }
        match local.group(name) {
            Ok(group) => {
                for pkg in group.packages().iter() {
                    remove(pkg)?;
                }
            }
            Err(_) => missing.push(target.clone()),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TxError::NotFound {
            targets: missing,
            suggestions: Vec::new(),
        })
    }
}

/// The prepared transaction's changes, sizes and download total.
fn plan(handle: &Alpm) -> Plan {
    let local = handle.localdb();
    let size = |n: i64| u64::try_from(n).unwrap_or(0);
    let mut plan = Plan::default();
    let mut change: i64 = 0;
    for pkg in handle.trans_add().iter() {
        let old = local.pkg(pkg.name()).ok();
        let kind = match &old {
            None => ChangeKind::Install,
            Some(o) => match libalpm::vercmp(pkg.version().as_str(), o.version().as_str()) {
                std::cmp::Ordering::Greater => ChangeKind::Upgrade,
                std::cmp::Ordering::Less => ChangeKind::Downgrade,
                std::cmp::Ordering::Equal => ChangeKind::Reinstall,
            },
        };
        change += pkg.isize() - old.as_ref().map_or(0, |o| o.isize());
        let download = size(pkg.download_size());
        plan.download_size += download;
        plan.changes.push(Change {
            name: pkg.name().to_string(),
            kind,
            repository: Some(
                pkg.db()
                    .map_or_else(|| "file".to_string(), |d| d.name().to_string()),
            ),
            old_version: old.as_ref().map(|o| o.version().to_string()),
            new_version: Some(pkg.version().to_string()),
            download_size: download,
            installed_size: size(pkg.isize()),
            as_dependency: pkg.reason() == PackageReason::Depend,
        });
    }
    for pkg in handle.trans_remove().iter() {
        change -= pkg.isize();
        plan.changes.push(Change {
            name: pkg.name().to_string(),
            kind: ChangeKind::Remove,
            repository: None,
            old_version: Some(pkg.version().to_string()),
            new_version: None,
            download_size: 0,
            installed_size: size(pkg.isize()),
            as_dependency: pkg.reason() == PackageReason::Depend,
        });
    }
    plan.size_change = change;
    plan
}

/// Whether `name` matches the shell pattern `pattern` (HoldPkg entries are
/// patterns, as pacman reads them).
fn glob_match(pattern: &str, name: &str) -> bool {
    let (Ok(p), Ok(n)) = (
        std::ffi::CString::new(pattern),
        std::ffi::CString::new(name),
    ) else {
        return false;
    };
    // SAFETY: both are valid NUL-terminated strings.
    unsafe { libc::fnmatch(p.as_ptr(), n.as_ptr(), 0) == 0 }
}

fn unsatisfied(target: &str, depend: &str, causing: Option<&str>) -> String {
    match causing {
        Some(c) => format!("removing {c} breaks dependency '{depend}' required by {target}"),
        None => format!("unable to satisfy dependency '{depend}' required by {target}"),
    }
}

#[cfg(feature = "alpm")]
fn prepare(handle: &mut Alpm) -> Result<(), TxError> {
    use libalpm::PrepareResult;
    let (result, error) = match handle.trans_prepare() {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let details = match result {
        PrepareResult::PkgInvalidArch(list) => list
            .iter()
            .map(|p| format!("package {} does not have a valid architecture", p.name()))
            .collect(),
        PrepareResult::UnsatisfiedDeps(list) => list
            .iter()
            .map(|m| unsatisfied(m.target(), &m.depend().to_string(), m.causing_pkg()))
            .collect(),
        PrepareResult::ConflictingDeps(list) => list
            .iter()
            .map(|c| format!("{} and {} are in conflict", c.package1(), c.package2()))
            .collect(),
        PrepareResult::Ok => Vec::new(),
    };
    Err(TxError::Prepare {
        reason: error.to_string(),
        details,
    })
}

#[cfg(feature = "alpm")]
fn commit(handle: &mut Alpm) -> Result<(), TxError> {
    use libalpm::{CommitResult, FileConflictType};
    let (result, error) = match handle.trans_commit() {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let details = match result {
        CommitResult::FileConflict(list) => list
            .iter()
            .map(|c| match (c.conflict_type(), c.conflicting_target()) {
                (FileConflictType::Target, Some(other)) => {
                    format!("{} exists in both '{}' and '{other}'", c.file(), c.target())
                }
                _ => format!("{}: {} exists in filesystem", c.target(), c.file()),
            })
            .collect(),
        CommitResult::PkgInvalid(list) => list
            .iter()
            .map(|file| format!("{file} is invalid or corrupted"))
            .collect(),
        CommitResult::Ok => Vec::new(),
    };
    Err(TxError::Commit {
        reason: error.to_string(),
        details,
    })
}

#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
fn prepare(handle: &mut Alpm) -> Result<(), TxError> {
    use libalpm::PrepareData;
    let error = match handle.trans_prepare() {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let details = match error.data() {
        Some(PrepareData::PkgInvalidArch(list)) => list
            .iter()
            .map(|p| format!("package {} does not have a valid architecture", p.name()))
            .collect(),
        Some(PrepareData::UnsatisfiedDeps(list)) => list
            .iter()
            .map(|m| unsatisfied(m.target(), &m.depend().to_string(), m.causing_pkg()))
            .collect(),
        Some(PrepareData::ConflictingDeps(list)) => list
            .iter()
            .map(|c| {
                format!(
                    "{} and {} are in conflict",
                    c.package1().name(),
                    c.package2().name()
                )
            })
            .collect(),
        None => Vec::new(),
    };
    Err(TxError::Prepare {
        reason: error.error().to_string(),
        details,
    })
}

#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
fn commit(handle: &mut Alpm) -> Result<(), TxError> {
    use libalpm::CommitData;
    let error = match handle.trans_commit() {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let details = match error.data() {
        Some(CommitData::FileConflict(list)) => list
            .iter()
            .map(|c| {
                format!(
                    "{} and {} are in conflict",
                    c.package1().name(),
                    c.package2().name()
                )
            })
            .collect(),
        Some(CommitData::PkgInvalid(list)) => list
            .iter()
            .map(|file| format!("{file} is invalid or corrupted"))
            .collect(),
        None => Vec::new(),
    };
    Err(TxError::Commit {
        reason: error.error().to_string(),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_patterns_match_as_pacman_reads_them() {
        assert!(glob_match("pacman", "pacman"));
        assert!(glob_match("glibc*", "glibc-locales"));
        assert!(!glob_match("glibc", "glibc-locales"));
    }
}
