//! Secure messaging with fixed session keys: protected responses as the reader
//! receives them from a chip, protected commands as the (simulated) chip
//! receives them from a reader.
//!
//! The first input byte is the control byte:
//! - bits 0-2: the mode (below);
//! - bit 3: the session: 3DES with the ICAO 9303 Part 11 Appendix D.3 keys and
//!   SSC 887022120C06C226, or AES-128 with the Appendix G.1 (PACE) keys and
//!   SSC 0;
//! - bits 4-7: how many steps the initial SSC is ahead of that (so that the
//!   Appendix D.4 exchanges verify: response 1 at step 1, 2 at 3, 3 at 5;
//!   commands at steps 0, 2, 4).
//!
//! Modes (the rest of the input is `body`):
//! - 0: `body` is a response APDU: `unprotect_response`.
//! - 1: `body` is a command APDU: chip side `unprotect_command`, then
//!   `protect_response` of an answer.
//! - 2: round trip. body = INS, SW1 SW2, mutation position (2 bytes), XOR mask,
//!   response data. The reader protects a command with that INS, the chip
//!   opens it and protects a response with that data and status, and the
//!   reader must open it to exactly that; the same response with one byte
//!   changed must be refused.
//! - 3: body = SW1 SW2, then data objects (87/85/99/97/...): the target appends
//!   DO'8E' with the correct MAC over them, so `unprotect_response` gets past
//!   the MAC check to the status word, decryption and unpadding.
//! - 4: body = header (4 bytes), then data objects: the same for a protected
//!   command and `unprotect_command`.
//!   Other values: modes 0 and 1 both on `body`.
#![no_main]
use aes::Aes128;
use cmac::{Cmac, KeyInit, Mac};
use des::Des;
use kiosk::passport::apdu::{CommandApdu, ResponseApdu};
use kiosk::passport::sm::{SecureMessaging, SessionKeys, SmCipher};
use libfuzzer_sys::fuzz_target;
use retail_mac::RetailMac;
use zeroize::Zeroizing;

const D3_KS_ENC: [u8; 16] = hex16("979EC13B1CBFE9DCD01AB0FED307EAE5");
const D3_KS_MAC: [u8; 16] = hex16("F1CB1F1FB5ADF208806B89DC579DC1F8");
const D3_SSC: u128 = 0x887022120C06C226;
const G1_KS_ENC: [u8; 16] = hex16("F5F0E35C0D7161EE6724EE513A0D9A7F");
const G1_KS_MAC: [u8; 16] = hex16("FE251C7858B356B24514B3BD5F4297D1");
const G1_SSC: u128 = 0;

#[derive(Clone, Copy)]
struct Session {
    aes: bool,
    /// The initial SSC.
    ssc: u128,
}

impl Session {
    fn from_control(control: u8) -> Session {
        let aes = control & 0x08 != 0;
        let step = u128::from(control >> 4);
        let ssc = if aes { G1_SSC.wrapping_add(step) } else { (D3_SSC + step) & u128::from(u64::MAX) };
        Session { aes, ssc }
    }

    fn block(self) -> usize {
        if self.aes { 16 } else { 8 }
    }

    fn keys(self) -> (SmCipher, &'static [u8], &'static [u8]) {
        if self.aes {
            (SmCipher::Aes128, &G1_KS_ENC, &G1_KS_MAC)
        } else {
            (SmCipher::TripleDes, &D3_KS_ENC, &D3_KS_MAC)
        }
    }

    fn open(self) -> SecureMessaging {
        let (cipher, k_enc, k_mac) = self.keys();
        let keys = SessionKeys {
            cipher,
            k_enc: Zeroizing::new(k_enc.to_vec()),
            k_mac: Zeroizing::new(k_mac.to_vec()),
        };
        let bytes = self.ssc.to_be_bytes();
        SecureMessaging::new(keys, &bytes[16 - self.block()..])
    }

    /// The SSC block after `increments` increments.
    fn ssc_block(self, increments: u128) -> Vec<u8> {
        let ssc = self.ssc.wrapping_add(increments);
        let bytes = ssc.to_be_bytes();
        bytes[16 - self.block()..].to_vec()
    }

    /// The secure-messaging MAC (ICAO 9303 Part 11 9.8.6) over SSC || input,
    /// computed here independently of the kiosk: retail MAC or AES-CMAC/8
    /// over the input with padding method 2.
    fn mac(self, ssc_increments: u128, input: &[u8]) -> [u8; 8] {
        let mut n = self.ssc_block(ssc_increments);
        n.extend_from_slice(input);
        let n = pad(&n, self.block());
        let (_, _, k_mac) = self.keys();
        let tag = if self.aes {
            let mut m = <Cmac<Aes128> as KeyInit>::new_from_slice(k_mac).expect("AES-128 key");
            m.update(&n);
            m.finalize().into_bytes().to_vec()
        } else {
            let mut m = <RetailMac<Des> as KeyInit>::new_from_slice(k_mac).expect("3DES key");
            m.update(&n);
            m.finalize().into_bytes().to_vec()
        };
        tag[..8].try_into().expect("8 bytes")
    }
}

fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    out.push(0x80);
    while out.len() % block != 0 {
        out.push(0);
    }
    out
}

fn with_mac(objects: &[u8], mac: [u8; 8]) -> Vec<u8> {
    let mut out = objects.to_vec();
    out.extend_from_slice(&[0x8E, 0x08]);
    out.extend_from_slice(&mac);
    out
}

/// FUZZ_SM_TRACE=1 prints what each input led to (to check the seeds reach
/// the paths they are meant for).
static TRACE: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("FUZZ_SM_TRACE").is_some_and(|v| v == "1"));

fn trace(what: &str, outcome: &dyn std::fmt::Debug) {
    if *TRACE {
        eprintln!("[sm_response] {what}: {outcome:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else { return };
    let session = Session::from_control(control);
    match control & 0x07 {
        0 => reader_opens(session, body),
        1 => chip_opens(session, body),
        2 => round_trip(session, body),
        3 => response_with_valid_mac(session, body),
        4 => command_with_valid_mac(session, body),
        _ => {
            reader_opens(session, body);
            chip_opens(session, body);
        }
    }
});

fn reader_opens(session: Session, body: &[u8]) {
    let Ok(response) = ResponseApdu::parse(body) else { return };
    let mut reader = session.open();
    let result = reader.unprotect_response(&response);
    trace("unprotect_response", &result);
    if let Ok(plain) = result {
        // The plaintext is never longer than the cryptogram that carried it.
        assert!(plain.data.len() < response.data.len());
    }
}

fn chip_opens(session: Session, body: &[u8]) {
    let Ok(command) = CommandApdu::parse(body) else { return };
    let mut chip = session.open();
    let result = chip.unprotect_command(&command);
    trace("unprotect_command", &result);
    if let Ok(plain) = result {
        assert!(plain.data.len() < command.data.len());
        assert_eq!(plain.cla & 0x0C, 0);
        let answer = chip.protect_response(&ResponseApdu::new(plain.data.clone(), 0x9000));
        assert!(answer.is_ok(), "protect_response after an accepted command: {answer:?}");
    }
}

fn round_trip(session: Session, body: &[u8]) {
    let [ins, sw1, sw2, pos_hi, pos_lo, mask, data @ ..] = body else { return };
    let sw = u16::from_be_bytes([*sw1, *sw2]);
    let mut reader = session.open();
    let mut chip = session.open();

    // A READ BINARY-like command with this INS (odd INS: the chip answers in DO'85').
    let command = CommandApdu::new(0x00, *ins, 0x00, 0x00).with_ne(256);
    let protected = reader.protect_command(&command).expect("a short command protects");
    let wire = CommandApdu::parse(&protected.to_bytes().expect("a protected command encodes"))
        .expect("a protected command parses");
    assert_eq!(chip.unprotect_command(&wire).expect("the chip opens the reader's command"), command);

    let plain = ResponseApdu::new(data.to_vec(), sw);
    let answer = chip.protect_response(&plain).expect("the chip protects any response");
    // The MAC computed here agrees with the kiosk's (SSC + 2: command, response).
    let (objects, mac) = answer.data.split_at(answer.data.len() - 10);
    assert_eq!(mac[..2], [0x8E, 0x08]);
    assert_eq!(mac[2..], session.mac(2, objects), "independent MAC differs from the chip's");

    let wire = ResponseApdu::parse(&answer.to_bytes()).expect("a response parses");
    let mut reader_copy = session.open();
    let _ = reader_copy.protect_command(&command);
    assert_eq!(reader.unprotect_response(&wire).expect("the reader opens the chip's response"), plain);

    // One byte changed anywhere in the protected data: refused.
    let mut tampered = answer.data.clone();
    let at = usize::from(u16::from_be_bytes([*pos_hi, *pos_lo])) % tampered.len();
    tampered[at] ^= if *mask == 0 { 1 } else { *mask };
    let result = reader_copy.unprotect_response(&ResponseApdu::new(tampered, sw));
    trace("round trip, tampered response", &result);
    assert!(result.is_err(), "a tampered response was accepted: {result:?}");
}

fn response_with_valid_mac(session: Session, body: &[u8]) {
    let [sw1, sw2, objects @ ..] = body else { return };
    let sw = u16::from_be_bytes([*sw1, *sw2]);
    // unprotect_response increments the SSC once before checking.
    let response = ResponseApdu::new(with_mac(objects, session.mac(1, objects)), sw);
    let mut reader = session.open();
    let result = reader.unprotect_response(&response);
    trace("unprotect_response (MAC made here)", &result);
    if let Ok(plain) = result {
        assert!(plain.data.len() < response.data.len());
    }
}

fn command_with_valid_mac(session: Session, body: &[u8]) {
    let [cla, ins, p1, p2, objects @ ..] = body else { return };
    let header = [*cla | 0x0C, *ins, *p1, *p2];
    let mut input = pad(&header, session.block());
    input.extend_from_slice(objects);
    let data = with_mac(objects, session.mac(1, &input));
    let command = CommandApdu { cla: header[0], ins: *ins, p1: *p1, p2: *p2, data, ne: Some(256) };
    let mut chip = session.open();
    let result = chip.unprotect_command(&command);
    trace("unprotect_command (MAC made here)", &result);
    if let Ok(plain) = result {
        assert!(plain.data.len() < command.data.len());
        let _ = chip.protect_response(&ResponseApdu::new(plain.data.clone(), 0x9000));
    }
}

const fn hex16(s: &str) -> [u8; 16] {
    let b = s.as_bytes();
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not a hex digit"),
    }
}
