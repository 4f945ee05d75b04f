//! The `omg` command line: argument parsing (clap), one module per command
//! family, and the mapping from failures to messages and exit codes. The CLI
//! never touches a package database itself: every query goes to `omgd`.

mod audit;
mod aur;
mod blame;
mod clean;
mod current;
mod daemon;
mod dash;
mod doctor;
mod env;
mod graph;
mod history;
mod info;
mod list;
mod outdated;
pub mod output;
mod pick;
mod pin;
mod progress;
mod rollback;
mod runtime;
mod rustup;
mod sbom;
mod search;
mod shipping;
mod status;
mod transaction;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Paths;
use crate::ipc::client::{ClientError, Connection, daemon_binary, lite_binary};
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody, WireError};
use crate::transaction::{TransactionAction, TransactionOptions};
use output::{ERROR, WARN};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a failure: unknown package, nothing found, database error.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a usage error: bad arguments or a malformed query.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "omg",
    version,
    about = "One package manager for system packages, the AUR and language runtimes",
    long_about = "omg searches, inspects, lists, installs, removes and upgrades the packages \
of this system's package database (apt on Debian and Ubuntu, libalpm on Arch, with the AUR), \
manages language runtimes (node, python, go, rust, ruby, java, bun) per directory, and \
audits what is installed. Queries are answered by omgd from an index kept in sync with \
the database, so they are fast; transactions run in an omgd running as root (the system \
instance, or one started through sudo).",
    after_help = "Exit status: 0 on success, 1 when a package is not found, the database \
fails, or a transaction fails or is cancelled, 2 on a usage error."
)]
pub struct Cli {
    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Explain what happens behind the scenes (on stderr)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Do not use a running daemon: answer through a one-shot `omgd --stdio`
    #[arg(long, global = true)]
    pub no_daemon: bool,
    /// The package database to use, instead of the one this system runs
    #[arg(long, global = true, value_enum)]
    pub backend: Option<BackendChoice>,
    /// Arch: the installation root (as pacman's --root)
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Arch: the database directory (as pacman's --dbpath)
    #[arg(long, global = true, value_name = "DIR")]
    pub dbpath: Option<PathBuf>,
    /// Arch: the pacman.conf to read (as pacman's --config)
    #[arg(long, global = true, value_name = "FILE")]
    pub pacman_conf: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Apt,
    Alpm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Search packages by name, provided names and description
    #[command(visible_alias = "s")]
    Search(SearchArgs),
    /// Show everything about packages
    #[command(visible_alias = "show")]
    Info(InfoArgs),
    /// List installed packages
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Summarise the package database
    Status(StatusArgs),
    /// Install packages: names, repo/name, groups, provided names or package files
    #[command(visible_alias = "add")]
    Install(InstallArgs),
    /// Remove installed packages
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
    /// Refresh the repository databases, then upgrade every package
    #[command(visible_alias = "up")]
    Upgrade(UpgradeArgs),
    /// Refresh the repository databases
    Sync(SyncArgs),
    /// Every pending update in one table: repository, AUR and VCS packages,
    /// runtimes with a newer release in their line, and runtime versions
    /// this project asks for that are not installed, with the known
    /// vulnerabilities each fixes. Exit code 0: nothing pending; 100:
    /// something is
    Outdated {
        /// Only the updates that fix known vulnerabilities
        #[arg(long)]
        security: bool,
        /// Ask the AUR, VCS upstreams and runtime release lists now (else
        /// the answers of the last refresh are used: no network)
        #[arg(long)]
        refresh: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the shell code that keeps runtime versions in step with the
    /// directory: add `eval "$(omg hook bash)"` to ~/.bashrc (zsh: ~/.zshrc;
    /// fish: `omg hook fish | source` in config.fish)
    Hook {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// What the shell hook runs before each prompt (prints shell code)
    #[command(hide = true)]
    HookEnv {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Use a runtime version: install it if needed, then make it the default
    /// (or, with --local, the version of this directory via .tool-versions;
    /// rust-toolchain.toml for Rust)
    Use {
        /// Write the choice into this directory's version file instead of
        /// the default
        #[arg(long)]
        local: bool,
        /// node, python, go, rust, ruby, java or bun (others go to mise)
        runtime: String,
        /// A version, a partial version or an alias (lts, lts/iron, latest)
        version: String,
    },
    /// Remove an installed runtime version
    Uninstall { runtime: String, version: String },
    /// Show which runtime program (node, npm, python, …) runs here
    Which { program: String },
    /// Run a command with a runtime version first on PATH: omg exec node@18 -- node -v
    Exec {
        /// RUNTIME@VERSION
        spec: String,
        /// The command and its arguments
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Show the runtime versions this directory asks for, and which file asks
    Current {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Manage the omgd daemon
    Daemon(DaemonArgs),
    /// The recorded transactions (package changes, and your runtime
    /// changes), newest first
    History(HistoryArgs),
    /// Remove orphaned dependencies, old package files from the cache and
    /// AUR build leftovers (all three without a flag)
    Clean {
        /// Dependencies nothing needs any more, and what only they needed
        #[arg(long)]
        orphans: bool,
        /// Package files in the cache but the newest versions of each
        /// package and the installed one
        #[arg(long)]
        cache: bool,
        /// How many versions of each package the cache keeps
        #[arg(long, default_value_t = 3, value_name = "N")]
        keep: u32,
        /// AUR build directories: clones of bases nothing installed comes
        /// from, built packages and work directories of the rest
        #[arg(long)]
        aur: bool,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// The environment lockfile (omg.lock): capture the machine's packages,
    /// runtimes and version files, check the machine against it (exit 1 on
    /// drift), or install what it lacks
    Env {
        #[command(subcommand)]
        action: EnvAction,
    },
    /// A terminal dashboard: pending updates, the ones fixing known
    /// vulnerabilities, runtimes and the history, keyboard only (Tab or 1-4
    /// switch tabs, arrows or j/k move, r reloads, q quits)
    Dash,
    /// Keep a package from being upgraded: PKG holds it at the installed
    /// version, PKG@VERSION lets it move only within that version line
    /// (Arch: skipped as IgnorePkg skips; Debian: a dpkg hold)
    Pin {
        /// PKG or PKG@VERSION
        #[arg(required_unless_present = "list")]
        package: Option<String>,
        /// Take the pin away
        #[arg(long, conflicts_with = "list")]
        unpin: bool,
        /// Show the pinned packages
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Why a package is installed: the chains from packages installed on
    /// request down to it (--reverse: everything that depends on it)
    Why {
        package: String,
        /// Show every installed package that depends on it, as a tree
        #[arg(long)]
        reverse: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// The largest installed packages and what removing each would free
    /// (it and the dependencies nothing else needs)
    Size {
        /// How many to show
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Show this package's dependency tree with sizes instead
        #[arg(long, value_name = "PKG")]
        tree: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// When a package was installed, by whom, with which command and why,
    /// and every change since (from the history)
    Blame {
        package: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revert a recorded transaction (the newest when no ID is given): the
    /// versions it replaced or removed come back (from the package cache, a
    /// repository, or on Arch the Arch Linux Archive), what it installed
    /// goes; for a runtime change, the default version goes back too
    Rollback(RollbackArgs),
    /// Check the installation (daemon, units, D-Bus, polkit, shell hook,
    /// PATH, data directory, database, status file) and say what to fix
    Doctor {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: omg completions bash > /etc/bash_completion.d/omg
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Package names starting with PREFIX (what the completions call)
    #[command(name = "__complete", hide = true)]
    Complete { prefix: String },
    /// Print the omg(1) man page (roff)
    #[command(name = "__manpage", hide = true)]
    Manpage,
    /// Check a file's detached OpenPGP signature against trusted keys
    /// (--sig), or its Sigstore provenance bundle (--bundle, with the
    /// signer's --identity and --issuer)
    Verify {
        /// The signed file
        file: std::path::PathBuf,
        /// Its detached signature (binary or armored)
        #[arg(
            long,
            value_name = "SIG",
            required_unless_present = "bundle",
            conflicts_with = "bundle"
        )]
        sig: Option<std::path::PathBuf>,
        /// A keyring file or a directory of keys (default: <config>/keys)
        #[arg(long, value_name = "K", requires = "sig")]
        keyring: Option<std::path::PathBuf>,
        /// A Sigstore bundle (.sigstore.json) for the file
        #[arg(long, value_name = "B", requires_all = ["identity", "issuer"])]
        bundle: Option<std::path::PathBuf>,
        /// The identity the signing certificate must name (SAN: a workflow
        /// URI or an e-mail)
        #[arg(long, value_name = "ID", requires = "bundle")]
        identity: Option<String>,
        /// The OIDC issuer that must have vouched for it
        #[arg(long, value_name = "URL", requires = "bundle")]
        issuer: Option<String>,
        /// A Sigstore trusted_root.json instead of the bundled public-good root
        #[arg(long, value_name = "FILE", requires = "bundle")]
        trusted_root: Option<std::path::PathBuf>,
    },
    /// Check the installed packages against policy.toml (the system's and
    /// yours)
    Policy(PolicyArgs),
    /// Installed packages affected by known vulnerabilities (the
    /// distribution's security tracker); `verify` and `log` for the audit
    /// logs of every package transaction and runtime change
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// How many to show
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The transaction to revert (omg history lists them)
    pub id: Option<u64>,
    /// One of your runtime changes rather than a system transaction
    #[arg(long)]
    pub user: bool,
    /// When some old versions are no longer available anywhere, roll back
    /// the rest without asking
    #[arg(long)]
    pub partial: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[derive(Debug, Subcommand)]
pub enum EnvAction {
    /// Write the lockfile: explicitly installed packages (with their
    /// source; AUR packages with their base and commit), installed runtime
    /// versions (with the checksum of what was installed) and defaults, the
    /// project's version files, and a fingerprint
    Capture {
        /// The lockfile
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        /// Print the lock as JSON too
        #[arg(long)]
        json: bool,
    },
    /// Compare the machine with the lockfile: exit 1 and the differences
    /// when they differ (the drift flag goes into the status file)
    Check {
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Install the packages and runtime versions the lockfile has and the
    /// machine lacks, and set the runtime defaults back (nothing is removed)
    Sync {
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Everything about one transaction
    Show {
        id: u64,
        /// One of your runtime changes rather than a system transaction
        #[arg(long)]
        user: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub action: PolicyAction,
}

#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// List the installed packages that break a rule (exit 1 if any)
    Check {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// Fetch the advisories now rather than use the last fetch
    #[arg(long)]
    pub refresh: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the chain of the system's and this user's audit logs (exit 1
    /// naming the first bad line)
    Verify {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// The pinned dependencies of a project's lockfiles (package-lock.json,
    /// Cargo.lock, poetry.lock, requirements.txt, go.sum) and the Go
    /// toolchains omg installed, against OSV
    Project {
        /// The project directory (default: here)
        dir: Option<std::path::PathBuf>,
        /// Ask OSV again rather than use answers kept from before
        #[arg(long)]
        refresh: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// A software bill of materials of the installed packages and runtimes
    Sbom {
        /// cyclonedx (CycloneDX 1.5 JSON) or spdx (SPDX 2.3 JSON)
        #[arg(long, default_value = "cyclonedx", value_parser = ["cyclonedx", "spdx"])]
        format: String,
        /// Include the known vulnerabilities (CycloneDX)
        #[arg(long)]
        vulns: bool,
    },
    /// Show what the audit logs recorded
    Log {
        /// Only entries since a date (2026-11-01), a time or a span (7days)
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub action: DaemonAction,
}

#[derive(Debug, Subcommand)]
pub enum DaemonAction {
    /// Show whether omgd runs, and its pid, uptime, index, cache and memory
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Start omgd in the background (through systemd when it manages omgd)
    Start,
    /// Stop omgd once its in-flight requests are answered
    Stop,
    /// Stop omgd, then start it again
    Restart,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for; several words must all match
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Show at most N results (0: all)
    #[arg(short = 'n', long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Only installed packages
    #[arg(short = 'I', long)]
    pub installed: bool,
    /// Only the AUR (Arch)
    #[arg(long, conflicts_with = "repo")]
    pub aur: bool,
    /// Only the repositories, not the AUR
    #[arg(long)]
    pub repo: bool,
    /// Print JSON (schema: docs/json.md)
    #[arg(long, conflicts_with = "interactive")]
    pub json: bool,
    /// Number the results, read which to install (1 2 3, 1-3, ^4) and
    /// install them
    #[arg(short = 'i', long)]
    pub interactive: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Package names
    #[arg(required = true, num_args = 1..)]
    pub names: Vec<String>,
    /// Print JSON: an array with one object per package found
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A runtime (node, python, …): list its installed versions instead
    pub runtime: Option<String>,
    /// With a runtime: the versions its upstream offers
    #[arg(short, long, requires = "runtime")]
    pub available: bool,
    /// Only packages installed on request (as `apt-mark showmanual`)
    #[arg(short, long, group = "filter")]
    pub explicit: bool,
    /// Only packages with a newer version available
    #[arg(short, long, group = "filter")]
    pub upgradable: bool,
    /// Only dependencies nothing needs any more (as `apt autoremove` would remove)
    #[arg(short, long, group = "filter")]
    pub orphans: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Options every transaction takes.
#[derive(Debug, Default, Args)]
pub struct TxArgs {
    /// Ask nothing: every question takes its default answer
    #[arg(long, visible_alias = "yes")]
    pub noconfirm: bool,
    /// Show what would be done, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON (progress goes to stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// What to install
    #[arg(required = true, num_args = 1..)]
    pub targets: Vec<String>,
    /// Mark the packages as installed as dependencies
    #[arg(long, conflicts_with = "asexplicit")]
    pub asdeps: bool,
    /// Mark the packages as installed explicitly
    #[arg(long)]
    pub asexplicit: bool,
    /// Skip targets that are installed at the same version
    #[arg(long)]
    pub needed: bool,
    /// Refresh the repository databases first
    #[arg(long)]
    pub refresh: bool,
    /// Runtimes: install without checksums and signatures
    #[arg(long)]
    pub insecure: bool,
    /// AUR: remove the repository packages needed only to build, afterwards
    #[arg(long)]
    pub removemake: bool,
    /// Debian: only download the packages into apt's archive cache
    #[arg(long)]
    pub download_only: bool,
    /// Install even what policy.toml forbids (recorded in the audit log)
    #[arg(long)]
    pub override_policy: bool,
    /// Search for the words given, number the results and install the ones
    /// chosen (1 2 3, 1-3, ^4)
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

impl InstallArgs {
    /// The transaction's and the AUR build's options these flags ask for.
    fn options(&self) -> (TransactionOptions, aur::AurOptions) {
        let options = TransactionOptions {
            as_deps: self.asdeps,
            as_explicit: self.asexplicit,
            needed: self.needed,
            refresh: self.refresh,
            download_only: self.download_only,
            override_policy: self.override_policy,
            ..TransactionOptions::default()
        };
        let extra = aur::AurOptions {
            remove_make: self.removemake,
            devel: false,
        };
        (options, extra)
    }
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Installed packages or groups
    #[arg(required = true, num_args = 1..)]
    pub targets: Vec<String>,
    /// Also remove dependencies nothing else needs (pacman -Rs)
    #[arg(short, long)]
    pub recursive: bool,
    /// Also remove the packages that depend on the targets (pacman -Rc)
    #[arg(short, long)]
    pub cascade: bool,
    /// Debian: also remove the configuration files (apt purge)
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// AUR: remove the repository packages needed only to build, afterwards
    #[arg(long)]
    pub removemake: bool,
    /// AUR: also rebuild VCS packages (-git, …) whose upstream has new commits
    #[arg(long)]
    pub devel: bool,
    /// Debian: only download the packages into apt's archive cache
    #[arg(long)]
    pub download_only: bool,
    /// Only the updates that fix known vulnerabilities (omg outdated
    /// --security lists them), with what they need
    #[arg(long, conflicts_with_all = ["devel", "removemake"])]
    pub security: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Download the databases even when they are up to date
    #[arg(short, long)]
    pub force: bool,
    /// Print the outcome as JSON (progress goes to stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// A failed command: what to tell the user and how to exit.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl Failure {
    pub fn new(message: impl Into<String>, code: u8) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            code,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::Remote(w) => Failure::from(w),
            other => Failure::new(other.to_string(), EXIT_FAILURE),
        }
    }
}

impl From<WireError> for Failure {
    fn from(w: WireError) -> Failure {
        let code = match w.kind {
            ErrorKind::InvalidRequest => EXIT_USAGE,
            _ => EXIT_FAILURE,
        };
        let hint = (!w.suggestions.is_empty() && !w.message.contains("virtual package"))
            .then(|| format!("did you mean: {}?", w.suggestions.join(", ")));
        Failure {
            message: w.message,
            hint,
            code,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader (`| head`) has seen enough: stop quietly.
            return Failure::new("", EXIT_OK);
        }
        Failure::new(format!("cannot write the output: {e}"), EXIT_FAILURE)
    }
}

/// Prints a failure on stderr.
pub fn report(failure: &Failure) {
    if failure.message.is_empty() {
        return;
    }
    let mut err = anstream::stderr();
    use std::io::Write;
    let _ = writeln!(
        err,
        "{}error:{} {}",
        ERROR.render(),
        ERROR.render_reset(),
        failure.message
    );
    if let Some(hint) = &failure.hint {
        let _ = writeln!(err, "{}hint:{} {hint}", WARN.render(), WARN.render_reset());
    }
}

/// Prints a warning on stderr.
pub fn report_warning(message: &str) {
    use std::io::Write;
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "{}warning:{} {message}",
        WARN.render(),
        WARN.render_reset()
    );
}

/// How long a daemon that accepted a connection may take to say hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to the daemon, opened on first use: the daemon's socket
/// when one answers, else a one-shot `omgd --stdio` child.
pub struct Session {
    verbose: bool,
    no_daemon: bool,
    socket: Option<PathBuf>,
    /// Environment for a one-shot omgd (another backend or database).
    env: Vec<(&'static str, std::ffi::OsString)>,
    connection: Option<Connection>,
    /// The connection is to `omgd-lite`, which may send us on to `omgd`.
    lite: bool,
}

impl Session {
    pub async fn request(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        if self.connection.is_none() {
            self.connection = Some(self.connect().await?);
        }
        let connection = self.connection.as_mut().expect("just connected");
        let result = connection.request(body.clone()).await;
        match result {
            Err(ClientError::Remote(e)) if self.lite && e.kind == ErrorKind::NeedsBackend => {
                // The snapshot could not answer: the full omgd can.
                if let Some(c) = self.connection.take() {
                    c.close().await;
                }
                self.lite = false;
                let daemon = daemon_binary();
                if self.verbose {
                    eprintln!(
                        "omg: omgd-lite needs the database; starting {} --stdio",
                        daemon.display()
                    );
                }
                let mut full = Connection::spawn_stdio(&daemon, self.verbose, &self.env).await?;
                let result = full.request(body).await;
                self.connection = Some(full);
                result
            }
            other => other,
        }
    }

    async fn connect(&mut self) -> Result<Connection, ClientError> {
        if !self.no_daemon
            && let Some(socket) = &self.socket
        {
            match Connection::connect_socket(socket, HANDSHAKE_TIMEOUT).await {
                Ok(c) => {
                    if self.verbose {
                        eprintln!("omg: using {} on {}", c.daemon, socket.display());
                    }
                    return Ok(c);
                }
                Err(e @ ClientError::VersionMismatch { .. }) => return Err(e),
                Err(e) => {
                    if self.verbose {
                        eprintln!("omg: no daemon on {} ({e})", socket.display());
                    }
                }
            }
        }
        // No daemon: the snapshot alone answers most queries, and
        // omgd-lite loads no package-manager library to read it.
        if let Some(lite) = lite_binary() {
            if self.verbose {
                eprintln!("omg: starting {} --stdio", lite.display());
            }
            self.lite = true;
            return Connection::spawn_stdio(&lite, self.verbose, &self.env).await;
        }
        let daemon = daemon_binary();
        if self.verbose {
            eprintln!("omg: starting {} --stdio", daemon.display());
        }
        Connection::spawn_stdio(&daemon, self.verbose, &self.env).await
    }

    pub async fn close(self) {
        if let Some(c) = self.connection {
            c.close().await;
        }
    }
}

/// `omg hook-env SHELL`, before anything else is set up: it runs at every
/// prompt.
fn hook_env(shell: &str) -> ExitCode {
    use crate::runtime::hook;
    let Some(shell) = hook::Shell::from_name(shell) else {
        return ExitCode::from(EXIT_USAGE);
    };
    let (Ok(cwd), Ok(paths)) = (std::env::current_dir(), Paths::user()) else {
        return ExitCode::from(EXIT_OK);
    };
    let versions = crate::runtime::versions_dir(&paths);
    let var = |name: &str| std::env::var(name).ok();
    let mut warn = |message: String| eprintln!("omg: {message}");
    let code = hook::hook_env(shell, &cwd, &versions, &var, &mut warn);
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(code.as_bytes());
    ExitCode::from(EXIT_OK)
}

/// Runs `omg` with the process's arguments.
pub fn run() -> ExitCode {
    // The prompt path: no argument parser, no runtime.
    let mut args = std::env::args();
    if args.nth(1).as_deref() == Some("hook-env")
        && let Some(shell) = args.next()
        && args.next().is_none()
    {
        return hook_env(&shell);
    }
    let cli = Cli::parse();
    match cli.color {
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
        ColorWhen::Auto => {}
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report(&Failure::new(format!("cannot start: {e}"), EXIT_FAILURE));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let code = runtime.block_on(async {
        let mut env: Vec<(&'static str, std::ffi::OsString)> = Vec::new();
        if let Some(backend) = cli.backend {
            let name = match backend {
                BackendChoice::Apt => "apt",
                BackendChoice::Alpm => "alpm",
            };
            env.push(("OMG_BACKEND", name.into()));
        }
        for (var, value) in [
            ("OMG_ALPM_ROOT", &cli.root),
            ("OMG_ALPM_DBPATH", &cli.dbpath),
            ("OMG_PACMAN_CONF", &cli.pacman_conf),
        ] {
            if let Some(v) = value {
                env.push((var, v.clone().into_os_string()));
            }
        }
        let mut session = Session {
            verbose: cli.verbose,
            // A running daemon serves the system's own database.
            no_daemon: cli.no_daemon || !env.is_empty(),
            socket: Paths::user().ok().map(|p| p.socket()),
            env,
            connection: None,
            lite: false,
        };
        let result = match &cli.command {
            Command::Search(args) if args.interactive => {
                let sources = if args.aur {
                    crate::ipc::protocol::Sources::Aur
                } else if args.repo {
                    crate::ipc::protocol::Sources::Repositories
                } else {
                    crate::ipc::protocol::Sources::All
                };
                let extra = aur::AurOptions {
                    remove_make: false,
                    devel: false,
                };
                pick::run(
                    &mut session,
                    &args.query.join(" "),
                    sources,
                    TransactionOptions::default(),
                    &TxArgs::default(),
                    &extra,
                )
                .await
            }
            Command::Search(args) => search::run(&mut session, args).await,
            Command::Info(args) => info::run(&mut session, args).await,
            Command::List(args) if args.runtime.is_some() => {
                let name = args.runtime.as_deref().unwrap_or_default();
                match crate::runtime::version_file::Runtime::from_name(name) {
                    Some(which) if args.available => {
                        runtime::run_available(&mut session, which, args.json).await
                    }
                    Some(which) => runtime::run_list(which, args.json),
                    None => Err(Failure::new(
                        format!("{name} is not a runtime omg knows (node, python, go, rust, ruby, java, bun)"),
                        EXIT_USAGE,
                    )),
                }
            }
            Command::List(args) => list::run(&mut session, args).await,
            Command::Uninstall { runtime: name, version } => {
                match crate::runtime::version_file::Runtime::from_name(name) {
                    Some(which) => runtime::run_uninstall(which, version),
                    None => Err(Failure::new(format!("{name} is not a runtime omg knows"), EXIT_USAGE)),
                }
            }
            Command::Which { program } => runtime::run_which(program),
            Command::Completions { shell } => shipping::completions(shell),
            Command::Doctor { json } => doctor::run(&mut session, *json).await,
            Command::History(args) => match &args.action {
                None => history::run_list(args.limit, args.json),
                Some(HistoryAction::Show { id, user, json }) => {
                    history::run_show(*id, *user, *json)
                }
            },
            Command::Dash => dash::run(&mut session).await,
            Command::Env { action } => match action {
                EnvAction::Capture { file, json } => env::capture(&mut session, file, *json).await,
                EnvAction::Check { file, json } => env::check(&mut session, file, *json).await,
                EnvAction::Sync { file, tx } => env::sync(&mut session, file, tx).await,
            },
            Command::Clean {
                orphans,
                cache,
                keep,
                aur,
                tx,
            } => {
                let what = clean::Clean {
                    orphans: *orphans,
                    cache: *cache,
                    keep: *keep,
                    aur: *aur,
                };
                clean::run(&mut session, &what, tx).await
            }
            Command::Pin {
                list: true, tx, ..
            } => pin::run_list(tx.json),
            Command::Pin {
                package,
                unpin,
                tx,
                ..
            } => {
                let target = package.as_deref().unwrap_or_default();
                pin::run_change(&session, target, *unpin, tx).await
            }
            Command::Why {
                package,
                reverse,
                json,
            } => graph::run_why(&mut session, package, *reverse, *json).await,
            Command::Size { limit, tree, json } => {
                graph::run_size(&mut session, *limit, tree.as_deref(), *json).await
            }
            Command::Blame { package, json } => blame::run(&mut session, package, *json).await,
            Command::Rollback(args) => {
                let request = rollback::Request {
                    id: args.id,
                    user: args.user,
                    partial: args.partial,
                    tx: &args.tx,
                };
                rollback::run(&mut session, &request).await
            }
            Command::Complete { prefix } => shipping::complete(&mut session, prefix).await,
            Command::Manpage => shipping::print_manpage(),
            Command::Verify {
                file,
                sig,
                keyring,
                bundle,
                identity,
                issuer,
                trusted_root,
            } => match (sig, bundle) {
                (Some(sig), _) => verify::run(&mut session, file, sig, keyring.as_deref()).await,
                (None, Some(bundle)) => {
                    let provenance = verify::Provenance {
                        bundle,
                        identity: identity.as_deref().unwrap_or_default(),
                        issuer: issuer.as_deref().unwrap_or_default(),
                        trusted_root: trusted_root.as_deref(),
                    };
                    verify::run_provenance(&mut session, file, &provenance).await
                }
                (None, None) => Err(Failure::new("give --sig or --bundle", EXIT_USAGE)),
            },
            Command::Policy(args) => match &args.action {
                PolicyAction::Check { json } => audit::run_policy_check(&mut session, *json).await,
            },
            Command::Audit(args) => match &args.action {
                None => audit::run_scan(&mut session, args.refresh, args.json).await,
                Some(AuditAction::Verify { json }) => audit::run_verify(*json),
                Some(AuditAction::Project { dir, refresh, json }) => {
                    audit::run_project(&mut session, dir.as_deref(), *refresh, *json).await
                }
                Some(AuditAction::Sbom { format, vulns }) => {
                    sbom::run(&mut session, format, *vulns).await
                }
                Some(AuditAction::Log { since, json }) => audit::run_log(since.as_deref(), *json),
            },
            Command::Exec { spec, command } => runtime::run_exec(spec, command),
            Command::Status(args) => status::run(&mut session, args).await,
            Command::Daemon(args) => daemon::run(&args.action, cli.verbose).await,
            Command::Current { json } => current::run(*json),
            Command::Hook { shell } => {
                let shell = crate::runtime::hook::Shell::from_name(shell)
                    .unwrap_or(crate::runtime::hook::Shell::Bash);
                let omg = std::env::current_exe().unwrap_or_else(|_| "omg".into());
                print!("{}", crate::runtime::hook::hook_script(shell, &omg));
                Ok(EXIT_OK)
            }
            Command::HookEnv { shell } => Ok(u8::from(hook_env(shell) != ExitCode::from(EXIT_OK))),
            Command::Install(args) if args.interactive => {
                let (options, extra) = args.options();
                pick::run(
                    &mut session,
                    &args.targets.join(" "),
                    crate::ipc::protocol::Sources::All,
                    options,
                    &args.tx,
                    &extra,
                )
                .await
            }
            Command::Install(args) if runtime::foreign_runtime(&args.targets).is_some() => {
                let (name, version) = runtime::foreign_runtime(&args.targets).expect("checked");
                runtime::mise_install(&name, &version)
            }
            Command::Install(args) if runtime::runtime_target(&args.targets).is_some() => {
                let (which, version) = runtime::runtime_target(&args.targets).expect("checked");
                runtime::run_install(&session, which, &version, args.insecure).await
            }
            Command::Use {
                local,
                runtime: name,
                version,
            } => match crate::runtime::version_file::Runtime::from_name(name) {
                Some(which) => runtime::run_use(&session, which, version, *local).await,
                None => runtime::mise_fallback(name, version, *local),
            },
            Command::Install(args) => {
                let (options, extra) = args.options();
                aur::install(
                    &mut session,
                    args.targets.clone(),
                    options,
                    &args.tx,
                    &extra,
                )
                .await
            }
            Command::Remove(args) => {
                let action = TransactionAction::Remove {
                    targets: args.targets.clone(),
                };
                let options = TransactionOptions {
                    recursive: args.recursive,
                    cascade: args.cascade,
                    purge: args.purge,
                    ..TransactionOptions::default()
                };
                transaction::run(&session, action, options, &args.tx).await
            }
            Command::Upgrade(args) if args.security => {
                let options = TransactionOptions {
                    download_only: args.download_only,
                    ..TransactionOptions::default()
                };
                outdated::upgrade_security(&mut session, options, &args.tx).await
            }
            Command::Outdated {
                security,
                refresh,
                json,
            } => outdated::run(&mut session, *json, *security, *refresh).await,
            Command::Upgrade(args) => {
                let extra = aur::AurOptions {
                    remove_make: args.removemake,
                    devel: args.devel,
                };
                let options = TransactionOptions {
                    download_only: args.download_only,
                    ..TransactionOptions::default()
                };
                aur::upgrade(&mut session, options, &args.tx, &extra).await
            }
            Command::Sync(args) => {
                let action = TransactionAction::Sync { force: args.force };
                let tx = TxArgs {
                    noconfirm: true,
                    dry_run: false,
                    json: args.json,
                };
                transaction::run(&session, action, TransactionOptions::default(), &tx).await
            }
        };
        session.close().await;
        match result {
            Ok(code) => code,
            Err(failure) => {
                report(&failure);
                failure.code
            }
        }
    });
    ExitCode::from(code)
}

/// Writes `value` as pretty JSON followed by a newline.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from(std::io::Error::from(kind)),
        None => Failure::new(format!("cannot write JSON: {e}"), EXIT_FAILURE),
    })?;
    writeln!(out)?;
    Ok(())
}

/// The response had a body of the wrong kind.
pub fn unexpected() -> Failure {
    Failure::new(
        "the daemon answered with the wrong kind of response",
        EXIT_FAILURE,
    )
}
