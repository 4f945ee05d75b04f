//! The daemon's side of `omg outdated`: joins what it already holds — the
//! updates the last private refresh found and the index's candidates, the
//! AUR's and VCS upstreams' answers and each runtime's offers as last
//! fetched, the advisories as last fetched — into one ranked report.
//! Fetching (the AUR, git heads, runtime listings) happens only in
//! `refresh_outdated`, which `omgd work refresh` and `omg outdated
//! --refresh` call: asking never touches the network.

use std::collections::BTreeMap;

use super::Engine;
use omg::config::Paths;
use omg::ipc::protocol::{ResponseBody, WireError};
use omg::model::BackendKind;
use omg::outdated::{self, Checked, Ecosystem, Kind, Report, Row, Source};
use omg::runtime::version_file::Runtime;
use omg::store::OUTDATED;
use omg::store::cached::{Cache, Stored};

impl Engine {
    pub(super) fn ecosystem(&self) -> Ecosystem {
        match self.kind {
            BackendKind::Alpm => Ecosystem::Arch,
            BackendKind::Apt => Ecosystem::Debian,
        }
    }

    pub(super) fn cmp_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        match self.kind {
            BackendKind::Alpm => omg::version::vercmp(a, b),
            BackendKind::Apt => omg::version::debian_vercmp(a, b),
        }
    }

    /// Answers fetched from upstreams: when, and what (or why not).
    fn fetched(&self) -> Cache<'_> {
        Cache::new(self.store.as_ref(), OUTDATED)
    }

    fn load_fetched<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Option<Stored<Result<T, String>>> {
        self.fetched().get(key)
    }

    fn save_fetched<T: serde::Serialize>(&self, key: &str, value: Result<T, String>) {
        self.fetched().put(key, &value);
    }

    /// The versions installed of each runtime, newest first.
    pub(super) fn installed_runtimes(&self) -> BTreeMap<Runtime, Vec<String>> {
        let versions = omg::runtime::versions_dir(&self.paths);
        Runtime::ALL
            .iter()
            .map(|r| (*r, installed_versions(&versions, r.as_str())))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Fetches what `omg outdated` reports from upstreams: the AUR's
    /// versions of foreign packages, the VCS packages' upstream heads,
    /// each installed runtime's offers. Each is stored with its time, or
    /// with why it failed (the last good answer is kept).
    pub async fn refresh_outdated(&self) {
        if self.aur.is_some() {
            let found = match self.aur_updates().await {
                Ok(ResponseBody::AurUpdates(list)) => Ok(list),
                Ok(_) => Err("unexpected answer".to_string()),
                Err(e) => Err(e.message),
            };
            self.keep_good("aur", found);
            let devel = tokio::task::spawn_blocking(|| {
                let path = Paths::user()
                    .map(|p| p.cache_dir.join("aur").join("devel.json"))
                    .ok()?;
                let db = omg::aur::devel::DevelDb::load(&path);
                Some(
                    db.outdated()
                        .into_iter()
                        .map(|(base, built)| (base.to_string(), built.packages.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
            self.save_fetched("devel", Ok(devel));
        }
        let client = match omg::runtime::upstream::client() {
            Ok(c) => c,
            Err(e) => {
                log::warn!("{e}");
                return;
            }
        };
        for (runtime, installed) in self.installed_runtimes() {
            let offered = omg::runtime::upstream::offered(
                runtime,
                &self.config.runtimes,
                &installed,
                &client,
            )
            .await;
            self.keep_good(&format!("runtime:{}", runtime.as_str()), offered);
        }
    }

    /// Stores `found`; a failure keeps the last good answer beside the
    /// error.
    pub(super) fn keep_good<T>(&self, key: &str, found: Result<T, String>)
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        match found {
            Ok(value) => self.save_fetched(key, Ok(value)),
            Err(e) => {
                log::warn!("{key}: {e}");
                let error_key = format!("{key}:error");
                self.save_fetched::<()>(&error_key, Err(e));
            }
        }
    }

    /// When `key` was fetched well last, and the error of a later attempt.
    pub(super) fn checked(&self, source: Source, key: &str) -> Checked {
        let at = self.fetched().stored_at(key);
        let failed = self.load_fetched::<()>(&format!("{key}:error"));
        let error = match (failed, at) {
            (Some(f), Some(at)) if f.at > at => f.value.err(),
            (Some(f), None) => f.value.err(),
            _ => None,
        };
        Checked { source, at, error }
    }

    /// Counts the pending repository updates that fix a known
    /// vulnerability (what `omg outdated --security` would take, pinned
    /// packages aside) into the status file, where prompts and D-Bus
    /// widgets read it. Nothing is fetched.
    pub async fn count_security_updates(&self) {
        if self.backend.is_none() {
            return;
        }
        // Without advisories nothing is known to fix anything: no report
        // is built (daemon start, reloads) until a scan has run.
        let scanned = omg::security::scan::key(self.kind, &self.config.security)
            .zip(self.store.as_ref())
            .is_some_and(|(key, store)| omg::security::scan::load(store, &key).is_some());
        if !scanned {
            self.update_status(|s| s.security_updates = 0);
            return;
        }
        // Boxed: the report reads the audit, which counts again.
        let Ok(ResponseBody::Outdated(report)) = Box::pin(self.outdated(false)).await else {
            return;
        };
        let count = report
            .rows
            .iter()
            .filter(|r| r.source == Source::Repository && !r.pinned && !r.fixes.is_empty())
            .count();
        self.update_status(|s| s.security_updates = omg::status::saturate(count));
    }

    /// The report: every pending update omg knows of, with what each fixes.
    pub async fn outdated(&self, refresh: bool) -> Result<ResponseBody, WireError> {
        // Matching advisories needs the package database (omgd-lite sends
        // the client on).
        self.backend()?;
        if refresh {
            self.refresh_outdated().await;
        }
        let current = self.index().await?;
        let index = &current.index;
        let ecosystem = self.ecosystem();
        let mut rows: Vec<Row> = Vec::new();
        let mut checked = Vec::new();

        // Repository packages: the private refresh's findings and the
        // system lists' candidates, the newer of the two.
        let refreshed = self
            .store
            .as_ref()
            .and_then(|s| crate::daemon::refresh::stored(s, self.kind.as_str()));
        let mut pending: BTreeMap<String, (String, String, String)> = BTreeMap::new();
        for name in index.names() {
            let Some(p) = index.find(name) else { continue };
            if let Some(installed) = p.installed_version
                && self.cmp_versions(p.version, installed) == std::cmp::Ordering::Greater
            {
                let candidate = p.version;
                pending.insert(
                    p.name.to_string(),
                    (
                        installed.to_string(),
                        candidate.to_string(),
                        p.repository.to_string(),
                    ),
                );
            }
        }
        if let Some(r) = &refreshed {
            for u in &r.pending {
                // Still installed at that version (the list is from the
                // last refresh).
                let now = index
                    .find(&u.name)
                    .and_then(|p| p.installed_version.map(str::to_string));
                if now.as_deref() != Some(u.installed.as_str()) {
                    continue;
                }
                let newer = pending.get(&u.name).is_none_or(|(_, have, _)| {
                    self.cmp_versions(&u.available, have) == std::cmp::Ordering::Greater
                });
                if newer {
                    pending.insert(
                        u.name.clone(),
                        (
                            u.installed.clone(),
                            u.available.clone(),
                            u.repository.clone(),
                        ),
                    );
                }
            }
        }
        checked.push(Checked {
            source: Source::Repository,
            at: refreshed
                .as_ref()
                .and_then(|r| r.last_success)
                .or(index.meta.last_refresh),
            error: refreshed.as_ref().and_then(|r| r.error.clone()),
        });
        for (name, (installed, available, repository)) in pending {
            rows.push(Row {
                source: Source::Repository,
                kind: outdated::kind(&installed, &available, ecosystem),
                name,
                installed: Some(installed),
                available,
                origin: repository,
                fixes: Vec::new(),
                pinned: false,
            });
        }

        // The AUR and VCS packages, as last fetched.
        if self.aur.is_some() {
            if let Some(Stored {
                value: Ok(list), ..
            }) = self.load_fetched::<Vec<omg::model::AurUpdate>>("aur")
            {
                for u in list {
                    let now = index
                        .find(&u.name)
                        .and_then(|p| p.installed_version.map(str::to_string));
                    // Upgraded since the fetch: no longer pending.
                    let Some(now) = now else { continue };
                    if omg::version::vercmp(&u.aur_version, &now) != std::cmp::Ordering::Greater {
                        continue;
                    }
                    rows.push(Row {
                        source: Source::Aur,
                        kind: outdated::kind(&now, &u.aur_version, Ecosystem::Arch),
                        name: u.name,
                        installed: Some(now),
                        available: u.aur_version,
                        origin: "aur".into(),
                        fixes: Vec::new(),
                        pinned: false,
                    });
                }
            }
            checked.push(self.checked(Source::Aur, "aur"));
            if let Some(Stored {
                value: Ok(list), ..
            }) = self.load_fetched::<Vec<(String, Vec<String>)>>("devel")
            {
                for (base, packages) in list {
                    for name in packages {
                        let Some(now) = index
                            .find(&name)
                            .and_then(|p| p.installed_version.map(str::to_string))
                        else {
                            continue;
                        };
                        rows.push(Row {
                            source: Source::Devel,
                            name,
                            installed: Some(now),
                            available: "newer commits".into(),
                            kind: Kind::Devel,
                            origin: format!("aur ({base})"),
                            fixes: Vec::new(),
                            pinned: false,
                        });
                    }
                }
            }
            checked.push(self.checked(Source::Devel, "devel"));
        }

        // Runtimes: the newest installed version of each line against the
        // offers last fetched.
        let installed = self.installed_runtimes();
        for (runtime, versions) in &installed {
            let key = format!("runtime:{}", runtime.as_str());
            if let Some(Stored {
                value: Ok(offered), ..
            }) = self.load_fetched::<Vec<String>>(&key)
            {
                let mut seen_lines: Vec<String> = Vec::new();
                for version in versions {
                    let Some(newer) = outdated::newer_in_line(version, &offered) else {
                        continue;
                    };
                    // One row per line: the newest installed of it.
                    if seen_lines.contains(newer) {
                        continue;
                    }
                    seen_lines.push(newer.clone());
                    if versions.iter().any(|v| v == newer) {
                        continue;
                    }
                    rows.push(Row {
                        source: Source::Runtime,
                        name: runtime.as_str().into(),
                        installed: Some(version.clone()),
                        available: newer.clone(),
                        kind: outdated::kind(version, newer, Ecosystem::Release),
                        origin: "upstream".into(),
                        fixes: Vec::new(),
                        pinned: false,
                    });
                }
            }
        }
        if !installed.is_empty() {
            let at = installed
                .keys()
                .filter_map(|r| self.fetched().stored_at(&format!("runtime:{}", r.as_str())))
                .min();
            let error = installed.keys().find_map(|r| {
                self.checked(Source::Runtime, &format!("runtime:{}", r.as_str()))
                    .error
            });
            checked.push(Checked {
                source: Source::Runtime,
                at,
                error,
            });
        }

        // What each update fixes, from the advisories last fetched.
        let mut advisories = None;
        if let Ok(ResponseBody::Audit(report)) = self.stored_audit().await {
            advisories = Some((report.source.clone(), report.fetched_at));
            for row in rows
                .iter_mut()
                .filter(|r| matches!(r.source, Source::Repository | Source::Aur))
            {
                if let Some(finding) = report.findings.iter().find(|f| f.name == row.name) {
                    row.fixes =
                        outdated::fixes(finding, &row.available, &|a, b| self.cmp_versions(a, b));
                }
            }
        }
        let pins = omg::pins::system();
        for row in rows
            .iter_mut()
            .filter(|r| matches!(r.source, Source::Repository | Source::Aur | Source::Devel))
        {
            row.pinned = !pins.allows(&row.name, &row.available);
        }
        outdated::rank(&mut rows);
        Ok(ResponseBody::Outdated(Report {
            rows,
            checked,
            advisories,
        }))
    }
}

/// Installed versions in a runtime's directory, newest first.
fn installed_versions(versions: &std::path::Path, runtime: &str) -> Vec<String> {
    let mut found = omg::runtime::versions::installed(versions, runtime);
    found.sort_by(|a, b| outdated::release_cmp(b, a));
    found
}
