//! The package index: every package of the database in one compact,
//! name-sorted structure (one text arena plus fixed-size entries) that can be
//! ranked against a query (`rank`) and saved to and loaded from the embedded
//! database (`snapshot`) without touching the backend.

pub mod fingerprint;
pub mod rank;
pub mod snapshot;
pub mod watched;

use serde::{Deserialize, Serialize};

use crate::model::{BackendKind, InstallReason, InstalledPackage};
pub use watched::Watched;

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
    /// What the fingerprint covers, so a process without the backend can
    /// check the snapshot (the files that name these paths are in it too).
    pub watched: Vec<Watched>,
}

/// Size of one entry record in `Index::entries`.
const ENTRY_SIZE: usize = 12;

/// The whole index. Its packages live in three byte regions, the same in
/// memory and in the snapshot, so loading one is a read (or a map) and a
/// UTF-8 check:
///
/// * `entries`: per package, little-endian `name_offset: u32`,
///   `detail_offset: u32`, `flags: u16`, `name_len: u16`, in name order;
/// * `names`: the names, back to back;
/// * `details`: per package `summary \0 provides \0 arch \0 version \0
///   installed \0 repository \0`, the provided names joined by `\n`.
///   Summary and provides come first and the packages' details lie in name
///   order, so a search can scan the whole region at once (see `rank`);
/// * `extra`: bytes the index's owner gives a meaning to, saved and mapped
///   with it (empty for the repositories; the AUR's index keeps its full
///   records there, see `aur::offline`).
///
/// Accessors never index out of bounds: a damaged offset reads as empty text.
pub struct Index {
    pub meta: IndexMeta,
    backing: Backing,
    /// Where the details start in the text (names, then details).
    names_len: usize,
}

/// Where an index's regions are: its own buffers, or a snapshot file
/// mapped into memory (a one-shot reader touches only the pages it needs
/// and copies nothing).
enum Backing {
    Owned {
        entries: Vec<u8>,
        text: String,
        extra: Vec<u8>,
    },
    Mapped {
        map: memmap2::Mmap,
        entries: std::ops::Range<usize>,
        text: std::ops::Range<usize>,
        extra: std::ops::Range<usize>,
    },
}

impl Backing {
    fn entries(&self) -> &[u8] {
        match self {
            Backing::Owned { entries, .. } => entries,
            Backing::Mapped { map, entries, .. } => map.get(entries.clone()).unwrap_or_default(),
        }
    }

    fn extra(&self) -> &[u8] {
        match self {
            Backing::Owned { extra, .. } => extra,
            Backing::Mapped { map, extra, .. } => map.get(extra.clone()).unwrap_or_default(),
        }
    }

    fn text(&self) -> &str {
        match self {
            Backing::Owned { text, .. } => text,
            Backing::Mapped { map, text, .. } => {
                let bytes = map.get(text.clone()).unwrap_or_default();
                // SAFETY: `Index::mapped` checked these bytes are UTF-8, and
                // they do not change: the map is read-only and private, and
                // snapshot files are only ever replaced by rename, never
                // written in place.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
        }
    }
}

impl Clone for Index {
    fn clone(&self) -> Index {
        Index {
            meta: self.meta.clone(),
            backing: Backing::Owned {
                entries: self.entries().to_vec(),
                text: self.text().to_string(),
                extra: self.extra().to_vec(),
            },
            names_len: self.names_len,
        }
    }
}

impl PartialEq for Index {
    fn eq(&self, other: &Index) -> bool {
        self.meta == other.meta && self.parts() == other.parts() && self.extra() == other.extra()
    }
}

impl Eq for Index {}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("meta", &self.meta)
            .field("packages", &self.len())
            .finish()
    }
}

/// An index's regions, borrowed: what a loop over every package reads.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    entries: &'a [u8],
    names: &'a str,
    details: &'a str,
}

impl<'a> View<'a> {
    /// The name of the package at position `i`.
    pub fn name(&self, i: usize) -> &'a str {
        let at = i * ENTRY_SIZE;
        let start = u32_at(self.entries, at) as usize;
        let len = usize::from(u16_at(self.entries, at + 10));
        self.names.get(start..start + len).unwrap_or_default()
    }

    /// The flags of the package at position `i`.
    pub fn flags(&self, i: usize) -> u16 {
        u16_at(self.entries, i * ENTRY_SIZE + 8)
    }

    /// Where the details of package `i` start in `details`.
    pub fn detail_offset(&self, i: usize) -> usize {
        u32_at(self.entries, i * ENTRY_SIZE + 4) as usize
    }

    /// The details region.
    pub fn details(&self) -> &'a str {
        self.details
    }

    pub fn len(&self) -> usize {
        self.entries.len() / ENTRY_SIZE
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
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
            reason: self.install_reason().unwrap_or(InstallReason::Dependency),
            description: self.summary.to_string(),
        }
    }
}

/// Text for the index: NUL separates fields, so it cannot appear inside one.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        s.replace('\0', "").into()
    } else {
        s.into()
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    bytes
        .get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
}

impl Index {
    /// Packs the backend's records. Records are sorted by name; a name that
    /// appears twice keeps its first record.
    pub fn from_records(meta: IndexMeta, mut records: Vec<IndexRecord>) -> Index {
        records.sort_by(|a, b| a.name.cmp(&b.name));
        records.dedup_by(|b, a| a.name == b.name);
        let mut entries = Vec::with_capacity(records.len() * ENTRY_SIZE);
        // The names, then the details appended: room for both.
        let mut names = String::with_capacity(records.len() * 120);
        let mut details = String::with_capacity(records.len() * 100);
        for r in &records {
            let name = clean(&r.name);
            let name: &str = if name.len() > usize::from(u16::MAX) {
                &name[..name.floor_char_boundary(usize::from(u16::MAX))]
            } else {
                &name
            };
            entries.extend_from_slice(&(names.len() as u32).to_le_bytes());
            entries.extend_from_slice(&(details.len() as u32).to_le_bytes());
            entries.extend_from_slice(&r.flags.to_le_bytes());
            entries.extend_from_slice(&(name.len() as u16).to_le_bytes());
            names.push_str(name);
            let provides = r.provides.join("\n");
            for field in [
                r.summary.as_str(),
                provides.as_str(),
                r.architecture.as_str(),
                r.version.as_str(),
                r.installed_version.as_deref().unwrap_or(""),
                r.repository.as_str(),
            ] {
                details.push_str(&clean(field));
                details.push('\0');
            }
        }
        let names_len = names.len();
        names.push_str(&details);
        Index {
            meta,
            backing: Backing::Owned {
                entries,
                text: names,
                extra: Vec::new(),
            },
            names_len,
        }
    }

    /// This index with `extra` as its extra region.
    pub fn with_extra(self, extra: Vec<u8>) -> Index {
        let backing = match self.backing {
            Backing::Owned { entries, text, .. } => Backing::Owned {
                entries,
                text,
                extra,
            },
            ref mapped => Backing::Owned {
                entries: mapped.entries().to_vec(),
                text: mapped.text().to_string(),
                extra,
            },
        };
        Index { backing, ..self }
    }

    /// Lets the kernel drop the resident pages of a mapped index (the next
    /// read faults them back in from the page cache); an index in its own
    /// memory keeps it. For a daemon gone idle.
    pub fn release_resident(&self) {
        if let Backing::Mapped { map, .. } = &self.backing {
            // SAFETY: the map is private and read-only and its file is only
            // ever replaced by rename, never written in place: dropping its
            // pages loses nothing, a later read maps the same bytes again.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// The extra region: what the index's owner keeps beside the packages.
    pub fn extra(&self) -> &[u8] {
        self.backing.extra()
    }

    /// Reassembles an index from its regions (see `snapshot`): the entries,
    /// and the names followed by the details in one string.
    pub(crate) fn from_parts(
        meta: IndexMeta,
        entries: Vec<u8>,
        text: String,
        extra: Vec<u8>,
        names_len: usize,
    ) -> Option<Index> {
        (entries.len().is_multiple_of(ENTRY_SIZE) && text.is_char_boundary(names_len)).then_some(
            Index {
                meta,
                backing: Backing::Owned {
                    entries,
                    text,
                    extra,
                },
                names_len,
            },
        )
    }

    /// An index over a mapped snapshot file: `entries`, `text` (the
    /// names, then the details) and `extra` are ranges of `map`. None when
    /// they do not fit in it or the text is not UTF-8.
    pub(crate) fn mapped(
        meta: IndexMeta,
        map: memmap2::Mmap,
        entries: std::ops::Range<usize>,
        text: std::ops::Range<usize>,
        extra: std::ops::Range<usize>,
        names_len: usize,
    ) -> Option<Index> {
        let checked = std::str::from_utf8(map.get(text.clone())?).ok()?;
        let fits = entries.len().is_multiple_of(ENTRY_SIZE)
            && map.get(entries.clone()).is_some()
            && map.get(extra.clone()).is_some()
            && checked.is_char_boundary(names_len);
        fits.then_some(Index {
            meta,
            backing: Backing::Mapped {
                map,
                entries,
                text,
                extra,
            },
            names_len,
        })
    }

    pub(crate) fn parts(&self) -> (&[u8], &str, &str) {
        (self.entries(), self.names_region(), self.details())
    }

    fn entries(&self) -> &[u8] {
        self.backing.entries()
    }

    fn text(&self) -> &str {
        self.backing.text()
    }

    /// The names region.
    fn names_region(&self) -> &str {
        self.text().get(..self.names_len).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.entries().len() / ENTRY_SIZE
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The regions, looked up once: for loops over every package.
    pub fn view(&self) -> View<'_> {
        View {
            entries: self.entries(),
            names: self.names_region(),
            details: self.details(),
        }
    }

    /// The name of the package at position `i`.
    pub fn name(&self, i: usize) -> &str {
        self.view().name(i)
    }

    /// The flags of the package at position `i`.
    pub fn flags(&self, i: usize) -> u16 {
        self.view().flags(i)
    }

    /// Where the details of package `i` start in `details()`.
    pub fn detail_offset(&self, i: usize) -> usize {
        self.view().detail_offset(i)
    }

    /// The details region (see the type's documentation).
    pub fn details(&self) -> &str {
        self.text().get(self.names_len..).unwrap_or_default()
    }

    /// Every name, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let view = self.view();
        (0..self.len()).map(move |i| view.name(i))
    }

    /// The package at position `i` (name order).
    pub fn get(&self, i: usize) -> Package<'_> {
        let at = i * ENTRY_SIZE;
        let detail = u32_at(self.entries(), at + 4) as usize;
        let mut fields = self
            .details()
            .get(detail..)
            .unwrap_or_default()
            .splitn(7, '\0');
        let mut next = || fields.next().unwrap_or_default();
        let (summary, provides, architecture, version, installed, repository) =
            (next(), next(), next(), next(), next(), next());
        Package {
            name: self.name(i),
            architecture,
            version,
            installed_version: (!installed.is_empty()).then_some(installed),
            repository,
            summary,
            provides,
            flags: self.flags(i),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Package<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The package called exactly `name`.
    pub fn find(&self, name: &str) -> Option<Package<'_>> {
        self.position(name).map(|i| self.get(i))
    }

    /// Where the package called exactly `name` is, in name order.
    pub fn position(&self, name: &str) -> Option<usize> {
        let view = self.view();
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match view.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Checks what a damaged snapshot would break: every offset inside its
    /// region, and names in order (lookups rely on it).
    pub fn is_consistent(&self) -> bool {
        let view = self.view();
        let (names, details) = (view.names.len(), view.details.len());
        let mut previous: Option<(&str, usize)> = None;
        view.entries.chunks_exact(ENTRY_SIZE).all(|entry| {
            let start = u32_at(entry, 0) as usize;
            let end = start + usize::from(u16_at(entry, 10));
            let detail = u32_at(entry, 4) as usize;
            let Some(name) = view.names.get(start..end) else {
                return false;
            };
            let in_order = previous.is_none_or(|(n, d)| n < name && d < detail);
            previous = Some((name, detail));
            end <= names && detail < details && in_order
        })
    }

    /// `is_consistent` for an index read for its names alone
    /// (`snapshot::map_names`): the names lie back to back, each entry's
    /// right after the one before, ending where the region ends. Their
    /// order is not compared here (a completion checks the names it gives).
    pub fn names_are_consistent(&self) -> bool {
        let view = self.view();
        let mut end = 0usize;
        let contiguous = view.entries.chunks_exact(ENTRY_SIZE).all(|entry| {
            let start = u32_at(entry, 0) as usize;
            let next = start + usize::from(u16_at(entry, 10));
            let follows = start == end;
            end = next;
            follows
        });
        contiguous && end == view.names.len()
    }

    /// Packages that provide `name`.
    pub fn providers(&self, name: &str) -> Vec<Package<'_>> {
        self.iter()
            .filter(|p| p.provides().any(|v| v == name))
            .collect()
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
            watched: Vec::new(),
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
        let names: Vec<_> = index.iter().map(|p| p.name).collect();
        assert_eq!(names, ["bash", "mawk", "zsh"]);
        assert_eq!(
            index.find("mawk").unwrap().summary,
            "a pattern scanning language"
        );
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
