//! What the UI shows, as data: the current step (a Bevy state), the
//! passenger's decision/failure/gate status, and the texts. Updated only from
//! lane events ([`FlowEvent`]) and from the passenger's own touches (language,
//! start); never drives a device.

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, TryRecvError};

use bevy::prelude::*;

use crate::decision::Decision;
use crate::i18n::{I18nError, Language, Translator};
use crate::lane::events::{FlowEvent, GateStatus, Step, StepOutcome, TransactionId};

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
                *self = Passenger::default();
                Reaction::Reset
            }
            FlowEvent::StepStarted { transaction, step } => {
                self.start_transaction(transaction);
                if self.failure.is_some_and(|(s, _)| s != *step) {
                    self.failure = None;
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
                    StepOutcome::Failed { code, .. } => self.failure = Some((*step, code)),
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
            // Shown by the capture screens (issue 7 UI work); no screen change.
            FlowEvent::Guidance { .. } | FlowEvent::Preview { .. } => Reaction::Stay,
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

/// The lane's event channel. `Receiver` is not `Sync`, hence the mutex (only
/// this UI's systems touch it, so it is never contended).
#[derive(Resource)]
pub struct LaneRx(pub Mutex<Receiver<FlowEvent>>);

/// Drains the lane's events without blocking (every frame, in `PreUpdate`, so
/// the state transition happens before the screen is rebuilt in `Update`).
pub fn poll_lane(
    rx: Option<Res<LaneRx>>,
    mut passenger: ResMut<Passenger>,
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
        debug!(?event, "lane event");
        match passenger.apply(&event) {
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
