//! AUR records as search hits and package details, and merging AUR hits
//! into the repositories' ranked results: the repositories win a name they
//! share with the AUR, and each tier (exact, prefix, …) lists repository
//! hits before AUR ones.

use super::rpc::AurPackage;
use crate::model::{AurMeta, MatchKind, PackageInfo, SearchHit, SearchResults, VersionOrigin};

/// The word to send the AUR (it searches for one term of at least two
/// characters): the longest word of the query.
pub fn term(query: &str) -> Option<String> {
    query
        .split_whitespace()
        .max_by_key(|w| w.len())
        .filter(|w| w.len() >= 2)
        .map(str::to_lowercase)
}

/// Whether every word of `query` is in the record's name or description.
pub fn matches(pkg: &AurPackage, query: &str) -> bool {
    let name = pkg.name.to_lowercase();
    let description = pkg.description.as_deref().unwrap_or("").to_lowercase();
    query
        .to_lowercase()
        .split_whitespace()
        .all(|w| name.contains(w) || description.contains(w))
}

pub fn meta(pkg: &AurPackage) -> AurMeta {
    AurMeta {
        package_base: pkg.package_base.clone(),
        votes: pkg.num_votes,
        popularity: pkg.popularity,
        out_of_date: pkg.out_of_date,
        maintainer: pkg.maintainer.clone(),
        first_submitted: pkg.first_submitted,
        last_modified: pkg.last_modified,
        keywords: pkg.keywords.clone(),
    }
}

fn kind(pkg: &AurPackage, query: &str) -> MatchKind {
    let query = query.trim().to_lowercase();
    let name = pkg.name.to_lowercase();
    if name == query {
        MatchKind::Exact
    } else if name.starts_with(&query) {
        MatchKind::Prefix
    } else if query.split_whitespace().all(|w| name.contains(w)) {
        MatchKind::Fuzzy
    } else {
        MatchKind::Description
    }
}

/// What the index knows of an installed name: its repository and its
/// installed version.
pub type Installed<'a> = &'a dyn Fn(&str) -> Option<(String, Option<String>)>;

/// The RPC's answer (`aur`) as search hits: the records every word of
/// `query` matches, in tier order, the more popular first within a tier.
pub fn rpc_hits(aur: &[AurPackage], query: &str) -> Vec<SearchHit> {
    let mut hits: Vec<SearchHit> = aur
        .iter()
        .filter(|p| matches(p, query))
        .map(|pkg| SearchHit {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            repository: "aur".into(),
            architecture: String::new(),
            installed_version: None,
            description: pkg.description.clone().unwrap_or_default(),
            matched: kind(pkg, query),
            aur: Some(meta(pkg)),
        })
        .collect();
    hits.sort_by(|a, b| {
        let pop = |h: &SearchHit| h.aur.as_ref().map_or(0.0, |m| m.popularity);
        a.matched
            .cmp(&b.matched)
            .then(pop(b).total_cmp(&pop(a)))
            .then(a.name.cmp(&b.name))
    });
    hits
}

/// Adds the AUR's hits (`aur`, in tier order, of `aur_total` matches in
/// all) to the repositories' results, keeping at most `limit` (0: all).
pub fn merge(
    mut local: SearchResults,
    aur: Vec<SearchHit>,
    aur_total: u32,
    installed: Installed<'_>,
    limit: u32,
) -> SearchResults {
    let mut dropped = 0u32;
    let mut extra: Vec<SearchHit> = Vec::new();
    for mut candidate in aur {
        if let Some(hit) = local.hits.iter_mut().find(|h| h.name == candidate.name) {
            // Installed from the AUR: the AUR is where it comes from.
            if hit.repository == "local" {
                hit.repository = "aur".into();
                hit.version = candidate.version;
                hit.aur = candidate.aur;
            }
            dropped += 1;
            continue;
        }
        let known = installed(&candidate.name);
        if known.as_ref().is_some_and(|(repo, _)| repo != "local") {
            // A repository package of that name (beyond the limit): the
            // repository wins.
            dropped += 1;
            continue;
        }
        candidate.installed_version = known.and_then(|(_, v)| v);
        extra.push(candidate);
    }
    local.total += aur_total.saturating_sub(dropped);
    // Both lists are in tier order: merge them, repositories first within
    // a tier.
    let mut merged = Vec::with_capacity(local.hits.len() + extra.len());
    let mut extra = extra.into_iter().peekable();
    for hit in local.hits.drain(..) {
        while extra.peek().is_some_and(|e| e.matched < hit.matched) {
            merged.extend(extra.next());
        }
        merged.push(hit);
    }
    merged.extend(extra);
    if limit > 0 {
        merged.truncate(limit as usize);
    }
    local.hits = merged;
    local
}

/// What `index` (the repositories' and the installed packages') knows of
/// a name, as `merge` asks.
pub fn known_in(
    index: &crate::index::Index,
) -> impl Fn(&str) -> Option<(String, Option<String>)> + '_ {
    |name| {
        index.find(name).map(|p| {
            (
                p.repository.to_string(),
                p.installed_version.map(str::to_string),
            )
        })
    }
}

/// An AUR index older than this gets a note under the results.
pub const OLD_INDEX_SECS: u64 = 7 * 86_400;

/// A search of the repositories (`local`, the results of `repositories`)
/// and the AUR's index together, without the network: `found` is what
/// `AurIndex::search` ranked for `request` in an index `age` seconds old,
/// merged as the RPC's answers are.
pub fn merge_offline(
    mut local: SearchResults,
    repositories: &crate::index::Index,
    found: SearchResults,
    age: u64,
    request: &crate::ipc::protocol::SearchRequest,
) -> SearchResults {
    if request.sources == crate::ipc::protocol::Sources::Aur {
        local.hits.clear();
        local.total = 0;
    }
    let known = known_in(repositories);
    let mut merged = merge(local, found.hits, found.total, &known, request.limit);
    if age > OLD_INDEX_SECS {
        merged.notes.push(format!(
            "the AUR's package list is {} days old (`omg sync` updates it)",
            age / 86_400
        ));
    }
    merged
}

/// `omg info` for an AUR package.
pub fn info(pkg: &AurPackage, installed: Option<(String, Option<String>)>) -> PackageInfo {
    let installed_version = installed.and_then(|(_, v)| v);
    let mut available = vec![VersionOrigin {
        version: pkg.version.clone(),
        repositories: vec!["aur".into()],
    }];
    if let Some(v) = &installed_version
        && *v != pkg.version
    {
        available.push(VersionOrigin {
            version: v.clone(),
            repositories: vec!["local".into()],
        });
    }
    PackageInfo {
        name: pkg.name.clone(),
        architecture: String::new(),
        upgradable: installed_version.as_ref().is_some_and(|v| {
            crate::version::vercmp(&pkg.version, v) == std::cmp::Ordering::Greater
        }),
        install_reason: None,
        installed_version,
        candidate_version: Some(pkg.version.clone()),
        repository: "aur".into(),
        version: pkg.version.clone(),
        section: None,
        priority: None,
        download_size: 0,
        installed_size: 0,
        maintainer: pkg.maintainer.clone(),
        homepage: pkg.url.clone(),
        source: Some(pkg.package_base.clone()),
        summary: pkg.description.clone().unwrap_or_default(),
        description: String::new(),
        depends: pkg.depends.clone(),
        pre_depends: Vec::new(),
        recommends: Vec::new(),
        suggests: Vec::new(),
        provides: pkg.provides.clone(),
        conflicts: pkg.conflicts.clone(),
        breaks: Vec::new(),
        replaces: pkg.replaces.clone(),
        essential: false,
        available,
        groups: pkg.groups.clone(),
        licenses: pkg.license.clone(),
        optional_depends: pkg
            .opt_depends
            .iter()
            .map(|d| crate::model::OptionalDepend {
                depend: d.clone(),
                installed: false,
            })
            .collect(),
        required_by: Vec::new(),
        packager: None,
        build_date: None,
        install_date: None,
        validation: Vec::new(),
        aur: Some(meta(pkg)),
        make_depends: pkg.make_depends.clone(),
        check_depends: pkg.check_depends.clone(),
        signed: Some(false),
        grade: None,
        grade_reason: None,
    }
}
