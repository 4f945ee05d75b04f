//! Waiting for the status file to be replaced: an inotify watch on its
//! directory (omgd writes the file by rename), for readers that follow it
//! (`omg-fast --watch`, `omg tray`) without polling.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An inotify watch on one directory.
pub struct Watch {
    fd: libc::c_int,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: fd is an inotify descriptor this value owns.
        unsafe { libc::close(self.fd) };
    }
}

impl Watch {
    /// Watches `dir` (none when it cannot be watched, as when it does
    /// not exist).
    pub fn new(dir: &Path) -> Option<Watch> {
        let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: plain syscalls on a descriptor this function owns.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_CLOEXEC);
            if fd < 0 {
                return None;
            }
            let watch = Watch { fd };
            // The file is only ever replaced by rename (`write`): its
            // arrival and its removal are the changes.
            let mask =
                libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF;
            (libc::inotify_add_watch(fd, path.as_ptr(), mask) >= 0).then_some(watch)
        }
    }

    /// Waits up to `timeout_ms` (-1: for ever) for `name` to change.
    pub fn wait(&self, name: &[u8], timeout_ms: i32) -> Event {
        let mut poll = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, timeout_ms) };
        if ready == 0 {
            return Event::TimedOut;
        }
        if ready < 0 {
            return Event::Other;
        }
        let mut buffer = [0u8; 4096];
        // SAFETY: reads into a buffer of the length given.
        let len = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        let Ok(len) = usize::try_from(len) else {
            return Event::Other;
        };
        let header = std::mem::size_of::<libc::inotify_event>();
        let mut at = 0;
        let mut changed = false;
        while at + header <= len {
            // SAFETY: the kernel wrote a whole event header at `at`.
            let event: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(buffer[at..].as_ptr().cast()) };
            let end = (at + header + event.len as usize).min(len);
            let raw = &buffer[at + header..end];
            let event_name = raw.split(|b| *b == 0).next().unwrap_or(&[]);
            if event.mask & (libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_IGNORED) != 0 {
                return Event::Gone;
            }
            changed |= event_name == name;
            at = end;
        }
        if changed {
            Event::Changed
        } else {
            Event::Other
        }
    }
}

pub enum Event {
    /// The watched file was replaced or removed.
    Changed,
    /// The time given passed.
    TimedOut,
    /// Something else in the directory.
    Other,
    /// The directory itself went away.
    Gone,
}
