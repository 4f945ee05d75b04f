use super::*;
use crate::outdated::{Checked, Fix};
use crate::security::vulns::Finding;

fn row(source: Source, name: &str, kind: Kind, origin: &str) -> Row {
    Row {
        source,
        name: name.into(),
        installed: Some("1.0-1".into()),
        available: "1.1-1".into(),
        kind,
        origin: origin.into(),
        fixes: Vec::new(),
        pinned: false,
    }
}

fn finding(name: &str, severity: Severity) -> Finding {
    Finding {
        name: name.into(),
        version: "1.0-1".into(),
        advisories: Vec::new(),
        severity,
        fixed: None,
        fixable_now: false,
    }
}

fn report() -> Report {
    let mut openssl = row(
        Source::Repository,
        "openssl",
        Kind::Patch,
        "bookworm-security/main",
    );
    openssl.fixes.push(Fix {
        id: "DSA-5000-1".into(),
        severity: Severity::High,
    });
    let mut held = row(
        Source::Repository,
        "linux\"odd\\name",
        Kind::Minor,
        "bookworm/main",
    );
    held.pinned = true;
    let mut node = row(Source::Runtime, "node", Kind::Minor, "upstream");
    node.installed = None;
    Report {
        rows: vec![openssl, held, node],
        checked: vec![
            Checked {
                source: Source::Repository,
                at: Some(1_700_000_000),
                error: None,
            },
            Checked {
                source: Source::Runtime,
                at: None,
                error: Some("connection refused".into()),
            },
        ],
        advisories: None,
    }
}

fn lines_of<'t>(text: &'t str, name: &str) -> Vec<&'t str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .collect()
}

#[test]
fn counts_by_source_kind_and_severity_with_apt_info_names() {
    let report = report();
    let audit = AuditReport {
        source: "debian:bookworm".into(),
        fetched_at: 1_700_000_100,
        stale: false,
        findings: vec![
            finding("openssl", Severity::High),
            finding("curl", Severity::High),
        ],
        note: None,
    };
    let arch = BTreeMap::from([
        ("openssl".to_string(), "amd64".to_string()),
        ("linux\"odd\\name".to_string(), "amd64".to_string()),
    ]);
    let text = render(&Facts {
        backend: BackendKind::Apt,
        report: &report,
        audit: Some(&audit),
        architectures: &arch,
        orphans: 4,
        last_refresh: Some(1_700_000_000),
        from_private_lists: true,
        refresh_failed: false,
        reboot_required: true,
        config_merges: 2,
        drift: Some(LockDrift {
            lock: "/etc/omg.lock".into(),
            outcome: Ok(vec![Drift::Fingerprint]),
        }),
    });
    let has = |line: &str| assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    has("omg_updates_pending{source=\"repository\"} 2");
    has("omg_updates_pending{source=\"runtime\"} 1");
    has("omg_updates_pending{source=\"aur\"} 0");
    has("omg_updates_pending_by_kind{kind=\"minor\"} 2");
    has("omg_updates_held{source=\"repository\"} 1");
    has("omg_security_updates_pending 1");
    has("omg_vulnerable_packages{severity=\"high\"} 2");
    has("omg_vulnerable_packages{severity=\"critical\"} 0");
    has("node_reboot_required 1");
    has("omg_config_merges_pending 2");
    has("omg_lock_drift{lock=\"/etc/omg.lock\"} 1");
    has("omg_lock_check_failed{lock=\"/etc/omg.lock\"} 0");
    has("omg_source_check_failed{source=\"runtime\"} 1");
    has("omg_source_checked_timestamp_seconds{source=\"repository\"} 1700000000");
    has("apt_upgrades_pending{origin=\"bookworm-security/main\",arch=\"amd64\"} 1");
    has("apt_upgrades_pending{origin=\"bookworm/main\",arch=\"amd64\"} 1");
    has("apt_upgrades_held{origin=\"bookworm/main\",arch=\"amd64\"} 1");
    has("apt_autoremove_pending 4");
    has("apt_package_cache_timestamp_seconds 1700000000");
    // Label values are escaped; a runtime not installed has an empty one.
    has(
        "omg_update_info{source=\"repository\",name=\"linux\\\"odd\\\\name\",installed=\"1.0-1\",\
         available=\"1.1-1\",kind=\"minor\",origin=\"bookworm/main\",held=\"true\",fixes=\"\"} 1",
    );
    assert!(
        lines_of(&text, "omg_update_info")
            .iter()
            .any(|l| l.contains("name=\"openssl\"") && l.contains("fixes=\"DSA-5000-1\"")),
        "{text}"
    );
    assert!(lines_of(&text, "pacman_updates_pending").is_empty());
}

#[test]
fn every_family_is_declared_once_before_its_samples() {
    let report = report();
    let text = render(&Facts {
        backend: BackendKind::Alpm,
        report: &report,
        audit: None,
        architectures: &BTreeMap::new(),
        orphans: 0,
        last_refresh: None,
        from_private_lists: false,
        refresh_failed: true,
        reboot_required: false,
        config_merges: 0,
        drift: Some(LockDrift {
            lock: "/nowhere/omg.lock".into(),
            outcome: Err("cannot read it".into()),
        }),
    });
    let mut declared: Vec<&str> = Vec::new();
    let mut current = "";
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!declared.contains(&name), "{name} declared twice");
            declared.push(name);
            current = name;
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap();
            assert_eq!(name, current, "a sample of {name} outside its family");
        }
    }
    let has = |line: &str| assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    has("pacman_updates_pending 2");
    has("pacman_updates_pending_from_cache 1");
    has("omg_refresh_failed 1");
    has("omg_lock_check_failed{lock=\"/nowhere/omg.lock\"} 1");
    // Unknown is left out, not reported as zero.
    assert!(lines_of(&text, "omg_lock_drift").is_empty(), "{text}");
    assert!(
        lines_of(&text, "omg_vulnerable_packages").is_empty(),
        "{text}"
    );
    assert!(lines_of(&text, "omg_last_refresh_timestamp_seconds").is_empty());
    assert!(lines_of(&text, "apt_upgrades_pending").is_empty());
}

#[test]
fn the_file_is_replaced_whole_and_readable_by_node_exporter() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a 1\n").unwrap();
    write(dir.path(), "b 2\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b 2\n");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("omg.prom")]);
    let gone = dir.path().join("missing");
    assert!(write(&gone, "c 3\n").is_err());
}

#[test]
fn the_directory_is_configured_or_node_exporters_for_root() {
    assert_eq!(textfile_dir(Some(Path::new("")), true), None);
    assert_eq!(
        textfile_dir(Some(Path::new("/srv/metrics")), false),
        Some(PathBuf::from("/srv/metrics"))
    );
    assert_eq!(textfile_dir(None, false), None);
}
