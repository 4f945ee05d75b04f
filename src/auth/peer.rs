//! The process at the other end of a Unix socket, from `SO_PEERCRED`,
//! with its start time from `/proc` so polkit can tell it from a later
//! process that reuses the pid.

/// A socket client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub pid: u32,
    pub uid: u32,
    /// The process's start time in clock ticks since boot (field 22 of
    /// `/proc/PID/stat`).
    pub start_time: u64,
}

impl Peer {
    /// The client of `stream`, or `None` when the kernel does not say.
    pub fn of(stream: &tokio::net::UnixStream) -> Option<Peer> {
        let cred = stream.peer_cred().ok()?;
        let pid = u32::try_from(cred.pid()?).ok()?;
        Some(Peer {
            pid,
            uid: cred.uid(),
            start_time: start_time(pid)?,
        })
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// Field 22 of `/proc/PID/stat`: counted after the command name, which is
/// in parentheses and may itself hold spaces and parentheses.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
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
}
