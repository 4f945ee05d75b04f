//! What each runtime's upstream offers now, as plain release numbers, for
//! `omg outdated`: read from the same listings the installers use (Node's
//! index.json, Go's listing, uv's Python list, the Adoptium API, Bun's
//! GitHub releases, Ruby's index.txt, Rust's stable channel manifest).
//! Fetched by `omgd work refresh` or `omg outdated --refresh`, never when
//! `omg outdated` only asks.

use super::version_file::Runtime;
use crate::config::RuntimesConfig;
pub use crate::http::client;

async fn text(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status().as_u16()));
    }
    response.text().await.map_err(|e| format!("{url}: {e}"))
}

/// Node.js's releases for this machine, from the mirror's index.json.
async fn node_releases(
    config: &RuntimesConfig,
    client: &reqwest::Client,
) -> Result<Vec<super::node::Release>, String> {
    let url = format!("{}/index.json", config.node_mirror().trim_end_matches('/'));
    let releases = super::node::parse_index_json(&text(client, &url).await?)
        .map_err(|e| format!("{url}: {e}"))?;
    let platform = super::node::platform();
    Ok(releases
        .into_iter()
        .filter(|r| r.files.iter().any(|f| f == platform))
        .collect())
}

/// The releases `runtime`'s upstream offers for this machine (no
/// pre-releases). `installed` are the versions installed here: Adoptium
/// is asked once per Java feature release among them.
pub async fn offered(
    runtime: Runtime,
    config: &RuntimesConfig,
    installed: &[String],
    client: &reqwest::Client,
) -> Result<Vec<String>, String> {
    match runtime {
        Runtime::Node => Ok(node_releases(config, client)
            .await?
            .into_iter()
            .filter(|r| r.version.pre.is_empty())
            .map(|r| r.version.to_string())
            .collect()),
        Runtime::Go => {
            let url = format!(
                "{}/?mode=json&include=all",
                config.go_mirror.trim_end_matches('/')
            );
            let releases = super::go::parse_listing(&text(client, &url).await?)?;
            Ok(releases
                .iter()
                .filter(|r| r.stable && r.archive().is_some())
                .map(|r| r.number().to_string())
                .collect())
        }
        Runtime::Python => {
            let builds =
                super::python::parse_metadata(&text(client, &config.python_metadata).await?)?;
            Ok(builds
                .into_iter()
                .filter(|b| b.prerelease.is_empty())
                .map(|b| b.version)
                .collect())
        }
        Runtime::Java => {
            let mut features: Vec<u64> = installed
                .iter()
                .filter_map(|v| super::java::feature(v))
                .collect();
            features.sort_unstable();
            features.dedup();
            let mut out = Vec::new();
            for feature in features {
                let url = format!(
                    "{}/v3/assets/feature_releases/{feature}/ga?architecture={}&heap_size=normal&image_type=jdk&jvm_impl=hotspot&os=linux&project=jdk&sort_order=DESC&vendor=eclipse&page_size=20",
                    config.java_api.trim_end_matches('/'),
                    super::java::architecture()
                );
                let releases: Vec<super::java::Release> =
                    serde_json::from_str(&text(client, &url).await?)
                        .map_err(|e| format!("{url}: not the Adoptium API's format: {e}"))?;
                out.extend(releases.iter().map(super::java::Release::version));
            }
            Ok(out)
        }
        Runtime::Bun => {
            #[derive(serde::Deserialize)]
            struct Tag {
                tag_name: String,
                #[serde(default)]
                prerelease: bool,
                #[serde(default)]
                draft: bool,
            }
            let url = format!("{}?per_page=100", config.bun_api.trim_end_matches('/'));
            let tags: Vec<Tag> = serde_json::from_str(&text(client, &url).await?)
                .map_err(|e| format!("{url}: not GitHub's release format: {e}"))?;
            Ok(tags
                .into_iter()
                .filter(|t| !t.prerelease && !t.draft)
                .filter_map(|t| t.tag_name.strip_prefix("bun-v").map(str::to_string))
                .collect())
        }
        Runtime::Ruby => Ok(
            super::ruby::parse_index(&text(client, &config.ruby_index).await?)
                .into_iter()
                .filter(|r| r.version.pre.is_empty())
                .map(|r| r.version.to_string())
                .collect(),
        ),
        Runtime::Rust => {
            let url = format!(
                "{}/dist/channel-rust-stable.toml",
                config.rust_dist_server().trim_end_matches('/')
            );
            let manifest = text(client, &url).await?;
            stable_rust_version(&manifest)
                .map(|v| vec![v])
                .ok_or_else(|| format!("{url}: no rust version in the manifest"))
        }
    }
}

/// What `omg list RUNTIME --available` shows: the releases upstream
/// offers for this machine, newest first. Node.js's come with their LTS
/// line and date (from the same index); Java's are Adoptium's feature
/// releases (`temurin-21`, LTS ones marked) unless some are installed,
/// then every build of those.
pub async fn available(
    runtime: Runtime,
    config: &RuntimesConfig,
    installed: &[String],
    client: &reqwest::Client,
) -> Result<Vec<crate::model::AvailableVersion>, String> {
    use crate::model::AvailableVersion;
    let plain = |version: String| AvailableVersion {
        version,
        lts: None,
        date: String::new(),
    };
    let mut list = match runtime {
        Runtime::Node => node_releases(config, client)
            .await?
            .into_iter()
            .map(|r| AvailableVersion {
                version: r.version.to_string(),
                lts: r.lts,
                date: r.date,
            })
            .collect(),
        Runtime::Java if installed.iter().all(|v| super::java::feature(v).is_none()) => {
            #[derive(serde::Deserialize)]
            struct Releases {
                available_releases: Vec<u64>,
                #[serde(default)]
                available_lts_releases: Vec<u64>,
            }
            let url = format!(
                "{}/v3/info/available_releases",
                config.java_api.trim_end_matches('/')
            );
            let releases: Releases = serde_json::from_str(&text(client, &url).await?)
                .map_err(|e| format!("{url}: not the Adoptium API's format: {e}"))?;
            let mut features = releases.available_releases;
            features.sort_unstable_by(|a, b| b.cmp(a));
            return Ok(features
                .into_iter()
                .map(|f| AvailableVersion {
                    version: format!("temurin-{f}"),
                    lts: releases
                        .available_lts_releases
                        .contains(&f)
                        .then(|| "LTS".to_string()),
                    date: String::new(),
                })
                .collect());
        }
        _ => offered(runtime, config, installed, client)
            .await?
            .into_iter()
            .map(plain)
            .collect::<Vec<_>>(),
    };
    list.sort_by(|a, b| crate::version::vercmp(&b.version, &a.version));
    list.dedup_by(|a, b| a.version == b.version);
    Ok(list)
}

/// `1.86.0` out of a channel manifest's `[pkg.rust] version = "1.86.0
/// (05f9846f8 2025-03-31)"`.
fn stable_rust_version(manifest: &str) -> Option<String> {
    let value: toml::Table = toml::from_str(manifest).ok()?;
    let version = value
        .get("pkg")?
        .get("rust")?
        .get("version")?
        .as_str()?
        .split_whitespace()
        .next()?
        .to_string();
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stable_rust_version_is_read_from_its_manifest() {
        let manifest = "manifest-version = \"2\"\ndate = \"2025-04-03\"\n[pkg.rust]\nversion = \"1.86.0 (05f9846f8 2025-03-31)\"\n";
        assert_eq!(stable_rust_version(manifest).as_deref(), Some("1.86.0"));
        assert_eq!(stable_rust_version("manifest-version = \"2\"\n"), None);
    }
}
