//! Every scenario file in `gate-controller/scenarios/`, run by the real `gate-sim` binary on a
//! pseudo-terminal, with a `GateLink` as the host: each alarm the simulated hardware raises
//! reaches the host as a typed event, and a pulled cable is reported, survives, and admits
//! nobody while it is out. Timeouts are generous (a loaded machine); nothing asserts tight timing.

mod common;

use common::{Sim, spawn_sim};

use std::time::{Duration, Instant};

use gate_controller::{
    AlarmKind, Direction, GateEvent, GateLink, GateMode, LinkConfig, LinkError, LinkState, link::FlapState,
};

fn start(file: &str) -> Sim {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    spawn_sim(&["--print-phases", "--scenario", &path])
}

fn connect(sim: &Sim) -> GateLink {
    GateLink::connect(&sim.device, LinkConfig::default()).expect("connect to simulated gate")
}

/// Events until one matches `want` (returned with everything before it), or panics after `limit`.
fn wait_for(link: &GateLink, limit: Duration, want: impl Fn(&GateEvent) -> bool) -> Vec<GateEvent> {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = link.next_event(Duration::from_millis(50)) {
            let done = want(&event);
            events.push(event);
            if done {
                return events;
            }
        }
    }
    panic!("expected event did not arrive within {limit:?}; got {events:?}");
}

fn is_alarm(kind: AlarmKind) -> impl Fn(&GateEvent) -> bool {
    move |e| matches!(e, GateEvent::Alarm { kind: k, .. } if *k == kind)
}

fn is_status(e: &GateEvent) -> bool {
    matches!(e, GateEvent::Status(_))
}

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn normal_passage_completes() {
    let sim = start("normal.json");
    let link = connect(&sim);
    link.authorise(1, Direction::Entry, Duration::from_secs(10)).expect("authorise");
    let events = wait_for(&link, LIMIT, |e| matches!(e, GateEvent::PassageCompleted { .. }));
    assert_eq!(
        events,
        vec![GateEvent::PassengerEntered { passage_id: 1 }, GateEvent::PassageCompleted { passage_id: 1 }]
    );
}

#[test]
fn no_show_times_out() {
    let sim = start("no-show.json");
    let link = connect(&sim);
    link.authorise(2, Direction::Entry, Duration::from_millis(500)).expect("authorise");
    let events = wait_for(&link, LIMIT, |e| matches!(e, GateEvent::PassageTimedOut { .. }));
    assert_eq!(events, vec![GateEvent::PassageTimedOut { passage_id: 2 }]);
}

#[test]
fn tailgater_raises_tailgating() {
    let sim = start("tailgate.json");
    let link = connect(&sim);
    link.authorise(3, Direction::Entry, Duration::from_secs(10)).expect("authorise");
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::Tailgating));
    assert_eq!(
        events,
        vec![
            GateEvent::PassengerEntered { passage_id: 3 },
            GateEvent::Alarm { kind: AlarmKind::Tailgating, passage_id: Some(3) }
        ]
    );
}

#[test]
fn reverse_entry_raises_counter_direction() {
    let sim = start("reverse.json");
    let link = connect(&sim);
    link.authorise(4, Direction::Entry, Duration::from_secs(10)).expect("authorise");
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::CounterDirection));
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::CounterDirection, passage_id: Some(4) }]);
}

#[test]
fn passenger_stopping_in_the_lane_raises_obstruction() {
    let sim = start("obstruction.json");
    let link = connect(&sim);
    link.authorise(5, Direction::Entry, Duration::from_secs(10)).expect("authorise");
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::Obstruction));
    assert_eq!(
        events,
        vec![
            GateEvent::PassengerEntered { passage_id: 5 },
            GateEvent::Alarm { kind: AlarmKind::Obstruction, passage_id: Some(5) }
        ]
    );
}

#[test]
fn jammed_flap_raises_door_fault_and_admits_nobody() {
    let sim = start("door-fault.json");
    let link = connect(&sim);
    link.authorise(6, Direction::Entry, Duration::from_secs(10)).expect("authorise");
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::DoorFault));
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::DoorFault, passage_id: Some(6) }]);
    // The gate refuses passages until staff reset the alarm; then the flaps work again.
    assert!(matches!(
        link.authorise(7, Direction::Entry, Duration::from_secs(10)),
        Err(LinkError::Rejected { .. })
    ));
    link.reset_alarm().expect("reset alarm");
    link.authorise(7, Direction::Entry, Duration::from_secs(10)).expect("authorise after reset");
    wait_for(&link, LIMIT, |e| *e == GateEvent::PassageCompleted { passage_id: 7 });
}

#[test]
fn someone_in_the_idle_lane_raises_intrusion() {
    let sim = start("intrusion.json");
    let link = connect(&sim);
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::Intrusion));
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::Intrusion, passage_id: None }]);
}

#[test]
fn opened_cabinet_raises_tamper() {
    let sim = start("tamper.json");
    let link = connect(&sim);
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::Tamper));
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::Tamper, passage_id: None }]);
}

#[test]
fn emergency_input_opens_the_flaps_and_its_release_is_reported() {
    let sim = start("emergency.json");
    let link = connect(&sim);
    let events = wait_for(&link, LIMIT, is_alarm(AlarmKind::Emergency));
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::Emergency, passage_id: None }]);
    // Flaps open both ways; commands other than emergency-open are refused.
    link.request_status().expect("status");
    let status = wait_for(&link, LIMIT, is_status);
    match status.last() {
        Some(GateEvent::Status(s)) if s.mode == GateMode::EmergencyOpen => {
            assert_eq!(s.flaps, FlapState::Open);
            assert!(s.alarms.contains(AlarmKind::Emergency));
        }
        // The 2 s input may already have been released on a very slow machine.
        Some(GateEvent::Status(s)) => assert_eq!(s.mode, GateMode::Normal, "{s:?}"),
        other => panic!("expected status, got {other:?}"),
    }
    // The input's release brings the gate back to normal, announced by a status report.
    let deadline = Instant::now() + LIMIT;
    loop {
        let events = wait_for(&link, deadline.saturating_duration_since(Instant::now()), is_status);
        if let Some(GateEvent::Status(s)) = events.last()
            && s.mode == GateMode::Normal
        {
            assert_eq!(s.flaps, FlapState::Closed);
            break;
        }
    }
    link.reset_alarm().expect("reset alarm");
    link.authorise(8, Direction::Entry, Duration::from_secs(10)).expect("authorise after release");
    wait_for(&link, LIMIT, |e| *e == GateEvent::PassageCompleted { passage_id: 8 });
}

#[test]
fn pulled_cable_is_reported_admits_nobody_and_reconnects() {
    let sim = start("cable-pulled.json");
    let link = connect(&sim);
    assert_eq!(link.state(), LinkState::Connected);
    let events = wait_for(&link, LIMIT, |e| matches!(e, GateEvent::LinkLost(_)));
    assert!(matches!(events[..], [GateEvent::LinkLost(_)]), "{events:?}");
    assert!(matches!(link.state(), LinkState::Down(_) | LinkState::Reconnecting), "{:?}", link.state());
    // While the cable is out nobody is admitted: the host refuses at once.
    let refused = link.authorise(9, Direction::Entry, Duration::from_secs(10));
    assert!(matches!(refused, Err(LinkError::Down { .. })), "{refused:?}");

    let events = wait_for(&link, Duration::from_secs(15), |e| *e == GateEvent::LinkRestored);
    assert_eq!(events, vec![GateEvent::LinkRestored]);
    assert_eq!(link.state(), LinkState::Connected);
    link.authorise(10, Direction::Entry, Duration::from_secs(10)).expect("authorise after reconnect");
    wait_for(&link, LIMIT, |e| *e == GateEvent::PassageCompleted { passage_id: 10 });

    // The gate's side: cable out, closed and out of service, cable back; passage 9 never
    // reached the flaps, passage 10 once.
    let lines: Vec<serde_json::Value> = sim.json.try_iter().collect();
    let position = |want: &dyn Fn(&serde_json::Value) -> bool| {
        lines.iter().position(want).unwrap_or_else(|| panic!("not in {lines:?}"))
    };
    let pulled = position(&|v| v["sim"] == "cable" && v["connected"] == false);
    let out_of_service = position(&|v| v["sim"] == "phase" && v["phase"] == "out_of_service_host_lost");
    let plugged = position(&|v| v["sim"] == "cable" && v["connected"] == true);
    assert!(pulled < out_of_service && out_of_service < plugged, "{lines:?}");
    let entered: Vec<u64> = lines
        .iter()
        .filter(|v| v["event"] == "passenger_entered")
        .filter_map(|v| v["passage_id"].as_u64())
        .collect();
    assert_eq!(entered, vec![10]);
}
