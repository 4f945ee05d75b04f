//! The status file that prompts read through `omg-fast`
//! (`$XDG_RUNTIME_DIR/omg/status.bin`). Little-endian layout (format 2,
//! 20 bytes; format 1 was the first 16 and is still read):
//!
//! | bytes  | field |
//! |--------|-------|
//! | 0..4   | magic `OMG` and format version (`2`) |
//! | 4..6   | system package updates available (saturating u16) |
//! | 6..8   | AUR / foreign package updates |
//! | 8..10  | known vulnerabilities affecting installed packages |
//! | 10..12 | flags: bit0 refresh failed, bit1 reboot needed, bit2 runtime drift, bit3 policy violations |
//! | 12..16 | unix time of the last successful refresh (u32) |
//! | 16..18 | pending updates that fix a known vulnerability (`omg outdated --security`) |
//! | 18..20 | config files waiting for a merge (`omg merge`) |
//!
//! The file is replaced atomically (write to a temporary file, then rename),
//! so a reader sees either the old or the new contents, never a mix.
//! Writers change it through `update`, which holds an exclusive lock on
//! `status.lock` beside it for the whole read-change-write, so two writers
//! (the daemon's counts, the CLI's drift flag) never lose each other's
//! change. This module depends on nothing but `std`: `omg-fast` uses it
//! alone.

pub mod hook_state;
pub mod watch;

use std::io::Write;
use std::path::Path;

pub const MAGIC: [u8; 4] = *b"OMG\x02";
pub const SIZE: usize = 20;
/// Format 1: the first 16 bytes, without the security count.
const MAGIC_V1: [u8; 4] = *b"OMG\x01";
const SIZE_V1: usize = 16;

pub const FLAG_REFRESH_FAILED: u16 = 1;
pub const FLAG_REBOOT_NEEDED: u16 = 1 << 1;
pub const FLAG_RUNTIME_DRIFT: u16 = 1 << 2;
pub const FLAG_POLICY_VIOLATIONS: u16 = 1 << 3;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    pub updates: u16,
    pub foreign_updates: u16,
    pub vulnerabilities: u16,
    pub flags: u16,
    pub last_refresh: u32,
    pub security_updates: u16,
    pub config_merges: u16,
}

/// Clamps a count into the file's 16-bit fields.
pub fn saturate(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

impl Status {
    pub fn to_bytes(&self) -> [u8; SIZE] {
        let mut b = [0u8; SIZE];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&self.updates.to_le_bytes());
        b[6..8].copy_from_slice(&self.foreign_updates.to_le_bytes());
        b[8..10].copy_from_slice(&self.vulnerabilities.to_le_bytes());
        b[10..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..16].copy_from_slice(&self.last_refresh.to_le_bytes());
        b[16..18].copy_from_slice(&self.security_updates.to_le_bytes());
        b[18..20].copy_from_slice(&self.config_merges.to_le_bytes());
        b
    }

    /// Parses the file's bytes; anything but exactly 20 bytes with the
    /// magic of format 2 (or 16 with format 1's) is `None`.
    pub fn from_bytes(b: &[u8]) -> Option<Status> {
        let current = b.len() == SIZE && b[0..4] == MAGIC;
        let first = b.len() == SIZE_V1 && b[0..4] == MAGIC_V1;
        if !current && !first {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Some(Status {
            updates: u16_at(4),
            foreign_updates: u16_at(6),
            vulnerabilities: u16_at(8),
            flags: u16_at(10),
            last_refresh: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            security_updates: if current { u16_at(16) } else { 0 },
            config_merges: if current { u16_at(18) } else { 0 },
        })
    }

    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

/// Reads the status file; `None` when it is missing or malformed.
pub fn read(path: &Path) -> Option<Status> {
    let mut buf = [0u8; SIZE + 1];
    let mut file = std::fs::File::open(path).ok()?;
    let mut len = 0;
    loop {
        match std::io::Read::read(&mut file, &mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    break;
                }
            }
            Err(_) => return None,
        }
    }
    Status::from_bytes(&buf[..len])
}

/// Replaces the status file atomically, creating its directory if needed.
pub fn write(path: &Path, status: &Status) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    // Unique per writer (process and thread), so concurrent writers never
    // share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".status.bin.{}.{n}", std::process::id()));
    let result = (|| {
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&status.to_bytes())?;
            f.sync_data()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads the status file (the default when missing or malformed), lets
/// `change` edit it, and writes it back if it changed — all under an
/// exclusive lock on `status.lock` beside it, so concurrent writers queue.
/// Returns the status as written, or `None` when `change` left it as it
/// was (nothing was written).
pub fn update(path: &Path, change: impl FnOnce(&mut Status)) -> std::io::Result<Option<Status>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("status.lock"))?;
    lock.lock()?;
    let old = read(path);
    let mut new = old.unwrap_or_default();
    change(&mut new);
    if old == Some(new) {
        return Ok(None);
    }
    write(path, &new)?;
    Ok(Some(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_never_lose_each_others_change() {
        let dir = std::env::temp_dir().join(format!("omg-status-update-{}", std::process::id()));
        let path = dir.join("status.bin");
        let _ = std::fs::remove_dir_all(&dir);
        // Two writers change different fields 300 times each, at once.
        let counts = {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..300u16 {
                    update(&path, |s| s.updates = i + 1).unwrap();
                }
            })
        };
        let flags = {
            let path = path.clone();
            std::thread::spawn(move || {
                for _ in 0..300 {
                    update(&path, |s| s.vulnerabilities += 1).unwrap();
                }
            })
        };
        counts.join().unwrap();
        flags.join().unwrap();
        let end = read(&path).unwrap();
        assert_eq!(end.updates, 300);
        assert_eq!(end.vulnerabilities, 300, "an increment was lost");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn round_trip_and_malformed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/status.bin");
        assert_eq!(read(&path), None);
        let s = Status {
            updates: 3,
            foreign_updates: 1,
            vulnerabilities: 70,
            flags: FLAG_REBOOT_NEEDED,
            last_refresh: 1_700_000_000,
            security_updates: 2,
            config_merges: 4,
        };
        write(&path, &s).unwrap();
        assert_eq!(read(&path), Some(s));
        // A file of format 1 still reads, without the security count.
        let mut first = s.to_bytes()[..16].to_vec();
        first[3] = 1;
        std::fs::write(&path, &first).unwrap();
        assert_eq!(
            read(&path),
            Some(Status {
                security_updates: 0,
                config_merges: 0,
                ..s
            })
        );
        std::fs::write(&path, &s.to_bytes()[..10]).unwrap();
        assert_eq!(read(&path), None);
        let mut long = s.to_bytes().to_vec();
        long.push(0);
        std::fs::write(&path, &long).unwrap();
        assert_eq!(read(&path), None);
        std::fs::write(&path, b"XYZ\x01000000000000").unwrap();
        assert_eq!(read(&path), None);
        assert_eq!(saturate(70_000), u16::MAX);
    }

    #[test]
    fn readers_never_see_a_torn_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.bin");
        let a = Status {
            updates: 1,
            foreign_updates: 1,
            vulnerabilities: 1,
            flags: 1,
            last_refresh: 1,
            security_updates: 1,
            config_merges: 1,
        };
        let b = Status {
            updates: 0xffff,
            foreign_updates: 0xffff,
            vulnerabilities: 0xffff,
            flags: 0xffff,
            last_refresh: 0xffff_ffff,
            security_updates: 0xffff,
            config_merges: 0xffff,
        };
        write(&path, &a).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (path, done) = (path.clone(), done.clone());
            std::thread::spawn(move || {
                for i in 0..3000 {
                    write(&path, if i % 2 == 0 { &b } else { &a }).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let seen = read(&path);
            assert!(seen == Some(a) || seen == Some(b), "torn read: {seen:?}");
            reads += 1;
        }
        writer.join().unwrap();
        assert!(reads > 0);
    }
}
