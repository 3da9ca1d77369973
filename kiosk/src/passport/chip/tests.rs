//! The virtual chip read through real APDUs by the reader-side protocols
//! (BAC, PACE, secure messaging, AA, CA), and its behaviour on faults and
//! garbage.

use der::Decode as _;
use der::asn1::ObjectIdentifier as Oid;
use spki::SubjectPublicKeyInfoOwned;

use super::*;
use crate::passport::aa::tests::rsa_keys;
use crate::passport::aa::{self, AaPrivateKey};
use crate::passport::apdu::{
    CommandApdu, EMRTD_AID, ResponseApdu, read_binary, select_application, select_file, select_master_file,
    sw,
};
use crate::passport::bac::{self, BacError};
use crate::passport::ca::{self, CaPrivateKey, CaSession, EcCurve};
use crate::passport::lds::{self, EfCom, FacePortrait, ImageDataType};
use crate::passport::oid;
use crate::passport::pace::{self, PaceParams, PacePassword};
use crate::passport::security_infos::{
    ActiveAuthenticationInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, PaceInfo,
    SecurityInfo, SecurityInfos,
};
use crate::passport::sm::{SecureMessaging, SmError};
use crate::passport::verdict::Verdict;

const MRZ: [&str; 2] =
    ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
const BIG_FID: u16 = 0x0107;
const BIG_LEN: usize = 40_000;

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn mrz_information() -> String {
    lds::parse_dg1(&lds::encode_dg1(&MRZ.map(String::from))).unwrap().key_information()
}

fn jpeg() -> Vec<u8> {
    let pixels: Vec<u8> = (0..16 * 16 * 3).map(|i| (i * 7) as u8).collect();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode(&pixels, 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// What the test chip is: its secrets, and what its files announce.
struct Fixture {
    bac: bool,
    /// The PACE protocol EF.CardAccess offers (with brainpoolP256r1).
    pace: Option<Oid>,
    /// The chip's AA key, and the key DG15 holds (a clone copies DG15 only).
    aa: Option<AaPrivateKey>,
    dg15: Option<AaPrivateKey>,
    /// ActiveAuthenticationInfo in DG14.
    aa_info: Option<Oid>,
    /// The chip's CA key, the key DG14 holds, and the CA protocol.
    ca: Option<CaPrivateKey>,
    dg14: Option<CaPrivateKey>,
    ca_protocol: Oid,
    ca_key_id: Option<u64>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture {
            bac: true,
            pace: None,
            aa: None,
            dg15: None,
            aa_info: None,
            ca: None,
            dg14: None,
            ca_protocol: oid::CA_ECDH_3DES,
            ca_key_id: None,
        }
    }
}

impl Fixture {
    fn with_aa(key: &AaPrivateKey) -> Fixture {
        Fixture { aa: Some(key.clone()), dg15: Some(key.clone()), ..Fixture::default() }
    }

    fn with_ca(curve: EcCurve, protocol: Oid) -> Fixture {
        let key = CaPrivateKey::generate(curve, &mut rng());
        Fixture { ca: Some(key.clone()), dg14: Some(key), ca_protocol: protocol, ..Fixture::default() }
    }

    fn image(&self) -> ChipImage {
        let mut img = ChipImage::default();
        let com =
            EfCom { lds_version: "0108".into(), unicode_version: "040000".into(), tags: vec![0x61, 0x75] };
        img.files.insert(fid::EF_COM, com.encode());
        img.files.insert(fid::DG1, lds::encode_dg1(&MRZ.map(String::from)));
        let portrait = FacePortrait { data_type: ImageDataType::Jpeg, width: 16, height: 16, image: jpeg() };
        img.files.insert(fid::DG2, lds::encode_dg2(&portrait));
        // DG7, as a big TLV file (offsets above 32767 need READ BINARY B1).
        let content: Vec<u8> = (0..BIG_LEN - 4).map(|i| (i % 251) as u8).collect();
        img.files.insert(BIG_FID, crate::passport::tlv::encode(0x67, &content));
        if let Some(protocol) = self.pace {
            let infos = SecurityInfos {
                infos: vec![SecurityInfo::Pace(PaceInfo { protocol, version: 2, parameter_id: Some(13) })],
            };
            img.files.insert(FID_CARD_ACCESS, infos.encode().unwrap());
        }
        let mut dg14 = Vec::new();
        if let Some(key) = &self.dg14 {
            let spki = SubjectPublicKeyInfoOwned::from_der(&key.public_key_info_der().unwrap()).unwrap();
            dg14.push(SecurityInfo::ChipAuthenticationPublicKey(ChipAuthenticationPublicKeyInfo {
                protocol: oid::PK_ECDH,
                public_key: spki,
                key_id: self.ca_key_id,
            }));
            dg14.push(SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                protocol: self.ca_protocol,
                version: 1,
                key_id: self.ca_key_id,
            }));
        }
        if let Some(signature_algorithm) = self.aa_info {
            dg14.push(SecurityInfo::ActiveAuthentication(ActiveAuthenticationInfo {
                version: 1,
                signature_algorithm,
            }));
        }
        if !dg14.is_empty() {
            img.files.insert(fid::DG14, lds::encode_dg14(&SecurityInfos { infos: dg14 }).unwrap());
        }
        if let Some(key) = &self.dg15 {
            img.files.insert(fid::DG15, key.public_key().to_dg15().unwrap());
        }
        img.chip.bac = self.bac;
        if let Some(key) = &self.aa {
            img.chip.set_aa_key(key).unwrap();
        }
        if let Some(key) = &self.ca {
            img.chip.set_ca_key(key).unwrap();
        }
        img.chip.ca_key_id = self.ca_key_id;
        // Through JSON, as the issuer writes it and the lane loads it.
        ChipImage::from_json(&img.to_json()).unwrap()
    }

    fn chip(&self) -> VirtualChip {
        VirtualChip::new(&self.image()).unwrap()
    }
}

fn plain(chip: &mut VirtualChip, command: &CommandApdu) -> ResponseApdu {
    chip.exchange(command).unwrap()
}

fn protected(
    chip: &mut VirtualChip,
    sm: &mut SecureMessaging,
    command: &CommandApdu,
) -> Result<ResponseApdu, SmError> {
    let wrapped = sm.protect_command(command).unwrap();
    let response = chip.exchange(&wrapped).unwrap();
    sm.unprotect_response(&response)
}

/// READ BINARY under secure messaging; above offset 32767 (INS B1) the data
/// comes inside DO'53'.
fn read_chunk(
    chip: &mut VirtualChip,
    sm: &mut SecureMessaging,
    offset: usize,
    n: usize,
) -> Result<ResponseApdu, SmError> {
    let overhead = if offset > 0x7FFF { 4 } else { 0 };
    let mut r = protected(chip, sm, &read_binary(offset, n + overhead))?;
    if offset > 0x7FFF && r.is_success() {
        r.data = crate::passport::tlv::Tlv::parse_expecting(&r.data, 0x53).unwrap().value.to_vec();
    }
    Ok(r)
}

/// Read a whole file under secure messaging, `chunk` bytes per READ BINARY.
fn read_file(
    chip: &mut VirtualChip,
    sm: &mut SecureMessaging,
    fid: u16,
    chunk: usize,
) -> Result<Vec<u8>, String> {
    let selected = protected(chip, sm, &select_file(fid)).map_err(|e| e.to_string())?;
    if selected.sw != sw::OK {
        return Err(format!("SELECT {fid:04X}: {:04X}", selected.sw));
    }
    let first = protected(chip, sm, &read_binary(0, 8)).map_err(|e| e.to_string())?;
    let total = lds::file_length(&first.data).map_err(|e| e.to_string())?;
    let mut data = first.data;
    while data.len() < total {
        let r = read_chunk(chip, sm, data.len(), chunk.min(total - data.len())).map_err(|e| e.to_string())?;
        if !r.is_success() || r.data.is_empty() {
            return Err(format!("READ BINARY at {}: {:04X}", data.len(), r.sw));
        }
        data.extend(r.data);
    }
    data.truncate(total);
    Ok(data)
}

fn bac(chip: &mut VirtualChip) -> SecureMessaging {
    assert_eq!(plain(chip, &select_application(&EMRTD_AID)).sw, sw::OK);
    bac::authenticate(chip, &mrz_information(), &mut rng()).unwrap()
}

fn pace(chip: &mut VirtualChip) -> pace::PaceResult {
    assert_eq!(plain(chip, &select_master_file()).sw, sw::OK);
    assert_eq!(plain(chip, &select_file(FID_CARD_ACCESS)).sw, sw::OK);
    let card_access = plain(chip, &read_binary(0, 256)).into_result().unwrap();
    let infos = SecurityInfos::parse(&card_access).unwrap();
    let info = infos.pace_infos().next().unwrap();
    let params = PaceParams::from_pace_info(&info.protocol, info.parameter_id).unwrap();
    pace::authenticate(chip, &PacePassword::Mrz(mrz_information()), &params, &mut rng()).unwrap()
}

fn select_app_protected(chip: &mut VirtualChip, sm: &mut SecureMessaging) {
    assert_eq!(protected(chip, sm, &select_application(&EMRTD_AID)).unwrap().sw, sw::OK);
}

fn assert_dg1_reads(chip: &mut VirtualChip, sm: &mut SecureMessaging) {
    select_app_protected(chip, sm);
    let dg1 = read_file(chip, sm, fid::DG1, 223).unwrap();
    assert_eq!(lds::parse_dg1(&dg1).unwrap().document_number, "L898902C3");
}

#[test]
fn bac_then_read_every_file_under_secure_messaging() {
    let fixture = Fixture::default();
    let image = fixture.image();
    let mut chip = VirtualChip::new(&image).unwrap();
    let mut sm = bac(&mut chip);
    assert_eq!(
        chip.session_state(),
        SessionState { access: Some(AccessMethod::Bac), chip_authenticated: false }
    );
    assert_dg1_reads(&mut chip, &mut sm);
    let dg2 = read_file(&mut chip, &mut sm, fid::DG2, 1000).unwrap();
    assert!(dg2 == image.files[&fid::DG2]);
    assert_eq!(lds::parse_dg2(&dg2).unwrap().image, jpeg());
    let com = read_file(&mut chip, &mut sm, fid::EF_COM, 4).unwrap();
    assert_eq!(EfCom::parse(&com).unwrap().tags, vec![0x61, 0x75]);
    // Short EF identifier addressing: P1 = 80 | SFI.
    let sfi = protected(&mut chip, &mut sm, &CommandApdu::new(0, 0xB0, 0x81, 0x00).with_ne(4)).unwrap();
    assert_eq!((sfi.data.as_slice(), sfi.sw), (&image.files[&fid::DG1][..4], sw::OK));
    // Absent files.
    assert_eq!(protected(&mut chip, &mut sm, &select_file(0x0105)).unwrap().sw, sw::FILE_NOT_FOUND);
    let c = chip.counters();
    assert!(c.apdus > 10 && c.response_bytes > dg2.len() as u64, "{c:?}");
    assert!(chip.describe().contains("BAC"), "{}", chip.describe());
}

#[test]
fn the_application_is_locked_before_access_control() {
    let mut chip = Fixture { pace: Some(oid::PACE_ECDH_GM_AES_128), ..Fixture::default() }.chip();
    // EF.CardAccess in the master file is free to read.
    assert_eq!(plain(&mut chip, &select_file(FID_CARD_ACCESS)).sw, sw::OK);
    assert_eq!(plain(&mut chip, &read_binary(0, 4)).sw, sw::OK);
    // It is not in the application.
    assert_eq!(plain(&mut chip, &select_application(&EMRTD_AID)).sw, sw::OK);
    assert_eq!(plain(&mut chip, &select_file(FID_CARD_ACCESS)).sw, sw::FILE_NOT_FOUND);
    // The data groups are there but locked.
    assert_eq!(plain(&mut chip, &select_file(fid::DG1)).sw, sw::OK);
    assert_eq!(plain(&mut chip, &read_binary(0, 4)).sw, sw::SECURITY_STATUS_NOT_SATISFIED);
    assert_eq!(
        plain(&mut chip, &CommandApdu::new(0, 0xB0, 0x82, 0).with_ne(4)).sw,
        sw::SECURITY_STATUS_NOT_SATISFIED
    );
    assert_eq!(plain(&mut chip, &read_binary(0x9000, 4)).sw, sw::SECURITY_STATUS_NOT_SATISFIED);
    let ia = CommandApdu::new(0, 0x88, 0, 0).with_data([0; 8]).with_ne(256);
    assert_eq!(plain(&mut chip, &ia).sw, sw::SECURITY_STATUS_NOT_SATISFIED);
    // A protected command without a session.
    assert_eq!(
        plain(&mut chip, &CommandApdu::new(0x0C, 0xB0, 0, 0).with_ne(4)).sw,
        sw::SECURITY_STATUS_NOT_SATISFIED
    );
    assert_eq!(chip.session_state().access, None);
}

#[test]
fn pace_gm_then_read() {
    let mut chip = Fixture { pace: Some(oid::PACE_ECDH_GM_AES_128), ..Fixture::default() }.chip();
    let mut result = pace(&mut chip);
    assert!(result.cam.is_none());
    assert_eq!(chip.session_state().access, Some(AccessMethod::Pace));
    assert_dg1_reads(&mut chip, &mut result.sm);
}

#[test]
fn pace_cam_proves_the_chip_authentication_key() {
    let ca = CaPrivateKey::generate(EcCurve::BrainpoolP256r1, &mut rng());
    let fixture = Fixture {
        pace: Some(oid::PACE_ECDH_CAM_AES_128),
        ca: Some(ca.clone()),
        dg14: Some(ca.clone()),
        ca_protocol: oid::CA_ECDH_AES_128,
        ..Fixture::default()
    };
    let mut chip = fixture.chip();
    let mut result = pace(&mut chip);
    let cam = result.cam.take().expect("PACE-CAM evidence");
    assert!(cam.verify(ca.public_key()).is_passed());
    let other = CaPrivateKey::generate(EcCurve::BrainpoolP256r1, &mut rng());
    assert!(cam.verify(other.public_key()).is_failed());
    assert_dg1_reads(&mut chip, &mut result.sm);
}

#[test]
fn a_pace_only_chip_refuses_bac() {
    let mut chip = Fixture { bac: false, pace: Some(oid::PACE_ECDH_GM_AES_128), ..Fixture::default() }.chip();
    assert_eq!(plain(&mut chip, &select_application(&EMRTD_AID)).sw, sw::OK);
    let err = bac::authenticate(&mut chip, &mrz_information(), &mut rng()).unwrap_err();
    assert!(matches!(err, BacError::NotOffered { .. }), "{err}");
    let mut result = pace(&mut chip);
    assert_dg1_reads(&mut chip, &mut result.sm);
    // A BAC-only chip refuses PACE.
    let mut chip = Fixture::default().chip();
    let params = PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, Some(13)).unwrap();
    assert!(
        pace::authenticate(&mut chip, &PacePassword::Mrz(mrz_information()), &params, &mut rng()).is_err()
    );
}

#[test]
fn wrong_mrz_keys_are_refused() {
    let mut chip = Fixture { pace: Some(oid::PACE_ECDH_GM_AES_128), ..Fixture::default() }.chip();
    let wrong = "L898902C<369080619406236";
    assert!(matches!(bac::authenticate(&mut chip, wrong, &mut rng()), Err(BacError::AccessDenied { .. })));
    let params = PaceParams::from_pace_info(&oid::PACE_ECDH_GM_AES_128, Some(13)).unwrap();
    assert!(pace::authenticate(&mut chip, &PacePassword::Mrz(wrong.into()), &params, &mut rng()).is_err());
    assert_eq!(chip.session_state().access, None);
    // The right keys still work afterwards.
    let mut sm = bac(&mut chip);
    assert_dg1_reads(&mut chip, &mut sm);
}

#[test]
fn a_plain_or_forged_command_ends_the_session() {
    let mut chip = Fixture::default().chip();
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    // Plain command inside the session: 6987, unprotected, session over.
    assert_eq!(plain(&mut chip, &select_file(fid::DG1)).sw, sw::SM_DATA_OBJECTS_MISSING);
    assert_eq!(chip.session_state().access, None);
    assert_eq!(
        protected(&mut chip, &mut sm, &select_file(fid::DG1)),
        Err(SmError::UnprotectedStatus { sw: 0x6982 })
    );

    // A forged MAC: 6988.
    let mut sm = bac(&mut chip);
    let mut forged = sm.protect_command(&select_file(fid::DG1)).unwrap();
    if let Some(last) = forged.data.last_mut() {
        *last ^= 1;
    }
    assert_eq!(plain(&mut chip, &forged).sw, sw::SM_DATA_OBJECTS_INCORRECT);
    assert_eq!(chip.session_state().access, None);
}

#[test]
fn reads_beyond_the_end_and_large_offsets() {
    let image = Fixture::default().image();
    let mut chip = VirtualChip::new(&image).unwrap();
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    let dg1_len = image.files[&fid::DG1].len();
    assert_eq!(protected(&mut chip, &mut sm, &select_file(fid::DG1)).unwrap().sw, sw::OK);
    let past = protected(&mut chip, &mut sm, &read_binary(dg1_len + 10, 4)).unwrap();
    assert_eq!(past.sw, sw::WRONG_PARAMETERS);
    let at_end = protected(&mut chip, &mut sm, &read_binary(dg1_len, 4)).unwrap();
    assert_eq!(at_end.sw, sw::WRONG_PARAMETERS);
    let tail = protected(&mut chip, &mut sm, &read_binary(dg1_len - 3, 10)).unwrap();
    assert_eq!((tail.data.len(), tail.sw), (3, sw::END_OF_FILE));

    // Offsets above 32767: READ BINARY B1 with DO'54', answer in DO'53'.
    assert_eq!(protected(&mut chip, &mut sm, &select_file(BIG_FID)).unwrap().sw, sw::OK);
    let big = &image.files[&BIG_FID];
    let r = protected(&mut chip, &mut sm, &read_binary(0x8000, 200)).unwrap();
    assert_eq!(r.sw, sw::OK);
    let content = crate::passport::tlv::Tlv::parse_expecting(&r.data, 0x53).unwrap().value;
    assert!(!content.is_empty() && content.len() <= 200);
    assert!(content == &big[0x8000..0x8000 + content.len()]);
    let beyond = protected(&mut chip, &mut sm, &read_binary(BIG_LEN + 1, 16)).unwrap();
    assert_eq!(beyond.sw, sw::WRONG_PARAMETERS);
    let last = protected(&mut chip, &mut sm, &read_binary(BIG_LEN - 5, 100)).unwrap();
    assert_eq!(last.sw, sw::END_OF_FILE);
    assert!(crate::passport::tlv::Tlv::parse(&last.data).unwrap().value == &big[BIG_LEN - 5..]);
    // The whole big file, in extended-length chunks.
    assert!(read_file(&mut chip, &mut sm, BIG_FID, 4000).unwrap() == *big);
}

#[test]
fn a_short_only_chip_refuses_extended_length() {
    let image = Fixture::default().image();
    let mut chip = VirtualChip::with_profile(&image, ChipProfile::short_only()).unwrap();
    assert!(chip.describe().contains("short APDUs"));
    assert_eq!(plain(&mut chip, &select_file(FID_CARD_ACCESS)).sw, sw::FILE_NOT_FOUND);
    // Extended Le (even a small one) is refused.
    assert_eq!(chip.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x10]).unwrap(), vec![0x67, 0x00]);
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    assert_eq!(protected(&mut chip, &mut sm, &select_file(fid::DG2)).unwrap().sw, sw::OK);
    // Le 00 (256) gives the chip's 223 bytes.
    let r = protected(&mut chip, &mut sm, &read_binary(0, 256)).unwrap();
    assert_eq!((r.data.len(), r.sw), (223, sw::OK));
    // Whole files in 223-byte chunks.
    assert!(read_file(&mut chip, &mut sm, fid::DG2, 223).unwrap() == image.files[&fid::DG2]);
    // An extended read inside the session: 6700 unprotected, session over.
    assert_eq!(
        protected(&mut chip, &mut sm, &read_binary(0, 1000)),
        Err(SmError::UnprotectedStatus { sw: sw::WRONG_LENGTH })
    );
    assert_eq!(chip.session_state().access, None);
}

#[test]
fn active_authentication_rsa_and_ecdsa_pass() {
    let (rsa_key, _) = rsa_keys();
    let mut chip = Fixture::with_aa(rsa_key).chip();
    let mut sm = bac(&mut chip);
    let dg15 = read_file(&mut chip, &mut sm, fid::DG15, 1000).unwrap_or_else(|_| {
        select_app_protected(&mut chip, &mut sm);
        read_file(&mut chip, &mut sm, fid::DG15, 1000).unwrap()
    });
    let verdict = aa::active_authentication(&mut chip, &mut sm, &dg15, None, &mut rng()).unwrap();
    assert!(verdict.is_passed(), "{verdict}");
    assert!(verdict.text().contains("RSA 1024-bit") && verdict.text().contains("SHA-1"), "{verdict}");
    // The session goes on.
    assert_dg1_reads(&mut chip, &mut sm);

    for (curve, alg) in
        [(EcCurve::BrainpoolP256r1, oid::ECDSA_PLAIN_SHA256), (EcCurve::P384, oid::ECDSA_PLAIN_SHA384)]
    {
        let key = AaPrivateKey::generate_ec(curve, &mut rng());
        let fixture = Fixture { aa_info: Some(alg), ..Fixture::with_aa(&key) };
        let mut chip = fixture.chip();
        let mut sm = bac(&mut chip);
        select_app_protected(&mut chip, &mut sm);
        let dg15 = read_file(&mut chip, &mut sm, fid::DG15, 1000).unwrap();
        let dg14 = read_file(&mut chip, &mut sm, fid::DG14, 1000).unwrap();
        let info = lds::parse_dg14(&dg14).unwrap().active_authentication().unwrap().signature_algorithm;
        let verdict = aa::active_authentication(&mut chip, &mut sm, &dg15, Some(&info), &mut rng()).unwrap();
        assert!(verdict.is_passed(), "{verdict}");
        assert!(verdict.text().contains(curve.name()), "{verdict}");
    }
}

#[test]
fn active_authentication_detects_a_cloned_chip() {
    let (genuine, clone_key) = rsa_keys();
    // The clone copied DG15 but holds another key.
    let fixture = Fixture { aa: Some(clone_key.clone()), dg15: Some(genuine.clone()), ..Fixture::default() };
    let mut chip = fixture.chip();
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    let dg15 = read_file(&mut chip, &mut sm, fid::DG15, 1000).unwrap();
    let verdict = aa::active_authentication(&mut chip, &mut sm, &dg15, None, &mut rng()).unwrap();
    assert!(verdict.is_failed(), "{verdict}");
    assert!(verdict.text().contains("cloned"), "{verdict}");

    // A clone with no key at all refuses INTERNAL AUTHENTICATE.
    let fixture = Fixture { aa: None, dg15: Some(genuine.clone()), ..Fixture::default() };
    let mut chip = fixture.chip();
    let mut sm = bac(&mut chip);
    let verdict = aa::active_authentication(
        &mut chip,
        &mut sm,
        &genuine.public_key().to_dg15().unwrap(),
        None,
        &mut rng(),
    )
    .unwrap();
    assert!(verdict.is_failed(), "{verdict}");

    // No DG15: not supported.
    let verdict = aa::active_authentication(&mut chip, &mut sm, &[], None, &mut rng()).unwrap();
    assert!(matches!(verdict, Verdict::NotSupported { .. }), "{verdict}");
}

#[test]
fn chip_authentication_passes_and_rekeys() {
    for (curve, protocol, key_id) in [
        (EcCurve::BrainpoolP256r1, oid::CA_ECDH_3DES, None),
        (EcCurve::P256, oid::CA_ECDH_AES_128, Some(1)),
        (EcCurve::P384, oid::CA_ECDH_AES_256, Some(0x1234)),
        (EcCurve::BrainpoolP384r1, oid::CA_ECDH_AES_192, None),
    ] {
        let fixture = Fixture { ca_key_id: key_id, ..Fixture::with_ca(curve, protocol) };
        let mut chip = fixture.chip();
        let mut sm = bac(&mut chip);
        select_app_protected(&mut chip, &mut sm);
        let dg14 = read_file(&mut chip, &mut sm, fid::DG14, 1000).unwrap();
        let outcome = ca::chip_authentication(&mut chip, &mut sm, &dg14, &mut rng()).unwrap();
        assert!(outcome.verdict.is_passed(), "{curve:?} {protocol}: {}", outcome.verdict);
        assert_eq!(outcome.session, CaSession::Rekeyed);
        assert_eq!(
            chip.session_state(),
            SessionState { access: Some(AccessMethod::Bac), chip_authenticated: true }
        );
        assert_eq!(sm.send_sequence_counter().iter().filter(|&&b| b != 0).count(), 1, "SSC restarts at 0");
        // The whole read goes on under the new keys.
        assert_dg1_reads(&mut chip, &mut sm);
    }
    // After PACE too.
    let fixture = Fixture {
        pace: Some(oid::PACE_ECDH_GM_AES_128),
        ..Fixture::with_ca(EcCurve::P256, oid::CA_ECDH_AES_128)
    };
    let mut chip = fixture.chip();
    let mut result = pace(&mut chip);
    select_app_protected(&mut chip, &mut result.sm);
    let dg14 = read_file(&mut chip, &mut result.sm, fid::DG14, 1000).unwrap();
    let outcome = ca::chip_authentication(&mut chip, &mut result.sm, &dg14, &mut rng()).unwrap();
    assert!(outcome.verdict.is_passed(), "{}", outcome.verdict);
    assert_dg1_reads(&mut chip, &mut result.sm);
}

#[test]
fn chip_authentication_detects_a_cloned_chip() {
    for protocol in [oid::CA_ECDH_3DES, oid::CA_ECDH_AES_128] {
        let genuine = CaPrivateKey::generate(EcCurve::BrainpoolP256r1, &mut rng());
        let clone_key = CaPrivateKey::generate(EcCurve::BrainpoolP256r1, &mut rng());
        let fixture =
            Fixture { ca: Some(clone_key), dg14: Some(genuine), ca_protocol: protocol, ..Fixture::default() };
        let mut chip = fixture.chip();
        let mut sm = bac(&mut chip);
        select_app_protected(&mut chip, &mut sm);
        let dg14 = read_file(&mut chip, &mut sm, fid::DG14, 1000).unwrap();
        let outcome = ca::chip_authentication(&mut chip, &mut sm, &dg14, &mut rng()).unwrap();
        assert!(outcome.verdict.is_failed(), "{}", outcome.verdict);
        assert!(outcome.verdict.text().contains("cloned"), "{}", outcome.verdict);
        assert_eq!(outcome.session, CaSession::Lost);
        assert_eq!(chip.session_state().access, None);
    }
    // No DG14; a DH-only DG14; a chip without the CA key.
    let mut chip = Fixture::default().chip();
    let mut sm = bac(&mut chip);
    let outcome = ca::chip_authentication(&mut chip, &mut sm, &[], &mut rng()).unwrap();
    assert!(matches!(outcome.verdict, Verdict::NotSupported { .. }));
    let dh = SecurityInfos {
        infos: vec![SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
            protocol: oid::CA_DH_3DES,
            version: 1,
            key_id: None,
        })],
    };
    let outcome =
        ca::chip_authentication(&mut chip, &mut sm, &lds::encode_dg14(&dh).unwrap(), &mut rng()).unwrap();
    assert!(matches!(outcome.verdict, Verdict::NotSupported { .. }), "{}", outcome.verdict);
    let with_key = Fixture::with_ca(EcCurve::P256, oid::CA_ECDH_AES_128);
    let dg14 = with_key.image().files[&fid::DG14].clone();
    let outcome = ca::chip_authentication(&mut chip, &mut sm, &dg14, &mut rng()).unwrap();
    assert!(outcome.verdict.is_failed(), "{}", outcome.verdict);
    assert_eq!(outcome.session, CaSession::Unchanged);
    assert_dg1_reads(&mut chip, &mut sm);
}

#[test]
fn a_link_drop_loses_the_session_until_reconnect() {
    let image = Fixture::default().image();
    let mut chip = VirtualChip::new(&image).unwrap().with_faults(ChipFaults::drop_link(600, 1));
    let counters = chip.counters_handle();
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    assert_eq!(protected(&mut chip, &mut sm, &select_file(fid::DG2)).unwrap().sw, sw::OK);
    let mut offset = 0;
    let lost = loop {
        let command = sm.protect_command(&read_binary(offset, 200)).unwrap();
        match chip.exchange(&command) {
            Ok(r) => offset += sm.unprotect_response(&r).unwrap().data.len(),
            Err(e) => break e,
        }
    };
    assert!(matches!(lost, TransportError::LinkLost(_)) && lost.is_link_failure(), "{lost}");
    assert!(offset > 0 && offset < 600, "{offset}");
    // Out of the field until reconnect.
    assert!(matches!(chip.transmit(&[0, 0xA4, 0, 0x0C]), Err(TransportError::LinkLost(_))));
    assert_eq!(chip.reconnect().unwrap(), ATR.to_vec());
    // The old session is gone: the chip answers in plain.
    assert_eq!(
        protected(&mut chip, &mut sm, &select_file(fid::DG2)),
        Err(SmError::UnprotectedStatus { sw: 0x6982 })
    );
    assert_eq!(plain(&mut chip, &select_application(&EMRTD_AID)).sw, sw::OK);
    assert_eq!(plain(&mut chip, &select_file(fid::DG2)).sw, sw::OK);
    assert_eq!(plain(&mut chip, &read_binary(0, 4)).sw, sw::SECURITY_STATUS_NOT_SATISFIED);
    // A fresh authentication reads everything (the link drops only once).
    let mut sm = bac(&mut chip);
    select_app_protected(&mut chip, &mut sm);
    assert!(read_file(&mut chip, &mut sm, fid::DG2, 200).unwrap() == image.files[&fid::DG2]);
    let c = counters.snapshot();
    assert_eq!((c.link_drops, c.reconnects), (1, 1));

    // K drops: each after 600 bytes since the last reconnect; the reader
    // resumes where it was.
    let mut chip = VirtualChip::new(&image).unwrap().with_faults(ChipFaults::drop_link(600, 3));
    let mut drops = 0;
    let mut big = Vec::new();
    while big.len() < BIG_LEN {
        let mut sm = bac(&mut chip);
        select_app_protected(&mut chip, &mut sm);
        assert_eq!(protected(&mut chip, &mut sm, &select_file(BIG_FID)).unwrap().sw, sw::OK);
        while big.len() < BIG_LEN {
            // Above 32767, DO'53' takes up to 4 bytes of Ne.
            let overhead = if big.len() > 0x7FFF { 4 } else { 0 };
            let n = 4000.min(BIG_LEN - big.len()) + overhead;
            let command = sm.protect_command(&read_binary(big.len(), n)).unwrap();
            match chip.exchange(&command) {
                Ok(r) => {
                    let mut data = sm.unprotect_response(&r).unwrap().data;
                    if big.len() > 0x7FFF {
                        data = crate::passport::tlv::Tlv::parse(&data).unwrap().value.to_vec();
                    }
                    big.extend(data);
                }
                Err(_) => {
                    drops += 1;
                    chip.reconnect().unwrap();
                    break;
                }
            }
        }
    }
    assert!(big == image.files[&BIG_FID]);
    assert_eq!((drops, chip.counters().link_drops), (3, 3));
}

#[test]
fn a_slow_chip_takes_its_time() {
    let faults = ChipFaults { response_delay: std::time::Duration::from_millis(5), ..ChipFaults::default() };
    let mut chip = Fixture::default().chip().with_faults(faults);
    let start = std::time::Instant::now();
    for _ in 0..4 {
        plain(&mut chip, &select_master_file());
    }
    assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    assert_eq!(chip.counters().apdus, 4);
}

/// Any bytes, in any state: an answer, never a panic.
#[test]
fn garbage_never_panics() {
    use rand_core::Rng as _;
    let fixture = Fixture {
        pace: Some(oid::PACE_ECDH_GM_AES_128),
        ..Fixture::with_ca(EcCurve::P256, oid::CA_ECDH_AES_128)
    };
    let image = fixture.image();
    let mut r = rng();
    let headers: [[u8; 4]; 12] = [
        [0x00, 0xA4, 0x02, 0x0C],
        [0x00, 0xA4, 0x04, 0x0C],
        [0x00, 0xB0, 0x00, 0x00],
        [0x00, 0xB0, 0x81, 0x00],
        [0x00, 0xB1, 0x00, 0x00],
        [0x00, 0x84, 0x00, 0x00],
        [0x00, 0x82, 0x00, 0x00],
        [0x00, 0x22, 0xC1, 0xA4],
        [0x10, 0x86, 0x00, 0x00],
        [0x0C, 0x22, 0x41, 0xA6],
        [0x0C, 0x86, 0x00, 0x00],
        [0x0C, 0x88, 0x00, 0x00],
    ];
    for profile in [ChipProfile::extended(), ChipProfile::short_only()] {
        let mut chip = VirtualChip::with_profile(&image, profile).unwrap();
        for state in 0..3 {
            let mut sm = match state {
                1 => Some(bac(&mut chip)),
                2 => Some(pace(&mut chip).sm),
                _ => None,
            };
            for len in 0..40usize {
                for round in 0..24 {
                    let mut bytes = vec![0u8; len];
                    r.fill_bytes(&mut bytes);
                    if round % 2 == 0 && len >= 4 {
                        let header = headers[round / 2 % headers.len()];
                        bytes[..4].copy_from_slice(&header);
                    }
                    let response = chip.transmit(&bytes).unwrap();
                    assert!(response.len() >= 2);
                }
                // Protected garbage with a valid MAC reaches the command handlers.
                if let Some(sm) = sm.as_mut()
                    && len >= 4
                {
                    let mut data = vec![0u8; len - 4];
                    r.fill_bytes(&mut data);
                    let header = headers[len % headers.len()];
                    let command = CommandApdu::new(header[0] & 0xF3, header[1], header[2], header[3])
                        .with_data(data)
                        .with_ne(256);
                    if let Ok(wrapped) = sm.protect_command(&command) {
                        let _ = chip.exchange(&wrapped).map(|resp| sm.unprotect_response(&resp));
                    }
                }
            }
            chip.reconnect().unwrap();
        }
    }
}
