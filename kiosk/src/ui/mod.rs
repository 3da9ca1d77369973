//! The passenger's touch screen (Bevy). It only observes the lane: lane
//! events ([`FlowEvent`]) arrive on a channel and are drained every frame
//! without blocking; the only inputs it takes itself are the language
//! buttons, Start, "Try again" on the timeout screen, and "Back / Cancel" on
//! the timed steps, the one request it can make of the lane (through
//! [`LaneControl`]: the lane decides when to stop, and records it).
//!
//! - [`run`]: the kiosk window (main thread) until closed or `Shutdown`;
//! - [`screenshot`]: one screen to a PNG (under an X server, e.g. `xvfb-run`);
//! - [`cli`]: the `ui screenshot` command-line arguments.
//!
//! Font: a CJK font file, see [`fonts::resolve_font_path`] (Debian
//! `fonts-noto-cjk` by default, `--font` or `$KIOSK_UI_FONT` to override).

pub mod cli;
pub mod fonts;
pub mod model;
pub mod shot;
pub mod view;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow};
use bevy::log::LogPlugin;
use bevy::prelude::*;
use bevy::state::condition::state_changed;
use bevy::window::{ExitCondition, MonitorSelection, WindowMode, WindowResolution};
use bevy::winit::WinitSettings;

use crate::decision::Decision;
use crate::i18n::Language;
use crate::lane::control::LaneControl;
use crate::lane::events::{FlowEvent, Step, StepOutcome};
use model::{LaneRx, Passenger, Texts, UiStep};

pub struct UiOptions {
    pub language: Language,
    pub assets_dir: PathBuf,
    /// A 1280x800 window instead of borderless full screen.
    pub windowed: bool,
    /// The lane's control handle ("Back / Cancel"); `None`: the UI only shows.
    pub control: Option<LaneControl>,
}

/// One screen to render: the step, and for `Step::Result` the decision
/// (`None` shows "checking, please wait"); optionally a step failure
/// (`failure::TIMED_OUT` shows the timeout screen, `failure::CANCELLED` the
/// start screen after a cancel), a capture hint, a sample camera preview
/// and the step's countdown. Rendered by feeding the lane events these make
/// ([`ScreenSpec::events`]) through the same state machine as the kiosk.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenSpec {
    pub step: Step,
    pub decision: Option<Decision>,
    pub failure: Option<&'static str>,
    pub hint: Option<&'static str>,
    pub preview: bool,
    pub countdown_secs: Option<u64>,
}

impl ScreenSpec {
    /// Just the step's screen.
    pub fn of(step: Step) -> ScreenSpec {
        ScreenSpec { step, decision: None, failure: None, hint: None, preview: false, countdown_secs: None }
    }

    /// The lane events that bring a fresh UI to this screen.
    pub fn events(&self) -> Vec<FlowEvent> {
        let tx = || "screenshot".to_string();
        let mut events = Vec::new();
        // A cancel shows the start screen: it comes from the step cancelled.
        let step =
            if self.step == Step::Welcome && self.failure.is_some() { Step::Passport } else { self.step };
        if step != Step::Welcome {
            events.push(FlowEvent::StepStarted { transaction: tx(), step });
        }
        if let Some(secs) = self.countdown_secs {
            events.push(FlowEvent::Deadline { transaction: tx(), step, limit_ms: secs * 1000 });
        }
        if self.preview {
            events.push(FlowEvent::Preview {
                transaction: tx(),
                step,
                frame: Arc::new(shot::sample_frame(step)),
            });
        }
        if let Some(hint) = self.hint {
            events.push(FlowEvent::Guidance { transaction: tx(), step, hint });
        }
        if let Some(code) = self.failure {
            events.push(FlowEvent::StepFinished {
                transaction: tx(),
                step,
                outcome: StepOutcome::Failed { code, detail: String::new() },
                elapsed_ms: 0,
            });
        }
        if let Some(decision) = &self.decision {
            events.push(FlowEvent::Decided { transaction: tx(), decision: decision.clone() });
        }
        events
    }
}

/// Runs the window on the calling (main) thread until closed or a
/// `FlowEvent::Shutdown` arrives. Reads events from the lane (which runs on
/// another thread); never blocks on it (`try_recv` each frame).
pub fn run(events: Receiver<FlowEvent>, options: UiOptions) -> anyhow::Result<()> {
    run_with_font(events, options, None)
}

/// [`run`] with an explicit font file (`.ttf`, `.otf` or `.ttc`).
pub fn run_with_font(
    events: Receiver<FlowEvent>,
    options: UiOptions,
    font: Option<&Path>,
) -> anyhow::Result<()> {
    let mode = if options.windowed {
        WindowMode::Windowed
    } else {
        WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
    };
    let window = Window {
        title: "Customs e-Gate kiosk".into(),
        resolution: WindowResolution::new(view::DESIGN_WIDTH as u32, view::DESIGN_HEIGHT as u32),
        mode,
        ..default()
    };
    let mut app = build_app(&options, font, window, Step::Welcome, Passenger::default())?;
    app.insert_resource(model::UiControl(options.control.clone()));
    // Keep polling the lane at >= 20 Hz even when the window has no focus
    // (a kiosk's window often has none), without burning a core.
    app.insert_resource(WinitSettings {
        focused_mode: bevy::winit::UpdateMode::reactive(std::time::Duration::from_millis(50)),
        unfocused_mode: bevy::winit::UpdateMode::reactive(std::time::Duration::from_millis(50)),
    });
    app.insert_resource(LaneRx(Mutex::new(events)));
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => Err(anyhow!("the UI exited with error code {code}")),
    }
}

/// Renders one screen to a PNG (needs an X server, e.g. under `xvfb-run -a`)
/// and exits: captures until the image is not blank and stable, saves it,
/// closes the app.
pub fn screenshot(screen: ScreenSpec, options: UiOptions, out: &Path) -> anyhow::Result<()> {
    screenshot_with_font(screen, options, None, out).map(|_| ())
}

/// [`screenshot`] with an explicit font file; returns capture statistics.
pub fn screenshot_with_font(
    screen: ScreenSpec,
    options: UiOptions,
    font: Option<&Path>,
    out: &Path,
) -> anyhow::Result<shot::ShotReport> {
    let window = Window {
        title: "kiosk screenshot".into(),
        resolution: WindowResolution::new(view::DESIGN_WIDTH as u32, view::DESIGN_HEIGHT as u32)
            .with_scale_factor_override(1.0),
        resizable: false,
        ..default()
    };
    let mut app = build_app(&options, font, window, Step::Welcome, Passenger::default())?;
    app.insert_resource(WinitSettings::continuous());
    // The same state machine as the kiosk, fed the events of this screen;
    // the countdown is frozen at its limit so two captures agree.
    let (tx, rx) = std::sync::mpsc::channel();
    for event in screen.events() {
        let _ = tx.send(event);
    }
    app.insert_resource(LaneRx(Mutex::new(rx)));
    app.insert_resource(model::Countdown { frozen: true, ..default() });
    let outcome: shot::ShotOutcome = Arc::new(Mutex::new(None));
    app.insert_resource(shot::ShotCtl::new(out.to_path_buf(), outcome.clone()));
    app.add_systems(Update, shot::drive_screenshot.after(view::rebuild_screen));
    let _exit = app.run();
    let result = outcome.lock().unwrap_or_else(|p| p.into_inner()).take();
    match result {
        Some(Ok(report)) => Ok(report),
        Some(Err(e)) => Err(anyhow!("screenshot {}: {e}", out.display())),
        None => Err(anyhow!("the window closed before the screenshot {} was taken", out.display())),
    }
}

/// The app with window and renderer; `LogPlugin` is left out so the
/// binary's own `tracing` subscriber receives Bevy's logs.
fn build_app(
    options: &UiOptions,
    font: Option<&Path>,
    window: Window,
    step: Step,
    passenger: Passenger,
) -> anyhow::Result<App> {
    let texts = Texts::load(&options.assets_dir, options.language)
        .with_context(|| format!("loading the UI texts from {}", options.assets_dir.display()))?;
    let font_files = fonts::load_font_files(font, &options.assets_dir)?;
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .build()
            .disable::<LogPlugin>()
            .set(WindowPlugin {
                primary_window: Some(window),
                exit_condition: ExitCondition::OnPrimaryClosed,
                close_when_requested: true,
                ..default()
            })
            .set(AssetPlugin { file_path: options.assets_dir.display().to_string(), ..default() }),
    );
    app.insert_resource(ClearColor(view::palette::BACKGROUND));
    app.insert_resource(font_files);
    app.add_systems(Startup, (fonts::register_fonts, spawn_camera));
    app.add_systems(Update, view::fit_ui_scale);
    add_screen_logic(&mut app, texts, step, passenger);
    let preview = app.world_mut().resource_mut::<Assets<Image>>().add(Image::default());
    app.insert_resource(view::PreviewImage(preview));
    app.add_systems(PostUpdate, view::upload_preview);
    Ok(app)
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// The renderer-free part: state, lane polling, screen building. Needs a
/// `StatesPlugin` (in `DefaultPlugins`; add it to `MinimalPlugins` in tests).
pub fn add_screen_logic(app: &mut App, texts: Texts, step: Step, passenger: Passenger) {
    app.insert_state(UiStep(step))
        .insert_resource(texts)
        .insert_resource(passenger)
        .init_resource::<model::Countdown>()
        .init_resource::<model::PreviewState>()
        .init_resource::<model::UiControl>()
        .add_systems(PreUpdate, model::poll_lane)
        .add_systems(Update, view::update_countdown)
        .add_systems(
            Update,
            view::rebuild_screen.run_if(
                state_changed::<UiStep>
                    .or_eager(resource_changed::<Passenger>)
                    .or_eager(resource_changed::<Texts>),
            ),
        );
}
