//! The AUR family: searches merged with the repositories', `omg info` of
//! AUR packages, plan rounds for AUR installs and the updates of foreign
//! packages; answers are kept in the store for a while, and an AUR that
//! did not answer is left out for a minute.

use std::sync::Arc;

use super::{Engine, RequestKey};
use crate::daemon::aur::AurService;
use omg::ipc::protocol::{ErrorKind, ResponseBody, SearchRequest, Sources, WireError};
use omg::model::PackageInfo;
use omg::store::{AUR_CACHE, Cache};

/// AUR answers kept in the store at most.
const AUR_CACHE_ENTRIES: u64 = 512;

/// After the AUR failed to answer, searches go without it this long.
const AUR_QUIET_SECS: u64 = 60;

impl Engine {
    /// A search of the repositories (the index) and, on Arch, the AUR: its
    /// index from the last metadata dump when there is one (no network),
    /// else the RPC asked at the same time as the repositories are
    /// searched; an AUR slower than its timeout leaves the repositories'
    /// results with a note.
    pub(super) async fn search_everywhere(
        &self,
        request: SearchRequest,
    ) -> Result<ResponseBody, WireError> {
        omg::index::rank::validate_query(&request.query).map_err(WireError::from)?;
        let aur = match &self.aur {
            Some(aur) if request.asks_aur() => aur,
            _ => return self.cached(RequestKey::Search(request)).await,
        };
        let local_request = SearchRequest {
            sources: Sources::All,
            ..request.clone()
        };
        if let Some((found, age)) = aur.search_offline(&request) {
            let local = self.repository_results(local_request).await?;
            let current = self.index().await?;
            return Ok(ResponseBody::Search(omg::aur::search::merge_offline(
                local,
                &current.index,
                (*found).clone(),
                age,
                &request,
            )));
        }
        let term = omg::aur::search::term(&request.query);
        let remote = async {
            let term = term.as_ref()?;
            if let Some(stored) = self.stored_aur_search(term) {
                return Some(Ok(stored));
            }
            if let Some(ago) = self.aur_recently_down() {
                return Some(Err(format!(
                    "the AUR did not answer {ago} s ago; it is asked again after {AUR_QUIET_SECS} s"
                )));
            }
            let found = aur.search(term).await;
            match &found {
                Ok(found) => self.store_aur_search(term, found),
                Err(
                    omg::aur::rpc::AurError::Unreachable { .. }
                    | omg::aur::rpc::AurError::Timeout(_),
                ) => self.mark_aur_down(),
                Err(_) => {}
            }
            Some(found.map_err(|e| e.to_string()))
        };
        let (local, remote) = tokio::join!(self.repository_results(local_request), remote);
        let mut local = local?;
        if request.sources == Sources::Aur {
            local.hits.clear();
            local.total = 0;
        }
        let found = match remote {
            None => {
                local
                    .notes
                    .push("the AUR searches words of two letters or more".into());
                return Ok(ResponseBody::Search(local));
            }
            Some(Err(e)) => {
                local.notes.push(format!("{e}: results without the AUR"));
                return Ok(ResponseBody::Search(local));
            }
            Some(Ok(found)) => found,
        };
        let current = self.index().await?;
        let hits = omg::aur::search::rpc_hits(&found, &local.query);
        let total = hits.len() as u32;
        Ok(ResponseBody::Search(omg::aur::search::merge(
            local,
            hits,
            total,
            &omg::aur::search::known_in(&current.index),
            request.limit,
        )))
    }

    /// The repositories' results for `request` (kept as any query's are).
    async fn repository_results(
        &self,
        request: SearchRequest,
    ) -> Result<omg::model::SearchResults, WireError> {
        match self.cached(RequestKey::Search(request)).await? {
            ResponseBody::Search(results) => Ok(results),
            _ => Err(WireError::new(
                ErrorKind::Internal,
                "a search answered something else",
            )),
        }
    }

    /// `omg sync`'s refresh of the AUR's package list (its metadata dump,
    /// when it changed), reported with the repositories' databases.
    pub(super) async fn sync_aur_index(
        &self,
        report: &mut omg::transaction::TransactionReport,
        channel: &omg::transaction::TxChannel,
    ) {
        use omg::aur::dump::{self, Refreshed};
        match dump::refresh(&self.config.aur, &self.paths).await {
            Ok(refreshed) => report.databases.push(omg::transaction::DatabaseRefresh {
                name: "aur".into(),
                updated: matches!(refreshed, Refreshed::Indexed(_)),
            }),
            Err(e) => channel.message(
                omg::transaction::Level::Warning,
                format!("the AUR's package list was not refreshed: {e}"),
            ),
        }
    }

    /// Seconds since the AUR last failed to answer, when that was less than
    /// `AUR_QUIET_SECS` ago: searches then go without it rather than wait
    /// for it again (an offline machine searches at full speed).
    pub(super) fn aur_recently_down(&self) -> Option<u64> {
        let since = self.aur_cache().stored_at("down")?;
        let ago = omg::unix_now().saturating_sub(since);
        (ago < AUR_QUIET_SECS).then_some(ago)
    }

    pub(super) fn mark_aur_down(&self) {
        self.aur_cache().put("down", &());
    }

    /// AUR answers kept between processes (a one-shot omgd starts empty).
    fn aur_cache(&self) -> Cache<'_> {
        Cache::new(self.store.as_ref(), AUR_CACHE)
    }

    /// An AUR search answer saved by an earlier process, if still fresh.
    pub(super) fn stored_aur_search(
        &self,
        term: &str,
    ) -> Option<Arc<Vec<omg::aur::rpc::AurPackage>>> {
        self.stored_aur(&format!("search:{term}")).map(Arc::new)
    }

    pub(super) fn store_aur_search(&self, term: &str, found: &[omg::aur::rpc::AurPackage]) {
        self.store_aur(&format!("search:{term}"), found);
    }

    /// AUR records saved under `key` by an earlier process, if still fresh.
    pub(super) fn stored_aur(&self, key: &str) -> Option<Vec<omg::aur::rpc::AurPackage>> {
        self.aur_cache().fresh(key, self.config.aur.cache_secs)
    }

    /// Keeps AUR records under `key`: answers expire, and however many
    /// different searches a caller makes, the table keeps at most
    /// `AUR_CACHE_ENTRIES` of them.
    pub(super) fn store_aur(&self, key: &str, found: &[omg::aur::rpc::AurPackage]) {
        let max_age = self.config.aur.cache_secs;
        self.aur_cache()
            .put_bounded(key, &found, AUR_CACHE_ENTRIES, max_age);
    }

    pub(super) fn aur_or_unsupported(&self) -> Result<&AurService, WireError> {
        self.aur.as_ref().ok_or_else(|| {
            WireError::new(
                ErrorKind::Unsupported,
                "the AUR is only used on Arch systems (and not when config.toml turns it off)",
            )
        })
    }

    /// Plans an AUR install: the resolver runs on the backend thread
    /// against the database, and each round fetches the AUR records it
    /// asks for.
    pub(super) async fn aur_plan(&self, targets: Vec<String>) -> Result<ResponseBody, WireError> {
        use omg::aur::resolve::{Records, Resolution};
        let aur = self.aur_or_unsupported()?;
        let aur_allowed = self.policy()?.aur_allowed();
        let backend = self.backend()?;
        let fingerprint = self.fingerprint()?;
        let mut records = Records::new();
        // Each round adds at least one level of the dependency tree.
        for _ in 0..64 {
            let round = backend
                .resolve(targets.clone(), records.clone(), &fingerprint)
                .await?;
            match round {
                Ok(Resolution::Done(plan)) => {
                    if let (false, Err(v)) = (plan.builds.is_empty(), &aur_allowed) {
                        return Err(WireError::new(ErrorKind::PolicyDenied, v.to_string()));
                    }
                    return Ok(ResponseBody::AurPlan(plan));
                }
                Ok(Resolution::NeedRecords(names)) => {
                    let found = aur.info(&names).await.map_err(WireError::from)?;
                    for name in names {
                        let mut record =
                            found.iter().find(|p| p.name == name).map(|p| (**p).clone());
                        if record.is_none() {
                            // No package of that name: one that provides it.
                            record = self.aur_provider(aur, &name).await?;
                        }
                        records.insert(name, record);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(WireError::new(
            ErrorKind::TransactionFailed,
            "the AUR dependency tree is deeper than 64 levels",
        ))
    }

    /// The full record of the most popular AUR package providing `name`.
    pub(super) async fn aur_provider(
        &self,
        aur: &AurService,
        name: &str,
    ) -> Result<Option<omg::aur::rpc::AurPackage>, WireError> {
        let depend = omg::version::Depend::parse(name);
        let providers = aur.providers(&depend.name).await?;
        let Some(short) = providers.iter().find(|p| {
            p.provides.is_empty()
                || depend.satisfied_by(&p.name, &p.version, p.provides.iter().map(String::as_str))
        }) else {
            return Ok(None);
        };
        let full = aur.info(std::slice::from_ref(&short.name)).await?;
        Ok(full.into_iter().next().map(|p| (*p).clone()).filter(|p| {
            depend.satisfied_by(&p.name, &p.version, p.provides.iter().map(String::as_str))
        }))
    }

    /// Installed packages no repository has, that the AUR has newer.
    pub(super) async fn aur_updates(&self) -> Result<ResponseBody, WireError> {
        let aur = self.aur_or_unsupported()?;
        let current = self.index().await?;
        let index = &current.index;
        let foreign: Vec<(String, String)> = index
            .names()
            .filter_map(|name| index.find(name))
            .filter(|p| p.repository == "local")
            .filter_map(|p| Some((p.name.to_string(), p.installed_version?.to_string())))
            .collect();
        let names: Vec<String> = foreign.iter().map(|(n, _)| n.clone()).collect();
        let found = aur.info(&names).await?;
        let mut updates = Vec::new();
        for (name, installed) in foreign {
            if let Some(record) = found.iter().find(|p| p.name == name)
                && omg::version::vercmp(&record.version, &installed) == std::cmp::Ordering::Greater
            {
                updates.push(omg::model::AurUpdate {
                    name,
                    installed_version: installed,
                    aur_version: record.version.clone(),
                });
            }
        }
        Ok(ResponseBody::AurUpdates(updates))
    }

    /// `omg info` of a package the repositories do not have: the AUR's.
    pub(super) async fn aur_info(&self, name: &str) -> Option<Result<PackageInfo, WireError>> {
        let aur = self.aur.as_ref()?;
        let key = format!("info:{name}");
        let record = match self.stored_aur(&key) {
            Some(stored) => stored.into_iter().next()?,
            None => match aur.info(&[name.to_string()]).await {
                Ok(found) => {
                    let found: Vec<_> = found.into_iter().map(|p| (*p).clone()).collect();
                    self.store_aur(&key, &found);
                    found.into_iter().next()?
                }
                Err(e) => {
                    return Some(Err(WireError::new(
                        ErrorKind::Database,
                        format!("the AUR could not be asked: {e}"),
                    )));
                }
            },
        };
        let installed = match self.index().await {
            Ok(current) => omg::aur::search::known_in(&current.index)(name),
            Err(_) => None,
        };
        Some(Ok(omg::aur::search::info(&record, installed)))
    }
}
