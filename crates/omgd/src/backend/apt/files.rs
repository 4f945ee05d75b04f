//! dpkg's file lists (`<admindir>/info/PKG[:ARCH].list`, the directory
//! beside the status file apt is configured with), read as `dpkg -S` and
//! `dpkg -L` read them; and the repositories' `Contents-<arch>` indices,
//! fetched with the lists as apt-file's acquire targets fetch them (checked
//! against the repository's Release file as every list is).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// dpkg's `info` directory, beside the status file.
pub(super) fn info_dir(status: &Path) -> PathBuf {
    status
        .parent()
        .unwrap_or(Path::new("/var/lib/dpkg"))
        .join("info")
}

/// The package a list file is of (`libc6:amd64.list` is libc6's).
fn package_of(file_name: &str) -> Option<&str> {
    let stem = file_name.strip_suffix(".list")?;
    stem.split(':').next().filter(|n| !n.is_empty())
}

/// A path as dpkg lists it: no trailing `/` (but `/` itself).
fn as_listed(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/.",
        trimmed => trimmed,
    }
}

/// For each of `paths`, the packages whose lists have it.
pub(super) fn owners(info: &Path, paths: &[String]) -> std::io::Result<Vec<Vec<String>>> {
    let mut wanted: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, path) in paths.iter().enumerate() {
        wanted.entry(as_listed(path)).or_default().push(i);
    }
    let mut out = vec![Vec::new(); paths.len()];
    let mut lists: Vec<(String, PathBuf)> = entries(info)?
        .into_iter()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            package_of(&name).map(|p| (p.to_string(), e.path()))
        })
        .collect();
    lists.sort();
    for (package, list) in lists {
        let Ok(text) = std::fs::read(&list) else {
            continue;
        };
        for line in text.split(|&b| b == b'\n') {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            if let Some(indices) = wanted.get(line) {
                for &i in indices {
                    if !out[i].contains(&package) {
                        out[i].push(package.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The entries of dpkg's `info` directory (none when there is none yet:
/// nothing was ever installed).
fn entries(info: &Path) -> std::io::Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(info) {
        Ok(dir) => Ok(dir.flatten().collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The files of `package` (none: it has no list, so is not installed).
pub(super) fn files(info: &Path, package: &str) -> std::io::Result<Option<Vec<String>>> {
    let mut lists: Vec<PathBuf> = entries(info)?
        .into_iter()
        .filter(|e| package_of(&e.file_name().to_string_lossy()) == Some(package))
        .map(|e| e.path())
        .collect();
    if lists.is_empty() {
        return Ok(None);
    }
    lists.sort();
    let mut out = Vec::new();
    for list in lists {
        let text = std::fs::read_to_string(&list)?;
        out.extend(
            text.lines()
                .filter(|l| !l.is_empty() && *l != "/.")
                .map(str::to_string),
        );
    }
    Ok(Some(out))
}

/// Asks apt to fetch each repository's `Contents-<arch>` with its lists
/// (the acquire target apt-file configures).
pub(super) fn want_contents(config: &rust_apt::config::Config) {
    let target = "Acquire::IndexTargets::deb::Contents-deb::";
    for (key, value) in [
        ("MetaKey", "$(COMPONENT)/Contents-$(ARCHITECTURE)"),
        ("ShortDescription", "Contents-$(ARCHITECTURE)"),
        (
            "Description",
            "$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)",
        ),
        ("flatMetaKey", "Contents-$(ARCHITECTURE)"),
        ("flatDescription", "$(RELEASE) Contents (deb)"),
        ("PDiffs", "true"),
        // Kept gzipped (what Debian serves them as; apt would otherwise
        // recompress them as lz4): the full archive's lists are 45 MB so,
        // 670 MB not.
        ("KeepCompressed", "true"),
        ("KeepCompressedAs", "gz"),
    ] {
        config.set(&format!("{target}{key}"), value);
    }
}

/// The `Contents-*` files in `lists`, each a stream of the paths it names
/// with their packages, in the file's own (sorted) order.
pub(super) fn contents_sources(
    lists: &Path,
) -> std::io::Result<Vec<omg::provides::build::Source<'static>>> {
    use std::io::BufRead;
    let mut files: Vec<PathBuf> = std::fs::read_dir(lists)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("_Contents-"))
        })
        .collect();
    files.sort();
    let mut sources: Vec<omg::provides::build::Source<'static>> = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let opened = std::fs::File::open(&file)?;
        // `Contents-amd64`, or with a compression's extension.
        let arch = name.rsplit("_Contents-").next().unwrap_or_default();
        let reader: Box<dyn std::io::Read> = if !arch.contains('.') {
            Box::new(opened)
        } else if arch.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(opened))
        } else if arch.ends_with(".lz4") {
            // apt's own choice when it keeps a list compressed (seeded from
            // the system's lists, which apt-file has fetched so).
            Box::new(lz4_flex::frame::FrameDecoder::new(opened))
        } else {
            // Another compression (xz) than the ones apt keeps.
            log::warn!("{}: compressed in a way omg does not read", file.display());
            continue;
        };
        let lines = std::io::BufReader::with_capacity(1 << 16, reader).lines();
        // A read error is the stream's last item (a decoder that fails once
        // keeps failing).
        let mut failed = false;
        let lines = lines.map_while(move |line| {
            if failed {
                return None;
            }
            failed = line.is_err();
            Some(line)
        });
        sources.push(Box::new(lines.filter_map(move |line| {
            let line = match line {
                Ok(line) => line,
                // Damaged or cut short: the index is not replaced by part
                // of it.
                Err(e) => {
                    return Some(Err(std::io::Error::new(
                        e.kind(),
                        format!("{}: {e}", file.display()),
                    )));
                }
            };
            let (path, packages) = omg::provides::contents_line(&line)?;
            Some(Ok((
                path.to_string(),
                packages.into_iter().map(str::to_string).collect(),
            )))
        })));
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_as_dpkg_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("coreutils.list"),
            "/.\n/bin\n/bin/ls\n/usr/share/doc/coreutils\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("libc6:amd64.list"),
            "/.\n/bin\n/lib/libc.so.6\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("libc6:amd64.md5sums"), "x /bin/ls\n").unwrap();
        let asked: Vec<String> = ["/bin/ls", "/bin/", "/nowhere", "/"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let found = owners(dir.path(), &asked).unwrap();
        assert_eq!(found[0], ["coreutils"]);
        assert_eq!(found[1], ["coreutils", "libc6"]);
        assert!(found[2].is_empty());
        assert_eq!(found[3], ["coreutils", "libc6"]);
        assert_eq!(
            files(dir.path(), "libc6").unwrap().unwrap(),
            ["/bin", "/lib/libc.so.6"]
        );
        assert_eq!(files(dir.path(), "vim").unwrap(), None);
        let none = dir.path().join("none");
        assert_eq!(files(&none, "vim").unwrap(), None);
        assert!(owners(&none, &asked).unwrap().iter().all(Vec::is_empty));
    }

    #[test]
    fn a_contents_file_cut_short_is_an_error_not_an_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..2000 {
            std::io::Write::write_all(&mut gz, format!("usr/bin/t{i}\tutils/t{i}\n").as_bytes())
                .unwrap();
        }
        let whole = gz.finish().unwrap();
        std::fs::write(
            dir.path()
                .join("deb.debian.org_debian_dists_bookworm_main_Contents-amd64.gz"),
            &whole[..whole.len() / 2],
        )
        .unwrap();
        let read: Vec<_> = contents_sources(dir.path())
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let last = read.last().unwrap();
        let err = last.as_ref().unwrap_err();
        assert!(err.to_string().contains("Contents-amd64.gz"), "{err}");
    }

    #[test]
    fn contents_files_as_apt_leaves_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path()
                .join("deb.debian.org_debian_dists_bookworm_main_Contents-amd64"),
            "usr/bin/rg\t\t\tutils/ripgrep\nusr/bin/x\tutils/a,utils/b\n",
        )
        .unwrap();
        let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
        std::io::Write::write_all(&mut lz4, b"usr/bin/y\t\tutils/c\n").unwrap();
        std::fs::write(
            dir.path()
                .join("deb.debian.org_debian_dists_bookworm_main_Contents-all.lz4"),
            lz4.finish().unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path()
                .join("deb.debian.org_debian_dists_bookworm_main_Contents-amd64.xz"),
            "\x04\x22",
        )
        .unwrap();
        std::fs::write(
            dir.path()
                .join("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"),
            "usr/bin/no utils/no\n",
        )
        .unwrap();
        let sources = contents_sources(dir.path()).unwrap();
        assert_eq!(sources.len(), 2);
        let read: Vec<_> = sources.into_iter().flatten().map(Result::unwrap).collect();
        assert_eq!(
            read,
            [
                ("usr/bin/y".to_string(), vec!["c".to_string()]),
                ("usr/bin/rg".into(), vec!["ripgrep".into()]),
                ("usr/bin/x".into(), vec!["a".into(), "b".into()]),
            ]
        );
    }
}
