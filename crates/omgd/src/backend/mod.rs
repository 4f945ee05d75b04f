//! Package backends: the `PackageBackend` trait every system package database
//! implements, the error type they share, and choosing one for this machine.

#[cfg(any(feature = "alpm", feature = "alpm-current"))]
pub mod alpm;
#[cfg(feature = "apt")]
pub mod apt;
pub mod output_log;

/// Which backend this system wants (shared with the command line).
pub mod detect {
    /// The backend of this machine; `configured` is config.toml's choice.
    pub fn detect(
        configured: Option<omg::model::BackendKind>,
    ) -> Result<omg::model::BackendKind, super::BackendError> {
        omg::detect::detect(configured).map_err(|e| super::BackendError::UnknownSystem(e.0))
    }
}
pub use omg::index::fingerprint;
pub mod pacman_conf;
pub mod stale_lock;

use std::path::PathBuf;

use std::sync::Arc;

use omg::index::IndexRecord;
use omg::model::{BackendKind, PackageInfo};
use omg::transaction::{TransactionReport, TransactionRequest, TxChannel, TxError};

/// A failure of the package database.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the package database could not be opened: {0}")]
    Open(String),
    #[error("the file index could not be written: {0}")]
    FileIndex(#[from] omg::provides::build::IndexError),
    #[error("the {0} backend is not part of this build of omg")]
    NotBuilt(&'static str),
    #[error("cannot tell which package manager this system uses: {0}")]
    UnknownSystem(String),
}

impl From<fingerprint::Unreadable> for BackendError {
    fn from(e: fingerprint::Unreadable) -> Self {
        BackendError::Unreadable {
            path: e.path,
            source: e.source,
        }
    }
}

/// Everything the index needs from one read of the database.
pub struct IndexRead {
    pub records: Vec<IndexRecord>,
    /// Unix time of the last refresh of the repository lists, if known.
    pub last_refresh: Option<u64>,
    /// The installed packages' dependency graph, read while the database
    /// is open anyway (filled in by the backend thread), so `omg why` and
    /// `omg size` need not open it again.
    pub graph: Option<Vec<omg::model::GraphNode>>,
}

/// A system package database (apt, alpm). Calls may be slow (they open the
/// database); the index and the store exist so that most requests avoid them.
/// Implementations need not be thread-safe: the daemon keeps a backend on one
/// thread.
pub trait PackageBackend {
    fn kind(&self) -> BackendKind;

    /// The library behind the backend, for `omg status`.
    fn library(&self) -> String;

    /// The files and directories whose state the answers depend on. Their
    /// metadata make the database's fingerprint (`fingerprint::compute`),
    /// and the daemon watches them for changes.
    fn watched(&self) -> Vec<fingerprint::Watched>;

    /// The lock another package manager holds while it changes the
    /// database (dpkg's `lock-frontend`, libalpm's `db.lck`).
    fn lock_file(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// Where the packages' files are on disk: `/`, or the root the
    /// package manager is configured for.
    fn root(&self) -> std::path::PathBuf {
        std::path::PathBuf::from("/")
    }

    /// The package manager's own log (pacman's `LogFile`), where upgrades
    /// made without omg are recorded.
    fn log_file(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// The package file of `name` at `version` kept in the package cache.
    fn cached_package(&mut self, name: &str, version: &str) -> Option<std::path::PathBuf> {
        let _ = (name, version);
        None
    }

    /// Reads every package for the index.
    fn read_index(&mut self) -> Result<IndexRead, BackendError>;

    /// Brings a private copy of the repository lists in `lists` up to date
    /// (unless `offline`) and counts the installed packages that copy has
    /// newer versions of. Needs no root and never touches the system's own
    /// lists, as `checkupdates` does on Arch. Seeds an empty copy from the
    /// system's lists so the first refresh downloads only what changed.
    fn refresh_private(
        &mut self,
        lists: &std::path::Path,
        offline: bool,
    ) -> Result<Vec<omg::model::PendingUpdate>, BackendError>;

    /// Writes the file index of the repositories as the private copy
    /// `lists` has them after a refresh; the number of paths (`None`: this
    /// backend keeps no file lists there).
    fn file_index(
        &mut self,
        lists: &std::path::Path,
        writer: &mut omg::provides::build::IndexWriter<'_>,
    ) -> Result<Option<usize>, BackendError> {
        let _ = (lists, writer);
        Ok(None)
    }

    /// Drops whatever the backend keeps open: the database changed, and the
    /// next call must read it afresh.
    fn forget(&mut self);

    /// Everything known about the package called `name`, or `None` when no
    /// real package has that name.
    fn info(&mut self, name: &str) -> Result<Option<PackageInfo>, BackendError>;

    /// What satisfies `depend` on this system: an installed package, a
    /// repository's, or nothing (for the AUR resolver). Backends without
    /// an AUR say nothing does.
    fn satisfier(&mut self, depend: &str) -> Result<omg::aur::resolve::Satisfier, BackendError> {
        let _ = depend;
        Ok(omg::aur::resolve::Satisfier::Nothing)
    }

    /// Whether a repository has `target` (a name, a provided name or a
    /// group), installed or not.
    fn repository_has(&mut self, target: &str) -> Result<bool, BackendError> {
        let _ = target;
        Ok(false)
    }

    /// Every version of `name` that can be installed and where it is,
    /// newest first; with `archive` (Arch) the Arch Linux Archive's too.
    fn versions(
        &mut self,
        name: &str,
        archive: Option<&str>,
    ) -> Result<Vec<omg::model::PackageVersion>, BackendError> {
        let _ = (name, archive);
        Err(BackendError::Open(format!(
            "the {} backend cannot list versions",
            self.kind().as_str()
        )))
    }

    /// For each of `paths` (absolute), the installed packages whose file
    /// lists have it, as `pacman -Qo` and `dpkg -S` find them.
    fn owners(&mut self, paths: &[String]) -> Result<Vec<Vec<String>>, BackendError> {
        let _ = paths;
        Err(BackendError::Open(format!(
            "the {} backend cannot read file lists",
            self.kind().as_str()
        )))
    }

    /// The files of the installed package `name` (absolute), or `None`
    /// when it is not installed.
    fn files(&mut self, name: &str) -> Result<Option<Vec<String>>, BackendError> {
        let _ = name;
        Err(BackendError::Open(format!(
            "the {} backend cannot read file lists",
            self.kind().as_str()
        )))
    }

    /// Every installed package with the installed packages it depends on.
    fn installed_graph(&mut self) -> Result<Vec<omg::model::GraphNode>, BackendError> {
        Err(BackendError::Open(format!(
            "the {} backend cannot list dependencies",
            self.kind().as_str()
        )))
    }

    /// The installed packages, as vulnerability advisories name them.
    fn installed_for_audit(
        &mut self,
    ) -> Result<Vec<omg::security::vulns::Installed>, BackendError> {
        Err(BackendError::Open(format!(
            "the {} backend cannot list packages for an audit",
            self.kind().as_str()
        )))
    }

    /// Orders two versions as this distribution does.
    fn compare_versions(&self, a: &str, b: &str) -> std::cmp::Ordering {
        omg::version::vercmp(a, b)
    }

    /// The installed packages `data` says are affected.
    fn audit(
        &mut self,
        data: &omg::security::vulns::VulnData,
    ) -> Result<Vec<omg::security::vulns::Finding>, BackendError> {
        let installed = self.installed_for_audit()?;
        Ok(omg::security::vulns::matching(data, &installed, &|a, b| {
            self.compare_versions(a, b)
        }))
    }

    /// Pins a package or cleans the package cache, reporting through
    /// `channel`. The caller has checked the privileges it needs.
    fn maintain(
        &mut self,
        request: &omg::transaction::MaintenanceRequest,
        channel: &Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        let _ = (request, channel);
        Err(TxError::Unsupported(format!(
            "pins and cache cleaning through the {} backend are not available in this version of omg",
            self.kind().as_str()
        )))
    }

    /// Carries out a transaction, reporting progress and asking questions
    /// through `channel`. The caller has checked the privileges it needs.
    fn transact(
        &mut self,
        request: &TransactionRequest,
        channel: &Arc<TxChannel>,
    ) -> Result<TransactionReport, TxError> {
        let _ = (request, channel);
        Err(TxError::Unsupported(format!(
            "installing and removing packages through the {} backend is not available in this version of omg",
            self.kind().as_str()
        )))
    }
}

/// Opens the backend for `kind`.
pub fn open(kind: BackendKind) -> Result<Box<dyn PackageBackend>, BackendError> {
    match kind {
        #[cfg(feature = "apt")]
        BackendKind::Apt => Ok(Box::new(apt::AptBackend::new())),
        #[cfg(not(feature = "apt"))]
        BackendKind::Apt => Err(BackendError::NotBuilt("apt")),
        #[cfg(any(feature = "alpm", feature = "alpm-current"))]
        BackendKind::Alpm => Ok(Box::new(alpm::AlpmBackend::new()?)),
        #[cfg(not(any(feature = "alpm", feature = "alpm-current")))]
        BackendKind::Alpm => Err(BackendError::NotBuilt("alpm")),
    }
}

/// Gathers versions and their sources into `PackageVersion`s, newest first
/// by `cmp`.
pub fn gather_versions(
    found: impl IntoIterator<Item = (String, String)>,
    installed: Option<&str>,
    cmp: &dyn Fn(&str, &str) -> std::cmp::Ordering,
) -> Vec<omg::model::PackageVersion> {
    let mut out: Vec<omg::model::PackageVersion> = Vec::new();
    for (version, source) in found {
        match out.iter_mut().find(|v| v.version == version) {
            Some(v) if !v.sources.contains(&source) => v.sources.push(source),
            Some(_) => {}
            None => out.push(omg::model::PackageVersion {
                installed: installed == Some(version.as_str()),
                version,
                sources: vec![source],
            }),
        }
    }
    if let Some(installed) = installed
        && !out.iter().any(|v| v.version == installed)
    {
        out.push(omg::model::PackageVersion {
            version: installed.to_string(),
            sources: vec!["installed".into()],
            installed: true,
        });
    }
    out.sort_by(|a, b| cmp(&b.version, &a.version));
    out
}
