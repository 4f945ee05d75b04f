//! A user's installed runtimes, the one owner of their layout:
//! `<data>/versions/<runtime>/<version>/` for each installed version and
//! `<data>/versions/<runtime>/current`, a symbolic link naming the default
//! version. Everything that lists installed versions, reads the default
//! or changes it goes through here, and so does recording those changes:
//! in the user's runtime history (`omg history`, rollback) and audit log,
//! both beside `versions/` in the data directory, whichever process (omg,
//! or the user's own omgd) made the change.

use std::path::{Path, PathBuf};

use crate::history::{History, HistoryError, PackageChange};

#[derive(Debug, thiserror::Error)]
pub enum VersionsError {
    #[error("{runtime} {version} is not installed")]
    NotInstalled { runtime: String, version: String },
    #[error("cannot change {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the history was not written: {0}")]
    History(#[from] HistoryError),
    #[error("the audit log was not written: {0}")]
    Audit(#[from] crate::audit::AuditError),
}

/// The directory of `runtime`'s versions.
pub fn dir(versions: &Path, runtime: &str) -> PathBuf {
    versions.join(runtime)
}

/// The link naming `runtime`'s default version.
pub fn current_link(versions: &Path, runtime: &str) -> PathBuf {
    dir(versions, runtime).join("current")
}

/// `runtime`'s default version (what `current` names), if there is one.
pub fn current(versions: &Path, runtime: &str) -> Option<String> {
    std::fs::read_link(current_link(versions, runtime))
        .ok()
        .map(|p| p.display().to_string())
}

/// The installed versions of `runtime` (directories, not the `current`
/// link nor the hidden staging ones an install in progress leaves), in no
/// particular order.
pub fn installed(versions: &Path, runtime: &str) -> Vec<String> {
    std::fs::read_dir(dir(versions, runtime))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir() && !e.path().is_symlink())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && n != "current")
        .collect()
}

/// Makes `current` name `version`, atomically (a new link renamed over
/// the old one).
pub fn set_current(versions: &Path, runtime: &str, version: &str) -> std::io::Result<()> {
    let dir = dir(versions, runtime);
    let link = dir.join("current");
    let staged = dir.join(format!(".current.{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(version, &staged)?;
    std::fs::rename(&staged, &link)
}

/// Takes `runtime`'s default away when it is `version`; whether it was.
pub fn clear_current_if(versions: &Path, runtime: &str, version: &str) -> bool {
    let link = current_link(versions, runtime);
    let was = std::fs::read_link(&link).is_ok_and(|t| t == Path::new(version));
    if was {
        let _ = std::fs::remove_file(&link);
    }
    was
}

/// Takes `runtime`'s default away, whatever it was.
pub fn clear_current(versions: &Path, runtime: &str) -> Result<(), VersionsError> {
    let link = current_link(versions, runtime);
    match std::fs::remove_file(&link) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(VersionsError::Io {
            path: link,
            source: e,
        }),
        _ => Ok(()),
    }
}

/// What `remove` did.
#[derive(Debug)]
pub struct Removed {
    /// The version was the default (there is none now).
    pub was_current: bool,
    /// The removal is done but the audit log could not record it.
    pub not_recorded: Option<VersionsError>,
}

/// Deletes an installed version — moved out of the way first, atomically,
/// so there is never half a version — and the default when it named it.
/// The audit log records the removal.
pub fn remove(
    versions: &Path,
    user: &str,
    runtime: &str,
    version: &str,
) -> Result<Removed, VersionsError> {
    let dir = dir(versions, runtime);
    let target = dir.join(version);
    if !crate::aur::build::valid_name(version) || !target.is_dir() || target.is_symlink() {
        return Err(VersionsError::NotInstalled {
            runtime: runtime.into(),
            version: version.into(),
        });
    }
    let doomed = dir.join(format!(".removing-{version}-{}", std::process::id()));
    std::fs::rename(&target, &doomed)
        .and_then(|()| std::fs::remove_dir_all(&doomed))
        .map_err(|source| VersionsError::Io {
            path: target.clone(),
            source,
        })?;
    let was_current = clear_current_if(versions, runtime, version);
    let subject = format!("{runtime} {version}");
    let recorded = audit(
        versions,
        user,
        "runtime-uninstall",
        &subject,
        serde_json::json!({}),
    );
    Ok(Removed {
        was_current,
        not_recorded: recorded.err(),
    })
}

/// One runtime change, as the history keeps it.
pub fn change(runtime: &str, kind: &str, old: Option<&str>, new: Option<&str>) -> PackageChange {
    PackageChange {
        name: runtime.into(),
        change: kind.into(),
        old: old.map(str::to_string),
        new: new.map(str::to_string),
        as_dependency: false,
    }
}

/// The data directory `versions` lives in.
fn data_dir(versions: &Path) -> &Path {
    versions.parent().unwrap_or(Path::new("."))
}

/// The user's runtime history (beside the versions).
pub fn history(versions: &Path) -> History {
    History::runtimes_in(data_dir(versions))
}

/// Records the changes `command` made in the user's runtime history.
pub fn record(
    versions: &Path,
    user: &str,
    command: &str,
    changes: Vec<PackageChange>,
) -> Result<(), VersionsError> {
    record_in_group(versions, user, command, changes, None)
}

/// The same, as part of a group of changes made together.
pub fn record_in_group(
    versions: &Path,
    user: &str,
    command: &str,
    changes: Vec<PackageChange>,
    group: Option<&str>,
) -> Result<(), VersionsError> {
    if changes.is_empty() {
        return Ok(());
    }
    history(versions).record_full(user, command, changes, "ok", Vec::new(), group)?;
    Ok(())
}

/// Appends a runtime change to the user's audit log.
pub fn audit(
    versions: &Path,
    user: &str,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> Result<(), VersionsError> {
    let entry = crate::audit::Entry {
        user: user.into(),
        action: action.into(),
        subject: subject.into(),
        details,
    };
    crate::audit::AuditLog::in_data_dir(data_dir(versions)).append(entry)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_the_installed_versions() {
        let versions = tempfile::tempdir().unwrap();
        let v = versions.path();
        for version in ["20.10.0", "18.19.0", ".20.11.0.unpacking-1"] {
            std::fs::create_dir_all(dir(v, "node").join(version)).unwrap();
        }
        assert_eq!(current(v, "node"), None);
        set_current(v, "node", "20.10.0").unwrap();
        assert_eq!(current(v, "node").as_deref(), Some("20.10.0"));
        let mut found = installed(v, "node");
        found.sort();
        assert_eq!(found, ["18.19.0", "20.10.0"]);
        set_current(v, "node", "18.19.0").unwrap();
        assert!(!clear_current_if(v, "node", "20.10.0"));
        assert!(clear_current_if(v, "node", "18.19.0"));
        assert_eq!(current(v, "node"), None);
        assert!(installed(v, "go").is_empty());
    }
}
