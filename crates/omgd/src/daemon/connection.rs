//! Serving one client over a byte stream: a socket connection, or stdin and
//! stdout in `omgd --stdio`. Requests are read one frame at a time and
//! answered in order with their ids, so a client may pipeline them. A bad
//! frame gets a `Fatal` error frame and the connection is closed; the daemon
//! goes on serving everyone else. A transaction streams `Event` frames and
//! reads the client's `Answer` frames while it runs; requests that arrive
//! meanwhile are answered after it (a bounded number of them).
//!
//! Every request first passes the access table (`Engine::permit`). A
//! socket connection has `Limits`: a client that does not say Hello in
//! time, stays silent too long between requests, or does not read what it
//! is sent is hung up on, and peers other than the daemon's owner send
//! small frames only.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use log::debug;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::engine::Engine;
use omg::auth::caller::Caller;
use omg::ipc::codec::{self, FrameCodec, SMALL_FRAME, frame_codec};
use omg::ipc::protocol::{
    ClientFrame, ErrorKind, MAX_FRAME, PROTOCOL_VERSION, Request, Response, ServerFrame, Welcome,
    WireError,
};
use omg::transaction::TxChannel;
use std::time::Duration;

/// What one connection may cost the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest frame the client may send.
    pub max_frame: usize,
    /// How long a new connection has to say Hello.
    pub handshake: Option<Duration>,
    /// How long the client may stay silent between requests.
    pub read_idle: Option<Duration>,
    /// How long a frame may take to be taken by the client.
    pub write: Option<Duration>,
    /// Requests that may wait while a transaction runs.
    pub queued: usize,
    /// How long a transaction's question waits for its answer.
    pub question: Duration,
}

/// Requests a client may pipeline behind a running transaction.
const MAX_QUEUED: usize = 32;

impl Limits {
    /// The process that started `omgd --stdio`: its own rights, no limits
    /// but the protocol's.
    pub fn stdio(config: &omg::config::DaemonConfig) -> Limits {
        Limits {
            max_frame: MAX_FRAME,
            handshake: None,
            read_idle: None,
            write: None,
            queued: MAX_QUEUED,
            question: config.question_timeout(),
        }
    }

    /// A socket client; `owner` (root, or the daemon's user) may send
    /// large frames.
    pub fn socket(config: &omg::config::DaemonConfig, owner: bool) -> Limits {
        Limits {
            max_frame: if owner { MAX_FRAME } else { SMALL_FRAME },
            handshake: Some(config.handshake_timeout()),
            read_idle: Some(config.read_timeout()),
            write: Some(config.write_timeout()),
            queued: MAX_QUEUED,
            question: config.question_timeout(),
        }
    }
}

type Frames<R> = FramedRead<R, FrameCodec>;

/// The writing half, with how long a write may take.
struct Sink<W> {
    frames: FramedWrite<W, FrameCodec>,
    timeout: Option<Duration>,
}

/// Serves requests until the client closes its end, breaks the protocol or
/// a limit, or `stopping` turns true (checked between requests, so one in
/// flight completes). Returns an error only when the stream itself fails.
pub async fn serve<R, W>(
    engine: &Engine,
    caller: Caller,
    limits: Limits,
    reader: R,
    writer: W,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(reader, FrameCodec::new(limits.max_frame));
    let mut sink = Sink {
        frames: FramedWrite::new(writer, frame_codec()),
        timeout: limits.write,
    };
    let mut greeted = false;
    // Requests that arrived while a transaction ran.
    let mut queued: VecDeque<Request> = VecDeque::new();

    loop {
        if *stopping.borrow() {
            return Ok(());
        }
        if let Some(request) = queued.pop_front() {
            answer(
                engine,
                &caller,
                &limits,
                request,
                &mut frames,
                &mut sink,
                &mut queued,
            )
            .await?;
            continue;
        }
        let wait = if greeted {
            limits.read_idle
        } else {
            limits.handshake
        };
        let next = async {
            match wait {
                Some(limit) => tokio::time::timeout(limit, frames.next()).await.ok(),
                None => Some(frames.next().await),
            }
        };
        let frame = tokio::select! {
            frame = next => frame,
            _ = stopping.changed() => return Ok(()),
        };
        let Some(frame) = frame else {
            let what = if greeted { "no request" } else { "no Hello" };
            let secs = wait.map_or(0, |d| d.as_secs());
            return fatal(&mut sink, format!("{what} within {secs} s: hanging up")).await;
        };
        let Some(frame) = frame else {
            return Ok(());
        };
        let payload = match frame {
            Ok(p) => p,
            Err(e) => {
                // Oversized or truncated frame: say why and hang up.
                return fatal(&mut sink, format!("bad frame: {e}")).await;
            }
        };
        let message = match codec::decode::<ClientFrame>(&payload) {
            Ok(m) => m,
            Err(e) => return fatal(&mut sink, e.to_string()).await,
        };
        drop(payload);
        match message {
            ClientFrame::Hello(hello) if !greeted => {
                debug!(
                    "client {:?} speaks protocol {}",
                    omg::text::one_line(&hello.client),
                    hello.protocol
                );
                send(
                    &mut sink,
                    &ServerFrame::Welcome(Welcome {
                        protocol: PROTOCOL_VERSION,
                        daemon: format!("omgd {}", env!("CARGO_PKG_VERSION")),
                    }),
                )
                .await?;
                if hello.protocol != PROTOCOL_VERSION {
                    return Ok(());
                }
                greeted = true;
            }
            ClientFrame::Hello(_) => return fatal(&mut sink, "a second Hello".into()).await,
            ClientFrame::Request(_) if !greeted => {
                return fatal(&mut sink, "a request before Hello".into()).await;
            }
            ClientFrame::Request(request) => {
                answer(
                    engine,
                    &caller,
                    &limits,
                    request,
                    &mut frames,
                    &mut sink,
                    &mut queued,
                )
                .await?;
            }
            // An answer with no question pending (the transaction ended).
            ClientFrame::Answer { .. } => {}
        }
    }
}

/// Answers one request (a transaction with its events), once the access
/// table lets the caller send it.
async fn answer<R, W>(
    engine: &Engine,
    caller: &Caller,
    limits: &Limits,
    request: Request,
    frames: &mut Frames<R>,
    sink: &mut Sink<W>,
    queued: &mut VecDeque<Request>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let result = match engine.permit(caller, &request.body).await {
        Err(refused) => {
            log::info!(
                "refused {} from {}: {}",
                omg::auth::access::name(&request.body),
                caller.user(),
                refused.message
            );
            Err(refused)
        }
        Ok(()) => match request.body.streaming() {
            Some(noconfirm) => {
                let work = |channel| engine.stream(request.body, channel, caller);
                streamed(request.id, noconfirm, limits, work, frames, sink, queued).await?
            }
            None => engine.handle(request.body).await,
        },
    };
    let response = Response {
        id: request.id,
        result,
    };
    send(sink, &ServerFrame::Response(response)).await
}

/// Runs a transaction, relaying its events to the client and the client's
/// answers to it. A client that hangs up or misbehaves mid-way does not
/// stop it: its questions get the safe answer, and a commit in progress
/// completes.
async fn streamed<R, W, F>(
    id: u32,
    noconfirm: bool,
    limits: &Limits,
    work: impl FnOnce(Arc<TxChannel>) -> F,
    frames: &mut Frames<R>,
    sink: &mut Sink<W>,
    queued: &mut VecDeque<Request>,
) -> std::io::Result<Result<omg::ipc::protocol::ResponseBody, WireError>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    F: std::future::Future<Output = Result<omg::ipc::protocol::ResponseBody, WireError>>,
{
    let (channel, client) = TxChannel::with_question_timeout(noconfirm, limits.question);
    let mut events = client.events;
    let mut answers = Some(client.answers);
    let work = work(Arc::new(channel));
    tokio::pin!(work);
    let mut client_gone = false;
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(event) = events.recv() => {
                if !client_gone
                    && send(sink, &ServerFrame::Event { request: id, event }).await.is_err()
                {
                    client_gone = true;
                    answers = None;
                }
            }
            frame = frames.next(), if !client_gone => {
                let message = match frame {
                    Some(Ok(payload)) => codec::decode::<ClientFrame>(&payload).ok(),
                    _ => None,
                };
                match message {
                    Some(ClientFrame::Answer { request, question, answer }) if request == id => {
                        if let Some(answers) = &answers {
                            let _ = answers.send((question, answer));
                        }
                    }
                    Some(ClientFrame::Request(next)) if queued.len() < limits.queued => {
                        queued.push_back(next);
                    }
                    Some(ClientFrame::Request(_)) => {
                        debug!("a client queued too many requests during a transaction; finishing it without the client");
                        client_gone = true;
                        answers = None;
                    }
                    Some(_) => {}
                    None => {
                        debug!("the client left during a transaction; finishing it");
                        client_gone = true;
                        answers = None;
                    }
                }
            }
        }
    };
    // Events sent before the outcome, not yet relayed.
    while let Ok(event) = events.try_recv() {
        if client_gone {
            break;
        }
        if send(sink, &ServerFrame::Event { request: id, event })
            .await
            .is_err()
        {
            client_gone = true;
        }
    }
    drop(answers);
    if client_gone {
        return Err(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "the client left during a transaction",
        ));
    }
    Ok(result)
}

async fn fatal<W: AsyncWrite + Unpin>(sink: &mut Sink<W>, message: String) -> std::io::Result<()> {
    debug!("closing a connection: {message}");
    let frame = ServerFrame::Fatal(WireError::new(ErrorKind::BadFrame, message));
    send(sink, &frame).await
}

async fn send<W: AsyncWrite + Unpin>(
    sink: &mut Sink<W>,
    frame: &ServerFrame,
) -> std::io::Result<()> {
    let mut payload = codec::encode(frame).map_err(std::io::Error::other)?;
    if payload.len() > MAX_FRAME {
        let error = WireError::new(
            ErrorKind::Internal,
            "the answer is larger than the 16 MiB frame limit; narrow the request",
        );
        let id = match frame {
            ServerFrame::Response(r) => r.id,
            _ => 0,
        };
        payload = codec::encode(&ServerFrame::Response(Response {
            id,
            result: Err(error),
        }))
        .map_err(std::io::Error::other)?;
    }
    match sink.timeout {
        None => sink.frames.send(payload).await,
        Some(limit) => tokio::time::timeout(limit, sink.frames.send(payload))
            .await
            .unwrap_or_else(|_| {
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("the client took nothing for {} s", limit.as_secs()),
                ))
            }),
    }
}
