//! `omg outdated [--json] [--security] [--refresh]`: every pending update
//! in one table — from omgd's report (repositories, AUR, VCS packages,
//! runtimes) plus the runtime versions this directory's project asks for
//! that are not installed. Exit code 0 when nothing is pending, 100 when
//! something is.

use std::io::Write;

use super::output::{self, Cell, NAME, Table, VERSION, WARN};
use super::{EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::outdated::{Kind, Report, Row, Source};
use crate::security::vulns::Severity;
use clap::Args;

#[derive(Debug, Args)]
pub struct OutdatedArgs {
    /// Only the updates that fix known vulnerabilities
    #[arg(long)]
    pub security: bool,
    /// Ask the AUR, VCS upstreams and runtime release lists now
    ///
    /// Otherwise the answers of the last refresh are used, without the
    /// network.
    #[arg(long)]
    pub refresh: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// The exit code when updates are pending (as `dnf check-update`).
pub const EXIT_PENDING: u8 = 100;

/// The versions the project here asks for that are not installed.
pub fn project_rows() -> Vec<Row> {
    let Ok(here) = std::env::current_dir() else {
        return Vec::new();
    };
    let Ok(paths) = crate::config::Paths::user() else {
        return Vec::new();
    };
    let versions = crate::runtime::versions_dir(&paths);
    crate::runtime::version_file::detect(&here)
        .into_iter()
        .filter(|(runtime, wanted)| {
            crate::runtime::hook::installed_match(&versions, *runtime, &wanted.version).is_none()
        })
        .map(|(runtime, wanted)| Row {
            source: Source::Project,
            name: runtime.as_str().into(),
            installed: None,
            available: wanted.version.clone(),
            kind: Kind::Missing,
            origin: wanted.file.display().to_string(),
            fixes: Vec::new(),
            pinned: false,
        })
        .collect()
}

/// The whole report: omgd's, with the project's rows.
pub async fn report(session: &mut Session, refresh: bool) -> Result<Report, Failure> {
    let answer = session.request(RequestBody::Outdated { refresh }).await?;
    with_project(answer)
}

/// omgd's report in `answer`, with the project's rows, ranked.
pub fn with_project(answer: ResponseBody) -> Result<Report, Failure> {
    let ResponseBody::Outdated(mut report) = answer else {
        return Err(unexpected());
    };
    report.rows.extend(project_rows());
    crate::outdated::rank(&mut report.rows);
    Ok(report)
}

fn severity_style(severity: Severity) -> anstyle::Style {
    match severity {
        Severity::Critical | Severity::High => output::ERROR,
        Severity::Medium => WARN,
        _ => anstyle::Style::new(),
    }
}

pub async fn run(session: &mut Session, args: &OutdatedArgs) -> Result<u8, Failure> {
    let (json, security, refresh) = (args.json, args.security, args.refresh);
    let mut report = report(session, refresh).await?;
    if security {
        report.rows.retain(|r| !r.fixes.is_empty());
    }
    let code = if report.rows.is_empty() {
        EXIT_OK
    } else {
        EXIT_PENDING
    };
    if json {
        print_json(&report)?;
        return Ok(code);
    }
    let now = crate::unix_now();
    for checked in &report.checked {
        let (what, verb) = match checked.source {
            Source::Repository => ("the repository lists", "were"),
            Source::Aur => ("the AUR", "was"),
            Source::Devel => ("the VCS packages' upstreams", "were"),
            Source::Runtime => ("the runtime release lists", "were"),
            Source::Project => continue,
        };
        match (&checked.error, checked.at) {
            (Some(e), _) => eprintln!("omg: {what}: the last check failed ({e})"),
            (None, None) => {
                eprintln!("omg: {what} {verb} not checked yet (omg outdated --refresh checks now)")
            }
            (None, Some(at)) if now.saturating_sub(at) > 7 * 86_400 => {
                eprintln!(
                    "omg: {what} {verb} last checked {}",
                    output::human_time(at, now)
                )
            }
            _ => {}
        }
    }
    let mut out = anstream::stdout().lock();
    if report.rows.is_empty() {
        let what = if security {
            "no pending update fixes a known vulnerability"
        } else {
            "everything is up to date"
        };
        writeln!(out, "{what}")?;
        return Ok(code);
    }
    let table = Table {
        headers: vec!["SOURCE", "NAME", "INSTALLED", "AVAILABLE", "KIND", "FIXES"],
        caps: vec![8, 32, 24, 24, 10, 50],
        rows: report
            .rows
            .iter()
            .map(|r| {
                let fixes = r
                    .fixes
                    .iter()
                    .map(|f| format!("{} ({})", f.id, f.severity.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![
                    Cell::plain(r.source.as_str()),
                    Cell::new(&r.name, NAME),
                    Cell::plain(r.installed.as_deref().unwrap_or("-")),
                    Cell::new(&r.available, VERSION),
                    Cell::plain(if r.pinned {
                        format!("{}, pinned", r.kind.as_str())
                    } else {
                        r.kind.as_str().to_string()
                    }),
                    Cell::new(
                        fixes,
                        r.worst().map_or(anstyle::Style::new(), severity_style),
                    ),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    let fixing = report.rows.iter().filter(|r| !r.fixes.is_empty()).count();
    writeln!(
        out,
        "{} pending update{}, {fixing} fixing known vulnerabilities",
        report.rows.len(),
        if report.rows.len() == 1 { "" } else { "s" }
    )?;
    out.flush()?;
    Ok(code)
}

/// `omg upgrade --security`: refresh the repository databases, then
/// upgrade only the packages whose pending update fixes a known
/// vulnerability (and what they need), keeping how each was installed.
pub async fn upgrade_security(
    session: &mut Session,
    mut options: crate::transaction::TransactionOptions,
    args: &super::TxArgs,
) -> Result<u8, Failure> {
    use crate::transaction::TransactionAction;
    if !args.dry_run {
        let sync = super::TxArgs {
            noconfirm: args.noconfirm,
            dry_run: false,
            json: false,
        };
        super::transaction::run(
            session,
            TransactionAction::Sync { force: false },
            crate::transaction::TransactionOptions::default(),
            &sync,
        )
        .await?;
    }
    let report = report(session, false).await?;
    let targets: Vec<String> = report
        .rows
        .iter()
        .filter(|r| r.source == Source::Repository && !r.fixes.is_empty())
        .filter(|r| {
            if r.pinned {
                eprintln!(
                    "omg: {} is pinned: its fix ({}) is not installed (omg pin --unpin {} allows it)",
                    r.name, r.available, r.name
                );
            }
            !r.pinned
        })
        .map(|r| r.name.clone())
        .collect();
    if targets.is_empty() {
        match &report.advisories {
            None => eprintln!(
                "omg: no vulnerability data has been fetched yet (omg audit --refresh fetches it)"
            ),
            Some(_) => println!("no pending update fixes a known vulnerability"),
        }
        return Ok(EXIT_OK);
    }
    if !args.json {
        println!("updates that fix known vulnerabilities:");
        for r in report.rows.iter().filter(|r| targets.contains(&r.name)) {
            let ids: Vec<&str> = r.fixes.iter().map(|f| f.id.as_str()).collect();
            println!(
                "  {} {} -> {} ({})",
                r.name,
                r.installed.as_deref().unwrap_or("-"),
                r.available,
                ids.join(", ")
            );
        }
    }
    options.upgrade_only = true;
    super::transaction::run(
        session,
        TransactionAction::Install { targets },
        options,
        args,
    )
    .await
}
