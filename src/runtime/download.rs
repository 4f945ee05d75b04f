//! Downloading release files: into `<name>.part` beside the destination,
//! resuming a `.part` left by an interrupted download (HTTP `Range`),
//! hashing as it goes, and renamed into place only when complete.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot download {url}: {message}")]
    Network { url: String, message: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} is larger than {limit} bytes; refusing it")]
    TooLarge { url: String, limit: u64 },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    pub size: u64,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> DownloadError {
    move |source| DownloadError::Io { context, source }
}

/// Downloads `url` to `dest`. `progress(received, total)` is called as
/// bytes arrive (`total` 0 when unknown). At most `limit` bytes.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    limit: u64,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Downloaded, DownloadError> {
    let network = |e: reqwest::Error| DownloadError::Network {
        url: url.to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let part = dest.with_file_name(format!(
        "{}.part",
        dest.file_name().unwrap_or_default().to_string_lossy()
    ));
    let already = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut request = client.get(url);
    if already > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={already}-"));
    }
    let mut response = request.send().await.map_err(network)?;
    let status = response.status();
    let resumed = status == reqwest::StatusCode::PARTIAL_CONTENT && already > 0;
    if !status.is_success() {
        if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
            // The part is whole already, or stale: start again.
            let _ = std::fs::remove_file(&part);
            return Box::pin(download(client, url, dest, limit, progress)).await;
        }
        return Err(DownloadError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let mut hasher = Sha256::new();
    let mut file = if resumed {
        // Hash what is already there, then append.
        let mut existing =
            std::fs::File::open(&part).map_err(io(format!("cannot read {}", part.display())))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = existing
                .read(&mut buf)
                .map_err(io(format!("cannot read {}", part.display())))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&part)
            .map_err(io(format!("cannot write {}", part.display())))?
    } else {
        std::fs::File::create(&part).map_err(io(format!("cannot write {}", part.display())))?
    };
    let mut received = if resumed { already } else { 0 };
    let total = response.content_length().map_or(0, |l| l + received);
    if total > limit {
        return Err(DownloadError::TooLarge {
            url: url.to_string(),
            limit,
        });
    }
    progress(received, total);
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        received += chunk.len() as u64;
        if received > limit {
            drop(file);
            let _ = std::fs::remove_file(&part);
            return Err(DownloadError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .map_err(io(format!("cannot write {}", part.display())))?;
        progress(received, total);
    }
    file.sync_all()
        .map_err(io(format!("cannot write {}", part.display())))?;
    drop(file);
    if total > 0 && received != total {
        // The connection ended early: keep the part for a resume.
        return Err(DownloadError::Network {
            url: url.to_string(),
            message: format!("the download stopped at {received} of {total} bytes"),
        });
    }
    std::fs::rename(&part, dest)
        .map_err(io(format!("cannot move {} into place", part.display())))?;
    Ok(Downloaded {
        path: dest.to_path_buf(),
        sha256: format!("{:x}", hasher.finalize()),
        size: received,
    })
}

/// The SHA-256 of `file` in `SHASUMS256.txt`-style text (`<hex>  <file>`
/// or `<hex> *<file>`).
pub fn checksum_for(sums: &str, file: &str) -> Option<String> {
    sums.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let hash = parts.next()?;
        let name = parts.next()?.trim_start_matches('*');
        (name == file && hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| hash.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_found_in_both_forms() {
        let sums = format!(
            "{}  node-v20.10.0-linux-x64.tar.gz\n{} *node-v20.10.0.tar.gz\n",
            "a".repeat(64),
            "B".repeat(64)
        );
        assert_eq!(
            checksum_for(&sums, "node-v20.10.0-linux-x64.tar.gz"),
            Some("a".repeat(64))
        );
        assert_eq!(
            checksum_for(&sums, "node-v20.10.0.tar.gz"),
            Some("b".repeat(64))
        );
        assert_eq!(checksum_for(&sums, "other.tar.gz"), None);
        assert_eq!(checksum_for("short  x\n", "x"), None);
    }

    #[test]
    fn the_recorded_node_sums_parse() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream/node/SHASUMS256.v14.20.1.txt");
        let text = std::fs::read_to_string(&path).expect("the recorded sums");
        assert!(checksum_for(&text, "node-v14.20.1-linux-x64.tar.gz").is_some());
        assert!(
            checksum_for(&text, "node-v14.20.1.tar.gz").is_some(),
            "the `*` form"
        );
    }
}
