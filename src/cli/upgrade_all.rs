//! `omg upgrade --all`: every pending update — the repositories, the AUR,
//! VCS packages, the installed runtimes (within each version's line) and
//! the versions the project here asks for — shown as one plan in
//! sections, the updates that fix known vulnerabilities first, and asked
//! about once. The parts are then carried out in that order
//! (repositories, AUR builds, runtimes), each recorded in the history
//! under one group, which `omg rollback` undoes as a unit.

use super::aur::{self, AurOptions};
use super::output::{self, NAME, VERSION, WARN};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, TxArgs, outdated, print_json};
use crate::ipc::client::ClientError;
use crate::ipc::protocol::{ErrorKind, RequestBody};
use crate::outdated::{Report, Row, Source};
use crate::runtime::version_file::Runtime;
use crate::transaction::{Change, TransactionAction, TransactionOptions};

/// The plan's sections, in the order shown.
const SECTIONS: [&str; 6] = [
    "security",
    "repositories",
    "AUR",
    "VCS packages",
    "runtimes",
    "the project here asks for",
];

/// The section a row is shown in.
fn section(row: &Row) -> &'static str {
    if !row.fixes.is_empty() {
        return SECTIONS[0];
    }
    match row.source {
        Source::Repository => SECTIONS[1],
        Source::Aur => SECTIONS[2],
        Source::Devel => SECTIONS[3],
        Source::Runtime => SECTIONS[4],
        Source::Project => SECTIONS[5],
    }
}

/// A runtime version installed by the upgrade.
#[derive(Debug, serde::Serialize)]
struct RuntimeStep {
    runtime: String,
    from: Option<String>,
    to: String,
    default: bool,
}

/// What `--json` prints.
#[derive(Debug, Default, serde::Serialize)]
struct Outcome<'r> {
    group: String,
    plan: Vec<&'r Row>,
    held: Vec<&'r Row>,
    changes: Vec<Change>,
    runtimes: Vec<RuntimeStep>,
    committed: bool,
}

pub async fn run(session: &mut Session, args: &TxArgs, remove_make: bool) -> Result<u8, Failure> {
    let group = crate::history::new_group("upgrade");
    if !args.dry_run {
        // The repository lists first, so the plan is today's (on Arch
        // this fetches the news too).
        let quiet = TxArgs {
            noconfirm: args.noconfirm,
            dry_run: false,
            json: args.json,
        };
        super::transaction::run_report(
            session,
            TransactionAction::Sync { force: false },
            TransactionOptions::default(),
            &quiet,
        )
        .await?;
    }
    let report = pending(session, true).await?;
    let (held, mut plan): (Vec<&Row>, Vec<&Row>) = report.rows.iter().partition(|r| r.pinned);
    plan.sort_by_key(|r| SECTIONS.iter().position(|s| *s == section(r)));
    let mut outcome = Outcome {
        group: group.clone(),
        plan: plan.clone(),
        held,
        ..Outcome::default()
    };
    show(&outcome, args.json);
    if plan.is_empty() {
        return finish(&outcome, args.json, "nothing to upgrade");
    }
    if args.dry_run {
        // The repositories' exact plan, against a private copy of the
        // lists (the outline has them as the last refresh found them).
        if plan.iter().any(|r| r.source == Source::Repository) {
            step(args.json, "the repository upgrade, exactly:");
            let report = super::transaction::run_report(
                session,
                TransactionAction::Upgrade,
                TransactionOptions::default(),
                &TxArgs {
                    noconfirm: true,
                    dry_run: true,
                    json: args.json,
                },
            )
            .await?;
            outcome.changes = report.changes;
        }
        return finish(&outcome, args.json, "dry run: nothing was changed");
    }
    if !args.noconfirm
        && !super::transaction::confirm_beside_json("Upgrade all of this?", true, args.json).await
    {
        return Err(Failure::new(
            "the upgrade was cancelled; nothing was changed",
            EXIT_FAILURE,
        ));
    }
    let options = TransactionOptions {
        group: Some(group.clone()),
        plan_accepted: true,
        ..TransactionOptions::default()
    };
    let part_args = TxArgs {
        noconfirm: args.noconfirm,
        dry_run: false,
        json: args.json,
    };

    // 1. The repositories: one full upgrade (the security fixes among
    // them), as the package manager wants it.
    if plan.iter().any(|r| r.source == Source::Repository) {
        step(args.json, "upgrading the repository packages");
        let report = super::transaction::run_report(
            session,
            TransactionAction::Upgrade,
            options.clone(),
            &part_args,
        )
        .await?;
        outcome.changes.extend(report.changes);
    }

    // 2. The AUR and VCS packages, rebuilt (the security fixes first).
    let targets: Vec<String> = plan
        .iter()
        .filter(|r| matches!(r.source, Source::Aur | Source::Devel))
        .map(|r| format!("aur/{}", r.name))
        .collect();
    if !targets.is_empty() {
        step(args.json, "building the AUR packages");
        if let Some(aur_plan) = aur::plan(session, targets).await? {
            let extra = AurOptions {
                remove_make,
                devel: true,
            };
            let changes =
                aur::execute_changes(session, aur_plan, options.clone(), &part_args, &extra)
                    .await?;
            outcome.changes.extend(changes);
        }
    }

    // 3. The runtimes: the newest release in each installed line (the
    // default follows when it was the default), and what the project
    // asks for.
    let runtimes: Vec<&&Row> = plan
        .iter()
        .filter(|r| matches!(r.source, Source::Runtime | Source::Project))
        .collect();
    let versions = if runtimes.is_empty() {
        std::path::PathBuf::new()
    } else {
        super::runtime::versions_dir()?
    };
    for row in runtimes {
        let Some(runtime) = Runtime::from_name(&row.name) else {
            continue;
        };
        if runtime == Runtime::Rust && super::rustup::delegate().is_some() {
            step(args.json, "rust is rustup's: rustup update upgrades it");
            continue;
        }
        let default = row.installed.is_some()
            && crate::runtime::versions::current(&versions, runtime.as_str()) == row.installed;
        step(
            args.json,
            &format!("installing {} {}", runtime.as_str(), row.available),
        );
        let (version, _) = super::runtime::install_in_group(
            session,
            runtime,
            &row.available,
            default,
            false,
            Some(&group),
            args.json,
        )
        .await?;
        outcome.runtimes.push(RuntimeStep {
            runtime: runtime.as_str().into(),
            from: row.installed.clone(),
            to: version,
            default,
        });
    }
    outcome.committed = true;
    finish(
        &outcome,
        args.json,
        &format!("everything is upgraded (omg rollback undoes it as one: group {group})"),
    )
}

/// Every pending update, the upstreams asked now when `refresh` (and
/// allowed), else as the last refresh found them.
async fn pending(session: &mut Session, refresh: bool) -> Result<Report, Failure> {
    let asked = session.request(RequestBody::Outdated { refresh }).await;
    let answer = match asked {
        Err(ClientError::Remote(e)) if refresh && e.kind == ErrorKind::NotAuthorized => {
            super::report_warning(
                "not allowed to ask the upstreams now: the AUR, VCS and runtime updates are as the last refresh found them",
            );
            session
                .request(RequestBody::Outdated { refresh: false })
                .await?
        }
        other => other?,
    };
    outdated::with_project(answer)
}

fn step(json: bool, text: &str) {
    super::progress::Renderer::new(json).step(text);
}

/// The plan, section by section, for people (JSON prints it at the end).
fn show(outcome: &Outcome, json: bool) {
    if json {
        return;
    }
    for name in SECTIONS {
        let rows: Vec<&&Row> = outcome.plan.iter().filter(|r| section(r) == name).collect();
        if rows.is_empty() {
            continue;
        }
        anstream::println!("{}{name}{:#}", output::LABEL, output::LABEL);
        for row in rows {
            anstream::println!("  {}", line(row));
        }
    }
    if !outcome.held.is_empty() {
        anstream::println!("{}held back (omg pin){:#}", output::LABEL, output::LABEL);
        for row in &outcome.held {
            anstream::println!("  {}", line(row));
        }
    }
}

fn line(row: &Row) -> String {
    let mut text = format!(
        "{NAME}{}{NAME:#} {} -> {VERSION}{}{VERSION:#}  [{}]",
        row.name,
        row.installed.as_deref().unwrap_or("(not installed)"),
        row.available,
        row.source.as_str()
    );
    if !row.fixes.is_empty() {
        let ids: Vec<&str> = row.fixes.iter().map(|f| f.id.as_str()).collect();
        text.push_str(&format!("  {WARN}fixes {}{WARN:#}", ids.join(", ")));
    }
    text
}

fn finish(outcome: &Outcome, json: bool, said: &str) -> Result<u8, Failure> {
    if json {
        print_json(outcome)?;
    } else {
        println!("{said}");
    }
    Ok(EXIT_OK)
}
