//! Knowing when the package database changed. The fingerprint (a few dozen
//! `stat` calls) is authoritative; inotify on the directories it covers says
//! when it is worth recomputing. Events are drained synchronously at each
//! request, so a request that follows a finished `apt install` always sees
//! its events: the kernel queued them before dpkg exited. Without inotify
//! (no watches left, a directory missing) every request recomputes the
//! fingerprint, which is still correct, only slower.

use std::sync::Mutex;

use inotify::{Inotify, WatchMask};
use log::debug;

use crate::backend::BackendError;
use crate::backend::fingerprint::{self, Watched};

struct State {
    inotify: Option<Inotify>,
    /// Something changed since the fingerprint last matched the index.
    dirty: bool,
}

pub struct Watch {
    watched: Vec<Watched>,
    state: Mutex<State>,
}

impl Watch {
    /// Watches the directories of `watched`; `use_inotify` false disables
    /// the shortcut (the one-shot `--stdio` daemon answers one client and
    /// has nothing to gain from it).
    pub fn new(watched: Vec<Watched>, use_inotify: bool) -> Watch {
        let inotify = if use_inotify {
            Self::watch(&watched)
        } else {
            None
        };
        Watch {
            watched,
            state: Mutex::new(State {
                inotify,
                dirty: true,
            }),
        }
    }

    fn watch(watched: &[Watched]) -> Option<Inotify> {
        let inotify = Inotify::init()
            .map_err(|e| debug!("no inotify ({e}); checking the fingerprint on every request"))
            .ok()?;
        let mask = WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MOVED_TO
            | WatchMask::MOVED_FROM
            | WatchMask::CLOSE_WRITE
            | WatchMask::ATTRIB
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF;
        let mut dirs: Vec<_> = watched.iter().filter_map(Watched::directory).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            if let Err(e) = inotify.watches().add(dir, mask) {
                debug!(
                    "cannot watch {} ({e}); checking the fingerprint on every request",
                    dir.display()
                );
                return None;
            }
        }
        Some(inotify)
    }

    /// Whether the database may have changed since `settled` was last
    /// called with a matching fingerprint.
    pub fn maybe_changed(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let State { inotify, dirty } = &mut *state;
        match inotify {
            None => true,
            Some(inotify) => {
                let mut buf = [0u8; 4096];
                loop {
                    match inotify.read_events(&mut buf) {
                        Ok(events) => {
                            if events.count() == 0 {
                                break;
                            }
                            *dirty = true;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            *dirty = true;
                            break;
                        }
                    }
                }
                *dirty
            }
        }
    }

    /// The current fingerprint.
    pub fn fingerprint(&self) -> Result<String, BackendError> {
        Ok(fingerprint::compute(&self.watched)?)
    }

    /// The index now matches the database: quiet until the next event.
    pub fn settled(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).dirty = false;
    }

    /// Forces the next request to recompute the fingerprint.
    pub fn touch(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).dirty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_mark_the_database_changed() {
        let dir = tempfile::tempdir().unwrap();
        let status = dir.path().join("status");
        std::fs::write(&status, "a").unwrap();
        let watch = Watch::new(vec![Watched::Required(status.clone())], true);
        assert!(watch.maybe_changed(), "dirty until the first settle");
        let first = watch.fingerprint().unwrap();
        watch.settled();
        assert!(!watch.maybe_changed());
        std::fs::write(&status, "ab").unwrap();
        assert!(watch.maybe_changed(), "a write is seen at once");
        assert_ne!(watch.fingerprint().unwrap(), first);

        let without = Watch::new(vec![Watched::Required(status)], false);
        without.settled();
        assert!(without.maybe_changed(), "no inotify: always check");
    }
}
