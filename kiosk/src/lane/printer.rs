//! Prints lane events step by step on the console (the headless "screen").

use std::io::Write;
use std::sync::mpsc::Receiver;

use super::events::{FlowEvent, GateStatus, StepOutcome};
use crate::decision::Decision;

/// Human-readable line for one event (empty for preview frames);
/// transaction ids only, never names.
pub fn describe(event: &FlowEvent) -> String {
    match event {
        FlowEvent::Idle => "lane idle, waiting for the next passenger".into(),
        FlowEvent::StepStarted { transaction, step } => format!("[{transaction}] {} ...", step.as_str()),
        FlowEvent::StepFinished { transaction, step, outcome, elapsed_ms } => match outcome {
            StepOutcome::Ok => format!("[{transaction}] {} ok ({elapsed_ms} ms)", step.as_str()),
            StepOutcome::Failed { code, detail } => {
                format!("[{transaction}] {} FAILED: {code}: {detail} ({elapsed_ms} ms)", step.as_str())
            }
        },
        FlowEvent::Decided { transaction, decision } => match decision {
            Decision::Green => format!("[{transaction}] decision: GREEN, proceed to the e-Gate"),
            Decision::Referral(r) => {
                let reasons: Vec<_> = r.iter().map(|r| r.as_str()).collect();
                format!("[{transaction}] decision: REFERRAL to the staffed desk ({})", reasons.join(", "))
            }
        },
        FlowEvent::Gate { transaction, status } => match status {
            GateStatus::Authorised => format!("[{transaction}] gate: recognised, flaps authorised"),
            GateStatus::PassageCompleted => {
                format!("[{transaction}] gate: passage completed, biometrics deleted")
            }
            GateStatus::PassageTimedOut => format!("[{transaction}] gate: passage timed out"),
            GateStatus::Alarm(a) => format!("[{transaction}] gate: ALARM {a}"),
            GateStatus::LinkDown(r) => format!("[{transaction}] gate: link down {r}"),
        },
        FlowEvent::Guidance { transaction, step, hint } => {
            format!("[{transaction}] {} hint: {hint}", step.as_str())
        }
        FlowEvent::Deadline { transaction, step, limit_ms } => {
            format!("[{transaction}] {}: time limit {} s", step.as_str(), limit_ms.div_ceil(1000))
        }
        // Frames are for the screen only.
        FlowEvent::Preview { .. } => String::new(),
        FlowEvent::GateCamera { hint } => format!("gate display: {hint}"),
        FlowEvent::Shutdown { reason } => format!("lane stopped: {reason}"),
    }
}

/// Print every event until the channel closes or the lane shuts down.
pub fn print_events(events: Receiver<FlowEvent>) {
    for e in events {
        let line = describe(&e);
        if line.is_empty() {
            continue;
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        if matches!(e, FlowEvent::Shutdown { .. }) {
            break;
        }
    }
}
