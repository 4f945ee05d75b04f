//! A stand-in for the AUR's RPC v5, serving the real recorded answers in
//! ../shared/fixtures/aur/rpc (and packages a test adds).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::http::{HttpServer, Reply, Request};

/// Where the recorded AUR answers are, or `None` (the test then skips).
pub fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/aur/rpc");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("{} is absent: skipping", dir.display());
        None
    }
}

/// Result records added by a test, by name (they win over the fixtures).
pub type Extra = Arc<Mutex<Vec<serde_json::Value>>>;

fn envelope(kind: &str, results: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": 5,
        "type": kind,
        "resultcount": results.len(),
        "results": results,
    }))
    .unwrap()
}

fn answer(dir: &std::path::Path, extra: &Extra, request: &Request) -> Reply {
    if request.path == "/rpc/v5/info" {
        let mut results = Vec::new();
        for name in request.args("arg[]") {
            if let Some(record) = extra
                .lock()
                .unwrap()
                .iter()
                .find(|r| r["Name"] == name.as_str())
            {
                results.push(record.clone());
                continue;
            }
            let Ok(text) = std::fs::read_to_string(dir.join("info").join(format!("{name}.json")))
            else {
                continue;
            };
            let recorded: serde_json::Value = serde_json::from_str(&text).unwrap();
            results.extend(recorded["results"].as_array().unwrap().iter().cloned());
        }
        return Reply::json(envelope("multiinfo", results));
    }
    if let Some(term) = request.path.strip_prefix("/rpc/v5/search/") {
        let by = request
            .args("by")
            .pop()
            .unwrap_or_else(|| "name-desc".into());
        let file = dir.join("search").join(format!("{by}__{term}.json"));
        if let Ok(text) = std::fs::read_to_string(file) {
            return Reply::json(text);
        }
        let extra: Vec<serde_json::Value> = extra
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["Name"].as_str().is_some_and(|n| n.contains(term)))
            .cloned()
            .collect();
        return Reply::json(envelope("search", extra));
    }
    Reply::not_found()
}

/// A server answering like the AUR from the recorded fixtures.
pub fn server(dir: PathBuf) -> (HttpServer, Extra) {
    let extra: Extra = Arc::new(Mutex::new(Vec::new()));
    let shared = extra.clone();
    let server = HttpServer::start(move |request| answer(&dir, &shared, request));
    (server, extra)
}
