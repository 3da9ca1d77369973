//! One test per transition of the machine, then the endpoint's reliability rules.

use super::machine::*;
use super::{EndpointConfig, GateEndpoint, Output};
use crate::wire::{
    AlarmKind, Direction, FlapState, FrameDecoder, FrameRepr, GateMode, Message, NakReason, encode_frame,
};

const ENTRY: Direction = Direction::Entry;

fn cfg() -> Config {
    Config { gate_id: 7, heartbeat_timeout_ms: 3000, lane_timeout_ms: 10_000 }
}

fn run(state: GateState, input: Input, now: u64) -> (GateState, Vec<Action>) {
    next(state, input, now, &cfg())
}

fn cmd(state: GateState, c: Command, now: u64) -> (GateState, Vec<Action>) {
    run(state, Input::Command(c), now)
}

fn sense(state: GateState, e: SensorEvent, now: u64) -> (GateState, Vec<Action>) {
    run(state, Input::Sensor(e), now)
}

fn idle() -> GateState {
    cmd(GateState::default(), Command::Hello { version: 1 }, 0).0
}

fn authorise(id: u64, direction: Direction, limit: u16) -> Command {
    Command::Authorise { passage_id: id, direction, time_limit_ms: limit }
}

fn authorised(id: u64) -> GateState {
    cmd(idle(), authorise(id, ENTRY, 5000), 100).0
}

fn in_lane(id: u64) -> GateState {
    sense(authorised(id), SensorEvent::BodyEntered(Side::Entry), 200).0
}

const ACK: Action = Action::Reply(Reply::Ack);
const CLOSE: Action = Action::Flaps(FlapCommand::Close);

fn alarm(kind: AlarmKind, passage_id: Option<u64>) -> Action {
    Action::Send(Message::Alarm { kind, passage_id })
}

#[test]
fn not_connected_hello_goes_idle() {
    let (s, a) = cmd(GateState::default(), Command::Hello { version: 1 }, 0);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![Action::Reply(Reply::HelloAck { version: 1, gate_id: 7 })]);
}

#[test]
fn hello_with_other_version_stays_out_of_service() {
    let (s, a) = cmd(GateState::default(), Command::Hello { version: 9 }, 0);
    assert_eq!(s.phase, Phase::OutOfService(OosReason::NotConnected));
    assert_eq!(a, vec![Action::Reply(Reply::HelloAck { version: 1, gate_id: 7 })]);
}

#[test]
fn idle_authorise_opens() {
    let (s, a) = cmd(idle(), authorise(42, ENTRY, 5000), 100);
    assert_eq!(
        s.phase,
        Phase::Authorised { passage: Passage { id: 42, direction: ENTRY }, deadline_ms: 5100 }
    );
    assert_eq!(s.flaps, FlapState::Open);
    assert_eq!(a, vec![Action::Flaps(FlapCommand::OpenFor(ENTRY)), ACK]);
}

#[test]
fn authorise_same_passage_again_is_acked_without_effect() {
    let before = authorised(42);
    let (s, a) = cmd(before.clone(), authorise(42, ENTRY, 5000), 150);
    assert_eq!(s, GateState { host_seen_ms: Some(150), ..before });
    assert_eq!(a, vec![ACK]);
}

#[test]
fn authorise_completed_passage_never_admits_again() {
    let (s, _) = sense(in_lane(42), SensorEvent::BodyLeft(Side::Exit), 900);
    assert_eq!(s.phase, Phase::Idle);
    let (s, a) = cmd(s, authorise(42, ENTRY, 5000), 1000);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(s.flaps, FlapState::Closed);
    assert_eq!(a, vec![ACK]);
}

#[test]
fn authorise_while_busy_is_refused() {
    let (_, a) = cmd(authorised(42), authorise(43, ENTRY, 5000), 150);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::Busy))]);
    let (_, a) = cmd(in_lane(42), authorise(43, ENTRY, 5000), 250);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::Busy))]);
}

#[test]
fn authorise_when_locked_or_out_of_service_is_refused() {
    let (locked, _) = cmd(idle(), Command::SetMode(GateMode::Locked), 10);
    let (s, a) = cmd(locked, authorise(1, ENTRY, 5000), 20);
    assert_eq!(s.phase, Phase::Locked);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::NotAllowed))]);
    let (_, a) = cmd(GateState::default(), authorise(1, ENTRY, 5000), 20);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::NotAllowed))]);
}

#[test]
fn authorise_with_unknown_direction_is_refused() {
    let (s, a) = cmd(idle(), authorise(1, Direction::Unknown(9), 5000), 20);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::BadPayload))]);
}

#[test]
fn authorised_passenger_enters() {
    let (s, a) = sense(authorised(42), SensorEvent::BodyEntered(Side::Entry), 200);
    assert!(matches!(
        s.phase,
        Phase::PassengerInLane { passage: Passage { id: 42, .. }, deadline_ms: 10_200 }
    ));
    assert_eq!(a, vec![Action::Send(Message::PassengerEntered { passage_id: 42 })]);
}

#[test]
fn exit_direction_enters_from_exit_side() {
    let (s, _) = cmd(idle(), authorise(5, Direction::Exit, 5000), 100);
    let (s, a) = sense(s, SensorEvent::BodyEntered(Side::Exit), 200);
    assert!(matches!(s.phase, Phase::PassengerInLane { .. }));
    assert_eq!(a, vec![Action::Send(Message::PassengerEntered { passage_id: 5 })]);
    let (s, a) = sense(s, SensorEvent::BodyLeft(Side::Entry), 900);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![CLOSE, Action::Send(Message::PassageCompleted { passage_id: 5 })]);
}

#[test]
fn authorised_counter_direction_entry_alarms() {
    let (s, a) = sense(authorised(42), SensorEvent::BodyEntered(Side::Exit), 200);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::CounterDirection, passage_id: Some(42) });
    assert!(s.alarms.contains(AlarmKind::CounterDirection));
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::CounterDirection, Some(42))]);
}

#[test]
fn authorised_times_out_at_deadline() {
    let (s, _) = cmd(authorised(42), Command::Heartbeat, 3000); // host alive
    let (s, a) = run(s, Input::Tick, 5099);
    assert!(matches!(s.phase, Phase::Authorised { .. }));
    assert!(a.is_empty());
    let (s, a) = run(s, Input::Tick, 5100);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![CLOSE, Action::Send(Message::PassageTimedOut { passage_id: 42 })]);
}

#[test]
fn authorised_cancel_closes() {
    let (s, a) = cmd(authorised(42), Command::Cancel { passage_id: 41 }, 150);
    assert!(matches!(s.phase, Phase::Authorised { .. }));
    assert_eq!(a, vec![ACK]);
    let (s, a) = cmd(s, Command::Cancel { passage_id: 42 }, 160);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![CLOSE, ACK]);
}

#[test]
fn in_lane_leaves_through_exit_completes() {
    let (s, a) = sense(in_lane(42), SensorEvent::BodyLeft(Side::Exit), 900);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(s.flaps, FlapState::Closed);
    assert_eq!(a, vec![CLOSE, Action::Send(Message::PassageCompleted { passage_id: 42 })]);
}

#[test]
fn in_lane_turns_back_is_not_completed() {
    let (s, a) = sense(in_lane(42), SensorEvent::BodyLeft(Side::Entry), 900);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a, vec![CLOSE, Action::Send(Message::PassageTimedOut { passage_id: 42 })]);
}

#[test]
fn in_lane_second_body_is_tailgating() {
    let (s, a) = sense(in_lane(42), SensorEvent::BodyEntered(Side::Entry), 400);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::Tailgating, passage_id: Some(42) });
    assert_eq!(s.flaps, FlapState::Closed);
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::Tailgating, Some(42))]);
    // The bodies leaving an alarmed lane complete nothing.
    let (s, a) = sense(s, SensorEvent::BodyLeft(Side::Exit), 900);
    assert!(matches!(s.phase, Phase::Alarm { .. }));
    assert!(a.is_empty());
}

#[test]
fn in_lane_body_from_exit_side_is_counter_direction() {
    let (s, a) = sense(in_lane(42), SensorEvent::BodyEntered(Side::Exit), 400);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::CounterDirection, passage_id: Some(42) });
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::CounterDirection, Some(42))]);
}

#[test]
fn in_lane_too_long_is_obstruction() {
    // Keep the host alive so only the lane timer fires.
    let (s, _) = cmd(in_lane(42), Command::Heartbeat, 9000);
    let (s, a) = run(s, Input::Tick, 10_200);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::Obstruction, passage_id: Some(42) });
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::Obstruction, Some(42))]);
}

#[test]
fn idle_body_entering_is_intrusion() {
    let (s, a) = sense(idle(), SensorEvent::BodyEntered(Side::Entry), 10);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::Intrusion, passage_id: None });
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::Intrusion, None)]);
}

#[test]
fn alarm_refuses_authorise_until_reset() {
    let (s, _) = sense(in_lane(42), SensorEvent::BodyEntered(Side::Entry), 400);
    let (s, a) = cmd(s, authorise(43, ENTRY, 5000), 500);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::NotAllowed))]);
    let (s, a) = cmd(s, Command::ResetAlarm, 600);
    assert_eq!(s.phase, Phase::Idle);
    assert!(s.alarms.is_empty());
    assert_eq!(a, vec![ACK]);
    let (s, _) = cmd(s, authorise(43, ENTRY, 5000), 700);
    assert!(matches!(s.phase, Phase::Authorised { .. }));
}

#[test]
fn emergency_input_opens_and_release_closes() {
    let (s, a) = sense(in_lane(42), SensorEvent::Emergency(true), 300);
    assert_eq!(s.phase, Phase::Emergency { commanded: false });
    assert_eq!(s.flaps, FlapState::Open);
    assert_eq!(a, vec![Action::Flaps(FlapCommand::OpenAll), alarm(AlarmKind::Emergency, Some(42))]);
    let (s, a) = sense(s, SensorEvent::Emergency(false), 400);
    assert_eq!(s.phase, Phase::Idle);
    assert_eq!(a[0], CLOSE);
    assert!(matches!(a[1], Action::Send(Message::Status { mode: GateMode::Normal, .. })));
}

#[test]
fn emergency_input_wins_over_commands_and_heartbeat_loss() {
    let (s, _) = sense(idle(), SensorEvent::Emergency(true), 10);
    let (s, a) = cmd(s, Command::SetMode(GateMode::Normal), 20);
    assert_eq!(a, vec![Action::Reply(Reply::Nak(NakReason::NotAllowed))]);
    let (s, a) = run(s, Input::Tick, 60_000);
    assert_eq!(s.phase, Phase::Emergency { commanded: false });
    assert_eq!(s.flaps, FlapState::Open);
    assert!(a.is_empty());
}

#[test]
fn heartbeat_loss_closes_and_goes_out_of_service() {
    let s = authorised(42); // host last seen at 100
    let (s, a) = run(s, Input::Tick, 3100);
    assert!(matches!(s.phase, Phase::Authorised { .. }));
    assert!(a.is_empty());
    let (s, a) = run(s, Input::Tick, 3101);
    assert_eq!(s.phase, Phase::OutOfService(OosReason::HeartbeatLost));
    assert_eq!(a, vec![CLOSE]);
    // A heartbeat brings it back.
    let (s, a) = cmd(s, Command::Heartbeat, 3200);
    assert_eq!(s.phase, Phase::Idle);
    assert!(matches!(a[..], [Action::Send(Message::Status { .. })]));
}

#[test]
fn hello_after_heartbeat_loss_goes_idle() {
    let (s, _) = run(idle(), Input::Tick, 5000);
    assert_eq!(s.phase, Phase::OutOfService(OosReason::HeartbeatLost));
    let (s, _) = cmd(s, Command::Hello { version: 1 }, 5001);
    assert_eq!(s.phase, Phase::Idle);
}

#[test]
fn set_mode_transitions() {
    let (s, a) = cmd(authorised(1), Command::SetMode(GateMode::Locked), 200);
    assert_eq!((s.phase, a), (Phase::Locked, vec![CLOSE, ACK]));
    let (s, a) = cmd(s, Command::SetMode(GateMode::EmergencyOpen), 300);
    assert_eq!(
        (s.phase, a),
        (Phase::Emergency { commanded: true }, vec![Action::Flaps(FlapCommand::OpenAll), ACK])
    );
    let (s, a) = cmd(s, Command::SetMode(GateMode::OutOfService), 400);
    assert_eq!((s.phase, a), (Phase::OutOfService(OosReason::Commanded), vec![CLOSE, ACK]));
    // A commanded out-of-service is not lifted by HELLO, only by SET_MODE normal.
    let (s, _) = cmd(s, Command::Hello { version: 1 }, 450);
    assert_eq!(s.phase, Phase::OutOfService(OosReason::Commanded));
    let (s, a) = cmd(s, Command::SetMode(GateMode::Normal), 500);
    assert_eq!((s.phase, a), (Phase::Idle, vec![ACK]));
    let (s, a) = cmd(s, Command::SetMode(GateMode::Unknown(77)), 600);
    assert_eq!((s.phase, a), (Phase::Idle, vec![Action::Reply(Reply::Nak(NakReason::BadPayload))]));
}

#[test]
fn get_status_reports() {
    let (_, a) = cmd(authorised(42), Command::GetStatus, 150);
    assert_eq!(a[0], ACK);
    match &a[1] {
        Action::Send(Message::Status { mode, flaps, pending_passage, alarms }) => {
            assert_eq!((*mode, *flaps, *pending_passage), (GateMode::Normal, FlapState::Open, Some(42)));
            assert!(alarms.is_empty());
        }
        other => panic!("expected status, got {other:?}"),
    }
}

#[test]
fn door_fault_and_tamper_alarm() {
    let (s, a) = sense(authorised(3), SensorEvent::DoorFault, 150);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::DoorFault, passage_id: Some(3) });
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::DoorFault, Some(3))]);
    let (s, a) = sense(idle(), SensorEvent::Tamper, 150);
    assert_eq!(s.phase, Phase::Alarm { kind: AlarmKind::Tamper, passage_id: None });
    assert_eq!(a, vec![CLOSE, alarm(AlarmKind::Tamper, None)]);
}

// ---- endpoint ----

fn frames(out: &Output) -> Vec<FrameRepr> {
    FrameDecoder::new()
        .push(&out.bytes)
        .into_iter()
        .map(|r| r.expect("endpoint emits valid frames"))
        .collect()
}

fn host_frame(seq: u8, message: Message) -> Vec<u8> {
    encode_frame(&FrameRepr { seq, message })
}

const SESSION: u32 = 0x5e55_1011;

fn connected() -> GateEndpoint {
    let mut ep = GateEndpoint::new(EndpointConfig::default(), cfg(), SESSION);
    let mut out = Output::default();
    ep.receive(&host_frame(200, Message::Hello { version: 1 }), 0, &mut out);
    let f = frames(&out);
    assert_eq!(
        f[0],
        FrameRepr { seq: 200, message: Message::HelloAck { version: 1, gate_id: 7, session: SESSION } }
    );
    assert_eq!(f[1].message, Message::Heartbeat);
    ep
}

#[test]
fn endpoint_duplicate_authorise_is_reacked_not_reexecuted() {
    let mut ep = connected();
    let auth = host_frame(1, Message::Authorise { passage_id: 9, direction: ENTRY, time_limit_ms: 5000 });
    let mut out = Output::default();
    ep.receive(&auth, 10, &mut out);
    ep.receive(&auth, 20, &mut out);
    assert_eq!(out.flaps, vec![FlapCommand::OpenFor(ENTRY)]);
    let acks: Vec<_> = frames(&out).into_iter().filter(|f| f.message == Message::Ack).collect();
    assert_eq!(acks, vec![FrameRepr { seq: 1, message: Message::Ack }; 2]);
}

#[test]
fn endpoint_retransmits_events_until_acked() {
    let mut ep = connected();
    let mut out = Output::default();
    ep.receive(&host_frame(1, Message::GetStatus), 10, &mut out);
    let status = frames(&out).into_iter().find(|f| matches!(f.message, Message::Status { .. })).unwrap();
    assert_eq!(out.events_sent.len(), 1);
    let mut out = Output::default();
    ep.poll(60, &mut out);
    assert!(frames(&out).is_empty());
    ep.poll(110, &mut out);
    assert_eq!(frames(&out), vec![status.clone()]);
    let mut out = Output::default();
    ep.receive(&host_frame(status.seq, Message::Ack), 120, &mut out);
    ep.poll(400, &mut out);
    assert!(frames(&out).is_empty());
}

#[test]
fn endpoint_gives_up_an_event_only_after_retries_and_the_heartbeat_timeout() {
    let mut ep = connected();
    let mut out = Output::default();
    ep.receive(&host_frame(1, Message::GetStatus), 0, &mut out);
    let mut out = Output::default();
    // Retransmitted every 100 ms well past max_retries while the heartbeat timeout (3 s) runs.
    for t in 1..=29 {
        ep.poll(t * 100, &mut out);
    }
    let sent = frames(&out).into_iter().filter(|f| matches!(f.message, Message::Status { .. })).count();
    assert_eq!(sent, 29);
    assert!(out.events_dropped.is_empty());
    ep.poll(3000, &mut out);
    assert_eq!(out.events_dropped.len(), 1);
    // And the next event goes out.
    let mut out = Output::default();
    ep.sensor(SensorEvent::Tamper, 3010, &mut out);
    assert!(frames(&out).iter().any(|f| matches!(f.message, Message::Alarm { .. })));
}

#[test]
fn endpoint_heartbeats_and_naks_unknown_types() {
    let mut ep = connected();
    let mut out = Output::default();
    ep.receive(&host_frame(3, Message::Unknown { msg_type: 0x7e, payload: vec![] }), 100, &mut out);
    assert_eq!(
        frames(&out),
        vec![FrameRepr { seq: 3, message: Message::Nak { reason: NakReason::UnknownType } }]
    );
    let mut out = Output::default();
    ep.poll(500, &mut out);
    assert!(matches!(frames(&out)[..], [FrameRepr { message: Message::Heartbeat, .. }]));
}

#[test]
fn endpoint_sends_nothing_before_hello_then_queued_events() {
    let mut ep = GateEndpoint::new(EndpointConfig::default(), cfg(), SESSION);
    let mut out = Output::default();
    // A host heartbeat (from a host still talking to a previous run) opens no session.
    ep.receive(&host_frame(1, Message::Heartbeat), 0, &mut out);
    ep.sensor(SensorEvent::Tamper, 10, &mut out);
    ep.poll(600, &mut out);
    assert!(out.bytes.is_empty(), "sent before HELLO: {:?}", frames(&out));
    assert!(out.events_sent.is_empty());
    assert_eq!(out.flaps, vec![FlapCommand::Close]);
    let mut out = Output::default();
    ep.receive(&host_frame(9, Message::Hello { version: 1 }), 700, &mut out);
    let f = frames(&out);
    assert!(matches!(f[0].message, Message::HelloAck { session: SESSION, .. }));
    assert!(f.iter().any(|f| f.message == Message::Alarm { kind: AlarmKind::Tamper, passage_id: None }));
}

#[test]
fn endpoint_keeps_its_session_id_across_hellos() {
    let mut ep = connected();
    let mut out = Output::default();
    ep.receive(&host_frame(3, Message::Hello { version: 1 }), 100, &mut out);
    assert!(matches!(frames(&out)[0].message, Message::HelloAck { session: SESSION, .. }));
    assert_eq!(ep.session(), SESSION);
    // A HELLO with another version answers (so the host can report the mismatch) but opens no
    // session.
    let mut fresh = GateEndpoint::new(EndpointConfig::default(), cfg(), 1);
    let mut out = Output::default();
    fresh.receive(&host_frame(1, Message::Hello { version: 9 }), 0, &mut out);
    assert!(matches!(frames(&out)[..], [FrameRepr { message: Message::HelloAck { .. }, .. }]));
    assert!(!fresh.in_session());
}

#[test]
fn endpoint_queue_is_bounded_while_no_host() {
    let mut ep = GateEndpoint::new(EndpointConfig::default(), cfg(), SESSION);
    let mut out = Output::default();
    for t in 0..(super::endpoint::MAX_QUEUED_EVENTS as u64 + 3) {
        ep.sensor(SensorEvent::Tamper, t, &mut out);
    }
    assert_eq!(out.events_dropped.len(), 3);
}
