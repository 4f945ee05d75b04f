//! Package files named in a transaction by a socket peer who is not
//! root: each is opened with the peer's own rights (never following a
//! link, never blocking, regular files only) and copied, with its
//! detached signature when there is one, into a root-owned staging
//! directory; the transaction then reads the copies. The directory goes
//! when the transaction ends.

use super::Engine;
use omg::auth::caller::Caller;
use omg::auth::client_files::{self, FileError, MAX_CLIENT_FILE, Staging};
use omg::ipc::protocol::{ErrorKind, WireError};
use omg::transaction::{TransactionAction, TransactionRequest};

impl Engine {
    /// Stages the package files of `request` when `caller` is a peer who
    /// is not root, pointing the request at the copies.
    pub(super) async fn stage_package_files(
        &self,
        request: &mut TransactionRequest,
        caller: &Caller,
    ) -> Result<Option<Staging>, WireError> {
        let TransactionAction::Install { targets } = &mut request.action else {
            return Ok(None);
        };
        if !targets.iter().any(|t| client_files::is_package_file(t)) {
            return Ok(None);
        }
        let peer = match caller {
            Caller::Peer(peer) if !peer.is_root() => peer.clone(),
            // The stdio parent and root read what they may themselves.
            Caller::Parent | Caller::Peer(_) => return Ok(None),
            Caller::Bus(_) | Caller::Unknown => {
                return Err(WireError::new(
                    ErrorKind::NotAuthorized,
                    "package files are taken only from a caller the daemon can identify",
                ));
            }
        };
        let parent = self.paths.cache_dir.join("staging");
        let originals = targets.clone();
        let staged = tokio::task::spawn_blocking(move || {
            let staging = Staging::new(&parent)?;
            let mut copies = Vec::new();
            for target in originals {
                if !client_files::is_package_file(&target) {
                    copies.push(target);
                    continue;
                }
                let path = std::path::Path::new(&target);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let file = client_files::open_as(&peer, path, MAX_CLIENT_FILE)?;
                let copy = staging.copy_in(file, &name, MAX_CLIENT_FILE)?;
                // pacman -U reads a signature beside the package.
                let signature = path.with_file_name(format!("{name}.sig"));
                if let Ok(sig) = client_files::open_as(&peer, &signature, 1 << 20) {
                    staging.copy_in(sig, &format!("{name}.sig"), 1 << 20)?;
                }
                copies.push(copy.display().to_string());
            }
            Ok::<_, FileError>((staging, copies))
        })
        .await
        .map_err(|e| WireError::new(ErrorKind::Internal, e.to_string()))?
        .map_err(|e| WireError::new(ErrorKind::InvalidRequest, e.to_string()))?;
        let (staging, copies) = staged;
        *targets = copies;
        Ok(Some(staging))
    }
}
