//! Building the file index without holding it: the backends hand over
//! their file lists as streams sorted by path (Debian's `Contents` files
//! are sorted; libalpm sorts each package's list), merged here into one
//! sorted stream and written a directory at a time, so that memory holds
//! only the directories on the current path, however many million files
//! the repositories ship. Input that is not sorted is still indexed right,
//! more slowly (a directory met again is merged with what was written).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use super::{DirFiles, command_of};
use crate::store::{FILE_COMMANDS, FILE_DIRS, FILE_PACKAGES, FILE_PATHS, Store, StoreError};

/// One path and the packages shipping it.
pub type Entry = (String, Vec<String>);

/// A stream of entries sorted by path (bytewise); an error ends it and
/// the index is left as it was.
pub type Source<'a> = Box<dyn Iterator<Item = std::io::Result<Entry>> + 'a>;

/// The index could not be written; the one before is kept whole.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Redb(#[from] redb::Error),
    #[error("reading the file lists failed: {0}")]
    Read(std::io::Error),
}

/// The tables the first layout of the index used; dropped when an index
/// is written.
const RETIRED: [&str; 2] = ["file_paths", "file_packages"];

/// Writes one backend's file index into a store, replacing the last one.
pub struct IndexWriter<'s> {
    store: &'s Store,
    backend: &'s str,
}

impl<'s> IndexWriter<'s> {
    pub fn new(store: &'s Store, backend: &'s str) -> Self {
        IndexWriter { store, backend }
    }

    /// Indexes what `sources` list (each sorted by path) in one write
    /// transaction; returns the number of paths.
    /// A source that fails leaves the transaction uncommitted.
    pub fn write(&mut self, sources: Vec<Source<'_>>) -> Result<usize, IndexError> {
        let backend = self.backend;
        self.store.write(|tx| {
            for name in RETIRED {
                tx.delete_table(TableDefinition::<&str, &[u8]>::new(name))
                    .map_err(redb::Error::from)?;
            }
            let prefix = format!("{backend}/");
            let end = format!("{backend}/\u{10ffff}");
            for table in [FILE_DIRS, FILE_PATHS, FILE_COMMANDS, FILE_PACKAGES] {
                tx.open_table(table)
                    .map_err(redb::Error::from)?
                    .retain_in(prefix.as_str()..end.as_str(), |_, _| false)
                    .map_err(redb::Error::from)?;
            }
            let mut builder = Builder::new(tx, backend)?;
            for entry in Merged::new(sources) {
                builder.add(entry.map_err(IndexError::Read)?)?;
            }
            Ok(builder.finish()?)
        })
    }
}

/// The k-way merge of sorted sources; entries for one path from several
/// sources come out as one, their packages joined.
struct Merged<'a> {
    sources: Vec<Source<'a>>,
    heads: BinaryHeap<Reverse<(String, usize)>>,
    packages: Vec<Vec<String>>,
    /// A source's error, handed on as the next item (and the last).
    failed: Option<std::io::Error>,
}

impl<'a> Merged<'a> {
    fn new(sources: Vec<Source<'a>>) -> Self {
        let mut merged = Merged {
            packages: vec![Vec::new(); sources.len()],
            sources,
            heads: BinaryHeap::new(),
            failed: None,
        };
        for i in 0..merged.sources.len() {
            merged.advance(i);
        }
        merged
    }

    fn advance(&mut self, i: usize) {
        match self.sources[i].next() {
            Some(Ok((path, packages))) => {
                self.packages[i] = packages;
                self.heads.push(Reverse((path, i)));
            }
            Some(Err(e)) => {
                self.failed.get_or_insert(e);
            }
            None => {}
        }
    }
}

impl Iterator for Merged<'_> {
    type Item = std::io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            self.heads.clear();
            return Some(Err(e));
        }
        let Reverse((path, i)) = self.heads.pop()?;
        let mut packages = std::mem::take(&mut self.packages[i]);
        self.advance(i);
        while let Some(Reverse((next, j))) = self.heads.peek() {
            if *next != path {
                break;
            }
            let j = *j;
            self.heads.pop();
            for p in std::mem::take(&mut self.packages[j]) {
                if !packages.contains(&p) {
                    packages.push(p);
                }
            }
            self.advance(j);
        }
        Some(Ok((path, packages)))
    }
}

/// A directory whose files are still arriving.
struct OpenDir {
    dir: String,
    files: DirFiles,
}

/// Writes directories as the sorted stream leaves them.
struct Builder<'t> {
    tx: &'t WriteTransaction,
    backend: &'t str,
    dirs: Table<'t, &'static str, &'static [u8]>,
    files: Table<'t, &'static str, &'static [u8]>,
    open: Vec<OpenDir>,
    next_id: u32,
    /// Package → the directories it has files in (in the order met).
    package_dirs: HashMap<String, Vec<u32>>,
    /// Command → `package\tpath` lines (the command directories are few
    /// and small).
    commands: BTreeMap<String, Vec<String>>,
    paths: usize,
}

/// Whether `dir` is `ancestor` or inside it.
fn within(dir: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || dir
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl<'t> Builder<'t> {
    fn new(tx: &'t WriteTransaction, backend: &'t str) -> Result<Self, redb::Error> {
        Ok(Builder {
            tx,
            backend,
            dirs: tx.open_table(FILE_DIRS)?,
            files: tx.open_table(FILE_PATHS)?,
            open: Vec::new(),
            next_id: 0,
            package_dirs: HashMap::new(),
            commands: BTreeMap::new(),
            paths: 0,
        })
    }

    fn add(&mut self, (path, packages): Entry) -> Result<(), redb::Error> {
        let path = path.trim_start_matches('/');
        if packages.is_empty() || path.ends_with('/') || path.contains(['\n', '\t']) {
            return Ok(());
        }
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        // Sorted input never comes back to a directory it left.
        while let Some(top) = self.open.last() {
            if within(dir, &top.dir) {
                break;
            }
            let done = self.open.pop().expect("checked above");
            self.flush(done)?;
        }
        if self.open.last().is_none_or(|top| top.dir != dir) {
            self.open.push(OpenDir {
                dir: dir.to_string(),
                files: DirFiles::default(),
            });
        }
        if command_of(path).is_some() {
            let lines = self.commands.entry(name.to_string()).or_default();
            for p in &packages {
                lines.push(format!("{p}\t/{path}"));
            }
        }
        self.open
            .last_mut()
            .expect("pushed above")
            .files
            .push(name, &packages);
        self.paths += 1;
        Ok(())
    }

    fn flush(&mut self, done: OpenDir) -> Result<(), redb::Error> {
        let backend = self.backend;
        let dir_key = format!("{backend}/{}", done.dir);
        let known = self
            .dirs
            .get(dir_key.as_str())?
            .and_then(|v| id_of(v.value()));
        let (id, mut files) = match known {
            // Met again: the input was not sorted.
            Some(id) => {
                let stored = self
                    .files
                    .get(files_key(backend, id).as_str())?
                    .and_then(|v| DirFiles::decode(v.value()).map(|(_, files)| files))
                    .unwrap_or_default();
                (id, stored)
            }
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.dirs
                    .insert(dir_key.as_str(), id.to_le_bytes().as_slice())?;
                (id, DirFiles::default())
            }
        };
        files.extend(done.files);
        for package in files.packages() {
            match self.package_dirs.get_mut(package) {
                Some(ids) if ids.last() == Some(&id) => {}
                Some(ids) => ids.push(id),
                None => {
                    self.package_dirs.insert(package.to_string(), vec![id]);
                }
            }
        }
        self.files.insert(
            files_key(backend, id).as_str(),
            files.encode(&done.dir).as_slice(),
        )?;
        Ok(())
    }

    fn finish(mut self) -> Result<usize, redb::Error> {
        while let Some(done) = self.open.pop() {
            self.flush(done)?;
        }

        let backend = self.backend;
        let mut packages = self.tx.open_table(FILE_PACKAGES)?;
        for (package, mut ids) in std::mem::take(&mut self.package_dirs) {
            ids.sort_unstable();
            ids.dedup();
            let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
            packages.insert(format!("{backend}/{package}").as_str(), bytes.as_slice())?;
        }
        let mut commands = self.tx.open_table(FILE_COMMANDS)?;
        for (name, lines) in std::mem::take(&mut self.commands) {
            commands.insert(
                format!("{backend}/{name}").as_str(),
                lines.join("\n").as_bytes(),
            )?;
        }
        Ok(self.paths)
    }
}

/// A directory's key in `FILE_PATHS`.
pub(super) fn files_key(backend: &str, id: u32) -> String {
    format!("{backend}/{id:08x}")
}

/// A directory number as stored.
pub(super) fn id_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(lines: &[(&str, &[&str])]) -> Source<'static> {
        let owned: Vec<Entry> = lines
            .iter()
            .map(|(p, pkgs)| (p.to_string(), pkgs.iter().map(|s| s.to_string()).collect()))
            .collect();
        Box::new(owned.into_iter().map(Ok))
    }

    #[test]
    fn sorted_sources_merge_into_one_stream_with_packages_joined() {
        let merged: Vec<Entry> = Merged::new(vec![
            source(&[("a/b", &["x"]), ("a/c", &["x"]), ("z", &["x"])]),
            source(&[("a/b", &["y"]), ("a/bb", &["y"])]),
            source(&[]),
        ])
        .map(Result::unwrap)
        .collect();
        let paths: Vec<&str> = merged.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a/b", "a/bb", "a/c", "z"]);
        assert_eq!(merged[0].1, ["x", "y"]);
    }

    #[test]
    fn within_means_the_directory_or_below_it() {
        assert!(within("usr/bin", "usr"));
        assert!(within("usr", "usr"));
        assert!(within("usr", ""));
        assert!(!within("usr2/bin", "usr"));
        assert!(!within("usr", "usr/bin"));
    }
}
