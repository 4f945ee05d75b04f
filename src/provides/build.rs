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

use super::{DirBlocks, DirFiles, command_of};
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

/// The most files a block lists (more when one name repeats across the
/// boundary). A few hundred lines inflate in microseconds.
const BLOCK_FILES: usize = 256;

/// A directory whose files are still arriving.
struct OpenDir {
    dir: String,
    /// The blocks written so far (when the directory is big).
    blocks: Vec<(String, u32)>,
    /// Files not written yet.
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
                blocks: Vec::new(),
                files: DirFiles::default(),
            });
        }
        let top = self.open.last_mut().expect("pushed above");
        // A block ends where a name ends, so that a name is in one block.
        if top.files.len() >= BLOCK_FILES && top.files.last() != Some(name) {
            let files = std::mem::take(&mut top.files);
            let dir = top.dir.clone();
            let block = self.write_block(&dir, files, None)?;
            self.open
                .last_mut()
                .expect("pushed above")
                .blocks
                .push(block);
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

    /// Writes one block of `dir`'s files (as number `id`, or a new one)
    /// and returns its first name and number.
    fn write_block(
        &mut self,
        dir: &str,
        files: DirFiles,
        id: Option<u32>,
    ) -> Result<(String, u32), redb::Error> {
        let id = id.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id - 1
        });
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
            files_key(self.backend, id).as_str(),
            files.encode(dir).as_slice(),
        )?;
        Ok((files.first().unwrap_or_default().to_string(), id))
    }

    /// Writes what is left of a directory the stream has left, and its
    /// list of blocks.
    fn flush(&mut self, mut done: OpenDir) -> Result<(), redb::Error> {
        let dir_key = format!("{}/{}", self.backend, done.dir);
        let known = self
            .dirs
            .get(dir_key.as_str())?
            .and_then(|v| DirBlocks::decode(v.value()));
        let blocks = match known {
            // Met again: the input was not sorted.
            Some(known) => self.rewrite(known, done)?,
            None => {
                if !done.files.is_empty() || done.blocks.is_empty() {
                    let block = self.write_block(&done.dir, done.files, None)?;
                    done.blocks.push(block);
                }
                DirBlocks(done.blocks)
            }
        };
        self.dirs
            .insert(dir_key.as_str(), blocks.encode().as_slice())?;
        Ok(())
    }

    /// Merges a directory met again with what was written of it: every
    /// file sorted by name and cut into blocks again, reusing the
    /// directory's numbers.
    fn rewrite(&mut self, known: DirBlocks, done: OpenDir) -> Result<DirBlocks, redb::Error> {
        let OpenDir {
            dir,
            blocks: written,
            files: pending,
        } = done;
        let mut ids: Vec<u32> = known.ids().chain(written.iter().map(|b| b.1)).collect();
        let mut all = Vec::new();
        for id in &ids {
            if let Some((_, files)) = self
                .files
                .get(files_key(self.backend, *id).as_str())?
                .and_then(|v| DirFiles::decode(v.value()))
            {
                all.push(files);
            }
        }
        all.push(pending);
        let mut lines: Vec<(&str, &str)> = all.iter().flat_map(DirFiles::entries).collect();
        lines.sort_by(|a, b| a.0.cmp(b.0));
        let mut blocks = Vec::new();
        let mut files = DirFiles::default();
        ids.reverse();
        for (i, (name, packages)) in lines.iter().enumerate() {
            files.push_joined(name, packages);
            let at_end = lines.get(i + 1).is_none_or(|next| next.0 != *name);
            if at_end && (files.len() >= BLOCK_FILES || i + 1 == lines.len()) {
                let id = ids.pop();
                blocks.push(self.write_block(&dir, std::mem::take(&mut files), id)?);
            }
        }
        for unused in ids {
            self.files
                .remove(files_key(self.backend, unused).as_str())?;
        }
        Ok(DirBlocks(blocks))
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

/// A block's key in `FILE_PATHS`.
pub(super) fn files_key(backend: &str, id: u32) -> String {
    format!("{backend}/{id:08x}")
}

/// A block number as stored.
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
