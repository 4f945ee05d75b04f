//! Node.js releases as nodejs.org lists them (`index.json`, `index.tab`)
//! and choosing one for a request as nvm does: `latest`/`node`/`current`,
//! `lts`/`lts/*`, `lts/<codename>`, partial versions (`20`, `20.10`), exact
//! versions, and npm-style ranges from `package.json` (`^20`, `>=18 <21`).

use serde::Deserialize;

/// One release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Without the leading `v`.
    pub version: semver::Version,
    /// The LTS codename, lower case, for LTS releases.
    pub lts: Option<String>,
    pub date: String,
    /// Builds available (`linux-x64`, `linux-arm64`, …).
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("the Node.js index is not valid: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct JsonRelease {
    version: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    files: Vec<String>,
    /// `false`, or the codename.
    #[serde(default)]
    lts: serde_json::Value,
}

fn version(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

/// Reads `index.json`.
pub fn parse_index_json(text: &str) -> Result<Vec<Release>, IndexError> {
    let raw: Vec<JsonRelease> =
        serde_json::from_str(text).map_err(|e| IndexError::Malformed(e.to_string()))?;
    Ok(raw
        .into_iter()
        .filter_map(|r| {
            Some(Release {
                version: version(&r.version)?,
                lts: r.lts.as_str().map(str::to_lowercase),
                date: r.date,
                files: r.files,
            })
        })
        .collect())
}

/// Reads `index.tab` (tab-separated, `-` for empty, a header line).
pub fn parse_index_tab(text: &str) -> Result<Vec<Release>, IndexError> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| IndexError::Malformed("empty".into()))?
        .split('\t')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| IndexError::Malformed(format!("no {name} column")))
    };
    let (v, d, f, l) = (
        column("version")?,
        column("date")?,
        column("files")?,
        column("lts")?,
    );
    Ok(lines
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().filter(|c| *c != "-");
            Some(Release {
                version: version(cell(v)?)?,
                lts: cell(l).map(str::to_lowercase),
                date: cell(d).unwrap_or_default().to_string(),
                files: cell(f)
                    .map(|f| f.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// The build name of this machine in the index (`linux-x64`, …).
pub fn platform() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "linux-arm64",
        "arm" => "linux-armv7l",
        "powerpc64" => "linux-ppc64le",
        "s390x" => "linux-s390x",
        _ => "linux-x64",
    }
}

/// An npm range (`>=18 <21`, `^20 || ^22`) as semver requirements.
fn npm_range(text: &str) -> Option<Vec<semver::VersionReq>> {
    text.split("||")
        .map(|alternative| {
            let joined = alternative
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(", ");
            semver::VersionReq::parse(&joined).ok()
        })
        .collect()
}

/// The file in an installed LTS version's directory naming its line
/// (`iron`), written at install.
pub const LTS_MARKER: &str = ".omg-lts";

/// The codename of an LTS line by its major version, for versions
/// installed without a marker.
pub fn lts_codename(major: u64) -> Option<&'static str> {
    const NAMES: [&str; 11] = [
        "argon", "boron", "carbon", "dubnium", "erbium", "fermium", "gallium", "hydrogen", "iron",
        "jod", "krypton",
    ];
    (major >= 4 && major.is_multiple_of(2))
        .then(|| NAMES.get(((major - 4) / 2) as usize).copied())
        .flatten()
}

/// The newest release on `platform` that `request` asks for.
pub fn resolve<'a>(releases: &'a [Release], request: &str, platform: &str) -> Option<&'a Release> {
    let request = request.trim();
    let request = request
        .strip_prefix('v')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(request);
    let lower = request.to_lowercase();
    let available = releases
        .iter()
        .filter(|r| r.files.is_empty() || r.files.iter().any(|f| f == platform));
    let matches: Box<dyn Fn(&Release) -> bool> = match lower.as_str() {
        "latest" | "node" | "current" | "stable" => {
            Box::new(|r: &Release| r.version.pre.is_empty())
        }
        "lts" | "lts/*" => Box::new(|r: &Release| r.lts.is_some()),
        _ if lower.starts_with("lts/") => {
            let codename = lower["lts/".len()..].to_string();
            Box::new(move |r: &Release| r.lts.as_deref() == Some(codename.as_str()))
        }
        _ => {
            let parts: Vec<&str> = request.split('.').collect();
            let numeric = !parts.is_empty()
                && parts.len() <= 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            if numeric {
                // A partial or exact version: every given part must match.
                let wanted: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
                Box::new(move |r: &Release| {
                    let have = [r.version.major, r.version.minor, r.version.patch];
                    r.version.pre.is_empty() && wanted.iter().zip(have).all(|(w, h)| *w == h)
                })
            } else {
                let ranges = npm_range(request)?;
                Box::new(move |r: &Release| ranges.iter().any(|req| req.matches(&r.version)))
            }
        }
    };
    available
        .filter(|r| matches(r))
        .max_by(|a, b| a.version.cmp(&b.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/node")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn pick(releases: &[Release], request: &str) -> String {
        resolve(releases, request, "linux-x64")
            .map(|r| r.version.to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn aliases_and_partial_versions_resolve_as_nvm_does() {
        let text = fixture("dist-index.nvm.tab");
        let releases = parse_index_tab(&text).unwrap();
        assert!(releases.len() > 700);
        assert_eq!(pick(&releases, "latest"), "23.1.0");
        assert_eq!(pick(&releases, "node"), "23.1.0");
        assert_eq!(pick(&releases, "lts/*"), "22.11.0");
        assert_eq!(pick(&releases, "lts"), "22.11.0");
        assert_eq!(pick(&releases, "lts/iron"), "20.18.0");
        assert_eq!(pick(&releases, "lts/Iron"), "20.18.0");
        assert_eq!(pick(&releases, "18"), "18.20.4");
        assert_eq!(pick(&releases, "v18"), "18.20.4");
        assert_eq!(pick(&releases, "20.10"), "20.10.0");
        assert_eq!(pick(&releases, "20.10.0"), "20.10.0");
        assert_eq!(pick(&releases, "^20"), "20.18.0");
        assert_eq!(pick(&releases, ">=18 <21"), "20.18.0");
        assert_eq!(pick(&releases, "^16 || ^18"), "18.20.4");
        assert_eq!(pick(&releases, "99"), "none");
        assert_eq!(pick(&releases, "lts/nosuchname"), "none");
        assert_eq!(pick(&releases, "not a version"), "none");
    }

    #[test]
    fn the_json_index_reads_the_same_way() {
        let text = fixture("dist-index.setup-node.json");
        let releases = parse_index_json(&text).unwrap();
        assert_eq!(releases.len(), 23);
        assert_eq!(pick(&releases, "latest"), "14.1.0");
        let lts = resolve(&releases, "lts", "linux-x64").unwrap();
        assert!(lts.lts.is_some());
        assert!(parse_index_json("{ nope").is_err());
    }
}
