//! Where omg keeps its files. Every directory follows the XDG base directory
//! variables and can be replaced whole by an `OMG_*_DIR` variable, which is
//! also how tests isolate themselves:
//!
//! | what    | variable          | default                         |
//! |---------|-------------------|---------------------------------|
//! | config  | `OMG_CONFIG_DIR`  | `$XDG_CONFIG_HOME/omg`          |
//! | data    | `OMG_DATA_DIR`    | `$XDG_DATA_HOME/omg`            |
//! | cache   | `OMG_CACHE_DIR`   | `$XDG_CACHE_HOME/omg`           |
//! | runtime | `OMG_RUNTIME_DIR` | `$XDG_RUNTIME_DIR/omg`, else `<cache>/run` |

use std::path::{Path, PathBuf};

/// A directory could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find the {0} directory: set {1} or HOME")]
    NoDirectory(&'static str, &'static str),
}

/// The directories of one omg instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub runtime_dir: PathBuf,
}

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Paths {
    /// The directories of the calling user.
    pub fn user() -> Result<Paths, ConfigError> {
        let pick = |var: &'static str, base: Option<PathBuf>, what: &'static str| {
            from_env(var)
                .or_else(|| base.map(|b| b.join("omg")))
                .ok_or(ConfigError::NoDirectory(what, var))
        };
        let config_dir = pick("OMG_CONFIG_DIR", dirs::config_dir(), "config")?;
        let data_dir = pick("OMG_DATA_DIR", dirs::data_dir(), "data")?;
        let cache_dir = pick("OMG_CACHE_DIR", dirs::cache_dir(), "cache")?;
        let runtime_dir = from_env("OMG_RUNTIME_DIR")
            .or_else(|| dirs::runtime_dir().map(|r| r.join("omg")))
            .unwrap_or_else(|| cache_dir.join("run"));
        Ok(Paths {
            config_dir,
            data_dir,
            cache_dir,
            runtime_dir,
        })
    }

    /// The embedded database (index snapshot, caches, history).
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("omg.redb")
    }

    /// The 16-byte status file that `omg-fast` reads.
    pub fn status_file(&self) -> PathBuf {
        self.runtime_dir.join("status.bin")
    }
}

/// Creates `dir` (and its parents) with owner-only permissions if missing.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
