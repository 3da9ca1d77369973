//! The ISO/IEC 9796-2 message representative recovered from a chip's Active
//! Authentication signature: any bytes (a forged or cloned chip chooses the
//! signature, so after the RSA operation F is effectively arbitrary).
#![no_main]
use kiosk::passport::aa::recover_iso9796_2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(recovered) = recover_iso9796_2(data) else { return };
    // header/padding || M1 || H || trailer, in that order, inside F.
    let trailer = if data.last() == Some(&0xBC) { 1 } else { 2 };
    assert_eq!(recovered.digest.len(), recovered.hash.output_len());
    assert!(!recovered.m1.is_empty());
    let start = |part: &[u8]| part.as_ptr() as usize - data.as_ptr() as usize;
    let digest_start = start(recovered.digest);
    assert_eq!(digest_start + recovered.digest.len() + trailer, data.len());
    assert_eq!(start(recovered.m1) + recovered.m1.len(), digest_start);
    assert!(start(recovered.m1) >= 1);
    // The byte before M1 ends the padding with nibble A.
    assert_eq!(data[start(recovered.m1) - 1] & 0x0F, 0x0A);
});
