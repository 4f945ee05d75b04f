//! policy.toml on a temporary Debian root: a rule refuses an install and
//! says which rule in which file, `--override-policy` installs anyway and
//! the audit log records it, `omg policy check` lists what breaks a rule,
//! and a malformed policy is an error naming its line.

mod common;

use common::deb::DebRoot;

#[test]
fn the_policy_refuses_names_its_rule_and_can_be_overridden() {
    let root = DebRoot::new();
    root.add("omg-tool", "1.0", "");
    root.add("omg-app", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let policy = env.config_dir().join("policy.toml");
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(&policy, "blocked_packages = [\"omg-too*\"]\n").unwrap();

    let refused = env.omg(&["install", "omg-tool", "--noconfirm"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("blocked_packages"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&policy.display().to_string()),
        "{}",
        refused.stderr
    );
    assert!(root.installed().is_empty());
    // Other packages are fine.
    let fine = env.omg(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(fine.code, 0, "{}", fine.stderr);
    // Its grade is shown before the plan: the fixture's source is
    // `[trusted=yes]`, which apt trusts but no signature verified.
    let all = format!("{}{}", fine.stdout, fine.stderr);
    assert!(
        all.contains(
            "security: omg-app is COMMUNITY (from a repository whose packages are not signed)"
        ),
        "{all}"
    );
    let info = env.json(&["info", "omg-app", "--json"]);
    let info = if info.is_array() { &info[0] } else { &info };
    assert_eq!(info["grade"], "community", "{info}");

    let forced = env.omg(&["install", "omg-tool", "--override-policy", "--noconfirm"]);
    assert_eq!(forced.code, 0, "{}\n{}", forced.stdout, forced.stderr);
    assert!(root.installed().iter().any(|(n, _)| n == "omg-tool"));
    let log = env.json(&["audit", "log", "--json"]);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "policy-override" && e["subject"] == "omg-tool"),
        "{log}"
    );

    // Installed packages against the policy.
    let check = env.omg(&["policy", "check", "--json"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let found: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["package"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["omg-tool"]);

    // A grade no distribution package reaches.
    std::fs::write(&policy, "minimum_grade = \"locked\"\n").unwrap();
    root.add("omg-new", "1.0", "");
    root.publish();
    root.update();
    let refused = env.omg(&["install", "omg-new", "--noconfirm"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("minimum_grade"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("below the required LOCKED"),
        "{}",
        refused.stderr
    );

    // A malformed policy stops installs with its line and field.
    std::fs::write(&policy, "allow_aur = false\nmax_severity = \"dire\"\n").unwrap();
    let broken = env.omg(&["install", "omg-new", "--noconfirm"]);
    assert_eq!(broken.code, 1);
    assert!(broken.stderr.contains("line 2"), "{}", broken.stderr);
    assert!(broken.stderr.contains("dire"), "{}", broken.stderr);
}
