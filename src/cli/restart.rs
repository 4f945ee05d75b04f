//! `omg restart`: the units that still run files an upgrade replaced or
//! deleted (from the daemon's reading of the process table), restarted
//! through the daemon (polkit action `io.github.omg.restart`). Init and
//! login sessions are listed apart and restarted only when named and
//! confirmed.

use super::{EXIT_FAILURE, EXIT_OK, Failure, Session, print_json, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::restart::Restart;
use clap::Args;

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Only these units (default: every unit listed, init and sessions
    /// excepted)
    pub units: Vec<String>,
    /// List and restart nothing
    #[arg(long)]
    pub list: bool,
    /// Print the list as JSON (with --list)
    #[arg(long, requires = "list")]
    pub json: bool,
    /// Ask nothing: restart what is listed (never init or a session)
    #[arg(short = 'y', long, visible_alias = "yes")]
    pub noconfirm: bool,
}

fn line(r: &Restart) -> String {
    let pids: Vec<String> = r
        .processes
        .iter()
        .map(|(pid, comm)| format!("{comm} ({pid})"))
        .collect();
    format!(
        "{}: {} — {}",
        r.unit.as_deref().unwrap_or("no unit"),
        pids.join(", "),
        r.files.join(" ")
    )
}

pub async fn run(session: &mut Session, args: &RestartArgs) -> Result<u8, Failure> {
    let ResponseBody::Restarts(found) = session.request(RequestBody::Restarts).await? else {
        return Err(unexpected());
    };
    if args.json {
        print_json(&found)?;
        return Ok(EXIT_OK);
    }
    if found.is_empty() {
        println!("nothing runs a replaced file");
        return Ok(EXIT_OK);
    }
    for r in &found {
        println!("{}", line(r));
    }
    let lone: Vec<&Restart> = found.iter().filter(|r| r.unit.is_none()).collect();
    if !lone.is_empty() {
        println!(
            "{} process{} outside any unit: restart {} yourself",
            lone.len(),
            if lone.len() == 1 { "" } else { "es" },
            if lone.len() == 1 { "it" } else { "them" }
        );
    }
    if args.list {
        return Ok(EXIT_OK);
    }
    for wanted in &args.units {
        if !found
            .iter()
            .any(|r| r.unit.as_deref() == Some(wanted.as_str()))
        {
            return Err(Failure::new(
                format!("{wanted} runs no replaced file"),
                EXIT_FAILURE,
            ));
        }
    }
    let chosen: Vec<&Restart> = found
        .iter()
        .filter(|r| r.unit.is_some())
        .filter(|r| {
            args.units.is_empty() && !r.sensitive
                || args
                    .units
                    .iter()
                    .any(|u| r.unit.as_deref() == Some(u.as_str()))
        })
        .collect();
    let sensitive: Vec<&str> = chosen
        .iter()
        .filter(|r| r.sensitive)
        .filter_map(|r| r.unit.as_deref())
        .collect();
    for held in found
        .iter()
        .filter(|r| r.sensitive && !chosen.iter().any(|c| c.unit == r.unit))
    {
        println!(
            "{}: not restarted unless named (it ends the machine's init or a login)",
            held.unit.as_deref().unwrap_or_default()
        );
    }
    let units: Vec<String> = chosen.iter().filter_map(|r| r.unit.clone()).collect();
    if units.is_empty() {
        return Ok(EXIT_OK);
    }
    if !sensitive.is_empty() {
        if args.noconfirm {
            return Err(Failure::new(
                format!(
                    "restarting {} ends the machine's init or a login session: not without a question",
                    sensitive.join(", ")
                ),
                EXIT_FAILURE,
            ));
        }
        if !super::transaction::confirm(
            &format!("Restarting {} ends it. Go on?", sensitive.join(", ")),
            false,
        )
        .await
        {
            return Ok(EXIT_FAILURE);
        }
    } else if !args.noconfirm
        && !super::transaction::confirm(&format!("Restart {}?", units.join(", ")), true).await
    {
        return Ok(EXIT_FAILURE);
    }
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    session
        .request(RequestBody::Restart {
            units: units.clone(),
            sensitive: !sensitive.is_empty(),
            interactive,
        })
        .await?;
    println!("restarted {}", units.join(", "));
    Ok(EXIT_OK)
}
