//! Rust toolchains the way rustup gets them: which channel manifest a
//! request names (`stable`, `1.86`, `nightly-2025-04-03`, …), reading the
//! manifest (v2 TOML), choosing the packages of a profile plus the asked
//! components and targets for this machine, and merging the
//! rust-installer tarballs (`components`, `<component>/manifest.in`) into
//! one prefix.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::archive;
use super::installer::{InstallError, Installer, Lock};

/// Where rustup's manifests and tarballs are published; URLs in a manifest
/// start with it and are re-rooted on the configured server.
pub const DIST_SERVER: &str = crate::config::RUST_DIST_SERVER;

/// What a toolchain request names: the manifest to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The manifest's path on the dist server (`dist/channel-rust-stable.toml`).
    pub manifest: String,
}

/// The host triple omg installs toolchains for.
pub fn host() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-gnu",
        _ => "x86_64-unknown-linux-gnu",
    }
}

/// `stable`, `beta`, `nightly`, `latest`, `1.86`, `1.86.0`,
/// `nightly-2025-04-03`, `stable-x86_64-unknown-linux-gnu` → the manifest.
pub fn channel(request: &str) -> Option<Channel> {
    let request = request.trim();
    let request = request
        .strip_suffix(&format!("-{}", host()))
        .unwrap_or(request);
    let named = |name: &str| match name {
        "stable" | "latest" | "lts" => Some("stable"),
        "beta" => Some("beta"),
        "nightly" => Some("nightly"),
        _ => None,
    };
    if let Some(name) = named(request) {
        return Some(Channel {
            manifest: format!("dist/channel-rust-{name}.toml"),
        });
    }
    if let Some((name, date)) = request.split_once('-')
        && let Some(name) = named(name)
        && is_date(date)
    {
        return Some(Channel {
            manifest: format!("dist/{date}/channel-rust-{name}.toml"),
        });
    }
    let parts: Vec<&str> = request.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (numeric && (2..=3).contains(&parts.len())).then(|| Channel {
        manifest: format!("dist/channel-rust-{request}.toml"),
    })
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// A channel manifest (`manifest-version = "2"`).
#[derive(Debug, serde::Deserialize)]
pub struct Manifest {
    #[serde(rename = "manifest-version")]
    pub manifest_version: String,
    pub date: String,
    pub pkg: BTreeMap<String, Package>,
    #[serde(default)]
    pub renames: BTreeMap<String, Rename>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Package {
    pub version: String,
    #[serde(default)]
    pub target: BTreeMap<String, Target>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Target {
    pub available: bool,
    pub url: Option<String>,
    pub hash: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Rename {
    pub to: String,
}

/// One tarball to fetch: package `name` built for `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub target: String,
    pub url: String,
    pub sha256: String,
}

impl Part {
    /// How the part is remembered in an installed toolchain.
    pub fn key(&self) -> String {
        format!("{} {}", self.name, self.target)
    }

    /// The tarball's file name.
    pub fn file(&self) -> String {
        self.url
            .rsplit('/')
            .next()
            .unwrap_or(&self.name)
            .to_string()
    }
}

pub fn parse_manifest(text: &str) -> Result<Manifest, String> {
    let manifest: Manifest =
        toml::from_str(text).map_err(|e| format!("not a Rust channel manifest: {e}"))?;
    if manifest.manifest_version != "2" {
        return Err(format!(
            "manifest version {} is not one omg reads (2)",
            manifest.manifest_version
        ));
    }
    Ok(manifest)
}

impl Manifest {
    /// The name the toolchain is installed under: the release number for
    /// stable and beta (`1.86.0`, `1.87.0-beta.3`), `nightly-<date>` for
    /// nightlies.
    pub fn toolchain_name(&self) -> Option<String> {
        let version = self.pkg.get("rust")?.version.split_whitespace().next()?;
        Some(if version.contains("nightly") || version.contains("-dev") {
            format!("nightly-{}", self.date)
        } else {
            version.to_string()
        })
    }

    fn part(&self, name: &str, target: &str) -> Option<Part> {
        let package = self.pkg.get(name)?;
        let (target, built) = package
            .target
            .get_key_value(target)
            .or_else(|| package.target.get_key_value("*"))?;
        if !built.available {
            return None;
        }
        Some(Part {
            name: name.to_string(),
            target: target.clone(),
            url: built.url.clone()?,
            sha256: built.hash.clone()?.to_ascii_lowercase(),
        })
    }

    /// The parts of `profile` available for `host` (the rest of a profile
    /// is skipped, as rustup does), plus the asked `components` (their
    /// old or new names) and the standard library of each of `targets`,
    /// which must exist.
    pub fn select(
        &self,
        host: &str,
        profile: &str,
        components: &[String],
        targets: &[String],
    ) -> Result<Vec<Part>, String> {
        let listed = self
            .profiles
            .get(profile)
            .ok_or_else(|| format!("the manifest has no {profile:?} profile"))?;
        let mut parts: Vec<Part> = listed
            .iter()
            .filter_map(|name| self.part(name, host))
            .collect();
        for component in components {
            let name = self
                .renames
                .get(component)
                .map_or(component.as_str(), |r| r.to.as_str());
            let part = self
                .part(name, host)
                .ok_or_else(|| format!("component {component} is not available for {host}"))?;
            parts.push(part);
        }
        for target in targets {
            let part = self
                .part("rust-std", target)
                .filter(|p| p.target == *target)
                .ok_or_else(|| format!("there is no standard library for target {target}"))?;
            parts.push(part);
        }
        parts.sort_by_key(Part::key);
        parts.dedup();
        if !parts.iter().any(|p| p.name == "rustc") {
            return Err(format!("this release has no rustc for {host}"));
        }
        Ok(parts)
    }
}

/// `url` moved from the official server onto `server`.
pub fn rehome(url: &str, server: &str) -> String {
    match url.strip_prefix(DIST_SERVER) {
        Some(rest) => format!("{}{rest}", server.trim_end_matches('/')),
        None => url.to_string(),
    }
}

/// Merges an unpacked rust-installer tarball (its `components` file, each
/// component's `manifest.in`) into `prefix`.
pub fn merge_installer(unpacked: &Path, prefix: &Path) -> Result<(), String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let components = read(&unpacked.join("components"))?;
    for component in components.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let source = unpacked.join(relative(component)?);
        let manifest = read(&source.join("manifest.in"))?;
        for line in manifest.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (_kind, path) = line
                .split_once(':')
                .ok_or_else(|| format!("{component}/manifest.in: unreadable line {line:?}"))?;
            let path = relative(path)?;
            let from = source.join(path);
            let to = prefix.join(path);
            move_merging(&from, &to)?;
        }
    }
    Ok(())
}

/// `text` as a path that stays inside (normal components only).
fn relative(text: &str) -> Result<&Path, String> {
    let path = Path::new(text);
    let fine = !text.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    fine.then_some(path)
        .ok_or_else(|| format!("the tarball names a path outside its directory: {text:?}"))
}

/// Moves `from` to `to`, merging into directories already there.
fn move_merging(from: &Path, to: &Path) -> Result<(), String> {
    let fail =
        |e: std::io::Error| format!("cannot move {} to {}: {e}", from.display(), to.display());
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let meta = std::fs::symlink_metadata(from).map_err(fail)?;
    if meta.is_dir() && to.is_dir() {
        for entry in std::fs::read_dir(from).map_err(fail)? {
            let entry = entry.map_err(fail)?;
            move_merging(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    std::fs::rename(from, to).map_err(fail)
}

/// How omg installs a toolchain itself: from which server, with which
/// profile, and which components and targets besides.
pub struct Toolchain<'a> {
    pub server: &'a str,
    pub profile: &'a str,
    pub components: &'a [String],
    pub targets: &'a [String],
}

/// The file in an installed toolchain listing its parts (`name target`).
const PARTS_RECORD: &str = "lib/rustlib/omg-parts";

/// Installs the toolchain `request` names (and, into one already
/// installed, the components and targets it lacks): the manifest is
/// checked against its published `.sha256`, every tarball against the
/// manifest's hash, and a new toolchain appears only once complete.
pub async fn install(
    inst: &mut Installer<'_>,
    toolchain: &Toolchain<'_>,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    let no_match = || InstallError::NoMatch {
        runtime: "rust".into(),
        request: request.into(),
    };
    let unavailable = |message| InstallError::Unavailable {
        runtime: "rust".into(),
        message,
    };
    let channel = channel(request).ok_or_else(no_match)?;
    let server = toolchain.server.trim_end_matches('/');
    let url = format!("{server}/{}", channel.manifest);
    inst.step("reading the channel manifest");
    let text = match inst.text(&url).await {
        Err(InstallError::Fetch { message, .. }) if message == "HTTP 404" => Err(no_match()),
        other => other,
    }?;
    let manifest_file = channel.manifest.rsplit('/').next().unwrap_or_default();
    if !inst.insecure {
        let sums =
            inst.text(&format!("{url}.sha256"))
                .await
                .map_err(|_| InstallError::NoChecksum {
                    file: manifest_file.into(),
                })?;
        let expected = sums
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let actual = format!("{:x}", Sha256::digest(text.as_bytes()));
        if expected != actual {
            return Err(InstallError::Mismatch {
                file: manifest_file.into(),
                expected,
                actual,
            });
        }
    }
    let manifest = parse_manifest(&text).map_err(|message| InstallError::Fetch {
        what: url.clone(),
        message,
    })?;
    let name = manifest
        .toolchain_name()
        .ok_or_else(|| unavailable("the manifest has no rust package".into()))?;
    let parts = manifest
        .select(
            host(),
            toolchain.profile,
            toolchain.components,
            toolchain.targets,
        )
        .map_err(unavailable)?;

    let dir = inst.versions.join("rust");
    let target = dir.join(&name);
    let _lock = Lock::take(&dir, &name)?;
    let record = target.join(PARTS_RECORD);
    let have = std::fs::read_to_string(&record).unwrap_or_default();
    let missing: Vec<&Part> = parts
        .iter()
        .filter(|p| !have.lines().any(|l| l == p.key()))
        .collect();
    if target.is_dir() && missing.is_empty() {
        return Ok((name, target));
    }
    let mut archives = Vec::new();
    for part in &missing {
        let url = rehome(&part.url, server);
        let path = inst
            .fetch_verified(&url, &part.file(), Some(&part.sha256))
            .await?;
        archives.push(path);
    }
    inst.step("unpacking");
    let keys: Vec<String> = missing.iter().map(|p| p.key()).collect();
    let fill = |prefix: &Path| -> Result<(), archive::ExtractError> {
        let work = prefix.join(".omg-parts");
        for (i, path) in archives.iter().enumerate() {
            let unpacked = work.join(i.to_string());
            std::fs::create_dir_all(&unpacked).map_err(io_error(&unpacked))?;
            let reader = std::fs::File::open(path).map_err(io_error(path))?;
            archive::unpack_into(reader, &unpacked)?;
            merge_installer(&unpacked, prefix).map_err(archive::ExtractError::Damaged)?;
        }
        let _ = std::fs::remove_dir_all(&work);
        // Recorded last: a part is installed once it is listed.
        let record = prefix.join(PARTS_RECORD);
        let mut listed = std::fs::read_to_string(&record).unwrap_or_default();
        for key in &keys {
            listed.push_str(key);
            listed.push('\n');
        }
        if let Some(parent) = record.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        std::fs::write(&record, listed).map_err(io_error(&record))
    };
    if target.is_dir() {
        fill(&target)?;
    } else {
        archive::staged(&target, fill)?;
    }
    for path in archives {
        let _ = std::fs::remove_file(path);
    }
    Ok((name, target))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> archive::ExtractError + '_ {
    move |source| archive::ExtractError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    }
}

/// Whether `rustup` is installed (on `PATH`); omg hands Rust to it then.
pub fn rustup() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("rustup"))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_their_manifest() {
        let m = |r: &str| channel(r).map(|c| c.manifest);
        assert_eq!(m("stable").unwrap(), "dist/channel-rust-stable.toml");
        assert_eq!(m("latest").unwrap(), "dist/channel-rust-stable.toml");
        assert_eq!(m("1.86").unwrap(), "dist/channel-rust-1.86.toml");
        assert_eq!(m("1.86.0").unwrap(), "dist/channel-rust-1.86.0.toml");
        assert_eq!(
            m("nightly-2025-04-03").unwrap(),
            "dist/2025-04-03/channel-rust-nightly.toml"
        );
        assert_eq!(
            m(&format!("beta-{}", host())).unwrap(),
            "dist/channel-rust-beta.toml"
        );
        assert_eq!(m("nightly-25-04-03"), None);
        assert_eq!(m("1"), None);
        assert_eq!(m("../../etc"), None);
    }
}
