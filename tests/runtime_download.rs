//! Downloading release files: whole, resumed after the connection dropped,
//! and refused when too large.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::http::{HttpServer, Reply};
use omg::runtime::download::{DownloadError, download};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn body() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_dropped_download_resumes_where_it_stopped() {
    let data = Arc::new(body());
    let tries = Arc::new(AtomicUsize::new(0));
    let (served, count) = (data.clone(), tries.clone());
    let server = HttpServer::start(move |request| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            // Announce everything, send a third, hang up.
            let mut raw = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                served.len()
            )
            .into_bytes();
            raw.extend_from_slice(&served[..served.len() / 3]);
            return Reply::Raw(raw);
        }
        let from: usize = request
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse().ok())
            .expect("a resume asks for a range");
        let mut raw = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
            served.len() - from,
            served.len() - 1,
            served.len()
        )
        .into_bytes();
        raw.extend_from_slice(&served[from..]);
        Reply::Raw(raw)
    });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("node.tar.gz");
    let client = reqwest::Client::new();
    let url = format!("{}/node.tar.gz", server.url);
    let rt = runtime();
    let err = rt
        .block_on(download(&client, &url, &dest, 1 << 30, &mut |_, _| {}))
        .unwrap_err();
    assert!(matches!(err, DownloadError::Network { .. }), "{err}");
    assert!(!dest.exists(), "an incomplete download is not in place");
    assert!(
        dir.path().join("node.tar.gz.part").exists(),
        "kept for a resume"
    );
    let mut seen = Vec::new();
    let done = rt
        .block_on(download(
            &client,
            &url,
            &dest,
            1 << 30,
            &mut |got, total| seen.push((got, total)),
        ))
        .unwrap();
    assert_eq!(done.size, data.len() as u64);
    assert_eq!(
        done.sha256,
        common::sha256_hex(&data),
        "the hash covers the resumed part too"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), *data);
    assert!(!dir.path().join("node.tar.gz.part").exists());
    assert_eq!(
        seen.first().unwrap().0,
        (data.len() / 3) as u64,
        "resumed, not restarted"
    );
    assert_eq!(
        seen.last().unwrap(),
        &(data.len() as u64, data.len() as u64)
    );
}

#[test]
fn too_large_and_missing_files_are_refused() {
    let data = body();
    let server = HttpServer::start(move |request| {
        if request.path == "/big" {
            Reply::Body(200, "application/octet-stream", data.clone())
        } else {
            Reply::not_found()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let rt = runtime();
    let err = rt
        .block_on(download(
            &client,
            &format!("{}/big", server.url),
            &dir.path().join("big"),
            1000,
            &mut |_, _| {},
        ))
        .unwrap_err();
    assert!(matches!(err, DownloadError::TooLarge { .. }), "{err}");
    let err = rt
        .block_on(download(
            &client,
            &format!("{}/nope", server.url),
            &dir.path().join("nope"),
            1000,
            &mut |_, _| {},
        ))
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(!dir.path().join("big").exists());
}
