//! `omg hook SHELL` prints the shell code that keeps runtime versions in
//! step with the directory; `omg hook-env SHELL` is what that code runs
//! before each prompt, answered before anything else is set up.

use std::process::ExitCode;

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE, Failure};
use crate::config::Paths;

#[derive(Debug, Args)]
pub struct HookArgs {
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

/// `omg hook SHELL`.
pub fn run(args: &HookArgs) -> Result<u8, Failure> {
    let shell = crate::runtime::hook::Shell::from_name(&args.shell)
        .unwrap_or(crate::runtime::hook::Shell::Bash);
    let omg = std::env::current_exe().unwrap_or_else(|_| "omg".into());
    let command_not_found = Paths::user()
        .ok()
        .and_then(|p| crate::config::Config::load(&p.config_dir).ok())
        .is_some_and(|c| c.hook.command_not_found);
    print!(
        "{}",
        crate::runtime::hook::hook_script(shell, &omg, command_not_found)
    );
    Ok(EXIT_OK)
}

/// `omg hook-env SHELL` parsed by clap (the prompt path skips it).
pub fn run_env(args: &HookArgs) -> Result<u8, Failure> {
    Ok(u8::from(hook_env(&args.shell) != ExitCode::from(EXIT_OK)))
}

/// `omg hook-env SHELL`, before anything else is set up: it runs at every
/// prompt.
pub fn hook_env(shell: &str) -> ExitCode {
    use crate::runtime::hook;
    let Some(shell) = hook::Shell::from_name(shell) else {
        return ExitCode::from(EXIT_USAGE);
    };
    let (Ok(cwd), Ok(paths)) = (std::env::current_dir(), Paths::user()) else {
        return ExitCode::from(EXIT_OK);
    };
    let versions = crate::runtime::versions_dir(&paths);
    let var = |name: &str| std::env::var(name).ok();
    let mut warn = |message: String| eprintln!("omg: {message}");
    let code = hook::hook_env(shell, &cwd, &versions, &paths.config_dir, &var, &mut warn);
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(code.as_bytes());
    ExitCode::from(EXIT_OK)
}
