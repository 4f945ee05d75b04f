//! Saving the index in the embedded database and loading it back. The blob
//! starts with a format number and the `IndexMeta`, so a stale snapshot (its
//! fingerprint differs from the database's) is recognised without decoding
//! the rest; a blob that fails to decode or to validate is reported, never
//! trusted.

use super::{Index, IndexMeta};
use crate::model::BackendKind;
use crate::store::{INDEX_META, INDEX_SNAPSHOT, Store, StoreError};

/// Bumped whenever the layout of the blob changes.
const FORMAT: u32 = 4;

/// What the store held for a backend.
#[derive(Debug)]
pub enum Loaded {
    /// A snapshot matching the fingerprint.
    Fresh(Index),
    /// No snapshot, or one of another database state.
    Stale,
    /// A snapshot that could not be read; the reason.
    Damaged(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// The bytes stored for `index`: bincode of `(FORMAT, meta)`, then the
/// lengths of the three regions (u32 little-endian each), then the regions.
pub fn encode(index: &Index) -> Vec<u8> {
    let mut out = bincode::serde::encode_to_vec((FORMAT, &index.meta), config())
        .expect("encoding to memory cannot fail");
    let (entries, names, details) = index.parts();
    for len in [entries.len(), names.len(), details.len()] {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(entries);
    out.extend_from_slice(names.as_bytes());
    out.extend_from_slice(details.as_bytes());
    out
}

/// Reads a stored blob, checking it against the expected fingerprint.
pub fn decode(bytes: &[u8], fingerprint: &str) -> Loaded {
    let head: Result<((u32, IndexMeta), usize), _> =
        bincode::serde::decode_from_slice(bytes, config());
    let ((format, meta), used) = match head {
        Ok(h) => h,
        Err(e) => return Loaded::Damaged(format!("snapshot header: {e}")),
    };
    if format != FORMAT || meta.fingerprint != fingerprint {
        return Loaded::Stale;
    }
    let rest = &bytes[used..];
    let Some(lengths) = rest.get(..12) else {
        return Loaded::Damaged("snapshot is truncated".into());
    };
    let len = |i: usize| {
        u32::from_le_bytes([lengths[i], lengths[i + 1], lengths[i + 2], lengths[i + 3]]) as usize
    };
    let (entries_len, names_len, details_len) = (len(0), len(4), len(8));
    let body = &rest[12..];
    if body.len() != entries_len + names_len + details_len {
        return Loaded::Damaged("snapshot regions do not add up to its size".into());
    }
    let (entries, body) = body.split_at(entries_len);
    let (names, details) = body.split_at(names_len);
    let (Ok(names), Ok(details)) = (std::str::from_utf8(names), std::str::from_utf8(details))
    else {
        return Loaded::Damaged("snapshot text is not UTF-8".into());
    };
    match Index::from_parts(
        meta,
        entries.to_vec(),
        names.to_string(),
        details.to_string(),
    ) {
        Some(index) if index.is_consistent() => Loaded::Fresh(index),
        _ => Loaded::Damaged("snapshot entries point outside their text".into()),
    }
}

/// Loads the snapshot stored under `key` if it matches `fingerprint`.
pub fn load(store: &Store, key: &str, fingerprint: &str) -> Result<Loaded, StoreError> {
    store.with_blob(INDEX_SNAPSHOT, key, |blob| match blob {
        None => Loaded::Stale,
        Some(bytes) => decode(bytes, fingerprint),
    })
}

/// The header of the snapshot stored under `key`: what it was built from,
/// without reading the rest (it is kept in a table of its own).
pub fn meta(store: &Store, key: &str) -> Option<IndexMeta> {
    store
        .with_blob(INDEX_META, key, |blob| {
            let ((format, meta), _): ((u32, IndexMeta), usize) =
                bincode::serde::decode_from_slice(blob?, config()).ok()?;
            (format == FORMAT).then_some(meta)
        })
        .ok()
        .flatten()
}

/// Stores `index` under `key`.
pub fn save(store: &Store, key: &str, index: &Index) -> Result<(), StoreError> {
    store.put_blob(INDEX_SNAPSHOT, key, &encode(index))?;
    let header = bincode::serde::encode_to_vec((FORMAT, &index.meta), config())
        .expect("encoding to memory cannot fail");
    store.put_blob(INDEX_META, key, &header)
}

/// The key a snapshot is stored under: the backend, and the environment
/// that chooses which of its databases is read (another root, another
/// pacman.conf, another apt configuration each get their own).
pub fn key(backend: BackendKind) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for var in [
        "APT_CONFIG",
        "OMG_PACMAN_CONF",
        "OMG_ALPM_ROOT",
        "OMG_ALPM_DBPATH",
    ] {
        h.update(var);
        h.update([0]);
        if let Some(v) = std::env::var_os(var) {
            h.update(v.as_encoded_bytes());
        }
        h.update([0]);
    }
    let digest = h.finalize();
    let scope: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{scope}", backend.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::{meta, record};

    #[test]
    fn fresh_stale_and_damaged() {
        let index = Index::from_records(meta(), vec![record("vim", "editor", 0)]);
        let bytes = encode(&index);
        match decode(&bytes, "f") {
            Loaded::Fresh(i) => assert_eq!(i, index),
            other => panic!("expected a fresh snapshot, got {other:?}"),
        }
        assert!(matches!(decode(&bytes, "other"), Loaded::Stale));
        assert!(matches!(
            decode(&bytes[..bytes.len() - 3], "f"),
            Loaded::Damaged(_)
        ));
        assert!(matches!(
            decode(b"\xff\xff\xff\xff", "f"),
            Loaded::Damaged(_)
        ));

        // An offset pointing past the text is caught.
        let mut bytes = bytes.clone();
        let (entries, names, details) = index.parts();
        let entries_at = bytes.len() - details.len() - names.len() - entries.len();
        bytes[entries_at + 4] = 0xff;
        assert!(matches!(decode(&bytes, "f"), Loaded::Damaged(_)));
    }
}
