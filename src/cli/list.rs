//! `omg list`: installed packages, optionally only explicit, upgradable or
//! orphaned ones. On a terminal a table; piped, `name version` lines (as
//! `pacman -Q`), or JSON.

use std::io::Write;

use super::output::{self, Cell, DIM, NAME, REPO, Table, VERSION};
use super::{EXIT_OK, EXIT_USAGE, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::model::{InstallReason, ListFilter};
use clap::Args;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A runtime (node, python, …): list its installed versions instead
    pub runtime: Option<String>,
    /// With a runtime: the versions its upstream offers
    #[arg(short, long, requires = "runtime")]
    pub available: bool,
    /// Only packages installed on request (as `apt-mark showmanual`)
    #[arg(short, long, group = "filter")]
    pub explicit: bool,
    /// Only packages with a newer version available
    #[arg(short, long, group = "filter")]
    pub upgradable: bool,
    /// Only packages installed as dependencies (pacman -Qd)
    #[arg(short, long, group = "filter")]
    pub deps: bool,
    /// Only dependencies nothing needs any more (as `apt autoremove` would remove)
    #[arg(short, long, group = "filter")]
    pub orphans: bool,
    /// Names only, one per line (pacman -Qq)
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(session: &mut Session, args: &ListArgs) -> Result<u8, Failure> {
    if let Some(name) = args.runtime.as_deref() {
        return match crate::runtime::version_file::Runtime::from_name(name) {
            Some(which) if args.available => {
                super::runtime::run_available(session, which, args.json).await
            }
            Some(which) => super::runtime::run_list(which, args.json),
            None => Err(Failure::new(
                format!(
                    "{name} is not a runtime omg knows (node, python, go, rust, ruby, java, bun)"
                ),
                EXIT_USAGE,
            )),
        };
    }
    let filter = if args.explicit {
        ListFilter::Explicit
    } else if args.upgradable {
        ListFilter::Upgradable
    } else if args.deps {
        ListFilter::Dependencies
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
    let mut out = output::Answer::new();
    if args.quiet {
        for p in &packages {
            writeln!(out, "{}", p.name)?;
        }
        out.finish()?;
        return Ok(EXIT_OK);
    }
    if width.is_none() {
        for p in &packages {
            match &p.candidate_version {
                Some(c) if filter == ListFilter::Upgradable => {
                    writeln!(out, "{} {} -> {c}", p.name, p.version)?
                }
                _ => writeln!(out, "{} {}", p.name, p.version)?,
            }
        }
        out.finish()?;
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
        ListFilter::Dependencies => "packages installed as dependencies",
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
    out.finish()?;
    Ok(EXIT_OK)
}
