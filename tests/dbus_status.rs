//! io.github.omg.Status1 on a private session bus (a real dbus-daemon),
//! served by the user instance: the introspection matches the XML in
//! `dbus/`, properties read what the status file says, a change made
//! behind omg's back and announced with NotifyStateChanged (as the dpkg
//! and pacman hooks do) emits PropertiesChanged and UpdatesChanged once,
//! and the queries answer from the same index as the socket.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `gdbus monitor` on io.github.omg, collecting what it prints.
struct Monitor {
    child: std::process::Child,
    heard: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Monitor {
    /// Starts listening; returns once subscribed (it names the owner).
    fn start(bus: &SessionBus) -> Monitor {
        let mut child = Command::new("gdbus")
            .args(["monitor", "--session", "--dest", "io.github.omg"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let heard = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = {
            let heard = heard.clone();
            let out = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    let mut h = heard.lock().unwrap();
                    h.push_str(&line);
                    h.push('\n');
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !heard.lock().unwrap().contains("is owned by") {
            assert!(Instant::now() < deadline, "gdbus monitor never started");
            std::thread::sleep(Duration::from_millis(20));
        }
        Monitor {
            child,
            heard,
            reader,
        }
    }

    /// Stops listening; everything heard.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.reader.join();
        self.heard.lock().unwrap().clone()
    }
}

/// A private session bus (common::sni's), with calls on omgd's object.
struct SessionBus {
    address: String,
    _bus: common::sni::SessionBus,
}

impl SessionBus {
    fn start() -> Option<SessionBus> {
        let bus = common::sni::SessionBus::for_gdbus_test()?;
        Some(SessionBus {
            address: bus.address.clone(),
            _bus: bus,
        })
    }

    fn gdbus(&self, args: &[&str]) -> common::Run {
        Command::new("gdbus")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap()
            .into()
    }

    fn call(&self, method: &str, args: &[&str]) -> String {
        let mut all = vec![
            "call",
            "--session",
            "--dest",
            "io.github.omg",
            "--object-path",
            "/io/github/omg",
            "--method",
            method,
        ];
        all.extend_from_slice(args);
        let run = self.gdbus(&all);
        assert_eq!(run.code, 0, "{method}: {}", run.stderr);
        run.stdout.trim().to_string()
    }

    fn property(&self, name: &str) -> String {
        self.call(
            "org.freedesktop.DBus.Properties.Get",
            &["io.github.omg.Status1", name],
        )
    }
}

/// The interface element of introspection XML, without comments and
/// indentation.
fn interface(xml: &str) -> String {
    let start = xml
        .find("<interface name=\"io.github.omg.Status1\">")
        .expect("the interface is there");
    let end = start + xml[start..].find("</interface>").unwrap();
    let mut text = xml[start..end].to_string();
    while let Some(open) = text.find("<!--") {
        let close = open + text[open..].find("-->").unwrap() + 3;
        text.replace_range(open..close, "");
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn widgets_read_the_state_and_hear_about_changes() {
    let Some(bus) = SessionBus::start() else {
        return;
    };
    let root = common::AptRoot::new();
    let env = common::Env::with_apt(&root);
    // Advisories in the Debian tracker's format, for a package installed
    // in the fixture root.
    let tracker = common::http::FileServer::start();
    tracker.put(
        "/tracker.json",
        r#"{"hello-omg": {"CVE-2099-0001": {"description": "test",
            "releases": {"bookworm": {"status": "resolved", "fixed_version": "2.0-1", "urgency": "high"}}}}}"#,
    );
    env.configure(&format!(
        "[security]\ndebian_tracker_url = \"{}/tracker.json\"\ndebian_release = \"bookworm\"\n",
        tracker.url()
    ));
    let mut daemon = env
        .command(*common::OMGD)
        .arg("--socket")
        .arg(env.socket())
        .arg("--foreground")
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let xml = loop {
        let run = bus.gdbus(&[
            "introspect",
            "--session",
            "--dest",
            "io.github.omg",
            "--object-path",
            "/io/github/omg",
            "--xml",
        ]);
        if run.code == 0 && run.stdout.contains("io.github.omg.Status1") {
            break run.stdout;
        }
        if Instant::now() > deadline {
            let _ = daemon.kill();
            let mut log = String::new();
            daemon
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut log)
                .unwrap();
            panic!("omgd never appeared on the bus: {}\n{log}", run.stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dbus/io.github.omg.Status1.xml"),
    )
    .unwrap();
    assert_eq!(
        interface(&xml),
        interface(&shipped),
        "dbus/ matches what omgd serves"
    );

    assert_eq!(bus.property("Backend"), "(<'apt'>,)");
    assert_eq!(bus.property("RefreshInProgress"), "(<false>,)");
    assert_eq!(bus.property("Locked"), "(<false>,)");
    let found = bus.call("io.github.omg.Status1.Search", &["hello", "5"]);
    assert!(found.contains("'hello-omg'"), "{found}");
    let updates = bus.call("io.github.omg.Status1.ListUpdates", &[]);
    assert!(
        updates.contains("('hello-omg', '1.0-1', '2.0-1')"),
        "{updates}"
    );
    let until = |value: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while bus.property("UpdateCount") != value {
            assert!(
                Instant::now() < deadline,
                "UpdateCount never became {value}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // hello-omg is upgradable: the count the status file carries.
    until("(<uint32 1>,)");

    // Listen; then dpkg removes hello-omg behind omg's back, and its hook
    // calls NotifyStateChanged.
    let monitor = Monitor::start(&bus);
    let status = root.path("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&status).unwrap();
    let removed: Vec<&str> = text
        .split("\n\n")
        .filter(|stanza| !stanza.starts_with("Package: hello-omg\n"))
        .collect();
    std::fs::write(&status, removed.join("\n\n")).unwrap();
    assert_eq!(
        bus.call("io.github.omg.Status1.NotifyStateChanged", &["dpkg"]),
        "()"
    );
    until("(<uint32 0>,)");
    // A second notification right away is folded into the first.
    assert_eq!(
        bus.call("io.github.omg.Status1.NotifyStateChanged", &["dpkg"]),
        "()"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let heard = monitor.stop();
    assert!(
        heard.contains("PropertiesChanged ('io.github.omg.Status1', {'UpdateCount': <uint32 0>}"),
        "{heard}"
    );
    assert!(
        heard.contains("UpdatesChanged (uint32 0, uint32 0)"),
        "{heard}"
    );
    assert_eq!(
        heard.matches("UpdatesChanged").count(),
        1,
        "signals only on change: {heard}"
    );

    let summary = bus.call("io.github.omg.Status1.GetSummary", &[]);
    assert!(summary.contains("'UpdateCount': <uint32 0>"), "{summary}");

    // Vulnerabilities: none known until a scan, then what it found.
    assert_eq!(
        bus.call("io.github.omg.Status1.ListVulnerabilities", &[]),
        "(@a(ssss) [],)"
    );
    // hello-omg comes back; the scan finds the advisory its pending
    // upgrade fixes: one security update, as `omg outdated --security`
    // counts it.
    let monitor = Monitor::start(&bus);
    std::fs::write(&status, text).unwrap();
    let scan = env.omg(&["audit", "--refresh"]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let listed = bus.call("io.github.omg.Status1.ListVulnerabilities", &[]);
    assert!(
        listed.contains("('hello-omg', 'CVE-2099-0001', 'high', '2.0-1')"),
        "{listed}"
    );
    let run = env.omg(&["outdated", "--security", "--json"]);
    assert_eq!(run.code, 100, "{}", run.stderr);
    let security: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = security["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{security}");
    let deadline = Instant::now() + Duration::from_secs(10);
    for (property, value) in [
        ("VulnerableCount", "(<uint32 1>,)"),
        ("SecurityUpdateCount", "(<uint32 1>,)"),
        ("UpdateCount", "(<uint32 1>,)"),
    ] {
        while bus.property(property) != value {
            assert!(
                Instant::now() < deadline,
                "{property} never became {value}: {}",
                bus.property(property)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let summary = bus.call("io.github.omg.Status1.GetSummary", &[]);
    assert!(
        summary.contains("'SecurityUpdateCount': <uint32 1>"),
        "{summary}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let heard = monitor.stop();
    assert!(
        heard.contains("UpdatesChanged (uint32 1, uint32 1)"),
        "{heard}"
    );
    let _ = daemon.kill();
    let _ = daemon.wait();
}
