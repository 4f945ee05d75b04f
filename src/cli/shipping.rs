//! What omg ships besides its binaries and that comes from its clap
//! definitions: shell completions (`omg completions SHELL`, with package
//! names completed from the index through the hidden `omg __complete`)
//! and the omg(1) man page (`omg __manpage`, which `make man` runs), with
//! the hand-written sections from `man/omg.1.extra` appended.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, EXIT_OK, Failure, Session, unexpected};
use crate::ipc::protocol::{RequestBody, ResponseBody};
use clap::Args;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    pub prefix: String,
}

/// Subcommands whose arguments are package names.
const PACKAGE_COMMANDS: &str = "install add remove rm info show";

pub fn completions(shell: &str) -> Result<u8, Failure> {
    use clap_complete::Shell;
    let which = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(which, &mut Cli::command(), "omg", &mut out);
    // Package names, from the index (a running omgd answers in
    // milliseconds; without one, the snapshot).
    let dynamic = match which {
        Shell::Bash => format!(
            "\n_omg_with_packages() {{\n    local cur=\"${{COMP_WORDS[COMP_CWORD]}}\"\n    case \" {PACKAGE_COMMANDS} \" in\n        *\" ${{COMP_WORDS[1]}} \"*)\n            if [[ $COMP_CWORD -ge 2 && \"$cur\" != -* ]]; then\n                COMPREPLY=( $(compgen -W \"$(omg __complete \"$cur\" 2>/dev/null)\" -- \"$cur\") )\n                return 0\n            fi ;;\n    esac\n    _omg \"$@\"\n}}\ncomplete -F _omg_with_packages -o bashdefault -o default omg\n"
        ),
        Shell::Fish => format!(
            "\ncomplete -c omg -n '__fish_seen_subcommand_from {PACKAGE_COMMANDS}' -f -a '(omg __complete (commandline -ct) 2>/dev/null)'\n"
        ),
        _ => format!(
            "\n_omg_packages() {{\n    local -a names\n    names=(${{(f)\"$(omg __complete \"$PREFIX\" 2>/dev/null)\"}})\n    compadd -a names\n}}\n_omg_with_packages() {{\n    if (( CURRENT > 2 )) && [[ \" {PACKAGE_COMMANDS} \" == *\" ${{words[2]}} \"* && $PREFIX != -* ]]; then\n        _omg_packages\n    else\n        _omg \"$@\"\n    fi\n}}\ncompdef _omg_with_packages omg\n"
        ),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.write_all(dynamic.as_bytes())?;
    Ok(EXIT_OK)
}

/// `omg __complete PREFIX`: package names starting with PREFIX, one per
/// line.
pub async fn complete(session: &mut Session, prefix: &str) -> Result<u8, Failure> {
    let Some(body) = complete_request(prefix) else {
        return Ok(EXIT_OK);
    };
    let ResponseBody::Names(names) = session.request(body).await? else {
        return Err(unexpected());
    };
    print_names(&names)
}

/// What `__complete PREFIX` asks the daemon: None for an empty prefix,
/// which completes to nothing.
pub fn complete_request(prefix: &str) -> Option<RequestBody> {
    (!prefix.is_empty()).then(|| RequestBody::Complete {
        prefix: prefix.to_string(),
    })
}

/// `names`, one per line, in one write.
pub fn print_names(names: &[String]) -> Result<u8, Failure> {
    let mut out = super::output::Answer::new();
    for name in names {
        writeln!(out, "{name}")?;
    }
    out.finish()?;
    Ok(EXIT_OK)
}

/// The omg(1) page: what clap knows, then `extra` (hand-written roff).
pub fn manpage(extra: &str) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.extend_from_slice(extra.as_bytes());
    Ok(out)
}

pub fn print_manpage() -> Result<u8, Failure> {
    let extra = include_str!("../../man/omg.1.extra");
    let page = manpage(extra)?;
    std::io::stdout().lock().write_all(&page)?;
    Ok(EXIT_OK)
}
