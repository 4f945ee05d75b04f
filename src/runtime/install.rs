//! Installing a runtime version from its upstream, failing closed: the
//! release is chosen from the upstream's index, the checksum list is
//! fetched (and its OpenPGP signature checked where upstream signs it),
//! the archive is downloaded (resumably) and must match its checksum, and
//! only a complete unpacking becomes `versions/<runtime>/<version>`. One
//! install of a version at a time (a lock file); nothing is left behind on
//! failure but a resumable `.part` download.

use std::path::{Path, PathBuf};

use super::download;
use super::{archive, node};

pub use super::installer::{
    InstallError, Installer, KeyringCheck, Lock, Progress, RECEIPT, Receipt, read_receipt,
    write_receipt,
};

/// Where Node.js comes from and whom to believe.
#[derive(Debug, Clone)]
pub struct NodeSource {
    /// The dist root, e.g. `https://nodejs.org/dist`.
    pub mirror: String,
    /// Certificates of the Node.js release team (`*.asc`).
    pub keys_dir: PathBuf,
    /// Checks a detached signature of data against the keys in a
    /// directory (`security::pgp::verify_with_keyring`; passed in so
    /// that only omgd links the OpenPGP library).
    pub verify: KeyringCheck,
}

/// Installs the Node.js release `request` asks for; returns its version
/// and directory (already installed: returned as it is).
pub async fn install_node(
    inst: &mut Installer<'_>,
    source: &NodeSource,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    let mirror = source.mirror.trim_end_matches('/');
    inst.step("reading the Node.js release index");
    let index = inst.text(&format!("{mirror}/index.json")).await?;
    let releases = node::parse_index_json(&index).map_err(|e| InstallError::Fetch {
        what: format!("{mirror}/index.json"),
        message: e.to_string(),
    })?;
    let platform = node::platform();
    let release =
        node::resolve(&releases, request, platform).ok_or_else(|| InstallError::NoMatch {
            runtime: "node".into(),
            request: request.into(),
        })?;
    let version = release.version.to_string();
    let installed = inst.versions.join("node").join(&version);
    if installed.is_dir() {
        return Ok((version, installed));
    }
    let file = format!("node-v{version}-{platform}.tar.gz");
    let base = format!("{mirror}/v{version}");

    let expected = signed_checksum(
        inst,
        &base,
        "SHASUMS256.txt.sig",
        &file,
        &source.keys_dir,
        source.verify,
    )
    .await?;

    let artifact = Artifact {
        runtime: "node",
        version,
        url: format!("{base}/{file}"),
        file,
        layout: Layout::TarGz,
        sha256: expected,
    };
    let lts = release.lts.clone();
    let (version, dir) = install_artifact(inst, artifact).await?;
    // Remembered so that `lts/*` and `lts/<codename>` resolve offline.
    if let Some(codename) = lts {
        let _ = std::fs::write(dir.join(node::LTS_MARKER), codename);
    }
    Ok((version, dir))
}

/// `file`'s SHA-256 from `<base>/SHASUMS256.txt`, whose signature
/// `<base>/<signature>` must check out against the keys in `keys_dir`;
/// `None` only when the user asked for `--insecure`. No list, no
/// signature, a bad one, or no line for `file`: the install stops.
async fn signed_checksum(
    inst: &mut Installer<'_>,
    base: &str,
    signature: &str,
    file: &str,
    keys_dir: &Path,
    verify: KeyringCheck,
) -> Result<Option<String>, InstallError> {
    if inst.insecure {
        return Ok(None);
    }
    inst.step("verifying the checksum list");
    let bad = |message: String| InstallError::BadSignature {
        what: "SHASUMS256.txt".into(),
        message,
    };
    let sums = inst
        .text(&format!("{base}/SHASUMS256.txt"))
        .await
        .map_err(|_| InstallError::NoChecksum { file: file.into() })?;
    let signature = inst
        .bytes(&format!("{base}/{signature}"))
        .await
        .map_err(|e| bad(e.to_string()))?;
    verify(sums.as_bytes(), &signature, keys_dir).map_err(bad)?;
    download::checksum_for(&sums, file)
        .map(Some)
        .ok_or_else(|| InstallError::NoChecksum { file: file.into() })
}

/// How an archive is laid out.
pub enum Layout {
    /// A gzipped tarball whose top directory becomes the version's.
    TarGz,
    /// A zip whose top directory's files go under this subdirectory.
    Zip { under: &'static str },
}

/// One archive to install as `versions/<runtime>/<version>`.
pub struct Artifact {
    pub runtime: &'static str,
    pub version: String,
    pub url: String,
    pub file: String,
    pub layout: Layout,
    /// The published SHA-256, if upstream publishes one.
    pub sha256: Option<String>,
}

/// Downloads, checks and unpacks `artifact`, one install of a version at
/// a time; an installed version is left as it is.
pub async fn install_artifact(
    inst: &mut Installer<'_>,
    artifact: Artifact,
) -> Result<(String, PathBuf), InstallError> {
    // Fail closed: no published checksum, no install (unless asked).
    if artifact.sha256.is_none() && !inst.insecure {
        return Err(InstallError::NoChecksum {
            file: artifact.file,
        });
    }
    let dir = inst.versions.join(artifact.runtime);
    let target = dir.join(&artifact.version);
    let _lock = Lock::take(&dir, &artifact.version)?;
    if target.is_dir() {
        return Ok((artifact.version, target));
    }
    let archive_path = inst
        .fetch_verified(&artifact.url, &artifact.file, artifact.sha256.as_deref())
        .await?;
    inst.step("unpacking");
    let reader = std::fs::File::open(&archive_path).map_err(|source| InstallError::Io {
        context: format!("cannot read {}", archive_path.display()),
        source,
    })?;
    match artifact.layout {
        Layout::TarGz => archive::unpack_tar_gz(reader, &target)?,
        Layout::Zip { under } => archive::unpack_zip(reader, &target, under)?,
    }
    let _ = std::fs::remove_file(&archive_path);
    write_receipt(&target, artifact.sha256.as_deref(), &artifact.url);
    Ok((artifact.version, target))
}

/// Installs the Go release `request` asks for from `mirror` (go.dev/dl's
/// layout), checked against the listing's SHA-256.
pub async fn install_go(
    inst: &mut Installer<'_>,
    mirror: &str,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    let mirror = mirror.trim_end_matches('/');
    inst.step("reading the Go release listing");
    let url = format!("{mirror}/?mode=json&include=all");
    let listing = inst.text(&url).await?;
    let releases = super::go::parse_listing(&listing).map_err(|message| InstallError::Fetch {
        what: url.clone(),
        message,
    })?;
    let no_match = || InstallError::NoMatch {
        runtime: "go".into(),
        request: request.into(),
    };
    let release = super::go::resolve(&releases, request).ok_or_else(no_match)?;
    let archive = release.archive().ok_or_else(no_match)?;
    let sha256 = (archive.sha256.len() == 64).then(|| archive.sha256.to_ascii_lowercase());
    let artifact = Artifact {
        runtime: "go",
        version: release.number().to_string(),
        url: format!("{mirror}/{}", archive.filename),
        file: archive.filename.clone(),
        layout: Layout::TarGz,
        sha256,
    };
    install_artifact(inst, artifact).await
}

/// Installs the CPython build `request` asks for, from the download list
/// at `metadata_url` (uv's format), checked against the list's SHA-256.
pub async fn install_python(
    inst: &mut Installer<'_>,
    metadata_url: &str,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    inst.step("reading the Python download list");
    let text = inst.text(metadata_url).await?;
    let builds = super::python::parse_metadata(&text).map_err(|message| InstallError::Fetch {
        what: metadata_url.to_string(),
        message,
    })?;
    let build = super::python::resolve(&builds, request).ok_or_else(|| InstallError::NoMatch {
        runtime: "python".into(),
        request: request.into(),
    })?;
    let file = build
        .url
        .rsplit('/')
        .next()
        .unwrap_or("python.tar.gz")
        .replace("%2B", "+");
    let artifact = Artifact {
        runtime: "python",
        version: build.version.clone(),
        url: build.url.clone(),
        file,
        layout: Layout::TarGz,
        sha256: build.sha256.clone(),
    };
    install_artifact(inst, artifact).await
}

/// Installs the Temurin JDK `request` asks for through the Adoptium API at
/// `api`, checked against the API's SHA-256.
pub async fn install_java(
    inst: &mut Installer<'_>,
    api: &str,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    use super::java;
    let no_match = || InstallError::NoMatch {
        runtime: "java".into(),
        request: request.into(),
    };
    let feature = java::feature(request).ok_or_else(no_match)?;
    inst.step("asking Adoptium for the builds");
    let url = format!(
        "{}/v3/assets/feature_releases/{feature}/ga?architecture={}&heap_size=normal&image_type=jdk&jvm_impl=hotspot&os=linux&project=jdk&sort_order=DESC&vendor=eclipse&page_size=50",
        api.trim_end_matches('/'),
        java::architecture()
    );
    let text = inst.text(&url).await?;
    let releases: Vec<java::Release> =
        serde_json::from_str(&text).map_err(|e| InstallError::Fetch {
            what: url.clone(),
            message: format!("not the Adoptium API's format: {e}"),
        })?;
    let release = java::resolve(&releases, request).ok_or_else(no_match)?;
    let package = &release.binaries[0].package;
    let sha256 = package
        .checksum
        .clone()
        .filter(|c| c.len() == 64)
        .map(|c| c.to_ascii_lowercase());
    let artifact = Artifact {
        runtime: "java",
        version: release.version(),
        url: package.link.clone(),
        file: package.name.clone(),
        layout: Layout::TarGz,
        sha256,
    };
    install_artifact(inst, artifact).await
}

/// Where Bun comes from and whom to believe.
pub struct BunSource<'a> {
    /// Release downloads: `<releases>/bun-v<version>/<file>`.
    pub releases: &'a str,
    /// GitHub's release list, for aliases and partial versions.
    pub api: &'a str,
    /// Bun's release signing key(s), for `SHASUMS256.txt.asc`.
    pub keys_dir: &'a Path,
    pub verify: KeyringCheck,
}

/// Installs the Bun release `request` asks for, checked against the
/// release's `SHASUMS256.txt`, whose signature (`SHASUMS256.txt.asc`)
/// must be by Bun's release key.
pub async fn install_bun(
    inst: &mut Installer<'_>,
    source: &BunSource<'_>,
    request: &str,
) -> Result<(String, PathBuf), InstallError> {
    let no_match = || InstallError::NoMatch {
        runtime: "bun".into(),
        request: request.into(),
    };
    let wanted = request
        .trim()
        .trim_start_matches("bun-")
        .trim_start_matches('v');
    let version = match semver::Version::parse(wanted) {
        Ok(exact) => exact.to_string(),
        Err(_) => {
            inst.step("asking GitHub for Bun's releases");
            #[derive(serde::Deserialize)]
            struct Tag {
                tag_name: String,
                #[serde(default)]
                prerelease: bool,
                #[serde(default)]
                draft: bool,
            }
            let url = format!("{}?per_page=100", source.api.trim_end_matches('/'));
            let text = inst.text(&url).await?;
            let tags: Vec<Tag> = serde_json::from_str(&text).map_err(|e| InstallError::Fetch {
                what: url.clone(),
                message: format!("not GitHub's release format: {e}"),
            })?;
            let found: Vec<super::node::Release> = tags
                .into_iter()
                .filter(|t| !t.prerelease && !t.draft)
                .filter_map(|t| {
                    Some(super::node::Release {
                        version: semver::Version::parse(t.tag_name.strip_prefix("bun-v")?).ok()?,
                        lts: None,
                        date: String::new(),
                        files: Vec::new(),
                    })
                })
                .collect();
            super::node::resolve(&found, wanted, "")
                .ok_or_else(no_match)?
                .version
                .to_string()
        }
    };
    let arch = match std::env::consts::ARCH {
        "aarch64" => "aarch64",
        _ => "x64",
    };
    let file = format!("bun-linux-{arch}.zip");
    let base = format!("{}/bun-v{version}", source.releases.trim_end_matches('/'));
    let sha256 = signed_checksum(
        inst,
        &base,
        "SHASUMS256.txt.asc",
        &file,
        source.keys_dir,
        source.verify,
    )
    .await?;
    let artifact = Artifact {
        runtime: "bun",
        version,
        url: format!("{base}/{file}"),
        file,
        layout: Layout::Zip { under: "bin" },
        sha256,
    };
    install_artifact(inst, artifact).await
}

/// What to install, and from where.
pub struct Request<'a> {
    pub runtime: super::version_file::Runtime,
    /// A version, a partial version or an alias.
    pub version: &'a str,
    /// Rust: components and targets beyond the profile's.
    pub components: &'a [String],
    pub targets: &'a [String],
    pub insecure: bool,
    pub config: &'a crate::config::RuntimesConfig,
    pub verify: KeyringCheck,
    pub versions: &'a Path,
    pub downloads: &'a Path,
}

/// Installs what `request` asks for from its runtime's upstream.
pub async fn install(
    request: Request<'_>,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<(String, PathBuf), InstallError> {
    use super::version_file::Runtime;
    let Request {
        runtime,
        version,
        components,
        targets,
        insecure,
        config,
        verify,
        versions,
        downloads,
    } = request;
    let mut inst = Installer {
        client: Installer::client()?,
        versions,
        downloads,
        insecure,
        progress,
    };
    let inst = &mut inst;
    let bun_keys = config.bun_keys_dir();
    // Without the keys nothing could be verified: say so before fetching.
    let keys = match runtime {
        Runtime::Node => Some(config.node_keys_dir()),
        Runtime::Bun => Some(bun_keys.clone()),
        _ => None,
    };
    if let Some(missing) = keys
        .filter(|_| !insecure)
        .and_then(|k| missing_keys(&k, runtime.as_str()))
    {
        return Err(missing);
    }
    match runtime {
        Runtime::Node => {
            let source = NodeSource {
                mirror: config.node_mirror(),
                keys_dir: config.node_keys_dir(),
                verify,
            };
            install_node(inst, &source, version).await
        }
        Runtime::Go => install_go(inst, &config.go_mirror, version).await,
        Runtime::Python => install_python(inst, &config.python_metadata, version).await,
        Runtime::Java => install_java(inst, &config.java_api, version).await,
        Runtime::Bun => {
            let source = BunSource {
                releases: &config.bun_releases,
                api: &config.bun_api,
                keys_dir: &bun_keys,
                verify,
            };
            install_bun(inst, &source, version).await
        }
        Runtime::Rust => {
            let toolchain = super::rust::Toolchain {
                server: &config.rust_dist_server(),
                profile: &config.rust_profile,
                components,
                targets,
            };
            super::rust::install(inst, &toolchain, version).await
        }
        Runtime::Ruby => super::ruby::install(inst, &config.ruby_index, version).await,
    }
}

/// Whose keys `runtime` (node or bun) needs, and how to get them.
pub fn key_help(runtime: &str) -> (&'static str, &'static str) {
    if runtime == "bun" {
        (
            "Bun release key",
            "Put the public key that signs each Bun release's SHASUMS256.txt.asc (an armored .asc file) there; Bun publishes its releases and that signature at https://github.com/oven-sh/bun/releases.",
        )
    } else {
        (
            "Node.js release keys",
            "omg ships them (make install puts them in <prefix>/share/omg/keys/node; [runtimes] node_keys points elsewhere); the Node.js project publishes them at https://github.com/nodejs/release-keys.",
        )
    }
}

/// Whether `keys_dir` holds at least one key file; the error saying which
/// of `runtime`'s keys are missing and where to get them when not.
pub fn missing_keys(keys_dir: &Path, runtime: &str) -> Option<InstallError> {
    if !crate::security::pgp::key_files(keys_dir).is_empty() {
        return None;
    }
    let (whose, how) = key_help(runtime);
    Some(InstallError::NoKeys {
        whose,
        dir: keys_dir.display().to_string(),
        how,
    })
}

/// Whether `request` names one exact version (`20.11.1`, `v20.11.1`,
/// `1.22.3`), which installed means done.
pub fn is_exact(request: &str) -> bool {
    let plain = request.trim().trim_start_matches('v');
    plain.split('.').count() >= 3
        && plain.split('.').all(|p| !p.is_empty())
        && plain.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Whether `request` names whatever upstream's newest is now (`latest`,
/// `lts`, `lts/*`, `node`, `current`, `nightly`, `beta`): what is installed
/// may be behind it, so upstream is asked.
pub fn moves_upstream(request: &str) -> bool {
    matches!(
        request.trim().to_lowercase().as_str(),
        "latest" | "lts" | "lts/*" | "node" | "current" | "nightly" | "beta" | "*" | ""
    )
}

/// Makes `versions/<runtime>/current` point at `version`, atomically (a new
/// link renamed over the old one).
pub fn set_current(versions: &Path, runtime: &str, version: &str) -> Result<(), InstallError> {
    super::versions::set_current(versions, runtime, version).map_err(|source| InstallError::Io {
        context: format!(
            "cannot make {version} the default in {}",
            super::versions::dir(versions, runtime).display()
        ),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_moving_requests_are_told_apart() {
        assert!(is_exact("20.11.1") && is_exact("v20.11.1") && is_exact("3.12.4"));
        assert!(!is_exact("20") && !is_exact("lts/iron") && !is_exact("1.22"));
        assert!(moves_upstream("latest") && moves_upstream("lts/*"));
        assert!(!moves_upstream("lts/iron") && !moves_upstream("20") && !moves_upstream("stable"));
    }
}
