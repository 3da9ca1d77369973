//! One decoded frame body (what sits inside the COBS encoding):
//!
//! ```text
//! +---------+-----+------+-------------------+-----------------+
//! | version | seq | type | payload (0..=64)  | CRC-16 (BE)     |
//! |   u8    | u8  |  u8  |                   | over all before |
//! +---------+-----+------+-------------------+-----------------+
//! ```

use super::message::Message;
use super::{CRC_LEN, CRC16, HEADER_LEN, MAX_BODY, MIN_BODY, PROTOCOL_VERSION, WireError};

mod field {
    pub const VERSION: usize = 0;
    pub const SEQ: usize = 1;
    pub const TYPE: usize = 2;
}

/// A read/write view over a frame body buffer.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length: accessors may panic if it is too short.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len): accessors then never panic.
    pub fn new_checked(buffer: T) -> Result<Frame<T>, WireError> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds a header, at most `MAX_PAYLOAD` bytes of payload and a CRC.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < MIN_BODY {
            Err(WireError::TooShort { len })
        } else if len > MAX_BODY {
            Err(WireError::TooLong { len })
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }

    pub fn seq(&self) -> u8 {
        self.buffer.as_ref()[field::SEQ]
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        &data[HEADER_LEN..data.len() - CRC_LEN]
    }

    /// The CRC carried in the last two bytes.
    pub fn checksum(&self) -> u16 {
        let data = self.buffer.as_ref();
        u16::from_be_bytes([data[data.len() - 2], data[data.len() - 1]])
    }

    /// The CRC computed over everything before the last two bytes.
    pub fn compute_checksum(&self) -> u16 {
        let data = self.buffer.as_ref();
        CRC16.checksum(&data[..data.len() - CRC_LEN])
    }

    pub fn verify_checksum(&self) -> bool {
        self.checksum() == self.compute_checksum()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_version(&mut self, value: u8) {
        self.buffer.as_mut()[field::VERSION] = value;
    }

    pub fn set_seq(&mut self, value: u8) {
        self.buffer.as_mut()[field::SEQ] = value;
    }

    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        &mut data[HEADER_LEN..len - CRC_LEN]
    }

    /// Computes the CRC and writes it into the last two bytes.
    pub fn fill_checksum(&mut self) {
        let crc = self.compute_checksum();
        let data = self.buffer.as_mut();
        let len = data.len();
        data[len - CRC_LEN..].copy_from_slice(&crc.to_be_bytes());
    }
}

/// The validated meaning of one frame: its sequence number and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRepr {
    /// For data frames, the sender's sequence number; for ACK/NAK/HELLO_ACK, the sequence number
    /// being answered; for HEARTBEAT, the sender's heartbeat counter.
    pub seq: u8,
    pub message: Message,
}

impl FrameRepr {
    /// Parses and validates a frame body: length, CRC, version, payload. Never panics.
    pub fn parse(body: &[u8]) -> Result<FrameRepr, WireError> {
        let frame = Frame::new_checked(body)?;
        if !frame.verify_checksum() {
            return Err(WireError::BadCrc { carried: frame.checksum(), computed: frame.compute_checksum() });
        }
        if frame.version() != PROTOCOL_VERSION {
            return Err(WireError::BadVersion(frame.version()));
        }
        let message = Message::parse(frame.msg_type(), frame.payload())?;
        Ok(FrameRepr { seq: frame.seq(), message })
    }

    /// Emits the frame body (header, payload, CRC), not yet COBS-encoded.
    pub fn emit(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(MAX_BODY);
        body.extend_from_slice(&[PROTOCOL_VERSION, self.seq, self.message.msg_type()]);
        self.message.emit_payload(&mut body);
        body.extend_from_slice(&[0, 0]);
        let mut frame = Frame::new_unchecked(&mut body[..]);
        frame.fill_checksum();
        body
    }
}
