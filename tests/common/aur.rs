//! A stand-in for the AUR's RPC v5, serving the real recorded answers in
//! tests/fixtures/upstream/aur/rpc (and packages a test adds).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::http::{HttpServer, Reply, Request};

/// Where the recorded AUR answers are.
pub fn fixtures() -> PathBuf {
    super::repo()
        .to_path_buf()
        .join("tests/fixtures/upstream/aur/rpc")
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
            .filter(|r| {
                if by == "provides" {
                    r["Provides"].as_array().is_some_and(|p| {
                        p.iter().any(|v| {
                            v.as_str()
                                .is_some_and(|v| v.split(['=', '<', '>']).next() == Some(term))
                        })
                    }) || r["Name"] == term
                } else {
                    r["Name"].as_str().is_some_and(|n| n.contains(term))
                }
            })
            .cloned()
            .collect();
        return Reply::json(envelope("search", extra));
    }
    Reply::not_found()
}

/// An RPC record of package `name` of base `pkgbase` at `version`, as the
/// AUR answers `info` (no dependencies).
pub fn record(name: &str, pkgbase: &str, version: &str) -> serde_json::Value {
    serde_json::json!({
        "Name": name,
        "PackageBase": pkgbase,
        "Version": version,
        "Description": "AUR test package",
        "NumVotes": 1,
        "Popularity": 0.5,
        "OutOfDate": null,
        "Maintainer": "tester",
        "FirstSubmitted": 1700000000,
        "LastModified": 1700000000,
        "URLPath": format!("/cgit/aur.git/snapshot/{pkgbase}.tar.gz"),
    })
}

/// A server answering like the AUR from the recorded fixtures.
pub fn server(dir: PathBuf) -> (HttpServer, Extra) {
    let extra: Extra = Arc::new(Mutex::new(Vec::new()));
    let shared = extra.clone();
    let server = HttpServer::start(move |request| answer(&dir, &shared, request));
    (server, extra)
}

/// An AUR of a test's own: RPC records for the packages it publishes, and
/// their git repositories served over HTTP (git's "dumb" protocol).
pub struct FakeAur {
    pub server: HttpServer,
    records: Extra,
    pub git_root: tempfile::TempDir,
}

/// One package of a published base.
pub struct AurSpec {
    pub name: &'static str,
    pub depends: &'static [&'static str],
    pub make_depends: &'static [&'static str],
}

fn git(dir: &std::path::Path, args: &[&str]) {
    super::system_with(
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=AUR", "-c", "user.email=aur@example.org"])
            .args(args),
    );
}

impl FakeAur {
    /// Commits `file` with `content` in the work tree `work` and pushes it
    /// to the served bare repository `repo` (created on first use).
    pub fn commit(
        &self,
        repo: &str,
        work: &std::path::Path,
        file: &str,
        content: &str,
    ) -> std::path::PathBuf {
        self.commit_files(repo, work, &[(file, content)])
    }

    /// Commits `files` (name, content) in one commit, as `commit` does.
    pub fn commit_files(
        &self,
        repo: &str,
        work: &std::path::Path,
        files: &[(&str, &str)],
    ) -> std::path::PathBuf {
        let bare = self.git_root.path().join(repo);
        if !bare.exists() {
            super::system_with(
                std::process::Command::new("git")
                    .args(["init", "--quiet", "--bare"])
                    .arg(&bare),
            );
            super::system_with(
                std::process::Command::new("git")
                    .args(["init", "--quiet"])
                    .arg(work),
            );
        }
        for (file, content) in files {
            std::fs::write(work.join(file), content).unwrap();
            git(work, &["add", file]);
        }
        let message = files[0].1.lines().next().unwrap_or("update");
        git(work, &["commit", "--quiet", "-m", message]);
        git(
            work,
            &[
                "push",
                "--quiet",
                "--force",
                bare.to_str().unwrap(),
                "HEAD:master",
            ],
        );
        git(&bare, &["symbolic-ref", "HEAD", "refs/heads/master"]);
        git(&bare, &["update-server-info"]);
        bare
    }

    pub fn start() -> FakeAur {
        let records: Extra = Arc::new(Mutex::new(Vec::new()));
        let git_root = tempfile::tempdir().unwrap();
        let shared = records.clone();
        let root = git_root.path().to_path_buf();
        let empty = std::path::PathBuf::from("/nonexistent");
        let server = HttpServer::start(move |request| {
            if request.path.contains(".git/") {
                let rel = request.path.trim_start_matches('/');
                if rel.split('/').any(|c| c == "..") {
                    return Reply::not_found();
                }
                return match std::fs::read(root.join(rel)) {
                    Ok(bytes) => Reply::Body(200, "application/octet-stream", bytes),
                    Err(_) => Reply::not_found(),
                };
            }
            answer(&empty, &shared, request)
        });
        FakeAur {
            server,
            records,
            git_root,
        }
    }

    /// Publishes (or updates) base `pkgbase` at `version` with `packages`;
    /// `broken`: its package() fails.
    pub fn publish(&self, pkgbase: &str, version: &str, packages: &[AurSpec], broken: bool) {
        let (ver, rel) = version.split_once('-').unwrap();
        let names: Vec<String> = packages.iter().map(|p| format!("'{}'", p.name)).collect();
        let mut pkgbuild = format!(
            "pkgbase={pkgbase}\npkgname=({})\npkgver={ver}\npkgrel={rel}\npkgdesc='AUR test package'\narch=('any')\nlicense=('MIT')\n",
            names.join(" ")
        );
        let make: Vec<String> = packages
            .iter()
            .flat_map(|p| p.make_depends.iter().map(|d| format!("'{d}'")))
            .collect();
        pkgbuild.push_str(&format!("makedepends=({})\n", make.join(" ")));
        for p in packages {
            let deps: Vec<String> = p.depends.iter().map(|d| format!("'{d}'")).collect();
            pkgbuild.push_str(&format!(
                "package_{}() {{\n  depends=({})\n  {}mkdir -p \"$pkgdir/usr/share/{}\"\n  echo {version} > \"$pkgdir/usr/share/{}/VERSION\"\n}}\n",
                p.name,
                deps.join(" "),
                if broken { "false\n  " } else { "" },
                p.name,
                p.name
            ));
        }
        self.publish_pkgbuild(pkgbase, version, packages, &pkgbuild);
    }

    /// Adds an RPC record by hand (a package whose sources are never
    /// fetched).
    pub fn add_record(&self, record: serde_json::Value) {
        self.records.lock().unwrap().push(record);
    }

    /// Sets `field` of the RPC records of base `pkgbase` (a new
    /// maintainer, another submission date).
    pub fn set_field(&self, pkgbase: &str, field: &str, value: serde_json::Value) {
        for record in self.records.lock().unwrap().iter_mut() {
            if record["PackageBase"] == pkgbase {
                record[field] = value.clone();
            }
        }
    }

    /// Publishes base `pkgbase` at `version` with this PKGBUILD; its RPC
    /// records list `packages`.
    pub fn publish_pkgbuild(
        &self,
        pkgbase: &str,
        version: &str,
        packages: &[AurSpec],
        pkgbuild: &str,
    ) {
        let work = self.git_root.path().join(format!("work-{pkgbase}"));
        // The AUR takes no commit without a .SRCINFO saying what it builds.
        let (ver, rel) = version.rsplit_once('-').unwrap();
        let mut srcinfo =
            format!("pkgbase = {pkgbase}\n\tpkgver = {ver}\n\tpkgrel = {rel}\n\tarch = any\n\n");
        for p in packages {
            srcinfo.push_str(&format!("pkgname = {}\n\n", p.name));
        }
        self.commit_files(
            &format!("{pkgbase}.git"),
            &work,
            &[("PKGBUILD", pkgbuild), (".SRCINFO", &srcinfo)],
        );
        let mut records = self.records.lock().unwrap();
        records.retain(|r| r["PackageBase"] != pkgbase);
        for p in packages {
            let mut r = record(p.name, pkgbase, version);
            r["Depends"] = serde_json::json!(p.depends);
            r["MakeDepends"] = serde_json::json!(p.make_depends);
            records.push(r);
        }
    }
}

/// The AUR's metadata dump (`packages-meta-ext-v1.json.gz`) ASSEMBLED from
/// the recorded info answers: one gzipped JSON array of their records, one
/// per name, as the AUR publishes it.
pub fn fixture_dump() -> Vec<u8> {
    let mut records: Vec<serde_json::Value> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(fixtures().join("info"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let answer: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for record in answer["results"].as_array().unwrap() {
            if !records.iter().any(|r| r["Name"] == record["Name"]) {
                records.push(record.clone());
            }
        }
    }
    gzip(&serde_json::to_vec(&records).unwrap())
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// What a dump server serves: the gzipped dump and its `Last-Modified`.
pub type Dump = Arc<Mutex<(Vec<u8>, String)>>;

/// A server of the AUR's metadata dump as aurweb serves it: the file with
/// its `Last-Modified`, and 304 to a request whose `If-Modified-Since`
/// names it. Returns the server, what it serves, and how many 304s it
/// answered.
pub fn dump_server(
    body: Vec<u8>,
    last_modified: &str,
) -> (HttpServer, Dump, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dump: Dump = Arc::new(Mutex::new((body, last_modified.to_string())));
    let not_modified = Arc::new(AtomicUsize::new(0));
    let (served, counted) = (dump.clone(), not_modified.clone());
    let server = HttpServer::start(move |request| {
        if request.path != "/packages-meta-ext-v1.json.gz" {
            return Reply::not_found();
        }
        let (body, modified) = served.lock().unwrap().clone();
        if request.header("if-modified-since") == Some(modified.as_str()) {
            counted.fetch_add(1, Ordering::SeqCst);
            return Reply::Raw(b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_vec());
        }
        let mut reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nLast-Modified: {modified}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        reply.extend_from_slice(&body);
        Reply::Raw(reply)
    });
    (server, dump, not_modified)
}
