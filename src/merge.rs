//! Config files a transaction leaves for the admin to merge: Arch's
//! `.pacnew` (the package's new version beside a changed file) and
//! `.pacsave` (a removed package's changed file), Debian's `.dpkg-dist`
//! (the new version; omg runs dpkg with `--force-confold`), `.dpkg-old`
//! (the admin's version after the new one was taken) and `.ucf-dist`.
//! Found by comparing the root's `/etc` before and after a transaction,
//! recorded in the history with the package and the version before (whose
//! packaged file is the base of a three-way merge), and resolved by `omg
//! merge`: keep the current file, take the other, or merge the three.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// The suffixes, and whether the file beside the config is a new packaged
/// version (else it is a saved old one).
const SUFFIXES: [(&str, bool); 5] = [
    (".pacnew", true),
    (".pacsave", false),
    (".dpkg-dist", true),
    (".dpkg-old", false),
    (".ucf-dist", true),
];

/// How deep under /etc config files are looked for.
const MAX_DEPTH: usize = 8;

/// One file waiting for a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// The file the package manager left (`/etc/x.conf.pacnew`), on disk.
    pub path: String,
    /// The config file it belongs to (`/etc/x.conf`), on disk.
    pub target: String,
    /// The package that ships it, when known.
    pub package: Option<String>,
    /// That package's version before the transaction.
    pub old_version: Option<String>,
    /// The packaged file of that version (from the package cache), kept
    /// for a three-way merge.
    pub base: Option<String>,
}

impl ConfigFile {
    /// `pacnew`, `pacsave`, `dpkg-dist`, `dpkg-old` or `ucf-dist`.
    pub fn kind(&self) -> &str {
        SUFFIXES
            .iter()
            .find(|(s, _)| self.path.ends_with(s))
            .map_or("", |(s, _)| &s[1..])
    }

    /// Whether the file left is a new packaged version (else it is an old
    /// one saved).
    pub fn is_new_version(&self) -> bool {
        SUFFIXES
            .iter()
            .any(|(s, new)| *new && self.path.ends_with(s))
    }

    /// Still waiting: the file left is there.
    pub fn pending(&self) -> bool {
        Path::new(&self.path).is_file()
    }
}

/// The config file `path` belongs to, when `path` is one a package
/// manager leaves.
pub fn target_of(path: &Path) -> Option<PathBuf> {
    let text = path.to_str()?;
    SUFFIXES
        .iter()
        .find_map(|(s, _)| text.strip_suffix(s))
        .filter(|t| !t.is_empty() && !t.ends_with('/'))
        .map(PathBuf::from)
}

/// Every file a package manager left under `root`'s /etc, with its
/// modification time (symbolic links are not followed).
pub fn scan(root: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut found = BTreeMap::new();
    walk(&root.join("etc"), 0, &mut found);
    found
}

fn walk(dir: &Path, depth: usize, found: &mut BTreeMap<PathBuf, SystemTime>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, depth + 1, found);
        } else if kind.is_file() && target_of(&path).is_some() {
            let time = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            found.insert(path, time);
        }
    }
}

/// What appeared (or was written again) between two scans.
pub fn appeared(
    before: &BTreeMap<PathBuf, SystemTime>,
    after: &BTreeMap<PathBuf, SystemTime>,
) -> Vec<PathBuf> {
    after
        .iter()
        .filter(|(path, time)| before.get(*path) != Some(*time))
        .map(|(path, _)| path.clone())
        .collect()
}

/// The files still waiting, from the history's records (newest record
/// of a path wins; each path once).
pub fn pending<'a>(recorded: impl Iterator<Item = &'a ConfigFile>) -> Vec<ConfigFile> {
    let mut by_path: BTreeMap<&str, &ConfigFile> = BTreeMap::new();
    for file in recorded {
        by_path.insert(&file.path, file);
    }
    by_path
        .into_values()
        .filter(|f| f.pending())
        .cloned()
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot run {program}: {source}")]
    Run {
        program: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
}

fn io(path: &str) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io {
        path: path.to_string(),
        source,
    }
}

/// Keeps the config file as it is: the file left is removed.
pub fn keep(file: &ConfigFile) -> Result<(), MergeError> {
    std::fs::remove_file(&file.path).map_err(io(&file.path))
}

/// Takes the file left in place of the config file (its mode and owner
/// kept, as the config file's were).
pub fn take(file: &ConfigFile) -> Result<(), MergeError> {
    if let Ok(meta) = std::fs::metadata(&file.target) {
        use std::os::unix::fs::MetadataExt;
        std::fs::set_permissions(&file.path, meta.permissions()).map_err(io(&file.path))?;
        let _ = std::os::unix::fs::chown(&file.path, Some(meta.uid()), Some(meta.gid()));
    }
    std::fs::rename(&file.path, &file.target).map_err(io(&file.target))
}

/// How a three-way merge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merged {
    /// The config file holds the merge; the file left is gone.
    Clean,
    /// The config file holds the merge with this many conflicts marked;
    /// the file left stays until they are resolved.
    Conflicts(u32),
}

/// Merges the new packaged version into the config file, against the
/// packaged original (`base`; without one, an empty base: every
/// difference is a conflict). `tool` (`$MERGETOOL`) runs as `TOOL CURRENT
/// BASE NEW` and leaves the merge in CURRENT, as `git merge-file` does,
/// which is used otherwise.
pub fn merge(file: &ConfigFile, tool: Option<&str>) -> Result<Merged, MergeError> {
    if !file.is_new_version() {
        return Err(MergeError::Failed(format!(
            "{} is an old version saved, not a new one: keep or take it",
            file.path
        )));
    }
    let packaged = file.base.as_deref().filter(|b| Path::new(b).is_file());
    let empty = match packaged {
        Some(_) => None,
        None => Some(empty_file()?),
    };
    let base = packaged.map_or_else(|| empty.clone().unwrap_or_default(), PathBuf::from);
    let status = match tool {
        Some(tool) => std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{tool} \"$1\" \"$2\" \"$3\""))
            .arg("sh")
            .arg(&file.target)
            .arg(&base)
            .arg(&file.path)
            .status()
            .map_err(|source| MergeError::Run {
                program: tool.to_string(),
                source,
            })?,
        None => std::process::Command::new("git")
            .args([
                "merge-file",
                "-L",
                "current",
                "-L",
                "packaged before",
                "-L",
                "packaged now",
            ])
            .arg(&file.target)
            .arg(&base)
            .arg(&file.path)
            .status()
            .map_err(|source| MergeError::Run {
                program: "git merge-file".into(),
                source,
            })?,
    };
    if let Some(empty) = &empty {
        let _ = std::fs::remove_file(empty);
    }
    match status.code() {
        Some(0) => {
            keep(file)?;
            Ok(Merged::Clean)
        }
        Some(n) if n > 0 && n < 128 && tool.is_none() => Ok(Merged::Conflicts(n as u32)),
        _ => Err(MergeError::Failed(format!(
            "the merge of {} failed ({status}); nothing was changed",
            file.target
        ))),
    }
}

/// An empty file to stand for a missing base.
fn empty_file() -> Result<PathBuf, MergeError> {
    let path = std::env::temp_dir().join(format!("omg-merge-base-{}", std::process::id()));
    std::fs::write(&path, b"").map_err(io(&path.display().to_string()))?;
    Ok(path)
}

/// Extracts the file `inside` (a path in the package, `/etc/x.conf`) of
/// the package file `package` (a `.deb` or an Arch package) to `dest`.
pub fn extract_base(package: &Path, inside: &str, dest: &Path) -> Result<(), MergeError> {
    let contents = crate::package_file::read_member(package, inside).map_err(MergeError::Failed)?;
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(&dir.display().to_string()))?;
    }
    std::fs::write(dest, contents).map_err(io(&dest.display().to_string()))
}

#[cfg(test)]
mod tests;
