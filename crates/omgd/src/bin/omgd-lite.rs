//! `omgd-lite`: the one-shot answerer `omg` starts first when no daemon
//! runs. It serves from the index snapshot and the stored package details
//! and links no package-manager library, so it starts in about a
//! millisecond; anything that needs the database itself it answers with
//! `NeedsBackend`, and `omg` asks a full `omgd --stdio` instead.

use std::process::ExitCode;

use clap::Parser;

use omg::config::{Config, Paths};
use omgd::daemon::engine::{Engine, Mode};
use omgd::daemon::logger;

#[derive(Debug, Parser)]
#[command(
    name = "omgd-lite",
    version,
    about = "Answers omg's queries from the index snapshot alone (started by omg)"
)]
struct Args {
    /// Serve one client on stdin/stdout, then exit (the only mode)
    #[arg(long, required = true)]
    stdio: bool,
    /// Log what happens on stderr
    #[arg(short, long)]
    verbose: bool,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("omgd-lite: error: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args = Args::parse();
    logger::init(args.verbose);
    let paths = match Paths::user() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let config = match Config::load(&paths.config_dir) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let kind = match omgd::backend::detect::detect(config.backend) {
        Ok(k) => k,
        Err(e) => return fail(e),
    };
    let engine = Engine::new(paths, config, Mode::Stdio, kind, None);
    match omgd::daemon::serve_stdio(&engine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
