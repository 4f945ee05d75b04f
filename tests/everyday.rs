//! The everyday questions — `omg why`, `omg size`, `omg blame` — on a
//! temporary Arch root and a temporary Debian root, checked against what
//! pacman and dpkg say about the same state.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::deb::DebRoot;
use common::{Env, Run};

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "omg failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

const SPECS: &[Spec] = &[
    Spec {
        depends: &["libmid-arch"],
        ..Spec::new("app-arch", "1.0-1", "an application")
    },
    Spec {
        depends: &["libbase-arch"],
        ..Spec::new("libmid-arch", "1.0-1", "a library")
    },
    Spec::new("libbase-arch", "1.0-1", "a base library"),
    Spec {
        depends: &["libbase-arch"],
        ..Spec::new("tool-arch", "1.0-1", "a tool")
    },
];

fn arch() -> (ArchRoot, Env) {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "app-arch"]));
    ok(&env.omg(&["install", "--noconfirm", "tool-arch"]));
    (root, env)
}

/// `%SIZE%` of an installed package, from the local database pacman reads.
fn pacman_size(root: &ArchRoot, name: &str) -> u64 {
    let local = root.path("root/var/lib/pacman/local");
    let dir = std::fs::read_dir(local)
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix(name)
                .is_some_and(|r| r.starts_with("-1"))
        })
        .unwrap();
    let desc = std::fs::read_to_string(dir.path().join("desc")).unwrap();
    let mut lines = desc.lines();
    lines.find(|l| *l == "%SIZE%").unwrap();
    lines.next().unwrap().parse().unwrap()
}

/// pacman's "Required By" of an installed package.
fn required_by(root: &ArchRoot, name: &str) -> BTreeSet<String> {
    let info = root.pacman_query(&["-Qi", name]);
    let line = info.lines().find(|l| l.starts_with("Required By")).unwrap();
    line.split_once(':')
        .unwrap()
        .1
        .split_whitespace()
        .filter(|w| *w != "None")
        .map(str::to_string)
        .collect()
}

#[test]
fn arch_why_follows_the_chain_pacman_records() {
    let (root, env) = arch();
    let why = env.json(&["why", "libbase-arch", "--json"]);
    assert_eq!(why["explicit"], false);
    assert_eq!(
        why["chains"],
        serde_json::json!([
            ["tool-arch", "libbase-arch"],
            ["app-arch", "libmid-arch", "libbase-arch"]
        ])
    );
    // The reverse tree's first level is pacman's "Required By".
    let tree = env.json(&["why", "--reverse", "libbase-arch", "--json"]);
    let direct: BTreeSet<String> = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(direct, required_by(&root, "libbase-arch"));
    let text = env.omg(&["why", "libmid-arch"]);
    ok(&text);
    assert!(
        text.stdout.contains("app-arch → libmid-arch"),
        "{}",
        text.stdout
    );

    // Take app-arch away alone: libmid-arch is an orphan, as pacman -Qdt says.
    root.pacman(&["-R", "--noconfirm", "app-arch"]);
    assert_eq!(root.pacman_query(&["-Qdtq"]).trim(), "libmid-arch");
    let orphan = env.omg(&["why", "libmid-arch"]);
    assert!(orphan.stdout.contains("an orphan"), "{}", orphan.stdout);
    assert_eq!(env.omg(&["why", "ghost-arch"]).code, 1);
}

#[test]
fn arch_sizes_are_the_database_s_and_removal_frees_what_only_it_needs() {
    let (root, env) = arch();
    let list = env.json(&["size", "--json", "--limit", "10"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        let name = row["name"].as_str().unwrap();
        assert_eq!(
            row["size"].as_u64().unwrap(),
            pacman_size(&root, name),
            "{name}"
        );
    }
    // Removing app-arch takes libmid-arch; libbase-arch stays for tool-arch
    // (as pacman -Rs would).
    let tree = env.json(&["size", "--tree", "app-arch", "--json"]);
    assert_eq!(
        tree["removal"]["packages"],
        serde_json::json!(["app-arch", "libmid-arch"])
    );
    assert_eq!(
        tree["removal"]["freed"].as_u64().unwrap(),
        pacman_size(&root, "app-arch") + pacman_size(&root, "libmid-arch")
    );
    let planned = root.pacman_query(&["-Rs", "--print", "--print-format", "%n", "app-arch"]);
    let planned: BTreeSet<&str> = planned.lines().collect();
    assert_eq!(planned, BTreeSet::from(["app-arch", "libmid-arch"]));
    assert_eq!(tree["tree"]["children"][0]["name"], "libmid-arch");
}

#[test]
fn arch_blame_names_the_transaction_and_the_reason() {
    let (_root, env) = arch();
    let blame = env.json(&["blame", "libmid-arch", "--json"]);
    let events = blame["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["command"], "install app-arch");
    assert_eq!(events[0]["as_dependency"], true);
    assert_eq!(events[0]["with"], serde_json::json!(["app-arch"]));
    let text = env.omg(&["blame", "libmid-arch"]);
    ok(&text);
    assert!(
        text.stdout.contains("as a dependency of app-arch"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("`omg install app-arch`"),
        "{}",
        text.stdout
    );
    let explicit = env.omg(&["blame", "tool-arch"]);
    assert!(
        explicit.stdout.contains("on request"),
        "{}",
        explicit.stdout
    );
    // The lockfile names the repository each explicit package comes from.
    let lock = env.dir.path().join("omg.lock");
    ok(&env.omg(&["env", "capture", "--file", lock.to_str().unwrap()]));
    let lock: toml::Table = toml::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    let packages: Vec<(&str, &str)> = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        packages,
        [("app-arch", "omgtest"), ("tool-arch", "omgtest")]
    );
}

fn debian() -> (DebRoot, Env) {
    let root = DebRoot::new();
    root.add("omg-base", "1.0", "");
    root.add("omg-lib", "1.0", "Depends: omg-base\n");
    root.add("omg-app", "1.0", "Depends: omg-lib\nRecommends: omg-docs\n");
    root.add("omg-docs", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    ok(&env.omg(&["install", "omg-app", "--noconfirm"]));
    (root, env)
}

#[test]
fn debian_why_size_and_blame_agree_with_dpkg() {
    let (root, env) = debian();
    let why = env.json(&["why", "omg-base", "--json"]);
    assert_eq!(
        why["chains"],
        serde_json::json!([["omg-app", "omg-lib", "omg-base"]])
    );
    // The graph was read with the index: the next answer needs no
    // database (omgd-lite answers from the snapshot and the stored graph).
    let again = env.omg(&["-v", "why", "omg-base"]);
    ok(&again);
    assert!(again.stdout.contains("omg-app"), "{}", again.stdout);
    assert!(again.stderr.contains("omgd-lite"), "{}", again.stderr);
    assert!(
        !again.stderr.contains("needs the database"),
        "{}",
        again.stderr
    );
    // Recommends keep a package too (as apt's autoremove counts them).
    let docs = env.json(&["why", "omg-docs", "--json"]);
    assert_eq!(docs["weak"], true, "{docs}");
    assert_eq!(docs["chains"], serde_json::json!([["omg-app", "omg-docs"]]));
    // apt-cache agrees on what depends on omg-lib.
    let rdepends =
        common::system_with(
            root.apt("apt-cache")
                .args(["rdepends", "--installed", "omg-lib"]),
        );
    assert!(rdepends.contains("omg-app"), "{rdepends}");

    let sizes = env.json(&["size", "--json"]);
    for row in sizes.as_array().unwrap() {
        let name = row["name"].as_str().unwrap();
        let kib = common::system_with(
            std::process::Command::new("dpkg-query")
                .arg(format!(
                    "--admindir={}",
                    root.path("var/lib/dpkg").display()
                ))
                .args(["-W", "-f", "${Installed-Size}", name]),
        );
        let kib: u64 = kib.trim().parse().unwrap_or(0);
        assert_eq!(row["size"].as_u64().unwrap(), kib * 1024, "{name}");
    }
    let tree = env.json(&["size", "--tree", "omg-app", "--json"]);
    let removal: BTreeSet<String> = tree["removal"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    // What apt's autoremove would take after removing omg-app.
    let simulated =
        common::system_with(
            root.apt("apt-get")
                .args(["-s", "--autoremove", "remove", "omg-app"]),
        );
    let apt_removes: BTreeSet<String> = simulated
        .lines()
        .filter_map(|l| l.strip_prefix("Remv "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert_eq!(removal, apt_removes);

    let blame = env.omg(&["blame", "omg-base"]);
    ok(&blame);
    assert!(
        blame.stdout.contains("as a dependency of omg-app"),
        "{}",
        blame.stdout
    );
}

#[test]
fn arch_pins_keep_upgrades_back_as_ignorepkg_does() {
    let root = ArchRoot::new(&[
        Spec::new("held-arch", "1.0-1", "held"),
        Spec::new("lined-arch", "1.0-1", "pinned to a line"),
        Spec::new("free-arch", "1.0-1", "not pinned"),
    ]);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    ok(&env.omg(&[
        "install",
        "--noconfirm",
        "held-arch",
        "lined-arch",
        "free-arch",
    ]));
    ok(&env.omg(&["pin", "held-arch"]));
    let lined = env.omg(&["pin", "lined-arch@1"]);
    ok(&lined);
    assert!(
        lined.stdout.contains("lined-arch is pinned to 1"),
        "{}",
        lined.stdout
    );
    assert_eq!(
        env.json(&["pin", "--list", "--json"]),
        serde_json::json!({"held-arch": "*", "lined-arch": "1"})
    );
    root.publish(&[
        Spec::new("held-arch", "1.1-1", "held"),
        Spec::new("lined-arch", "1.5-1", "pinned to a line"),
        Spec::new("free-arch", "2.0-1", "not pinned"),
    ]);
    ok(&env.omg(&["sync"]));
    let run = env.omg(&["outdated", "--json"]);
    assert_eq!(run.code, 100, "{}", run.stderr);
    let outdated: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let pinned: Vec<&str> = outdated["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["pinned"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(pinned, ["held-arch"]);
    let up = env.omg(&["upgrade", "--noconfirm"]);
    ok(&up);
    let q = root.pacman_query(&["-Q"]);
    assert!(q.contains("held-arch 1.0-1"), "{q}");
    assert!(q.contains("lined-arch 1.5-1"), "{q}");
    assert!(q.contains("free-arch 2.0-1"), "{q}");
    // Out of its line: held back too.
    root.publish(&[Spec::new("lined-arch", "2.0-1", "pinned to a line")]);
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(root.pacman_query(&["-Q", "lined-arch"]).contains("1.5-1"));
    // Unpinned, it moves.
    ok(&env.omg(&["pin", "--unpin", "held-arch"]));
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(root.pacman_query(&["-Q", "held-arch"]).contains("1.1-1"));
    assert_eq!(
        env.json(&["pin", "--list", "--json"]),
        serde_json::json!({"lined-arch": "1"})
    );
}

#[test]
fn debian_pins_are_dpkg_holds_that_apt_honours_too() {
    let root = DebRoot::new();
    root.add("held-deb", "1.0", "");
    root.add("lined-deb", "1.0", "");
    root.add("free-deb", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    ok(&env.omg(&[
        "install",
        "held-deb",
        "lined-deb",
        "free-deb",
        "--noconfirm",
    ]));
    ok(&env.omg(&["pin", "held-deb"]));
    ok(&env.omg(&["pin", "lined-deb@1"]));
    let selections = common::system_with(
        std::process::Command::new("dpkg")
            .arg(format!(
                "--admindir={}",
                root.path("var/lib/dpkg").display()
            ))
            .arg("--get-selections"),
    );
    assert!(
        selections
            .lines()
            .any(|l| l.starts_with("held-deb") && l.ends_with("hold")),
        "{selections}"
    );
    root.add("held-deb", "1.1", "");
    root.add("lined-deb", "1.5", "");
    root.add("free-deb", "2.0", "");
    root.publish();
    root.update();
    // apt itself keeps the held packages back.
    let apt = common::system_with(root.apt("apt-get").args(["-s", "upgrade"]));
    assert!(apt.contains("kept back"), "{apt}");
    assert!(!apt.contains("Inst held-deb"), "{apt}");
    // omg upgrades the line-pinned one within its line.
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    let installed = root.installed();
    let held = || {
        common::system_with(
            std::process::Command::new("dpkg-query")
                .arg(format!(
                    "--admindir={}",
                    root.path("var/lib/dpkg").display()
                ))
                .args(["-W", "-f", "${db:Status-Abbrev}${Version}", "held-deb"]),
        )
    };
    // dpkg lists a held package as "hi".
    assert_eq!(held().trim(), "hi 1.0");
    assert!(
        installed.contains(&("lined-deb".into(), "1.5".into())),
        "{installed:?}"
    );
    assert!(
        installed.contains(&("free-deb".into(), "2.0".into())),
        "{installed:?}"
    );
    ok(&env.omg(&["pin", "--unpin", "held-deb"]));
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert_eq!(held().trim(), "ii 1.1");
}

fn cache_files(dir: &std::path::Path, ext: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(ext))
        .collect()
}

#[test]
fn arch_clean_removes_orphans_old_package_files_and_aur_leftovers() {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "app-arch", "tool-arch"]));
    for version in ["1.1-1", "1.2-1"] {
        root.publish(&[Spec {
            depends: &["libbase-arch"],
            ..Spec::new("tool-arch", version, "a tool")
        }]);
        ok(&env.omg(&["upgrade", "--noconfirm"]));
    }
    let cache = root.path("root/var/cache/pacman/pkg");
    let tools = |files: &BTreeSet<String>| -> Vec<String> {
        files
            .iter()
            .filter(|f| f.starts_with("tool-arch-"))
            .cloned()
            .collect()
    };
    assert_eq!(tools(&cache_files(&cache, ".zst")).len(), 3);

    // The cache keeps the newest (the installed one) and nothing else.
    let dry = env.json(&["clean", "--cache", "--keep", "1", "--dry-run", "--json"]);
    assert_eq!(
        dry["cache"]["cleaned"].as_array().unwrap().len(),
        2,
        "{dry}"
    );
    assert_eq!(
        tools(&cache_files(&cache, ".zst")).len(),
        3,
        "a dry run removes nothing"
    );
    ok(&env.omg(&["clean", "--cache", "--keep", "1", "--noconfirm"]));
    assert_eq!(
        tools(&cache_files(&cache, ".zst")),
        ["tool-arch-1.2-1-any.pkg.tar.zst"]
    );
    // Other packages' single versions stay.
    assert!(
        cache_files(&cache, ".zst")
            .iter()
            .any(|f| f.starts_with("app-arch-1.0-1"))
    );

    // An orphan, as pacman -Qdt says, goes with what only it needed.
    root.pacman(&["-R", "--noconfirm", "app-arch"]);
    assert_eq!(root.pacman_query(&["-Qdtq"]).trim(), "libmid-arch");
    ok(&env.omg(&["clean", "--orphans", "--noconfirm"]));
    assert_eq!(root.pacman_query(&["-Qdtq"]).trim(), "");
    let q = root.pacman_query(&["-Qq"]);
    assert!(!q.contains("libmid-arch"), "{q}");
    assert!(q.contains("libbase-arch"), "tool-arch still needs it: {q}");

    // AUR build directories: a base nothing installed comes from goes.
    let aur = env.dir.path().join("cache/aur/old-tool");
    std::fs::create_dir_all(&aur).unwrap();
    std::fs::write(
        aur.join(".SRCINFO"),
        "pkgbase = old-tool\n\npkgname = old-tool\n",
    )
    .unwrap();
    let run = env.omg(&["clean", "--aur"]);
    ok(&run);
    assert!(
        run.stdout.contains("AUR builds: removed 1"),
        "{}",
        run.stdout
    );
    assert!(!aur.exists());
}

#[test]
fn debian_clean_prunes_the_archive_cache_and_autoremoves_orphans() {
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib\n");
    root.publish();
    let server = root.serve_over_http();
    let env = root.env();
    ok(&env.omg(&["install", "omg-app", "--noconfirm"]));
    root.add("omg-lib", "2.0", "");
    root.publish();
    for file in ["Packages", "omg-lib_2.0_all.deb"] {
        server.put(
            &format!("/./{file}"),
            std::fs::read(root.path(&format!("repo/{file}"))).unwrap(),
        );
    }
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    let archives = root.path("var/cache/apt/archives");
    assert!(cache_files(&archives, ".deb").contains("omg-lib_1.0_all.deb"));
    ok(&env.omg(&["clean", "--cache", "--keep", "1", "--noconfirm"]));
    let left = cache_files(&archives, ".deb");
    assert!(!left.contains("omg-lib_1.0_all.deb"), "{left:?}");
    assert!(left.contains("omg-lib_2.0_all.deb"), "{left:?}");
    assert!(left.contains("omg-app_1.0_all.deb"), "{left:?}");

    // apt-get remove leaves the library behind; omg clean --orphans takes
    // it, and apt then has nothing to autoremove.
    common::system_with(root.apt("apt-get").args(["-y", "-qq", "remove", "omg-app"]));
    ok(&env.omg(&["clean", "--orphans", "--noconfirm"]));
    assert!(root.installed().is_empty(), "{:?}", root.installed());
    let auto = common::system_with(root.apt("apt-get").args(["-s", "autoremove"]));
    assert!(!auto.contains("Remv"), "{auto}");
}

#[test]
fn interactive_search_installs_what_is_chosen() {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    // One match: number 1, then yes to the plan.
    let run = env.omg_with_input(&["search", "-i", "tool-arch"], "1\ny\n");
    ok(&run);
    assert!(
        run.stdout.contains("  1 omgtest/tool-arch 1.0-1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("==> Packages to install"),
        "{}",
        run.stdout
    );
    assert!(root.pacman_query(&["-Qq"]).contains("tool-arch"));

    // Several: the ranked order is the search's; "^1" is all but the first.
    let ranked = env.json(&["search", "lib", "--json"]);
    let names: Vec<String> = ranked["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let run = env.omg_with_input(&["install", "-i", "lib", "--noconfirm"], "^1\n");
    ok(&run);
    let q = root.pacman_query(&["-Qq"]);
    assert!(q.contains(&names[1]), "{q}");
    assert!(!q.contains(&names[0]) || names[0] == "libbase-arch", "{q}");

    // A bad number asks again; nothing chosen changes nothing.
    let run = env.omg_with_input(&["search", "-i", "app-arch"], "7\n\n");
    ok(&run);
    assert!(run.stdout.contains("invalid number: 7"), "{}", run.stdout);
    assert!(run.stdout.contains("nothing chosen"), "{}", run.stdout);
    assert!(!root.pacman_query(&["-Qq"]).contains("app-arch"));
}
