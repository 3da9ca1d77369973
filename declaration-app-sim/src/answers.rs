//! The passenger's answers to form C5360 as the app collects them (from
//! flags, an answer file in TOML or JSON, or the interactive prompt), and how
//! the app turns them into a [`Declaration`] it is willing to sign.
//!
//! An [`AnswerSheet`] holds what was said so far: every field is optional,
//! so that sheets can be layered (an answer file, then the command-line
//! flags over it, then the prompt's answers) with [`AnswerSheet::overlay`].
//! [`AnswerSheet::resolve`] then does what the real app does before it signs:
//!
//! - tidies the input the way a form would (upper-case identity fields, a
//!   flight number without spaces, a date of birth given as `YYYY-MM-DD`
//!   turned into the MRZ's `YYMMDD`, common goods names from the app's list);
//! - fills in what the app knows: the arrival date (today in Japan), a family
//!   member's nationality (the holder's), the family counts by age band (from
//!   the members' dates of birth), and the yes/no answers that follow from
//!   the amounts (question 2 from cash and gold, question 3 from the number
//!   of packages, question 1-2 from the goods over the allowance);
//! - refuses answers that contradict each other (question 1-2 answered no
//!   with goods over the allowance, ...) and anything
//!   [`Declaration::validate`] refuses, naming the field.
//!
//! The answer file uses the field names of the kiosk's [`Declaration`] (so a
//! `declaration.json` written by `generate` is a valid answer file), with a
//! friendlier goods line: `kind = "wine"`, `bottle_ml = 750`.

use serde::Deserialize;

use kiosk::declaration::body::DESCRIPTIONS;
use kiosk::declaration::duty_free::{self, CASH_LIMIT_YEN, GOLD_LIMIT_GRAMS};
use kiosk::declaration::{
    AlcoholClass, Answers, Declaration, Family, FamilyMember, GoodsKind, GoodsLine, Holder, age_on,
    parse_date,
};

/// An answer the app refuses: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidAnswer {
    /// Path of the field as in the answer file, e.g. `goods[2].quantity`.
    pub field: String,
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> InvalidAnswer {
    InvalidAnswer { field: field.into(), problem: problem.into() }
}

impl From<kiosk::declaration::InvalidField> for InvalidAnswer {
    fn from(e: kiosk::declaration::InvalidField) -> Self {
        invalid(e.field, e.problem)
    }
}

/// An answer file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum AnswerFileError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a valid TOML answer file: {message}")]
    Toml { path: String, message: String },
    #[error("{path} is not a valid JSON answer file: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path}: the answer file must end in .toml or .json")]
    UnknownFormat { path: String },
}

/// Everything the passenger has answered so far; `None` is "not answered".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerSheet {
    /// e.g. NH212.
    pub flight: Option<String>,
    /// Place of departure (city or IATA code).
    pub departure: Option<String>,
    /// YYYY-MM-DD; today in Japan when not given.
    pub arrival_date: Option<String>,
    pub holder: HolderAnswers,
    pub family: FamilyAnswers,
    pub answers: QuestionAnswers,
    /// The goods lines (the back of the form).
    pub goods: Option<Vec<GoodsAnswer>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HolderAnswers {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    /// ICAO 3 letters, as in the passport.
    pub nationality: Option<String>,
    /// YYMMDD as in the MRZ, or YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    pub passport_number: Option<String>,
    pub occupation: Option<String>,
    #[serde(alias = "address")]
    pub address_in_japan: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FamilyAnswers {
    /// The counts by age band; counted from the members' dates of birth when
    /// none is given.
    pub age_20_plus: Option<u8>,
    pub age_6_to_19: Option<u8>,
    pub under_6: Option<u8>,
    pub members: Option<Vec<MemberAnswer>>,
}

/// An accompanying family member's passport.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberAnswer {
    pub passport_number: String,
    /// YYMMDD as in the MRZ, or YYYY-MM-DD.
    pub date_of_birth: String,
    /// The holder's when not given.
    #[serde(default)]
    pub nationality: Option<String>,
}

/// The yes/no questions and their amounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuestionAnswers {
    /// 1-1 prohibited or restricted articles.
    pub prohibited: Option<bool>,
    /// 1-2 goods over the duty-free allowance (from the goods when not given).
    pub over_allowance: Option<bool>,
    /// 1-3 commercial goods or samples.
    pub commercial: Option<bool>,
    /// 1-4 items carried for someone else.
    pub carried_for_others: Option<bool>,
    /// 2 cash or securities over 1,000,000 yen or gold over 1 kg (from the
    /// amounts when not given).
    pub cash_or_gold: Option<bool>,
    /// 3 unaccompanied articles (from the packages when not given).
    pub unaccompanied: Option<bool>,
    pub cash_yen: Option<u64>,
    pub gold_grams: Option<u32>,
    pub unaccompanied_packages: Option<u16>,
}

/// A goods line as the passenger gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoodsAnswer {
    pub kind: KindAnswer,
    /// Alcohol only: the size of one bottle (750 ml when not given).
    #[serde(default)]
    pub bottle_ml: Option<u16>,
    /// What it is (required for other goods).
    #[serde(default)]
    pub description: Option<String>,
    /// In the unit of the kind: bottles, cigarettes, cigars, packages, grams, ml, pieces.
    pub quantity: u32,
    /// Overseas market value of the whole line, in yen.
    pub value_yen: u64,
}

/// A goods kind: a name (`"wine"`, `"cigarettes"`, `"handbag"`, see
/// [`parse_kind`]) or the kiosk model's own form (`{"alcohol": {"class":
/// "wine_beer_other", "bottle_ml": 750}}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KindAnswer {
    Name(String),
    Model(GoodsKind),
}

/// Bottle size taken when an alcohol line does not say.
pub const DEFAULT_BOTTLE_ML: u16 = 750;

/// The kind names the app understands, for help texts.
pub const KIND_NAMES: &str = "wine, beer, sake, whisky, brandy, rum, gin, vodka, liqueur, shochu, \
     cigarettes, cigars, heated-tobacco, other-tobacco, perfume, other";

/// A goods kind from its name. Alcohol takes `bottle_ml`. A common goods name
/// from the app's list (`handbag`, `watch`, ...) is other goods, and comes
/// back as the description. Case, `-`, `_` and spaces do not matter.
pub fn parse_kind(name: &str, bottle_ml: u16) -> Option<(GoodsKind, Option<&'static str>)> {
    let key: String =
        name.trim().to_lowercase().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c }).collect();
    let alcohol = |class| Some((GoodsKind::Alcohol { class, bottle_ml }, None));
    match key.as_str() {
        "wine" | "beer" | "sake" | "liquor" | "wine-beer-other" | "champagne" | "cider" => {
            alcohol(AlcoholClass::WineBeerOther)
        }
        "whisky" | "whiskey" | "brandy" | "cognac" | "whisky-brandy" => alcohol(AlcoholClass::WhiskyBrandy),
        "rum" | "gin" | "vodka" | "tequila" | "rum-gin-vodka" => alcohol(AlcoholClass::RumGinVodka),
        "liqueur" => alcohol(AlcoholClass::Liqueur),
        "shochu" | "distilled" | "other-distilled" => alcohol(AlcoholClass::Distilled),
        "cigarettes" | "cigarette" => Some((GoodsKind::Cigarettes, None)),
        "cigars" | "cigar" => Some((GoodsKind::Cigars, None)),
        "heated-tobacco" | "heated" => Some((GoodsKind::HeatedTobacco, None)),
        "other-tobacco" | "tobacco" | "pipe-tobacco" => Some((GoodsKind::OtherTobacco, None)),
        "perfume" => Some((GoodsKind::Perfume, None)),
        "other" | "other-goods" | "goods" => Some((GoodsKind::Other, None)),
        _ => common_name(name).map(|n| (GoodsKind::Other, Some(n))),
    }
}

/// The app's list entry for a goods name, if it is one (case-insensitive).
pub fn common_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    DESCRIPTIONS.iter().copied().find(|d| *d == n)
}

/// A goods line from `KIND[@ML]:QUANTITY:VALUE[:DESCRIPTION]`, e.g.
/// `wine@750:4:24000`, `cigarettes:400:12000`, `handbag:1:250000`,
/// `other:2:30000:kimono`. Amounts may have `,` or `_` separators.
pub fn parse_goods_flag(s: &str) -> Result<GoodsAnswer, String> {
    let mut parts = s.splitn(4, ':');
    let kind = parts.next().unwrap_or_default();
    let (Some(quantity), Some(value)) = (parts.next(), parts.next()) else {
        return Err("expected KIND[@ML]:QUANTITY:VALUE[:DESCRIPTION], e.g. wine@750:4:24000".into());
    };
    let (kind, bottle_ml) = match kind.split_once('@') {
        Some((k, ml)) => {
            let ml = ml.trim().trim_end_matches("ml");
            (k, Some(parse_amount(ml).ok().and_then(|v| u16::try_from(v).ok()).ok_or("bad bottle size")?))
        }
        None => (kind, None),
    };
    if kind.trim().is_empty() {
        return Err("the kind is missing".into());
    }
    let quantity = parse_amount(quantity)
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("bad quantity {quantity:?}"))?;
    let value_yen = parse_amount(value).map_err(|_| format!("bad value {value:?} (yen)"))?;
    Ok(GoodsAnswer {
        kind: KindAnswer::Name(kind.trim().to_string()),
        bottle_ml,
        description: parts.next().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
        quantity,
        value_yen,
    })
}

/// A family member from `PASSPORT:DATE-OF-BIRTH[:NATIONALITY]`.
pub fn parse_member_flag(s: &str) -> Result<MemberAnswer, String> {
    let parts: Vec<&str> = s.split(':').map(str::trim).collect();
    match parts.as_slice() {
        [passport, dob] => Ok(MemberAnswer {
            passport_number: passport.to_string(),
            date_of_birth: dob.to_string(),
            nationality: None,
        }),
        [passport, dob, nat] => Ok(MemberAnswer {
            passport_number: passport.to_string(),
            date_of_birth: dob.to_string(),
            nationality: Some(nat.to_string()),
        }),
        _ => Err("expected PASSPORT:DATE-OF-BIRTH[:NATIONALITY], e.g. L898903C1:760304:UTO".into()),
    }
}

/// A whole number of yen, grams, ...: digits with optional `,`, `_` or space
/// separators, an optional `¥` or `yen`.
pub fn parse_amount(s: &str) -> Result<u64, String> {
    let t = s.trim().trim_start_matches('¥').trim_end_matches("yen").trim();
    let digits: String = t.chars().filter(|c| !matches!(c, ',' | '_' | ' ')).collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a whole number, e.g. 24000".into());
    }
    digits.parse::<u64>().map_err(|_| "is too large".into())
}

/// yes/no (also y/n, true/false).
pub fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "y" | "yes" | "true" => Some(true),
        "n" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// A date of birth as the MRZ has it (`YYMMDD`): `YYYY-MM-DD` (years 1900 to
/// 2099) is shortened; anything else is kept as given (and validated later).
pub fn normalise_dob(s: &str) -> String {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' && (s.starts_with("19") || s.starts_with("20")) {
        // Check the calendar day with the 2000s rule on the same month and day
        // (leap years repeat every 4 years in 1901-2099 except 1900).
        let probe = format!("20{}", &s[2..]);
        if parse_date(&probe).is_some() {
            return format!("{}{}{}", &s[2..4], &s[5..7], &s[8..10]);
        }
    }
    s.to_string()
}

/// A date of birth checked as the app does: normalised ([`normalise_dob`]),
/// six characters of digits or MRZ `<` fillers, and when it is all digits a
/// real day not after `arrival`. The problem says what to type.
pub fn check_dob(s: &str, arrival: (u16, u8, u8)) -> Result<String, &'static str> {
    let dob = normalise_dob(s);
    if dob.is_empty() {
        return Err("is required (YYYY-MM-DD or YYMMDD as in the passport)");
    }
    let b = dob.as_bytes();
    if b.len() != 6 || !b.iter().all(|&c| c.is_ascii_digit() || c == b'<') {
        return Err("must be a date YYYY-MM-DD, or YYMMDD as in the passport (e.g. 1974-08-12 or 740812)");
    }
    if b.iter().all(u8::is_ascii_digit) && age_on(&dob, arrival).is_none() {
        return Err("is not a real date (YYMMDD: year, month, day)");
    }
    Ok(dob)
}

/// Today's date in Japan (UTC+9) from Unix seconds, `YYYY-MM-DD`.
pub fn date_in_japan(unix: u32) -> String {
    let days = (i64::from(unix) + 9 * 3600).div_euclid(86_400);
    let (y, m, d) = kiosk::lane::clock::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Age bands of the family counts.
pub fn age_band_counts(ages: impl IntoIterator<Item = u8>) -> (u8, u8, u8) {
    let (mut adults, mut young, mut small) = (0u8, 0u8, 0u8);
    for age in ages {
        let c = if age >= duty_free::ADULT_AGE {
            &mut adults
        } else if age >= duty_free::CHILD_AGE {
            &mut young
        } else {
            &mut small
        };
        *c = c.saturating_add(1);
    }
    (adults, young, small)
}

/// A declaration the app is willing to sign, with what it filled in itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub declaration: Declaration,
    /// The holder's age on the arrival date (`None`: the date of birth is
    /// not fully known, taken as 0, the most restrictive).
    pub holder_age: Option<u8>,
    pub assessment: duty_free::Assessment,
    /// What the app filled in or derived, for the passenger to see.
    pub notes: Vec<String>,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_string()
}

fn upper(v: &Option<String>) -> String {
    text(v).to_uppercase()
}

fn some_or<T>(slot: &mut Option<T>, over: Option<T>) {
    if over.is_some() {
        *slot = over;
    }
}

impl AnswerSheet {
    /// Read an answer file: TOML or JSON, by its extension.
    pub fn load(path: &std::path::Path) -> Result<AnswerSheet, AnswerFileError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| AnswerFileError::Io { path: p.clone(), source })?;
        match path.extension().and_then(|e| e.to_str()).map(str::to_lowercase).as_deref() {
            Some("toml") => {
                toml::from_str(&text).map_err(|e| AnswerFileError::Toml { path: p, message: e.to_string() })
            }
            Some("json") => {
                serde_json::from_str(&text).map_err(|source| AnswerFileError::Json { path: p, source })
            }
            _ => Err(AnswerFileError::UnknownFormat { path: p }),
        }
    }

    /// Take every answer `over` gives in place of this sheet's (lists are
    /// replaced whole).
    pub fn overlay(&mut self, over: AnswerSheet) {
        some_or(&mut self.flight, over.flight);
        some_or(&mut self.departure, over.departure);
        some_or(&mut self.arrival_date, over.arrival_date);
        let (h, o) = (&mut self.holder, over.holder);
        some_or(&mut h.surname, o.surname);
        some_or(&mut h.given_names, o.given_names);
        some_or(&mut h.nationality, o.nationality);
        some_or(&mut h.date_of_birth, o.date_of_birth);
        some_or(&mut h.passport_number, o.passport_number);
        some_or(&mut h.occupation, o.occupation);
        some_or(&mut h.address_in_japan, o.address_in_japan);
        some_or(&mut h.phone, o.phone);
        let (f, o) = (&mut self.family, over.family);
        some_or(&mut f.age_20_plus, o.age_20_plus);
        some_or(&mut f.age_6_to_19, o.age_6_to_19);
        some_or(&mut f.under_6, o.under_6);
        some_or(&mut f.members, o.members);
        let (a, o) = (&mut self.answers, over.answers);
        some_or(&mut a.prohibited, o.prohibited);
        some_or(&mut a.over_allowance, o.over_allowance);
        some_or(&mut a.commercial, o.commercial);
        some_or(&mut a.carried_for_others, o.carried_for_others);
        some_or(&mut a.cash_or_gold, o.cash_or_gold);
        some_or(&mut a.unaccompanied, o.unaccompanied);
        some_or(&mut a.cash_yen, o.cash_yen);
        some_or(&mut a.gold_grams, o.gold_grams);
        some_or(&mut a.unaccompanied_packages, o.unaccompanied_packages);
        some_or(&mut self.goods, over.goods);
    }

    /// The holder's fields, tidied (before validation).
    pub fn holder(&self) -> Holder {
        let h = &self.holder;
        Holder {
            surname: upper(&h.surname),
            given_names: upper(&h.given_names),
            nationality: upper(&h.nationality),
            date_of_birth: normalise_dob(&text(&h.date_of_birth)),
            passport_number: upper(&h.passport_number),
            occupation: text(&h.occupation),
            address_in_japan: text(&h.address_in_japan),
            phone: text(&h.phone),
        }
    }

    /// The arrival date given, or today in Japan.
    pub fn arrival_date_or(&self, now: u32) -> String {
        self.arrival_date.as_deref().map(|d| d.trim().to_string()).unwrap_or_else(|| date_in_japan(now))
    }

    /// Turn the answers into a valid declaration and its assessment, as the
    /// app does before signing (see the module documentation). `now` (Unix
    /// seconds) gives the default arrival date.
    pub fn resolve(&self, now: u32) -> Result<Resolved, InvalidAnswer> {
        let mut notes = Vec::new();
        let arrival_date = self.arrival_date_or(now);
        if self.arrival_date.is_none() {
            notes.push(format!("arrival date: today in Japan, {arrival_date}"));
        }
        let holder = self.holder();
        let arrival =
            parse_date(&arrival_date).ok_or_else(|| invalid("arrival_date", "must be a date YYYY-MM-DD"))?;
        if self.holder.date_of_birth.is_some() {
            check_dob(&holder.date_of_birth, arrival).map_err(|p| invalid("holder.date_of_birth", p))?;
        }
        for (i, m) in self.family.members.iter().flatten().enumerate() {
            check_dob(&m.date_of_birth, arrival)
                .map_err(|p| invalid(format!("family.members[{i}].date_of_birth"), p))?;
        }

        // Family.
        let members: Vec<FamilyMember> = self
            .family
            .members
            .iter()
            .flatten()
            .map(|m| FamilyMember {
                passport_number: m.passport_number.trim().to_uppercase(),
                nationality: m
                    .nationality
                    .as_deref()
                    .map(|n| n.trim().to_uppercase())
                    .unwrap_or_else(|| holder.nationality.clone()),
                date_of_birth: normalise_dob(&m.date_of_birth),
            })
            .collect();
        let f = &self.family;
        let family = if f.age_20_plus.is_none() && f.age_6_to_19.is_none() && f.under_6.is_none() {
            let mut ages = Vec::new();
            for (i, m) in members.iter().enumerate() {
                ages.push(age_on(&m.date_of_birth, arrival).ok_or_else(|| {
                    invalid(
                        format!("family.members[{i}].date_of_birth"),
                        "is not a full date (YYMMDD or YYYY-MM-DD): give the family counts by age band",
                    )
                })?);
            }
            let (age_20_plus, age_6_to_19, under_6) = age_band_counts(ages);
            if !members.is_empty() {
                notes.push(format!(
                    "family counts from the members' dates of birth: {age_20_plus} aged 20 or over, \
                     {age_6_to_19} aged 6 to 19, {under_6} under 6"
                ));
            }
            Family { age_20_plus, age_6_to_19, under_6, members }
        } else {
            Family {
                age_20_plus: f.age_20_plus.unwrap_or(0),
                age_6_to_19: f.age_6_to_19.unwrap_or(0),
                under_6: f.under_6.unwrap_or(0),
                members,
            }
        };

        // Goods.
        let mut goods = Vec::new();
        for (i, g) in self.goods.iter().flatten().enumerate() {
            goods.push(goods_line(i, g)?);
        }

        // Answers, with the ones that follow from the amounts.
        let q = &self.answers;
        let cash_yen = q.cash_yen.unwrap_or(0);
        let gold_grams = q.gold_grams.unwrap_or(0);
        let over_limit = cash_yen > CASH_LIMIT_YEN || gold_grams > GOLD_LIMIT_GRAMS;
        let cash_or_gold = match q.cash_or_gold {
            Some(false) if over_limit => {
                return Err(invalid(
                    "answers.cash_or_gold",
                    format!(
                        "is answered no, but {} is over the limit of question 2 \
                         (cash 1,000,000 yen, gold 1 kg): answer yes",
                        if cash_yen > CASH_LIMIT_YEN {
                            format!("cash of {} yen", yen(cash_yen))
                        } else {
                            format!("{} g of gold", yen(u64::from(gold_grams)))
                        }
                    ),
                ));
            }
            Some(v) => v,
            None => {
                if over_limit {
                    notes.push("question 2 answered yes: cash or gold over the limit".into());
                }
                over_limit
            }
        };
        let packages = q.unaccompanied_packages.unwrap_or(0);
        let unaccompanied = match q.unaccompanied {
            Some(false) if packages > 0 => {
                return Err(invalid(
                    "answers.unaccompanied_packages",
                    "gives packages sent separately, but question 3 (unaccompanied articles) is answered no",
                ));
            }
            Some(v) => v,
            None => {
                if packages > 0 {
                    notes.push("question 3 answered yes: packages sent separately".into());
                }
                packages > 0
            }
        };
        let mut declaration = Declaration {
            flight: upper(&self.flight).replace([' ', '-'], ""),
            departure: text(&self.departure),
            arrival_date,
            holder,
            family,
            answers: Answers {
                prohibited: q.prohibited.unwrap_or(false),
                over_allowance: false,
                commercial: q.commercial.unwrap_or(false),
                carried_for_others: q.carried_for_others.unwrap_or(false),
                cash_or_gold,
                unaccompanied,
                cash_yen,
                gold_grams,
                unaccompanied_packages: packages,
            },
            goods,
        };
        declaration.validate()?;

        // Question 1-2 against the goods.
        let holder_age = declaration.holder_age();
        let age = holder_age.unwrap_or(0);
        let over = over_allowance_lines(&declaration, age);
        declaration.answers.over_allowance = match q.over_allowance {
            Some(false) if !over.is_empty() => {
                return Err(invalid(
                    "answers.over_allowance",
                    format!(
                        "question 1-2 is answered no, but these goods are over the duty-free allowance: {}; answer yes",
                        over.join(", ")
                    ),
                ));
            }
            Some(v) => v,
            None => {
                if !over.is_empty() {
                    notes.push("question 1-2 answered yes: goods over the duty-free allowance".into());
                }
                !over.is_empty()
            }
        };
        let assessment = duty_free::assess(&declaration, age);
        Ok(Resolved { declaration, holder_age, assessment, notes })
    }
}

/// The goods lines of `decl` over the allowance (as `goods[i] name`), whatever
/// question 1-2 says.
pub fn over_allowance_lines(decl: &Declaration, age: u8) -> Vec<String> {
    let mut probe = decl.clone();
    probe.answers.over_allowance = false;
    duty_free::assess(&probe, age)
        .items()
        .iter()
        .map(|e| format!("goods[{}] {}", e.line, crate::report::line_name(&decl.goods[e.line])))
        .collect()
}

/// One goods line of the sheet as the model's, tidied.
pub fn goods_line(i: usize, g: &GoodsAnswer) -> Result<GoodsLine, InvalidAnswer> {
    let p = format!("goods[{i}]");
    let (kind, common) = match &g.kind {
        KindAnswer::Name(name) => parse_kind(name, g.bottle_ml.unwrap_or(DEFAULT_BOTTLE_ML)).ok_or_else(|| {
            invalid(
                format!("{p}.kind"),
                format!(
                    "{name:?} is not a kind of goods: one of {KIND_NAMES}, or a name from the app's list ({})",
                    DESCRIPTIONS.join(", ")
                ),
            )
        })?,
        KindAnswer::Model(k) => (*k, None),
    };
    if g.bottle_ml.is_some() && !kind.is_alcohol() {
        return Err(invalid(format!("{p}.bottle_ml"), "only alcohol lines have a bottle size"));
    }
    let description = match g.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => common_name(d).map(str::to_string).unwrap_or_else(|| d.to_string()),
        None => common.unwrap_or_default().to_string(),
    };
    Ok(GoodsLine { kind, description, quantity: g.quantity, value_yen: g.value_yen })
}

/// Yen with thousands separators: 1,234,567.
pub fn yen(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u32 = 1_795_392_000; // 2026-11-22T00:00:00Z

    fn sheet() -> AnswerSheet {
        AnswerSheet {
            flight: Some("nh 212".into()),
            departure: Some("LHR".into()),
            arrival_date: Some("2026-11-23".into()),
            holder: HolderAnswers {
                surname: Some("Eriksson".into()),
                given_names: Some("Anna Maria".into()),
                nationality: Some("uto".into()),
                date_of_birth: Some("1974-08-12".into()),
                passport_number: Some("l898902c3".into()),
                ..HolderAnswers::default()
            },
            ..AnswerSheet::default()
        }
    }

    #[test]
    fn answers_are_tidied_like_a_form_does() {
        let r = sheet().resolve(NOW).unwrap();
        let d = &r.declaration;
        assert_eq!(d.flight, "NH212");
        assert_eq!(d.holder.surname, "ERIKSSON");
        assert_eq!(d.holder.date_of_birth, "740812");
        assert_eq!(d.holder.passport_number, "L898902C3");
        assert_eq!(r.holder_age, Some(52));
        assert_eq!(r.assessment, duty_free::Assessment::WithinAllowance);
    }

    #[test]
    fn goods_flags_parse() {
        let g = parse_goods_flag("wine@750:4:24,000").unwrap();
        assert_eq!((g.quantity, g.value_yen, g.bottle_ml), (4, 24_000, Some(750)));
        let g = goods_line(0, &parse_goods_flag("Handbag:1:250000").unwrap()).unwrap();
        assert_eq!((g.kind, g.description.as_str()), (GoodsKind::Other, "handbag"));
        let g = goods_line(0, &parse_goods_flag("other:1:30000:kimono: silk").unwrap()).unwrap();
        assert_eq!(g.description, "kimono: silk");
        assert!(parse_goods_flag("wine:4").is_err());
        assert!(goods_line(0, &parse_goods_flag("spaceship:1:1").unwrap()).is_err());
    }

    #[test]
    fn amounts_imply_the_answers_and_contradictions_are_refused() {
        let mut s = sheet();
        s.answers.cash_yen = Some(1_500_000);
        s.answers.unaccompanied_packages = Some(2);
        let d = s.resolve(NOW).unwrap().declaration;
        assert!(d.answers.cash_or_gold && d.answers.unaccompanied);
        s.answers.cash_or_gold = Some(false);
        assert_eq!(s.resolve(NOW).unwrap_err().field, "answers.cash_or_gold");

        let mut s = sheet();
        s.goods = Some(vec![parse_goods_flag("watch:1:300000").unwrap()]);
        assert!(s.resolve(NOW).unwrap().declaration.answers.over_allowance);
        s.answers.over_allowance = Some(false);
        let e = s.resolve(NOW).unwrap_err();
        assert_eq!(e.field, "answers.over_allowance");
        assert!(e.problem.contains("goods[0] watch"), "{e}");
    }

    #[test]
    fn family_counts_come_from_the_dates_of_birth() {
        let mut s = sheet();
        s.family.members = Some(vec![
            parse_member_flag("L898903C1:760304").unwrap(),
            parse_member_flag("L898904C9:2012-06-15").unwrap(),
            parse_member_flag("L898905C6:220101:GBR").unwrap(),
        ]);
        let f = s.resolve(NOW).unwrap().declaration.family;
        assert_eq!((f.age_20_plus, f.age_6_to_19, f.under_6), (1, 1, 1));
        assert_eq!(f.members[0].nationality, "UTO");
        assert_eq!(f.members[1].date_of_birth, "120615");
        assert_eq!(f.members[2].nationality, "GBR");
    }

    #[test]
    fn the_model_validation_names_the_field() {
        let mut s = sheet();
        s.holder.date_of_birth = Some("1974-13-01".into());
        assert_eq!(s.resolve(NOW).unwrap_err().field, "holder.date_of_birth");
        let mut s = sheet();
        s.holder.surname = None;
        assert_eq!(s.resolve(NOW).unwrap_err().to_string(), "holder.surname: is required");
    }

    #[test]
    fn yen_has_separators() {
        assert_eq!(yen(0), "0");
        assert_eq!(yen(999), "999");
        assert_eq!(yen(36_540), "36,540");
        assert_eq!(yen(1_000_000), "1,000,000");
    }
}
