//! polkit's decision on an action, asked over the system bus
//! (`org.freedesktop.PolicyKit1.Authority.CheckAuthorization`) with the
//! caller as a `unix-process` subject (pid, start time and uid: never a
//! bare pid) or a `system-bus-name` subject (a D-Bus sender).

use std::collections::HashMap;

use zbus::zvariant::Value;

use super::peer::Peer;

/// Whom polkit is asked about.
#[derive(Debug, Clone)]
pub enum Subject {
    Process(Peer),
    BusName(String),
}

/// polkit's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Not allowed; with `challenge`, an authentication agent could have
    /// allowed it (the caller did not ask for interaction, or had none).
    Denied {
        challenge: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PolkitError {
    #[error("cannot reach polkit on the system bus: {0}")]
    Unreachable(String),
    #[error("polkit did not answer: {0}")]
    Failed(String),
}

/// `AllowUserInteraction`.
const ALLOW_INTERACTION: u32 = 1;

#[zbus::proxy(
    interface = "org.freedesktop.PolicyKit1.Authority",
    default_service = "org.freedesktop.PolicyKit1",
    default_path = "/org/freedesktop/PolicyKit1/Authority"
)]
trait Authority {
    #[allow(clippy::type_complexity)]
    fn check_authorization(
        &self,
        subject: &(&str, HashMap<&str, Value<'_>>),
        action_id: &str,
        details: HashMap<&str, &str>,
        flags: u32,
        cancellation_id: &str,
    ) -> zbus::Result<(bool, bool, HashMap<String, String>)>;
}

/// polkit, reached over the system bus.
#[derive(Clone)]
pub struct Polkit {
    connection: zbus::Connection,
}

impl Polkit {
    pub async fn connect() -> Result<Polkit, PolkitError> {
        let connection = zbus::Connection::system()
            .await
            .map_err(|e| PolkitError::Unreachable(e.to_string()))?;
        Ok(Polkit { connection })
    }

    pub fn on(connection: zbus::Connection) -> Polkit {
        Polkit { connection }
    }

    /// Asks whether `subject` may do `action`; with `interactive`, polkit
    /// may ask the user through their authentication agent first.
    pub async fn check(
        &self,
        subject: &Subject,
        action: &str,
        interactive: bool,
    ) -> Result<Decision, PolkitError> {
        let mut fields: HashMap<&str, Value<'_>> = HashMap::new();
        let kind = match subject {
            Subject::Process(peer) => {
                fields.insert("pid", Value::U32(peer.pid));
                fields.insert("start-time", Value::U64(peer.start_time));
                fields.insert("uid", Value::I32(peer.uid as i32));
                "unix-process"
            }
            Subject::BusName(name) => {
                fields.insert("name", Value::from(name.as_str()));
                "system-bus-name"
            }
        };
        let proxy = AuthorityProxy::new(&self.connection)
            .await
            .map_err(|e| PolkitError::Unreachable(e.to_string()))?;
        let flags = if interactive { ALLOW_INTERACTION } else { 0 };
        let (authorized, challenge, _details) = proxy
            .check_authorization(&(kind, fields), action, HashMap::new(), flags, "")
            .await
            .map_err(|e| PolkitError::Failed(e.to_string()))?;
        Ok(if authorized {
            Decision::Allowed
        } else {
            Decision::Denied { challenge }
        })
    }
}
