//! The risk watch list: documents (number + issuing state) and persons (name +
//! date of birth), stored only as salted SHA-256 hashes, so the kiosk never
//! holds the plaintext list. Format and normalisation: docs/watch-list.md.
//!
//! ```text
//! egate-watch-list v1
//! salt 0f1e...(64 hex digits)
//! document 3a7f...(64 hex)   # anything after the hash is a comment
//! person 77bc...(64 hex)
//! ```
//!
//! An entry is `SHA-256("egate-watch-list/v1" 0x00 salt kind 0x00 canonical)`
//! where `canonical` is `number 0x00 state` (document) or
//! `surname 0x00 given-names 0x00 YYMMDD` (person), each normalised as
//! [`normalise_document_number`], [`normalise_state`], [`normalise_name`] and
//! [`normalise_dob`] say. A file that does not parse is refused as a whole:
//! a partly loaded list would silently miss entries.

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::passport::mrz::Mrz;

pub const HEADER: &str = "egate-watch-list v1";
const DOMAIN: &[u8] = b"egate-watch-list/v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WatchListError {
    #[error("cannot read the watch list {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("watch list line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    #[error("the watch list has no `{HEADER}` header line")]
    NoHeader,
    #[error("the watch list has no `salt` line")]
    NoSalt,
    #[error("invalid entry: {0}")]
    Entry(String),
}

/// What an entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Document,
    Person,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Document => "document",
            EntryKind::Person => "person",
        }
    }
}

/// A plaintext entry, only ever held while hashing it (CLI, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Document { number: String, state: String },
    Person { surname: String, given_names: String, date_of_birth: String },
}

impl Entry {
    pub fn kind(&self) -> EntryKind {
        match self {
            Entry::Document { .. } => EntryKind::Document,
            Entry::Person { .. } => EntryKind::Person,
        }
    }

    /// The normalised bytes that are hashed; refuses entries that normalise
    /// to nothing (they would match every empty field).
    fn canonical(&self) -> Result<Vec<u8>, WatchListError> {
        match self {
            Entry::Document { number, state } => {
                let n = normalise_document_number(number);
                let s = normalise_state(state);
                if n.is_empty() || s.is_empty() {
                    return Err(WatchListError::Entry(
                        "a document needs a number and an issuing state".into(),
                    ));
                }
                Ok([n.as_bytes(), b"\0", s.as_bytes()].concat())
            }
            Entry::Person { surname, given_names, date_of_birth } => {
                let s = normalise_name(surname);
                let g = normalise_name(given_names);
                let d = normalise_dob(date_of_birth).ok_or_else(|| {
                    WatchListError::Entry(format!(
                        "date of birth {date_of_birth:?} is not YYMMDD, YYYYMMDD or YYYY-MM-DD"
                    ))
                })?;
                if s.is_empty() {
                    return Err(WatchListError::Entry("a person needs a surname".into()));
                }
                Ok([s.as_bytes(), b"\0", g.as_bytes(), b"\0", d.as_bytes()].concat())
            }
        }
    }

    /// The entry's hash under `salt`.
    pub fn hash(&self, salt: &[u8; 32]) -> Result<[u8; 32], WatchListError> {
        Ok(entry_hash(salt, self.kind(), &self.canonical()?))
    }

    /// The line to append to a list with this salt.
    pub fn line(&self, salt: &[u8; 32]) -> Result<String, WatchListError> {
        Ok(format!("{} {}", self.kind().as_str(), hex::encode(self.hash(salt)?)))
    }

    /// The document and person entries a read MRZ would match.
    pub fn from_mrz(m: &Mrz) -> [Entry; 2] {
        [
            Entry::Document { number: m.document_number.clone(), state: m.issuing_state.clone() },
            Entry::Person {
                surname: m.surname.clone(),
                given_names: m.given_names.clone(),
                date_of_birth: m.date_of_birth.clone(),
            },
        ]
    }
}

fn entry_hash(salt: &[u8; 32], kind: EntryKind, canonical: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update([0u8]);
    h.update(salt);
    h.update(kind.as_str().as_bytes());
    h.update([0u8]);
    h.update(canonical);
    h.finalize().into()
}

/// Upper case, letters and digits only (`<`, spaces, hyphens dropped).
pub fn normalise_document_number(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Upper case letters only (`D<<` is `D`).
pub fn normalise_state(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphabetic()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A name as the MRZ writes it: upper case A-Z and 0-9, apostrophes dropped,
/// every other run of characters (spaces, hyphens, `<`, commas) one space,
/// trimmed. `O'Neil-Smith` and `ONEIL<SMITH` both give `ONEIL SMITH`.
pub fn normalise_name(s: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in s.chars() {
        match c.to_ascii_uppercase() {
            '\'' | '\u{2019}' => {}
            u @ ('A'..='Z' | '0'..='9') => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(u);
            }
            _ => gap = true,
        }
    }
    out
}

/// YYMMDD as in the MRZ, from YYMMDD, YYYYMMDD or YYYY-MM-DD; `<` stands for
/// an unknown digit, as in the MRZ.
pub fn normalise_dob(s: &str) -> Option<String> {
    let t: String = s.trim().chars().filter(|c| *c != '-').collect();
    let t = match t.len() {
        6 => t,
        8 => t[2..].to_string(),
        _ => return None,
    };
    t.chars().all(|c| c.is_ascii_digit() || c == '<').then_some(t)
}

/// A loaded watch list: the salt and the entry hashes, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchList {
    salt: [u8; 32],
    documents: HashSet<[u8; 32]>,
    persons: HashSet<[u8; 32]>,
}

impl WatchList {
    /// An empty list with a fresh random salt.
    pub fn new_random() -> WatchList {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).expect("the system random generator is available");
        WatchList::with_salt(salt)
    }

    pub fn with_salt(salt: [u8; 32]) -> WatchList {
        WatchList { salt, documents: HashSet::new(), persons: HashSet::new() }
    }

    pub fn salt(&self) -> &[u8; 32] {
        &self.salt
    }

    pub fn len(&self) -> usize {
        self.documents.len() + self.persons.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn add(&mut self, e: &Entry) -> Result<(), WatchListError> {
        let h = e.hash(&self.salt)?;
        match e.kind() {
            EntryKind::Document => self.documents.insert(h),
            EntryKind::Person => self.persons.insert(h),
        };
        Ok(())
    }

    pub fn load(path: &Path) -> Result<WatchList, WatchListError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| WatchListError::Io { path: path.display().to_string(), reason: e.to_string() })?;
        WatchList::parse(&text)
    }

    pub fn parse(text: &str) -> Result<WatchList, WatchListError> {
        let mut header = false;
        let mut list: Option<WatchList> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let syntax = |reason: &str| WatchListError::Syntax { line: line_no, reason: reason.into() };
            if !header {
                if line != HEADER {
                    return Err(WatchListError::NoHeader);
                }
                header = true;
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(key), Some(value), None) = (words.next(), words.next(), words.next()) else {
                return Err(syntax("expected `<kind> <64 hex digits>`"));
            };
            let bytes: [u8; 32] = hex::decode(value)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| syntax("not 64 hex digits"))?;
            match (key, list.as_mut()) {
                ("salt", None) => list = Some(WatchList::with_salt(bytes)),
                ("salt", Some(_)) => return Err(syntax("a second salt line")),
                (_, None) => return Err(WatchListError::NoSalt),
                ("document", Some(l)) => {
                    l.documents.insert(bytes);
                }
                ("person", Some(l)) => {
                    l.persons.insert(bytes);
                }
                _ => return Err(syntax("unknown entry kind (document or person)")),
            }
        }
        if !header {
            return Err(WatchListError::NoHeader);
        }
        list.ok_or(WatchListError::NoSalt)
    }

    /// The file text: header, salt, the entries (in no meaningful order).
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\nsalt {}\n", hex::encode(self.salt));
        let mut lines: Vec<String> = self
            .documents
            .iter()
            .map(|h| format!("document {}", hex::encode(h)))
            .chain(self.persons.iter().map(|h| format!("person {}", hex::encode(h))))
            .collect();
        lines.sort();
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }

    /// Which kind of entry the document read matches, if any. Document first.
    pub fn check(&self, m: &Mrz) -> Option<EntryKind> {
        let [doc, person] = Entry::from_mrz(m);
        if let Ok(h) = doc.hash(&self.salt)
            && self.documents.contains(&h)
        {
            return Some(EntryKind::Document);
        }
        if let Ok(h) = person.hash(&self.salt)
            && self.persons.contains(&h)
        {
            return Some(EntryKind::Person);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANNA: &str =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn anna() -> Mrz {
        Mrz::parse(ANNA).unwrap()
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalise_document_number(" l898-902c3<< "), "L898902C3");
        assert_eq!(normalise_state("d<<"), "D");
        assert_eq!(normalise_name("O'Neil-Smith,  jr."), "ONEIL SMITH JR");
        assert_eq!(normalise_name("ANNA<MARIA"), "ANNA MARIA");
        assert_eq!(normalise_dob("1974-08-12").as_deref(), Some("740812"));
        assert_eq!(normalise_dob("19740812").as_deref(), Some("740812"));
        assert_eq!(normalise_dob("7408<<").as_deref(), Some("7408<<"));
        assert_eq!(normalise_dob("12 Aug 1974"), None);
    }

    #[test]
    fn document_and_person_entries_match_the_mrz() {
        let salt = [7u8; 32];
        let mut by_doc = WatchList::with_salt(salt);
        by_doc.add(&Entry::Document { number: "l898902c3".into(), state: "uto".into() }).unwrap();
        assert_eq!(by_doc.check(&anna()), Some(EntryKind::Document));

        let mut by_person = WatchList::with_salt(salt);
        by_person
            .add(&Entry::Person {
                surname: "Eriksson".into(),
                given_names: "Anna-Maria".into(),
                date_of_birth: "1974-08-12".into(),
            })
            .unwrap();
        assert_eq!(by_person.check(&anna()), Some(EntryKind::Person));

        // Another date of birth, another state, another salt: no hit.
        let mut other = WatchList::with_salt(salt);
        other
            .add(&Entry::Person {
                surname: "Eriksson".into(),
                given_names: "Anna Maria".into(),
                date_of_birth: "740813".into(),
            })
            .unwrap();
        other.add(&Entry::Document { number: "L898902C3".into(), state: "UTA".into() }).unwrap();
        assert_eq!(other.check(&anna()), None);
        let moved =
            WatchList::parse(&by_doc.to_text().replace(&hex::encode(salt), &hex::encode([8u8; 32]))).unwrap();
        assert_eq!(moved.check(&anna()), None);
    }

    #[test]
    fn the_file_round_trips_and_holds_no_plaintext() {
        let mut l = WatchList::new_random();
        l.add(&Entry::Document { number: "L898902C3".into(), state: "UTO".into() }).unwrap();
        l.add(&Entry::Person {
            surname: "ERIKSSON".into(),
            given_names: "ANNA".into(),
            date_of_birth: "740812".into(),
        })
        .unwrap();
        let text = l.to_text();
        assert!(!text.contains("L898902C3") && !text.contains("ERIKSSON") && !text.contains("740812"));
        let back = WatchList::parse(&format!("# a comment\n\n{text}")).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.len(), 2);
        assert_eq!(back.check(&anna()), Some(EntryKind::Document));
    }

    #[test]
    fn bad_files_are_refused_whole() {
        let salt = format!("salt {}", "00".repeat(32));
        let doc = format!("document {}", "11".repeat(32));
        assert_eq!(WatchList::parse(""), Err(WatchListError::NoHeader));
        assert_eq!(WatchList::parse(&format!("{salt}\n")), Err(WatchListError::NoHeader));
        assert_eq!(WatchList::parse(&format!("{HEADER}\n{doc}\n")), Err(WatchListError::NoSalt));
        assert!(matches!(
            WatchList::parse(&format!("{HEADER}\n{salt}\ndocument 1234\n")),
            Err(WatchListError::Syntax { line: 3, .. })
        ));
        assert!(matches!(
            WatchList::parse(&format!("{HEADER}\n{salt}\nvehicle {}\n", "11".repeat(32))),
            Err(WatchListError::Syntax { line: 3, .. })
        ));
        assert!(matches!(
            WatchList::parse(&format!("{HEADER}\n{salt}\n{salt}\n")),
            Err(WatchListError::Syntax { line: 3, .. })
        ));
        assert!(Entry::Document { number: "<<".into(), state: "UTO".into() }.hash(&[0; 32]).is_err());
        assert!(
            Entry::Person { surname: "X".into(), given_names: "".into(), date_of_birth: "1.1.70".into() }
                .hash(&[0; 32])
                .is_err()
        );
    }
}
