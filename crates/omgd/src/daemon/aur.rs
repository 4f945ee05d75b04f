//! The daemon's window on the AUR: the index of its metadata dump (read
//! first, reopened when the refresh replaces it) and the RPC client, with
//! answers kept for a while (config.toml `aur.cache_secs`) so repeated
//! searches and lookups do not go out again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omg::aur::offline::AurIndex;
use omg::aur::rpc::{AurClient, AurError, AurPackage, SearchBy};
use omg::config::AurConfig;
use omg::ipc::protocol::SearchRequest;
use omg::model::SearchResults;

/// What tells one index file from the next: its inode, size and mtime.
type Stamp = (u64, u64, Option<std::time::SystemTime>);

pub struct AurService {
    client: AurClient,
    /// How long a search waits for the AUR before answering without it.
    pub search_timeout: Duration,
    /// Seconds the dump's records stand for the AUR's without asking it.
    fresh_secs: u64,
    index_path: PathBuf,
    index: Mutex<Option<(Stamp, Arc<AurIndex>)>>,
    /// The index's answers to searches, dropped with the index.
    ranked: moka::sync::Cache<SearchRequest, Arc<SearchResults>>,
    searches: moka::sync::Cache<String, Arc<Vec<AurPackage>>>,
    /// `None`: the AUR has no such package.
    records: moka::sync::Cache<String, Option<Arc<AurPackage>>>,
}

impl AurService {
    /// The AUR as `config` says, with the dump's index in `data_dir`.
    pub fn new(config: &AurConfig, data_dir: &Path) -> Result<AurService, AurError> {
        let client = AurClient::new(&config.base_url(), Duration::from_millis(config.timeout_ms))?;
        let ttl = Duration::from_secs(config.cache_secs.max(1));
        Ok(AurService {
            client,
            search_timeout: Duration::from_millis(config.search_timeout_ms),
            fresh_secs: config.cache_secs,
            index_path: omg::aur::offline::path(data_dir),
            index: Mutex::new(None),
            // Weighed as the engine's answers are: 256 typical answers.
            ranked: moka::sync::Cache::builder()
                .max_capacity(256)
                .weigher(|_, found: &Arc<SearchResults>| {
                    omg::model::cache_weight(found.approx_bytes())
                })
                .build(),
            searches: moka::sync::Cache::builder()
                .max_capacity(256)
                .time_to_live(ttl)
                .build(),
            records: moka::sync::Cache::builder()
                .max_capacity(4096)
                .time_to_live(ttl)
                .build(),
        })
    }

    /// The index of the AUR's last metadata dump, if there is one: mapped
    /// once, and again when the file is replaced.
    pub fn offline(&self) -> Option<Arc<AurIndex>> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&self.index_path).ok();
        let stamp = meta.map(|m| (m.ino(), m.len(), m.modified().ok()));
        let mut held = self.index.lock().unwrap_or_else(|e| e.into_inner());
        match (&*held, stamp) {
            (Some((known, index)), Some(stamp)) if *known == stamp => return Some(index.clone()),
            (_, None) => {
                *held = None;
                return None;
            }
            _ => {}
        }
        self.ranked.invalidate_all();
        match AurIndex::open(&self.index_path) {
            Ok(Some(index)) => {
                let index = Arc::new(index);
                *held = stamp.map(|s| (s, index.clone()));
                Some(index)
            }
            Ok(None) => None,
            Err(e) => {
                log::warn!("the AUR's index is left unread: {e}");
                *held = None;
                None
            }
        }
    }

    /// The index's answer to `request` (kept until the index changes), and
    /// the index's age; None without an index.
    pub fn search_offline(&self, request: &SearchRequest) -> Option<(Arc<SearchResults>, u64)> {
        let index = self.offline()?;
        let found = self
            .ranked
            .get_with_by_ref(request, || Arc::new(index.search(request)));
        Some((found, index.age()))
    }

    /// The AUR's package names that start with `prefix`, from its index
    /// (never the network: a completion waits for nothing); None without
    /// an index.
    pub fn complete_offline(&self, prefix: &str) -> Option<Vec<String>> {
        self.offline()?.complete(prefix)
    }

    /// The index when the AUR confirmed it within `aur.cache_secs`: its
    /// records stand for the AUR's.
    fn fresh_index(&self) -> Option<Arc<AurIndex>> {
        self.offline().filter(|i| i.age() <= self.fresh_secs)
    }

    /// Packages whose name or description contains `term`, waiting at most
    /// the search timeout.
    pub async fn search(&self, term: &str) -> Result<Arc<Vec<AurPackage>>, AurError> {
        if let Some(hit) = self.searches.get(term) {
            return Ok(hit);
        }
        let found = tokio::time::timeout(
            self.search_timeout,
            self.client.search(term, SearchBy::NameDesc),
        )
        .await
        .map_err(|_| AurError::Timeout(self.search_timeout))??;
        let found = Arc::new(found);
        self.searches.insert(term.to_string(), found.clone());
        Ok(found)
    }

    /// Packages that provide `name` (the RPC's `by=provides`), most popular
    /// first.
    pub async fn providers(&self, name: &str) -> Result<Arc<Vec<AurPackage>>, AurError> {
        let key = format!("provides:{name}");
        if let Some(hit) = self.searches.get(&key) {
            return Ok(hit);
        }
        if let Some(index) = self.fresh_index() {
            let found = Arc::new(index.providers(name));
            self.searches.insert(key, found.clone());
            return Ok(found);
        }
        let mut found = self.client.search(name, SearchBy::Provides).await?;
        found.sort_by(|a, b| b.popularity.total_cmp(&a.popularity));
        let found = Arc::new(found);
        self.searches.insert(key, found.clone());
        Ok(found)
    }

    /// The packages providing `name` as this daemon last heard from the
    /// AUR, without asking it.
    pub fn known_providers(&self, name: &str) -> Option<Arc<Vec<AurPackage>>> {
        self.searches.get(&format!("provides:{name}"))
    }

    /// Full records of `names`, those the AUR has: from the dump's index
    /// while the AUR confirmed it within `aur.cache_secs`, else asked. An
    /// AUR that cannot be asked leaves the older index's records, when it
    /// has them all.
    pub async fn info(&self, names: &[String]) -> Result<Vec<Arc<AurPackage>>, AurError> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        let fresh = self.fresh_index();
        for name in names {
            match self.records.get(name) {
                Some(Some(record)) => found.push(record),
                Some(None) => {}
                None => match fresh.as_ref().and_then(|i| i.get(name)) {
                    Some(record) => found.push(Arc::new(record)),
                    None => missing.push(name.clone()),
                },
            }
        }
        if !missing.is_empty() {
            let fetched = match self.client.info(&missing).await {
                Ok(fetched) => fetched,
                Err(e) => {
                    let older = self.offline().filter(|_| fresh.is_none());
                    let kept: Option<Vec<AurPackage>> = older
                        .map(|index| missing.iter().map(|n| index.get(n)).collect())
                        .unwrap_or_default();
                    let Some(kept) = kept else { return Err(e) };
                    log::info!("the AUR did not answer ({e}); its records from the last dump");
                    found.extend(kept.into_iter().map(Arc::new));
                    return Ok(found);
                }
            };
            for name in &missing {
                let record = fetched
                    .iter()
                    .find(|p| p.name == *name)
                    .map(|p| Arc::new(p.clone()));
                self.records.insert(name.clone(), record.clone());
                found.extend(record);
            }
        }
        Ok(found)
    }
}
