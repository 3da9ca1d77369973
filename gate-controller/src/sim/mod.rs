//! A simulated gate: the controller [`endpoint`](crate::controller::endpoint) driven over a
//! pseudo-terminal or a real serial port, with simulated flaps, sensors and people
//! ([`hardware`]) acting out a [`Scenario`] ([`scenario`]: passengers with speed and hesitation,
//! and a timeline of emergencies, jammed flaps, tamper, intruders and a pulled cable).
//!
//! The serving loop is the only place with I/O and a clock: it moves bytes between the line and
//! the endpoint, feeds sensor events in and applies flap commands, and reports what happens to
//! an [`Observer`] (JSON lines on stdout, the terminal view, latency probes).

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

mod faulty;
pub mod hardware;
pub mod scenario;
pub mod soak;
pub mod view;
pub use faulty::{FaultConfig, FaultHandle, FaultStats, FaultyChannel};
pub use hardware::{LaneSnapshot, SimHardware};
pub use scenario::{Scenario, ScenarioError, SimAction};

use crate::controller::{
    Config, EndpointConfig, FlapCommand, GateEndpoint, GateHardware, OosReason, Output, Phase,
};
use crate::wire::{AlarmFlags, AlarmKind, FlapState, GateMode, Message};

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub scenario: Scenario,
    pub gate: Config,
    pub endpoint: EndpointConfig,
}

impl SimConfig {
    /// The scenario with its gate overrides applied to the default gate configuration.
    pub fn new(scenario: Scenario) -> SimConfig {
        let mut gate = Config::default();
        scenario.gate.apply(&mut gate);
        SimConfig { scenario, gate, endpoint: EndpointConfig::default() }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig::new(Scenario::default())
    }
}

/// A byte channel to the host with a bounded wait for input.
pub trait Channel {
    /// Reads available bytes, waiting at most `timeout`; `Ok(0)` when nothing arrived.
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()>;
}

impl Channel for Box<dyn serialport::SerialPort> {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.timeout() != timeout {
            self.set_timeout(timeout)?;
        }
        match self.read(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            other => other,
        }
    }

    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)?;
        self.flush()
    }
}

/// The master side of a pseudo-terminal; the host opens [`PtyChannel::slave_path`].
#[derive(Debug)]
pub struct PtyChannel {
    master: File,
    /// Held open so the line stays up (and unread bytes survive) while no host has it open.
    _slave: OwnedFd,
    slave_path: String,
}

impl PtyChannel {
    /// Creates a pseudo-terminal in raw mode.
    pub fn open() -> io::Result<PtyChannel> {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let pty = nix::pty::openpty(None, None)?;
        let mut termios = tcgetattr(&pty.slave)?;
        cfmakeraw(&mut termios);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &termios)?;
        let slave_path = nix::unistd::ttyname(&pty.slave)?.to_string_lossy().into_owned();
        Ok(PtyChannel { master: File::from(pty.master), _slave: pty.slave, slave_path })
    }

    pub fn slave_path(&self) -> &str {
        &self.slave_path
    }
}

impl Channel for PtyChannel {
    fn read_timeout(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => return Ok(0),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        match self.master.read(buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(0),
            other => other,
        }
    }

    fn write_all_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.master.write_all(bytes)
    }
}

fn mode_name(mode: GateMode) -> String {
    match mode {
        GateMode::Normal => "normal".into(),
        GateMode::Locked => "locked".into(),
        GateMode::EmergencyOpen => "emergency_open".into(),
        GateMode::OutOfService => "out_of_service".into(),
        GateMode::Unknown(v) => format!("unknown_{v}"),
    }
}

/// The alarm kind as one word, as in the JSON lines.
pub fn alarm_name(kind: AlarmKind) -> String {
    match kind {
        AlarmKind::Tailgating => "tailgating".into(),
        AlarmKind::CounterDirection => "counter_direction".into(),
        AlarmKind::Intrusion => "intrusion".into(),
        AlarmKind::Obstruction => "obstruction".into(),
        AlarmKind::DoorFault => "door_fault".into(),
        AlarmKind::Emergency => "emergency".into(),
        AlarmKind::Tamper => "tamper".into(),
        AlarmKind::Unknown(v) => format!("unknown_{v}"),
    }
}

/// One JSON object per event sent to the host, e.g. `{"event":"passage_completed","passage_id":42}`.
pub fn event_json(message: &Message) -> Option<serde_json::Value> {
    Some(match *message {
        Message::PassengerEntered { passage_id } => {
            json!({"event": "passenger_entered", "passage_id": passage_id})
        }
        Message::PassageCompleted { passage_id } => {
            json!({"event": "passage_completed", "passage_id": passage_id})
        }
        Message::PassageTimedOut { passage_id } => {
            json!({"event": "passage_timed_out", "passage_id": passage_id})
        }
        Message::Alarm { kind, passage_id } => {
            json!({"event": "alarm", "kind": alarm_name(kind), "passage_id": passage_id})
        }
        Message::Status { mode, flaps, pending_passage, alarms } => json!({
            "event": "status",
            "mode": mode_name(mode),
            "flaps": if flaps == FlapState::Open { "open" } else { "closed" },
            "pending_passage": pending_passage,
            "alarms": alarms.0,
        }),
        _ => return None,
    })
}

/// The controller's phase as one word (JSON lines and the terminal view).
pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::OutOfService(OosReason::NotConnected) => "out_of_service_not_connected",
        Phase::OutOfService(OosReason::HeartbeatLost) => "out_of_service_host_lost",
        Phase::OutOfService(OosReason::Commanded) => "out_of_service",
        Phase::Idle => "idle",
        Phase::Locked => "locked",
        Phase::Authorised { .. } => "authorised",
        Phase::PassengerInLane { .. } => "passenger_in_lane",
        Phase::Alarm { .. } => "alarm",
        Phase::Emergency { .. } => "emergency",
    }
}

/// One JSON object per thing the simulator did on its own, e.g. `{"sim":"cable","connected":false}`.
pub fn action_json(action: &SimAction) -> serde_json::Value {
    match action {
        SimAction::Walk { side, .. } => json!({"sim": "walk", "side": side}),
        SimAction::Emergency { active } => json!({"sim": "emergency", "active": active}),
        SimAction::JamFlaps => json!({"sim": "jam_flaps"}),
        SimAction::Tamper => json!({"sim": "tamper"}),
        SimAction::Cable { connected } => json!({"sim": "cable", "connected": connected}),
    }
}

/// Everything the terminal view shows, taken at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSnapshot {
    pub now_ms: u64,
    pub phase: Phase,
    pub alarms: AlarmFlags,
    pub cable_connected: bool,
    pub host_session: bool,
    pub lane: LaneSnapshot,
}

/// What the serving loop reports. Every method has a do-nothing default.
pub trait Observer {
    /// An event was sent to the host (first transmission only).
    fn event(&mut self, _message: &Message) {}
    /// The simulated hardware carried out a flap command.
    fn flaps(&mut self, _command: FlapCommand) {}
    /// The simulator did something by itself (timeline action, the controller changing phase).
    fn note(&mut self, _note: &serde_json::Value) {}
    /// Whether [`Observer::tick`] is wanted (a snapshot is built each loop round only then).
    fn wants_ticks(&self) -> bool {
        false
    }
    fn tick(&mut self, _snapshot: &SimSnapshot) {}
    /// Actions to carry out now (keys pressed in the terminal view).
    fn injected(&mut self) -> Vec<SimAction> {
        Vec::new()
    }
}

struct Closures<E, F> {
    on_event: E,
    on_flaps: F,
}

impl<E: FnMut(&Message), F: FnMut(FlapCommand)> Observer for Closures<E, F> {
    fn event(&mut self, message: &Message) {
        (self.on_event)(message)
    }
    fn flaps(&mut self, command: FlapCommand) {
        (self.on_flaps)(command)
    }
}

/// Serves the protocol on `channel` until `stop` is set or the channel fails. `on_event` is
/// called once per event sent to the host (first transmission only).
pub fn serve(
    channel: &mut dyn Channel,
    config: &SimConfig,
    stop: &AtomicBool,
    on_event: impl FnMut(&Message),
) -> io::Result<()> {
    serve_observed(channel, config, stop, on_event, |_| {})
}

/// [`serve`], and `on_flaps` is called with each command just after the simulated hardware
/// carried it out (for latency measurements).
pub fn serve_observed(
    channel: &mut dyn Channel,
    config: &SimConfig,
    stop: &AtomicBool,
    on_event: impl FnMut(&Message),
    on_flaps: impl FnMut(FlapCommand),
) -> io::Result<()> {
    serve_with(channel, config, stop, &mut Closures { on_event, on_flaps })
}

/// The serving loop. Each call is one run of the gate: a fresh controller with a new random
/// session id, and the scenario's timeline counted from the first host session of the run.
pub fn serve_with(
    channel: &mut dyn Channel,
    config: &SimConfig,
    stop: &AtomicBool,
    observer: &mut dyn Observer,
) -> io::Result<()> {
    let start = Instant::now();
    let mut endpoint = GateEndpoint::new(config.endpoint.clone(), config.gate.clone(), rand::random());
    let mut hardware = SimHardware::new(&config.scenario);
    let timeline = &config.scenario.timeline;
    let mut next_entry = 0;
    let mut session_start_ms = None;
    let mut cable_connected = true;
    let mut buf = [0u8; 512];
    let mut last_phase = endpoint.state().phase;
    while !stop.load(Ordering::Relaxed) {
        let n = channel.read_timeout(&mut buf, Duration::from_millis(5))?;
        let now_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut out = Output::default();
        // A pulled cable: whatever the host sends never arrives.
        if n > 0 && cable_connected {
            endpoint.receive(&buf[..n], now_ms, &mut out);
        }
        if session_start_ms.is_none() && endpoint.in_session() {
            session_start_ms = Some(now_ms);
        }
        let mut actions = Vec::new();
        if let Some(t0) = session_start_ms {
            while let Some(entry) = timeline.get(next_entry)
                && t0.saturating_add(entry.at_ms) <= now_ms
            {
                actions.push(entry.action.clone());
                next_entry += 1;
            }
        }
        actions.extend(observer.injected());
        for action in &actions {
            tracing::info!(?action, "simulated");
            observer.note(&action_json(action));
            match action {
                SimAction::Cable { connected } => cable_connected = *connected,
                other => hardware.apply(other, now_ms),
            }
        }
        for event in hardware.poll_sensors(now_ms) {
            tracing::info!(?event, "sensor");
            endpoint.sensor(event, now_ms, &mut out);
        }
        endpoint.poll(now_ms, &mut out);
        for command in &out.flaps {
            hardware.drive_flaps(*command, now_ms);
            observer.flaps(*command);
        }
        for message in &out.events_sent {
            tracing::info!(?message, "event to host");
            observer.event(message);
        }
        for message in &out.events_dropped {
            tracing::warn!(?message, "host did not acknowledge event, dropped");
        }
        for err in &out.rejected {
            tracing::warn!(%err, "rejected frame from host");
        }
        if endpoint.state().phase != last_phase {
            last_phase = endpoint.state().phase;
            tracing::info!(phase = ?last_phase, "gate state");
            observer.note(&json!({"sim": "phase", "phase": phase_name(last_phase)}));
        }
        if !out.bytes.is_empty() && cable_connected {
            channel.write_all_bytes(&out.bytes)?;
        }
        if observer.wants_ticks() {
            let state = endpoint.state();
            observer.tick(&SimSnapshot {
                now_ms,
                phase: state.phase,
                alarms: state.alarms,
                cable_connected,
                host_session: endpoint.in_session(),
                lane: hardware.snapshot(now_ms),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_json_lines() {
        let m = Message::PassageCompleted { passage_id: 42 };
        assert_eq!(event_json(&m).unwrap().to_string(), r#"{"event":"passage_completed","passage_id":42}"#);
        let m = Message::Alarm { kind: AlarmKind::Tailgating, passage_id: None };
        assert_eq!(
            event_json(&m).unwrap().to_string(),
            r#"{"event":"alarm","kind":"tailgating","passage_id":null}"#
        );
        assert_eq!(event_json(&Message::Ack), None);
        assert_eq!(
            action_json(&SimAction::Cable { connected: false }).to_string(),
            r#"{"connected":false,"sim":"cable"}"#
        );
    }
}
