//! The invocations a prompt, a completion or a script runs again and again
//! (`--version`, `current`, `which PROGRAM`, `__complete PREFIX`, `search
//! WORDS` with no options; hook-env has its own path), answered without
//! building the argument parser for forty commands (and, for a search or a
//! completion, an async runtime: one blocking round trip to the daemon, or
//! the snapshot read in this process). Only the exact shapes below are
//! taken; anything else (a global flag, `--help`, a misspelling) goes to
//! clap as before, so the answers and the errors are the same either way.

use std::process::ExitCode;

use super::{Failure, current, direct, report, runtime, search, session, shipping};
use crate::ipc::blocking::BlockingConnection;
use crate::ipc::protocol::{RequestBody, ResponseBody};

/// The answer to `args` (the arguments after the program's name), when it
/// is one of the fast shapes.
pub fn run(args: &[String]) -> Option<ExitCode> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let plain = |word: &str| !word.is_empty() && !word.starts_with('-');
    let result = match words.as_slice() {
        ["--version"] | ["-V"] => {
            println!("omg {}", env!("CARGO_PKG_VERSION"));
            Ok(super::EXIT_OK)
        }
        ["current"] => current::run(false),
        ["current", "--json"] => current::run(true),
        ["which", program] if plain(program) => runtime::run_which(program),
        ["__complete", prefix] if plain(prefix) => complete(prefix)?,
        ["search", words @ ..] if !words.is_empty() && words.iter().all(|w| plain(w)) => {
            search(words)?
        }
        _ => return None,
    };
    Some(ExitCode::from(result.unwrap_or_else(|failure| {
        report(&failure);
        failure.code
    })))
}

/// `search WORDS`: the daemon's answer over one blocking connection, else
/// the snapshot's when it is current. None when neither answers (no
/// snapshot, a stale one, the AUR to ask, a daemon that failed): the full
/// path then asks again and reports what went wrong.
fn search(words: &[&str]) -> Option<Result<u8, Failure>> {
    let request = RequestBody::Search(search::plain_request(words)?);
    match ask(request)? {
        ResponseBody::Search(results) => Some(search::show(&results, false, false)),
        _ => None,
    }
}

/// `__complete PREFIX`: package names, asked the way `search` asks. None
/// sends it down the full path (which starts a one-shot daemon when there
/// is no daemon and no current snapshot).
fn complete(prefix: &str) -> Option<Result<u8, Failure>> {
    let Some(request) = shipping::complete_request(prefix) else {
        return Some(Ok(super::EXIT_OK));
    };
    match ask(request)? {
        ResponseBody::Names(names) => Some(shipping::print_names(&names)),
        _ => None,
    }
}

/// `request`'s answer from the daemon on this user's socket (one blocking
/// round trip), else from a current snapshot read in this process, as the
/// full path with no global flags would get it. None when the daemon
/// failed the request or neither can answer: the full path then asks
/// again and reports what went wrong.
fn ask(request: RequestBody) -> Option<ResponseBody> {
    let socket = crate::config::Paths::user().ok()?.socket();
    let from_daemon = BlockingConnection::connect(&socket, session::HANDSHAKE_TIMEOUT)
        .map(|mut daemon| (daemon.request(request.clone()), daemon.welcomed()));
    match from_daemon {
        Ok((Ok(answer), _)) => Some(answer),
        // The daemon failed the request: the full path reports it.
        Ok((Err(_), true)) => None,
        // No daemon of ours answers there.
        Ok((Err(_), false)) | Err(_) => direct::answer(&request, &[], false),
    }
}
