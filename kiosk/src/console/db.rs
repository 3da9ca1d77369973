//! The console's SQLite (WAL, synchronous=FULL): staff accounts and sessions,
//! the lanes and what they have synced (transactions and gate events, keyed
//! by lane and id: a re-sent row replaces itself), alarm acknowledgements,
//! referral resolutions, and the audit chain ([`super::audit`]).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::audit;
use crate::uplink::wire::{Cursor, GateEventRow, LaneAction, LaneCommand, LiveState, SyncBatch};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    disabled_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lanes (
    lane TEXT PRIMARY KEY,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    live TEXT NOT NULL DEFAULT '{}',
    transactions_rev INTEGER NOT NULL DEFAULT 0,
    gate_event_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS transactions (
    lane TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    decided_at_ms INTEGER,
    outcome TEXT,
    reasons TEXT NOT NULL,
    face_score REAL,
    step_ms TEXT NOT NULL,
    passage_id INTEGER,
    gate_result TEXT,
    finished_at_ms INTEGER,
    resolved_by TEXT,
    resolved_at_ms INTEGER,
    PRIMARY KEY (lane, id)
);
CREATE INDEX IF NOT EXISTS transactions_decided ON transactions(decided_at_ms);
CREATE TABLE IF NOT EXISTS gate_events (
    lane TEXT NOT NULL,
    id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    transaction_id TEXT,
    passage_id INTEGER,
    event TEXT NOT NULL,
    detail TEXT,
    alarm INTEGER NOT NULL,
    acked_by TEXT,
    acked_at_ms INTEGER,
    PRIMARY KEY (lane, id)
);
CREATE TABLE IF NOT EXISTS lane_commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lane TEXT NOT NULL,
    action TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at_ms INTEGER NOT NULL,
    delivered_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
-- What the page asks on every refresh (lane tiles: the last hour, open
-- alarms and referrals; statistics), from indexes instead of whole tables.
CREATE INDEX IF NOT EXISTS transactions_lane_decided ON transactions(lane, decided_at_ms, outcome);
CREATE INDEX IF NOT EXISTS transactions_decided_outcome ON transactions(decided_at_ms, outcome);
CREATE INDEX IF NOT EXISTS transactions_outcome_reasons ON transactions(outcome, reasons);
CREATE INDEX IF NOT EXISTS transactions_open_referrals ON transactions(lane)
    WHERE outcome = 'referral' AND resolved_at_ms IS NULL;
CREATE INDEX IF NOT EXISTS gate_events_open_alarms ON gate_events(lane, at_ms)
    WHERE alarm = 1 AND acked_at_ms IS NULL;
";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("console database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("cannot create the data folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
}

/// A lane tile's data.
#[derive(Debug, Clone, Serialize)]
pub struct LaneSummary {
    pub lane: String,
    pub last_seen_ms: i64,
    pub live: LiveState,
    pub passengers_last_hour: i64,
    pub green_last_hour: i64,
    pub open_alarms: i64,
    pub open_referrals: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    pub lane: String,
    pub id: i64,
    pub at_ms: i64,
    pub transaction: Option<String>,
    pub event: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Referral {
    pub lane: String,
    pub transaction: String,
    pub decided_at_ms: i64,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    /// (hour start in ms, passengers decided, green) for the last 24 hours.
    pub per_hour: Vec<(i64, i64, i64)>,
    /// (reason code, count) over all referrals, most frequent first.
    pub referral_reasons: Vec<(String, i64)>,
    pub transactions: i64,
}

pub struct ConsoleDb {
    pub(crate) conn: Connection,
}

impl ConsoleDb {
    pub fn open(path: &Path) -> Result<ConsoleDb, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| DbError::Folder { path: dir.display().to_string(), source })?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Consoles from before hand-authorised passages named the column
        // after the only commands there were (the values are the same).
        let old_column: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('lane_commands') WHERE name = 'gate_mode'",
            [],
            |r| r.get(0),
        )?;
        if old_column > 0 {
            conn.execute_batch("ALTER TABLE lane_commands RENAME COLUMN gate_mode TO action")?;
        }
        conn.execute_batch(SCHEMA)?;
        // Consoles from before accounts could be disabled.
        let has_disabled: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('users') WHERE name = 'disabled_at_ms'",
            [],
            |r| r.get(0),
        )?;
        if has_disabled == 0 {
            conn.execute_batch("ALTER TABLE users ADD COLUMN disabled_at_ms INTEGER")?;
        }
        conn.execute_batch(audit::SCHEMA)?;
        Ok(ConsoleDb { conn })
    }

    /// A second, read-only connection to the same file, for the page's
    /// reads: WAL lets it read while lanes sync through this one. None for
    /// an in-memory database.
    pub fn reader(&self) -> Result<Option<ConsoleDb>, DbError> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Some(ConsoleDb { conn }))
    }

    /// The connection, for [`super::audit::verify`].
    pub fn conn_for_verify(&self) -> &Connection {
        &self.conn
    }

    pub fn audit(
        &self,
        at_ms: i64,
        actor: &str,
        role: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<audit::AuditEntry, DbError> {
        Ok(audit::append(&self.conn, at_ms, actor, role, action, target, detail)?)
    }

    // ---- lanes -------------------------------------------------------------

    pub fn cursor(&self, lane: &str) -> Result<Cursor, DbError> {
        Ok(self
            .conn
            .query_row("SELECT transactions_rev, gate_event_id FROM lanes WHERE lane = ?1", [lane], |r| {
                Ok(Cursor { transactions_rev: r.get(0)?, gate_event_id: r.get(1)? })
            })
            .optional()?
            .unwrap_or_default())
    }

    /// Store a (validated) batch in one transaction; returns the new cursor
    /// and the alarms that are new to the console.
    pub fn apply(&mut self, batch: &SyncBatch, now_ms: i64) -> Result<(Cursor, Vec<Alarm>), DbError> {
        let tx = self.conn.transaction()?;
        let r = Self::apply_rows(&tx, batch, now_ms)?;
        tx.commit()?;
        Ok(r)
    }

    /// Several lanes' batches in one SQLite transaction, so one commit (one
    /// fsync) stores them all: the console's group commit when lanes sync at
    /// the same time. Each batch is applied in its own savepoint, then its
    /// lane's tile is read and its pending commands are taken (as
    /// [`Self::apply`], [`Self::lane`] and [`Self::take_commands`] would);
    /// a batch that fails is rolled back alone and gets its error. The outer
    /// error: the commit itself failed, and nothing is stored.
    #[allow(clippy::type_complexity)]
    pub fn apply_group(
        &mut self,
        batches: &[&SyncBatch],
        now_ms: i64,
    ) -> Result<Vec<Result<(Cursor, Vec<Alarm>, Option<LaneSummary>, Vec<LaneCommand>), DbError>>, DbError>
    {
        let mut tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(batches.len());
        for batch in batches {
            let sp = tx.savepoint()?;
            let r = Self::apply_rows(&sp, batch, now_ms).and_then(|(cursor, alarms)| {
                let summary = Self::summaries(&sp, now_ms, Some(&batch.lane))?.pop();
                let commands = Self::take_commands_in(&sp, &batch.lane, now_ms)?;
                Ok((cursor, alarms, summary, commands))
            });
            if r.is_ok() {
                sp.commit()?;
            } // else: dropped, rolled back
            out.push(r);
        }
        tx.commit()?;
        Ok(out)
    }

    fn apply_rows(tx: &Connection, batch: &SyncBatch, now_ms: i64) -> Result<(Cursor, Vec<Alarm>), DbError> {
        let live = serde_json::to_string(&batch.live).unwrap_or_else(|_| "{}".into());
        tx.execute(
            "INSERT INTO lanes (lane, first_seen_ms, last_seen_ms, live) VALUES (?1, ?2, ?2, ?3)
             ON CONFLICT(lane) DO UPDATE SET last_seen_ms = ?2, live = ?3",
            params![batch.lane, now_ms, live],
        )?;
        // Prepared once per connection: a group of batches has many rows.
        let mut upsert = tx.prepare_cached(
            "INSERT INTO transactions (lane, id, rev, started_at_ms, decided_at_ms, outcome, reasons,
                face_score, step_ms, passage_id, gate_result, finished_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT(lane, id) DO UPDATE SET rev = ?3, decided_at_ms = ?5, outcome = ?6,
                reasons = ?7, face_score = ?8, step_ms = ?9, passage_id = ?10, gate_result = ?11,
                finished_at_ms = ?12
             WHERE excluded.rev > transactions.rev",
        )?;
        for t in &batch.transactions {
            upsert.execute(params![
                batch.lane,
                t.id,
                t.rev,
                t.started_at_ms,
                t.decided_at_ms,
                t.outcome,
                serde_json::to_string(&t.reasons).unwrap_or_else(|_| "[]".into()),
                t.face_score,
                t.step_ms.to_string(),
                t.passage_id,
                t.gate_result,
                t.finished_at_ms,
            ])?;
        }
        let mut new_alarms = Vec::new();
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO gate_events (lane, id, at_ms, transaction_id, passage_id, event, detail, alarm)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for e in &batch.gate_events {
            let n = insert.execute(params![
                batch.lane,
                e.id,
                e.at_ms,
                e.transaction,
                e.passage_id,
                e.event,
                e.detail,
                e.is_alarm()
            ])?;
            if n == 1 && e.is_alarm() {
                new_alarms.push(alarm(&batch.lane, e));
            }
        }
        if let Some(t) = batch.transactions.last() {
            tx.execute(
                "UPDATE lanes SET transactions_rev = MAX(transactions_rev, ?2) WHERE lane = ?1",
                params![batch.lane, t.rev],
            )?;
        }
        if let Some(e) = batch.gate_events.last() {
            tx.execute(
                "UPDATE lanes SET gate_event_id = MAX(gate_event_id, ?2) WHERE lane = ?1",
                params![batch.lane, e.id],
            )?;
        }
        let cursor = tx.query_row(
            "SELECT transactions_rev, gate_event_id FROM lanes WHERE lane = ?1",
            [&batch.lane],
            |r| Ok(Cursor { transactions_rev: r.get(0)?, gate_event_id: r.get(1)? }),
        )?;
        Ok((cursor, new_alarms))
    }

    pub fn lanes(&self, now_ms: i64) -> Result<Vec<LaneSummary>, DbError> {
        self.lane_summaries(now_ms, None)
    }

    /// One lane's tile (after each of its syncs: counting only its rows).
    pub fn lane(&self, lane: &str, now_ms: i64) -> Result<Option<LaneSummary>, DbError> {
        Ok(self.lane_summaries(now_ms, Some(lane))?.pop())
    }

    fn lane_summaries(&self, now_ms: i64, only: Option<&str>) -> Result<Vec<LaneSummary>, DbError> {
        Self::summaries(&self.conn, now_ms, only)
    }

    fn summaries(conn: &Connection, now_ms: i64, only: Option<&str>) -> Result<Vec<LaneSummary>, DbError> {
        let hour_ago = now_ms - 3_600_000;
        let mut stmt = conn.prepare_cached(
            "SELECT l.lane, l.last_seen_ms, l.live,
                (SELECT COUNT(*) FROM transactions t WHERE t.lane = l.lane AND t.decided_at_ms >= ?1),
                (SELECT COUNT(*) FROM transactions t WHERE t.lane = l.lane AND t.decided_at_ms >= ?1 AND t.outcome = 'green'),
                (SELECT COUNT(*) FROM gate_events g WHERE g.lane = l.lane AND g.alarm = 1 AND g.acked_at_ms IS NULL),
                (SELECT COUNT(*) FROM transactions t WHERE t.lane = l.lane AND t.outcome = 'referral' AND t.resolved_at_ms IS NULL)
             FROM lanes l WHERE ?2 IS NULL OR l.lane = ?2 ORDER BY l.lane",
        )?;
        let rows = stmt.query_map(params![hour_ago, only], |r| {
            let live: String = r.get(2)?;
            Ok(LaneSummary {
                lane: r.get(0)?,
                last_seen_ms: r.get(1)?,
                live: serde_json::from_str(&live).unwrap_or_default(),
                passengers_last_hour: r.get(3)?,
                green_last_hour: r.get(4)?,
                open_alarms: r.get(5)?,
                open_referrals: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn open_alarms(&self) -> Result<Vec<Alarm>, DbError> {
        let mut stmt = self.conn.prepare(
            "SELECT lane, id, at_ms, transaction_id, passage_id, event, detail FROM gate_events
             WHERE alarm = 1 AND acked_at_ms IS NULL ORDER BY at_ms LIMIT 500",
        )?;
        let rows = stmt.query_map([], |r| {
            let lane: String = r.get(0)?;
            let e = GateEventRow {
                id: r.get(1)?,
                at_ms: r.get(2)?,
                transaction: r.get(3)?,
                passage_id: r.get(4)?,
                event: r.get(5)?,
                detail: r.get(6)?,
            };
            Ok(alarm(&lane, &e))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Acknowledge an alarm; false when there is no such open alarm.
    pub fn ack_alarm(
        &mut self,
        lane: &str,
        id: i64,
        user: &str,
        role: &str,
        now_ms: i64,
    ) -> Result<bool, DbError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE gate_events SET acked_by = ?3, acked_at_ms = ?4
             WHERE lane = ?1 AND id = ?2 AND alarm = 1 AND acked_at_ms IS NULL",
            params![lane, id, user, now_ms],
        )?;
        if n == 1 {
            audit::append(&tx, now_ms, user, role, "alarm.acknowledge", &format!("{lane}/{id}"), "")?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn open_referrals(&self) -> Result<Vec<Referral>, DbError> {
        let mut stmt = self.conn.prepare(
            "SELECT lane, id, decided_at_ms, reasons FROM transactions
             WHERE outcome = 'referral' AND resolved_at_ms IS NULL ORDER BY decided_at_ms LIMIT 500",
        )?;
        let rows = stmt.query_map([], |r| {
            let reasons: String = r.get(3)?;
            Ok(Referral {
                lane: r.get(0)?,
                transaction: r.get(1)?,
                decided_at_ms: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Resolve a referral (the officer has seen the passenger); false when
    /// there is no such open referral.
    pub fn resolve_referral(
        &mut self,
        lane: &str,
        transaction: &str,
        outcome: &str,
        user: &str,
        role: &str,
        now_ms: i64,
    ) -> Result<bool, DbError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE transactions SET resolved_by = ?3, resolved_at_ms = ?4
             WHERE lane = ?1 AND id = ?2 AND outcome = 'referral' AND resolved_at_ms IS NULL",
            params![lane, transaction, user, now_ms],
        )?;
        if n == 1 {
            audit::append(
                &tx,
                now_ms,
                user,
                role,
                "referral.resolve",
                &format!("{lane}/{transaction}"),
                outcome,
            )?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub fn statistics(&self, now_ms: i64) -> Result<Statistics, DbError> {
        let hour = 3_600_000;
        let since = (now_ms / hour - 23) * hour;
        let mut stmt = self.conn.prepare(
            "SELECT (decided_at_ms / ?2) * ?2 AS h, COUNT(*), SUM(outcome = 'green') FROM transactions
             WHERE decided_at_ms >= ?1 GROUP BY h ORDER BY h",
        )?;
        let per_hour = stmt
            .query_map(params![since, hour], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<i64>>(2)?.unwrap_or(0)))
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT j.value, COUNT(*) FROM transactions, json_each(transactions.reasons) j
             WHERE outcome = 'referral' GROUP BY j.value ORDER BY COUNT(*) DESC, j.value",
        )?;
        let referral_reasons =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        let transactions = self.conn.query_row("SELECT COUNT(*) FROM transactions", [], |r| r.get(0))?;
        Ok(Statistics { per_hour, referral_reasons, transactions })
    }

    /// Queue a gate command for a lane (audited with the request); its id.
    pub fn queue_lane_command(
        &mut self,
        lane: &str,
        action: LaneAction,
        user: &str,
        role: &str,
        now_ms: i64,
    ) -> Result<i64, DbError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO lane_commands (lane, action, requested_by, requested_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![lane, action.as_str(), user, now_ms],
        )?;
        let id = tx.last_insert_rowid();
        let what = match action {
            LaneAction::SetGateMode(_) => "gate.mode",
            LaneAction::AuthoriseOnePassage => "gate.authorise",
        };
        audit::append(&tx, now_ms, user, role, what, lane, &format!("{} (command {id})", action.as_str()))?;
        tx.commit()?;
        Ok(id)
    }

    /// The commands not yet delivered to `lane`, marked delivered: each goes
    /// out once (the lane records what it did as a gate event).
    pub fn take_commands(&mut self, lane: &str, now_ms: i64) -> Result<Vec<LaneCommand>, DbError> {
        let tx = self.conn.transaction()?;
        let cmds = Self::take_commands_in(&tx, lane, now_ms)?;
        tx.commit()?;
        Ok(cmds)
    }

    fn take_commands_in(tx: &Connection, lane: &str, now_ms: i64) -> Result<Vec<LaneCommand>, DbError> {
        let cmds: Vec<(i64, String, String)> = tx
            .prepare_cached("SELECT id, action, requested_by FROM lane_commands WHERE lane = ?1 AND delivered_at_ms IS NULL ORDER BY id")?
            .query_map([lane], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        tx.execute(
            "UPDATE lane_commands SET delivered_at_ms = ?2 WHERE lane = ?1 AND delivered_at_ms IS NULL",
            params![lane, now_ms],
        )?;
        Ok(cmds
            .into_iter()
            .filter_map(|(id, action, by)| {
                Some(LaneCommand { id, action: LaneAction::from_name(&action)?, requested_by: by })
            })
            .collect())
    }

    /// Every transaction id of a lane, for the load test's exactly-once check.
    pub fn transaction_ids(&self, lane: &str) -> Result<Vec<String>, DbError> {
        let mut stmt = self.conn.prepare("SELECT id FROM transactions WHERE lane = ?1 ORDER BY id")?;
        let rows = stmt.query_map([lane], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn alarm(lane: &str, e: &GateEventRow) -> Alarm {
    Alarm {
        lane: lane.to_string(),
        id: e.id,
        at_ms: e.at_ms,
        transaction: e.transaction.clone(),
        event: e.event.clone(),
        detail: e.detail.clone(),
    }
}
