//! omg: one package manager for system packages (apt, pacman), the AUR and
//! language runtimes.
//!
//! This library holds what the command line and the daemon share; the
//! binaries are thin. `omg` (the `cli` module) only parses arguments, talks
//! to `omgd` over `ipc` and renders answers. The backends (libapt-pkg,
//! libalpm), the daemon and its D-Bus service live in their own crate
//! (crates/omgd), so the `omg` binary links no package-manager library and
//! no C++ runtime. `omg-fast` (crates/omg-fast) reads only the status file
//! (crates/omg-status).

pub mod audit;
pub mod aur;
pub mod auth;
pub mod cli;
pub mod config;
pub mod detect;
pub mod envlock;
pub mod graph;
pub mod history;
pub mod http;
pub mod index;
pub mod ipc;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod news;
pub mod outdated;
pub mod package_file;
pub mod pins;
pub mod provides;
pub mod reboot;
pub mod restart;
pub mod runtime;
pub mod security;
pub mod store;
pub mod text;
pub mod transaction;
pub mod version;

/// The status file for prompts (its own crate, so `omg-fast` links nothing else).
pub use omg_status as status;

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
