//! `omg audit sbom`: the installed packages of a temporary Debian root
//! (one with an epoch), a runtime version and the known vulnerabilities,
//! as CycloneDX 1.5 (checked with cyclonedx-python-lib's strict schema
//! validator) and SPDX 2.3 (checked with the SPDX tools' validator).

mod common;

use common::deb::DebRoot;
use common::http::FileServer;

/// The Python with the validators (scripts/install-deps.sh makes it).
fn validators() -> Option<std::path::PathBuf> {
    let python = std::path::PathBuf::from(
        std::env::var("OMG_TEST_VENV").unwrap_or_else(|_| "/opt/omg-test-venv".into()),
    );
    if python.join("bin/python").exists() {
        Some(python)
    } else {
        common::skip(&format!(
            "{} has no validators (scripts/install-deps.sh installs them)",
            python.display()
        ))
    }
}

#[test]
fn the_bill_is_valid_cyclonedx_and_spdx() {
    let Some(venv) = validators() else {
        return;
    };
    let json = common::upstream_fixture("debian-security/tracker-data-json.vunnel.json");
    let server = FileServer::start();
    server.put("/json", json);
    let root = DebRoot::new();
    root.add("sope", "5.8.0-1", "");
    root.add("omg-epoch", "2:1.0-1", "");
    root.publish();
    root.update();
    let env = root.env();
    env.configure(&format!(
        "[security]\ndebian_tracker_url = \"{}/json\"\ndebian_release = \"bookworm\"\n",
        server.url()
    ));
    let run = env.omg(&["install", "sope", "omg-epoch", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::create_dir_all(env.data_dir().join("versions/node/20.10.0/bin")).unwrap();
    assert_eq!(env.omg(&["audit", "--refresh"]).code, 0);

    let bom = env.omg(&["audit", "sbom", "--vulns"]);
    assert_eq!(bom.code, 0, "{}", bom.stderr);
    let doc: serde_json::Value = serde_json::from_str(&bom.stdout).unwrap();
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert!(
        purls.contains(&"pkg:deb/debian/omg-epoch@2%3A1.0-1?arch=all"),
        "{purls:?}"
    );
    assert!(purls.contains(&"pkg:generic/node@20.10.0"), "{purls:?}");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns[0]["id"], "CVE-2025-53603");
    assert_eq!(
        vulns[0]["affects"][0]["ref"],
        "pkg:deb/debian/sope@5.8.0-1?arch=all"
    );
    let file = env.dir.path().join("bom.json");
    std::fs::write(&file, &bom.stdout).unwrap();
    let check = std::process::Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerr = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(err or 'valid')\nsys.exit(1 if err else 0)",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let spdx = env.omg(&["audit", "sbom", "--format", "spdx"]);
    assert_eq!(spdx.code, 0, "{}", spdx.stderr);
    let file = env.dir.path().join("bom.spdx.json");
    std::fs::write(&file, &spdx.stdout).unwrap();
    let check = std::process::Command::new(venv.join("bin/pyspdxtools"))
        .arg("-i")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
