//! Saving the index in the embedded database and loading it back. The blob
//! starts with a format number and the `IndexMeta`, so a stale snapshot (its
//! fingerprint differs from the database's) is recognised without decoding
//! the rest; a blob that fails to decode or to validate is reported, never
//! trusted.

use super::{Entry, Index, IndexMeta};
use crate::model::BackendKind;
use crate::store::{INDEX_SNAPSHOT, Store, StoreError};

/// Bumped whenever the layout of `Index` changes.
const FORMAT: u32 = 1;

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

/// The bytes stored for `index`.
pub fn encode(index: &Index) -> Vec<u8> {
    let mut out = bincode::serde::encode_to_vec((FORMAT, &index.meta), config())
        .expect("encoding to memory cannot fail");
    let body = bincode::serde::encode_to_vec((&index.text, &index.entries), config())
        .expect("encoding to memory cannot fail");
    out.extend_from_slice(&body);
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
    let body: Result<((String, Vec<Entry>), usize), _> =
        bincode::serde::decode_from_slice(&bytes[used..], config());
    match body {
        Ok(((text, entries), n)) if used + n == bytes.len() => {
            let index = Index {
                meta,
                text,
                entries,
            };
            if index.validate() {
                Loaded::Fresh(index)
            } else {
                Loaded::Damaged("snapshot entries point outside their text".into())
            }
        }
        Ok(_) => Loaded::Damaged("snapshot has trailing bytes".into()),
        Err(e) => Loaded::Damaged(format!("snapshot body: {e}")),
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
        assert!(matches!(decode(&bytes[..bytes.len() - 3], "f"), Loaded::Damaged(_)));
        assert!(matches!(decode(b"\xff\xff\xff\xff", "f"), Loaded::Damaged(_)));

        // Spans pointing past the text are caught by validation.
        let mut broken = index.clone();
        broken.entries[0].summary.len = 10_000;
        assert!(matches!(decode(&encode(&broken), "f"), Loaded::Damaged(_)));
    }
}
