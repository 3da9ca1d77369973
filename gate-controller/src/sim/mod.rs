//! A simulated gate: the controller [`endpoint`](crate::controller::endpoint) driven over a
//! pseudo-terminal or a real serial port, with simulated flaps and passengers.
//!
//! Passengers react to the flaps as people do: when the flaps open for a direction, a passenger
//! steps in from that side after `enter_after_ms` and leaves through the other side after a
//! further `walk_ms`. The [`Scenario`] changes what the people do.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

mod faulty;
pub mod soak;
pub use faulty::{FaultConfig, FaultHandle, FaultStats, FaultyChannel};

use crate::controller::{
    Config, EndpointConfig, FlapCommand, GateEndpoint, GateHardware, Output, SensorEvent, Side,
};
use crate::wire::{AlarmKind, Direction, FlapState, GateMode, Message};

/// What the simulated people do once the flaps open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Scenario {
    /// One passenger walks through.
    #[default]
    Normal,
    /// Nobody comes: the authorisation times out.
    NoShow,
    /// A second person follows close behind the first: tailgating alarm.
    Tailgate,
    /// Someone enters from the wrong side: counter-direction alarm.
    Reverse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub scenario: Scenario,
    pub enter_after_ms: u64,
    pub walk_ms: u64,
    pub gate: Config,
    pub endpoint: EndpointConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            scenario: Scenario::Normal,
            enter_after_ms: 300,
            walk_ms: 700,
            gate: Config::default(),
            endpoint: EndpointConfig::default(),
        }
    }
}

/// Simulated flaps and lane sensors with scripted passengers.
#[derive(Debug)]
pub struct SimHardware {
    scenario: Scenario,
    enter_after_ms: u64,
    walk_ms: u64,
    pub flaps: FlapState,
    /// Scheduled sensor events (time, event), kept sorted by time.
    scheduled: Vec<(u64, SensorEvent)>,
}

impl SimHardware {
    pub fn new(config: &SimConfig) -> SimHardware {
        SimHardware {
            scenario: config.scenario,
            enter_after_ms: config.enter_after_ms,
            walk_ms: config.walk_ms,
            flaps: FlapState::Closed,
            scheduled: Vec::new(),
        }
    }

    fn schedule(&mut self, at: u64, event: SensorEvent) {
        self.scheduled.push((at, event));
        self.scheduled.sort_by_key(|(t, _)| *t);
    }
}

impl GateHardware for SimHardware {
    fn drive_flaps(&mut self, command: FlapCommand, now_ms: u64) {
        tracing::info!(?command, "flaps");
        match command {
            FlapCommand::OpenFor(direction) => {
                self.flaps = FlapState::Open;
                let side = if direction == Direction::Exit { Side::Exit } else { Side::Entry };
                let enter = now_ms + self.enter_after_ms;
                let leave = enter + self.walk_ms;
                match self.scenario {
                    Scenario::Normal => {
                        self.schedule(enter, SensorEvent::BodyEntered(side));
                        self.schedule(leave, SensorEvent::BodyLeft(side.opposite()));
                    }
                    Scenario::NoShow => {}
                    Scenario::Tailgate => {
                        self.schedule(enter, SensorEvent::BodyEntered(side));
                        self.schedule(enter + self.walk_ms / 3, SensorEvent::BodyEntered(side));
                        self.schedule(leave, SensorEvent::BodyLeft(side.opposite()));
                    }
                    Scenario::Reverse => self.schedule(enter, SensorEvent::BodyEntered(side.opposite())),
                }
            }
            FlapCommand::OpenAll => {
                self.flaps = FlapState::Open;
                self.scheduled.clear();
            }
            FlapCommand::Close => {
                // Whoever had not stepped in yet stays outside the closed flaps.
                self.flaps = FlapState::Closed;
                self.scheduled.clear();
            }
        }
    }

    fn poll_sensors(&mut self, now_ms: u64) -> Vec<SensorEvent> {
        let due = self.scheduled.iter().take_while(|(t, _)| *t <= now_ms).count();
        self.scheduled.drain(..due).map(|(_, e)| e).collect()
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

fn alarm_name(kind: AlarmKind) -> String {
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
    mut on_event: impl FnMut(&Message),
    mut on_flaps: impl FnMut(FlapCommand),
) -> io::Result<()> {
    let start = Instant::now();
    let mut endpoint = GateEndpoint::new(config.endpoint.clone(), config.gate.clone());
    let mut hardware = SimHardware::new(config);
    let mut buf = [0u8; 512];
    let mut last_phase = endpoint.state().phase;
    while !stop.load(Ordering::Relaxed) {
        let n = channel.read_timeout(&mut buf, Duration::from_millis(5))?;
        let now_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut out = Output::default();
        if n > 0 {
            endpoint.receive(&buf[..n], now_ms, &mut out);
        }
        for event in hardware.poll_sensors(now_ms) {
            tracing::info!(?event, "sensor");
            endpoint.sensor(event, now_ms, &mut out);
        }
        endpoint.poll(now_ms, &mut out);
        for command in &out.flaps {
            hardware.drive_flaps(*command, now_ms);
            on_flaps(*command);
        }
        for message in &out.events_sent {
            tracing::info!(?message, "event to host");
            on_event(message);
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
        }
        if !out.bytes.is_empty() {
            channel.write_all_bytes(&out.bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tailgate_scenario_schedules_a_second_body() {
        let config =
            SimConfig { scenario: Scenario::Tailgate, enter_after_ms: 10, walk_ms: 90, ..Default::default() };
        let mut hw = SimHardware::new(&config);
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(9), vec![]);
        assert_eq!(hw.poll_sensors(40), vec![SensorEvent::BodyEntered(Side::Entry); 2]);
        hw.drive_flaps(FlapCommand::Close, 41);
        assert_eq!(hw.poll_sensors(1000), vec![]);
    }

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
    }
}
