//! Building AUR packages as the user: the package base's git repository
//! cloned or brought up to date in the build directory, what changed since
//! the last review, makepkg (in a sandbox, see `sandbox`), and the package
//! files it made.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::buildlog::BuildLog;
use super::sandbox::{Network, Sandbox};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "AUR packages are built by makepkg, which must not run as root: run omg as your own user (it asks for root through sudo to install)"
    )]
    Root,
    #[error("{0:?} is not a valid package base name")]
    BadName(String),
    #[error("fetching {pkgbase} from the AUR failed: {message}")]
    Fetch { pkgbase: String, message: String },
    #[error("building {pkgbase} failed (makepkg: {status}); its log: {}", .log.display())]
    Makepkg {
        pkgbase: String,
        status: String,
        log: PathBuf,
    },
    #[error("building {pkgbase} made no package for {}", .missing.join(", "))]
    Missing {
        pkgbase: String,
        missing: Vec<String>,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// Refuses to go on as root.
pub fn refuse_root() -> Result<(), BuildError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        Err(BuildError::Root)
    } else {
        Ok(())
    }
}

/// Whether `name` is a package name as pacman allows them (so it is safe
/// as a directory name and in a URL).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c))
}

pub(super) fn run(command: &mut Command, pkgbase: &str) -> Result<String, BuildError> {
    let output = command.output().map_err(|e| BuildError::Fetch {
        pkgbase: pkgbase.into(),
        message: format!("cannot run {:?}: {e}", command.get_program()),
    })?;
    if !output.status.success() {
        return Err(BuildError::Fetch {
            pkgbase: pkgbase.into(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

pub(super) fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir);
    c
}

/// Clones `pkgbase`'s repository from the AUR at `aur` into
/// `cache/<pkgbase>`, or brings an existing clone up to date (local edits
/// are thrown away: what is built is what the AUR serves).
pub fn fetch(aur: &str, pkgbase: &str, cache: &Path) -> Result<PathBuf, BuildError> {
    if !valid_name(pkgbase) {
        return Err(BuildError::BadName(pkgbase.into()));
    }
    std::fs::create_dir_all(cache).map_err(|source| BuildError::Io {
        context: format!("cannot create {}", cache.display()),
        source,
    })?;
    let dir = cache.join(pkgbase);
    let url = format!("{}/{pkgbase}.git", aur.trim_end_matches('/'));
    if dir.join(".git").is_dir() {
        run(git(&dir).args(["fetch", "--quiet", &url]), pkgbase)?;
        run(
            git(&dir).args(["reset", "--quiet", "--hard", "FETCH_HEAD"]),
            pkgbase,
        )?;
    } else {
        let _ = std::fs::remove_dir_all(&dir);
        run(
            Command::new("git")
                .args(["clone", "--quiet", &url])
                .arg(&dir),
            pkgbase,
        )?;
    }
    if !dir.join("PKGBUILD").is_file() {
        return Err(BuildError::Fetch {
            pkgbase: pkgbase.into(),
            message: "the repository has no PKGBUILD".into(),
        });
    }
    Ok(dir)
}

/// The commit checked out in `dir`.
pub fn head(dir: &Path) -> Result<String, BuildError> {
    let name = dir
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    Ok(run(git(dir).args(["rev-parse", "HEAD"]), &name)?
        .trim()
        .to_string())
}

fn reviewed_file(dir: &Path) -> PathBuf {
    dir.join(".git").join("omg-reviewed")
}

fn reviewed_maintainer_file(dir: &Path) -> PathBuf {
    dir.join(".git").join("omg-reviewed-maintainer")
}

/// The commit the user last reviewed, if any.
pub fn reviewed(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(reviewed_file(dir)).ok()?;
    let commit = text.trim();
    (!commit.is_empty()).then(|| commit.to_string())
}

/// Who maintained the base in the AUR at the last review: `None` when
/// that was not recorded, `Some(None)` for an orphan.
pub fn reviewed_maintainer(dir: &Path) -> Option<Option<String>> {
    let text = std::fs::read_to_string(reviewed_maintainer_file(dir)).ok()?;
    let name = text.trim();
    Some((!name.is_empty()).then(|| name.to_string()))
}

/// What to show before building: the changes since the commit last
/// reviewed, or (first time) the PKGBUILD and install scripts whole.
pub fn review_text(dir: &Path) -> Result<String, BuildError> {
    let name = dir
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let head = head(dir)?;
    if let Some(reviewed) = reviewed(dir) {
        if reviewed == head {
            return Ok(String::new());
        }
        if let Ok(diff) = run(git(dir).args(["diff", &reviewed, &head, "--"]), &name) {
            return Ok(diff);
        }
    }
    let mut text = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| BuildError::Io {
            context: format!("cannot read {}", dir.display()),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| n == "PKGBUILD")
                || p.extension().is_some_and(|e| e == "install")
        })
        .collect();
    files.sort();
    for file in files {
        let body = std::fs::read_to_string(&file).unwrap_or_default();
        text.push_str(&format!(
            "==> {}\n{body}\n",
            file.file_name().unwrap_or_default().to_string_lossy()
        ));
    }
    Ok(text)
}

/// Remembers that the user has reviewed what is checked out, and who
/// maintained it then (`Some(None)`: nobody; `None`: not known, the last
/// record stays).
pub fn mark_reviewed(dir: &Path, maintainer: Option<Option<&str>>) -> Result<(), BuildError> {
    let head = head(dir)?;
    std::fs::write(reviewed_file(dir), head)
        .and_then(|()| match maintainer {
            Some(name) => std::fs::write(reviewed_maintainer_file(dir), name.unwrap_or_default()),
            None => Ok(()),
        })
        .map_err(|source| BuildError::Io {
            context: "cannot record the review".into(),
            source,
        })
}

/// Runs makepkg in `dir`, packages going to `dir/built` (`pkg` is
/// makepkg's own), its output into `log`. `nodeps`: leave
/// the dependency check out (when building for another root, whose
/// database makepkg cannot see; omg installed the dependencies there).
pub fn makepkg(
    dir: &Path,
    pkgbase: &str,
    nodeps: bool,
    signatures_checked: bool,
    sandbox: Option<&Sandbox>,
    log: &BuildLog,
) -> Result<(), BuildError> {
    refuse_root()?;
    let pkgdest = dir.join("built");
    std::fs::create_dir_all(&pkgdest).map_err(|source| BuildError::Io {
        context: format!("cannot create {}", pkgdest.display()),
        source,
    })?;
    let mut command = makepkg_in(dir, sandbox, Network::Denied)?;
    command
        // The sources are there (`download_sources`): VCS sources are not
        // fetched again, as the build has no network.
        .args(["--force", "--cleanbuild", "--noconfirm", "--holdver"])
        .env("PKGDEST", &pkgdest)
        .env("SRCDEST", dir);
    if nodeps {
        command.arg("--nodeps");
    }
    if signatures_checked {
        // omg checked them (sequoia, the user's trusted keys).
        command.arg("--skippgpcheck");
    }
    let sandboxed = sandbox.is_some();
    run_makepkg(command, "build", pkgbase, log, |status| {
        if sandboxed {
            format!(
                "{status}; it ran in a sandbox, without the network and with nothing writable but its build directory and a private home: its output above names what it tried"
            )
        } else {
            status.to_string()
        }
    })
}

/// makepkg, to run in `dir`: in the sandbox when there is one.
fn makepkg_in(
    dir: &Path,
    sandbox: Option<&Sandbox>,
    network: Network,
) -> Result<Command, BuildError> {
    match sandbox {
        None => {
            let mut command = Command::new("makepkg");
            command.current_dir(dir);
            Ok(command)
        }
        Some(sandbox) => {
            sandbox
                .command(dir, "makepkg", network)
                .map_err(|source| BuildError::Io {
                    context: "cannot prepare the build's sandbox".into(),
                    source,
                })
        }
    }
}

/// Runs makepkg as `step`, its output into `log`; `failed` says what a
/// non-zero exit means.
fn run_makepkg(
    command: Command,
    step: &str,
    pkgbase: &str,
    log: &BuildLog,
    failed: impl FnOnce(std::process::ExitStatus) -> String,
) -> Result<(), BuildError> {
    let error = |status: String| BuildError::Makepkg {
        pkgbase: pkgbase.into(),
        status,
        log: log.path().to_path_buf(),
    };
    let status = log
        .run(step, command)
        .map_err(|e| error(format!("cannot run makepkg: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(error(failed(status)))
    }
}

/// The `.SRCINFO` of the PKGBUILD in `dir`, as makepkg prints it (the
/// checked-out PKGBUILD, whatever the repository's `.SRCINFO` says).
pub fn srcinfo(
    dir: &Path,
    pkgbase: &str,
    sandbox: Option<&Sandbox>,
) -> Result<super::srcinfo::Srcinfo, BuildError> {
    let text = run(
        makepkg_in(dir, sandbox, Network::Denied)?.arg("--printsrcinfo"),
        pkgbase,
    )?;
    super::srcinfo::Srcinfo::parse(&text).map_err(|e| BuildError::Fetch {
        pkgbase: pkgbase.into(),
        message: e.to_string(),
    })
}

/// The file a source entry is saved as (`name::url`, else the URL's last
/// part).
fn source_file(entry: &str) -> &str {
    match entry.split_once("::") {
        Some((name, _)) => name,
        None => entry.rsplit('/').next().unwrap_or(entry),
    }
}

/// What makepkg takes for a detached signature of the file named without it.
pub const SIGNATURE_EXTENSIONS: &[&str] = &[".sig", ".asc", ".sign"];

/// Each signed source as (data file, signature file), by makepkg's rule: a
/// source `x.sig` (or `.asc`, `.sign`) signs the source saved as `x`.
pub fn signed_sources(info: &super::srcinfo::Srcinfo) -> Vec<(String, String)> {
    let sources = info.base_values("source", std::env::consts::ARCH);
    let files: Vec<&str> = sources.iter().map(|s| source_file(s)).collect();
    files
        .iter()
        .filter_map(|sig| {
            let data = SIGNATURE_EXTENSIONS
                .iter()
                .find_map(|ext| sig.strip_suffix(ext))?;
            files
                .contains(&data)
                .then(|| (data.to_string(), sig.to_string()))
        })
        .collect()
}

/// Downloads the sources into `dir` and checks their checksums (makepkg
/// `--verifysource`), leaving signatures to omg; the output into `log`.
pub fn download_sources(
    dir: &Path,
    pkgbase: &str,
    sandbox: Option<&Sandbox>,
    log: &BuildLog,
) -> Result<(), BuildError> {
    refuse_root()?;
    let mut command = makepkg_in(dir, sandbox, Network::Allowed)?;
    command
        .args(["--verifysource", "--skippgpcheck", "--noconfirm"])
        .env("SRCDEST", dir);
    run_makepkg(command, "download", pkgbase, log, |status| {
        format!("sources could not be fetched or verified ({status})")
    })
}

/// The files makepkg made for the packages `wanted` of this base.
pub fn packages(
    dir: &Path,
    pkgbase: &str,
    wanted: &[String],
    sandbox: Option<&Sandbox>,
) -> Result<Vec<PathBuf>, BuildError> {
    let listed = run(
        makepkg_in(dir, sandbox, Network::Denied)?
            .arg("--packagelist")
            .env("PKGDEST", dir.join("built")),
        pkgbase,
    )?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in wanted {
        let file = listed.lines().map(PathBuf::from).find(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|f| {
                        crate::auth::client_files::arch_package_name(&f.to_string_lossy())
                            .map(|n| n == name)
                    })
                    .unwrap_or(false)
        });
        match file {
            Some(f) => found.push(f),
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(BuildError::Missing {
            pkgbase: pkgbase.into(),
            missing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_they_become_paths() {
        assert!(valid_name("jellyfin-server"));
        assert!(valid_name("libc++"));
        assert!(!valid_name("../etc"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("-rf"));
        assert!(!valid_name(""));
    }

    #[test]
    fn signed_sources_pair_up_as_makepkg_pairs_them() {
        let info = super::super::srcinfo::Srcinfo::parse(
            "pkgbase = a\n\tpkgver = 1\n\tpkgrel = 1\n\tsource = https://x.org/a-1.tar.gz\n\tsource = https://x.org/a-1.tar.gz.sig\n\tsource = b.txt::https://y.org/b\n\tsource = b.txt.asc::https://y.org/b.asc\n\tsource = lonely.sig\n\npkgname = a\n",
        )
        .unwrap();
        assert_eq!(
            signed_sources(&info),
            [
                ("a-1.tar.gz".to_string(), "a-1.tar.gz.sig".to_string()),
                ("b.txt".to_string(), "b.txt.asc".to_string())
            ]
        );
    }
}
