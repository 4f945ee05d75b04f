//! Pins on Debian: every pinned package is held in dpkg's selections
//! (`dpkg --set-selections`, as `apt-mark hold` does), so apt keeps it
//! wherever it runs. omg's own upgrade then moves a package pinned to a
//! version line (`6.6`) within that line, as the user asked.

use rust_apt::Cache;

use omg::transaction::{Level, PinChange, TxChannel, TxError};

/// dpkg, with the options apt gives it (`--root`, `--admindir`, …).
fn dpkg(config: &rust_apt::config::Config) -> std::process::Command {
    let mut command = std::process::Command::new(config.file("Dir::Bin::dpkg", "/usr/bin/dpkg"));
    let status = config.file("Dir::State::status", "/var/lib/dpkg/status");
    if let Some(admin) = std::path::Path::new(&status).parent() {
        command.arg(format!("--admindir={}", admin.display()));
    }
    command
}

/// Holds (or releases) the package, then records the pin.
pub(super) fn pin(
    config: &rust_apt::config::Config,
    change: &PinChange,
    dry_run: bool,
    channel: &TxChannel,
) -> Result<(), TxError> {
    let cache = Cache::new::<&str>(&[])
        .map_err(|e| TxError::Failed(format!("cannot read the package lists: {e}")))?;
    let Some(pkg) = cache.get(&change.package) else {
        return Err(TxError::NotFound {
            targets: vec![change.package.clone()],
            suggestions: Vec::new(),
        });
    };
    if !change.unpin && !pkg.is_installed() {
        channel.message(
            Level::Warning,
            format!(
                "{} is not installed; the hold applies once it is",
                change.package
            ),
        );
    }
    if dry_run {
        return Ok(());
    }
    let selection = if change.unpin { "install" } else { "hold" };
    let line = format!("{} {selection}\n", pkg.fullname(true));
    let mut child = dpkg(config)
        .arg("--set-selections")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| TxError::Failed(format!("cannot run dpkg: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(line.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| TxError::Failed(format!("dpkg --set-selections: {e}")))?;
    if !output.status.success() {
        return Err(TxError::Failed(format!(
            "dpkg --set-selections failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    omg::pins::apply(change).map_err(|e| TxError::Failed(e.to_string()))?;
    Ok(())
}

/// After apt computed an upgrade: a package pinned to a line gets the
/// newer version when it stays in that line (apt held it back); anything
/// pinned that apt would move out of its line stays.
pub(super) fn enforce(cache: &Cache, channel: &TxChannel) {
    let pins = omg::pins::system();
    for (name, spec) in &pins.pins {
        let Some(pkg) = cache.get(name) else { continue };
        let (Some(installed), Some(candidate)) = (pkg.installed(), pkg.candidate()) else {
            continue;
        };
        if installed.version() == candidate.version() {
            continue;
        }
        let newer = omg::version::debian_vercmp(candidate.version(), installed.version())
            == std::cmp::Ordering::Greater;
        if pins.allows(name, candidate.version()) && newer {
            let auto = pkg.is_auto_installed();
            pkg.mark_install(true, true);
            pkg.mark_auto(auto);
        } else if pkg.marked_upgrade() || pkg.marked_install() {
            pkg.mark_keep();
        }
        if !pins.allows(name, candidate.version()) {
            channel.message(
                Level::Warning,
                format!(
                    "{name} is pinned ({spec}): {} stays, {} is not installed",
                    installed.version(),
                    candidate.version()
                ),
            );
        }
    }
}
