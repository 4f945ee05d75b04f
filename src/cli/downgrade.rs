//! `omg downgrade PKG [VERSION]`, as the `downgrade` tool does it: with a
//! version, exactly that one is installed; without, the versions there are
//! — in the repositories, the package cache, on Arch the Arch Linux
//! Archive, on Debian apt's archive cache — are listed for the user to
//! pick from. The downgrade runs in a root omgd as the rollback of one
//! package (the same sources and signature checks, the install reason
//! kept), is recorded in the history (so `omg rollback` undoes it), and
//! the user is offered a pin so the next upgrade leaves it.

use std::io::Write;

use clap::Args;

use super::output::{self, Cell, NAME, Table, VERSION};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, TxArgs, print_json, unexpected};
use crate::ipc::client::ClientError;
use crate::ipc::protocol::{ErrorKind, RequestBody, ResponseBody};
use crate::model::PackageVersion;
use crate::transaction::{TransactionAction, TransactionOptions};

#[derive(Debug, Args)]
pub struct DowngradeArgs {
    /// The installed package
    pub package: String,
    /// The version to install (without one: choose among those available)
    pub version: Option<String>,
    /// Pin the package at the version installed afterwards, without asking
    #[arg(long)]
    pub pin: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &mut Session, args: &DowngradeArgs) -> Result<u8, Failure> {
    let name = args.package.as_str();
    let version = match &args.version {
        Some(version) => version.clone(),
        None => match choose(session, name, &args.tx).await? {
            Some(version) => version,
            None => {
                println!("nothing chosen; nothing was changed");
                return Ok(EXIT_OK);
            }
        },
    };
    let action = TransactionAction::Downgrade {
        name: name.to_string(),
        version: version.clone(),
    };
    let report =
        super::transaction::run_report(session, action, TransactionOptions::default(), &args.tx)
            .await?;
    if args.tx.json {
        print_json(&report)?;
    }
    if !report.committed {
        return Ok(EXIT_OK);
    }
    let pin = args.pin
        || (!args.tx.noconfirm
            && !args.tx.json
            && super::transaction::confirm(
                &format!("Pin {name} at {version} so that upgrades leave it?"),
                false,
            )
            .await);
    if pin {
        let quiet = TxArgs {
            noconfirm: true,
            dry_run: false,
            json: args.tx.json,
        };
        super::pin::run_change(session, name, false, &quiet).await?;
    }
    Ok(EXIT_OK)
}

/// Lists the versions of `name` there are and reads the user's pick.
async fn choose(
    session: &mut Session,
    name: &str,
    args: &TxArgs,
) -> Result<Option<String>, Failure> {
    let versions = versions(session, name).await?;
    if args.json {
        print_json(&versions)?;
        return Err(Failure::new(
            "name the VERSION to downgrade to (the list above has them)",
            EXIT_USAGE,
        ));
    }
    let choices: Vec<&PackageVersion> = versions.iter().filter(|v| !v.installed).collect();
    if choices.is_empty() {
        return Err(Failure::new(
            format!(
                "no other version of {name} is available (repositories, package cache, archive)"
            ),
            EXIT_FAILURE,
        ));
    }
    let mut out = anstream::stdout().lock();
    let table = Table {
        headers: vec!["#", "NAME", "VERSION", "FROM"],
        caps: vec![4, 40, 32],
        rows: versions
            .iter()
            .map(|v| {
                let number = choices
                    .iter()
                    .position(|c| c.version == v.version)
                    .map_or(String::new(), |i| (i + 1).to_string());
                let from = if v.installed {
                    "installed".to_string()
                } else {
                    v.sources.join(", ")
                };
                vec![
                    Cell::plain(number),
                    Cell::new(name, NAME),
                    Cell::new(&v.version, VERSION),
                    Cell::plain(from),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    drop(out);
    if args.noconfirm {
        return Err(Failure::new(
            format!("name the VERSION of {name} to downgrade to (--noconfirm asks nothing)"),
            EXIT_USAGE,
        ));
    }
    print!("Which version (a number, nothing to stop)? ");
    std::io::stdout().flush()?;
    let line = super::transaction::read_answer().await.unwrap_or_default();
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    match line.parse::<usize>() {
        Ok(n) if (1..=choices.len()).contains(&n) => Ok(Some(choices[n - 1].version.clone())),
        _ => Err(Failure::new(
            format!("{line:?} is not one of the numbers 1 to {}", choices.len()),
            EXIT_USAGE,
        )),
    }
}

/// The versions of `name`, from this user's own omgd (which may read the
/// Arch Linux Archive's listing: it runs with the user's rights); without
/// the archive when it cannot be read.
async fn versions(session: &Session, name: &str) -> Result<Vec<PackageVersion>, Failure> {
    let mut connection = session.own_daemon().await?;
    let mut ask = async |archive: bool| {
        let body = RequestBody::Versions {
            name: name.to_string(),
            archive,
        };
        connection.request(body).await
    };
    let answer = match ask(true).await {
        Ok(answer) => answer,
        // The archive could not be read: what is here still is.
        Err(ClientError::Remote(e)) if e.kind == ErrorKind::Database => {
            super::report_warning(&format!("{}; listing what is here", e.message));
            ask(false).await?
        }
        Err(e) => return Err(e.into()),
    };
    connection.close().await;
    match answer {
        ResponseBody::Versions(versions) => Ok(versions),
        _ => Err(unexpected()),
    }
}
