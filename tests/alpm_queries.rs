//! The Arch backend on real packages: built by makepkg, published with
//! repo-add, installed into a temporary root by the real pacman, and read by
//! omgd through libalpm. Every answer is compared with pacman's own.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::{Env, hit_names, names};

const SPECS: &[Spec] = &[
    Spec {
        depends: &["libgreet-arch>=1.0"],
        provides: &["greeter"],
        groups: &["omg-tools"],
        optdepends: &["extra-arch: louder greetings", "docs-arch: manual"],
        ..Spec::new("hello-arch", "1.0-1", "friendly greeter for tests")
    },
    Spec::new("libgreet-arch", "1.0-1", "greeting library"),
    Spec {
        provides: &["greeter"],
        conflicts: &["hello-arch"],
        ..Spec::new("shout-arch", "1.0-1", "a greeter that shouts")
    },
    Spec {
        groups: &["omg-tools"],
        ..Spec::new("extra-arch", "1.0-1", "extras for the greeter")
    },
    Spec {
        replaces: &["oldedit-arch"],
        ..Spec::new("editor-arch", "3.1-2", "small modal text editor")
    },
    Spec::new("lonely-arch", "1.0-1", "a dependency nobody needs"),
];

/// Builds the repository and installs: hello-arch (with its dependency),
/// extra-arch explicitly, lonely-arch as a dependency nothing needs.
fn installed_root() -> ArchRoot {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy", "--noconfirm"]);
    root.pacman(&["-S", "--noconfirm", "hello-arch", "extra-arch"]);
    root.pacman(&["-S", "--noconfirm", "--asdeps", "lonely-arch"]);
    root
}

fn set(lines: &str) -> BTreeSet<String> {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn lists_agree_with_pacman() {
    let root = installed_root();
    let env = root.omg_env();
    let all: BTreeSet<String> = names(&env.json(&["list", "--json"])).into_iter().collect();
    assert_eq!(all, set(&root.pacman_query(&["-Qq"])));
    assert_eq!(all.len(), 4);
    let explicit: BTreeSet<String> = names(&env.json(&["list", "--explicit", "--json"]))
        .into_iter()
        .collect();
    assert_eq!(explicit, set(&root.pacman_query(&["-Qeq"])));
    let orphans: BTreeSet<String> = names(&env.json(&["list", "--orphans", "--json"]))
        .into_iter()
        .collect();
    assert_eq!(orphans, set(&root.pacman_query(&["-Qdtq"])));
    assert_eq!(orphans, BTreeSet::from(["lonely-arch".to_string()]));
    assert!(
        env.json(&["list", "--upgradable", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A new version reaches the repository and the sync database.
    root.publish(&[Spec {
        depends: &["libgreet-arch>=1.0"],
        provides: &["greeter"],
        ..Spec::new("hello-arch", "1.1-1", "friendly greeter for tests")
    }]);
    root.pacman(&["-Sy"]);
    let upgradable = env.json(&["list", "--upgradable", "--json"]);
    assert_eq!(names(&upgradable), ["hello-arch"]);
    assert_eq!(upgradable[0]["version"], "1.0-1");
    assert_eq!(upgradable[0]["candidate_version"], "1.1-1");
    assert_eq!(
        set(&root.pacman_query(&["-Quq"])),
        BTreeSet::from(["hello-arch".to_string()])
    );

    let status = env.json(&["status", "--json"]);
    assert_eq!(status["backend"], "alpm");
    assert_eq!(status["installed"], 4);
    assert_eq!(status["upgradable"], 1);
    assert_eq!(status["orphans"], 1);
}

#[test]
fn search_finds_what_pacman_finds() {
    let root = installed_root();
    let env = root.omg_env();
    for query in ["greet", "arch", "editor"] {
        let pacman: BTreeSet<String> = root
            .pacman_query(&["-Ssq", query])
            .lines()
            .map(str::to_string)
            .collect();
        let results = env.json(&["search", "--json", "--limit", "0", query]);
        let omg: BTreeSet<String> = hit_names(&results).into_iter().collect();
        let missing: Vec<_> = pacman.difference(&omg).collect();
        assert!(missing.is_empty(), "{query}: omg misses {missing:?}");
    }
    // Completion: the names pacman knows that start with the prefix.
    let known = &set(&root.pacman_query(&["-Slq"])) | &set(&root.pacman_query(&["-Qq"]));
    for prefix in ["he", "e", "l", "arch", "zz"] {
        let run = env.omg(&["__complete", prefix]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let expected: Vec<&str> = known
            .iter()
            .filter(|n| n.starts_with(prefix))
            .map(String::as_str)
            .collect();
        assert_eq!(run.stdout.lines().collect::<Vec<_>>(), expected, "{prefix}");
    }
    assert_eq!(
        env.omg(&["__complete", "l"]).stdout,
        "libgreet-arch\nlonely-arch\n"
    );
    let results = env.json(&["search", "--json", "hello-arch"]);
    assert_eq!(results["hits"][0]["name"], "hello-arch");
    assert_eq!(results["hits"][0]["repository"], "omgtest");
    assert_eq!(results["hits"][0]["installed_version"], "1.0-1");
    // Providers are found through what they provide.
    let results = env.json(&["search", "--json", "greeter"]);
    let found = hit_names(&results);
    assert!(found.contains(&"shout-arch".to_string()) && found.contains(&"hello-arch".to_string()));

    // The repositories alone, the database named on the command line: omg
    // answers from the snapshot itself, and finds what pacman finds.
    let conf = root.conf().display().to_string();
    let args = ["--verbose", "--backend", "alpm", "--pacman-conf", &conf];
    let run = env.omg(
        &[
            &args[..],
            &["search", "--repo", "--json", "--limit", "0", "greet"],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("answered from the index snapshot"),
        "{}",
        run.stderr
    );
    let results: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let omg: BTreeSet<String> = hit_names(&results).into_iter().collect();
    let pacman: BTreeSet<String> = root
        .pacman_query(&["-Ssq", "greet"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(omg, pacman);
}

fn field(info: &str, label: &str) -> String {
    let mut value = String::new();
    let mut inside = false;
    for line in info.lines() {
        if let Some((l, v)) = line.split_once(" : ") {
            if inside {
                break;
            }
            if l.trim() == label {
                inside = true;
                value = v.trim().to_string();
            }
        } else if inside {
            value.push(' ');
            value.push_str(line.trim());
        }
    }
    value
}

fn words(value: &str) -> Vec<String> {
    if value == "None" {
        Vec::new()
    } else {
        value.split_whitespace().map(str::to_string).collect()
    }
}

#[test]
fn info_agrees_with_pacman() {
    let root = installed_root();
    let env = root.omg_env();
    let si = root.pacman(&["-Si", "hello-arch"]);
    let qi = root.pacman(&["-Qi", "hello-arch"]);
    let info = &env.json(&["info", "--json", "hello-arch"])[0];
    assert_eq!(info["version"], field(&si, "Version"));
    assert_eq!(info["summary"], field(&si, "Description"));
    assert_eq!(info["homepage"], field(&si, "URL"));
    assert_eq!(info["repository"], field(&si, "Repository"));
    assert_eq!(info["architecture"], field(&si, "Architecture"));
    assert_eq!(info["packager"], field(&si, "Packager"));
    assert_eq!(
        info["licenses"],
        serde_json::json!(words(&field(&si, "Licenses")))
    );
    assert_eq!(
        info["groups"],
        serde_json::json!(words(&field(&si, "Groups")))
    );
    assert_eq!(
        info["provides"],
        serde_json::json!(words(&field(&si, "Provides")))
    );
    assert_eq!(
        info["depends"],
        serde_json::json!(words(&field(&si, "Depends On")))
    );
    assert_eq!(
        info["conflicts"],
        serde_json::json!(words(&field(&si, "Conflicts With")))
    );
    assert_eq!(info["install_reason"], "explicit");
    assert_eq!(field(&qi, "Install Reason"), "Explicitly installed");
    assert_eq!(
        info["required_by"],
        serde_json::json!(words(&field(&qi, "Required By")))
    );
    let optional: Vec<(String, bool)> = info["optional_depends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["depend"].as_str().unwrap().to_string(),
                o["installed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        optional,
        [
            ("extra-arch: louder greetings".to_string(), true),
            ("docs-arch: manual".to_string(), false)
        ]
    );
    // pacman -Qi marks the installed ones the same way.
    let qi_opt = field(&qi, "Optional Deps");
    assert!(
        qi_opt.contains("extra-arch: louder greetings [installed]")
            && !qi_opt.contains("manual [installed]"),
        "{qi_opt}"
    );
    assert!(info["build_date"].as_u64().unwrap() > 1_600_000_000);
    assert!(info["install_date"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(
        info["validation"],
        serde_json::json!(["sha256"]),
        "pacman -Qi: {}",
        field(&qi, "Validated By")
    );

    let dep = &env.json(&["info", "--json", "libgreet-arch"])[0];
    assert_eq!(dep["install_reason"], "dependency");
    assert_eq!(dep["required_by"], serde_json::json!(["hello-arch"]));
    let editor = &env.json(&["info", "--json", "omgtest/editor-arch"])[0];
    assert_eq!(editor["replaces"], serde_json::json!(["oldedit-arch"]));
    assert_eq!(editor["installed_version"], serde_json::Value::Null);

    let run = env.omg(&["info", "helo-arch"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("did you mean: hello-arch"),
        "{}",
        run.stderr
    );
    let run = env.omg(&["info", "greeter"]);
    assert!(
        run.stderr
            .contains("virtual package, provided by: hello-arch, shout-arch"),
        "{}",
        run.stderr
    );
}

#[test]
fn command_line_picks_the_backend_and_the_database() {
    let root = installed_root();
    // No config.toml: the flags alone choose.
    let env = Env::new();
    let conf = root.conf().display().to_string();
    let list = env.json(&[
        "--backend",
        "alpm",
        "--pacman-conf",
        &conf,
        "list",
        "--json",
    ]);
    assert_eq!(names(&list).len(), 4);
    // --dbpath wins over pacman.conf's DBPath.
    let empty = root.path("empty-db");
    std::fs::create_dir_all(empty.join("local")).unwrap();
    let list = env.json(&[
        "--backend",
        "alpm",
        "--pacman-conf",
        &conf,
        "--dbpath",
        &empty.display().to_string(),
        "list",
        "--json",
    ]);
    assert!(list.as_array().unwrap().is_empty());
    // A database that is not there is named.
    let run = env.omg(&[
        "--backend",
        "alpm",
        "--pacman-conf",
        &conf,
        "--dbpath",
        "/nonexistent/db",
        "status",
    ]);
    assert_eq!(run.code, 1);
    // libalpm 13 names the database it cannot read (`/nonexistent/db/local`),
    // libalpm 16's build the path it cannot resolve, as pacman 7 does.
    assert!(run.stderr.contains("/nonexistent/db"), "{}", run.stderr);
    // A broken pacman.conf is named with its line.
    let bad = root.path("bad.conf");
    std::fs::write(&bad, "[options]\nSigLevel = Sometimes\n").unwrap();
    let run = env.omg(&[
        "--backend",
        "alpm",
        "--pacman-conf",
        &bad.display().to_string(),
        "status",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bad.conf:2"), "{}", run.stderr);
}

#[test]
fn refresh_counts_updates_from_a_private_copy_of_the_sync_databases() {
    let root = installed_root();
    let env = root.omg_env();
    let refresh = || -> common::Run {
        env.command(*common::OMGD)
            .args(["work", "refresh"])
            .output()
            .unwrap()
            .into()
    };
    let updates = || {
        let bytes = std::fs::read(env.runtime_dir().join("status.bin")).expect("a status file");
        u16::from_le_bytes([bytes[4], bytes[5]])
    };
    let run = refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(updates(), 0);

    // The repository publishes hello-arch 1.1; nobody runs pacman -Sy.
    let sync_db = root.path("root/var/lib/pacman/sync/omgtest.db");
    let before = std::fs::read(&sync_db).unwrap();
    root.publish(&[Spec {
        depends: &["libgreet-arch>=1.0"],
        ..Spec::new("hello-arch", "1.1-1", "friendly greeter for tests")
    }]);
    let run = refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(updates(), 1, "the private copy sees the new version");
    assert_eq!(
        std::fs::read(&sync_db).unwrap(),
        before,
        "the system's sync database is untouched"
    );
    assert!(
        root.pacman_query(&["-Quq"]).trim().is_empty(),
        "pacman itself sees nothing new"
    );
}

#[test]
fn info_text_reads_like_pacman() {
    let root = installed_root();
    let env = root.omg_env();
    let run = env.omg(&["info", "hello-arch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in [
        "Groups           : omg-tools",
        "Licenses         : MIT",
        "Optional Deps    : extra-arch: louder greetings [installed]",
        "                   docs-arch: manual",
        "Depends On       : libgreet-arch>=1.0",
        "Validated By     : sha256",
        "Install Reason   : Explicitly installed",
        "Repository       : omgtest",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in\n{}",
            run.stdout
        );
    }
    assert!(
        !run.stdout.contains("Section"),
        "no Debian fields for Arch packages"
    );
}
