//! Helpers shared by the integration tests: an isolated omg environment
//! (its own data, cache, config and runtime directories) that runs the
//! built binaries, and a miniature apt system in a temporary root.

#![allow(dead_code)]

pub mod arch;
pub mod aur;
pub mod deb;
pub mod http;
pub mod node;
pub mod pgp;
pub mod sni;
pub mod system;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The libalpm line the tests run on, from `OMG_TEST_ALPM_LINE`: 13
/// (default) is this build's binaries on Debian's libalpm 13, with Debian's
/// pacman 6 as the reference; 16 is the `alpm-current` build
/// (`target/arch-current/debug`, linked to /opt/pacman-7.1's libalpm 16)
/// with pacman 7.1's own programs as the reference (`make
/// test-arch-current` puts /opt/pacman-7.1/bin first on PATH).
pub fn alpm_line() -> u32 {
    match std::env::var("OMG_TEST_ALPM_LINE").as_deref() {
        Ok("16") => 16,
        Ok("13") | Err(_) => 13,
        Ok(other) => panic!("OMG_TEST_ALPM_LINE={other}: the lines are 13 and 16"),
    }
}

/// The repository's root (the tests of crates/omgd share these helpers).
pub fn repo() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or(manifest)
}

/// One of omg's binaries, of the line under test: built beside this test
/// (target/<profile>/deps/this-test), whichever package's test it is.
fn binary(name: &str) -> &'static str {
    let path = if alpm_line() == 13 {
        let exe = std::env::current_exe().expect("the test's own path");
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("tests run from target/<profile>/deps");
        profile.join(name)
    } else {
        repo().join("target/arch-current/debug").join(name)
    };
    assert!(
        path.is_file(),
        "{} is missing: the whole workspace's tests build it (cargo nextest run --workspace; make arch-current-debug on the libalpm 16 line)",
        path.display()
    );
    Box::leak(path.display().to_string().into_boxed_str())
}

/// A plain PATH for a child that must not see this environment's extras:
/// the system's programs, and on the libalpm 16 line pacman 7.1's first.
pub fn plain_path() -> &'static str {
    match alpm_line() {
        16 => "/opt/pacman-7.1/bin:/usr/bin:/bin",
        _ => "/usr/bin:/bin",
    }
}

pub static OMG: std::sync::LazyLock<&'static str> = std::sync::LazyLock::new(|| binary("omg"));
pub static OMGD: std::sync::LazyLock<&'static str> = std::sync::LazyLock::new(|| binary("omgd"));
pub static OMGD_LITE: std::sync::LazyLock<&'static str> =
    std::sync::LazyLock::new(|| binary("omgd-lite"));

/// What a finished command left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// An isolated omg: every directory omg writes to lives in a temporary
/// directory, and `APT_CONFIG` may point at a fixture apt root.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub apt_config: Option<PathBuf>,
    /// The pacman.conf of a fixture Arch root.
    pub pacman_conf: Option<PathBuf>,
    /// Where the AUR is: by default a closed local port, so no test
    /// reaches out.
    pub aur_url: String,
    /// Where the Arch Linux news is: a closed local port unless a test
    /// serves it.
    pub news_url: String,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temporary directory"),
            apt_config: None,
            pacman_conf: None,
            aur_url: "http://127.0.0.1:1".into(),
            news_url: "http://127.0.0.1:1/feeds/news/".into(),
        }
    }

    /// An environment reading the fixture apt system of `root`.
    pub fn with_apt(root: &AptRoot) -> Env {
        let mut env = Env::new();
        env.apt_config = Some(root.conf.clone());
        env
    }

    /// Runs the refresh worker (`omgd work refresh`) as this environment's.
    pub fn refresh(&self) -> Run {
        self.work("refresh")
    }

    /// Runs the one-shot worker `omgd work TASK` as this environment's.
    pub fn work(&self, task: &str) -> Run {
        self.command(*OMGD)
            .args(["work", task])
            .output()
            .expect("run omgd work")
            .into()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("OMG_DATA_DIR", self.data_dir())
            .env("OMG_CACHE_DIR", self.dir.path().join("cache"))
            .env("OMG_CONFIG_DIR", self.dir.path().join("config"))
            .env("OMG_RUNTIME_DIR", self.runtime_dir())
            .env("OMG_DAEMON", *OMGD)
            .env("OMG_DAEMON_LITE", *OMGD_LITE)
            .env_remove("OMG_LOG")
            .env_remove("OMG_BACKEND")
            .env_remove("COLUMNS")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("OMG_AUR_URL", &self.aur_url)
            .env("OMG_ARCH_NEWS_URL", &self.news_url);
        match &self.apt_config {
            Some(conf) => c.env("APT_CONFIG", conf),
            None => c.env_remove("APT_CONFIG"),
        };
        match &self.pacman_conf {
            Some(conf) => c.env("OMG_PACMAN_CONF", conf),
            None => c.env_remove("OMG_PACMAN_CONF"),
        };
        c
    }

    /// `systemd-socket-activate -l SOCKET`, handing the program it starts
    /// this environment's directories and `APT_CONFIG` (it passes on only
    /// the variables it is told to) and the `extra` ones.
    pub fn socket_activate(&self, socket: &Path, extra: &[(&str, &str)]) -> Command {
        let mut activate = Command::new("systemd-socket-activate");
        activate.arg("-l").arg(socket);
        let mine = self.command("true");
        let ours = [
            "OMG_DATA_DIR",
            "OMG_CACHE_DIR",
            "OMG_CONFIG_DIR",
            "OMG_RUNTIME_DIR",
            "APT_CONFIG",
        ]
        .into_iter()
        .filter_map(|var| {
            let (_, value) = mine.get_envs().find(|(k, _)| *k == var)?;
            Some((var, value?.to_string_lossy().into_owned()))
        });
        for (var, value) in ours.chain(extra.iter().map(|(k, v)| (*k, v.to_string()))) {
            activate.arg("-E").arg(format!("{var}={value}"));
        }
        activate
    }

    /// Runs `omg ARGS`.
    pub fn omg(&self, args: &[&str]) -> Run {
        self.command(*OMG)
            .args(args)
            .output()
            .expect("run omg")
            .into()
    }

    /// Runs `omg ARGS` with `input` on its standard input (answers to its
    /// questions).
    pub fn omg_with_input(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write;
        let mut child = self
            .command(*OMG)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run omg");
        let mut stdin = child.stdin.take().expect("piped");
        stdin.write_all(input.as_bytes()).expect("write answers");
        drop(stdin);
        child.wait_with_output().expect("omg finishes").into()
    }

    /// Runs `omg-fast ARGS` (built beside omg); its output, trimmed.
    pub fn omg_fast(&self, args: &[&str]) -> String {
        let program = Path::new(*OMG).with_file_name("omg-fast");
        let out = self
            .command(program.to_str().expect("a UTF-8 path"))
            .args(args)
            .output()
            .expect("run omg-fast");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `omg ARGS` and parses its stdout as JSON; it must succeed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let run = self.omg(args);
        assert_eq!(run.code, 0, "omg {args:?} failed: {}", run.stderr);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("omg {args:?} printed invalid JSON ({e}): {}", run.stdout))
    }
}

/// Says why a test cannot run here and returns `None` for it to stop;
/// under `OMG_TEST_STRICT=1` (CI) a test may not pass by skipping, so
/// this fails it instead, naming what is missing.
pub fn skip<T>(why: &str) -> Option<T> {
    if std::env::var("OMG_TEST_STRICT").is_ok_and(|v| v == "1") {
        panic!("cannot run here: {why} (OMG_TEST_STRICT=1 forbids skipping)");
    }
    eprintln!("{why}: skipping");
    None
}

/// Files as they are now — contents and modification time — to show
/// later that nothing changed them.
pub struct Snapshot {
    roots: Vec<PathBuf>,
    files: Vec<(PathBuf, Option<Vec<u8>>, Option<std::time::SystemTime>)>,
}

impl Snapshot {
    /// `paths`: a directory stands for every file below it, a file (even
    /// one that does not exist yet) for itself.
    pub fn of(paths: &[PathBuf]) -> Snapshot {
        fn files(path: &Path, out: &mut Vec<PathBuf>) {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    for entry in entries.flatten() {
                        files(&entry.path(), out);
                    }
                }
                Err(_) => out.push(path.to_path_buf()),
            }
        }
        let mut all = Vec::new();
        for path in paths {
            files(path, &mut all);
        }
        all.sort();
        let files = all
            .into_iter()
            .map(|p| {
                let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
                let bytes = std::fs::read(&p).ok();
                (p, bytes, modified)
            })
            .collect();
        Snapshot {
            roots: paths.to_vec(),
            files,
        }
    }

    /// Fails naming the first file that was added, removed or changed.
    pub fn assert_unchanged(&self) {
        let now = Snapshot::of(&self.roots);
        for (before, after) in self.files.iter().zip(&now.files) {
            assert!(before == after, "{} changed", before.0.display());
        }
        let names =
            |s: &Snapshot| -> Vec<PathBuf> { s.files.iter().map(|f| f.0.clone()).collect() };
        assert_eq!(names(self), names(&now), "files were added or removed");
    }
}

/// `skip` for a test that returns nothing.
pub fn skip_test(why: &str) {
    skip::<()>(why);
}

/// A file of the recorded upstream data in tests/fixtures/upstream (its
/// README says where each comes from).
pub fn upstream_fixture(rel: &str) -> Vec<u8> {
    let path = repo().join("tests/fixtures/upstream").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A gzipped tarball holding one executable script at `path` (a stand-in
/// for a runtime's release archive).
pub fn tar_gz(path: &str, script: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_gnu();
    header.set_size(script.len() as u64);
    header.set_mode(0o755);
    header.set_cksum();
    tar.append_data(&mut header, path, script.as_bytes())
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Runs a command of the system and returns its stdout; it must succeed.
pub fn system(program: &str, args: &[&str]) -> String {
    system_with(Command::new(program).args(args))
}

pub fn system_with(command: &mut Command) -> String {
    let out = command.output().expect("run a system command");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A miniature Debian system (tests/fixtures/apt) in a temporary root: the
/// dpkg status, apt's extended states and a `file:` repository that the
/// real `apt-get update` has read into the root's lists.
pub struct AptRoot {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
}

fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

impl AptRoot {
    pub fn new() -> AptRoot {
        AptRoot::build(None)
    }

    /// A root whose repository also publishes `Contents-amd64` (the lines
    /// of Debian's Contents files), listed with its hash in the Release
    /// file as a real archive lists it.
    pub fn with_contents(contents: &str) -> AptRoot {
        AptRoot::build(Some(contents))
    }

    fn build(contents: Option<&str>) -> AptRoot {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path();
        for sub in [
            "etc/apt/apt.conf.d",
            "etc/apt/preferences.d",
            "etc/apt/sources.list.d",
            "var/lib/dpkg",
            "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial",
            "repo",
        ] {
            std::fs::create_dir_all(root.join(sub)).expect("create fixture directory");
        }
        let copy = |from: &str, to: &str| {
            std::fs::copy(fixture(from), root.join(to)).expect("copy fixture");
        };
        copy("apt/repo/Packages", "repo/Packages");
        copy("apt/repo/Release", "repo/Release");
        if let Some(contents) = contents {
            use sha2::Digest;
            std::fs::write(root.join("repo/Contents-amd64"), contents).unwrap();
            let mut release = std::fs::read_to_string(root.join("repo/Release")).unwrap();
            release.push_str("SHA256:\n");
            for file in ["Packages", "Contents-amd64"] {
                let bytes = std::fs::read(root.join("repo").join(file)).unwrap();
                let hash = sha2::Sha256::digest(&bytes);
                let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
                release.push_str(&format!(" {hex} {} {file}\n", bytes.len()));
            }
            std::fs::write(root.join("repo/Release"), release).unwrap();
        }
        copy("apt/status", "var/lib/dpkg/status");
        copy("apt/extended_states", "var/lib/apt/extended_states");
        let r = root.display();
        std::fs::write(
            root.join("etc/apt/sources.list"),
            format!("deb [trusted=yes] file:{r}/repo ./\n"),
        )
        .unwrap();
        let conf = root.join("etc/apt/apt.conf");
        std::fs::write(
            &conf,
            format!(
                "Dir \"{r}/\";\n\
                 Dir::State::status \"{r}/var/lib/dpkg/status\";\n\
                 Dir::Etc::main \"{r}/etc/apt/apt.conf\";\n\
                 Dir::Etc::parts \"{r}/etc/apt/apt.conf.d\";\n\
                 Dir::Cache::pkgcache \"\";\n\
                 Dir::Cache::srcpkgcache \"\";\n\
                 APT::Architecture \"amd64\";\n\
                 APT::Architectures {{ \"amd64\"; }};\n\
                 Acquire::Languages \"none\";\n"
            ),
        )
        .unwrap();
        let root = AptRoot { dir, conf };
        system_with(root.apt("apt-get").args(["update", "-qq"]));
        root.materialize_lists();
        root
    }

    /// apt links the lists of a `file:` repository to the repository
    /// itself; replace the links with copies, as a download would leave
    /// them, so the repository can change without the system noticing
    /// until the next update.
    fn materialize_lists(&self) {
        for entry in std::fs::read_dir(self.path("var/lib/apt/lists"))
            .unwrap()
            .flatten()
        {
            let path = entry.path();
            if std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
            {
                let bytes = std::fs::read(&path).unwrap();
                std::fs::remove_file(&path).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        }
    }

    /// A command of apt's (apt-get, apt-cache, apt-mark) on this root.
    pub fn apt(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("APT_CONFIG", &self.conf);
        c
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// The names in `omg search --json` output.
pub fn hit_names(results: &serde_json::Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .expect("hits is an array")
        .iter()
        .map(|h| h["name"].as_str().expect("name").to_string())
        .collect()
}

/// The names in a JSON array of objects with a `name` field.
pub fn names(list: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    out.sort();
    out
}

impl Env {
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// Writes `config.toml`.
    pub fn configure(&self, toml: &str) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(self.config_dir().join("config.toml"), toml).unwrap();
    }

    /// Where omg looks for the daemon.
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir().join("omgd.sock")
    }

    /// Starts `omgd --socket … --foreground` and waits until it answers.
    pub fn start_daemon(&self) -> Daemon {
        let child = self
            .command(*OMGD)
            .arg("--socket")
            .arg(self.socket())
            .arg("--foreground")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start omgd");
        let daemon = Daemon { child };
        wait_for_socket(&self.socket());
        daemon
    }
}

/// Waits (up to 20 s) until something accepts connections on `path`.
pub fn wait_for_socket(path: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(path).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on {}",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A running daemon, killed when dropped.
pub struct Daemon {
    pub child: std::process::Child,
}

impl Daemon {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal and waits for the exit code (and stderr).
    pub fn signal_and_wait(mut self, signal: i32) -> (Option<i32>, String) {
        unsafe {
            libc::kill(self.pid(), signal);
        }
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        let status = self.child.wait().unwrap();
        (status.code(), stderr)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking client speaking the wire protocol, for tests that need to
/// misbehave or pipeline.
pub struct RawClient {
    pub stream: std::os::unix::net::UnixStream,
}

impl RawClient {
    pub fn connect(path: &Path) -> RawClient {
        let stream = std::os::unix::net::UnixStream::connect(path).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        RawClient { stream }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.stream.write_all(bytes).expect("write");
    }

    pub fn send(&mut self, frame: &omg::ipc::protocol::ClientFrame) {
        self.send_raw(&omg::ipc::codec::frame(frame).unwrap());
    }

    pub fn hello(&mut self) {
        self.send(&omg::ipc::protocol::ClientFrame::Hello(
            omg::ipc::protocol::Hello {
                protocol: omg::ipc::protocol::PROTOCOL_VERSION,
                client: "test".into(),
            },
        ));
        match self.receive() {
            Some(omg::ipc::protocol::ServerFrame::Welcome(_)) => {}
            other => panic!("expected Welcome, got {other:?}"),
        }
    }

    pub fn request(&mut self, id: u32, body: omg::ipc::protocol::RequestBody) {
        self.send(&omg::ipc::protocol::ClientFrame::Request(
            omg::ipc::protocol::Request { id, body },
        ));
    }

    /// The next frame, or `None` at end of stream.
    pub fn receive(&mut self) -> Option<omg::ipc::protocol::ServerFrame> {
        use std::io::Read;
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).ok()?;
        let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut payload).expect("a whole frame");
        Some(omg::ipc::codec::decode(&payload).expect("a well-formed frame"))
    }
}

/// A search request body.
pub fn search(query: &str) -> omg::ipc::protocol::RequestBody {
    omg::ipc::protocol::RequestBody::Search(omg::ipc::protocol::SearchRequest {
        query: query.into(),
        limit: 10,
        installed_only: false,
        sources: Default::default(),
    })
}

/// A sudoers rule letting `nobody` run one program as root, for the length
/// of a test (removed when dropped).
pub struct SudoRule(PathBuf);

impl SudoRule {
    pub fn for_nobody(program: &str, tag: &str) -> SudoRule {
        let rule = SudoRule(PathBuf::from(format!(
            "/etc/sudoers.d/omg-test-{tag}-{}",
            std::process::id()
        )));
        std::fs::write(&rule.0, format!("nobody ALL=(root) NOPASSWD: {program}\n")).unwrap();
        std::fs::set_permissions(&rule.0, std::os::unix::fs::PermissionsExt::from_mode(0o440))
            .unwrap();
        system_with(Command::new("visudo").arg("-cf").arg(&rule.0));
        rule
    }
}

impl Drop for SudoRule {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Gives `path` and everything under it to `nobody`.
pub fn give_to_nobody(path: &Path) {
    system_with(
        Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(path),
    );
}
