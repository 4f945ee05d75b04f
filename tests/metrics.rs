//! The Prometheus metrics: the refresh and scan workers write `omg.prom`
//! into `[metrics] textfile_dir`, `promtool check metrics` (Debian's
//! prometheus) accepts it, and its numbers are those `omg outdated
//! --json`, `omg audit --json` and `omg env check --json` give; `omg
//! status --prometheus` prints the same. A Debian root with a package the
//! recorded Debian security tracker data says is vulnerable.

mod common;

use std::collections::BTreeMap;

use common::Run;

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// `name{labels}` → value, for every sample of the text.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

/// The sum of every sample of `name` whose labels contain all of `with`.
fn sum(samples: &BTreeMap<String, f64>, name: &str, with: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series.split('{').next() == Some(name) && with.iter().all(|w| series.contains(w))
        })
        .map(|(_, v)| v)
        .sum()
}

fn promtool_accepts(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_workers_write_what_outdated_audit_and_env_check_say() {
    let promtool = std::process::Command::new("promtool")
        .arg("--version")
        .output();
    if promtool.is_err() {
        return common::skip_test("promtool (Debian's prometheus package) is not installed");
    }
    let machine = common::deb::SopeMachine::new();
    let root = &machine.root;
    let env = root.env();
    let textfiles = env.dir.path().join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    let lock = env.dir.path().join("fleet").join("omg.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    env.configure(&format!(
        "{}[metrics]\ntextfile_dir = \"{}\"\nlock = \"{}\"\n",
        machine.security_config(),
        textfiles.display(),
        lock.display()
    ));
    ok(&env.omg(&["install", "sogo-app", "--noconfirm"]));
    ok(&env.omg(&["env", "capture", "--file", lock.to_str().unwrap()]));
    // Drift: a package installed since the lock was captured.
    ok(&env.omg(&["install", "other-app", "--noconfirm"]));
    // The fix and an unrelated update are published.
    root.add("libsope1", "5.8.0-1+deb12u1", "Source: sope\n");
    root.add("other-app", "1.1", "");
    root.publish();

    ok(&env.work("scan"));
    let prom = textfiles.join("omg.prom");
    assert!(prom.exists(), "the scan worker wrote no omg.prom");
    ok(&env.work("refresh"));
    let text = std::fs::read_to_string(&prom).unwrap();
    promtool_accepts(&text);
    let m = samples(&text);

    // Against omg outdated --json.
    let outdated = env.omg(&["outdated", "--json"]);
    assert_eq!(outdated.code, 100, "{}", outdated.stderr);
    let report: serde_json::Value = serde_json::from_str(&outdated.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let mut names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["libsope1", "other-app"]);
    let repository = rows.iter().filter(|r| r["source"] == "repository").count();
    assert_eq!(
        sum(&m, "omg_updates_pending", &["source=\"repository\""]),
        repository as f64
    );
    assert_eq!(sum(&m, "omg_updates_pending", &[]), rows.len() as f64);
    assert_eq!(
        sum(&m, "omg_updates_pending_by_kind", &[]),
        rows.len() as f64
    );
    for row in rows {
        let kind = row["kind"].as_str().unwrap();
        assert!(
            sum(
                &m,
                "omg_updates_pending_by_kind",
                &[&format!("kind=\"{kind}\"")]
            ) >= 1.0,
            "{kind}: {text}"
        );
        let name = row["name"].as_str().unwrap();
        let available = row["available"].as_str().unwrap();
        assert_eq!(
            sum(
                &m,
                "omg_update_info",
                &[
                    &format!("name=\"{name}\""),
                    &format!("available=\"{available}\"")
                ]
            ),
            1.0,
            "{name}: {text}"
        );
    }
    let fixing = rows
        .iter()
        .filter(|r| !r["fixes"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(fixing, 1);
    assert_eq!(sum(&m, "omg_security_updates_pending", &[]), fixing as f64);
    assert_eq!(sum(&m, "apt_upgrades_pending", &[]), repository as f64);

    // Against omg audit --json.
    let audit = env.omg(&["audit", "--json"]);
    let audit: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let findings = audit["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{audit}");
    assert_eq!(
        sum(&m, "omg_vulnerable_packages", &[]),
        findings.len() as f64
    );
    let severity = findings[0]["severity"].as_str().unwrap().to_lowercase();
    assert_eq!(
        sum(
            &m,
            "omg_vulnerable_packages",
            &[&format!("severity=\"{severity}\"")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sum(&m, "omg_last_scan_timestamp_seconds", &[]),
        audit["fetched_at"].as_f64().unwrap()
    );

    // Against omg env check --json.
    let check = env.omg(&["env", "check", "--file", lock.to_str().unwrap(), "--json"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let check: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let drift = check["drift"].as_array().unwrap().len();
    assert_eq!(drift, 1, "{check}");
    assert_eq!(sum(&m, "omg_lock_drift", &[]), drift as f64);
    assert_eq!(sum(&m, "omg_lock_check_failed", &[]), 0.0);

    assert_eq!(sum(&m, "omg_refresh_failed", &[]), 0.0);
    assert!(sum(&m, "omg_last_refresh_timestamp_seconds", &[]) > 1.7e9);

    // omg status --prometheus prints the same.
    let printed = env.omg(&["status", "--prometheus"]);
    ok(&printed);
    assert_eq!(printed.stdout, text);

    // A kernel update of this boot (as a transaction records it) is
    // node_reboot_required.
    if omg::reboot::machine_reason().is_none() {
        assert_eq!(sum(&m, "node_reboot_required", &[]), 0.0);
    }
    omg::reboot::Marker::in_dir(&env.runtime_dir())
        .record(&["linux-image-6.1.0-99-amd64".to_string()])
        .unwrap();
    let flagged = samples(&env.omg(&["status", "--prometheus"]).stdout);
    assert_eq!(sum(&flagged, "node_reboot_required", &[]), 1.0);
    assert_eq!(env.json(&["status", "--json"])["reboot_required"], true);
}

#[test]
fn a_failed_refresh_is_in_the_metrics_and_an_unwritable_directory_is_not_fatal() {
    let root = common::deb::DebRoot::new();
    root.add("omg-app", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let textfiles = env.dir.path().join("textfile");
    std::fs::create_dir_all(&textfiles).unwrap();
    env.configure(&format!(
        "[metrics]\ntextfile_dir = \"{}\"\nlock = \"/nonexistent/omg.lock\"\n",
        textfiles.display()
    ));
    ok(&env.work("refresh"));
    let first = samples(&std::fs::read_to_string(textfiles.join("omg.prom")).unwrap());
    assert_eq!(sum(&first, "omg_refresh_failed", &[]), 0.0);
    assert_eq!(sum(&first, "omg_lock_check_failed", &[]), 1.0);
    assert_eq!(sum(&first, "omg_lock_drift", &[]), 0.0, "unknown, not zero");
    assert!(!first.keys().any(|k| k.starts_with("omg_lock_drift{")));

    // The repository goes away: the refresh fails, and says so.
    std::fs::remove_file(root.path("repo/Packages")).unwrap();
    let failed = env.work("refresh");
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    let text = std::fs::read_to_string(textfiles.join("omg.prom")).unwrap();
    let after = samples(&text);
    assert_eq!(sum(&after, "omg_refresh_failed", &[]), 1.0, "{text}");
    assert_eq!(
        sum(&after, "omg_last_refresh_timestamp_seconds", &[]),
        sum(&first, "omg_last_refresh_timestamp_seconds", &[]),
        "the last success is kept"
    );

    // A directory that cannot be written to: the refresh still succeeds.
    std::fs::write(root.path("repo/Packages"), "").unwrap();
    env.configure("[metrics]\ntextfile_dir = \"/nonexistent/textfile\"\n");
    let run = env.work("refresh");
    ok(&run);
    assert!(
        run.stderr
            .contains("cannot write the metrics into /nonexistent/textfile"),
        "{}",
        run.stderr
    );
}
