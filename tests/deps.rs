//! Everything the tests run is on this machine: `scripts/install-deps.sh
//! --check` lists each external program and file with where it comes from,
//! and fails when one is missing (a fresh machine gets them all from
//! `make test`, which runs install-deps.sh first).

use std::process::Command;

#[test]
fn every_program_the_tests_use_is_installed() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install-deps.sh");
    let out = Command::new("bash")
        .args([script, "--check"])
        .output()
        .expect("run install-deps.sh --check");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "missing on this machine:\n{}",
        listing
            .lines()
            .filter(|l| l.starts_with("MISSING"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for program in ["dpkg-scanpackages", "tmux", "setpriv", "pkcheck", "gdbus"] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("ok") && l.split_whitespace().nth(1) == Some(program)),
            "{program} is not checked:\n{listing}"
        );
    }
}
