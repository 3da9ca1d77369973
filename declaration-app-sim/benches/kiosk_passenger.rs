//! The kiosk's software time per passenger, from passport presented to
//! decision: `Lane::process_kiosk` on the simulated devices (virtual chip
//! over real APDUs with PACE/BAC, CA/AA and Passive Authentication, the QR
//! reader and Ed25519 verification on the phone-screen PNG, YuNet + SFace
//! on the chip portrait and the live photo, the decision and its SQLite
//! commit with synchronous=FULL) for generated passengers (real photos).
//!
//! Excluded: the time inside the virtual chip (its own cryptography, measured
//! around every `transmit` and subtracted, as in `passport_read`) and the
//! camera captures (virtual cameras unpaced, their capture calls measured and
//! subtracted). There is no transport latency. Target: under 150 ms.
//!
//!   cargo bench -p declaration-app-sim --bench kiosk_passenger [-- --passengers 30]
//!
//! Per-step figures come from the lane's own step timer (whole
//! milliseconds) minus the device time inside that step; the total is timed
//! in microseconds around `process_kiosk`. This is the kiosk library from
//! the workspace (`kiosk` dev-dependency with `sim` + `vision`), not a copy:
//! declaration-app-sim depends on the kiosk, never the reverse, so the
//! benchmark lives here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use declaration_app_sim::population::{Generator, Scenario};
use image::RgbImage;
use kiosk::camera::virtual_camera::VirtualCamera;
use kiosk::camera::{Camera, CameraError};
use kiosk::config::KioskConfig;
use kiosk::declaration::payload::{DEMO_SERVICE_KEY_SEED, signing_key_from_seed};
use kiosk::lane::sim::{Passenger, SimulatedScene};
use kiosk::lane::{Lane, LaneDevices};
use kiosk::passport::chip::VirtualChip;
use kiosk::passport::mrz::Mrz;
use kiosk::passport::reader::{ReadOptions, read_chip};
use kiosk::passport::transport::{CardTransport, TransportError};
use kiosk::passport::trust::TrustStore;
use kiosk::passport::{PassportError, PassportRead, PassportReader};

/// Device time, per device, since the last reset.
#[derive(Clone, Default)]
struct DeviceClock(Arc<Mutex<BTreeMap<&'static str, Duration>>>);

impl DeviceClock {
    fn add(&self, device: &'static str, d: Duration) {
        *self.0.lock().unwrap().entry(device).or_default() += d;
    }
    fn take(&self) -> BTreeMap<&'static str, Duration> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct TimedChip {
    chip: VirtualChip,
    clock: DeviceClock,
}

impl CardTransport for TimedChip {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let t = Instant::now();
        let r = self.chip.transmit(command);
        self.clock.add("chip", t.elapsed());
        r
    }
    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
        let t = Instant::now();
        let r = self.chip.reconnect();
        self.clock.add("chip", t.elapsed());
        r
    }
    fn describe(&self) -> String {
        self.chip.describe()
    }
}

/// `passport::sim::SimulatedPassportReader`, with the chip's own time measured.
struct TimedReader {
    slot: Arc<Mutex<Option<(String, kiosk::passport::chip_image::ChipImage)>>>,
    trust: Arc<TrustStore>,
    clock: DeviceClock,
}

impl PassportReader for TimedReader {
    fn read(&mut self) -> Result<PassportRead, PassportError> {
        let (page, image) = self.slot.lock().unwrap().clone().ok_or(PassportError::NoDocument)?;
        let page_mrz = Mrz::parse(&page).map_err(PassportError::PageMrz)?;
        let t = Instant::now();
        let chip = VirtualChip::new(&image).map_err(|e| PassportError::Chip(e.to_string()))?;
        self.clock.add("chip", t.elapsed());
        let mut chip = TimedChip { chip, clock: self.clock.clone() };
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let read = read_chip(
            &mut chip,
            &page_mrz.key_information(),
            &self.trust,
            &ReadOptions::default(),
            &mut rng,
        )?;
        Ok(PassportRead {
            page_mrz,
            com: read.com,
            chip_mrz: read.dg1,
            portrait: read.portrait,
            access: read.access.name(),
            authentication: read.authentication,
            timings: read.timings,
        })
    }
}

struct TimedCamera {
    inner: VirtualCamera,
    device: &'static str,
    clock: DeviceClock,
}

impl Camera for TimedCamera {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        let t = Instant::now();
        let r = self.inner.capture();
        self.clock.add(self.device, t.elapsed());
        r
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 0.5), percentile(&v, 0.95), *v.last().unwrap())
}

fn main() {
    let mut count = 30usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--passengers" => count = args.next().and_then(|n| n.parse().ok()).expect("--passengers N"),
            other => panic!("unknown argument {other:?} (--passengers N)"),
        }
    }
    let warm_up = 3;
    let dir = tempfile::tempdir().expect("tempdir");
    let assets = workspace().join("assets");

    // Passengers: all green, so every step runs in full.
    let t = Instant::now();
    let key = signing_key_from_seed(DEMO_SERVICE_KEY_SEED);
    let mut g = Generator::new(&assets.join("photos"), &key, 2026, kiosk::lane::clock::unix_now());
    for i in 0..count + warm_up {
        let id = format!("p{:04}", i + 1);
        g.passenger(&dir.path().join(&id), &id, Scenario::Green).expect("generate");
    }
    g.export_trust(&dir.path().join("trust")).expect("trust");
    let passengers = Passenger::load_all(dir.path()).expect("load");
    eprintln!("{} passengers generated in {:.1} s", passengers.len(), t.elapsed().as_secs_f64());

    let clock = DeviceClock::default();
    let slot = Arc::new(Mutex::new(None));
    let scene = SimulatedScene::default();
    let config = KioskConfig {
        assets_dir: assets.clone(),
        database: dir.path().join("kiosk.sqlite"),
        ..KioskConfig::default()
    };
    let csca = TrustStore::load_dir(dir.path().join("trust")).expect("csca");
    let camera = |name: &'static str, feed| TimedCamera {
        inner: VirtualCamera::with_feed(name, 0, feed),
        device: name,
        clock: clock.clone(),
    };
    let devices = LaneDevices {
        passport_reader: Box::new(TimedReader {
            slot: slot.clone(),
            trust: Arc::new(csca),
            clock: clock.clone(),
        }),
        qr_scanner: Box::new(camera("qr_camera", scene.qr_scanner.clone())),
        face_camera: Box::new(camera("face_camera", scene.face_camera.clone())),
        gate_camera: Box::new(camera("gate_camera", scene.gate_camera.clone())),
        face_matcher: Box::new(
            kiosk::face::opencv_backend::OpenCvFaceMatcher::load(&config.models_dir(), config.face_threshold)
                .expect("face models (assets/models)"),
        ),
        gate: None,
    };
    let store = kiosk::store::Store::open(&config.database).expect("store");
    let mut lane = Lane::new(config.clone(), config.trust_store().expect("keys"), store, devices);

    // Which device works inside which step.
    let device_step = [("chip", "passport"), ("qr_camera", "declaration"), ("face_camera", "face")];
    let steps = ["passport", "declaration", "face"];
    let mut totals = Vec::new();
    let mut per_step: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut device_ms: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (i, p) in passengers.iter().enumerate() {
        let chip = kiosk::passport::chip_image::ChipImage::load(&p.dir.join(&p.manifest.chip)).expect("chip");
        *slot.lock().unwrap() = Some((p.manifest.page_mrz.clone(), chip));
        scene.present_at_kiosk(p).expect("present");
        clock.take();
        let t = Instant::now();
        let outcome = lane.process_kiosk().expect("process_kiosk");
        let wall = t.elapsed();
        let devices = clock.take();
        *slot.lock().unwrap() = None;
        scene.leave_kiosk();
        assert!(outcome.decision.is_green(), "{}: {:?}", p.manifest.id, outcome.decision);
        if i < warm_up {
            continue;
        }
        let device_total: Duration = devices.values().sum();
        totals.push((wall - device_total).as_secs_f64() * 1e3);
        for (device, d) in &devices {
            device_ms.entry(device).or_default().push(d.as_secs_f64() * 1e3);
        }
        let mut in_steps = 0.0;
        for step in steps {
            let device: f64 = device_step
                .iter()
                .filter(|(_, s)| *s == step)
                .filter_map(|(d, _)| devices.get(d))
                .map(|d| d.as_secs_f64() * 1e3)
                .sum();
            let ms = outcome.step_ms.get(step).copied().unwrap_or(0) as f64;
            in_steps += ms;
            per_step.entry(step).or_default().push((ms - device).max(0.0));
        }
        // Decision, its commit (fsync) and the clearance: what is outside the
        // timed steps.
        per_step
            .entry("decision, record, rest")
            .or_default()
            .push((wall.as_secs_f64() * 1e3 - in_steps).max(0.0));
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "kiosk software time per passenger, passport presented -> decision ({} passengers after {warm_up} warm-up; load {})",
        totals.len(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("{:<28} {:>9} {:>9} {:>9}", "", "median", "p95", "max");
    let (m, p95, max) = stats(totals.clone());
    println!("{:<28} {m:>6.1} ms {p95:>6.1} ms {max:>6.1} ms", "total (kiosk software)");
    for (step, v) in &per_step {
        let (m, p95, max) = stats(v.clone());
        println!("  {:<26} {m:>6.1} ms {p95:>6.1} ms {max:>6.1} ms", step);
    }
    println!("excluded (device time):");
    for (device, v) in &device_ms {
        let (m, p95, max) = stats(v.clone());
        println!("  {:<26} {m:>6.1} ms {p95:>6.1} ms {max:>6.1} ms", device);
    }
    println!(
        "target: under 150 ms -> median {} ({m:.1} ms), p95 {} ({p95:.1} ms)",
        if m < 150.0 { "met" } else { "NOT met" },
        if p95 < 150.0 { "met" } else { "NOT met" },
        m = stats(totals.clone()).0,
        p95 = stats(totals).1
    );
    println!("(per-step figures: the lane's whole-millisecond step timer minus device time)");
}
