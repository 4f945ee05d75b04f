//! `omg news`: what is new before the next upgrade and after the last —
//! on Arch the Arch Linux news published since the last upgrade (kept by
//! omgd from its refresh), on Debian the `NEWS.Debian` entries the last
//! upgrade installed; `--all` everything kept.

use std::io::Write;

use super::output::{DIM, HEADER, NAME};
use super::{EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::news::NewsList;
use crate::news::feed::date;
use clap::Args;

#[derive(Debug, Args)]
pub struct NewsArgs {
    /// Everything kept, read or not
    #[arg(long)]
    pub all: bool,
    /// Print the news as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(session: &mut Session, args: &NewsArgs) -> Result<u8, Failure> {
    let ResponseBody::News(news) = session.request(RequestBody::News { all: args.all }).await?
    else {
        return Err(unexpected());
    };
    if args.json {
        print_json(&news)?;
        return Ok(EXIT_OK);
    }
    let mut out = anstream::stdout().lock();
    show(&mut out, &news, args.all)
        .map_err(|e| Failure::new(e.to_string(), super::EXIT_FAILURE))?;
    Ok(EXIT_OK)
}

fn show(out: &mut impl Write, news: &NewsList, all: bool) -> std::io::Result<()> {
    if news.source == "arch" && news.fetched.is_none() {
        writeln!(
            out,
            "the Arch Linux news has not been fetched yet: omg sync (or the refresh timer) fetches it"
        )?;
        return Ok(());
    }
    if news.items.is_empty() {
        let what = match (news.source.as_str(), all, news.since) {
            (_, true, _) => "no news is kept".to_string(),
            ("arch", false, Some(since)) => {
                format!("no news since the last upgrade ({})", date(since))
            }
            ("arch", false, None) => "no news".to_string(),
            _ => "the last upgrade brought no NEWS.Debian entries".to_string(),
        };
        writeln!(out, "{what} (omg news --all shows everything kept)")?;
        return Ok(());
    }
    for (n, item) in news.items.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{HEADER}{}{HEADER:#}  {NAME}{}{NAME:#}",
            date(item.published),
            item.title
        )?;
        for line in item.text.lines() {
            writeln!(out, "    {line}")?;
        }
        if let Some(link) = &item.link {
            writeln!(out, "    {DIM}{link}{DIM:#}")?;
        }
    }
    Ok(())
}
