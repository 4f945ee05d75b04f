//! The Arch User Repository: its RPC v5 interface (`rpc`), `.SRCINFO`
//! files (`srcinfo`), and working out what to build and install, and in
//! which order, across the repositories and the AUR (`resolve`).

pub mod build;
pub mod devel;
pub mod history;
pub mod resolve;
pub mod rpc;
pub mod search;
pub mod srcinfo;
