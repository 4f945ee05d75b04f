//! What ships besides the binaries: the man pages in man/ are what the
//! clap definitions render now and format without a groff warning, and
//! the completion scripts complete subcommands and, from the index,
//! package names (in real bash and fish).

mod common;

use std::path::Path;
use std::process::Command;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn man_pages_are_current_and_format_cleanly() {
    for (program, flag, page) in [
        (*common::OMG, "__manpage", "man/omg.1"),
        (*common::OMGD, "--manpage", "man/omgd.8"),
    ] {
        let out = Command::new(program).arg(flag).output().unwrap();
        assert!(out.status.success());
        let shipped = std::fs::read(manifest().join(page)).unwrap();
        assert!(
            out.stdout == shipped,
            "{page} is stale: run `make man` and commit it"
        );
    }
    for page in [
        "man/omg.1",
        "man/omgd.8",
        "man/omg-fast.1",
        "man/omg.conf.5",
    ] {
        let out = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(manifest().join(page))
            .output()
            .unwrap();
        assert!(out.status.success(), "{page}");
        assert!(
            out.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("man")
            .arg("-l")
            .arg(manifest().join(page))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(out.status.success(), "{page}");
        assert!(!out.stdout.is_empty(), "{page}");
    }
}

#[test]
fn completions_offer_subcommands_and_package_names() {
    let root = common::AptRoot::new();
    let env = common::Env::with_apt(&root);
    let dir = env.dir.path();
    let bin = Path::new(*common::OMG).parent().unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for shell in ["bash", "fish"] {
        let out = env
            .command(*common::OMG)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(dir.join(format!("omg.{shell}")), &out.stdout).unwrap();
    }
    let script = dir.join("omg.bash").display().to_string();
    let bash = |words: &str, cword: u32| -> String {
        let code = format!(
            "source {script}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE=\"{words}\"\nCOMP_POINT=${{#COMP_LINE}}\n_omg_with_packages omg\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
        );
        let out = env
            .command("bash")
            .arg("-c")
            .arg(code)
            .env("PATH", &path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        bash("omg ins", 1).lines().any(|l| l == "install"),
        "{}",
        bash("omg ins", 1)
    );
    let names = bash("omg install hel", 2);
    assert!(names.lines().any(|l| l == "hello-omg"), "{names}");
    let names = bash("omg info hello-o", 2);
    assert!(names.lines().any(|l| l == "hello-omg"), "{names}");

    let fish = env
        .command("fish")
        .arg("-c")
        .arg(format!(
            "source {}; complete -C 'omg install hel'",
            dir.join("omg.fish").display()
        ))
        .env("PATH", &path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&fish.stdout);
    assert!(out.lines().any(|l| l.starts_with("hello-omg")), "{out}");
}
