//! The terminal view of `gate-sim --view`: a small picture of the lane (flaps, beams, people),
//! the controller's phase and alarms, and the last events, redrawn with plain ANSI escapes.
//!
//! Rendering is a pure function of a [`SimSnapshot`] so it is testable; the binary owns the
//! terminal (raw keys via termios, redraw timing).

use super::hardware::BEAMS;
use super::scenario::{LaneSide, SimAction};
use super::{SimSnapshot, alarm_name, phase_name};
use crate::wire::{AlarmKind, Direction, FlapState};

/// Cells between the two flaps.
const LANE_CELLS: usize = 40;

/// Keys the view understands, for the help line and [`action_for_key`].
pub const KEY_HELP: &str =
    "keys: w someone walks in  e emergency on/off  j jam flaps  t tamper  c cable pull/plug  q quit";

/// What a key press does; `emergency_on` and `cable_connected` are the current states, which
/// the keys toggle.
pub fn action_for_key(key: u8, emergency_on: bool, cable_connected: bool) -> Option<SimAction> {
    Some(match key {
        b'w' => {
            SimAction::Walk { side: LaneSide::Entry, speed_m_s: 1.0, pause_in_lane_ms: 0, turn_back: false }
        }
        b'e' => SimAction::Emergency { active: !emergency_on },
        b'j' => SimAction::JamFlaps,
        b't' => SimAction::Tamper,
        b'c' => SimAction::Cable { connected: !cable_connected },
        _ => return None,
    })
}

const ALL_ALARMS: [AlarmKind; 7] = [
    AlarmKind::Tailgating,
    AlarmKind::CounterDirection,
    AlarmKind::Intrusion,
    AlarmKind::Obstruction,
    AlarmKind::DoorFault,
    AlarmKind::Emergency,
    AlarmKind::Tamper,
];

/// The lane row: `ENTRY ||  :   O  #  ...  || EXIT`; `||` a closed flap, `#` a blocked beam.
fn lane_row(s: &SimSnapshot) -> String {
    let mut cells = [' '; LANE_CELLS];
    let col = |fraction: f64| {
        ((fraction.clamp(0.0, 1.0) * (LANE_CELLS - 1) as f64).round() as usize).min(LANE_CELLS - 1)
    };
    for (at, blocked) in BEAMS.iter().zip(s.lane.beams) {
        cells[col(*at)] = if blocked { '#' } else { ':' };
    }
    for body in &s.lane.bodies {
        cells[col(*body)] = 'O';
    }
    let flap = if s.lane.flaps == FlapState::Open { "  " } else { "||" };
    format!("ENTRY {flap}{}{flap} EXIT", cells.iter().collect::<String>())
}

/// The whole screen, one `\n`-separated line each (each line ends by clearing to its end).
pub fn render(s: &SimSnapshot, recent: &[String]) -> String {
    let flaps = match (s.lane.flaps, s.lane.open_for) {
        (FlapState::Closed, _) => "closed".to_string(),
        (_, Some(Direction::Exit)) => "open for exit <--".to_string(),
        (_, Some(_)) => "open for entry -->".to_string(),
        (_, None) => "open both ways <->".to_string(),
    };
    let alarms: Vec<String> =
        ALL_ALARMS.iter().filter(|k| s.alarms.contains(**k)).map(|k| alarm_name(*k)).collect();
    let mut lines = vec![
        format!(
            "gate-sim  t={:>8.1} s   cable: {}   host: {}",
            s.now_ms as f64 / 1000.0,
            if s.cable_connected { "plugged in" } else { "PULLED" },
            if s.host_session { "session open" } else { "not connected yet" },
        ),
        format!(
            "phase: {:<30} flaps: {flaps}{}",
            phase_name(s.phase),
            if s.lane.flaps_jammed { " (next move jams)" } else { "" }
        ),
        format!(
            "alarms: {}   emergency input: {}",
            if alarms.is_empty() { "none".to_string() } else { alarms.join(", ") },
            if s.lane.emergency_input { "ACTIVE" } else { "off" }
        ),
        String::new(),
        lane_row(s),
        format!("waiting at the flaps: {}", s.lane.waiting),
        String::new(),
        "last events:".to_string(),
    ];
    lines.extend(recent.iter().map(|e| format!("  {e}")));
    lines.push(String::new());
    lines.push(KEY_HELP.to_string());
    lines.iter().map(|l| format!("{l}\x1b[K\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::Phase;
    use crate::sim::LaneSnapshot;
    use crate::wire::AlarmFlags;

    fn snapshot() -> SimSnapshot {
        let mut alarms = AlarmFlags::default();
        alarms.insert(AlarmKind::Tailgating);
        SimSnapshot {
            now_ms: 12_345,
            phase: Phase::Idle,
            alarms,
            cable_connected: true,
            host_session: true,
            lane: LaneSnapshot {
                flaps: FlapState::Closed,
                open_for: None,
                beams: [false, true, false, false],
                bodies: vec![0.37],
                waiting: 1,
                emergency_input: false,
                flaps_jammed: false,
            },
        }
    }

    #[test]
    fn renders_lane_flaps_beams_and_people() {
        let text = render(&snapshot(), &["1.0 s passage_completed 42".to_string()]);
        let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches("\x1b[K")).collect();
        assert!(lines[0].contains("t=    12.3 s"), "{}", lines[0]);
        assert!(lines[1].starts_with("phase: idle"), "{}", lines[1]);
        assert!(lines[2].contains("alarms: tailgating"), "{}", lines[2]);
        // Closed flaps at both ends, the body over the second beam, the other beams clear.
        let lane = lines[4];
        assert!(lane.starts_with("ENTRY ||") && lane.ends_with("|| EXIT"), "{lane}");
        assert_eq!(lane.matches(':').count(), 3, "{lane}");
        assert_eq!(lane.matches('O').count(), 1, "{lane}");
        assert!(text.contains("  1.0 s passage_completed 42"));
        let mut open = snapshot();
        open.lane.flaps = FlapState::Open;
        open.lane.open_for = Some(Direction::Entry);
        let text = render(&open, &[]);
        assert!(text.contains("ENTRY   ") && text.contains("open for entry -->"), "{text}");
    }

    #[test]
    fn keys_toggle_emergency_and_cable() {
        assert_eq!(action_for_key(b'e', false, true), Some(SimAction::Emergency { active: true }));
        assert_eq!(action_for_key(b'e', true, true), Some(SimAction::Emergency { active: false }));
        assert_eq!(action_for_key(b'c', false, true), Some(SimAction::Cable { connected: false }));
        assert_eq!(action_for_key(b'x', false, true), None);
    }
}
