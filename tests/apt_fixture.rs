//! The Debian backend on a miniature apt system in a temporary root (see
//! tests/fixtures/README.md), read through the real libapt-pkg. Cases a
//! machine's own database may not have: orphans, upgrades, local-only and
//! half-removed packages, virtual names.

mod common;

use common::{AptRoot, Env, hit_names, names, system_with};

#[test]
fn list_filters_match_apt() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);

    let all = env.json(&["list", "--json"]);
    assert_eq!(
        names(&all),
        ["base-omg", "hello-omg", "leftover-omg", "localtool-omg"],
        "config-files-only packages are not installed"
    );

    let explicit = names(&env.json(&["list", "--explicit", "--json"]));
    let mut showmanual: Vec<String> = system_with(root.apt("apt-mark").arg("showmanual"))
        .lines()
        .map(str::to_string)
        .collect();
    showmanual.sort();
    assert_eq!(explicit, showmanual);
    assert_eq!(explicit, ["hello-omg", "localtool-omg"]);

    let upgradable = env.json(&["list", "--upgradable", "--json"]);
    assert_eq!(names(&upgradable), ["hello-omg"]);
    assert_eq!(upgradable[0]["version"], "1.0-1");
    assert_eq!(upgradable[0]["candidate_version"], "2.0-1");
    assert_eq!(upgradable[0]["repository"], "omgtest");

    let orphans = names(&env.json(&["list", "--orphans", "--json"]));
    let removable: Vec<String> = system_with(root.apt("apt-get").args(["-s", "autoremove"]))
        .lines()
        .filter_map(|l| l.strip_prefix("Remv "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(orphans, removable);
    assert_eq!(orphans, ["leftover-omg"]);

    // Piped text output: `name version`, as pacman -Q prints.
    let text = env.omg(&["list"]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.lines().any(|l| l == "hello-omg 1.0-1"),
        "{}",
        text.stdout
    );
    let text = env.omg(&["list", "--upgradable"]);
    assert_eq!(text.stdout.trim(), "hello-omg 1.0-1 -> 2.0-1");
}

#[test]
fn info_shows_every_field() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let info = env.json(&["info", "hello-omg", "--json"]);
    let info = &info[0];
    assert_eq!(info["name"], "hello-omg");
    assert_eq!(info["version"], "2.0-1");
    assert_eq!(info["installed_version"], "1.0-1");
    assert_eq!(info["candidate_version"], "2.0-1");
    assert_eq!(info["upgradable"], true);
    assert_eq!(info["install_reason"], "explicit");
    assert_eq!(info["repository"], "omgtest");
    assert_eq!(info["architecture"], "amd64");
    assert_eq!(info["section"], "misc");
    assert_eq!(info["priority"], "optional");
    assert_eq!(info["download_size"], 4242);
    assert_eq!(info["installed_size"], 120 * 1024);
    assert_eq!(info["maintainer"], "Test Maintainer <test@example.org>");
    assert_eq!(info["homepage"], "https://example.org/hello");
    assert_eq!(info["summary"], "friendly greeter for tests");
    assert_eq!(
        info["description"],
        "The greeter prints a friendly message.\n\nIt has two paragraphs."
    );
    assert_eq!(
        info["depends"],
        serde_json::json!(["base-omg (>= 1.0)", "libfoo-omg | libbar-omg"])
    );
    assert_eq!(info["pre_depends"], serde_json::json!(["prebase-omg"]));
    assert_eq!(info["recommends"], serde_json::json!(["extra-omg"]));
    assert_eq!(info["suggests"], serde_json::json!(["docs-omg"]));
    assert_eq!(info["provides"], serde_json::json!(["greeter"]));
    let versions: Vec<&str> = info["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2.0-1", "1.0-1"], "newest first");

    let editor = env.json(&["info", "editor-omg", "--json"]);
    let editor = &editor[0];
    assert_eq!(editor["installed_version"], serde_json::Value::Null);
    assert_eq!(editor["install_reason"], serde_json::Value::Null);
    assert_eq!(editor["conflicts"], serde_json::json!(["editor-old"]));
    assert_eq!(editor["breaks"], serde_json::json!(["hello-omg (<< 1.0)"]));
    assert_eq!(editor["replaces"], serde_json::json!(["editor-old"]));
    assert_eq!(editor["description"], "Edits text.");

    let local = env.json(&["info", "localtool-omg", "--json"]);
    assert_eq!(local[0]["repository"], "local");
    assert_eq!(local[0]["description"], "Only dpkg knows it.");
    let base = env.json(&["info", "base-omg", "--json"]);
    assert_eq!(base[0]["install_reason"], "dependency");

    // The same request again is answered from the store, identically.
    let again = env.json(&["info", "hello-omg", "--json"]);
    assert_eq!(again[0], *info);

    // Text output carries the same facts.
    let text = env.omg(&["info", "hello-omg"]);
    assert_eq!(text.code, 0);
    for expected in [
        "Name             : hello-omg",
        "Installed        : 1.0-1 (upgradable to 2.0-1)",
        "Install Reason   : Explicitly installed",
        "Download Size    : 4.14 KiB",
        "Depends On       : base-omg (>= 1.0)  libfoo-omg | libbar-omg",
    ] {
        assert!(
            text.stdout.contains(expected),
            "missing {expected:?} in\n{}",
            text.stdout
        );
    }
}

#[test]
fn unknown_and_virtual_names() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);

    let run = env.omg(&["info", "helo-omg"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no package named helo-omg"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean: hello-omg"),
        "{}",
        run.stderr
    );

    let run = env.omg(&["info", "greeter"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("greeter is a virtual package, provided by: greeter-alt, hello-omg"),
        "{}",
        run.stderr
    );

    // One bad name among good ones: the good ones are still shown.
    let run = env.omg(&["info", "--json", "base-omg", "nope-omg"]);
    assert_eq!(run.code, 1);
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(names(&shown), ["base-omg"]);
}

#[test]
fn search_ranks_tiers_and_filters() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);

    let results = env.json(&["search", "--json", "greeter"]);
    let hits = results["hits"].as_array().unwrap();
    // greeter-alt by name (prefix), then hello-omg through its provides.
    assert_eq!(hit_names(&results), ["greeter-alt", "hello-omg"]);
    assert_eq!(hits[0]["matched"], "prefix");
    assert_eq!(hits[1]["matched"], "provides");
    assert_eq!(hits[1]["installed_version"], "1.0-1");
    assert_eq!(hits[1]["version"], "2.0-1");

    let results = env.json(&["search", "--json", "text", "editor"]);
    assert_eq!(hit_names(&results), ["editor-omg"]);
    assert_eq!(results["hits"][0]["matched"], "description");

    let results = env.json(&["search", "--json", "--installed", "omg"]);
    let mut installed = hit_names(&results);
    installed.sort();
    assert_eq!(
        installed,
        ["base-omg", "hello-omg", "leftover-omg", "localtool-omg"]
    );

    let results = env.json(&["search", "--json", "--limit", "1", "omg"]);
    assert_eq!(results["hits"].as_array().unwrap().len(), 1);
    assert_eq!(
        results["total"], 5,
        "removed-omg (config files only) is not offered"
    );

    let run = env.omg(&["search", "zzzqqq"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no packages match"), "{}", run.stderr);
}

#[test]
fn status_counts() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let status = env.json(&["status", "--json"]);
    assert_eq!(status["backend"], "apt");
    assert_eq!(status["installed"], 4);
    assert_eq!(status["explicit"], 2);
    assert_eq!(status["upgradable"], 1);
    assert_eq!(status["orphans"], 1);
    assert_eq!(status["available"], 4);
    assert!(status["last_refresh"].as_u64().is_some(), "{status}");

    let text = env.omg(&["status"]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout
            .contains("4 installed (2 explicit), 4 available"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Upgradable   : 1"), "{}", text.stdout);

    // The status file for prompts carries the update count.
    let bytes = std::fs::read(env.runtime_dir().join("status.bin")).expect("status file");
    assert_eq!(bytes.len(), 20);
    assert_eq!(&bytes[..4], b"OMG\x02");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 1);
}

#[test]
fn unreadable_package_database_names_the_file() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let status = root.path("var/lib/dpkg/status");
    std::fs::remove_file(&status).unwrap();
    let run = env.omg(&["search", "hello"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&format!("cannot read {}", status.display())),
        "{}",
        run.stderr
    );
}
