//! `omg outdated`: one list of every pending update — repository packages,
//! AUR packages, VCS (`-git`) packages, installed runtimes with a newer
//! release in their line, and runtime versions the project asks for that
//! are not installed — each with how big a step it is by its ecosystem's
//! version rules and the known vulnerabilities it fixes.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::security::vulns::{Finding, Severity};

/// Where an update comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Repository,
    Aur,
    Devel,
    Runtime,
    Project,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Repository => "repo",
            Source::Aur => "aur",
            Source::Devel => "devel",
            Source::Runtime => "runtime",
            Source::Project => "project",
        }
    }
}

/// How big a step an update is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The first number (or the epoch) changes.
    Major,
    /// The second number changes.
    Minor,
    /// A later number changes.
    Patch,
    /// Only the packaging changes (Arch's pkgrel, Debian's revision).
    Packaging,
    /// Upstream has commits the build does not (VCS packages).
    Devel,
    /// Not installed at all (a version the project asks for).
    Missing,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Major => "major",
            Kind::Minor => "minor",
            Kind::Patch => "patch",
            Kind::Packaging => "packaging",
            Kind::Devel => "devel",
            Kind::Missing => "missing",
        }
    }
}

/// Which version rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    /// `[epoch:]pkgver-pkgrel`, compared as vercmp.
    Arch,
    /// `[epoch:]upstream[-revision]`, compared as dpkg.
    Debian,
    /// Runtime releases: semantic versions where they are.
    Release,
}

/// A vulnerability an update fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The advisory (AVG-…, CVE-…, DSA-…).
    pub id: String,
    pub severity: Severity,
}

/// One pending update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub source: Source,
    pub name: String,
    /// None for a version the project asks for that is not installed.
    pub installed: Option<String>,
    pub available: String,
    pub kind: Kind,
    /// Where it comes from (a repository, `aur`, a runtime's upstream, the
    /// file that asks).
    pub origin: String,
    /// The vulnerabilities installing `available` fixes, worst first.
    pub fixes: Vec<Fix>,
    /// `omg pin` keeps it back: upgrades skip it.
    pub pinned: bool,
}

impl Row {
    /// The worst vulnerability the update fixes.
    pub fn worst(&self) -> Option<Severity> {
        self.fixes.iter().map(|f| f.severity).max()
    }
}

/// When one kind of data was last fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    pub source: Source,
    /// Unix time; None: never (`omg outdated --refresh` fetches it).
    pub at: Option<u64>,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
}

/// What the daemon answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub checked: Vec<Checked>,
    /// Where the vulnerability data came from and when, if there is any.
    pub advisories: Option<(String, u64)>,
}

/// The parts of a version that tell major, minor and patch apart: the
/// epoch, the numbers of the upstream version, and the packaging suffix.
fn parts(version: &str, ecosystem: Ecosystem) -> (u64, Vec<String>, String) {
    let (epoch, rest) = match version.split_once(':') {
        Some((e, r)) if e.bytes().all(|b| b.is_ascii_digit()) && !e.is_empty() => {
            (e.parse().unwrap_or(0), r)
        }
        _ => (0, version),
    };
    let (upstream, packaging) = match ecosystem {
        Ecosystem::Arch | Ecosystem::Debian => match rest.rsplit_once('-') {
            Some((u, p)) => (u, p.to_string()),
            None => (rest, String::new()),
        },
        // 21.0.2+13 (a build), 1.2.3-rc1 (a pre-release): part of the
        // release itself.
        Ecosystem::Release => (rest, String::new()),
    };
    let segments = upstream
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    (epoch, segments, packaging)
}

/// How big a step `installed` → `available` is.
pub fn kind(installed: &str, available: &str, ecosystem: Ecosystem) -> Kind {
    let (e1, s1, p1) = parts(installed, ecosystem);
    let (e2, s2, p2) = parts(available, ecosystem);
    if e1 != e2 {
        return Kind::Major;
    }
    let at = |s: &[String], i: usize| s.get(i).cloned().unwrap_or_default();
    if at(&s1, 0) != at(&s2, 0) {
        return Kind::Major;
    }
    if at(&s1, 1) != at(&s2, 1) {
        return Kind::Minor;
    }
    if s1 != s2 {
        return Kind::Patch;
    }
    if p1 != p2 {
        return Kind::Packaging;
    }
    Kind::Patch
}

/// The advisories of `finding` that `available` fixes (a fixed version at
/// or below it), worst first.
pub fn fixes(finding: &Finding, available: &str, cmp: &dyn Fn(&str, &str) -> Ordering) -> Vec<Fix> {
    let mut out: Vec<Fix> = finding
        .advisories
        .iter()
        .filter(|a| {
            a.fixed
                .as_deref()
                .is_some_and(|f| cmp(available, f) != Ordering::Less)
        })
        .map(|a| Fix {
            id: a.id.clone(),
            severity: a.severity,
        })
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    out
}

/// Rows in the order people read them: those fixing the worst
/// vulnerabilities first, then by source and name.
pub fn rank(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.worst()
            .cmp(&a.worst())
            .then(a.source.cmp(&b.source))
            .then(a.name.cmp(&b.name))
    });
}

/// The newest offered release in `installed`'s line (the same major
/// number; for `0.x`, the same first two), newer than it: a minor or patch
/// release, which semantic versioning promises is compatible.
pub fn newer_in_line<'a>(installed: &str, offered: &'a [String]) -> Option<&'a String> {
    let (_, mine, _) = parts(installed, Ecosystem::Release);
    let line = line_length(&mine);
    offered
        .iter()
        .filter(|v| {
            let (_, theirs, _) = parts(v, Ecosystem::Release);
            theirs.len() >= line && mine.len() >= line && theirs[..line] == mine[..line]
        })
        .filter(|v| release_cmp(v, installed) == Ordering::Greater)
        .filter(|v| !is_prerelease(v) || is_prerelease(installed))
        .max_by(|a, b| release_cmp(a, b))
}

fn line_length(segments: &[String]) -> usize {
    match segments.first().map(String::as_str) {
        Some("0") if segments.len() >= 2 => 2,
        _ => 1,
    }
}

/// Release candidates, betas and nightlies are not updates for releases.
fn is_prerelease(version: &str) -> bool {
    let lower = version.to_ascii_lowercase();
    ["rc", "beta", "alpha", "-pre", "nightly", "preview", "dev"]
        .iter()
        .any(|m| lower.contains(m))
}

/// Runtime releases compared: semver where both parse, else as vercmp.
pub fn release_cmp(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => crate::version::vercmp(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::vulns::Advisory;

    #[test]
    fn steps_are_sized_by_each_ecosystem_s_rules() {
        use Ecosystem::*;
        assert_eq!(kind("9.0.1000-1", "9.1.0-1", Arch), Kind::Minor);
        assert_eq!(kind("9.0.1000-1", "10.0-1", Arch), Kind::Major);
        assert_eq!(kind("9.0.1000-1", "9.0.1200-1", Arch), Kind::Patch);
        assert_eq!(kind("9.0.1000-1", "9.0.1000-2", Arch), Kind::Packaging);
        assert_eq!(kind("1:2.0-1", "2:1.0-1", Arch), Kind::Major);
        assert_eq!(
            kind("2:9.0.1378-2", "2:9.0.1378-2+deb12u1", Debian),
            Kind::Packaging
        );
        assert_eq!(
            kind("3.0.11-1~deb12u2", "3.0.15-1~deb12u1", Debian),
            Kind::Patch
        );
        assert_eq!(kind("252.30-1~deb12u2", "253.1-1", Debian), Kind::Major);
        assert_eq!(kind("20.10.0", "20.11.1", Release), Kind::Minor);
        assert_eq!(kind("21.0.2+13", "21.0.3+9", Release), Kind::Patch);
    }

    #[test]
    fn a_runtime_line_is_its_major_version() {
        let offered: Vec<String> = ["22.1.0", "20.12.2", "20.11.0", "20.13.0-rc.1", "18.20.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            newer_in_line("20.10.0", &offered).map(String::as_str),
            Some("20.12.2")
        );
        assert_eq!(newer_in_line("22.1.0", &offered), None);
        let go: Vec<String> = ["1.23.4", "1.22.10", "1.22.9"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            newer_in_line("1.22.3", &go).map(String::as_str),
            Some("1.23.4")
        );
        let zero: Vec<String> = ["0.9.1", "0.8.9"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            newer_in_line("0.8.1", &zero).map(String::as_str),
            Some("0.8.9")
        );
    }

    #[test]
    fn an_update_fixes_the_advisories_whose_fix_it_reaches() {
        let advisory = |id: &str, severity, fixed: Option<&str>| Advisory {
            id: id.into(),
            cves: Vec::new(),
            severity,
            fixed: fixed.map(Into::into),
            kind: String::new(),
        };
        let finding = Finding {
            name: "openssl".into(),
            version: "3.0.0-1".into(),
            advisories: vec![
                advisory("AVG-1", Severity::Medium, Some("3.0.1-1")),
                advisory("AVG-2", Severity::Critical, Some("3.0.2-1")),
                advisory("AVG-3", Severity::High, None),
            ],
            severity: Severity::Critical,
            fixed: None,
            fixable_now: false,
        };
        let ids = |v: &str| -> Vec<String> {
            fixes(&finding, v, &crate::version::vercmp)
                .into_iter()
                .map(|f| f.id)
                .collect()
        };
        assert_eq!(ids("3.0.1-1"), ["AVG-1"]);
        assert_eq!(ids("3.0.2-1"), ["AVG-2", "AVG-1"]);
        assert!(ids("3.0.0-2").is_empty());
    }
}
