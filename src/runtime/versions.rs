//! A user's installed runtimes, the one owner of their layout:
//! `<data>/versions/<runtime>/<version>/` for each installed version and
//! `<data>/versions/<runtime>/current`, a symbolic link naming the default
//! version. Everything that lists installed versions, reads the default
//! or changes it goes through here.

use std::path::{Path, PathBuf};

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
