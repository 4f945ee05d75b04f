//! Pinned packages (`omg pin`): `pins.toml` in the system's configuration
//! directory, one line per package — `"*"` holds it at the installed
//! version, a version prefix (`"6.6"`) lets it move only within that line.
//! Upgrades honour them: on Arch as IgnorePkg does, on Debian through dpkg
//! holds (which apt honours outside omg too; omg itself moves a
//! prefix-pinned package within its line).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything that can go wrong with the pins file.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    /// Package → `*` or a version prefix.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
}

/// Holds at the installed version.
pub const HOLD: &str = "*";

impl Pins {
    pub fn path(config_dir: &Path) -> PathBuf {
        config_dir.join("pins.toml")
    }

    /// The pins; none when the file does not exist.
    pub fn load(config_dir: &Path) -> Result<Pins, PinError> {
        let path = Pins::path(config_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Pins::default()),
            Err(source) => return Err(PinError::Read { path, source }),
        };
        toml::from_str(&text).map_err(|e| PinError::Invalid {
            path,
            message: e.to_string(),
        })
    }

    /// Writes the file atomically.
    pub fn save(&self, config_dir: &Path) -> Result<(), PinError> {
        let path = Pins::path(config_dir);
        let write = |source| PinError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(config_dir).map_err(write)?;
        let body = toml::to_string(self).map_err(|e| write(std::io::Error::other(e)))?;
        let text = format!(
            "# Packages omg keeps from upgrading (omg pin / omg pin --unpin).\n# \"*\": held at the installed version; \"1.2\": only versions 1.2, 1.2.x, …\n{body}"
        );
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(write)?;
        std::fs::rename(&tmp, &path).map_err(write)
    }

    /// Whether an upgrade of `name` to `candidate` is allowed.
    pub fn allows(&self, name: &str, candidate: &str) -> bool {
        match self.pins.get(name) {
            None => true,
            Some(spec) => in_line(spec, candidate),
        }
    }
}

/// Records `change` in the system's pins file; returns the pins now.
pub fn apply(change: &crate::transaction::PinChange) -> Result<Pins, PinError> {
    let dir = crate::config::Paths::system().config_dir;
    let mut pins = Pins::load(&dir)?;
    if change.unpin {
        pins.pins.remove(&change.package);
    } else {
        pins.pins.insert(
            change.package.clone(),
            change.spec.clone().unwrap_or_else(|| HOLD.to_string()),
        );
    }
    pins.save(&dir)?;
    Ok(pins)
}

/// The system's pins (none when the file is missing or unreadable: an
/// unreadable file is reported by `omg pin --list`).
pub fn system() -> Pins {
    Pins::load(&crate::config::Paths::system().config_dir).unwrap_or_default()
}

/// Whether `version` is in the line `spec` names: the same leading
/// components (`6.6` takes `6.6`, `6.6.12-1`, `1:6.6.3`; not `6.60`).
pub fn in_line(spec: &str, version: &str) -> bool {
    if spec == HOLD {
        return false;
    }
    let unepoched = |v: &str| -> String {
        match v.split_once(':') {
            Some((e, rest)) if e.bytes().all(|b| b.is_ascii_digit()) => rest.to_string(),
            _ => v.to_string(),
        }
    };
    let (spec, version) = if spec.contains(':') {
        (spec.to_string(), version.to_string())
    } else {
        (spec.to_string(), unepoched(version))
    };
    version.strip_prefix(&spec).is_some_and(|rest| {
        rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_its_leading_components() {
        assert!(in_line("6.6", "6.6.12-1"));
        assert!(in_line("6.6", "6.6"));
        assert!(in_line("6.6", "1:6.6.3-2"));
        assert!(!in_line("6.6", "6.60.1-1"));
        assert!(!in_line("6.6", "6.7.1-1"));
        assert!(!in_line(HOLD, "6.6.12-1"));
        assert!(in_line("2:9.0", "2:9.0.1378-2"));
    }

    #[test]
    fn pins_survive_a_round_trip_and_a_bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Pins::load(dir.path()).unwrap(), Pins::default());
        let mut pins = Pins::default();
        pins.pins.insert("linux".into(), "6.6".into());
        pins.pins.insert("g++".into(), HOLD.into());
        pins.save(dir.path()).unwrap();
        let back = Pins::load(dir.path()).unwrap();
        assert_eq!(back, pins);
        assert!(back.allows("vim", "9.1-1"));
        assert!(!back.allows("g++", "13.2-1"));
        assert!(back.allows("linux", "6.6.30-1"));
        std::fs::write(Pins::path(dir.path()), "[pins]\nvim = 3\n").unwrap();
        let err = Pins::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("pins.toml"), "{err}");
    }
}
