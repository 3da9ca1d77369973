//! QR reader benchmark over the frames of `examples/qr_frames.rs`: decode
//! rate and median / p95 latency per condition, per resolution and overall,
//! and which stage decoded each frame. `scripts/bench-qr.sh` runs it beside
//! zxing-cpp on the same frames.
//!
//! ```text
//! cargo bench -p kiosk --no-default-features --features sim,vision --bench qr_decode -- \
//!     target/qr-frames [--out ours.jsonl] [--repeat 3]
//! ```
//! A frame counts as decoded when the reader returns exactly the manifest's
//! text. Its latency is the median of `--repeat` runs (the reader's own
//! timing: luma conversion included, PNG loading excluded).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use kiosk::qr::Reader;
use serde_json::{Value, json};

struct Args {
    frames: PathBuf,
    out: Option<PathBuf>,
    repeat: usize,
}

fn parse_args() -> Result<Args> {
    let mut frames = None;
    let mut out = None;
    let mut repeat = 3;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            // Added by `cargo bench`.
            "--bench" => {}
            "--out" => out = Some(PathBuf::from(it.next().context("--out needs a file")?)),
            "--repeat" => repeat = it.next().context("--repeat needs a number")?.parse()?,
            s if s.starts_with('-') => bail!("unknown argument {s:?}"),
            s => frames = Some(PathBuf::from(s)),
        }
    }
    let frames = frames.unwrap_or_else(|| PathBuf::from("target/qr-frames"));
    Ok(Args { frames, out, repeat: repeat.max(1) })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // The same index as scripts/bench-qr-zxing.py: round((n - 1) p), halves
    // to even as Python's round() does.
    let i = ((sorted.len() - 1) as f64 * p).round_ties_even() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[derive(Default)]
struct Cell {
    frames: usize,
    decoded: usize,
    ms: Vec<f64>,
}

impl Cell {
    fn row(&mut self, name: &str) -> String {
        self.ms.sort_by(f64::total_cmp);
        format!(
            "{name:<22} {:>4}/{:<4} {:>6.1} % {:>9.2} {:>9.2}",
            self.decoded,
            self.frames,
            100.0 * self.decoded as f64 / self.frames.max(1) as f64,
            percentile(&self.ms, 0.5),
            percentile(&self.ms, 0.95)
        )
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let manifest_path = args.frames.join("manifest.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).with_context(|| {
            format!("cannot read {}; run examples/qr_frames first", manifest_path.display())
        })?)?;
    let frames = manifest["frames"].as_array().context("manifest without frames")?;
    let reader = Reader::default();
    let mut out = match &args.out {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let mut by_condition: BTreeMap<String, Cell> = BTreeMap::new();
    let mut by_resolution: BTreeMap<String, Cell> = BTreeMap::new();
    let mut by_size: BTreeMap<String, Cell> = BTreeMap::new();
    let mut by_stage: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut overall = Cell::default();
    for f in frames {
        let file = f["file"].as_str().context("frame without file")?;
        let expected = f["expected"].as_str().context("frame without expected text")?;
        let img = image::open(args.frames.join(file)).with_context(|| file.to_string())?.to_rgb8();
        let mut times = Vec::new();
        let mut scan = None;
        for _ in 0..args.repeat {
            let s = reader.read(&img);
            times.push(s.elapsed.as_secs_f64() * 1e3);
            scan = Some(s);
        }
        let scan = scan.context("no run")?;
        // The median of the runs as Python's statistics.median takes it (the
        // mean of the middle two for an even count), as the zxing-cpp script.
        times.sort_by(f64::total_cmp);
        let mid = times.len() / 2;
        let ms = if times.len() % 2 == 0 { (times[mid - 1] + times[mid]) / 2.0 } else { times[mid] };
        let decoded = scan.texts.iter().any(|t| t == expected);
        if decoded {
            *by_stage.entry(scan.stage.map(kiosk::qr::Stage::name).unwrap_or("none")).or_default() += 1;
        }
        let resolution = format!("{}x{}", f["width"], f["height"]);
        let keys = [
            (&mut by_condition, f["condition"].as_str().unwrap_or("?").to_string()),
            (&mut by_resolution, resolution),
            (&mut by_size, f["size"].as_str().unwrap_or("?").to_string()),
        ];
        for (map, key) in keys {
            let c = map.entry(key).or_default();
            c.frames += 1;
            c.decoded += usize::from(decoded);
            c.ms.push(ms);
        }
        overall.frames += 1;
        overall.decoded += usize::from(decoded);
        overall.ms.push(ms);
        if let Some(o) = out.as_mut() {
            writeln!(
                o,
                "{}",
                json!({"file": file, "decoded": decoded, "ms": ms,
                       "stage": scan.stage.map(kiosk::qr::Stage::name), "stages_tried": scan.stages_tried})
            )?;
        }
    }
    println!(
        "kiosk::qr::Reader ({} stages), {} frames, median of {} runs each",
        reader.stages.len(),
        overall.frames,
        args.repeat
    );
    println!("{:<22} {:>9} {:>8} {:>9} {:>9}", "", "decoded", "rate", "median ms", "p95 ms");
    for (name, map) in
        [("condition", &mut by_condition), ("resolution", &mut by_resolution), ("size", &mut by_size)]
    {
        println!("-- by {name}");
        for (k, c) in map.iter_mut() {
            println!("{}", c.row(k));
        }
    }
    println!("{}", overall.row("overall"));
    println!("decoded by stage: {by_stage:?}");
    Ok(())
}
