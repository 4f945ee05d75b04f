//! `omg rollback [ID] [--user] [--partial]`: reverts a recorded
//! transaction. System transactions go to omgd, which reads its own
//! history and finds the old versions (cache, repositories, the Arch Linux
//! Archive). Runtime changes are the user's own: the versions they removed
//! are installed again (through omgd, verified as any install), the
//! default (`current`) goes back to what it was, and the versions they
//! installed are removed — in that order, so a failure part-way leaves the
//! default pointing at an installed version.

use clap::Args;

use super::runtime::{record, remove_version, versions_dir};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, print_json};
use crate::config::Paths;
use crate::history::{self, Entry, History, PackageChange};
use crate::ipc::protocol::ErrorKind;
use crate::runtime::version_file::Runtime;
use crate::runtime::versions;
use crate::transaction::{TransactionAction, TransactionOptions, TransactionReport};

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

pub async fn run(session: &mut Session, args: &RollbackArgs) -> Result<u8, Failure> {
    let user_entries = match versions_dir() {
        Ok(versions) => versions::history(&versions).entries().unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let newest_user = history::pick(&user_entries, None);
    let runtime_entry = if args.user {
        Some(history::pick(&user_entries, args.id).ok_or_else(|| {
            Failure::new(
                match args.id {
                    Some(id) => format!(
                        "there is no runtime change {id} in your history (omg history lists them)"
                    ),
                    None => "your history has no runtime change to roll back".into(),
                },
                EXIT_FAILURE,
            )
        })?)
    } else if args.id.is_none() {
        // The newest of both histories (the system's may be unreadable:
        // omgd then picks its newest).
        let system = History::in_data_dir(&Paths::system().data_dir)
            .entries()
            .unwrap_or_default();
        match (history::pick(&system, None), newest_user) {
            (Some(s), Some(u)) if u.time > s.time => Some(u),
            (None, Some(u)) => Some(u),
            _ => None,
        }
    } else {
        None
    };
    match runtime_entry {
        // Made together (`omg upgrade --all`): undone together.
        Some(entry) if entry.group.is_some() => {
            let group = entry.group.clone().unwrap_or_default();
            let system = rollback_system(session, args, None, Some(group.clone())).await?;
            if system.is_none() && !args.tx.json {
                println!("group {group} changed no system package");
            }
            rollback_user_group(session, args, &group, &user_entries).await
        }
        Some(entry) => rollback_runtimes(session, entry, args).await,
        None => {
            let report = rollback_system(session, args, args.id, None).await?;
            // A transaction of a group: omgd took its group back; the
            // runtime changes of the group go back too.
            match report.and_then(|r| r.group) {
                Some(group) if !history::in_group(&user_entries, &group).is_empty() => {
                    rollback_user_group(session, args, &group, &user_entries).await
                }
                _ => Ok(EXIT_OK),
            }
        }
    }
}

/// Rolls back system transactions through omgd: transaction `id` (the
/// newest without one), or the transactions of `group`. `None` when the
/// group has no system transaction.
async fn rollback_system(
    session: &mut Session,
    args: &RollbackArgs,
    id: Option<u64>,
    group: Option<String>,
) -> Result<Option<TransactionReport>, Failure> {
    let of_group = group.is_some();
    let action = TransactionAction::Rollback {
        id,
        partial: args.partial,
        steps: Vec::new(),
        archive: None,
        group,
    };
    let outcome =
        super::transaction::run_report(session, action, TransactionOptions::default(), &args.tx)
            .await;
    match outcome {
        Ok(report) => {
            if args.tx.json {
                print_json(&report)?;
            }
            Ok(Some(report))
        }
        Err(f) if of_group && f.kind == Some(ErrorKind::EmptyGroup) => Ok(None),
        Err(f) => Err(f),
    }
}

/// The user's runtime changes of `group`, undone as one.
async fn rollback_user_group(
    session: &mut Session,
    args: &RollbackArgs,
    group: &str,
    user: &[Entry],
) -> Result<u8, Failure> {
    let part = history::in_group(user, group);
    let Some(newest) = part.first() else {
        return Ok(EXIT_OK);
    };
    // One change holding the group's, newest first: undone in that order.
    let together = Entry {
        command: format!("{} (group {group})", newest.command),
        changes: part.iter().flat_map(|e| e.changes.clone()).collect(),
        ..(*newest).clone()
    };
    rollback_runtimes(session, &together, args).await
}

/// One thing to do to a runtime.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
enum Step {
    /// Install this version again.
    Reinstall { runtime: String, version: String },
    /// Point the default at this version (none: no default).
    Switch {
        runtime: String,
        version: Option<String>,
    },
    /// Remove this version.
    Uninstall { runtime: String, version: String },
}

/// What reverting `entry` means, in the order it is done.
fn steps(entry: &Entry, installed: &dyn Fn(&str, &str) -> bool) -> Vec<Step> {
    let mut reinstall = Vec::new();
    let mut switch = Vec::new();
    let mut uninstall = Vec::new();
    for c in &entry.changes {
        let runtime = c.name.clone();
        match (c.change.as_str(), &c.old, &c.new) {
            ("switch", old, _) => {
                if let Some(v) = old
                    && !installed(&runtime, v)
                {
                    push_once(
                        &mut reinstall,
                        Step::Reinstall {
                            runtime: runtime.clone(),
                            version: v.clone(),
                        },
                    );
                }
                switch.push(Step::Switch {
                    runtime,
                    version: old.clone(),
                });
            }
            ("install", None, Some(v)) => uninstall.push(Step::Uninstall {
                runtime,
                version: v.clone(),
            }),
            ("remove", Some(v), None) => push_once(
                &mut reinstall,
                Step::Reinstall {
                    runtime,
                    version: v.clone(),
                },
            ),
            _ => {}
        }
    }
    reinstall
        .into_iter()
        .chain(switch)
        .chain(uninstall)
        .collect()
}

fn push_once(steps: &mut Vec<Step>, step: Step) {
    if !steps.contains(&step) {
        steps.push(step);
    }
}

fn describe(step: &Step) -> String {
    match step {
        Step::Reinstall { runtime, version } => format!("install {runtime} {version} again"),
        Step::Switch {
            runtime,
            version: Some(v),
        } => format!("make {runtime} {v} the default again"),
        Step::Switch {
            runtime,
            version: None,
        } => format!("leave {runtime} without a default, as before"),
        Step::Uninstall { runtime, version } => format!("remove {runtime} {version}"),
    }
}

async fn rollback_runtimes(
    session: &mut Session,
    entry: &Entry,
    args: &RollbackArgs,
) -> Result<u8, Failure> {
    let versions = versions_dir()?;
    let installed = |runtime: &str, version: &str| {
        let dir = versions.join(runtime).join(version);
        dir.is_dir() && !dir.is_symlink()
    };
    let plan = steps(entry, &installed);
    let json = args.tx.json;
    if !json {
        println!(
            "rolling back your runtime change {} ({})",
            entry.id, entry.command
        );
        for step in &plan {
            println!("  {}", describe(step));
        }
    }
    if plan.is_empty() {
        return Err(Failure::new(
            format!("change {} has nothing to roll back", entry.id),
            EXIT_FAILURE,
        ));
    }
    if args.tx.dry_run {
        if json {
            print_json(
                &serde_json::json!({ "id": entry.id, "scope": "user", "steps": plan, "committed": false }),
            )?;
        } else {
            println!("dry run: nothing was changed");
        }
        return Ok(EXIT_OK);
    }
    if !args.tx.noconfirm && !super::transaction::confirm("Proceed with the rollback?", true).await
    {
        return Err(Failure::new(
            "the rollback was cancelled; nothing was changed",
            EXIT_FAILURE,
        ));
    }

    // 1. The versions to come back, before anything else changes.
    let mut reinstalled = Vec::new();
    let mut missing = Vec::new();
    for step in &plan {
        let Step::Reinstall { runtime, version } = step else {
            continue;
        };
        let Some(which) = Runtime::from_name(runtime) else {
            missing.push(format!("{runtime} {version}"));
            continue;
        };
        match super::runtime::install(session, which, version, false, false).await {
            Ok(_) => reinstalled.push((which, version.clone())),
            Err(e) => {
                eprintln!("omg: {runtime} {version}: {}", e.message);
                missing.push(format!("{runtime} {version}"));
            }
        }
    }
    if !missing.is_empty() {
        let accept = args.partial
            || (!args.tx.noconfirm
                && super::transaction::confirm(
                    &format!(
                        "{} cannot be installed again. Roll back the rest without them?",
                        missing.join(", ")
                    ),
                    false,
                )
                .await);
        if !accept {
            // Nothing may stay changed: what came back goes again.
            for (which, version) in &reinstalled {
                let _ = remove_version(&versions, *which, version);
            }
            return Err(Failure::new(
                format!(
                    "these versions are no longer available: {}; nothing was changed (--partial rolls back the rest)",
                    missing.join(", ")
                ),
                EXIT_FAILURE,
            ));
        }
    }

    // 2. The defaults, then 3. what the change installed.
    let mut changes: Vec<PackageChange> = Vec::new();
    for step in &plan {
        match step {
            Step::Reinstall { .. } => {}
            Step::Switch { runtime, version } => {
                let Some(which) = Runtime::from_name(runtime) else {
                    continue;
                };
                let before = versions::current(&versions, runtime);
                match version {
                    Some(v) if installed(runtime, v) => {
                        crate::runtime::install::set_current(&versions, runtime, v)
                            .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
                    }
                    // Not back (accepted as partial): the default stays.
                    Some(_) => continue,
                    None => versions::clear_current(&versions, runtime)
                        .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?,
                }
                if before != *version {
                    changes.push(versions::change(
                        which.as_str(),
                        "switch",
                        before.as_deref(),
                        version.as_deref(),
                    ));
                }
            }
            Step::Uninstall { runtime, version } => {
                let Some(which) = Runtime::from_name(runtime) else {
                    continue;
                };
                if !installed(runtime, version) {
                    println!("{runtime} {version} is not installed any more");
                    continue;
                }
                let was_current = remove_version(&versions, which, version)?;
                changes.push(versions::change(runtime, "remove", Some(version), None));
                if was_current {
                    changes.push(versions::change(runtime, "switch", Some(version), None));
                }
            }
        }
    }
    record(
        &versions,
        &format!("rollback {}", entry.id),
        changes.clone(),
    );
    if json {
        print_json(&serde_json::json!({
            "id": entry.id,
            "scope": "user",
            "steps": plan,
            "changes": changes,
            "committed": true,
        }))?;
    } else {
        println!("runtime change {} is rolled back", entry.id);
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(changes: Vec<PackageChange>) -> Entry {
        Entry {
            id: 1,
            time: 0,
            user: "me".into(),
            command: "use node 22".into(),
            changes,
            result: "ok".into(),
            config_files: Vec::new(),
            group: None,
        }
    }

    fn c(kind: &str, old: Option<&str>, new: Option<&str>) -> PackageChange {
        versions::change("node", kind, old, new)
    }

    #[test]
    fn a_switch_to_a_new_install_goes_back_then_the_install_goes() {
        let e = entry(vec![
            c("install", None, Some("22.1.0")),
            c("switch", Some("20.9.0"), Some("22.1.0")),
        ]);
        let plan = steps(&e, &|_, v| v == "20.9.0");
        assert_eq!(
            plan,
            [
                Step::Switch {
                    runtime: "node".into(),
                    version: Some("20.9.0".into())
                },
                Step::Uninstall {
                    runtime: "node".into(),
                    version: "22.1.0".into()
                },
            ]
        );
    }

    #[test]
    fn an_uninstalled_default_comes_back_before_it_is_the_default_again() {
        let e = entry(vec![
            c("remove", Some("20.9.0"), None),
            c("switch", Some("20.9.0"), None),
        ]);
        let plan = steps(&e, &|_, _| false);
        assert_eq!(
            plan,
            [
                Step::Reinstall {
                    runtime: "node".into(),
                    version: "20.9.0".into()
                },
                Step::Switch {
                    runtime: "node".into(),
                    version: Some("20.9.0".into())
                },
            ]
        );
    }
}
