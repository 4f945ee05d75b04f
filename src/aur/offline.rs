//! The AUR, indexed from its metadata dump (see `dump`): every package in
//! one file beside the repositories' snapshot (`index-aur.bin` in the data
//! directory), in the repositories' index layout so it is ranked the same
//! way and read in place (mapped, nothing decoded but the hits), with the
//! full RPC records in the index's extra region for `omg info` and the
//! resolver. The file's modification time is when the AUR last confirmed
//! the dump it came from.
//!
//! The extra region: per package, in name order, 12 bytes (the record's
//! offset in the records that follow, u32; its votes, u32; its popularity,
//! f32; little-endian), then the records, bincode of `AurPackage`, back to
//! back.

use std::path::{Path, PathBuf};

use super::rpc::AurPackage;
use crate::index::snapshot::{self, Loaded};
use crate::index::{Index, IndexMeta, IndexRecord, rank};
use crate::ipc::protocol::SearchRequest;
use crate::model::{BackendKind, SearchResults};

/// The file, in the data directory.
pub const FILE: &str = "index-aur.bin";

/// What the meta's `backend_version` says of an AUR index, so no other
/// snapshot is taken for one.
const KIND: &str = "aur packages-meta-ext-v1";

/// Bytes per package before the records in the extra region.
const SLOT: usize = 12;

/// The index file in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Whether `meta` is an AUR index's (no other snapshot is taken for one).
fn is_aur(meta: &IndexMeta) -> bool {
    meta.backend_version == KIND
}

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// The AUR's packages, from the last dump.
pub struct AurIndex {
    index: Index,
    /// Unix time the AUR last confirmed the dump (the file's mtime).
    checked_at: u64,
}

/// Collects the records of a dump, kept small (the fields a search
/// reads, and each full record encoded) until they are sorted.
#[derive(Default)]
pub struct Builder {
    packages: Vec<(IndexRecord, u32, f32, Vec<u8>)>,
}

impl Builder {
    pub fn add(&mut self, record: &AurPackage) {
        let encoded = bincode::serde::encode_to_vec(record, bincode_config())
            .expect("encoding to memory cannot fail");
        let provides = record
            .provides
            .iter()
            .map(|p| crate::version::Depend::parse(p).name)
            .collect();
        let indexed = IndexRecord {
            name: record.name.clone(),
            architecture: String::new(),
            version: record.version.clone(),
            installed_version: None,
            repository: "aur".into(),
            summary: record.description.clone().unwrap_or_default(),
            provides,
            flags: 0,
        };
        let votes = u32::try_from(record.num_votes).unwrap_or(u32::MAX);
        self.packages
            .push((indexed, votes, record.popularity as f32, encoded));
    }

    /// The index, its meta saying the dump was `last_modified` (the HTTP
    /// header, as the AUR sent it).
    pub fn finish(mut self, last_modified: &str) -> AurIndex {
        // Sorted and deduplicated as `Index::from_records` does, so the
        // slots follow the index's order.
        self.packages.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        self.packages.dedup_by(|b, a| a.0.name == b.0.name);
        let size: usize = self.packages.iter().map(|p| p.3.len()).sum();
        let mut extra = Vec::with_capacity(self.packages.len() * SLOT + size);
        let mut offset = 0u32;
        for (_, votes, popularity, encoded) in &self.packages {
            extra.extend_from_slice(&offset.to_le_bytes());
            extra.extend_from_slice(&votes.to_le_bytes());
            extra.extend_from_slice(&popularity.to_le_bytes());
            offset += encoded.len() as u32;
        }
        let mut indexed = Vec::with_capacity(self.packages.len());
        for (record, _, _, encoded) in self.packages {
            extra.extend_from_slice(&encoded);
            indexed.push(record);
        }
        let now = crate::unix_now();
        let meta = IndexMeta {
            backend: BackendKind::Alpm,
            backend_version: KIND.into(),
            fingerprint: last_modified.into(),
            built_at: now,
            last_refresh: Some(now),
            watched: Vec::new(),
        };
        AurIndex {
            index: Index::from_records(meta, indexed).with_extra(extra),
            checked_at: now,
        }
    }
}

impl AurIndex {
    /// An index of `records`.
    pub fn build(records: Vec<AurPackage>, last_modified: &str) -> AurIndex {
        let mut builder = Builder::default();
        records.iter().for_each(|r| builder.add(r));
        builder.finish(last_modified)
    }

    /// Maps the index file at `path`: None when there is none, the reason
    /// when it is damaged.
    pub fn open(path: &Path) -> Result<Option<AurIndex>, String> {
        let index = match snapshot::map_with(path, false, is_aur) {
            Loaded::Fresh(index) => index,
            Loaded::Stale => return Ok(None),
            Loaded::Damaged(why) => return Err(format!("{}: {why}", path.display())),
        };
        if index.extra().len() < index.len() * SLOT {
            return Err(format!("{}: the records are cut short", path.display()));
        }
        let checked_at = modified(path).unwrap_or(index.meta.built_at);
        Ok(Some(AurIndex { index, checked_at }))
    }

    /// The index file at `path` read for its names alone
    /// (`snapshot::map_names`: what a completion reads): None when there is
    /// none, the reason when it is damaged.
    pub fn open_names(path: &Path) -> Result<Option<Index>, String> {
        match snapshot::map_names(path, is_aur) {
            Loaded::Fresh(index) => Ok(Some(index)),
            Loaded::Stale => Ok(None),
            Loaded::Damaged(why) => Err(format!("{}: {why}", path.display())),
        }
    }

    /// Writes the index to `path`, replacing the file whole.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        snapshot::save(path, &self.index)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Seconds since the AUR last confirmed the dump.
    pub fn age(&self) -> u64 {
        crate::unix_now().saturating_sub(self.checked_at)
    }

    fn slot(&self, i: usize) -> Option<&[u8]> {
        self.index.extra().get(i * SLOT..(i + 1) * SLOT)
    }

    /// The popularity of the package at position `i`.
    fn popularity(&self, i: usize) -> f32 {
        self.slot(i)
            .map_or(0.0, |s| f32::from_le_bytes([s[8], s[9], s[10], s[11]]))
    }

    /// The full record of the package at position `i`; None for a damaged
    /// one.
    fn record_at(&self, i: usize) -> Option<AurPackage> {
        let offset = |i: usize| {
            self.slot(i)
                .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        };
        let extra = self.index.extra();
        let records = extra.get(self.len() * SLOT..)?;
        let start = offset(i)?;
        let end = if i + 1 < self.len() {
            offset(i + 1)?
        } else {
            records.len()
        };
        let (record, _) =
            bincode::serde::decode_from_slice(records.get(start..end)?, bincode_config()).ok()?;
        Some(record)
    }

    /// The record of the package called `name`.
    pub fn get(&self, name: &str) -> Option<AurPackage> {
        self.record_at(self.index.position(name)?)
    }

    /// The packages that provide `name` (or are called it), most popular
    /// first.
    pub fn providers(&self, name: &str) -> Vec<AurPackage> {
        let view = self.index.view();
        let mut found: Vec<(f32, usize)> = (0..view.len())
            .filter(|&i| view.name(i) == name || self.index.get(i).provides().any(|p| p == name))
            .map(|i| (self.popularity(i), i))
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found
            .into_iter()
            .filter_map(|(_, i)| self.record_at(i))
            .collect()
    }

    /// The AUR's package names that start with `prefix` (`rank::complete`).
    pub fn complete(&self, prefix: &str) -> Option<Vec<String>> {
        rank::complete(&self.index, prefix)
    }

    /// The AUR's packages matching `request`, ranked as the repositories'
    /// are (the more popular first within each tier), each hit with its
    /// AUR facts.
    pub fn search(&self, request: &SearchRequest) -> SearchResults {
        let mut results = rank::search_weighted(&self.index, request, |i| self.popularity(i));
        for hit in &mut results.hits {
            if let Some(record) = self.get(&hit.name) {
                hit.aur = Some(super::search::meta(&record));
            }
        }
        results
    }
}

/// The `Last-Modified` of the dump the index at `path` was built from.
pub fn last_modified(path: &Path) -> Option<String> {
    snapshot::meta(path)
        .filter(|m| m.backend_version == KIND && !m.fingerprint.is_empty())
        .map(|m| m.fingerprint)
}

/// Records that the AUR confirmed the index at `path` is current.
pub fn mark_checked(path: &Path) -> std::io::Result<()> {
    std::fs::File::options()
        .append(true)
        .open(path)?
        .set_modified(std::time::SystemTime::now())
}

fn modified(path: &Path) -> Option<u64> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, description: &str, popularity: f64) -> AurPackage {
        serde_json::from_value(serde_json::json!({
            "Name": name,
            "PackageBase": name,
            "Version": "1.0-1",
            "Description": description,
            "NumVotes": (popularity * 10.0) as u64,
            "Popularity": popularity,
            "Maintainer": "someone",
            "Provides": [format!("{name}-virtual=1.0")],
            "Depends": ["glibc"],
        }))
        .unwrap()
    }

    #[test]
    fn records_are_found_ranked_and_read_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path());
        assert!(AurIndex::open(&file).unwrap().is_none(), "no file yet");
        let index = AurIndex::build(
            vec![
                record("vim-plug", "a plugin manager for vim", 0.5),
                record("vim-youcompleteme-git", "completion for vim", 3.0),
                record("yay", "Yet another yogurt", 20.0),
                record("vim-plug", "a second record of the same name", 9.0),
                record("editor", "an editor like vim", 1.0),
            ],
            "Tue, 01 Dec 2026 10:00:00 GMT",
        );
        index.save(&file).unwrap();
        let index = AurIndex::open(&file).unwrap().unwrap();
        assert_eq!(index.len(), 4);
        assert_eq!(
            last_modified(&file).as_deref(),
            Some("Tue, 01 Dec 2026 10:00:00 GMT")
        );
        let yay = index.get("yay").unwrap();
        assert_eq!(yay.depends, ["glibc"]);
        assert_eq!(yay.num_votes, 200);
        assert!(index.get("nano").is_none());
        let request = SearchRequest {
            query: "vim".into(),
            limit: 0,
            installed_only: false,
            sources: Default::default(),
        };
        let results = index.search(&request);
        let names: Vec<&str> = results.hits.iter().map(|h| h.name.as_str()).collect();
        // Prefixes, the more popular first; then the description.
        assert_eq!(names, ["vim-youcompleteme-git", "vim-plug", "editor"]);
        assert!(results.hits.iter().all(|h| h.repository == "aur"));
        assert_eq!(results.hits[0].aur.as_ref().unwrap().votes, 30);
        assert_eq!(
            index.providers("yay-virtual")[0].name,
            "yay",
            "provided names are found without their version"
        );
        assert!(index.age() < 5);
    }

    #[test]
    fn a_repository_snapshot_or_a_damaged_file_is_not_taken_for_the_aur() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path());
        let repo = Index::from_records(
            crate::index::tests::meta(),
            vec![crate::index::tests::record("vim", "editor", 0)],
        );
        snapshot::save(&file, &repo).unwrap();
        assert!(AurIndex::open(&file).unwrap().is_none());
        AurIndex::build(vec![record("yay", "helper", 1.0)], "")
            .save(&file)
            .unwrap();
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 10]).unwrap();
        assert!(AurIndex::open(&file).is_err());
    }
}
