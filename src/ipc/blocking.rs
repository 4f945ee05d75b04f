//! A blocking client for the one-request paths a prompt or a script runs
//! (`omg search` from `cli/fast.rs`): the same handshake and frames as
//! `client.rs` (the same `FrameCodec` cuts them) over a plain Unix socket,
//! without starting an async runtime.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::client::{self, ClientError};
use super::codec::{self, FrameCodec, frame_codec};
use super::protocol::{ClientFrame, Request, RequestBody, Response, ResponseBody, ServerFrame};

/// A handshaken connection to a daemon's socket.
pub struct BlockingConnection {
    stream: UnixStream,
    codec: FrameCodec,
    buffer: BytesMut,
}

impl BlockingConnection {
    /// Connects to the daemon on `path` and shakes hands; each read waits
    /// at most `timeout` (a daemon that accepts but never answers).
    pub fn connect(path: &Path, timeout: Duration) -> Result<BlockingConnection, ClientError> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut connection = BlockingConnection {
            stream,
            codec: frame_codec(),
            buffer: BytesMut::with_capacity(8 << 10),
        };
        connection.send(&client::hello())?;
        client::welcomed(connection.receive()?)?;
        Ok(connection)
    }

    /// Sends one request that streams no events and waits for its answer.
    pub fn request(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        const ID: u32 = 1;
        self.send(&ClientFrame::Request(Request { id: ID, body }))?;
        match self.receive()? {
            ServerFrame::Response(Response { id: ID, result }) => {
                result.map_err(ClientError::Remote)
            }
            ServerFrame::Fatal(e) => Err(ClientError::Remote(e)),
            ServerFrame::Response(Response { id: got, .. })
            | ServerFrame::Event { request: got, .. } => {
                Err(ClientError::OutOfOrder { expected: ID, got })
            }
            ServerFrame::Welcome(_) => Err(ClientError::OutOfOrder {
                expected: ID,
                got: 0,
            }),
        }
    }

    fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let mut out = BytesMut::new();
        self.codec.encode(codec::encode(frame)?, &mut out)?;
        self.stream.write_all(&out)?;
        Ok(())
    }

    fn receive(&mut self) -> Result<ServerFrame, ClientError> {
        loop {
            if let Some(payload) = self.codec.decode(&mut self.buffer)? {
                return Ok(codec::decode(&payload)?);
            }
            let mut chunk = [0u8; 16 << 10];
            match self.stream.read(&mut chunk)? {
                0 => return Err(ClientError::Closed(None)),
                n => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
