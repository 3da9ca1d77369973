//! Bytes off the gate's serial line, split into arbitrary reads.
#![no_main]
use gate_controller::wire::{FrameDecoder, encode_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = FrameDecoder::new();
    // The first byte chooses how the stream is cut into reads.
    let step = data.first().map_or(1, |b| usize::from(*b % 64) + 1);
    for chunk in data.chunks(step) {
        for frame in decoder.push(chunk).into_iter().flatten() {
            // Whatever the decoder accepts must survive a re-encode unchanged.
            let mut again = FrameDecoder::new();
            let decoded = again.push(&encode_frame(&frame));
            assert!(matches!(decoded.as_slice(), [Ok(f)] if *f == frame), "{frame:?}");
        }
    }
});
