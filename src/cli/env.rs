//! `omg env capture|check|sync [--file omg.lock]`: the environment
//! lockfile. Capture writes the machine's state (explicitly installed
//! packages, installed runtimes and the default of each, the project's
//! version files); check compares the machine with it (exit 1 on drift,
//! and the drift flag goes into the status file `omg-fast` reads); sync
//! installs what the lock has and the machine lacks.

use std::path::{Path, PathBuf};

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, print_json, unexpected};
use crate::envlock::{self, Drift, Lock};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::runtime::version_file::Runtime;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(subcommand)]
    pub action: EnvAction,
}

#[derive(Debug, Subcommand)]
pub enum EnvAction {
    /// Write the lockfile from this machine
    ///
    /// Explicitly installed packages (with their source; AUR packages with
    /// their base and commit), installed runtime versions (with the checksum
    /// of what was installed) and defaults, the project's version files, and
    /// a fingerprint.
    Capture {
        /// The lockfile
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        /// Print the lock as JSON too
        #[arg(long)]
        json: bool,
    },
    /// Compare the machine with the lockfile
    ///
    /// Exit status 1 and the differences when they differ (the drift flag
    /// goes into the status file).
    Check {
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Install what the lockfile has and the machine lacks
    ///
    /// Packages and runtime versions, and the runtime defaults set back;
    /// nothing is removed.
    Sync {
        #[arg(long, default_value = "omg.lock")]
        file: PathBuf,
        #[command(flatten)]
        tx: TxArgs,
    },
}

pub async fn run(session: &mut Session, args: &EnvArgs) -> Result<u8, Failure> {
    match &args.action {
        EnvAction::Capture { file, json } => capture(session, file, *json).await,
        EnvAction::Check { file, json } => check(session, file, *json).await,
        EnvAction::Sync { file, tx } => sync(session, file, tx).await,
    }
}

/// The machine as a lock, with the version files found from `project`.
async fn machine(session: &mut Session, project: &Path) -> Result<Lock, Failure> {
    let backend = match session.request(RequestBody::Status).await? {
        ResponseBody::Status(s) => s.backend.as_str().to_string(),
        _ => return Err(unexpected()),
    };
    // The graph knows where each installed version comes from.
    let nodes = match session.request(RequestBody::Graph).await? {
        ResponseBody::Graph(nodes) => nodes,
        _ => return Err(unexpected()),
    };
    let paths =
        crate::config::Paths::user().map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    Ok(envlock::machine::machine(&backend, nodes, &paths, project))
}

fn read(file: &Path) -> Result<Lock, Failure> {
    Lock::read(file).map_err(|e| {
        let hint = match e {
            envlock::LockError::Read { .. } => " (omg env capture writes one)",
            _ => "",
        };
        Failure::new(format!("{e}{hint}"), EXIT_FAILURE)
    })
}

/// `omg env capture`.
pub async fn capture(session: &mut Session, file: &Path, json: bool) -> Result<u8, Failure> {
    let lock = machine(session, &envlock::machine::project_of(file)).await?;
    let tmp = file.with_extension("lock.tmp");
    std::fs::write(&tmp, lock.to_toml())
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| {
            Failure::new(
                format!("cannot write {}: {e}", file.display()),
                EXIT_FAILURE,
            )
        })?;
    flag_drift(false);
    if json {
        print_json(&lock)?;
    } else {
        println!(
            "{}: {} packages, {} runtime versions, {} version files ({})",
            file.display(),
            lock.packages.len(),
            lock.runtimes.len(),
            lock.files.len(),
            lock.fingerprint
        );
    }
    Ok(EXIT_OK)
}

/// Sets (or clears) the drift flag in the status file prompts read.
fn flag_drift(drifted: bool) {
    let Ok(paths) = crate::config::Paths::user() else {
        return;
    };
    let path = paths.status_file();
    let _ = omg_status::update(&path, |status| {
        if drifted {
            status.flags |= omg_status::FLAG_RUNTIME_DRIFT;
        } else {
            status.flags &= !omg_status::FLAG_RUNTIME_DRIFT;
        }
    });
}

async fn drift(session: &mut Session, file: &Path) -> Result<(Lock, Vec<Drift>), Failure> {
    let lock = read(file)?;
    let now = machine(session, &envlock::machine::project_of(file)).await?;
    let found = envlock::compare(&lock, &now);
    Ok((lock, found))
}

/// `omg env check`: exit 1 on drift.
pub async fn check(session: &mut Session, file: &Path, json: bool) -> Result<u8, Failure> {
    let (lock, found) = drift(session, file).await?;
    flag_drift(!found.is_empty());
    if json {
        print_json(&serde_json::json!({
            "file": file.display().to_string(),
            "fingerprint": lock.fingerprint,
            "drift": found,
        }))?;
    } else if found.is_empty() {
        println!(
            "the machine matches {} ({})",
            file.display(),
            lock.fingerprint
        );
    } else {
        println!(
            "the machine differs from {} (captured {}):",
            file.display(),
            lock.captured
        );
        for d in &found {
            println!("  {d}");
        }
    }
    Ok(if found.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// `omg env sync`: installs the packages and runtime versions the lock has
/// and the machine lacks (or has at another version), and sets the
/// runtime defaults back. Extra packages are left alone; changed version
/// files are reported.
pub async fn sync(session: &mut Session, file: &Path, args: &TxArgs) -> Result<u8, Failure> {
    let (lock, found) = drift(session, file).await?;
    let mut targets = Vec::new();
    let mut runtimes = Vec::new();
    let mut defaults = Vec::new();
    for d in &found {
        match d {
            Drift::MissingPackage { name, version }
            | Drift::PackageVersion {
                name,
                locked: version,
                ..
            } => {
                let locked = lock.packages.iter().find(|p| &p.name == name);
                let target = match (lock.backend.as_str(), locked.map(|p| p.source.as_str())) {
                    ("apt", _) => format!("{name}={version}"),
                    (_, Some("aur")) => format!("aur/{name}"),
                    _ => name.clone(),
                };
                targets.push(target);
            }
            Drift::MissingRuntime { name, version } => {
                runtimes.push((name.clone(), version.clone()))
            }
            Drift::RuntimeDefault { name, locked, .. } => {
                defaults.push((name.clone(), locked.clone()))
            }
            Drift::ExtraPackage { .. } | Drift::ExtraRuntime { .. } => {}
            other => eprintln!("omg: {other} (sync leaves that to you)"),
        }
    }
    if targets.is_empty() && runtimes.is_empty() && defaults.is_empty() {
        println!(
            "nothing to install: the machine has everything {} locks",
            file.display()
        );
        flag_drift(
            found
                .iter()
                .any(|d| !matches!(d, Drift::ExtraPackage { .. } | Drift::ExtraRuntime { .. })),
        );
        return Ok(EXIT_OK);
    }
    if args.dry_run {
        for t in &targets {
            println!("would install {t}");
        }
        for (name, version) in &runtimes {
            println!("would install {name} {version}");
        }
        for (name, version) in &defaults {
            println!("would make {name} {version} the default");
        }
        return Ok(EXIT_OK);
    }
    if !targets.is_empty() {
        let options = crate::transaction::TransactionOptions::default();
        let extra = super::aur::AurOptions {
            remove_make: false,
            devel: false,
        };
        super::aur::install(session, targets, options, args, &extra).await?;
    }
    for (name, version) in &runtimes {
        let Some(runtime) = Runtime::from_name(name) else {
            continue;
        };
        let make_default = defaults.iter().any(|(n, v)| n == name && v == version);
        super::runtime::install(session, runtime, version, make_default, false).await?;
        println!("{name} {version} is installed");
    }
    let versions = super::runtime::versions_dir()?;
    for (name, version) in &defaults {
        if versions.join(name).join(version).is_dir() {
            crate::runtime::install::set_current(&versions, name, version)
                .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
            println!("{name} {version} is the default again");
        }
    }
    // What is left.
    let (_, left) = drift(session, file).await?;
    let missing: Vec<&Drift> = left
        .iter()
        .filter(|d| !matches!(d, Drift::ExtraPackage { .. } | Drift::ExtraRuntime { .. }))
        .collect();
    flag_drift(!missing.is_empty());
    if missing.is_empty() {
        println!("the machine has everything {} locks", file.display());
        Ok(EXIT_OK)
    } else {
        for d in &missing {
            eprintln!("omg: still: {d}");
        }
        Ok(EXIT_FAILURE)
    }
}
