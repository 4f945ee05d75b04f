//! `omg audit` on Arch: the recorded Arch security tracker list served
//! locally, matched with libalpm's version order against packages built
//! by makepkg and installed by pacman into a temporary root.

mod common;

use common::arch::{ArchRoot, Spec};
use common::http::FileServer;

#[test]
fn installed_packages_are_matched_against_the_avg_list() {
    let json = common::upstream_fixture("alsa/issues-all.vulnerablecode-archlinux.json");
    let server = FileServer::start();
    server.put("/issues/all.json", json);
    // squid 4.10-2: AVG-1146, critical, no fix. wireshark-cli 2.6.0-1:
    // AVG-708, fixed in 2.6.1-1. wireshark-qt is at the fixed version.
    let root = ArchRoot::new(&[
        Spec::new("squid", "4.10-2", "proxy"),
        Spec::new("wireshark-cli", "2.6.0-1", "network analyzer"),
        Spec::new("wireshark-qt", "2.6.1-1", "network analyzer, GUI"),
    ]);
    root.pacman(&["-Sy"]);
    root.pacman(&[
        "-S",
        "--noconfirm",
        "squid",
        "wireshark-cli",
        "wireshark-qt",
    ]);
    let env = root.omg_env();
    env.configure(&format!(
        "backend = \"alpm\"\n[security]\nalsa_url = \"{}/issues/all.json\"\n",
        server.url()
    ));
    let report = env.json(&["audit", "--json"]);
    assert_eq!(report["source"], "alsa");
    let findings = report["findings"].as_array().unwrap();
    let names: Vec<&str> = findings
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["squid", "wireshark-cli"]);
    assert_eq!(findings[0]["severity"], "critical");
    assert_eq!(findings[0]["fixed"], serde_json::Value::Null);
    assert_eq!(
        findings[0]["advisories"][0]["cves"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(findings[1]["advisories"][0]["id"], "AVG-708");
    assert_eq!(findings[1]["fixed"], "2.6.1-1");
    assert_eq!(findings[1]["fixable_now"], false);
    let info = env.json(&["info", "squid", "--json"]);
    assert_eq!(info[0]["grade"], "risk", "{info}");
    let info = env.json(&["info", "wireshark-qt", "--json"]);
    assert_ne!(info[0]["grade"], "risk", "{info}");

    // The repository gets the fixed wireshark-cli.
    root.publish(&[Spec::new("wireshark-cli", "2.6.1-1", "network analyzer")]);
    root.pacman(&["-Sy"]);
    let report = env.json(&["audit", "--json"]);
    assert_eq!(report["findings"][1]["fixable_now"], true, "{report}");
    let table = env.omg(&["audit"]);
    assert!(table.stdout.contains("AVG-1146"), "{}", table.stdout);
    assert!(table.stdout.contains("not yet"), "{}", table.stdout);
}
