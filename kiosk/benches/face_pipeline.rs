//! Face pipeline benchmark: detection (YuNet through `cv::dnn`, our decoding),
//! alignment + embedding (SFace `alignCrop` + `feature`) and the whole
//! template step on one 640x480 frame made from a real photo (the portrait
//! scaled to 480 px high and letterboxed into a grey 640x480 frame, as a kiosk
//! camera would see a passenger).
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-face cargo bench -p kiosk --no-default-features \
//!     --features sim,vision --bench face_pipeline -- [--runs 30] [--threads N] \
//!     [--photo assets/photos/obama.jpg] [--json]
//! ```
//! `--threads` calls `cv::setNumThreads` (0 = OpenCV's default, one per core).
//! Each run times, in order: `detect`, `embed` (alignment + embedding of the
//! face just found) and `template` (conversion + detection + alignment +
//! embedding, what the kiosk does per frame). Three warm-up runs come first
//! (the first inference allocates the network's buffers). Median and p95 are
//! over the timed runs; the machine's load average is printed beside them
//! because other builds may share the cores.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use image::{Rgb, RgbImage, imageops};
use kiosk::face::FaceMatcher;
use kiosk::face::opencv_backend::{self, OpenCvFaceMatcher};
use serde_json::json;

struct Args {
    runs: usize,
    threads: Option<i32>,
    photo: PathBuf,
    json: bool,
}

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn parse_args() -> Result<Args> {
    let mut args =
        Args { runs: 30, threads: None, photo: workspace().join("assets/photos/obama.jpg"), json: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            // Added by `cargo bench`.
            "--bench" => {}
            "--runs" => args.runs = it.next().context("--runs needs a number")?.parse()?,
            "--threads" => args.threads = Some(it.next().context("--threads needs a number")?.parse()?),
            "--photo" => args.photo = PathBuf::from(it.next().context("--photo needs a file")?),
            "--json" => args.json = true,
            s => bail!("unknown argument {s:?}"),
        }
    }
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    Ok(args)
}

/// The photo scaled to 480 px high, centred on a 640x480 grey frame.
fn kiosk_frame(photo: &RgbImage) -> RgbImage {
    let h = 480u32;
    let w = ((photo.width() as f32 * h as f32 / photo.height() as f32).round() as u32).clamp(1, 640);
    let small = imageops::resize(photo, w, h, imageops::FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([40, 40, 40]));
    imageops::overlay(&mut frame, &small, i64::from((640 - w) / 2), 0);
    frame
}

fn stats(ms: &mut [f64]) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (pick(0.5), pick(0.95), ms[0])
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if let Some(n) = args.threads {
        opencv_backend::set_opencv_threads(n)?;
    }
    let models = workspace().join("assets/models");
    let mut m = OpenCvFaceMatcher::load(&models, opencv_backend::DEFAULT_THRESHOLD)
        .context("run scripts/setup.sh to fetch the models")?;
    let photo = opencv_backend::load_image_file(&args.photo)?;
    let frame = kiosk_frame(&photo);

    for _ in 0..3 {
        m.template(&frame)?;
    }
    let (mut det, mut emb, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let faces = m.detect(&frame)?;
        let t1 = Instant::now();
        let face = opencv_backend::dominant_face(&faces)?;
        let t2 = Instant::now();
        let t = m.embed_face(&frame, &face)?;
        let t3 = Instant::now();
        let t_full = m.template(&frame)?;
        let t4 = Instant::now();
        if faces.len() != 1 || t.cosine_similarity(&t_full) < 0.999 {
            bail!("unstable result: {} faces, self-similarity {}", faces.len(), t.cosine_similarity(&t_full));
        }
        det.push((t1 - t0).as_secs_f64() * 1e3);
        emb.push((t3 - t2).as_secs_f64() * 1e3);
        total.push((t4 - t3).as_secs_f64() * 1e3);
    }
    let threads = opencv_backend::opencv_threads();
    let (dm, dp, dmin) = stats(&mut det);
    let (em, ep, emin) = stats(&mut emb);
    let (tm, tp, tmin) = stats(&mut total);
    let load = load_average();
    if args.json {
        println!(
            "{}",
            json!({
                "frame": [640, 480], "photo": args.photo.display().to_string(), "runs": args.runs,
                "opencv_threads": threads, "load_average": load,
                "detect_ms": {"median": dm, "p95": dp, "min": dmin},
                "align_embed_ms": {"median": em, "p95": ep, "min": emin},
                "total_ms": {"median": tm, "p95": tp, "min": tmin},
                "budget_ms": 60.0, "within_budget": tm <= 60.0,
            })
        );
    } else {
        println!(
            "face pipeline, 640x480 frame from {}, {} runs, OpenCV threads {threads}, load average {load}",
            args.photo.display(),
            args.runs
        );
        println!("  detection          median {dm:6.1} ms  p95 {dp:6.1} ms  min {dmin:6.1} ms");
        println!("  alignment+embed    median {em:6.1} ms  p95 {ep:6.1} ms  min {emin:6.1} ms");
        println!("  total (template)   median {tm:6.1} ms  p95 {tp:6.1} ms  min {tmin:6.1} ms");
        println!("  budget 60 ms: {}", if tm <= 60.0 { "met (median)" } else { "NOT met (median)" });
    }
    Ok(())
}
