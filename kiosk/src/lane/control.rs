//! The one way back into the lane: the passenger's "Back / Cancel" and the
//! per-step time limits.
//!
//! [`LaneControl`] is a cheap, cloneable handle shared by the lane (worker
//! thread) and its controllers (the Bevy UI, headless mode, tests). The lane
//! arms a deadline when a timed step starts ([`StepTimeouts`], from
//! `KioskConfig::step_timeouts`) and checks [`LaneControl::should_stop`]
//! between steps and inside its capture loops; a cancelled or timed-out step
//! ends the transaction as a referral (never green) with the record's result
//! `cancelled` or `timed_out`. A controller can only *ask*: the lane decides
//! when to stop, so a device is never left half-driven.
//!
//! Cameras of timed steps are wrapped in [`GuardedCamera`], so a capture
//! loop ends at its next frame once the step is interrupted, whatever else
//! the loop does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::events::{Step, failure};
use crate::camera::{Camera, CameraError};

/// Time limits of the passenger's steps, in seconds (at least 1 s each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepTimeouts {
    /// Placing the passport and reading its chip.
    pub passport: u64,
    /// Showing the declaration QR code.
    pub declaration: u64,
    /// Looking at the camera until a usable face is captured.
    pub face: u64,
}

impl Default for StepTimeouts {
    fn default() -> Self {
        StepTimeouts { passport: 60, declaration: 60, face: 45 }
    }
}

impl StepTimeouts {
    /// The limit of a step; `None` for steps without one (welcome, result, gate).
    pub fn limit(&self, step: Step) -> Option<Duration> {
        let secs = match step {
            Step::Passport => self.passport,
            Step::Declaration => self.declaration,
            Step::Face => self.face,
            Step::Welcome | Step::Result | Step::Gate => return None,
        };
        Some(Duration::from_secs(secs.max(1)))
    }
}

/// Why the lane stopped a step early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interrupt {
    /// The passenger touched "Back / Cancel" (or a controller asked).
    Cancelled,
    /// The step's time limit passed without a result.
    TimedOut,
}

impl Interrupt {
    /// The step failure code ([`failure::CANCELLED`] / [`failure::TIMED_OUT`]),
    /// also the record's result.
    pub fn code(self) -> &'static str {
        match self {
            Interrupt::Cancelled => failure::CANCELLED,
            Interrupt::TimedOut => failure::TIMED_OUT,
        }
    }

    /// The interrupt a step failure code stands for.
    pub fn from_code(code: &str) -> Option<Interrupt> {
        match code {
            failure::CANCELLED => Some(Interrupt::Cancelled),
            failure::TIMED_OUT => Some(Interrupt::TimedOut),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Armed {
    /// A transaction is in progress (cancel requests count only then).
    active: bool,
    /// The transaction in progress.
    transaction: Option<String>,
    /// The running timed step and its deadline.
    step: Option<(Step, Instant)>,
    /// A step of this transaction was interrupted: the rest is skipped.
    stopped: Option<Interrupt>,
}

#[derive(Debug)]
struct Inner {
    cancel: AtomicBool,
    armed: Mutex<Armed>,
    timeouts: Mutex<StepTimeouts>,
}

/// Shared handle: the lane arms and checks it, controllers cancel through it.
#[derive(Debug, Clone)]
pub struct LaneControl {
    inner: Arc<Inner>,
}

impl Default for LaneControl {
    fn default() -> Self {
        LaneControl::new(StepTimeouts::default())
    }
}

impl LaneControl {
    pub fn new(timeouts: StepTimeouts) -> LaneControl {
        LaneControl {
            inner: Arc::new(Inner {
                cancel: AtomicBool::new(false),
                armed: Mutex::new(Armed::default()),
                timeouts: Mutex::new(timeouts),
            }),
        }
    }

    fn armed(&self) -> MutexGuard<'_, Armed> {
        self.inner.armed.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn timeouts(&self) -> StepTimeouts {
        *self.inner.timeouts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the limits from the next step on (tests, configuration reload).
    pub fn set_timeouts(&self, timeouts: StepTimeouts) {
        *self.inner.timeouts.lock().unwrap_or_else(|p| p.into_inner()) = timeouts;
    }

    /// Asks the lane to end the current passenger's transaction. Returns
    /// false (and does nothing) when no transaction is in progress, so a
    /// touch on an idle screen never cancels the next passenger.
    pub fn cancel(&self) -> bool {
        let armed = self.armed();
        if armed.active {
            self.inner.cancel.store(true, Ordering::SeqCst);
        }
        armed.active
    }

    /// Whether the lane is serving a passenger.
    pub fn in_transaction(&self) -> bool {
        self.armed().active
    }

    /// Lane: a new passenger; earlier cancel requests are forgotten.
    pub(crate) fn begin_transaction(&self, transaction: &str) {
        let mut armed = self.armed();
        self.inner.cancel.store(false, Ordering::SeqCst);
        *armed = Armed { active: true, transaction: Some(transaction.to_string()), ..Armed::default() };
    }

    /// The transaction in progress, if any.
    pub fn transaction(&self) -> Option<String> {
        self.armed().transaction.clone()
    }

    /// Why this transaction was stopped, once a step was interrupted.
    pub fn stopped(&self) -> Option<Interrupt> {
        let armed = self.armed();
        armed.stopped.filter(|_| armed.active)
    }

    /// Lane: the passenger's transaction ended.
    pub(crate) fn end_transaction(&self) {
        let mut armed = self.armed();
        self.inner.cancel.store(false, Ordering::SeqCst);
        *armed = Armed::default();
    }

    /// Lane: a step starts; arms its deadline and returns its limit.
    pub(crate) fn begin_step(&self, step: Step) -> Option<Duration> {
        let limit = self.timeouts().limit(step);
        self.armed().step = limit.map(|l| (step, Instant::now() + l));
        limit
    }

    /// Lane: the step ended; disarms the deadline and says whether (and why)
    /// it was interrupted. A cancel request wins over a timeout.
    pub(crate) fn end_step(&self) -> Option<Interrupt> {
        let interrupt = self.interruption();
        let mut armed = self.armed();
        armed.step = None;
        if armed.active && armed.stopped.is_none() {
            armed.stopped = interrupt;
        }
        interrupt
    }

    /// Why the current transaction must stop now, if it must.
    pub fn interruption(&self) -> Option<Interrupt> {
        let armed = self.armed();
        if !armed.active {
            return None;
        }
        if armed.stopped.is_some() {
            return armed.stopped;
        }
        if self.inner.cancel.load(Ordering::SeqCst) {
            return Some(Interrupt::Cancelled);
        }
        match armed.step {
            Some((_, deadline)) if Instant::now() >= deadline => Some(Interrupt::TimedOut),
            _ => None,
        }
    }

    /// The one-line check for capture loops: stop trying when true.
    pub fn should_stop(&self) -> bool {
        self.interruption().is_some()
    }

    /// Time left in the current timed step.
    pub fn time_left(&self) -> Option<Duration> {
        self.armed().step.map(|(_, d)| d.saturating_duration_since(Instant::now()))
    }
}

/// A camera that stops delivering frames once the lane's current step is
/// cancelled or timed out: the capture loop then ends at its next frame.
pub struct GuardedCamera {
    inner: Box<dyn Camera>,
    control: LaneControl,
}

impl GuardedCamera {
    pub fn wrap(inner: Box<dyn Camera>, control: LaneControl) -> Box<dyn Camera> {
        Box::new(GuardedCamera { inner, control })
    }
}

impl Camera for GuardedCamera {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        if let Some(i) = self.control.interruption() {
            return Err(CameraError::Unavailable(format!("the step was stopped: {}", i.code())));
        }
        self.inner.capture()
    }
}

/// Preview frames are at most this size (the UI shows them at about this size).
pub const PREVIEW_MAX: (u32, u32) = (480, 360);

/// A preview-sized copy of a camera frame (aspect kept, never upscaled).
pub fn preview_frame(frame: &RgbImage) -> RgbImage {
    let (w, h) = frame.dimensions();
    if w == 0 || h == 0 {
        return RgbImage::new(1, 1);
    }
    let scale = (PREVIEW_MAX.0 as f32 / w as f32).min(PREVIEW_MAX.1 as f32 / h as f32).min(1.0);
    let (nw, nh) = (((w as f32 * scale) as u32).max(1), ((h as f32 * scale) as u32).max(1));
    if (nw, nh) == (w, h) {
        return frame.clone();
    }
    image::imageops::resize(frame, nw, nh, image::imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Frames;
    impl Camera for Frames {
        fn name(&self) -> &str {
            "frames"
        }
        fn capture(&mut self) -> Result<RgbImage, CameraError> {
            Ok(RgbImage::new(4, 4))
        }
    }

    #[test]
    fn cancel_counts_only_during_a_transaction() {
        let c = LaneControl::default();
        assert!(!c.cancel(), "idle: nothing to cancel");
        c.begin_transaction("t1");
        assert_eq!(c.interruption(), None, "an idle-time request is not remembered");
        assert!(c.clone().cancel());
        assert_eq!(c.interruption(), Some(Interrupt::Cancelled));
        c.end_transaction();
        assert_eq!(c.interruption(), None);
        c.begin_transaction("t1");
        assert_eq!(c.interruption(), None, "the next passenger starts clean");
    }

    #[test]
    fn deadlines_are_per_step() {
        let c = LaneControl::default();
        c.begin_transaction("t1");
        assert_eq!(c.begin_step(Step::Welcome), None);
        assert_eq!(c.begin_step(Step::Passport), Some(Duration::from_secs(60)));
        assert!(c.time_left().unwrap() > Duration::from_secs(59));
        assert_eq!(c.end_step(), None);
        c.set_timeouts(StepTimeouts { passport: 0, declaration: 1, face: 1 });
        // 0 is raised to the 1 s minimum.
        assert_eq!(c.begin_step(Step::Passport), Some(Duration::from_secs(1)));
        // Force the deadline into the past.
        c.armed().step = Some((Step::Passport, Instant::now() - Duration::from_millis(1)));
        assert!(c.should_stop());
        assert_eq!(c.end_step(), Some(Interrupt::TimedOut));
        assert_eq!(c.stopped(), Some(Interrupt::TimedOut), "the rest of the transaction is skipped");
        assert!(c.should_stop());
        c.end_transaction();
        assert_eq!(c.stopped(), None);
        // Cancel wins over a timeout.
        c.begin_transaction("t2");
        assert!(!c.should_stop(), "the next passenger starts clean");
        c.begin_step(Step::Face);
        c.armed().step = Some((Step::Face, Instant::now() - Duration::from_millis(1)));
        c.cancel();
        assert_eq!(c.end_step(), Some(Interrupt::Cancelled));
    }

    #[test]
    fn guarded_camera_stops_when_interrupted() {
        let c = LaneControl::default();
        let mut cam = GuardedCamera::wrap(Box::new(Frames), c.clone());
        assert!(cam.capture().is_ok());
        c.begin_transaction("t1");
        c.begin_step(Step::Declaration);
        assert!(cam.capture().is_ok());
        c.cancel();
        assert!(matches!(cam.capture(), Err(CameraError::Unavailable(_))));
        c.end_transaction();
        assert!(cam.capture().is_ok());
    }

    #[test]
    fn codes_round_trip_and_previews_are_small() {
        for i in [Interrupt::Cancelled, Interrupt::TimedOut] {
            assert_eq!(Interrupt::from_code(i.code()), Some(i));
        }
        assert_eq!(Interrupt::from_code(failure::QR_INVALID), None);
        let p = preview_frame(&RgbImage::new(1920, 1080));
        assert_eq!(p.dimensions(), (480, 270));
        assert_eq!(preview_frame(&RgbImage::new(100, 50)).dimensions(), (100, 50));
        let toml = "passport = 30";
        let t: StepTimeouts = toml::from_str(toml).unwrap();
        assert_eq!((t.passport, t.face), (30, StepTimeouts::default().face));
    }

    mod lane {
        use std::sync::mpsc;

        use super::*;
        use crate::config::KioskConfig;
        use crate::declaration::payload::TrustStore;
        use crate::face::{DetectedFace, FaceError, FaceMatcher, FaceTemplate};
        use crate::lane::events::FlowEvent;
        use crate::lane::{Lane, LaneDevices};
        use crate::passport::{PassportError, PassportRead, PassportReader};
        use crate::store::Store;

        struct EmptyReader;
        impl PassportReader for EmptyReader {
            fn read(&mut self) -> Result<PassportRead, PassportError> {
                std::thread::sleep(Duration::from_millis(10));
                Err(PassportError::NoDocument)
            }
        }

        struct NoFaces;
        impl FaceMatcher for NoFaces {
            fn detect(&mut self, _: &RgbImage) -> Result<Vec<DetectedFace>, FaceError> {
                Ok(Vec::new())
            }
            fn template(&mut self, _: &RgbImage) -> Result<FaceTemplate, FaceError> {
                Err(FaceError::NoFace)
            }
            fn threshold(&self) -> f32 {
                0.5
            }
        }

        fn lane() -> (Lane, mpsc::Receiver<FlowEvent>) {
            let devices = LaneDevices {
                passport_reader: Box::new(EmptyReader),
                qr_scanner: Box::new(Frames),
                face_camera: Box::new(Frames),
                gate_camera: Box::new(Frames),
                face_matcher: Box::new(NoFaces),
                gate: None,
            };
            let config = KioskConfig {
                step_timeout_secs: StepTimeouts { passport: 1, declaration: 1, face: 1 },
                ..KioskConfig::default()
            };
            let mut lane = Lane::new(config, TrustStore::new(), Store::open_in_memory().unwrap(), devices);
            let (tx, rx) = mpsc::channel();
            lane.subscribe(tx);
            (lane, rx)
        }

        #[test]
        fn a_step_out_of_time_is_a_recorded_referral() {
            let (mut lane, rx) = lane();
            let t0 = Instant::now();
            let out = lane.process_kiosk().unwrap();
            assert!(t0.elapsed() >= Duration::from_secs(1), "the passport step waited its limit");
            assert_eq!(out.interrupted, Some(Interrupt::TimedOut));
            assert!(!out.decision.is_green());
            let rec = lane.store().transaction(&out.transaction).unwrap().unwrap();
            assert_eq!(rec.outcome.as_deref(), Some("referral"));
            assert_eq!(rec.gate_result.as_deref(), Some("timed_out"));
            let events: Vec<FlowEvent> = rx.try_iter().collect();
            assert!(
                events
                    .iter()
                    .any(|e| matches!(e, FlowEvent::Deadline { step: Step::Passport, limit_ms: 1000, .. }))
            );
            assert!(events.iter().any(|e| matches!(
                e,
                FlowEvent::StepFinished {
                    step: Step::Passport,
                    outcome: crate::lane::events::StepOutcome::Failed { code: failure::TIMED_OUT, .. },
                    ..
                }
            )));
            // The later steps are skipped unseen, and no decision is shown.
            assert!(!events.iter().any(|e| matches!(
                e,
                FlowEvent::StepStarted { step: Step::Declaration | Step::Face, .. }
                    | FlowEvent::Decided { .. }
            )));
            assert!(!lane.control().in_transaction());
        }

        #[test]
        fn a_cancel_ends_the_transaction_as_cancelled() {
            let (mut lane, _rx) = lane();
            lane.control().set_timeouts(StepTimeouts { passport: 30, declaration: 30, face: 30 });
            let control = lane.control();
            let canceller = std::thread::spawn(move || {
                let t0 = Instant::now();
                while !control.cancel() {
                    assert!(t0.elapsed() < Duration::from_secs(10));
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            let t0 = Instant::now();
            let out = lane.process_kiosk().unwrap();
            canceller.join().unwrap();
            assert!(t0.elapsed() < Duration::from_secs(10), "cancel stops the wait");
            assert_eq!(out.interrupted, Some(Interrupt::Cancelled));
            assert!(!out.decision.is_green());
            let rec = lane.store().transaction(&out.transaction).unwrap().unwrap();
            assert_eq!(rec.gate_result.as_deref(), Some("cancelled"));
        }
    }
}
