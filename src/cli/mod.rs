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
mod downgrade;
mod env;
mod failure;
mod graph;
mod history;
mod hook;
mod info;
mod install;
mod list;
mod outdated;
pub mod output;
mod pick;
mod pin;
mod progress;
mod remove;
mod rollback;
mod runtime;
mod rustup;
mod sbom;
mod search;
mod session;
mod shipping;
mod status;
mod sync;
mod transaction;
mod upgrade;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use failure::{Failure, report, report_warning};
pub use session::Session;
pub use transaction::TxArgs;

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
    Search(search::SearchArgs),
    /// Show everything about packages
    #[command(visible_alias = "show")]
    Info(info::InfoArgs),
    /// List installed packages
    #[command(visible_alias = "ls")]
    List(list::ListArgs),
    /// Summarise the package database
    Status(status::StatusArgs),
    /// Install packages: names, repo/name, groups, provided names or package files
    #[command(visible_alias = "add")]
    Install(install::InstallArgs),
    /// Remove installed packages
    #[command(visible_alias = "rm")]
    Remove(remove::RemoveArgs),
    /// Refresh the repository databases, then upgrade every package
    #[command(visible_alias = "up")]
    Upgrade(upgrade::UpgradeArgs),
    /// Refresh the repository databases
    Sync(sync::SyncArgs),
    /// Every pending update in one table: repository, AUR and VCS packages,
    /// runtimes with a newer release in their line, and runtime versions
    /// this project asks for that are not installed, with the known
    /// vulnerabilities each fixes. Exit code 0: nothing pending; 100:
    /// something is
    Outdated(outdated::OutdatedArgs),
    /// Print the shell code that keeps runtime versions in step with the
    /// directory: add `eval "$(omg hook bash)"` to ~/.bashrc (zsh: ~/.zshrc;
    /// fish: `omg hook fish | source` in config.fish)
    Hook(hook::HookArgs),
    /// What the shell hook runs before each prompt (prints shell code)
    #[command(hide = true)]
    HookEnv(hook::HookArgs),
    /// Use a runtime version: install it if needed, then make it the default
    /// (or, with --local, the version of this directory via .tool-versions;
    /// rust-toolchain.toml for Rust)
    Use(runtime::UseArgs),
    /// Remove an installed runtime version
    Uninstall(runtime::UninstallArgs),
    /// Show which runtime program (node, npm, python, …) runs here
    Which(runtime::WhichArgs),
    /// Run a command with a runtime version first on PATH: omg exec node@18 -- node -v
    Exec(runtime::ExecArgs),
    /// Show the runtime versions this directory asks for, and which file asks
    Current(current::CurrentArgs),
    /// Manage the omgd daemon
    Daemon(daemon::DaemonArgs),
    /// The recorded transactions (package changes, and your runtime
    /// changes), newest first
    History(history::HistoryArgs),
    /// Remove orphaned dependencies, old package files from the cache and
    /// AUR build leftovers (all three without a flag)
    Clean(clean::CleanArgs),
    /// The environment lockfile (omg.lock): capture the machine's packages,
    /// runtimes and version files, check the machine against it (exit 1 on
    /// drift), or install what it lacks
    Env(env::EnvArgs),
    /// A terminal dashboard: pending updates, the ones fixing known
    /// vulnerabilities, runtimes and the history, keyboard only (Tab or 1-4
    /// switch tabs, arrows or j/k move, r reloads, q quits)
    Dash,
    /// Keep a package from being upgraded: PKG holds it at the installed
    /// version, PKG@VERSION lets it move only within that version line
    /// (Arch: skipped as IgnorePkg skips; Debian: a dpkg hold)
    Pin(pin::PinArgs),
    /// Why a package is installed: the chains from packages installed on
    /// request down to it (--reverse: everything that depends on it)
    Why(graph::WhyArgs),
    /// The largest installed packages and what removing each would free
    /// (it and the dependencies nothing else needs)
    Size(graph::SizeArgs),
    /// When a package was installed, by whom, with which command and why,
    /// and every change since (from the history)
    Blame(blame::BlameArgs),
    /// Revert a recorded transaction (the newest when no ID is given): the
    /// versions it replaced or removed come back (from the package cache, a
    /// repository, or on Arch the Arch Linux Archive), what it installed
    /// goes; for a runtime change, the default version goes back too
    Rollback(rollback::RollbackArgs),
    /// Install another version of an installed package: VERSION, or one
    /// chosen from those the repositories, the package cache and (Arch) the
    /// Arch Linux Archive have; the install reason is kept, the history
    /// records it (omg rollback undoes it), and a pin is offered
    Downgrade(downgrade::DowngradeArgs),
    /// Check the installation (daemon, units, D-Bus, polkit, shell hook,
    /// PATH, data directory, database, status file) and say what to fix
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script: omg completions bash > /etc/bash_completion.d/omg
    Completions(shipping::CompletionsArgs),
    /// Package names starting with PREFIX (what the completions call)
    #[command(name = "__complete", hide = true)]
    Complete(shipping::CompleteArgs),
    /// Print the omg(1) man page (roff)
    #[command(name = "__manpage", hide = true)]
    Manpage,
    /// Check a file's detached OpenPGP signature against trusted keys
    /// (--sig), or its Sigstore provenance bundle (--bundle, with the
    /// signer's --identity and --issuer)
    Verify(verify::VerifyArgs),
    /// Check the installed packages against policy.toml (the system's and
    /// yours)
    Policy(audit::PolicyArgs),
    /// Installed packages affected by known vulnerabilities (the
    /// distribution's security tracker); `verify` and `log` for the audit
    /// logs of every package transaction and runtime change
    Audit(audit::AuditArgs),
}

impl Command {
    /// Runs the command: one line each, to the module that owns it.
    async fn run(&self, session: &mut Session, verbose: bool) -> Result<u8, Failure> {
        match self {
            Command::Search(args) => search::run(session, args).await,
            Command::Info(args) => info::run(session, args).await,
            Command::List(args) => list::run(session, args).await,
            Command::Status(args) => status::run(session, args).await,
            Command::Install(args) => install::run(session, args).await,
            Command::Remove(args) => remove::run(session, args).await,
            Command::Upgrade(args) => upgrade::run(session, args).await,
            Command::Sync(args) => sync::run(session, args).await,
            Command::Outdated(args) => outdated::run(session, args).await,
            Command::Hook(args) => hook::run(args),
            Command::HookEnv(args) => hook::run_env(args),
            Command::Use(args) => runtime::use_command(session, args).await,
            Command::Uninstall(args) => runtime::uninstall_command(args),
            Command::Which(args) => runtime::run_which(&args.program),
            Command::Exec(args) => runtime::run_exec(&args.spec, &args.command),
            Command::Current(args) => current::run(args.json),
            Command::Daemon(args) => daemon::run(args, verbose).await,
            Command::History(args) => history::run(args),
            Command::Clean(args) => clean::run(session, args).await,
            Command::Env(args) => env::run(session, args).await,
            Command::Dash => dash::run(session).await,
            Command::Pin(args) => pin::run(session, args).await,
            Command::Why(args) => graph::why(session, args).await,
            Command::Size(args) => graph::size(session, args).await,
            Command::Blame(args) => blame::run(session, args).await,
            Command::Rollback(args) => rollback::run(session, args).await,
            Command::Downgrade(args) => downgrade::run(session, args).await,
            Command::Doctor(args) => doctor::run(session, args.json).await,
            Command::Completions(args) => shipping::completions(&args.shell),
            Command::Complete(args) => shipping::complete(session, &args.prefix).await,
            Command::Manpage => shipping::print_manpage(),
            Command::Verify(args) => verify::run(session, args).await,
            Command::Policy(args) => audit::run_policy(session, args).await,
            Command::Audit(args) => audit::run(session, args).await,
        }
    }
}

/// Runs `omg` with the process's arguments.
pub fn run() -> ExitCode {
    // The prompt path: no argument parser, no runtime.
    let mut args = std::env::args();
    if args.nth(1).as_deref() == Some("hook-env")
        && let Some(shell) = args.next()
        && args.next().is_none()
    {
        return hook::hook_env(&shell);
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
        let database = [
            ("OMG_ALPM_ROOT", cli.root.as_deref()),
            ("OMG_ALPM_DBPATH", cli.dbpath.as_deref()),
            ("OMG_PACMAN_CONF", cli.pacman_conf.as_deref()),
        ];
        let mut session = Session::new(cli.verbose, cli.no_daemon, cli.backend, database);
        let result = cli.command.run(&mut session, cli.verbose).await;
        session.close().await;
        result.unwrap_or_else(|failure| {
            report(&failure);
            failure.code
        })
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
