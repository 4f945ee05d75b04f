//! `omg-fast`: prints update and vulnerability counts for shell prompts from
//! the status file alone. No IPC, no network, no heavy libraries; a missing
//! or malformed file prints nothing and exits 0 so a prompt never breaks.
//!
//! ```text
//! omg-fast                 compact summary ("↑3 !1"), empty when all is well
//! omg-fast updates         system updates available
//! omg-fast vulns           known vulnerabilities
//! omg-fast drift           "drift" when the machine differs from the last `omg env check`'s lock
//! omg-fast reboot          "reboot" when an update waits for a reboot
//! omg-fast merges          config files waiting for `omg merge`
//! omg-fast --format FMT    {updates} {foreign} {vulns} {total} {age} {stale} {drift} {reboot} {merges} substituted
//! omg-fast --format waybar|i3blocks|polybar
//!                          a status-bar module's output (see `bar`)
//! omg-fast --watch         a line now and one after each change of the status file
//! omg-fast hook-env SHELL OMG
//!                          the shell hook's per-prompt check: prints nothing
//!                          when nothing hook-env depends on changed, else
//!                          runs `OMG hook-env SHELL` in its place
//! ```
//! Counts older than `--max-age SECONDS` (default 86400, env
//! `OMG_FAST_MAX_AGE`) are marked stale with a trailing `?`.

mod bar;
mod watch;

use std::io::Write;
use std::path::PathBuf;

use omg_status::{self as status, Status};

const DEFAULT_MAX_AGE: u64 = 86_400;

fn status_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("OMG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("status.bin"));
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("omg/status.bin"));
    }
    let cache = std::env::var_os("OMG_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("omg"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/omg")))?;
    Some(cache.join("run/status.bin"))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The age of the counts, and whether they are stale.
fn age_of(status: &Status, max_age: u64) -> (u64, bool) {
    let age = now().saturating_sub(u64::from(status.last_refresh));
    (age, status.last_refresh == 0 || age > max_age)
}

/// What to print for `what` and the exit code: a bar's module always has
/// a line (a missing file reads as never refreshed); a prompt's is empty
/// without a status file.
fn output(status: Option<Status>, what: &str, max_age: u64) -> (String, i32) {
    if matches!(what, "waybar" | "i3blocks" | "polybar") {
        let status = status.unwrap_or_default();
        let (age, stale) = age_of(&status, max_age);
        let shown = bar::shown(&status, age, stale);
        let text = bar::render(what, &shown).unwrap_or_default();
        return (text, bar::exit_code(what, &shown));
    }
    match status {
        Some(status) => (render(&status, what, max_age), 0),
        None => (String::new(), 0),
    }
}

/// Seconds until counts that are fresh now turn stale.
fn until_stale(status: Option<Status>, max_age: u64) -> Option<u64> {
    let status = status?;
    let (age, stale) = age_of(&status, max_age);
    (!stale).then(|| max_age - age + 1)
}

fn render(status: &Status, what: &str, max_age: u64) -> String {
    let (age, stale) = age_of(status, max_age);
    let mark = if stale { "?" } else { "" };
    let total = u32::from(status.updates) + u32::from(status.foreign_updates);
    let drift = if status.has(status::FLAG_RUNTIME_DRIFT) {
        "drift"
    } else {
        ""
    };
    let reboot = if status.has(status::FLAG_REBOOT_NEEDED) {
        "⟳"
    } else {
        ""
    };
    match what {
        "updates" => format!("{}{mark}", status.updates),
        "reboot" => if reboot.is_empty() { "" } else { "reboot" }.to_string(),
        "merges" => status.config_merges.to_string(),
        "vulns" => format!("{}{mark}", status.vulnerabilities),
        "security" => format!("{}{mark}", status.security_updates),
        "drift" => drift.to_string(),
        "summary" => {
            let mut parts = Vec::new();
            if total > 0 {
                parts.push(format!("↑{total}{mark}"));
            }
            if status.vulnerabilities > 0 {
                parts.push(format!("!{}{mark}", status.vulnerabilities));
            }
            if status.has(status::FLAG_REBOOT_NEEDED) {
                parts.push("⟳".to_string());
            }
            if status.has(status::FLAG_RUNTIME_DRIFT) {
                parts.push("≠".to_string());
            }
            parts.join(" ")
        }
        format => format
            .replace("{updates}", &status.updates.to_string())
            .replace("{foreign}", &status.foreign_updates.to_string())
            .replace("{vulns}", &status.vulnerabilities.to_string())
            .replace("{security}", &status.security_updates.to_string())
            .replace("{total}", &total.to_string())
            .replace("{age}", &age.to_string())
            .replace("{stale}", mark)
            .replace("{drift}", drift)
            .replace("{reboot}", reboot)
            .replace("{merges}", &status.config_merges.to_string()),
    }
}

/// `hook-env SHELL OMG`: nothing when hook-env's state still holds here
/// (the check `omg hook-env` makes first, at the floor of a process
/// start), else omg's own hook-env in this process's place.
fn hook_env(shell: &str, omg: &str) {
    use std::os::unix::process::CommandExt;
    let holds = std::env::var("__OMG_STATE")
        .ok()
        .and_then(|s| status::hook_state::State::decode(&s))
        .zip(std::env::current_dir().ok())
        .is_some_and(|(state, cwd)| state.holds_in(&cwd));
    if holds {
        return;
    }
    let error = std::process::Command::new(omg)
        .args(["hook-env", shell])
        .exec();
    let _ = writeln!(std::io::stderr(), "omg-fast: cannot run {omg}: {error}");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first: Vec<String> = std::env::args().skip(1).take(4).collect();
    if let [command, shell, omg] = first.as_slice()
        && command == "hook-env"
    {
        return hook_env(shell, omg);
    }
    let mut what = String::from("summary");
    let mut watching = false;
    let mut max_age = std::env::var("OMG_FAST_MAX_AGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MAX_AGE);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "updates" | "vulns" | "security" | "drift" | "reboot" | "merges" => what = arg,
            "--format" | "-f" => what = args.next().unwrap_or_default(),
            "--watch" => watching = true,
            "--max-age" => max_age = args.next().and_then(|v| v.parse().ok()).unwrap_or(max_age),
            "--help" | "-h" => {
                println!(
                    "usage: omg-fast [updates|vulns|security|drift|reboot|merges] [--format FMT] [--max-age SECONDS] [--watch]\n\
                     FMT: waybar, i3blocks, polybar, or a template with\n\
                     {{updates}} {{foreign}} {{vulns}} {{security}} {{total}} {{age}} {{stale}} {{drift}} {{reboot}} {{merges}}"
                );
                return;
            }
            "--version" | "-V" => {
                println!("omg-fast {}", env!("CARGO_PKG_VERSION"));
                return;
            }
            _ => return,
        }
    }
    let Some(path) = status_path() else {
        return;
    };
    if watching {
        return watch::run(&path, || {
            let status = status::read(&path);
            (
                output(status, &what, max_age).0,
                until_stale(status, max_age),
            )
        });
    }
    let (text, code) = output(status::read(&path), &what, max_age);
    if !text.is_empty() {
        let _ = writeln!(std::io::stdout(), "{text}");
    }
    if code != 0 {
        std::process::exit(code);
    }
}
