//! Every LDS file as a chip (or a clone of one) may deliver it: BER-TLV,
//! EF.COM, DG1, DG2 (and its portrait), DG11, DG12, DG14, DG15, EF.SOD's
//! wrapper, EF.CardAccess and SecurityInfos. The same bytes go to every
//! parser; what parses must encode back to something that parses the same.
#![no_main]
use kiosk::passport::aa::AaPublicKey;
use kiosk::passport::lds::{self, Dg11, Dg12, EfCom, FacePortrait};
use kiosk::passport::security_infos::{SecurityInfo, SecurityInfos};
use kiosk::passport::tlv::{self, Tlv, TlvHeader, TlvIter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_tlv(data);

    match lds::file_length(data) {
        Ok(length) => {
            assert!(length <= lds::MAX_FILE_LEN);
            let header = TlvHeader::parse(data).expect("file_length parsed a header");
            assert_eq!(header.total_len(), Some(length));
        }
        Err(_) => {}
    }

    if let Ok(com) = EfCom::parse(data) {
        assert_eq!(EfCom::parse(&com.encode()).as_ref().ok(), Some(&com), "EF.COM re-encoding");
        let _ = com.data_groups();
    }

    if let Ok(mrz) = lds::parse_dg1(data) {
        let _ = mrz.all_checks_pass();
        let _ = mrz.key_information();
    }

    if let Ok(portrait) = lds::parse_dg2(data) {
        let again = lds::parse_dg2(&lds::encode_dg2(&portrait)).expect("a parsed DG2 re-encodes");
        assert_eq!(again, portrait, "DG2 re-encoding");
        decode_portrait(&portrait);
    }
    // The facial record on its own (what DG2's 5F2E holds).
    if let Ok(portrait) = lds::parse_iso19794_5(data) {
        decode_portrait(&portrait);
    }

    if let Ok(dg11) = Dg11::parse(data) {
        assert_eq!(Dg11::parse(&dg11.encode()).ok().as_ref(), Some(&dg11), "DG11 re-encoding");
    }
    if let Ok(dg12) = Dg12::parse(data) {
        assert_eq!(Dg12::parse(&dg12.encode()).ok().as_ref(), Some(&dg12), "DG12 re-encoding");
    }

    if let Ok(infos) = lds::parse_dg14(data) {
        check_security_infos(&infos);
        let dg14 = lds::encode_dg14(&infos).expect("parsed SecurityInfos encode as DG14");
        let again = lds::parse_dg14(&dg14).expect("a re-encoded DG14 parses");
        assert_same_infos(&infos, &again);
    }

    if let Ok(spki) = lds::parse_dg15(data) {
        let dg15 = lds::encode_dg15(&spki).expect("a parsed DG15 key encodes");
        assert_eq!(lds::parse_dg15(&dg15).ok().as_ref(), Some(&spki), "DG15 re-encoding");
    }
    // How Active Authentication reads DG15 (RSA modulus, EC curve parameters).
    if let Ok(key) = AaPublicKey::from_dg15(data) {
        let _ = key.describe();
        if let Ok(dg15) = key.to_dg15() {
            assert!(AaPublicKey::from_dg15(&dg15).is_ok(), "AA key re-encoding: {}", key.describe());
        }
    }

    if let Ok(content_info) = lds::parse_ef_sod(data) {
        assert_eq!(lds::parse_ef_sod(&lds::encode_ef_sod(content_info)).ok(), Some(content_info));
    }

    if let Ok(infos) = lds::parse_card_access(data) {
        check_security_infos(&infos);
    }
    if let Ok(infos) = SecurityInfos::parse(data) {
        check_security_infos(&infos);
    }
});

/// One TLV, its header, its children (recursively) and the iterator over the
/// whole buffer: every view stays inside the input and agrees with the others.
fn check_tlv(data: &[u8]) {
    match Tlv::parse(data) {
        Ok(t) => {
            assert!(t.encoded_len <= data.len());
            assert!(t.value.len() <= t.encoded_len);
            let header = TlvHeader::parse(data).expect("a parsed TLV has a header");
            assert_eq!((header.tag, header.value_len), (t.tag, t.value.len()));
            assert_eq!(header.total_len(), Some(t.encoded_len));
            assert!(header.header_len <= TlvHeader::MAX_LEN);
            // The shortest re-encoding reads back to the same object.
            let again = tlv::encode(t.tag, t.value);
            let back = Tlv::parse(&again).expect("a re-encoded TLV parses");
            assert_eq!((back.tag, back.value, back.encoded_len), (t.tag, t.value, again.len()));
            assert!(again.len() <= t.encoded_len);
            walk(t, 0);
        }
        Err(_) => {}
    }
    let mut consumed = 0usize;
    for item in TlvIter::new(data) {
        match item {
            Ok(t) => {
                consumed += t.encoded_len;
                assert!(consumed <= data.len());
            }
            Err(_) => break,
        }
    }
}

/// Children of constructed objects, as the LDS parsers look them up.
fn walk(t: Tlv<'_>, depth: usize) {
    // Deep enough for any LDS file; bounds the recursion on hostile nesting.
    if depth > 64 || !t.is_constructed() {
        return;
    }
    let mut total = 0usize;
    for child in t.children() {
        match child {
            Ok(c) => {
                total += c.encoded_len;
                assert!(total <= t.value.len());
                walk(c, depth + 1);
            }
            Err(_) => break,
        }
    }
    let _ = t.child(0x5C);
}

/// Parsed SecurityInfos must encode, and the encoding must parse back to the
/// same infos (DER sorts the SET, so the order may change).
fn check_security_infos(infos: &SecurityInfos) {
    let _ = infos.pace_infos().count();
    let _ = infos.chip_authentication_infos().count();
    let _ = infos.chip_authentication_public_keys().count();
    let _ = infos.active_authentication();
    let _ = infos.terminal_authentication();
    for info in &infos.infos {
        let _ = info.protocol();
    }
    let encoded = infos.encode().expect("parsed SecurityInfos encode");
    let again = SecurityInfos::parse(&encoded)
        .unwrap_or_else(|e| panic!("re-encoded SecurityInfos do not parse: {e}; {infos:?}"));
    assert_same_infos(infos, &again);
}

fn assert_same_infos(a: &SecurityInfos, b: &SecurityInfos) {
    assert_eq!(a.infos.len(), b.infos.len(), "SecurityInfos re-encoding changed the count");
    let key = |i: &SecurityInfo| i.encode().expect("a SecurityInfo encodes");
    let mut ka: Vec<_> = a.infos.iter().map(key).collect();
    let mut kb: Vec<_> = b.infos.iter().map(key).collect();
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb, "SecurityInfos re-encoding changed the infos");
    for info in &b.infos {
        assert!(a.infos.contains(info), "SecurityInfos re-encoding changed {info:?}");
    }
}

/// The portrait is untrusted JPEG / JPEG 2000. The kiosk runs the third-party
/// decoders under `catch_unwind` (a decoder panic becomes an error), so a
/// panic it catches is not a crash of the kiosk, but libfuzzer-sys' panic hook
/// would abort on it anyway. So the call runs with a hook that only records
/// the message; a panic that escapes `decode` is re-raised with that message
/// under the usual hook, and is a crash. Set FUZZ_STRICT_DECODERS=1 to report
/// the decoder panics the kiosk catches as crashes too.
fn decode_portrait(portrait: &FacePortrait) {
    let _ = portrait.detected_type();
    let strict = std::env::var_os("FUZZ_STRICT_DECODERS").is_some_and(|v| v == "1");
    let result = if strict {
        portrait.decode()
    } else {
        thread_local! {
            static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| LAST_PANIC.with(|m| *m.borrow_mut() = info.to_string())));
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| portrait.decode()));
        std::panic::set_hook(previous);
        match outcome {
            Ok(result) => result,
            Err(_) => {
                let message = LAST_PANIC.with(|m| std::mem::take(&mut *m.borrow_mut()));
                panic!("a panic escaped FacePortrait::decode: {message}");
            }
        }
    };
    if let Ok(image) = result {
        assert!(image.width() <= lds::MAX_PORTRAIT_SIDE && image.height() <= lds::MAX_PORTRAIT_SIDE);
    }
}
