//! The staff console over real HTTP on loopback: log-in, sessions and their
//! expiry, CSRF, rate limiting, lanes syncing (and re-syncing) records,
//! alarms acknowledged, referrals resolved, live updates by server-sent
//! events, the audit chain; and a lane's uplink thread catching up after the
//! console was down.
#![cfg(feature = "console")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use kiosk::console::auth::Role;
use kiosk::console::db::ConsoleDb;
use kiosk::console::web::{ConsoleState, ConsoleThread, now_ms};
use kiosk::decision::{Decision, ReasonCode};
use kiosk::store::Store;
use kiosk::uplink::client::{Uplink, UplinkConfig};
use kiosk::uplink::wire::{GateEventRow, LiveState, SyncBatch, TransactionRow, WIRE_VERSION};

const SECRET: &str = "lane-secret-for-tests-0123456789";
const SUE_PW: &str = "supervisor password 1";
const OLI_PW: &str = "officer password 22";

/// A console on `db_path`, on `addr` or a free port.
fn start_console(db_path: &Path, ttl_ms: i64, addr: Option<SocketAddr>) -> ConsoleThread {
    let db = ConsoleDb::open(db_path).unwrap();
    let state = ConsoleState::new(db, SECRET.into(), ttl_ms);
    ConsoleThread::start(state, addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).unwrap()
}

fn users(db_path: &Path) {
    let db = ConsoleDb::open(db_path).unwrap();
    db.add_user("sue", SUE_PW, Role::Supervisor, now_ms(), "cli").unwrap();
    db.add_user("oli", OLI_PW, Role::Officer, now_ms(), "cli").unwrap();
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Log in; (cookie header value, CSRF token of the page).
fn login(c: &ConsoleThread, user: &str, password: &str) -> Result<(String, String), u16> {
    let a = agent();
    let r = a.post(&c.url("/login")).send_form([("username", user), ("password", password)]).unwrap();
    if r.status() != 303 {
        return Err(r.status().as_u16());
    }
    let set = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let mut page = a.get(&c.url("/")).header("Cookie", &cookie).call().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.body_mut().read_to_string().unwrap();
    let csrf =
        html.split("name=\"csrf-token\" content=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    Ok((cookie, csrf))
}

fn get_json(c: &ConsoleThread, path: &str, cookie: &str) -> (u16, serde_json::Value) {
    let mut r = agent().get(&c.url(path)).header("Cookie", cookie).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(serde_json::Value::Null))
}

fn post(c: &ConsoleThread, path: &str, cookie: &str, csrf: Option<&str>, body: serde_json::Value) -> u16 {
    let mut req = agent().post(&c.url(path)).header("Cookie", cookie);
    if let Some(t) = csrf {
        req = req.header("X-CSRF-Token", t);
    }
    req.send_json(body).unwrap().status().as_u16()
}

fn batch(lane: &str, rev: i64, gate_event: Option<i64>) -> SyncBatch {
    SyncBatch {
        version: WIRE_VERSION,
        lane: lane.into(),
        live: LiveState {
            kiosk_step: "face".into(),
            gate_link: "connected".into(),
            at_ms: now_ms(),
            ..Default::default()
        },
        transactions: vec![TransactionRow {
            id: format!("{lane}-t1"),
            rev,
            started_at_ms: now_ms() - 5000,
            decided_at_ms: Some(now_ms()),
            outcome: Some("referral".into()),
            reasons: vec!["over_allowance".into()],
            face_score: Some(0.8),
            step_ms: serde_json::json!({"face": 40}),
            passage_id: None,
            gate_result: None,
            finished_at_ms: None,
        }],
        gate_events: gate_event
            .map(|id| GateEventRow {
                id,
                at_ms: now_ms(),
                transaction: None,
                passage_id: Some(3),
                event: "alarm".into(),
                detail: Some("tailgating".into()),
            })
            .into_iter()
            .collect(),
        event_at_ms: Some(now_ms() - 20),
    }
}

fn sync(c: &ConsoleThread, b: &SyncBatch, secret: &str) -> u16 {
    agent()
        .post(&c.url(&format!("/api/v1/lanes/{}/sync", b.lane)))
        .header("Authorization", &format!("Bearer {secret}"))
        .send_json(b)
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn officers_log_in_watch_lanes_acknowledge_and_resolve_and_everything_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("console.sqlite");
    users(&db_path);
    let c = start_console(&db_path, 3_600_000, None);

    // Nothing without a session.
    assert_eq!(get_json(&c, "/api/state", "").0, 401);
    let r = agent().get(&c.url("/")).call().unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers().get("location").unwrap().to_str().unwrap()),
        (303, "/login")
    );
    assert_eq!(login(&c, "oli", "wrong password here"), Err(401));
    let (cookie, csrf) = login(&c, "oli", OLI_PW).unwrap();
    let (status, state) = get_json(&c, "/api/state", &cookie);
    assert_eq!((status, state["me"]["role"].as_str()), (200, Some("officer")));

    // A lane syncs a referral and an alarm; only with the lane secret.
    assert_eq!(sync(&c, &batch("lane-7", 1, Some(1)), "wrong"), 401);
    assert_eq!(sync(&c, &batch("lane-7", 1, Some(1)), SECRET), 200);
    // Re-sent (a lane that did not see the reply): stored once.
    assert_eq!(sync(&c, &batch("lane-7", 1, Some(1)), SECRET), 200);
    let (_, state) = get_json(&c, "/api/state", &cookie);
    assert_eq!(state["lanes"][0]["lane"], "lane-7");
    assert_eq!(state["lanes"][0]["live"]["kiosk_step"], "face");
    assert_eq!(state["alarms"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["referrals"].as_array().unwrap().len(), 1, "{state}");
    let r = agent()
        .get(&c.url("/api/v1/lanes/lane-7/cursor"))
        .header("Authorization", &format!("Bearer {SECRET}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json::<serde_json::Value>()
        .unwrap();
    assert_eq!((r["transactions_rev"].as_i64(), r["gate_event_id"].as_i64()), (Some(1), Some(1)));

    // State changes need the CSRF token (and a same-origin Origin).
    assert_eq!(post(&c, "/api/alarms/lane-7/1/ack", &cookie, None, serde_json::json!({})), 403);
    assert_eq!(post(&c, "/api/alarms/lane-7/1/ack", &cookie, Some("forged"), serde_json::json!({})), 403);
    let cross = agent()
        .post(&c.url("/api/alarms/lane-7/1/ack"))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .header("Origin", "http://evil.example")
        .send_json(serde_json::json!({}))
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert_eq!(post(&c, "/api/alarms/lane-7/1/ack", &cookie, Some(&csrf), serde_json::json!({})), 200);
    assert_eq!(post(&c, "/api/alarms/lane-7/1/ack", &cookie, Some(&csrf), serde_json::json!({})), 404);
    let resolve = "/api/referrals/lane-7/lane-7-t1/resolve";
    assert_eq!(post(&c, resolve, &cookie, Some(&csrf), serde_json::json!({"outcome": ""})), 400);
    assert_eq!(post(&c, resolve, &cookie, Some(&csrf), serde_json::json!({"outcome": "duty paid"})), 200);
    let (_, state) = get_json(&c, "/api/state", &cookie);
    assert!(
        state["alarms"].as_array().unwrap().is_empty() && state["referrals"].as_array().unwrap().is_empty()
    );
    let (_, stats) = get_json(&c, "/api/stats", &cookie);
    assert_eq!(stats["referral_reasons"][0], serde_json::json!(["over_allowance", 1]));

    // Gate control is for supervisors, confirmed, and reaches the lane once.
    let mode = serde_json::json!({"mode": "locked", "confirm": true});
    assert_eq!(post(&c, "/api/gates/lane-7/mode", &cookie, Some(&csrf), mode.clone()), 403);
    let (sue, sue_csrf) = login(&c, "sue", SUE_PW).unwrap();
    assert_eq!(
        post(
            &c,
            "/api/gates/lane-7/mode",
            &sue,
            Some(&sue_csrf),
            serde_json::json!({"mode": "locked", "confirm": false})
        ),
        400
    );
    assert_eq!(post(&c, "/api/gates/lane-7/mode", &sue, None, mode.clone()), 403);
    assert_eq!(post(&c, "/api/gates/lane-7/mode", &sue, Some(&sue_csrf), mode), 200);
    let one = serde_json::json!({"confirm": true});
    assert_eq!(post(&c, "/api/gates/lane-7/authorise", &cookie, Some(&csrf), one.clone()), 403);
    assert_eq!(post(&c, "/api/gates/lane-9/authorise", &sue, Some(&sue_csrf), one.clone()), 404);
    assert_eq!(post(&c, "/api/gates/lane-7/authorise", &sue, Some(&sue_csrf), one), 200);
    let reply = |b: &SyncBatch| -> serde_json::Value {
        agent()
            .post(&c.url(&format!("/api/v1/lanes/{}/sync", b.lane)))
            .header("Authorization", &format!("Bearer {SECRET}"))
            .send_json(b)
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let first = reply(&batch("lane-7", 1, None));
    assert_eq!(first["commands"][0]["action"], serde_json::json!({"set_gate_mode": "locked"}), "{first}");
    assert_eq!(first["commands"][0]["requested_by"], "sue");
    assert_eq!(first["commands"][1]["action"], "authorise_one_passage", "{first}");
    assert_eq!(reply(&batch("lane-7", 1, None))["commands"], serde_json::json!([]));

    // Log out: the cookie is dead.
    assert_eq!(post(&c, "/logout", &cookie, Some(&csrf), serde_json::json!({})), 200);
    assert_eq!(get_json(&c, "/api/state", &cookie).0, 401);

    // The audit chain holds every action and verifies.
    let (cookie, _) = login(&c, "sue", SUE_PW).unwrap();
    let (_, audit) = get_json(&c, "/api/audit", &cookie);
    assert_eq!(audit["chain"]["ok"], true, "{audit}");
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in [
        "user.add",
        "login.failed",
        "login",
        "alarm.acknowledge",
        "referral.resolve",
        "logout",
        "gate.mode",
        "gate.mode.refused",
        "gate.authorise",
        "gate.authorise.refused",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    c.stop().unwrap();
    let db = ConsoleDb::open(&db_path).unwrap();
    assert!(kiosk::console::audit::verify(db.conn_for_verify()).unwrap() >= 8);
    assert_eq!(db.transaction_ids("lane-7").unwrap().len(), 1);
}

/// Settings: supervisors add and disable staff accounts from the page;
/// officers may not; a disabled account's sessions end at once; nobody can
/// lock the console out of its last supervisor. Every change is audited.
#[test]
fn supervisors_manage_staff_accounts_and_officers_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("console.sqlite");
    users(&db_path);
    let c = start_console(&db_path, 60_000, None);
    let (sue, sue_csrf) = login(&c, "sue", SUE_PW).unwrap();
    let (oli, oli_csrf) = login(&c, "oli", OLI_PW).unwrap();
    let ann = serde_json::json!({"username": "ann", "role": "officer", "password": "another officer pw"});

    assert_eq!(get_json(&c, "/api/users", &oli).0, 403);
    assert_eq!(post(&c, "/api/users", &oli, Some(&oli_csrf), ann.clone()), 403);
    assert_eq!(post(&c, "/api/users", &sue, None, ann.clone()), 403, "CSRF");
    let short = serde_json::json!({"username": "ann", "role": "officer", "password": "short"});
    assert_eq!(post(&c, "/api/users", &sue, Some(&sue_csrf), short), 400);
    let bad_role = serde_json::json!({"username": "ann", "role": "root", "password": "another officer pw"});
    assert_eq!(post(&c, "/api/users", &sue, Some(&sue_csrf), bad_role), 400);
    assert_eq!(post(&c, "/api/users", &sue, Some(&sue_csrf), ann.clone()), 200);
    assert_eq!(post(&c, "/api/users", &sue, Some(&sue_csrf), ann), 409);
    let (status, list) = get_json(&c, "/api/users", &sue);
    assert_eq!(status, 200);
    let names: Vec<&str> =
        list["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "oli", "sue"]);
    assert!(!list.to_string().contains("argon2"), "no password hashes leave the console: {list}");
    let (ann_cookie, _) = login(&c, "ann", "another officer pw").unwrap();

    let yes = serde_json::json!({"confirm": true});
    assert_eq!(post(&c, "/api/users/ann/disable", &oli, Some(&oli_csrf), yes.clone()), 403);
    assert_eq!(
        post(&c, "/api/users/ann/disable", &sue, Some(&sue_csrf), serde_json::json!({"confirm": false})),
        400
    );
    assert_eq!(post(&c, "/api/users/sue/disable", &sue, Some(&sue_csrf), yes.clone()), 403, "not yourself");
    assert_eq!(post(&c, "/api/users/nobody/disable", &sue, Some(&sue_csrf), yes.clone()), 404);
    assert_eq!(post(&c, "/api/users/ann/disable", &sue, Some(&sue_csrf), yes.clone()), 200);
    assert_eq!(get_json(&c, "/api/state", &ann_cookie).0, 401, "a disabled account's session ends at once");
    assert_eq!(login(&c, "ann", "another officer pw").unwrap_err(), 401);
    // The last supervisor stays: a second one may not disable the first
    // once they are alone, and vice versa.
    let kim = serde_json::json!({"username": "kim", "role": "supervisor", "password": "second supervisor"});
    assert_eq!(post(&c, "/api/users", &sue, Some(&sue_csrf), kim), 200);
    let (kim, kim_csrf) = login(&c, "kim", "second supervisor").unwrap();
    assert_eq!(post(&c, "/api/users/sue/disable", &kim, Some(&kim_csrf), yes.clone()), 200);
    assert_eq!(get_json(&c, "/api/state", &sue).0, 401);
    let db = ConsoleDb::open(&db_path).unwrap();
    let kim_session = kiosk::console::auth::Session {
        username: "nobody-left".into(),
        role: Role::Supervisor,
        csrf: String::new(),
        expires_at_ms: i64::MAX,
    };
    assert!(
        db.disable_user("kim", now_ms(), &kim_session).is_err(),
        "the last supervisor cannot be disabled"
    );

    let (_, audit) = get_json(&c, "/api/audit", &kim);
    assert_eq!(audit["chain"]["ok"], true, "{audit}");
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["user.add", "user.add.refused", "user.disable", "user.disable.refused"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    c.stop().unwrap();
}

#[test]
fn sessions_expire_and_repeated_failures_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("console.sqlite");
    users(&db_path);
    let c = start_console(&db_path, 1_500, None);
    let (cookie, _) = login(&c, "oli", OLI_PW).unwrap();
    assert_eq!(get_json(&c, "/api/state", &cookie).0, 200);
    std::thread::sleep(Duration::from_millis(1_700));
    let (status, body) = get_json(&c, "/api/state", &cookie);
    assert_eq!(status, 401);
    assert!(body["error"].as_str().unwrap().contains("expired"), "{body}");

    for _ in 0..kiosk::console::auth::MAX_FAILURES {
        assert_eq!(login(&c, "sue", "not the password"), Err(401));
    }
    // Even the right password now waits for the window to pass.
    assert_eq!(login(&c, "sue", SUE_PW), Err(429));
    c.stop().unwrap();
}

#[test]
fn the_page_gets_lane_updates_live() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("console.sqlite");
    users(&db_path);
    let c = start_console(&db_path, 3_600_000, None);
    let (cookie, _) = login(&c, "oli", OLI_PW).unwrap();
    let r = agent().get(&c.url("/api/events")).header("Cookie", &cookie).call().unwrap();
    assert_eq!(r.status(), 200);
    let mut lines = BufReader::new(r.into_body().into_reader()).lines();
    let sent = Instant::now();
    assert_eq!(sync(&c, &batch("lane-2", 1, Some(1)), SECRET), 200);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let line = lines.next().unwrap().unwrap();
        if let Some(data) = line.strip_prefix("data:") {
            let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
            if v["type"] == "lane" {
                // The lane's event time, for the page's event-to-page latency.
                let at = v["event_at_ms"].as_i64().unwrap();
                assert!(at <= now_ms() && now_ms() - at < 2_000, "{v}");
            }
            seen.push(v["type"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen, ["lane", "alarm"]);
    assert!(sent.elapsed() < Duration::from_secs(2));
    c.stop().unwrap();
}

#[test]
fn a_lane_catches_up_after_the_console_was_down_and_nothing_is_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let console_db = dir.path().join("console.sqlite");
    let lane_db = dir.path().join("lane.sqlite");
    let store = Store::open(&lane_db).unwrap();
    let decide = |store: &Store, i: usize| {
        let id = format!("lane-3-t{i:03}");
        store.begin_transaction(&id, "lane-3").unwrap();
        let d = if i.is_multiple_of(3) {
            Decision::Referral(vec![ReasonCode::OverAllowance])
        } else {
            Decision::Green
        };
        store.record_decision(&id, &d, Some(0.7), Some("PACE"), &serde_json::json!({"face": 30})).unwrap();
        store.finish_transaction(&id, if d.is_green() { "passage_completed" } else { "referred" }).unwrap();
    };
    for i in 0..20 {
        decide(&store, i);
    }
    store.record_gate_event("lane-3", None, None, "alarm", Some("tailgating")).unwrap();

    let c = start_console(&console_db, 3_600_000, None);
    let addr = c.addr();
    let (events_tx, events_rx) = std::sync::mpsc::channel();
    let uplink = Uplink::start(
        UplinkConfig {
            console_url: format!("http://{addr}"),
            lane_secret: SECRET.into(),
            lane: "lane-3".into(),
            database: lane_db.clone(),
            gate_configured: true,
            commands: None,
        },
        events_rx,
    );
    let count = |path: &Path| ConsoleDb::open(path).unwrap().transaction_ids("lane-3").unwrap().len();
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while count(&console_db) < n {
            assert!(Instant::now() < deadline, "console has {} of {n}", count(&console_db));
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for(20);

    // The console goes away; the lane carries on.
    c.stop().unwrap();
    for i in 20..45 {
        decide(&store, i);
    }
    events_tx.send(kiosk::lane::events::FlowEvent::Idle).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let c = start_console(&console_db, 3_600_000, Some(addr));
    wait_for(45);
    uplink.stop(Duration::from_secs(5));
    c.stop().unwrap();

    let db = ConsoleDb::open(&console_db).unwrap();
    let ids = db.transaction_ids("lane-3").unwrap();
    let expected: Vec<String> = (0..45).map(|i| format!("lane-3-t{i:03}")).collect();
    assert_eq!(ids, expected, "every lane transaction exactly once");
    assert_eq!(db.open_alarms().unwrap().len(), 1);
    let stats = db.statistics(now_ms()).unwrap();
    assert_eq!(stats.transactions, 45);
    assert_eq!(stats.referral_reasons, vec![("over_allowance".to_string(), 15)]);
}
