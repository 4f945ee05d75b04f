//! One file read out of a package file, without unpacking the rest: a
//! `.deb` through `dpkg-deb --fsys-tarfile`, an Arch package through
//! `bsdtar` (for the news a `.deb` ships, and the base of a config
//! file's three-way merge).

use std::path::Path;

/// The contents of `inside` (the path as installed, `/etc/x.conf`) in the
/// package file `package`; why not, when it cannot be read.
pub fn read_member(package: &Path, inside: &str) -> Result<Vec<u8>, String> {
    let output = if package.extension().is_some_and(|e| e == "deb") {
        std::process::Command::new("sh")
            .args([
                "-c",
                "dpkg-deb --fsys-tarfile \"$1\" | tar -xOf - \"$2\"",
                "sh",
            ])
            .arg(package)
            .arg(format!(".{inside}"))
            .output()
    } else {
        std::process::Command::new("bsdtar")
            .arg("-xOf")
            .arg(package)
            .arg(inside.trim_start_matches('/'))
            .output()
    }
    .map_err(|e| format!("cannot read {}: {e}", package.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} has no {inside}: {}",
            package.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}
