//! What a lane and the staff console exchange (JSON over HTTP), pure types.
//!
//! Records travel by change data capture, not as events: the lane's SQLite
//! bumps a transaction row's `rev` on every change (a trigger, in the same
//! statement), and gate events have increasing ids. The console tells the
//! lane how far it has got ([`Cursor`]); the lane sends the rows above it
//! ([`SyncBatch`]); the console stores them keyed by (lane, id) and answers
//! with its new cursor. So a lane or a console that restarts catches up from
//! where the other one is, every transaction arrives exactly once (a re-sent
//! row replaces itself), and nothing committed in a lane is lost. Live state
//! (current step, hints) rides along in the same request, best effort.

use serde::{Deserialize, Serialize};

/// Version of this format; a console refuses other versions.
pub const WIRE_VERSION: u32 = 1;

/// How far the console has got with one lane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Highest transaction `rev` stored.
    pub transactions_rev: i64,
    /// Highest gate event id stored.
    pub gate_event_id: i64,
}

/// One row of the lane's `transactions` table (no names, document numbers or
/// biometric data exist there to send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRow {
    pub id: String,
    pub rev: i64,
    pub started_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    /// `green` or `referral`; None while undecided.
    pub outcome: Option<String>,
    /// Reason codes ([`crate::decision::ReasonCode::as_str`]).
    pub reasons: Vec<String>,
    pub face_score: Option<f64>,
    /// Step times in ms (and `qr_decode_ms`, `pad_score_permille`).
    pub step_ms: serde_json::Value,
    pub passage_id: Option<i64>,
    pub gate_result: Option<String>,
    pub finished_at_ms: Option<i64>,
}

/// One row of the lane's `gate_events` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateEventRow {
    pub id: i64,
    pub at_ms: i64,
    pub transaction: Option<String>,
    pub passage_id: Option<i64>,
    pub event: String,
    pub detail: Option<String>,
}

impl TransactionRow {
    /// The row's latest own timestamp (started, decided or finished): when
    /// its newest change happened, as far as the row tells.
    pub fn changed_at_ms(&self) -> i64 {
        self.started_at_ms
            .max(self.decided_at_ms.unwrap_or(i64::MIN))
            .max(self.finished_at_ms.unwrap_or(i64::MIN))
    }
}

impl GateEventRow {
    /// Gate events an officer must see and acknowledge.
    pub fn is_alarm(&self) -> bool {
        matches!(self.event.as_str(), "alarm" | "link_error" | "link_lost" | "camera_unavailable")
    }
}

/// What the lane is doing now (the console's lane tile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// `idle`, or the step of the current passenger (`passport`, `face`, ...).
    pub kiosk_step: String,
    /// The current transaction, if any.
    pub transaction: Option<String>,
    /// Last passenger hint, if the step shows one.
    pub hint: Option<String>,
    /// `connected`, `down: <reason>` or `none` (no gate configured).
    pub gate_link: String,
    /// Milliseconds since the Unix epoch when the lane produced this state.
    pub at_ms: i64,
}

/// Lane -> console: rows above the console's cursor plus the live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncBatch {
    pub version: u32,
    pub lane: String,
    pub live: LiveState,
    /// In `rev` order.
    pub transactions: Vec<TransactionRow>,
    /// In id order.
    pub gate_events: Vec<GateEventRow>,
    /// When the oldest change in this batch happened in the lane, in
    /// milliseconds since the Unix epoch: the lane's own timestamp of a row
    /// ([`TransactionRow::changed_at_ms`], [`GateEventRow::at_ms`]) or the
    /// time the uplink received a lane event that changed the live state.
    /// None in a heartbeat that brings nothing new. The console passes it
    /// to the page, which measures event-to-page latency from it. Optional
    /// (absent from older lanes' batches), so still version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_at_ms: Option<i64>,
}

/// A gate mode a supervisor set on the console for one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateModeCommand {
    Normal,
    Locked,
    EmergencyOpen,
}

impl GateModeCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            GateModeCommand::Normal => "normal",
            GateModeCommand::Locked => "locked",
            GateModeCommand::EmergencyOpen => "emergency_open",
        }
    }
}

/// What a supervisor asked a lane's gate to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneAction {
    /// Put the gate in this mode (lock the lane, emergency open, back to normal).
    SetGateMode(GateModeCommand),
    /// Let one person through by hand (cleared by an officer at the desk).
    AuthoriseOnePassage,
}

impl LaneAction {
    /// The name in the console's records and audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            LaneAction::SetGateMode(m) => m.as_str(),
            LaneAction::AuthoriseOnePassage => "authorise_one_passage",
        }
    }

    pub fn from_name(name: &str) -> Option<LaneAction> {
        Some(match name {
            "normal" => LaneAction::SetGateMode(GateModeCommand::Normal),
            "locked" => LaneAction::SetGateMode(GateModeCommand::Locked),
            "emergency_open" => LaneAction::SetGateMode(GateModeCommand::EmergencyOpen),
            "authorise_one_passage" => LaneAction::AuthoriseOnePassage,
            _ => return None,
        })
    }
}

/// A staff command for the lane, delivered once in a [`SyncReply`]; the lane
/// applies it at once and records what it did as a gate event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneCommand {
    pub id: i64,
    pub action: LaneAction,
    /// Who asked (for the lane's gate event record).
    pub requested_by: String,
}

/// Console -> lane: the console's cursor after storing the batch, and the
/// staff commands not yet delivered to this lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReply {
    pub cursor: Cursor,
    #[serde(default)]
    pub commands: Vec<LaneCommand>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("sync format version {0} is not understood (this console speaks version {WIRE_VERSION})")]
    Version(u32),
    #[error("lane name {0:?} is not a lane name (1-64 characters: letters, digits, '-', '_', '.')")]
    LaneName(String),
    #[error("the batch is out of order or repeats a row: {0}")]
    Order(&'static str),
}

/// A lane name usable in URLs, logs and SQL keys.
pub fn valid_lane_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl SyncBatch {
    /// Checks a console makes before storing anything from the batch.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.version != WIRE_VERSION {
            return Err(WireError::Version(self.version));
        }
        if !valid_lane_name(&self.lane) {
            return Err(WireError::LaneName(self.lane.clone()));
        }
        if self.transactions.windows(2).any(|w| w[0].rev >= w[1].rev) {
            return Err(WireError::Order("transaction revisions must increase"));
        }
        if self.gate_events.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(WireError::Order("gate event ids must increase"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> SyncBatch {
        SyncBatch {
            version: WIRE_VERSION,
            lane: "lane-1".into(),
            live: LiveState::default(),
            transactions: vec![],
            gate_events: vec![
                GateEventRow {
                    id: 1,
                    at_ms: 1,
                    transaction: None,
                    passage_id: None,
                    event: "authorised".into(),
                    detail: None,
                },
                GateEventRow {
                    id: 2,
                    at_ms: 2,
                    transaction: None,
                    passage_id: Some(4),
                    event: "alarm".into(),
                    detail: Some("tailgating".into()),
                },
            ],
            event_at_ms: Some(1),
        }
    }

    #[test]
    fn lane_actions_have_one_name_each() {
        for a in [
            LaneAction::SetGateMode(GateModeCommand::Normal),
            LaneAction::SetGateMode(GateModeCommand::Locked),
            LaneAction::SetGateMode(GateModeCommand::EmergencyOpen),
            LaneAction::AuthoriseOnePassage,
        ] {
            assert_eq!(LaneAction::from_name(a.as_str()), Some(a));
            let c = LaneCommand { id: 3, action: a, requested_by: "sue".into() };
            assert_eq!(serde_json::from_str::<LaneCommand>(&serde_json::to_string(&c).unwrap()).unwrap(), c);
        }
        assert_eq!(LaneAction::from_name("open_sesame"), None);
    }

    #[test]
    fn batches_round_trip_and_are_validated() {
        let b = batch();
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<SyncBatch>(&json).unwrap(), b);
        // A lane from before `event_at_ms` still speaks version 1.
        let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
        old.as_object_mut().unwrap().remove("event_at_ms");
        assert_eq!(serde_json::from_value::<SyncBatch>(old).unwrap().event_at_ms, None);
        assert_eq!(b.validate(), Ok(()));
        assert!(!b.gate_events[0].is_alarm() && b.gate_events[1].is_alarm());
        assert_eq!(SyncBatch { version: 9, ..batch() }.validate(), Err(WireError::Version(9)));
        let bad = SyncBatch { lane: "../etc".into(), ..batch() };
        assert!(matches!(bad.validate(), Err(WireError::LaneName(_))));
        let mut repeated = batch();
        repeated.gate_events[1].id = 1;
        assert!(matches!(repeated.validate(), Err(WireError::Order(_))));
    }
}
