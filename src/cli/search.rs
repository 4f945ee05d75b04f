//! `omg search`: ranked matches as a table, or JSON.

use std::io::Write;

use super::output::{self, Cell, MARK, NAME, REPO, Table, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, TxArgs, print_json, unexpected};
use crate::ipc::protocol::{MAX_QUERY_LEN, RequestBody, ResponseBody, SearchRequest, Sources};
use crate::model::{SearchHit, SearchResults};
use clap::Args;

/// How many results a search shows unless told.
const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for; several words must all match
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Show at most N results (0: all)
    #[arg(short = 'n', long, value_name = "N", default_value_t = DEFAULT_LIMIT)]
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

/// Where `--aur` and `--repo` say to look.
fn sources(args: &SearchArgs) -> Sources {
    if args.aur {
        Sources::Aur
    } else if args.repo {
        Sources::Repositories
    } else {
        Sources::All
    }
}

pub async fn run(session: &mut Session, args: &SearchArgs) -> Result<u8, Failure> {
    if args.interactive {
        let query = args.query.join(" ");
        let options = crate::transaction::TransactionOptions::default();
        let extra = super::aur::AurOptions::default();
        let tx = TxArgs::default();
        return super::pick::run(session, &query, sources(args), options, &tx, &extra).await;
    }
    let query = args.query.join(" ");
    let trimmed = query.trim();
    if trimmed.is_empty() {
        return Err(Failure::new("the search query is empty", EXIT_USAGE));
    }
    if trimmed.len() > MAX_QUERY_LEN || trimmed.chars().any(char::is_control) {
        return Err(Failure::new(
            format!("the search query must be at most {MAX_QUERY_LEN} bytes of printable text"),
            EXIT_USAGE,
        ));
    }
    let body = RequestBody::Search(SearchRequest {
        query: trimmed.to_string(),
        limit: args.limit,
        installed_only: args.installed,
        sources: sources(args),
    });
    let ResponseBody::Search(results) = session.request(body).await? else {
        return Err(unexpected());
    };
    show(&results, args.json, args.installed)
}

/// The query `omg search WORDS…` sends with no options, if it is a valid
/// one (`cli/fast.rs` answers those without the argument parser).
pub fn plain_request(words: &[&str]) -> Option<SearchRequest> {
    let query = words.join(" ");
    let trimmed = crate::index::rank::validate_query(&query).ok()?;
    Some(SearchRequest {
        query: trimmed.to_string(),
        limit: DEFAULT_LIMIT,
        installed_only: false,
        sources: Sources::All,
    })
}

/// Prints the results as a table (or JSON); the exit status says whether
/// anything matched.
pub fn show(results: &SearchResults, json: bool, installed: bool) -> Result<u8, Failure> {
    if json {
        print_json(results)?;
    } else {
        let width = output::terminal_width();
        let table = Table {
            headers: vec!["NAME", "VERSION", "REPOSITORY", "STATUS", "DESCRIPTION"],
            caps: vec![40, 28, 28, 36],
            rows: results.hits.iter().map(row).collect(),
        };
        table.print_stdout(width)?;
        for note in &results.notes {
            let mut err = anstream::stderr();
            let _ = writeln!(
                err,
                "{}note:{} {note}",
                output::WARN.render(),
                output::WARN.render_reset()
            );
        }
        let shown = results.hits.len() as u32;
        if shown < results.total {
            let mut err = anstream::stderr();
            let _ = writeln!(
                err,
                "{}{shown} of {} matches shown; use --limit 0 to see them all{}",
                output::DIM.render(),
                results.total,
                output::DIM.render_reset()
            );
        }
    }
    if results.hits.is_empty() {
        if !json {
            let scope = if installed { "installed " } else { "" };
            eprintln!("no {scope}packages match {:?}", results.query);
        }
        return Ok(EXIT_FAILURE);
    }
    Ok(EXIT_OK)
}

fn row(hit: &SearchHit) -> Vec<Cell> {
    let mut marks: Vec<String> = Vec::new();
    match &hit.installed_version {
        None => {}
        Some(v) if *v == hit.version => marks.push("installed".into()),
        Some(v) => marks.push(format!("installed {v}")),
    }
    if let Some(aur) = &hit.aur {
        marks.push(format!("+{} ~{:.2}", aur.votes, aur.popularity));
        if aur.out_of_date.is_some() {
            marks.push("out of date".into());
        }
        if aur.maintainer.is_none() {
            marks.push("orphan".into());
        }
    }
    let status = marks.join(", ");
    vec![
        Cell::new(&hit.name, NAME),
        Cell::new(&hit.version, VERSION),
        Cell::new(&hit.repository, REPO),
        Cell::new(status, MARK),
        Cell::plain(&hit.description),
    ]
}
