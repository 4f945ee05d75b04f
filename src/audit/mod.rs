//! The hash-chained audit log (`audit/audit.jsonl`): one JSON object per
//! line for every state-changing action. Each record carries its own
//! SHA-256 (of the record without it), so a changed line is named itself,
//! and the hash of the record before it, so a removed, inserted or
//! reordered line breaks the chain where it happened. The newest record's
//! number and hash are also kept outside the log — in omg's database
//! beside it (`audit-head.redb`) and in the system journal (syslog) — so
//! lines cut off the end, or a chain rewritten from some line on, are
//! caught too. Appends hold an exclusive lock on the file (concurrent
//! writers queue), write the whole line at once and sync it; a line left
//! unfinished by a crash is cut away before the next append, so it never
//! breaks the chain. Records written before records had their own hash
//! are chained by the hash of their line, as they were.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use redb::ReadableDatabase;
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
    /// The previous record's `hash` (for a record without one, the
    /// SHA-256 of its line), or `GENESIS`.
    pub prev: String,
    /// SHA-256 (hex) of this record serialized with `hash` empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl Record {
    /// The hash this record's contents give.
    fn own_hash(&self) -> String {
        let mut bare = self.clone();
        bare.hash = String::new();
        sha256_hex(&serde_json::to_vec(&bare).unwrap_or_default())
    }

    /// What the next record's `prev` must be.
    fn link(&self, line: &[u8]) -> String {
        if self.hash.is_empty() {
            sha256_hex(line)
        } else {
            self.hash.clone()
        }
    }
}

/// The newest record's number and hash, kept outside the log.
const HEAD: redb::TableDefinition<&str, (u64, &str)> = redb::TableDefinition::new("audit_head");

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
    /// omg's database of the log's head (beside the `audit` directory).
    head: PathBuf,
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
            head: data_dir.join("audit-head.redb"),
        }
    }

    pub fn at(path: PathBuf) -> AuditLog {
        let head = path.with_extension("head.redb");
        AuditLog { path, head }
    }

    /// Opens the head's database, waiting while another process has it.
    fn head_db(&self) -> Result<redb::Database, AuditError> {
        let fail = |e: redb::DatabaseError| AuditError::Io {
            context: format!("cannot open {}", self.head.display()),
            source: std::io::Error::other(e.to_string()),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match redb::Database::create(&self.head) {
                Ok(db) => return Ok(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(fail(e)),
            }
        }
    }

    /// The newest record's number and hash as last written, if any.
    pub fn head(&self) -> Result<Option<(u64, String)>, AuditError> {
        let fail = |e: String| AuditError::Io {
            context: format!("cannot read {}", self.head.display()),
            source: std::io::Error::other(e),
        };
        if !self.head.exists() {
            return Ok(None);
        }
        // Read-only: a user checks the system's log without writing to it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match redb::ReadOnlyDatabase::open(&self.head) {
                Ok(db) => break db,
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(fail(e.to_string())),
            }
        };
        let tx = db.begin_read().map_err(|e| fail(e.to_string()))?;
        let table = match tx.open_table(HEAD) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(fail(e.to_string())),
        };
        let head = table.get("head").map_err(|e| fail(e.to_string()))?;
        Ok(head.map(|v| {
            let (seq, hash) = v.value();
            (seq, hash.to_string())
        }))
    }

    fn set_head(&self, seq: u64, hash: &str) -> Result<(), AuditError> {
        let fail = |e: String| AuditError::Io {
            context: format!("cannot write {}", self.head.display()),
            source: std::io::Error::other(e),
        };
        let db = self.head_db()?;
        let tx = db.begin_write().map_err(|e| fail(e.to_string()))?;
        {
            let mut table = tx.open_table(HEAD).map_err(|e| fail(e.to_string()))?;
            table
                .insert("head", (seq, hash))
                .map_err(|e| fail(e.to_string()))?;
        }
        tx.commit().map_err(|e| fail(e.to_string()))
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
            Some(line) => match serde_json::from_slice::<Record>(line) {
                Ok(r) => (r.link(line), r.seq + 1),
                Err(_) => (
                    sha256_hex(line),
                    text.iter().filter(|b| **b == b'\n').count() as u64 + 1,
                ),
            },
            None => (GENESIS.to_string(), 1),
        };
        let mut record = Record {
            seq,
            time: crate::unix_now(),
            user: entry.user,
            action: entry.action,
            subject: entry.subject,
            details: entry.details,
            prev,
            hash: String::new(),
        };
        record.hash = record.own_hash();
        let mut line = serde_json::to_vec(&record).map_err(|e| AuditError::Io {
            context: "cannot encode an audit record".into(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io(format!("cannot append to {}", path.display())))?;
        // The head, outside the log (still under the log's lock).
        self.set_head(record.seq, &record.hash)?;
        journal(&format!(
            "omg audit: entry {} of {} is {} ({} {} by {})",
            record.seq,
            path.display(),
            record.hash,
            record.action,
            record.subject,
            record.user
        ));
        Ok(record)
    }

    /// Every record, checking each line's own hash, the chain, and the
    /// head kept outside the log: the first line that does not parse, was
    /// changed, or does not follow its predecessor is the error, as are
    /// lines cut off the end or a chain rewritten after the head was
    /// written. An absent log is empty.
    pub fn verify(&self) -> Result<Vec<Record>, AuditError> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
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
            if !record.hash.is_empty() && record.hash != record.own_hash() {
                return Err(broken(
                    n,
                    "it was changed after it was written (its contents do not match its hash)"
                        .into(),
                ));
            }
            if record.prev != prev {
                return Err(broken(
                    n,
                    "it does not follow the line before it (a line was removed, inserted or reordered)"
                        .into(),
                ));
            }
            if record.seq != n as u64 {
                return Err(broken(
                    n,
                    format!("it is numbered {} but is line {n}", record.seq),
                ));
            }
            prev = record.link(line);
            records.push(record);
        }
        if !ends_cleanly {
            return Err(broken(
                count + 1,
                "the last line is unfinished (the next append repairs it)".into(),
            ));
        }
        match self.head()? {
            Some((seq, hash)) => {
                let last = records.len() as u64;
                if seq > last {
                    return Err(broken(
                        last as usize + 1,
                        format!(
                            "the log ends at entry {last}, but entry {seq} was written (entries were cut off the end)"
                        ),
                    ));
                }
                let at = &records[seq as usize - 1];
                if at.hash != hash {
                    return Err(broken(
                        seq as usize,
                        format!(
                            "entry {seq} is not the one written (the log was rewritten from here or before)"
                        ),
                    ));
                }
                if seq < last {
                    return Err(broken(
                        seq as usize + 1,
                        format!(
                            "entries {} to {last} were added without omg (the last one it wrote is {seq})",
                            seq + 1
                        ),
                    ));
                }
            }
            // Logs from before the head was kept have no record with a
            // hash of its own; a log that has one must have its head.
            None if records.iter().any(|r| !r.hash.is_empty()) => {
                return Err(broken(
                    records.len() + 1,
                    format!(
                        "the record of the newest entry ({}) is missing: entries may have been cut off or rewritten",
                        self.head.display()
                    ),
                ));
            }
            None => {}
        }
        Ok(records)
    }
}

/// Sends `message` to the system journal (syslog, authpriv), where a
/// rewrite of the log cannot reach it.
fn journal(message: &str) {
    let Ok(text) = std::ffi::CString::new(message.replace('%', "%%")) else {
        return;
    };
    // SAFETY: a valid C string and a constant format.
    unsafe {
        libc::syslog(
            libc::LOG_AUTHPRIV | libc::LOG_INFO,
            c"%s".as_ptr(),
            text.as_ptr(),
        );
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

        // Tamper with line 2: line 2 itself is named.
        let text = std::fs::read_to_string(log.path()).unwrap();
        let tampered = text.replacen("\"nano\"", "\"emacs\"", 1);
        std::fs::write(log.path(), &tampered).unwrap();
        match log.verify() {
            Err(AuditError::Broken { line, reason, .. }) => {
                assert_eq!(line, 2);
                assert!(reason.contains("changed"), "{reason}");
            }
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
    fn cut_off_ends_and_rewritten_chains_are_caught() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_data_dir(dir.path());
        for s in ["a", "b", "c", "d"] {
            log.append(entry("install", s)).unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // The last line cut off: the chain alone is still intact.
        std::fs::write(log.path(), format!("{}\n", lines[..3].join("\n"))).unwrap();
        match log.verify() {
            Err(AuditError::Broken { line, reason, .. }) => {
                assert_eq!(line, 4);
                assert!(reason.contains("cut off"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // A chain rewritten from line 3 on, each hash recomputed.
        std::fs::write(log.path(), format!("{}\n", lines[..2].join("\n"))).unwrap();
        let mut prev: Record = serde_json::from_str(lines[1]).unwrap();
        let mut rewritten = format!("{}\n", lines[..2].join("\n"));
        for (seq, s) in [(3, "x"), (4, "y")] {
            let mut r = prev.clone();
            r.seq = seq;
            r.subject = s.into();
            r.prev = prev.hash.clone();
            r.hash = r.own_hash();
            rewritten.push_str(&serde_json::to_string(&r).unwrap());
            rewritten.push('\n');
            prev = r;
        }
        std::fs::write(log.path(), rewritten).unwrap();
        match log.verify() {
            Err(AuditError::Broken { line, reason, .. }) => {
                assert_eq!(line, 4);
                assert!(reason.contains("rewritten"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // The head itself removed.
        std::fs::remove_file(dir.path().join("audit-head.redb")).unwrap();
        assert!(matches!(log.verify(), Err(AuditError::Broken { .. })));
    }

    #[test]
    fn logs_from_before_records_had_their_own_hash_still_verify() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::in_data_dir(dir.path());
        let first = serde_json::json!({"seq":1,"time":1,"user":"root","action":"install","subject":"vim","details":{},"prev":GENESIS}).to_string();
        std::fs::create_dir_all(log.path().parent().unwrap()).unwrap();
        std::fs::write(log.path(), format!("{first}\n")).unwrap();
        assert_eq!(log.verify().unwrap().len(), 1);
        log.append(entry("remove", "vim")).unwrap();
        let records = log.verify().unwrap();
        assert_eq!(records[1].prev, sha256_hex(first.as_bytes()));
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
