//! A desktop's side of the tray protocol for tests: a private session bus,
//! a StatusNotifierWatcher stand-in (the methods and properties a tray host
//! serves, in zbus) that records who registered, and reading the item's
//! properties with gdbus.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What registered with the watcher: (sender, service argument).
pub type Registered = Arc<Mutex<Vec<(String, String)>>>;

pub struct Watcher {
    pub registered: Registered,
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

pub struct SessionBus {
    pub address: String,
    pid: i32,
}

impl SessionBus {
    /// A private session bus for a test that reads it with gdbus; `None`
    /// (a skip, a failure under `OMG_TEST_STRICT`) without the two.
    pub fn for_gdbus_test() -> Option<SessionBus> {
        if Command::new("gdbus").arg("help").output().is_err() {
            return super::skip("gdbus is not installed");
        }
        match SessionBus::start() {
            Some(bus) => Some(bus),
            None => super::skip("dbus-daemon cannot start a session bus"),
        }
    }

    pub fn start() -> Option<SessionBus> {
        SessionBus::launch(&["--session"])
    }

    /// A session bus every user may connect to (a desktop's programs
    /// running as `nobody`, the test's watcher as root); its configuration
    /// in `dir`.
    pub fn start_shared(dir: &std::path::Path) -> Option<SessionBus> {
        let config = dir.join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}/session_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.display()
            ),
        )
        .ok()?;
        SessionBus::launch(&[&format!("--config-file={}", config.display())])
    }

    fn launch(args: &[&str]) -> Option<SessionBus> {
        let out = Command::new("dbus-daemon")
            .args(args)
            .args(["--fork", "--print-address=1", "--print-pid=1"])
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
    pub fn call(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> super::Run {
        Command::new("gdbus")
            .args(["call", "--session", "--dest", dest, "--object-path", path])
            .args(["--method", method, "--"])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap()
            .into()
    }

    pub fn property(&self, dest: &str, path: &str, interface: &str, name: &str) -> String {
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

/// A child process killed when the test ends.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `done`, failing the test after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Serves the watcher on the bus at `address` (through `runtime`); the
/// connection lives as long as the returned value.
pub fn serve_watcher(
    runtime: &tokio::runtime::Runtime,
    address: &str,
    registered: &Registered,
) -> zbus::Connection {
    runtime.block_on(async {
        zbus::connection::Builder::address(address)
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
    })
}

/// The bus name of the item that registered first (ksni registers its own
/// name; some items register their object path instead).
pub fn item_name(registered: &Registered) -> String {
    wait_for("the item's registration", Duration::from_secs(10), || {
        !registered.lock().unwrap().is_empty()
    });
    let (sender, service) = registered.lock().unwrap()[0].clone();
    if service.starts_with('/') {
        sender
    } else {
        service
    }
}

/// The tray item's property `name`, as gdbus prints it.
pub fn item_property(bus: &SessionBus, item: &str, name: &str) -> String {
    bus.property(
        item,
        "/StatusNotifierItem",
        "org.kde.StatusNotifierItem",
        name,
    )
}
