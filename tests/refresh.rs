//! `omgd work refresh`: a private copy of the package lists is refreshed
//! and counted without touching the system's lists, the status file and a
//! running daemon learn the result, and a failed refresh is flagged.

mod common;

use common::{AptRoot, Env};

fn status_bytes(env: &Env) -> [u8; 20] {
    std::fs::read(env.runtime_dir().join("status.bin"))
        .expect("a status file")
        .try_into()
        .expect("20 bytes")
}

/// The system's lists as apt left them: names with their link targets (apt
/// links `file:` repositories' lists) or sizes and modification times.
fn lists_state(root: &AptRoot) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root.path("var/lib/apt/lists"))
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            let what = match std::fs::read_link(e.path()) {
                Ok(target) => format!("-> {}", target.display()),
                Err(_) => format!("{} bytes, {:?}", meta.len(), meta.modified().unwrap()),
            };
            format!("{} {what}", e.file_name().to_string_lossy())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn refresh_counts_updates_from_a_private_copy() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let daemon = env.start_daemon();
    let system_lists = lists_state(&root);

    let run = env.refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = status_bytes(&env);
    assert_eq!(&bytes[..4], b"OMG\x02");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 1, "hello-omg");
    let refreshed_at = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
    assert!(u64::from(refreshed_at) + 60 > omg::unix_now());
    let status = env.json(&["status", "--json"]);
    assert_eq!(status["update_check"]["updates"], 1);
    assert_eq!(status["update_check"]["error"], serde_json::Value::Null);
    let text = env.omg(&["status"]).stdout;
    assert!(
        text.contains("Update check : 1 updates upstream, checked"),
        "{text}"
    );

    // The repository publishes a new base-omg. Only the private copy learns
    // of it; the system's lists stay as apt left them.
    let packages = root.path("repo/Packages");
    let text = std::fs::read_to_string(&packages).unwrap().replace(
        "Package: base-omg\nVersion: 1.0-1",
        "Package: base-omg\nVersion: 1.1-1",
    );
    std::fs::write(&packages, text).unwrap();
    let release = root.path("repo/Release");
    let mut text = std::fs::read_to_string(&release).unwrap();
    text.push_str("Date: Wed, 25 Nov 2026 12:00:00 UTC\n");
    std::fs::write(&release, text).unwrap();
    let before = env.json(&["daemon", "status", "--json"])["requests"]
        .as_u64()
        .unwrap();
    let run = env.refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        u16::from_le_bytes(status_bytes(&env)[4..6].try_into().unwrap()),
        2
    );
    assert_eq!(
        lists_state(&root),
        system_lists,
        "the system's lists are untouched"
    );
    assert_eq!(
        env.omg(&["list", "--upgradable"]).stdout.trim(),
        "hello-omg 1.0-1 -> 2.0-1"
    );

    // The running daemon was told to reload (one Reload request, plus this status).
    let after = env.json(&["daemon", "status", "--json"])["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(
        after,
        before + 2 + 1,
        "reload, list, and the status call itself"
    );
    drop(daemon);
}

#[test]
fn a_failed_refresh_is_flagged_and_keeps_the_last_count() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    assert_eq!(env.refresh().code, 0);
    // The repository disappears.
    std::fs::remove_dir_all(root.path("repo")).unwrap();
    let run = env.refresh();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("refreshing the package lists failed"),
        "{}",
        run.stderr
    );
    let bytes = status_bytes(&env);
    let flags = u16::from_le_bytes([bytes[10], bytes[11]]);
    assert_eq!(
        flags & omg::status::FLAG_REFRESH_FAILED,
        omg::status::FLAG_REFRESH_FAILED
    );
    assert_eq!(
        u16::from_le_bytes([bytes[4], bytes[5]]),
        1,
        "the last good count stays"
    );
}
