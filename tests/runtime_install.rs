//! Installing Node.js from a local mirror laid out as nodejs.org/dist:
//! index.json, SHASUMS256.txt and its signature (a key made here with
//! sequoia and trusted as a release key), and archives whose bin/node is a
//! script printing its version.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::http::{FileServer, HttpServer, Reply};
use common::pgp::{Cert, Form, trusting};
use omg::runtime::install::{InstallError, Installer, NodeSource, install_node, set_current};

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

fn key() -> Cert {
    common::pgp::key("release <release@example.org>")
}

fn sign(cert: &Cert, data: &[u8]) -> Vec<u8> {
    common::pgp::sign(cert, data, Form::Detached)
}

fn node_archive(version: &str) -> Vec<u8> {
    common::tar_gz(
        &format!("node-v{version}-linux-x64/bin/node"),
        &format!("#!/bin/sh\necho v{version}\n"),
    )
}

struct Mirror {
    server: FileServer,
    signer: Cert,
    keys: tempfile::TempDir,
}

impl Mirror {
    fn start() -> Mirror {
        let server = FileServer::start();
        let signer = key();
        let keys = trusting(&signer);
        let mirror = Mirror {
            server,
            signer,
            keys,
        };
        mirror.put(
            "/index.json",
            br#"[{"version":"v20.10.0","date":"2023-11-22","files":["linux-x64","src"],"lts":"Iron"},
                {"version":"v18.19.0","date":"2023-11-29","files":["linux-x64"],"lts":"Hydrogen"},
                {"version":"v21.2.0","date":"2023-11-14","files":["linux-arm64"],"lts":false}]"#
                .to_vec(),
        );
        mirror
    }

    fn put(&self, path: &str, body: Vec<u8>) {
        self.server.put(path, body);
    }

    /// Publishes `version`'s archive, its checksum list (with `hash` in
    /// place of the right one when given) and a signature by `by`.
    fn publish(&self, version: &str, hash: Option<&str>, by: &Cert) {
        let archive = node_archive(version);
        let file = format!("node-v{version}-linux-x64.tar.gz");
        let sums = format!(
            "{}  node-v{version}.tar.gz\n{}  {file}\n",
            "0".repeat(64),
            hash.map_or_else(|| common::sha256_hex(&archive), str::to_string)
        );
        self.put(&format!("/v{version}/{file}"), archive);
        self.put(
            &format!("/v{version}/SHASUMS256.txt.sig"),
            sign(by, sums.as_bytes()),
        );
        self.put(&format!("/v{version}/SHASUMS256.txt"), sums.into_bytes());
    }

    fn source(&self) -> NodeSource {
        NodeSource {
            mirror: self.server.url().to_string(),
            keys_dir: self.keys.path().to_path_buf(),
            verify: omg::security::pgp::verify_with_keyring,
        }
    }
}

fn install(
    mirror: &Mirror,
    request: &str,
    root: &Path,
    insecure: bool,
) -> Result<(String, std::path::PathBuf), InstallError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (versions, downloads) = (root.join("versions"), root.join("downloads"));
    let mut inst = Installer {
        client: reqwest::Client::new(),
        versions: &versions,
        downloads: &downloads,
        insecure,
        progress: &mut |_| {},
    };
    rt.block_on(install_node(&mut inst, &mirror.source(), request))
}

fn run(program: &Path) -> String {
    let out = std::process::Command::new(program).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn an_alias_installs_the_verified_release_and_use_switches_current() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    let root = tempfile::tempdir().unwrap();
    let (version, dir) = install(&mirror, "lts/iron", root.path(), false).unwrap();
    assert_eq!(version, "20.10.0");
    assert_eq!(dir, root.path().join("versions/node/20.10.0"));
    assert_eq!(run(&dir.join("bin/node")), "v20.10.0");
    assert!(
        !root
            .path()
            .join("downloads/node-v20.10.0-linux-x64.tar.gz")
            .exists()
    );
    // Again: already there.
    assert_eq!(
        install(&mirror, "20", root.path(), false).unwrap().0,
        "20.10.0"
    );
    set_current(&root.path().join("versions"), "node", "20.10.0").unwrap();
    assert_eq!(
        run(&root.path().join("versions/node/current/bin/node")),
        "v20.10.0"
    );
    // A release without a build for this machine does not match.
    assert!(matches!(
        install(&mirror, "21", root.path(), false),
        Err(InstallError::NoMatch { .. })
    ));
}

#[test]
fn a_checksum_mismatch_refuses_and_leaves_nothing() {
    let mirror = Mirror::start();
    mirror.publish("18.19.0", Some(&"ab".repeat(32)), &mirror.signer);
    let root = tempfile::tempdir().unwrap();
    let err = install(&mirror, "18", root.path(), false).unwrap_err();
    assert!(matches!(err, InstallError::Mismatch { .. }), "{err}");
    assert!(!root.path().join("versions/node/18.19.0").exists());
    assert!(
        !root
            .path()
            .join("downloads/node-v18.19.0-linux-x64.tar.gz")
            .exists()
    );
}

#[test]
fn a_signature_by_another_key_refuses() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &key());
    let root = tempfile::tempdir().unwrap();
    let err = install(&mirror, "20.10.0", root.path(), false).unwrap_err();
    assert!(matches!(err, InstallError::BadSignature { .. }), "{err}");
    assert!(!root.path().join("versions/node/20.10.0").exists());
}

#[test]
fn without_a_checksum_list_only_insecure_installs() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    mirror.server.remove("/v20.10.0/SHASUMS256.txt");
    let root = tempfile::tempdir().unwrap();
    let err = install(&mirror, "20", root.path(), false).unwrap_err();
    assert!(matches!(err, InstallError::NoChecksum { .. }), "{err}");
    assert!(!root.path().join("versions/node/20.10.0").exists());
    let (_, dir) = install(&mirror, "20", root.path(), true).unwrap();
    assert_eq!(run(&dir.join("bin/node")), "v20.10.0");
}

#[test]
fn two_installs_of_one_version_at_once_do_not_collide() {
    let mirror = Arc::new(Mirror::start());
    mirror.publish("20.10.0", None, &mirror.signer);
    let root = Arc::new(tempfile::tempdir().unwrap());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (mirror, root) = (mirror.clone(), root.clone());
            std::thread::spawn(move || install(&mirror, "20", root.path(), false).map(|(v, _)| v))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), "20.10.0");
    }
    let node_dir = root.path().join("versions/node");
    assert_eq!(run(&node_dir.join("20.10.0/bin/node")), "v20.10.0");
    let leftovers: Vec<String> = std::fs::read_dir(&node_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("unpacking"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn omg_use_installs_through_omgd_and_switches() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    mirror.publish("18.19.0", Some(&"cd".repeat(32)), &mirror.signer);
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nnode_mirror = \"{}\"\nnode_keys = \"{}\"\n",
        mirror.server.url(),
        mirror.keys.path().display()
    ));
    let result = env.omg(&["use", "node", "lts/iron"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("node 20.10.0 is now the default"),
        "{}",
        result.stdout
    );
    let current = env.data_dir().join("versions/node/current/bin/node");
    assert_eq!(run(&current), "v20.10.0");
    // A project pin through .tool-versions.
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let out = env
        .command(*common::OMG)
        .args(["use", "--local", "node", "20"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(project.join(".tool-versions")).unwrap(),
        "node 20\n"
    );
    // A bad checksum: refused, exit 1, the default unchanged.
    let result = env.omg(&["install", "node", "18"]);
    assert_eq!(result.code, 1);
    assert!(
        result
            .stderr
            .contains("does not match its published checksum"),
        "{}",
        result.stderr
    );
    assert_eq!(run(&current), "v20.10.0");
}

#[test]
fn list_which_exec_and_uninstall_work_on_installed_versions() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    mirror.publish("18.19.0", None, &mirror.signer);
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nnode_mirror = \"{}\"\nnode_keys = \"{}\"\n",
        mirror.server.url(),
        mirror.keys.path().display()
    ));
    assert_eq!(env.omg(&["install", "node", "18"]).code, 0);
    assert_eq!(env.omg(&["use", "node", "20"]).code, 0);
    let listed = env.json(&["list", "node", "--json"]);
    assert_eq!(
        listed,
        serde_json::json!([
            {"version": "20.10.0", "in_use": true},
            {"version": "18.19.0", "in_use": false}
        ])
    );
    let text = env.omg(&["list", "node"]);
    assert_eq!(text.stdout, "* 20.10.0\n  18.19.0\n");
    let which = env.omg(&["which", "node"]);
    assert_eq!(which.code, 0, "{}", which.stderr);
    assert!(
        which
            .stdout
            .trim()
            .ends_with("versions/node/20.10.0/bin/node"),
        "{}",
        which.stdout
    );
    let exec = env.omg(&["exec", "node@18", "--", "node"]);
    assert_eq!(exec.stdout.trim(), "v18.19.0", "{}", exec.stderr);
    let gone = env.omg(&["uninstall", "node", "20.10.0"]);
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(gone.stdout.contains("was the default"), "{}", gone.stdout);
    assert!(!env.data_dir().join("versions/node/20.10.0").exists());
    assert!(!env.data_dir().join("versions/node/current").exists());
    assert_eq!(env.omg(&["uninstall", "node", "20.10.0"]).code, 1);
    assert_eq!(env.omg(&["uninstall", "node", "../../etc"]).code, 1);
    assert_eq!(env.omg(&["list", "nodes"]).code, 2);
    // What upstream offers for this machine, read once.
    let offered = env.json(&["list", "node", "--available", "--json"]);
    let versions: Vec<&str> = offered
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["20.10.0", "18.19.0"]);
    assert_eq!(offered[0]["lts"], "iron");
    let hits = mirror
        .server
        .server
        .hits
        .load(std::sync::atomic::Ordering::SeqCst);
    let text = env.omg(&["list", "node", "--available"]);
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("18.19.0"))
        .unwrap();
    assert!(
        line.ends_with("2023-11-29 (lts/hydrogen)  installed"),
        "{line}"
    );
    assert_eq!(
        mirror
            .server
            .server
            .hits
            .load(std::sync::atomic::Ordering::SeqCst),
        hits,
        "cached"
    );
}

fn go_archive(version: &str) -> Vec<u8> {
    common::tar_gz(
        "go/bin/go",
        &format!("#!/bin/sh\necho go version go{version} linux/amd64\n"),
    )
}

#[test]
fn go_installs_from_its_listing_and_sets_goroot_through_the_hook() {
    let files: Files = Arc::new(Mutex::new(HashMap::new()));
    let shared = files.clone();
    let server = HttpServer::start(move |request| {
        let key = if request.path == "/dl/" {
            "listing".to_string()
        } else {
            request.path.clone()
        };
        match shared.lock().unwrap().get(&key) {
            Some(body) => Reply::Body(200, "application/octet-stream", body.clone()),
            None => Reply::not_found(),
        }
    });
    let good = go_archive("1.22.3");
    let listing = serde_json::json!([
        {"version": "go1.22.3", "stable": true, "files": [
            {"filename": "go1.22.3.linux-amd64.tar.gz", "os": "linux", "arch": "amd64",
             "version": "go1.22.3", "sha256": common::sha256_hex(&good), "size": good.len(), "kind": "archive"}]},
        {"version": "go1.21.10", "stable": true, "files": [
            {"filename": "go1.21.10.linux-amd64.tar.gz", "os": "linux", "arch": "amd64",
             "version": "go1.21.10", "sha256": "0".repeat(64), "size": 1, "kind": "archive"}]}
    ]);
    files
        .lock()
        .unwrap()
        .insert("listing".into(), serde_json::to_vec(&listing).unwrap());
    files
        .lock()
        .unwrap()
        .insert("/dl/go1.22.3.linux-amd64.tar.gz".into(), good);
    files.lock().unwrap().insert(
        "/dl/go1.21.10.linux-amd64.tar.gz".into(),
        go_archive("1.21.10"),
    );
    let env = common::Env::new();
    env.configure(&format!("[runtimes]\ngo_mirror = \"{}/dl\"\n", server.url));
    let result = env.omg(&["use", "go", "1.22"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let go = env.data_dir().join("versions/go/1.22.3/bin/go");
    assert_eq!(run(&go), "go version go1.22.3 linux/amd64");
    // The listing's checksum is enforced.
    let bad = env.omg(&["install", "go", "1.21"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("does not match its published checksum"),
        "{}",
        bad.stderr
    );
    assert!(!env.data_dir().join("versions/go/1.21.10").exists());
    // The audit log has the install and the switch, not the refused one.
    let log = env.json(&["audit", "log", "--json"]);
    let actions: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["subject"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        ["runtime-install go 1.22.3", "runtime-switch go 1.22.3"]
    );
    // The hook puts it on PATH with GOROOT, from go.mod.
    let project = env.dir.path().join("mod");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("go.mod"), "module m\n\ngo 1.22\n").unwrap();
    let out = env
        .command(*common::OMG)
        .args(["hook-env", "bash"])
        .current_dir(&project)
        .env_remove("__OMG_STATE")
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("versions/go/1.22.3/bin"), "{code}");
    assert!(code.contains("export GOROOT="), "{code}");
}

#[test]
fn python_installs_from_a_download_list_in_uv_s_format() {
    if std::env::consts::ARCH != "x86_64" {
        common::skip_test("the build names below are x86_64's");
        return;
    }
    let server = FileServer::start();
    let archive = common::tar_gz("python/bin/python3", "#!/bin/sh\necho Python 3.12.4\n");
    let entry = |patch: u64, sha: String, file: &str| {
        serde_json::json!({
            "name": "cpython", "arch": {"family": "x86_64", "variant": null}, "os": "linux",
            "libc": "gnu", "major": 3, "minor": 12, "patch": patch, "prerelease": "",
            "url": format!("{}/releases/{file}", server.url()), "sha256": sha,
            "variant": null, "build": "20240726"
        })
    };
    let good = "cpython-3.12.4%2B20240726-x86_64-unknown-linux-gnu-install_only.tar.gz";
    let metadata = serde_json::json!({
        "cpython-3.12.4-linux-x86_64-gnu": entry(4, common::sha256_hex(&archive), good),
        "cpython-3.12.3-linux-x86_64-gnu": entry(3, "1".repeat(64), "cpython-3.12.3.tar.gz"),
    });
    server.put("/metadata.json", serde_json::to_vec(&metadata).unwrap());
    server.put(
        &format!("/releases/{}", good.replace("%2B", "+")),
        archive.clone(),
    );
    server.put(&format!("/releases/{good}"), archive.clone());
    server.put("/releases/cpython-3.12.3.tar.gz", archive);
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\npython_metadata = \"{}/metadata.json\"\n",
        server.url()
    ));
    let result = env.omg(&["install", "python", "3.12"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("python 3.12.4 is installed"),
        "{}",
        result.stdout
    );
    assert_eq!(
        run(&env.data_dir().join("versions/python/3.12.4/bin/python3")),
        "Python 3.12.4"
    );
    let bad = env.omg(&["install", "python", "3.12.3"]);
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    assert!(
        bad.stderr.contains("does not match its published checksum"),
        "{}",
        bad.stderr
    );
    assert!(!env.data_dir().join("versions/python/3.12.3").exists());
}

#[test]
fn java_installs_a_temurin_build_and_sets_java_home() {
    let files: Files = Arc::new(Mutex::new(HashMap::new()));
    let shared = files.clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = HttpServer::start(move |request| {
        log.lock()
            .unwrap()
            .push((request.path.clone(), request.query.clone()));
        match shared.lock().unwrap().get(&request.path) {
            Some(body) => Reply::Body(200, "application/json", body.clone()),
            None => Reply::not_found(),
        }
    });
    let archive = common::tar_gz("jdk-21.0.2+13/bin/java", "#!/bin/sh\necho openjdk 21.0.2\n");
    let name = "OpenJDK21U-jdk_x64_linux_hotspot_21.0.2_13.tar.gz";
    let api = serde_json::json!([{
        "binaries": [{"architecture": "x64", "os": "linux", "image_type": "jdk", "jvm_impl": "hotspot",
            "package": {"checksum": common::sha256_hex(&archive), "link": format!("{}/files/{name}", server.url), "name": name, "size": archive.len()}}],
        "release_name": "jdk-21.0.2+13",
        "version_data": {"major": 21, "minor": 0, "security": 2, "build": 13, "semver": "21.0.2+13.0.LTS", "openjdk_version": "21.0.2+13-LTS"}
    }]);
    files.lock().unwrap().insert(
        "/v3/assets/feature_releases/21/ga".into(),
        serde_json::to_vec(&api).unwrap(),
    );
    files
        .lock()
        .unwrap()
        .insert(format!("/files/{name}"), archive);
    let env = common::Env::new();
    env.configure(&format!("[runtimes]\njava_api = \"{}\"\n", server.url));
    let result = env.omg(&["use", "java", "temurin-21"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    let root = env.data_dir().join("versions/java/21.0.2+13");
    assert_eq!(run(&root.join("bin/java")), "openjdk 21.0.2");
    let asked = seen.lock().unwrap().clone();
    let (_, query) = asked
        .iter()
        .find(|(p, _)| p.contains("feature_releases"))
        .unwrap();
    assert!(
        query.contains(&("os".to_string(), "linux".to_string())),
        "{query:?}"
    );
    assert!(
        query.contains(&("image_type".to_string(), "jdk".to_string())),
        "{query:?}"
    );
    // Outside any project the default applies, with JAVA_HOME.
    let out = env
        .command(*common::OMG)
        .args(["hook-env", "bash"])
        .current_dir(env.dir.path())
        .env_remove("__OMG_STATE")
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("export JAVA_HOME="), "{code}");
    assert!(code.contains("versions/java/current"), "{code}");
    assert_eq!(
        env.omg(&["install", "java", "17"]).code,
        1,
        "no such feature release here"
    );
}

#[test]
fn bun_installs_from_its_release_zip_checked_against_shasums() {
    let server = FileServer::start();
    let zip_of = |version: &str| {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            writer.start_file("bun-linux-x64/bun", options).unwrap();
            writer
                .write_all(format!("#!/bin/sh\necho {version}\n").as_bytes())
                .unwrap();
            writer.finish().unwrap();
        }
        out.into_inner()
    };
    let arch = if std::env::consts::ARCH == "aarch64" {
        "aarch64"
    } else {
        "x64"
    };
    let file = format!("bun-linux-{arch}.zip");
    let release_key = key();
    let keys = trusting(&release_key);
    let stranger = key();
    // 1.1.8 is right; 1.1.7's list is signed but names another archive;
    // 1.0.36's list is signed by a key Bun does not use.
    for (version, tampered, signer) in [
        ("1.1.8", false, &release_key),
        ("1.1.7", true, &release_key),
        ("1.0.36", false, &stranger),
    ] {
        let archive = zip_of(version);
        let hash = if tampered {
            "e".repeat(64)
        } else {
            common::sha256_hex(&archive)
        };
        let sums = format!("{hash}  {file}\n{}  bun-darwin-x64.zip\n", "0".repeat(64));
        server.put(
            &format!("/dl/bun-v{version}/SHASUMS256.txt.asc"),
            common::pgp::sign(signer, sums.as_bytes(), Form::Clear),
        );
        server.put(&format!("/dl/bun-v{version}/SHASUMS256.txt"), sums);
        server.put(&format!("/dl/bun-v{version}/{file}"), archive);
    }
    let releases = serde_json::json!([
        {"tag_name": "bun-v1.2.0-canary", "prerelease": true, "draft": false},
        {"tag_name": "bun-v1.1.8", "prerelease": false, "draft": false},
        {"tag_name": "bun-v1.1.7", "prerelease": false, "draft": false},
        {"tag_name": "bun-v1.0.36", "prerelease": false, "draft": false}
    ]);
    server.put("/api/releases", serde_json::to_vec(&releases).unwrap());
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nbun_releases = \"{0}/dl\"\nbun_api = \"{0}/api/releases\"\nbun_keys = \"{1}\"\n",
        server.url(),
        keys.path().display()
    ));
    let result = env.omg(&["install", "bun", "latest"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert_eq!(
        run(&env.data_dir().join("versions/bun/1.1.8/bin/bun")),
        "1.1.8"
    );
    let bad = env.omg(&["install", "bun", "1.1.7"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("does not match its published checksum"),
        "{}",
        bad.stderr
    );
    assert!(!env.data_dir().join("versions/bun/1.1.7").exists());
    let forged = env.omg(&["install", "bun", "1.0.36"]);
    assert_eq!(forged.code, 1);
    assert!(
        forged
            .stderr
            .contains("signature of SHASUMS256.txt does not check out"),
        "{}",
        forged.stderr
    );
    assert!(!env.data_dir().join("versions/bun/1.0.36").exists());
}

#[test]
fn rollback_restores_the_default_and_brings_back_an_uninstalled_version() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    mirror.publish("18.19.0", None, &mirror.signer);
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nnode_mirror = \"{}\"\nnode_keys = \"{}\"\n",
        mirror.server.url(),
        mirror.keys.path().display()
    ));
    let versions = env.data_dir().join("versions/node");
    let current = versions.join("current/bin/node");
    assert_eq!(env.omg(&["use", "node", "18"]).code, 0);
    let switched = env.omg(&["use", "node", "20"]);
    assert_eq!(switched.code, 0, "{}", switched.stderr);
    assert_eq!(run(&current), "v20.10.0");

    // The newest change (use node 20: installed it, switched to it) is
    // undone: 18 is the default again and 20 is gone.
    let dry = env.omg(&["rollback", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("make node 18.19.0 the default again"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("remove node 20.10.0"), "{}", dry.stdout);
    assert!(
        versions.join("20.10.0").is_dir(),
        "a dry run changes nothing"
    );
    let undone = env.omg(&["rollback", "--noconfirm"]);
    assert_eq!(undone.code, 0, "{}\n{}", undone.stdout, undone.stderr);
    assert_eq!(run(&current), "v18.19.0");
    assert!(!versions.join("20.10.0").exists());

    // Uninstalling the default, rolled back: installed again (verified as
    // any install) and the default once more.
    assert_eq!(env.omg(&["uninstall", "node", "18.19.0"]).code, 0);
    assert!(!versions.join("current").exists());
    let back = env.omg(&["rollback", "--user", "--noconfirm"]);
    assert_eq!(back.code, 0, "{}\n{}", back.stdout, back.stderr);
    assert_eq!(run(&current), "v18.19.0");

    // A version upstream no longer has: named, and nothing stays changed.
    assert_eq!(env.omg(&["uninstall", "node", "18.19.0"]).code, 0);
    mirror
        .server
        .remove("/v18.19.0/node-v18.19.0-linux-x64.tar.gz");
    let gone = env.omg(&["rollback", "--user", "--noconfirm"]);
    assert_eq!(gone.code, 1, "{}\n{}", gone.stdout, gone.stderr);
    assert!(
        gone.stderr.contains("no longer available: node 18.19.0"),
        "{}",
        gone.stderr
    );
    assert!(!versions.join("18.19.0").exists());
    assert!(!versions.join("current").exists());

    // Every change is in the history, the rollbacks too.
    let history = env.json(&["history", "--json"]);
    let commands: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "uninstall node 18.19.0",
            "rollback 4",
            "install node 18.19.0",
            "uninstall node 18.19.0",
            "rollback 2",
            "use node 20",
            "use node 18"
        ]
    );
}

#[test]
fn use_switches_between_installed_versions_offline() {
    let mirror = Mirror::start();
    mirror.publish("20.10.0", None, &mirror.signer);
    mirror.publish("18.19.0", None, &mirror.signer);
    let env = common::Env::new();
    let configure = |url: &str| {
        env.configure(&format!(
            "[runtimes]\nnode_mirror = \"{url}\"\nnode_keys = \"{}\"\n",
            mirror.keys.path().display()
        ))
    };
    configure(mirror.server.url());
    for version in ["lts/iron", "18.19.0"] {
        let result = env.omg(&["install", "node", version]);
        assert_eq!(result.code, 0, "{}", result.stderr);
    }
    // Offline from here: nothing answers at the mirror's address.
    configure("http://127.0.0.1:1");
    let current = env.data_dir().join("versions/node/current/bin/node");
    for (request, expected) in [
        ("18.19.0", "v18.19.0"),
        ("20", "v20.10.0"),
        ("v18.19.0", "v18.19.0"),
        ("lts/iron", "v20.10.0"),
        ("18", "v18.19.0"),
    ] {
        let result = env.omg(&["use", "node", request]);
        assert_eq!(result.code, 0, "use node {request}: {}", result.stderr);
        assert_eq!(run(&current), expected, "use node {request}");
    }
    // A version that is not installed needs the mirror, and says so.
    let result = env.omg(&["use", "node", "21"]);
    assert_eq!(result.code, 1, "{}", result.stdout);
    assert!(result.stderr.contains("127.0.0.1:1"), "{}", result.stderr);
    assert_eq!(run(&current), "v18.19.0");
}

#[test]
fn every_runtime_lists_what_its_upstream_offers() {
    let upstream = |rel: &str| common::upstream_fixture(rel);
    let mut routes: HashMap<String, Vec<u8>> = HashMap::new();
    routes.insert(
        "/node/index.json".into(),
        br#"[{"version":"v20.10.0","date":"2023-11-22","files":["linux-x64"],"lts":"Iron"},
             {"version":"v21.2.0","date":"2023-11-14","files":["linux-x64"],"lts":false}]"#
            .to_vec(),
    );
    routes.insert(
        "/go/".into(),
        upstream("go/dl-mode-json-include-all.setup-go.json"),
    );
    routes.insert(
        "/python.json".into(),
        upstream("python/uv-download-metadata.trimmed.json"),
    );
    routes.insert(
        "/java/v3/info/available_releases".into(),
        br#"{"available_lts_releases":[8,11,17,21],"available_releases":[8,11,17,21,23],"most_recent_feature_release":23}"#.to_vec(),
    );
    routes.insert(
        "/bun".into(),
        br#"[{"tag_name":"bun-v1.2.0-canary","prerelease":true,"draft":false},
             {"tag_name":"bun-v1.1.8","prerelease":false,"draft":false},
             {"tag_name":"bun-v1.0.36","prerelease":false,"draft":false}]"#
            .to_vec(),
    );
    let ruby = ["3.4.0-preview1", "3.3.1", "3.2.4"]
        .iter()
        .map(|v| {
            format!(
                "ruby-{v}\thttps://cache.ruby-lang.org/pub/ruby/ruby-{v}.tar.gz\t{}\t{}\t{}\n",
                "0".repeat(40),
                "0".repeat(64),
                "0".repeat(128)
            )
        })
        .collect::<String>();
    routes.insert(
        "/ruby/index.txt".into(),
        format!("name\turl\tsha1\tsha256\tsha512\n{ruby}").into_bytes(),
    );
    routes.insert(
        "/rust/dist/channel-rust-stable.toml".into(),
        upstream("rust/channel-rust-stable.2025-04-03.trimmed.toml"),
    );
    let server = HttpServer::start(move |request| match routes.get(&request.path) {
        Some(body) => Reply::Body(200, "application/octet-stream", body.clone()),
        None => Reply::not_found(),
    });
    let url = &server.url;
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nnode_mirror = \"{url}/node\"\ngo_mirror = \"{url}/go\"\npython_metadata = \"{url}/python.json\"\njava_api = \"{url}/java\"\nbun_api = \"{url}/bun\"\nruby_index = \"{url}/ruby/index.txt\"\nrust_dist_server = \"{url}/rust\"\n"
    ));
    for (runtime, newest, also) in [
        ("node", "20.10.0", "21.2.0"),
        ("go", "1.13.7", "1.12.16"),
        ("python", "3.14", "3.13"),
        ("java", "temurin-23", "temurin-21"),
        ("bun", "1.1.8", "1.0.36"),
        ("ruby", "3.3.1", "3.2.4"),
        ("rust", "1.86.0", "1.86.0"),
    ] {
        let listed = env.json(&["list", runtime, "--available", "--json"]);
        let versions: Vec<&str> = listed
            .as_array()
            .unwrap_or_else(|| panic!("{runtime}: {listed}"))
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert!(!versions.is_empty(), "{runtime}: nothing listed");
        assert!(
            versions.iter().any(|v| v.starts_with(also)),
            "{runtime}: {versions:?}"
        );
        if runtime == "node" {
            // Newest first, whatever the LTS line.
            assert_eq!(versions[0], "21.2.0");
        } else {
            assert!(versions[0].starts_with(newest), "{runtime}: {versions:?}");
        }
    }
    let java = env.json(&["list", "java", "--available", "--json"]);
    assert_eq!(java[1]["lts"], "LTS", "{java}");
}
