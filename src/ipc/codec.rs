//! Framing: each message is a 4-byte big-endian length followed by its
//! bincode (standard configuration) encoding. The length-delimited codec
//! refuses frames over `MAX_FRAME` before allocating them.

use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::codec::LengthDelimitedCodec;

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

/// The framing both sides use.
pub fn frame_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(MAX_FRAME)
        .new_codec()
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME>()
}

/// Encodes a message into a frame payload.
pub fn encode<T: Serialize>(message: &T) -> Result<Bytes, CodecError> {
    Ok(Bytes::from(bincode::serde::encode_to_vec(
        message,
        config(),
    )?))
}

/// Decodes a frame payload; the whole payload must be one message.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let (message, used) = bincode::serde::decode_from_slice(payload, config())?;
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
}
