//! The AUR in `omg search` and `omg info` on an Arch system: a local server
//! answers as the AUR does (the recorded RPC answers), a temporary root
//! holds the repositories.

mod common;

use common::arch::{ArchRoot, Spec};
use common::http::{HttpServer, Reply};
use common::{Env, hit_names};

const SPECS: &[Spec] = &[
    // Shares its name with an AUR package: the repository must win.
    Spec::new("aura-bin", "2.0-1", "aura from a repository"),
    Spec::new("auralign", "1.0-1", "aligns things, aurally"),
];

fn env_for(root: &ArchRoot, aur_url: &str, extra: &str) -> Env {
    let mut env = Env::new();
    env.configure(&format!(
        "backend = \"alpm\"\n[aur]\nsearch_timeout_ms = 700\n{extra}"
    ));
    env.aur_url = aur_url.to_string();
    env.pacman_conf = Some(root.conf().to_path_buf());
    env
}

fn synced() -> ArchRoot {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    root
}

#[test]
fn search_lists_the_repositories_and_the_aur_together() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let root = synced();
    let env = env_for(&root, &server.url, "");
    let results = env.json(&["search", "aura", "--json", "--limit", "0"]);
    let hits = results["hits"].as_array().unwrap();
    let by_name = |name: &str| hits.iter().find(|h| h["name"] == name).cloned();
    // The exact AUR match ranks first, before the repositories' prefixes.
    assert_eq!(hits[0]["name"], "aura");
    assert_eq!(hits[0]["repository"], "aur");
    assert_eq!(hits[0]["aur"]["votes"], 154);
    assert!(hits[0]["aur"]["out_of_date"].is_number());
    // A name both have is the repository's.
    let shared = by_name("aura-bin").unwrap();
    assert_eq!(shared["repository"], "omgtest");
    assert!(shared["aur"].is_null());
    assert_eq!(hits.iter().filter(|h| h["name"] == "aura-bin").count(), 1);
    assert_eq!(by_name("auralign").unwrap()["repository"], "omgtest");
    assert!(by_name("auracle-git").is_some());
    // Every word must match: the AUR is asked for the longest, the others
    // filter its answer.
    let narrowed = env.json(&["search", "aura", "git", "--json", "--limit", "0"]);
    let names = hit_names(&narrowed);
    assert!(names.len() >= 3, "{names:?}");
    assert!(names.contains(&"aura-git".to_string()));
    assert!(!names.contains(&"aura".to_string()));
    for hit in narrowed["hits"].as_array().unwrap() {
        let text = format!("{} {}", hit["name"], hit["description"]).to_lowercase();
        assert!(text.contains("git") && text.contains("aura"), "{text}");
    }
    assert_eq!(results["total"].as_u64().unwrap() as usize, hits.len());

    // The text table marks AUR rows.
    let run = env.omg(&["search", "aura"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run.stdout.lines().find(|l| l.starts_with("aura ")).unwrap();
    assert!(
        line.contains("aur") && line.contains("+154") && line.contains("out of date"),
        "{line}"
    );
}

#[test]
fn sources_can_be_restricted() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let root = synced();
    let env = env_for(&root, &server.url, "");
    let repo = env.json(&["search", "aura", "--repo", "--json"]);
    assert_eq!(hit_names(&repo), ["aura-bin", "auralign"]);
    assert_eq!(
        server.hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the AUR was not asked"
    );
    let aur = env.json(&["search", "aura", "--aur", "--json", "--limit", "0"]);
    let hits = aur["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["repository"] == "aur"), "{aur}");
}

#[test]
fn a_slow_aur_leaves_the_repositories_results() {
    let silent = HttpServer::start(|_| Reply::Hang);
    let root = synced();
    let env = env_for(&root, &silent.url, "");
    let started = std::time::Instant::now();
    let run = env.omg(&["search", "aura", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let results: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(hit_names(&results), ["aura-bin", "auralign"]);
    let notes = results["notes"].to_string();
    assert!(notes.contains("did not answer"), "{notes}");
    let run = env.omg(&["search", "aura"]);
    assert!(run.stderr.contains("note:"), "{}", run.stderr);
}

#[test]
fn info_falls_back_to_the_aur() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let root = synced();
    let env = env_for(&root, &server.url, "");
    let info = env.json(&["info", "pacman-pb", "--json"]);
    let pb = &info[0];
    assert_eq!(pb["repository"], "aur");
    assert_eq!(pb["version"], "6.0.2-4");
    assert_eq!(
        pb["make_depends"],
        serde_json::json!(["meson", "asciidoc", "doxygen"])
    );
    assert_eq!(pb["aur"]["maintainer"], "miepee");
    let run = env.omg(&["info", "pacman-fancy-progress-git"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("None (orphaned)"), "{}", run.stdout);
    assert!(run.stdout.contains("Out-of-date"), "{}", run.stdout);
    // A repository package is still the repository's.
    let info = env.json(&["info", "aura-bin", "--json"]);
    assert_eq!(info[0]["repository"], "omgtest");
    // Unknown everywhere: not found, exit 1.
    let run = env.omg(&["info", "no-such-package-anywhere"]);
    assert_eq!(run.code, 1);
}

#[test]
fn debian_systems_never_ask_the_aur() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let apt = common::AptRoot::new();
    let env = Env::with_apt(&apt);
    env.configure(&format!(
        "backend = \"apt\"\n[aur]\nurl = \"{}\"\n",
        server.url
    ));
    let run = env.omg(&["search", "aura", "--json"]);
    assert!(run.code <= 1, "{}", run.stderr);
    let run = env.omg(&["info", "pacman-pb"]);
    assert_eq!(run.code, 1);
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn aur_answers_are_kept_between_runs_for_a_while() {
    let dir = common::aur::fixtures();
    let (server, _) = common::aur::server(dir);
    let root = synced();
    let hits = || server.hits.load(std::sync::atomic::Ordering::SeqCst);
    let env = env_for(&root, &server.url, "");
    let first = env.json(&["search", "aura", "--json"]);
    assert_eq!(hits(), 1);
    // Another one-shot process: the saved answer, no request.
    let second = env.json(&["search", "aura", "--json"]);
    assert_eq!(hits(), 1);
    assert_eq!(first, second);
    // And the same for info.
    env.json(&["info", "pacman-pb", "--json"]);
    let after_info = hits();
    env.json(&["info", "pacman-pb", "--json"]);
    assert_eq!(hits(), after_info);
    // With no time to keep answers, the AUR is asked again.
    let fresh = env_for(&root, &server.url, "cache_secs = 0\n");
    fresh.json(&["search", "aura", "--json"]);
    let before = hits();
    fresh.json(&["search", "aura", "--json"]);
    assert!(hits() > before);
}

#[test]
fn the_aur_metadata_dump_makes_the_aur_searchable_offline() {
    let modified = "Tue, 01 Dec 2026 10:00:00 GMT";
    let (server, dump, not_modified) =
        common::aur::dump_server(common::aur::fixture_dump(), modified);
    let root = synced();
    let mut env = env_for(&root, &server.url, "");
    let refresh = env.refresh();
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    let index = env.data_dir().join("index-aur.bin");
    let indexed = std::fs::read(&index).expect("the AUR's index is written");

    // The AUR is gone: searches and info still know its packages.
    env.aur_url = "http://127.0.0.1:1".into();
    let results = env.json(&["search", "curl", "--json", "--limit", "0"]);
    let hits = results["hits"].as_array().unwrap();
    let names = hit_names(&results);
    for name in [
        "curl-git",
        "curl-c-ares",
        "curl-http3-ngtcp2",
        "curl-quiche-git",
    ] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
    assert!(hits.iter().all(|h| h["repository"] == "aur"), "{results}");
    assert!(results["notes"].as_array().unwrap().is_empty(), "{results}");
    let git = hits.iter().find(|h| h["name"] == "curl-git").unwrap();
    assert_eq!(git["aur"]["maintainer"], "Chocobo1");
    // The repositories and the AUR together, the repositories first in a
    // tier; each word must match.
    let aura = env.json(&["search", "aura", "--json", "--limit", "0"]);
    let names = hit_names(&aura);
    assert!(names.contains(&"auracle-git".to_string()), "{names:?}");
    assert!(names.contains(&"aura-bin".to_string()), "{names:?}");
    let run = env.omg(&["search", "curl", "git"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("curl-git "))
        .unwrap();
    assert!(line.contains("aur"), "{line}");
    assert!(!run.stdout.contains("curl-c-ares"), "{}", run.stdout);
    // `omg info` reads the dump (it is younger than `aur.cache_secs`).
    let info = env.json(&["info", "curl-git", "--json"]);
    assert_eq!(info[0]["repository"], "aur");
    assert!(
        info[0]["depends"].as_array().unwrap().len() > 3,
        "{}",
        info[0]
    );
    // Completion offers the AUR's names beside the repositories', each
    // once, in name order, asking no server: in omg's own process and
    // through a daemon alike.
    let completed = env.omg(&["__complete", "aura"]);
    assert_eq!(completed.code, 0, "{}", completed.stderr);
    let names: Vec<&str> = completed.stdout.lines().collect();
    for name in ["auracle-git", "aura-bin", "auralign"] {
        assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{names:?}");
    }
    assert!(names.iter().all(|n| n.starts_with("aura")), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    {
        let _daemon = env.start_daemon();
        let through_daemon = env.omg(&["__complete", "aura"]);
        assert_eq!(through_daemon.stdout, completed.stdout);
        assert_eq!(through_daemon.code, 0, "{}", through_daemon.stderr);
    }

    // The next refresh asks whether the dump changed: it did not.
    env.aur_url = server.url.clone();
    let refresh = env.refresh();
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    assert_eq!(not_modified.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(std::fs::read(&index).unwrap(), indexed);

    // A damaged dump is refused and the index kept.
    *dump.lock().unwrap() = (
        common::aur::gzip(b"[{\"Name\":\"cut short"),
        "Wed, 02 Dec 2026 10:00:00 GMT".into(),
    );
    let refresh = env.refresh();
    assert_eq!(refresh.code, 0, "the repositories were refreshed");
    assert!(refresh.stderr.contains("damaged"), "{}", refresh.stderr);
    assert_eq!(std::fs::read(&index).unwrap(), indexed);
    // An AUR that fails, or announces a dump too large to take, leaves the
    // index as it was.
    for (reply, says) in [
        (
            &b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                [..],
            "HTTP 503",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n[",
            "larger than",
        ),
    ] {
        let reply = reply.to_vec();
        let failing = HttpServer::start(move |_| Reply::Raw(reply.clone()));
        env.aur_url = failing.url.clone();
        let refresh = env.refresh();
        assert_eq!(refresh.code, 0, "the repositories were refreshed");
        assert!(refresh.stderr.contains(says), "{says}: {}", refresh.stderr);
        assert_eq!(std::fs::read(&index).unwrap(), indexed);
    }
    env.aur_url = server.url.clone();
    // A new dump replaces the index.
    let mut records: Vec<serde_json::Value> = vec![common::aur::record(
        "brand-new-tool",
        "brand-new-tool",
        "1.0-1",
    )];
    records[0]["Description"] = "a tool nobody had before".into();
    *dump.lock().unwrap() = (
        common::aur::gzip(&serde_json::to_vec(&records).unwrap()),
        "Thu, 03 Dec 2026 10:00:00 GMT".into(),
    );
    let refresh = env.refresh();
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    env.aur_url = "http://127.0.0.1:1".into();
    assert_eq!(
        hit_names(&env.json(&["search", "brand-new", "--json"])),
        ["brand-new-tool"]
    );
    let gone = env.omg(&["search", "curl-git", "--aur", "--json"]);
    assert_eq!(gone.code, 1, "nothing found: {}", gone.stdout);
}
