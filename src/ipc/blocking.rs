//! A blocking client for the one-request paths a prompt or a script runs
//! (`omg search` and `omg __complete` from `cli/fast.rs`): the same
//! handshake and frames as `client.rs` (the same `FrameCodec` cuts them)
//! over a plain Unix socket, without starting an async runtime.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::client::{self, ClientError};
use super::codec::{self, FrameCodec, frame_codec};
use super::protocol::{ClientFrame, Request, RequestBody, Response, ResponseBody, ServerFrame};

/// A connection to a daemon's socket. The Hello goes out with the first
/// request, in one write, and the daemon's Welcome is read before its
/// answer: one round trip instead of two (omgd reads the frames in order,
/// so a request behind the Hello waits for it).
pub struct BlockingConnection {
    stream: UnixStream,
    codec: FrameCodec,
    buffer: BytesMut,
    unsent: BytesMut,
    welcomed: bool,
}

impl BlockingConnection {
    /// Connects to the daemon on `path`; each read waits at most `timeout`
    /// (a daemon that accepts but never answers).
    pub fn connect(path: &Path, timeout: Duration) -> Result<BlockingConnection, ClientError> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut connection = BlockingConnection {
            stream,
            codec: frame_codec(),
            buffer: BytesMut::with_capacity(8 << 10),
            unsent: BytesMut::new(),
            welcomed: false,
        };
        connection.queue(&client::hello())?;
        Ok(connection)
    }

    /// Whether the daemon has welcomed this client: a failed request of a
    /// connection that was not is a failed handshake (no daemon of ours
    /// there), not a failed request.
    pub fn welcomed(&self) -> bool {
        self.welcomed
    }

    /// Sends one request that streams no events and waits for its answer.
    pub fn request(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        const ID: u32 = 1;
        self.queue(&ClientFrame::Request(Request { id: ID, body }))?;
        self.stream.write_all(&self.unsent)?;
        self.unsent.clear();
        if !self.welcomed {
            client::welcomed(self.receive()?)?;
            self.welcomed = true;
        }
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

    /// Adds `frame` to what the next request writes.
    fn queue(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        self.codec.encode(codec::encode(frame)?, &mut self.unsent)?;
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
