//! The machine's state as a lock: what `omg env capture` writes and what
//! `omg env check` and the metrics' drift compare a lock with. The
//! installed packages come from the caller (the daemon's graph); the
//! runtimes, AUR build clones and version files are read here.

use std::path::Path;

use super::{File, Lock, Package, Runtime, sha256_of};
use crate::config::Paths;
use crate::model::GraphNode;
use crate::runtime::version_file::{self, Runtime as RuntimeKind};

/// The lock of this machine: `nodes` are its installed packages (only the
/// explicitly installed ones are kept), `paths` the instance whose
/// runtimes and AUR builds count, and the version files are found from
/// `project`.
pub fn machine(backend: &str, nodes: Vec<GraphNode>, paths: &Paths, project: &Path) -> Lock {
    let aur = paths.cache_dir.join("aur");
    let packages = nodes
        .into_iter()
        .filter(|n| n.explicit)
        .map(|n| {
            let origin = (backend == "alpm" && n.repository == "local")
                .then(|| aur_origin(&aur, &n.name))
                .flatten();
            match origin {
                Some((pkgbase, commit)) => Package {
                    name: n.name,
                    version: n.version,
                    source: "aur".into(),
                    pkgbase: Some(pkgbase),
                    commit: Some(commit),
                },
                None => Package {
                    name: n.name,
                    version: n.version,
                    source: n.repository,
                    pkgbase: None,
                    commit: None,
                },
            }
        })
        .collect();
    Lock::new(backend, packages, runtimes(paths), files(project))
}

/// Every installed runtime version, which one is the default, and the
/// checksum recorded when it was installed.
fn runtimes(paths: &Paths) -> Vec<Runtime> {
    let versions = crate::runtime::versions_dir(paths);
    let mut found = Vec::new();
    for runtime in RuntimeKind::ALL {
        let dir = versions.join(runtime.as_str());
        let current = crate::runtime::versions::current(&versions, runtime.as_str());
        let mut installed = crate::runtime::versions::installed(&versions, runtime.as_str());
        installed.sort_by(|a, b| crate::version::vercmp(b, a));
        for version in installed {
            let receipt = crate::runtime::install::read_receipt(&dir.join(&version));
            found.push(Runtime {
                name: runtime.as_str().into(),
                default: current.as_deref() == Some(version.as_str()),
                sha256: receipt.and_then(|r| r.sha256),
                version,
            });
        }
    }
    found
}

/// The project's version files with their checksums, relative to it.
fn files(project: &Path) -> Vec<File> {
    let mut files: Vec<File> = Vec::new();
    for wanted in version_file::detect(project).values() {
        let Ok(bytes) = std::fs::read(&wanted.file) else {
            continue;
        };
        let path = wanted
            .file
            .strip_prefix(project)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| wanted.file.clone());
        let path = path.display().to_string();
        if !files.iter().any(|f| f.path == path) {
            files.push(File {
                path,
                sha256: sha256_of(&bytes),
            });
        }
    }
    files
}

/// The AUR base (and the commit checked out) a foreign package was built
/// from, from the build directory's clones.
fn aur_origin(aur: &Path, name: &str) -> Option<(String, String)> {
    for entry in std::fs::read_dir(aur).ok()?.flatten() {
        let base = entry.path();
        let Ok(srcinfo) = std::fs::read_to_string(base.join(".SRCINFO")) else {
            continue;
        };
        let builds = srcinfo
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pkgname = "))
            .any(|n| n == name);
        if !builds {
            continue;
        }
        let head = std::process::Command::new("git")
            .arg("-C")
            .arg(&base)
            .args(["rev-parse", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())?;
        return Some((entry.file_name().to_string_lossy().into_owned(), head));
    }
    None
}

/// The directory a lockfile's version files are relative to: its own.
pub fn project_of(file: &Path) -> std::path::PathBuf {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    absolute
        .parent()
        .map_or_else(|| std::path::PathBuf::from("."), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn an_aur_package_is_traced_to_its_base_and_the_commit_built() {
        let aur = tempfile::tempdir().unwrap();
        let base = aur.path().join("jellyfin");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(
            base.join(".SRCINFO"),
            "pkgbase = jellyfin\n\tpkgver = 10.8.8\n\npkgname = jellyfin-server\n\npkgname = jellyfin-web\n",
        )
        .unwrap();
        git(&base, &["init", "--quiet"]);
        git(&base, &["add", ".SRCINFO"]);
        git(&base, &["commit", "--quiet", "-m", "10.8.8"]);
        let head = git(&base, &["rev-parse", "HEAD"]);
        assert_eq!(
            aur_origin(aur.path(), "jellyfin-web"),
            Some(("jellyfin".to_string(), head))
        );
        assert_eq!(aur_origin(aur.path(), "jellyfin"), None);
    }
}
