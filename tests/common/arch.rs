//! A miniature Arch system in a temporary root: real packages built by
//! makepkg (as an unprivileged user: makepkg refuses root), a repository
//! made by repo-add, served as `file://`, and a root into which the real
//! pacman installs some of them.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::system_with;

/// One package of the fixture repository.
pub struct Spec {
    pub name: &'static str,
    pub version: &'static str,
    pub desc: &'static str,
    pub depends: &'static [&'static str],
    pub provides: &'static [&'static str],
    pub conflicts: &'static [&'static str],
    pub replaces: &'static [&'static str],
    pub groups: &'static [&'static str],
    pub optdepends: &'static [&'static str],
}

impl Spec {
    pub const fn new(name: &'static str, version: &'static str, desc: &'static str) -> Spec {
        Spec {
            name,
            version,
            desc,
            depends: &[],
            provides: &[],
            conflicts: &[],
            replaces: &[],
            groups: &[],
            optdepends: &[],
        }
    }
}

fn array(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct ArchRoot {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
}

impl ArchRoot {
    /// Builds `specs` into a repository `omgtest` and sets up an empty root.
    pub fn new(specs: &[Spec]) -> ArchRoot {
        let dir = tempfile::tempdir().expect("temporary directory");
        let base = dir.path();
        let root = base.join("root");
        for sub in [
            "var/lib/pacman/local",
            "var/lib/pacman/sync",
            "var/cache/pacman/pkg",
            "var/log",
            "etc/pacman.d/hooks",
            "repo",
        ] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::create_dir_all(base.join("repo")).unwrap();
        let conf = base.join("pacman.conf");
        let r = root.display();
        std::fs::write(
            &conf,
            format!(
                "[options]\nRootDir = {r}\nDBPath = {r}/var/lib/pacman/\nCacheDir = {r}/var/cache/pacman/pkg/\n\
                 LogFile = {r}/var/log/pacman.log\nGPGDir = {r}/etc/pacman.d/gnupg/\nHookDir = {r}/etc/pacman.d/hooks/\n\
                 Architecture = auto\nSigLevel = Never\n\n[omgtest]\nServer = file://{}/repo\n",
                base.display()
            ),
        )
        .unwrap();
        let arch = ArchRoot { dir, conf };
        arch.publish(specs);
        arch
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Builds `specs` (one split PKGBUILD and one makepkg run per version)
    /// and adds them to the repository, replacing older versions.
    pub fn publish(&self, specs: &[Spec]) {
        let mut versions: Vec<&str> = specs.iter().map(|s| s.version).collect();
        versions.sort();
        versions.dedup();
        for version in versions {
            let same: Vec<&Spec> = specs.iter().filter(|s| s.version == version).collect();
            self.build(&same);
        }
    }

    fn build(&self, specs: &[&Spec]) {
        let (ver, rel) = specs[0]
            .version
            .split_once('-')
            .unwrap_or((specs[0].version, "1"));
        let build = self.dir.path().join(format!("build-{}", specs[0].version));
        std::fs::create_dir_all(&build).unwrap();
        let mut pkgbuild = format!(
            "pkgbase=omgtest-{}\npkgname=({})\npkgver={ver}\npkgrel={rel}\npkgdesc='omg test packages'\narch=('any')\nlicense=('MIT')\n",
            specs[0].version.replace(['.', '-'], "_"),
            array(&specs.iter().map(|s| s.name).collect::<Vec<_>>())
        );
        for s in specs {
            pkgbuild.push_str(&format!(
                "package_{fname}() {{\n  pkgdesc='{desc}'\n  url='https://example.org/{name}'\n  \
                 depends=({deps})\n  provides=({prov})\n  conflicts=({conf})\n  replaces=({repl})\n  groups=({groups})\n  optdepends=({opt})\n  \
                 mkdir -p \"$pkgdir/usr/share/{name}\"\n  echo {name} > \"$pkgdir/usr/share/{name}/README\"\n}}\n",
                fname = s.name,
                name = s.name,
                desc = s.desc,
                deps = array(s.depends),
                prov = array(s.provides),
                conf = array(s.conflicts),
                repl = array(s.replaces),
                groups = array(s.groups),
                opt = array(s.optdepends),
            ));
        }
        std::fs::write(build.join("PKGBUILD"), pkgbuild).unwrap();
        let out = self.dir.path().join("out");
        for dir in [&build, &out] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
        }
        std::fs::set_permissions(
            self.dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        system_with(
            Command::new("setpriv")
                .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "env"])
                .arg(format!("HOME={}", build.display()))
                .arg(format!("PKGDEST={}", out.display()))
                .args(["PKGEXT=.pkg.tar.zst", "makepkg", "--nodeps", "--force"])
                .current_dir(&build),
        );
        let repo = self.dir.path().join("repo");
        let mut add = Command::new("repo-add");
        add.arg("-q").arg(repo.join("omgtest.db.tar.gz"));
        for entry in std::fs::read_dir(&out).unwrap().flatten() {
            let target = repo.join(entry.file_name());
            std::fs::rename(entry.path(), &target).unwrap();
            add.arg(target);
        }
        system_with(&mut add);
    }

    /// Runs the real pacman on this root.
    pub fn pacman(&self, args: &[&str]) -> String {
        system_with(
            Command::new("pacman")
                .arg("--config")
                .arg(&self.conf)
                .args(args),
        )
    }

    /// Like `pacman`, but a failure is an empty answer (pacman exits 1 when a
    /// query finds nothing).
    pub fn pacman_query(&self, args: &[&str]) -> String {
        let out = Command::new("pacman")
            .arg("--config")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn conf(&self) -> &Path {
        &self.conf
    }
}
