//! `omg upgrade --all` on Debian: a local repository with a package the
//! recorded Debian security tracker data calls vulnerable (libsope1) and
//! an unrelated update, and an installed Node.js with a newer release in
//! its line on a local mirror (signed checksums). One plan in sections,
//! the fix first; one question; then `omg rollback` takes the packages
//! and the runtime back together. (On Arch, with the AUR too:
//! `aur_install.rs`.)

mod common;

use common::deb::SopeMachine;
use common::node::NodeMirror;
use common::{Env, Run};

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

fn version_of(installed: &[(String, String)], name: &str) -> String {
    installed
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn node_default(env: &Env) -> String {
    std::fs::read_link(env.data_dir().join("versions/node/current"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The Debian machine with `packages` installed and node 20.10.0 from the
/// local mirror as the default.
fn machine_with(packages: &[&str]) -> (SopeMachine, NodeMirror, Env) {
    let machine = SopeMachine::new();
    let node = NodeMirror::with(&["20.10.0"]);
    let env = machine.root.env();
    env.configure(&format!("{}{}", machine.security_config(), node.config()));
    let mut install = vec!["install"];
    install.extend_from_slice(packages);
    install.push("--noconfirm");
    ok(&env.omg(&install));
    ok(&env.omg(&["use", "node", "20.10.0"]));
    (machine, node, env)
}

#[test]
fn debian_upgrade_all_then_one_rollback() {
    let (machine, node, env) = machine_with(&["sogo-app", "other-app"]);
    let root = &machine.root;
    ok(&env.omg(&["audit", "--refresh", "--json"]));
    let before = root.installed();

    root.add("libsope1", "5.8.0-1+deb12u1", "Source: sope\n");
    root.add("other-app", "1.1", "");
    root.publish();
    node.publish("20.11.0");

    // Answered no: nothing changes.
    let run = env.omg_with_input(&["upgrade", "--all"], "n\n");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let plan = &run.stdout;
    let at = |text: &str| {
        plan.find(text)
            .unwrap_or_else(|| panic!("{text} is not in the plan:\n{plan}"))
    };
    assert!(
        at("security") < at("libsope1 5.8.0-1 -> 5.8.0-1+deb12u1"),
        "{plan}"
    );
    assert!(at("CVE-2025-53603") < at("repositories"), "{plan}");
    assert!(at("repositories") < at("other-app 1.0 -> 1.1"), "{plan}");
    assert!(at("runtimes") < at("node 20.10.0 -> 20.11.0"), "{plan}");
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
    assert_eq!(root.installed(), before);
    assert_eq!(node_default(&env), "20.10.0");

    // Yes once: everything, without a second question for the plan.
    let run = env.omg_with_input(&["upgrade", "--all", "--json"], "y\n");
    ok(&run);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    assert_eq!(outcome["committed"], true, "{outcome}");
    assert_eq!(outcome["runtimes"][0]["to"], "20.11.0", "{outcome}");
    assert_eq!(
        outcome["plan"][0]["name"], "libsope1",
        "the fix first: {outcome}"
    );
    let group = outcome["group"].as_str().unwrap().to_string();
    let now = root.installed();
    assert_eq!(version_of(&now, "libsope1"), "5.8.0-1+deb12u1");
    assert_eq!(version_of(&now, "other-app"), "1.1");
    assert_eq!(node_default(&env), "20.11.0");
    assert_eq!(root.auto(), ["libsope1"], "the mark is kept");

    // The history holds the group: the system transaction and the
    // runtime change.
    let history = env.json(&["history", "--json"]);
    let grouped = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["group"] == group.as_str())
        .count();
    assert_eq!(grouped, 2, "{history}");

    let run = env.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert_eq!(root.installed(), before, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(node_default(&env), "20.10.0");
    assert!(!env.data_dir().join("versions/node/20.11.0").exists());
    assert_eq!(root.auto(), ["libsope1"], "still automatic");
}

/// A group whose changes were all runtimes: the rollback has no system
/// transaction to undo (omgd says so by its error kind, not a sentence),
/// says so, and takes the runtime back.
#[test]
fn a_runtimes_only_group_rolls_back_without_a_system_transaction() {
    let (machine, node, env) = machine_with(&["other-app"]);
    let root = &machine.root;
    let before = root.installed();
    node.publish("20.11.0");
    // The histories record whole seconds: the upgrade must be newer than
    // the install for `omg rollback` to pick it.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let run = env.omg_with_input(&["upgrade", "--all", "--json"], "y\n");
    ok(&run);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["runtimes"][0]["to"], "20.11.0", "{outcome}");
    assert_eq!(
        outcome["changes"].as_array().map(Vec::len),
        Some(0),
        "{outcome}"
    );
    let group = outcome["group"].as_str().unwrap().to_string();
    assert_eq!(node_default(&env), "20.11.0");

    let run = env.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stdout
            .contains(&format!("group {group} changed no system package")),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(node_default(&env), "20.10.0");
    assert!(!env.data_dir().join("versions/node/20.11.0").exists());
    assert_eq!(root.installed(), before);
}
