//! The file index behind `omg provides` and command-not-found: which
//! repository packages ship a path or a command. The refresh worker builds
//! it from Debian's `Contents-<arch>` indices (fetched with the lists, as
//! apt-file's acquire targets fetch them) into omg's database, so that a
//! lookup is one key read.

use std::collections::BTreeMap;

use crate::store::{FILE_COMMANDS, FILE_PACKAGES, FILE_PATHS, Store, StoreError};

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

/// What a file index holds before it is stored: path → package names.
#[derive(Debug, Default)]
pub struct FileIndex {
    paths: BTreeMap<String, Vec<String>>,
}

impl FileIndex {
    pub fn add(&mut self, path: &str, package: String) {
        let entry = self.paths.entry(path.to_string()).or_default();
        if !entry.contains(&package) {
            entry.push(package);
        }
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Writes the index for `backend`, replacing the one before.
    pub fn store(self, store: &Store, backend: &str) -> Result<(), StoreError> {
        let mut commands: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut by_package: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, packages) in &self.paths {
            for p in packages {
                by_package
                    .entry(format!("{backend}/{p}"))
                    .or_default()
                    .push(format!("/{path}"));
            }
            if let Some(name) = command_of(path) {
                let lines = commands.entry(format!("{backend}/{name}")).or_default();
                for p in packages {
                    lines.push(format!("{p}\t/{path}"));
                }
            }
        }
        store.replace_prefixed(
            FILE_COMMANDS,
            &format!("{backend}/"),
            commands
                .into_iter()
                .map(|(k, v)| (k, v.join("\n").into_bytes())),
        )?;
        store.replace_prefixed(
            FILE_PACKAGES,
            &format!("{backend}/"),
            by_package
                .into_iter()
                .map(|(k, v)| (k, v.join("\n").into_bytes())),
        )?;
        store.replace_prefixed(
            FILE_PATHS,
            &format!("{backend}/"),
            self.paths.into_iter().map(|(path, packages)| {
                (
                    format!("{backend}/{path}"),
                    packages.join("\n").into_bytes(),
                )
            }),
        )
    }
}

/// A package that ships what was asked, and the file that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    /// Absolute.
    pub path: String,
}

/// The packages shipping `asked`: a command name (no `/`) or a path.
pub fn lookup(store: &Store, backend: &str, asked: &str) -> Result<Vec<Provider>, StoreError> {
    if asked.contains('/') {
        let path = asked.trim_start_matches('/');
        store.with_blob(FILE_PATHS, &format!("{backend}/{path}"), |value| {
            value
                .map(|v| {
                    String::from_utf8_lossy(v)
                        .lines()
                        .map(|name| Provider {
                            name: name.to_string(),
                            path: format!("/{path}"),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    } else {
        store.with_blob(FILE_COMMANDS, &format!("{backend}/{asked}"), |value| {
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
        })
    }
}

/// The files the index lists for the repository package `name`.
pub fn files_of(
    store: &Store,
    backend: &str,
    name: &str,
) -> Result<Option<Vec<String>>, StoreError> {
    store.with_blob(FILE_PACKAGES, &format!("{backend}/{name}"), |value| {
        value.map(|v| {
            String::from_utf8_lossy(v)
                .lines()
                .map(str::to_string)
                .collect()
        })
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

    #[test]
    fn stored_indexes_answer_by_command_and_by_path_and_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(&dir.path().join("s.redb")).unwrap();
        let mut index = FileIndex::default();
        index.add("usr/bin/rg", "ripgrep".into());
        index.add("usr/share/doc/ripgrep/README", "ripgrep".into());
        index.add("bin/sh", "dash".into());
        index.add("bin/sh", "bash".into());
        index.store(&store, "apt").unwrap();
        let rg = lookup(&store, "apt", "rg").unwrap();
        assert_eq!(
            rg,
            [Provider {
                name: "ripgrep".into(),
                path: "/usr/bin/rg".into()
            }]
        );
        assert_eq!(lookup(&store, "apt", "sh").unwrap().len(), 2);
        assert_eq!(
            lookup(&store, "apt", "/usr/share/doc/ripgrep/README")
                .unwrap()
                .len(),
            1
        );
        assert!(lookup(&store, "alpm", "rg").unwrap().is_empty());
        assert_eq!(
            files_of(&store, "apt", "ripgrep").unwrap().unwrap(),
            ["/usr/bin/rg", "/usr/share/doc/ripgrep/README"]
        );
        assert_eq!(files_of(&store, "apt", "vim").unwrap(), None);
        // A new index replaces the old one entirely.
        let mut index = FileIndex::default();
        index.add("usr/bin/fd", "fd-find".into());
        index.store(&store, "apt").unwrap();
        assert!(lookup(&store, "apt", "rg").unwrap().is_empty());
        assert_eq!(lookup(&store, "apt", "fd").unwrap()[0].name, "fd-find");
        assert_eq!(files_of(&store, "apt", "ripgrep").unwrap(), None);
    }
}
