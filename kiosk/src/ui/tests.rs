//! Screen logic without a renderer: MinimalPlugins + StatesPlugin, lane
//! events in, UI tree out.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};

use bevy::prelude::*;
use bevy::state::app::StatesPlugin;

use super::add_screen_logic;
use super::model::{LaneRx, Passenger, Texts, UiStep};
use super::view::{ProgressItem, ReasonLine};
use crate::decision::{Decision, ReasonCode};
use crate::i18n::{Language, Translator};
use crate::lane::events::{FlowEvent, GateStatus, Step, StepOutcome};

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("assets")
}

fn app(lang: Language) -> (App, Sender<FlowEvent>) {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin));
    add_screen_logic(&mut app, Texts::load(&assets(), lang).unwrap(), Step::Welcome, Passenger::default());
    let (tx, rx) = mpsc::channel();
    app.insert_resource(LaneRx(Mutex::new(rx)));
    app.update();
    (app, tx)
}

fn step(app: &App) -> Step {
    app.world().resource::<State<UiStep>>().get().0
}

fn texts(app: &mut App) -> Vec<String> {
    let world = app.world_mut();
    let mut q = world.query::<&Text>();
    q.iter(world).map(|t| t.0.clone()).collect()
}

fn shows(app: &mut App, s: &str) -> bool {
    texts(app).iter().any(|t| t.contains(s))
}

fn current_progress(app: &mut App) -> Vec<Step> {
    let world = app.world_mut();
    let mut q = world.query::<&ProgressItem>();
    q.iter(world).filter(|p| p.current).map(|p| p.step).collect()
}

fn started(tx: &Sender<FlowEvent>, s: Step) {
    tx.send(FlowEvent::StepStarted { transaction: "t1".into(), step: s }).unwrap();
}

#[test]
fn lane_events_drive_the_screen() {
    let (mut app, tx) = app(Language::Ja);
    let t = Translator::load(&assets(), Language::Ja).unwrap();
    assert_eq!(step(&app), Step::Welcome);
    assert!(shows(&mut app, &t.text("welcome-title")));
    assert!(shows(&mut app, "한국어"), "language buttons show native names");

    for s in [Step::Passport, Step::Declaration, Step::Face] {
        started(&tx, s);
        app.update();
        assert_eq!(step(&app), s);
        assert_eq!(current_progress(&mut app), vec![s]);
        assert!(shows(&mut app, &t.text(&format!("{}-title", s.as_str()))));
        assert!(shows(&mut app, &t.text(&format!("{}-instruction", s.as_str()))));
    }

    // A failure shows its message on the same step, and goes once it succeeds.
    tx.send(FlowEvent::StepFinished {
        transaction: "t1".into(),
        step: Step::Face,
        outcome: StepOutcome::Failed { code: "face_not_matched", detail: "score 0.1".into() },
        elapsed_ms: 900,
    })
    .unwrap();
    app.update();
    assert_eq!(step(&app), Step::Face);
    assert!(shows(&mut app, &t.text("error-face-not-matched")));
    started(&tx, Step::Face);
    app.update();
    assert!(shows(&mut app, &t.text("error-face-not-matched")), "a retry keeps the hint");

    let reasons = vec![ReasonCode::CashOrGold, ReasonCode::FaceMismatch, ReasonCode::RandomSelection];
    tx.send(FlowEvent::Decided { transaction: "t1".into(), decision: Decision::Referral(reasons.clone()) })
        .unwrap();
    app.update();
    assert_eq!(step(&app), Step::Result);
    assert!(shows(&mut app, &t.text("result-referral-title")));
    assert!(!shows(&mut app, &t.text("error-face-not-matched")));
    for r in &reasons {
        assert!(shows(&mut app, &t.reason(*r)), "missing reason {r}");
    }
    let world = app.world_mut();
    let mut q = world.query::<&ReasonLine>();
    let mut lines: Vec<ReasonCode> = q.iter(world).map(|l| l.0).collect();
    lines.sort();
    assert_eq!(lines, reasons);

    tx.send(FlowEvent::Gate { transaction: "t1".into(), status: GateStatus::LinkDown("timeout".into()) })
        .unwrap();
    app.update();
    assert_eq!(step(&app), Step::Gate);
    assert!(shows(&mut app, &t.text("gate-unavailable")));

    // Next passenger: back to the welcome screen.
    tx.send(FlowEvent::Idle).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Welcome);
    assert_eq!(*app.world().resource::<Passenger>(), Passenger::default());

    assert!(app.should_exit().is_none());
    tx.send(FlowEvent::Shutdown { reason: "end of demo".into() }).unwrap();
    app.update();
    assert_eq!(app.should_exit(), Some(AppExit::Success));
}

#[test]
fn green_result_and_gate_in_english() {
    let (mut app, tx) = app(Language::En);
    tx.send(FlowEvent::Decided { transaction: "t2".into(), decision: Decision::Green }).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Result);
    assert!(shows(&mut app, "Please proceed to the e-Gate"));
    assert!(texts(&mut app).iter().any(|t| t == "✓"), "the decision has an icon, not only a colour");
    let world = app.world_mut();
    assert_eq!(world.query::<&ReasonLine>().iter(world).count(), 0);

    tx.send(FlowEvent::Gate { transaction: "t2".into(), status: GateStatus::Authorised }).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Gate);
    assert!(shows(&mut app, "The gate is open"));
    // Only one screen at a time.
    let world = app.world_mut();
    assert_eq!(world.query::<&super::view::ScreenRoot>().iter(world).count(), 1);
}

#[test]
fn changing_language_retranslates() {
    let (mut app, tx) = app(Language::En);
    started(&tx, Step::Passport);
    app.update();
    app.world_mut().resource_mut::<Texts>().current = Language::Ko;
    app.update();
    let ko = Translator::load(&assets(), Language::Ko).unwrap();
    assert!(shows(&mut app, &ko.text("passport-instruction")));
    // The next passenger gets the default language again.
    tx.send(FlowEvent::Idle).unwrap();
    app.update();
    assert_eq!(app.world().resource::<Texts>().current, Language::En);
}
