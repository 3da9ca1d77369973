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

fn finished(tx: &Sender<FlowEvent>, s: Step, code: &'static str) {
    tx.send(FlowEvent::StepFinished {
        transaction: "t1".into(),
        step: s,
        outcome: StepOutcome::Failed { code, detail: String::new() },
        elapsed_ms: 1,
    })
    .unwrap();
}

fn count<C: Component>(app: &mut App) -> usize {
    let world = app.world_mut();
    world.query::<&C>().iter(world).count()
}

#[test]
fn timed_steps_show_a_countdown_a_cancel_button_preview_and_hints() {
    use super::view::{CancelButton, CountdownText, HintLine};
    use crate::lane::events::{failure, guidance};
    let (mut app, tx) = app(Language::Ja);
    let t = Translator::load(&assets(), Language::Ja).unwrap();
    started(&tx, Step::Face);
    tx.send(FlowEvent::Deadline { transaction: "t1".into(), step: Step::Face, limit_ms: 45_000 }).unwrap();
    let frame = std::sync::Arc::new(image::RgbImage::new(64, 48));
    tx.send(FlowEvent::Preview { transaction: "t1".into(), step: Step::Face, frame }).unwrap();
    tx.send(FlowEvent::Guidance { transaction: "t1".into(), step: Step::Face, hint: guidance::COME_CLOSER })
        .unwrap();
    app.update();
    app.update();
    assert_eq!(count::<CancelButton>(&mut app), 1);
    assert!(shows(&mut app, &t.text("control-cancel")));
    assert_eq!(count::<CountdownText>(&mut app), 1);
    let countdown = format!("{}: 45 {}", t.text("countdown-label"), t.text("countdown-unit"));
    assert!(shows(&mut app, &countdown), "{:?}", texts(&mut app));
    assert!(shows(&mut app, &t.text("hint-come-closer")));
    assert_eq!(count::<HintLine>(&mut app), 1);
    assert!(app.world().resource::<super::model::PreviewState>().frame.is_some());
    // The preview and the hint go with the step.
    finished(&tx, Step::Face, failure::FACE_NOT_MATCHED);
    app.update();
    assert!(app.world().resource::<super::model::PreviewState>().frame.is_none());
    assert_eq!(count::<HintLine>(&mut app), 0);
    assert!(shows(&mut app, &t.text("error-face-not-matched")));
}

#[test]
fn a_timeout_shows_its_screen_until_retried() {
    use crate::lane::events::failure;
    let (mut app, tx) = app(Language::En);
    let t = Translator::load(&assets(), Language::En).unwrap();
    started(&tx, Step::Declaration);
    finished(&tx, Step::Declaration, failure::TIMED_OUT);
    tx.send(FlowEvent::Idle).unwrap();
    app.update();
    assert!(shows(&mut app, &t.text("timeout-title")));
    assert!(shows(&mut app, &t.text("timeout-retry")));
    app.world_mut().run_system_cached(super::model::retry_after_timeout).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Passport);
    assert!(!shows(&mut app, &t.text("timeout-title")));
}

#[test]
fn cancel_asks_the_lane_and_returns_to_the_start() {
    use crate::lane::control::LaneControl;
    use crate::lane::events::failure;
    let (mut app, tx) = app(Language::En);
    let t = Translator::load(&assets(), Language::En).unwrap();
    let control = LaneControl::default();
    app.insert_resource(super::model::UiControl(Some(control.clone())));
    started(&tx, Step::Passport);
    app.update();
    // No transaction in the lane yet: the screen goes back, nothing to stop.
    app.world_mut().run_system_cached(super::model::cancel_transaction).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Welcome);
    assert!(shows(&mut app, &t.text("welcome-cancelled")));
    assert_eq!(control.interruption(), None);
    // The lane reports a cancelled step: the start screen, with the note.
    started(&tx, Step::Face);
    app.update();
    assert_eq!(step(&app), Step::Face);
    finished(&tx, Step::Face, failure::CANCELLED);
    tx.send(FlowEvent::Idle).unwrap();
    app.update();
    assert_eq!(step(&app), Step::Welcome);
    assert!(shows(&mut app, &t.text("welcome-cancelled")));
}

#[test]
fn every_failure_and_hint_has_text_in_every_language() {
    use crate::lane::events::{failure, guidance};
    for lang in Language::ALL {
        let t = Translator::load(&assets(), lang).unwrap();
        for code in guidance::ALL {
            assert!(t.has(&format!("hint-{}", code.replace('_', "-"))), "{lang}: no text for hint {code}");
        }
        for code in failure::ALL {
            assert!(t.has(&format!("error-{}", code.replace('_', "-"))), "{lang}: no text for {code}");
        }
        for k in ["control-cancel", "countdown-label", "countdown-unit", "timeout-title", "timeout-retry"] {
            assert!(t.has(k), "{lang}: {k}");
        }
    }
}

#[test]
fn preview_has_a_guide_and_is_mirrored_for_the_face() {
    use super::view::{PREVIEW_SIZE, compose_preview};
    let mut frame = image::RgbImage::new(40, 30);
    frame.put_pixel(0, 15, image::Rgb([255, 0, 0]));
    let face = compose_preview(Some(&frame), Some(Step::Face));
    assert_eq!(face.dimensions(), PREVIEW_SIZE);
    // The oval's guide line crosses the middle row left and right of centre.
    let row: Vec<_> = (0..PREVIEW_SIZE.0).map(|x| face.get_pixel(x, PREVIEW_SIZE.1 / 2).0).collect();
    assert!(row.iter().filter(|p| **p == [255, 255, 255, 255]).count() >= 8);
    // Mirrored: the red pixel at the frame's left edge ends up on the right.
    let red_x: Vec<u32> = (0..PREVIEW_SIZE.0)
        .filter(|x| {
            face.get_pixel(*x, PREVIEW_SIZE.1 / 2).0[0] > 100
                && face.get_pixel(*x, PREVIEW_SIZE.1 / 2).0[1] < 50
        })
        .collect();
    assert!(red_x.iter().all(|x| *x > PREVIEW_SIZE.0 / 2), "{red_x:?}");
    assert_eq!(compose_preview(None, Some(Step::Declaration)).dimensions(), PREVIEW_SIZE);
}

#[test]
fn screen_specs_drive_the_same_state_machine() {
    use super::ScreenSpec;
    use crate::lane::events::failure;
    let spec = ScreenSpec { failure: Some(failure::CANCELLED), ..ScreenSpec::of(Step::Welcome) };
    let mut p = Passenger::default();
    for e in spec.events() {
        p.apply(&e);
    }
    assert_eq!(p.notice, Some(failure::CANCELLED));
    let spec = ScreenSpec { hint: Some("hold_still"), preview: true, ..ScreenSpec::of(Step::Face) };
    let events = spec.events();
    assert!(events.iter().any(|e| matches!(e, FlowEvent::Preview { .. })));
}

#[test]
fn a_watch_list_hit_reads_like_a_random_check_and_is_not_a_second_line() {
    let (mut app, tx) = app(Language::En);
    let t = Translator::load(&assets(), Language::En).unwrap();
    let decision = Decision::Referral(vec![ReasonCode::WatchList, ReasonCode::RandomSelection]);
    tx.send(FlowEvent::Decided { transaction: "t1".into(), decision }).unwrap();
    app.update();
    assert!(shows(&mut app, &t.reason(ReasonCode::RandomSelection)));
    let world = app.world_mut();
    assert_eq!(world.query::<&ReasonLine>().iter(world).count(), 1);
}
