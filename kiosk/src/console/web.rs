//! The console's HTTP side (axum): the officers' page, its JSON API and live
//! updates (server-sent events), and the lanes' sync endpoint.
//!
//! Every state-changing staff request needs a live session cookie, the
//! session's CSRF token in `X-CSRF-Token`, and (when the browser sends one)
//! an `Origin` equal to the console's own; it is audited in the same database
//! transaction as the change.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tracing::{info, warn};

use super::auth::{AuthError, LoginRefused, Role, Session, tokens_equal};
use super::db::{Alarm, ConsoleDb, LaneSummary};
use crate::uplink::wire::{
    Cursor, GateModeCommand, LaneAction, LaneCommand, SyncBatch, SyncReply, valid_lane_name,
};

const COOKIE: &str = "egate_session";
/// Sent through the update channel when the console stops: every open event
/// stream ends, so a graceful shutdown does not wait for browsers forever.
const SHUTDOWN: &str = "{\"type\":\"shutdown\"}";
const DASHBOARD: &str = include_str!("../../../assets/console/index.html");
const LOGIN: &str = include_str!("../../../assets/console/login.html");

pub struct ConsoleState {
    pub db: Mutex<ConsoleDb>,
    /// Shared secret lanes authenticate with (`Authorization: Bearer`).
    pub lane_secret: String,
    pub session_ttl_ms: i64,
    /// Live updates to every open page (JSON strings).
    pub updates: broadcast::Sender<String>,
    /// A read-only connection for the pages' reads (sessions, state,
    /// statistics, audit log), so that page refreshes and lane syncs do not
    /// wait for each other (WAL); None for an in-memory database.
    reader: Option<Mutex<ConsoleDb>>,
    /// Lane batches waiting for the next group commit ([`lane_sync`]).
    sync_queue: Mutex<Vec<PendingSync>>,
}

/// What a stored batch gives back: the new cursor, new alarms, the lane's
/// tile and its pending commands.
type Applied = (Cursor, Vec<Alarm>, Option<LaneSummary>, Vec<LaneCommand>);

/// A lane's batch waiting to be stored, and where its result goes.
struct PendingSync {
    batch: SyncBatch,
    done: std::sync::mpsc::Sender<Result<Applied, String>>,
}

impl ConsoleState {
    pub fn new(db: ConsoleDb, lane_secret: String, session_ttl_ms: i64) -> Arc<ConsoleState> {
        let (updates, _) = broadcast::channel(4096);
        let reader = match db.reader() {
            Ok(r) => r.map(Mutex::new),
            Err(e) => {
                warn!("no separate read connection ({e}); pages read through the main one");
                None
            }
        };
        Arc::new(ConsoleState {
            db: Mutex::new(db),
            lane_secret,
            session_ttl_ms,
            updates,
            reader,
            sync_queue: Mutex::new(Vec::new()),
        })
    }

    fn db(&self) -> MutexGuard<'_, ConsoleDb> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sync_queue(&self) -> MutexGuard<'_, Vec<PendingSync>> {
        self.sync_queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// For reads only: the read connection, else the main one.
    fn reader(&self) -> MutexGuard<'_, ConsoleDb> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|p| p.into_inner()),
            None => self.db(),
        }
    }

    fn publish(&self, update: serde_json::Value) {
        // No page open: nobody to tell.
        let _ = self.updates.send(update.to_string());
    }
}

pub fn now_ms() -> i64 {
    crate::store::now_ms()
}

pub fn router(state: Arc<ConsoleState>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/api/state", get(api_state))
        .route("/api/stats", get(api_stats))
        .route("/api/audit", get(api_audit))
        .route("/api/events", get(api_events))
        .route("/api/alarms/{lane}/{id}/ack", post(ack_alarm))
        .route("/api/referrals/{lane}/{transaction}/resolve", post(resolve_referral))
        .route("/api/gates/{lane}/mode", post(gate_mode))
        .route("/api/gates/{lane}/authorise", post(gate_authorise))
        .route("/api/users", get(api_users).post(add_account))
        .route("/api/users/{username}/disable", post(disable_account))
        .route("/api/v1/lanes/{lane}/cursor", get(lane_cursor))
        .route("/api/v1/lanes/{lane}/sync", post(lane_sync))
        .with_state(state)
}

/// A JSON error with a status.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    warn!("console request failed: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the console log")
}

/// A handler's database work, on tokio's blocking pool: SQLite reads and
/// commits (an fsync each) never hold up the async workers, which keep
/// streaming updates to the pages.
async fn blocking(f: impl FnOnce() -> Result<Response, Rejection> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => r,
        Ok(Err(r)) => r.into_response(),
        Err(e) => internal(e),
    }
}

/// A refused request, small enough to return by value (turned into the JSON
/// error response at the handler).
#[derive(Debug)]
struct Rejection(StatusCode, &'static str);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn internal_rejection(e: impl std::fmt::Display) -> Rejection {
    warn!("console request failed: {e}");
    Rejection(StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the console log")
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .map(|(_, v)| v.to_string())
    })
}

/// The request's session, or the response to send instead (401).
fn session(state: &ConsoleState, headers: &HeaderMap) -> Result<(String, Session), Rejection> {
    let token = cookie_token(headers).ok_or(Rejection(StatusCode::UNAUTHORIZED, "log in first"))?;
    match state.reader().session(&token, now_ms()) {
        Ok(Some(s)) => Ok((token, s)),
        Ok(None) => Err(Rejection(StatusCode::UNAUTHORIZED, "the session has expired; log in again")),
        Err(e) => Err(internal_rejection(e)),
    }
}

/// Same-origin check: a browser's `Origin`, when sent, must name this host.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
}

/// Session + CSRF token + origin, for every state-changing request.
fn session_for_change(state: &ConsoleState, headers: &HeaderMap) -> Result<(String, Session), Rejection> {
    let (token, s) = session(state, headers)?;
    let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !tokens_equal(sent, &s.csrf) || !same_origin(headers) {
        return Err(Rejection(StatusCode::FORBIDDEN, "missing or wrong CSRF token; reload the page"));
    }
    Ok((token, s))
}

fn html(page: &str) -> Response {
    let mut r = Html(page.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn dashboard(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    match session(&state, &headers) {
        Ok((_, s)) => html(
            &DASHBOARD
                .replace("{{CSRF}}", &s.csrf)
                .replace("{{USER}}", &s.username)
                .replace("{{ROLE}}", s.role.as_str()),
        ),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

async fn login_page() -> Response {
    html(&LOGIN.replace("{{MESSAGE}}", ""))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    State(state): State<Arc<ConsoleState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return error(StatusCode::FORBIDDEN, "cross-site log-in refused");
    }
    let st = state.clone();
    let address = peer.ip().to_string();
    // Argon2 takes tens of milliseconds: off the async workers.
    let r = tokio::task::spawn_blocking(move || {
        st.db().login(&form.username, &form.password, &address, st.session_ttl_ms, now_ms())
    })
    .await;
    let message = match r {
        Ok(Ok(Ok((token, s)))) => {
            info!(user = %s.username, role = s.role.as_str(), "staff log-in");
            let max_age = state.session_ttl_ms / 1000;
            let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}");
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            return r;
        }
        Ok(Ok(Err(LoginRefused::BadCredentials))) => "Wrong user name or password.".to_string(),
        Ok(Ok(Err(LoginRefused::RateLimited { retry_after_ms }))) => {
            let page = LOGIN.replace(
                "{{MESSAGE}}",
                &format!("Too many failed attempts. Try again in {} s.", (retry_after_ms + 999) / 1000),
            );
            let mut r = html(&page);
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return r;
        }
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let mut r = html(&LOGIN.replace("{{MESSAGE}}", &message));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r
}

async fn logout(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    let (token, s) = match session_for_change(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    if let Err(e) = state.db().logout(&token, &s, now_ms()) {
        return internal(e);
    }
    let mut r = Json(json!({"ok": true})).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("egate_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

fn snapshot(state: &ConsoleState, s: &Session) -> Result<serde_json::Value, Rejection> {
    let db = state.reader();
    let now = now_ms();
    let lanes = db.lanes(now).map_err(internal_rejection)?;
    let alarms = db.open_alarms().map_err(internal_rejection)?;
    let referrals = db.open_referrals().map_err(internal_rejection)?;
    Ok(json!({
        "me": { "username": s.username, "role": s.role.as_str() },
        "now_ms": now,
        "lanes": lanes,
        "alarms": alarms,
        "referrals": referrals,
    }))
}

async fn api_state(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    blocking(move || {
        let (_, s) = session(&state, &headers)?;
        Ok(Json(snapshot(&state, &s)?).into_response())
    })
    .await
}

async fn api_stats(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    blocking(move || {
        session(&state, &headers)?;
        let stats = state.reader().statistics(now_ms());
        Ok(match stats {
            Ok(s) => Json(s).into_response(),
            Err(e) => internal(e),
        })
    })
    .await
}

async fn api_audit(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    blocking(move || {
        session(&state, &headers)?;
        let db = state.reader();
        let verified = super::audit::verify(&db.conn).map_err(|e| e.to_string());
        Ok(match super::audit::recent(&db.conn, 200) {
            Ok(entries) => Json(json!({
                "entries": entries,
                "chain": match verified { Ok(n) => json!({"ok": true, "entries": n}), Err(e) => json!({"ok": false, "error": e}) },
            }))
            .into_response(),
            Err(e) => internal(e),
        })
    })
    .await
}

async fn api_events(
    State(state): State<Arc<ConsoleState>>,
    headers: HeaderMap,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>, Rejection> {
    session(&state, &headers)?;
    let stream = BroadcastStream::new(state.updates.subscribe())
        .take_while(|m| !matches!(m, Ok(t) if t == SHUTDOWN))
        .map(|m| {
            Ok(match m {
                Ok(text) => Event::default().data(text),
                // This page fell behind: it reloads the whole state.
                Err(_) => Event::default().data(r#"{"type":"resync"}"#),
            })
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn ack_alarm(
    State(state): State<Arc<ConsoleState>>,
    Path((lane, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    let (_, s) = match session_for_change(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let r = state.db().ack_alarm(&lane, id, &s.username, s.role.as_str(), now_ms());
    match r {
        Ok(true) => {
            state.publish(json!({"type": "alarm_acknowledged", "lane": lane, "id": id, "by": s.username}));
            Json(json!({"ok": true})).into_response()
        }
        Ok(false) => error(StatusCode::NOT_FOUND, "no such open alarm"),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct Resolution {
    /// What the officer concluded (free text, 1-200 characters).
    outcome: String,
}

async fn resolve_referral(
    State(state): State<Arc<ConsoleState>>,
    Path((lane, transaction)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Resolution>,
) -> Response {
    let (_, s) = match session_for_change(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let outcome = body.outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 200 {
        return error(StatusCode::BAD_REQUEST, "say in 1-200 characters how the referral was resolved");
    }
    let r = state.db().resolve_referral(&lane, &transaction, outcome, &s.username, s.role.as_str(), now_ms());
    match r {
        Ok(true) => {
            state.publish(json!({"type": "referral_resolved", "lane": lane, "transaction": transaction, "by": s.username}));
            Json(json!({"ok": true})).into_response()
        }
        Ok(false) => error(StatusCode::NOT_FOUND, "no such open referral"),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct GateModeRequest {
    mode: GateModeCommand,
    /// The page asks the supervisor to confirm; the request must say so.
    confirm: bool,
}

#[derive(Deserialize)]
struct ConfirmedRequest {
    confirm: bool,
}

async fn gate_mode(
    State(state): State<Arc<ConsoleState>>,
    Path(lane): Path<String>,
    headers: HeaderMap,
    Json(body): Json<GateModeRequest>,
) -> Response {
    gate_command(&state, &lane, &headers, LaneAction::SetGateMode(body.mode), body.confirm)
}

async fn gate_authorise(
    State(state): State<Arc<ConsoleState>>,
    Path(lane): Path<String>,
    headers: HeaderMap,
    Json(body): Json<ConfirmedRequest>,
) -> Response {
    gate_command(&state, &lane, &headers, LaneAction::AuthoriseOnePassage, body.confirm)
}

/// A supervisor's confirmed command for a known lane, queued (and audited)
/// until the lane's next sync takes it; an officer's attempt is refused and
/// audited.
fn gate_command(
    state: &ConsoleState,
    lane: &str,
    headers: &HeaderMap,
    action: LaneAction,
    confirm: bool,
) -> Response {
    let (_, s) = match session_for_change(state, headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    if !s.role.may_control_gates() {
        let refused = match action {
            LaneAction::SetGateMode(_) => "gate.mode.refused",
            LaneAction::AuthoriseOnePassage => "gate.authorise.refused",
        };
        let _ = state.db().audit(now_ms(), &s.username, s.role.as_str(), refused, lane, action.as_str());
        return error(StatusCode::FORBIDDEN, "only a supervisor may control gates");
    }
    if !confirm {
        return error(StatusCode::BAD_REQUEST, "gate commands must be confirmed");
    }
    if !valid_lane_name(lane) {
        return error(StatusCode::BAD_REQUEST, "not a lane name");
    }
    let mut db = state.db();
    match db.lane(lane, now_ms()) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return error(StatusCode::NOT_FOUND, "no such lane: it has never synced with this console");
        }
        Err(e) => return internal(e),
    }
    let r = db.queue_lane_command(lane, action, &s.username, s.role.as_str(), now_ms());
    drop(db);
    match r {
        Ok(id) => {
            state.publish(json!({"type": "gate_command", "lane": lane, "id": id, "action": action.as_str(), "by": s.username}));
            Json(json!({"ok": true, "command": id})).into_response()
        }
        Err(e) => internal(e),
    }
}

fn lane_authorised(state: &ConsoleState, headers: &HeaderMap) -> bool {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    !state.lane_secret.is_empty() && tokens_equal(sent, &state.lane_secret)
}

async fn lane_cursor(
    State(state): State<Arc<ConsoleState>>,
    Path(lane): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !lane_authorised(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, "lane secret missing or wrong");
    }
    match state.db().cursor(&lane) {
        Ok(c) => Json(c).into_response(),
        Err(e) => internal(e),
    }
}

async fn lane_sync(
    State(state): State<Arc<ConsoleState>>,
    Path(lane): Path<String>,
    headers: HeaderMap,
    Json(batch): Json<SyncBatch>,
) -> Response {
    if !lane_authorised(&state, &headers) {
        return error(StatusCode::UNAUTHORIZED, "lane secret missing or wrong");
    }
    if batch.lane != lane {
        return error(StatusCode::BAD_REQUEST, "the batch names another lane than the URL");
    }
    if let Err(e) = batch.validate() {
        return error(StatusCode::BAD_REQUEST, &e.to_string());
    }
    blocking(move || {
        let (transactions, event_at_ms) = (batch.transactions.len(), batch.event_at_ms);
        // Group commit: the batch joins the queue; whoever holds the
        // database next stores every queued batch in one SQLite transaction
        // (one fsync for all the lanes that synced meanwhile), each with its
        // lane's tile and pending commands.
        let (done, result) = std::sync::mpsc::channel();
        state.sync_queue().push(PendingSync { batch, done });
        {
            let mut db = state.db();
            let group = std::mem::take(&mut *state.sync_queue());
            if !group.is_empty() {
                let batches: Vec<&SyncBatch> = group.iter().map(|p| &p.batch).collect();
                match db.apply_group(&batches, now_ms()) {
                    Ok(results) => {
                        for (p, r) in group.iter().zip(results) {
                            let _ = p.done.send(r.map_err(|e| e.to_string()));
                        }
                    }
                    Err(e) => {
                        for p in &group {
                            let _ = p.done.send(Err(e.to_string()));
                        }
                    }
                }
            }
        }
        let (cursor, alarms, summary, commands) = match result.recv() {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Ok(internal(e)),
            Err(_) => return Ok(internal("the batch was not stored (the storing thread failed)")),
        };
        let mut update = json!({
            "type": "lane",
            "lane": summary,
            "transactions": transactions,
        });
        // When the oldest change of the batch happened in the lane: the page
        // measures event-to-page latency from it (heartbeats carry none).
        if let Some(at) = event_at_ms {
            update["event_at_ms"] = json!(at);
        }
        state.publish(update);
        for a in alarms {
            state.publish(json!({"type": "alarm", "alarm": a}));
        }
        Ok(Json(SyncReply { cursor, commands }).into_response())
    })
    .await
}

// --- settings: staff accounts (supervisors) ---------------------------------

fn supervisor(s: &Session, refused: &str, target: &str, state: &ConsoleState) -> Result<(), Rejection> {
    if s.role.may_manage_accounts() {
        return Ok(());
    }
    let _ = state.db().audit(now_ms(), &s.username, s.role.as_str(), refused, target, "");
    Err(Rejection(StatusCode::FORBIDDEN, "only a supervisor may change settings"))
}

fn account_error(e: AuthError) -> Response {
    match e {
        AuthError::BadUserName(_) | AuthError::WeakPassword => error(StatusCode::BAD_REQUEST, &e.to_string()),
        AuthError::UserExists(_) => error(StatusCode::CONFLICT, &e.to_string()),
        AuthError::NoSuchUser(_) => error(StatusCode::NOT_FOUND, &e.to_string()),
        AuthError::NotAllowed(m) => error(StatusCode::FORBIDDEN, m),
        other => internal(other),
    }
}

async fn api_users(State(state): State<Arc<ConsoleState>>, headers: HeaderMap) -> Response {
    blocking(move || {
        let (_, s) = session(&state, &headers)?;
        if !s.role.may_manage_accounts() {
            return Err(Rejection(StatusCode::FORBIDDEN, "only a supervisor may see the accounts"));
        }
        Ok(match state.db().users() {
            Ok(u) => Json(json!({ "users": u })).into_response(),
            Err(e) => internal(e),
        })
    })
    .await
}

#[derive(Deserialize)]
struct NewAccount {
    username: String,
    role: String,
    password: String,
}

async fn add_account(
    State(state): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Json(body): Json<NewAccount>,
) -> Response {
    blocking(move || {
        let (_, s) = session_for_change(&state, &headers)?;
        supervisor(&s, "user.add.refused", &body.username, &state)?;
        let Some(role) = Role::parse(&body.role) else {
            return Err(Rejection(StatusCode::BAD_REQUEST, "role must be officer or supervisor"));
        };
        Ok(match state.db().add_user_by(&body.username, &body.password, role, now_ms(), &s) {
            Ok(()) => {
                state.publish(json!({"type": "accounts"}));
                Json(json!({"ok": true})).into_response()
            }
            Err(e) => account_error(e),
        })
    })
    .await
}

async fn disable_account(
    State(state): State<Arc<ConsoleState>>,
    Path(username): Path<String>,
    headers: HeaderMap,
    Json(body): Json<ConfirmedRequest>,
) -> Response {
    blocking(move || {
        let (_, s) = session_for_change(&state, &headers)?;
        supervisor(&s, "user.disable.refused", &username, &state)?;
        if !body.confirm {
            return Err(Rejection(StatusCode::BAD_REQUEST, "disabling an account must be confirmed"));
        }
        Ok(match state.db().disable_user(&username, now_ms(), &s) {
            Ok(()) => {
                state.publish(json!({"type": "accounts"}));
                Json(json!({"ok": true})).into_response()
            }
            Err(e) => account_error(e),
        })
    })
    .await
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    state: Arc<ConsoleState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let updates = state.updates.clone();
    let shutdown = async move {
        shutdown.await;
        let _ = updates.send(SHUTDOWN.to_string());
    };
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// A console serving on a thread of its own, with its own tokio runtime: for
/// programs that embed one next to blocking code (the load test, the HTTP
/// and browser tests).
pub struct ConsoleThread {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl ConsoleThread {
    /// Bind `bind` (port 0 for any free one) and serve `state` there. The
    /// socket and the runtime are made here, so their errors come back here;
    /// the runtime only runs on the new thread, so this may be called from
    /// async code too (the browser tests).
    pub fn start(state: Arc<ConsoleState>, bind: SocketAddr) -> std::io::Result<ConsoleThread> {
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("staff-console".into()).spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                serve(state, listener, async {
                    let _ = stopped.await;
                })
                .await
            })
        })?;
        Ok(ConsoleThread { addr, stop: Some(stop), thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Graceful stop: every event stream ends first, then the server; waits
    /// for the thread.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.signal_stop();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(served)) => served,
            Some(Err(_)) => Err(std::io::Error::other("the console thread panicked")),
            None => Ok(()),
        }
    }

    fn signal_stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for ConsoleThread {
    /// Asks the server to stop without waiting for it: a panicking test must
    /// not hang on a browser's open connections.
    fn drop(&mut self) {
        self.signal_stop();
    }
}
