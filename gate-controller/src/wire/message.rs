//! Message types and payloads: [`Message`] is the validated meaning of (type byte, payload).
//!
//! All multi-byte integers are big-endian. Payload lengths are exact: a known type with a payload
//! of the wrong length is rejected ([`WireError::BadPayload`]); an unknown type is kept as
//! [`Message::Unknown`] so the receiver can NAK it.

use super::field::{AlarmFlags, AlarmKind, Direction, FlapState, GateMode, NakReason};
use super::{MAX_PAYLOAD, WireError};

/// The message type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    // Host -> gate
    Hello,
    Heartbeat,
    Authorise,
    Cancel,
    SetMode,
    GetStatus,
    ResetAlarm,
    // Either direction
    Ack,
    Nak,
    // Gate -> host
    HelloAck,
    Status,
    PassengerEntered,
    PassageCompleted,
    PassageTimedOut,
    Alarm,
    Unknown(u8),
}

const TYPES: [(MessageType, u8); 15] = [
    (MessageType::Hello, 0x01),
    (MessageType::Heartbeat, 0x02),
    (MessageType::Authorise, 0x03),
    (MessageType::Cancel, 0x04),
    (MessageType::SetMode, 0x05),
    (MessageType::GetStatus, 0x06),
    (MessageType::ResetAlarm, 0x07),
    (MessageType::Ack, 0x10),
    (MessageType::Nak, 0x11),
    (MessageType::HelloAck, 0x21),
    (MessageType::Status, 0x22),
    (MessageType::PassengerEntered, 0x23),
    (MessageType::PassageCompleted, 0x24),
    (MessageType::PassageTimedOut, 0x25),
    (MessageType::Alarm, 0x26),
];

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        TYPES.iter().find(|(_, v)| *v == value).map_or(MessageType::Unknown(value), |(t, _)| *t)
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> u8 {
        match value {
            MessageType::Unknown(v) => v,
            known => TYPES.iter().find(|(t, _)| *t == known).map_or(0, |(_, v)| *v),
        }
    }
}

/// One message: the validated meaning of a frame's type byte and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Host opens a session. Answered by `HelloAck`.
    Hello {
        version: u8,
    },
    /// Liveness, both directions, every ~500 ms. Not acknowledged.
    Heartbeat,
    /// Open the gate for one passage.
    Authorise {
        passage_id: u64,
        direction: Direction,
        time_limit_ms: u16,
    },
    /// Withdraw an authorisation that has not been used yet.
    Cancel {
        passage_id: u64,
    },
    SetMode {
        mode: GateMode,
    },
    /// Ask the gate to send a `Status` event.
    GetStatus,
    /// Clear the alarm state and return to normal operation.
    ResetAlarm,
    /// The frame with this frame's sequence number was received and handled.
    Ack,
    /// The frame with this frame's sequence number was received and refused.
    Nak {
        reason: NakReason,
    },
    /// Answer to `Hello` (acknowledges it; carries the `Hello`'s sequence number).
    HelloAck {
        version: u8,
        gate_id: u16,
        /// Chosen afresh each time the gate controller starts, the same for every HELLO of one
        /// run: a host that sees it change knows the gate restarted (and reuses sequence numbers).
        session: u32,
    },
    Status {
        mode: GateMode,
        flaps: FlapState,
        pending_passage: Option<u64>,
        alarms: AlarmFlags,
    },
    PassengerEntered {
        passage_id: u64,
    },
    PassageCompleted {
        passage_id: u64,
    },
    PassageTimedOut {
        passage_id: u64,
    },
    Alarm {
        kind: AlarmKind,
        passage_id: Option<u64>,
    },
    /// A message type this version does not know, kept as received.
    Unknown {
        msg_type: u8,
        payload: Vec<u8>,
    },
}

fn u64_at(p: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[at..at + 8]);
    u64::from_be_bytes(b)
}

fn optional_u64(flag: u8, p: &[u8], at: usize) -> Option<Option<u64>> {
    match flag {
        0 => Some(None),
        1 => Some(Some(u64_at(p, at))),
        _ => None,
    }
}

fn push_optional_u64(out: &mut Vec<u8>, value: Option<u64>) {
    out.push(u8::from(value.is_some()));
    out.extend_from_slice(&value.unwrap_or(0).to_be_bytes());
}

impl Message {
    /// Parses a payload of the given type. Never panics.
    pub fn parse(msg_type: u8, payload: &[u8]) -> Result<Message, WireError> {
        let bad = WireError::BadPayload { msg_type, len: payload.len() };
        let p = payload;
        let want = |n: usize| if p.len() == n { Ok(()) } else { Err(bad) };
        let msg = match MessageType::from(msg_type) {
            MessageType::Hello => {
                want(1)?;
                Message::Hello { version: p[0] }
            }
            MessageType::Heartbeat => want(0).map(|_| Message::Heartbeat)?,
            MessageType::Authorise => {
                want(11)?;
                Message::Authorise {
                    passage_id: u64_at(p, 0),
                    direction: Direction::from(p[8]),
                    time_limit_ms: u16::from_be_bytes([p[9], p[10]]),
                }
            }
            MessageType::Cancel => want(8).map(|_| Message::Cancel { passage_id: u64_at(p, 0) })?,
            MessageType::SetMode => want(1).map(|_| Message::SetMode { mode: GateMode::from(p[0]) })?,
            MessageType::GetStatus => want(0).map(|_| Message::GetStatus)?,
            MessageType::ResetAlarm => want(0).map(|_| Message::ResetAlarm)?,
            MessageType::Ack => want(0).map(|_| Message::Ack)?,
            MessageType::Nak => want(1).map(|_| Message::Nak { reason: NakReason::from(p[0]) })?,
            MessageType::HelloAck => {
                want(7)?;
                Message::HelloAck {
                    version: p[0],
                    gate_id: u16::from_be_bytes([p[1], p[2]]),
                    session: u32::from_be_bytes([p[3], p[4], p[5], p[6]]),
                }
            }
            MessageType::Status => {
                want(13)?;
                Message::Status {
                    mode: GateMode::from(p[0]),
                    flaps: FlapState::from(p[1]),
                    pending_passage: optional_u64(p[2], p, 3).ok_or(bad)?,
                    alarms: AlarmFlags(u16::from_be_bytes([p[11], p[12]])),
                }
            }
            MessageType::PassengerEntered => {
                want(8).map(|_| Message::PassengerEntered { passage_id: u64_at(p, 0) })?
            }
            MessageType::PassageCompleted => {
                want(8).map(|_| Message::PassageCompleted { passage_id: u64_at(p, 0) })?
            }
            MessageType::PassageTimedOut => {
                want(8).map(|_| Message::PassageTimedOut { passage_id: u64_at(p, 0) })?
            }
            MessageType::Alarm => {
                want(10)?;
                Message::Alarm {
                    kind: AlarmKind::from(p[0]),
                    passage_id: optional_u64(p[1], p, 2).ok_or(bad)?,
                }
            }
            MessageType::Unknown(t) => {
                if p.len() > MAX_PAYLOAD {
                    return Err(bad);
                }
                Message::Unknown { msg_type: t, payload: p.to_vec() }
            }
        };
        Ok(msg)
    }

    /// The type byte of this message.
    pub fn msg_type(&self) -> u8 {
        let t = match self {
            Message::Hello { .. } => MessageType::Hello,
            Message::Heartbeat => MessageType::Heartbeat,
            Message::Authorise { .. } => MessageType::Authorise,
            Message::Cancel { .. } => MessageType::Cancel,
            Message::SetMode { .. } => MessageType::SetMode,
            Message::GetStatus => MessageType::GetStatus,
            Message::ResetAlarm => MessageType::ResetAlarm,
            Message::Ack => MessageType::Ack,
            Message::Nak { .. } => MessageType::Nak,
            Message::HelloAck { .. } => MessageType::HelloAck,
            Message::Status { .. } => MessageType::Status,
            Message::PassengerEntered { .. } => MessageType::PassengerEntered,
            Message::PassageCompleted { .. } => MessageType::PassageCompleted,
            Message::PassageTimedOut { .. } => MessageType::PassageTimedOut,
            Message::Alarm { .. } => MessageType::Alarm,
            Message::Unknown { msg_type, .. } => MessageType::Unknown(*msg_type),
        };
        u8::from(t)
    }

    /// Whether the receiver must answer this message with ACK/NAK and the sender retransmits it.
    /// ACK, NAK, HEARTBEAT and HELLO_ACK are not acknowledged (HELLO_ACK is itself the answer).
    pub fn is_reliable(&self) -> bool {
        !matches!(self, Message::Ack | Message::Nak { .. } | Message::Heartbeat | Message::HelloAck { .. })
    }

    /// Appends the payload bytes. An `Unknown` payload longer than [`MAX_PAYLOAD`] is truncated.
    pub fn emit_payload(&self, out: &mut Vec<u8>) {
        match self {
            Message::Hello { version } => out.push(*version),
            Message::Heartbeat | Message::GetStatus | Message::ResetAlarm | Message::Ack => {}
            Message::Authorise { passage_id, direction, time_limit_ms } => {
                out.extend_from_slice(&passage_id.to_be_bytes());
                out.push(u8::from(*direction));
                out.extend_from_slice(&time_limit_ms.to_be_bytes());
            }
            Message::Cancel { passage_id }
            | Message::PassengerEntered { passage_id }
            | Message::PassageCompleted { passage_id }
            | Message::PassageTimedOut { passage_id } => out.extend_from_slice(&passage_id.to_be_bytes()),
            Message::SetMode { mode } => out.push(u8::from(*mode)),
            Message::Nak { reason } => out.push(u8::from(*reason)),
            Message::HelloAck { version, gate_id, session } => {
                out.push(*version);
                out.extend_from_slice(&gate_id.to_be_bytes());
                out.extend_from_slice(&session.to_be_bytes());
            }
            Message::Status { mode, flaps, pending_passage, alarms } => {
                out.push(u8::from(*mode));
                out.push(u8::from(*flaps));
                push_optional_u64(out, *pending_passage);
                out.extend_from_slice(&alarms.0.to_be_bytes());
            }
            Message::Alarm { kind, passage_id } => {
                out.push(u8::from(*kind));
                push_optional_u64(out, *passage_id);
            }
            Message::Unknown { payload, .. } => {
                out.extend_from_slice(&payload[..payload.len().min(MAX_PAYLOAD)]);
            }
        }
    }
}
