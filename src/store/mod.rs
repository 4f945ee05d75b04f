//! The embedded database (`omg.redb` in the data directory): opening it in
//! redb's multi-writer mode so that a daemon and one-shot `omgd --stdio`
//! children can share it, setting a damaged file aside instead of failing,
//! and reading and writing the byte blobs the other modules store in it.

use std::path::{Path, PathBuf};

use redb::{
    ConcurrencyMode, Database, DatabaseError, ReadableDatabase, StorageError, TableDefinition,
    TableError,
};

pub mod cached;

pub use cached::Cache;

/// Where index snapshots and their headers were kept before each had a
/// file of its own (`index::snapshot`); emptied when a snapshot is saved.
pub const RETIRED_SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("index_snapshot");
pub const RETIRED_SNAPSHOT_HEADERS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("index_meta");
/// Details of single packages, keyed by `backend/name`, tagged with the
/// fingerprint of the database they were read from.
pub const PACKAGE_INFO: TableDefinition<&str, &[u8]> = TableDefinition::new("package_info");

/// The file index behind `omg provides` and command-not-found, built by
/// the refresh worker (`provides::build`), one directory an entry:
/// `<backend>/<directory>` (no leading `/`) → its blocks (`provides::DirBlocks`:
/// each block's number and first name).
pub const FILE_DIRS: TableDefinition<&str, &[u8]> = TableDefinition::new("file_dirs");
/// `<backend>/<block number>` → a block of a directory's files and the packages
/// shipping each, compressed (`provides::DirFiles`).
pub const FILE_PATHS: TableDefinition<&str, &[u8]> = TableDefinition::new("file_dir_files");
/// Commands: `<backend>/<name>` → `name\tpath` lines (package, absolute
/// path), for files in the directories a shell searches.
pub const FILE_COMMANDS: TableDefinition<&str, &[u8]> = TableDefinition::new("file_commands");
/// By package: `<backend>/<name>` → the numbers of the blocks it has
/// files in.
pub const FILE_PACKAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("file_package_dirs");

/// The outcome of the last private refresh (`omgd work refresh`), keyed by
/// backend name.
pub const REFRESH: TableDefinition<&str, &[u8]> = TableDefinition::new("refresh");

/// AUR answers kept between processes (a one-shot omgd starts empty):
/// `search:<term>` → (Unix time fetched, records).
pub const AUR_CACHE: TableDefinition<&str, &[u8]> = TableDefinition::new("aur_cache");

/// Runtime upstream indexes kept between processes: `<runtime>` → (Unix
/// time fetched, the index as served).
pub const RUNTIME_INDEX: TableDefinition<&str, &[u8]> = TableDefinition::new("runtime_index");

/// What `omg outdated` reports from upstreams, as last fetched (`aur`,
/// `devel`, `runtime:<name>`, and `<key>:error` for a failed attempt):
/// JSON of the time and the answer.
pub const OUTDATED: TableDefinition<&str, &[u8]> = TableDefinition::new("outdated");

/// Vulnerability data as last fetched, by source (`alsa`,
/// `debian:<release>`): the parsed advisories with their fetch time.
pub const VULNS: TableDefinition<&str, &[u8]> = TableDefinition::new("vulns");

/// The installed packages' dependency graph, per database, tagged with
/// the fingerprint it was read at.
pub const GRAPH: TableDefinition<&str, &[u8]> = TableDefinition::new("graph");

/// News feeds as last fetched and kept (`arch`: the Arch Linux news).
pub const NEWS: TableDefinition<&str, &[u8]> = TableDefinition::new("news");

/// The database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database {path} is locked by a program that does not share it (an older omg?)")]
    Locked { path: PathBuf },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: DatabaseError,
    },
    #[error("the database {path} is damaged and could not be set aside: {source}")]
    SetAside {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error in the database {path}: {source}")]
    Redb { path: PathBuf, source: redb::Error },
}

/// An open database.
pub struct Store {
    db: Database,
    path: PathBuf,
}

/// A database that was damaged and replaced by an empty one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the damaged file was moved.
    pub moved_to: PathBuf,
    pub reason: String,
}

fn is_damage(e: &DatabaseError) -> bool {
    match e {
        DatabaseError::Storage(StorageError::Corrupted(_)) => true,
        DatabaseError::Storage(StorageError::Io(io)) => {
            io.kind() == std::io::ErrorKind::InvalidData
                || io.kind() == std::io::ErrorKind::UnexpectedEof
        }
        DatabaseError::UpgradeRequired(_) | DatabaseError::RepairAborted => true,
        _ => false,
    }
}

/// The memory redb may hold for pages read and pages written but not yet
/// flushed (its default is 1 GiB). Rewriting the file index replaces a few
/// hundred MB; with a bounded buffer redb writes the pages out as it goes
/// instead of holding the whole transaction in memory, and a long-running
/// daemon's reads do not pile up a cache the page cache already is.
const CACHE_BYTES: usize = 24 << 20;

fn open_db(path: &Path) -> Result<Database, DatabaseError> {
    let attempt = std::panic::catch_unwind(|| {
        Database::builder()
            .set_cache_size(CACHE_BYTES)
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(path)
    });
    attempt.unwrap_or_else(|_| {
        Err(DatabaseError::Storage(StorageError::Corrupted(
            "the database file is not readable as a redb database".into(),
        )))
    })
}

impl Store {
    /// Opens (or creates) the database at `path`. A damaged file is renamed
    /// to `<name>.damaged-<unix time>` and a fresh database takes its place;
    /// the second value says so.
    pub fn open(path: &Path) -> Result<(Store, Option<Recovered>), StoreError> {
        if let Some(dir) = path.parent() {
            crate::config::ensure_private_dir(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let path = path.to_path_buf();
        match open_db(&path) {
            Ok(db) => Ok((Store { db, path }, None)),
            Err(DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch) => {
                Err(StoreError::Locked { path })
            }
            Err(e) if is_damage(&e) => {
                let moved_to = path.with_extension(format!("redb.damaged-{}", crate::unix_now()));
                std::fs::rename(&path, &moved_to).map_err(|source| StoreError::SetAside {
                    path: path.clone(),
                    source,
                })?;
                let db = open_db(&path).map_err(|source| StoreError::Open {
                    path: path.clone(),
                    source,
                })?;
                let recovered = Recovered {
                    moved_to,
                    reason: e.to_string(),
                };
                Ok((Store { db, path }, Some(recovered)))
            }
            Err(source) => Err(StoreError::Open { path, source }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::Redb {
            path: self.path.clone(),
            source: e.into(),
        }
    }

    /// Calls `f` with the blob stored under `key`, without copying it.
    /// A missing table or key gives `f(None)`.
    pub fn with_blob<R>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let table = match tx.open_table(table) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(f(None)),
            Err(e) => return Err(self.err(e)),
        };
        let value = table.get(key).map_err(|e| self.err(e))?;
        Ok(f(value.as_ref().map(|v| v.value())))
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn put_blob(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(table).map_err(|e| self.err(e))?;
            t.insert(key, value).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Stores `value` under `key`, then keeps `table` within `cap`
    /// entries: those `time_of` dates before `expired_before` go first,
    /// then the oldest. Entries `time_of` cannot date are kept.
    pub fn put_blob_bounded(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        value: &[u8],
        cap: u64,
        expired_before: u64,
        time_of: impl Fn(&[u8]) -> Option<u64>,
    ) -> Result<(), StoreError> {
        use redb::{ReadableTable, ReadableTableMetadata};
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut t = tx.open_table(table).map_err(|e| self.err(e))?;
            t.insert(key, value).map_err(|e| self.err(e))?;
            if t.len().map_err(|e| self.err(e))? > cap {
                let mut dated: Vec<(u64, String)> = Vec::new();
                for entry in t.iter().map_err(|e| self.err(e))? {
                    let (k, v) = entry.map_err(|e| self.err(e))?;
                    if let Some(time) = time_of(v.value()) {
                        dated.push((time, k.value().to_string()));
                    }
                }
                dated.sort();
                let mut count = t.len().map_err(|e| self.err(e))?;
                for (time, k) in dated {
                    if time >= expired_before && count <= cap {
                        break;
                    }
                    if k == key {
                        continue;
                    }
                    t.remove(k.as_str()).map_err(|e| self.err(e))?;
                    count -= 1;
                }
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Runs `f` in one write transaction, committed when `f` succeeds and
    /// dropped (nothing written) when it fails: for writers that touch
    /// several tables at once and must not be seen half done.
    pub fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<R, E>,
    ) -> Result<R, E> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        let value = f(&tx)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// Runs `f` in one read transaction (one consistent view of every
    /// table).
    pub fn read<R>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<R, redb::Error>,
    ) -> Result<R, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        f(&tx).map_err(|e| self.err(e))
    }

    /// Removes every entry of `table`.
    pub fn clear_table(&self, table: TableDefinition<&str, &[u8]>) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        match tx.delete_table(table) {
            Ok(_) => {}
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(self.err(e)),
        }
        tx.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs");

    #[test]
    fn bounded_tables_drop_the_expired_then_the_oldest() {
        const T: TableDefinition<&str, &[u8]> = TableDefinition::new("bounded");
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        let time_of = |b: &[u8]| <[u8; 8]>::try_from(b).ok().map(u64::from_le_bytes);
        for t in 0..10u64 {
            store
                .put_blob_bounded(T, &format!("k{t}"), &t.to_le_bytes(), 4, 0, time_of)
                .unwrap();
        }
        let present: Vec<u64> = (0..10)
            .filter(|t| {
                store
                    .with_blob(T, &format!("k{t}"), |b| b.is_some())
                    .unwrap()
            })
            .collect();
        assert_eq!(present, [6, 7, 8, 9]);
        // Expired entries go once the table is over its cap.
        store
            .put_blob_bounded(T, "k20", &20u64.to_le_bytes(), 4, 8, time_of)
            .unwrap();
        let present: Vec<u64> = [6, 7, 8, 9, 20]
            .into_iter()
            .filter(|t| {
                store
                    .with_blob(T, &format!("k{t}"), |b| b.is_some())
                    .unwrap()
            })
            .collect();
        assert_eq!(present, [8, 9, 20]);
    }

    #[test]
    fn blobs_round_trip_and_damage_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/omg.redb");
        let (store, recovered) = Store::open(&path).unwrap();
        assert!(recovered.is_none());
        assert_eq!(
            store
                .with_blob(BLOBS, "apt", |b| b.map(<[u8]>::to_vec))
                .unwrap(),
            None
        );
        store.put_blob(BLOBS, "apt", b"hello").unwrap();
        assert_eq!(
            store
                .with_blob(BLOBS, "apt", |b| b.map(<[u8]>::to_vec))
                .unwrap(),
            Some(b"hello".to_vec())
        );
        drop(store);

        std::fs::write(
            &path,
            b"this is not a database, just some text of decent length....",
        )
        .unwrap();
        let (store, recovered) = Store::open(&path).unwrap();
        let recovered = recovered.expect("damage is reported");
        assert!(recovered.moved_to.exists());
        assert!(!store.with_blob(BLOBS, "apt", |b| b.is_some()).unwrap());
    }
}
