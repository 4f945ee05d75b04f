//! What the shell's command-not-found handler runs (`[hook]
//! command_not_found = true`): for a command the shell cannot find, the
//! runtime version the project asks for and lacks, else the repository
//! packages that ship it (from omgd's file index), else the shell's usual
//! one line. Always exit status 127, as the shell's own.

use clap::Args;

use super::{Failure, Session};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use crate::runtime::version_file::Runtime;

/// The shell's status for a command it cannot find.
const NOT_FOUND: u8 = 127;

#[derive(Debug, Args)]
pub struct NotFoundArgs {
    /// The command the shell could not find
    pub command: String,
}

/// The runtime a program comes with.
fn runtime_of(command: &str) -> Option<Runtime> {
    Some(match command {
        "node" | "npm" | "npx" | "corepack" => Runtime::Node,
        "python" | "python3" | "pip" | "pip3" => Runtime::Python,
        "go" | "gofmt" => Runtime::Go,
        "cargo" | "rustc" | "rustfmt" | "rustdoc" => Runtime::Rust,
        "ruby" | "gem" | "irb" | "bundle" => Runtime::Ruby,
        "java" | "javac" | "jar" => Runtime::Java,
        "bun" | "bunx" => Runtime::Bun,
        _ => return None,
    })
}

/// `command: this project asks for RUNTIME VERSION (FILE): omg install …`
/// when the directory asks for a version of the runtime that is not
/// installed.
fn missing_runtime(command: &str) -> Option<String> {
    let runtime = runtime_of(command)?;
    let cwd = std::env::current_dir().ok()?;
    let wanted = crate::runtime::hook::detect_here(&cwd).remove(&runtime)?;
    let paths = crate::config::Paths::user().ok()?;
    let versions = crate::runtime::versions_dir(&paths);
    if crate::runtime::hook::installed_match(&versions, runtime, &wanted.version).is_some() {
        return None;
    }
    let file = wanted
        .file
        .file_name()
        .map_or(String::new(), |f| f.to_string_lossy().into_owned());
    Some(format!(
        "{command}: this project asks for {} {} ({file}): omg install {} {}",
        runtime.as_str(),
        wanted.version,
        runtime.as_str(),
        wanted.version
    ))
}

pub async fn run(session: &mut Session, args: &NotFoundArgs) -> Result<u8, Failure> {
    let command = args.command.as_str();
    if let Some(line) = missing_runtime(command) {
        eprintln!("{line}");
        return Ok(NOT_FOUND);
    }
    // The AUR only as omgd last heard from it: a typo is not sent away.
    let asked = RequestBody::Provides {
        names: vec![command.to_string()],
        ask_aur: false,
    };
    // Silent about omgd's troubles: the shell only wants an answer.
    let providers = match session.request(asked).await {
        Ok(ResponseBody::Provides(found)) => found
            .into_iter()
            .next()
            .map(|f| f.providers)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if providers.is_empty() || command.contains('/') {
        eprintln!("{command}: command not found");
        return Ok(NOT_FOUND);
    }
    for p in providers.iter().take(5) {
        let from = if p.repository.is_empty() {
            String::new()
        } else {
            format!(" ({})", p.repository)
        };
        eprintln!("{command}: omg install {}{from}", p.name);
    }
    Ok(NOT_FOUND)
}
