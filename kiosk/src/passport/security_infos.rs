//! SecurityInfos (ICAO 9303 Part 11 9.2, BSI TR-03110 Part 3 A.1): the DER
//! `SET OF SecurityInfo` that tells a reader which protocols a chip supports.
//! Found in EF.CardAccess (PACE), DG14 (Chip and Active Authentication) and
//! EF.CardSecurity (PACE-CAM public key).
//!
//! ```text
//! SecurityInfo ::= SEQUENCE {
//!     protocol     OBJECT IDENTIFIER,
//!     requiredData ANY DEFINED BY protocol,
//!     optionalData ANY DEFINED BY protocol OPTIONAL }
//! ```
//!
//! Parsing is pure and never panics; every length comes from the input and is
//! bounded by it. Protocols this reader does not know are kept as
//! [`SecurityInfo::Unknown`] with their DER, so that nothing is lost.

use der::asn1::{AnyRef, ObjectIdentifier as Oid};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use spki::SubjectPublicKeyInfoOwned;

use super::oid;
use super::tlv;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityInfosError {
    #[error("SecurityInfos: malformed DER ({0}); the file is damaged or is not a SecurityInfos")]
    Der(der::Error),
    #[error("SecurityInfos: the file is empty")]
    Empty,
    #[error("SecurityInfos must be a DER SET (tag 31), found tag {0:#04X}")]
    NotASet(u8),
    #[error("SecurityInfos: {0} unexpected byte(s) after the SET")]
    TrailingData(usize),
    #[error("SecurityInfo #{index} is not a SEQUENCE (found tag {tag})")]
    NotASequence { index: usize, tag: Tag },
    #[error("SecurityInfo #{index} ({protocol}): {field} {problem}")]
    BadField { index: usize, protocol: Oid, field: &'static str, problem: &'static str },
    #[error("SecurityInfos cannot be encoded: {0}")]
    Encode(der::Error),
}

impl From<der::Error> for SecurityInfosError {
    fn from(e: der::Error) -> Self {
        SecurityInfosError::Der(e)
    }
}

/// PACEInfo (EF.CardAccess): a PACE protocol the chip offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceInfo {
    /// id-PACE-{DH,ECDH}-{GM,IM,CAM}-{3DES,AES-...} (see [`oid`]).
    pub protocol: Oid,
    /// 2 for ICAO 9303 PACE.
    pub version: u32,
    /// Standardised domain parameters (ICAO 9303 Part 11 9.5.1: 0-31, e.g. 13
    /// for brainpoolP256r1); `None` when PACEDomainParameterInfo gives them.
    pub parameter_id: Option<u8>,
}

/// PACEDomainParameterInfo: explicit (proprietary) PACE domain parameters, kept
/// as DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceDomainParameterInfo {
    /// id-PACE-{DH,ECDH}-{GM,IM,CAM}.
    pub protocol: Oid,
    /// The DER AlgorithmIdentifier holding the parameters.
    pub domain_parameter: Vec<u8>,
    pub parameter_id: Option<u64>,
}

/// ChipAuthenticationInfo (DG14, EF.CardSecurity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationInfo {
    /// id-CA-{DH,ECDH}-{3DES,AES-...}.
    pub protocol: Oid,
    pub version: u32,
    /// Which ChipAuthenticationPublicKeyInfo this applies to, when there are several.
    pub key_id: Option<u64>,
}

/// ChipAuthenticationDomainParameterInfo, kept as DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationDomainParameterInfo {
    /// id-CA-DH or id-CA-ECDH.
    pub protocol: Oid,
    /// The DER AlgorithmIdentifier holding the parameters.
    pub domain_parameter: Vec<u8>,
    pub key_id: Option<u64>,
}

/// ChipAuthenticationPublicKeyInfo (DG14; EF.CardSecurity for PACE-CAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationPublicKeyInfo {
    /// id-PK-DH or id-PK-ECDH.
    pub protocol: Oid,
    pub public_key: SubjectPublicKeyInfoOwned,
    pub key_id: Option<u64>,
}

/// ActiveAuthenticationInfo (DG14, ICAO 9303 Part 11 6.1): the signature
/// algorithm of ECDSA Active Authentication. Its protocol is always
/// [`oid::ICAO_AA_PROTOCOL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthenticationInfo {
    /// 1.
    pub version: u32,
    /// e.g. ecdsa-plain-SHA256 ([`oid::ECDSA_PLAIN_SHA256`]).
    pub signature_algorithm: Oid,
}

/// TerminalAuthenticationInfo (EAC): recognised so it is reported, not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalAuthenticationInfo {
    pub version: u32,
    /// efCVCA FileID, as DER, when present.
    pub ef_cvca: Option<Vec<u8>>,
}

/// One SecurityInfo, typed by its protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityInfo {
    Pace(PaceInfo),
    PaceDomainParameters(PaceDomainParameterInfo),
    ChipAuthentication(ChipAuthenticationInfo),
    ChipAuthenticationDomainParameters(ChipAuthenticationDomainParameterInfo),
    ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo),
    ActiveAuthentication(ActiveAuthenticationInfo),
    TerminalAuthentication(TerminalAuthenticationInfo),
    /// A protocol this reader does not interpret; `raw` is the whole
    /// SecurityInfo SEQUENCE as DER.
    Unknown {
        protocol: Oid,
        raw: Vec<u8>,
    },
}

/// The SET OF SecurityInfo, in the order of the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityInfos {
    pub infos: Vec<SecurityInfo>,
}

impl SecurityInfos {
    /// Parse a DER `SET OF SecurityInfo` (EF.CardAccess as read, DG14's
    /// content, EF.CardSecurity's signed content). Padding of 00 or FF bytes
    /// after the SET, as some chips return when a file is read whole, is ignored.
    pub fn parse(data: &[u8]) -> Result<SecurityInfos, SecurityInfosError> {
        match data.first() {
            Some(0x31) => {}
            Some(&other) => return Err(SecurityInfosError::NotASet(other)),
            None => return Err(SecurityInfosError::Empty),
        }
        let mut reader = SliceReader::new(data)?;
        let set = AnyRef::decode(&mut reader)?;
        let remaining = usize::try_from(reader.remaining_len())?;
        let trailing = data.get(data.len().saturating_sub(remaining)..).unwrap_or_default();
        if trailing.iter().any(|&b| b != 0x00 && b != 0xFF) {
            return Err(SecurityInfosError::TrailingData(trailing.len()));
        }
        let mut elements = SliceReader::new(set.value())?;
        let mut infos = Vec::new();
        while !elements.is_finished() {
            let element = AnyRef::decode(&mut elements)?;
            infos.push(SecurityInfo::parse_element(infos.len(), element)?);
        }
        Ok(SecurityInfos { infos })
    }

    /// DER encoding: a SET OF whose elements are sorted, as DER requires.
    pub fn encode(&self) -> Result<Vec<u8>, SecurityInfosError> {
        let mut elements = self.infos.iter().map(SecurityInfo::encode).collect::<Result<Vec<_>, _>>()?;
        // X.690 11.6: ascending order of the encodings. Two distinct complete
        // TLVs are never a prefix of one another, so byte order is enough.
        elements.sort();
        Ok(tlv::encode(0x31, &elements.concat()))
    }

    pub fn pace_infos(&self) -> impl Iterator<Item = &PaceInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::Pace(p) => Some(p),
            _ => None,
        })
    }

    pub fn chip_authentication_infos(&self) -> impl Iterator<Item = &ChipAuthenticationInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthentication(c) => Some(c),
            _ => None,
        })
    }

    pub fn chip_authentication_public_keys(&self) -> impl Iterator<Item = &ChipAuthenticationPublicKeyInfo> {
        self.infos.iter().filter_map(|i| match i {
            SecurityInfo::ChipAuthenticationPublicKey(k) => Some(k),
            _ => None,
        })
    }

    pub fn active_authentication(&self) -> Option<&ActiveAuthenticationInfo> {
        self.infos.iter().find_map(|i| match i {
            SecurityInfo::ActiveAuthentication(a) => Some(a),
            _ => None,
        })
    }

    pub fn terminal_authentication(&self) -> Option<&TerminalAuthenticationInfo> {
        self.infos.iter().find_map(|i| match i {
            SecurityInfo::TerminalAuthentication(t) => Some(t),
            _ => None,
        })
    }
}

/// How many arcs `oid` has beyond `arc`, when it lies under it.
fn depth_under(oid: &Oid, arc: &Oid) -> Option<usize> {
    oid::is_under(oid, arc).then(|| oid.arcs().count().saturating_sub(arc.arcs().count()))
}

/// The fields of one SecurityInfo SEQUENCE.
struct Fields<'a> {
    index: usize,
    protocol: Oid,
    required: Option<AnyRef<'a>>,
    optional: Option<AnyRef<'a>>,
}

impl<'a> Fields<'a> {
    fn bad(&self, field: &'static str, problem: &'static str) -> SecurityInfosError {
        SecurityInfosError::BadField { index: self.index, protocol: self.protocol, field, problem }
    }

    fn required(&self) -> Result<AnyRef<'a>, SecurityInfosError> {
        self.required.ok_or_else(|| self.bad("requiredData", "is missing"))
    }

    /// A non-negative INTEGER of at most 8 significant bytes. Non-minimal
    /// encodings (leading zero bytes) are accepted: some chips write them.
    fn uint(&self, any: AnyRef<'a>, field: &'static str) -> Result<u64, SecurityInfosError> {
        if any.tag() != Tag::Integer {
            return Err(self.bad(field, "is not an INTEGER"));
        }
        let bytes = any.value();
        match bytes.first() {
            None => return Err(self.bad(field, "is an empty INTEGER")),
            Some(b) if b & 0x80 != 0 => return Err(self.bad(field, "is negative")),
            Some(_) => {}
        }
        let significant = bytes.get(bytes.iter().take_while(|&&b| b == 0).count()..).unwrap_or_default();
        if significant.len() > 8 {
            return Err(self.bad(field, "is too large"));
        }
        Ok(significant.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn version(&self) -> Result<u32, SecurityInfosError> {
        let v = self.uint(self.required()?, "version")?;
        u32::try_from(v).map_err(|_| self.bad("version", "is too large"))
    }

    fn optional_uint(&self, field: &'static str) -> Result<Option<u64>, SecurityInfosError> {
        self.optional.map(|any| self.uint(any, field)).transpose()
    }

    fn sequence_der(&self, any: AnyRef<'a>, field: &'static str) -> Result<Vec<u8>, SecurityInfosError> {
        if any.tag() != Tag::Sequence {
            return Err(self.bad(field, "is not a SEQUENCE"));
        }
        Ok(any.to_der()?)
    }
}

impl SecurityInfo {
    /// The protocol OID.
    pub fn protocol(&self) -> Oid {
        match self {
            SecurityInfo::Pace(p) => p.protocol,
            SecurityInfo::PaceDomainParameters(p) => p.protocol,
            SecurityInfo::ChipAuthentication(c) => c.protocol,
            SecurityInfo::ChipAuthenticationDomainParameters(c) => c.protocol,
            SecurityInfo::ChipAuthenticationPublicKey(k) => k.protocol,
            SecurityInfo::ActiveAuthentication(_) => oid::ICAO_AA_PROTOCOL,
            SecurityInfo::TerminalAuthentication(_) => oid::TA_ARC,
            SecurityInfo::Unknown { protocol, .. } => *protocol,
        }
    }

    fn parse_element(index: usize, element: AnyRef<'_>) -> Result<SecurityInfo, SecurityInfosError> {
        if element.tag() != Tag::Sequence {
            return Err(SecurityInfosError::NotASequence { index, tag: element.tag() });
        }
        let mut reader = SliceReader::new(element.value())?;
        let protocol = Oid::decode(&mut reader)?;
        let (required, optional) = match data_fields(&mut reader) {
            Ok(fields) => fields,
            // An unknown protocol may structure its data as it likes.
            Err(_) if !is_known(&protocol) => (None, None),
            Err(e) => return Err(e.into()),
        };
        let known_shape = reader.is_finished();
        let f = Fields { index, protocol, required, optional };

        if !is_known(&protocol) {
            return Ok(SecurityInfo::Unknown { protocol, raw: element.to_der()? });
        }
        if !known_shape {
            return Err(f.bad("the SEQUENCE", "has more than three fields"));
        }
        if let Some(depth) = depth_under(&protocol, &oid::PACE_ARC) {
            return Ok(if depth == 2 {
                let parameter_id = f
                    .optional_uint("parameterId")?
                    .map(|id| u8::try_from(id).map_err(|_| f.bad("parameterId", "is above 255")))
                    .transpose()?;
                SecurityInfo::Pace(PaceInfo { protocol, version: f.version()?, parameter_id })
            } else {
                SecurityInfo::PaceDomainParameters(PaceDomainParameterInfo {
                    protocol,
                    domain_parameter: f.sequence_der(f.required()?, "domainParameter")?,
                    parameter_id: f.optional_uint("parameterId")?,
                })
            });
        }
        if let Some(depth) = depth_under(&protocol, &oid::CA_ARC) {
            return Ok(if depth == 2 {
                SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    protocol,
                    version: f.version()?,
                    key_id: f.optional_uint("keyId")?,
                })
            } else {
                SecurityInfo::ChipAuthenticationDomainParameters(ChipAuthenticationDomainParameterInfo {
                    protocol,
                    domain_parameter: f.sequence_der(f.required()?, "domainParameter")?,
                    key_id: f.optional_uint("keyId")?,
                })
            });
        }
        if protocol == oid::PK_DH || protocol == oid::PK_ECDH {
            let der = f.sequence_der(f.required()?, "chipAuthenticationPublicKey")?;
            let public_key = SubjectPublicKeyInfoOwned::from_der(&der)
                .map_err(|_| f.bad("chipAuthenticationPublicKey", "is not a SubjectPublicKeyInfo"))?;
            return Ok(SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                protocol,
                public_key,
                key_id: f.optional_uint("keyId")?,
            }));
        }
        if protocol == oid::ICAO_AA_PROTOCOL {
            let algorithm = f.optional.ok_or_else(|| f.bad("signatureAlgorithm", "is missing"))?;
            if algorithm.tag() != Tag::ObjectIdentifier {
                return Err(f.bad("signatureAlgorithm", "is not an OBJECT IDENTIFIER"));
            }
            let signature_algorithm = Oid::from_bytes(algorithm.value())
                .map_err(|_| f.bad("signatureAlgorithm", "is not a valid OBJECT IDENTIFIER"))?;
            return Ok(SecurityInfo::ActiveAuthentication(ActiveAuthenticationInfo {
                version: f.version()?,
                signature_algorithm,
            }));
        }
        // Terminal Authentication: id-TA itself.
        let ef_cvca = f.optional.map(|any| any.to_der()).transpose()?;
        Ok(SecurityInfo::TerminalAuthentication(TerminalAuthenticationInfo {
            version: f.version()?,
            ef_cvca,
        }))
    }

    /// This SecurityInfo as a DER SEQUENCE.
    pub fn encode(&self) -> Result<Vec<u8>, SecurityInfosError> {
        let mut body = encode_oid(&self.protocol());
        match self {
            SecurityInfo::Pace(p) => {
                body.extend(encode_uint(p.version.into()));
                body.extend(p.parameter_id.map(|id| encode_uint(id.into())).unwrap_or_default());
            }
            SecurityInfo::PaceDomainParameters(p) => {
                body.extend_from_slice(&p.domain_parameter);
                body.extend(p.parameter_id.map(encode_uint).unwrap_or_default());
            }
            SecurityInfo::ChipAuthentication(c) => {
                body.extend(encode_uint(c.version.into()));
                body.extend(c.key_id.map(encode_uint).unwrap_or_default());
            }
            SecurityInfo::ChipAuthenticationDomainParameters(c) => {
                body.extend_from_slice(&c.domain_parameter);
                body.extend(c.key_id.map(encode_uint).unwrap_or_default());
            }
            SecurityInfo::ChipAuthenticationPublicKey(k) => {
                body.extend(k.public_key.to_der().map_err(SecurityInfosError::Encode)?);
                body.extend(k.key_id.map(encode_uint).unwrap_or_default());
            }
            SecurityInfo::ActiveAuthentication(a) => {
                body.extend(encode_uint(a.version.into()));
                body.extend(encode_oid(&a.signature_algorithm));
            }
            SecurityInfo::TerminalAuthentication(t) => {
                body.extend(encode_uint(t.version.into()));
                body.extend(t.ef_cvca.iter().flatten());
            }
            SecurityInfo::Unknown { raw, .. } => return Ok(raw.clone()),
        }
        Ok(tlv::encode(0x30, &body))
    }
}

/// requiredData and optionalData, as far as they are present.
type DataFields<'a> = (Option<AnyRef<'a>>, Option<AnyRef<'a>>);

fn data_fields<'a>(r: &mut SliceReader<'a>) -> Result<DataFields<'a>, der::Error> {
    let mut next = || if r.is_finished() { Ok(None) } else { AnyRef::decode(r).map(Some) };
    Ok((next()?, next()?))
}

/// Whether this reader interprets `protocol` (anything else stays raw).
fn is_known(protocol: &Oid) -> bool {
    matches!(depth_under(protocol, &oid::PACE_ARC), Some(1 | 2))
        || matches!(depth_under(protocol, &oid::CA_ARC), Some(1 | 2))
        || *protocol == oid::PK_DH
        || *protocol == oid::PK_ECDH
        || *protocol == oid::ICAO_AA_PROTOCOL
        || *protocol == oid::TA_ARC
}

fn encode_oid(oid: &Oid) -> Vec<u8> {
    tlv::encode(0x06, oid.as_bytes())
}

/// A DER INTEGER: minimal big-endian two's complement of a non-negative value.
fn encode_uint(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(bytes.len() - 1);
    let mut content = Vec::with_capacity(9);
    if bytes.get(skip).is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(bytes.get(skip..).unwrap_or_default());
    tlv::encode(0x02, &content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// EF.CardAccess with the PACEInfo of ICAO 9303 Part 11 Appendix G.1:
    /// id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2, parameter ID 13.
    const G1_CARD_ACCESS: &str = "3114 3012 060A 04007F00070202040202 020102 02010D";

    #[test]
    fn parses_the_appendix_g1_pace_info() {
        let infos = SecurityInfos::parse(&hex(G1_CARD_ACCESS)).unwrap();
        let pace: Vec<_> = infos.pace_infos().collect();
        assert_eq!(
            pace,
            vec![&PaceInfo { protocol: oid::PACE_ECDH_GM_AES_128, version: 2, parameter_id: Some(13) }]
        );
        assert_eq!(pace[0].protocol.as_bytes(), hex("04007F00070202040202"));
        assert_eq!(infos.encode().unwrap(), hex(G1_CARD_ACCESS));
        // Read whole from a chip: trailing padding is tolerated, data is not.
        let mut padded = hex(G1_CARD_ACCESS);
        padded.extend([0, 0, 0xFF]);
        assert_eq!(SecurityInfos::parse(&padded).unwrap(), infos);
        padded.push(1);
        assert_eq!(SecurityInfos::parse(&padded), Err(SecurityInfosError::TrailingData(4)));
    }

    /// A DER SubjectPublicKeyInfo for id-ecPublicKey on P-256 (a point whose
    /// value does not matter here: SecurityInfos does not validate keys).
    fn ec_spki() -> SubjectPublicKeyInfoOwned {
        let mut point = vec![0x04];
        point.extend((0..64u8).map(|i| i.wrapping_mul(7)));
        let algorithm = [encode_oid(&oid::EC_PUBLIC_KEY), encode_oid(&oid::CURVE_P256)].concat();
        let mut bits = vec![0];
        bits.extend(point);
        let der = tlv::encode(0x30, &[tlv::encode(0x30, &algorithm), tlv::encode(0x03, &bits)].concat());
        SubjectPublicKeyInfoOwned::from_der(&der).unwrap()
    }

    fn dg14_infos() -> SecurityInfos {
        SecurityInfos {
            infos: vec![
                SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                    protocol: oid::PK_ECDH,
                    public_key: ec_spki(),
                    key_id: Some(1),
                }),
                SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    protocol: oid::CA_ECDH_AES_128,
                    version: 1,
                    key_id: Some(1),
                }),
                SecurityInfo::ActiveAuthentication(ActiveAuthenticationInfo {
                    version: 1,
                    signature_algorithm: oid::ECDSA_PLAIN_SHA256,
                }),
                SecurityInfo::TerminalAuthentication(TerminalAuthenticationInfo {
                    version: 1,
                    ef_cvca: None,
                }),
                SecurityInfo::Pace(PaceInfo {
                    protocol: oid::PACE_ECDH_CAM_AES_128,
                    version: 2,
                    parameter_id: None,
                }),
                SecurityInfo::PaceDomainParameters(PaceDomainParameterInfo {
                    protocol: Oid::new_unwrap("0.4.0.127.0.7.2.2.4.2"),
                    domain_parameter: tlv::encode(0x30, &encode_oid(&oid::CURVE_P256)),
                    parameter_id: Some(32),
                }),
                SecurityInfo::ChipAuthenticationDomainParameters(ChipAuthenticationDomainParameterInfo {
                    protocol: Oid::new_unwrap("0.4.0.127.0.7.2.2.3.2"),
                    domain_parameter: tlv::encode(0x30, &encode_oid(&oid::CURVE_P256)),
                    key_id: None,
                }),
                SecurityInfo::Unknown {
                    protocol: Oid::new_unwrap("1.2.3.4"),
                    raw: hex("3009 0603 2A0304 0C02 6869"),
                },
            ],
        }
    }

    #[test]
    fn every_variant_round_trips() {
        let infos = dg14_infos();
        let der = infos.encode().unwrap();
        let parsed = SecurityInfos::parse(&der).unwrap();
        // The encoding is sorted; the set is the same.
        assert_eq!(parsed.infos.len(), infos.infos.len());
        for info in &infos.infos {
            assert!(parsed.infos.contains(info), "{info:?} lost");
        }
        assert_eq!(parsed.encode().unwrap(), der, "DER is canonical");
        assert_eq!(parsed.chip_authentication_public_keys().next().unwrap().key_id, Some(1));
        assert_eq!(parsed.chip_authentication_infos().next().unwrap().protocol, oid::CA_ECDH_AES_128);
        assert_eq!(parsed.active_authentication().unwrap().signature_algorithm, oid::ECDSA_PLAIN_SHA256);
        assert!(parsed.terminal_authentication().is_some());
        for info in &parsed.infos {
            assert_eq!(
                SecurityInfo::parse_element(0, AnyRef::from_der(&info.encode().unwrap()).unwrap())
                    .unwrap()
                    .protocol(),
                info.protocol()
            );
        }
    }

    #[test]
    fn integers_are_read_leniently_and_written_minimally() {
        assert_eq!(encode_uint(0), hex("020100"));
        assert_eq!(encode_uint(127), hex("02017F"));
        assert_eq!(encode_uint(128), hex("02020080"));
        assert_eq!(encode_uint(u64::MAX), hex("0209 00FFFFFFFFFFFFFFFF"));
        // version 2 written as 02 02 00 02 (not DER, seen on chips).
        let lenient = hex("3115 3013 060A 04007F00070202040202 02020002 02010D");
        let infos = SecurityInfos::parse(&lenient).unwrap();
        assert_eq!(infos.pace_infos().next().unwrap().version, 2);
        // Lengths, unlike INTEGERs, must be DER: SecurityInfos are hashed
        // (DG14) or signed (EF.CardSecurity) as DER.
        let long_form = hex("318115 308112 060A 04007F00070202040202 020102 02010D");
        assert!(matches!(SecurityInfos::parse(&long_form), Err(SecurityInfosError::Der(_))));
    }

    #[test]
    fn malformed_known_protocols_are_typed_errors() {
        let bad = |s: &str| SecurityInfos::parse(&hex(s)).unwrap_err();
        // Version is an OCTET STRING.
        assert!(matches!(
            bad("3114 3012 060A 04007F00070202040202 040102 02010D"),
            SecurityInfosError::BadField { index: 0, field: "version", .. }
        ));
        // Parameter ID 256.
        assert!(matches!(
            bad("3115 3013 060A 04007F00070202040202 020102 02020100"),
            SecurityInfosError::BadField { field: "parameterId", .. }
        ));
        // Negative version.
        assert!(matches!(
            bad("3114 3012 060A 04007F00070202040202 0201FF 02010D"),
            SecurityInfosError::BadField { problem: "is negative", .. }
        ));
        // No requiredData.
        assert!(matches!(
            bad("310E 300C 060A 04007F00070202040202"),
            SecurityInfosError::BadField { field: "requiredData", .. }
        ));
        assert!(matches!(bad("3003 020100"), SecurityInfosError::NotASet(0x30)));
        assert!(matches!(bad("3103 020100"), SecurityInfosError::NotASequence { index: 0, .. }));
        assert!(SecurityInfos::parse(&[]).is_err());
        // An empty SET is valid: the chip supports nothing.
        assert_eq!(SecurityInfos::parse(&hex("3100")).unwrap(), SecurityInfos::default());
        // An unknown protocol with any shape is kept as it is.
        let odd = hex("310C 300A 0603 2A0304 0101FF 0500");
        let infos = SecurityInfos::parse(&odd).unwrap();
        assert!(matches!(&infos.infos[0], SecurityInfo::Unknown { raw, .. } if raw[..] == odd[2..]));
    }

    #[test]
    fn truncation_and_garbage_never_panic() {
        let der = dg14_infos().encode().unwrap();
        for cut in 0..der.len() {
            assert!(SecurityInfos::parse(&der[..cut]).is_err(), "cut at {cut}");
        }
        // Every single-byte corruption.
        for i in 0..der.len() {
            for v in [0x00, 0x01, 0x30, 0x31, 0x80, 0x81, 0x84, 0xFF] {
                let mut d = der.clone();
                d[i] = v;
                let _ = SecurityInfos::parse(&d);
            }
        }
        // Pseudo-random bytes behind a SET header.
        let mut seed = 0x9E37_79B9u32;
        for n in 0..3000usize {
            let len = n % 64;
            let mut d = vec![0x31, len as u8];
            d.extend((0..len).map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            }));
            let _ = SecurityInfos::parse(&d);
        }
        // A length claiming far more than the input.
        assert!(SecurityInfos::parse(&hex("3184FFFFFFFF 30")).is_err());
    }
}
