//! The tray's "Upgrade…" menu item end to end: `omg tray` running as
//! `nobody` on a private session bus (with a StatusNotifierWatcher
//! stand-in), the system instance on a private system bus with a real
//! polkitd and a rule allowing nobody's group; clicking the item (the
//! dbusmenu `Event` a tray host sends) starts `Manager1.Upgrade`, whose
//! `Transaction1` reaches `Finished` with exit 0, the package is upgraded
//! in the Debian root, and the item then says the machine is up to date.

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::deb::DebRoot;
use common::sni::{Killed, Registered, SessionBus, item_name, item_property, wait_for};

/// The dbusmenu id of the item labelled `label`, from GetLayout's output.
fn menu_id(layout: &str, label: &str) -> String {
    let at = layout
        .find(&format!("'label': <'{label}'>"))
        .unwrap_or_else(|| panic!("no {label} in {layout}"));
    let open = layout[..at]
        .rfind("<(")
        .expect("an item starts before its label");
    layout[open + 2..]
        .split(',')
        .next()
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn the_trays_upgrade_item_runs_an_authorized_upgrade_to_the_end() {
    let Some(services) = common::system::SystemServices::start() else {
        return;
    };
    let system = services.address.clone();
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.publish();
    root.update();
    let installed = root.env().omg(&["install", "--noconfirm", "omg-lib"]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    root.add("omg-lib", "2.0", "");
    root.publish();
    root.update();

    let server = root.env();
    let public = PathBuf::from(format!("/tmp/omg-tray-system-{}", std::process::id()));
    std::fs::create_dir_all(&public).unwrap();
    let socket = public.join("omgd.sock");
    let log = server.dir.path().join("omgd.log");
    let _daemon = Killed(
        server
            .command(*common::OMGD)
            .args(["--system", "--foreground", "--verbose", "--socket"])
            .arg(&socket)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &system)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let status = |name: &str| -> String {
        let run: common::Run = Command::new("gdbus")
            .args(["call", "--system", "--dest", "io.github.omg"])
            .args(["--object-path", "/io/github/omg", "--method"])
            .arg("org.freedesktop.DBus.Properties.Get")
            .args(["io.github.omg.Status1", name])
            .env("DBUS_SYSTEM_BUS_ADDRESS", &system)
            .output()
            .unwrap()
            .into();
        run.stdout.trim().to_string()
    };
    wait_for(
        "omgd's count on the system bus",
        Duration::from_secs(30),
        || status("UpdateCount") == "(<uint32 1>,)",
    );
    common::system::allow_nogroup(&[]);

    // The desktop: a session bus nobody's programs share with the host.
    let desktop = tempfile::tempdir().unwrap();
    common::give_to_nobody(desktop.path());
    let bus = SessionBus::start_shared(desktop.path()).expect("a session bus");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registered = Registered::default();
    let _watcher = common::sni::serve_watcher(&runtime, &bus.address, &registered);
    let mut monitor = Command::new("gdbus")
        .args(["monitor", "--system", "--dest", "io.github.omg"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &system)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _tray = Killed(
        Command::new("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--init-groups"])
            .arg(*common::OMG)
            .arg("tray")
            .env("HOME", desktop.path())
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &system)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let item = item_name(&registered);
    assert_eq!(item_property(&bus, &item, "Title"), "(<'omg: 1 update'>,)");
    let layout = bus.call(
        &item,
        "/MenuBar",
        "com.canonical.dbusmenu.GetLayout",
        &["0", "-1", "@as []"],
    );
    assert_eq!(layout.code, 0, "{}", layout.stderr);
    let upgrade = menu_id(&layout.stdout, "Upgrade…");
    let clicked = bus.call(
        &item,
        "/MenuBar",
        "com.canonical.dbusmenu.Event",
        &[&upgrade, "clicked", "<0>", "0"],
    );
    assert_eq!(clicked.code, 0, "{}", clicked.stderr);

    wait_for("the upgrade", Duration::from_secs(60), || {
        root.installed()
            .contains(&("omg-lib".to_string(), "2.0".to_string()))
    });
    wait_for("omgd's new count", Duration::from_secs(30), || {
        status("UpdateCount") == "(<uint32 0>,)"
    });
    wait_for("the item's new state", Duration::from_secs(5), || {
        item_property(&bus, &item, "Title") == "(<'omg: up to date'>,)"
    });
    let tooltip = item_property(&bus, &item, "ToolTip");
    assert!(!tooltip.contains("failed"), "{tooltip}");
    let _ = monitor.kill();
    let _ = monitor.wait();
    let mut heard = String::new();
    monitor
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut heard)
        .unwrap();
    assert!(
        heard.contains("io.github.omg.Transaction1.Finished (uint32 0,"),
        "{heard}"
    );
    let _ = std::fs::remove_dir_all(&public);
}
