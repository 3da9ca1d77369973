//! The chip image file: the elementary files a simulated passport chip holds,
//! written by the issuer simulator (declaration-app-sim) and served by the
//! kiosk's simulated reader. Format: docs/chip-image.md.
//!
//! JSON, so that a developer can open one and see what the chip holds; file
//! contents are base64. Unknown JSON fields are rejected so that a typo in a
//! hand-edited image is not silently ignored.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "egate-chip-image";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    version: u32,
    /// FID in 4 hex digits -> base64 content.
    files: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChipImageError {
    #[error("cannot read chip image {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("chip image is not valid JSON of format {FORMAT}: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a chip image: format {0:?}, expected {FORMAT:?}")]
    WrongFormat(String),
    #[error("chip image version {0} is not supported (this kiosk reads version {VERSION})")]
    UnsupportedVersion(u32),
    #[error("chip image file id {0:?} is not 4 hex digits")]
    BadFileId(String),
    #[error("chip image file {0} is not valid base64")]
    BadContent(String),
}

/// Elementary files by file identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipImage {
    pub files: BTreeMap<u16, Vec<u8>>,
}

impl ChipImage {
    pub fn from_json(text: &str) -> Result<ChipImage, ChipImageError> {
        let w: Wire = serde_json::from_str(text)?;
        if w.format != FORMAT {
            return Err(ChipImageError::WrongFormat(w.format));
        }
        if w.version != VERSION {
            return Err(ChipImageError::UnsupportedVersion(w.version));
        }
        let mut files = BTreeMap::new();
        for (fid, content) in w.files {
            let id = (fid.len() == 4)
                .then(|| u16::from_str_radix(&fid, 16).ok())
                .flatten()
                .ok_or_else(|| ChipImageError::BadFileId(fid.clone()))?;
            let bytes = B64.decode(content.as_bytes()).map_err(|_| ChipImageError::BadContent(fid))?;
            files.insert(id, bytes);
        }
        Ok(ChipImage { files })
    }

    pub fn to_json(&self) -> String {
        let w = Wire {
            format: FORMAT.to_string(),
            version: VERSION,
            files: self.files.iter().map(|(k, v)| (format!("{k:04X}"), B64.encode(v))).collect(),
        };
        serde_json::to_string_pretty(&w).expect("chip image serialises")
    }

    pub fn load(path: &Path) -> Result<ChipImage, ChipImageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ChipImageError::Io { path: path.display().to_string(), source })?;
        Self::from_json(&text)
    }

    pub fn file(&self, fid: u16) -> Option<&[u8]> {
        self.files.get(&fid).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut img = ChipImage::default();
        img.files.insert(0x011E, vec![0x60, 0x00]);
        img.files.insert(0x0102, vec![1, 2, 3]);
        assert_eq!(ChipImage::from_json(&img.to_json()).unwrap(), img);
        assert!(matches!(ChipImage::from_json("{"), Err(ChipImageError::Json(_))));
        let wrong = img.to_json().replace(FORMAT, "other");
        assert!(matches!(ChipImage::from_json(&wrong), Err(ChipImageError::WrongFormat(_))));
        let v2 = img.to_json().replace("\"version\": 1", "\"version\": 2");
        assert!(matches!(ChipImage::from_json(&v2), Err(ChipImageError::UnsupportedVersion(2))));
        let badid = img.to_json().replace("011E", "XYZW");
        assert!(matches!(ChipImage::from_json(&badid), Err(ChipImageError::BadFileId(_))));
        let badb64 = img.to_json().replace("AQID", "!!!!");
        assert!(matches!(ChipImage::from_json(&badb64), Err(ChipImageError::BadContent(_))));
    }
}
