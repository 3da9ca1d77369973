//! Frame generator for the QR reader benchmark: signed declarations of
//! several sizes (signed with the demo service key), rendered as a phone
//! screen held up to a kiosk camera ([`kiosk::qr::synth`]): every condition
//! (clean, perspective 20-30 degrees, blur, glare, low contrast, moire, dark
//! mode) at 640x480 and 1280x720. Writes PNGs and `manifest.json` (the
//! expected text of each frame). Deterministic from the seed.
//!
//! ```text
//! cargo run --release -p kiosk --no-default-features --features sim,vision \
//!     --example qr_frames -- --out target/qr-frames [--seed 1] [--per-cell 3]
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use kiosk::declaration::payload::{self, DEMO_SERVICE_KEY_SEED};
use kiosk::declaration::{
    AlcoholClass, Answers, Declaration, Family, FamilyMember, GoodsKind, GoodsLine, Holder,
};
use kiosk::qr::synth::{self, Condition, Modules};
use serde_json::json;

/// 2026-12-01T00:00:00Z; the frames' codes are valid for `--valid-days`.
const ISSUED_AT: u32 = 1_796_083_200;
const RESOLUTIONS: [(u32, u32); 2] = [(640, 480), (1280, 720)];

fn holder() -> Holder {
    Holder {
        surname: "ERIKSSON".into(),
        given_names: "ANNA MARIA".into(),
        nationality: "UTO".into(),
        date_of_birth: "740812".into(),
        passport_number: "L898902C3".into(),
        occupation: "ENGINEER".into(),
        address_in_japan: "1-1 Chiyoda, Tokyo".into(),
        phone: "+81-3-0000-0000".into(),
    }
}

fn member(number: &str, dob: &str) -> FamilyMember {
    FamilyMember { passport_number: number.into(), nationality: "UTO".into(), date_of_birth: dob.into() }
}

fn line(kind: GoodsKind, description: &str, quantity: u32, value_yen: u64) -> GoodsLine {
    GoodsLine { kind, description: description.into(), quantity, value_yen }
}

/// Declarations from a single passenger with nothing to declare to a large
/// family with many goods (QR versions about 10 to 20).
fn declarations() -> Vec<(&'static str, Declaration)> {
    let single = Declaration {
        flight: "NH212".into(),
        departure: "LHR".into(),
        arrival_date: "2026-12-02".into(),
        holder: holder(),
        family: Family::default(),
        answers: Answers::default(),
        goods: vec![],
    };
    let mut couple = single.clone();
    couple.holder.address_in_japan = "Hotel Sakura, 2-3-4 Asakusa, Taito-ku, Tokyo".into();
    couple.family =
        Family { age_20_plus: 1, members: vec![member("L898903C1", "760304")], ..Family::default() };
    couple.answers.over_allowance = true;
    let wine = GoodsKind::Alcohol { class: AlcoholClass::WineBeerOther, bottle_ml: 750 };
    let whisky = GoodsKind::Alcohol { class: AlcoholClass::WhiskyBrandy, bottle_ml: 700 };
    couple.goods = vec![
        line(wine, "", 4, 24_000),
        line(GoodsKind::Other, "handbag", 1, 250_000),
        line(GoodsKind::Other, "watch", 1, 90_000),
    ];
    let mut family = couple.clone();
    family.holder.phone = "+81-3-1234-5678".into();
    family.family = Family {
        age_20_plus: 1,
        age_6_to_19: 1,
        under_6: 1,
        members: vec![
            member("L898903C1", "760304"),
            member("L898904C9", "120615"),
            member("L898905C6", "220101"),
        ],
    };
    family.goods = vec![
        line(wine, "", 4, 24_000),
        line(whisky, "", 2, 30_000),
        line(GoodsKind::Cigarettes, "", 400, 12_000),
        line(GoodsKind::HeatedTobacco, "", 5, 3_000),
        line(GoodsKind::Perfume, "", 100, 25_000),
        line(GoodsKind::Other, "handbag", 1, 250_000),
        line(GoodsKind::Other, "camera", 1, 150_000),
        line(GoodsKind::Other, "shoes", 2, 36_000),
        line(GoodsKind::Other, "chocolate", 6, 6_000),
        line(GoodsKind::Other, "watch", 1, 90_000),
    ];
    let mut large = family.clone();
    large.family.age_20_plus = 3;
    large.family.members.push(member("L898906C4", "800101"));
    large.family.members.push(member("L898907C2", "820202"));
    large.goods.extend([
        line(GoodsKind::Other, "ceramic tea set", 1, 48_000),
        line(GoodsKind::Other, "silk scarf", 3, 27_000),
        line(GoodsKind::Other, "laptop", 1, 180_000),
        line(GoodsKind::Other, "headphones", 2, 60_000),
        line(GoodsKind::Other, "golf clubs", 1, 120_000),
    ]);
    vec![("single", single), ("couple", couple), ("family", family), ("family_large", large)]
}

struct Args {
    out: PathBuf,
    seed: u64,
    per_cell: u32,
    valid_days: u32,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { out: PathBuf::from("target/qr-frames"), seed: 1, per_cell: 3, valid_days: 30 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--seed" => args.seed = value()?.parse().context("--seed")?,
            "--per-cell" => args.per_cell = value()?.parse().context("--per-cell")?,
            "--valid-days" => args.valid_days = value()?.parse().context("--valid-days")?,
            "-h" | "--help" => {
                println!("qr_frames [--out DIR] [--seed N] [--per-cell N] [--valid-days N]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(args)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let key = payload::signing_key_from_seed(DEMO_SERVICE_KEY_SEED);
    let expires = ISSUED_AT + args.valid_days * 86_400;
    let mut frames = Vec::new();
    let start = std::time::Instant::now();
    for (size_name, decl) in declarations() {
        let text = payload::sign(&decl, &key, ISSUED_AT, expires).with_context(|| size_name.to_string())?;
        let modules = Modules::encode(&text).map_err(anyhow::Error::msg)?;
        let version = (modules.size - 17) / 4;
        for condition in Condition::ALL {
            for (w, h) in RESOLUTIONS {
                for k in 0..args.per_cell {
                    let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(frames.len() as u64);
                    let (img, p) = synth::render_modules(&modules, condition, w, h, seed);
                    let file = format!("{}-{}x{}-{}-{k}.png", condition.name(), w, h, size_name);
                    img.save(args.out.join(&file)).with_context(|| format!("cannot write {file}"))?;
                    frames.push(json!({
                        "file": file,
                        "condition": condition.name(),
                        "width": w,
                        "height": h,
                        "size": size_name,
                        "qr_version": version,
                        "text_len": text.len(),
                        "tilt_deg": (p.tilt_deg * 10.0).round() / 10.0,
                        "roll_deg": (p.roll_deg * 10.0).round() / 10.0,
                        "qr_fraction": (p.qr_fraction * 100.0).round() / 100.0,
                        "blur_sigma": (p.blur_sigma * 100.0).round() / 100.0,
                        "expected": text,
                    }));
                }
            }
        }
        println!("{size_name}: {} characters, QR version {version}", text.len());
    }
    let manifest =
        json!({"seed": args.seed, "issued_at": ISSUED_AT, "expires_at": expires, "frames": frames});
    let path = args.out.join("manifest.json");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)?)?;
    println!(
        "{} frames in {} ({:.1} s); manifest {}",
        frames.len(),
        args.out.display(),
        start.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
