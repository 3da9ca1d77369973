//! The declaration body of payload version 2: CBOR (RFC 8949) with integer
//! keys, through `minicbor`. Spec: docs/declaration-qr.md, "Body".
//!
//! ```text
//! declaration = { 0: flight, 1: departure, 2: arrival YYYYMMDD (uint),
//!                 3: holder, ? 4: family, ? 5: answers, ? 6: [* goods line] }
//! holder      = { ? 0: surname, ? 1: given names, ? 2: nationality, ? 3: date of birth,
//!                 ? 4: passport number, ? 5: occupation, ? 6: address in Japan, ? 7: phone }
//! family      = { ? 0: 20+, ? 1: 6-19, ? 2: under 6, ? 3: [* member] }
//! member      = [passport number, date of birth, ? nationality (left out: the holder's)]
//! date of birth = uint (YYMMDD, when all digits) | text (with MRZ '<' fillers)
//! answers     = { ? 0: flags, ? 1: cash yen, ? 2: gold grams, ? 3: unaccompanied packages }
//! goods line  = [kind, quantity, value yen, ? description]
//!             | [alcohol kind, bottles, value yen, bottle ml, ? description]
//! description = text | uint (index into DESCRIPTIONS)
//! ```
//!
//! Empty texts, zeros, empty lists and default records are left out; map
//! keys ascend; lengths are definite; integers are as short as CBOR allows.
//! That is the only accepted form: [`decode`] re-encodes what it read and
//! refuses anything that differs ([`BodyError::NonCanonical`]), so one
//! declaration has one encoding. Unknown keys and kinds are refused, not
//! skipped (a customs declaration the kiosk does not fully understand is not
//! accepted); new fields come with a new payload version.
//!
//! [`decode`] never panics: every length comes from the input and every
//! step consumes input, so it stops at the end of the bytes.

use std::convert::Infallible;

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

use super::{
    AlcoholClass, Answers, Declaration, Family, FamilyMember, GoodsKind, GoodsLine, Holder, InvalidField,
    parse_date,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the declaration is not well-formed CBOR: {0}")]
    Cbor(String),
    #[error("the declaration has a field the kiosk does not know ({within} key {key})")]
    UnknownField { within: &'static str, key: u64 },
    #[error("the declaration lists goods of an unknown kind (code {0})")]
    UnknownGoodsKind(u64),
    #[error("the declaration names goods by an unknown code ({0})")]
    UnknownDescription(u64),
    #[error("the declaration answers have unknown flags ({0:#x})")]
    UnknownFlags(u64),
    #[error("the declaration's {0} has the wrong shape")]
    Shape(&'static str),
    #[error("the declaration has no {0}")]
    Missing(&'static str),
    #[error("the declaration has {0} stray bytes after its end")]
    Trailing(usize),
    #[error(
        "the declaration is not in canonical form (key order, duplicate keys, default values or integer sizes)"
    )]
    NonCanonical,
    #[error(transparent)]
    Invalid(#[from] InvalidField),
}

impl From<minicbor::decode::Error> for BodyError {
    fn from(e: minicbor::decode::Error) -> Self {
        BodyError::Cbor(e.to_string())
    }
}

impl From<minicbor::encode::Error<Infallible>> for BodyError {
    fn from(e: minicbor::encode::Error<Infallible>) -> Self {
        BodyError::Cbor(e.to_string())
    }
}

/// Answer flag bits (key 0 of the answers map).
pub mod flags {
    pub const PROHIBITED: u64 = 1 << 0;
    pub const OVER_ALLOWANCE: u64 = 1 << 1;
    pub const COMMERCIAL: u64 = 1 << 2;
    pub const CARRIED_FOR_OTHERS: u64 = 1 << 3;
    pub const CASH_OR_GOLD: u64 = 1 << 4;
    pub const UNACCOMPANIED: u64 = 1 << 5;
    pub const ALL: u64 = 0x3f;
}

/// Goods kind codes (element 0 of a goods line).
pub mod kind_code {
    pub const OTHER: u64 = 0;
    pub const CIGARETTES: u64 = 1;
    pub const CIGARS: u64 = 2;
    pub const HEATED_TOBACCO: u64 = 3;
    pub const OTHER_TOBACCO: u64 = 4;
    pub const PERFUME: u64 = 5;
    pub const WHISKY_BRANDY: u64 = 16;
    pub const RUM_GIN_VODKA: u64 = 17;
    pub const LIQUEUR: u64 = 18;
    pub const DISTILLED: u64 = 19;
    pub const WINE_BEER_OTHER: u64 = 20;
}

fn kind_to_code(kind: GoodsKind) -> u64 {
    use kind_code::*;
    match kind {
        GoodsKind::Other => OTHER,
        GoodsKind::Cigarettes => CIGARETTES,
        GoodsKind::Cigars => CIGARS,
        GoodsKind::HeatedTobacco => HEATED_TOBACCO,
        GoodsKind::OtherTobacco => OTHER_TOBACCO,
        GoodsKind::Perfume => PERFUME,
        GoodsKind::Alcohol { class, .. } => match class {
            AlcoholClass::WhiskyBrandy => WHISKY_BRANDY,
            AlcoholClass::RumGinVodka => RUM_GIN_VODKA,
            AlcoholClass::Liqueur => LIQUEUR,
            AlcoholClass::Distilled => DISTILLED,
            AlcoholClass::WineBeerOther => WINE_BEER_OTHER,
        },
    }
}

/// A kind from its code; alcohol classes come with a placeholder bottle size
/// that the caller replaces.
fn kind_from_code(code: u64) -> Result<GoodsKind, BodyError> {
    use kind_code::*;
    let alcohol = |class| GoodsKind::Alcohol { class, bottle_ml: 0 };
    Ok(match code {
        OTHER => GoodsKind::Other,
        CIGARETTES => GoodsKind::Cigarettes,
        CIGARS => GoodsKind::Cigars,
        HEATED_TOBACCO => GoodsKind::HeatedTobacco,
        OTHER_TOBACCO => GoodsKind::OtherTobacco,
        PERFUME => GoodsKind::Perfume,
        WHISKY_BRANDY => alcohol(AlcoholClass::WhiskyBrandy),
        RUM_GIN_VODKA => alcohol(AlcoholClass::RumGinVodka),
        LIQUEUR => alcohol(AlcoholClass::Liqueur),
        DISTILLED => alcohol(AlcoholClass::Distilled),
        WINE_BEER_OTHER => alcohol(AlcoholClass::WineBeerOther),
        other => return Err(BodyError::UnknownGoodsKind(other)),
    })
}

/// Common goods names, sent as their index (one byte) instead of their text:
/// the app offers them in a list. Entries are only ever appended (a kiosk
/// refuses a code it does not know); changing one needs a new payload version.
pub const DESCRIPTIONS: [&str; 24] = [
    "handbag",
    "wallet",
    "watch",
    "jewellery",
    "clothing",
    "shoes",
    "sunglasses",
    "cosmetics",
    "camera",
    "smartphone",
    "laptop",
    "tablet",
    "headphones",
    "game console",
    "toys",
    "golf clubs",
    "chocolate",
    "sweets",
    "tea",
    "coffee",
    "food",
    "books",
    "art",
    "souvenirs",
];

type Enc = Encoder<Vec<u8>>;
type EncResult = Result<(), minicbor::encode::Error<Infallible>>;

/// Encode a declaration (validated first).
pub fn encode(decl: &Declaration) -> Result<Vec<u8>, BodyError> {
    decl.validate()?;
    let mut e = Encoder::new(Vec::with_capacity(256));
    encode_declaration(&mut e, decl)?;
    Ok(e.into_writer())
}

fn encode_declaration(e: &mut Enc, d: &Declaration) -> EncResult {
    // Validated: the date parses.
    let (y, m, day) = parse_date(&d.arrival_date).unwrap_or((0, 0, 0));
    let arrival = u32::from(y) * 10_000 + u32::from(m) * 100 + u32::from(day);
    let family = d.family != Family::default();
    let answers = d.answers != Answers::default();
    let goods = !d.goods.is_empty();
    e.map(4 + u64::from(family) + u64::from(answers) + u64::from(goods))?;
    e.u8(0)?.str(&d.flight)?;
    e.u8(1)?.str(&d.departure)?;
    e.u8(2)?.u32(arrival)?;
    e.u8(3)?;
    encode_holder(e, &d.holder)?;
    if family {
        e.u8(4)?;
        encode_family(e, &d.family, &d.holder.nationality)?;
    }
    if answers {
        e.u8(5)?;
        encode_answers(e, &d.answers)?;
    }
    if goods {
        e.u8(6)?.array(d.goods.len() as u64)?;
        for g in &d.goods {
            encode_goods_line(e, g)?;
        }
    }
    Ok(())
}

fn holder_fields(h: &Holder) -> [&str; 8] {
    [
        &h.surname,
        &h.given_names,
        &h.nationality,
        &h.date_of_birth,
        &h.passport_number,
        &h.occupation,
        &h.address_in_japan,
        &h.phone,
    ]
}

fn encode_holder(e: &mut Enc, h: &Holder) -> EncResult {
    let fields = holder_fields(h);
    e.map(fields.iter().filter(|s| !s.is_empty()).count() as u64)?;
    for (k, s) in fields.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
        e.u8(k as u8)?;
        if k == 3 {
            encode_dob(e, s)?;
        } else {
            e.str(s)?;
        }
    }
    Ok(())
}

/// A date of birth: all digits as a uint, otherwise (MRZ `<` fillers) text.
fn encode_dob(e: &mut Enc, dob: &str) -> EncResult {
    match dob.parse::<u32>() {
        Ok(n) if dob.len() == 6 && dob.bytes().all(|b| b.is_ascii_digit()) => e.u32(n)?,
        _ => e.str(dob)?,
    };
    Ok(())
}

fn decode_dob(d: &mut Decoder<'_>) -> Result<String, BodyError> {
    if d.datatype()? == Type::String {
        return text(d);
    }
    let n = d.u32()?;
    // More than six digits: refused by validation.
    Ok(format!("{n:06}"))
}

/// A map of the non-zero numbers among `fields`, keyed by position.
fn encode_uint_map(
    e: &mut Enc,
    fields: &[u64],
    extra: u64,
) -> Result<(), minicbor::encode::Error<Infallible>> {
    e.map(fields.iter().filter(|&&v| v != 0).count() as u64 + extra)?;
    for (k, &v) in fields.iter().enumerate().filter(|(_, v)| **v != 0) {
        e.u8(k as u8)?.u64(v)?;
    }
    Ok(())
}

fn encode_family(e: &mut Enc, f: &Family, holder_nationality: &str) -> EncResult {
    let members = !f.members.is_empty();
    encode_uint_map(
        e,
        &[u64::from(f.age_20_plus), u64::from(f.age_6_to_19), u64::from(f.under_6)],
        u64::from(members),
    )?;
    if members {
        e.u8(3)?.array(f.members.len() as u64)?;
        for m in &f.members {
            // The holder's nationality is left out.
            let same = m.nationality == holder_nationality;
            e.array(if same { 2 } else { 3 })?.str(&m.passport_number)?;
            encode_dob(e, &m.date_of_birth)?;
            if !same {
                e.str(&m.nationality)?;
            }
        }
    }
    Ok(())
}

fn answer_flags(a: &Answers) -> u64 {
    [
        (a.prohibited, flags::PROHIBITED),
        (a.over_allowance, flags::OVER_ALLOWANCE),
        (a.commercial, flags::COMMERCIAL),
        (a.carried_for_others, flags::CARRIED_FOR_OTHERS),
        (a.cash_or_gold, flags::CASH_OR_GOLD),
        (a.unaccompanied, flags::UNACCOMPANIED),
    ]
    .into_iter()
    .filter(|(yes, _)| *yes)
    .fold(0, |acc, (_, bit)| acc | bit)
}

fn encode_answers(e: &mut Enc, a: &Answers) -> EncResult {
    encode_uint_map(
        e,
        &[answer_flags(a), a.cash_yen, u64::from(a.gold_grams), u64::from(a.unaccompanied_packages)],
        0,
    )
}

fn encode_goods_line(e: &mut Enc, g: &GoodsLine) -> EncResult {
    let bottle = match g.kind {
        GoodsKind::Alcohol { bottle_ml, .. } => Some(bottle_ml),
        _ => None,
    };
    let n = 3 + u64::from(bottle.is_some()) + u64::from(!g.description.is_empty());
    e.array(n)?.u64(kind_to_code(g.kind))?.u32(g.quantity)?.u64(g.value_yen)?;
    if let Some(ml) = bottle {
        e.u16(ml)?;
    }
    if !g.description.is_empty() {
        match DESCRIPTIONS.iter().position(|&d| d == g.description) {
            Some(code) => e.u8(code as u8)?,
            None => e.str(&g.description)?,
        };
    }
    Ok(())
}

/// Decode and validate a body; only the canonical encoding is accepted.
pub fn decode(body: &[u8]) -> Result<Declaration, BodyError> {
    let mut d = Decoder::new(body);
    let decl = decode_declaration(&mut d)?;
    let rest = body.len().saturating_sub(d.position());
    if rest > 0 {
        return Err(BodyError::Trailing(rest));
    }
    decl.validate()?;
    if encode(&decl)? != body {
        return Err(BodyError::NonCanonical);
    }
    Ok(decl)
}

/// A definite-length map's entry count.
fn map_len(d: &mut Decoder<'_>, what: &'static str) -> Result<u64, BodyError> {
    if d.datatype()? != Type::Map {
        return Err(BodyError::Shape(what));
    }
    d.map()?.ok_or(BodyError::Shape(what))
}

/// A definite-length array's element count.
fn array_len(d: &mut Decoder<'_>, what: &'static str) -> Result<u64, BodyError> {
    if d.datatype()? != Type::Array {
        return Err(BodyError::Shape(what));
    }
    d.array()?.ok_or(BodyError::Shape(what))
}

fn text(d: &mut Decoder<'_>) -> Result<String, BodyError> {
    Ok(d.str()?.to_string())
}

fn decode_declaration(d: &mut Decoder<'_>) -> Result<Declaration, BodyError> {
    let mut decl = Declaration {
        flight: String::new(),
        departure: String::new(),
        arrival_date: String::new(),
        holder: decode_holder_fields([const { String::new() }; 8]),
        family: Family::default(),
        answers: Answers::default(),
        goods: Vec::new(),
    };
    let mut arrival = None;
    for _ in 0..map_len(d, "top-level record")? {
        match d.u64()? {
            0 => decl.flight = text(d)?,
            1 => decl.departure = text(d)?,
            2 => arrival = Some(d.u32()?),
            3 => decl.holder = decode_holder(d)?,
            4 => decl.family = decode_family(d)?,
            5 => decl.answers = decode_answers(d)?,
            6 => {
                let n = array_len(d, "goods list")?;
                // Every line takes at least one byte: a bound from the input.
                let mut goods = Vec::new();
                for _ in 0..n {
                    goods.push(decode_goods_line(d)?);
                }
                decl.goods = goods;
            }
            key => return Err(BodyError::UnknownField { within: "declaration", key }),
        }
    }
    for m in &mut decl.family.members {
        if m.nationality.is_empty() {
            m.nationality = decl.holder.nationality.clone();
        }
    }
    let a = arrival.ok_or(BodyError::Missing("arrival date"))?;
    decl.arrival_date = format!("{:04}-{:02}-{:02}", a / 10_000, a / 100 % 100, a % 100);
    Ok(decl)
}

fn decode_holder_fields(f: [String; 8]) -> Holder {
    let [
        surname,
        given_names,
        nationality,
        date_of_birth,
        passport_number,
        occupation,
        address_in_japan,
        phone,
    ] = f;
    Holder {
        surname,
        given_names,
        nationality,
        date_of_birth,
        passport_number,
        occupation,
        address_in_japan,
        phone,
    }
}

fn decode_holder(d: &mut Decoder<'_>) -> Result<Holder, BodyError> {
    let mut f = [const { String::new() }; 8];
    for _ in 0..map_len(d, "holder")? {
        let key = d.u64()?;
        let slot = f
            .get_mut(key as usize)
            .filter(|_| key < 8)
            .ok_or(BodyError::UnknownField { within: "holder", key })?;
        *slot = if key == 3 { decode_dob(d)? } else { text(d)? };
    }
    Ok(decode_holder_fields(f))
}

fn decode_family(d: &mut Decoder<'_>) -> Result<Family, BodyError> {
    let mut f = Family::default();
    for _ in 0..map_len(d, "family")? {
        match d.u64()? {
            0 => f.age_20_plus = d.u8()?,
            1 => f.age_6_to_19 = d.u8()?,
            2 => f.under_6 = d.u8()?,
            3 => {
                let n = array_len(d, "family members")?;
                let mut members = Vec::new();
                for _ in 0..n {
                    let len = array_len(d, "family member")?;
                    if !(2..=3).contains(&len) {
                        return Err(BodyError::Shape("family member"));
                    }
                    let passport_number = text(d)?;
                    let date_of_birth = decode_dob(d)?;
                    // Left out: the holder's, filled in by the caller.
                    let nationality = if len == 3 { text(d)? } else { String::new() };
                    members.push(FamilyMember { passport_number, nationality, date_of_birth });
                }
                f.members = members;
            }
            key => return Err(BodyError::UnknownField { within: "family", key }),
        }
    }
    Ok(f)
}

fn decode_answers(d: &mut Decoder<'_>) -> Result<Answers, BodyError> {
    let mut a = Answers::default();
    for _ in 0..map_len(d, "answers")? {
        match d.u64()? {
            0 => {
                let bits = d.u64()?;
                if bits & !flags::ALL != 0 {
                    return Err(BodyError::UnknownFlags(bits & !flags::ALL));
                }
                a.prohibited = bits & flags::PROHIBITED != 0;
                a.over_allowance = bits & flags::OVER_ALLOWANCE != 0;
                a.commercial = bits & flags::COMMERCIAL != 0;
                a.carried_for_others = bits & flags::CARRIED_FOR_OTHERS != 0;
                a.cash_or_gold = bits & flags::CASH_OR_GOLD != 0;
                a.unaccompanied = bits & flags::UNACCOMPANIED != 0;
            }
            1 => a.cash_yen = d.u64()?,
            2 => a.gold_grams = d.u32()?,
            3 => a.unaccompanied_packages = d.u16()?,
            key => return Err(BodyError::UnknownField { within: "answers", key }),
        }
    }
    Ok(a)
}

fn decode_goods_line(d: &mut Decoder<'_>) -> Result<GoodsLine, BodyError> {
    let len = array_len(d, "goods line")?;
    let mut kind = kind_from_code(d.u64()?)?;
    let fixed = if kind.is_alcohol() { 4 } else { 3 };
    if len != fixed && len != fixed + 1 {
        return Err(BodyError::Shape("goods line"));
    }
    let quantity = d.u32()?;
    let value_yen = d.u64()?;
    if let GoodsKind::Alcohol { bottle_ml, .. } = &mut kind {
        *bottle_ml = d.u16()?;
    }
    let description = if len == fixed {
        String::new()
    } else if d.datatype()? == Type::String {
        text(d)?
    } else {
        let code = d.u64()?;
        let known = usize::try_from(code).ok().and_then(|i| DESCRIPTIONS.get(i));
        known.ok_or(BodyError::UnknownDescription(code))?.to_string()
    };
    Ok(GoodsLine { kind, description, quantity, value_yen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::tests::{family_of_four, sample};

    #[test]
    fn round_trip_and_size() {
        for decl in [sample(), family_of_four()] {
            let bytes = encode(&decl).unwrap();
            assert_eq!(decode(&bytes).unwrap(), decl);
        }
        let n = encode(&sample()).unwrap().len();
        assert!(n <= 114, "{n} bytes");
    }

    #[test]
    fn defaults_are_left_out() {
        let bytes = encode(&sample()).unwrap();
        // Four entries: flight, departure, arrival, holder.
        assert_eq!(bytes[0], 0xa4);
        assert_eq!(&bytes[1..8], &[0x00, 0x65, b'N', b'H', b'2', b'1', b'2']);
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        let bytes = encode(&sample()).unwrap();
        // The flight key (0) as a two-byte integer.
        let mut long_key = vec![0xa4, 0x18, 0x00];
        long_key.extend_from_slice(&bytes[2..]);
        assert_eq!(decode(&long_key), Err(BodyError::NonCanonical));
        // An explicit empty family record.
        let mut with_empty = bytes.clone();
        with_empty[0] = 0xa5;
        with_empty.extend_from_slice(&[0x04, 0xa0]);
        assert_eq!(decode(&with_empty), Err(BodyError::NonCanonical));
        // The flight given twice.
        let mut dup = vec![0xa5];
        dup.extend_from_slice(&bytes[1..8]);
        dup.extend_from_slice(&bytes[1..]);
        assert_eq!(decode(&dup), Err(BodyError::NonCanonical));
    }

    #[test]
    fn each_structural_problem_has_its_own_error() {
        let bytes = encode(&sample()).unwrap();
        let mut unknown = bytes.clone();
        unknown[0] = 0xa5;
        unknown.extend_from_slice(&[0x09, 0x00]);
        assert_eq!(decode(&unknown), Err(BodyError::UnknownField { within: "declaration", key: 9 }));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing), Err(BodyError::Trailing(1)));
        assert!(matches!(decode(&bytes[..bytes.len() - 2]), Err(BodyError::Cbor(_))));
        assert_eq!(decode(&[0x80]), Err(BodyError::Shape("top-level record")));
        assert_eq!(decode(&[0xbf, 0xff]), Err(BodyError::Shape("top-level record")));
        assert_eq!(decode(&[0xa0]), Err(BodyError::Missing("arrival date")));
        // A goods line of kind 9.
        let mut d = sample();
        d.goods.push(GoodsLine {
            kind: GoodsKind::Other,
            description: "x".into(),
            quantity: 1,
            value_yen: 1,
        });
        let mut g = encode(&d).unwrap();
        let at = g.len() - 6; // [0, 1, 1, "x"] = 84 00 01 01 61 78
        assert_eq!(&g[at..], &[0x84, 0x00, 0x01, 0x01, 0x61, b'x']);
        g[at + 1] = 9;
        assert_eq!(decode(&g), Err(BodyError::UnknownGoodsKind(9)));
        // Answer flags beyond the six questions.
        let mut d = sample();
        d.answers.prohibited = true;
        let mut a = encode(&d).unwrap();
        let at = a.len() - 3; // 05 a1 00 01
        assert_eq!(&a[at - 1..], &[0x05, 0xa1, 0x00, 0x01]);
        a.pop();
        a.extend_from_slice(&[0x18, 0x41]);
        assert_eq!(decode(&a), Err(BodyError::UnknownFlags(0x40)));
    }

    #[test]
    fn invalid_content_is_refused_after_decoding() {
        let mut d = sample();
        d.arrival_date = "2026-11-23".into();
        let mut bytes = encode(&d).unwrap();
        // arrival 20261123 = 1a 01 35 29 03: make it 20261199.
        let at = bytes.windows(5).position(|w| w == [0x1a, 0x01, 0x35, 0x29, 0x03]).unwrap();
        bytes[at + 4] = 0x03 + 76;
        assert!(matches!(decode(&bytes), Err(BodyError::Invalid(f)) if f.field == "arrival_date"));
    }
}
