//! Answering a search or a name completion in omg's own process when no
//! daemon runs: the index snapshot is read from its file, checked against
//! the package database's fingerprint (a few dozen `stat` calls over what
//! the snapshot says it covers) and ranked here, without starting
//! `omgd-lite`: the system's database or the one the command line names
//! (`--backend`, `--root`, `--pacman-conf`), and on Arch the AUR's index
//! from its last metadata dump beside it. Anything that does not hold (no
//! snapshot, a stale or damaged one, a query for the AUR with no index of
//! it) returns `None` and goes to a one-shot omgd as before.

use std::ffi::OsString;

use crate::aur::offline::{self, AurIndex};
use crate::config::{Config, Paths};
use crate::index::{Index, fingerprint, rank, snapshot};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::BackendKind;

/// The environment a one-shot omgd would get: the process's, with the
/// command line's choices (`--backend`, `--pacman-conf`, …) over it.
fn var(overrides: &[(&str, OsString)], name: &str) -> Option<OsString> {
    overrides
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var_os(name))
}

/// The snapshot at `file` of the `kind` database, if it is current: all
/// of it, or with `names_only` its names alone (what a completion reads).
fn fresh_snapshot(file: &std::path::Path, kind: BackendKind, names_only: bool) -> Option<Index> {
    let current = |meta: &crate::index::IndexMeta| {
        meta.backend == kind
            && !meta.watched.is_empty()
            && fingerprint::compute(&meta.watched).is_ok_and(|f| f == meta.fingerprint)
    };
    let loaded = if names_only {
        snapshot::map_names(file, current)
    } else {
        snapshot::map(file, current)
    };
    match loaded {
        snapshot::Loaded::Fresh(index) => Some(index),
        _ => None,
    }
}

/// The answer to `body` from the snapshot, if this process can give it;
/// `overrides` are the environment the command line sets for an omgd.
pub fn answer(
    body: &RequestBody,
    overrides: &[(&str, OsString)],
    verbose: bool,
) -> Option<ResponseBody> {
    if !matches!(body, RequestBody::Search(_) | RequestBody::Complete { .. }) {
        return None;
    }
    let paths = Paths::user().ok()?;
    let config = Config::load(&paths.config_dir).ok()?;
    let backend = var(overrides, "OMG_BACKEND");
    let kind =
        crate::detect::detect_with(backend.as_ref().and_then(|b| b.to_str()), config.backend)
            .ok()?;
    let snapshot = |names_only| {
        let key = snapshot::key_with(kind, |name| var(overrides, name));
        let file = snapshot::path(&paths.data_dir, &key);
        let index = fresh_snapshot(&file, kind, names_only)?;
        if verbose {
            eprintln!(
                "omg: answered from the index snapshot {} ({} packages)",
                file.display(),
                index.len()
            );
        }
        Some(index)
    };
    let request = match body {
        RequestBody::Search(request) => request,
        RequestBody::Complete { prefix } => {
            let prefix = rank::validate_query(prefix).ok()?;
            let names = rank::complete(&snapshot(true)?, prefix)?;
            let aur = if kind == BackendKind::Alpm && config.aur.enabled {
                AurIndex::open_names(&offline::path(&paths.data_dir)).ok()?
            } else {
                None
            };
            return Some(ResponseBody::Names(match aur {
                Some(aur) => rank::merge_completions(names, rank::complete(&aur, prefix)?),
                None => names,
            }));
        }
        _ => return None,
    };
    rank::validate_query(&request.query).ok()?;
    // Only omgd asks the AUR's RPC; settled before the snapshot is read.
    let aur = if kind == BackendKind::Alpm && config.aur.enabled && request.asks_aur() {
        Some(AurIndex::open(&offline::path(&paths.data_dir)).ok()??)
    } else {
        None
    };
    let index = snapshot(false)?;
    let local = rank::search(&index, request);
    Some(ResponseBody::Search(match aur {
        Some(aur) => crate::aur::search::merge_offline(
            local,
            &index,
            aur.search(request),
            aur.age(),
            request,
        ),
        None => local,
    }))
}
