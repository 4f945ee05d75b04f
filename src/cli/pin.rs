//! `omg pin PKG[@VERSION]`, `omg pin --unpin PKG`, `omg pin --list`:
//! keeping packages from being upgraded. Pins are the system's (omgd
//! writes them as root, polkit action `io.github.omg.pin`); upgrades on
//! both backends honour them.

use std::io::Write;

use super::output::{self, Cell, NAME, Table};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, TxArgs, print_json};
use crate::pins::{HOLD, Pins};
use crate::transaction::{Maintenance, PinChange};
use clap::Args;

#[derive(Debug, Args)]
pub struct PinArgs {
    /// PKG or PKG@VERSION
    #[arg(required_unless_present = "list")]
    pub package: Option<String>,
    /// Take the pin away
    #[arg(long, conflicts_with = "list")]
    pub unpin: bool,
    /// Show the pinned packages
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub tx: TxArgs,
}

pub async fn run(session: &Session, args: &PinArgs) -> Result<u8, Failure> {
    match args.package.as_deref() {
        Some(target) if !args.list => run_change(session, target, args.unpin, &args.tx).await,
        _ => run_list(args.tx.json),
    }
}

/// `omg pin --list [--json]`.
pub fn run_list(json: bool) -> Result<u8, Failure> {
    let pins = Pins::load(&crate::config::Paths::system().config_dir)
        .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    if json {
        print_json(&pins.pins)?;
        return Ok(EXIT_OK);
    }
    let mut out = anstream::stdout().lock();
    if pins.pins.is_empty() {
        writeln!(out, "no package is pinned")?;
        return Ok(EXIT_OK);
    }
    let table = Table {
        headers: vec!["PACKAGE", "PINNED"],
        caps: vec![40, 40],
        rows: pins
            .pins
            .iter()
            .map(|(name, spec)| vec![Cell::new(name, NAME), Cell::plain(describe(spec))])
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    Ok(EXIT_OK)
}

fn describe(spec: &str) -> String {
    if spec == HOLD {
        "held at the installed version".into()
    } else {
        format!("to {spec} (upgrades within {spec}.*)")
    }
}

/// `omg pin PKG[@VERSION]` and `omg pin --unpin PKG`.
pub async fn run_change(
    session: &Session,
    target: &str,
    unpin: bool,
    args: &TxArgs,
) -> Result<u8, Failure> {
    let (package, spec) = match target.split_once('@') {
        Some((p, v)) if !unpin && !v.is_empty() => (p, Some(v.to_string())),
        Some(_) => {
            return Err(Failure::new(
                format!("{target:?}: write PKG or PKG@VERSION (--unpin takes PKG)"),
                EXIT_USAGE,
            ));
        }
        None => (target, None),
    };
    if package.is_empty() {
        return Err(Failure::new("name a package", EXIT_USAGE));
    }
    let change = PinChange {
        package: package.to_string(),
        spec: spec.clone(),
        unpin,
    };
    let quiet = TxArgs {
        noconfirm: args.noconfirm,
        dry_run: args.dry_run,
        json: false,
    };
    super::transaction::maintain(session, Maintenance::Pin(change), &quiet).await?;
    let what = match (&spec, unpin) {
        (_, true) => format!("{package} is no longer pinned"),
        (Some(v), false) => format!("{package} is pinned {}", describe(v)),
        (None, false) => format!("{package} is pinned: {}", describe(HOLD)),
    };
    if args.dry_run {
        println!("dry run: nothing was changed ({what} otherwise)");
    } else if args.json {
        print_json(
            &serde_json::json!({ "package": package, "pin": spec.unwrap_or_else(|| HOLD.into()), "unpinned": unpin }),
        )?;
    } else {
        println!("{what}");
    }
    Ok(EXIT_OK)
}
