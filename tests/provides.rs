//! `omg provides` and the shell's command-not-found, from the file index
//! the refresh worker builds out of the repository's `Contents-amd64` (a
//! real `apt` acquire of the target apt-file configures, checked against
//! the Release file's hash).

mod common;

use common::{AptRoot, Env, OMG};

const CONTENTS: &str = "usr/bin/hello-omg\t\t\t\tmisc/hello-omg\n\
usr/bin/greet\t\t\t\t\tmisc/hello-omg,misc/greeter-alt\n\
usr/share/doc/editor-omg/README\t\teditors/editor-omg\n\
usr/lib/omg/plugin.so\t\t\t\tlibs/base-omg\n";

#[test]
fn provides_answers_from_the_contents_index_after_a_refresh() {
    let root = AptRoot::with_contents(CONTENTS);
    let env = Env::with_apt(&root);
    // Nothing indexed yet: said, exit 1.
    let run = env.omg(&["provides", "hello-omg"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("no repository package is known to ship hello-omg"),
        "{}",
        run.stderr
    );

    let run = env.refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = env.omg(&["provides", "hello-omg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("hello-omg 2.0-1 ("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.trim_end().ends_with(": /usr/bin/hello-omg"),
        "{}",
        run.stdout
    );
    // A command two packages ship; a path; a path nobody ships.
    let found = env.json(&[
        "provides",
        "--json",
        "greet",
        "/usr/share/doc/editor-omg/README",
    ]);
    let names = |i: usize| -> Vec<String> {
        found[i]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(0), ["hello-omg", "greeter-alt"]);
    assert_eq!(names(1), ["editor-omg"]);
    assert_eq!(
        found[1]["providers"][0]["path"],
        "/usr/share/doc/editor-omg/README"
    );
    // Only commands in the shell's directories are commands.
    let run = env.omg(&["provides", "plugin.so"]);
    assert_eq!(run.code, 1);
    // A repository package's files, from the index (editor-omg is not
    // installed).
    let run = env.omg(&["files", "editor-omg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "/usr/share/doc/editor-omg/README\n");
    let run = env.omg(&["provides", "/usr/lib/omg/plugin.so"]);
    assert!(run.stdout.starts_with("base-omg 1.0-1"), "{}", run.stdout);
    assert!(run.stdout.contains("[installed]"), "{}", run.stdout);

    // The Release file announces a new Contents, but what is served is
    // not what it announced: apt refuses the file (hash mismatch), the
    // refresh fails, the index stays as it was.
    let release = root.path("repo/Release");
    let text = std::fs::read_to_string(&release).unwrap();
    let announced = "usr/bin/good\t\tmisc/good\n";
    let hash = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(announced.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let text: String = text
        .lines()
        .map(|l| {
            if l.ends_with(" Contents-amd64") {
                format!(" {hash} {} Contents-amd64\n", announced.len())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(
        &release,
        format!("Date: Wed, 25 Nov 2026 12:00:00 UTC\n{text}"),
    )
    .unwrap();
    std::fs::write(
        root.path("repo/Contents-amd64"),
        "usr/bin/evil\t\tmisc/evil\n",
    )
    .unwrap();
    let run = env.refresh();
    assert_ne!(
        run.code, 0,
        "a Contents file that is not the one announced must not be taken"
    );
    assert_eq!(env.omg(&["provides", "evil"]).code, 1);
    assert_eq!(env.omg(&["provides", "good"]).code, 1);
    assert_eq!(env.omg(&["provides", "hello-omg"]).code, 0);
}

#[test]
fn command_not_found_names_the_package_or_the_runtime_the_project_asks_for() {
    let root = AptRoot::with_contents(CONTENTS);
    let env = Env::with_apt(&root);
    assert_eq!(env.refresh().code, 0);
    let run = env.omg(&["__command-not-found", "hello-omg"]);
    assert_eq!(run.code, 127);
    assert!(
        run.stderr.starts_with("hello-omg: omg install hello-omg ("),
        "{}",
        run.stderr
    );
    let run = env.omg(&["__command-not-found", "no-such-command"]);
    assert_eq!(run.code, 127);
    assert_eq!(run.stderr, "no-such-command: command not found\n");
    // A project asking for a node that is not installed.
    let project = env.dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".nvmrc"), "20\n").unwrap();
    let run: common::Run = env
        .command(*OMG)
        .args(["__command-not-found", "npm"])
        .current_dir(&project)
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 127);
    assert_eq!(
        run.stderr,
        "npm: this project asks for node 20 (.nvmrc): omg install node 20\n"
    );

    // In the shell, when the hook is asked to.
    let script = format!(
        "eval \"$({} hook bash)\"\nhello-omg\necho status=$?\n",
        *OMG
    );
    let bash = |env: &Env| -> common::Run {
        env.command("bash")
            .args(["-c", &script])
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
            .into()
    };
    let run = bash(&env);
    assert!(run.stdout.contains("status=127"), "{}", run.stdout);
    assert!(
        !run.stderr.contains("omg install"),
        "off unless asked: {}",
        run.stderr
    );
    env.configure("[hook]\ncommand_not_found = true\n");
    let run = bash(&env);
    assert!(run.stdout.contains("status=127"), "{}", run.stdout);
    assert!(
        run.stderr.contains("hello-omg: omg install hello-omg ("),
        "{}",
        run.stderr
    );
    // zsh's and fish's handlers say the same.
    let omg = *OMG;
    for (shell, script) in [
        (
            "zsh",
            format!("eval \"$({omg} hook zsh)\"\nhello-omg\necho status=$?\n"),
        ),
        (
            "fish",
            format!("{omg} hook fish | source\nhello-omg\necho status=$status\n"),
        ),
    ] {
        let run: common::Run = env
            .command(shell)
            .args(["-c", &script])
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
            .into();
        assert!(run.stdout.contains("status=127"), "{shell}: {}", run.stdout);
        assert!(
            run.stderr.contains("hello-omg: omg install hello-omg ("),
            "{shell}: {}",
            run.stderr
        );
    }
}

#[test]
fn provides_on_arch_reads_the_files_databases() {
    use common::arch::{ArchRoot, Spec};
    let root = ArchRoot::new(&[
        Spec {
            command: "hello",
            ..Spec::new("hello-arch", "1.0-1", "friendly greeter for tests")
        },
        Spec::new("lonely-arch", "1.0-1", "a package on its own"),
    ]);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    let run = env.refresh();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // What pacman -F says, omg provides says.
    let pacman = std::process::Command::new("pacman")
        .arg("--config")
        .arg(root.conf())
        .args(["-Fy"])
        .output()
        .unwrap();
    assert!(
        pacman.status.success(),
        "{}",
        String::from_utf8_lossy(&pacman.stderr)
    );
    let found = root.pacman_query(&["-Fq", "/usr/bin/hello"]);
    assert_eq!(found.trim(), "omgtest/hello-arch");
    let run = env.omg(&["provides", "hello"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("hello-arch 1.0-1 (omgtest)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.trim_end().ends_with(": /usr/bin/hello"),
        "{}",
        run.stdout
    );
    let run = env.omg(&["provides", "/usr/share/lonely-arch/README"]);
    assert!(
        run.stdout.starts_with("lonely-arch 1.0-1"),
        "{}",
        run.stdout
    );
    let run = env.omg(&["__command-not-found", "hello"]);
    assert_eq!(run.code, 127);
    assert_eq!(run.stderr, "hello: omg install hello-arch (omgtest)\n");
}

#[test]
fn provides_on_arch_asks_the_aur_but_command_not_found_sends_it_nothing() {
    use common::arch::{ArchRoot, Spec};
    use std::sync::atomic::Ordering;
    let aur = common::aur::FakeAur::start();
    let mut record = common::aur::record("ghost-cli", "ghost-cli", "1.0-1");
    record["Provides"] = serde_json::json!(["ghost"]);
    aur.add_record(record);
    let root = ArchRoot::new(&[Spec::new("lonely-arch", "1.0-1", "a package on its own")]);
    root.pacman(&["-Sy"]);
    let mut env = root.omg_env();
    env.aur_url = aur.server.url.clone();
    assert_eq!(env.refresh().code, 0);
    // A typo at the prompt goes nowhere.
    let before = aur.server.hits.load(Ordering::SeqCst);
    let run = env.omg(&["__command-not-found", "ghost"]);
    assert_eq!(run.code, 127);
    assert_eq!(run.stderr, "ghost: command not found\n");
    assert_eq!(
        aur.server.hits.load(Ordering::SeqCst),
        before,
        "the AUR was asked"
    );
    // Asked for, the AUR answers.
    let run = env.omg(&["provides", "ghost"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "ghost-cli 1.0-1 (aur): provides ghost\n");
    assert!(aur.server.hits.load(Ordering::SeqCst) > before);
}
