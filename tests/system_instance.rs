//! The system instance with a real system bus and a real polkitd (both
//! started here, as root, at a private address): `omgd --system` serves a socket everyone may
//! reach, changes the packages of a temporary Debian root for callers
//! polkit allows, and refuses the others, naming the action. Machine-wide
//! files this test adds (bus policy, polkit action, a rules file) are
//! removed again, even when it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::deb::DebRoot;
use omg::ipc::protocol::{ClientFrame, RequestBody, ServerFrame};
use omg::transaction::{TransactionAction, TransactionOptions, TransactionRequest};

/// A transaction sent as root straight to the socket (root may; polkit is
/// not asked): the final answer.
fn as_root(socket: &Path, action: TransactionAction) -> Result<(), String> {
    let mut client = common::RawClient::connect(socket);
    client.hello();
    let body = RequestBody::Transaction(TransactionRequest {
        action,
        options: TransactionOptions {
            noconfirm: true,
            ..TransactionOptions::default()
        },
    });
    client.request(1, body);
    loop {
        match client.receive() {
            Some(ServerFrame::Response(r)) => return r.result.map(|_| ()).map_err(|e| e.message),
            Some(ServerFrame::Event { .. }) => continue,
            other => return Err(format!("unexpected: {other:?}")),
        }
    }
}

/// One interface element of introspection XML, without comments and
/// indentation.
fn interface(xml: &str, name: &str) -> String {
    let start = xml
        .find(&format!("<interface name=\"{name}\">"))
        .unwrap_or_else(|| panic!("{name} is not in {xml}"));
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

fn shipped(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("dbus")
            .join(file),
    )
    .unwrap()
}

/// `gdbus ARGS` on the test's system bus, as root or (with `nobody`) as
/// nobody.
fn gdbus(bus: &str, nobody: bool, args: &[&str]) -> common::Run {
    let mut command = if nobody {
        let mut c = Command::new("/usr/bin/setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--init-groups",
            "gdbus",
        ]);
        c
    } else {
        Command::new("gdbus")
    };
    command
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
        .output()
        .unwrap()
        .into()
}

fn call(bus: &str, nobody: bool, path: &str, method: &str, args: &[&str]) -> common::Run {
    let mut all = vec![
        "call",
        "--system",
        "--dest",
        "io.github.omg",
        "--object-path",
        path,
        "--method",
        method,
    ];
    all.extend_from_slice(args);
    gdbus(bus, nobody, &all)
}

fn introspect(bus: &str, path: &str) -> String {
    let run = gdbus(
        bus,
        false,
        &[
            "introspect",
            "--system",
            "--dest",
            "io.github.omg",
            "--object-path",
            path,
            "--xml",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn polkit_decides_who_may_change_the_system() {
    let Some(services) = common::system::SystemServices::start() else {
        return;
    };
    let bus = services.address.as_str();
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib\n");
    root.publish();
    root.update();

    // The system instance: its socket in a directory everyone may enter.
    let server = root.env();
    let public = PathBuf::from(format!("/tmp/omg-system-{}", std::process::id()));
    std::fs::create_dir_all(&public).unwrap();
    std::fs::set_permissions(&public, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let socket = public.join("omgd.sock");
    let log = server.dir.path().join("omgd.log");
    let _daemon = common::Daemon {
        child: server
            .command(*common::OMGD)
            .args(["--system", "--foreground", "--verbose", "--socket"])
            .arg(&socket)
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    };
    common::wait_for_socket(&socket);

    // An unprivileged user, as omg runs for them.
    let client = common::Env::new();
    std::fs::create_dir_all(client.dir.path().join("home")).unwrap();
    common::give_to_nobody(client.dir.path());
    let omg_as_nobody = |args: &[&str]| -> common::Run {
        client
            .command("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--init-groups"])
            .arg(*common::OMG)
            .args(args)
            .env("HOME", client.dir.path().join("home"))
            .env("PATH", "/usr/bin:/bin")
            .env("OMG_SYSTEM_SOCKET", &socket)
            .env("APT_CONFIG", &root.conf)
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    };

    let denied = omg_as_nobody(&["install", "omg-app", "--noconfirm"]);
    assert_eq!(denied.code, 1, "{}\n{}", denied.stdout, denied.stderr);
    assert!(
        denied.stderr.contains("not authorized"),
        "{}",
        denied.stderr
    );
    assert!(
        denied.stderr.contains("io.github.omg.install"),
        "{}",
        denied.stderr
    );
    assert!(root.installed().is_empty());
    // Pins and rollbacks have actions of their own.
    for (args, action) in [
        (&["pin", "omg-app", "--noconfirm"][..], "io.github.omg.pin"),
        (&["rollback", "--noconfirm"][..], "io.github.omg.downgrade"),
    ] {
        let denied = omg_as_nobody(args);
        assert_eq!(denied.code, 1, "{args:?}: {}", denied.stderr);
        assert!(
            denied.stderr.contains(action),
            "{args:?}: {}",
            denied.stderr
        );
    }

    // The same on the bus: polkit says no for nobody's bus name.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !introspect(bus, "/io/github/omg").contains("io.github.omg.Manager1") {
        assert!(
            Instant::now() < deadline,
            "omgd never appeared on the system bus"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let served = introspect(bus, "/io/github/omg");
    for (name, file) in [
        ("io.github.omg.Manager1", "io.github.omg.Manager1.xml"),
        ("io.github.omg.Status1", "io.github.omg.Status1.xml"),
    ] {
        assert_eq!(interface(&served, name), interface(&shipped(file), name));
    }
    let refused = call(
        bus,
        true,
        "/io/github/omg",
        "io.github.omg.Manager1.Install",
        &["['omg-app']"],
    );
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("not authorized"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("io.github.omg.install"),
        "{}",
        refused.stderr
    );
    assert!(root.installed().is_empty());

    // Root may.
    as_root(
        &socket,
        TransactionAction::Install {
            targets: vec!["omg-app".into()],
        },
    )
    .unwrap();
    assert_eq!(root.installed().len(), 2);

    // Through the bus, as root: a transaction object reports how it went.
    let started = call(
        bus,
        false,
        "/io/github/omg",
        "io.github.omg.Manager1.Remove",
        &["['omg-app']"],
    );
    assert_eq!(started.code, 0, "{}", started.stderr);
    let path = started
        .stdout
        .split('\'')
        .nth(1)
        .expect("an object path")
        .to_string();
    assert!(path.starts_with("/io/github/omg/Transaction/"), "{path}");
    let property = |name: &str| {
        call(
            bus,
            false,
            &path,
            "org.freedesktop.DBus.Properties.Get",
            &["io.github.omg.Transaction1", name],
        )
        .stdout
        .trim()
        .to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while property("Status") != "(<'finished'>,)" {
        assert!(Instant::now() < deadline, "the transaction never finished");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        property("ExitCode"),
        "(<uint32 0>,)",
        "{}",
        property("ErrorMessage")
    );
    assert_eq!(property("Role"), "(<'remove'>,)");
    assert_eq!(property("Percentage"), "(<uint32 100>,)");
    let transaction = introspect(bus, &path);
    assert_eq!(
        interface(&transaction, "io.github.omg.Transaction1"),
        interface(
            &shipped("io.github.omg.Transaction1.xml"),
            "io.github.omg.Transaction1"
        ),
        "{transaction}"
    );
    assert_eq!(
        root.installed(),
        [("omg-lib".to_string(), "1.0".to_string())]
    );

    // apt itself, with the shipped DPkg::Post-Invoke snippet: the system
    // instance hears of it.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/apt/90omg-notify"),
        root.path("etc/apt/apt.conf.d/90omg-notify"),
    )
    .unwrap();
    let direct = root
        .apt("apt-get")
        .args(["install", "-y", "-q", "omg-app"])
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
        .output()
        .unwrap();
    assert!(
        direct.status.success(),
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("state changed: apt")
    {
        assert!(Instant::now() < deadline, "the hook never reached omgd");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(root.installed().len(), 2);
    as_root(
        &socket,
        TransactionAction::Remove {
            targets: vec!["omg-app".into()],
        },
    )
    .unwrap();

    // A rule for nobody's group: the same kind of request now succeeds.
    common::system::allow_nogroup(&[]);
    let allowed =
        common::system::once_polkit_allows(|| omg_as_nobody(&["remove", "omg-lib", "--noconfirm"]));
    assert_eq!(allowed.code, 0, "{}\n{}", allowed.stdout, allowed.stderr);
    assert!(root.installed().is_empty(), "{:?}", root.installed());

    // Runtimes are per user: not through the system instance.
    let mut raw = common::RawClient::connect(&socket);
    raw.hello();
    raw.send(&ClientFrame::Request(omg::ipc::protocol::Request {
        id: 9,
        body: RequestBody::RuntimeInstall(omg::ipc::protocol::RuntimeInstallRequest {
            runtime: "node".into(),
            request: "20".into(),
            insecure: false,
            make_current: false,
            components: Vec::new(),
            targets: Vec::new(),
            group: None,
        }),
    }));
    loop {
        match raw.receive() {
            Some(ServerFrame::Response(r)) => {
                // Root over the socket is not the parent process either.
                let e = r.result.unwrap_err();
                assert!(
                    e.message.contains("does not take RuntimeInstall"),
                    "{}",
                    e.message
                );
                break;
            }
            Some(_) => continue,
            None => panic!("no answer"),
        }
    }
    let _ = std::fs::remove_dir_all(&public);
}
