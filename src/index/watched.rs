//! What a database fingerprint covers: the files and directories whose
//! change could change an answer (kept with the snapshot, so that whoever
//! reads the snapshot can tell whether it is still current).

use std::path::{Path, PathBuf};

/// Something a fingerprint covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Watched {
    /// A file that may be missing.
    File(PathBuf),
    /// A file that must be readable: without it there is no database.
    Required(PathBuf),
    /// Every entry of a directory except the names listed.
    Dir { path: PathBuf, skip: Vec<String> },
    /// The file `file` inside every entry of a directory (pacman's
    /// `local/<package>/desc`, rewritten in place by `pacman -D`).
    EntryFiles { path: PathBuf, file: String },
}

impl Watched {
    /// The directory whose events can change this item.
    pub fn directory(&self) -> Option<&Path> {
        match self {
            Watched::File(p) | Watched::Required(p) => p.parent(),
            Watched::Dir { path, .. } | Watched::EntryFiles { path, .. } => Some(path),
        }
    }
}
