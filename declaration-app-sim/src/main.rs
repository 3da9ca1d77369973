//! `declaration-app-sim`: the passenger's declaration app and the passport
//! issuer, simulated.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use declaration_app_sim::app;
use declaration_app_sim::population::{Generator, Scenario};
use kiosk::declaration::Declaration;
use kiosk::declaration::payload::{self, DEMO_SERVICE_KEY_SEED, signing_key_from_seed};

#[derive(Parser)]
#[command(name = "declaration-app-sim", version, about = "Simulated declaration app and passport issuer")]
struct Cli {
    /// Seed of the declaration service signing key (the demo key by default).
    #[arg(long, global = true, default_value = DEMO_SERVICE_KEY_SEED)]
    service_key_seed: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make synthetic passengers (passport chip image, declaration QR, face photos).
    Generate {
        /// Output folder; one sub-folder per passenger.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 4)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder with the source face photos (scripts/setup.sh fetches them).
        #[arg(long, default_value = "assets/photos")]
        photos: PathBuf,
        /// mix (default), or one of: green, goods, face-mismatch, others-qr, expired.
        #[arg(long, default_value = "mix")]
        scenario: String,
    },
    /// Sign a declaration from a JSON answer file and write its QR code.
    Declare {
        /// The declaration as JSON (the kiosk's `Declaration` fields).
        #[arg(long)]
        answers: PathBuf,
        /// PNG output.
        #[arg(long)]
        out: PathBuf,
        /// Also write an SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Show the QR code in the terminal.
        #[arg(long)]
        terminal: bool,
        /// Validity in hours.
        #[arg(long, default_value_t = 24)]
        valid_hours: u32,
    },
    /// Print the declaration service public key (hex) and its key id.
    ServiceKey,
}

fn main() {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("declaration-app-sim: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let key = signing_key_from_seed(&cli.service_key_seed);
    let now = kiosk::lane::clock::unix_now();
    match cli.command {
        Command::Generate { out, count, seed, photos, scenario } => {
            let fixed = match scenario.as_str() {
                "mix" => None,
                s => Some(Scenario::parse(s).with_context(|| format!("unknown scenario {s:?}"))?),
            };
            let mut g = Generator::new(&photos, &key, seed, now);
            for i in 0..count {
                let id = format!("p{:04}", i + 1);
                let s = fixed.unwrap_or_else(|| Scenario::in_mix(i));
                g.passenger(&out.join(&id), &id, s).with_context(|| format!("passenger {id}"))?;
                println!("{id}: {}", s.name());
            }
            eprintln!("{count} passenger(s) written to {}", out.display());
        }
        Command::Declare { answers, out, svg, terminal, valid_hours } => {
            let text = std::fs::read_to_string(&answers)
                .with_context(|| format!("cannot read {}", answers.display()))?;
            let decl: Declaration =
                serde_json::from_str(&text).context("the answer file is not a valid declaration")?;
            if decl.holder.passport_number.is_empty() {
                bail!("the declaration needs the passport number (holder.passport_number)");
            }
            let qr = app::qr_text(&decl, &key, now, valid_hours.saturating_mul(3600));
            let code = app::qr_code(&qr)?;
            app::render_png(&code, 6)
                .save(&out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            if let Some(svg) = svg {
                std::fs::write(&svg, app::render_svg(&code))?;
            }
            if terminal {
                println!("{}", app::render_terminal(&code));
            }
            eprintln!("QR code version {:?}, {} characters -> {}", code.version(), qr.len(), out.display());
        }
        Command::ServiceKey => {
            let pk = key.verifying_key();
            println!("{}", kiosk::config::encode_hex(pk.as_bytes()));
            eprintln!("key id {:08x}", payload::key_id(&pk));
        }
    }
    Ok(())
}
