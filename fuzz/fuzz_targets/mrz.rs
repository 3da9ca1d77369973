//! MRZ text as an OCR engine or a chip's DG1 might deliver it: any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(mrz) = kiosk::passport::mrz::Mrz::parse(text) {
            let _ = mrz.key_information();
            let _ = mrz.all_checks_pass();
            let _ = mrz.expiry_ymd();
        }
    }
    let _ = kiosk::passport::lds::parse_dg1(data);
});
