//! Serving one client over a byte stream pair: the one-shot `omgd --stdio`
//! mode, where the client is the parent process on the other end of stdin
//! and stdout. The same loop will serve socket connections.

use futures_util::{SinkExt, StreamExt};
use log::debug;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite};

use super::service::Service;
use crate::ipc::codec::{self, frame_codec};
use crate::ipc::protocol::{
    ClientFrame, ErrorKind, PROTOCOL_VERSION, Response, ServerFrame, Welcome, WireError,
};

/// Serves requests until the client closes its end or breaks the protocol.
/// Returns an error only when the stream itself fails.
pub async fn serve<R, W>(service: &mut Service, reader: R, writer: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut frames = FramedRead::new(reader, frame_codec());
    let mut sink = FramedWrite::new(writer, frame_codec());
    let mut greeted = false;

    while let Some(frame) = frames.next().await {
        let payload = match frame {
            Ok(p) => p,
            Err(e) => {
                // Oversized or truncated frame: say why and hang up.
                let fatal = WireError::new(ErrorKind::BadFrame, format!("bad frame: {e}"));
                send(&mut sink, &ServerFrame::Fatal(fatal)).await?;
                return Ok(());
            }
        };
        let message = match codec::decode::<ClientFrame>(&payload) {
            Ok(m) => m,
            Err(e) => {
                let fatal = WireError::new(ErrorKind::BadFrame, e.to_string());
                send(&mut sink, &ServerFrame::Fatal(fatal)).await?;
                return Ok(());
            }
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
            ClientFrame::Hello(_) => {
                let fatal = WireError::new(ErrorKind::BadFrame, "a second Hello");
                send(&mut sink, &ServerFrame::Fatal(fatal)).await?;
                return Ok(());
            }
            ClientFrame::Request(_) if !greeted => {
                let fatal = WireError::new(ErrorKind::BadFrame, "a request before Hello");
                send(&mut sink, &ServerFrame::Fatal(fatal)).await?;
                return Ok(());
            }
            ClientFrame::Request(request) => {
                let result = service.handle(request.body);
                let response = Response {
                    id: request.id,
                    result,
                };
                send(&mut sink, &ServerFrame::Response(response)).await?;
            }
        }
    }
    Ok(())
}

async fn send<W: AsyncWrite + Unpin>(
    sink: &mut FramedWrite<W, tokio_util::codec::LengthDelimitedCodec>,
    frame: &ServerFrame,
) -> std::io::Result<()> {
    let mut payload = codec::encode(frame).map_err(std::io::Error::other)?;
    if payload.len() > crate::ipc::protocol::MAX_FRAME {
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
