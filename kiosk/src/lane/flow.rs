//! One passenger through the kiosk, then through the gate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use gate_controller::link::{GateEvent, GateLink, GateMode};
use image::RgbImage;
use tracing::{info, warn};

use super::audit::FaceAudit;
use super::clock;
use super::control::{GuardedCamera, Interrupt, LaneControl, preview_frame};
use super::events::{FlowEvent, GateStatus, Step, StepOutcome, TransactionId, failure};
use super::gate_monitor::{GateDesk, GateMonitor, PassageFollower, PassageIds};
use super::gate_station::{Clearances, GateMatch};
use crate::camera::{Camera, CameraError};
use crate::config::KioskConfig;
use crate::decision::{
    self, Authenticity, Decision, DeclarationFinding, DocumentFinding, FaceFinding, Findings,
    PresentationFinding,
};
use crate::declaration::payload::{PayloadError, QR_PREFIX, TrustStore, VerifiedDeclaration};
use crate::face::quality::{self, FrameQuality, Guidance};
use crate::face::{DetectedFace, FaceError, FaceMatcher, FaceTemplate, pad};
use crate::passport::{PassportError, PassportRead, PassportReader};
use crate::qr;
use crate::store::{Store, StoreError};
use crate::watch_list::WatchList;

/// The devices of one lane, each behind its trait.
pub struct LaneDevices {
    pub passport_reader: Box<dyn PassportReader>,
    pub qr_scanner: Box<dyn Camera>,
    pub face_camera: Box<dyn Camera>,
    pub gate_camera: Box<dyn Camera>,
    pub face_matcher: Box<dyn FaceMatcher>,
    /// `None` when no gate is connected: cleared passengers are then told the
    /// gate is unavailable and nobody is let through.
    pub gate: Option<GateLink>,
}

#[derive(Debug, thiserror::Error)]
pub enum LaneError {
    #[error("records could not be written; the lane stops rather than let anyone through unrecorded: {0}")]
    Store(#[from] StoreError),
}

/// What the kiosk decided for one passenger.
#[derive(Debug, Clone)]
pub struct KioskOutcome {
    pub transaction: TransactionId,
    pub decision: Decision,
    pub face_score: Option<f32>,
    pub step_ms: BTreeMap<&'static str, u64>,
    /// Set when the passenger cancelled or a step ran out of time: the
    /// decision is then a referral and the record's result says which.
    pub interrupted: Option<Interrupt>,
}

/// What happened at the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateOutcome {
    /// Passed: the flaps opened for this transaction and the passage completed.
    Passed { transaction: TransactionId, passage_id: u64 },
    /// The gate camera saw nobody it had a clearance for.
    NotRecognised,
    /// Authorised, but the passenger did not come through.
    TimedOut { transaction: TransactionId, passage_id: u64 },
    /// The gate raised an alarm during the passage.
    Alarm { transaction: TransactionId, passage_id: u64, alarm: String },
    /// No gate link: nobody is let through.
    GateUnavailable(String),
}

pub struct Lane {
    config: KioskConfig,
    trust: TrustStore,
    store: Store,
    devices: LaneDevices,
    clearances: Clearances,
    observers: Vec<Sender<FlowEvent>>,
    /// Cancel requests and step time limits, shared with the UI.
    control: LaneControl,
    counter: u64,
    rng_state: u64,
    /// Risk watch list (hashes only); None: no list configured.
    watch_list: Option<WatchList>,
    /// Audit setting for face images; None (the default): nothing kept.
    face_audit: Option<FaceAudit>,
    /// The gate, for the lane's own authorisations and for staff commands.
    desk: GateDesk,
    passages: PassageIds,
    /// Events of the passage being followed; None without a gate.
    follower: Option<PassageFollower>,
    /// Records every other gate event as it comes; stopped with the lane.
    _monitor: Option<GateMonitor>,
}

impl Lane {
    pub fn new(config: KioskConfig, trust: TrustStore, store: Store, mut devices: LaneDevices) -> Lane {
        let seed = crate::store::now_ms() as u64 | 1;
        let face_audit = FaceAudit::install(
            config.audit_face_images.as_deref(),
            &mut devices.face_camera,
            &mut devices.gate_camera,
        );
        let control = LaneControl::new(config.step_timeout_secs);
        // Capture loops of timed steps end at their next frame once the step
        // is cancelled or out of time.
        devices.qr_scanner = GuardedCamera::wrap(devices.qr_scanner, control.clone());
        devices.face_camera = GuardedCamera::wrap(devices.face_camera, control.clone());
        let gate = devices.gate.take().map(Arc::new);
        let (monitor, follower) = match &gate {
            Some(g) => {
                let (m, f) = GateMonitor::start(g.clone(), store.clone(), config.lane.clone());
                (Some(m), Some(f))
            }
            None => (None, None),
        };
        let passages = PassageIds::new(store.clone());
        let desk = GateDesk::new(
            gate,
            store.clone(),
            config.lane.clone(),
            passages.clone(),
            Duration::from_millis(config.passage_time_limit_ms),
        );
        Lane {
            config,
            trust,
            store,
            devices,
            clearances: Clearances::default(),
            observers: Vec::new(),
            control,
            counter: 0,
            rng_state: seed,
            watch_list: None,
            face_audit,
            desk,
            passages,
            follower,
            _monitor: monitor,
        }
    }

    /// Staff commands to this lane's gate, applied at once from any thread
    /// (the lane may be busy with a passenger).
    pub fn gate_desk(&self) -> GateDesk {
        self.desk.clone()
    }

    /// Check every chip read against this watch list from now on.
    pub fn set_watch_list(&mut self, list: WatchList) {
        self.watch_list = Some(list);
    }

    pub fn subscribe(&mut self, tx: Sender<FlowEvent>) {
        self.observers.push(tx);
    }

    /// The handle controllers (UI, headless mode, tests) cancel through.
    pub fn control(&self) -> LaneControl {
        self.control.clone()
    }

    /// Sends a downscaled copy of a camera frame to the observers, for the
    /// on-screen preview of `step`; never stored or logged.
    fn emit_preview(&mut self, step: Step, frame: &RgbImage) {
        let Some(transaction) = self.control.transaction().filter(|_| !self.observers.is_empty()) else {
            return;
        };
        let frame = std::sync::Arc::new(preview_frame(frame));
        self.emit(FlowEvent::Preview { transaction, step, frame });
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn active_clearances(&self) -> usize {
        self.clearances.len()
    }

    fn emit(&mut self, event: FlowEvent) {
        // An observer that went away (window closed) is dropped, not fatal.
        self.observers.retain(|o| o.send(event.clone()).is_ok());
    }

    pub fn shutdown(&mut self, reason: &str) {
        self.emit(FlowEvent::Shutdown { reason: reason.to_string() });
    }

    pub fn idle(&mut self) {
        self.emit(FlowEvent::Idle);
    }

    fn new_transaction_id(&mut self) -> String {
        self.counter += 1;
        format!("{}-{:x}-{}", self.config.lane, crate::store::now_ms(), self.counter)
    }

    fn random_selection(&mut self) -> bool {
        if self.config.random_selection_rate <= 0.0 {
            return false;
        }
        // xorshift64*: selection only needs to be unpredictable to passengers,
        // not cryptographically strong.
        self.rng_state ^= self.rng_state >> 12;
        self.rng_state ^= self.rng_state << 25;
        self.rng_state ^= self.rng_state >> 27;
        let x = self.rng_state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64 <= self.config.random_selection_rate
    }

    fn step<T>(
        &mut self,
        tx: &str,
        step: Step,
        times: &mut BTreeMap<&'static str, u64>,
        f: impl FnOnce(&mut Self) -> Result<T, (&'static str, String)>,
    ) -> Result<T, (&'static str, String)> {
        // After a cancel or a timeout the remaining steps are skipped, unseen.
        if let Some(stop) = self.control.stopped() {
            return Err((stop.code(), "skipped: the transaction was stopped".into()));
        }
        self.emit(FlowEvent::StepStarted { transaction: tx.to_string(), step });
        if let Some(limit) = self.control.begin_step(step) {
            let limit_ms = limit.as_millis() as u64;
            self.emit(FlowEvent::Deadline { transaction: tx.to_string(), step, limit_ms });
        }
        let start = Instant::now();
        let r = match self.control.interruption() {
            Some(i) => Err((i.code(), "stopped before the step started".into())),
            None => f(self),
        };
        // A cancel wins over any result (a captured template is dropped,
        // zeroed); a timeout only over a failure: a result that arrived is used.
        let r = match (self.control.end_step(), r) {
            (Some(Interrupt::Cancelled), _) => Err((failure::CANCELLED, "the passenger cancelled".into())),
            (Some(Interrupt::TimedOut), Err((_, detail))) => {
                Err((failure::TIMED_OUT, format!("the step's time limit passed ({detail})")))
            }
            (_, r) => r,
        };
        let elapsed_ms = start.elapsed().as_millis() as u64;
        times.insert(step.as_str(), elapsed_ms);
        let outcome = match &r {
            Ok(_) => StepOutcome::Ok,
            Err((code, detail)) => {
                warn!(transaction = tx, step = step.as_str(), code, detail = %detail, "step failed");
                StepOutcome::Failed { code, detail: detail.clone() }
            }
        };
        info!(transaction = tx, step = step.as_str(), elapsed_ms, ok = r.is_ok(), "step finished");
        self.emit(FlowEvent::StepFinished { transaction: tx.to_string(), step, outcome, elapsed_ms });
        r
    }

    /// Run the kiosk steps for the passenger in front of it: passport,
    /// declaration, face, decision. A green passenger is enrolled at the gate.
    pub fn process_kiosk(&mut self) -> Result<KioskOutcome, LaneError> {
        let tx = self.new_transaction_id();
        self.store.begin_transaction(&tx, &self.config.lane)?;
        self.control.begin_transaction(&tx);
        let mut times = BTreeMap::new();
        info!(transaction = %tx, lane = %self.config.lane, "passenger arrived");
        let _ = self.step(&tx, Step::Welcome, &mut times, |_| Ok(()));

        // 1. Passport.
        let passport = self.step(&tx, Step::Passport, &mut times, |lane| {
            lane.read_passport().map_err(|e| match e {
                PassportError::ReaderUnavailable(_) => (failure::READER_UNAVAILABLE, e.to_string()),
                PassportError::PageMrz(_) => (failure::DOCUMENT_UNKNOWN, e.to_string()),
                _ => (failure::CHIP_UNREADABLE, e.to_string()),
            })
        });
        let (document, passport) = match passport {
            Ok(p) => (document_finding(&p), Some(p)),
            Err(_) => (DocumentFinding::Unreadable, None),
        };

        // 2. Declaration QR code.
        let mut qr_stats = QrStats::default();
        let declaration = self.step(&tx, Step::Declaration, &mut times, |lane| {
            let v = lane.read_declaration(&mut qr_stats).map_err(|e| match e {
                DeclarationReadError::Camera(_) => (failure::CAMERA_UNAVAILABLE, e.to_string()),
                _ => (failure::QR_INVALID, e.to_string()),
            })?;
            if let Some(p) = &passport
                && !v.declaration.belongs_to(&p.chip_mrz)
            {
                return Err((failure::QR_NOT_YOURS, "the declaration names another passport".into()));
            }
            if lane
                .store
                .declaration_used(&replay_key(&v, passport.as_ref()))
                .map_err(|e| ("store", e.to_string()))?
            {
                return Err((failure::QR_INVALID, "this declaration was already used at a gate".into()));
            }
            Ok(v)
        });
        // The QR decode latency goes with the step times to the store.
        times.insert("qr_decode_ms", qr_stats.decode.as_millis() as u64);
        times.insert("qr_frames", u64::from(qr_stats.frames));
        let declaration_finding = match &declaration {
            Ok(v) => DeclarationFinding::Valid { declared: v.declaration.referral_reasons() },
            Err((failure::QR_NOT_YOURS, _)) => DeclarationFinding::HolderMismatch,
            Err(_) => DeclarationFinding::Invalid,
        };

        // 3. Face: the chip portrait against the best frame of a live burst,
        // and presentation attack detection over the whole burst.
        let mut live_template = None;
        let mut presentation = PresentationFinding::NotAssessed;
        let face = match &passport {
            Some(p) => {
                let r = self.step(&tx, Step::Face, &mut times, |lane| {
                    lane.verify_face(p).map_err(|e| match e {
                        FaceCaptureError::Camera(CameraError::Unavailable(_)) => {
                            (failure::CAMERA_UNAVAILABLE, e.to_string())
                        }
                        _ => (failure::FACE_NOT_MATCHED, e.to_string()),
                    })
                });
                match r {
                    Ok(v) => {
                        presentation = v.presentation;
                        if let Some(a) = &v.pad {
                            times.insert("pad_score_permille", (a.score * 1000.0).round() as u64);
                        }
                        if v.score >= self.devices.face_matcher.threshold() {
                            live_template = Some(v.live);
                            FaceFinding::Matched { score: v.score }
                        } else {
                            FaceFinding::NotMatched { score: v.score }
                        }
                    }
                    Err(_) => FaceFinding::NotCaptured,
                }
            }
            None => FaceFinding::NotCaptured,
        };
        let face_score = match face {
            FaceFinding::Matched { score } | FaceFinding::NotMatched { score } => Some(score),
            FaceFinding::NotCaptured => None,
        };

        // 4. Decision, committed before anything reaches the gate.
        let randomly_selected = self.random_selection();
        let authenticity = match &passport {
            Some(p) => Authenticity {
                data_genuine: p.authentication.data_genuine(),
                chip_genuine: !p.authentication.chip_clone_suspected(),
            },
            // Unreadable: the document finding already refers the passenger.
            None => Authenticity::GENUINE,
        };
        if let Some(p) = &passport {
            let a = &p.authentication;
            info!(
                transaction = %tx,
                passive = a.passive.verdict.label(),
                chip = a.chip_authentication.label(),
                active = a.active_authentication.label(),
                "document authentication"
            );
            if !a.passive.verdict.is_passed() {
                warn!(transaction = %tx, "{}", a.passive.summary());
            }
        }
        // Risk: the chip's DG1 (read and passively authenticated above)
        // against the hashed watch list. Logged without names or numbers.
        let watch_list_hit = match (&self.watch_list, &passport) {
            (Some(list), Some(p)) => match list.check(&p.chip_mrz) {
                Some(kind) => {
                    warn!(transaction = %tx, entry = kind.as_str(), "watch list hit");
                    true
                }
                None => false,
            },
            _ => false,
        };
        let findings = Findings {
            document,
            authenticity,
            declaration: declaration_finding,
            face,
            presentation,
            randomly_selected,
            watch_list_hit,
        };
        let decision = decision::decide(&findings);
        let stopped = self.control.stopped();
        self.control.end_transaction();
        if let Some(stop) = stopped {
            let access = passport.as_ref().map(|p| p.access);
            return self.end_stopped(&tx, stop, decision, face_score, access, times);
        }
        self.emit(FlowEvent::StepStarted { transaction: tx.clone(), step: Step::Result });
        let step_json = serde_json::to_value(&times).unwrap_or_default();
        self.store.record_decision(
            &tx,
            &decision,
            face_score,
            passport.as_ref().map(|p| p.access),
            &step_json,
        )?;
        info!(transaction = %tx, green = decision.is_green(), reasons = ?decision.reasons(), ?face_score, "decided");
        if let Some(audit) = &self.face_audit {
            audit.keep(&audit.kiosk, &tx, "kiosk-face");
        }
        self.emit(FlowEvent::Decided { transaction: tx.clone(), decision: decision.clone() });

        if decision.is_green() {
            if let Ok(v) = &declaration {
                self.store.claim_declaration(&replay_key(v, passport.as_ref()), &tx)?;
            }
            if let Some(t) = live_template.take() {
                let ttl = Duration::from_secs(self.config.clearance_ttl_secs);
                self.clearances.enroll(tx.clone(), t, ttl, Instant::now());
            }
        } else {
            self.store.finish_transaction(&tx, "referred")?;
        }
        // A referred passenger's live template is dropped (zeroed) here.
        drop(live_template);
        Ok(KioskOutcome { transaction: tx, decision, face_score, step_ms: times, interrupted: None })
    }

    /// A cancelled or timed-out transaction: recorded as a referral (never
    /// green) with the result `cancelled` / `timed_out`; no `Decided` event
    /// (the screen shows the timeout, or the start after a cancel), nothing
    /// enrolled, the declaration not claimed.
    fn end_stopped(
        &mut self,
        tx: &str,
        stop: Interrupt,
        decision: Decision,
        face_score: Option<f32>,
        access: Option<&'static str>,
        times: BTreeMap<&'static str, u64>,
    ) -> Result<KioskOutcome, LaneError> {
        let decision = if decision.is_green() { Decision::Referral(Vec::new()) } else { decision };
        let step_json = serde_json::to_value(&times).unwrap_or_default();
        self.store.record_decision(tx, &decision, face_score, access, &step_json)?;
        self.store.finish_transaction(tx, stop.code())?;
        info!(transaction = %tx, result = stop.code(), "transaction stopped; referred, nothing enrolled");
        Ok(KioskOutcome {
            transaction: tx.to_string(),
            decision,
            face_score,
            step_ms: times,
            interrupted: Some(stop),
        })
    }

    /// Waits for a document while the step has time left (at least
    /// `capture_attempts` tries), until a cancel request.
    fn read_passport(&mut self) -> Result<PassportRead, PassportError> {
        let mut last = PassportError::NoDocument;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.devices.passport_reader.read() {
                Ok(p) => return Ok(p),
                Err(PassportError::NoDocument) => {}
                Err(e) => {
                    last = e;
                    break;
                }
            }
            let time_left = self.control.time_left().is_some_and(|t| !t.is_zero());
            if self.control.should_stop() || (!time_left && tries >= self.config.capture_attempts.max(1)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(last)
    }

    /// Capture frames until a declaration code verifies, with the
    /// multi-stage reader ([`qr::Reader::for_declarations`]). One frame is
    /// enough for a code whose signature verifies (a misread cannot carry a
    /// valid Ed25519 signature); a declaration code that fails verification
    /// is final only once the same text was read in 2 of the last 5 frames
    /// ([`qr::Votes`]), so a single misread frame never refers anyone. Other
    /// codes in view (a boarding pass) are ignored. The decode latency and
    /// frames are logged with the result and left in `stats` (the step times
    /// record them as `qr_decode_ms` and `qr_frames`). The frame budget and
    /// the vote come from the configuration (`qr_frame_budget_ms`,
    /// `qr_votes_needed` of `qr_votes_window`).
    fn read_declaration(&mut self, stats: &mut QrStats) -> Result<VerifiedDeclaration, DeclarationReadError> {
        let attempts = self.config.capture_attempts.max(1);
        let budget = QR_FRAME_BUDGET.min(Duration::from_millis(self.config.qr_frame_budget_ms));
        let reader = qr::Reader { budget: Some(budget), ..qr::Reader::for_declarations() };
        let mut votes = qr::Votes::new(self.config.qr_votes_needed, self.config.qr_votes_window);
        let mut refused: Vec<(String, PayloadError)> = Vec::new();
        *stats = QrStats::default();
        let mut last = DeclarationReadError::NoCode;
        for _ in 0..attempts {
            if self.control.should_stop() {
                break;
            }
            let frame = match self.devices.qr_scanner.capture() {
                Ok(f) => f,
                Err(CameraError::NoFrame) => continue,
                Err(e) => return Err(DeclarationReadError::Camera(e)),
            };
            self.emit_preview(Step::Declaration, &frame);
            let scan = reader.read(&frame);
            stats.add(&scan);
            let declarations: Vec<String> =
                scan.texts.iter().filter(|t| t.starts_with(QR_PREFIX)).cloned().collect();
            if declarations.is_empty() && !scan.texts.is_empty() {
                last = DeclarationReadError::Payload(PayloadError::Foreign);
            }
            for t in &declarations {
                if refused.iter().any(|(r, _)| r == t) {
                    continue;
                }
                match self.trust.verify_qr(t, clock::unix_now()) {
                    Ok(v) => {
                        stats.log("verified");
                        return Ok(v);
                    }
                    Err(e) => refused.push((t.clone(), e)),
                }
            }
            if let Some(t) = votes.push(&declarations)
                && let Some((_, e)) = refused.iter().find(|(r, _)| *r == t)
            {
                stats.log("refused");
                return Err(DeclarationReadError::Payload(e.clone()));
            }
            if let Some((_, e)) = declarations.last().and_then(|t| refused.iter().find(|(r, _)| r == t)) {
                last = DeclarationReadError::Payload(e.clone());
            }
        }
        stats.log("no valid declaration");
        Err(last)
    }

    fn verify_face(&mut self, passport: &PassportRead) -> Result<FaceVerification, FaceCaptureError> {
        // JPEG or JPEG 2000, decoded with size limits (the chip is untrusted).
        let portrait =
            passport.portrait.decode().map_err(|e| FaceCaptureError::Portrait(e.to_string()))?.to_rgb8();
        let reference = self
            .devices
            .face_matcher
            .template(&portrait)
            .map_err(|e| FaceCaptureError::Portrait(e.to_string()))?;
        let burst = self.capture_burst()?;
        let qualities: Vec<FrameQuality> = burst.iter().map(|f| f.quality.clone()).collect();
        let best = quality::best_of_burst(&qualities).map_err(FaceCaptureError::Quality)?;
        let live = self
            .devices
            .face_matcher
            .template_of(&burst[best].frame, &burst[best].face)
            .map_err(FaceCaptureError::Face)?;
        let outcome = self.devices.face_matcher.compare(&reference, &live);
        let frames: Vec<&RgbImage> = burst.iter().map(|f| &f.frame).collect();
        let faces: Vec<DetectedFace> = burst.iter().map(|f| f.face).collect();
        let pad = match pad::assess_burst(&frames, &faces, &pad::PadCalibration::default()) {
            Ok(a) => Some(a),
            Err(e) => {
                info!(error = %e, "presentation attack detection not possible on this burst");
                None
            }
        };
        let presentation = match pad {
            Some(a) if a.score >= self.config.pad_threshold => {
                PresentationFinding::BonaFide { score: a.score }
            }
            Some(a) => {
                warn!(
                    score = a.score,
                    parallax = a.parallax,
                    texture_peak = a.texture_peak,
                    "presentation attack suspected"
                );
                PresentationFinding::AttackSuspected { score: a.score }
            }
            None => PresentationFinding::NotAssessed,
        };
        Ok(FaceVerification { score: outcome.score, live, presentation, pad })
    }

    /// The kiosk camera's burst: frames with one dominant face, up to
    /// `face_burst_frames` of them, within `capture_attempts` frames beyond
    /// the burst. Each frame is previewed and its quality turned into a
    /// hint for the passenger.
    fn capture_burst(&mut self) -> Result<Vec<BurstFrame>, FaceCaptureError> {
        let wanted = self.config.face_burst_frames.max(2);
        let attempts = wanted + self.config.capture_attempts as usize;
        let limits = self.config.face_quality;
        let mut burst = Vec::with_capacity(wanted);
        let mut last_hint = None;
        let mut last_error = FaceCaptureError::Camera(CameraError::NoFrame);
        for _ in 0..attempts {
            if burst.len() >= wanted || self.control.should_stop() {
                break;
            }
            let frame: RgbImage = match self.devices.face_camera.capture() {
                Ok(f) => f,
                Err(CameraError::NoFrame) => continue,
                Err(e) => return Err(FaceCaptureError::Camera(e)),
            };
            self.emit_preview(Step::Face, &frame);
            let faces = match self.devices.face_matcher.detect(&frame) {
                Ok(f) => f,
                Err(e @ (FaceError::ModelMissing { .. } | FaceError::Backend(_))) => {
                    return Err(FaceCaptureError::Face(e));
                }
                Err(e) => {
                    last_error = FaceCaptureError::Face(e);
                    continue;
                }
            };
            let q = quality::assess(&frame, &faces, &limits);
            let hint = q.guidance().map(hint_code);
            if hint != last_hint {
                last_hint = hint;
                if let (Some(hint), Some(transaction)) = (hint, self.control.transaction()) {
                    self.emit(FlowEvent::Guidance { transaction, step: Step::Face, hint });
                }
            }
            match quality::single_face(&faces) {
                Some(face) => burst.push(BurstFrame { frame, face, quality: q }),
                None => {
                    last_error = FaceCaptureError::Quality(q.guidance().unwrap_or(Guidance::LookAtCamera));
                }
            }
        }
        if burst.is_empty() { Err(last_error) } else { Ok(burst) }
    }

    /// Set the gate's mode on a staff command (`by`: who asked, `command`:
    /// the console's command id); the result is a gate event either way.
    pub fn set_gate_mode(&mut self, mode: GateMode, by: &str, command: i64) -> Result<bool, LaneError> {
        Ok(self.desk.set_mode(mode, by, command)?)
    }

    /// Who is walking up to the gate, among the active clearances (1:N).
    /// First on the move: each of the first `gate_walking_frames` frames
    /// with one face is matched as it comes. No match: stop-and-capture:
    /// the gate display asks the passenger to stop and look at the camera,
    /// up to `capture_attempts` frames are quality-checked and the best one
    /// is matched. `None` (recorded as `not_recognised`): nobody is let
    /// through and the passenger goes to staff. Probes are zeroed on drop.
    fn recognise_at_gate(&mut self) -> Result<Option<GateMatch>, LaneError> {
        let threshold = self.devices.face_matcher.threshold();
        let mut camera_error = None;
        for _ in 0..self.config.gate_walking_frames {
            let frame = match self.devices.gate_camera.capture() {
                Ok(f) => f,
                Err(CameraError::NoFrame) => continue,
                Err(e) => {
                    camera_error = Some(e);
                    break;
                }
            };
            let Some(face) =
                self.devices.face_matcher.detect(&frame).ok().and_then(|f| quality::single_face(&f))
            else {
                continue;
            };
            if let Ok(probe) = self.devices.face_matcher.template_of(&frame, &face)
                && let Some(m) = self.clearances.best_match(&probe, threshold)
            {
                info!(transaction = %m.transaction, score = m.score, "gate camera: recognised while walking");
                return Ok(Some(m));
            }
        }
        if let Some(e) = camera_error {
            warn!(error = %e, "gate camera unavailable; nobody is let through");
            self.store.record_gate_event(
                &self.config.lane,
                None,
                None,
                "camera_unavailable",
                Some(&e.to_string()),
            )?;
            return Ok(None);
        }
        info!("gate camera: no clearance matched while walking; stop and capture");
        self.store.record_gate_event(&self.config.lane, None, None, "stop_and_capture", None)?;
        self.emit(FlowEvent::GateCamera { hint: super::events::guidance::STOP_AND_LOOK });
        let limits = self.config.face_quality;
        let mut best: Option<(f32, RgbImage, DetectedFace)> = None;
        for _ in 0..self.config.capture_attempts.max(1) {
            let frame = match self.devices.gate_camera.capture() {
                Ok(f) => f,
                Err(CameraError::NoFrame) => continue,
                Err(_) => break,
            };
            let Ok(faces) = self.devices.face_matcher.detect(&frame) else { continue };
            let q = quality::assess(&frame, &faces, &limits);
            if let Some(face) = quality::single_face(&faces).filter(|_| q.is_acceptable())
                && best.as_ref().is_none_or(|(rank, _, _)| q.rank > *rank)
            {
                best = Some((q.rank, frame, face));
            }
        }
        let found = best.and_then(|(_, frame, face)| {
            let probe = self.devices.face_matcher.template_of(&frame, &face).ok()?;
            self.clearances.best_match(&probe, threshold)
        });
        match &found {
            Some(m) => {
                info!(transaction = %m.transaction, score = m.score, "gate camera: recognised after stop-and-capture")
            }
            None => {
                info!("gate camera: face matches no active clearance");
                if let Some(audit) = &self.face_audit {
                    audit.discard(&audit.gate);
                }
                self.store.record_gate_event(&self.config.lane, None, None, "not_recognised", None)?;
            }
        }
        Ok(found)
    }

    /// The gate camera sees the next walking passenger: recognise them among
    /// the clearances, authorise one passage, follow it to the end.
    pub fn process_gate(&mut self) -> Result<GateOutcome, LaneError> {
        for expired in self.clearances.expire(Instant::now()) {
            self.store.finish_transaction(&expired, "clearance_expired")?;
        }
        let Some(m) = self.recognise_at_gate()? else {
            return Ok(GateOutcome::NotRecognised);
        };
        let tx = m.transaction;
        if let Some(audit) = &self.face_audit {
            audit.keep(&audit.gate, &tx, "gate-face");
        }
        self.emit(FlowEvent::StepStarted { transaction: tx.clone(), step: Step::Gate });
        let passage_id = self.passages.next()?;
        self.store.set_passage(&tx, passage_id)?;
        let limit = Duration::from_millis(self.config.passage_time_limit_ms);
        if let Some(f) = &self.follower {
            f.begin(passage_id);
        }
        let authorised = self.desk.authorise(passage_id, limit);
        if let Err(msg) = authorised {
            if let Some(f) = &self.follower {
                f.end();
            }
            // Safe state: the flaps stay closed, the passenger goes to staff,
            // the record is closed and the face template deleted.
            warn!(transaction = %tx, passage_id, error = %msg, "gate authorisation failed");
            self.store.record_gate_event(
                &self.config.lane,
                Some(&tx),
                Some(passage_id),
                "link_error",
                Some(&msg),
            )?;
            self.store.finish_transaction(&tx, "gate_unavailable")?;
            self.clearances.remove(&tx);
            self.emit(FlowEvent::Gate { transaction: tx.clone(), status: GateStatus::LinkDown(msg.clone()) });
            return Ok(GateOutcome::GateUnavailable(msg));
        }
        info!(transaction = %tx, passage_id, score = m.score, "gate authorised");
        self.store.record_gate_event(&self.config.lane, Some(&tx), Some(passage_id), "authorised", None)?;
        self.emit(FlowEvent::Gate { transaction: tx.clone(), status: GateStatus::Authorised });

        // Follow the passage until it completes, times out or alarms; give the
        // gate its own time limit plus a margin before calling it lost.
        let deadline = Instant::now() + limit + Duration::from_secs(5);
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break GateOutcome::TimedOut { transaction: tx.clone(), passage_id };
            }
            let Some(ev) = self.follower.as_ref().and_then(|f| f.next_event(left)) else {
                // Nothing yet; the deadline above ends the wait.
                continue;
            };
            match ev {
                GateEvent::PassengerEntered { passage_id: p } if p == passage_id => {
                    self.store.record_gate_event(&self.config.lane, Some(&tx), Some(p), "entered", None)?;
                }
                GateEvent::PassageCompleted { passage_id: p } if p == passage_id => {
                    self.store.record_gate_event(
                        &self.config.lane,
                        Some(&tx),
                        Some(p),
                        "passage_completed",
                        None,
                    )?;
                    break GateOutcome::Passed { transaction: tx.clone(), passage_id };
                }
                GateEvent::PassageTimedOut { passage_id: p } if p == passage_id => {
                    self.store.record_gate_event(
                        &self.config.lane,
                        Some(&tx),
                        Some(p),
                        "passage_timed_out",
                        None,
                    )?;
                    break GateOutcome::TimedOut { transaction: tx.clone(), passage_id };
                }
                GateEvent::Alarm { kind, passage_id: p } => {
                    let alarm = format!("{kind:?}");
                    warn!(transaction = %tx, passage_id, alarm = %alarm, "gate alarm");
                    self.store.record_gate_event(&self.config.lane, Some(&tx), p, "alarm", Some(&alarm))?;
                    self.emit(FlowEvent::Gate {
                        transaction: tx.clone(),
                        status: GateStatus::Alarm(alarm.clone()),
                    });
                    break GateOutcome::Alarm { transaction: tx.clone(), passage_id, alarm };
                }
                GateEvent::LinkLost(reason) => {
                    self.store.record_gate_event(
                        &self.config.lane,
                        Some(&tx),
                        Some(passage_id),
                        "link_lost",
                        Some(&reason),
                    )?;
                    self.emit(FlowEvent::Gate {
                        transaction: tx.clone(),
                        status: GateStatus::LinkDown(reason),
                    });
                }
                other => info!(event = ?other, "gate event"),
            }
        };
        let (result, status) = match &outcome {
            GateOutcome::Passed { .. } => ("passage_completed", GateStatus::PassageCompleted),
            GateOutcome::TimedOut { .. } => ("passage_timed_out", GateStatus::PassageTimedOut),
            GateOutcome::Alarm { alarm, .. } => ("alarm", GateStatus::Alarm(alarm.clone())),
            _ => ("gate_unavailable", GateStatus::LinkDown(String::new())),
        };
        if let Some(f) = &self.follower {
            f.end();
        }
        self.store.finish_transaction(&tx, result)?;
        // Biometric data end here: the clearance's template is zeroed on drop.
        self.clearances.remove(&tx);
        info!(transaction = %tx, passage_id, result, "gate done; face template deleted");
        self.emit(FlowEvent::Gate { transaction: tx, status });
        Ok(outcome)
    }
}

fn document_finding(p: &PassportRead) -> DocumentFinding {
    if !p.is_consistent() {
        return DocumentFinding::Inconsistent;
    }
    match p.chip_mrz.expiry_ymd() {
        Some(expiry) if expiry >= clock::today() => DocumentFinding::Valid,
        Some(_) => DocumentFinding::Expired,
        None => DocumentFinding::Inconsistent,
    }
}

/// Upper bound on the configured QR frame budget (`qr_frame_budget_ms`): a
/// configuration cannot make one frame hold the lane longer than this.
const QR_FRAME_BUDGET: Duration = Duration::from_millis(1_000);

/// Decode latency of one declaration read, for the log.
#[derive(Debug, Default)]
struct QrStats {
    frames: u32,
    decode: Duration,
    last: Duration,
    stage: Option<qr::Stage>,
}

impl QrStats {
    fn add(&mut self, scan: &qr::QrScan) {
        self.frames += 1;
        self.decode += scan.elapsed;
        self.last = scan.elapsed;
        if scan.stage.is_some() {
            self.stage = scan.stage;
        }
    }

    fn log(&self, result: &str) {
        info!(
            result,
            frames = self.frames,
            decode_ms = self.decode.as_secs_f64() * 1e3,
            last_frame_ms = self.last.as_secs_f64() * 1e3,
            stage = self.stage.map(qr::Stage::name).unwrap_or("none"),
            "declaration QR code"
        );
    }
}

#[derive(Debug, thiserror::Error)]
enum DeclarationReadError {
    #[error("no declaration QR code was seen")]
    NoCode,
    #[error("{0}")]
    Payload(PayloadError),
    #[error("{0}")]
    Camera(CameraError),
}

#[derive(Debug, thiserror::Error)]
enum FaceCaptureError {
    #[error("{0}")]
    Camera(CameraError),
    #[error("{0}")]
    Face(FaceError),
    #[error("the chip portrait cannot be used: {0}")]
    Portrait(String),
    #[error("no usable face frame: {}", .0.message())]
    Quality(Guidance),
}

/// One frame of the kiosk camera's burst, with its single face.
struct BurstFrame {
    frame: RgbImage,
    face: DetectedFace,
    quality: FrameQuality,
}

/// The face step's result: the match score, the live template (enrolled at
/// the gate when green) and what presentation attack detection found.
struct FaceVerification {
    score: f32,
    live: FaceTemplate,
    presentation: PresentationFinding,
    pad: Option<pad::PadAssessment>,
}

/// The passenger hint ([`super::events::guidance`]) for a frame-quality issue.
fn hint_code(g: Guidance) -> &'static str {
    use super::events::guidance;
    match g {
        Guidance::LookAtCamera | Guidance::FaceTheCamera | Guidance::HoldHeadStraight => {
            guidance::LOOK_AT_CAMERA
        }
        Guidance::OnePersonOnly => guidance::ONE_PERSON,
        Guidance::ComeCloser => guidance::COME_CLOSER,
        Guidance::HoldStill => guidance::HOLD_STILL,
        Guidance::TooDark => guidance::MORE_LIGHT,
        Guidance::TooBright => guidance::TOO_BRIGHT,
        Guidance::RemoveSunglasses => guidance::REMOVE_SUNGLASSES,
    }
}

/// What a declaration is claimed under at the gate: each traveller on a
/// family declaration has their own key, so one member's passage does not
/// refuse the next; without a chip read, the whole declaration.
fn replay_key(v: &VerifiedDeclaration, passport: Option<&PassportRead>) -> [u8; 32] {
    passport.and_then(|p| v.replay_key_for(&p.chip_mrz)).unwrap_or(v.digest)
}
