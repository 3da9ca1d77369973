//! The lane's uplink thread: sync the lane's records to the staff console.
//!
//! It reads the lane's own SQLite through a second, read-only connection
//! (WAL lets it read while the lane writes), asks the console for its cursor,
//! and sends every transaction row with a higher `rev` and every gate event
//! with a higher id ([`super::wire`]), then the live state from the lane's
//! [`FlowEvent`]s. Each batch says when its oldest change happened in the
//! lane (`SyncBatch::event_at_ms`), so the page can measure event-to-page
//! latency. A console that is down or restarting only delays this:
//! the rows stay in the lane's database, and the thread asks for the cursor
//! again and resumes where the console is. It never blocks the lane.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tracing::{debug, info, warn};

use gate_controller::link::GateMode;

use super::wire::{
    Cursor, GateModeCommand, LaneAction, LaneCommand, LiveState, SyncBatch, SyncReply, TransactionRow,
    WIRE_VERSION,
};
use crate::lane::events::{FlowEvent, GateStatus};
use crate::lane::gate_monitor::GateDesk;
use crate::store::{self, StoreError};

/// Rows per request.
const BATCH_ROWS: i64 = 200;
/// Live state is sent at least this often (the console shows a lane it has
/// not heard from for 10 s as out of contact).
const HEARTBEAT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct UplinkConfig {
    /// e.g. `http://127.0.0.1:8480`
    pub console_url: String,
    pub lane_secret: String,
    pub lane: String,
    /// The lane's SQLite file.
    pub database: PathBuf,
    /// `none` when the lane has no gate.
    pub gate_configured: bool,
    /// Where staff commands from the console go (the lane applies them at
    /// once, through its gate desk); None: commands are not taken.
    pub commands: Option<std::sync::mpsc::Sender<LaneCommand>>,
}

pub struct Uplink {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error("console unreachable or refused: {0}")]
    Http(String),
    #[error("lane database: {0}")]
    Sql(#[from] rusqlite::Error),
}

impl Uplink {
    /// Start the thread; `events` is a subscription to the lane.
    pub fn start(config: UplinkConfig, events: Receiver<FlowEvent>) -> Uplink {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("console-uplink".into())
            .spawn(move || run(config, events, s))
            .ok();
        Uplink { stop, thread }
    }

    /// Stop after one last attempt to send everything (up to `grace`).
    pub fn stop(mut self, grace: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + grace;
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Uplink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Client {
    agent: ureq::Agent,
    config: UplinkConfig,
}

impl Client {
    fn url(&self, what: &str) -> String {
        format!("{}/api/v1/lanes/{}/{what}", self.config.console_url.trim_end_matches('/'), self.config.lane)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.config.lane_secret)
    }

    fn cursor(&self) -> Result<Cursor, SyncError> {
        self.agent
            .get(&self.url("cursor"))
            .header("Authorization", &self.auth())
            .call()
            .and_then(|mut r| r.body_mut().read_json::<Cursor>())
            .map_err(|e| SyncError::Http(e.to_string()))
    }

    fn sync(&self, batch: &SyncBatch) -> Result<Cursor, SyncError> {
        let reply = self
            .agent
            .post(&self.url("sync"))
            .header("Authorization", &self.auth())
            .send_json(batch)
            .and_then(|mut r| r.body_mut().read_json::<SyncReply>())
            .map_err(|e| SyncError::Http(e.to_string()))?;
        for c in reply.commands {
            info!(command = c.id, action = c.action.as_str(), by = %c.requested_by, "staff console command");
            if let Some(tx) = &self.config.commands {
                let _ = tx.send(c);
            }
        }
        Ok(reply.cursor)
    }
}

/// Apply a staff command to the lane's gate, now; the desk records the
/// result as a gate event, which the next sync takes to the console.
pub fn apply_command(desk: &GateDesk, command: &LaneCommand) -> Result<(), StoreError> {
    let by = command.requested_by.as_str();
    match command.action {
        LaneAction::SetGateMode(m) => {
            let mode = match m {
                GateModeCommand::Normal => GateMode::Normal,
                GateModeCommand::Locked => GateMode::Locked,
                GateModeCommand::EmergencyOpen => GateMode::EmergencyOpen,
            };
            desk.set_mode(mode, by, command.id)?;
        }
        LaneAction::AuthoriseOnePassage => {
            desk.authorise_one_passage(by, command.id)?;
        }
    }
    Ok(())
}

fn open_read_only(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(2))?;
    Ok(conn)
}

/// Fold one lane event into the tile state; true when the tile changed.
fn update_live(live: &mut LiveState, event: &FlowEvent) -> bool {
    let before = live.clone();
    match event {
        FlowEvent::Idle => {
            live.kiosk_step = "idle".into();
            live.transaction = None;
            live.hint = None;
        }
        FlowEvent::StepStarted { transaction, step } => {
            live.kiosk_step = step.as_str().into();
            live.transaction = Some(transaction.clone());
            live.hint = None;
        }
        FlowEvent::Guidance { hint, .. } => live.hint = Some((*hint).into()),
        FlowEvent::Gate { status, .. } => match status {
            GateStatus::LinkDown(r) => live.gate_link = format!("down: {r}"),
            _ => live.gate_link = "connected".into(),
        },
        FlowEvent::Shutdown { .. } => {
            live.kiosk_step = "stopped".into();
            live.transaction = None;
        }
        FlowEvent::StepFinished { .. }
        | FlowEvent::Decided { .. }
        | FlowEvent::Preview { .. }
        | FlowEvent::Deadline { .. }
        | FlowEvent::GateCamera { .. } => {}
    }
    *live != before
}

fn run(config: UplinkConfig, events: Receiver<FlowEvent>, stop: Arc<AtomicBool>) {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(3))).build().into();
    let client = Client { agent, config };
    let mut live = LiveState {
        kiosk_step: "idle".into(),
        gate_link: if client.config.gate_configured { "connected".into() } else { "none".into() },
        ..LiveState::default()
    };
    let mut conn: Option<Connection> = None;
    let mut cursor: Option<Cursor> = None;
    let mut last_sent = Instant::now() - HEARTBEAT;
    let mut backoff = Duration::from_millis(200);
    let mut down_since: Option<Instant> = None;
    let mut dirty = true;
    // When the oldest live change not yet sent was received from the lane.
    let mut live_changed_at: Option<i64> = None;
    let mut events_open = true;
    loop {
        let stopping = stop.load(Ordering::Relaxed) || !events_open;
        // Live state first: wait a little for lane events.
        if !stopping {
            match events.recv_timeout(Duration::from_millis(100)) {
                Ok(e) => {
                    for e in std::iter::once(e).chain(events.try_iter()) {
                        if update_live(&mut live, &e) {
                            dirty = true;
                            live_changed_at.get_or_insert_with(crate::store::now_ms);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => events_open = false,
            }
        }
        let result = (|| -> Result<bool, SyncError> {
            if conn.is_none() {
                conn = Some(open_read_only(&client.config.database)?);
            }
            let c = match cursor {
                Some(c) => c,
                None => {
                    let c = client.cursor()?;
                    cursor = Some(c);
                    c
                }
            };
            let db = conn.as_ref().expect("opened above");
            let transactions = store::transactions_after(db, c.transactions_rev, BATCH_ROWS)?;
            let gate_events = store::gate_events_after(db, c.gate_event_id, BATCH_ROWS)?;
            let rows = !transactions.is_empty() || !gate_events.is_empty();
            if !rows && !dirty && last_sent.elapsed() < HEARTBEAT {
                return Ok(false);
            }
            live.at_ms = crate::store::now_ms();
            // The oldest change this batch brings, by the lane's own clock.
            let event_at_ms = transactions
                .iter()
                .map(TransactionRow::changed_at_ms)
                .chain(gate_events.iter().map(|e| e.at_ms))
                .chain(live_changed_at)
                .min();
            let batch = SyncBatch {
                version: WIRE_VERSION,
                lane: client.config.lane.clone(),
                live: live.clone(),
                transactions,
                gate_events,
                event_at_ms,
            };
            cursor = Some(client.sync(&batch)?);
            last_sent = Instant::now();
            dirty = false;
            live_changed_at = None;
            // More rows may be waiting beyond this batch.
            Ok(rows)
        })();
        match result {
            Ok(more) => {
                if let Some(t) = down_since.take() {
                    info!(after_s = t.elapsed().as_secs(), "staff console reachable again; caught up");
                }
                backoff = Duration::from_millis(200);
                if stopping && !more {
                    return;
                }
            }
            Err(e) => {
                cursor = None;
                if matches!(e, SyncError::Sql(_)) {
                    conn = None;
                }
                if down_since.is_none() {
                    warn!(error = %e, "staff console sync failed; records stay in the lane database and follow when it is back");
                    down_since = Some(Instant::now());
                } else {
                    debug!(error = %e, "staff console sync failed again");
                }
                if stopping {
                    return;
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(3));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::events::Step;

    #[test]
    fn lane_events_become_the_tile_state() {
        let mut live = LiveState::default();
        assert!(update_live(
            &mut live,
            &FlowEvent::StepStarted { transaction: "t1".into(), step: Step::Face }
        ));
        assert_eq!((live.kiosk_step.as_str(), live.transaction.as_deref()), ("face", Some("t1")));
        assert!(update_live(
            &mut live,
            &FlowEvent::Guidance { transaction: "t1".into(), step: Step::Face, hint: "come_closer" }
        ));
        assert!(!update_live(&mut live, &FlowEvent::GateCamera { hint: "stop_and_look" }));
        assert!(update_live(
            &mut live,
            &FlowEvent::Gate { transaction: "t1".into(), status: GateStatus::LinkDown("timeout".into()) }
        ));
        assert_eq!(live.gate_link, "down: timeout");
        assert!(update_live(&mut live, &FlowEvent::Idle));
        assert_eq!(
            (live.kiosk_step.as_str(), live.transaction.as_deref(), live.hint.as_deref()),
            ("idle", None, None)
        );
    }
}
