//! `make install DESTDIR=…` lays out the whole tree (binaries, units
//! naming the installed omgd, D-Bus and polkit files, man pages,
//! completions, hooks, the sample configuration), and `make uninstall`
//! takes it all away again. The sample configuration, uncommented, is a
//! valid config.toml.

mod common;

use std::path::Path;
use std::process::Command;

const OMG: &str = env!("CARGO_BIN_EXE_omg");

#[test]
fn make_install_lays_out_the_tree_and_uninstall_removes_it() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fast = Path::new(OMG).with_file_name("omg-fast");
    if !fast.exists() {
        common::skip_test(&format!(
            "{} is not built (the workspace run builds it)",
            fast.display()
        ));
        return;
    }
    let dest = tempfile::tempdir().unwrap();
    let make = |target: &str| {
        let out = Command::new("make")
            .args(["-s", target])
            .arg(format!("DESTDIR={}", dest.path().display()))
            .args(["PREFIX=/usr"])
            .arg(format!("OMG_BIN={OMG}"))
            .arg(format!("OMGD_BIN={}", *common::OMGD))
            .arg(format!("OMGD_LITE_BIN={}", *common::OMGD_LITE))
            .arg(format!("FAST_BIN={}", fast.display()))
            .current_dir(manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make {target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    make("install");
    let root = dest.path();
    for file in [
        "usr/bin/omg",
        "usr/bin/omgd",
        "usr/bin/omgd-lite",
        "usr/bin/omg-fast",
        "usr/lib/systemd/user/omgd.socket",
        "usr/lib/systemd/system/omgd-scan.timer",
        "usr/share/dbus-1/system.d/io.github.omg.conf",
        "usr/share/dbus-1/interfaces/io.github.omg.Status1.xml",
        "usr/share/polkit-1/actions/io.github.omg.policy",
        "usr/share/man/man1/omg.1",
        "usr/share/man/man8/omgd.8",
        "usr/share/man/man5/omg.conf.5",
        "usr/share/bash-completion/completions/omg",
        "usr/share/zsh/site-functions/_omg",
        "usr/share/fish/vendor_completions.d/omg.fish",
        "usr/share/libalpm/hooks/omg-notify.hook",
        "etc/apt/apt.conf.d/90omg-notify",
        "etc/xdg/autostart/omg-tray.desktop",
        "usr/share/doc/omg/config.toml.sample",
        "usr/share/omg/keys/node/keys.list",
        "usr/share/omg/keys/node/4ED778F539E3634C779C87C6D7062848A1AB005C.asc",
        "usr/share/omg/sigstore/trusted_root.json",
        "usr/share/omg/ansible/galaxy.yml",
        "usr/share/omg/ansible/meta/runtime.yml",
        "usr/share/omg/ansible/plugins/modules/package.py",
        "usr/share/omg/ansible/plugins/modules/env.py",
        "usr/share/omg/ansible/plugins/modules/facts.py",
        "usr/share/omg/ansible/plugins/module_utils/omg.py",
        "usr/share/omg/ansible/plugins/doc_fragments/omg.py",
    ] {
        let path = root.join(file);
        assert!(path.is_file(), "{file} is not installed");
        assert!(
            std::fs::metadata(&path).unwrap().len() > 0,
            "{file} is empty"
        );
    }
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/omgd.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/omgd --system"), "{unit}");
    let completion =
        std::fs::read_to_string(root.join("usr/share/bash-completion/completions/omg")).unwrap();
    assert!(
        completion.contains("omg __complete"),
        "dynamic package names"
    );

    make("uninstall");
    let left: Vec<_> = walk(root);
    assert!(left.is_empty(), "left behind: {left:?}");

    // The sample, uncommented, is a valid configuration.
    let sample = std::fs::read_to_string(manifest.join("packaging/config.toml.sample")).unwrap();
    let uncommented: String = sample
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .filter(|r| r.contains(" = "))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), uncommented).unwrap();
    omg::config::Config::load(dir.path()).unwrap();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_arch_pkgbuild_reads_as_makepkg_reads_it() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // makepkg refuses root: read the PKGBUILD as nobody, from a copy.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        manifest.join("packaging/PKGBUILD"),
        dir.path().join("PKGBUILD"),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "makepkg",
            "--printsrcinfo",
        ])
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let srcinfo = String::from_utf8_lossy(&out.stdout);
    assert!(srcinfo.contains("pkgbase = omg"), "{srcinfo}");
    assert!(srcinfo.contains("makedepends = cargo"), "{srcinfo}");
    assert!(srcinfo.contains("depends = pacman"), "{srcinfo}");
}
