//! `declaration-app-sim`: the passenger's declaration app and the passport
//! issuer, simulated.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use declaration_app_sim::answers::{
    AnswerSheet, FamilyAnswers, GoodsAnswer, HolderAnswers, MemberAnswer, QuestionAnswers, parse_amount,
    parse_goods_flag, parse_member_flag,
};
use declaration_app_sim::population::{Generator, PROBLEMS, Scenario, Shares, poisson_arrivals};
use declaration_app_sim::prompt::{Prompter, interview};
use declaration_app_sim::{app, batch, report};
use ed25519_dalek::SigningKey;
use kiosk::declaration::payload::{self, DEMO_SERVICE_KEY_SEED, signing_key_from_seed};
use rand::SeedableRng;

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
        /// mix (default), or one of: green, goods, face-mismatch, others-qr, expired,
        /// forged-chip, cloned-chip, photo-attack, screen-attack, tailgater.
        #[arg(long, default_value = "mix")]
        scenario: String,
        /// Share of passengers declaring goods over the allowance (0-1). Any of
        /// the three shares replaces the fixed demo mix by one with these
        /// shares (rounded, in a shuffled order); the rest are green.
        #[arg(long, value_name = "F")]
        goods_share: Option<f64>,
        /// Share of problem cases (0-1), spread over expired passport, forged
        /// chip, cloned chip, someone else's QR, face mismatch, photo and
        /// screen attacks.
        #[arg(long, value_name = "F")]
        problem_share: Option<f64>,
        /// Share of green passengers followed through the gate by a tailgater (0-1).
        #[arg(long, value_name = "F")]
        tailgater_share: Option<f64>,
        /// Which problem kind the mix by shares starts on (index into: expired,
        /// forged-chip, cloned-chip, others-qr, face-mismatch, photo-attack,
        /// screen-attack; then round). Default: the seed's, so consecutive
        /// seeds start on different kinds.
        #[arg(long, value_name = "N")]
        first_problem: Option<usize>,
        /// Poisson arrivals at this rate: each passenger.json gets an
        /// `arrival_ms` (after the lane opens) that `kiosk lane` waits for.
        #[arg(long, value_name = "R")]
        arrivals_per_minute: Option<f64>,
    },
    /// Fill in a declaration (flags, an answer file, or questions), check it
    /// as the app does, sign it and write its QR code.
    Declare(Box<DeclareArgs>),
    /// Make N random realistic declarations (QR PNGs plus manifest.json with
    /// each QR text and its expected duty-free outcome), deterministic from
    /// the seed and the issue time.
    Batch {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 20)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Issue time of the codes, Unix seconds (now by default); give it for
        /// byte-identical batches.
        #[arg(long)]
        issued_at: Option<u32>,
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
        Command::Generate {
            out,
            count,
            seed,
            photos,
            scenario,
            goods_share,
            problem_share,
            tailgater_share,
            first_problem,
            arrivals_per_minute,
        } => {
            let fixed = match scenario.as_str() {
                "mix" => None,
                s => Some(Scenario::parse(s).with_context(|| format!("unknown scenario {s:?}"))?),
            };
            // The mix and the arrivals have their own random stream: the
            // passengers themselves stay those of the seed.
            let mut mix_rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x6d69_7865_6420_7061);
            let by_share = (goods_share.is_some() || problem_share.is_some() || tailgater_share.is_some())
                .then(|| Shares {
                    goods: goods_share.unwrap_or(0.0),
                    problem: problem_share.unwrap_or(0.0),
                    tailgater: tailgater_share.unwrap_or(0.0),
                });
            let scenarios: Vec<Scenario> = match (fixed, by_share) {
                (Some(_), Some(_)) => bail!("--scenario and the --*-share options exclude each other"),
                (Some(s), None) => vec![s; count],
                (None, Some(shares)) => {
                    shares.check().map_err(anyhow::Error::msg)?;
                    let first = first_problem.unwrap_or((seed % PROBLEMS.len() as u64) as usize);
                    shares.scenarios(count, first, &mut mix_rng)
                }
                (None, None) => (0..count).map(Scenario::in_mix).collect(),
            };
            let arrivals = match arrivals_per_minute {
                Some(r) if !(r > 0.0 && r.is_finite()) => bail!("--arrivals-per-minute must be above 0"),
                Some(r) => poisson_arrivals(count, r, &mut mix_rng).into_iter().map(Some).collect(),
                None => vec![None; count],
            };
            let mut g = Generator::new(&photos, &key, seed, now);
            for (i, (s, arrival_ms)) in scenarios.into_iter().zip(arrivals).enumerate() {
                let id = format!("p{:04}", i + 1);
                g.passenger_arriving(&out.join(&id), &id, s, arrival_ms)
                    .with_context(|| format!("passenger {id}"))?;
                match arrival_ms {
                    Some(ms) => println!("{id}: {} (arrives at {:.1} s)", s.describe(), ms as f64 / 1000.0),
                    None => println!("{id}: {}", s.describe()),
                }
            }
            g.export_trust(&out.join("trust")).context("cannot write the passport trust anchors")?;
            eprintln!(
                "{count} passenger(s) written to {}, CSCAs to {}",
                out.display(),
                out.join("trust").display()
            );
        }
        Command::Declare(args) => declare(*args, &key, now)?,
        Command::Batch { out, count, seed, issued_at, valid_hours } => {
            let manifest = batch::run(
                &out,
                count,
                seed,
                &key,
                issued_at.unwrap_or(now),
                valid_hours.saturating_mul(3600),
            )
            .context("batch failed")?;
            let n = |o: &str| manifest.declarations.iter().filter(|e| e.outcome == o).count();
            println!(
                "{count} declaration(s) in {}: {} within the allowance, {} duty payable, {} see an officer; manifest {}",
                out.display(),
                n("within_allowance"),
                n("duty_payable"),
                n("see_officer"),
                out.join(batch::MANIFEST).display()
            );
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

#[derive(Args)]
struct DeclareArgs {
    /// Answer file, TOML or JSON by its extension (examples in
    /// declaration-app-sim/examples/); the flags below override its values.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Ask each question of the form in the terminal (answers from the file
    /// and flags are offered as defaults).
    #[arg(long)]
    interactive: bool,
    /// Write the QR code as PNG.
    #[arg(long, value_name = "PNG")]
    out: Option<PathBuf>,
    /// Write the QR code as SVG.
    #[arg(long, value_name = "SVG")]
    svg: Option<PathBuf>,
    /// Show the QR code in the terminal (Unicode half blocks, drawn for a
    /// dark background).
    #[arg(long)]
    terminal: bool,
    /// With --terminal: the terminal has a light background (dark text).
    #[arg(long)]
    light_terminal: bool,
    /// Validity in hours.
    #[arg(long, default_value_t = 24)]
    valid_hours: u32,
    /// Issue time, Unix seconds (now by default).
    #[arg(long)]
    issued_at: Option<u32>,
    /// Check the answers and show the duty-free assessment; sign nothing.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    form: FormFlags,
}

/// Every field of form C5360 as a flag (yes/no questions: `--prohibited`
/// is yes, `--prohibited=no` is no).
#[derive(Args)]
#[command(next_help_heading = "Form C5360")]
struct FormFlags {
    /// Flight number, e.g. NH212.
    #[arg(long)]
    flight: Option<String>,
    /// Place of departure (city or airport code).
    #[arg(long)]
    departure: Option<String>,
    /// Arrival date YYYY-MM-DD (today in Japan by default).
    #[arg(long)]
    arrival_date: Option<String>,
    /// Surname, as in the passport.
    #[arg(long)]
    surname: Option<String>,
    /// Given names, as in the passport.
    #[arg(long)]
    given_names: Option<String>,
    /// ICAO 3 letters as in the passport, e.g. GBR.
    #[arg(long)]
    nationality: Option<String>,
    /// YYYY-MM-DD, or YYMMDD as in the passport.
    #[arg(long, visible_alias = "dob")]
    date_of_birth: Option<String>,
    /// Passport number, as in the passport.
    #[arg(long, visible_alias = "passport")]
    passport_number: Option<String>,
    /// Occupation.
    #[arg(long)]
    occupation: Option<String>,
    /// Address in Japan.
    #[arg(long)]
    address: Option<String>,
    /// Phone in Japan.
    #[arg(long)]
    phone: Option<String>,
    /// An accompanying family member (repeatable; replaces the file's members); the nationality is
    /// the holder's when left out.
    #[arg(long = "member", value_name = "PASSPORT:DOB[:NATIONALITY]", value_parser = parse_member_flag)]
    members: Vec<MemberAnswer>,
    /// Family members aged 20 and over (counted from --member dates of birth by default).
    #[arg(long)]
    family_20_plus: Option<u8>,
    /// Family members aged 6 to 19.
    #[arg(long)]
    family_6_to_19: Option<u8>,
    /// Family members under 6.
    #[arg(long)]
    family_under_6: Option<u8>,
    /// 1-1 prohibited or restricted articles.
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    prohibited: Option<bool>,
    /// 1-2 goods over the duty-free allowance (from the goods by default).
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    over_allowance: Option<bool>,
    /// 1-3 commercial goods or samples.
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    commercial: Option<bool>,
    /// 1-4 items carried for someone else.
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    carried_for_others: Option<bool>,
    /// 2 cash or securities over 1,000,000 yen, or gold over 1 kg (from the amounts by default).
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    cash_or_gold: Option<bool>,
    /// 3 unaccompanied articles (from --unaccompanied-packages by default).
    #[arg(long, value_name = "yes|no", num_args = 0..=1, require_equals = true, default_missing_value = "yes", value_parser = BoolishValueParser::new(),
        hide_possible_values = true)]
    unaccompanied: Option<bool>,
    /// Cash, cheques and securities carried, in yen.
    #[arg(long, value_parser = parse_amount)]
    cash_yen: Option<u64>,
    /// Gold (purity 90 % or more), grams.
    #[arg(long)]
    gold_grams: Option<u32>,
    /// Packages sent separately.
    #[arg(long)]
    unaccompanied_packages: Option<u16>,
    /// A goods line (repeatable; replaces the file's goods): KIND[@ML]:QUANTITY:VALUE[:DESCRIPTION],
    /// e.g. wine@750:4:24000, cigarettes:400:12000, perfume:100:25000, handbag:1:250000, other:1:30000:kimono.
    #[arg(long = "goods", value_name = "KIND[@ML]:QTY:VALUE[:NAME]", value_parser = parse_goods_flag)]
    goods: Vec<GoodsAnswer>,
}

impl FormFlags {
    fn into_sheet(self) -> AnswerSheet {
        AnswerSheet {
            flight: self.flight,
            departure: self.departure,
            arrival_date: self.arrival_date,
            holder: HolderAnswers {
                surname: self.surname,
                given_names: self.given_names,
                nationality: self.nationality,
                date_of_birth: self.date_of_birth,
                passport_number: self.passport_number,
                occupation: self.occupation,
                address_in_japan: self.address,
                phone: self.phone,
            },
            family: FamilyAnswers {
                age_20_plus: self.family_20_plus,
                age_6_to_19: self.family_6_to_19,
                under_6: self.family_under_6,
                members: (!self.members.is_empty()).then_some(self.members),
            },
            answers: QuestionAnswers {
                prohibited: self.prohibited,
                over_allowance: self.over_allowance,
                commercial: self.commercial,
                carried_for_others: self.carried_for_others,
                cash_or_gold: self.cash_or_gold,
                unaccompanied: self.unaccompanied,
                cash_yen: self.cash_yen,
                gold_grams: self.gold_grams,
                unaccompanied_packages: self.unaccompanied_packages,
            },
            goods: (!self.goods.is_empty()).then_some(self.goods),
        }
    }
}

/// The `declare` command: answers -> checks -> assessment -> signed QR code.
fn declare(args: DeclareArgs, key: &SigningKey, now: u32) -> Result<()> {
    use std::io::IsTerminal;
    if args.out.is_none() && args.svg.is_none() && !args.terminal && !args.check {
        bail!("nothing to write: give --out FILE.png, --svg FILE.svg and/or --terminal (or --check)");
    }
    let mut sheet = match &args.answers {
        Some(path) => AnswerSheet::load(path)?,
        None => AnswerSheet::default(),
    };
    sheet.overlay(args.form.into_sheet());
    let stdin = std::io::stdin();
    let echo = !stdin.is_terminal();
    let mut prompter = Prompter::new(stdin.lock(), std::io::stdout(), echo);
    if args.interactive {
        sheet = interview(&mut prompter, &sheet, now)?;
        println!();
    }
    let resolved =
        sheet.resolve(now).map_err(|e| anyhow::anyhow!("invalid answer, nothing was signed: {e}"))?;
    let decl = &resolved.declaration;
    print!("{}", report::summary_text(decl));
    for note in &resolved.notes {
        println!("  filled in by the app: {note}");
    }
    println!();
    print!("{}", report::assessment_text(decl, resolved.holder_age, &resolved.assessment));
    if args.check {
        println!("Checked only (--check): nothing was signed.");
        return Ok(());
    }
    if args.interactive {
        println!();
        if !prompter.yes_no("Sign the declaration and make the QR code?", Some(true))? {
            println!("Nothing was signed.");
            return Ok(());
        }
    }
    let issued_at = args.issued_at.unwrap_or(now);
    let qr = app::qr_text(decl, key, issued_at, args.valid_hours.saturating_mul(3600))?;
    let code = app::qr_code(&qr)?;
    println!();
    if let Some(out) = &args.out {
        app::render_png(&code, 6).save(out).with_context(|| format!("cannot write {}", out.display()))?;
        println!("QR code PNG: {}", out.display());
    }
    if let Some(svg) = &args.svg {
        std::fs::write(svg, app::render_svg(&code))
            .with_context(|| format!("cannot write {}", svg.display()))?;
        println!("QR code SVG: {}", svg.display());
    }
    if args.terminal {
        println!("{}", report::terminal_qr(&code, !args.light_terminal));
    }
    println!(
        "QR code version {} at level M, {} characters; key id {:08x}, valid {} h from {issued_at}",
        app::version_number(&code),
        qr.len(),
        payload::key_id(&key.verifying_key()),
        args.valid_hours
    );
    Ok(())
}
