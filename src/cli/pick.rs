//! `omg search -i QUERY` and `omg install -i QUERY`: the ranked results
//! numbered (the best match last, next to the prompt, as yay and paru show
//! them), then a selection as they read it — numbers, ranges (`1-3`) and
//! exclusions (`^4`; exclusions alone mean "all but") — and the chosen
//! packages installed (AUR packages through the AUR build).

use std::io::Write;

use super::output::{self, NAME, REPO, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, TxArgs, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody, SearchRequest, Sources};
use crate::model::SearchHit;
use crate::transaction::TransactionOptions;

/// How the chosen hit is named to `omg install`: `aur/name` for the AUR,
/// `repo/name` for an Arch repository, the bare name elsewhere.
fn target(hit: &SearchHit) -> String {
    if hit.aur.is_some() {
        format!("aur/{}", hit.name)
    } else if !hit.repository.contains('/') && hit.repository != "local" {
        format!("{}/{}", hit.repository, hit.name)
    } else {
        hit.name.clone()
    }
}

/// Lists the hits bottom-up and reads the selection: the targets chosen,
/// in rank order; none when the user chose nothing.
fn choose(hits: &[SearchHit]) -> Result<Vec<String>, Failure> {
    let mut out = anstream::stdout().lock();
    for (i, hit) in hits.iter().enumerate().rev() {
        let installed = match &hit.installed_version {
            Some(v) if *v == hit.version => " (installed)".to_string(),
            Some(v) => format!(" (installed: {v})"),
            None => String::new(),
        };
        writeln!(
            out,
            "{:>3} {REPO}{}{REPO:#}/{NAME}{}{NAME:#} {VERSION}{}{VERSION:#}{installed}",
            i + 1,
            if hit.aur.is_some() {
                "aur"
            } else {
                hit.repository.as_str()
            },
            hit.name,
            hit.version
        )?;
        writeln!(out, "    {}", output::truncate(&hit.description, 100))?;
    }
    loop {
        write!(out, "==> Packages to install (eg: 1 2 3, 1-3 or ^4)\n==> ")?;
        out.flush()?;
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            writeln!(out)?;
            return Ok(Vec::new());
        }
        match super::transaction::parse_selection(line.trim(), hits.len()) {
            Ok(None) => return Ok(Vec::new()),
            Ok(Some(picked)) => {
                return Ok(picked.iter().map(|&i| target(&hits[i as usize])).collect());
            }
            Err(e) => writeln!(out, "{e}")?,
        }
    }
}

/// Searches `query`, lets the user choose, installs the choice.
pub async fn run(
    session: &mut Session,
    query: &str,
    sources: Sources,
    options: TransactionOptions,
    args: &TxArgs,
    aur: &super::aur::AurOptions,
) -> Result<u8, Failure> {
    let query = query.trim();
    if query.is_empty() {
        return Err(Failure::new("the search query is empty", EXIT_USAGE));
    }
    let body = RequestBody::Search(SearchRequest {
        query: query.to_string(),
        limit: 50,
        installed_only: false,
        sources,
    });
    let ResponseBody::Search(results) = session.request(body).await? else {
        return Err(unexpected());
    };
    if results.hits.is_empty() {
        return Err(Failure::new(
            format!("no packages match {query:?}"),
            EXIT_FAILURE,
        ));
    }
    let targets = choose(&results.hits)?;
    if targets.is_empty() {
        println!("nothing chosen; nothing was changed");
        return Ok(EXIT_OK);
    }
    super::aur::install(session, targets, options, args, aur).await
}
