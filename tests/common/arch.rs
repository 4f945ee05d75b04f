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
    /// A command the package ships in /usr/bin (none when empty).
    pub command: &'static str,
    /// Lines of `/etc/<name>.conf`, a `backup=` file (none when empty).
    pub config: &'static [&'static str],
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
            command: "",
            config: &[],
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

/// The reference pacman is the line's own (pacman 6.0 beside libalpm 13,
/// pacman 7.1 beside libalpm 16): a run against the wrong one would compare
/// nothing new.
fn check_reference() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let version = system_with(Command::new("pacman").arg("--version"));
        let expected = match super::alpm_line() {
            16 => "Pacman v7.1",
            _ => "Pacman v6.0",
        };
        assert!(
            version.contains(expected),
            "the pacman on PATH is not the line's ({expected}): {version}"
        );
    });
}

impl ArchRoot {
    /// Builds `specs` into a repository `omgtest` and sets up an empty root.
    pub fn new(specs: &[Spec]) -> ArchRoot {
        check_reference();
        let dir = tempfile::tempdir().expect("temporary directory");
        let base = dir.path();
        let root = base.join("root");
        for sub in [
            "var/lib/pacman/local",
            "var/lib/pacman/sync",
            "var/cache/pacman/pkg",
            "var/log",
            "etc/pacman.d/hooks",
            // pacman 7 resolves the directories pacman.conf names: they
            // exist in a real root.
            "etc/pacman.d/gnupg",
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
                 mkdir -p \"$pkgdir/usr/share/{name}\"\n  echo {name} > \"$pkgdir/usr/share/{name}/README\"\n{command}{config}}}\n",
                fname = s.name,
                name = s.name,
                desc = s.desc,
                deps = array(s.depends),
                prov = array(s.provides),
                conf = array(s.conflicts),
                repl = array(s.replaces),
                groups = array(s.groups),
                opt = array(s.optdepends),
                config = if s.config.is_empty() {
                    String::new()
                } else {
                    format!(
                        "  backup=('etc/{name}.conf')\n  mkdir -p \"$pkgdir/etc\"\n  printf '%s\\n' {} > \"$pkgdir/etc/{name}.conf\"\n",
                        array(s.config),
                        name = s.name
                    )
                },
                command = if s.command.is_empty() {
                    String::new()
                } else {
                    format!(
                        "  install -Dm755 /dev/null \"$pkgdir/usr/bin/{}\"\n",
                        s.command
                    )
                },
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

    /// An omg configured (config.toml `backend = "alpm"`) for this root.
    pub fn omg_env(&self) -> super::Env {
        let mut env = super::Env::new();
        env.configure("backend = \"alpm\"\n");
        env.pacman_conf = Some(self.conf().to_path_buf());
        env
    }

    /// Adds a line to pacman.conf's `[options]`.
    pub fn option(&self, line: &str) {
        let conf = std::fs::read_to_string(&self.conf).unwrap();
        let conf = conf.replacen("[options]\n", &format!("[options]\n{line}\n"), 1);
        std::fs::write(&self.conf, conf).unwrap();
    }

    /// The package file of `name` in the repository.
    pub fn package_file(&self, name: &str) -> PathBuf {
        std::fs::read_dir(self.path("repo"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let file = p.file_name().unwrap().to_string_lossy().into_owned();
                file.ends_with(".pkg.tar.zst")
                    && file.strip_prefix(name).is_some_and(|rest| {
                        rest.starts_with('-') && rest[1..].starts_with(|c: char| c.is_ascii_digit())
                    })
            })
            .unwrap_or_else(|| panic!("no package file for {name}"))
    }

    /// Makes a signing key: its secret half in a private GnuPG home, its
    /// public half in the root's pacman keyring (GPGDir), fully trusted, as
    /// `pacman-key --add` and `--lsign-key` would leave it.
    pub fn trust_new_key(&self) {
        let signer = self.path("signer");
        let keyring = self.path("root/etc/pacman.d/gnupg");
        for home in [&signer, &keyring] {
            std::fs::create_dir_all(home).unwrap();
            std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .unwrap();
        }
        // pacman's keyring is the classic pubring.gpg, as pacman-key makes it.
        std::fs::write(keyring.join("pubring.gpg"), "").unwrap();
        let gpg = |home: &Path| {
            let mut c = Command::new("gpg");
            c.arg("--homedir").arg(home).args(["--batch", "--quiet"]);
            c
        };
        system_with(gpg(&signer).args([
            "--passphrase",
            "",
            "--quick-gen-key",
            "omg test packager <packager@example.org>",
            "ed25519",
            "sign",
            "never",
        ]));
        let public = system_with(gpg(&signer).args(["--export", "--armor"]));
        let armored = self.path("packager.asc");
        std::fs::write(&armored, public).unwrap();
        system_with(gpg(&keyring).arg("--import").arg(&armored));
        let listing = system_with(gpg(&keyring).args(["--list-keys", "--with-colons"]));
        let fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| !f.is_empty()))
            .expect("the imported key's fingerprint")
            .to_string();
        let trust = self.path("ownertrust.txt");
        std::fs::write(&trust, format!("{fingerprint}:6:\n")).unwrap();
        system_with(gpg(&keyring).arg("--import-ownertrust").arg(&trust));
    }

    /// Signs `name`'s package with the key of `trust_new_key` and records
    /// the signature in the repository database (repo-add embeds any `.sig`
    /// next to a package). `tampered`: the signature is a real one, by the
    /// same key, but of other bytes.
    pub fn sign(&self, name: &str, tampered: bool) {
        let package = self.package_file(name);
        let mut sig = package.clone().into_os_string();
        sig.push(".sig");
        let signed = if tampered {
            let other = self.path("other-bytes");
            std::fs::write(&other, "not the package").unwrap();
            other
        } else {
            package.clone()
        };
        system_with(
            Command::new("gpg")
                .arg("--homedir")
                .arg(self.path("signer"))
                .args(["--batch", "--quiet", "--yes", "--detach-sign", "--output"])
                .arg(&sig)
                .arg(&signed),
        );
        system_with(
            Command::new("repo-add")
                .arg("-q")
                .arg(self.path("repo/omgtest.db.tar.gz"))
                .arg(&package),
        );
    }
}

impl Drop for ArchRoot {
    fn drop(&mut self) {
        let signer = self.path("signer");
        if signer.exists() {
            // The agent gpg started for signing.
            let _ = Command::new("gpgconf")
                .arg("--homedir")
                .arg(&signer)
                .args(["--kill", "gpg-agent"])
                .output();
        }
    }
}
