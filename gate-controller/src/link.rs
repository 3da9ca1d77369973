//! The host (kiosk) side of the gate link: [`GateLink`].
//!
//! [`GateLink::connect`] opens the serial device and does the HELLO handshake, then one I/O
//! thread owns the port: it sends heartbeats, sends commands one at a time (stop-and-wait) and
//! retransmits them, ACKs the gate's events and hands them to [`GateLink::next_event`]. Callers
//! block only on their own command's answer, never on the port. If the device goes away, the
//! thread reports [`GateEvent::LinkLost`], keeps reopening it with backoff, and reports
//! [`GateEvent::LinkRestored`] once the handshake succeeds again. Nothing here panics on I/O or
//! on bytes from the gate.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::SerialPort;

pub use crate::wire::{AlarmFlags, AlarmKind, Direction, FlapState, GateMode, NakReason};
use crate::wire::{FrameDecoder, FrameRepr, Message, PROTOCOL_VERSION, encode_frame};

/// How often the I/O thread wakes up to check timers when the line is quiet.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Longest wait between two attempts to reopen a lost device.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The gate's heartbeat period (protocol constant, see docs/gate-protocol.md).
const GATE_HEARTBEAT_PERIOD: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    pub baud: u32,
    /// How long to wait for ACK/NAK (or HELLO_ACK) before retransmitting.
    pub ack_timeout: Duration,
    /// Transmissions of one frame before giving up (the first one included).
    pub max_retries: u8,
    /// Host heartbeat period. The link is declared lost after 4 periods (at least 4 gate
    /// heartbeat periods of 500 ms, so 2 s) without any frame from the gate.
    pub heartbeat_interval: Duration,
}

impl LinkConfig {
    /// Silence from the gate after which the link is declared lost.
    pub fn silence_limit(&self) -> Duration {
        self.heartbeat_interval.max(GATE_HEARTBEAT_PERIOD) * 4
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            baud: 115_200,
            ack_timeout: Duration::from_millis(100),
            max_retries: 5,
            heartbeat_interval: Duration::from_millis(500),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connected,
    /// The device is being reopened and the handshake redone.
    Reconnecting,
    /// The link is down for this reason; the I/O thread will try again (until the link is dropped).
    Down(String),
}

/// The gate's answer to GET_STATUS (or an unsolicited status after a mode change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateStatusReport {
    pub mode: GateMode,
    pub flaps: FlapState,
    pub pending_passage: Option<u64>,
    pub alarms: AlarmFlags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateEvent {
    PassengerEntered { passage_id: u64 },
    PassageCompleted { passage_id: u64 },
    PassageTimedOut { passage_id: u64 },
    Alarm { kind: AlarmKind, passage_id: Option<u64> },
    Status(GateStatusReport),
    LinkLost(String),
    LinkRestored,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "cannot open gate device {device}: {reason}: check the device path in the kiosk configuration \
         and that this user may open it (e.g. member of the dialout group)"
    )]
    Open { device: String, reason: String },
    #[error(
        "gate did not answer on {device} after {tries} tries: check the cable and that the gate \
         controller is powered"
    )]
    NoAnswer { device: String, tries: u8 },
    #[error(
        "gate on {device} speaks protocol version {gate_version}, this kiosk speaks version \
         {PROTOCOL_VERSION}: update the gate firmware or the kiosk so they match"
    )]
    VersionMismatch { device: String, gate_version: u8 },
    #[error(
        "gate on {device} refused the command ({reason}): check the gate mode and alarms with \
         a status request, reset the alarm or set the mode to normal, then retry"
    )]
    Rejected { device: String, reason: NakReason },
    #[error(
        "link to the gate on {device} is down ({reason}): the kiosk is reconnecting by itself; \
         retry once the link is restored, or check the cable and gate power"
    )]
    Down { device: String, reason: String },
    #[error("time limit of {ms} ms is too long: the gate accepts at most 65535 ms")]
    TimeLimitTooLong { ms: u128 },
    #[error("the gate link has been shut down: create a new GateLink")]
    Closed,
}

type Reply = Sender<Result<(), LinkError>>;

struct Request {
    message: Message,
    reply: Reply,
}

/// The host's connection to one gate. Cheap to share by reference across threads.
pub struct GateLink {
    device: String,
    config: LinkConfig,
    requests: Sender<Request>,
    events: Mutex<Receiver<GateEvent>>,
    state: Arc<Mutex<LinkState>>,
    shutdown: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for GateLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateLink").field("device", &self.device).field("state", &self.state()).finish()
    }
}

impl GateLink {
    /// Opens the serial device, does the HELLO handshake, spawns an I/O thread (heartbeats,
    /// retransmits, reading).
    pub fn connect(device_path: &str, config: LinkConfig) -> Result<GateLink, LinkError> {
        let (requests, requests_rx) = mpsc::channel();
        let (events_tx, events) = mpsc::channel();
        let state = Arc::new(Mutex::new(LinkState::Reconnecting));
        let shutdown = Arc::new(AtomicBool::new(false));
        let mut io = Io {
            device: device_path.to_string(),
            config: config.clone(),
            port: None,
            decoder: FrameDecoder::new(),
            tx_seq: 0,
            last_rx_seq: None,
            gate_session: None,
            hello: None,
            last_gate_frame: Instant::now(),
            last_heartbeat: Instant::now(),
            heartbeat_seq: 0,
            outstanding: None,
            queue: VecDeque::new(),
            requests: requests_rx,
            events: events_tx,
            state: state.clone(),
            shutdown: shutdown.clone(),
        };
        io.open_and_handshake()?;
        io.set_state(LinkState::Connected);
        let thread = std::thread::Builder::new()
            .name(format!("gate-link {device_path}"))
            .spawn(move || io.run())
            .map_err(|e| LinkError::Open { device: device_path.to_string(), reason: e.to_string() })?;
        Ok(GateLink {
            device: device_path.to_string(),
            config,
            requests,
            events: Mutex::new(events),
            state,
            shutdown,
            thread: Some(thread),
        })
    }

    fn request(&self, message: Message) -> Result<(), LinkError> {
        let (reply, answer) = mpsc::channel();
        self.requests.send(Request { message, reply }).map_err(|_| LinkError::Closed)?;
        // The I/O thread always answers (ACK, NAK, retries exhausted, link lost, shutdown); the
        // bound only guards against a thread that died.
        let worst =
            self.config.ack_timeout * (u32::from(self.config.max_retries) + 2) + Duration::from_secs(5);
        match answer.recv_timeout(worst) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                Err(LinkError::NoAnswer { device: self.device.clone(), tries: self.config.max_retries })
            }
            Err(RecvTimeoutError::Disconnected) => Err(LinkError::Closed),
        }
    }

    /// Sends AUTHORISE and blocks the *calling* thread (never the UI) until the gate ACKs or
    /// retries are exhausted. Authorising a passage id twice admits one person only.
    pub fn authorise(
        &self,
        passage_id: u64,
        direction: Direction,
        time_limit: Duration,
    ) -> Result<(), LinkError> {
        let ms = time_limit.as_millis();
        let time_limit_ms = u16::try_from(ms).map_err(|_| LinkError::TimeLimitTooLong { ms })?;
        self.request(Message::Authorise { passage_id, direction, time_limit_ms })
    }

    /// Withdraws an authorisation not used yet (ACKed even if there is nothing to cancel).
    pub fn cancel(&self, passage_id: u64) -> Result<(), LinkError> {
        self.request(Message::Cancel { passage_id })
    }

    pub fn set_mode(&self, mode: GateMode) -> Result<(), LinkError> {
        self.request(Message::SetMode { mode })
    }

    /// Asks for a status report; it arrives as [`GateEvent::Status`].
    pub fn request_status(&self) -> Result<(), LinkError> {
        self.request(Message::GetStatus)
    }

    /// Clears the gate's alarm state (after staff have checked the lane).
    pub fn reset_alarm(&self) -> Result<(), LinkError> {
        self.request(Message::ResetAlarm)
    }

    /// Next event from the gate, waiting at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<GateEvent> {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.recv_timeout(timeout).ok()
    }

    pub fn state(&self) -> LinkState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn device(&self) -> &str {
        &self.device
    }
}

impl Drop for GateLink {
    fn drop(&mut self) {
        self.shutdown.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Outstanding {
    frame: FrameRepr,
    reply: Reply,
    sent: Instant,
    tries: u8,
}

/// Everything the I/O thread owns.
struct Io {
    device: String,
    config: LinkConfig,
    port: Option<Box<dyn SerialPort>>,
    decoder: FrameDecoder,
    tx_seq: u8,
    /// Seq of the last gate event delivered. Kept across reconnects to the same gate run (its
    /// retransmissions of an event already delivered are not delivered twice), forgotten when
    /// the gate's session id changes (a restarted gate counts from the start again).
    last_rx_seq: Option<u8>,
    /// Session id of the gate run the last handshake reached.
    gate_session: Option<u32>,
    /// HELLO_ACK received during a handshake: (seq answered, version, session).
    hello: Option<(u8, u8, u32)>,
    last_gate_frame: Instant,
    last_heartbeat: Instant,
    heartbeat_seq: u8,
    outstanding: Option<Outstanding>,
    queue: VecDeque<Request>,
    requests: Receiver<Request>,
    events: Sender<GateEvent>,
    state: Arc<Mutex<LinkState>>,
    shutdown: Arc<AtomicBool>,
}

enum Lost {
    Reason(String),
}

impl Io {
    fn set_state(&self, state: LinkState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    fn next_seq(&mut self) -> u8 {
        self.tx_seq = self.tx_seq.wrapping_add(1);
        self.tx_seq
    }

    fn down(&self, reason: &str) -> LinkError {
        LinkError::Down { device: self.device.clone(), reason: reason.to_string() }
    }

    fn write_frame(&mut self, frame: &FrameRepr) -> Result<(), Lost> {
        let Some(port) = self.port.as_mut() else { return Err(Lost::Reason("device not open".into())) };
        let bytes = encode_frame(frame);
        port.write_all(&bytes)
            .and_then(|_| port.flush())
            .map_err(|e| Lost::Reason(format!("write failed: {e}")))
    }

    /// Reads what is available (waiting at most the port timeout) and handles every frame.
    fn read_and_handle(&mut self) -> Result<(), Lost> {
        let Some(port) = self.port.as_mut() else { return Err(Lost::Reason("device not open".into())) };
        let mut buf = [0u8; 256];
        let n = match port.read(&mut buf) {
            Ok(0) => return Err(Lost::Reason("device closed".into())),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                ) =>
            {
                return Ok(());
            }
            Err(e) => return Err(Lost::Reason(format!("read failed: {e}"))),
        };
        for result in self.decoder.push(&buf[..n]) {
            match result {
                Ok(frame) => self.handle_frame(frame)?,
                Err(err) => tracing::debug!(device = %self.device, %err, "rejected frame from gate"),
            }
        }
        Ok(())
    }

    fn handle_frame(&mut self, frame: FrameRepr) -> Result<(), Lost> {
        self.last_gate_frame = Instant::now();
        let seq = frame.seq;
        let event = match frame.message {
            Message::Heartbeat => return Ok(()),
            Message::HelloAck { version, gate_id, session } => {
                tracing::debug!(device = %self.device, gate_id, version, session, "HELLO_ACK");
                self.hello = Some((seq, version, session));
                // Here, not after the handshake: the gate's queued events may follow in the same
                // read and must be judged against the new run's numbering.
                if version == PROTOCOL_VERSION && self.gate_session != Some(session) {
                    if self.gate_session.is_some() {
                        tracing::info!(device = %self.device, session, "gate restarted, new session");
                    }
                    self.gate_session = Some(session);
                    self.last_rx_seq = None;
                }
                return Ok(());
            }
            Message::Ack | Message::Nak { .. } => {
                if let Some(out) = self.outstanding.take_if(|o| o.frame.seq == seq) {
                    let result = match frame.message {
                        Message::Nak { reason } => {
                            Err(LinkError::Rejected { device: self.device.clone(), reason })
                        }
                        _ => Ok(()),
                    };
                    let _ = out.reply.send(result);
                }
                return Ok(());
            }
            Message::PassengerEntered { passage_id } => GateEvent::PassengerEntered { passage_id },
            Message::PassageCompleted { passage_id } => GateEvent::PassageCompleted { passage_id },
            Message::PassageTimedOut { passage_id } => GateEvent::PassageTimedOut { passage_id },
            Message::Alarm { kind, passage_id } => GateEvent::Alarm { kind, passage_id },
            Message::Status { mode, flaps, pending_passage, alarms } => {
                GateEvent::Status(GateStatusReport { mode, flaps, pending_passage, alarms })
            }
            _ => {
                // A command type or an unknown type from the gate: refuse it.
                tracing::warn!(device = %self.device, msg_type = frame.message.msg_type(), "unexpected frame from gate");
                let nak = Message::Nak { reason: NakReason::UnknownType };
                return self.write_frame(&FrameRepr { seq, message: nak });
            }
        };
        self.write_frame(&FrameRepr { seq, message: Message::Ack })?;
        if self.last_rx_seq == Some(seq) {
            tracing::debug!(device = %self.device, seq, "duplicate event from gate, re-ACKed");
            return Ok(());
        }
        self.last_rx_seq = Some(seq);
        let _ = self.events.send(event);
        Ok(())
    }

    /// Opens the device and exchanges HELLO / HELLO_ACK, retrying `max_retries` times.
    fn open_and_handshake(&mut self) -> Result<(), LinkError> {
        let port = serialport::new(&self.device, self.config.baud)
            .timeout(POLL_INTERVAL)
            .open()
            .map_err(|e| LinkError::Open { device: self.device.clone(), reason: e.to_string() })?;
        let _ = port.clear(serialport::ClearBuffer::Input); // stale bytes from before we opened
        self.port = Some(port);
        self.decoder = FrameDecoder::new();
        self.hello = None;
        let seq = self.next_seq();
        let hello = FrameRepr { seq, message: Message::Hello { version: PROTOCOL_VERSION } };
        let tries = self.config.max_retries.max(1);
        for _ in 0..tries {
            let sent = Instant::now();
            if let Err(Lost::Reason(reason)) = self.write_frame(&hello) {
                self.port = None;
                return Err(self.down(&reason));
            }
            while sent.elapsed() < self.config.ack_timeout {
                if let Err(Lost::Reason(reason)) = self.read_and_handle() {
                    self.port = None;
                    return Err(self.down(&reason));
                }
                if let Some((answered, version, _)) = self.hello
                    && answered == seq
                {
                    if version != PROTOCOL_VERSION {
                        self.port = None;
                        return Err(LinkError::VersionMismatch {
                            device: self.device.clone(),
                            gate_version: version,
                        });
                    }
                    let now = Instant::now();
                    self.last_gate_frame = now;
                    self.last_heartbeat = now;
                    tracing::info!(device = %self.device, "gate link connected");
                    return Ok(());
                }
            }
        }
        self.port = None;
        Err(LinkError::NoAnswer { device: self.device.clone(), tries })
    }

    fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        let mut next_attempt = Instant::now();
        while !self.shutdown.load(Ordering::SeqCst) {
            if self.port.is_none() {
                self.refuse_requests();
                if Instant::now() < next_attempt {
                    std::thread::sleep(POLL_INTERVAL);
                    continue;
                }
                self.set_state(LinkState::Reconnecting);
                match self.open_and_handshake() {
                    Ok(()) => {
                        backoff = Duration::from_millis(100);
                        self.set_state(LinkState::Connected);
                        let _ = self.events.send(GateEvent::LinkRestored);
                    }
                    Err(err) => {
                        tracing::debug!(device = %self.device, %err, "gate reconnect failed");
                        self.set_state(LinkState::Down(err.to_string()));
                        next_attempt = Instant::now() + backoff;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
                continue;
            }
            if let Err(Lost::Reason(reason)) = self.service() {
                self.lose(reason);
                next_attempt = Instant::now() + backoff;
            }
        }
        self.port = None;
        self.fail_all(LinkError::Closed);
    }

    /// One round while connected: take requests, send, read, timers.
    fn service(&mut self) -> Result<(), Lost> {
        while let Ok(req) = self.requests.try_recv() {
            self.queue.push_back(req);
        }
        if self.outstanding.is_none()
            && let Some(req) = self.queue.pop_front()
        {
            let frame = FrameRepr { seq: self.next_seq(), message: req.message };
            self.write_frame(&frame)?;
            self.outstanding = Some(Outstanding { frame, reply: req.reply, sent: Instant::now(), tries: 1 });
        }
        self.read_and_handle()?;

        let now = Instant::now();
        if let Some(out) = &self.outstanding
            && now.duration_since(out.sent) >= self.config.ack_timeout
        {
            if out.tries >= self.config.max_retries {
                let tries = out.tries;
                if let Some(out) = self.outstanding.take() {
                    let _ = out.reply.send(Err(LinkError::NoAnswer { device: self.device.clone(), tries }));
                }
                return Err(Lost::Reason(format!("no answer after {tries} tries")));
            }
            let frame = out.frame.clone();
            tracing::debug!(device = %self.device, seq = frame.seq, "retransmitting");
            self.write_frame(&frame)?;
            if let Some(out) = &mut self.outstanding {
                out.tries += 1;
                out.sent = now;
            }
        }
        if now.duration_since(self.last_heartbeat) >= self.config.heartbeat_interval {
            self.last_heartbeat = now;
            self.heartbeat_seq = self.heartbeat_seq.wrapping_add(1);
            self.write_frame(&FrameRepr { seq: self.heartbeat_seq, message: Message::Heartbeat })?;
        }
        if now.duration_since(self.last_gate_frame) > self.config.silence_limit() {
            return Err(Lost::Reason("no heartbeat from the gate".into()));
        }
        Ok(())
    }

    fn lose(&mut self, reason: String) {
        tracing::warn!(device = %self.device, %reason, "gate link lost");
        self.port = None;
        self.set_state(LinkState::Down(reason.clone()));
        let err = self.down(&reason);
        self.fail_all(err);
        let _ = self.events.send(GateEvent::LinkLost(reason));
    }

    fn fail_all(&mut self, err: LinkError) {
        if let Some(out) = self.outstanding.take() {
            let _ = out.reply.send(Err(err.clone()));
        }
        for req in self.queue.drain(..) {
            let _ = req.reply.send(Err(err.clone()));
        }
        self.refuse_requests_with(&err);
    }

    fn refuse_requests(&mut self) {
        let reason = match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            LinkState::Down(reason) => reason.clone(),
            _ => "reconnecting".to_string(),
        };
        let err = self.down(&reason);
        self.refuse_requests_with(&err);
    }

    fn refuse_requests_with(&mut self, err: &LinkError) {
        while let Ok(req) = self.requests.try_recv() {
            let _ = req.reply.send(Err(err.clone()));
        }
    }
}
