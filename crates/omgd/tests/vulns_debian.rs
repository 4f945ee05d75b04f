//! `omg audit` on Debian: the recorded Debian security tracker JSON
//! served locally, matched by source package and release against packages
//! really installed (by apt) into a temporary root; offline from the last
//! fetch; the count in the status file; and the version order checked
//! against `dpkg --compare-versions`.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::deb::DebRoot;
use common::http::FileServer;

#[test]
fn installed_packages_are_matched_by_source_and_release() {
    let json = common::upstream_fixture("debian-security/tracker-data-json.vunnel.json");
    let server = FileServer::start();
    server.put("/tracker/data/json", json);
    let root = DebRoot::new();
    // sope 5.8.0-1 is affected by CVE-2025-53603 in bookworm (fixed in
    // 5.8.0-1+deb12u1); libsope1 is built from the same source; chromium
    // is at the fixed version already.
    root.add("sope", "5.8.0-1", "");
    root.add("libsope1", "5.8.0-1", "Source: sope\n");
    root.add("chromium", "98.0.4758.80-1", "");
    root.publish();
    root.update();
    let env = root.env();
    env.configure(&format!(
        "[security]\ndebian_tracker_url = \"{}/tracker/data/json\"\ndebian_release = \"bookworm\"\n",
        server.url()
    ));
    let run = env.omg(&["install", "sope", "libsope1", "chromium", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let report = env.json(&["audit", "--json"]);
    assert_eq!(report["source"], "debian:bookworm");
    let findings = report["findings"].as_array().unwrap();
    let names: Vec<&str> = findings
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["libsope1", "sope"]);
    assert_eq!(findings[1]["advisories"][0]["id"], "CVE-2025-53603");
    assert_eq!(findings[1]["fixed"], "5.8.0-1+deb12u1");
    assert_eq!(
        findings[1]["fixable_now"], false,
        "no fixed version published yet"
    );
    let status = omg_status::read(&env.runtime_dir().join("status.bin")).unwrap();
    assert_eq!(status.vulnerabilities, 2);
    let summary = env.json(&["status", "--json"]);
    assert_eq!(summary["vulnerabilities"]["affected"], 2, "{summary}");
    assert_eq!(summary["vulnerabilities"]["source"], "debian:bookworm");
    // Its grade says so too.
    let info = env.json(&["info", "sope", "--json"]);
    assert_eq!(info[0]["grade"], "risk", "{info}");
    assert!(
        info[0]["grade_reason"]
            .as_str()
            .unwrap()
            .contains("CVE-2025-53603"),
        "{info}"
    );

    // The repository gets the fix: an upgrade would fix it now.
    root.add("sope", "5.8.0-1+deb12u1", "");
    root.add("libsope1", "5.8.0-1+deb12u1", "Source: sope\n");
    root.publish();
    root.update();
    let report = env.json(&["audit", "--json"]);
    assert_eq!(report["findings"][1]["fixable_now"], true, "{report}");
    let table = env.omg(&["audit"]);
    assert!(table.stdout.contains("CVE-2025-53603"), "{}", table.stdout);
    assert!(
        table.stdout.contains("an upgrade available now fixes 2"),
        "{}",
        table.stdout
    );

    // Offline: the last fetch answers; a refresh that fails says so.
    server.remove("/tracker/data/json");
    let offline = env.json(&["audit", "--json"]);
    assert_eq!(offline["findings"].as_array().unwrap().len(), 2);
    let failed = env.omg(&["audit", "--refresh", "--json"]);
    assert_eq!(failed.code, 0, "{}", failed.stderr);
    let failed: serde_json::Value = serde_json::from_str(&failed.stdout).unwrap();
    assert!(
        failed["note"]
            .as_str()
            .unwrap()
            .contains("using the advisories fetched before"),
        "{failed}"
    );

    // After the upgrade nothing is affected, and the count follows.
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = env.json(&["audit", "--json"]);
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let status = omg_status::read(&env.runtime_dir().join("status.bin")).unwrap();
    assert_eq!(status.vulnerabilities, 0);
}

#[test]
fn debian_versions_order_as_dpkg_orders_them() {
    let backend = omgd::backend::open(omg::model::BackendKind::Apt).unwrap();
    let pairs = [
        ("1.0-1", "1.0-1+deb12u1"),
        ("1.0-1+deb12u1", "1.0-1+deb12u2"),
        ("1.0~rc1-1", "1.0-1"),
        ("1.0-1~bpo12+1", "1.0-1"),
        ("1:0.9-1", "2.0-1"),
        ("2.0-1", "1:0.9-1"),
        ("98.0.4758.80-1~deb11u1", "98.0.4758.80-1"),
        ("5.8.0-1", "5.8.0-1"),
        ("1.2.3", "1.2.3-0"),
        ("7.4.052-1", "7.4.52-1"),
        ("2.30-1a", "2.30-1"),
        ("1.0a", "1.0"),
        ("1.0", "1.0."),
        ("0:1.0", "1.0"),
        ("1.0-1.1", "1.0-1"),
        ("1.0~~", "1.0~"),
        ("1.0+really0.9-1", "1.0-1"),
        ("10.0", "9.99"),
        ("1.0-0ubuntu1", "1.0-0"),
        ("2:1.0", "10:0.1"),
    ];
    for (a, b) in pairs {
        let ours = backend.compare_versions(a, b);
        for (op, wanted) in [
            ("lt", std::cmp::Ordering::Less),
            ("eq", std::cmp::Ordering::Equal),
            ("gt", std::cmp::Ordering::Greater),
        ] {
            let dpkg = std::process::Command::new("dpkg")
                .args(["--compare-versions", a, op, b])
                .status()
                .unwrap()
                .success();
            assert_eq!(dpkg, ours == wanted, "{a} {op} {b}: dpkg says {dpkg}");
        }
    }
}
