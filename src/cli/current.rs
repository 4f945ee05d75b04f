//! `omg current`: the runtime versions this directory asks for, and the
//! file that asks (no daemon involved: runtimes are omg's own business).

use std::io::Write;

use super::output::{self, Cell, NAME, Table, VERSION};
use super::{EXIT_OK, Failure, print_json};
use crate::runtime::version_file;
use clap::Args;

#[derive(Debug, Args)]
pub struct CurrentArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(json: bool) -> Result<u8, Failure> {
    let here = std::env::current_dir()
        .map_err(|e| Failure::new(format!("cannot tell the current directory: {e}"), 1))?;
    let wanted: Vec<version_file::Wanted> = crate::runtime::hook::detect_here(&here)
        .into_values()
        .collect();
    if json {
        print_json(&wanted)?;
        return Ok(EXIT_OK);
    }
    let mut out = anstream::stdout().lock();
    if wanted.is_empty() {
        writeln!(out, "no version file here or above {}", here.display())?;
        return Ok(EXIT_OK);
    }
    let table = Table {
        headers: vec!["RUNTIME", "VERSION", "SET BY"],
        caps: vec![10, 30],
        rows: wanted
            .iter()
            .map(|w| {
                vec![
                    Cell::new(w.runtime.as_str(), NAME),
                    Cell::new(&w.version, VERSION),
                    Cell::plain(w.file.display().to_string()),
                ]
            })
            .collect(),
    };
    table.print(&mut out, output::terminal_width())?;
    Ok(EXIT_OK)
}
