//! `omg blame PKG`: when a package was installed, by whom, with which
//! command, and why (on request, or as a dependency of what that command
//! asked for) — from the system's history — and every change since.
//! Packages installed before omg kept history get what the package
//! database remembers (the install time and reason).

use std::io::Write;

use super::output::{self, NAME};
use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::config::Paths;
use crate::history::History;
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::Args;

#[derive(Debug, Args)]
pub struct BlameArgs {
    pub package: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// One recorded change to the package.
#[derive(Debug, serde::Serialize)]
struct Event {
    transaction: u64,
    time: u64,
    user: String,
    command: String,
    change: String,
    old: Option<String>,
    new: Option<String>,
    /// Installed as a dependency (of `with`, what the command asked for).
    as_dependency: bool,
    with: Vec<String>,
}

pub async fn run(session: &mut Session, args: &BlameArgs) -> Result<u8, Failure> {
    let (name, json) = (args.package.as_str(), args.json);
    let entries = History::in_data_dir(&Paths::system().data_dir)
        .entries()
        .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    let events: Vec<Event> = entries
        .iter()
        .filter(|e| e.result == "ok")
        .filter_map(|e| {
            let c = e.changes.iter().find(|c| c.name == name)?;
            let with = if c.as_dependency {
                e.changes
                    .iter()
                    .filter(|o| !o.as_dependency && o.change == "install")
                    .map(|o| o.name.clone())
                    .collect()
            } else {
                Vec::new()
            };
            Some(Event {
                transaction: e.id,
                time: e.time,
                user: e.user.clone(),
                command: e.command.clone(),
                change: c.change.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                as_dependency: c.as_dependency,
                with,
            })
        })
        .collect();
    let node = match session.request(RequestBody::Graph).await? {
        ResponseBody::Graph(nodes) => nodes.into_iter().find(|n| n.name == name),
        _ => return Err(unexpected()),
    };
    if events.is_empty() && node.is_none() {
        return Err(Failure::new(
            format!("{name} is not installed, and the history does not mention it"),
            EXIT_FAILURE,
        ));
    }
    if json {
        print_json(&serde_json::json!({
            "name": name,
            "installed": node.as_ref().map(|n| &n.version),
            "explicit": node.as_ref().map(|n| n.explicit),
            "install_date": node.as_ref().and_then(|n| n.install_date),
            "events": events,
        }))?;
        return Ok(EXIT_OK);
    }
    let now = crate::unix_now();
    let mut out = anstream::stdout().lock();
    let installed_by_omg = events.iter().rposition(|e| e.change == "install");
    match installed_by_omg {
        Some(i) => {
            let e = &events[i];
            let why = if e.as_dependency && !e.with.is_empty() {
                format!("as a dependency of {}", e.with.join(", "))
            } else if e.as_dependency {
                "as a dependency".to_string()
            } else {
                "on request".to_string()
            };
            writeln!(
                out,
                "{NAME}{name}{NAME:#} was installed {} by {} with `omg {}` (transaction {}), {why}",
                output::human_time(e.time, now),
                e.user,
                e.command,
                e.transaction
            )?;
        }
        None => {
            if let Some(n) = &node {
                let when = n.install_date.map_or(
                    "at a time the package database does not record".to_string(),
                    |t| output::human_time(t, now),
                );
                let why = if n.explicit {
                    "on request"
                } else {
                    "as a dependency"
                };
                writeln!(
                    out,
                    "{NAME}{name}{NAME:#} was installed {when}, {why}, before omg's history records it"
                )?;
            }
        }
    }
    let later = match installed_by_omg {
        Some(i) => &events[i + 1..],
        None => &events[..],
    };
    for e in later {
        writeln!(
            out,
            "  {} {} → {}  {} by {} (`omg {}`, transaction {})",
            e.change,
            e.old.as_deref().unwrap_or("-"),
            e.new.as_deref().unwrap_or("-"),
            output::human_time(e.time, now),
            e.user,
            e.command,
            e.transaction
        )?;
    }
    if let Some(n) = &node {
        writeln!(
            out,
            "now: {} ({})",
            n.version,
            if n.explicit {
                "explicitly installed"
            } else {
                "a dependency"
            }
        )?;
    } else {
        writeln!(out, "now: not installed")?;
    }
    Ok(EXIT_OK)
}
