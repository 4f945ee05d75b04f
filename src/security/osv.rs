//! Vulnerabilities of language packages and toolchains from OSV
//! (`POST /v1/querybatch`, then `GET /v1/vulns/<id>` for the details),
//! with every answer kept in the store with its fetch time so a later
//! audit works offline from it.

use serde::{Deserialize, Serialize};

use crate::store::{Cache, Store, VULNS};

/// One package version to ask about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Query {
    /// OSV's ecosystem name: `npm`, `crates.io`, `PyPI`, `Go`.
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

/// One vulnerability, as much as OSV says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvVuln {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    /// `low`, `moderate`/`medium`, `high`, `critical` as the database
    /// rates it, or empty.
    pub severity: String,
    /// The first fixed version after the queried one, for this package.
    pub fixed: Option<String>,
}

/// A package version and what affects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvFinding {
    pub query: Query,
    pub vulns: Vec<OsvVuln>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvReport {
    /// Only the affected package versions.
    pub findings: Vec<OsvFinding>,
    /// The oldest answer used (Unix time).
    pub fetched_at: u64,
    /// Something the user should know (answers from the store because
    /// OSV could not be reached).
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    #[error("cannot ask OSV ({url}): {message}")]
    Fetch { url: String, message: String },
}

/// Queries per request, as OSV allows.
const BATCH: usize = 1000;

fn store_key(q: &Query) -> String {
    format!("osv:q:{}:{}@{}", q.ecosystem, q.name, q.version)
}

/// The OSV answer kept under `key`, with when it was fetched.
fn load<T: serde::de::DeserializeOwned>(store: Option<&Store>, key: &str) -> Option<(u64, T)> {
    let stored = Cache::new(store, VULNS).get::<T>(key)?;
    Some((stored.at, stored.value))
}

/// Keeps an OSV answer (fetched now).
fn save<T: Serialize>(store: Option<&Store>, key: &str, value: &T) {
    Cache::new(store, VULNS).put(key, value);
}

/// The fixed version for `package` after `version` in an OSV record's
/// `affected` ranges (the lowest one listed, when there are several).
fn fixed_for(record: &serde_json::Value, query: &Query) -> Option<String> {
    let mut fixed: Vec<String> = Vec::new();
    for affected in record["affected"].as_array()? {
        let package = &affected["package"];
        if package["name"].as_str() != Some(query.name.as_str())
            || !package["ecosystem"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(&query.ecosystem))
        {
            continue;
        }
        for range in affected["ranges"].as_array().into_iter().flatten() {
            for event in range["events"].as_array().into_iter().flatten() {
                if let Some(v) = event["fixed"].as_str() {
                    fixed.push(v.to_string());
                }
            }
        }
    }
    fixed.sort_by(|a, b| crate::version::vercmp(a, b));
    fixed
        .iter()
        .find(|f| crate::version::vercmp(f, &query.version) == std::cmp::Ordering::Greater)
        .or(fixed.last())
        .cloned()
}

/// Reads an OSV record into what an audit shows.
pub fn parse_record(record: &serde_json::Value, query: &Query) -> OsvVuln {
    let severity = record["database_specific"]["severity"]
        .as_str()
        .map(str::to_lowercase)
        .or_else(|| {
            record["affected"].as_array()?.iter().find_map(|a| {
                a["database_specific"]["severity"]
                    .as_str()
                    .map(str::to_lowercase)
            })
        })
        .unwrap_or_default();
    let summary = record["summary"]
        .as_str()
        .or_else(|| record["details"].as_str())
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect::<String>();
    let summary = crate::text::one_line(&summary).into_owned();
    OsvVuln {
        id: crate::text::one_line(record["id"].as_str().unwrap_or_default()).into_owned(),
        aliases: record["aliases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        summary,
        severity,
        fixed: fixed_for(record, query),
    }
}

/// Asks OSV about `queries` (answers kept less than `max_age` seconds
/// are taken from the store unless `refresh`); falls back to kept answers
/// of any age when OSV cannot be reached.
pub async fn lookup(
    base: &str,
    queries: &[Query],
    store: Option<&Store>,
    refresh: bool,
    max_age: u64,
) -> Result<OsvReport, OsvError> {
    let now = crate::unix_now();
    let base = base.trim_end_matches('/');
    let mut unique: Vec<Query> = queries.to_vec();
    unique.sort();
    unique.dedup();
    let mut answers: Vec<(Query, u64, Vec<String>)> = Vec::new();
    let mut ask: Vec<Query> = Vec::new();
    for q in unique {
        match load::<Vec<String>>(store, &store_key(&q)) {
            Some((at, ids)) if !refresh && now.saturating_sub(at) <= max_age => {
                answers.push((q, at, ids))
            }
            _ => ask.push(q),
        }
    }
    let client = reqwest::Client::builder()
        .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| OsvError::Fetch {
            url: base.into(),
            message: e.to_string(),
        })?;
    let mut note = None;
    for chunk in ask.chunks(BATCH) {
        match query_batch(&client, base, chunk).await {
            Ok(ids) => {
                for (q, ids) in chunk.iter().zip(ids) {
                    save(store, &store_key(q), &ids);
                    answers.push((q.clone(), now, ids));
                }
            }
            Err(e) => {
                let mut missing = 0;
                for q in chunk {
                    match load::<Vec<String>>(store, &store_key(q)) {
                        Some((at, ids)) => answers.push((q.clone(), at, ids)),
                        None => missing += 1,
                    }
                }
                if missing > 0 && answers.is_empty() {
                    return Err(e);
                }
                note = Some(format!(
                    "{e}; using the answers kept from before{}",
                    if missing > 0 {
                        format!(" ({missing} package versions were never checked)")
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    let mut findings = Vec::new();
    let mut oldest = now;
    for (query, at, ids) in answers {
        oldest = oldest.min(at);
        if ids.is_empty() {
            continue;
        }
        let mut vulns = Vec::new();
        for id in ids {
            vulns.push(details(&client, base, store, &id, &query, refresh).await);
        }
        findings.push(OsvFinding { query, vulns });
    }
    findings.sort_by(|a, b| a.query.cmp(&b.query));
    Ok(OsvReport {
        findings,
        fetched_at: oldest,
        note,
    })
}

/// The most pages OSV may answer one batch with.
const MAX_PAGES: usize = 100;

/// The ids of what affects each of `queries`, following OSV's pages: a
/// result with `next_page_token` is asked again with that token (in the
/// next round's batch) until none is left.
async fn query_batch(
    client: &reqwest::Client,
    base: &str,
    queries: &[Query],
) -> Result<Vec<Vec<String>>, OsvError> {
    let url = format!("{base}/v1/querybatch");
    let fail = |message: String| OsvError::Fetch {
        url: url.clone(),
        message,
    };
    let mut ids: Vec<Vec<String>> = vec![Vec::new(); queries.len()];
    // (which query, the page asked for)
    let mut pending: Vec<(usize, Option<String>)> = (0..queries.len()).map(|i| (i, None)).collect();
    for _ in 0..MAX_PAGES {
        if pending.is_empty() {
            break;
        }
        let body = serde_json::json!({
            "queries": pending.iter().map(|(i, token)| {
                let q = &queries[*i];
                let mut query = serde_json::json!({
                    "package": {"ecosystem": q.ecosystem, "name": q.name},
                    "version": q.version,
                });
                if let Some(token) = token {
                    query["page_token"] = serde_json::Value::from(token.as_str());
                }
                query
            }).collect::<Vec<_>>()
        });
        let response = client
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status().as_u16())));
        }
        let answer: serde_json::Value = response.json().await.map_err(|e| fail(e.to_string()))?;
        let results = answer["results"]
            .as_array()
            .ok_or_else(|| fail("no results in the answer".into()))?;
        if results.len() != pending.len() {
            return Err(fail(format!(
                "{} answers to {} questions",
                results.len(),
                pending.len()
            )));
        }
        let mut next = Vec::new();
        for ((i, _), result) in pending.iter().zip(results) {
            for id in result["vulns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["id"].as_str())
            {
                if !ids[*i].iter().any(|known| known == id) {
                    ids[*i].push(id.to_string());
                }
            }
            if let Some(token) = result["next_page_token"].as_str().filter(|t| !t.is_empty()) {
                next.push((*i, Some(token.to_string())));
            }
        }
        pending = next;
    }
    if !pending.is_empty() {
        return Err(fail(format!("OSV still had more pages after {MAX_PAGES}")));
    }
    Ok(ids)
}

/// A vulnerability's details (kept, or asked for); only its id when
/// neither works.
async fn details(
    client: &reqwest::Client,
    base: &str,
    store: Option<&Store>,
    id: &str,
    query: &Query,
    refresh: bool,
) -> OsvVuln {
    let key = format!("osv:v:{id}");
    // Kept answers include "OSV has no record" (null).
    let kept = load::<String>(store, &key)
        .and_then(|(at, text)| Some((at, serde_json::from_str::<serde_json::Value>(&text).ok()?)));
    let record = match kept {
        Some((_, record)) if !refresh => Some(record),
        kept => {
            let url = format!("{base}/v1/vulns/{id}");
            let fetched = async {
                let r = client.get(&url).send().await.ok()?;
                if r.status() == reqwest::StatusCode::NOT_FOUND {
                    return Some(serde_json::Value::Null);
                }
                if !r.status().is_success() {
                    return None;
                }
                r.json::<serde_json::Value>().await.ok()
            }
            .await;
            match fetched {
                Some(record) => {
                    save(store, &key, &record.to_string());
                    Some(record)
                }
                None => kept.map(|(_, r)| r),
            }
        }
    }
    .filter(|r| !r.is_null());
    match record {
        Some(record) => parse_record(&record, query),
        None => OsvVuln {
            id: id.to_string(),
            aliases: Vec::new(),
            summary: String::new(),
            severity: String::new(),
            fixed: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_records_give_their_fix_and_severity() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/osv/vulns");
        let text = std::fs::read_to_string(dir.join("RUSTSEC-2022-0013.json"))
            .expect("the recorded record");
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let q = Query {
            ecosystem: "crates.io".into(),
            name: "regex".into(),
            version: "1.5.4".into(),
        };
        let v = parse_record(&record, &q);
        assert_eq!(v.id, "RUSTSEC-2022-0013");
        assert_eq!(v.fixed.as_deref(), Some("1.5.5"));
        assert!(
            v.aliases
                .iter()
                .any(|a| a.starts_with("CVE-") || a.starts_with("GHSA-"))
        );
        let text = std::fs::read_to_string(dir.join("GHSA-3fx5-fwvr-xrjg.json")).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let q = Query {
            ecosystem: "npm".into(),
            name: "ms".into(),
            version: "0.7.0".into(),
        };
        let v = parse_record(&record, &q);
        assert!(!v.severity.is_empty(), "{v:?}");
        assert!(v.fixed.is_some(), "{v:?}");
    }
}
