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
//!
//! The system instance uses `/etc/omg`, `/var/lib/omg`, `/var/cache/omg` and
//! `/run/omg` (the same variables still override them).
//!
//! `config.toml` in the config directory holds the settings (`Config`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A directory could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find the {0} directory: set {1} or HOME")]
    NoDirectory(&'static str, &'static str),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Settings from `config.toml`. Every key is optional.
///
/// ```toml
/// backend = "alpm"         # or "apt"; default: from /etc/os-release
///
/// [daemon]
/// idle_timeout = 300       # seconds a socket-activated omgd waits before exiting
/// refresh_interval = 21600 # seconds between refreshes of a daemon outside systemd
/// cache_entries = 1024     # hot results kept in memory (16 KiB each; larger ones count more)
/// question_timeout = 600   # seconds a transaction waits for an answer (then: the safe one)
/// max_connections = 256    # open connections from users other than root
/// max_connections_per_user = 32
/// handshake_timeout = 5    # seconds a new connection has to say Hello
/// read_timeout = 120       # seconds a connection may stay silent between requests
/// write_timeout = 30       # seconds a client may leave an answer unread
///
/// [aur]
/// url = "https://aur.archlinux.org"  # or $OMG_AUR_URL
/// enabled = true           # Arch only: search and info include the AUR
/// search_timeout_ms = 1500 # a slower AUR leaves search with repository results
/// timeout_ms = 10000       # any other AUR request
/// cache_secs = 600         # how long AUR answers are reused
/// sandbox = true           # makepkg runs in a bubblewrap sandbox (no network while building)
/// jobs = 0                 # bases built at the same time (0: one per core)
///
/// [runtimes]
/// node_mirror = "https://nodejs.org/dist"  # or $NVM_NODEJS_ORG_MIRROR
/// node_keys = "/usr/share/omg/keys/node"   # the Node.js release keys (*.asc)
/// go_mirror = "https://go.dev/dl"          # listing and archives
/// python_metadata = "https://raw.githubusercontent.com/astral-sh/uv/main/crates/uv-python/download-metadata.json"
/// java_api = "https://api.adoptium.net"
/// bun_releases = "https://github.com/oven-sh/bun/releases/download"
/// bun_api = "https://api.github.com/repos/oven-sh/bun/releases"
///
/// [arch]
/// archive_url = "https://archive.archlinux.org"  # or $OMG_ALA_URL
/// news_url = "https://archlinux.org/feeds/news/"  # or $OMG_ARCH_NEWS_URL ("" = no news)
///
/// [hook]
/// env = false                # export the project's mise [env] and .env at the prompt
/// command_not_found = false  # say which package or runtime provides a missing command
///
/// [upgrade]
/// news = "ask"               # the news before an upgrade: ask, show or off
///
/// [metrics]
/// textfile_dir = "/var/lib/prometheus/node-exporter"  # where omg.prom goes ("" = nowhere)
/// lock = "/etc/omg.lock"     # report drift from this lock
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `apt` or `alpm`; without it, /etc/os-release decides.
    pub backend: Option<crate::model::BackendKind>,
    pub daemon: DaemonConfig,
    pub aur: AurConfig,
    pub runtimes: RuntimesConfig,
    pub security: SecurityConfig,
    pub arch: ArchConfig,
    pub hook: HookConfig,
    pub metrics: MetricsConfig,
    pub upgrade: UpgradeConfig,
}

/// What upgrades do beyond installing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpgradeConfig {
    /// `ask` (show the news of what is upgraded, then ask), `show`, `off`.
    pub news: crate::transaction::NewsMode,
}

/// Prometheus metrics for node_exporter's textfile collector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where the refresh and scan workers write `omg.prom`; unset:
    /// node_exporter's directory when it exists (root's workers only);
    /// empty: nowhere.
    pub textfile_dir: Option<PathBuf>,
    /// An `omg.lock` the metrics compare the machine with.
    pub lock: Option<PathBuf>,
}

/// What the shell hook does beyond runtime versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HookConfig {
    /// Export the project's environment (mise's `[env]`, `.env`) and take
    /// it back on leaving, as PATH is.
    pub env: bool,
    /// Say, for a command the shell cannot find, what would provide it:
    /// the runtime the project asks for, or the package to install.
    pub command_not_found: bool,
}

/// Arch Linux settings beyond pacman.conf.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchConfig {
    /// The Arch Linux Archive (or `$OMG_ALA_URL`): where `omg rollback`
    /// finds versions no cache or repository has any more.
    pub archive_url: String,
    /// The Arch Linux news feed (or `$OMG_ARCH_NEWS_URL`), fetched by the
    /// refresh worker and shown before upgrades; empty: no news.
    pub news_url: String,
}

impl Default for ArchConfig {
    fn default() -> Self {
        ArchConfig {
            archive_url: "https://archive.archlinux.org".into(),
            news_url: "https://archlinux.org/feeds/news/".into(),
        }
    }
}

impl ArchConfig {
    pub fn archive_url(&self) -> String {
        env_or("OMG_ALA_URL", &self.archive_url)
    }

    /// Where the news comes from; `None` when turned off.
    pub fn news_url(&self) -> Option<String> {
        let url = env_or("OMG_ARCH_NEWS_URL", &self.news_url);
        (!url.trim().is_empty()).then_some(url)
    }
}

/// Where vulnerability data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The Arch security tracker's AVG list (or `$OMG_ALSA_URL`).
    pub alsa_url: String,
    /// The Debian security tracker's JSON (or `$OMG_DEBIAN_TRACKER_URL`).
    pub debian_tracker_url: String,
    /// The Debian release to match (default: VERSION_CODENAME in
    /// /etc/os-release).
    pub debian_release: Option<String>,
    /// Data older than this (seconds) is reported as stale (and OSV
    /// answers are asked again).
    pub max_age_secs: u64,
    /// OSV's API (or `$OMG_OSV_URL`), for project dependencies and Go
    /// toolchains.
    pub osv_url: String,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            alsa_url: "https://security.archlinux.org/issues/all.json".into(),
            debian_tracker_url: "https://security-tracker.debian.org/tracker/data/json".into(),
            debian_release: None,
            max_age_secs: 2 * 86_400,
            osv_url: "https://api.osv.dev".into(),
        }
    }
}

impl SecurityConfig {
    pub fn alsa_url(&self) -> String {
        env_or("OMG_ALSA_URL", &self.alsa_url)
    }

    pub fn debian_tracker_url(&self) -> String {
        env_or("OMG_DEBIAN_TRACKER_URL", &self.debian_tracker_url)
    }

    pub fn osv_url(&self) -> String {
        env_or("OMG_OSV_URL", &self.osv_url)
    }

    /// The Debian release codename advisories are matched for.
    pub fn debian_release(&self) -> Option<String> {
        self.debian_release.clone().or_else(|| {
            let text = std::fs::read_to_string("/etc/os-release").ok()?;
            text.lines().find_map(|l| {
                l.strip_prefix("VERSION_CODENAME=")
                    .map(|v| v.trim_matches('"').to_string())
                    .filter(|v| !v.is_empty())
            })
        })
    }
}

fn env_or(var: &str, value: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| value.to_string())
}

/// Where runtimes come from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimesConfig {
    /// Node.js dist root (or `$NVM_NODEJS_ORG_MIRROR`).
    pub node_mirror: String,
    /// The Node.js release team's keys (`*.asc`).
    pub node_keys: String,
    /// Where Go releases are listed and served (go.dev/dl's layout).
    pub go_mirror: String,
    /// The list of CPython builds (python-build-standalone) in uv's
    /// download-metadata format.
    pub python_metadata: String,
    /// The Adoptium API (Temurin JDKs).
    pub java_api: String,
    /// Bun's release downloads (`<this>/bun-v<version>/<file>`).
    pub bun_releases: String,
    /// Bun's release list (GitHub's releases API), for aliases and
    /// partial versions.
    pub bun_api: String,
    /// Bun's release signing key(s) (`*.asc`), which sign `SHASUMS256.txt`.
    pub bun_keys: String,
    /// Where Rust's channel manifests and tarballs are served (or
    /// `$RUSTUP_DIST_SERVER`), when omg installs toolchains itself (no
    /// rustup installed).
    pub rust_dist_server: String,
    /// Which rustup profile's components a toolchain gets (`minimal`,
    /// `default`, `complete`).
    pub rust_profile: String,
    /// The list of Ruby releases with their checksums, in the format of
    /// cache.ruby-lang.org's `index.txt`; Ruby is built from source.
    pub ruby_index: String,
}

/// Where rustup's distribution server is, unless configured otherwise.
pub const RUST_DIST_SERVER: &str = "https://static.rust-lang.org";

impl Default for RuntimesConfig {
    fn default() -> Self {
        RuntimesConfig {
            node_mirror: "https://nodejs.org/dist".into(),
            node_keys: "/usr/share/omg/keys/node".into(),
            go_mirror: "https://go.dev/dl".into(),
            python_metadata:
                "https://raw.githubusercontent.com/astral-sh/uv/main/crates/uv-python/download-metadata.json"
                    .into(),
            java_api: "https://api.adoptium.net".into(),
            bun_releases: "https://github.com/oven-sh/bun/releases/download".into(),
            bun_api: "https://api.github.com/repos/oven-sh/bun/releases".into(),
            bun_keys: "/usr/share/omg/keys/bun".into(),
            rust_dist_server: RUST_DIST_SERVER.into(),
            rust_profile: "default".into(),
            ruby_index: "https://cache.ruby-lang.org/pub/ruby/index.txt".into(),
        }
    }
}

impl RuntimesConfig {
    pub fn node_mirror(&self) -> String {
        std::env::var("NVM_NODEJS_ORG_MIRROR")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| self.node_mirror.clone())
    }

    pub fn rust_dist_server(&self) -> String {
        std::env::var("RUSTUP_DIST_SERVER")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| self.rust_dist_server.clone())
    }

    /// Where the Node.js release keys are (see `keys_dir`).
    pub fn node_keys_dir(&self) -> PathBuf {
        keys_dir(&self.node_keys, "node")
    }

    /// Where Bun's release key is (see `keys_dir`).
    pub fn bun_keys_dir(&self) -> PathBuf {
        keys_dir(&self.bun_keys, "bun")
    }
}

/// A runtime's release keys: the configured directory; or, while it is
/// the default and does not exist, where `make install` put them for this
/// executable's prefix (`<prefix>/share/omg/keys/<runtime>`, e.g. under
/// /usr/local).
fn keys_dir(configured: &str, runtime: &str) -> PathBuf {
    let chosen = PathBuf::from(configured);
    let default = format!("/usr/share/omg/keys/{runtime}");
    if configured != default || chosen.is_dir() {
        return chosen;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .map(|prefix| prefix.join("share/omg/keys").join(runtime))
        .filter(|dir| dir.is_dir())
        .unwrap_or(chosen)
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AurConfig {
    pub url: String,
    pub enabled: bool,
    pub search_timeout_ms: u64,
    pub timeout_ms: u64,
    pub cache_secs: u64,
    /// makepkg runs in a bubblewrap sandbox (see `aur::sandbox`).
    pub sandbox: bool,
    /// How many package bases build at the same time (0: one per core).
    pub jobs: usize,
}

impl Default for AurConfig {
    fn default() -> Self {
        AurConfig {
            url: "https://aur.archlinux.org".into(),
            enabled: true,
            search_timeout_ms: 1500,
            timeout_ms: 10_000,
            cache_secs: 600,
            sandbox: true,
            jobs: 0,
        }
    }
}

impl AurConfig {
    /// How many bases build at once: `jobs`, or the number of cores.
    pub fn build_jobs(&self) -> usize {
        match self.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The AUR's base URL: `$OMG_AUR_URL`, else `url`.
    pub fn base_url(&self) -> String {
        std::env::var("OMG_AUR_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| self.url.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    pub idle_timeout: u64,
    pub refresh_interval: u64,
    pub cache_entries: u64,
    pub question_timeout: u64,
    pub max_connections: u32,
    pub max_connections_per_user: u32,
    pub handshake_timeout: u64,
    pub read_timeout: u64,
    pub write_timeout: u64,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            idle_timeout: 300,
            refresh_interval: 6 * 3600,
            cache_entries: 1024,
            question_timeout: 600,
            max_connections: 256,
            max_connections_per_user: 32,
            handshake_timeout: 5,
            read_timeout: 120,
            write_timeout: 30,
        }
    }
}

impl DaemonConfig {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout)
    }

    pub fn refresh_interval(&self) -> Duration {
        Duration::from_secs(self.refresh_interval.max(1))
    }

    pub fn question_timeout(&self) -> Duration {
        Duration::from_secs(self.question_timeout.max(1))
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout.max(1))
    }

    pub fn read_timeout(&self) -> Duration {
        Duration::from_secs(self.read_timeout.max(1))
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.write_timeout.max(1))
    }
}

impl Config {
    /// Reads `config.toml` from `dir`; a missing file gives the defaults.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let path = dir.join("config.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path,
            message: e.to_string(),
        })
    }
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

    /// The directories of the system instance (run as root by systemd).
    pub fn system() -> Paths {
        let pick =
            |var: &str, default: &str| from_env(var).unwrap_or_else(|| PathBuf::from(default));
        Paths {
            config_dir: pick("OMG_CONFIG_DIR", "/etc/omg"),
            data_dir: pick("OMG_DATA_DIR", "/var/lib/omg"),
            cache_dir: pick("OMG_CACHE_DIR", "/var/cache/omg"),
            runtime_dir: pick("OMG_RUNTIME_DIR", "/run/omg"),
        }
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("omgd.sock")
    }

    /// The embedded database (index snapshot, caches, history).
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("omg.redb")
    }

    /// The status file that `omg-fast` reads.
    pub fn status_file(&self) -> PathBuf {
        self.runtime_dir.join("status.bin")
    }

    /// omg's private copy of `backend`'s package lists (or sync
    /// databases): what `omgd work refresh` and dry runs refresh, never
    /// the system's.
    pub fn private_lists(&self, backend: &str) -> PathBuf {
        self.cache_dir.join("lists").join(backend)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_values_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), Config::default());
        std::fs::write(
            dir.path().join("config.toml"),
            "[daemon]\nidle_timeout = 7\n",
        )
        .unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.daemon.idle_timeout(), Duration::from_secs(7));
        assert_eq!(c.daemon.cache_entries, 1024);
        std::fs::write(
            dir.path().join("config.toml"),
            "[daemon]\nidle_timeut = 7\n",
        )
        .unwrap();
        let e = Config::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("config.toml is not valid") && e.contains("idle_timeut"),
            "{e}"
        );
    }
}
