//! `gate-sim`: stands in for a flap-barrier gate behind a pseudo-terminal or a serial port.
//!
//! stdout: with `--pty`, first one line `GATE_DEVICE=/dev/pts/N`; then one JSON line per event
//! sent to the host and per scenario action (`{"sim":"cable","connected":false}`), or, with
//! `--view`, a live picture of the lane instead. Logs go to stderr (`RUST_LOG` filters them).
//! Runs until killed (or `q` in the view). Scenario files: docs/gate-sim.md.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use gate_controller::controller::FlapCommand;
use gate_controller::sim::{
    self, Channel, Observer, PtyChannel, Scenario, SimAction, SimConfig, SimSnapshot, view,
};
use gate_controller::wire::Message;

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
    /// A scenario file (.json, see docs/gate-sim.md) or a built-in name: normal, no-show,
    /// tailgate, reverse, obstruction, emergency, door-fault, intrusion, tamper, cable-pulled.
    #[arg(long, default_value = "normal")]
    scenario: String,
    /// Milliseconds from the flaps opening until each passenger steps in (overrides the scenario).
    #[arg(long)]
    enter_after_ms: Option<u64>,
    /// Milliseconds each passenger takes to walk through the lane (overrides the scenario).
    #[arg(long)]
    walk_ms: Option<u64>,
    /// Gate id reported in HELLO_ACK.
    #[arg(long, default_value_t = 1)]
    gate_id: u16,
    /// Close and go out of service after this long without a frame from the host
    /// (default 3000, or the scenario's).
    #[arg(long)]
    heartbeat_timeout_ms: Option<u64>,
    /// Obstruction alarm when a passenger stays in the lane this long (default 10000, or the
    /// scenario's).
    #[arg(long)]
    lane_timeout_ms: Option<u64>,
    /// Also print a JSON line each time the controller changes phase.
    #[arg(long)]
    print_phases: bool,
    /// Show the lane live in this terminal (keys trigger walkers, emergency, ...) instead of
    /// the JSON lines.
    #[arg(long)]
    view: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The view owns the terminal: only errors go to stderr unless RUST_LOG says otherwise.
    let default_filter = if args.view { "error" } else { "info" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();
    let scenario = Scenario::resolve(&args.scenario)?.with_timing(args.enter_after_ms, args.walk_ms);
    let mut config = SimConfig::new(scenario);
    config.gate.gate_id = args.gate_id;
    if let Some(ms) = args.heartbeat_timeout_ms {
        config.gate.heartbeat_timeout_ms = ms;
    }
    if let Some(ms) = args.lane_timeout_ms {
        config.gate.lane_timeout_ms = ms;
    }

    let mut device_line = None;
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
        device_line = Some(pty.slave_path().to_string());
        Box::new(pty)
    };
    tracing::info!(scenario = %config.scenario.name, "gate simulator ready");

    let stop = Arc::new(AtomicBool::new(false));
    if args.view {
        let device = device_line.or(args.device.clone()).unwrap_or_default();
        let terminal =
            Terminal::enter().context("--view needs an interactive terminal on stdin and stdout")?;
        let mut observer = ViewObserver::new(terminal.keys(stop.clone()), stop.clone(), &device, &config);
        let result = sim::serve_with(channel.as_mut(), &config, &stop, &mut observer);
        drop(terminal);
        return result.context("gate simulator line failed");
    }
    let mut observer = JsonLines { phases: args.print_phases };
    sim::serve_with(channel.as_mut(), &config, &stop, &mut observer).context("gate simulator line failed")
}

/// Prints one JSON line per event and scenario action.
struct JsonLines {
    phases: bool,
}

fn print_line(line: &serde_json::Value) {
    // A closed stdout must not stop the gate.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|_| stdout.flush());
}

impl Observer for JsonLines {
    fn event(&mut self, message: &Message) {
        if let Some(line) = sim::event_json(message) {
            print_line(&line);
        }
    }

    fn note(&mut self, note: &serde_json::Value) {
        if self.phases || note["sim"] != "phase" {
            print_line(note);
        }
    }
}

/// stdin without line buffering or echo, and the alternate screen; restored when dropped.
struct Terminal {
    saved: nix::sys::termios::Termios,
}

impl Terminal {
    fn enter() -> anyhow::Result<Terminal> {
        use nix::sys::termios::{LocalFlags, SetArg, SpecialCharacterIndices, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).context("stdin is not a terminal")?;
        let mut raw = saved.clone();
        // Keys arrive one by one; ISIG stays on so Ctrl-C still interrupts.
        raw.local_flags.remove(LocalFlags::ICANON | LocalFlags::ECHO);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).context("cannot set the terminal mode")?;
        print!("\x1b[?1049h\x1b[?25l");
        let _ = std::io::stdout().flush();
        Ok(Terminal { saved })
    }

    /// Keys typed, from a reader thread (`q` also sets `stop`).
    fn keys(&self, stop: Arc<AtomicBool>) -> Receiver<u8> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut stdin = std::io::stdin();
            let mut byte = [0u8; 1];
            while let Ok(1) = stdin.read(&mut byte) {
                if byte[0] == b'q' {
                    stop.store(true, Ordering::SeqCst);
                }
                if tx.send(byte[0]).is_err() {
                    break;
                }
            }
        });
        rx
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        use nix::sys::termios::{SetArg, tcsetattr};
        print!("\x1b[?25h\x1b[?1049l");
        let _ = std::io::stdout().flush();
        let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, &self.saved);
    }
}

/// Redraws the lane ten times a second; keys become scenario actions.
struct ViewObserver {
    keys: Receiver<u8>,
    stop: Arc<AtomicBool>,
    recent: VecDeque<String>,
    last_draw: Option<Instant>,
    now_ms: u64,
    emergency_on: bool,
    cable_connected: bool,
}

const RECENT_LINES: usize = 10;

impl ViewObserver {
    fn new(keys: Receiver<u8>, stop: Arc<AtomicBool>, device: &str, config: &SimConfig) -> ViewObserver {
        let mut recent = VecDeque::new();
        recent.push_back(format!("serving on {device}, scenario {}", config.scenario.name));
        ViewObserver {
            keys,
            stop,
            recent,
            last_draw: None,
            now_ms: 0,
            emergency_on: false,
            cable_connected: true,
        }
    }

    fn push(&mut self, line: String) {
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(format!("{:>8.1} s  {line}", self.now_ms as f64 / 1000.0));
    }
}

impl Observer for ViewObserver {
    fn event(&mut self, message: &Message) {
        if let Some(line) = sim::event_json(message) {
            self.push(format!("to host: {line}"));
        }
    }

    fn flaps(&mut self, command: FlapCommand) {
        self.push(format!("flaps: {command:?}"));
    }

    fn note(&mut self, note: &serde_json::Value) {
        self.push(note.to_string());
    }

    fn wants_ticks(&self) -> bool {
        true
    }

    fn tick(&mut self, snapshot: &SimSnapshot) {
        self.now_ms = snapshot.now_ms;
        self.emergency_on = snapshot.lane.emergency_input;
        self.cable_connected = snapshot.cable_connected;
        if self.last_draw.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let recent: Vec<String> = self.recent.iter().cloned().collect();
        let mut stdout = std::io::stdout().lock();
        let _ =
            write!(stdout, "\x1b[H{}\x1b[J", view::render(snapshot, &recent)).and_then(|_| stdout.flush());
    }

    fn injected(&mut self) -> Vec<SimAction> {
        let mut actions = Vec::new();
        while let Ok(key) = self.keys.try_recv() {
            if key == b'q' {
                self.stop.store(true, Ordering::SeqCst);
            }
            if let Some(action) = view::action_for_key(key, self.emergency_on, self.cable_connected) {
                // Two presses before the next tick must still toggle twice.
                match action {
                    SimAction::Emergency { active } => self.emergency_on = active,
                    SimAction::Cable { connected } => self.cable_connected = connected,
                    _ => {}
                }
                actions.push(action);
            }
        }
        actions
    }
}
