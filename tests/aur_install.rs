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
        eprintln!("sudo is not installed: skipping (scripts/install-deps.sh installs it)");
        return None;
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
    aur.publish(
        "aur-app",
        "1.0-1",
        &[AurSpec {
            name: "aur-app",
            depends: &["aur-lib>=1.0"],
            make_depends: &[],
        }],
        false,
    );
    let mut env = Env::new();
    env.aur_url = aur.server.url.clone();
    std::fs::create_dir_all(env.dir.path().join("home")).unwrap();
    common::give_to_nobody(env.dir.path());
    let rule = SudoRule::for_nobody(env!("CARGO_BIN_EXE_omgd"), "aur");
    Some(Setup {
        root,
        aur,
        env,
        _rule: rule,
    })
}

impl Setup {
    /// Runs omg as `nobody` on the fixture root.
    fn omg(&self, args: &[&str]) -> Run {
        self.env
            .command("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_omg"))
            .args(["--backend", "alpm", "--pacman-conf"])
            .arg(self.root.conf())
            .args(args)
            .env("HOME", self.env.dir.path().join("home"))
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    /// Like `omg`, with `input` as the answers on standard input.
    fn omg_answering(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .env
            .command("/usr/bin/setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_omg"))
            .args(["--backend", "alpm", "--pacman-conf"])
            .arg(self.root.conf())
            .args(args)
            .env("HOME", self.env.dir.path().join("home"))
            .env("PATH", "/usr/bin:/bin")
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
    s.aur.publish(
        "aur-app",
        "1.1-1",
        &[AurSpec {
            name: "aur-app",
            depends: &["aur-lib>=1.0"],
            make_depends: &[],
        }],
        false,
    );
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
