//! Answering a query in omg's own process when no daemon runs: the index
//! snapshot is read from its file, checked against the package database's
//! fingerprint (a few dozen `stat` calls over what the snapshot says it
//! covers) and ranked here, without starting `omgd-lite`. Anything that
//! does not hold (no snapshot, a stale or damaged one, a query that needs
//! the AUR) returns `None` and goes to a one-shot omgd as before.

use std::path::PathBuf;

use crate::config::{Config, Paths};
use crate::index::{Index, fingerprint, rank, snapshot};
use crate::ipc::protocol::{RequestBody, ResponseBody, SearchRequest, Sources};
use crate::model::BackendKind;

/// The snapshot of this system's database, when it is current.
struct Fresh {
    index: Index,
    kind: BackendKind,
    aur: bool,
    file: PathBuf,
}

fn fresh_snapshot() -> Option<Fresh> {
    let paths = Paths::user().ok()?;
    let config = Config::load(&paths.config_dir).ok()?;
    let kind = crate::detect::detect(config.backend).ok()?;
    let file = snapshot::path(&paths.data_dir, &snapshot::key(kind));
    let current = |meta: &crate::index::IndexMeta| {
        meta.backend == kind
            && !meta.watched.is_empty()
            && fingerprint::compute(&meta.watched).is_ok_and(|f| f == meta.fingerprint)
    };
    match snapshot::map(&file, current) {
        snapshot::Loaded::Fresh(index) => Some(Fresh {
            index,
            kind,
            aur: config.aur.enabled,
            file,
        }),
        _ => None,
    }
}

/// The answer to `body` from the snapshot, if this process can give it.
pub fn answer(body: &RequestBody, verbose: bool) -> Option<ResponseBody> {
    let RequestBody::Search(request) = body else {
        return None;
    };
    if rank::validate_query(&request.query).is_err() {
        return None;
    }
    let fresh = fresh_snapshot()?;
    if needs_aur(request, &fresh) {
        return None;
    }
    if verbose {
        eprintln!(
            "omg: answered from the index snapshot {} ({} packages)",
            fresh.file.display(),
            fresh.index.len()
        );
    }
    Some(ResponseBody::Search(rank::search(&fresh.index, request)))
}

/// Whether a search also asks the AUR (which only omgd does).
fn needs_aur(request: &SearchRequest, fresh: &Fresh) -> bool {
    fresh.kind == BackendKind::Alpm && fresh.aur && request.sources != Sources::Repositories
}
