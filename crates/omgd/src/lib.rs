//! omgd: the daemon side of omg. The backends over the package managers'
//! own libraries (libapt-pkg, libalpm), the daemon that keeps the index and
//! answers omg's requests, and its D-Bus service. Everything the command
//! line shares with it (the protocol, the index format, the store, the
//! configuration) is in the `omg` crate; this crate is the only one that
//! links a package-manager library.

pub mod backend;
pub mod daemon;
pub mod dbus;
