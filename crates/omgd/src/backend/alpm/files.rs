//! libalpm's file lists, read as pacman reads them: the local ones for
//! `pacman -Qo` and `pacman -Ql` (paths relative to the installation root,
//! directories with a trailing `/`), and the sync `.files` databases' for
//! `pacman -F`.

use std::collections::HashMap;
use std::path::Path;

use super::libalpm::Alpm;

/// A file's name as bytes, whichever libalpm line this is built for.
#[cfg(feature = "alpm")]
fn name_of(file: &super::libalpm::File) -> &[u8] {
    file.name().as_bytes()
}
#[cfg(not(feature = "alpm"))]
fn name_of<'a>(file: &'a super::libalpm::File<'_>) -> &'a [u8] {
    file.name()
}

/// `path` relative to `root` as the file lists have it (none: outside the
/// root).
fn relative(root: &Path, path: &str) -> Option<String> {
    let rel = Path::new(path).strip_prefix(root).ok()?;
    Some(rel.to_string_lossy().into_owned())
}

/// For each of `paths`, the installed packages whose file lists have it
/// (as a file, or as a directory).
pub(super) fn owners(handle: &Alpm, root: &Path, paths: &[String]) -> Vec<Vec<String>> {
    let mut wanted: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (i, path) in paths.iter().enumerate() {
        let Some(rel) = relative(root, path) else {
            continue;
        };
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() {
            continue;
        }
        wanted.entry(rel.as_bytes().to_vec()).or_default().push(i);
        wanted
            .entry(format!("{rel}/").into_bytes())
            .or_default()
            .push(i);
    }
    let mut out = vec![Vec::new(); paths.len()];
    for pkg in handle.localdb().pkgs() {
        let files = pkg.files();
        for file in files.files() {
            if let Some(indices) = wanted.get(name_of(file)) {
                for &i in indices {
                    let name = pkg.name().to_string();
                    if !out[i].contains(&name) {
                        out[i].push(name);
                    }
                }
            }
        }
    }
    out
}

/// The files of the installed package `name`, absolute under `root`.
pub(super) fn files(handle: &Alpm, root: &Path, name: &str) -> Option<Vec<String>> {
    let pkg = handle.localdb().pkg(name).ok()?;
    let files = pkg.files();
    Some(
        files
            .files()
            .iter()
            .map(|f| {
                let name = String::from_utf8_lossy(name_of(f));
                root.join(name.as_ref() as &str)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
    )
}

/// Every file the sync databases of `handle` (opened on `.files`) list,
/// one sorted stream a package (libalpm keeps each list sorted).
pub(super) fn sync_sources(handle: &Alpm) -> Vec<omg::provides::build::Source<'_>> {
    let mut sources: Vec<omg::provides::build::Source<'_>> = Vec::new();
    for db in handle.syncdbs() {
        for pkg in db.pkgs() {
            let name = pkg.name().to_string();
            let list = pkg.files();
            let count = list.files().len();
            sources.push(Box::new((0..count).map(move |i| {
                Ok((
                    String::from_utf8_lossy(name_of(&list.files()[i])).into_owned(),
                    vec![name.clone()],
                ))
            })));
        }
    }
    sources
}
