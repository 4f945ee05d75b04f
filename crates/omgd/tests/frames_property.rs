//! A property test of the frame decoder and the request dispatcher:
//! random byte streams and mutated valid ones (bits flipped, bytes cut,
//! inserted and repeated, lengths rewritten) are served as a hostile
//! socket peer would send them to a system instance. None may panic, none
//! may make the daemon allocate far beyond the bytes it was sent, and each
//! connection ends on its own. Deterministic (a fixed seed); CI runs
//! `CASES` of them, `OMG_FRAME_CASES` asks for more. `fuzz/` has the same
//! for cargo fuzz.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use omg::auth::caller::Caller;
use omg::config::{Config, Paths};
use omg::ipc::protocol::{
    ClientFrame, Hello, PROTOCOL_VERSION, Request, RequestBody, SearchRequest, Sources,
};
use omg::model::{BackendKind, ListFilter};
use omg::transaction::{TransactionAction, TransactionOptions, TransactionRequest};
use omgd::daemon::connection::{Limits, serve};
use omgd::daemon::engine::{Engine, Mode};

/// The largest single allocation made while serving (reset per case).
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Watching;

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

const CASES: usize = 20_000;

/// xorshift64*: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn framed(frame: &ClientFrame) -> Vec<u8> {
    omg::ipc::codec::frame(frame).unwrap()
}

/// A valid conversation: Hello and a few requests of every kind.
fn valid(rng: &mut Rng) -> Vec<u8> {
    let mut out = framed(&ClientFrame::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        client: "property".into(),
    }));
    let bodies = [
        RequestBody::Search(SearchRequest {
            query: "vim".into(),
            limit: 5,
            installed_only: false,
            sources: Sources::All,
        }),
        RequestBody::Info {
            name: "bash".into(),
        },
        RequestBody::List {
            filter: ListFilter::Explicit,
        },
        RequestBody::Status,
        RequestBody::DaemonStatus,
        RequestBody::Shutdown,
        RequestBody::Reload,
        RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Install {
                targets: vec!["vim".into(), "/tmp/x.deb".into()],
            },
            options: TransactionOptions {
                dry_run: true,
                ..TransactionOptions::default()
            },
        }),
        RequestBody::VerifyFile {
            file: "/dev/zero".into(),
            signature: "/etc/shadow".into(),
            keyring: "/".into(),
        },
        RequestBody::Outdated { refresh: false },
        RequestBody::Graph,
        RequestBody::Metrics,
        RequestBody::Restarts,
        RequestBody::News { all: true },
        RequestBody::Complete {
            prefix: "vi".into(),
        },
    ];
    for id in 0..(1 + rng.below(4)) {
        let body = bodies[rng.below(bodies.len())].clone();
        out.extend(framed(&ClientFrame::Request(Request {
            id: id as u32,
            body,
        })));
    }
    out
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..(1 + rng.below(6)) {
        if bytes.is_empty() {
            bytes.push(rng.next() as u8);
        }
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => bytes.truncate(at),
            3 => bytes.insert(at, rng.next() as u8),
            4 => {
                // A length prefix rewritten at a random place.
                let len = match rng.below(3) {
                    0 => u32::MAX,
                    1 => 16 << 20,
                    _ => rng.next() as u32 % 100_000,
                };
                let end = (at + 4).min(bytes.len());
                bytes.splice(at..end, len.to_be_bytes());
            }
            _ => {
                let end = (at + 1 + rng.below(32)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                bytes.splice(at..at, piece);
            }
        }
    }
    bytes
}

#[test]
fn mutated_and_random_frames_never_panic_or_overallocate() {
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
    // The system instance, and a peer it cannot identify: what a hostile
    // user gets at worst.
    .as_system_instance(true);
    let limits = Limits::socket(&Config::default().daemon, false);
    let cases = std::env::var("OMG_FRAME_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(CASES);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rng = Rng(0x0dd_ba11_5eed);
    let mut largest_seen = 0;
    for case in 0..cases {
        let input = match case % 4 {
            0 => (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
            _ => {
                let valid = valid(&mut rng);
                mutate(&mut rng, valid)
            }
        };
        LARGEST.store(0, Ordering::Relaxed);
        let served = runtime.block_on(async {
            let (mut client, server) = tokio::io::duplex(1 << 16);
            let (read, write) = tokio::io::split(server);
            let (_keep, stop) = tokio::sync::watch::channel(false);
            let serving = serve(&engine, Caller::Unknown, limits, read, write, stop);
            let talking = async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let _ = client.write_all(&input).await;
                let _ = client.shutdown().await;
                let mut answers = Vec::new();
                let _ = client.read_to_end(&mut answers).await;
            };
            tokio::time::timeout(std::time::Duration::from_secs(30), async {
                tokio::join!(serving, talking).0
            })
            .await
        });
        assert!(
            served.is_ok(),
            "case {case}: the connection never ended ({input:02x?})"
        );
        let largest = LARGEST.load(Ordering::Relaxed);
        largest_seen = largest_seen.max(largest);
        assert!(
            largest <= 4 << 20,
            "case {case}: a single allocation of {largest} bytes for {} bytes of input ({input:02x?})",
            input.len()
        );
    }
    eprintln!("{cases} cases; the largest single allocation was {largest_seen} bytes");
}
