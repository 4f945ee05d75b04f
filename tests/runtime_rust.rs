//! Rust toolchains: the recorded channel manifest (Rust 1.86.0) read for
//! real, installs from a local dist server in static.rust-lang.org's
//! layout (manifest, its `.sha256`, rust-installer tarballs), and the
//! hand-over to a real rustup (with its own RUSTUP_HOME) when one is
//! installed.

mod common;

use std::path::{Path, PathBuf};

use common::http::FileServer;
use omg::runtime::rust::{host, parse_manifest};

fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/upstream/rust")
        .join(name);
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// PATH without rustup: omg installs toolchains itself.
const PLAIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

#[test]
fn the_recorded_manifest_gives_the_default_profile_for_linux() {
    let path = fixture("channel-rust-stable.2025-04-03.trimmed.toml");
    let manifest = parse_manifest(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(manifest.toolchain_name().as_deref(), Some("1.86.0"));
    let host = "x86_64-unknown-linux-gnu";
    let parts = manifest.select(host, "default", &[], &[]).unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    // rust-mingw is in the profile but only built for Windows: skipped.
    assert_eq!(
        names,
        [
            "cargo",
            "clippy-preview",
            "rust-docs",
            "rust-std",
            "rustc",
            "rustfmt-preview"
        ]
    );
    let rustc = parts.iter().find(|p| p.name == "rustc").unwrap();
    assert_eq!(
        rustc.url,
        "https://static.rust-lang.org/dist/2025-04-03/rustc-1.86.0-x86_64-unknown-linux-gnu.tar.gz"
    );
    assert_eq!(rustc.sha256.len(), 64);

    // Old component names, a target-independent component and a target.
    let more = manifest
        .select(
            host,
            "minimal",
            &["rustfmt".into(), "rust-src".into()],
            &["x86_64-unknown-linux-musl".into()],
        )
        .unwrap();
    let keys: Vec<String> = more.iter().map(|p| p.key()).collect();
    assert!(keys.contains(&"rustfmt-preview x86_64-unknown-linux-gnu".to_string()));
    assert!(keys.contains(&"rust-src *".to_string()));
    assert!(keys.contains(&"rust-std x86_64-unknown-linux-musl".to_string()));
    let err = manifest
        .select(
            host,
            "default",
            &[],
            &["riscv64gc-unknown-linux-gnu".into()],
        )
        .unwrap_err();
    assert!(err.contains("no standard library"), "{err}");
    let err = manifest
        .select(host, "default", &["no-such-tool".into()], &[])
        .unwrap_err();
    assert!(err.contains("not available"), "{err}");
}

#[test]
fn the_full_recorded_manifest_parses() {
    use std::io::Read;
    let path = fixture("channel-rust-stable.2025-04-03.full.toml.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(
        common::sha256_hex(text.as_bytes()),
        "5ffe190473b7896d1f39e9d0ddfa04bec72000f25897669bb296814e10ceba42"
    );
    let manifest = parse_manifest(&text).unwrap();
    let parts = manifest
        .select(
            "aarch64-unknown-linux-gnu",
            "complete",
            &[],
            &["wasm32-unknown-unknown".into()],
        )
        .unwrap();
    assert!(parts.iter().any(|p| p.name == "rust-analyzer-preview"));
    assert!(
        parts
            .iter()
            .any(|p| p.key() == "rust-std wasm32-unknown-unknown")
    );
}

/// A rust-installer tarball: `<stem>/components` naming `component`,
/// `<stem>/<component>/manifest.in` listing `files`, and the files.
fn installer_tarball(stem: &str, component: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    // Directories first, as real tarballs have them.
    let mut dirs: Vec<String> = vec![stem.to_string(), format!("{stem}/{component}")];
    for (path, _) in files {
        let mut parent = Path::new(path).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.push(format!("{stem}/{component}/{}", p.display()));
            parent = p.parent();
        }
    }
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o755);
        header.set_cksum();
        tar.append_data(&mut header, format!("{dir}/"), std::io::empty())
            .unwrap();
    }
    let mut add = |path: String, body: &str, mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        tar.append_data(&mut header, path, body.as_bytes()).unwrap();
    };
    add(format!("{stem}/rust-installer-version"), "3\n", 0o644);
    add(
        format!("{stem}/components"),
        &format!("{component}\n"),
        0o644,
    );
    let manifest: String = files.iter().map(|(p, _)| format!("file:{p}\n")).collect();
    add(format!("{stem}/{component}/manifest.in"), &manifest, 0o644);
    for (path, body) in files {
        add(format!("{stem}/{component}/{path}"), body, 0o755);
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A dist server holding Rust `version` as channel `stable` and as
/// `version`: rustc, cargo and the standard library for this host and
/// for wasm32, with a manifest in the real format whose URLs name
/// static.rust-lang.org (re-rooted by the installer, as rustup does).
fn publish(dist: &FileServer, version: &str, date: &str) {
    let host = host();
    let mut packages = String::new();
    let mut put = |pkg: &str, target: &str, component: &str, files: &[(&str, &str)]| {
        let stem = format!("{pkg}-{version}-{target}");
        let tarball = installer_tarball(&stem, component, files);
        let path = format!("/dist/{date}/{stem}.tar.gz");
        packages.push_str(&format!(
            "[pkg.{pkg}]\nversion = \"{version} (0000000 {date})\"\n\
             [pkg.{pkg}.target.{target}]\navailable = true\n\
             url = \"https://static.rust-lang.org{path}\"\nhash = \"{}\"\n\n",
            common::sha256_hex(&tarball)
        ));
        dist.put(&path, tarball);
    };
    let rustc = format!("#!/bin/sh\necho \"rustc {version} (0000000 {date})\"\n");
    let cargo = format!("#!/bin/sh\necho \"cargo {version}\"\n");
    put("rustc", host, "rustc", &[("bin/rustc", &rustc)]);
    put("cargo", host, "cargo", &[("bin/cargo", &cargo)]);
    let std_host = format!("lib/rustlib/{host}/lib/libstd.rlib");
    put(
        "rust-std",
        host,
        &format!("rust-std-{host}"),
        &[(&std_host, "std")],
    );
    // Another target's standard library, a separate table of the same
    // package.
    let wasm = "wasm32-unknown-unknown";
    let stem = format!("rust-std-{version}-{wasm}");
    let tarball = installer_tarball(
        &stem,
        &format!("rust-std-{wasm}"),
        &[(&format!("lib/rustlib/{wasm}/lib/libstd.rlib"), "std")],
    );
    let path = format!("/dist/{date}/{stem}.tar.gz");
    let wasm_table = format!(
        "[pkg.rust-std.target.{wasm}]\navailable = true\n\
         url = \"https://static.rust-lang.org{path}\"\nhash = \"{}\"\n\n",
        common::sha256_hex(&tarball)
    );
    dist.put(&path, tarball);
    let packages = packages.replacen(
        "[pkg.rust-std.target",
        &format!("{wasm_table}[pkg.rust-std.target"),
        1,
    );
    let manifest = format!(
        "manifest-version = \"2\"\ndate = \"{date}\"\n\
         [pkg.rust]\nversion = \"{version} (0000000 {date})\"\n\
         [pkg.rust.target.{host}]\navailable = true\n\
         url = \"https://static.rust-lang.org/dist/{date}/rust-{version}-{host}.tar.gz\"\n\
         hash = \"{zero}\"\n\
         [[pkg.rust.target.{host}.components]]\npkg = \"rustc\"\ntarget = \"{host}\"\n\
         [[pkg.rust.target.{host}.components]]\npkg = \"cargo\"\ntarget = \"{host}\"\n\
         [[pkg.rust.target.{host}.components]]\npkg = \"rust-std\"\ntarget = \"{host}\"\n\
         [[pkg.rust.target.{host}.extensions]]\npkg = \"rust-std\"\ntarget = \"{wasm}\"\n\n\
         {packages}\
         [profiles]\nminimal = [\"rustc\", \"cargo\", \"rust-std\"]\n\
         default = [\"rustc\", \"cargo\", \"rust-std\"]\n",
        zero = "0".repeat(64)
    );
    for channel in ["stable", version] {
        let path = format!("/dist/channel-rust-{channel}.toml");
        dist.put(
            &format!("{path}.sha256"),
            format!(
                "{}  channel-rust-{channel}.toml\n",
                common::sha256_hex(manifest.as_bytes())
            ),
        );
        dist.put(&path, manifest.clone());
    }
}

fn omg(env: &common::Env, dir: &Path, args: &[&str]) -> common::Run {
    env.command(*common::OMG)
        .args(args)
        .current_dir(dir)
        .env("PATH", PLAIN_PATH)
        .env_remove("RUSTUP_DIST_SERVER")
        .output()
        .unwrap()
        .into()
}

fn run(program: &Path) -> String {
    let out = std::process::Command::new(program).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn toolchains_install_from_the_channel_manifest_and_add_project_targets() {
    let dist = FileServer::start();
    publish(&dist, "1.90.0", "2025-09-18");
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nrust_dist_server = \"{}\"\n",
        dist.url()
    ));
    let here = env.dir.path();
    let result = omg(&env, here, &["install", "rust", "stable"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stdout.contains("rust 1.90.0 is installed"),
        "{}",
        result.stdout
    );
    let toolchain = env.data_dir().join("versions/rust/1.90.0");
    assert_eq!(
        run(&toolchain.join("bin/rustc")),
        "rustc 1.90.0 (0000000 2025-09-18)"
    );
    assert_eq!(run(&toolchain.join("bin/cargo")), "cargo 1.90.0");
    assert!(
        toolchain
            .join(format!("lib/rustlib/{}/lib/libstd.rlib", host()))
            .is_file()
    );
    assert!(
        !toolchain
            .join("lib/rustlib/wasm32-unknown-unknown")
            .exists()
    );
    assert!(
        !toolchain.join("manifest.in").exists() && !toolchain.join("components").exists(),
        "only the listed files are merged"
    );

    // A project asks for a target: installing its toolchain adds it.
    let project = here.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"1.90.0\"\ntargets = [\"wasm32-unknown-unknown\"]\n",
    )
    .unwrap();
    let result = omg(&env, &project, &["install", "rust", "1.90.0"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        toolchain
            .join("lib/rustlib/wasm32-unknown-unknown/lib/libstd.rlib")
            .is_file()
    );
    // The hook puts it on PATH there.
    let out = env
        .command(*common::OMG)
        .args(["hook-env", "bash"])
        .current_dir(&project)
        .env("PATH", PLAIN_PATH)
        .env_remove("__OMG_STATE")
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout);
    assert!(code.contains("versions/rust/1.90.0/bin"), "{code}");
    // `omg which` names it, chosen by the file.
    let which = omg(&env, &project, &["which", "rustc"]);
    assert_eq!(which.code, 0, "{}", which.stderr);
    assert_eq!(
        which.stdout.trim(),
        toolchain.join("bin/rustc").display().to_string()
    );
    // A named channel resolves offline to the installed release.
    std::fs::write(
        project.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"stable\"\n",
    )
    .unwrap();
    let which = omg(&env, &project, &["which", "cargo"]);
    assert_eq!(which.code, 0, "{}", which.stderr);
    assert!(which.stdout.contains("versions/rust/1.90.0/bin/cargo"));
}

#[test]
fn a_manifest_or_tarball_that_does_not_match_its_checksum_installs_nothing() {
    let dist = FileServer::start();
    publish(&dist, "1.90.0", "2025-09-18");
    let env = common::Env::new();
    env.configure(&format!(
        "[runtimes]\nrust_dist_server = \"{}\"\n",
        dist.url()
    ));
    let here = env.dir.path();
    let rust_dir = env.data_dir().join("versions/rust");
    let installed = || {
        std::fs::read_dir(&rust_dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .unwrap_or(0)
    };

    // The manifest's published checksum is for other bytes.
    dist.put(
        "/dist/channel-rust-stable.toml.sha256",
        format!("{}  channel-rust-stable.toml\n", "1".repeat(64)),
    );
    let bad = omg(&env, here, &["install", "rust", "stable"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("channel-rust-stable.toml does not match its published checksum"),
        "{}",
        bad.stderr
    );
    // No checksum published: fail closed.
    dist.remove("/dist/channel-rust-stable.toml.sha256");
    let bad = omg(&env, here, &["install", "rust", "stable"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("cannot be verified"), "{}", bad.stderr);
    assert_eq!(installed(), 0);

    // The recorded 1.86.0 manifest, served with tarballs that are not
    // the ones it hashes.
    let path = fixture("channel-rust-stable.2025-04-03.trimmed.toml");
    let manifest = std::fs::read(path).unwrap();
    dist.put(
        "/dist/channel-rust-1.86.0.toml.sha256",
        format!(
            "{}  channel-rust-1.86.0.toml\n",
            common::sha256_hex(&manifest)
        ),
    );
    dist.put("/dist/channel-rust-1.86.0.toml", manifest);
    for pkg in [
        "cargo",
        "clippy",
        "rust-docs",
        "rust-std",
        "rustc",
        "rustfmt",
    ] {
        let stem = format!("{pkg}-1.86.0-x86_64-unknown-linux-gnu");
        dist.put(
            &format!("/dist/2025-04-03/{stem}.tar.gz"),
            installer_tarball(&stem, pkg, &[("bin/x", "x")]),
        );
    }
    if host() == "x86_64-unknown-linux-gnu" {
        let bad = omg(&env, here, &["install", "rust", "1.86.0"]);
        assert_eq!(bad.code, 1);
        assert!(
            bad.stderr.contains("does not match its published checksum"),
            "{}",
            bad.stderr
        );
        assert_eq!(installed(), 0, "nothing of 1.86.0 is left");
    }
}

#[test]
fn with_rustup_installed_omg_hands_rust_to_it() {
    let Some(rustup) = omg::runtime::rust::rustup() else {
        common::skip_test("rustup is not installed");
        return;
    };
    let dist = FileServer::start();
    publish(&dist, "1.90.0", "2025-09-18");
    let env = common::Env::new();
    // rustup as its installer leaves it: in $CARGO_HOME/bin.
    let home = env.dir.path().join("rustup-home");
    let cargo_home = env.dir.path().join("cargo-home");
    std::fs::create_dir_all(cargo_home.join("bin")).unwrap();
    std::os::unix::fs::symlink(&rustup, cargo_home.join("bin/rustup")).unwrap();
    let path = format!("{}:{PLAIN_PATH}", cargo_home.join("bin").display());
    let omg_rustup = |args: &[&str]| -> common::Run {
        env.command(*common::OMG)
            .args(args)
            .current_dir(env.dir.path())
            .env("PATH", &path)
            .env("RUSTUP_HOME", &home)
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTUP_DIST_SERVER", dist.url())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTUP_UPDATE_ROOT")
            .output()
            .unwrap()
            .into()
    };
    let result = omg_rustup(&["install", "rust", "1.90.0"]);
    assert_eq!(result.code, 0, "{}\n{}", result.stdout, result.stderr);
    assert!(
        result.stderr.contains("handing this to"),
        "{}",
        result.stderr
    );
    let toolchain = home.join(format!("toolchains/1.90.0-{}", host()));
    assert_eq!(
        run(&toolchain.join("bin/rustc")),
        "rustc 1.90.0 (0000000 2025-09-18)"
    );
    assert!(
        !env.data_dir().join("versions/rust").exists(),
        "omg installed nothing itself"
    );
    let result = omg_rustup(&["use", "rust", "1.90.0"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let settings = std::fs::read_to_string(home.join("settings.toml")).unwrap();
    assert!(settings.contains("1.90.0"), "{settings}");
}
