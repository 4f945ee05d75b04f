//! `--watch`: a line now, and a new one each time the status file is
//! replaced (inotify on its directory: omgd writes it by rename) or the
//! counts turn stale with age. Nothing is polled; while the directory does
//! not exist yet, it is looked for again every few seconds.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An inotify watch on one directory.
struct Watch {
    fd: libc::c_int,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SAFETY: fd is an inotify descriptor this value owns.
        unsafe { libc::close(self.fd) };
    }
}

impl Watch {
    fn new(dir: &Path) -> Option<Watch> {
        let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
        // SAFETY: plain syscalls on a descriptor this function owns.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_CLOEXEC);
            if fd < 0 {
                return None;
            }
            let watch = Watch { fd };
            let mask = libc::IN_MOVED_TO
                | libc::IN_CLOSE_WRITE
                | libc::IN_DELETE
                | libc::IN_DELETE_SELF
                | libc::IN_MOVE_SELF;
            (libc::inotify_add_watch(fd, path.as_ptr(), mask) >= 0).then_some(watch)
        }
    }

    /// Waits up to `timeout_ms` (-1: for ever) for `name` to change.
    fn wait(&self, name: &[u8], timeout_ms: i32) -> Event {
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

enum Event {
    /// The watched file was replaced, written or removed.
    Changed,
    /// The time given passed.
    TimedOut,
    /// Something else in the directory.
    Other,
    /// The directory itself went away.
    Gone,
}

/// Prints `line()` now and again after every change to `file` or when
/// `next_change()` seconds have passed (the counts turning stale), until
/// stdout is closed.
pub fn run(file: &Path, line: impl Fn() -> String, next_change: impl Fn() -> Option<u64>) {
    use std::io::Write;
    let print = || {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", line())
            .and_then(|()| out.flush())
            .is_ok()
    };
    if !print() {
        return;
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    loop {
        let Some(watch) = Watch::new(dir) else {
            // Not there yet (omgd has not run): look again shortly.
            std::thread::sleep(std::time::Duration::from_secs(5));
            if dir.is_dir() && !print() {
                return;
            }
            continue;
        };
        loop {
            let timeout = next_change().map_or(-1, |secs| {
                i32::try_from(secs.saturating_mul(1000).saturating_add(500)).unwrap_or(i32::MAX)
            });
            match watch.wait(name, timeout) {
                Event::Gone => break,
                Event::Other => continue,
                Event::Changed | Event::TimedOut => {
                    if !print() {
                        return;
                    }
                }
            }
        }
    }
}
