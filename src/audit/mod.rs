//! The hash-chained audit log (`audit/audit.jsonl`): one JSON object per
//! line for every state-changing action, each carrying the SHA-256 of the
//! line before it, so that changing, removing or reordering a line breaks
//! the chain where it happened. Appends hold an exclusive lock on the file
//! (concurrent writers queue), write the whole line at once and sync it; a
//! line left unfinished by a crash is cut away before the next append, so
//! it never breaks the chain.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the first line points back to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("line {line} of {path}: {reason}")]
    Broken {
        path: PathBuf,
        /// 1-based.
        line: usize,
        reason: String,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 1-based position in the log.
    pub seq: u64,
    /// Unix time.
    pub time: u64,
    /// Who asked (a user name, or `uid N`).
    pub user: String,
    /// `install`, `remove`, `upgrade`, `sync`, `runtime-install`,
    /// `runtime-switch`, `policy-override`, …
    pub action: String,
    /// What it was about (packages, a runtime and version).
    pub subject: String,
    /// Anything else worth keeping (versions before and after, …).
    #[serde(default)]
    pub details: serde_json::Value,
    /// SHA-256 (hex) of the previous line, or `GENESIS`.
    pub prev: String,
}

/// An entry to append (the log numbers and chains it).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub user: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

/// The audit log under a data directory.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> AuditError {
    move |source| AuditError::Io { context, source }
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl AuditLog {
    /// The log of the data directory `data_dir` (`<data>/audit/audit.jsonl`).
    pub fn in_data_dir(data_dir: &Path) -> AuditLog {
        AuditLog {
            path: data_dir.join("audit").join("audit.jsonl"),
        }
    }

    pub fn at(path: PathBuf) -> AuditLog {
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry`, chained to the last complete line.
    pub fn append(&self, entry: Entry) -> Result<Record, AuditError> {
        let path = &self.path;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io(format!("cannot open {}", path.display())))?;
        // One writer at a time, across processes.
        file.lock()
            .map_err(io(format!("cannot lock {}", path.display())))?;
        let mut text = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut text))
            .map_err(io(format!("cannot read {}", path.display())))?;
        // A crash mid-append leaves a line without its newline: drop it.
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            file.set_len(complete as u64)
                .map_err(io(format!("cannot repair {}", path.display())))?;
            text.truncate(complete);
        }
        let last = text[..complete.saturating_sub(1)]
            .rsplit(|b| *b == b'\n')
            .next()
            .filter(|l| !l.is_empty());
        let (prev, seq) = match last {
            Some(line) => {
                let seq = serde_json::from_slice::<Record>(line)
                    .map(|r| r.seq + 1)
                    .unwrap_or_else(|_| text.iter().filter(|b| **b == b'\n').count() as u64 + 1);
                (sha256_hex(line), seq)
            }
            None => (GENESIS.to_string(), 1),
        };
        let record = Record {
            seq,
            time: crate::unix_now(),
            user: entry.user,
            action: entry.action,
            subject: entry.subject,
            details: entry.details,
            prev,
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            context: "cannot encode an audit record".into(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io(format!("cannot append to {}", path.display())))?;
        Ok(record)
    }

    /// Every record, checking the chain: the first line that does not
    /// parse or does not point at its predecessor is the error. An absent
    /// log is empty.
    pub fn verify(&self) -> Result<Vec<Record>, AuditError> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(format!("cannot read {}", self.path.display()))(e)),
        };
        let broken = |line: usize, reason: String| AuditError::Broken {
            path: self.path.clone(),
            line,
            reason,
        };
        let mut records = Vec::new();
        let mut prev = GENESIS.to_string();
        let ends_cleanly = text.last().is_none_or(|b| *b == b'\n');
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        let count = lines.len() - 1;
        for (i, line) in lines.iter().take(count).enumerate() {
            let n = i + 1;
            let record: Record = serde_json::from_slice(line)
                .map_err(|e| broken(n, format!("not an audit record ({e})")))?;
            if record.prev != prev {
                return Err(broken(
                    n,
                    "it does not follow the line before it (a line was changed, removed or inserted)"
                        .into(),
                ));
            }
            if record.seq != n as u64 {
                return Err(broken(
                    n,
                    format!("it is numbered {} but is line {n}", record.seq),
                ));
            }
            prev = sha256_hex(line);
            records.push(record);
        }
        if !ends_cleanly {
            return Err(broken(
                count + 1,
                "the last line is unfinished (the next append repairs it)".into(),
            ));
        }
        Ok(records)
    }
}

/// The name of the user with `uid`, or `uid N`.
pub fn user_name(uid: u32) -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?;
            (id.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, subject: &str) -> Entry {
        Entry {
            user: "root".into(),
            action: action.into(),
            subject: subject.into(),
            details: serde_json::json!({}),
        }
    }

    #[test]
    fn the_chain_holds_and_names_the_first_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_data_dir(dir.path());
        assert!(log.verify().unwrap().is_empty());
        for (a, s) in [("install", "vim"), ("remove", "nano"), ("upgrade", "*")] {
            log.append(entry(a, s)).unwrap();
        }
        let records = log.verify().unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].prev, GENESIS);
        assert_eq!(records[2].seq, 3);

        // Tamper with line 2: line 2 still parses, line 3 no longer follows.
        let text = std::fs::read_to_string(log.path()).unwrap();
        let tampered = text.replacen("\"nano\"", "\"emacs\"", 1);
        std::fs::write(log.path(), &tampered).unwrap();
        match log.verify() {
            Err(AuditError::Broken { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        // A removed line.
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(log.path(), format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        match log.verify() {
            Err(AuditError::Broken { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_torn_last_line_is_repaired_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_data_dir(dir.path());
        log.append(entry("install", "vim")).unwrap();
        // A crash in the middle of the second append.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap();
        f.write_all(b"{\"seq\":2,\"time\":17").unwrap();
        drop(f);
        assert!(matches!(
            log.verify(),
            Err(AuditError::Broken { line: 2, .. })
        ));
        log.append(entry("remove", "vim")).unwrap();
        let records = log.verify().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].action, "remove");
    }

    #[test]
    fn concurrent_writers_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_data_dir(dir.path());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        log.append(entry("install", &format!("pkg-{t}-{i}")))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(log.verify().unwrap().len(), 80);
    }
}
