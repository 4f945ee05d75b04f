//! Files a client names. The daemon never follows a link, never blocks on
//! a FIFO or a device, reads regular files only and only up to a size.
//! A package file handed to the root daemon by another user is opened
//! with that user's rights (the thread's filesystem ids and groups become
//! theirs for the `open`) and copied into a root-owned staging directory
//! before it is checked and installed, so the user can neither make root
//! read what they could not, nor swap the file between check and install.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::peer::Peer;

/// The largest file a client may name (a package, a signature, a keyring).
pub const MAX_CLIENT_FILE: u64 = 4 << 30;

/// Why a named file is refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a regular file")]
    NotRegular(String),
    #[error("{path} is larger than {limit} bytes")]
    TooLarge { path: String, limit: u64 },
    #[error("{0}")]
    Staging(String),
}

/// Opens `path` for reading: no link followed at its end, no blocking
/// open, a regular file of at most `limit` bytes.
pub fn open_regular(path: &Path, limit: u64) -> Result<File, FileError> {
    let shown = path.display().to_string();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|source| FileError::Open {
            path: shown.clone(),
            source,
        })?;
    let meta = file.metadata().map_err(|source| FileError::Open {
        path: shown.clone(),
        source,
    })?;
    if !meta.file_type().is_file() {
        return Err(FileError::NotRegular(shown));
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge { path: shown, limit });
    }
    Ok(file)
}

/// Checks that each of `paths` (a directory is allowed where `dirs` says)
/// is a regular file within the size limit, or a real directory.
pub fn check_named(paths: &[(&Path, bool)]) -> Result<(), FileError> {
    for (path, dir_ok) in paths {
        if *dir_ok && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir()) {
            continue;
        }
        open_regular(path, MAX_CLIENT_FILE)?;
    }
    Ok(())
}

/// Opens `path` as `peer` would: on a thread of its own whose filesystem
/// uid, gid and groups are the peer's for the `open` (Linux keeps these
/// per thread; the raw system calls change only the calling thread).
pub fn open_as(peer: &Peer, path: &Path, limit: u64) -> Result<File, FileError> {
    let peer = peer.clone();
    let path = path.to_path_buf();
    let shown = path.display().to_string();
    std::thread::Builder::new()
        .name("omgd-open-as".into())
        .spawn(move || {
            // SAFETY: these system calls change this thread's credentials
            // only; the thread ends right after the open.
            unsafe {
                let groups: Vec<libc::gid_t> = peer.groups.clone();
                if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0 {
                    return Err(FileError::Open {
                        path: path.display().to_string(),
                        source: std::io::Error::last_os_error(),
                    });
                }
                libc::syscall(libc::SYS_setfsgid, peer.gid);
                libc::syscall(libc::SYS_setfsuid, peer.uid);
                // setfsuid reports the previous id: read back to be sure.
                let now = libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32;
                if now != peer.uid {
                    return Err(FileError::Staging(
                        "cannot take the caller's filesystem identity".into(),
                    ));
                }
            }
            open_regular(&path, limit)
        })
        .map_err(|e| FileError::Staging(format!("cannot open {shown}: {e}")))?
        .join()
        .map_err(|_| FileError::Staging(format!("cannot open {shown}")))?
}

/// A root-owned directory of copies; removed with everything in it when
/// dropped.
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// A new, private directory under `parent`.
    pub fn new(parent: &Path) -> Result<Staging, FileError> {
        let fail = |e: std::io::Error| FileError::Staging(format!("{}: {e}", parent.display()));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(fail)?;
        for n in 0..1000u32 {
            let dir = parent.join(format!("{}-{n}", std::process::id()));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Staging { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(e)),
            }
        }
        Err(FileError::Staging(format!(
            "no free staging directory in {}",
            parent.display()
        )))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Copies what `source` holds into the staging directory as `name`
    /// (a bare file name), at most `limit` bytes.
    pub fn copy_in(&self, mut source: File, name: &str, limit: u64) -> Result<PathBuf, FileError> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(FileError::Staging(format!("{name:?} is not a file name")));
        }
        let at = self.dir.join(name);
        let fail = |e: std::io::Error| FileError::Staging(format!("{}: {e}", at.display()));
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&at)
            .map_err(fail)?;
        let copied = std::io::copy(&mut (&mut source).take(limit + 1), &mut out).map_err(fail)?;
        if copied > limit {
            return Err(FileError::TooLarge {
                path: name.to_string(),
                limit,
            });
        }
        out.flush().map_err(fail)?;
        Ok(at)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a transaction target names a package file.
pub fn is_package_file(target: &str) -> bool {
    target.ends_with(".deb") || target.contains(".pkg.tar")
}

/// The package name in an Arch package file's name
/// (`name-pkgver-pkgrel-arch.pkg.tar.*`).
pub fn arch_package_name(file_name: &str) -> Option<&str> {
    let stem = &file_name[..file_name.find(".pkg.tar")?];
    let mut parts = stem.rsplitn(4, '-');
    let (_arch, _rel, _ver) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().filter(|n| !n.is_empty())
}

/// The package and version an Arch package file's name says, as pacman
/// writes them (`name-pkgver-pkgrel-arch.pkg.tar.*`); not a signature nor
/// a partial download.
pub fn arch_package_file(file_name: &str) -> Option<(String, String)> {
    let (stem, ext) = file_name.split_once(".pkg.tar")?;
    if ext.ends_with(".sig") || ext.ends_with(".part") {
        return None;
    }
    let name = arch_package_name(file_name)?;
    let version = stem.strip_prefix(name)?.strip_prefix('-')?;
    let (version, _arch) = version.rsplit_once('-')?;
    Some((name.to_string(), version.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pkg.deb");
        std::fs::write(&file, b"data").unwrap();
        assert!(open_regular(&file, 100).is_ok());
        let link = dir.path().join("link.deb");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            open_regular(&link, 100),
            Err(FileError::Open { .. })
        ));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            open_regular(&fifo, 100),
            Err(FileError::NotRegular(_))
        ));
        assert!(matches!(
            open_regular(Path::new("/dev/zero"), 100),
            Err(FileError::NotRegular(_))
        ));
        assert!(matches!(
            open_regular(&file, 2),
            Err(FileError::TooLarge { .. })
        ));
    }

    #[test]
    fn arch_file_names_name_their_package() {
        assert_eq!(
            arch_package_name("yay-bin-12.4.2-1-x86_64.pkg.tar.zst"),
            Some("yay-bin")
        );
        assert_eq!(arch_package_name("a-1-1-any.pkg.tar.xz"), Some("a"));
        assert_eq!(arch_package_name("broken.pkg.tar.zst"), None);
        assert_eq!(arch_package_name("x.deb"), None);
        assert_eq!(
            arch_package_file("foo-bar-1:1.2-3-x86_64.pkg.tar.zst"),
            Some(("foo-bar".to_string(), "1:1.2-3".to_string()))
        );
        assert_eq!(arch_package_file("foo-1.2-3-any.pkg.tar.zst.sig"), None);
        assert_eq!(arch_package_file("foo-1.2-3-any.pkg.tar.zst.part"), None);
    }

    #[test]
    fn staging_copies_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.pkg.tar.zst");
        std::fs::write(&file, b"package").unwrap();
        let staged_dir;
        {
            let staging = Staging::new(&dir.path().join("staging")).unwrap();
            staged_dir = staging.path().to_path_buf();
            let copy = staging
                .copy_in(open_regular(&file, 100).unwrap(), "a.pkg.tar.zst", 100)
                .unwrap();
            assert_eq!(std::fs::read(&copy).unwrap(), b"package");
            assert!(
                staging
                    .copy_in(open_regular(&file, 100).unwrap(), "../x", 100)
                    .is_err()
            );
        }
        assert!(!staged_dir.exists());
    }
}
