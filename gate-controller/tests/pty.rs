//! End to end over a real pseudo-terminal: the `gate-sim` binary serves the gate side, a
//! `GateLink` on the slave device is the host.

mod common;

use common::{Sim, spawn_sim};

use std::time::{Duration, Instant};

use gate_controller::{AlarmKind, Direction, GateEvent, GateLink, LinkConfig, LinkError, LinkState};

fn start_sim(scenario: &str) -> Sim {
    spawn_sim(&["--scenario", scenario, "--enter-after-ms", "50", "--walk-ms", "150"])
}

/// Events until `done` says stop or `limit` passes.
fn collect_events(
    link: &GateLink,
    limit: Duration,
    mut done: impl FnMut(&[GateEvent]) -> bool,
) -> Vec<GateEvent> {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    while Instant::now() < deadline && !done(&events) {
        if let Some(event) = link.next_event(Duration::from_millis(50)) {
            events.push(event);
        }
    }
    events
}

#[test]
fn three_passages_complete_exactly_once() {
    let sim = start_sim("normal");
    let link = GateLink::connect(&sim.device, LinkConfig::default()).expect("connect to simulated gate");
    assert_eq!(link.state(), LinkState::Connected);

    for passage_id in [101u64, 102, 103] {
        link.authorise(passage_id, Direction::Entry, Duration::from_secs(5)).expect("authorise");
        // A retransmitted or repeated AUTHORISE is acknowledged but admits nobody else.
        link.authorise(passage_id, Direction::Entry, Duration::from_secs(5)).expect("repeat authorise");
        let events = collect_events(&link, Duration::from_secs(3), |ev| {
            ev.contains(&GateEvent::PassageCompleted { passage_id })
        });
        assert_eq!(
            events,
            vec![GateEvent::PassengerEntered { passage_id }, GateEvent::PassageCompleted { passage_id }]
        );
    }
    // Nothing else arrives: each completion exactly once.
    let extra = collect_events(&link, Duration::from_millis(400), |_| false);
    assert!(
        extra.iter().all(|e| !matches!(e, GateEvent::PassageCompleted { .. })),
        "extra events: {extra:?}"
    );

    // The simulator printed one JSON line per event, completions once each.
    let completed: Vec<u64> = sim
        .json
        .try_iter()
        .filter(|v| v["event"] == "passage_completed")
        .filter_map(|v| v["passage_id"].as_u64())
        .collect();
    assert_eq!(completed, vec![101, 102, 103]);
}

#[test]
fn tailgating_raises_alarm_and_blocks_until_reset() {
    let sim = start_sim("tailgate");
    let link = GateLink::connect(&sim.device, LinkConfig::default()).expect("connect to simulated gate");
    link.authorise(7, Direction::Entry, Duration::from_secs(5)).expect("authorise");
    let events = collect_events(&link, Duration::from_secs(3), |ev| {
        ev.iter().any(|e| matches!(e, GateEvent::Alarm { .. }))
    });
    assert_eq!(
        events,
        vec![
            GateEvent::PassengerEntered { passage_id: 7 },
            GateEvent::Alarm { kind: AlarmKind::Tailgating, passage_id: Some(7) },
        ]
    );
    // In alarm the gate refuses new passages with a typed error, until the alarm is reset.
    match link.authorise(8, Direction::Entry, Duration::from_secs(5)) {
        Err(LinkError::Rejected { .. }) => {}
        other => panic!("expected Rejected, got {other:?}"),
    }
    link.reset_alarm().expect("reset alarm");
    link.authorise(8, Direction::Entry, Duration::from_secs(5)).expect("authorise after reset");
}

#[test]
fn counter_direction_entry_raises_typed_alarm() {
    let sim = start_sim("reverse");
    let link = GateLink::connect(&sim.device, LinkConfig::default()).expect("connect to simulated gate");
    link.authorise(9, Direction::Entry, Duration::from_secs(5)).expect("authorise");
    let events = collect_events(&link, Duration::from_secs(3), |ev| {
        ev.iter().any(|e| matches!(e, GateEvent::Alarm { .. }))
    });
    assert_eq!(events, vec![GateEvent::Alarm { kind: AlarmKind::CounterDirection, passage_id: Some(9) }]);
    match link.authorise(10, Direction::Entry, Duration::from_secs(5)) {
        Err(LinkError::Rejected { .. }) => {}
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn no_show_times_out_as_typed_event() {
    let sim = start_sim("no-show");
    let link = GateLink::connect(&sim.device, LinkConfig::default()).expect("connect to simulated gate");
    link.authorise(11, Direction::Entry, Duration::from_millis(300)).expect("authorise");
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert_eq!(events, vec![GateEvent::PassageTimedOut { passage_id: 11 }]);
    // The gate is free again.
    link.authorise(12, Direction::Entry, Duration::from_millis(300)).expect("authorise after timeout");
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert_eq!(events, vec![GateEvent::PassageTimedOut { passage_id: 12 }]);
}

#[test]
fn gate_going_away_is_reported_not_panicked() {
    let mut sim = start_sim("normal");
    let config = LinkConfig { heartbeat_interval: Duration::from_millis(100), ..LinkConfig::default() };
    let link = GateLink::connect(&sim.device, config).expect("connect");
    let _ = sim.child.kill();
    let _ = sim.child.wait();
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert!(matches!(events.first(), Some(GateEvent::LinkLost(_))), "got {events:?}");
    assert!(matches!(link.state(), LinkState::Down(_) | LinkState::Reconnecting));
    let err = link.authorise(1, Direction::Entry, Duration::from_secs(5)).unwrap_err();
    assert!(err.to_string().contains("reconnecting"), "{err}");
}

#[test]
fn connect_to_missing_device_says_what_to_do() {
    let err = GateLink::connect("/dev/does-not-exist-gate", LinkConfig::default()).unwrap_err();
    assert!(matches!(err, LinkError::Open { .. }));
    assert!(err.to_string().contains("check the device path"), "{err}");
}

#[test]
fn link_lost_and_restored_when_gate_goes_silent() {
    use gate_controller::sim::{self, PtyChannel, SimConfig};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    // The gate's serving loop runs in this process; it goes silent for a while, then comes back.
    let mut pty = PtyChannel::open().expect("openpty");
    let device = pty.slave_path().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let resume = Arc::new(AtomicBool::new(false));
    let gate = {
        let (stop, resume) = (stop.clone(), resume.clone());
        std::thread::spawn(move || {
            let config = SimConfig::default();
            sim::serve(&mut pty, &config, &stop, |_| {}).expect("serve");
            while !resume.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            stop.store(false, Ordering::SeqCst);
            sim::serve(&mut pty, &config, &stop, |_| {}).expect("serve again");
        })
    };

    let config = LinkConfig { heartbeat_interval: Duration::from_millis(100), ..LinkConfig::default() };
    let link = GateLink::connect(&device, config).expect("connect");
    stop.store(true, Ordering::SeqCst);
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert!(matches!(events[..], [GateEvent::LinkLost(_)]), "got {events:?}");
    assert_ne!(link.state(), LinkState::Connected);

    resume.store(true, Ordering::SeqCst);
    let events = collect_events(&link, Duration::from_secs(5), |ev| !ev.is_empty());
    assert_eq!(events, vec![GateEvent::LinkRestored]);
    assert_eq!(link.state(), LinkState::Connected);
    link.authorise(77, Direction::Entry, Duration::from_secs(5)).expect("authorise after restore");
    let events = collect_events(&link, Duration::from_secs(3), |ev| ev.len() >= 2);
    assert_eq!(events[1], GateEvent::PassageCompleted { passage_id: 77 });

    drop(link);
    stop.store(true, Ordering::SeqCst);
    gate.join().expect("gate thread");
}

#[test]
fn restarted_gate_reusing_sequence_numbers_loses_no_event() {
    use gate_controller::sim::{self, PtyChannel, SimConfig};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    // Two runs of the gate on one line, the second started the moment the first ends, as after
    // a quick reboot: both number their events from 1.
    let mut pty = PtyChannel::open().expect("openpty");
    let device = pty.slave_path().to_string();
    let first_run = Arc::new(AtomicBool::new(false));
    let second_run = Arc::new(AtomicBool::new(false));
    let gate = {
        let (first_run, second_run) = (first_run.clone(), second_run.clone());
        std::thread::spawn(move || {
            let config = SimConfig::default();
            sim::serve(&mut pty, &config, &first_run, |_| {}).expect("serve");
            // The cabinet is opened as the second run boots: its alarm (seq 1) waits for the
            // host's HELLO and follows the HELLO_ACK at once.
            sim::serve_with(&mut pty, &config, &second_run, &mut TamperAtBoot(true)).expect("serve again");
        })
    };

    let link = GateLink::connect(&device, LinkConfig::default()).expect("connect");
    link.request_status().expect("status from the first run");
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert!(matches!(events[..], [GateEvent::Status(_)]), "got {events:?}");

    first_run.store(true, Ordering::SeqCst);
    // The new run says nothing before a HELLO, so the host notices, reconnects, and learns the
    // new session id.
    let tamper = GateEvent::Alarm { kind: AlarmKind::Tamper, passage_id: None };
    let events = collect_events(&link, Duration::from_secs(10), |ev| {
        ev.contains(&GateEvent::LinkRestored) && ev.contains(&tamper)
    });
    // Its first event has the same seq as the first run's: it must still be delivered.
    assert!(matches!(events[0], GateEvent::LinkLost(_)), "got {events:?}");
    assert!(events.contains(&GateEvent::LinkRestored) && events.contains(&tamper), "got {events:?}");
    assert_eq!(events.len(), 3, "got {events:?}");
    link.reset_alarm().expect("reset alarm");
    link.request_status().expect("status from the second run");
    let events = collect_events(&link, Duration::from_secs(3), |ev| !ev.is_empty());
    assert!(matches!(events[..], [GateEvent::Status(_)]), "event lost after the restart: {events:?}");

    drop(link);
    second_run.store(true, Ordering::SeqCst);
    gate.join().expect("gate thread");
}

/// Opens the cabinet once, as soon as the gate runs.
struct TamperAtBoot(bool);

impl gate_controller::sim::Observer for TamperAtBoot {
    fn injected(&mut self) -> Vec<gate_controller::sim::SimAction> {
        if std::mem::take(&mut self.0) { vec![gate_controller::sim::SimAction::Tamper] } else { Vec::new() }
    }
}
