//! Unpacking a runtime's release archive (`.tar.gz`) safely: nothing may
//! land outside the target (no absolute paths, no `..`, no links pointing
//! out), the archive's top directory is dropped, and the result appears at
//! the target only once complete (unpacked beside it, then renamed).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the archive is damaged: {0}")]
    Damaged(String),
    #[error("the archive tries to write outside its directory: {0}")]
    Escapes(String),
    #[error("the archive holds a link that points outside its directory: {link} -> {target}")]
    LinkEscapes { link: String, target: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ExtractError {
    let context = context.into();
    move |source| ExtractError::Io { context, source }
}

/// `path` without its first component, checked to stay inside: only
/// normal components. `None` for the top directory itself.
fn inside(path: &Path) -> Result<Option<PathBuf>, ExtractError> {
    let mut out = PathBuf::new();
    for (i, component) in path.components().enumerate() {
        match component {
            Component::Normal(part) if i > 0 => out.push(part),
            Component::Normal(_) => {}
            Component::CurDir if i == 0 => {}
            _ => return Err(ExtractError::Escapes(path.display().to_string())),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// Whether a link at `link` (relative, inside) pointing at `target` stays
/// inside: resolved lexically from the link's directory.
fn link_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = link.components().count() as i64 - 1;
    for component in target.components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Refuses `relative` (shown as `shown`) when one of the directories on
/// its way from `dest` — and, with `itself`, the path itself — is a
/// symbolic link.
fn through_no_link(
    dest: &Path,
    relative: &Path,
    shown: &Path,
    itself: bool,
) -> Result<(), ExtractError> {
    let mut prefix = dest.to_path_buf();
    let parts: Vec<_> = relative.components().collect();
    let checked = if itself {
        parts.len()
    } else {
        parts.len().saturating_sub(1)
    };
    for part in &parts[..checked] {
        prefix.push(part);
        if std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(ExtractError::Escapes(format!(
                "{} (through the link {})",
                shown.display(),
                prefix.strip_prefix(dest).unwrap_or(&prefix).display()
            )));
        }
    }
    Ok(())
}

/// Unpacks the gzipped tar `archive` into `target` (which must not exist),
/// dropping the top directory. On any failure nothing is left at
/// `target` or beside it.
pub fn unpack_tar_gz(archive: impl Read, target: &Path) -> Result<(), ExtractError> {
    staged(target, |staging| unpack_into(archive, staging))
}

/// Runs `fill` on a fresh directory beside `target` and renames it to
/// `target` when `fill` succeeds; on any failure removes it, so nothing is
/// left at `target` or beside it.
pub fn staged(
    target: &Path,
    fill: impl FnOnce(&Path) -> Result<(), ExtractError>,
) -> Result<(), ExtractError> {
    let parent = target
        .parent()
        .ok_or_else(|| ExtractError::Escapes(target.display().to_string()))?;
    std::fs::create_dir_all(parent).map_err(io(format!("cannot create {}", parent.display())))?;
    let staging = parent.join(format!(
        ".{}.unpacking-{}",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(io(format!("cannot create {}", staging.display())))?;
    let result = fill(&staging).and_then(|()| {
        std::fs::rename(&staging, target).map_err(io(format!(
            "cannot move the unpacked files to {}",
            target.display()
        )))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Unpacks the gzipped tar `archive` into the existing directory `dest`,
/// dropping the top directory, with the same checks.
pub fn unpack_into(archive: impl Read, dest: &Path) -> Result<(), ExtractError> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    tar.set_preserve_permissions(true);
    tar.set_overwrite(false);
    let damaged = |e: std::io::Error| ExtractError::Damaged(e.to_string());
    for entry in tar.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let path = entry.path().map_err(damaged)?.into_owned();
        let Some(relative) = inside(&path)? else {
            continue;
        };
        let kind = entry.header().entry_type();
        // Never write through a link the archive made earlier: a chain of
        // links that each stay inside can still lead out together.
        through_no_link(dest, &relative, &path, false)?;
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(damaged)?
                .ok_or_else(|| ExtractError::Damaged(format!("{} links nowhere", path.display())))?
                .into_owned();
            let stays = if kind.is_hard_link() {
                // Hard links name a path in the archive.
                inside(&target).map(|t| t.is_some()).unwrap_or(false)
            } else {
                link_stays_inside(&relative, &target)
            };
            if !stays {
                return Err(ExtractError::LinkEscapes {
                    link: path.display().to_string(),
                    target: target.display().to_string(),
                });
            }
            if kind.is_hard_link() {
                // Nor link to a file reached through one (or to a link):
                // the same chain would let a hard link name a file
                // outside.
                let within = inside(&target)?.unwrap_or_default();
                through_no_link(dest, &within, &target, true)?;
                let source = dest.join(&within);
                if !std::fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_file()) {
                    return Err(ExtractError::LinkEscapes {
                        link: path.display().to_string(),
                        target: target.display().to_string(),
                    });
                }
                let at = dest.join(&relative);
                if let Some(dir) = at.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(io(format!("cannot create {}", dir.display())))?;
                }
                std::fs::hard_link(&source, &at)
                    .map_err(io(format!("cannot link {}", at.display())))?;
                continue;
            }
        }
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink()) {
            // Devices, fifos and the like have no place in a runtime.
            continue;
        }
        let at = dest.join(&relative);
        if let Some(dir) = at.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        }
        entry
            .unpack(&at)
            .map_err(|e| ExtractError::Damaged(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

/// Unpacks the zip `archive` into `target/<under>` (which must not
/// exist), dropping the top directory, with the same rules and the same
/// all-or-nothing result as `unpack_tar_gz`. Links are refused outright:
/// a runtime's zip has no business carrying them.
pub fn unpack_zip(
    archive: impl Read + std::io::Seek,
    target: &Path,
    under: &str,
) -> Result<(), ExtractError> {
    staged(target, |staging| unzip_into(archive, &staging.join(under)))
}

fn unzip_into(archive: impl Read + std::io::Seek, dest: &Path) -> Result<(), ExtractError> {
    use std::os::unix::fs::PermissionsExt;
    let damaged = |e: zip::result::ZipError| ExtractError::Damaged(e.to_string());
    let mut zip = zip::ZipArchive::new(archive).map_err(damaged)?;
    std::fs::create_dir_all(dest).map_err(io(format!("cannot create {}", dest.display())))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(damaged)?;
        let name = entry.name().map_err(damaged)?.into_owned();
        let Some(relative) = inside(Path::new(&name))? else {
            continue;
        };
        if entry.is_symlink() {
            return Err(ExtractError::LinkEscapes {
                link: name,
                target: "(links are not accepted in zip archives)".into(),
            });
        }
        let at = dest.join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&at).map_err(io(format!("cannot create {}", at.display())))?;
            continue;
        }
        if let Some(dir) = at.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        }
        let mut out =
            std::fs::File::create(&at).map_err(io(format!("cannot write {}", at.display())))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| ExtractError::Damaged(format!("{name}: {e}")))?;
        if let Some(mode) = entry.unix_mode() {
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode & 0o777))
                .map_err(io(format!("cannot set the mode of {}", at.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Item<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
        HardLink(&'a str, &'a str),
    }

    fn archive(items: &[Item<'_>]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for item in items {
            let mut header = tar::Header::new_gnu();
            match item {
                Item::File(path, data) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(data.len() as u64);
                    header.set_mode(0o755);
                    set_path(&mut header, path);
                    header.set_cksum();
                    builder.append(&header, *data).unwrap();
                }
                Item::Dir(path) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_mode(0o755);
                    set_path(&mut header, path);
                    header.set_cksum();
                    builder.append(&header, &[][..]).unwrap();
                }
                Item::Symlink(path, target) | Item::HardLink(path, target) => {
                    header.set_entry_type(if matches!(item, Item::Symlink(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    header.set_size(0);
                    set_path(&mut header, path);
                    header.set_link_name(target).unwrap();
                    header.set_cksum();
                    builder.append(&header, &[][..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    /// Writes the name bytes as they are (the tar crate's own setter
    /// refuses `..`, which is what the tests need).
    fn set_path(header: &mut tar::Header, path: &str) {
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
    }

    #[test]
    fn a_release_unpacks_without_its_top_directory() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("versions/node/20.10.0");
        let data = archive(&[
            Item::Dir("node-v20.10.0-linux-x64/"),
            Item::Dir("node-v20.10.0-linux-x64/bin/"),
            Item::File(
                "node-v20.10.0-linux-x64/bin/node",
                b"#!/bin/sh\necho v20.10.0\n",
            ),
            Item::Symlink(
                "node-v20.10.0-linux-x64/bin/npm",
                "../lib/node_modules/npm/bin/npm-cli.js",
            ),
        ]);
        unpack_tar_gz(&data[..], &target).unwrap();
        let node = target.join("bin/node");
        assert_eq!(
            std::fs::read_to_string(&node).unwrap(),
            "#!/bin/sh\necho v20.10.0\n"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&node).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(
            std::fs::symlink_metadata(target.join("bin/npm"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // Nothing is left beside it.
        let beside: Vec<_> = std::fs::read_dir(dir.path().join("versions/node"))
            .unwrap()
            .collect();
        assert_eq!(beside.len(), 1);
    }

    #[test]
    fn hard_links_inside_work() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("v");
        let data = archive(&[
            Item::File("top/bin/node", b"node"),
            Item::HardLink("top/bin/nodejs", "top/bin/node"),
        ]);
        unpack_tar_gz(&data[..], &target).unwrap();
        assert_eq!(std::fs::read(target.join("bin/nodejs")).unwrap(), b"node");
    }

    #[test]
    fn escapes_are_refused_and_leave_nothing() {
        let cases: Vec<Vec<u8>> = vec![
            archive(&[Item::File("top/../../evil", b"x")]),
            archive(&[Item::File("/etc/evil", b"x")]),
            archive(&[Item::Symlink("top/bin/sh", "/bin/sh")]),
            archive(&[Item::Symlink("top/link", "../../outside")]),
            archive(&[Item::Symlink("top/a/b", "../../../x")]),
            // Each link stays inside; together they lead out.
            archive(&[
                Item::Symlink("top/b", "."),
                Item::Symlink("top/c", "b/.."),
                Item::File("top/c/evil", b"x"),
            ]),
            // A hard link through a link chain that leads out.
            archive(&[
                Item::Dir("top/d/"),
                Item::Symlink("top/d/b", ".."),
                Item::HardLink("top/h", "top/d/b/../secret"),
            ]),
            archive(&[
                Item::Symlink("top/up", "."),
                Item::HardLink("top/h", "top/up/secret"),
            ]),
            // A hard link to a link.
            archive(&[
                Item::Symlink("top/s", "bin"),
                Item::HardLink("top/h", "top/s"),
            ]),
        ];
        for (i, data) in cases.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("v");
            let err = unpack_tar_gz(&data[..], &target).unwrap_err();
            assert!(
                matches!(
                    err,
                    ExtractError::Escapes(_) | ExtractError::LinkEscapes { .. }
                ),
                "case {i}: {err}"
            );
            assert!(!target.exists(), "case {i}");
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                0,
                "case {i}: leftovers"
            );
            assert!(!dir.path().join("evil").exists());
        }
    }

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            for (name, data) in entries {
                writer.start_file(*name, options).unwrap();
                std::io::Write::write_all(&mut writer, data).unwrap();
            }
            writer.finish().unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn zips_unpack_under_a_directory_and_refuse_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("bun/1.1.8");
        let data = zip(&[("bun-linux-x64/bun", b"#!/bin/sh\necho 1.1.8\n")]);
        unpack_zip(std::io::Cursor::new(data), &target, "bin").unwrap();
        let bun = target.join("bin/bun");
        assert_eq!(std::fs::read(&bun).unwrap(), b"#!/bin/sh\necho 1.1.8\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&bun).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let evil = zip(&[("top/../../evil", b"x")]);
        let other = dir.path().join("bun/other");
        assert!(unpack_zip(std::io::Cursor::new(evil), &other, "bin").is_err());
        assert!(!other.exists());
        assert!(!dir.path().join("evil").exists());
        assert!(unpack_zip(std::io::Cursor::new(b"not a zip".to_vec()), &other, "bin").is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("bun")).unwrap().count(),
            1
        );
    }

    #[test]
    fn truncated_and_garbage_archives_are_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let full = archive(&[Item::File("top/bin/node", &[7u8; 100_000])]);
        let err = unpack_tar_gz(&full[..full.len() / 2], &dir.path().join("a")).unwrap_err();
        assert!(matches!(err, ExtractError::Damaged(_)), "{err}");
        let err = unpack_tar_gz(&b"not a gzip stream"[..], &dir.path().join("b")).unwrap_err();
        assert!(matches!(err, ExtractError::Damaged(_)), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
