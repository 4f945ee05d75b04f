//! The reboot flag: an upgrade of a kernel-named package in a Debian root
//! sets it in the status file — `omg-fast` shows its glyph, omgd's
//! `Status1.RebootRequired` turns true on a private session bus (with
//! PropertiesChanged), `omg status --json` says so — and an upgrade of
//! anything else does not.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::deb::DebRoot;
use common::sni::{Killed, wait_for};

const KERNEL: &str = "linux-image-6.1.0-99-amd64";

#[test]
fn a_kernel_upgrade_sets_the_reboot_flag_for_prompts_and_widgets() {
    let Some(bus) = common::sni::SessionBus::for_gdbus_test() else {
        return;
    };
    // The machine's own state may already ask for a reboot.
    let machine_says = omg::reboot::machine_reason().is_some();
    let root = DebRoot::new();
    root.add(KERNEL, "6.1.99-1", "");
    root.add("omg-app", "1.0", "");
    root.publish();
    root.update();
    let env = root.env();
    let run = env.omg(&["install", KERNEL, "omg-app", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

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
    let property = || {
        bus.property(
            "io.github.omg",
            "/io/github/omg",
            "io.github.omg.Status1",
            "RebootRequired",
        )
    };
    let until = |value: &str| {
        wait_for(
            &format!("RebootRequired {value}"),
            Duration::from_secs(20),
            || property() == value,
        )
    };

    // The installs themselves were of a kernel: flagged already. Start
    // from a clean flag to see each upgrade's own effect.
    omg_status::update(&env.runtime_dir().join("status.bin"), |s| {
        s.flags &= !omg_status::FLAG_REBOOT_NEEDED
    })
    .unwrap();
    std::fs::remove_file(env.runtime_dir().join("reboot-required")).unwrap();
    if !machine_says {
        until("(<false>,)");
        assert_eq!(env.omg_fast(&["reboot"]), "");
    }

    // An ordinary upgrade: no reboot.
    root.add("omg-app", "1.1", "");
    root.publish();
    let monitor = Command::new("gdbus")
        .args(["monitor", "--session", "--dest", "io.github.omg"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    if !machine_says {
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(property(), "(<false>,)");
        assert!(!env.omg_fast(&[]).contains('⟳'));
    }

    // The kernel's new version: flagged for prompts, widgets and omg.
    root.add(KERNEL, "6.1.99-2", "");
    root.publish();
    let run = env.omg(&["upgrade", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    until("(<true>,)");
    assert_eq!(env.omg_fast(&["reboot"]), "reboot");
    assert!(env.omg_fast(&[]).contains('⟳'), "{}", env.omg_fast(&[]));
    assert_eq!(env.omg_fast(&["--format", "[{reboot}]"]), "[⟳]");
    assert_eq!(env.json(&["status", "--json"])["reboot_required"], true);
    let status = env.omg(&["status"]);
    assert!(status.stdout.contains("Reboot"), "{}", status.stdout);

    let mut monitor = monitor;
    let _ = monitor.kill();
    let out = monitor.wait_with_output().unwrap();
    let heard = String::from_utf8_lossy(&out.stdout);
    if !machine_says {
        assert!(
            heard.contains("'RebootRequired': <true>"),
            "PropertiesChanged: {heard}"
        );
    }
}
