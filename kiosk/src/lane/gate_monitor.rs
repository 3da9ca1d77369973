//! The lane's side of the gate link, shared by the passenger flow and staff.
//!
//! One thread (the monitor) reads every event the gate sends. Events of the
//! passage the lane is following go to the lane thread ([`PassageFollower`]);
//! everything else is recorded at once as a gate event: alarms while no
//! passenger is in the lane (intrusion, tamper, emergency), the link going
//! down and coming back, and the passages staff authorised by hand. Staff
//! commands ([`GateDesk`]) act on the gate immediately, whatever the lane
//! thread is doing: a supervisor's emergency open does not wait for the
//! passenger at the kiosk to finish.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use gate_controller::link::{Direction, GateEvent, GateLink, GateMode};
use tracing::{debug, info, warn};

use crate::store::{Store, StoreError};

/// Passage ids of this lane, for passengers and for passages staff
/// authorise by hand: one counter, so the two never collide.
/// The first id continues after every one the records hold (a gate drops a
/// repeated id as a retransmission, so an id is never reused).
#[derive(Clone)]
pub(crate) struct PassageIds {
    store: Store,
    last: Arc<Mutex<Option<u64>>>,
}

impl PassageIds {
    pub(crate) fn new(store: Store) -> PassageIds {
        PassageIds { store, last: Arc::new(Mutex::new(None)) }
    }

    pub(crate) fn next(&self) -> Result<u64, StoreError> {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match *last {
            Some(l) => l + 1,
            None => self.store.next_passage_id()?,
        };
        *last = Some(next);
        Ok(next)
    }
}

/// Which passage the lane thread is following, if any.
type Followed = Arc<Mutex<Option<u64>>>;

/// The lane thread's end: the events of the one passage it follows.
pub(crate) struct PassageFollower {
    followed: Followed,
    events: Receiver<GateEvent>,
}

impl PassageFollower {
    /// From now on, events of `passage_id` (and events of no passage, such as
    /// the link going down or an emergency) come to this follower.
    pub(crate) fn begin(&self, passage_id: u64) {
        // Nothing from an earlier passage may be taken for this one.
        while self.events.try_recv().is_ok() {}
        *self.followed.lock().unwrap_or_else(PoisonError::into_inner) = Some(passage_id);
    }

    /// The passage is over (or given up): later events of it are recorded by the monitor.
    pub(crate) fn end(&self) {
        *self.followed.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    pub(crate) fn next_event(&self, timeout: Duration) -> Option<GateEvent> {
        match self.events.recv_timeout(timeout) {
            Ok(e) => Some(e),
            Err(RecvTimeoutError::Timeout) => None,
            // The monitor is gone (lane shutting down): wait out the time
            // like a silent gate would, the caller's deadline decides.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout.min(Duration::from_millis(50)));
                None
            }
        }
    }
}

/// Staff commands to the gate, applied at once; each is recorded as a gate
/// event (what was done, by whom, under which console command), and so
/// reaches the staff console with the lane's other records.
#[derive(Clone)]
pub struct GateDesk {
    gate: Option<Arc<GateLink>>,
    store: Store,
    lane: String,
    passages: PassageIds,
    passage_limit: Duration,
}

impl GateDesk {
    pub(crate) fn new(
        gate: Option<Arc<GateLink>>,
        store: Store,
        lane: String,
        passages: PassageIds,
        passage_limit: Duration,
    ) -> GateDesk {
        GateDesk { gate, store, lane, passages, passage_limit }
    }

    /// Set the gate's mode (`by`: who asked, `command`: the console's
    /// command id). Recorded as `mode_set` or `mode_failed`; true when set.
    pub fn set_mode(&self, mode: GateMode, by: &str, command: i64) -> Result<bool, StoreError> {
        let detail = format!("{mode:?} by {by} (console command {command})");
        match self.gate().and_then(|g| g.set_mode(mode).map_err(|e| e.to_string())) {
            Ok(()) => {
                info!(?mode, by, command, "gate mode set by staff");
                self.store.record_gate_event(&self.lane, None, None, "mode_set", Some(&detail))?;
                Ok(true)
            }
            Err(e) => {
                warn!(?mode, by, command, error = %e, "gate mode could not be set");
                let detail = format!("{detail}: {e}");
                self.store.record_gate_event(&self.lane, None, None, "mode_failed", Some(&detail))?;
                Ok(false)
            }
        }
    }

    /// Let one person through by hand (a passenger an officer has cleared at
    /// the desk). Recorded as `manual_authorised` with its passage id, or
    /// `manual_failed`; the passage's own events follow as the gate sends
    /// them. The passage id when the gate accepted.
    pub fn authorise_one_passage(&self, by: &str, command: i64) -> Result<Option<u64>, StoreError> {
        let passage_id = self.passages.next()?;
        let detail = format!("by {by} (console command {command})");
        let r = self.gate().and_then(|g| {
            g.authorise(passage_id, Direction::Entry, self.passage_limit).map_err(|e| e.to_string())
        });
        match r {
            Ok(()) => {
                info!(passage_id, by, command, "one passage authorised by staff");
                self.store.record_gate_event(
                    &self.lane,
                    None,
                    Some(passage_id),
                    "manual_authorised",
                    Some(&detail),
                )?;
                Ok(Some(passage_id))
            }
            Err(e) => {
                warn!(passage_id, by, command, error = %e, "staff authorisation refused");
                let detail = format!("{detail}: {e}");
                self.store.record_gate_event(
                    &self.lane,
                    None,
                    Some(passage_id),
                    "manual_failed",
                    Some(&detail),
                )?;
                Ok(None)
            }
        }
    }

    pub(crate) fn authorise(&self, passage_id: u64, limit: Duration) -> Result<(), String> {
        self.gate()?.authorise(passage_id, Direction::Entry, limit).map_err(|e| e.to_string())
    }

    fn gate(&self) -> Result<&GateLink, String> {
        self.gate.as_deref().ok_or_else(|| "no gate is connected to this lane".to_string())
    }
}

/// The thread reading the gate's events; stopped and joined on drop.
pub(crate) struct GateMonitor {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GateMonitor {
    /// Start reading `gate`; the follower gets the followed passage's events.
    pub(crate) fn start(gate: Arc<GateLink>, store: Store, lane: String) -> (GateMonitor, PassageFollower) {
        let followed: Followed = Arc::new(Mutex::new(None));
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (s, f) = (stop.clone(), followed.clone());
        let thread = std::thread::Builder::new()
            .name("gate-monitor".into())
            .spawn(move || monitor(gate, store, lane, f, tx, s))
            .ok();
        (GateMonitor { stop, thread }, PassageFollower { followed, events: rx })
    }
}

impl Drop for GateMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn passage_of(event: &GateEvent) -> Option<u64> {
    match event {
        GateEvent::PassengerEntered { passage_id }
        | GateEvent::PassageCompleted { passage_id }
        | GateEvent::PassageTimedOut { passage_id } => Some(*passage_id),
        GateEvent::Alarm { passage_id, .. } => *passage_id,
        GateEvent::Status(_) | GateEvent::LinkLost(_) | GateEvent::LinkRestored => None,
    }
}

fn monitor(
    gate: Arc<GateLink>,
    store: Store,
    lane: String,
    followed: Followed,
    to_lane: Sender<GateEvent>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Some(event) = gate.next_event(Duration::from_millis(100)) else { continue };
        let following = *followed.lock().unwrap_or_else(PoisonError::into_inner);
        let for_lane = match (following, passage_of(&event)) {
            (Some(f), Some(p)) => f == p,
            // No passage named: the lane in the middle of a passage must
            // hear of it (link down, emergency); status reports it ignores.
            (Some(_), None) => !matches!(event, GateEvent::Status(_)),
            (None, _) => false,
        };
        if for_lane {
            if to_lane.send(event).is_err() {
                return;
            }
            continue;
        }
        if let Err(e) = record(&store, &lane, &event) {
            warn!(error = %e, ?event, "gate event could not be recorded");
        }
    }
}

/// Record an event nobody in the lane flow is waiting for.
fn record(store: &Store, lane: &str, event: &GateEvent) -> Result<(), StoreError> {
    let (name, passage, detail) = match event {
        GateEvent::PassengerEntered { passage_id } => ("entered", Some(*passage_id), None),
        GateEvent::PassageCompleted { passage_id } => ("passage_completed", Some(*passage_id), None),
        GateEvent::PassageTimedOut { passage_id } => ("passage_timed_out", Some(*passage_id), None),
        GateEvent::Alarm { kind, passage_id } => {
            warn!(alarm = ?kind, passage_id, "gate alarm outside a passenger's passage");
            ("alarm", *passage_id, Some(format!("{kind:?}")))
        }
        GateEvent::LinkLost(reason) => {
            warn!(%reason, "gate link lost");
            ("link_lost", None, Some(reason.clone()))
        }
        GateEvent::LinkRestored => {
            info!("gate link restored");
            ("link_restored", None, None)
        }
        GateEvent::Status(s) => {
            debug!(status = ?s, "gate status");
            return Ok(());
        }
    };
    store.record_gate_event(lane, None, passage, name, detail.as_deref())
}
