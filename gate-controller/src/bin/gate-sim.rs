//! `gate-sim`: stands in for a flap-barrier gate behind a pseudo-terminal or a serial port.
//!
//! stdout: with `--pty`, first one line `GATE_DEVICE=/dev/pts/N`; then one JSON line per event
//! sent to the host. Logs go to stderr (`RUST_LOG` filters them). Runs until killed.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use gate_controller::controller::{Config, EndpointConfig};
use gate_controller::sim::{self, Channel, PtyChannel, Scenario, SimConfig};

#[derive(Debug, Parser)]
#[command(version, about = "Simulated flap-barrier gate speaking the gate serial protocol")]
#[command(group(clap::ArgGroup::new("line").required(true).args(["pty", "device"])))]
struct Args {
    /// Create a pseudo-terminal and print `GATE_DEVICE=<slave path>` for the host to open.
    #[arg(long)]
    pty: bool,
    /// Serve on this serial device instead (e.g. /dev/ttyUSB0).
    #[arg(long)]
    device: Option<String>,
    /// Baud rate for --device.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// What the simulated people do once the flaps open.
    #[arg(long, value_enum, default_value_t = Scenario::Normal)]
    scenario: Scenario,
    /// Milliseconds from the flaps opening until the passenger steps in.
    #[arg(long, default_value_t = 300)]
    enter_after_ms: u64,
    /// Milliseconds the passenger takes to walk through the lane.
    #[arg(long, default_value_t = 700)]
    walk_ms: u64,
    /// Gate id reported in HELLO_ACK.
    #[arg(long, default_value_t = 1)]
    gate_id: u16,
    /// Close and go out of service after this long without a frame from the host.
    #[arg(long, default_value_t = 3000)]
    heartbeat_timeout_ms: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = SimConfig {
        scenario: args.scenario,
        enter_after_ms: args.enter_after_ms,
        walk_ms: args.walk_ms,
        gate: Config {
            gate_id: args.gate_id,
            heartbeat_timeout_ms: args.heartbeat_timeout_ms,
            ..Config::default()
        },
        endpoint: EndpointConfig::default(),
    };

    let mut channel: Box<dyn Channel> = if let Some(device) = &args.device {
        let port = serialport::new(device, args.baud)
            .timeout(Duration::from_millis(5))
            .open()
            .with_context(|| format!("cannot open serial device {device}: check the path and permissions"))?;
        tracing::info!(device, baud = args.baud, "serving on serial device");
        Box::new(port)
    } else {
        let pty = PtyChannel::open().context("cannot create a pseudo-terminal")?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "GATE_DEVICE={}", pty.slave_path())?;
        stdout.flush()?;
        tracing::info!(device = pty.slave_path(), "serving on pseudo-terminal");
        Box::new(pty)
    };
    tracing::info!(scenario = ?args.scenario, "gate simulator ready");

    let stop = AtomicBool::new(false);
    sim::serve(channel.as_mut(), &config, &stop, |message| {
        if let Some(line) = sim::event_json(message) {
            // A closed stdout must not stop the gate.
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}").and_then(|_| stdout.flush());
        }
    })
    .context("gate simulator line failed")
}
