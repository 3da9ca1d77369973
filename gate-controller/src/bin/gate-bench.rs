//! `gate-bench`: long runs of the gate link that do not belong in `cargo test`.
//!
//! (a) `--authorisations N` passages over a pseudo-terminal with a damaged line (1% of the bytes
//! corrupted, 1% of the frames dropped, both directions): completions per passage id.
//! (b) `--latency-samples N` times the delay from calling `authorise` to the simulated hardware
//! opening the flaps, at 115200 baud, on a clean line: median and p99.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use gate_controller::sim::FaultConfig;
use gate_controller::sim::soak::{self, GateThread, fast_sim, run_passages};
use gate_controller::{Direction, GateEvent, LinkConfig};

#[derive(Debug, Parser)]
#[command(about = "Reliability and latency runs of the gate link over a pseudo-terminal")]
struct Args {
    /// Authorisations through the damaged line (0 skips the run).
    #[arg(long, default_value_t = 10_000)]
    authorisations: u64,
    /// Command-to-flaps-open latency samples (0 skips the run).
    #[arg(long, default_value_t = 1_000)]
    latency_samples: usize,
    /// Byte corruption rate of the damaged line.
    #[arg(long, default_value_t = 0.01)]
    corrupt_rate: f64,
    /// Frame drop rate of the damaged line.
    #[arg(long, default_value_t = 0.01)]
    drop_rate: f64,
    /// Retransmission timeout of both sides in the reliability run, ms.
    #[arg(long, default_value_t = 20)]
    retransmit_ms: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    let args = Args::parse();
    if args.authorisations > 0 {
        reliability(&args)?;
    }
    if args.latency_samples > 0 {
        latency(args.latency_samples)?;
    }
    Ok(())
}

fn reliability(args: &Args) -> anyhow::Result<()> {
    let faults = FaultConfig {
        seed: args.seed,
        corrupt_rate: args.corrupt_rate,
        drop_rate: args.drop_rate,
        ..FaultConfig::default()
    };
    let gate = GateThread::start(fast_sim(args.retransmit_ms), faults).context("start simulated gate")?;
    let link_config =
        LinkConfig { ack_timeout: Duration::from_millis(args.retransmit_ms), ..LinkConfig::default() };
    let r = run_passages(&gate, &link_config, args.authorisations, Duration::from_secs(1))?;
    println!(
        "authorisations: {}, passages completed: {}, lost: {}, doubled: {}",
        r.authorisations, r.completed, r.lost, r.doubled
    );
    println!(
        "  authorise repeated: {}, link lost: {}, lost ids: {:?}, faults: {:?}, elapsed: {:.1?}",
        r.authorise_retries, r.link_lost, r.lost_ids, r.faults, r.elapsed
    );
    Ok(())
}

fn latency(samples: usize) -> anyhow::Result<()> {
    let gate = GateThread::start(fast_sim(100), FaultConfig::default()).context("start simulated gate")?;
    let link = soak::connect(&gate.device, &LinkConfig { baud: 115_200, ..LinkConfig::default() })?;
    let mut ms = Vec::with_capacity(samples);
    for i in 0..samples {
        let passage_id = 1_000_000 + i as u64;
        let t0 = Instant::now();
        link.authorise(passage_id, Direction::Entry, Duration::from_secs(5))?;
        let opened = gate.flaps_opened.recv_timeout(Duration::from_secs(2)).context("flaps never opened")?;
        ms.push(opened.duration_since(t0).as_secs_f64() * 1000.0);
        // Let the passenger through before the next one.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Some(GateEvent::PassageCompleted { passage_id: id }) =
                link.next_event(Duration::from_millis(20))
                && id == passage_id
            {
                break;
            }
        }
    }
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "command-to-flaps-open latency over {} samples at 115200 baud: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        pick(0.5),
        pick(0.99),
        ms[ms.len() - 1]
    );
    Ok(())
}
