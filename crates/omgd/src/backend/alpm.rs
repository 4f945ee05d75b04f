//! The Arch backend, over libalpm (the `alpm` crate). It reads pacman.conf
//! (`pacman_conf`), sets up a handle exactly as pacman would, and answers
//! from the local database and the sync databases; nothing here runs pacman
//! or parses its output. The differences between libalpm versions are
//! confined to `handle()` and `sig_level()`.

mod callbacks;
mod files;
mod maintenance;
mod rollback;
mod transaction;

use std::path::{Path, PathBuf};
use std::sync::Arc;

// The one place that knows which libalpm this build is for: `alpm` is
// libalpm 13 (pacman 6.0, Debian 12), `alpm-current` today's Arch.
#[cfg(feature = "alpm")]
use ::alpm as libalpm;
#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
use ::alpm_current as libalpm;
use libalpm::{Alpm, PackageReason, PackageValidation};

/// A package as the lists of this libalpm yield it.
#[cfg(feature = "alpm")]
type Package<'a> = libalpm::Package<'a>;
#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
type Package<'a> = &'a libalpm::Package;

use super::fingerprint::{Watched, list_dir};
use super::pacman_conf::{Check, Overrides, PacmanConf, SigLevel};
use super::{BackendError, IndexRead, PackageBackend};
use omg::aur::resolve::Satisfier;
use omg::index::{IndexRecord, flags};
use omg::model::{BackendKind, InstallReason, OptionalDepend, PackageInfo, VersionOrigin};
use omg::transaction::{TransactionReport, TransactionRequest, TxChannel, TxError};

/// The pacman database of this machine (or of `--root`/`--dbpath`).
pub struct AlpmBackend {
    conf: PacmanConf,
    handle: Option<Alpm>,
}

/// Where pacman.conf is: `$OMG_PACMAN_CONF`, else `/etc/pacman.conf`.
fn conf_path() -> PathBuf {
    std::env::var_os("OMG_PACMAN_CONF")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/etc/pacman.conf"), PathBuf::from)
}

fn overrides() -> Overrides {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    Overrides {
        root: var("OMG_ALPM_ROOT"),
        db_path: var("OMG_ALPM_DBPATH"),
    }
}

fn open_error(e: impl std::fmt::Display) -> BackendError {
    BackendError::Open(e.to_string())
}

/// A `SigLevel` as libalpm's bit flags.
fn sig_level(level: &SigLevel) -> libalpm::SigLevel {
    use libalpm::SigLevel as S;
    // The bits of one side: check, optional, marginal trust, unknown trust.
    let side = |policy: &super::pacman_conf::SigPolicy,
                [check, optional, marginal, unknown]: [S; 4]| {
        let mut bits = match policy.check {
            Check::Never => S::empty(),
            Check::Optional => check | optional,
            Check::Required => check,
        };
        if policy.trust_all {
            bits |= marginal | unknown;
        }
        bits
    };
    side(
        &level.package,
        [
            S::PACKAGE,
            S::PACKAGE_OPTIONAL,
            S::PACKAGE_MARGINAL_OK,
            S::PACKAGE_UNKNOWN_OK,
        ],
    ) | side(
        &level.database,
        [
            S::DATABASE,
            S::DATABASE_OPTIONAL,
            S::DATABASE_MARGINAL_OK,
            S::DATABASE_UNKNOWN_OK,
        ],
    )
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

impl AlpmBackend {
    pub fn new() -> Result<AlpmBackend, BackendError> {
        let path = conf_path();
        let conf = PacmanConf::load(&path, &overrides()).map_err(open_error)?;
        Ok(AlpmBackend { conf, handle: None })
    }

    /// A handle set up from pacman.conf, opened on first use.
    fn handle(&mut self) -> Result<&Alpm, BackendError> {
        if self.handle.is_none() {
            self.handle = Some(open_handle(&self.conf)?);
        }
        Ok(self.handle.as_ref().expect("just opened"))
    }
}

/// Whether `target` names a package file on disk (`pacman -U`).
fn is_package_file(target: &str) -> bool {
    target.contains(".pkg.tar") && Path::new(target).is_file()
}

/// A handle set up from pacman.conf, as pacman sets up its own.
fn open_handle(c: &PacmanConf) -> Result<Alpm, BackendError> {
    open_handle_for(c, None)
}

/// The same, reading the sync databases with extension `dbext` (`.files`:
/// the databases with file lists, as `pacman -F` reads them).
fn open_handle_for(c: &PacmanConf, dbext: Option<&str>) -> Result<Alpm, BackendError> {
    let local = c.db_path.join("local");
    std::fs::read_dir(&local).map_err(|source| BackendError::Unreadable {
        path: local.clone(),
        source,
    })?;
    let mut h = Alpm::new(path_str(&c.root_dir), path_str(&c.db_path)).map_err(|e| {
        open_error(format!(
            "cannot open the pacman database in {}: {e}",
            c.db_path.display()
        ))
    })?;
    let strings = |v: &[PathBuf]| v.iter().map(|p| path_str(p)).collect::<Vec<_>>();
    h.set_cachedirs(strings(&c.cache_dirs).iter())
        .map_err(open_error)?;
    h.set_hookdirs(strings(&c.hook_dirs).iter())
        .map_err(open_error)?;
    h.set_gpgdir(path_str(&c.gpg_dir)).map_err(open_error)?;
    h.set_logfile(path_str(&c.log_file)).map_err(open_error)?;
    h.set_architectures(c.architectures.iter())
        .map_err(open_error)?;
    h.set_ignorepkgs(c.ignore_pkg.iter()).map_err(open_error)?;
    h.set_ignoregroups(c.ignore_group.iter())
        .map_err(open_error)?;
    h.set_noupgrades(c.no_upgrade.iter()).map_err(open_error)?;
    h.set_noextracts(c.no_extract.iter()).map_err(open_error)?;
    h.set_default_siglevel(sig_level(&c.sig_level))
        .map_err(open_error)?;
    h.set_local_file_siglevel(sig_level(&c.local_file_sig_level))
        .map_err(open_error)?;
    h.set_remote_file_siglevel(sig_level(&c.remote_file_sig_level))
        .map_err(open_error)?;
    h.set_parallel_downloads(c.parallel_downloads);
    h.set_check_space(c.check_space);
    sandbox(&mut h, c)?;
    if let Some(ext) = dbext {
        h.set_dbext(ext);
    }
    for repo in &c.repos {
        let db = h
            .register_syncdb_mut(repo.name.as_str(), sig_level(&repo.sig_level))
            .map_err(|e| open_error(format!("repository {}: {e}", repo.name)))?;
        db.set_servers(repo.servers.iter()).map_err(open_error)?;
        db.set_usage(usage(&repo.usage)).map_err(open_error)?;
    }
    Ok(h)
}

/// pacman 7's download sandbox: the user downloads run as, and which of
/// its restrictions are off. (libalpm 13 has no sandbox.)
#[cfg(all(feature = "alpm-current", not(feature = "alpm")))]
fn sandbox(h: &mut Alpm, c: &PacmanConf) -> Result<(), BackendError> {
    if let Some(user) = &c.download_user {
        h.set_sandbox_user(Some(user.as_str())).map_err(|_| {
            open_error(format!(
                "DownloadUser {user} in pacman.conf: there is no such user"
            ))
        })?;
    }
    h.set_disable_sandbox_filesystem(c.disable_sandbox_filesystem);
    h.set_disable_sandbox_syscalls(c.disable_sandbox_syscalls);
    Ok(())
}

#[cfg(feature = "alpm")]
fn sandbox(_: &mut Alpm, _: &PacmanConf) -> Result<(), BackendError> {
    Ok(())
}

/// A repository's `Usage` as libalpm's flags.
fn usage(u: &super::pacman_conf::Usage) -> libalpm::Usage {
    let mut flags = libalpm::Usage::NONE;
    for (on, flag) in [
        (u.sync, libalpm::Usage::SYNC),
        (u.search, libalpm::Usage::SEARCH),
        (u.install, libalpm::Usage::INSTALL),
        (u.upgrade, libalpm::Usage::UPGRADE),
    ] {
        if on {
            flags |= flag;
        }
    }
    flags
}

fn dep_strings<D: ToString>(deps: impl Iterator<Item = D>) -> Vec<String> {
    deps.map(|d| d.to_string()).collect()
}

fn reason(pkg: &Package<'_>) -> InstallReason {
    match pkg.reason() {
        PackageReason::Explicit => InstallReason::Explicit,
        PackageReason::Depend => InstallReason::Dependency,
    }
}

fn validation(pkg: &Package<'_>) -> Vec<String> {
    let v = pkg.validation();
    let mut out = Vec::new();
    for (flag, name) in [
        (PackageValidation::NONE, "none"),
        (PackageValidation::MD5SUM, "md5"),
        (PackageValidation::SHA256SUM, "sha256"),
        (PackageValidation::SIGNATURE, "signature"),
    ] {
        if v.contains(flag) && !flag.is_empty() {
            out.push(name.to_string());
        }
    }
    if out.is_empty() {
        out.push("unknown".to_string());
    }
    out
}

fn time(t: i64) -> Option<u64> {
    u64::try_from(t).ok().filter(|t| *t > 0)
}

impl PackageBackend for AlpmBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Alpm
    }

    fn library(&self) -> String {
        format!("libalpm {}", libalpm::version())
    }

    fn lock_file(&self) -> Option<std::path::PathBuf> {
        Some(self.conf.db_path.join("db.lck"))
    }

    fn root(&self) -> std::path::PathBuf {
        self.conf.root_dir.clone()
    }

    fn log_file(&self) -> Option<std::path::PathBuf> {
        Some(self.conf.log_file.clone())
    }

    fn cached_package(&mut self, name: &str, version: &str) -> Option<std::path::PathBuf> {
        rollback::in_cache(&self.conf, name, version)
    }

    fn watched(&self) -> Vec<Watched> {
        let c = &self.conf;
        let mut watched = vec![
            // pacman holds this lock during every transaction: its coming
            // and going is what inotify reports for the database directory.
            Watched::File(c.db_path.join("db.lck")),
            Watched::EntryFiles {
                path: c.db_path.join("local"),
                file: "desc".into(),
            },
            Watched::Dir {
                path: c.db_path.join("sync"),
                skip: Vec::new(),
            },
        ];
        watched.extend(c.files.iter().cloned().map(Watched::File));
        watched
    }

    fn read_index(&mut self) -> Result<IndexRead, BackendError> {
        let handle = self.handle()?;
        let local = handle.localdb();
        let mut records: Vec<IndexRecord> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for db in handle.syncdbs() {
            for pkg in db.pkgs() {
                // The first repository offering a name wins, as in pacman.
                if !seen.insert(pkg.name().to_string()) {
                    continue;
                }
                let installed = local.pkg(pkg.name()).ok();
                let mut bits = flags::AVAILABLE;
                if let Some(l) = &installed {
                    bits |= installed_flags(l);
                    if pkg.version() > l.version() && !pkg.should_ignore() {
                        bits |= flags::UPGRADABLE;
                    }
                }
                let installed_version = installed.map(|l| l.version().to_string());
                records.push(record(&pkg, db.name(), installed_version, bits));
            }
        }
        // Installed packages no repository offers ("foreign", as the AUR's).
        for pkg in local.pkgs() {
            if seen.contains(pkg.name()) {
                continue;
            }
            let installed_version = Some(pkg.version().to_string());
            records.push(record(
                &pkg,
                "local",
                installed_version,
                installed_flags(&pkg),
            ));
        }
        let sync = self.conf.db_path.join("sync");
        let last_refresh = list_dir(&sync, &[])
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .filter_map(|p| std::fs::metadata(p).ok()?.modified().ok())
            .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .max();
        Ok(IndexRead {
            records,
            last_refresh,
            graph: None,
        })
    }

    fn info(&mut self, name: &str) -> Result<Option<PackageInfo>, BackendError> {
        let hold = self.conf.hold_pkg.clone();
        // Repositories whose packages must carry a valid signature.
        // How each repository's packages are checked (SigLevel): only a
        // signature pacman checks vouches for a package.
        let checks: Vec<(String, Check)> = self
            .conf
            .repos
            .iter()
            .map(|r| (r.name.clone(), r.sig_level.package.check))
            .collect();
        let handle = self.handle()?;
        let local = handle.localdb();
        let (repo, pkg_name) = match name.split_once('/') {
            Some((r, n)) => (Some(r), n),
            None => (None, name),
        };
        let mut versions = Vec::new();
        let mut candidate = None;
        for db in handle.syncdbs() {
            if repo.is_some_and(|r| r != db.name()) {
                continue;
            }
            if let Ok(pkg) = db.pkg(pkg_name) {
                versions.push(VersionOrigin {
                    version: pkg.version().to_string(),
                    repositories: vec![db.name().to_string()],
                });
                if candidate.is_none() {
                    candidate = Some((db.name().to_string(), pkg));
                }
            }
        }
        let installed = local.pkg(pkg_name).ok();
        if let Some(l) = &installed {
            versions.push(VersionOrigin {
                version: l.version().to_string(),
                repositories: vec!["local".to_string()],
            });
        }
        let (repository, shown) = match (&candidate, &installed) {
            (Some((repo, pkg)), _) => (repo.clone(), *pkg),
            (None, Some(l)) if repo.is_none() => ("local".to_string(), *l),
            _ => return Ok(None),
        };
        versions.sort_by(|a, b| libalpm::vercmp(b.version.as_str(), a.version.as_str()));
        let optional_depends = shown
            .optdepends()
            .iter()
            .map(|d| OptionalDepend {
                depend: d.to_string(),
                installed: local.pkgs().find_satisfier(d.name()).is_some(),
            })
            .collect();
        let upgradable = match (&candidate, &installed) {
            (Some((_, c)), Some(l)) => c.version() > l.version() && !c.should_ignore(),
            _ => false,
        };
        let required_by = installed
            .as_ref()
            .map(|l| l.required_by().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        Ok(Some(PackageInfo {
            name: shown.name().to_string(),
            architecture: shown.arch().unwrap_or("any").to_string(),
            installed_version: installed.as_ref().map(|l| l.version().to_string()),
            candidate_version: candidate.as_ref().map(|(_, c)| c.version().to_string()),
            repository,
            version: shown.version().to_string(),
            section: None,
            priority: None,
            download_size: u64::try_from(shown.size()).unwrap_or(0),
            installed_size: u64::try_from(shown.isize()).unwrap_or(0),
            maintainer: None,
            homepage: shown.url().map(str::to_string),
            source: shown.base().map(str::to_string),
            summary: shown.desc().unwrap_or_default().to_string(),
            description: String::new(),
            depends: dep_strings(shown.depends().iter()),
            pre_depends: Vec::new(),
            recommends: Vec::new(),
            suggests: Vec::new(),
            provides: dep_strings(shown.provides().iter()),
            conflicts: dep_strings(shown.conflicts().iter()),
            breaks: Vec::new(),
            replaces: dep_strings(shown.replaces().iter()),
            install_reason: installed.as_ref().map(reason),
            essential: hold.iter().any(|h| h == shown.name()),
            upgradable,
            available: versions,
            groups: shown.groups().iter().map(str::to_string).collect(),
            licenses: shown.licenses().iter().map(str::to_string).collect(),
            optional_depends,
            required_by,
            packager: shown.packager().map(str::to_string),
            build_date: time(shown.build_date()),
            install_date: installed
                .as_ref()
                .and_then(|l| l.install_date())
                .and_then(time),
            validation: installed.as_ref().map(validation).unwrap_or_default(),
            signed: candidate.as_ref().map(|(repo, pkg)| {
                match checks
                    .iter()
                    .find(|(name, _)| name == repo)
                    .map(|(_, c)| *c)
                {
                    Some(Check::Required) => true,
                    // Checked when present.
                    Some(Check::Optional) => pkg.base64_sig().is_some(),
                    _ => false,
                }
            }),
            grade: None,
            grade_reason: None,
            aur: None,
            make_depends: Vec::new(),
            check_depends: Vec::new(),
        }))
    }

    fn refresh_private(
        &mut self,
        lists: &Path,
        offline: bool,
    ) -> Result<Vec<omg::model::PendingUpdate>, BackendError> {
        private_dbpath(&self.conf.db_path, lists)
            .map_err(|(path, source)| BackendError::Unreadable { path, source })?;
        self.conf.db_path = lists.to_path_buf();
        self.handle = None;
        self.handle()?;
        let handle = self.handle.as_mut().expect("just opened");
        if !offline {
            handle
                .syncdbs_mut()
                .update(false)
                .map_err(|e| open_error(format!("refreshing the package databases failed: {e}")))?;
        }
        let local = handle.localdb();
        let mut pending = Vec::new();
        for pkg in local.pkgs() {
            let newer = handle
                .syncdbs()
                .iter()
                .find_map(|db| db.pkg(pkg.name()).ok());
            if let Some(n) = newer
                && n.version() > pkg.version()
                && !n.should_ignore()
            {
                pending.push(omg::model::PendingUpdate {
                    name: pkg.name().to_string(),
                    installed: pkg.version().to_string(),
                    available: n.version().to_string(),
                    repository: n.db().map(|d| d.name().to_string()).unwrap_or_default(),
                });
            }
        }
        Ok(pending)
    }

    fn file_index(
        &mut self,
        lists: &Path,
        writer: &mut omg::provides::build::IndexWriter<'_>,
    ) -> Result<Option<usize>, BackendError> {
        // The `.files` databases beside the private copy's `.db`s, fetched
        // as `pacman -Fy` fetches them.
        let mut conf = self.conf.clone();
        conf.db_path = lists.to_path_buf();
        let mut handle = open_handle_for(&conf, Some(".files"))?;
        handle
            .syncdbs_mut()
            .update(false)
            .map_err(|e| open_error(format!("fetching the file databases failed: {e}")))?;
        Ok(Some(writer.write(files::sync_sources(&handle))?))
    }

    fn forget(&mut self) {
        self.handle = None;
    }

    fn satisfier(&mut self, depend: &str) -> Result<Satisfier, BackendError> {
        let handle = self.handle()?;
        if handle.localdb().pkgs().find_satisfier(depend).is_some() {
            return Ok(Satisfier::Installed);
        }
        Ok(handle
            .syncdbs()
            .iter()
            .find_map(|db| db.pkgs().find_satisfier(depend))
            .map_or(Satisfier::Nothing, |p| {
                Satisfier::Repository(p.name().to_string())
            }))
    }

    fn repository_has(&mut self, target: &str) -> Result<bool, BackendError> {
        let handle = self.handle()?;
        Ok(handle.syncdbs().iter().any(|db| {
            db.pkg(target).is_ok()
                || db.pkgs().find_satisfier(target).is_some()
                || db.group(target).is_ok()
        }))
    }

    fn versions(
        &mut self,
        name: &str,
        archive: Option<&str>,
    ) -> Result<Vec<omg::model::PackageVersion>, BackendError> {
        let arches = self.conf.architectures.clone();
        let cached = rollback::cached_packages(&self.conf);
        let handle = self.handle()?;
        let installed = handle
            .localdb()
            .pkg(name)
            .ok()
            .map(|p| p.version().to_string());
        let mut found: Vec<(String, String)> = Vec::new();
        for db in handle.syncdbs().iter() {
            if let Ok(p) = db.pkg(name) {
                found.push((p.version().to_string(), format!("repository {}", db.name())));
            }
        }
        found.extend(
            cached
                .into_iter()
                .filter(|(_, n, _, _)| n == name)
                .map(|(_, _, version, _)| (version, "cache".to_string())),
        );
        if let Some(base) = archive {
            let listed = rollback::archive_versions(base, name, &arches)
                .map_err(|e| BackendError::Open(format!("the Arch Linux Archive: {e}")))?;
            found.extend(listed.into_iter().map(|v| (v, "archive".to_string())));
        }
        Ok(super::gather_versions(
            found,
            installed.as_deref(),
            &|a, b| libalpm::vercmp(a, b),
        ))
    }

    fn owners(&mut self, paths: &[String]) -> Result<Vec<Vec<String>>, BackendError> {
        let root = self.conf.root_dir.clone();
        Ok(files::owners(self.handle()?, &root, paths))
    }

    fn files(&mut self, name: &str) -> Result<Option<Vec<String>>, BackendError> {
        let root = self.conf.root_dir.clone();
        Ok(files::files(self.handle()?, &root, name))
    }

    fn installed_graph(&mut self) -> Result<Vec<omg::model::GraphNode>, BackendError> {
        let handle = self.handle()?;
        let local = handle.localdb().pkgs();
        // The installed package that satisfies a dependency, as pacman
        // finds it (names, then what packages provide).
        let satisfier = |depend: String| local.find_satisfier(depend).map(|p| p.name().to_string());
        let mut out = Vec::new();
        for pkg in local {
            let mut depends: Vec<String> = pkg
                .depends()
                .iter()
                .filter_map(|d| satisfier(d.to_string()))
                .collect();
            depends.dedup();
            let recommends: Vec<String> = pkg
                .optdepends()
                .iter()
                .filter_map(|d| satisfier(d.name().to_string()))
                .filter(|n| !depends.contains(n))
                .collect();
            out.push(omg::model::GraphNode {
                name: pkg.name().to_string(),
                version: pkg.version().to_string(),
                explicit: pkg.reason() == PackageReason::Explicit,
                size: u64::try_from(pkg.isize()).unwrap_or(0),
                depends,
                recommends,
                install_date: pkg.install_date().and_then(|d| u64::try_from(d).ok()),
                repository: handle
                    .syncdbs()
                    .iter()
                    .find(|db| db.pkg(pkg.name()).is_ok())
                    .map_or_else(|| "local".to_string(), |db| db.name().to_string()),
            });
        }
        Ok(out)
    }

    fn installed_for_audit(
        &mut self,
    ) -> Result<Vec<omg::security::vulns::Installed>, BackendError> {
        let handle = self.handle()?;
        let mut out = Vec::new();
        for pkg in handle.localdb().pkgs() {
            let version = pkg.version().to_string();
            let candidate = handle
                .syncdbs()
                .iter()
                .find_map(|db| db.pkg(pkg.name()).ok())
                .map(|p| p.version().to_string())
                .filter(|v| omg::version::vercmp(v, &version) == std::cmp::Ordering::Greater);
            out.push(omg::security::vulns::Installed {
                name: pkg.name().to_string(),
                source: pkg.name().to_string(),
                source_version: version.clone(),
                version,
                candidate,
            });
        }
        Ok(out)
    }

    fn maintain(
        &mut self,
        request: &omg::transaction::MaintenanceRequest,
        channel: &Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        self.handle = None;
        maintenance::run(&self.conf, request, channel)
    }

    fn transact(
        &mut self,
        request: &TransactionRequest,
        channel: &Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        // The transaction gets a handle of its own, with callbacks.
        self.handle = None;
        transaction::run(&self.conf, request, channel)
    }
}

/// The index record of `pkg`, offered by `repository`.
fn record(
    pkg: &Package<'_>,
    repository: &str,
    installed_version: Option<String>,
    flags: u16,
) -> IndexRecord {
    IndexRecord {
        name: pkg.name().to_string(),
        architecture: pkg.arch().unwrap_or("any").to_string(),
        version: pkg.version().to_string(),
        installed_version,
        repository: repository.to_string(),
        summary: pkg.desc().unwrap_or_default().to_string(),
        provides: pkg
            .provides()
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        flags,
    }
}

fn installed_flags(pkg: &Package<'_>) -> u16 {
    let mut bits = flags::INSTALLED;
    if pkg.reason() == PackageReason::Depend {
        bits |= flags::AUTO;
        if pkg.required_by().is_empty() && pkg.optional_for().is_empty() {
            bits |= flags::ORPHAN;
        }
    }
    bits
}

/// Prepares `lists` as a private database directory, as checkupdates does:
/// its `local` is (a link to) the real local database of `db_path`, its
/// `sync` a private copy of the sync databases (copied once, then
/// refreshed there). Refreshing it never writes the system's.
pub fn private_dbpath(
    db_path: &Path,
    lists: &Path,
) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    let sync = lists.join("sync");
    omg::config::ensure_private_dir(&sync).map_err(|e| (sync.clone(), e))?;
    let local_link = lists.join("local");
    if std::fs::symlink_metadata(&local_link).is_err() {
        std::os::unix::fs::symlink(db_path.join("local"), &local_link)
            .map_err(|e| (local_link.clone(), e))?;
    }
    if list_dir(&sync, &[]).is_empty() {
        for file in list_dir(&db_path.join("sync"), &[]) {
            if let Some(name) = file.file_name() {
                let copy = sync.join(name);
                std::fs::copy(&file, &copy).map_err(|e| (file.clone(), e))?;
                // As old as the original: a refresh then asks the mirror
                // for anything newer than what the system has.
                let modified = std::fs::metadata(&file).and_then(|m| m.modified());
                if let Ok(modified) = modified {
                    let _ = std::fs::File::options()
                        .write(true)
                        .open(&copy)
                        .and_then(|f| f.set_modified(modified));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod vercmp_check;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::pacman_conf::SigPolicy;

    #[test]
    fn sig_levels_map_to_libalpm_bits() {
        use libalpm::SigLevel as S;
        let level = SigLevel {
            package: SigPolicy {
                check: Check::Required,
                trust_all: false,
            },
            database: SigPolicy {
                check: Check::Optional,
                trust_all: true,
            },
        };
        assert_eq!(
            sig_level(&level),
            S::PACKAGE
                | S::DATABASE
                | S::DATABASE_OPTIONAL
                | S::DATABASE_MARGINAL_OK
                | S::DATABASE_UNKNOWN_OK
        );
        let never = SigLevel {
            package: SigPolicy {
                check: Check::Never,
                trust_all: false,
            },
            database: SigPolicy {
                check: Check::Never,
                trust_all: false,
            },
        };
        assert_eq!(sig_level(&never), S::empty());
    }
}
