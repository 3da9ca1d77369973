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
    /// Create a country's test passport PKI (CSCA, Document Signer, CRL,
    /// master list) in a folder; the kiosk's trust anchors go to <out>/trust.
    Pki {
        #[arg(long)]
        out: PathBuf,
        /// ISO 3166 alpha-2 country code of the certificates.
        #[arg(long, default_value = "JP")]
        country: String,
        /// rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-p256-sha256, ecdsa-brainpoolp256r1-sha256, ecdsa-p384-sha384, ...
        #[arg(long, default_value = "ecdsa-p256-sha256")]
        scheme: String,
        /// current, expired or not-yet-valid Document Signer certificate.
        #[arg(long, default_value = "current")]
        ds_validity: String,
        /// none, empty, or revoke-ds.
        #[arg(long, default_value = "empty")]
        crl: String,
        /// Also write a CSCA master list signed by a master-list signer.
        #[arg(long)]
        master_list: bool,
    },
    /// Personalise one passport chip image with a PKI from `pki`.
    Passport {
        /// The PKI folder written by `pki`.
        #[arg(long)]
        pki: PathBuf,
        /// The chip image to write (JSON); the data page MRZ goes to <out>.mrz.
        #[arg(long)]
        out: PathBuf,
        /// Portrait photo (any image; cropped to a passport portrait).
        #[arg(long)]
        photo: PathBuf,
        #[arg(long, default_value = "ERIKSSON")]
        surname: String,
        #[arg(long, default_value = "ANNA MARIA")]
        given_names: String,
        #[arg(long, default_value = "L898902C3")]
        number: String,
        /// Issuing state and nationality (ICAO alpha-3); must be the PKI's country.
        #[arg(long, default_value = "JPN")]
        state: String,
        /// YYMMDD.
        #[arg(long, default_value = "740812")]
        birth: String,
        #[arg(long, default_value = "F")]
        sex: char,
        /// YYMMDD.
        #[arg(long, default_value = "340415")]
        expiry: String,
        /// pace-and-bac, pace-only or bac-only (no EF.CardAccess).
        #[arg(long, default_value = "pace-and-bac")]
        access: String,
        /// Offer PACE-CAM instead of PACE generic mapping.
        #[arg(long)]
        pace_cam: bool,
        /// No Chip Authentication key (DG14).
        #[arg(long)]
        no_ca: bool,
        /// Active Authentication key: ecdsa, rsa or none.
        #[arg(long, default_value = "ecdsa")]
        aa: String,
        /// tampered-dg2, bad-sod-signature or cloned-chip.
        #[arg(long)]
        fault: Option<String>,
    },
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
            g.export_trust(&out.join("trust")).context("cannot write the passport trust anchors")?;
            eprintln!(
                "{count} passenger(s) written to {}, CSCAs to {}",
                out.display(),
                out.join("trust").display()
            );
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
        Command::Pki { out, country, scheme, ds_validity, crl, master_list } => {
            use declaration_app_sim::pki::{CrlOption, DsValidity, PkiOptions, SignatureScheme, TestPki};
            let scheme = SignatureScheme::parse(&scheme).with_context(|| {
                let all: Vec<_> = SignatureScheme::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scheme {scheme:?}; one of {}", all.join(", "))
            })?;
            let ds_validity = match ds_validity.as_str() {
                "current" => DsValidity::Current,
                "expired" => DsValidity::Expired,
                "not-yet-valid" => DsValidity::NotYetValid,
                v => bail!("unknown --ds-validity {v:?}: current, expired or not-yet-valid"),
            };
            let crl = match crl.as_str() {
                "none" => CrlOption::None,
                "empty" => CrlOption::Empty,
                "revoke-ds" => CrlOption::RevokeDs,
                v => bail!("unknown --crl {v:?}: none, empty or revoke-ds"),
            };
            let options = PkiOptions { ds_validity, crl, master_list, ..PkiOptions::default() };
            let pki = TestPki::generate(&country, scheme, &options)?;
            pki.save(&out)?;
            pki.export_trust_anchors(&out.join("trust"))?;
            eprintln!(
                "PKI {country} ({scheme}) written to {}; trust anchors in {}",
                out.display(),
                out.join("trust").display()
            );
        }
        Command::Passport {
            pki,
            out,
            photo,
            surname,
            given_names,
            number,
            state,
            birth,
            sex,
            expiry,
            access,
            pace_cam,
            no_ca,
            aa,
            fault,
        } => {
            use declaration_app_sim::issuer::{
                self, AaKeyKind, ChipAccess, ChipFault, ChipOptions, PassportData,
            };
            let pki = declaration_app_sim::pki::TestPki::load(&pki)?;
            let mut options = ChipOptions {
                access: ChipAccess::parse(&access).with_context(|| {
                    format!("unknown --access {access:?}: pace-and-bac, pace-only or bac-only")
                })?,
                ..ChipOptions::default()
            };
            if pace_cam {
                options.pace_protocol = kiosk::passport::oid::PACE_ECDH_CAM_AES_128;
            }
            if no_ca {
                options.chip_authentication = None;
            }
            options.active_authentication = match aa.as_str() {
                "ecdsa" => Some(AaKeyKind::EcdsaP256),
                "rsa" => Some(AaKeyKind::Rsa1024),
                "none" => None,
                v => bail!("unknown --aa {v:?}: ecdsa, rsa or none"),
            };
            options.fault = match fault {
                None => None,
                Some(f) => Some(ChipFault::parse(&f).with_context(|| {
                    format!("unknown --fault {f:?}: tampered-dg2, bad-sod-signature or cloned-chip")
                })?),
            };
            let data = PassportData {
                issuing_state: state.clone(),
                surname,
                given_names,
                document_number: number,
                nationality: state,
                date_of_birth: birth,
                sex,
                date_of_expiry: expiry,
            };
            let img = declaration_app_sim::photos::load(&photo)?;
            let (jpeg, w, h) = declaration_app_sim::photos::chip_portrait(&img)?;
            let chip = issuer::issue_passport(&data, issuer::jpeg_portrait(jpeg, w, h), &pki, &options)?;
            std::fs::write(&out, chip.to_json())
                .with_context(|| format!("cannot write {}", out.display()))?;
            let mrz_path = out.with_extension("mrz");
            std::fs::write(&mrz_path, data.mrz_lines().join("\n") + "\n")?;
            eprintln!("chip image {} (data page MRZ in {})", out.display(), mrz_path.display());
        }
        Command::ServiceKey => {
            let pk = key.verifying_key();
            println!("{}", kiosk::config::encode_hex(pk.as_bytes()));
            eprintln!("key id {:08x}", payload::key_id(&pk));
        }
    }
    Ok(())
}
