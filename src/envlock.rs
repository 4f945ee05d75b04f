//! The environment lockfile, `omg.lock` (TOML): the explicitly installed
//! system packages with their versions and where they come from (a
//! repository, or the AUR with the package base and the commit built), the
//! installed runtime versions with the checksum of what was installed, the
//! project's version files with theirs, and a fingerprint over all of it.
//! `compare` turns a lock and the machine's state into the drift a person
//! reads (`omg env check`) and `omg env sync` acts on.

pub mod machine;

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The format written.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The format (1).
    pub format: u32,
    /// `sha256:` over everything below it; a hand edit shows.
    pub fingerprint: String,
    /// When it was captured (RFC 3339, UTC).
    pub captured: String,
    /// `alpm` or `apt`.
    pub backend: String,
    #[serde(default, rename = "package")]
    pub packages: Vec<Package>,
    #[serde(default, rename = "runtime")]
    pub runtimes: Vec<Runtime>,
    #[serde(default, rename = "file")]
    pub files: Vec<File>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The repository, `aur`, or `local` (installed from a file).
    pub source: String,
    /// AUR: the package base and the commit of its repository built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkgbase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Runtime {
    pub name: String,
    pub version: String,
    /// The user's default (`current`) version of this runtime.
    #[serde(default)]
    pub default: bool,
    /// SHA-256 of the archive (or source) that was installed, where omg
    /// recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct File {
    /// Relative to the lockfile's directory.
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid omg.lock: {message}")]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{path} is format {found}; this omg reads format {FORMAT}")]
    Format {
        path: std::path::PathBuf,
        found: u32,
    },
}

impl Lock {
    /// A lock of this state, its lists sorted and its fingerprint computed.
    pub fn new(
        backend: &str,
        mut packages: Vec<Package>,
        mut runtimes: Vec<Runtime>,
        mut files: Vec<File>,
    ) -> Lock {
        packages.sort();
        runtimes.sort();
        files.sort();
        let mut lock = Lock {
            format: FORMAT,
            fingerprint: String::new(),
            captured: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            backend: backend.to_string(),
            packages,
            runtimes,
            files,
        };
        lock.fingerprint = lock.compute_fingerprint();
        lock
    }

    /// `sha256:` over the backend and the three lists, as JSON.
    pub fn compute_fingerprint(&self) -> String {
        let body = serde_json::json!({
            "backend": self.backend,
            "packages": self.packages,
            "runtimes": self.runtimes,
            "files": self.files,
        });
        format!(
            "sha256:{:x}",
            sha2::Sha256::digest(body.to_string().as_bytes())
        )
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Written by `omg env capture`; `omg env check` compares the machine with it.\n{body}"
        )
    }

    pub fn read(path: &std::path::Path) -> Result<Lock, LockError> {
        let text = std::fs::read_to_string(path).map_err(|source| LockError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let lock: Lock = toml::from_str(&text).map_err(|e| LockError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if lock.format != FORMAT {
            return Err(LockError::Format {
                path: path.to_path_buf(),
                found: lock.format,
            });
        }
        Ok(lock)
    }
}

/// SHA-256 of a file's bytes, hex.
pub fn sha256_of(bytes: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// One difference between the lock and the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Drift {
    /// Locked, not installed.
    MissingPackage {
        name: String,
        version: String,
    },
    /// Installed at another version.
    PackageVersion {
        name: String,
        locked: String,
        installed: String,
    },
    /// Installed explicitly, not in the lock.
    ExtraPackage {
        name: String,
        version: String,
    },
    MissingRuntime {
        name: String,
        version: String,
    },
    /// The default version differs.
    RuntimeDefault {
        name: String,
        locked: String,
        current: Option<String>,
    },
    /// Installed from something else than was locked.
    RuntimeChecksum {
        name: String,
        version: String,
    },
    /// Installed, not in the lock.
    ExtraRuntime {
        name: String,
        version: String,
    },
    FileChanged {
        path: String,
    },
    FileMissing {
        path: String,
    },
    /// The lock was edited by hand since it was captured.
    Fingerprint,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::MissingPackage { name, version } => {
                write!(f, "- {name} {version}: not installed")
            }
            Drift::PackageVersion {
                name,
                locked,
                installed,
            } => write!(f, "~ {name}: {installed} installed, {locked} locked"),
            Drift::ExtraPackage { name, version } => {
                write!(f, "+ {name} {version}: installed, not in the lock")
            }
            Drift::MissingRuntime { name, version } => {
                write!(f, "- {name} {version} (runtime): not installed")
            }
            Drift::RuntimeDefault {
                name,
                locked,
                current,
            } => write!(
                f,
                "~ {name} (runtime): the default is {}, {locked} locked",
                current.as_deref().unwrap_or("none")
            ),
            Drift::RuntimeChecksum { name, version } => write!(
                f,
                "! {name} {version} (runtime): installed from other bytes than locked"
            ),
            Drift::ExtraRuntime { name, version } => {
                write!(
                    f,
                    "+ {name} {version} (runtime): installed, not in the lock"
                )
            }
            Drift::FileChanged { path } => write!(f, "~ {path}: changed"),
            Drift::FileMissing { path } => write!(f, "- {path}: missing"),
            Drift::Fingerprint => write!(
                f,
                "! the lock's fingerprint does not match its contents (edited by hand?)"
            ),
        }
    }
}

/// What differs between `lock` and `now` (a lock captured from the machine
/// as it is), in the lock's order.
pub fn compare(lock: &Lock, now: &Lock) -> Vec<Drift> {
    let mut drift = Vec::new();
    if lock.compute_fingerprint() != lock.fingerprint {
        drift.push(Drift::Fingerprint);
    }
    for p in &lock.packages {
        match now.packages.iter().find(|n| n.name == p.name) {
            None => drift.push(Drift::MissingPackage {
                name: p.name.clone(),
                version: p.version.clone(),
            }),
            Some(n) if n.version != p.version => drift.push(Drift::PackageVersion {
                name: p.name.clone(),
                locked: p.version.clone(),
                installed: n.version.clone(),
            }),
            _ => {}
        }
    }
    for n in &now.packages {
        if !lock.packages.iter().any(|p| p.name == n.name) {
            drift.push(Drift::ExtraPackage {
                name: n.name.clone(),
                version: n.version.clone(),
            });
        }
    }
    for r in &lock.runtimes {
        match now
            .runtimes
            .iter()
            .find(|n| n.name == r.name && n.version == r.version)
        {
            None => drift.push(Drift::MissingRuntime {
                name: r.name.clone(),
                version: r.version.clone(),
            }),
            Some(n) => {
                if let (Some(a), Some(b)) = (&r.sha256, &n.sha256)
                    && a != b
                {
                    drift.push(Drift::RuntimeChecksum {
                        name: r.name.clone(),
                        version: r.version.clone(),
                    });
                }
            }
        }
        if r.default {
            let current = now
                .runtimes
                .iter()
                .find(|n| n.name == r.name && n.default)
                .map(|n| n.version.clone());
            if current.as_deref() != Some(r.version.as_str()) {
                drift.push(Drift::RuntimeDefault {
                    name: r.name.clone(),
                    locked: r.version.clone(),
                    current,
                });
            }
        }
    }
    for n in &now.runtimes {
        if !lock
            .runtimes
            .iter()
            .any(|r| r.name == n.name && r.version == n.version)
        {
            drift.push(Drift::ExtraRuntime {
                name: n.name.clone(),
                version: n.version.clone(),
            });
        }
    }
    for f in &lock.files {
        match now.files.iter().find(|n| n.path == f.path) {
            None => drift.push(Drift::FileMissing {
                path: f.path.clone(),
            }),
            Some(n) if n.sha256 != f.sha256 => drift.push(Drift::FileChanged {
                path: f.path.clone(),
            }),
            _ => {}
        }
    }
    drift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            source: "extra".into(),
            pkgbase: None,
            commit: None,
        }
    }

    fn rt(name: &str, version: &str, default: bool) -> Runtime {
        Runtime {
            name: name.into(),
            version: version.into(),
            default,
            sha256: Some("ab".repeat(32)),
        }
    }

    #[test]
    fn a_lock_round_trips_through_toml_and_keeps_its_fingerprint() {
        let lock = Lock::new(
            "alpm",
            vec![
                pkg("vim", "9.1-1"),
                Package {
                    pkgbase: Some("paru".into()),
                    commit: Some("c0ffee".into()),
                    source: "aur".into(),
                    ..pkg("paru", "2.0-1")
                },
            ],
            vec![rt("node", "20.10.0", true)],
            vec![File {
                path: ".nvmrc".into(),
                sha256: "00".repeat(32),
            }],
        );
        let text = lock.to_toml();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("omg.lock");
        std::fs::write(&path, &text).unwrap();
        let back = Lock::read(&path).unwrap();
        assert_eq!(back, lock);
        assert!(compare(&back, &lock).is_empty());
        // A hand edit shows.
        std::fs::write(&path, text.replace("9.1-1", "9.2-1")).unwrap();
        let edited = Lock::read(&path).unwrap();
        assert!(compare(&edited, &lock).contains(&Drift::Fingerprint));
    }

    #[test]
    fn drift_names_each_difference() {
        let lock = Lock::new(
            "apt",
            vec![pkg("vim", "2"), pkg("curl", "7")],
            vec![rt("node", "20.10.0", true)],
            vec![File {
                path: ".nvmrc".into(),
                sha256: "1".into(),
            }],
        );
        let now = Lock::new(
            "apt",
            vec![pkg("vim", "3"), pkg("htop", "1")],
            vec![rt("node", "22.1.0", true)],
            vec![File {
                path: ".nvmrc".into(),
                sha256: "2".into(),
            }],
        );
        let lines: Vec<String> = compare(&lock, &now).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            lines,
            [
                "- curl 7: not installed".to_string(),
                "~ vim: 3 installed, 2 locked".to_string(),
                "+ htop 1: installed, not in the lock".to_string(),
                "- node 20.10.0 (runtime): not installed".to_string(),
                "~ node (runtime): the default is 22.1.0, 20.10.0 locked".to_string(),
                "+ node 22.1.0 (runtime): installed, not in the lock".to_string(),
                "~ .nvmrc: changed".to_string(),
            ]
        );
    }
}
