//! The issuer's test PKI: a Country Signing CA (CSCA), a Document Signer
//! (DS) it certifies, optionally a CRL, a CSCA master list, and an
//! unrelated CSCA for negative tests; and the signing of EF.SOD.
//!
//! Certificates follow ICAO 9303 Part 12 §7: the CSCA is self-signed with
//! BasicConstraints cA, keyUsage keyCertSign|cRLSign and subject/authority
//! key identifiers; the DS has keyUsage digitalSignature; the master-list
//! signer also has the extended key usage id-icao-cscaMasterListSigningKey.
//! Built with x509-cert's `CertificateBuilder`/`CrlBuilder` and cms's
//! `SignedDataBuilder`; every signature comes from RustCrypto.
//!
//! [`TestPki::save`] / [`TestPki::load`] keep a PKI in a folder so the
//! command line can create it once and issue many passports with it.
//! **The private keys it writes (`*.key`, PKCS#8 PEM, unencrypted) are test
//! material for this simulator only**: a real issuer keeps them in an HSM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use der::asn1::{BitString, OctetString, SetOfVec};
use der::pem::LineEnding;
use der::{Any, Decode, DecodePem, Encode, EncodePem, Sequence, Tag};
use ecdsa::signature::{Keypair, Signer};
use rand_core::UnwrapErr;
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey, SignatureBitStringEncoding,
    SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlNumber, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use kiosk::passport::sod::{DataGroupHash, LdsSecurityObject};
use kiosk::passport::trust::{TrustError, TrustStore, TrustedCrl};
use kiosk::passport::{lds, oid};

const DAY: Duration = Duration::from_secs(86_400);
const YEAR: Duration = Duration::from_secs(365 * 86_400);

/// How the CSCA, the DS and the master-list signer sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    RsaPkcs1v15Sha256,
    RsaPssSha256,
    EcdsaP256Sha256,
    EcdsaBrainpoolP256Sha256,
    EcdsaP384Sha384,
    EcdsaBrainpoolP384Sha384,
}

impl SignatureScheme {
    pub const ALL: [SignatureScheme; 6] = [
        SignatureScheme::RsaPkcs1v15Sha256,
        SignatureScheme::RsaPssSha256,
        SignatureScheme::EcdsaP256Sha256,
        SignatureScheme::EcdsaBrainpoolP256Sha256,
        SignatureScheme::EcdsaP384Sha384,
        SignatureScheme::EcdsaBrainpoolP384Sha384,
    ];

    /// The name used on the command line and in `pki.json`.
    pub fn name(self) -> &'static str {
        match self {
            SignatureScheme::RsaPkcs1v15Sha256 => "rsa-pkcs1-sha256",
            SignatureScheme::RsaPssSha256 => "rsa-pss-sha256",
            SignatureScheme::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            SignatureScheme::EcdsaBrainpoolP256Sha256 => "ecdsa-brainpoolp256r1-sha256",
            SignatureScheme::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            SignatureScheme::EcdsaBrainpoolP384Sha384 => "ecdsa-brainpoolp384r1-sha384",
        }
    }

    pub fn parse(name: &str) -> Option<SignatureScheme> {
        SignatureScheme::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn is_rsa(self) -> bool {
        matches!(self, SignatureScheme::RsaPkcs1v15Sha256 | SignatureScheme::RsaPssSha256)
    }
}

impl std::fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Validity of the Document Signer certificate relative to `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DsValidity {
    /// From 30 days before `now` for 10 years.
    #[default]
    Current,
    /// From 3 years before `now` until the day before `now`.
    Expired,
    /// From the day after `now` for 10 years.
    NotYetValid,
}

/// The CSCA's certificate revocation list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrlOption {
    /// No CRL: Passive Authentication reports revocation as not checked.
    None,
    /// A CRL that revokes nothing.
    #[default]
    Empty,
    /// A CRL that revokes the DS certificate.
    RevokeDs,
}

/// What to generate besides the CSCA and the DS.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// The instant validities are computed from.
    pub now: SystemTime,
    pub ds_validity: DsValidity,
    pub crl: CrlOption,
    /// A master list holding the CSCA, signed by a master-list signer the CSCA certifies.
    pub master_list: bool,
    /// A second CSCA with the same name but its own key, which signs nothing:
    /// a trust store holding only it does not know this PKI's DS.
    pub unrelated_csca: bool,
    /// The organisation (O) in every subject.
    pub organisation: String,
}

impl Default for PkiOptions {
    fn default() -> Self {
        PkiOptions {
            now: SystemTime::now(),
            ds_validity: DsValidity::Current,
            crl: CrlOption::Empty,
            master_list: false,
            unrelated_csca: false,
            organisation: "Test Passport Issuer".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("country {0:?} is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. JP)")]
    Country(String),
    #[error("cannot {what}: {problem}")]
    Crypto { what: &'static str, problem: String },
    #[error("cannot access {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
    #[error("the PKI's trust material is unusable: {0}")]
    Trust(#[from] TrustError),
}

fn crypto(what: &'static str) -> impl Fn(&dyn std::fmt::Display) -> PkiError {
    move |e| PkiError::Crypto { what, problem: e.to_string() }
}

/// A private key of one scheme. Implements the RustCrypto signer traits the
/// x509-cert and cms builders need, so one type serves every scheme.
#[derive(Clone)]
pub struct PkiKey {
    scheme: SignatureScheme,
    key: KeyMaterial,
    public: SubjectPublicKeyInfoOwned,
}

#[derive(Clone)]
enum KeyMaterial {
    Rsa(Box<rsa::PrivateKey>),
    P256(ecdsa::SigningKey<p256::NistP256>),
    P384(ecdsa::SigningKey<p384::NistP384>),
    Bp256(ecdsa::SigningKey<bp256::BrainpoolP256r1>),
    Bp384(ecdsa::SigningKey<bp384::BrainpoolP384r1>),
}

impl std::fmt::Debug for PkiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PkiKey({}, private)", self.scheme)
    }
}

/// RSA modulus size of the test PKI: ICAO's minimum for DS keys.
const RSA_BITS: usize = 2048;

impl PkiKey {
    pub fn generate(scheme: SignatureScheme) -> Result<PkiKey, PkiError> {
        use p256::elliptic_curve::Generate;
        let mut rng = UnwrapErr(getrandom::SysRng);
        let key = match scheme {
            SignatureScheme::RsaPkcs1v15Sha256 | SignatureScheme::RsaPssSha256 => KeyMaterial::Rsa(Box::new(
                rsa::PrivateKey::new(&mut getrandom::SysRng, RSA_BITS)
                    .map_err(|e| crypto("generate an RSA key")(&e))?,
            )),
            SignatureScheme::EcdsaP256Sha256 => {
                KeyMaterial::P256(ecdsa::SigningKey::generate_from_rng(&mut rng))
            }
            SignatureScheme::EcdsaP384Sha384 => {
                KeyMaterial::P384(ecdsa::SigningKey::generate_from_rng(&mut rng))
            }
            SignatureScheme::EcdsaBrainpoolP256Sha256 => {
                KeyMaterial::Bp256(ecdsa::SigningKey::generate_from_rng(&mut rng))
            }
            SignatureScheme::EcdsaBrainpoolP384Sha384 => {
                KeyMaterial::Bp384(ecdsa::SigningKey::generate_from_rng(&mut rng))
            }
        };
        PkiKey::new(scheme, key)
    }

    fn new(scheme: SignatureScheme, key: KeyMaterial) -> Result<PkiKey, PkiError> {
        let public = match &key {
            KeyMaterial::Rsa(k) => SubjectPublicKeyInfoOwned::from_key(k.as_public_key()),
            KeyMaterial::P256(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()),
            KeyMaterial::P384(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()),
            KeyMaterial::Bp256(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()),
            KeyMaterial::Bp384(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()),
        }
        .map_err(|e| crypto("encode a public key")(&e))?;
        Ok(PkiKey { scheme, key, public })
    }

    pub fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    /// The private key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, PkiError> {
        use rsa::pkcs8::EncodePrivateKey;
        let doc = match &self.key {
            KeyMaterial::Rsa(k) => k.to_pkcs8_der(),
            KeyMaterial::P256(k) => k.to_pkcs8_der(),
            KeyMaterial::P384(k) => k.to_pkcs8_der(),
            KeyMaterial::Bp256(k) => k.to_pkcs8_der(),
            KeyMaterial::Bp384(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| crypto("encode a private key")(&e))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// Read a PKCS#8 DER private key of `scheme`.
    pub fn from_pkcs8_der(scheme: SignatureScheme, der_bytes: &[u8]) -> Result<PkiKey, PkiError> {
        use rsa::pkcs8::DecodePrivateKey;
        let decode = crypto("decode the private key");
        let key = match scheme {
            SignatureScheme::RsaPkcs1v15Sha256 | SignatureScheme::RsaPssSha256 => KeyMaterial::Rsa(Box::new(
                rsa::PrivateKey::from_pkcs8_der(der_bytes).map_err(|e| decode(&e))?,
            )),
            SignatureScheme::EcdsaP256Sha256 => {
                KeyMaterial::P256(ecdsa::SigningKey::from_pkcs8_der(der_bytes).map_err(|e| decode(&e))?)
            }
            SignatureScheme::EcdsaP384Sha384 => {
                KeyMaterial::P384(ecdsa::SigningKey::from_pkcs8_der(der_bytes).map_err(|e| decode(&e))?)
            }
            SignatureScheme::EcdsaBrainpoolP256Sha256 => {
                KeyMaterial::Bp256(ecdsa::SigningKey::from_pkcs8_der(der_bytes).map_err(|e| decode(&e))?)
            }
            SignatureScheme::EcdsaBrainpoolP384Sha384 => {
                KeyMaterial::Bp384(ecdsa::SigningKey::from_pkcs8_der(der_bytes).map_err(|e| decode(&e))?)
            }
        };
        PkiKey::new(scheme, key)
    }

    /// The public key as SubjectPublicKeyInfo.
    pub fn public_key_info(&self) -> &SubjectPublicKeyInfoOwned {
        &self.public
    }

    fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        use sha2::Digest;
        let sign = crypto("sign");
        macro_rules! ecdsa_sign {
            ($key:expr, $curve:ty, $hash:ty) => {{
                let prehash = <$hash>::digest(message);
                // RFC 6979 deterministic nonces, named explicitly because the
                // brainpool crates do not pick a digest for their curves.
                let (signature, _) = ecdsa::hazmat::sign_prehashed_rfc6979::<$curve, $hash>(
                    $key.as_nonzero_scalar(),
                    &prehash,
                    &[],
                );
                signature.to_der().as_bytes().to_vec()
            }};
        }
        Ok(match (&self.key, self.scheme) {
            (KeyMaterial::Rsa(k), SignatureScheme::RsaPssSha256) => {
                k.pss_sign::<sha2::Sha256>(message).map_err(|e| sign(&e))?
            }
            (KeyMaterial::Rsa(k), _) => k.pkcs1v15_sign::<sha2::Sha256>(message).map_err(|e| sign(&e))?,
            (KeyMaterial::P256(k), _) => ecdsa_sign!(k, p256::NistP256, sha2::Sha256),
            (KeyMaterial::P384(k), _) => ecdsa_sign!(k, p384::NistP384, sha2::Sha384),
            (KeyMaterial::Bp256(k), _) => ecdsa_sign!(k, bp256::BrainpoolP256r1, sha2::Sha256),
            (KeyMaterial::Bp384(k), _) => ecdsa_sign!(k, bp384::BrainpoolP384r1, sha2::Sha384),
        })
    }

    fn digest_algorithm(&self) -> AlgorithmIdentifierOwned {
        let oid = match self.scheme {
            SignatureScheme::EcdsaP384Sha384 | SignatureScheme::EcdsaBrainpoolP384Sha384 => oid::SHA384,
            _ => oid::SHA256,
        };
        AlgorithmIdentifierOwned { oid, parameters: None }
    }
}

/// A signature as the builders embed it (BIT STRING of the signature bytes).
#[derive(Debug, Clone)]
pub struct RawSignature(pub Vec<u8>);

impl SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// The public half of a [`PkiKey`], for the builders.
#[derive(Debug, Clone)]
pub struct PublicKeyInfo(pub SubjectPublicKeyInfoOwned);

impl EncodePublicKey for PublicKeyInfo {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::encode_msg(&self.0)?)
    }
}

impl Keypair for PkiKey {
    type VerifyingKey = PublicKeyInfo;
    fn verifying_key(&self) -> PublicKeyInfo {
        PublicKeyInfo(self.public.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for PkiKey {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        let plain = |oid| AlgorithmIdentifierOwned { oid, parameters: None };
        Ok(match self.scheme {
            SignatureScheme::RsaPkcs1v15Sha256 => {
                AlgorithmIdentifierOwned { oid: oid::SHA256_WITH_RSA, parameters: Some(Any::null()) }
            }
            SignatureScheme::RsaPssSha256 => rsa::pss::get_default_pss_signature_algo_id::<sha2::Sha256>()?,
            SignatureScheme::EcdsaP256Sha256 | SignatureScheme::EcdsaBrainpoolP256Sha256 => {
                plain(oid::ECDSA_WITH_SHA256)
            }
            SignatureScheme::EcdsaP384Sha384 | SignatureScheme::EcdsaBrainpoolP384Sha384 => {
                plain(oid::ECDSA_WITH_SHA384)
            }
        })
    }
}

impl Signer<RawSignature> for PkiKey {
    fn try_sign(&self, message: &[u8]) -> Result<RawSignature, ecdsa::signature::Error> {
        self.sign_message(message).map(RawSignature).map_err(ecdsa::signature::Error::from_source)
    }
}

/// What kind of certificate a [`IcaoProfile`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertificateKind {
    Csca,
    DocumentSigner,
    MasterListSigner,
}

/// ICAO 9303 Part 12 certificate profiles.
struct IcaoProfile {
    kind: CertificateKind,
    subject: Name,
    issuer: Name,
}

impl BuilderProfile for IcaoProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut extensions: Vec<Extension> = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let aki = AuthorityKeyIdentifier::try_from(issuer_spk)?;
        extensions.push(aki.to_extension(subject, &extensions)?);
        extensions.push(ski.to_extension(subject, &extensions)?);
        match self.kind {
            CertificateKind::Csca => {
                extensions.push(
                    BasicConstraints { ca: true, path_len_constraint: Some(0) }
                        .to_extension(subject, &extensions)?,
                );
                extensions.push(
                    KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
                        .to_extension(subject, &extensions)?,
                );
            }
            CertificateKind::DocumentSigner => {
                extensions
                    .push(KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(subject, &extensions)?);
            }
            CertificateKind::MasterListSigner => {
                extensions
                    .push(KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(subject, &extensions)?);
                extensions.push(
                    ExtendedKeyUsage(vec![oid::ICAO_CSCA_MASTER_LIST_SIGNING_KEY])
                        .to_extension(subject, &extensions)?,
                );
            }
        }
        Ok(extensions)
    }
}

fn time(at: SystemTime) -> Result<Time, PkiError> {
    Time::try_from(at).map_err(|e| crypto("encode a time")(&e))
}

fn random_serial() -> SerialNumber {
    let mut rng = UnwrapErr(getrandom::SysRng);
    SerialNumber::generate(&mut rng)
}

fn issue(
    kind: CertificateKind,
    subject: &Name,
    subject_key: &PkiKey,
    issuer: &Name,
    issuer_key: &PkiKey,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<Certificate, PkiError> {
    let profile = IcaoProfile { kind, subject: subject.clone(), issuer: issuer.clone() };
    let validity = Validity::new(time(not_before)?, time(not_after)?);
    let builder =
        CertificateBuilder::new(profile, random_serial(), validity, subject_key.public_key_info().clone())
            .map_err(|e| crypto("prepare a certificate")(&e))?;
    builder.build::<_, RawSignature>(issuer_key).map_err(|e| crypto("sign a certificate")(&e))
}

fn name(text: &str) -> Result<Name, PkiError> {
    Name::from_str(text).map_err(|e| crypto("encode a name")(&e))
}

/// `CscaMasterList ::= SEQUENCE { version CscaMasterListVersion, certList SET OF Certificate }`
#[derive(Sequence)]
struct CscaMasterList {
    version: u8,
    cert_list: SetOfVec<Certificate>,
}

/// A country's test PKI.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// ISO 3166-1 alpha-2, as in the certificates' C attribute.
    pub country: String,
    pub scheme: SignatureScheme,
    pub csca: Certificate,
    csca_key: PkiKey,
    pub ds: Certificate,
    ds_key: PkiKey,
    pub crl: Option<CertificateList>,
    /// The master list (CMS ContentInfo DER) and its signer's certificate.
    pub master_list: Option<Vec<u8>>,
    pub master_list_signer: Option<Certificate>,
    master_list_signer_key: Option<PkiKey>,
    /// Same name as the CSCA, different key (see [`PkiOptions::unrelated_csca`]).
    pub unrelated_csca: Option<Certificate>,
    unrelated_csca_key: Option<PkiKey>,
}

impl TestPki {
    /// Generate a CSCA and a DS for `country_alpha2`, plus what `options` asks.
    pub fn generate(
        country_alpha2: &str,
        scheme: SignatureScheme,
        options: &PkiOptions,
    ) -> Result<TestPki, PkiError> {
        let country = country_alpha2.trim().to_string();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PkiError::Country(country_alpha2.to_string()));
        }
        let now = options.now;
        let org = options.organisation.replace(',', " ");
        let csca_name = name(&format!("CN=CSCA {country},O={org},C={country}"))?;
        let ds_name = name(&format!("CN=Document Signer {country} 1,O={org},C={country}"))?;

        let csca_key = PkiKey::generate(scheme)?;
        let csca_from = now.checked_sub(YEAR).unwrap_or(now);
        let csca_to = now + 15 * YEAR;
        let csca =
            issue(CertificateKind::Csca, &csca_name, &csca_key, &csca_name, &csca_key, csca_from, csca_to)?;

        let ds_key = PkiKey::generate(scheme)?;
        let (ds_from, ds_to) = match options.ds_validity {
            DsValidity::Current => (now.checked_sub(30 * DAY).unwrap_or(now), now + 10 * YEAR),
            DsValidity::Expired => {
                (now.checked_sub(3 * YEAR).unwrap_or(now), now.checked_sub(DAY).unwrap_or(now))
            }
            DsValidity::NotYetValid => (now + DAY, now + 10 * YEAR),
        };
        let ds =
            issue(CertificateKind::DocumentSigner, &ds_name, &ds_key, &csca_name, &csca_key, ds_from, ds_to)?;

        let crl = match options.crl {
            CrlOption::None => None,
            CrlOption::Empty => Some(make_crl(&csca, &csca_key, now, None)?),
            CrlOption::RevokeDs => Some(make_crl(&csca, &csca_key, now, Some(&ds))?),
        };

        let (master_list, master_list_signer, master_list_signer_key) = if options.master_list {
            let signer_name = name(&format!("CN=Master List Signer {country},O={org},C={country}"))?;
            let signer_key = PkiKey::generate(scheme)?;
            let signer = issue(
                CertificateKind::MasterListSigner,
                &signer_name,
                &signer_key,
                &csca_name,
                &csca_key,
                now.checked_sub(DAY).unwrap_or(now),
                now + 5 * YEAR,
            )?;
            let list = make_master_list(std::slice::from_ref(&csca), &signer, &signer_key)?;
            (Some(list), Some(signer), Some(signer_key))
        } else {
            (None, None, None)
        };

        let (unrelated_csca, unrelated_csca_key) = if options.unrelated_csca {
            let key = PkiKey::generate(scheme)?;
            let cert = issue(CertificateKind::Csca, &csca_name, &key, &csca_name, &key, csca_from, csca_to)?;
            (Some(cert), Some(key))
        } else {
            (None, None)
        };

        Ok(TestPki {
            country,
            scheme,
            csca,
            csca_key,
            ds,
            ds_key,
            crl,
            master_list,
            master_list_signer,
            master_list_signer_key,
            unrelated_csca,
            unrelated_csca_key,
        })
    }

    /// EF.SOD for these data groups (number -> file bytes): tag 77 around a
    /// CMS SignedData of the LDSSecurityObject (SHA-256 data-group hashes),
    /// signed by the DS with signed attributes contentType, messageDigest and
    /// signingTime, carrying the DS certificate.
    ///
    /// # Panics
    /// Only if the cryptographic libraries fail on keys this PKI generated;
    /// [`TestPki::try_sign_sod`] returns that as an error instead.
    pub fn sign_sod(&self, data_groups: &BTreeMap<u8, Vec<u8>>) -> Vec<u8> {
        match self.try_sign_sod(data_groups) {
            Ok(sod) => sod,
            Err(e) => panic!("signing EF.SOD with the test PKI failed: {e}"),
        }
    }

    /// [`TestPki::sign_sod`], reporting failures.
    pub fn try_sign_sod(&self, data_groups: &BTreeMap<u8, Vec<u8>>) -> Result<Vec<u8>, PkiError> {
        // Data groups are hashed with SHA-256 whatever the signature scheme
        // (the CMS digest follows the scheme: SHA-384 for the 384-bit curves).
        let hash = kiosk::passport::pa::HashAlgorithm::Sha256;
        let security_object = LdsSecurityObject {
            version: 0,
            hash_algorithm: AlgorithmIdentifierOwned { oid: hash.oid(), parameters: None },
            data_group_hash_values: data_groups
                .iter()
                .map(|(number, bytes)| {
                    Ok(DataGroupHash {
                        data_group_number: *number,
                        data_group_hash_value: OctetString::new(hash.digest(bytes))?,
                    })
                })
                .collect::<der::Result<Vec<_>>>()
                .map_err(|e| crypto("encode the data-group hashes")(&e))?,
            lds_version_info: None,
        };
        let lds_der = security_object.to_der().map_err(|e| crypto("encode the LDSSecurityObject")(&e))?;
        let content_info = sign_cms(oid::ICAO_LDS_SECURITY_OBJECT, lds_der, &self.ds, &self.ds_key)?;
        Ok(lds::encode_ef_sod(&content_info))
    }

    /// A trust store holding this PKI's CSCA and CRL, as the kiosk would.
    pub fn trust_store(&self) -> Result<TrustStore, PkiError> {
        let mut store = TrustStore::from_certificates([self.csca.clone()])?;
        if let Some(crl) = &self.crl {
            let der_bytes = crl.to_der().map_err(|e| crypto("encode the CRL")(&e))?;
            store.add_crl(TrustedCrl::from_der(&der_bytes, "test PKI CRL")?);
        }
        Ok(store)
    }

    /// Write the trust anchors the kiosk needs (no private keys) into
    /// `folder`: `csca-<CC>.pem`, `csca-<CC>.crl`, `masterlist-<CC>.ml`.
    pub fn export_trust_anchors(&self, folder: &Path) -> Result<(), PkiError> {
        create_dir(folder)?;
        let cc = self.country.to_ascii_lowercase();
        write(&folder.join(format!("csca-{cc}.pem")), pem(&self.csca)?.as_bytes())?;
        if let Some(crl) = &self.crl {
            write(&folder.join(format!("csca-{cc}.crl")), pem(crl)?.as_bytes())?;
        }
        if let Some(list) = &self.master_list {
            write(&folder.join(format!("masterlist-{cc}.ml")), list)?;
        }
        Ok(())
    }

    /// Save the whole PKI, private keys included, to `folder`:
    /// `pki.json`, `csca.pem`, `csca.key`, `ds.pem`, `ds.key`, and when
    /// present `csca.crl`, `masterlist.ml`, `ml-signer.pem`, `ml-signer.key`,
    /// `unrelated-csca.pem`, `unrelated-csca.key`.
    ///
    /// The `.key` files are unencrypted PKCS#8: simulator test material only.
    pub fn save(&self, folder: &Path) -> Result<(), PkiError> {
        create_dir(folder)?;
        let manifest = serde_json::json!({
            "format": "egate-test-pki",
            "version": 1,
            "country": self.country,
            "scheme": self.scheme.name(),
            "note": "TEST PKI of the e-Gate simulator: the private keys here protect nothing real",
        });
        let manifest = serde_json::to_string_pretty(&manifest).map_err(|e| crypto("write pki.json")(&e))?;
        write(&folder.join("pki.json"), manifest.as_bytes())?;
        write(&folder.join("csca.pem"), pem(&self.csca)?.as_bytes())?;
        write(&folder.join("csca.key"), key_pem(&self.csca_key)?.as_bytes())?;
        write(&folder.join("ds.pem"), pem(&self.ds)?.as_bytes())?;
        write(&folder.join("ds.key"), key_pem(&self.ds_key)?.as_bytes())?;
        if let Some(crl) = &self.crl {
            write(&folder.join("csca.crl"), pem(crl)?.as_bytes())?;
        }
        if let (Some(list), Some(signer), Some(key)) =
            (&self.master_list, &self.master_list_signer, &self.master_list_signer_key)
        {
            write(&folder.join("masterlist.ml"), list)?;
            write(&folder.join("ml-signer.pem"), pem(signer)?.as_bytes())?;
            write(&folder.join("ml-signer.key"), key_pem(key)?.as_bytes())?;
        }
        if let (Some(cert), Some(key)) = (&self.unrelated_csca, &self.unrelated_csca_key) {
            write(&folder.join("unrelated-csca.pem"), pem(cert)?.as_bytes())?;
            write(&folder.join("unrelated-csca.key"), key_pem(key)?.as_bytes())?;
        }
        Ok(())
    }

    /// Load a PKI written by [`TestPki::save`].
    pub fn load(folder: &Path) -> Result<TestPki, PkiError> {
        let manifest_path = folder.join("pki.json");
        let manifest: serde_json::Value = serde_json::from_slice(&read(&manifest_path)?)
            .map_err(|e| PkiError::Format { path: manifest_path.clone(), problem: e.to_string() })?;
        let field = |f: &str| manifest.get(f).and_then(|v| v.as_str()).map(str::to_string);
        let bad =
            |problem: &str| PkiError::Format { path: manifest_path.clone(), problem: problem.to_string() };
        if field("format").as_deref() != Some("egate-test-pki") {
            return Err(bad("not an egate-test-pki manifest (\"format\" differs)"));
        }
        let country = field("country").ok_or_else(|| bad("no \"country\""))?;
        let scheme_name = field("scheme").ok_or_else(|| bad("no \"scheme\""))?;
        let scheme = SignatureScheme::parse(&scheme_name).ok_or_else(|| bad("unknown \"scheme\""))?;

        let optional = |file: &str| folder.join(file).is_file().then(|| folder.join(file));
        let master_list = optional("masterlist.ml").map(|p| read(&p)).transpose()?;
        let (master_list_signer, master_list_signer_key) = match optional("ml-signer.pem") {
            Some(p) => (Some(read_certificate(&p)?), Some(read_key(&folder.join("ml-signer.key"), scheme)?)),
            None => (None, None),
        };
        let (unrelated_csca, unrelated_csca_key) = match optional("unrelated-csca.pem") {
            Some(p) => {
                (Some(read_certificate(&p)?), Some(read_key(&folder.join("unrelated-csca.key"), scheme)?))
            }
            None => (None, None),
        };
        let crl = match optional("csca.crl") {
            Some(p) => {
                let text = read(&p)?;
                Some(
                    CertificateList::from_pem(&text).or_else(|_| CertificateList::from_der(&text)).map_err(
                        |e| PkiError::Format { path: p.clone(), problem: format!("not a CRL: {e}") },
                    )?,
                )
            }
            None => None,
        };
        Ok(TestPki {
            country,
            scheme,
            csca: read_certificate(&folder.join("csca.pem"))?,
            csca_key: read_key(&folder.join("csca.key"), scheme)?,
            ds: read_certificate(&folder.join("ds.pem"))?,
            ds_key: read_key(&folder.join("ds.key"), scheme)?,
            crl,
            master_list,
            master_list_signer,
            master_list_signer_key,
            unrelated_csca,
            unrelated_csca_key,
        })
    }

    /// A CSCA master list of `cscas` signed by this PKI's master-list signer
    /// (a country publishing the CSCAs it trusts). Needs
    /// [`PkiOptions::master_list`].
    pub fn sign_master_list(&self, cscas: &[Certificate]) -> Result<Vec<u8>, PkiError> {
        match (&self.master_list_signer, &self.master_list_signer_key) {
            (Some(signer), Some(key)) => make_master_list(cscas, signer, key),
            _ => Err(PkiError::Crypto {
                what: "sign a master list",
                problem: "this PKI has no master-list signer (generate it with PkiOptions::master_list)"
                    .into(),
            }),
        }
    }

    /// The DS certificate's serial number (upper-case hex).
    pub fn ds_serial_hex(&self) -> String {
        hex::encode_upper(self.ds.tbs_certificate().serial_number().as_bytes())
    }

    /// Whether this PKI uses RSA (slow key generation in debug builds).
    pub fn is_rsa(&self) -> bool {
        self.scheme.is_rsa()
    }
}

fn make_crl(
    csca: &Certificate,
    csca_key: &PkiKey,
    now: SystemTime,
    revoke: Option<&Certificate>,
) -> Result<CertificateList, PkiError> {
    let number = der::asn1::Uint::new(&[1]).map_err(|e| crypto("encode the CRL number")(&e))?;
    let this_update = time(now.checked_sub(DAY).unwrap_or(now))?;
    let mut builder = CrlBuilder::new_with_this_update(csca, CrlNumber(number), this_update)
        .map_err(|e| crypto("prepare the CRL")(&e))?
        .with_next_update(Some(time(now + 90 * DAY)?));
    if let Some(revoked) = revoke {
        let entry = RevokedCert {
            serial_number: revoked.tbs_certificate().serial_number().clone(),
            revocation_date: this_update,
            crl_entry_extensions: None,
        };
        builder = builder.with_certificates(std::iter::once(entry));
    }
    builder.build::<_, RawSignature>(csca_key).map_err(|e| crypto("sign the CRL")(&e))
}

fn make_master_list(
    cscas: &[Certificate],
    signer: &Certificate,
    signer_key: &PkiKey,
) -> Result<Vec<u8>, PkiError> {
    let list = CscaMasterList {
        version: 0,
        cert_list: SetOfVec::try_from(cscas.to_vec()).map_err(|e| crypto("encode the master list")(&e))?,
    };
    let content = list.to_der().map_err(|e| crypto("encode the master list")(&e))?;
    sign_cms(oid::ICAO_CSCA_MASTER_LIST, content, signer, signer_key)
}

/// CMS SignedData (ContentInfo DER) of `content` by `signer`.
fn sign_cms(
    content_type: der::asn1::ObjectIdentifier,
    content: Vec<u8>,
    signer: &Certificate,
    signer_key: &PkiKey,
) -> Result<Vec<u8>, PkiError> {
    let cms_error = crypto("build the CMS SignedData");
    let encapsulated = EncapsulatedContentInfo {
        econtent_type: content_type,
        econtent: Some(Any::new(Tag::OctetString, content).map_err(|e| cms_error(&e))?),
    };
    let digest_algorithm = signer_key.digest_algorithm();
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: signer.tbs_certificate().issuer().clone(),
        serial_number: signer.tbs_certificate().serial_number().clone(),
    });
    let mut signer_info = SignerInfoBuilder::new(sid, digest_algorithm.clone(), &encapsulated, None)
        .map_err(|e| cms_error(&e))?;
    // contentType and messageDigest are added by the builder.
    signer_info
        .add_signed_attribute(create_signing_time_attribute().map_err(|e| cms_error(&e))?)
        .map_err(|e| cms_error(&e))?;
    let mut builder = SignedDataBuilder::new(&encapsulated);
    builder.add_digest_algorithm(digest_algorithm).map_err(|e| cms_error(&e))?;
    builder.add_certificate(CertificateChoices::Certificate(signer.clone())).map_err(|e| cms_error(&e))?;
    builder.add_signer_info::<_, RawSignature>(signer_info, signer_key).map_err(|e| cms_error(&e))?;
    builder.build().map_err(|e| cms_error(&e))?.to_der().map_err(|e| cms_error(&e))
}

fn pem<T: EncodePem>(value: &T) -> Result<String, PkiError> {
    value.to_pem(LineEnding::LF).map_err(|e| crypto("encode PEM")(&e))
}

fn key_pem(key: &PkiKey) -> Result<String, PkiError> {
    der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &key.to_pkcs8_der()?)
        .map_err(|e| crypto("encode PEM")(&e))
}

fn create_dir(folder: &Path) -> Result<(), PkiError> {
    std::fs::create_dir_all(folder).map_err(|source| PkiError::Io { path: folder.to_path_buf(), source })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    std::fs::write(path, bytes).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    std::fs::read(path).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })
}

fn read_certificate(path: &Path) -> Result<Certificate, PkiError> {
    let bytes = read(path)?;
    Certificate::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).map_err(|e| PkiError::Format {
        path: path.to_path_buf(),
        problem: format!("not a certificate: {e}"),
    })
}

fn read_key(path: &Path, scheme: SignatureScheme) -> Result<PkiKey, PkiError> {
    let bytes = read(path)?;
    let (label, der_bytes) = der::pem::decode_vec(&bytes).map_err(|e| PkiError::Format {
        path: path.to_path_buf(),
        problem: format!("not a PEM private key: {e}"),
    })?;
    if label != "PRIVATE KEY" {
        return Err(PkiError::Format {
            path: path.to_path_buf(),
            problem: format!("PEM label is {label:?}, expected \"PRIVATE KEY\" (PKCS#8)"),
        });
    }
    PkiKey::from_pkcs8_der(scheme, &der_bytes).map_err(|e| PkiError::Format {
        path: path.to_path_buf(),
        problem: format!("not a {scheme} PKCS#8 private key: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for s in SignatureScheme::ALL {
            assert_eq!(SignatureScheme::parse(s.name()), Some(s));
        }
        assert_eq!(SignatureScheme::parse("dsa"), None);
    }

    #[test]
    fn countries_are_checked() {
        for bad in ["JPN", "jp", "", "J1"] {
            assert!(matches!(
                TestPki::generate(bad, SignatureScheme::EcdsaP256Sha256, &PkiOptions::default()),
                Err(PkiError::Country(_))
            ));
        }
    }
}
