//! The environment lockfile for real: a temporary Debian root with two
//! packages installed by omg, two Go toolchains installed from a local
//! mirror in go.dev/dl's layout, a project asking for one. `omg env
//! capture` writes the lock; removing a package, uninstalling a toolchain
//! and switching the default is exactly the drift `omg env check` reports
//! (and the status file's drift flag says so); `omg env sync` puts it back.

mod common;

use common::Run;
use common::deb::DebRoot;
use common::http::FileServer;

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "omg failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

fn go_mirror() -> FileServer {
    let server = FileServer::start();
    let mut releases = Vec::new();
    for version in ["1.22.3", "1.21.10"] {
        let archive = common::tar_gz(
            "go/bin/go",
            &format!("#!/bin/sh\necho go version go{version} linux/amd64\n"),
        );
        let file = format!("go{version}.linux-amd64.tar.gz");
        releases.push(serde_json::json!({
            "version": format!("go{version}"), "stable": true, "files": [{
                "filename": file, "os": "linux", "arch": "amd64",
                "version": format!("go{version}"), "sha256": common::sha256_hex(&archive),
                "size": archive.len(), "kind": "archive"
            }]
        }));
        server.put(&format!("/dl/{file}"), archive);
    }
    server.put("/dl/", serde_json::to_vec(&releases).unwrap());
    server
}

fn drift_flag(env: &common::Env) -> bool {
    omg_status::read(&env.runtime_dir().join("status.bin"))
        .is_some_and(|s| s.has(omg_status::FLAG_RUNTIME_DRIFT))
}

#[test]
fn capture_check_and_sync_round_trip_a_machine() {
    if std::env::consts::ARCH != "x86_64" {
        common::skip_test("the Go mirror here serves linux-amd64 only");
        return;
    }
    let root = DebRoot::new();
    root.add("omg-app", "1.0", "");
    root.add("omg-tool", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let mirror = go_mirror();
    env.configure(&format!(
        "[runtimes]\ngo_mirror = \"{}/dl\"\n",
        mirror.url()
    ));
    ok(&env.omg(&["install", "omg-app", "omg-tool", "--noconfirm"]));
    ok(&env.omg(&["use", "go", "1.21"]));
    ok(&env.omg(&["use", "go", "1.22"]));
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".tool-versions"), "go 1.22.3\n").unwrap();
    let lockfile = project.join("omg.lock");
    let file = lockfile.to_str().unwrap();

    let captured = env.omg(&["env", "capture", "--file", file]);
    ok(&captured);
    let text = std::fs::read_to_string(&lockfile).unwrap();
    assert!(text.contains("name = \"omg-tool\""), "{text}");
    assert!(text.contains("path = \".tool-versions\""), "{text}");
    assert!(text.contains("fingerprint = \"sha256:"), "{text}");
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let runtimes = lock["runtime"].as_array().unwrap();
    assert_eq!(runtimes.len(), 2);
    let default = runtimes
        .iter()
        .find(|r| r["default"].as_bool() == Some(true))
        .unwrap();
    assert_eq!(default["version"].as_str(), Some("1.22.3"));
    // The checksum of the archive that was installed.
    assert_eq!(default["sha256"].as_str().map(str::len), Some(64));
    let clean = env.omg(&["env", "check", "--file", file]);
    ok(&clean);
    assert!(
        clean.stdout.contains("the machine matches"),
        "{}",
        clean.stdout
    );
    assert!(!drift_flag(&env));

    // Change the machine.
    ok(&env.omg(&["remove", "omg-tool", "--noconfirm"]));
    ok(&env.omg(&["use", "go", "1.21"]));
    ok(&env.omg(&["uninstall", "go", "1.22.3"]));
    let check = env.omg(&["env", "check", "--file", file, "--json"]);
    assert_eq!(check.code, 1, "{}\n{}", check.stdout, check.stderr);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(
        report["drift"],
        serde_json::json!([
            {"kind": "missing-package", "name": "omg-tool", "version": "1.0"},
            {"kind": "missing-runtime", "name": "go", "version": "1.22.3"},
            {"kind": "runtime-default", "name": "go", "locked": "1.22.3", "current": "1.21.10"},
        ])
    );
    assert!(drift_flag(&env), "the prompt hears of it");
    let text = env.omg(&["env", "check", "--file", file]);
    assert!(
        text.stdout.contains("- omg-tool 1.0: not installed"),
        "{}",
        text.stdout
    );

    // Sync puts it back.
    let sync = env.omg(&["env", "sync", "--file", file, "--noconfirm"]);
    ok(&sync);
    assert!(
        root.installed()
            .contains(&("omg-tool".into(), "1.0".into())),
        "{:?}",
        root.installed()
    );
    let current = std::fs::read_link(env.data_dir().join("versions/go/current")).unwrap();
    assert_eq!(current, std::path::Path::new("1.22.3"));
    ok(&env.omg(&["env", "check", "--file", file]));
    assert!(!drift_flag(&env));

    // A hand edit of the lock is named.
    let edited = std::fs::read_to_string(&lockfile)
        .unwrap()
        .replace("\"1.0\"", "\"1.1\"");
    std::fs::write(&lockfile, edited).unwrap();
    let tampered = env.omg(&["env", "check", "--file", file]);
    assert_eq!(tampered.code, 1);
    assert!(
        tampered.stdout.contains("fingerprint"),
        "{}",
        tampered.stdout
    );
}
