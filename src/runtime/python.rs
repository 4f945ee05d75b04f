//! CPython builds from python-build-standalone, as listed by a download
//! metadata file in uv's format (`download-metadata.json`: each build's
//! version, platform, URL and SHA-256), and choosing one for a request
//! (`3.12`, `3.12.4`, `latest`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct Arch {
    family: String,
    variant: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    name: String,
    arch: Arch,
    os: String,
    libc: String,
    major: u64,
    minor: u64,
    patch: u64,
    #[serde(default)]
    prerelease: String,
    url: String,
    #[serde(default)]
    sha256: Option<String>,
    variant: Option<String>,
}

/// One CPython build for this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// `3.12.4` or `3.15.0rc1`.
    pub version: String,
    pub key: (u64, u64, u64),
    pub prerelease: String,
    pub url: String,
    pub sha256: Option<String>,
}

/// The default builds (CPython, glibc, the baseline CPU, no debug or
/// free-threaded variant) for this machine's architecture.
pub fn parse_metadata(text: &str) -> Result<Vec<Build>, String> {
    let entries: std::collections::BTreeMap<String, Entry> = serde_json::from_str(text)
        .map_err(|e| format!("the Python download list is not valid: {e}"))?;
    let family = std::env::consts::ARCH;
    Ok(entries
        .into_values()
        .filter(|e| {
            e.name == "cpython"
                && e.os == "linux"
                && e.libc == "gnu"
                && e.arch.family == family
                && e.arch.variant.is_none()
                && e.variant.is_none()
        })
        .map(|e| Build {
            version: format!("{}.{}.{}{}", e.major, e.minor, e.patch, e.prerelease),
            key: (e.major, e.minor, e.patch),
            prerelease: e.prerelease,
            url: e.url,
            sha256: e.sha256.filter(|s| s.len() == 64),
        })
        .collect())
}

/// The newest build `request` asks for: `latest`, a partial version
/// (`3`, `3.12`) or an exact one (`3.12.4`, `3.15.0rc1`). Pre-releases
/// only when asked for exactly.
pub fn resolve<'a>(builds: &'a [Build], request: &str) -> Option<&'a Build> {
    let request = request.trim();
    let request = request.strip_prefix("python").unwrap_or(request);
    builds
        .iter()
        .filter(|b| {
            if b.version == request {
                return true;
            }
            if !b.prerelease.is_empty() {
                return false;
            }
            if matches!(request, "latest" | "3") {
                return request == "latest" || b.key.0 == 3;
            }
            let parts: Vec<u64> = request.split('.').filter_map(|p| p.parse().ok()).collect();
            !parts.is_empty()
                && parts.len() == request.split('.').count()
                && parts
                    .iter()
                    .zip([b.key.0, b.key.1, b.key.2])
                    .all(|(w, h)| *w == h)
        })
        .max_by_key(|b| b.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_against_uv_s_real_list() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/python/uv-download-metadata.trimmed.json");
        let text = std::fs::read_to_string(&path).expect("the recorded list");
        if std::env::consts::ARCH != "x86_64" {
            assert!(
                std::env::var("OMG_TEST_STRICT").as_deref() != Ok("1"),
                "the expectations are for x86_64 (OMG_TEST_STRICT=1 forbids skipping)"
            );
            eprintln!("the expectations are for x86_64: skipping");
            return;
        }
        let builds = parse_metadata(&text).unwrap();
        let pick = |r: &str| resolve(&builds, r).map(|b| b.version.clone());
        assert_eq!(pick("latest").as_deref(), Some("3.14.7"));
        assert_eq!(pick("3.12").as_deref(), Some("3.12.14"));
        assert_eq!(pick("3.12.13").as_deref(), Some("3.12.13"));
        assert_eq!(pick("3.15.0rc1").as_deref(), Some("3.15.0rc1"));
        assert_eq!(pick("3.15"), None, "only pre-releases there");
        assert_eq!(pick("2.7"), None);
        let b = resolve(&builds, "3.12").unwrap();
        assert!(
            b.url.contains("x86_64-unknown-linux-gnu-install_only"),
            "{}",
            b.url
        );
        assert_eq!(b.sha256.as_ref().map(String::len), Some(64));
    }
}
