//! `omg tray` on a private session bus: a StatusNotifierWatcher stand-in
//! (the few methods and properties a tray host serves, in zbus) sees the
//! item register; the item's `ToolTip` and `Status` carry omgd's counts
//! (Status1 served by a user omgd on the same bus), and when omgd announces
//! a change (`UpdatesChanged`) the tooltip follows within a second; the
//! autostart entry is written and removed.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What registered with the watcher: (sender, service argument).
type Registered = Arc<Mutex<Vec<(String, String)>>>;

struct Watcher {
    registered: Registered,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.registered
            .lock()
            .unwrap()
            .push((sender, service.to_string()));
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.registered
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s)| s.clone())
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

struct SessionBus {
    address: String,
    pid: i32,
}

impl SessionBus {
    fn start() -> Option<SessionBus> {
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        Some(SessionBus {
            address: lines.next()?.trim().to_string(),
            pid: lines.next()?.trim().parse().ok()?,
        })
    }

    /// `gdbus call` on the session bus; its output.
    fn call(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> common::Run {
        Command::new("gdbus")
            .args(["call", "--session", "--dest", dest, "--object-path", path])
            .args(["--method", method])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap()
            .into()
    }

    fn property(&self, dest: &str, path: &str, interface: &str, name: &str) -> String {
        let run = self.call(
            dest,
            path,
            "org.freedesktop.DBus.Properties.Get",
            &[interface, name],
        );
        run.stdout.trim().to_string()
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
    }
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_tray_item_shows_omgds_counts_and_follows_its_signals() {
    if Command::new("gdbus").arg("help").output().is_err() {
        common::skip_test("gdbus is not installed");
        return;
    }
    let Some(bus) = SessionBus::start() else {
        common::skip_test("dbus-daemon cannot start a session bus");
        return;
    };
    // The tray host's side.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registered: Registered = Arc::default();
    let _watcher = runtime.block_on(async {
        zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    registered: registered.clone(),
                },
            )
            .unwrap()
            .name("org.kde.StatusNotifierWatcher")
            .unwrap()
            .build()
            .await
            .unwrap()
    });

    // omgd on the bus with one pending update (hello-omg in the fixture).
    let root = common::AptRoot::new();
    let env = common::Env::with_apt(&root);
    let _daemon = Killed(
        env.command(*common::OMGD)
            .arg("--socket")
            .arg(env.socket())
            .arg("--foreground")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let omgd = |name: &str| {
        bus.property(
            "io.github.omg",
            "/io/github/omg",
            "io.github.omg.Status1",
            name,
        )
    };
    wait_for("omgd's count", Duration::from_secs(20), || {
        omgd("UpdateCount") == "(<uint32 1>,)"
    });

    let _tray = Killed(
        env.command(*common::OMG)
            .arg("tray")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the item's registration", Duration::from_secs(10), || {
        !registered.lock().unwrap().is_empty()
    });
    let (sender, service) = registered.lock().unwrap()[0].clone();
    // ksni registers its own name; the item is at /StatusNotifierItem.
    let dest = if service.starts_with('/') {
        sender
    } else {
        service
    };
    let item = |name: &str| {
        bus.property(
            &dest,
            "/StatusNotifierItem",
            "org.kde.StatusNotifierItem",
            name,
        )
    };
    assert_eq!(item("Id"), "(<'omg'>,)");
    assert_eq!(item("Status"), "(<'Active'>,)");
    assert_eq!(item("Title"), "(<'omg: 1 update'>,)");
    let tooltip = item("ToolTip");
    assert!(
        tooltip.contains("'omg: 1 update'") && tooltip.contains("1 update\\n"),
        "{tooltip}"
    );
    assert!(tooltip.contains("software-update-available"), "{tooltip}");

    // dpkg removes hello-omg behind omg's back; its hook tells omgd, omgd
    // recounts and emits UpdatesChanged: the item follows within a second.
    let status = root.path("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&status).unwrap();
    let removed: Vec<&str> = text
        .split("\n\n")
        .filter(|stanza| !stanza.starts_with("Package: hello-omg\n"))
        .collect();
    std::fs::write(&status, removed.join("\n\n")).unwrap();
    let run = bus.call(
        "io.github.omg",
        "/io/github/omg",
        "io.github.omg.Status1.NotifyStateChanged",
        &["dpkg"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    wait_for("omgd's new count", Duration::from_secs(20), || {
        omgd("UpdateCount") == "(<uint32 0>,)"
    });
    wait_for("the tooltip's change", Duration::from_secs(1), || {
        item("ToolTip").contains("'omg: up to date'")
    });
    assert_eq!(item("Status"), "(<'Passive'>,)");
    assert!(item("ToolTip").contains("security-high"));
}

#[test]
fn enable_writes_the_autostart_entry_and_disable_removes_it() {
    let env = common::Env::new();
    let home = env.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let entry = home.join(".config/autostart/omg-tray.desktop");
    let run = |flag: &str| -> common::Run {
        env.command(*common::OMG)
            .args(["tray", flag])
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap()
            .into()
    };
    let enabled = run("--enable");
    assert_eq!(enabled.code, 0, "{}", enabled.stderr);
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("Exec=omg tray"), "{text}");
    assert!(text.contains("Hidden=false"), "{text}");
    // The shipped entry is off until then.
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/omg-tray.desktop"),
    )
    .unwrap();
    assert!(shipped.contains("Hidden=true"));
    assert_eq!(run("--disable").code, 0);
    assert!(!entry.exists());
}
