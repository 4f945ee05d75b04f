//! Rust when rustup is installed: omg hands toolchain work to it (rustup
//! already switches toolchains per directory through its proxies and
//! `rust-toolchain.toml`), says so, and keeps `--local` writing the file
//! both read.

use std::path::{Path, PathBuf};

use super::{EXIT_FAILURE, EXIT_OK, Failure};
use crate::runtime::version_file::{self, Runtime};

/// The installed rustup omg delegates to, if any.
pub fn delegate() -> Option<PathBuf> {
    crate::runtime::rust::rustup()
}

fn run(rustup: &Path, args: &[String]) -> Result<u8, Failure> {
    eprintln!(
        "omg: rustup is installed; handing this to {} {}",
        rustup.display(),
        args.join(" ")
    );
    let status = std::process::Command::new(rustup)
        .args(args)
        .status()
        .map_err(|e| {
            Failure::new(
                format!("cannot run {}: {e}", rustup.display()),
                EXIT_FAILURE,
            )
        })?;
    Ok(if status.success() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// The components and targets the project's `rust-toolchain.toml` asks
/// for, when it asks for this `request`.
pub fn project_extras(request: &str) -> (Vec<String>, Vec<String>) {
    let here = std::env::current_dir().unwrap_or_default();
    match version_file::detect(&here).remove(&Runtime::Rust) {
        Some(w) if w.version == request => (w.components, w.targets),
        _ => (Vec::new(), Vec::new()),
    }
}

/// `rustup toolchain install REQUEST -c … -t …`.
pub fn install(rustup: &Path, request: &str) -> Result<u8, Failure> {
    let mut args = vec!["toolchain".into(), "install".into(), request.to_string()];
    let (components, targets) = project_extras(request);
    for c in components {
        args.extend(["--component".into(), c]);
    }
    for t in targets {
        args.extend(["--target".into(), t]);
    }
    run(rustup, &args)
}

/// `omg use rust X`: `rustup default X` (which installs it if missing).
pub fn use_default(rustup: &Path, request: &str) -> Result<u8, Failure> {
    run(rustup, &["default".into(), request.to_string()])
}

pub fn uninstall(rustup: &Path, version: &str) -> Result<u8, Failure> {
    run(
        rustup,
        &["toolchain".into(), "uninstall".into(), version.to_string()],
    )
}

pub fn list(rustup: &Path) -> Result<u8, Failure> {
    run(rustup, &["toolchain".into(), "list".into()])
}

/// `omg which cargo` under rustup: `rustup which cargo`.
pub fn which(rustup: &Path, program: &str) -> Result<u8, Failure> {
    run(rustup, &["which".into(), program.to_string()])
}

/// Sets the channel in `rust-toolchain.toml` (creating it), keeping its
/// other lines; what both rustup and omg read.
pub fn write_toolchain_file(file: &Path, channel: &str) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(file).unwrap_or_default();
    let line = format!("channel = \"{channel}\"");
    let mut lines: Vec<String> = existing.lines().map(str::to_string).collect();
    let mut in_toolchain = false;
    let mut replaced = false;
    let mut header = None;
    for (i, l) in lines.iter_mut().enumerate() {
        let t = l.trim();
        if t.starts_with('[') {
            in_toolchain = t == "[toolchain]";
            if in_toolchain {
                header = Some(i);
            }
        } else if in_toolchain && t.split('=').next().is_some_and(|k| k.trim() == "channel") {
            *l = line.clone();
            replaced = true;
        }
    }
    if !replaced {
        match header {
            Some(i) => lines.insert(i + 1, line),
            None => {
                if !lines.is_empty() {
                    lines.push(String::new());
                }
                lines.push("[toolchain]".into());
                lines.push(line);
            }
        }
    }
    let tmp = file.with_extension("omg-tmp");
    std::fs::write(&tmp, lines.join("\n") + "\n")?;
    std::fs::rename(tmp, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toolchain_file_keeps_components_and_changes_the_channel() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rust-toolchain.toml");
        write_toolchain_file(&file, "1.86.0").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "[toolchain]\nchannel = \"1.86.0\"\n"
        );
        std::fs::write(
            &file,
            "[toolchain]\nchannel = \"stable\"\ncomponents = [\"clippy\"]\n",
        )
        .unwrap();
        write_toolchain_file(&file, "nightly-2025-04-03").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "[toolchain]\nchannel = \"nightly-2025-04-03\"\ncomponents = [\"clippy\"]\n"
        );
        let detected = version_file::detect(dir.path());
        assert_eq!(detected[&Runtime::Rust].version, "nightly-2025-04-03");
        assert_eq!(detected[&Runtime::Rust].components, ["clippy"]);
    }
}
