//! `omg audit project`: a project's lockfiles checked against a local
//! stand-in for OSV that replays the recorded querybatch answers (and
//! answers other package versions from the recorded vulnerability
//! records' version lists), with the recorded records for details; the
//! answers are kept, so a second audit asks nothing.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use common::http::{HttpServer, Reply, Request};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream/osv")
}

type Key = (String, String, String);

/// What OSV answered (or would answer) per package version, and the
/// records by id.
fn recorded(dir: &Path) -> (HashMap<Key, serde_json::Value>, HashMap<String, Vec<u8>>) {
    let mut answers = HashMap::new();
    for name in ["cratesio-alpine", "npm-alpine", "no-vulns", "pypi"] {
        let read = |suffix: &str| -> serde_json::Value {
            let text =
                std::fs::read_to_string(dir.join(format!("querybatch/{name}.{suffix}.json")))
                    .unwrap();
            serde_json::from_str(&text).unwrap()
        };
        let (request, response) = (read("request"), read("response"));
        for (q, a) in request["queries"]
            .as_array()
            .unwrap()
            .iter()
            .zip(response["results"].as_array().unwrap())
        {
            let key = (
                q["package"]["ecosystem"].as_str().unwrap().to_string(),
                q["package"]["name"].as_str().unwrap().to_string(),
                q["version"].as_str().unwrap().to_string(),
            );
            answers.insert(key, a.clone());
        }
    }
    let mut records = HashMap::new();
    for entry in std::fs::read_dir(dir.join("vulns")).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let record: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let id = record["id"].as_str().unwrap().to_string();
        for affected in record["affected"].as_array().into_iter().flatten() {
            for version in affected["versions"].as_array().into_iter().flatten() {
                let key = (
                    affected["package"]["ecosystem"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    affected["package"]["name"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    version.as_str().unwrap_or("").to_string(),
                );
                answers
                    .entry(key)
                    .or_insert_with(|| serde_json::json!({"vulns": []}))["vulns"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"id": id, "modified": record["modified"]}));
            }
        }
        records.insert(id, bytes);
    }
    (answers, records)
}

/// OSV's answer to a querybatch `request`: `answer` for each query, in
/// order.
fn batch_reply(
    request: &Request,
    answer: impl Fn(&serde_json::Value) -> serde_json::Value,
) -> Reply {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let results: Vec<serde_json::Value> = body["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(answer)
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({"results": results})).unwrap();
    Reply::Body(200, "application/json", body)
}

/// OSV's `/v1/vulns/<id>`: the recorded record, or 404.
fn record_reply(records: &HashMap<String, Vec<u8>>, request: &Request) -> Reply {
    match request
        .path
        .strip_prefix("/v1/vulns/")
        .and_then(|id| records.get(id))
    {
        Some(record) => Reply::Body(200, "application/json", record.clone()),
        None => Reply::not_found(),
    }
}

#[test]
fn lockfiles_are_checked_and_answers_kept() {
    let dir = fixtures();
    let (answers, records) = recorded(&dir);
    let broken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let down = broken.clone();
    let server = HttpServer::start(move |request| {
        if down.load(Ordering::SeqCst) {
            return Reply::Body(503, "text/plain", b"down".to_vec());
        }
        if request.path == "/v1/querybatch" {
            return batch_reply(request, |q| {
                let key = (
                    q["package"]["ecosystem"].as_str().unwrap().to_string(),
                    q["package"]["name"].as_str().unwrap().to_string(),
                    q["version"].as_str().unwrap().to_string(),
                );
                answers
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({}))
            });
        }
        record_reply(&records, request)
    });
    let env = common::Env::new();
    env.configure(&format!("[security]\nosv_url = \"{}\"\n", server.url));
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("package-lock.json"),
        r#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},
            "node_modules/cryo":{"version":"0.0.6"},
            "node_modules/minimist":{"version":"0.0.8"},
            "node_modules/mkdirp":{"version":"0.5.0"}}}"#,
    )
    .unwrap();
    std::fs::write(
        project.join("requirements.txt"),
        "requests==2.20.0\nnumpy==2.3.1\ncryptography==3.1.1\n",
    )
    .unwrap();
    std::fs::write(
        project.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"url\"\nversion = \"2.5.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let p = project.display().to_string();
    let report = env.json(&["audit", "project", &p, "--json"]);
    assert_eq!(report["checked"], 7);
    let found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["name"].as_str().unwrap(),
                f["vulns"].as_array().unwrap().len()
            )
        })
        .collect();
    assert_eq!(
        found,
        ["cryptography 1", "requests 8", "cryo 1", "minimist 2"],
        "{report}"
    );
    let crypto = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "cryptography")
        .unwrap();
    assert_eq!(crypto["vulns"][0]["id"], "PYSEC-2021-63");
    assert!(
        crypto["vulns"][0]["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "CVE-2020-36242"),
        "{crypto}"
    );
    assert!(crypto["vulns"][0]["fixed"].is_string(), "{crypto}");
    assert!(
        crypto["files"][0]
            .as_str()
            .unwrap()
            .ends_with("requirements.txt")
    );

    // Kept: OSV down, the same answer without asking it.
    broken.store(true, Ordering::SeqCst);
    let hits = server.hits.load(Ordering::SeqCst);
    let again = env.json(&["audit", "project", &p, "--json"]);
    assert_eq!(again["findings"], report["findings"]);
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        hits,
        "nothing was asked"
    );
    // A refresh that fails says so and still answers from what is kept.
    let refreshed = env.json(&["audit", "project", &p, "--refresh", "--json"]);
    assert!(
        refreshed["note"]
            .as_str()
            .unwrap()
            .contains("using the answers kept"),
        "{refreshed}"
    );
    assert_eq!(refreshed["findings"].as_array().unwrap().len(), 4);
    let table = env.omg(&["audit", "project", &p]);
    assert!(
        table.stdout.contains("GHSA-38f5-ghc2-fcmv"),
        "{}",
        table.stdout
    );
}

#[test]
fn answers_beyond_the_first_page_are_followed() {
    let dir = fixtures();
    let (answers, records) = recorded(&dir);
    let key = (
        "npm".to_string(),
        "minimist".to_string(),
        "0.0.8".to_string(),
    );
    let all: Vec<serde_json::Value> = answers[&key]["vulns"].as_array().unwrap().clone();
    assert!(all.len() >= 2, "{all:?}");
    let paged = all.clone();
    // OSV answers one vulnerability a page, each with the next page's token.
    let server = HttpServer::start(move |request| {
        if request.path == "/v1/querybatch" {
            return batch_reply(request, |q| {
                let page: usize = q["page_token"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("page-"))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let mut answer = serde_json::json!({"vulns": [paged[page].clone()]});
                if page + 1 < paged.len() {
                    answer["next_page_token"] = format!("page-{}", page + 1).into();
                }
                answer
            });
        }
        record_reply(&records, request)
    });
    let env = common::Env::new();
    env.configure(&format!("[security]\nosv_url = \"{}\"\n", server.url));
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("package-lock.json"),
        r#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},
            "node_modules/minimist":{"version":"0.0.8"}}}"#,
    )
    .unwrap();
    let report = env.json(&["audit", "project", &project.display().to_string(), "--json"]);
    let found: Vec<&str> = report["findings"][0]["vulns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = all.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(found, expected, "{report}");
}
