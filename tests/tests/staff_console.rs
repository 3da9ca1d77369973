//! The staff console through the real binaries: an account made on the
//! command line (no default password), `staff-console serve`, a headless
//! kiosk lane syncing to it over HTTP, every lane transaction in the
//! console exactly once, and the audit chain verified (and caught when
//! tampered with) by `staff-console audit verify`; and the faults: the
//! console and then the lane killed (SIGKILL) mid-run and started again,
//! with nothing lost between the lane's SQLite and the console's.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::{GateSim, assets, bin, generate};

fn add_user(db: &Path, name: &str, role: &str, password: &str) -> (bool, String) {
    let mut child = Command::new(bin("staff-console"))
        .args(["--db"])
        .arg(db)
        .args(["user", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `staff-console serve` on a free port; (process, base URL).
fn serve(db: &Path, secret: &Path) -> (Served, String) {
    serve_on(db, secret, "127.0.0.1:0")
}

/// Start `staff-console serve` on `listen`; (process, base URL).
fn serve_on(db: &Path, secret: &Path, listen: &str) -> (Served, String) {
    let mut child = Command::new(bin("staff-console"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", listen, "--lane-secret-file"])
        .arg(secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (Served(child), url)
}

fn ids(db: &Path, sql: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c.prepare(sql).unwrap();
    s.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_lane_syncs_every_transaction_to_the_console_and_the_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let console_db = dir.path().join("console.sqlite");
    let secret = dir.path().join("lane.secret");
    std::fs::write(&secret, "a-long-random-lane-secret-for-the-test\n").unwrap();

    let (ok, out) = add_user(&console_db, "oli", "officer", "officer password 22");
    assert!(!ok && out.contains("first account must be a supervisor"), "{out}");
    let (ok, out) = add_user(&console_db, "sue", "supervisor", "short");
    assert!(!ok && out.contains("too short"), "{out}");
    let (ok, out) = add_user(&console_db, "sue", "supervisor", "supervisor password 1");
    assert!(ok, "{out}");

    let (console, url) = serve(&console_db, &secret);
    let passengers = dir.path().join("passengers");
    generate(&passengers, 4, "mix", 31);
    let gate = GateSim::start(&[]);
    let lane_db = dir.path().join("kiosk.sqlite");
    let out = Command::new(bin("kiosk"))
        .args(["lane", "--headless", "--passengers"])
        .arg(&passengers)
        .arg("--database")
        .arg(&lane_db)
        .arg("--assets")
        .arg(assets())
        .args(["--gate", &gate.device, "--console", &url, "--console-secret-file"])
        .arg(&secret)
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");

    let lane_ids = ids(&lane_db, "SELECT id FROM transactions ORDER BY id");
    assert_eq!(lane_ids.len(), 4, "{log}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let console_ids = loop {
        let got = ids(&console_db, "SELECT id FROM transactions ORDER BY id");
        if got.len() >= lane_ids.len() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(console_ids, lane_ids, "every transaction exactly once\n{log}");
    let outcomes = ids(&console_db, "SELECT outcome FROM transactions WHERE outcome IS NOT NULL ORDER BY id");
    assert_eq!(outcomes.len(), 4);
    let lanes = ids(&console_db, "SELECT lane FROM lanes");
    assert_eq!(lanes, ["lane-1"]);
    drop(console);

    let verify = |db: &Path| {
        let out = Command::new(bin("staff-console"))
            .arg("--db")
            .arg(db)
            .args(["audit", "verify"])
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (ok, out) = verify(&console_db);
    assert!(ok && out.contains("audit chain verified: 1 entries"), "{out}");
    rusqlite::Connection::open(&console_db)
        .unwrap()
        .execute("UPDATE audit SET detail = 'officer' WHERE seq = 1", [])
        .unwrap();
    let (ok, out) = verify(&console_db);
    assert!(!ok && out.contains("broken at entry 1"), "{out}");
}

/// (id, outcome, gate_result) of every transaction, by id.
fn transactions(db: &Path) -> Vec<(String, Option<String>, Option<String>)> {
    let Ok(c) = rusqlite::Connection::open(db) else { return Vec::new() };
    let Ok(mut s) = c.prepare("SELECT id, outcome, gate_result FROM transactions ORDER BY id") else {
        return Vec::new();
    };
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).and_then(|m| m.collect()).unwrap_or_default()
}

fn lane_command(
    passengers: &Path,
    lane_db: &Path,
    gate: &str,
    url: &str,
    secret: &Path,
    log: &Path,
) -> Command {
    let mut cmd = Command::new(bin("kiosk"));
    cmd.args(["lane", "--headless", "--pace-ms", "400", "--passengers"])
        .arg(passengers)
        .arg("--database")
        .arg(lane_db)
        .arg("--assets")
        .arg(assets())
        .args(["--gate", gate, "--console", url, "--console-secret-file"])
        .arg(secret)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    cmd
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_console_and_the_lane_killed_mid_run_lose_nothing_and_the_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let console_db = dir.path().join("console.sqlite");
    let secret = dir.path().join("lane.secret");
    std::fs::write(&secret, "a-long-random-lane-secret-for-the-test\n").unwrap();
    assert!(add_user(&console_db, "sue", "supervisor", "supervisor password 1").0);
    let (console, url) = serve(&console_db, &secret);
    let listen = url.trim_start_matches("http://").to_string();

    let first = dir.path().join("first");
    generate(&first, 6, "mix", 61);
    let second = dir.path().join("second");
    generate(&second, 3, "green", 62);
    let gate = GateSim::start(&[]);
    let lane_db = dir.path().join("kiosk.sqlite");
    let lane_log = dir.path().join("lane-1.log");
    let mut lane =
        Served(lane_command(&first, &lane_db, &gate.device, &url, &secret, &lane_log).spawn().unwrap());

    // 1. The console dies (SIGKILL) once it has some of the lane's records;
    //    the lane goes on serving and keeps its records.
    wait_until("the console has a transaction", Duration::from_secs(120), || {
        !transactions(&console_db).is_empty()
    });
    drop(console);
    let synced_before_kill = transactions(&console_db).len();
    wait_until("the lane serves on without the console", Duration::from_secs(120), || {
        transactions(&lane_db).len() > synced_before_kill
    });
    assert!(lane.0.try_wait().unwrap().is_none(), "the lane stopped when the console died");
    // Staff work goes on the record while the console is down.
    assert!(add_user(&console_db, "oli", "officer", "officer password 22").0);
    let (console, _) = serve_on(&console_db, &secret, &listen);

    // 2. The lane dies (SIGKILL) in the middle of a passenger.
    wait_until("a passenger is open at the lane", Duration::from_secs(120), || {
        let t = transactions(&lane_db);
        t.len() >= 3 && t.iter().any(|t| t.2.is_none())
    });
    lane.0.kill().unwrap();
    lane.0.wait().unwrap();
    let at_kill = transactions(&lane_db);
    let open: Vec<String> = at_kill.iter().filter(|t| t.2.is_none()).map(|t| t.0.clone()).collect();
    assert!(!open.is_empty(), "{at_kill:?}");

    // 3. The lane comes back on the same database with the next passengers
    //    and runs to the end; the console catches up without gaps.
    let out = lane_command(&second, &lane_db, &gate.device, &url, &secret, &dir.path().join("lane-2.log"))
        .status()
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("lane-2.log")).unwrap_or_default();
    assert!(out.success(), "{log}");
    let lane_rows = transactions(&lane_db);
    assert_eq!(lane_rows.len(), at_kill.len() + 3, "{lane_rows:?}");
    for id in &open {
        let t = lane_rows.iter().find(|t| &t.0 == id).unwrap();
        assert_eq!(t.2.as_deref(), Some("interrupted"), "{t:?}");
    }
    for t in at_kill.iter().filter(|t| t.2.is_some()) {
        assert!(lane_rows.contains(t), "{t:?} changed or lost: {lane_rows:?}");
    }
    wait_until("the console holds every lane transaction", Duration::from_secs(20), || {
        transactions(&console_db) == lane_rows
    });
    let once =
        ids(&console_db, "SELECT COUNT(*) || '' FROM transactions GROUP BY lane, id HAVING COUNT(*) > 1");
    assert!(once.is_empty(), "transactions stored twice: {once:?}");
    let lane_events = ids(&lane_db, "SELECT id || ':' || event FROM gate_events ORDER BY id");
    let console_events = ids(&console_db, "SELECT id || ':' || event FROM gate_events ORDER BY id");
    assert_eq!(console_events, lane_events, "every gate event exactly once");
    drop(console);

    let out = Command::new(bin("staff-console"))
        .arg("--db")
        .arg(&console_db)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("audit chain verified: 2 entries"), "{text}");
}
