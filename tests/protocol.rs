//! The wire protocol as `omgd --stdio` speaks it: handshake, request ids,
//! pipelining, and hostile input (oversized, truncated or garbage frames),
//! which must end in a clear error frame and a clean exit, never a panic.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Stdio};

use common::{AptRoot, Env, OMGD};
use omg::ipc::codec;
use omg::ipc::protocol::{
    ClientFrame, ErrorKind, Hello, PROTOCOL_VERSION, Request, RequestBody, ResponseBody,
    SearchRequest, ServerFrame,
};

fn spawn(env: &Env) -> Child {
    env.command(*OMGD)
        .arg("--stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start omgd")
}

fn frame(message: &ClientFrame) -> Vec<u8> {
    codec::frame(message).unwrap()
}

fn hello(protocol: u32) -> Vec<u8> {
    frame(&ClientFrame::Hello(Hello {
        protocol,
        client: "protocol test".into(),
    }))
}

fn request(id: u32, body: RequestBody) -> Vec<u8> {
    frame(&ClientFrame::Request(Request { id, body }))
}

/// Every frame the daemon sent before it closed stdout, and its exit code.
fn finish(mut child: Child, input: &[u8]) -> (Vec<ServerFrame>, i32) {
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "omgd panicked: {stderr}");
    let mut frames = Vec::new();
    let mut rest = &out[..];
    while rest.len() >= 4 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        frames.push(codec::decode(&rest[4..4 + len]).expect("a well-formed frame"));
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty(), "trailing bytes after the last frame");
    (frames, status.code().unwrap_or(-1))
}

fn fatal_kind(frame: &ServerFrame) -> ErrorKind {
    match frame {
        ServerFrame::Fatal(e) => e.kind,
        other => panic!("expected a fatal error frame, got {other:?}"),
    }
}

#[test]
fn handshake_and_pipelined_requests_keep_their_ids() {
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let mut input = hello(PROTOCOL_VERSION);
    let search = |q: &str| {
        RequestBody::Search(SearchRequest {
            query: q.into(),
            limit: 10,
            installed_only: false,
            sources: Default::default(),
        })
    };
    input.extend(request(7, search("hello")));
    input.extend(request(
        8,
        RequestBody::Info {
            name: "nope-omg".into(),
        },
    ));
    input.extend(request(9, search("")));
    input.extend(request(10, RequestBody::Status));
    let (frames, code) = finish(spawn(&env), &input);
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 5);
    match &frames[0] {
        ServerFrame::Welcome(w) => {
            assert_eq!(w.protocol, PROTOCOL_VERSION);
            assert!(w.daemon.starts_with("omgd "));
        }
        other => panic!("expected Welcome, got {other:?}"),
    }
    let responses: Vec<_> = frames[1..]
        .iter()
        .map(|f| match f {
            ServerFrame::Response(r) => r,
            other => panic!("expected a response, got {other:?}"),
        })
        .collect();
    assert_eq!(
        responses.iter().map(|r| r.id).collect::<Vec<_>>(),
        [7, 8, 9, 10]
    );
    match &responses[0].result {
        Ok(ResponseBody::Search(s)) => assert_eq!(s.hits[0].name, "hello-omg"),
        other => panic!("{other:?}"),
    }
    let err = responses[1].result.as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = responses[2].result.as_ref().unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(matches!(responses[3].result, Ok(ResponseBody::Status(_))));
}

#[test]
fn other_protocol_versions_are_told_and_dropped() {
    let env = Env::new();
    let mut input = hello(PROTOCOL_VERSION + 41);
    input.extend(request(1, RequestBody::Status));
    let (frames, code) = finish(spawn(&env), &input);
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 1, "no answer to requests after a mismatch");
    assert!(matches!(&frames[0], ServerFrame::Welcome(w) if w.protocol == PROTOCOL_VERSION));
}

#[test]
fn oversized_frame_is_refused_without_allocating_it() {
    let env = Env::new();
    let mut input = hello(PROTOCOL_VERSION);
    input.extend(0xffff_fff0u32.to_be_bytes());
    input.extend([0u8; 64]);
    let (frames, code) = finish(spawn(&env), &input);
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 2);
    assert_eq!(fatal_kind(&frames[1]), ErrorKind::BadFrame);
}

#[test]
fn garbage_truncated_and_out_of_order_frames() {
    let env = Env::new();
    // A payload that is not a message.
    let mut input = hello(PROTOCOL_VERSION);
    input.extend(5u32.to_be_bytes());
    input.extend([0xff, 0xfe, 0xfd, 0xfc, 0xfb]);
    let (frames, code) = finish(spawn(&env), &input);
    assert_eq!(code, 0);
    assert_eq!(fatal_kind(&frames[1]), ErrorKind::BadFrame);

    // A request before Hello.
    let (frames, _) = finish(spawn(&env), &request(1, RequestBody::Status));
    assert_eq!(fatal_kind(&frames[0]), ErrorKind::BadFrame);

    // A second Hello.
    let mut input = hello(PROTOCOL_VERSION);
    input.extend(hello(PROTOCOL_VERSION));
    let (frames, _) = finish(spawn(&env), &input);
    assert_eq!(fatal_kind(&frames[1]), ErrorKind::BadFrame);

    // A frame cut off by the client hanging up.
    let mut input = hello(PROTOCOL_VERSION);
    input.extend(100u32.to_be_bytes());
    input.extend([1, 2, 3]);
    let (frames, code) = finish(spawn(&env), &input);
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 2);
    assert_eq!(fatal_kind(&frames[1]), ErrorKind::BadFrame);

    // A string length claiming gigabytes inside a small frame.
    let mut input = hello(PROTOCOL_VERSION);
    let bogus = [1u8, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 0x7f];
    input.extend((bogus.len() as u32).to_be_bytes());
    input.extend(bogus);
    let (frames, _) = finish(spawn(&env), &input);
    assert_eq!(fatal_kind(&frames[1]), ErrorKind::BadFrame);
}

#[test]
fn a_history_group_that_is_not_a_plain_name_is_refused_and_changes_nothing() {
    use omg::ipc::protocol::RuntimeInstallRequest;
    use omg::transaction::{TransactionAction, TransactionOptions, TransactionRequest};
    let root = AptRoot::new();
    let env = Env::with_apt(&root);
    let bodies = [
        RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Upgrade,
            options: TransactionOptions {
                group: Some("../../etc/shadow".into()),
                ..TransactionOptions::default()
            },
        }),
        RequestBody::Transaction(TransactionRequest {
            action: TransactionAction::Rollback {
                id: None,
                partial: false,
                steps: Vec::new(),
                archive: None,
                group: Some("x".repeat(65)),
            },
            options: TransactionOptions::default(),
        }),
        RequestBody::RuntimeInstall(RuntimeInstallRequest {
            runtime: "node".into(),
            request: "20".into(),
            insecure: false,
            make_current: false,
            components: Vec::new(),
            targets: Vec::new(),
            group: Some(String::new()),
        }),
    ];
    // One daemon each, its input open until it answers (a streaming
    // request whose client has gone is dropped, not answered).
    for body in bodies {
        let mut child = spawn(&env);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&hello(PROTOCOL_VERSION)).unwrap();
        stdin.write_all(&request(1, body)).unwrap();
        stdin.flush().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let response = loop {
            let mut len = [0u8; 4];
            stdout.read_exact(&mut len).expect("an answer");
            let mut frame = vec![0u8; u32::from_be_bytes(len) as usize];
            stdout.read_exact(&mut frame).unwrap();
            if let ServerFrame::Response(r) = codec::decode(&frame).unwrap() {
                break r;
            }
        };
        drop(stdin);
        child.wait().unwrap();
        let err = response.result.as_ref().expect_err("refused");
        assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
        assert!(err.message.contains("history group"), "{}", err.message);
    }
    // Nothing was recorded.
    assert!(!env.data_dir().join("history.redb").exists());
    assert!(!env.data_dir().join("runtime-history.redb").exists());
}
