//! The file index behind `omg provides`, `omg files` and command-not-found:
//! which repository packages ship a path or a command. The refresh worker
//! builds it (`build`) from Debian's `Contents-<arch>` indices (fetched with
//! the lists, as apt-file's acquire targets fetch them) or Arch's `.files`
//! databases into omg's database, one entry a directory, so that a lookup
//! is a key read or two and one block of a directory's files inflated.

pub mod build;

use crate::store::{FILE_COMMANDS, FILE_DIRS, FILE_PACKAGES, FILE_PATHS, Store, StoreError};

/// The directories a shell searches for commands (relative to `/`).
pub const COMMAND_DIRS: &[&str] = &[
    "usr/local/sbin",
    "usr/local/bin",
    "usr/sbin",
    "usr/bin",
    "sbin",
    "bin",
    "usr/games",
];

/// The command a path provides, when it is in a command directory.
pub fn command_of(path: &str) -> Option<&str> {
    let (dir, name) = path.rsplit_once('/')?;
    (COMMAND_DIRS.contains(&dir) && !name.is_empty()).then_some(name)
}

/// One line of a `Contents-<arch>` file: the path (no leading `/`) and the
/// packages (`section/name`, comma-separated, the last column).
pub fn contents_line(line: &str) -> Option<(&str, Vec<&str>)> {
    let line = line.trim_end();
    let split = line.rfind([' ', '\t'])?;
    let (path, packages) = (line[..split].trim_end(), &line[split + 1..]);
    if path.is_empty() || packages.is_empty() {
        return None;
    }
    let names = packages
        .split(',')
        .filter_map(|p| p.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .collect();
    Some((path.trim_start_matches('/'), names))
}

/// A block of a directory's files as the index keeps them: one
/// `name\tpackages` line a file (packages comma-separated), stored
/// deflated behind the block's number. A directory of a few hundred
/// files is one block; a bigger one (`usr/share/man/man3` lists over a
/// hundred thousand) is split into blocks of consecutive names, so that
/// a lookup inflates a few hundred lines, never the whole directory.
#[derive(Debug, Default)]
pub struct DirFiles {
    lines: String,
    count: usize,
}

impl DirFiles {
    pub fn push(&mut self, name: &str, packages: &[String]) {
        self.lines.push_str(name);
        self.lines.push('\t');
        for (i, p) in packages.iter().enumerate() {
            if i > 0 {
                self.lines.push(',');
            }
            self.lines.push_str(p);
        }
        self.lines.push('\n');
        self.count += 1;
    }

    /// Adds a line as `entries` gives it (packages already joined).
    fn push_joined(&mut self, name: &str, packages: &str) {
        self.lines.push_str(name);
        self.lines.push('\t');
        self.lines.push_str(packages);
        self.lines.push('\n');
        self.count += 1;
    }

    /// How many files are listed.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The first name listed (the smallest, when pushed in order).
    fn first(&self) -> Option<&str> {
        self.entries().next().map(|(name, _)| name)
    }

    /// The last name listed.
    fn last(&self) -> Option<&str> {
        let line = self.lines.strip_suffix('\n')?.rsplit('\n').next()?;
        line.split_once('\t').map(|(name, _)| name)
    }

    fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines.lines().filter_map(|l| l.split_once('\t'))
    }

    /// Every package named, once per file.
    pub fn packages(&self) -> impl Iterator<Item = &str> {
        self.entries().flat_map(|(_, packages)| packages.split(','))
    }

    /// The packages shipping the file `name`.
    pub fn shipping(&self, name: &str) -> Vec<String> {
        self.entries()
            .filter(|(n, _)| *n == name)
            .flat_map(|(_, packages)| packages.split(',').map(str::to_string))
            .collect()
    }

    /// The files `package` ships here.
    pub fn of_package<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a str> {
        self.entries()
            .filter(move |(_, packages)| packages.split(',').any(|p| p == package))
            .map(|(name, _)| name)
    }

    pub fn encode(&self, dir: &str) -> Vec<u8> {
        use std::io::Write;
        let mut out = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into a Vec cannot fail.
        let _ = out.write_all(dir.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.write_all(self.lines.as_bytes());
        out.finish().unwrap_or_default()
    }

    /// The directory and its files (none: not what `encode` wrote).
    pub fn decode(bytes: &[u8]) -> Option<(String, DirFiles)> {
        use std::io::Read;
        let mut text = String::new();
        flate2::read::DeflateDecoder::new(bytes)
            .read_to_string(&mut text)
            .ok()?;
        let (dir, lines) = text.split_once('\n')?;
        Some((
            dir.to_string(),
            DirFiles {
                count: lines.lines().count(),
                lines: lines.to_string(),
            },
        ))
    }
}

/// A directory's blocks as `FILE_DIRS` keeps them: each block's number and
/// the first name in it, in order of names. (An index written before
/// directories were split holds the bare number of the one block.)
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DirBlocks(pub Vec<(String, u32)>);

impl DirBlocks {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (first, id) in &self.0 {
            let name = &first.as_bytes()[..first.floor_char_boundary(u16::MAX as usize)];
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name);
        }
        out
    }

    /// None: not what `encode` wrote.
    pub fn decode(mut bytes: &[u8]) -> Option<DirBlocks> {
        if bytes.len() == 4 {
            return Some(DirBlocks(vec![(String::new(), build::id_of(bytes)?)]));
        }
        let mut blocks = Vec::new();
        while !bytes.is_empty() {
            let id = build::id_of(bytes.get(..4)?)?;
            let len = u16::from_le_bytes(bytes.get(4..6)?.try_into().ok()?) as usize;
            let name = std::str::from_utf8(bytes.get(6..6 + len)?).ok()?;
            blocks.push((name.to_string(), id));
            bytes = &bytes[6 + len..];
        }
        Some(DirBlocks(blocks))
    }

    /// The block that would list `name`: the last whose first name is not
    /// after it.
    pub fn holding(&self, name: &str) -> Option<u32> {
        let after = self.0.partition_point(|(first, _)| first.as_str() <= name);
        after.checked_sub(1).map(|i| self.0[i].1)
    }

    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|(_, id)| *id)
    }
}

/// A package that ships what was asked, and the file that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    /// Absolute.
    pub path: String,
}

/// A table of the index, or nothing when no index was ever written.
fn table(
    tx: &redb::ReadTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
) -> Result<Option<redb::ReadOnlyTable<&'static str, &'static [u8]>>, redb::Error> {
    match tx.open_table(table) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The files of the block numbered `id`.
fn dir_files(
    files: &redb::ReadOnlyTable<&'static str, &'static [u8]>,
    backend: &str,
    id: u32,
) -> Result<Option<(String, DirFiles)>, redb::Error> {
    Ok(files
        .get(build::files_key(backend, id).as_str())?
        .and_then(|v| DirFiles::decode(v.value())))
}

/// The packages shipping `asked`: a command name (no `/`) or a path.
pub fn lookup(store: &Store, backend: &str, asked: &str) -> Result<Vec<Provider>, StoreError> {
    if !asked.contains('/') {
        return store.with_blob(FILE_COMMANDS, &format!("{backend}/{asked}"), |value| {
            value
                .map(|v| {
                    String::from_utf8_lossy(v)
                        .lines()
                        .filter_map(|line| {
                            let (name, path) = line.split_once('\t')?;
                            Some(Provider {
                                name: name.to_string(),
                                path: path.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
    }
    let path = asked.trim_start_matches('/');
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    store.read(|tx| {
        let (Some(dirs), Some(files)) = (table(tx, FILE_DIRS)?, table(tx, FILE_PATHS)?) else {
            return Ok(Vec::new());
        };
        let Some(id) = dirs
            .get(format!("{backend}/{dir}").as_str())?
            .and_then(|v| DirBlocks::decode(v.value()))
            .and_then(|blocks| blocks.holding(name))
        else {
            return Ok(Vec::new());
        };
        Ok(dir_files(&files, backend, id)?
            .map(|(_, files)| files.shipping(name))
            .unwrap_or_default()
            .into_iter()
            .map(|name| Provider {
                name,
                path: format!("/{path}"),
            })
            .collect())
    })
}

/// The files the index lists for the repository package `name` (sorted).
pub fn files_of(
    store: &Store,
    backend: &str,
    name: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    store.read(|tx| {
        let (Some(packages), Some(files)) = (table(tx, FILE_PACKAGES)?, table(tx, FILE_PATHS)?)
        else {
            return Ok(None);
        };
        let Some(ids) = packages.get(format!("{backend}/{name}").as_str())? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for id in ids.value().chunks_exact(4).filter_map(build::id_of) {
            if let Some((dir, found)) = dir_files(&files, backend, id)? {
                out.extend(found.of_package(name).map(|file| match dir.as_str() {
                    "" => format!("/{file}"),
                    dir => format!("/{dir}/{file}"),
                }));
            }
        }
        out.sort();
        Ok(Some(out))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_lines_and_commands() {
        assert_eq!(
            contents_line("usr/bin/rg\t\t\t\tutils/ripgrep"),
            Some(("usr/bin/rg", vec!["ripgrep"]))
        );
        assert_eq!(
            contents_line("usr/share/doc/a b/README   doc/a,non-free/x/b"),
            Some(("usr/share/doc/a b/README", vec!["a", "b"]))
        );
        assert_eq!(contents_line("nothing"), None);
        assert_eq!(command_of("usr/bin/rg"), Some("rg"));
        assert_eq!(command_of("usr/share/bin/rg"), None);
        assert_eq!(command_of("sbin/"), None);
    }

    fn write(store: &Store, backend: &str, sources: Vec<Vec<(&str, &[&str])>>) -> usize {
        let sources = sources
            .into_iter()
            .map(|lines| {
                let owned: Vec<build::Entry> = lines
                    .iter()
                    .map(|(p, pkgs)| (p.to_string(), pkgs.iter().map(|s| s.to_string()).collect()))
                    .collect();
                Box::new(owned.into_iter().map(Ok)) as build::Source<'static>
            })
            .collect();
        build::IndexWriter::new(store, backend)
            .write(sources)
            .unwrap()
    }

    #[test]
    fn stored_indexes_answer_by_command_and_by_path_and_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        assert!(lookup(&store, "apt", "/usr/bin/rg").unwrap().is_empty());
        assert_eq!(files_of(&store, "apt", "ripgrep").unwrap(), None);
        let written = write(
            &store,
            "apt",
            vec![
                vec![
                    ("bin/sh", &["dash"]),
                    ("usr/bin/rg", &["ripgrep"]),
                    ("usr/bin/rga/x", &["other"]),
                    ("usr/bin/rgb", &["other"]),
                    ("usr/share/doc/ripgrep/README", &["ripgrep"]),
                    ("vmlinuz", &["linux"]),
                ],
                vec![("bin/sh", &["bash"]), ("usr/share/doc/", &["ripgrep"])],
            ],
        );
        assert_eq!(written, 6);
        let rg = lookup(&store, "apt", "rg").unwrap();
        assert_eq!(
            rg,
            [Provider {
                name: "ripgrep".into(),
                path: "/usr/bin/rg".into()
            }]
        );
        assert_eq!(lookup(&store, "apt", "sh").unwrap().len(), 2);
        assert_eq!(lookup(&store, "apt", "/bin/sh").unwrap().len(), 2);
        assert_eq!(
            lookup(&store, "apt", "/usr/share/doc/ripgrep/README").unwrap()[0].name,
            "ripgrep"
        );
        assert_eq!(lookup(&store, "apt", "/vmlinuz").unwrap()[0].name, "linux");
        assert!(lookup(&store, "apt", "/usr/bin/r").unwrap().is_empty());
        assert!(lookup(&store, "apt", "/usr/share/doc").unwrap().is_empty());
        assert!(lookup(&store, "alpm", "rg").unwrap().is_empty());
        assert_eq!(
            files_of(&store, "apt", "ripgrep").unwrap().unwrap(),
            ["/usr/bin/rg", "/usr/share/doc/ripgrep/README"]
        );
        assert_eq!(
            files_of(&store, "apt", "other").unwrap().unwrap(),
            ["/usr/bin/rga/x", "/usr/bin/rgb"]
        );
        assert_eq!(
            files_of(&store, "apt", "linux").unwrap().unwrap(),
            ["/vmlinuz"]
        );
        assert_eq!(files_of(&store, "apt", "vim").unwrap(), None);
        // Another backend's index is its own.
        write(&store, "alpm", vec![vec![("usr/bin/rg", &["ripgrep"])]]);
        // A new index replaces the old one entirely.
        write(&store, "apt", vec![vec![("usr/bin/fd", &["fd-find"])]]);
        assert!(lookup(&store, "apt", "rg").unwrap().is_empty());
        assert!(lookup(&store, "apt", "/usr/bin/rg").unwrap().is_empty());
        assert_eq!(lookup(&store, "apt", "fd").unwrap()[0].name, "fd-find");
        assert_eq!(files_of(&store, "apt", "ripgrep").unwrap(), None);
        assert_eq!(lookup(&store, "alpm", "/usr/bin/rg").unwrap().len(), 1);
    }

    #[test]
    fn a_source_that_fails_leaves_the_index_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        write(&store, "apt", vec![vec![("usr/bin/rg", &["ripgrep"])]]);
        let failing: build::Source<'static> = Box::new(
            [
                Ok(("usr/bin/fd".to_string(), vec!["fd-find".to_string()])),
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "Contents-amd64.gz: cut short",
                )),
            ]
            .into_iter(),
        );
        let err = build::IndexWriter::new(&store, "apt")
            .write(vec![failing])
            .unwrap_err();
        assert!(matches!(&err, build::IndexError::Read(_)), "{err:?}");
        assert!(err.to_string().contains("cut short"), "{err}");
        // Nothing of the failed write, everything of the one before.
        assert_eq!(lookup(&store, "apt", "rg").unwrap()[0].name, "ripgrep");
        assert!(lookup(&store, "apt", "fd").unwrap().is_empty());
        assert_eq!(
            files_of(&store, "apt", "ripgrep").unwrap().unwrap(),
            ["/usr/bin/rg"]
        );
    }

    #[test]
    fn input_out_of_order_is_still_indexed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        write(
            &store,
            "alpm",
            vec![vec![
                ("usr/bin/b", &["two"]),
                ("etc/conf", &["two"]),
                ("usr/bin/a", &["one"]),
                ("etc/conf", &["one"]),
            ]],
        );
        assert_eq!(lookup(&store, "alpm", "a").unwrap()[0].name, "one");
        assert_eq!(lookup(&store, "alpm", "b").unwrap()[0].name, "two");
        assert_eq!(lookup(&store, "alpm", "/etc/conf").unwrap().len(), 2);
        assert_eq!(
            files_of(&store, "alpm", "two").unwrap().unwrap(),
            ["/etc/conf", "/usr/bin/b"]
        );
    }

    /// Every block of `backend`'s index: (directory, files listed).
    fn blocks(store: &Store, backend: &str) -> Vec<(String, usize)> {
        store
            .read(|tx| {
                let files = table(tx, FILE_PATHS)?.unwrap();
                let mut out = Vec::new();
                for entry in files.range(format!("{backend}/").as_str()..)? {
                    let (key, value) = entry?;
                    if !key.value().starts_with(&format!("{backend}/")) {
                        break;
                    }
                    let (dir, files) = DirFiles::decode(value.value()).unwrap();
                    out.push((dir, files.len()));
                }
                Ok(out)
            })
            .unwrap()
    }

    #[test]
    fn a_big_directory_is_split_so_a_lookup_reads_one_block() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        // 2,000 manual pages from two packages, and one file in a
        // subdirectory that sorts among them.
        let names: Vec<String> = (0..2000).map(|i| format!("f{i:05}.3")).collect();
        let mut lines: Vec<(String, Vec<String>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let package = if i % 3 == 0 {
                    "libone-dev"
                } else {
                    "libtwo-dev"
                };
                (format!("usr/share/man/man3/{n}"), vec![package.to_string()])
            })
            .collect();
        lines.push(("usr/share/man/man3/f00500.d/x".into(), vec!["sub".into()]));
        lines.sort();
        let source = Box::new(lines.into_iter().map(Ok)) as build::Source<'static>;
        build::IndexWriter::new(&store, "apt")
            .write(vec![source])
            .unwrap();

        let written = blocks(&store, "apt");
        let man3: Vec<usize> = written
            .iter()
            .filter(|(d, _)| d == "usr/share/man/man3")
            .map(|(_, n)| *n)
            .collect();
        assert!(man3.len() >= 8, "{man3:?}");
        assert!(man3.iter().all(|n| *n <= 256), "{man3:?}");
        assert_eq!(man3.iter().sum::<usize>(), 2000);
        for (i, n) in names.iter().enumerate() {
            let found = lookup(&store, "apt", &format!("/usr/share/man/man3/{n}")).unwrap();
            let package = if i % 3 == 0 {
                "libone-dev"
            } else {
                "libtwo-dev"
            };
            assert_eq!(found.len(), 1, "{n}");
            assert_eq!(found[0].name, package, "{n}");
        }
        for missing in ["a", "f00000", "f00500.3x", "zz"] {
            let path = format!("/usr/share/man/man3/{missing}");
            assert!(lookup(&store, "apt", &path).unwrap().is_empty(), "{path}");
        }
        assert_eq!(
            lookup(&store, "apt", "/usr/share/man/man3/f00500.d/x").unwrap()[0].name,
            "sub"
        );
        let one = files_of(&store, "apt", "libone-dev").unwrap().unwrap();
        assert_eq!(one.len(), 667);
        assert_eq!(one[0], "/usr/share/man/man3/f00000.3");
        assert_eq!(
            files_of(&store, "apt", "libtwo-dev")
                .unwrap()
                .unwrap()
                .len(),
            1333
        );
    }

    #[test]
    fn a_big_directory_met_again_is_merged_and_split_again() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        // Not sorted: the directory is left for another and met again.
        let mut lines: Vec<(String, Vec<String>)> = Vec::new();
        for round in 0..3 {
            for i in 0..300 {
                let n = 3 * (299 - i) + round;
                lines.push((format!("usr/bin/c{n:04}"), vec![format!("p{round}")]));
            }
            lines.push((format!("etc/r{round}"), vec![format!("p{round}")]));
        }
        let source = Box::new(lines.into_iter().map(Ok)) as build::Source<'static>;
        build::IndexWriter::new(&store, "alpm")
            .write(vec![source])
            .unwrap();
        let bin: Vec<usize> = blocks(&store, "alpm")
            .into_iter()
            .filter(|(d, _)| d == "usr/bin")
            .map(|(_, n)| n)
            .collect();
        assert_eq!(bin.iter().sum::<usize>(), 900, "{bin:?}");
        assert!(bin.iter().all(|n| *n <= 256), "{bin:?}");
        for n in 0..900 {
            let found = lookup(&store, "alpm", &format!("/usr/bin/c{n:04}")).unwrap();
            assert_eq!(found.len(), 1, "c{n:04}");
            assert_eq!(found[0].name, format!("p{}", n % 3));
            assert_eq!(
                lookup(&store, "alpm", &format!("c{n:04}")).unwrap().len(),
                1
            );
        }
        for round in 0..3 {
            let files = files_of(&store, "alpm", &format!("p{round}"))
                .unwrap()
                .unwrap();
            assert_eq!(files.len(), 301);
            assert_eq!(files[0], format!("/etc/r{round}"));
        }
    }

    #[test]
    fn directory_block_lists_round_trip_and_read_the_first_layout() {
        let blocks = DirBlocks(vec![("a".into(), 7), ("m".into(), 2), ("t".into(), 9)]);
        let back = DirBlocks::decode(&blocks.encode()).unwrap();
        assert_eq!(back, blocks);
        assert_eq!(back.holding("0"), None);
        assert_eq!(back.holding("a"), Some(7));
        assert_eq!(back.holding("l"), Some(7));
        assert_eq!(back.holding("m"), Some(2));
        assert_eq!(back.holding("zz"), Some(9));
        // An index written before directories were split: one block.
        let first = DirBlocks::decode(&5u32.to_le_bytes()).unwrap();
        assert_eq!(first.holding("anything"), Some(5));
        assert!(DirBlocks::decode(&[1, 0, 0, 0, 9, 0, b'a']).is_none());
    }

    #[test]
    fn a_damaged_directory_entry_is_no_answer() {
        assert!(DirFiles::decode(b"not deflate").is_none());
        let mut files = DirFiles::default();
        files.push("rg", &["ripgrep".into()]);
        let (dir, back) = DirFiles::decode(&files.encode("usr/bin")).unwrap();
        assert_eq!(dir, "usr/bin");
        assert_eq!(back.shipping("rg"), ["ripgrep"]);
    }
}
