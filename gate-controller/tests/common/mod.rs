//! What the pseudo-terminal tests share: the real `gate-sim` binary on a pty.
// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};

/// The simulator process; killed when dropped, also on a failing assertion.
pub struct Sim {
    pub child: Child,
    /// The pty slave the host connects to.
    pub device: String,
    /// gate-sim's JSON output lines (events, phases), as they come.
    pub json: Receiver<serde_json::Value>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `gate-sim --pty ARGS...`; its first line names the device, every later line is JSON.
pub fn spawn_sim(args: &[&str]) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gate-sim"))
        .arg("--pty")
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn gate-sim");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("read GATE_DEVICE line");
    let device = first.trim().strip_prefix("GATE_DEVICE=").expect("GATE_DEVICE= line").to_string();
    let (tx, json) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    Sim { child, device, json }
}
