//! One typed cache over the store's tables, for everything omg keeps
//! between processes that it could fetch or compute again: each entry is
//! one encoding (bincode, behind a format mark) of the value, the time it
//! was stored and an optional tag (the database fingerprint it was
//! computed for). A reader asks for an entry fresh within an age or made
//! for a tag; a missing, old, foreign or broken entry is a miss, never an
//! error, and a write that fails is logged, never fatal.

use redb::TableDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Store;

/// Marks an entry written by this cache (anything else is a miss).
const MARK: &[u8] = b"oc1";

type Table = TableDefinition<'static, &'static str, &'static [u8]>;

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    /// Unix time it was stored.
    pub at: u64,
    pub tag: String,
    pub value: T,
}

/// One table of the store used as a cache; without a store (it could not
/// be opened) every read misses and every write is dropped.
#[derive(Clone, Copy)]
pub struct Cache<'s> {
    store: Option<&'s Store>,
    table: Table,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

impl<'s> Cache<'s> {
    pub fn new(store: Option<&'s Store>, table: Table) -> Cache<'s> {
        Cache { store, table }
    }

    fn read<R>(&self, key: &str, decode: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
        let store = self.store?;
        let found = store.with_blob(self.table, key, |blob| decode(blob?.strip_prefix(MARK)?));
        match found {
            Ok(found) => found,
            Err(e) => {
                log::debug!("{key}: read as a miss ({e})");
                None
            }
        }
    }

    /// The entry under `key`, if one of type `T` is there.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<Stored<T>> {
        self.read(key, |bytes| {
            let ((at, tag, value), _): ((u64, String, T), _) =
                bincode::serde::decode_from_slice(bytes, config()).ok()?;
            Some(Stored { at, tag, value })
        })
    }

    /// When the entry under `key` was stored, whatever its type.
    pub fn stored_at(&self, key: &str) -> Option<u64> {
        self.read(key, |bytes| {
            // An entry starts with its time: read without the value.
            bincode::serde::decode_from_slice::<u64, _>(bytes, config())
                .ok()
                .map(|(at, _)| at)
        })
    }

    /// The value under `key` if it was stored less than `max_age` seconds
    /// ago.
    pub fn fresh<T: DeserializeOwned>(&self, key: &str, max_age: u64) -> Option<T> {
        self.get(key)
            .filter(|s| crate::unix_now().saturating_sub(s.at) < max_age)
            .map(|s| s.value)
    }

    /// The value under `key` if it was stored for `tag`.
    pub fn tagged<T: DeserializeOwned>(&self, key: &str, tag: &str) -> Option<T> {
        self.get(key).filter(|s| s.tag == tag).map(|s| s.value)
    }

    fn encode<T: Serialize>(&self, key: &str, tag: &str, value: &T) -> Option<Vec<u8>> {
        let mut bytes = MARK.to_vec();
        match bincode::serde::encode_into_std_write(
            (crate::unix_now(), tag, value),
            &mut bytes,
            config(),
        ) {
            Ok(_) => Some(bytes),
            Err(e) => {
                log::warn!("{key} was not kept: {e}");
                None
            }
        }
    }

    fn written(&self, key: &str, outcome: Result<(), super::StoreError>) {
        if let Err(e) = outcome {
            log::warn!("{key} was not kept: {e}");
        }
    }

    /// Keeps `value` under `key`, now.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) {
        self.put_tagged(key, "", value);
    }

    /// Keeps `value` under `key`, made for `tag`.
    pub fn put_tagged<T: Serialize>(&self, key: &str, tag: &str, value: &T) {
        let Some(store) = self.store else { return };
        if let Some(bytes) = self.encode(key, tag, value) {
            self.written(key, store.put_blob(self.table, key, &bytes));
        }
    }

    /// Keeps `value` under `key`, then keeps the table within `cap`
    /// entries: those older than `max_age` go first, then the oldest.
    pub fn put_bounded<T: Serialize>(&self, key: &str, value: &T, cap: u64, max_age: u64) {
        let Some(store) = self.store else { return };
        let Some(bytes) = self.encode(key, "", value) else {
            return;
        };
        let expired_before = crate::unix_now().saturating_sub(max_age);
        let time_of = |blob: &[u8]| {
            bincode::serde::decode_from_slice::<u64, _>(blob.strip_prefix(MARK)?, config())
                .ok()
                .map(|(at, _)| at)
        };
        let outcome = store.put_blob_bounded(self.table, key, &bytes, cap, expired_before, time_of);
        self.written(key, outcome);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        if let Some(store) = self.store {
            self.written("the table", store.clear_table(self.table));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = TableDefinition::new("cached_test");

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn entries_come_back_fresh_or_for_their_tag() {
        let (_dir, store) = store();
        let cache = Cache::new(Some(&store), T);
        cache.put("a", &vec!["x".to_string()]);
        cache.put_tagged("b", "fp1", &7u32);
        assert_eq!(cache.fresh::<Vec<String>>("a", 60), Some(vec!["x".into()]));
        assert_eq!(cache.fresh::<Vec<String>>("a", 0), None);
        assert_eq!(cache.tagged::<u32>("b", "fp1"), Some(7));
        assert_eq!(cache.tagged::<u32>("b", "fp2"), None);
        assert!(cache.stored_at("b").is_some());
        cache.clear();
        assert_eq!(cache.tagged::<u32>("b", "fp1"), None);
    }

    #[test]
    fn broken_or_foreign_entries_are_misses() {
        let (_dir, store) = store();
        let cache = Cache::new(Some(&store), T);
        store.put_blob(T, "old", b"\x05hello").unwrap();
        store.put_blob(T, "cut", b"oc1\x05").unwrap();
        assert_eq!(cache.get::<u64>("old"), None);
        assert_eq!(cache.get::<u64>("cut"), None);
        assert_eq!(cache.stored_at("old"), None);
        // No store: nothing kept, nothing found, no error.
        let none = Cache::new(None, T);
        none.put("a", &1u8);
        assert_eq!(none.get::<u8>("a"), None);
    }

    #[test]
    fn bounded_tables_keep_their_cap() {
        let (_dir, store) = store();
        let cache = Cache::new(Some(&store), T);
        for i in 0..10u32 {
            cache.put_bounded(&format!("k{i}"), &i, 4, 3600);
        }
        let kept = (0..10)
            .filter(|i| cache.get::<u32>(&format!("k{i}")).is_some())
            .count();
        assert_eq!(kept, 4);
        assert_eq!(cache.get::<u32>("k9").map(|s| s.value), Some(9));
    }
}
