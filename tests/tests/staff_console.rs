//! The staff console through the real binaries: an account made on the
//! command line (no default password), `staff-console serve`, a headless
//! kiosk lane syncing to it over HTTP, every lane transaction in the
//! console exactly once, and the audit chain verified (and caught when
//! tampered with) by `staff-console audit verify`.

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
    let mut child = Command::new(bin("staff-console"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0", "--lane-secret-file"])
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
