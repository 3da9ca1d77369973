//! The screen: built from the model whenever the step, the passenger or the
//! language changes (a kiosk screen has a few dozen nodes: rebuilding is
//! simpler and cheaper than diffing).
//!
//! Accessibility: dark text on light backgrounds, every pair at least 7:1
//! (WCAG AAA, checked by a test); state is never told by colour alone: the
//! current step has a ▶ marker, bold text and inverted colours; finished steps
//! a ✓; the decision has an icon (✓ / ⚠) and a sentence.

use bevy::picking::events::{Click, Pointer};
use bevy::prelude::*;
use bevy::ui::UiScale;
use bevy::window::PrimaryWindow;

use bevy::asset::RenderAssetUsages;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use image::{Rgba, RgbaImage};

use super::fonts::UiFonts;
use super::model::{
    Countdown, Passenger, PreviewState, Texts, UiStep, cancel_transaction, retry_after_timeout,
};
use crate::decision::{Decision, ReasonCode};
use crate::i18n::{Language, Translator};
use crate::lane::events::{GateStatus, Step, failure};

/// Logical design size; the UI is scaled to fit the window.
pub const DESIGN_WIDTH: f32 = 1280.0;
pub const DESIGN_HEIGHT: f32 = 800.0;

pub mod palette {
    use bevy::prelude::Color;

    pub const BACKGROUND: Color = Color::srgb_u8(0xF2, 0xF2, 0xF2);
    pub const PANEL: Color = Color::srgb_u8(0xFF, 0xFF, 0xFF);
    pub const TEXT: Color = Color::srgb_u8(0x11, 0x11, 0x11);
    /// Upcoming steps: still ≥ 7:1, but quieter than the current step.
    pub const TEXT_QUIET: Color = Color::srgb_u8(0x33, 0x33, 0x33);
    pub const INVERSE_BG: Color = Color::srgb_u8(0x11, 0x11, 0x11);
    pub const INVERSE_TEXT: Color = Color::srgb_u8(0xFF, 0xFF, 0xFF);
    pub const DONE_BG: Color = Color::srgb_u8(0xE4, 0xE4, 0xE4);
    pub const GREEN_BG: Color = Color::srgb_u8(0xE3, 0xF4, 0xE6);
    pub const GREEN_TEXT: Color = Color::srgb_u8(0x0B, 0x4F, 0x1C);
    pub const REFERRAL_BG: Color = Color::srgb_u8(0xFF, 0xF0, 0xD9);
    pub const REFERRAL_TEXT: Color = Color::srgb_u8(0x7A, 0x2E, 0x00);
    pub const BORDER: Color = Color::srgb_u8(0x44, 0x44, 0x44);

    /// (text, background) pairs used on screen.
    pub const PAIRS: [(Color, Color); 8] = [
        (TEXT, BACKGROUND),
        (TEXT, PANEL),
        (TEXT_QUIET, PANEL),
        (TEXT, DONE_BG),
        (INVERSE_TEXT, INVERSE_BG),
        (GREEN_TEXT, GREEN_BG),
        (REFERRAL_TEXT, REFERRAL_BG),
        (REFERRAL_TEXT, PANEL),
    ];
}

/// Root of the rebuilt screen.
#[derive(Component)]
pub struct ScreenRoot;

/// Marks a reason line on the result screen (for tests and tooling): the
/// first reason code shown with that text.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonLine(pub ReasonCode);

/// Marks the step header entries.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressItem {
    pub step: Step,
    pub current: bool,
}

/// The countdown text of the running step (updated in place every frame).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountdownText(pub Step);

/// The "Back / Cancel" button (for tests and tooling).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelButton;

/// The capture hint line (for tests and tooling).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct HintLine(pub &'static str);

/// The texture the camera preview (with its guide) is drawn into.
#[derive(Resource, Clone)]
pub struct PreviewImage(pub Handle<Image>);

/// Size of the preview on screen and of its texture.
pub const PREVIEW_SIZE: (u32, u32) = (480, 360);

/// Touch targets of the step controls: at least this tall (logical px).
pub const TOUCH_TARGET_MIN: f32 = 76.0;

/// Font sizes (logical px at the design size).
mod size {
    pub const APP_TITLE: f32 = 26.0;
    pub const PROGRESS: f32 = 24.0;
    pub const TITLE: f32 = 60.0;
    pub const INSTRUCTION: f32 = 40.0;
    pub const BODY: f32 = 34.0;
    pub const ICON: f32 = 88.0;
    pub const BUTTON: f32 = 34.0;
}

/// Text styling helper bound to the current language's font.
#[derive(Clone)]
struct Ink {
    family: Option<String>,
}

impl Ink {
    fn new(fonts: Option<&UiFonts>, lang: Language) -> Ink {
        Ink { family: fonts.and_then(|f| f.family(lang)).map(str::to_string) }
    }

    fn text(&self, s: impl Into<String>, size: f32, bold: bool, color: Color) -> impl Bundle {
        let mut font = TextFont::from_font_size(size).with_font_weight(if bold {
            FontWeight::BOLD
        } else {
            FontWeight::NORMAL
        });
        if let Some(f) = &self.family {
            font = font.with_family(f.clone());
        }
        (Text::new(s), font, TextColor(color))
    }
}

fn step_key(step: Step) -> &'static str {
    step.as_str()
}

/// Rebuilds the screen (run when the step, the passenger or the language changed).
#[allow(clippy::too_many_arguments)] // a Bevy system: one parameter per resource
pub fn rebuild_screen(
    mut commands: Commands,
    roots: Query<Entity, With<ScreenRoot>>,
    step: Res<State<UiStep>>,
    passenger: Res<Passenger>,
    texts: Res<Texts>,
    fonts: Option<Res<UiFonts>>,
    countdown: Res<Countdown>,
    preview: Option<Res<PreviewImage>>,
) {
    for root in &roots {
        commands.entity(root).despawn();
    }
    let step = step.get().0;
    let t = texts.t();
    let ink = Ink::new(fonts.as_deref(), texts.current);
    let fonts_for_buttons = fonts.as_deref().cloned();
    let extras = PanelExtras {
        countdown: countdown_text(t, countdown.seconds_left(step)),
        preview: preview.map(|p| p.0.clone()),
    };

    commands
        .spawn((
            ScreenRoot,
            Node {
                width: percent(100),
                height: percent(100),
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(24)),
                row_gap: px(18),
                ..default()
            },
            BackgroundColor(palette::BACKGROUND),
        ))
        .with_children(|root| {
            // App title.
            root.spawn(ink.text(t.text("app-title"), size::APP_TITLE, true, palette::TEXT));
            progress_header(root, &ink, t, step);
            // Main panel.
            root.spawn((
                Node {
                    flex_grow: 1.0,
                    flex_direction: FlexDirection::Column,
                    justify_content: JustifyContent::Center,
                    padding: UiRect::all(px(40)),
                    row_gap: px(28),
                    border: UiRect::all(px(3)),
                    border_radius: BorderRadius::all(px(16)),
                    ..default()
                },
                BackgroundColor(palette::PANEL),
                BorderColor::all(palette::BORDER),
            ))
            .with_children(|panel| {
                main_panel(panel, &ink, t, step, &passenger, &texts, fonts_for_buttons.as_ref(), &extras);
            });
        });
}

fn progress_header(root: &mut ChildSpawnerCommands, ink: &Ink, t: &Translator, current: Step) {
    root.spawn(Node { flex_direction: FlexDirection::Row, column_gap: px(10), ..default() }).with_children(
        |row| {
            for (i, step) in Step::ALL.iter().copied().enumerate() {
                let is_current = step == current;
                let done = step < current;
                let (marker, bg, fg, border) = if is_current {
                    ("▶", palette::INVERSE_BG, palette::INVERSE_TEXT, 4.0)
                } else if done {
                    ("✓", palette::DONE_BG, palette::TEXT, 2.0)
                } else {
                    ("", palette::PANEL, palette::TEXT_QUIET, 2.0)
                };
                let number =
                    if marker.is_empty() { format!("{}", i + 1) } else { format!("{marker} {}", i + 1) };
                row.spawn((
                    ProgressItem { step, current: is_current },
                    Node {
                        flex_grow: 1.0,
                        flex_basis: px(0),
                        flex_direction: FlexDirection::Column,
                        align_items: AlignItems::Center,
                        justify_content: JustifyContent::Center,
                        padding: UiRect::axes(px(6), px(8)),
                        min_height: px(84),
                        border: UiRect::all(px(border)),
                        border_radius: BorderRadius::all(px(10)),
                        ..default()
                    },
                    BackgroundColor(bg),
                    BorderColor::all(if is_current { palette::INVERSE_BG } else { palette::BORDER }),
                ))
                .with_children(|item| {
                    item.spawn(ink.text(number, size::PROGRESS, is_current, fg));
                    item.spawn((
                        ink.text(
                            t.text(&format!("progress-{}", step_key(step))),
                            size::PROGRESS,
                            is_current,
                            fg,
                        ),
                        TextLayout::justify(Justify::Center),
                    ));
                });
            }
        },
    );
}

/// What the panel shows besides the passenger's state.
struct PanelExtras {
    countdown: Option<String>,
    preview: Option<Handle<Image>>,
}

fn countdown_text(t: &Translator, seconds: Option<u64>) -> Option<String> {
    seconds.map(|s| format!("{}: {s} {}", t.text("countdown-label"), t.text("countdown-unit")))
}

fn is_timed_step(step: Step) -> bool {
    matches!(step, Step::Passport | Step::Declaration | Step::Face)
}

#[allow(clippy::too_many_arguments)]
fn main_panel(
    panel: &mut ChildSpawnerCommands,
    ink: &Ink,
    t: &Translator,
    step: Step,
    passenger: &Passenger,
    texts: &Texts,
    fonts: Option<&UiFonts>,
    extras: &PanelExtras,
) {
    if passenger.failure.is_some_and(|(_, code)| code == failure::TIMED_OUT) {
        timeout_screen(panel, ink, t);
        return;
    }
    let failure_here = passenger.failure.filter(|(s, _)| *s == step).map(|(_, code)| code);
    let hint_here = passenger.hint.filter(|(s, _)| *s == step).map(|(_, code)| code);
    if matches!(step, Step::Declaration | Step::Face) {
        capture_screen(panel, ink, t, step, failure_here, hint_here, extras);
        step_controls(panel, ink, t, step, extras.countdown.clone());
        return;
    }
    match (step, &passenger.decision) {
        (Step::Result, Some(decision)) => decision_box(panel, ink, t, decision),
        (Step::Gate, _) => gate_screen(panel, ink, t, passenger.gate.as_ref()),
        _ => {
            let key = step_key(step);
            panel.spawn(ink.text(t.text(&format!("{key}-title")), size::TITLE, true, palette::TEXT));
            let instruction = if step == Step::Result {
                t.text("result-checking")
            } else {
                t.text(&format!("{key}-instruction"))
            };
            // After a cancel the note takes the instruction's place (the
            // welcome screen has no room for both).
            if step == Step::Welcome && passenger.notice == Some(failure::CANCELLED) {
                notice(panel, ink, t.text("welcome-cancelled"));
            } else {
                panel.spawn(ink.text(instruction, size::INSTRUCTION, false, palette::TEXT));
            }
        }
    }
    if let Some(code) = failure_here {
        alert(panel, ink, t.failure(code));
    }
    if step == Step::Welcome {
        welcome_controls(panel, ink, t, texts, fonts);
    }
    if is_timed_step(step) {
        step_controls(panel, ink, t, step, extras.countdown.clone());
    }
}

/// QR and face steps: the live preview with its guide beside the texts.
fn capture_screen(
    panel: &mut ChildSpawnerCommands,
    ink: &Ink,
    t: &Translator,
    step: Step,
    failure_code: Option<&'static str>,
    hint: Option<&'static str>,
    extras: &PanelExtras,
) {
    let key = step_key(step);
    panel
        .spawn(Node {
            flex_direction: FlexDirection::Row,
            column_gap: px(32),
            align_items: AlignItems::FlexStart,
            flex_grow: 1.0,
            ..default()
        })
        .with_children(|row| {
            let node = Node {
                width: px(PREVIEW_SIZE.0),
                height: px(PREVIEW_SIZE.1),
                flex_shrink: 0.0,
                border: UiRect::all(px(3)),
                ..default()
            };
            match &extras.preview {
                Some(handle) => {
                    row.spawn((node, ImageNode::new(handle.clone()), BorderColor::all(palette::BORDER)));
                }
                None => {
                    row.spawn((
                        node,
                        BackgroundColor(palette::INVERSE_BG),
                        BorderColor::all(palette::BORDER),
                    ));
                }
            }
            row.spawn(Node {
                flex_direction: FlexDirection::Column,
                flex_grow: 1.0,
                flex_shrink: 1.0,
                row_gap: px(20),
                ..default()
            })
            .with_children(|col| {
                col.spawn(ink.text(t.text(&format!("{key}-title")), size::TITLE * 0.85, true, palette::TEXT));
                col.spawn(ink.text(
                    t.text(&format!("{key}-instruction")),
                    size::INSTRUCTION * 0.8,
                    false,
                    palette::TEXT,
                ));
                // A failure (retrying) outranks the live hint.
                if let Some(code) = failure_code {
                    alert(col, ink, t.failure(code));
                } else if let Some(code) = hint {
                    hint_box(col, ink, t, code);
                }
            });
        });
}

fn hint_box(panel: &mut ChildSpawnerCommands, ink: &Ink, t: &Translator, code: &'static str) {
    panel
        .spawn((
            HintLine(code),
            Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(16),
                padding: UiRect::all(px(18)),
                border: UiRect::all(px(4)),
                border_radius: BorderRadius::all(px(12)),
                ..default()
            },
            BackgroundColor(palette::INVERSE_BG),
            BorderColor::all(palette::INVERSE_BG),
        ))
        .with_children(|row| {
            row.spawn(ink.text("→", size::BODY * 1.2, true, palette::INVERSE_TEXT));
            row.spawn((
                Node { flex_shrink: 1.0, ..default() },
                ink.text(
                    t.text(&format!("hint-{}", code.replace('_', "-"))),
                    size::BODY,
                    true,
                    palette::INVERSE_TEXT,
                ),
            ));
        });
}

fn notice(panel: &mut ChildSpawnerCommands, ink: &Ink, message: String) {
    panel
        .spawn((
            Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(16),
                padding: UiRect::all(px(16)),
                border: UiRect::all(px(3)),
                border_radius: BorderRadius::all(px(12)),
                ..default()
            },
            BackgroundColor(palette::DONE_BG),
            BorderColor::all(palette::BORDER),
        ))
        .with_children(|row| {
            row.spawn(ink.text("◀", size::BODY, true, palette::TEXT));
            row.spawn((
                Node { flex_shrink: 1.0, ..default() },
                ink.text(message, size::BODY, false, palette::TEXT),
            ));
        });
}

/// The countdown and the large "Back / Cancel" button of a timed step.
fn step_controls(
    panel: &mut ChildSpawnerCommands,
    ink: &Ink,
    t: &Translator,
    step: Step,
    countdown: Option<String>,
) {
    panel
        .spawn(Node {
            flex_direction: FlexDirection::Row,
            justify_content: JustifyContent::SpaceBetween,
            align_items: AlignItems::Center,
            column_gap: px(24),
            margin: UiRect::top(px(8)),
            ..default()
        })
        .with_children(|row| {
            row.spawn((
                Node {
                    min_height: px(TOUCH_TARGET_MIN),
                    padding: UiRect::axes(px(20), px(10)),
                    align_items: AlignItems::Center,
                    border: UiRect::all(px(if countdown.is_some() { 3.0 } else { 0.0 })),
                    border_radius: BorderRadius::all(px(12)),
                    ..default()
                },
                BorderColor::all(palette::BORDER),
            ))
            .with_children(|b| {
                b.spawn((
                    CountdownText(step),
                    ink.text(countdown.unwrap_or_default(), size::BODY, true, palette::TEXT),
                ));
            });
            row.spawn((
                CancelButton,
                Button,
                Node {
                    min_height: px(TOUCH_TARGET_MIN),
                    min_width: px(300),
                    padding: UiRect::axes(px(32), px(12)),
                    justify_content: JustifyContent::Center,
                    align_items: AlignItems::Center,
                    border: UiRect::all(px(4)),
                    border_radius: BorderRadius::all(px(14)),
                    ..default()
                },
                BackgroundColor(palette::PANEL),
                BorderColor::all(palette::INVERSE_BG),
            ))
            .with_children(|b| {
                b.spawn(ink.text(
                    format!("◀  {}", t.text("control-cancel")),
                    size::BUTTON,
                    true,
                    palette::TEXT,
                ));
            })
            .observe(|_click: On<Pointer<Click>>, mut commands: Commands| {
                commands.run_system_cached(cancel_transaction);
            });
        });
}

fn timeout_screen(panel: &mut ChildSpawnerCommands, ink: &Ink, t: &Translator) {
    panel
        .spawn(Node {
            flex_direction: FlexDirection::Row,
            align_items: AlignItems::Center,
            column_gap: px(24),
            ..default()
        })
        .with_children(|row| {
            row.spawn(ink.text("⚠", size::ICON, true, palette::REFERRAL_TEXT));
            row.spawn((
                Node { flex_shrink: 1.0, ..default() },
                ink.text(t.text("timeout-title"), size::TITLE, true, palette::REFERRAL_TEXT),
            ));
        });
    panel.spawn(ink.text(t.text("timeout-instruction"), size::INSTRUCTION, false, palette::TEXT));
    panel
        .spawn((
            Button,
            Node {
                align_self: AlignSelf::FlexStart,
                min_height: px(TOUCH_TARGET_MIN),
                padding: UiRect::axes(px(48), px(14)),
                align_items: AlignItems::Center,
                border_radius: BorderRadius::all(px(14)),
                ..default()
            },
            BackgroundColor(palette::INVERSE_BG),
        ))
        .with_children(|b| {
            b.spawn(ink.text(
                format!("{}  ▶", t.text("timeout-retry")),
                size::BUTTON * 1.2,
                true,
                palette::INVERSE_TEXT,
            ));
        })
        .observe(|_click: On<Pointer<Click>>, mut commands: Commands| {
            commands.run_system_cached(retry_after_timeout);
        });
}

/// Keeps the countdown text current without rebuilding the screen.
pub fn update_countdown(
    countdown: Res<Countdown>,
    texts: Res<Texts>,
    mut q: Query<(&mut Text, &CountdownText)>,
) {
    for (mut text, c) in &mut q {
        let s = countdown_text(texts.t(), countdown.seconds_left(c.0)).unwrap_or_default();
        if text.0 != s {
            text.0 = s;
        }
    }
}

/// The preview texture: the latest frame (mirrored on the face step, like a
/// mirror), fitted into [`PREVIEW_SIZE`], with the guide drawn over it: an
/// oval for the face, a square for the QR code; a white line between black
/// edges, visible on any picture.
pub fn compose_preview(frame: Option<&image::RgbImage>, step: Option<Step>) -> RgbaImage {
    let (w, h) = PREVIEW_SIZE;
    let mut canvas = RgbaImage::from_pixel(w, h, Rgba([0x2A, 0x2A, 0x2A, 0xFF]));
    if let Some(f) = frame.filter(|f| f.width() > 0 && f.height() > 0) {
        let scale = (w as f32 / f.width() as f32).min(h as f32 / f.height() as f32);
        let (fw, fh) = (
            ((f.width() as f32 * scale) as u32).clamp(1, w),
            ((f.height() as f32 * scale) as u32).clamp(1, h),
        );
        let fitted = image::imageops::resize(f, fw, fh, image::imageops::FilterType::Triangle);
        let (ox, oy) = ((w - fw) / 2, (h - fh) / 2);
        let mirror = step == Some(Step::Face);
        for (x, y, p) in fitted.enumerate_pixels() {
            let x = if mirror { fw - 1 - x } else { x };
            canvas.put_pixel(ox + x, oy + y, Rgba([p[0], p[1], p[2], 0xFF]));
        }
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let white = Rgba([0xFF, 0xFF, 0xFF, 0xFF]);
    let black = Rgba([0x00, 0x00, 0x00, 0xFF]);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            // Signed distance (px, approximate) from the guide line.
            let d = if step == Some(Step::Declaration) {
                let half = 120.0;
                let outside = (dx.abs() - half).max(dy.abs() - half);
                // Corner brackets only: skip the middle of each side.
                if dx.abs() < 60.0 || dy.abs() < 60.0 { f32::MAX } else { outside.abs() }
            } else {
                let (rx, ry) = (115.0, 150.0);
                let r = ((dx / rx).powi(2) + (dy / ry).powi(2)).sqrt();
                ((r - 1.0) * rx.min(ry)).abs()
            };
            if d <= 3.0 {
                canvas.put_pixel(x, y, white);
            } else if d <= 5.0 {
                canvas.put_pixel(x, y, black);
            }
        }
    }
    canvas
}

/// Uploads the latest preview frame when it changes (with a renderer only).
pub fn upload_preview(
    state: Res<PreviewState>,
    target: Res<PreviewImage>,
    step: Res<State<UiStep>>,
    mut images: ResMut<Assets<Image>>,
    mut shown: Local<Option<(u64, Step)>>,
) {
    let step = step.get().0;
    if *shown == Some((state.seq, step)) {
        return;
    }
    *shown = Some((state.seq, step));
    let frame = state.frame.as_deref().filter(|_| state.step == Some(step));
    let rgba = compose_preview(frame, Some(step));
    let (width, height) = rgba.dimensions();
    let image = Image::new(
        Extent3d { width, height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        rgba.into_raw(),
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::RENDER_WORLD | RenderAssetUsages::MAIN_WORLD,
    );
    if let Err(e) = images.insert(target.0.id(), image) {
        warn!("cannot update the camera preview: {e}");
    }
}

fn alert(panel: &mut ChildSpawnerCommands, ink: &Ink, message: String) {
    panel
        .spawn((
            Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(20),
                padding: UiRect::all(px(20)),
                border: UiRect::all(px(4)),
                border_radius: BorderRadius::all(px(12)),
                ..default()
            },
            BackgroundColor(palette::REFERRAL_BG),
            BorderColor::all(palette::REFERRAL_TEXT),
        ))
        .with_children(|row| {
            row.spawn(ink.text("⚠", size::BODY * 1.4, true, palette::REFERRAL_TEXT));
            row.spawn((
                Node { flex_shrink: 1.0, ..default() },
                ink.text(message, size::BODY, true, palette::REFERRAL_TEXT),
            ));
        });
}

fn decision_box(panel: &mut ChildSpawnerCommands, ink: &Ink, t: &Translator, decision: &Decision) {
    let (icon, title, instruction, bg, fg) = match decision {
        Decision::Green => (
            "✓",
            t.text("result-green-title"),
            t.text("result-green-instruction"),
            palette::GREEN_BG,
            palette::GREEN_TEXT,
        ),
        Decision::Referral(_) => (
            "⚠",
            t.text("result-referral-title"),
            t.text("result-referral-instruction"),
            palette::REFERRAL_BG,
            palette::REFERRAL_TEXT,
        ),
    };
    panel
        .spawn((
            Node {
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(28)),
                row_gap: px(16),
                border: UiRect::all(px(6)),
                border_radius: BorderRadius::all(px(16)),
                ..default()
            },
            BackgroundColor(bg),
            BorderColor::all(fg),
        ))
        .with_children(|b| {
            b.spawn(Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(24),
                ..default()
            })
            .with_children(|row| {
                row.spawn(ink.text(icon, size::ICON, true, fg));
                row.spawn((
                    Node { flex_shrink: 1.0, ..default() },
                    ink.text(title, size::TITLE * 0.9, true, fg),
                ));
            });
            b.spawn(ink.text(instruction, size::INSTRUCTION * 0.9, false, fg));
            if !decision.reasons().is_empty() {
                b.spawn(ink.text(t.text("result-reasons-heading"), size::BODY, true, fg));
                // One line per distinct text: the watch list shares the random
                // selection's words, and must not show up as a second line.
                let mut shown: Vec<String> = Vec::new();
                for r in decision.reasons() {
                    let text = t.reason(*r);
                    if shown.contains(&text) {
                        continue;
                    }
                    b.spawn((ReasonLine(*r), ink.text(format!("•  {text}"), size::BODY, false, fg)));
                    shown.push(text);
                }
            }
        });
}

fn gate_screen(panel: &mut ChildSpawnerCommands, ink: &Ink, t: &Translator, gate: Option<&GateStatus>) {
    panel.spawn(ink.text(t.text("gate-title"), size::TITLE, true, palette::TEXT));
    let (icon, key, alarm) = match gate {
        None => ("→", "gate-instruction", false),
        Some(GateStatus::Authorised) => ("→", "gate-open", false),
        Some(GateStatus::PassageCompleted) => ("✓", "gate-completed", false),
        Some(GateStatus::PassageTimedOut) => ("⚠", "gate-timeout", true),
        Some(GateStatus::Alarm(_)) => ("⚠", "gate-alarm", true),
        Some(GateStatus::LinkDown(_)) => ("⚠", "gate-unavailable", true),
    };
    if alarm {
        alert(panel, ink, t.text(key));
    } else {
        panel
            .spawn(Node {
                flex_direction: FlexDirection::Row,
                align_items: AlignItems::Center,
                column_gap: px(24),
                ..default()
            })
            .with_children(|row| {
                row.spawn(ink.text(icon, size::ICON, true, palette::TEXT));
                row.spawn((
                    Node { flex_shrink: 1.0, ..default() },
                    ink.text(t.text(key), size::INSTRUCTION, false, palette::TEXT),
                ));
            });
    }
}

fn welcome_controls(
    panel: &mut ChildSpawnerCommands,
    ink: &Ink,
    t: &Translator,
    texts: &Texts,
    fonts: Option<&UiFonts>,
) {
    panel.spawn(ink.text(t.text("welcome-choose-language"), size::BODY, true, palette::TEXT));
    panel
        .spawn(Node {
            flex_direction: FlexDirection::Row,
            flex_wrap: FlexWrap::Wrap,
            column_gap: px(16),
            row_gap: px(16),
            ..default()
        })
        .with_children(|row| {
            for lang in Language::ALL {
                let selected = lang == texts.current;
                // Each name in its own script's face.
                let name_ink = Ink::new(fonts, lang);
                let (bg, fg, marker) = if selected {
                    (palette::INVERSE_BG, palette::INVERSE_TEXT, "●")
                } else {
                    (palette::PANEL, palette::TEXT, "○")
                };
                row.spawn((
                    Button,
                    Node {
                        padding: UiRect::axes(px(24), px(14)),
                        min_width: px(190),
                        justify_content: JustifyContent::Center,
                        border: UiRect::all(px(3)),
                        border_radius: BorderRadius::all(px(12)),
                        ..default()
                    },
                    BackgroundColor(bg),
                    BorderColor::all(palette::INVERSE_BG),
                ))
                .with_children(|b| {
                    b.spawn(name_ink.text(
                        format!("{marker} {}", lang.native_name()),
                        size::BUTTON,
                        selected,
                        fg,
                    ));
                })
                .observe(move |_click: On<Pointer<Click>>, mut texts: ResMut<Texts>| {
                    if texts.current != lang {
                        texts.current = lang;
                    }
                });
            }
        });
    panel
        .spawn((
            Button,
            Node {
                align_self: AlignSelf::FlexStart,
                padding: UiRect::axes(px(48), px(18)),
                margin: UiRect::top(px(8)),
                border_radius: BorderRadius::all(px(14)),
                ..default()
            },
            BackgroundColor(palette::INVERSE_BG),
        ))
        .with_children(|b| {
            b.spawn(ink.text(
                format!("{}  ▶", t.text("welcome-start")),
                size::BUTTON * 1.2,
                true,
                palette::INVERSE_TEXT,
            ));
        })
        .observe(|_click: On<Pointer<Click>>, mut next: ResMut<NextState<UiStep>>| {
            // Only the screen moves on: the lane starts reading when a
            // passport is placed, whatever the passenger touches.
            next.set(UiStep(Step::Passport));
        });
}

/// Keeps the design size fitted to the window.
pub fn fit_ui_scale(windows: Query<&Window, With<PrimaryWindow>>, mut scale: ResMut<UiScale>) {
    let Ok(w) = windows.single() else { return };
    let s = (w.width() / DESIGN_WIDTH).min(w.height() / DESIGN_HEIGHT).max(0.25);
    if (scale.0 - s).abs() > 0.01 {
        scale.0 = s;
    }
}

/// WCAG contrast ratio of two colours.
pub fn contrast_ratio(a: Color, b: Color) -> f32 {
    fn luminance(c: Color) -> f32 {
        let l = c.to_linear();
        0.2126 * l.red + 0.7152 * l.green + 0.0722 * l.blue
    }
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_contrast_is_at_least_7_to_1() {
        for (fg, bg) in palette::PAIRS {
            let r = contrast_ratio(fg, bg);
            assert!(r >= 7.0, "{fg:?} on {bg:?}: {r:.2}");
        }
        assert!((contrast_ratio(Color::BLACK, Color::WHITE) - 21.0).abs() < 0.01);
    }
}
