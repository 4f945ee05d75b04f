//! `omg tray`: a StatusNotifierItem (the tray protocol of KDE, XFCE,
//! Cinnamon, waybar, swaybar, GNOME's AppIndicator extension) showing the
//! state omgd publishes on D-Bus (`io.github.omg.Status1`): up to date,
//! updates pending, security updates pending. It follows omgd's
//! `PropertiesChanged` and `UpdatesChanged` signals and, for when omgd is
//! not running (it exits when idle), the status file itself (inotify); it
//! never polls. Its
//! menu shows the pending updates in a terminal, upgrades through
//! `Manager1.Upgrade` on the system bus (the desktop's polkit agent asks),
//! refreshes, and quits. `--enable`/`--disable` manage its XDG autostart
//! entry.

use std::path::PathBuf;

use futures_util::StreamExt;
use ksni::TrayMethods;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::{EXIT_FAILURE, EXIT_OK, Failure};

/// The bus name omgd owns.
const OMGD_NAME: &str = "io.github.omg";

#[derive(Debug, clap::Args)]
pub struct TrayArgs {
    /// Start the tray with the desktop session (an XDG autostart entry)
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Stop starting it with the desktop session
    #[arg(long)]
    pub disable: bool,
}

#[zbus::proxy(
    interface = "io.github.omg.Status1",
    default_service = "io.github.omg",
    default_path = "/io/github/omg"
)]
trait Status1 {
    #[zbus(property)]
    fn update_count(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn security_update_count(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn foreign_update_count(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn vulnerable_count(&self) -> zbus::Result<u32>;
    #[zbus(property)]
    fn last_refresh(&self) -> zbus::Result<u64>;
    #[zbus(signal)]
    fn updates_changed(&self, total: u32, security: u32) -> zbus::Result<()>;
}

#[zbus::proxy(
    interface = "io.github.omg.Manager1",
    default_service = "io.github.omg",
    default_path = "/io/github/omg"
)]
trait Manager1 {
    #[zbus(allow_interactive_auth)]
    fn upgrade(&self) -> zbus::Result<zbus::zvariant::OwnedObjectPath>;
    #[zbus(allow_interactive_auth)]
    fn refresh(&self) -> zbus::Result<zbus::zvariant::OwnedObjectPath>;
}

#[zbus::proxy(
    interface = "io.github.omg.Transaction1",
    default_service = "io.github.omg"
)]
trait Transaction1 {
    #[zbus(property)]
    fn error_message(&self) -> zbus::Result<String>;
    #[zbus(signal)]
    fn progress(&self, step: String, percentage: u32) -> zbus::Result<()>;
    #[zbus(signal)]
    fn finished(&self, exit: u32, runtime_ms: u64) -> zbus::Result<()>;
}

/// What omgd says, as the tray shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub updates: u32,
    pub foreign: u32,
    pub security: u32,
    pub vulnerable: u32,
    pub last_refresh: u64,
}

/// The menu's actions, carried out by the main loop.
#[derive(Debug)]
enum Action {
    ShowUpdates,
    Upgrade,
    Refresh,
    Quit,
}

struct OmgTray {
    counts: Counts,
    /// A running upgrade's last step, shown in the tooltip.
    progress: Option<String>,
    actions: UnboundedSender<Action>,
}

impl OmgTray {
    fn total(&self) -> u32 {
        self.counts.updates + self.counts.foreign
    }

    fn title_text(&self) -> String {
        match (self.total(), self.counts.security) {
            (0, _) => "omg: up to date".into(),
            (n, 0) => format!("omg: {n} update{}", if n == 1 { "" } else { "s" }),
            (n, s) => format!("omg: {n} updates, {s} for security"),
        }
    }
}

/// The tooltip's lines for `counts` at time `now`.
pub fn describe(counts: &Counts, now: u64) -> String {
    let total = counts.updates + counts.foreign;
    let mut lines = vec![match total {
        0 => "up to date".to_string(),
        1 => "1 update".to_string(),
        n => format!("{n} updates"),
    }];
    if counts.foreign > 0 {
        lines.push(format!("{} from the AUR or runtimes", counts.foreign));
    }
    if counts.security > 0 {
        lines.push(format!("{} fix known vulnerabilities", counts.security));
    }
    if counts.vulnerable > 0 {
        lines.push(format!(
            "{} installed packages with known vulnerabilities",
            counts.vulnerable
        ));
    }
    lines.push(if counts.last_refresh == 0 {
        "never refreshed".into()
    } else {
        let minutes = now.saturating_sub(counts.last_refresh) / 60;
        format!("last refresh {minutes} min ago")
    });
    lines.join("\n")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ksni::Tray for OmgTray {
    fn id(&self) -> String {
        "omg".into()
    }

    fn title(&self) -> String {
        self.title_text()
    }

    fn category(&self) -> ksni::Category {
        ksni::Category::SystemServices
    }

    fn status(&self) -> ksni::Status {
        if self.counts.security > 0 {
            ksni::Status::NeedsAttention
        } else if self.total() > 0 || self.progress.is_some() {
            ksni::Status::Active
        } else {
            ksni::Status::Passive
        }
    }

    fn icon_name(&self) -> String {
        if self.counts.security > 0 {
            "software-update-urgent"
        } else if self.total() > 0 {
            "software-update-available"
        } else {
            "security-high"
        }
        .into()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        let mut description = describe(&self.counts, now());
        if let Some(progress) = &self.progress {
            description = format!("{progress}\n{description}");
        }
        ksni::ToolTip {
            icon_name: self.icon_name(),
            title: self.title_text(),
            description,
            icon_pixmap: Vec::new(),
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.actions.send(Action::ShowUpdates);
    }

    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        use ksni::menu::StandardItem;
        let item = |label: &str, action: fn() -> Action| {
            StandardItem {
                label: label.into(),
                activate: Box::new(move |this: &mut Self| {
                    let _ = this.actions.send(action());
                }),
                ..Default::default()
            }
            .into()
        };
        vec![
            item("Show pending updates", || Action::ShowUpdates),
            item("Upgrade…", || Action::Upgrade),
            item("Refresh now", || Action::Refresh),
            ksni::MenuItem::Separator,
            item("Quit", || Action::Quit),
        ]
    }
}

/// The bus omgd's Status1 is on: the system bus when omgd is there
/// (running, or startable by D-Bus activation), else the session bus.
async fn status_bus() -> Result<(zbus::Connection, bool), Failure> {
    if let Ok(system) = zbus::Connection::system().await
        && let Ok(dbus) = zbus::fdo::DBusProxy::new(&system).await
    {
        let owned = match zbus::names::BusName::try_from(OMGD_NAME) {
            Ok(name) => dbus.name_has_owner(name).await.unwrap_or(false),
            Err(_) => false,
        };
        let activatable = dbus
            .list_activatable_names()
            .await
            .is_ok_and(|names| names.iter().any(|n| n.as_str() == OMGD_NAME));
        if owned || activatable {
            return Ok((system, true));
        }
    }
    let session = zbus::Connection::session().await.map_err(|e| {
        Failure::new(
            format!("cannot reach the session bus: {e} (omg tray runs in a desktop session)"),
            EXIT_FAILURE,
        )
    })?;
    Ok((session, false))
}

/// The counts as the status file has them (what Status1 serves).
fn file_counts(path: &std::path::Path) -> Option<Counts> {
    let file = omg_status::read(path)?;
    Some(Counts {
        updates: file.updates.into(),
        foreign: file.foreign_updates.into(),
        security: file.security_updates.into(),
        vulnerable: file.vulnerabilities.into(),
        last_refresh: file.last_refresh.into(),
    })
}

/// A message each time the status file at `path` is replaced, from a
/// thread blocked on an inotify watch of its directory. A directory that
/// cannot be watched (not there until omgd first runs, or not readable)
/// is tried again every two seconds; the thread ends with the receiver.
fn watch_status_file(path: PathBuf) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    use omg_status::watch::{Event, Watch};
    use std::os::unix::ffi::OsStrExt;
    let (changed, receiver) = unbounded_channel();
    std::thread::spawn(move || {
        let dir = path.parent().unwrap_or(std::path::Path::new("/"));
        let name = path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
        while !changed.is_closed() {
            let Some(watch) = Watch::new(dir) else {
                std::thread::sleep(std::time::Duration::from_secs(2));
                continue;
            };
            // What changed before the watch was set is read now.
            if changed.send(()).is_err() {
                return;
            }
            loop {
                match watch.wait(name, 60_000) {
                    Event::Changed => {
                        if changed.send(()).is_err() {
                            return;
                        }
                    }
                    Event::Gone => break,
                    Event::Other | Event::TimedOut if changed.is_closed() => return,
                    Event::Other | Event::TimedOut => {}
                }
            }
        }
    });
    receiver
}

async fn read_counts(status: &Status1Proxy<'_>) -> zbus::Result<Counts> {
    Ok(Counts {
        updates: status.update_count().await?,
        foreign: status.foreign_update_count().await?,
        security: status.security_update_count().await?,
        vulnerable: status.vulnerable_count().await?,
        last_refresh: status.last_refresh().await?,
    })
}

pub async fn run(args: &TrayArgs) -> Result<u8, Failure> {
    if args.enable || args.disable {
        return autostart(args.enable);
    }
    let (connection, on_system) = status_bus().await?;
    // No property cache: every read asks omgd (after a signal said what
    // changed), and the first read starts omgd by D-Bus activation.
    let status = Status1Proxy::builder(&connection)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .map_err(dbus_failure)?;
    // omgd not there (and not startable): the item says so and waits for
    // it to appear on the bus.
    let (counts, progress) = match read_counts(&status).await {
        Ok(counts) => (counts, None),
        Err(e) => (
            Counts::default(),
            Some(format!("omgd cannot be reached: {e}")),
        ),
    };
    let (actions, mut requested) = unbounded_channel();
    let tray = OmgTray {
        counts,
        progress,
        actions,
    };
    // A desktop whose tray host starts after the session's programs: the
    // item registers when the host appears.
    let handle = tray
        .assume_sni_available(true)
        .spawn()
        .await
        .map_err(|e| Failure::new(format!("cannot show the tray item: {e}"), EXIT_FAILURE))?;
    let mut updates = status
        .receive_updates_changed()
        .await
        .map_err(dbus_failure)?;
    let properties = zbus::fdo::PropertiesProxy::builder(&connection)
        .destination(OMGD_NAME)
        .and_then(|b| b.path("/io/github/omg"))
        .map_err(dbus_failure)?
        .build()
        .await
        .map_err(dbus_failure)?;
    let mut changed = properties
        .receive_properties_changed()
        .await
        .map_err(dbus_failure)?;
    // omgd exits when idle and comes back on the next request: when it
    // appears again its counts are read again.
    let dbus = zbus::fdo::DBusProxy::new(&connection)
        .await
        .map_err(dbus_failure)?;
    let mut owners = dbus
        .receive_name_owner_changed_with_args(&[(0, OMGD_NAME)])
        .await
        .map_err(dbus_failure)?;
    let status_file = if on_system {
        Some(crate::config::Paths::system().status_file())
    } else {
        crate::config::Paths::user().ok().map(|p| p.status_file())
    };
    let mut file_changed = match &status_file {
        Some(path) => watch_status_file(path.clone()),
        None => unbounded_channel().1,
    };
    loop {
        tokio::select! {
            Some(_) = updates.next() => {}
            Some(_) = changed.next() => {}
            Some(()) = file_changed.recv() => {
                // Read straight from the file: omgd may not be running.
                if let Some(counts) = status_file.as_deref().and_then(file_counts) {
                    handle.update(|tray| tray.counts = counts).await;
                }
                continue;
            }
            Some(change) = owners.next() => {
                let appeared = change.args().is_ok_and(|a| a.new_owner().is_some());
                if !appeared {
                    continue;
                }
            }
            action = requested.recv() => match action {
                None | Some(Action::Quit) => break,
                Some(Action::ShowUpdates) => show_updates(),
                Some(Action::Upgrade) => {
                    tokio::spawn(follow(handle.clone(), "upgrade", on_system));
                    continue;
                }
                Some(Action::Refresh) => {
                    tokio::spawn(follow(handle.clone(), "refresh", on_system));
                    continue;
                }
            },
        }
        if let Ok(counts) = read_counts(&status).await {
            handle
                .update(|tray| {
                    tray.counts = counts;
                    if tray
                        .progress
                        .as_deref()
                        .is_some_and(|p| p.starts_with("omgd cannot be reached"))
                    {
                        tray.progress = None;
                    }
                })
                .await;
        }
    }
    handle.shutdown().await;
    Ok(EXIT_OK)
}

fn dbus_failure(e: zbus::Error) -> Failure {
    Failure::new(format!("omgd on D-Bus: {e}"), EXIT_FAILURE)
}

/// Starts `what` (upgrade, refresh) on the system bus's Manager1 and shows
/// its progress in the tooltip until it finishes. Without omgd on the
/// system bus a refresh runs the user's own refresh worker.
async fn follow(handle: ksni::Handle<OmgTray>, what: &'static str, on_system: bool) {
    let set = |text: Option<String>| {
        let handle = handle.clone();
        async move { handle.update(|tray| tray.progress = text).await }
    };
    if !on_system && what == "refresh" {
        set(Some("refreshing…".into())).await;
        let omgd = crate::ipc::client::daemon_binary();
        let _ = tokio::process::Command::new(omgd)
            .args(["work", "refresh"])
            .status()
            .await;
        set(None).await;
        return;
    }
    let outcome = async {
        let system = zbus::Connection::system().await?;
        let manager = Manager1Proxy::new(&system).await?;
        let path = if what == "upgrade" {
            manager.upgrade().await?
        } else {
            manager.refresh().await?
        };
        let transaction = Transaction1Proxy::builder(&system)
            .path(path)?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let mut progress = transaction.receive_progress().await?;
        let mut finished = transaction.receive_finished().await?;
        set(Some(format!("{what}: started"))).await;
        loop {
            tokio::select! {
                Some(step) = progress.next() => {
                    if let Ok(args) = step.args() {
                        let percent = match args.percentage {
                            p @ 0..=100 => format!(" {p}%"),
                            _ => String::new(),
                        };
                        set(Some(format!("{what}: {}{percent}", args.step))).await;
                    }
                }
                Some(end) = finished.next() => {
                    let exit = end.args().map(|a| a.exit).unwrap_or(1);
                    let why = transaction.error_message().await.unwrap_or_default();
                    return Ok::<_, zbus::Error>((exit, why));
                }
                else => return Ok((1, "the transaction went away".into())),
            }
        }
    }
    .await;
    match outcome {
        Ok((0, _)) => set(None).await,
        Ok((_, why)) => set(Some(format!("{what} failed: {why}"))).await,
        Err(e) => set(Some(format!("{what} could not start: {e}"))).await,
    };
}

/// `omg outdated` in the user's terminal (`$TERMINAL`, else
/// x-terminal-emulator).
fn show_updates() {
    let terminal = std::env::var("TERMINAL")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "x-terminal-emulator".into());
    let omg = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("omg"));
    let script = format!(
        "'{}' outdated; printf '\\nPress Enter to close. '; read _",
        omg.display()
    );
    let _ = std::process::Command::new(terminal)
        .args(["-e", "sh", "-c", &script])
        .spawn();
}

/// The autostart entry's path: `$XDG_CONFIG_HOME/autostart/omg-tray.desktop`.
fn autostart_path() -> Result<PathBuf, Failure> {
    dirs::config_dir()
        .map(|d| d.join("autostart").join("omg-tray.desktop"))
        .ok_or_else(|| Failure::new("no configuration directory ($HOME unset)", EXIT_FAILURE))
}

/// The entry `make install` puts in /etc/xdg/autostart (hidden); the
/// user's copy turns it on.
pub const AUTOSTART_ENTRY: &str = include_str!("../../packaging/omg-tray.desktop");

fn autostart(enable: bool) -> Result<u8, Failure> {
    let path = autostart_path()?;
    if enable {
        let entry = AUTOSTART_ENTRY.replace("Hidden=true", "Hidden=false");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::new(
                    format!("cannot create {}: {e}", dir.display()),
                    EXIT_FAILURE,
                )
            })?;
        }
        std::fs::write(&path, entry).map_err(|e| {
            Failure::new(
                format!("cannot write {}: {e}", path.display()),
                EXIT_FAILURE,
            )
        })?;
        println!(
            "omg tray starts with your desktop session ({})",
            path.display()
        );
    } else {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::new(
                    format!("cannot remove {}: {e}", path.display()),
                    EXIT_FAILURE,
                ));
            }
        }
        println!("omg tray no longer starts with your desktop session");
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tooltip_has_every_count_and_the_refresh_age() {
        let counts = Counts {
            updates: 3,
            foreign: 1,
            security: 2,
            vulnerable: 5,
            last_refresh: 1000,
        };
        assert_eq!(
            describe(&counts, 1000 + 600),
            "4 updates\n1 from the AUR or runtimes\n2 fix known vulnerabilities\n5 installed packages with known vulnerabilities\nlast refresh 10 min ago"
        );
        assert!(AUTOSTART_ENTRY.contains("Exec=omg tray"));
        assert!(AUTOSTART_ENTRY.contains("Hidden=true"));
    }
}
