//! One lane end to end through the real binaries: declaration-app-sim makes
//! the passengers, gate-sim serves the gate protocol on a pseudo-terminal, the
//! kiosk runs headless with OpenCV face matching and SQLite records.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e_tests::{GateSim, assets, bin, generate};
use serde_json::Value;

/// id, outcome, reasons, passage id, gate result.
type TransactionRow = (String, Option<String>, String, Option<i64>, Option<String>);

fn run_lane(passengers: &Path, gate: Option<&str>, db: &Path, report: &Path) -> (bool, String) {
    let mut cmd = Command::new(bin("kiosk"));
    cmd.arg("lane")
        .arg("--headless")
        .arg("--passengers")
        .arg(passengers)
        .arg("--database")
        .arg(db)
        .arg("--report")
        .arg(report)
        .arg("--assets")
        .arg(assets())
        .env("RUST_LOG", "info");
    if let Some(g) = gate {
        cmd.args(["--gate", g]);
    }
    let out = cmd.output().expect("run kiosk");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn read_report(path: &Path) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("report json")
}

#[test]
fn green_passenger_walks_through_and_goods_declarer_is_referred() {
    let dir = tempfile::tempdir().unwrap();
    let passengers = dir.path().join("passengers");
    // The demo mix starts with a green passenger, then one declaring goods.
    generate(&passengers, 2, "mix", 7);
    let gate = GateSim::start(&[]);
    let db = dir.path().join("kiosk.sqlite");
    let report_path = dir.path().join("report.json");
    let (ok, log) = run_lane(&passengers, Some(&gate.device), &db, &report_path);
    assert!(ok, "kiosk lane failed:\n{log}");
    let report = read_report(&report_path);
    assert_eq!(report.len(), 2, "{report:#?}");

    let green = &report[0];
    assert_eq!(green["decision"]["outcome"], "green", "{log}");
    assert_eq!(green["gate"]["result"], "passed", "{log}");
    let passage_id = green["gate"]["passage_id"].as_u64().unwrap();
    assert!(green["face_score"].as_f64().unwrap() > 0.363);

    let referred = &report[1];
    assert_eq!(referred["decision"]["outcome"], "referral");
    assert_eq!(referred["decision"]["reasons"], serde_json::json!(["over_allowance"]));
    assert!(referred["gate"].is_null(), "a referred passenger never reaches the gate");

    // The gate simulator reported exactly one completed passage, for that id.
    assert!(gate.wait_for(Duration::from_secs(2), |l| l.contains("passage_completed")));
    let completed: Vec<Value> = gate
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "passage_completed")
        .collect();
    assert_eq!(completed.len(), 1, "{:?}", gate.lines());
    assert_eq!(completed[0]["passage_id"].as_u64(), Some(passage_id));

    // The records: both transactions, the reason, the passage and its events.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<TransactionRow> = conn
        .prepare(
            "SELECT id, outcome, reasons, passage_id, gate_result FROM transactions ORDER BY started_at_ms",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1.as_deref(), Some("green"));
    assert_eq!(rows[0].3, Some(passage_id as i64));
    assert_eq!(rows[0].4.as_deref(), Some("passage_completed"));
    assert_eq!(rows[1].1.as_deref(), Some("referral"));
    assert_eq!(rows[1].2, "[\"over_allowance\"]");
    assert_eq!(rows[1].3, None);
    let events: Vec<String> = conn
        .prepare("SELECT event FROM gate_events WHERE passage_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([passage_id as i64], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        events.contains(&"authorised".to_string()) && events.contains(&"passage_completed".to_string()),
        "{events:?}"
    );

    // Logs carry transaction ids, never names or document numbers.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(passengers.join("p0001/declaration.json")).unwrap())
            .unwrap();
    let doc = manifest["holder"]["passport_number"].as_str().unwrap();
    let surname = manifest["holder"]["surname"].as_str().unwrap();
    assert!(!log.contains(doc), "the log shows a document number");
    assert!(!log.contains(&format!(" {surname}")), "the log shows a name");

    // The same declaration shown again is refused: it was used at the gate.
    let again = dir.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    copy_dir(&passengers.join("p0001"), &again.join("p0001"));
    // The same passport again: the kiosk trusts its issuer as before.
    copy_dir(&passengers.join("trust"), &again.join("trust"));
    let (ok, log) = run_lane(&again, Some(&gate.device), &db, &report_path);
    assert!(ok, "{log}");
    let replay = read_report(&report_path);
    assert_eq!(replay[0]["decision"]["outcome"], "referral");
    assert_eq!(replay[0]["decision"]["reasons"], serde_json::json!(["declaration_invalid"]), "{log}");
}

#[test]
fn every_referral_scenario_gets_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("face-mismatch", "face_mismatch"),
        ("others-qr", "declaration_holder_mismatch"),
        ("expired", "document_expired"),
        // Read over APDUs from the virtual chip: a replaced portrait fails
        // Passive Authentication, a cloned chip fails Chip/Active Authentication.
        ("forged-chip", "document_not_authentic"),
        ("cloned-chip", "chip_not_genuine"),
        // The holder's own photo, printed or on a phone screen, held up to
        // the kiosk camera: the face matches, presentation attack detection
        // over the burst refers the passenger.
        ("photo-attack", "presentation_attack_suspected"),
        ("screen-attack", "presentation_attack_suspected"),
    ];
    for (i, (scenario, reason)) in cases.iter().enumerate() {
        let p = dir.path().join(scenario);
        generate(&p, 1, scenario, 100 + i as u64);
        let report_path = dir.path().join(format!("{scenario}.json"));
        // No gate attached: a referral never needs one.
        let (ok, log) = run_lane(&p, None, &dir.path().join("k.sqlite"), &report_path);
        assert!(ok, "{log}");
        let r = read_report(&report_path);
        assert_eq!(r[0]["decision"]["outcome"], "referral", "{scenario}: {log}");
        let reasons: Vec<String> = r[0]["decision"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert!(reasons.contains(&reason.to_string()), "{scenario}: {reasons:?}");
    }
}

#[test]
fn kiosk_refuses_to_start_on_a_missing_gate_device() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    generate(&p, 1, "green", 5);
    let (ok, log) =
        run_lane(&p, Some("/dev/does-not-exist"), &dir.path().join("k.sqlite"), &dir.path().join("r.json"));
    assert!(!ok);
    assert!(log.contains("gate"), "{log}");
}

#[test]
fn mrz_command_reports_check_digits() {
    let out = Command::new(bin("kiosk"))
        .args([
            "mrz",
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["mrz"]["document_number"], "L898902C3");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_missing_camera_is_reported_plainly() {
    // Test machines have no camera: the kiosk must say so, not invent frames.
    let out = Command::new(bin("kiosk")).args(["camera", "list", "--open", "0"]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if Path::new("/dev/video0").exists() {
        return; // a developer machine with a webcam
    }
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("no camera found"), "{text}");
}

#[test]
fn without_a_gate_a_cleared_passenger_is_not_let_through_and_the_record_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p");
    generate(&p, 1, "green", 11);
    let db = dir.path().join("k.sqlite");
    let report_path = dir.path().join("r.json");
    let (ok, log) = run_lane(&p, None, &db, &report_path);
    assert!(ok, "{log}");
    let r = read_report(&report_path);
    assert_eq!(r[0]["decision"]["outcome"], "green", "{log}");
    assert_eq!(r[0]["gate"]["result"], "gate_unavailable");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let result: String = conn.query_row("SELECT gate_result FROM transactions", [], |r| r.get(0)).unwrap();
    assert_eq!(result, "gate_unavailable");
    let events: i64 = conn
        .query_row("SELECT COUNT(*) FROM gate_events WHERE event = 'passage_completed'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 0);
}
