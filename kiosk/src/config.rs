//! Kiosk configuration: a TOML file with safe defaults for every field, so
//! the kiosk runs on embedded defaults when no file is given.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Lane name, used in records and logs.
    pub lane: String,
    /// Folder with translations (`i18n/`), fonts and face models (`models/`).
    pub assets_dir: PathBuf,
    /// SQLite file.
    pub database: PathBuf,
    /// Face match threshold on SFace cosine similarity (a pair matches when
    /// its score is at least this). The default comes from `kiosk face eval
    /// --synthetic` (docs/face.md).
    pub face_threshold: f32,
    /// Live-capture frame quality limits (docs/face.md).
    pub face_quality: crate::face::quality::QualityThresholds,
    /// Declaration service public keys (hex, 32 bytes each), trusted by key id.
    pub declaration_keys: Vec<String>,
    /// Share of passengers selected at random for inspection (0.0 - 1.0).
    pub random_selection_rate: f64,
    /// How long a clearance waits at the gate for its passenger.
    pub clearance_ttl_secs: u64,
    /// Time the gate keeps the flaps open for one passage.
    pub passage_time_limit_ms: u64,
    /// Frames tried per capture step before giving up.
    pub capture_attempts: u32,
    /// Frames with a face the kiosk camera takes for one match: the best
    /// one is matched, all of them go to presentation attack detection
    /// (at least 2; docs/face.md).
    pub face_burst_frames: usize,
    /// Frames the gate camera matches as the passenger walks up, before it
    /// falls back to stop-and-capture (the display asks them to stop and
    /// look at the camera; `capture_attempts` quality-checked frames, the
    /// best one matched).
    pub gate_walking_frames: u32,
    /// Presentation attack detection: a burst whose score (0-1, higher is
    /// more likely live; `kiosk face pad-eval`) is below this is referred as
    /// a suspected attack.
    pub pad_threshold: f32,
    /// Time limits of the passenger's steps in seconds (`[step_timeout_secs]`
    /// with `passport`, `declaration`, `face`); a step out of time ends the
    /// transaction as a referral (`lane::control`).
    pub step_timeout_secs: crate::lane::control::StepTimeouts,
    /// Risk watch list file of salted hashes (docs/watch-list.md; made with
    /// `kiosk watchlist`). None: no watch list. A file that cannot be read
    /// stops the lane from starting.
    pub watch_list: Option<PathBuf>,
    /// Audit setting, off by default: when a folder is given, the kiosk and
    /// gate face captures are kept there as JPEGs, one sub-folder per
    /// transaction (docs/privacy.md). Off: no face image or template is
    /// written anywhere, and templates are deleted after passage.
    pub audit_face_images: Option<PathBuf>,
    /// Time after which the QR reader starts no further preparation stage
    /// on a frame (the next frame is a better bet), ms.
    pub qr_frame_budget_ms: u64,
    /// A declaration code that fails verification is final once read the
    /// same in `qr_votes_needed` of the last `qr_votes_window` frames (a
    /// code that verifies needs one frame).
    pub qr_votes_needed: usize,
    pub qr_votes_window: usize,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            lane: "lane-1".into(),
            assets_dir: default_assets_dir(),
            database: PathBuf::from("data/kiosk.sqlite"),
            face_threshold: crate::face::DEFAULT_FACE_THRESHOLD,
            face_quality: crate::face::quality::QualityThresholds::default(),
            declaration_keys: vec![demo_declaration_key_hex()],
            random_selection_rate: 0.0,
            clearance_ttl_secs: 120,
            passage_time_limit_ms: 10_000,
            capture_attempts: 10,
            face_burst_frames: 6,
            gate_walking_frames: 3,
            pad_threshold: crate::face::pad::DEFAULT_PAD_THRESHOLD,
            step_timeout_secs: crate::lane::control::StepTimeouts::default(),
            watch_list: None,
            audit_face_images: None,
            qr_frame_budget_ms: 250,
            qr_votes_needed: 2,
            qr_votes_window: 5,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("configuration {path} is invalid: {source}")]
    Toml { path: String, source: toml::de::Error },
    #[error("declaration key {0:?} is not 64 hex digits of an Ed25519 public key")]
    BadKey(String),
}

impl KioskConfig {
    pub fn load(path: &Path) -> Result<KioskConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Toml { path: path.display().to_string(), source })
    }

    pub fn models_dir(&self) -> PathBuf {
        self.assets_dir.join("models")
    }

    /// The trust store built from `declaration_keys`.
    pub fn trust_store(&self) -> Result<crate::declaration::payload::TrustStore, ConfigError> {
        let mut trust = crate::declaration::payload::TrustStore::new();
        for k in &self.declaration_keys {
            let bytes = decode_hex32(k).ok_or_else(|| ConfigError::BadKey(k.clone()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| ConfigError::BadKey(k.clone()))?;
            trust.add(key);
        }
        Ok(trust)
    }
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Public key of the demo declaration service (see
/// [`crate::declaration::payload::DEMO_SERVICE_KEY_SEED`]).
pub fn demo_declaration_key_hex() -> String {
    let key = crate::declaration::payload::signing_key_from_seed(
        crate::declaration::payload::DEMO_SERVICE_KEY_SEED,
    );
    encode_hex(key.verifying_key().as_bytes())
}

/// `EGATE_ASSETS` if set; else `assets/` beside the workspace the binary was
/// built in (target/<profile>/kiosk -> ../../assets); else `./assets`.
pub fn default_assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EGATE_ASSETS") {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            let candidate = up.join("assets");
            if candidate.join("i18n").is_dir() {
                return candidate;
            }
        }
    }
    PathBuf::from("assets")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_files() {
        let c: KioskConfig = toml::from_str("lane = \"lane-7\"\nface_threshold = 0.4").unwrap();
        assert_eq!(c.lane, "lane-7");
        assert_eq!(c.face_threshold, 0.4);
        assert_eq!(c.clearance_ttl_secs, KioskConfig::default().clearance_ttl_secs);
        assert!(toml::from_str::<KioskConfig>("no_such_field = 1").is_err());
        assert_eq!(c.trust_store().unwrap().len(), 1);
        assert_eq!((c.watch_list.as_ref(), c.audit_face_images.as_ref()), (None, None));
        let c: KioskConfig =
            toml::from_str("watch_list = \"/etc/egate/watch.list\"\naudit_face_images = \"data/audit\"")
                .unwrap();
        assert_eq!(c.watch_list, Some(PathBuf::from("/etc/egate/watch.list")));
        assert_eq!(c.audit_face_images, Some(PathBuf::from("data/audit")));
    }

    #[test]
    fn bad_keys_are_refused() {
        let c = KioskConfig { declaration_keys: vec!["zz".into()], ..KioskConfig::default() };
        assert!(matches!(c.trust_store(), Err(ConfigError::BadKey(_))));
    }
}
