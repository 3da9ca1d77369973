//! The gate serial protocol on the wire: pure functions over bytes, no I/O.
//!
//! Layers, innermost first (see `docs/gate-protocol.md` for byte-level examples):
//!
//! * [`field`]: the small enums carried in payloads (direction, mode, alarm kind, ...). Values this
//!   version does not know are kept as `Unknown(u8)`, never mapped to a default.
//! * [`message`]: [`Message`], the validated meaning of one frame's type and payload.
//! * [`frame`]: [`Frame`], a view over one decoded frame body (version, seq, type, payload, CRC),
//!   and [`FrameRepr`], its validated high-level form with `parse` and `emit`.
//! * [`stream`]: COBS framing with a `0x00` delimiter: [`encode_frame`] and the resynchronising
//!   [`FrameDecoder`], which counts every frame it rejects.
//!
//! Contract: parsing and decoding never panic on any input, whatever the bytes; bad input gives a
//! typed [`WireError`]. Only the `Frame` accessors on a buffer that did not pass
//! [`Frame::new_checked`] may panic (as in smoltcp).

pub mod field;
pub mod frame;
pub mod message;
pub mod stream;

pub use field::{AlarmFlags, AlarmKind, Direction, FlapState, GateMode, NakReason};
pub use frame::{Frame, FrameRepr};
pub use message::{Message, MessageType};
pub use stream::{DecoderStats, FrameDecoder, encode_frame};

/// Protocol version this crate speaks (first byte of every frame body).
pub const PROTOCOL_VERSION: u8 = 1;
/// Largest payload a frame may carry.
pub const MAX_PAYLOAD: usize = 64;
/// Frame body header: version, sequence number, message type.
pub const HEADER_LEN: usize = 3;
/// Trailing CRC-16/CCITT-FALSE, big-endian.
pub const CRC_LEN: usize = 2;
/// Smallest valid frame body (header and CRC, empty payload).
pub const MIN_BODY: usize = HEADER_LEN + CRC_LEN;
/// Largest valid frame body.
pub const MAX_BODY: usize = HEADER_LEN + MAX_PAYLOAD + CRC_LEN;
/// Largest COBS-encoded frame, without the `0x00` delimiter.
pub const MAX_ENCODED: usize = cobs::max_encoding_length(MAX_BODY);

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), called
/// CRC-16/IBM-3740 in the CRC catalogue. Check value of `"123456789"` is `0x29B1`.
pub const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);

/// Why a frame or payload was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("COBS framing error: bytes between two 0x00 delimiters are not valid COBS")]
    Cobs,
    #[error("frame body of {len} bytes is shorter than the minimum of {MIN_BODY}")]
    TooShort { len: usize },
    #[error("frame of {len} bytes is longer than the maximum of {MAX_BODY}")]
    TooLong { len: usize },
    #[error("CRC mismatch: frame carries {carried:#06x}, computed {computed:#06x}")]
    BadCrc { carried: u16, computed: u16 },
    #[error("unsupported protocol version {0} (this side speaks {PROTOCOL_VERSION})")]
    BadVersion(u8),
    #[error("payload of {len} bytes is not valid for message type {msg_type:#04x}")]
    BadPayload { msg_type: u8, len: usize },
}
