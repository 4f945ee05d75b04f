//! The habits people bring from pacman, paru and apt: pacman's operation
//! flags answering exactly as the omg commands they stand for (on an Arch
//! root and on this machine's apt database), `omg` alone, a short `-h`,
//! header rows on a terminal only, NO_COLOR and CLICOLOR_FORCE, and every
//! exit status the man page lists.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::arch::{ArchRoot, Spec};
use common::{Env, OMG, Run};

const SPECS: &[Spec] = &[
    Spec {
        depends: &["libgreet-arch>=1.0"],
        ..Spec::new("hello-arch", "1.0-1", "friendly greeter for tests")
    },
    Spec::new("libgreet-arch", "1.0-1", "greeting library"),
    Spec::new("lonely-arch", "1.0-1", "a package on its own"),
];

/// The list operations, the same on every backend.
const LISTS: &[(&[&str], &[&str])] = &[
    (&["-Q"], &["list"]),
    (&["-Qq"], &["list", "--quiet"]),
    (&["-Qe"], &["list", "--explicit"]),
    (&["-Qd"], &["list", "--deps"]),
    (&["-Qdt"], &["list", "--orphans"]),
    (&["-Qu"], &["list", "--upgradable"]),
];

fn same(env: &Env, pacman: &[&str], omg: &[&str]) -> Run {
    let a = env.omg(pacman);
    let b = env.omg(omg);
    assert_eq!(
        (a.code, &a.stdout),
        (b.code, &b.stdout),
        "omg {pacman:?} and omg {omg:?} differ:\n{}\n{}",
        a.stderr,
        b.stderr
    );
    a
}

/// An Arch root with hello-arch (and its library, as a dependency)
/// installed, and a newer lonely-arch published after lonely-arch 1.0.
fn arch() -> (ArchRoot, Env) {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "hello-arch", "lonely-arch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    root.publish(&[Spec::new("lonely-arch", "2.0-1", "a package on its own")]);
    root.pacman(&["-Sy"]);
    (root, env)
}

#[test]
fn pacman_operations_answer_as_their_omg_commands_on_arch() {
    let (root, env) = arch();
    let table: &[(&[&str], &[&str])] = &[
        (&["-Ss", "greet"], &["search", "greet"]),
        (&["-Si", "hello-arch"], &["info", "hello-arch"]),
        (&["-Si", "no-such-arch"], &["info", "no-such-arch"]),
        (&["-Qi", "hello-arch"], &["info", "hello-arch"]),
        (&["-Qs", "greet"], &["search", "--installed", "greet"]),
        (
            &["-S", "--dry-run", "--needed", "hello-arch"],
            &["install", "--dry-run", "--needed", "hello-arch"],
        ),
        (
            &["-Rns", "--dry-run", "hello-arch"],
            &[
                "remove",
                "--recursive",
                "--purge",
                "--dry-run",
                "hello-arch",
            ],
        ),
    ];
    for (pacman, omg) in table.iter().chain(LISTS) {
        same(&env, pacman, omg);
    }
    // pacman -Q says the same of the root.
    let listed = env.omg(&["-Q"]);
    assert_eq!(listed.stdout, root.pacman_query(&["-Q"]));
    let explicit = env.omg(&["-Qqe"]);
    assert_eq!(explicit.stdout, root.pacman_query(&["-Qqe"]));
    let deps = env.omg(&["-Qqd"]);
    assert_eq!(deps.stdout, root.pacman_query(&["-Qqd"]));

    // Transactions for real: -Syu upgrades, -Rns removes with what only
    // it needed, -S installs, -U installs a file.
    let run = env.omg(&["-Syu", "--noconfirm"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(root.pacman_query(&["-Q"]).contains("lonely-arch 2.0-1"));
    let run = env.omg(&["-Rns", "--noconfirm", "hello-arch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(root.pacman_query(&["-Qq"]), "lonely-arch\n");
    let run = env.omg(&["-S", "--noconfirm", "--asdeps", "libgreet-arch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(root.pacman_query(&["-Qqd"]), "libgreet-arch\n");
    let file = root.package_file("hello-arch");
    let run = env.omg(&["-U", "--noconfirm", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(root.pacman_query(&["-Qq"]).contains("hello-arch"));
}

#[test]
fn pacman_operations_answer_as_their_omg_commands_on_this_machines_apt() {
    let env = Env::new();
    let table: &[(&[&str], &[&str])] = &[
        (&["-Ss", "zstd"], &["search", "zstd"]),
        (&["-Si", "bash"], &["info", "bash"]),
        (
            &["-Si", "no-such-package-xyz"],
            &["info", "no-such-package-xyz"],
        ),
        (&["-Qi", "dpkg"], &["info", "dpkg"]),
        (
            &["--color", "never", "-Qqe"],
            &["list", "--explicit", "--quiet"],
        ),
    ];
    for (pacman, omg) in table.iter().chain(LISTS) {
        same(&env, pacman, omg);
    }
    // -Qq is dpkg's list of installed packages.
    let names = env.omg(&["-Qq"]);
    assert!(
        names.stdout.lines().any(|l| l == "dpkg"),
        "{}",
        names.stdout
    );
    // omg alone is omg status.
    same(&env, &[], &["status"]);
}

#[test]
fn operations_omg_does_not_have_are_refused_naming_what_to_use() {
    let env = Env::new();
    for (args, says) in [
        (
            vec!["-S", "bash", "--overwrite", "*"],
            "--overwrite is not supported",
        ),
        (vec!["-Fy"], "refresh worker"),
        (vec!["-Suu"], "omg downgrade"),
        (vec!["-Q", "bash"], "omg info bash"),
        (vec!["-Dk"], "--asdeps"),
    ] {
        let run = env.omg(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn short_help_fits_a_screen_and_long_help_has_the_details() {
    let env = Env::new();
    let short = env.omg(&["-h"]);
    assert_eq!(short.code, 0);
    let lines = short.stdout.lines().count();
    assert!(lines <= 40, "omg -h is {lines} lines:\n{}", short.stdout);
    assert!(short.stdout.contains("downgrade"), "{}", short.stdout);
    // One line per command: no command's line runs on.
    for line in short.stdout.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let long = env.omg(&["--help"]);
    assert!(long.stdout.contains("Exit status"), "{}", long.stdout);
    assert!(long.stdout.contains("--pacman-conf"), "{}", long.stdout);
    assert!(!short.stdout.contains("--pacman-conf"), "{}", short.stdout);
    let outdated = env.omg(&["outdated", "--help"]);
    assert!(outdated.stdout.contains("100"), "{}", outdated.stdout);
    // -y and --yes are --noconfirm.
    for yes in ["-y", "--yes"] {
        let run = same(
            &env,
            &["remove", yes, "--dry-run", "no-such-package-xyz"],
            &["remove", "--noconfirm", "--dry-run", "no-such-package-xyz"],
        );
        assert!(run.stderr.contains("no-such-package-xyz"), "{}", run.stderr);
    }
}

/// `omg ARGS` on a pseudo-terminal (`script`), with `vars` set.
fn on_terminal(env: &Env, args: &str, vars: &[(&str, &str)]) -> String {
    let mut command = env.command("script");
    command
        .args(["-qec", &format!("{} {args}", *OMG), "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in vars {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn header_rows_on_a_terminal_only_and_colour_follows_no_color() {
    let (_root, env) = arch();
    for (args, header) in [
        ("list", "NAME"),
        ("history", "COMMAND"),
        ("size", "NAME"),
        ("outdated", "AVAILABLE"),
    ] {
        let shown = on_terminal(&env, args, &[]);
        // (omg outdated's notes on stderr share the terminal.)
        assert!(
            shown
                .lines()
                .find(|l| !l.starts_with("omg:"))
                .is_some_and(|l| l.contains(header)),
            "{args} on a terminal: {shown}"
        );
        assert!(shown.contains('\x1b'), "{args}: colour on a terminal");
        let piped = env.omg(&args.split(' ').collect::<Vec<_>>());
        assert!(
            !piped.stdout.contains(header),
            "{args} piped: {}",
            piped.stdout
        );
        assert!(!piped.stdout.contains('\x1b'), "{args} piped");
        let plain = on_terminal(&env, args, &[("NO_COLOR", "1")]);
        assert!(!plain.contains('\x1b'), "{args} with NO_COLOR: {plain:?}");
        assert!(plain.contains(header), "{args} with NO_COLOR: {plain}");
    }
    let forced = env
        .command(*OMG)
        .args(["search", "greet"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\x1b'));
}

#[test]
fn every_exit_status_the_man_page_lists() {
    let (_root, env) = arch();
    assert_eq!(env.omg(&["list"]).code, 0);
    assert_eq!(env.omg(&["info", "no-such-arch"]).code, 1);
    assert_eq!(env.omg(&["frobnicate"]).code, 2);
    assert_eq!(
        env.omg(&["outdated"]).code,
        100,
        "lonely-arch 2.0 is pending"
    );

    // Ctrl-C at a question: 130, nothing changed.
    let mut child = env
        .command(*OMG)
        .args(["remove", "lonely-arch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let shared = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            shared
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let start = Instant::now();
    while !seen.lock().unwrap().contains("[Y/n]") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no question: {}",
            seen.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    let _ = reader.join();
    assert_eq!(status.code(), Some(130));
    assert!(env.omg(&["-Qq"]).stdout.contains("lonely-arch"));
}
