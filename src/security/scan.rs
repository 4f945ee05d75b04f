//! Fetching vulnerability data for this system's distribution (the Arch
//! security tracker on Arch, the Debian security tracker on Debian) and
//! keeping the parsed result, with its fetch time, in the store, so that
//! audits work offline from the last fetch.

use crate::config::SecurityConfig;
use crate::model::BackendKind;
use crate::security::vulns::{self, VulnData};
use crate::store::{Cache, Store, VULNS};

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot fetch {url}: {message}")]
    Fetch { url: String, message: String },
    #[error(transparent)]
    Format(#[from] vulns::FormatError),
    #[error("the Debian release is unknown: set [security] debian_release in config.toml")]
    NoRelease,
}

/// The store key of `kind`'s data.
pub fn key(kind: BackendKind, config: &SecurityConfig) -> Option<String> {
    match kind {
        BackendKind::Alpm => Some("alsa".into()),
        BackendKind::Apt => config.debian_release().map(|r| format!("debian:{r}")),
    }
}

/// Downloads and parses the advisories for `kind`.
pub async fn fetch(kind: BackendKind, config: &SecurityConfig) -> Result<VulnData, ScanError> {
    let url = match kind {
        BackendKind::Alpm => config.alsa_url(),
        BackendKind::Apt => config.debian_tracker_url(),
    };
    let fail = |message: String| ScanError::Fetch {
        url: url.clone(),
        message,
    };
    let client = reqwest::Client::builder()
        .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status().as_u16())));
    }
    let text = response.text().await.map_err(|e| fail(e.to_string()))?;
    let now = crate::unix_now();
    Ok(match kind {
        BackendKind::Alpm => vulns::parse_alsa(&text, now)?,
        BackendKind::Apt => {
            let release = config.debian_release().ok_or(ScanError::NoRelease)?;
            vulns::parse_debian_tracker(&text, &release, now)?
        }
    })
}

/// Keeps `data` under its source.
pub fn save(store: &Store, data: &VulnData) {
    Cache::new(Some(store), VULNS).put(&data.source, data);
}

/// The data last fetched for `key`, if any.
pub fn load(store: &Store, key: &str) -> Option<VulnData> {
    Cache::new(Some(store), VULNS).get(key).map(|s| s.value)
}
