//! The security family: the vulnerability audit, security grades, the
//! policy check, and the signature and provenance checks of files a user
//! names (on their own daemon), run off the async workers with a time
//! limit.

use std::sync::Arc;

use super::Engine;
use omg::config::Paths;
use omg::ipc::protocol::{ErrorKind, RequestBody, ResponseBody, WireError};
use omg::model::{BackendKind, PackageInfo};
use omg::status;

/// How long checking files a client named may take.
const FILE_WORK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Engine {
    /// The signature and provenance checks of files a user names.
    pub(super) async fn verify(&self, body: RequestBody) -> Result<ResponseBody, WireError> {
        match body {
            RequestBody::VerifyProvenance {
                file,
                bundle,
                identity,
                issuer,
                trusted_root,
            } => verify_provenance(&file, &bundle, &identity, &issuer, trusted_root).await,
            RequestBody::VerifyFile {
                file,
                signature,
                keyring,
            } => self.verify_file(file, signature, keyring).await,
            RequestBody::VerifySignatures {
                dir,
                pairs,
                validpgpkeys,
            } => self.verify_signatures(dir, pairs, validpgpkeys).await,
            _ => Err(WireError::new(
                ErrorKind::InvalidRequest,
                "not a verification request",
            )),
        }
    }

    /// What OSV knows about these package versions (kept in the store).
    pub(super) async fn osv(
        &self,
        queries: &[omg::security::osv::Query],
        refresh: bool,
    ) -> Result<ResponseBody, WireError> {
        let config = &self.config.security;
        omg::security::osv::lookup(
            &config.osv_url(),
            queries,
            self.store.as_ref(),
            refresh,
            config.max_age_secs,
        )
        .await
        .map(ResponseBody::Osv)
        .map_err(WireError::from)
    }

    /// `omg verify FILE --sig SIG`: the signer, from the user's keys.
    pub(super) async fn verify_file(
        &self,
        file: String,
        signature: String,
        keyring: String,
    ) -> Result<ResponseBody, WireError> {
        use std::path::Path;
        let Some(check) = self.verifiers.file else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "checking signatures needs omgd",
            ));
        };
        checked_files(&[
            (Path::new(&file), false),
            (Path::new(&signature), false),
            (Path::new(&keyring), true),
        ])?;
        off_the_workers(move || check(Path::new(&file), Path::new(&signature), Path::new(&keyring)))
            .await?
            .map(|signer| ResponseBody::Verified { signer })
            .map_err(|m| WireError::new(ErrorKind::Verification, m))
    }

    /// The installed packages affected by known vulnerabilities, from the
    /// advisories last fetched (fetched now with `refresh`, or when there
    /// are none yet). The count goes into the status file.
    /// The audit from the advisories already stored, never fetching
    /// (what D-Bus clients get); `NotFound` when there are none.
    pub async fn stored_audit(&self) -> Result<ResponseBody, WireError> {
        let key = omg::security::scan::key(self.kind, &self.config.security);
        let stored = key.and_then(|k| omg::security::scan::load(self.store.as_ref()?, &k));
        if stored.is_none() {
            return Err(WireError::new(
                ErrorKind::NotFound,
                "no vulnerability data has been fetched yet",
            ));
        }
        self.audit_counting(false, false).await
    }

    pub async fn audit(&self, refresh: bool) -> Result<ResponseBody, WireError> {
        self.audit_counting(refresh, true).await
    }

    /// The audit; with `count`, the security updates are counted again
    /// afterwards (which itself reads the audit, without counting).
    pub(super) async fn audit_counting(
        &self,
        refresh: bool,
        count: bool,
    ) -> Result<ResponseBody, WireError> {
        use omg::security::{scan, vulns::AuditReport};
        let backend = self.backend()?;
        let config = &self.config.security;
        let key = scan::key(self.kind, config)
            .ok_or_else(|| WireError::from(scan::ScanError::NoRelease))?;
        let stored = self.store.as_ref().and_then(|s| scan::load(s, &key));
        let mut note = None;
        let data = if refresh || stored.is_none() {
            match scan::fetch(self.kind, config).await {
                Ok(data) => {
                    if let Some(store) = &self.store {
                        scan::save(store, &data);
                    }
                    data
                }
                Err(e) => match stored {
                    Some(old) => {
                        note = Some(format!("{e}; using the advisories fetched before"));
                        old
                    }
                    None => return Err(e.into()),
                },
            }
        } else {
            stored.unwrap_or_default()
        };
        let fingerprint = self.fingerprint()?;
        let data = Arc::new(data);
        let findings = backend.audit(data.clone(), &fingerprint).await?;
        // The count prompts and widgets show.
        self.update_status(|s| s.vulnerabilities = status::saturate(findings.len()));
        // Which pending updates fix something follows from the findings.
        if count {
            self.count_security_updates().await;
        }
        // `omg status` reports the scan.
        self.cache.invalidate_all();
        let age = omg::unix_now().saturating_sub(data.fetched_at);
        Ok(ResponseBody::Audit(AuditReport {
            source: data.source.clone(),
            fetched_at: data.fetched_at,
            stale: age > config.max_age_secs,
            findings,
            note,
        }))
    }

    /// `omg policy check`: installed packages against the policies, from
    /// the index and the vulnerability data last fetched. Installed
    /// packages no repository offers count as COMMUNITY, affected ones as
    /// RISK, the rest as VERIFIED (a repository authenticated them).
    pub(super) async fn policy_check(&self) -> Result<ResponseBody, WireError> {
        use omg::security::grade::Grade;
        use omg::security::policy::Candidate;
        let policy = self.policy()?;
        let current = self.index().await?;
        let findings = match self.audit_counting(false, false).await {
            Ok(ResponseBody::Audit(report)) => report.findings,
            _ => Vec::new(),
        };
        let mut violations = Vec::new();
        for record in current.index.iter().filter(|p| p.is_installed()) {
            let name = record.name;
            let finding = findings.iter().find(|f| f.name == name);
            let foreign = record.repository == "local" || record.repository == "aur";
            let grade = match (finding, foreign) {
                (Some(_), _) => Grade::Risk,
                (None, true) => Grade::Community,
                (None, false) => Grade::Verified,
            };
            violations.extend(policy.check(&Candidate {
                name,
                grade,
                aur: foreign && self.kind == BackendKind::Alpm,
                licenses: &[],
                worst: finding.map(|f| f.severity),
            }));
        }
        Ok(ResponseBody::PolicyCheck(violations))
    }

    /// The policies in force: the system's and this instance's.
    pub(super) fn policy(&self) -> Result<omg::security::policy::Policy, WireError> {
        omg::security::policy::Policy::load(
            &Paths::system().config_dir.join("policy.toml"),
            &self.paths.config_dir.join("policy.toml"),
        )
        .map_err(WireError::from)
    }

    /// Sets `info`'s security grade from its signature, origin and the
    /// vulnerability data last fetched.
    pub(super) fn grade(&self, info: PackageInfo) -> PackageInfo {
        self.assess(info).0
    }

    /// `info` with its grade, and the advisories affecting its version.
    pub(super) fn assess(
        &self,
        mut info: PackageInfo,
    ) -> (PackageInfo, Vec<omg::security::vulns::Advisory>) {
        use omg::security::{grade, scan, vulns};
        let data = scan::key(self.kind, &self.config.security)
            .and_then(|key| scan::load(self.store.as_ref()?, &key));
        let affecting = match &data {
            Some(data) => {
                // Debian's advisories name source packages and versions.
                let (name, version) = match self.kind {
                    BackendKind::Apt => (
                        info.source.clone().unwrap_or_else(|| info.name.clone()),
                        info.version.clone(),
                    ),
                    BackendKind::Alpm => (info.name.clone(), info.version.clone()),
                };
                let cmp = |a: &str, b: &str| match self.kind {
                    BackendKind::Apt => omg::version::debian_vercmp(a, b),
                    BackendKind::Alpm => omg::version::vercmp(a, b),
                };
                let bare = name.split_whitespace().next().unwrap_or(&name).to_string();
                vulns::affecting(data, &bare, &version, &cmp)
            }
            None => Vec::new(),
        };
        let (grade, reason) = grade::grade(&grade::Facts {
            signed: info.signed,
            aur: info.aur.is_some(),
            provenance: false,
            affecting: &affecting,
        });
        info.grade = Some(grade);
        info.grade_reason = Some(reason);
        (info, affecting)
    }

    /// Checks source signatures for an AUR build. Only omgd carries the
    /// OpenPGP library (omg and omgd-lite stay light): elsewhere this asks
    /// for omgd.
    pub(super) async fn verify_signatures(
        &self,
        dir: String,
        pairs: Vec<(String, String)>,
        validpgpkeys: Vec<String>,
    ) -> Result<ResponseBody, WireError> {
        let Some(check) = self.verifiers.sources else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "checking signatures needs omgd",
            ));
        };
        let base = std::path::Path::new(&dir);
        let mut named = Vec::new();
        for (data, signature) in &pairs {
            for name in [data, signature] {
                let relative = std::path::Path::new(name);
                if relative.is_absolute()
                    || relative
                        .components()
                        .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    return Err(WireError::new(
                        ErrorKind::InvalidRequest,
                        format!("{name:?} is not a file of the build directory"),
                    ));
                }
                named.push(base.join(relative));
            }
        }
        let named: Vec<(&std::path::Path, bool)> =
            named.iter().map(|p| (p.as_path(), false)).collect();
        checked_files(&named)?;
        let keys_dir = self.paths.config_dir.join("aur-keys");
        off_the_workers(move || check(std::path::Path::new(&dir), &pairs, &validpgpkeys, &keys_dir))
            .await?
            .map(|()| ResponseBody::Done)
            .map_err(|m| WireError::new(ErrorKind::Verification, m))
    }
}

/// Files a client named, each a regular file within the size limit (or,
/// where allowed, a directory), opened without following links or
/// blocking.
/// `omg verify FILE --bundle B`: the signer a Sigstore bundle names, if
/// its certificate is for `identity` from `issuer`.
async fn verify_provenance(
    file: &str,
    bundle: &str,
    identity: &str,
    issuer: &str,
    trusted_root: Option<String>,
) -> Result<ResponseBody, WireError> {
    use std::path::Path;
    let mut named = vec![(Path::new(file), false), (Path::new(bundle), false)];
    named.extend(trusted_root.as_deref().map(|r| (Path::new(r), false)));
    checked_files(&named)?;
    let verified = omg::security::provenance::verify(
        Path::new(file),
        Path::new(bundle),
        identity,
        issuer,
        trusted_root.as_deref().map(Path::new),
    );
    tokio::time::timeout(FILE_WORK_TIMEOUT, verified)
        .await
        .map_err(|_| too_slow())?
        .map(|signer| ResponseBody::Verified { signer })
        .map_err(|m| WireError::new(ErrorKind::Verification, m))
}

fn checked_files(named: &[(&std::path::Path, bool)]) -> Result<(), WireError> {
    omg::auth::client_files::check_named(named).map_err(WireError::from)
}

/// Runs `work` (file and crypto work a client asked for) on a blocking
/// thread, not the async workers, giving up after `FILE_WORK_TIMEOUT`.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WireError> {
    let task = tokio::task::spawn_blocking(work);
    tokio::time::timeout(FILE_WORK_TIMEOUT, task)
        .await
        .map_err(|_| too_slow())?
        .map_err(|e| WireError::new(ErrorKind::Internal, e.to_string()))
}

fn too_slow() -> WireError {
    WireError::new(
        ErrorKind::Internal,
        format!(
            "the check took longer than {} s and was given up",
            FILE_WORK_TIMEOUT.as_secs()
        ),
    )
}
