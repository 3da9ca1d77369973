//! Machine readable zone (ICAO 9303 Part 3/4): TD3 passports, two lines of 44.
//!
//! Pure and panic-free on any input. Every check digit is verified and reported
//! individually, so a reader can tell a misread character from a forged one.

use serde::Serialize;

/// ICAO 9303 check digit: weights 7, 3, 1; digits count as their value,
/// A-Z as 10-35, '<' as 0. `None` for a character outside the MRZ alphabet.
pub fn check_digit(field: &str) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, c) in field.bytes().enumerate() {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * WEIGHTS[i % 3];
    }
    Some((sum % 10) as u8)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("expected 2 MRZ lines of 44 characters (TD3), got {0} line(s)")]
    LineCount(usize),
    #[error("MRZ line {line} has {len} characters, TD3 lines have 44")]
    LineLength { line: usize, len: usize },
    #[error("MRZ line {line} has the character {ch:?} at column {column}, outside A-Z, 0-9 and '<'")]
    BadCharacter { line: usize, column: usize, ch: char },
    #[error("this is not a passport MRZ (document code {0:?}); TD3 documents start with 'P'")]
    NotAPassport(String),
}

/// Which check digit failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckField {
    DocumentNumber,
    DateOfBirth,
    DateOfExpiry,
    PersonalNumber,
    Composite,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub field: CheckField,
    pub expected: Option<u8>,
    pub found: char,
    pub ok: bool,
}

/// A parsed TD3 MRZ. Names keep the MRZ spelling (filler '<' turned to spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    pub document_code: String,
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD as printed.
    pub date_of_birth: String,
    pub sex: char,
    /// YYMMDD as printed.
    pub date_of_expiry: String,
    pub personal_number: String,
    pub checks: Vec<CheckResult>,
    /// The two lines as read.
    #[serde(skip)]
    pub lines: [String; 2],
}

impl Mrz {
    /// Parse two TD3 lines (extra whitespace around the lines is ignored).
    pub fn parse(text: &str) -> Result<Mrz, MrzError> {
        let lines: Vec<&str> = text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect();
        Self::parse_lines(&lines)
    }

    pub fn parse_lines(lines: &[&str]) -> Result<Mrz, MrzError> {
        if lines.len() != 2 {
            return Err(MrzError::LineCount(lines.len()));
        }
        for (i, l) in lines.iter().enumerate() {
            if l.len() != 44 || !l.is_ascii() {
                return Err(MrzError::LineLength { line: i + 1, len: l.chars().count() });
            }
            if let Some((column, ch)) = l
                .chars()
                .enumerate()
                .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
            {
                return Err(MrzError::BadCharacter { line: i + 1, column: column + 1, ch });
            }
        }
        let (l1, l2) = (lines[0], lines[1]);
        if !l1.starts_with('P') {
            return Err(MrzError::NotAPassport(l1[0..2].to_string()));
        }
        let (surname, given_names) = split_name(&l1[5..44]);
        let check = |field, data: &str, digit_at: usize| {
            let found = l2.as_bytes()[digit_at] as char;
            let expected = check_digit(data);
            // An empty optional field may carry '<' instead of 0 as its check digit.
            let ok = match expected {
                Some(e) => found == char::from(b'0' + e) || (found == '<' && data.bytes().all(|b| b == b'<')),
                None => false,
            };
            CheckResult { field, expected, found, ok }
        };
        let composite_data = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
        let checks = vec![
            check(CheckField::DocumentNumber, &l2[0..9], 9),
            check(CheckField::DateOfBirth, &l2[13..19], 19),
            check(CheckField::DateOfExpiry, &l2[21..27], 27),
            check(CheckField::PersonalNumber, &l2[28..42], 42),
            check(CheckField::Composite, &composite_data, 43),
        ];
        Ok(Mrz {
            document_code: l1[0..2].trim_end_matches('<').to_string(),
            issuing_state: l1[2..5].trim_end_matches('<').to_string(),
            surname,
            given_names,
            document_number: l2[0..9].trim_end_matches('<').to_string(),
            nationality: l2[10..13].trim_end_matches('<').to_string(),
            date_of_birth: l2[13..19].to_string(),
            sex: l2.as_bytes()[20] as char,
            date_of_expiry: l2[21..27].to_string(),
            personal_number: l2[28..42].trim_end_matches('<').to_string(),
            checks,
            lines: [l1.to_string(), l2.to_string()],
        })
    }

    pub fn all_checks_pass(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The MRZ information used to derive the BAC/PACE keys: document number
    /// (with filler) and its check digit, date of birth and its check digit,
    /// date of expiry and its check digit.
    pub fn key_information(&self) -> String {
        let l2 = &self.lines[1];
        format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..28])
    }

    /// Expiry as (year, month, day) with the century resolved for a document
    /// valid at most ten years: 00-69 -> 20xx.
    pub fn expiry_ymd(&self) -> Option<(u32, u32, u32)> {
        let (yy, mm, dd) = yymmdd(&self.date_of_expiry)?;
        Some((if yy < 70 { 2000 + yy } else { 1900 + yy }, mm, dd))
    }

    /// Birth date with the century resolved against `current_year`: a two-digit
    /// year in the future belongs to the previous century.
    pub fn birth_ymd(&self, current_year: u32) -> Option<(u32, u32, u32)> {
        let (yy, mm, dd) = yymmdd(&self.date_of_birth)?;
        let century = current_year / 100 * 100;
        let year = if century + yy > current_year { century - 100 + yy } else { century + yy };
        Some((year, mm, dd))
    }

    /// The holder's full name for display only (never logged).
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_names, self.surname).trim().to_string()
    }
}

fn yymmdd(s: &str) -> Option<(u32, u32, u32)> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let (y, m, d) = (n(0..2)?, n(2..4)?, n(4..6)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

fn split_name(field: &str) -> (String, String) {
    let clean = |s: &str| s.split('<').filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    match field.split_once("<<") {
        Some((sur, given)) => (clean(sur), clean(given)),
        None => (clean(field), String::new()),
    }
}

/// Builds TD3 lines from fields (used by the simulators and tests). Names and
/// numbers must already be in the MRZ alphabet; too-long names are truncated
/// as ICAO 9303 allows.
/// The printed fields of a TD3 data page (what an issuer puts in the MRZ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Td3Fields {
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD
    pub date_of_birth: String,
    pub sex: char,
    /// YYMMDD
    pub date_of_expiry: String,
}

impl Td3Fields {
    /// The two MRZ lines.
    pub fn mrz_lines(&self) -> [String; 2] {
        build_td3(self)
    }
}

pub fn build_td3(f: &Td3Fields) -> [String; 2] {
    let (issuing_state, surname, given_names, document_number) =
        (f.issuing_state.as_str(), f.surname.as_str(), f.given_names.as_str(), f.document_number.as_str());
    let (nationality, date_of_birth, sex, date_of_expiry) =
        (f.nationality.as_str(), f.date_of_birth.as_str(), f.sex, f.date_of_expiry.as_str());
    let pad = |s: &str, n: usize| {
        let mut s: String = s.replace(' ', "<").chars().take(n).collect();
        while s.len() < n {
            s.push('<');
        }
        s
    };
    let name = format!("{}<<{}", surname.replace(' ', "<"), given_names.replace(' ', "<"));
    let l1 = format!("P<{}{}", pad(issuing_state, 3), pad(&name, 39));
    let doc = pad(document_number, 9);
    let personal = pad("", 14);
    let cd = |s: &str| char::from(b'0' + check_digit(s).unwrap_or(0));
    let mut l2 = format!(
        "{}{}{}{}{}{}{}{}{}{}",
        doc,
        cd(&doc),
        pad(nationality, 3),
        date_of_birth,
        cd(date_of_birth),
        sex,
        date_of_expiry,
        cd(date_of_expiry),
        personal,
        '<'
    );
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push(cd(&composite));
    [l1, l2]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIMEN: &str =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn icao_check_digit_vectors() {
        assert_eq!(check_digit("L898902C<"), Some(3));
        assert_eq!(check_digit("690806"), Some(1));
        assert_eq!(check_digit("940623"), Some(6));
        assert_eq!(check_digit("520727"), Some(3));
        assert_eq!(check_digit("ab"), None);
    }

    #[test]
    fn parses_icao_specimen() {
        let m = Mrz::parse(SPECIMEN).unwrap();
        assert_eq!(m.issuing_state, "UTO");
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.document_number, "L898902C3");
        assert_eq!(m.date_of_birth, "740812");
        assert_eq!(m.sex, 'F');
        assert_eq!(m.date_of_expiry, "120415");
        assert_eq!(m.personal_number, "ZE184226B");
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        assert_eq!(m.expiry_ymd(), Some((2012, 4, 15)));
        assert_eq!(m.birth_ymd(2026), Some((1974, 8, 12)));
    }

    #[test]
    fn key_information_matches_appendix_d() {
        // Appendix D.2: document L898902C<, born 690806, expiring 940623.
        let l = build_td3(&Td3Fields {
            issuing_state: "UTO".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            document_number: "L898902C".into(),
            nationality: "UTO".into(),
            date_of_birth: "690806".into(),
            sex: 'F',
            date_of_expiry: "940623".into(),
        });
        let m = Mrz::parse_lines(&[&l[0], &l[1]]).unwrap();
        assert_eq!(m.key_information(), "L898902C<369080619406236");
        assert!(m.all_checks_pass());
    }

    #[test]
    fn a_flipped_digit_fails_its_check_and_the_composite() {
        let bad = SPECIMEN.replace("7408122", "7408132");
        let m = Mrz::parse(&bad).unwrap();
        let failed: Vec<_> = m.checks.iter().filter(|c| !c.ok).map(|c| c.field).collect();
        assert_eq!(failed, vec![CheckField::DateOfBirth, CheckField::Composite]);
    }

    #[test]
    fn malformed_input_gives_typed_errors() {
        assert_eq!(Mrz::parse(""), Err(MrzError::LineCount(0)));
        assert!(matches!(Mrz::parse("P<UTO\nL898"), Err(MrzError::LineLength { line: 1, .. })));
        let lower = SPECIMEN.replace("ERIKSSON", "eriksson");
        assert!(matches!(Mrz::parse(&lower), Err(MrzError::BadCharacter { line: 1, column: 6, ch: 'e' })));
        let idcard = SPECIMEN.replacen("P<", "I<", 1);
        assert!(matches!(Mrz::parse(&idcard), Err(MrzError::NotAPassport(_))));
        // Multi-byte characters never panic on slicing.
        let weird = "é".repeat(44) + "\n" + &"<".repeat(44);
        assert!(Mrz::parse(&weird).is_err());
    }

    #[test]
    fn build_and_parse_round_trip() {
        let l = build_td3(&Td3Fields {
            issuing_state: "JPN".into(),
            surname: "YAMADA".into(),
            given_names: "HANAKO".into(),
            document_number: "TK1234567".into(),
            nationality: "JPN".into(),
            date_of_birth: "900101".into(),
            sex: 'F',
            date_of_expiry: "310101".into(),
        });
        let m = Mrz::parse_lines(&[&l[0], &l[1]]).unwrap();
        assert!(m.all_checks_pass());
        assert_eq!(m.surname, "YAMADA");
        assert_eq!(m.given_names, "HANAKO");
        assert_eq!(m.document_number, "TK1234567");
    }
}
