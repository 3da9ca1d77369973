//! A whole lane in process: generated passengers (real photos, real chip
//! images, signed QR codes) on the simulated devices, OpenCV face matching,
//! and the real gate protocol over a pty to the simulated gate controller
//! serving in a thread. Checks that the lane holds face templates only while
//! a clearance is waiting, and none after passage or expiry.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use declaration_app_sim::population::{Generator, Scenario};
use gate_controller::link::{GateLink, LinkConfig};
use gate_controller::sim::{PtyChannel, SimConfig};
use kiosk::camera::virtual_camera::VirtualCamera;
use kiosk::config::KioskConfig;
use kiosk::decision::ReasonCode;
use kiosk::declaration::payload::{DEMO_SERVICE_KEY_SEED, signing_key_from_seed};
use kiosk::lane::sim::{Passenger, SimulatedScene};
use kiosk::lane::{GateOutcome, Lane, LaneDevices};
use kiosk::passport::sim::SimulatedPassportReader;
use kiosk::store::Store;
use kiosk::watch_list::{Entry, WatchList};

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

fn passengers(dir: &Path, scenarios: &[Scenario], seed: u64) -> Vec<Passenger> {
    let key = signing_key_from_seed(DEMO_SERVICE_KEY_SEED);
    let mut g = Generator::new(&assets().join("photos"), &key, seed, kiosk::lane::clock::unix_now());
    for (i, s) in scenarios.iter().enumerate() {
        let id = format!("p{:04}", i + 1);
        g.passenger(&dir.join(&id), &id, *s).unwrap();
    }
    g.export_trust(&dir.join("trust")).unwrap();
    Passenger::load_all(dir).unwrap()
}

/// The simulated gate controller on a pty, serving in a thread.
struct Gate {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    device: String,
}

impl Gate {
    fn start() -> Gate {
        let mut channel = PtyChannel::open().unwrap();
        let device = channel.slave_path().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let _ = gate_controller::sim::serve(&mut channel, &SimConfig::default(), &s, |_| {});
        });
        Gate { stop, thread: Some(thread), device }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lane(dir: &Path, config: KioskConfig, gate: Option<&Gate>) -> (Lane, SimulatedScene) {
    let scene = SimulatedScene::default();
    let csca = kiosk::passport::trust::TrustStore::load_dir(dir.join("trust")).unwrap();
    let matcher =
        kiosk::face::opencv_backend::OpenCvFaceMatcher::load(&assets().join("models"), config.face_threshold)
            .unwrap();
    let devices = LaneDevices {
        passport_reader: Box::new(SimulatedPassportReader::new(scene.passport_slot.clone(), Arc::new(csca))),
        qr_scanner: Box::new(VirtualCamera::with_feed("qr", 0, scene.qr_scanner.clone())),
        face_camera: Box::new(VirtualCamera::with_feed("face", 0, scene.face_camera.clone())),
        gate_camera: Box::new(VirtualCamera::with_feed("gate", 0, scene.gate_camera.clone())),
        face_matcher: Box::new(matcher),
        gate: gate.map(|g| GateLink::connect(&g.device, LinkConfig::default()).unwrap()),
    };
    let store = Store::open(&dir.join("kiosk.sqlite")).unwrap();
    let trust = config.trust_store().unwrap();
    (Lane::new(config, trust, store, devices), scene)
}

#[test]
fn face_templates_are_gone_after_passage_and_after_clearance_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let people = passengers(dir.path(), &[Scenario::Green, Scenario::DeclaresGoods, Scenario::Green], 51);
    let gate = Gate::start();
    let config = KioskConfig {
        assets_dir: assets(),
        clearance_ttl_secs: 1,
        capture_attempts: 3,
        ..KioskConfig::default()
    };
    let (mut lane, scene) = lane(dir.path(), config, Some(&gate));
    assert_eq!(lane.active_clearances(), 0);

    // Green: one clearance (one live template) until the passage ends.
    scene.present_at_kiosk(&people[0]).unwrap();
    let k = lane.process_kiosk().unwrap();
    assert!(k.decision.is_green(), "{:?}", k.decision);
    assert_eq!(lane.active_clearances(), 1);
    scene.walk_to_gate(&people[0]).unwrap();
    let g = lane.process_gate().unwrap();
    scene.leave_gate();
    assert!(matches!(g, GateOutcome::Passed { .. }), "{g:?}");
    assert_eq!(lane.active_clearances(), 0, "a template outlived the passage");
    let rec = lane.store().transaction(&k.transaction).unwrap().unwrap();
    assert_eq!(rec.gate_result.as_deref(), Some("passage_completed"));

    // Referred: no clearance is ever made.
    scene.present_at_kiosk(&people[1]).unwrap();
    let k = lane.process_kiosk().unwrap();
    scene.leave_kiosk();
    assert_eq!(k.decision.reasons(), &[ReasonCode::OverAllowance]);
    assert_eq!(lane.active_clearances(), 0);

    // Green, but never comes to the gate: the clearance expires and its
    // template goes with it.
    scene.present_at_kiosk(&people[2]).unwrap();
    let k = lane.process_kiosk().unwrap();
    scene.leave_kiosk();
    assert!(k.decision.is_green(), "{:?}", k.decision);
    assert_eq!(lane.active_clearances(), 1);
    std::thread::sleep(Duration::from_millis(1200));
    let g = lane.process_gate().unwrap();
    assert_eq!(g, GateOutcome::NotRecognised);
    assert_eq!(lane.active_clearances(), 0, "an expired clearance kept its template");
    let rec = lane.store().transaction(&k.transaction).unwrap().unwrap();
    assert_eq!(rec.gate_result.as_deref(), Some("clearance_expired"));
}

#[test]
fn the_lane_checks_the_chip_against_the_watch_list() {
    let dir = tempfile::tempdir().unwrap();
    let people = passengers(dir.path(), &[Scenario::Green, Scenario::Green], 52);
    let config = KioskConfig { assets_dir: assets(), capture_attempts: 3, ..KioskConfig::default() };
    let (mut lane, scene) = lane(dir.path(), config, None);
    let mut list = WatchList::new_random();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(people[0].dir.join("declaration.json")).unwrap()).unwrap();
    let h = &doc["holder"];
    list.add(&Entry::Person {
        surname: h["surname"].as_str().unwrap().into(),
        given_names: h["given_names"].as_str().unwrap().into(),
        date_of_birth: h["date_of_birth"].as_str().unwrap().into(),
    })
    .unwrap();
    lane.set_watch_list(list);

    scene.present_at_kiosk(&people[0]).unwrap();
    let k = lane.process_kiosk().unwrap();
    scene.leave_kiosk();
    assert_eq!(k.decision.reasons(), &[ReasonCode::WatchList]);
    assert_eq!(lane.active_clearances(), 0);
    let rec = lane.store().transaction(&k.transaction).unwrap().unwrap();
    assert_eq!(rec.reasons, vec![ReasonCode::WatchList]);

    scene.present_at_kiosk(&people[1]).unwrap();
    let k = lane.process_kiosk().unwrap();
    assert!(k.decision.is_green(), "{:?}", k.decision);
}

/// The gate camera sees no face while the passenger walks up (turned away):
/// the gate falls back to stop-and-capture, asks them to stop and look, and
/// recognises them on a quality-checked frame; both steps are on record.
#[test]
fn the_gate_falls_back_to_stop_and_capture() {
    let dir = tempfile::tempdir().unwrap();
    let people = passengers(dir.path(), &[Scenario::Green], 53);
    let gate = Gate::start();
    let config = KioskConfig { assets_dir: assets(), capture_attempts: 3, ..KioskConfig::default() };
    let walking = config.gate_walking_frames as usize;
    let (mut lane, scene) = lane(dir.path(), config, Some(&gate));
    let (tx, rx) = std::sync::mpsc::channel();
    lane.subscribe(tx);
    scene.present_at_kiosk(&people[0]).unwrap();
    let k = lane.process_kiosk().unwrap();
    scene.leave_kiosk();
    assert!(k.decision.is_green(), "{:?}", k.decision);

    // Walking: a corridor with nobody facing the camera; then the passenger
    // stops and looks (a frame of their own live capture).
    let corridor = image::RgbImage::from_pixel(640, 480, image::Rgb([120, 118, 110]));
    let stopped = kiosk::camera::mjpeg::load(&people[0].dir.join("kiosk-face.mjpeg")).unwrap().remove(0);
    let mut frames = vec![corridor; walking];
    frames.push(stopped);
    scene.gate_camera.show(frames);
    let g = lane.process_gate().unwrap();
    scene.leave_gate();
    assert!(matches!(g, GateOutcome::Passed { .. }), "{g:?}");
    let hints: Vec<&str> = rx
        .try_iter()
        .filter_map(|e| match e {
            kiosk::lane::events::FlowEvent::GateCamera { hint } => Some(hint),
            _ => None,
        })
        .collect();
    assert_eq!(hints, ["stop_and_look"]);
    let events: Vec<String> = lane.store().gate_events().unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events.first().map(String::as_str), Some("stop_and_capture"), "{events:?}");
    assert!(events.contains(&"passage_completed".to_string()), "{events:?}");
}

/// A supervisor's gate commands from the staff console, as the lane's gate
/// desk applies them: at once (while the lane thread serves a passenger),
/// over the real protocol, each result a gate event; a passage authorised
/// by hand is followed to its end by the gate monitor.
#[test]
fn staff_gate_mode_commands_reach_the_gate_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let people = passengers(dir.path(), &[Scenario::Green], 54);
    let gate = Gate::start();
    let config = KioskConfig { assets_dir: assets(), ..KioskConfig::default() };
    let (mut gated, scene) = lane(dir.path(), config, Some(&gate));
    use gate_controller::link::GateMode;
    assert!(gated.set_gate_mode(GateMode::Locked, "sue", 7).unwrap());
    assert!(gated.set_gate_mode(GateMode::Normal, "sue", 8).unwrap());
    let events = gated.store().gate_events().unwrap();
    assert_eq!(events.iter().filter(|e| e.event == "mode_set").count(), 2, "{events:?}");
    assert!(events[0].detail.as_deref().unwrap().contains("Locked by sue (console command 7)"), "{events:?}");

    // One passage by hand, from another thread, while the lane thread is
    // busy with a passenger at the kiosk.
    let desk = gated.gate_desk();
    scene.present_at_kiosk(&people[0]).unwrap();
    let staff = std::thread::spawn(move || desk.authorise_one_passage("sue", 10).unwrap());
    let k = gated.process_kiosk().unwrap();
    let manual = staff.join().unwrap().expect("the gate accepts a passage authorised by hand");
    let decided = gated.store().transaction(&k.transaction).unwrap().unwrap();
    assert_eq!(decided.outcome.as_deref(), Some("green"));
    // The monitor follows the hand-authorised passage by itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let manual_events = loop {
        let ev: Vec<_> = gated
            .store()
            .gate_events()
            .unwrap()
            .into_iter()
            .filter(|e| e.passage_id == Some(manual as i64))
            .collect();
        if ev.iter().any(|e| e.event == "passage_completed") || std::time::Instant::now() > deadline {
            break ev;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let names: Vec<&str> = manual_events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["manual_authorised", "entered", "passage_completed"], "{manual_events:?}");
    assert!(manual_events.iter().all(|e| e.transaction.is_none()));
    assert!(manual_events[0].detail.as_deref().unwrap().contains("by sue (console command 10)"));
    // The passenger's own passage gets the next id and is not confused with it.
    scene.walk_to_gate(&people[0]).unwrap();
    match gated.process_gate().unwrap() {
        GateOutcome::Passed { passage_id, .. } => assert_eq!(passage_id, manual + 1),
        other => panic!("{other:?}"),
    }

    // No gate: refused and recorded, nobody let through.
    let dir = tempfile::tempdir().unwrap();
    let _ = passengers(dir.path(), &[Scenario::Green], 55);
    let (mut lane, _) =
        lane(dir.path(), KioskConfig { assets_dir: assets(), ..KioskConfig::default() }, None);
    assert!(!lane.set_gate_mode(GateMode::EmergencyOpen, "sue", 9).unwrap());
    assert_eq!(lane.store().gate_events().unwrap()[0].event, "mode_failed");
}
