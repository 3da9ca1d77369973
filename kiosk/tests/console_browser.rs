//! The staff console in a real browser: headless Chromium driven over
//! WebDriver (chromedriver, through fantoccini) against a console running in
//! this process. Log-in through the form, a lane tile updating live, an alarm
//! acknowledged, gate control for a supervisor and not for an officer, CSRF
//! refusals (fetch without or with a wrong token, a form on another origin),
//! and a session expiring under an open page.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/setup.sh installs
//! them): without them these tests fail and say so.
#![cfg(feature = "console")]

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use kiosk::console::auth::Role;
use kiosk::console::db::ConsoleDb;
use kiosk::console::web::{ConsoleState, ConsoleThread, now_ms};
use kiosk::uplink::wire::{GateEventRow, LiveState, SyncBatch, TransactionRow, WIRE_VERSION};
use serde_json::{Value, json};

const SECRET: &str = "lane-secret-for-tests-0123456789";
const SUE_PW: &str = "supervisor password 1";
const OLI_PW: &str = "officer password 22";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the page may take to show what a lane sent.
const LIVE: Duration = Duration::from_secs(5);

// --- the console, in process --------------------------------------------------

struct Console {
    db_path: std::path::PathBuf,
    server: ConsoleThread,
    _dir: tempfile::TempDir,
}

impl Console {
    /// A console with a supervisor `sue` and an officer `oli`.
    fn start(ttl_ms: i64) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("console.sqlite");
        let db = ConsoleDb::open(&db_path).unwrap();
        db.add_user("sue", SUE_PW, Role::Supervisor, now_ms(), "cli").unwrap();
        db.add_user("oli", OLI_PW, Role::Officer, now_ms(), "cli").unwrap();
        let state = ConsoleState::new(db, SECRET.into(), ttl_ms);
        let server = ConsoleThread::start(state, "127.0.0.1:0".parse().unwrap()).unwrap();
        Console { db_path, server, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A second connection to the console's database (WAL: the server keeps running).
    fn db(&self) -> ConsoleDb {
        ConsoleDb::open(&self.db_path).unwrap()
    }

    /// The newest audit entries as (actor, action, target).
    fn audit(&self) -> Vec<(String, String, String)> {
        let db = self.db();
        kiosk::console::audit::recent(db.conn_for_verify(), 500)
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.target))
            .collect()
    }

    fn audited(&self, actor: &str, action: &str, target: &str) -> bool {
        self.audit().iter().any(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()) == (actor, action, target))
    }

    /// A lane's sync (the uplink's request); the console's reply.
    fn sync(&self, b: &SyncBatch) -> Value {
        let mut r = agent()
            .post(&self.url(&format!("/api/v1/lanes/{}/sync", b.lane)))
            .header("Authorization", &format!("Bearer {SECRET}"))
            .send_json(b)
            .unwrap();
        assert_eq!(r.status(), 200, "lane sync refused");
        r.body_mut().read_json().unwrap()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn batch(lane: &str, step: &str) -> SyncBatch {
    SyncBatch {
        version: WIRE_VERSION,
        lane: lane.into(),
        live: LiveState {
            kiosk_step: step.into(),
            gate_link: "connected".into(),
            at_ms: now_ms(),
            ..Default::default()
        },
        transactions: vec![],
        gate_events: vec![],
        event_at_ms: Some(now_ms()),
    }
}

/// An idle lane's sync bringing gate alarm #1 (tailgating).
fn batch_with_tailgating_alarm(lane: &str) -> SyncBatch {
    let mut b = batch(lane, "idle");
    b.gate_events.push(GateEventRow {
        id: 1,
        at_ms: now_ms(),
        transaction: None,
        passage_id: Some(3),
        event: "alarm".into(),
        detail: Some("Tailgating".into()),
    });
    b
}

fn green_transaction(id: &str, rev: i64) -> TransactionRow {
    TransactionRow {
        id: id.into(),
        rev,
        started_at_ms: now_ms() - 5000,
        decided_at_ms: Some(now_ms()),
        outcome: Some("green".into()),
        reasons: vec![],
        face_score: Some(0.8),
        step_ms: json!({"face": 40}),
        passage_id: None,
        gate_result: None,
        finished_at_ms: None,
    }
}

// --- chromedriver and Chromium ------------------------------------------------

/// chromedriver in its own process group; on drop the group (chromedriver and
/// any browser it started) is killed.
struct Driver {
    child: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Browser {
    c: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// chromedriver on a free port and one headless Chromium session with a
    /// fresh profile.
    async fn start() -> Browser {
        for p in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(p).exists(),
                "{p} is missing: the staff console's browser tests need Debian's chromium and \
                 chromium-driver; run scripts/setup.sh as root, which installs them"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}; run scripts/setup.sh as root"));
        let mut driver = Driver { child };
        let status = format!("http://127.0.0.1:{port}/status");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = agent()
                .get(&status)
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!(
                    "{CHROMEDRIVER} exited ({exit}): {}; run scripts/setup.sh as root",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "{CHROMEDRIVER} did not answer on port {port} within 15 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                ],
            },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let c = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start {CHROMIUM}: {e}\n{}\nrun scripts/setup.sh as root",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Browser { c, _driver: driver, _profile: profile }
    }

    /// Ends the browser session (Chromium quits); chromedriver goes on drop.
    async fn close(self) {
        let _ = self.c.clone().close().await;
    }

    /// Polls `script` (a function body) until it returns something truthy.
    async fn wait_js(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            match self.c.execute(script, vec![]).await {
                Ok(v) if !matches!(&v, Value::Null | Value::Bool(false)) && v != "" => return v,
                Ok(v) => last = v.to_string(),
                Err(e) => last = e.to_string(),
            }
            assert!(Instant::now() < deadline, "waited {timeout:?} for {what}; last answer: {last}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_string()
    }

    /// Types into the log-in form and presses the button.
    async fn submit_login(&self, console: &Console, user: &str, password: &str) {
        self.c.goto(&console.url("/login")).await.unwrap();
        self.c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
        self.c.find(Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
        self.c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
    }

    /// Logs in and waits for the dashboard's live stream.
    async fn log_in(&self, console: &Console, user: &str, password: &str) {
        self.submit_login(console, user, password).await;
        self.wait_js(
            "the dashboard, live",
            Duration::from_secs(10),
            "return location.pathname === '/' && document.getElementById('link')?.textContent === 'live'",
        )
        .await;
    }

    /// Clicks the element, again if the page re-rendered it in between.
    async fn click(&self, locator: Locator<'_>) {
        let deadline = Instant::now() + LIVE;
        loop {
            let r = match self.c.find(locator).await {
                Ok(e) => e.click().await,
                Err(e) => Err(e),
            };
            match r {
                Ok(()) => return,
                Err(e) => assert!(Instant::now() < deadline, "cannot click {locator:?}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the dialog (`window.confirm`) the page opened.
    async fn dialog_text(&self) -> String {
        let deadline = Instant::now() + LIVE;
        loop {
            match self.c.get_alert_text().await {
                Ok(t) => return t,
                Err(e) => assert!(Instant::now() < deadline, "no dialog opened: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's CSRF token (its `<meta>` tag).
    async fn csrf(&self) -> String {
        let v = self
            .c
            .execute("return document.querySelector('meta[name=\"csrf-token\"]').content", vec![])
            .await
            .unwrap();
        v.as_str().unwrap().to_string()
    }

    /// `fetch()` from the page, with the page's cookie; the response status.
    async fn fetch(&self, method: &str, path: &str, csrf: Option<&str>, body: Value) -> u16 {
        let v = self
            .c
            .execute_async(
                r#"const [method, url, token, body, done] = arguments;
                const headers = { "Content-Type": "application/json" };
                if (token !== null) headers["X-CSRF-Token"] = token;
                const init = { method, headers };
                if (method !== "GET") init.body = JSON.stringify(body);
                fetch(url, init).then(r => done(r.status), e => done("fetch failed: " + e));"#,
                vec![json!(method), json!(path), json!(csrf), body],
            )
            .await
            .unwrap();
        v.as_u64().unwrap_or_else(|| panic!("{method} {path}: {v}")) as u16
    }
}

// --- the tests ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_logs_in_through_the_form_and_a_wrong_password_stays_on_the_login_page() {
    let console = Console::start(3_600_000);
    let b = Browser::start().await;

    // No session: the dashboard sends the browser to the log-in page.
    b.c.goto(&console.url("/")).await.unwrap();
    assert_eq!(b.path().await, "/login");

    b.submit_login(&console, "oli", "not the password at all").await;
    let message = b
        .wait_js("the log-in error", LIVE, "return document.getElementById('message')?.textContent.trim()")
        .await;
    assert_eq!(message, "Wrong user name or password.");
    assert_eq!(b.path().await, "/login");
    assert_eq!(b.c.find(Locator::Id("password")).await.unwrap().attr("value").await.unwrap(), None);

    b.log_in(&console, "oli", OLI_PW).await;
    assert_eq!(b.c.find(Locator::Id("me")).await.unwrap().text().await.unwrap(), "oli (officer)");
    // The audit log on the page shows both attempts, and the chain verifies.
    b.wait_js(
        "both log-ins in the page's audit log",
        LIVE,
        "const rows = [...document.querySelectorAll('#audit tr')].map(r => r.cells[3]?.textContent);
         return rows.includes('login') && rows.includes('login.failed')
             && document.getElementById('chain').textContent.startsWith('chain verified');",
    )
    .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_tile_follows_the_lane_live_without_a_reload() {
    let console = Console::start(3_600_000);
    let b = Browser::start().await;
    b.log_in(&console, "oli", OLI_PW).await;
    // Gone if the page reloads.
    b.c.execute("window.egateNoReload = 'same page'", vec![]).await.unwrap();

    for step in ["face", "decision"] {
        console.sync(&batch("lane-7", step));
        let shown = b
            .wait_js(
                &format!("lane-7's tile showing {step}"),
                LIVE,
                &format!(
                    "const t = document.getElementById('lane-lane-7');
                     return t && t.dataset.step === '{step}' && t.querySelector('.step').textContent"
                ),
            )
            .await;
        assert_eq!(shown, step);
    }
    let same = b
        .c
        .execute("return [window.egateNoReload, document.querySelectorAll('#lanes .tile').length]", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(["same page", 1]));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_appears_live_and_an_officer_acknowledges_it() {
    let console = Console::start(3_600_000);
    let b = Browser::start().await;
    b.log_in(&console, "oli", OLI_PW).await;

    console.sync(&batch_with_tailgating_alarm("lane-7"));
    let row = b
        .wait_js(
            "the alarm in the Alarms table",
            LIVE,
            "return document.getElementById('alarm-lane-7-1')?.textContent",
        )
        .await;
    assert!(row.as_str().unwrap().contains("lane-7alarm: TailgatingAcknowledge"), "{row}");
    b.wait_js(
        "the alarm badge on lane-7's tile",
        LIVE,
        "return document.querySelector('#lane-lane-7 .badge.alarm')?.textContent === '1 alarm(s)'",
    )
    .await;

    b.click(Locator::Css("#alarm-lane-7-1 button")).await;
    b.wait_js(
        "the alarm gone from the table",
        LIVE,
        "return !document.getElementById('alarm-lane-7-1')
             && document.getElementById('alarms').textContent === 'No open alarms.'",
    )
    .await;
    b.wait_js(
        "the acknowledgement in the page's audit log",
        LIVE,
        "return [...document.querySelectorAll('#audit tr')].some(r =>
             r.cells[2].textContent === 'oli (officer)' && r.cells[3].textContent === 'alarm.acknowledge'
             && r.cells[4].textContent === 'lane-7/1')",
    )
    .await;
    assert!(console.db().open_alarms().unwrap().is_empty());
    assert!(console.audited("oli", "alarm.acknowledge", "lane-7/1"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_opens_a_gate_after_confirming_and_an_officer_cannot() {
    let console = Console::start(3_600_000);
    let b = Browser::start().await;
    console.sync(&batch("lane-7", "idle"));
    b.log_in(&console, "sue", SUE_PW).await;
    let button = |label: &str| format!("//div[@id='lane-lane-7']//button[normalize-space()='{label}']");
    b.wait_js(
        "lane-7's gate buttons",
        LIVE,
        "return document.querySelectorAll('#lane-lane-7 button').length >= 3",
    )
    .await;

    // Cancelled at the confirmation: nothing is sent to the lane.
    b.click(Locator::XPath(&button("Lock"))).await;
    let asked = b.dialog_text().await;
    assert!(asked.starts_with("Lock the lane on lane-7?"), "{asked}");
    b.c.dismiss_alert().await.unwrap();
    assert_eq!(console.sync(&batch("lane-7", "idle"))["commands"], json!([]));

    // Confirmed: the lane's next sync reply carries the command, once.
    b.click(Locator::XPath(&button("Emergency open"))).await;
    let asked = b.dialog_text().await;
    assert!(asked.starts_with("EMERGENCY OPEN on lane-7?"), "{asked}");
    b.c.accept_alert().await.unwrap();
    let deadline = Instant::now() + LIVE;
    let commands = loop {
        let reply = console.sync(&batch("lane-7", "idle"));
        if reply["commands"] != json!([]) {
            break reply["commands"].clone();
        }
        assert!(Instant::now() < deadline, "no command reached the lane");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(commands.as_array().unwrap().len(), 1, "{commands}");
    assert_eq!(commands[0]["action"], json!({"set_gate_mode": "emergency_open"}), "{commands}");
    assert_eq!(commands[0]["requested_by"], "sue");
    assert_eq!(console.sync(&batch("lane-7", "idle"))["commands"], json!([]));
    assert!(console.audited("sue", "gate.mode", "lane-7"));

    // The officer: no gate buttons, and the API refuses the session's own
    // cookie and CSRF token.
    b.click(Locator::Id("logout")).await;
    b.wait_js("the log-in page", LIVE, "return location.pathname === '/login'").await;
    b.log_in(&console, "oli", OLI_PW).await;
    b.wait_js("lane-7's tile", LIVE, "return !!document.getElementById('lane-lane-7')").await;
    assert!(b.c.find_all(Locator::Css("#lane-lane-7 button")).await.unwrap().is_empty());
    let csrf = b.csrf().await;
    let open = json!({"mode": "emergency_open", "confirm": true});
    assert_eq!(b.fetch("POST", "/api/gates/lane-7/mode", Some(&csrf), open).await, 403);
    assert_eq!(
        b.fetch("POST", "/api/gates/lane-7/authorise", Some(&csrf), json!({"confirm": true})).await,
        403
    );
    assert_eq!(console.sync(&batch("lane-7", "idle"))["commands"], json!([]));
    assert!(console.audited("oli", "gate.mode.refused", "lane-7"));
    assert!(console.audited("oli", "gate.authorise.refused", "lane-7"));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_without_the_csrf_token_or_from_another_origin_are_refused() {
    let console = Console::start(3_600_000);
    let b = Browser::start().await;
    b.log_in(&console, "oli", OLI_PW).await;
    console.sync(&batch_with_tailgating_alarm("lane-7"));
    b.wait_js("the alarm", LIVE, "return !!document.getElementById('alarm-lane-7-1')").await;

    // fetch() from the console's own page, with its cookie.
    let ack = "/api/alarms/lane-7/1/ack";
    assert_eq!(b.fetch("POST", ack, None, json!({})).await, 403);
    assert_eq!(b.fetch("POST", ack, Some("forged-token"), json!({})).await, 403);
    assert_eq!(console.db().open_alarms().unwrap().len(), 1);

    // A page on another origin (same host, another port: same site, so the
    // SameSite cookie is sent) posts a form to the console by itself.
    let form = format!(
        r#"<!doctype html><title>not the console</title>
        <form id="f" method="post" action="{}"><input name="x" value="1"></form>
        <script>document.getElementById("f").submit();</script>"#,
        console.url(ack)
    );
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_addr = other.local_addr().unwrap();
    let app =
        axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(form) }));
    let server = tokio::spawn(async move { axum::serve(other, app).await });
    b.c.goto(&format!("http://{other_addr}/")).await.unwrap();
    let answer = b
        .wait_js(
            "the console's answer to the cross-origin form",
            LIVE,
            &format!(
                "return location.host === '{}' && location.pathname === '{ack}' && document.body.innerText",
                console.server.addr()
            ),
        )
        .await;
    assert!(answer.as_str().unwrap().contains("missing or wrong CSRF token"), "{answer}");
    server.abort();
    assert_eq!(console.db().open_alarms().unwrap().len(), 1);
    assert!(!console.audited("oli", "alarm.acknowledge", "lane-7/1"));

    // The same session, with the page's token: accepted.
    b.c.goto(&console.url("/")).await.unwrap();
    let csrf = b.csrf().await;
    assert_eq!(b.fetch("POST", ack, Some(&csrf), json!({})).await, 200);
    assert!(console.db().open_alarms().unwrap().is_empty());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_sends_the_page_back_to_the_login() {
    let ttl = Duration::from_secs(3);
    let console = Console::start(ttl.as_millis() as i64);
    let b = Browser::start().await;
    b.log_in(&console, "oli", OLI_PW).await;
    // The session began before the dashboard could load.
    let logged_in = Instant::now();
    // Live while the session lasts.
    console.sync(&batch("lane-7", "face"));
    b.wait_js(
        "lane-7's tile",
        LIVE,
        "return document.getElementById('lane-lane-7')?.dataset.step === 'face'",
    )
    .await;
    assert_eq!(
        b.fetch("GET", "/api/state", None, Value::Null).await,
        200,
        "too slow to test a {ttl:?} session"
    );

    tokio::time::sleep((ttl + Duration::from_millis(300)).saturating_sub(logged_in.elapsed())).await;
    // A lane's new transaction makes the page reload its state: 401, so the
    // page goes to the log-in.
    let mut passenger = batch("lane-7", "decision");
    passenger.transactions.push(green_transaction("lane-7-t1", 1));
    console.sync(&passenger);
    b.wait_js("the log-in page", LIVE, "return location.pathname === '/login'").await;
    assert_eq!(b.fetch("GET", "/api/state", None, Value::Null).await, 401);
    b.c.goto(&console.url("/")).await.unwrap();
    assert_eq!(b.path().await, "/login");
    b.close().await;
}
