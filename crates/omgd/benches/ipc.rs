//! The round trip of one request through a running daemon's socket: frame,
//! send, dispatch, cache lookup, encode, receive, decode. Run by `make bench`
//! (`cargo bench --bench ipc`) against this machine's package database.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use omg::ipc::codec;
use omg::ipc::protocol::{
    ClientFrame, Hello, PROTOCOL_VERSION, Request, RequestBody, SearchRequest, ServerFrame,
};

struct Daemon {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    child: std::sync::Mutex<Child>,
}

static DAEMON: OnceLock<Daemon> = OnceLock::new();

fn daemon() -> &'static Daemon {
    DAEMON.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/omgd.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_omgd"))
            .args(["--foreground", "--socket"])
            .arg(&socket)
            .env("OMG_DATA_DIR", dir.path().join("data"))
            .env("OMG_CACHE_DIR", dir.path().join("cache"))
            .env("OMG_CONFIG_DIR", dir.path().join("config"))
            .env("OMG_RUNTIME_DIR", dir.path().join("run"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start omgd");
        let deadline = Instant::now() + Duration::from_secs(120);
        while UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "omgd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon {
            _dir: dir,
            socket,
            child: std::sync::Mutex::new(child),
        }
    })
}

fn send(stream: &mut UnixStream, frame: &ClientFrame) {
    let payload = codec::encode(frame).unwrap();
    let mut bytes = (payload.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    stream.write_all(&bytes).unwrap();
}

fn receive(stream: &mut UnixStream, buf: &mut Vec<u8>) -> ServerFrame {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    buf.resize(u32::from_be_bytes(len) as usize, 0);
    stream.read_exact(buf).unwrap();
    codec::decode(buf).unwrap()
}

fn connect() -> UnixStream {
    let mut stream = UnixStream::connect(&daemon().socket).unwrap();
    send(
        &mut stream,
        &ClientFrame::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "bench".into(),
        }),
    );
    receive(&mut stream, &mut Vec::new());
    stream
}

/// A cached search ("vim", 50 hits) through the socket.
#[divan::bench]
fn cached_search_round_trip(bencher: divan::Bencher) {
    let mut stream = connect();
    let frame = ClientFrame::Request(Request {
        id: 1,
        body: RequestBody::Search(SearchRequest {
            query: "vim".into(),
            limit: 50,
            installed_only: false,
            sources: Default::default(),
        }),
    });
    let mut buf = Vec::new();
    // The first answer builds or loads the index and fills the cache.
    send(&mut stream, &frame);
    receive(&mut stream, &mut buf);
    bencher.bench_local(|| {
        send(&mut stream, &frame);
        receive(&mut stream, &mut buf)
    });
}

/// The smallest request: the daemon's own status.
#[divan::bench]
fn daemon_status_round_trip(bencher: divan::Bencher) {
    let mut stream = connect();
    let frame = ClientFrame::Request(Request {
        id: 1,
        body: RequestBody::DaemonStatus,
    });
    let mut buf = Vec::new();
    bencher.bench_local(|| {
        send(&mut stream, &frame);
        receive(&mut stream, &mut buf)
    });
}

fn main() {
    divan::main();
    if let Some(d) = DAEMON.get() {
        let mut child = d.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}
