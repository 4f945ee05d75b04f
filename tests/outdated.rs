//! `omg outdated` on a temporary Arch root: repository updates (a minor, a
//! major, and one fixing an advisory of the recorded Arch security tracker
//! list), an AUR package the local AUR stand-in has newer, a VCS package
//! whose git upstream moved on, an installed Node.js with a newer release
//! in its line on a local mirror, and a Node.js version the project asks
//! for that is not installed. Then `omg upgrade --security` applies only
//! the update that fixes something.

mod common;

use std::process::Command;

use common::arch::{ArchRoot, Spec};
use common::aur::FakeAur;
use common::http::FileServer;
use common::{Env, Run};

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "omg failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

/// Builds `spec` with makepkg into its own repository directory and
/// installs the file with pacman -U: a package no repository has (as an
/// AUR build leaves it).
fn install_foreign(root: &ArchRoot, spec: Spec) {
    let name = spec.name;
    let other = ArchRoot::new(&[spec]);
    root.pacman(&[
        "-U",
        "--noconfirm",
        other.package_file(name).to_str().unwrap(),
    ]);
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    common::system_with(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args),
    )
}

struct Machine {
    root: ArchRoot,
    env: Env,
    project: std::path::PathBuf,
    node: FileServer,
    _aur: FakeAur,
    _alsa: FileServer,
}

fn machine() -> Option<Machine> {
    let alsa_json = common::upstream_fixture("alsa/issues-all.vulnerablecode-archlinux.json");
    let alsa = FileServer::start();
    alsa.put("/issues/all.json", alsa_json);

    let root = ArchRoot::new(&[
        Spec::new("hello-arch", "1.0-1", "greeter"),
        Spec::new("lonely-arch", "1.0-1", "alone"),
        // AVG-708 (fixed in 2.6.1-1) affects it.
        Spec::new("wireshark-cli", "2.6.0-1", "network analyzer"),
        Spec::new("steady-arch", "1.0-1", "never changes"),
    ]);
    root.pacman(&["-Sy"]);
    root.pacman(&[
        "-S",
        "--noconfirm",
        "hello-arch",
        "lonely-arch",
        "wireshark-cli",
        "steady-arch",
    ]);
    root.publish(&[
        Spec::new("hello-arch", "1.1-1", "greeter"),
        Spec::new("lonely-arch", "2.0-1", "alone"),
        Spec::new("wireshark-cli", "2.6.1-1", "network analyzer"),
    ]);
    root.pacman(&["-Sy"]);

    // An AUR package, and a VCS one.
    install_foreign(&root, Spec::new("aur-tool", "1.0-1", "from the AUR"));
    install_foreign(
        &root,
        Spec::new("vcs-tool-git", "1.0.r1.gabc-1", "from git"),
    );
    let aur = FakeAur::start();
    aur.add_record(serde_json::json!({
        "Name": "aur-tool", "PackageBase": "aur-tool", "Version": "1.2-1",
        "Description": "from the AUR", "NumVotes": 1, "Popularity": 0.1,
        "OutOfDate": null, "Maintainer": "t", "FirstSubmitted": 1, "LastModified": 1,
        "URLPath": "/cgit/aur.git/snapshot/aur-tool.tar.gz",
    }));
    let mut env = root.omg_env();
    env.aur_url = aur.server.url.clone();

    // The VCS package was built from the first commit; upstream has another.
    let upstream = env.dir.path().join("upstream");
    std::fs::create_dir_all(&upstream).unwrap();
    git(&upstream, &["init", "--quiet"]);
    std::fs::write(upstream.join("a"), "1").unwrap();
    git(&upstream, &["add", "a"]);
    git(&upstream, &["commit", "--quiet", "-m", "one"]);
    let built_from = git(&upstream, &["rev-parse", "HEAD"]).trim().to_string();
    std::fs::write(upstream.join("a"), "2").unwrap();
    git(&upstream, &["commit", "--quiet", "-am", "two"]);
    let devel = env.dir.path().join("cache/aur");
    std::fs::create_dir_all(&devel).unwrap();
    std::fs::write(
        devel.join("devel.json"),
        serde_json::json!({"bases": {"vcs-tool-git": {
            "packages": ["vcs-tool-git"],
            "sources": [[{"url": format!("file://{}", upstream.display()), "reference": "HEAD"}, built_from]]
        }}})
        .to_string(),
    )
    .unwrap();

    // Node.js 20.10.0 installed; the mirror has 20.12.2 and 22.1.0.
    std::fs::create_dir_all(env.data_dir().join("versions/node/20.10.0/bin")).unwrap();
    let node = FileServer::start();
    node.put(
        "/index.json",
        r#"[{"version":"v22.1.0","date":"2024-05-02","files":["linux-x64","linux-arm64"],"lts":false},
            {"version":"v20.12.2","date":"2024-04-10","files":["linux-x64","linux-arm64"],"lts":"Iron"},
            {"version":"v20.10.0","date":"2023-11-22","files":["linux-x64","linux-arm64"],"lts":"Iron"}]"#,
    );
    env.configure(&format!(
        "backend = \"alpm\"\n[security]\nalsa_url = \"{}/issues/all.json\"\n[runtimes]\nnode_mirror = \"{}\"\n",
        alsa.url(),
        node.url()
    ));
    // A project that asks for Node.js 18.
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".nvmrc"), "18\n").unwrap();
    Some(Machine {
        root,
        env,
        project,
        node,
        _aur: aur,
        _alsa: alsa,
    })
}

fn outdated_in(m: &Machine, args: &[&str]) -> Run {
    m.env
        .command(*common::OMG)
        .arg("outdated")
        .args(args)
        .current_dir(&m.project)
        .output()
        .unwrap()
        .into()
}

fn rows(run: &Run) -> Vec<(String, String, String, String)> {
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
                r["available"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(source: &str, name: &str, available: &str, kind: &str) -> (String, String, String, String) {
    (source.into(), name.into(), available.into(), kind.into())
}

#[test]
fn every_kind_of_pending_update_is_one_ranked_table() {
    let Some(m) = machine() else { return };
    ok(&m.env.omg(&["audit", "--refresh", "--json"]));

    // Before any fetch: the repositories and the project are known, the
    // rest says it was not checked.
    let first = outdated_in(&m, &["--json"]);
    assert_eq!(first.code, 100, "{}", first.stderr);
    let names: Vec<String> = rows(&first).into_iter().map(|r| r.1).collect();
    assert!(!names.contains(&"aur-tool".to_string()), "{names:?}");
    let table = outdated_in(&m, &[]);
    assert!(
        table.stderr.contains("the AUR was not checked yet"),
        "{}",
        table.stderr
    );

    // Fetched now: every kind of row, the update fixing a vulnerability
    // first.
    let run = outdated_in(&m, &["--refresh", "--json"]);
    assert_eq!(run.code, 100, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        rows(&run),
        [
            row("repository", "wireshark-cli", "2.6.1-1", "patch"),
            row("repository", "hello-arch", "1.1-1", "minor"),
            row("repository", "lonely-arch", "2.0-1", "major"),
            row("aur", "aur-tool", "1.2-1", "minor"),
            row("devel", "vcs-tool-git", "newer commits", "devel"),
            row("runtime", "node", "20.12.2", "minor"),
            row("project", "node", "18", "missing"),
        ]
    );
    assert_eq!(report["rows"][0]["fixes"][0]["id"], "AVG-708");

    // Asking again uses what was fetched: the mirror is not asked.
    let hits = m.node.server.hits.load(std::sync::atomic::Ordering::SeqCst);
    let again = outdated_in(&m, &["--json"]);
    assert_eq!(rows(&again), rows(&run));
    assert_eq!(
        m.node.server.hits.load(std::sync::atomic::Ordering::SeqCst),
        hits
    );

    // The table, and --security.
    let table = outdated_in(&m, &[]);
    assert_eq!(table.code, 100);
    assert!(table.stdout.contains("AVG-708"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("7 pending updates, 1 fixing known vulnerabilities"),
        "{}",
        table.stdout
    );
    let security = outdated_in(&m, &["--security", "--json"]);
    assert_eq!(
        rows(&security),
        [row("repository", "wireshark-cli", "2.6.1-1", "patch")]
    );

    // The metrics count the same, with pacman.sh's series.
    let metrics = m.env.omg(&["status", "--prometheus"]);
    ok(&metrics);
    let has = |line: &str| {
        assert!(
            metrics.stdout.lines().any(|l| l == line),
            "no {line:?} in\n{}",
            metrics.stdout
        )
    };
    has("pacman_updates_pending 3");
    has("pacman_updates_pending_from_cache 1");
    has("omg_updates_pending{source=\"repository\"} 3");
    has("omg_updates_pending{source=\"aur\"} 1");
    has("omg_updates_pending{source=\"devel\"} 1");
    has("omg_updates_pending{source=\"runtime\"} 1");
    has("omg_security_updates_pending 1");
    assert!(
        metrics
            .stdout
            .lines()
            .any(|l| l.starts_with("omg_update_info{")
                && l.contains("name=\"wireshark-cli\"")
                && l.contains("fixes=\"AVG-708\"")),
        "{}",
        metrics.stdout
    );

    // upgrade --security takes only that one.
    let upgrade = m.env.omg(&["upgrade", "--security", "--noconfirm"]);
    ok(&upgrade);
    let q = m.root.pacman_query(&["-Q"]);
    assert!(q.contains("wireshark-cli 2.6.1-1"), "{q}");
    assert!(q.contains("hello-arch 1.0-1"), "{q}");
    assert!(q.contains("lonely-arch 1.0-1"), "{q}");
    // Installed explicitly before, explicitly after.
    assert!(m.root.pacman_query(&["-Qeq"]).contains("wireshark-cli"));
    let security = outdated_in(&m, &["--security", "--json"]);
    assert_eq!(security.code, 0, "{}", security.stdout);
    assert!(rows(&security).is_empty());
}

#[test]
fn nothing_pending_exits_zero() {
    let root = ArchRoot::new(&[Spec::new("steady-arch", "1.0-1", "never changes")]);
    root.pacman(&["-Sy"]);
    root.pacman(&["-S", "--noconfirm", "steady-arch"]);
    let env = root.omg_env();
    let run = env.omg(&["outdated"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("everything is up to date"),
        "{}",
        run.stdout
    );
}

#[test]
fn debian_security_upgrades_keep_the_automatic_mark() {
    // libsope1 comes in as a dependency.
    let machine = common::deb::SopeMachine::new();
    let root = &machine.root;
    let env = root.env();
    env.configure(&machine.security_config());
    ok(&env.omg(&["install", "sogo-app", "other-app", "--noconfirm"]));
    assert_eq!(root.auto(), ["libsope1"]);
    ok(&env.omg(&["audit", "--refresh", "--json"]));
    // The fix and an unrelated update are published.
    root.add("libsope1", "5.8.0-1+deb12u1", "Source: sope\n");
    root.add("other-app", "1.1", "");
    root.publish();

    let run = env.omg(&["upgrade", "--security", "--noconfirm"]);
    ok(&run);
    assert!(run.stdout.contains("CVE-2025-53603"), "{}", run.stdout);
    let installed = root.installed();
    assert!(
        installed.contains(&("libsope1".to_string(), "5.8.0-1+deb12u1".to_string())),
        "{installed:?}"
    );
    assert!(
        installed.contains(&("other-app".to_string(), "1.0".to_string())),
        "only the fix: {installed:?}"
    );
    assert_eq!(root.auto(), ["libsope1"], "still automatic");
    // What is left pends, and fixes nothing.
    let left = env.omg(&["outdated", "--json"]);
    assert_eq!(left.code, 100);
    assert_eq!(
        rows(&left),
        [row("repository", "other-app", "1.1", "minor")]
    );
}
