//! Whether a caller may: the access table (`auth::access`) applied to a
//! request, polkit asked for the system instance's actions, and the
//! decision on PGP key imports that a transaction defers until a key is
//! about to be imported.

use std::sync::Arc;

use super::Engine;
use omg::auth::access::{self, Access};
use omg::auth::caller::Caller;
use omg::auth::polkit::{Decision, Polkit, Subject};
use omg::ipc::protocol::{ErrorKind, RequestBody, WireError};
use omg::transaction::TxChannel;

fn refused(message: impl Into<String>) -> WireError {
    WireError::new(ErrorKind::NotAuthorized, message)
}

impl Engine {
    /// Whether `caller` may send `body` at all (`auth::access`).
    pub async fn permit(&self, caller: &Caller, body: &RequestBody) -> Result<(), WireError> {
        let what = access::name(body);
        match access::required(body) {
            Access::Anyone => Ok(()),
            Access::Polkit(action) => {
                let interactive = match body {
                    RequestBody::Transaction(tx) => tx.options.interactive,
                    RequestBody::Restart { interactive, .. } => *interactive,
                    _ => false,
                };
                self.authorize(caller, action, interactive).await
            }
            Access::Owner if caller.is_owner() => Ok(()),
            Access::Owner => Err(refused(format!(
                "not authorized: only {} may send {what} to this omgd",
                self.owner_name()
            ))),
            Access::OwnDaemon if self.system && !matches!(caller, Caller::Parent) => {
                Err(refused(format!(
                    "not authorized: the system instance does not take {what} (it opens no file a caller names, installs no runtime and reaches no network for a caller); omg asks your own omgd for it"
                )))
            }
            Access::OwnDaemon if caller.is_owner() => Ok(()),
            Access::OwnDaemon => Err(refused(format!(
                "not authorized: only {} may send {what} to this omgd",
                self.owner_name()
            ))),
        }
    }

    fn owner_name(&self) -> &'static str {
        if self.system {
            "root"
        } else {
            "the user it runs for"
        }
    }

    /// Whether `caller` may do `action`. Only the system instance asks:
    /// its socket is open to every user. Root, the process that started
    /// an `omgd --stdio` and a D-Bus caller its front end had authorized
    /// may; anyone else needs polkit's yes.
    pub(super) async fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        interactive: bool,
    ) -> Result<(), WireError> {
        if !self.system {
            return Ok(());
        }
        let subject = match caller {
            Caller::Parent | Caller::Bus(_) => return Ok(()),
            Caller::Peer(peer) if peer.is_root() => return Ok(()),
            Caller::Peer(peer) => Subject::Process(peer.clone()),
            Caller::Unknown => {
                return Err(refused(
                    "the system instance cannot tell who is asking (no peer credentials)",
                ));
            }
        };
        match self.polkit_check(&subject, action, interactive).await {
            Ok(()) => {
                if let Subject::Process(peer) = &subject {
                    log::info!(
                        "polkit allows {action} for uid {} (pid {})",
                        peer.uid,
                        peer.pid
                    );
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn polkit(&self) -> Result<&Polkit, WireError> {
        self.polkit
            .get_or_try_init(Polkit::connect)
            .await
            .map_err(|e| refused(e.to_string()))
    }

    async fn polkit_check(
        &self,
        subject: &Subject,
        action: &str,
        interactive: bool,
    ) -> Result<(), WireError> {
        let polkit = self
            .polkit()
            .await
            .map_err(|e| refused(format!("{action}: {}", e.message)))?;
        match polkit.check(subject, action, interactive).await {
            Ok(Decision::Allowed) => Ok(()),
            Ok(Decision::Denied { challenge }) => {
                let how = if challenge && !interactive {
                    " (authentication is possible: run it from a terminal, or with an authentication agent)"
                } else {
                    ""
                };
                Err(refused(format!(
                    "not authorized: polkit does not allow {action} for this user{how}"
                )))
            }
            Err(e) => Err(refused(format!("{action}: {e}"))),
        }
    }

    /// Tells `channel` how to decide, when libalpm is about to import a
    /// PGP key, whether this caller may trust it: root and the stdio
    /// parent may; on the system instance a socket peer needs polkit's
    /// yes for `io.github.omg.trust-key`, and a D-Bus caller (whose
    /// transactions cannot be asked questions) never has a key imported.
    pub(super) async fn decide_key_trust(
        &self,
        caller: &Caller,
        interactive: bool,
        channel: &TxChannel,
    ) {
        let subject = match caller {
            _ if !self.system => None,
            Caller::Parent => None,
            Caller::Peer(peer) if peer.is_root() => None,
            Caller::Peer(peer) => Some((Subject::Process(peer.clone()), interactive)),
            Caller::Bus(_) | Caller::Unknown => {
                channel.set_key_trust(Box::new(|| false));
                return;
            }
        };
        let Some((subject, interactive)) = subject else {
            channel.set_key_trust(Box::new(|| true));
            return;
        };
        let polkit = match self.polkit().await {
            Ok(p) => p.clone(),
            Err(_) => {
                channel.set_key_trust(Box::new(|| false));
                return;
            }
        };
        let runtime = tokio::runtime::Handle::current();
        let decided = Arc::new(std::sync::OnceLock::new());
        channel.set_key_trust(Box::new(move || {
            *decided.get_or_init(|| {
                // The backend thread is not one of the runtime's: it may
                // wait for polkit's answer here.
                let check = polkit.check(&subject, access::TRUST_KEY, interactive);
                matches!(runtime.block_on(check), Ok(Decision::Allowed))
            })
        }));
    }
}
