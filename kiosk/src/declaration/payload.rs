//! The declaration QR payload, version 1. Spec: docs/declaration-qr.md.
//!
//! ```text
//! QR text  = "C5360:" base64url-nopad(envelope)
//! envelope = magic "C5" | version u8 (=1) | key_id u32 | issued_at u32 | expires_at u32
//!            | body_len u16 | body (JSON of Declaration) | signature (Ed25519, 64 bytes)
//! ```
//! All integers big-endian; times are Unix seconds. The signature covers every
//! byte before it. The kiosk trusts public keys by key id (the first 4 bytes
//! of SHA-256 over the public key), so keys can rotate.
//!
//! Parsing is split smoltcp-style: [`Envelope::parse`] checks the layout and
//! never panics; [`TrustStore::verify`] checks signature and validity times and
//! only then yields a [`Declaration`].

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::Declaration;

pub const QR_PREFIX: &str = "C5360:";
pub const MAGIC: [u8; 2] = *b"C5";
pub const VERSION: u8 = 1;
const HEADER_LEN: usize = 2 + 1 + 4 + 4 + 4 + 2;
const SIGNATURE_LEN: usize = 64;
/// Larger payloads cannot come from the app and are refused before parsing.
pub const MAX_ENVELOPE_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("this QR code is not a customs declaration (it does not start with {QR_PREFIX:?})")]
    Foreign,
    #[error("the declaration QR code is not valid base64url")]
    Encoding,
    #[error("the declaration payload is too large ({0} bytes; at most {MAX_ENVELOPE_LEN})")]
    Oversized(usize),
    #[error("the declaration payload is truncated ({0} bytes)")]
    Truncated(usize),
    #[error("the declaration payload has a bad magic number")]
    BadMagic,
    #[error("declaration format version {0} is not supported (this kiosk reads version {VERSION})")]
    UnsupportedVersion(u8),
    #[error("the declaration payload length fields disagree")]
    LengthMismatch,
    #[error(
        "the declaration was signed with an unknown key (id {0:08x}); the kiosk's trusted keys may need updating"
    )]
    UnknownKey(u32),
    #[error("the declaration signature is invalid: the QR code was altered or forged")]
    BadSignature,
    #[error("the declaration expired; please generate a new QR code in the app")]
    Expired,
    #[error("the declaration is not valid yet; check the phone's clock")]
    NotYetValid,
    #[error("the declaration content is malformed: {0}")]
    Body(String),
}

/// The parsed, not yet verified, envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub version: u8,
    pub key_id: u32,
    pub issued_at: u32,
    pub expires_at: u32,
    pub body: &'a [u8],
    pub signed_part: &'a [u8],
    pub signature: [u8; SIGNATURE_LEN],
}

impl<'a> Envelope<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>, PayloadError> {
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(PayloadError::Oversized(bytes.len()));
        }
        if bytes.len() < 3 {
            return Err(PayloadError::Truncated(bytes.len()));
        }
        if bytes[0..2] != MAGIC {
            return Err(PayloadError::BadMagic);
        }
        if bytes[2] != VERSION {
            return Err(PayloadError::UnsupportedVersion(bytes[2]));
        }
        if bytes.len() < HEADER_LEN + SIGNATURE_LEN {
            return Err(PayloadError::Truncated(bytes.len()));
        }
        let u32_at = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let body_len = u16::from_be_bytes([bytes[15], bytes[16]]) as usize;
        if HEADER_LEN + body_len + SIGNATURE_LEN != bytes.len() {
            return Err(PayloadError::LengthMismatch);
        }
        let split = HEADER_LEN + body_len;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[split..]);
        Ok(Envelope {
            version: bytes[2],
            key_id: u32_at(3),
            issued_at: u32_at(7),
            expires_at: u32_at(11),
            body: &bytes[HEADER_LEN..split],
            signed_part: &bytes[..split],
            signature,
        })
    }
}

/// Key id: the first four bytes of SHA-256 over the public key.
pub fn key_id(key: &VerifyingKey) -> u32 {
    let h = Sha256::digest(key.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// Sign a declaration into QR text (the app side).
pub fn sign(decl: &Declaration, key: &SigningKey, issued_at: u32, expires_at: u32) -> String {
    format!("{QR_PREFIX}{}", B64URL.encode(sign_envelope(decl, key, issued_at, expires_at)))
}

/// The signed envelope bytes.
pub fn sign_envelope(decl: &Declaration, key: &SigningKey, issued_at: u32, expires_at: u32) -> Vec<u8> {
    let body = serde_json::to_vec(decl).expect("declaration serialises");
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + SIGNATURE_LEN);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&key_id(&key.verifying_key()).to_be_bytes());
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(&expires_at.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    let sig = key.sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    out
}

/// Decode QR text to envelope bytes.
pub fn decode_qr_text(text: &str) -> Result<Vec<u8>, PayloadError> {
    let b64 = text.trim().strip_prefix(QR_PREFIX).ok_or(PayloadError::Foreign)?;
    // base64 inflates by 4/3: refuse before decoding anything huge.
    if b64.len() > MAX_ENVELOPE_LEN * 4 / 3 + 4 {
        return Err(PayloadError::Oversized(b64.len() * 3 / 4));
    }
    B64URL.decode(b64.as_bytes()).map_err(|_| PayloadError::Encoding)
}

/// A verified declaration with its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDeclaration {
    pub declaration: Declaration,
    pub key_id: u32,
    pub issued_at: u32,
    pub expires_at: u32,
    /// SHA-256 of the signed envelope: identifies this declaration for replay checks.
    pub digest: [u8; 32],
}

/// Public keys of the declaration service, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: HashMap<u32, VerifyingKey>,
    /// Allowed clock difference between phone and kiosk.
    pub clock_skew_secs: u32,
}

impl TrustStore {
    pub fn new() -> Self {
        TrustStore { keys: HashMap::new(), clock_skew_secs: 300 }
    }

    pub fn add(&mut self, key: VerifyingKey) -> u32 {
        let id = key_id(&key);
        self.keys.insert(id, key);
        id
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verify QR text at time `now` (Unix seconds).
    pub fn verify_qr(&self, text: &str, now: u32) -> Result<VerifiedDeclaration, PayloadError> {
        let bytes = decode_qr_text(text)?;
        self.verify(&bytes, now)
    }

    pub fn verify(&self, bytes: &[u8], now: u32) -> Result<VerifiedDeclaration, PayloadError> {
        let env = Envelope::parse(bytes)?;
        let key = self.keys.get(&env.key_id).ok_or(PayloadError::UnknownKey(env.key_id))?;
        key.verify(env.signed_part, &Signature::from_bytes(&env.signature))
            .map_err(|_| PayloadError::BadSignature)?;
        if now.saturating_add(self.clock_skew_secs) < env.issued_at {
            return Err(PayloadError::NotYetValid);
        }
        if now > env.expires_at.saturating_add(self.clock_skew_secs) {
            return Err(PayloadError::Expired);
        }
        let declaration: Declaration =
            serde_json::from_slice(env.body).map_err(|e| PayloadError::Body(e.to_string()))?;
        Ok(VerifiedDeclaration {
            declaration,
            key_id: env.key_id,
            issued_at: env.issued_at,
            expires_at: env.expires_at,
            digest: Sha256::digest(bytes).into(),
        })
    }
}

/// A signing key derived from a seed phrase. Deterministic keys are for the
/// simulators and tests only; a real declaration service keeps its key in an HSM.
pub fn signing_key_from_seed(seed: &str) -> SigningKey {
    let bytes: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    SigningKey::from_bytes(&bytes)
}

/// Seed of the demo declaration service key that the simulated airport uses
/// when nothing else is configured.
pub const DEMO_SERVICE_KEY_SEED: &str = "egate demo declaration service key 2026";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::tests::sample;

    const NOW: u32 = 1_795_000_000;

    fn setup() -> (SigningKey, TrustStore) {
        let key = signing_key_from_seed("test");
        let mut trust = TrustStore::new();
        trust.add(key.verifying_key());
        (key, trust)
    }

    #[test]
    fn round_trip() {
        let (key, trust) = setup();
        let qr = sign(&sample(), &key, NOW, NOW + 3600);
        assert!(qr.starts_with(QR_PREFIX));
        let v = trust.verify_qr(&qr, NOW + 10).unwrap();
        assert_eq!(v.declaration, sample());
        assert_eq!(v.key_id, key_id(&key.verifying_key()));
    }

    #[test]
    fn every_kind_of_bad_payload_has_its_own_error() {
        let (key, trust) = setup();
        let env = sign_envelope(&sample(), &key, NOW, NOW + 3600);
        let qr = |b: &[u8]| format!("{QR_PREFIX}{}", B64URL.encode(b));

        assert_eq!(trust.verify_qr("https://example.com", NOW), Err(PayloadError::Foreign));
        assert_eq!(trust.verify_qr("C5360:***", NOW), Err(PayloadError::Encoding));
        let mut altered = env.clone();
        altered[HEADER_LEN + 5] ^= 1;
        assert_eq!(trust.verify(&altered, NOW), Err(PayloadError::BadSignature));
        let mut bad_sig = env.clone();
        *bad_sig.last_mut().unwrap() ^= 0x80;
        assert_eq!(trust.verify(&bad_sig, NOW), Err(PayloadError::BadSignature));
        let other = signing_key_from_seed("forger");
        let forged = sign_envelope(&sample(), &other, NOW, NOW + 3600);
        assert!(matches!(trust.verify(&forged, NOW), Err(PayloadError::UnknownKey(_))));
        assert_eq!(trust.verify(&env, NOW + 3600 + 301), Err(PayloadError::Expired));
        assert_eq!(trust.verify(&env, NOW - 301), Err(PayloadError::NotYetValid));
        let mut v2 = env.clone();
        v2[2] = 2;
        assert_eq!(trust.verify(&v2, NOW), Err(PayloadError::UnsupportedVersion(2)));
        assert_eq!(trust.verify(&env[..env.len() - 1], NOW), Err(PayloadError::LengthMismatch));
        assert_eq!(trust.verify(&env[..40], NOW), Err(PayloadError::Truncated(40)));
        assert_eq!(trust.verify(&env[..10], NOW), Err(PayloadError::Truncated(10)));
        assert_eq!(trust.verify(b"XX\x01", NOW), Err(PayloadError::BadMagic));
        assert_eq!(trust.verify(&vec![0u8; 5000], NOW), Err(PayloadError::Oversized(5000)));
        assert!(matches!(trust.verify_qr(&qr(&vec![7u8; 3000]), NOW), Err(PayloadError::Oversized(_))));
    }

    #[test]
    fn random_bytes_never_panic() {
        let (_, trust) = setup();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            assert!(trust.verify(&bytes, NOW).is_err());
            let mut with_magic = b"C5\x01".to_vec();
            with_magic.extend_from_slice(&bytes);
            assert!(trust.verify(&with_magic, NOW).is_err());
        }
    }
}
