//! Who is asking, and may they: the peer credentials of a socket client
//! (`peer`) and polkit's decision for an action (`polkit`).

pub mod peer;
pub mod polkit;
