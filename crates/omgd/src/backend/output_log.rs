//! The package manager's own output during a commit (dpkg's "Reading
//! database ...", unpack and setup lines, maintainer scripts) goes to the
//! transaction's log file instead of the terminal the client watches:
//! descriptors 1 and 2 point at the log while the commit runs and are put
//! back after. The client sees omg's progress; a failure quotes the log's
//! end.

use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Output going to a log until `finish`.
pub struct Captured {
    path: PathBuf,
    saved: Option<(OwnedFd, OwnedFd)>,
}

impl Captured {
    /// Points stdout and stderr at `log` (created, appended to).
    pub fn start(log: &Path) -> std::io::Result<Captured> {
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let dup = |fd: i32| -> std::io::Result<OwnedFd> {
            // SAFETY: F_DUPFD_CLOEXEC on an open descriptor returns a new
            // one this function owns.
            let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if new < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `new` is open and owned by nobody else.
            Ok(unsafe { OwnedFd::from_raw_fd(new) })
        };
        let saved = (dup(1)?, dup(2)?);
        // SAFETY: dup2 onto the standard descriptors, both sides open.
        if unsafe { libc::dup2(file.as_raw_fd(), 1) } < 0
            || unsafe { libc::dup2(file.as_raw_fd(), 2) } < 0
        {
            let e = std::io::Error::last_os_error();
            // SAFETY: as above, putting the saved descriptors back.
            unsafe {
                libc::dup2(saved.0.as_raw_fd(), 1);
                libc::dup2(saved.1.as_raw_fd(), 2);
            }
            return Err(e);
        }
        Ok(Captured {
            path: log.to_path_buf(),
            saved: Some(saved),
        })
    }

    /// Puts stdout and stderr back; the log's path.
    pub fn finish(mut self) -> PathBuf {
        self.restore();
        self.path.clone()
    }

    fn restore(&mut self) {
        if let Some((out, err)) = self.saved.take() {
            // SAFETY: dup2 of descriptors this value owns onto 1 and 2.
            unsafe {
                libc::dup2(out.as_raw_fd(), 1);
                libc::dup2(err.as_raw_fd(), 2);
            }
        }
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        self.restore();
    }
}

/// The last `bytes` of the file at `path` (a log's newest lines; the
/// first may be cut), as text.
pub fn tail_text(path: &Path, bytes: u64) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(bytes)))
        .ok()?;
    let mut text = Vec::new();
    file.take(bytes).read_to_end(&mut text).ok()?;
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// The last `lines` lines of `log` (at most its last 64 KiB), without
/// control characters.
pub fn tail(log: &Path, lines: usize) -> Vec<String> {
    let Some(text) = tail_text(log, 64 << 10) else {
        return Vec::new();
    };
    // dpkg redraws "(Reading database ... 5%" with carriage returns.
    let all: Vec<String> = text
        .split(['\n', '\r'])
        .map(|l| omg::text::one_line(l).trim_end().to_string())
        .filter(|l| !l.trim().is_empty())
        .collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_without_redraws() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        std::fs::write(
            &log,
            "(Reading database ... 5%\r(Reading database ... 100%\nSetting up a\nerror: \u{1b}[31mboom\n",
        )
        .unwrap();
        assert_eq!(tail(&log, 2), ["Setting up a", "error: [31mboom"]);
        assert_eq!(tail(&dir.path().join("none"), 3), Vec::<String>::new());
    }
}
