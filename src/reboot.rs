//! Whether the machine waits for a reboot: an update of the kernel, the
//! init system or the CPU's microcode made in this boot (recorded by the
//! daemon that made it, with the boot's id, so the next boot forgets it),
//! a running kernel whose modules are gone from disk or older than an
//! installed one of its flavour, or Debian's `/run/reboot-required`.

use std::path::{Path, PathBuf};

/// Debian's flag file (written by kernel and libc maintainer scripts).
pub const DEBIAN_FLAG_FILE: &str = "/run/reboot-required";

/// Where installed kernels keep their modules, newest layout first.
const MODULE_DIRS: [&str; 2] = ["/usr/lib/modules", "/lib/modules"];

/// Whether a new version of the package `name` only takes effect after a
/// reboot: a kernel (Arch's `linux*`, Debian's `linux-image-*`), the init
/// system, or CPU microcode.
pub fn needs_reboot(name: &str) -> bool {
    const ARCH_KERNELS: [&str; 6] = [
        "linux",
        "linux-lts",
        "linux-zen",
        "linux-hardened",
        "linux-rt",
        "linux-rt-lts",
    ];
    const OTHERS: [&str; 8] = [
        "systemd",
        "systemd-sysv",
        "sysvinit-core",
        "openrc",
        "intel-ucode",
        "amd-ucode",
        "intel-microcode",
        "amd64-microcode",
    ];
    let name = name.split(':').next().unwrap_or(name);
    ARCH_KERNELS.contains(&name) || OTHERS.contains(&name) || name.starts_with("linux-image-")
}

/// This boot's id (a new one at every boot).
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

/// The record of updates that wait for a reboot: the boot's id, then the
/// packages, a line each.
pub struct Marker(PathBuf);

impl Marker {
    /// The marker in a runtime directory.
    pub fn in_dir(runtime_dir: &Path) -> Marker {
        Marker(runtime_dir.join("reboot-required"))
    }

    /// Adds `packages` to this boot's record.
    pub fn record(&self, packages: &[String]) -> std::io::Result<()> {
        let boot = boot_id().unwrap_or_default();
        let mut names = self.read().unwrap_or_default();
        for p in packages {
            if !names.contains(p) {
                names.push(p.clone());
            }
        }
        if let Some(dir) = self.0.parent() {
            crate::config::ensure_private_dir(dir)?;
        }
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, format!("{boot}\n{}\n", names.join("\n")))?;
        std::fs::rename(&tmp, &self.0)
    }

    /// The packages recorded in this boot; a record of an earlier boot is
    /// removed and reads as none.
    pub fn read(&self) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(&self.0).ok()?;
        let mut lines = text.lines();
        let recorded = lines.next()?;
        if Some(recorded) != boot_id().as_deref() {
            let _ = std::fs::remove_file(&self.0);
            return None;
        }
        let names: Vec<String> = lines
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        (!names.is_empty()).then_some(names)
    }
}

/// Why this machine waits for a reboot, from its own state: Debian's flag
/// file, or the running kernel gone or superseded.
pub fn machine_reason() -> Option<String> {
    if Path::new(DEBIAN_FLAG_FILE).exists() {
        return Some(format!("{DEBIAN_FLAG_FILE} exists"));
    }
    let running = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    MODULE_DIRS
        .iter()
        .find_map(|dir| kernel_reason(Path::new(dir), running.trim()))
}

/// The kernel part of `machine_reason`, for one modules directory: when
/// it holds kernels, the running one must be among them and be the newest
/// of its flavour (`-amd64`, `-lts`, …).
pub fn kernel_reason(modules: &Path, running: &str) -> Option<String> {
    let installed: Vec<String> = std::fs::read_dir(modules)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    if installed.is_empty() {
        return None;
    }
    if !installed.iter().any(|k| k == running) {
        return Some(format!(
            "the running kernel {running} is no longer installed"
        ));
    }
    let newest = installed
        .iter()
        .filter(|k| flavour(k) == flavour(running))
        .max_by(|a, b| crate::version::vercmp(a, b))?;
    (crate::version::vercmp(newest, running) == std::cmp::Ordering::Greater)
        .then(|| format!("kernel {newest} is installed; {running} is running"))
}

/// A kernel release's flavour: its trailing `-` parts that start with a
/// letter (`6.1.0-18-amd64` → `amd64`, `6.1.0-18-cloud-amd64` →
/// `cloud-amd64`, `6.6.8-1-lts` → `lts`), else none (Arch's
/// `6.6.8-arch1-1`).
fn flavour(release: &str) -> String {
    let parts: Vec<&str> = release.split('-').collect();
    let words = parts
        .iter()
        .rev()
        .take_while(|p| p.starts_with(|c: char| c.is_ascii_alphabetic()))
        .count();
    parts[parts.len() - words..].join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_init_and_microcode_need_a_reboot() {
        for name in [
            "linux",
            "linux-lts",
            "linux-image-6.1.0-18-amd64",
            "linux-image-amd64:amd64",
            "systemd",
            "intel-ucode",
        ] {
            assert!(needs_reboot(name), "{name}");
        }
        for name in [
            "linux-firmware",
            "linux-headers-6.1.0-18-amd64",
            "vim",
            "libsystemd0",
        ] {
            assert!(!needs_reboot(name), "{name}");
        }
    }

    #[test]
    fn a_kernel_gone_or_superseded_in_its_flavour_needs_a_reboot() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path();
        assert_eq!(kernel_reason(m, "6.1.0-18-amd64"), None, "no kernels here");
        for k in ["6.1.0-18-amd64", "6.1.0-20-cloud-amd64"] {
            std::fs::create_dir(m.join(k)).unwrap();
        }
        assert_eq!(kernel_reason(m, "6.1.0-18-amd64"), None);
        std::fs::create_dir(m.join("6.1.0-20-amd64")).unwrap();
        assert_eq!(
            kernel_reason(m, "6.1.0-18-amd64").as_deref(),
            Some("kernel 6.1.0-20-amd64 is installed; 6.1.0-18-amd64 is running")
        );
        assert_eq!(
            kernel_reason(m, "6.6.8-arch1-1").as_deref(),
            Some("the running kernel 6.6.8-arch1-1 is no longer installed")
        );
    }

    #[test]
    fn a_record_of_another_boot_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let marker = Marker::in_dir(dir.path());
        assert_eq!(marker.read(), None);
        marker.record(&["linux".into()]).unwrap();
        marker.record(&["systemd".into(), "linux".into()]).unwrap();
        assert_eq!(
            marker.read(),
            Some(vec!["linux".to_string(), "systemd".to_string()])
        );
        std::fs::write(dir.path().join("reboot-required"), "another-boot\nlinux\n").unwrap();
        assert_eq!(marker.read(), None);
        assert!(!dir.path().join("reboot-required").exists());
    }
}
