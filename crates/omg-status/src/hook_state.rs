//! hook-env's state in the shell (`__OMG_STATE`) and the stamp of what its
//! answer depends on. Shared by `omg hook-env`, which writes the state, and
//! `omg-fast hook-env`, which answers the prompt's "has anything changed?"
//! from it at the floor of a process start and hands over to omg only when
//! something has.
//!
//! The stamp hashes (FNV-1a) the directory's path, a `stat` of it and of
//! each directory above it (a file created, removed or renamed there
//! changes the directory's times) and of each path the state lists (the
//! project files found, edited in place; config.toml; each runtime's
//! versions directory).

use std::collections::BTreeMap;
use std::path::Path;

/// What hook-env did last time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub fingerprint: u64,
    /// PATH entries it added.
    pub added: Vec<String>,
    /// Variables it set, with the value each had before (`None`: unset).
    pub replaced: BTreeMap<String, Option<String>>,
    /// The paths stamped besides the directories upward.
    pub stamped: Vec<String>,
}

const FIELD: char = '\u{1f}';
const SECTION: char = '\u{1e}';
/// The layout `encode` writes; 1 and 2 are still read (their fingerprints
/// never match, so what they added is taken away as usual).
const LAYOUT: &str = "3";

impl State {
    pub fn encode(&self) -> String {
        let replaced: Vec<String> = self
            .replaced
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect();
        format!(
            "{LAYOUT}{SECTION}{:x}{SECTION}{}{SECTION}{}{SECTION}{}",
            self.fingerprint,
            self.added.join(&FIELD.to_string()),
            replaced.join(&FIELD.to_string()),
            self.stamped.join(&FIELD.to_string())
        )
    }

    pub fn decode(text: &str) -> Option<State> {
        let mut sections = text.split(SECTION);
        let layout = sections.next()?;
        if !["1", "2", LAYOUT].contains(&layout) {
            return None;
        }
        let fingerprint = u64::from_str_radix(sections.next()?, 16).ok()?;
        let split = |s: &str| -> Vec<String> {
            s.split(FIELD)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let added = split(sections.next()?);
        let replaced = split(sections.next()?)
            .into_iter()
            .map(|entry| match entry.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (entry, None),
            })
            .collect();
        let stamped = match layout {
            LAYOUT => split(sections.next()?),
            _ => Vec::new(),
        };
        Some(State {
            fingerprint,
            added,
            replaced,
            stamped,
        })
    }

    /// Whether nothing this state depends on has changed in `cwd`.
    pub fn holds_in(&self, cwd: &Path) -> bool {
        self.fingerprint == fingerprint(cwd, &self.stamped)
    }
}

/// FNV-1a, 64 bits: stable across builds (both binaries must agree).
struct Fnv(u64);

impl Fnv {
    fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The stamp of `cwd` and `stamped` (see the module's documentation).
pub fn fingerprint(cwd: &Path, stamped: &[String]) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    hash.eat(cwd.as_os_str().as_bytes());
    let mut stamp = |path: &Path| match std::fs::metadata(path) {
        // Through a symbolic link: the file it names is what is read.
        Ok(meta) => {
            hash.eat(&[1]);
            for n in [meta.ino(), meta.len()] {
                hash.eat(&n.to_le_bytes());
            }
            for n in [
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec(),
            ] {
                hash.eat(&n.to_le_bytes());
            }
        }
        Err(_) => hash.eat(&[0]),
    };
    for dir in cwd.ancestors() {
        stamp(dir);
    }
    for path in stamped {
        stamp(Path::new(path));
    }
    hash.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_reads_the_older_layouts() {
        let state = State {
            fingerprint: 0xdead_beef,
            added: vec!["/a/bin".into(), "/b/bin".into()],
            replaced: BTreeMap::from([
                ("JAVA_HOME".to_string(), Some("/usr/lib/jvm/x".to_string())),
                ("GOROOT".to_string(), None),
            ]),
            stamped: vec!["/p/.nvmrc".into(), "/p/mise.toml".into()],
        };
        assert_eq!(State::decode(&state.encode()), Some(state.clone()));
        assert_eq!(State::decode("garbage"), None);
        let first = "1\u{1e}ff\u{1e}/a/bin\u{1e}GOROOT";
        let decoded = State::decode(first).unwrap();
        assert_eq!(decoded.added, ["/a/bin"]);
        assert!(decoded.stamped.is_empty());
        let second = "2\u{1e}ff\u{1e}/a/bin\u{1e}\u{1e}/p/.nvmrc";
        assert_eq!(State::decode(second).unwrap().added, ["/a/bin"]);
    }

    #[test]
    fn the_stamp_sees_a_file_created_edited_in_place_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p/a");
        std::fs::create_dir_all(&project).unwrap();
        let nvmrc = dir.path().join("p/.nvmrc");
        let versions = dir.path().join("versions/node");
        let stamped = vec![versions.display().to_string()];
        let before = fingerprint(&project, &stamped);
        assert_eq!(fingerprint(&project, &stamped), before, "nothing changed");
        assert_ne!(fingerprint(&dir.path().join("p"), &stamped), before);
        // A file appears a directory up.
        std::fs::write(&nvmrc, "20\n").unwrap();
        assert_ne!(fingerprint(&project, &stamped), before);
        let stamped = vec![versions.display().to_string(), nvmrc.display().to_string()];
        let settled = fingerprint(&project, &stamped);
        // Edited in place, the same size (the directory's times stay).
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&nvmrc, "22\n").unwrap();
        assert_ne!(fingerprint(&project, &stamped), settled);
        let settled = fingerprint(&project, &stamped);
        // A version installed.
        std::fs::create_dir_all(versions.join("22.1.0")).unwrap();
        assert_ne!(fingerprint(&project, &stamped), settled);
        let settled = fingerprint(&project, &stamped);
        std::fs::remove_file(&nvmrc).unwrap();
        assert_ne!(fingerprint(&project, &stamped), settled);
    }
}
