//! `omg merge`: the config files transactions left for the admin
//! (`.pacnew`, `.pacsave`, `.dpkg-dist`, `.dpkg-old`, `.ucf-dist`), as
//! the history recorded them. Each is shown as a diff against the file in
//! use, then kept, taken or merged three ways against the packaged
//! original (`$MERGETOOL`, else `git merge-file`), as pacdiff does.

use std::io::Write;

use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, Session, print_json};
use crate::ipc::protocol::RequestBody;
use crate::merge::{self, ConfigFile, Merged};
use clap::Args;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Only these config files (their paths, as listed)
    pub files: Vec<String>,
    /// List the files waiting and change nothing
    #[arg(long)]
    pub list: bool,
    /// Print the list as JSON (with --list)
    #[arg(long, requires = "list")]
    pub json: bool,
    /// Keep the files in use, for every file (the others are deleted)
    #[arg(long, conflicts_with_all = ["take", "merge", "list"])]
    pub keep: bool,
    /// Take the packaged (or saved) version, for every file
    #[arg(long, conflicts_with_all = ["merge", "list"])]
    pub take: bool,
    /// Merge three ways, for every file
    #[arg(long, conflicts_with = "list")]
    pub merge: bool,
}

/// What to do with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Keep,
    Take,
    Merge,
    Skip,
}

/// The files waiting, from the history, narrowed to `only` when given.
fn waiting(only: &[String]) -> Result<Vec<ConfigFile>, Failure> {
    let all = crate::history::History::in_data_dir(&crate::config::Paths::system().data_dir)
        .config_files_waiting()
        .map_err(|e| Failure::new(e.to_string(), EXIT_FAILURE))?;
    if only.is_empty() {
        return Ok(all);
    }
    for wanted in only {
        if !all.iter().any(|f| &f.target == wanted || &f.path == wanted) {
            return Err(Failure::new(
                format!("{wanted} has no file waiting for a merge (omg merge --list)"),
                EXIT_USAGE,
            ));
        }
    }
    Ok(all
        .into_iter()
        .filter(|f| only.iter().any(|w| *w == f.target || *w == f.path))
        .collect())
}

fn describe(file: &ConfigFile) -> String {
    let what = match (&file.package, &file.old_version) {
        (Some(p), Some(v)) => format!(" ({p}, before {v})"),
        (Some(p), None) => format!(" ({p})"),
        _ => String::new(),
    };
    format!("{} [{}]{what}", file.target, file.kind())
}

/// `diff -u` of the file in use against the one left.
fn show_diff(file: &ConfigFile) {
    let _ = std::io::stdout().flush();
    let _ = std::process::Command::new("diff")
        .args(["-u", "--label", "in use", "--label"])
        .arg(file.kind())
        .arg(&file.target)
        .arg(&file.path)
        .status();
}

async fn ask(file: &ConfigFile) -> Choice {
    let merge = if file.is_new_version() {
        ", [m]erge"
    } else {
        ""
    };
    print!(
        "{}: [k]eep the file in use, [t]ake the {}{merge}, [s]kip? ",
        file.target,
        file.kind()
    );
    let _ = std::io::stdout().flush();
    match super::transaction::read_answer()
        .await
        .unwrap_or_default()
        .trim()
    {
        "k" | "keep" => Choice::Keep,
        "t" | "take" => Choice::Take,
        "m" | "merge" if file.is_new_version() => Choice::Merge,
        _ => Choice::Skip,
    }
}

fn apply(file: &ConfigFile, choice: Choice) -> Result<(), Failure> {
    let fail = |e: merge::MergeError| Failure::new(e.to_string(), EXIT_FAILURE);
    match choice {
        Choice::Skip => println!("{}: left for later", file.target),
        Choice::Keep => {
            merge::keep(file).map_err(fail)?;
            println!("{}: kept; {} removed", file.target, file.path);
        }
        Choice::Take => {
            merge::take(file).map_err(fail)?;
            println!("{}: replaced by the {}", file.target, file.kind());
        }
        Choice::Merge => {
            if file.base.is_none() {
                println!(
                    "{}: the packaged original is not in the package cache: every difference is a conflict",
                    file.target
                );
            }
            let tool = std::env::var("MERGETOOL").ok().filter(|t| !t.is_empty());
            match merge::merge(file, tool.as_deref()).map_err(fail)? {
                Merged::Clean => println!("{}: merged", file.target),
                Merged::Conflicts(n) => println!(
                    "{}: merged with {n} conflict{} marked; resolve {} then run omg merge --keep {} (the {} stays until then)",
                    file.target,
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "it" } else { "them" },
                    file.target,
                    file.kind()
                ),
            }
        }
    }
    Ok(())
}

pub async fn run(session: &mut Session, args: &MergeArgs) -> Result<u8, Failure> {
    let files = waiting(&args.files)?;
    if args.list {
        if args.json {
            print_json(&files)?;
        } else if files.is_empty() {
            println!("no config file waits for a merge");
        } else {
            for f in &files {
                println!("{}", describe(f));
            }
        }
        return Ok(EXIT_OK);
    }
    if files.is_empty() {
        println!("no config file waits for a merge");
        return Ok(EXIT_OK);
    }
    let everything = if args.keep {
        Some(Choice::Keep)
    } else if args.take {
        Some(Choice::Take)
    } else if args.merge {
        Some(Choice::Merge)
    } else {
        None
    };
    let mut failed = false;
    for file in &files {
        println!("{}", describe(file));
        let choice = match everything {
            Some(choice) => choice,
            None => {
                show_diff(file);
                ask(file).await
            }
        };
        if let Err(e) = apply(file, choice) {
            eprintln!("omg: {}", e.message);
            failed = true;
        }
    }
    // The count prompts and widgets show.
    let _ = session.request(RequestBody::Reload).await;
    Ok(if failed { EXIT_FAILURE } else { EXIT_OK })
}
