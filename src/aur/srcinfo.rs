//! `.SRCINFO`, as makepkg writes it and the AUR serves it: a `pkgbase`
//! section, then one `pkgname` section per package built from it. A key
//! given in a package's section replaces the base's values for that
//! package (an empty value clears them); `key_ARCH` adds values for one
//! architecture.

use std::collections::BTreeMap;

/// Why a `.SRCINFO` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".SRCINFO line {line}: {message}")]
pub struct SrcinfoError {
    pub line: usize,
    pub message: String,
}

/// The values of one section: key → values, in order. Architecture-specific
/// keys stay as written (`depends_x86_64`).
type Fields = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srcinfo {
    pub pkgbase: String,
    base: Fields,
    /// The packages, in file order, with the keys their section overrides.
    packages: Vec<(String, Fields)>,
}

/// Keys that may appear many times; every other key takes one value.
const ARRAYS: &[&str] = &[
    "arch",
    "groups",
    "license",
    "depends",
    "makedepends",
    "checkdepends",
    "optdepends",
    "provides",
    "conflicts",
    "replaces",
    "source",
    "validpgpkeys",
    "noextract",
    "options",
    "backup",
];

/// The checksum arrays makepkg knows (one value per source, in order).
pub const CHECKSUMS: &[&str] = &[
    "cksums",
    "md5sums",
    "sha1sums",
    "sha224sums",
    "sha256sums",
    "sha384sums",
    "sha512sums",
    "b2sums",
];

/// Whether `key` (without its `_ARCH`) may appear many times.
fn is_array(key: &str) -> bool {
    ARRAYS.contains(&key) || CHECKSUMS.contains(&key)
}

impl Srcinfo {
    pub fn parse(text: &str) -> Result<Srcinfo, SrcinfoError> {
        let mut pkgbase: Option<String> = None;
        let mut base = Fields::new();
        let mut packages: Vec<(String, Fields)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: String| SrcinfoError {
                line: i + 1,
                message,
            };
            let Some((key, value)) = line.split_once('=') else {
                return Err(error(format!("expected `key = value`, found {line:?}")));
            };
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(error(format!("bad key {key:?}")));
            }
            match key {
                "pkgbase" => {
                    if pkgbase.is_some() {
                        return Err(error("a second pkgbase".into()));
                    }
                    if value.is_empty() {
                        return Err(error("an empty pkgbase".into()));
                    }
                    pkgbase = Some(value.to_string());
                }
                "pkgname" => {
                    if pkgbase.is_none() {
                        return Err(error("pkgname before pkgbase".into()));
                    }
                    if value.is_empty() {
                        return Err(error("an empty pkgname".into()));
                    }
                    if packages.iter().any(|(n, _)| n == value) {
                        return Err(error(format!("package {value} appears twice")));
                    }
                    packages.push((value.to_string(), Fields::new()));
                }
                _ => {
                    if pkgbase.is_none() {
                        return Err(error(format!("{key} before pkgbase")));
                    }
                    let fields = match packages.last_mut() {
                        Some((_, fields)) => fields,
                        None => &mut base,
                    };
                    let values = fields.entry(key.to_string()).or_default();
                    let array = is_array(generic(key));
                    if !array && !values.is_empty() {
                        return Err(error(format!("{key} given twice")));
                    }
                    // `depends =` in a package section clears the base's.
                    if !value.is_empty() {
                        values.push(value.to_string());
                    }
                }
            }
        }
        let Some(pkgbase) = pkgbase else {
            return Err(SrcinfoError {
                line: 0,
                message: "no pkgbase".into(),
            });
        };
        if packages.is_empty() {
            return Err(SrcinfoError {
                line: 0,
                message: "no pkgname".into(),
            });
        }
        for required in ["pkgver", "pkgrel"] {
            if base.get(required).is_none_or(Vec::is_empty) {
                return Err(SrcinfoError {
                    line: 0,
                    message: format!("no {required}"),
                });
            }
        }
        Ok(Srcinfo {
            pkgbase,
            base,
            packages,
        })
    }

    fn base_value(&self, key: &str) -> &str {
        self.base
            .get(key)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    /// `[epoch:]pkgver-pkgrel`, as pacman compares versions.
    pub fn version(&self) -> String {
        let epoch = self.base_value("epoch");
        let (ver, rel) = (self.base_value("pkgver"), self.base_value("pkgrel"));
        if epoch.is_empty() || epoch == "0" {
            format!("{ver}-{rel}")
        } else {
            format!("{epoch}:{ver}-{rel}")
        }
    }

    /// The names of the packages built from this base, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.packages.iter().map(|(n, _)| n.as_str())
    }

    /// The values of `key` for package `name` on architecture `arch`: the
    /// package's own when its section sets the key, else the base's, plus
    /// the `key_ARCH` values chosen the same way.
    pub fn values(&self, name: &str, key: &str, arch: &str) -> Vec<String> {
        let own = self
            .packages
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f);
        let pick = |key: &str| -> Vec<String> {
            own.and_then(|f| f.get(key))
                .or_else(|| self.base.get(key))
                .cloned()
                .unwrap_or_default()
        };
        let mut values = pick(key);
        values.extend(pick(&format!("{key}_{arch}")));
        values
    }

    /// Values set in the base only (`makedepends`, `checkdepends`,
    /// `validpgpkeys`, sources), with the architecture's.
    pub fn base_values(&self, key: &str, arch: &str) -> Vec<String> {
        let mut values = self.base.get(key).cloned().unwrap_or_default();
        values.extend(
            self.base
                .get(&format!("{key}_{arch}"))
                .cloned()
                .unwrap_or_default(),
        );
        values
    }
}

/// `depends` for `depends_x86_64`.
fn generic(key: &str) -> &str {
    match key.split_once('_') {
        Some((head, _)) if is_array(head) => head,
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/aur/srcinfo")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn split_packages_override_the_base() {
        let text = fixture("yay-jfin.SRCINFO");
        let info = Srcinfo::parse(&text).unwrap();
        assert_eq!(info.pkgbase, "jellyfin");
        assert_eq!(info.version(), "10.8.4-1");
        assert_eq!(
            info.names().collect::<Vec<_>>(),
            ["jellyfin", "jellyfin-web", "jellyfin-server"]
        );
        assert_eq!(
            info.values("jellyfin", "depends", "x86_64"),
            ["jellyfin-web=10.8.4", "jellyfin-server=10.8.4"]
        );
        assert!(info.values("jellyfin-web", "depends", "x86_64").is_empty());
        assert_eq!(
            info.values("jellyfin-web", "pkgdesc", "x86_64"),
            ["Jellyfin web client"]
        );
        assert_eq!(
            info.values("jellyfin", "pkgdesc", "x86_64"),
            ["The Free Software Media System"]
        );
        assert_eq!(
            info.base_values("makedepends", "x86_64"),
            ["dotnet-sdk>=6", "dotnet-sdk<7", "nodejs", "npm", "git"]
        );
    }

    #[test]
    fn architecture_specific_values_are_added() {
        let text = fixture("srcinfo.rs-gdc-bin.SRCINFO");
        let info = Srcinfo::parse(&text).unwrap();
        assert_eq!(info.version(), "6.3.0+2.068.2-1");
        let x86 = info.base_values("source", "x86_64");
        assert_eq!(x86.len(), 1);
        assert!(x86[0].contains("x86_64-linux-gnu"));
        assert!(info.base_values("source", "i686")[0].contains("i686"));
        assert_eq!(
            info.values("gdc-bin", "provides", "x86_64"),
            ["d-compiler=2.068.2", "gdc=6.3.0+2.068.2"]
        );
    }

    #[test]
    fn every_recorded_file_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/aur/srcinfo");
        let entries = std::fs::read_dir(&dir).expect("the recorded .SRCINFO files");
        let mut count = 0;
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let info =
                Srcinfo::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
            assert!(info.names().count() >= 1);
            assert!(!info.version().starts_with('-'));
            count += 1;
        }
        assert!(count >= 10, "{count} files");
    }

    #[test]
    fn epochs_and_broken_files() {
        let info = Srcinfo::parse(
            "pkgbase = a\n\tpkgver = 1.0\n\tpkgrel = 2\n\tepoch = 3\n\tdepends = b\n\npkgname = a\n\tdepends = \n",
        )
        .unwrap();
        assert_eq!(info.version(), "3:1.0-2");
        assert!(info.values("a", "depends", "x86_64").is_empty(), "cleared");
        for (text, expected) in [
            ("pkgname = a\n", "pkgname before pkgbase"),
            ("pkgbase = a\npkgver = 1\npkgrel = 1\n", "no pkgname"),
            ("pkgbase = a\npkgver = 1\npkgname = a\n", "no pkgrel"),
            ("pkgbase = a\nnonsense\n", "expected `key = value`"),
            (
                "pkgbase = a\npkgver = 1\npkgver = 2\n",
                "pkgver given twice",
            ),
        ] {
            let err = Srcinfo::parse(text).unwrap_err();
            assert!(err.to_string().contains(expected), "{text:?}: {err}");
        }
    }
}
