//! Staff accounts, log-in and sessions.
//!
//! - Passwords: Argon2id (the `argon2` crate's defaults), PHC strings; no
//!   account exists until `staff-console user add` creates one (no default
//!   password anywhere).
//! - Sessions: a random 256-bit token in an `HttpOnly; SameSite=Strict`
//!   cookie; only its SHA-256 is stored. Each session has its own random CSRF
//!   token, which every state-changing request must send back in the
//!   `X-CSRF-Token` header. Sessions expire (`session_ttl`).
//! - Rate limiting: after `MAX_FAILURES` failed log-ins for one user name or
//!   from one address within `FAILURE_WINDOW_MS`, further attempts are refused
//!   until the window has passed (the refusals are audited too).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::db::{ConsoleDb, DbError};

pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 5 * 60 * 1000;
pub const MIN_PASSWORD_LEN: usize = 12;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Watch the lanes, acknowledge alarms, resolve referrals.
    Officer,
    /// Everything an officer may do, plus gate control and settings.
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "officer" => Some(Role::Officer),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }

    pub fn may_control_gates(self) -> bool {
        self == Role::Supervisor
    }

    /// Settings: staff accounts.
    pub fn may_manage_accounts(self) -> bool {
        self == Role::Supervisor
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("user name {0:?} is not allowed (1-64 letters, digits, '.', '-', '_')")]
    BadUserName(String),
    #[error("the password is too short: at least {MIN_PASSWORD_LEN} characters")]
    WeakPassword,
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("no user {0:?}")]
    NoSuchUser(String),
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
}

impl From<rusqlite::Error> for AuthError {
    fn from(e: rusqlite::Error) -> Self {
        AuthError::Db(DbError::Sql(e))
    }
}

/// A staff account as the settings page lists it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub username: String,
    pub role: String,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
}

/// A logged-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub csrf: String,
    pub expires_at_ms: i64,
}

/// Why a log-in did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    /// Unknown user or wrong password (the two are not told apart).
    BadCredentials,
    /// Too many failures for this user name or address; retry after this many ms.
    RateLimited { retry_after_ms: i64 },
}

fn random_token() -> Result<String, AuthError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A PHC string to verify against when the user does not exist, so that a
/// wrong user name costs as much time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password, only for timing").unwrap_or_default())
}

impl ConsoleDb {
    /// Add an account from the command line (`by`: who ran it).
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        now_ms: i64,
        by: &str,
    ) -> Result<(), AuthError> {
        self.insert_user(username, password, role, now_ms, by, "admin")
    }

    /// Add an account from the page, by a logged-in supervisor.
    pub fn add_user_by(
        &self,
        username: &str,
        password: &str,
        role: Role,
        now_ms: i64,
        by: &Session,
    ) -> Result<(), AuthError> {
        if !by.role.may_manage_accounts() {
            return Err(AuthError::NotAllowed("only a supervisor may add accounts"));
        }
        self.insert_user(username, password, role, now_ms, &by.username, by.role.as_str())
    }

    /// Every account, for the supervisors' settings.
    pub fn users(&self) -> Result<Vec<Account>, AuthError> {
        let mut stmt = self
            .conn
            .prepare("SELECT username, role, created_at_ms, disabled_at_ms FROM users ORDER BY username")?;
        let rows = stmt.query_map([], |r| {
            Ok(Account {
                username: r.get(0)?,
                role: r.get(1)?,
                created_at_ms: r.get(2)?,
                disabled_at_ms: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Disable an account and end its sessions at once. A supervisor cannot
    /// disable their own account, nor the last supervisor able to log in
    /// (nobody could control the gates any more).
    pub fn disable_user(&self, username: &str, now_ms: i64, by: &Session) -> Result<(), AuthError> {
        if !by.role.may_manage_accounts() {
            return Err(AuthError::NotAllowed("only a supervisor may disable accounts"));
        }
        if username == by.username {
            return Err(AuthError::NotAllowed("you cannot disable your own account"));
        }
        let tx = self.conn.unchecked_transaction()?;
        let role: Option<String> = tx
            .query_row(
                "SELECT role FROM users WHERE username = ?1 AND disabled_at_ms IS NULL",
                [username],
                |r| r.get(0),
            )
            .optional()?;
        let Some(role) = role else { return Err(AuthError::NoSuchUser(username.into())) };
        let supervisors: i64 = tx.query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'supervisor' AND disabled_at_ms IS NULL",
            [],
            |r| r.get(0),
        )?;
        if role == Role::Supervisor.as_str() && supervisors <= 1 {
            return Err(AuthError::NotAllowed("the last supervisor cannot be disabled"));
        }
        tx.execute("UPDATE users SET disabled_at_ms = ?2 WHERE username = ?1", params![username, now_ms])?;
        tx.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
        super::audit::append(&tx, now_ms, &by.username, by.role.as_str(), "user.disable", username, &role)
            .map_err(DbError::from)?;
        tx.commit()?;
        Ok(())
    }

    fn insert_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        now_ms: i64,
        by: &str,
        by_role: &str,
    ) -> Result<(), AuthError> {
        if !valid_user_name(username) {
            return Err(AuthError::BadUserName(username.into()));
        }
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(AuthError::WeakPassword);
        }
        let hash = hash_password(password)?;
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO users (username, password_hash, role, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![username, hash, role.as_str(), now_ms],
        )?;
        if n == 0 {
            return Err(AuthError::UserExists(username.into()));
        }
        super::audit::append(&tx, now_ms, by, by_role, "user.add", username, role.as_str())
            .map_err(DbError::from)?;
        tx.commit()?;
        Ok(())
    }

    pub fn user_count(&self) -> Result<i64, AuthError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    fn recent_failures(&self, key: &str, now_ms: i64) -> Result<(i64, i64), AuthError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COALESCE(MIN(at_ms), 0) FROM login_failures WHERE key = ?1 AND at_ms > ?2",
            params![key, now_ms - FAILURE_WINDOW_MS],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Check a log-in and, when it succeeds, open a session: (cookie token,
    /// session). Every attempt is audited.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
        ttl_ms: i64,
        now_ms: i64,
    ) -> Result<Result<(String, Session), LoginRefused>, AuthError> {
        let keys = [format!("user:{username}"), format!("addr:{address}")];
        for k in &keys {
            let (n, oldest) = self.recent_failures(k, now_ms)?;
            if n >= MAX_FAILURES {
                let retry_after_ms = (oldest + FAILURE_WINDOW_MS - now_ms).max(1000);
                super::audit::append(&self.conn, now_ms, "-", "-", "login.rate_limited", username, address)
                    .map_err(DbError::from)?;
                return Ok(Err(LoginRefused::RateLimited { retry_after_ms }));
            }
        }
        let user: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT password_hash, role FROM users WHERE username = ?1 AND disabled_at_ms IS NULL",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let ok = match &user {
            Some((hash, _)) => password_matches(password, hash),
            None => {
                let _ = password_matches(password, dummy_hash());
                false
            }
        };
        let role = user.as_ref().and_then(|(_, r)| Role::parse(r));
        let (true, Some(role)) = (ok, role) else {
            let tx = self.conn.unchecked_transaction()?;
            for k in &keys {
                tx.execute("INSERT INTO login_failures (key, at_ms) VALUES (?1, ?2)", params![k, now_ms])?;
            }
            super::audit::append(&tx, now_ms, "-", "-", "login.failed", username, address)
                .map_err(DbError::from)?;
            tx.commit()?;
            return Ok(Err(LoginRefused::BadCredentials));
        };
        let token = random_token()?;
        let session = Session {
            username: username.to_string(),
            role,
            csrf: random_token()?,
            expires_at_ms: now_ms + ttl_ms,
        };
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM sessions WHERE expires_at_ms <= ?1", [now_ms])?;
        tx.execute("DELETE FROM login_failures WHERE key = ?1", [&keys[0]])?;
        tx.execute(
            "INSERT INTO sessions (token_hash, username, role, csrf, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash(&token), username, role.as_str(), session.csrf, session.expires_at_ms],
        )?;
        super::audit::append(&tx, now_ms, username, role.as_str(), "login", username, address)
            .map_err(DbError::from)?;
        tx.commit()?;
        Ok(Ok((token, session)))
    }

    /// The live session of a cookie token; None when unknown or expired.
    pub fn session(&self, token: &str, now_ms: i64) -> Result<Option<Session>, AuthError> {
        let row: Option<(String, String, String, i64)> = self
            .conn
            .query_row(
                "SELECT username, role, csrf, expires_at_ms FROM sessions WHERE token_hash = ?1",
                [token_hash(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(row.and_then(|(username, role, csrf, expires_at_ms)| {
            let role = Role::parse(&role)?;
            (expires_at_ms > now_ms).then_some(Session { username, role, csrf, expires_at_ms })
        }))
    }

    pub fn logout(&self, token: &str, session: &Session, now_ms: i64) -> Result<(), AuthError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash(token)])?;
        super::audit::append(
            &tx,
            now_ms,
            &session.username,
            session.role.as_str(),
            "logout",
            &session.username,
            "",
        )
        .map_err(DbError::from)?;
        tx.commit()?;
        Ok(())
    }
}

/// Constant-time comparison of two tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, ConsoleDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = ConsoleDb::open(&dir.path().join("c.sqlite")).unwrap();
        (dir, db)
    }

    #[test]
    fn log_in_sessions_expiry_and_rate_limit() {
        let (_d, db) = db();
        assert!(matches!(db.add_user("ann", "short", Role::Officer, 0, "cli"), Err(AuthError::WeakPassword)));
        db.add_user("ann", "correct horse battery", Role::Officer, 0, "cli").unwrap();
        assert!(matches!(
            db.add_user("ann", "correct horse battery", Role::Officer, 0, "cli"),
            Err(AuthError::UserExists(_))
        ));
        let stored: String = db.conn.query_row("SELECT password_hash FROM users", [], |r| r.get(0)).unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("horse"));

        let (token, s) = db.login("ann", "correct horse battery", "10.0.0.1", 1000, 10).unwrap().unwrap();
        assert_eq!(s.role, Role::Officer);
        assert_eq!(db.session(&token, 500).unwrap(), Some(s.clone()));
        assert_eq!(db.session(&token, 1010).unwrap(), None, "expired");
        assert_eq!(db.session("forged", 500).unwrap(), None);

        for i in 0..MAX_FAILURES {
            assert_eq!(
                db.login("ann", "wrong", "10.0.0.2", 1000, 100 + i).unwrap(),
                Err(LoginRefused::BadCredentials)
            );
        }
        // Now even the right password is refused for a while.
        assert!(matches!(
            db.login("ann", "correct horse battery", "10.0.0.3", 1000, 200).unwrap(),
            Err(LoginRefused::RateLimited { .. })
        ));
        assert!(
            db.login("ann", "correct horse battery", "10.0.0.3", 1000, 200 + FAILURE_WINDOW_MS)
                .unwrap()
                .is_ok()
        );
        assert!(super::super::audit::verify(&db.conn).unwrap() >= 9);
        assert!(tokens_equal("abc", "abc") && !tokens_equal("abc", "abd") && !tokens_equal("abc", "ab"));
    }
}
