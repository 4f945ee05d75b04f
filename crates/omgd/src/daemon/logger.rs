//! A minimal `log` sink for the daemon: `omgd: level: message` on stderr.
//! Warnings always; debug lines with `--verbose` or `OMG_LOG=debug`.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) && record.target().starts_with("omg") {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug | Level::Trace => "debug",
            };
            eprintln!("omgd: {level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger; `verbose` turns on debug lines.
pub fn init(verbose: bool) {
    let from_env = std::env::var("OMG_LOG").ok();
    let level = if verbose || from_env.as_deref() == Some("debug") {
        LevelFilter::Debug
    } else {
        LevelFilter::Warn
    };
    if log::set_logger(&StderrLogger).is_ok() {
        log::set_max_level(level);
    }
}
