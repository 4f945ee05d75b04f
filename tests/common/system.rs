//! A system bus and polkitd of the test's own: `dbus-daemon` with a
//! configuration listening at a private address (whatever bus the host
//! runs is left alone), omg's bus policy included from a private
//! directory, and polkitd on that bus. polkitd reads actions only from
//! /usr/share/polkit-1/actions, so omg's action file (and a rules file a
//! test may add) is installed there for the test's duration: tests using
//! this run one at a time (the `machine` test group).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACTIONS: &str = "/usr/share/polkit-1/actions/io.github.omg.policy";
pub const RULES: &str = "/etc/polkit-1/rules.d/49-omg-test.rules";

/// The bus and polkitd; stopped, and the installed files removed, on drop.
pub struct SystemServices {
    dir: tempfile::TempDir,
    bus: Option<Child>,
    polkitd: Option<Child>,
    /// `DBUS_SYSTEM_BUS_ADDRESS` for the test's bus.
    pub address: String,
}

impl SystemServices {
    /// Starts them; `None` (or, under `OMG_TEST_STRICT`, a failure naming
    /// what is missing) without root or polkitd.
    pub fn start() -> Option<SystemServices> {
        let polkitd = Path::new("/usr/lib/polkit-1/polkitd");
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return super::skip("the system bus tests need root");
        }
        if !polkitd.exists() {
            return super::skip("polkitd (package polkitd) is not installed");
        }
        let manifest = super::repo();
        let dir = tempfile::Builder::new()
            .prefix("omg-system-bus")
            .tempdir()
            .unwrap();
        let policies = dir.path().join("system.d");
        std::fs::create_dir_all(&policies).unwrap();
        std::fs::copy(
            manifest.join("dbus/io.github.omg.conf"),
            policies.join("io.github.omg.conf"),
        )
        .unwrap();
        let socket = dir.path().join("system_bus_socket");
        let config = dir.path().join("system.conf");
        std::fs::write(&config, bus_config(&socket, &policies)).unwrap();
        std::fs::copy(manifest.join("polkit/io.github.omg.policy"), ACTIONS).unwrap();
        let address = format!("unix:path={}", socket.display());
        let mut services = SystemServices {
            bus: None,
            polkitd: None,
            address: address.clone(),
            dir,
        };
        services.bus = Some(
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .arg("--nofork")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        services.polkitd = Some(
            Command::new(polkitd)
                .arg("--no-debug")
                .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // polkit answers once it owns its name.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let probe = Command::new("pkcheck")
                .args(["--action-id", "io.github.omg.install", "--process"])
                .arg(std::process::id().to_string())
                .env("DBUS_SYSTEM_BUS_ADDRESS", &address)
                .output()
                .unwrap();
            if probe.status.success() {
                break;
            }
            assert!(Instant::now() < deadline, "polkitd never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(services)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for SystemServices {
    fn drop(&mut self) {
        for child in [self.polkitd.take(), self.bus.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
        for file in [ACTIONS, RULES] {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Installs a polkit rule that lets nobody's group (`nogroup`) do every
/// omg action except those in `refused` (which it refuses outright).
pub fn allow_nogroup(refused: &[&str]) {
    let refusals: String = refused
        .iter()
        .map(|action| {
            format!("  if (action.id == \"{action}\") {{\n    return polkit.Result.NO;\n  }}\n")
        })
        .collect();
    std::fs::write(
        RULES,
        format!(
            "polkit.addRule(function(action, subject) {{\n{refusals}  if (action.id.indexOf(\"io.github.omg.\") == 0 && subject.isInGroup(\"nogroup\")) {{\n    return polkit.Result.YES;\n  }}\n}});\n"
        ),
    )
    .unwrap();
}

/// Runs `attempt` until it exits 0 or 20 s have passed (polkit reads a new
/// rule file a moment after it appears); the last run.
pub fn once_polkit_allows(mut attempt: impl FnMut() -> super::Run) -> super::Run {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = attempt();
        if run.code == 0 || Instant::now() > deadline {
            return run;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A system bus configuration: the stock rules, at `socket`, with the
/// distribution's service policies and those in `policies`.
fn bus_config(socket: &Path, policies: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
  <includedir>{policies}</includedir>
</busconfig>
"#,
        socket = socket.display(),
        policies = policies.display()
    )
}
