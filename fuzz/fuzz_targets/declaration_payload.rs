//! The declaration QR payload as a scanner may deliver it: any bytes, as
//! envelope bytes, as a CBOR body and as QR text. Nothing may panic; a body
//! that decodes must encode back to the same bytes (one declaration, one
//! encoding); what verifies must be a valid declaration; base45 that decodes
//! must encode back to the same text.
#![no_main]
use kiosk::declaration::payload::{self, Envelope, TrustStore};
use kiosk::declaration::{base45, body};
use libfuzzer_sys::fuzz_target;

/// The seeds are signed with the demo key at this time.
const NOW: u32 = 1_795_392_000;

fuzz_target!(|data: &[u8]| {
    let mut trust = TrustStore::new();
    trust.add(payload::signing_key_from_seed(payload::DEMO_SERVICE_KEY_SEED).verifying_key());

    if let Ok(env) = Envelope::parse(data) {
        assert_eq!(env.signed_part.len() + 64, data.len());
        assert!(env.body.len() <= data.len());
    }
    if let Ok(v) = trust.verify(data, NOW) {
        assert!(v.declaration.validate().is_ok());
        let _ = v.declaration.referral_reasons();
    }

    // The body alone (as if the signature had passed).
    if let Ok(decl) = body::decode(data) {
        assert_eq!(body::encode(&decl).ok().as_deref(), Some(data), "body re-encoding");
        let assessment = decl.duty_free_assessment();
        let _ = assessment.reason_codes();
        for age in [0, 5, 6, 19, 20, 99] {
            let _ = kiosk::declaration::duty_free::assess(&decl, age);
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = trust.verify_qr(text, NOW);
        if let Ok(bytes) = base45::decode(text) {
            assert_eq!(base45::encode(&bytes), text, "base45 re-encoding");
        }
    }
    // The bytes as the envelope inside a QR text.
    let _ = trust.verify_qr(&payload::qr_text(data), NOW);
});
