//! EF.SOD as a chip delivers it, Passive Authentication over it, and the trust
//! store's loaders (CSCA master lists, CRLs, CSCA certificates), which read
//! files an operator was handed: any bytes.
#![no_main]
use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use kiosk::passport::lds;
use kiosk::passport::pa::{PaCheckKind, passive_authentication};
use kiosk::passport::sod::{ParsedCertificate, Sod};
use kiosk::passport::trust::TrustStore;
use libfuzzer_sys::fuzz_target;

/// 2023-11-14T22:13:20Z: inside the validity of the seed PKI's certificates.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// DG1 of the ICAO 9303 specimen (the seed SODs hash this file).
static DATA_GROUPS: LazyLock<BTreeMap<u8, Vec<u8>>> = LazyLock::new(|| {
    let lines = [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
    ];
    BTreeMap::from([(1, lds::encode_dg1(&lines))])
});

/// The seed PKIs' CSCAs and CRL, so that SODs close to the seeds reach the
/// chain, validity and revocation checks too.
static SEED_TRUST: LazyLock<TrustStore> = LazyLock::new(|| {
    let mut store = TrustStore::new();
    store.add_certificate_der(include_bytes!("../seeds/sod/csca-p256.der"), "seed").expect("seed CSCA");
    store.add_certificate_der(include_bytes!("../seeds/sod/csca-rsa.der"), "seed").expect("seed CSCA");
    store.add_crl_der(include_bytes!("../seeds/sod/crl-p256.der"), "seed").expect("seed CRL");
    store
});

fuzz_target!(|data: &[u8]| {
    if let Ok(sod) = Sod::parse(data) {
        let cms = &sod.cms;
        let _ = cms.signer_identifier_text();
        let _ = cms.content_type_attribute();
        let _ = cms.message_digest_attribute();
        let _ = cms.signing_time();
        for certificate in &cms.certificates {
            inspect(certificate);
        }
        let _ = sod.ds_certificate();
        for n in sod.lds.data_groups() {
            assert!((1..=16).contains(&n));
            assert!(sod.lds.hash_for(n).is_some());
        }
    }

    // Never a panic, always a full report; a structure that does not parse
    // is a failure, never a pass.
    let report = passive_authentication(data, &DATA_GROUPS, "UTO", &TrustStore::new(), now());
    check_report(&report, data);
    if report.check(PaCheckKind::SodStructure).is_some_and(|v| v.is_passed()) {
        let report = passive_authentication(data, &DATA_GROUPS, "UTO", &SEED_TRUST, now());
        check_report(&report, data);
    }

    let mut store = TrustStore::new();
    let _ = store.add_master_list(data, "fuzz.ml");
    let _ = store.add_crl_der(data, "fuzz.crl");
    let _ = store.add_certificate_der(data, "fuzz.der");
    let _ = store.counts_by_country();
    for csca in store.cscas() {
        inspect(&csca.certificate);
        let _ = store.issuer_candidates(&csca.certificate);
        let _ = store.crls_for(csca);
    }
    for crl in store.crls() {
        let _ = crl.issuer();
        let _ = crl.authority_key_id();
        for csca in SEED_TRUST.cscas() {
            let _ = crl
                .verify_signature(csca.certificate.certificate.tbs_certificate().subject_public_key_info());
        }
    }
});

fn check_report(report: &kiosk::passport::pa::PassiveAuthReport, data: &[u8]) {
    assert_eq!(report.checks.len(), PaCheckKind::ALL.len(), "{}", report.summary());
    if Sod::parse(data).is_err() {
        assert!(report.verdict.is_failed(), "{}", report.summary());
    }
    let _ = report.summary();
}

fn inspect(certificate: &ParsedCertificate) {
    let _ = certificate.tbs_der();
    let _ = certificate.signature_bytes();
    let _ = certificate.subject();
    let _ = certificate.issuer();
    let _ = certificate.serial_hex();
    let _ = certificate.subject_key_id();
    let _ = certificate.authority_key_id();
    let _ = certificate.subject_country();
    let _ = certificate.is_self_issued();
}
