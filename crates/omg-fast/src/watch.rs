//! `--watch`: a line now, and a new one each time the status file is
//! replaced (inotify on its directory: omgd writes it by rename) or the
//! counts turn stale with age. Nothing is polled; while the directory does
//! not exist yet, it is looked for again every few seconds.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use omg_status::watch::{Event, Watch};

/// Prints `line()`'s text now and again after every change to `file`, or
/// when the seconds it gave with the text have passed (the counts turning
/// stale), until stdout is closed. The file is read once per line.
pub fn run(file: &Path, line: impl Fn() -> (String, Option<u64>)) {
    use std::io::Write;
    use std::time::{Duration, Instant};
    // The moment the last line printed goes out of date by itself.
    let print = || -> Option<Option<Instant>> {
        let (text, next) = line();
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush()).ok()?;
        Some(next.map(|secs| Instant::now() + Duration::from_secs(secs)))
    };
    let Some(mut deadline) = print() else {
        return;
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    loop {
        let Some(watch) = Watch::new(dir) else {
            // Not there yet (omgd has not run): look again shortly.
            std::thread::sleep(Duration::from_secs(5));
            if dir.is_dir() {
                let Some(next) = print() else {
                    return;
                };
                deadline = next;
            }
            continue;
        };
        loop {
            let timeout = deadline.map_or(-1, |at| {
                let left = at.saturating_duration_since(Instant::now());
                i32::try_from(left.as_millis().saturating_add(500)).unwrap_or(i32::MAX)
            });
            match watch.wait(name, timeout) {
                Event::Gone => break,
                Event::Other => continue,
                Event::Changed | Event::TimedOut => {
                    let Some(next) = print() else {
                        return;
                    };
                    deadline = next;
                }
            }
        }
    }
}
