//! Passenger-facing texts in five languages (Fluent), no Bevy.
//!
//! Files: `<assets>/i18n/<code>/kiosk.ftl`, one per [`Language`]. Every key
//! exists in every language (checked by the tests below). A missing key falls
//! back to English, then to the key itself, with a warning in the log.
//!
//! Key scheme: `<step>-title` and `<step>-instruction` for each
//! [`Step`](crate::lane::events::Step); `progress-<step>` for the step header;
//! `reason-<reason code with - instead of _>` for each [`ReasonCode`];
//! `error-<failure code with - instead of _>` for step failures
//! (see [`Translator::failure`]); `gate-*` for gate statuses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use unic_langid::LanguageIdentifier;

use crate::decision::ReasonCode;

/// The languages the kiosk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    Ja,
    En,
    ZhHans,
    ZhHant,
    Ko,
}

impl Language {
    pub const ALL: [Language; 5] =
        [Language::Ja, Language::En, Language::ZhHans, Language::ZhHant, Language::Ko];

    /// BCP 47 code, also the folder name under `assets/i18n/`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
            Language::ZhHans => "zh-Hans",
            Language::ZhHant => "zh-Hant",
            Language::Ko => "ko",
        }
    }

    /// Accepts the codes of [`Language::code`] (case-insensitive, `_` or `-`)
    /// and a few common region forms (`zh-CN`, `zh-TW`, `ja-JP`, ...).
    pub fn from_code(code: &str) -> Option<Language> {
        let c = code.trim().replace('_', "-").to_ascii_lowercase();
        Some(match c.as_str() {
            "ja" | "ja-jp" | "jp" => Language::Ja,
            "en" | "en-us" | "en-gb" => Language::En,
            "zh-hans" | "zh" | "zh-cn" | "zh-sg" | "zh-hans-cn" => Language::ZhHans,
            "zh-hant" | "zh-tw" | "zh-hk" | "zh-mo" | "zh-hant-tw" => Language::ZhHant,
            "ko" | "ko-kr" | "kr" => Language::Ko,
            _ => return None,
        })
    }

    /// The language's name in itself, for the language buttons.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::Ja => "日本語",
            Language::En => "English",
            Language::ZhHans => "简体中文",
            Language::ZhHant => "繁體中文",
            Language::Ko => "한국어",
        }
    }

    fn langid(self) -> LanguageIdentifier {
        self.code().parse().expect("language codes are valid BCP 47")
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = I18nError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::from_code(s).ok_or_else(|| I18nError::UnknownLanguage(s.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("unknown language code {0:?} (expected one of ja, en, zh-Hans, zh-Hant, ko)")]
    UnknownLanguage(String),
    #[error("cannot read translation file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("invalid Fluent syntax in {path}: {errors}")]
    Parse { path: PathBuf, errors: String },
    #[error("cannot add {path} to the Fluent bundle: {errors}")]
    Bundle { path: PathBuf, errors: String },
}

type Bundle = FluentBundle<FluentResource>;

/// Path of a language's Fluent file under an assets folder.
pub fn ftl_path(assets_dir: &Path, lang: Language) -> PathBuf {
    assets_dir.join("i18n").join(lang.code()).join("kiosk.ftl")
}

fn load_bundle(assets_dir: &Path, lang: Language) -> Result<Bundle, I18nError> {
    let path = ftl_path(assets_dir, lang);
    let source =
        std::fs::read_to_string(&path).map_err(|source| I18nError::Io { path: path.clone(), source })?;
    let resource = FluentResource::try_new(source).map_err(|(_, errors)| I18nError::Parse {
        path: path.clone(),
        errors: errors.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>().join("; "),
    })?;
    let mut bundle = Bundle::new_concurrent(vec![lang.langid()]);
    // No Unicode bidi isolation marks around placeables: all our scripts are
    // left-to-right and the marks would show as boxes in some fonts.
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).map_err(|errors| I18nError::Bundle {
        path,
        errors: errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
    })?;
    Ok(bundle)
}

/// The texts of one language, with English as the fallback.
pub struct Translator {
    language: Language,
    bundle: Bundle,
    /// `None` when `language` is English itself.
    fallback: Option<Bundle>,
}

impl fmt::Debug for Translator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Translator").field("language", &self.language).finish_non_exhaustive()
    }
}

impl Translator {
    /// Loads `<assets_dir>/i18n/<code>/kiosk.ftl` and, for the fallback,
    /// `<assets_dir>/i18n/en/kiosk.ftl`.
    pub fn load(assets_dir: &Path, lang: Language) -> Result<Translator, I18nError> {
        let bundle = load_bundle(assets_dir, lang)?;
        let fallback = if lang == Language::En { None } else { Some(load_bundle(assets_dir, Language::En)?) };
        Ok(Translator { language: lang, bundle, fallback })
    }

    pub fn language(&self) -> Language {
        self.language
    }

    fn lookup(bundle: &Bundle, key: &str) -> Option<String> {
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let s = bundle.format_pattern(pattern, None, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, ?errors, "errors while formatting a translation");
        }
        Some(s.into_owned())
    }

    /// Whether the key exists in this language (without fallback).
    pub fn has(&self, key: &str) -> bool {
        self.bundle.has_message(key)
    }

    /// The text for `key`; English if this language lacks it, else the key.
    pub fn text(&self, key: &str) -> String {
        if let Some(s) = Self::lookup(&self.bundle, key) {
            return s;
        }
        if let Some(s) = self.fallback.as_ref().and_then(|b| Self::lookup(b, key)) {
            tracing::warn!(key, language = self.language.code(), "missing translation, using English");
            return s;
        }
        tracing::warn!(key, language = self.language.code(), "missing translation key");
        key.to_string()
    }

    /// Key of a reason code: `reason-` + the code with `-` for `_`.
    pub fn reason_key(r: ReasonCode) -> String {
        format!("reason-{}", r.as_str().replace('_', "-"))
    }

    pub fn reason(&self, r: ReasonCode) -> String {
        self.text(&Self::reason_key(r))
    }

    /// The passenger's lines for a referral: one per reason, in order, each
    /// text once. `watch_list` shares the random-selection text, so a
    /// passenger with both sees one line, exactly as with random selection
    /// alone.
    pub fn reason_lines(&self, reasons: &[ReasonCode]) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for r in reasons {
            let t = self.reason(*r);
            if !lines.contains(&t) {
                lines.push(t);
            }
        }
        lines
    }

    /// Passenger message for a step failure code (`StepOutcome::Failed::code`):
    /// key `error-<code with - for _>`, falling back to `error-other` when no
    /// such key exists. Known codes: `chip_unreadable`, `qr_invalid`,
    /// `face_not_matched`, `camera_unavailable`, `reader_unavailable`.
    pub fn failure(&self, code: &str) -> String {
        let key = format!("error-{}", code.replace('_', "-"));
        let known =
            self.bundle.has_message(&key) || self.fallback.as_ref().is_some_and(|b| b.has_message(&key));
        if known {
            self.text(&key)
        } else {
            tracing::warn!(code, "no passenger message for this failure code");
            self.text("error-other")
        }
    }
}

/// Keys defined in a Fluent source: messages (`key = ...`) at column 0.
/// Terms (`-term`) and comments are ignored.
pub fn message_keys(source: &str) -> Vec<String> {
    let mut keys: Vec<String> = source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k.trim().to_string())
        .collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn assets() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("assets")
    }

    #[test]
    fn codes_round_trip() {
        for l in Language::ALL {
            assert_eq!(Language::from_code(l.code()), Some(l));
            assert_eq!(l.code().parse::<Language>().unwrap(), l);
            assert!(!l.native_name().is_empty());
        }
        assert_eq!(Language::from_code("zh-TW"), Some(Language::ZhHant));
        assert_eq!(Language::from_code("ZH_hans"), Some(Language::ZhHans));
        assert!(Language::from_code("fr").is_none());
    }

    #[test]
    fn every_file_parses_and_has_the_same_keys() {
        let en = std::fs::read_to_string(ftl_path(&assets(), Language::En)).unwrap();
        let en_keys: BTreeSet<String> = message_keys(&en).into_iter().collect();
        assert!(en_keys.len() > 40, "suspiciously few keys: {en_keys:?}");
        for lang in Language::ALL {
            let path = ftl_path(&assets(), lang);
            let src = std::fs::read_to_string(&path).unwrap();
            let list = message_keys(&src);
            let keys: BTreeSet<String> = list.iter().cloned().collect();
            assert_eq!(list.len(), keys.len(), "{lang}: duplicate keys");
            let missing: Vec<_> = en_keys.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&en_keys).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, extra {extra:?}");
            // Parses without errors and every key has a non-empty value.
            let t = Translator::load(&assets(), lang).unwrap();
            for k in &keys {
                assert!(t.has(k), "{lang}: {k} not in bundle");
                let v = t.text(k);
                assert!(!v.trim().is_empty() && v != *k, "{lang}: {k} empty");
            }
        }
    }

    #[test]
    fn required_keys_exist() {
        let mut required: Vec<String> = ["welcome", "passport", "declaration", "face", "result", "gate"]
            .iter()
            .flat_map(|s| [format!("{s}-title"), format!("{s}-instruction"), format!("progress-{s}")])
            .collect();
        for k in [
            "welcome-choose-language",
            "welcome-start",
            "result-checking",
            "result-green-title",
            "result-green-instruction",
            "result-referral-title",
            "result-referral-instruction",
            "result-reasons-heading",
            "gate-open",
            "gate-completed",
            "gate-timeout",
            "gate-alarm",
            "gate-unavailable",
            "error-chip-unreadable",
            "error-qr-invalid",
            "error-face-not-matched",
            "error-camera-unavailable",
            "error-reader-unavailable",
            "error-other",
        ] {
            required.push(k.to_string());
        }
        for lang in Language::ALL {
            let t = Translator::load(&assets(), lang).unwrap();
            for k in &required {
                assert!(t.has(k), "{lang}: missing {k}");
            }
        }
    }

    #[test]
    fn every_reason_code_is_translated() {
        for lang in Language::ALL {
            let t = Translator::load(&assets(), lang).unwrap();
            let mut seen = BTreeSet::new();
            for r in ReasonCode::ALL {
                assert!(t.has(&Translator::reason_key(r)), "{lang}: no text for {r}");
                if r == ReasonCode::WatchList {
                    // Deliberately the random-selection text: a watch-list hit
                    // must look like a routine check to the passenger.
                    assert_eq!(t.reason(r), t.reason(ReasonCode::RandomSelection), "{lang}");
                    continue;
                }
                assert!(seen.insert(t.reason(r)), "{lang}: two reasons share a text");
            }
            let both = [ReasonCode::OverAllowance, ReasonCode::RandomSelection, ReasonCode::WatchList];
            let alone = [ReasonCode::OverAllowance, ReasonCode::RandomSelection];
            assert_eq!(t.reason_lines(&both), t.reason_lines(&alone), "{lang}");
            assert_eq!(
                t.reason_lines(&[ReasonCode::WatchList]),
                t.reason_lines(&[ReasonCode::RandomSelection])
            );
        }
    }

    #[test]
    fn fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        for (lang, body) in
            [(Language::En, "only-en = Hello\nboth = Both EN\n"), (Language::Ja, "both = 両方\n")]
        {
            let p = ftl_path(dir.path(), lang);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        let t = Translator::load(dir.path(), Language::Ja).unwrap();
        assert_eq!(t.text("both"), "両方");
        assert_eq!(t.text("only-en"), "Hello");
        assert_eq!(t.text("nowhere"), "nowhere");
        assert!(matches!(Translator::load(dir.path(), Language::Ko), Err(I18nError::Io { .. })));
    }

    #[test]
    fn every_lane_failure_code_has_a_message_in_every_language() {
        for lang in Language::ALL {
            let t = Translator::load(&assets(), lang).unwrap();
            for code in crate::lane::events::failure::ALL {
                let key = format!("error-{}", code.replace('_', "-"));
                assert!(t.has(&key), "{} lacks {key}", lang.code());
            }
        }
    }

    #[test]
    fn failure_codes_map_to_messages() {
        let t = Translator::load(&assets(), Language::En).unwrap();
        assert_eq!(t.failure("chip_unreadable"), t.text("error-chip-unreadable"));
        assert_eq!(t.failure("something_new"), t.text("error-other"));
    }
}
