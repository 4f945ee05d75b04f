//! The Debian backend, over libapt-pkg (rust-apt). It reads the same cache,
//! policy and dependency state that `apt` uses; nothing here parses the
//! output of apt or dpkg.
//!
//! Reading every description in cache order is slow when the lists are
//! stored compressed (each backwards seek re-decompresses the file), so the
//! index reads them sorted by where they sit on disk.

use std::path::{Path, PathBuf};

use rust_apt::config::Config;
use rust_apt::{Cache, PackageFile, PackageSort, PkgCurrentState, Version};

mod files;
mod maintenance;
mod marks;
mod pins;
mod progress;
mod rollback;
mod transaction;

use super::fingerprint::{Watched, list_dir};
use super::{BackendError, IndexRead, PackageBackend};
use omg::index::{IndexRecord, flags};
use omg::model::{BackendKind, InstallReason, PackageInfo, VersionOrigin};

/// The apt database of this machine.
pub struct AptBackend {
    cache: Option<Cache>,
}

/// The files whose state the apt cache is built from.
struct AptPaths {
    status: PathBuf,
    extended_states: PathBuf,
    lists: PathBuf,
    /// Sources, preferences and configuration: files and directories.
    etc_files: Vec<PathBuf>,
    etc_dirs: Vec<PathBuf>,
}

impl AptPaths {
    fn from_config() -> AptPaths {
        rust_apt::config::init_config_system();
        let c = Config::new();
        AptPaths {
            status: c.file("Dir::State::status", "/var/lib/dpkg/status").into(),
            extended_states: c
                .file(
                    "Dir::State::extended_states",
                    "/var/lib/apt/extended_states",
                )
                .into(),
            lists: c.dir("Dir::State::lists", "/var/lib/apt/lists/").into(),
            etc_files: vec![
                c.file("Dir::Etc::sourcelist", "/etc/apt/sources.list")
                    .into(),
                c.file("Dir::Etc::preferences", "/etc/apt/preferences")
                    .into(),
                c.file("Dir::Etc::main", "/etc/apt/apt.conf").into(),
            ],
            etc_dirs: vec![
                c.dir("Dir::Etc::sourceparts", "/etc/apt/sources.list.d")
                    .into(),
                c.dir("Dir::Etc::preferencesparts", "/etc/apt/preferences.d")
                    .into(),
                c.dir("Dir::Etc::parts", "/etc/apt/apt.conf.d").into(),
            ],
        }
    }
}

/// Names in the lists directory that are not package lists.
const LISTS_SKIP: &[&str] = &["lock", "partial", "auxfiles"];

impl Default for AptBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl AptBackend {
    pub fn new() -> AptBackend {
        AptBackend { cache: None }
    }

    fn cache(&mut self) -> Result<&Cache, BackendError> {
        if self.cache.is_none() {
            let paths = AptPaths::from_config();
            require_readable(&paths.status)?;
            let cache = Cache::new::<&str>(&[]).map_err(|e| BackendError::Open(e.to_string()))?;
            self.cache = Some(cache);
        }
        Ok(self.cache.as_ref().expect("just opened"))
    }
}

fn require_readable(path: &Path) -> Result<(), BackendError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|source| BackendError::Unreadable {
            path: path.to_path_buf(),
            source,
        })
}

/// `codename/component` of a package file, or `local` for the dpkg status
/// file and other files no repository serves.
fn file_label(file: &PackageFile<'_>) -> String {
    if !file.is_downloadable() {
        return "local".to_string();
    }
    let suite = file
        .codename()
        .filter(|s| !s.is_empty())
        .or_else(|| file.archive())
        .unwrap_or("unknown");
    match file.component().filter(|c| !c.is_empty()) {
        Some(component) => format!("{suite}/{component}"),
        None => suite.to_string(),
    }
}

/// Where `version` can be had: its first repository, or `local`.
fn repository(version: &Version<'_>) -> String {
    version
        .package_files()
        .find(|f| f.is_downloadable())
        .map_or_else(|| "local".to_string(), |f| file_label(&f))
}

/// Every place `version` is known from.
fn repositories(version: &Version<'_>) -> Vec<String> {
    let mut out: Vec<String> = version.package_files().map(|f| file_label(&f)).collect();
    out.dedup();
    out
}

/// Splits a dependency field (`a (>= 1), b | c`) into its comma-separated
/// groups, with whitespace (including folded lines) collapsed.
fn split_relations(field: Option<String>) -> Vec<String> {
    field
        .map(|f| {
            f.split(',')
                .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|part| !part.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The long description without its first (summary) line, with Debian's
/// one-space indentation removed and ` .` lines turned into empty lines.
fn long_description(full: &str) -> String {
    full.lines()
        .skip(1)
        .map(|line| {
            let line = line.strip_prefix(' ').unwrap_or(line);
            if line == "." { "" } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn unix_mtime(path: &Path) -> Option<u64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

impl PackageBackend for AptBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Apt
    }

    fn library(&self) -> String {
        "libapt-pkg".to_string()
    }

    fn lock_file(&self) -> Option<PathBuf> {
        Some(
            AptPaths::from_config()
                .status
                .parent()?
                .join("lock-frontend"),
        )
    }

    fn root(&self) -> PathBuf {
        PathBuf::from(Config::new().dir("Dir", "/"))
    }

    fn cached_package(&mut self, name: &str, version: &str) -> Option<PathBuf> {
        rollback::cached_debs(&Config::new())
            .into_iter()
            .find(|(_, n, v, _)| n == name && v == version)
            .map(|(path, _, _, _)| path)
    }

    fn watched(&self) -> Vec<Watched> {
        let paths = AptPaths::from_config();
        let mut watched = vec![
            Watched::Required(paths.status),
            Watched::File(paths.extended_states),
            Watched::Dir {
                path: paths.lists,
                skip: LISTS_SKIP.iter().map(|s| s.to_string()).collect(),
            },
        ];
        watched.extend(paths.etc_files.into_iter().map(Watched::File));
        watched.extend(paths.etc_dirs.into_iter().map(|path| Watched::Dir {
            path,
            skip: Vec::new(),
        }));
        watched
    }

    fn refresh_private(
        &mut self,
        lists: &Path,
        offline: bool,
    ) -> Result<Vec<omg::model::PendingUpdate>, BackendError> {
        let system_lists = AptPaths::from_config().lists;
        let partial = lists.join("partial");
        omg::config::ensure_private_dir(&partial).map_err(|source| BackendError::Unreadable {
            path: partial.clone(),
            source,
        })?;
        if list_dir(lists, LISTS_SKIP).is_empty() {
            for file in list_dir(&system_lists, LISTS_SKIP) {
                if let Some(name) = file.file_name()
                    && file.is_file()
                {
                    std::fs::copy(&file, lists.join(name)).map_err(|source| {
                        BackendError::Unreadable {
                            path: file.clone(),
                            source,
                        }
                    })?;
                }
            }
        }
        // The rest of this process reads the private copy.
        self.cache = None;
        let config = Config::new();
        config.set("Dir::State::Lists", &format!("{}/", lists.display()));
        config.set("Dir::Cache::pkgcache", "");
        config.set("Dir::Cache::srcpkgcache", "");
        files::want_contents(&config);
        let open = || Cache::new::<&str>(&[]).map_err(|e| BackendError::Open(e.to_string()));
        if !offline {
            let mut progress = rust_apt::progress::AcquireProgress::quiet();
            open()?.update(&mut progress).map_err(|e| {
                BackendError::Open(format!("refreshing the package lists failed: {e}"))
            })?;
        }
        let cache = open()?;
        let pending = cache
            .packages(&PackageSort::default().upgradable())
            .filter_map(|pkg| {
                let installed = pkg.installed()?;
                let candidate = pkg.candidate()?;
                let repository = candidate
                    .package_files()
                    .find_map(|f| f.archive().map(str::to_string))
                    .unwrap_or_default();
                Some(omg::model::PendingUpdate {
                    name: pkg.name().to_string(),
                    installed: installed.version().to_string(),
                    available: candidate.version().to_string(),
                    repository,
                })
            })
            .collect();
        Ok(pending)
    }

    fn file_index(
        &mut self,
        lists: &Path,
        writer: &mut omg::provides::build::IndexWriter<'_>,
    ) -> Result<Option<usize>, BackendError> {
        let sources = files::contents_sources(lists).map_err(|e| {
            BackendError::Open(format!("the Contents indices in {}: {e}", lists.display()))
        })?;
        Ok(Some(writer.write(sources)?))
    }

    fn forget(&mut self) {
        self.cache = None;
    }

    fn versions(
        &mut self,
        name: &str,
        _archive: Option<&str>,
    ) -> Result<Vec<omg::model::PackageVersion>, BackendError> {
        /// A field of a package file's Release, when it has one.
        fn named(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.is_empty())
        }
        let cached = rollback::cached_debs(&Config::new());
        let cache = self.cache()?;
        let mut found: Vec<(String, String)> = Vec::new();
        let mut installed = None;
        if let Some(pkg) = cache.get(name) {
            installed = pkg.installed().map(|v| v.version().to_string());
            for version in pkg.versions() {
                for file in version.package_files() {
                    // dpkg's status file: what is installed, not a source.
                    if file.archive() == Some("now") {
                        continue;
                    }
                    let origin = named(file.origin())
                        .or_else(|| named(file.site()))
                        .unwrap_or("local");
                    let source = match named(file.archive()) {
                        Some(suite) => format!("repository {origin}/{suite}"),
                        None => format!("repository {origin}"),
                    };
                    found.push((version.version().to_string(), source));
                }
            }
        }
        found.extend(
            cached
                .into_iter()
                .filter(|(_, n, _, _)| n == name)
                .map(|(_, _, version, _)| (version, "cache".to_string())),
        );
        Ok(super::gather_versions(
            found,
            installed.as_deref(),
            &omg::version::debian_vercmp,
        ))
    }

    fn owners(&mut self, paths: &[String]) -> Result<Vec<Vec<String>>, BackendError> {
        let info = dpkg_info_dir();
        files::owners(&info, paths)
            .map_err(|e| BackendError::Open(format!("dpkg's file lists ({}): {e}", info.display())))
    }

    fn files(&mut self, name: &str) -> Result<Option<Vec<String>>, BackendError> {
        let info = dpkg_info_dir();
        files::files(&info, name)
            .map_err(|e| BackendError::Open(format!("dpkg's file lists ({}): {e}", info.display())))
    }

    fn installed_graph(&mut self) -> Result<Vec<omg::model::GraphNode>, BackendError> {
        use rust_apt::DepType;
        let info = dpkg_info_dir();
        let cache = self.cache()?;
        let mut out = Vec::new();
        for pkg in cache.packages(&PackageSort::default().installed()) {
            let Some(installed) = pkg.installed() else {
                continue;
            };
            // Each relation's installed satisfier (the first alternative
            // that is installed, a provider included).
            let satisfied = |kinds: &[DepType]| -> Vec<String> {
                let mut names: Vec<String> = Vec::new();
                for kind in kinds {
                    for dep in installed.get_depends(kind).into_iter().flatten() {
                        let found = dep.iter().find_map(|base| {
                            base.all_targets()
                                .into_iter()
                                .find(|v| v.is_installed())
                                .map(|v| v.parent().name().to_string())
                        });
                        if let Some(name) = found
                            && name != pkg.name()
                            && !names.contains(&name)
                        {
                            names.push(name);
                        }
                    }
                }
                names
            };
            let depends = satisfied(&[DepType::PreDepends, DepType::Depends]);
            let recommends: Vec<String> = satisfied(&[DepType::Recommends])
                .into_iter()
                .filter(|n| !depends.contains(n))
                .collect();
            // dpkg records no install time; its file list is written then.
            let install_date = [
                format!("{}.list", pkg.name()),
                format!("{}:{}.list", pkg.name(), pkg.arch()),
            ]
            .iter()
            .find_map(|f| std::fs::metadata(info.join(f)).ok())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
            out.push(omg::model::GraphNode {
                name: pkg.name().to_string(),
                version: installed.version().to_string(),
                explicit: !pkg.is_auto_installed(),
                size: installed.installed_size(),
                depends,
                recommends,
                install_date,
                repository: installed
                    .package_files()
                    .find_map(|f| {
                        let archive = f.archive()?;
                        (archive != "now").then(|| match f.component() {
                            Some(c) if !c.is_empty() => format!("{archive}/{c}"),
                            _ => archive.to_string(),
                        })
                    })
                    .unwrap_or_else(|| "local".to_string()),
            });
        }
        Ok(out)
    }

    fn installed_for_audit(
        &mut self,
    ) -> Result<Vec<omg::security::vulns::Installed>, BackendError> {
        let cache = self.cache()?;
        let mut out = Vec::new();
        for pkg in cache.packages(&PackageSort::default().installed()) {
            let Some(installed) = pkg.installed() else {
                continue;
            };
            let candidate = pkg
                .candidate()
                .filter(|c| c.version() != installed.version())
                .map(|c| c.source_version().to_string());
            out.push(omg::security::vulns::Installed {
                name: pkg.name().to_string(),
                version: installed.version().to_string(),
                source: installed.source_name().to_string(),
                source_version: installed.source_version().to_string(),
                candidate,
            });
        }
        Ok(out)
    }

    fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        // Not rust-apt's cmp_versions: it orders a version before its own
        // extension ("1" after "1+a"), unlike dpkg.
        omg::version::debian_vercmp(a, b)
    }

    fn maintain(
        &mut self,
        request: &omg::transaction::MaintenanceRequest,
        channel: &std::sync::Arc<omg::transaction::TxChannel>,
    ) -> Result<omg::transaction::TransactionReport, omg::transaction::TxError> {
        self.cache = None;
        maintenance::run(request, channel)
    }

    fn transact(
        &mut self,
        request: &omg::transaction::TransactionRequest,
        channel: &std::sync::Arc<omg::transaction::TxChannel>,
    ) -> Result<omg::transaction::TransactionReport, omg::transaction::TxError> {
        // The transaction reads the lists afresh; so will the next query.
        self.cache = None;
        transaction::run(request, channel)
    }

    fn read_index(&mut self) -> Result<IndexRead, BackendError> {
        let cache = self.cache()?;
        let depcache = cache.depcache();
        let mut pending = Vec::new();
        for pkg in cache.packages(&PackageSort::default()) {
            let installed = pkg.installed();
            let Some(shown) = pkg.candidate().or_else(|| installed.clone()) else {
                continue;
            };
            let mut bits = 0;
            if pkg.current_state() == PkgCurrentState::Installed {
                bits |= flags::INSTALLED;
                if depcache.is_auto_installed(&pkg) {
                    bits |= flags::AUTO;
                }
                if depcache.is_garbage(&pkg) {
                    bits |= flags::ORPHAN;
                }
            }
            if pkg.is_upgradable() {
                bits |= flags::UPGRADABLE;
            }
            if pkg.is_essential() {
                bits |= flags::ESSENTIAL;
            }
            if shown.is_downloadable() {
                bits |= flags::AVAILABLE;
            }
            let record = IndexRecord {
                name: pkg.fullname(true),
                architecture: shown.arch().to_string(),
                version: shown.version().to_string(),
                installed_version: installed.map(|v| v.version().to_string()),
                repository: repository(&shown),
                summary: String::new(),
                provides: shown.provides().map(|p| p.name().to_string()).collect(),
                flags: bits,
            };
            let file = shown
                .package_files()
                .next()
                .map_or(usize::MAX, |f| f.index());
            pending.push(((file, shown.index()), record, shown));
        }
        // Descriptions in on-disk order: see the module documentation.
        pending.sort_by_key(|(key, _, _)| *key);
        let records = pending
            .into_iter()
            .map(|(_, mut record, version)| {
                record.summary = version.summary().unwrap_or_default();
                record
            })
            .collect();

        let lists = AptPaths::from_config().lists;
        let last_refresh = list_dir(&lists, LISTS_SKIP)
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with("Release"))
            })
            .filter_map(|p| unix_mtime(p))
            .max();
        Ok(IndexRead {
            records,
            last_refresh,
            graph: None,
        })
    }

    fn info(&mut self, name: &str) -> Result<Option<PackageInfo>, BackendError> {
        let cache = self.cache()?;
        let Some(pkg) = cache.get(name) else {
            return Ok(None);
        };
        let installed = pkg.installed();
        let candidate = pkg.candidate();
        let Some(shown) = candidate.clone().or_else(|| installed.clone()) else {
            return Ok(None);
        };
        let fully_installed = pkg.current_state() == PkgCurrentState::Installed;
        let field = |name: &str| shown.get_record(name).filter(|v| !v.trim().is_empty());
        // Repository lists often carry only the summary (the long text lives
        // in Translation files that may not be fetched), while dpkg's status
        // file has the whole description of installed packages: take the
        // longest one on offer.
        let full_description = std::iter::once(shown.description())
            .chain(shown.version_files().map(|f| f.lookup().long_desc()))
            .flatten()
            .max_by_key(|d| d.lines().count())
            .unwrap_or_default();
        let mut versions: Vec<Version<'_>> = pkg.versions().collect();
        versions.sort_by(|a, b| omg::version::debian_vercmp(b.version(), a.version()));

        Ok(Some(PackageInfo {
            name: pkg.fullname(true),
            architecture: shown.arch().to_string(),
            installed_version: installed.as_ref().map(|v| v.version().to_string()),
            candidate_version: candidate.as_ref().map(|v| v.version().to_string()),
            repository: repository(&shown),
            version: shown.version().to_string(),
            section: shown.section().ok().map(str::to_string),
            priority: shown.priority_str().ok().map(str::to_string),
            download_size: shown.size(),
            installed_size: shown.installed_size(),
            maintainer: field("Maintainer"),
            homepage: field("Homepage"),
            source: Some(shown.source_name().to_string()),
            summary: shown.summary().unwrap_or_default(),
            description: long_description(&full_description),
            depends: split_relations(field("Depends")),
            pre_depends: split_relations(field("Pre-Depends")),
            recommends: split_relations(field("Recommends")),
            suggests: split_relations(field("Suggests")),
            provides: split_relations(field("Provides")),
            conflicts: split_relations(field("Conflicts")),
            breaks: split_relations(field("Breaks")),
            replaces: split_relations(field("Replaces")),
            install_reason: fully_installed.then(|| {
                if pkg.is_auto_installed() {
                    InstallReason::Dependency
                } else {
                    InstallReason::Explicit
                }
            }),
            essential: pkg.is_essential(),
            upgradable: pkg.is_upgradable(),
            available: versions
                .iter()
                .map(|v| VersionOrigin {
                    version: v.version().to_string(),
                    repositories: repositories(v),
                })
                .collect(),
            groups: Vec::new(),
            licenses: Vec::new(),
            optional_depends: Vec::new(),
            required_by: Vec::new(),
            packager: None,
            build_date: None,
            install_date: None,
            validation: Vec::new(),
            signed: shown
                .package_files()
                .find(|f| f.is_downloadable())
                .map(|f| f.index_file().is_trusted() && f.filename().is_some_and(signed_list)),
            grade: None,
            grade_reason: None,
            aur: None,
            make_depends: Vec::new(),
            check_depends: Vec::new(),
        }))
    }
}

/// dpkg's `info` directory (its file lists), beside the status file apt
/// is configured with.
fn dpkg_info_dir() -> std::path::PathBuf {
    let status = Config::new().file("Dir::State::status", "/var/lib/dpkg/status");
    files::info_dir(Path::new(&status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_and_descriptions_are_normalised() {
        assert_eq!(
            split_relations(Some("libc6 (>= 2.34),\n libtinfo6 (>= 6), a | b".into())),
            ["libc6 (>= 2.34)", "libtinfo6 (>= 6)", "a | b"]
        );
        assert!(split_relations(None).is_empty());
        assert_eq!(
            long_description("summary\n first paragraph\n .\n second"),
            "first paragraph\n\nsecond"
        );
    }
}

/// Whether the package list `list` (in apt's lists directory) came with a
/// signed release file: apt keeps `InRelease`, or `Release` with
/// `Release.gpg`, beside it. A source marked `[trusted=yes]` has neither:
/// apt trusts it, but no signature verified it.
fn signed_list(list: &str) -> bool {
    let path = std::path::Path::new(list);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return false;
    };
    let prefix = match name.find("_dists_") {
        // …_dists_<suite>_<component>_binary-<arch>_Packages
        Some(at) => {
            let suite = at + "_dists_".len();
            match name[suite..].find('_') {
                Some(end) => &name[..suite + end + 1],
                None => return false,
            }
        }
        // A flat repository: …_Packages beside …_Release.
        None => match name.rfind("Packages") {
            Some(at) => &name[..at],
            None => return false,
        },
    };
    let beside = |suffix: &str| dir.join(format!("{prefix}{suffix}")).is_file();
    beside("InRelease") || (beside("Release") && beside("Release.gpg"))
}

#[cfg(test)]
mod signed_lists {
    use super::signed_list;

    #[test]
    fn only_lists_with_a_signed_release_count_as_signed() {
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str| std::fs::write(dir.path().join(name), "x").unwrap();
        let list = |name: &str| dir.path().join(name).display().to_string();
        put("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages");
        put("deb.debian.org_debian_dists_bookworm_InRelease");
        assert!(signed_list(&list(
            "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"
        )));
        // [trusted=yes] flat repository: a Release, no signature.
        put("_srv_repo_._Packages");
        put("_srv_repo_._Release");
        assert!(!signed_list(&list("_srv_repo_._Packages")));
        put("_srv_repo_._Release.gpg");
        assert!(signed_list(&list("_srv_repo_._Packages")));
        put("example.org_dists_stable_main_binary-amd64_Packages.lz4");
        assert!(!signed_list(&list(
            "example.org_dists_stable_main_binary-amd64_Packages.lz4"
        )));
    }
}
