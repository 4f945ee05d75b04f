//! The AUR RPC client against a local server speaking RPC v5 with the real
//! recorded answers, and against servers that misbehave.

mod common;

use std::time::Duration;

use common::http::{HttpServer, Reply};
use omg::aur::rpc::{AurClient, AurError, SearchBy};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn info_reads_the_recorded_records() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let client = AurClient::new(&server.url, Duration::from_secs(5)).unwrap();
    let found = runtime()
        .block_on(client.info(&names(&[
            "pacman-pb",
            "pacman-fancy-progress-git",
            "no-such-package",
        ])))
        .unwrap();
    assert_eq!(found.len(), 2, "unknown names are left out");
    let pb = found.iter().find(|p| p.name == "pacman-pb").unwrap();
    assert_eq!(pb.version, "6.0.2-4");
    assert_eq!(pb.package_base, "pacman-pb");
    assert_eq!(pb.out_of_date, Some(1697122939));
    assert_eq!(pb.maintainer.as_deref(), Some("miepee"));
    assert_eq!(pb.make_depends, ["meson", "asciidoc", "doxygen"]);
    assert_eq!(pb.groups, ["base-devel"]);
    let orphan = found
        .iter()
        .find(|p| p.name == "pacman-fancy-progress-git")
        .unwrap();
    assert_eq!(orphan.maintainer, None);
    assert_eq!(
        server.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one request"
    );
}

#[test]
fn many_names_go_in_batches() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let client = AurClient::new(&server.url, Duration::from_secs(5)).unwrap();
    let mut wanted: Vec<String> = (0..230).map(|i| format!("missing-{i}")).collect();
    wanted.push("yaourt".into());
    let found = runtime().block_on(client.info(&wanted)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "yaourt");
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn search_and_the_rpc_s_own_errors() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let client = AurClient::new(&server.url, Duration::from_secs(5)).unwrap();
    let rt = runtime();
    let found = rt
        .block_on(client.search("aura", SearchBy::NameDesc))
        .unwrap();
    assert_eq!(found.len(), 16);
    assert!(
        found.iter().all(|p| p.depends.is_empty()),
        "search records are short"
    );
    let providers = rt
        .block_on(client.search("curl", SearchBy::Provides))
        .unwrap();
    assert!(providers.iter().any(|p| p.name == "curl-git"));
    let err = rt
        .block_on(client.search("git", SearchBy::NameDesc))
        .unwrap_err();
    assert_eq!(err, AurError::Remote("Too many package results.".into()));
}

#[test]
fn bad_answers_are_refused_with_the_reason() {
    let malformed = HttpServer::start(|_| {
        Reply::json("{\"type\": \"multiinfo\", \"results\": [{\"Name\": 3}]}")
    });
    let client = AurClient::new(&malformed.url, Duration::from_secs(5)).unwrap();
    let rt = runtime();
    let err = rt.block_on(client.info(&names(&["x"]))).unwrap_err();
    assert!(matches!(err, AurError::Malformed(_)), "{err}");

    let huge = HttpServer::start(|_| Reply::json(vec![b' '; omg::aur::rpc::MAX_RESPONSE + 10]));
    let client = AurClient::new(&huge.url, Duration::from_secs(5)).unwrap();
    let err = rt.block_on(client.info(&names(&["x"]))).unwrap_err();
    assert_eq!(err, AurError::TooLarge(omg::aur::rpc::MAX_RESPONSE));

    let missing = HttpServer::start(|_| Reply::not_found());
    let client = AurClient::new(&missing.url, Duration::from_secs(5)).unwrap();
    let err = rt.block_on(client.info(&names(&["x"]))).unwrap_err();
    assert_eq!(err, AurError::Status(404));
    assert_eq!(
        missing.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a 404 is not retried"
    );

    assert!(matches!(
        AurClient::new("ftp://aur.example", Duration::from_secs(1)),
        Err(AurError::BadUrl(_))
    ));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let silent = HttpServer::start(|_| Reply::Hang);
    let client = AurClient::new(&silent.url, Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    let err = runtime().block_on(client.info(&names(&["x"]))).unwrap_err();
    assert_eq!(err, AurError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn passing_failures_are_retried() {
    let tries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = tries.clone();
    let flaky = HttpServer::start(move |_| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            Reply::Body(503, "text/plain", b"busy".to_vec())
        } else {
            Reply::json("{\"version\":5,\"type\":\"multiinfo\",\"resultcount\":0,\"results\":[]}")
        }
    });
    let client = AurClient::new(&flaky.url, Duration::from_secs(5)).unwrap();
    let found = runtime().block_on(client.info(&names(&["x"]))).unwrap();
    assert!(found.is_empty());
    assert_eq!(tries.load(std::sync::atomic::Ordering::SeqCst), 3);
}
