//! The machinery every runtime install shares, whatever the runtime: the
//! `Installer` (HTTP client, where versions and downloads go, progress),
//! downloads checked against their SHA-256, the per-version install lock,
//! the receipt an installed version keeps, and the ways an install fails.

use std::path::{Path, PathBuf};

use super::archive;
use super::download::{self, DownloadError};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot fetch {what}: {message}")]
    Fetch { what: String, message: String },
    #[error("no {runtime} release matches {request:?}")]
    NoMatch { runtime: String, request: String },
    #[error(
        "the checksum list cannot be fetched, so {file} cannot be verified: refusing to install it (--insecure installs without)"
    )]
    NoChecksum { file: String },
    #[error("the signature of {what} does not check out: {message}")]
    BadSignature { what: String, message: String },
    #[error(
        "{file} does not match its published checksum (expected {expected}, got {actual}); it was deleted"
    )]
    Mismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{runtime}: {message}")]
    Unavailable { runtime: String, message: String },
    #[error(
        "no {whose} in {dir}, so the release cannot be verified: refusing to install it (--insecure installs without). {how}"
    )]
    NoKeys {
        whose: &'static str,
        dir: String,
        how: &'static str,
    },
    #[error("building {what} failed: {step} (the whole log is {log}):\n{tail}")]
    Build {
        what: String,
        step: String,
        log: PathBuf,
        tail: String,
    },
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Unpack(#[from] archive::ExtractError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// `(data, signature, keys_dir)` → ok, or why not.
pub type KeyringCheck = fn(&[u8], &[u8], &Path) -> Result<(), String>;

/// What an install reports as it goes.
pub enum Progress<'a> {
    Step(&'a str),
    Download {
        file: &'a str,
        received: u64,
        total: u64,
    },
    Done {
        file: &'a str,
        size: u64,
    },
}

/// Where an install happens and what it may do: the HTTP client, the
/// versions and downloads directories, whether checksums may be skipped
/// (the user asked), and where progress goes.
pub struct Installer<'a> {
    pub client: reqwest::Client,
    pub versions: &'a Path,
    pub downloads: &'a Path,
    pub insecure: bool,
    pub progress: &'a mut (dyn FnMut(Progress<'_>) + Send),
}

impl Installer<'_> {
    /// A client that says who it is and gives up connecting after 15 s.
    pub fn client() -> Result<reqwest::Client, InstallError> {
        reqwest::Client::builder()
            .user_agent(concat!("omg/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| InstallError::Fetch {
                what: "an HTTP client".into(),
                message: e.to_string(),
            })
    }

    pub fn step(&mut self, text: &str) {
        (self.progress)(Progress::Step(text));
    }

    async fn get(client: reqwest::Client, url: String) -> Result<reqwest::Response, InstallError> {
        let fetch = |message: String| InstallError::Fetch {
            what: url.clone(),
            message,
        };
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| fetch(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fetch(format!("HTTP {}", response.status().as_u16())));
        }
        Ok(response)
    }

    // The futures own a handle on the client, not on `self` (whose
    // progress callback need not be shared between threads).
    pub fn text(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<String, InstallError>> + Send + 'static {
        let (client, url) = (self.client.clone(), url.to_string());
        async move {
            let body = Self::get(client, url.clone()).await?.text().await;
            body.map_err(|e| InstallError::Fetch {
                what: url,
                message: e.to_string(),
            })
        }
    }

    pub fn bytes(
        &self,
        url: &str,
    ) -> impl Future<Output = Result<Vec<u8>, InstallError>> + Send + 'static {
        let (client, url) = (self.client.clone(), url.to_string());
        async move {
            let body = Self::get(client, url.clone()).await?.bytes().await;
            body.map(|b| b.to_vec()).map_err(|e| InstallError::Fetch {
                what: url,
                message: e.to_string(),
            })
        }
    }

    /// Downloads `url` into the downloads directory as `file` (resuming a
    /// partial download) and checks it against `sha256`: the path, or the
    /// error (a mismatching file is deleted). Fails closed: no checksum,
    /// no download, unless the user asked for `--insecure`.
    pub async fn fetch_verified(
        &mut self,
        url: &str,
        file: &str,
        sha256: Option<&str>,
    ) -> Result<PathBuf, InstallError> {
        if sha256.is_none() && !self.insecure {
            return Err(InstallError::NoChecksum { file: file.into() });
        }
        let path = self.downloads.join(file);
        let progress = &mut *self.progress;
        let done = download::download(&self.client, url, &path, 2 << 30, &mut |received, total| {
            progress(Progress::Download {
                file,
                received,
                total,
            })
        })
        .await?;
        progress(Progress::Done {
            file,
            size: done.size,
        });
        if let Some(expected) = sha256
            && expected != done.sha256
        {
            let _ = std::fs::remove_file(&path);
            return Err(InstallError::Mismatch {
                file: file.into(),
                expected: expected.into(),
                actual: done.sha256,
            });
        }
        Ok(path)
    }
}

/// Holds `versions/<runtime>/.<version>.lock` while an install runs.
pub struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// Waits for another install of the same version to finish.
    pub fn take(dir: &Path, version: &str) -> Result<Lock, InstallError> {
        std::fs::create_dir_all(dir).map_err(|source| InstallError::Io {
            context: format!("cannot create {}", dir.display()),
            source,
        })?;
        let path = dir.join(format!(".{version}.lock"));
        let file = std::fs::File::create(&path).map_err(|source| InstallError::Io {
            context: format!("cannot create {}", path.display()),
            source,
        })?;
        file.lock().map_err(|source| InstallError::Io {
            context: format!("cannot lock {}", path.display()),
            source,
        })?;
        Ok(Lock { _file: file })
    }
}

/// What an installed version was installed from, kept in it (read by
/// `omg env capture`).
pub const RECEIPT: &str = ".omg-receipt.json";

/// The SHA-256 (checked at install) and URL of what `dir` was installed
/// from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub sha256: Option<String>,
    pub url: String,
}

/// Records the receipt; a version without one is still installed.
pub fn write_receipt(dir: &Path, sha256: Option<&str>, url: &str) {
    let receipt = Receipt {
        sha256: sha256.map(str::to_string),
        url: url.to_string(),
    };
    if let Ok(json) = serde_json::to_vec(&receipt) {
        let _ = std::fs::write(dir.join(RECEIPT), json);
    }
}

/// The receipt of an installed version, if it has one.
pub fn read_receipt(dir: &Path) -> Option<Receipt> {
    serde_json::from_slice(&std::fs::read(dir.join(RECEIPT)).ok()?).ok()
}
