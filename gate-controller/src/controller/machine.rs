//! The gate's operating state machine: `next(state, input, now) -> (state, actions)`.
//!
//! Pure: no I/O, no clock (the caller passes `now_ms`, a monotonic millisecond count). Commands
//! arriving here are already de-duplicated by sequence number ([`super::endpoint`]); this machine
//! adds idempotency by passage id, so a repeated AUTHORISE never admits a second person.
//!
//! Fail-safe rules: the emergency input opens the flaps whatever else happens; losing the host's
//! heartbeat closes the flaps and takes the gate out of service.

use std::collections::VecDeque;

use crate::wire::{AlarmFlags, AlarmKind, Direction, FlapState, GateMode, Message, NakReason};

/// How many recently used passage ids are remembered for idempotency.
pub const RECENT_PASSAGES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub gate_id: u16,
    /// No frame from the host for this long: close and go out of service.
    pub heartbeat_timeout_ms: u64,
    /// A passenger still in the lane after this long raises an obstruction alarm.
    pub lane_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config { gate_id: 1, heartbeat_timeout_ms: 3000, lane_timeout_ms: 10_000 }
    }
}

/// One authorised passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passage {
    pub id: u64,
    pub direction: Direction,
}

impl Passage {
    /// The side a passenger of this passage enters from.
    pub fn entry_side(self) -> Side {
        match self.direction {
            Direction::Exit => Side::Exit,
            _ => Side::Entry,
        }
    }
}

/// A side of the lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Entry,
    Exit,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Entry => Side::Exit,
            Side::Exit => Side::Entry,
        }
    }
}

/// Why the gate is out of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OosReason {
    /// No host has said HELLO yet.
    NotConnected,
    /// The host's heartbeats stopped.
    HeartbeatLost,
    /// SET_MODE out_of_service.
    Commanded,
}

/// The states of the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Flaps closed, waiting for a host.
    OutOfService(OosReason),
    /// Flaps closed, ready to authorise.
    Idle,
    /// Flaps closed, refusing authorisations (SET_MODE locked).
    Locked,
    /// Flaps open for one passenger who has not entered yet.
    Authorised { passage: Passage, deadline_ms: u64 },
    /// The passenger is in the lane.
    PassengerInLane { passage: Passage, deadline_ms: u64 },
    /// Flaps closed after an alarm, until RESET_ALARM or SET_MODE.
    Alarm { kind: AlarmKind, passage_id: Option<u64> },
    /// Flaps open: emergency input active, or SET_MODE emergency_open (`commanded`).
    Emergency { commanded: bool },
}

/// The full controller state: the phase plus what persists across phases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateState {
    pub phase: Phase,
    pub flaps: FlapState,
    pub alarms: AlarmFlags,
    pub emergency_input: bool,
    /// When the host was last heard from (any valid frame).
    pub host_seen_ms: Option<u64>,
    /// Passage ids already authorised (newest last), for idempotency.
    pub recent_passages: VecDeque<u64>,
}

impl Default for GateState {
    fn default() -> Self {
        GateState {
            phase: Phase::OutOfService(OosReason::NotConnected),
            flaps: FlapState::Closed,
            alarms: AlarmFlags::default(),
            emergency_input: false,
            host_seen_ms: None,
            recent_passages: VecDeque::new(),
        }
    }
}

/// A command from the host, already parsed and de-duplicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Hello { version: u8 },
    Heartbeat,
    Authorise { passage_id: u64, direction: Direction, time_limit_ms: u16 },
    Cancel { passage_id: u64 },
    SetMode(GateMode),
    GetStatus,
    ResetAlarm,
}

/// What the gate's sensors report (see [`super::GateHardware`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensorEvent {
    /// A body entered the lane from this side.
    BodyEntered(Side),
    /// A body left the lane through this side.
    BodyLeft(Side),
    /// The emergency input changed (true = active).
    Emergency(bool),
    DoorFault,
    Tamper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Command(Command),
    Sensor(SensorEvent),
    /// Time passes (call every few milliseconds).
    Tick,
}

/// What to do with the flaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlapCommand {
    /// Open for one passenger in this direction (the direction arrow shows green).
    OpenFor(Direction),
    /// Open both ways (emergency).
    OpenAll,
    Close,
}

/// The answer to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ack,
    Nak(NakReason),
    HelloAck { version: u8, gate_id: u16 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Flaps(FlapCommand),
    /// Answer the command just handled (exactly one per command, none for Heartbeat).
    Reply(Reply),
    /// Send an event to the host (reliably).
    Send(Message),
}

fn status(state: &GateState) -> Message {
    let (mode, pending) = match state.phase {
        Phase::OutOfService(_) => (GateMode::OutOfService, None),
        Phase::Locked => (GateMode::Locked, None),
        Phase::Emergency { .. } => (GateMode::EmergencyOpen, None),
        Phase::Authorised { passage, .. } | Phase::PassengerInLane { passage, .. } => {
            (GateMode::Normal, Some(passage.id))
        }
        Phase::Idle | Phase::Alarm { .. } => (GateMode::Normal, None),
    };
    Message::Status { mode, flaps: state.flaps, pending_passage: pending, alarms: state.alarms }
}

struct Step {
    state: GateState,
    actions: Vec<Action>,
}

impl Step {
    fn flaps(&mut self, cmd: FlapCommand) {
        self.state.flaps = match cmd {
            FlapCommand::Close => FlapState::Closed,
            _ => FlapState::Open,
        };
        self.actions.push(Action::Flaps(cmd));
    }

    fn reply(&mut self, reply: Reply) {
        self.actions.push(Action::Reply(reply));
    }

    fn send(&mut self, msg: Message) {
        self.actions.push(Action::Send(msg));
    }

    fn go_idle(&mut self) {
        self.state.phase = Phase::Idle;
        if self.state.flaps != FlapState::Closed {
            self.flaps(FlapCommand::Close);
        }
    }

    fn alarm(&mut self, kind: AlarmKind, passage_id: Option<u64>) {
        self.state.phase = Phase::Alarm { kind, passage_id };
        self.state.alarms.insert(kind);
        self.flaps(FlapCommand::Close);
        self.send(Message::Alarm { kind, passage_id });
    }

    fn remember(&mut self, passage_id: u64) {
        let recent = &mut self.state.recent_passages;
        if recent.len() == RECENT_PASSAGES {
            recent.pop_front();
        }
        recent.push_back(passage_id);
    }
}

fn in_progress(phase: Phase) -> Option<u64> {
    match phase {
        Phase::Authorised { passage, .. } | Phase::PassengerInLane { passage, .. } => Some(passage.id),
        Phase::Alarm { passage_id, .. } => passage_id,
        _ => None,
    }
}

/// The transition function.
pub fn next(state: GateState, input: Input, now_ms: u64, config: &Config) -> (GateState, Vec<Action>) {
    let mut s = Step { state, actions: Vec::new() };
    match input {
        Input::Command(cmd) => {
            s.state.host_seen_ms = Some(now_ms);
            command(&mut s, cmd, now_ms, config);
        }
        Input::Sensor(ev) => sensor(&mut s, ev, now_ms, config),
        Input::Tick => tick(&mut s, now_ms, config),
    }
    (s.state, s.actions)
}

fn command(s: &mut Step, cmd: Command, now_ms: u64, config: &Config) {
    let phase = s.state.phase;
    match cmd {
        Command::Hello { version } => {
            s.reply(Reply::HelloAck { version: crate::wire::PROTOCOL_VERSION, gate_id: config.gate_id });
            if version == crate::wire::PROTOCOL_VERSION
                && matches!(phase, Phase::OutOfService(OosReason::NotConnected | OosReason::HeartbeatLost))
            {
                s.state.phase = Phase::Idle;
            }
        }
        Command::Heartbeat => {
            if matches!(phase, Phase::OutOfService(OosReason::HeartbeatLost)) {
                s.state.phase = Phase::Idle;
                s.send(status(&s.state));
            }
        }
        Command::GetStatus => {
            s.reply(Reply::Ack);
            s.send(status(&s.state));
        }
        Command::Authorise { passage_id, direction, time_limit_ms } => {
            let passage = Passage { id: passage_id, direction };
            if s.state.recent_passages.contains(&passage_id) {
                // Already authorised (maybe already used): acknowledge, never admit again.
                s.reply(Reply::Ack);
            } else if matches!(direction, Direction::Unknown(_)) {
                s.reply(Reply::Nak(NakReason::BadPayload));
            } else if matches!(phase, Phase::Authorised { .. } | Phase::PassengerInLane { .. }) {
                s.reply(Reply::Nak(NakReason::Busy));
            } else if phase != Phase::Idle {
                s.reply(Reply::Nak(NakReason::NotAllowed));
            } else {
                s.remember(passage_id);
                s.state.phase = Phase::Authorised { passage, deadline_ms: now_ms + u64::from(time_limit_ms) };
                s.flaps(FlapCommand::OpenFor(direction));
                s.reply(Reply::Ack);
            }
        }
        Command::Cancel { passage_id } => {
            if let Phase::Authorised { passage, .. } = phase
                && passage.id == passage_id
            {
                s.go_idle();
            }
            // Not pending (already used, unknown, or someone is in the lane): nothing to undo.
            s.reply(Reply::Ack);
        }
        Command::ResetAlarm => {
            s.state.alarms = AlarmFlags::default();
            if s.state.emergency_input {
                s.state.alarms.insert(AlarmKind::Emergency);
            }
            if matches!(phase, Phase::Alarm { .. }) {
                s.go_idle();
            }
            s.reply(Reply::Ack);
        }
        Command::SetMode(mode) => {
            if matches!(mode, GateMode::Unknown(_)) {
                s.reply(Reply::Nak(NakReason::BadPayload));
                return;
            }
            if s.state.emergency_input && mode != GateMode::EmergencyOpen {
                // The emergency input wins over any command.
                s.reply(Reply::Nak(NakReason::NotAllowed));
                return;
            }
            match mode {
                GateMode::Normal => s.go_idle(),
                GateMode::Locked => {
                    s.state.phase = Phase::Locked;
                    if s.state.flaps != FlapState::Closed {
                        s.flaps(FlapCommand::Close);
                    }
                }
                GateMode::OutOfService => {
                    s.state.phase = Phase::OutOfService(OosReason::Commanded);
                    if s.state.flaps != FlapState::Closed {
                        s.flaps(FlapCommand::Close);
                    }
                }
                GateMode::EmergencyOpen => {
                    let commanded = !s.state.emergency_input;
                    s.state.phase = Phase::Emergency { commanded };
                    s.flaps(FlapCommand::OpenAll);
                }
                GateMode::Unknown(_) => {}
            }
            s.reply(Reply::Ack);
        }
    }
}

fn sensor(s: &mut Step, ev: SensorEvent, now_ms: u64, config: &Config) {
    let phase = s.state.phase;
    match ev {
        SensorEvent::Emergency(true) => {
            s.state.emergency_input = true;
            s.state.phase = Phase::Emergency { commanded: false };
            s.state.alarms.insert(AlarmKind::Emergency);
            s.flaps(FlapCommand::OpenAll);
            s.send(Message::Alarm { kind: AlarmKind::Emergency, passage_id: in_progress(phase) });
        }
        SensorEvent::Emergency(false) => {
            s.state.emergency_input = false;
            if phase == (Phase::Emergency { commanded: false }) {
                s.go_idle();
                s.send(status(&s.state));
            }
        }
        SensorEvent::DoorFault => s.alarm(AlarmKind::DoorFault, in_progress(phase)),
        SensorEvent::Tamper => s.alarm(AlarmKind::Tamper, in_progress(phase)),
        SensorEvent::BodyEntered(side) => match phase {
            Phase::Authorised { passage, .. } if side == passage.entry_side() => {
                s.state.phase =
                    Phase::PassengerInLane { passage, deadline_ms: now_ms + config.lane_timeout_ms };
                s.send(Message::PassengerEntered { passage_id: passage.id });
            }
            Phase::Authorised { passage, .. } => s.alarm(AlarmKind::CounterDirection, Some(passage.id)),
            Phase::PassengerInLane { passage, .. } if side == passage.entry_side() => {
                s.alarm(AlarmKind::Tailgating, Some(passage.id))
            }
            Phase::PassengerInLane { passage, .. } => s.alarm(AlarmKind::CounterDirection, Some(passage.id)),
            Phase::Idle | Phase::Locked | Phase::OutOfService(_) => s.alarm(AlarmKind::Intrusion, None),
            // Already alarmed, or flaps open for evacuation: people moving is expected.
            Phase::Alarm { .. } | Phase::Emergency { .. } => {}
        },
        SensorEvent::BodyLeft(side) => match phase {
            Phase::PassengerInLane { passage, .. } if side == passage.entry_side().opposite() => {
                s.go_idle();
                s.send(Message::PassageCompleted { passage_id: passage.id });
            }
            Phase::PassengerInLane { passage, .. } => {
                // Turned back: the authorisation was not used for a passage.
                s.go_idle();
                s.send(Message::PassageTimedOut { passage_id: passage.id });
            }
            // The lane clearing after an alarm, or during an evacuation: no event.
            _ => {}
        },
    }
}

fn tick(s: &mut Step, now_ms: u64, config: &Config) {
    let phase = s.state.phase;
    let host_lost =
        s.state.host_seen_ms.is_some_and(|seen| now_ms.saturating_sub(seen) > config.heartbeat_timeout_ms);
    if host_lost && !s.state.emergency_input && !matches!(phase, Phase::OutOfService(_)) {
        s.state.phase = Phase::OutOfService(OosReason::HeartbeatLost);
        if s.state.flaps != FlapState::Closed {
            s.flaps(FlapCommand::Close);
        }
        return;
    }
    match phase {
        Phase::Authorised { passage, deadline_ms } if now_ms >= deadline_ms => {
            s.go_idle();
            s.send(Message::PassageTimedOut { passage_id: passage.id });
        }
        Phase::PassengerInLane { passage, deadline_ms } if now_ms >= deadline_ms => {
            s.alarm(AlarmKind::Obstruction, Some(passage.id));
        }
        _ => {}
    }
}
