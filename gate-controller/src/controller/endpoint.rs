//! The gate's end of the link: frames in, frames out, around the [`machine`](super::machine).
//!
//! Pure like the machine: bytes and the current time go in, bytes to write and flap commands
//! come out. It handles the reliability rules of the protocol:
//!
//! * every reliable host frame is answered with ACK/NAK carrying its seq; a frame with the same
//!   seq as the last one handled is a retransmission: the stored answer is re-sent and the
//!   command is *not* executed again;
//! * events to the host go one at a time (stop-and-wait), each with a new seq, retransmitted
//!   every `retransmit_ms` until ACKed. An event is given up (dropped and reported) only after
//!   `max_retries` retransmissions *and* the heartbeat timeout without an ACK: a passage or
//!   alarm event must not be lost to a burst of line noise while the host is there, and a host
//!   that is gone (or never ACKs) must not block the queue for ever;
//! * heartbeats every `heartbeat_interval_ms` while the host is alive (heard from within the
//!   heartbeat timeout);
//! * nothing is sent before the first HELLO of this run (events wait, at most
//!   [`MAX_QUEUED_EVENTS`]): a host still talking to the gate's previous run then hears
//!   silence, reconnects, and learns the new session id from HELLO_ACK, so it does not take the
//!   restarted gate's sequence numbers for retransmissions.

use std::collections::VecDeque;

use super::machine::{self, Action, Command, Config, FlapCommand, GateState, Input, Reply, SensorEvent};
use crate::wire::{FrameDecoder, FrameRepr, Message, NakReason, PROTOCOL_VERSION, WireError, encode_frame};

/// Events kept for the host while it is not there; the oldest are dropped beyond this.
pub const MAX_QUEUED_EVENTS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    pub retransmit_ms: u64,
    pub max_retries: u8,
    pub heartbeat_interval_ms: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig { retransmit_ms: 100, max_retries: 5, heartbeat_interval_ms: 500 }
    }
}

/// What one call produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// Bytes to write to the serial line, in order.
    pub bytes: Vec<u8>,
    /// Flap commands for the hardware, in order.
    pub flaps: Vec<FlapCommand>,
    /// Events sent to the host for the first time.
    pub events_sent: Vec<Message>,
    /// Events abandoned: unanswered after `max_retries` retransmissions and the heartbeat timeout.
    pub events_dropped: Vec<Message>,
    /// Frames that arrived but were rejected (bad CRC, length, ...).
    pub rejected: Vec<WireError>,
}

#[derive(Debug, Clone)]
struct Outstanding {
    frame: FrameRepr,
    first_sent_ms: u64,
    sent_ms: u64,
    retries: u8,
}

#[derive(Debug)]
pub struct GateEndpoint {
    config: EndpointConfig,
    machine_config: Config,
    state: GateState,
    decoder: FrameDecoder,
    /// Seq of the last reliable host frame handled, and the answer given.
    last_rx: Option<(u8, Reply)>,
    tx_seq: u8,
    outstanding: Option<Outstanding>,
    queue: VecDeque<Message>,
    heartbeat_seq: u8,
    last_heartbeat_ms: Option<u64>,
    /// This run's session id, sent in every HELLO_ACK.
    session: u32,
    /// A host has said HELLO (with our version) during this run.
    in_session: bool,
}

fn to_command(msg: &Message) -> Option<Command> {
    Some(match *msg {
        Message::Hello { version } => Command::Hello { version },
        Message::Heartbeat => Command::Heartbeat,
        Message::Authorise { passage_id, direction, time_limit_ms } => {
            Command::Authorise { passage_id, direction, time_limit_ms }
        }
        Message::Cancel { passage_id } => Command::Cancel { passage_id },
        Message::SetMode { mode } => Command::SetMode(mode),
        Message::GetStatus => Command::GetStatus,
        Message::ResetAlarm => Command::ResetAlarm,
        _ => return None,
    })
}

fn reply_message(reply: Reply, session: u32) -> Message {
    match reply {
        Reply::Ack => Message::Ack,
        Reply::Nak(reason) => Message::Nak { reason },
        Reply::HelloAck { version, gate_id } => Message::HelloAck { version, gate_id, session },
    }
}

impl GateEndpoint {
    /// `session` identifies this run of the gate: it must differ from the previous run's (a
    /// random number, or a boot counter), see the module docs.
    pub fn new(config: EndpointConfig, machine_config: Config, session: u32) -> GateEndpoint {
        GateEndpoint {
            config,
            machine_config,
            state: GateState::default(),
            decoder: FrameDecoder::new(),
            last_rx: None,
            tx_seq: 0,
            outstanding: None,
            queue: VecDeque::new(),
            heartbeat_seq: 0,
            last_heartbeat_ms: None,
            session,
            in_session: false,
        }
    }

    /// Whether a host has opened a session (HELLO) during this run.
    pub fn in_session(&self) -> bool {
        self.in_session
    }

    pub fn session(&self) -> u32 {
        self.session
    }

    pub fn state(&self) -> &GateState {
        &self.state
    }

    pub fn decoder_stats(&self) -> crate::wire::DecoderStats {
        self.decoder.stats()
    }

    fn write(out: &mut Output, seq: u8, message: Message) {
        out.bytes.extend(encode_frame(&FrameRepr { seq, message }));
    }

    fn step(&mut self, input: Input, now_ms: u64, out: &mut Output) -> Option<Reply> {
        let state = std::mem::take(&mut self.state);
        let (state, actions) = machine::next(state, input, now_ms, &self.machine_config);
        self.state = state;
        let mut reply = None;
        for action in actions {
            match action {
                Action::Flaps(cmd) => out.flaps.push(cmd),
                Action::Reply(r) => reply = Some(r),
                Action::Send(msg) => {
                    if self.queue.len() == MAX_QUEUED_EVENTS
                        && let Some(oldest) = self.queue.pop_front()
                    {
                        out.events_dropped.push(oldest);
                    }
                    self.queue.push_back(msg);
                }
            }
        }
        reply
    }

    /// Bytes arrived from the host.
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64, out: &mut Output) {
        for result in self.decoder.push(bytes) {
            match result {
                Ok(frame) => self.handle_frame(frame, now_ms, out),
                Err(err) => out.rejected.push(err),
            }
        }
        self.poll(now_ms, out);
    }

    fn handle_frame(&mut self, frame: FrameRepr, now_ms: u64, out: &mut Output) {
        let seq = frame.seq;
        match &frame.message {
            Message::Ack | Message::Nak { .. } => {
                if self.outstanding.as_ref().is_some_and(|o| o.frame.seq == seq) {
                    self.outstanding = None;
                }
                return;
            }
            Message::Heartbeat => {
                self.step(Input::Command(Command::Heartbeat), now_ms, out);
                return;
            }
            Message::Hello { version } => {
                self.last_rx = None; // a new host session starts
                if *version == PROTOCOL_VERSION {
                    self.in_session = true;
                }
            }
            _ => {}
        }
        if !frame.message.is_reliable() {
            return; // HELLO_ACK from a confused peer: nothing to answer
        }
        if let Some((last_seq, reply)) = self.last_rx
            && last_seq == seq
        {
            // Retransmission of a frame already handled: answer again, do not execute again.
            Self::write(out, seq, reply_message(reply, self.session));
            return;
        }
        let reply = match to_command(&frame.message) {
            Some(cmd) => self.step(Input::Command(cmd), now_ms, out).unwrap_or(Reply::Ack),
            None => Reply::Nak(NakReason::UnknownType),
        };
        self.last_rx = Some((seq, reply));
        Self::write(out, seq, reply_message(reply, self.session));
    }

    /// A sensor reported something.
    pub fn sensor(&mut self, event: SensorEvent, now_ms: u64, out: &mut Output) {
        self.step(Input::Sensor(event), now_ms, out);
        self.poll(now_ms, out);
    }

    /// Time passed: timers, retransmissions, heartbeats, queued events. Call every few ms.
    pub fn poll(&mut self, now_ms: u64, out: &mut Output) {
        self.step(Input::Tick, now_ms, out);

        // Heartbeats while the host is alive (not before its HELLO, not into a dead line).
        let host_alive = self
            .state
            .host_seen_ms
            .is_some_and(|seen| now_ms.saturating_sub(seen) <= self.machine_config.heartbeat_timeout_ms);
        if self.in_session
            && host_alive
            && self
                .last_heartbeat_ms
                .is_none_or(|t| now_ms.saturating_sub(t) >= self.config.heartbeat_interval_ms)
        {
            self.last_heartbeat_ms = Some(now_ms);
            self.heartbeat_seq = self.heartbeat_seq.wrapping_add(1);
            Self::write(out, self.heartbeat_seq, Message::Heartbeat);
        }

        if let Some(o) = &mut self.outstanding
            && now_ms.saturating_sub(o.sent_ms) >= self.config.retransmit_ms
        {
            if o.retries >= self.config.max_retries
                && now_ms.saturating_sub(o.first_sent_ms) >= self.machine_config.heartbeat_timeout_ms
            {
                out.events_dropped.push(o.frame.message.clone());
                self.outstanding = None;
            } else {
                o.retries = o.retries.saturating_add(1);
                o.sent_ms = now_ms;
                out.bytes.extend(encode_frame(&o.frame));
            }
        }

        if self.in_session
            && self.outstanding.is_none()
            && let Some(message) = self.queue.pop_front()
        {
            self.tx_seq = self.tx_seq.wrapping_add(1);
            let frame = FrameRepr { seq: self.tx_seq, message };
            out.bytes.extend(encode_frame(&frame));
            out.events_sent.push(frame.message.clone());
            self.outstanding =
                Some(Outstanding { frame, first_sent_ms: now_ms, sent_ms: now_ms, retries: 0 });
        }
    }
}
