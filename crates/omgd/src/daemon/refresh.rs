//! `omgd work refresh`: the one-shot worker behind `omgd-refresh.timer`. It
//! refreshes a private copy of the repository lists (no root needed; the
//! system's lists are never touched), counts the updates they offer, stores
//! the outcome in the database, writes the status file, and tells a running
//! daemon to reload.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendError};
use omg::config::Paths;
use omg::ipc::client::Connection;
use omg::ipc::protocol::RequestBody;
use omg::status::{self, FLAG_REFRESH_FAILED};
use omg::store::{Cache, REFRESH, Store};

/// What a refresh found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshResult {
    /// Unix time of the attempt.
    pub time: u64,
    /// Upgradable packages against the private lists (of the last success).
    pub updates: u32,
    /// Which they are.
    pub pending: Vec<omg::model::PendingUpdate>,
    /// Unix time of the last successful refresh.
    pub last_success: Option<u64>,
    /// Why this attempt failed, if it did.
    pub error: Option<String>,
}

/// The stored result for `backend`, if any.
pub fn stored(store: &Store, backend: &str) -> Option<RefreshResult> {
    Cache::new(Some(store), REFRESH)
        .get(backend)
        .map(|s| s.value)
}

/// Runs one refresh; `offline` recounts against the private lists without
/// downloading (after the installed packages changed).
pub async fn run(
    paths: &Paths,
    config: &omg::config::Config,
    offline: bool,
) -> Result<RefreshResult, BackendError> {
    let kind = backend::detect::detect(config.backend)?;
    // Held while the refresh runs: one refresh at a time, and how the
    // daemon tells that one is running (`RefreshInProgress`).
    let _running = take_refresh_lock(paths).await;
    let lists = paths.private_lists(kind.as_str());
    let store = Store::open(&paths.database()).ok().map(|(s, _)| s);
    let counted = {
        let mut backend = backend::open(kind)?;
        let counted = backend.refresh_private(&lists, offline);
        // The file index, from what this refresh fetched, written as it is
        // read.
        if let (Ok(_), false, Some(store)) = (&counted, offline, &store) {
            let mut writer = omg::provides::build::IndexWriter::new(store, kind.as_str());
            match backend.file_index(&lists, &mut writer) {
                Ok(Some(count)) => log::debug!("file index: {count} paths"),
                Ok(None) => {}
                Err(e) => log::warn!("no file index: {e}"),
            }
        }
        counted
    };
    if !offline && kind == omg::model::BackendKind::Alpm && config.aur.enabled {
        refresh_aur_index(paths, &config.aur).await;
    }
    if !offline
        && kind == omg::model::BackendKind::Alpm
        && let Some(url) = config.arch.news_url()
    {
        match super::news_feed::refresh(store.as_ref(), &url).await {
            Ok(kept) => log::info!("the Arch Linux news: {kept} items kept"),
            Err(e) => log::warn!("the news were not refreshed: {e}"),
        }
    }
    let previous = store.as_ref().and_then(|s| stored(s, kind.as_str()));
    let now = omg::unix_now();
    let result = match &counted {
        Ok(pending) => RefreshResult {
            time: now,
            updates: u32::try_from(pending.len()).unwrap_or(u32::MAX),
            pending: pending.clone(),
            last_success: Some(now),
            error: None,
        },
        Err(e) => RefreshResult {
            time: now,
            updates: previous.as_ref().map_or(0, |p| p.updates),
            pending: previous
                .as_ref()
                .map(|p| p.pending.clone())
                .unwrap_or_default(),
            last_success: previous.as_ref().and_then(|p| p.last_success),
            error: Some(e.to_string()),
        },
    };
    Cache::new(store.as_ref(), REFRESH).put(kind.as_str(), &result);
    drop(store);
    write_status(&paths.status_file(), &result);
    reload_daemon(&paths.socket()).await;
    counted.map(|_| result)
}

/// Fetches the AUR's metadata dump when it changed and indexes it; a
/// failure is reported and leaves the last index.
async fn refresh_aur_index(paths: &Paths, config: &omg::config::AurConfig) {
    use omg::aur::dump::{self, Refreshed};
    match dump::refresh(config, paths).await {
        Ok(Refreshed::Indexed(count)) => log::info!("the AUR's package list: {count} packages"),
        Ok(Refreshed::NotModified) => log::debug!("the AUR's package list has not changed"),
        Err(e) => log::warn!("the AUR's package list was not refreshed: {e}"),
    }
}

/// The lock a running refresh holds.
pub fn refresh_lock(paths: &Paths) -> std::path::PathBuf {
    paths.runtime_dir.join("refresh.lock")
}

/// Waits for another refresh to finish, then holds the lock.
async fn take_refresh_lock(paths: &Paths) -> Option<std::fs::File> {
    let path = refresh_lock(paths);
    std::fs::create_dir_all(&paths.runtime_dir).ok()?;
    let file = std::fs::File::create(&path).ok()?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .ok()?
        .ok()
}

/// Whether a refresh holds its lock now.
pub fn refresh_running(paths: &Paths) -> bool {
    match std::fs::File::open(refresh_lock(paths)) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Puts a refresh result into the status file, keeping its other fields.
pub fn write_status(path: &Path, result: &RefreshResult) {
    let written = status::update(path, |s| {
        s.updates = status::saturate(result.updates as usize);
        if let Some(t) = result.last_success {
            s.last_refresh = u32::try_from(t).unwrap_or(u32::MAX);
        }
        if result.error.is_some() {
            s.flags |= FLAG_REFRESH_FAILED;
        } else {
            s.flags &= !FLAG_REFRESH_FAILED;
        }
    });
    if let Err(e) = written {
        log::warn!("cannot write the status file {}: {e}", path.display());
    }
}

/// Asks a daemon listening on `socket` to reload; nothing if none listens.
async fn reload_daemon(socket: &Path) {
    let timeout = std::time::Duration::from_secs(5);
    if let Ok(mut c) = Connection::connect_socket(socket, timeout).await {
        match c.request(RequestBody::Reload).await {
            Ok(_) => log::debug!("the daemon on {} reloaded", socket.display()),
            Err(e) => log::warn!("the daemon on {} did not reload: {e}", socket.display()),
        }
    }
}
