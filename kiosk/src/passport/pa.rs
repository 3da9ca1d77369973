//! Passive Authentication (ICAO 9303 Part 11 §5.1, BSI TR-03135 Part 1
//! §4.2): the data read from the chip are those the issuing state signed.
//!
//! Chain: a CSCA from the [`TrustStore`] signed the Document Signer (DS)
//! certificate, whose key signed EF.SOD, which holds a hash of every data
//! group. Each link is a named check with its own [`Verdict`], so the officer
//! (and the transaction record) sees what held, what failed and what could
//! not be checked, never a silent skip.
//!
//! PA proves the data are genuine; it does not detect a cloned chip (Chip
//! or Active Authentication do).
//!
//! Signature verification ([`verify_signature`]) is shared with the trust
//! store (CSCA master lists, CRLs). Every primitive comes from RustCrypto:
//! `rsa` (PKCS#1 v1.5 and PSS), `ecdsa` with `p256`, `p384`, `bp256`,
//! `bp384`, and `sha1`/`sha2`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use serde::Serialize;
use sha2::Digest;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::time::Validity;

use super::countries::{self, IssuingState};
use super::oid;
use super::sod::{ParsedCertificate, Sod};
use super::trust::{TrustStore, TrustedCsca};
use super::verdict::Verdict;

/// Hash algorithms of ICAO 9303 Part 12 §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HashAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub fn from_oid(algorithm: &ObjectIdentifier) -> Option<HashAlgorithm> {
        [
            (oid::SHA1, HashAlgorithm::Sha1),
            (oid::SHA224, HashAlgorithm::Sha224),
            (oid::SHA256, HashAlgorithm::Sha256),
            (oid::SHA384, HashAlgorithm::Sha384),
            (oid::SHA512, HashAlgorithm::Sha512),
        ]
        .into_iter()
        .find(|(o, _)| o == algorithm)
        .map(|(_, h)| h)
    }

    pub fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha1 => oid::SHA1,
            HashAlgorithm::Sha224 => oid::SHA224,
            HashAlgorithm::Sha256 => oid::SHA256,
            HashAlgorithm::Sha384 => oid::SHA384,
            HashAlgorithm::Sha512 => oid::SHA512,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha224 => "SHA-224",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlgorithm::Sha224 => sha2::Sha224::digest(data).to_vec(),
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// A signature algorithm this kiosk verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash (the only form ICAO uses).
    RsaPss {
        hash: HashAlgorithm,
        salt_length: usize,
    },
    /// ECDSA, X9.62 DER-encoded signature.
    Ecdsa(HashAlgorithm),
    /// ECDSA, plain r || s (BSI TR-03111 ecdsa-plain-signatures).
    EcdsaPlain(HashAlgorithm),
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h) => write!(f, "RSA PKCS#1 v1.5 with {}", h.name()),
            SignatureAlgorithm::RsaPss { hash, salt_length } => {
                write!(f, "RSASSA-PSS with {0}, MGF1-{0}, salt {1} bytes", hash.name(), salt_length)
            }
            SignatureAlgorithm::Ecdsa(h) => write!(f, "ECDSA with {}", h.name()),
            SignatureAlgorithm::EcdsaPlain(h) => write!(f, "ECDSA (plain r||s) with {}", h.name()),
        }
    }
}

const SHA224_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.14");
/// OIW sha1WithRSASignature, seen in old certificates.
const SHA1_WITH_RSA_OIW: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.29");

impl SignatureAlgorithm {
    /// Read a signature AlgorithmIdentifier. `digest_hint` is the CMS
    /// digestAlgorithm, needed when a SignerInfo names only the key type
    /// (rsaEncryption, ecPublicKey), as many SODs do.
    pub fn from_identifier(
        algorithm: &AlgorithmIdentifierOwned,
        digest_hint: Option<HashAlgorithm>,
    ) -> Result<SignatureAlgorithm, String> {
        use HashAlgorithm::*;
        let o = algorithm.oid;
        let table = [
            (oid::SHA1_WITH_RSA, SignatureAlgorithm::RsaPkcs1v15(Sha1)),
            (SHA1_WITH_RSA_OIW, SignatureAlgorithm::RsaPkcs1v15(Sha1)),
            (SHA224_WITH_RSA, SignatureAlgorithm::RsaPkcs1v15(Sha224)),
            (oid::SHA256_WITH_RSA, SignatureAlgorithm::RsaPkcs1v15(Sha256)),
            (oid::SHA384_WITH_RSA, SignatureAlgorithm::RsaPkcs1v15(Sha384)),
            (oid::SHA512_WITH_RSA, SignatureAlgorithm::RsaPkcs1v15(Sha512)),
            (oid::ECDSA_WITH_SHA1, SignatureAlgorithm::Ecdsa(Sha1)),
            (oid::ECDSA_WITH_SHA224, SignatureAlgorithm::Ecdsa(Sha224)),
            (oid::ECDSA_WITH_SHA256, SignatureAlgorithm::Ecdsa(Sha256)),
            (oid::ECDSA_WITH_SHA384, SignatureAlgorithm::Ecdsa(Sha384)),
            (oid::ECDSA_WITH_SHA512, SignatureAlgorithm::Ecdsa(Sha512)),
            (oid::ECDSA_PLAIN_SHA1, SignatureAlgorithm::EcdsaPlain(Sha1)),
            (oid::ECDSA_PLAIN_SHA224, SignatureAlgorithm::EcdsaPlain(Sha224)),
            (oid::ECDSA_PLAIN_SHA256, SignatureAlgorithm::EcdsaPlain(Sha256)),
            (oid::ECDSA_PLAIN_SHA384, SignatureAlgorithm::EcdsaPlain(Sha384)),
            (oid::ECDSA_PLAIN_SHA512, SignatureAlgorithm::EcdsaPlain(Sha512)),
        ];
        if let Some((_, alg)) = table.iter().find(|(t, _)| *t == o) {
            return Ok(*alg);
        }
        let need_hint = |what: &str| {
            digest_hint.ok_or_else(|| format!("{what} ({o}) names no hash algorithm and none is given"))
        };
        if o == oid::RSA_ENCRYPTION {
            return Ok(SignatureAlgorithm::RsaPkcs1v15(need_hint("rsaEncryption")?));
        }
        if o == oid::EC_PUBLIC_KEY {
            return Ok(SignatureAlgorithm::Ecdsa(need_hint("ecPublicKey")?));
        }
        if o == oid::RSASSA_PSS {
            return pss_from_parameters(algorithm.parameters.as_ref());
        }
        Err(format!("signature algorithm {o} is not supported"))
    }
}

/// RSASSA-PSS-params (RFC 4055): hash, MGF1 hash, salt length, trailer.
fn pss_from_parameters(parameters: Option<&der::Any>) -> Result<SignatureAlgorithm, String> {
    let params = match parameters {
        Some(any) => any
            .to_der()
            .ok()
            .and_then(|d| rsa::pkcs1::RsaPssParamsOwned::from_der(&d).ok())
            .ok_or_else(|| "RSASSA-PSS parameters are malformed".to_string())?,
        // Absent parameters: RFC 4055 defaults (SHA-1, MGF1-SHA-1, salt 20).
        None => rsa::pkcs1::RsaPssParamsOwned::default(),
    };
    let hash = HashAlgorithm::from_oid(&params.hash.oid)
        .ok_or_else(|| format!("RSASSA-PSS with hash {} is not supported", params.hash.oid))?;
    if params.mask_gen.oid != oid::MGF1 {
        return Err(format!(
            "RSASSA-PSS with mask generation {} is not supported (only MGF1)",
            params.mask_gen.oid
        ));
    }
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if mgf_hash != Some(hash.oid()) {
        let named = mgf_hash.map_or("none".to_string(), |o| o.to_string());
        return Err(format!(
            "RSASSA-PSS with MGF1 hash {named} different from the message hash {} is not supported",
            hash.name()
        ));
    }
    Ok(SignatureAlgorithm::RsaPss { hash, salt_length: usize::from(params.salt_len) })
}

/// Named curves this kiosk verifies ECDSA on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
    BrainpoolP256r1,
    BrainpoolP384r1,
}

impl EcCurve {
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::BrainpoolP256r1 => "brainpoolP256r1",
            EcCurve::BrainpoolP384r1 => "brainpoolP384r1",
        }
    }

    fn from_oid(curve: &ObjectIdentifier) -> Result<EcCurve, String> {
        let known = [
            (oid::CURVE_P256, EcCurve::P256),
            (oid::CURVE_P384, EcCurve::P384),
            (oid::CURVE_BRAINPOOL_P256R1, EcCurve::BrainpoolP256r1),
            (oid::CURVE_BRAINPOOL_P384R1, EcCurve::BrainpoolP384r1),
        ];
        if let Some((_, c)) = known.iter().find(|(o, _)| o == curve) {
            return Ok(*c);
        }
        let name = if *curve == oid::CURVE_P521 {
            "P-521".to_string()
        } else if *curve == oid::CURVE_BRAINPOOL_P512R1 {
            "brainpoolP512r1".to_string()
        } else {
            curve.to_string()
        };
        Err(format!("ECDSA on curve {name} is not supported"))
    }
}

/// ECParameters with explicit domain parameters (X9.62), which some states
/// (Germany among them) put in their certificates instead of a curve OID.
#[derive(Sequence)]
#[allow(dead_code)] // decoded to check the structure; only the base point is compared
struct SpecifiedEcDomain {
    version: u8,
    field_id: der::Any,
    curve: der::Any,
    base: OctetString,
    order: der::Any,
    cofactor: Option<der::Any>,
}

/// Whether `base` is the generator of curve `C` (the point decodes on `C`
/// and equals its generator). Explicit parameters are only used to pick
/// one of our curves: verification always uses the crate's own constants.
macro_rules! is_generator_of {
    ($curve:ty, $base:expr) => {{
        use elliptic_curve::group::Group as _;
        elliptic_curve::PublicKey::<$curve>::from_sec1_bytes($base).is_ok_and(|p| {
            *p.as_affine() == <elliptic_curve::ProjectivePoint<$curve>>::generator().to_affine()
        })
    }};
}

fn curve_of(spki: &SubjectPublicKeyInfoOwned) -> Result<EcCurve, String> {
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| "the EC public key has no curve parameters".to_string())?;
    if let Ok(curve) = params.decode_as::<ObjectIdentifier>() {
        return EcCurve::from_oid(&curve);
    }
    let explicit =
        params.to_der().ok().and_then(|d| SpecifiedEcDomain::from_der(&d).ok()).ok_or_else(|| {
            "the EC public key's curve parameters are neither a named curve nor explicit parameters"
                .to_string()
        })?;
    let base = explicit.base.as_bytes();
    if is_generator_of!(p256::NistP256, base) {
        Ok(EcCurve::P256)
    } else if is_generator_of!(p384::NistP384, base) {
        Ok(EcCurve::P384)
    } else if is_generator_of!(bp256::BrainpoolP256r1, base) {
        Ok(EcCurve::BrainpoolP256r1)
    } else if is_generator_of!(bp384::BrainpoolP384r1, base) {
        Ok(EcCurve::BrainpoolP384r1)
    } else {
        Err("ECDSA on a curve given by explicit parameters that match none of P-256, P-384, brainpoolP256r1, brainpoolP384r1 is not supported".into())
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The algorithm, curve or key type is one this kiosk does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// The signature is wrong, or the key or signature is malformed.
    #[error("{0}")]
    Invalid(String),
}

macro_rules! verify_ecdsa {
    ($curve:ty, $point:expr, $prehash:expr, $signature:expr, $plain:expr) => {{
        use ecdsa::signature::hazmat::PrehashVerifier;
        let key = ecdsa::VerifyingKey::<$curve>::from_sec1_bytes($point)
            .map_err(|_| SignatureError::Invalid("the EC public key is not a point on its curve".into()))?;
        let signature = if $plain {
            ecdsa::Signature::<$curve>::from_slice($signature)
        } else {
            ecdsa::Signature::<$curve>::from_der($signature)
        }
        .map_err(|_| SignatureError::Invalid("the ECDSA signature is malformed".into()))?;
        key.verify_prehash($prehash, &signature)
            .map_err(|_| SignatureError::Invalid("the ECDSA signature does not verify".into()))
    }};
}

/// Verify `signature` over `message` with the key in `spki`, by the
/// algorithm `algorithm` names (`digest_hint`: see
/// [`SignatureAlgorithm::from_identifier`]). On success, says what was
/// verified ("ECDSA with SHA-256 on brainpoolP256r1").
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest_hint: Option<HashAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<String, SignatureError> {
    let alg =
        SignatureAlgorithm::from_identifier(algorithm, digest_hint).map_err(SignatureError::Unsupported)?;
    let key_type = spki.algorithm.oid;
    match alg {
        SignatureAlgorithm::RsaPkcs1v15(hash) | SignatureAlgorithm::RsaPss { hash, .. } => {
            if key_type != oid::RSA_ENCRYPTION && key_type != oid::RSASSA_PSS {
                return Err(SignatureError::Invalid(format!(
                    "{alg} signature but the key is not RSA ({key_type})"
                )));
            }
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let key = rsa::PublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes()).map_err(|e| {
                SignatureError::Invalid(format!("the RSA public key is malformed or out of range: {e}"))
            })?;
            let bits = key.n().bit_width();
            let hashed = hash.digest(message);
            let outcome = match alg {
                SignatureAlgorithm::RsaPss { salt_length, .. } => {
                    rsa_pss_verify(&key, hash, salt_length, &hashed, signature)
                }
                _ => key.verify(rsa_pkcs1v15_scheme(hash), &hashed, signature),
            };
            outcome.map_err(|_| SignatureError::Invalid(format!("the {alg} signature does not verify")))?;
            Ok(format!("{alg}, RSA-{bits}"))
        }
        SignatureAlgorithm::Ecdsa(hash) | SignatureAlgorithm::EcdsaPlain(hash) => {
            if key_type != oid::EC_PUBLIC_KEY {
                return Err(SignatureError::Invalid(format!(
                    "{alg} signature but the key is not EC ({key_type})"
                )));
            }
            let curve = curve_of(spki).map_err(SignatureError::Unsupported)?;
            let point = spki.subject_public_key.raw_bytes();
            let prehash = hash.digest(message);
            let plain = matches!(alg, SignatureAlgorithm::EcdsaPlain(_));
            match curve {
                EcCurve::P256 => verify_ecdsa!(p256::NistP256, point, &prehash, signature, plain),
                EcCurve::P384 => verify_ecdsa!(p384::NistP384, point, &prehash, signature, plain),
                EcCurve::BrainpoolP256r1 => {
                    verify_ecdsa!(bp256::BrainpoolP256r1, point, &prehash, signature, plain)
                }
                EcCurve::BrainpoolP384r1 => {
                    verify_ecdsa!(bp384::BrainpoolP384r1, point, &prehash, signature, plain)
                }
            }?;
            Ok(format!("{alg} on {}", curve.name()))
        }
    }
}

fn rsa_pkcs1v15_scheme(hash: HashAlgorithm) -> rsa::Pkcs1v15Sign {
    match hash {
        HashAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        HashAlgorithm::Sha224 => rsa::Pkcs1v15Sign::new::<sha2::Sha224>(),
        HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
        HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
        HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
    }
}

fn rsa_pss_verify(
    key: &rsa::PublicKey,
    hash: HashAlgorithm,
    salt_length: usize,
    hashed: &[u8],
    signature: &[u8],
) -> rsa::Result<()> {
    match hash {
        HashAlgorithm::Sha1 => {
            key.verify(rsa::Pss::<sha1::Sha1>::new_with_salt(salt_length), hashed, signature)
        }
        HashAlgorithm::Sha224 => {
            key.verify(rsa::Pss::<sha2::Sha224>::new_with_salt(salt_length), hashed, signature)
        }
        HashAlgorithm::Sha256 => {
            key.verify(rsa::Pss::<sha2::Sha256>::new_with_salt(salt_length), hashed, signature)
        }
        HashAlgorithm::Sha384 => {
            key.verify(rsa::Pss::<sha2::Sha384>::new_with_salt(salt_length), hashed, signature)
        }
        HashAlgorithm::Sha512 => {
            key.verify(rsa::Pss::<sha2::Sha512>::new_with_salt(salt_length), hashed, signature)
        }
    }
}

/// Verify a certificate's signature with an issuer's key.
pub fn verify_certificate_signature(
    certificate: &ParsedCertificate,
    issuer_key: &SubjectPublicKeyInfoOwned,
) -> Result<String, SignatureError> {
    let tbs = certificate
        .tbs_der()
        .ok_or_else(|| SignatureError::Invalid("the certificate's signed part cannot be located".into()))?;
    let signature = certificate.signature_bytes().ok_or_else(|| {
        SignatureError::Invalid("the certificate's signature is not a whole number of bytes".into())
    })?;
    verify_signature(issuer_key, certificate.certificate.signature_algorithm(), None, tbs, signature)
}

/// The Passive Authentication checks, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaCheckKind {
    /// EF.SOD is a CMS SignedData holding an LDSSecurityObject.
    SodStructure,
    /// contentType and messageDigest signed attributes.
    SignedAttributes,
    /// The DS key's signature over the signed attributes.
    SodSignature,
    /// A trusted CSCA's signature on the DS certificate.
    DsCertificateSignature,
    /// The CSCA certificate itself: self-signature (or link signature), CA.
    CscaCertificate,
    DsValidity,
    CscaValidity,
    /// The DS certificate against the CSCA's CRL.
    Revocation,
    /// Each data group read against its hash in the SOD.
    DataGroupHashes,
    /// The DS certificate's country is DG1's issuing state.
    Country,
}

impl PaCheckKind {
    pub const ALL: [PaCheckKind; 10] = [
        PaCheckKind::SodStructure,
        PaCheckKind::SignedAttributes,
        PaCheckKind::SodSignature,
        PaCheckKind::DsCertificateSignature,
        PaCheckKind::CscaCertificate,
        PaCheckKind::DsValidity,
        PaCheckKind::CscaValidity,
        PaCheckKind::Revocation,
        PaCheckKind::DataGroupHashes,
        PaCheckKind::Country,
    ];

    /// Short label for tables and logs.
    pub fn label(self) -> &'static str {
        match self {
            PaCheckKind::SodStructure => "SOD structure",
            PaCheckKind::SignedAttributes => "SOD signed attributes",
            PaCheckKind::SodSignature => "SOD signature",
            PaCheckKind::DsCertificateSignature => "DS certificate signature",
            PaCheckKind::CscaCertificate => "CSCA certificate",
            PaCheckKind::DsValidity => "DS certificate validity",
            PaCheckKind::CscaValidity => "CSCA certificate validity",
            PaCheckKind::Revocation => "DS certificate revocation",
            PaCheckKind::DataGroupHashes => "data group hashes",
            PaCheckKind::Country => "issuing country",
        }
    }

    /// Whether Passed overall needs this check Passed. Revocation is
    /// reported but a missing CRL does not block (BSI TR-03135: CRLs are
    /// checked "if available").
    pub fn is_required(self) -> bool {
        self != PaCheckKind::Revocation
    }
}

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaCheck {
    pub check: PaCheckKind,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The outcome of Passive Authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassiveAuthReport {
    /// Failed if any check failed; NotSupported if a required check could
    /// not run; Passed only when every required check passed.
    pub verdict: Verdict,
    /// Every check of [`PaCheckKind::ALL`], in that order.
    pub checks: Vec<PaCheck>,
    pub ds_subject: Option<String>,
    /// Upper-case hexadecimal.
    pub ds_serial: Option<String>,
    pub csca_subject: Option<String>,
    pub csca_serial: Option<String>,
    /// Where the CSCA came from (file or master list).
    pub csca_source: Option<String>,
    /// The SOD signature, as verified (or as named when it was not).
    pub sod_signature_algorithm: Option<String>,
    /// The CSCA's signature on the DS certificate.
    pub ds_certificate_signature_algorithm: Option<String>,
    /// The LDSSecurityObject's data-group hash algorithm.
    pub hash_algorithm: Option<String>,
    /// SOD signingTime, RFC 3339-like, when present.
    pub signing_time: Option<String>,
    /// Data groups whose hash matched.
    pub data_groups_verified: Vec<u8>,
    /// Data groups the SOD lists that were not read (so not checked).
    pub data_groups_not_read: Vec<u8>,
}

impl PassiveAuthReport {
    /// The verdict of one check.
    pub fn check(&self, kind: PaCheckKind) -> Option<&Verdict> {
        self.checks.iter().find(|c| c.check == kind).map(|c| &c.verdict)
    }

    /// One line per check, for logs.
    pub fn summary(&self) -> String {
        let mut out = format!("Passive Authentication: {}", self.verdict);
        for c in &self.checks {
            out.push_str(&format!("\n  {}: {}", c.check.label(), c.verdict));
        }
        out
    }
}

/// Run Passive Authentication.
///
/// - `ef_sod`: EF.SOD as read (tag 77), or its ContentInfo.
/// - `data_groups`: data-group number -> the file as read from the chip.
/// - `dg1_issuing_state`: the MRZ issuing state (`DEU`, `D<<`, `UTO`, ...).
/// - `now`: the instant the certificates must be valid at.
pub fn passive_authentication(
    ef_sod: &[u8],
    data_groups: &BTreeMap<u8, Vec<u8>>,
    dg1_issuing_state: &str,
    trust: &TrustStore,
    now: SystemTime,
) -> PassiveAuthReport {
    let mut run = Run::default();
    let sod = match Sod::parse(ef_sod) {
        Ok(sod) => sod,
        Err(e) => {
            run.set(PaCheckKind::SodStructure, Verdict::failed(format!("EF.SOD cannot be read: {e}")));
            return run.finish();
        }
    };
    let lds = &sod.lds;
    let lds_hash = HashAlgorithm::from_oid(&lds.hash_algorithm.oid);
    run.report.hash_algorithm = Some(hash_name(&lds.hash_algorithm.oid));
    run.report.signing_time = sod.cms.signing_time().map(|t| t.to_string());
    let ds = sod.ds_certificate();
    run.set(
        PaCheckKind::SodStructure,
        Verdict::passed(format!(
            "LDSSecurityObject v{} with {} hashes of data groups {:?}; {} certificate(s); DS certificate {}",
            lds.version,
            hash_name(&lds.hash_algorithm.oid),
            lds.data_groups(),
            sod.cms.certificates.len(),
            if ds.is_some() { "present" } else { "absent" },
        )),
    );

    run.set(PaCheckKind::SignedAttributes, check_signed_attributes(&sod));
    let digest_hint = HashAlgorithm::from_oid(&sod.cms.signer.digest_alg.oid);
    run.report.sod_signature_algorithm = Some(
        SignatureAlgorithm::from_identifier(&sod.cms.signer.signature_algorithm, digest_hint)
            .map_or_else(|_| sod.cms.signer.signature_algorithm.oid.to_string(), |a| a.to_string()),
    );

    match ds {
        None => {
            let reason = format!(
                "the SOD carries no Document Signer certificate for the signer ({}), and this kiosk keeps no DS certificates",
                sod.cms.signer_identifier_text()
            );
            run.set(PaCheckKind::SodSignature, Verdict::not_supported(reason));
        }
        Some(ds) => {
            run.report.ds_subject = Some(ds.subject());
            run.report.ds_serial = Some(ds.serial_hex());
            run.set(PaCheckKind::SodSignature, check_sod_signature(&sod, ds, digest_hint));
            run.set(
                PaCheckKind::DsValidity,
                check_validity("DS", ds.certificate.tbs_certificate().validity(), now),
            );
            let csca = check_ds_certificate(&mut run, ds, trust);
            if let Some(csca) = csca {
                run.report.csca_subject = Some(csca.certificate.subject());
                run.report.csca_serial = Some(csca.certificate.serial_hex());
                run.report.csca_source = Some(csca.source.clone());
                run.set(PaCheckKind::CscaCertificate, check_csca_certificate(csca, trust));
                run.set(
                    PaCheckKind::CscaValidity,
                    check_validity("CSCA", csca.certificate.certificate.tbs_certificate().validity(), now),
                );
                run.set(PaCheckKind::Revocation, check_revocation(ds, csca, trust, now));
            }
            run.set(PaCheckKind::Country, check_country(ds, csca, dg1_issuing_state));
        }
    }

    let (verdict, verified, not_read) = check_data_group_hashes(&sod, lds_hash, data_groups);
    run.report.data_groups_verified = verified;
    run.report.data_groups_not_read = not_read;
    run.set(PaCheckKind::DataGroupHashes, verdict);
    run.finish()
}

/// "SHA-256", or the OID when it is not a hash this kiosk knows.
fn hash_name(algorithm: &ObjectIdentifier) -> String {
    HashAlgorithm::from_oid(algorithm).map_or_else(|| algorithm.to_string(), |h| h.name().to_string())
}

/// Collects verdicts; checks never set are reported as not run.
#[derive(Default)]
struct Run {
    verdicts: BTreeMap<usize, Verdict>,
    report: PassiveAuthReport,
}

impl Default for PassiveAuthReport {
    fn default() -> Self {
        PassiveAuthReport {
            verdict: Verdict::not_supported("not run"),
            checks: Vec::new(),
            ds_subject: None,
            ds_serial: None,
            csca_subject: None,
            csca_serial: None,
            csca_source: None,
            sod_signature_algorithm: None,
            ds_certificate_signature_algorithm: None,
            hash_algorithm: None,
            signing_time: None,
            data_groups_verified: Vec::new(),
            data_groups_not_read: Vec::new(),
        }
    }
}

impl Run {
    fn set(&mut self, kind: PaCheckKind, verdict: Verdict) {
        let index = PaCheckKind::ALL.iter().position(|k| *k == kind).unwrap_or(usize::MAX);
        self.verdicts.insert(index, verdict);
    }

    fn finish(mut self) -> PassiveAuthReport {
        let structure_failed = self.verdicts.get(&0).is_some_and(Verdict::is_failed);
        self.report.checks = PaCheckKind::ALL
            .iter()
            .enumerate()
            .map(|(i, kind)| PaCheck {
                check: *kind,
                verdict: self.verdicts.remove(&i).unwrap_or_else(|| {
                    Verdict::not_supported(if structure_failed {
                        "not run: EF.SOD could not be read"
                    } else {
                        "not run: an earlier check in the chain could not complete"
                    })
                }),
            })
            .collect();
        self.report.verdict = overall(&self.report.checks);
        self.report
    }
}

fn overall(checks: &[PaCheck]) -> Verdict {
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.verdict.is_failed())
        .map(|c| format!("{}: {}", c.check.label(), c.verdict.text()))
        .collect();
    if !failed.is_empty() {
        return Verdict::failed(failed.join("; "));
    }
    let undetermined: Vec<String> = checks
        .iter()
        .filter(|c| c.check.is_required() && !c.verdict.is_passed())
        .map(|c| format!("{}: {}", c.check.label(), c.verdict.text()))
        .collect();
    if !undetermined.is_empty() {
        return Verdict::not_supported(undetermined.join("; "));
    }
    let revocation = checks
        .iter()
        .find(|c| c.check == PaCheckKind::Revocation)
        .map_or_else(|| "not checked".to_string(), |c| c.verdict.to_string());
    Verdict::passed(format!("every required check passed; revocation {revocation}"))
}

fn check_signed_attributes(sod: &Sod) -> Verdict {
    let cms = &sod.cms;
    if cms.signer.signed_attrs.is_none() {
        return Verdict::failed(
            "the SOD signer has no signed attributes; ICAO 9303 requires contentType and messageDigest",
        );
    }
    match cms.content_type_attribute() {
        Ok(Some(ct)) if ct == oid::ICAO_LDS_SECURITY_OBJECT => {}
        Ok(Some(ct)) => {
            return Verdict::failed(format!(
                "the signed contentType is {ct}, not the LDSSecurityObject ({})",
                oid::ICAO_LDS_SECURITY_OBJECT
            ));
        }
        Ok(None) => return Verdict::failed("the contentType signed attribute is missing"),
        Err(e) => return Verdict::failed(e.to_string()),
    }
    let digest = match cms.message_digest_attribute() {
        Ok(Some(d)) => d,
        Ok(None) => return Verdict::failed("the messageDigest signed attribute is missing"),
        Err(e) => return Verdict::failed(e.to_string()),
    };
    let Some(hash) = HashAlgorithm::from_oid(&cms.signer.digest_alg.oid) else {
        return Verdict::not_supported(format!(
            "the SOD digest algorithm {} is not supported",
            cms.signer.digest_alg.oid
        ));
    };
    if hash.digest(&cms.content) != digest {
        return Verdict::failed(format!(
            "the messageDigest signed attribute is not the {} of the LDSSecurityObject",
            hash.name()
        ));
    }
    Verdict::passed(format!("contentType is LDSSecurityObject; messageDigest matches ({})", hash.name()))
}

fn check_sod_signature(sod: &Sod, ds: &ParsedCertificate, digest_hint: Option<HashAlgorithm>) -> Verdict {
    let cms = &sod.cms;
    // Without signed attributes (already a failure) the signature covers the content itself.
    let signed = cms.signed_attributes_der.as_deref().unwrap_or(&cms.content);
    match verify_signature(
        ds.certificate.tbs_certificate().subject_public_key_info(),
        &cms.signer.signature_algorithm,
        digest_hint,
        signed,
        cms.signer.signature.as_bytes(),
    ) {
        Ok(what) => Verdict::passed(format!("{what}, by the DS key of {}", ds.subject())),
        Err(SignatureError::Unsupported(why)) => Verdict::not_supported(why),
        Err(SignatureError::Invalid(why)) => Verdict::failed(why),
    }
}

/// Find the CSCA that signed the DS certificate; sets the DS certificate
/// signature check and returns that CSCA.
fn check_ds_certificate<'t>(
    run: &mut Run,
    ds: &ParsedCertificate,
    trust: &'t TrustStore,
) -> Option<&'t TrustedCsca> {
    let issuer = ds.issuer();
    let key_id = ds.authority_key_id().map(hex::encode_upper);
    let candidates = trust.issuer_candidates(ds);
    run.report.ds_certificate_signature_algorithm = Some(
        SignatureAlgorithm::from_identifier(ds.certificate.signature_algorithm(), None)
            .map_or_else(|_| ds.certificate.signature_algorithm().oid.to_string(), |a| a.to_string()),
    );
    if candidates.is_empty() {
        run.set(
            PaCheckKind::DsCertificateSignature,
            Verdict::failed(format!(
                "no CSCA in the trust store ({} certificates) matches issuer {issuer}{}: unknown or untrusted issuing authority",
                trust.len(),
                key_id.as_deref().map(|k| format!(" with key identifier {k}")).unwrap_or_default()
            )),
        );
        return None;
    }
    let mut unsupported = None;
    let mut failures = Vec::new();
    for csca in &candidates {
        match verify_certificate_signature(
            ds,
            csca.certificate.certificate.tbs_certificate().subject_public_key_info(),
        ) {
            Ok(what) => {
                run.report.ds_certificate_signature_algorithm = Some(what.clone());
                run.set(
                    PaCheckKind::DsCertificateSignature,
                    Verdict::passed(format!(
                        "{what}, by CSCA {} (serial {})",
                        csca.certificate.subject(),
                        csca.certificate.serial_hex()
                    )),
                );
                return Some(csca);
            }
            Err(SignatureError::Unsupported(why)) => unsupported = Some(why),
            Err(SignatureError::Invalid(why)) => failures.push(why),
        }
    }
    let verdict = match (unsupported, failures.is_empty()) {
        (Some(why), true) => Verdict::not_supported(why),
        _ => Verdict::failed(format!(
            "the DS certificate does not verify with any of the {} CSCA(s) named {issuer}: {}",
            candidates.len(),
            failures.join("; ")
        )),
    };
    run.set(PaCheckKind::DsCertificateSignature, verdict);
    None
}

fn check_csca_certificate(csca: &TrustedCsca, trust: &TrustStore) -> Verdict {
    let cert = &csca.certificate;
    let tbs = cert.certificate.tbs_certificate();
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if !bc.ca => {
            return Verdict::failed(
                "the CSCA certificate is not a CA certificate (BasicConstraints cA is false)",
            );
        }
        Err(e) => return Verdict::failed(format!("the CSCA's BasicConstraints extension is malformed: {e}")),
        _ => {}
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => {
            return Verdict::failed("the CSCA certificate's key usage does not allow certificate signing");
        }
        Err(e) => return Verdict::failed(format!("the CSCA's KeyUsage extension is malformed: {e}")),
        _ => {}
    }
    if cert.is_self_issued() {
        return match verify_certificate_signature(cert, tbs.subject_public_key_info()) {
            Ok(what) => Verdict::passed(format!("self-signed, {what}")),
            Err(SignatureError::Unsupported(why)) => Verdict::not_supported(why),
            Err(SignatureError::Invalid(why)) => {
                Verdict::failed(format!("the CSCA self-signature is wrong: {why}"))
            }
        };
    }
    // A link certificate: the new CSCA key certified by the previous one.
    let issuers: Vec<_> =
        trust.issuer_candidates(cert).into_iter().filter(|i| i.certificate != *cert).collect();
    for issuer in &issuers {
        if let Ok(what) = verify_certificate_signature(
            cert,
            issuer.certificate.certificate.tbs_certificate().subject_public_key_info(),
        ) {
            return Verdict::passed(format!(
                "link certificate, {what}, by CSCA serial {}",
                issuer.certificate.serial_hex()
            ));
        }
    }
    Verdict::failed(format!(
        "the CSCA certificate is neither self-signed nor signed by another trusted CSCA ({} candidate(s) named {})",
        issuers.len(),
        cert.issuer()
    ))
}

fn check_validity(who: &str, validity: &Validity, now: SystemTime) -> Verdict {
    let not_before = validity.not_before.to_system_time();
    let not_after = validity.not_after.to_system_time();
    let span = format!("{} to {}", validity.not_before, validity.not_after);
    if now < not_before {
        Verdict::failed(format!("the {who} certificate is not yet valid (valid {span})"))
    } else if now > not_after {
        Verdict::failed(format!("the {who} certificate has expired (valid {span})"))
    } else {
        Verdict::passed(format!("valid {span}"))
    }
}

fn check_revocation(
    ds: &ParsedCertificate,
    csca: &TrustedCsca,
    trust: &TrustStore,
    now: SystemTime,
) -> Verdict {
    let crls = trust.crls_for(csca);
    if crls.is_empty() {
        return Verdict::not_supported(format!(
            "the trust store has no CRL from CSCA {}; the DS certificate's revocation status is unknown",
            csca.certificate.subject()
        ));
    }
    let serial = ds.certificate.tbs_certificate().serial_number();
    let key = csca.certificate.certificate.tbs_certificate().subject_public_key_info();
    let mut stale = Vec::new();
    let mut checked = Vec::new();
    for crl in crls {
        if let Err(e) = crl.verify_signature(key) {
            return Verdict::failed(format!(
                "the CRL from {} ({}) is not signed by the CSCA: {e}",
                crl.issuer(),
                crl.source
            ));
        }
        let tbs = &crl.crl.tbs_cert_list;
        if let Some(entry) = tbs.revoked_certificates.iter().flatten().find(|r| r.serial_number == *serial) {
            return Verdict::failed(format!(
                "the DS certificate (serial {}) was revoked on {} (CRL of {})",
                ds.serial_hex(),
                entry.revocation_date,
                tbs.this_update
            ));
        }
        match tbs.next_update {
            Some(next) if now > next.to_system_time() => {
                stale.push(format!("{} (next update was due {next})", crl.source))
            }
            _ => checked.push(format!("CRL of {}", tbs.this_update)),
        }
    }
    if checked.is_empty() {
        return Verdict::not_supported(format!(
            "the DS certificate is not on the CSCA's CRL, but every CRL is out of date: {}",
            stale.join(", ")
        ));
    }
    Verdict::passed(format!("serial {} is not revoked ({})", ds.serial_hex(), checked.join(", ")))
}

fn check_country(ds: &ParsedCertificate, csca: Option<&TrustedCsca>, dg1_issuing_state: &str) -> Verdict {
    let state = dg1_issuing_state.trim().trim_end_matches('<');
    let expected = match countries::issuing_state(state) {
        IssuingState::Country { alpha2 } => alpha2,
        IssuingState::NoCountry { description } => {
            return Verdict::not_supported(format!(
                "DG1 issuing state {state} is {description}, not a country: the certificate country cannot be compared"
            ));
        }
        IssuingState::Unknown => {
            return Verdict::not_supported(format!(
                "DG1 issuing state {state:?} is not an ISO 3166-1 or ICAO code this kiosk knows"
            ));
        }
    };
    let Some(ds_country) = ds.subject_country() else {
        return Verdict::failed("the DS certificate subject has no country (C) attribute");
    };
    if ds_country != expected {
        return Verdict::failed(format!(
            "the DS certificate is from country {ds_country}, but DG1 names issuing state {state} ({expected})"
        ));
    }
    if let Some(csca) = csca {
        match csca.certificate.subject_country() {
            Some(c) if c == ds_country => {}
            other => {
                return Verdict::failed(format!(
                    "the CSCA country ({}) differs from the DS certificate country ({ds_country})",
                    other.as_deref().unwrap_or("none")
                ));
            }
        }
    }
    Verdict::passed(format!("DS certificate country {ds_country} = DG1 issuing state {state}"))
}

/// (verdict, data groups verified, data groups in the SOD not read)
fn check_data_group_hashes(
    sod: &Sod,
    hash: Option<HashAlgorithm>,
    data_groups: &BTreeMap<u8, Vec<u8>>,
) -> (Verdict, Vec<u8>, Vec<u8>) {
    let listed = sod.lds.data_groups();
    let not_read: Vec<u8> = listed.iter().copied().filter(|n| !data_groups.contains_key(n)).collect();
    let Some(hash) = hash else {
        let v = Verdict::not_supported(format!(
            "the LDSSecurityObject hash algorithm {} is not supported",
            sod.lds.hash_algorithm.oid
        ));
        return (v, Vec::new(), not_read);
    };
    if data_groups.is_empty() {
        return (Verdict::not_supported("no data group was given to check"), Vec::new(), not_read);
    }
    let mut verified = Vec::new();
    let mut problems = Vec::new();
    for (number, bytes) in data_groups {
        match sod.lds.hash_for(*number) {
            None => problems.push(format!("DG{number} was read but the SOD holds no hash for it")),
            Some(expected) if hash.digest(bytes) != expected => {
                problems.push(format!("DG{number} does not match its {} hash in the SOD", hash.name()))
            }
            Some(_) => verified.push(*number),
        }
    }
    let not_read_text = if not_read.is_empty() {
        String::new()
    } else {
        format!("; listed but not read: {}", list_dgs(&not_read))
    };
    let verdict = if problems.is_empty() {
        Verdict::passed(format!("{} ({}) match{not_read_text}", list_dgs(&verified), hash.name()))
    } else {
        Verdict::failed(format!("{}{not_read_text}", problems.join("; ")))
    };
    (verdict, verified, not_read)
}

fn list_dgs(numbers: &[u8]) -> String {
    numbers.iter().map(|n| format!("DG{n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passport::tlv;

    fn no_trust() -> TrustStore {
        TrustStore::default()
    }

    #[test]
    fn signature_algorithms_are_named() {
        let id = |o: ObjectIdentifier| AlgorithmIdentifierOwned { oid: o, parameters: None };
        assert_eq!(
            SignatureAlgorithm::from_identifier(&id(oid::SHA256_WITH_RSA), None),
            Ok(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256))
        );
        assert_eq!(
            SignatureAlgorithm::from_identifier(&id(oid::RSA_ENCRYPTION), Some(HashAlgorithm::Sha384)),
            Ok(SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha384))
        );
        assert!(SignatureAlgorithm::from_identifier(&id(oid::RSA_ENCRYPTION), None).is_err());
        assert_eq!(
            SignatureAlgorithm::from_identifier(&id(oid::ECDSA_PLAIN_SHA224), None),
            Ok(SignatureAlgorithm::EcdsaPlain(HashAlgorithm::Sha224))
        );
        // Absent PSS parameters mean SHA-1, MGF1-SHA-1, salt 20.
        assert_eq!(
            SignatureAlgorithm::from_identifier(&id(oid::RSASSA_PSS), None),
            Ok(SignatureAlgorithm::RsaPss { hash: HashAlgorithm::Sha1, salt_length: 20 })
        );
        let ed25519 =
            SignatureAlgorithm::from_identifier(&id(ObjectIdentifier::new_unwrap("1.3.101.112")), None);
        assert!(ed25519.unwrap_err().contains("1.3.101.112"));
    }

    #[test]
    fn pss_parameters_are_read() {
        let params = rsa::pkcs1::RsaPssParamsRef::new::<sha2::Sha256>(32).to_der().unwrap();
        let alg = AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: Some(der::Any::from_der(&params).unwrap()),
        };
        assert_eq!(
            SignatureAlgorithm::from_identifier(&alg, None),
            Ok(SignatureAlgorithm::RsaPss { hash: HashAlgorithm::Sha256, salt_length: 32 })
        );
    }

    #[test]
    fn unsupported_curve_is_named() {
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::EC_PUBLIC_KEY,
                parameters: Some(der::Any::encode_from(&oid::CURVE_P521).unwrap()),
            },
            subject_public_key: der::asn1::BitString::from_bytes(&[4; 133]).unwrap(),
        };
        let alg = AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA512, parameters: None };
        let err = verify_signature(&spki, &alg, None, b"m", &[0x30, 0]).unwrap_err();
        assert_eq!(err, SignatureError::Unsupported("ECDSA on curve P-521 is not supported".into()));
    }

    #[test]
    fn ecdsa_p256_signature_from_the_crate_verifies() {
        use ecdsa::signature::hazmat::PrehashSigner;
        let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).unwrap();
        let message = b"signed attributes";
        let prehash = HashAlgorithm::Sha256.digest(message);
        let sig: p256::ecdsa::Signature = key.sign_prehash(&prehash).unwrap();
        let der_alg = AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None };
        let plain_alg = AlgorithmIdentifierOwned { oid: oid::ECDSA_PLAIN_SHA256, parameters: None };
        let der_sig = sig.to_der();
        assert_eq!(
            verify_signature(&spki, &der_alg, None, message, der_sig.as_bytes()),
            Ok("ECDSA with SHA-256 on P-256".into())
        );
        assert!(verify_signature(&spki, &plain_alg, None, message, &sig.to_bytes()).is_ok());
        assert!(matches!(
            verify_signature(&spki, &der_alg, None, b"other", der_sig.as_bytes()),
            Err(SignatureError::Invalid(_))
        ));
        assert!(matches!(
            verify_signature(&spki, &der_alg, None, message, &[]),
            Err(SignatureError::Invalid(_))
        ));
    }

    #[test]
    fn explicit_brainpool_parameters_are_recognised() {
        use elliptic_curve::group::Group as _;
        use elliptic_curve::sec1::ToSec1Point;
        let generator = <elliptic_curve::ProjectivePoint<bp256::BrainpoolP256r1>>::generator().to_affine();
        let base = generator.to_sec1_point(false);
        let explicit = SpecifiedEcDomain {
            version: 1,
            field_id: der::Any::null(),
            curve: der::Any::null(),
            base: OctetString::new(base.as_bytes()).unwrap(),
            order: der::Any::null(),
            cofactor: None,
        };
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::EC_PUBLIC_KEY,
                parameters: Some(der::Any::encode_from(&explicit).unwrap()),
            },
            subject_public_key: der::asn1::BitString::from_bytes(base.as_bytes()).unwrap(),
        };
        assert_eq!(curve_of(&spki), Ok(EcCurve::BrainpoolP256r1));
    }

    #[test]
    fn malformed_sod_fails_structure_and_runs_nothing_else() {
        let r = passive_authentication(
            &[0x77, 0x03, 0x30, 0x01, 0x00],
            &BTreeMap::new(),
            "DEU",
            &no_trust(),
            SystemTime::now(),
        );
        assert!(r.verdict.is_failed());
        assert!(r.check(PaCheckKind::SodStructure).unwrap().is_failed());
        assert_eq!(r.checks.len(), PaCheckKind::ALL.len());
        assert!(matches!(r.check(PaCheckKind::Country), Some(Verdict::NotSupported { .. })));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["checks"][0]["check"], "sod_structure");
        assert_eq!(json["checks"][0]["result"], "failed");
    }

    #[test]
    fn garbage_never_panics() {
        let dgs = BTreeMap::from([(1u8, vec![0x61, 0x00])]);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..200usize {
            let mut buf = Vec::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                buf.push(state as u8);
            }
            let _ = passive_authentication(&buf, &dgs, "UTO", &no_trust(), SystemTime::now());
            let _ =
                passive_authentication(&tlv::encode(0x77, &buf), &dgs, "UTO", &no_trust(), SystemTime::now());
        }
    }
}
