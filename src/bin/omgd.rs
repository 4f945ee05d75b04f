//! `omgd`: answers omg's queries from the package database.

use std::process::ExitCode;

use clap::Parser;

use omg::config::Paths;
use omg::daemon::{logger, service::Service, stdio};

#[derive(Debug, Parser)]
#[command(
    name = "omgd",
    version,
    about = "The omg daemon: answers queries about the system's packages",
    long_about = "omgd keeps the package index and answers omg's requests over the omg \
wire protocol (4-byte big-endian length + bincode frames). With --stdio it serves one \
client on its standard input and output and exits when the client closes them; this is \
how omg runs queries when no daemon is listening."
)]
struct Args {
    /// Serve one client on stdin/stdout, then exit
    #[arg(long, required = true)]
    stdio: bool,
    /// Log what happens (index loads, rebuilds) on stderr
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logger::init(args.verbose);
    let paths = match Paths::user() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("omgd: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut service = match Service::new(paths) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("omgd: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("omgd: error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        debug_assert!(args.stdio);
        stdio::serve(&mut service, tokio::io::stdin(), tokio::io::stdout()).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("omgd: error: {e}");
            ExitCode::FAILURE
        }
    }
}
