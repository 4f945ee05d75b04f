//! `omg doctor` on an isolated installation: what is fine, what needs
//! fixing and how (exit 1 for problems): a stale socket, a damaged status
//! file, the shell hook and PATH order.

mod common;

fn verdicts(run: &common::Run) -> std::collections::BTreeMap<String, String> {
    let checks: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn doctor_names_problems_and_their_fixes() {
    let root = common::AptRoot::new();
    let env = common::Env::with_apt(&root);
    let run = env.omg(&["doctor", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&run);
    assert_eq!(v["database"], "ok");
    assert_eq!(v["daemon"], "ok");
    assert_eq!(v["shell hook"], "warning", "no hook in this environment");

    // The hook's state, and omg's versions first on PATH.
    let versions = env.data_dir().join("versions/node/20.10.0/bin");
    let path = format!("{}:/usr/bin:/bin", versions.display());
    let out = env
        .command(common::OMG)
        .args(["doctor", "--json"])
        .env("__OMG_STATE", "x")
        .env("PATH", &path)
        .output()
        .unwrap();
    let v = verdicts(&out.into());
    assert_eq!(v["shell hook"], "ok");
    assert_eq!(v["path order"], "ok");
    let wrong = format!("/usr/bin:{}:/bin", versions.display());
    let out = env
        .command(common::OMG)
        .args(["doctor"])
        .env("PATH", &wrong)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("PROBLEM  path order"), "{text}");
    assert!(text.contains("fix:"), "{text}");

    // A damaged status file, and a socket nobody listens on.
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    std::fs::write(env.runtime_dir().join("status.bin"), b"bad").unwrap();
    drop(std::os::unix::net::UnixListener::bind(env.socket()).unwrap());
    let run = env.omg(&["doctor", "--json", "--no-daemon"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let v = verdicts(&run);
    assert_eq!(v["status file"], "problem");
    assert_eq!(v["daemon"], "problem");
}
