//! Load runs of the whole link for tests and `gate-bench`: a [`GateLink`] on a pseudo-terminal,
//! the simulated gate serving the other end in a thread, optionally through a
//! [`FaultyChannel`](super::FaultyChannel).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{FaultConfig, FaultHandle, FaultStats, FaultyChannel, PtyChannel, SimConfig};
use crate::controller::FlapCommand;
use crate::link::{GateEvent, GateLink, LinkConfig, LinkError, LinkState};
use crate::wire::Direction;

/// A simulated gate served in a thread of this process; stopped when dropped.
pub struct GateThread {
    pub device: String,
    pub faults: FaultHandle,
    /// The instant each `OpenFor` flap command was carried out by the simulated hardware.
    pub flaps_opened: mpsc::Receiver<Instant>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl GateThread {
    pub fn start(sim: SimConfig, faults: FaultConfig) -> std::io::Result<GateThread> {
        let pty = PtyChannel::open()?;
        let device = pty.slave_path().to_string();
        let mut channel = FaultyChannel::new(pty, faults);
        let handle = channel.handle();
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, flaps_opened) = mpsc::channel();
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new().name("sim-gate".into()).spawn(move || {
                super::serve_observed(
                    &mut channel,
                    &sim,
                    &stop,
                    |_| {},
                    |command| {
                        if matches!(command, FlapCommand::OpenFor(_)) {
                            let _ = opened_tx.send(Instant::now());
                        }
                    },
                )
            })?
        };
        Ok(GateThread { device, faults: handle, flaps_opened, stop, thread: Some(thread) })
    }
}

impl Drop for GateThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Passenger timing near zero, gate retransmitting after `retransmit_ms`.
pub fn fast_sim(retransmit_ms: u64) -> SimConfig {
    let mut sim = SimConfig::new(super::Scenario::default().with_timing(Some(0), Some(1)));
    sim.endpoint.retransmit_ms = retransmit_ms;
    sim
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoakReport {
    pub authorisations: u64,
    /// Passage ids with at least one PassageCompleted.
    pub completed: u64,
    /// Passage ids authorised (ACKed) without any PassageCompleted.
    pub lost: u64,
    /// Passage ids with more than one PassageCompleted.
    pub doubled: u64,
    /// Lost ids (at most the first 20).
    pub lost_ids: Vec<u64>,
    /// AUTHORISE calls that failed and were repeated.
    pub authorise_retries: u64,
    pub link_lost: u64,
    pub faults: FaultStats,
    pub elapsed: Duration,
}

/// Connects, retrying (the handshake itself may be damaged by the faults).
pub fn connect(device: &str, config: &LinkConfig) -> Result<GateLink, LinkError> {
    let mut last = None;
    for _ in 0..5 {
        match GateLink::connect(device, config.clone()) {
            Ok(link) => return Ok(link),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(LinkError::Closed))
}

/// Runs `count` authorisations one after another (ids 1..=count), each waited for until its
/// PassageCompleted (or `passage_wait`), and counts completions per passage id. A failed
/// AUTHORISE is repeated (the gate admits a passage id once only, so that is safe).
pub fn run_passages(
    gate: &GateThread,
    link_config: &LinkConfig,
    count: u64,
    passage_wait: Duration,
) -> Result<SoakReport, LinkError> {
    let start = Instant::now();
    let link = connect(&gate.device, link_config)?;
    let mut completions: BTreeMap<u64, u64> = BTreeMap::new();
    let mut report = SoakReport::default();
    let mut note = |event: GateEvent, report: &mut SoakReport| match event {
        GateEvent::PassageCompleted { passage_id } => *completions.entry(passage_id).or_default() += 1,
        GateEvent::LinkLost(_) => report.link_lost += 1,
        _ => {}
    };
    for passage_id in 1..=count {
        report.authorisations += 1;
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            match link.authorise(passage_id, Direction::Entry, Duration::from_secs(5)) {
                Ok(()) => break,
                Err(err) if Instant::now() < give_up => {
                    tracing::debug!(passage_id, %err, "authorise failed, repeating");
                    report.authorise_retries += 1;
                    // Wait for the link to come back (events keep flowing meanwhile).
                    while link.state() != LinkState::Connected && Instant::now() < give_up {
                        if let Some(event) = link.next_event(Duration::from_millis(20)) {
                            note(event, &mut report);
                        }
                    }
                    if matches!(err, LinkError::Rejected { .. }) {
                        let _ = link.reset_alarm();
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                Err(err) => return Err(err),
            }
        }
        let deadline = Instant::now() + passage_wait;
        while Instant::now() < deadline {
            let Some(event) = link.next_event(Duration::from_millis(20)) else { continue };
            let done = matches!(
                event,
                GateEvent::PassageCompleted { passage_id: id } | GateEvent::PassageTimedOut { passage_id: id }
                    if id == passage_id
            );
            note(event, &mut report);
            if done {
                break;
            }
        }
    }
    // Late retransmissions and duplicates.
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        if let Some(event) = link.next_event(Duration::from_millis(20)) {
            note(event, &mut report);
        }
    }
    for passage_id in 1..=count {
        match completions.get(&passage_id).copied().unwrap_or(0) {
            0 => {
                report.lost += 1;
                if report.lost_ids.len() < 20 {
                    report.lost_ids.push(passage_id);
                }
            }
            1 => report.completed += 1,
            _ => {
                report.completed += 1;
                report.doubled += 1;
            }
        }
    }
    report.faults = gate.faults.stats();
    report.elapsed = start.elapsed();
    Ok(report)
}
