//! Framing: each message is a 4-byte big-endian length followed by its
//! bincode (standard configuration) encoding. A frame over the
//! connection's limit is refused from its header, and the buffer grows
//! with the bytes that really arrive, never ahead of them: a header alone
//! costs the daemon nothing.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::codec::{Decoder, Encoder};

use super::protocol::MAX_FRAME;

/// Why a frame could not be turned into a message or back.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("malformed message: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    #[error("message could not be encoded: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    #[error("message has {0} trailing bytes")]
    Trailing(usize),
}

/// How much room the buffer is given at a time while a frame arrives.
const GROW_BY: usize = 64 << 10;

/// The length-prefixed framing, with a limit of its own.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_frame: usize,
}

impl FrameCodec {
    pub fn new(max_frame: usize) -> FrameCodec {
        FrameCodec { max_frame }
    }

    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        let Some(head) = src.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len > self.max_frame {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a frame of {len} bytes is over this connection's limit of {} bytes",
                    self.max_frame
                ),
            ));
        }
        let have = src.len() - 4;
        if have < len {
            // Room for what may come next, not for what the header claims.
            src.reserve((len - have).min(GROW_BY));
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len)))
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        let len = u32::try_from(item.len())
            .ok()
            .filter(|l| *l as usize <= self.max_frame)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("a frame of {} bytes is over the limit", item.len()),
                )
            })?;
        dst.reserve(4 + item.len());
        dst.put_u32(len);
        dst.extend_from_slice(&item);
        Ok(())
    }
}

/// The framing both sides use, at the largest frame either accepts.
pub fn frame_codec() -> FrameCodec {
    FrameCodec::new(MAX_FRAME)
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME>()
}

/// Frames up to this size (every frame of a peer that is not root) are
/// decoded with a tighter budget for what their contents may claim.
pub const SMALL_FRAME: usize = 64 << 10;

/// What a small frame's contents may claim in all (strings and lists
/// announce their length before it is read).
const SMALL_BUDGET: usize = 4 << 20;

fn small_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<SMALL_BUDGET>()
}

/// Encodes a message into a frame payload.
pub fn encode<T: Serialize>(message: &T) -> Result<Bytes, CodecError> {
    Ok(Bytes::from(bincode::serde::encode_to_vec(
        message,
        config(),
    )?))
}

/// A whole frame of `message` as it goes on the wire: its length, then its
/// encoding (for writers that do not go through `FrameCodec`).
pub fn frame<T: Serialize>(message: &T) -> Result<Vec<u8>, CodecError> {
    let payload = encode(message)?;
    let mut bytes = (payload.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Decodes a frame payload; the whole payload must be one message.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let (message, used) = if payload.len() <= SMALL_FRAME {
        bincode::serde::decode_from_slice(payload, small_config())?
    } else {
        bincode::serde::decode_from_slice(payload, config())?
    };
    if used != payload.len() {
        return Err(CodecError::Trailing(payload.len() - used));
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::protocol::{ClientFrame, Hello, PROTOCOL_VERSION};

    #[test]
    fn round_trips_and_rejects_garbage() {
        let hello = ClientFrame::Hello(Hello {
            protocol: PROTOCOL_VERSION,
            client: "test".into(),
        });
        let bytes = encode(&hello).unwrap();
        assert_eq!(decode::<ClientFrame>(&bytes).unwrap(), hello);

        let mut trailing = bytes.to_vec();
        trailing.push(0);
        assert!(matches!(
            decode::<ClientFrame>(&trailing),
            Err(CodecError::Trailing(1))
        ));
        assert!(decode::<ClientFrame>(&[0xff, 0xff, 0xff]).is_err());
        // A string claiming to be 4 GiB long is refused, not allocated.
        assert!(decode::<ClientFrame>(&[0, 0, 0xfc, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn a_header_alone_reserves_nothing_like_its_claim() {
        let mut codec = FrameCodec::new(MAX_FRAME);
        let mut buffer = BytesMut::from(&(MAX_FRAME as u32).to_be_bytes()[..]);
        assert!(codec.decode(&mut buffer).unwrap().is_none());
        assert!(
            buffer.capacity() <= 4 + GROW_BY + 64,
            "{}",
            buffer.capacity()
        );

        let mut small = FrameCodec::new(1024);
        let mut over = BytesMut::from(&2048u32.to_be_bytes()[..]);
        let e = small.decode(&mut over).unwrap_err();
        assert!(e.to_string().contains("limit of 1024"), "{e}");

        let mut frame = BytesMut::new();
        codec
            .encode(Bytes::from_static(b"abc"), &mut frame)
            .unwrap();
        frame.extend_from_slice(b"\0\0");
        assert_eq!(&codec.decode(&mut frame).unwrap().unwrap()[..], b"abc");
        assert_eq!(codec.decode(&mut frame).unwrap(), None);
    }
}
