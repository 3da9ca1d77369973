//! Per-stage diagnosis of the QR reader on the benchmark frames: each stage
//! alone, how many frames it decodes (and how many no other stage does) and
//! its median time, to order the stages by cost and yield.
//!
//! ```text
//! cargo run --release -p kiosk --no-default-features --features sim,vision \
//!     --example qr_probe -- FRAMES_DIR [FILE_SUBSTRING] [-v]
//! ```

use anyhow::{Context, Result};
use kiosk::qr::{Reader, Stage};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "-v").collect();
    let dir = std::path::PathBuf::from(rest.first().context("FRAMES_DIR")?);
    let filter = rest.get(1).map(|s| s.as_str()).unwrap_or_default();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json"))?)?;
    let stages = Reader::default_stages();
    let mut ok = vec![Vec::new(); stages.len()];
    let mut ms = vec![Vec::new(); stages.len()];
    let mut frames = 0;
    for f in manifest["frames"].as_array().context("frames")? {
        let file = f["file"].as_str().unwrap_or_default();
        if !file.contains(filter) {
            continue;
        }
        frames += 1;
        let expected = f["expected"].as_str().unwrap_or_default();
        let img = image::open(dir.join(file))?.to_rgb8();
        let mut line = format!("{file:<44}");
        for (i, &stage) in stages.iter().enumerate() {
            let scan = Reader { stages: vec![stage], ..Reader::default() }.read(&img);
            let good = scan.texts.iter().any(|t| t == expected);
            ok[i].push(good);
            ms[i].push(scan.elapsed.as_secs_f64() * 1e3);
            line +=
                &format!(" {}:{}:{:.0}", stage.name(), if good { "OK" } else { "--" }, ms[i].last().unwrap());
        }
        if verbose {
            println!("{line}");
        }
    }
    let any = |j: usize, except: usize| (0..stages.len()).any(|i| i != except && ok[i][j]);
    println!(
        "{frames} frames; decoded by any stage: {}",
        (0..frames).filter(|&j| any(j, usize::MAX)).count()
    );
    for (i, stage) in stages.iter().enumerate() {
        let mut t = ms[i].clone();
        t.sort_by(f64::total_cmp);
        let n = ok[i].iter().filter(|b| **b).count();
        let only = (0..frames).filter(|&j| ok[i][j] && !any(j, i)).count();
        println!(
            "{:<22} {n:>4} decoded, {only:>3} only by it, median {:>6.1} ms",
            Stage::name(*stage),
            t.get(t.len() / 2).copied().unwrap_or(f64::NAN)
        );
    }
    // Greedy order: next the stage that decodes the most frames not yet
    // decoded per millisecond of its median time.
    let mut done = vec![false; frames];
    let mut left: Vec<usize> = (0..stages.len()).collect();
    print!("greedy order:");
    while !left.is_empty() {
        let gain = |i: usize| {
            let mut t = ms[i].clone();
            t.sort_by(f64::total_cmp);
            let new = (0..frames).filter(|&j| ok[i][j] && !done[j]).count();
            (new as f64 / t.get(t.len() / 2).copied().unwrap_or(1.0).max(0.5), new)
        };
        let (pos, &best) =
            left.iter().enumerate().max_by(|a, b| gain(*a.1).0.total_cmp(&gain(*b.1).0)).context("stage")?;
        let (_, new) = gain(best);
        if new == 0 {
            break;
        }
        for (j, d) in done.iter_mut().enumerate() {
            *d |= ok[best][j];
        }
        print!(" {}(+{new})", stages[best].name());
        left.remove(pos);
    }
    println!();
    Ok(())
}
