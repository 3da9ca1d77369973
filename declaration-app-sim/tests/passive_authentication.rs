//! Passive Authentication end to end: the issuer's test PKI signs EF.SOD,
//! the kiosk verifies it against its trust store.
//!
//! RSA key generation is slow in debug builds, so each scheme's PKI is
//! generated once per test binary (OnceLock) and negative cases use ECDSA.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use declaration_app_sim::pki::{CrlOption, DsValidity, PkiOptions, SignatureScheme, TestPki};
use der::{Decode, Encode};
use kiosk::passport::pa::{PaCheckKind, PassiveAuthReport, passive_authentication};
use kiosk::passport::sod::Sod;
use kiosk::passport::trust::TrustStore;
use kiosk::passport::verdict::Verdict;

fn data_groups() -> BTreeMap<u8, Vec<u8>> {
    let dg1 = b"\x61\x5B\x5F\x1F\x58P<JPNSATO<<KEN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<TR00012340JPN8802145M3301014<<<<<<<<<<<<<<02";
    let mut dg2 = vec![0x75, 0x82, 0x01, 0x00];
    dg2.extend((0..=255u8).map(|b| b.wrapping_mul(31)));
    BTreeMap::from([(1, dg1.to_vec()), (2, dg2)])
}

/// One PKI per scheme for the whole test binary.
fn pki(scheme: SignatureScheme) -> &'static TestPki {
    static PKIS: [OnceLock<TestPki>; 6] = [const { OnceLock::new() }; 6];
    let index = SignatureScheme::ALL.iter().position(|s| *s == scheme).unwrap();
    PKIS[index].get_or_init(|| TestPki::generate("JP", scheme, &PkiOptions::default()).unwrap())
}

fn ec_pki(country: &str, options: PkiOptions) -> TestPki {
    TestPki::generate(country, SignatureScheme::EcdsaP256Sha256, &options).unwrap()
}

fn run(
    _pki: &TestPki,
    sod: &[u8],
    dgs: &BTreeMap<u8, Vec<u8>>,
    state: &str,
    trust: &TrustStore,
) -> PassiveAuthReport {
    passive_authentication(sod, dgs, state, trust, SystemTime::now())
}

fn assert_only_failure(report: &PassiveAuthReport, failed: PaCheckKind) {
    assert!(report.verdict.is_failed(), "{}", report.summary());
    for c in &report.checks {
        if c.check == failed {
            assert!(c.verdict.is_failed(), "{:?} should fail:\n{}", c.check, report.summary());
        } else {
            assert!(!c.verdict.is_failed(), "{:?} should not fail:\n{}", c.check, report.summary());
        }
    }
}

#[test]
fn passes_for_every_signature_scheme() {
    for scheme in SignatureScheme::ALL {
        let pki = pki(scheme);
        let dgs = data_groups();
        let sod = pki.sign_sod(&dgs);
        let report = run(pki, &sod, &dgs, "JPN", &pki.trust_store().unwrap());
        assert!(report.verdict.is_passed(), "{scheme}:\n{}", report.summary());
        assert!(report.checks.iter().all(|c| c.verdict.is_passed()), "{scheme}:\n{}", report.summary());
        assert_eq!(report.data_groups_verified, vec![1, 2]);
        assert_eq!(report.hash_algorithm.as_deref(), Some("SHA-256"));
        assert!(report.ds_subject.as_deref().unwrap().contains("Document Signer JP"));
        assert_eq!(report.ds_serial.as_deref(), Some(pki.ds_serial_hex().as_str()));
        assert!(report.csca_subject.as_deref().unwrap().contains("CSCA JP"));
        let algorithm = report.sod_signature_algorithm.clone().unwrap();
        let expected = match scheme {
            SignatureScheme::RsaPkcs1v15Sha256 => "RSA PKCS#1 v1.5 with SHA-256",
            SignatureScheme::RsaPssSha256 => "RSASSA-PSS with SHA-256",
            SignatureScheme::EcdsaP256Sha256 => "ECDSA with SHA-256",
            SignatureScheme::EcdsaBrainpoolP256Sha256 => "ECDSA with SHA-256",
            SignatureScheme::EcdsaP384Sha384 => "ECDSA with SHA-384",
            SignatureScheme::EcdsaBrainpoolP384Sha384 => "ECDSA with SHA-384",
        };
        assert!(algorithm.starts_with(expected), "{scheme}: {algorithm}");
        let curve_or_size = report.check(PaCheckKind::SodSignature).unwrap().text().to_string();
        let expected_detail = match scheme {
            SignatureScheme::RsaPkcs1v15Sha256 | SignatureScheme::RsaPssSha256 => "RSA-2048",
            SignatureScheme::EcdsaP256Sha256 => "on P-256",
            SignatureScheme::EcdsaBrainpoolP256Sha256 => "on brainpoolP256r1",
            SignatureScheme::EcdsaP384Sha384 => "on P-384",
            SignatureScheme::EcdsaBrainpoolP384Sha384 => "on brainpoolP384r1",
        };
        assert!(curve_or_size.contains(expected_detail), "{scheme}: {curve_or_size}");
        // The report is what the transaction record stores.
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["verdict"]["result"], "passed");
    }
}

#[test]
fn tampered_dg2_fails_its_hash() {
    let pki = pki(SignatureScheme::EcdsaBrainpoolP256Sha256);
    let mut dgs = data_groups();
    let sod = pki.sign_sod(&dgs);
    if let Some(last) = dgs.get_mut(&2).and_then(|dg2| dg2.last_mut()) {
        *last ^= 0x01;
    }
    let report = run(pki, &sod, &dgs, "JPN", &pki.trust_store().unwrap());
    assert_only_failure(&report, PaCheckKind::DataGroupHashes);
    assert!(report.check(PaCheckKind::DataGroupHashes).unwrap().text().contains("DG2"));
    assert_eq!(report.data_groups_verified, vec![1]);
}

#[test]
fn data_group_absent_from_the_sod_fails_and_unread_ones_are_listed() {
    let pki = pki(SignatureScheme::EcdsaP256Sha256);
    let mut signed = data_groups();
    signed.insert(14, vec![0x6E, 0x01, 0x00]);
    let sod = pki.sign_sod(&signed);

    let mut read = data_groups();
    let only_signed = run(pki, &sod, &read, "JPN", &pki.trust_store().unwrap());
    assert!(only_signed.verdict.is_passed(), "{}", only_signed.summary());
    assert_eq!(only_signed.data_groups_not_read, vec![14]);
    assert!(only_signed.check(PaCheckKind::DataGroupHashes).unwrap().text().contains("not read: DG14"));

    read.insert(3, vec![0x63, 0x00]);
    let extra = run(pki, &sod, &read, "JPN", &pki.trust_store().unwrap());
    assert_only_failure(&extra, PaCheckKind::DataGroupHashes);
    assert!(
        extra
            .check(PaCheckKind::DataGroupHashes)
            .unwrap()
            .text()
            .contains("DG3 was read but the SOD holds no hash")
    );
}

#[test]
fn flipped_signature_byte_fails_the_sod_signature() {
    for scheme in [SignatureScheme::EcdsaP256Sha256, SignatureScheme::RsaPssSha256] {
        let pki = pki(scheme);
        let dgs = data_groups();
        let mut sod = pki.sign_sod(&dgs);
        // The signature is the SOD's last field, so its last byte is the file's last byte.
        let last = sod.len() - 1;
        sod[last] ^= 0x55;
        let report = run(pki, &sod, &dgs, "JPN", &pki.trust_store().unwrap());
        assert_only_failure(&report, PaCheckKind::SodSignature);
    }
}

#[test]
fn expired_and_not_yet_valid_ds_fail() {
    for validity in [DsValidity::Expired, DsValidity::NotYetValid] {
        let pki = ec_pki("JP", PkiOptions { ds_validity: validity, ..PkiOptions::default() });
        let dgs = data_groups();
        let report = run(&pki, &pki.sign_sod(&dgs), &dgs, "JPN", &pki.trust_store().unwrap());
        assert_only_failure(&report, PaCheckKind::DsValidity);
        let text = report.check(PaCheckKind::DsValidity).unwrap().text().to_string();
        match validity {
            DsValidity::Expired => assert!(text.contains("expired"), "{text}"),
            _ => assert!(text.contains("not yet valid"), "{text}"),
        }
    }
    // The same DS is valid when checked at a time inside its validity.
    let pki = ec_pki("JP", PkiOptions { ds_validity: DsValidity::Expired, ..PkiOptions::default() });
    let dgs = data_groups();
    let then = SystemTime::now() - Duration::from_secs(86_400 * 365);
    let report = passive_authentication(&pki.sign_sod(&dgs), &dgs, "JPN", &pki.trust_store().unwrap(), then);
    assert!(report.check(PaCheckKind::DsValidity).unwrap().is_passed(), "{}", report.summary());
}

#[test]
fn unknown_csca_fails_the_ds_certificate() {
    let pki = ec_pki("JP", PkiOptions { unrelated_csca: true, ..PkiOptions::default() });
    let dgs = data_groups();
    let sod = pki.sign_sod(&dgs);
    // Same CSCA name, different key: the forged-CSCA case.
    let impostor = TrustStore::from_certificates([pki.unrelated_csca.clone().unwrap()]).unwrap();
    let report = run(&pki, &sod, &dgs, "JPN", &impostor);
    assert!(report.verdict.is_failed(), "{}", report.summary());
    let ds_check = report.check(PaCheckKind::DsCertificateSignature).unwrap();
    assert!(ds_check.is_failed() && ds_check.text().contains("no CSCA"), "{ds_check}");
    // The SOD itself is still consistent; only the chain is missing.
    assert!(report.check(PaCheckKind::SodSignature).unwrap().is_passed());
    assert!(report.check(PaCheckKind::DataGroupHashes).unwrap().is_passed());

    // A trust store of another country's CSCA, and an empty one.
    let other = ec_pki("FR", PkiOptions::default());
    for trust in [other.trust_store().unwrap(), TrustStore::new()] {
        let report = run(&pki, &sod, &dgs, "JPN", &trust);
        assert!(
            report.check(PaCheckKind::DsCertificateSignature).unwrap().is_failed(),
            "{}",
            report.summary()
        );
    }
}

#[test]
fn revoked_ds_fails_and_missing_crl_is_reported_not_failed() {
    let revoked = ec_pki("JP", PkiOptions { crl: CrlOption::RevokeDs, ..PkiOptions::default() });
    let dgs = data_groups();
    let report = run(&revoked, &revoked.sign_sod(&dgs), &dgs, "JPN", &revoked.trust_store().unwrap());
    assert_only_failure(&report, PaCheckKind::Revocation);
    assert!(report.check(PaCheckKind::Revocation).unwrap().text().contains("revoked"));

    let without_crl = ec_pki("JP", PkiOptions { crl: CrlOption::None, ..PkiOptions::default() });
    let report =
        run(&without_crl, &without_crl.sign_sod(&dgs), &dgs, "JPN", &without_crl.trust_store().unwrap());
    assert!(report.verdict.is_passed(), "{}", report.summary());
    let revocation = report.check(PaCheckKind::Revocation).unwrap();
    assert!(matches!(revocation, Verdict::NotSupported { .. }), "{revocation}");
    assert!(revocation.text().contains("no CRL"));
    assert!(report.verdict.text().contains("revocation not supported"), "{}", report.verdict);

    // An empty CRL of the right CSCA: revocation passes.
    let with_crl = pki(SignatureScheme::EcdsaP256Sha256);
    let report = run(with_crl, &with_crl.sign_sod(&dgs), &dgs, "JPN", &with_crl.trust_store().unwrap());
    assert!(report.check(PaCheckKind::Revocation).unwrap().is_passed(), "{}", report.summary());
}

#[test]
fn country_mismatch_fails_and_icao_codes_map() {
    let pki = pki(SignatureScheme::EcdsaP256Sha256);
    let dgs = data_groups();
    let sod = pki.sign_sod(&dgs);
    let trust = pki.trust_store().unwrap();
    let report = run(pki, &sod, &dgs, "DEU", &trust);
    assert_only_failure(&report, PaCheckKind::Country);
    assert!(report.check(PaCheckKind::Country).unwrap().text().contains("JP"));

    // No country: not supported, so not Passed overall.
    let stateless = run(pki, &sod, &dgs, "XXA", &trust);
    assert!(matches!(stateless.verdict, Verdict::NotSupported { .. }), "{}", stateless.summary());

    // Germany's one-letter MRZ code.
    let de = ec_pki("DE", PkiOptions::default());
    let report = run(&de, &de.sign_sod(&dgs), &dgs, "D<<", &de.trust_store().unwrap());
    assert!(report.verdict.is_passed(), "{}", report.summary());
    // ICAO test documents (Utopia).
    let ut = ec_pki("UT", PkiOptions::default());
    let report = run(&ut, &ut.sign_sod(&dgs), &dgs, "UTO", &ut.trust_store().unwrap());
    assert!(report.verdict.is_passed(), "{}", report.summary());
}

#[test]
fn trust_store_from_a_folder_with_pem_der_and_master_list() {
    let dir = tempfile::tempdir().unwrap();
    let jp = ec_pki("JP", PkiOptions::default());
    let de =
        TestPki::generate("DE", SignatureScheme::EcdsaBrainpoolP256Sha256, &PkiOptions::default()).unwrap();
    let fr = TestPki::generate(
        "FR",
        SignatureScheme::EcdsaP384Sha384,
        &PkiOptions { master_list: true, crl: CrlOption::None, ..PkiOptions::default() },
    )
    .unwrap();
    // PEM certificate + PEM CRL; DER certificate + DER CRL; a master list.
    jp.export_trust_anchors(dir.path()).unwrap();
    std::fs::write(dir.path().join("de-csca.cer"), de.csca.to_der().unwrap()).unwrap();
    std::fs::write(dir.path().join("de.crl"), de.crl.as_ref().unwrap().to_der().unwrap()).unwrap();
    std::fs::write(dir.path().join("fr.ml"), fr.master_list.as_ref().unwrap()).unwrap();
    std::fs::write(dir.path().join("README"), "ignored").unwrap();

    let mut trust = TrustStore::new();
    let loaded = trust.add_dir(dir.path()).unwrap();
    assert_eq!((loaded.certificates, loaded.master_list_certificates, loaded.master_lists), (2, 1, 1));
    assert_eq!(loaded.crls, 2);
    assert_eq!(loaded.skipped_files.len(), 1);
    let by_country: Vec<(String, usize)> = loaded.by_country.clone().into_iter().collect();
    assert_eq!(by_country, vec![("DE".into(), 1), ("FR".into(), 1), ("JP".into(), 1)]);
    assert_eq!(trust.counts_by_country(), loaded.by_country);
    assert!(loaded.to_string().contains("DE 1, FR 1, JP 1"), "{loaded}");

    let dgs = data_groups();
    for (pki, state) in [(&jp, "JPN"), (&de, "D"), (&fr, "FRA")] {
        let report = run(pki, &pki.sign_sod(&dgs), &dgs, state, &trust);
        assert!(report.verdict.is_passed(), "{state}:\n{}", report.summary());
    }
    let fr_report = run(&fr, &fr.sign_sod(&dgs), &dgs, "FRA", &trust);
    assert!(fr_report.csca_source.as_deref().unwrap().contains("master list"));

    // Loading twice adds nothing new.
    let again = trust.add_dir(dir.path()).unwrap();
    assert_eq!((again.certificates, again.master_list_certificates, again.duplicates), (0, 0, 3));
}

#[test]
fn altered_or_unchained_master_lists_are_rejected_with_the_file_name() {
    let fr = TestPki::generate(
        "FR",
        SignatureScheme::EcdsaP256Sha256,
        &PkiOptions { master_list: true, ..PkiOptions::default() },
    )
    .unwrap();
    let list = fr.master_list.clone().unwrap();

    // Alter one byte of a listed certificate (inside the signed content).
    let csca_der = fr.csca.to_der().unwrap();
    let at = find(&list, &csca_der).unwrap() + csca_der.len() / 2;
    let mut altered = list.clone();
    altered[at] ^= 0x01;
    let err = TrustStore::new().add_master_list(&altered, "altered.ml").unwrap_err().to_string();
    assert!(err.starts_with("altered.ml:"), "{err}");

    // A list whose signer's CSCA is not in it.
    let other = ec_pki("JP", PkiOptions::default());
    let unchained = fr.sign_master_list(std::slice::from_ref(&other.csca)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("unchained.ml"), unchained).unwrap();
    let err = TrustStore::load_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("unchained.ml") && err.contains("not certified by any CSCA in the list"), "{err}");

    // A list with both: accepted.
    let both = fr.sign_master_list(&[fr.csca.clone(), other.csca.clone()]).unwrap();
    let report = TrustStore::new().add_master_list(&both, "both.ml").unwrap();
    assert_eq!((report.entries, report.added), (2, 2));
    assert!(report.signer.contains("Master List Signer FR"));
}

#[test]
fn a_ds_certificate_is_refused_as_a_trust_anchor() {
    let pki = pki(SignatureScheme::EcdsaP256Sha256);
    let err = TrustStore::from_certificates([pki.ds.clone()]).unwrap_err().to_string();
    assert!(err.contains("is not a CSCA"), "{err}");
}

#[test]
fn pki_survives_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let original = TestPki::generate(
        "JP",
        SignatureScheme::EcdsaBrainpoolP384Sha384,
        &PkiOptions { master_list: true, unrelated_csca: true, ..PkiOptions::default() },
    )
    .unwrap();
    original.save(dir.path()).unwrap();
    for file in
        ["pki.json", "csca.pem", "csca.key", "ds.pem", "ds.key", "csca.crl", "masterlist.ml", "ml-signer.key"]
    {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let key = std::fs::read_to_string(dir.path().join("ds.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));

    let loaded = TestPki::load(dir.path()).unwrap();
    assert_eq!((loaded.country.as_str(), loaded.scheme), ("JP", original.scheme));
    assert_eq!(loaded.ds, original.ds);
    assert_eq!(loaded.crl, original.crl);

    // Passports issued by the loaded PKI verify against the exported anchors.
    let anchors = dir.path().join("trust");
    loaded.export_trust_anchors(&anchors).unwrap();
    let trust = TrustStore::load_dir(&anchors).unwrap();
    let dgs = data_groups();
    let report = run(&loaded, &loaded.sign_sod(&dgs), &dgs, "JPN", &trust);
    assert!(report.verdict.is_passed(), "{}", report.summary());
    assert!(TestPki::load(&anchors).is_err());
}

#[test]
fn sod_parses_into_its_parts() {
    let pki = pki(SignatureScheme::EcdsaP256Sha256);
    let dgs = data_groups();
    let sod_bytes = pki.sign_sod(&dgs);
    assert_eq!(sod_bytes[0], 0x77);
    let sod = Sod::parse(&sod_bytes).unwrap();
    assert_eq!(sod.lds.data_groups(), vec![1, 2]);
    assert_eq!(sod.ds_certificate().unwrap().certificate, pki.ds);
    assert!(sod.cms.signing_time().is_some());
    // The ContentInfo alone (what lds.rs hands over) parses the same.
    let tlv = kiosk::passport::tlv::Tlv::parse(&sod_bytes).unwrap();
    let bare = Sod::parse(tlv.value).unwrap();
    assert_eq!(bare.lds, sod.lds);
    // And the typed SignedData round-trips through cms.
    let info = cms::content_info::ContentInfo::from_der(tlv.value).unwrap();
    assert_eq!(info.to_der().unwrap(), tlv.value);
}

#[test]
fn malformed_sods_never_panic() {
    let pki = pki(SignatureScheme::EcdsaP256Sha256);
    let dgs = data_groups();
    let sod = pki.sign_sod(&dgs);
    let trust = pki.trust_store().unwrap();
    let content_info = kiosk::passport::tlv::Tlv::parse(&sod).unwrap().value;
    for len in 0..sod.len() {
        let report = run(pki, &sod[..len], &dgs, "JPN", &trust);
        assert!(!report.verdict.is_passed(), "truncated to {len} bytes passed");
        // Unwrapped, so the truncation reaches the CMS parser itself.
        let bare = &content_info[..len.min(content_info.len() - 1)];
        assert!(
            !run(pki, bare, &dgs, "JPN", &trust).verdict.is_passed(),
            "ContentInfo truncated to {len} passed"
        );
    }
    // Flip every byte three ways. The only fields nothing signs are the
    // SignedData version, its digestAlgorithms list and the SignerInfo
    // version; PA does not judge those, so flips there may still pass.
    let unsigned = unsigned_ranges(&sod);
    for i in 0..sod.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bad = sod.clone();
            bad[i] ^= mask;
            if run(pki, &bad, &dgs, "JPN", &trust).verdict.is_passed() {
                assert!(
                    unsigned.iter().any(|r| r.contains(&i)),
                    "flipping byte {i} with {mask:02X} still passed (unsigned fields: {unsigned:?})"
                );
            }
        }
    }
}

/// Byte ranges of the SOD no signature covers.
fn unsigned_ranges(sod: &[u8]) -> Vec<std::ops::Range<usize>> {
    use kiosk::passport::tlv::{Tlv, TlvIter};
    let offset = |part: &[u8]| part.as_ptr() as usize - sod.as_ptr() as usize;
    let whole = |t: &Tlv, value_at: usize| value_at + t.value.len() - t.encoded_len..value_at + t.value.len();
    let content_info = Tlv::parse(Tlv::parse(sod).unwrap().value).unwrap();
    let explicit = TlvIter::new(content_info.value).nth(1).unwrap().unwrap();
    let signed_data = Tlv::parse(explicit.value).unwrap();
    let fields: Vec<Tlv> = TlvIter::new(signed_data.value).map(Result::unwrap).collect();
    let version = &fields[0];
    let digest_algorithms = &fields[1];
    let signer_info = TlvIter::new(fields.last().unwrap().value).next().unwrap().unwrap();
    let signer_version = TlvIter::new(signer_info.value).next().unwrap().unwrap();
    vec![
        whole(version, offset(version.value)),
        whole(digest_algorithms, offset(digest_algorithms.value)),
        whole(&signer_version, offset(signer_version.value)),
    ]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
