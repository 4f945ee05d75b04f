//! Inter-process communication between `omg` and `omgd`: the message types,
//! the framing (4-byte big-endian length + bincode) and the client side.

pub mod blocking;
pub mod client;
pub mod codec;
pub mod protocol;
mod wire_errors;
