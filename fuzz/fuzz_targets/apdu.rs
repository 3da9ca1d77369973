//! Command and response APDUs as the chip and the reader receive them.
#![no_main]
use kiosk::passport::apdu::{CommandApdu, ResponseApdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = CommandApdu::parse(data) {
        // What parses must encode back to the same command.
        let bytes = cmd.to_bytes().expect("a parsed command encodes");
        assert_eq!(CommandApdu::parse(&bytes).as_ref(), Ok(&cmd));
    }
    if let Ok(resp) = ResponseApdu::parse(data) {
        assert_eq!(resp.to_bytes(), data);
    }
});
