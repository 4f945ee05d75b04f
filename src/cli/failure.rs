//! How a command fails: the message and hint the user reads on stderr and
//! the exit code, converted once from the client's and the daemon's
//! errors.

use super::output::{ERROR, WARN};
use super::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::ipc::client::ClientError;
use crate::ipc::protocol::{ErrorKind, WireError};

/// A failed command: what to tell the user and how to exit.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
    /// What kind of error omgd reported, when it came from omgd.
    pub kind: Option<ErrorKind>,
}

impl Failure {
    pub fn new(message: impl Into<String>, code: u8) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            code,
            kind: None,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        match e {
            ClientError::Remote(w) => Failure::from(w),
            other => Failure::new(other.to_string(), EXIT_FAILURE),
        }
    }
}

impl From<WireError> for Failure {
    fn from(w: WireError) -> Failure {
        let code = match w.kind {
            ErrorKind::InvalidRequest => EXIT_USAGE,
            _ => EXIT_FAILURE,
        };
        let hint = (!w.suggestions.is_empty() && !w.message.contains("virtual package"))
            .then(|| format!("did you mean: {}?", w.suggestions.join(", ")));
        Failure {
            message: w.message,
            hint,
            code,
            kind: Some(w.kind),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader (`| head`) has seen enough: stop quietly.
            return Failure::new("", EXIT_OK);
        }
        Failure::new(format!("cannot write the output: {e}"), EXIT_FAILURE)
    }
}

/// Prints a failure on stderr.
pub fn report(failure: &Failure) {
    if failure.message.is_empty() {
        return;
    }
    let mut err = anstream::stderr();
    use std::io::Write;
    let _ = writeln!(
        err,
        "{}error:{} {}",
        ERROR.render(),
        ERROR.render_reset(),
        failure.message
    );
    if let Some(hint) = &failure.hint {
        let _ = writeln!(err, "{}hint:{} {hint}", WARN.render(), WARN.render_reset());
    }
}

/// Prints a warning on stderr.
pub fn report_warning(message: &str) {
    use std::io::Write;
    let mut err = anstream::stderr();
    let _ = writeln!(
        err,
        "{}warning:{} {message}",
        WARN.render(),
        WARN.render_reset()
    );
}
