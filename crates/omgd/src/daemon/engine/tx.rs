//! The transaction family, as named stages: authorize (done by the
//! connection), prepare (log, private lists, staged files, rollback
//! steps), assess against the policy, take the lock, run on the backend,
//! record in the history and the audit log.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use log::warn;

use super::{Engine, SUGGESTIONS};
use omg::auth::caller::Caller;
use omg::config::Paths;
use omg::index::rank;
use omg::ipc::protocol::{ErrorKind, ResponseBody, WireError};
use omg::model::BackendKind;
use omg::transaction::{
    MaintenanceRequest, TransactionAction, TransactionReport, TransactionRequest, TxChannel,
    TxError,
};

/// An install target as the policy sees it.
struct TargetAssessment {
    name: String,
    /// Built outside the repositories, as AUR packages are.
    aur: bool,
    grade: omg::security::grade::Grade,
    reason: String,
    licenses: Vec<String>,
    worst: Option<omg::security::vulns::Severity>,
}

impl Engine {
    /// Carries out a transaction, streaming its events and questions
    /// through `channel`. Changing the system needs a daemon running as
    /// root; a dry run does not.
    pub async fn transaction(
        &self,
        mut request: TransactionRequest,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _busy = self.busy_guard()?;
        let backend = self.backend_to_change(request.changes_system())?;
        self.decide_key_trust(caller, request.options.interactive, &channel)
            .await;
        // dpkg's own output goes to a log of this transaction, not to the
        // client's terminal.
        request.options.log_file = (!request.options.dry_run).then(|| {
            self.paths
                .cache_dir
                .join("logs")
                .join(format!("transaction-{}.log", omg::unix_now()))
                .display()
                .to_string()
        });
        check_group(request.options.group.as_deref())?;
        // The news of what is upgraded: as this daemon is configured.
        request.options.news = self.config.upgrade.news;
        channel.set_feed(self.news_for(&request, &channel).await);
        // A dry run refreshes a private copy of the lists, never the
        // system's: where, this daemon says.
        request.options.private_lists = request.options.dry_run.then(|| {
            self.paths
                .private_lists(self.kind.as_str())
                .display()
                .to_string()
        });
        // Only for a caller allowed to roll back: what the history holds.
        self.fill_in_rollback(&mut request, &channel)?;
        // The history and the audit log record what was asked for (a
        // downgrade as the downgrade it is, package files by the names
        // the caller gave).
        let logged = request.clone();
        // A downgrade is carried out as the rollback of its one package
        // (the same sources, checks and kept install reason), or as the
        // install of the package file the client built.
        let mut request = self.carry_out_downgrade(request, &channel).await?;
        // Package files another user names are copied out of their reach
        // first (and opened with their rights).
        let _staged = self.stage_package_files(&mut request, caller).await?;
        let assessed = self.assess_targets(&request).await;
        // The grade of what is asked for, before the plan and the question.
        for t in &assessed {
            channel.message(
                omg::transaction::Level::Info,
                format!(
                    "security: {} is {} ({})",
                    t.name,
                    t.grade.as_str(),
                    t.reason
                ),
            );
        }
        let violations = self.policy_violations(&assessed)?;
        if !violations.is_empty() {
            let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
            if !request.options.override_policy {
                return Err(WireError::new(
                    ErrorKind::PolicyDenied,
                    format!(
                        "the policy forbids this install (--override-policy installs anyway):\n  {}",
                        list.join("\n  ")
                    ),
                ));
            }
            // Overriding the policy is an authorization of its own.
            self.authorize(
                caller,
                omg::auth::access::OVERRIDE_POLICY,
                request.options.interactive,
            )
            .await?;
            if !request.options.dry_run {
                let log = omg::audit::AuditLog::in_data_dir(&Paths::system().data_dir);
                let entry = omg::audit::Entry {
                    user: caller.user(),
                    action: "policy-override".into(),
                    subject: violations
                        .iter()
                        .map(|v| v.package.clone())
                        .collect::<Vec<_>>()
                        .join(" "),
                    details: serde_json::json!({ "violations": list }),
                };
                if let Err(e) = log.append(entry) {
                    warn!("audit log: {e}");
                }
            }
            channel.message(
                omg::transaction::Level::Warning,
                format!("installing against the policy: {}", list.join("; ")),
            );
        }
        let _one_at_a_time = self.one_at_a_time(&channel).await;
        // `omg sync` on Arch refreshes the AUR's package list too.
        let sync_aur = matches!(logged.action, TransactionAction::Sync { .. })
            && !logged.options.dry_run
            && self.aur.is_some();
        let changes_system = logged.changes_system() && !logged.options.dry_run;
        let etc_before = changes_system.then(|| self.config_before()).flatten();
        let mut outcome = backend.transact(request, channel.clone()).await;
        // Whatever happened, the database may have changed.
        self.cache.invalidate_all();
        self.watch.touch();
        if let (Ok(report), Some(before)) = (&mut outcome, &etc_before)
            && report.committed
        {
            report.config_files = self.config_left(before, report).await;
            report.restarts = self.restarts().await.unwrap_or_default();
        }
        if changes_system {
            record_history(&logged, &outcome, caller);
        }
        match outcome {
            Ok(mut report) => {
                if let TransactionAction::Rollback { group, .. } = &logged.action {
                    report.group.clone_from(group);
                }
                if sync_aur {
                    self.sync_aur_index(&mut report, &channel).await;
                }
                if report.committed {
                    audit(caller, logged.action.audit_entry(), &report);
                    let changed: Vec<String> = report
                        .changes
                        .iter()
                        .filter(|c| c.kind != omg::transaction::ChangeKind::Remove)
                        .map(|c| c.name.clone())
                        .collect();
                    self.note_reboot(&changed);
                    self.count_merges();
                }
                Ok(ResponseBody::Transaction(report))
            }
            Err(e) => Err(self.transaction_error(e).await),
        }
    }

    /// Pins a package or cleans the package cache: as a transaction
    /// (root, one at a time, audited), but nothing is installed, so the
    /// history does not record it.
    pub(super) async fn maintain(
        &self,
        request: MaintenanceRequest,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _busy = self.busy_guard()?;
        let backend = self.backend_to_change(!request.dry_run)?;
        let _one_at_a_time = self.one_at_a_time(&channel).await;
        let entry = request.task.audit_entry();
        let outcome = backend.maintain(request, channel).await;
        self.cache.invalidate_all();
        self.watch.touch();
        match outcome {
            Ok(report) => {
                if report.committed {
                    audit(caller, entry, &report);
                }
                Ok(ResponseBody::Transaction(report))
            }
            Err(e) => Err(self.transaction_error(e).await),
        }
    }

    /// The backend, for a change that needs root when `changes_system`.
    fn backend_to_change(
        &self,
        changes_system: bool,
    ) -> Result<&crate::daemon::backend_thread::BackendHandle, WireError> {
        let Some(backend) = &self.backend else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "transactions need the package database",
            ));
        };
        // SAFETY: geteuid has no preconditions.
        if changes_system && unsafe { libc::geteuid() } != 0 {
            return Err(WireError::new(
                ErrorKind::NeedsRoot,
                "changing the system's packages needs root: this omgd runs as an ordinary user",
            ));
        }
        Ok(backend)
    }

    /// One transaction at a time; the next waits, and says so.
    async fn one_at_a_time(&self, channel: &TxChannel) -> tokio::sync::MutexGuard<'_, ()> {
        match self.transacting.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                channel.step("waiting for the transaction already running to finish");
                self.transacting.lock().await
            }
        }
    }

    /// `request`, a downgrade made what it is carried out as: the rollback
    /// of one package, or the install of the package file the client
    /// built (which must be that package at that version); anything else
    /// as it is.
    async fn carry_out_downgrade(
        &self,
        mut request: TransactionRequest,
        channel: &TxChannel,
    ) -> Result<TransactionRequest, WireError> {
        use omg::transaction::TransactionAction;
        let TransactionAction::Downgrade {
            name,
            version,
            file,
        } = &request.action
        else {
            return Ok(request);
        };
        let current = self.index().await?;
        let installed = current
            .index
            .find(name)
            .and_then(|p| p.installed_version.map(str::to_string))
            .ok_or_else(|| {
                WireError::new(
                    ErrorKind::NotFound,
                    format!("{name} is not installed: there is nothing to downgrade"),
                )
            })?;
        if installed == *version {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!("{name} {version} is the version installed"),
            ));
        }
        channel.step(format!("{name}: {installed} -> {version}"));
        if let Some(file) = file {
            let file_name = std::path::Path::new(file)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let says = omg::auth::client_files::arch_package_file(&file_name);
            if self.kind != BackendKind::Alpm
                || says.as_ref().map(|(n, v)| (n.as_str(), v.as_str()))
                    != Some((name.as_str(), version.as_str()))
            {
                return Err(WireError::new(
                    ErrorKind::InvalidRequest,
                    format!("{file_name:?} is not an Arch package file of {name} {version}"),
                ));
            }
            request.action = TransactionAction::Install {
                targets: vec![file.clone()],
            };
            return Ok(request);
        }
        let archive = (self.kind == BackendKind::Alpm).then(|| self.config.arch.archive_url());
        if let Some(rollback) = request.action.as_rollback(&installed, archive) {
            request.action = rollback;
        }
        Ok(request)
    }

    /// A rollback names a transaction: what reverting it means comes from
    /// this omgd's own history (never from the client), and where the Arch
    /// Linux Archive is from its configuration.
    pub(super) fn fill_in_rollback(
        &self,
        request: &mut TransactionRequest,
        channel: &TxChannel,
    ) -> Result<(), WireError> {
        use omg::transaction::TransactionAction;
        let TransactionAction::Rollback {
            id,
            steps,
            archive,
            group,
            ..
        } = &mut request.action
        else {
            return Ok(());
        };
        let history = omg::history::History::in_data_dir(&Paths::system().data_dir);
        let entries = history.entries().map_err(WireError::from)?;
        if let (None, Some(wanted)) = (*id, group.as_deref()) {
            check_group(Some(wanted))?;
            let newest = omg::history::in_group(&entries, wanted)
                .first()
                .map(|e| e.id)
                .ok_or_else(|| {
                    WireError::new(
                        ErrorKind::EmptyGroup,
                        format!("the history has no system transaction of group {wanted}"),
                    )
                })?;
            *id = Some(newest);
        }
        let entry = omg::history::pick(&entries, *id).ok_or_else(|| {
            let message = match id {
                Some(id) => {
                    format!("there is no transaction {id} in the history (omg history lists them)")
                }
                None => "the history has no transaction to roll back".to_string(),
            };
            WireError::new(ErrorKind::NotFound, message)
        })?;
        if !entry.reversible() {
            return Err(WireError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "transaction {} changed nothing, so there is nothing to roll back (result: {})",
                    entry.id, entry.result
                ),
            ));
        }
        *id = Some(entry.id);
        group.clone_from(&entry.group);
        match entry.group.as_deref() {
            // Made together (`omg upgrade --all`): undone together.
            Some(group) => {
                let together = omg::history::in_group(&entries, group);
                let ids: Vec<String> = together.iter().rev().map(|e| e.id.to_string()).collect();
                channel.step(format!(
                    "rolling back transactions {} together (group {group}, by {})",
                    ids.join(", "),
                    entry.user
                ));
                *steps = omg::history::group_revert_steps(&together);
            }
            None => {
                channel.step(format!(
                    "rolling back transaction {} ({}, by {})",
                    entry.id, entry.command, entry.user
                ));
                *steps = entry.revert_steps();
            }
        }
        *archive = (self.kind == BackendKind::Alpm).then(|| self.config.arch.archive_url());
        Ok(())
    }

    pub(super) async fn transaction_error(&self, error: TxError) -> WireError {
        let kind = match &error {
            TxError::Locked { .. } | TxError::Busy { .. } => ErrorKind::Locked,
            TxError::NotFound { .. } | TxError::Unavailable { .. } => ErrorKind::NotFound,
            TxError::Aborted => ErrorKind::Aborted,
            TxError::NeedsRoot(_) => ErrorKind::NeedsRoot,
            TxError::Unsupported(_) => ErrorKind::Unsupported,
            TxError::Prepare { .. } | TxError::Commit { .. } | TxError::Failed(_) => {
                ErrorKind::TransactionFailed
            }
        };
        let mut wire = WireError::new(kind, error.to_string());
        if let TxError::NotFound { targets, .. } = &error
            && let Ok(current) = self.index().await
        {
            for target in targets {
                let bare = target.rsplit_once('/').map_or(target.as_str(), |(_, n)| n);
                wire.suggestions
                    .extend(rank::suggest(&current.index, bare, SUGGESTIONS));
            }
        }
        wire
    }

    /// The grade of each install target of `request`: (name, grade, why,
    /// licences, the worst vulnerability affecting it). Package files are
    /// COMMUNITY; unknown names are the transaction's to report.
    async fn assess_targets(&self, request: &TransactionRequest) -> Vec<TargetAssessment> {
        use omg::security::grade::Grade;
        use omg::transaction::TransactionAction;
        let TransactionAction::Install { targets } = &request.action else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for target in targets {
            if omg::auth::client_files::is_package_file(target) {
                let name = std::path::Path::new(target)
                    .file_name()
                    .map_or(target.clone(), |n| n.to_string_lossy().into_owned());
                // An Arch package file of a name no repository carries was
                // built from the AUR (or like it): the policy's allow_aur
                // applies, as it does to installed foreign packages.
                let aur = self.kind == BackendKind::Alpm
                    && match omg::auth::client_files::arch_package_name(&name) {
                        Some(package) => !self.in_repositories(package).await,
                        None => true,
                    };
                out.push(TargetAssessment {
                    name,
                    aur,
                    grade: Grade::Community,
                    reason: "a package file: no repository vouches for it".into(),
                    licenses: Vec::new(),
                    worst: None,
                });
                continue;
            }
            let Ok(info) = self.info(target).await else {
                continue;
            };
            let (info, affecting) = self.assess(info);
            out.push(TargetAssessment {
                aur: info.aur.is_some(),
                name: info.name.clone(),
                grade: info.grade.unwrap_or(Grade::Community),
                reason: info.grade_reason.clone().unwrap_or_default(),
                licenses: info.licenses.clone(),
                worst: affecting.iter().map(|a| a.severity).max(),
            });
        }
        out
    }

    /// The rules the assessed install targets break.
    fn policy_violations(
        &self,
        assessed: &[TargetAssessment],
    ) -> Result<Vec<omg::security::policy::Violation>, WireError> {
        use omg::security::policy::Candidate;
        let policy = self.policy()?;
        Ok(assessed
            .iter()
            .flat_map(|t| {
                policy.check(&Candidate {
                    name: &t.name,
                    grade: t.grade,
                    aur: t.aur,
                    licenses: &t.licenses,
                    worst: t.worst,
                })
            })
            .collect())
    }
}

/// Appends a committed transaction to the system's audit log.
fn audit(caller: &Caller, (action, subject): (&str, String), report: &TransactionReport) {
    let changes: Vec<serde_json::Value> = report
        .changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "change": c.kind.as_str(),
                "old": c.old_version,
                "new": c.new_version,
            })
        })
        .collect();
    let entry = omg::audit::Entry {
        user: caller.user(),
        action: action.into(),
        subject,
        details: serde_json::json!({ "changes": changes }),
    };
    let log = omg::audit::AuditLog::in_data_dir(&Paths::system().data_dir);
    if let Err(e) = log.append(entry) {
        warn!("audit log: {e}");
    }
}

/// A history group a client names must be one `history::valid_group`
/// accepts.
pub(super) fn check_group(group: Option<&str>) -> Result<(), WireError> {
    match group {
        Some(group) if !omg::history::valid_group(group) => Err(WireError::new(
            ErrorKind::InvalidRequest,
            "a history group is 1 to 64 letters, digits and dashes",
        )),
        _ => Ok(()),
    }
}

/// Records a transaction that changed something, or failed, in the
/// system's history.
fn record_history(
    request: &TransactionRequest,
    outcome: &Result<TransactionReport, TxError>,
    caller: &Caller,
) {
    let config_files = match outcome {
        Ok(report) => report.config_files.clone(),
        Err(_) => Vec::new(),
    };
    let (changes, result) = match outcome {
        Ok(report) if report.committed => (
            report
                .changes
                .iter()
                .map(|c| omg::history::PackageChange {
                    name: c.name.clone(),
                    change: c.kind.as_str().into(),
                    old: c.old_version.clone(),
                    new: c.new_version.clone(),
                    as_dependency: c.as_dependency,
                })
                .collect(),
            "ok".to_string(),
        ),
        // Nothing was done (nothing to do, a refresh only).
        Ok(_) => return,
        Err(TxError::Aborted) => return,
        Err(e) => (Vec::new(), format!("failed: {e}")),
    };
    let history = omg::history::History::in_data_dir(&Paths::system().data_dir);
    if let Err(e) = history.record_full(
        &caller.user(),
        &request.action.command_line(),
        changes,
        &result,
        config_files,
        request.options.group.as_deref(),
    ) {
        warn!("{e}");
    }
}
