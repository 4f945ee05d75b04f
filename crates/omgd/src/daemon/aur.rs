//! The daemon's window on the AUR: the RPC client, with answers kept for a
//! while (config.toml `aur.cache_secs`) so repeated searches and lookups do
//! not go out again.

use std::sync::Arc;
use std::time::Duration;

use omg::aur::rpc::{AurClient, AurError, AurPackage, SearchBy};
use omg::config::AurConfig;

pub struct AurService {
    client: AurClient,
    /// How long a search waits for the AUR before answering without it.
    pub search_timeout: Duration,
    searches: moka::sync::Cache<String, Arc<Vec<AurPackage>>>,
    /// `None`: the AUR has no such package.
    records: moka::sync::Cache<String, Option<Arc<AurPackage>>>,
}

impl AurService {
    pub fn new(config: &AurConfig) -> Result<AurService, AurError> {
        let client = AurClient::new(&config.base_url(), Duration::from_millis(config.timeout_ms))?;
        let ttl = Duration::from_secs(config.cache_secs.max(1));
        Ok(AurService {
            client,
            search_timeout: Duration::from_millis(config.search_timeout_ms),
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

    /// Full records of `names`, those the AUR has.
    pub async fn info(&self, names: &[String]) -> Result<Vec<Arc<AurPackage>>, AurError> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match self.records.get(name) {
                Some(Some(record)) => found.push(record),
                Some(None) => {}
                None => missing.push(name.clone()),
            }
        }
        if !missing.is_empty() {
            let fetched = self.client.info(&missing).await?;
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
