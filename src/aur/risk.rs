//! What deserves a look before a PKGBUILD is built: the risks a reviewer
//! should not miss in a diff, found by comparing the version about to be
//! built with the one last reviewed (its `.SRCINFO`, PKGBUILD and install
//! scripts) and by the AUR's facts about the base: source hosts added or
//! changed, checksums set to `SKIP`, install scripts added or changed,
//! downloads piped into a shell, `validpgpkeys` changed, a new maintainer,
//! a base new to the AUR or orphaned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::build::{BuildError, SIGNATURE_EXTENSIONS};
use super::srcinfo::{CHECKSUMS, Srcinfo};

/// One version of a package base, as a commit of its repository has it.
#[derive(Debug, Clone, Default)]
pub struct Version {
    /// The committed `.SRCINFO` (none when it is missing or unreadable).
    pub srcinfo: Option<Srcinfo>,
    pub pkgbuild: String,
    /// The install scripts its packages name, by file name.
    pub install: BTreeMap<String, String>,
}

/// The AUR's facts about the base, and what was recorded at the last
/// review.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub maintainer: Option<String>,
    /// The maintainer when the user last reviewed the base (`None`: not
    /// recorded, as on a first review).
    pub reviewed_maintainer: Option<Option<String>>,
    pub first_submitted: i64,
    /// Now, in seconds since the epoch.
    pub now: i64,
}

/// A base first submitted less than this long ago is new to the AUR.
pub const NEW_PACKAGE_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Risk {
    /// Sources come from these hosts, which the reviewed version did not
    /// use (`first`: there was no reviewed version: every host).
    Hosts {
        added: Vec<String>,
        removed: Vec<String>,
        first: bool,
    },
    /// Downloads whose every checksum is `SKIP` (VCS sources, signatures
    /// and files in the repository itself are left out: they are checked
    /// otherwise).
    Skip { sources: Vec<String>, new: bool },
    /// An install script (run as root by pacman) added or changed.
    InstallScript { file: String, added: bool },
    /// A line that pipes a download into an interpreter.
    PipedToShell {
        file: String,
        line: usize,
        text: String,
    },
    /// The keys allowed to sign the sources changed.
    Keys {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// Another maintainer than at the last review.
    Maintainer {
        before: Option<String>,
        now: Option<String>,
    },
    /// Nobody maintains the base.
    Orphaned,
    /// First submitted `days` ago.
    NewToAur { days: i64 },
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = |m: &Option<String>| m.clone().unwrap_or_else(|| "nobody (orphaned)".into());
        match self {
            Risk::Hosts { added, first, .. } if *first => {
                write!(f, "sources are downloaded from {}", added.join(", "))
            }
            Risk::Hosts { added, removed, .. } => {
                write!(f, "new source host: {}", added.join(", "))?;
                if !removed.is_empty() {
                    write!(f, " (no longer: {})", removed.join(", "))?;
                }
                Ok(())
            }
            Risk::Skip { sources, new } => write!(
                f,
                "{}checksum SKIP on a download, nothing checks what it gets: {}",
                if *new { "new " } else { "" },
                sources.join(", ")
            ),
            Risk::InstallScript { file, added } => write!(
                f,
                "install script {} {file}: it runs as root when the package is installed, upgraded or removed",
                if *added { "added:" } else { "changed:" }
            ),
            Risk::PipedToShell { file, line, text } => {
                write!(
                    f,
                    "a download piped into a shell, {file} line {line}: {text}"
                )
            }
            Risk::Keys { added, removed } => {
                write!(f, "validpgpkeys changed")?;
                if !added.is_empty() {
                    write!(f, "; added {}", added.join(", "))?;
                }
                if !removed.is_empty() {
                    write!(f, "; removed {}", removed.join(", "))?;
                }
                Ok(())
            }
            Risk::Maintainer { before, now } => write!(
                f,
                "new maintainer since your last review: {} (was {})",
                who(now),
                who(before)
            ),
            Risk::Orphaned => write!(f, "orphaned: nobody maintains it in the AUR"),
            Risk::NewToAur { days } => write!(
                f,
                "new to the AUR: first submitted {}",
                match days {
                    0 => "today".to_string(),
                    1 => "yesterday".to_string(),
                    n => format!("{n} days ago"),
                }
            ),
        }
    }
}

/// Everything in `new` (against `old`, the version last reviewed) and in
/// the AUR's facts (when known) that deserves a look, most pressing first.
pub fn assess(old: Option<&Version>, new: &Version, facts: Option<&Facts>) -> Vec<Risk> {
    let arch = std::env::consts::ARCH;
    let mut risks = Vec::new();
    if let Some(facts) = facts
        && let Some(before) = facts.reviewed_maintainer.as_ref()
        && *before != facts.maintainer
    {
        risks.push(Risk::Maintainer {
            before: before.clone(),
            now: facts.maintainer.clone(),
        });
    }
    for (at, line) in piped_to_shell(&new.pkgbuild) {
        risks.push(Risk::PipedToShell {
            file: "PKGBUILD".into(),
            line: at,
            text: line,
        });
    }
    for (file, text) in &new.install {
        for (at, line) in piped_to_shell(text) {
            risks.push(Risk::PipedToShell {
                file: file.clone(),
                line: at,
                text: line,
            });
        }
    }
    for (file, text) in &new.install {
        match old.map(|o| o.install.get(file)) {
            Some(Some(before)) if before == text => {}
            Some(Some(_)) => risks.push(Risk::InstallScript {
                file: file.clone(),
                added: false,
            }),
            _ => risks.push(Risk::InstallScript {
                file: file.clone(),
                added: true,
            }),
        }
    }
    let info = new.srcinfo.as_ref();
    let old_info = old.and_then(|o| o.srcinfo.as_ref());
    let hosts = |i: Option<&Srcinfo>| i.map(source_hosts).unwrap_or_default();
    let (now_hosts, then_hosts) = (hosts(info), hosts(old_info));
    let added: Vec<String> = now_hosts.difference(&then_hosts).cloned().collect();
    if !added.is_empty() {
        risks.push(Risk::Hosts {
            added,
            removed: then_hosts.difference(&now_hosts).cloned().collect(),
            first: old.is_none(),
        });
    }
    let skipped = |i: Option<&Srcinfo>| i.map(skipped_downloads).unwrap_or_default();
    let now_skipped = skipped(info);
    if !now_skipped.is_empty() {
        let then_skipped = skipped(old_info);
        risks.push(Risk::Skip {
            new: old.is_some() && now_skipped.iter().any(|s| !then_skipped.contains(s)),
            sources: now_skipped,
        });
    }
    if let Some(old_info) = old_info {
        let keys = |i: &Srcinfo| -> BTreeSet<String> {
            i.base_values("validpgpkeys", arch)
                .iter()
                .map(|k| k.to_uppercase())
                .collect()
        };
        let (now_keys, then_keys) = (info.map(keys).unwrap_or_default(), keys(old_info));
        if now_keys != then_keys {
            risks.push(Risk::Keys {
                added: now_keys.difference(&then_keys).cloned().collect(),
                removed: then_keys.difference(&now_keys).cloned().collect(),
            });
        }
    }
    if let Some(facts) = facts {
        if facts.maintainer.is_none() {
            risks.push(Risk::Orphaned);
        }
        let age = facts.now - facts.first_submitted;
        if facts.first_submitted > 0 && (0..NEW_PACKAGE_SECS).contains(&age) {
            risks.push(Risk::NewToAur {
                days: age / (24 * 3600),
            });
        }
    }
    risks
}

/// The host a source entry downloads from (`name::proto+scheme://host/…`);
/// none for a file in the repository.
pub fn source_host(entry: &str) -> Option<String> {
    let url = strip_name(entry);
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_lowercase())
}

/// A source entry without its `name::` (a `::` inside the URL, as in an
/// IPv6 address, is the URL's).
fn strip_name(entry: &str) -> &str {
    match (entry.find("::"), entry.find("://")) {
        (Some(at), scheme) if scheme.is_none_or(|s| at < s) => &entry[at + 2..],
        _ => entry,
    }
}

/// Whether a source is a VCS checkout (checked by its commit, not a sum).
fn is_vcs(entry: &str) -> bool {
    let url = strip_name(entry);
    let scheme = url.split("://").next().unwrap_or("");
    ["git", "svn", "hg", "bzr", "fossil"]
        .iter()
        .any(|vcs| scheme == *vcs || scheme.starts_with(&format!("{vcs}+")))
}

/// The downloads (not VCS, not signatures, not repository files) every
/// checksum of which is `SKIP`.
fn skipped_downloads(info: &Srcinfo) -> Vec<String> {
    let arch = std::env::consts::ARCH;
    let sources = info.base_values("source", arch);
    let sums: Vec<Vec<String>> = CHECKSUMS
        .iter()
        .map(|k| info.base_values(k, arch))
        .filter(|v| !v.is_empty())
        .collect();
    sources
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            source_host(s).is_some()
                && !is_vcs(s)
                && !SIGNATURE_EXTENSIONS.iter().any(|e| s.ends_with(e))
                && !sums.is_empty()
                && sums
                    .iter()
                    .all(|v| v.get(*i).is_some_and(|sum| sum == "SKIP"))
        })
        .map(|(_, s)| s.clone())
        .collect()
}

const DOWNLOADERS: &[&str] = &["curl", "wget", "fetch", "aria2c"];
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3", "perl", "ruby", "node",
];

/// The lines (1-based, trimmed) that pipe a download into an interpreter:
/// `curl … | sh`, `bash <(curl …)`, `sh -c "$(wget …)"`, `eval "$(curl …)"`.
pub fn piped_to_shell(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.trim_start();
            !code.starts_with('#') && pipes_download_to_shell(code)
        })
        .map(|(i, line)| (i + 1, line.trim().to_string()))
        .collect()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "\"'`;&()<$".contains(c))
        .filter(|w| !w.is_empty())
}

fn is_downloader(word: &str) -> bool {
    DOWNLOADERS.contains(&word.rsplit('/').next().unwrap_or(word))
}

fn is_interpreter(word: &str) -> bool {
    INTERPRETERS.contains(&word.rsplit('/').next().unwrap_or(word))
}

fn pipes_download_to_shell(line: &str) -> bool {
    if !words(line).any(is_downloader) {
        return false;
    }
    // `… | [sudo] [env] sh`: what follows a pipe (not `||`).
    let piped = line
        .split("||")
        .flat_map(|part| part.split('|').skip(1))
        .any(|after| {
            words(after)
                .find(|w| {
                    !matches!(*w, "sudo" | "env" | "doas" | "exec")
                        && !w.contains('=')
                        && !w.starts_with('-')
                })
                .is_some_and(is_interpreter)
        });
    // `sh <(curl …)`, `sh -c "$(curl …)"`, `eval "$(curl …)"`,
    // `source <(curl …)`: an interpreter word before the download.
    let substituted = (line.contains("<(") || line.contains("$("))
        && words(line)
            .take_while(|w| !is_downloader(w))
            .any(|w| is_interpreter(w) || matches!(w, "eval" | "source" | "."));
    piped || substituted
}

/// The version at `commit` of the clone in `dir` (its committed files).
pub fn version_at(dir: &Path, commit: &str) -> Result<Version, BuildError> {
    read_version(dir, |file| {
        super::build::run(
            super::build::git(dir).args(["show", &format!("{commit}:{file}")]),
            "",
        )
        .ok()
    })
}

/// The version checked out in `dir` (its files as they are).
pub fn version_in(dir: &Path) -> Result<Version, BuildError> {
    read_version(dir, |file| std::fs::read_to_string(dir.join(file)).ok())
}

fn read_version(dir: &Path, read: impl Fn(&str) -> Option<String>) -> Result<Version, BuildError> {
    let srcinfo = read(".SRCINFO").and_then(|t| Srcinfo::parse(&t).ok());
    let pkgbuild = read("PKGBUILD").ok_or_else(|| BuildError::Fetch {
        pkgbase: dir
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        message: "there is no PKGBUILD".into(),
    })?;
    let mut install = BTreeMap::new();
    if let Some(info) = &srcinfo {
        let arch = std::env::consts::ARCH;
        let mut files: BTreeSet<String> = info.base_values("install", arch).into_iter().collect();
        for name in info.names() {
            files.extend(info.values(name, "install", arch));
        }
        for file in files {
            // A name in the repository, never a path out of it.
            if file.is_empty() || file.contains('/') || file.starts_with('.') {
                continue;
            }
            install.insert(file.clone(), read(&file).unwrap_or_default());
        }
    }
    Ok(Version {
        srcinfo,
        pkgbuild,
        install,
    })
}

/// Hosts the sources makepkg reads from the PKGBUILD come from that its
/// committed `.SRCINFO` (what the review was shown) does not list.
pub fn undeclared_hosts(committed: Option<&Srcinfo>, printed: &Srcinfo) -> Vec<String> {
    let declared = committed.map(source_hosts).unwrap_or_default();
    source_hosts(printed)
        .difference(&declared)
        .cloned()
        .collect()
}

/// The hosts a `.SRCINFO`'s sources (for this architecture) come from.
fn source_hosts(info: &Srcinfo) -> BTreeSet<String> {
    info.base_values("source", std::env::consts::ARCH)
        .iter()
        .filter_map(|s| source_host(s))
        .collect()
}

#[cfg(test)]
mod tests;
