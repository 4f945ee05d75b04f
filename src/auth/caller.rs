//! Who is asking: the process that started a stdio daemon, a socket peer
//! as the kernel names it, or a D-Bus caller; for the audit log and the
//! access table.

/// Who is on the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The process that started this `omgd --stdio`: it runs with that
    /// process's own rights.
    Parent,
    /// A client of the socket, as the kernel names it.
    Peer(crate::auth::peer::Peer),
    /// A client of the socket the kernel said nothing about.
    Unknown,
    /// A D-Bus caller (its unique bus name) that the bus front end has
    /// already had authorized for the transaction it started.
    Bus(String),
}

impl Caller {
    /// Who this is, for the audit log: the user a sudo came from, the
    /// socket peer's user, or the bus caller.
    pub fn user(&self) -> String {
        match self {
            Caller::Parent => {
                let uid = std::env::var("SUDO_UID")
                    .ok()
                    .and_then(|u| u.parse().ok())
                    // SAFETY: getuid has no preconditions.
                    .unwrap_or_else(|| unsafe { libc::getuid() });
                crate::audit::user_name(uid)
            }
            Caller::Peer(peer) => crate::audit::user_name(peer.uid),
            Caller::Unknown => "unknown".into(),
            Caller::Bus(name) => format!("a D-Bus caller ({name})"),
        }
    }

    /// The process that started this omgd, or a peer with the daemon's
    /// own user id (root for the system instance).
    pub fn is_owner(&self) -> bool {
        match self {
            Caller::Parent => true,
            // SAFETY: geteuid has no preconditions.
            Caller::Peer(peer) => peer.uid == unsafe { libc::geteuid() },
            Caller::Unknown | Caller::Bus(_) => false,
        }
    }
}
