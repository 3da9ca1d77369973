//! The chip image file: what a simulated passport chip holds, written by the
//! issuer simulator (declaration-app-sim) and served by the virtual chip
//! (`passport::chip`, feature `sim`). Format: docs/chip-image.md.
//!
//! Version 2 holds the elementary files (readable, under access control) and
//! the chip's secrets (never readable by any command: which access protocols
//! it answers, its Active and Chip Authentication private keys). Version 1
//! images (files only) still load, as BAC-only chips without AA or CA.
//!
//! JSON, so that a developer can open one and see what the chip holds; file
//! contents and keys are base64. Unknown JSON fields are rejected so that a
//! typo in a hand-edited image is not silently ignored. Link faults (drops,
//! slowness) are not part of the image: they belong to the simulator
//! (`chip::ChipFaults`), so the same document can be read well or badly.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aa::{AaHash, AaKeyError, AaPrivateKey};
use super::ca::{CaKeyError, CaPrivateKey};

pub const FORMAT: &str = "egate-chip-image";
/// The version this kiosk writes.
pub const VERSION: u32 = 2;
/// The versions this kiosk reads.
pub const SUPPORTED_VERSIONS: [u32; 2] = [1, 2];

/// EF.CardAccess: in the master file, readable without access control; its
/// presence is what makes the chip offer PACE.
pub const FID_CARD_ACCESS: u16 = 0x011C;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    version: u32,
    /// FID in 4 hex digits -> base64 content.
    files: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chip: Option<WireChip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChip {
    #[serde(default = "yes")]
    bac: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aa_private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aa_hash: Option<WireHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_key_id: Option<u64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum WireHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl From<WireHash> for AaHash {
    fn from(h: WireHash) -> AaHash {
        match h {
            WireHash::Sha1 => AaHash::Sha1,
            WireHash::Sha224 => AaHash::Sha224,
            WireHash::Sha256 => AaHash::Sha256,
            WireHash::Sha384 => AaHash::Sha384,
            WireHash::Sha512 => AaHash::Sha512,
        }
    }
}

impl From<AaHash> for WireHash {
    fn from(h: AaHash) -> WireHash {
        match h {
            AaHash::Sha1 => WireHash::Sha1,
            AaHash::Sha224 => WireHash::Sha224,
            AaHash::Sha256 => WireHash::Sha256,
            AaHash::Sha384 => WireHash::Sha384,
            AaHash::Sha512 => WireHash::Sha512,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChipImageError {
    #[error("cannot read chip image {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("chip image is not valid JSON of format {FORMAT}: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a chip image: format {0:?}, expected {FORMAT:?}")]
    WrongFormat(String),
    #[error(
        "chip image version {0} is not supported (this kiosk reads versions 1 and 2); re-issue the passport"
    )]
    UnsupportedVersion(u32),
    #[error("chip image version 1 has no \"chip\" section; set \"version\": 2 to give the chip secrets")]
    ChipSectionInVersion1,
    #[error("chip image file id {0:?} is not 4 hex digits")]
    BadFileId(String),
    #[error("chip image file {0} is not valid base64")]
    BadContent(String),
    #[error("chip image {field} is not valid base64")]
    BadKeyBase64 { field: &'static str },
    #[error("chip image aa_private_key: {0}")]
    BadAaKey(#[from] AaKeyError),
    #[error("chip image ca_private_key: {0}")]
    BadCaKey(#[from] CaKeyError),
}

/// What a real chip keeps secret: no command reads these; they only shape
/// how the chip answers.
#[derive(Clone, PartialEq, Eq)]
pub struct ChipSecrets {
    /// Whether the chip answers Basic Access Control. A PACE-only chip
    /// (`false`) answers MUTUAL AUTHENTICATE with 6A88.
    pub bac: bool,
    /// Active Authentication private key, PKCS#8 DER (RSA or EC).
    pub aa_private_key: Option<Zeroizing<Vec<u8>>>,
    /// The hash the chip signs AA challenges with. `None`: SHA-1 (trailer BC)
    /// for RSA; for ECDSA the algorithm of DG14's ActiveAuthenticationInfo,
    /// else SHA-256.
    pub aa_hash: Option<AaHash>,
    /// Chip Authentication private key, PKCS#8 DER (EC, named curve). Also the
    /// key of PACE-CAM.
    pub ca_private_key: Option<Zeroizing<Vec<u8>>>,
    /// The keyId of the ChipAuthenticationPublicKeyInfo in DG14 this key
    /// belongs to, when DG14 gives one.
    pub ca_key_id: Option<u64>,
}

impl Default for ChipSecrets {
    /// A BAC chip without AA or CA: what a version 1 image describes.
    fn default() -> Self {
        ChipSecrets { bac: true, aa_private_key: None, aa_hash: None, ca_private_key: None, ca_key_id: None }
    }
}

impl std::fmt::Debug for ChipSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key bytes.
        f.debug_struct("ChipSecrets")
            .field("bac", &self.bac)
            .field("aa_private_key", &self.aa_private_key.as_ref().map(|_| "<secret>"))
            .field("aa_hash", &self.aa_hash)
            .field("ca_private_key", &self.ca_private_key.as_ref().map(|_| "<secret>"))
            .field("ca_key_id", &self.ca_key_id)
            .finish()
    }
}

impl ChipSecrets {
    /// The AA key, parsed.
    pub fn aa_key(&self) -> Result<Option<AaPrivateKey>, ChipImageError> {
        Ok(self.aa_private_key.as_ref().map(|der| AaPrivateKey::from_pkcs8_der(der)).transpose()?)
    }

    /// The CA key, parsed.
    pub fn ca_key(&self) -> Result<Option<CaPrivateKey>, ChipImageError> {
        Ok(self.ca_private_key.as_ref().map(|der| CaPrivateKey::from_pkcs8_der(der)).transpose()?)
    }

    pub fn set_aa_key(&mut self, key: &AaPrivateKey) -> Result<(), ChipImageError> {
        self.aa_private_key = Some(key.to_pkcs8_der()?);
        Ok(())
    }

    pub fn set_ca_key(&mut self, key: &CaPrivateKey) -> Result<(), ChipImageError> {
        self.ca_private_key = Some(key.to_pkcs8_der()?);
        Ok(())
    }
}

/// Elementary files by file identifier, and the chip's secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipImage {
    pub files: BTreeMap<u16, Vec<u8>>,
    pub chip: ChipSecrets,
}

impl ChipImage {
    pub fn from_json(text: &str) -> Result<ChipImage, ChipImageError> {
        let w: Wire = serde_json::from_str(text)?;
        if w.format != FORMAT {
            return Err(ChipImageError::WrongFormat(w.format));
        }
        if !SUPPORTED_VERSIONS.contains(&w.version) {
            return Err(ChipImageError::UnsupportedVersion(w.version));
        }
        if w.version == 1 && w.chip.is_some() {
            return Err(ChipImageError::ChipSectionInVersion1);
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
        let chip = match w.chip {
            None => ChipSecrets::default(),
            Some(c) => {
                let key = |field: &'static str, text: Option<String>| {
                    let text = Zeroizing::new(text);
                    text.as_deref()
                        .map(|t| B64.decode(t.as_bytes()).map(Zeroizing::new))
                        .transpose()
                        .map_err(|_| ChipImageError::BadKeyBase64 { field })
                };
                ChipSecrets {
                    bac: c.bac,
                    aa_private_key: key("aa_private_key", c.aa_private_key)?,
                    aa_hash: c.aa_hash.map(AaHash::from),
                    ca_private_key: key("ca_private_key", c.ca_private_key)?,
                    ca_key_id: c.ca_key_id,
                }
            }
        };
        // A key that does not parse is an error now, not at the first
        // INTERNAL AUTHENTICATE.
        chip.aa_key()?;
        chip.ca_key()?;
        Ok(ChipImage { files, chip })
    }

    /// Version 2 JSON.
    pub fn to_json(&self) -> String {
        let c = &self.chip;
        let mut w = Wire {
            format: FORMAT.to_string(),
            version: VERSION,
            files: self.files.iter().map(|(k, v)| (format!("{k:04X}"), B64.encode(v))).collect(),
            chip: Some(WireChip {
                bac: c.bac,
                aa_private_key: c.aa_private_key.as_ref().map(|k| B64.encode(k.as_slice())),
                aa_hash: c.aa_hash.map(WireHash::from),
                ca_private_key: c.ca_private_key.as_ref().map(|k| B64.encode(k.as_slice())),
                ca_key_id: c.ca_key_id,
            }),
        };
        let text = serde_json::to_string_pretty(&w).expect("chip image serialises");
        // The wire copy held base64 keys; wipe it.
        if let Some(c) = w.chip.as_mut() {
            zeroize::Zeroize::zeroize(&mut c.aa_private_key);
            zeroize::Zeroize::zeroize(&mut c.ca_private_key);
        }
        text
    }

    pub fn load(path: &Path) -> Result<ChipImage, ChipImageError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ChipImageError::Io { path: path.display().to_string(), source })?;
        Self::from_json(&text)
    }

    pub fn file(&self, fid: u16) -> Option<&[u8]> {
        self.files.get(&fid).map(Vec::as_slice)
    }

    /// Whether the chip offers PACE (it holds EF.CardAccess).
    pub fn offers_pace(&self) -> bool {
        self.files.contains_key(&FID_CARD_ACCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passport::aa::tests::{rng, rsa_keys};
    use crate::passport::ca::EcCurve;

    fn base_image() -> ChipImage {
        let mut img = ChipImage::default();
        img.files.insert(0x011E, vec![0x60, 0x00]);
        img.files.insert(0x0102, vec![1, 2, 3]);
        img
    }

    #[test]
    fn version_2_round_trips_with_secrets() {
        let mut img = base_image();
        img.files.insert(FID_CARD_ACCESS, vec![0x31, 0x00]);
        img.chip.bac = false;
        img.chip.set_aa_key(&rsa_keys().0).unwrap();
        img.chip.aa_hash = Some(AaHash::Sha256);
        img.chip.set_ca_key(&CaPrivateKey::generate(EcCurve::BrainpoolP256r1, &mut rng())).unwrap();
        img.chip.ca_key_id = Some(7);
        let json = img.to_json();
        assert!(json.contains("\"version\": 2") && json.contains("\"aa_hash\": \"sha256\""), "{json}");
        let back = ChipImage::from_json(&json).unwrap();
        assert_eq!(back, img);
        assert!(back.offers_pace());
        assert_eq!(back.chip.aa_key().unwrap().as_ref(), Some(&rsa_keys().0));
        assert_eq!(back.chip.ca_key().unwrap().unwrap().curve(), EcCurve::BrainpoolP256r1);
        // Debug never shows key bytes.
        let debug = format!("{back:?}");
        assert!(
            debug.contains("<secret>")
                && !debug.contains(&B64.encode(img.chip.aa_private_key.unwrap().as_slice()))
        );
    }

    #[test]
    fn version_1_loads_as_a_bac_only_chip() {
        let v1 = r#"{"format":"egate-chip-image","version":1,"files":{"011E":"YAA=","0102":"AQID"}}"#;
        let img = ChipImage::from_json(v1).unwrap();
        assert_eq!(img, base_image());
        assert!(img.chip.bac && img.chip.aa_private_key.is_none() && img.chip.ca_private_key.is_none());
        assert!(!img.offers_pace());
        let with_chip = v1.replace("}}", "},\"chip\":{\"bac\":true}}");
        assert!(matches!(ChipImage::from_json(&with_chip), Err(ChipImageError::ChipSectionInVersion1)));
        // Version 2 without a chip section is a BAC-only chip too.
        let v2 = v1.replace("\"version\":1", "\"version\":2");
        assert_eq!(ChipImage::from_json(&v2).unwrap(), base_image());
    }

    #[test]
    fn errors_are_typed() {
        let img = base_image();
        assert!(matches!(ChipImage::from_json("{"), Err(ChipImageError::Json(_))));
        let wrong = img.to_json().replace(FORMAT, "other");
        assert!(matches!(ChipImage::from_json(&wrong), Err(ChipImageError::WrongFormat(_))));
        let v3 = img.to_json().replace("\"version\": 2", "\"version\": 3");
        assert!(matches!(ChipImage::from_json(&v3), Err(ChipImageError::UnsupportedVersion(3))));
        let badid = img.to_json().replace("011E", "XYZW");
        assert!(matches!(ChipImage::from_json(&badid), Err(ChipImageError::BadFileId(_))));
        let badb64 = img.to_json().replace("AQID", "!!!!");
        assert!(matches!(ChipImage::from_json(&badb64), Err(ChipImageError::BadContent(_))));
        let typo = img.to_json().replace("\"bac\"", "\"bca\"");
        assert!(matches!(ChipImage::from_json(&typo), Err(ChipImageError::Json(_))));
        let key = |k: &str, v: &str| {
            img.to_json().replace("\"bac\": true", &format!("\"bac\": true, \"{k}\": \"{v}\""))
        };
        assert!(matches!(
            ChipImage::from_json(&key("aa_private_key", "%%")),
            Err(ChipImageError::BadKeyBase64 { field: "aa_private_key" })
        ));
        assert!(matches!(
            ChipImage::from_json(&key("aa_private_key", "AQID")),
            Err(ChipImageError::BadAaKey(_))
        ));
        assert!(matches!(
            ChipImage::from_json(&key("ca_private_key", "AQID")),
            Err(ChipImageError::BadCaKey(_))
        ));
        // An RSA key cannot be a CA key.
        let rsa = B64.encode(rsa_keys().0.to_pkcs8_der().unwrap().as_slice());
        assert!(matches!(
            ChipImage::from_json(&key("ca_private_key", &rsa)),
            Err(ChipImageError::BadCaKey(_))
        ));
        assert!(matches!(ChipImage::from_json(&key("aa_hash", "md5")), Err(ChipImageError::Json(_))));
    }
}
