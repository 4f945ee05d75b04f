//! The bytes a hostile socket peer sends, served by a system instance
//! that cannot identify the peer: the frame decoder, the access table and
//! the dispatcher must neither panic nor hang.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use omg::config::{Config, Paths};
use omg::auth::caller::Caller;
use omg::daemon::connection::{Limits, serve};
use omg::daemon::engine::{Engine, Mode};
use omg::model::BackendKind;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    let (_, engine) = ENGINE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: dir.path().join("config"),
            data_dir: dir.path().join("data"),
            cache_dir: dir.path().join("cache"),
            runtime_dir: dir.path().join("run"),
        };
        let engine = Engine::new(
            paths,
            Config::default(),
            Mode::Stdio,
            BackendKind::Apt,
            None,
        )
        .as_system_instance(true);
        (dir, engine)
    });
    engine
}

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let limits = Limits::socket(&Config::default().daemon, false);
    runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let (read, write) = tokio::io::split(server);
        let (_keep, stop) = tokio::sync::watch::channel(false);
        let serving = serve(engine(), Caller::Unknown, limits, read, write, stop);
        let talking = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answers = Vec::new();
            let _ = client.read_to_end(&mut answers).await;
        };
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            tokio::join!(serving, talking).0
        })
        .await;
        assert!(ended.is_ok(), "the connection never ended");
    });
});
