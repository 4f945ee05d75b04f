//! The versions an AUR package base has had: its git repository's
//! history of `.SRCINFO` (which the AUR requires in every commit), read
//! from a clone, so that `omg downgrade` can offer them and build one.

use std::path::Path;
use std::process::Command;

use super::build::BuildError;
use super::srcinfo::Srcinfo;

/// One version of a package as a commit of its base published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastVersion {
    pub version: String,
    /// The newest commit that published this version.
    pub commit: String,
}

/// `git -C dir ARGS`, its output (an error names the base the clone is of).
fn git(dir: &Path, args: &[&str]) -> Result<String, BuildError> {
    let base = dir
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    super::build::run(super::build::git(dir).args(args), &base)
}

/// Every version of `name` the clone in `dir` has published, newest
/// commit first, each once (at the newest commit whose `.SRCINFO` says
/// it: a later fix of the PKGBUILD without a new pkgrel is the one to
/// build). Commits whose `.SRCINFO` is missing, unreadable or without
/// `name` are passed over.
pub fn past_versions(dir: &Path, name: &str) -> Result<Vec<PastVersion>, BuildError> {
    let log = git(dir, &["log", "--format=%H", "HEAD"])?;
    let commits: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let texts = srcinfo_at(dir, &commits)?;
    let mut out: Vec<PastVersion> = Vec::new();
    for (commit, text) in commits.iter().zip(texts) {
        let Some(Ok(info)) = text.map(|t| Srcinfo::parse(&t)) else {
            continue;
        };
        if !info.names().any(|n| n == name) {
            continue;
        }
        let version = info.version();
        if !out.iter().any(|p| p.version == version) {
            out.push(PastVersion {
                version,
                commit: commit.to_string(),
            });
        }
    }
    Ok(out)
}

/// The `.SRCINFO` of each commit (none where it has none), read by one
/// `git cat-file --batch`.
fn srcinfo_at(dir: &Path, commits: &[&str]) -> Result<Vec<Option<String>>, BuildError> {
    use std::io::Write;
    let io = |context: &str| {
        let context = context.to_string();
        move |source| BuildError::Io { context, source }
    };
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(io("cannot run git"))?;
    let mut input = String::new();
    for commit in commits {
        input.push_str(&format!("{commit}:.SRCINFO\n"));
    }
    let mut stdin = child.stdin.take().expect("piped");
    // Written from a thread: git answers while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(io("git cat-file"))?;
    let _ = writer.join();
    let mut out = Vec::with_capacity(commits.len());
    let mut rest = output.stdout.as_slice();
    for _ in commits {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            break;
        };
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 1..];
        let size = match header.split(' ').collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse::<usize>().ok(),
            _ => None,
        };
        match size {
            Some(size) if size < rest.len() => {
                out.push(Some(String::from_utf8_lossy(&rest[..size]).into_owned()));
                // The contents, then a newline.
                rest = &rest[size + 1..];
            }
            _ => out.push(None),
        }
    }
    out.resize(commits.len(), None);
    Ok(out)
}

/// Checks `commit` out in the clone in `dir` (the next fetch brings the
/// clone back to the newest).
pub fn check_out(dir: &Path, commit: &str) -> Result<(), BuildError> {
    if commit.is_empty() || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(BuildError::Fetch {
            pkgbase: String::new(),
            message: format!("{commit:?} is not a commit"),
        });
    }
    git(dir, &["checkout", "--quiet", "--force", "--detach", commit])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(dir: &Path, srcinfo: Option<&str>, message: &str) {
        if let Some(text) = srcinfo {
            std::fs::write(dir.join(".SRCINFO"), text).unwrap();
        }
        std::fs::write(dir.join("PKGBUILD"), message).unwrap();
        let run = |args: &[&str]| {
            let status = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success());
        };
        run(&["add", "-A"]);
        run(&["commit", "--quiet", "-m", message]);
    }

    fn srcinfo(ver: &str, rel: &str, names: &[&str]) -> String {
        let mut text = format!("pkgbase = base\n\tpkgver = {ver}\n\tpkgrel = {rel}\n\n");
        for n in names {
            text.push_str(&format!("pkgname = {n}\n\n"));
        }
        text
    }

    #[test]
    fn each_version_once_newest_commit_first_and_only_the_package_asked() {
        let dir = tempfile::tempdir().unwrap();
        Command::new("git")
            .args(["init", "--quiet"])
            .arg(dir.path())
            .status()
            .unwrap();
        commit(dir.path(), Some(&srcinfo("1.0", "1", &["a"])), "one");
        commit(dir.path(), Some(&srcinfo("1.0", "1", &["a"])), "one, fixed");
        commit(dir.path(), Some(&srcinfo("1.1", "1", &["b"])), "only b");
        commit(dir.path(), Some("not a srcinfo"), "broken");
        commit(dir.path(), Some(&srcinfo("2.0", "1", &["a", "b"])), "two");
        let found = past_versions(dir.path(), "a").unwrap();
        let versions: Vec<&str> = found.iter().map(|p| p.version.as_str()).collect();
        assert_eq!(versions, ["2.0-1", "1.0-1"]);
        // 1.0-1 at the fixed commit, not the first.
        let fixed = git(dir.path(), &["rev-parse", "HEAD~3"]).unwrap();
        assert_eq!(found[1].commit, fixed.trim());
        check_out(dir.path(), &found[1].commit).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("PKGBUILD")).unwrap(),
            "one, fixed"
        );
        assert!(check_out(dir.path(), "--help").is_err());
    }
}
