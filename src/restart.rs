//! Processes that still run replaced code: after an upgrade, every process
//! mapping a file a package manager replaced or deleted (its line in
//! `/proc/PID/maps` ends in `(deleted)`), grouped by the systemd unit its
//! cgroup names, as needrestart and checkservices find them. Units whose
//! restart ends the machine or a login (PID 1, session scopes, a user's
//! manager) are told apart: omg never restarts them without asking.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Directories whose deleted files are not package files (relative to
/// the package manager's root).
const NOT_PACKAGED: [&str; 8] = [
    "tmp/", "var/tmp/", "dev/", "run/", "proc/", "sys/", "home/", "root/",
];

/// One unit (or, outside systemd, one process) to restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restart {
    /// The systemd unit (`nginx.service`), or null for a process no unit
    /// holds.
    pub unit: Option<String>,
    /// Its processes: (pid, command name).
    pub processes: Vec<(u32, String)>,
    /// The replaced or deleted files they map (on disk, as mapped).
    pub files: Vec<String>,
    /// Restarting it ends the machine's init or a login session: only
    /// when asked for by name.
    pub sensitive: bool,
}

/// The unit a process belongs to, from its `/proc/PID/cgroup` text: the
/// unified hierarchy's path, else the `name=systemd` one; its last
/// `.service` or `.scope` part.
pub fn unit_of(cgroup: &str) -> Option<String> {
    let path = |prefix: &str| {
        cgroup
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .filter(|p| *p != "/")
    };
    let path = path("0::").or_else(|| {
        cgroup
            .lines()
            .find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p))
            .filter(|p| *p != "/")
    })?;
    path.rsplit('/')
        .find(|part| part.ends_with(".service") || part.ends_with(".scope"))
        .map(str::to_string)
}

/// Whether restarting `unit` would end the machine's init or a login.
pub fn sensitive(unit: &str) -> bool {
    unit == "init.scope"
        || unit.starts_with("session-")
        || unit.starts_with("user@")
        || unit == "systemd-logind.service"
        || unit == "display-manager.service"
        || unit == "dbus.service"
        || unit == "dbus-broker.service"
}

/// The replaced or deleted files under `root` a process's maps text maps.
pub fn replaced_in(maps: &str, root: &Path) -> Vec<String> {
    let root = root.to_string_lossy();
    let root = root.trim_end_matches('/');
    let mut found: Vec<String> = Vec::new();
    for line in maps.lines() {
        // address perms offset dev inode path: the path may hold spaces.
        let Some(path) = line.splitn(6, char::is_whitespace).nth(5) else {
            continue;
        };
        let Some(path) = path.trim_start().strip_suffix(" (deleted)") else {
            continue;
        };
        let Some(rel) = path.strip_prefix(root).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        if NOT_PACKAGED.iter().any(|d| rel.starts_with(d)) || rel.starts_with("memfd:") {
            continue;
        }
        if !found.iter().any(|f| f == path) {
            found.push(path.to_string());
        }
    }
    found
}

/// Every unit (or lone process) mapping replaced files under `root`, from
/// the process table at `proc` (`/proc`); this process is left out.
pub fn scan(proc: &Path, root: &Path) -> Vec<Restart> {
    let me = std::process::id();
    let mut by_unit: BTreeMap<(Option<String>, u32), Restart> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let dir = entry.path();
        let Ok(maps) = std::fs::read_to_string(dir.join("maps")) else {
            continue;
        };
        let files = replaced_in(&maps, root);
        if files.is_empty() {
            continue;
        }
        let comm = std::fs::read_to_string(dir.join("comm"))
            .map(|c| c.trim().to_string())
            .unwrap_or_default();
        let unit = if pid == 1 {
            Some("init.scope".to_string())
        } else {
            std::fs::read_to_string(dir.join("cgroup"))
                .ok()
                .and_then(|c| unit_of(&c))
        };
        // Processes outside any unit are listed one by one.
        let key = (unit.clone(), if unit.is_some() { 0 } else { pid });
        let restart = by_unit.entry(key).or_insert_with(|| Restart {
            sensitive: unit.as_deref().is_some_and(sensitive),
            unit,
            processes: Vec::new(),
            files: Vec::new(),
        });
        restart.processes.push((pid, comm));
        for f in files {
            if !restart.files.contains(&f) {
                restart.files.push(f);
            }
        }
    }
    by_unit.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_comes_from_the_unified_or_the_named_hierarchy() {
        assert_eq!(
            unit_of("0::/system.slice/nginx.service\n").as_deref(),
            Some("nginx.service")
        );
        assert_eq!(
            unit_of("9:name=systemd:/system.slice/cron.service\n1:cpu:/\n0::/\n").as_deref(),
            Some("cron.service")
        );
        assert_eq!(
            unit_of("0::/user.slice/user-1000.slice/user@1000.service/app.slice/foot.service\n")
                .as_deref(),
            Some("foot.service")
        );
        assert_eq!(
            unit_of("0::/user.slice/user-1000.slice/session-2.scope\n").as_deref(),
            Some("session-2.scope")
        );
        assert_eq!(unit_of("0::/\n"), None);
        assert!(sensitive("session-2.scope") && sensitive("init.scope"));
        assert!(!sensitive("nginx.service"));
    }

    #[test]
    fn only_replaced_package_files_count() {
        let maps = "\
55d0 r-xp 00000000 08:01 1234  /usr/sbin/nginx (deleted)
7f00 r-xp 00000000 08:01 99    /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)
7f01 r-xp 00000000 08:01 98    /usr/lib/x86_64-linux-gnu/libc.so.6
7f02 rw-s 00000000 00:01 5     /memfd:wayland (deleted)
7f03 rw-s 00000000 00:01 6     /tmp/scratch (deleted)
7f04 rw-s 00000000 00:01 7     /dev/shm/x (deleted)
7f05 r-xp 00000000 08:01 1234  /usr/sbin/nginx (deleted)
7ffd rw-p 00000000 00:00 0     [stack]
";
        assert_eq!(
            replaced_in(maps, Path::new("/")),
            ["/usr/sbin/nginx", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]
        );
        let root = "7f00 r-xp 00000000 08:01 1 /tmp/r/usr/lib/app/tool (deleted)\n\
                    7f01 r-xp 00000000 08:01 2 /usr/lib/other (deleted)\n";
        assert_eq!(
            replaced_in(root, Path::new("/tmp/r")),
            ["/tmp/r/usr/lib/app/tool"]
        );
    }
}
