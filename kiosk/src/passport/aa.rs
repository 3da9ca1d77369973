//! Active Authentication (ICAO 9303 Part 11 §6.1): the terminal sends an
//! 8-byte random challenge in INTERNAL AUTHENTICATE; the chip signs it with
//! the private key whose public key is in DG15 (and so in EF.SOD). A cloned
//! chip copied DG15 but cannot sign.
//!
//! - RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message
//!   recovery. The chip builds `F = 6A || M1 || H(M1 || challenge) || T`
//!   (trailer `BC` for SHA-1, or hash id || `CC`: `33` SHA-1, `34` SHA-256,
//!   `35` SHA-512, `36` SHA-384, `38` SHA-224) and applies the raw private
//!   RSA operation (RustCrypto's hazmat primitive); the terminal applies the
//!   public operation and recovers M1 ([`recover_iso9796_2`], pure).
//! - ECDSA: plain `r || s` (BSI TR-03111) over `H(challenge)`, the hash given
//!   by ActiveAuthenticationInfo in DG14 (required there for ECDSA).
//!
//! Chip side: [`AaPrivateKey::sign_challenge`]. Terminal side: the pure
//! [`verify_response`] and the driver [`active_authentication`].

use der::asn1::ObjectIdentifier as Oid;
use rand_core::CryptoRng;
use rsa::traits::PublicKeyParts as _;
use zeroize::Zeroizing;

use super::apdu::{CommandApdu, EXTENDED_NE_MAX, SHORT_NE_MAX, StatusError, ins, sw};
use super::ca::ec::{self, EcCurve, EcError};
use super::ca::{ChipCheckError, exchange_protected};
use super::oid;
use super::sm::{SecureMessaging, SmError};
use super::tlv::Tlv;
use super::transport::CardTransport;
use super::verdict::Verdict;

/// Length of the terminal's challenge (RND.IFD).
pub const CHALLENGE_LEN: usize = 8;

/// The hash functions AA uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AaHash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl AaHash {
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha1::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            AaHash::Sha1 => run::<sha1::Sha1>(parts),
            AaHash::Sha224 => run::<sha2::Sha224>(parts),
            AaHash::Sha256 => run::<sha2::Sha256>(parts),
            AaHash::Sha384 => run::<sha2::Sha384>(parts),
            AaHash::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            AaHash::Sha1 => 20,
            AaHash::Sha224 => 28,
            AaHash::Sha256 => 32,
            AaHash::Sha384 => 48,
            AaHash::Sha512 => 64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AaHash::Sha1 => "SHA-1",
            AaHash::Sha224 => "SHA-224",
            AaHash::Sha256 => "SHA-256",
            AaHash::Sha384 => "SHA-384",
            AaHash::Sha512 => "SHA-512",
        }
    }

    /// Hash identifier of ISO/IEC 10118-3, used in the two-byte ISO 9796-2 trailer.
    pub fn iso10118_id(self) -> u8 {
        match self {
            AaHash::Sha1 => 0x33,
            AaHash::Sha256 => 0x34,
            AaHash::Sha512 => 0x35,
            AaHash::Sha384 => 0x36,
            AaHash::Sha224 => 0x38,
        }
    }

    pub fn from_iso10118_id(id: u8) -> Option<AaHash> {
        ALL_HASHES.into_iter().find(|h| h.iso10118_id() == id)
    }

    /// The hash of an ECDSA signature algorithm OID as ActiveAuthenticationInfo
    /// gives it (ecdsa-plain-SHA* of TR-03111, or the X9.62 ecdsa-with-SHA*).
    pub fn from_signature_oid(alg: &Oid) -> Option<AaHash> {
        let table = [
            (oid::ECDSA_PLAIN_SHA1, AaHash::Sha1),
            (oid::ECDSA_PLAIN_SHA224, AaHash::Sha224),
            (oid::ECDSA_PLAIN_SHA256, AaHash::Sha256),
            (oid::ECDSA_PLAIN_SHA384, AaHash::Sha384),
            (oid::ECDSA_PLAIN_SHA512, AaHash::Sha512),
            (oid::ECDSA_WITH_SHA1, AaHash::Sha1),
            (oid::ECDSA_WITH_SHA224, AaHash::Sha224),
            (oid::ECDSA_WITH_SHA256, AaHash::Sha256),
            (oid::ECDSA_WITH_SHA384, AaHash::Sha384),
            (oid::ECDSA_WITH_SHA512, AaHash::Sha512),
        ];
        table.into_iter().find(|(o, _)| o == alg).map(|(_, h)| h)
    }

    /// The ecdsa-plain-SHA* OID of TR-03111 (for ActiveAuthenticationInfo).
    pub fn ecdsa_plain_oid(self) -> Oid {
        match self {
            AaHash::Sha1 => oid::ECDSA_PLAIN_SHA1,
            AaHash::Sha224 => oid::ECDSA_PLAIN_SHA224,
            AaHash::Sha256 => oid::ECDSA_PLAIN_SHA256,
            AaHash::Sha384 => oid::ECDSA_PLAIN_SHA384,
            AaHash::Sha512 => oid::ECDSA_PLAIN_SHA512,
        }
    }
}

const ALL_HASHES: [AaHash; 5] =
    [AaHash::Sha1, AaHash::Sha224, AaHash::Sha256, AaHash::Sha384, AaHash::Sha512];

/// Problems with an AA key (chip image or DG15).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AaKeyError {
    #[error("the Active Authentication key is not valid PKCS#8/SPKI DER: {0}")]
    Encoding(String),
    #[error("Active Authentication key algorithm {0} is not supported (RSA or EC only)")]
    UnsupportedAlgorithm(String),
    #[error("the RSA modulus has {0} bits; ISO/IEC 9796-2 AA needs a whole number of bytes")]
    UnalignedModulus(usize),
    #[error("the RSA key is too small ({0} bits) for a signature with message recovery")]
    ModulusTooSmall(usize),
    #[error("DG15 is malformed: {0}")]
    Dg15(String),
    #[error(transparent)]
    Ec(#[from] EcError),
    #[error("RSA operation failed: {0}")]
    Rsa(String),
}

/// The chip's Active Authentication private key.
#[derive(Clone)]
pub enum AaPrivateKey {
    Rsa(Box<rsa::PrivateKey>),
    Ec { curve: EcCurve, scalar: Zeroizing<Vec<u8>> },
}

impl std::fmt::Debug for AaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AaPrivateKey({}, <secret>)", self.public_key().describe())
    }
}

impl PartialEq for AaPrivateKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AaPrivateKey::Rsa(a), AaPrivateKey::Rsa(b)) => a == b,
            (AaPrivateKey::Ec { curve: c1, scalar: s1 }, AaPrivateKey::Ec { curve: c2, scalar: s2 }) => {
                c1 == c2 && s1 == s2
            }
            _ => false,
        }
    }
}

impl Eq for AaPrivateKey {}

impl AaPrivateKey {
    /// An RSA or EC (named curve) key in PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<AaPrivateKey, AaKeyError> {
        use rsa::pkcs8::{DecodePrivateKey as _, PrivateKeyInfoRef};
        let info = PrivateKeyInfoRef::try_from(der).map_err(|e| AaKeyError::Encoding(e.to_string()))?;
        match info.algorithm.oid {
            o if o == oid::RSA_ENCRYPTION => {
                let key =
                    rsa::PrivateKey::from_pkcs8_der(der).map_err(|e| AaKeyError::Encoding(e.to_string()))?;
                check_rsa_modulus(key.n().bit_width() as usize)?;
                Ok(AaPrivateKey::Rsa(Box::new(key)))
            }
            o if o == oid::EC_PUBLIC_KEY => {
                let (curve, scalar) = ec::private_key_from_pkcs8(der)?;
                Ok(AaPrivateKey::Ec { curve, scalar })
            }
            other => Err(AaKeyError::UnsupportedAlgorithm(other.to_string())),
        }
    }

    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, AaKeyError> {
        use rsa::pkcs8::EncodePrivateKey as _;
        match self {
            AaPrivateKey::Rsa(key) => {
                let doc = key.to_pkcs8_der().map_err(|e| AaKeyError::Encoding(e.to_string()))?;
                Ok(Zeroizing::new(doc.as_bytes().to_vec()))
            }
            AaPrivateKey::Ec { curve, scalar } => Ok(curve.private_key_to_pkcs8(scalar)?),
        }
    }

    /// A new RSA key (1024 bits and up, whole bytes). Slow: seconds for 2048.
    pub fn generate_rsa<R: CryptoRng + ?Sized>(bits: usize, rng: &mut R) -> Result<AaPrivateKey, AaKeyError> {
        check_rsa_modulus(bits)?;
        let key = rsa::PrivateKey::new(rng, bits).map_err(|e| AaKeyError::Rsa(e.to_string()))?;
        Ok(AaPrivateKey::Rsa(Box::new(key)))
    }

    pub fn generate_ec<R: CryptoRng + ?Sized>(curve: EcCurve, rng: &mut R) -> AaPrivateKey {
        let (scalar, _) = curve.generate_key_pair(rng);
        AaPrivateKey::Ec { curve, scalar }
    }

    pub fn public_key(&self) -> AaPublicKey {
        match self {
            AaPrivateKey::Rsa(key) => AaPublicKey::Rsa(key.to_public_key()),
            AaPrivateKey::Ec { curve, scalar } => {
                // A stored scalar was validated when the key was built.
                let point = curve.public_key(scalar).unwrap_or_default();
                AaPublicKey::Ec { curve: *curve, point }
            }
        }
    }

    /// The chip's INTERNAL AUTHENTICATE answer to `challenge`. `hash` is the
    /// chip's configured hash (for RSA, `None` means SHA-1 with trailer BC;
    /// for ECDSA, `None` means SHA-256).
    pub fn sign_challenge<R: CryptoRng + ?Sized>(
        &self,
        challenge: &[u8],
        hash: Option<AaHash>,
        rng: &mut R,
    ) -> Result<Vec<u8>, AaKeyError> {
        match self {
            AaPrivateKey::Rsa(key) => sign_iso9796_2(key, challenge, hash.unwrap_or(AaHash::Sha1), rng),
            AaPrivateKey::Ec { curve, scalar } => {
                let digest = hash.unwrap_or(AaHash::Sha256).digest(&[challenge]);
                let mut entropy = [0u8; 32];
                rng.fill_bytes(&mut entropy);
                Ok(curve.sign_digest(scalar, &digest, &entropy)?)
            }
        }
    }
}

fn check_rsa_modulus(bits: usize) -> Result<(), AaKeyError> {
    if !bits.is_multiple_of(8) {
        return Err(AaKeyError::UnalignedModulus(bits));
    }
    if bits < 512 {
        return Err(AaKeyError::ModulusTooSmall(bits));
    }
    Ok(())
}

/// ISO/IEC 9796-2 scheme 1, partial recovery: M1 random, M2 = challenge.
fn sign_iso9796_2<R: CryptoRng + ?Sized>(
    key: &rsa::PrivateKey,
    challenge: &[u8],
    hash: AaHash,
    rng: &mut R,
) -> Result<Vec<u8>, AaKeyError> {
    let k = key.size();
    let trailer: Vec<u8> = if hash == AaHash::Sha1 { vec![0xBC] } else { vec![hash.iso10118_id(), 0xCC] };
    let m1_len = k
        .checked_sub(1 + hash.output_len() + trailer.len())
        .filter(|&n| n > 0)
        .ok_or(AaKeyError::ModulusTooSmall(k * 8))?;
    let mut m1 = vec![0u8; m1_len];
    rng.fill_bytes(&mut m1);
    let digest = hash.digest(&[&m1, challenge]);
    let mut f = Zeroizing::new(Vec::with_capacity(k));
    f.push(0x6A);
    f.extend_from_slice(&m1);
    f.extend_from_slice(&digest);
    f.extend_from_slice(&trailer);
    let f_int = rsa::BoxedUint::from_be_slice(&f, key.n_bits_precision())
        .map_err(|e| AaKeyError::Rsa(format!("{e:?}")))?;
    let s = rsa::hazmat::rsa_decrypt_and_check(key, Some(rng), &f_int)
        .map_err(|e| AaKeyError::Rsa(e.to_string()))?;
    Ok(left_pad(&s.to_be_bytes(), k))
}

fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let skip = bytes.len().saturating_sub(len);
    let significant = bytes.get(skip..).unwrap_or_default();
    let mut out = vec![0u8; len - significant.len()];
    out.extend_from_slice(significant);
    out
}

/// The AA public key from DG15.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AaPublicKey {
    Rsa(rsa::PublicKey),
    Ec { curve: EcCurve, point: Vec<u8> },
}

impl AaPublicKey {
    /// DG15: tag 6F holding the SubjectPublicKeyInfo.
    pub fn from_dg15(dg15: &[u8]) -> Result<AaPublicKey, AaKeyError> {
        let t = Tlv::parse_expecting(dg15, 0x6F).map_err(|e| AaKeyError::Dg15(e.to_string()))?;
        let spki_len = Tlv::parse(t.value).map_err(|e| AaKeyError::Dg15(e.to_string()))?.encoded_len;
        AaPublicKey::from_spki_der(t.value.get(..spki_len).unwrap_or_default())
    }

    /// A SubjectPublicKeyInfo: rsaEncryption, or id-ecPublicKey with a named
    /// curve or explicit domain parameters.
    pub fn from_spki_der(spki_der: &[u8]) -> Result<AaPublicKey, AaKeyError> {
        use der::{Decode as _, Encode as _};
        let enc = |e: der::Error| AaKeyError::Encoding(e.to_string());
        let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(enc)?;
        match spki.algorithm.oid {
            o if o == oid::RSA_ENCRYPTION => {
                use rsa::pkcs8::DecodePublicKey as _;
                let key = rsa::PublicKey::from_public_key_der(spki_der)
                    .map_err(|e| AaKeyError::Encoding(e.to_string()))?;
                check_rsa_modulus(key.n().bit_width() as usize)?;
                Ok(AaPublicKey::Rsa(key))
            }
            o if o == oid::EC_PUBLIC_KEY => {
                let params = spki.algorithm.parameters.ok_or_else(|| {
                    AaKeyError::Encoding("the EC public key has no domain parameters".into())
                })?;
                let params = params.to_der().map_err(enc)?;
                let point = spki.subject_public_key.as_bytes().ok_or_else(|| {
                    AaKeyError::Encoding("the public key bit string is not whole bytes".into())
                })?;
                let (curve, point) = ec::public_key_from_spki_parts(&params, point)?;
                Ok(AaPublicKey::Ec { curve, point })
            }
            other => Err(AaKeyError::UnsupportedAlgorithm(other.to_string())),
        }
    }

    /// SubjectPublicKeyInfo DER (named curve for EC), for DG15.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, AaKeyError> {
        match self {
            AaPublicKey::Rsa(key) => {
                use rsa::pkcs8::EncodePublicKey as _;
                let doc = key.to_public_key_der().map_err(|e| AaKeyError::Encoding(e.to_string()))?;
                Ok(doc.as_bytes().to_vec())
            }
            AaPublicKey::Ec { curve, point } => Ok(curve.public_key_to_spki(point)?),
        }
    }

    /// DG15 holding this key (tag 6F around the SubjectPublicKeyInfo).
    pub fn to_dg15(&self) -> Result<Vec<u8>, AaKeyError> {
        Ok(super::tlv::encode(0x6F, &self.to_spki_der()?))
    }

    /// "RSA 1024-bit", "ECDSA brainpoolP256r1".
    pub fn describe(&self) -> String {
        match self {
            AaPublicKey::Rsa(key) => format!("RSA {}-bit", key.n().bit_width()),
            AaPublicKey::Ec { curve, .. } => format!("ECDSA {}", curve.name()),
        }
    }
}

/// What is wrong with a recovered ISO/IEC 9796-2 message representative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Iso9796Error {
    #[error("the message representative is empty")]
    Empty,
    #[error("header {0:02X}: not an ISO/IEC 9796-2 signature (wrong key or forged answer)")]
    BadHeader(u8),
    #[error("header {0:02X} announces total recovery, but AA signs with partial recovery")]
    NotPartialRecovery(u8),
    #[error("trailer {0:02X?} is neither BC nor a known hash id followed by CC")]
    BadTrailer(Vec<u8>),
    #[error("the padding field never ends with nibble A")]
    BadPadding,
    #[error("the representative is too short for a {0} digest and a message")]
    TooShort(&'static str),
}

/// The parts of a recovered ISO/IEC 9796-2 message representative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered<'a> {
    pub hash: AaHash,
    /// The recoverable message part (the chip's random M1).
    pub m1: &'a [u8],
    /// H(M1 || M2) as the chip computed it.
    pub digest: &'a [u8],
}

/// Split `F = header/padding || M1 || H || trailer`. Pure, never panics.
pub fn recover_iso9796_2(f: &[u8]) -> Result<Recovered<'_>, Iso9796Error> {
    let (&first, _) = f.split_first().ok_or(Iso9796Error::Empty)?;
    if first & 0xC0 != 0x40 {
        return Err(Iso9796Error::BadHeader(first));
    }
    if first & 0x20 == 0 {
        return Err(Iso9796Error::NotPartialRecovery(first));
    }
    let (hash, trailer_len) = match f {
        [.., 0xBC] => (AaHash::Sha1, 1),
        [.., id, 0xCC] => {
            (AaHash::from_iso10118_id(*id).ok_or_else(|| Iso9796Error::BadTrailer(vec![*id, 0xCC]))?, 2)
        }
        [.., a, b] => return Err(Iso9796Error::BadTrailer(vec![*a, *b])),
        _ => return Err(Iso9796Error::BadTrailer(f.to_vec())),
    };
    // Padding: nibbles B after the header nibble, the last one A (first byte
    // 6A without padding, else 6B BB .. BA).
    let mut m1_start = None;
    for (i, &b) in f.iter().enumerate() {
        let low = b & 0x0F;
        let high_ok = i == 0 || b >> 4 == 0x0B;
        if !high_ok {
            return Err(Iso9796Error::BadPadding);
        }
        if low == 0x0A {
            m1_start = Some(i + 1);
            break;
        }
        if low != 0x0B {
            return Err(Iso9796Error::BadPadding);
        }
    }
    let m1_start = m1_start.ok_or(Iso9796Error::BadPadding)?;
    let digest_end = f.len() - trailer_len;
    let digest_start =
        digest_end.checked_sub(hash.output_len()).ok_or(Iso9796Error::TooShort(hash.name()))?;
    if digest_start <= m1_start {
        return Err(Iso9796Error::TooShort(hash.name()));
    }
    Ok(Recovered {
        hash,
        m1: f.get(m1_start..digest_start).ok_or(Iso9796Error::TooShort(hash.name()))?,
        digest: f.get(digest_start..digest_end).ok_or(Iso9796Error::TooShort(hash.name()))?,
    })
}

/// Why an AA response does not prove the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AaMismatch {
    #[error("the signature has {got} bytes, the {expected}-byte RSA modulus allows at most that")]
    SignatureLength { got: usize, expected: usize },
    #[error("the signature value is not below the RSA modulus")]
    SignatureOutOfRange,
    #[error("the recovered message is not ISO/IEC 9796-2: {0}")]
    Iso9796(#[from] Iso9796Error),
    #[error("the recovered digest does not match H(M1 || challenge) ({0})")]
    DigestMismatch(&'static str),
    #[error("the ECDSA signature does not verify with the DG15 key ({0})")]
    Ecdsa(String),
}

/// Check the chip's answer to `challenge` against the DG15 key. On success,
/// says what was verified ("RSA 1024-bit, ISO/IEC 9796-2, SHA-1").
/// `ecdsa_hash`: from DG14's ActiveAuthenticationInfo; when absent, SHA-256
/// is tried first and then the other hashes (the detail names the one that
/// held). Pure.
pub fn verify_response(
    key: &AaPublicKey,
    challenge: &[u8],
    response: &[u8],
    ecdsa_hash: Option<AaHash>,
) -> Result<String, AaMismatch> {
    match key {
        AaPublicKey::Rsa(rsa_key) => {
            let k = rsa_key.size();
            if response.is_empty() || response.len() > k {
                return Err(AaMismatch::SignatureLength { got: response.len(), expected: k });
            }
            let s = rsa::BoxedUint::from_be_slice(response, rsa_key.n_bits_precision())
                .map_err(|_| AaMismatch::SignatureOutOfRange)?;
            if s >= *rsa_key.n().as_ref() {
                return Err(AaMismatch::SignatureOutOfRange);
            }
            let m = rsa::hazmat::rsa_encrypt(rsa_key, &s).map_err(|_| AaMismatch::SignatureOutOfRange)?;
            let f = left_pad(&m.to_be_bytes(), k);
            // ISO/IEC 9796-2 allows the signer to send min(J, n - J): the
            // representative then ends in nibble C only after n - m.
            let f = if f.last().is_some_and(|b| b & 0x0F == 0x0C) {
                f
            } else {
                left_pad(&rsa_key.n().as_ref().wrapping_sub(&m).to_be_bytes(), k)
            };
            let rec = recover_iso9796_2(&f)?;
            if rec.hash.digest(&[rec.m1, challenge]) != rec.digest {
                return Err(AaMismatch::DigestMismatch(rec.hash.name()));
            }
            Ok(format!("{}, ISO/IEC 9796-2 scheme 1, {}", key.describe(), rec.hash.name()))
        }
        AaPublicKey::Ec { curve, point } => {
            let candidates: Vec<AaHash> = match ecdsa_hash {
                Some(h) => vec![h],
                None => vec![AaHash::Sha256, AaHash::Sha1, AaHash::Sha224, AaHash::Sha384, AaHash::Sha512],
            };
            let mut last = String::new();
            for h in candidates {
                match curve.verify_digest(point, &h.digest(&[challenge]), response) {
                    Ok(()) => {
                        let origin = if ecdsa_hash.is_some() { "" } else { " (DG14 names no AA algorithm)" };
                        return Ok(format!("{}, ecdsa-plain-{}{origin}", key.describe(), h.name()));
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            Err(AaMismatch::Ecdsa(last))
        }
    }
}

/// INTERNAL AUTHENTICATE with the terminal's challenge. Ne asks for as
/// much as the key's signature needs.
pub fn internal_authenticate(challenge: &[u8], signature_len: usize) -> CommandApdu {
    let ne = if signature_len > SHORT_NE_MAX { EXTENDED_NE_MAX } else { SHORT_NE_MAX };
    CommandApdu::new(0x00, ins::INTERNAL_AUTHENTICATE, 0x00, 0x00).with_data(challenge).with_ne(ne)
}

/// Active Authentication, terminal side, over an open secure-messaging
/// session. `dg15`: the file as read (empty if the chip has none).
/// `aa_info`: the signatureAlgorithm of DG14's ActiveAuthenticationInfo, if
/// any (needed for ECDSA). `Passed` names the algorithm; `Failed` means the
/// chip could not sign with the DG15 key (a cloned chip); link and secure
/// messaging failures are errors, not verdicts.
pub fn active_authentication<R: CryptoRng + ?Sized>(
    transport: &mut dyn CardTransport,
    sm: &mut SecureMessaging,
    dg15: &[u8],
    aa_info: Option<&Oid>,
    rng: &mut R,
) -> Result<Verdict, ChipCheckError> {
    if dg15.is_empty() {
        return Ok(Verdict::not_supported("the chip has no DG15: Active Authentication is not offered"));
    }
    let key = match AaPublicKey::from_dg15(dg15) {
        Ok(key) => key,
        Err(e @ (AaKeyError::UnsupportedAlgorithm(_) | AaKeyError::UnalignedModulus(_))) => {
            return Ok(Verdict::not_supported(format!("Active Authentication: {e}")));
        }
        Err(AaKeyError::Ec(e @ (EcError::UnsupportedCurve(_) | EcError::UnknownExplicitParameters))) => {
            return Ok(Verdict::not_supported(format!("Active Authentication: {e}")));
        }
        Err(e) => {
            return Ok(Verdict::failed(format!("Active Authentication: the DG15 key is unusable: {e}")));
        }
    };
    let ecdsa_hash = match (aa_info, &key) {
        (Some(alg), AaPublicKey::Ec { .. }) => match AaHash::from_signature_oid(alg) {
            Some(h) => Some(h),
            None => {
                return Ok(Verdict::not_supported(format!(
                    "Active Authentication signature algorithm {alg} (DG14) is not implemented"
                )));
            }
        },
        _ => None,
    };
    let signature_len = match &key {
        AaPublicKey::Rsa(k) => k.size(),
        AaPublicKey::Ec { curve, .. } => 2 * curve.field_len(),
    };
    let mut challenge = [0u8; CHALLENGE_LEN];
    rng.fill_bytes(&mut challenge);
    let response = match exchange_protected(transport, sm, &internal_authenticate(&challenge, signature_len))
    {
        Ok(r) => r,
        Err(ChipCheckError::SecureMessaging(SmError::UnprotectedStatus { sw })) => {
            return Ok(Verdict::failed(format!(
                "{}: the chip refused INTERNAL AUTHENTICATE and ended the session ({})",
                key.describe(),
                StatusError::from_sw(sw)
            )));
        }
        Err(e) => return Err(e),
    };
    if response.sw != sw::OK {
        return Ok(Verdict::failed(format!(
            "{}: the chip refused INTERNAL AUTHENTICATE ({}) although DG15 announces Active Authentication",
            key.describe(),
            StatusError::from_sw(response.sw)
        )));
    }
    Ok(match verify_response(&key, &challenge, &response.data, ecdsa_hash) {
        Ok(detail) => Verdict::passed(format!("Active Authentication: {detail}")),
        Err(e) => Verdict::failed(format!(
            "Active Authentication with {}: {e}; the chip does not hold the DG15 private key (cloned chip)",
            key.describe()
        )),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    pub(crate) fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    /// Two 1024-bit RSA keys for the whole test binary (generation is slow).
    pub(crate) fn rsa_keys() -> &'static (AaPrivateKey, AaPrivateKey) {
        static KEYS: OnceLock<(AaPrivateKey, AaPrivateKey)> = OnceLock::new();
        KEYS.get_or_init(|| {
            (
                AaPrivateKey::generate_rsa(1024, &mut rng()).unwrap(),
                AaPrivateKey::generate_rsa(1024, &mut rng()).unwrap(),
            )
        })
    }

    #[test]
    fn rsa_iso9796_2_round_trip_every_hash() {
        let (key, other) = rsa_keys();
        let public = key.public_key();
        let challenge = [1, 2, 3, 4, 5, 6, 7, 8];
        for hash in ALL_HASHES {
            let sig = key.sign_challenge(&challenge, Some(hash), &mut rng()).unwrap();
            assert_eq!(sig.len(), 128);
            let detail = verify_response(&public, &challenge, &sig, None).unwrap();
            assert!(detail.contains(hash.name()), "{detail}");
            // Another challenge, or another key, fails.
            assert!(matches!(
                verify_response(&public, &[0; 8], &sig, None),
                Err(AaMismatch::DigestMismatch(_))
            ));
            let forged = other.sign_challenge(&challenge, Some(hash), &mut rng()).unwrap();
            assert!(verify_response(&public, &challenge, &forged, None).is_err());
        }
        assert!(verify_response(&public, &challenge, &[], None).is_err());
        assert!(verify_response(&public, &challenge, &[0xFF; 128], None).is_err());
        assert!(verify_response(&public, &challenge, &[0x01; 129], None).is_err());
    }

    #[test]
    fn rsa_keys_round_trip_pkcs8_and_dg15() {
        let (key, _) = rsa_keys();
        let der = key.to_pkcs8_der().unwrap();
        assert_eq!(&AaPrivateKey::from_pkcs8_der(&der).unwrap(), key);
        let dg15 = key.public_key().to_dg15().unwrap();
        assert_eq!(AaPublicKey::from_dg15(&dg15).unwrap(), key.public_key());
        assert_eq!(key.public_key().describe(), "RSA 1024-bit");
        assert!(AaPrivateKey::from_pkcs8_der(&der[..der.len() - 1]).is_err());
        assert!(AaPublicKey::from_dg15(&dg15[..dg15.len() - 3]).is_err());
    }

    #[test]
    fn ecdsa_round_trip() {
        let challenge = [9u8; 8];
        for curve in ec::ALL {
            let key = AaPrivateKey::generate_ec(curve, &mut rng());
            let public = AaPublicKey::from_dg15(&key.public_key().to_dg15().unwrap()).unwrap();
            assert_eq!(public, key.public_key());
            let sig = key.sign_challenge(&challenge, Some(AaHash::Sha384), &mut rng()).unwrap();
            let detail = verify_response(&public, &challenge, &sig, Some(AaHash::Sha384)).unwrap();
            assert!(detail.contains("SHA-384") && detail.contains(curve.name()), "{detail}");
            // Without ActiveAuthenticationInfo the hash is found.
            assert!(verify_response(&public, &challenge, &sig, None).is_ok());
            assert!(verify_response(&public, &challenge, &sig, Some(AaHash::Sha256)).is_err());
            assert!(verify_response(&public, &[0; 8], &sig, None).is_err());
            let der = key.to_pkcs8_der().unwrap();
            assert_eq!(AaPrivateKey::from_pkcs8_der(&der).unwrap(), key);
        }
    }

    #[test]
    fn recovery_parser_never_panics_and_names_the_problem() {
        assert_eq!(recover_iso9796_2(&[]), Err(Iso9796Error::Empty));
        assert_eq!(recover_iso9796_2(&[0x00, 0xBC]), Err(Iso9796Error::BadHeader(0)));
        assert_eq!(recover_iso9796_2(&[0x4A, 0xBC]), Err(Iso9796Error::NotPartialRecovery(0x4A)));
        assert!(matches!(recover_iso9796_2(&[0x6A, 1, 2]), Err(Iso9796Error::BadTrailer(_))));
        assert!(matches!(recover_iso9796_2(&[0x6A, 0x99, 0xCC]), Err(Iso9796Error::BadTrailer(_))));
        assert_eq!(recover_iso9796_2(&[0x6A, 0xBC]), Err(Iso9796Error::TooShort("SHA-1")));
        let mut f = vec![0x6B, 0xBB, 0xBA, 0x11, 0x22];
        f.extend([0x55; 20]);
        f.push(0xBC);
        let r = recover_iso9796_2(&f).unwrap();
        assert_eq!((r.m1, r.digest.len(), r.hash), (&[0x11u8, 0x22][..], 20, AaHash::Sha1));
        for len in 0..64usize {
            for seed in 0..32u8 {
                let junk: Vec<u8> =
                    (0..len).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(0x6A)).collect();
                let _ = recover_iso9796_2(&junk);
            }
        }
    }

    #[test]
    fn signature_oids_name_their_hash() {
        assert_eq!(AaHash::from_signature_oid(&oid::ECDSA_PLAIN_SHA256), Some(AaHash::Sha256));
        assert_eq!(AaHash::from_signature_oid(&oid::ECDSA_WITH_SHA1), Some(AaHash::Sha1));
        assert_eq!(AaHash::from_signature_oid(&oid::SHA256), None);
        for h in ALL_HASHES {
            assert_eq!(AaHash::from_iso10118_id(h.iso10118_id()), Some(h));
            assert_eq!(AaHash::from_signature_oid(&h.ecdsa_plain_oid()), Some(h));
            assert_eq!(h.digest(&[b"abc"]).len(), h.output_len());
        }
    }
}
