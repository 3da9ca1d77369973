//! Scenario files for `gate-sim`: who walks through the simulated gate, how fast, and what else
//! happens to it (emergency, jammed flaps, tamper, a pulled cable). Format in `docs/gate-sim.md`;
//! examples in `gate-controller/scenarios/`, which are also the built-in scenarios.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::controller::{Config, Side};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}: check the path")]
    Read { path: String, source: std::io::Error },
    #[error(
        "scenario {path} is not valid: {source}: see docs/gate-sim.md for the format and \
         gate-controller/scenarios/ for examples"
    )]
    Json { path: String, source: serde_json::Error },
    #[error("scenario {path}: {problem}")]
    Invalid { path: String, problem: String },
    #[error(
        "unknown scenario {0:?}: give a scenario file (.json) or one of the built-in names: {names}",
        names = BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    )]
    UnknownName(String),
}

/// The committed example files, compiled in so that `--scenario tailgate` works anywhere and
/// the examples cannot rot (they are parsed by the tests).
pub const BUILTIN: [(&str, &str); 10] = [
    ("normal", include_str!("../../scenarios/normal.json")),
    ("no-show", include_str!("../../scenarios/no-show.json")),
    ("tailgate", include_str!("../../scenarios/tailgate.json")),
    ("reverse", include_str!("../../scenarios/reverse.json")),
    ("obstruction", include_str!("../../scenarios/obstruction.json")),
    ("emergency", include_str!("../../scenarios/emergency.json")),
    ("door-fault", include_str!("../../scenarios/door-fault.json")),
    ("intrusion", include_str!("../../scenarios/intrusion.json")),
    ("tamper", include_str!("../../scenarios/tamper.json")),
    ("cable-pulled", include_str!("../../scenarios/cable-pulled.json")),
];

/// A side of the lane, as written in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneSide {
    Entry,
    Exit,
}

impl From<LaneSide> for Side {
    fn from(side: LaneSide) -> Side {
        match side {
            LaneSide::Entry => Side::Entry,
            LaneSide::Exit => Side::Exit,
        }
    }
}

/// What the person given an authorisation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Steps in from the authorised side and leaves through the other one.
    #[default]
    WalkThrough,
    /// Nobody comes: the authorisation times out.
    NoShow,
    /// Comes in from the wrong side (counter-direction).
    Reverse,
    /// Steps in, walks to the middle, turns round and leaves where they came in.
    TurnBack,
}

fn default_speed() -> f64 {
    1.3
}

fn default_hesitation() -> u64 {
    300
}

fn default_lane_length() -> f64 {
    1.5
}

/// Someone who follows a passenger through the open flaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follower {
    /// Milliseconds after the passenger steps in.
    pub gap_ms: u64,
    #[serde(default = "default_speed")]
    pub speed_m_s: f64,
}

/// The person (and followers) reacting to one authorisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassengerSpec {
    #[serde(default)]
    pub behaviour: Behaviour,
    /// Walking speed through the lane, metres per second.
    #[serde(default = "default_speed")]
    pub speed_m_s: f64,
    /// From the flaps opening until the person steps in, ms.
    #[serde(default = "default_hesitation")]
    pub hesitation_ms: u64,
    /// Standing still in the middle of the lane, ms (long enough: an obstruction).
    #[serde(default)]
    pub pause_in_lane_ms: u64,
    #[serde(default)]
    pub followers: Vec<Follower>,
}

impl Default for PassengerSpec {
    fn default() -> Self {
        PassengerSpec {
            behaviour: Behaviour::WalkThrough,
            speed_m_s: default_speed(),
            hesitation_ms: default_hesitation(),
            pause_in_lane_ms: 0,
            followers: Vec::new(),
        }
    }
}

/// Things that happen to the gate whatever the host does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SimAction {
    /// Someone walks into the lane from `side` regardless of the flaps (intrusion; with a long
    /// pause, loitering).
    Walk {
        side: LaneSide,
        #[serde(default = "default_speed")]
        speed_m_s: f64,
        #[serde(default)]
        pause_in_lane_ms: u64,
        #[serde(default)]
        turn_back: bool,
    },
    /// The emergency input (fire alarm, power failure) becomes active or inactive.
    Emergency { active: bool },
    /// The next flap movement does not complete: the hardware reports a door fault.
    JamFlaps,
    /// The cabinet is opened.
    Tamper,
    /// The serial cable is pulled (`false`) or plugged back in (`true`).
    Cable { connected: bool },
}

/// A [`SimAction`] at a time, in ms after the first host session (HELLO) of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at_ms: u64,
    #[serde(flatten)]
    pub action: SimAction,
}

/// Gate settings a scenario may change (a short lane timeout, so an obstruction shows quickly).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateOverrides {
    pub lane_timeout_ms: Option<u64>,
    pub heartbeat_timeout_ms: Option<u64>,
}

impl GateOverrides {
    pub fn apply(&self, config: &mut Config) {
        if let Some(ms) = self.lane_timeout_ms {
            config.lane_timeout_ms = ms;
        }
        if let Some(ms) = self.heartbeat_timeout_ms {
            config.heartbeat_timeout_ms = ms;
        }
    }
}

fn default_passengers() -> Vec<PassengerSpec> {
    vec![PassengerSpec::default()]
}

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Lane length from flap to flap, metres.
    #[serde(default = "default_lane_length")]
    pub lane_length_m: f64,
    #[serde(default)]
    pub gate: GateOverrides,
    /// One per authorisation, in order; the last one answers every later authorisation too.
    #[serde(default = "default_passengers")]
    pub passengers: Vec<PassengerSpec>,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
}

impl Default for Scenario {
    /// The built-in `normal` scenario.
    fn default() -> Self {
        Scenario::builtin("normal").unwrap_or_else(|_| Scenario {
            name: "normal".into(),
            description: String::new(),
            lane_length_m: default_lane_length(),
            gate: GateOverrides::default(),
            passengers: default_passengers(),
            timeline: Vec::new(),
        })
    }
}

fn speed_ok(speed: f64) -> bool {
    speed.is_finite() && speed >= 0.05
}

impl Scenario {
    /// Parses and checks a scenario; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = serde_json::from_str(text)
            .map_err(|source| ScenarioError::Json { path: origin.to_string(), source })?;
        let invalid = |problem: String| ScenarioError::Invalid { path: origin.to_string(), problem };
        if !(scenario.lane_length_m.is_finite() && (0.2..=20.0).contains(&scenario.lane_length_m)) {
            return Err(invalid(format!(
                "lane_length_m {} is not between 0.2 and 20",
                scenario.lane_length_m
            )));
        }
        if scenario.passengers.is_empty() {
            return Err(invalid(
                "passengers is empty: give at least one (behaviour no_show for nobody)".into(),
            ));
        }
        for (i, p) in scenario.passengers.iter().enumerate() {
            if !speed_ok(p.speed_m_s) || p.followers.iter().any(|f| !speed_ok(f.speed_m_s)) {
                return Err(invalid(format!("passenger {i}: speed_m_s must be at least 0.05")));
            }
        }
        for entry in &scenario.timeline {
            if let SimAction::Walk { speed_m_s, .. } = entry.action
                && !speed_ok(speed_m_s)
            {
                return Err(invalid(format!("walk at {} ms: speed_m_s must be at least 0.05", entry.at_ms)));
            }
        }
        // Applied in time order whatever order the file lists them in.
        scenario.timeline.sort_by_key(|e| e.at_ms);
        Ok(scenario)
    }

    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ScenarioError::Read { path: origin.clone(), source })?;
        Scenario::from_json(&text, &origin)
    }

    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError::UnknownName(name.to_string()))?;
        Scenario::from_json(text, name)
    }

    /// A built-in name, or else a file path.
    pub fn resolve(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        match Scenario::builtin(name_or_path) {
            Err(ScenarioError::UnknownName(_))
                if name_or_path.ends_with(".json") || Path::new(name_or_path).exists() =>
            {
                Scenario::load(Path::new(name_or_path))
            }
            other => other,
        }
    }

    /// Time to walk the lane at `speed_m_s`, ms.
    pub fn walk_ms(&self, speed_m_s: f64) -> u64 {
        // Speeds are validated (>= 0.05 m/s), so this is at most 400 s.
        (self.lane_length_m / speed_m_s * 1000.0).round() as u64
    }

    /// Overrides every passenger's timing (command line `--enter-after-ms`, `--walk-ms`, and
    /// the near-zero timing of soak runs). Followers keep their place relative to the
    /// passenger: their gaps scale with the walking time, so a tailgater still catches up.
    pub fn with_timing(mut self, hesitation_ms: Option<u64>, walk_ms: Option<u64>) -> Scenario {
        let lane = self.lane_length_m;
        let walk_of = |speed: f64| lane / speed * 1000.0;
        for p in &mut self.passengers {
            if let Some(h) = hesitation_ms {
                p.hesitation_ms = h;
            }
            if let Some(ms) = walk_ms {
                let ms = ms.max(1) as f64;
                let scale = ms / walk_of(p.speed_m_s);
                p.speed_m_s = lane * 1000.0 / ms;
                for f in &mut p.followers {
                    f.gap_ms = (f.gap_ms as f64 * scale).round() as u64;
                    f.speed_m_s = p.speed_m_s;
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_scenario_parses() {
        for (name, _) in BUILTIN {
            let s = Scenario::builtin(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.name, name);
            assert!(!s.description.is_empty(), "{name} has no description");
        }
    }

    #[test]
    fn timeline_parses_and_is_sorted() {
        let s = Scenario::from_json(
            r#"{"name": "x", "timeline": [
                {"at_ms": 900, "action": "cable", "connected": true},
                {"at_ms": 100, "action": "walk", "side": "exit", "pause_in_lane_ms": 50},
                {"at_ms": 200, "action": "emergency", "active": true},
                {"at_ms": 300, "action": "jam_flaps"},
                {"at_ms": 400, "action": "tamper"}
            ]}"#,
            "test",
        )
        .unwrap();
        let actions: Vec<_> = s.timeline.iter().map(|e| (e.at_ms, e.action.clone())).collect();
        assert_eq!(
            actions,
            vec![
                (
                    100,
                    SimAction::Walk {
                        side: LaneSide::Exit,
                        speed_m_s: 1.3,
                        pause_in_lane_ms: 50,
                        turn_back: false
                    }
                ),
                (200, SimAction::Emergency { active: true }),
                (300, SimAction::JamFlaps),
                (400, SimAction::Tamper),
                (900, SimAction::Cable { connected: true }),
            ]
        );
        assert_eq!(s.passengers, vec![PassengerSpec::default()]);
    }

    #[test]
    fn bad_scenarios_say_what_is_wrong() {
        let typo = Scenario::from_json(r#"{"name": "x", "passengers": [{"hesitaton_ms": 3}]}"#, "f.json");
        assert!(matches!(typo, Err(ScenarioError::Json { .. })), "{typo:?}");
        let slow = Scenario::from_json(r#"{"name": "x", "passengers": [{"speed_m_s": 0}]}"#, "f.json");
        assert!(slow.unwrap_err().to_string().contains("speed_m_s"));
        let none = Scenario::from_json(r#"{"name": "x", "passengers": []}"#, "f.json");
        assert!(matches!(none, Err(ScenarioError::Invalid { .. })));
        let unknown = Scenario::resolve("no-such-scenario").unwrap_err();
        assert!(unknown.to_string().contains("tailgate"), "{unknown}");
        let action =
            Scenario::from_json(r#"{"name": "x", "timeline": [{"at_ms": 1, "action": "fly"}]}"#, "f");
        assert!(action.is_err());
    }

    #[test]
    fn timing_override_sets_hesitation_and_speed() {
        let s = Scenario::builtin("tailgate").unwrap().with_timing(Some(50), Some(150));
        assert_eq!(s.passengers[0].hesitation_ms, 50);
        assert_eq!(s.walk_ms(s.passengers[0].speed_m_s), 150);
        assert_eq!(s.walk_ms(s.passengers[0].followers[0].speed_m_s), 150);
        // 400 ms behind a 1154 ms walk becomes 52 ms behind a 150 ms walk.
        assert_eq!(s.passengers[0].followers[0].gap_ms, 52);
    }
}
