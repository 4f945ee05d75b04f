//! The news family: the Arch Linux news kept in the store (fetched by the
//! refresh worker, `omg sync` and each upgrade), which of it is unread
//! (published since the last upgrade, by omg's history or pacman's log),
//! and on Debian the `NEWS.Debian` entries the last upgrade installed —
//! for `omg news` and for the news an upgrade shows before its plan.

use super::Engine;
use omg::config::Paths;
use omg::history::{Entry, History};
use omg::ipc::protocol::WireError;
use omg::model::BackendKind;
use omg::news::feed::{self, FeedItem};
use omg::news::{NewsItem, NewsList};
use omg::transaction::{Level, NewsMode, TransactionAction, TransactionRequest, TxChannel};

/// Debian entries listed with `--all` at most.
const MAX_ENTRIES: usize = 500;
/// Their text at most, in all (the answer stays well within a frame).
const MAX_TEXT: usize = 4 << 20;
/// A feed fetched this recently is not fetched again (`omg upgrade --all`
/// refreshes, then upgrades).
const FRESH_SECS: u64 = 60;

impl Engine {
    /// Fetches the Arch news into the store, telling `channel` when it
    /// cannot (the items kept before stay).
    pub(super) async fn fetch_arch_news(&self, channel: &TxChannel) {
        if self.kind != BackendKind::Alpm {
            return;
        }
        let Some(url) = self.config.arch.news_url() else {
            return;
        };
        let (_, fetched) = crate::daemon::news_feed::kept(self.store.as_ref());
        if fetched.is_some_and(|at| omg::unix_now().saturating_sub(at) < FRESH_SECS) {
            return;
        }
        channel.step("fetching the Arch Linux news...");
        if let Err(e) = crate::daemon::news_feed::refresh(self.store.as_ref(), &url).await {
            channel.message(
                Level::Warning,
                format!("{e}; the news fetched before is shown"),
            );
        }
    }

    /// What a transaction shows before its plan: for an upgrade on Arch,
    /// the news published since the last one, fetched first (not for a
    /// dry run, which anyone may ask for). A refresh fetches it too.
    pub(super) async fn news_for(
        &self,
        request: &TransactionRequest,
        channel: &TxChannel,
    ) -> Vec<FeedItem> {
        let upgrade = match request.action {
            TransactionAction::Upgrade => true,
            TransactionAction::Sync { .. } => false,
            _ => return Vec::new(),
        };
        if self.kind != BackendKind::Alpm || request.options.news == NewsMode::Off {
            return Vec::new();
        }
        if !request.options.dry_run {
            self.fetch_arch_news(channel).await;
        }
        if upgrade {
            self.unread_arch_news()
        } else {
            Vec::new()
        }
    }

    /// The Arch news published since the last upgrade (all kept ones
    /// when there was none).
    fn unread_arch_news(&self) -> Vec<FeedItem> {
        if self.kind != BackendKind::Alpm || self.config.arch.news_url().is_none() {
            return Vec::new();
        }
        let (items, _) = crate::daemon::news_feed::kept(self.store.as_ref());
        feed::since(&items, self.last_upgrade())
    }

    /// Unix time of the last upgrade: omg's newest recorded one, or
    /// pacman's, whichever is later.
    fn last_upgrade(&self) -> Option<u64> {
        let by_omg = system_history()
            .iter()
            .rev()
            .find(|e| e.result == "ok" && e.command == "upgrade")
            .map(|e| e.time);
        let by_pacman = self
            .backend
            .as_ref()
            .and_then(|b| b.log_file.as_deref())
            // Its newest 1 MiB.
            .and_then(|log| crate::backend::output_log::tail_text(log, 1 << 20))
            .and_then(|log| feed::last_full_upgrade(&log));
        by_omg.max(by_pacman)
    }

    /// `omg news`: what is unread, or with `all` everything kept.
    pub(super) async fn news(&self, all: bool) -> Result<NewsList, WireError> {
        // pacman's log and the packages' documentation are where the
        // backend says.
        let backend = self.backend()?;
        match self.kind {
            BackendKind::Alpm => {
                let (items, fetched) = crate::daemon::news_feed::kept(self.store.as_ref());
                let since = self.last_upgrade();
                let shown = if all {
                    items
                } else {
                    feed::since(&items, since)
                };
                Ok(NewsList {
                    source: "arch".into(),
                    since,
                    items: shown.iter().map(NewsItem::from).collect(),
                    fetched,
                })
            }
            BackendKind::Apt => {
                let root = backend.root.clone();
                Ok(tokio::task::spawn_blocking(move || debian_news(&root, all))
                    .await
                    .unwrap_or_default())
            }
        }
    }
}

fn system_history() -> Vec<Entry> {
    History::in_data_dir(&Paths::system().data_dir)
        .entries()
        .unwrap_or_default()
}

/// The `NEWS.Debian` entries upgrades installed: the last upgrade's, or
/// with `all` every recorded one's (newest first), read from the
/// packages' documentation under `root`.
fn debian_news(root: &std::path::Path, all: bool) -> NewsList {
    let history = system_history();
    let upgrades = history.iter().rev().filter(|e| {
        e.result == "ok"
            && e.changes
                .iter()
                .any(|c| c.change == "upgrade" && c.old.is_some())
    });
    let mut items = Vec::new();
    let mut text_left = MAX_TEXT;
    for entry in upgrades {
        for change in entry.changes.iter().filter(|c| c.change == "upgrade") {
            let (Some(old), Some(new)) = (&change.old, &change.new) else {
                continue;
            };
            let name = change.name.split(':').next().unwrap_or(&change.name);
            let Some(text) = omg::news::installed_debian_news(root, name) else {
                continue;
            };
            for entry_of_news in
                omg::news::entries_between(&text, old, new, &omg::version::debian_vercmp)
            {
                if entry_of_news.text.len() > text_left {
                    break;
                }
                text_left -= entry_of_news.text.len();
                items.push(NewsItem {
                    title: format!("{name} {}", entry_of_news.version),
                    published: entry.time,
                    link: None,
                    package: Some(name.to_string()),
                    text: entry_of_news.text,
                });
            }
        }
        if !all || items.len() >= MAX_ENTRIES {
            break;
        }
    }
    items.truncate(MAX_ENTRIES);
    NewsList {
        source: "debian".into(),
        since: None,
        items,
        fetched: None,
    }
}
