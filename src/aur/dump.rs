//! The AUR's metadata dump (`packages-meta-ext-v1.json.gz`: every package's
//! full RPC record, one gzipped JSON array): fetched with a conditional GET
//! (`If-Modified-Since`), bounded in size, read as a stream (one record in
//! memory at a time), and handed to `offline` to index. A dump that fails
//! to download or to read leaves the last index as it was.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};

use super::offline::{self, AurIndex};
use super::rpc::AurPackage;
use crate::config::{AurConfig, Paths};

/// Where the dump is, under the AUR's base URL.
pub const DUMP: &str = "packages-meta-ext-v1.json.gz";

/// Largest download accepted (the real dump is ~10 MiB gzipped).
pub const MAX_COMPRESSED: u64 = 256 << 20;
/// Largest JSON accepted once uncompressed (~100 MiB for ~100,000
/// packages).
pub const MAX_JSON: u64 = 2 << 30;
/// Most records accepted (the AUR holds about 100,000).
pub const MAX_RECORDS: usize = 1 << 20;

/// Why the dump could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("the AUR URL {0:?} is not a valid http(s) URL")]
    BadUrl(String),
    #[error("cannot download {url}: {message}")]
    Download { url: String, message: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("the AUR's metadata dump is larger than {0} bytes; refusing it")]
    TooLarge(u64),
    #[error("the AUR's metadata dump is damaged: {0}")]
    Malformed(String),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// What a refresh of the dump did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The AUR's dump has not changed since the index was built.
    NotModified,
    /// A new index of this many packages.
    Indexed(usize),
}

/// Calls `each` with every record of the dump `json` (a JSON array),
/// cleaned of control characters; the number of records.
pub fn read_records(json: impl Read, each: impl FnMut(AurPackage)) -> Result<usize, DumpError> {
    struct Each<F>(F);
    impl<'de, F: FnMut(AurPackage)> Visitor<'de> for Each<F> {
        type Value = usize;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of AUR package records")
        }

        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<usize, A::Error> {
            let mut count = 0;
            while let Some(mut record) = seq.next_element::<AurPackage>()? {
                count += 1;
                if count > MAX_RECORDS {
                    return Err(A::Error::custom(format!(
                        "more than {MAX_RECORDS} packages"
                    )));
                }
                record.clean();
                (self.0)(record);
            }
            Ok(count)
        }
    }
    let mut json = serde_json::Deserializer::from_reader(BufReader::with_capacity(
        256 << 10,
        json.take(MAX_JSON),
    ));
    let count = json
        .deserialize_seq(Each(each))
        .map_err(|e| DumpError::Malformed(e.to_string()))?;
    json.end()
        .map_err(|e| DumpError::Malformed(e.to_string()))?;
    Ok(count)
}

/// Reads the gzipped dump at `file` into an index.
pub fn index_file(file: &Path, last_modified: &str) -> Result<AurIndex, DumpError> {
    let opened = std::fs::File::open(file).map_err(|e| DumpError::Io(file.into(), e))?;
    let mut builder = offline::Builder::default();
    read_records(flate2::read::GzDecoder::new(opened), |r| builder.add(&r))?;
    Ok(builder.finish(last_modified))
}

/// Fetches the dump from the AUR at `config`'s URL unless the index in
/// the data directory is current (the AUR answers 304 to its
/// `Last-Modified`), and writes the new index; the download is kept in
/// `<cache>/aur` while it is read.
pub async fn refresh(config: &AurConfig, paths: &Paths) -> Result<Refreshed, DumpError> {
    let url = dump_url(&config.base_url())?;
    let timeout = Duration::from_millis(config.timeout_ms);
    let http = reqwest::Client::builder()
        .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .build()
        .map_err(|e| download_error(&url, e))?;
    let index_path = offline::path(&paths.data_dir);
    let download_dir = paths.cache_dir.join("aur");
    let known = offline::last_modified(&index_path);
    let mut request = http.get(url.clone());
    if let Some(since) = &known {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, since);
    }
    let mut response = request.send().await.map_err(|e| download_error(&url, e))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED && known.is_some() {
        offline::mark_checked(&index_path).map_err(|e| DumpError::Io(index_path.clone(), e))?;
        return Ok(Refreshed::NotModified);
    }
    if !status.is_success() {
        return Err(DumpError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_COMPRESSED)
    {
        return Err(DumpError::TooLarge(MAX_COMPRESSED));
    }
    let last_modified = response
        .headers()
        .get(reqwest::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    crate::config::ensure_private_dir(&download_dir)
        .map_err(|e| DumpError::Io(download_dir.clone(), e))?;
    let part = download_dir.join(format!("{DUMP}.{}.part", std::process::id()));
    let _ = std::fs::remove_file(&part);
    let downloaded = async {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)
            .map_err(|e| DumpError::Io(part.clone(), e))?;
        let mut size = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| download_error(&url, e))?
        {
            size += chunk.len() as u64;
            if size > MAX_COMPRESSED {
                return Err(DumpError::TooLarge(MAX_COMPRESSED));
            }
            file.write_all(&chunk)
                .map_err(|e| DumpError::Io(part.clone(), e))?;
        }
        Ok(())
    }
    .await;
    let indexed = match downloaded {
        Ok(()) => {
            let (part, index_path) = (part.clone(), index_path.clone());
            tokio::task::spawn_blocking(move || {
                let index = index_file(&part, &last_modified)?;
                index
                    .save(&index_path)
                    .map_err(|e| DumpError::Io(index_path, e))?;
                Ok(index.len())
            })
            .await
            .unwrap_or_else(|e| Err(DumpError::Malformed(e.to_string())))
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_file(&part);
    indexed.map(Refreshed::Indexed)
}

/// The dump's URL under the AUR's `base`.
fn dump_url(base: &str) -> Result<reqwest::Url, DumpError> {
    super::rpc::base_url(base)
        .and_then(|url| url.join(DUMP).ok())
        .ok_or_else(|| DumpError::BadUrl(base.into()))
}

fn download_error(url: &reqwest::Url, e: reqwest::Error) -> DumpError {
    DumpError::Download {
        url: url.to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_one_by_one_and_cleaned() {
        let json = br#"[
            {"ID":1,"Name":"yay","PackageBase":"yay","Version":"12.5.0-1","Description":"AUR helper\u001b[2J","NumVotes":2000,"Popularity":20.5,"Maintainer":"jguer","Depends":["pacman>6.1","git"],"Submitter":"jguer","CoMaintainers":[]},
            {"Name":"orphan","PackageBase":"orphan","Version":"1-1","Description":null,"Maintainer":null,"URL":null}
        ]"#;
        let mut seen = Vec::new();
        let count = read_records(&json[..], |r| seen.push(r)).unwrap();
        assert_eq!(count, 2);
        assert_eq!(seen[0].name, "yay");
        assert_eq!(seen[0].depends, ["pacman>6.1", "git"]);
        assert_eq!(seen[0].description.as_deref(), Some("AUR helper[2J"));
        assert_eq!(seen[1].maintainer, None);
    }

    #[test]
    fn damaged_dumps_are_refused() {
        for bad in [
            &b"{\"not\":\"an array\"}"[..],
            b"[{\"Name\":\"cut",
            b"[{\"Name\":1}]",
            b"[] trailing",
        ] {
            let read = read_records(bad, |_| {});
            assert!(
                matches!(read, Err(DumpError::Malformed(_))),
                "{:?}: {read:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn the_url_is_under_the_base() {
        assert_eq!(
            dump_url("https://aur.archlinux.org").unwrap().as_str(),
            "https://aur.archlinux.org/packages-meta-ext-v1.json.gz"
        );
        assert_eq!(
            dump_url("http://127.0.0.1:8080/aur").unwrap().as_str(),
            "http://127.0.0.1:8080/aur/packages-meta-ext-v1.json.gz"
        );
        assert!(matches!(
            dump_url("file:///etc/passwd"),
            Err(DumpError::BadUrl(_))
        ));
    }
}
