//! Basic Access Control (ICAO 9303 Part 11 §4.3, Appendix D): the MRZ-keyed
//! 3DES challenge-response that opens a secure-messaging session.
//!
//! Pure steps for both ends, then two small drivers:
//! - reader: [`authenticate`] runs GET CHALLENGE and MUTUAL AUTHENTICATE over a
//!   [`CardTransport`] and returns the [`SecureMessaging`] session;
//! - chip: [`ChipBac`] answers those two commands and yields the chip's session.
//!
//! Keys: K_seed = first 16 bytes of SHA-1(MRZ information); K_enc / K_mac =
//! KDF(K_seed, 1 / 2) (3DES). Cryptograms are 3DES-CBC with a zero IV, MACed
//! with the retail MAC over the cryptogram padded with method 2. The session
//! seed is K.IC xor K.IFD; the SSC is the last 4 bytes of RND.IC followed by
//! the last 4 bytes of RND.IFD.

use rand_core::CryptoRng;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::apdu::{CommandApdu, ResponseApdu, StatusError, ins, sw};
use super::sm::{self, SecureMessaging, SessionKeys, SmCipher, SmError};
use super::transport::{CardTransport, TransportError};

/// Length of RND.IC / RND.IFD.
pub const CHALLENGE_LEN: usize = 8;
/// Length of the key material K.IC / K.IFD.
pub const KEY_MATERIAL_LEN: usize = 16;
/// E_IFD || M_IFD and E_IC || M_IC: 32 bytes of cryptogram, 8 of MAC.
pub const CRYPTOGRAM_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacError {
    #[error("the link to the chip failed during BAC: {0}")]
    Transport(#[from] TransportError),
    #[error(
        "the chip does not offer BAC ({status} to {step}); a PACE-only chip answers this way: \
         read EF.CardAccess and use PACE"
    )]
    NotOffered { step: &'static str, status: StatusError },
    #[error(
        "the chip rejected the access keys ({status}): the document number, birth date or expiry date \
         used for the MRZ key does not match this document; rescan the data page"
    )]
    AccessDenied { status: StatusError },
    #[error("the chip refused {step}: {status}")]
    Refused { step: &'static str, status: StatusError },
    #[error("GET CHALLENGE returned {0} bytes; BAC needs an 8-byte RND.IC")]
    BadChallenge(usize),
    #[error("MUTUAL AUTHENTICATE returned {0} bytes; BAC needs 40 (E_IC || M_IC)")]
    BadResponseLength(usize),
    #[error(
        "the chip's MAC M_IC does not verify: the chip is not using our MRZ keys, or the data was altered"
    )]
    BadChipMac,
    #[error("the chip did not echo our challenge (RND.IFD / RND.IC mismatch): possible replay; start over")]
    ChallengeMismatch,
    #[error("BAC cryptography failed: {0}")]
    Crypto(#[from] SmError),
}

/// K_seed: the first 16 bytes of SHA-1 of the MRZ information (document
/// number, date of birth, date of expiry, each with its check digit).
pub fn key_seed(mrz_key_information: &str) -> Zeroizing<Vec<u8>> {
    let mut digest = Zeroizing::new(Sha1::digest(mrz_key_information.as_bytes()).to_vec());
    digest.truncate(16);
    digest
}

/// The document basic access keys K_enc / K_mac (3DES).
pub fn document_keys(mrz_key_information: &str) -> SessionKeys {
    SessionKeys::derive(&key_seed(mrz_key_information), SmCipher::TripleDes)
}

/// GET CHALLENGE for the 8-byte RND.IC.
pub fn get_challenge() -> CommandApdu {
    CommandApdu::new(0x00, ins::GET_CHALLENGE, 0x00, 0x00).with_ne(CHALLENGE_LEN)
}

/// RND.IC from the GET CHALLENGE response.
pub fn parse_challenge(response: &ResponseApdu) -> Result<[u8; CHALLENGE_LEN], BacError> {
    check_status("GET CHALLENGE", response.sw)?;
    <[u8; CHALLENGE_LEN]>::try_from(response.data.as_slice())
        .map_err(|_| BacError::BadChallenge(response.data.len()))
}

/// MUTUAL AUTHENTICATE (INS 82) carrying E_IFD || M_IFD, Le 40.
pub fn mutual_authenticate(cryptogram: &[u8]) -> CommandApdu {
    CommandApdu::new(0x00, ins::EXTERNAL_AUTHENTICATE, 0x00, 0x00)
        .with_data(cryptogram)
        .with_ne(CRYPTOGRAM_LEN)
}

/// The reader's random contribution: RND.IFD and K.IFD.
pub struct TerminalSecrets {
    pub rnd_ifd: [u8; CHALLENGE_LEN],
    pub k_ifd: Zeroizing<[u8; KEY_MATERIAL_LEN]>,
}

impl TerminalSecrets {
    /// RND.IFD (8 bytes) then K.IFD (16 bytes) from `rng`, in that order.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> TerminalSecrets {
        let mut rnd_ifd = [0; CHALLENGE_LEN];
        rng.fill_bytes(&mut rnd_ifd);
        let mut k_ifd = Zeroizing::new([0; KEY_MATERIAL_LEN]);
        rng.fill_bytes(k_ifd.as_mut());
        TerminalSecrets { rnd_ifd, k_ifd }
    }
}

/// E_IFD || M_IFD for S = RND.IFD || RND.IC || K.IFD.
pub fn reader_cryptogram(
    keys: &SessionKeys,
    rnd_ic: &[u8; CHALLENGE_LEN],
    terminal: &TerminalSecrets,
) -> Result<Vec<u8>, BacError> {
    let mut s = Zeroizing::new(Vec::with_capacity(32));
    s.extend_from_slice(&terminal.rnd_ifd);
    s.extend_from_slice(rnd_ic);
    s.extend_from_slice(terminal.k_ifd.as_ref());
    seal(keys, &s)
}

/// Check the chip's E_IC || M_IC and open the session.
pub fn reader_finish(
    keys: &SessionKeys,
    rnd_ic: &[u8; CHALLENGE_LEN],
    terminal: &TerminalSecrets,
    response: &ResponseApdu,
) -> Result<SecureMessaging, BacError> {
    check_status("MUTUAL AUTHENTICATE", response.sw)?;
    let r = open(keys, &response.data).map_err(|e| match e {
        OpenError::Length(len) => BacError::BadResponseLength(len),
        OpenError::Mac => BacError::BadChipMac,
        OpenError::Crypto(e) => BacError::Crypto(e),
    })?;
    // R = RND.IC || RND.IFD || K.IC
    let (echoed_ic, rest) = r.split_at(CHALLENGE_LEN);
    let (echoed_ifd, k_ic) = rest.split_at(CHALLENGE_LEN);
    if !constant_time_eq(echoed_ifd, &terminal.rnd_ifd) || !constant_time_eq(echoed_ic, rnd_ic) {
        return Err(BacError::ChallengeMismatch);
    }
    Ok(session(k_ic, terminal.k_ifd.as_ref(), rnd_ic, &terminal.rnd_ifd))
}

/// The session both ends compute: keys from K.IC xor K.IFD, SSC = last 4
/// bytes of RND.IC || last 4 bytes of RND.IFD.
pub fn session(
    k_ic: &[u8],
    k_ifd: &[u8],
    rnd_ic: &[u8; CHALLENGE_LEN],
    rnd_ifd: &[u8; CHALLENGE_LEN],
) -> SecureMessaging {
    let seed: Zeroizing<Vec<u8>> = Zeroizing::new(k_ic.iter().zip(k_ifd).map(|(a, b)| a ^ b).collect());
    let mut ssc = [0; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..]);
    SecureMessaging::new(SessionKeys::derive(&seed, SmCipher::TripleDes), &ssc)
}

/// Reader side of BAC over a transport: GET CHALLENGE, MUTUAL AUTHENTICATE,
/// then the session. `rng` supplies RND.IFD and K.IFD (use
/// `rand_core::UnwrapErr(getrandom::SysRng)` outside tests).
pub fn authenticate<R: CryptoRng + ?Sized>(
    transport: &mut dyn CardTransport,
    mrz_key_information: &str,
    rng: &mut R,
) -> Result<SecureMessaging, BacError> {
    let keys = document_keys(mrz_key_information);
    let rnd_ic = parse_challenge(&transport.exchange(&get_challenge())?)?;
    let terminal = TerminalSecrets::generate(rng);
    let cryptogram = reader_cryptogram(&keys, &rnd_ic, &terminal)?;
    let response = transport.exchange(&mutual_authenticate(&cryptogram))?;
    reader_finish(&keys, &rnd_ic, &terminal, &response)
}

fn check_status(step: &'static str, status_word: u16) -> Result<(), BacError> {
    if status_word == sw::OK {
        return Ok(());
    }
    let status = StatusError::from_sw(status_word);
    Err(match status_word {
        0x6300 | 0x63C0..=0x63CF | sw::SECURITY_STATUS_NOT_SATISFIED => BacError::AccessDenied { status },
        sw::REFERENCED_DATA_NOT_FOUND
        | sw::CONDITIONS_NOT_SATISFIED
        | sw::INS_NOT_SUPPORTED
        | sw::FUNCTION_NOT_SUPPORTED => BacError::NotOffered { step, status },
        _ => BacError::Refused { step, status },
    })
}

/// 3DES-CBC (zero IV) then retail MAC over the padded cryptogram.
fn seal(keys: &SessionKeys, plain: &[u8]) -> Result<Vec<u8>, BacError> {
    let mut out = sm::cbc_encrypt(SmCipher::TripleDes, &keys.k_enc, &[0; 8], plain)?;
    let mac = sm::mac(SmCipher::TripleDes, &keys.k_mac, &sm::pad(&out, 8))?;
    out.extend_from_slice(&mac);
    Ok(out)
}

enum OpenError {
    Length(usize),
    Mac,
    Crypto(SmError),
}

/// Verify the MAC first, then decrypt the 32-byte cryptogram.
fn open(keys: &SessionKeys, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if data.len() != CRYPTOGRAM_LEN {
        return Err(OpenError::Length(data.len()));
    }
    let (cryptogram, mac) = data.split_at(32);
    let expected =
        sm::mac(SmCipher::TripleDes, &keys.k_mac, &sm::pad(cryptogram, 8)).map_err(OpenError::Crypto)?;
    if !constant_time_eq(&expected, mac) {
        return Err(OpenError::Mac);
    }
    let plain =
        sm::cbc_decrypt(SmCipher::TripleDes, &keys.k_enc, &[0; 8], cryptogram).map_err(OpenError::Crypto)?;
    Ok(Zeroizing::new(plain))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The chip's side of BAC: answers GET CHALLENGE and MUTUAL AUTHENTICATE
/// for the document whose MRZ information it was built from. After a
/// successful MUTUAL AUTHENTICATE, [`ChipBac::take_session`] yields the chip's
/// [`SecureMessaging`].
pub struct ChipBac {
    keys: SessionKeys,
    /// RND.IC of the last GET CHALLENGE; consumed by one MUTUAL AUTHENTICATE.
    challenge: Option<[u8; CHALLENGE_LEN]>,
    session: Option<SecureMessaging>,
}

impl std::fmt::Debug for ChipBac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipBac")
            .field("challenge_pending", &self.challenge.is_some())
            .field("established", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl ChipBac {
    pub fn new(mrz_key_information: &str) -> ChipBac {
        ChipBac { keys: document_keys(mrz_key_information), challenge: None, session: None }
    }

    /// Whether this command is one of BAC's (plain GET CHALLENGE or MUTUAL
    /// AUTHENTICATE).
    pub fn handles(command: &CommandApdu) -> bool {
        command.cla == 0x00
            && (command.ins == ins::GET_CHALLENGE || command.ins == ins::EXTERNAL_AUTHENTICATE)
    }

    /// Answer one BAC command. `rng` supplies RND.IC (GET CHALLENGE) and K.IC
    /// (MUTUAL AUTHENTICATE). Wrong cryptogram or MAC: 6300, and a new GET
    /// CHALLENGE is needed.
    pub fn respond<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        match command.ins {
            ins::GET_CHALLENGE => {
                if command.p1 != 0 || command.p2 != 0 {
                    return ResponseApdu::status(sw::INCORRECT_P1P2);
                }
                if command.ne != Some(CHALLENGE_LEN) {
                    return ResponseApdu::status(sw::WRONG_LENGTH);
                }
                let mut rnd_ic = [0; CHALLENGE_LEN];
                rng.fill_bytes(&mut rnd_ic);
                self.challenge = Some(rnd_ic);
                ResponseApdu::new(rnd_ic.to_vec(), sw::OK)
            }
            ins::EXTERNAL_AUTHENTICATE => {
                // Any outcome uses up the challenge: no retries against one RND.IC.
                let Some(rnd_ic) = self.challenge.take() else {
                    return ResponseApdu::status(sw::CONDITIONS_NOT_SATISFIED);
                };
                if command.p1 != 0 || command.p2 != 0 {
                    return ResponseApdu::status(sw::INCORRECT_P1P2);
                }
                if command.data.len() != CRYPTOGRAM_LEN {
                    return ResponseApdu::status(sw::WRONG_LENGTH);
                }
                match self.answer_mutual_authenticate(&rnd_ic, &command.data, rng) {
                    Ok(answer) => answer,
                    Err(_) => ResponseApdu::status(0x6300),
                }
            }
            _ => ResponseApdu::status(sw::INS_NOT_SUPPORTED),
        }
    }

    fn answer_mutual_authenticate<R: CryptoRng + ?Sized>(
        &mut self,
        rnd_ic: &[u8; CHALLENGE_LEN],
        data: &[u8],
        rng: &mut R,
    ) -> Result<ResponseApdu, BacError> {
        let s = open(&self.keys, data).map_err(|_| BacError::BadChipMac)?;
        // S = RND.IFD || RND.IC || K.IFD
        let (rnd_ifd, rest) = s.split_at(CHALLENGE_LEN);
        let (echoed_ic, k_ifd) = rest.split_at(CHALLENGE_LEN);
        if !constant_time_eq(echoed_ic, rnd_ic) {
            return Err(BacError::ChallengeMismatch);
        }
        let rnd_ifd: [u8; CHALLENGE_LEN] = rnd_ifd.try_into().map_err(|_| BacError::ChallengeMismatch)?;
        let mut k_ic = Zeroizing::new([0; KEY_MATERIAL_LEN]);
        rng.fill_bytes(k_ic.as_mut());
        let mut r = Zeroizing::new(Vec::with_capacity(32));
        r.extend_from_slice(rnd_ic);
        r.extend_from_slice(&rnd_ifd);
        r.extend_from_slice(k_ic.as_ref());
        let answer = seal(&self.keys, &r)?;
        self.session = Some(session(k_ic.as_ref(), k_ifd, rnd_ic, &rnd_ifd));
        Ok(ResponseApdu::new(answer, sw::OK))
    }

    /// Whether MUTUAL AUTHENTICATE has succeeded and the session is waiting.
    pub fn is_established(&self) -> bool {
        self.session.is_some()
    }

    /// The chip's session after a successful MUTUAL AUTHENTICATE (once).
    pub fn take_session(&mut self) -> Option<SecureMessaging> {
        self.session.take()
    }
}

#[cfg(test)]
mod tests {
    use super::super::apdu::{read_binary, select_file};
    use super::super::sm::test_rng::ScriptedRng;
    use super::*;

    const MRZ_INFORMATION: &str = "L898902C<369080619406236";
    const RND_IC: &str = "4608F91988702212";
    const RND_IFD: &str = "781723860C06C226";
    const K_IFD: &str = "0B795240CB7049B01C19B33E32804F0B";
    const K_IC: &str = "0B4F80323EB3191CB04970CB4052790B";
    const E_IFD_M_IFD: &str =
        "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7";
    const E_IC_M_IC: &str =
        "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449";

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn rnd_ic() -> [u8; 8] {
        hex(RND_IC).try_into().unwrap()
    }

    fn terminal() -> TerminalSecrets {
        TerminalSecrets::generate(&mut ScriptedRng::new(&[RND_IFD, K_IFD]))
    }

    /// The D.4 session: its first protected command must match the appendix.
    fn assert_is_d4_session(mut sm: SecureMessaging) {
        assert_eq!(sm.send_sequence_counter(), hex("887022120C06C226"));
        let protected = sm.protect_command(&select_file(0x011E)).unwrap();
        assert_eq!(
            hex::encode_upper(protected.to_bytes().unwrap()),
            "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
        );
    }

    #[test]
    fn keys_match_appendix_d2() {
        assert_eq!(*key_seed(MRZ_INFORMATION), hex("239AB9CB282DAF66231DC5A4DF6BFBAE"));
        let keys = document_keys(MRZ_INFORMATION);
        assert_eq!(*keys.k_enc, hex("AB94FDECF2674FDFB9B391F85D7F76F2"));
        assert_eq!(*keys.k_mac, hex("7962D9ECE03D1ACD4C76089DCE131543"));
        assert_eq!(keys.cipher, SmCipher::TripleDes);
    }

    #[test]
    fn reader_steps_match_appendix_d3() {
        let keys = document_keys(MRZ_INFORMATION);
        assert_eq!(get_challenge().to_bytes().unwrap(), hex("0084000008"));
        let challenge = parse_challenge(&ResponseApdu::new(hex(RND_IC), 0x9000)).unwrap();
        assert_eq!(challenge, rnd_ic());
        let terminal = terminal();
        assert_eq!(terminal.rnd_ifd.to_vec(), hex(RND_IFD));
        let cryptogram = reader_cryptogram(&keys, &challenge, &terminal).unwrap();
        assert_eq!(hex::encode_upper(&cryptogram), E_IFD_M_IFD); // E_IFD and M_IFD
        let command = mutual_authenticate(&cryptogram);
        assert_eq!(hex::encode_upper(command.to_bytes().unwrap()), format!("0082000028{E_IFD_M_IFD}28"));
        let sm =
            reader_finish(&keys, &challenge, &terminal, &ResponseApdu::new(hex(E_IC_M_IC), 0x9000)).unwrap();
        assert_is_d4_session(sm);
    }

    #[test]
    fn session_keys_and_ssc_match_appendix_d3() {
        let seed: Vec<u8> = hex(K_IC).iter().zip(hex(K_IFD)).map(|(a, b)| a ^ b).collect();
        assert_eq!(seed, hex("0036D272F5C350ACAC50C3F572D23600"));
        let keys = SessionKeys::derive(&seed, SmCipher::TripleDes);
        assert_eq!(*keys.k_enc, hex("979EC13B1CBFE9DCD01AB0FED307EAE5"));
        assert_eq!(*keys.k_mac, hex("F1CB1F1FB5ADF208806B89DC579DC1F8"));
        let sm = session(&hex(K_IC), &hex(K_IFD), &rnd_ic(), &hex(RND_IFD).try_into().unwrap());
        assert_is_d4_session(sm);
    }

    #[test]
    fn chip_answers_match_appendix_d3() {
        let mut chip = ChipBac::new(MRZ_INFORMATION);
        let mut chip_rng = ScriptedRng::new(&[RND_IC, K_IC]);
        let challenge = chip.respond(&get_challenge(), &mut chip_rng);
        assert_eq!(challenge, ResponseApdu::new(hex(RND_IC), 0x9000));
        assert!(!chip.is_established());
        let answer = chip.respond(&mutual_authenticate(&hex(E_IFD_M_IFD)), &mut chip_rng);
        assert_eq!(hex::encode_upper(answer.to_bytes()), format!("{E_IC_M_IC}9000")); // E_IC and M_IC
        assert!(chip.is_established());
        let mut chip_sm = chip.take_session().unwrap();
        assert!(chip.take_session().is_none());
        assert_eq!(chip_sm.send_sequence_counter(), hex("887022120C06C226"));
        // The chip session opens the reader's D.4 command.
        let command =
            CommandApdu::parse(&hex("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")).unwrap();
        assert_eq!(chip_sm.unprotect_command(&command).unwrap(), select_file(0x011E));
    }

    /// A transport that hands each command to a [`ChipBac`] (and then to its session).
    struct BacChip {
        bac: ChipBac,
        rng: ScriptedRng,
        session: Option<SecureMessaging>,
        log: Vec<Vec<u8>>,
    }

    impl CardTransport for BacChip {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.log.push(command.to_vec());
            let command = CommandApdu::parse(command)?;
            if let Some(sm) = self.session.as_mut() {
                let plain =
                    sm.unprotect_command(&command).map_err(|e| TransportError::Reader(e.to_string()))?;
                let answer = ResponseApdu::new(vec![0x60, plain.ins], 0x9000);
                return Ok(sm.protect_response(&answer).unwrap().to_bytes());
            }
            let answer = self.bac.respond(&command, &mut self.rng);
            self.session = self.bac.take_session();
            Ok(answer.to_bytes())
        }
        fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B])
        }
        fn describe(&self) -> String {
            "BAC test chip".into()
        }
    }

    #[test]
    fn driver_reproduces_appendix_d_against_the_chip() {
        let mut chip = BacChip {
            bac: ChipBac::new(MRZ_INFORMATION),
            rng: ScriptedRng::new(&[RND_IC, K_IC]),
            session: None,
            log: Vec::new(),
        };
        let mut sm =
            authenticate(&mut chip, MRZ_INFORMATION, &mut ScriptedRng::new(&[RND_IFD, K_IFD])).unwrap();
        assert_eq!(chip.log[0], hex("0084000008"));
        assert_eq!(hex::encode_upper(&chip.log[1]), format!("0082000028{E_IFD_M_IFD}28"));
        // The session works end to end.
        let protected = sm.protect_command(&read_binary(0, 4)).unwrap();
        let answer = chip.exchange(&protected).unwrap();
        assert_eq!(sm.unprotect_response(&answer).unwrap(), ResponseApdu::new(vec![0x60, 0xB0], 0x9000));
    }

    #[test]
    fn random_runs_agree_and_a_wrong_mrz_is_denied() {
        for seed in 0..5u8 {
            let mut chip = BacChip {
                bac: ChipBac::new(MRZ_INFORMATION),
                rng: ScriptedRng::seeded(seed),
                session: None,
                log: Vec::new(),
            };
            let mut sm =
                authenticate(&mut chip, MRZ_INFORMATION, &mut ScriptedRng::seeded(seed ^ 0xFF)).unwrap();
            let protected = sm.protect_command(&select_file(0x0101)).unwrap();
            let answer = chip.exchange(&protected).unwrap();
            assert_eq!(sm.unprotect_response(&answer).unwrap().data, vec![0x60, 0xA4]);
        }
        let mut chip = BacChip {
            bac: ChipBac::new(MRZ_INFORMATION),
            rng: ScriptedRng::seeded(1),
            session: None,
            log: Vec::new(),
        };
        let error =
            authenticate(&mut chip, "L898902C<369080619406237", &mut ScriptedRng::seeded(2)).unwrap_err();
        assert!(matches!(error, BacError::AccessDenied { .. }), "{error}");
        assert!(chip.session.is_none());
    }

    #[test]
    fn the_system_rng_drives_both_sides() {
        let mut system_rng = rand_core::UnwrapErr(getrandom::SysRng);
        let mut chip = BacChip {
            bac: ChipBac::new(MRZ_INFORMATION),
            rng: ScriptedRng::seeded(42),
            session: None,
            log: Vec::new(),
        };
        let mut sm = authenticate(&mut chip, MRZ_INFORMATION, &mut system_rng).unwrap();
        let mut other_chip = ChipBac::new(MRZ_INFORMATION);
        assert_eq!(other_chip.respond(&get_challenge(), &mut system_rng).data.len(), 8);
        let protected = sm.protect_command(&select_file(0x011E)).unwrap();
        let answer = chip.exchange(&protected).unwrap();
        assert_eq!(sm.unprotect_response(&answer).unwrap().sw, 0x9000);
    }

    #[test]
    fn chip_rejects_bad_cryptograms_with_6300_and_needs_a_new_challenge() {
        let mut chip = ChipBac::new(MRZ_INFORMATION);
        let mut rng = ScriptedRng::new(&[RND_IC, K_IC]);
        // No challenge yet.
        assert_eq!(
            chip.respond(&mutual_authenticate(&hex(E_IFD_M_IFD)), &mut rng).sw,
            sw::CONDITIONS_NOT_SATISFIED
        );
        chip.respond(&get_challenge(), &mut rng);
        let mut tampered = hex(E_IFD_M_IFD);
        tampered[39] ^= 1;
        assert_eq!(chip.respond(&mutual_authenticate(&tampered), &mut rng).sw, 0x6300);
        // The challenge is used up, even by a failed attempt.
        assert_eq!(
            chip.respond(&mutual_authenticate(&hex(E_IFD_M_IFD)), &mut rng).sw,
            sw::CONDITIONS_NOT_SATISFIED
        );
        // A correct cryptogram for another RND.IC is refused too.
        let mut rng = ScriptedRng::new(&["0000000000000001"]);
        chip.respond(&get_challenge(), &mut rng);
        assert_eq!(chip.respond(&mutual_authenticate(&hex(E_IFD_M_IFD)), &mut rng).sw, 0x6300);
        assert!(!chip.is_established());
        // Wrong lengths and parameters.
        chip.respond(&get_challenge(), &mut rng);
        assert_eq!(chip.respond(&mutual_authenticate(&[0; 39]), &mut rng).sw, sw::WRONG_LENGTH);
        let mut rng = ScriptedRng::seeded(3);
        assert_eq!(chip.respond(&get_challenge().with_ne(16), &mut rng).sw, sw::WRONG_LENGTH);
        assert_eq!(
            chip.respond(&CommandApdu::new(0, 0x84, 1, 0).with_ne(8), &mut rng).sw,
            sw::INCORRECT_P1P2
        );
        assert!(ChipBac::handles(&get_challenge()));
        assert!(!ChipBac::handles(&select_file(0x011E)));
    }

    #[test]
    fn reader_reports_bad_chip_answers_without_panicking() {
        let keys = document_keys(MRZ_INFORMATION);
        let terminal = terminal();
        let finish =
            |data: Vec<u8>, sw: u16| reader_finish(&keys, &rnd_ic(), &terminal, &ResponseApdu::new(data, sw));
        assert!(matches!(finish(hex(E_IC_M_IC), 0x6300), Err(BacError::AccessDenied { .. })));
        assert!(matches!(finish(Vec::new(), 0x6A88), Err(BacError::NotOffered { .. })));
        assert!(matches!(finish(Vec::new(), 0x6985), Err(BacError::NotOffered { .. })));
        assert!(matches!(finish(Vec::new(), 0x6F00), Err(BacError::Refused { .. })));
        assert_eq!(
            finish(hex(E_IC_M_IC)[..39].to_vec(), 0x9000).unwrap_err(),
            BacError::BadResponseLength(39)
        );
        let mut bad_mac = hex(E_IC_M_IC);
        bad_mac[33] ^= 4;
        assert_eq!(finish(bad_mac, 0x9000).unwrap_err(), BacError::BadChipMac);
        // A chip that answers with the right keys but another RND.IFD.
        let other = TerminalSecrets::generate(&mut ScriptedRng::new(&["781723860C06C227", K_IFD]));
        let answer = ResponseApdu::new(hex(E_IC_M_IC), 0x9000);
        assert_eq!(
            reader_finish(&keys, &rnd_ic(), &other, &answer).unwrap_err(),
            BacError::ChallengeMismatch
        );
        assert_eq!(parse_challenge(&ResponseApdu::new(vec![1; 7], 0x9000)), Err(BacError::BadChallenge(7)));
        for len in 0..60 {
            let _ = finish(vec![0xA5; len], 0x9000);
            let _ = parse_challenge(&ResponseApdu::new(vec![0xA5; len], 0x9000));
        }
    }
}
