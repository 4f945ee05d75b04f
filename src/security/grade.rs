//! The security grade of a package, shown by `omg info` and before an
//! install, and what `policy.toml`'s `minimum_grade` compares with.
//!
//! - `LOCKED`: signed by a trusted key *and* a verified provenance
//!   attestation (Sigstore) ties it to its source. Distribution packages
//!   carry no such attestation, so they stop at VERIFIED.
//! - `VERIFIED`: signed by a key the package manager trusts (an
//!   authenticated apt repository; a pacman repository that requires
//!   package signatures, or a signed package).
//! - `COMMUNITY`: no signature vouches for it (AUR builds, unsigned
//!   repositories, local files).
//! - `RISK`: a known vulnerability affects this version (none fixes it
//!   yet, or the fix is not available here) — whatever its signature.

use serde::{Deserialize, Serialize};

use super::vulns::{Advisory, Severity};

/// Worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Risk,
    Community,
    Verified,
    Locked,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Risk => "RISK",
            Grade::Community => "COMMUNITY",
            Grade::Verified => "VERIFIED",
            Grade::Locked => "LOCKED",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        match text.trim().to_ascii_lowercase().as_str() {
            "risk" => Some(Grade::Risk),
            "community" => Some(Grade::Community),
            "verified" => Some(Grade::Verified),
            "locked" => Some(Grade::Locked),
            _ => None,
        }
    }
}

/// What a grade is decided from.
pub struct Facts<'a> {
    /// Signed by a trusted key (`None`: cannot be told).
    pub signed: Option<bool>,
    /// From the AUR.
    pub aur: bool,
    /// A verified provenance attestation exists.
    pub provenance: bool,
    /// Advisories that affect the version in question.
    pub affecting: &'a [Advisory],
}

/// The grade, and why.
pub fn grade(facts: &Facts<'_>) -> (Grade, String) {
    if let Some(worst) = facts.affecting.iter().max_by_key(|a| a.severity) {
        let severity = if worst.severity == Severity::Unknown {
            String::new()
        } else {
            format!(" ({})", worst.severity.as_str())
        };
        let fix = match &worst.fixed {
            Some(v) => format!("fixed in {v}, which is not available here"),
            None => "not fixed in any version yet".into(),
        };
        return (
            Grade::Risk,
            format!("{}{severity} affects this version: {fix}", worst.id),
        );
    }
    if facts.aur {
        return (
            Grade::Community,
            "built from an AUR PKGBUILD: no signature vouches for it".into(),
        );
    }
    match (facts.signed, facts.provenance) {
        (Some(true), true) => (
            Grade::Locked,
            "signed by a trusted key, with verified provenance".into(),
        ),
        (Some(true), false) => (
            Grade::Verified,
            "signed by a key the package manager trusts".into(),
        ),
        (Some(false), _) => (
            Grade::Community,
            "from a repository whose packages are not signed".into(),
        ),
        (None, _) => (
            Grade::Community,
            "installed only: no repository vouches for this version".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(id: &str, severity: Severity) -> Advisory {
        Advisory {
            id: id.into(),
            cves: Vec::new(),
            severity,
            fixed: None,
            kind: String::new(),
        }
    }

    #[test]
    fn grades_follow_the_documented_rules() {
        let g = |signed, aur, provenance, affecting: &[Advisory]| {
            grade(&Facts {
                signed,
                aur,
                provenance,
                affecting,
            })
            .0
        };
        assert_eq!(g(Some(true), false, false, &[]), Grade::Verified);
        assert_eq!(g(Some(true), false, true, &[]), Grade::Locked);
        assert_eq!(g(Some(false), false, false, &[]), Grade::Community);
        assert_eq!(g(None, false, false, &[]), Grade::Community);
        assert_eq!(g(Some(false), true, false, &[]), Grade::Community);
        let bad = [
            advisory("AVG-1", Severity::Critical),
            advisory("AVG-2", Severity::Low),
        ];
        assert_eq!(g(Some(true), false, true, &bad), Grade::Risk);
        let (_, why) = grade(&Facts {
            signed: Some(true),
            aur: false,
            provenance: false,
            affecting: &bad,
        });
        assert!(
            why.contains("AVG-1 (critical) affects this version"),
            "{why}"
        );
        assert!(Grade::Risk < Grade::Community && Grade::Verified < Grade::Locked);
    }
}
