//! Batch mode: many random, realistic declarations from a seed, each signed
//! and rendered as a QR code PNG, with a manifest of the QR texts and the
//! duty-free outcome the kiosk should reach.
//!
//! The mix: travellers alone, couples and families with children (their
//! passports on the declaration); nothing to declare, goods within the
//! allowance, goods over it (duty payable), and the cases an officer must see
//! (questions 1-1, 1-3, 1-4, 2, 3 answered yes, cigars over the allowance,
//! question 1-2 answered yes without the goods). Everything is drawn from one
//! `StdRng` seeded with the seed (as `population` does), so the same seed and
//! the same issue time give the same files, byte for byte.

use std::path::Path;

use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use kiosk::declaration::duty_free::Assessment;
use kiosk::declaration::{
    AlcoholClass, Answers, Declaration, Family, FamilyMember, GoodsKind, GoodsLine, Holder, parse_date,
};

use crate::answers::{age_band_counts, date_in_japan, over_allowance_lines};
use crate::{app, report};

/// The manifest file written beside the PNGs.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
    #[error("generated declaration {index} is invalid ({source}); this is a bug in the batch generator")]
    Invalid { index: usize, source: kiosk::declaration::InvalidField },
}

/// The whole batch.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub count: usize,
    /// Unix seconds; every code is valid from then until `expires_at`.
    pub issued_at: u32,
    pub expires_at: u32,
    /// Key id of the signing key (hex).
    pub key_id: String,
    pub declarations: Vec<Entry>,
}

/// One declaration of the batch.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The PNG, relative to the manifest.
    pub file: String,
    pub qr_text: String,
    pub qr_version: i16,
    pub characters: usize,
    /// `within_allowance`, `duty_payable` or `see_officer`.
    pub outcome: &'static str,
    /// Estimated duty of the goods over the allowance (simplified rates).
    pub estimated_duty_yen: u64,
    /// Why an officer must see the passenger (see-officer only).
    pub officer_reasons: Vec<&'static str>,
    /// The decision engine's reason codes (`Declaration::referral_reasons`).
    pub reason_codes: Vec<&'static str>,
    /// The goods lines over the allowance.
    pub over_allowance: Vec<ExcessEntry>,
    pub holder_age: Option<u8>,
    /// Accompanying family members (passports on the declaration).
    pub family_members: usize,
    pub declaration: Declaration,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExcessEntry {
    pub line: usize,
    pub quantity: u32,
    pub value_yen: u64,
    pub duty_yen: Option<u64>,
}

const SURNAMES: [&str; 20] = [
    "SATO", "SMITH", "KIM", "WANG", "GARCIA", "MULLER", "TANAKA", "NGUYEN", "SILVA", "JOHNSON", "MARTIN",
    "LEE", "CHEN", "ROSSI", "DUBOIS", "BROWN", "PARK", "SUZUKI", "WILSON", "SCHMIDT",
];
const GIVEN: [&str; 20] = [
    "ALEX", "YUKI", "MIN JUN", "LI", "MARIA", "JONAS", "HANA", "AN", "LUCAS", "SAM", "EMMA", "OLIVER",
    "SOPHIE", "WEI", "JI WOO", "CHLOE", "DANIEL", "AIKO", "MATEO", "GRACE",
];
const STATES: [&str; 8] = ["JPN", "USA", "GBR", "KOR", "CHN", "FRA", "DEU", "AUS"];
const FLIGHTS: [(&str, &str); 12] = [
    ("NH212", "LHR"),
    ("JL44", "LONDON"),
    ("JL5", "JFK"),
    ("NH10", "NEW YORK"),
    ("KE703", "ICN"),
    ("OZ102", "SEOUL"),
    ("CA925", "PEK"),
    ("MU523", "SHANGHAI"),
    ("AF276", "CDG"),
    ("LH716", "FRANKFURT"),
    ("QF25", "SYD"),
    ("SQ638", "SINGAPORE"),
];
const OCCUPATIONS: [&str; 10] = [
    "OFFICE WORKER",
    "ENGINEER",
    "TEACHER",
    "STUDENT",
    "DOCTOR",
    "RETIRED",
    "SALES",
    "DESIGNER",
    "NURSE",
    "SELF-EMPLOYED",
];
const HOTELS: [&str; 8] = [
    "Hotel Gracery, 1-19-1 Kabukicho, Shinjuku-ku, Tokyo",
    "Park Hotel, 1-7-1 Higashi-Shimbashi, Minato-ku, Tokyo",
    "Hotel Sakura, 2-3-4 Asakusa, Taito-ku, Tokyo",
    "Cross Hotel, 2-5-15 Nishi-Shinsaibashi, Chuo-ku, Osaka",
    "Hotel Granvia, 901 Higashi-Shiokoji-cho, Shimogyo-ku, Kyoto",
    "JR Tower Hotel, 5-2 Kita 5 Nishi 2, Chuo-ku, Sapporo",
    "Hilton, 2-2-3 Umeda, Kita-ku, Osaka",
    "Ryokan Yoshida, 3-1 Gion, Higashiyama-ku, Kyoto",
];
const HOMES: [&str; 4] = [
    "1-2-3 Ebisu, Shibuya-ku, Tokyo",
    "4-5-6 Sakae, Naka-ku, Nagoya",
    "7-8 Tenjin, Chuo-ku, Fukuoka",
    "2-11-1 Kita-Horie, Nishi-ku, Osaka",
];
/// Other goods with a typical value range (yen).
const OTHER_GOODS: [(&str, u64, u64); 16] = [
    ("handbag", 40_000, 600_000),
    ("wallet", 15_000, 80_000),
    ("watch", 30_000, 900_000),
    ("jewellery", 20_000, 400_000),
    ("clothing", 10_000, 120_000),
    ("shoes", 12_000, 90_000),
    ("sunglasses", 10_000, 50_000),
    ("cosmetics", 5_000, 40_000),
    ("camera", 50_000, 350_000),
    ("smartphone", 80_000, 220_000),
    ("laptop", 120_000, 400_000),
    ("headphones", 15_000, 60_000),
    ("chocolate", 1_000, 9_000),
    ("tea", 2_000, 9_000),
    ("golf clubs", 60_000, 300_000),
    ("designer scarf", 30_000, 90_000),
];

/// How a declaration is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Nothing,
    Within,
    Over,
    Officer,
}

/// Make `count` declarations into `out` (PNG per declaration plus
/// [`MANIFEST`]). Deterministic from `seed` and `issued_at`.
pub fn run(
    out: &Path,
    count: usize,
    seed: u64,
    key: &SigningKey,
    issued_at: u32,
    valid_secs: u32,
) -> Result<Manifest, BatchError> {
    std::fs::create_dir_all(out)
        .map_err(|e| BatchError::Io { path: out.display().to_string(), message: e.to_string() })?;
    let mut rng = StdRng::seed_from_u64(seed);
    let arrival = date_in_japan(issued_at);
    let mut declarations = Vec::with_capacity(count);
    for index in 0..count {
        let decl = random_declaration(&mut rng, &arrival);
        decl.validate().map_err(|source| BatchError::Invalid { index, source })?;
        let text = app::qr_text(&decl, key, issued_at, valid_secs)?;
        let code = app::qr_code(&text)?;
        let file = format!("d{:04}.png", index + 1);
        let path = out.join(&file);
        app::render_png(&code, 4)
            .save(&path)
            .map_err(|e| BatchError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let holder_age = decl.holder_age();
        let assessment = decl.duty_free_assessment();
        let officer_reasons = match &assessment {
            Assessment::SeeOfficer { reasons, .. } => {
                reasons.iter().map(|r| report::officer_reason_name(*r)).collect()
            }
            _ => vec![],
        };
        declarations.push(Entry {
            file,
            qr_version: app::version_number(&code),
            characters: text.len(),
            qr_text: text,
            outcome: report::outcome_name(&assessment),
            estimated_duty_yen: assessment.estimated_duty_yen(),
            officer_reasons,
            reason_codes: assessment.reason_codes().iter().map(|c| c.as_str()).collect(),
            over_allowance: assessment
                .items()
                .iter()
                .map(|e| ExcessEntry {
                    line: e.line,
                    quantity: e.quantity,
                    value_yen: e.value_yen,
                    duty_yen: e.duty_yen,
                })
                .collect(),
            holder_age,
            family_members: decl.family.members.len(),
            declaration: decl,
        });
    }
    let manifest = Manifest {
        seed,
        count,
        issued_at,
        expires_at: issued_at.saturating_add(valid_secs),
        key_id: format!("{:08x}", kiosk::declaration::payload::key_id(&key.verifying_key())),
        declarations,
    };
    let path = out.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    std::fs::write(&path, json)
        .map_err(|e| BatchError::Io { path: path.display().to_string(), message: e.to_string() })?;
    Ok(manifest)
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A date of birth (YYMMDD) of someone `age` on `arrival`.
fn dob_for_age(rng: &mut StdRng, age: u16, arrival: (u16, u8, u8)) -> String {
    let (y, m, d) = arrival;
    let (bm, bd) = (rng.random_range(1..=12u8), rng.random_range(1..=28u8));
    let year = if (bm, bd) <= (m, d) { y - age } else { y - age - 1 };
    format!("{:02}{bm:02}{bd:02}", year % 100)
}

fn passport_number(rng: &mut StdRng, state: &str) -> String {
    let digits = |rng: &mut StdRng, n: u32| -> String {
        (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
    };
    let letter = |rng: &mut StdRng| char::from(b'A' + rng.random_range(0..26u8));
    match state {
        "JPN" => format!("T{}{}", letter(rng), digits(rng, 7)),
        "USA" | "GBR" => digits(rng, 9),
        "KOR" => format!("M{}", digits(rng, 8)),
        "CHN" => format!("E{}", digits(rng, 8)),
        "FRA" => format!("{}{}{}{}", digits(rng, 2), letter(rng), letter(rng), digits(rng, 5)),
        "DEU" => format!("C{}{}", letter(rng), digits(rng, 7)),
        _ => format!("P{}{}", letter(rng), digits(rng, 7)),
    }
}

fn line(kind: GoodsKind, description: &str, quantity: u32, value_yen: u64) -> GoodsLine {
    GoodsLine { kind, description: description.into(), quantity, value_yen }
}

fn alcohol(rng: &mut StdRng, bottles: u32) -> GoodsLine {
    let (class, ml, per_bottle): (AlcoholClass, u16, (u64, u64)) = *pick(
        rng,
        &[
            (AlcoholClass::WineBeerOther, 750, (2_000, 15_000)),
            (AlcoholClass::WineBeerOther, 720, (1_500, 8_000)),
            (AlcoholClass::WhiskyBrandy, 700, (4_000, 30_000)),
            (AlcoholClass::RumGinVodka, 700, (2_500, 9_000)),
            (AlcoholClass::Liqueur, 500, (2_000, 6_000)),
            (AlcoholClass::Distilled, 1_800, (2_000, 6_000)),
        ],
    );
    let value = u64::from(bottles) * rng.random_range(per_bottle.0..=per_bottle.1) / 100 * 100;
    line(GoodsKind::Alcohol { class, bottle_ml: ml }, "", bottles, value)
}

fn other_goods(rng: &mut StdRng, max_value: u64) -> GoodsLine {
    let (name, lo, hi) = *pick(rng, &OTHER_GOODS);
    let hi = hi.min(max_value).max(lo);
    let value = rng.random_range(lo..=hi) / 1000 * 1000;
    let quantity = if value < 20_000 { rng.random_range(1..=3u32) } else { 1 };
    line(GoodsKind::Other, name, quantity, value.max(1000) * u64::from(quantity))
}

/// Goods within an adult's allowance.
fn goods_within(rng: &mut StdRng, adult: bool) -> Vec<GoodsLine> {
    let mut goods = Vec::new();
    if adult && rng.random_bool(0.5) {
        let n = rng.random_range(1..=3u32);
        goods.push(alcohol(rng, n));
        if goods[0].kind == (GoodsKind::Alcohol { class: AlcoholClass::Distilled, bottle_ml: 1_800 }) {
            // A 1.8 l bottle counts as three.
            goods[0] = alcohol(rng, 1);
        }
    }
    if adult && rng.random_bool(0.3) {
        goods.push(line(GoodsKind::Cigarettes, "", 200, rng.random_range(3_000..=7_000u64) / 100 * 100));
    }
    if rng.random_bool(0.25) {
        let ml = *pick(rng, &[30u32, 50]);
        goods.push(line(GoodsKind::Perfume, "", ml, u64::from(ml) * rng.random_range(200..=400u64)));
    }
    let mut budget = 190_000u64;
    for _ in 0..rng.random_range(0..=3) {
        let g = other_goods(rng, budget.min(150_000));
        if g.value_yen >= 10_000 {
            if g.value_yen > budget {
                continue;
            }
            budget -= g.value_yen;
        }
        goods.push(g);
    }
    if goods.is_empty() {
        goods.push(line(GoodsKind::Other, "chocolate", 2, rng.random_range(2_000..=8_000u64) / 100 * 100));
    }
    goods
}

/// Goods over the allowance (with a simplified rate, so duty is payable).
fn goods_over(rng: &mut StdRng, adult: bool) -> Vec<GoodsLine> {
    let mut goods = if rng.random_bool(0.5) { goods_within(rng, adult) } else { vec![] };
    let kinds = rng.random_range(1..=2);
    for _ in 0..kinds {
        match rng.random_range(0..6) {
            0 => {
                let bottles = rng.random_range(4..=8);
                goods.push(alcohol(rng, bottles));
            }
            1 => goods.push(line(
                GoodsKind::Cigarettes,
                "",
                400,
                rng.random_range(8_000..=14_000u64) / 100 * 100,
            )),
            2 => goods.push(line(
                GoodsKind::HeatedTobacco,
                "",
                20,
                rng.random_range(9_000..=12_000u64) / 100 * 100,
            )),
            3 => goods.push(line(
                GoodsKind::Perfume,
                "",
                100,
                rng.random_range(15_000..=40_000u64) / 100 * 100,
            )),
            4 => {
                let (name, value) =
                    *pick(rng, &[("handbag", 320_000u64), ("watch", 450_000), ("laptop", 260_000)]);
                goods.push(line(GoodsKind::Other, name, 1, value + rng.random_range(0..100u64) * 1000));
            }
            _ => {
                for _ in 0..3 {
                    goods.push(other_goods(rng, 150_000));
                }
                goods.push(line(
                    GoodsKind::Other,
                    "camera",
                    1,
                    rng.random_range(120_000..=180_000u64) / 1000 * 1000,
                ));
            }
        }
    }
    goods.truncate(kiosk::declaration::limits::MAX_GOODS_LINES);
    goods
}

/// One random declaration arriving on `arrival` (YYYY-MM-DD).
pub fn random_declaration(rng: &mut StdRng, arrival: &str) -> Declaration {
    let ymd = parse_date(arrival).unwrap_or((2026, 11, 23));
    let state = *pick(rng, &STATES);
    let surname = *pick(rng, &SURNAMES);
    // Mostly adults; a few 18-19 year-old students (no alcohol or tobacco allowance).
    let age: u16 = if rng.random_bool(0.06) { rng.random_range(18..=19) } else { rng.random_range(20..=78) };
    let (flight, departure) = *pick(rng, &FLIGHTS);
    let resident = state == "JPN";
    let holder = Holder {
        surname: surname.into(),
        given_names: (*pick(rng, &GIVEN)).into(),
        nationality: state.into(),
        date_of_birth: dob_for_age(rng, age, ymd),
        passport_number: passport_number(rng, state),
        occupation: if age < 23 { "STUDENT".into() } else { (*pick(rng, &OCCUPATIONS)).into() },
        address_in_japan: if resident { *pick(rng, &HOMES) } else { *pick(rng, &HOTELS) }.into(),
        phone: if resident {
            format!("090-{:04}-{:04}", rng.random_range(0..10_000), rng.random_range(0..10_000))
        } else {
            format!("+81-3-{:04}-{:04}", rng.random_range(0..10_000), rng.random_range(0..10_000))
        },
    };

    // Family: alone, a couple, or parents with children.
    let size = match rng.random_range(0..100) {
        _ if age < 20 => 1,
        0..55 => 1,
        55..75 => 2,
        75..87 => 3,
        87..96 => 4,
        _ => rng.random_range(5..=6),
    };
    let mut members = Vec::new();
    let member_state = |rng: &mut StdRng| if rng.random_bool(0.9) { state } else { *pick(rng, &STATES) };
    if size >= 2 && age >= 20 {
        let partner_age = (age + rng.random_range(0..8)).saturating_sub(4).clamp(20, 90);
        let s = member_state(rng);
        members.push(FamilyMember {
            passport_number: passport_number(rng, s),
            nationality: s.into(),
            date_of_birth: dob_for_age(rng, partner_age, ymd),
        });
    }
    while members.len() + 1 < size {
        let child_age = rng.random_range(0..=17u16).min(age.saturating_sub(18));
        let s = member_state(rng);
        members.push(FamilyMember {
            passport_number: passport_number(rng, s),
            nationality: s.into(),
            date_of_birth: dob_for_age(rng, child_age, ymd),
        });
    }
    let ages = members.iter().filter_map(|m| kiosk::declaration::age_on(&m.date_of_birth, ymd));
    let (age_20_plus, age_6_to_19, under_6) = age_band_counts(ages);
    let family = Family { age_20_plus, age_6_to_19, under_6, members };

    let adult = age >= 20;
    let profile = match rng.random_range(0..100) {
        0..40 => Profile::Nothing,
        40..62 => Profile::Within,
        62..85 => Profile::Over,
        _ => Profile::Officer,
    };
    let mut answers = Answers::default();
    let mut goods = match profile {
        Profile::Nothing => vec![],
        Profile::Within => goods_within(rng, adult),
        Profile::Over => goods_over(rng, adult),
        Profile::Officer => {
            if rng.random_bool(0.5) {
                goods_within(rng, adult)
            } else {
                vec![]
            }
        }
    };
    let mut itemise_nothing = false;
    if profile == Profile::Officer {
        match rng.random_range(0..8) {
            0 => answers.prohibited = true,
            1 => {
                answers.commercial = true;
                goods.push(line(
                    GoodsKind::Other,
                    "samples",
                    50,
                    rng.random_range(50_000..=150_000u64) / 1000 * 1000,
                ));
            }
            2 => answers.carried_for_others = true,
            3 => {
                answers.cash_or_gold = true;
                answers.cash_yen = rng.random_range(12..=60u64) * 100_000;
            }
            4 => {
                answers.cash_or_gold = true;
                answers.gold_grams = rng.random_range(1_100..=3_000);
            }
            5 => {
                answers.unaccompanied = true;
                answers.unaccompanied_packages = rng.random_range(1..=4);
                goods.push(line(
                    GoodsKind::Other,
                    "clothing",
                    10,
                    rng.random_range(30_000..=90_000u64) / 1000 * 1000,
                ));
            }
            6 => goods.push(line(
                GoodsKind::Cigars,
                "",
                100,
                rng.random_range(20_000..=60_000u64) / 1000 * 1000,
            )),
            _ => itemise_nothing = true,
        }
    }
    let mut decl = Declaration {
        flight: flight.into(),
        departure: departure.into(),
        arrival_date: arrival.into(),
        holder,
        family,
        answers,
        goods,
    };
    // Question 1-2 as the app sets it: yes when goods are over the allowance.
    let over = !over_allowance_lines(&decl, decl.holder_age().unwrap_or(0)).is_empty();
    decl.answers.over_allowance = over || itemise_nothing;
    decl
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk::declaration::body::DESCRIPTIONS;

    #[test]
    fn declarations_are_valid_and_varied() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut outcomes = std::collections::BTreeMap::new();
        let mut families = 0;
        for _ in 0..300 {
            let d = random_declaration(&mut rng, "2026-11-23");
            d.validate().unwrap();
            assert_eq!(d.family.count() as usize, d.family.members.len());
            families += usize::from(!d.family.members.is_empty());
            *outcomes.entry(report::outcome_name(&d.duty_free_assessment())).or_insert(0) += 1;
        }
        assert_eq!(outcomes.len(), 3, "{outcomes:?}");
        assert!(outcomes.values().all(|&n| n >= 20), "{outcomes:?}");
        assert!(families > 60, "{families}");
    }

    #[test]
    fn dates_of_birth_give_the_age() {
        let mut rng = StdRng::seed_from_u64(1);
        for age in [0u16, 5, 6, 19, 20, 78] {
            let dob = dob_for_age(&mut rng, age, (2026, 11, 23));
            assert_eq!(kiosk::declaration::age_on(&dob, (2026, 11, 23)), Some(age as u8), "{dob}");
        }
    }

    #[test]
    fn every_goods_name_is_short_enough() {
        for (name, _, _) in OTHER_GOODS {
            assert!(name.len() <= kiosk::declaration::limits::MAX_DESCRIPTION_LEN);
        }
        assert!(DESCRIPTIONS.contains(&"handbag"));
    }
}
