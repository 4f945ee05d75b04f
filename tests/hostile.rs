//! The system instance against a hostile local user: a real root
//! `omgd --system` on a private socket, with its own system bus and
//! polkitd, and clients running as `nobody` (this test binary run again
//! through setpriv: `nobody_side` below) that write protocol frames by
//! hand. Every request of the protocol is sent; each attack is refused or
//! bounded, the daemon stays up, root keeps being answered, and nothing
//! on disk changes (the package lists, the dpkg database, the history and
//! the audit log).

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::deb::DebRoot;
use common::system::SystemServices;
use omg::ipc::protocol::{
    ClientFrame, ErrorKind, Hello, PROTOCOL_VERSION, Request, RequestBody, RuntimeInstallRequest,
    SearchRequest, ServerFrame, Sources,
};
use omg::model::ListFilter;
use omg::transaction::{
    Maintenance, MaintenanceRequest, PinChange, TransactionAction, TransactionOptions,
    TransactionRequest,
};

/// A root system instance with tight limits, on a fixture Debian root.
struct Instance {
    root: DebRoot,
    services: SystemServices,
    env: common::Env,
    public: PathBuf,
    socket: PathBuf,
    daemon: Option<common::Daemon>,
    log: PathBuf,
}

const CONFIG: &str = "[daemon]\nhandshake_timeout = 1\nread_timeout = 2\nwrite_timeout = 3\nquestion_timeout = 2\nmax_connections = 64\nmax_connections_per_user = 16\nidle_timeout = 2\n\n[runtimes]\nnode_mirror = \"http://127.0.0.1:1\"\n\n[security]\ndebian_tracker_url = \"http://127.0.0.1:1/tracker.json\"\nosv_url = \"http://127.0.0.1:1\"\ndebian_release = \"bookworm\"\n";

impl Instance {
    /// With `dpkg_seconds`, every dpkg run of the root takes that long (apt
    /// reads its configuration when omgd starts).
    fn start(activated: bool, dpkg_seconds: u32) -> Option<Instance> {
        let services = SystemServices::start()?;
        let root = DebRoot::new();
        root.add("omg-lib", "1.0", "");
        root.add("omg-app", "1.0", "Depends: omg-lib\n");
        root.publish();
        root.update();
        if dpkg_seconds > 0 {
            std::fs::write(
                root.path("etc/apt/apt.conf.d/50slow"),
                format!("DPkg::Pre-Invoke {{ \"sleep {dpkg_seconds}\"; }};\n"),
            )
            .unwrap();
        }
        let env = root.env();
        std::fs::create_dir_all(env.dir.path().join("config")).unwrap();
        std::fs::write(env.dir.path().join("config/config.toml"), CONFIG).unwrap();
        let public = std::env::temp_dir().join(format!("omg-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&public).unwrap();
        std::fs::set_permissions(&public, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let socket = public.join("omgd.sock");
        let log = env.dir.path().join("omgd.log");
        let mut instance = Instance {
            root,
            services,
            env,
            public,
            socket,
            daemon: None,
            log,
        };
        let mut command = if activated {
            let path = std::env::var("PATH").unwrap_or_default();
            let mut c = instance.env.socket_activate(
                &instance.socket,
                &[
                    ("DBUS_SYSTEM_BUS_ADDRESS", &instance.services.address),
                    ("PATH", &path),
                ],
            );
            c.arg(*common::OMGD);
            c.args(["--system", "--verbose"]);
            c
        } else {
            let mut c = instance.env.command(*common::OMGD);
            c.args(["--system", "--foreground", "--verbose", "--socket"])
                .arg(&instance.socket);
            c
        };
        command
            .env("DBUS_SYSTEM_BUS_ADDRESS", &instance.services.address)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&instance.log).unwrap());
        instance.daemon = Some(common::Daemon {
            child: command.spawn().unwrap(),
        });
        common::wait_for_socket(&instance.socket);
        Some(instance)
    }

    /// This test binary's `nobody_side`, as nobody, carrying out `attack`.
    fn as_nobody(&self, attack: &str) -> common::Run {
        Command::new("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "nobody_side",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("OMG_HOSTILE_ATTACK", attack)
            .env("OMG_HOSTILE_SOCKET", &self.socket)
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    /// A search as root, answered.
    fn root_is_answered(&self) {
        let mut client = common::RawClient::connect(&self.socket);
        client.hello();
        client.request(1, common::search("omg"));
        match client.receive() {
            Some(ServerFrame::Response(r)) => {
                assert!(r.result.is_ok(), "{:?}", r.result);
            }
            other => panic!("root was not answered: {other:?}\n{}", self.log_text()),
        }
    }

    fn alive(&mut self) -> bool {
        let daemon = self.daemon.as_mut().unwrap();
        daemon.child.try_wait().unwrap().is_none()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What must not change: the lists, dpkg's status, omg's data.
    fn state(&self) -> common::Snapshot {
        common::Snapshot::of(&[
            self.env.data_dir().join("history.redb"),
            self.env.data_dir().join("runtime-history.redb"),
            self.env.dir.path().join("config/pins.toml"),
            self.root.path("var/lib/apt/lists"),
            self.root.path("var/lib/dpkg"),
            self.root.path("var/cache/apt"),
            self.env.data_dir().join("audit"),
            self.env.data_dir().join("versions"),
        ])
    }

    /// The daemon's resident memory, from /proc.
    fn rss_kib(&self) -> u64 {
        let pid = self.daemon.as_ref().unwrap().pid();
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.child.kill();
            let _ = daemon.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.public);
    }
}

/// Every request of the protocol, with the refusal it must get from
/// nobody (`None`: answered, or an error that is not a refusal).
fn every_request() -> Vec<(RequestBody, Option<&'static str>)> {
    let tx = |action: TransactionAction, dry_run: bool| {
        RequestBody::Transaction(TransactionRequest {
            action,
            options: TransactionOptions {
                dry_run,
                refresh: true,
                noconfirm: true,
                ..TransactionOptions::default()
            },
        })
    };
    let maintain = |task: Maintenance| {
        RequestBody::Maintain(MaintenanceRequest {
            task,
            dry_run: true,
            noconfirm: true,
            interactive: false,
        })
    };
    let requests = vec![
        (
            RequestBody::Search(SearchRequest {
                query: "omg".into(),
                limit: 5,
                installed_only: false,
                sources: Sources::All,
            }),
            None,
        ),
        (
            RequestBody::Info {
                name: "omg-app".into(),
            },
            None,
        ),
        (
            RequestBody::List {
                filter: ListFilter::All,
            },
            None,
        ),
        (RequestBody::Status, None),
        (RequestBody::DaemonStatus, None),
        (RequestBody::Reload, Some("only root may send Reload")),
        (RequestBody::Shutdown, Some("only root may send Shutdown")),
        (
            tx(TransactionAction::Upgrade, true),
            Some("io.github.omg.upgrade"),
        ),
        (
            tx(
                TransactionAction::Install {
                    targets: vec!["omg-app".into()],
                },
                true,
            ),
            Some("io.github.omg.install"),
        ),
        (
            tx(
                TransactionAction::Install {
                    targets: vec!["/tmp/evil_1.0_all.deb".into()],
                },
                true,
            ),
            Some("io.github.omg.install-untrusted"),
        ),
        (
            tx(
                TransactionAction::Remove {
                    targets: vec!["omg-lib".into()],
                },
                false,
            ),
            Some("io.github.omg.remove"),
        ),
        (
            tx(TransactionAction::Sync { force: true }, true),
            Some("io.github.omg.refresh"),
        ),
        (
            tx(
                TransactionAction::Rollback {
                    id: None,
                    partial: true,
                    steps: Vec::new(),
                    archive: None,
                    group: Some("../../etc/shadow".into()),
                },
                true,
            ),
            Some("io.github.omg.downgrade"),
        ),
        (
            maintain(Maintenance::Pin(PinChange {
                package: "omg-app".into(),
                spec: Some("*".into()),
                unpin: false,
            })),
            Some("io.github.omg.pin"),
        ),
        (
            maintain(Maintenance::CleanCache { keep: 0 }),
            Some("io.github.omg.remove"),
        ),
        (
            RequestBody::AurPlan {
                targets: vec!["yay".into()],
            },
            None,
        ),
        (RequestBody::AurUpdates, None),
        (
            RequestBody::RuntimeAvailable {
                runtime: "node".into(),
            },
            None,
        ),
        (
            RequestBody::RuntimeInstall(RuntimeInstallRequest {
                runtime: "node".into(),
                request: "20".into(),
                insecure: true,
                make_current: true,
                components: Vec::new(),
                targets: Vec::new(),
                group: Some("x".repeat(4096)),
            }),
            Some("does not take RuntimeInstall"),
        ),
        (RequestBody::Audit { refresh: false }, None),
        (
            RequestBody::Audit { refresh: true },
            Some("io.github.omg.refresh"),
        ),
        (RequestBody::PolicyCheck, None),
        (RequestBody::Outdated { refresh: false }, None),
        (
            RequestBody::Outdated { refresh: true },
            Some("io.github.omg.refresh"),
        ),
        (RequestBody::Graph, None),
        (RequestBody::Metrics, None),
        (RequestBody::Restarts, None),
        (RequestBody::News { all: true }, None),
        (
            RequestBody::Complete {
                prefix: "omg-".into(),
            },
            None,
        ),
        (
            // Longer than any query (within nobody's frame limit): refused
            // as invalid, not searched.
            RequestBody::Complete {
                prefix: "x".repeat(60_000),
            },
            None,
        ),
        (
            RequestBody::Restart {
                units: vec!["ssh.service".into()],
                sensitive: true,
                interactive: false,
            },
            Some("io.github.omg.restart"),
        ),
        (
            RequestBody::VerifyProvenance {
                file: "/etc/shadow".into(),
                bundle: "/dev/zero".into(),
                identity: "x".into(),
                issuer: "y".into(),
                trusted_root: None,
            },
            Some("does not take VerifyProvenance"),
        ),
        (
            RequestBody::Osv {
                queries: Vec::new(),
                refresh: true,
            },
            Some("only root may send Osv"),
        ),
        (
            RequestBody::VerifyFile {
                file: "/etc/shadow".into(),
                signature: "/dev/zero".into(),
                keyring: "/root".into(),
            },
            Some("does not take VerifyFile"),
        ),
        (
            RequestBody::VerifySignatures {
                dir: "/root".into(),
                pairs: vec![("a".into(), "a.sig".into())],
                validpgpkeys: Vec::new(),
            },
            Some("does not take VerifySignatures"),
        ),
        (
            RequestBody::Versions {
                name: "omg-app".into(),
                archive: false,
            },
            None,
        ),
        (
            // Matched as a string against the file lists: nothing is read.
            RequestBody::Owns {
                paths: vec!["/etc/shadow".into(), "/root/.ssh/id_ed25519".into()],
            },
            None,
        ),
        (
            RequestBody::Files {
                name: "omg-app".into(),
            },
            None,
        ),
        (
            RequestBody::Provides {
                names: vec!["rg".into(), "/etc/shadow".into()],
                ask_aur: false,
            },
            None,
        ),
        (
            // The archive's listing is fetched by a user's own daemon only.
            RequestBody::Versions {
                name: "omg-app".into(),
                archive: true,
            },
            Some("does not take Versions"),
        ),
        (
            tx(
                TransactionAction::Downgrade {
                    name: "omg-app".into(),
                    version: "0.9".into(),
                    file: None,
                },
                true,
            ),
            Some("io.github.omg.downgrade"),
        ),
        (
            tx(
                TransactionAction::Downgrade {
                    name: "omg-app".into(),
                    version: "0.9".into(),
                    file: Some("/tmp/omg-app_0.9_all.deb".into()),
                },
                true,
            ),
            Some("io.github.omg.install-untrusted"),
        ),
    ];
    // Every variant is here: a new one does not compile until it is.
    for (body, _) in &requests {
        match body {
            RequestBody::Search(_)
            | RequestBody::Info { .. }
            | RequestBody::List { .. }
            | RequestBody::Status
            | RequestBody::DaemonStatus
            | RequestBody::Reload
            | RequestBody::Shutdown
            | RequestBody::Transaction(_)
            | RequestBody::Versions { .. }
            | RequestBody::Owns { .. }
            | RequestBody::Files { .. }
            | RequestBody::Provides { .. }
            | RequestBody::Maintain(_)
            | RequestBody::AurPlan { .. }
            | RequestBody::AurUpdates
            | RequestBody::RuntimeAvailable { .. }
            | RequestBody::RuntimeInstall(_)
            | RequestBody::Audit { .. }
            | RequestBody::PolicyCheck
            | RequestBody::Outdated { .. }
            | RequestBody::Graph
            | RequestBody::VerifyProvenance { .. }
            | RequestBody::Osv { .. }
            | RequestBody::VerifyFile { .. }
            | RequestBody::VerifySignatures { .. }
            | RequestBody::Metrics
            | RequestBody::Restarts
            | RequestBody::News { .. }
            | RequestBody::Complete { .. }
            | RequestBody::Restart { .. } => {}
        }
    }
    requests
}

/// The client side, as nobody: run by `Instance::as_nobody` (ignored
/// in the suite itself). Prints one line per outcome.
#[test]
#[ignore = "run as nobody by the tests of this file"]
fn nobody_side() {
    let attack = std::env::var("OMG_HOSTILE_ATTACK").expect("OMG_HOSTILE_ATTACK");
    let socket = PathBuf::from(std::env::var("OMG_HOSTILE_SOCKET").expect("OMG_HOSTILE_SOCKET"));
    match attack.as_str() {
        "requests" => {
            for (i, (body, _)) in every_request().into_iter().enumerate() {
                let mut client = Raw::connect(&socket);
                client.hello();
                client.send(&ClientFrame::Request(Request { id: i as u32, body }));
                let outcome = loop {
                    match client.receive() {
                        Some(ServerFrame::Response(r)) => break r.result,
                        Some(ServerFrame::Event { .. }) => continue,
                        other => panic!("request {i}: {other:?}"),
                    }
                };
                match outcome {
                    Ok(_) => println!("request {i}: ok"),
                    Err(e) => println!(
                        "request {i}: {:?}: {}",
                        e.kind,
                        e.message.replace('\n', " ")
                    ),
                }
            }
        }
        "big-frame" => {
            let mut client = Raw::connect(&socket);
            client.hello();
            // A header claiming 16 MiB, and a little of it.
            client.write(&(16u32 << 20).to_be_bytes());
            client.write(&[0u8; 1024]);
            println!("big-frame: {:?}", client.receive());
        }
        "silent" => {
            let client = Raw::connect(&socket);
            let started = Instant::now();
            let mut client = client;
            let answer = client.receive();
            println!(
                "silent: {:?} after {} ms",
                answer,
                started.elapsed().as_millis()
            );
        }
        "header-only" => {
            let mut client = Raw::connect(&socket);
            client.hello();
            client.write(&(60u32 << 10).to_be_bytes());
            let started = Instant::now();
            println!(
                "header-only: {:?} after {} ms",
                client.receive(),
                started.elapsed().as_millis()
            );
        }
        "garbage" => {
            let mut client = Raw::connect(&socket);
            client.write(&[0, 0, 0, 8, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8]);
            println!("garbage: {:?}", client.receive());
        }
        "no-read" => {
            // Thousands of requests, never reading an answer.
            let mut client = Raw::connect(&socket);
            client.hello();
            client.stream.set_nonblocking(true).unwrap();
            let mut sent = 0;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(6) {
                let frame = ClientFrame::Request(Request {
                    id: sent,
                    body: RequestBody::List {
                        filter: ListFilter::All,
                    },
                });
                let bytes = omg::ipc::codec::frame(&frame).unwrap();
                match client.stream.write_all(&bytes) {
                    Ok(()) => sent += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(_) => break,
                }
            }
            // The daemon hung up on a client that took nothing.
            client.stream.set_nonblocking(false).unwrap();
            let mut rest = Vec::new();
            let _ = client.stream.read_to_end(&mut rest);
            println!("no-read: sent {sent}, the daemon hung up");
        }
        "flood" => {
            // 300 connections at once, none saying Hello.
            let streams: Vec<UnixStream> = (0..300)
                .filter_map(|_| UnixStream::connect(&socket).ok())
                .collect();
            std::thread::sleep(Duration::from_millis(150));
            let (mut open, mut refused) = (0, 300 - streams.len());
            for stream in &streams {
                stream.set_nonblocking(true).unwrap();
                let mut byte = [0u8; 1];
                match (&*stream).read(&mut byte) {
                    // Told "too many connections" and closed at once.
                    Ok(_) => refused += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
                    Err(_) => refused += 1,
                }
            }
            println!("flood: {open} open, {refused} refused");
            std::io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_millis(600));
        }
        other => panic!("unknown attack {other}"),
    }
}

/// A raw protocol client that fails softly (for the nobody side).
struct Raw {
    stream: UnixStream,
}

impl Raw {
    fn connect(path: &Path) -> Raw {
        let stream = UnixStream::connect(path).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Raw { stream }
    }

    fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    fn send(&mut self, frame: &ClientFrame) {
        self.write(&omg::ipc::codec::frame(frame).unwrap());
    }

    fn hello(&mut self) {
        self.send(&ClientFrame::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "hostile\u{1b}[2J".into(),
        }));
        match self.receive() {
            Some(ServerFrame::Welcome(_)) => {}
            other => panic!("expected Welcome, got {other:?}"),
        }
    }

    fn receive(&mut self) -> Option<ServerFrame> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).ok()?;
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut payload).ok()?;
        omg::ipc::codec::decode(&payload).ok()
    }
}

#[test]
fn nobody_is_refused_or_bounded_and_changes_nothing() {
    let Some(mut instance) = Instance::start(false, 0) else {
        return;
    };
    instance.root_is_answered();
    let before = instance.state();

    // Every request of the protocol, as nobody.
    let run = instance.as_nobody("requests");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (i, (body, refusal)) in every_request().iter().enumerate() {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(&format!("request {i}: ")))
            .unwrap_or_else(|| panic!("no outcome for request {i}: {}", run.stdout));
        match refusal {
            Some(text) => {
                assert!(line.contains("NotAuthorized"), "{body:?}: {line}");
                assert!(line.contains(text), "{body:?}: {line}");
            }
            None => assert!(!line.contains("NotAuthorized"), "{body:?}: {line}"),
        }
        if matches!(body, RequestBody::Complete { prefix } if prefix.len() > 256) {
            assert!(
                line.contains("InvalidRequest: the search query is longer"),
                "{line}"
            );
        }
    }
    assert!(instance.alive(), "{}", instance.log_text());
    instance.root_is_answered();

    // Frames over nobody's limit are refused from the header.
    let run = instance.as_nobody("big-frame");
    assert!(
        run.stdout
            .contains("over this connection's limit of 65536 bytes"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    // Silence, before Hello or inside a frame, is hung up on.
    let run = instance.as_nobody("silent");
    assert!(run.stdout.contains("no Hello within 1 s"), "{}", run.stdout);
    let run = instance.as_nobody("header-only");
    assert!(
        run.stdout.contains("no request within 2 s"),
        "{}",
        run.stdout
    );
    let run = instance.as_nobody("garbage");
    assert!(run.stdout.contains("Fatal"), "{}", run.stdout);
    // A client that reads nothing is hung up on; the daemon does not
    // buffer answers for it.
    let run = instance.as_nobody("no-read");
    assert!(run.stdout.contains("the daemon hung up"), "{}", run.stdout);

    // A flood: nobody gets its share of connections, root is answered
    // while they are held.
    let rss_before = instance.rss_kib();
    let mut flood = Command::new("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "nobody_side",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OMG_HOSTILE_ATTACK", "flood")
        .env("OMG_HOSTILE_SOCKET", &instance.socket)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = flood.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buffer = [0u8; 256];
    while !seen.contains("flood:") {
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "the flood ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    instance.root_is_answered();
    let rss_during = instance.rss_kib();
    let _ = flood.wait();
    let line = seen
        .lines()
        .find(|l| l.contains("flood:"))
        .unwrap()
        .to_string();
    let open: u32 = line
        .split("flood: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(open <= 16, "{line}");
    assert!(line.contains("refused"), "{line}");
    assert!(
        rss_during < rss_before + 64 * 1024,
        "{rss_before} KiB before, {rss_during} KiB during the flood"
    );

    assert!(instance.alive(), "{}", instance.log_text());
    instance.root_is_answered();
    // Nothing changed on disk during the attacks.
    before.assert_unchanged();
    // The client's name reached the log without its escape sequence.
    assert!(!instance.log_text().contains('\u{1b}'));
}

#[test]
fn an_unanswered_question_lets_go_of_the_lock() {
    let Some(instance) = Instance::start(false, 0) else {
        return;
    };
    let install = |noconfirm: bool| {
        RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Install {
                targets: vec!["omg-app".into()],
            },
            options: TransactionOptions {
                noconfirm,
                ..TransactionOptions::default()
            },
        })
    };
    // Root asks, and never answers the question.
    let mut silent = common::RawClient::connect(&instance.socket);
    silent.hello();
    silent.request(1, install(false));
    let started = Instant::now();
    let outcome = loop {
        match silent.receive() {
            Some(ServerFrame::Response(r)) => break r.result,
            Some(_) => continue,
            None => panic!("no answer"),
        }
    };
    let e = outcome.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Aborted, "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(instance.root.installed().is_empty());
    // The lock is free: the next transaction goes through.
    let mut client = common::RawClient::connect(&instance.socket);
    client.hello();
    client.request(2, install(true));
    let outcome = loop {
        match client.receive() {
            Some(ServerFrame::Response(r)) => break r.result,
            Some(_) => continue,
            None => panic!("no answer"),
        }
    };
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(instance.root.installed().len(), 2);
}

#[test]
fn a_bus_transaction_outlasts_the_idle_timeout() {
    // dpkg takes 6 s in this root; the idle timeout is 2 s.
    let Some(mut instance) = Instance::start(true, 6) else {
        return;
    };
    // The first connection started omgd; it is on the bus once it answers.
    instance.root_is_answered();
    let bus = instance.services.address.clone();
    let gdbus = |args: &[&str]| -> common::Run {
        Command::new("gdbus")
            .args(args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &bus)
            .output()
            .unwrap()
            .into()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let started = loop {
        let run = gdbus(&[
            "call",
            "--system",
            "--dest",
            "io.github.omg",
            "--object-path",
            "/io/github/omg",
            "--method",
            "io.github.omg.Manager1.Install",
            "['omg-app']",
        ]);
        if run.code == 0 {
            break run;
        }
        assert!(Instant::now() < deadline, "{}", run.stderr);
        std::thread::sleep(Duration::from_millis(100));
    };
    let path = started.stdout.split('\'').nth(1).unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = |name: &str| {
        gdbus(&[
            "call",
            "--system",
            "--dest",
            "io.github.omg",
            "--object-path",
            &path,
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            "io.github.omg.Transaction1",
            name,
        ])
        .stdout
        .trim()
        .to_string()
    };
    loop {
        let now = status("Status");
        if now == "(<'finished'>,)" {
            break;
        }
        assert!(
            instance.alive(),
            "omgd exited with the transaction under way:\n{}",
            instance.log_text()
        );
        assert!(Instant::now() < deadline, "never finished: {now}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        status("ExitCode"),
        "(<uint32 0>,)",
        "{}\n{}",
        status("ErrorMessage"),
        instance.log_text()
    );
    assert!(
        instance
            .root
            .installed()
            .contains(&("omg-app".to_string(), "1.0".to_string()))
    );
    // Then it goes idle and exits, as a socket-activated daemon does.
    let deadline = Instant::now() + Duration::from_secs(20);
    while instance.alive() {
        assert!(Instant::now() < deadline, "omgd never exited when idle");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn through_sudo_omgd_takes_only_roots_own_files() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return common::skip::<()>("sudo's root omgd is tested as root").unwrap_or(());
    }
    let env = common::Env::new();
    // A pacman.conf of the user's, whose HookDir would run as root.
    let users = env.dir.path().join("mine");
    std::fs::create_dir_all(&users).unwrap();
    let conf = users.join("pacman.conf");
    std::fs::write(&conf, "[options]\nHookDir = /home/someone/hooks\n").unwrap();
    common::give_to_nobody(&users);
    let run: common::Run = env
        .command(*common::OMGD)
        .args(["--stdio", "--system", "--backend", "alpm", "--pacman-conf"])
        .arg(&conf)
        .env("SUDO_UID", "65534")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into();
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("refusing") && run.stderr.contains("not root"),
        "{}",
        run.stderr
    );
    // Root's own file in a root-owned directory is taken.
    let roots = env.dir.path().join("roots");
    std::fs::create_dir_all(&roots).unwrap();
    let conf = roots.join("pacman.conf");
    std::fs::write(&conf, "[options]\n").unwrap();
    let run: common::Run = env
        .command(*common::OMGD)
        .args(["--stdio", "--system", "--backend", "alpm", "--pacman-conf"])
        .arg(&conf)
        .env("SUDO_UID", "65534")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into();
    assert!(!run.stderr.contains("refusing"), "{}", run.stderr);
    // Files others may write are refused too, even root's.
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let run: common::Run = env
        .command(*common::OMGD)
        .args(["--stdio", "--system", "--backend", "alpm", "--pacman-conf"])
        .arg(&conf)
        .env("SUDO_UID", "65534")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into();
    assert!(
        run.stderr
            .contains("may be written by users other than root"),
        "{}",
        run.stderr
    );
}

/// `omg ARGS` as nobody, asking the instance's system socket.
fn omg_as_nobody(instance: &Instance, client: &common::Env, args: &[&str]) -> common::Run {
    client
        .command("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--init-groups"])
        .arg(*common::OMG)
        .args(args)
        .env("HOME", client.dir.path().join("home"))
        .env("PATH", "/usr/bin:/bin")
        .env("OMG_SYSTEM_SOCKET", &instance.socket)
        .env("APT_CONFIG", &instance.root.conf)
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into()
}

#[test]
fn a_package_file_from_another_user_is_read_with_their_rights() {
    let Some(instance) = Instance::start(false, 0) else {
        return;
    };
    // polkit lets nobody's group install anything.
    common::system::allow_nogroup(&[]);
    let client = common::Env::new();
    std::fs::create_dir_all(client.dir.path().join("home")).unwrap();
    // nobody's own package file, a root-only one, and nobody's link to it.
    let mine = instance.public.join("mine");
    let secret = instance.public.join("secret");
    for dir in [&mine, &secret] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let deb = |name: &str| instance.root.path(&format!("repo/{name}_1.0_all.deb"));
    std::fs::copy(deb("omg-lib"), mine.join("omg-lib_1.0_all.deb")).unwrap();
    std::fs::copy(deb("omg-lib"), secret.join("omg-lib_1.0_all.deb")).unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(
        secret.join("omg-lib_1.0_all.deb"),
        mine.join("linked_1.0_all.deb"),
    )
    .unwrap();
    common::give_to_nobody(client.dir.path());
    common::system_with(
        Command::new("chown")
            .args(["-h", "-R", "nobody:nogroup"])
            .arg(&mine),
    );
    let own = mine.join("omg-lib_1.0_all.deb").display().to_string();
    // Once polkit has read the rule, nobody's own file installs.
    let installed = common::system::once_polkit_allows(|| {
        omg_as_nobody(&instance, &client, &["install", &own, "--noconfirm"])
    });
    assert_eq!(
        installed.code, 0,
        "{}\n{}",
        installed.stdout, installed.stderr
    );
    assert_eq!(
        instance.root.installed(),
        [("omg-lib".to_string(), "1.0".to_string())]
    );
    // The copy it was installed from is gone with its staging directory.
    let staging = instance.env.dir.path().join("cache/staging");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);

    // A file nobody may not read is not read for them, directly or
    // through their link.
    for (target, why) in [
        (secret.join("omg-lib_1.0_all.deb"), "Permission denied"),
        (mine.join("linked_1.0_all.deb"), "symbolic links"),
    ] {
        let target = target.display().to_string();
        let run = omg_as_nobody(&instance, &client, &["install", &target, "--noconfirm"]);
        assert_ne!(run.code, 0, "{target}: {}", run.stdout);
        assert!(run.stderr.contains(why), "{target}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
}

#[test]
fn sigterm_waits_for_the_transaction_under_way() {
    // dpkg takes 15 s here: more than the 10 s omgd gives requests after
    // the signal.
    let Some(mut instance) = Instance::start(false, 15) else {
        return;
    };
    let mut client = common::RawClient::connect(&instance.socket);
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    client.hello();
    client.request(
        1,
        RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Install {
                targets: vec!["omg-app".into()],
            },
            options: TransactionOptions {
                noconfirm: true,
                ..TransactionOptions::default()
            },
        }),
    );
    // Once dpkg is on its way, omgd is told to stop.
    std::thread::sleep(Duration::from_secs(2));
    let pid = instance.daemon.as_ref().unwrap().pid();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let outcome = loop {
        match client.receive() {
            Some(ServerFrame::Response(r)) => break r.result,
            Some(_) => continue,
            None => panic!("omgd left without answering:\n{}", instance.log_text()),
        }
    };
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(instance.root.installed().len(), 2);
    let deadline = Instant::now() + Duration::from_secs(30);
    while instance.alive() {
        assert!(Instant::now() < deadline, "omgd did not stop afterwards");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn overriding_the_policy_is_an_authorization_of_its_own() {
    let Some(instance) = Instance::start(false, 0) else {
        return;
    };
    // nobody's group may install, but not against the policy.
    common::system::allow_nogroup(&["io.github.omg.override-policy"]);
    std::fs::write(
        instance.env.dir.path().join("config/policy.toml"),
        "blocked_packages = [\"omg-app\"]\n",
    )
    .unwrap();
    let client = common::Env::new();
    std::fs::create_dir_all(client.dir.path().join("home")).unwrap();
    common::give_to_nobody(client.dir.path());
    // Once polkit has read the rule, an allowed install goes through.
    let allowed = common::system::once_polkit_allows(|| {
        omg_as_nobody(&instance, &client, &["install", "omg-lib", "--noconfirm"])
    });
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    let refused = omg_as_nobody(
        &instance,
        &client,
        &["install", "omg-app", "--override-policy", "--noconfirm"],
    );
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("io.github.omg.override-policy"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        instance.root.installed(),
        [("omg-lib".to_string(), "1.0".to_string())]
    );
}
