//! The AUR's RPC interface, version 5 (`/rpc/v5/info`, `/rpc/v5/search`):
//! package records, batched info lookups, bounded answers (size, time),
//! and retries of failures that may pass.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One AUR package as the RPC describes it. Search answers leave the
/// dependency lists out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AurPackage {
    pub name: String,
    pub package_base: String,
    pub version: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "URL", default)]
    pub url: Option<String>,
    #[serde(default)]
    pub num_votes: u64,
    #[serde(default)]
    pub popularity: f64,
    /// When it was flagged out of date (Unix time).
    #[serde(default)]
    pub out_of_date: Option<i64>,
    /// `None`: orphaned.
    #[serde(default)]
    pub maintainer: Option<String>,
    #[serde(default)]
    pub first_submitted: i64,
    #[serde(default)]
    pub last_modified: i64,
    #[serde(rename = "URLPath", default)]
    pub url_path: Option<String>,
    #[serde(default)]
    pub depends: Vec<String>,
    #[serde(default)]
    pub make_depends: Vec<String>,
    #[serde(default)]
    pub check_depends: Vec<String>,
    #[serde(default)]
    pub opt_depends: Vec<String>,
    #[serde(default)]
    pub provides: Vec<String>,
    #[serde(default)]
    pub conflicts: Vec<String>,
    #[serde(default)]
    pub replaces: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub license: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl AurPackage {
    /// Removes control characters from everything the AUR's users wrote,
    /// before it can reach a terminal.
    pub fn clean(&mut self) {
        use crate::text::clean_in_place;
        for field in [&mut self.name, &mut self.package_base, &mut self.version] {
            clean_in_place(field);
        }
        for field in [
            &mut self.description,
            &mut self.url,
            &mut self.maintainer,
            &mut self.url_path,
        ]
        .into_iter()
        .flatten()
        {
            *field = crate::text::one_line(field).into_owned();
        }
        for list in [
            &mut self.depends,
            &mut self.make_depends,
            &mut self.check_depends,
            &mut self.opt_depends,
            &mut self.provides,
            &mut self.conflicts,
            &mut self.replaces,
            &mut self.groups,
            &mut self.license,
            &mut self.keywords,
        ] {
            list.iter_mut().for_each(clean_in_place);
        }
    }
}

/// What the RPC wraps results in.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    results: Vec<AurPackage>,
}

/// Why an AUR request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AurError {
    #[error("the AUR did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the AUR at {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("the AUR answered HTTP {0}")]
    Status(u16),
    #[error("the AUR's answer is larger than {0} bytes; refusing it")]
    TooLarge(usize),
    #[error("the AUR's answer is not valid RPC JSON: {0}")]
    Malformed(String),
    /// The RPC's own error (e.g. "Too many package results.").
    #[error("the AUR says: {0}")]
    Remote(String),
    #[error("the AUR URL {0:?} is not a valid http(s) URL")]
    BadUrl(String),
}

/// How to search (`by=` in the RPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBy {
    NameDesc,
    Name,
    Provides,
    Maintainer,
}

impl SearchBy {
    fn as_str(self) -> &'static str {
        match self {
            SearchBy::NameDesc => "name-desc",
            SearchBy::Name => "name",
            SearchBy::Provides => "provides",
            SearchBy::Maintainer => "maintainer",
        }
    }
}

/// Largest answer accepted (the biggest real search answers are ~100 KiB;
/// an info batch of 100 full records ~500 KiB).
pub const MAX_RESPONSE: usize = 8 << 20;

/// Names per info request: aurweb refuses very long URLs.
pub const INFO_BATCH: usize = 100;

/// Tries per request (the first and two retries), for failures that may
/// pass: no connection, HTTP 5xx or 429.
const TRIES: u32 = 3;

/// The AUR's base URL `base` as a URL that paths join under (ending in
/// `/`); None unless it is a valid http(s) URL.
pub fn base_url(base: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(base).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url)
}

#[derive(Debug, Clone)]
pub struct AurClient {
    base: reqwest::Url,
    http: reqwest::Client,
    timeout: Duration,
}

impl AurClient {
    /// A client for the AUR at `base` (e.g. `https://aur.archlinux.org`);
    /// every request gives up after `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Result<AurClient, AurError> {
        let url = base_url(base).ok_or_else(|| AurError::BadUrl(base.into()))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .build()
            .map_err(|e| AurError::Unreachable {
                url: base.into(),
                message: e.to_string(),
            })?;
        Ok(AurClient {
            base: url,
            http,
            timeout,
        })
    }

    /// The base URL, ending in `/`.
    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    /// Full records of the packages called `names` (those the AUR has),
    /// asked in batches.
    pub async fn info(&self, names: &[String]) -> Result<Vec<AurPackage>, AurError> {
        let mut found = Vec::new();
        for batch in names.chunks(INFO_BATCH) {
            let mut url = self.endpoint("rpc/v5/info")?;
            {
                let mut query = url.query_pairs_mut();
                for name in batch {
                    query.append_pair("arg[]", name);
                }
            }
            found.extend(self.get(url).await?);
        }
        Ok(found)
    }

    /// Packages matching `term`.
    pub async fn search(&self, term: &str, by: SearchBy) -> Result<Vec<AurPackage>, AurError> {
        let mut url = self.endpoint("rpc/v5/search/")?;
        url.path_segments_mut()
            .map_err(|_| AurError::BadUrl(self.base.to_string()))?
            .pop_if_empty()
            .push(term);
        url.query_pairs_mut().append_pair("by", by.as_str());
        self.get(url).await
    }

    fn endpoint(&self, path: &str) -> Result<reqwest::Url, AurError> {
        self.base
            .join(path)
            .map_err(|_| AurError::BadUrl(self.base.to_string()))
    }

    async fn get(&self, url: reqwest::Url) -> Result<Vec<AurPackage>, AurError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match tokio::time::timeout(self.timeout, self.get_once(url.clone())).await {
                Err(_) => return Err(AurError::Timeout(self.timeout)),
                Ok(Err(e)) if attempt < TRIES && retryable(&e) => {
                    log::debug!("AUR request failed ({e}); trying again");
                    tokio::time::sleep(Duration::from_millis(150 * u64::from(attempt))).await;
                }
                Ok(result) => return result,
            }
        }
    }

    async fn get_once(&self, url: reqwest::Url) -> Result<Vec<AurPackage>, AurError> {
        let unreachable = |e: reqwest::Error| AurError::Unreachable {
            url: self.base.to_string(),
            message: e.to_string(),
        };
        let mut response = self.http.get(url).send().await.map_err(unreachable)?;
        let status = response.status();
        let body = crate::http::read_limited(&mut response, MAX_RESPONSE)
            .await
            .map_err(unreachable)?
            .ok_or(AurError::TooLarge(MAX_RESPONSE))?;
        // aurweb answers RPC errors with a JSON envelope, whatever the status.
        let envelope: Result<Envelope, _> = serde_json::from_slice(&body);
        match (envelope, status.is_success()) {
            (Ok(e), _) if e.kind == "error" => Err(AurError::Remote(
                crate::text::one_line(&e.error.unwrap_or_else(|| "unknown error".into()))
                    .into_owned(),
            )),
            (Ok(mut e), true) => {
                e.results.iter_mut().for_each(AurPackage::clean);
                Ok(e.results)
            }
            (_, false) => Err(AurError::Status(status.as_u16())),
            (Err(e), true) => Err(AurError::Malformed(e.to_string())),
        }
    }
}

fn retryable(e: &AurError) -> bool {
    match e {
        AurError::Unreachable { .. } => true,
        AurError::Status(code) => *code == 429 || *code >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lose_their_control_characters() {
        let mut record: AurPackage = serde_json::from_str(
            r#"{"Name":"evil\u001b[2J","PackageBase":"evil","Version":"1-1","Description":"looks fine\u001b]0;owned\u0007\nsecond line","Depends":["glibc\u009b"]}"#,
        )
        .unwrap();
        record.clean();
        assert_eq!(record.name, "evil[2J");
        assert_eq!(
            record.description.as_deref(),
            Some("looks fine]0;owned second line")
        );
        assert_eq!(record.depends, ["glibc"]);
    }
}
