//! Saving the index in the embedded database and loading it back. The blob
//! starts with a format number and the `IndexMeta`, so a stale snapshot (its
//! fingerprint differs from the database's) is recognised without decoding
//! the rest; a blob that fails to decode or to validate is reported, never
//! trusted.

use super::{Index, IndexMeta};
use crate::model::BackendKind;
use crate::store::{INDEX_SNAPSHOT, Store, StoreError};

/// Bumped whenever the layout of the blob changes.
const FORMAT: u32 = 3;

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

/// Loads the snapshot of `backend` if it matches `fingerprint`.
pub fn load(store: &Store, backend: BackendKind, fingerprint: &str) -> Result<Loaded, StoreError> {
    store.with_blob(INDEX_SNAPSHOT, backend.as_str(), |blob| match blob {
        None => Loaded::Stale,
        Some(bytes) => decode(bytes, fingerprint),
    })
}

/// Stores `index` as the snapshot of its backend.
pub fn save(store: &Store, index: &Index) -> Result<(), StoreError> {
    store.put_blob(INDEX_SNAPSHOT, index.meta.backend.as_str(), &encode(index))
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
