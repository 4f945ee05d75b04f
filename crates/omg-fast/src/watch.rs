//! `--watch`: a line now, and a new one each time the status file is
//! replaced (inotify on its directory: omgd writes it by rename) or the
//! counts turn stale with age. Nothing is polled; while the directory does
//! not exist yet, it is looked for again every few seconds.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use omg_status::watch::{Event, Watch};

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
