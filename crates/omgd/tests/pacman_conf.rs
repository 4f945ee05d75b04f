//! omg reads pacman.conf as each pacman line does: its parser, in the
//! pacman 6 dialect (libalpm 13) and the pacman 7 dialect (libalpm 16), is
//! compared with that line's own `pacman-conf` (Debian's pacman 6.0 and
//! pacman 7.1 built into /opt/pacman-7.1) on Arch's stock pacman.conf and
//! on a file using every option pacman 7.1 knows.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use omgd::backend::pacman_conf::{Check, Dialect, Overrides, PacmanConf, SigLevel, Usage};

const PACMAN6_CONF: &str = "/usr/bin/pacman-conf";
const PACMAN7_CONF: &str = "/opt/pacman-7.1/bin/pacman-conf";

/// `(section, directive)` → values, in order.
type Directives = BTreeMap<(String, String), Vec<String>>;

/// The directives omg keeps (the rest change only pacman's own output).
const KEPT: &[&str] = &[
    "RootDir",
    "DBPath",
    "CacheDir",
    "HookDir",
    "GPGDir",
    "LogFile",
    "DownloadUser",
    "HoldPkg",
    "IgnorePkg",
    "IgnoreGroup",
    "NoUpgrade",
    "NoExtract",
    "Architecture",
    "CheckSpace",
    "DisableSandboxFilesystem",
    "DisableSandboxSyscalls",
    "ParallelDownloads",
    "SigLevel",
    "LocalFileSigLevel",
    "RemoteFileSigLevel",
    "Usage",
    "Server",
];

/// What `pacman-conf -c FILE` prints, the kept directives only.
fn pacman_conf(program: &str, file: &Path) -> Directives {
    assert!(
        Path::new(program).is_file(),
        "{program} is missing (scripts/install-deps.sh installs it)"
    );
    let out = Command::new(program).arg("-c").arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "{program} -c {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut section = String::new();
    let mut found = Directives::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once(" = ").unwrap_or((line, ""));
        if KEPT.contains(&key) {
            found
                .entry((section.clone(), key.to_string()))
                .or_default()
                .push(value.to_string());
        }
    }
    found
}

/// A SigLevel as pacman-conf shows it (`pkgonly`: the package half).
fn sig_tokens(level: &SigLevel, pkgonly: bool) -> Vec<String> {
    let mut out = Vec::new();
    let sides = [("Package", level.package), ("Database", level.database)];
    for (side, policy) in sides.iter().take(if pkgonly { 1 } else { 2 }) {
        match policy.check {
            Check::Never => out.push(format!("{side}Never")),
            check => {
                let how = if check == Check::Optional {
                    "Optional"
                } else {
                    "Required"
                };
                out.push(format!("{side}{how}"));
                let trust = if policy.trust_all {
                    "TrustAll"
                } else {
                    "TrustedOnly"
                };
                out.push(format!("{side}{trust}"));
            }
        }
    }
    out
}

fn usage_tokens(usage: &Usage) -> Vec<String> {
    if *usage == Usage::ALL {
        return vec!["All".into()];
    }
    [
        (usage.sync, "Sync"),
        (usage.search, "Search"),
        (usage.install, "Install"),
        (usage.upgrade, "Upgrade"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_string())
    .collect()
}

/// omg's reading, in pacman-conf's terms. SigLevels pacman-conf leaves out
/// (set nowhere) are compared by `compare` instead.
fn omg_reading(conf: &PacmanConf) -> Directives {
    let mut d = Directives::new();
    let mut put = |section: &str, key: &str, values: Vec<String>| {
        if !values.is_empty() {
            d.insert((section.to_string(), key.to_string()), values);
        }
    };
    let path = |p: &PathBuf| p.display().to_string();
    let o = "options";
    put(o, "RootDir", vec![path(&conf.root_dir)]);
    put(o, "DBPath", vec![path(&conf.db_path)]);
    put(o, "CacheDir", conf.cache_dirs.iter().map(path).collect());
    // The first is libalpm's own (inside the root), which pacman adds
    // without showing it.
    put(o, "HookDir", conf.hook_dirs[1..].iter().map(path).collect());
    put(o, "GPGDir", vec![path(&conf.gpg_dir)]);
    put(o, "LogFile", vec![path(&conf.log_file)]);
    put(
        o,
        "DownloadUser",
        conf.download_user.iter().cloned().collect(),
    );
    put(o, "HoldPkg", conf.hold_pkg.clone());
    put(o, "IgnorePkg", conf.ignore_pkg.clone());
    put(o, "IgnoreGroup", conf.ignore_group.clone());
    put(o, "NoUpgrade", conf.no_upgrade.clone());
    put(o, "NoExtract", conf.no_extract.clone());
    put(o, "Architecture", conf.architectures.clone());
    let flag = |on: bool| if on { vec![String::new()] } else { Vec::new() };
    put(o, "CheckSpace", flag(conf.check_space));
    put(
        o,
        "DisableSandboxFilesystem",
        flag(conf.disable_sandbox_filesystem),
    );
    put(
        o,
        "DisableSandboxSyscalls",
        flag(conf.disable_sandbox_syscalls),
    );
    put(
        o,
        "ParallelDownloads",
        vec![conf.parallel_downloads.to_string()],
    );
    put(o, "SigLevel", sig_tokens(&conf.sig_level, false));
    put(
        o,
        "LocalFileSigLevel",
        sig_tokens(&conf.local_file_sig_level, true),
    );
    put(
        o,
        "RemoteFileSigLevel",
        sig_tokens(&conf.remote_file_sig_level, true),
    );
    for repo in &conf.repos {
        put(&repo.name, "Usage", usage_tokens(&repo.usage));
        put(&repo.name, "SigLevel", sig_tokens(&repo.sig_level, false));
        put(&repo.name, "Server", repo.servers.clone());
    }
    d
}

/// omg's reading of `file` in `dialect` against `program`'s.
fn compare(dialect: Dialect, program: &str, file: &Path) {
    let conf = PacmanConf::load_as(dialect, file, &Overrides::default())
        .unwrap_or_else(|e| panic!("omg cannot read {} as {dialect:?}: {e}", file.display()));
    let theirs = pacman_conf(program, file);
    let mut ours = omg_reading(&conf);
    // pacman-conf shows a SigLevel only where one is set (a repository
    // without one uses the global one; no global one: pacman's default).
    let global = theirs.contains_key(&("options".into(), "SigLevel".into()));
    if !global {
        assert_eq!(conf.sig_level, SigLevel::default(), "{dialect:?}");
        for key in ["SigLevel", "LocalFileSigLevel", "RemoteFileSigLevel"] {
            ours.remove(&("options".into(), key.into()));
        }
    }
    for key in ["LocalFileSigLevel", "RemoteFileSigLevel"] {
        if !theirs.contains_key(&("options".into(), key.into())) {
            ours.remove(&("options".into(), key.into()));
        }
    }
    for repo in &conf.repos {
        let key = (repo.name.clone(), "SigLevel".to_string());
        if !theirs.contains_key(&key) {
            assert_eq!(repo.sig_level, conf.sig_level, "[{}]", repo.name);
            ours.remove(&key);
        }
    }
    assert_eq!(
        ours,
        theirs,
        "{dialect:?} against {program} on {}",
        file.display()
    );
}

/// Arch's stock pacman.conf, its mirrorlist in a temporary directory.
fn stock(dir: &Path) -> PathBuf {
    let mirrorlist = dir.join("mirrorlist");
    std::fs::write(
        &mirrorlist,
        "## Worldwide\nServer = https://geo.mirror.pkgbuild.com/$repo/os/$arch\n\
         #Server = https://commented.example/$repo\nServer = https://mirror.example/$repo/$arch\n",
    )
    .unwrap();
    let text = String::from_utf8(common::upstream_fixture(
        "pacman/pacman.conf.archiso-releng",
    ))
    .unwrap()
    .replace(
        "/etc/pacman.d/mirrorlist",
        &mirrorlist.display().to_string(),
    );
    let conf = dir.join("pacman.conf");
    std::fs::write(&conf, text).unwrap();
    conf
}

/// A pacman.conf using every option pacman 7.1 knows (pacman 6 warns
/// about the ones it does not and goes on), in `dir`.
fn every_option(dir: &Path, pacman7: bool) -> PathBuf {
    for sub in ["root/db", "cache1", "cache2", "hooks1", "hooks2", "gnupg"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let mirrorlist = dir.join("mirrorlist");
    std::fs::write(
        &mirrorlist,
        "Server = https://mirror.example/$repo/os/$arch\n",
    )
    .unwrap();
    let d = dir.display();
    // pacman 7 takes one directory a line; pacman 6 splits a line on spaces.
    let dirs = if pacman7 {
        format!(
            "CacheDir = {d}/cache1/\nCacheDir = {d}/cache2/\nHookDir = {d}/hooks1/\nHookDir = {d}/hooks2"
        )
    } else {
        format!("CacheDir = {d}/cache1/ {d}/cache2/\nHookDir = {d}/hooks1/\nHookDir = {d}/hooks2")
    };
    let sandbox = if pacman7 {
        "DownloadUser = nobody\nDisableSandbox\n"
    } else {
        // pacman 6 ignores them (with a warning pacman-conf prints on
        // stderr): so does omg's pacman 6 reading.
        "DownloadUser = nobody\nDisableSandboxFilesystem\n"
    };
    let text = format!(
        "[options]\nRootDir = {d}/root\nDBPath = {d}/root/db/\n{dirs}\nGPGDir = {d}/gnupg/\n\
         LogFile = {d}/pacman.log\nHoldPkg = pacman glibc\nIgnorePkg = linux linux-headers\n\
         IgnoreGroup = gnome\nNoUpgrade = etc/passwd etc/group\n\
         NoExtract = usr/share/doc/* !usr/share/doc/pacman/*\nArchitecture = x86_64 x86_64_v3\n\
         XferCommand = /usr/bin/curl -L -C - -f -o %o %u\nCleanMethod = KeepInstalled KeepCurrent\n\
         SigLevel = Required DatabaseOptional TrustAll\nLocalFileSigLevel = Optional\n\
         RemoteFileSigLevel = Required PackageTrustAll\nUseSyslog\nColor\nNoProgressBar\n\
         CheckSpace\nVerbosePkgLists\nILoveCandy\nDisableDownloadTimeout\nParallelDownloads = 7\n\
         {sandbox}\n\
         [core]\nSigLevel = PackageRequired DatabaseNever\nUsage = Sync Search\n\
         Server = https://a.example/$repo/os/$arch\nInclude = {}\n\n\
         [local-extra]\nUsage = All\nServer = file:///srv/$repo\n\n\
         [testing]\nUsage = Install\nUsage = Upgrade\nSigLevel = Optional TrustAll\nServer = https://t.example/$arch/$repo\n",
        mirrorlist.display()
    );
    let conf = dir.join("pacman.conf");
    std::fs::write(&conf, text).unwrap();
    conf
}

#[test]
fn the_stock_arch_configuration_reads_as_each_pacman_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = stock(dir.path());
    compare(Dialect::Pacman6, PACMAN6_CONF, &conf);
    compare(Dialect::Pacman7, PACMAN7_CONF, &conf);
}

#[test]
fn every_option_reads_as_each_pacman_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let six = every_option(&dir.path().join("six"), false);
    compare(Dialect::Pacman6, PACMAN6_CONF, &six);
    let seven = every_option(&dir.path().join("seven"), true);
    compare(Dialect::Pacman7, PACMAN7_CONF, &seven);
    // pacman 7: the download sandbox and its user.
    let conf = PacmanConf::load_as(Dialect::Pacman7, &seven, &Overrides::default()).unwrap();
    assert_eq!(conf.download_user.as_deref(), Some("nobody"));
    assert!(conf.disable_sandbox_filesystem && conf.disable_sandbox_syscalls);
}

#[test]
fn pacman_7_refuses_a_directory_that_does_not_exist_as_pacman_7_does() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pacman.conf");
    let missing = dir.path().join("nowhere");
    std::fs::write(
        &conf,
        format!("[options]\nCacheDir = {}/\n", missing.display()),
    )
    .unwrap();
    let theirs = Command::new(PACMAN7_CONF)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!theirs.status.success(), "pacman-conf 7.1 refuses it too");
    let err = PacmanConf::load_as(Dialect::Pacman7, &conf, &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    // pacman 6 takes the path as written.
    let six = PacmanConf::load_as(Dialect::Pacman6, &conf, &Overrides::default()).unwrap();
    assert_eq!(
        six.cache_dirs,
        [PathBuf::from(format!("{}/", missing.display()))]
    );
}

#[test]
fn usage_download_user_and_resolution_errors_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pacman.conf");
    let error = |text: &str, dialect: Dialect| {
        std::fs::write(&conf, text).unwrap();
        PacmanConf::load_as(dialect, &conf, &Overrides::default())
            .unwrap_err()
            .to_string()
    };
    let e = error("[core]\nUsage = Sync Often\n", Dialect::Pacman6);
    assert!(e.contains("Often"), "{e}");
    let e = error("[options]\nDownloadUser =\n", Dialect::Pacman7);
    assert!(
        e.contains("pacman.conf:2") && e.contains("DownloadUser"),
        "{e}"
    );
    // pacman 7 takes one directory a line: two are one path that does
    // not exist.
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let two = format!("[options]\nCacheDir = {} {}\n", a.display(), b.display());
    let e = error(&two, Dialect::Pacman7);
    assert!(e.contains("pacman.conf:2") && e.contains("CacheDir"), "{e}");
    std::fs::write(&conf, &two).unwrap();
    let six = PacmanConf::load_as(Dialect::Pacman6, &conf, &Overrides::default()).unwrap();
    assert_eq!(six.cache_dirs, [a.clone(), b.clone()]);
    // --root and --dbpath that pacman 7 cannot resolve.
    std::fs::write(&conf, "[options]\n").unwrap();
    let missing = Overrides {
        root: None,
        db_path: Some(dir.path().join("nowhere")),
    };
    let e = PacmanConf::load_as(Dialect::Pacman7, &conf, &missing)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--dbpath") && e.contains("nowhere"), "{e}");
}
