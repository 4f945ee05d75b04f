//! Who is asking, and may they: the caller (`caller`), the peer
//! credentials of a socket client (`peer`), what each request needs of
//! its caller (`access`), polkit's decision for an action (`polkit`), and
//! how files a caller names are opened (`client_files`).

pub mod access;
pub mod caller;
pub mod client_files;
pub mod peer;
pub mod polkit;
