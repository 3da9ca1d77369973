//! What the UI shows, as data: the current step (a Bevy state), the
//! passenger's decision/failure/gate status, and the texts. Updated only from
//! lane events ([`FlowEvent`]) and from the passenger's own touches (language,
//! start); never drives a device.

use std::path::Path;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;

use crate::decision::Decision;
use crate::i18n::{I18nError, Language, Translator};
use crate::lane::control::LaneControl;
use crate::lane::events::{FlowEvent, GateStatus, Step, StepOutcome, TransactionId, failure};
use image::RgbImage;

/// The step on screen.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UiStep(pub Step);

impl Default for UiStep {
    fn default() -> Self {
        UiStep(Step::Welcome)
    }
}

/// One passenger's visit as the UI sees it.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct Passenger {
    pub transaction: Option<TransactionId>,
    pub decision: Option<Decision>,
    /// The last failed step and its failure code, until that step succeeds
    /// or another step starts.
    pub failure: Option<(Step, &'static str)>,
    pub gate: Option<GateStatus>,
    /// The current capture hint (`lane::events::guidance`) of a step.
    pub hint: Option<(Step, &'static str)>,
    /// A note for the welcome screen after a cancel (`failure::CANCELLED`).
    pub notice: Option<&'static str>,
}

/// What a lane event asks of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    Stay,
    Show(Step),
    /// Back to the welcome screen in the default language.
    Reset,
    Quit,
}

impl Passenger {
    fn start_transaction(&mut self, transaction: &TransactionId) {
        if self.transaction.as_ref() != Some(transaction) {
            *self = Passenger { transaction: Some(transaction.clone()), ..Default::default() };
        }
    }

    /// Applies one lane event.
    pub fn apply(&mut self, event: &FlowEvent) -> Reaction {
        match event {
            FlowEvent::Idle => {
                // A timeout screen stays until touched or the next passenger.
                if self.failure.is_some_and(|(_, c)| c == failure::TIMED_OUT) {
                    self.transaction = None;
                    return Reaction::Stay;
                }
                *self = Passenger { notice: self.notice, ..Passenger::default() };
                Reaction::Reset
            }
            FlowEvent::StepStarted { transaction, step } => {
                self.start_transaction(transaction);
                if self.failure.is_some_and(|(s, _)| s != *step) {
                    self.failure = None;
                }
                self.notice = None;
                if self.hint.is_some_and(|(s, _)| s != *step) {
                    self.hint = None;
                }
                Reaction::Show(*step)
            }
            FlowEvent::StepFinished { transaction, step, outcome, .. } => {
                self.start_transaction(transaction);
                match outcome {
                    StepOutcome::Ok => {
                        if self.failure.is_some_and(|(s, _)| s == *step) {
                            self.failure = None;
                        }
                    }
                    StepOutcome::Failed { code, .. } if *code == failure::CANCELLED => {
                        *self = Passenger { notice: Some(failure::CANCELLED), ..Passenger::default() };
                        return Reaction::Reset;
                    }
                    StepOutcome::Failed { code, .. } => self.failure = Some((*step, code)),
                }
                if self.hint.is_some_and(|(s, _)| s == *step) {
                    self.hint = None;
                }
                Reaction::Stay
            }
            FlowEvent::Decided { transaction, decision } => {
                self.start_transaction(transaction);
                self.failure = None;
                self.decision = Some(decision.clone());
                Reaction::Show(Step::Result)
            }
            FlowEvent::Gate { transaction, status } => {
                self.start_transaction(transaction);
                self.gate = Some(status.clone());
                Reaction::Show(Step::Gate)
            }
            FlowEvent::Guidance { transaction, step, hint } => {
                self.start_transaction(transaction);
                self.hint = Some((*step, hint));
                Reaction::Stay
            }
            // Kept outside the passenger ([`Countdown`], [`PreviewState`]).
            FlowEvent::Deadline { .. } | FlowEvent::Preview { .. } => Reaction::Stay,
            // For the gate's own display, not the kiosk screen.
            FlowEvent::GateCamera { .. } => Reaction::Stay,
            FlowEvent::Shutdown { .. } => Reaction::Quit,
        }
    }
}

/// Translators for every language; the passenger may switch on the welcome
/// screen, and the next passenger starts in the default language.
#[derive(Resource)]
pub struct Texts {
    translators: Vec<Translator>,
    pub current: Language,
    pub default: Language,
}

impl Texts {
    pub fn load(assets_dir: &Path, default: Language) -> Result<Texts, I18nError> {
        let translators =
            Language::ALL.iter().map(|l| Translator::load(assets_dir, *l)).collect::<Result<Vec<_>, _>>()?;
        Ok(Texts { translators, current: default, default })
    }

    pub fn get(&self, lang: Language) -> &Translator {
        self.translators.iter().find(|t| t.language() == lang).expect("all languages are loaded")
    }

    /// The current language's translator.
    pub fn t(&self) -> &Translator {
        self.get(self.current)
    }
}

/// The running step's time limit, counted down on screen.
#[derive(Resource, Debug, Clone, Default)]
pub struct Countdown {
    pub step: Option<Step>,
    pub ends: Option<Instant>,
    pub limit: Duration,
    /// Screenshots: always show the full limit (a stable image).
    pub frozen: bool,
}

impl Countdown {
    /// Whole seconds left for `step` (rounded up), if it has a limit.
    pub fn seconds_left(&self, step: Step) -> Option<u64> {
        if self.step != Some(step) {
            return None;
        }
        let left =
            if self.frozen { self.limit } else { self.ends?.saturating_duration_since(Instant::now()) };
        Some(left.as_millis().div_ceil(1000) as u64)
    }
}

/// The latest preview frame of a capture step (memory only: never written
/// to disk or logged).
#[derive(Resource, Default)]
pub struct PreviewState {
    pub step: Option<Step>,
    pub frame: Option<Arc<RgbImage>>,
    /// Bumped with every new frame (the texture is re-uploaded).
    pub seq: u64,
}

/// The lane's control handle (cancel); `None` when the UI runs alone
/// (screenshots, tests without a lane).
#[derive(Resource, Default, Clone)]
pub struct UiControl(pub Option<LaneControl>);

/// The lane's event channel. `Receiver` is not `Sync`, hence the mutex (only
/// this UI's systems touch it, so it is never contended).
#[derive(Resource)]
pub struct LaneRx(pub Mutex<Receiver<FlowEvent>>);

/// Drains the lane's events without blocking (every frame, in `PreUpdate`, so
/// the state transition happens before the screen is rebuilt in `Update`).
#[allow(clippy::too_many_arguments)]
pub fn poll_lane(
    rx: Option<Res<LaneRx>>,
    mut passenger: ResMut<Passenger>,
    mut countdown: ResMut<Countdown>,
    mut preview: ResMut<PreviewState>,
    mut texts: ResMut<Texts>,
    mut next: ResMut<NextState<UiStep>>,
    mut exit: MessageWriter<AppExit>,
    mut disconnected: Local<bool>,
) {
    let Some(rx) = rx else { return };
    let rx = match rx.0.lock() {
        Ok(rx) => rx,
        Err(poisoned) => poisoned.into_inner(),
    };
    loop {
        let event = match rx.try_recv() {
            Ok(event) => event,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                if !*disconnected {
                    warn!("the lane closed its event channel; the screen stays as it is");
                    *disconnected = true;
                }
                break;
            }
        };
        match &event {
            // Frames are neither logged nor kept beyond the latest one.
            FlowEvent::Preview { step, frame, .. } => {
                preview.step = Some(*step);
                preview.frame = Some(frame.clone());
                preview.seq += 1;
                continue;
            }
            FlowEvent::Deadline { step, limit_ms, .. } => {
                let limit = Duration::from_millis(*limit_ms);
                let frozen = countdown.frozen;
                *countdown =
                    Countdown { step: Some(*step), ends: Some(Instant::now() + limit), limit, frozen };
            }
            FlowEvent::StepFinished { step, .. } => {
                if countdown.step == Some(*step) {
                    countdown.step = None;
                }
                if preview.step == Some(*step) {
                    *preview = PreviewState { seq: preview.seq + 1, ..default() };
                }
            }
            FlowEvent::Idle => *preview = PreviewState { seq: preview.seq + 1, ..default() },
            _ => {}
        }
        debug!(?event, "lane event");
        // Only a real change rebuilds the screen (hints may repeat per frame).
        let mut updated = passenger.clone();
        let reaction = updated.apply(&event);
        if updated != *passenger {
            *passenger = updated;
        }
        match reaction {
            Reaction::Stay => {}
            Reaction::Show(step) => next.set(UiStep(step)),
            Reaction::Reset => {
                next.set(UiStep(Step::Welcome));
                if texts.current != texts.default {
                    texts.current = texts.default;
                }
            }
            Reaction::Quit => {
                if let FlowEvent::Shutdown { reason } = &event {
                    info!(reason, "lane shut down; closing the UI");
                }
                exit.write(AppExit::Success);
                return;
            }
        }
    }
}

/// The passenger's "Back / Cancel": asks the lane to stop the transaction
/// (it then records it as cancelled) and returns to the start screen.
pub fn cancel_transaction(
    control: Res<UiControl>,
    mut passenger: ResMut<Passenger>,
    mut countdown: ResMut<Countdown>,
    mut next: ResMut<NextState<UiStep>>,
) {
    let asked = control.0.as_ref().is_some_and(|c| c.cancel());
    info!(lane_asked = asked, "the passenger cancelled");
    *passenger = Passenger { notice: Some(failure::CANCELLED), ..Passenger::default() };
    countdown.step = None;
    next.set(UiStep(Step::Welcome));
}

/// "Try again" on the timeout screen: back to the first step.
pub fn retry_after_timeout(mut passenger: ResMut<Passenger>, mut next: ResMut<NextState<UiStep>>) {
    *passenger = Passenger::default();
    next.set(UiStep(Step::Passport));
}
