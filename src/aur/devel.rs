//! VCS packages (`-git` and the like) for `omg upgrade --devel`: the git
//! sources of each base built, the upstream commit each was built from
//! (kept in `devel.json` in the AUR build cache), and whether upstream has
//! moved on since.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// A git source of a PKGBUILD: `[name::]git+URL[#fragment][?signed]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitSource {
    pub url: String,
    /// `refs/heads/x` for `#branch=x`, `refs/tags/x` for `#tag=x`, `HEAD`
    /// otherwise. Sources pinned to a commit never move and are left out.
    pub reference: String,
}

/// Reads the git sources out of a source array entry list.
pub fn git_sources(sources: &[String]) -> Vec<GitSource> {
    sources
        .iter()
        .filter_map(|entry| {
            let location = entry.split_once("::").map_or(entry.as_str(), |(_, l)| l);
            let url = location.strip_prefix("git+")?;
            let url = url.split_once('?').map_or(url, |(u, _)| u);
            let (url, fragment) = match url.split_once('#') {
                Some((u, f)) => (u, Some(f)),
                None => (url, None),
            };
            let reference = match fragment.and_then(|f| f.split_once('=')) {
                Some(("branch", b)) => format!("refs/heads/{b}"),
                Some(("tag", t)) => format!("refs/tags/{t}"),
                Some(("commit", _)) => return None,
                _ => "HEAD".to_string(),
            };
            Some(GitSource {
                url: url.to_string(),
                reference,
            })
        })
        .collect()
}

/// The commit `source` points at upstream now.
pub fn remote_head(source: &GitSource) -> Result<String, String> {
    let output = Command::new("git")
        .args(["ls-remote", "--", &source.url, &source.reference])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("{} has no {}", source.url, source.reference))
}

/// What one base was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Built {
    /// The packages of the base that were installed.
    pub packages: Vec<String>,
    /// Each git source and the upstream commit at build time.
    pub sources: Vec<(GitSource, String)>,
}

/// `devel.json`: base → what it was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevelDb {
    pub bases: BTreeMap<String, Built>,
}

impl DevelDb {
    /// Reads the file; a missing or unreadable one is empty (it is only a
    /// cache of upstream heads).
    pub fn load(path: &Path) -> DevelDb {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }

    /// Records what base `pkgbase` (checked out in `dir`) was just built
    /// from; bases without git sources are forgotten.
    pub fn record(&mut self, pkgbase: &str, dir: &Path, packages: &[String]) {
        let sources = sources_of(dir);
        let heads: Vec<(GitSource, String)> = sources
            .into_iter()
            .filter_map(|s| remote_head(&s).ok().map(|h| (s, h)))
            .collect();
        if heads.is_empty() {
            self.bases.remove(pkgbase);
        } else {
            self.bases.insert(
                pkgbase.to_string(),
                Built {
                    packages: packages.to_vec(),
                    sources: heads,
                },
            );
        }
    }

    /// Bases whose upstream has commits they were not built from.
    pub fn outdated(&self) -> Vec<(&str, &Built)> {
        self.bases
            .iter()
            .filter(|(_, built)| {
                built
                    .sources
                    .iter()
                    .any(|(source, commit)| remote_head(source).is_ok_and(|now| now != *commit))
            })
            .map(|(base, built)| (base.as_str(), built))
            .collect()
    }
}

/// The git sources of the PKGBUILD in `dir`, as makepkg reads it (in the
/// build's sandbox, as the build ran).
fn sources_of(dir: &Path) -> Vec<GitSource> {
    use super::sandbox::Sandbox;
    let sandbox = Sandbox::wanted().then(Sandbox::find).flatten();
    match super::build::srcinfo(dir, "", sandbox.as_ref()) {
        Ok(info) => git_sources(&info.base_values("source", std::env::consts::ARCH)),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_sources_are_read_as_makepkg_reads_them() {
        let sources: Vec<String> = [
            "libzip::git+https://github.com/nih-at/libzip.git",
            "git+https://example.org/a.git#branch=devel",
            "git+https://example.org/b.git#tag=v1.2?signed",
            "git+https://example.org/c.git#commit=abc123",
            "https://example.org/d.tar.gz",
            "local.patch",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let found = git_sources(&sources);
        assert_eq!(
            found,
            [
                GitSource {
                    url: "https://github.com/nih-at/libzip.git".into(),
                    reference: "HEAD".into()
                },
                GitSource {
                    url: "https://example.org/a.git".into(),
                    reference: "refs/heads/devel".into()
                },
                GitSource {
                    url: "https://example.org/b.git".into(),
                    reference: "refs/tags/v1.2".into()
                },
            ]
        );
    }

    #[test]
    fn the_recorded_file_round_trips_and_tolerates_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devel.json");
        assert_eq!(DevelDb::load(&path), DevelDb::default());
        let mut db = DevelDb::default();
        db.bases.insert(
            "tool-git".into(),
            Built {
                packages: vec!["tool-git".into()],
                sources: vec![(
                    GitSource {
                        url: "https://example.org/t.git".into(),
                        reference: "HEAD".into(),
                    },
                    "abc".into(),
                )],
            },
        );
        db.save(&path).unwrap();
        assert_eq!(DevelDb::load(&path), db);
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(DevelDb::load(&path), DevelDb::default());
    }
}
