//! `omg owns` and `omg files` against the package managers' own answers:
//! `dpkg -S` and `dpkg -L` on this machine's database, `pacman -Qo` and
//! `pacman -Ql` on an Arch root omg installed into.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::{Env, system};

/// The owners `dpkg -S` names for exactly `path`.
fn dpkg_owners(path: &str) -> BTreeSet<String> {
    let out = std::process::Command::new("dpkg")
        .args(["-S", path])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("diversion by"))
        .filter_map(|l| l.rsplit_once(": "))
        .filter(|(_, p)| *p == path)
        .flat_map(|(owners, _)| {
            owners
                .split(", ")
                .map(|o| o.split(':').next().unwrap().to_string())
        })
        .collect()
}

fn omg_owners(env: &Env, path: &str) -> BTreeSet<String> {
    let answer = env.json(&["owns", "--json", path]);
    answer[0]["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn owners_and_files_agree_with_dpkg_on_this_machine() {
    let env = Env::new();
    for path in [
        "/bin/ls",
        "/usr/bin/dpkg",
        "/usr/share/doc/dpkg",
        "/usr/bin",
        "/etc",
    ] {
        let dpkg = dpkg_owners(path);
        assert!(!dpkg.is_empty(), "dpkg -S {path} names nobody");
        assert_eq!(omg_owners(&env, path), dpkg, "{path}");
    }
    // The version is the installed one.
    let answer = env.json(&["owns", "--json", "/usr/bin/dpkg"]);
    let version = system("dpkg-query", &["-W", "-f", "${Version}", "dpkg"]);
    assert_eq!(answer[0]["owners"][0]["version"], version.as_str());
    // A bare command name is found on PATH; /usr/bin/ls, which dpkg's list
    // names /bin/ls on a merged-/usr system, is still coreutils'.
    let run = env.omg(&["owns", "ls", "/usr/bin/ls"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("is owned by coreutils").count(),
        2,
        "{}",
        run.stdout
    );
    // A file no package owns: exit 1, named.
    let stray = tempfile::NamedTempFile::new().unwrap();
    let stray = stray.path().to_str().unwrap();
    let run = env.omg(&["owns", "/bin/ls", stray]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("/bin/ls is owned by coreutils"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!("no package owns {stray}")),
        "{}",
        run.stderr
    );
    let run = env.omg(&["owns", "/no/such/file"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("there is no such file"),
        "{}",
        run.stderr
    );
    // pacman's -Qo is omg owns.
    assert_eq!(
        env.omg(&["-Qo", "/bin/ls"]).stdout,
        env.omg(&["owns", "/bin/ls"]).stdout
    );

    // omg files is dpkg -L (without its "/." line).
    let listed = env.omg(&["files", "dpkg"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let dpkg: Vec<String> = system("dpkg", &["-L", "dpkg"])
        .lines()
        .filter(|l| *l != "/.")
        .map(str::to_string)
        .collect();
    let omg: Vec<String> = listed.stdout.lines().map(str::to_string).collect();
    assert_eq!(omg, dpkg);
    let run = env.omg(&["files", "no-such-package-xyz"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("is not installed"), "{}", run.stderr);
}

#[test]
fn owners_and_files_agree_with_pacman_on_arch() {
    let root = ArchRoot::new(&[
        Spec::new("hello-arch", "1.0-1", "friendly greeter for tests"),
        Spec::new("lonely-arch", "1.0-1", "a package on its own"),
    ]);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "hello-arch", "lonely-arch"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let readme = root.path("root/usr/share/hello-arch/README");
    let readme = readme.to_str().unwrap();
    let pacman = root.pacman_query(&["-Qo", readme]);
    assert!(pacman.contains("is owned by hello-arch 1.0-1"), "{pacman}");
    let run = env.omg(&["owns", readme]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!("{readme} is owned by hello-arch 1.0-1")
    );
    // A directory two packages have.
    let share = root.path("root/usr/share");
    assert_eq!(
        omg_owners(&env, share.to_str().unwrap()),
        ["hello-arch", "lonely-arch"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    // Outside the root, nobody.
    let run = env.omg(&["owns", "/etc/passwd"]);
    assert_eq!(run.code, 1);

    // omg files is pacman -Qlq.
    let listed = env.omg(&["files", "hello-arch"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.stdout, root.pacman_query(&["-Qlq", "hello-arch"]));
    assert_eq!(env.omg(&["-Ql", "hello-arch"]).stdout, listed.stdout);
}

#[test]
fn hostile_owns_requests_are_refused_plainly() {
    let env = Env::new();
    let many: Vec<String> = (0..300).map(|i| format!("/x/{i}")).collect();
    let mut args = vec!["owns".to_string()];
    args.extend(many);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = env.omg(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("between 1 and 256 paths"),
        "{}",
        run.stderr
    );
    let long = format!("/{}", "a".repeat(5000));
    let run = env.omg(&["owns", &long]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not an absolute path"),
        "{}",
        run.stderr
    );
    // The same bounds for provides; files takes package names only.
    let mut many = vec!["provides".to_string()];
    many.extend((0..300).map(|i| format!("cmd{i}")));
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let run = env.omg(&many);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("between 1 and 256 commands or paths"),
        "{}",
        run.stderr
    );
    let run = env.omg(&["provides", "bad\u{7}name"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a command name or a path"),
        "{}",
        run.stderr
    );
    for name in ["../etc/passwd", "two words"] {
        let run = env.omg(&["files", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a package name"),
            "{}",
            run.stderr
        );
    }
}
