//! JDKs from Eclipse Temurin through the Adoptium API
//! (`/v3/assets/feature_releases/{feature}/ga`): the builds of one feature
//! release, each with its archive link and SHA-256, and choosing one for a
//! request (`21`, `21.0.2`, `temurin-21`, `21.0.2+13`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    pub checksum: Option<String>,
    pub link: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Binary {
    pub package: Package,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionData {
    pub major: u64,
    #[serde(default)]
    pub minor: u64,
    #[serde(default)]
    pub security: u64,
    #[serde(default)]
    pub build: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub binaries: Vec<Binary>,
    pub release_name: String,
    pub version_data: VersionData,
}

impl Release {
    /// `21.0.2+13`: the directory name and what `omg list java` shows.
    pub fn version(&self) -> String {
        let v = &self.version_data;
        match v.build {
            Some(b) => format!("{}.{}.{}+{b}", v.major, v.minor, v.security),
            None => format!("{}.{}.{}", v.major, v.minor, v.security),
        }
    }
}

/// The request without a vendor prefix (`temurin-21` → `21`).
pub fn plain(request: &str) -> &str {
    let request = request.trim();
    ["temurin-", "openjdk-", "adoptium-", "java-", "jdk-"]
        .iter()
        .find_map(|p| request.strip_prefix(p))
        .unwrap_or(request)
}

/// The feature release a request is about (`21` of `21.0.2+13`).
pub fn feature(request: &str) -> Option<u64> {
    plain(request)
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Adoptium's name for this machine's architecture.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        _ => "x64",
    }
}

/// The newest release (of one feature) `request` asks for.
pub fn resolve<'a>(releases: &'a [Release], request: &str) -> Option<&'a Release> {
    let wanted = plain(request);
    releases
        .iter()
        .filter(|r| !r.binaries.is_empty())
        .filter(|r| {
            let version = r.version();
            version == wanted
                || r.release_name.trim_start_matches("jdk-") == wanted
                || version
                    .strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with(['.', '+']))
                || wanted == "latest"
        })
        .max_by_key(|r| {
            let v = &r.version_data;
            (v.major, v.minor, v.security, v.build.unwrap_or(0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(minor: u64, security: u64, build: u64) -> Release {
        Release {
            binaries: vec![Binary {
                package: Package {
                    checksum: Some("a".repeat(64)),
                    link: format!("https://example.org/jdk-21.{minor}.{security}_{build}.tar.gz"),
                    name: format!("jdk-21.{minor}.{security}_{build}.tar.gz"),
                },
            }],
            release_name: format!("jdk-21.{minor}.{security}+{build}"),
            version_data: VersionData {
                major: 21,
                minor,
                security,
                build: Some(build),
            },
        }
    }

    #[test]
    fn requests_pick_the_newest_matching_build() {
        let releases = vec![release(0, 1, 12), release(0, 2, 13), release(0, 2, 9)];
        let pick = |r: &str| resolve(&releases, r).map(Release::version);
        assert_eq!(pick("21").as_deref(), Some("21.0.2+13"));
        assert_eq!(pick("temurin-21").as_deref(), Some("21.0.2+13"));
        assert_eq!(pick("21.0.1").as_deref(), Some("21.0.1+12"));
        assert_eq!(pick("21.0.2+9").as_deref(), Some("21.0.2+9"));
        assert_eq!(pick("21.0.3"), None);
        assert_eq!(feature("temurin-17.0.10+7"), Some(17));
        assert_eq!(feature("nonsense"), None);
    }
}
