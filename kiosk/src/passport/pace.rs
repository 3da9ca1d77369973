//! PACE v2 (ICAO 9303 Part 11 §4.4, BSI TR-03110): password-authenticated
//! key agreement with ECDH Generic Mapping, and PACE-CAM (Chip Authentication
//! Mapping), for both ends of the link.
//!
//! - Reader: [`PaceTerminal`] holds the pure steps (command out, response in);
//!   [`authenticate`] drives them over a [`CardTransport`].
//! - Chip: [`ChipPace`] answers MSE:Set AT and the four GENERAL AUTHENTICATE
//!   steps, and yields the chip's [`SecureMessaging`].
//!
//! Protocol: the chip sends z = E(K_pi, s) (K_pi = KDF(password, 3), CBC with
//! a zero IV); both ends exchange mapping keys and compute the mapped
//! generator G' = s·G + H with H = SK_map · PK_map (of the other side); they
//! exchange ephemeral keys on G', derive KS_enc / KS_mac from the x-coordinate
//! of the shared point, and prove it with tokens T = MAC(KS_mac, 7F49 {06 OID,
//! 86 other side's key}). Secure messaging then starts with SSC = 0.
//!
//! Curves: the standardized domain parameters 12 (NIST P-256), 13
//! (brainpoolP256r1), 15 (NIST P-384) and 16 (brainpoolP384r1), all through
//! RustCrypto's group arithmetic. DH, Integrated Mapping and other parameter IDs
//! are typed [`PaceError`]s naming what is missing.
//!
//! Never panics on chip (or reader) data: every point is decoded and checked
//! on the curve, every length is checked.

use der::asn1::ObjectIdentifier;
use elliptic_curve::ff::{Field, PrimeField};
use elliptic_curve::ops::Reduce;
use elliptic_curve::point::AffineCoordinates;
use elliptic_curve::sec1::{FromSec1Point, ModulusSize, ToSec1Point};
use elliptic_curve::{
    AffinePoint, CurveArithmetic, CurveGroup, FieldBytes, FieldBytesSize, Group, ProjectivePoint, Scalar,
};
use rand_core::CryptoRng;
use serde::Serialize;
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::apdu::{CommandApdu, ResponseApdu, StatusError, ins, sw};
use super::oid;
use super::sm::{self, KDF_PACE, SecureMessaging, SessionKeys, SmCipher, SmError, derive_key};
use super::tlv::{self, Tlv};
use super::transport::{CardTransport, TransportError};
use super::verdict::Verdict;

/// Run `function::<Curve>(args)` for the runtime curve.
macro_rules! on_curve {
    ($curve:expr, $function:ident ( $($arg:expr),* )) => {
        match $curve {
            PaceCurve::NistP256 => $function::<p256::NistP256>($($arg),*),
            PaceCurve::BrainpoolP256r1 => $function::<bp256::BrainpoolP256r1>($($arg),*),
            PaceCurve::NistP384 => $function::<p384::NistP384>($($arg),*),
            PaceCurve::BrainpoolP384r1 => $function::<bp384::BrainpoolP384r1>($($arg),*),
        }
    };
}

/// The chip's nonce length. TR-03110 asks for at least 128 bits; one AES block.
pub const NONCE_LEN: usize = 16;

/// Elliptic curves of the standardized PACE domain parameters we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PaceCurve {
    #[serde(rename = "P-256")]
    NistP256,
    #[serde(rename = "brainpoolP256r1")]
    BrainpoolP256r1,
    #[serde(rename = "P-384")]
    NistP384,
    #[serde(rename = "brainpoolP384r1")]
    BrainpoolP384r1,
}

impl PaceCurve {
    /// Standardized domain parameter ID (ICAO 9303 Part 11 §9.5.1).
    pub fn from_parameter_id(parameter_id: u8) -> Result<PaceCurve, PaceError> {
        match parameter_id {
            12 => Ok(PaceCurve::NistP256),
            13 => Ok(PaceCurve::BrainpoolP256r1),
            15 => Ok(PaceCurve::NistP384),
            16 => Ok(PaceCurve::BrainpoolP384r1),
            other => {
                Err(PaceError::UnsupportedParameters { parameter_id: other, name: parameter_name(other) })
            }
        }
    }

    pub fn parameter_id(self) -> u8 {
        match self {
            PaceCurve::NistP256 => 12,
            PaceCurve::BrainpoolP256r1 => 13,
            PaceCurve::NistP384 => 15,
            PaceCurve::BrainpoolP384r1 => 16,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PaceCurve::NistP256 => "NIST P-256",
            PaceCurve::BrainpoolP256r1 => "brainpoolP256r1",
            PaceCurve::NistP384 => "NIST P-384",
            PaceCurve::BrainpoolP384r1 => "brainpoolP384r1",
        }
    }

    /// The curve's named-curve OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            PaceCurve::NistP256 => oid::CURVE_P256,
            PaceCurve::BrainpoolP256r1 => oid::CURVE_BRAINPOOL_P256R1,
            PaceCurve::NistP384 => oid::CURVE_P384,
            PaceCurve::BrainpoolP384r1 => oid::CURVE_BRAINPOOL_P384R1,
        }
    }

    /// Bytes of a field element (and of a scalar, for these curves).
    pub fn field_len(self) -> usize {
        match self {
            PaceCurve::NistP256 | PaceCurve::BrainpoolP256r1 => 32,
            PaceCurve::NistP384 | PaceCurve::BrainpoolP384r1 => 48,
        }
    }
}

impl std::fmt::Display for PaceCurve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a standardized domain parameter ID stands for, for error messages.
fn parameter_name(parameter_id: u8) -> &'static str {
    match parameter_id {
        0 => "1024-bit MODP group with 160-bit subgroup (DH)",
        1 => "2048-bit MODP group with 224-bit subgroup (DH)",
        2 => "2048-bit MODP group with 256-bit subgroup (DH)",
        8 => "NIST P-192 (secp192r1)",
        9 => "brainpoolP192r1",
        10 => "NIST P-224 (secp224r1)",
        11 => "brainpoolP224r1",
        14 => "brainpoolP320r1",
        17 => "brainpoolP512r1",
        18 => "NIST P-521 (secp521r1)",
        3..=7 | 19..=31 => "a reserved ID",
        _ => "a proprietary ID",
    }
}

/// The PACE mapping: Generic Mapping, or Chip Authentication Mapping (GM plus
/// the chip's proof of its static key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceMapping {
    GenericMapping,
    ChipAuthenticationMapping,
}

/// One PACE configuration: protocol OID (as sent in MSE:Set AT and the
/// tokens), mapping, cipher and curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceParams {
    pub oid: ObjectIdentifier,
    pub mapping: PaceMapping,
    pub cipher: SmCipher,
    pub curve: PaceCurve,
}

impl PaceParams {
    /// From a PACEInfo of EF.CardAccess: its protocol OID and its
    /// standardized domain parameter ID.
    pub fn from_pace_info(oid: &ObjectIdentifier, parameter_id: Option<u8>) -> Result<PaceParams, PaceError> {
        let (mapping, cipher) = protocol_of(oid)?;
        let parameter_id = parameter_id.ok_or(PaceError::MissingParameterId)?;
        let curve = PaceCurve::from_parameter_id(parameter_id)?;
        Ok(PaceParams { oid: *oid, mapping, cipher, curve })
    }

    /// The configuration for a mapping, cipher and curve (the chip side and tests).
    pub fn new(mapping: PaceMapping, cipher: SmCipher, curve: PaceCurve) -> Result<PaceParams, PaceError> {
        let oid = match (mapping, cipher) {
            (PaceMapping::GenericMapping, SmCipher::TripleDes) => oid::PACE_ECDH_GM_3DES,
            (PaceMapping::GenericMapping, SmCipher::Aes128) => oid::PACE_ECDH_GM_AES_128,
            (PaceMapping::GenericMapping, SmCipher::Aes192) => oid::PACE_ECDH_GM_AES_192,
            (PaceMapping::GenericMapping, SmCipher::Aes256) => oid::PACE_ECDH_GM_AES_256,
            (PaceMapping::ChipAuthenticationMapping, SmCipher::Aes128) => oid::PACE_ECDH_CAM_AES_128,
            (PaceMapping::ChipAuthenticationMapping, SmCipher::Aes192) => oid::PACE_ECDH_CAM_AES_192,
            (PaceMapping::ChipAuthenticationMapping, SmCipher::Aes256) => oid::PACE_ECDH_CAM_AES_256,
            (PaceMapping::ChipAuthenticationMapping, SmCipher::TripleDes) => {
                return Err(PaceError::UnsupportedProtocol {
                    oid: "id-PACE-ECDH-CAM-3DES".into(),
                    what: "PACE-CAM is defined for AES only",
                });
            }
        };
        Ok(PaceParams { oid, mapping, cipher, curve })
    }

    pub fn parameter_id(&self) -> u8 {
        self.curve.parameter_id()
    }

    /// Short description for logs: "PACE-GM brainpoolP256r1 AES-128".
    pub fn describe(&self) -> String {
        let mapping = match self.mapping {
            PaceMapping::GenericMapping => "PACE-GM",
            PaceMapping::ChipAuthenticationMapping => "PACE-CAM",
        };
        format!("{mapping} {} {}", self.curve, self.cipher)
    }
}

/// Mapping and cipher of a PACE protocol OID.
fn protocol_of(protocol: &ObjectIdentifier) -> Result<(PaceMapping, SmCipher), PaceError> {
    let known = [
        (oid::PACE_ECDH_GM_3DES, PaceMapping::GenericMapping, SmCipher::TripleDes),
        (oid::PACE_ECDH_GM_AES_128, PaceMapping::GenericMapping, SmCipher::Aes128),
        (oid::PACE_ECDH_GM_AES_192, PaceMapping::GenericMapping, SmCipher::Aes192),
        (oid::PACE_ECDH_GM_AES_256, PaceMapping::GenericMapping, SmCipher::Aes256),
        (oid::PACE_ECDH_CAM_AES_128, PaceMapping::ChipAuthenticationMapping, SmCipher::Aes128),
        (oid::PACE_ECDH_CAM_AES_192, PaceMapping::ChipAuthenticationMapping, SmCipher::Aes192),
        (oid::PACE_ECDH_CAM_AES_256, PaceMapping::ChipAuthenticationMapping, SmCipher::Aes256),
    ];
    if let Some((_, mapping, cipher)) = known.iter().find(|(known, _, _)| known == protocol) {
        return Ok((*mapping, *cipher));
    }
    if !oid::is_under(protocol, &oid::PACE_ARC) {
        return Err(PaceError::NotPace { oid: protocol.to_string() });
    }
    let dh_gm =
        [oid::PACE_DH_GM_3DES, oid::PACE_DH_GM_AES_128, oid::PACE_DH_GM_AES_192, oid::PACE_DH_GM_AES_256];
    let ecdh_im = [
        oid::PACE_ECDH_IM_3DES,
        oid::PACE_ECDH_IM_AES_128,
        oid::PACE_ECDH_IM_AES_192,
        oid::PACE_ECDH_IM_AES_256,
    ];
    let what = if dh_gm.contains(protocol) {
        "Diffie-Hellman (MODP) generic mapping is not implemented; only ECDH"
    } else if ecdh_im.contains(protocol) {
        "integrated mapping is not implemented; only generic and chip authentication mapping"
    } else {
        "this PACE variant is not implemented"
    };
    Err(PaceError::UnsupportedProtocol { oid: protocol.to_string(), what })
}

/// The PACE password: the MRZ information (document number, birth date,
/// expiry date with check digits) or the card access number printed on the
/// document. Wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub enum PacePassword {
    Mrz(String),
    Can(String),
}

impl std::fmt::Debug for PacePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PacePassword::Mrz(_) => "PacePassword::Mrz(..)",
            PacePassword::Can(_) => "PacePassword::Can(..)",
        })
    }
}

impl PacePassword {
    /// Password reference of MSE:Set AT DO'83': 01 MRZ, 02 CAN.
    pub fn reference(&self) -> u8 {
        match self {
            PacePassword::Mrz(_) => 1,
            PacePassword::Can(_) => 2,
        }
    }

    /// f(π): SHA-1 of the MRZ information, or the CAN's characters.
    fn secret(&self) -> Zeroizing<Vec<u8>> {
        match self {
            PacePassword::Mrz(information) => Zeroizing::new(Sha1::digest(information.as_bytes()).to_vec()),
            PacePassword::Can(can) => Zeroizing::new(can.as_bytes().to_vec()),
        }
    }

    /// K_pi = KDF(f(π), 3) for the session's cipher.
    pub fn key(&self, cipher: SmCipher) -> Zeroizing<Vec<u8>> {
        derive_key(&self.secret(), KDF_PACE, cipher)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaceError {
    #[error("the link to the chip failed during PACE: {0}")]
    Transport(#[from] TransportError),
    #[error("{oid} is not a PACE protocol OID (expected one under 0.4.0.127.0.7.2.2.4)")]
    NotPace { oid: String },
    #[error("PACE protocol {oid} is not supported: {what}; fall back to BAC if the chip offers it")]
    UnsupportedProtocol { oid: String, what: &'static str },
    #[error(
        "PACE domain parameter ID {parameter_id} ({name}) is not supported; supported: 12 (NIST P-256), \
         13 (brainpoolP256r1), 15 (NIST P-384), 16 (brainpoolP384r1)"
    )]
    UnsupportedParameters { parameter_id: u8, name: &'static str },
    #[error(
        "the PACEInfo has no standardized domain parameter ID; explicit domain parameters \
         (PACEDomainParameterInfo) are not supported"
    )]
    MissingParameterId,
    #[error(
        "the chip rejected the PACE password ({status} to {step}): the MRZ or CAN does not match this \
         document; rescan the data page or re-enter the CAN"
    )]
    AccessDenied { step: &'static str, status: StatusError },
    #[error("the chip refused {step}: {status}")]
    Refused { step: &'static str, status: StatusError },
    #[error("malformed chip answer to {step}: {detail}")]
    Malformed { step: &'static str, detail: String },
    #[error("invalid {what} in {step}: not a valid point of {curve} (or the point at infinity)")]
    InvalidPoint { step: &'static str, what: &'static str, curve: PaceCurve },
    #[error("the chip sent back our own ephemeral key ({what}): reflection attack or broken chip")]
    ReflectedKey { what: &'static str },
    #[error(
        "the chip's authentication token T_IC does not verify: the chip does not know the password, \
         or the exchange was tampered with"
    )]
    BadChipToken,
    #[error("the PACE-CAM chip did not send its encrypted chip authentication data (DO'8A')")]
    MissingCamData,
    #[error("{step} was called out of order (the PACE steps run once, in order)")]
    OutOfOrder { step: &'static str },
    #[error("the random generator produced no usable {curve} private key")]
    Random { curve: PaceCurve },
    #[error("PACE cryptography failed: {0}")]
    Crypto(#[from] SmError),
}

/// Step names, as errors report them.
mod step {
    pub const MSE_SET_AT: &str = "MSE:Set AT";
    pub const NONCE: &str = "GENERAL AUTHENTICATE step 1 (encrypted nonce)";
    pub const MAP: &str = "GENERAL AUTHENTICATE step 2 (map nonce)";
    pub const AGREE: &str = "GENERAL AUTHENTICATE step 3 (key agreement)";
    pub const AUTHENTICATE: &str = "GENERAL AUTHENTICATE step 4 (mutual authentication)";
}

// ---- APDUs ----

/// MSE:Set AT (00 22 C1 A4): DO'80' protocol OID, DO'83' password reference
/// and, when `with_parameter_id`, DO'84' with the domain parameter ID (some
/// chips need it, ICAO's example omits it).
pub fn mse_set_at(params: &PaceParams, password_reference: u8, with_parameter_id: bool) -> CommandApdu {
    let mut data = tlv::encode(0x80, params.oid.as_bytes());
    data.extend(tlv::encode(0x83, &[password_reference]));
    if with_parameter_id {
        data.extend(tlv::encode(0x84, &[params.parameter_id()]));
    }
    CommandApdu::new(0x00, ins::MANAGE_SECURITY_ENVIRONMENT, 0xC1, 0xA4).with_data(data)
}

/// GENERAL AUTHENTICATE with dynamic authentication data 7C { objects };
/// steps 1-3 are chained (CLA 10), step 4 ends the chain (CLA 00).
pub fn general_authenticate(objects: &[u8], last: bool) -> CommandApdu {
    let cla = if last { 0x00 } else { 0x10 };
    CommandApdu::new(cla, ins::GENERAL_AUTHENTICATE, 0x00, 0x00)
        .with_data(tlv::encode(0x7C, objects))
        .with_ne(super::apdu::SHORT_NE_MAX)
}

/// The value of `tag` inside 7C { ... }.
fn dynamic_object<'a>(data: &'a [u8], tag: u32, step: &'static str) -> Result<&'a [u8], PaceError> {
    let malformed = |detail: String| PaceError::Malformed { step, detail };
    let template = Tlv::parse_expecting(data, 0x7C).map_err(|e| malformed(e.to_string()))?;
    if template.encoded_len != data.len() {
        return Err(malformed(format!("{} bytes after the 7C template", data.len() - template.encoded_len)));
    }
    template.child(tag).map(|object| object.value).map_err(|e| malformed(e.to_string()))
}

fn check_status(step: &'static str, response: &ResponseApdu) -> Result<(), PaceError> {
    if response.sw == sw::OK {
        return Ok(());
    }
    let status = StatusError::from_sw(response.sw);
    Err(match response.sw {
        0x6300 | 0x63C0..=0x63CF | sw::SECURITY_STATUS_NOT_SATISFIED if step == step::AUTHENTICATE => {
            PaceError::AccessDenied { step, status }
        }
        _ => PaceError::Refused { step, status },
    })
}

// ---- Pure cryptographic steps ----

/// s = D(K_pi, z): CBC with a zero IV, no padding.
pub fn decrypt_nonce(
    password: &PacePassword,
    cipher: SmCipher,
    encrypted_nonce: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    let key = password.key(cipher);
    let iv = vec![0; cipher.block_size()];
    Ok(Zeroizing::new(sm::cbc_decrypt(cipher, &key, &iv, encrypted_nonce)?))
}

/// z = E(K_pi, s), the chip's step 1.
pub fn encrypt_nonce(password: &PacePassword, cipher: SmCipher, nonce: &[u8]) -> Result<Vec<u8>, PaceError> {
    let key = password.key(cipher);
    let iv = vec![0; cipher.block_size()];
    Ok(sm::cbc_encrypt(cipher, &key, &iv, nonce)?)
}

/// Generic Mapping: G' = s·G + SK_map · PK_map(other side), SEC1 uncompressed.
pub fn map_generator(
    curve: PaceCurve,
    nonce: &[u8],
    mapping_private_key: &[u8],
    other_mapping_public_key: &[u8],
) -> Result<Vec<u8>, PaceError> {
    let invalid = |what| PaceError::InvalidPoint { step: step::MAP, what, curve };
    on_curve!(curve, ec_map_generator(nonce, mapping_private_key, other_mapping_public_key)).map_err(|e| {
        match e {
            CurveFault::Point => invalid("mapping public key"),
            CurveFault::Scalar => invalid("mapping private key or nonce"),
            CurveFault::Identity => invalid("mapped generator"),
        }
    })
}

/// SK · generator (the curve's base point when `generator` is `None`).
pub fn public_key(
    curve: PaceCurve,
    private_key: &[u8],
    generator: Option<&[u8]>,
) -> Result<Vec<u8>, PaceError> {
    on_curve!(curve, ec_public_key(private_key, generator)).map_err(|_| PaceError::InvalidPoint {
        step: step::AGREE,
        what: "private key or generator",
        curve,
    })
}

/// The x-coordinate of SK · PK(other side): the PACE shared secret K.
pub fn shared_secret(
    curve: PaceCurve,
    private_key: &[u8],
    other_public_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    on_curve!(curve, ec_shared_x(private_key, other_public_key)).map_err(|_| PaceError::InvalidPoint {
        step: step::AGREE,
        what: "ephemeral public key",
        curve,
    })
}

/// T = MAC(KS_mac, 7F49 { 06 protocol OID, 86 public key }): CMAC (AES) or
/// retail MAC over the padded data (3DES), 8 bytes.
pub fn authentication_token(
    params: &PaceParams,
    k_mac: &[u8],
    public_key: &[u8],
) -> Result<Vec<u8>, PaceError> {
    let mut inner = tlv::encode(0x06, params.oid.as_bytes());
    inner.extend(tlv::encode(0x86, public_key));
    let data = tlv::encode(0x7F49, &inner);
    let input = match params.cipher {
        SmCipher::TripleDes => sm::pad(&data, 8),
        _ => data,
    };
    Ok(sm::mac(params.cipher, k_mac, &input)?)
}

/// PACE-CAM: CA_IC = SK_IC⁻¹ · SK_map,IC mod n (chip side), field-length bytes.
pub fn chip_authentication_data(
    curve: PaceCurve,
    static_private_key: &[u8],
    mapping_private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    on_curve!(curve, ec_chip_authentication_data(static_private_key, mapping_private_key)).map_err(|_| {
        PaceError::InvalidPoint { step: step::AUTHENTICATE, what: "chip authentication private key", curve }
    })
}

/// IV of the CAM data: E(KS_enc, FF..FF) (ICAO 9303 Part 11 §4.4.3.5).
fn cam_iv(cipher: SmCipher, k_enc: &[u8]) -> Result<Vec<u8>, PaceError> {
    Ok(sm::encrypt_block(cipher, k_enc, &vec![0xFF; cipher.block_size()])?)
}

/// A_IC = E(KS_enc, CA_IC) with padding method 2 (chip side).
pub fn encrypt_chip_authentication_data(keys: &SessionKeys, ca_ic: &[u8]) -> Result<Vec<u8>, PaceError> {
    let padded = Zeroizing::new(sm::pad(ca_ic, keys.cipher.block_size()));
    Ok(sm::cbc_encrypt(keys.cipher, &keys.k_enc, &cam_iv(keys.cipher, &keys.k_enc)?, &padded)?)
}

/// CA_IC = D(KS_enc, A_IC) (reader side).
pub fn decrypt_chip_authentication_data(keys: &SessionKeys, a_ic: &[u8]) -> Result<Vec<u8>, PaceError> {
    let padded = sm::cbc_decrypt(keys.cipher, &keys.k_enc, &cam_iv(keys.cipher, &keys.k_enc)?, a_ic)?;
    sm::unpad(&padded).map(<[u8]>::to_vec).ok_or(PaceError::Crypto(SmError::BadPadding))
}

/// A fresh private key for `curve`: field-length bytes from `rng`, redrawn
/// until they are a valid non-zero scalar (so scripted bytes reproduce the
/// standard's vectors exactly).
pub fn generate_private_key<R: CryptoRng + ?Sized>(
    curve: PaceCurve,
    rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>, PaceError> {
    for _ in 0..64 {
        let mut candidate = Zeroizing::new(vec![0; curve.field_len()]);
        rng.fill_bytes(&mut candidate);
        if on_curve!(curve, ec_scalar_is_valid(&candidate)) {
            return Ok(candidate);
        }
    }
    Err(PaceError::Random { curve })
}

// ---- Curve arithmetic, generic over RustCrypto curves ----

enum CurveFault {
    Point,
    Scalar,
    Identity,
}

/// A non-zero scalar from big-endian bytes (left-padded to the field length).
fn ec_scalar<C>(bytes: &[u8]) -> Result<Scalar<C>, CurveFault>
where
    C: CurveArithmetic,
{
    let mut repr = FieldBytes::<C>::default();
    let offset = repr.len().checked_sub(bytes.len()).ok_or(CurveFault::Scalar)?;
    repr.get_mut(offset..).ok_or(CurveFault::Scalar)?.copy_from_slice(bytes);
    let scalar: Option<Scalar<C>> = Scalar::<C>::from_repr(repr).into();
    scalar.filter(|s| !bool::from(s.is_zero())).ok_or(CurveFault::Scalar)
}

fn ec_scalar_is_valid<C>(bytes: &[u8]) -> bool
where
    C: CurveArithmetic,
{
    ec_scalar::<C>(bytes).is_ok()
}

/// The nonce as an integer, reduced modulo the group order ([s]G only
/// depends on s mod n).
fn ec_nonce<C>(nonce: &[u8]) -> Result<Scalar<C>, CurveFault>
where
    C: CurveArithmetic,
{
    let mut repr = FieldBytes::<C>::default();
    let offset = repr.len().checked_sub(nonce.len()).ok_or(CurveFault::Scalar)?;
    repr.get_mut(offset..).ok_or(CurveFault::Scalar)?.copy_from_slice(nonce);
    Ok(<Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&repr))
}

/// An uncompressed SEC1 point on the curve, not the identity.
fn ec_point<C>(bytes: &[u8]) -> Result<ProjectivePoint<C>, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    if bytes.first() != Some(&0x04) {
        return Err(CurveFault::Point);
    }
    let affine = AffinePoint::<C>::from_sec1_bytes(bytes).map_err(|_| CurveFault::Point)?;
    let point = ProjectivePoint::<C>::from(affine);
    if bool::from(point.is_identity()) {
        return Err(CurveFault::Point);
    }
    Ok(point)
}

fn ec_encode<C>(point: &ProjectivePoint<C>) -> Result<Vec<u8>, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    if bool::from(point.is_identity()) {
        return Err(CurveFault::Identity);
    }
    Ok(point.to_affine().to_sec1_point(false).as_bytes().to_vec())
}

fn ec_map_generator<C>(
    nonce: &[u8],
    private_key: &[u8],
    other_public_key: &[u8],
) -> Result<Vec<u8>, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let private_key = ec_scalar::<C>(private_key)?;
    let h = ec_point::<C>(other_public_key)? * private_key;
    if bool::from(h.is_identity()) {
        return Err(CurveFault::Identity);
    }
    let generator = ProjectivePoint::<C>::generator() * ec_nonce::<C>(nonce)? + h;
    ec_encode::<C>(&generator)
}

fn ec_public_key<C>(private_key: &[u8], generator: Option<&[u8]>) -> Result<Vec<u8>, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let base = match generator {
        Some(bytes) => ec_point::<C>(bytes)?,
        None => ProjectivePoint::<C>::generator(),
    };
    ec_encode::<C>(&(base * ec_scalar::<C>(private_key)?))
}

fn ec_shared_x<C>(private_key: &[u8], other_public_key: &[u8]) -> Result<Zeroizing<Vec<u8>>, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let shared = ec_point::<C>(other_public_key)? * ec_scalar::<C>(private_key)?;
    if bool::from(shared.is_identity()) {
        return Err(CurveFault::Identity);
    }
    Ok(Zeroizing::new(shared.to_affine().x().to_vec()))
}

fn ec_chip_authentication_data<C>(
    static_private_key: &[u8],
    mapping_private_key: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CurveFault>
where
    C: CurveArithmetic,
{
    let inverse: Option<Scalar<C>> = ec_scalar::<C>(static_private_key)?.invert().into();
    let ca = inverse.ok_or(CurveFault::Scalar)? * ec_scalar::<C>(mapping_private_key)?;
    Ok(Zeroizing::new(ca.to_repr().to_vec()))
}

/// Whether CA_IC · PK_IC = PK_map,IC.
fn ec_cam_holds<C>(
    ca_ic: &[u8],
    static_public_key: &[u8],
    mapping_public_key: &[u8],
) -> Result<bool, CurveFault>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
    FieldBytesSize<C>: ModulusSize,
{
    let recomputed = ec_point::<C>(static_public_key)? * ec_scalar::<C>(ca_ic)?;
    Ok(ec_encode::<C>(&recomputed)? == mapping_public_key)
}

// ---- Reader side ----

/// What PACE-CAM leaves for later: the chip proves knowledge of its static
/// key once the reader has that key from EF.CardSecurity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamEvidence {
    /// CA_IC, decrypted from DO'8A'.
    pub ca_ic: Vec<u8>,
    /// The chip's mapping public key PK_map,IC (SEC1 uncompressed).
    pub pk_map_ic: Vec<u8>,
    pub curve: PaceCurve,
}

impl CamEvidence {
    /// Check PK_map,IC = CA_IC · PK_IC with the chip's static public key
    /// (SEC1 bytes, from EF.CardSecurity's ChipAuthenticationPublicKeyInfo).
    pub fn verify(&self, chip_static_public_key_sec1: &[u8]) -> Verdict {
        match on_curve!(self.curve, ec_cam_holds(&self.ca_ic, chip_static_public_key_sec1, &self.pk_map_ic)) {
            Ok(true) => Verdict::passed(format!(
                "PACE-CAM on {}: the chip proved its static key (PK_map,IC = CA_IC x PK_IC)",
                self.curve
            )),
            Ok(false) => Verdict::failed(format!(
                "PACE-CAM on {}: CA_IC x PK_IC differs from the chip's mapping key; the chip does not hold \
                 the private key of EF.CardSecurity (cloned or substituted chip)",
                self.curve
            )),
            Err(CurveFault::Scalar) => Verdict::failed(format!(
                "PACE-CAM on {}: the chip authentication data CA_IC is not a valid scalar",
                self.curve
            )),
            Err(_) => Verdict::failed(format!(
                "PACE-CAM: the static public key from EF.CardSecurity is not an uncompressed point of {}",
                self.curve
            )),
        }
    }
}

/// The outcome of a successful PACE: the session, and PACE-CAM's evidence
/// when the mapping was CAM.
#[derive(Debug)]
pub struct PaceResult {
    pub sm: SecureMessaging,
    pub cam: Option<CamEvidence>,
}

enum TerminalState {
    /// MSE:Set AT and step 1 not answered yet.
    Start,
    /// Step 2 sent.
    Mapping {
        nonce: Zeroizing<Vec<u8>>,
        sk_map: Zeroizing<Vec<u8>>,
        pk_map_ifd: Vec<u8>,
    },
    /// Step 3 sent.
    Agreeing {
        pk_map_ic: Vec<u8>,
        sk_dh: Zeroizing<Vec<u8>>,
        pk_dh_ifd: Vec<u8>,
    },
    /// Step 4 sent.
    Authenticating {
        keys: SessionKeys,
        pk_map_ic: Vec<u8>,
        pk_dh_ifd: Vec<u8>,
    },
    Done,
}

/// The reader's PACE as pure steps: each method takes the chip's last answer
/// and returns the next command.
pub struct PaceTerminal {
    params: PaceParams,
    password: PacePassword,
    state: TerminalState,
}

impl std::fmt::Debug for PaceTerminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaceTerminal").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PaceTerminal {
    pub fn new(password: &PacePassword, params: &PaceParams) -> PaceTerminal {
        PaceTerminal { params: params.clone(), password: password.clone(), state: TerminalState::Start }
    }

    pub fn params(&self) -> &PaceParams {
        &self.params
    }

    pub fn mse_set_at(&self, with_parameter_id: bool) -> CommandApdu {
        mse_set_at(&self.params, self.password.reference(), with_parameter_id)
    }

    /// Step 1: ask for the encrypted nonce (empty 7C).
    pub fn encrypted_nonce_command(&self) -> CommandApdu {
        general_authenticate(&[], false)
    }

    /// Take step 1's answer (DO'80' z), decrypt the nonce, send our mapping key (DO'81').
    pub fn map_nonce<R: CryptoRng + ?Sized>(
        &mut self,
        response: &ResponseApdu,
        rng: &mut R,
    ) -> Result<CommandApdu, PaceError> {
        if !matches!(self.state, TerminalState::Start) {
            return Err(PaceError::OutOfOrder { step: step::NONCE });
        }
        check_status(step::NONCE, response)?;
        let encrypted = dynamic_object(&response.data, 0x80, step::NONCE)?;
        let nonce = decrypt_nonce(&self.password, self.params.cipher, encrypted).map_err(|e| match e {
            PaceError::Crypto(SmError::CryptogramLength { len, .. }) => PaceError::Malformed {
                step: step::NONCE,
                detail: format!("encrypted nonce of {len} bytes is not a whole number of cipher blocks"),
            },
            other => other,
        })?;
        let curve = self.params.curve;
        let sk_map = generate_private_key(curve, rng)?;
        let pk_map_ifd = public_key(curve, &sk_map, None)?;
        let command = general_authenticate(&tlv::encode(0x81, &pk_map_ifd), false);
        self.state = TerminalState::Mapping { nonce, sk_map, pk_map_ifd };
        Ok(command)
    }

    /// Take step 2's answer (DO'82' PK_map,IC), map the generator, send our
    /// ephemeral key on it (DO'83').
    pub fn agree_key<R: CryptoRng + ?Sized>(
        &mut self,
        response: &ResponseApdu,
        rng: &mut R,
    ) -> Result<CommandApdu, PaceError> {
        let TerminalState::Mapping { nonce, sk_map, pk_map_ifd } = &self.state else {
            return Err(PaceError::OutOfOrder { step: step::MAP });
        };
        check_status(step::MAP, response)?;
        let pk_map_ic = dynamic_object(&response.data, 0x82, step::MAP)?.to_vec();
        if pk_map_ic == *pk_map_ifd {
            return Err(PaceError::ReflectedKey { what: "mapping key" });
        }
        let curve = self.params.curve;
        let generator = map_generator(curve, nonce, sk_map, &pk_map_ic)?;
        let sk_dh = generate_private_key(curve, rng)?;
        let pk_dh_ifd = public_key(curve, &sk_dh, Some(&generator))?;
        let command = general_authenticate(&tlv::encode(0x83, &pk_dh_ifd), false);
        self.state = TerminalState::Agreeing { pk_map_ic, sk_dh, pk_dh_ifd };
        Ok(command)
    }

    /// Take step 3's answer (DO'84' PK_DH,IC), derive the session keys, send
    /// our token T_IFD (DO'85').
    pub fn authenticate_command(&mut self, response: &ResponseApdu) -> Result<CommandApdu, PaceError> {
        let TerminalState::Agreeing { pk_map_ic, sk_dh, pk_dh_ifd } = &self.state else {
            return Err(PaceError::OutOfOrder { step: step::AGREE });
        };
        check_status(step::AGREE, response)?;
        let pk_dh_ic = dynamic_object(&response.data, 0x84, step::AGREE)?;
        if pk_dh_ic == pk_dh_ifd.as_slice() {
            return Err(PaceError::ReflectedKey { what: "ephemeral key" });
        }
        if pk_dh_ic == pk_map_ic.as_slice() {
            return Err(PaceError::Malformed {
                step: step::AGREE,
                detail: "PK_DH,IC equals PK_map,IC".into(),
            });
        }
        // The chip's key is checked to lie on the curve when decoded; that it
        // is a multiple of G' is what the tokens prove.
        let curve = self.params.curve;
        let secret = shared_secret(curve, sk_dh, pk_dh_ic)?;
        let keys = SessionKeys::derive(&secret, self.params.cipher);
        let token = authentication_token(&self.params, &keys.k_mac, pk_dh_ic)?;
        let command = general_authenticate(&tlv::encode(0x85, &token), true);
        self.state = TerminalState::Authenticating {
            keys,
            pk_map_ic: pk_map_ic.clone(),
            pk_dh_ifd: pk_dh_ifd.clone(),
        };
        Ok(command)
    }

    /// Take step 4's answer (DO'86' T_IC, and DO'8A' for CAM): check the
    /// chip's token and open the session (SSC 0).
    pub fn finish(&mut self, response: &ResponseApdu) -> Result<PaceResult, PaceError> {
        let TerminalState::Authenticating { keys, pk_map_ic, pk_dh_ifd } = &self.state else {
            return Err(PaceError::OutOfOrder { step: step::AUTHENTICATE });
        };
        check_status(step::AUTHENTICATE, response)?;
        let chip_token = dynamic_object(&response.data, 0x86, step::AUTHENTICATE)?;
        let expected = authentication_token(&self.params, &keys.k_mac, pk_dh_ifd)?;
        if !constant_time_eq(&expected, chip_token) {
            return Err(PaceError::BadChipToken);
        }
        let cam = match self.params.mapping {
            PaceMapping::GenericMapping => None,
            PaceMapping::ChipAuthenticationMapping => {
                let encrypted = dynamic_object(&response.data, 0x8A, step::AUTHENTICATE)
                    .map_err(|_| PaceError::MissingCamData)?;
                let ca_ic = decrypt_chip_authentication_data(keys, encrypted)?;
                Some(CamEvidence { ca_ic, pk_map_ic: pk_map_ic.clone(), curve: self.params.curve })
            }
        };
        let sm = SecureMessaging::new(keys.clone(), &vec![0; keys.cipher.block_size()]);
        self.state = TerminalState::Done;
        Ok(PaceResult { sm, cam })
    }
}

/// Reader side of PACE over a transport. MSE:Set AT goes first with the
/// parameter ID (DO'84'), and again without it if the chip refuses that form.
/// `rng` supplies the ephemeral keys (use
/// `rand_core::UnwrapErr(getrandom::SysRng)` outside tests).
pub fn authenticate<R: CryptoRng + ?Sized>(
    transport: &mut dyn CardTransport,
    password: &PacePassword,
    params: &PaceParams,
    rng: &mut R,
) -> Result<PaceResult, PaceError> {
    let mut terminal = PaceTerminal::new(password, params);
    let first = transport.exchange(&terminal.mse_set_at(true))?;
    if first.sw != sw::OK {
        let retry = transport.exchange(&terminal.mse_set_at(false))?;
        if retry.sw != sw::OK {
            return Err(PaceError::Refused {
                step: step::MSE_SET_AT,
                status: StatusError::from_sw(first.sw),
            });
        }
    }
    let nonce = transport.exchange(&terminal.encrypted_nonce_command())?;
    let map = terminal.map_nonce(&nonce, rng)?;
    let mapped = transport.exchange(&map)?;
    let agree = terminal.agree_key(&mapped, rng)?;
    let agreed = transport.exchange(&agree)?;
    let authenticate = terminal.authenticate_command(&agreed)?;
    let answer = transport.exchange(&authenticate)?;
    terminal.finish(&answer)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- Chip side ----

enum ChipState {
    /// Waiting for MSE:Set AT.
    Idle,
    /// MSE:Set AT accepted; waiting for step 1.
    Selected,
    NonceSent {
        nonce: Zeroizing<Vec<u8>>,
    },
    Mapped {
        generator: Vec<u8>,
        sk_map_ic: Zeroizing<Vec<u8>>,
        pk_map_ifd: Vec<u8>,
    },
    Agreed {
        keys: SessionKeys,
        sk_map_ic: Zeroizing<Vec<u8>>,
        pk_dh_ifd: Vec<u8>,
        pk_dh_ic: Vec<u8>,
    },
}

/// The chip's side of PACE: answers MSE:Set AT (00 22 C1 A4) and GENERAL
/// AUTHENTICATE (INS 86) steps 1-4. A wrong token from the reader gives
/// 6300, a malformed or out-of-order step 6A80 / 6985; either way the
/// protocol must restart with MSE:Set AT.
pub struct ChipPace {
    password: PacePassword,
    params: PaceParams,
    cam_private_key: Option<Zeroizing<Vec<u8>>>,
    state: ChipState,
    session: Option<SecureMessaging>,
}

impl std::fmt::Debug for ChipPace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipPace")
            .field("params", &self.params)
            .field("established", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl ChipPace {
    /// `cam_private_key`: the chip's static Chip Authentication private key
    /// (big-endian scalar, the privateKey of a SEC1 ECPrivateKey), required
    /// for PACE-CAM and ignored otherwise.
    pub fn new(
        password: PacePassword,
        params: PaceParams,
        cam_private_key: Option<&[u8]>,
    ) -> Result<ChipPace, PaceError> {
        let cam_private_key = match (params.mapping, cam_private_key) {
            (PaceMapping::ChipAuthenticationMapping, None) => {
                return Err(PaceError::UnsupportedProtocol {
                    oid: params.oid.to_string(),
                    what: "PACE-CAM needs the chip's static Chip Authentication private key",
                });
            }
            (PaceMapping::ChipAuthenticationMapping, Some(key)) => {
                // Validate now rather than fail in step 4.
                public_key(params.curve, key, None)?;
                Some(Zeroizing::new(key.to_vec()))
            }
            (PaceMapping::GenericMapping, _) => None,
        };
        Ok(ChipPace { password, params, cam_private_key, state: ChipState::Idle, session: None })
    }

    pub fn params(&self) -> &PaceParams {
        &self.params
    }

    /// Whether this command belongs to PACE.
    pub fn handles(command: &CommandApdu) -> bool {
        command.cla & 0xEF == 0x00
            && (command.ins == ins::GENERAL_AUTHENTICATE
                || (command.ins == ins::MANAGE_SECURITY_ENVIRONMENT
                    && command.p1 == 0xC1
                    && command.p2 == 0xA4))
    }

    /// Answer one PACE command; `rng` supplies the nonce and the chip's
    /// ephemeral keys.
    pub fn respond<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        let result = match command.ins {
            ins::MANAGE_SECURITY_ENVIRONMENT => self.set_authentication_template(command),
            ins::GENERAL_AUTHENTICATE => self.general_authenticate(command, rng),
            _ => Err(sw::INS_NOT_SUPPORTED),
        };
        match result {
            Ok(response) => response,
            Err(status) => {
                // Any failure ends this PACE attempt.
                self.state = ChipState::Idle;
                ResponseApdu::status(status)
            }
        }
    }

    pub fn is_established(&self) -> bool {
        self.session.is_some()
    }

    /// The chip's session after a successful step 4 (once).
    pub fn take_session(&mut self) -> Option<SecureMessaging> {
        self.session.take()
    }

    fn set_authentication_template(&mut self, command: &CommandApdu) -> Result<ResponseApdu, u16> {
        if command.p1 != 0xC1 || command.p2 != 0xA4 {
            return Err(sw::INCORRECT_P1P2);
        }
        let mut protocol = None;
        let mut reference = None;
        let mut parameter_id = None;
        for object in tlv::TlvIter::new(&command.data) {
            let object = object.map_err(|_| sw::INCORRECT_DATA)?;
            match object.tag {
                0x80 => protocol = Some(object.value),
                0x83 => reference = Some(object.value),
                0x84 => parameter_id = Some(object.value),
                _ => {}
            }
        }
        if protocol != Some(self.params.oid.as_bytes()) {
            return Err(sw::INCORRECT_DATA);
        }
        if reference != Some(&[self.password.reference()][..]) {
            return Err(sw::REFERENCED_DATA_NOT_FOUND);
        }
        if parameter_id.is_some_and(|id| id != [self.params.parameter_id()]) {
            return Err(sw::INCORRECT_DATA);
        }
        self.session = None;
        self.state = ChipState::Selected;
        Ok(ResponseApdu::status(sw::OK))
    }

    fn general_authenticate<R: CryptoRng + ?Sized>(
        &mut self,
        command: &CommandApdu,
        rng: &mut R,
    ) -> Result<ResponseApdu, u16> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let template = Tlv::parse_expecting(&command.data, 0x7C).map_err(|_| sw::INCORRECT_DATA)?;
        if template.encoded_len != command.data.len() {
            return Err(sw::INCORRECT_DATA);
        }
        let chained = command.cla & 0x10 != 0;
        let object = |tag: u32| template.child(tag).map(|o| o.value).map_err(|_| sw::INCORRECT_DATA);
        let curve = self.params.curve;
        let cipher = self.params.cipher;
        // Steps 1-3 continue the chain; step 4 ends it.
        let expect_chained = !matches!(self.state, ChipState::Agreed { .. });
        if chained != expect_chained {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        }
        let state = std::mem::replace(&mut self.state, ChipState::Idle);
        match state {
            ChipState::Idle => Err(sw::CONDITIONS_NOT_SATISFIED),
            ChipState::Selected => {
                if !template.value.is_empty() {
                    return Err(sw::INCORRECT_DATA);
                }
                let mut nonce = Zeroizing::new(vec![0; NONCE_LEN]);
                rng.fill_bytes(&mut nonce);
                let encrypted = encrypt_nonce(&self.password, cipher, &nonce).map_err(|_| sw::UNKNOWN)?;
                self.state = ChipState::NonceSent { nonce };
                Ok(dynamic_response(&[(0x80, &encrypted)]))
            }
            ChipState::NonceSent { nonce } => {
                let pk_map_ifd = object(0x81)?.to_vec();
                let sk_map_ic = generate_private_key(curve, rng).map_err(|_| sw::UNKNOWN)?;
                let pk_map_ic = public_key(curve, &sk_map_ic, None).map_err(|_| sw::UNKNOWN)?;
                let generator =
                    map_generator(curve, &nonce, &sk_map_ic, &pk_map_ifd).map_err(|_| sw::INCORRECT_DATA)?;
                self.state = ChipState::Mapped { generator, sk_map_ic, pk_map_ifd };
                Ok(dynamic_response(&[(0x82, &pk_map_ic)]))
            }
            ChipState::Mapped { generator, sk_map_ic, pk_map_ifd } => {
                let pk_dh_ifd = object(0x83)?.to_vec();
                if pk_dh_ifd == pk_map_ifd {
                    return Err(sw::INCORRECT_DATA);
                }
                let sk_dh_ic = generate_private_key(curve, rng).map_err(|_| sw::UNKNOWN)?;
                let pk_dh_ic = public_key(curve, &sk_dh_ic, Some(&generator)).map_err(|_| sw::UNKNOWN)?;
                if pk_dh_ic == pk_dh_ifd {
                    return Err(sw::INCORRECT_DATA);
                }
                let secret = shared_secret(curve, &sk_dh_ic, &pk_dh_ifd).map_err(|_| sw::INCORRECT_DATA)?;
                let keys = SessionKeys::derive(&secret, cipher);
                self.state = ChipState::Agreed { keys, sk_map_ic, pk_dh_ifd, pk_dh_ic: pk_dh_ic.clone() };
                Ok(dynamic_response(&[(0x84, &pk_dh_ic)]))
            }
            ChipState::Agreed { keys, sk_map_ic, pk_dh_ifd, pk_dh_ic } => {
                let reader_token = object(0x85)?;
                let expected =
                    authentication_token(&self.params, &keys.k_mac, &pk_dh_ic).map_err(|_| sw::UNKNOWN)?;
                if !constant_time_eq(&expected, reader_token) {
                    return Err(0x6300);
                }
                let chip_token =
                    authentication_token(&self.params, &keys.k_mac, &pk_dh_ifd).map_err(|_| sw::UNKNOWN)?;
                let mut objects: Vec<(u32, Vec<u8>)> = vec![(0x86, chip_token)];
                if let Some(static_key) = &self.cam_private_key {
                    let ca_ic =
                        chip_authentication_data(curve, static_key, &sk_map_ic).map_err(|_| sw::UNKNOWN)?;
                    let a_ic = encrypt_chip_authentication_data(&keys, &ca_ic).map_err(|_| sw::UNKNOWN)?;
                    objects.push((0x8A, a_ic));
                }
                let borrowed: Vec<(u32, &[u8])> = objects.iter().map(|(t, v)| (*t, v.as_slice())).collect();
                self.session = Some(SecureMessaging::new(keys.clone(), &vec![0; cipher.block_size()]));
                Ok(dynamic_response(&borrowed))
            }
        }
    }
}

fn dynamic_response(objects: &[(u32, &[u8])]) -> ResponseApdu {
    let inner: Vec<u8> = objects.iter().flat_map(|(tag, value)| tlv::encode(*tag, value)).collect();
    ResponseApdu::new(tlv::encode(0x7C, &inner), sw::OK)
}

#[cfg(test)]
mod tests {
    use super::super::apdu::read_binary;
    use super::super::sm::test_rng::ScriptedRng;
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    // ICAO 9303 Part 11 Appendix G.1 (brainpoolP256r1, AES-128, MRZ password).
    const MRZ_INFORMATION: &str = "T22000129364081251010318";
    const NONCE: &str = "3F00C4D39D153F2B2A214A078D899B22";
    const ENCRYPTED_NONCE: &str = "95A3A016522EE98D01E76CB6B98B42C3";
    const SK_MAP_IFD: &str = "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99";
    const MAPPED_GENERATOR: &str = "048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2\
        8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522";
    const SK_DH_IFD: &str = "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595";
    const SHARED_SECRET: &str = "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925";
    const KS_ENC: &str = "F5F0E35C0D7161EE6724EE513A0D9A7F";
    const KS_MAC: &str = "FE251C7858B356B24514B3BD5F4297D1";
    const T_IFD: &str = "C2B0BD78D94BA866";
    const T_IC: &str = "3ABB9674BCE93C08";
    // The chip's ephemeral private keys of Appendix G.1 (not in our reference
    // table; the public values above are recomputed from them in the tests,
    // and `chip_mapping_key_follows_from_the_listed_values` derives the chip's
    // mapping key from the listed values alone).
    const SK_MAP_IC: &str = "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560";
    const SK_DH_IC: &str = "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A";
    const PK_MAP_IC: &str = "04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57\
        30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54";

    fn g1_params() -> PaceParams {
        PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, Some(13)).unwrap()
    }

    fn g1_password() -> PacePassword {
        PacePassword::Mrz(MRZ_INFORMATION.into())
    }

    #[test]
    fn password_keys_and_nonce_match_appendix_g1() {
        assert_eq!(*g1_password().secret(), hex("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")); // K
        assert_eq!(*g1_password().key(SmCipher::Aes128), hex("89DED1B26624EC1E634C1989302849DD")); // K_pi
        let nonce = decrypt_nonce(&g1_password(), SmCipher::Aes128, &hex(ENCRYPTED_NONCE)).unwrap();
        assert_eq!(*nonce, hex(NONCE));
        assert_eq!(
            encrypt_nonce(&g1_password(), SmCipher::Aes128, &hex(NONCE)).unwrap(),
            hex(ENCRYPTED_NONCE)
        );
        assert_eq!(PacePassword::Can("123456".into()).reference(), 2);
        assert_eq!(
            *PacePassword::Can("123456".into()).key(SmCipher::Aes128),
            *derive_key(b"123456", 3, SmCipher::Aes128)
        );
        assert_eq!(format!("{:?}", g1_password()), "PacePassword::Mrz(..)");
    }

    #[test]
    fn mapping_agreement_and_tokens_match_appendix_g1() {
        let params = g1_params();
        let curve = params.curve;
        assert_eq!(curve, PaceCurve::BrainpoolP256r1);
        let pk_map_ic = public_key(curve, &hex(SK_MAP_IC), None).unwrap();
        assert_eq!(pk_map_ic, hex(PK_MAP_IC));
        // Both sides reach the same mapped generator.
        let pk_map_ifd = public_key(curve, &hex(SK_MAP_IFD), None).unwrap();
        let generator = map_generator(curve, &hex(NONCE), &hex(SK_MAP_IFD), &pk_map_ic).unwrap();
        assert_eq!(hex::encode_upper(&generator), MAPPED_GENERATOR.replace(' ', ""));
        assert_eq!(map_generator(curve, &hex(NONCE), &hex(SK_MAP_IC), &pk_map_ifd).unwrap(), generator);
        // Ephemeral keys on G' and the shared secret, both ways.
        let pk_dh_ifd = public_key(curve, &hex(SK_DH_IFD), Some(&generator)).unwrap();
        let pk_dh_ic = public_key(curve, &hex(SK_DH_IC), Some(&generator)).unwrap();
        assert_eq!(*shared_secret(curve, &hex(SK_DH_IFD), &pk_dh_ic).unwrap(), hex(SHARED_SECRET));
        assert_eq!(*shared_secret(curve, &hex(SK_DH_IC), &pk_dh_ifd).unwrap(), hex(SHARED_SECRET));
        let keys = SessionKeys::derive(&hex(SHARED_SECRET), params.cipher);
        assert_eq!(*keys.k_enc, hex(KS_ENC));
        assert_eq!(*keys.k_mac, hex(KS_MAC));
        // Tokens: T_IFD over the chip's key, T_IC over the reader's.
        assert_eq!(authentication_token(&params, &keys.k_mac, &pk_dh_ic).unwrap(), hex(T_IFD));
        assert_eq!(authentication_token(&params, &keys.k_mac, &pk_dh_ifd).unwrap(), hex(T_IC));
    }

    #[test]
    fn chip_mapping_key_follows_from_the_listed_values() {
        // From s, SK_map,IFD and G' alone: H = G' - s·G and PK_map,IC =
        // SK_map,IFD⁻¹ · H, which must be the appendix's chip mapping key.
        use bp256::BrainpoolP256r1 as C;
        let s = ec_nonce::<C>(&hex(NONCE)).ok().unwrap();
        let generator = ec_point::<C>(&hex(MAPPED_GENERATOR)).ok().unwrap();
        let h = generator - ProjectivePoint::<C>::generator() * s;
        let sk_map_ifd = ec_scalar::<C>(&hex(SK_MAP_IFD)).ok().unwrap();
        let inverse: Option<Scalar<C>> = sk_map_ifd.invert().into();
        let pk_map_ic = h * inverse.unwrap();
        assert_eq!(ec_encode::<C>(&pk_map_ic).ok().unwrap(), hex(PK_MAP_IC));
        // And T_IFD picks out the chip's ephemeral key among the two points
        // with the shared secret's x-coordinate: PK_DH,IC = SK_DH,IFD⁻¹ · K.
        let sk_dh_ifd = ec_scalar::<C>(&hex(SK_DH_IFD)).ok().unwrap();
        let inverse: Scalar<C> = Option::from(sk_dh_ifd.invert()).unwrap();
        let keys = SessionKeys::derive(&hex(SHARED_SECRET), SmCipher::Aes128);
        let matches: Vec<Vec<u8>> = [0x02u8, 0x03]
            .iter()
            .filter_map(|prefix| {
                let mut compressed = vec![*prefix];
                compressed.extend(hex(SHARED_SECRET));
                let k = ProjectivePoint::<C>::from(AffinePoint::<C>::from_sec1_bytes(&compressed).ok()?);
                let candidate = ec_encode::<C>(&(k * inverse)).ok()?;
                let token = authentication_token(&g1_params(), &keys.k_mac, &candidate).ok()?;
                (token == hex(T_IFD)).then_some(candidate)
            })
            .collect();
        assert_eq!(matches.len(), 1);
        assert_eq!(
            matches[0],
            public_key(PaceCurve::BrainpoolP256r1, &hex(SK_DH_IC), Some(&hex(MAPPED_GENERATOR))).unwrap()
        );
    }

    #[test]
    fn mse_set_at_matches_appendix_g1() {
        let params = g1_params();
        assert_eq!(
            hex::encode_upper(mse_set_at(&params, 1, false).to_bytes().unwrap()),
            "0022C1A40F800A04007F00070202040202830101"
        );
        assert_eq!(
            hex::encode_upper(mse_set_at(&params, 2, true).to_bytes().unwrap()),
            "0022C1A412800A04007F0007020204020283010284010D"
        );
        assert_eq!(
            hex::encode_upper(general_authenticate(&[], false).to_bytes().unwrap()),
            "10860000027C0000"
        );
    }

    /// A transport that hands commands to a [`ChipPace`], then to its
    /// session (answering any command with 9000 and its INS as data).
    struct PaceChip {
        pace: ChipPace,
        rng: ScriptedRng,
        session: Option<SecureMessaging>,
        log: Vec<(Vec<u8>, Vec<u8>)>,
        refuse_parameter_id: bool,
    }

    impl PaceChip {
        fn new(pace: ChipPace, rng: ScriptedRng) -> PaceChip {
            PaceChip { pace, rng, session: None, log: Vec::new(), refuse_parameter_id: false }
        }
    }

    impl CardTransport for PaceChip {
        fn transmit(&mut self, bytes: &[u8]) -> Result<Vec<u8>, TransportError> {
            let command = CommandApdu::parse(bytes)?;
            let answer = if let Some(sm) = self.session.as_mut() {
                let plain =
                    sm.unprotect_command(&command).map_err(|e| TransportError::Reader(e.to_string()))?;
                sm.protect_response(&ResponseApdu::new(vec![plain.ins], 0x9000)).unwrap()
            } else if self.refuse_parameter_id && command.ins == 0x22 && command.data.len() > 17 {
                ResponseApdu::status(0x6A80)
            } else {
                let answer = self.pace.respond(&command, &mut self.rng);
                self.session = self.pace.take_session();
                answer
            };
            self.log.push((bytes.to_vec(), answer.to_bytes()));
            Ok(answer.to_bytes())
        }
        fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B])
        }
        fn describe(&self) -> String {
            "PACE test chip".into()
        }
    }

    fn check_session(result: &mut PaceResult, chip: &mut PaceChip) {
        let protected = result.sm.protect_command(&read_binary(0, 4)).unwrap();
        let answer = chip.exchange(&protected).unwrap();
        assert_eq!(result.sm.unprotect_response(&answer).unwrap(), ResponseApdu::new(vec![0xB0], 0x9000));
    }

    #[test]
    fn full_run_reproduces_appendix_g1_on_the_wire() {
        let chip_pace = ChipPace::new(g1_password(), g1_params(), None).unwrap();
        let mut chip = PaceChip::new(chip_pace, ScriptedRng::new(&[NONCE, SK_MAP_IC, SK_DH_IC]));
        let mut reader_rng = ScriptedRng::new(&[SK_MAP_IFD, SK_DH_IFD]);
        let mut result = authenticate(&mut chip, &g1_password(), &g1_params(), &mut reader_rng).unwrap();
        assert!(result.cam.is_none());
        let log: Vec<(String, String)> =
            chip.log.iter().map(|(c, r)| (hex::encode_upper(c), hex::encode_upper(r))).collect();
        assert_eq!(log[0], ("0022C1A412800A04007F0007020204020283010184010D".into(), "9000".into()));
        assert_eq!(log[1], ("10860000027C0000".into(), format!("7C128010{ENCRYPTED_NONCE}9000")));
        let pk_map_ifd =
            hex::encode_upper(public_key(PaceCurve::BrainpoolP256r1, &hex(SK_MAP_IFD), None).unwrap());
        // Lc 69: 7C 43 { 81 41 PK_map,IFD }, Le 00.
        assert_eq!(log[2].0, format!("10860000457C438141{pk_map_ifd}00"));
        assert_eq!(log[2].1, format!("7C438241{PK_MAP_IC}9000").replace(' ', ""));
        assert!(log[4].0.starts_with("008600000C7C0A8508C2B0BD78D94BA86600"), "{}", log[4].0);
        assert_eq!(log[4].1, format!("7C0A8608{T_IC}9000"));
        assert_eq!(result.sm.send_sequence_counter(), vec![0; 16]);
        check_session(&mut result, &mut chip);
    }

    fn run(params: &PaceParams, cam_key: Option<&[u8]>, seed: u8) -> (PaceResult, PaceChip) {
        let password = PacePassword::Can("123456".into());
        let chip_pace = ChipPace::new(password.clone(), params.clone(), cam_key).unwrap();
        let mut chip = PaceChip::new(chip_pace, ScriptedRng::seeded(seed));
        let result =
            authenticate(&mut chip, &password, params, &mut ScriptedRng::seeded(seed.wrapping_add(77)))
                .unwrap_or_else(|e| panic!("{}: {e}", params.describe()));
        (result, chip)
    }

    #[test]
    fn reader_and_chip_agree_on_every_curve_and_cipher() {
        let curves = [
            PaceCurve::NistP256,
            PaceCurve::BrainpoolP256r1,
            PaceCurve::NistP384,
            PaceCurve::BrainpoolP384r1,
        ];
        let ciphers = [SmCipher::TripleDes, SmCipher::Aes128, SmCipher::Aes192, SmCipher::Aes256];
        for (i, curve) in curves.into_iter().enumerate() {
            for (j, cipher) in ciphers.into_iter().enumerate() {
                let params = PaceParams::new(PaceMapping::GenericMapping, cipher, curve).unwrap();
                let round_trip = PaceParams::from_pace_info(&params.oid, Some(curve.parameter_id())).unwrap();
                assert_eq!(round_trip, params);
                let (mut result, mut chip) = run(&params, None, (i * 4 + j) as u8);
                assert_eq!(result.sm.cipher(), cipher);
                assert_eq!(result.sm.send_sequence_counter(), vec![0; cipher.block_size()]);
                check_session(&mut result, &mut chip);
            }
        }
    }

    #[test]
    fn pace_cam_proves_the_static_key() {
        for (curve, cipher) in
            [(PaceCurve::BrainpoolP256r1, SmCipher::Aes128), (PaceCurve::NistP384, SmCipher::Aes256)]
        {
            let params = PaceParams::new(PaceMapping::ChipAuthenticationMapping, cipher, curve).unwrap();
            let static_key = generate_private_key(curve, &mut ScriptedRng::seeded(9)).unwrap();
            let static_public = public_key(curve, &static_key, None).unwrap();
            let (mut result, mut chip) = run(&params, Some(&static_key), 5);
            let evidence = result.cam.clone().expect("CAM evidence");
            assert_eq!(evidence.ca_ic.len(), curve.field_len());
            let verdict = evidence.verify(&static_public);
            assert!(verdict.is_passed(), "{verdict}");
            // Another chip's key does not match: a cloned chip fails.
            let other =
                public_key(curve, &generate_private_key(curve, &mut ScriptedRng::seeded(10)).unwrap(), None)
                    .unwrap();
            assert!(evidence.verify(&other).is_failed());
            assert!(evidence.verify(&[0x04, 1, 2]).is_failed());
            let mut tampered = evidence.clone();
            tampered.ca_ic[0] ^= 1;
            assert!(tampered.verify(&static_public).is_failed());
            check_session(&mut result, &mut chip);
        }
        // CAM needs the chip's key, and AES.
        let params =
            PaceParams::new(PaceMapping::ChipAuthenticationMapping, SmCipher::Aes128, PaceCurve::NistP256)
                .unwrap();
        assert!(ChipPace::new(g1_password(), params, None).is_err());
        assert!(
            PaceParams::new(PaceMapping::ChipAuthenticationMapping, SmCipher::TripleDes, PaceCurve::NistP256)
                .is_err()
        );
    }

    #[test]
    fn cam_data_encryption_uses_the_all_ff_iv() {
        let keys = SessionKeys::derive(&hex(SHARED_SECRET), SmCipher::Aes128);
        let ca = hex(SK_MAP_IC);
        let encrypted = encrypt_chip_authentication_data(&keys, &ca).unwrap();
        assert_eq!(encrypted.len(), 48);
        let iv = sm::encrypt_block(SmCipher::Aes128, &keys.k_enc, &[0xFF; 16]).unwrap();
        let plain = sm::cbc_decrypt(SmCipher::Aes128, &keys.k_enc, &iv, &encrypted).unwrap();
        assert_eq!(plain, sm::pad(&ca, 16));
        assert_eq!(decrypt_chip_authentication_data(&keys, &encrypted).unwrap(), ca);
    }

    #[test]
    fn wrong_password_is_access_denied() {
        let params =
            PaceParams::new(PaceMapping::GenericMapping, SmCipher::Aes128, PaceCurve::NistP256).unwrap();
        let chip_pace = ChipPace::new(PacePassword::Can("123456".into()), params.clone(), None).unwrap();
        let mut chip = PaceChip::new(chip_pace, ScriptedRng::seeded(1));
        let error = authenticate(
            &mut chip,
            &PacePassword::Can("123457".into()),
            &params,
            &mut ScriptedRng::seeded(2),
        )
        .unwrap_err();
        assert!(
            matches!(error, PaceError::AccessDenied { status: StatusError::Other(0x6300), .. }),
            "{error}"
        );
        assert!(chip.session.is_none());
        // The MRZ instead of the CAN: the chip has no such password.
        let error =
            authenticate(&mut chip, &g1_password(), &params, &mut ScriptedRng::seeded(2)).unwrap_err();
        assert!(
            matches!(error, PaceError::Refused { status: StatusError::ReferencedDataNotFound, .. }),
            "{error}"
        );
        // And after all that, the right password still works.
        authenticate(&mut chip, &PacePassword::Can("123456".into()), &params, &mut ScriptedRng::seeded(3))
            .unwrap();
    }

    #[test]
    fn chips_that_refuse_the_parameter_id_get_the_short_form() {
        let chip_pace = ChipPace::new(g1_password(), g1_params(), None).unwrap();
        let mut chip = PaceChip::new(chip_pace, ScriptedRng::seeded(4));
        chip.refuse_parameter_id = true;
        let mut result =
            authenticate(&mut chip, &g1_password(), &g1_params(), &mut ScriptedRng::seeded(5)).unwrap();
        assert_eq!(hex::encode_upper(&chip.log[1].0), "0022C1A40F800A04007F00070202040202830101");
        check_session(&mut result, &mut chip);
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let params = PaceParams::from_pace_info(&oid::PACE_ECDH_CAM_AES_256, Some(16)).unwrap();
        assert_eq!(
            (params.mapping, params.cipher, params.curve),
            (PaceMapping::ChipAuthenticationMapping, SmCipher::Aes256, PaceCurve::BrainpoolP384r1)
        );
        assert_eq!(
            PaceParams::from_pace_info(&oid::PACE_ECDH_GM_3DES, Some(12)).unwrap().curve,
            PaceCurve::NistP256
        );
        assert_eq!(
            PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_192, Some(15)).unwrap().curve,
            PaceCurve::NistP384
        );
        let error = PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, Some(17)).unwrap_err();
        assert!(error.to_string().contains("brainpoolP512r1"), "{error}");
        let error = PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, Some(2)).unwrap_err();
        assert!(error.to_string().contains("MODP"), "{error}");
        assert_eq!(
            PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, None),
            Err(PaceError::MissingParameterId)
        );
        let error = PaceParams::from_pace_info(&oid::PACE_DH_GM_AES_128, Some(2)).unwrap_err();
        assert!(
            matches!(error, PaceError::UnsupportedProtocol { .. })
                && error.to_string().contains("Diffie-Hellman"),
            "{error}"
        );
        let error = PaceParams::from_pace_info(&oid::PACE_ECDH_IM_AES_128, Some(13)).unwrap_err();
        assert!(error.to_string().contains("integrated mapping"), "{error}");
        assert!(matches!(
            PaceParams::from_pace_info(&oid::CA_ECDH_AES_128, Some(13)),
            Err(PaceError::NotPace { .. })
        ));
        assert_eq!(params.describe(), "PACE-CAM brainpoolP384r1 AES-256");
    }

    #[test]
    fn chip_rejects_out_of_order_and_malformed_steps() {
        let mut chip = ChipPace::new(g1_password(), g1_params(), None).unwrap();
        let mut rng = ScriptedRng::seeded(1);
        // GENERAL AUTHENTICATE before MSE:Set AT.
        assert_eq!(
            chip.respond(&general_authenticate(&[], false), &mut rng).sw,
            sw::CONDITIONS_NOT_SATISFIED
        );
        // Wrong protocol, wrong parameter ID.
        let other =
            PaceParams::new(PaceMapping::GenericMapping, SmCipher::Aes256, PaceCurve::BrainpoolP256r1)
                .unwrap();
        assert_eq!(chip.respond(&mse_set_at(&other, 1, false), &mut rng).sw, sw::INCORRECT_DATA);
        let mut wrong_id = mse_set_at(&g1_params(), 1, true);
        if let Some(last) = wrong_id.data.last_mut() {
            *last = 12;
        }
        assert_eq!(chip.respond(&wrong_id, &mut rng).sw, sw::INCORRECT_DATA);
        // A point that is not on the curve in step 2.
        assert_eq!(chip.respond(&mse_set_at(&g1_params(), 1, false), &mut rng).sw, sw::OK);
        assert_eq!(chip.respond(&general_authenticate(&[], false), &mut rng).sw, sw::OK);
        let mut bad_point = hex(PK_MAP_IC);
        bad_point[40] ^= 1;
        assert_eq!(
            chip.respond(&general_authenticate(&tlv::encode(0x81, &bad_point), false), &mut rng).sw,
            sw::INCORRECT_DATA
        );
        // Step 4 without the chain ending, and garbage templates.
        assert_eq!(chip.respond(&mse_set_at(&g1_params(), 1, false), &mut rng).sw, sw::OK);
        assert_eq!(chip.respond(&general_authenticate(&[], true), &mut rng).sw, sw::CONDITIONS_NOT_SATISFIED);
        assert_eq!(chip.respond(&mse_set_at(&g1_params(), 1, false), &mut rng).sw, sw::OK);
        let garbage = CommandApdu::new(0x10, 0x86, 0, 0).with_data(vec![0x7C, 0x05, 0x81]).with_ne(256);
        assert_eq!(chip.respond(&garbage, &mut rng).sw, sw::INCORRECT_DATA);
        assert!(!chip.is_established());
        assert!(ChipPace::handles(&general_authenticate(&[], false)));
        assert!(ChipPace::handles(&mse_set_at(&g1_params(), 1, true)));
        assert!(!ChipPace::handles(&read_binary(0, 1)));
    }

    #[test]
    fn reader_rejects_bad_chip_answers_without_panicking() {
        let params = g1_params();
        let password = g1_password();
        // A chip whose token is wrong.
        let chip_pace = ChipPace::new(password.clone(), params.clone(), None).unwrap();
        let mut chip = PaceChip::new(chip_pace, ScriptedRng::seeded(7));
        let mut terminal = PaceTerminal::new(&password, &params);
        chip.exchange(&terminal.mse_set_at(true)).unwrap();
        let r1 = chip.exchange(&terminal.encrypted_nonce_command()).unwrap();
        let mut rng = ScriptedRng::seeded(8);
        let c2 = terminal.map_nonce(&r1, &mut rng).unwrap();
        let r2 = chip.exchange(&c2).unwrap();
        let c3 = terminal.agree_key(&r2, &mut rng).unwrap();
        let r3 = chip.exchange(&c3).unwrap();
        let c4 = terminal.authenticate_command(&r3).unwrap();
        let mut r4 = chip.exchange(&c4).unwrap();
        if let Some(last) = r4.data.last_mut() {
            *last ^= 1;
        }
        assert_eq!(terminal.finish(&r4).unwrap_err(), PaceError::BadChipToken);
        assert!(matches!(terminal.map_nonce(&r1, &mut rng), Err(PaceError::OutOfOrder { .. })));

        // The chip reflects our own keys.
        let mut terminal = PaceTerminal::new(&password, &params);
        let c2 = terminal.map_nonce(&r1, &mut rng).unwrap();
        let reflected = ResponseApdu::new(tlv::encode(0x7C, &tlv::encode(0x82, &c2.data[4..])), 0x9000);
        assert_eq!(
            terminal.agree_key(&reflected, &mut rng).unwrap_err(),
            PaceError::ReflectedKey { what: "mapping key" }
        );

        // Garbage answers at every step: errors, never panics.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..400 {
            let len = (next() % 120) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 && data.len() > 4 {
                // Plausible framing: 7C L tag L ...
                data[0] = 0x7C;
                data[1] = (data.len() - 2) as u8;
                data[2] = [0x80, 0x82, 0x84, 0x86, 0x8A][round % 5];
                data[3] = (data.len() - 4) as u8;
            }
            let garbage = ResponseApdu::new(data, if round % 7 == 0 { 0x6A80 } else { 0x9000 });
            let mut terminal = PaceTerminal::new(&password, &params);
            let _ = terminal.map_nonce(&garbage, &mut rng);
            let mut terminal = PaceTerminal::new(&password, &params);
            if terminal.map_nonce(&r1, &mut rng).is_ok() {
                let _ = terminal.agree_key(&garbage, &mut rng);
            }
            let mut chip = ChipPace::new(password.clone(), params.clone(), None).unwrap();
            chip.respond(&mse_set_at(&params, 1, false), &mut rng);
            let command = CommandApdu::new(0x10, 0x86, 0, 0).with_data(garbage.data.clone()).with_ne(256);
            let _ = chip.respond(&command, &mut rng);
            let _ = chip.respond(&command, &mut rng);
        }
        for len in [0usize, 1, 15, 17, 33] {
            let _ = decrypt_nonce(&password, SmCipher::Aes128, &vec![0; len]);
            let _ = shared_secret(PaceCurve::NistP256, &vec![1; len], &vec![4; len]);
            let _ = map_generator(PaceCurve::NistP384, &vec![1; len], &vec![1; len], &vec![4; len]);
        }
    }
}
