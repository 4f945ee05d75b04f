//! The package index: every package of the database in one compact,
//! name-sorted structure (one text arena plus fixed-size entries) that can be
//! ranked against a query (`rank`) and saved to and loaded from the embedded
//! database (`snapshot`) without touching the backend.

pub mod rank;
pub mod snapshot;

use serde::{Deserialize, Serialize};

use crate::model::{BackendKind, InstallReason, InstalledPackage};

/// What a backend reports for one package when the index is built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexRecord {
    /// The name a user types (`foo`, or `foo:i386` for a foreign architecture).
    pub name: String,
    pub architecture: String,
    /// The candidate version, or the installed one when nothing else is offered.
    pub version: String,
    pub installed_version: Option<String>,
    pub repository: String,
    pub summary: String,
    /// Names this package provides (virtual packages, sonames).
    pub provides: Vec<String>,
    pub flags: u16,
}

/// Bits of `IndexRecord::flags` / `Entry::flags`.
pub mod flags {
    /// Fully installed (dpkg's `installed`, pacman's local database).
    pub const INSTALLED: u16 = 1;
    /// Installed because another package needed it.
    pub const AUTO: u16 = 1 << 1;
    /// A newer version is offered.
    pub const UPGRADABLE: u16 = 1 << 2;
    /// Installed as a dependency and no longer needed by anything.
    pub const ORPHAN: u16 = 1 << 3;
    /// The system cannot work without it.
    pub const ESSENTIAL: u16 = 1 << 4;
    /// A repository offers a version of it.
    pub const AVAILABLE: u16 = 1 << 5;
}

/// Facts about the database the index was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub backend: BackendKind,
    pub backend_version: String,
    pub fingerprint: String,
    /// Unix time the index was built.
    pub built_at: u64,
    /// Unix time of the last database refresh, if known.
    pub last_refresh: Option<u64>,
}

/// A slice of the text arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Span {
    start: u32,
    len: u32,
}

/// One package, as offsets into the arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    name: Span,
    architecture: Span,
    version: Span,
    installed_version: Span,
    repository: Span,
    summary: Span,
    /// Provided names separated by `\n`.
    provides: Span,
    flags: u16,
}

/// The whole index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub meta: IndexMeta,
    text: String,
    entries: Vec<Entry>,
}

/// A borrowed view of one package in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package<'a> {
    pub name: &'a str,
    pub architecture: &'a str,
    pub version: &'a str,
    pub installed_version: Option<&'a str>,
    pub repository: &'a str,
    pub summary: &'a str,
    provides: &'a str,
    pub flags: u16,
}

impl<'a> Package<'a> {
    pub fn provides(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.provides.split('\n').filter(|p| !p.is_empty())
    }

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    pub fn is_installed(&self) -> bool {
        self.has(flags::INSTALLED)
    }

    pub fn install_reason(&self) -> Option<InstallReason> {
        if !self.is_installed() {
            None
        } else if self.has(flags::AUTO) {
            Some(InstallReason::Dependency)
        } else {
            Some(InstallReason::Explicit)
        }
    }

    /// The row `omg list` shows for an installed package.
    pub fn to_installed(&self) -> InstalledPackage {
        let upgradable = self.has(flags::UPGRADABLE);
        InstalledPackage {
            name: self.name.to_string(),
            architecture: self.architecture.to_string(),
            version: self.installed_version.unwrap_or(self.version).to_string(),
            candidate_version: upgradable.then(|| self.version.to_string()),
            repository: upgradable.then(|| self.repository.to_string()),
            reason: self
                .install_reason()
                .unwrap_or(InstallReason::Dependency),
            description: self.summary.to_string(),
        }
    }
}

struct ArenaBuilder {
    text: String,
}

impl ArenaBuilder {
    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }
}

impl Index {
    /// Packs the backend's records. Records are sorted by name; a name that
    /// appears twice keeps its first record.
    pub fn from_records(meta: IndexMeta, mut records: Vec<IndexRecord>) -> Index {
        records.sort_by(|a, b| a.name.cmp(&b.name));
        records.dedup_by(|b, a| a.name == b.name);
        let mut arena = ArenaBuilder {
            text: String::with_capacity(records.len() * 96),
        };
        let entries = records
            .iter()
            .map(|r| Entry {
                name: arena.push(&r.name),
                architecture: arena.push(&r.architecture),
                version: arena.push(&r.version),
                installed_version: r
                    .installed_version
                    .as_deref()
                    .map(|v| arena.push(v))
                    .unwrap_or_default(),
                repository: arena.push(&r.repository),
                summary: arena.push(&r.summary),
                provides: arena.push(&r.provides.join("\n")),
                flags: r.flags,
            })
            .collect();
        Index {
            meta,
            text: arena.text,
            entries,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn span(&self, span: Span) -> &str {
        let start = span.start as usize;
        self.text
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }

    /// The package at position `i` (name order).
    pub fn get(&self, i: usize) -> Package<'_> {
        let e = &self.entries[i];
        Package {
            name: self.span(e.name),
            architecture: self.span(e.architecture),
            version: self.span(e.version),
            installed_version: (e.installed_version.len > 0)
                .then(|| self.span(e.installed_version)),
            repository: self.span(e.repository),
            summary: self.span(e.summary),
            provides: self.span(e.provides),
            flags: e.flags,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Package<'_>> {
        (0..self.entries.len()).map(|i| self.get(i))
    }

    /// The package called exactly `name`.
    pub fn find(&self, name: &str) -> Option<Package<'_>> {
        self.entries
            .binary_search_by(|e| self.span(e.name).cmp(name))
            .ok()
            .map(|i| self.get(i))
    }

    /// Packages that provide `name`.
    pub fn providers(&self, name: &str) -> Vec<Package<'_>> {
        self.iter()
            .filter(|p| p.provides().any(|v| v == name))
            .collect()
    }

    /// Checks that every span lies inside the arena on a character boundary,
    /// so a damaged snapshot is refused instead of misread.
    pub fn validate(&self) -> bool {
        let ok = |s: Span| {
            let start = s.start as usize;
            let end = start + s.len as usize;
            end <= self.text.len()
                && self.text.is_char_boundary(start)
                && self.text.is_char_boundary(end)
        };
        self.entries.iter().all(|e| {
            ok(e.name)
                && ok(e.architecture)
                && ok(e.version)
                && ok(e.installed_version)
                && ok(e.repository)
                && ok(e.summary)
                && ok(e.provides)
        }) && self
            .entries
            .windows(2)
            .all(|w| self.span(w[0].name) < self.span(w[1].name))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn meta() -> IndexMeta {
        IndexMeta {
            backend: BackendKind::Apt,
            backend_version: "test".into(),
            fingerprint: "f".into(),
            built_at: 1,
            last_refresh: None,
        }
    }

    pub fn record(name: &str, summary: &str, flags: u16) -> IndexRecord {
        IndexRecord {
            name: name.into(),
            architecture: "amd64".into(),
            version: "1.0".into(),
            installed_version: (flags & flags::INSTALLED != 0).then(|| "1.0".into()),
            repository: "test/main".into(),
            summary: summary.into(),
            provides: vec![],
            flags,
        }
    }

    #[test]
    fn packs_sorts_and_finds() {
        let mut with_provides = record("mawk", "a pattern scanning language", 0);
        with_provides.provides = vec!["awk".into()];
        let index = Index::from_records(
            meta(),
            vec![
                record("zsh", "shell", flags::INSTALLED),
                with_provides,
                record("bash", "GNU shell", flags::INSTALLED | flags::AUTO),
            ],
        );
        assert!(index.validate());
        let names: Vec<_> = index.iter().map(|p| p.name).collect();
        assert_eq!(names, ["bash", "mawk", "zsh"]);
        assert_eq!(index.find("mawk").unwrap().summary, "a pattern scanning language");
        assert!(index.find("awk").is_none());
        assert_eq!(index.providers("awk")[0].name, "mawk");
        assert_eq!(
            index.find("bash").unwrap().install_reason(),
            Some(InstallReason::Dependency)
        );
        assert_eq!(index.find("zsh").unwrap().installed_version, Some("1.0"));
        assert_eq!(index.find("mawk").unwrap().installed_version, None);
    }
}
