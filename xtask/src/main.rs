//! `cargo xtask demo`: the simulated airport on embedded defaults.
//!
//! Builds the binaries once (one profile, the same the tests use), then runs
//! the whole customs area in `data/demo/`:
//! - synthetic passengers per lane from declaration-app-sim: the share
//!   declaring goods, the problem cases (tampered, cloned or expired
//!   passports, someone else's QR code, a face mismatch, presentation
//!   attacks) and the tailgaters, arriving as a Poisson process;
//! - the staff console (`staff-console serve`) with one supervisor account,
//!   `demo-supervisor`, whose random password goes to
//!   `data/demo/console-password`;
//! - per lane a gate simulator on a pseudo-terminal, acting out that lane's
//!   tailgaters, and a kiosk lane syncing to the console (lane 1 in a UI
//!   window when a display exists and `--headless` is not given);
//! - a live summary from the console's API every 2 s; the demo supervisor
//!   puts a gate back to normal after an alarm (through the console, so it
//!   is audited);
//! - a final report from the lanes' reports and the console's view (every
//!   transaction synced exactly once, the audit chain verified), also
//!   written as `data/demo/airport-report.json`.
//!
//! Every child process is killed when the demo ends, fails or is stopped
//! with Ctrl-C.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

/// Set by Ctrl-C: the demo stops its children and exits.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Default arrival rate: with about 3 s per passenger at a lane (the debug
/// build, real crypto and face matching), a queue now and then.
const ARRIVALS_PER_LANE_MINUTE: f64 = 15.0;

/// The console account the demo makes (and logs in with for the summary).
const SUPERVISOR: &str = "demo-supervisor";

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the simulated airport: staff console, N lanes (kiosk + gate
    /// simulator each) and a passenger generator; live summary, final report.
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Number of lanes (each a kiosk and a gate simulator).
    #[arg(long, default_value_t = 2)]
    lanes: usize,
    /// Passengers in total, split across the lanes.
    #[arg(long, default_value_t = 16)]
    passengers: usize,
    /// Seed of the synthetic population (lane N uses seed + N).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Never open a window (else lane 1 shows the kiosk UI when a display exists).
    #[arg(long)]
    headless: bool,
    /// Passengers arriving a minute, over all lanes (Poisson); default 15 per
    /// lane. 0: no arrival times, each lane serves its passengers back to back.
    #[arg(long, value_name = "R")]
    arrivals_per_minute: Option<f64>,
    /// Share of passengers declaring goods over the allowance.
    #[arg(long, default_value_t = 0.15, value_name = "F")]
    goods_share: f64,
    /// Share of problem cases: expired passport, forged or cloned chip,
    /// someone else's QR code, face mismatch, photo or screen attack.
    #[arg(long, default_value_t = 0.25, value_name = "F")]
    problem_share: f64,
    /// Share of green passengers followed through the gate by a tailgater.
    #[arg(long, default_value_t = 0.1, value_name = "F")]
    tailgater_share: f64,
    /// Data folder (wiped at start).
    #[arg(long, default_value = "data/demo")]
    data: PathBuf,
    /// Pause between the steps of each passenger (ms); the UI lane has 2500
    /// by default, so a person can follow it.
    #[arg(long)]
    pace_ms: Option<u64>,
    /// Port of the staff console on 127.0.0.1 (a free one when it is taken).
    #[arg(long, default_value_t = 8480)]
    console_port: u16,
}

fn main() {
    if let Err(e) = run() {
        if INTERRUPTED.load(Ordering::SeqCst) {
            eprintln!("xtask: interrupted; every process of the demo was stopped");
            std::process::exit(130);
        }
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Task::Demo(args) => demo(args),
    }
}

/// A child process, killed (and reaped) when dropped: no process outlives the demo.
struct Proc {
    child: Child,
}

impl Proc {
    fn spawn(name: impl Into<String>, cmd: &mut Command) -> Result<Proc> {
        let name = name.into();
        let child = cmd.spawn().with_context(|| format!("cannot start {name}"))?;
        Ok(Proc { child })
    }

    /// Ask it to stop (SIGINT: the console shuts down cleanly), then kill it
    /// after `grace`.
    fn interrupt(&mut self, grace: Duration) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let _ =
            Command::new("kill").args(["-INT", &self.child.id().to_string()]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

/// `n` random characters (no look-alikes), from the kernel's generator.
fn random_text(n: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut urandom = File::open("/dev/urandom").context("cannot open /dev/urandom")?;
    let mut out = String::with_capacity(n);
    let mut byte = [0u8; 1];
    while out.len() < n {
        urandom.read_exact(&mut byte)?;
        // Rejection sampling: every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(byte[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Write a secret readable by the owner only (mode 0600).
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(f, "{text}")?;
    Ok(())
}

/// stdout and stderr of a child, both to one log file.
fn log_to(path: &Path) -> Result<(Stdio, Stdio)> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok((Stdio::from(f.try_clone()?), Stdio::from(f)))
}

/// The last `n` lines of a log, for an error message.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| format!("     | {l}\n")).collect()
}

/// Quiet children: warnings and errors only, unless the user set RUST_LOG.
fn quiet(cmd: &mut Command) -> &mut Command {
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "warn");
    }
    cmd
}

/// One passenger as the generator planned them.
struct Planned {
    expected: Option<String>,
    arrival_ms: Option<u64>,
    tailgated: bool,
}

/// One lane of the demo.
struct Lane {
    name: String,
    dir: PathBuf,
    count: usize,
    planned: Vec<Planned>,
    kiosk: Option<Proc>,
    /// Its gate simulator (kept running until the lane is done).
    gate: Option<Proc>,
    exit: Option<ExitStatus>,
}

impl Lane {
    fn passengers_dir(&self) -> PathBuf {
        self.dir.join("passengers")
    }
    fn log(&self) -> PathBuf {
        self.dir.join("kiosk.log")
    }
    fn report_path(&self) -> PathBuf {
        self.dir.join("report.json")
    }
}

/// Read the passenger manifests the generator wrote.
fn read_plan(dir: &Path) -> Result<Vec<Planned>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("passenger.json").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let path = d.join("passenger.json");
            let m: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            Ok(Planned {
                expected: m["expected"].as_str().map(str::to_string),
                arrival_ms: m["arrival_ms"].as_u64(),
                tailgated: m["gate_behaviour"] == "tailgated",
            })
        })
        .collect()
}

/// The lane's gate simulator scenario: one entry per authorisation, in
/// order (docs/gate-sim.md). Each passenger expected green at the kiosk
/// walks through; a tailgated one with someone 400 ms behind. The last
/// entry answers every later authorisation (a passage staff authorise by
/// hand, say), so it is a plain walk-through.
fn gate_scenario(lane: &Lane) -> Value {
    let walk = || json!({"behaviour": "walk_through", "speed_m_s": 1.3, "hesitation_ms": 300});
    let mut passengers: Vec<Value> = lane
        .planned
        .iter()
        .filter(|p| p.expected.as_deref() == Some("green"))
        .map(|p| {
            let mut e = walk();
            if p.tailgated {
                e["followers"] = json!([{"gap_ms": 400, "speed_m_s": 1.6}]);
            }
            e
        })
        .collect();
    passengers.push(walk());
    json!({
        "name": format!("demo-{}", lane.name),
        "description": "The demo lane's passengers at the gate, in order; tailgaters followed by someone.",
        "lane_length_m": 1.5,
        "passengers": passengers,
    })
}

/// The staff console over HTTP, logged in as the demo supervisor (the same
/// log-in form, cookie and CSRF token a browser uses).
struct Console {
    base: String,
    password: String,
    agent: ureq::Agent,
    cookie: Option<String>,
    csrf: Option<String>,
}

impl Console {
    fn new(base: String, password: String) -> Console {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        Console { base, password, agent, cookie: None, csrf: None }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn login(&mut self) -> Result<()> {
        let r = self
            .agent
            .post(&self.url("/login"))
            .send_form([("username", SUPERVISOR), ("password", self.password.as_str())])
            .context("console log-in")?;
        if r.status().as_u16() != 303 {
            bail!("console log-in refused ({})", r.status());
        }
        let set = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .context("console log-in: no session cookie")?;
        let cookie = set.split(';').next().unwrap_or_default().to_string();
        let mut page = self.agent.get(&self.url("/")).header("Cookie", &cookie).call()?;
        let html = page.body_mut().read_to_string()?;
        let csrf = html
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("console page without a CSRF token")?;
        self.csrf = Some(csrf.to_string());
        self.cookie = Some(cookie);
        Ok(())
    }

    fn get(&mut self, path: &str) -> Result<Value> {
        for _ in 0..2 {
            if self.cookie.is_none() {
                self.login()?;
            }
            let cookie = self.cookie.clone().unwrap_or_default();
            let mut r = self.agent.get(&self.url(path)).header("Cookie", &cookie).call()?;
            match r.status().as_u16() {
                200 => return Ok(r.body_mut().read_json()?),
                401 => self.cookie = None,
                s => bail!("GET {path}: HTTP {s}"),
            }
        }
        bail!("GET {path}: the console keeps refusing the session")
    }

    fn post(&mut self, path: &str, body: Value) -> Result<u16> {
        if self.cookie.is_none() {
            self.login()?;
        }
        let r = self
            .agent
            .post(&self.url(path))
            .header("Cookie", self.cookie.as_deref().unwrap_or_default())
            .header("X-CSRF-Token", self.csrf.as_deref().unwrap_or_default())
            .send_json(body)?;
        Ok(r.status().as_u16())
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn spread(mut v: Vec<u64>) -> Value {
    v.sort_unstable();
    json!({"n": v.len(), "p50": percentile(&v, 0.5), "p95": percentile(&v, 0.95), "max": v.last().copied().unwrap_or(0)})
}

/// One line of the time table.
fn spread_row(name: &str, s: &Value) -> String {
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    format!("     {name:<31} {:>4} {:>7} {:>7} {:>7}", n("n"), n("p50"), n("p95"), n("max"))
}

/// `green`, or the referral reasons, of a report row.
fn decided(row: &Value) -> String {
    match row["decision"]["outcome"].as_str() {
        Some("green") => "green".into(),
        Some(o) => {
            let reasons: Vec<&str> = row["decision"]["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!("{o}:{}", reasons.join("+"))
        }
        None => "none".into(),
    }
}

/// Did the kiosk decide what the generator planned (`green`, `referral:REASON`)?
fn as_planned(expected: &str, row: &Value) -> bool {
    match expected.split_once(':') {
        None => row["decision"]["outcome"] == expected,
        Some((outcome, reason)) => {
            row["decision"]["outcome"] == outcome
                && row["decision"]["reasons"].as_array().is_some_and(|r| r.iter().any(|x| x == reason))
        }
    }
}

fn count_line(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

/// One line of the live summary, from the console's `/api/state`.
fn summary_line(elapsed: Duration, lanes: &[Lane], state: &Value) -> String {
    let tiles = state["lanes"].as_array().cloned().unwrap_or_default();
    let mut parts = Vec::new();
    let (mut done, mut green) = (0, 0);
    for lane in lanes {
        let tile = tiles.iter().find(|t| t["lane"] == lane.name.as_str());
        let text = match (tile, lane.exit) {
            (_, Some(s)) if !s.success() => "FAILED".to_string(),
            (Some(t), exit) => {
                let n = t["passengers_last_hour"].as_u64().unwrap_or(0);
                done += n;
                green += t["green_last_hour"].as_u64().unwrap_or(0);
                let step =
                    if exit.is_some() { "done" } else { t["live"]["kiosk_step"].as_str().unwrap_or("?") };
                // `connected`, `down: <reason>` or `none`.
                let link = match t["live"]["gate_link"].as_str().unwrap_or("?") {
                    "connected" => "up",
                    other => other.split(':').next().unwrap_or(other),
                };
                format!("{step:<11} gate {link:<4} {n}/{}", lane.count)
            }
            (None, _) => "starting".to_string(),
        };
        parts.push(format!("{} {text}", lane.name));
    }
    let alarms = state["alarms"].as_array().map_or(0, Vec::len);
    format!(
        "[{:>4} s] {} | done {done} (green {green}, referred {}), open alarms {alarms}",
        elapsed.as_secs(),
        parts.join(" | "),
        done - green
    )
}

fn demo(mut args: DemoArgs) -> Result<()> {
    if args.lanes == 0 || args.lanes > 20 {
        bail!("--lanes must be between 1 and 20");
    }
    if args.passengers < args.lanes {
        bail!("--passengers {} is fewer than one per lane ({} lanes)", args.passengers, args.lanes);
    }
    let rate = args.arrivals_per_minute.unwrap_or(ARRIVALS_PER_LANE_MINUTE * args.lanes as f64);
    args.arrivals_per_minute = Some(rate);
    if !(rate >= 0.0 && rate.is_finite()) {
        bail!("--arrivals-per-minute must be 0 or more");
    }
    ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst)).context("cannot handle Ctrl-C")?;

    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!(
        "== building the kiosk, the staff console, the gate simulator and the declaration app simulator"
    );
    // The same target set as the test command (scripts/test.sh): dev-dependencies change the
    // features cargo unifies, and a bins-only build would rebuild Bevy and the crypto crates
    // beside the test build's copies.
    let status = Command::new(&cargo)
        .args(["build", "--workspace", "--bins", "--tests", "--examples"])
        .status()
        .context("cannot run cargo")?;
    check_interrupted()?;
    if !status.success() {
        bail!("the build failed");
    }
    let bin = root.join("target/debug");
    let bin = std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("debug")).unwrap_or(bin);
    let data = args.data.clone();
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("cannot clear {}", data.display()))?;
    }
    std::fs::create_dir_all(&data)?;
    let started = Instant::now();

    // Passengers: each lane its own folder and seed, in parallel.
    let mut lanes: Vec<Lane> = (1..=args.lanes)
        .map(|n| {
            let count = args.passengers / args.lanes + usize::from(n <= args.passengers % args.lanes);
            let name = format!("lane-{n}");
            Lane { dir: data.join(&name), name, count, planned: vec![], kiosk: None, gate: None, exit: None }
        })
        .collect();
    let per_lane_rate = rate / args.lanes as f64;
    println!(
        "== {} synthetic passengers over {} lanes: {:.0} % declaring goods, {:.0} % problem cases, {:.0} % tailgaters; {}",
        args.passengers,
        args.lanes,
        args.goods_share * 100.0,
        args.problem_share * 100.0,
        args.tailgater_share * 100.0,
        if rate > 0.0 { format!("{rate} arriving a minute") } else { "no arrival times".into() }
    );
    let mut generators = Vec::new();
    // The lanes' problem cases go on round the kinds where the previous
    // lane's stopped, so a small demo shows several different ones. The count
    // is `Shares::scenarios`' cumulative rounding.
    let mut first_problem = 0usize;
    for (i, lane) in lanes.iter().enumerate() {
        let upto = |share: f64| (share * lane.count as f64).round() as usize;
        let problems = upto(args.goods_share + args.problem_share).saturating_sub(upto(args.goods_share));
        std::fs::create_dir_all(&lane.dir)?;
        let mut cmd = Command::new(bin.join("declaration-app-sim"));
        cmd.args(["generate", "--count", &lane.count.to_string()])
            .args(["--seed", &(args.seed + i as u64 + 1).to_string()])
            .args(["--photos", "assets/photos"])
            .args(["--goods-share", &args.goods_share.to_string()])
            .args(["--problem-share", &args.problem_share.to_string()])
            .args(["--tailgater-share", &args.tailgater_share.to_string()])
            .args(["--first-problem", &first_problem.to_string()])
            .arg("--out")
            .arg(lane.passengers_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if rate > 0.0 {
            cmd.args(["--arrivals-per-minute", &per_lane_rate.to_string()]);
        }
        generators.push(Proc::spawn(format!("declaration-app-sim for {}", lane.name), quiet(&mut cmd))?);
        first_problem += problems;
    }
    for (lane, mut g) in lanes.iter_mut().zip(generators) {
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = g.child.stdout.take() {
            s.read_to_string(&mut out)?;
        }
        if let Some(mut s) = g.child.stderr.take() {
            s.read_to_string(&mut err)?;
        }
        let status = g.child.wait()?;
        check_interrupted()?;
        if !status.success() {
            bail!(
                "generating the passengers of {} failed (are the photos there? run scripts/setup.sh):\n{err}",
                lane.name
            );
        }
        lane.planned = read_plan(&lane.passengers_dir())?;
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for p in &lane.planned {
            let k = match (p.expected.as_deref(), p.tailgated) {
                (_, true) => "tailgater".to_string(),
                (Some(e), _) => e.trim_start_matches("referral:").to_string(),
                (None, _) => "?".to_string(),
            };
            *kinds.entry(k).or_default() += 1;
        }
        let last = lane.planned.iter().filter_map(|p| p.arrival_ms).max();
        println!(
            "   {}: {} passengers ({}){}",
            lane.name,
            lane.planned.len(),
            count_line(&kinds),
            last.map(|ms| format!(", arriving over {:.0} s", ms as f64 / 1000.0)).unwrap_or_default()
        );
        let scenario = lane.dir.join("gate-scenario.json");
        std::fs::write(&scenario, serde_json::to_string_pretty(&gate_scenario(lane))?)?;
        std::fs::write(lane.dir.join("kiosk.toml"), format!("lane = \"{}\"\n", lane.name))?;
    }
    println!(
        "   (made in {:.0} s: real photos, passport PKIs and chip images, signed QR codes)",
        started.elapsed().as_secs_f64()
    );

    // The staff console: one supervisor account with a random password.
    let console_db = data.join("console.sqlite");
    let password = random_text(20)?;
    let password_file = data.join("console-password");
    write_secret(&password_file, &password)?;
    let secret_file = data.join("lane.secret");
    write_secret(&secret_file, &random_text(40)?)?;
    let mut add = quiet(Command::new(bin.join("staff-console")).arg("--db").arg(&console_db))
        .args(["user", "add", SUPERVISOR, "--role", "supervisor"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run staff-console")?;
    writeln!(add.stdin.take().context("staff-console stdin")?, "{password}")?;
    let out = add.wait_with_output()?;
    if !out.status.success() {
        bail!("cannot create the console account: {}", String::from_utf8_lossy(&out.stderr));
    }
    let port = if std::net::TcpListener::bind(("127.0.0.1", args.console_port)).is_ok() {
        args.console_port
    } else {
        println!("   port {} is taken: the console takes a free one", args.console_port);
        0
    };
    let (_, err) = log_to(&data.join("console.log"))?;
    let mut console_proc = Proc::spawn(
        "staff-console",
        quiet(Command::new(bin.join("staff-console")).arg("--db").arg(&console_db))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--lane-secret-file"])
            .arg(&secret_file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err),
    )?;
    let mut console_out = BufReader::new(console_proc.child.stdout.take().context("console stdout")?);
    let mut line = String::new();
    console_out.read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("staff console listening on ").map(str::to_string) else {
        bail!("the staff console did not start:\n{}", tail(&data.join("console.log"), 10));
    };
    std::thread::spawn(move || {
        // Keep the pipe drained; nothing else comes on stdout.
        let _ = std::io::copy(&mut console_out, &mut std::io::sink());
    });
    println!("== staff console: {url}");
    println!(
        "   log in as {SUPERVISOR}, password {password}   (also in {}, mode 0600)",
        password_file.display()
    );

    // Lanes: a gate simulator on a pty and a kiosk each.
    let with_window = !args.headless && std::env::var_os("DISPLAY").is_some();
    for (i, lane) in lanes.iter_mut().enumerate() {
        let gate_log = lane.dir.join("gate-sim.log");
        let mut out =
            File::create(&gate_log).with_context(|| format!("cannot create {}", gate_log.display()))?;
        let err = Stdio::from(out.try_clone()?);
        let mut gate = Proc::spawn(
            format!("gate-sim for {}", lane.name),
            quiet(&mut Command::new(bin.join("gate-sim")))
                .arg("--pty")
                .arg("--scenario")
                .arg(lane.dir.join("gate-scenario.json"))
                .args(["--gate-id", &(i + 1).to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(err),
        )?;
        let mut lines = BufReader::new(gate.child.stdout.take().context("gate-sim stdout")?).lines();
        let device = loop {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(d) = l.strip_prefix("GATE_DEVICE=") {
                        break d.to_string();
                    }
                }
                _ => bail!("gate-sim of {} ended before announcing its device", lane.name),
            }
        };
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let _ = writeln!(out, "{l}");
            }
        });
        lane.gate = Some(gate);

        let ui = with_window && i == 0;
        let (out, err) = log_to(&lane.log())?;
        let mut kiosk = Command::new(bin.join("kiosk"));
        kiosk
            .arg("--config")
            .arg(lane.dir.join("kiosk.toml"))
            .arg("lane")
            .arg("--passengers")
            .arg(lane.passengers_dir())
            .args(["--gate", &device])
            .arg("--database")
            .arg(lane.dir.join("kiosk.sqlite"))
            .arg("--report")
            .arg(lane.report_path())
            .args(["--console", &url, "--console-secret-file"])
            .arg(&secret_file)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if !ui {
            kiosk.arg("--headless");
        }
        if let Some(ms) = args.pace_ms.or(ui.then_some(2500)) {
            kiosk.args(["--pace-ms", &ms.to_string()]);
        }
        lane.kiosk = Some(Proc::spawn(format!("kiosk {}", lane.name), quiet(&mut kiosk))?);
        println!(
            "   {}: gate simulator on {device}, kiosk {} (log {})",
            lane.name,
            if ui { "in a UI window" } else { "headless" },
            lane.log().display()
        );
    }

    // Live summary; the demo supervisor resets a gate after an alarm.
    println!("== live summary from the console (every 2 s; per lane: step, gate link, passengers decided)");
    let mut console = Console::new(url.clone(), password.clone());
    let mut handled: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut supervisor_actions = Vec::new();
    let lanes_started = Instant::now();
    let mut last_print: Option<Instant> = None;
    loop {
        check_interrupted()?;
        for lane in lanes.iter_mut() {
            if lane.exit.is_none()
                && let Some(k) = lane.kiosk.as_mut()
                && let Some(status) = k.child.try_wait()?
            {
                lane.exit = Some(status);
                if !status.success() {
                    println!("   {} FAILED ({status}); its log ends:\n{}", lane.name, tail(&lane.log(), 15));
                }
            }
        }
        let all_done = lanes.iter().all(|l| l.exit.is_some());
        let state = console.get("/api/state");
        if let Ok(state) = &state {
            for a in state["alarms"].as_array().into_iter().flatten() {
                let (Some(lane), Some(id)) = (a["lane"].as_str(), a["id"].as_i64()) else { continue };
                let kind = a["detail"].as_str().unwrap_or("");
                if a["event"] != "alarm" || kind == "Emergency" || !handled.insert((lane.to_string(), id)) {
                    continue;
                }
                // What an officer does after looking at the lane: the gate back to normal.
                let status = console
                    .post(&format!("/api/gates/{lane}/mode"), json!({"mode": "normal", "confirm": true}));
                let ok = matches!(status, Ok(200));
                println!(
                    "   supervisor: {lane} {kind} alarm -> gate set back to normal{}",
                    if ok { " (audited)".to_string() } else { format!(" FAILED: {status:?}") }
                );
                supervisor_actions.push(
                    json!({"lane": lane, "alarm_id": id, "alarm": kind, "gate_mode": "normal", "ok": ok}),
                );
            }
        }
        if all_done || last_print.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) {
            last_print = Some(Instant::now());
            match &state {
                Ok(s) => println!("{}", summary_line(lanes_started.elapsed(), &lanes, s)),
                Err(e) => {
                    println!("[{:>4} s] console not reachable: {e:#}", lanes_started.elapsed().as_secs())
                }
            }
        }
        if all_done {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let lanes_elapsed = lanes_started.elapsed();
    for lane in lanes.iter_mut() {
        drop(lane.gate.take());
    }

    // The lanes' own reports.
    let mut rows: Vec<(String, Value)> = Vec::new();
    for lane in &lanes {
        let report: Vec<Value> = std::fs::read_to_string(lane.report_path())
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        rows.extend(report.into_iter().map(|r| (lane.name.clone(), r)));
    }
    let lane_total = rows.len() as u64;

    // The console's view, once the lanes' last syncs are in.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (stats, state) = loop {
        let stats = console.get("/api/stats");
        let state = console.get("/api/state");
        let synced = stats.as_ref().ok().and_then(|s| s["transactions"].as_u64()).unwrap_or(0);
        if synced >= lane_total || Instant::now() > deadline {
            break (stats.unwrap_or(Value::Null), state.unwrap_or(Value::Null));
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    console_proc.interrupt(Duration::from_secs(5));
    let verify = quiet(Command::new(bin.join("staff-console")).arg("--db").arg(&console_db))
        .args(["audit", "verify"])
        .output()
        .context("cannot run staff-console audit verify")?;
    let verify_text = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout).trim(),
        String::from_utf8_lossy(&verify.stderr).trim()
    );

    let report = airport_report(AirportInput {
        args: &args,
        lanes: &lanes,
        rows: &rows,
        stats: &stats,
        state: &state,
        supervisor_actions,
        audit: (verify.status.success(), verify_text),
        url: &url,
        elapsed: started.elapsed(),
        lanes_elapsed,
    });
    let path = data.join("airport-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("   report: {}", path.display());
    if report["ok"] != true {
        bail!("the demo did not run cleanly: {}", report["problems"]);
    }
    Ok(())
}

struct AirportInput<'a> {
    args: &'a DemoArgs,
    lanes: &'a [Lane],
    rows: &'a [(String, Value)],
    stats: &'a Value,
    state: &'a Value,
    supervisor_actions: Vec<Value>,
    audit: (bool, String),
    url: &'a str,
    elapsed: Duration,
    lanes_elapsed: Duration,
}

/// Print the final report and return it as JSON.
fn airport_report(input: AirportInput<'_>) -> Value {
    let AirportInput {
        args,
        lanes,
        rows,
        stats,
        state,
        supervisor_actions,
        audit,
        url,
        elapsed,
        lanes_elapsed,
    } = input;
    let mut problems: Vec<String> = Vec::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut gate: BTreeMap<String, u64> = BTreeMap::new();
    let mut alarms_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut steps: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut queue = Vec::new();
    let mut mismatched = Vec::new();
    let mut per_lane = Vec::new();
    let tiles = state["lanes"].as_array().cloned().unwrap_or_default();

    println!();
    println!(
        "== airport report: {} passengers, {} lanes, {:.0} s with the lanes open ({:.0} s in all)",
        rows.len(),
        lanes.len(),
        lanes_elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "   {:<8} {:>10} {:>6} {:>9} {:>12} {:>11} {:>9}",
        "lane", "passengers", "green", "referred", "gate passed", "gate alarm", "console"
    );
    let (mut total_green, mut total_passed, mut total_alarm, mut total_console) = (0u64, 0u64, 0u64, 0u64);
    for lane in lanes {
        let mine: Vec<&Value> = rows.iter().filter(|(l, _)| *l == lane.name).map(|(_, r)| r).collect();
        let green = mine.iter().filter(|r| r["decision"]["outcome"] == "green").count() as u64;
        let passed = mine.iter().filter(|r| r["gate"]["result"] == "passed").count() as u64;
        let alarm = mine.iter().filter(|r| r["gate"]["result"] == "alarm").count() as u64;
        let console_n = tiles
            .iter()
            .find(|t| t["lane"] == lane.name.as_str())
            .and_then(|t| t["passengers_last_hour"].as_u64())
            .unwrap_or(0);
        let exit = match lane.exit {
            Some(s) if s.success() => "ok".to_string(),
            Some(s) => format!("failed ({s})"),
            None => "not finished".to_string(),
        };
        if exit != "ok" {
            problems.push(format!("{} {exit}", lane.name));
        }
        if mine.len() != lane.count {
            problems.push(format!(
                "{}: {} passengers in its report, {} planned",
                lane.name,
                mine.len(),
                lane.count
            ));
        }
        if console_n != mine.len() as u64 {
            problems.push(format!(
                "{}: {console_n} transactions on the console, {} in the lane",
                lane.name,
                mine.len()
            ));
        }
        println!(
            "   {:<8} {:>10} {:>6} {:>9} {:>12} {:>11} {:>9}",
            lane.name,
            mine.len(),
            green,
            mine.len() as u64 - green,
            passed,
            alarm,
            console_n
        );
        total_green += green;
        total_passed += passed;
        total_alarm += alarm;
        total_console += console_n;
        per_lane.push(json!({
            "lane": lane.name,
            "exit": exit,
            "passengers": mine.len(),
            "green": green,
            "referred": mine.len() as u64 - green,
            "gate_passed": passed,
            "gate_alarms": alarm,
            "console_transactions": console_n,
            "report": lane.report_path(),
            "database": lane.dir.join("kiosk.sqlite"),
        }));
    }
    let total = rows.len() as u64;
    println!(
        "   {:<8} {:>10} {:>6} {:>9} {:>12} {:>11} {:>9}",
        "total",
        total,
        total_green,
        total - total_green,
        total_passed,
        total_alarm,
        total_console
    );

    for (lane, r) in rows {
        for reason in r["decision"]["reasons"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            *reasons.entry(reason.to_string()).or_default() += 1;
        }
        if let Some(result) = r["gate"]["result"].as_str() {
            *gate.entry(result.to_string()).or_default() += 1;
            if let Some(kind) = r["gate"]["alarm"].as_str() {
                *alarms_by_kind.entry(kind.to_string()).or_default() += 1;
            }
        }
        if let Some(m) = r["step_ms"].as_object() {
            for (k, v) in m {
                // Times only (not qr_frames or pad_score_permille).
                let is_time = matches!(k.as_str(), "passport" | "declaration" | "face") || k.ends_with("_ms");
                if let (true, Some(v)) = (is_time, v.as_u64()) {
                    steps.entry(k.clone()).or_default().push(v);
                }
            }
        }
        if let Some(v) = r["kiosk_ms"].as_u64() {
            steps.entry("kiosk (whole)".into()).or_default().push(v);
        }
        if let Some(v) = r["gate_ms"].as_u64() {
            steps.entry("gate (to the passage's end)".into()).or_default().push(v);
        }
        if let Some(v) = r["queue_ms"].as_u64() {
            queue.push(v);
        }
        if let Some(expected) = r["expected"].as_str()
            && !as_planned(expected, r)
        {
            mismatched.push(json!({
                "lane": lane, "passenger": r["passenger"], "expected": expected, "decided": decided(r),
            }));
        }
    }
    println!("   referrals by reason: {}", count_line(&reasons));
    let passed = gate.get("passed").copied().unwrap_or(0);
    let other: BTreeMap<String, u64> = gate
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "passed" | "alarm"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    println!(
        "   gate: {passed} passed, alarms: {}{}",
        count_line(&alarms_by_kind),
        if other.is_empty() { String::new() } else { format!("; other: {}", count_line(&other)) }
    );
    println!(
        "   kiosk decisions as the generator planned: {} of {}",
        total as usize - mismatched.len(),
        total
    );
    for m in &mismatched {
        println!(
            "     {} {}: planned {}, decided {}",
            m["lane"].as_str().unwrap_or(""),
            m["passenger"].as_str().unwrap_or(""),
            m["expected"].as_str().unwrap_or(""),
            m["decided"].as_str().unwrap_or("")
        );
    }
    println!("   time per step (ms)                 n     p50     p95     max");
    let order =
        ["passport", "declaration", "qr_decode_ms", "face", "kiosk (whole)", "gate (to the passage's end)"];
    let mut names: Vec<&String> = steps.keys().collect();
    names.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(order.len()));
    let mut step_json = serde_json::Map::new();
    for name in names {
        let s = spread(steps[name].clone());
        println!("{}", spread_row(name, &s));
        step_json.insert(name.clone(), s);
    }
    let queue_json = if queue.is_empty() {
        Value::Null
    } else {
        let s = spread(queue);
        println!("{}", spread_row("queue (waited after arrival)", &s));
        s
    };

    let alarms = state["alarms"].as_array().cloned().unwrap_or_default();
    println!("   alarms open on the console: {}", alarms.len());
    for a in &alarms {
        println!(
            "     {} #{} {} {}{}",
            a["lane"].as_str().unwrap_or(""),
            a["id"],
            a["event"].as_str().unwrap_or(""),
            a["detail"].as_str().unwrap_or(""),
            a["transaction"].as_str().map(|t| format!(" (transaction {t})")).unwrap_or_default()
        );
    }
    if !supervisor_actions.is_empty() {
        println!(
            "   demo supervisor: {} gate(s) set back to normal after an alarm",
            supervisor_actions.len()
        );
    }

    let synced = stats["transactions"].as_u64();
    let exactly_once = synced == Some(total) && total_console == total;
    match synced {
        Some(n) => println!(
            "   console: {n} transactions synced, {total} in the lanes: {}",
            if exactly_once { "each exactly once" } else { "MISMATCH" }
        ),
        None => println!("   console: no statistics (the console was not reachable)"),
    }
    if !exactly_once {
        problems.push(format!(
            "console has {synced:?} transactions ({total_console} by lane), the lanes {total}"
        ));
    }
    let console_reasons: BTreeMap<String, u64> = stats["referral_reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_u64()?)))
        .collect();
    if !console_reasons.is_empty() && console_reasons != reasons {
        problems.push(format!("referral reasons differ: console {console_reasons:?}, lanes {reasons:?}"));
    }
    let (audit_ok, audit_text) = audit;
    println!("   staff-console audit verify: {audit_text}");
    if !audit_ok {
        problems.push(format!("audit verify failed: {audit_text}"));
    }
    for p in &problems {
        println!("   PROBLEM: {p}");
    }

    json!({
        "ok": problems.is_empty(),
        "problems": problems,
        "settings": {
            "lanes": args.lanes,
            "passengers": args.passengers,
            "seed": args.seed,
            "arrivals_per_minute": args.arrivals_per_minute,
            "goods_share": args.goods_share,
            "problem_share": args.problem_share,
            "tailgater_share": args.tailgater_share,
        },
        "elapsed_s": elapsed.as_secs_f64(),
        "lanes_open_s": lanes_elapsed.as_secs_f64(),
        "lanes": per_lane,
        "total": {"passengers": total, "green": total_green, "referred": total - total_green},
        "referrals_by_reason": reasons,
        "gate": {"results": gate, "alarms_by_kind": alarms_by_kind},
        "as_planned": {"matched": total as usize - mismatched.len(), "mismatched": mismatched},
        "step_ms": step_json,
        "queue_ms": queue_json,
        "alarms_open": alarms,
        "supervisor_actions": supervisor_actions,
        "console": {
            "url": url,
            "transactions": synced,
            "by_lane": total_console,
            "referral_reasons": console_reasons,
            "exactly_once": exactly_once,
        },
        "audit": {"ok": audit_ok, "output": audit_text},
    })
}
