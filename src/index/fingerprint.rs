//! Fingerprints of package databases: a SHA-256 over the path, size,
//! modification time and inode of every file whose change could change an
//! answer. Only metadata is read, so computing one costs a few `stat` calls.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use super::Watched;

/// A file the database cannot be without is unreadable.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct Unreadable {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The fingerprint of everything in `watched`.
pub fn compute(watched: &[Watched]) -> Result<String, Unreadable> {
    let mut f = Fingerprint::default();
    for item in watched {
        match item {
            Watched::File(path) => f.file(path),
            Watched::Required(path) => {
                std::fs::File::open(path).map_err(|source| Unreadable {
                    path: path.clone(),
                    source,
                })?;
                f.file(path);
            }
            Watched::Dir { path, skip } => {
                let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
                f.dir(path, &skip, None)
            }
            Watched::EntryFiles { path, file } => f.dir(path, &[], Some(file)),
        }
    }
    Ok(f.finish())
}

/// Accumulates file stamps into a fingerprint.
#[derive(Default)]
pub struct Fingerprint {
    hasher: Sha256,
}

impl Fingerprint {
    /// Adds one file (or its absence).
    pub fn file(&mut self, path: &Path) {
        self.hasher.update(path.as_os_str().as_encoded_bytes());
        self.hasher.update([0]);
        match std::fs::metadata(path) {
            Ok(m) => {
                for n in [m.len(), m.mtime() as u64, m.mtime_nsec() as u64, m.ino()] {
                    self.hasher.update(n.to_le_bytes());
                }
            }
            Err(_) => self.hasher.update(b"missing"),
        }
    }

    /// Adds every entry of a directory (sorted), except the names in `skip`,
    /// and with `inner`, the file of that name inside each entry. The
    /// directory's own timestamp is left out: it also moves when a skipped
    /// entry (a lock file) comes and goes.
    pub fn dir(&mut self, dir: &Path, skip: &[&str], inner: Option<&str>) {
        self.hasher.update(dir.as_os_str().as_encoded_bytes());
        for path in list_dir(dir, skip) {
            self.file(&path);
            if let Some(inner) = inner {
                self.file(&path.join(inner));
            }
        }
    }

    /// The hex digest (128 bits are plenty to tell states apart).
    pub fn finish(self) -> String {
        let digest = self.hasher.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The entries of `dir`, sorted, without those named in `skip`.
pub fn list_dir(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !skip.iter().any(|s| e.file_name() == *s))
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_with_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status");
        std::fs::write(&file, "a").unwrap();
        let digest = |d: &Path| {
            let mut f = Fingerprint::default();
            f.file(&d.join("status"));
            f.dir(d, &["lock"], None);
            f.finish()
        };
        let first = digest(dir.path());
        assert_eq!(first, digest(dir.path()));
        std::fs::write(dir.path().join("lock"), "").unwrap();
        assert_eq!(first, digest(dir.path()), "skipped names do not count");
        std::fs::write(&file, "ab").unwrap();
        let second = digest(dir.path());
        assert_ne!(first, second);
        std::fs::write(dir.path().join("new"), "").unwrap();
        assert_ne!(second, digest(dir.path()));
    }
}
