//! Where the versions a rollback goes back to come from on Debian: a
//! source apt still lists the version in, else the `.deb` apt kept in its
//! archive cache (`Dir::Cache::archives`, `name_version_arch.deb`), which
//! the cache is then opened with. Marks the packages as apt-get does for
//! `install name=version` and `remove name`.

use rust_apt::Cache;

use omg::transaction::{Level, RevertStep, TxChannel, TxError};

/// The `.deb` files in the archive cache for the versions no source has.
pub(super) fn archive_files(
    cache: &Cache,
    config: &rust_apt::config::Config,
    steps: &[RevertStep],
) -> Vec<String> {
    let dir =
        std::path::PathBuf::from(config.dir("Dir::Cache::archives", "/var/cache/apt/archives/"));
    let files: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut out = Vec::new();
    for step in steps {
        let Some(version) = &step.restore else {
            continue;
        };
        let listed = cache
            .get(&step.name)
            .and_then(|p| p.get_version(version))
            .is_some_and(|v| v.is_downloadable());
        if listed {
            continue;
        }
        if let Some(file) = files.iter().find(|f| is_deb_of(f, &step.name, version)) {
            let path = dir.join(file);
            let path = std::fs::canonicalize(&path).unwrap_or(path);
            out.push(path.display().to_string());
        }
    }
    out
}

/// Every `.deb` in apt's archive cache: (path, package, version, size),
/// read from names as apt writes them (`name_version_arch.deb`, an
/// epoch's `:` as `%3a`).
pub(super) fn cached_debs(
    config: &rust_apt::config::Config,
) -> Vec<(std::path::PathBuf, String, String, u64)> {
    let dir = config.dir("Dir::Cache::archives", "/var/cache/apt/archives/");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".deb") else {
            continue;
        };
        let parts: Vec<&str> = stem.split('_').collect();
        let [name, version, _arch] = parts[..] else {
            continue;
        };
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        out.push((
            entry.path(),
            name.to_string(),
            version.replace("%3a", ":"),
            size,
        ));
    }
    out
}

/// Whether `file` is `name`'s package file at `version` as apt names the
/// files it downloads (`:` of an epoch written `%3a`).
pub(super) fn is_deb_of(file: &str, name: &str, version: &str) -> bool {
    let escaped = version.replace(':', "%3a");
    file.strip_prefix(name)
        .and_then(|r| r.strip_prefix('_'))
        .and_then(|r| r.strip_prefix(escaped.as_str()))
        .and_then(|r| r.strip_prefix('_'))
        .and_then(|r| r.strip_suffix(".deb"))
        .is_some_and(|arch| !arch.is_empty() && !arch.contains('_'))
}

/// Marks every step: the old version installed (downgraded, or installed
/// again with the mark it had), what the transaction installed removed.
/// Versions found nowhere are the user's to accept (`partial`).
pub(super) fn mark(
    cache: &Cache,
    steps: &[RevertStep],
    archived: &[String],
    partial: bool,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let mut missing = Vec::new();
    for step in steps {
        let pkg = cache.get(&step.name);
        let installed = pkg.as_ref().and_then(|p| p.installed());
        let now = installed.as_ref().map(|v| v.version().to_string());
        omg::transaction::warn_changed_since(
            channel,
            &step.name,
            now.as_deref(),
            step.left.as_deref(),
        );
        let Some(version) = &step.restore else {
            match pkg {
                Some(pkg) if pkg.is_installed() => {
                    pkg.mark_delete(false);
                    pkg.protect();
                }
                _ => channel.message(
                    Level::Info,
                    format!("{} is not installed any more", step.name),
                ),
            }
            continue;
        };
        if now.as_deref() == Some(version.as_str()) {
            channel.message(
                Level::Info,
                format!("{} is already at {version}", step.name),
            );
            continue;
        }
        let found = pkg.as_ref().and_then(|p| {
            p.versions().find(|v| {
                v.version() == version
                    && (v.is_downloadable()
                        || v.package_files().any(|f| {
                            f.filename()
                                .is_some_and(|n| archived.iter().any(|a| a == n))
                        }))
            })
        });
        let (Some(pkg), Some(found)) = (pkg, found) else {
            missing.push(format!("{} {version}", step.name));
            continue;
        };
        // apt makes a package named by the user manual; a rollback keeps
        // the mark an installed package has, and gives a removed one back
        // the mark it had.
        let auto = if step.left.is_some() && installed.is_some() {
            pkg.is_auto_installed()
        } else {
            step.as_dependency
        };
        found.set_candidate();
        pkg.mark_install(true, true);
        pkg.protect();
        pkg.mark_auto(auto);
    }
    omg::transaction::accept_partial(
        channel,
        &missing,
        partial,
        "no source lists it and it is not in apt's archive cache",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_file_names_are_matched_as_apt_writes_them() {
        assert!(is_deb_of(
            "vim_2%3a9.0.1378-2_amd64.deb",
            "vim",
            "2:9.0.1378-2"
        ));
        assert!(is_deb_of("omg-lib_1.0_all.deb", "omg-lib", "1.0"));
        assert!(!is_deb_of("omg-lib_1.0_all.deb", "omg", "lib_1.0"));
        assert!(!is_deb_of("omg-lib_1.0.1_all.deb", "omg-lib", "1.0"));
        assert!(!is_deb_of("omg-lib_1.0_all.deb.part", "omg-lib", "1.0"));
    }
}
