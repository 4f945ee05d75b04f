//! `omg list`: installed packages, optionally only explicit, upgradable or
//! orphaned ones. On a terminal a table; piped, `name version` lines (as
//! `pacman -Q`), or JSON.

use std::io::Write;

use super::output::{self, Cell, DIM, NAME, REPO, Table, VERSION};
use super::{EXIT_OK, Failure, ListArgs, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::{InstallReason, ListFilter};

pub async fn run(session: &mut Session, args: &ListArgs) -> Result<u8, Failure> {
    let filter = if args.explicit {
        ListFilter::Explicit
    } else if args.upgradable {
        ListFilter::Upgradable
    } else if args.orphans {
        ListFilter::Orphans
    } else {
        ListFilter::All
    };
    let ResponseBody::List(packages) = session.request(RequestBody::List { filter }).await? else {
        return Err(unexpected());
    };
    if args.json {
        print_json(&packages)?;
        return Ok(EXIT_OK);
    }
    let width = output::terminal_width();
    let mut out = anstream::stdout().lock();
    if width.is_none() {
        for p in &packages {
            match &p.candidate_version {
                Some(c) if filter == ListFilter::Upgradable => {
                    writeln!(out, "{} {} -> {c}", p.name, p.version)?
                }
                _ => writeln!(out, "{} {}", p.name, p.version)?,
            }
        }
        return Ok(EXIT_OK);
    }
    let table = if filter == ListFilter::Upgradable {
        Table {
            headers: vec!["NAME", "INSTALLED", "AVAILABLE", "REPOSITORY"],
            caps: vec![40, 30, 30],
            rows: packages
                .iter()
                .map(|p| {
                    vec![
                        Cell::new(&p.name, NAME),
                        Cell::plain(&p.version),
                        Cell::new(p.candidate_version.clone().unwrap_or_default(), VERSION),
                        Cell::new(p.repository.clone().unwrap_or_default(), REPO),
                    ]
                })
                .collect(),
        }
    } else {
        Table {
            headers: vec!["NAME", "VERSION", "REASON", "DESCRIPTION"],
            caps: vec![40, 30, 10],
            rows: packages
                .iter()
                .map(|p| {
                    let reason = match p.reason {
                        InstallReason::Explicit => "explicit",
                        InstallReason::Dependency => "dependency",
                    };
                    vec![
                        Cell::new(&p.name, NAME),
                        Cell::new(&p.version, VERSION),
                        Cell::new(reason, DIM),
                        Cell::plain(&p.description),
                    ]
                })
                .collect(),
        }
    };
    table.print(&mut out, width)?;
    let what = match filter {
        ListFilter::All => "installed packages",
        ListFilter::Explicit => "explicitly installed packages",
        ListFilter::Upgradable => "upgradable packages",
        ListFilter::Orphans => "orphaned packages",
    };
    writeln!(
        out,
        "{}{} {what}{}",
        DIM.render(),
        packages.len(),
        DIM.render_reset()
    )?;
    Ok(EXIT_OK)
}
