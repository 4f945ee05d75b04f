//! `omg rollback` for real: on a temporary Arch root (packages built by
//! makepkg, the old versions found in the repository, in CacheDir or in a
//! local stand-in for the Arch Linux Archive) and on a temporary Debian
//! root (two versions in the local repository, or the old one only in
//! apt's archive cache). After each rollback pacman -Q or dpkg-query on the
//! same root must show the old state back.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::deb::DebRoot;
use common::http::FileServer;
use common::{Env, Run};

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

/// `name version` of every installed package, as pacman says.
fn pacman_q(root: &ArchRoot) -> BTreeSet<String> {
    root.pacman_query(&["-Q"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The newest system transaction's id and command.
fn newest(env: &Env) -> (u64, String) {
    let history = env.json(&["history", "--json"]);
    let first = &history[0];
    (
        first["id"].as_u64().unwrap(),
        first["command"].as_str().unwrap().to_string(),
    )
}

const HELLO_1: Spec = Spec {
    depends: &["libgreet-arch"],
    ..Spec::new("hello-arch", "1.0-1", "friendly greeter for tests")
};
const HELLO_2: Spec = Spec {
    depends: &["libgreet-arch", "libnew-arch"],
    ..Spec::new("hello-arch", "2.0-1", "friendly greeter for tests")
};
const LIBGREET: Spec = Spec::new("libgreet-arch", "1.0-1", "greeting library");
const LIBNEW: Spec = Spec::new("libnew-arch", "2.0-1", "what hello 2 needs");
const LONELY_1: Spec = Spec::new("lonely-arch", "1.0-1", "a package on its own");
const LONELY_2: Spec = Spec::new("lonely-arch", "2.0-1", "a package on its own");

/// A root with hello-arch 1.0 (and its library) and lonely-arch 1.0
/// installed from the repository, then upgraded to 2.0 (which pulls
/// libnew-arch in): the upgrade is the newest transaction.
fn upgraded_arch() -> (ArchRoot, Env) {
    let root = ArchRoot::new(&[HELLO_1, LIBGREET, LONELY_1]);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "hello-arch", "lonely-arch"]));
    root.publish(&[HELLO_2, LIBNEW, LONELY_2]);
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert_eq!(
        pacman_q(&root),
        set(&[
            "hello-arch 2.0-1",
            "libgreet-arch 1.0-1",
            "libnew-arch 2.0-1",
            "lonely-arch 2.0-1"
        ])
    );
    (root, env)
}

/// The 1.0 package files pacman downloaded into CacheDir.
fn cached(root: &ArchRoot, name: &str) -> Option<std::path::PathBuf> {
    std::fs::read_dir(root.path("root/var/cache/pacman/pkg"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f.starts_with(&format!("{name}-1.0-1-")) && f.ends_with(".pkg.tar.zst")
        })
}

#[test]
fn arch_an_upgrade_rolls_back_from_the_cache_and_a_second_rollback_redoes_it() {
    let (root, env) = upgraded_arch();
    let (id, command) = newest(&env);
    assert_eq!(command, "upgrade");
    assert!(cached(&root, "hello-arch").is_some(), "pacman's cache");

    // The plan, changing nothing.
    let dry = env.omg(&["rollback", "--dry-run", "--json"]);
    ok(&dry);
    let report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let kinds: BTreeSet<String> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["name"].as_str().unwrap(),
                c["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        set(&[
            "hello-arch Downgrade",
            "libnew-arch Remove",
            "lonely-arch Downgrade"
        ])
    );
    assert!(pacman_q(&root).contains("hello-arch 2.0-1"));

    // The old versions are no longer in the repository: the cache has them.
    let run = env.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stdout.contains("2 packages downgraded"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 package removed"), "{}", run.stdout);
    assert_eq!(
        pacman_q(&root),
        set(&[
            "hello-arch 1.0-1",
            "libgreet-arch 1.0-1",
            "lonely-arch 1.0-1"
        ])
    );
    // Install reasons are untouched by a downgrade.
    assert_eq!(root.pacman_query(&["-Qdq"]).trim(), "libgreet-arch");
    let (rollback_id, command) = newest(&env);
    assert_eq!(command, format!("rollback {id}"));

    // Rolling the rollback back is the upgrade again (from the repository).
    ok(&env.omg(&["rollback", &rollback_id.to_string(), "--noconfirm"]));
    assert_eq!(
        pacman_q(&root),
        set(&[
            "hello-arch 2.0-1",
            "libgreet-arch 1.0-1",
            "libnew-arch 2.0-1",
            "lonely-arch 2.0-1"
        ])
    );
    // libnew came back as the dependency it was.
    assert!(
        root.pacman_query(&["-Qdq"]).contains("libnew-arch"),
        "{}",
        root.pacman_query(&["-Qdq"])
    );
    assert!(!root.path("root/var/lib/pacman/db.lck").exists());
}

/// An Arch Linux Archive stand-in: `/packages/<l>/<name>/` listings in
/// nginx's autoindex form, with the package files they link.
fn archive_with(files: &[std::path::PathBuf]) -> FileServer {
    let server = FileServer::start();
    let mut listings: std::collections::BTreeMap<String, String> = Default::default();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let package = name.rsplitn(4, '-').nth(3).unwrap().to_string();
        let dir = format!("/packages/{}/{package}/", &package[..1]);
        server.put(&format!("{dir}{name}"), std::fs::read(file).unwrap());
        listings.entry(dir).or_default().push_str(&format!(
            "<a href=\"{name}\">{name}</a>                 25-Nov-2026 10:00     1234\n"
        ));
    }
    for (dir, links) in listings {
        server.put(
            &dir,
            format!(
                "<html>\n<head><title>Index of {dir}</title></head>\n<body>\n<h1>Index of {dir}</h1><hr><pre><a href=\"../\">../</a>\n{links}</pre><hr></body>\n</html>\n"
            ),
        );
    }
    server
}

#[test]
fn arch_a_version_only_the_archive_has_is_downloaded_from_it() {
    let (root, env) = upgraded_arch();
    // Out of the cache and into the archive.
    let mut archived = Vec::new();
    for name in ["hello-arch", "lonely-arch"] {
        let file = cached(&root, name).unwrap();
        let keep = root.path(file.file_name().unwrap().to_str().unwrap());
        std::fs::rename(&file, &keep).unwrap();
        archived.push(keep);
    }
    let archive = archive_with(&archived);
    env.configure(&format!(
        "backend = \"alpm\"\n[arch]\narchive_url = \"{}\"\n",
        archive.url()
    ));
    let run = env.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert_eq!(
        pacman_q(&root),
        set(&[
            "hello-arch 1.0-1",
            "libgreet-arch 1.0-1",
            "lonely-arch 1.0-1"
        ])
    );
    // libalpm downloaded them into CacheDir.
    assert!(cached(&root, "hello-arch").is_some());
    assert!(cached(&root, "lonely-arch").is_some());
}

/// A detached signature by the root's trusted packager key of `file`
/// (or, `tampered`, of other bytes), next to it as `<file>.sig`.
fn sign(root: &ArchRoot, file: &std::path::Path, tampered: bool) -> std::path::PathBuf {
    let sig = std::path::PathBuf::from(format!("{}.sig", file.display()));
    let signed = if tampered {
        let other = root.path("other-bytes");
        std::fs::write(&other, "not the package").unwrap();
        other
    } else {
        file.to_path_buf()
    };
    common::system_with(
        std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(root.path("signer"))
            .args(["--batch", "--quiet", "--yes", "--detach-sign", "--output"])
            .arg(&sig)
            .arg(&signed),
    );
    sig
}

#[test]
fn arch_archive_downloads_must_carry_a_good_signature() {
    let (root, env) = upgraded_arch();
    root.trust_new_key();
    let file = cached(&root, "hello-arch").unwrap();
    let keep = root.path(file.file_name().unwrap().to_str().unwrap());
    std::fs::rename(&file, &keep).unwrap();
    // From now on package signatures are required (local files: optional,
    // as in Arch's own pacman.conf).
    let conf = std::fs::read_to_string(root.conf()).unwrap();
    std::fs::write(
        root.conf(),
        conf.replace(
            "SigLevel = Never",
            "SigLevel = PackageRequired DatabaseNever\nLocalFileSigLevel = Optional",
        ),
    )
    .unwrap();
    let before = pacman_q(&root);

    // A signature over other bytes: refused, the download deleted.
    let bad = sign(&root, &keep, true);
    let archive = archive_with(&[keep.clone(), bad]);
    env.configure(&format!(
        "backend = \"alpm\"\n[arch]\narchive_url = \"{}\"\n",
        archive.url()
    ));
    let run = env.omg_with_input(&["rollback"], "y\ny\n");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("was refused"), "{}", run.stderr);
    assert_eq!(pacman_q(&root), before);
    assert!(
        cached(&root, "hello-arch").is_none(),
        "no bad file left in the cache"
    );

    // A good signature: installed.
    let good = sign(&root, &keep, false);
    let archive = archive_with(&[keep, good]);
    env.configure(&format!(
        "backend = \"alpm\"\n[arch]\narchive_url = \"{}\"\n",
        archive.url()
    ));
    let run = env.omg_with_input(&["rollback"], "y\ny\n");
    ok(&run);
    assert!(pacman_q(&root).contains("hello-arch 1.0-1"));
}

#[test]
fn arch_a_version_found_nowhere_changes_nothing_unless_a_partial_rollback_is_accepted() {
    let (root, env) = upgraded_arch();
    std::fs::remove_file(cached(&root, "lonely-arch").unwrap()).unwrap();
    // The archive is there but has no lonely-arch.
    let archive = archive_with(&[]);
    env.configure(&format!(
        "backend = \"alpm\"\n[arch]\narchive_url = \"{}\"\n",
        archive.url()
    ));
    let before = pacman_q(&root);

    let err = failed(&env.omg(&["rollback", "--noconfirm"]));
    assert!(
        err.contains("no longer available: lonely-arch 1.0-1"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(pacman_q(&root), before);

    // Asked, and answering no (the default) changes nothing either.
    let declined = env.omg_with_input(&["rollback"], "\n");
    assert_eq!(declined.code, 1, "{}", declined.stdout);
    assert!(
        declined.stdout.contains("Roll back the rest without them?"),
        "{}",
        declined.stdout
    );
    assert_eq!(pacman_q(&root), before);

    // Yes, then yes to the plan: the rest goes back.
    let run = env.omg_with_input(&["rollback"], "y\ny\n");
    ok(&run);
    assert!(
        run.stderr.contains("lonely-arch 1.0-1 is not available")
            || run.stdout.contains("lonely-arch 1.0-1 is not available"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(
        pacman_q(&root),
        set(&[
            "hello-arch 1.0-1",
            "libgreet-arch 1.0-1",
            "lonely-arch 2.0-1"
        ])
    );
}

#[test]
fn arch_removed_packages_come_back_with_their_install_reasons() {
    let root = ArchRoot::new(&[HELLO_1, LIBGREET, LONELY_1]);
    root.pacman(&["-Sy"]);
    let env = root.omg_env();
    ok(&env.omg(&["install", "--noconfirm", "hello-arch"]));
    ok(&env.omg(&["remove", "--noconfirm", "--recursive", "hello-arch"]));
    assert!(pacman_q(&root).is_empty());
    // The repository still has them: they come from there.
    ok(&env.omg(&["rollback", "--noconfirm"]));
    assert_eq!(
        pacman_q(&root),
        set(&["hello-arch 1.0-1", "libgreet-arch 1.0-1"])
    );
    assert_eq!(root.pacman_query(&["-Qdq"]).trim(), "libgreet-arch");
    assert_eq!(root.pacman_query(&["-Qeq"]).trim(), "hello-arch");
    // The install (the first transaction) is reverted by removing.
    ok(&env.omg(&["rollback", "1", "--noconfirm"]));
    assert!(pacman_q(&root).is_empty());
    // Nothing to roll back in a transaction that does not exist.
    let err = failed(&env.omg(&["rollback", "99", "--noconfirm"]));
    assert!(err.contains("no transaction 99"), "{err}");
}

fn pair(name: &str, version: &str) -> (String, String) {
    (name.to_string(), version.to_string())
}

/// A Debian root with omg-app 1.0 and omg-lib 1.0 installed, then
/// omg-lib 2.0 published beside 1.0 and upgraded to.
fn upgraded_debian(over_http: bool) -> (DebRoot, Env, Option<FileServer>) {
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib (>= 1.0)\n");
    root.publish();
    let server = if over_http {
        Some(root.serve_over_http())
    } else {
        root.update();
        None
    };
    let env = root.env();
    ok(&env.omg(&["install", "omg-app", "--noconfirm"]));
    root.add("omg-lib", "2.0", "");
    root.publish();
    if let Some(server) = &server {
        for file in ["Packages", "omg-lib_2.0_all.deb"] {
            server.put(
                &format!("/./{file}"),
                std::fs::read(root.path(&format!("repo/{file}"))).unwrap(),
            );
        }
    }
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "2.0")]
    );
    (root, env, server)
}

#[test]
fn debian_an_upgrade_rolls_back_to_the_version_the_repository_still_has() {
    let (root, env, _) = upgraded_debian(false);
    let run = env.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stdout.contains("1 package downgraded"),
        "{}",
        run.stdout
    );
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );
    assert_eq!(root.auto(), ["omg-lib"], "still automatic");
}

#[test]
fn debian_a_version_only_the_archive_cache_has_is_installed_from_it() {
    let (root, env, server) = upgraded_debian(true);
    let server = server.unwrap();
    assert!(root.has_file("var/cache/apt/archives/omg-lib_1.0_all.deb"));
    // The repository drops 1.0.
    root.drop_file("omg-lib", "1.0");
    root.publish();
    server.remove("/./omg-lib_1.0_all.deb");
    server.put(
        "/./Packages",
        std::fs::read(root.path("repo/Packages")).unwrap(),
    );
    root.update();
    ok(&env.omg(&["rollback", "--noconfirm"]));
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );

    // Found nowhere: named, and nothing changes.
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    std::fs::remove_file(root.path("var/cache/apt/archives/omg-lib_1.0_all.deb")).unwrap();
    let err = failed(&env.omg(&["rollback", "--noconfirm"]));
    assert!(err.contains("no longer available: omg-lib 1.0"), "{err}");
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "2.0")]
    );
}

#[test]
fn debian_a_removal_rolls_back_with_the_marks_it_had() {
    let root = DebRoot::new();
    root.add("omg-lib", "1.0", "");
    root.add("omg-app", "1.0", "Depends: omg-lib (>= 1.0)\n");
    root.publish();
    root.update();
    let env = root.env();
    ok(&env.omg(&["install", "omg-app", "--noconfirm"]));
    ok(&env.omg(&["remove", "--recursive", "omg-app", "--noconfirm"]));
    assert!(root.installed().is_empty());
    ok(&env.omg(&["rollback", "--noconfirm"]));
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );
    assert_eq!(root.auto(), ["omg-lib"]);
}

#[test]
fn arch_downgrade_lists_the_versions_installs_the_chosen_one_and_can_be_rolled_back() {
    let (root, env) = upgraded_arch();
    // 1.0 in the cache; 0.9 only in the archive (as the Arch Linux Archive
    // lists it, over HTTP).
    let old = ArchRoot::new(&[Spec::new("lonely-arch", "0.9-1", "a package on its own")]);
    let archive = archive_with(&[old.package_file("lonely-arch")]);
    env.configure(&format!(
        "backend = \"alpm\"\n[arch]\narchive_url = \"{}\"\n",
        archive.url()
    ));
    // Listed, newest first, with where each is; the second one is picked.
    let run = env.omg_with_input(&["downgrade", "lonely-arch"], "2\ny\nn\n");
    ok(&run);
    let table: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("lonely-arch"))
        .collect();
    assert!(
        table[0].contains("2.0-1") && table[0].contains("installed"),
        "{}",
        run.stdout
    );
    assert!(
        table[1].contains("1.0-1") && table[1].contains("cache"),
        "{}",
        run.stdout
    );
    assert!(
        table[2].contains("0.9-1") && table[2].contains("archive"),
        "{}",
        run.stdout
    );
    assert!(
        pacman_q(&root).contains("lonely-arch 0.9-1"),
        "{}",
        run.stdout
    );
    // Recorded as what it was, and undone by a rollback.
    let (_, command) = newest(&env);
    assert_eq!(command, "downgrade lonely-arch 0.9-1");
    ok(&env.omg(&["rollback", "--noconfirm"]));
    assert!(pacman_q(&root).contains("lonely-arch 2.0-1"));
}

#[test]
fn arch_downgrade_to_a_named_version_keeps_the_reason_and_pins_it() {
    let (root, env) = upgraded_arch();
    // libgreet-arch came in as a dependency: a downgrade keeps it so.
    root.publish(&[Spec::new("libgreet-arch", "1.1-1", "greeting library")]);
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(pacman_q(&root).contains("libgreet-arch 1.1-1"));
    let run = env.omg(&[
        "downgrade",
        "--noconfirm",
        "--pin",
        "libgreet-arch",
        "1.0-1",
    ]);
    ok(&run);
    assert!(pacman_q(&root).contains("libgreet-arch 1.0-1"));
    let reason = root.pacman_query(&["-Qi", "libgreet-arch"]);
    assert!(
        reason.contains("Installed as a dependency for another package"),
        "{reason}"
    );
    // Pinned: the next upgrade leaves it.
    ok(&env.omg(&["upgrade", "--noconfirm"]));
    assert!(pacman_q(&root).contains("libgreet-arch 1.0-1"));
    // A version found nowhere changes nothing.
    let run = env.omg(&["downgrade", "--noconfirm", "lonely-arch", "0.1-1"]);
    assert_ne!(run.code, 0);
    assert!(pacman_q(&root).contains("lonely-arch 2.0-1"));
    // Nor does a package that is not installed, nor the version installed.
    let run = env.omg(&["downgrade", "--noconfirm", "never-installed", "1.0-1"]);
    assert!(failed(&run).contains("not installed"), "{}", run.stderr);
    let run = env.omg(&["downgrade", "--noconfirm", "lonely-arch", "2.0-1"]);
    assert_eq!(run.code, 2, "a usage error: {}", run.stderr);
    assert!(
        run.stderr.contains("is the version installed"),
        "{}",
        run.stderr
    );
    // Without a version and asked nothing, it must be named (exit 2).
    let run = env.omg(&["downgrade", "--noconfirm", "lonely-arch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("name the VERSION"), "{}", run.stderr);
    // An archive that does not answer leaves the listing to what is here.
    env.configure("backend = \"alpm\"\n[arch]\narchive_url = \"http://127.0.0.1:1\"\n");
    let run = env.omg_with_input(&["downgrade", "hello-arch"], "\n");
    ok(&run);
    assert!(
        run.stderr.contains("listing what is here"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("1.0-1"), "{}", run.stdout);
    assert!(run.stdout.contains("nothing was changed"), "{}", run.stdout);
    assert!(pacman_q(&root).contains("lonely-arch 2.0-1"));
    assert!(pacman_q(&root).contains("hello-arch 2.0-1"));
}

#[test]
fn debian_downgrade_takes_the_version_the_repository_still_has() {
    let (root, env, _) = upgraded_debian(false);
    let listing = env.omg_with_input(&["downgrade", "omg-lib"], "\n");
    ok(&listing);
    assert!(listing.stdout.contains("1.0"), "{}", listing.stdout);
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "2.0")],
        "nothing chosen, nothing changed"
    );
    // For scripts: the versions as JSON, and exit status 2 (name one).
    let listed = env.omg(&["downgrade", "--json", "omg-lib"]);
    assert_eq!(listed.code, 2, "{}", listed.stderr);
    let versions: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(versions[0]["version"], "2.0");
    assert_eq!(versions[0]["installed"], true);
    assert_eq!(versions[1]["version"], "1.0");
    assert!(
        versions[1]["sources"][0]
            .as_str()
            .unwrap()
            .starts_with("repository"),
        "{versions}"
    );
    // Only one version there: nothing to choose; a name that cannot be a
    // package's is refused as such.
    let run = env.omg(&["downgrade", "omg-app"]);
    assert!(
        failed(&run).contains("no other version of omg-app"),
        "{}",
        run.stderr
    );
    let run = env.omg(&["downgrade", "omg lib"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a package name"), "{}", run.stderr);
    let run = env.omg(&["downgrade", "--noconfirm", "omg-lib", "1.0"]);
    ok(&run);
    assert_eq!(
        root.installed(),
        [pair("omg-app", "1.0"), pair("omg-lib", "1.0")]
    );
    assert_eq!(root.auto(), ["omg-lib"], "still automatic");
    let (_, command) = newest(&env);
    assert_eq!(command, "downgrade omg-lib 1.0");
}

/// A downgrade naming a package file (what `omg downgrade` sends for an
/// AUR version it built) must be a file of that package at that version:
/// any other is refused before anything is planned.
#[test]
fn arch_a_downgrade_file_must_be_that_package_at_that_version() {
    use omg::ipc::protocol::{ErrorKind, RequestBody, ServerFrame};
    use omg::transaction::{TransactionAction, TransactionOptions, TransactionRequest};
    let (root, env) = upgraded_arch();
    let before = pacman_q(&root);
    let _daemon = env.start_daemon();
    let file = cached(&root, "hello-arch").expect("hello-arch 1.0-1 in the cache");
    for (name, version) in [("lonely-arch", "1.0-1"), ("hello-arch", "0.5-1")] {
        let mut client = common::RawClient::connect(&env.socket());
        client.hello();
        let action = TransactionAction::Downgrade {
            name: name.into(),
            version: version.into(),
            file: Some(file.display().to_string()),
        };
        let options = TransactionOptions {
            noconfirm: true,
            ..TransactionOptions::default()
        };
        client.request(
            1,
            RequestBody::Transaction(TransactionRequest { action, options }),
        );
        let error = loop {
            match client.receive() {
                Some(ServerFrame::Response(r)) => break r.result.expect_err("refused"),
                Some(_) => continue,
                None => panic!("the daemon closed the connection"),
            }
        };
        assert_eq!(error.kind, ErrorKind::InvalidRequest, "{error:?}");
        assert!(
            error
                .message
                .contains(&format!("is not an Arch package file of {name} {version}")),
            "{}",
            error.message
        );
    }
    assert_eq!(pacman_q(&root), before, "nothing changed");
}
