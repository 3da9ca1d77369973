//! Helpers for the end-to-end tests: find the workspace's binaries, run the
//! gate simulator on a pseudo-terminal and collect what it reports.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// The folder with the workspace binaries: the profile folder this test was
/// built into (target/<profile>/deps/<test> -> target/<profile>).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// Path of a workspace binary; panics with what to do if it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        p.display()
    );
    p
}

pub fn assets() -> PathBuf {
    workspace_root().join("assets")
}

/// A gate simulator on a pseudo-terminal; killed when dropped.
pub struct GateSim {
    child: Child,
    pub device: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl GateSim {
    pub fn start(extra_args: &[&str]) -> GateSim {
        let mut child = Command::new(bin("gate-sim"))
            .arg("--pty")
            .args(extra_args)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("start gate-sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let device = loop {
            first.clear();
            if reader.read_line(&mut first).expect("read gate-sim") == 0 {
                panic!("gate-sim exited before announcing its device");
            }
            if let Some(d) = first.trim().strip_prefix("GATE_DEVICE=") {
                break d.to_string();
            }
        };
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in reader.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        GateSim { child, device, lines }
    }

    /// Lines the simulator printed (one JSON object per event sent to the host).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Wait until a printed line satisfies `pred`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.lines().iter().any(|l| pred(l)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for GateSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Generate passengers with declaration-app-sim.
pub fn generate(out: &Path, count: usize, scenario: &str, seed: u64) {
    let status = Command::new(bin("declaration-app-sim"))
        .args([
            "generate",
            "--count",
            &count.to_string(),
            "--seed",
            &seed.to_string(),
            "--scenario",
            scenario,
        ])
        .arg("--photos")
        .arg(assets().join("photos"))
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .status()
        .expect("run declaration-app-sim");
    assert!(status.success(), "declaration-app-sim generate failed");
}
