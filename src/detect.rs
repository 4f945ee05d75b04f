//! Which backend this system wants: `OMG_BACKEND=apt|alpm` (set by omg's
//! `--backend`), then `backend =` in config.toml, then `/etc/os-release`
//! (`ID`, then `ID_LIKE`).

use std::path::Path;

use crate::model::BackendKind;

/// This system's backend cannot be told.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnknownSystem(pub String);

/// The backend for a distribution id (`debian`, `arch`, …).
fn kind_for_id(id: &str) -> Option<BackendKind> {
    match id {
        "debian" | "ubuntu" | "linuxmint" | "pop" | "raspbian" | "kali" | "devuan"
        | "elementary" | "zorin" | "neon" => Some(BackendKind::Apt),
        "arch" | "archarm" | "manjaro" | "endeavouros" | "garuda" | "artix" | "cachyos" => {
            Some(BackendKind::Alpm)
        }
        _ => None,
    }
}

/// Reads an os-release text: `ID` first, then each word of `ID_LIKE`.
pub fn kind_from_os_release(text: &str) -> Option<BackendKind> {
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    let id = value("ID").unwrap_or_default();
    kind_for_id(&id).or_else(|| value("ID_LIKE")?.split_whitespace().find_map(kind_for_id))
}

/// The backend of this machine; `configured` is config.toml's choice.
pub fn detect(configured: Option<BackendKind>) -> Result<BackendKind, UnknownSystem> {
    detect_with(std::env::var("OMG_BACKEND").ok().as_deref(), configured)
}

/// `detect`, with `omg_backend` standing for the `OMG_BACKEND` variable.
pub fn detect_with(
    omg_backend: Option<&str>,
    configured: Option<BackendKind>,
) -> Result<BackendKind, UnknownSystem> {
    match omg_backend {
        Some("apt") => return Ok(BackendKind::Apt),
        Some("alpm") => return Ok(BackendKind::Alpm),
        Some(other) if !other.is_empty() => {
            return Err(UnknownSystem(format!(
                "OMG_BACKEND={other} is neither `apt` nor `alpm`"
            )));
        }
        _ => {}
    }
    if let Some(kind) = configured {
        return Ok(kind);
    }
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = std::fs::read_to_string(path) {
            return kind_from_os_release(&text).ok_or_else(|| {
                UnknownSystem(format!(
                    "{path} names neither a Debian- nor an Arch-based system; set OMG_BACKEND=apt or OMG_BACKEND=alpm"
                ))
            });
        }
    }
    // No os-release: fall back on the databases themselves.
    if Path::new("/var/lib/dpkg/status").exists() {
        Ok(BackendKind::Apt)
    } else if Path::new("/var/lib/pacman/local").exists() {
        Ok(BackendKind::Alpm)
    } else {
        Err(UnknownSystem(
            "no /etc/os-release, no dpkg and no pacman database".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_id_and_id_like() {
        let debian =
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
        assert_eq!(kind_from_os_release(debian), Some(BackendKind::Apt));
        let arch = "NAME=\"Arch Linux\"\nID=arch\n";
        assert_eq!(kind_from_os_release(arch), Some(BackendKind::Alpm));
        let derived = "ID=\"mydistro\"\nID_LIKE=\"ubuntu debian\"\n";
        assert_eq!(kind_from_os_release(derived), Some(BackendKind::Apt));
        let derived_arch = "ID=somearch\nID_LIKE=arch\n";
        assert_eq!(kind_from_os_release(derived_arch), Some(BackendKind::Alpm));
        assert_eq!(
            kind_from_os_release("ID=fedora\nID_LIKE=\"rhel centos\"\n"),
            None
        );
    }
}
