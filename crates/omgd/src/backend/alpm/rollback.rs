//! Where the versions a rollback goes back to come from on Arch, in the
//! order pacman users reach for them: a repository that still has the
//! version, a package file in `CacheDir`, then the Arch Linux Archive
//! (`<archive>/packages/<first letter>/<name>/`, its directory listing
//! read for the file; libalpm downloads it and its signature into the
//! cache and checks it as `pacman -U URL` does). Package files of
//! packages no repository carries (AUR builds) are kept in the cache
//! once installed, so that they are found there too.

use std::path::Path;

use super::libalpm::Alpm;
use crate::backend::pacman_conf::PacmanConf;
use omg::transaction::{Level, RevertStep, TxChannel, TxError};

/// What the rollback adds and removes.
#[derive(Debug, Default)]
pub(super) struct Resolution {
    /// Install targets as `add_targets` reads them: `repo/name` or a
    /// package file.
    pub targets: Vec<String>,
    /// Package files just downloaded from the archive (checked against
    /// RemoteFileSigLevel, as `pacman -U URL` checks them).
    pub downloaded: Vec<String>,
    /// Packages to remove.
    pub removals: Vec<String>,
    /// Packages the archive has, when nothing was downloaded (a dry run):
    /// (name, version, URL).
    pub from_archive: Vec<(String, String, String)>,
    /// Reinstalled packages and whether they were dependencies.
    pub reasons: Vec<(String, bool)>,
}

/// Finds a source for every version `steps` go back to; versions found
/// nowhere are the user's to accept (`partial`) or the end of it.
pub(super) fn resolve(
    handle: &Alpm,
    conf: &PacmanConf,
    steps: &[RevertStep],
    archive: Option<&str>,
    partial: bool,
    download: bool,
    channel: &TxChannel,
) -> Result<Resolution, TxError> {
    let mut out = Resolution::default();
    let mut missing = Vec::new();
    let mut to_fetch = Vec::new();
    let local = handle.localdb();
    for step in steps {
        let installed = local.pkg(step.name.as_str()).ok();
        let now = installed.map(|p| p.version().to_string());
        omg::transaction::warn_changed_since(
            channel,
            &step.name,
            now.as_deref(),
            step.left.as_deref(),
        );
        let Some(version) = &step.restore else {
            match &installed {
                Some(_) => out.removals.push(step.name.clone()),
                None => channel.message(
                    Level::Info,
                    format!("{} is not installed any more", step.name),
                ),
            }
            continue;
        };
        if installed.is_some_and(|p| p.version().as_str() == version) {
            channel.message(
                Level::Info,
                format!("{} is already at {version}", step.name),
            );
            continue;
        }
        if step.left.is_none() {
            out.reasons.push((step.name.clone(), step.as_dependency));
        }
        let in_repo = handle.syncdbs().iter().find(|db| {
            db.pkg(step.name.as_str())
                .is_ok_and(|p| p.version().as_str() == version)
        });
        if let Some(db) = in_repo {
            out.targets.push(format!("{}/{}", db.name(), step.name));
            continue;
        }
        if let Some(file) = in_cache(conf, &step.name, version) {
            out.targets.push(file.display().to_string());
            continue;
        }
        let listed = match archive {
            Some(base) => in_archive(base, &step.name, version, &conf.architectures, channel),
            None => None,
        };
        match listed {
            Some(url) if download => to_fetch.push(url),
            Some(url) => out
                .from_archive
                .push((step.name.clone(), version.clone(), url)),
            None => missing.push(format!("{} {version}", step.name)),
        }
    }
    omg::transaction::accept_partial(
        channel,
        &missing,
        partial,
        "not in a repository, the package cache or the Arch Linux Archive",
    )?;
    if !to_fetch.is_empty() {
        channel.step("downloading from the Arch Linux Archive...");
        let fetched = handle
            .fetch_pkgurl(to_fetch.iter())
            .map_err(|e| TxError::Failed(format!("cannot download from the archive: {e}")))?;
        for path in fetched.iter() {
            out.downloaded.push(path.to_string());
        }
        if out.downloaded.len() < to_fetch.len() {
            return Err(TxError::Failed(
                "the archive's packages did not all arrive".into(),
            ));
        }
    }
    // Say what was missing, not what was empty.
    if out.targets.is_empty()
        && out.downloaded.is_empty()
        && out.removals.is_empty()
        && out.from_archive.is_empty()
    {
        channel.message(Level::Info, "the packages are as they were already");
    }
    Ok(out)
}

/// Whether `file` is the package file of `name` at `version` for one of
/// `arches` (or `any`): `name-version-arch.pkg.tar[.ext]`, no signature,
/// no partial download.
pub(super) fn is_package_file_of(file: &str, name: &str, version: &str, arches: &[String]) -> bool {
    let Some(rest) = file
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(version))
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    let Some((arch, ext)) = rest.split_once(".pkg.tar") else {
        return false;
    };
    let compressed = ext.is_empty() || (ext.starts_with('.') && !ext[1..].contains('.'));
    compressed
        && ext != ".sig"
        && ext != ".part"
        && (arch == "any" || arches.iter().any(|a| a == arch))
}

/// Copies the package files just installed whose package no repository
/// carries (AUR builds, as a rule) into the package cache, with their
/// signatures, so that a rollback or a downgrade finds them there as it
/// finds repository packages. A file of a repository package is left
/// out: pacman would take it for the repository's and find it corrupt.
pub(super) fn keep_foreign_files(
    handle: &Alpm,
    conf: &PacmanConf,
    targets: &[String],
    channel: &TxChannel,
) {
    let Some(cache) = conf.cache_dirs.first() else {
        return;
    };
    for target in targets.iter().filter(|t| super::is_package_file(t)) {
        let path = Path::new(target);
        let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some((name, _)) = omg::auth::client_files::arch_package_file(&file_name) else {
            continue;
        };
        if handle
            .syncdbs()
            .iter()
            .any(|db| db.pkg(name.as_str()).is_ok())
        {
            continue;
        }
        let kept = cache.join(&file_name);
        if kept.exists() {
            continue;
        }
        let copied = std::fs::create_dir_all(cache)
            .and_then(|()| std::fs::copy(path, &kept))
            .and_then(|_| {
                let signature = path.with_file_name(format!("{file_name}.sig"));
                if signature.is_file() {
                    std::fs::copy(&signature, cache.join(format!("{file_name}.sig")))?;
                }
                Ok(())
            });
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&kept);
            channel.message(
                Level::Warning,
                format!(
                    "{file_name} could not be kept in {} ({e}): a rollback will not find it",
                    cache.display()
                ),
            );
        }
    }
}

/// Every package file in the cache directories: (path, package, version,
/// size), read from their names.
pub(super) fn cached_packages(conf: &PacmanConf) -> Vec<(std::path::PathBuf, String, String, u64)> {
    let mut out = Vec::new();
    for dir in &conf.cache_dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            let Some((name, version)) = omg::auth::client_files::arch_package_file(&file) else {
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push((entry.path(), name, version, size));
        }
    }
    out
}

/// The package file in one of the cache directories.
pub(in crate::backend) fn in_cache(
    conf: &PacmanConf,
    name: &str,
    version: &str,
) -> Option<std::path::PathBuf> {
    conf.cache_dirs.iter().find_map(|dir| {
        std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            is_package_file_of(&file, name, version, &conf.architectures).then(|| entry.path())
        })
    })
}

/// The URL of the archived package, from its directory's listing.
fn in_archive(
    base: &str,
    name: &str,
    version: &str,
    arches: &[String],
    channel: &TxChannel,
) -> Option<String> {
    let (dir, listed) = match archive_listing(base, name) {
        Ok(found) => found,
        Err((dir, e)) => {
            channel.message(
                Level::Warning,
                format!("the Arch Linux Archive could not be read ({dir}): {e}"),
            );
            return None;
        }
    };
    let mut files: Vec<String> = listed
        .into_iter()
        .filter(|f| is_package_file_of(f, name, version, arches))
        .collect();
    // zstd (current) before xz (before 2020).
    files.sort_by_key(|f| !f.ends_with(".zst"));
    files.first().map(|f| format!("{dir}{f}"))
}

/// Every version of `name` the Arch Linux Archive keeps for `arches`.
pub(super) fn archive_versions(
    base: &str,
    name: &str,
    arches: &[String],
) -> Result<Vec<String>, String> {
    let (_, listed) = archive_listing(base, name).map_err(|(dir, e)| format!("{dir}: {e}"))?;
    let mut versions: Vec<String> = listed
        .into_iter()
        .filter_map(|file| {
            let (of, version) = omg::auth::client_files::arch_package_file(&file)?;
            (of == name && is_package_file_of(&file, name, &version, arches)).then_some(version)
        })
        .collect();
    versions.dedup();
    Ok(versions)
}

/// The Arch Linux Archive's directory of `name` and the files its listing
/// names; or the directory and why it could not be read.
fn archive_listing(base: &str, name: &str) -> Result<(String, Vec<String>), (String, String)> {
    let first = name.chars().next().map_or('_', |c| c.to_ascii_lowercase());
    let dir = format!("{}/packages/{first}/{name}/", base.trim_end_matches('/'));
    match fetch_text(&dir) {
        Ok(listing) => Ok((dir, hrefs(&listing))),
        Err(e) => Err((dir, e)),
    }
}

/// The targets of `href="…"` in an HTML directory listing, decoded.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(link, _)| link))
        .filter(|link| !link.contains('/'))
        .map(percent_decode)
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One GET on this (backend) thread, through a runtime of its own.
fn fetch_text(url: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        let response = client.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        response.text().await.map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arches() -> Vec<String> {
        vec!["x86_64".to_string()]
    }

    #[test]
    fn package_files_are_told_apart_from_their_neighbours() {
        let yes = |f: &str| is_package_file_of(f, "vim", "9.0.1000-1", &arches());
        assert!(yes("vim-9.0.1000-1-x86_64.pkg.tar.zst"));
        assert!(yes("vim-9.0.1000-1-any.pkg.tar.xz"));
        assert!(!yes("vim-9.0.1000-1-x86_64.pkg.tar.zst.sig"));
        assert!(!yes("vim-9.0.1000-1-x86_64.pkg.tar.zst.part"));
        assert!(!yes("vim-9.0.1000-1-aarch64.pkg.tar.zst"));
        assert!(!yes("vim-9.0.1000-2-x86_64.pkg.tar.zst"));
        assert!(!yes("vim-runtime-9.0.1000-1-x86_64.pkg.tar.zst"));
    }

    #[test]
    fn listings_give_their_decoded_file_links() {
        let html = r#"<html><body><h1>Index of /packages/g/gtk+/</h1><hr><pre><a href="../">../</a>
<a href="gtk%2B-1.2.10-1-x86_64.pkg.tar.zst">gtk+-1.2.10-1-x86_64.pkg.tar.zst</a>   01-Jan-2020 00:00   1234
<a href="gtk%2B-1.2.10-1-x86_64.pkg.tar.zst.sig">gtk+-1.2.10-1-x86_64.pkg.tar.zst.sig</a>
</pre></body></html>"#;
        assert_eq!(
            hrefs(html),
            [
                "gtk+-1.2.10-1-x86_64.pkg.tar.zst",
                "gtk+-1.2.10-1-x86_64.pkg.tar.zst.sig"
            ]
        );
    }
}
