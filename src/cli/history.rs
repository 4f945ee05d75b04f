//! `omg history [--limit N] [--json]` and `omg history show ID`: the
//! recorded transactions of the system (package changes) and of this user
//! (runtime changes), newest first.

use std::io::Write;

use super::output::{self, Cell, NAME, Table};
use super::{EXIT_FAILURE, EXIT_OK, Failure, print_json};
use crate::config::Paths;
use crate::history::{Entry, History};
use clap::{Args, Subcommand};

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

pub fn run(args: &HistoryArgs) -> Result<u8, Failure> {
    match &args.action {
        None => run_list(args.limit, args.json),
        Some(HistoryAction::Show { id, user, json }) => run_show(*id, *user, *json),
    }
}

fn histories() -> Vec<(&'static str, History)> {
    let system = History::in_data_dir(&Paths::system().data_dir);
    let mut out = vec![("system", system.clone())];
    if let Ok(user) = Paths::user() {
        out.push(("user", History::runtimes_in(&user.data_dir)));
    }
    out
}

/// Every entry of each history readable here, by scope.
pub(super) fn all_entries() -> Vec<(&'static str, Vec<Entry>)> {
    histories()
        .into_iter()
        .map(|(scope, h)| (scope, h.entries().unwrap_or_default()))
        .collect()
}

fn all() -> Result<Vec<(&'static str, Entry)>, Failure> {
    let mut rows = Vec::new();
    for (scope, history) in histories() {
        let entries = history
            .entries()
            .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
        rows.extend(entries.into_iter().map(|e| (scope, e)));
    }
    rows.sort_by(|a, b| b.1.time.cmp(&a.1.time).then(b.1.id.cmp(&a.1.id)));
    Ok(rows)
}

fn json_of(scope: &str, entry: &Entry) -> serde_json::Value {
    let mut v = serde_json::to_value(entry).unwrap_or_default();
    v["scope"] = serde_json::Value::from(scope);
    v
}

/// The command as the list shows it: with the command it was part of.
fn command_of(entry: &Entry) -> String {
    match entry.group.as_deref() {
        Some(group) if group.starts_with("upgrade-") => {
            format!("{} (upgrade --all)", entry.command)
        }
        Some(_) => format!("{} (grouped)", entry.command),
        None => entry.command.clone(),
    }
}

pub fn run_list(limit: usize, json: bool) -> Result<u8, Failure> {
    let mut rows = all()?;
    rows.truncate(limit);
    if json {
        let list: Vec<serde_json::Value> = rows.iter().map(|(s, e)| json_of(s, e)).collect();
        print_json(&list)?;
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        println!("no transaction recorded yet");
        return Ok(EXIT_OK);
    }
    let now = crate::unix_now();
    let table = Table {
        headers: vec![
            "ID", "SCOPE", "TIME", "USER", "COMMAND", "CHANGES", "RESULT",
        ],
        caps: vec![6, 6, 40, 16, 40, 8, 40],
        rows: rows
            .iter()
            .map(|(scope, e)| {
                vec![
                    Cell::plain(e.id.to_string()),
                    Cell::plain(*scope),
                    Cell::plain(output::human_time(e.time, now)),
                    Cell::plain(&e.user),
                    Cell::new(command_of(e), NAME),
                    Cell::plain(e.changes.len().to_string()),
                    Cell::plain(&e.result),
                ]
            })
            .collect(),
    };
    let mut out = anstream::stdout().lock();
    table.print(&mut out, output::terminal_width())?;
    out.flush()?;
    Ok(EXIT_OK)
}

/// `omg history show ID [--user]`.
pub fn run_show(id: u64, user: bool, json: bool) -> Result<u8, Failure> {
    let scope = if user { "user" } else { "system" };
    let found = all()?
        .into_iter()
        .find(|(s, e)| *s == scope && e.id == id)
        .ok_or_else(|| {
            Failure::new(
                format!("no {scope} transaction {id} (omg history lists them)"),
                EXIT_FAILURE,
            )
        })?;
    let (scope, entry) = found;
    if json {
        print_json(&json_of(scope, &entry))?;
        return Ok(EXIT_OK);
    }
    let now = crate::unix_now();
    println!("transaction {} ({scope})", entry.id);
    println!("time     {}", output::human_time(entry.time, now));
    println!("user     {}", entry.user);
    println!("command  {}", entry.command);
    println!("result   {}", entry.result);
    if let Some(group) = &entry.group {
        println!("group    {group} (omg rollback undoes the group as one)");
    }
    for c in &entry.changes {
        println!(
            "  {:<10} {:<30} {} -> {}",
            c.change,
            c.name,
            c.old.as_deref().unwrap_or("-"),
            c.new.as_deref().unwrap_or("-")
        );
    }
    Ok(EXIT_OK)
}
