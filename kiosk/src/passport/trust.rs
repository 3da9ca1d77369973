//! The CSCA trust store: the Country Signing CA certificates this kiosk
//! trusts, and their certificate revocation lists.
//!
//! Sources, read by [`TrustStore::add_dir`] / [`TrustStore::load_dir`]:
//! - certificates `.der` `.cer` `.crt` `.pem` (DER or PEM; a PEM file may hold
//!   several certificates and CRLs);
//! - CRLs `.crl` (DER or PEM);
//! - ICAO CSCA master lists `.ml`: CMS SignedData whose content
//!   (2.23.136.1.1.2) is `CscaMasterList { version, certList SET OF
//!   Certificate }`. The list is accepted only if its signature verifies with
//!   the signer certificate it carries and that signer chains to a CSCA in
//!   the list itself. This proves the list is intact and comes from the
//!   holder of that CSCA key; whoever loads a list still decides to trust
//!   its publisher.
//!
//! Anything else in the folder is skipped and listed in the [`LoadReport`].
//! A file that should be trust material but cannot be read is an error that
//! names the file: a silently partial trust store would reject genuine
//! passports with no hint why.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use der::{Decode, Encode, Sequence, Tagged};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage};

use super::oid;
use super::pa::{self, HashAlgorithm, SignatureError};
use super::sod::{self, ParsedCertificate, SignedCms};
use super::tlv::Tlv;

/// Why trust material cannot be loaded. `origin` is the file (or the name
/// the caller gave in-memory data).
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the trust store folder {path}: {source}")]
    ReadDir { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
}

fn invalid(origin: &str, problem: impl Into<String>) -> TrustError {
    TrustError::Invalid { origin: origin.to_string(), problem: problem.into() }
}

/// A trusted CSCA certificate and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCsca {
    pub certificate: ParsedCertificate,
    /// File name, or "master list <file>".
    pub source: String,
}

/// A CRL and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCrl {
    pub crl: CertificateList,
    pub der: Vec<u8>,
    pub source: String,
}

impl TrustedCrl {
    pub fn from_der(der_bytes: &[u8], source: &str) -> Result<TrustedCrl, TrustError> {
        let crl = CertificateList::from_der(der_bytes)
            .map_err(|e| invalid(source, format!("not a DER X.509 CRL: {e}")))?;
        Ok(TrustedCrl { crl, der: der_bytes.to_vec(), source: source.to_string() })
    }

    pub fn issuer(&self) -> String {
        self.crl.tbs_cert_list.issuer.to_string()
    }

    /// The authority key identifier of the CRL, when present.
    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        const AKI: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.29.35");
        let ext = self.crl.tbs_cert_list.crl_extensions.as_ref()?.iter().find(|e| e.extn_id == AKI)?;
        AuthorityKeyIdentifier::from_der(ext.extn_value.as_bytes())
            .ok()?
            .key_identifier
            .map(|k| k.as_bytes().to_vec())
    }

    /// Verify the CRL's signature with the issuer's key.
    pub fn verify_signature(&self, issuer_key: &SubjectPublicKeyInfoOwned) -> Result<String, SignatureError> {
        let tbs = sod::first_element_of_sequence(&self.der)
            .ok_or_else(|| SignatureError::Invalid("the CRL's signed part cannot be located".into()))?;
        let signature = self.crl.signature.as_bytes().ok_or_else(|| {
            SignatureError::Invalid("the CRL signature is not a whole number of bytes".into())
        })?;
        pa::verify_signature(issuer_key, &self.crl.signature_algorithm, None, tbs, signature)
    }
}

/// What one [`TrustStore::add_dir`] call loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub folder: PathBuf,
    /// CSCA certificates added from certificate files.
    pub certificates: usize,
    pub crls: usize,
    pub master_lists: usize,
    /// CSCA certificates added from master lists.
    pub master_list_certificates: usize,
    /// Certificates already in the store.
    pub duplicates: usize,
    /// Master-list entries that could not be used (unreadable or not CA).
    pub master_list_entries_skipped: usize,
    /// Files with other extensions.
    pub skipped_files: Vec<PathBuf>,
    /// New CSCA certificates per country (alpha-2, "??" when absent).
    pub by_country: BTreeMap<String, usize>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} CSCA certificate(s) from files, {} from {} master list(s), {} CRL(s), {} duplicate(s)",
            self.folder.display(),
            self.certificates,
            self.master_list_certificates,
            self.master_lists,
            self.crls,
            self.duplicates
        )?;
        if self.master_list_entries_skipped > 0 {
            write!(
                f,
                ", {} master-list entries skipped (unreadable or not CA)",
                self.master_list_entries_skipped
            )?;
        }
        if !self.skipped_files.is_empty() {
            write!(f, ", {} other file(s) ignored", self.skipped_files.len())?;
        }
        let countries: Vec<String> = self.by_country.iter().map(|(c, n)| format!("{c} {n}")).collect();
        if !countries.is_empty() {
            write!(f, "; by country: {}", countries.join(", "))?;
        }
        Ok(())
    }
}

/// What a master list contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MasterListReport {
    /// The master-list signer's subject.
    pub signer: String,
    /// The CSCA in the list that certifies the signer.
    pub signer_csca: String,
    pub entries: usize,
    pub added: usize,
    pub duplicates: usize,
    pub skipped: usize,
    pub by_country: BTreeMap<String, usize>,
}

/// `CscaMasterList ::= SEQUENCE { version CscaMasterListVersion, certList SET OF Certificate }`
#[derive(Sequence)]
#[allow(dead_code)] // the version is decoded to check the structure
struct CscaMasterListHeader {
    version: u8,
    cert_list: der::Any,
}

/// CSCA certificates and CRLs.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    cscas: Vec<TrustedCsca>,
    crls: Vec<TrustedCrl>,
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// A store holding these CSCA certificates.
    pub fn from_certificates(
        certificates: impl IntoIterator<Item = Certificate>,
    ) -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::new();
        for (i, certificate) in certificates.into_iter().enumerate() {
            let origin = format!("certificate {}", i + 1);
            let der_bytes =
                certificate.to_der().map_err(|e| invalid(&origin, format!("cannot be encoded: {e}")))?;
            store.add_certificate(ParsedCertificate { certificate, der: der_bytes }, &origin)?;
        }
        Ok(store)
    }

    /// Read every file of `folder` (not recursive) into a new store.
    pub fn load_dir(folder: impl AsRef<Path>) -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::new();
        let report = store.add_dir(folder)?;
        tracing::info!(target: "passport::trust", "trust store loaded: {report}");
        Ok(store)
    }

    /// Add every file of `folder` (not recursive), in name order.
    pub fn add_dir(&mut self, folder: impl AsRef<Path>) -> Result<LoadReport, TrustError> {
        let folder = folder.as_ref();
        let read_dir = |source| TrustError::ReadDir { path: folder.to_path_buf(), source };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(folder).map_err(read_dir)? {
            let path = entry.map_err(read_dir)?.path();
            if path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut report = LoadReport { folder: folder.to_path_buf(), ..LoadReport::default() };
        for path in paths {
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if !matches!(extension.as_str(), "der" | "cer" | "crt" | "pem" | "crl" | "ml") {
                report.skipped_files.push(path);
                continue;
            }
            let bytes =
                std::fs::read(&path).map_err(|source| TrustError::ReadFile { path: path.clone(), source })?;
            let origin = path.display().to_string();
            if extension == "ml" {
                let ml = self.add_master_list(&bytes, &origin)?;
                report.master_lists += 1;
                report.master_list_certificates += ml.added;
                report.duplicates += ml.duplicates;
                report.master_list_entries_skipped += ml.skipped;
                for (c, n) in ml.by_country {
                    *report.by_country.entry(c).or_default() += n;
                }
                continue;
            }
            for (label, der_bytes) in der_objects(&bytes, &origin)? {
                let is_crl = label.as_deref() == Some("X509 CRL") || (label.is_none() && extension == "crl");
                if is_crl {
                    self.add_crl_der(&der_bytes, &origin)?;
                    report.crls += 1;
                } else if matches!(label.as_deref(), None | Some("CERTIFICATE")) {
                    let certificate = ParsedCertificate::from_der(&der_bytes)
                        .map_err(|e| invalid(&origin, format!("not a DER X.509 certificate: {e}")))?;
                    let country = country_key(&certificate);
                    if self.add_certificate(certificate, &origin)? {
                        report.certificates += 1;
                        *report.by_country.entry(country).or_default() += 1;
                    } else {
                        report.duplicates += 1;
                    }
                } else if let Some(other) = label {
                    return Err(invalid(
                        &origin,
                        format!("holds a PEM {other:?} block; expected CERTIFICATE or X509 CRL"),
                    ));
                }
            }
        }
        Ok(report)
    }

    /// Add a CSCA certificate; `false` if it was already present. Refuses a
    /// certificate that is not a CA (a DS certificate put here by mistake).
    pub fn add_certificate(
        &mut self,
        certificate: ParsedCertificate,
        origin: &str,
    ) -> Result<bool, TrustError> {
        if let Err(problem) = check_is_ca(&certificate) {
            return Err(invalid(origin, format!("{} is not a CSCA: {problem}", certificate.subject())));
        }
        if self.cscas.iter().any(|c| c.certificate.der == certificate.der) {
            return Ok(false);
        }
        self.cscas.push(TrustedCsca { certificate, source: origin.to_string() });
        Ok(true)
    }

    /// Add a CSCA certificate from DER.
    pub fn add_certificate_der(&mut self, der_bytes: &[u8], origin: &str) -> Result<bool, TrustError> {
        let certificate = ParsedCertificate::from_der(der_bytes)
            .map_err(|e| invalid(origin, format!("not a DER X.509 certificate: {e}")))?;
        self.add_certificate(certificate, origin)
    }

    /// Add a CRL. Its signature is checked against the issuing CSCA during
    /// Passive Authentication (the CSCA may be loaded later).
    pub fn add_crl(&mut self, crl: TrustedCrl) {
        if !self.crls.iter().any(|c| c.der == crl.der) {
            self.crls.push(crl);
        }
    }

    /// Add a CRL from DER.
    pub fn add_crl_der(&mut self, der_bytes: &[u8], origin: &str) -> Result<(), TrustError> {
        self.add_crl(TrustedCrl::from_der(der_bytes, origin)?);
        Ok(())
    }

    /// Verify an ICAO CSCA master list and add its CSCA certificates.
    pub fn add_master_list(&mut self, bytes: &[u8], origin: &str) -> Result<MasterListReport, TrustError> {
        let der_bytes = match pem_blocks(bytes) {
            Some(blocks) if !blocks.is_empty() => {
                let mut blocks = blocks.into_iter();
                match blocks.next() {
                    Some((_, d)) => d.map_err(|e| invalid(origin, e))?,
                    None => return Err(invalid(origin, "empty master list")),
                }
            }
            _ => bytes.to_vec(),
        };
        let (entries, report_base) = verify_master_list(&der_bytes, origin)?;
        let mut report = MasterListReport { entries: entries.len(), ..report_base };
        let source = format!("master list {origin}");
        for entry in entries {
            match entry {
                Some(certificate) if check_is_ca(&certificate).is_ok() => {
                    let country = country_key(&certificate);
                    if self.add_certificate(certificate, &source)? {
                        report.added += 1;
                        *report.by_country.entry(country).or_default() += 1;
                    } else {
                        report.duplicates += 1;
                    }
                }
                _ => report.skipped += 1,
            }
        }
        Ok(report)
    }

    pub fn cscas(&self) -> &[TrustedCsca] {
        &self.cscas
    }

    pub fn crls(&self) -> &[TrustedCrl] {
        &self.crls
    }

    /// Number of CSCA certificates.
    pub fn len(&self) -> usize {
        self.cscas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cscas.is_empty()
    }

    /// CSCAs that may have issued `certificate`: subject = its issuer, and
    /// subject key identifier = its authority key identifier when both exist.
    pub fn issuer_candidates(&self, certificate: &ParsedCertificate) -> Vec<&TrustedCsca> {
        let issuer = certificate.certificate.tbs_certificate().issuer();
        let aki = certificate.authority_key_id();
        self.cscas
            .iter()
            .filter(|c| c.certificate.subject_matches(issuer))
            .filter(|c| match (&aki, c.certificate.subject_key_id()) {
                (Some(aki), Some(ski)) => *aki == ski,
                _ => true,
            })
            .collect()
    }

    /// CRLs issued by `csca` (issuer name, and key identifier when the CRL has one).
    pub fn crls_for(&self, csca: &TrustedCsca) -> Vec<&TrustedCrl> {
        let ski = csca.certificate.subject_key_id();
        self.crls
            .iter()
            .filter(|crl| csca.certificate.subject_matches(&crl.crl.tbs_cert_list.issuer))
            .filter(|crl| match (crl.authority_key_id(), &ski) {
                (Some(aki), Some(ski)) => aki == *ski,
                _ => true,
            })
            .collect()
    }

    /// CSCA certificates per country (alpha-2, "??" when absent).
    pub fn counts_by_country(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.cscas {
            *counts.entry(country_key(&c.certificate)).or_default() += 1;
        }
        counts
    }
}

fn country_key(certificate: &ParsedCertificate) -> String {
    certificate.subject_country().unwrap_or_else(|| "??".to_string())
}

/// A CSCA must be a CA that may sign certificates. Old certificates without
/// the extensions are accepted; explicit contrary extensions are not.
fn check_is_ca(certificate: &ParsedCertificate) -> Result<(), String> {
    let tbs = certificate.certificate.tbs_certificate();
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if !bc.ca => return Err("BasicConstraints says it is not a CA".into()),
        Err(e) => return Err(format!("malformed BasicConstraints: {e}")),
        _ => {}
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => Err("its key usage does not include keyCertSign".into()),
        Err(e) => Err(format!("malformed KeyUsage: {e}")),
        _ => Ok(()),
    }
}

/// Verify a master list; returns its entries (None: unreadable) and the
/// signer information.
fn verify_master_list(
    der_bytes: &[u8],
    origin: &str,
) -> Result<(Vec<Option<ParsedCertificate>>, MasterListReport), TrustError> {
    let cms =
        SignedCms::parse(der_bytes).map_err(|e| invalid(origin, format!("not a CSCA master list: {e}")))?;
    if cms.content_type != oid::ICAO_CSCA_MASTER_LIST {
        return Err(invalid(
            origin,
            format!(
                "the signed content is {}, not a CSCA master list ({})",
                cms.content_type,
                oid::ICAO_CSCA_MASTER_LIST
            ),
        ));
    }
    let header = CscaMasterListHeader::from_der(&cms.content)
        .map_err(|e| invalid(origin, format!("the CscaMasterList is malformed: {e}")))?;
    if header.cert_list.tag() != der::Tag::Set {
        return Err(invalid(origin, "the CscaMasterList certList is not a SET OF Certificate"));
    }
    let mut entries = Vec::new();
    let mut rest = header.cert_list.value();
    while !rest.is_empty() {
        let t = Tlv::parse(rest)
            .map_err(|e| invalid(origin, format!("the CscaMasterList certList is malformed: {e}")))?;
        let raw = rest.get(..t.encoded_len).unwrap_or_default();
        // Real lists hold the odd certificate a strict DER parser refuses:
        // skip it (counted) rather than losing the whole list.
        entries.push(ParsedCertificate::from_der(raw).ok());
        rest = rest.get(t.encoded_len..).unwrap_or_default();
    }

    let signer = cms.signer_certificate().ok_or_else(|| {
        invalid(
            origin,
            format!(
                "the master list does not carry its signer's certificate ({})",
                cms.signer_identifier_text()
            ),
        )
    })?;
    // Signed attributes: the content type and the digest of the content.
    match cms.content_type_attribute() {
        Ok(Some(ct)) if ct == oid::ICAO_CSCA_MASTER_LIST => {}
        Ok(None) if cms.signer.signed_attrs.is_none() => {}
        _ => {
            return Err(invalid(
                origin,
                "the signed contentType attribute is missing or not a CSCA master list",
            ));
        }
    }
    let digest_hint = HashAlgorithm::from_oid(&cms.signer.digest_alg.oid);
    if cms.signer.signed_attrs.is_some() {
        let hash = digest_hint.ok_or_else(|| {
            invalid(
                origin,
                format!("the master list digest algorithm {} is not supported", cms.signer.digest_alg.oid),
            )
        })?;
        match cms.message_digest_attribute() {
            Ok(Some(d)) if d == hash.digest(&cms.content) => {}
            _ => {
                return Err(invalid(
                    origin,
                    "the messageDigest attribute does not match the list: the list was altered",
                ));
            }
        }
    }
    let signed = cms.signed_attributes_der.as_deref().unwrap_or(&cms.content);
    pa::verify_signature(
        signer.certificate.tbs_certificate().subject_public_key_info(),
        &cms.signer.signature_algorithm,
        digest_hint,
        signed,
        cms.signer.signature.as_bytes(),
    )
    .map_err(|e| {
        invalid(origin, format!("the master list signature does not verify with its signer certificate: {e}"))
    })?;

    // The signer must be certified by a CSCA of the list.
    let signer_issuer = signer.certificate.tbs_certificate().issuer();
    let signer_aki = signer.authority_key_id();
    let signer_csca = entries
        .iter()
        .flatten()
        .filter(|c| c.subject_matches(signer_issuer))
        .filter(|c| match (&signer_aki, c.subject_key_id()) {
            (Some(aki), Some(ski)) => *aki == ski,
            _ => true,
        })
        .find(|c| pa::verify_certificate_signature(signer, c.certificate.tbs_certificate().subject_public_key_info()).is_ok())
        .ok_or_else(|| {
            invalid(
                origin,
                format!(
                    "the master-list signer {} is not certified by any CSCA in the list (issuer {signer_issuer})",
                    signer.subject()
                ),
            )
        })?;
    let report = MasterListReport {
        signer: signer.subject(),
        signer_csca: signer_csca.subject(),
        ..MasterListReport::default()
    };
    Ok((entries, report))
}

type PemBlock = (String, Result<Vec<u8>, String>);

/// PEM blocks of `bytes`, or `None` if the data are not PEM text.
fn pem_blocks(bytes: &[u8]) -> Option<Vec<PemBlock>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.contains("-----BEGIN ") {
        return None;
    }
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let from_begin = rest.get(start..).unwrap_or_default();
        let Some(label_end) = from_begin.get(11..).and_then(|s| s.find("-----")) else { break };
        let label = from_begin.get(11..11 + label_end).unwrap_or_default().to_string();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = from_begin.find(&end_marker) else {
            blocks.push((label.clone(), Err(format!("PEM block {label:?} has no END line"))));
            break;
        };
        let block = from_begin.get(..end + end_marker.len()).unwrap_or_default();
        let decoded = der::pem::decode_vec(block.as_bytes())
            .map(|(_, d)| d)
            .map_err(|e| format!("PEM block {label:?} is malformed: {e}"));
        blocks.push((label, decoded));
        rest = from_begin.get(end + end_marker.len()..).unwrap_or_default();
    }
    Some(blocks)
}

/// A DER object of a file and its PEM label (`None` for a DER file).
type DerObject = (Option<String>, Vec<u8>);

/// The DER objects of a file: each PEM block with its label, or the whole
/// file as DER.
fn der_objects(bytes: &[u8], origin: &str) -> Result<Vec<DerObject>, TrustError> {
    match pem_blocks(bytes) {
        Some(blocks) => {
            if blocks.is_empty() {
                return Err(invalid(origin, "PEM file without any block"));
            }
            blocks
                .into_iter()
                .map(|(label, d)| d.map(|d| (Some(label), d)).map_err(|e| invalid(origin, e)))
                .collect()
        }
        None => {
            if bytes.first() != Some(&0x30) {
                return Err(invalid(origin, "neither PEM text nor a DER SEQUENCE"));
            }
            Ok(vec![(None, bytes.to_vec())])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_split() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n\
                    -----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
        let blocks = pem_blocks(text.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0], ("CERTIFICATE".to_string(), Ok(vec![0x30, 0x00])));
        assert_eq!(blocks[1].0, "X509 CRL");
        assert!(pem_blocks(&[0x30, 0x03]).is_none());
        let broken = pem_blocks(b"-----BEGIN CERTIFICATE-----\nMAA=\n").unwrap();
        assert!(broken[0].1.is_err());
        assert!(pem_blocks(b"-----BEGIN ").unwrap().is_empty());
    }

    #[test]
    fn bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readme.txt"), "not trust material").unwrap();
        let mut store = TrustStore::new();
        let report = store.add_dir(dir.path()).unwrap();
        assert_eq!(report.skipped_files.len(), 1);
        assert!(store.is_empty());

        std::fs::write(dir.path().join("broken.cer"), [0x30, 0x03, 1, 2, 3]).unwrap();
        let err = TrustStore::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("broken.cer") && err.contains("not a DER X.509 certificate"), "{err}");

        std::fs::remove_file(dir.path().join("broken.cer")).unwrap();
        std::fs::write(dir.path().join("list.ml"), [0x30, 0x00]).unwrap();
        let err = TrustStore::load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("list.ml") && err.contains("master list"), "{err}");

        let missing = TrustStore::load_dir(dir.path().join("nope")).unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    #[test]
    fn garbage_master_lists_never_panic() {
        let mut store = TrustStore::new();
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        for len in 0..200usize {
            let mut buf = vec![0x30, 0x81];
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                buf.push(state as u8);
            }
            assert!(store.add_master_list(&buf, "fuzz").is_err());
            let _ = store.add_crl_der(&buf, "fuzz");
            let _ = store.add_certificate_der(&buf, "fuzz");
        }
    }
}
