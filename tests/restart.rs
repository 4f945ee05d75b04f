//! `omg restart`: a process running a program of a package that is then
//! upgraded (its file replaced) is found through /proc and listed with
//! its unit — the cgroup a test makes for it, as systemd makes one per
//! service — and a process in a login session's scope is set apart;
//! restarting goes through systemctl for listed units only.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::deb::DebRoot;
use common::sni::Killed;

/// A cgroup named like a systemd unit, in the first writable hierarchy
/// systemd would use here (the unified one, else the named `systemd` one
/// of a hybrid layout); removed when dropped.
struct UnitCgroup {
    dir: PathBuf,
}

impl UnitCgroup {
    fn new(unit: &str) -> Option<UnitCgroup> {
        for base in [
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup/systemd",
            "/sys/fs/cgroup",
        ] {
            let base = Path::new(base);
            if !base.join("cgroup.procs").is_file() {
                continue;
            }
            let dir = base.join("system.slice").join(unit);
            if std::fs::create_dir_all(&dir).is_ok() && dir.join("cgroup.procs").is_file() {
                return Some(UnitCgroup { dir });
            }
        }
        None
    }

    fn adopt(&self, child: &Child) {
        std::fs::write(self.dir.join("cgroup.procs"), child.id().to_string())
            .expect("move the process into its unit's cgroup");
    }
}

impl Drop for UnitCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[test]
fn a_process_running_an_upgraded_file_is_listed_with_its_unit() {
    let tag = std::process::id();
    let service = format!("omg-test-{tag}.service");
    let session = format!("session-{tag}.scope");
    let (Some(service_cgroup), Some(session_cgroup)) =
        (UnitCgroup::new(&service), UnitCgroup::new(&session))
    else {
        return common::skip_test("no writable cgroup hierarchy to give a test process a unit");
    };
    let root = DebRoot::new();
    root.add_with_program("omg-daemon", "1.0", "sleeper", Path::new("/bin/sleep"));
    root.publish();
    root.update();
    let env = root.env();
    let run = env.omg(&["install", "omg-daemon", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let program = root.path("usr/lib/omg-daemon/sleeper");
    let start = |cgroup: &UnitCgroup| {
        let child = Command::new(&program)
            .arg("600")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        cgroup.adopt(&child);
        Killed(child)
    };
    let daemon = start(&service_cgroup);
    let login = start(&session_cgroup);

    let before = env.json(&["restart", "--list", "--json"]);
    assert_eq!(before, serde_json::json!([]), "nothing replaced yet");

    // The upgrade replaces the program both processes run.
    root.add_with_program("omg-daemon", "2.0", "sleeper", Path::new("/bin/sleep"));
    root.publish();
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        said.contains(&service) && said.contains("omg restart"),
        "{said}"
    );

    let listed = env.json(&["restart", "--list", "--json"]);
    let entry = |unit: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit"] == unit)
            .unwrap_or_else(|| panic!("{unit} is not listed: {listed}"))
            .clone()
    };
    let svc = entry(&service);
    assert_eq!(svc["processes"][0][0], daemon.0.id());
    assert_eq!(svc["files"][0], program.display().to_string());
    assert_eq!(svc["sensitive"], false);
    assert_eq!(entry(&session)["sensitive"], true);
    assert_eq!(entry(&session)["processes"][0][0], login.0.id());

    // Only listed units; a session only when named and asked.
    let run = env.omg(&["restart", "ssh.service", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("runs no replaced file"),
        "{}",
        run.stderr
    );
    let run = env.omg(&["restart", &session, "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("not without a question"),
        "{}",
        run.stderr
    );
    // Everything else: the session is left, systemctl is asked for the
    // service (here systemd is not running, and says so).
    let run = env.omg(&["restart", "-y"]);
    assert!(
        run.stdout
            .contains(&format!("{session}: not restarted unless named")),
        "{}",
        run.stdout
    );
    if run.code == 0 {
        assert!(
            run.stdout.contains(&format!("restarted {service}")),
            "{}",
            run.stdout
        );
    } else {
        assert!(
            run.stderr
                .contains(&format!("systemctl restart {service} failed")),
            "{}",
            run.stderr
        );
    }
    drop(daemon);
    drop(login);
}
