//! Ruby, the way rbenv's ruby-build gets it: releases and their checksums
//! from a list in the format of cache.ruby-lang.org's `index.txt` (name,
//! url, sha1, sha256, sha512, tab-separated), the source tarball checked
//! against its SHA-256, then `./configure && make && make install` into a
//! staging root that becomes `versions/ruby/<version>` only once the
//! build is complete. The build's output goes to a log in the downloads
//! directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::archive;
use super::installer::{InstallError, Installer, Lock};

/// The upstream the index's URLs point at; re-rooted on the index's own
/// directory when the index comes from a mirror.
const UPSTREAM: &str = "https://cache.ruby-lang.org/pub/ruby/";

/// A source release in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: semver::Version,
    pub url: String,
    pub sha256: String,
}

/// The `.tar.gz` releases of CRuby in `index.txt` text (previews and
/// release candidates included as pre-releases).
pub fn parse_index(text: &str) -> Vec<Release> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let [name, url, _sha1, sha256, ..] = fields[..] else {
                return None;
            };
            let version = name.strip_prefix("ruby-")?;
            if !url.ends_with(&format!("{name}.tar.gz")) || sha256.len() != 64 {
                return None;
            }
            let version = semver::Version::parse(version).ok()?;
            Some(Release {
                version,
                url: url.to_string(),
                sha256: sha256.to_ascii_lowercase(),
            })
        })
        .collect()
}

/// The newest release `request` matches: exact (`3.3.0`), partial (`3.3`,
/// `3`), or `latest`/`stable` (newest without a pre-release tag).
pub fn resolve<'a>(releases: &'a [Release], request: &str) -> Option<&'a Release> {
    let request = request.trim();
    let request = request.strip_prefix("ruby-").unwrap_or(request);
    if let Ok(exact) = semver::Version::parse(request) {
        return releases.iter().find(|r| r.version == exact);
    }
    let wanted: Vec<u64> = match request {
        "latest" | "stable" | "" => Vec::new(),
        partial => partial
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u64>>>()?,
    };
    if wanted.len() > 2 {
        return None;
    }
    releases
        .iter()
        .filter(|r| r.version.pre.is_empty())
        .filter(|r| {
            let have = [r.version.major, r.version.minor];
            wanted.iter().zip(have).all(|(w, h)| *w == h)
        })
        .max_by(|a, b| a.version.cmp(&b.version))
}

/// `url` moved from the official server to the directory of `index`.
fn rehome(url: &str, index: &str) -> String {
    match (url.strip_prefix(UPSTREAM), index.rsplit_once('/')) {
        (Some(rest), Some((base, _))) if !index.starts_with(UPSTREAM) => format!("{base}/{rest}"),
        _ => url.to_string(),
    }
}

/// Downloads, checks, builds and installs the Ruby release `request`
/// names from the list at `index`.
pub async fn install(
    inst: &mut Installer<'_>,
    index: &str,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    inst.step("reading the Ruby release list");
    let text = inst.text(index).await?;
    let releases = parse_index(&text);
    if releases.is_empty() {
        return Err(InstallError::Fetch {
            what: index.into(),
            message: "no Ruby release in it (not cache.ruby-lang.org's index.txt format?)".into(),
        });
    }
    let release = resolve(&releases, request).ok_or_else(|| InstallError::NoMatch {
        runtime: "ruby".into(),
        request: request.into(),
    })?;
    let version = release.version.to_string();
    let dir = inst.versions.join("ruby");
    let target = dir.join(&version);
    let _lock = Lock::take(&dir, &version)?;
    if target.is_dir() {
        return Ok((version, target));
    }
    let file = format!("ruby-{version}.tar.gz");
    let url = rehome(&release.url, index);
    let archive_path = inst
        .fetch_verified(&url, &file, Some(&release.sha256))
        .await?;

    let build_dir = inst.downloads.join(format!("ruby-{version}.build"));
    let log_path = inst.downloads.join(format!("ruby-{version}.build.log"));
    let _ = std::fs::remove_dir_all(&build_dir);
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |source| InstallError::Io {
            context: format!("cannot prepare {what}"),
            source,
        }
    };
    std::fs::create_dir_all(&build_dir).map_err(io(&build_dir))?;
    inst.step("unpacking the source");
    let reader = std::fs::File::open(&archive_path).map_err(io(&archive_path))?;
    let source = build_dir.join("src");
    archive::unpack_tar_gz(reader, &source)?;
    let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;

    let result = build(
        inst, &source, &build_dir, &target, &log, &log_path, &version,
    )
    .await;
    let _ = std::fs::remove_dir_all(&build_dir);
    if result.is_ok() {
        let _ = std::fs::remove_file(&archive_path);
        let _ = std::fs::remove_file(&log_path);
        super::installer::write_receipt(&target, Some(&release.sha256), &url);
    }
    result.map(|()| (version, target))
}

/// configure, make, make install into `<build>/root`, then the installed
/// prefix is renamed to `target`.
async fn build(
    inst: &mut Installer<'_>,
    source: &Path,
    build_dir: &Path,
    target: &Path,
    log: &std::fs::File,
    log_path: &Path,
    version: &str,
) -> Result<(), InstallError> {
    let root = build_dir.join("root");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let prefix = format!("--prefix={}", target.display());
    let destdir = format!("DESTDIR={}", root.display());
    let jobs = format!("-j{jobs}");
    let steps: [(&str, &str, Vec<&str>); 3] = [
        (
            "configuring",
            "./configure",
            vec![&prefix, "--disable-install-doc", "--enable-shared"],
        ),
        ("compiling", "make", vec![&jobs]),
        ("installing", "make", vec!["install", &destdir]),
    ];
    for (step, program, args) in steps {
        inst.step(step);
        let output = log.try_clone().map_err(|source| InstallError::Io {
            context: format!("cannot write {}", log_path.display()),
            source,
        })?;
        let errors = log.try_clone().map_err(|source| InstallError::Io {
            context: format!("cannot write {}", log_path.display()),
            source,
        })?;
        let status = tokio::process::Command::new(program)
            .args(&args)
            .current_dir(source)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .kill_on_drop(true)
            .status()
            .await;
        let failed = match status {
            Ok(s) if s.success() => continue,
            Ok(s) => format!("{program} {} ended with {s}", args.join(" ")),
            Err(e) => format!("cannot run {program}: {e}"),
        };
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        return Err(InstallError::Build {
            what: format!("ruby {version}"),
            step: failed,
            log: log_path.to_path_buf(),
            tail,
        });
    }
    // make install wrote <root>/<target>; it becomes the version at once.
    let installed = root.join(target.strip_prefix("/").unwrap_or(target));
    if !installed.join("bin/ruby").is_file() {
        return Err(InstallError::Build {
            what: format!("ruby {version}"),
            step: format!(
                "make install left no {}",
                installed.join("bin/ruby").display()
            ),
            log: log_path.to_path_buf(),
            tail: String::new(),
        });
    }
    std::fs::rename(&installed, target).map_err(|source| InstallError::Io {
        context: format!("cannot move the build to {}", target.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "name\turl\tsha1\tsha256\tsha512\n\
ruby-3.2.4\thttps://cache.ruby-lang.org/pub/ruby/3.2/ruby-3.2.4.tar.gz\tx\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ty\n\
ruby-3.3.0\thttps://cache.ruby-lang.org/pub/ruby/3.3/ruby-3.3.0.tar.gz\tx\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\ty\n\
ruby-3.3.0\thttps://cache.ruby-lang.org/pub/ruby/3.3/ruby-3.3.0.tar.xz\tx\tcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\ty\n\
ruby-3.3.1\thttps://cache.ruby-lang.org/pub/ruby/3.3/ruby-3.3.1.tar.gz\tx\tdddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\ty\n\
ruby-3.4.0-preview1\thttps://cache.ruby-lang.org/pub/ruby/3.4/ruby-3.4.0-preview1.tar.gz\tx\teeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\ty\n";

    #[test]
    fn the_index_gives_gzipped_sources_and_requests_pick_the_newest_match() {
        let releases = parse_index(INDEX);
        assert_eq!(
            releases.len(),
            4,
            "the .tar.xz row and the header are skipped"
        );
        let pick = |r: &str| resolve(&releases, r).map(|r| r.version.to_string());
        assert_eq!(pick("3.3").as_deref(), Some("3.3.1"));
        assert_eq!(pick("3.3.0").as_deref(), Some("3.3.0"));
        assert_eq!(pick("ruby-3.2.4").as_deref(), Some("3.2.4"));
        assert_eq!(pick("latest").as_deref(), Some("3.3.1"), "not the preview");
        assert_eq!(pick("3.4.0-preview1").as_deref(), Some("3.4.0-preview1"));
        assert_eq!(pick("2"), None);
        assert_eq!(resolve(&releases, "3.3.0").unwrap().sha256, "b".repeat(64));
    }

    #[test]
    fn urls_follow_a_mirrored_index() {
        let url = "https://cache.ruby-lang.org/pub/ruby/3.3/ruby-3.3.0.tar.gz";
        assert_eq!(
            rehome(url, "http://127.0.0.1:9/ruby/index.txt"),
            "http://127.0.0.1:9/ruby/3.3/ruby-3.3.0.tar.gz"
        );
        assert_eq!(
            rehome(url, "https://cache.ruby-lang.org/pub/ruby/index.txt"),
            url
        );
    }
}
