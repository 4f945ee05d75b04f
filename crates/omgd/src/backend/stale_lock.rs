//! Telling a lock omg left behind from one another program holds. While
//! omg holds a package manager's lock file (libalpm's `db.lck`), it keeps
//! a marker beside it naming its process (pid and start time). A lock
//! whose marker names a process that is gone was left by an interrupted
//! omg, and may go; a lock without a marker is someone else's and is
//! never touched.

use std::path::{Path, PathBuf};

/// The marker beside `lock`.
fn marker_of(lock: &Path) -> PathBuf {
    let mut name = lock.file_name().unwrap_or_default().to_os_string();
    name.push(".omg");
    lock.with_file_name(name)
}

/// Present while this process holds the lock; removed when dropped.
pub struct Marker {
    path: PathBuf,
}

impl Marker {
    /// Marks `lock` (which this process has just taken) as held by it.
    pub fn hold(lock: &Path) -> Marker {
        let path = marker_of(lock);
        let pid = std::process::id();
        let start = omg::auth::peer::start_time(pid).unwrap_or(0);
        if let Err(e) = std::fs::write(&path, format!("{pid} {start}\n")) {
            log::debug!("cannot write {}: {e}", path.display());
        }
        Marker { path }
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes `lock` when omg left it behind (its marker names a process
/// that no longer runs); returns that process's pid. A marker without a
/// lock is cleaned up too.
pub fn clear(lock: &Path) -> Option<u32> {
    let marker = marker_of(lock);
    let text = std::fs::read_to_string(&marker).ok()?;
    if !lock.exists() {
        let _ = std::fs::remove_file(&marker);
        return None;
    }
    let mut fields = text.split_whitespace();
    let pid: u32 = fields.next()?.parse().ok()?;
    let start: u64 = fields.next()?.parse().ok()?;
    let alive = omg::auth::peer::start_time(pid).is_some_and(|s| s == start);
    if alive {
        return None;
    }
    std::fs::remove_file(lock).ok()?;
    let _ = std::fs::remove_file(&marker);
    Some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_locks_of_processes_that_are_gone_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("db.lck");
        // Someone else's lock: no marker.
        std::fs::write(&lock, "").unwrap();
        assert_eq!(clear(&lock), None);
        assert!(lock.exists());
        // Ours, and we are alive.
        let held = Marker::hold(&lock);
        assert_eq!(clear(&lock), None);
        assert!(lock.exists());
        drop(held);
        assert!(!marker_of(&lock).exists());
        // Left by a process that is gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        std::fs::write(marker_of(&lock), format!("{pid} 12345\n")).unwrap();
        assert_eq!(clear(&lock), Some(pid));
        assert!(!lock.exists() && !marker_of(&lock).exists());
    }
}
