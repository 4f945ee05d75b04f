//! `io.github.omg.Manager1` (system instance only): Refresh, Install,
//! Remove and Upgrade for desktop software, each checked with polkit for
//! the calling bus name and carried out as an `io.github.omg.Transaction1`
//! object at `/io/github/omg/Transaction/<n>` that reports its progress
//! and how it ended. Transactions run with `--noconfirm` answers: a bus
//! client cannot be asked questions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedObjectPath;
use zbus::{fdo, interface};

use crate::daemon::engine::Engine;
use omg::auth::caller::Caller;
use omg::auth::polkit::{Decision, Polkit, Subject};
use omg::ipc::protocol::RequestBody;
use omg::transaction::{
    TransactionAction, TransactionOptions, TransactionRequest, TxChannel, TxEvent,
};

/// How long a finished transaction's object stays for clients to read.
const LINGER: Duration = Duration::from_secs(120);

pub struct Manager1 {
    engine: Arc<Engine>,
    next: AtomicU32,
}

impl Manager1 {
    pub fn new(engine: Arc<Engine>) -> Manager1 {
        Manager1 {
            engine,
            next: AtomicU32::new(1),
        }
    }

    async fn start(
        &self,
        action: TransactionAction,
        header: &zbus::message::Header<'_>,
        server: &zbus::ObjectServer,
        connection: &zbus::Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        let request = TransactionRequest {
            action,
            options: TransactionOptions {
                noconfirm: true,
                ..TransactionOptions::default()
            },
        };
        let sender = header
            .sender()
            .ok_or_else(|| fdo::Error::AccessDenied("the caller has no bus name".into()))?
            .to_string();
        let interactive = header
            .primary()
            .flags()
            .contains(zbus::message::Flags::AllowInteractiveAuth);
        let action_id = request.polkit_action();
        let decision = Polkit::on(connection.clone())
            .check(&Subject::BusName(sender.clone()), action_id, interactive)
            .await
            .map_err(|e| fdo::Error::AccessDenied(format!("{action_id}: {e}")))?;
        if decision != Decision::Allowed {
            return Err(fdo::Error::AccessDenied(format!(
                "not authorized: polkit does not allow {action_id} for this caller"
            )));
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = OwnedObjectPath::try_from(format!("{}/Transaction/{n}", super::status::PATH))
            .map_err(|e| fdo::Error::Failed(e.to_string()))?;
        let role = request.action.dbus_role();
        server
            .at(&path, Transaction1::new(role))
            .await
            .map_err(|e| fdo::Error::Failed(e.to_string()))?;
        tokio::spawn(run(
            self.engine.clone(),
            connection.clone(),
            path.clone(),
            request,
            Caller::Bus(sender),
        ));
        Ok(path)
    }
}

#[interface(name = "io.github.omg.Manager1")]
impl Manager1 {
    /// Refreshes the package databases; returns the transaction.
    async fn refresh(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        self.start(
            TransactionAction::Sync { force: false },
            &header,
            server,
            connection,
        )
        .await
    }

    /// Installs packages (and what they need); returns the transaction.
    async fn install(
        &self,
        packages: Vec<String>,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        if packages.is_empty() {
            return Err(fdo::Error::InvalidArgs("no packages named".into()));
        }
        let action = TransactionAction::Install { targets: packages };
        self.start(action, &header, server, connection).await
    }

    /// Removes packages; returns the transaction.
    async fn remove(
        &self,
        packages: Vec<String>,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        if packages.is_empty() {
            return Err(fdo::Error::InvalidArgs("no packages named".into()));
        }
        let action = TransactionAction::Remove { targets: packages };
        self.start(action, &header, server, connection).await
    }

    /// Refreshes and upgrades every package; returns the transaction.
    async fn upgrade(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> fdo::Result<OwnedObjectPath> {
        self.start(TransactionAction::Upgrade, &header, server, connection)
            .await
    }
}

/// One transaction as a bus object.
pub struct Transaction1 {
    role: String,
    status: String,
    percentage: u32,
    exit_code: u32,
    error: String,
}

impl Transaction1 {
    fn new(role: &str) -> Transaction1 {
        Transaction1 {
            role: role.into(),
            status: "waiting".into(),
            percentage: 101,
            exit_code: 0,
            error: String::new(),
        }
    }
}

#[interface(name = "io.github.omg.Transaction1")]
impl Transaction1 {
    /// install, remove, upgrade or refresh.
    #[zbus(property)]
    fn role(&self) -> String {
        self.role.clone()
    }

    /// waiting, running or finished.
    #[zbus(property)]
    fn status(&self) -> String {
        self.status.clone()
    }

    /// 0 to 100, or 101 while unknown.
    #[zbus(property)]
    fn percentage(&self) -> u32 {
        self.percentage
    }

    /// Cancelling is not offered: package transactions run to their end
    /// once authorized (a half-done commit is never left behind).
    #[zbus(property)]
    fn allow_cancel(&self) -> bool {
        false
    }

    /// Once finished: 0 success, 1 failure.
    #[zbus(property)]
    fn exit_code(&self) -> u32 {
        self.exit_code
    }

    /// Once failed: why.
    #[zbus(property)]
    fn error_message(&self) -> String {
        self.error.clone()
    }

    /// Refused: see AllowCancel.
    fn cancel(&self) -> fdo::Result<()> {
        Err(fdo::Error::NotSupported(
            "a package transaction cannot be cancelled once authorized".into(),
        ))
    }

    /// A step or progress: (what, percentage or 101).
    #[zbus(signal)]
    async fn progress(emitter: &SignalEmitter<'_>, step: &str, percentage: u32)
    -> zbus::Result<()>;

    /// A package is being worked on: (action, name).
    #[zbus(signal)]
    async fn package(emitter: &SignalEmitter<'_>, action: &str, name: &str) -> zbus::Result<()>;

    /// The transaction failed: (kind, message).
    #[zbus(signal)]
    async fn error_code(emitter: &SignalEmitter<'_>, kind: &str, message: &str)
    -> zbus::Result<()>;

    /// The end: (exit code, run time in milliseconds).
    #[zbus(signal)]
    async fn finished(emitter: &SignalEmitter<'_>, exit: u32, runtime_ms: u64) -> zbus::Result<()>;
}

/// Carries out `request`, mirroring its events on the object at `path`.
async fn run(
    engine: Arc<Engine>,
    connection: zbus::Connection,
    path: OwnedObjectPath,
    request: TransactionRequest,
    caller: Caller,
) {
    let Ok(iface) = connection
        .object_server()
        .interface::<_, Transaction1>(&path)
        .await
    else {
        return;
    };
    let started = Instant::now();
    let (channel, mut client) = TxChannel::new(true);
    let channel = Arc::new(channel);
    let emitter = iface.signal_emitter().clone();
    let relay_iface = iface.clone();
    let relay = tokio::spawn(async move {
        while let Some(event) = client.events.recv().await {
            let (step, percent, package) = match &event {
                TxEvent::Step(text) => (Some(text.clone()), None, None),
                TxEvent::Progress {
                    action,
                    package,
                    percent,
                    ..
                } => (
                    None,
                    Some(u32::from(*percent)),
                    Some((action.as_str().to_string(), package.clone())),
                ),
                _ => (None, None, None),
            };
            if let Some((action, name)) = &package {
                let _ = Transaction1::package(&emitter, action, name).await;
            }
            if let Some(percent) = percent {
                let mut object = relay_iface.get_mut().await;
                if object.percentage != percent {
                    object.percentage = percent;
                    let _ = object.percentage_changed(&emitter).await;
                }
            }
            if let Some(step) = step {
                let percent = relay_iface.get().await.percentage;
                let _ = Transaction1::progress(&emitter, &step, percent).await;
            }
        }
    });
    {
        let mut object = iface.get_mut().await;
        object.status = "running".into();
        let _ = object.status_changed(iface.signal_emitter()).await;
    }
    let outcome = engine.transaction(request, channel, &caller).await;
    let _ = relay.await;
    let emitter = iface.signal_emitter();
    let exit = {
        let mut object = iface.get_mut().await;
        object.status = "finished".into();
        object.percentage = 100;
        match &outcome {
            Ok(_) => object.exit_code = 0,
            Err(e) => {
                object.exit_code = 1;
                object.error = e.message.clone();
            }
        }
        let _ = object.status_changed(emitter).await;
        let _ = object.percentage_changed(emitter).await;
        object.exit_code
    };
    if let Err(e) = &outcome {
        let _ = Transaction1::error_code(emitter, &format!("{:?}", e.kind), &e.message).await;
    }
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let _ = Transaction1::finished(emitter, exit, elapsed).await;
    // The counts widgets show follow at once (Status1's signals), without
    // waiting for the package manager's hook or the next request.
    if outcome.is_ok() {
        let _ = engine.handle(RequestBody::Reload).await;
    }
    tokio::time::sleep(LINGER).await;
    let _ = connection
        .object_server()
        .remove::<Transaction1, _>(&path)
        .await;
}
