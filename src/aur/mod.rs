//! The Arch User Repository: its RPC v5 interface (`rpc`), its metadata
//! dump (`dump`) indexed for searches without the network (`offline`),
//! `.SRCINFO` files (`srcinfo`), builds in a bubblewrap sandbox
//! (`sandbox`), and working out what to build and
//! install, and in which order, across the repositories and the AUR
//! (`resolve`).

pub mod build;
pub mod devel;
pub mod dump;
pub mod history;
pub mod offline;
pub mod resolve;
pub mod rpc;
pub mod sandbox;
pub mod search;
pub mod srcinfo;
