//! Go releases as go.dev lists them (`/dl/?mode=json&include=all`): each
//! version's archives with their SHA-256, and choosing one for a request
//! (`latest`, `1.22`, `1.22.3`, `go1.22.3`).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct GoFile {
    pub filename: String,
    pub os: String,
    pub arch: String,
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoRelease {
    /// `go1.22.3`.
    pub version: String,
    #[serde(default)]
    pub stable: bool,
    #[serde(default)]
    pub files: Vec<GoFile>,
}

impl GoRelease {
    /// `1.22.3`.
    pub fn number(&self) -> &str {
        self.version.strip_prefix("go").unwrap_or(&self.version)
    }

    /// The archive for this machine.
    pub fn archive(&self) -> Option<&GoFile> {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "armv6l",
            other => other,
        };
        self.files
            .iter()
            .find(|f| f.os == "linux" && f.arch == arch && f.kind == "archive")
    }
}

pub fn parse_listing(text: &str) -> Result<Vec<GoRelease>, String> {
    serde_json::from_str(text).map_err(|e| format!("the Go release listing is not valid: {e}"))
}

/// Go's versions compared as the go command does (`1.21rc2` < `1.21.0`).
fn key(number: &str) -> (Vec<u64>, u8, u64) {
    let (main, pre, pre_n) = match number.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => {
            let tail = &number[i..];
            let digits = tail.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let rank = if tail.starts_with("beta") { 0 } else { 1 };
            (&number[..i], rank, digits.parse().unwrap_or(0))
        }
        None => (number, 2, 0),
    };
    let mut parts: Vec<u64> = main.split('.').filter_map(|p| p.parse().ok()).collect();
    while parts.len() < 3 {
        parts.push(0);
    }
    (parts, pre, pre_n)
}

/// The newest release `request` asks for that has an archive here.
pub fn resolve<'a>(releases: &'a [GoRelease], request: &str) -> Option<&'a GoRelease> {
    let request = request.trim();
    let request = request.strip_prefix("go").unwrap_or(request);
    let matches = |r: &GoRelease| -> bool {
        let n = r.number();
        match request {
            "latest" | "stable" => r.stable,
            exact if n == exact => true,
            prefix => {
                r.stable
                    && n.strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with('.'))
            }
        }
    };
    releases
        .iter()
        .filter(|r| r.archive().is_some() && matches(r))
        .max_by(|a, b| key(a.number()).cmp(&key(b.number())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_against_the_real_listing() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/go/dl-mode-json-include-all.setup-go.json");
        let text = std::fs::read_to_string(&path).expect("the recorded listing");
        let releases = parse_listing(&text).unwrap();
        let pick = |r: &str| resolve(&releases, r).map(|r| r.number().to_string());
        assert_eq!(pick("latest").as_deref(), Some("1.13.7"));
        assert_eq!(pick("1.12").as_deref(), Some("1.12.16"));
        assert_eq!(pick("go1.13.2").as_deref(), Some("1.13.2"));
        assert_eq!(pick("1.13.2").as_deref(), Some("1.13.2"));
        assert_eq!(pick("1.99"), None);
        let archive = resolve(&releases, "1.13.7").unwrap().archive().unwrap();
        assert_eq!(archive.filename, "go1.13.7.linux-amd64.tar.gz");
        assert_eq!(archive.sha256.len(), 64);
    }

    #[test]
    fn prereleases_sort_before_their_release() {
        assert!(key("1.21rc2") < key("1.21.0"));
        assert!(key("1.21beta1") < key("1.21rc1"));
        assert!(key("1.9.2") < key("1.10"));
    }
}
