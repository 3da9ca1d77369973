//! Issue 3 acceptance: every fault the issuer can make is caught by the
//! kiosk's reader, reading the virtual chip over real APDUs.

use std::sync::OnceLock;

use declaration_app_sim::issuer::{self, AaKeyKind, ChipAccess, ChipFault, ChipOptions, PassportData};
use declaration_app_sim::pki::{DsValidity, PkiOptions, SignatureScheme, TestPki};
use kiosk::passport::chip::{ChipFaults, ChipProfile, VirtualChip};
use kiosk::passport::chip_image::ChipImage;
use kiosk::passport::lds::{FacePortrait, ImageDataType};
use kiosk::passport::oid;
use kiosk::passport::reader::{ChipRead, ReadError, ReadOptions, read_chip};
use kiosk::passport::trust::TrustStore;

fn data() -> PassportData {
    PassportData {
        issuing_state: "JPN".into(),
        surname: "SUZUKI".into(),
        given_names: "HANA".into(),
        document_number: "TK1234567".into(),
        nationality: "JPN".into(),
        date_of_birth: "900101".into(),
        sex: 'F',
        date_of_expiry: "340101".into(),
    }
}

fn portrait() -> FacePortrait {
    // A real JPEG of about 20 kB, the size of a chip portrait.
    let pixels: Vec<u8> = (0..240 * 320 * 3)
        .map(|i| {
            let (x, y) = ((i / 3) % 240, (i / 3) / 240);
            ((x * 3 + y * 2) / 4 + (x * y % 17) * 3) as u8
        })
        .collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 60)
        .encode(&pixels, 240, 320, image::ExtendedColorType::Rgb8)
        .unwrap();
    FacePortrait { data_type: ImageDataType::Jpeg, width: 240, height: 320, image: jpeg }
}

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        TestPki::generate("JP", SignatureScheme::EcdsaP256Sha256, &PkiOptions::default()).unwrap()
    })
}

fn trust() -> TrustStore {
    pki().trust_store().unwrap()
}

fn issue(options: ChipOptions) -> ChipImage {
    issuer::issue_passport(&data(), portrait(), pki(), &options).unwrap()
}

fn read_with(chip: VirtualChip, trust: &TrustStore, mrz_information: &str) -> Result<ChipRead, ReadError> {
    let mut chip = chip;
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    read_chip(&mut chip, mrz_information, trust, &ReadOptions::default(), &mut rng)
}

fn read(image: &ChipImage) -> ChipRead {
    let key = kiosk::passport::mrz::Mrz::parse(&data().mrz_lines().join("\n")).unwrap().key_information();
    read_with(VirtualChip::new(image).unwrap(), &trust(), &key).unwrap()
}

fn mrz_key() -> String {
    kiosk::passport::mrz::Mrz::parse(&data().mrz_lines().join("\n")).unwrap().key_information()
}

#[test]
fn a_genuine_passport_passes_every_check() {
    let r = read(&issue(ChipOptions::default()));
    let a = &r.authentication;
    assert!(a.passive.verdict.is_passed(), "{}", a.passive.summary());
    assert!(a.chip_authentication.is_passed(), "{}", a.chip_authentication);
    assert!(a.active_authentication.is_passed(), "{}", a.active_authentication);
    assert_eq!(r.access.name(), "pace");
    assert_eq!(r.dg1.document_number, "TK1234567");
    assert!((12_000..40_000).contains(&r.portrait.image.len()), "{}", r.portrait.image.len());
    // A 20 kB DG2 in one extended READ BINARY (plus the header read).
    assert_eq!(r.link.reconnects, 0);
}

#[test]
fn tampered_dg2_fails_passive_authentication() {
    let r = read(&issue(ChipOptions { fault: Some(ChipFault::TamperedDg2), ..ChipOptions::default() }));
    assert!(r.authentication.passive.verdict.is_failed(), "{}", r.authentication.passive.summary());
    assert!(
        r.authentication.passive.summary().contains("DG2")
            || r.authentication.passive.summary().contains("2")
    );
    // The chip itself is genuine.
    assert!(r.authentication.chip_authentication.is_passed());
}

#[test]
fn a_bad_sod_signature_fails_passive_authentication() {
    let r = read(&issue(ChipOptions { fault: Some(ChipFault::BadSodSignature), ..ChipOptions::default() }));
    assert!(r.authentication.passive.verdict.is_failed(), "{}", r.authentication.passive.summary());
}

#[test]
fn a_cloned_chip_fails_chip_and_active_authentication() {
    let r = read(&issue(ChipOptions { fault: Some(ChipFault::ClonedChip), ..ChipOptions::default() }));
    let a = &r.authentication;
    // The data are genuine copies: PA passes; the chip is not the original.
    assert!(a.passive.verdict.is_passed(), "{}", a.passive.summary());
    assert!(a.chip_authentication.is_failed(), "{}", a.chip_authentication);
    assert!(a.active_authentication.is_failed(), "{}", a.active_authentication);
    assert!(a.chip_clone_suspected());
}

#[test]
fn an_unknown_csca_fails_passive_authentication() {
    let other = TestPki::generate("JP", SignatureScheme::EcdsaP256Sha256, &PkiOptions::default()).unwrap();
    let image = issue(ChipOptions::default());
    let r = read_with(VirtualChip::new(&image).unwrap(), &other.trust_store().unwrap(), &mrz_key()).unwrap();
    assert!(r.authentication.passive.verdict.is_failed(), "{}", r.authentication.passive.summary());
    let empty = read_with(VirtualChip::new(&image).unwrap(), &TrustStore::new(), &mrz_key()).unwrap();
    assert!(!empty.authentication.passive.verdict.is_passed());
}

#[test]
fn an_expired_document_signer_fails_passive_authentication() {
    let options = PkiOptions { ds_validity: DsValidity::Expired, ..PkiOptions::default() };
    let expired = TestPki::generate("JP", SignatureScheme::EcdsaP256Sha256, &options).unwrap();
    let image = issuer::issue_passport(&data(), portrait(), &expired, &ChipOptions::default()).unwrap();
    let r =
        read_with(VirtualChip::new(&image).unwrap(), &expired.trust_store().unwrap(), &mrz_key()).unwrap();
    assert!(r.authentication.passive.verdict.is_failed(), "{}", r.authentication.passive.summary());
}

#[test]
fn a_pace_only_chip_is_read_by_pace() {
    let r = read(&issue(ChipOptions { access: ChipAccess::PaceOnly, ..ChipOptions::default() }));
    assert_eq!(r.access.name(), "pace");
    assert!(r.authentication.passive.verdict.is_passed());
}

#[test]
fn without_ef_card_access_the_reader_uses_bac() {
    let r = read(&issue(ChipOptions {
        access: ChipAccess::BacOnly,
        active_authentication: Some(AaKeyKind::Rsa1024),
        ..ChipOptions::default()
    }));
    assert_eq!(r.access.name(), "bac");
    let a = &r.authentication;
    assert!(a.passive.verdict.is_passed(), "{}", a.passive.summary());
    assert!(a.active_authentication.is_passed(), "RSA ISO 9796-2 AA: {}", a.active_authentication);
    assert!(a.chip_authentication.is_passed(), "CA after BAC: {}", a.chip_authentication);
}

#[test]
fn pace_cam_proves_the_chip_inside_pace() {
    let r = read(&issue(ChipOptions {
        access: ChipAccess::PaceOnly,
        pace_protocol: oid::PACE_ECDH_CAM_AES_128,
        ..ChipOptions::default()
    }));
    assert_eq!(r.access.name(), "pace-cam");
    assert!(r.authentication.chip_authentication.is_passed(), "{}", r.authentication.chip_authentication);
}

#[test]
fn a_dropped_link_is_resumed_and_the_read_completes() {
    let image = issue(ChipOptions::default());
    // The link drops twice in the middle of DG2.
    let chip = VirtualChip::new(&image).unwrap().with_faults(ChipFaults::drop_link(9_000, 2));
    let r = read_with(chip, &trust(), &mrz_key()).unwrap();
    assert!(r.link.reconnects >= 1, "{:?}", r.link);
    assert!(r.authentication.passive.verdict.is_passed(), "{}", r.authentication.passive.summary());
    assert!(r.authentication.chip_authentication.is_passed());
    // Too many drops: a clear error, not a partial read.
    let chip = VirtualChip::new(&image).unwrap().with_faults(ChipFaults::drop_link(2_000, 50));
    assert!(matches!(read_with(chip, &trust(), &mrz_key()), Err(ReadError::LinkLost(..))));
}

#[test]
fn a_short_apdu_chip_is_read_in_223_byte_chunks() {
    let image = issue(ChipOptions::default());
    let chip = VirtualChip::with_profile(&image, ChipProfile::short_only()).unwrap();
    let r = read_with(chip, &trust(), &mrz_key()).unwrap();
    assert!(r.authentication.passive.verdict.is_passed(), "{}", r.authentication.passive.summary());
    assert!(r.link.apdus > 80, "{:?}", r.link);
}

#[test]
fn a_wrong_data_page_is_refused_by_the_chip() {
    let image = issue(ChipOptions::default());
    let mut other = data();
    other.document_number = "TK7654321".into();
    let key = kiosk::passport::mrz::Mrz::parse(&other.mrz_lines().join("\n")).unwrap().key_information();
    let err = read_with(VirtualChip::new(&image).unwrap(), &trust(), &key).unwrap_err();
    assert!(matches!(err, ReadError::Pace(_)), "{err}");
}
