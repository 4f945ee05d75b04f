//! A Debian system in a temporary root that apt and dpkg really install
//! into: a `file:` repository of `.deb` packages built with `dpkg-deb`
//! and indexed with `dpkg-scanpackages`, an empty dpkg database, and an
//! apt configuration that points every directory (and dpkg's `--root`)
//! inside it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct DebRoot {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
}

impl DebRoot {
    pub fn new() -> DebRoot {
        let dir = tempfile::tempdir().expect("temporary directory");
        let r = dir.path();
        for sub in [
            "etc/apt/apt.conf.d",
            "etc/apt/preferences.d",
            "etc/apt/sources.list.d",
            "var/lib/dpkg/info",
            "var/lib/dpkg/updates",
            "var/lib/dpkg/triggers",
            "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial",
            "var/log/apt",
            "repo",
        ] {
            std::fs::create_dir_all(r.join(sub)).unwrap();
        }
        std::fs::write(r.join("var/lib/dpkg/status"), "").unwrap();
        let d = r.display();
        std::fs::write(
            r.join("etc/apt/sources.list"),
            format!("deb [trusted=yes] file:{d}/repo ./\n"),
        )
        .unwrap();
        let conf = r.join("etc/apt/apt.conf");
        std::fs::write(
            &conf,
            format!(
                "Dir \"{d}/\";\n\
                 Dir::State::status \"{d}/var/lib/dpkg/status\";\n\
                 Dir::Etc::main \"{d}/etc/apt/apt.conf\";\n\
                 Dir::Etc::parts \"{d}/etc/apt/apt.conf.d\";\n\
                 Dir::Log \"{d}/var/log/apt\";\n\
                 Dir::Bin::dpkg \"/usr/bin/dpkg\";\n\
                 Dir::Cache::pkgcache \"\";\n\
                 Dir::Cache::srcpkgcache \"\";\n\
                 DPkg::Options {{ \"--root={d}\"; \"--log={d}/var/log/dpkg.log\"; }};\n\
                 APT::Sandbox::User \"root\";\n\
                 APT::Architecture \"amd64\";\n\
                 APT::Architectures {{ \"amd64\"; }};\n\
                 Acquire::Languages \"none\";\n"
            ),
        )
        .unwrap();
        DebRoot { dir, conf }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Builds `name_version_all.deb` into the repository: it installs
    /// `/usr/share/<name>/VERSION`; `control` adds fields (`Depends: …`).
    pub fn add(&self, name: &str, version: &str, control: &str) {
        self.add_with_postinst(name, version, control, None);
    }

    /// Like `add`, with a `postinst` maintainer script.
    pub fn add_with_postinst(
        &self,
        name: &str,
        version: &str,
        control: &str,
        postinst: Option<&str>,
    ) {
        self.build(name, version, control, postinst, None);
    }

    /// Like `add`, with the conffile `/etc/<name>.conf` holding `conf`.
    pub fn add_with_conffile(&self, name: &str, version: &str, conf: &str) {
        self.build(name, version, "", None, Some(conf));
    }

    /// Like `add`, with `/usr/share/doc/<name>/NEWS.Debian.gz` holding
    /// `news`.
    pub fn add_with_news(&self, name: &str, version: &str, news: &str) {
        use std::io::Write;
        let gz = tempfile::NamedTempFile::new().unwrap();
        let mut encoder =
            flate2::write::GzEncoder::new(gz.reopen().unwrap(), flate2::Compression::default());
        encoder.write_all(news.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let extra = (
            format!("usr/share/doc/{name}/NEWS.Debian.gz"),
            gz.path().to_path_buf(),
        );
        self.build_with(name, version, "", None, None, Some(extra));
    }

    /// Like `add`, with a copy of the program `program` installed as
    /// `/usr/lib/<name>/<file>` (mode 0755).
    pub fn add_with_program(&self, name: &str, version: &str, file: &str, program: &Path) {
        let extra = (format!("usr/lib/{name}/{file}"), program.to_path_buf());
        self.build_with(name, version, "", None, None, Some(extra));
    }

    fn build(
        &self,
        name: &str,
        version: &str,
        control: &str,
        postinst: Option<&str>,
        conffile: Option<&str>,
    ) {
        self.build_with(name, version, control, postinst, conffile, None);
    }

    fn build_with(
        &self,
        name: &str,
        version: &str,
        control: &str,
        postinst: Option<&str>,
        conffile: Option<&str>,
        program: Option<(String, PathBuf)>,
    ) {
        let build = tempfile::tempdir().unwrap();
        let b = build.path();
        if let Some((rel, from)) = program {
            use std::os::unix::fs::PermissionsExt;
            let to = b.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(b.join("DEBIAN")).unwrap();
        if let Some(conf) = conffile {
            std::fs::create_dir_all(b.join("etc")).unwrap();
            std::fs::write(b.join(format!("etc/{name}.conf")), conf).unwrap();
            std::fs::write(b.join("DEBIAN/conffiles"), format!("/etc/{name}.conf\n")).unwrap();
        }
        if let Some(script) = postinst {
            use std::os::unix::fs::PermissionsExt;
            let path = b.join("DEBIAN/postinst");
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(b.join("usr/share").join(name)).unwrap();
        std::fs::write(
            b.join("usr/share").join(name).join("VERSION"),
            format!("{name} {version}\n"),
        )
        .unwrap();
        std::fs::write(
            b.join("DEBIAN/control"),
            format!(
                "Package: {name}\nVersion: {version}\nArchitecture: all\n\
                 Maintainer: Test <test@example.org>\nDescription: test package {name}\n{control}"
            ),
        )
        .unwrap();
        let deb = self.path(&format!("repo/{name}_{version}_all.deb"));
        super::system_with(
            Command::new("dpkg-deb")
                .args(["-b", "-Zgzip"])
                .arg(b)
                .arg(&deb),
        );
    }

    /// Removes a package file from the repository.
    pub fn drop_file(&self, name: &str, version: &str) {
        std::fs::remove_file(self.path(&format!("repo/{name}_{version}_all.deb"))).unwrap();
    }

    /// Writes the repository's index (`Packages`) for the files there now.
    pub fn publish(&self) {
        let packages = super::system_with(
            Command::new("dpkg-scanpackages")
                .args(["-m", "."])
                .current_dir(self.path("repo")),
        );
        std::fs::write(self.path("repo/Packages"), packages).unwrap();
    }

    /// Serves the repository over HTTP instead of `file:` (apt then
    /// downloads into its archive cache) and updates the lists.
    pub fn serve_over_http(&self) -> super::http::FileServer {
        let server = super::http::FileServer::start();
        for entry in std::fs::read_dir(self.path("repo")).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // A flat repository (`./`): apt asks for `/./<file>`.
            server.put(&format!("/./{name}"), std::fs::read(entry.path()).unwrap());
        }
        std::fs::write(
            self.path("etc/apt/sources.list"),
            format!("deb [trusted=yes] {}/ ./\n", server.url()),
        )
        .unwrap();
        self.update();
        server
    }

    /// `apt-get update` on the root (the lists the system starts from).
    pub fn update(&self) {
        super::system_with(self.apt("apt-get").args(["update", "-qq"]));
    }

    pub fn apt(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("APT_CONFIG", &self.conf);
        c
    }

    /// The installed packages and versions, as dpkg says.
    pub fn installed(&self) -> Vec<(String, String)> {
        let out = super::system_with(
            Command::new("dpkg-query")
                .arg(format!(
                    "--admindir={}",
                    self.path("var/lib/dpkg").display()
                ))
                .args(["-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\\n"]),
        );
        out.lines()
            .filter(|l| l.starts_with("ii"))
            .filter_map(|l| {
                let mut parts = l.split_whitespace().skip(1);
                Some((parts.next()?.to_string(), parts.next()?.to_string()))
            })
            .collect()
    }

    /// What `apt-mark showauto` lists.
    pub fn auto(&self) -> Vec<String> {
        super::system_with(self.apt("apt-mark").arg("showauto"))
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// An omg environment reading this root.
    pub fn env(&self) -> super::Env {
        let mut env = super::Env::new();
        env.apt_config = Some(self.conf.clone());
        env
    }

    pub fn has_file(&self, rel: &str) -> bool {
        Path::new(&self.path(rel)).exists()
    }
}

/// A Debian root with a package the recorded Debian security tracker data
/// says is vulnerable: libsope1 5.8.0-1 (source sope, CVE-2025-53603 in
/// bookworm, fixed in 5.8.0-1+deb12u1), sogo-app needing it, and
/// other-app; and a local server answering with that data.
pub struct SopeMachine {
    pub root: DebRoot,
    pub tracker: super::http::FileServer,
}

impl SopeMachine {
    pub fn new() -> SopeMachine {
        let tracker = super::http::FileServer::start();
        tracker.put(
            "/tracker/data/json",
            super::upstream_fixture("debian-security/tracker-data-json.vunnel.json"),
        );
        let root = DebRoot::new();
        root.add("libsope1", "5.8.0-1", "Source: sope\n");
        root.add("sogo-app", "1.0", "Depends: libsope1\n");
        root.add("other-app", "1.0", "");
        root.publish();
        root.update();
        SopeMachine { root, tracker }
    }

    /// The `[security]` section that asks this tracker about bookworm.
    pub fn security_config(&self) -> String {
        format!(
            "[security]\ndebian_tracker_url = \"{}/tracker/data/json\"\ndebian_release = \"bookworm\"\n",
            self.tracker.url()
        )
    }
}
