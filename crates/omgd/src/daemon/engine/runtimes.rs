//! The runtime family: what a runtime's upstream offers, and installing a
//! version for the daemon's own user (through `runtime::install`, with
//! `runtime::versions` owning the versions directory).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use log::warn;

use super::Engine;
use omg::auth::caller::Caller;
use omg::ipc::protocol::{ErrorKind, ResponseBody, WireError};
use omg::runtime::versions;
use omg::store::{Cache, RUNTIME_INDEX};
use omg::transaction::TxChannel;

impl Engine {
    /// What a runtime's upstream offers (`omg list RUNTIME --available`),
    /// asked at most once an hour (kept in the store between processes).
    pub(super) async fn runtime_available(&self, runtime: &str) -> Result<ResponseBody, WireError> {
        use omg::model::AvailableVersion;
        use omg::runtime::version_file::Runtime;
        const TTL: u64 = 3600;
        let Some(which) = Runtime::from_name(runtime) else {
            return Err(WireError::new(
                ErrorKind::Unsupported,
                format!("{runtime} is not a runtime omg manages"),
            ));
        };
        let key = format!("available:{}", which.as_str());
        let cache = Cache::new(self.store.as_ref(), RUNTIME_INDEX);
        if let Some(list) = cache.fresh::<Vec<AvailableVersion>>(&key, TTL) {
            return Ok(ResponseBody::RuntimeAvailable(list));
        }
        let versions = omg::runtime::versions_dir(&self.paths);
        let installed = omg::runtime::versions::installed(&versions, which.as_str());
        let client =
            omg::runtime::upstream::client().map_err(|e| WireError::new(ErrorKind::Internal, e))?;
        let list =
            omg::runtime::upstream::available(which, &self.config.runtimes, &installed, &client)
                .await
                .map_err(|e| WireError::new(ErrorKind::Database, format!("cannot read {e}")))?;
        cache.put(&key, &list);
        Ok(ResponseBody::RuntimeAvailable(list))
    }

    /// Installs a runtime version for this user, reporting through
    /// `channel`.
    pub async fn runtime_install(
        &self,
        install: omg::ipc::protocol::RuntimeInstallRequest,
        channel: Arc<TxChannel>,
        caller: &Caller,
    ) -> Result<ResponseBody, WireError> {
        use omg::runtime::install::{self, Progress};
        use omg::runtime::version_file::Runtime;
        use omg::transaction::{DownloadState, TxEvent};
        self.requests.fetch_add(1, Ordering::Relaxed);
        let _busy = self.busy_guard()?;
        // Runtimes belong to each user: the system instance installs none
        // for its callers.
        if self.system && !matches!(caller, Caller::Parent) {
            return Err(WireError::new(
                ErrorKind::NotAuthorized,
                "runtimes are installed per user: the system instance installs none (omg runs your own omgd for them)",
            ));
        }
        super::tx::check_group(install.group.as_deref())?;
        let Some(runtime) = Runtime::from_name(&install.runtime) else {
            return Err(WireError::new(
                ErrorKind::Unsupported,
                format!("{} is not a runtime omg manages", install.runtime),
            ));
        };
        let Some(verify) = self.verifiers.keyring else {
            return Err(WireError::new(
                ErrorKind::NeedsBackend,
                "installing runtimes needs omgd",
            ));
        };
        let versions_dir = omg::runtime::versions_dir(&self.paths);
        let downloads = self.paths.cache_dir.join("downloads");
        let mut report = |p: Progress<'_>| match p {
            Progress::Step(text) => channel.step(text),
            Progress::Download {
                file,
                received,
                total,
            } => channel.send(TxEvent::Download {
                file: file.to_string(),
                state: DownloadState::Progress,
                received,
                total,
            }),
            Progress::Done { file, size } => channel.send(TxEvent::Download {
                file: file.to_string(),
                state: DownloadState::Done,
                received: size,
                total: size,
            }),
        };
        let request = install::Request {
            runtime,
            version: &install.request,
            components: &install.components,
            targets: &install.targets,
            insecure: install.insecure,
            config: &self.config.runtimes,
            verify,
            versions: &versions_dir,
            downloads: &downloads,
        };
        // What was there before, to tell a new install from a switch.
        let existed = versions::installed(&versions_dir, runtime.as_str());
        // A version already installed that answers the request (an exact
        // version, a partial one, or an alias that resolves against what
        // is installed) is switched to without asking upstream: `omg use`
        // works offline for what is here.
        // (Not when components or targets are asked for: those may be
        // missing from what is installed.)
        let plain = install.components.is_empty() && install.targets.is_empty();
        let here = (plain && (install.make_current || install::is_exact(&install.request)))
            .then(|| {
                omg::runtime::hook::installed_match(&versions_dir, runtime, &install.request)
                    .filter(|_| !install::moves_upstream(&install.request))
            })
            .flatten();
        let installed = match here {
            Some(path) => {
                let version = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                channel.step(format!(
                    "{} {version} is installed: no download needed",
                    runtime.as_str()
                ));
                Ok((version, path))
            }
            None => install::install(request, &mut report).await,
        };
        let (version, path) = installed?;
        let name = runtime.as_str();
        let user = caller.user();
        let details = serde_json::json!({
            "requested": install.request,
            "path": path.display().to_string(),
        });
        let subject = format!("{name} {version}");
        let previous = versions::current(&versions_dir, name);
        let mut changes = Vec::new();
        if !existed.contains(&version) {
            changes.push(versions::change(name, "install", None, Some(&version)));
        }
        if install.make_current && previous.as_deref() != Some(version.as_str()) {
            changes.push(versions::change(
                name,
                "switch",
                previous.as_deref(),
                Some(&version),
            ));
        }
        let verb = if install.make_current {
            "use"
        } else {
            "install"
        };
        let command = format!("{verb} {name} {}", install.request);
        let recorded = versions::audit(
            &versions_dir,
            &user,
            "runtime-install",
            &subject,
            details.clone(),
        )
        .and_then(|()| {
            versions::record_in_group(
                &versions_dir,
                &user,
                &command,
                changes,
                install.group.as_deref(),
            )
        });
        if let Err(e) = recorded {
            warn!("{e}");
        }
        if install.make_current {
            install::set_current(&versions_dir, name, &version)?;
            if let Err(e) =
                versions::audit(&versions_dir, &user, "runtime-switch", &subject, details)
            {
                warn!("{e}");
            }
        }
        Ok(ResponseBody::RuntimeInstalled {
            runtime: name.into(),
            version,
            path: path.display().to_string(),
        })
    }
}
