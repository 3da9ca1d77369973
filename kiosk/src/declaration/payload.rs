//! The declaration QR payload, version 2. Spec: docs/declaration-qr.md.
//!
//! ```text
//! QR text  = "C5360:" base45(envelope)                  (QR alphanumeric mode)
//! envelope = magic "C5" | version u8 (=2) | key_id u32 | issued_at u32 | expires_at u32
//!            | body_len u16 | body (CBOR, integer keys: see body.rs) | signature (Ed25519, 64 bytes)
//! ```
//! All integers big-endian; times are Unix seconds. The signature covers every
//! byte before it. The kiosk trusts public keys by key id (the first 4 bytes
//! of SHA-256 over the public key), so keys can rotate: a new key is added
//! under its own id beside the old one, and the old one is removed once no
//! valid QR code can carry it.
//!
//! Version 1 (JSON body, base64url text) is retired: the kiosk recognises it
//! and refuses it with [`PayloadError::RetiredVersion`], so the passenger is
//! told to update the app; any other version is
//! [`PayloadError::UnsupportedVersion`].
//!
//! Parsing is split smoltcp-style: [`Envelope::parse`] checks the layout and
//! never panics; [`TrustStore::verify`] checks the key, the signature and the
//! validity times, and only then decodes the body into a [`Declaration`]
//! (which also never panics, and is validated).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::base45::{self, Base45Error};
use super::body::{self, BodyError};
use super::{Declaration, Traveller};

pub const QR_PREFIX: &str = "C5360:";
pub const MAGIC: [u8; 2] = *b"C5";
/// The version this kiosk reads and the app writes.
pub const VERSION: u8 = 2;
/// The walking skeleton's JSON payload: recognised, refused.
pub const RETIRED_VERSION: u8 = 1;
pub const HEADER_LEN: usize = 2 + 1 + 4 + 4 + 4 + 2;
pub const SIGNATURE_LEN: usize = 64;
/// Larger payloads cannot come from the app and are refused before parsing.
pub const MAX_ENVELOPE_LEN: usize = 2048;
/// Base45 text of the largest envelope.
const MAX_TEXT_LEN: usize = MAX_ENVELOPE_LEN / 2 * 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("this QR code is not a customs declaration (it does not start with {QR_PREFIX:?})")]
    Foreign,
    #[error("the declaration QR code is damaged: it is not valid base45 text ({0})")]
    Encoding(Base45Error),
    #[error("the declaration payload is too large ({0} bytes; at most {MAX_ENVELOPE_LEN})")]
    Oversized(usize),
    #[error("the declaration payload is truncated ({0} bytes): show the whole QR code")]
    Truncated(usize),
    #[error("the declaration payload has a bad magic number: it was not made by a declaration app")]
    BadMagic,
    #[error("declaration format version {0} is not supported (this kiosk reads version {VERSION})")]
    UnsupportedVersion(u8),
    #[error(
        "declaration format version {0} is no longer accepted: please update the declaration app and show a new QR code"
    )]
    RetiredVersion(u8),
    #[error("the declaration payload has {0} stray bytes after the signature")]
    TrailingBytes(usize),
    #[error(
        "the declaration was signed with an unknown key (id {0:08x}); the kiosk's trusted keys may need updating"
    )]
    UnknownKey(u32),
    #[error("the declaration signature is invalid: the QR code was altered or forged")]
    BadSignature,
    #[error("the declaration's validity ends before it begins")]
    InvalidWindow,
    #[error("the declaration expired; please generate a new QR code in the app")]
    Expired,
    #[error("the declaration is not valid yet; check the phone's clock")]
    NotYetValid,
    #[error("the declaration content is malformed: {0}")]
    Body(BodyError),
}

/// Why the app cannot sign a declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the declaration cannot be encoded: {0}")]
    Body(#[from] BodyError),
    #[error("the declaration is too large for a QR code ({0} bytes; at most {MAX_ENVELOPE_LEN})")]
    TooLarge(usize),
    #[error("the validity window ends before it begins")]
    InvalidWindow,
}

/// The parsed, not yet verified, envelope: a view into the bytes.
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
    /// Check the layout. Never panics; trusts nothing.
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>, PayloadError> {
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(PayloadError::Oversized(bytes.len()));
        }
        let (Some(magic), Some(&version)) = (bytes.get(0..2), bytes.get(2)) else {
            return Err(PayloadError::Truncated(bytes.len()));
        };
        if magic != MAGIC {
            return Err(PayloadError::BadMagic);
        }
        match version {
            VERSION => {}
            RETIRED_VERSION => return Err(PayloadError::RetiredVersion(version)),
            other => return Err(PayloadError::UnsupportedVersion(other)),
        }
        let Some(header) = bytes.get(..HEADER_LEN) else {
            return Err(PayloadError::Truncated(bytes.len()));
        };
        let u32_at = |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let body_len = usize::from(u16::from_be_bytes([header[15], header[16]]));
        let split = HEADER_LEN + body_len;
        let total = split + SIGNATURE_LEN;
        if bytes.len() < total {
            return Err(PayloadError::Truncated(bytes.len()));
        }
        if bytes.len() > total {
            return Err(PayloadError::TrailingBytes(bytes.len() - total));
        }
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(&bytes[split..]);
        Ok(Envelope {
            version,
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
pub fn sign(
    decl: &Declaration,
    key: &SigningKey,
    issued_at: u32,
    expires_at: u32,
) -> Result<String, SignError> {
    Ok(qr_text(&sign_envelope(decl, key, issued_at, expires_at)?))
}

/// The QR text of envelope bytes.
pub fn qr_text(envelope: &[u8]) -> String {
    format!("{QR_PREFIX}{}", base45::encode(envelope))
}

/// The signed envelope bytes (the declaration is validated first).
pub fn sign_envelope(
    decl: &Declaration,
    key: &SigningKey,
    issued_at: u32,
    expires_at: u32,
) -> Result<Vec<u8>, SignError> {
    if expires_at < issued_at {
        return Err(SignError::InvalidWindow);
    }
    let body = body::encode(decl)?;
    let total = HEADER_LEN + body.len() + SIGNATURE_LEN;
    if total > MAX_ENVELOPE_LEN {
        return Err(SignError::TooLarge(total));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&key_id(&key.verifying_key()).to_be_bytes());
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(&expires_at.to_be_bytes());
    // Below MAX_ENVELOPE_LEN, so it fits.
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    let sig = key.sign(&out);
    out.extend_from_slice(&sig.to_bytes());
    Ok(out)
}

/// Decode QR text to envelope bytes.
pub fn decode_qr_text(text: &str) -> Result<Vec<u8>, PayloadError> {
    // A scanner may add a line end; base45 has spaces, so nothing else is trimmed.
    let text = text.trim_start().trim_end_matches(['\r', '\n']);
    let encoded = text.strip_prefix(QR_PREFIX).ok_or(PayloadError::Foreign)?;
    // Refuse before decoding anything huge.
    if encoded.len() > MAX_TEXT_LEN + 2 {
        return Err(PayloadError::Oversized(encoded.len() / 3 * 2));
    }
    base45::decode(encoded).map_err(|e| {
        // A version 1 code (base64url) is never valid base45: say what it is.
        match B64URL.decode(encoded.as_bytes()) {
            Ok(v1) if v1.len() >= 3 && v1[..2] == MAGIC && v1[2] == RETIRED_VERSION => {
                PayloadError::RetiredVersion(RETIRED_VERSION)
            }
            _ => PayloadError::Encoding(e),
        }
    })
}

/// A verified declaration with its validity window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDeclaration {
    pub declaration: Declaration,
    pub key_id: u32,
    pub issued_at: u32,
    pub expires_at: u32,
    /// SHA-256 of the signed envelope: identifies this declaration.
    pub digest: [u8; 32],
}

impl VerifiedDeclaration {
    /// What the replay check keeps for one traveller: a family shares one
    /// declaration and each member passes the gate once with it. SHA-256
    /// over a label, the envelope digest and the traveller's passport
    /// identity (passport number, nationality, date of birth) as the
    /// declaration lists it. `None` when `traveller` is not on the declaration.
    pub fn replay_key(&self, traveller: Traveller) -> Option<[u8; 32]> {
        let (number, nationality, dob) = match traveller {
            Traveller::Holder => {
                let h = &self.declaration.holder;
                (&h.passport_number, &h.nationality, &h.date_of_birth)
            }
            Traveller::Member(i) => {
                let m = self.declaration.family.members.get(i)?;
                (&m.passport_number, &m.nationality, &m.date_of_birth)
            }
        };
        let mut h = Sha256::new();
        h.update(b"C5360 replay v2\0");
        h.update(self.digest);
        for field in [number, nationality, dob] {
            h.update(field.as_bytes());
            h.update([0]);
        }
        Some(h.finalize().into())
    }

    /// The replay key of the holder of the passport with these MRZ fields,
    /// `None` when the declaration does not belong to it.
    pub fn replay_key_for(&self, mrz: &crate::passport::mrz::Mrz) -> Option<[u8; 32]> {
        self.replay_key(self.declaration.traveller(mrz)?)
    }
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

    /// Trust a key (rotation: add the new key beside the old one).
    pub fn add(&mut self, key: VerifyingKey) -> u32 {
        let id = key_id(&key);
        self.keys.insert(id, key);
        id
    }

    /// Stop trusting a key (rotation: once no valid code can carry it).
    pub fn remove(&mut self, id: u32) -> bool {
        self.keys.remove(&id).is_some()
    }

    /// The trusted key ids, ascending.
    pub fn key_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.keys.keys().copied().collect();
        ids.sort_unstable();
        ids
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

    /// Verify envelope bytes: layout, key id, signature, validity window, and
    /// only then the body.
    pub fn verify(&self, bytes: &[u8], now: u32) -> Result<VerifiedDeclaration, PayloadError> {
        let env = Envelope::parse(bytes)?;
        let key = self.keys.get(&env.key_id).ok_or(PayloadError::UnknownKey(env.key_id))?;
        key.verify(env.signed_part, &Signature::from_bytes(&env.signature))
            .map_err(|_| PayloadError::BadSignature)?;
        if env.expires_at < env.issued_at {
            return Err(PayloadError::InvalidWindow);
        }
        if now.saturating_add(self.clock_skew_secs) < env.issued_at {
            return Err(PayloadError::NotYetValid);
        }
        if now > env.expires_at.saturating_add(self.clock_skew_secs) {
            return Err(PayloadError::Expired);
        }
        let declaration = body::decode(env.body).map_err(PayloadError::Body)?;
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

/// Seed of the key that signs the test vectors of docs/declaration-qr.md.
pub const TEST_VECTOR_KEY_SEED: &str = "egate declaration test vector key";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::tests::{family_of_four, sample};
    use crate::declaration::{AlcoholClass, Answers, Family, FamilyMember, GoodsKind, GoodsLine, Holder};
    use proptest::prelude::*;

    const NOW: u32 = 1_795_000_000;

    fn setup() -> (SigningKey, TrustStore) {
        let key = signing_key_from_seed("test");
        let mut trust = TrustStore::new();
        trust.add(key.verifying_key());
        (key, trust)
    }

    fn envelope(decl: &Declaration, key: &SigningKey) -> Vec<u8> {
        sign_envelope(decl, key, NOW, NOW + 3600).unwrap()
    }

    #[test]
    fn round_trip() {
        let (key, trust) = setup();
        for decl in [sample(), family_of_four()] {
            let qr = sign(&decl, &key, NOW, NOW + 3600).unwrap();
            assert!(qr.starts_with(QR_PREFIX));
            let v = trust.verify_qr(&qr, NOW + 10).unwrap();
            assert_eq!(v.declaration, decl);
            assert_eq!(v.key_id, key_id(&key.verifying_key()));
            assert_eq!((v.issued_at, v.expires_at), (NOW, NOW + 3600));
        }
    }

    #[test]
    fn the_text_is_qr_alphanumeric() {
        let (key, _) = setup();
        let qr = sign(&family_of_four(), &key, NOW, NOW + 3600).unwrap();
        assert!(qr.bytes().all(|c| base45::ALPHABET.contains(&c)), "{qr}");
    }

    #[test]
    fn every_kind_of_bad_payload_has_its_own_error() {
        let (key, trust) = setup();
        let env = envelope(&sample(), &key);

        assert_eq!(trust.verify_qr("https://example.com", NOW), Err(PayloadError::Foreign));
        assert_eq!(
            trust.verify_qr("C5360:abc", NOW),
            Err(PayloadError::Encoding(Base45Error::Character('a')))
        );
        // One byte altered: in the body, the times, the signature.
        let mut altered = env.clone();
        altered[HEADER_LEN + 5] ^= 1;
        assert_eq!(trust.verify(&altered, NOW), Err(PayloadError::BadSignature));
        let mut later = env.clone();
        later[14] ^= 1;
        assert_eq!(trust.verify(&later, NOW), Err(PayloadError::BadSignature));
        let mut bad_sig = env.clone();
        *bad_sig.last_mut().unwrap() ^= 0x80;
        assert_eq!(trust.verify(&bad_sig, NOW), Err(PayloadError::BadSignature));
        // Forged with another key, or relabelled with a trusted key id.
        let forger = signing_key_from_seed("forger");
        let forged = envelope(&sample(), &forger);
        assert_eq!(
            trust.verify(&forged, NOW),
            Err(PayloadError::UnknownKey(key_id(&forger.verifying_key())))
        );
        let mut relabelled = forged.clone();
        relabelled[3..7].copy_from_slice(&env[3..7]);
        assert_eq!(trust.verify(&relabelled, NOW), Err(PayloadError::BadSignature));
        // Times.
        assert_eq!(trust.verify(&env, NOW + 3600 + 301), Err(PayloadError::Expired));
        assert!(trust.verify(&env, NOW + 3600 + 300).is_ok());
        assert_eq!(trust.verify(&env, NOW - 301), Err(PayloadError::NotYetValid));
        assert!(trust.verify(&env, NOW - 300).is_ok());
        let backwards = sign_envelope(&sample(), &key, NOW, NOW - 1);
        assert_eq!(backwards, Err(SignError::InvalidWindow));
        // Versions.
        let mut v3 = env.clone();
        v3[2] = 3;
        assert_eq!(trust.verify(&v3, NOW), Err(PayloadError::UnsupportedVersion(3)));
        let mut v1 = env.clone();
        v1[2] = 1;
        assert_eq!(trust.verify(&v1, NOW), Err(PayloadError::RetiredVersion(1)));
        // Sizes.
        assert_eq!(trust.verify(&env[..env.len() - 1], NOW), Err(PayloadError::Truncated(env.len() - 1)));
        assert_eq!(trust.verify(&env[..40], NOW), Err(PayloadError::Truncated(40)));
        assert_eq!(trust.verify(&env[..10], NOW), Err(PayloadError::Truncated(10)));
        assert_eq!(trust.verify(&env[..2], NOW), Err(PayloadError::Truncated(2)));
        let mut long = env.clone();
        long.push(0);
        assert_eq!(trust.verify(&long, NOW), Err(PayloadError::TrailingBytes(1)));
        assert_eq!(trust.verify(b"XX\x02", NOW), Err(PayloadError::BadMagic));
        assert_eq!(trust.verify(&vec![0u8; 5000], NOW), Err(PayloadError::Oversized(5000)));
        assert!(matches!(trust.verify_qr(&qr_text(&vec![7u8; 3000]), NOW), Err(PayloadError::Oversized(_))));
        // Truncated QR text: the base45 groups no longer line up, or the envelope is short.
        let text = qr_text(&env);
        for cut in 1..=6 {
            let e = trust.verify_qr(&text[..text.len() - cut], NOW).unwrap_err();
            assert!(matches!(e, PayloadError::Encoding(_) | PayloadError::Truncated(_)), "cut {cut}: {e:?}");
        }
        let short = qr_text(&env[..env.len() - 2]);
        assert_eq!(trust.verify_qr(&short, NOW), Err(PayloadError::Truncated(env.len() - 2)));
    }

    #[test]
    fn a_version_1_code_is_recognised_and_refused() {
        let (_, trust) = setup();
        // What the version 1 app made: base64url of "C5" 01 ...
        let mut v1 = b"C5\x01".to_vec();
        v1.extend_from_slice(&[0u8; 90]);
        let text = format!("{QR_PREFIX}{}", B64URL.encode(&v1));
        assert_eq!(trust.verify_qr(&text, NOW), Err(PayloadError::RetiredVersion(1)));
        assert!(PayloadError::RetiredVersion(1).to_string().contains("update the declaration app"));
    }

    #[test]
    fn a_signed_but_malformed_body_is_refused_after_the_signature() {
        let (key, trust) = setup();
        // Build an envelope around a body that is not a declaration.
        let body = [0xa1, 0x09, 0x00];
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&key_id(&key.verifying_key()).to_be_bytes());
        out.extend_from_slice(&NOW.to_be_bytes());
        out.extend_from_slice(&(NOW + 60).to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(&body);
        let sig = key.sign(&out);
        out.extend_from_slice(&sig.to_bytes());
        assert_eq!(
            trust.verify(&out, NOW),
            Err(PayloadError::Body(BodyError::UnknownField { within: "declaration", key: 9 }))
        );
    }

    #[test]
    fn keys_rotate_by_id() {
        let old = signing_key_from_seed("service 2026");
        let new = signing_key_from_seed("service 2027");
        let mut trust = TrustStore::new();
        let old_id = trust.add(old.verifying_key());
        let from_old = envelope(&sample(), &old);
        let from_new = envelope(&sample(), &new);
        assert!(trust.verify(&from_old, NOW).is_ok());
        assert!(matches!(trust.verify(&from_new, NOW), Err(PayloadError::UnknownKey(_))));
        let new_id = trust.add(new.verifying_key());
        assert!(trust.verify(&from_old, NOW).is_ok());
        assert!(trust.verify(&from_new, NOW).is_ok());
        assert!(trust.remove(old_id));
        assert_eq!(trust.key_ids(), vec![new_id]);
        assert_eq!(trust.verify(&from_old, NOW), Err(PayloadError::UnknownKey(old_id)));
        assert!(trust.verify(&from_new, NOW).is_ok());
    }

    #[test]
    fn signing_refuses_what_the_kiosk_would_refuse() {
        let key = signing_key_from_seed("test");
        let mut d = sample();
        d.arrival_date = "23/11/2026".into();
        assert!(matches!(sign(&d, &key, NOW, NOW + 1), Err(SignError::Body(BodyError::Invalid(_)))));
        let mut d = sample();
        let kind = GoodsKind::Alcohol { class: AlcoholClass::Liqueur, bottle_ml: 20_000 };
        d.goods = (0..32)
            .map(|_| GoodsLine {
                kind,
                description: "x".repeat(40),
                quantity: 1_000_000,
                value_yen: 100_000_000_000,
            })
            .collect();
        d.holder.address_in_japan = "a".repeat(120);
        assert!(matches!(sign(&d, &key, NOW, NOW + 1), Err(SignError::TooLarge(_))));
    }

    #[test]
    fn each_family_member_has_its_own_replay_key() {
        let (key, trust) = setup();
        let v = trust.verify(&envelope(&family_of_four(), &key), NOW).unwrap();
        let keys: Vec<_> =
            [Traveller::Holder, Traveller::Member(0), Traveller::Member(1), Traveller::Member(2)]
                .into_iter()
                .map(|t| v.replay_key(t).unwrap())
                .collect();
        for i in 0..keys.len() {
            for j in i + 1..keys.len() {
                assert_ne!(keys[i], keys[j]);
            }
        }
        assert_eq!(v.replay_key(Traveller::Member(3)), None);
        // The same declaration signed again is another declaration.
        let again =
            trust.verify(&sign_envelope(&family_of_four(), &key, NOW + 1, NOW + 3600).unwrap(), NOW).unwrap();
        assert_ne!(again.replay_key(Traveller::Holder), v.replay_key(Traveller::Holder));
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
            let mut with_magic = b"C5\x02".to_vec();
            with_magic.extend_from_slice(&bytes);
            assert!(trust.verify(&with_magic, NOW).is_err());
            assert!(body::decode(&bytes).is_err() || bytes.is_empty());
            assert!(trust.verify_qr(&qr_text(&bytes), NOW).is_err());
        }
    }

    // ---- test vectors (docs/declaration-qr.md) -------------------------------

    const VECTOR_ISSUED_AT: u32 = 1_795_392_000; // 2026-11-23T00:00:00Z
    const VECTOR_EXPIRES_AT: u32 = VECTOR_ISSUED_AT + 3 * 86_400;

    fn vector_one() -> Declaration {
        sample()
    }

    fn vector_two() -> Declaration {
        family_of_four()
    }

    const VECTOR_ONE_HEX: &str = concat!(
        "433502695582c96b0382006b0776800070a400654e4832313201634c4852021a0135290303a800684552494b53534f4e",
        "016a414e4e41204d41524941026355544f031a000b4dcc04694c38393839303243330568454e47494e4545520672312d",
        "3120436869796f64612c20546f6b796f076f2b38312d332d303030302d30303030e7800d833b83ed3e08276f1cd7a01f",
        "a24cc8344e6fbe2f4b6d3f00a28db7a4279c9b4fd9a7ef80107984afdce1a1bbace57061b5073383b9aab2e5586d9d1d",
        "06"
    );
    const VECTOR_ONE_QR: &str = "C5360:FM8WD0K A%KP/J0H20K.088G AEB20F+9OF6LE6+OCJ69/B0*60E85 K0E20GY8/B91OA71A280NB88+9Y34RB8XB9QD0JZAM:9-C3DJ1SZP1ED%47%47846DM8YU0CY8O09C+9GY8U 0Y96L96LN81FDV3E CC-34%3E$FFD.0*K5Y966L66466463W5646986L8GPQGNUG+$7F:43T3-AKDNK.DP9-9.1O4O9I/7XOKW9NF05OSJ9NRMCUW32$YGP-R3KKQ%LE9E%*M2N6ALNWRM28B %J60";
    const VECTOR_TWO_HEX: &str = concat!(
        "433502695582c96b0382006b077680011ba700654e4832313201634c4852021a0135290303a800684552494b53534f4e",
        "016a414e4e41204d41524941026355544f031a000b4dcc04694c38393839303243330568454e47494e45455206782c48",
        "6f74656c2053616b7572612c20322d332d34204173616b7573612c20546169746f2d6b752c20546f6b796f076f2b3831",
        "2d332d313233342d3536373804a4000101010201038382694c38393839303343311a000b99f082694c38393839303443",
        "391a0001d72782694c38393839303543361a00035bc505a10002068a841404195dc01902ee8410021975301902bc8301",
        "190190192ee0830305190bb8830518641961a88400011a0003d090008400011a000249f008840002198ca00584000619",
        "1770108400011a00015f9002f324022ec58a179dc6b1f8501cac858708a2f41fde5324ea43e71ff1e7d5aefc90f87eca",
        "b4dd26a8593088abafe7cf38a7efee0c73d50feafc067a1bba788309"
    );
    const VECTOR_TWO_QR: &str = "C5360:FM8WD0K A%KP/J0H20K.098GEM3B20F+9OF6LE6+OCJ69/B0*60E85 K0E20GY8/B91OA71A280NB88+9Y34RB8XB9QD0JZAM:9-C3DJ1SZP1ED%47%47846DM8YU0CY8O09C+9GY8  0-Q524E: C+349EC6%E CC7346W57W5M34HQEEQDHQE1Q51UA-EDL2EEQD1Q5FUAIQDS1EJ2EU476W54W5QF6$Q6WW66:6IQ0100W50IB0:J0+LGRS9NA7FA7SL6F96B00XKJ+LGRS9NA7FA7ER6%97100:8R+LGRS9NA7FA70X6Z$63003RB1W02009$0HVGEN0F%BC73+6U312$93S36PF0CPGB73Y9IU-5EPG0T0UL1GPGY33H93UDL100-C3VL099I.UGC60200SF9K31200FA3FAK.UGVY0F/2/32100-C3 70B9I9XUIC0Z/OF:2F5PSHV5S3S*G541Z%UZ4S0U4DQ8W14*DTL5MWEID1G-%M-*4HCBMCHVAM%8QGALA4U/SEO02X%VTJF PNKPG";

    const SPEC: &str = include_str!("../../../docs/declaration-qr.md");

    fn check_vector(decl: &Declaration, hex_want: &str, qr_want: &str) {
        let key = signing_key_from_seed(TEST_VECTOR_KEY_SEED);
        let env = sign_envelope(decl, &key, VECTOR_ISSUED_AT, VECTOR_EXPIRES_AT).unwrap();
        let got_hex = hex::encode(&env);
        let got_qr = qr_text(&env);
        assert_eq!(got_hex, hex_want, "payload hex changed:\n{got_hex}\nQR text:\n{got_qr}");
        assert_eq!(got_qr, qr_want, "QR text changed:\n{got_qr}");
        // And the spec shows the same (hex wrapped, QR text on one line).
        let spec_compact: String = SPEC.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(spec_compact.contains(hex_want), "docs/declaration-qr.md lacks the payload hex");
        assert!(SPEC.contains(qr_want), "docs/declaration-qr.md lacks the QR text");
        let public = hex::encode(key.verifying_key().as_bytes());
        assert!(SPEC.contains(&public), "docs/declaration-qr.md lacks the public key {public}");
        let id = format!("{:08x}", key_id(&key.verifying_key()));
        assert!(SPEC.contains(&format!("`{id}`")), "docs/declaration-qr.md lacks the key id {id}");
        // The vector verifies with the test vector key.
        let mut trust = TrustStore::new();
        trust.add(key.verifying_key());
        assert_eq!(trust.verify_qr(qr_want, VECTOR_ISSUED_AT).unwrap().declaration, *decl);
    }

    #[test]
    fn test_vector_one_single_passenger() {
        check_vector(&vector_one(), VECTOR_ONE_HEX, VECTOR_ONE_QR);
    }

    #[test]
    fn test_vector_two_family_of_four() {
        check_vector(&vector_two(), VECTOR_TWO_HEX, VECTOR_TWO_QR);
    }

    #[test]
    fn the_fuzz_seeds_are_valid_declarations() {
        // fuzz/seeds/declaration_payload: the vectors re-signed with the demo
        // key, so that the fuzzer starts from payloads that verify.
        let mut trust = TrustStore::new();
        trust.add(signing_key_from_seed(DEMO_SERVICE_KEY_SEED).verifying_key());
        let single = include_bytes!("../../../fuzz/seeds/declaration_payload/single.envelope");
        let family = include_bytes!("../../../fuzz/seeds/declaration_payload/family.envelope");
        let family_qr = include_str!("../../../fuzz/seeds/declaration_payload/family.qr.txt");
        let family_body = include_bytes!("../../../fuzz/seeds/declaration_payload/family.body.cbor");
        let v1 = include_str!("../../../fuzz/seeds/declaration_payload/version1.qr.txt");
        assert_eq!(trust.verify(single, VECTOR_ISSUED_AT).unwrap().declaration, vector_one());
        assert_eq!(trust.verify(family, VECTOR_ISSUED_AT).unwrap().declaration, vector_two());
        assert_eq!(trust.verify_qr(family_qr, VECTOR_ISSUED_AT).unwrap().declaration, vector_two());
        assert_eq!(body::decode(family_body).unwrap(), vector_two());
        assert_eq!(trust.verify_qr(v1, VECTOR_ISSUED_AT), Err(PayloadError::RetiredVersion(1)));
    }

    // ---- property tests ------------------------------------------------------

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9 ,.'/+-]{{0,{max}}}")).unwrap()
    }
    fn some_text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Z0-9][A-Za-z0-9 ,.'/+-]{{0,{}}}", max - 1)).unwrap()
    }
    fn unicode(max: usize) -> impl Strategy<Value = String> {
        // Names and addresses in any script (a byte limit applies).
        proptest::string::string_regex(&format!(
            "[a-zA-Z\u{3041}-\u{3093}\u{4e00}-\u{4e20}\u{e9} ]{{0,{}}}",
            max / 3
        ))
        .unwrap()
    }
    fn passport() -> impl Strategy<Value = String> {
        "[A-Z0-9<]{1,20}"
    }
    fn nationality() -> impl Strategy<Value = String> {
        "[A-Z<]{3}"
    }
    fn dob() -> impl Strategy<Value = String> {
        "[0-9<]{6}"
    }

    fn kind() -> impl Strategy<Value = GoodsKind> {
        prop_oneof![
            Just(GoodsKind::Other),
            Just(GoodsKind::Cigarettes),
            Just(GoodsKind::Cigars),
            Just(GoodsKind::HeatedTobacco),
            Just(GoodsKind::OtherTobacco),
            Just(GoodsKind::Perfume),
            (proptest::sample::select(AlcoholClass::ALL.to_vec()), 1..=20_000u16)
                .prop_map(|(class, bottle_ml)| GoodsKind::Alcohol { class, bottle_ml }),
        ]
    }

    fn goods_line() -> impl Strategy<Value = GoodsLine> {
        (kind(), text(40), 1..=1_000_000u32, 0..=100_000_000_000u64).prop_map(
            |(kind, description, quantity, value_yen)| {
                let description = if kind == GoodsKind::Other && description.is_empty() {
                    "item".into()
                } else {
                    description
                };
                GoodsLine { kind, description, quantity, value_yen }
            },
        )
    }

    fn member() -> impl Strategy<Value = FamilyMember> {
        (passport(), nationality(), dob()).prop_map(|(passport_number, nationality, date_of_birth)| {
            FamilyMember { passport_number, nationality, date_of_birth }
        })
    }

    fn answers() -> impl Strategy<Value = Answers> {
        (any::<[bool; 6]>(), 0..=1_000_000_000_000_000u64, any::<u32>(), any::<u16>()).prop_map(
            |(f, cash_yen, gold_grams, unaccompanied_packages)| Answers {
                prohibited: f[0],
                over_allowance: f[1],
                commercial: f[2],
                carried_for_others: f[3],
                cash_or_gold: f[4],
                unaccompanied: f[5],
                cash_yen,
                gold_grams,
                unaccompanied_packages,
            },
        )
    }

    fn declaration() -> impl Strategy<Value = Declaration> {
        let holder = (
            unicode(39).prop_filter("surname", |s| !s.is_empty()),
            unicode(39),
            nationality(),
            dob(),
            passport(),
            text(40),
            unicode(120),
            "[+0-9-]{0,20}",
        )
            .prop_map(
                |(
                    surname,
                    given_names,
                    nationality,
                    date_of_birth,
                    passport_number,
                    occupation,
                    address_in_japan,
                    phone,
                )| Holder {
                    surname,
                    given_names,
                    nationality,
                    date_of_birth,
                    passport_number,
                    occupation,
                    address_in_japan,
                    phone,
                },
            );
        let family = (any::<u8>(), any::<u8>(), any::<u8>(), proptest::collection::vec(member(), 0..=9))
            .prop_map(|(age_20_plus, age_6_to_19, under_6, members)| Family {
                age_20_plus,
                age_6_to_19,
                under_6,
                members,
            });
        let date = (2000..=2099u16, 1..=12u8, 1..=28u8).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
        (
            "[A-Z0-9]{1,8}",
            some_text(40),
            date,
            holder,
            family,
            answers(),
            proptest::collection::vec(goods_line(), 0..=12),
        )
            .prop_map(|(flight, departure, arrival_date, holder, family, answers, goods)| {
                Declaration { flight, departure, arrival_date, holder, family, answers, goods }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_declaration_round_trips(decl in declaration()) {
            prop_assert_eq!(decl.validate(), Ok(()));
            let bytes = body::encode(&decl).unwrap();
            prop_assert_eq!(&body::decode(&bytes).unwrap(), &decl);
            let (key, trust) = setup();
            if let Ok(text) = sign(&decl, &key, NOW, NOW + 60) {
                let v = trust.verify_qr(&text, NOW).unwrap();
                prop_assert_eq!(v.declaration, decl);
            }
        }

        #[test]
        fn any_altered_byte_is_refused(decl in declaration(), at in any::<prop::sample::Index>(), flip in 1..=255u8) {
            let (key, trust) = setup();
            if let Ok(mut env) = sign_envelope(&decl, &key, NOW, NOW + 60) {
                let i = at.index(env.len());
                env[i] ^= flip;
                let e = trust.verify(&env, NOW).unwrap_err();
                let expected_kind = match i {
                    0..=1 => matches!(e, PayloadError::BadMagic),
                    2 => matches!(e, PayloadError::UnsupportedVersion(_) | PayloadError::RetiredVersion(1)),
                    3..=6 => matches!(e, PayloadError::UnknownKey(_)),
                    15..=16 => matches!(e, PayloadError::Truncated(_) | PayloadError::TrailingBytes(_)),
                    _ => e == PayloadError::BadSignature,
                };
                prop_assert!(expected_kind, "byte {} altered: {:?}", i, e);
            }
        }

        #[test]
        fn body_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(d) = body::decode(&bytes) {
                prop_assert_eq!(body::encode(&d).unwrap(), bytes);
            }
        }
    }
}
