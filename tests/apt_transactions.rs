//! Debian transactions for real: `omg install/remove/upgrade/sync` on a
//! temporary root where libapt-pkg resolves, fetches from a `file:`
//! repository of `.deb` packages built here, and runs dpkg; checked with
//! dpkg-query and apt-mark on the same root.

mod common;

use common::deb::DebRoot;

fn pair(name: &str, version: &str) -> (String, String) {
    (name.to_string(), version.to_string())
}

/// A root whose repository has an application and its library.
fn root() -> DebRoot {
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib (>= 1.0)\n");
    root.add("omg-tool", "1.0", "Provides: omg-editor\n");
    root.add("omg-other", "1.0", "Provides: omg-editor\n");
    root.add("omg-broken", "1.0", "Depends: omg-missing\n");
    root.publish();
    root.update();
    root
}

#[test]
fn install_pulls_dependencies_marks_them_auto_and_remove_purges_them() {
    let root = root();
    let env = root.env();
    let dry = env.omg(&["install", "omg-app", "--dry-run", "--json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let names: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["omg-app", "omg-lib"]);
    assert!(root.installed().is_empty(), "a dry run changes nothing");

    let run = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );
    assert!(root.has_file("usr/share/omg-app/VERSION"));
    assert_eq!(root.auto(), ["omg-lib"], "the dependency is automatic");

    // Again: already there, nothing to do.
    let again = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already the newest version"),
        "{}",
        again.stdout
    );

    // Naming the library makes it manual, as apt does.
    let manual = env.omg(&["install", "omg-lib", "--noconfirm"]);
    assert_eq!(manual.code, 0, "{}", manual.stderr);
    assert!(root.auto().is_empty(), "{:?}", root.auto());
    let auto = env.omg(&["install", "omg-lib", "--asdeps", "--noconfirm"]);
    assert_eq!(auto.code, 0, "{}", auto.stderr);

    // Remove with its unneeded dependencies, and purge.
    let run = env.omg(&["remove", "omg-app", "--recursive", "--purge", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(root.installed().is_empty(), "{:?}", root.installed());
    assert!(!root.has_file("usr/share/omg-app/VERSION"));

    // Every change is in the audit log, chained.
    let log = env.json(&["audit", "log", "--json"]);
    let entries: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("install".to_string(), "omg-app".to_string()),
            ("install".to_string(), "omg-lib".to_string()),
            ("install".to_string(), "omg-lib".to_string()),
            ("remove".to_string(), "omg-app".to_string()),
        ]
    );
    assert_eq!(log[0]["details"]["changes"][1]["name"], "omg-lib");
    assert_eq!(log[0]["details"]["changes"][1]["new"], "1.0");
    assert_eq!(log[0]["user"], "root");
    // The history, newest first, with what each changed.
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
            "remove omg-app",
            "install omg-lib",
            "install omg-lib",
            "install omg-app"
        ]
    );
    let first = env.json(&["history", "show", "1", "--json"]);
    assert_eq!(first["result"], "ok");
    assert_eq!(first["changes"][0]["name"], "omg-app");
    assert_eq!(first["changes"][0]["change"], "install");
    assert_eq!(first["changes"][1]["new"], "1.0");
    let shown = env.omg(&["history", "show", "4"]);
    assert!(
        shown.stdout.contains("remove     omg-lib"),
        "{}",
        shown.stdout
    );
    assert_eq!(env.omg(&["history", "show", "99"]).code, 1);
    let verify = env.omg(&["audit", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("4 entries, chain intact"),
        "{}",
        verify.stdout
    );
    // Someone edits history: verify names the edited line itself.
    let file = env.data_dir().join("audit/audit.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("omg-app", "omg-ap", 1)).unwrap();
    let verify = env.omg(&["audit", "verify"]);
    assert_eq!(verify.code, 1);
    assert!(
        verify.stderr.contains("line 1") && verify.stderr.contains("changed"),
        "{}",
        verify.stderr
    );
    // Someone cuts the newest entries off: the chain that is left is
    // whole, but omg knows what it wrote last.
    let kept: Vec<&str> = text.lines().take(2).collect();
    std::fs::write(&file, format!("{}\n", kept.join("\n"))).unwrap();
    let verify = env.omg(&["audit", "verify"]);
    assert_eq!(verify.code, 1);
    assert!(
        verify.stderr.contains("cut off the end"),
        "{}",
        verify.stderr
    );
}

#[test]
fn upgrade_refreshes_the_lists_and_installs_the_newer_version() {
    let root = root();
    let env = root.env();
    assert_eq!(env.omg(&["install", "omg-app", "--noconfirm"]).code, 0);
    root.add("omg-lib", "2.0", "");
    root.drop_file("omg-lib", "1.0");
    root.publish();
    // Without a refresh the system does not know yet.
    let sync = env.omg(&["sync", "--json"]);
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    let report: serde_json::Value = serde_json::from_str(&sync.stdout).unwrap();
    assert!(
        report["databases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["updated"] == true),
        "{report}"
    );
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("upgrade"), "{}", run.stdout);
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "2.0")]
    );
    assert_eq!(
        root.auto(),
        ["omg-lib"],
        "still automatic after the upgrade"
    );
}

#[test]
fn failures_say_why_and_change_nothing() {
    let root = root();
    let env = root.env();
    let missing = env.omg(&["install", "omg-nothing", "--noconfirm"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("target not found: omg-nothing"),
        "{}",
        missing.stderr
    );

    let broken = env.omg(&["install", "omg-broken", "--noconfirm"]);
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("unable to satisfy dependencies"),
        "{}",
        broken.stderr
    );

    // Declined at the prompt.
    let declined = env.omg_with_input(&["install", "omg-app"], "n\n");
    assert_eq!(declined.code, 1, "{}", declined.stderr);
    assert!(declined.stderr.contains("cancelled"), "{}", declined.stderr);
    assert!(root.installed().is_empty());

    // dpkg's lock held by another program (as apt holds it: fcntl).
    let lock = root.path("var/lib/dpkg/lock-frontend");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import fcntl,sys,time\nf=open(sys.argv[1],'w')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(60)",
        ])
        .arg(&lock)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let locked = env.omg(&["install", "omg-app", "--noconfirm"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(locked.code, 1);
    assert!(locked.stderr.contains("in use"), "{}", locked.stderr);
    assert!(locked.stderr.contains("lock"), "{}", locked.stderr);
    assert!(root.installed().is_empty());

    // And afterwards it works.
    assert_eq!(env.omg(&["install", "omg-app", "--noconfirm"]).code, 0);
}

#[test]
fn virtual_names_pick_a_provider_and_download_only_installs_nothing() {
    let root = root();
    let env = root.env();
    // Two providers: the question is asked; the second (by name) is
    // picked.
    let run = env.omg_with_input(&["install", "omg-editor"], "2\ny\n");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("providers available") || run.stdout.contains("providers available")
    );
    assert_eq!(root.installed(), [pair("omg-tool", "1.0")]);

    // Downloads land in apt's archive cache (from a `file:` repository
    // apt reads them in place, so the repository is served over HTTP).
    let _server = root.serve_over_http();
    let run = env.omg(&["install", "omg-app", "--download-only", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(root.has_file("var/cache/apt/archives/omg-app_1.0_all.deb"));
    assert!(root.has_file("var/cache/apt/archives/omg-lib_1.0_all.deb"));
    assert_eq!(root.installed(), [pair("omg-tool", "1.0")]);

    // A pinned version, `name=version`.
    let run = env.omg(&["install", "omg-other=1.0", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(root.installed().contains(&pair("omg-other", "1.0")));
}

#[test]
fn an_interrupted_dpkg_run_is_finished_before_the_next_transaction() {
    let root = root();
    let env = root.env();
    // dpkg killed after unpacking omg-lib: the package is half done and
    // its journal is still in updates/, so apt refuses to go on.
    let admin = root.path("var/lib/dpkg");
    common::system_with(
        std::process::Command::new("dpkg")
            .arg(format!("--root={}", root.dir.path().display()))
            .arg("--unpack")
            .arg(root.path("repo/omg-lib_1.0_all.deb")),
    );
    let status = std::fs::read_to_string(admin.join("status")).unwrap();
    let stanza = status
        .split("\n\n")
        .find(|s| s.starts_with("Package: omg-lib\n"))
        .unwrap()
        .to_string();
    std::fs::write(admin.join("updates/0000"), format!("{stanza}\n")).unwrap();
    let refused = root
        .apt("apt-get")
        .args(["install", "-y", "omg-app"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("dpkg was interrupted"),
        "apt itself refuses"
    );

    let run = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("dpkg --configure -a"), "{}", run.stdout);
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );
}

#[test]
fn a_dry_run_refreshes_a_private_copy_of_the_lists_and_plans_against_it() {
    let root = root();
    // Over HTTP, so the lists are apt's copies (a file: source is read in
    // place).
    let server = root.serve_over_http();
    let env = root.env();
    // The repository moves on; the system's lists do not know yet.
    root.add("omg-new", "1.0", "");
    root.publish();
    for entry in std::fs::read_dir(root.path("repo")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        server.put(&format!("/./{name}"), std::fs::read(entry.path()).unwrap());
    }
    let lists = root.path("var/lib/apt/lists");
    let before = common::Snapshot::of(&[lists]);
    // Without a refresh the system does not know omg-new.
    let plain = env.omg(&["install", "omg-new", "--dry-run"]);
    assert_eq!(plain.code, 1, "{}", plain.stdout);
    let dry = env.omg(&["install", "omg-new", "--dry-run", "--refresh", "--json"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(!dry.stderr.contains("Permission denied"), "{}", dry.stderr);
    let report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(report["changes"][0]["name"], "omg-new", "{report}");
    let shown = env.omg(&["install", "omg-new", "--dry-run", "--refresh"]);
    assert!(
        format!("{}{}", shown.stdout, shown.stderr).contains("private copy"),
        "{}\n{}",
        shown.stdout,
        shown.stderr
    );
    // The system's lists are as they were, byte for byte and in time.
    before.assert_unchanged();
}

#[test]
fn dpkg_s_own_output_goes_to_the_transaction_log_and_progress_counts_packages() {
    let root = root();
    root.add_with_postinst(
        "omg-failing",
        "1.0",
        "",
        Some("#!/bin/sh\necho 'omg-failing: the postinst gives up' >&2\nexit 3\n"),
    );
    root.publish();
    root.update();
    let env = root.env();
    let run = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = format!("{}{}", run.stdout, run.stderr);
    for raw in [
        "Reading database",
        "Unpacking",
        "Setting up",
        "Selecting previously",
    ] {
        assert!(
            !shown.contains(raw),
            "dpkg's {raw:?} reached the terminal:\n{shown}"
        );
    }
    // Packages are counted: the first and the last of two.
    assert!(shown.contains("(1/2)"), "{shown}");
    assert!(shown.contains("(2/2)"), "{shown}");
    assert!(!shown.contains("(0/"), "{shown}");
    let logs: Vec<std::path::PathBuf> = std::fs::read_dir(env.dir.path().join("cache/logs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("Setting up omg-app"), "{log}");
    assert!(shown.contains(&logs[0].display().to_string()), "{shown}");

    // A failing maintainer script: the error quotes the end of dpkg's
    // output, which says why.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let failed = env.omg(&["install", "omg-failing", "--noconfirm"]);
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("the end of dpkg's output"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("omg-failing") && failed.stderr.contains("postinst"),
        "{}",
        failed.stderr
    );
}
