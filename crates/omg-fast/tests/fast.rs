//! `omg-fast` as a prompt runs it: the counts from the status file, stale
//! data marked, nothing at all (and exit 0) for a missing or malformed file,
//! and no library beyond libc in the binary that is shipped.

use std::path::Path;
use std::process::Command;

use omg_status::Status;

const OMG_FAST: &str = env!("CARGO_BIN_EXE_omg-fast");

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

fn fast(runtime: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(OMG_FAST)
        .args(args)
        .env("OMG_RUNTIME_DIR", runtime)
        .env_remove("OMG_FAST_MAX_AGE")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn prints_counts_and_never_breaks_a_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path();
    // No file at all.
    assert_eq!(fast(runtime, &[]), (Some(0), String::new()));
    let file = runtime.join("status.bin");
    // Short, garbage and wrong-magic files.
    for bytes in [
        &b"OMG\x01\x02"[..],
        &[0xffu8; 16][..],
        &b"XYZ\x01000000000000"[..],
    ] {
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(fast(runtime, &[]), (Some(0), String::new()));
        assert_eq!(fast(runtime, &["updates"]), (Some(0), String::new()));
    }
    let status = Status {
        updates: 3,
        foreign_updates: 2,
        vulnerabilities: 1,
        flags: 0,
        last_refresh: now(),
        security_updates: 2,
        config_merges: 3,
    };
    omg_status::write(&file, &status).unwrap();
    assert_eq!(fast(runtime, &[]), (Some(0), "↑5 !1\n".to_string()));
    assert_eq!(fast(runtime, &["updates"]), (Some(0), "3\n".to_string()));
    assert_eq!(fast(runtime, &["vulns"]), (Some(0), "1\n".to_string()));
    assert_eq!(fast(runtime, &["security"]), (Some(0), "2\n".to_string()));
    assert_eq!(fast(runtime, &["merges"]), (Some(0), "3\n".to_string()));
    assert_eq!(
        fast(runtime, &["--format", "{merges} to merge{reboot}"]),
        (Some(0), "3 to merge\n".to_string())
    );
    assert_eq!(
        fast(runtime, &["--format", "{security} of {total}"]),
        (Some(0), "2 of 5\n".to_string())
    );
    assert_eq!(
        fast(runtime, &["--format", "{updates}/{foreign}/{vulns}{stale}"]),
        (Some(0), "3/2/1\n".to_string())
    );
    // Old data is marked stale.
    let old = Status {
        last_refresh: now() - 3 * 86_400,
        ..status
    };
    omg_status::write(&file, &old).unwrap();
    assert_eq!(fast(runtime, &["updates"]), (Some(0), "3?\n".to_string()));
    assert_eq!(
        fast(runtime, &["--max-age", "604800", "updates"]),
        (Some(0), "3\n".to_string())
    );
    // Nothing pending: the summary is empty.
    let clean = Status {
        updates: 0,
        foreign_updates: 0,
        vulnerabilities: 0,
        ..status
    };
    omg_status::write(&file, &clean).unwrap();
    assert_eq!(fast(runtime, &[]), (Some(0), String::new()));
    assert_eq!(fast(runtime, &["drift"]), (Some(0), String::new()));
    // The machine differs from its omg.lock (omg env check said so).
    let drifted = Status {
        flags: omg_status::FLAG_RUNTIME_DRIFT,
        ..clean
    };
    omg_status::write(&file, &drifted).unwrap();
    assert_eq!(fast(runtime, &[]), (Some(0), "≠\n".to_string()));
    assert_eq!(fast(runtime, &["drift"]), (Some(0), "drift\n".to_string()));
    assert_eq!(
        fast(runtime, &["--format", "[{drift}]"]),
        (Some(0), "[drift]\n".to_string())
    );
    // Unknown arguments never fail either.
    assert_eq!(fast(runtime, &["--bogus"]).0, Some(0));
}

fn dynamic_libraries(binary: &Path) -> String {
    let out = Command::new("ldd").arg(binary).output().expect("run ldd");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn links_nothing_heavy() {
    let libraries = dynamic_libraries(Path::new(OMG_FAST));
    for line in libraries.lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        assert!(
            ["linux-vdso.so.1", "libc.so.6", "libgcc_s.so.1"].contains(&name)
                || name.contains("ld-linux"),
            "omg-fast links {name}:\n{libraries}"
        );
    }
}

/// The binary `make build` ships is linked statically: no library at all.
#[test]
fn the_shipped_build_is_static() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = manifest.join("../../target/static");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "omg-fast",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(manifest)
        .status()
        .expect("run cargo");
    assert!(status.success());
    let binary = target_dir.join("x86_64-unknown-linux-gnu/release/omg-fast");
    let libraries = dynamic_libraries(&binary);
    assert!(
        libraries.contains("not a dynamic executable") || libraries.contains("statically linked"),
        "{libraries}"
    );
    let out = Command::new(&binary).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("omg-fast "));
}

/// `hook-env SHELL OMG` as the shell hook runs it: silent while the state
/// holds, omg's own hook-env when it does not, a clear line when omg
/// cannot be run.
#[test]
fn hook_env_is_silent_while_the_state_holds_and_hands_over_otherwise() {
    use omg_status::hook_state::{State, fingerprint};
    // Not under /tmp: the stamp covers the directories above the project,
    // and the other tests keep creating their directories in /tmp.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let project = dir.path().join("p");
    std::fs::create_dir_all(&project).unwrap();
    // (Made before the state: a file created above the project changes
    // the stamp.) A stand-in for omg that says how it was called.
    let omg = dir.path().join("omg");
    std::fs::write(&omg, "#!/bin/sh\necho \"omg $*\"\n").unwrap();
    std::fs::set_permissions(&omg, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let nvmrc = project.join(".nvmrc");
    std::fs::write(&nvmrc, "20\n").unwrap();
    let stamped = vec![nvmrc.display().to_string()];
    let state = State {
        fingerprint: fingerprint(&project, &stamped),
        stamped,
        ..State::default()
    }
    .encode();
    let run = |state: Option<&str>, omg: &Path| {
        let mut command = Command::new(OMG_FAST);
        command
            .args(["hook-env", "bash"])
            .arg(omg)
            .current_dir(&project)
            .env_remove("__OMG_STATE");
        if let Some(state) = state {
            command.env("__OMG_STATE", state);
        }
        command.output().unwrap()
    };
    let held = run(Some(&state), &omg);
    assert!(held.status.success());
    assert!(held.stdout.is_empty() && held.stderr.is_empty());
    // No state, then a version file edited: omg answers.
    let fresh = run(None, &omg);
    assert_eq!(
        String::from_utf8_lossy(&fresh.stdout),
        "omg hook-env bash\n"
    );
    std::thread::sleep(std::time::Duration::from_millis(10));
    std::fs::write(&nvmrc, "22\n").unwrap();
    let changed = run(Some(&state), &omg);
    assert_eq!(
        String::from_utf8_lossy(&changed.stdout),
        "omg hook-env bash\n"
    );
    // omg missing: one clear line, nothing for the shell to evaluate.
    let missing = run(None, &dir.path().join("no-such-omg"));
    assert!(missing.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("omg-fast: cannot run") && stderr.contains("no-such-omg"),
        "{stderr}"
    );
}

/// `omg-fast --format waybar`'s line, parsed as JSON as waybar parses it.
fn waybar(runtime: &Path) -> serde_json::Value {
    let (code, out) = fast(runtime, &["--format", "waybar"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 1, "one line: {out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn bar_modules_tell_each_state_apart() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path();
    let file = runtime.join("status.bin");
    // No status file yet: a line all the same, saying it is not known.
    let none = waybar(runtime);
    assert_eq!(none["class"], "stale");
    assert_eq!(none["tooltip"], "up to date\nnever refreshed");
    let base = Status {
        last_refresh: now(),
        ..Status::default()
    };
    let cases = [
        (base, "up-to-date", "0"),
        (
            Status {
                updates: 4,
                foreign_updates: 1,
                ..base
            },
            "updates",
            "5",
        ),
        (
            Status {
                updates: 4,
                security_updates: 2,
                vulnerabilities: 3,
                ..base
            },
            "security",
            "4",
        ),
        (
            Status {
                last_refresh: now() - 2 * 86_400,
                ..base
            },
            "stale",
            "0?",
        ),
    ];
    for (status, class, text) in cases {
        omg_status::write(&file, &status).unwrap();
        let shown = waybar(runtime);
        assert_eq!(shown["class"], class, "{shown}");
        assert_eq!(shown["alt"], class, "{shown}");
        assert_eq!(shown["text"], text, "{shown}");
    }
    // The security case's tooltip has every count, one per line (refreshed
    // two minutes ago: the same text for the whole minute).
    omg_status::write(
        &file,
        &Status {
            last_refresh: now() - 120,
            ..cases[2].0
        },
    )
    .unwrap();
    assert_eq!(
        waybar(runtime)["tooltip"],
        "4 updates\n2 fix known vulnerabilities\n3 installed with known vulnerabilities\nrefreshed 2 min ago"
    );
    omg_status::write(&file, &cases[2].0).unwrap();
    // i3blocks: full text, short text, colour; security is urgent (33).
    assert_eq!(
        fast(runtime, &["--format", "i3blocks"]),
        (Some(33), "4\n4\n#e06c75\n".to_string())
    );
    assert_eq!(
        fast(runtime, &["--format", "polybar"]),
        (Some(0), "%{F#e06c75}4%{F-}\n".to_string())
    );
    omg_status::write(&file, &cases[0].0).unwrap();
    assert_eq!(
        fast(runtime, &["--format", "i3blocks"]),
        (Some(0), "0\n0\n\n".to_string())
    );
}

#[test]
fn watch_prints_a_line_when_the_status_file_is_replaced() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().to_path_buf();
    let file = runtime.join("status.bin");
    let fresh = Status {
        last_refresh: now(),
        ..Status::default()
    };
    omg_status::write(&file, &fresh).unwrap();
    let mut child = Command::new(OMG_FAST)
        .args(["--format", "waybar", "--watch"])
        .env("OMG_RUNTIME_DIR", &runtime)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        let line = received
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a line within 5 s");
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    assert_eq!(next()["class"], "up-to-date");
    // Nothing changed: nothing printed.
    assert!(
        received
            .recv_timeout(std::time::Duration::from_millis(300))
            .is_err()
    );
    omg_status::write(
        &file,
        &Status {
            updates: 2,
            security_updates: 1,
            ..fresh
        },
    )
    .unwrap();
    let changed = next();
    assert_eq!(changed["class"], "security");
    assert_eq!(changed["text"], "2");
    std::fs::remove_file(&file).unwrap();
    assert_eq!(next()["class"], "stale");
    child.kill().unwrap();
    child.wait().unwrap();
}
