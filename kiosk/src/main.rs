//! `kiosk`: the electronic declaration terminal and gate station of one lane.
//! A thin shell over the library: argument parsing, wiring, error reporting.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::json;

use kiosk::config::KioskConfig;
use kiosk::passport::mrz::Mrz;

#[derive(Parser)]
#[command(name = "kiosk", version, about = "Electronic customs declaration kiosk and e-Gate station")]
struct Cli {
    /// Configuration file (TOML); embedded defaults when absent.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a lane (kiosk + gate station) with simulated passengers.
    #[cfg(feature = "sim")]
    Lane(LaneArgs),
    /// Parse an MRZ (TD1, TD2 or TD3) and check every check digit.
    Mrz {
        /// The MRZ lines (2 or 3), or one run of 88/72/90 characters.
        #[arg(num_args = 1..=3, required = true)]
        lines: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// IC passports: read a chip and authenticate it.
    Passport {
        #[command(subcommand)]
        command: PassportCommand,
    },
    /// Declaration QR codes.
    Qr {
        #[command(subcommand)]
        command: QrCommand,
    },
    /// Face verification.
    #[cfg(feature = "vision")]
    Face {
        #[command(subcommand)]
        command: FaceCommand,
    },
    /// The touch UI.
    #[cfg(feature = "ui")]
    Ui {
        #[command(subcommand)]
        command: UiCommand,
    },
    /// Cameras attached to this machine.
    #[cfg(feature = "camera")]
    Camera {
        #[command(subcommand)]
        command: CameraCommand,
    },
    /// The risk watch list: salted hashes of documents and persons
    /// (docs/watch-list.md), so no plaintext list is needed on the kiosk.
    Watchlist {
        #[command(subcommand)]
        command: WatchlistCommand,
    },
    /// Print the default configuration as TOML.
    DefaultConfig,
}

#[derive(Subcommand)]
enum WatchlistCommand {
    /// Create an empty list with a fresh random salt.
    New {
        /// The list file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Hash entries and append them to a list. Without --document/--surname,
    /// reads entries from stdin, one a line, tab-separated:
    /// `document<TAB>NUMBER<TAB>STATE` or `person<TAB>SURNAME<TAB>GIVEN NAMES<TAB>DOB`
    /// (keeps the plaintext out of the shell history).
    Add {
        #[arg(long)]
        list: PathBuf,
        #[command(flatten)]
        entry: WatchlistEntryArgs,
    },
    /// Print the entry line for a salt without writing anything (to build a
    /// list elsewhere).
    Hash {
        /// The list whose salt to use.
        #[arg(long, conflicts_with = "salt", required_unless_present = "salt")]
        list: Option<PathBuf>,
        /// The salt, 64 hex digits.
        #[arg(long)]
        salt: Option<String>,
        #[command(flatten)]
        entry: WatchlistEntryArgs,
    },
    /// Check that a list loads; print how many entries it has.
    Check {
        #[arg(long)]
        list: PathBuf,
    },
}

#[derive(clap::Args)]
struct WatchlistEntryArgs {
    /// Document number (with --state).
    #[arg(long, requires = "state", conflicts_with_all = ["surname", "given_names", "dob"])]
    document: Option<String>,
    /// Issuing state of the document, ICAO code (e.g. UTO, D).
    #[arg(long)]
    state: Option<String>,
    /// Surname as in the MRZ (with --dob; --given-names optional).
    #[arg(long, requires = "dob")]
    surname: Option<String>,
    #[arg(long)]
    given_names: Option<String>,
    /// Date of birth: YYMMDD, YYYYMMDD or YYYY-MM-DD.
    #[arg(long)]
    dob: Option<String>,
}

#[cfg(feature = "camera")]
#[derive(Subcommand)]
enum CameraCommand {
    /// List the cameras; with --open N, also open camera N and grab one frame.
    List {
        #[arg(long)]
        open: Option<u32>,
    },
}

#[derive(Subcommand)]
enum PassportCommand {
    /// Read a passport chip over APDUs (BAC or PACE, secure messaging), run
    /// Passive, Chip and Active Authentication, and print what it holds.
    Read(PassportReadArgs),
}

#[derive(clap::Args)]
struct PassportReadArgs {
    /// A chip image (from `declaration-app-sim passport`), served by the
    /// virtual chip over real APDUs.
    #[cfg(feature = "sim")]
    #[arg(long, conflicts_with = "pcsc")]
    chip: Option<PathBuf>,
    /// Read a real chip on a PC/SC reader (the first reader with a card, or
    /// the reader whose name contains this text). Needs pcscd.
    #[cfg(feature = "pcsc")]
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    pcsc: Option<String>,
    /// The data page MRZ (its lines separated by newlines or given as one
    /// run). For a chip image, defaults to the MRZ in its DG1.
    #[arg(long)]
    mrz: Option<String>,
    /// Folder of CSCA certificates (DER/PEM), CRLs and master lists.
    #[arg(long)]
    trust: PathBuf,
    /// Write the portrait here (JPEG 2000 portraits are converted to PNG or
    /// JPEG by the file extension).
    #[arg(long)]
    portrait: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Virtual chip: short APDUs only (223 bytes per read), like older chips.
    #[cfg(feature = "sim")]
    #[arg(long)]
    short_apdus: bool,
    /// Virtual chip: the link drops after this many response bytes (then again
    /// after as many, `--drops` times).
    #[cfg(feature = "sim")]
    #[arg(long)]
    drop_link_after: Option<u64>,
    #[cfg(feature = "sim")]
    #[arg(long, default_value_t = 1)]
    drops: u32,
    /// Virtual chip: delay per response, in milliseconds (a slow chip).
    #[cfg(feature = "sim")]
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

#[derive(Subcommand)]
enum QrCommand {
    /// Decode declaration QR codes from images and verify their signatures.
    Decode {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// File of trusted declaration service public keys (hex, one a line,
        /// `#` comments; docs/declaration-qr.md); default: the configuration's
        /// `declaration_keys`.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// One JSON object a line per image.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(feature = "vision")]
#[derive(Subcommand)]
enum FaceCommand {
    /// Compare the faces in two images: score, quality of each image, decision.
    Match {
        a: PathBuf,
        b: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Verification accuracy over labelled pairs (docs/face.md): FMR and FNMR
    /// per threshold, DET points, the threshold for a target FMR.
    Eval(FaceEvalArgs),
    /// Presentation attack detection over synthetic bursts made from the
    /// photos (bona fide, print, screen, video replay): APCER per attack
    /// kind and BPCER at the configured `pad_threshold` and over a sweep.
    PadEval(PadEvalArgs),
}

#[cfg(feature = "vision")]
#[derive(clap::Args)]
struct PadEvalArgs {
    /// Folder of photos (default: <assets>/photos).
    #[arg(long)]
    photos: Option<PathBuf>,
    /// Bursts per photo and kind.
    #[arg(long, default_value_t = 6)]
    bursts: usize,
    /// Frames per burst (default: the configuration's `face_burst_frames`).
    #[arg(long)]
    frames: Option<usize>,
    /// Also print every burst's measures.
    #[arg(long)]
    scores: bool,
    /// Write every burst's frames into this folder as PNGs.
    #[arg(long)]
    dump: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[cfg(feature = "vision")]
#[derive(clap::Args)]
struct FaceEvalArgs {
    /// Pairs file: tab-separated path_a, path_b, same|different.
    #[arg(long, required_unless_present = "synthetic")]
    pairs: Option<PathBuf>,
    /// Build the evaluation set from <assets>/photos into this folder first
    /// (real pairs plus synthetic live-capture variants; writes pairs.tsv).
    #[arg(long)]
    synthetic: Option<PathBuf>,
    /// Target false match rate for the threshold search.
    #[arg(long, default_value_t = 0.001)]
    target_fmr: f64,
    /// Also print every pair's score.
    #[arg(long)]
    scores: bool,
    #[arg(long)]
    json: bool,
}

#[cfg(feature = "ui")]
#[derive(Subcommand)]
enum UiCommand {
    /// Render one screen to a PNG (needs an X server, e.g. xvfb-run).
    Screenshot(kiosk::ui::cli::ScreenshotArgs),
}

#[cfg(feature = "sim")]
#[derive(clap::Args)]
struct LaneArgs {
    /// Folder of simulated passengers (from `declaration-app-sim generate`).
    #[arg(long)]
    passengers: PathBuf,
    /// Serial device of this lane's gate controller (e.g. the path gate-sim prints).
    #[arg(long)]
    gate: Option<String>,
    /// SQLite file (overrides the configuration).
    #[arg(long)]
    database: Option<PathBuf>,
    /// Assets folder (overrides the configuration).
    #[arg(long)]
    assets: Option<PathBuf>,
    /// No window, even when a display is available.
    #[arg(long)]
    headless: bool,
    /// UI language: ja, en, zh-Hans, zh-Hant, ko.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Serve at most this many passengers, then exit.
    #[arg(long)]
    count: Option<usize>,
    /// Write a JSON report of every passenger to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Pause between steps of the simulation, so a person can follow the UI (ms).
    #[arg(long, default_value_t = 0)]
    pace_ms: u64,
    /// CSCA trust store for Passive Authentication (certificates, CRLs, master
    /// lists). Default: the `trust` folder next to the passengers, where
    /// `declaration-app-sim generate` exports its issuers' CSCAs.
    #[arg(long)]
    csca: Option<PathBuf>,
    /// Staff console to sync records and live state to (e.g.
    /// http://127.0.0.1:8480); needs --console-secret-file.
    #[cfg(feature = "uplink")]
    #[arg(long, requires = "console_secret_file")]
    console: Option<String>,
    /// File holding the lane secret the console was started with.
    #[cfg(feature = "uplink")]
    #[arg(long)]
    console_secret_file: Option<PathBuf>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,wgpu=error,naga=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("kiosk: error: {e:#}");
        std::process::exit(1);
    }
}

fn load_config(path: Option<&Path>) -> Result<KioskConfig> {
    match path {
        Some(p) => Ok(KioskConfig::load(p)?),
        None => Ok(KioskConfig::default()),
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = load_config(cli.config.as_deref())?;
    match cli.command {
        #[cfg(feature = "sim")]
        Command::Lane(args) => run_lane(config, args),
        Command::Mrz { lines, json } => mrz(&lines, json),
        Command::Passport { command: PassportCommand::Read(args) } => passport_read(args),
        Command::Qr { command: QrCommand::Decode { images, trust, json } } => {
            qr_decode(&config, &images, trust.as_deref(), json)
        }
        #[cfg(feature = "vision")]
        Command::Face { command: FaceCommand::Match { a, b, json } } => face_match(&config, &a, &b, json),
        #[cfg(feature = "vision")]
        Command::Face { command: FaceCommand::Eval(args) } => face_eval(&config, args),
        #[cfg(feature = "vision")]
        Command::Face { command: FaceCommand::PadEval(args) } => face_pad_eval(&config, args),
        #[cfg(feature = "ui")]
        Command::Ui { command: UiCommand::Screenshot(args) } => kiosk::ui::cli::run_screenshot(args),
        #[cfg(feature = "camera")]
        Command::Camera { command: CameraCommand::List { open } } => camera_list(open),
        Command::Watchlist { command } => watchlist(command),
        Command::DefaultConfig => {
            print!("{}", toml::to_string_pretty(&KioskConfig::default())?);
            Ok(())
        }
    }
}

fn mrz(lines: &[String], json: bool) -> Result<()> {
    let text = lines.join("\n");
    let m = Mrz::parse(&text).context("the MRZ could not be parsed")?;
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({ "mrz": m, "valid": m.all_checks_pass() }))?);
    } else {
        println!("document {}  state {}  nationality {}", m.document_number, m.issuing_state, m.nationality);
        println!("born {}  sex {}  expires {}", m.date_of_birth, m.sex, m.date_of_expiry);
        for c in &m.checks {
            println!("  {:?}: {}", c.field, if c.ok { "ok" } else { "FAILED" });
        }
    }
    if !m.all_checks_pass() {
        bail!("one or more check digits failed");
    }
    Ok(())
}

fn passport_read(args: PassportReadArgs) -> Result<()> {
    use kiosk::passport::reader::{ReadOptions, read_chip};
    use kiosk::passport::transport::CardTransport;

    let trust = kiosk::passport::trust::TrustStore::load_dir(&args.trust)
        .with_context(|| format!("cannot load the CSCA trust store from {}", args.trust.display()))?;
    let mut page_mrz = args.mrz.clone();
    let mut transport: Option<Box<dyn CardTransport>> = None;
    #[cfg(feature = "sim")]
    if let Some(path) = &args.chip {
        use kiosk::passport::chip::{ChipFaults, ChipProfile, VirtualChip};
        let image = kiosk::passport::chip_image::ChipImage::load(path)?;
        if page_mrz.is_none() {
            // The simulator's data page carries the same MRZ as DG1.
            let dg1 = image.file(kiosk::passport::lds::fid::DG1).context("the chip image has no DG1")?;
            page_mrz = Some(kiosk::passport::lds::parse_dg1(dg1)?.lines.join("\n"));
        }
        let profile = if args.short_apdus { ChipProfile::short_only() } else { ChipProfile::extended() };
        let mut faults = ChipFaults {
            response_delay: std::time::Duration::from_millis(args.delay_ms),
            ..ChipFaults::default()
        };
        if let Some(bytes) = args.drop_link_after {
            faults.drop_after_bytes = Some(bytes);
            faults.drops = args.drops;
        }
        transport = Some(Box::new(VirtualChip::with_profile(&image, profile)?.with_faults(faults)));
    }
    #[cfg(feature = "pcsc")]
    if let Some(name) = &args.pcsc {
        let reader = if name.is_empty() { None } else { Some(name.as_str()) };
        transport = Some(Box::new(kiosk::passport::pcsc_reader::PcscTransport::connect(reader)?));
    }
    let Some(mut transport) = transport else {
        bail!(
            "say which chip to read: --chip FILE (virtual chip) or --pcsc (a reader; needs the pcsc feature)"
        );
    };
    let page_mrz =
        page_mrz.context("--mrz is needed to open a real chip (BAC/PACE keys come from the data page)")?;
    let mrz = Mrz::parse(&page_mrz).context("the data page MRZ could not be parsed")?;
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let read =
        read_chip(transport.as_mut(), &mrz.key_information(), &trust, &ReadOptions::default(), &mut rng)
            .with_context(|| format!("reading the chip on {}", transport.describe()))?;
    if let Some(out) = &args.portrait {
        let bytes = match (read.portrait.data_type, out.extension().and_then(|e| e.to_str())) {
            (kiosk::passport::lds::ImageDataType::Jpeg, Some("jpg" | "jpeg")) => read.portrait.image.clone(),
            _ => {
                let img = read.portrait.decode().context("the portrait cannot be decoded")?;
                let mut buf = std::io::Cursor::new(Vec::new());
                let format = image::ImageFormat::from_path(out).unwrap_or(image::ImageFormat::Png);
                img.write_to(&mut buf, format).context("cannot encode the portrait")?;
                buf.into_inner()
            }
        };
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let auth = &read.authentication;
    if args.json {
        let report = json!({
            "dg1": read.dg1,
            "access": read.access,
            "authentication": auth,
            "portrait": { "type": format!("{:?}", read.portrait.data_type), "width": read.portrait.width,
                          "height": read.portrait.height, "bytes": read.portrait.image.len() },
            "dg11": read.dg11.is_some(),
            "dg12": read.dg12.is_some(),
            "timings_ms": read.timings,
            "link": read.link,
            "page_matches_chip": mrz.lines == read.dg1.lines,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let d = &read.dg1;
        println!(
            "{} {}  document {}  state {}  born {}  expires {}",
            d.given_names, d.surname, d.document_number, d.issuing_state, d.date_of_birth, d.date_of_expiry
        );
        println!("access: {:?}", read.access);
        println!("{}", auth.passive.summary());
        println!("Chip Authentication: {}", auth.chip_authentication);
        println!("Active Authentication: {}", auth.active_authentication);
        for t in &read.timings {
            println!("  {:<24} {:>8.2} ms", t.step, t.ms);
        }
        println!(
            "link: {} APDUs, {} reconnects, {} file bytes",
            read.link.apdus, read.link.reconnects, read.link.file_bytes
        );
    }
    if !auth.passive.verdict.is_passed() || auth.chip_clone_suspected() || mrz.lines != read.dg1.lines {
        std::process::exit(2);
    }
    Ok(())
}

/// Trusted keys from a file: one hex Ed25519 public key a line; anything
/// after the key on its line, blank lines and lines starting with `#` are
/// comments.
fn load_trust_file(path: &Path) -> Result<kiosk::declaration::payload::TrustStore> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut trust = kiosk::declaration::payload::TrustStore::new();
    for (n, line) in text.lines().enumerate() {
        let Some(key) = line.split_whitespace().next().filter(|k| !k.starts_with('#')) else { continue };
        let bytes: [u8; 32] = hex::decode(key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("{}:{}: not a 64-digit hex public key", path.display(), n + 1))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .with_context(|| format!("{}:{}: not an Ed25519 public key", path.display(), n + 1))?;
        trust.add(key);
    }
    if trust.is_empty() {
        bail!("{}: no keys (one hex public key a line)", path.display());
    }
    Ok(trust)
}

/// The error's variant name, a stable code for scripts (`BadSignature`, ...).
fn error_code(e: &impl std::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or_default().to_string()
}

fn qr_decode(config: &KioskConfig, images: &[PathBuf], trust: Option<&Path>, json: bool) -> Result<()> {
    use kiosk::declaration::payload::QR_PREFIX;
    let trust = match trust {
        Some(path) => load_trust_file(path)?,
        None => config.trust_store()?,
    };
    let reader = kiosk::qr::Reader::for_declarations();
    let mut failures = 0;
    for path in images {
        let img = image::open(path).with_context(|| format!("cannot open {}", path.display()))?.to_rgb8();
        let scan = reader.read(&img);
        let ms = scan.elapsed.as_secs_f64() * 1e3;
        let stage = scan.stage.map(kiosk::qr::Stage::name);
        let text = scan.texts.iter().find(|t| t.starts_with(QR_PREFIX));
        let (verdict, code, verified) = match (text, scan.texts.is_empty()) {
            (Some(t), _) => match trust.verify_qr(t, kiosk::lane::clock::unix_now()) {
                Ok(v) => ("valid".to_string(), "Valid".to_string(), Some(v)),
                Err(e) => (e.to_string(), error_code(&e), None),
            },
            (None, false) => {
                let e = kiosk::declaration::payload::PayloadError::Foreign;
                (e.to_string(), error_code(&e), None)
            }
            (None, true) => {
                let e = scan.clone().into_result().err().unwrap_or(kiosk::qr::QrError::NotFound);
                (e.to_string(), error_code(&e), None)
            }
        };
        if verified.is_none() {
            failures += 1;
        }
        if json {
            let v = verified.as_ref();
            println!(
                "{}",
                json!({
                    "image": path,
                    "verdict": verdict,
                    "code": code,
                    "stage": stage,
                    "stages_tried": scan.stages_tried,
                    "decode_ms": ms,
                    "codes_in_view": scan.texts.len(),
                    "key_id": v.map(|v| format!("{:08x}", v.key_id)),
                    "issued_at": v.map(|v| v.issued_at),
                    "expires_at": v.map(|v| v.expires_at),
                    "declaration": v.map(|v| &v.declaration),
                })
            );
        } else {
            println!("{}: {verdict} (stage {}, {ms:.1} ms)", path.display(), stage.unwrap_or("none"));
            if let Some(v) = &verified {
                println!("  key {:08x}, valid {} to {}", v.key_id, v.issued_at, v.expires_at);
                println!("  {}", serde_json::to_string(&v.declaration).unwrap_or_default());
            }
        }
    }
    if failures > 0 {
        bail!("{failures} image(s) without a valid declaration");
    }
    Ok(())
}

#[cfg(feature = "camera")]
fn camera_list(open: Option<u32>) -> Result<()> {
    use kiosk::camera::Camera;
    use kiosk::camera::webcam::Webcam;
    let cams = Webcam::list();
    if cams.is_empty() {
        println!("no camera found: the system lists no video devices (check the USB cable and /dev/video*)");
    }
    for c in &cams {
        println!("{c}");
    }
    if let Some(index) = open {
        let mut cam = Webcam::open(index)?;
        let frame = cam.capture()?;
        println!("camera {index}: one frame of {}x{}", frame.width(), frame.height());
    }
    Ok(())
}

#[cfg(feature = "vision")]
fn face_match(config: &KioskConfig, a: &Path, b: &Path, json: bool) -> Result<()> {
    use kiosk::face::FaceMatcher;
    use kiosk::face::opencv_backend::{OpenCvFaceMatcher, load_image_file};
    let mut m = OpenCvFaceMatcher::load(&config.models_dir(), config.face_threshold)?;
    let mut analyse = |p: &Path| -> Result<_> {
        let img = load_image_file(p)?;
        let a = m.analyse(&img, &config.face_quality)?;
        Ok((img.dimensions(), a))
    };
    let (dim_a, qa) = analyse(a)?;
    let (dim_b, qb) = analyse(b)?;
    let image_json = |p: &Path, dim: (u32, u32), q: &kiosk::face::opencv_backend::FrameAnalysis| {
        json!({
            "path": p.display().to_string(),
            "size": [dim.0, dim.1],
            "quality": q.quality,
            "acceptable": q.quality.is_acceptable(),
            "guidance": q.quality.guidance().map(|g| g.message()),
            "error": q.template.as_ref().err().map(|e| e.to_string()),
        })
    };
    let outcome = match (&qa.template, &qb.template) {
        (Ok(ta), Ok(tb)) => Some(m.compare(ta, tb)),
        _ => None,
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "a": image_json(a, dim_a, &qa),
                "b": image_json(b, dim_b, &qb),
                "score": outcome.map(|o| o.score),
                "threshold": m.threshold(),
                "decision": match outcome {
                    Some(o) if o.is_match() => "match",
                    Some(_) => "no_match",
                    None => "failure_to_acquire",
                },
            }))?
        );
    } else {
        for (p, q) in [(a, &qa), (b, &qb)] {
            let issues: Vec<&str> = q.quality.issues.iter().map(|g| g.message()).collect();
            println!(
                "{}: {} face(s); {}",
                p.display(),
                q.quality.faces,
                if issues.is_empty() {
                    "quality ok".to_string()
                } else {
                    format!("quality: {}", issues.join(", "))
                }
            );
        }
        match outcome {
            Some(o) => println!(
                "score {:.3} (threshold {:.3}): {}",
                o.score,
                o.threshold,
                if o.is_match() { "MATCH" } else { "no match" }
            ),
            None => {
                for (p, q) in [(a, &qa), (b, &qb)] {
                    if let Err(e) = &q.template {
                        println!("{}: {e}", p.display());
                    }
                }
                bail!("no decision: a face could not be taken from both images");
            }
        }
    }
    Ok(())
}

#[cfg(feature = "vision")]
fn face_eval(config: &KioskConfig, args: FaceEvalArgs) -> Result<()> {
    use kiosk::face::eval;
    use kiosk::face::opencv_backend::OpenCvFaceMatcher;
    let pairs = if let Some(out) = &args.synthetic {
        let photos = config.assets_dir.join("photos");
        kiosk::face::variants::build_synthetic_set(&photos, out)?
    } else {
        let file = args.pairs.as_deref().context("--pairs or --synthetic is required")?;
        let text =
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let base = file.parent().unwrap_or(Path::new("."));
        eval::parse_pairs(&text, base).with_context(|| format!("{}", file.display()))?
    };
    let mut m = OpenCvFaceMatcher::load(&config.models_dir(), config.face_threshold)?;
    let scored = m.score_pairs(&pairs);
    let genuine: Vec<Option<f32>> = scored.iter().filter(|s| s.pair.same).map(|s| s.score).collect();
    let impostor: Vec<Option<f32>> = scored.iter().filter(|s| !s.pair.same).map(|s| s.score).collect();
    let mut grid = eval::default_grid();
    if !grid.contains(&config.face_threshold) {
        grid.push(config.face_threshold);
        grid.sort_by(f32::total_cmp);
    }
    let e = eval::evaluate(&genuine, &impostor, &grid, args.target_fmr);
    let at_config =
        eval::evaluate(&genuine, &impostor, &[config.face_threshold], args.target_fmr).per_threshold[0];
    let failures: Vec<_> = scored
        .iter()
        .filter_map(|s| s.error.as_ref().map(|err| json!({"a": s.pair.a, "b": s.pair.b, "error": err})))
        .collect();
    if args.json {
        let mut v = serde_json::to_value(&e)?;
        v["configured_threshold"] = json!(config.face_threshold);
        v["at_configured_threshold"] = serde_json::to_value(at_config)?;
        v["failures_to_acquire"] = json!(failures);
        if args.scores {
            v["scores"] = scored
                .iter()
                .map(|s| json!({"a": s.pair.a, "b": s.pair.b, "same": s.pair.same, "score": s.score}))
                .collect();
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let opt = |x: Option<f32>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    println!(
        "{} genuine pairs ({} failed to acquire), {} impostor pairs ({} failed to acquire)",
        e.genuine_pairs, e.genuine_failed_to_acquire, e.impostor_pairs, e.impostor_failed_to_acquire
    );
    println!(
        "genuine scores {} .. {}; impostor scores {} .. {}",
        opt(e.genuine_min),
        opt(e.genuine_max),
        opt(e.impostor_min),
        opt(e.impostor_max)
    );
    println!("threshold      FMR (false matches)        FNMR (false non-matches)   FNMR incl. FTA");
    for p in &e.per_threshold {
        let mark = if p.threshold == config.face_threshold { "  <- configured" } else { "" };
        println!(
            "{:9.3}  {:8.4} ({:4}/{:4})   {:8.4} ({:4}/{:4})   {:8.4}{mark}",
            p.threshold,
            p.fmr,
            p.false_matches,
            e.impostor_pairs - e.impostor_failed_to_acquire,
            p.fnmr,
            p.false_non_matches,
            e.genuine_pairs - e.genuine_failed_to_acquire,
            p.fnmr_with_fta
        );
    }
    match e.at_target {
        Some(p) => println!(
            "threshold for FMR <= {}: {:.3} (FMR {:.4}, FNMR {:.4}); FMR below 1/{} impostor pairs cannot be observed",
            e.target_fmr,
            p.threshold,
            p.fmr,
            p.fnmr,
            e.impostor_pairs - e.impostor_failed_to_acquire
        ),
        None => println!("no threshold reaches FMR <= {} (no impostor pairs scored)", e.target_fmr),
    }
    println!("DET points (threshold FMR FNMR): {}", e.det.len());
    for p in &e.det {
        println!("  {:.4} {:.4} {:.4}", p.threshold, p.fmr, p.fnmr);
    }
    for f in &failures {
        println!("failure to acquire: {f}");
    }
    Ok(())
}

#[cfg(feature = "vision")]
fn face_pad_eval(config: &KioskConfig, args: PadEvalArgs) -> Result<()> {
    use kiosk::face::opencv_backend::OpenCvFaceMatcher;
    use kiosk::face::pad::PadCalibration;
    use kiosk::face::pad_eval;
    let dir = args.photos.unwrap_or_else(|| config.assets_dir.join("photos"));
    let photos =
        pad_eval::photos_in(&dir).with_context(|| format!("cannot list photos in {}", dir.display()))?;
    if photos.is_empty() {
        bail!("no photos in {}; run scripts/setup.sh to fetch the test photos", dir.display());
    }
    let frames = args.frames.unwrap_or(config.face_burst_frames).max(2);
    let mut m = OpenCvFaceMatcher::load(&config.models_dir(), config.face_threshold)?;
    let started = std::time::Instant::now();
    if let Some(d) = &args.dump {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut e = pad_eval::evaluate(
        &mut m,
        &photos,
        args.bursts.max(1),
        frames,
        &PadCalibration::default(),
        config.pad_threshold,
        args.dump.as_deref(),
    )?;
    let elapsed = started.elapsed();
    if args.json {
        if !args.scores {
            e.scores.clear();
        }
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(());
    }
    println!(
        "{} photos x {} bursts per kind x {} frames ({:.1} s); bona fide bursts are SYNTHETIC (docs/face.md)",
        e.photos,
        args.bursts.max(1),
        e.frames_per_burst,
        elapsed.as_secs_f64()
    );
    for (kind, n) in &e.not_assessed {
        println!(
            "  {kind}: {n} of {} bursts not assessed (no face in 2 frames: referred)",
            e.bursts_per_kind
        );
    }
    let point = |p: &pad_eval::PadOperatingPoint| {
        let apcer: Vec<String> = p.apcer.iter().map(|(k, a, n, r)| format!("{k} {r:.3} ({a}/{n})")).collect();
        format!(
            "threshold {:.2}: BPCER {:.3} ({}/{})  APCER {}  max APCER {:.3}",
            p.threshold,
            p.bpcer,
            p.bona_fide_rejected,
            e.bona_fide,
            apcer.join(", "),
            p.max_apcer
        )
    };
    println!("configured pad_threshold:");
    println!("  {}", point(&e.configured));
    println!("sweep:");
    for p in &e.sweep {
        println!("  {}", point(p));
    }
    if args.scores {
        println!("photo kind seed frames_with_face parallax texture_peak planarity texture score");
        for s in &e.scores {
            match (&s.assessment, &s.error) {
                (Some(a), _) => println!(
                    "{} {} {} {} {:.4} {:.1} {:.3} {:.3} {:.3}",
                    s.photo,
                    s.kind,
                    s.seed,
                    s.frames_with_face,
                    a.parallax,
                    a.texture_peak,
                    a.planarity_score,
                    a.texture_score,
                    a.score
                ),
                (None, err) => println!(
                    "{} {} {} {} not assessed: {}",
                    s.photo,
                    s.kind,
                    s.seed,
                    s.frames_with_face,
                    err.as_deref().unwrap_or("-")
                ),
            }
        }
    }
    Ok(())
}

fn watchlist_entries(args: &WatchlistEntryArgs) -> Result<Vec<kiosk::watch_list::Entry>> {
    use kiosk::watch_list::Entry;
    if let Some(number) = &args.document {
        let state = args.state.clone().context("--document needs --state")?;
        return Ok(vec![Entry::Document { number: number.clone(), state }]);
    }
    if let Some(surname) = &args.surname {
        return Ok(vec![Entry::Person {
            surname: surname.clone(),
            given_names: args.given_names.clone().unwrap_or_default(),
            date_of_birth: args.dob.clone().context("--surname needs --dob")?,
        }]);
    }
    let mut out = Vec::new();
    for (n, line) in std::io::stdin().lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        out.push(match f.as_slice() {
            ["document", number, state] => Entry::Document { number: number.to_string(), state: state.to_string() },
            ["person", surname, given, dob] => Entry::Person {
                surname: surname.to_string(),
                given_names: given.to_string(),
                date_of_birth: dob.to_string(),
            },
            _ => bail!("stdin line {}: expected document<TAB>NUMBER<TAB>STATE or person<TAB>SURNAME<TAB>GIVEN<TAB>DOB", n + 1),
        });
    }
    if out.is_empty() {
        bail!("no entry given: use --document/--state, --surname/--dob, or lines on stdin");
    }
    Ok(out)
}

fn watchlist(command: WatchlistCommand) -> Result<()> {
    use kiosk::watch_list::WatchList;
    match command {
        WatchlistCommand::New { out } => {
            let list = WatchList::new_random();
            let mut f =
                std::fs::OpenOptions::new().write(true).create_new(true).open(&out).with_context(|| {
                    format!("cannot create {} (an existing list is never overwritten)", out.display())
                })?;
            std::io::Write::write_all(&mut f, list.to_text().as_bytes())?;
            println!("created {} (empty; add entries with `kiosk watchlist add`)", out.display());
        }
        WatchlistCommand::Add { list: path, entry } => {
            let list = WatchList::load(&path)?;
            let entries = watchlist_entries(&entry)?;
            let mut lines = String::new();
            for e in &entries {
                lines.push_str(&e.line(list.salt())?);
                lines.push('\n');
            }
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot append to {}", path.display()))?;
            std::io::Write::write_all(&mut f, lines.as_bytes())?;
            let after = WatchList::load(&path)?;
            println!(
                "added {} entr{}; {} now has {}",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" },
                path.display(),
                after.len()
            );
        }
        WatchlistCommand::Hash { list, salt, entry } => {
            let salt: [u8; 32] = match (list, salt) {
                (Some(p), _) => *WatchList::load(&p)?.salt(),
                (None, Some(h)) => hex::decode(h.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .context("--salt must be 64 hex digits")?,
                (None, None) => bail!("give --list or --salt"),
            };
            for e in watchlist_entries(&entry)? {
                println!("{}", e.line(&salt)?);
            }
        }
        WatchlistCommand::Check { list } => {
            let l = WatchList::load(&list)?;
            println!("{}: {} entries", list.display(), l.len());
        }
    }
    Ok(())
}

#[cfg(feature = "sim")]
fn run_lane(mut config: KioskConfig, args: LaneArgs) -> Result<()> {
    use kiosk::lane::sim::{Passenger, SimulatedScene};
    use kiosk::lane::{GateOutcome, Lane, LaneDevices};

    if let Some(db) = args.database {
        config.database = db;
    }
    if let Some(a) = args.assets {
        config.assets_dir = a;
    }
    let mut passengers = Passenger::load_all(&args.passengers)?;
    if let Some(n) = args.count {
        passengers.truncate(n);
    }
    if passengers.is_empty() {
        bail!(
            "no passengers in {} (create some with `declaration-app-sim generate`)",
            args.passengers.display()
        );
    }
    let trust = config.trust_store()?;
    let csca_dir = args.csca.clone().unwrap_or_else(|| args.passengers.join("trust"));
    let csca = kiosk::passport::trust::TrustStore::load_dir(&csca_dir).with_context(|| {
        format!("cannot load the CSCA trust store from {} (give one with --csca)", csca_dir.display())
    })?;
    tracing::info!(folder = %csca_dir.display(), cscas = csca.len(), "passport trust anchors loaded");
    let store = kiosk::store::Store::open(&config.database)
        .with_context(|| format!("cannot open the database {}", config.database.display()))?;
    // Transactions a previous run left open (crash, power loss) are closed first.
    for id in store.close_interrupted(&config.lane)? {
        tracing::warn!(transaction = %id, "transaction left open by the previous run: closed as interrupted");
    }
    let watch_list = match &config.watch_list {
        Some(path) => {
            let list = kiosk::watch_list::WatchList::load(path).with_context(|| {
                format!(
                    "the watch list {} cannot be used; the lane does not start without it",
                    path.display()
                )
            })?;
            tracing::info!(entries = list.len(), "watch list loaded");
            Some(list)
        }
        None => None,
    };
    let scene = SimulatedScene::default();
    let matcher = face_matcher(&config)?;
    let gate = match &args.gate {
        Some(dev) => Some(
            gate_controller::link::GateLink::connect(dev, gate_controller::link::LinkConfig::default())
                .with_context(|| format!("cannot connect to the gate controller on {dev}"))?,
        ),
        None => {
            tracing::warn!("no --gate given: cleared passengers will not be let through");
            None
        }
    };
    let devices = LaneDevices {
        passport_reader: Box::new(kiosk::passport::sim::SimulatedPassportReader::new(
            scene.passport_slot.clone(),
            std::sync::Arc::new(csca),
        )),
        qr_scanner: Box::new(kiosk::camera::virtual_camera::VirtualCamera::with_feed(
            "qr-scanner",
            30,
            scene.qr_scanner.clone(),
        )),
        face_camera: Box::new(kiosk::camera::virtual_camera::VirtualCamera::with_feed(
            "kiosk-face",
            30,
            scene.face_camera.clone(),
        )),
        gate_camera: Box::new(kiosk::camera::virtual_camera::VirtualCamera::with_feed(
            "gate-face",
            30,
            scene.gate_camera.clone(),
        )),
        face_matcher: matcher,
        gate,
    };
    let mut lane = Lane::new(config.clone(), trust, store, devices);
    // The UI's "Back / Cancel" and the step time limits (headless too).
    let control = lane.control();
    if let Some(list) = watch_list {
        lane.set_watch_list(list);
    }
    let (print_tx, print_rx) = mpsc::channel();
    lane.subscribe(print_tx);
    let printer = std::thread::spawn(move || kiosk::lane::printer::print_events(print_rx));

    // Records and live state to the staff console, from the lane's database;
    // staff commands back.
    #[cfg(feature = "uplink")]
    let (uplink, commands) = match (&args.console, &args.console_secret_file) {
        (Some(url), Some(secret_file)) => {
            let secret = std::fs::read_to_string(secret_file)
                .with_context(|| format!("cannot read the console secret {}", secret_file.display()))?
                .trim()
                .to_string();
            let (tx, rx) = mpsc::channel();
            lane.subscribe(tx);
            let (cmd_tx, cmd_rx) = mpsc::channel();
            let uplink = kiosk::uplink::client::Uplink::start(
                kiosk::uplink::client::UplinkConfig {
                    console_url: url.clone(),
                    lane_secret: secret,
                    lane: config.lane.clone(),
                    database: config.database.clone(),
                    gate_configured: args.gate.is_some(),
                    commands: Some(cmd_tx),
                },
                rx,
            );
            (Some(uplink), Some(cmd_rx))
        }
        _ => (None, None),
    };

    #[cfg(feature = "ui")]
    let ui_rx = if !args.headless && std::env::var_os("DISPLAY").is_some() {
        let (tx, rx) = mpsc::channel();
        lane.subscribe(tx);
        Some(rx)
    } else {
        None
    };

    // Staff commands act on the gate at once, whatever the lane is doing
    // (an emergency open does not wait for the passenger at the kiosk).
    #[cfg(feature = "uplink")]
    if let Some(rx) = commands {
        let desk = lane.gate_desk();
        std::thread::Builder::new()
            .name("staff-commands".into())
            .spawn(move || {
                for c in rx {
                    if let Err(e) = kiosk::uplink::client::apply_command(&desk, &c) {
                        tracing::error!(command = c.id, error = %e, "staff command could not be recorded");
                    }
                }
            })
            .context("cannot start the staff command thread")?;
    }

    let pace = std::time::Duration::from_millis(args.pace_ms);
    let worker = std::thread::spawn(move || -> Result<Vec<serde_json::Value>> {
        let mut report = Vec::new();
        // Arrivals (`arrival_ms` in the manifest) count from here.
        let opened = std::time::Instant::now();
        for p in &passengers {
            lane.idle();
            // The passenger arrives; one who arrived while the lane was busy
            // has waited in the queue (`queue_ms`).
            let arrival = p.manifest.arrival_ms.map(std::time::Duration::from_millis);
            if let Some(wait) = arrival.and_then(|a| a.checked_sub(opened.elapsed())) {
                std::thread::sleep(wait);
            }
            let queue_ms = arrival.map(|a| opened.elapsed().saturating_sub(a).as_millis() as u64);
            std::thread::sleep(pace);
            scene.present_at_kiosk(p)?;
            let kiosk_started = std::time::Instant::now();
            let kiosk_outcome = lane.process_kiosk()?;
            let kiosk_ms = kiosk_started.elapsed().as_millis() as u64;
            std::thread::sleep(pace);
            let gate = if kiosk_outcome.decision.is_green() {
                scene.walk_to_gate(p)?;
                let gate_started = std::time::Instant::now();
                let g = lane.process_gate()?;
                scene.leave_gate();
                Some((g, gate_started.elapsed().as_millis() as u64))
            } else {
                scene.leave_kiosk();
                None
            };
            let gate_ms = gate.as_ref().map(|g| g.1);
            let gate_json = gate.as_ref().map(|(g, _)| match g {
                GateOutcome::Passed { passage_id, .. } => {
                    json!({"result": "passed", "passage_id": passage_id})
                }
                GateOutcome::TimedOut { passage_id, .. } => {
                    json!({"result": "timed_out", "passage_id": passage_id})
                }
                GateOutcome::Alarm { passage_id, alarm, .. } => {
                    json!({"result": "alarm", "passage_id": passage_id, "alarm": alarm})
                }
                GateOutcome::NotRecognised => json!({"result": "not_recognised"}),
                GateOutcome::GateUnavailable(r) => json!({"result": "gate_unavailable", "reason": r}),
            });
            report.push(json!({
                "passenger": p.manifest.id,
                "expected": p.manifest.expected,
                "transaction": kiosk_outcome.transaction,
                "decision": kiosk_outcome.decision,
                "face_score": kiosk_outcome.face_score,
                "step_ms": kiosk_outcome.step_ms,
                "kiosk_ms": kiosk_ms,
                "arrival_ms": p.manifest.arrival_ms,
                "queue_ms": queue_ms,
                "gate_ms": gate_ms,
                "interrupted": kiosk_outcome.interrupted.map(|i| i.code()),
                "gate": gate_json,
            }));
        }
        lane.shutdown("all passengers served");
        Ok(report)
    });

    #[cfg(feature = "ui")]
    if let Some(rx) = ui_rx {
        let lang = kiosk::i18n::Language::from_code(&args.lang)
            .with_context(|| format!("unknown language {:?}", args.lang))?;
        let options = kiosk::ui::UiOptions {
            language: lang,
            assets_dir: config.assets_dir.clone(),
            windowed: true,
            control: Some(control.clone()),
        };
        kiosk::ui::run(rx, options)?;
    }
    #[cfg(not(feature = "ui"))]
    let _ = (&args.lang, &control);

    let report = worker.join().map_err(|_| anyhow::anyhow!("the lane thread panicked"))??;
    let _ = printer.join();
    #[cfg(feature = "uplink")]
    if let Some(u) = uplink {
        // Whatever the console has not got yet stays in the database and
        // follows on the next run.
        u.stop(std::time::Duration::from_secs(5));
    }
    let green = report.iter().filter(|r| r["decision"]["outcome"] == "green").count();
    let passed = report.iter().filter(|r| r["gate"]["result"] == "passed").count();
    println!(
        "summary: {} passenger(s), {} green, {} referred, {} passed the gate",
        report.len(),
        green,
        report.len() - green,
        passed
    );
    if let Some(path) = args.report {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(all(feature = "sim", feature = "vision"))]
fn face_matcher(config: &KioskConfig) -> Result<Box<dyn kiosk::face::FaceMatcher>> {
    Ok(Box::new(kiosk::face::opencv_backend::OpenCvFaceMatcher::load(
        &config.models_dir(),
        config.face_threshold,
    )?))
}

#[cfg(all(feature = "sim", not(feature = "vision")))]
fn face_matcher(_: &KioskConfig) -> Result<Box<dyn kiosk::face::FaceMatcher>> {
    bail!("this kiosk was built without the `vision` feature: no face matcher available")
}
