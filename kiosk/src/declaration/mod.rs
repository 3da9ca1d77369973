//! The customs declaration (form C No.5360) and its signed QR payload.
//!
//! - this module: the declaration model ([`Declaration`]), its validation
//!   ([`Declaration::validate`]) and who it belongs to ([`Declaration::belongs_to`]);
//! - [`duty_free`]: the duty-free allowance rules, a pure function from the
//!   declaration and the passenger's age to an [`duty_free::Assessment`], and
//!   the mapping of that assessment to the decision engine's reason codes;
//! - [`payload`]: the wire format inside the QR code (version 2: a signed
//!   envelope around a CBOR body, text in base45), pure, signed with Ed25519;
//! - [`body`]: the CBOR body (integer keys), [`base45`]: RFC 9285.
//!
//! Spec: docs/declaration-qr.md.

pub mod base45;
pub mod body;
pub mod duty_free;
pub mod payload;

use serde::{Deserialize, Serialize};

use crate::decision::ReasonCode;

/// The passenger who files the declaration (the identity fields of C5360).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub surname: String,
    pub given_names: String,
    /// ICAO 3-letter code, as in the MRZ.
    pub nationality: String,
    /// YYMMDD, as in the MRZ.
    pub date_of_birth: String,
    /// As in the MRZ, without filler.
    pub passport_number: String,
    pub occupation: String,
    pub address_in_japan: String,
    pub phone: String,
}

/// An accompanying family member: who may present the family's declaration
/// at the kiosk with their own passport. Only what matching the passport
/// needs (data minimisation; the QR code has no room to spare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyMember {
    /// As in the MRZ, without filler.
    pub passport_number: String,
    /// ICAO 3-letter code, as in the MRZ.
    pub nationality: String,
    /// YYMMDD, as in the MRZ.
    pub date_of_birth: String,
}

/// Accompanying family members: the counts by age band (as on the paper
/// form) and their passports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub age_20_plus: u8,
    pub age_6_to_19: u8,
    pub under_6: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<FamilyMember>,
}

impl Family {
    /// Accompanying members counted in the age bands.
    pub fn count(&self) -> u32 {
        u32::from(self.age_20_plus) + u32::from(self.age_6_to_19) + u32::from(self.under_6)
    }
}

/// The yes/no questions of C5360, with the amounts that go with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// 1-1 prohibited or restricted articles.
    pub prohibited: bool,
    /// 1-2 purchases, souvenirs or gifts over the duty-free allowance.
    pub over_allowance: bool,
    /// 1-3 commercial goods or samples.
    pub commercial: bool,
    /// 1-4 items carried for someone else.
    pub carried_for_others: bool,
    /// 2 cash or securities over 1,000,000 yen, or gold over 1 kg.
    pub cash_or_gold: bool,
    /// 3 unaccompanied articles.
    pub unaccompanied: bool,
    /// 2: cash, cheques, promissory notes and securities carried, in yen
    /// (0 when none is declared).
    #[serde(default)]
    pub cash_yen: u64,
    /// 2: gold (purity 90 % or more) carried, in grams.
    #[serde(default)]
    pub gold_grams: u32,
    /// 3: number of packages sent separately.
    #[serde(default)]
    pub unaccompanied_packages: u16,
}

/// The class of an alcoholic beverage: what the simplified duty rate depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlcoholClass {
    WhiskyBrandy,
    RumGinVodka,
    Liqueur,
    /// Other distilled beverages (shochu, ...).
    Distilled,
    /// Wine, beer, sake and other liquor.
    WineBeerOther,
}

impl AlcoholClass {
    pub const ALL: [AlcoholClass; 5] = [
        AlcoholClass::WhiskyBrandy,
        AlcoholClass::RumGinVodka,
        AlcoholClass::Liqueur,
        AlcoholClass::Distilled,
        AlcoholClass::WineBeerOther,
    ];
}

/// What a goods line holds; it also says the unit of [`GoodsLine::quantity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsKind {
    /// Quantity: bottles, each of `bottle_ml` millilitres.
    Alcohol { class: AlcoholClass, bottle_ml: u16 },
    /// Quantity: cigarettes (sticks).
    Cigarettes,
    /// Quantity: cigars.
    Cigars,
    /// Quantity: packages (of 20 sticks) of heated tobacco.
    HeatedTobacco,
    /// Quantity: grams of other tobacco.
    OtherTobacco,
    /// Quantity: millilitres of perfume (eau de toilette and cologne are not perfume).
    Perfume,
    /// Quantity: pieces (or sets); the value is what counts.
    Other,
}

impl GoodsKind {
    pub fn is_alcohol(self) -> bool {
        matches!(self, GoodsKind::Alcohol { .. })
    }

    pub fn is_tobacco(self) -> bool {
        matches!(
            self,
            GoodsKind::Cigarettes | GoodsKind::Cigars | GoodsKind::HeatedTobacco | GoodsKind::OtherTobacco
        )
    }

    /// The unit of the quantity, for people.
    pub fn unit(self) -> &'static str {
        match self {
            GoodsKind::Alcohol { .. } => "bottles",
            GoodsKind::Cigarettes => "cigarettes",
            GoodsKind::Cigars => "cigars",
            GoodsKind::HeatedTobacco => "packages",
            GoodsKind::OtherTobacco => "g",
            GoodsKind::Perfume => "ml",
            GoodsKind::Other => "pieces",
        }
    }
}

/// A line of goods (accompanied and unaccompanied together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsLine {
    pub kind: GoodsKind,
    /// What it is (needed for other goods; may be empty for alcohol, tobacco, perfume).
    pub description: String,
    /// In the unit of the kind ([`GoodsKind::unit`]); at least 1.
    pub quantity: u32,
    /// Overseas market value of the whole line, in yen.
    pub value_yen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub flight: String,
    /// Place of departure (city or IATA code).
    pub departure: String,
    /// YYYY-MM-DD
    pub arrival_date: String,
    pub holder: Holder,
    pub family: Family,
    pub answers: Answers,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goods: Vec<GoodsLine>,
}

/// Whose passport a declaration was matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traveller {
    /// The person who filed the declaration.
    Holder,
    /// An accompanying family member (index into [`Family::members`]).
    Member(usize),
}

/// Limits of the model: anything larger is refused when signing and when
/// reading. They are far above what a real declaration needs and keep the
/// QR code scannable.
pub mod limits {
    pub const MAX_GOODS_LINES: usize = 32;
    pub const MAX_FAMILY_MEMBERS: usize = 9;
    pub const MAX_NAME_LEN: usize = 39;
    pub const MAX_PASSPORT_NUMBER_LEN: usize = 20;
    pub const MAX_FLIGHT_LEN: usize = 8;
    pub const MAX_PLACE_LEN: usize = 40;
    pub const MAX_OCCUPATION_LEN: usize = 40;
    pub const MAX_ADDRESS_LEN: usize = 120;
    pub const MAX_PHONE_LEN: usize = 20;
    pub const MAX_DESCRIPTION_LEN: usize = 40;
    pub const MAX_QUANTITY: u32 = 1_000_000;
    /// 100 billion yen.
    pub const MAX_VALUE_YEN: u64 = 100_000_000_000;
    pub const MAX_CASH_YEN: u64 = 1_000_000_000_000_000;
    pub const MAX_BOTTLE_ML: u16 = 20_000;
}

/// A declaration field that breaks the rules of the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("declaration field {field}: {problem}")]
pub struct InvalidField {
    /// Path of the field, e.g. `goods[2].quantity`.
    pub field: String,
    pub problem: &'static str,
}

fn invalid(field: impl Into<String>, problem: &'static str) -> InvalidField {
    InvalidField { field: field.into(), problem }
}

/// Free text: printable, no control characters, at most `max` bytes.
fn check_text(field: &str, s: &str, max: usize, required: bool) -> Result<(), InvalidField> {
    if required && s.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if s.len() > max {
        return Err(invalid(field, "is too long"));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    Ok(())
}

/// MRZ-style identity fields: upper-case letters, digits, `<`.
fn check_mrz_field(
    field: &str,
    s: &str,
    len: std::ops::RangeInclusive<usize>,
    digits_only: bool,
) -> Result<(), InvalidField> {
    if !len.contains(&s.len()) {
        return Err(invalid(field, "has the wrong length"));
    }
    let ok = |b: u8| b == b'<' || b.is_ascii_digit() || (!digits_only && b.is_ascii_uppercase());
    if !s.bytes().all(ok) {
        return Err(invalid(field, "has characters the MRZ does not use"));
    }
    Ok(())
}

fn check_identity(prefix: &str, passport: &str, nationality: &str, dob: &str) -> Result<(), InvalidField> {
    check_mrz_field(
        &format!("{prefix}.passport_number"),
        passport,
        1..=limits::MAX_PASSPORT_NUMBER_LEN,
        false,
    )?;
    check_mrz_field(&format!("{prefix}.nationality"), nationality, 3..=3, false)?;
    check_mrz_field(&format!("{prefix}.date_of_birth"), dob, 6..=6, true)
}

/// Parse `YYYY-MM-DD` (a real calendar day, years 2000 to 2099).
pub fn parse_date(s: &str) -> Option<(u16, u8, u8)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(2000..=2099).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some((y as u16, m as u8, d as u8))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Age in whole years on `on` of someone born on `dob` (MRZ `YYMMDD`). The
/// century is the latest one that does not put the birth after `on`. `None`
/// when the date of birth is not fully known (MRZ `<` fillers) or invalid.
pub fn age_on(dob: &str, on: (u16, u8, u8)) -> Option<u8> {
    let b = dob.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let two = |i: usize| u16::from(b[i] - b'0') * 10 + u16::from(b[i + 1] - b'0');
    let (yy, mm, dd) = (two(0), two(2), two(4));
    if !(1..=12).contains(&mm) || dd < 1 || u32::from(dd) > days_in_month(2000 + u32::from(yy), u32::from(mm))
    {
        return None;
    }
    let (oy, om, od) = on;
    let century = oy - oy % 100;
    let mut year = century + yy;
    if (year, mm as u8, dd as u8) > (oy, om, od) {
        year = year.checked_sub(100)?;
    }
    let mut age = oy - year;
    if (om, od) < (mm as u8, dd as u8) {
        age -= 1;
    }
    Some(age.min(u16::from(u8::MAX)) as u8)
}

impl Declaration {
    /// Check every field against the model (formats, lengths, limits). The
    /// app signs only valid declarations and the kiosk reads only valid ones.
    pub fn validate(&self) -> Result<(), InvalidField> {
        use limits::*;
        check_text("flight", &self.flight, MAX_FLIGHT_LEN, true)?;
        if !self.flight.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(invalid("flight", "must be letters and digits (e.g. NH212)"));
        }
        check_text("departure", &self.departure, MAX_PLACE_LEN, true)?;
        if parse_date(&self.arrival_date).is_none() {
            return Err(invalid("arrival_date", "must be a date YYYY-MM-DD"));
        }
        let h = &self.holder;
        check_text("holder.surname", &h.surname, MAX_NAME_LEN, true)?;
        check_text("holder.given_names", &h.given_names, MAX_NAME_LEN, false)?;
        check_identity("holder", &h.passport_number, &h.nationality, &h.date_of_birth)?;
        check_text("holder.occupation", &h.occupation, MAX_OCCUPATION_LEN, false)?;
        check_text("holder.address_in_japan", &h.address_in_japan, MAX_ADDRESS_LEN, false)?;
        check_text("holder.phone", &h.phone, MAX_PHONE_LEN, false)?;
        if self.family.members.len() > MAX_FAMILY_MEMBERS {
            return Err(invalid("family.members", "lists too many people"));
        }
        for (i, m) in self.family.members.iter().enumerate() {
            let p = format!("family.members[{i}]");
            check_identity(&p, &m.passport_number, &m.nationality, &m.date_of_birth)?;
        }
        let a = &self.answers;
        if a.cash_yen > MAX_CASH_YEN {
            return Err(invalid("answers.cash_yen", "is implausibly large"));
        }
        if self.goods.len() > MAX_GOODS_LINES {
            return Err(invalid("goods", "has too many lines"));
        }
        for (i, g) in self.goods.iter().enumerate() {
            let p = format!("goods[{i}]");
            check_text(
                &format!("{p}.description"),
                &g.description,
                MAX_DESCRIPTION_LEN,
                g.kind == GoodsKind::Other,
            )?;
            if g.quantity == 0 || g.quantity > MAX_QUANTITY {
                return Err(invalid(format!("{p}.quantity"), "must be between 1 and 1,000,000"));
            }
            if g.value_yen > MAX_VALUE_YEN {
                return Err(invalid(format!("{p}.value_yen"), "is implausibly large"));
            }
            if let GoodsKind::Alcohol { bottle_ml, .. } = g.kind
                && (bottle_ml == 0 || bottle_ml > MAX_BOTTLE_ML)
            {
                return Err(invalid(format!("{p}.kind.bottle_ml"), "must be between 1 and 20,000 ml"));
            }
        }
        Ok(())
    }

    /// The arrival date as (year, month, day).
    pub fn arrival_ymd(&self) -> Option<(u16, u8, u8)> {
        parse_date(&self.arrival_date)
    }

    /// The holder's age on the arrival date.
    pub fn holder_age(&self) -> Option<u8> {
        age_on(&self.holder.date_of_birth, self.arrival_ymd()?)
    }

    /// The duty-free assessment of the declared goods on the holder's
    /// allowance (the holder files for the family; see [`duty_free`]). An
    /// unknown age is taken as 0, the most restrictive.
    pub fn duty_free_assessment(&self) -> duty_free::Assessment {
        duty_free::assess(self, self.holder_age().unwrap_or(0))
    }

    /// The reasons the declaration gives to send the passenger to the staffed
    /// desk: its answers and the duty-free assessment of its goods
    /// ([`duty_free::Assessment::reason_codes`]).
    pub fn referral_reasons(&self) -> Vec<ReasonCode> {
        self.duty_free_assessment().reason_codes()
    }

    /// Whose passport (the holder's, or an accompanying family member's)
    /// has these MRZ fields: passport number, nationality, date of birth.
    pub fn traveller(&self, mrz: &crate::passport::mrz::Mrz) -> Option<Traveller> {
        let same = |number: &str, nationality: &str, dob: &str| {
            number == mrz.document_number && nationality == mrz.nationality && dob == mrz.date_of_birth
        };
        let h = &self.holder;
        if same(&h.passport_number, &h.nationality, &h.date_of_birth) {
            return Some(Traveller::Holder);
        }
        self.family
            .members
            .iter()
            .position(|m| same(&m.passport_number, &m.nationality, &m.date_of_birth))
            .map(Traveller::Member)
    }

    /// Whether this declaration was filed by, or lists as an accompanying
    /// family member, the holder of the passport with these MRZ fields.
    pub fn belongs_to(&self, mrz: &crate::passport::mrz::Mrz) -> bool {
        self.traveller(mrz).is_some()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Declaration {
        Declaration {
            flight: "NH212".into(),
            departure: "LHR".into(),
            arrival_date: "2026-11-23".into(),
            holder: Holder {
                surname: "ERIKSSON".into(),
                given_names: "ANNA MARIA".into(),
                nationality: "UTO".into(),
                date_of_birth: "740812".into(),
                passport_number: "L898902C3".into(),
                occupation: "ENGINEER".into(),
                address_in_japan: "1-1 Chiyoda, Tokyo".into(),
                phone: "+81-3-0000-0000".into(),
            },
            family: Family::default(),
            answers: Answers::default(),
            goods: vec![],
        }
    }

    /// A family of four (the holder and three members) with ten goods lines:
    /// the QR size case of the spec.
    pub(crate) fn family_of_four() -> Declaration {
        let mut d = sample();
        d.holder.address_in_japan = "Hotel Sakura, 2-3-4 Asakusa, Taito-ku, Tokyo".into();
        d.holder.phone = "+81-3-1234-5678".into();
        d.family = Family {
            age_20_plus: 1,
            age_6_to_19: 1,
            under_6: 1,
            members: vec![
                FamilyMember {
                    passport_number: "L898903C1".into(),
                    nationality: "UTO".into(),
                    date_of_birth: "760304".into(),
                },
                FamilyMember {
                    passport_number: "L898904C9".into(),
                    nationality: "UTO".into(),
                    date_of_birth: "120615".into(),
                },
                FamilyMember {
                    passport_number: "L898905C6".into(),
                    nationality: "UTO".into(),
                    date_of_birth: "220101".into(),
                },
            ],
        };
        d.answers.over_allowance = true;
        let line = |kind, description: &str, quantity, value_yen| GoodsLine {
            kind,
            description: description.into(),
            quantity,
            value_yen,
        };
        let alcohol = |class, bottle_ml| GoodsKind::Alcohol { class, bottle_ml };
        d.goods = vec![
            line(alcohol(AlcoholClass::WineBeerOther, 750), "", 4, 24_000),
            line(alcohol(AlcoholClass::WhiskyBrandy, 700), "", 2, 30_000),
            line(GoodsKind::Cigarettes, "", 400, 12_000),
            line(GoodsKind::HeatedTobacco, "", 5, 3_000),
            line(GoodsKind::Perfume, "", 100, 25_000),
            line(GoodsKind::Other, "handbag", 1, 250_000),
            line(GoodsKind::Other, "camera", 1, 150_000),
            line(GoodsKind::Other, "shoes", 2, 36_000),
            line(GoodsKind::Other, "chocolate", 6, 6_000),
            line(GoodsKind::Other, "watch", 1, 90_000),
        ];
        d
    }

    fn mrz(number: &str, nationality: &str, dob: &str) -> crate::passport::mrz::Mrz {
        let mut m = crate::passport::mrz::Mrz::parse(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
        )
        .unwrap();
        m.document_number = number.into();
        m.nationality = nationality.into();
        m.date_of_birth = dob.into();
        m
    }

    #[test]
    fn nothing_to_declare_gives_no_reason() {
        assert!(sample().referral_reasons().is_empty());
        assert_eq!(sample().validate(), Ok(()));
        assert_eq!(family_of_four().validate(), Ok(()));
    }

    #[test]
    fn each_answer_maps_to_its_reason() {
        let mut d = sample();
        d.answers = Answers { prohibited: true, cash_or_gold: true, ..Answers::default() };
        assert_eq!(d.referral_reasons(), vec![ReasonCode::ProhibitedArticles, ReasonCode::CashOrGold]);
        let mut d = sample();
        d.goods.push(GoodsLine {
            kind: GoodsKind::Other,
            description: "watch".into(),
            quantity: 1,
            value_yen: 300_000,
        });
        assert_eq!(d.referral_reasons(), vec![ReasonCode::OverAllowance]);
    }

    #[test]
    fn goods_within_the_allowance_give_no_reason() {
        let mut d = sample();
        d.goods.push(GoodsLine {
            kind: GoodsKind::Alcohol { class: AlcoholClass::WineBeerOther, bottle_ml: 750 },
            description: String::new(),
            quantity: 2,
            value_yen: 8_000,
        });
        assert!(d.referral_reasons().is_empty());
    }

    #[test]
    fn belongs_to_compares_the_mrz_identity() {
        let m = crate::passport::mrz::Mrz::parse(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
        )
        .unwrap();
        assert!(sample().belongs_to(&m));
        assert_eq!(sample().traveller(&m), Some(Traveller::Holder));
        let mut other = sample();
        other.holder.passport_number = "X0000000".into();
        assert!(!other.belongs_to(&m));
    }

    #[test]
    fn a_family_member_is_matched_against_the_family_list() {
        let d = family_of_four();
        assert_eq!(d.traveller(&mrz("L898904C9", "UTO", "120615")), Some(Traveller::Member(1)));
        assert!(d.belongs_to(&mrz("L898905C6", "UTO", "220101")));
        // Each of the three identity fields must match.
        assert!(!d.belongs_to(&mrz("L898904C9", "UTO", "120616")));
        assert!(!d.belongs_to(&mrz("L898904C9", "GBR", "120615")));
        assert!(!d.belongs_to(&mrz("L898904C8", "UTO", "120615")));
    }

    #[test]
    fn ages_are_counted_on_the_arrival_date() {
        let on = (2026, 11, 23);
        assert_eq!(age_on("740812", on), Some(52));
        assert_eq!(age_on("061123", on), Some(20));
        assert_eq!(age_on("061124", on), Some(19));
        assert_eq!(age_on("201124", on), Some(5));
        assert_eq!(age_on("201123", on), Some(6));
        assert_eq!(age_on("261123", on), Some(0));
        // Born "next month" in two digits: last century.
        assert_eq!(age_on("261224", on), Some(99));
        assert_eq!(age_on("74<<<<", on), None);
        assert_eq!(age_on("741332", on), None);
        assert_eq!(family_of_four().holder_age(), Some(52));
    }

    #[test]
    fn validation_names_the_field() {
        let mut d = sample();
        d.arrival_date = "2026-02-30".into();
        assert_eq!(d.validate().unwrap_err().field, "arrival_date");
        let mut d = family_of_four();
        d.family.members[2].date_of_birth = "22010".into();
        assert_eq!(d.validate().unwrap_err().field, "family.members[2].date_of_birth");
        let mut d = family_of_four();
        d.goods[3].quantity = 0;
        assert_eq!(d.validate().unwrap_err().field, "goods[3].quantity");
        let mut d = sample();
        d.holder.phone = "+81\n3".into();
        let e = d.validate().unwrap_err();
        assert_eq!(e.to_string(), "declaration field holder.phone: contains control characters");
        let mut d = sample();
        d.holder.passport_number.clear();
        assert_eq!(d.validate().unwrap_err().field, "holder.passport_number");
    }
}
