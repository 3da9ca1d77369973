//! Records, privacy and risk through the real binaries: gate alarms in the
//! records, no biometric data left after passage (database and disk), the
//! audit setting, the watch list, and a kiosk killed mid-transaction.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::{GateSim, assets, bin, generate};
use serde_json::Value;

/// A kiosk lane command: headless, its own working folder (`site`, also its
/// HOME) so everything it might write lands where the test can look.
fn lane_command(site: &Path, passengers: &Path, gate: Option<&str>, config: Option<&Path>) -> Command {
    std::fs::create_dir_all(site).unwrap();
    let mut cmd = Command::new(bin("kiosk"));
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.arg("lane")
        .arg("--headless")
        .arg("--passengers")
        .arg(passengers)
        .arg("--database")
        .arg(site.join("data/kiosk.sqlite"))
        .arg("--report")
        .arg(site.join("report.json"))
        .arg("--assets")
        .arg(assets())
        .current_dir(site)
        .env("HOME", site)
        .env("RUST_LOG", "info");
    if let Some(g) = gate {
        cmd.args(["--gate", g]);
    }
    cmd
}

fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.output().expect("run kiosk");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn report(site: &Path) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(site.join("report.json")).expect("report")).unwrap()
}

fn db(site: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(site.join("data/kiosk.sqlite")).unwrap()
}

fn holder(passenger: &Path) -> Value {
    let text = std::fs::read_to_string(passenger.join("declaration.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["holder"].clone()
}

#[test]
fn a_tailgater_at_the_gate_raises_an_alarm_that_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    generate(&passengers, 1, "green", 21);
    let gate = GateSim::start(&["--scenario", "tailgate"]);
    let site = dir.path().join("site");
    let (ok, log) = run(lane_command(&site, &passengers, Some(&gate.device), None));
    assert!(ok, "{log}");
    let r = report(&site);
    assert_eq!(r[0]["decision"]["outcome"], "green", "{log}");
    assert_eq!(r[0]["gate"]["result"], "alarm", "{log}");
    assert_eq!(r[0]["gate"]["alarm"], "Tailgating", "{log}");
    let passage_id = r[0]["gate"]["passage_id"].as_i64().unwrap();
    assert!(gate.wait_for(Duration::from_secs(2), |l| l.contains("tailgating")), "{:?}", gate.lines());

    let conn = db(&site);
    let alarms: Vec<(String, Option<i64>, Option<String>)> = conn
        .prepare("SELECT transaction_id, passage_id, detail FROM gate_events WHERE event = 'alarm'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(alarms[0].0, r[0]["transaction"].as_str().unwrap());
    assert_eq!(alarms[0].1, Some(passage_id));
    assert_eq!(alarms[0].2.as_deref(), Some("Tailgating"));
    let result: String = conn
        .query_row("SELECT gate_result FROM transactions WHERE passage_id = ?1", [passage_id], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "alarm");
}

// ---- biometric data after passage ----------------------------------------

/// Offsets of JPEG (SOI + marker) and PNG signatures in `bytes`.
fn image_signatures(bytes: &[u8]) -> Vec<usize> {
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a];
    (0..bytes.len().saturating_sub(6))
        .filter(|&i| bytes[i..].starts_with(&[0xff, 0xd8, 0xff]) || bytes[i..].starts_with(&png))
        .collect()
}

/// Offsets of runs of at least `n` consecutive little-endian f32 values of a
/// face template's magnitude (1e-4 < |x| < 4), at every byte alignment: an
/// SFace template is 128 such floats (512 bytes), however it was stored.
fn float_runs(bytes: &[u8], n: usize) -> Vec<usize> {
    let mut found = Vec::new();
    for align in 0..4 {
        let mut run = 0;
        let mut i = align;
        while i + 4 <= bytes.len() {
            let x = f32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()).abs();
            if x > 1e-4 && x < 4.0 {
                run += 1;
                if run == n {
                    found.push(i + 4 - 4 * n);
                }
            } else {
                run = 0;
            }
            i += 4;
        }
    }
    found
}

/// Every BLOB of at least 256 bytes in any column of any table.
fn large_blobs(conn: &rusqlite::Connection) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for c in cols {
            let n: i64 = conn
                .query_row(
                    &format!("SELECT COUNT(*) FROM \"{t}\" WHERE typeof(\"{c}\") = 'blob' AND length(\"{c}\") >= 256"),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            if n > 0 {
                out.push(format!("{t}.{c}: {n} blob(s)"));
            }
        }
    }
    out
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// What in `site` looks like biometric data: image files, image signatures
/// or template-like float runs inside any file (the database, its WAL).
fn biometric_traces(site: &Path) -> Vec<String> {
    let mut traces = Vec::new();
    for f in files_below(site) {
        let name = f.display().to_string();
        if f.file_name().and_then(|n| n.to_str()) == Some("report.json") {
            continue; // the test's own report (text, no images)
        }
        let bytes = std::fs::read(&f).unwrap();
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if matches!(ext.as_str(), "jpg" | "jpeg" | "png" | "jp2" | "bmp" | "pgm" | "ppm") {
            traces.push(format!("{name}: an image file"));
        }
        let sigs = image_signatures(&bytes);
        if !sigs.is_empty() {
            traces.push(format!("{name}: image signature at {sigs:?}"));
        }
        let runs = float_runs(&bytes, 64);
        if !runs.is_empty() {
            traces.push(format!("{name}: template-like floats at {:?}", &runs[..runs.len().min(5)]));
        }
    }
    traces
}

#[test]
fn the_biometric_scan_finds_images_and_templates_when_they_are_there() {
    // The detector of the next test, shown to work: a JPEG and a 128-float
    // template stored in a database are found, in the file and by SQL.
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("p");
    generate(&passengers, 1, "green", 23);
    let jpeg = std::fs::read(passengers.join("p0001/gate-face.jpg")).unwrap();
    let template: Vec<u8> =
        (0..128).flat_map(|i| (((i as f32) * 0.7).sin() * 0.088 + 0.001 * i as f32).to_le_bytes()).collect();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    {
        let conn = rusqlite::Connection::open(site.join("leaky.sqlite")).unwrap();
        conn.execute_batch("CREATE TABLE t (a BLOB, b BLOB)").unwrap();
        // A template at an odd offset inside a blob, too.
        let odd = [&[1u8, 2, 3][..], &template].concat();
        conn.execute("INSERT INTO t VALUES (?1, ?2)", rusqlite::params![jpeg, odd]).unwrap();
        assert_eq!(large_blobs(&conn).len(), 2);
    }
    let traces = biometric_traces(&site);
    assert!(traces.iter().any(|t| t.contains("image signature")), "{traces:?}");
    assert!(traces.iter().any(|t| t.contains("template-like")), "{traces:?}");
}

#[test]
fn biometric_data_are_gone_after_passage_from_the_database_and_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    // Green through the gate, a referral, green again.
    generate(&passengers, 3, "mix", 7);
    let gate = GateSim::start(&[]);
    let site = dir.path().join("site");
    let (ok, log) = run(lane_command(&site, &passengers, Some(&gate.device), None));
    assert!(ok, "{log}");
    let r = report(&site);
    let passed = r.iter().filter(|p| p["gate"]["result"] == "passed").count();
    assert_eq!(passed, 2, "{r:#?}");
    assert!(log.contains("face template deleted"), "{log}");

    // The database (its main file, and the WAL and shared-memory files if
    // SQLite left them), and every file the kiosk could have written.
    let conn = db(&site);
    assert!(large_blobs(&conn).is_empty(), "{:?}", large_blobs(&conn));
    let traces = biometric_traces(&site);
    assert!(traces.is_empty(), "biometric data left behind: {traces:#?}");
    let files: Vec<String> = files_below(&site).iter().map(|p| p.display().to_string()).collect();
    assert!(files.iter().any(|f| f.ends_with("kiosk.sqlite")), "{files:?}");
}

#[test]
fn the_audit_setting_keeps_the_face_captures_per_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    generate(&passengers, 2, "mix", 7);
    let gate = GateSim::start(&[]);
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, "audit_face_images = \"audit\"\n").unwrap();
    let (ok, log) = run(lane_command(&site, &passengers, Some(&gate.device), Some(&config)));
    assert!(ok, "{log}");
    let r = report(&site);
    let jpeg = |p: PathBuf| {
        let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}\n{log}", p.display()));
        assert!(b.starts_with(&[0xff, 0xd8, 0xff]), "{} is not a JPEG", p.display());
    };
    // Green: the kiosk capture and the gate capture.
    let green = site.join("audit").join(r[0]["transaction"].as_str().unwrap());
    jpeg(green.join("kiosk-face.jpg"));
    jpeg(green.join("gate-face.jpg"));
    // Referred: the kiosk capture only (never at the gate).
    let referred = site.join("audit").join(r[1]["transaction"].as_str().unwrap());
    jpeg(referred.join("kiosk-face.jpg"));
    assert!(!referred.join("gate-face.jpg").exists());
    // The database still holds none.
    assert!(large_blobs(&db(&site)).is_empty());
}

// ---- watch list ------------------------------------------------------------

#[test]
fn a_watch_list_hit_refers_the_passenger_without_revealing_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    generate(&passengers, 3, "green", 31);
    let list = dir.path().join("watch.list");
    let kiosk = |args: &[&str], stdin: Option<&str>| {
        let mut c = Command::new(bin("kiosk"));
        c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "kiosk {args:?}: {text}");
        text
    };
    let l = list.to_str().unwrap();
    kiosk(&["watchlist", "new", "--out", l], None);
    // Passenger 1 by document number, passenger 2 by name and date of birth
    // (from stdin, as an operator would, to keep it out of shell history);
    // passenger 3 is not on the list.
    let h1 = holder(&passengers.join("p0001"));
    let h2 = holder(&passengers.join("p0002"));
    let doc1 = h1["passport_number"].as_str().unwrap();
    kiosk(
        &[
            "watchlist",
            "add",
            "--list",
            l,
            "--document",
            doc1,
            "--state",
            h1["nationality"].as_str().unwrap(),
        ],
        None,
    );
    let person = format!(
        "person\t{}\t{}\t{}\n",
        h2["surname"].as_str().unwrap(),
        h2["given_names"].as_str().unwrap(),
        h2["date_of_birth"].as_str().unwrap()
    );
    kiosk(&["watchlist", "add", "--list", l], Some(&person));
    assert!(kiosk(&["watchlist", "check", "--list", l], None).contains("2 entries"));
    let text = std::fs::read_to_string(&list).unwrap();
    for plain in [doc1, h2["surname"].as_str().unwrap(), h2["date_of_birth"].as_str().unwrap()] {
        assert!(!text.contains(plain), "the list holds plaintext {plain:?}:\n{text}");
    }

    let config = dir.path().join("kiosk.toml");
    std::fs::write(&config, format!("watch_list = {:?}\n", l)).unwrap();
    let gate = GateSim::start(&[]);
    let site = dir.path().join("site");
    let (ok, log) = run(lane_command(&site, &passengers, Some(&gate.device), Some(&config)));
    assert!(ok, "{log}");
    let r = report(&site);
    for p in &r[..2] {
        assert_eq!(p["decision"]["outcome"], "referral", "{log}");
        assert_eq!(p["decision"]["reasons"], serde_json::json!(["watch_list"]), "{log}");
        assert!(p["gate"].is_null());
    }
    assert_eq!(r[2]["decision"]["outcome"], "green", "{log}");
    assert_eq!(r[2]["gate"]["result"], "passed", "{log}");
    assert!(log.contains("watch list hit"), "{log}");
    for plain in [doc1, h2["passport_number"].as_str().unwrap()] {
        assert!(!log.contains(plain), "the log shows a document number");
    }
    let s2 = h2["surname"].as_str().unwrap();
    assert!(!log.contains(&format!(" {s2}")), "the log shows a name");
    let reasons: String = db(&site)
        .query_row("SELECT reasons FROM transactions ORDER BY started_at_ms LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reasons, "[\"watch_list\"]");

    // A broken list stops the lane from starting (never a silent partial list).
    std::fs::write(&list, format!("{text}document 12\n")).unwrap();
    let (ok, log) = run(lane_command(&dir.path().join("site2"), &passengers, None, Some(&config)));
    assert!(!ok, "{log}");
    assert!(log.contains("watch list"), "{log}");
}

// ---- crash ---------------------------------------------------------------------

type Row = (String, Option<String>, Option<String>, Option<i64>, Option<i64>);

fn rows(site: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open_with_flags(
        site.join("data/kiosk.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    );
    let Ok(conn) = conn else { return Vec::new() };
    let Ok(mut stmt) = conn.prepare(
        "SELECT id, outcome, gate_result, passage_id, finished_at_ms FROM transactions ORDER BY started_at_ms",
    ) else {
        return Vec::new();
    };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .and_then(|m| m.collect())
        .unwrap_or_default()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_kiosk_killed_mid_transaction_restarts_with_its_records_intact() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    generate(&passengers, 4, "green", 41);
    let gate = GateSim::start(&[]);
    let site = dir.path().join("site");
    let mut cmd = lane_command(&site, &passengers, Some(&gate.device), None);
    // Paced, so a decided passenger waits a while before walking to the gate.
    cmd.args(["--pace-ms", "1500"]).stdout(Stdio::null()).stderr(Stdio::null());
    let mut kiosk = Killed(cmd.spawn().unwrap());

    // Wait until one passenger is through and the next is decided but open.
    let deadline = Instant::now() + Duration::from_secs(90);
    let before = loop {
        assert!(
            Instant::now() < deadline,
            "the lane never reached a mid-transaction state: {:?}",
            rows(&site)
        );
        assert!(kiosk.0.try_wait().unwrap().is_none(), "the kiosk exited early");
        let r = rows(&site);
        let finished = r.iter().filter(|t| t.4.is_some()).count();
        let open = r.iter().filter(|t| t.4.is_none() && t.1.is_some()).count();
        if finished >= 1 && open == 1 {
            break r;
        }
        std::thread::sleep(Duration::from_millis(30));
    };
    kiosk.0.kill().unwrap(); // SIGKILL: no destructor, no clean-up runs
    kiosk.0.wait().unwrap();
    let after_kill = rows(&site);
    // Everything committed before the kill is there, unchanged (the open
    // transaction may have moved on between the poll and the kill).
    for t in before.iter().filter(|t| t.4.is_some()) {
        assert!(after_kill.contains(t), "{t:?} lost: {after_kill:?}");
    }
    let interrupted: Vec<String> = after_kill.iter().filter(|t| t.4.is_none()).map(|t| t.0.clone()).collect();
    assert!(!interrupted.is_empty(), "nothing was open at the kill: {after_kill:?}");

    // Restart on the same database with the next passenger.
    let next = dir.path().join("next");
    std::fs::create_dir_all(&next).unwrap();
    copy_dir(&passengers.join("p0004"), &next.join("p0004"));
    copy_dir(&passengers.join("trust"), &next.join("trust"));
    let (ok, log) = run(lane_command(&site, &next, Some(&gate.device), None));
    assert!(ok, "{log}");
    assert!(log.contains("closed as interrupted"), "{log}");
    let r = report(&site);
    assert_eq!(r[0]["gate"]["result"], "passed", "{log}");

    let after = rows(&site);
    for t in after_kill.iter().filter(|t| t.4.is_some()) {
        assert!(after.contains(t), "{t:?} changed by the restart: {after:?}");
    }
    for id in &interrupted {
        let t = after.iter().find(|t| &t.0 == id).unwrap();
        assert_eq!(t.2.as_deref(), Some("interrupted"), "{t:?}");
        assert!(t.4.is_some());
    }
    assert!(after.iter().all(|t| t.4.is_some()), "open transactions after restart: {after:?}");
    // Passage ids stay unique across the restart.
    let mut ids: Vec<i64> = after.iter().filter_map(|t| t.3).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "{after:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}
