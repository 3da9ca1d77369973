//! EF.SOD, the Document Security Object (ICAO 9303 Part 10 §4.6.2, Part 12 §9):
//! a CMS SignedData (RFC 5652) whose content is the LDSSecurityObject, the
//! list of data-group hashes, signed by the Document Signer (DS).
//!
//! Parsing only: [`super::pa`] verifies. The same CMS view ([`SignedCms`])
//! also reads ICAO CSCA master lists for [`super::trust`].
//!
//! Nothing here panics on any input: every structure is decoded with `der`
//! (which checks every length) and raw byte views are taken with
//! [`super::tlv`] (which checks every offset).
//!
//! Signatures are verified over the bytes as received, never over a
//! re-encoding: `der` sorts `SET OF` elements when it decodes, so re-encoding
//! signed attributes or a certificate's TBS part from a non-canonical signer
//! would change them. [`SignedCms::signed_attributes_der`] and
//! [`ParsedCertificate::tbs_der`] are cut from the original bytes.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString, PrintableString};
use der::{Decode, Encode, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
use x509_cert::time::Time;

use super::oid;
use super::tlv::{self, Tlv, TlvError};

/// EF.SOD's LDS tag (ICAO 9303 Part 10, Table 33).
pub const EF_SOD_TAG: u32 = 0x77;

/// Why an EF.SOD (or another ICAO CMS object) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SodError {
    #[error("EF.SOD is not a tag 77 object holding a CMS ContentInfo: {0}")]
    Wrapper(TlvError),
    #[error("the data are not a CMS ContentInfo: {0}")]
    ContentInfo(der::Error),
    #[error("the CMS content type is {0}, not signed-data (1.2.840.113549.1.7.2)")]
    NotSignedData(ObjectIdentifier),
    #[error("the CMS SignedData is malformed: {0}")]
    SignedData(der::Error),
    #[error("the signed content type is {found}, expected {expected}")]
    UnexpectedContentType { found: ObjectIdentifier, expected: ObjectIdentifier },
    #[error(
        "the CMS SignedData has no encapsulated content (a detached signature); ICAO objects carry their content"
    )]
    NoContent,
    #[error("the encapsulated content is not an OCTET STRING (tag {0})")]
    ContentNotOctetString(der::Tag),
    #[error("the CMS SignedData has no signer information")]
    NoSigner,
    #[error("the LDSSecurityObject is malformed: {0}")]
    LdsSecurityObject(der::Error),
    #[error("the LDSSecurityObject lists no data-group hash")]
    NoDataGroupHashes,
    #[error("the LDSSecurityObject lists data group {0} more than once")]
    DuplicateDataGroup(u8),
    #[error("the LDSSecurityObject lists data group {0}; data groups are numbered 1 to 16")]
    DataGroupOutOfRange(u8),
    #[error("certificate {index} in the CMS SignedData is malformed: {error}")]
    Certificate { index: usize, error: der::Error },
    #[error("a signed attribute is malformed: {0}")]
    SignedAttribute(der::Error),
}

/// LDSSecurityObject (ICAO 9303 Part 10 §4.6.2.2).
///
/// ```text
/// LDSSecurityObject ::= SEQUENCE {
///   version LDSSecurityObjectVersion,            -- v0(0), v1(1)
///   hashAlgorithm DigestAlgorithmIdentifier,
///   dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
///   ldsVersionInfo LDSVersionInfo OPTIONAL }     -- present if version is v1
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct LdsSecurityObject {
    pub version: u8,
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub data_group_hash_values: Vec<DataGroupHash>,
    pub lds_version_info: Option<LdsVersionInfo>,
}

/// `DataGroupHash ::= SEQUENCE { dataGroupNumber DataGroupNumber, dataGroupHashValue OCTET STRING }`
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct DataGroupHash {
    pub data_group_number: u8,
    pub data_group_hash_value: OctetString,
}

/// `LDSVersionInfo ::= SEQUENCE { ldsVersion PRINTABLE STRING, unicodeVersion PRINTABLE STRING }`
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct LdsVersionInfo {
    pub lds_version: PrintableString,
    pub unicode_version: PrintableString,
}

impl LdsSecurityObject {
    /// Decode and check what the signature cannot: numbers in range, no duplicates.
    pub fn parse(der_bytes: &[u8]) -> Result<LdsSecurityObject, SodError> {
        let lds = LdsSecurityObject::from_der(der_bytes).map_err(SodError::LdsSecurityObject)?;
        if lds.data_group_hash_values.is_empty() {
            return Err(SodError::NoDataGroupHashes);
        }
        let mut seen = [false; 17];
        for h in &lds.data_group_hash_values {
            let n = h.data_group_number;
            let slot =
                seen.get_mut(usize::from(n)).filter(|_| n >= 1).ok_or(SodError::DataGroupOutOfRange(n))?;
            if *slot {
                return Err(SodError::DuplicateDataGroup(n));
            }
            *slot = true;
        }
        Ok(lds)
    }

    /// The hash the SOD holds for data group `number`.
    pub fn hash_for(&self, number: u8) -> Option<&[u8]> {
        self.data_group_hash_values
            .iter()
            .find(|h| h.data_group_number == number)
            .map(|h| h.data_group_hash_value.as_bytes())
    }

    /// Data-group numbers listed, in SOD order.
    pub fn data_groups(&self) -> Vec<u8> {
        self.data_group_hash_values.iter().map(|h| h.data_group_number).collect()
    }
}

/// An X.509 certificate together with the exact bytes it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCertificate {
    pub certificate: Certificate,
    pub der: Vec<u8>,
}

impl ParsedCertificate {
    pub fn from_der(der_bytes: &[u8]) -> Result<ParsedCertificate, der::Error> {
        let certificate = Certificate::from_der(der_bytes)?;
        Ok(ParsedCertificate { certificate, der: der_bytes.to_vec() })
    }

    /// The TBSCertificate exactly as signed.
    pub fn tbs_der(&self) -> Option<&[u8]> {
        first_element_of_sequence(&self.der)
    }

    /// The signature bits (certificate signatures are whole octets).
    pub fn signature_bytes(&self) -> Option<&[u8]> {
        self.certificate.signature().as_bytes()
    }

    pub fn subject(&self) -> String {
        self.certificate.tbs_certificate().subject().to_string()
    }

    pub fn issuer(&self) -> String {
        self.certificate.tbs_certificate().issuer().to_string()
    }

    /// Serial number in upper-case hexadecimal.
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(self.certificate.tbs_certificate().serial_number().as_bytes())
    }

    /// The subject key identifier extension, when present and well formed.
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        match self.certificate.tbs_certificate().get_extension::<SubjectKeyIdentifier>() {
            Ok(Some((_, ski))) => Some(ski.0.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The authority key identifier's keyIdentifier, when present and well formed.
    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        match self.certificate.tbs_certificate().get_extension::<AuthorityKeyIdentifier>() {
            Ok(Some((_, aki))) => aki.key_identifier.map(|k| k.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The subject's country (C) attribute, upper-case.
    pub fn subject_country(&self) -> Option<String> {
        name_country(self.certificate.tbs_certificate().subject())
    }

    /// Whether the subject names the same entity as `issuer` (DER equality,
    /// else RFC 4514 strings compared case-insensitively, which tolerates a
    /// different string type for the same text).
    pub fn subject_matches(&self, issuer: &x509_cert::name::Name) -> bool {
        names_match(self.certificate.tbs_certificate().subject(), issuer)
    }

    /// Whether the certificate is self-issued (subject = issuer, and the key
    /// identifiers agree when both are present).
    pub fn is_self_issued(&self) -> bool {
        let tbs = self.certificate.tbs_certificate();
        names_match(tbs.subject(), tbs.issuer())
            && match (self.subject_key_id(), self.authority_key_id()) {
                (Some(ski), Some(aki)) => ski == aki,
                _ => true,
            }
    }
}

/// The country (C) attribute of a name, upper-case, whatever its string type.
pub fn name_country(name: &x509_cert::name::Name) -> Option<String> {
    const COUNTRY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
    name.iter()
        .find(|atv| atv.oid == COUNTRY_NAME)
        .and_then(|atv| std::str::from_utf8(atv.value.value()).ok())
        .map(|s| s.trim().to_ascii_uppercase())
}

/// Name equality as ICAO readers practise it: exact DER, else the RFC 4514
/// strings compared case-insensitively.
pub fn names_match(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    a == b || a.to_string().eq_ignore_ascii_case(&b.to_string())
}

/// A CMS SignedData with one signer and encapsulated content, as ICAO uses
/// it for EF.SOD and CSCA master lists.
#[derive(Clone, Debug)]
pub struct SignedCms {
    pub signed_data: SignedData,
    /// eContentType.
    pub content_type: ObjectIdentifier,
    /// The eContent octets: what the messageDigest attribute covers.
    pub content: Vec<u8>,
    /// The first (for ICAO, the only) signer.
    pub signer: SignerInfo,
    /// The signed attributes as signed: DER `SET OF` (tag 31), taken from the
    /// received bytes. `None` when the signer has no signed attributes.
    pub signed_attributes_der: Option<Vec<u8>>,
    /// The certificates carried in `certificates`, with their bytes.
    pub certificates: Vec<ParsedCertificate>,
}

impl SignedCms {
    /// Parse a DER (or BER) CMS ContentInfo holding SignedData. Bytes after
    /// the ContentInfo (padding read from a chip file) are ignored.
    pub fn parse(content_info: &[u8]) -> Result<SignedCms, SodError> {
        // Restrict to the first element so that trailing padding is ignored;
        // when the length is indefinite (BER), tlv refuses and we keep all.
        let exact = Tlv::parse(content_info)
            .ok()
            .and_then(|t| content_info.get(..t.encoded_len))
            .unwrap_or(content_info);
        let (info, ber) = match ContentInfo::from_der(exact) {
            Ok(info) => (info, false),
            Err(der_error) => {
                (ContentInfo::from_ber(exact).map_err(|_| SodError::ContentInfo(der_error))?, true)
            }
        };
        if info.content_type != oid::CMS_SIGNED_DATA {
            return Err(SodError::NotSignedData(info.content_type));
        }
        let signed_data = if ber {
            info.content.decode_as_encoding::<SignedData>(der::EncodingRules::Ber)
        } else {
            info.content.decode_as::<SignedData>()
        }
        .map_err(SodError::SignedData)?;

        let encap = &signed_data.encap_content_info;
        let content_any = encap.econtent.as_ref().ok_or(SodError::NoContent)?;
        if content_any.tag() != der::Tag::OctetString {
            return Err(SodError::ContentNotOctetString(content_any.tag()));
        }
        let content = content_any.value().to_vec();
        let signer = signed_data.signer_infos.0.get(0).cloned().ok_or(SodError::NoSigner)?;

        let raw = RawSignedData::walk(exact);
        let certificates = match raw.as_ref().map(|r| r.certificates.as_slice()) {
            Some(raw_certificates) => raw_certificates
                .iter()
                .enumerate()
                .filter(|(_, c)| c.first() == Some(&0x30))
                .map(|(index, c)| {
                    ParsedCertificate::from_der(c).map_err(|error| SodError::Certificate { index, error })
                })
                .collect::<Result<Vec<_>, _>>()?,
            // BER with indefinite lengths: re-encode what der decoded.
            None => signed_data
                .certificates
                .iter()
                .flat_map(|set| set.0.iter())
                .enumerate()
                .filter_map(|(index, choice)| match choice {
                    CertificateChoices::Certificate(c) => Some((index, c)),
                    CertificateChoices::Other(_) => None,
                })
                .map(|(index, c)| {
                    c.to_der()
                        .map(|der| ParsedCertificate { certificate: c.clone(), der })
                        .map_err(|error| SodError::Certificate { index, error })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let signed_attributes_der = match raw.and_then(|r| r.first_signer_signed_attributes) {
            Some(value) => Some(tlv::encode(0x31, value)),
            None => match &signer.signed_attrs {
                Some(attrs) => Some(attrs.to_der().map_err(SodError::SignedAttribute)?),
                None => None,
            },
        };
        Ok(SignedCms {
            content_type: encap.econtent_type,
            content,
            signer,
            signed_attributes_der,
            certificates,
            signed_data,
        })
    }

    /// The certificate the signer identifier names, if carried.
    pub fn signer_certificate(&self) -> Option<&ParsedCertificate> {
        self.certificates.iter().find(|c| signer_identifier_matches(&self.signer.sid, c))
    }

    /// How the signer identifies its certificate, for messages.
    pub fn signer_identifier_text(&self) -> String {
        match &self.signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                format!("issuer {} serial {}", isn.issuer, hex::encode_upper(isn.serial_number.as_bytes()))
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                format!("subject key identifier {}", hex::encode_upper(ski.0.as_bytes()))
            }
        }
    }

    /// The single value of signed attribute `attribute`, if present.
    /// An attribute with zero or several values is an error (RFC 5652 §11).
    pub fn signed_attribute(&self, attribute: ObjectIdentifier) -> Result<Option<&der::Any>, SodError> {
        let Some(attrs) = &self.signer.signed_attrs else { return Ok(None) };
        let mut found = attrs.iter().filter(|a| a.oid == attribute);
        let Some(attr) = found.next() else { return Ok(None) };
        if found.next().is_some() || attr.values.len() != 1 {
            return Err(SodError::SignedAttribute(der::Tag::Set.value_error().into()));
        }
        Ok(attr.values.get(0))
    }

    /// The contentType signed attribute.
    pub fn content_type_attribute(&self) -> Result<Option<ObjectIdentifier>, SodError> {
        self.signed_attribute(oid::CMS_CONTENT_TYPE)?
            .map(|v| v.decode_as::<ObjectIdentifier>().map_err(SodError::SignedAttribute))
            .transpose()
    }

    /// The messageDigest signed attribute.
    pub fn message_digest_attribute(&self) -> Result<Option<Vec<u8>>, SodError> {
        self.signed_attribute(oid::CMS_MESSAGE_DIGEST)?
            .map(|v| {
                v.decode_as::<OctetString>().map(|o| o.as_bytes().to_vec()).map_err(SodError::SignedAttribute)
            })
            .transpose()
    }

    /// The signingTime signed attribute, if present and readable.
    pub fn signing_time(&self) -> Option<Time> {
        let value = self.signed_attribute(oid::CMS_SIGNING_TIME).ok()??;
        Time::from_der(&value.to_der().ok()?).ok()
    }
}

/// Whether `sid` names `certificate`.
pub fn signer_identifier_matches(sid: &SignerIdentifier, certificate: &ParsedCertificate) -> bool {
    let tbs = certificate.certificate.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            names_match(&isn.issuer, tbs.issuer())
                && isn.serial_number.as_bytes() == tbs.serial_number().as_bytes()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            certificate.subject_key_id().as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// A parsed EF.SOD.
#[derive(Clone, Debug)]
pub struct Sod {
    pub cms: SignedCms,
    pub lds: LdsSecurityObject,
}

impl Sod {
    /// Parse EF.SOD as read from the chip (tag 77 around the ContentInfo),
    /// or the ContentInfo alone (what `lds` hands over once unwrapped).
    pub fn parse(ef_sod: &[u8]) -> Result<Sod, SodError> {
        let content_info = match ef_sod.first() {
            Some(0x77) => Tlv::parse_expecting(ef_sod, EF_SOD_TAG).map_err(SodError::Wrapper)?.value,
            _ => ef_sod,
        };
        Sod::parse_content_info(content_info)
    }

    /// Parse the CMS ContentInfo of EF.SOD.
    pub fn parse_content_info(content_info: &[u8]) -> Result<Sod, SodError> {
        let cms = SignedCms::parse(content_info)?;
        if cms.content_type != oid::ICAO_LDS_SECURITY_OBJECT {
            return Err(SodError::UnexpectedContentType {
                found: cms.content_type,
                expected: oid::ICAO_LDS_SECURITY_OBJECT,
            });
        }
        let lds = LdsSecurityObject::parse(&cms.content)?;
        Ok(Sod { cms, lds })
    }

    /// The Document Signer certificate carried in the SOD.
    pub fn ds_certificate(&self) -> Option<&ParsedCertificate> {
        self.cms.signer_certificate()
    }
}

/// The raw TLV of the first element inside a DER SEQUENCE (the signed part
/// of a certificate or CRL).
pub fn first_element_of_sequence(der_bytes: &[u8]) -> Option<&[u8]> {
    let outer = Tlv::parse_expecting(der_bytes, 0x30).ok()?;
    let inner = Tlv::parse(outer.value).ok()?;
    outer.value.get(..inner.encoded_len)
}

/// One TLV: its tag, its full encoding, its value.
type RawElement<'a> = (u32, &'a [u8], &'a [u8]);

/// Consecutive TLVs of `value`.
fn raw_elements(value: &[u8]) -> Option<Vec<RawElement<'_>>> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let t = Tlv::parse(rest).ok()?;
        out.push((t.tag, rest.get(..t.encoded_len)?, t.value));
        rest = rest.get(t.encoded_len..)?;
    }
    Some(out)
}

/// Byte views into a definite-length ContentInfo(SignedData).
struct RawSignedData<'a> {
    certificates: Vec<&'a [u8]>,
    /// The value of the first SignerInfo's `[0] IMPLICIT` signedAttrs.
    first_signer_signed_attributes: Option<&'a [u8]>,
}

impl<'a> RawSignedData<'a> {
    fn walk(content_info: &'a [u8]) -> Option<RawSignedData<'a>> {
        let ci = Tlv::parse_expecting(content_info, 0x30).ok()?;
        let explicit = raw_elements(ci.value)?.into_iter().find(|(tag, _, _)| *tag == 0xA0)?;
        let signed_data = Tlv::parse_expecting(explicit.2, 0x30).ok()?;
        let fields = raw_elements(signed_data.value)?;
        let certificates = match fields.iter().find(|(tag, _, _)| *tag == 0xA0) {
            Some((_, _, value)) => raw_elements(value)?.into_iter().map(|(_, full, _)| full).collect(),
            None => Vec::new(),
        };
        // signerInfos is the last field.
        let (tag, _, signer_infos) = fields.last()?;
        if *tag != 0x31 {
            return None;
        }
        let first_signer = raw_elements(signer_infos)?.into_iter().next()?;
        let signer_fields = raw_elements(first_signer.2)?;
        // version, sid, digestAlgorithm, then [0] signedAttrs if present.
        let first_signer_signed_attributes =
            signer_fields.get(3).filter(|(tag, _, _)| *tag == 0xA0).map(|(_, _, value)| *value);
        Some(RawSignedData { certificates, first_signer_signed_attributes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lds_der(entries: &[(u8, &[u8])]) -> Vec<u8> {
        LdsSecurityObject {
            version: 0,
            hash_algorithm: AlgorithmIdentifierOwned { oid: oid::SHA256, parameters: None },
            data_group_hash_values: entries
                .iter()
                .map(|(n, h)| DataGroupHash {
                    data_group_number: *n,
                    data_group_hash_value: OctetString::new(*h).unwrap(),
                })
                .collect(),
            lds_version_info: None,
        }
        .to_der()
        .unwrap()
    }

    #[test]
    fn lds_security_object_round_trip_and_checks() {
        let der_bytes = lds_der(&[(1, &[0xAA; 32]), (2, &[0xBB; 32])]);
        let lds = LdsSecurityObject::parse(&der_bytes).unwrap();
        assert_eq!(lds.data_groups(), vec![1, 2]);
        assert_eq!(lds.hash_for(2), Some(&[0xBB; 32][..]));
        assert_eq!(lds.hash_for(3), None);
        assert_eq!(
            LdsSecurityObject::parse(&lds_der(&[(1, &[1]), (1, &[2])])),
            Err(SodError::DuplicateDataGroup(1))
        );
        assert_eq!(LdsSecurityObject::parse(&lds_der(&[(0, &[1])])), Err(SodError::DataGroupOutOfRange(0)));
        assert_eq!(LdsSecurityObject::parse(&lds_der(&[(17, &[1])])), Err(SodError::DataGroupOutOfRange(17)));
        assert_eq!(LdsSecurityObject::parse(&lds_der(&[])), Err(SodError::NoDataGroupHashes));
    }

    #[test]
    fn lds_version_info_is_read() {
        let with_info = LdsSecurityObject {
            version: 1,
            hash_algorithm: AlgorithmIdentifierOwned { oid: oid::SHA1, parameters: None },
            data_group_hash_values: vec![DataGroupHash {
                data_group_number: 1,
                data_group_hash_value: OctetString::new(vec![0; 20]).unwrap(),
            }],
            lds_version_info: Some(LdsVersionInfo {
                lds_version: PrintableString::new("0108").unwrap(),
                unicode_version: PrintableString::new("040000").unwrap(),
            }),
        };
        let parsed = LdsSecurityObject::parse(&with_info.to_der().unwrap()).unwrap();
        assert_eq!(parsed, with_info);
    }

    #[test]
    fn wrong_outer_structures_are_errors() {
        assert!(matches!(Sod::parse(&[]), Err(SodError::ContentInfo(_))));
        assert!(matches!(Sod::parse(&[0x77, 0x05, 1]), Err(SodError::Wrapper(_))));
        assert!(matches!(Sod::parse(&[0x77, 0x00]), Err(SodError::ContentInfo(_))));
        // A ContentInfo of type id-data, not signed-data.
        let info = ContentInfo {
            content_type: ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1"),
            content: der::Any::new(der::Tag::OctetString, vec![1, 2, 3]).unwrap(),
        }
        .to_der()
        .unwrap();
        assert!(matches!(Sod::parse(&info), Err(SodError::NotSignedData(_))));
        assert!(matches!(Sod::parse(&tlv::encode(0x77, &info)), Err(SodError::NotSignedData(_))));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..300usize {
            let mut buf = Vec::with_capacity(len + 2);
            buf.extend_from_slice(&[0x30, 0x82]);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                buf.push(state as u8);
            }
            let _ = Sod::parse(&buf);
            let _ = Sod::parse(&tlv::encode(0x77, &buf));
            let _ = LdsSecurityObject::parse(&buf);
            let _ = first_element_of_sequence(&buf);
        }
    }
}
