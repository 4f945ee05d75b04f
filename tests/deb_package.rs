//! The Debian package: packaging/build-deb.sh builds it from the built
//! binaries, `dpkg -i` installs it on this machine, the installed omg
//! answers `omg search vim`, the user units are in place, and `dpkg
//! --purge` takes it all away again (also when the test fails).

mod common;

use std::path::Path;
use std::process::Command;

const OMG: &str = env!("CARGO_BIN_EXE_omg");

/// Purges the package when dropped.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "omg"]).output();
    }
}

#[test]
fn the_deb_installs_works_and_removes_cleanly() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        common::skip_test("dpkg -i needs root");
        return;
    }
    let bin = Path::new(OMG).parent().unwrap();
    if !bin.join("omg-fast").exists() {
        common::skip_test("omg-fast is not built (the workspace run builds it)");
        return;
    }
    if Path::new("/usr/bin/omg").exists()
        || Command::new("dpkg")
            .args(["-s", "omg"])
            .output()
            .unwrap()
            .status
            .success()
    {
        common::skip_test("omg is already installed on this machine (not replaced by a test)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let build = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/build-deb.sh"))
        .arg(bin)
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let deb = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .expect("a .deb");

    let _installed = Installed;
    let install = Command::new("dpkg").arg("-i").arg(&deb).output().unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    assert!(Path::new("/usr/lib/systemd/user/omgd.socket").is_file());
    assert!(Path::new("/usr/lib/systemd/system/omgd.socket").is_file());
    assert!(Path::new("/usr/share/man/man1/omg.1").is_file());
    let unit = std::fs::read_to_string("/usr/lib/systemd/user/omgd.service").unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/omgd --user"), "{unit}");

    let home = tempfile::tempdir().unwrap();
    let search = Command::new("/usr/bin/omg")
        .args(["search", "vim", "--json", "--no-daemon"])
        .env("OMG_DATA_DIR", home.path().join("data"))
        .env("OMG_CACHE_DIR", home.path().join("cache"))
        .env("OMG_CONFIG_DIR", home.path().join("config"))
        .env("OMG_RUNTIME_DIR", home.path().join("run"))
        .env_remove("OMG_DAEMON")
        .env_remove("OMG_DAEMON_LITE")
        .env_remove("APT_CONFIG")
        .output()
        .unwrap();
    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    let results: serde_json::Value = serde_json::from_slice(&search.stdout).unwrap();
    assert!(
        results["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "vim"),
        "{results}"
    );

    let purge = Command::new("dpkg")
        .args(["--purge", "omg"])
        .output()
        .unwrap();
    assert!(
        purge.status.success(),
        "{}",
        String::from_utf8_lossy(&purge.stderr)
    );
    for gone in [
        "/usr/bin/omg",
        "/usr/bin/omgd",
        "/usr/lib/systemd/user/omgd.socket",
        "/etc/apt/apt.conf.d/90omg-notify",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} is left behind");
    }
}
