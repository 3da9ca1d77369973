//! The CJK font: one file covering Japanese, Chinese (both scripts), Korean
//! and Latin. Default: Debian's `fonts-noto-cjk` collection
//! (`NotoSansCJK-Regular.ttc` + `NotoSansCJK-Bold.ttc`). Bevy 0.19's text
//! (parley/fontique) registers every face of a `.ttc` collection, so each
//! language uses its own regional face ("Noto Sans CJK JP/SC/TC/KR") for the
//! right glyph shapes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bevy::prelude::*;
use bevy::text::{Font, FontCx};

use crate::i18n::Language;

/// Environment variable naming the regular font file (overrides the search).
pub const FONT_ENV: &str = "KIOSK_UI_FONT";

/// Where the font is searched when neither `--font` nor `KIOSK_UI_FONT` is given
/// (after `<assets>/fonts/NotoSansCJK-Regular.ttc`).
pub const SYSTEM_FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
];

/// The font bytes, read before the app starts so a missing file is a clear
/// error instead of tofu boxes.
#[derive(Resource, Clone)]
pub struct FontFiles {
    pub regular_path: PathBuf,
    pub regular: Vec<u8>,
    /// The bold companion (same name with `Bold` for `Regular`), if present;
    /// otherwise bold text is synthesised from the regular face.
    pub bold: Option<(PathBuf, Vec<u8>)>,
}

/// Picks the font file: `explicit` (e.g. `--font`), then `$KIOSK_UI_FONT`,
/// then `<assets_dir>/fonts/NotoSansCJK-Regular.ttc`, then [`SYSTEM_FONT_PATHS`].
pub fn resolve_font_path(explicit: Option<&Path>, assets_dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        bail!("font file {} (from --font) does not exist", p.display());
    }
    if let Some(p) = std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!("font file {} (from ${FONT_ENV}) does not exist", p.display());
    }
    let mut tried = vec![assets_dir.join("fonts").join("NotoSansCJK-Regular.ttc")];
    tried.extend(SYSTEM_FONT_PATHS.iter().map(PathBuf::from));
    if let Some(p) = tried.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    bail!(
        "no CJK font found (tried {}). Install the Debian package fonts-noto-cjk, or point --font / \
         ${FONT_ENV} at a .ttf/.otf/.ttc font with Japanese, Chinese and Korean glyphs",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )
}

pub fn load_font_files(explicit: Option<&Path>, assets_dir: &Path) -> anyhow::Result<FontFiles> {
    let regular_path = resolve_font_path(explicit, assets_dir)?;
    let regular = std::fs::read(&regular_path)
        .with_context(|| format!("cannot read font file {}", regular_path.display()))?;
    let bold = regular_path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.contains("Regular"))
        .map(|n| regular_path.with_file_name(n.replace("Regular", "Bold")))
        .filter(|p| p.is_file())
        .and_then(|p| match std::fs::read(&p) {
            Ok(bytes) => Some((p, bytes)),
            Err(e) => {
                warn!("cannot read bold font {}: {e}", p.display());
                None
            }
        });
    Ok(FontFiles { regular_path, regular, bold })
}

/// The font family used for each language.
#[derive(Resource, Debug, Clone, Default)]
pub struct UiFonts {
    pub by_language: HashMap<Language, String>,
}

impl UiFonts {
    pub fn family(&self, lang: Language) -> Option<&str> {
        self.by_language.get(&lang).map(String::as_str)
    }
}

/// Regional face suffix in the Noto CJK family names.
fn region(lang: Language) -> &'static str {
    match lang {
        Language::Ja | Language::En => "JP",
        Language::ZhHans => "SC",
        Language::ZhHant => "TC",
        Language::Ko => "KR",
    }
}

/// Chooses a family for each language among the registered ones: the
/// proportional regional face if there is one, else the first proportional
/// family, else the first family.
pub fn choose_families(families: &[String]) -> UiFonts {
    let proportional: Vec<&String> = families.iter().filter(|f| !f.contains("Mono")).collect();
    let mut by_language = HashMap::new();
    for lang in Language::ALL {
        let suffix = format!(" {}", region(lang));
        let pick = proportional
            .iter()
            .find(|f| f.ends_with(&suffix))
            .or_else(|| proportional.first())
            .map(|f| f.to_string())
            .or_else(|| families.first().cloned());
        if let Some(f) = pick {
            by_language.insert(lang, f);
        }
    }
    UiFonts { by_language }
}

/// Startup system: registers the font file(s) with Bevy's text engine and
/// records the family per language.
pub fn register_fonts(mut commands: Commands, files: Res<FontFiles>, mut font_cx: ResMut<FontCx>) {
    let mut families: Vec<String> = Vec::new();
    let mut add = |bytes: &[u8]| {
        let blob = Font::from_bytes(bytes.to_vec()).data;
        for (id, _) in font_cx.collection.register_fonts(blob, None) {
            if let Some(name) = font_cx.collection.family_name(id)
                && !families.iter().any(|f| f == name)
            {
                families.push(name.to_string());
            }
        }
    };
    add(&files.regular);
    if let Some((_, bold)) = &files.bold {
        add(bold);
    }
    let fonts = choose_families(&families);
    if fonts.by_language.is_empty() {
        error!("font file {} holds no usable font; text will not render", files.regular_path.display());
    } else {
        info!(
            font = %files.regular_path.display(),
            bold = files.bold.is_some(),
            families = ?fonts.by_language,
            "UI font registered"
        );
    }
    commands.insert_resource(fonts);
    // The bytes now live in the font collection.
    commands.remove_resource::<FontFiles>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_faces_are_chosen() {
        let fams: Vec<String> = [
            "Noto Sans Mono CJK JP",
            "Noto Sans CJK JP",
            "Noto Sans CJK KR",
            "Noto Sans CJK SC",
            "Noto Sans CJK TC",
            "Noto Sans CJK HK",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = choose_families(&fams);
        assert_eq!(f.family(Language::Ja), Some("Noto Sans CJK JP"));
        assert_eq!(f.family(Language::En), Some("Noto Sans CJK JP"));
        assert_eq!(f.family(Language::ZhHans), Some("Noto Sans CJK SC"));
        assert_eq!(f.family(Language::ZhHant), Some("Noto Sans CJK TC"));
        assert_eq!(f.family(Language::Ko), Some("Noto Sans CJK KR"));
        let single = choose_families(&["Some Font".to_string()]);
        assert_eq!(single.family(Language::Ko), Some("Some Font"));
    }

    #[test]
    fn missing_font_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_font_path(Some(&dir.path().join("nope.ttc")), dir.path()).unwrap_err();
        assert!(err.to_string().contains("nope.ttc"), "{err}");
    }
}
