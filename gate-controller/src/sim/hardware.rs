//! Simulated gate hardware: two flaps, light beams along the lane, the emergency input, the
//! cabinet switch, and people walking through at their own speed.
//!
//! People are simulated as bodies moving along the lane; the lane's end beams give the
//! controller its `BodyEntered`/`BodyLeft` events, and the beams in between are what the
//! terminal view shows. A passenger reacts to the flaps as people do: when they open for a
//! direction, the scenario's next passenger steps in after `hesitation_ms` (unless the flaps are
//! closed again by then: they stay outside), may pause in the middle, and leaves through the far
//! side. Timeline walkers (intruders) ignore the flaps.

use super::scenario::{Behaviour, PassengerSpec, Scenario, SimAction};
use crate::controller::{FlapCommand, GateHardware, SensorEvent, Side};
use crate::wire::{Direction, FlapState};

/// Beams along the lane, as fractions of its length from the entry flap.
pub const BEAMS: [f64; 4] = [0.1, 0.37, 0.63, 0.9];
/// Half the depth of a body along the lane, as a fraction of the lane: what a beam sees.
const BODY_HALF_DEPTH: f64 = 0.15;
/// A flap that has not reached its position after this long is reported as a door fault.
pub const FLAP_TRAVEL_MS: u64 = 400;

/// One person.
#[derive(Debug, Clone)]
struct Walker {
    from: Side,
    /// When they step over the flap line into the lane.
    enter_ms: u64,
    walk_ms: u64,
    pause_ms: u64,
    turn_back: bool,
    /// Waits for open flaps (an authorised passenger or follower), unlike an intruder.
    needs_open: bool,
    entered: bool,
}

impl Walker {
    fn leave_ms(&self) -> u64 {
        self.enter_ms + self.walk_ms + self.pause_ms
    }

    fn leave_side(&self) -> Side {
        if self.turn_back { self.from } else { self.from.opposite() }
    }

    /// Distance from the entry flap, as a fraction of the lane, while in the lane.
    fn position(&self, now_ms: u64) -> f64 {
        let t = now_ms.saturating_sub(self.enter_ms) as f64;
        let (walk, pause) = (self.walk_ms.max(1) as f64, self.pause_ms as f64);
        let half = walk / 2.0;
        let along = if t < half {
            t / walk
        } else if t < half + pause {
            0.5
        } else if self.turn_back {
            0.5 - (t - half - pause) / walk
        } else {
            0.5 + (t - half - pause) / walk
        };
        let along = along.clamp(0.0, 1.0);
        if self.from == Side::Entry { along } else { 1.0 - along }
    }
}

/// What the simulated lane looks like now (for the terminal view).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneSnapshot {
    pub flaps: FlapState,
    /// Direction the flaps are open for, if open for one passenger.
    pub open_for: Option<Direction>,
    pub beams: [bool; BEAMS.len()],
    /// Bodies in the lane: position from the entry flap, fraction of the lane.
    pub bodies: Vec<f64>,
    /// People waiting at a flap to step in.
    pub waiting: usize,
    pub emergency_input: bool,
    pub flaps_jammed: bool,
}

/// Simulated flaps, sensors and people, driven by a [`Scenario`].
#[derive(Debug)]
pub struct SimHardware {
    scenario: Scenario,
    /// Index of the passenger spec answering the next authorisation.
    next_passenger: usize,
    flaps: FlapState,
    open_for: Option<Direction>,
    walkers: Vec<Walker>,
    /// Events reported by the hardware itself (door fault, tamper, emergency), with due time.
    pending: Vec<(u64, SensorEvent)>,
    emergency_input: bool,
    jam_next_move: bool,
}

impl SimHardware {
    pub fn new(scenario: &Scenario) -> SimHardware {
        SimHardware {
            scenario: scenario.clone(),
            next_passenger: 0,
            flaps: FlapState::Closed,
            open_for: None,
            walkers: Vec::new(),
            pending: Vec::new(),
            emergency_input: false,
            jam_next_move: false,
        }
    }

    pub fn flaps(&self) -> FlapState {
        self.flaps
    }

    /// Carries out a timeline or keyboard action (all but `Cable`, which is the line's business).
    pub fn apply(&mut self, action: &SimAction, now_ms: u64) {
        match *action {
            SimAction::Walk { side, speed_m_s, pause_in_lane_ms, turn_back } => {
                let walk_ms = self.scenario.walk_ms(speed_m_s.max(0.05));
                self.walkers.push(Walker {
                    from: side.into(),
                    enter_ms: now_ms,
                    walk_ms,
                    pause_ms: pause_in_lane_ms,
                    turn_back,
                    needs_open: false,
                    entered: false,
                });
            }
            SimAction::Emergency { active } => {
                if self.emergency_input != active {
                    self.emergency_input = active;
                    self.pending.push((now_ms, SensorEvent::Emergency(active)));
                }
            }
            SimAction::JamFlaps => self.jam_next_move = true,
            SimAction::Tamper => self.pending.push((now_ms, SensorEvent::Tamper)),
            SimAction::Cable { .. } => {}
        }
    }

    fn passenger_for(&mut self, direction: Direction, now_ms: u64) {
        let specs = &self.scenario.passengers;
        let Some(spec) = specs.get(self.next_passenger.min(specs.len().saturating_sub(1))).cloned() else {
            return;
        };
        self.next_passenger += 1;
        let PassengerSpec { behaviour, speed_m_s, hesitation_ms, pause_in_lane_ms, followers } = spec;
        let side = if direction == Direction::Exit { Side::Exit } else { Side::Entry };
        let enter_ms = now_ms + hesitation_ms;
        let person = |from: Side, enter_ms: u64, speed: f64, pause_ms: u64, turn_back: bool| Walker {
            from,
            enter_ms,
            walk_ms: self.scenario.walk_ms(speed),
            pause_ms,
            turn_back,
            needs_open: true,
            entered: false,
        };
        let main = match behaviour {
            Behaviour::NoShow => None,
            Behaviour::WalkThrough => Some(person(side, enter_ms, speed_m_s, pause_in_lane_ms, false)),
            Behaviour::Reverse => Some(person(side.opposite(), enter_ms, speed_m_s, pause_in_lane_ms, false)),
            Behaviour::TurnBack => Some(person(side, enter_ms, speed_m_s, pause_in_lane_ms, true)),
        };
        let from = main.as_ref().map_or(side, |w| w.from);
        let followers: Vec<Walker> =
            followers.iter().map(|f| person(from, enter_ms + f.gap_ms, f.speed_m_s, 0, false)).collect();
        self.walkers.extend(main);
        self.walkers.extend(followers);
    }

    /// The lane as it is at `now_ms`.
    pub fn snapshot(&self, now_ms: u64) -> LaneSnapshot {
        let bodies: Vec<f64> =
            self.walkers.iter().filter(|w| w.entered).map(|w| w.position(now_ms)).collect();
        let mut beams = [false; BEAMS.len()];
        for (beam, at) in beams.iter_mut().zip(BEAMS) {
            *beam = bodies.iter().any(|b| (b - at).abs() <= BODY_HALF_DEPTH);
        }
        LaneSnapshot {
            flaps: self.flaps,
            open_for: self.open_for,
            beams,
            bodies,
            waiting: self.walkers.iter().filter(|w| !w.entered).count(),
            emergency_input: self.emergency_input,
            flaps_jammed: self.jam_next_move,
        }
    }
}

impl GateHardware for SimHardware {
    fn drive_flaps(&mut self, command: FlapCommand, now_ms: u64) {
        tracing::info!(?command, "flaps");
        if self.jam_next_move {
            // The motor runs but the flap does not get there; the end switch never closes.
            self.jam_next_move = false;
            tracing::warn!(?command, "simulated flap jam");
            self.pending.push((now_ms + FLAP_TRAVEL_MS, SensorEvent::DoorFault));
            return;
        }
        match command {
            FlapCommand::OpenFor(direction) => {
                self.flaps = FlapState::Open;
                self.open_for = Some(direction);
                self.passenger_for(direction, now_ms);
            }
            FlapCommand::OpenAll => {
                self.flaps = FlapState::Open;
                self.open_for = None;
                // Evacuation: whoever was about to come through for a passage goes elsewhere.
                self.walkers.retain(|w| w.entered || !w.needs_open);
            }
            FlapCommand::Close => {
                // Whoever had not stepped in yet stays outside the closed flaps.
                self.flaps = FlapState::Closed;
                self.open_for = None;
                self.walkers.retain(|w| w.entered || !w.needs_open);
            }
        }
    }

    fn poll_sensors(&mut self, now_ms: u64) -> Vec<SensorEvent> {
        let mut due: Vec<(u64, SensorEvent)> = Vec::new();
        self.pending.retain(|&(at, event)| {
            if at <= now_ms {
                due.push((at, event));
                false
            } else {
                true
            }
        });
        let flaps_open = self.flaps == FlapState::Open;
        self.walkers.retain_mut(|w| {
            if !w.entered && now_ms >= w.enter_ms {
                if w.needs_open && !flaps_open {
                    return false; // arrived at closed flaps: stays outside
                }
                w.entered = true;
                due.push((w.enter_ms, SensorEvent::BodyEntered(w.from)));
            }
            if w.entered && now_ms >= w.leave_ms() {
                due.push((w.leave_ms(), SensorEvent::BodyLeft(w.leave_side())));
                return false;
            }
            true
        });
        // In the order they happened (stable: same-time events keep their order).
        due.sort_by_key(|(at, _)| *at);
        due.into_iter().map(|(_, e)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::{Follower, LaneSide};

    fn scenario(passenger: PassengerSpec) -> Scenario {
        // Lane 1 m, so speed 1 m/s walks it in 1000 ms.
        Scenario { lane_length_m: 1.0, passengers: vec![passenger], ..Scenario::default() }
    }

    fn walker(speed: f64, hesitation_ms: u64) -> PassengerSpec {
        PassengerSpec { speed_m_s: speed, hesitation_ms, ..PassengerSpec::default() }
    }

    #[test]
    fn passenger_timing_follows_speed_and_hesitation() {
        let mut hw = SimHardware::new(&scenario(walker(2.0, 100)));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(99), vec![]);
        assert_eq!(hw.poll_sensors(100), vec![SensorEvent::BodyEntered(Side::Entry)]);
        assert_eq!(hw.snapshot(350).bodies, vec![0.5]);
        assert_eq!(hw.poll_sensors(599), vec![]);
        assert_eq!(hw.poll_sensors(600), vec![SensorEvent::BodyLeft(Side::Exit)]);
    }

    #[test]
    fn exit_passage_enters_from_exit_side() {
        let mut hw = SimHardware::new(&scenario(walker(1.0, 0)));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Exit), 0);
        assert_eq!(hw.poll_sensors(0), vec![SensorEvent::BodyEntered(Side::Exit)]);
        assert!((hw.snapshot(250).bodies[0] - 0.75).abs() < 1e-9);
        assert_eq!(hw.poll_sensors(1000), vec![SensorEvent::BodyLeft(Side::Entry)]);
    }

    #[test]
    fn pause_in_lane_delays_leaving_and_blocks_the_middle_beams() {
        let mut hw = SimHardware::new(&scenario(PassengerSpec { pause_in_lane_ms: 5000, ..walker(1.0, 0) }));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        hw.poll_sensors(0);
        assert_eq!(hw.snapshot(3000).beams, [false, true, true, false]);
        assert_eq!(hw.poll_sensors(5999), vec![]);
        assert_eq!(hw.poll_sensors(6000), vec![SensorEvent::BodyLeft(Side::Exit)]);
    }

    #[test]
    fn follower_is_a_second_body_and_closed_flaps_keep_late_people_out() {
        let spec =
            PassengerSpec { followers: vec![Follower { gap_ms: 200, speed_m_s: 1.0 }], ..walker(1.0, 10) };
        let mut hw = SimHardware::new(&scenario(spec));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(300), vec![SensorEvent::BodyEntered(Side::Entry); 2]);
        hw.drive_flaps(FlapCommand::Close, 301);
        // Both are inside: they walk out; nobody new comes.
        assert_eq!(hw.poll_sensors(5000), vec![SensorEvent::BodyLeft(Side::Exit); 2]);
        let mut hw = SimHardware::new(&scenario(walker(1.0, 100)));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        hw.drive_flaps(FlapCommand::Close, 50);
        assert_eq!(hw.poll_sensors(5000), vec![]);
    }

    #[test]
    fn behaviours_reverse_turn_back_no_show() {
        let mut hw =
            SimHardware::new(&scenario(PassengerSpec { behaviour: Behaviour::Reverse, ..walker(1.0, 0) }));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(0), vec![SensorEvent::BodyEntered(Side::Exit)]);
        let mut hw =
            SimHardware::new(&scenario(PassengerSpec { behaviour: Behaviour::TurnBack, ..walker(1.0, 0) }));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(0), vec![SensorEvent::BodyEntered(Side::Entry)]);
        assert_eq!(hw.poll_sensors(1000), vec![SensorEvent::BodyLeft(Side::Entry)]);
        let mut hw =
            SimHardware::new(&scenario(PassengerSpec { behaviour: Behaviour::NoShow, ..walker(1.0, 0) }));
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(10_000), vec![]);
    }

    #[test]
    fn passengers_are_used_in_order_and_the_last_repeats() {
        let mut s = scenario(walker(1.0, 0));
        s.passengers.insert(0, PassengerSpec { behaviour: Behaviour::NoShow, ..walker(1.0, 0) });
        let mut hw = SimHardware::new(&s);
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 0);
        assert_eq!(hw.poll_sensors(10), vec![]);
        for t in [100, 5000] {
            hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), t);
            assert_eq!(hw.poll_sensors(t), vec![SensorEvent::BodyEntered(Side::Entry)]);
            hw.poll_sensors(t + 1000);
        }
    }

    #[test]
    fn intruder_ignores_closed_flaps() {
        let mut hw = SimHardware::new(&Scenario::default());
        let walk =
            SimAction::Walk { side: LaneSide::Entry, speed_m_s: 1.5, pause_in_lane_ms: 0, turn_back: false };
        hw.apply(&walk, 10);
        assert_eq!(hw.poll_sensors(10), vec![SensorEvent::BodyEntered(Side::Entry)]);
        assert_eq!(hw.poll_sensors(2000), vec![SensorEvent::BodyLeft(Side::Exit)]);
    }

    #[test]
    fn jammed_flaps_do_not_move_and_report_a_door_fault() {
        let mut hw = SimHardware::new(&scenario(walker(1.0, 100)));
        hw.apply(&SimAction::JamFlaps, 0);
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 10);
        assert_eq!(hw.flaps(), FlapState::Closed);
        assert_eq!(hw.poll_sensors(10 + FLAP_TRAVEL_MS - 1), vec![]);
        assert_eq!(hw.poll_sensors(10 + FLAP_TRAVEL_MS), vec![SensorEvent::DoorFault]);
        // The jam was one movement; the next works.
        hw.drive_flaps(FlapCommand::OpenFor(Direction::Entry), 1000);
        assert_eq!(hw.flaps(), FlapState::Open);
    }

    #[test]
    fn emergency_and_tamper_inputs() {
        let mut hw = SimHardware::new(&Scenario::default());
        hw.apply(&SimAction::Emergency { active: true }, 5);
        hw.apply(&SimAction::Emergency { active: true }, 6); // no change, no event
        hw.apply(&SimAction::Tamper, 7);
        hw.apply(&SimAction::Emergency { active: false }, 8);
        assert_eq!(
            hw.poll_sensors(8),
            vec![SensorEvent::Emergency(true), SensorEvent::Tamper, SensorEvent::Emergency(false)]
        );
    }
}
