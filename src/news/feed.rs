//! The Arch Linux news feed (RSS 2.0, `archlinux.org/feeds/news/`): its
//! items read from the XML with their HTML reduced to text, kept across
//! fetches, and judged against an upgrade's plan — an item that asks for
//! manual intervention or names a package the upgrade changes makes the
//! upgrade's default answer no.

use serde::{Deserialize, Serialize};

/// One news item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The item's guid (its link when it has none).
    pub id: String,
    pub title: String,
    pub link: String,
    /// Unix time of its `pubDate`.
    pub published: u64,
    /// The description, as plain text.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot fetch the news from {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("the news feed is not well-formed XML: {0}")]
    Xml(String),
    #[error("the news feed has no RSS channel")]
    NotRss,
}

/// The store key of the Arch Linux news.
pub const ARCH: &str = "arch";
/// The most of a feed read.
const MAX_FEED_BYTES: usize = 4 << 20;

/// Downloads the feed at `url` and reads its items.
pub async fn fetch(url: &str) -> Result<Vec<FeedItem>, FeedError> {
    let fail = |message: String| FeedError::Fetch {
        url: url.to_string(),
        message,
    };
    let client = crate::http::client().map_err(fail)?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status().as_u16())));
    }
    let body = crate::http::read_limited(&mut response, MAX_FEED_BYTES)
        .await
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail(format!("larger than {} MiB", MAX_FEED_BYTES >> 20)))?;
    parse(&String::from_utf8_lossy(&body))
}

/// The UTC day of a Unix time (`2020-04-14`), as news is dated.
pub fn date(unix: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(0), 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// When pacman last started a full system upgrade, from its log (lines
/// `[2020-04-14T10:00:00+0000] [PACMAN] starting full system upgrade`).
pub fn last_full_upgrade(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .filter(|l| l.contains("] starting full system upgrade"))
        .find_map(|line| {
            let stamp = line.strip_prefix('[')?.split(']').next()?;
            let time = chrono::DateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%z")
                .map(|t| t.timestamp())
                .or_else(|_| {
                    // pacman before 5.1: local time without a zone.
                    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M")
                        .map(|t| t.and_utc().timestamp())
                })
                .ok()?;
            u64::try_from(time).ok()
        })
}

/// Items kept between fetches (the feed itself carries the newest ten).
pub const KEPT: usize = 50;
/// Items read from one feed; a longer one is cut.
const MAX_ITEMS: usize = 200;
/// Characters kept of one field.
const MAX_FIELD: usize = 64 * 1024;

/// The items of an RSS 2.0 document, newest first. Items without a
/// readable `pubDate` are left out (nothing could say whether they are
/// new).
pub fn parse(xml: &str) -> Result<Vec<FeedItem>, FeedError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut channel = false;
    let mut items = Vec::new();
    let mut fields: Option<Fields> = None;
    let mut text = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| FeedError::Xml(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_string();
                channel |= name == "channel";
                if name == "item" && items.len() < MAX_ITEMS {
                    fields = Some(Fields::default());
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => push_limited(&mut text, &t),
            Event::CData(t) => push_limited(&mut text, &t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => quick_xml::escape::resolve_predefined_entity(&r).map(str::to_string),
                };
                if let Some(s) = resolved {
                    push_limited(&mut text, &s);
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let in_item = path.last().is_some_and(|p| p == "item");
                if name == "item" {
                    if let Some(item) = fields.take().and_then(Fields::finish) {
                        items.push(item);
                    }
                } else if in_item && let Some(f) = fields.as_mut() {
                    let value = std::mem::take(&mut text);
                    match name.as_str() {
                        "title" => f.title = value.trim().to_string(),
                        "link" => f.link = value.trim().to_string(),
                        "guid" => f.guid = value.trim().to_string(),
                        "pubDate" => f.published = value.trim().to_string(),
                        "description" => f.description = value,
                        _ => {}
                    }
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !channel {
        return Err(FeedError::NotRss);
    }
    items.sort_by_key(|i: &FeedItem| std::cmp::Reverse(i.published));
    Ok(items)
}

#[derive(Default)]
struct Fields {
    title: String,
    link: String,
    guid: String,
    published: String,
    description: String,
}

impl Fields {
    fn finish(self) -> Option<FeedItem> {
        let published = chrono::DateTime::parse_from_rfc2822(&self.published).ok()?;
        let published = u64::try_from(published.timestamp()).ok()?;
        let id = if self.guid.is_empty() {
            self.link.clone()
        } else {
            self.guid
        };
        Some(FeedItem {
            id,
            title: self.title,
            link: self.link,
            published,
            text: html_to_text(&self.description),
        })
    }
}

fn push_limited(buffer: &mut String, more: &str) {
    for c in more.chars() {
        if buffer.len() >= MAX_FIELD {
            return;
        }
        buffer.push(c);
    }
}

/// The text of an item's HTML description: tags dropped, paragraphs and
/// line breaks kept as blank lines and newlines, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = rest[open + 1..open + close]
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match tag.as_str() {
            "p" | "pre" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "blockquote" => {
                out.push_str("\n\n")
            }
            "br" => out.push('\n'),
            "li" if !rest[open + 1..].starts_with('/') => out.push_str("\n- "),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&decode_entities(rest));
    // At most one blank line between paragraphs, none around the text.
    let mut text = String::new();
    let mut blank = 0;
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(line);
    }
    text
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let entity = after.find(';').filter(|&end| end <= 10).map(|end| {
            let name = &after[..end];
            let decoded = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            (decoded, end)
        });
        match entity {
            Some((Some(c), end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What was kept, with what was just fetched: one of each item (the
/// fetched one wins), newest first, at most [`KEPT`].
pub fn merge(kept: Vec<FeedItem>, fetched: Vec<FeedItem>) -> Vec<FeedItem> {
    let mut all = fetched;
    for item in kept {
        if !all.iter().any(|i| i.id == item.id) {
            all.push(item);
        }
    }
    all.sort_by_key(|i| std::cmp::Reverse(i.published));
    all.truncate(KEPT);
    all
}

/// The items published after `since` (all of them without it), newest
/// first.
pub fn since(items: &[FeedItem], since: Option<u64>) -> Vec<FeedItem> {
    items
        .iter()
        .filter(|i| since.is_none_or(|t| i.published > t))
        .cloned()
        .collect()
}

/// Why `item` must stop an upgrade that changes `planned` until someone
/// says yes: it asks for manual intervention, or it names one of them.
pub fn attention(item: &FeedItem, planned: &[&str]) -> Option<String> {
    if asks_for_intervention(&item.title) || asks_for_intervention(&item.text) {
        return Some("it requires manual intervention".into());
    }
    // Package names are lower case; "SSH" in a sentence is not `ssh`.
    planned
        .iter()
        .find(|name| names(&item.title, name) || names(&item.text, name))
        .map(|name| format!("it names {name}, which this upgrade changes"))
}

/// Whether `text` speaks of manual intervention, other than to say none
/// is needed ("no manual intervention is required").
fn asks_for_intervention(text: &str) -> bool {
    let text = text.to_lowercase();
    text.match_indices("manual intervention").any(|(at, _)| {
        let mut from = at.saturating_sub(16);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let before = &text[from..at];
        !["no ", "not ", "without "]
            .iter()
            .any(|negation| before.contains(negation))
    })
}

/// Whether `text` names the package `name`: the name stands alone, or is
/// followed by a version (`openssh-8.2p1`, `nss>=3.51`, `zn_poly 0.9`).
fn names(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || "-_+@.".contains(c);
    let mut from = 0;
    while let Some(at) = text[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before = text[..start].chars().next_back();
        let mut after = text[end..].chars();
        let next = after.next();
        let alone_before = before.is_none_or(|c| !part_of_name(c));
        let alone_after = match next {
            None => true,
            // A version after a dash; a sentence's full stop.
            Some('-') => after.next().is_some_and(|c| c.is_ascii_digit()),
            Some('.') => after.next().is_none_or(char::is_whitespace),
            Some(c) => !part_of_name(c),
        };
        if alone_before && alone_after {
            return true;
        }
        from = start + name.len().max(1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests;
