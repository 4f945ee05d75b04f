//! The Arch Linux news kept in omgd's store: fetched by the refresh
//! worker, `omg sync` and each upgrade, merged with what was kept, read
//! by `omg news` and the upgrade's question.

use omg::news::feed::{self, FeedItem};

/// Fetches the feed at `url` and keeps its items with those kept before;
/// how many are kept now. A failure leaves the kept ones.
pub async fn refresh(
    store: Option<&omg::store::Store>,
    url: &str,
) -> Result<usize, feed::FeedError> {
    let fetched = feed::fetch(url).await?;
    let (before, _) = kept(store);
    let merged = feed::merge(before, fetched);
    omg::store::Cache::new(store, omg::store::NEWS).put(feed::ARCH, &merged);
    Ok(merged.len())
}

/// The items kept, newest first, and when they were fetched (never: no
/// time).
pub fn kept(store: Option<&omg::store::Store>) -> (Vec<FeedItem>, Option<u64>) {
    match omg::store::Cache::new(store, omg::store::NEWS).get::<Vec<FeedItem>>(feed::ARCH) {
        Some(stored) => (stored.value, Some(stored.at)),
        None => (Vec::new(), None),
    }
}
