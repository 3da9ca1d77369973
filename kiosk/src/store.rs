//! Records in SQLite (rusqlite, WAL): transactions, gate events and the
//! declarations already used (replay protection).
//!
//! Invariants: no name, document number or biometric data is stored; a
//! transaction is committed before the gate is told to open, so a crash
//! cannot let someone through unrecorded. The schema is migrated at open.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::decision::{Decision, ReasonCode};
use crate::uplink::wire::{GateEventRow, TransactionRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot create the data folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("the database schema version {0} is newer than this kiosk understands ({SCHEMA_VERSION})")]
    FutureSchema(i64),
}

pub const SCHEMA_VERSION: i64 = 2;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE transactions (
        id TEXT PRIMARY KEY,
        lane TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        decided_at_ms INTEGER,
        outcome TEXT,
        reasons TEXT NOT NULL DEFAULT '[]',
        face_score REAL,
        access_protocol TEXT,
        step_ms TEXT NOT NULL DEFAULT '{}',
        passage_id INTEGER,
        gate_result TEXT,
        finished_at_ms INTEGER
     );
     CREATE TABLE gate_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        lane TEXT NOT NULL,
        transaction_id TEXT,
        passage_id INTEGER,
        event TEXT NOT NULL,
        detail TEXT
     );
     CREATE TABLE used_declarations (
        digest BLOB PRIMARY KEY,
        transaction_id TEXT NOT NULL,
        used_at_ms INTEGER NOT NULL
     );
     CREATE INDEX gate_events_passage ON gate_events(passage_id);",
    // 1 -> 2: a revision number per transaction row, bumped by triggers in
    // the same statement as every change, so the staff-console uplink can
    // send every change exactly once, in order, without gaps
    // (`uplink::client`): rows with `rev` above what the console has.
    "ALTER TABLE transactions ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
     UPDATE transactions SET rev = rowid;
     CREATE INDEX transactions_rev ON transactions(rev);
     CREATE TRIGGER transactions_rev_insert AFTER INSERT ON transactions BEGIN
        UPDATE transactions SET rev = (SELECT COALESCE(MAX(rev), 0) + 1 FROM transactions)
        WHERE id = NEW.id;
     END;
     CREATE TRIGGER transactions_rev_update AFTER UPDATE OF decided_at_ms, outcome, reasons,
        face_score, access_protocol, step_ms, passage_id, gate_result, finished_at_ms
        ON transactions BEGIN
        UPDATE transactions SET rev = (SELECT COALESCE(MAX(rev), 0) + 1 FROM transactions)
        WHERE id = NEW.id;
     END;",
];

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A transaction row as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRecord {
    pub id: String,
    pub lane: String,
    pub outcome: Option<String>,
    pub reasons: Vec<ReasonCode>,
    pub face_score: Option<f64>,
    pub passage_id: Option<i64>,
    pub gate_result: Option<String>,
    pub step_ms: serde_json::Value,
}

/// The lane's records. Cloning shares the one connection: the lane thread
/// and its gate monitor (events outside a passenger's passage, staff
/// commands) write through it in turn.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Folder { path: dir.display().to_string(), source })?;
        }
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a committed transaction survives power loss, not only a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let store = Store { conn: Arc::new(Mutex::new(conn)) };
        store.migrate()?;
        Ok(store)
    }

    /// The connection; a panic elsewhere while holding it leaves SQLite
    /// consistent (its own transactions), so a poisoned lock is taken over.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::FutureSchema(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn begin_transaction(&self, id: &str, lane: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO transactions (id, lane, started_at_ms) VALUES (?1, ?2, ?3)",
            params![id, lane, now_ms()],
        )?;
        Ok(())
    }

    /// Record the decision. Done before any gate command.
    pub fn record_decision(
        &self,
        id: &str,
        decision: &Decision,
        face_score: Option<f32>,
        access_protocol: Option<&str>,
        step_ms: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let outcome = if decision.is_green() { "green" } else { "referral" };
        let reasons = serde_json::to_string(decision.reasons()).unwrap_or_else(|_| "[]".into());
        self.conn().execute(
            "UPDATE transactions SET decided_at_ms = ?2, outcome = ?3, reasons = ?4, face_score = ?5,
                access_protocol = ?6, step_ms = ?7 WHERE id = ?1",
            params![
                id,
                now_ms(),
                outcome,
                reasons,
                face_score.map(f64::from),
                access_protocol,
                step_ms.to_string()
            ],
        )?;
        Ok(())
    }

    /// Mark a declaration as used; false when it was used before (replay).
    pub fn claim_declaration(&self, digest: &[u8; 32], transaction: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO used_declarations (digest, transaction_id, used_at_ms) VALUES (?1, ?2, ?3)",
            params![&digest[..], transaction, now_ms()],
        )?;
        Ok(n == 1)
    }

    pub fn declaration_used(&self, digest: &[u8; 32]) -> Result<bool, StoreError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM used_declarations WHERE digest = ?1",
            [&digest[..]],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    pub fn set_passage(&self, id: &str, passage_id: u64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE transactions SET passage_id = ?2 WHERE id = ?1",
            params![id, passage_id as i64],
        )?;
        Ok(())
    }

    pub fn finish_transaction(&self, id: &str, gate_result: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE transactions SET gate_result = ?2, finished_at_ms = ?3 WHERE id = ?1",
            params![id, gate_result, now_ms()],
        )?;
        Ok(())
    }

    /// Start-up: close the transactions this lane left open (the kiosk
    /// stopped, crashed or lost power mid-passenger). Each gets the gate
    /// result `interrupted` and a finish time; a decision already committed is
    /// kept as it was, an undecided one stays without outcome. Clearances
    /// (templates) are only ever in memory, so an interrupted passenger is
    /// not recognised by the gate after the restart. Returns their ids.
    pub fn close_interrupted(&self, lane: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids: Vec<String> = tx
            .prepare("SELECT id FROM transactions WHERE lane = ?1 AND finished_at_ms IS NULL ORDER BY started_at_ms")?
            .query_map([lane], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        tx.execute(
            "UPDATE transactions SET gate_result = 'interrupted', finished_at_ms = ?2
             WHERE lane = ?1 AND finished_at_ms IS NULL",
            params![lane, now_ms()],
        )?;
        tx.commit()?;
        Ok(ids)
    }

    pub fn record_gate_event(
        &self,
        lane: &str,
        transaction: Option<&str>,
        passage_id: Option<u64>,
        event: &str,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO gate_events (at_ms, lane, transaction_id, passage_id, event, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now_ms(), lane, transaction, passage_id.map(|p| p as i64), event, detail],
        )?;
        Ok(())
    }

    pub fn transaction(&self, id: &str) -> Result<Option<TransactionRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, lane, outcome, reasons, face_score, passage_id, gate_result, step_ms
                 FROM transactions WHERE id = ?1",
                [id],
                |r| {
                    let reasons: String = r.get(3)?;
                    let steps: String = r.get(7)?;
                    Ok(TransactionRecord {
                        id: r.get(0)?,
                        lane: r.get(1)?,
                        outcome: r.get(2)?,
                        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                        face_score: r.get(4)?,
                        passage_id: r.get(5)?,
                        gate_result: r.get(6)?,
                        step_ms: serde_json::from_str(&steps).unwrap_or_default(),
                    })
                },
            )
            .optional()?)
    }

    /// The gate event log, oldest first.
    pub fn gate_events(&self) -> Result<Vec<GateEventRow>, StoreError> {
        Ok(gate_events_after(&self.conn(), 0, i64::MAX)?)
    }

    /// The next passage id: above every one used so far, by a passenger
    /// (transactions) or by hand from the staff console (gate events only),
    /// so unique across restarts of this lane.
    pub fn next_passage_id(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self.conn().query_row(
            "SELECT MAX(m) FROM (SELECT MAX(passage_id) AS m FROM transactions
                                 UNION ALL SELECT MAX(passage_id) FROM gate_events)",
            [],
            |r| r.get(0),
        )?;
        Ok(max.unwrap_or(0) as u64 + 1)
    }
}

/// Transaction rows changed after revision `rev`, in revision order, at
/// most `limit` (the staff-console uplink reads them through its own
/// read-only connection).
pub fn transactions_after(
    conn: &Connection,
    rev: i64,
    limit: i64,
) -> Result<Vec<TransactionRow>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, rev, started_at_ms, decided_at_ms, outcome, reasons, face_score, step_ms, passage_id,
            gate_result, finished_at_ms
         FROM transactions WHERE rev > ?1 ORDER BY rev LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![rev, limit], |r| {
        let reasons: String = r.get(5)?;
        let steps: String = r.get(7)?;
        Ok(TransactionRow {
            id: r.get(0)?,
            rev: r.get(1)?,
            started_at_ms: r.get(2)?,
            decided_at_ms: r.get(3)?,
            outcome: r.get(4)?,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            face_score: r.get(6)?,
            step_ms: serde_json::from_str(&steps).unwrap_or_default(),
            passage_id: r.get(8)?,
            gate_result: r.get(9)?,
            finished_at_ms: r.get(10)?,
        })
    })?;
    rows.collect()
}

/// Gate events with an id above `id`, oldest first, at most `limit`.
pub fn gate_events_after(
    conn: &Connection,
    id: i64,
    limit: i64,
) -> Result<Vec<GateEventRow>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at_ms, transaction_id, passage_id, event, detail FROM gate_events
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![id, limit], |r| {
        Ok(GateEventRow {
            id: r.get(0)?,
            at_ms: r.get(1)?,
            transaction: r.get(2)?,
            passage_id: r.get(3)?,
            event: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_life_cycle() {
        let s = Store::open_in_memory().unwrap();
        s.begin_transaction("t1", "lane-1").unwrap();
        let d = Decision::Referral(vec![ReasonCode::OverAllowance]);
        s.record_decision("t1", &d, Some(0.7), Some("file"), &serde_json::json!({"passport": 12})).unwrap();
        let r = s.transaction("t1").unwrap().unwrap();
        assert_eq!(r.outcome.as_deref(), Some("referral"));
        assert_eq!(r.reasons, vec![ReasonCode::OverAllowance]);
        assert_eq!(r.step_ms["passport"], 12);
        assert_eq!(s.next_passage_id().unwrap(), 1);
        s.set_passage("t1", 1).unwrap();
        assert_eq!(s.next_passage_id().unwrap(), 2);
        s.finish_transaction("t1", "passage_completed").unwrap();
        assert!(s.transaction("nope").unwrap().is_none());
    }

    #[test]
    fn open_transactions_are_closed_as_interrupted_on_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kiosk.sqlite");
        {
            let s = Store::open(&path).unwrap();
            s.begin_transaction("done", "lane-1").unwrap();
            s.record_decision("done", &Decision::Green, Some(0.8), None, &serde_json::json!({})).unwrap();
            s.finish_transaction("done", "passage_completed").unwrap();
            s.begin_transaction("decided", "lane-1").unwrap();
            s.record_decision("decided", &Decision::Green, Some(0.8), None, &serde_json::json!({})).unwrap();
            s.begin_transaction("undecided", "lane-1").unwrap();
            s.begin_transaction("other-lane", "lane-2").unwrap();
            // Dropped without closing anything, as a crash would.
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.close_interrupted("lane-1").unwrap(),
            vec!["decided".to_string(), "undecided".to_string()]
        );
        let get = |id: &str| s.transaction(id).unwrap().unwrap();
        assert_eq!(get("done").gate_result.as_deref(), Some("passage_completed"));
        assert_eq!(get("decided").outcome.as_deref(), Some("green"));
        assert_eq!(get("decided").gate_result.as_deref(), Some("interrupted"));
        assert_eq!(get("undecided").outcome, None);
        assert_eq!(get("undecided").gate_result.as_deref(), Some("interrupted"));
        assert_eq!(get("other-lane").gate_result, None, "another lane's records are its own");
        assert!(s.close_interrupted("lane-1").unwrap().is_empty());
    }

    #[test]
    fn a_declaration_is_claimed_once() {
        let s = Store::open_in_memory().unwrap();
        assert!(s.claim_declaration(&[1; 32], "t1").unwrap());
        assert!(!s.claim_declaration(&[1; 32], "t2").unwrap());
    }

    #[test]
    fn reopening_keeps_records_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/kiosk.sqlite");
        {
            let s = Store::open(&path).unwrap();
            s.begin_transaction("t1", "lane-1").unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert!(s.transaction("t1").unwrap().is_some());
        let mode: String = s.conn().pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
