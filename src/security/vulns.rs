//! Known vulnerabilities of distribution packages: reading the Arch
//! security tracker's AVG list (`issues/all.json`) and the Debian security
//! tracker's JSON (filtered to one release), and matching them against
//! installed packages with the distribution's own version ordering (the
//! caller passes it: libalpm's vercmp, dpkg's comparison).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One advisory for one package name: what it is, how bad, and the first
/// version that fixes it (`None`: no fix yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// AVG-… or CVE-…
    pub id: String,
    /// CVE ids (an AVG groups several).
    pub cves: Vec<String>,
    /// Critical, High, Medium, Low, or Unknown.
    pub severity: Severity,
    pub fixed: Option<String>,
    /// What kind of issue, when the source says.
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(text: &str) -> Severity {
        match text.trim().trim_end_matches('*').to_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Advisories by package name (Arch: package names; Debian: source
/// package names), as stored after a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnData {
    /// Where it came from (`alsa`, `debian:bookworm`).
    pub source: String,
    /// Unix time of the fetch.
    pub fetched_at: u64,
    pub packages: BTreeMap<String, Vec<Advisory>>,
}

impl VulnData {
    /// Removes control characters from everything the tracker wrote,
    /// before it can reach a terminal.
    pub fn clean(mut self) -> VulnData {
        use crate::text::{clean_in_place, one_line};
        self.packages = std::mem::take(&mut self.packages)
            .into_iter()
            .map(|(name, mut advisories)| {
                for a in &mut advisories {
                    a.id = one_line(&a.id).into_owned();
                    a.kind = one_line(&a.kind).into_owned();
                    a.cves.iter_mut().for_each(clean_in_place);
                    if let Some(fixed) = &mut a.fixed {
                        clean_in_place(fixed);
                    }
                }
                (one_line(&name).into_owned(), advisories)
            })
            .collect();
        self
    }
}

/// An installed package to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub name: String,
    pub version: String,
    /// The name the advisories use (Debian's source package; the name
    /// itself on Arch).
    pub source: String,
    /// The version the advisories compare with (the source version).
    pub source_version: String,
    /// What an upgrade would bring now (in the same terms as
    /// `source_version`), if anything.
    pub candidate: Option<String>,
}

/// An installed package affected by known vulnerabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub name: String,
    pub version: String,
    pub advisories: Vec<Advisory>,
    /// The worst of them.
    pub severity: Severity,
    /// The version that fixes all of them, when every one has a fix.
    pub fixed: Option<String>,
    /// An upgrade available now fixes every one of them.
    pub fixable_now: bool,
}

/// What `omg audit` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Where the advisories came from (`alsa`, `debian:bookworm`).
    pub source: String,
    /// When they were fetched (Unix time).
    pub fetched_at: u64,
    /// Older than the configured maximum age.
    pub stale: bool,
    pub findings: Vec<Finding>,
    /// Something the user should know (a refresh that failed, so older
    /// data was used).
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{what} is not in the expected format: {message}")]
pub struct FormatError {
    pub what: String,
    pub message: String,
}

/// The Arch security tracker's `issues/all.json`.
pub fn parse_alsa(text: &str, fetched_at: u64) -> Result<VulnData, FormatError> {
    #[derive(Deserialize)]
    struct Avg {
        name: String,
        packages: Vec<String>,
        status: String,
        severity: String,
        #[serde(rename = "type", default)]
        kind: String,
        fixed: Option<String>,
        #[serde(default)]
        issues: Vec<String>,
    }
    let avgs: Vec<Avg> = serde_json::from_str(text).map_err(|e| FormatError {
        what: "the Arch security tracker's list".into(),
        message: e.to_string(),
    })?;
    let mut data = VulnData {
        source: "alsa".into(),
        fetched_at,
        packages: BTreeMap::new(),
    };
    for avg in avgs {
        if avg.status.eq_ignore_ascii_case("Not affected") {
            continue;
        }
        let advisory = Advisory {
            id: avg.name,
            cves: avg.issues,
            severity: Severity::parse(&avg.severity),
            fixed: avg.fixed.filter(|f| !f.is_empty()),
            kind: avg.kind,
        };
        for package in avg.packages {
            data.packages
                .entry(package)
                .or_default()
                .push(advisory.clone());
        }
    }
    Ok(data.clean())
}

/// The Debian security tracker's JSON (`tracker/data/json`), keeping
/// `release`'s entries that matter: open issues and fixed ones, not those
/// Debian rates unimportant or that never affected the release (fixed in
/// version `0`).
pub fn parse_debian_tracker(
    text: &str,
    release: &str,
    fetched_at: u64,
) -> Result<VulnData, FormatError> {
    #[derive(Deserialize)]
    struct Issue {
        // An object by release; an empty list when there is none.
        #[serde(default)]
        releases: serde_json::Value,
        #[serde(default)]
        description: Option<String>,
    }
    #[derive(Deserialize)]
    struct Release {
        status: String,
        fixed_version: Option<String>,
        #[serde(default)]
        urgency: String,
    }
    let all: BTreeMap<String, BTreeMap<String, Issue>> =
        serde_json::from_str(text).map_err(|e| FormatError {
            what: "the Debian security tracker's JSON".into(),
            message: e.to_string(),
        })?;
    let mut data = VulnData {
        source: format!("debian:{release}"),
        fetched_at,
        packages: BTreeMap::new(),
    };
    for (package, issues) in all {
        for (id, issue) in issues {
            let Some(state) = issue
                .releases
                .get(release)
                .and_then(|r| Release::deserialize(r).ok())
            else {
                continue;
            };
            let urgency = state.urgency.trim_end_matches('*');
            if urgency == "unimportant" || urgency == "end-of-life" {
                continue;
            }
            let fixed = match state.status.as_str() {
                "resolved" => match state.fixed_version.as_deref() {
                    Some("0") | None => continue,
                    Some(v) => Some(v.to_string()),
                },
                "open" | "undetermined" => None,
                _ => continue,
            };
            data.packages
                .entry(package.clone())
                .or_default()
                .push(Advisory {
                    cves: if id.starts_with("CVE-") {
                        vec![id.clone()]
                    } else {
                        Vec::new()
                    },
                    id,
                    severity: Severity::parse(urgency),
                    fixed,
                    kind: issue
                        .description
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(120)
                        .collect(),
                });
        }
    }
    Ok(data.clean())
}

/// The advisories in `data` for `name` that affect `version`.
pub fn affecting(
    data: &VulnData,
    name: &str,
    version: &str,
    cmp: &dyn Fn(&str, &str) -> Ordering,
) -> Vec<Advisory> {
    data.packages
        .get(name)
        .map(|all| {
            all.iter()
                .filter(|a| {
                    a.fixed
                        .as_deref()
                        .is_none_or(|f| cmp(version, f) == Ordering::Less)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The installed packages `data` says are affected, worst first. `cmp`
/// orders versions as the distribution does.
pub fn matching(
    data: &VulnData,
    installed: &[Installed],
    cmp: &dyn Fn(&str, &str) -> Ordering,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for package in installed {
        let Some(advisories) = data.packages.get(&package.source) else {
            continue;
        };
        let affecting: Vec<Advisory> = advisories
            .iter()
            .filter(|a| match &a.fixed {
                Some(fixed) => cmp(&package.source_version, fixed) == Ordering::Less,
                None => true,
            })
            .cloned()
            .collect();
        if affecting.is_empty() {
            continue;
        }
        let fixed = affecting
            .iter()
            .map(|a| a.fixed.clone())
            .collect::<Option<Vec<String>>>()
            .and_then(|all| all.into_iter().max_by(|a, b| cmp(a, b)));
        let fixable_now = match (&fixed, &package.candidate) {
            (Some(fixed), Some(candidate)) => cmp(candidate, fixed) != Ordering::Less,
            _ => false,
        };
        findings.push(Finding {
            name: package.name.clone(),
            version: package.version.clone(),
            severity: affecting
                .iter()
                .map(|a| a.severity)
                .max()
                .unwrap_or(Severity::Unknown),
            advisories: affecting,
            fixed,
            fixable_now,
        });
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.name.cmp(&b.name)));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn installed(name: &str, version: &str, candidate: Option<&str>) -> Installed {
        Installed {
            name: name.into(),
            version: version.into(),
            source: name.into(),
            source_version: version.into(),
            candidate: candidate.map(String::from),
        }
    }

    #[test]
    fn the_recorded_avg_list_matches_by_version() {
        let text = fixture("alsa/issues-all.vulnerablecode-archlinux.json");
        let data = parse_alsa(&text, 1).unwrap();
        assert_eq!(
            data.packages["wireshark-cli"][0].fixed.as_deref(),
            Some("2.6.1-1")
        );
        let cmp = |a: &str, b: &str| crate::version::vercmp(a, b);
        let found = matching(
            &data,
            &[
                installed("squid", "4.10-2", None),
                installed("wireshark-cli", "2.6.0-1", Some("2.6.1-1")),
                installed("wireshark-qt", "2.6.1-1", None),
                installed("openconnect", "1:8.05-1", None),
                installed("vim", "9.0-1", None),
            ],
            &cmp,
        );
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        // Critical first, then by name; the fixed wireshark-qt is fine.
        assert_eq!(names, ["squid", "wireshark-cli", "openconnect"]);
        assert_eq!(found[0].fixed, None, "no fix for squid");
        assert!(!found[0].fixable_now);
        assert_eq!(found[1].fixed.as_deref(), Some("2.6.1-1"));
        assert!(found[1].fixable_now);
        assert_eq!(found[2].severity, Severity::High);
        assert_eq!(found[0].advisories[0].cves.len(), 3);
    }

    #[test]
    fn the_recorded_debian_tracker_is_read_for_one_release() {
        let text = fixture("debian-security/tracker-data-json.vunnel.json");
        let data = parse_debian_tracker(&text, "bookworm", 1).unwrap();
        assert_eq!(data.packages["sope"][0].id, "CVE-2025-53603");
        assert_eq!(
            data.packages["sope"][0].fixed.as_deref(),
            Some("5.8.0-1+deb12u1")
        );
        // Only releases that have an entry for bookworm.
        assert!(!data.packages.contains_key("prototypejs"));
        let buster = parse_debian_tracker(&text, "buster", 1).unwrap();
        assert!(
            !buster.packages.contains_key("chromium"),
            "end-of-life entries are left out"
        );
        assert_eq!(
            buster.packages["prototypejs"].len(),
            1,
            "not the unimportant one"
        );
    }
}
