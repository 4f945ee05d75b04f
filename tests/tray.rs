//! `omg tray` on a private session bus: a StatusNotifierWatcher stand-in
//! (the few methods and properties a tray host serves, in zbus) sees the
//! item register; the item's `ToolTip` and `Status` carry omgd's counts
//! (Status1 served by a user omgd on the same bus, started after the tray:
//! the item waits for it to appear), and when omgd announces
//! a change (`UpdatesChanged`) the tooltip follows within a second; with
//! omgd gone, the item follows the status file; the autostart entry is
//! written and removed.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::sni::{Killed, Registered, SessionBus, item_name, item_property, wait_for};

#[test]
fn the_tray_item_shows_omgds_counts_and_follows_its_signals() {
    let Some(bus) = SessionBus::for_gdbus_test() else {
        return;
    };
    // The tray host's side.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registered = Registered::default();
    let root = common::AptRoot::new();
    let env = common::Env::with_apt(&root);
    let _watcher = common::sni::serve_watcher(&runtime, &bus.address, &registered);

    // The tray first: omgd is not there yet.
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
    let dest = item_name(&registered);
    let item = |name: &str| item_property(&bus, &dest, name);
    wait_for("the item's first state", Duration::from_secs(5), || {
        item("ToolTip").contains("omgd cannot be reached")
    });

    // omgd on the bus with one pending update (hello-omg in the fixture).
    let daemon = Killed(
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

    // omgd appeared on the bus: the item read its counts.
    wait_for("the item's counts", Duration::from_secs(5), || {
        item("Title") == "(<'omg: 1 update'>,)"
    });
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

    // omgd exits (idle); the refresh timer's worker writes the status file:
    // the item follows the file itself.
    drop(daemon);
    let file = env.runtime_dir().join("status.bin");
    let before = omg_status::read(&file).expect("omgd wrote the status file");
    omg_status::write(
        &file,
        &omg_status::Status {
            updates: 5,
            security_updates: 2,
            ..before
        },
    )
    .unwrap();
    wait_for(
        "the item to read the status file",
        Duration::from_secs(5),
        || item("Title") == "(<'omg: 5 updates, 2 for security'>,)",
    );
    assert_eq!(item("Status"), "(<'NeedsAttention'>,)");
    assert!(item("ToolTip").contains("software-update-urgent"));
    // And the next time it is replaced.
    omg_status::write(
        &file,
        &omg_status::Status {
            updates: 7,
            security_updates: 0,
            ..before
        },
    )
    .unwrap();
    wait_for(
        "the item to follow the file",
        Duration::from_secs(1),
        || item("Title") == "(<'omg: 7 updates'>,)",
    );
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
