//! The process at the other end of a Unix socket, from `SO_PEERCRED`,
//! with its start time from `/proc` so polkit can tell it from a later
//! process that reuses the pid.
//!
//! The pid `SO_PEERCRED` gives is the connecting process's, but reading
//! `/proc/PID` happens later, when the pid may belong to someone else.
//! Where the kernel offers `SO_PEERPIDFD` (Linux 6.5), the connecting
//! process is held by a pidfd while `/proc` is read, and the reading counts
//! only if that process is still alive afterwards (so its pid was not
//! reused). Elsewhere the `/proc` entry must belong to the peer's uid and
//! show the same start time before and after the reading.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A socket client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
    /// The process's supplementary groups (from `/proc/PID/status`).
    pub groups: Vec<u32>,
    /// The process's start time in clock ticks since boot (field 22 of
    /// `/proc/PID/stat`).
    pub start_time: u64,
}

/// `SO_PEERPIDFD` (asm-generic and x86 alike; not in libc yet).
const SO_PEERPIDFD: libc::c_int = 77;

impl Peer {
    /// The client of `stream`, or `None` when the kernel does not say or
    /// the process is gone before it could be identified.
    pub fn of(stream: &tokio::net::UnixStream) -> Option<Peer> {
        let cred = stream.peer_cred().ok()?;
        let pid = u32::try_from(cred.pid()?).ok()?;
        let pidfd = peer_pidfd(stream.as_raw_fd());
        let read = || -> Option<(u64, Vec<u32>)> {
            let start = start_time(pid)?;
            let groups = groups(pid, cred.uid())?;
            Some((start, groups))
        };
        let (start_time, groups) = match &pidfd {
            Some(fd) => {
                let read = read()?;
                // Still the same process: its pid was never free to reuse.
                alive(fd).then_some(read)?
            }
            None => {
                let first = read()?;
                (start_time(pid)? == first.0).then_some(first)?
            }
        };
        Some(Peer {
            pid,
            uid: cred.uid(),
            gid: cred.gid(),
            groups,
            start_time,
        })
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// A pidfd for the socket's peer, where the kernel offers one.
fn peer_pidfd(socket: i32) -> Option<OwnedFd> {
    let mut fd: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` and `len` live across the call and match the option.
    let ok = unsafe {
        libc::getsockopt(
            socket,
            libc::SOL_SOCKET,
            SO_PEERPIDFD,
            (&raw mut fd).cast(),
            &mut len,
        )
    };
    // SAFETY: on success the kernel handed this process a new descriptor.
    (ok == 0 && fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether the process `pidfd` refers to has not been reaped.
fn alive(pidfd: &OwnedFd) -> bool {
    // SAFETY: signal 0 only checks; the descriptor is open.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    r == 0
}

/// Field 22 of `/proc/PID/stat`: counted after the command name, which is
/// in parentheses and may itself hold spaces and parentheses.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The supplementary groups of `pid`, if its real uid is `uid`.
fn groups(pid: u32, uid: u32) -> Option<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status(&status, uid)
}

fn parse_status(status: &str, uid: u32) -> Option<Vec<u32>> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    // Real, effective, saved, filesystem: the effective one connected.
    let effective: u32 = field("Uid:")?.split_whitespace().nth(1)?.parse().ok()?;
    if effective != uid {
        return None;
    }
    Some(
        field("Groups:")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|g| g.parse().ok())
            .collect(),
    )
}

fn parse_start_time(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields from 3 (state) on; the start time is field 22.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("garbage"), None);
        assert!(start_time(std::process::id()).is_some());
    }

    #[test]
    fn groups_count_only_for_the_uid_that_connected() {
        let status = "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nGroups:\t27 100 \n";
        assert_eq!(parse_status(status, 1000), Some(vec![27, 100]));
        assert_eq!(parse_status(status, 0), None);
    }

    #[tokio::test]
    async fn a_peer_is_this_very_process() {
        let (a, _b) = tokio::net::UnixStream::pair().unwrap();
        let peer = Peer::of(&a).expect("the kernel names the peer");
        assert_eq!(peer.pid, std::process::id());
        // SAFETY: getuid has no preconditions.
        assert_eq!(peer.uid, unsafe { libc::getuid() });
        assert_eq!(peer.start_time, start_time(peer.pid).unwrap());
    }
}
