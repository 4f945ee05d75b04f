//! Arch version strings and dependency specifications, compared exactly as
//! libalpm compares them (`vercmp`, `[epoch:]version[-release]`), for code
//! that must not load libalpm (the AUR resolver, the CLI); and Debian
//! versions compared as dpkg compares them (`debian_vercmp`).

use std::cmp::Ordering;

/// Splits `[epoch:]version[-release]`; a missing epoch is `0`.
fn parse_evr(evr: &str) -> (&str, &str, Option<&str>) {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if evr.as_bytes().get(digits) == Some(&b':') {
        (&evr[..digits], &evr[digits + 1..])
    } else {
        ("0", evr)
    };
    let epoch = if epoch.is_empty() { "0" } else { epoch };
    match rest.rfind('-') {
        Some(i) => (epoch, &rest[..i], Some(&rest[i + 1..])),
        None => (epoch, rest, None),
    }
}

/// libalpm's `alpm_pkg_vercmp`.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (e1, v1, r1) = parse_evr(a);
    let (e2, v2, r2) = parse_evr(b);
    rpmvercmp(e1, e2).then_with(|| {
        rpmvercmp(v1, v2).then_with(|| match (r1, r2) {
            (Some(r1), Some(r2)) => rpmvercmp(r1, r2),
            _ => Ordering::Equal,
        })
    })
}

/// libalpm's `rpmvercmp`: alternating runs of digits and letters, compared
/// run by run; separators only count by their length.
fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut one, mut two) = (0usize, 0usize);
    while one < a.len() && two < b.len() {
        let (start1, start2) = (one, two);
        while one < a.len() && !a[one].is_ascii_alphanumeric() {
            one += 1;
        }
        while two < b.len() && !b[two].is_ascii_alphanumeric() {
            two += 1;
        }
        if one >= a.len() || two >= b.len() {
            break;
        }
        // Separator runs of different lengths decide.
        if one - start1 != two - start2 {
            return (one - start1).cmp(&(two - start2));
        }
        let numeric = a[one].is_ascii_digit();
        let run = |s: &[u8], mut i: usize| {
            while i < s.len()
                && (if numeric {
                    s[i].is_ascii_digit()
                } else {
                    s[i].is_ascii_alphabetic()
                })
            {
                i += 1;
            }
            i
        };
        let (end1, end2) = (run(a, one), run(b, two));
        let (seg1, seg2) = (&a[one..end1], &b[two..end2]);
        if seg2.is_empty() {
            // A number beats letters; letters lose to a number.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        if numeric {
            let trim = |s: &[u8]| {
                let zeros = s.iter().take_while(|c| **c == b'0').count();
                s[zeros..].to_vec()
            };
            let (n1, n2) = (trim(seg1), trim(seg2));
            match n1.len().cmp(&n2.len()).then_with(|| n1.cmp(&n2)) {
                Ordering::Equal => {}
                other => return other,
            }
        } else {
            match seg1.cmp(seg2) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        one = end1;
        two = end2;
    }
    let rest1 = &a[one.min(a.len())..];
    let rest2 = &b[two.min(b.len())..];
    if rest1.is_empty() && rest2.is_empty() {
        return Ordering::Equal;
    }
    // Whatever is left over: an alphabetic remainder never beats an empty
    // one.
    let alpha = |s: &[u8]| s.first().is_some_and(u8::is_ascii_alphabetic);
    if (rest1.is_empty() && !alpha(rest2)) || alpha(rest1) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// A comparison in a dependency (`>=`, `=`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Le,
    Eq,
    Lt,
    Gt,
}

/// A dependency: `name`, `name>=1.2`, `libfoo.so=1-64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depend {
    pub name: String,
    pub constraint: Option<(Op, String)>,
}

impl Depend {
    /// Reads a dependency; a description after `: ` (optdepends) is dropped.
    pub fn parse(text: &str) -> Depend {
        let text = text.split_once(": ").map_or(text, |(d, _)| d).trim();
        for (token, op) in [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if let Some(i) = text.find(token) {
                return Depend {
                    name: text[..i].to_string(),
                    constraint: Some((op, text[i + token.len()..].to_string())),
                };
            }
        }
        Depend {
            name: text.to_string(),
            constraint: None,
        }
    }

    /// Whether `version` meets the constraint (no constraint: any does).
    pub fn accepts(&self, version: &str) -> bool {
        let Some((op, wanted)) = &self.constraint else {
            return true;
        };
        // A constraint without a release matches any release, as pacman.
        let version = if wanted.contains('-') {
            version.to_string()
        } else {
            let (epoch, ver, _) = parse_evr(version);
            if epoch == "0" {
                ver.to_string()
            } else {
                format!("{epoch}:{ver}")
            }
        };
        let order = vercmp(&version, wanted);
        match op {
            Op::Ge => order != Ordering::Less,
            Op::Le => order != Ordering::Greater,
            Op::Eq => order == Ordering::Equal,
            Op::Lt => order == Ordering::Less,
            Op::Gt => order == Ordering::Greater,
        }
    }

    /// Whether a package `name` at `version`, providing `provides`, meets
    /// this dependency (a provision without a version meets only
    /// dependencies without one).
    pub fn satisfied_by<'a>(
        &self,
        name: &str,
        version: &str,
        provides: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        if name == self.name && self.accepts(version) {
            return true;
        }
        provides.into_iter().any(|p| {
            let provided = Depend::parse(p);
            provided.name == self.name
                && match (&provided.constraint, &self.constraint) {
                    (_, None) => true,
                    (Some((Op::Eq, v)), Some(_)) => self.accepts(v),
                    _ => false,
                }
        })
    }
}

impl std::fmt::Display for Depend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        if let Some((op, version)) = &self.constraint {
            let op = match op {
                Op::Ge => ">=",
                Op::Le => "<=",
                Op::Eq => "=",
                Op::Lt => "<",
                Op::Gt => ">",
            };
            write!(f, "{op}{version}")?;
        }
        Ok(())
    }
}

/// dpkg's order of one character of a non-digit part: `~` before the
/// end, the end before letters, letters before everything else.
fn debian_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating non-digit and digit parts.
fn debian_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0i32;
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (ac, bc) = (
                debian_order(a.get(i).copied()),
                debian_order(b.get(j).copied()),
            );
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        while a.get(i).is_some_and(u8::is_ascii_digit) && b.get(j).is_some_and(u8::is_ascii_digit) {
            if first_diff == 0 {
                first_diff = i32::from(a[i]) - i32::from(b[j]);
            }
            i += 1;
            j += 1;
        }
        if a.get(i).is_some_and(u8::is_ascii_digit) {
            return Ordering::Greater;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

/// Debian's `[epoch:]upstream[-revision]` order, as `dpkg
/// --compare-versions` has it.
pub fn debian_vercmp(a: &str, b: &str) -> Ordering {
    let split = |v: &str| {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if e.bytes().all(|c| c.is_ascii_digit()) => {
                (e.parse::<u64>().unwrap_or(0), r)
            }
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((upstream, revision)) => (epoch, upstream.to_string(), revision.to_string()),
            None => (epoch, rest.to_string(), String::new()),
        }
    };
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| debian_part(ua.as_bytes(), ub.as_bytes()))
        .then_with(|| debian_part(ra.as_bytes(), rb.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Cases from pacman's own vercmp test suite (test/util/vercmptest.sh).
    const CASES: &[(&str, &str, Ordering)] = &[
        ("1.5.0", "1.5.0", Equal),
        ("1.5.1", "1.5.0", Greater),
        ("1.5.1", "1.5", Greater),
        ("1.5.0-1", "1.5.0-1", Equal),
        ("1.5.0-1", "1.5.0-2", Less),
        ("1.5.0-1", "1.5.1-1", Less),
        ("1.5.0-2", "1.5.1-1", Less),
        ("1.5-1", "1.5", Equal),
        ("1.1-1", "1.1", Equal),
        ("1.0-1", "1.1", Less),
        ("1.1-1", "1.0", Greater),
        ("1.5b-1", "1.5-1", Less),
        ("1.5b", "1.5", Less),
        ("1.5b-1", "1.5", Less),
        ("1.5b", "1.5.1", Less),
        ("1.0a", "1.0alpha", Less),
        ("1.0alpha", "1.0b", Less),
        ("1.0b", "1.0beta", Less),
        ("1.0beta", "1.0rc", Less),
        ("1.0rc", "1.0", Less),
        ("1.5.a", "1.5", Greater),
        ("1.5.b", "1.5.a", Greater),
        ("1.5.1", "1.5.b", Greater),
        ("1.5.b-1", "1.5.b", Equal),
        ("1.5-1", "1.5.b", Less),
        ("2.0", "2_0", Equal),
        ("2.0_a", "2_0.a", Equal),
        ("2.0a", "2.0.a", Less),
        ("2___a", "2_a", Greater),
        ("0:1.0", "0:1.0", Equal),
        ("0:1.0", "0:1.1", Less),
        ("1:1.0", "0:1.0", Greater),
        ("1:1.0", "0:1.1", Greater),
        ("1:1.0", "2:1.1", Less),
        ("0:1.0", "1.0", Equal),
        ("0:1.0", "1.1", Less),
        ("0:1.1", "1.0", Greater),
        ("1:1.0", "1.0", Greater),
        ("1:1.0", "1.1", Greater),
        ("1:1.1", "1.1", Greater),
        ("1.0", "1.0-1", Equal),
        ("1.01", "1.1", Equal),
        ("1.001", "1.1", Equal),
        ("1.0.0", "1.0", Greater),
        ("1.0.0.r10.gabc", "1.0.0.r9.gdef", Greater),
    ];

    #[test]
    fn compares_as_pacman_does() {
        for (a, b, expected) in CASES {
            assert_eq!(vercmp(a, b), *expected, "vercmp {a} {b}");
            assert_eq!(vercmp(b, a), expected.reverse(), "vercmp {b} {a}");
        }
    }

    #[test]
    fn dependencies_are_met_as_pacman_meets_them() {
        let dep = Depend::parse("libfoo>=1.2");
        assert_eq!(dep.name, "libfoo");
        assert!(dep.satisfied_by("libfoo", "1.2-1", []));
        assert!(dep.satisfied_by("libfoo", "1:0.1-1", []));
        assert!(!dep.satisfied_by("libfoo", "1.1-3", []));
        assert!(dep.satisfied_by("libfoo-git", "0.1", ["libfoo=1.3"]));
        assert!(!dep.satisfied_by("libfoo-git", "0.1", ["libfoo"]));
        assert!(Depend::parse("libfoo").satisfied_by("libfoo-git", "0.1", ["libfoo"]));
        assert!(Depend::parse("a=1.0").satisfied_by("a", "1.0-3", []));
        assert!(!Depend::parse("a=1.0-2").satisfied_by("a", "1.0-3", []));
        assert!(Depend::parse("a<2").satisfied_by("a", "1.9-1", []));
        assert_eq!(Depend::parse("python: for scripts").name, "python");
        assert_eq!(Depend::parse("dotnet-sdk<7").to_string(), "dotnet-sdk<7");
    }
}
