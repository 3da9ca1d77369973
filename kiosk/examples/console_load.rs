//! Staff console load test: N simulated lanes x M passengers with V console
//! viewers, on loopback, in one process.
//!
//! Real: the console (`console::web::serve` over its SQLite), the sync
//! protocol, each lane's `Store` (its own SQLite file) and its `Uplink`
//! thread, the viewers' HTTP log-in, session cookie, server-sent events and
//! page refreshes. Simulated: the passengers. A driver thread per lane acts
//! them out at a steady pace through the same `Store` calls and
//! `FlowEvent`s as `lane::flow` (no cameras, chips or gate controller; the
//! kiosk's own processing is benchmarked elsewhere).
//!
//! At the end every lane's transactions and gate events must be in the
//! console's database exactly once, with the same outcome and gate result;
//! the process exits 1 when they are not. The event-to-page latency (lane
//! event to a viewer reading it from the event stream) is printed, not
//! asserted.
//!
//! ```text
//! cargo run -p kiosk --example console_load -- --lanes 20 --passengers 500 --viewers 20 --rate-ms 40
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use rusqlite::{Connection, OpenFlags, params};
use sha2::{Digest, Sha256};

use kiosk::console::auth::Role;
use kiosk::console::db::ConsoleDb;
use kiosk::console::web::{ConsoleState, ConsoleThread, now_ms};
use kiosk::decision::{Decision, ReasonCode};
use kiosk::lane::events::{FlowEvent, GateStatus, Step, StepOutcome, guidance};
use kiosk::store::{self, Store};
use kiosk::uplink::client::{Uplink, UplinkConfig};

const SECRET: &str = "console-load-test-lane-secret-0123456789";
/// The page refetches its state this long after an update (index.html,
/// `refreshSoon`).
const PAGE_REFRESH_DELAY: Duration = Duration::from_millis(300);
const LATENCY_TARGET_MS: i64 = 500;

#[derive(Parser, Debug, Clone)]
#[command(about = "Staff console load test: simulated lanes, real console, uplinks and viewers")]
struct Args {
    /// Simulated lanes, each with its own database and uplink.
    #[arg(long, default_value_t = 20)]
    lanes: usize,
    /// Passengers per lane.
    #[arg(long, default_value_t = 500)]
    passengers: usize,
    /// Console viewers (staff accounts with an open page each).
    #[arg(long, default_value_t = 20)]
    viewers: usize,
    /// One passenger per lane every this many milliseconds.
    #[arg(long, default_value_t = 40)]
    rate_ms: u64,
    /// How long the uplinks may take to send what is left once the lanes
    /// are done.
    #[arg(long, default_value_t = 60)]
    grace_secs: u64,
    /// Keep the databases in this folder (a fresh one) instead of a
    /// temporary folder that is removed at the end.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Where the lanes' databases go (default: with the console's).
    #[arg(long)]
    lane_dir: Option<PathBuf>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = Args::parse();
    match run(&args) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("console load test could not run: {e:#}");
            std::process::exit(2);
        }
    }
}

// ---- the console -----------------------------------------------------------

/// The console under test, on its own thread and runtime.
fn start_console(db: ConsoleDb) -> Result<ConsoleThread> {
    let state = ConsoleState::new(db, SECRET.into(), 8 * 3_600_000);
    ConsoleThread::start(state, "127.0.0.1:0".parse()?).context("the console did not start")
}

// ---- viewers ---------------------------------------------------------------

#[derive(Default)]
struct ViewerReport {
    messages: u64,
    lane_messages: u64,
    /// Transaction rows the lane messages announced.
    transaction_rows: u64,
    /// Event-to-page latencies in ms.
    latencies: Vec<i64>,
    /// Their two parts: lane event to the uplink's send (`live.at_ms`),
    /// and send to page.
    to_send: Vec<i64>,
    send_to_page: Vec<i64>,
    /// `resync`: the viewer fell behind the broadcast and reloads.
    resyncs: u64,
    refreshes: u64,
    refresh_ms: Vec<u64>,
    refresh_errors: u64,
    first_refresh_error: Option<String>,
}

struct Viewer {
    thread: Option<std::thread::JoinHandle<Result<ViewerReport>>>,
}

fn http_agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into()
}

/// Log in like the page's form does (same-origin `Origin`), then load the
/// page; the session cookie.
fn log_in(console: &ConsoleThread, user: &str, password: &str) -> Result<String> {
    let agent = http_agent(Some(Duration::from_secs(30)));
    let r = agent
        .post(&console.url("/login"))
        .header("Origin", &console.url(""))
        .send_form([("username", user), ("password", password)])?;
    if r.status() != 303 {
        bail!("log-in of {user} answered {}", r.status());
    }
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow!("log-in of {user} set no cookie"))?
        .to_string();
    let page = agent.get(&console.url("/")).header("Cookie", &cookie).call()?;
    if page.status() != 200 {
        bail!("the page answered {} for {user}", page.status());
    }
    Ok(cookie)
}

/// The page's pending refresh (`refreshSoon`): set by updates, taken by the
/// refresher 300 ms later.
#[derive(Default)]
struct RefreshWanted {
    wanted: Mutex<(bool, bool)>, // (wanted, stop)
    cv: Condvar,
}

impl RefreshWanted {
    fn want(&self) {
        let mut w = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        if !w.0 {
            w.0 = true;
            self.cv.notify_one();
        }
    }

    fn stop(&self) {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        self.cv.notify_one();
    }

    /// Wait for a wanted refresh; false when stopping.
    fn wait(&self) -> bool {
        let mut w = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        while !w.0 && !w.1 {
            w = self.cv.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        !w.1
    }

    fn take(&self) {
        self.wanted.lock().unwrap_or_else(|p| p.into_inner()).0 = false;
    }
}

/// What the page's `refresh()` fetches: the state, then statistics and the
/// audit log.
fn refresh(agent: &ureq::Agent, base: &str, cookie: &str) -> Result<(), String> {
    for path in ["/api/state", "/api/stats", "/api/audit"] {
        let mut r = agent
            .get(&format!("{base}{path}"))
            .header("Cookie", cookie)
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let body = r.body_mut().with_config().limit(64 << 20).read_to_vec();
        match (r.status().as_u16(), body) {
            (200, Ok(_)) => {}
            (status, Ok(b)) => return Err(format!("GET {path}: {status} {}", String::from_utf8_lossy(&b))),
            (_, Err(e)) => return Err(format!("GET {path}: {e}")),
        }
    }
    Ok(())
}

impl Viewer {
    /// Open the event stream (before returning, so that no update is
    /// missed) and read it on a thread until the console ends it.
    /// `closing`: the console is about to stop; no more refreshes.
    fn start(
        console: &ConsoleThread,
        cookie: String,
        ready: Arc<std::sync::Barrier>,
        closing: Arc<AtomicBool>,
    ) -> Result<Viewer> {
        let base = console.url("");
        let events = http_agent(None).get(&console.url("/api/events")).header("Cookie", &cookie).call()?;
        if events.status() != 200 {
            bail!("/api/events answered {}", events.status());
        }
        let thread = std::thread::Builder::new().name("viewer".into()).spawn(move || {
            let wanted = Arc::new(RefreshWanted::default());
            let refresher = {
                let wanted = wanted.clone();
                std::thread::Builder::new().name("viewer-refresh".into()).spawn(move || {
                    let agent = http_agent(Some(Duration::from_secs(30)));
                    let mut r = ViewerReport::default();
                    while wanted.wait() {
                        std::thread::sleep(PAGE_REFRESH_DELAY);
                        wanted.take();
                        if closing.load(Ordering::Relaxed) {
                            break;
                        }
                        let t = Instant::now();
                        if let Err(e) = refresh(&agent, &base, &cookie)
                            && !closing.load(Ordering::Relaxed)
                        {
                            r.refresh_errors += 1;
                            r.first_refresh_error.get_or_insert(e);
                        }
                        r.refreshes += 1;
                        r.refresh_ms.push(t.elapsed().as_millis() as u64);
                    }
                    r
                })?
            };
            // The page refreshes once when its stream opens.
            wanted.want();
            ready.wait();
            let mut report = ViewerReport::default();
            let mut lines = BufReader::new(events.into_body().into_reader()).lines();
            let result = (|| -> Result<()> {
                while let Some(line) = lines.next().transpose()? {
                    let Some(data) = line.strip_prefix("data:") else { continue };
                    let at = now_ms();
                    let u: serde_json::Value = serde_json::from_str(data.trim())?;
                    report.messages += 1;
                    match u["type"].as_str() {
                        Some("lane") => {
                            report.lane_messages += 1;
                            if let Some(e) = u["event_at_ms"].as_i64() {
                                report.latencies.push(at - e);
                                if let Some(sent) = u["lane"]["live"]["at_ms"].as_i64() {
                                    report.to_send.push(sent - e);
                                    report.send_to_page.push(at - sent);
                                }
                            }
                            let rows = u["transactions"].as_u64().unwrap_or(0);
                            report.transaction_rows += rows;
                            if rows > 0 {
                                wanted.want();
                            }
                        }
                        Some("resync") => {
                            report.resyncs += 1;
                            wanted.want();
                        }
                        _ => wanted.want(),
                    }
                }
                Ok(())
            })();
            wanted.stop();
            let r = refresher.join().map_err(|_| anyhow!("a viewer's refresher panicked"))?;
            report.refreshes = r.refreshes;
            report.refresh_ms = r.refresh_ms;
            report.refresh_errors = r.refresh_errors;
            report.first_refresh_error = r.first_refresh_error;
            result.map(|()| report)
        })?;
        Ok(Viewer { thread: Some(thread) })
    }

    fn join(mut self) -> Result<ViewerReport> {
        self.thread
            .take()
            .ok_or_else(|| anyhow!("viewer not started"))?
            .join()
            .map_err(|_| anyhow!("a viewer panicked"))?
    }
}

// ---- simulated lanes -------------------------------------------------------

/// xorshift64*: a repeatable passenger mix per lane.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Referral reasons with rough weights of a day at the lanes.
const REFERRAL_REASONS: &[(ReasonCode, u32)] = &[
    (ReasonCode::OverAllowance, 30),
    (ReasonCode::RandomSelection, 20),
    (ReasonCode::CommercialGoods, 8),
    (ReasonCode::CashOrGold, 6),
    (ReasonCode::ProhibitedArticles, 5),
    (ReasonCode::FaceMismatch, 8),
    (ReasonCode::FaceNotCaptured, 6),
    (ReasonCode::PresentationAttackSuspected, 2),
    (ReasonCode::DocumentExpired, 5),
    (ReasonCode::ChipUnreadable, 4),
    (ReasonCode::DeclarationInvalid, 4),
    (ReasonCode::WatchList, 2),
];

fn reason(rng: &mut Rng) -> ReasonCode {
    let total: u32 = REFERRAL_REASONS.iter().map(|(_, w)| w).sum();
    let mut x = (rng.next() % u64::from(total)) as u32;
    for (r, w) in REFERRAL_REASONS {
        if x < *w {
            return *r;
        }
        x -= w;
    }
    ReasonCode::RandomSelection
}

#[derive(Default, Debug, Clone, Copy)]
struct DriverReport {
    passengers: usize,
    green: usize,
    referred: usize,
    alarms: usize,
    /// Passengers that started later than the pace asked (the lane fell
    /// behind).
    late_starts: usize,
}

struct SimLane<'a> {
    name: &'a str,
    store: &'a Store,
    events: &'a Sender<FlowEvent>,
    rng: Rng,
    gap: Duration,
}

impl SimLane<'_> {
    fn emit(&self, e: FlowEvent) {
        // The uplink may have stopped; the lane does not care.
        let _ = self.events.send(e);
    }

    fn step(&self, tx: &str, step: Step, elapsed_ms: u64) {
        self.emit(FlowEvent::StepStarted { transaction: tx.into(), step });
        std::thread::sleep(self.gap);
        self.emit(FlowEvent::StepFinished {
            transaction: tx.into(),
            step,
            outcome: StepOutcome::Ok,
            elapsed_ms,
        });
    }

    /// One passenger, in the order of `Lane::process_kiosk` and
    /// `Lane::process_gate`.
    fn passenger(&mut self, n: usize, report: &mut DriverReport) -> Result<()> {
        let lane = self.name;
        let tx = format!("{lane}-{:x}-{}", now_ms(), n + 1);
        self.store.begin_transaction(&tx, lane)?;
        self.step(&tx, Step::Welcome, 0);
        let passport_ms = 900 + self.rng.below(600) as u64;
        self.step(&tx, Step::Passport, passport_ms);
        let declaration_ms = 300 + self.rng.below(400) as u64;
        self.step(&tx, Step::Declaration, declaration_ms);
        self.emit(FlowEvent::StepStarted { transaction: tx.clone(), step: Step::Face });
        if self.rng.unit() < 0.3 {
            // Any face hint (the last one is the gate's).
            let hint = guidance::ALL[self.rng.below(guidance::ALL.len() - 1)];
            self.emit(FlowEvent::Guidance { transaction: tx.clone(), step: Step::Face, hint });
        }
        std::thread::sleep(self.gap);
        self.emit(FlowEvent::StepFinished {
            transaction: tx.clone(),
            step: Step::Face,
            outcome: StepOutcome::Ok,
            elapsed_ms: 1200,
        });

        let decision = if self.rng.unit() < 0.85 {
            Decision::Green
        } else {
            let mut reasons = vec![reason(&mut self.rng)];
            if self.rng.unit() < 0.2 {
                let r = reason(&mut self.rng);
                if !reasons.contains(&r) {
                    reasons.push(r);
                }
            }
            Decision::Referral(reasons)
        };
        let face_score = 0.55 + 0.4 * self.rng.unit() as f32;
        let steps = serde_json::json!({
            "welcome": 0, "passport": passport_ms, "declaration": declaration_ms, "face": 1200,
            "qr_decode_ms": 20 + self.rng.below(40), "qr_frames": 1 + self.rng.below(3),
            "pad_score_permille": 100 + self.rng.below(200),
        });
        self.emit(FlowEvent::StepStarted { transaction: tx.clone(), step: Step::Result });
        let access = if self.rng.unit() < 0.9 { "PACE" } else { "BAC" };
        self.store.record_decision(&tx, &decision, Some(face_score), Some(access), &steps)?;
        self.emit(FlowEvent::Decided { transaction: tx.clone(), decision: decision.clone() });
        if !decision.is_green() {
            self.store.finish_transaction(&tx, "referred")?;
            report.referred += 1;
            self.emit(FlowEvent::Idle);
            return Ok(());
        }
        let digest: [u8; 32] = Sha256::digest(tx.as_bytes()).into();
        self.store.claim_declaration(&digest, &tx)?;
        report.green += 1;

        // At the gate: recognised, authorised, followed to the end.
        std::thread::sleep(self.gap);
        self.emit(FlowEvent::StepStarted { transaction: tx.clone(), step: Step::Gate });
        let passage = self.store.next_passage_id()?;
        self.store.set_passage(&tx, passage)?;
        self.store.record_gate_event(lane, Some(&tx), Some(passage), "authorised", None)?;
        self.emit(FlowEvent::Gate { transaction: tx.clone(), status: GateStatus::Authorised });
        std::thread::sleep(self.gap);
        self.store.record_gate_event(lane, Some(&tx), Some(passage), "entered", None)?;
        std::thread::sleep(self.gap);
        let (result, status) = if self.rng.unit() < 0.03 {
            self.store.record_gate_event(lane, Some(&tx), Some(passage), "alarm", Some("Tailgating"))?;
            self.emit(FlowEvent::Gate {
                transaction: tx.clone(),
                status: GateStatus::Alarm("Tailgating".into()),
            });
            report.alarms += 1;
            ("alarm", GateStatus::Alarm("Tailgating".into()))
        } else {
            self.store.record_gate_event(lane, Some(&tx), Some(passage), "passage_completed", None)?;
            ("passage_completed", GateStatus::PassageCompleted)
        };
        self.store.finish_transaction(&tx, result)?;
        self.emit(FlowEvent::Gate { transaction: tx, status });
        self.emit(FlowEvent::Idle);
        Ok(())
    }
}

fn drive_lane(
    name: &str,
    seed: u64,
    store: &Store,
    events: &Sender<FlowEvent>,
    args: &Args,
) -> Result<DriverReport> {
    let rate = Duration::from_millis(args.rate_ms);
    let mut lane = SimLane { name, store, events, rng: Rng(seed | 1), gap: rate / 12 };
    let mut report = DriverReport::default();
    lane.emit(FlowEvent::Idle);
    let start = Instant::now();
    for n in 0..args.passengers {
        let due = start + rate * n as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > rate {
            report.late_starts += 1;
        }
        lane.passenger(n, &mut report).with_context(|| format!("{name}: passenger {}", n + 1))?;
        report.passengers += 1;
    }
    Ok(report)
}

// ---- the exactly-once check ------------------------------------------------

/// What one row looks like on both sides.
type TxView = (Option<String>, Option<String>, Option<i64>, String);
type GateView = (String, Option<String>, Option<String>, Option<i64>);

fn open_read_only(path: &Path) -> Result<Connection> {
    let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    c.busy_timeout(Duration::from_secs(5))?;
    Ok(c)
}

#[derive(Default)]
struct Check {
    lane_transactions: usize,
    console_transactions: usize,
    lane_gate_events: usize,
    console_gate_events: usize,
    problems: Vec<String>,
}

fn check_lane(
    lane: &str,
    lane_db: &Path,
    console: &Connection,
    expected: usize,
    check: &mut Check,
) -> Result<()> {
    let conn = open_read_only(lane_db)?;
    let lane_tx: BTreeMap<String, TxView> = store::transactions_after(&conn, 0, i64::MAX)?
        .into_iter()
        .map(|t| {
            let reasons = serde_json::to_string(&t.reasons).unwrap_or_default();
            (t.id, (t.outcome, t.gate_result, t.passage_id, reasons))
        })
        .collect();
    let lane_ge: BTreeMap<i64, GateView> = store::gate_events_after(&conn, 0, i64::MAX)?
        .into_iter()
        .map(|e| (e.id, (e.event, e.detail, e.transaction, e.passage_id)))
        .collect();
    let mut problems = Vec::new();
    if lane_tx.len() != expected {
        problems.push(format!(
            "{lane}: the lane database has {} transactions, {expected} expected",
            lane_tx.len()
        ));
    }

    let mut stmt = console.prepare(
        "SELECT id, COUNT(*), MAX(outcome), MAX(gate_result), MAX(passage_id), MAX(reasons)
         FROM transactions WHERE lane = ?1 GROUP BY id",
    )?;
    let mut console_tx = BTreeMap::new();
    for row in stmt.query_map(params![lane], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
    })? {
        let (id, n, view): (String, i64, TxView) = row?;
        if n != 1 {
            problems.push(format!("{lane}/{id}: {n} rows in the console"));
        }
        console_tx.insert(id, view);
    }
    let mut stmt = console.prepare(
        "SELECT id, COUNT(*), MAX(event), MAX(detail), MAX(transaction_id), MAX(passage_id)
         FROM gate_events WHERE lane = ?1 GROUP BY id",
    )?;
    let mut console_ge = BTreeMap::new();
    for row in stmt.query_map(params![lane], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
    })? {
        let (id, n, view): (i64, i64, GateView) = row?;
        if n != 1 {
            problems.push(format!("{lane}: gate event {id}: {n} rows in the console"));
        }
        console_ge.insert(id, view);
    }

    for (id, l) in &lane_tx {
        match console_tx.get(id) {
            None => problems.push(format!("{lane}/{id}: missing from the console")),
            Some(c) if c != l => problems.push(format!("{lane}/{id}: lane {l:?}, console {c:?}")),
            Some(_) => {}
        }
    }
    let lane_ids: BTreeSet<&String> = lane_tx.keys().collect();
    for id in console_tx.keys().filter(|id| !lane_ids.contains(id)) {
        problems.push(format!("{lane}/{id}: in the console but not in the lane"));
    }
    for (id, l) in &lane_ge {
        match console_ge.get(id) {
            None => problems.push(format!("{lane}: gate event {id} missing from the console")),
            Some(c) if c != l => problems.push(format!("{lane}: gate event {id}: lane {l:?}, console {c:?}")),
            Some(_) => {}
        }
    }
    for id in console_ge.keys().filter(|id| !lane_ge.contains_key(id)) {
        problems.push(format!("{lane}: gate event {id} in the console but not in the lane"));
    }
    check.lane_transactions += lane_tx.len();
    check.console_transactions += console_tx.len();
    check.lane_gate_events += lane_ge.len();
    check.console_gate_events += console_ge.len();
    check.problems.extend(problems);
    Ok(())
}

// ---- the run ---------------------------------------------------------------

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn run(args: &Args) -> Result<bool> {
    if args.lanes == 0 || args.passengers == 0 {
        bail!("--lanes and --passengers must be at least 1");
    }
    let run_start = Instant::now();
    let temp = tempfile::Builder::new().prefix("console-load-").tempdir()?;
    let dir = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            if std::fs::read_dir(d)?.next().is_some() {
                bail!("{} is not empty", d.display());
            }
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let lane_dir_temp = tempfile::Builder::new()
        .prefix("console-load-lanes-")
        .tempdir_in(args.lane_dir.as_deref().unwrap_or(&dir))?;
    let lane_dir =
        if args.keep.is_some() { lane_dir_temp.keep() } else { lane_dir_temp.path().to_path_buf() };
    let console_db_path = dir.join("console.sqlite");

    // Staff accounts, made before serving (Argon2id is slow on purpose).
    let db = ConsoleDb::open(&console_db_path)?;
    let t = Instant::now();
    let accounts: Vec<(String, String)> = (0..args.viewers)
        .map(|i| (format!("viewer{:02}", i + 1), format!("viewer password {i:04}")))
        .collect();
    db.add_user("load-supervisor", "supervisor password 0000", Role::Supervisor, now_ms(), "cli")?;
    for (u, p) in &accounts {
        db.add_user(u, p, Role::Officer, now_ms(), "cli")?;
    }
    let accounts_ms = t.elapsed().as_millis();
    let console = start_console(db)?;

    // Viewers log in and open their event streams before the lanes start.
    let t = Instant::now();
    let ready = Arc::new(std::sync::Barrier::new(args.viewers + 1));
    let closing = Arc::new(AtomicBool::new(false));
    let mut viewers = Vec::new();
    for (u, p) in &accounts {
        let cookie = log_in(&console, u, p)?;
        viewers.push(Viewer::start(&console, cookie, ready.clone(), closing.clone())?);
    }
    ready.wait();
    let login_ms = t.elapsed().as_millis();

    // Lanes: a store, an uplink and a driver each.
    struct LaneParts {
        name: String,
        db: PathBuf,
        uplink: Option<Uplink>,
    }
    let mut lanes = Vec::new();
    let mut drivers = Vec::new();
    let start = Instant::now();
    for i in 0..args.lanes {
        let name = format!("lane-{:02}", i + 1);
        let db = lane_dir.join(format!("{name}.sqlite"));
        let store = Store::open(&db)?;
        let (events, rx) = std::sync::mpsc::channel();
        let uplink = Uplink::start(
            UplinkConfig {
                console_url: console.url(""),
                lane_secret: SECRET.into(),
                lane: name.clone(),
                database: db.clone(),
                gate_configured: true,
                commands: None,
            },
            rx,
        );
        let a = args.clone();
        let n = name.clone();
        drivers.push(
            std::thread::Builder::new()
                .name(format!("drive-{name}"))
                .spawn(move || drive_lane(&n, 0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1), &store, &events, &a))?,
        );
        lanes.push(LaneParts { name, db, uplink: Some(uplink) });
    }
    let mut totals = DriverReport::default();
    let mut driver_errors = Vec::new();
    for d in drivers {
        match d.join() {
            Ok(Ok(r)) => {
                totals.passengers += r.passengers;
                totals.green += r.green;
                totals.referred += r.referred;
                totals.alarms += r.alarms;
                totals.late_starts += r.late_starts;
            }
            Ok(Err(e)) => driver_errors.push(format!("{e:#}")),
            Err(_) => driver_errors.push("a lane driver panicked".into()),
        }
    }
    let drive = start.elapsed();

    // Each uplink sends what is left, then stops.
    let grace = Duration::from_secs(args.grace_secs);
    let stoppers: Vec<_> = lanes
        .iter_mut()
        .filter_map(|l| l.uplink.take())
        .map(|u| std::thread::spawn(move || u.stop(grace)))
        .collect();
    for s in stoppers {
        let _ = s.join();
    }
    let synced = start.elapsed();
    // The last updates reach the pages, then the console stops (ending the
    // streams) and the viewers report.
    std::thread::sleep(Duration::from_millis(500));
    closing.store(true, Ordering::Relaxed);
    // A refresh under way when the console stops is not the console's fault.
    std::thread::sleep(Duration::from_millis(500));
    if let Err(e) = console.stop() {
        eprintln!("console stopped with an error: {e}");
    }
    let mut reports = Vec::new();
    for v in viewers {
        reports.push(v.join()?);
    }

    // Exactly once, lane by lane.
    let console_db = open_read_only(&console_db_path)?;
    let mut check = Check::default();
    for l in &lanes {
        check_lane(&l.name, &l.db, &console_db, args.passengers, &mut check)?;
    }
    check.problems.extend(driver_errors);
    let exactly_once = check.problems.is_empty()
        && check.lane_transactions == args.lanes * args.passengers
        && check.console_transactions == check.lane_transactions
        && check.console_gate_events == check.lane_gate_events;

    let mut latencies: Vec<i64> = reports.iter().flat_map(|r| r.latencies.iter().copied()).collect();
    latencies.sort_unstable();
    let p95 = percentile(&latencies, 95.0);
    let messages: Vec<u64> = reports.iter().map(|r| r.messages).collect();
    let mut refresh_ms: Vec<i64> =
        reports.iter().flat_map(|r| r.refresh_ms.iter().map(|&m| m as i64)).collect();
    refresh_ms.sort_unstable();
    let rows = check.console_transactions + check.console_gate_events;
    let tx_versions = reports.iter().map(|r| r.transaction_rows).max().unwrap_or(0);
    let yes = |b: bool| if b { "yes" } else { "no" };

    println!("staff console load test (loopback, in one process)");
    println!("  lanes                      {}", args.lanes);
    println!("  passengers per lane        {} (one every {} ms)", args.passengers, args.rate_ms);
    println!("  viewers                    {}", args.viewers);
    println!(
        "  transactions               {} in the lanes, {} in the console ({} green, {} referred, {} tailgating alarms)",
        check.lane_transactions, check.console_transactions, totals.green, totals.referred, totals.alarms
    );
    println!(
        "  gate events                {} in the lanes, {} in the console",
        check.lane_gate_events, check.console_gate_events
    );
    println!(
        "  set-up                     {accounts_ms} ms for {} accounts, {login_ms} ms for the log-ins",
        args.viewers + 1
    );
    println!(
        "  wall time                  {:.1} s in all; lanes done after {:.1} s, everything synced after {:.1} s",
        run_start.elapsed().as_secs_f64(),
        drive.as_secs_f64(),
        synced.as_secs_f64()
    );
    println!(
        "  passengers                 {:.0}/s over all lanes ({} started late)",
        totals.passengers as f64 / drive.as_secs_f64(),
        totals.late_starts
    );
    println!(
        "  sync throughput            {:.0} rows/s ({rows} rows; {tx_versions} transaction row versions sent)",
        rows as f64 / synced.as_secs_f64()
    );
    println!("  latency samples            {}", latencies.len());
    println!(
        "  event-to-page latency      p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        percentile(&latencies, 50.0),
        p95,
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0)
    );
    let mut to_send: Vec<i64> = reports.iter().flat_map(|r| r.to_send.iter().copied()).collect();
    to_send.sort_unstable();
    let mut send_to_page: Vec<i64> = reports.iter().flat_map(|r| r.send_to_page.iter().copied()).collect();
    send_to_page.sort_unstable();
    println!(
        "    lane event to uplink send  p50 {} ms, p95 {} ms",
        percentile(&to_send, 50.0),
        percentile(&to_send, 95.0)
    );
    println!(
        "    uplink send to page        p50 {} ms, p95 {} ms",
        percentile(&send_to_page, 50.0),
        percentile(&send_to_page, 95.0)
    );
    println!(
        "  SSE messages per viewer    min {}, max {}",
        messages.iter().min().unwrap_or(&0),
        messages.iter().max().unwrap_or(&0)
    );
    println!(
        "  page refreshes             {} ({} failed), p50 {} ms, p95 {} ms",
        reports.iter().map(|r| r.refreshes).sum::<u64>(),
        reports.iter().map(|r| r.refresh_errors).sum::<u64>(),
        percentile(&refresh_ms, 50.0),
        percentile(&refresh_ms, 95.0)
    );
    println!(
        "  viewer lag                 {} resyncs (broadcast lagged) over {} viewers",
        reports.iter().map(|r| r.resyncs).sum::<u64>(),
        reports.len()
    );
    if let Some(e) = reports.iter().find_map(|r| r.first_refresh_error.as_deref()) {
        println!("  first failed refresh       {e}");
    }
    for p in check.problems.iter().take(20) {
        println!("  problem: {p}");
    }
    if check.problems.len() > 20 {
        println!("  ... and {} more problems", check.problems.len() - 20);
    }
    println!("  exactly once               {}", yes(exactly_once));
    println!(
        "  p95 < {LATENCY_TARGET_MS} ms               {}",
        yes(!latencies.is_empty() && p95 < LATENCY_TARGET_MS)
    );
    Ok(exactly_once)
}
