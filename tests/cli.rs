//! The command line itself: usage errors, exit codes, help, the binaries'
//! linkage (the CLI must not load package-manager libraries) and omg-fast.

mod common;

use std::process::Command;

use common::{AptRoot, Env, OMG};

#[test]
fn malformed_queries_are_usage_errors() {
    let env = Env::new();
    for args in [
        vec!["search", ""],
        vec!["search", "   "],
        vec!["search", "vi\u{7}m"],
        vec!["info", ""],
    ] {
        let run = env.omg(&args);
        assert_eq!(run.code, 2, "omg {args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "{}", run.stderr);
    }
    let long = "x".repeat(300);
    let run = env.omg(&["search", &long]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("at most 256 bytes"), "{}", run.stderr);

    let run = env.omg(&["search"]);
    assert_eq!(run.code, 2, "a missing query is a usage error");
    let run = env.omg(&["list", "--explicit", "--orphans"]);
    assert_eq!(run.code, 2, "list filters exclude each other");
    let run = env.omg(&["frobnicate"]);
    assert_eq!(run.code, 2);
}

#[test]
fn help_and_version() {
    let env = Env::new();
    let run = env.omg(&["--help"]);
    assert_eq!(run.code, 0);
    for word in ["search", "info", "list", "status", "--color", "Exit status"] {
        assert!(
            run.stdout.contains(word),
            "--help lacks {word}: {}",
            run.stdout
        );
    }
    let run = env.omg(&["--version"]);
    assert_eq!(
        run.stdout.trim(),
        format!("omg {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn missing_daemon_is_a_clear_error() {
    let env = Env::new();
    let run = env
        .command(*OMG)
        .env("OMG_DAEMON", "/nonexistent/omgd")
        .args(["search", "vim"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cannot start the daemon /nonexistent/omgd"),
        "{stderr}"
    );
}

#[test]
fn thin_binaries_load_no_package_manager_library() {
    for binary in [*OMG, *common::OMGD_LITE] {
        let out = Command::new("ldd").arg(binary).output().expect("run ldd");
        let libraries = String::from_utf8_lossy(&out.stdout);
        for heavy in ["libalpm", "libapt-pkg", "libgpgme", "libcurl", "libnettle"] {
            assert!(
                !libraries.contains(heavy),
                "{binary} links {heavy}:\n{libraries}"
            );
        }
    }
    // The daemon does: it is where the backends live.
    let out = Command::new("ldd").arg(*common::OMGD).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("libapt-pkg"));
}

#[test]
fn colour_follows_the_flag_and_the_terminal() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let piped = env.omg(&["search", "hello"]);
    assert!(!piped.stdout.contains('\x1b'), "no colour in a pipe");
    assert!(
        piped.stdout.starts_with("hello-omg"),
        "no header in a pipe: {}",
        piped.stdout
    );
    let forced = env.omg(&["--color", "always", "search", "hello"]);
    assert!(
        forced.stdout.contains("\x1b["),
        "colour when asked: {}",
        forced.stdout
    );
}

/// Runs `omg ARGS` writing into a pipe whose reader has already gone.
fn into_closed_pipe(env: &Env, args: &[&str]) -> std::process::Output {
    let mut child = env
        .command(*OMG)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let out = into_closed_pipe(&env, &["search", "--limit", "0", "omg"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn current_names_each_runtime_and_the_file_that_asks() {
    let env = Env::new();
    let project = env.dir.path().join("project");
    let sub = project.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        project.join(".tool-versions"),
        "# tools\npython 3.12.4\nnodejs 18.0.0\n",
    )
    .unwrap();
    std::fs::write(sub.join(".nvmrc"), "lts/iron\n").unwrap();
    let out = env
        .command(*OMG)
        .args(["current", "--json"])
        .current_dir(&sub)
        .output()
        .unwrap();
    assert!(out.status.success());
    let wanted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by = |runtime: &str| {
        wanted
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["runtime"] == runtime)
            .cloned()
            .unwrap()
    };
    assert_eq!(by("node")["version"], "lts/iron");
    assert!(by("node")["file"].as_str().unwrap().ends_with("sub/.nvmrc"));
    assert_eq!(by("python")["version"], "3.12.4");
    assert!(
        by("python")["file"]
            .as_str()
            .unwrap()
            .ends_with("project/.tool-versions")
    );
}

#[test]
fn runtimes_omg_does_not_manage_go_to_mise_or_say_why_not() {
    let env = Env::new();
    // mise is not installed here: a stand-in that records what omg asks.
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = env.dir.path().join("mise.log");
    std::fs::write(
        bin.join("mise"),
        format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("mise"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let run = |args: &[&str], path: &str| {
        env.command(*OMG)
            .args(args)
            .env("PATH", path)
            .output()
            .unwrap()
    };
    let out = run(&["use", "deno", "1.40"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("handing it to"));
    assert!(
        run(&["use", "--local", "deno", "1.40"], &path)
            .status
            .success()
    );
    assert!(run(&["install", "deno@1.40"], &path).status.success());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "use --global deno@1.40\nuse deno@1.40\ninstall deno@1.40\n"
    );
    let out = run(&["use", "deno", "1.40"], "/usr/bin:/bin");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mise"),
        "a clear error"
    );
}

/// Answers are written whole at the end: a full disk is still reported,
/// and a reader that stops early (`| head`) still ends omg quietly.
#[test]
fn write_errors_are_reported_and_a_closed_pipe_is_not() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    for args in [
        vec!["list"],
        vec!["list", "--quiet"],
        vec!["list", "--json"],
        vec!["why", "--reverse", "base-omg"],
        vec!["size"],
        vec!["search", "omg"],
    ] {
        let run = env.omg(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "{args:?}");
        let full = env
            .command(*OMG)
            .args(&args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&full.stderr);
        assert_eq!(full.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output"),
            "{args:?}: {stderr}"
        );
        // A pipe whose reader has gone.
        let closed = into_closed_pipe(&env, &args);
        let stderr = String::from_utf8_lossy(&closed.stderr);
        assert_eq!(closed.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
