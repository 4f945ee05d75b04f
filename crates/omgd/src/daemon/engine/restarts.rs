//! The units that still run files an upgrade replaced (`omg restart`):
//! found by reading the process table, restarted through systemctl —
//! only units found so, and init or a login session only when the caller
//! named them knowingly.

use super::Engine;
use omg::ipc::protocol::{ErrorKind, ResponseBody, WireError};
use omg::restart::Restart;

impl Engine {
    /// Every unit (or lone process) mapping replaced files of this
    /// package manager's root (which only a daemon with the package
    /// database knows: omgd-lite sends the client on).
    pub async fn restarts(&self) -> Result<Vec<Restart>, WireError> {
        let root = self.backend()?.root.clone();
        Ok(tokio::task::spawn_blocking(move || {
            omg::restart::scan(std::path::Path::new("/proc"), &root)
        })
        .await
        .unwrap_or_default())
    }

    /// Restarts `units`, each among those that run replaced files.
    pub(super) async fn restart(
        &self,
        units: Vec<String>,
        sensitive: bool,
    ) -> Result<ResponseBody, WireError> {
        if units.is_empty() {
            return Err(WireError::new(ErrorKind::InvalidRequest, "no unit named"));
        }
        let found = self.restarts().await?;
        for unit in &units {
            let Some(r) = found
                .iter()
                .find(|r| r.unit.as_deref() == Some(unit.as_str()))
            else {
                return Err(WireError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "{unit} runs no replaced file: omg restarts only what omg restart lists"
                    ),
                ));
            };
            if r.sensitive && !sensitive {
                return Err(WireError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "restarting {unit} ends the machine's init or a login session: name it knowingly"
                    ),
                ));
            }
        }
        let output = tokio::process::Command::new("systemctl")
            .arg("restart")
            .arg("--")
            .args(&units)
            .output()
            .await
            .map_err(|e| {
                WireError::new(ErrorKind::Internal, format!("cannot run systemctl: {e}"))
            })?;
        if !output.status.success() {
            return Err(WireError::new(
                ErrorKind::TransactionFailed,
                format!(
                    "systemctl restart {} failed: {}",
                    units.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            ));
        }
        Ok(ResponseBody::Done)
    }
}
