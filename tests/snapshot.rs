//! The index snapshot: a second process loads it instead of reading the
//! package database, a change to the database rebuilds it, and a damaged or
//! unusable snapshot is rebuilt or bypassed with a warning, never a crash.

mod common;

use common::{AptRoot, Env};

fn source(env: &Env) -> String {
    env.json(&["status", "--json"])["index"]["source"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn second_run_loads_the_snapshot_and_a_change_rebuilds_it() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);

    let first = env.omg(&["--verbose", "search", "hello"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("index: built from the apt database"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("index: saved the snapshot"),
        "{}",
        first.stderr
    );

    // With no daemon, omg answers from the snapshot in its own process.
    let second = env.omg(&["--verbose", "search", "hello"]);
    assert!(
        second.stderr.contains("answered from the index snapshot"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("--stdio"), "{}", second.stderr);
    assert_eq!(first.stdout, second.stdout, "same answer either way");
    assert_eq!(source(&env), "snapshot");
    let status = env.json(&["status", "--json"]);
    let file = status["index"]["snapshot_path"].as_str().unwrap();
    assert!(file.ends_with(".bin"), "{file}");
    assert!(std::path::Path::new(file).is_file(), "{file}");

    // dpkg changes its status file: the snapshot is not trusted, and the
    // next process rebuilds.
    let status = root.path("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&status).unwrap();
    std::fs::write(&status, text).unwrap();
    let third = env.omg(&["--verbose", "search", "hello"]);
    assert!(
        third.stderr.contains("index: built from the apt database"),
        "{}",
        third.stderr
    );
    assert!(
        !third.stderr.contains("answered from the index snapshot"),
        "{}",
        third.stderr
    );
    assert_eq!(source(&env), "snapshot");

    // So does a changed install reason (apt-mark).
    let states = root.path("var/lib/apt/extended_states");
    let mut text = std::fs::read_to_string(&states).unwrap();
    text.push_str("Package: hello-omg\nArchitecture: amd64\nAuto-Installed: 1\n\n");
    std::fs::write(&states, text).unwrap();
    let status = env.json(&["status", "--json"]);
    assert_eq!(status["index"]["source"], "built");
    assert_eq!(status["explicit"], 1);
}

#[test]
fn damaged_database_file_is_set_aside_and_rebuilt() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    assert_eq!(env.omg(&["search", "hello"]).code, 0);
    let db = env.data_dir().join("omg.redb");
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    std::fs::write(&db, vec![0x5a; len]).unwrap();

    // A search is answered from the snapshot's own file; what opens the
    // database finds the damage.
    let run = env.omg(&["list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("was damaged"), "{}", run.stderr);
    assert!(run.stdout.contains("hello-omg"));
    let set_aside = std::fs::read_dir(env.data_dir())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".damaged-"));
    assert!(set_aside, "the damaged file is kept for inspection");
    assert_eq!(
        source(&env),
        "snapshot",
        "the new database holds a fresh snapshot"
    );
}

#[test]
fn damaged_snapshot_inside_a_good_database_is_rebuilt() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let status = env.json(&["status", "--json"]);
    let fingerprint = status["index"]["fingerprint"].as_str().unwrap().to_string();

    // Keep the header (so it is not merely stale) and cut the body short.
    // The snapshot's name depends on APT_CONFIG, as in omgd.
    unsafe { std::env::set_var("APT_CONFIG", &root.conf) };
    let key = omg::index::snapshot::key(omg::model::BackendKind::Apt);
    let file = omg::index::snapshot::path(&env.data_dir(), &key);
    let bytes = std::fs::read(&file).unwrap();
    assert!(matches!(
        omg::index::snapshot::decode(&bytes, &fingerprint),
        omg::index::snapshot::Loaded::Fresh(_)
    ));
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();

    let run = env.omg(&["search", "--json", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("index snapshot"), "{}", run.stderr);
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    assert!(run.stdout.contains("hello-omg"));
    assert_eq!(source(&env), "snapshot");
}

#[test]
fn unusable_data_dir_still_answers_and_says_why() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    // A data directory below a regular file can never be created.
    let blocker = env.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let run = env
        .command(*common::OMG)
        .env("OMG_DATA_DIR", blocker.join("omg"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&blocker.display().to_string()), "{stderr}");
    let status: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(status["index"]["source"], "built");
    assert!(
        status["index"]["snapshot_problem"]
            .as_str()
            .unwrap()
            .contains("cannot create the data directory"),
        "{status}"
    );
    assert_eq!(status["installed"], 4);
}

#[test]
fn database_locked_by_another_program_is_named_and_bypassed() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    std::fs::create_dir_all(env.data_dir()).unwrap();
    let path = env.data_dir().join("omg.redb");
    // A program holding the file with redb's default exclusive lock.
    let _holder = redb::Database::create(&path).unwrap();
    let run = env.omg(&["search", "--json", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("the database {} is locked", path.display())),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("hello-omg"));
}

#[test]
fn omgd_lite_answers_from_a_valid_snapshot_and_hands_over_otherwise() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    // No snapshot yet: omgd-lite hands over to omgd, which builds one.
    let first = env.omg(&["--verbose", "search", "--json", "hello"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("omgd-lite needs the database"),
        "{}",
        first.stderr
    );
    // A valid snapshot: omg itself answers a search, omgd-lite the
    // rest, alone, identically.
    let second = env.omg(&["--verbose", "search", "--json", "hello"]);
    assert!(
        second.stderr.contains("answered from the index snapshot"),
        "{}",
        second.stderr
    );
    assert_eq!(first.stdout, second.stdout);
    let listed = env.omg(&["--verbose", "list", "--json"]);
    assert!(
        listed.stderr.contains("omgd-lite --stdio"),
        "{}",
        listed.stderr
    );
    assert!(
        !listed.stderr.contains("needs the database"),
        "{}",
        listed.stderr
    );
    assert!(listed.stdout.contains("hello-omg"));
    // Details not read yet need omgd; once read, omgd-lite has them.
    let info = env.omg(&["--verbose", "info", "--json", "editor-omg"]);
    assert!(
        info.stderr.contains("needs the database"),
        "{}",
        info.stderr
    );
    let again = env.omg(&["--verbose", "info", "--json", "editor-omg"]);
    assert!(
        !again.stderr.contains("needs the database"),
        "{}",
        again.stderr
    );
    assert_eq!(info.stdout, again.stdout);
    // The database changes: omgd-lite sees the snapshot is stale.
    let status = root.path("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&status).unwrap();
    std::fs::write(&status, text).unwrap();
    let third = env.omg(&["--verbose", "list", "--json"]);
    assert!(
        third.stderr.contains("needs the database"),
        "{}",
        third.stderr
    );
    assert!(third.stdout.contains("hello-omg"));
}
