//! Serving one client over a byte stream: a socket connection, or stdin and
//! stdout in `omgd --stdio`. Requests are read one frame at a time and
//! answered in order with their ids, so a client may pipeline them. A bad
//! frame gets a `Fatal` error frame and the connection is closed; the daemon
//! goes on serving everyone else.

use futures_util::{SinkExt, StreamExt};
use log::debug;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use super::engine::Engine;
use crate::ipc::codec::{self, frame_codec};
use crate::ipc::protocol::{
    ClientFrame, ErrorKind, MAX_FRAME, PROTOCOL_VERSION, Response, ServerFrame, Welcome, WireError,
};

/// Serves requests until the client closes its end, breaks the protocol, or
/// `stopping` turns true (checked between requests, so one in flight
/// completes). Returns an error only when the stream itself fails.
pub async fn serve<R, W>(
    engine: &Engine,
    reader: R,
    writer: W,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(reader, frame_codec());
    let mut sink = FramedWrite::new(writer, frame_codec());
    let mut greeted = false;

    loop {
        if *stopping.borrow() {
            return Ok(());
        }
        let frame = tokio::select! {
            frame = frames.next() => frame,
            _ = stopping.changed() => return Ok(()),
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
        match message {
            ClientFrame::Hello(hello) if !greeted => {
                debug!("client {} speaks protocol {}", hello.client, hello.protocol);
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
                let result = engine.handle(request.body).await;
                let response = Response {
                    id: request.id,
                    result,
                };
                send(&mut sink, &ServerFrame::Response(response)).await?;
            }
        }
    }
}

async fn fatal<W: AsyncWrite + Unpin>(
    sink: &mut FramedWrite<W, LengthDelimitedCodec>,
    message: String,
) -> std::io::Result<()> {
    debug!("closing a connection: {message}");
    let frame = ServerFrame::Fatal(WireError::new(ErrorKind::BadFrame, message));
    send(sink, &frame).await
}

async fn send<W: AsyncWrite + Unpin>(
    sink: &mut FramedWrite<W, LengthDelimitedCodec>,
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
    sink.send(payload).await
}
