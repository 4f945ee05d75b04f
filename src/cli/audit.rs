//! `omg audit`: the installed packages known vulnerabilities affect (from
//! the advisories omgd keeps), and `omg audit verify` / `omg audit log`:
//! the hash-chained audit logs of the system (package transactions, in
//! the system's data directory) and of this user (runtime installs and
//! switches), checked or shown.

use std::io::Write;

use super::output::{self, Cell, NAME, Table, VERSION, WARN};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::audit::{AuditLog, Record};
use crate::config::Paths;
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::{Args, Subcommand};

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
    /// Check the chain of the system's and this user's audit logs
    ///
    /// Exit status 1, naming the first bad line, when a chain is broken.
    Verify {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// A project's pinned dependencies, checked against OSV
    ///
    /// The lockfiles package-lock.json, Cargo.lock, poetry.lock,
    /// requirements.txt and go.sum, and the Go toolchains omg installed.
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

/// `omg policy check`.
pub async fn run_policy(session: &mut Session, args: &PolicyArgs) -> Result<u8, Failure> {
    match &args.action {
        PolicyAction::Check { json } => run_policy_check(session, *json).await,
    }
}

/// `omg audit` and its subcommands.
pub async fn run(session: &mut Session, args: &AuditArgs) -> Result<u8, Failure> {
    match &args.action {
        None => run_scan(session, args.refresh, args.json).await,
        Some(AuditAction::Verify { json }) => run_verify(*json),
        Some(AuditAction::Project { dir, refresh, json }) => {
            run_project(session, dir.as_deref(), *refresh, *json).await
        }
        Some(AuditAction::Sbom { format, vulns }) => {
            super::sbom::run(session, format, *vulns).await
        }
        Some(AuditAction::Log { since, json }) => run_log(since.as_deref(), *json),
    }
}

/// `omg audit [--refresh] [--json]`.
pub async fn run_scan(session: &mut Session, refresh: bool, json: bool) -> Result<u8, Failure> {
    let ResponseBody::Audit(report) = session.request(RequestBody::Audit { refresh }).await? else {
        return Err(unexpected());
    };
    if json {
        print_json(&report)?;
        return Ok(EXIT_OK);
    }
    let now = crate::unix_now();
    if let Some(note) = &report.note {
        eprintln!("omg: {note}");
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "advisories: {}, fetched {}",
        report.source,
        output::human_time(report.fetched_at, now)
    )?;
    if report.stale {
        writeln!(
            out,
            "{WARN}the advisories are old: `omg audit --refresh` fetches them again{WARN:#}"
        )?;
    }
    if report.findings.is_empty() {
        writeln!(
            out,
            "no installed package is affected by a known vulnerability"
        )?;
        return Ok(EXIT_OK);
    }
    let table = Table {
        headers: vec![
            "PACKAGE",
            "VERSION",
            "SEVERITY",
            "ADVISORIES",
            "FIXED IN",
            "UPGRADE",
        ],
        caps: vec![30, 24, 9, 50, 24, 8],
        rows: report
            .findings
            .iter()
            .map(|f| {
                let ids: Vec<String> = f
                    .advisories
                    .iter()
                    .map(|a| {
                        if a.cves.is_empty() || a.cves == [a.id.clone()] {
                            a.id.clone()
                        } else {
                            format!("{} ({})", a.id, a.cves.join(" "))
                        }
                    })
                    .collect();
                vec![
                    Cell::new(&f.name, NAME),
                    Cell::plain(&f.version),
                    Cell::plain(f.severity.as_str()),
                    Cell::plain(ids.join(", ")),
                    Cell::new(f.fixed.as_deref().unwrap_or("not yet"), VERSION),
                    Cell::plain(if f.fixable_now { "fixes" } else { "-" }),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    let fixable = report.findings.iter().filter(|f| f.fixable_now).count();
    writeln!(
        out,
        "{} affected package{}; an upgrade available now fixes {fixable}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" }
    )?;
    Ok(EXIT_OK)
}

/// `omg audit project [DIR]`: the pinned dependencies of the project's
/// lockfiles, and the Go toolchains omg installed, against OSV.
pub async fn run_project(
    session: &mut Session,
    dir: Option<&std::path::Path>,
    refresh: bool,
    json: bool,
) -> Result<u8, Failure> {
    use crate::security::{lockfiles, osv::Query};
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().map_err(|e| {
            Failure::new(
                format!("cannot tell the current directory: {e}"),
                EXIT_FAILURE,
            )
        })?,
    };
    let (mut pins, problems) = lockfiles::read_dir(&dir);
    for p in &problems {
        eprintln!("omg: {p}");
    }
    // Go toolchains: OSV tracks the standard library as Go/stdlib.
    if let Ok(paths) = Paths::user() {
        let versions = crate::runtime::versions_dir(&paths);
        for v in super::runtime::installed(&versions, crate::runtime::version_file::Runtime::Go) {
            pins.push((
                Query {
                    ecosystem: "Go".into(),
                    name: "stdlib".into(),
                    version: v.clone(),
                },
                versions.join("go").join(v),
            ));
        }
    }
    if pins.is_empty() {
        return Err(Failure::new(
            format!(
                "nothing to check in {}: no {} here, and no Go toolchain installed",
                dir.display(),
                lockfiles::NAMES.join(", ")
            ),
            EXIT_FAILURE,
        ));
    }
    let queries: Vec<Query> = pins.iter().map(|(q, _)| q.clone()).collect();
    let ResponseBody::Osv(report) = session
        .request(RequestBody::Osv { queries, refresh })
        .await?
    else {
        return Err(unexpected());
    };
    if json {
        let rows: Vec<serde_json::Value> = report
            .findings
            .iter()
            .map(|f| {
                let files: Vec<String> = pins
                    .iter()
                    .filter(|(q, _)| *q == f.query)
                    .map(|(_, p)| p.display().to_string())
                    .collect();
                serde_json::json!({
                    "ecosystem": f.query.ecosystem,
                    "name": f.query.name,
                    "version": f.query.version,
                    "files": files,
                    "vulns": f.vulns,
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "checked": pins.len(),
            "fetched_at": report.fetched_at,
            "note": report.note,
            "findings": rows,
        }))?;
        return Ok(EXIT_OK);
    }
    if let Some(note) = &report.note {
        eprintln!("omg: {note}");
    }
    let mut out = anstream::stdout().lock();
    if report.findings.is_empty() {
        writeln!(
            out,
            "none of the {} pinned versions is affected by a known vulnerability",
            pins.len()
        )?;
        return Ok(EXIT_OK);
    }
    let table = Table {
        headers: vec![
            "ECOSYSTEM",
            "PACKAGE",
            "VERSION",
            "VULNERABILITY",
            "SEVERITY",
            "FIXED IN",
        ],
        caps: vec![10, 40, 16, 40, 9, 16],
        rows: report
            .findings
            .iter()
            .flat_map(|f| {
                f.vulns.iter().map(move |v| {
                    let id = match v.aliases.iter().find(|a| a.starts_with("CVE-")) {
                        Some(cve) => format!("{} ({cve})", v.id),
                        None => v.id.clone(),
                    };
                    vec![
                        Cell::plain(&f.query.ecosystem),
                        Cell::new(&f.query.name, NAME),
                        Cell::plain(&f.query.version),
                        Cell::plain(id),
                        Cell::plain(if v.severity.is_empty() {
                            "-"
                        } else {
                            &v.severity
                        }),
                        Cell::new(v.fixed.as_deref().unwrap_or("-"), VERSION),
                    ]
                })
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    writeln!(
        out,
        "{} of {} pinned versions affected (OSV, answers from {})",
        report.findings.len(),
        pins.len(),
        output::human_time(report.fetched_at, crate::unix_now())
    )?;
    Ok(EXIT_OK)
}

/// `omg policy check [--json]`: exit 1 when something breaks a rule.
pub async fn run_policy_check(session: &mut Session, json: bool) -> Result<u8, Failure> {
    let ResponseBody::PolicyCheck(violations) = session.request(RequestBody::PolicyCheck).await?
    else {
        return Err(unexpected());
    };
    if json {
        print_json(&violations)?;
    } else if violations.is_empty() {
        println!("every installed package complies with the policy");
    } else {
        for v in &violations {
            println!("{v}");
        }
    }
    Ok(if violations.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// The logs to look at: the system's, and this user's when it is another
/// file.
fn logs() -> Vec<(&'static str, AuditLog)> {
    let system = AuditLog::in_data_dir(&Paths::system().data_dir);
    let mut logs = vec![("system", system.clone())];
    if let Ok(user) = Paths::user() {
        let user = AuditLog::in_data_dir(&user.data_dir);
        if user.path() != system.path() {
            logs.push(("user", user));
        }
    }
    logs
}

/// Checks every log's chain; exit 1 naming the first bad line of a broken
/// one.
pub fn run_verify(json: bool) -> Result<u8, Failure> {
    let mut broken = false;
    let mut report = Vec::new();
    for (scope, log) in logs() {
        let outcome = log.verify();
        broken |= outcome.is_err();
        let (entries, problem) = match &outcome {
            Ok(records) => (records.len(), None),
            Err(e) => (0, Some(e.to_string())),
        };
        report.push(serde_json::json!({
            "scope": scope,
            "path": log.path().display().to_string(),
            "entries": entries,
            "intact": problem.is_none(),
            "problem": problem,
        }));
        if !json {
            match outcome {
                Ok(records) => println!(
                    "{scope} log {}: {} entr{}, chain intact",
                    log.path().display(),
                    records.len(),
                    if records.len() == 1 { "y" } else { "ies" }
                ),
                Err(e) => eprintln!("omg: {scope} log is broken: {e}"),
            }
        }
    }
    if json {
        print_json(&report)?;
    }
    Ok(if broken { EXIT_FAILURE } else { EXIT_OK })
}

/// `--since`: a date (`2026-11-01`), a time (`2026-11-01 12:00:00`) or a
/// span back from now (`2h`, `7days`).
fn parse_since(text: &str, now: u64) -> Result<u64, Failure> {
    let bad = || {
        Failure::new(
            format!("{text:?} is neither a date (2026-11-01) nor a span (7days, 2h)"),
            super::EXIT_USAGE,
        )
    };
    if let Ok(span) = humantime::parse_duration(text) {
        return Ok(now.saturating_sub(span.as_secs()));
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        format!("{}Z", text.replace(' ', "T"))
    };
    let when = humantime::parse_rfc3339(&full).map_err(|_| bad())?;
    Ok(when
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_secs())
}

/// Shows the entries of every log (oldest first), from `since` on.
pub fn run_log(since: Option<&str>, json: bool) -> Result<u8, Failure> {
    let now = crate::unix_now();
    let from = since.map(|s| parse_since(s, now)).transpose()?.unwrap_or(0);
    let mut rows: Vec<(&str, Record)> = Vec::new();
    let mut problems = Vec::new();
    for (scope, log) in logs() {
        match log.verify() {
            Ok(records) => rows.extend(records.into_iter().map(|r| (scope, r))),
            Err(e) => problems.push(format!("{scope} log: {e}")),
        }
    }
    rows.retain(|(_, r)| r.time >= from);
    rows.sort_by_key(|(_, r)| r.time);
    for p in &problems {
        eprintln!("omg: {p}");
    }
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(scope, r)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["scope"] = serde_json::Value::from(*scope);
                v
            })
            .collect();
        print_json(&list)?;
    } else if rows.is_empty() {
        println!(
            "nothing recorded{}",
            if since.is_some() { " since then" } else { "" }
        );
    } else {
        let table = Table {
            headers: vec!["TIME", "SCOPE", "USER", "ACTION", "WHAT"],
            caps: vec![40, 6, 16, 16, 60],
            rows: rows
                .iter()
                .map(|(scope, r)| {
                    vec![
                        Cell::plain(output::human_time(r.time, now)),
                        Cell::plain(*scope),
                        Cell::plain(&r.user),
                        Cell::new(&r.action, NAME),
                        Cell::plain(&r.subject),
                    ]
                })
                .collect(),
        };
        let mut out = anstream::stdout().lock();
        table.print(&mut out, output::terminal_width())?;
        out.flush()?;
    }
    Ok(if problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_times_and_spans() {
        let now = 1_800_000_000;
        assert_eq!(parse_since("2h", now).unwrap(), now - 7200);
        assert_eq!(parse_since("7days", now).unwrap(), now - 7 * 86_400);
        assert_eq!(parse_since("2026-11-01", now).unwrap(), 1_793_491_200);
        assert_eq!(
            parse_since("2026-11-01 12:00:00", now).unwrap(),
            1_793_491_200 + 43_200
        );
        assert!(parse_since("yesterday-ish", now).is_err());
    }
}
