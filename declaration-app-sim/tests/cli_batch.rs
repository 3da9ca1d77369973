//! The `batch` command line, run as the real binary: the same seed gives the
//! same manifest; every PNG reads back at the kiosk (`kiosk::qr`), verifies
//! with the kiosk's trust store (the demo key) and has the outcome the
//! manifest expects.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_declaration-app-sim");
const ISSUED_AT: u32 = 1_795_392_000;

fn batch(out: &Path, seed: u64, count: usize) -> Value {
    let o = Command::new(BIN)
        .args(["batch", "--out", out.to_str().unwrap()])
        .args(["--count", &count.to_string(), "--seed", &seed.to_string()])
        .args(["--issued-at", &ISSUED_AT.to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("see an officer"));
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn the_same_seed_gives_the_same_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    let ma = batch(&a, 42, 12);
    let mb = batch(&b, 42, 12);
    assert_eq!(ma, mb);
    assert_eq!(std::fs::read(a.join("d0007.png")).unwrap(), std::fs::read(b.join("d0007.png")).unwrap());
    let mc = batch(&c, 43, 12);
    assert_ne!(ma["declarations"], mc["declarations"]);
}

#[test]
fn every_code_reads_back_verifies_and_has_the_expected_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let count = 40;
    let m = batch(dir.path(), 7, count);
    let entries = m["declarations"].as_array().unwrap();
    assert_eq!(entries.len(), count);
    let trust = kiosk::config::KioskConfig::default().trust_store().unwrap();
    let mut outcomes = BTreeSet::new();
    let mut family_sizes = BTreeSet::new();
    for e in entries {
        let file = dir.path().join(e["file"].as_str().unwrap());
        let frame = image::open(&file).unwrap().to_rgb8();
        let read = kiosk::qr::decode_frame(&frame).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        assert_eq!(read.texts, vec![e["qr_text"].as_str().unwrap().to_string()]);
        let v = trust.verify_qr(&read.texts[0], ISSUED_AT + 60).unwrap();
        let d = &v.declaration;
        let expected: kiosk::declaration::Declaration =
            serde_json::from_value(e["declaration"].clone()).unwrap();
        assert_eq!(d, &expected);
        let assessment = d.duty_free_assessment();
        assert_eq!(e["outcome"], declaration_app_sim::report::outcome_name(&assessment));
        let codes: Vec<&str> = d.referral_reasons().iter().map(|c| c.as_str()).collect();
        assert_eq!(e["reason_codes"], serde_json::json!(codes));
        assert_eq!(e["estimated_duty_yen"], assessment.estimated_duty_yen());
        outcomes.insert(e["outcome"].as_str().unwrap().to_string());
        family_sizes.insert(d.family.members.len());
    }
    assert_eq!(outcomes.len(), 3, "within, duty payable and officer cases: {outcomes:?}");
    assert!(family_sizes.len() >= 3, "varied family sizes: {family_sizes:?}");
}
