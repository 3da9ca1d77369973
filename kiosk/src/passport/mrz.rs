//! Machine readable zone (ICAO 9303 Parts 3-6): TD1 identity cards (3 lines of
//! 30), TD2 documents (2 lines of 36) and TD3 passports (2 lines of 44).
//!
//! Pure and panic-free on any input. Every check digit is verified and reported
//! individually, so a reader can tell a misread character from a forged one.
//! Characters that OCR commonly confuses (O/0, I/1, B/8, ...) are reported
//! where the position does not allow them, never corrected: the text stays as
//! read, and a failed check digit says which single substitution would make it
//! hold, for the officer to judge.

use serde::Serialize;

/// ICAO 9303 check digit: weights 7, 3, 1; digits count as their value,
/// A-Z as 10-35, '<' as 0. `None` for a character outside the MRZ alphabet.
pub fn check_digit(field: &str) -> Option<u8> {
    check_digit_of(field.bytes())
}

fn check_digit_of(field: impl Iterator<Item = u8>) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (c, weight) in field.zip(WEIGHTS.iter().cycle()) {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            b'<' => 0,
            _ => return None,
        };
        // Reduce as we go so arbitrarily long input cannot overflow.
        sum = (sum + v * weight) % 10;
    }
    Some(sum as u8)
}

/// The MRZ layout (ICAO 9303 Part 5: TD1, Part 6: TD2, Part 4: TD3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MrzFormat {
    /// Identity cards: 3 lines of 30 characters.
    Td1,
    /// 2 lines of 36 characters.
    Td2,
    /// Passports: 2 lines of 44 characters.
    Td3,
}

impl MrzFormat {
    pub fn line_count(self) -> usize {
        match self {
            MrzFormat::Td1 => 3,
            MrzFormat::Td2 | MrzFormat::Td3 => 2,
        }
    }

    pub fn line_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 => 36,
            MrzFormat::Td3 => 44,
        }
    }

    /// Length of the lines written one after the other, as DG1 stores them
    /// (90, 72 or 88 characters).
    pub fn concatenated_len(self) -> usize {
        self.line_count() * self.line_len()
    }

    /// The format whose concatenated MRZ has `len` characters.
    pub fn from_concatenated_len(len: usize) -> Option<MrzFormat> {
        [MrzFormat::Td1, MrzFormat::Td2, MrzFormat::Td3].into_iter().find(|f| f.concatenated_len() == len)
    }

    fn layout(self) -> &'static Layout {
        match self {
            MrzFormat::Td1 => &TD1,
            MrzFormat::Td2 => &TD2,
            MrzFormat::Td3 => &TD3,
        }
    }
}

impl std::fmt::Display for MrzFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error(
        "expected 3 MRZ lines (TD1) or 2 (TD2, TD3), or one run of 90, 72 or 88 characters as DG1 \
         stores them; got {0} line(s)"
    )]
    LineCount(usize),
    #[error("MRZ line {line} has {len} characters, {format} lines have {expected}")]
    LineLength { line: usize, len: usize, format: MrzFormat, expected: usize },
    #[error(
        "2 MRZ lines of {len} characters match no format: TD2 lines have 36 characters, TD3 lines \
         44; check that the whole MRZ was captured"
    )]
    UnknownLayout { len: usize },
    #[error("MRZ line {line} has the character {ch:?} at column {column}, outside A-Z, 0-9 and '<'")]
    BadCharacter { line: usize, column: usize, ch: char },
    #[error("this is not a passport MRZ (document code {0:?}); TD3 documents start with 'P'")]
    NotAPassport(String),
    #[error(
        "document code {code:?} is not valid for a {format} travel document, which starts with \
         'I', 'A' or 'C' (visas are not read here)"
    )]
    NotATravelDocument { format: MrzFormat, code: String },
}

/// Which check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckField {
    DocumentNumber,
    DateOfBirth,
    DateOfExpiry,
    /// TD3 only: the personal number (optional data) field.
    PersonalNumber,
    Composite,
}

/// A character that OCR commonly confuses with another, found where the MRZ
/// does not allow it (a letter in a date or check digit, a digit in a name or
/// country code), or a substitution that would make a failed check digit hold.
/// Positions are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Confusable {
    pub line: usize,
    pub column: usize,
    pub found: char,
    pub could_be: char,
}

/// One check digit as read and as computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub field: CheckField,
    /// The digit computed from the data; `None` if it cannot be computed.
    pub expected: Option<u8>,
    /// The character printed in the check digit position.
    pub found: char,
    pub ok: bool,
    /// Where the check digit is printed (1-based).
    pub line: usize,
    pub column: usize,
    /// When the check fails: the single OCR-confusable substitutions in the
    /// checked data or the digit that would make it hold. Nothing is changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Confusable>,
    /// `suggestions` in words, for an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A parsed MRZ. Names keep the MRZ spelling (filler '<' turned to spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    pub format: MrzFormat,
    pub document_code: String,
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    /// The full document number, including the part a TD1 or TD2 document
    /// longer than 9 characters continues in its optional data.
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD as printed.
    pub date_of_birth: String,
    pub sex: char,
    /// YYMMDD as printed.
    pub date_of_expiry: String,
    /// TD3: the personal number (optional data) field; empty for TD1 and TD2.
    pub personal_number: String,
    /// TD1 line 1 and TD2 optional data (after a long document number's
    /// continuation, if any); empty for TD3.
    pub optional_data: String,
    /// TD1 line 2 optional data; empty otherwise.
    pub optional_data_2: String,
    pub checks: Vec<CheckResult>,
    /// OCR-confusable characters where the format does not allow them.
    pub confusables: Vec<Confusable>,
    /// The lines as read (2 or 3).
    #[serde(skip)]
    pub lines: Vec<String>,
}

/// A run of characters on one line (0-based, `end` exclusive).
#[derive(Debug, Clone, Copy)]
struct Span {
    line: usize,
    start: usize,
    end: usize,
}

const fn span(line: usize, start: usize, end: usize) -> Span {
    Span { line, start, end }
}

const fn at(line: usize, column: usize) -> Span {
    Span { line, start: column, end: column + 1 }
}

impl Span {
    fn first(self) -> Pos {
        Pos { line: self.line, column: self.start }
    }

    fn positions(self) -> impl Iterator<Item = Pos> {
        (self.start..self.end).map(move |column| Pos { line: self.line, column })
    }
}

/// One character position (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    column: usize,
}

/// Where each field sits in one format.
struct Layout {
    document_code: Span,
    issuing_state: Span,
    name: Span,
    document_number: Span,
    document_number_check: Span,
    nationality: Span,
    birth: Span,
    birth_check: Span,
    sex: Span,
    expiry: Span,
    expiry_check: Span,
    /// TD1 line 1 / TD2 optional data, TD3 personal number. A long document
    /// number (TD1, TD2) continues here.
    optional: Span,
    /// TD3 personal number check digit.
    optional_check: Option<Span>,
    /// TD1 line 2 optional data.
    optional_2: Option<Span>,
    composite: &'static [Span],
    composite_check: Span,
    long_document_number: bool,
}

const TD1: Layout = Layout {
    document_code: span(0, 0, 2),
    issuing_state: span(0, 2, 5),
    document_number: span(0, 5, 14),
    document_number_check: at(0, 14),
    optional: span(0, 15, 30),
    birth: span(1, 0, 6),
    birth_check: at(1, 6),
    sex: at(1, 7),
    expiry: span(1, 8, 14),
    expiry_check: at(1, 14),
    nationality: span(1, 15, 18),
    optional_2: Some(span(1, 18, 29)),
    optional_check: None,
    composite: &[span(0, 5, 30), span(1, 0, 7), span(1, 8, 15), span(1, 18, 29)],
    composite_check: at(1, 29),
    name: span(2, 0, 30),
    long_document_number: true,
};

const TD2: Layout = Layout {
    document_code: span(0, 0, 2),
    issuing_state: span(0, 2, 5),
    name: span(0, 5, 36),
    document_number: span(1, 0, 9),
    document_number_check: at(1, 9),
    nationality: span(1, 10, 13),
    birth: span(1, 13, 19),
    birth_check: at(1, 19),
    sex: at(1, 20),
    expiry: span(1, 21, 27),
    expiry_check: at(1, 27),
    optional: span(1, 28, 35),
    optional_check: None,
    optional_2: None,
    composite: &[span(1, 0, 10), span(1, 13, 20), span(1, 21, 35)],
    composite_check: at(1, 35),
    long_document_number: true,
};

const TD3: Layout = Layout {
    document_code: span(0, 0, 2),
    issuing_state: span(0, 2, 5),
    name: span(0, 5, 44),
    document_number: span(1, 0, 9),
    document_number_check: at(1, 9),
    nationality: span(1, 10, 13),
    birth: span(1, 13, 19),
    birth_check: at(1, 19),
    sex: at(1, 20),
    expiry: span(1, 21, 27),
    expiry_check: at(1, 27),
    optional: span(1, 28, 42),
    optional_check: Some(at(1, 42)),
    optional_2: None,
    composite: &[span(1, 0, 10), span(1, 13, 20), span(1, 21, 43)],
    composite_check: at(1, 43),
    // ICAO 9303 Part 4 has no continuation for TD3 document numbers.
    long_document_number: false,
};

/// The validated characters of the MRZ (ASCII, every line of the format's
/// length), read without indexing that could panic.
#[derive(Clone)]
struct Grid(Vec<Vec<u8>>);

impl Grid {
    fn get(&self, p: Pos) -> u8 {
        self.0.get(p.line).and_then(|l| l.get(p.column)).copied().unwrap_or(b'<')
    }

    fn set(&mut self, p: Pos, c: u8) {
        if let Some(slot) = self.0.get_mut(p.line).and_then(|l| l.get_mut(p.column)) {
            *slot = c;
        }
    }

    fn text(&self, s: Span) -> String {
        s.positions().map(|p| char::from(self.get(p))).collect()
    }

    fn trimmed(&self, s: Span) -> String {
        self.text(s).trim_end_matches('<').to_string()
    }
}

/// What a check digit covers.
struct CheckSpec {
    field: CheckField,
    data: Vec<Pos>,
    digit: Pos,
    /// An empty optional field may carry '<' instead of 0 as its check digit.
    filler_when_empty: bool,
}

impl CheckSpec {
    fn new(field: CheckField, data: &[Span], digit: Span) -> CheckSpec {
        CheckSpec {
            field,
            data: data.iter().flat_map(|s| s.positions()).collect(),
            digit: digit.first(),
            filler_when_empty: false,
        }
    }

    fn evaluate(&self, grid: &Grid) -> (Option<u8>, char, bool) {
        let found = char::from(grid.get(self.digit));
        let expected = check_digit_of(self.data.iter().map(|&p| grid.get(p)));
        let ok = match expected {
            Some(e) => {
                found == char::from(b'0' + e)
                    || (self.filler_when_empty
                        && found == '<'
                        && self.data.iter().all(|&p| grid.get(p) == b'<'))
            }
            None => false,
        };
        (expected, found, ok)
    }
}

/// Which characters a position allows, for confusable reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Numeric,
    Alphabetic,
    Alphanumeric,
}

/// The digit OCR may have read as this letter.
fn digit_for_letter(c: u8) -> Option<u8> {
    Some(match c {
        b'O' | b'Q' | b'D' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'A' => b'4',
        b'S' => b'5',
        b'G' => b'6',
        b'T' => b'7',
        b'B' => b'8',
        _ => return None,
    })
}

/// The letter OCR may have read as this digit.
fn letter_for_digit(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'1' => b'I',
        b'2' => b'Z',
        b'4' => b'A',
        b'5' => b'S',
        b'6' => b'G',
        b'7' => b'T',
        b'8' => b'B',
        _ => return None,
    })
}

fn alternatives(c: u8, class: Class) -> impl Iterator<Item = u8> {
    let to_digit =
        matches!(class, Class::Numeric | Class::Alphanumeric).then(|| digit_for_letter(c)).flatten();
    let to_letter =
        matches!(class, Class::Alphabetic | Class::Alphanumeric).then(|| letter_for_digit(c)).flatten();
    to_digit.into_iter().chain(to_letter)
}

fn confusable(p: Pos, found: u8, could_be: u8) -> Confusable {
    Confusable {
        line: p.line + 1,
        column: p.column + 1,
        found: char::from(found),
        could_be: char::from(could_be),
    }
}

impl Mrz {
    /// Parse an MRZ: 3 lines (TD1) or 2 lines (TD2, TD3), or the lines written
    /// one after the other as DG1 stores them. Blank lines and whitespace
    /// around lines are ignored.
    pub fn parse(text: &str) -> Result<Mrz, MrzError> {
        let lines: Vec<&str> = text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect();
        if let [single] = lines.as_slice()
            && single.is_ascii()
            && let Some(format) = MrzFormat::from_concatenated_len(single.len())
        {
            let split: Vec<&str> = (0..format.line_count())
                .filter_map(|i| single.get(i * format.line_len()..(i + 1) * format.line_len()))
                .collect();
            return Self::parse_lines(&split);
        }
        Self::parse_lines(&lines)
    }

    /// Parse the lines of an MRZ; the format follows from their number and length.
    pub fn parse_lines(lines: &[&str]) -> Result<Mrz, MrzError> {
        let len_of = |i: usize| lines.get(i).map_or(0, |l| l.chars().count());
        let format = match lines.len() {
            3 => MrzFormat::Td1,
            2 => match (len_of(0), len_of(1)) {
                (36, _) | (_, 36) => MrzFormat::Td2,
                (44, _) | (_, 44) => MrzFormat::Td3,
                (len, _) => return Err(MrzError::UnknownLayout { len }),
            },
            n => return Err(MrzError::LineCount(n)),
        };
        let expected = format.line_len();
        for (i, l) in lines.iter().enumerate() {
            if l.len() != expected || !l.is_ascii() {
                return Err(MrzError::LineLength { line: i + 1, len: l.chars().count(), format, expected });
            }
            if let Some((column, ch)) = l
                .chars()
                .enumerate()
                .find(|(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
            {
                return Err(MrzError::BadCharacter { line: i + 1, column: column + 1, ch });
            }
        }
        let grid = Grid(lines.iter().map(|l| l.as_bytes().to_vec()).collect());
        let layout = format.layout();

        let code = grid.text(layout.document_code);
        let first = code.chars().next().unwrap_or('<');
        match format {
            MrzFormat::Td3 if first != 'P' => return Err(MrzError::NotAPassport(code)),
            MrzFormat::Td1 | MrzFormat::Td2 if !matches!(first, 'I' | 'A' | 'C') => {
                return Err(MrzError::NotATravelDocument { format, code });
            }
            _ => {}
        }

        // Document number, possibly continued in the optional data.
        let mut document_number = grid.trimmed(layout.document_number);
        let mut optional_data = grid.trimmed(layout.optional);
        let mut document_check = CheckSpec::new(
            CheckField::DocumentNumber,
            &[layout.document_number],
            layout.document_number_check,
        );
        let mut numeric_extra = None;
        if layout.long_document_number && grid.get(layout.document_number_check.first()) == b'<' {
            let optional: Vec<Pos> = layout.optional.positions().collect();
            let run = optional.iter().take_while(|&&p| grid.get(p) != b'<').count();
            // At least one more character of the number, then its check digit.
            if run >= 2
                && let (Some(rest), Some(&digit)) = (optional.get(..run - 1), optional.get(run - 1))
            {
                document_number = grid.text(layout.document_number);
                document_number.extend(rest.iter().map(|&p| char::from(grid.get(p))));
                document_check.data.extend_from_slice(rest);
                document_check.digit = digit;
                numeric_extra = Some(digit);
                let after = Span {
                    line: layout.optional.line,
                    start: layout.optional.start + run,
                    end: layout.optional.end,
                };
                optional_data = grid.text(after).trim_matches('<').to_string();
            }
        }

        let birth = CheckSpec::new(CheckField::DateOfBirth, &[layout.birth], layout.birth_check);
        let expiry = CheckSpec::new(CheckField::DateOfExpiry, &[layout.expiry], layout.expiry_check);
        let mut specs = vec![document_check, birth, expiry];
        if let Some(check) = layout.optional_check {
            let mut personal = CheckSpec::new(CheckField::PersonalNumber, &[layout.optional], check);
            personal.filler_when_empty = true;
            specs.push(personal);
        }
        specs.push(CheckSpec::new(CheckField::Composite, layout.composite, layout.composite_check));

        let classes = classify(&grid, layout, numeric_extra);
        let checks = run_checks(&specs, &grid, &classes);
        let confusables = find_confusables(&grid, &classes);

        let (surname, given_names) = split_name(&grid.text(layout.name));
        let (personal_number, optional_data) = match format {
            MrzFormat::Td3 => (optional_data, String::new()),
            MrzFormat::Td1 | MrzFormat::Td2 => (String::new(), optional_data),
        };
        Ok(Mrz {
            format,
            document_code: code.trim_end_matches('<').to_string(),
            issuing_state: grid.trimmed(layout.issuing_state),
            surname,
            given_names,
            document_number,
            nationality: grid.trimmed(layout.nationality),
            date_of_birth: grid.text(layout.birth),
            sex: char::from(grid.get(layout.sex.first())),
            date_of_expiry: grid.text(layout.expiry),
            personal_number,
            optional_data,
            optional_data_2: layout.optional_2.map(|s| grid.trimmed(s)).unwrap_or_default(),
            checks,
            confusables,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        })
    }

    pub fn all_checks_pass(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The check of one field, if the format has it.
    pub fn check(&self, field: CheckField) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.field == field)
    }

    /// The MRZ information used to derive the BAC/PACE keys (ICAO 9303 Part 11
    /// 4.3.2): document number (padded with '<' to 9 characters; in full when
    /// longer) and its check digit, date of birth and its check digit, date of
    /// expiry and its check digit. Check digits are taken as printed.
    pub fn key_information(&self) -> String {
        let digit = |f| self.check(f).map_or('<', |c| c.found);
        let mut number = self.document_number.clone();
        while number.len() < 9 {
            number.push('<');
        }
        format!(
            "{number}{}{}{}{}{}",
            digit(CheckField::DocumentNumber),
            self.date_of_birth,
            digit(CheckField::DateOfBirth),
            self.date_of_expiry,
            digit(CheckField::DateOfExpiry)
        )
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
        let year = if century + yy > current_year { century.saturating_sub(100) + yy } else { century + yy };
        Some((year, mm, dd))
    }

    /// The holder's full name for display only (never logged).
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_names, self.surname).trim().to_string()
    }
}

/// Numeric-only positions (dates, check digits) and alphabetic-only ones
/// (country codes, names); the rest (document number, optional data) take both.
fn classify(grid: &Grid, layout: &Layout, long_number_digit: Option<Pos>) -> Vec<Vec<Class>> {
    let mut classes: Vec<Vec<Class>> = grid.0.iter().map(|l| vec![Class::Alphanumeric; l.len()]).collect();
    let mut mark = |p: Pos, class| {
        if let Some(slot) = classes.get_mut(p.line).and_then(|l| l.get_mut(p.column)) {
            *slot = class;
        }
    };
    let numeric = [
        Some(layout.birth),
        Some(layout.birth_check),
        Some(layout.expiry),
        Some(layout.expiry_check),
        Some(layout.document_number_check),
        layout.optional_check,
        Some(layout.composite_check),
    ];
    for s in numeric.into_iter().flatten() {
        s.positions().for_each(|p| mark(p, Class::Numeric));
    }
    if let Some(p) = long_number_digit {
        mark(p, Class::Numeric);
    }
    for s in [layout.issuing_state, layout.nationality, layout.name] {
        s.positions().for_each(|p| mark(p, Class::Alphabetic));
    }
    classes
}

fn class_at(classes: &[Vec<Class>], p: Pos) -> Class {
    classes.get(p.line).and_then(|l| l.get(p.column)).copied().unwrap_or(Class::Alphanumeric)
}

fn find_confusables(grid: &Grid, classes: &[Vec<Class>]) -> Vec<Confusable> {
    let mut found = Vec::new();
    for (line, chars) in grid.0.iter().enumerate() {
        for (column, &c) in chars.iter().enumerate() {
            let p = Pos { line, column };
            let could_be = match class_at(classes, p) {
                Class::Numeric => digit_for_letter(c),
                Class::Alphabetic => letter_for_digit(c),
                Class::Alphanumeric => None,
            };
            if let Some(alt) = could_be {
                found.push(confusable(p, c, alt));
            }
        }
    }
    found
}

/// Evaluate every check digit; for each that fails, look for single
/// OCR-confusable substitutions that make it hold without breaking a check
/// that held (a substitution that breaks a good check is no explanation).
fn run_checks(specs: &[CheckSpec], grid: &Grid, classes: &[Vec<Class>]) -> Vec<CheckResult> {
    let results: Vec<(Option<u8>, char, bool)> = specs.iter().map(|s| s.evaluate(grid)).collect();
    let held: Vec<&CheckSpec> = specs.iter().zip(&results).filter(|(_, r)| r.2).map(|(s, _)| s).collect();
    let mut trial = grid.clone();
    specs
        .iter()
        .zip(&results)
        .map(|(spec, &(expected, found, ok))| {
            let mut suggestions = Vec::new();
            if !ok {
                for &p in spec.data.iter().chain(std::iter::once(&spec.digit)) {
                    let c = grid.get(p);
                    for alt in alternatives(c, class_at(classes, p)) {
                        trial.set(p, alt);
                        if spec.evaluate(&trial).2 && held.iter().all(|h| h.evaluate(&trial).2) {
                            suggestions.push(confusable(p, c, alt));
                        }
                        trial.set(p, c);
                    }
                }
            }
            let hint = (!suggestions.is_empty()).then(|| {
                let options: Vec<String> = suggestions
                    .iter()
                    .map(|s| {
                        format!("'{}' at line {} column {} were '{}'", s.found, s.line, s.column, s.could_be)
                    })
                    .collect();
                format!(
                    "this check digit would hold if {}; check the document by eye",
                    options.join(", or if ")
                )
            });
            CheckResult {
                field: spec.field,
                expected,
                found,
                ok,
                line: spec.digit.line + 1,
                column: spec.digit.column + 1,
                suggestions,
                hint,
            }
        })
        .collect()
}

fn yymmdd(s: &str) -> Option<(u32, u32, u32)> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
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

/// The printed fields of a data page (what an issuer puts in the MRZ). The same
/// fields make a TD3 passport ([`build_td3`]) or a TD1/TD2 identity document
/// ([`build_td1`], [`build_td2`]).
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

/// The fields of any MRZ format.
pub type MrzFields = Td3Fields;

impl Td3Fields {
    /// The two TD3 MRZ lines.
    pub fn mrz_lines(&self) -> [String; 2] {
        build_td3(self)
    }
}

/// Characters outside the MRZ alphabet (spaces, punctuation, accents) become
/// filler, lower case becomes upper case: builders never produce a line that
/// does not parse.
fn mrz_text(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_uppercase() {
            u @ ('A'..='Z' | '0'..='9') => u,
            _ => '<',
        })
        .collect()
}

/// `s` in the MRZ alphabet, cut or padded with '<' to exactly `n` characters.
fn pad(s: &str, n: usize) -> String {
    let mut s: String = mrz_text(s).chars().take(n).collect();
    while s.len() < n {
        s.push('<');
    }
    s
}

fn digit_char(s: &str) -> char {
    char::from(b'0' + check_digit(s).unwrap_or(0))
}

fn name_field(f: &Td3Fields, n: usize) -> String {
    pad(&format!("{}<<{}", mrz_text(&f.surname), mrz_text(&f.given_names)), n)
}

fn sex_char(c: char) -> char {
    match c.to_ascii_uppercase() {
        s @ ('M' | 'F' | 'X') => s,
        _ => '<',
    }
}

/// The document number field with its check digit (10 characters) and the
/// optional data field of `optional_len`: a number longer than 9 characters
/// continues in the optional data, followed by its check digit (ICAO 9303
/// Parts 5 and 6), and is cut if even that does not fit.
fn number_and_optional(number: &str, optional_len: usize) -> (String, String) {
    let number = mrz_text(number);
    let number = number.trim_end_matches('<');
    if number.len() <= 9 {
        let field = pad(number, 9);
        let digit = digit_char(&field);
        return (format!("{field}{digit}"), pad("", optional_len));
    }
    let number: String = number.chars().take(9 + optional_len.saturating_sub(1)).collect();
    let (head, rest) = number.split_at(9.min(number.len()));
    (format!("{head}<"), pad(&format!("{rest}{}", digit_char(&number)), optional_len))
}

/// TD3 lines from fields (used by the simulators and tests). Document numbers
/// longer than 9 characters are cut: TD3 has no continuation.
pub fn build_td3(f: &Td3Fields) -> [String; 2] {
    let l1 = format!("P<{}{}", pad(&f.issuing_state, 3), name_field(f, 39));
    let doc = pad(&f.document_number, 9);
    let (birth, expiry) = (pad(&f.date_of_birth, 6), pad(&f.date_of_expiry, 6));
    let personal = pad("", 14);
    let line2_head = format!(
        "{doc}{}{}{birth}{}{}{expiry}{}{personal}<",
        digit_char(&doc),
        pad(&f.nationality, 3),
        digit_char(&birth),
        sex_char(f.sex),
        digit_char(&expiry),
    );
    let composite: String =
        [(0, 10), (13, 20), (21, 43)].iter().filter_map(|&(a, b)| line2_head.get(a..b)).collect();
    let l2 = format!("{line2_head}{}", digit_char(&composite));
    [l1, l2]
}

/// TD1 (identity card) lines from fields, document code "I".
pub fn build_td1(f: &Td3Fields) -> [String; 3] {
    let (number, optional) = number_and_optional(&f.document_number, 15);
    let l1 = format!("I<{}{number}{optional}", pad(&f.issuing_state, 3));
    let (birth, expiry) = (pad(&f.date_of_birth, 6), pad(&f.date_of_expiry, 6));
    let optional_2 = pad("", 11);
    let l2_head = format!(
        "{birth}{}{}{expiry}{}{}{optional_2}",
        digit_char(&birth),
        sex_char(f.sex),
        digit_char(&expiry),
        pad(&f.nationality, 3)
    );
    let composite: String = [l1.get(5..30), l2_head.get(0..7), l2_head.get(8..15), l2_head.get(18..29)]
        .into_iter()
        .flatten()
        .collect();
    let l2 = format!("{l2_head}{}", digit_char(&composite));
    [l1, l2, name_field(f, 30)]
}

/// TD2 lines from fields, document code "I".
pub fn build_td2(f: &Td3Fields) -> [String; 2] {
    let l1 = format!("I<{}{}", pad(&f.issuing_state, 3), name_field(f, 31));
    let (number, optional) = number_and_optional(&f.document_number, 7);
    let (birth, expiry) = (pad(&f.date_of_birth, 6), pad(&f.date_of_expiry, 6));
    let l2_head = format!(
        "{number}{}{birth}{}{}{expiry}{}{optional}",
        pad(&f.nationality, 3),
        digit_char(&birth),
        sex_char(f.sex),
        digit_char(&expiry),
    );
    let composite: String =
        [(0, 10), (13, 20), (21, 35)].iter().filter_map(|&(a, b)| l2_head.get(a..b)).collect();
    let l2 = format!("{l2_head}{}", digit_char(&composite));
    [l1, l2]
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIMEN: &str =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    /// ICAO 9303 Part 5 TD1 specimen.
    const TD1_SPECIMEN: [&str; 3] = [
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ];
    /// ICAO 9303 Part 6 TD2 specimen.
    const TD2_SPECIMEN: [&str; 2] =
        ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"];

    fn fields(number: &str, birth: &str, expiry: &str) -> Td3Fields {
        Td3Fields {
            issuing_state: "UTO".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            document_number: number.into(),
            nationality: "UTO".into(),
            date_of_birth: birth.into(),
            sex: 'F',
            date_of_expiry: expiry.into(),
        }
    }

    fn failed(m: &Mrz) -> Vec<CheckField> {
        m.checks.iter().filter(|c| !c.ok).map(|c| c.field).collect()
    }

    #[test]
    fn icao_check_digit_vectors() {
        assert_eq!(check_digit("L898902C<"), Some(3));
        assert_eq!(check_digit("690806"), Some(1));
        assert_eq!(check_digit("940623"), Some(6));
        assert_eq!(check_digit("520727"), Some(3));
        assert_eq!(check_digit("ab"), None);
        assert_eq!(check_digit(&"Z".repeat(100_000)), Some(((35 * 11 * 33_333 + 35 * 7) % 10) as u8));
    }

    #[test]
    fn parses_icao_td3_specimen() {
        let m = Mrz::parse(SPECIMEN).unwrap();
        assert_eq!(m.format, MrzFormat::Td3);
        assert_eq!(m.issuing_state, "UTO");
        assert_eq!(m.surname, "ERIKSSON");
        assert_eq!(m.given_names, "ANNA MARIA");
        assert_eq!(m.document_number, "L898902C3");
        assert_eq!(m.date_of_birth, "740812");
        assert_eq!(m.sex, 'F');
        assert_eq!(m.date_of_expiry, "120415");
        assert_eq!(m.personal_number, "ZE184226B");
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        // Check digits as listed in icao9303.md: 6, 2, 9, 1, 0.
        let found: Vec<(CheckField, char)> = m.checks.iter().map(|c| (c.field, c.found)).collect();
        assert_eq!(
            found,
            vec![
                (CheckField::DocumentNumber, '6'),
                (CheckField::DateOfBirth, '2'),
                (CheckField::DateOfExpiry, '9'),
                (CheckField::PersonalNumber, '1'),
                (CheckField::Composite, '0'),
            ]
        );
        assert_eq!(m.expiry_ymd(), Some((2012, 4, 15)));
        assert_eq!(m.birth_ymd(2026), Some((1974, 8, 12)));
        assert!(m.confusables.is_empty(), "{:?}", m.confusables);
        assert_eq!(m.lines.len(), 2);
    }

    #[test]
    fn parses_icao_td1_specimen() {
        let m = Mrz::parse_lines(&TD1_SPECIMEN).unwrap();
        assert_eq!(m.format, MrzFormat::Td1);
        assert_eq!(m.document_code, "I");
        assert_eq!(m.document_number, "D23145890");
        assert_eq!((m.surname.as_str(), m.given_names.as_str()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!((m.date_of_birth.as_str(), m.sex, m.date_of_expiry.as_str()), ("740812", 'F', "120415"));
        assert_eq!(m.nationality, "UTO");
        assert_eq!(m.checks.len(), 4);
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        let found: Vec<char> = m.checks.iter().map(|c| c.found).collect();
        assert_eq!(found, vec!['7', '2', '9', '6']);
        assert_eq!(m.key_information(), "D23145890774081221204159");
        assert_eq!(build_td1(&fields("D23145890", "740812", "120415")), TD1_SPECIMEN.map(String::from));
    }

    #[test]
    fn parses_icao_td2_specimen() {
        let m = Mrz::parse(&TD2_SPECIMEN.join("\n")).unwrap();
        assert_eq!(m.format, MrzFormat::Td2);
        assert_eq!(m.document_number, "D23145890");
        assert_eq!(m.surname, "ERIKSSON");
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        let found: Vec<char> = m.checks.iter().map(|c| c.found).collect();
        assert_eq!(found, vec!['7', '2', '9', '6']);
        assert_eq!(m.key_information(), "D23145890774081221204159");
        assert_eq!(build_td2(&fields("D23145890", "740812", "120415")), TD2_SPECIMEN.map(String::from));
    }

    #[test]
    fn concatenated_lines_as_in_dg1() {
        for lines in [TD1_SPECIMEN.to_vec(), TD2_SPECIMEN.to_vec(), SPECIMEN.lines().collect()] {
            let m = Mrz::parse(&lines.concat()).unwrap();
            assert!(m.all_checks_pass());
            assert_eq!(m.lines, lines);
        }
    }

    #[test]
    fn td1_long_document_number_continues_in_optional_data() {
        // ICAO 9303 Part 5: D23145890734 has check digit 9, written after the
        // number's last 3 characters in the optional data.
        let l = build_td1(&fields("D23145890734", "740812", "120415"));
        assert_eq!(l[0], "I<UTOD23145890<7349<<<<<<<<<<<");
        let m = Mrz::parse_lines(&[&l[0], &l[1], &l[2]]).unwrap();
        assert_eq!(m.document_number, "D23145890734");
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        let doc = m.check(CheckField::DocumentNumber).unwrap();
        assert_eq!((doc.found, doc.line, doc.column), ('9', 1, 19));
        assert_eq!(m.optional_data, "");
        assert_eq!(m.key_information(), "D23145890734974081221204159");

        // A wrong continuation digit fails the document number check.
        let bad = l[0].replace("7349", "7348");
        let m = Mrz::parse_lines(&[&bad, &l[1], &l[2]]).unwrap();
        assert_eq!(failed(&m), vec![CheckField::DocumentNumber, CheckField::Composite]);
        // '<' in the check digit position with no continuation cannot hold.
        let none = "I<UTOD23145890<<<<<<<<<<<<<<<<";
        let m = Mrz::parse_lines(&[none, &l[1], &l[2]]).unwrap();
        assert!(!m.check(CheckField::DocumentNumber).unwrap().ok);
    }

    #[test]
    fn td2_long_document_number() {
        let l = build_td2(&fields("D2314589073", "740812", "120415"));
        let m = Mrz::parse_lines(&[&l[0], &l[1]]).unwrap();
        assert_eq!(m.document_number, "D2314589073");
        assert!(m.all_checks_pass(), "{:?}", m.checks);
        assert_eq!(&l[1][9..10], "<");
        let digit = check_digit("D2314589073").unwrap();
        assert_eq!(m.key_information(), format!("D2314589073{digit}74081221204159"));
    }

    #[test]
    fn key_information_matches_appendix_d_and_g() {
        // Appendix D.2: document L898902C<, born 690806, expiring 940623.
        let l = build_td3(&fields("L898902C", "690806", "940623"));
        let m = Mrz::parse_lines(&[&l[0], &l[1]]).unwrap();
        assert_eq!(m.key_information(), "L898902C<369080619406236");
        assert!(m.all_checks_pass());
        // Appendix G.1: T22000129, 640812, 101031, whatever the format.
        let f = fields("T22000129", "640812", "101031");
        let td3 = build_td3(&f);
        let td2 = build_td2(&f);
        let td1 = build_td1(&f);
        for m in [
            Mrz::parse_lines(&[&td3[0], &td3[1]]),
            Mrz::parse_lines(&[&td2[0], &td2[1]]),
            Mrz::parse_lines(&[&td1[0], &td1[1], &td1[2]]),
        ] {
            let m = m.unwrap();
            assert!(m.all_checks_pass(), "{:?}", m);
            assert_eq!(m.key_information(), "T22000129364081251010318", "{}", m.format);
        }
    }

    #[test]
    fn a_flipped_digit_fails_its_check_and_the_composite() {
        let bad = SPECIMEN.replace("7408122", "7408132");
        let m = Mrz::parse(&bad).unwrap();
        assert_eq!(failed(&m), vec![CheckField::DateOfBirth, CheckField::Composite]);
        // A digit for a digit is not an OCR confusion: no hint.
        assert!(m.checks.iter().all(|c| c.hint.is_none()));
    }

    #[test]
    fn confusables_are_reported_not_corrected() {
        // 'O' for '0' in the date of birth (line 2 column 16) and '0' for 'O'
        // in the surname (line 1 column 12).
        let misread = SPECIMEN.replacen("7408122", "74O8122", 1).replacen("ERIKSSON", "ERIKSS0N", 1);
        let m = Mrz::parse(&misread).unwrap();
        assert_eq!(m.date_of_birth, "74O812", "the text is kept as read");
        assert_eq!(m.surname, "ERIKSS0N");
        assert_eq!(
            m.confusables,
            vec![
                Confusable { line: 1, column: 12, found: '0', could_be: 'O' },
                Confusable { line: 2, column: 16, found: 'O', could_be: '0' },
            ]
        );
        assert_eq!(failed(&m), vec![CheckField::DateOfBirth, CheckField::Composite]);
        let birth = m.check(CheckField::DateOfBirth).unwrap();
        assert_eq!(birth.suggestions, vec![Confusable { line: 2, column: 16, found: 'O', could_be: '0' }]);
        assert!(
            birth.hint.as_deref().unwrap().contains("'O' at line 2 column 16 were '0'"),
            "{:?}",
            birth.hint
        );
        let composite = m.check(CheckField::Composite).unwrap();
        assert!(composite.suggestions.contains(&Confusable {
            line: 2,
            column: 16,
            found: 'O',
            could_be: '0'
        }));

        // A letter in the document number is legal, so only the failed check
        // digit points at it: "L898902C3" read as "L8989O2C3".
        let m = Mrz::parse(&SPECIMEN.replacen("L898902C3", "L8989O2C3", 1)).unwrap();
        assert!(m.confusables.is_empty());
        let doc = m.check(CheckField::DocumentNumber).unwrap();
        assert!(!doc.ok);
        assert!(doc.suggestions.contains(&Confusable { line: 2, column: 6, found: 'O', could_be: '0' }));

        // A confusable check digit itself ('B' for '8' in a TD1 expiry check).
        let l2 = TD1_SPECIMEN[1].replacen("1204159", "120415B", 1);
        let m = Mrz::parse_lines(&[TD1_SPECIMEN[0], &l2, TD1_SPECIMEN[2]]).unwrap();
        assert!(m.confusables.contains(&Confusable { line: 2, column: 15, found: 'B', could_be: '8' }));
        assert!(!m.check(CheckField::DateOfExpiry).unwrap().ok);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["format"], "TD1");
        assert_eq!(json["confusables"][0]["could_be"], "8");
    }

    #[test]
    fn malformed_input_gives_typed_errors() {
        assert_eq!(Mrz::parse(""), Err(MrzError::LineCount(0)));
        assert_eq!(Mrz::parse("P<UTO\nL898"), Err(MrzError::UnknownLayout { len: 5 }));
        assert!(matches!(
            Mrz::parse(&SPECIMEN.replacen("<<10", "<10", 1)),
            Err(MrzError::LineLength { line: 2, len: 43, format: MrzFormat::Td3, expected: 44 })
        ));
        let lower = SPECIMEN.replace("ERIKSSON", "eriksson");
        assert!(matches!(Mrz::parse(&lower), Err(MrzError::BadCharacter { line: 1, column: 6, ch: 'e' })));
        let idcard = SPECIMEN.replacen("P<", "I<", 1);
        assert!(matches!(Mrz::parse(&idcard), Err(MrzError::NotAPassport(_))));
        let visa = TD2_SPECIMEN[0].replacen("I<", "V<", 1);
        assert!(matches!(
            Mrz::parse_lines(&[&visa, TD2_SPECIMEN[1]]),
            Err(MrzError::NotATravelDocument { format: MrzFormat::Td2, .. })
        ));
        // Multi-byte characters never panic on slicing.
        let weird = "é".repeat(44) + "\n" + &"<".repeat(44);
        assert!(Mrz::parse(&weird).is_err());
        let weird = "é".repeat(45);
        assert!(Mrz::parse(&weird).is_err());
    }

    #[test]
    fn truncated_and_garbage_input_never_panics() {
        let td1 = TD1_SPECIMEN.join("\n");
        let td2 = TD2_SPECIMEN.join("\n");
        for text in [SPECIMEN, td1.as_str(), td2.as_str()] {
            for cut in 0..=text.len() {
                let _ = Mrz::parse(&text[..cut]);
                let _ = Mrz::parse(&text[cut..]);
            }
            // Every single-character replacement, including non-ASCII ones.
            for i in 0..text.len() {
                for c in ['<', '0', 'O', 'é', '\n', ' ', '9', 'Z'] {
                    let mut s = String::from(&text[..i]);
                    s.push(c);
                    s.push_str(&text[i + 1..]);
                    if let Ok(m) = Mrz::parse(&s) {
                        let _ = m.key_information();
                        let _ = (m.expiry_ymd(), m.birth_ymd(0), m.full_name());
                    }
                }
            }
        }
        // Pseudo-random lines of every format's shape.
        let mut seed = 0x2545F491u32;
        let alphabet = b"<<<<0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for _ in 0..2000 {
            for format in [MrzFormat::Td1, MrzFormat::Td2, MrzFormat::Td3] {
                let lines: Vec<String> = (0..format.line_count())
                    .map(|_| {
                        (0..format.line_len())
                            .map(|_| {
                                seed ^= seed << 13;
                                seed ^= seed >> 17;
                                seed ^= seed << 5;
                                char::from(alphabet[seed as usize % alphabet.len()])
                            })
                            .collect()
                    })
                    .collect();
                let mut lines = lines;
                // Make the document code valid so that the whole parser runs.
                let code = if format == MrzFormat::Td3 { "P" } else { "I" };
                lines[0].replace_range(0..1, code);
                let m = Mrz::parse(&lines.join("\n")).unwrap();
                let _ = m.key_information();
            }
        }
        for n in 0..200 {
            let _ = Mrz::parse(&"<".repeat(n));
            let _ = Mrz::parse(&"\n".repeat(n));
            let _ = Mrz::parse(&"<\n".repeat(n));
        }
    }

    #[test]
    fn build_and_parse_round_trip() {
        let f = Td3Fields {
            issuing_state: "JPN".into(),
            surname: "YAMADA".into(),
            given_names: "HANAKO".into(),
            document_number: "TK1234567".into(),
            nationality: "JPN".into(),
            date_of_birth: "900101".into(),
            sex: 'F',
            date_of_expiry: "310101".into(),
        };
        let l = build_td3(&f);
        let m = Mrz::parse_lines(&[&l[0], &l[1]]).unwrap();
        assert!(m.all_checks_pass());
        assert_eq!(m.surname, "YAMADA");
        assert_eq!(m.given_names, "HANAKO");
        assert_eq!(m.document_number, "TK1234567");
        // Builders never produce an unparsable line, whatever they are given.
        let odd = Td3Fields { surname: "Müller-Lüdenscheidt".into(), document_number: "x".repeat(40), ..f };
        for lines in [build_td3(&odd).to_vec(), build_td2(&odd).to_vec(), build_td1(&odd).to_vec()] {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let m = Mrz::parse_lines(&refs).unwrap();
            assert!(m.all_checks_pass(), "{lines:?}");
            assert_eq!(m.surname, "M LLER L DENSCHEIDT");
        }
    }
}
