//! The passport issuer: personalises a chip image the way a state's
//! personalisation line does, in the kiosk's own LDS formats: EF.COM, DG1,
//! DG2, DG14 (Chip Authentication key, Active Authentication info), DG15 (Active
//! Authentication key), EF.CardAccess (PACE), and an EF.SOD really signed by
//! the country's Document Signer ([`crate::pki`]). The chip's private keys go
//! into the image's secret part, which only the virtual chip reads.
//!
//! Fault options make the documents a kiosk must catch: a tampered data group,
//! a broken SOD signature, a cloned chip, and chips that offer only PACE or
//! only BAC.

use std::collections::BTreeMap;

use der::Decode as _;
use kiosk::passport::aa::AaPrivateKey;
use kiosk::passport::ca::{CaPrivateKey, EcCurve};
use kiosk::passport::chip_image::{ChipImage, ChipImageError, FID_CARD_ACCESS};
use kiosk::passport::lds::{self, EfCom, FacePortrait, ImageDataType, fid};
use kiosk::passport::mrz::Td3Fields;
use kiosk::passport::oid;
use kiosk::passport::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PaceInfo,
    SecurityInfo, SecurityInfos,
};
use spki::SubjectPublicKeyInfoOwned;

use crate::pki::{PkiError, TestPki};

/// The holder data printed on the data page and stored on the chip.
pub type PassportData = Td3Fields;

/// Which access protocols the chip answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChipAccess {
    /// EF.CardAccess offers PACE and the chip still answers BAC (most
    /// passports issued since 2014).
    #[default]
    PaceAndBac,
    /// PACE only: BAC is refused (6A88/6985).
    PaceOnly,
    /// BAC only: no EF.CardAccess (older passports).
    BacOnly,
}

impl ChipAccess {
    pub fn parse(s: &str) -> Option<ChipAccess> {
        match s {
            "pace-and-bac" => Some(ChipAccess::PaceAndBac),
            "pace-only" => Some(ChipAccess::PaceOnly),
            "bac-only" => Some(ChipAccess::BacOnly),
            _ => None,
        }
    }
}

/// A deliberate defect, for the documents a kiosk must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipFault {
    /// DG2 altered after the SOD was signed (a substituted portrait).
    TamperedDg2,
    /// The SOD signature does not verify.
    BadSodSignature,
    /// Genuine files copied onto another chip: its AA and CA keys are not
    /// the ones DG14 and DG15 announce.
    ClonedChip,
}

impl ChipFault {
    pub fn parse(s: &str) -> Option<ChipFault> {
        match s {
            "tampered-dg2" => Some(ChipFault::TamperedDg2),
            "bad-sod-signature" => Some(ChipFault::BadSodSignature),
            "cloned-chip" => Some(ChipFault::ClonedChip),
            _ => None,
        }
    }
}

/// How to personalise the chip.
#[derive(Debug, Clone)]
pub struct ChipOptions {
    pub access: ChipAccess,
    /// The PACE protocol EF.CardAccess offers, with its standardised domain
    /// parameter ID (default: ECDH-GM AES-128 on brainpoolP256r1, ID 13).
    pub pace_protocol: der::asn1::ObjectIdentifier,
    pub pace_parameter_id: u8,
    /// Chip Authentication key in DG14 (ECDH on this curve); `None`: no CA.
    pub chip_authentication: Option<EcCurve>,
    /// Active Authentication key in DG15; `None`: no AA.
    pub active_authentication: Option<AaKeyKind>,
    pub fault: Option<ChipFault>,
}

impl Default for ChipOptions {
    fn default() -> Self {
        ChipOptions {
            access: ChipAccess::default(),
            pace_protocol: oid::PACE_ECDH_GM_AES_128,
            pace_parameter_id: 13,
            chip_authentication: Some(EcCurve::BrainpoolP256r1),
            active_authentication: Some(AaKeyKind::EcdsaP256),
            fault: None,
        }
    }
}

/// The Active Authentication key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaKeyKind {
    /// ECDSA on P-256 with SHA-256 (ActiveAuthenticationInfo in DG14).
    EcdsaP256,
    /// RSA 1024 with ISO/IEC 9796-2 (the classic AA of older passports).
    Rsa1024,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the passport's PKI failed: {0}")]
    Pki(#[from] PkiError),
    #[error("the chip image cannot hold a key: {0}")]
    ChipImage(#[from] ChipImageError),
    #[error("cannot make the chip's {what}: {problem}")]
    Key { what: &'static str, problem: String },
    #[error("issuing state {state} is not the PKI's country {pki}: Passive Authentication would fail")]
    WrongCountry { state: String, pki: String },
}

fn key_err(what: &'static str) -> impl Fn(String) -> IssueError {
    move |problem| IssueError::Key { what, problem }
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// The EF.COM, DG1 and DG2 of a passport (no security files): the LDS core
/// the issuer signs.
fn core_files(data: &PassportData, portrait: &FacePortrait) -> BTreeMap<u16, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(fid::DG1, lds::encode_dg1(&data.mrz_lines()));
    files.insert(fid::DG2, lds::encode_dg2(portrait));
    files
}

/// Personalise a chip: files, SOD signed by `pki`'s Document Signer, keys.
pub fn issue_passport(
    data: &PassportData,
    portrait: FacePortrait,
    pki: &TestPki,
    options: &ChipOptions,
) -> Result<ChipImage, IssueError> {
    let alpha2 = kiosk::passport::countries::alpha2_for(&data.issuing_state);
    if alpha2 != Some(pki.country.as_str()) {
        return Err(IssueError::WrongCountry { state: data.issuing_state.clone(), pki: pki.country.clone() });
    }
    let mut chip = ChipImage { files: core_files(data, &portrait), ..ChipImage::default() };
    let mut tags = vec![0x61, 0x75];

    // DG14 / DG15: the chip's public keys; the private ones stay in the chip.
    let mut dg14 = Vec::new();
    if let Some(curve) = options.chip_authentication {
        let key = CaPrivateKey::generate(curve, &mut rng());
        let spki_der = key.public_key_info_der().map_err(|e| key_err("CA key")(e.to_string()))?;
        let public_key =
            SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(|e| key_err("CA key")(e.to_string()))?;
        dg14.push(SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
            protocol: oid::PK_ECDH,
            public_key,
            key_id: None,
        }));
        dg14.push(SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
            protocol: oid::CA_ECDH_AES_128,
            version: 1,
            key_id: None,
        }));
        let chip_key = if options.fault == Some(ChipFault::ClonedChip) {
            CaPrivateKey::generate(curve, &mut rng())
        } else {
            key
        };
        chip.chip.set_ca_key(&chip_key)?;
    }
    if let Some(kind) = options.active_authentication {
        let generate = || match kind {
            AaKeyKind::EcdsaP256 => Ok(AaPrivateKey::generate_ec(EcCurve::P256, &mut rng())),
            AaKeyKind::Rsa1024 => {
                AaPrivateKey::generate_rsa(1024, &mut rng()).map_err(|e| key_err("AA key")(e.to_string()))
            }
        };
        let key = generate()?;
        let dg15 = key.public_key().to_dg15().map_err(|e| key_err("DG15")(e.to_string()))?;
        chip.files.insert(fid::DG15, dg15);
        tags.push(0x6F);
        if kind == AaKeyKind::EcdsaP256 {
            dg14.push(SecurityInfo::ActiveAuthentication(ActiveAuthenticationInfo {
                version: 1,
                signature_algorithm: oid::ECDSA_PLAIN_SHA256,
            }));
        }
        let chip_key = if options.fault == Some(ChipFault::ClonedChip) { generate()? } else { key };
        chip.chip.set_aa_key(&chip_key)?;
    }
    if !dg14.is_empty() {
        let bytes =
            lds::encode_dg14(&SecurityInfos { infos: dg14 }).map_err(|e| key_err("DG14")(e.to_string()))?;
        chip.files.insert(fid::DG14, bytes);
        tags.push(0x6E);
    }
    tags.sort_unstable();
    let com = EfCom { lds_version: "0108".into(), unicode_version: "040000".into(), tags };
    chip.files.insert(fid::EF_COM, com.encode());

    // EF.SOD over every data group.
    let groups: BTreeMap<u8, Vec<u8>> = chip
        .files
        .iter()
        .filter_map(|(f, bytes)| lds::DataGroup::from_fid(*f).map(|g| (g.number(), bytes.clone())))
        .collect();
    let mut sod = pki.try_sign_sod(&groups)?;
    match options.fault {
        Some(ChipFault::BadSodSignature) => {
            // The signature value is the SOD's last field: flip its last byte.
            if let Some(last) = sod.last_mut() {
                *last ^= 0x01;
            }
        }
        Some(ChipFault::TamperedDg2) => {
            let mut altered = portrait.clone();
            let middle = altered.image.len() / 2;
            if let Some(b) = altered.image.get_mut(middle) {
                *b ^= 0x55;
            }
            chip.files.insert(fid::DG2, lds::encode_dg2(&altered));
        }
        _ => {}
    }
    chip.files.insert(fid::EF_SOD, sod);

    if options.access != ChipAccess::BacOnly {
        let infos = SecurityInfos {
            infos: vec![SecurityInfo::Pace(PaceInfo {
                protocol: options.pace_protocol,
                version: 2,
                parameter_id: Some(options.pace_parameter_id),
            })],
        };
        chip.files
            .insert(FID_CARD_ACCESS, infos.encode().map_err(|e| key_err("EF.CardAccess")(e.to_string()))?);
    }
    chip.chip.bac = options.access != ChipAccess::PaceOnly;
    Ok(chip)
}

/// A JPEG portrait for DG2.
pub fn jpeg_portrait(jpeg: Vec<u8>, width: u16, height: u16) -> FacePortrait {
    FacePortrait { data_type: ImageDataType::Jpeg, width, height, image: jpeg }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{PkiOptions, SignatureScheme};
    use kiosk::passport::PassportReader;
    use kiosk::passport::sim::{PassportSlot, PlacedDocument, SimulatedPassportReader};
    use std::sync::Arc;

    #[test]
    fn the_kiosk_reads_and_authenticates_what_the_issuer_wrote() {
        let data = PassportData {
            issuing_state: "JPN".into(),
            surname: "SATO".into(),
            given_names: "KEN".into(),
            document_number: "TR0001234".into(),
            nationality: "JPN".into(),
            date_of_birth: "880214".into(),
            sex: 'M',
            date_of_expiry: "330101".into(),
        };
        let pki = TestPki::generate("JP", SignatureScheme::EcdsaP256Sha256, &PkiOptions::default()).unwrap();
        let chip = issue_passport(
            &data,
            jpeg_portrait(vec![0xFF, 0xD8, 0xFF, 0xD9], 10, 12),
            &pki,
            &ChipOptions::default(),
        )
        .unwrap();
        let slot = PassportSlot::default();
        slot.place(PlacedDocument { page_mrz: data.mrz_lines().join("\n"), chip });
        let read = SimulatedPassportReader::new(slot, Arc::new(pki.trust_store().unwrap())).read().unwrap();
        assert!(read.is_consistent());
        assert_eq!(read.chip_mrz.document_number, "TR0001234");
        assert_eq!((read.portrait.width, read.portrait.height), (10, 12));
        let auth = &read.authentication;
        assert!(auth.passive.verdict.is_passed(), "{}", auth.passive.summary());
        assert!(auth.chip_authentication.is_passed(), "{}", auth.chip_authentication);
        assert!(auth.active_authentication.is_passed(), "{}", auth.active_authentication);
        assert_eq!(read.access, "pace");
    }
}
