//! Saving the index to a file beside the embedded database and reading it
//! back. The file starts with a magic string, a format number and the
//! `IndexMeta`, so a stale snapshot (its fingerprint differs from the
//! database's) is recognised without reading the rest; the body is read
//! straight into the index's own buffers (the entries, then the names and
//! details as one string, then the extra region), checked once, never
//! decoded record by record.
//! A file that fails to read or to validate is reported, never trusted.
//! Writers replace the file whole (a temporary file renamed over it), so a
//! reader sees the old snapshot or the new one, never half of either.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{Index, IndexMeta};
use crate::model::BackendKind;

/// Bumped whenever the layout of the file changes.
const FORMAT: u32 = 6;
const MAGIC: &[u8; 8] = b"omgindex";
/// A header larger than this is damage, not a header (the meta holds a
/// fingerprint and the watched paths).
const MAX_HEADER: usize = 1 << 20;

/// What the snapshot file held.
#[derive(Debug)]
pub enum Loaded {
    /// A snapshot the check accepted.
    Fresh(Index),
    /// No snapshot, one of another format, or one the check refused
    /// (another database state).
    Stale,
    /// A snapshot that could not be read; the reason.
    Damaged(String),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard()
}

/// The file holding the snapshot stored under `key` in `data_dir`.
pub fn path(data_dir: &Path, key: &str) -> PathBuf {
    data_dir.join(format!("index-{}.bin", key.replace(':', "-")))
}

/// The bytes stored for `index`: the magic, the header's length (u32
/// little-endian) and the header (bincode of `(FORMAT, meta)`), the
/// lengths of the four regions (u32 each), then the regions: entries,
/// names, details, extra.
pub fn encode(index: &Index) -> Vec<u8> {
    let mut out = Vec::new();
    write(index, &mut out).expect("writing to memory cannot fail");
    out
}

/// Writes what `encode` makes to `out`, region by region (no copy of
/// the whole).
fn write(index: &Index, out: &mut impl Write) -> std::io::Result<()> {
    let header = bincode::serde::encode_to_vec((FORMAT, &index.meta), config())
        .expect("encoding to memory cannot fail");
    let (entries, names, details) = index.parts();
    let regions = [entries, names.as_bytes(), details.as_bytes(), index.extra()];
    out.write_all(MAGIC)?;
    out.write_all(&(header.len() as u32).to_le_bytes())?;
    out.write_all(&header)?;
    for region in regions {
        out.write_all(&(region.len() as u32).to_le_bytes())?;
    }
    for region in regions {
        out.write_all(region)?;
    }
    Ok(())
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Reads the header: the meta and the header's length in the file, or
/// None for another format.
fn read_header(r: &mut impl Read) -> Result<Option<(IndexMeta, u64)>, String> {
    let mut magic = [0u8; 8];
    match r.read_exact(&mut magic) {
        Ok(()) if &magic == MAGIC => {}
        Ok(()) => return Err("not an index snapshot".into()),
        Err(e) => return Err(format!("snapshot header: {e}")),
    }
    let len = read_u32(r).map_err(|e| format!("snapshot header: {e}"))? as usize;
    if len > MAX_HEADER {
        return Err("snapshot header is too large".into());
    }
    let mut header = vec![0u8; len];
    r.read_exact(&mut header)
        .map_err(|e| format!("snapshot header: {e}"))?;
    // The format number comes first: a snapshot of another format is
    // stale, even when its meta no longer decodes.
    let (format, used): (u32, usize) = bincode::serde::decode_from_slice(&header, config())
        .map_err(|e| format!("snapshot header: {e}"))?;
    if format != FORMAT {
        return Ok(None);
    }
    let (meta, _): (IndexMeta, usize) =
        bincode::serde::decode_from_slice(&header[used..], config())
            .map_err(|e| format!("snapshot header: {e}"))?;
    Ok(Some((meta, (MAGIC.len() + 4 + len) as u64)))
}

/// Where a snapshot's regions lie, read from its header.
struct Layout {
    meta: IndexMeta,
    /// Where the entries start (after the header and the lengths).
    start: usize,
    entries_len: usize,
    names_len: usize,
    details_len: usize,
    extra_len: usize,
}

/// Reads the header and the regions' lengths from `r` (`size` bytes in
/// all): None when the snapshot is stale (another format, or `accept`
/// refuses its meta), the reason when it is damaged.
fn layout(
    r: &mut impl Read,
    size: u64,
    accept: impl FnOnce(&IndexMeta) -> bool,
) -> Result<Option<Layout>, String> {
    let Some((meta, header)) = read_header(r)? else {
        return Ok(None);
    };
    if !accept(&meta) {
        return Ok(None);
    }
    let mut lengths = [0usize; 4];
    for len in &mut lengths {
        *len = read_u32(r).map_err(|_| "snapshot is truncated".to_string())? as usize;
    }
    let [entries_len, names_len, details_len, extra_len] = lengths;
    // The regions must be what is left of the file, exactly: this also
    // keeps a damaged length from asking for gigabytes of memory.
    let start = header + 16;
    if start + lengths.iter().sum::<usize>() as u64 != size {
        return Err("snapshot regions do not add up to its size".into());
    }
    Ok(Some(Layout {
        meta,
        start: start as usize,
        entries_len,
        names_len,
        details_len,
        extra_len,
    }))
}

/// Reads a snapshot from `r` (`size` bytes in all) if `accept` takes its
/// meta (the fingerprint matches).
pub fn read(r: &mut impl Read, size: u64, accept: impl FnOnce(&IndexMeta) -> bool) -> Loaded {
    let layout = match layout(r, size, accept) {
        Ok(Some(layout)) => layout,
        Ok(None) => return Loaded::Stale,
        Err(why) => return Loaded::Damaged(why),
    };
    let mut entries = vec![0u8; layout.entries_len];
    let mut text = vec![0u8; layout.names_len + layout.details_len];
    let mut extra = vec![0u8; layout.extra_len];
    if r.read_exact(&mut entries)
        .and_then(|()| r.read_exact(&mut text))
        .and_then(|()| r.read_exact(&mut extra))
        .is_err()
    {
        return Loaded::Damaged("snapshot is truncated".into());
    }
    let Ok(text) = String::from_utf8(text) else {
        return Loaded::Damaged("snapshot text is not UTF-8".into());
    };
    match Index::from_parts(layout.meta, entries, text, extra, layout.names_len) {
        Some(index) if index.is_consistent() => Loaded::Fresh(index),
        _ => Loaded::Damaged("snapshot entries point outside their text".into()),
    }
}

/// Reads a stored snapshot, checking it against the expected fingerprint.
pub fn decode(bytes: &[u8], fingerprint: &str) -> Loaded {
    read(&mut &bytes[..], bytes.len() as u64, |m| {
        m.fingerprint == fingerprint
    })
}

/// Opens the snapshot file at `path`: None when there is none, the
/// reason when it cannot be opened.
fn open(path: &Path) -> Result<Option<std::fs::File>, String> {
    match std::fs::File::open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Loads the snapshot file at `path` if `accept` takes its meta.
pub fn load(path: &Path, accept: impl FnOnce(&IndexMeta) -> bool) -> Loaded {
    let file = match open(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Loaded::Stale,
        Err(why) => return Loaded::Damaged(why),
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return Loaded::Damaged(format!("{}: {e}", path.display())),
    };
    read(
        &mut std::io::BufReader::with_capacity(64 << 10, file),
        size,
        accept,
    )
}

/// Maps the snapshot file at `path` into memory if `accept` takes its
/// meta: nothing is copied, and only the pages a query touches are read.
/// A daemon maps its index too, so that it can let the pages go when idle
/// (`Index::release_resident`); `load` reads a copy.
pub fn map(path: &Path, accept: impl FnOnce(&IndexMeta) -> bool) -> Loaded {
    map_with(path, true, accept)
}

/// `map`; `populate` maps every page at once (what a reader that scans
/// the whole file wants), else each page when it is first read (for a
/// file with a large extra region of which a query reads a little).
pub fn map_with(path: &Path, populate: bool, accept: impl FnOnce(&IndexMeta) -> bool) -> Loaded {
    map_regions(path, populate, Regions::All, accept)
}

/// `map` for a reader of names alone (a completion): only the entries and
/// the names are checked and read, each page when it is first touched;
/// the index it gives has no details (each reads as empty) and no extra
/// region.
pub fn map_names(path: &Path, accept: impl FnOnce(&IndexMeta) -> bool) -> Loaded {
    map_regions(path, false, Regions::Names, accept)
}

/// Which of a snapshot's regions a mapped index covers.
#[derive(Clone, Copy, PartialEq)]
enum Regions {
    All,
    Names,
}

fn map_regions(
    path: &Path,
    populate: bool,
    regions: Regions,
    accept: impl FnOnce(&IndexMeta) -> bool,
) -> Loaded {
    let file = match open(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Loaded::Stale,
        Err(why) => return Loaded::Damaged(why),
    };
    let mut options = memmap2::MmapOptions::new();
    if populate {
        options.populate();
    }
    // SAFETY: snapshot files are replaced by rename, never written in
    // place, so the mapped bytes stay as they are while mapped.
    let map = match unsafe { options.map(&file) } {
        Ok(m) => m,
        Err(e) => return Loaded::Damaged(format!("{}: {e}", path.display())),
    };
    let layout = match layout(&mut &map[..], map.len() as u64, accept) {
        Ok(Some(layout)) => layout,
        Ok(None) => return Loaded::Stale,
        Err(why) => return Loaded::Damaged(why),
    };
    let entries = layout.start..layout.start + layout.entries_len;
    let (text, extra) = match regions {
        Regions::All => {
            let text = entries.end..entries.end + layout.names_len + layout.details_len;
            let extra = text.end..map.len();
            (text, extra)
        }
        Regions::Names => {
            let names = entries.end..entries.end + layout.names_len;
            (names.clone(), names.end..names.end)
        }
    };
    let Some(index) = Index::mapped(layout.meta, map, entries, text, extra, layout.names_len)
    else {
        return Loaded::Damaged("snapshot text is not UTF-8".into());
    };
    let consistent = match regions {
        Regions::All => index.is_consistent(),
        Regions::Names => index.names_are_consistent(),
    };
    if consistent {
        Loaded::Fresh(index)
    } else {
        Loaded::Damaged("snapshot entries point outside their text".into())
    }
}

/// The meta of the snapshot at `path`: what it was built from, without
/// reading the rest.
pub fn meta(path: &Path) -> Option<IndexMeta> {
    let file = std::fs::File::open(path).ok()?;
    read_header(&mut std::io::BufReader::with_capacity(4096, file))
        .ok()
        .flatten()
        .map(|(meta, _)| meta)
}

/// Writes `index` to `path`, replacing the file whole.
pub fn save(path: &Path, index: &Index) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    // Left over by a process of the same number that died, perhaps; a new
    // file is made in its place, never one opened through a link.
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(256 << 10, file);
            write(index, &mut out)?;
            out.flush()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The key a snapshot is stored under: the backend, and the environment
/// that chooses which of its databases is read (another root, another
/// pacman.conf, another apt configuration each get their own).
pub fn key(backend: BackendKind) -> String {
    key_with(backend, |var| std::env::var_os(var))
}

/// `key`, with `var` standing for the environment.
pub fn key_with(backend: BackendKind, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for name in [
        "APT_CONFIG",
        "OMG_PACMAN_CONF",
        "OMG_ALPM_ROOT",
        "OMG_ALPM_DBPATH",
    ] {
        h.update(name);
        h.update([0]);
        if let Some(v) = var(name) {
            h.update(v.as_encoded_bytes());
        }
        h.update([0]);
    }
    let digest = h.finalize();
    let scope: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}:{scope}", backend.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::{meta as test_meta, record};

    #[test]
    fn fresh_stale_and_damaged() {
        let index = Index::from_records(test_meta(), vec![record("vim", "editor", 0)]);
        let bytes = encode(&index);
        match decode(&bytes, "f") {
            Loaded::Fresh(i) => assert_eq!(i, index),
            other => panic!("expected a fresh snapshot, got {other:?}"),
        }
        assert!(matches!(decode(&bytes, "other"), Loaded::Stale));
        assert!(matches!(
            decode(&bytes[..bytes.len() - 3], "f"),
            Loaded::Damaged(_)
        ));
        assert!(matches!(
            decode(b"\xff\xff\xff\xff", "f"),
            Loaded::Damaged(_)
        ));

        // An offset pointing past the text is caught.
        let mut bytes = bytes.clone();
        let (entries, names, details) = index.parts();
        let entries_at = bytes.len() - details.len() - names.len() - entries.len();
        bytes[entries_at + 4] = 0xff;
        assert!(matches!(decode(&bytes, "f"), Loaded::Damaged(_)));
    }

    /// A completion maps the names alone: it sees every name, no details,
    /// and is not stopped by damage it does not read; damage in the names
    /// is still refused.
    #[test]
    fn the_names_alone_are_mapped_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.bin");
        let records = vec![
            record("vim", "editor", 0),
            record("vifm", "file manager", 0),
            record("zsh", "shell", 0),
        ];
        let index = Index::from_records(test_meta(), records);
        let bytes = encode(&index);
        std::fs::write(&file, &bytes).unwrap();
        let Loaded::Fresh(names) = map_names(&file, |_| true) else {
            panic!("expected a fresh snapshot");
        };
        assert_eq!(names.names().collect::<Vec<_>>(), ["vifm", "vim", "zsh"]);
        let complete = |index: &Index, prefix| crate::index::rank::complete(index, prefix);
        assert_eq!(complete(&names, "vi").unwrap(), ["vifm", "vim"]);
        assert_eq!(names.find("vim").unwrap().summary, "");
        assert!(matches!(map_names(&file, |_| false), Loaded::Stale));

        // Bad UTF-8 in the details: the whole map refuses it, the names'
        // map does not read it.
        let mut damaged = bytes.clone();
        let at = bytes.len() - 2;
        damaged[at] = 0xff;
        std::fs::write(&file, &damaged).unwrap();
        assert!(matches!(map(&file, |_| true), Loaded::Damaged(_)));
        assert!(matches!(map_names(&file, |_| true), Loaded::Fresh(_)));
        // Bad UTF-8 in the names, or an entry that does not start where the
        // one before ended: refused.
        let (entries, names_region, details) = index.parts();
        let names_at = bytes.len() - details.len() - names_region.len();
        let entries_at = names_at - entries.len();
        for at in [names_at, entries_at + 12] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x80;
            std::fs::write(&file, &damaged).unwrap();
            assert!(
                matches!(map_names(&file, |_| true), Loaded::Damaged(_)),
                "{at}"
            );
        }
        // Names out of order are not compared when mapped: the completion
        // that reads them refuses to answer.
        let mut damaged = bytes.clone();
        damaged[names_at] = b'z';
        std::fs::write(&file, &damaged).unwrap();
        let Loaded::Fresh(names) = map_names(&file, |_| true) else {
            panic!("the names are mapped");
        };
        assert_eq!(complete(&names, "vi"), None);
        assert_eq!(complete(&names, "zs").unwrap(), ["zsh"]);
    }

    #[test]
    fn damaged_headers_and_text_are_reported_not_trusted() {
        let index = Index::from_records(test_meta(), vec![record("vim", "editor", 0)]);
        let bytes = encode(&index);
        // A header length of 4 GiB asks for nothing.
        let mut huge = bytes.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge, "f"), Loaded::Damaged(why) if why.contains("too large")));
        // Region lengths that claim more than the file holds.
        let mut claims = bytes.clone();
        let header_end = 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        claims[header_end + 8..header_end + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&claims, "f"), Loaded::Damaged(why) if why.contains("add up")));
        // Text that is not UTF-8.
        let mut text = bytes.clone();
        let last = text.len() - 2;
        text[last] = 0xff;
        assert!(matches!(decode(&text, "f"), Loaded::Damaged(why) if why.contains("UTF-8")));
        // Another format is stale, not damaged.
        let mut other = bytes.clone();
        other[12] = (FORMAT + 1) as u8;
        assert!(matches!(decode(&other, "f"), Loaded::Stale));
    }

    #[test]
    fn files_are_replaced_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), &key(BackendKind::Apt));
        assert!(
            matches!(load(&file, |_| true), Loaded::Stale),
            "no file yet"
        );
        assert_eq!(meta(&file), None);
        let index = Index::from_records(meta_with("a"), vec![record("vim", "editor", 0)]);
        save(&file, &index).unwrap();
        let newer = Index::from_records(meta_with("b"), vec![record("nano", "editor", 0)]);
        save(&file, &newer).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        assert_eq!(meta(&file).unwrap().fingerprint, "b");
        assert!(matches!(
            load(&file, |m| m.fingerprint == "a"),
            Loaded::Stale
        ));
        match load(&file, |m| m.fingerprint == "b") {
            Loaded::Fresh(i) => assert_eq!(i, newer),
            other => panic!("expected the newer snapshot, got {other:?}"),
        }
        match map(&file, |m| m.fingerprint == "b") {
            Loaded::Fresh(i) => {
                assert_eq!(i, newer);
                assert_eq!(i.find("nano").unwrap().summary, "editor");
            }
            other => panic!("expected the newer snapshot mapped, got {other:?}"),
        }
        assert!(matches!(
            map(&file, |m| m.fingerprint == "a"),
            Loaded::Stale
        ));
        // Cut short while nobody replaced it whole: damaged, not trusted.
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(load(&file, |_| true), Loaded::Damaged(_)));
        assert!(matches!(map(&file, |_| true), Loaded::Damaged(_)));
        let mut text = bytes.clone();
        let last = text.len() - 2;
        text[last] = 0xff;
        std::fs::write(&file, &text).unwrap();
        assert!(matches!(map(&file, |_| true), Loaded::Damaged(why) if why.contains("UTF-8")));
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(map(&file, |_| true), Loaded::Damaged(_)));
    }

    #[test]
    fn the_extra_region_is_saved_loaded_and_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index-aur.bin");
        let index = Index::from_records(test_meta(), vec![record("yay", "AUR helper", 0)])
            .with_extra(b"records of the AUR".to_vec());
        save(&file, &index).unwrap();
        for (how, loaded) in [
            ("loaded", load(&file, |_| true)),
            ("mapped", map_with(&file, false, |_| true)),
        ] {
            match loaded {
                Loaded::Fresh(i) => {
                    assert_eq!(i.extra(), b"records of the AUR", "{how}");
                    assert_eq!(i.find("yay").unwrap().summary, "AUR helper", "{how}");
                    assert_eq!(i, index, "{how}");
                }
                other => panic!("{how}: {other:?}"),
            }
        }
        // A file cut inside the extra region is damaged.
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 4]).unwrap();
        assert!(matches!(map(&file, |_| true), Loaded::Damaged(_)));
    }

    fn meta_with(fingerprint: &str) -> IndexMeta {
        IndexMeta {
            fingerprint: fingerprint.into(),
            ..test_meta()
        }
    }
}
