//! Chip Authentication version 1 (ICAO 9303 Part 11 §6.2, BSI TR-03110):
//! the terminal proves the chip holds the private key whose public key is in
//! DG14 (and so in EF.SOD), by agreeing fresh secure-messaging keys with it.
//! A cloned chip, which copied DG14 but not the key, cannot answer under them.
//!
//! - [`ec`]: the elliptic-curve primitives both sides use (RustCrypto, on
//!   P-256, P-384, brainpoolP256r1, brainpoolP384r1), and curve
//!   identification from named or explicit domain parameters.
//! - [`CaPrivateKey`]: the chip's static key and its half of the agreement.
//! - [`chip_authentication`]: the terminal side over a [`CardTransport`].

use der::asn1::ObjectIdentifier as Oid;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::apdu::{CommandApdu, EMRTD_AID, ResponseApdu, StatusError, ins, select_application, sw};
use super::lds;
use super::oid;
use super::sm::{SecureMessaging, SessionKeys, SmCipher, SmError};
use super::tlv;
use super::transport::{CardTransport, TransportError};
use super::verdict::Verdict;

pub mod ec {
    //! Elliptic-curve primitives over the four curves eMRTDs use. Keys are
    //! kept as bytes (scalar big-endian, points SEC1 uncompressed) with their
    //! [`EcCurve`], so that callers need no generics; the arithmetic is
    //! RustCrypto's, dispatched per curve by [`with_curve!`].

    use der::asn1::ObjectIdentifier as Oid;
    use elliptic_curve::Generate as _;
    use elliptic_curve::group::Group as _;
    use elliptic_curve::sec1::ToSec1Point as _;
    use rand_core::CryptoRng;
    use zeroize::Zeroizing;

    use super::super::oid;
    use super::super::tlv::Tlv;

    /// A named curve this kiosk implements.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    pub enum EcCurve {
        P256,
        P384,
        BrainpoolP256r1,
        BrainpoolP384r1,
    }

    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum EcError {
        #[error(
            "elliptic curve {0} is not implemented (supported: P-256, P-384, brainpoolP256r1, brainpoolP384r1)"
        )]
        UnsupportedCurve(String),
        #[error("explicit elliptic-curve domain parameters match no supported curve")]
        UnknownExplicitParameters,
        #[error("elliptic-curve domain parameters are malformed: {0}")]
        MalformedParameters(String),
        #[error("the public key is not a valid point on {0:?}")]
        BadPublicKey(EcCurve),
        #[error("the private key is not a valid scalar for {0:?}")]
        BadPrivateKey(EcCurve),
        #[error("the ECDSA signature is malformed for {0:?} (expected plain r||s)")]
        BadSignature(EcCurve),
        #[error("the ECDSA signature does not verify")]
        SignatureMismatch,
        #[error("the digest is too short to sign on {0:?}")]
        DigestTooShort(EcCurve),
        #[error("PKCS#8/SPKI encoding failed: {0}")]
        Encoding(String),
    }

    /// Run `$body` with `$C` bound to the RustCrypto curve type of `$curve`.
    macro_rules! with_curve {
        ($curve:expr, $C:ident => $body:expr) => {
            match $curve {
                EcCurve::P256 => {
                    type $C = p256::NistP256;
                    $body
                }
                EcCurve::P384 => {
                    type $C = p384::NistP384;
                    $body
                }
                EcCurve::BrainpoolP256r1 => {
                    type $C = bp256::BrainpoolP256r1;
                    $body
                }
                EcCurve::BrainpoolP384r1 => {
                    type $C = bp384::BrainpoolP384r1;
                    $body
                }
            }
        };
    }

    pub const ALL: [EcCurve; 4] =
        [EcCurve::P256, EcCurve::P384, EcCurve::BrainpoolP256r1, EcCurve::BrainpoolP384r1];

    impl EcCurve {
        pub fn from_oid(curve: &Oid) -> Result<EcCurve, EcError> {
            ALL.into_iter()
                .find(|c| c.oid() == *curve)
                .ok_or_else(|| EcError::UnsupportedCurve(curve.to_string()))
        }

        pub fn oid(self) -> Oid {
            match self {
                EcCurve::P256 => oid::CURVE_P256,
                EcCurve::P384 => oid::CURVE_P384,
                EcCurve::BrainpoolP256r1 => oid::CURVE_BRAINPOOL_P256R1,
                EcCurve::BrainpoolP384r1 => oid::CURVE_BRAINPOOL_P384R1,
            }
        }

        pub fn name(self) -> &'static str {
            match self {
                EcCurve::P256 => "P-256",
                EcCurve::P384 => "P-384",
                EcCurve::BrainpoolP256r1 => "brainpoolP256r1",
                EcCurve::BrainpoolP384r1 => "brainpoolP384r1",
            }
        }

        /// Size of a field element (and of a scalar) in bytes.
        pub fn field_len(self) -> usize {
            match self {
                EcCurve::P256 | EcCurve::BrainpoolP256r1 => 32,
                EcCurve::P384 | EcCurve::BrainpoolP384r1 => 48,
            }
        }

        /// The standardized domain-parameter ID of TR-03110 Part 3 table 4
        /// (as used by PACE and by `ChipAuthenticationDomainParameterInfo`).
        pub fn standardized_parameter_id(self) -> u8 {
            match self {
                EcCurve::P256 => 12,
                EcCurve::P384 => 15,
                EcCurve::BrainpoolP256r1 => 13,
                EcCurve::BrainpoolP384r1 => 16,
            }
        }

        /// The generator, SEC1 uncompressed.
        pub fn generator(self) -> Vec<u8> {
            with_curve!(self, C => {
                let g = <elliptic_curve::ProjectivePoint<C>>::generator().to_affine();
                g.to_sec1_point(false).as_bytes().to_vec()
            })
        }

        /// The group order, big-endian without leading zeros.
        pub fn order(self) -> Vec<u8> {
            with_curve!(self, C => {
                let order = <C as elliptic_curve::Curve>::ORDER;
                strip_zeros(&order.as_ref().to_be_bytes()).to_vec()
            })
        }

        /// The curve of an `ecPublicKey` (or `id-PK-ECDH`) algorithm
        /// identifier's parameters, given as their DER encoding: a named curve
        /// OID, or explicit `ECParameters` (X9.62), which most eMRTDs use in
        /// DG14 and DG15 and which are recognised by generator and order.
        pub fn from_parameters_der(params: &[u8]) -> Result<EcCurve, EcError> {
            let malformed = |e: String| EcError::MalformedParameters(e);
            let t = Tlv::parse(params).map_err(|e| malformed(e.to_string()))?;
            match t.tag {
                0x06 => {
                    let curve = Oid::from_bytes(t.value).map_err(|e| malformed(e.to_string()))?;
                    EcCurve::from_oid(&curve)
                }
                0x30 => {
                    // ECParameters ::= SEQUENCE { version, fieldID, curve, base
                    // OCTET STRING, order INTEGER, cofactor INTEGER OPTIONAL }
                    let children: Vec<Tlv> =
                        t.children().collect::<Result<_, _>>().map_err(|e| malformed(e.to_string()))?;
                    let (Some(base), Some(order)) = (children.get(3), children.get(4)) else {
                        return Err(malformed("ECParameters needs base and order".into()));
                    };
                    if base.tag != 0x04 || order.tag != 0x02 {
                        return Err(malformed("ECParameters base or order has the wrong type".into()));
                    }
                    ALL.into_iter()
                        .find(|c| {
                            strip_zeros(order.value) == c.order().as_slice()
                                && c.decode_point(base.value).is_some_and(|g| g == c.generator())
                        })
                        .ok_or(EcError::UnknownExplicitParameters)
                }
                0x05 => Err(malformed("implicitly CA parameters (NULL) are not supported".into())),
                other => Err(malformed(format!("unexpected tag {other:X}"))),
            }
        }

        /// Decode a SEC1 point (compressed or not) and return it uncompressed,
        /// or `None` if it is not on the curve.
        pub fn decode_point(self, sec1: &[u8]) -> Option<Vec<u8>> {
            with_curve!(self, C => {
                elliptic_curve::PublicKey::<C>::from_sec1_bytes(sec1)
                    .ok()
                    .map(|p| p.as_affine().to_sec1_point(false).as_bytes().to_vec())
            })
        }

        /// A fresh key pair: (private scalar, public point uncompressed).
        pub fn generate_key_pair<R: CryptoRng + ?Sized>(self, rng: &mut R) -> (Zeroizing<Vec<u8>>, Vec<u8>) {
            with_curve!(self, C => {
                let secret = elliptic_curve::SecretKey::<C>::generate_from_rng(rng);
                let public = secret.public_key().as_affine().to_sec1_point(false).as_bytes().to_vec();
                (Zeroizing::new(secret.to_bytes().to_vec()), public)
            })
        }

        /// The public point (uncompressed) of a private scalar.
        pub fn public_key(self, secret: &[u8]) -> Result<Vec<u8>, EcError> {
            with_curve!(self, C => {
                let secret = elliptic_curve::SecretKey::<C>::from_slice(secret).map_err(|_| EcError::BadPrivateKey(self))?;
                Ok(secret.public_key().as_affine().to_sec1_point(false).as_bytes().to_vec())
            })
        }

        /// ECDH (ECKA, TR-03111): the x-coordinate of `secret` * `peer`.
        pub fn diffie_hellman(self, secret: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, EcError> {
            with_curve!(self, C => {
                let secret = elliptic_curve::SecretKey::<C>::from_slice(secret).map_err(|_| EcError::BadPrivateKey(self))?;
                let peer = elliptic_curve::PublicKey::<C>::from_sec1_bytes(peer).map_err(|_| EcError::BadPublicKey(self))?;
                let shared = elliptic_curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
                Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
            })
        }

        /// ECDSA over a digest, plain r||s (TR-03111). Deterministic nonce
        /// (RFC 6979) hedged with `extra_entropy`.
        pub fn sign_digest(
            self,
            secret: &[u8],
            digest: &[u8],
            extra_entropy: &[u8],
        ) -> Result<Vec<u8>, EcError> {
            if digest.len() < self.field_len() / 2 {
                return Err(EcError::DigestTooShort(self));
            }
            with_curve!(self, C => {
                let secret = elliptic_curve::SecretKey::<C>::from_slice(secret).map_err(|_| EcError::BadPrivateKey(self))?;
                let (sig, _) = ecdsa::hazmat::sign_prehashed_rfc6979::<C, sha2::Sha256>(
                    &secret.to_nonzero_scalar(),
                    digest,
                    extra_entropy,
                );
                Ok(sig.to_bytes().to_vec())
            })
        }

        /// Verify a plain r||s ECDSA signature over a digest.
        pub fn verify_digest(self, public: &[u8], digest: &[u8], signature: &[u8]) -> Result<(), EcError> {
            if digest.len() < self.field_len() / 2 {
                return Err(EcError::DigestTooShort(self));
            }
            with_curve!(self, C => {
                use ecdsa::signature::hazmat::PrehashVerifier as _;
                let key = ecdsa::VerifyingKey::<C>::from_sec1_bytes(public).map_err(|_| EcError::BadPublicKey(self))?;
                let sig = ecdsa::Signature::<C>::from_slice(signature).map_err(|_| EcError::BadSignature(self))?;
                key.verify_prehash(digest, &sig).map_err(|_| EcError::SignatureMismatch)
            })
        }

        /// PKCS#8 DER of a private scalar (with the public key, named curve).
        pub fn private_key_to_pkcs8(self, secret: &[u8]) -> Result<Zeroizing<Vec<u8>>, EcError> {
            with_curve!(self, C => {
                use elliptic_curve::pkcs8::EncodePrivateKey as _;
                let secret = elliptic_curve::SecretKey::<C>::from_slice(secret).map_err(|_| EcError::BadPrivateKey(self))?;
                let doc = secret.to_pkcs8_der().map_err(|e| EcError::Encoding(e.to_string()))?;
                Ok(Zeroizing::new(doc.as_bytes().to_vec()))
            })
        }

        /// The private scalar of a PKCS#8 `PrivateKeyInfo` on this curve.
        pub fn private_key_from_pkcs8(self, der: &[u8]) -> Result<Zeroizing<Vec<u8>>, EcError> {
            with_curve!(self, C => {
                use elliptic_curve::pkcs8::DecodePrivateKey as _;
                let secret = elliptic_curve::SecretKey::<C>::from_pkcs8_der(der).map_err(|e| EcError::Encoding(e.to_string()))?;
                Ok(Zeroizing::new(secret.to_bytes().to_vec()))
            })
        }

        /// SubjectPublicKeyInfo DER (id-ecPublicKey, named curve) of a point.
        pub fn public_key_to_spki(self, public: &[u8]) -> Result<Vec<u8>, EcError> {
            with_curve!(self, C => {
                use elliptic_curve::pkcs8::EncodePublicKey as _;
                let key = elliptic_curve::PublicKey::<C>::from_sec1_bytes(public).map_err(|_| EcError::BadPublicKey(self))?;
                let doc = key.to_public_key_der().map_err(|e| EcError::Encoding(e.to_string()))?;
                Ok(doc.as_bytes().to_vec())
            })
        }
    }

    fn strip_zeros(b: &[u8]) -> &[u8] {
        let skip = b.iter().take_while(|&&x| x == 0).count();
        b.get(skip..).unwrap_or_default()
    }

    /// An EC private key from PKCS#8 DER: the curve (named-curve parameters
    /// only) and the scalar.
    pub fn private_key_from_pkcs8(der: &[u8]) -> Result<(EcCurve, Zeroizing<Vec<u8>>), EcError> {
        use rsa::pkcs8::PrivateKeyInfoRef;
        let info = PrivateKeyInfoRef::try_from(der).map_err(|e| EcError::Encoding(e.to_string()))?;
        if info.algorithm.oid != oid::EC_PUBLIC_KEY {
            return Err(EcError::Encoding(format!("not an EC key (algorithm {})", info.algorithm.oid)));
        }
        let curve_oid = info
            .algorithm
            .parameters_oid()
            .map_err(|e| EcError::MalformedParameters(format!("the PKCS#8 key must name its curve: {e}")))?;
        let curve = EcCurve::from_oid(&curve_oid)?;
        Ok((curve, curve.private_key_from_pkcs8(der)?))
    }

    /// An EC public key from a SubjectPublicKeyInfo's parts: the algorithm
    /// parameters (DER) and the key bit string contents. Returns the curve and
    /// the point, uncompressed.
    pub fn public_key_from_spki_parts(
        params_der: &[u8],
        point: &[u8],
    ) -> Result<(EcCurve, Vec<u8>), EcError> {
        let curve = EcCurve::from_parameters_der(params_der)?;
        let point = curve.decode_point(point).ok_or(EcError::BadPublicKey(curve))?;
        Ok((curve, point))
    }
}

pub use ec::{EcCurve, EcError};

/// Errors about the chip's Chip Authentication key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaKeyError {
    #[error("the Chip Authentication key is not a usable EC key: {0}")]
    Ec(#[from] EcError),
}

/// The chip's static Chip Authentication key pair (ECDH). What a real chip
/// keeps in memory that no command can read.
#[derive(Clone, PartialEq, Eq)]
pub struct CaPrivateKey {
    curve: EcCurve,
    scalar: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl std::fmt::Debug for CaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaPrivateKey({}, <secret>)", self.curve.name())
    }
}

impl CaPrivateKey {
    pub fn from_pkcs8_der(der: &[u8]) -> Result<CaPrivateKey, CaKeyError> {
        let (curve, scalar) = ec::private_key_from_pkcs8(der)?;
        let public = curve.public_key(&scalar)?;
        Ok(CaPrivateKey { curve, scalar, public })
    }

    pub fn generate<R: rand_core::CryptoRng + ?Sized>(curve: EcCurve, rng: &mut R) -> CaPrivateKey {
        let (scalar, public) = curve.generate_key_pair(rng);
        CaPrivateKey { curve, scalar, public }
    }

    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CaKeyError> {
        Ok(self.curve.private_key_to_pkcs8(&self.scalar)?)
    }

    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The private scalar, big-endian (for PACE-CAM, which uses the same key).
    pub fn scalar(&self) -> &[u8] {
        &self.scalar
    }

    /// The public point, SEC1 uncompressed.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// SubjectPublicKeyInfo DER (named curve), for DG14's
    /// ChipAuthenticationPublicKeyInfo.
    pub fn public_key_info_der(&self) -> Result<Vec<u8>, CaKeyError> {
        Ok(self.curve.public_key_to_spki(&self.public)?)
    }

    /// The chip's half of the agreement: the shared secret (x-coordinate)
    /// with the terminal's ephemeral public key. A point not on the curve is
    /// an error (the chip answers 6A80).
    pub fn agree(&self, terminal_public: &[u8]) -> Result<Zeroizing<Vec<u8>>, CaKeyError> {
        Ok(self.curve.diffie_hellman(&self.scalar, terminal_public)?)
    }
}

/// The secure-messaging cipher of an id-CA-ECDH-* protocol, `None` for
/// anything else (DH included).
pub fn ca_ecdh_cipher(protocol: &Oid) -> Option<SmCipher> {
    [
        (oid::CA_ECDH_3DES, SmCipher::TripleDes),
        (oid::CA_ECDH_AES_128, SmCipher::Aes128),
        (oid::CA_ECDH_AES_192, SmCipher::Aes192),
        (oid::CA_ECDH_AES_256, SmCipher::Aes256),
    ]
    .into_iter()
    .find(|(o, _)| o == protocol)
    .map(|(_, c)| c)
}

// ---- Terminal side ----

/// A failure of the link or of secure messaging while running CA or AA: not
/// evidence about the chip. After it the session is unusable: reconnect,
/// authenticate again, and rerun the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipCheckError {
    #[error("the link to the chip failed: {0}")]
    Transport(#[from] TransportError),
    #[error("secure messaging failed: {0}")]
    SecureMessaging(#[from] SmError),
}

impl ChipCheckError {
    /// Whether a reconnect and a fresh session may succeed.
    pub fn is_link_failure(&self) -> bool {
        match self {
            ChipCheckError::Transport(e) => e.is_link_failure(),
            ChipCheckError::SecureMessaging(_) => true,
        }
    }
}

/// Send one command under secure messaging and open the answer.
pub(crate) fn exchange_protected(
    transport: &mut dyn CardTransport,
    sm: &mut SecureMessaging,
    command: &CommandApdu,
) -> Result<ResponseApdu, ChipCheckError> {
    let protected = sm.protect_command(command)?;
    let response = transport.exchange(&protected)?;
    Ok(sm.unprotect_response(&response)?)
}

/// What the secure-messaging session is after [`chip_authentication`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaSession {
    /// CA did not change the keys; the session goes on as before.
    Unchanged,
    /// The session now runs under the Chip Authentication keys (SSC 0).
    Rekeyed,
    /// The chip dropped the session (it could not answer under the new keys,
    /// or refused unprotected): reconnect and authenticate again.
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaOutcome {
    pub verdict: Verdict,
    pub session: CaSession,
}

impl CaOutcome {
    fn unchanged(verdict: Verdict) -> CaOutcome {
        CaOutcome { verdict, session: CaSession::Unchanged }
    }
}

/// The CA configuration chosen from DG14.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaChoice {
    pub protocol: Oid,
    pub cipher: SmCipher,
    pub curve: EcCurve,
    /// The chip's static public key, SEC1 uncompressed.
    pub chip_public_key: Vec<u8>,
    pub key_id: Option<u64>,
}

impl CaChoice {
    pub fn describe(&self) -> String {
        let key = self.key_id.map(|id| format!(", key {id}")).unwrap_or_default();
        format!("CA-ECDH {} {}{key}", self.curve.name(), self.cipher)
    }
}

/// Pick the Chip Authentication to run from DG14 (tag 6E around
/// SecurityInfos): a ChipAuthenticationInfo with an ECDH protocol and its
/// public key (matched by keyId). With a public key and no
/// ChipAuthenticationInfo, CA v1 with 3DES is assumed (ICAO 9303 Part 11
/// §9.2.5). `Err` is the verdict when there is nothing this kiosk can run.
pub fn choose_from_dg14(dg14: &[u8]) -> Result<CaChoice, Verdict> {
    let infos =
        lds::parse_dg14(dg14).map_err(|e| Verdict::failed(format!("{e}; Chip Authentication cannot run")))?;
    let keys: Vec<_> = infos.chip_authentication_public_keys().collect();
    if keys.is_empty() {
        return Err(Verdict::not_supported(
            "DG14 holds no ChipAuthenticationPublicKeyInfo: the chip does not offer Chip Authentication",
        ));
    }
    let mut protocols: Vec<(Oid, Option<u64>)> =
        infos.chip_authentication_infos().map(|i| (i.protocol, i.key_id)).collect();
    if protocols.is_empty() {
        protocols = keys
            .iter()
            .filter(|k| k.protocol == oid::PK_ECDH)
            .map(|k| (oid::CA_ECDH_3DES, k.key_id))
            .collect();
    }
    let mut refusals = Vec::new();
    for (protocol, key_id) in protocols {
        let cipher = match protocol {
            p if let Some(cipher) = ca_ecdh_cipher(&p) => cipher,
            p if oid::is_under(&p, &oid::CA_ARC) => {
                refusals.push(format!("{p} (Diffie-Hellman CA is not implemented; only ECDH)"));
                continue;
            }
            p => {
                refusals.push(format!("{p} (not a Chip Authentication protocol)"));
                continue;
            }
        };
        let key = keys.iter().find(|k| key_id.is_none() || k.key_id.is_none() || k.key_id == key_id);
        let Some(key) = key else {
            refusals.push(format!("{protocol} (no public key with keyId {key_id:?})"));
            continue;
        };
        if key.protocol == oid::PK_DH {
            refusals.push(format!("{protocol} (the chip key is Diffie-Hellman; only ECDH is implemented)"));
            continue;
        }
        let params = match &key.public_key.algorithm.parameters {
            Some(params) => match der::Encode::to_der(params) {
                Ok(der) => der,
                Err(e) => {
                    return Err(Verdict::failed(format!(
                        "DG14: the CA public key parameters are malformed: {e}"
                    )));
                }
            },
            None => return Err(Verdict::failed("DG14: the CA public key has no domain parameters")),
        };
        match ec::public_key_from_spki_parts(&params, key.public_key.subject_public_key.raw_bytes()) {
            Ok((curve, chip_public_key)) => {
                return Ok(CaChoice {
                    protocol,
                    cipher,
                    curve,
                    chip_public_key,
                    key_id: key.key_id.or(key_id),
                });
            }
            Err(e @ (EcError::UnsupportedCurve(_) | EcError::UnknownExplicitParameters)) => {
                refusals.push(format!("{protocol} ({e})"));
            }
            Err(e) => return Err(Verdict::failed(format!("DG14: the CA public key is unusable: {e}"))),
        }
    }
    Err(Verdict::not_supported(format!("Chip Authentication not implemented for: {}", refusals.join("; "))))
}

/// Chip Authentication v1, terminal side, over an open secure-messaging
/// session (after BAC or PACE). `dg14`: the file as read (empty if the chip
/// has none). On `Passed`, `sm` holds the new session (SSC 0).
///
/// 3DES: MSE:Set KAT (0022 41A6, DO'91' ephemeral key, DO'84' key id). AES:
/// MSE:Set AT (0022 41A4, DO'80' protocol, DO'84') then GENERAL AUTHENTICATE
/// 7C{80 ephemeral key}. Then the terminal re-selects the eMRTD application
/// under the new keys: only a chip holding the private key of DG14 can
/// answer it.
pub fn chip_authentication<R: CryptoRng + ?Sized>(
    transport: &mut dyn CardTransport,
    sm: &mut SecureMessaging,
    dg14: &[u8],
    rng: &mut R,
) -> Result<CaOutcome, ChipCheckError> {
    if dg14.is_empty() {
        return Ok(CaOutcome::unchanged(Verdict::not_supported(
            "the chip has no DG14: Chip Authentication is not offered",
        )));
    }
    let choice = match choose_from_dg14(dg14) {
        Ok(choice) => choice,
        Err(verdict) => return Ok(CaOutcome::unchanged(verdict)),
    };
    let (ephemeral_secret, ephemeral_public) = choice.curve.generate_key_pair(rng);
    let key_reference = choice.key_id.map(|id| tlv::encode(0x84, strip_leading_zeros(&id.to_be_bytes())));

    let steps: Vec<(&'static str, CommandApdu)> = if choice.cipher == SmCipher::TripleDes {
        let mut data = tlv::encode(0x91, &ephemeral_public);
        data.extend(key_reference.unwrap_or_default());
        vec![(
            "MSE:Set KAT",
            CommandApdu::new(0x00, ins::MANAGE_SECURITY_ENVIRONMENT, 0x41, 0xA6).with_data(data),
        )]
    } else {
        let mut template = tlv::encode(0x80, choice.protocol.as_bytes());
        template.extend(key_reference.unwrap_or_default());
        let authenticate = tlv::encode(0x7C, &tlv::encode(0x80, &ephemeral_public));
        vec![
            (
                "MSE:Set AT",
                CommandApdu::new(0x00, ins::MANAGE_SECURITY_ENVIRONMENT, 0x41, 0xA4).with_data(template),
            ),
            (
                "GENERAL AUTHENTICATE",
                CommandApdu::new(0x00, ins::GENERAL_AUTHENTICATE, 0x00, 0x00)
                    .with_data(authenticate)
                    .with_ne(256),
            ),
        ]
    };
    for (step, command) in steps {
        match exchange_protected(transport, sm, &command) {
            Ok(r) if r.sw == sw::OK => {}
            Ok(r) => {
                return Ok(CaOutcome::unchanged(Verdict::failed(format!(
                    "{}: the chip refused {step} ({}); DG14 announces a key the chip will not use",
                    choice.describe(),
                    StatusError::from_sw(r.sw)
                ))));
            }
            Err(ChipCheckError::SecureMessaging(SmError::UnprotectedStatus { sw })) => {
                return Ok(CaOutcome {
                    verdict: Verdict::failed(format!(
                        "{}: the chip refused {step} and ended the session ({})",
                        choice.describe(),
                        StatusError::from_sw(sw)
                    )),
                    session: CaSession::Lost,
                });
            }
            Err(e) => return Err(e),
        }
    }

    let shared = match choice.curve.diffie_hellman(&ephemeral_secret, &choice.chip_public_key) {
        Ok(shared) => shared,
        Err(e) => {
            return Ok(CaOutcome {
                verdict: Verdict::failed(format!("{}: key agreement failed: {e}", choice.describe())),
                session: CaSession::Lost,
            });
        }
    };
    let mut rekeyed = SecureMessaging::new(
        SessionKeys::derive(&shared, choice.cipher),
        &vec![0; choice.cipher.block_size()],
    );
    // The proof: a protected answer under the new keys.
    match exchange_protected(transport, &mut rekeyed, &select_application(&EMRTD_AID)) {
        Ok(r) if r.sw == sw::OK => {
            *sm = rekeyed;
            Ok(CaOutcome {
                verdict: Verdict::passed(format!(
                    "{}: the chip answered under keys agreed with its DG14 public key",
                    choice.describe()
                )),
                session: CaSession::Rekeyed,
            })
        }
        Ok(r) => {
            *sm = rekeyed;
            Ok(CaOutcome {
                verdict: Verdict::failed(format!(
                    "{}: under the new keys the chip answered {} to SELECT of the eMRTD application",
                    choice.describe(),
                    StatusError::from_sw(r.sw)
                )),
                session: CaSession::Rekeyed,
            })
        }
        Err(ChipCheckError::SecureMessaging(e @ (SmError::BadMac | SmError::UnprotectedStatus { .. }))) => {
            Ok(CaOutcome {
                verdict: Verdict::failed(format!(
                    "{}: the chip could not answer under the agreed keys ({e}); it does not hold the private key \
                     of DG14: cloned chip",
                    choice.describe()
                )),
                session: CaSession::Lost,
            })
        }
        Err(e) => Err(e),
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count().min(b.len().saturating_sub(1));
    b.get(skip..).unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn ecdh_agrees_on_every_curve() {
        for curve in ec::ALL {
            let chip = CaPrivateKey::generate(curve, &mut rng());
            let (eph, eph_pub) = curve.generate_key_pair(&mut rng());
            let terminal = curve.diffie_hellman(&eph, chip.public_key()).unwrap();
            let chip_side = chip.agree(&eph_pub).unwrap();
            assert_eq!(terminal, chip_side);
            assert_eq!(terminal.len(), curve.field_len());
            let der = chip.to_pkcs8_der().unwrap();
            assert_eq!(CaPrivateKey::from_pkcs8_der(&der).unwrap(), chip);
            // The SPKI names the curve.
            let spki = chip.public_key_info_der().unwrap();
            let parsed = spki_parts(&spki);
            assert_eq!(
                ec::public_key_from_spki_parts(&parsed.0, &parsed.1).unwrap(),
                (curve, chip.public.clone())
            );
            assert!(chip.agree(&[4, 1, 2, 3]).is_err());
            assert!(chip.agree(&[]).is_err());
        }
    }

    #[test]
    fn ecdsa_signs_and_verifies_on_every_curve() {
        for curve in ec::ALL {
            let (secret, public) = curve.generate_key_pair(&mut rng());
            let digest = [7u8; 32];
            let sig = curve.sign_digest(&secret, &digest, b"entropy").unwrap();
            assert_eq!(sig.len(), 2 * curve.field_len());
            curve.verify_digest(&public, &digest, &sig).unwrap();
            assert_eq!(curve.verify_digest(&public, &[8u8; 32], &sig), Err(EcError::SignatureMismatch));
            assert!(curve.verify_digest(&public, &digest, &sig[1..]).is_err());
        }
    }

    /// Explicit domain parameters (as in real DG14/DG15) are recognised.
    #[test]
    fn explicit_parameters_are_recognised() {
        use super::super::tlv::encode;
        for curve in ec::ALL {
            let order = curve.order_for_test();
            let mut body = encode(0x02, &[1]);
            body.extend(encode(0x30, &encode(0x06, oid::CURVE_P256.as_bytes()))); // field id: not checked
            body.extend(encode(0x30, &[]));
            body.extend(encode(0x04, &curve.generator()));
            body.extend(encode(0x02, &order));
            body.extend(encode(0x02, &[1]));
            let params = encode(0x30, &body);
            assert_eq!(EcCurve::from_parameters_der(&params), Ok(curve));
            let named = encode(0x06, curve.oid().as_bytes());
            assert_eq!(EcCurve::from_parameters_der(&named), Ok(curve));
        }
        assert!(EcCurve::from_parameters_der(&[]).is_err());
        assert!(EcCurve::from_parameters_der(&[0x30, 0x00]).is_err());
        assert!(matches!(
            EcCurve::from_parameters_der(&super::super::tlv::encode(0x06, oid::CURVE_P521.as_bytes())),
            Err(EcError::UnsupportedCurve(_))
        ));
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 0x30) as u8).collect();
            let _ = EcCurve::from_parameters_der(&junk);
        }
    }

    impl EcCurve {
        fn order_for_test(self) -> Vec<u8> {
            let mut o = self.order();
            if o.first().is_some_and(|b| b & 0x80 != 0) {
                o.insert(0, 0);
            }
            o
        }
    }

    /// (parameters DER, key bytes) of an SPKI.
    fn spki_parts(spki: &[u8]) -> (Vec<u8>, Vec<u8>) {
        use der::Decode as _;
        let info = spki::SubjectPublicKeyInfoRef::from_der(spki).unwrap();
        let params = der::Encode::to_der(&info.algorithm.parameters.unwrap()).unwrap();
        (params, info.subject_public_key.raw_bytes().to_vec())
    }
}
