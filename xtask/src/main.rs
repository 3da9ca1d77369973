//! `cargo xtask demo`: the simulated airport on embedded defaults.
//!
//! Builds the binaries (one profile, the same the tests use), makes synthetic
//! passengers with declaration-app-sim, starts the gate simulator on a
//! pseudo-terminal, and runs one kiosk lane against it: kiosk UI in a window
//! when a display exists, headless otherwise. Everything lands in `data/demo/`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run the simulated airport: passengers -> kiosk -> gate.
    Demo {
        /// Number of synthetic passengers (the mix of green and referral cases).
        #[arg(long, default_value_t = 8)]
        passengers: usize,
        /// Seed of the synthetic population.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Never open a window.
        #[arg(long)]
        headless: bool,
        /// Data folder (wiped at start).
        #[arg(long, default_value = "data/demo")]
        data: PathBuf,
        /// Pause between passengers, so a person can follow the UI (ms).
        #[arg(long)]
        pace_ms: Option<u64>,
    },
}

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Task::Demo { passengers, seed, headless, data, pace_ms } => {
            demo(passengers, seed, headless, &data, pace_ms)
        }
    }
}

/// Kills the child when dropped, so no simulator outlives the demo.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn demo(count: usize, seed: u64, headless: bool, data: &Path, pace_ms: Option<u64>) -> Result<()> {
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("== building the kiosk, the gate simulator and the declaration app simulator");
    // The same target set as the test command (scripts/test.sh): dev-dependencies change the
    // features cargo unifies, and a bins-only build would rebuild Bevy and the crypto crates
    // beside the test build's copies.
    let status = Command::new(&cargo)
        .args(["build", "--workspace", "--bins", "--tests", "--examples"])
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("the build failed");
    }
    let bin = root.join("target/debug");
    let bin = std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("debug")).unwrap_or(bin);

    if data.exists() {
        std::fs::remove_dir_all(data).with_context(|| format!("cannot clear {}", data.display()))?;
    }
    let passengers_dir = data.join("passengers");
    std::fs::create_dir_all(&passengers_dir)?;

    println!("== {count} synthetic passenger(s) from the declaration app and the passport issuer");
    let status = Command::new(bin.join("declaration-app-sim"))
        .args([
            "generate",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--photos",
            "assets/photos",
        ])
        .arg("--out")
        .arg(&passengers_dir)
        .status()
        .context("cannot run declaration-app-sim")?;
    if !status.success() {
        bail!("generating passengers failed (are the photos there? run scripts/setup.sh)");
    }

    println!("== gate simulator on a pseudo-terminal");
    let mut gate = Command::new(bin.join("gate-sim"));
    if std::env::var_os("RUST_LOG").is_none() {
        gate.env("RUST_LOG", "warn");
    }
    let mut gate = gate
        .arg("--pty")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start gate-sim")?;
    let stdout = gate.stdout.take().context("gate-sim stdout")?;
    let gate = KillOnDrop(gate);
    let mut lines = BufReader::new(stdout).lines();
    let device = loop {
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(d) = l.strip_prefix("GATE_DEVICE=") {
                    break d.to_string();
                }
            }
            _ => bail!("gate-sim ended before announcing its device"),
        }
    };
    println!("   gate controller listening on {device}");
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            println!("   gate-sim: {l}");
        }
    });

    let with_window = !headless && std::env::var_os("DISPLAY").is_some();
    println!("== kiosk lane ({})", if with_window { "UI window" } else { "headless" });
    let mut kiosk = Command::new(bin.join("kiosk"));
    kiosk
        .arg("lane")
        .arg("--passengers")
        .arg(&passengers_dir)
        .args(["--gate", &device])
        .arg("--database")
        .arg(data.join("kiosk.sqlite"))
        .arg("--report")
        .arg(data.join("report.json"));
    if !with_window {
        kiosk.arg("--headless");
    }
    if let Some(ms) = pace_ms.or(with_window.then_some(2500)) {
        kiosk.args(["--pace-ms", &ms.to_string()]);
    }
    if std::env::var_os("RUST_LOG").is_none() {
        kiosk.env("RUST_LOG", "warn");
    }
    let status = kiosk.status().context("cannot run the kiosk")?;
    drop(gate);
    if !status.success() {
        bail!("the kiosk lane failed ({status})");
    }
    println!(
        "== records: {} ; report: {}",
        data.join("kiosk.sqlite").display(),
        data.join("report.json").display()
    );
    Ok(())
}
