//! The news an upgrade shows before its plan (the Arch Linux news the
//! daemon gave the channel): each unread item, then a question whose default is
//! no when an item asks for manual intervention or names a package the
//! plan changes — so `--noconfirm` stops there too.

use super::{Level, NewsMode, TransactionOptions, TxChannel, TxError};
use crate::news::feed::{self, FeedItem};

/// Shows the channel's news (oldest first, the newest nearest the question)
/// and asks whether to go on; `Aborted` when the answer is no.
pub fn show_feed(
    channel: &TxChannel,
    options: &TransactionOptions,
    planned: &[&str],
) -> Result<(), TxError> {
    let feed = channel.feed();
    if options.news == NewsMode::Off || feed.is_empty() {
        return Ok(());
    }
    let mut reasons = Vec::new();
    for item in feed.iter().rev() {
        channel.message(Level::Warning, describe(item));
        if let Some(why) = feed::attention(item, planned) {
            reasons.push(format!("\"{}\": {why}", item.title));
        }
    }
    if options.dry_run {
        return Ok(());
    }
    let careful = !reasons.is_empty();
    if options.news == NewsMode::Show && !careful {
        return Ok(());
    }
    for reason in &reasons {
        channel.message(Level::Warning, format!("read first: {reason}"));
    }
    if careful && options.noconfirm {
        channel.message(
            Level::Warning,
            "--noconfirm does not go past this news: read it, then upgrade again and answer yes",
        );
    }
    if channel.confirm("Go on with the upgrade after this news?", !careful) {
        Ok(())
    } else {
        Err(TxError::Aborted)
    }
}

/// An item as the user reads it: date and title, text, link.
pub fn describe(item: &FeedItem) -> String {
    let mut out = format!("news of {}: {}", feed::date(item.published), item.title);
    if !item.text.is_empty() {
        out.push('\n');
        out.push_str(&item.text);
    }
    if !item.link.is_empty() {
        out.push_str(&format!("\n({})", item.link));
    }
    out
}
