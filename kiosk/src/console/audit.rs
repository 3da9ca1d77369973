//! The staff audit log: every staff action (log-in, failed log-in,
//! acknowledge, resolve, gate command, user change) as one row of a hash
//! chain. Each entry's hash covers the previous entry's hash and all of its
//! own fields, length-prefixed; editing, inserting or deleting any row
//! breaks every hash after it, which [`verify`] reports with the first bad
//! sequence number (`staff-console audit verify`).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    /// Username, or `-` for an unauthenticated attempt.
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    #[serde(serialize_with = "hex")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "hex")]
    pub hash: Vec<u8>,
}

fn hex<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::config::encode_hex(b))
}

/// What the hash of entry `seq` must be.
pub fn entry_hash(prev: &[u8], seq: i64, at_ms: i64, fields: [&str; 5]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"egate-audit-v1");
    h.update((prev.len() as u64).to_be_bytes());
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().into()
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the audit chain is broken at entry {seq}: {reason}")]
    Broken { seq: i64, reason: &'static str },
}

/// Append an entry (inside the caller's transaction, if any) and return it.
pub fn append(
    conn: &Connection,
    at_ms: i64,
    actor: &str,
    role: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<AuditEntry, AuditError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, vec![0u8; 32]),
    };
    let hash = entry_hash(&prev, seq, at_ms, [actor, role, action, target, detail]).to_vec();
    conn.execute(
        "INSERT INTO audit (seq, at_ms, actor, role, action, target, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![seq, at_ms, actor, role, action, target, detail, prev, hash],
    )?;
    Ok(AuditEntry {
        seq,
        at_ms,
        actor: actor.into(),
        role: role.into(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
        prev_hash: prev,
        hash,
    })
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at_ms, actor, role, action, target, detail, prev_hash, hash
         FROM audit ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at_ms: r.get(1)?,
        actor: r.get(2)?,
        role: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// Walk the whole chain; the number of entries when it holds.
pub fn verify(conn: &Connection) -> Result<i64, AuditError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at_ms, actor, role, action, target, detail, prev_hash, hash FROM audit ORDER BY seq",
    )?;
    let mut prev = vec![0u8; 32];
    let mut expected_seq = 1;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let e = row(r)?;
        if e.seq != expected_seq {
            return Err(AuditError::Broken { seq: expected_seq, reason: "an entry is missing" });
        }
        if e.prev_hash != prev {
            return Err(AuditError::Broken { seq: e.seq, reason: "it does not follow the previous entry" });
        }
        let want = entry_hash(&prev, e.seq, e.at_ms, [&e.actor, &e.role, &e.action, &e.target, &e.detail]);
        if e.hash != want {
            return Err(AuditError::Broken { seq: e.seq, reason: "its contents were changed" });
        }
        prev = e.hash;
        expected_seq += 1;
    }
    Ok(expected_seq - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        for i in 0..5 {
            append(&c, 1000 + i, "alice", "supervisor", "alarm.ack", &format!("lane-1/{i}"), "").unwrap();
        }
        c
    }

    #[test]
    fn the_chain_verifies_and_any_change_breaks_it() {
        let c = log();
        assert_eq!(verify(&c).unwrap(), 5);
        assert_eq!(recent(&c, 2).unwrap()[0].seq, 5);

        c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3", []).unwrap();
        assert!(matches!(verify(&c), Err(AuditError::Broken { seq: 3, .. })));

        let c = log();
        c.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        assert!(matches!(verify(&c), Err(AuditError::Broken { seq: 2, .. })));

        // Rewriting an entry *and* its hash still breaks the next link.
        let c = log();
        let h = entry_hash(
            &recent(&c, 5).unwrap()[4].hash,
            2,
            1001,
            ["bob", "officer", "alarm.ack", "lane-1/1", ""],
        );
        c.execute("UPDATE audit SET actor = 'bob', role = 'officer', hash = ?1 WHERE seq = 2", [h.to_vec()])
            .unwrap();
        assert!(matches!(verify(&c), Err(AuditError::Broken { seq: 3, .. })));

        // Deleting the tail cannot be seen from the chain alone: the count
        // is printed so it can be compared with an earlier verification.
        let c = log();
        c.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
        assert_eq!(verify(&c).unwrap(), 4);
    }
}
