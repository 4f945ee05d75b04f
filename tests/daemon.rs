//! The socket daemon: systemd socket activation (real systemd tools), its
//! notifications, idle exit and re-activation, identical answers through the
//! daemon and the one-shot child, hostile clients, load, graceful stop, and
//! invalidation when the package database changes.

mod common;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{AptRoot, Env, OMGD, RawClient, search, system_with, wait_for_socket};
use omg::ipc::protocol::{ErrorKind, PROTOCOL_VERSION, RequestBody, ResponseBody, ServerFrame};

fn ok_body(frame: Option<ServerFrame>, id: u32) -> ResponseBody {
    match frame {
        Some(ServerFrame::Response(r)) => {
            assert_eq!(r.id, id);
            r.result.expect("a successful response")
        }
        other => panic!("expected response {id}, got {other:?}"),
    }
}

#[test]
fn units_pass_systemd_analyze_verify() {
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    for (instance, flags) in [("system", vec![]), ("user", vec!["--user"])] {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(units.join(instance)).unwrap().flatten() {
            // The units name the installed binary; point them at this build.
            let text = std::fs::read_to_string(entry.path())
                .unwrap()
                .replace("/usr/bin/omgd", *OMGD);
            // The command line each unit runs is one omgd accepts.
            for line in text.lines() {
                if let Some(command) = line.strip_prefix("ExecStart=") {
                    let words: Vec<&str> = command.split_whitespace().collect();
                    let out = Command::new(words[0])
                        .args(&words[1..])
                        .arg("--help")
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}: {command}: {}",
                        entry.path().display(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
            let target = dir.path().join(entry.file_name());
            std::fs::write(&target, text).unwrap();
            files.push(target);
        }
        assert_eq!(
            files.len(),
            6,
            "{instance}: socket, service, refresh and scan services and timers"
        );
        let runtime = tempfile::tempdir().unwrap();
        let out = Command::new("systemd-analyze")
            .args(&flags)
            .args(["--man=no", "verify"])
            .args(&files)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .output()
            .expect("run systemd-analyze");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{instance} units: {stderr}"
        );
    }
}

#[test]
fn socket_activation_notifies_ready_answers_and_idles_out() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    env.configure("[daemon]\nidle_timeout = 1\n");
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    let notify_path = env.dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    // Read every notification as systemd does (an unread queue would block
    // the sender).
    let messages = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let messages = messages.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = notify.recv(&mut buf) {
                let mut m = messages.lock().unwrap();
                m.push_str(&String::from_utf8_lossy(&buf[..n]));
                m.push('\n');
            }
        });
    }

    let notify = notify_path.display().to_string();
    let mut activate = env.socket_activate(
        &env.socket(),
        &[("NOTIFY_SOCKET", &notify), ("WATCHDOG_USEC", "200000")],
    );
    activate
        .arg(*OMGD)
        .arg("--user")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut activator = activate.spawn().expect("systemd-socket-activate");
    wait_for_socket(&env.socket());

    // The first request starts omgd on the inherited socket.
    let started = Instant::now();
    let run = env.omg(&["--verbose", "search", "--json", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("using omgd"),
        "answered by the daemon: {}",
        run.stderr
    );
    assert!(run.stdout.contains("hello-omg"));

    let wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = messages.lock().unwrap().clone();
            if text.contains(what) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} from omgd; got {text:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let text = wait_for("READY=1");
    assert!(text.contains("STATUS="), "{text}");
    // The watchdog is fed at half its interval.
    wait_for("WATCHDOG=1");

    let status = env.json(&["daemon", "status", "--json"]);
    assert_eq!(status["mode"], "socket-activated");
    assert_eq!(status["idle_timeout_secs"], 1);

    // Idle for a second: omgd exits by itself, cleanly, telling systemd.
    let code = loop {
        if let Some(status) = activator.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "omgd did not exit when idle"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    let mut stderr = String::new();
    activator
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    wait_for("STOPPING=1");
    // It did not remove the socket: systemd owns it.
    assert!(env.socket().exists());
}

/// Starts omgd the way systemd does: the listening socket as fd 3 and
/// `LISTEN_FDS=1`.
fn activate(env: &Env, listener: &UnixListener) -> std::process::Child {
    let fd = listener.as_raw_fd();
    let mut command = env.command(*OMGD);
    command
        .arg("--user")
        .env("LISTEN_FDS", "1")
        .env_remove("LISTEN_PID")
        .arg("--verbose")
        .stdout(Stdio::null());
    unsafe {
        command.pre_exec(move || {
            // dup2 onto itself would keep close-on-exec: clear it instead.
            let ok = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0) >= 0
            } else {
                libc::dup2(fd, 3) >= 0
            };
            if ok {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command.spawn().expect("start omgd")
}

#[test]
fn next_connection_after_idle_exit_starts_it_again() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    env.configure("[daemon]\nidle_timeout = 1\n");
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    let listener = UnixListener::bind(env.socket()).unwrap();
    let mut pids = Vec::new();
    for round in 0..2 {
        // A client connects while no omgd runs: the connection waits in
        // the socket's queue, as it does under systemd.
        let mut client = RawClient::connect(&env.socket());
        let mut daemon = activate(&env, &listener);
        client.hello();
        client.request(1, search("greeter"));
        match ok_body(client.receive(), 1) {
            ResponseBody::Search(r) => assert_eq!(r.hits[0].name, "greeter-alt", "round {round}"),
            other => panic!("{other:?}"),
        }
        drop(client);
        pids.push(daemon.id());
        let started = Instant::now();
        let status = loop {
            if let Some(s) = daemon.try_wait().unwrap() {
                break s;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no idle exit");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success());
    }
    assert_ne!(pids[0], pids[1], "a new process answered the second time");
}

#[test]
fn daemon_and_one_shot_outputs_are_identical() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let queries: Vec<Vec<&str>> = vec![
        vec!["search", "omg"],
        vec!["search", "--json", "greeter"],
        vec!["search", "--installed", "--json", "omg"],
        vec!["info", "hello-omg"],
        vec!["info", "--json", "editor-omg", "localtool-omg"],
        vec!["info", "helo-omg"],
        vec!["list"],
        vec!["list", "--json"],
        vec!["list", "--explicit"],
        vec!["list", "--upgradable", "--json"],
        vec!["list", "--orphans"],
        vec!["status", "--json"],
        vec!["status"],
        vec!["search", ""],
        vec!["search", "hello", "omg"],
        vec!["search", "nothing-is-called-this"],
        vec!["__complete", "hel"],
        vec!["__complete", "e"],
        vec!["__complete", "nothing-is-called-this"],
    ];
    let one_shot: Vec<_> = queries
        .iter()
        .map(|q| env.omg(&[&["--no-daemon"], &q[..]].concat()))
        .collect();
    // Completion gives the names that start with the prefix, nothing else
    // (the search behind it also matches descriptions).
    let completed = |prefix: &str| {
        let at = queries.iter().position(|q| q[..] == ["__complete", prefix]);
        one_shot[at.unwrap()].stdout.clone()
    };
    assert_eq!(completed("hel"), "hello-omg\n");
    assert_eq!(completed("e"), "editor-omg\n");
    assert_eq!(completed("nothing-is-called-this"), "");
    // Without the option, a plain search or completion takes the short
    // path (no argument parser, the snapshot read in this process): same
    // answers.
    for (query, expected) in queries.iter().zip(&one_shot) {
        let short = env.omg(query);
        assert_eq!(short.code, expected.code, "{query:?}");
        assert_eq!(short.stdout, expected.stdout, "{query:?}");
        assert_eq!(short.stderr, expected.stderr, "{query:?}");
    }
    let _daemon = env.start_daemon();
    let verbose = env.omg(&["--verbose", "status"]);
    assert!(verbose.stderr.contains("using omgd"), "{}", verbose.stderr);
    for (query, expected) in queries.iter().zip(&one_shot) {
        let via_daemon = env.omg(query);
        assert_eq!(via_daemon.code, expected.code, "{query:?}");
        assert_eq!(via_daemon.stdout, expected.stdout, "{query:?}");
        assert_eq!(via_daemon.stderr, expected.stderr, "{query:?}");
    }
}

#[test]
fn bad_clients_do_not_disturb_others() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let daemon = env.start_daemon();
    let mut good = RawClient::connect(&env.socket());
    good.hello();
    let mut id = 0;
    let mut check_good = |good: &mut RawClient| {
        id += 1;
        good.request(id, search("hello"));
        assert!(matches!(
            ok_body(good.receive(), id),
            ResponseBody::Search(_)
        ));
    };
    check_good(&mut good);

    let fatal = |c: &mut RawClient| match c.receive() {
        Some(ServerFrame::Fatal(e)) => {
            assert_eq!(e.kind, ErrorKind::BadFrame);
            assert!(c.receive().is_none(), "closed after the error");
        }
        other => panic!("expected a fatal error frame, got {other:?}"),
    };

    // Oversized length prefix: refused without reading (or allocating) it.
    let mut c = RawClient::connect(&env.socket());
    c.hello();
    c.send_raw(&0xffff_fff0u32.to_be_bytes());
    fatal(&mut c);
    check_good(&mut good);

    // Garbage.
    let mut c = RawClient::connect(&env.socket());
    c.send_raw(&[0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef]);
    fatal(&mut c);
    check_good(&mut good);

    // A truncated frame, then the client hangs up its writing side.
    let mut c = RawClient::connect(&env.socket());
    c.hello();
    c.send_raw(&[0, 0, 1, 0, 1, 2, 3]);
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    fatal(&mut c);
    check_good(&mut good);

    // A wrong protocol version: told the daemon's version, then closed.
    let mut c = RawClient::connect(&env.socket());
    c.send(&omg::ipc::protocol::ClientFrame::Hello(
        omg::ipc::protocol::Hello {
            protocol: PROTOCOL_VERSION + 7,
            client: "old".into(),
        },
    ));
    assert!(matches!(c.receive(), Some(ServerFrame::Welcome(w)) if w.protocol == PROTOCOL_VERSION));
    assert!(c.receive().is_none());
    check_good(&mut good);

    // A client that disconnects with requests in flight.
    for _ in 0..20 {
        let mut c = RawClient::connect(&env.socket());
        c.hello();
        for i in 0..10 {
            c.request(
                i,
                RequestBody::List {
                    filter: omg::model::ListFilter::All,
                },
            );
        }
        drop(c);
    }
    check_good(&mut good);

    // And the daemon never panicked.
    let (code, stderr) = daemon.signal_and_wait(libc::SIGTERM);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn load_of_200_clients_with_100_pipelined_requests_each() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let _daemon = env.start_daemon();
    let socket = env.socket();
    let queries = ["hello", "omg", "greeter", "editor", "text editor"];
    let clients: Vec<_> = (0..200)
        .map(|n| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut c = RawClient::connect(&socket);
                c.hello();
                // Write everything first: the daemon must cope with a full pipe.
                let writer = {
                    let mut w = RawClient {
                        stream: c.stream.try_clone().unwrap(),
                    };
                    std::thread::spawn(move || {
                        for i in 0..100u32 {
                            let q = queries[(n + i as usize) % queries.len()];
                            w.request(i, search(q));
                        }
                    })
                };
                for i in 0..100u32 {
                    match ok_body(c.receive(), i) {
                        ResponseBody::Search(r) => assert!(!r.hits.is_empty()),
                        other => panic!("{other:?}"),
                    }
                }
                writer.join().unwrap();
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client failed");
    }
    let status = env.json(&["daemon", "status", "--json"]);
    assert!(status["requests"].as_u64().unwrap() >= 20_000);
    let memory = status["memory_bytes"].as_u64().unwrap();
    assert!(memory < 64 << 20, "omgd uses {memory} bytes after the load");
    assert!(status["cache_hits"].as_u64().unwrap() > 19_000, "{status}");
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    // The machine's own database and an empty data directory: the index
    // must be built, which keeps the first request in flight for a while.
    let env = Env::new();
    let daemon = env.start_daemon();
    let mut c = RawClient::connect(&env.socket());
    c.hello();
    c.request(1, search("vim"));
    std::thread::sleep(Duration::from_millis(100));
    unsafe {
        libc::kill(daemon.pid(), libc::SIGTERM);
    }
    match ok_body(c.receive(), 1) {
        ResponseBody::Search(r) => assert_eq!(r.hits[0].name, "vim"),
        other => panic!("{other:?}"),
    }
    let (code, stderr) = daemon.signal_and_wait(0);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !env.socket().exists(),
        "a socket omgd bound itself is removed"
    );
}

#[test]
fn database_changes_reach_a_running_daemon_at_once() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let _daemon = env.start_daemon();
    assert_eq!(
        env.omg(&["list", "--upgradable"]).stdout.trim(),
        "hello-omg 1.0-1 -> 2.0-1"
    );
    // dpkg removes hello-omg: its record leaves the status file, which dpkg
    // replaces by renaming a new one over it.
    let status = root.path("var/lib/dpkg/status");
    let text = std::fs::read_to_string(&status).unwrap();
    let kept: Vec<&str> = text
        .split("\n\n")
        .filter(|stanza| !stanza.starts_with("Package: hello-omg\n"))
        .collect();
    let tmp = root.path("var/lib/dpkg/status-new");
    std::fs::write(&tmp, kept.join("\n\n")).unwrap();
    std::fs::rename(&tmp, &status).unwrap();
    assert_eq!(
        env.omg(&["list", "--upgradable"]).stdout.trim(),
        "",
        "no stale answer"
    );
    let orphans = env.omg(&["list", "--orphans"]).stdout;
    assert!(
        orphans.contains("base-omg"),
        "nothing needs base-omg now: {orphans}"
    );
    // apt-mark: an install reason changes.
    system_with(root.apt("apt-mark").args(["manual", "base-omg"]));
    assert!(env.omg(&["list", "--explicit"]).stdout.contains("base-omg"));
}

#[test]
fn omg_daemon_start_status_stop() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let run = env.omg(&["daemon", "status"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("omgd is not running"), "{}", run.stderr);

    let run = env.omg(&["daemon", "start"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("omgd started"), "{}", run.stdout);
    let run = env.omg(&["daemon", "start"]);
    assert!(run.stdout.contains("already running"), "{}", run.stdout);

    env.omg(&["search", "hello"]);
    let text = env.omg(&["daemon", "status"]);
    for field in [
        "Daemon",
        "Uptime",
        "Index       : 6 packages in memory",
        "Cache",
        "Memory",
    ] {
        assert!(text.stdout.contains(field), "{field}: {}", text.stdout);
    }
    let status = env.json(&["daemon", "status", "--json"]);
    let pid = status["pid"].as_u64().unwrap();

    let run = env.omg(&["daemon", "restart"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let new_pid = env.json(&["daemon", "status", "--json"])["pid"]
        .as_u64()
        .unwrap();
    assert_ne!(pid, new_pid);

    let run = env.omg(&["daemon", "stop"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("stopped"), "{}", run.stdout);
    assert!(!env.socket().exists());
    let run = env.omg(&["daemon", "stop"]);
    assert!(run.stdout.contains("not running"));
}

#[test]
fn a_daemon_outside_systemd_refreshes_on_its_own() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    env.configure("[daemon]\nrefresh_interval = 1\n");
    let _daemon = env.start_daemon();
    let private_lists = env.dir.path().join("cache/lists/apt");
    let started = Instant::now();
    while !private_lists.join("partial").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no refresh ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `omg search WORDS` says Hello and asks in one write, then reads the
/// Welcome and the answer. Something on the socket that is not an omgd of
/// this protocol is not trusted with the answer: the snapshot gives it.
#[test]
fn plain_search_sends_hello_and_request_together_and_trusts_only_our_protocol() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let built = env.omg(&["search", "hello"]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    std::fs::create_dir_all(env.runtime_dir()).unwrap();
    let listener = UnixListener::bind(env.socket()).unwrap();
    let stranger = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Everything the client sends before it hears a word.
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut first = vec![0u8; 4096];
        let n = stream.read(&mut first).unwrap();
        first.truncate(n);
        let welcome = ServerFrame::Welcome(omg::ipc::protocol::Welcome {
            protocol: PROTOCOL_VERSION + 1,
            daemon: "omgd 99".into(),
        });
        std::io::Write::write_all(&mut stream, &omg::ipc::codec::frame(&welcome).unwrap()).unwrap();
        first
    });
    let run = env.omg(&["search", "hello"]);
    let first = stranger.join().unwrap();
    // Both frames arrived in the client's first write.
    let mut rest = &first[..];
    let mut frames = Vec::new();
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let payload = &rest[4..4 + len];
        frames.push(omg::ipc::codec::decode::<omg::ipc::protocol::ClientFrame>(payload).unwrap());
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty());
    assert!(
        matches!(
            frames.as_slice(),
            [
                omg::ipc::protocol::ClientFrame::Hello(_),
                omg::ipc::protocol::ClientFrame::Request(_)
            ]
        ),
        "{frames:?}"
    );
    // The answer is the snapshot's, the same as before.
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, built.stdout);
}
