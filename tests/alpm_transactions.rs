//! Real libalpm transactions through omg: packages built by makepkg,
//! published with repo-add, installed, upgraded and removed by `omg` (its
//! omgd child running libalpm) in a temporary root. After each transaction
//! the root's local database must say what pacman says, and omg's own list
//! must agree.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::{Env, Run};

const SPECS: &[Spec] = &[
    Spec {
        depends: &["libgreet-arch>=1.0"],
        provides: &["greeter"],
        groups: &["omg-tools"],
        ..Spec::new("hello-arch", "1.0-1", "friendly greeter for tests")
    },
    Spec::new("libgreet-arch", "1.0-1", "greeting library"),
    Spec {
        provides: &["greeter"],
        conflicts: &["hello-arch"],
        ..Spec::new("shout-arch", "1.0-1", "a greeter that shouts")
    },
    Spec {
        groups: &["omg-tools"],
        ..Spec::new("extra-arch", "1.0-1", "extras for the greeter")
    },
    Spec {
        depends: &["ghost-lib"],
        ..Spec::new(
            "needs-ghost-arch",
            "1.0-1",
            "depends on nothing that exists",
        )
    },
    Spec::new("lonely-arch", "1.0-1", "a package on its own"),
];

/// A fresh root with the repository's database downloaded (`pacman -Sy`).
fn synced_root() -> ArchRoot {
    let root = ArchRoot::new(SPECS);
    root.pacman(&["-Sy"]);
    root
}

/// `name version` of every installed package, as pacman says.
fn pacman_q(root: &ArchRoot) -> BTreeSet<String> {
    root.pacman_query(&["-Q"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// `name version` of every installed package, as omg says.
fn omg_q(env: &Env) -> BTreeSet<String> {
    env.json(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

fn installed(root: &ArchRoot) -> BTreeSet<String> {
    root.pacman_query(&["-Qq"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The local database agrees with pacman, and omg's view with both.
fn assert_consistent(root: &ArchRoot, env: &Env) {
    assert_eq!(
        omg_q(env),
        pacman_q(root),
        "omg list disagrees with pacman -Q"
    );
}

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "omg failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

fn failed(run: &Run) -> String {
    assert_eq!(
        run.code, 1,
        "omg should have failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run.stderr.clone()
}

#[test]
fn install_pulls_dependencies_and_remove_takes_them_back() {
    let root = synced_root();
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "hello-arch"]);
    ok(&run);
    assert!(run.stdout.contains("omgtest/hello-arch"), "{}", run.stdout);
    assert!(
        run.stdout.contains("omgtest/libgreet-arch"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 packages installed"),
        "{}",
        run.stdout
    );
    assert_eq!(installed(&root), set(&["hello-arch", "libgreet-arch"]));
    // The dependency is recorded as one, the target as explicit.
    assert_eq!(root.pacman_query(&["-Qdq"]).trim(), "libgreet-arch");
    assert_eq!(root.pacman_query(&["-Qeq"]).trim(), "hello-arch");
    assert!(
        root.path("root/usr/share/hello-arch/README").is_file(),
        "the files are in the root"
    );
    assert_consistent(&root, &env);

    // Plain remove leaves the dependency.
    ok(&env.omg(&["remove", "--noconfirm", "hello-arch"]));
    assert_eq!(installed(&root), set(&["libgreet-arch"]));
    assert!(!root.path("root/usr/share/hello-arch").exists());
    assert_consistent(&root, &env);

    // Recursive remove takes the dependency nothing else needs.
    ok(&env.omg(&["install", "--noconfirm", "hello-arch"]));
    let run = env.omg(&["remove", "--noconfirm", "--recursive", "hello-arch"]);
    ok(&run);
    assert!(run.stdout.contains("2 packages removed"), "{}", run.stdout);
    assert!(installed(&root).is_empty());
    assert_consistent(&root, &env);
    // The lock is released.
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
}

#[test]
fn removing_a_needed_package_is_refused_with_the_reason() {
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "hello-arch"]));
    let err = failed(&env.omg(&["remove", "--noconfirm", "libgreet-arch"]));
    assert!(
        err.contains(
            "removing libgreet-arch breaks dependency 'libgreet-arch>=1.0' required by hello-arch"
        ),
        "{err}"
    );
    assert_eq!(installed(&root), set(&["hello-arch", "libgreet-arch"]));
    // --cascade removes what depends on it too.
    ok(&env.omg(&["remove", "--noconfirm", "--cascade", "libgreet-arch"]));
    assert!(installed(&root).is_empty());
    assert_consistent(&root, &env);
}

#[test]
fn a_dry_run_shows_the_plan_and_changes_nothing() {
    let root = synced_root();
    let env = root.omg_env();
    let report = env.json(&["install", "--dry-run", "--json", "hello-arch"]);
    assert_eq!(report["committed"], false);
    let changes = report["changes"].as_array().unwrap();
    let planned: BTreeSet<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["kind"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        planned,
        set(&["Install hello-arch", "Install libgreet-arch"])
    );
    let dependency = changes
        .iter()
        .find(|c| c["name"] == "libgreet-arch")
        .unwrap();
    assert_eq!(dependency["as_dependency"], true);
    assert_eq!(dependency["new_version"], "1.0-1");
    assert!(installed(&root).is_empty());
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
}

#[test]
fn upgrade_refreshes_the_databases_and_installs_newer_versions() {
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "hello-arch", "lonely-arch"]));
    root.publish(&[Spec {
        depends: &["libgreet-arch>=1.0"],
        provides: &["greeter"],
        groups: &["omg-tools"],
        ..Spec::new("hello-arch", "1.1-1", "friendly greeter for tests")
    }]);
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(run.stdout.contains("1 package upgraded"), "{}", run.stdout);
    assert!(pacman_q(&root).contains("hello-arch 1.1-1"));
    assert!(pacman_q(&root).contains("lonely-arch 1.0-1"));
    assert_consistent(&root, &env);
    // Nothing left to upgrade, and omg says so.
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stdout.contains("there is nothing to do"),
        "{}",
        run.stdout
    );
    assert_eq!(
        env.json(&["list", "--upgradable", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn sync_downloads_changed_databases_only() {
    let root = ArchRoot::new(SPECS);
    let env = root.omg_env();
    let report = env.json(&["sync", "--json"]);
    assert_eq!(report["databases"][0]["name"], "omgtest");
    assert_eq!(report["databases"][0]["updated"], true);
    assert!(root.path("root/var/lib/pacman/sync/omgtest.db").is_file());
    let report = env.json(&["sync", "--json"]);
    assert_eq!(report["databases"][0]["updated"], false);
    let report = env.json(&["sync", "--force", "--json"]);
    assert_eq!(report["databases"][0]["updated"], true);
}

#[test]
fn a_conflict_asks_and_the_default_refuses() {
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "hello-arch"]));
    // --noconfirm takes the default: keep the installed package, fail.
    let err = failed(&env.omg(&["install", "--noconfirm", "shout-arch"]));
    assert!(err.contains("conflict"), "{err}");
    assert_eq!(installed(&root), set(&["hello-arch", "libgreet-arch"]));
    // Answering yes replaces it.
    let run = env.omg_with_input(&["install", "shout-arch"], "y\ny\n");
    ok(&run);
    assert!(
        run.stdout
            .contains("shout-arch and hello-arch are in conflict"),
        "{}",
        run.stdout
    );
    assert_eq!(installed(&root), set(&["libgreet-arch", "shout-arch"]));
    assert_consistent(&root, &env);
}

#[test]
fn declining_the_confirmation_changes_nothing() {
    let root = synced_root();
    let env = root.omg_env();
    let run = env.omg_with_input(&["install", "lonely-arch"], "n\n");
    let err = failed(&run);
    assert!(err.contains("cancelled"), "{err}");
    assert!(
        run.stdout.contains("Proceed with installation? [Y/n]"),
        "{}",
        run.stdout
    );
    assert!(installed(&root).is_empty());
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
}

#[test]
fn a_provided_name_asks_which_provider() {
    let root = synced_root();
    let env = root.omg_env();
    let run = env.omg_with_input(&["install", "greeter"], "2\ny\n");
    ok(&run);
    assert!(
        run.stdout
            .contains("There are 2 providers available for greeter"),
        "{}",
        run.stdout
    );
    assert_eq!(installed(&root), set(&["shout-arch"]));
    // Without questions the first provider is taken, as pacman does.
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "greeter"]));
    assert_eq!(installed(&root), set(&["hello-arch", "libgreet-arch"]));
    assert_consistent(&root, &env);
}

#[test]
fn a_group_offers_its_members() {
    let root = synced_root();
    let env = root.omg_env();
    let run = env.omg_with_input(&["install", "omg-tools"], "^1\ny\n");
    ok(&run);
    assert!(
        run.stdout
            .contains("There are 2 members in group omg-tools"),
        "{}",
        run.stdout
    );
    let members: Vec<&str> = ["extra-arch", "hello-arch"].to_vec();
    // The listing is in the repository's order; "^1" leaves the first out.
    let first = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1)"))
        .unwrap()
        .to_string();
    let left_out = members.iter().find(|m| first.contains(*m)).unwrap();
    assert!(
        !installed(&root).contains(*left_out),
        "{left_out} was left out"
    );
    assert_eq!(
        installed(&root)
            .iter()
            .filter(|n| members.contains(&n.as_str()))
            .count(),
        1
    );
    assert_consistent(&root, &env);
}

#[test]
fn repo_prefixed_targets_and_package_files_install() {
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "omgtest/lonely-arch"]));
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    let file = root.package_file("extra-arch");
    ok(&env.omg(&["install", "--noconfirm", file.to_str().unwrap()]));
    assert_eq!(installed(&root), set(&["extra-arch", "lonely-arch"]));
    assert_consistent(&root, &env);
}

#[test]
fn needed_asdeps_and_asexplicit() {
    let root = synced_root();
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "--asdeps", "lonely-arch"]));
    assert_eq!(root.pacman_query(&["-Qdq"]).trim(), "lonely-arch");
    let run = env.omg(&["install", "--noconfirm", "--needed", "lonely-arch"]);
    ok(&run);
    assert!(
        run.stdout.contains("there is nothing to do"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("lonely-arch-1.0-1 is up to date -- skipping"),
        "{}",
        run.stdout
    );
    // A reinstall may change the reason.
    ok(&env.omg(&["install", "--noconfirm", "--asexplicit", "lonely-arch"]));
    assert_eq!(root.pacman_query(&["-Qeq"]).trim(), "lonely-arch");
    assert_consistent(&root, &env);
}

#[test]
fn unknown_targets_and_missing_dependencies_change_nothing() {
    let root = synced_root();
    let env = root.omg_env();
    let err = failed(&env.omg(&["install", "--noconfirm", "lonely-arc"]));
    assert!(err.contains("target not found: lonely-arc"), "{err}");
    assert!(err.contains("lonely-arch"), "a suggestion: {err}");
    let err = failed(&env.omg(&["install", "--noconfirm", "needs-ghost-arch"]));
    assert!(
        err.contains("unable to satisfy dependency 'ghost-lib' required by needs-ghost-arch"),
        "{err}"
    );
    assert!(installed(&root).is_empty());
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
}

#[test]
fn a_held_lock_is_a_clear_error() {
    let root = synced_root();
    let env = root.omg_env();
    let lock = root.path("root/var/lib/pacman/db.lck");
    std::fs::write(&lock, "").unwrap();
    let err = failed(&env.omg(&["install", "--noconfirm", "lonely-arch"]));
    assert!(err.contains("unable to lock the database"), "{err}");
    assert!(err.contains(&lock.display().to_string()), "{err}");
    assert!(installed(&root).is_empty());
    assert!(lock.exists(), "someone else's lock is left alone");

    // The lock of an omg that was killed mid-transaction (its marker names
    // a process that is gone) does not block the next one.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(
        root.path("root/var/lib/pacman/db.lck.omg"),
        format!("{pid} 4242\n"),
    )
    .unwrap();
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    ok(&run);
    assert!(
        run.stderr
            .contains("left by an omg transaction that was interrupted")
            || run
                .stdout
                .contains("left by an omg transaction that was interrupted"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    assert!(!lock.exists(), "released after the transaction");
    assert!(!root.path("root/var/lib/pacman/db.lck.omg").exists());
}

#[test]
fn a_corrupt_package_is_refused_and_deleted_from_the_cache() {
    let root = synced_root();
    let env = root.omg_env();
    let file = root.package_file("lonely-arch");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let err = failed(&env.omg(&["install", "--noconfirm", "lonely-arch"]));
    assert!(err.contains("invalid or corrupted package"), "{err}");
    assert!(installed(&root).is_empty());
    let cached = root
        .path("root/var/cache/pacman/pkg")
        .join(file.file_name().unwrap());
    assert!(!cached.exists(), "the corrupt download is deleted");
}

#[test]
fn signatures_are_checked_when_required() {
    let root = ArchRoot::new(SPECS);
    root.trust_new_key();
    root.sign("extra-arch", false);
    root.sign("lonely-arch", true);
    let conf = std::fs::read_to_string(root.conf()).unwrap();
    std::fs::write(
        root.conf(),
        conf.replace("SigLevel = Never", "SigLevel = Required DatabaseOptional"),
    )
    .unwrap();
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    // A good signature by a trusted key: installed.
    ok(&env.omg(&["install", "--noconfirm", "extra-arch"]));
    assert_eq!(installed(&root), set(&["extra-arch"]));
    // A real signature, of other bytes: refused.
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    let err = failed(&run);
    assert!(
        err.contains("invalid or corrupted package (PGP signature)"),
        "{err}"
    );
    assert!(
        run.stdout.contains("signature from \"omg test packager"),
        "{}",
        run.stdout
    );
    // No signature at all: libalpm looks for one on the server, finds
    // none, and refuses.
    let err = failed(&env.omg(&["install", "--noconfirm", "libgreet-arch"]));
    assert!(err.contains("failed to commit the transaction"), "{err}");
    assert_eq!(installed(&root), set(&["extra-arch"]));
    assert_consistent(&root, &env);
}

#[test]
fn held_packages_ask_before_removal() {
    let root = synced_root();
    root.option("HoldPkg = lonely-*");
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "lonely-arch"]));
    let run = env.omg(&["remove", "--noconfirm", "lonely-arch"]);
    let err = failed(&run);
    assert!(err.contains("cancelled"), "{err}");
    assert!(
        run.stdout
            .contains("lonely-arch is designated as a HoldPkg"),
        "{}",
        run.stdout
    );
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    ok(&env.omg_with_input(&["remove", "lonely-arch"], "y\ny\n"));
    assert!(installed(&root).is_empty());
}

#[test]
fn ignored_packages_are_not_upgraded() {
    let root = synced_root();
    root.option("IgnorePkg = lonely-arch");
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "lonely-arch", "extra-arch"]));
    root.publish(&[
        Spec::new("lonely-arch", "2.0-1", "a package on its own"),
        Spec {
            groups: &["omg-tools"],
            ..Spec::new("extra-arch", "2.0-1", "extras for the greeter")
        },
    ]);
    let run = env.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(pacman_q(&root).contains("lonely-arch 1.0-1"));
    assert!(pacman_q(&root).contains("extra-arch 2.0-1"));
    assert!(
        run.stdout.contains("lonely-arch"),
        "the skip is reported: {}",
        run.stdout
    );
    assert_consistent(&root, &env);
}

#[test]
fn without_root_or_sudo_omg_says_what_to_do() {
    let root = synced_root();
    let env = root.omg_env();
    let out = env
        .command("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(*common::OMG)
        .args(["install", "--noconfirm", "lonely-arch"])
        // No sudo to be found.
        .env("PATH", env.dir.path())
        .output()
        .unwrap();
    let run = Run::from(out);
    let err = failed(&run);
    assert!(err.contains("needs root"), "{err}");
    assert!(installed(&root).is_empty());
}

#[test]
fn hooks_in_the_hook_dir_run_after_the_transaction() {
    let root = synced_root();
    // The hook runs chrooted into the root: give it a program to run.
    for file in [
        "/usr/bin/touch",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ] {
        let target = root.path("root").join(file.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(file, &target).unwrap();
    }
    std::fs::write(
        root.path("root/etc/pacman.d/hooks/mark.hook"),
        "[Trigger]\nOperation = Install\nType = Package\nTarget = lonely-arch\n\n\
         [Action]\nDescription = Marking the install\nWhen = PostTransaction\n\
         Exec = /usr/bin/touch /hook-ran\n",
    )
    .unwrap();
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "extra-arch"]);
    ok(&run);
    assert!(
        !root.path("root/hook-ran").exists(),
        "the hook's trigger did not match"
    );
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    ok(&run);
    assert!(
        root.path("root/hook-ran").exists(),
        "the hook ran: {}",
        run.stdout
    );
    assert!(run.stdout.contains("hooks"), "{}", run.stdout);
    if common::alpm_line() == 16 {
        // libalpm 16 names each hook as it runs, as pacman 7 shows them.
        assert!(
            run.stdout.contains("(1/1) Marking the install"),
            "{}",
            run.stdout
        );
    }
    // The package was downloaded into CacheDir, where pacman keeps them.
    assert!(
        root.path("root/var/cache/pacman/pkg")
            .join(root.package_file("lonely-arch").file_name().unwrap())
            .is_file()
    );
}

#[test]
fn the_shipped_pacman_hook_is_read_and_runs_after_transactions() {
    let root = synced_root();
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "extra-arch"]);
    ok(&run);
    // "running hooks..." (libalpm 13), "running post-transaction
    // hooks..." (libalpm 16).
    assert!(
        !run.stdout.contains("hooks..."),
        "no hook yet: {}",
        run.stdout
    );
    // The hook runs chrooted into the root: give it a shell (busctl is
    // absent there, which the hook tolerates, as when omgd is not running).
    for file in [
        "/bin/sh",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ] {
        let target = root.path("root").join(file.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(file, &target).unwrap();
    }
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/pacman/omg-notify.hook"),
        root.path("root/etc/pacman.d/hooks/omg-notify.hook"),
    )
    .unwrap();
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    ok(&run);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert!(all.contains("hooks..."), "{all}");
    if common::alpm_line() == 16 {
        assert!(
            all.contains("(1/1) Telling omg the package database changed"),
            "{all}"
        );
    }
    assert!(!all.contains("failed"), "{all}");
    assert!(!all.contains("invalid"), "{all}");
}

#[test]
fn explicitly_installing_an_ignored_package_asks() {
    let root = synced_root();
    root.option("IgnorePkg = lonely-arch");
    let env = root.omg_env();
    let run = env.omg_with_input(&["install", "lonely-arch"], "n\n");
    assert!(
        run.stdout
            .contains("lonely-arch is in IgnorePkg/IgnoreGroup. Install anyway? [Y/n]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("skipping target: lonely-arch"),
        "{}",
        run.stdout
    );
    assert!(installed(&root).is_empty());
    // The default is yes, as pacman's.
    ok(&env.omg(&["install", "--noconfirm", "omgtest/lonely-arch"]));
    assert_eq!(installed(&root), set(&["lonely-arch"]));
}

/// A transaction request over the wire.
fn install_request(target: &str) -> omg::ipc::protocol::RequestBody {
    omg::ipc::protocol::RequestBody::Transaction(omg::transaction::TransactionRequest {
        action: omg::transaction::TransactionAction::Install {
            targets: vec![target.to_string()],
        },
        options: omg::transaction::TransactionOptions::default(),
    })
}

/// Reads frames until the transaction's first question; returns its id.
fn until_question(client: &mut common::RawClient) -> u32 {
    use omg::ipc::protocol::ServerFrame;
    use omg::transaction::TxEvent;
    loop {
        match client.receive() {
            Some(ServerFrame::Event {
                event: TxEvent::Question { id, .. },
                ..
            }) => return id,
            Some(ServerFrame::Event { .. }) => continue,
            other => panic!("expected events then a question, got {other:?}"),
        }
    }
}

#[test]
fn a_client_that_leaves_at_a_question_changes_nothing() {
    use omg::ipc::protocol::{ClientFrame, ServerFrame};
    let root = synced_root();
    let env = root.omg_env();
    let daemon = env.start_daemon();

    // Leaves at the confirmation: the safe answer (no) applies.
    let mut client = common::RawClient::connect(&env.socket());
    client.hello();
    client.request(1, install_request("lonely-arch"));
    until_question(&mut client);
    drop(client);

    // Garbage instead of an answer: the same.
    let mut client = common::RawClient::connect(&env.socket());
    client.hello();
    client.request(1, install_request("extra-arch"));
    until_question(&mut client);
    client.send_raw(&[0, 0, 0, 3, 0xff, 0xff, 0xff]);
    drop(client);

    // The daemon serves the next client, whose answers count; a request
    // pipelined behind the transaction is answered after it.
    let mut client = common::RawClient::connect(&env.socket());
    client.hello();
    client.request(1, install_request("lonely-arch"));
    let question = until_question(&mut client);
    // The two before were cancelled (one transaction runs at a time).
    assert!(installed(&root).is_empty());
    client.request(2, common::search("lonely-arch"));
    client.send(&ClientFrame::Answer {
        request: 1,
        question,
        answer: omg::transaction::Answer::Yes,
    });
    let mut order = Vec::new();
    while order.len() < 2 {
        match client.receive() {
            Some(ServerFrame::Event { .. }) => {}
            Some(ServerFrame::Response(r)) => {
                assert!(r.result.is_ok(), "{:?}", r.result);
                order.push(r.id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(order, [1, 2]);
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
    assert_consistent(&root, &env);
    drop(daemon);
}

#[test]
fn an_ordinary_user_goes_through_sudo() {
    if !std::path::Path::new("/usr/bin/sudo").is_file() {
        common::skip_test("sudo is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let root = synced_root();
    let env = root.omg_env();
    // Only this omgd, only for nobody, only while the test runs.
    let _rule = common::SudoRule::for_nobody(*common::OMGD, "transactions");
    let out = env
        .command("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(*common::OMG)
        .args(["--backend", "alpm", "--pacman-conf"])
        .arg(root.conf())
        .args(["install", "--noconfirm", "lonely-arch"])
        .env("PATH", common::plain_path())
        .output()
        .unwrap();
    let run = Run::from(out);
    ok(&run);
    assert!(run.stdout.contains("1 package installed"), "{}", run.stdout);
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    // Files installed by root, as root's.
    let meta = std::fs::metadata(root.path("root/usr/share/lonely-arch/README")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
}

#[test]
fn an_omgd_that_is_not_root_refuses_to_change_packages() {
    use omg::ipc::protocol::{
        ClientFrame, ErrorKind, Hello, PROTOCOL_VERSION, Request, ServerFrame,
    };
    use std::io::{Read, Write};
    let root = synced_root();
    let env = root.omg_env();
    common::give_to_nobody(env.dir.path());
    let mut child = env
        .command("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(*common::OMGD)
        .args(["--stdio", "--backend", "alpm", "--pacman-conf"])
        .arg(root.conf())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut send = |frame: &ClientFrame| {
        let payload = omg::ipc::codec::encode(frame).unwrap();
        stdin
            .write_all(&(payload.len() as u32).to_be_bytes())
            .unwrap();
        stdin.write_all(&payload).unwrap();
    };
    let mut receive = || -> ServerFrame {
        let mut len = [0u8; 4];
        stdout.read_exact(&mut len).unwrap();
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        stdout.read_exact(&mut payload).unwrap();
        omg::ipc::codec::decode(&payload).unwrap()
    };
    send(&ClientFrame::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "test".into(),
    }));
    assert!(matches!(receive(), ServerFrame::Welcome(_)));
    send(&ClientFrame::Request(Request {
        id: 1,
        body: install_request("lonely-arch"),
    }));
    match receive() {
        ServerFrame::Response(r) => {
            let err = r.result.unwrap_err();
            assert_eq!(err.kind, ErrorKind::NeedsRoot, "{err}");
            assert!(err.message.contains("needs root"), "{err}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    drop(stdin);
    let _ = child.wait();
    assert!(installed(&root).is_empty());
}

#[test]
fn a_dry_run_refreshes_a_private_copy_of_the_sync_databases() {
    let root = synced_root();
    let env = root.omg_env();
    // The repository gains a package the synced database does not know.
    root.publish(&[Spec::new("fresh-arch", "1.0-1", "published after -Sy")]);
    let sync = root.path("root/var/lib/pacman/sync");
    let before = common::Snapshot::of(&[sync]);
    let unknown = env.omg(&["install", "fresh-arch", "--dry-run", "--noconfirm"]);
    assert_eq!(unknown.code, 1, "{}", unknown.stdout);
    let dry = env.omg(&[
        "install",
        "fresh-arch",
        "--dry-run",
        "--refresh",
        "--noconfirm",
        "--json",
    ]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(report["changes"][0]["name"], "fresh-arch", "{report}");
    before.assert_unchanged();
    assert!(!pacman_q(&root).iter().any(|l| l.starts_with("fresh-arch")));
}

#[test]
fn download_only_fills_the_cache_and_installs_nothing() {
    let root = synced_root();
    let env = root.omg_env();
    let before = pacman_q(&root);
    let run = env.omg(&["install", "--noconfirm", "--download-only", "hello-arch"]);
    ok(&run);
    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert!(all.contains("nothing was installed"), "{all}");
    assert_eq!(pacman_q(&root), before, "pacman -Q is unchanged");
    // The package and what it needs are in CacheDir, as pacman -Sw leaves
    // them.
    for name in ["hello-arch", "libgreet-arch"] {
        let file = root.package_file(name);
        assert!(
            root.path("root/var/cache/pacman/pkg")
                .join(file.file_name().unwrap())
                .is_file(),
            "{name} is in the cache"
        );
    }
    // Nothing installed, so nothing to roll back: the history has nothing.
    let history = env.omg(&["history", "--json"]);
    ok(&history);
    assert!(!history.stdout.contains("hello-arch"), "{}", history.stdout);
}

#[test]
fn downloads_run_as_the_download_user_on_libalpm_16() {
    let root = synced_root();
    let repo = root.path("repo");
    let mode = |dir: &std::path::Path, mode: u32| {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap()
    };
    mode(root.dir.path(), 0o755);
    // A repository only root may read.
    mode(&repo, 0o700);
    root.option("DownloadUser = nobody");
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    match common::alpm_line() {
        16 => {
            // libalpm 16 downloads in its sandbox, as nobody: the
            // repository is out of its reach, and nothing is installed.
            assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
            assert!(installed(&root).is_empty());
            // Within reach, the download goes through; the file ends up
            // root's in CacheDir, as pacman 7 leaves it.
            mode(&repo, 0o755);
            let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
            ok(&run);
        }
        // pacman 6 has no DownloadUser (it warns and downloads as root).
        _ => ok(&run),
    }
    assert_eq!(installed(&root), set(&["lonely-arch"]));
    let file = root.package_file("lonely-arch");
    let cached = root
        .path("root/var/cache/pacman/pkg")
        .join(file.file_name().unwrap());
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&cached).unwrap());
    assert_eq!(owner, 0);
}

#[test]
fn a_download_user_that_does_not_exist_is_named_on_libalpm_16() {
    let root = synced_root();
    root.option("DownloadUser = omg-no-such-user");
    let env = root.omg_env();
    let run = env.omg(&["install", "--noconfirm", "lonely-arch"]);
    match common::alpm_line() {
        // As pacman 7 refuses it ("user does not exist"): nothing installed.
        16 => {
            assert_ne!(run.code, 0);
            assert!(run.stderr.contains("omg-no-such-user"), "{}", run.stderr);
            assert!(installed(&root).is_empty());
        }
        // pacman 6 has no DownloadUser.
        _ => {
            ok(&run);
            assert_eq!(installed(&root), set(&["lonely-arch"]));
        }
    }
}
