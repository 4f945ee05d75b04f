//! Reading `pacman.conf` as pacman does: `[options]` and one section per
//! repository, `Include` (with globs) anywhere, `$repo` and `$arch` in
//! servers, `Architecture = auto`, and `SigLevel` tokens layered on the
//! defaults. Two dialects, one per libalpm line: pacman 7 resolves the
//! directories it is given (they must exist) and knows `DownloadUser` and
//! the sandbox switches; pacman 6 takes paths as written and ignores them.
//! The result is plain data; `alpm.rs` applies it to a handle.

use std::path::{Path, PathBuf};

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot resolve {what} {path}: {source}")]
    Resolve {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// How strictly signatures are checked, for packages or databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Never,
    Optional,
    Required,
}

/// One side (packages or databases) of a `SigLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigPolicy {
    pub check: Check,
    /// `TrustAll`: marginal and unknown trust are accepted.
    pub trust_all: bool,
}

/// A complete `SigLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigLevel {
    pub package: SigPolicy,
    pub database: SigPolicy,
}

impl Default for SigLevel {
    /// pacman's built-in default: `Optional` for both, `TrustedOnly`.
    fn default() -> Self {
        let optional = SigPolicy {
            check: Check::Optional,
            trust_all: false,
        };
        SigLevel {
            package: optional,
            database: optional,
        }
    }
}

impl SigLevel {
    /// Applies the tokens of a `SigLevel =` line on top of `self`.
    fn apply(&mut self, value: &str) -> Result<(), String> {
        for token in value.split_whitespace() {
            let (package, database, word) = if let Some(w) = token.strip_prefix("Package") {
                (true, false, w)
            } else if let Some(w) = token.strip_prefix("Database") {
                (false, true, w)
            } else {
                (true, true, token)
            };
            let mut set = |f: &dyn Fn(&mut SigPolicy)| {
                if package {
                    f(&mut self.package);
                }
                if database {
                    f(&mut self.database);
                }
            };
            match word {
                "Never" => set(&|p| p.check = Check::Never),
                "Optional" => set(&|p| p.check = Check::Optional),
                "Required" => set(&|p| p.check = Check::Required),
                "TrustedOnly" => set(&|p| p.trust_all = false),
                "TrustAll" => set(&|p| p.trust_all = true),
                other => return Err(format!("unknown SigLevel token {other:?}")),
            }
        }
        Ok(())
    }
}

/// Which pacman's reading of pacman.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// pacman 6.0 (libalpm 13).
    Pacman6,
    /// pacman 7.1 (libalpm 16).
    Pacman7,
}

impl Dialect {
    /// The dialect of the libalpm this build links.
    #[cfg(feature = "alpm")]
    pub const BUILT: Dialect = Dialect::Pacman6;
    #[cfg(not(feature = "alpm"))]
    pub const BUILT: Dialect = Dialect::Pacman7;
}

/// What a repository is used for (`Usage`; all of it by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub sync: bool,
    pub search: bool,
    pub install: bool,
    pub upgrade: bool,
}

impl Usage {
    pub const ALL: Usage = Usage {
        sync: true,
        search: true,
        install: true,
        upgrade: true,
    };

    fn apply(&mut self, value: &str) -> Result<(), String> {
        for token in value.split_whitespace() {
            match token {
                "Sync" => self.sync = true,
                "Search" => self.search = true,
                "Install" => self.install = true,
                "Upgrade" => self.upgrade = true,
                "All" => *self = Usage::ALL,
                other => return Err(format!("unknown Usage value {other:?}")),
            }
        }
        Ok(())
    }
}

/// One `[repo]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub name: String,
    /// Servers with `$repo` and `$arch` substituted, in order.
    pub servers: Vec<String>,
    pub sig_level: SigLevel,
    pub usage: Usage,
}

/// Everything pacman.conf says, with pacman's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacmanConf {
    pub root_dir: PathBuf,
    pub db_path: PathBuf,
    pub cache_dirs: Vec<PathBuf>,
    pub hook_dirs: Vec<PathBuf>,
    pub gpg_dir: PathBuf,
    pub log_file: PathBuf,
    pub architectures: Vec<String>,
    pub hold_pkg: Vec<String>,
    pub ignore_pkg: Vec<String>,
    pub ignore_group: Vec<String>,
    pub no_upgrade: Vec<String>,
    pub no_extract: Vec<String>,
    pub sig_level: SigLevel,
    pub local_file_sig_level: SigLevel,
    pub remote_file_sig_level: SigLevel,
    pub parallel_downloads: u32,
    pub check_space: bool,
    /// pacman 7: the user downloads run as, in libalpm's sandbox.
    pub download_user: Option<String>,
    /// pacman 7: no landlock filesystem restriction on the download.
    pub disable_sandbox_filesystem: bool,
    /// pacman 7: no seccomp filter on the download.
    pub disable_sandbox_syscalls: bool,
    pub repos: Vec<Repo>,
    /// Every file read (pacman.conf and its includes), for the fingerprint.
    pub files: Vec<PathBuf>,
}

/// Overrides from the command line or omg's own configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub root: Option<PathBuf>,
    pub db_path: Option<PathBuf>,
}

/// The machine's architecture as `uname -m` names it.
fn machine() -> String {
    std::env::consts::ARCH.to_string()
}

struct Raw {
    root_dir: Option<PathBuf>,
    db_path: Option<PathBuf>,
    cache_dirs: Vec<PathBuf>,
    hook_dirs: Vec<PathBuf>,
    gpg_dir: Option<PathBuf>,
    log_file: Option<PathBuf>,
    architectures: Vec<String>,
    hold_pkg: Vec<String>,
    ignore_pkg: Vec<String>,
    ignore_group: Vec<String>,
    no_upgrade: Vec<String>,
    no_extract: Vec<String>,
    sig_level: SigLevel,
    local_file_sig_level: Option<String>,
    remote_file_sig_level: Option<String>,
    parallel_downloads: u32,
    check_space: bool,
    download_user: Option<String>,
    disable_sandbox_filesystem: bool,
    disable_sandbox_syscalls: bool,
    /// Repositories with their raw servers, SigLevel and Usage lines.
    repos: Vec<RawRepo>,
    files: Vec<PathBuf>,
    dialect: Dialect,
}

#[derive(Default)]
struct RawRepo {
    name: String,
    servers: Vec<String>,
    sig_levels: Vec<String>,
    usage: Vec<String>,
}

fn words(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split_whitespace().map(str::to_string)
}

impl Raw {
    fn read(
        &mut self,
        path: &Path,
        section: &mut Option<String>,
        depth: u32,
    ) -> Result<(), ConfError> {
        let invalid = |line: usize, message: String| ConfError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        if depth > 10 {
            return Err(invalid(0, "Include nests more than 10 deep".into()));
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.files.push(path.to_path_buf());
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim();
                if name.is_empty() {
                    return Err(invalid(n, "empty section name".into()));
                }
                if name != "options" && !self.repos.iter().any(|r| r.name == name) {
                    self.repos.push(RawRepo {
                        name: name.to_string(),
                        ..RawRepo::default()
                    });
                }
                *section = Some(name.to_string());
                continue;
            }
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (line, ""),
            };
            let Some(current) = section.clone() else {
                return Err(invalid(n, format!("{key} outside of a section")));
            };
            if key == "Include" {
                let mut matched = false;
                let mut paths: Vec<PathBuf> = glob_paths(value);
                paths.sort();
                for include in paths {
                    matched = true;
                    self.read(&include, section, depth + 1)?;
                }
                if !matched {
                    return Err(invalid(n, format!("Include {value}: no such file")));
                }
                continue;
            }
            if current == "options" {
                self.option(key, value).map_err(|m| invalid(n, m))?;
            } else {
                let repo = self
                    .repos
                    .iter_mut()
                    .find(|r| r.name == current)
                    .expect("sections are registered when opened");
                match key {
                    "Server" => repo.servers.push(value.to_string()),
                    "SigLevel" => repo.sig_levels.push(value.to_string()),
                    "Usage" => repo.usage.push(value.to_string()),
                    // Servers of cached packages only (pacman 7): not used.
                    "CacheServer" => {}
                    other => {
                        return Err(invalid(
                            n,
                            format!("unknown directive {other} in [{current}]"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A directory as this dialect takes it: pacman 7 resolves it (it
    /// must exist), pacman 6 takes it as written.
    fn dir(&self, key: &str, value: &str) -> Result<PathBuf, String> {
        match self.dialect {
            Dialect::Pacman6 => Ok(value.into()),
            Dialect::Pacman7 => std::fs::canonicalize(value)
                .map_err(|e| format!("cannot resolve {key} {value}: {e}")),
        }
    }

    /// Directories a line may list several of: pacman 6 splits the value
    /// on spaces; pacman 7 resolves it first, so each line names one.
    fn dirs(&self, key: &str, value: &str) -> Result<Vec<PathBuf>, String> {
        match self.dialect {
            Dialect::Pacman6 => Ok(value.split_whitespace().map(PathBuf::from).collect()),
            Dialect::Pacman7 => Ok(vec![self.dir(key, value)?]),
        }
    }

    fn option(&mut self, key: &str, value: &str) -> Result<(), String> {
        let pacman7 = self.dialect == Dialect::Pacman7;
        match key {
            // The first one counts, as in pacman.
            "RootDir" if self.root_dir.is_none() => self.root_dir = Some(self.dir(key, value)?),
            "DBPath" if self.db_path.is_none() => self.db_path = Some(self.dir(key, value)?),
            "GPGDir" if self.gpg_dir.is_none() => self.gpg_dir = Some(self.dir(key, value)?),
            "RootDir" | "DBPath" | "GPGDir" => {}
            "CacheDir" => {
                let dirs = self.dirs(key, value)?;
                self.cache_dirs.extend(dirs);
            }
            "HookDir" => {
                let dirs = self.dirs(key, value)?;
                self.hook_dirs.extend(dirs);
            }
            "DownloadUser" if pacman7 => {
                if value.is_empty() || value.contains('\0') {
                    return Err(format!("DownloadUser {value:?} is not a user name"));
                }
                self.download_user.get_or_insert_with(|| value.to_string());
            }
            "DisableSandbox" if pacman7 => {
                self.disable_sandbox_filesystem = true;
                self.disable_sandbox_syscalls = true;
            }
            "DisableSandboxFilesystem" if pacman7 => self.disable_sandbox_filesystem = true,
            "DisableSandboxSyscalls" if pacman7 => self.disable_sandbox_syscalls = true,
            "LogFile" => self.log_file = Some(value.into()),
            "Architecture" => {
                for arch in value.split_whitespace() {
                    let arch = if arch == "auto" {
                        machine()
                    } else {
                        arch.to_string()
                    };
                    if !self.architectures.contains(&arch) {
                        self.architectures.push(arch);
                    }
                }
            }
            "HoldPkg" => self.hold_pkg.extend(words(value)),
            "IgnorePkg" => self.ignore_pkg.extend(words(value)),
            "IgnoreGroup" => self.ignore_group.extend(words(value)),
            "NoUpgrade" => self.no_upgrade.extend(words(value)),
            "NoExtract" => self.no_extract.extend(words(value)),
            "SigLevel" => self.sig_level.apply(value)?,
            "LocalFileSigLevel" => self.local_file_sig_level = Some(value.into()),
            "RemoteFileSigLevel" => self.remote_file_sig_level = Some(value.into()),
            "ParallelDownloads" => {
                self.parallel_downloads =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("ParallelDownloads must be a positive number, not {value:?}")
                    })?;
            }
            "CheckSpace" => self.check_space = true,
            // Options that only change pacman's own output or behaviour.
            "Color"
            | "NoProgressBar"
            | "VerbosePkgLists"
            | "ILoveCandy"
            | "UseSyslog"
            | "TotalDownload"
            | "DisableDownloadTimeout"
            | "XferCommand"
            | "CleanMethod" => {}
            // pacman 6 warns about pacman 7's options and goes on.
            "DownloadUser"
            | "DisableSandbox"
            | "DisableSandboxFilesystem"
            | "DisableSandboxSyscalls" => {}
            other => return Err(format!("unknown option {other}")),
        }
        Ok(())
    }
}

/// The paths an `Include` value names (a glob pattern or a plain path).
fn glob_paths(pattern: &str) -> Vec<PathBuf> {
    if !pattern.contains(['*', '?', '[']) {
        let p = PathBuf::from(pattern);
        return if p.exists() { vec![p] } else { Vec::new() };
    }
    let pattern = Path::new(pattern);
    let (Some(dir), Some(name)) = (
        pattern.parent(),
        pattern.file_name().and_then(|n| n.to_str()),
    ) else {
        return Vec::new();
    };
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|f| wildcard(name, f)))
        .map(|e| e.path())
        .collect()
}

/// Shell-style matching of `*` and `?` (enough for pacman's Include globs).
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

impl PacmanConf {
    /// Reads `path`, then applies `overrides` as pacman's `--root` and
    /// `--dbpath` would.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<PacmanConf, ConfError> {
        PacmanConf::load_as(Dialect::BUILT, path, overrides)
    }

    /// Reads `path` as `dialect`'s pacman does.
    pub fn load_as(
        dialect: Dialect,
        path: &Path,
        overrides: &Overrides,
    ) -> Result<PacmanConf, ConfError> {
        let mut raw = Raw {
            root_dir: None,
            db_path: None,
            cache_dirs: Vec::new(),
            hook_dirs: Vec::new(),
            gpg_dir: None,
            log_file: None,
            architectures: Vec::new(),
            hold_pkg: Vec::new(),
            ignore_pkg: Vec::new(),
            ignore_group: Vec::new(),
            no_upgrade: Vec::new(),
            no_extract: Vec::new(),
            sig_level: SigLevel::default(),
            local_file_sig_level: None,
            remote_file_sig_level: None,
            parallel_downloads: 1,
            check_space: false,
            download_user: None,
            disable_sandbox_filesystem: false,
            disable_sandbox_syscalls: false,
            repos: Vec::new(),
            files: Vec::new(),
            dialect,
        };
        raw.read(path, &mut None, 0)?;
        let invalid = |message: String| ConfError::Invalid {
            path: path.to_path_buf(),
            line: 0,
            message,
        };

        // `--root` and `--dbpath` as pacman takes them (pacman 7 resolves
        // them too).
        let given = |what: &'static str, path: &Option<PathBuf>| match (path, dialect) {
            (None, _) => Ok(None),
            (Some(p), Dialect::Pacman6) => Ok(Some(p.clone())),
            (Some(p), Dialect::Pacman7) => {
                std::fs::canonicalize(p)
                    .map(Some)
                    .map_err(|source| ConfError::Resolve {
                        what,
                        path: p.clone(),
                        source,
                    })
            }
        };
        let root_override = given("--root", &overrides.root)?;
        let db_override = given("--dbpath", &overrides.db_path)?;
        let root_dir = root_override
            .or(raw.root_dir.clone())
            .unwrap_or_else(|| PathBuf::from("/"));
        // As pacman: without an explicit path, the database and the log
        // live inside the root; the cache, hook and GnuPG directories are
        // the host's.
        let in_root = |default: &str| root_dir.join(default.trim_start_matches('/'));
        let db_path = db_override
            .or(raw.db_path.clone())
            .unwrap_or_else(|| in_root("/var/lib/pacman/"));
        let log_file = raw
            .log_file
            .clone()
            .unwrap_or_else(|| in_root("/var/log/pacman.log"));
        let cache_dirs = if raw.cache_dirs.is_empty() {
            vec![PathBuf::from("/var/cache/pacman/pkg/")]
        } else {
            raw.cache_dirs.clone()
        };
        // libalpm's own hook directory is inside the root.
        let mut hook_dirs = vec![in_root("/usr/share/libalpm/hooks/")];
        hook_dirs.extend(if raw.hook_dirs.is_empty() {
            vec![PathBuf::from("/etc/pacman.d/hooks/")]
        } else {
            raw.hook_dirs.clone()
        });
        let gpg_dir = raw
            .gpg_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/pacman.d/gnupg/"));
        let architectures = if raw.architectures.is_empty() {
            vec![machine()]
        } else {
            raw.architectures.clone()
        };
        let derive = |line: &Option<String>| -> Result<SigLevel, ConfError> {
            let mut level = raw.sig_level;
            if let Some(line) = line {
                level.apply(line).map_err(invalid)?;
            }
            Ok(level)
        };
        let local_file_sig_level = derive(&raw.local_file_sig_level)?;
        let remote_file_sig_level = derive(&raw.remote_file_sig_level)?;
        let arch = architectures[0].clone();
        let repos = raw
            .repos
            .iter()
            .map(|repo| {
                let mut sig_level = raw.sig_level;
                for line in &repo.sig_levels {
                    sig_level.apply(line).map_err(invalid)?;
                }
                let mut usage = if repo.usage.is_empty() {
                    Usage::ALL
                } else {
                    Usage::default()
                };
                for line in &repo.usage {
                    usage.apply(line).map_err(invalid)?;
                }
                let name = &repo.name;
                Ok(Repo {
                    name: name.clone(),
                    servers: repo
                        .servers
                        .iter()
                        .map(|s| s.replace("$repo", name).replace("$arch", &arch))
                        .collect(),
                    sig_level,
                    usage,
                })
            })
            .collect::<Result<Vec<_>, ConfError>>()?;
        Ok(PacmanConf {
            root_dir,
            db_path,
            cache_dirs,
            hook_dirs,
            gpg_dir,
            log_file,
            architectures,
            hold_pkg: raw.hold_pkg,
            ignore_pkg: raw.ignore_pkg,
            ignore_group: raw.ignore_group,
            no_upgrade: raw.no_upgrade,
            no_extract: raw.no_extract,
            sig_level: raw.sig_level,
            local_file_sig_level,
            remote_file_sig_level,
            parallel_downloads: raw.parallel_downloads,
            check_space: raw.check_space,
            download_user: raw.download_user,
            disable_sandbox_filesystem: raw.disable_sandbox_filesystem,
            disable_sandbox_syscalls: raw.disable_sandbox_syscalls,
            repos,
            files: raw.files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("tests/fixtures/upstream")
            .join(rel);
        assert!(p.exists(), "{} is missing", p.display());
        p
    }

    #[test]
    fn reads_arch_stock_configuration_with_includes() {
        let stock = fixture("pacman/pacman.conf.archiso-releng");
        let dir = tempfile::tempdir().unwrap();
        let mirrorlist = dir.path().join("mirrorlist");
        std::fs::write(&mirrorlist, "## Worldwide\nServer = https://geo.mirror.pkgbuild.com/$repo/os/$arch\nServer = https://mirror.example/$repo/$arch\n").unwrap();
        let conf_path = dir.path().join("pacman.conf");
        let text = std::fs::read_to_string(stock).unwrap().replace(
            "/etc/pacman.d/mirrorlist",
            &mirrorlist.display().to_string(),
        );
        std::fs::write(&conf_path, text).unwrap();

        let conf = PacmanConf::load(&conf_path, &Overrides::default()).unwrap();
        assert_eq!(conf.hold_pkg, ["pacman", "glibc"]);
        assert_eq!(conf.architectures, [std::env::consts::ARCH]);
        assert_eq!(conf.parallel_downloads, 5);
        assert_eq!(conf.sig_level.package.check, Check::Required);
        assert_eq!(conf.sig_level.database.check, Check::Optional);
        assert_eq!(conf.local_file_sig_level.package.check, Check::Optional);
        let names: Vec<_> = conf.repos.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["core", "extra"]);
        assert_eq!(
            conf.repos[1].servers[0],
            format!(
                "https://geo.mirror.pkgbuild.com/extra/os/{}",
                std::env::consts::ARCH
            )
        );
        assert_eq!(conf.db_path, PathBuf::from("/var/lib/pacman/"));
        assert_eq!(conf.files.len(), 3, "pacman.conf and the mirrorlist twice");

        let conf = PacmanConf::load(
            &conf_path,
            &Overrides {
                root: Some("/mnt".into()),
                db_path: None,
            },
        )
        .unwrap();
        // As pacman-conf --root says: the database and the log move into
        // the root, the cache and the hooks stay the host's.
        assert_eq!(conf.db_path, PathBuf::from("/mnt/var/lib/pacman/"));
        assert_eq!(conf.log_file, PathBuf::from("/mnt/var/log/pacman.log"));
        assert_eq!(conf.cache_dirs, [PathBuf::from("/var/cache/pacman/pkg/")]);
        assert_eq!(
            conf.hook_dirs[0],
            PathBuf::from("/mnt/usr/share/libalpm/hooks/")
        );
        assert_eq!(conf.hook_dirs[1], PathBuf::from("/etc/pacman.d/hooks/"));
    }

    #[test]
    fn options_siglevels_globs_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("conf.d/a.conf"),
            "[extra2]\nServer = file:///srv/$repo\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("conf.d/b.txt"),
            "garbage that must not be read\n",
        )
        .unwrap();
        let conf_path = dir.path().join("pacman.conf");
        std::fs::write(
            &conf_path,
            format!(
                "[options]\nRootDir = /r\nDBPath = /d/\nCacheDir = /c1/ /c2/\nArchitecture = x86_64 x86_64_v3\n\
                 IgnorePkg = linux\nIgnoreGroup = gnome\nNoUpgrade = etc/x\nNoExtract = usr/y\n\
                 SigLevel = Never\nCheckSpace\nColor\n\n[repo1]\nSigLevel = PackageRequired TrustAll\nServer = http://m/$repo/$arch\n\
                 Include = {}/conf.d/*.conf\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let conf = PacmanConf::load(&conf_path, &Overrides::default()).unwrap();
        assert_eq!(conf.root_dir, PathBuf::from("/r"));
        assert_eq!(conf.db_path, PathBuf::from("/d/"));
        assert_eq!(
            conf.cache_dirs,
            [PathBuf::from("/c1/"), PathBuf::from("/c2/")]
        );
        assert_eq!(conf.log_file, PathBuf::from("/r/var/log/pacman.log"));
        assert_eq!(conf.architectures, ["x86_64", "x86_64_v3"]);
        assert_eq!(conf.ignore_pkg, ["linux"]);
        assert_eq!(conf.ignore_group, ["gnome"]);
        assert!(conf.check_space);
        assert_eq!(conf.sig_level.package.check, Check::Never);
        let repo1 = &conf.repos[0];
        assert_eq!(repo1.servers, ["http://m/repo1/x86_64"]);
        assert_eq!(repo1.sig_level.package.check, Check::Required);
        assert!(repo1.sig_level.package.trust_all && repo1.sig_level.database.trust_all);
        assert_eq!(repo1.sig_level.database.check, Check::Never);
        assert_eq!(conf.repos[1].name, "extra2");
        assert_eq!(conf.repos[1].servers, ["file:///srv/extra2"]);

        std::fs::write(&conf_path, "[options]\nSigLevel = Sometimes\n").unwrap();
        let e = PacmanConf::load(&conf_path, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pacman.conf:2") && e.contains("Sometimes"),
            "{e}"
        );
        std::fs::write(&conf_path, "Server = x\n").unwrap();
        assert!(PacmanConf::load(&conf_path, &Overrides::default()).is_err());
        std::fs::write(&conf_path, "[core]\nInclude = /nonexistent/mirrorlist\n").unwrap();
        let e = PacmanConf::load(&conf_path, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such file"), "{e}");
        assert!(
            wildcard("*.conf", "a.conf") && !wildcard("*.conf", "b.txt") && wildcard("a?c", "abc")
        );
    }
}
