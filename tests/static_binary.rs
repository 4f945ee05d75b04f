//! The omg that `make build` ships is linked statically (glibc's static
//! libc, position independent): no program interpreter, no shared library.
//! `make test` links the debug build the same way, as `static/omg` beside
//! `omg`; it must answer every kind of question exactly as the dynamic one
//! does — through its fast paths and clap's, from the snapshot in its own
//! process and through a daemon, and with the home directory looked up in
//! the user database. (omg itself fetches nothing: omgd does.)

mod common;

use std::path::{Path, PathBuf};

use common::{AptRoot, Env, OMG, Run};

/// The static omg, or None (a failure under CI) when it is not built.
fn static_omg() -> Option<PathBuf> {
    let path = Path::new(*OMG).with_file_name("static").join("omg");
    if path.is_file() {
        Some(path)
    } else {
        common::skip(&format!(
            "{} is not built (make static-debug, part of make test)",
            path.display()
        ))
    }
}

fn readelf(option: &str, binary: &Path) -> String {
    common::system("readelf", &[option, binary.to_str().unwrap()])
}

/// Runs `args` with the static binary, then the dynamic one, and checks they agree on everything a
/// user sees; the static one's run.
fn same(env: &Env, binary: &Path, args: &[&str]) -> Run {
    let linked: Run = env
        .command(binary.to_str().unwrap())
        .args(args)
        .output()
        .expect("run the static omg")
        .into();
    let dynamic = env.omg(args);
    assert_eq!(linked.code, dynamic.code, "omg {args:?}: {}", linked.stderr);
    assert_eq!(linked.stdout, dynamic.stdout, "omg {args:?}");
    assert_eq!(linked.stderr, dynamic.stderr, "omg {args:?}");
    linked
}

#[test]
fn the_static_build_loads_no_library_and_keeps_its_address_random() {
    let Some(binary) = static_omg() else { return };
    let program = readelf("-lW", &binary);
    assert!(!program.contains("program interpreter"), "{program}");
    // A position-independent executable: loaded at a random address.
    assert!(
        readelf("-hW", &binary).contains("DYN (Position-Independent Executable file)"),
        "not position independent"
    );
    let dynamic = readelf("-dW", &binary);
    assert!(!dynamic.contains("(NEEDED)"), "{dynamic}");
    // glibc's static-pie start-up asserts there is no rpath.
    assert!(
        !dynamic.contains("(RUNPATH)") && !dynamic.contains("(RPATH)"),
        "{dynamic}"
    );
    // The dynamic build beside it does load libc: the check can fail.
    assert!(readelf("-dW", Path::new(*OMG)).contains("(NEEDED)"));
}

#[test]
fn the_static_build_answers_as_the_dynamic_one_on_debian() {
    let Some(binary) = static_omg() else { return };
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let built = env.omg(&["search", "hello"]);
    assert_eq!(built.code, 0, "{}", built.stderr);

    // No daemon: the snapshot read in each process, by the fast path
    // (plain words) and by clap's (any option).
    let hits = same(&env, &binary, &["search", "hello"]);
    assert!(hits.stdout.contains("hello"), "{}", hits.stdout);
    same(&env, &binary, &["search", "--json", "hello"]);
    same(&env, &binary, &["search", "no-such-package-anywhere"]);
    same(&env, &binary, &["--version"]);
    same(&env, &binary, &["current"]);
    same(&env, &binary, &["which", "node"]);
    let info = same(&env, &binary, &["info", "hello-omg"]);
    assert!(info.stdout.contains("hello-omg"), "{}", info.stdout);

    // A warm daemon: one blocking round trip, or clap's async session.
    let _daemon = env.start_daemon();
    same(&env, &binary, &["search", "hello"]);
    same(&env, &binary, &["search", "--limit", "1", "hello"]);
    same(&env, &binary, &["list", "--json"]);
    same(&env, &binary, &["__complete", "hello"]);
    let status = same(&env, &binary, &["status", "--json"]);
    assert!(status.stdout.contains("\"index\""), "{}", status.stdout);
}

#[test]
fn the_static_build_finds_the_home_directory_through_the_user_database() {
    let Some(binary) = static_omg() else { return };
    // No HOME and no directories of omg's own: the home directory comes
    // from the user database (NSS, in the static libc); without it omg
    // would say it has no data directory. `which` only reads.
    let env = Env::new();
    let run = |program: &Path| -> Run {
        let mut command = env.command(program.to_str().unwrap());
        for var in [
            "HOME",
            "OMG_DATA_DIR",
            "OMG_CONFIG_DIR",
            "OMG_CACHE_DIR",
            "XDG_DATA_HOME",
        ] {
            command.env_remove(var);
        }
        command.args(["which", "node"]).output().unwrap().into()
    };
    let linked = run(&binary);
    let dynamic = run(Path::new(*OMG));
    assert!(
        linked.stderr.contains("no node version is in use here"),
        "{}",
        linked.stderr
    );
    assert_eq!(
        (linked.code, &linked.stdout, &linked.stderr),
        (dynamic.code, &dynamic.stdout, &dynamic.stderr)
    );
}
