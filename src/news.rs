//! The news of what an upgrade brings. Debian: the `NEWS.Debian` entries
//! a package's new version ships (`/usr/share/doc/PKG/NEWS.Debian.gz`)
//! that are newer than the installed version, read from the downloaded
//! `.deb` before dpkg runs, as apt-listchanges does. Arch: the news feed
//! (`feed`).

pub mod feed;

use std::io::Read;
use std::path::Path;

/// What `omg news` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewsList {
    /// `arch` (the news feed) or `debian` (`NEWS.Debian` entries).
    pub source: String,
    /// Unread means published after this (Unix time; the last upgrade),
    /// when there was one.
    pub since: Option<u64>,
    /// Newest first.
    pub items: Vec<NewsItem>,
    /// When the feed was last fetched (Arch), if ever.
    pub fetched: Option<u64>,
}

/// One piece of news.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewsItem {
    pub title: String,
    /// Unix time it was published (Arch) or installed (Debian).
    pub published: u64,
    pub link: Option<String>,
    /// The package it is about (Debian).
    pub package: Option<String>,
    pub text: String,
}

impl From<&feed::FeedItem> for NewsItem {
    fn from(item: &feed::FeedItem) -> Self {
        NewsItem {
            title: item.title.clone(),
            published: item.published,
            link: Some(item.link.clone()).filter(|l| !l.is_empty()),
            package: None,
            text: item.text.clone(),
        }
    }
}

/// One entry: the version it is about and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: String,
    pub text: String,
}

/// The entries of a `NEWS.Debian` file (Debian changelog format: a
/// `source (version) dists; urgency=…` line, the text, a ` -- maintainer`
/// trailer) newer than `installed`, newest first.
pub fn newer_entries(
    text: &str,
    installed: &str,
    cmp: &dyn Fn(&str, &str) -> std::cmp::Ordering,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    for line in text.lines() {
        let heading =
            !line.starts_with(char::is_whitespace) && line.contains(" (") && line.contains(';');
        if heading {
            if let Some(done) = current.take() {
                entries.push(done);
            }
            let version = line
                .split_once(" (")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(v, _)| v.to_string())
                .unwrap_or_default();
            current = Some(Entry {
                version,
                text: String::new(),
            });
        } else if let Some(entry) = current.as_mut() {
            entry.text.push_str(line);
            entry.text.push('\n');
        }
    }
    entries.extend(current);
    entries
        .into_iter()
        .filter(|e| cmp(&e.version, installed) == std::cmp::Ordering::Greater)
        .map(|mut e| {
            e.text = e.text.trim_matches('\n').to_string();
            e
        })
        .collect()
}

/// The entries of `text` newer than `old` up to `new` (what an upgrade
/// from `old` to `new` brought).
pub fn entries_between(
    text: &str,
    old: &str,
    new: &str,
    cmp: &dyn Fn(&str, &str) -> std::cmp::Ordering,
) -> Vec<Entry> {
    newer_entries(text, old, cmp)
        .into_iter()
        .filter(|e| cmp(&e.version, new) != std::cmp::Ordering::Greater)
        .collect()
}

/// The `NEWS.Debian` an installed package has under `root`, when it has
/// one (at most 1 MiB of it).
pub fn installed_debian_news(root: &Path, package: &str) -> Option<String> {
    if package.is_empty() || package.contains('/') || package.starts_with('.') {
        return None;
    }
    let path = root
        .join("usr/share/doc")
        .join(package)
        .join("NEWS.Debian.gz");
    let file = std::fs::File::open(path).ok()?;
    gunzip_limited(file.take(4 << 20))
}

fn gunzip_limited(compressed: impl Read) -> Option<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(compressed)
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The `NEWS.Debian` a `.deb` ships for `package`, when it ships one.
pub fn debian_news(deb: &Path, package: &str) -> Option<String> {
    let inside = format!("/usr/share/doc/{package}/NEWS.Debian.gz");
    let compressed = crate::package_file::read_member(deb, &inside).ok()?;
    gunzip_limited(compressed.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_entries_newer_than_the_installed_version() {
        let news = "\
openssh (1:9.2p1-1) unstable; urgency=medium

  OpenSSH 9.2 disables the DSA key type by default.

 -- Colin Watson <cjwatson@debian.org>  Thu, 09 Feb 2023 10:00:00 +0000

openssh (1:8.7p1-1) unstable; urgency=medium

  ssh(1) uses the SFTP protocol for scp.

 -- Colin Watson <cjwatson@debian.org>  Fri, 20 Aug 2021 10:00:00 +0000
";
        let found = newer_entries(news, "1:8.7p1-1", &crate::version::debian_vercmp);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version, "1:9.2p1-1");
        assert!(found[0].text.starts_with("  OpenSSH 9.2 disables"));
        assert!(found[0].text.contains("-- Colin Watson"));
        assert_eq!(
            newer_entries(news, "1:8.4p1-5", &crate::version::debian_vercmp).len(),
            2
        );
        assert!(newer_entries(news, "1:9.2p1-1", &crate::version::debian_vercmp).is_empty());
        // What an upgrade from 8.4 to 8.7 brought: the 8.7 entry only.
        let brought = entries_between(
            news,
            "1:8.4p1-5",
            "1:8.7p1-1",
            &crate::version::debian_vercmp,
        );
        assert_eq!(brought.len(), 1);
        assert_eq!(brought[0].version, "1:8.7p1-1");
    }
}
