//! The release keys omg ships (data/keys/node, installed to
//! <prefix>/share/omg/keys/node): every file loads as an OpenPGP key whose
//! fingerprint is its name, and together they are exactly the
//! fingerprints of `keys.list`. A runtime whose keys are missing is
//! refused with a message naming the keys, the directory and where they
//! are published.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn the_shipped_node_keys_load_and_are_exactly_keys_list() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/keys/node");
    let certs = omg::security::pgp::load_keyring(&dir).unwrap();
    let loaded: BTreeSet<String> = certs.iter().map(|c| c.fingerprint().to_hex()).collect();
    let listed: BTreeSet<String> = std::fs::read_to_string(dir.join("keys.list"))
        .unwrap()
        .lines()
        .map(|l| l.trim().to_uppercase())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(loaded, listed);
    assert!(loaded.len() >= 20, "{}", loaded.len());
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().into_string().unwrap();
        if let Some(fingerprint) = name.strip_suffix(".asc") {
            assert!(loaded.contains(fingerprint), "{name}");
        }
    }
}

#[test]
fn an_install_without_keys_says_which_and_where_they_come_from() {
    let env = common::Env::new();
    let empty = env.dir.path().join("no-keys");
    std::fs::create_dir_all(&empty).unwrap();
    // Nothing is fetched before the keys are looked for.
    env.configure(&format!(
        "[runtimes]\nnode_mirror = \"http://127.0.0.1:1\"\nnode_keys = \"{0}/node\"\nbun_releases = \"http://127.0.0.1:1\"\nbun_api = \"http://127.0.0.1:1\"\nbun_keys = \"{0}/bun\"\n",
        empty.display()
    ));
    std::fs::create_dir_all(empty.join("node")).unwrap();
    std::fs::create_dir_all(empty.join("bun")).unwrap();
    for (runtime, whose, published) in [
        (
            "node",
            "no Node.js release keys in",
            "https://github.com/nodejs/release-keys",
        ),
        (
            "bun",
            "no Bun release key in",
            "https://github.com/oven-sh/bun/releases",
        ),
    ] {
        let run = env.omg(&["install", runtime, "latest"]);
        assert_eq!(run.code, 1, "{runtime}: {}", run.stdout);
        assert!(
            run.stderr.contains(whose)
                && run
                    .stderr
                    .contains(&empty.join(runtime).display().to_string())
                && run.stderr.contains(published),
            "{runtime}: {}",
            run.stderr
        );
    }
}
