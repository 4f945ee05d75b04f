//! The Arch User Repository: its RPC v5 interface (`rpc`), its metadata
//! dump (`dump`) indexed for searches without the network (`offline`),
//! `.SRCINFO` files (`srcinfo`), builds in a bubblewrap sandbox
//! (`sandbox`) with their output kept in logs (`buildlog`), independent
//! bases at the same time (`parallel`), the risks a review should look at
//! (`risk`), and working out what to build and install, and in which
//! order, across the repositories and the AUR (`resolve`).

pub mod build;
pub mod buildlog;
pub mod devel;
pub mod dump;
pub mod history;
pub mod offline;
pub mod parallel;
pub mod resolve;
pub mod risk;
pub mod rpc;
pub mod sandbox;
pub mod search;
pub mod srcinfo;
