//! `io.github.omg.Status1` at `/io/github/omg`: what a desktop widget
//! needs, read-only and without authorization. Counts come from the
//! status file (the same bytes `omg-fast` reads) and the daemon;
//! `PropertiesChanged` and `UpdatesChanged` are emitted only when a value
//! changes. Queries (`Search`, `Info`, `ListUpdates`) go through the same
//! engine as the socket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Value};
use zbus::{fdo, interface};

use crate::daemon::engine::Engine;
use omg::ipc::protocol::{RequestBody, ResponseBody, SearchRequest, Sources};
use omg::model::ListFilter;

/// The object path every omg interface lives under.
pub const PATH: &str = "/io/github/omg";
/// The interface's name.
pub const INTERFACE: &str = "io.github.omg.Status1";

/// NotifyStateChanged calls closer together than this are folded into
/// one recount.
const NOTIFY_INTERVAL: Duration = Duration::from_secs(2);

pub struct Status1 {
    engine: Arc<Engine>,
    last_notify: std::sync::Mutex<Option<Instant>>,
    /// What the properties say: the state last announced, so that a
    /// client never reads a value it will not hear the change of.
    published: std::sync::Mutex<State>,
}

/// Everything the properties derive from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct State {
    file: omg_status::Status,
    refreshing: bool,
    locked: bool,
}

impl Status1 {
    pub fn new(engine: Arc<Engine>) -> Status1 {
        let object = Status1 {
            engine,
            last_notify: std::sync::Mutex::new(None),
            published: std::sync::Mutex::new(State::default()),
        };
        let now = object.observe();
        *object.published.lock().unwrap_or_else(|p| p.into_inner()) = now;
        object
    }

    /// The state as it is now.
    fn observe(&self) -> State {
        State {
            file: omg_status::read(&self.engine.paths().status_file()).unwrap_or_default(),
            refreshing: self.engine.refresh_running(),
            locked: self.engine.database_locked(),
        }
    }

    fn state(&self) -> State {
        *self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn status(&self) -> omg_status::Status {
        self.state().file
    }

    /// Publishes the state as it is now; returns what it was before.
    fn publish(&self) -> (State, State) {
        let now = self.observe();
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        let before = *published;
        *published = now;
        (before, now)
    }

    async fn ask(&self, body: RequestBody) -> fdo::Result<ResponseBody> {
        self.engine
            .handle(body)
            .await
            .map_err(|e| fdo::Error::Failed(e.message))
    }
}

#[interface(name = "io.github.omg.Status1")]
impl Status1 {
    /// Packages with a newer version in the repositories.
    #[zbus(property)]
    fn update_count(&self) -> u32 {
        self.status().updates.into()
    }

    /// Pending updates that fix a known vulnerability.
    #[zbus(property)]
    fn security_update_count(&self) -> u32 {
        self.status().security_updates.into()
    }

    /// AUR (foreign) packages with a newer version.
    #[zbus(property)]
    fn foreign_update_count(&self) -> u32 {
        self.status().foreign_updates.into()
    }

    /// Installed packages affected by known vulnerabilities.
    #[zbus(property)]
    fn vulnerable_count(&self) -> u32 {
        self.status().vulnerabilities.into()
    }

    /// Unix time of the last successful refresh (0: never).
    #[zbus(property)]
    fn last_refresh(&self) -> u64 {
        self.status().last_refresh.into()
    }

    #[zbus(property)]
    fn refresh_in_progress(&self) -> bool {
        self.state().refreshing
    }

    /// Whether another program holds the package database's lock.
    #[zbus(property)]
    fn locked(&self) -> bool {
        self.state().locked
    }

    /// Config files upgrades left that wait for `omg merge`.
    #[zbus(property)]
    fn config_merge_count(&self) -> u32 {
        self.status().config_merges.into()
    }

    /// An update (a kernel, the init system, microcode) waits for a
    /// reboot to take effect.
    #[zbus(property)]
    fn reboot_required(&self) -> bool {
        self.status().has(omg_status::FLAG_REBOOT_NEEDED)
    }

    #[zbus(property)]
    fn backend(&self) -> String {
        self.engine.backend_kind().as_str().to_string()
    }

    #[zbus(property)]
    fn daemon_version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }

    /// Every property at once.
    fn get_summary(&self) -> HashMap<String, OwnedValue> {
        let state = self.state();
        let status = state.file;
        let mut out = HashMap::new();
        let mut put = |k: &str, v: Value<'_>| {
            if let Ok(v) = OwnedValue::try_from(v) {
                out.insert(k.to_string(), v);
            }
        };
        put("UpdateCount", Value::U32(status.updates.into()));
        put(
            "SecurityUpdateCount",
            Value::U32(status.security_updates.into()),
        );
        put(
            "ForeignUpdateCount",
            Value::U32(status.foreign_updates.into()),
        );
        put("VulnerableCount", Value::U32(status.vulnerabilities.into()));
        put("LastRefresh", Value::U64(status.last_refresh.into()));
        put("RefreshInProgress", Value::Bool(state.refreshing));
        put("Locked", Value::Bool(state.locked));
        put("ConfigMergeCount", Value::U32(status.config_merges.into()));
        put(
            "RebootRequired",
            Value::Bool(status.has(omg_status::FLAG_REBOOT_NEEDED)),
        );
        put(
            "Backend",
            Value::from(self.engine.backend_kind().as_str().to_string()),
        );
        put(
            "DaemonVersion",
            Value::from(env!("CARGO_PKG_VERSION").to_string()),
        );
        out
    }

    /// Ranked packages matching `query`: (name, version, repository,
    /// description), at most `limit` (0: no limit).
    async fn search(
        &self,
        query: &str,
        limit: u32,
    ) -> fdo::Result<Vec<(String, String, String, String)>> {
        let body = RequestBody::Search(SearchRequest {
            query: query.to_string(),
            limit,
            installed_only: false,
            sources: Sources::Repositories,
        });
        let ResponseBody::Search(results) = self.ask(body).await? else {
            return Err(fdo::Error::Failed("unexpected answer".into()));
        };
        Ok(results
            .hits
            .into_iter()
            .map(|h| (h.name, h.version, h.repository, h.description))
            .collect())
    }

    /// What `omg info NAME` shows, as strings.
    async fn info(&self, name: &str) -> fdo::Result<HashMap<String, String>> {
        let body = RequestBody::Info {
            name: name.to_string(),
        };
        let ResponseBody::Info(info) = self.ask(body).await? else {
            return Err(fdo::Error::Failed("unexpected answer".into()));
        };
        let mut out = HashMap::new();
        out.insert("Name".into(), info.name.clone());
        out.insert("Version".into(), info.version.clone());
        out.insert("Repository".into(), info.repository.clone());
        out.insert("Summary".into(), info.summary.clone());
        out.insert("Description".into(), info.description.clone());
        out.insert(
            "InstalledVersion".into(),
            info.installed_version.clone().unwrap_or_default(),
        );
        out.insert(
            "CandidateVersion".into(),
            info.candidate_version.clone().unwrap_or_default(),
        );
        out.insert("DownloadSize".into(), info.download_size.to_string());
        out.insert("InstalledSize".into(), info.installed_size.to_string());
        Ok(out)
    }

    /// Upgradable packages: (name, installed version, new version).
    async fn list_updates(&self) -> fdo::Result<Vec<(String, String, String)>> {
        let body = RequestBody::List {
            filter: ListFilter::Upgradable,
        };
        let ResponseBody::List(list) = self.ask(body).await? else {
            return Err(fdo::Error::Failed("unexpected answer".into()));
        };
        Ok(list
            .into_iter()
            .map(|p| (p.name, p.version, p.candidate_version.unwrap_or_default()))
            .collect())
    }

    /// Known vulnerabilities of installed packages, from the advisories
    /// last fetched (`omgd work scan`): (package, advisory id, severity,
    /// fixed version or ""). Empty when none were fetched yet.
    async fn list_vulnerabilities(&self) -> Vec<(String, String, String, String)> {
        let Ok(ResponseBody::Audit(report)) = self.engine.stored_audit().await else {
            return Vec::new();
        };
        report
            .findings
            .iter()
            .flat_map(|f| {
                f.advisories.iter().map(move |a| {
                    (
                        f.name.clone(),
                        a.id.clone(),
                        a.severity.as_str().to_string(),
                        a.fixed.clone().unwrap_or_default(),
                    )
                })
            })
            .collect()
    }

    /// Something changed the package database (a pacman hook, APT's
    /// `DPkg::Post-Invoke`): counts are taken again. Calls closer than
    /// two seconds apart count once.
    async fn notify_state_changed(&self, reason: &str) {
        {
            let mut last = self.last_notify.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < NOTIFY_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        log::info!("state changed: {reason}");
        let _ = self.engine.handle(RequestBody::Reload).await;
    }

    /// The update counts changed: (all updates, security updates).
    #[zbus(signal)]
    async fn updates_changed(
        emitter: &SignalEmitter<'_>,
        total: u32,
        security: u32,
    ) -> zbus::Result<()>;
}

/// Watches the status file and the daemon's state (at once when this
/// daemon writes the file, every second for other writers such as
/// `omgd work refresh`), emitting `PropertiesChanged` (and
/// `UpdatesChanged`) for what changed since the last announcement.
pub async fn watch_changes(connection: zbus::Connection, engine: Arc<Engine>) {
    let Ok(iface) = connection
        .object_server()
        .interface::<_, Status1>(PATH)
        .await
    else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = engine.status_written.notified() => {}
        }
        let object = iface.get().await;
        let (before, now) = object.publish();
        if before == now {
            continue;
        }
        let emitter = iface.signal_emitter();
        let (old, new) = (before.file, now.file);
        if new.updates != old.updates {
            warn_on(object.update_count_changed(emitter).await);
        }
        if new.foreign_updates != old.foreign_updates {
            warn_on(object.foreign_update_count_changed(emitter).await);
        }
        if new.security_updates != old.security_updates {
            warn_on(object.security_update_count_changed(emitter).await);
        }
        if new.vulnerabilities != old.vulnerabilities {
            warn_on(object.vulnerable_count_changed(emitter).await);
        }
        if new.last_refresh != old.last_refresh {
            warn_on(object.last_refresh_changed(emitter).await);
        }
        if now.refreshing != before.refreshing {
            warn_on(object.refresh_in_progress_changed(emitter).await);
        }
        if now.locked != before.locked {
            warn_on(object.locked_changed(emitter).await);
        }
        if new.config_merges != old.config_merges {
            warn_on(object.config_merge_count_changed(emitter).await);
        }
        if new.has(omg_status::FLAG_REBOOT_NEEDED) != old.has(omg_status::FLAG_REBOOT_NEEDED) {
            warn_on(object.reboot_required_changed(emitter).await);
        }
        if new.updates != old.updates
            || new.foreign_updates != old.foreign_updates
            || new.security_updates != old.security_updates
        {
            warn_on(
                Status1::updates_changed(emitter, new.updates.into(), new.security_updates.into())
                    .await,
            );
        }
    }
}

fn warn_on(result: zbus::Result<()>) {
    if let Err(e) = result {
        log::warn!("cannot announce a change on D-Bus: {e}");
    }
}
