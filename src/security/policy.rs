//! `policy.toml`: what may be installed. The system's file
//! (`/etc/omg/policy.toml`) and the user's (`<config>/policy.toml`) are
//! both read and the stricter rule of each wins: the highest
//! `minimum_grade`, the lowest `max_severity`, `allow_aur` only when both
//! allow it, and the union of the blocked lists.
//!
//! ```toml
//! minimum_grade = "verified"        # locked, verified, community or risk
//! allow_aur = false
//! blocked_packages = ["telnet*", "rsh-*"]   # * and ? match any text / one character
//! blocked_licenses = ["AGPL-3.0-only"]
//! max_severity = "medium"           # refuse packages with a known vulnerability above this
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::grade::Grade;
use super::vulns::Severity;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid policy: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One policy file as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub minimum_grade: Option<Grade>,
    pub allow_aur: Option<bool>,
    #[serde(default)]
    pub blocked_packages: Vec<String>,
    #[serde(default)]
    pub blocked_licenses: Vec<String>,
    pub max_severity: Option<Severity>,
}

impl PolicyFile {
    /// Reads `path`; an absent file is an empty policy.
    pub fn load(path: &Path) -> Result<PolicyFile, PolicyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PolicyFile::default()),
            Err(source) => {
                return Err(PolicyError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| PolicyError::Invalid {
            path: path.into(),
            // toml names the line, the column and the field.
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }
}

/// A rule and the file it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule<T> {
    pub value: T,
    pub file: PathBuf,
}

/// The policies in force, merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub minimum_grade: Option<Rule<Grade>>,
    pub allow_aur: Option<Rule<bool>>,
    pub blocked_packages: Vec<Rule<String>>,
    pub blocked_licenses: Vec<Rule<String>>,
    pub max_severity: Option<Rule<Severity>>,
}

/// What a package is, for the rules.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub grade: Grade,
    pub aur: bool,
    pub licenses: &'a [String],
    /// The worst known vulnerability affecting it.
    pub worst: Option<Severity>,
}

/// A rule a package breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    pub package: String,
    /// The rule's name as written in policy.toml.
    pub rule: String,
    pub file: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} (rule `{}` in {})",
            self.package,
            self.message,
            self.rule,
            self.file.display()
        )
    }
}

impl Policy {
    /// The system's policy and the user's, merged (either may be absent;
    /// the same file is read once).
    pub fn load(system: &Path, user: &Path) -> Result<Policy, PolicyError> {
        let mut policy = Policy::default();
        policy.add(system, PolicyFile::load(system)?);
        if user != system {
            policy.add(user, PolicyFile::load(user)?);
        }
        Ok(policy)
    }

    fn add(&mut self, file: &Path, rules: PolicyFile) {
        let rule = |value| Rule {
            value,
            file: file.to_path_buf(),
        };
        if let Some(g) = rules.minimum_grade
            && self.minimum_grade.as_ref().is_none_or(|r| g > r.value)
        {
            self.minimum_grade = Some(rule(g));
        }
        if let Some(a) = rules.allow_aur
            && self.allow_aur.as_ref().is_none_or(|r| r.value && !a)
        {
            self.allow_aur = Some(Rule {
                value: a,
                file: file.to_path_buf(),
            });
        }
        if let Some(s) = rules.max_severity
            && self.max_severity.as_ref().is_none_or(|r| s < r.value)
        {
            self.max_severity = Some(Rule {
                value: s,
                file: file.to_path_buf(),
            });
        }
        for p in rules.blocked_packages {
            self.blocked_packages.push(Rule {
                value: p,
                file: file.to_path_buf(),
            });
        }
        for l in rules.blocked_licenses {
            self.blocked_licenses.push(Rule {
                value: l,
                file: file.to_path_buf(),
            });
        }
    }

    /// AUR builds are allowed.
    pub fn aur_allowed(&self) -> Result<(), Violation> {
        match &self.allow_aur {
            Some(r) if !r.value => Err(Violation {
                package: "AUR".into(),
                rule: "allow_aur".into(),
                file: r.file.clone(),
                message: "building from the AUR is not allowed".into(),
            }),
            _ => Ok(()),
        }
    }

    /// The rules `candidate` breaks.
    pub fn check(&self, candidate: &Candidate<'_>) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut breaks = |rule: &str, file: &Path, message: String| {
            out.push(Violation {
                package: candidate.name.to_string(),
                rule: rule.into(),
                file: file.to_path_buf(),
                message,
            });
        };
        if let Some(r) = &self.minimum_grade
            && candidate.grade < r.value
        {
            breaks(
                "minimum_grade",
                &r.file,
                format!(
                    "its grade is {}, below the required {}",
                    candidate.grade.as_str(),
                    r.value.as_str()
                ),
            );
        }
        if candidate.aur
            && let Some(r) = &self.allow_aur
            && !r.value
        {
            breaks("allow_aur", &r.file, "it comes from the AUR".into());
        }
        for r in &self.blocked_packages {
            if glob(&r.value, candidate.name) {
                breaks(
                    "blocked_packages",
                    &r.file,
                    format!("the name matches {:?}", r.value),
                );
            }
        }
        for r in &self.blocked_licenses {
            if candidate
                .licenses
                .iter()
                .any(|l| l.eq_ignore_ascii_case(&r.value))
            {
                breaks(
                    "blocked_licenses",
                    &r.file,
                    format!("its licence is {}", r.value),
                );
            }
        }
        if let (Some(r), Some(worst)) = (&self.max_severity, candidate.worst)
            && worst > r.value
        {
            breaks(
                "max_severity",
                &r.file,
                format!(
                    "a known {} vulnerability affects it (the limit is {})",
                    worst.as_str(),
                    r.value.as_str()
                ),
            );
        }
        out
    }
}

/// `pattern` with `*` (any text) and `?` (one character) matches `name`.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn candidate<'a>(name: &'a str, grade: Grade, licenses: &'a [String]) -> Candidate<'a> {
        Candidate {
            name,
            grade,
            aur: false,
            licenses,
            worst: None,
        }
    }

    #[test]
    fn each_rule_blocks_and_allows_what_it_should() {
        let dir = tempfile::tempdir().unwrap();
        let system = write(
            dir.path(),
            "system.toml",
            "minimum_grade = \"community\"\nblocked_packages = [\"telnet*\"]\nmax_severity = \"high\"\n",
        );
        let user = write(
            dir.path(),
            "user.toml",
            "minimum_grade = \"verified\"\nallow_aur = false\nblocked_licenses = [\"AGPL-3.0-only\"]\nmax_severity = \"critical\"\n",
        );
        let policy = Policy::load(&system, &user).unwrap();
        // The stricter grade (the user's), the stricter severity (the system's).
        assert_eq!(
            policy.minimum_grade.as_ref().unwrap().value,
            Grade::Verified
        );
        assert_eq!(policy.max_severity.as_ref().unwrap().file, system);
        let none: Vec<String> = Vec::new();
        assert!(
            policy
                .check(&candidate("vim", Grade::Verified, &none))
                .is_empty()
        );
        let v = policy.check(&candidate("vim", Grade::Community, &none));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, "minimum_grade");
        assert_eq!(v[0].file, user);
        let v = policy.check(&candidate("telnetd", Grade::Verified, &none));
        assert_eq!(v[0].rule, "blocked_packages");
        assert!(v[0].to_string().contains("system.toml"), "{}", v[0]);
        let agpl = vec!["AGPL-3.0-only".to_string()];
        assert_eq!(
            policy.check(&candidate("x", Grade::Verified, &agpl))[0].rule,
            "blocked_licenses"
        );
        let mut c = candidate("y", Grade::Verified, &none);
        c.worst = Some(Severity::High);
        assert!(
            policy.check(&c).is_empty(),
            "high is the limit, not above it"
        );
        c.worst = Some(Severity::Critical);
        assert_eq!(policy.check(&c)[0].rule, "max_severity");
        c.worst = None;
        c.aur = true;
        assert_eq!(policy.check(&c)[0].rule, "allow_aur");
        assert!(policy.aur_allowed().is_err());
    }

    #[test]
    fn a_malformed_policy_names_the_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(
            dir.path(),
            "p.toml",
            "allow_aur = false\nminimum_grade = \"superb\"\n",
        );
        let err = PolicyFile::load(&bad).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("superb"), "{err}");
        let unknown = write(dir.path(), "q.toml", "\n\nallow_arch = true\n");
        let err = PolicyFile::load(&unknown).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("allow_arch"),
            "{err}"
        );
        assert_eq!(
            PolicyFile::load(&dir.path().join("absent.toml")).unwrap(),
            PolicyFile::default()
        );
    }

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob("telnet*", "telnetd"));
        assert!(glob("telnet*", "telnet"));
        assert!(!glob("telnet*", "xtelnet"));
        assert!(glob("*-git", "paru-git"));
        assert!(glob("lib?", "libc"));
        assert!(!glob("lib?", "libcc"));
        assert!(glob("*a*b*", "xxaybz"));
    }
}
