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

use super::fonts::UiFonts;
use super::model::{Passenger, Texts, UiStep};
use crate::decision::{Decision, ReasonCode};
use crate::i18n::{Language, Translator};
use crate::lane::events::{GateStatus, Step};

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

/// Marks a reason line on the result screen (for tests and tooling).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonLine(pub ReasonCode);

/// Marks the step header entries.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressItem {
    pub step: Step,
    pub current: bool,
}

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
pub fn rebuild_screen(
    mut commands: Commands,
    roots: Query<Entity, With<ScreenRoot>>,
    step: Res<State<UiStep>>,
    passenger: Res<Passenger>,
    texts: Res<Texts>,
    fonts: Option<Res<UiFonts>>,
) {
    for root in &roots {
        commands.entity(root).despawn();
    }
    let step = step.get().0;
    let t = texts.t();
    let ink = Ink::new(fonts.as_deref(), texts.current);
    let fonts_for_buttons = fonts.as_deref().cloned();

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
                main_panel(panel, &ink, t, step, &passenger, &texts, fonts_for_buttons.as_ref());
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

fn main_panel(
    panel: &mut ChildSpawnerCommands,
    ink: &Ink,
    t: &Translator,
    step: Step,
    passenger: &Passenger,
    texts: &Texts,
    fonts: Option<&UiFonts>,
) {
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
            panel.spawn(ink.text(instruction, size::INSTRUCTION, false, palette::TEXT));
        }
    }
    if let Some((failed_step, code)) = passenger.failure
        && failed_step == step
    {
        alert(panel, ink, t.failure(code));
    }
    if step == Step::Welcome {
        welcome_controls(panel, ink, t, texts, fonts);
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
                for r in decision.reasons() {
                    b.spawn((
                        ReasonLine(*r),
                        ink.text(format!("•  {}", t.reason(*r)), size::BODY, false, fg),
                    ));
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
