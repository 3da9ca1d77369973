//! COBS framing on the byte stream: `COBS(frame body) 0x00`.
//!
//! A `0x00` never appears inside an encoded frame, so after line noise or a partial frame the
//! decoder resynchronises at the next `0x00`. Consecutive delimiters (empty frames) are ignored,
//! which lets a sender prefix a frame with `0x00` to flush a partial frame at the receiver.

use super::frame::FrameRepr;
use super::{MAX_ENCODED, WireError};

/// Encodes a frame for the wire: COBS of the body, then the `0x00` delimiter.
pub fn encode_frame(repr: &FrameRepr) -> Vec<u8> {
    let mut out = cobs::encode_vec(&repr.emit());
    out.push(0);
    out
}

/// Counts of what the decoder accepted and rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecoderStats {
    pub frames: u64,
    pub cobs_errors: u64,
    pub too_short: u64,
    pub too_long: u64,
    pub bad_crc: u64,
    pub bad_version: u64,
    pub bad_payload: u64,
}

impl DecoderStats {
    /// All rejected frames.
    pub fn rejected(&self) -> u64 {
        self.cobs_errors + self.too_short + self.too_long + self.bad_crc + self.bad_version + self.bad_payload
    }

    fn count(&mut self, result: &Result<FrameRepr, WireError>) {
        let counter = match result {
            Ok(_) => &mut self.frames,
            Err(WireError::Cobs) => &mut self.cobs_errors,
            Err(WireError::TooShort { .. }) => &mut self.too_short,
            Err(WireError::TooLong { .. }) => &mut self.too_long,
            Err(WireError::BadCrc { .. }) => &mut self.bad_crc,
            Err(WireError::BadVersion(_)) => &mut self.bad_version,
            Err(WireError::BadPayload { .. }) => &mut self.bad_payload,
        };
        *counter += 1;
    }
}

/// Streaming decoder: feed it bytes as they arrive, get whole frames (or typed errors) out.
/// Memory is bounded: an over-long run of bytes without delimiter is dropped, not buffered.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes seen since the last delimiter (keeps counting after `buf` stops growing).
    run_len: usize,
    stats: DecoderStats,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Feeds bytes; returns one result per completed (non-empty) frame, in order. Never panics.
    pub fn push(&mut self, data: &[u8]) -> Vec<Result<FrameRepr, WireError>> {
        let mut out = Vec::new();
        for &byte in data {
            if byte != 0 {
                self.run_len += 1;
                if self.buf.len() < MAX_ENCODED {
                    self.buf.push(byte);
                }
                continue;
            }
            if self.run_len == 0 {
                continue;
            }
            let result = if self.run_len > MAX_ENCODED {
                Err(WireError::TooLong { len: self.run_len })
            } else {
                decode_body(&self.buf)
            };
            self.stats.count(&result);
            out.push(result);
            self.buf.clear();
            self.run_len = 0;
        }
        out
    }
}

fn decode_body(encoded: &[u8]) -> Result<FrameRepr, WireError> {
    let mut body = [0u8; MAX_ENCODED];
    let report = cobs::decode(encoded, &mut body).map_err(|_| WireError::Cobs)?;
    // A well-formed chunk decodes completely; anything left over means a stray delimiter inside.
    if report.parsed_size() != encoded.len() {
        return Err(WireError::Cobs);
    }
    FrameRepr::parse(&body[..report.frame_size()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{
        AlarmFlags, AlarmKind, CRC16, Direction, FlapState, GateMode, MAX_PAYLOAD, Message, NakReason,
    };
    use proptest::prelude::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(CRC16.checksum(b"123456789"), 0x29B1);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    /// The vectors documented in docs/gate-protocol.md.
    #[test]
    fn framing_vectors() {
        let cases: Vec<(FrameRepr, &str, &str)> = vec![
            (
                FrameRepr { seq: 0, message: Message::Hello { version: 1 } },
                "01 00 01 01 d1 64",
                "02 01 05 01 01 d1 64 00",
            ),
            (FrameRepr { seq: 7, message: Message::Ack }, "01 07 10 70 0a", "06 01 07 10 70 0a 00"),
            (
                FrameRepr {
                    seq: 0,
                    message: Message::HelloAck { version: 1, gate_id: 0x0102, session: 0xdead_beef },
                },
                "01 00 21 01 01 02 de ad be ef cf d2",
                "02 01 0b 21 01 01 02 de ad be ef cf d2 00",
            ),
            (
                FrameRepr {
                    seq: 1,
                    message: Message::Authorise {
                        passage_id: 42,
                        direction: Direction::Entry,
                        time_limit_ms: 10_000,
                    },
                },
                "01 01 03 00 00 00 00 00 00 00 2a 01 27 10 77 62",
                "04 01 01 03 01 01 01 01 01 01 07 2a 01 27 10 77 62 00",
            ),
            (
                FrameRepr { seq: 3, message: Message::PassageCompleted { passage_id: 42 } },
                "01 03 24 00 00 00 00 00 00 00 2a 03 b2",
                "04 01 03 24 01 01 01 01 01 01 04 2a 03 b2 00",
            ),
            (
                FrameRepr {
                    seq: 4,
                    message: Message::Alarm { kind: AlarmKind::Tailgating, passage_id: Some(42) },
                },
                "01 04 26 01 01 00 00 00 00 00 00 00 2a 3a 7b",
                "06 01 04 26 01 01 01 01 01 01 01 01 04 2a 3a 7b 00",
            ),
        ];
        for (repr, body, wire) in cases {
            assert_eq!(hex(&repr.emit()), body, "body of {repr:?}");
            let encoded = encode_frame(&repr);
            assert_eq!(hex(&encoded), wire, "wire bytes of {repr:?}");
            let mut dec = FrameDecoder::new();
            assert_eq!(dec.push(&encoded), vec![Ok(repr)]);
        }
    }

    #[test]
    fn rejects_bad_frames_with_typed_errors() {
        let good = FrameRepr { seq: 9, message: Message::GetStatus }.emit();
        let mut dec = FrameDecoder::new();

        let mut bad_crc = good.clone();
        bad_crc[1] ^= 0xff;
        let mut cobs_bytes = cobs::encode_vec(&bad_crc);
        cobs_bytes.push(0);
        assert!(matches!(dec.push(&cobs_bytes)[..], [Err(WireError::BadCrc { .. })]));

        let mut short = cobs::encode_vec(&good[..3]);
        short.push(0);
        assert_eq!(dec.push(&short), vec![Err(WireError::TooShort { len: 3 })]);

        let long = vec![0x55u8; 500];
        assert_eq!(dec.push(&long), vec![]);
        assert_eq!(dec.push(&[0]), vec![Err(WireError::TooLong { len: 500 })]);

        let mut wrong_len =
            FrameRepr { seq: 1, message: Message::Unknown { msg_type: 0x06, payload: vec![1] } };
        let bytes = encode_frame(&wrong_len);
        assert_eq!(dec.push(&bytes), vec![Err(WireError::BadPayload { msg_type: 0x06, len: 1 })]);
        wrong_len.message = Message::Unknown { msg_type: 0x7f, payload: vec![1] };
        assert_eq!(dec.push(&encode_frame(&wrong_len)), vec![Ok(wrong_len)]);

        let mut v2 = good.clone();
        v2[0] = 2;
        Frame::new_unchecked(&mut v2[..]).fill_checksum();
        let mut bytes = cobs::encode_vec(&v2);
        bytes.push(0);
        assert_eq!(dec.push(&bytes), vec![Err(WireError::BadVersion(2))]);

        let stats = dec.stats();
        assert_eq!((stats.bad_crc, stats.too_short, stats.too_long, stats.bad_payload), (1, 1, 1, 1));
        assert_eq!((stats.bad_version, stats.frames, stats.rejected()), (1, 1, 5));
    }

    use crate::wire::Frame;

    #[test]
    fn resync_after_garbage_between_frames() {
        let a = FrameRepr { seq: 1, message: Message::Cancel { passage_id: 5 } };
        let b = FrameRepr { seq: 2, message: Message::ResetAlarm };
        let mut stream = encode_frame(&a);
        stream.extend_from_slice(&[0x13, 0x37, 0xff, 0x00, 0x00, 0x42, 0x42]);
        stream.extend_from_slice(&encode_frame(&b)[..]); // garbage then frame without leading 0x00
        stream.push(0);
        stream.extend_from_slice(&encode_frame(&b));
        let mut dec = FrameDecoder::new();
        let results: Vec<_> = stream.chunks(3).flat_map(|c| dec.push(c)).collect();
        assert_eq!(results.first(), Some(&Ok(a)));
        assert_eq!(results.last(), Some(&Ok(b)));
        assert_eq!(dec.stats().frames, 2);
        assert_eq!(dec.stats().rejected(), 2);
    }

    fn arb_passage() -> impl Strategy<Value = Option<u64>> {
        proptest::option::of(any::<u64>())
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        prop_oneof![
            any::<u8>().prop_map(|version| Message::Hello { version }),
            Just(Message::Heartbeat),
            (any::<u64>(), any::<u8>(), any::<u16>()).prop_map(|(passage_id, d, time_limit_ms)| {
                Message::Authorise { passage_id, direction: Direction::from(d), time_limit_ms }
            }),
            any::<u64>().prop_map(|passage_id| Message::Cancel { passage_id }),
            any::<u8>().prop_map(|m| Message::SetMode { mode: GateMode::from(m) }),
            Just(Message::GetStatus),
            Just(Message::ResetAlarm),
            Just(Message::Ack),
            any::<u8>().prop_map(|r| Message::Nak { reason: NakReason::from(r) }),
            (any::<u8>(), any::<u16>(), any::<u32>())
                .prop_map(|(version, gate_id, session)| Message::HelloAck { version, gate_id, session }),
            (any::<u8>(), any::<u8>(), arb_passage(), any::<u16>()).prop_map(|(m, f, p, a)| {
                Message::Status {
                    mode: GateMode::from(m),
                    flaps: FlapState::from(f),
                    pending_passage: p,
                    alarms: AlarmFlags(a),
                }
            }),
            any::<u64>().prop_map(|passage_id| Message::PassengerEntered { passage_id }),
            any::<u64>().prop_map(|passage_id| Message::PassageCompleted { passage_id }),
            any::<u64>().prop_map(|passage_id| Message::PassageTimedOut { passage_id }),
            (any::<u8>(), arb_passage())
                .prop_map(|(k, passage_id)| Message::Alarm { kind: AlarmKind::from(k), passage_id }),
            (0x40u8..=0xff, proptest::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD))
                .prop_map(|(msg_type, payload)| Message::Unknown { msg_type, payload }),
        ]
    }

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(seq in any::<u8>(), message in arb_message()) {
            let repr = FrameRepr { seq, message };
            prop_assert_eq!(FrameRepr::parse(&repr.emit()), Ok(repr.clone()));
            let mut dec = FrameDecoder::new();
            prop_assert_eq!(dec.push(&encode_frame(&repr)), vec![Ok(repr)]);
        }

        #[test]
        fn garbage_never_panics(garbage in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut dec = FrameDecoder::new();
            let _ = dec.push(&garbage);
            let _ = FrameRepr::parse(&garbage);
            // After garbage, a delimiter and a good frame always get through.
            let repr = FrameRepr { seq: 1, message: Message::Heartbeat };
            let mut tail = vec![0];
            tail.extend(encode_frame(&repr));
            let results = dec.push(&tail);
            prop_assert_eq!(results.last(), Some(&Ok(repr)));
        }

        #[test]
        fn corrupted_frame_is_rejected_or_valid(seq in any::<u8>(), message in arb_message(),
                                                idx in any::<usize>(), flip in 1u8..=255) {
            let mut bytes = encode_frame(&FrameRepr { seq, message });
            let i = idx % bytes.len();
            bytes[i] ^= flip;
            let mut dec = FrameDecoder::new();
            let _ = dec.push(&bytes);
            let _ = dec.push(&[0]);
        }
    }
}
