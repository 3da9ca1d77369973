//! The link over a real pseudo-terminal with a damaged line: 1% of the bytes corrupted and 1% of
//! the frames dropped, in both directions. Every passage must complete exactly once.

use std::time::Duration;

use gate_controller::LinkConfig;
use gate_controller::sim::FaultConfig;
use gate_controller::sim::soak::{GateThread, fast_sim, run_passages};

#[test]
fn two_hundred_passages_over_a_damaged_line_complete_exactly_once() {
    let faults = FaultConfig { seed: 0x5eed, corrupt_rate: 0.01, drop_rate: 0.01, ..FaultConfig::default() };
    // Short retransmission timers on both sides keep the run short; a pty answers in well
    // under a millisecond.
    let gate = GateThread::start(fast_sim(20), faults).expect("start simulated gate");
    let link_config = LinkConfig { ack_timeout: Duration::from_millis(20), ..LinkConfig::default() };
    let report = run_passages(&gate, &link_config, 200, Duration::from_secs(1)).expect("run passages");
    eprintln!(
        "authorisations: {}, passages completed: {}, lost: {}, doubled: {} \
         (authorise repeated {}, link lost {}, {:?}, {:?})",
        report.authorisations,
        report.completed,
        report.lost,
        report.doubled,
        report.authorise_retries,
        report.link_lost,
        report.faults,
        report.elapsed
    );
    assert!(report.faults.bytes_corrupted > 0 && report.faults.frames_dropped > 0, "{report:?}");
    assert_eq!(report.lost, 0, "lost passages: {:?}", report.lost_ids);
    assert_eq!(report.doubled, 0);
    assert_eq!(report.completed, 200);
}
