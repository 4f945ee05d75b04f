//! The `omg` command line: argument parsing (clap), one module per command
//! family, and the mapping from failures to messages and exit codes. The CLI
//! never touches a package database itself: every query goes to `omgd`.

mod audit;
mod aur;
mod aur_build;
mod blame;
mod clean;
mod current;
mod daemon;
mod dash;
mod direct;
mod doctor;
mod downgrade;
mod env;
mod failure;
mod fast;
mod files;
mod graph;
mod history;
mod hook;
mod info;
mod install;
mod list;
mod merge;
mod news;
mod not_found;
mod outdated;
pub mod output;
mod pacman_ops;
mod pick;
mod pin;
mod progress;
mod remove;
mod restart;
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
mod tray;
mod upgrade;
mod upgrade_all;
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

/// What `omg --help` says before the commands (`-h` says only the usage,
/// so that it fits a screen).
const LONG_ABOUT: &str = "One package manager for system packages, the AUR and language runtimes

omg searches, inspects, lists, installs, removes and upgrades the packages \
of this system's package database (apt on Debian and Ubuntu, libalpm on Arch, with the AUR), \
manages language runtimes (node, python, go, rust, ruby, java, bun) per directory, and \
audits what is installed. Queries are answered by omgd from an index kept in sync with \
the database, so they are fast; transactions run in an omgd running as root (the system \
instance, or one started through sudo). pacman's operations (-S, -Ss, -Syu, -R, -Q, …) \
are accepted as the omg commands they are. Without a command, omg shows omg status.";

/// Exit statuses, as `omg --help` and omg(1) list them.
const EXIT_STATUS: &str = "Exit status:
  0    success
  1    a failure: a package not found, the database failing, a transaction failing or declined
  2    a usage error: bad arguments, a malformed query, a question a script must answer
  100  omg outdated: updates are pending
  130  interrupted (Ctrl-C)";

#[derive(Debug, Parser)]
#[command(
    name = "omg",
    version,
    about = "One package manager for system packages, the AUR and language runtimes",
    long_about = LONG_ABOUT,
    help_template = "{before-help}{usage-heading} {usage}  (more: omg --help, omg COMMAND -h)\n\
        {all-args}{after-help}",
    before_long_help = LONG_ABOUT,
    override_usage = "omg [OPTIONS] [COMMAND] | omg -S|-R|-Q|-U [ARGS]...",
    after_long_help = EXIT_STATUS,
    disable_help_subcommand = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// Print help (--help: in detail)
    #[arg(short = 'h', action = clap::ArgAction::HelpShort, global = true, hide_short_help = true)]
    pub help_short: (),
    /// Print help in detail
    #[arg(long = "help", action = clap::ArgAction::HelpLong, global = true, hide_short_help = true)]
    pub help_long: (),
    /// Print version
    #[arg(short = 'V', long, action = clap::ArgAction::Version, hide_short_help = true)]
    pub version: (),
    /// When to use colours (NO_COLOR and CLICOLOR_FORCE are honoured too)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = ColorWhen::Auto,
        hide_short_help = true
    )]
    pub color: ColorWhen,
    /// Explain what happens behind the scenes (on stderr)
    #[arg(short, long, global = true, hide_short_help = true)]
    pub verbose: bool,
    /// Do not use a running daemon: answer through a one-shot `omgd --stdio`
    #[arg(long, global = true, hide_short_help = true)]
    pub no_daemon: bool,
    /// The package database to use, instead of the one this system runs
    #[arg(long, global = true, value_enum, hide_short_help = true)]
    pub backend: Option<BackendChoice>,
    /// Arch: the installation root (as pacman's --root)
    #[arg(long, global = true, value_name = "DIR", hide_short_help = true)]
    pub root: Option<PathBuf>,
    /// Arch: the database directory (as pacman's --dbpath)
    #[arg(long, global = true, value_name = "DIR", hide_short_help = true)]
    pub dbpath: Option<PathBuf>,
    /// Arch: the pacman.conf to read (as pacman's --config)
    #[arg(long, global = true, value_name = "FILE", hide_short_help = true)]
    pub pacman_conf: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// Summarise the package database (what `omg` alone shows)
    Status(status::StatusArgs),
    /// Which installed package owns a file, directory or command
    Owns(files::OwnsArgs),
    /// The files of a package (not installed: from the file index)
    Files(files::FilesArgs),
    /// Which repository packages ship a command or a file
    Provides(files::ProvidesArgs),
    /// Install packages, package files or runtimes
    ///
    /// Targets are names, repo/name, groups, provided names, package files,
    /// AUR packages (Arch) or runtimes (node 20, python@3.12).
    #[command(visible_alias = "add")]
    Install(install::InstallArgs),
    /// Remove installed packages
    #[command(visible_alias = "rm")]
    Remove(remove::RemoveArgs),
    /// Refresh the repository databases, then upgrade every package
    #[command(visible_alias = "up")]
    Upgrade(upgrade::UpgradeArgs),
    /// Refresh the repository databases (and on Arch the AUR's package list)
    Sync(sync::SyncArgs),
    /// Every pending update, with the vulnerabilities each fixes
    ///
    /// One table: repository, AUR and VCS packages, runtimes with a newer
    /// release in their line, and runtime versions this project asks for
    /// that are not installed, with the known vulnerabilities each fixes.
    /// Exit status 0: nothing pending; 100: something is.
    Outdated(outdated::OutdatedArgs),
    /// Print the shell hook that keeps runtimes in step with the directory
    ///
    /// Add `eval "$(omg hook bash)"` to ~/.bashrc (zsh: ~/.zshrc; fish:
    /// `omg hook fish | source` in config.fish).
    Hook(hook::HookArgs),
    /// What the shell hook runs before each prompt (prints shell code)
    #[command(hide = true)]
    HookEnv(hook::HookArgs),
    /// Install a runtime version if needed and make it the default
    ///
    /// With --local, the version of this directory instead (written to
    /// .tool-versions; rust-toolchain.toml for Rust).
    Use(runtime::UseArgs),
    /// Remove an installed runtime version
    Uninstall(runtime::UninstallArgs),
    /// Show which runtime program (node, npm, python, …) runs here
    Which(runtime::WhichArgs),
    /// Run a command with a runtime version first on PATH
    ///
    /// For example: omg exec node@18 -- node -v
    Exec(runtime::ExecArgs),
    /// Show the runtime versions this directory asks for, and which file asks
    Current(current::CurrentArgs),
    /// Manage the omgd daemon
    Daemon(daemon::DaemonArgs),
    /// The recorded transactions, newest first
    ///
    /// Package changes (the system's history) and your runtime changes.
    History(history::HistoryArgs),
    /// Remove orphans, old package files and AUR build leftovers
    ///
    /// Orphaned dependencies, old package files from the cache and AUR
    /// build leftovers: all three without a flag.
    Clean(clean::CleanArgs),
    /// Capture, check or restore the environment lockfile (omg.lock)
    ///
    /// Capture the machine's packages, runtimes and version files, check the
    /// machine against it (exit 1 on drift), or install what it lacks.
    Env(env::EnvArgs),
    /// A terminal dashboard of updates, vulnerabilities, runtimes, history
    ///
    /// Keyboard only: Tab or 1-4 switch tabs, arrows or j/k move, r reloads,
    /// q quits.
    Dash,
    /// A tray icon for the desktop: pending updates, security, upgrade
    ///
    /// A StatusNotifierItem following omgd's D-Bus signals (no polling);
    /// its menu shows the pending updates, upgrades through polkit,
    /// refreshes. --enable starts it with the desktop session.
    Tray(tray::TrayArgs),
    /// Keep a package from being upgraded
    ///
    /// PKG holds it at the installed version, PKG@VERSION lets it move only
    /// within that version line (Arch: skipped as IgnorePkg skips; Debian: a
    /// dpkg hold).
    Pin(pin::PinArgs),
    /// Merge the config files upgrades left (.pacnew, .dpkg-dist, …)
    ///
    /// Each file a transaction left beside a config file (recorded in the
    /// history) is shown as a diff, then kept, taken or merged three ways
    /// against the packaged original from the package cache ($MERGETOOL
    /// CURRENT BASE NEW, else git merge-file).
    Merge(merge::MergeArgs),
    /// The news to read: Arch's since the last upgrade, Debian's it brought
    ///
    /// On Arch the Arch Linux news published since the last upgrade (an
    /// upgrade shows it before its plan and, when an item needs manual
    /// intervention or names a package it changes, asks with no as the
    /// default); on Debian the NEWS.Debian entries the last upgrade
    /// installed. --all: everything kept.
    News(news::NewsArgs),
    /// Restart the services that still run replaced files
    ///
    /// The units whose processes map files an upgrade replaced or deleted
    /// (needrestart's question), restarted through systemctl with polkit's
    /// io.github.omg.restart; init and login sessions only when named.
    Restart(restart::RestartArgs),
    /// Why a package is installed
    ///
    /// The chains from packages installed on request down to it (--reverse:
    /// everything that depends on it).
    Why(graph::WhyArgs),
    /// The largest installed packages and what removing each would free
    ///
    /// What removing one frees is it and the dependencies nothing else needs.
    Size(graph::SizeArgs),
    /// When, by whom, with which command and why a package was installed
    ///
    /// And every change since, from the history.
    Blame(blame::BlameArgs),
    /// Revert a recorded transaction (the newest when no ID is given)
    ///
    /// The versions it replaced or removed come back (from the package cache,
    /// a repository, or on Arch the Arch Linux Archive), what it installed
    /// goes; for a runtime change, the default version goes back too.
    Rollback(rollback::RollbackArgs),
    /// Install another version of an installed package
    ///
    /// VERSION, or one chosen from those the repositories, the package cache,
    /// (Arch) the Arch Linux Archive and (AUR) the package base's git history
    /// have (an AUR version is built from its commit); the install reason is
    /// kept, the history records it (omg rollback undoes it), and a pin is
    /// offered.
    Downgrade(downgrade::DowngradeArgs),
    /// Check the installation and say what to fix
    ///
    /// The daemon, units, D-Bus, polkit, shell hook, PATH, data directory,
    /// database and status file.
    Doctor(doctor::DoctorArgs),
    /// Print a shell completion script
    ///
    /// Package names complete from the index (on Arch, the AUR's names too
    /// once the refresh has indexed its metadata dump), as apt-cache
    /// pkgnames lists them; past 1000 names, the first ones and the last.
    ///
    /// For example: omg completions bash > /etc/bash_completion.d/omg
    Completions(shipping::CompletionsArgs),
    /// Package names starting with PREFIX (what the completions call)
    #[command(name = "__complete", hide = true)]
    Complete(shipping::CompleteArgs),
    /// Print the omg(1) man page (roff)
    #[command(name = "__manpage", hide = true)]
    Manpage,
    /// What the shell's command-not-found handler runs
    #[command(name = "__command-not-found", hide = true)]
    CommandNotFound(not_found::NotFoundArgs),
    /// Check a file's OpenPGP signature or Sigstore provenance
    ///
    /// A detached signature against trusted keys (--sig), or a Sigstore
    /// provenance bundle (--bundle, with the signer's --identity and
    /// --issuer).
    Verify(verify::VerifyArgs),
    /// Check the installed packages against policy.toml
    ///
    /// The system's policy and yours.
    Policy(audit::PolicyArgs),
    /// Installed packages with known vulnerabilities, and the audit logs
    ///
    /// Vulnerabilities from the distribution's security tracker; `verify`
    /// and `log` for the audit logs of every package transaction and runtime
    /// change.
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
            Command::Owns(args) => files::owns(session, args).await,
            Command::Files(args) => files::files(session, args).await,
            Command::Provides(args) => files::provides(session, args).await,
            Command::CommandNotFound(args) => not_found::run(session, args).await,
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
            Command::Tray(args) => tray::run(args).await,
            Command::Pin(args) => pin::run(session, args).await,
            Command::Merge(args) => merge::run(session, args).await,
            Command::News(args) => news::run(session, args).await,
            Command::Restart(args) => restart::run(session, args).await,
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
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() == Some(std::ffi::OsStr::new("hook-env"))
        && let Some(shell) = args.next().and_then(|s| s.into_string().ok())
        && args.next().is_none()
    {
        return hook::hook_env(&shell);
    }
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let exact = std::env::args_os().all(|a| a.to_str().is_some());
    if exact && let Some(code) = fast::run(argv.get(1..).unwrap_or_default()) {
        return code;
    }
    // pacman's operations, as the omg commands they are.
    let lines: Vec<Cli> = match pacman_ops::translate(&argv) {
        None => vec![Cli::parse()],
        Some(Ok(lines)) => lines.into_iter().map(Cli::parse_from).collect(),
        Some(Err(failure)) => {
            report(&failure);
            return ExitCode::from(failure.code);
        }
    };
    if let Some(first) = lines.first() {
        match first.color {
            ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
            ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
            ColorWhen::Auto => {}
        }
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
        // One after the other (`-Syu PKG`), stopping at the first failure.
        let mut code = EXIT_OK;
        for cli in lines {
            code = execute(cli).await;
            if code != EXIT_OK {
                break;
            }
        }
        code
    });
    ExitCode::from(code)
}

/// Runs one parsed command line; its exit status.
async fn execute(cli: Cli) -> u8 {
    let database = [
        ("OMG_ALPM_ROOT", cli.root.as_deref()),
        ("OMG_ALPM_DBPATH", cli.dbpath.as_deref()),
        ("OMG_PACMAN_CONF", cli.pacman_conf.as_deref()),
    ];
    let mut session = Session::new(cli.verbose, cli.no_daemon, cli.backend, database);
    // Without a command: the summary (paru and yay upgrade here; omg never
    // changes the system unasked).
    let command = cli.command.unwrap_or(Command::Status(status::StatusArgs {
        json: false,
        prometheus: false,
    }));
    let result = command.run(&mut session, cli.verbose).await;
    session.close().await;
    result.unwrap_or_else(|failure| {
        report(&failure);
        failure.code
    })
}

/// Writes `value` as pretty JSON followed by a newline.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    // Rendered whole, then written in one go: line by line, a pretty
    // document of a thousand packages is tens of thousands of writes.
    let mut rendered = serde_json::to_vec_pretty(value)
        .map_err(|e| Failure::new(format!("cannot write JSON: {e}"), EXIT_FAILURE))?;
    rendered.push(b'\n');
    output::write_stdout(&rendered)?;
    Ok(())
}

/// The response had a body of the wrong kind.
pub fn unexpected() -> Failure {
    Failure::new(
        "the daemon answered with the wrong kind of response",
        EXIT_FAILURE,
    )
}
