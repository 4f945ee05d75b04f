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
    // The Node.js keys omg ships; no Bun key (omg cannot ship it).
    let no_bun = env.dir.path().join("bun-keys");
    std::fs::create_dir_all(&no_bun).unwrap();
    env.configure(&format!(
        "[runtimes]\nnode_keys = \"{}/data/keys/node\"\nbun_keys = \"{}\"\n",
        env!("CARGO_MANIFEST_DIR"),
        no_bun.display()
    ));
    let run = env.omg(&["doctor", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&run);
    assert_eq!(v["database"], "ok");
    assert_eq!(v["daemon"], "ok");
    assert_eq!(v["shell hook"], "warning", "no hook in this environment");
    assert_eq!(v["node release keys"], "ok");
    assert_eq!(v["bun release key"], "warning");
    assert_eq!(v["runtime checksums"], "ok");
    let text = env.omg(&["doctor"]).stdout;
    assert!(
        text.contains("no Bun release key in") && text.contains("github.com/oven-sh/bun/releases"),
        "{text}"
    );
    // Without the Node.js keys: a problem, saying where they come from.
    env.configure(&format!(
        "[runtimes]\nnode_keys = \"{}\"\n",
        no_bun.display()
    ));
    let run = env.omg(&["doctor"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("github.com/nodejs/release-keys"),
        "{}",
        run.stdout
    );
    env.configure(&format!(
        "[runtimes]\nnode_keys = \"{}/data/keys/node\"\n",
        env!("CARGO_MANIFEST_DIR")
    ));

    // The hook's state, and omg's versions first on PATH.
    let versions = env.data_dir().join("versions/node/20.10.0/bin");
    let path = format!("{}:/usr/bin:/bin", versions.display());
    let out = env
        .command(*common::OMG)
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
        .command(*common::OMG)
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
