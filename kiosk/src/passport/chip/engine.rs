//! The chip's command processing: one command APDU in, one response APDU
//! out, with the security state of a real eMRTD chip. No I/O and no clock;
//! the link (faults, delays, counters) is [`super::VirtualChip`]'s business.
//!
//! States: no access control (only the master file is readable, BAC / PACE
//! accepted), PACE in progress, and a secure-messaging session (after BAC or
//! PACE) in which every command must be protected: a plain or badly MACed
//! command ends the session with an unprotected 6987 / 6988, as real chips
//! do. Chip Authentication re-keys the session (SSC 0) after its answer.

use rand_core::CryptoRng;

use super::super::aa::{AaHash, AaPrivateKey};
use super::super::apdu::{CommandApdu, ResponseApdu, SHORT_NE_MAX, ins, sw};
use super::super::bac::ChipBac;
use super::super::ca::{CaPrivateKey, ca_ecdh_cipher};
use super::super::pace::{ChipPace, PaceParams, PacePassword};
use super::super::security_infos::PaceInfo;
use super::super::sm::{SecureMessaging, SessionKeys, SmCipher, SmError};
use super::super::tlv::{Tlv, TlvIter};
use super::ChipProfile;
use super::fs::{self, Df, FileSystem, Selection};
use der::asn1::ObjectIdentifier as Oid;

/// ISO/IEC 7816-4: command chaining not supported.
const CHAINING_NOT_SUPPORTED: u16 = 0x6884;
/// BAC / PACE verification failed.
const AUTHENTICATION_FAILED: u16 = 0x6300;

/// How the current session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMethod {
    Bac,
    Pace,
}

/// What the chip's security state is (for tests and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SessionState {
    /// `None` before access control.
    pub access: Option<AccessMethod>,
    /// Whether the session runs under Chip Authentication keys.
    pub chip_authenticated: bool,
}

/// What the chip knows and never gives out.
pub(crate) struct Secrets {
    pub bac: bool,
    /// The MRZ information of DG1: the BAC key seed and the PACE password.
    pub mrz_information: Option<String>,
    /// The PACEInfos of EF.CardAccess (empty: no PACE).
    pub pace_infos: Vec<PaceInfo>,
    pub aa: Option<AaPrivateKey>,
    pub aa_hash: Option<AaHash>,
    pub ca: Option<CaPrivateKey>,
    pub ca_key_id: Option<u64>,
}

struct SecureSession {
    sm: SecureMessaging,
    method: AccessMethod,
    /// MSE:Set AT for Chip Authentication accepted: the cipher of the keys
    /// the GENERAL AUTHENTICATE will set up.
    ca_template: Option<SmCipher>,
    chip_authenticated: bool,
}

enum Access {
    None,
    Pace(Box<ChipPace>),
    Secure(Box<SecureSession>),
}

pub(crate) struct ChipCore {
    fs: FileSystem,
    profile: ChipProfile,
    secrets: Secrets,
    selection: Selection,
    bac: Option<ChipBac>,
    access: Access,
}

impl ChipCore {
    pub fn new(fs: FileSystem, profile: ChipProfile, secrets: Secrets) -> ChipCore {
        let mut core = ChipCore {
            fs,
            profile,
            secrets,
            selection: Selection::default(),
            bac: None,
            access: Access::None,
        };
        core.reset();
        core
    }

    /// Power-up: master file selected, no session.
    pub fn reset(&mut self) {
        self.selection = Selection::default();
        self.end_session();
    }

    pub fn profile(&self) -> &ChipProfile {
        &self.profile
    }

    pub fn session_state(&self) -> SessionState {
        match &self.access {
            Access::Secure(s) => {
                SessionState { access: Some(s.method), chip_authenticated: s.chip_authenticated }
            }
            Access::None | Access::Pace(_) => SessionState { access: None, chip_authenticated: false },
        }
    }

    /// Drop the security state (the selection stays, as on real chips).
    fn end_session(&mut self) {
        self.access = Access::None;
        self.bac = match (&self.secrets.mrz_information, self.secrets.bac) {
            (Some(mrz), true) => Some(ChipBac::new(mrz)),
            _ => None,
        };
    }

    /// Process one command APDU (any bytes) and return the response APDU.
    pub fn process<R: CryptoRng + ?Sized>(&mut self, bytes: &[u8], rng: &mut R) -> Vec<u8> {
        self.respond(bytes, rng).to_bytes()
    }

    fn respond<R: CryptoRng + ?Sized>(&mut self, bytes: &[u8], rng: &mut R) -> ResponseApdu {
        let in_session = matches!(self.access, Access::Secure(_));
        // A command the chip cannot take in ends a session: the chip cannot
        // answer it under secure messaging.
        let refuse = |core: &mut ChipCore, status: u16| {
            if in_session {
                core.end_session();
            }
            ResponseApdu::status(status)
        };
        let Ok(command) = CommandApdu::parse(bytes) else {
            return refuse(self, sw::WRONG_LENGTH);
        };
        // Extended length: Lc or Le in three bytes starting with 00.
        let extended = bytes.len() > 5 && bytes.get(4) == Some(&0);
        if extended && !self.profile.extended_length {
            return refuse(self, sw::WRONG_LENGTH);
        }
        if !matches!(command.cla, 0x00 | 0x10 | 0x0C | 0x1C) {
            return refuse(self, sw::CLA_NOT_SUPPORTED);
        }
        let protected = command.cla & 0x0C == 0x0C;

        let Access::Secure(session) = &mut self.access else {
            if protected {
                return ResponseApdu::status(sw::SECURITY_STATUS_NOT_SATISFIED);
            }
            return self.dispatch_plain(&command, rng);
        };
        if !protected {
            self.end_session();
            return ResponseApdu::status(sw::SM_DATA_OBJECTS_MISSING);
        }
        let inner = match session.sm.unprotect_command(&command) {
            Ok(inner) => inner,
            Err(e) => {
                self.end_session();
                return ResponseApdu::status(match e {
                    SmError::MissingDataObject { .. } | SmError::CommandNotProtected { .. } => {
                        sw::SM_DATA_OBJECTS_MISSING
                    }
                    _ => sw::SM_DATA_OBJECTS_INCORRECT,
                });
            }
        };
        let (response, rekey) = self.dispatch_secure(&inner, rng);
        let Access::Secure(session) = &mut self.access else {
            return ResponseApdu::status(sw::UNKNOWN);
        };
        let protected_response = match session.sm.protect_response(&response) {
            Ok(r) => r,
            Err(_) => {
                self.end_session();
                return ResponseApdu::status(sw::UNKNOWN);
            }
        };
        // The answer to MSE:Set KAT / GENERAL AUTHENTICATE goes under the old
        // keys; everything after it under the new ones.
        if let Some(sm) = rekey {
            session.sm = sm;
            session.chip_authenticated = true;
            session.ca_template = None;
        }
        protected_response
    }

    fn dispatch_plain<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        let chained = command.cla & 0x10 != 0;
        if chained && command.ins != ins::GENERAL_AUTHENTICATE {
            return ResponseApdu::status(CHAINING_NOT_SUPPORTED);
        }
        match command.ins {
            ins::SELECT => self.select(command),
            ins::READ_BINARY | ins::READ_BINARY_ODD => self.read_binary(command, false),
            ins::GET_CHALLENGE | ins::EXTERNAL_AUTHENTICATE => self.bac_step(command, rng),
            ins::MANAGE_SECURITY_ENVIRONMENT if command.p1 == 0xC1 && command.p2 == 0xA4 => {
                self.pace_start(command, rng)
            }
            ins::GENERAL_AUTHENTICATE => self.pace_step(command, rng),
            ins::MANAGE_SECURITY_ENVIRONMENT | ins::INTERNAL_AUTHENTICATE => {
                ResponseApdu::status(sw::SECURITY_STATUS_NOT_SATISFIED)
            }
            _ => ResponseApdu::status(sw::INS_NOT_SUPPORTED),
        }
    }

    /// The answer to a command opened from secure messaging, and the new
    /// session when it completes Chip Authentication.
    fn dispatch_secure<R: CryptoRng + ?Sized>(
        &mut self,
        command: &CommandApdu,
        rng: &mut R,
    ) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |s| (ResponseApdu::status(s), None);
        if command.cla & 0x10 != 0 {
            return status(CHAINING_NOT_SUPPORTED);
        }
        if command.ne.is_some_and(|ne| ne > SHORT_NE_MAX) && !self.profile.extended_length {
            return status(sw::WRONG_LENGTH);
        }
        match command.ins {
            ins::SELECT => (self.select(command), None),
            ins::READ_BINARY | ins::READ_BINARY_ODD => (self.read_binary(command, true), None),
            ins::INTERNAL_AUTHENTICATE => (self.internal_authenticate(command, rng), None),
            ins::MANAGE_SECURITY_ENVIRONMENT => match (command.p1, command.p2) {
                (0x41, 0xA6) => match self.set_key_agreement_template(command) {
                    Ok(sm) => (ResponseApdu::status(sw::OK), Some(sm)),
                    Err(s) => status(s),
                },
                (0x41, 0xA4) => (self.set_ca_authentication_template(command), None),
                _ => status(sw::INCORRECT_P1P2),
            },
            ins::GENERAL_AUTHENTICATE => match self.ca_general_authenticate(command) {
                Ok(sm) => (ResponseApdu::new(vec![0x7C, 0x00], sw::OK), Some(sm)),
                Err(s) => status(s),
            },
            ins::GET_CHALLENGE => (random_challenge(command, rng), None),
            _ => status(sw::INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, command: &CommandApdu) -> ResponseApdu {
        let (selection, response) = self.fs.select(self.selection, command);
        self.selection = selection;
        response
    }

    fn read_binary(&mut self, command: &CommandApdu, authenticated: bool) -> ResponseApdu {
        let Some(ne) = command.ne else {
            return ResponseApdu::status(sw::WRONG_LENGTH);
        };
        let (selection, fid, offset) = match self.fs.read_target(self.selection, command) {
            Ok(target) => target,
            Err(status) => return ResponseApdu::status(status),
        };
        // The eMRTD application's files need BAC or PACE first.
        if selection.df == Df::Emrtd && !authenticated {
            return ResponseApdu::status(sw::SECURITY_STATUS_NOT_SATISFIED);
        }
        self.selection = selection;
        let file = self.fs.file(selection.df, fid).unwrap_or_default();
        fs::read(file, offset, ne, self.profile.max_read, command.ins == ins::READ_BINARY_ODD)
    }

    fn bac_step<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        if let Some(bac) = self.bac.as_mut() {
            let response = bac.respond(command, rng);
            if let Some(sm) = bac.take_session() {
                self.access = Access::Secure(Box::new(SecureSession {
                    sm,
                    method: AccessMethod::Bac,
                    ca_template: None,
                    chip_authenticated: false,
                }));
            }
            return response;
        }
        // A PACE-only chip: a challenge is harmless, BAC itself is refused.
        match command.ins {
            ins::GET_CHALLENGE => random_challenge(command, rng),
            _ if self.secrets.mrz_information.is_none() => ResponseApdu::status(sw::CONDITIONS_NOT_SATISFIED),
            _ => ResponseApdu::status(sw::REFERENCED_DATA_NOT_FOUND),
        }
    }

    /// MSE:Set AT for PACE: pick the PACEInfo of EF.CardAccess the terminal
    /// names in DO'80', and start a PACE run with it.
    fn pace_start<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        self.access = Access::None;
        let Some(mrz) = self.secrets.mrz_information.clone() else {
            return ResponseApdu::status(sw::CONDITIONS_NOT_SATISFIED);
        };
        if self.secrets.pace_infos.is_empty() {
            return ResponseApdu::status(sw::INCORRECT_DATA);
        }
        let requested = TlvIter::new(&command.data)
            .map_while(Result::ok)
            .find(|t| t.tag == 0x80)
            .map(|t| t.value.to_vec());
        let Some(info) =
            self.secrets.pace_infos.iter().find(|i| requested.as_deref() == Some(i.protocol.as_bytes()))
        else {
            return ResponseApdu::status(sw::INCORRECT_DATA);
        };
        let Ok(params) = PaceParams::from_pace_info(&info.protocol, info.parameter_id) else {
            return ResponseApdu::status(sw::INCORRECT_DATA);
        };
        // PACE-CAM proves the Chip Authentication key, on the PACE curve.
        let cam_key =
            self.secrets.ca.as_ref().filter(|k| k.curve().oid() == params.curve.oid()).map(|k| k.scalar());
        let Ok(mut pace) = ChipPace::new(PacePassword::Mrz(mrz), params, cam_key) else {
            return ResponseApdu::status(sw::CONDITIONS_NOT_SATISFIED);
        };
        let response = pace.respond(command, rng);
        if response.sw == sw::OK {
            self.access = Access::Pace(Box::new(pace));
        }
        response
    }

    fn pace_step<R: CryptoRng + ?Sized>(&mut self, command: &CommandApdu, rng: &mut R) -> ResponseApdu {
        let Access::Pace(pace) = &mut self.access else {
            return ResponseApdu::status(sw::CONDITIONS_NOT_SATISFIED);
        };
        let response = pace.respond(command, rng);
        if let Some(sm) = pace.take_session() {
            self.access = Access::Secure(Box::new(SecureSession {
                sm,
                method: AccessMethod::Pace,
                ca_template: None,
                chip_authenticated: false,
            }));
        } else if response.sw == AUTHENTICATION_FAILED {
            self.access = Access::None;
        }
        response
    }

    /// INTERNAL AUTHENTICATE: Active Authentication of an 8-byte challenge.
    fn internal_authenticate<R: CryptoRng + ?Sized>(
        &mut self,
        command: &CommandApdu,
        rng: &mut R,
    ) -> ResponseApdu {
        let Some(key) = &self.secrets.aa else {
            return ResponseApdu::status(sw::INS_NOT_SUPPORTED);
        };
        if command.p1 != 0 || command.p2 != 0 {
            return ResponseApdu::status(sw::INCORRECT_P1P2);
        }
        if command.data.len() != super::super::aa::CHALLENGE_LEN {
            return ResponseApdu::status(sw::WRONG_LENGTH);
        }
        match key.sign_challenge(&command.data, self.secrets.aa_hash, rng) {
            Ok(signature) => ResponseApdu::new(signature, sw::OK),
            Err(_) => ResponseApdu::status(sw::UNKNOWN),
        }
    }

    /// The key a CA command refers to, checked against DO'84' when present.
    fn ca_key(&self, data: &[u8]) -> Result<&CaPrivateKey, u16> {
        let key = self.secrets.ca.as_ref().ok_or(sw::REFERENCED_DATA_NOT_FOUND)?;
        if let Some(reference) = find_object(data, 0x84)? {
            let id = (reference.len() <= 8)
                .then(|| reference.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
                .ok_or(sw::INCORRECT_DATA)?;
            if self.secrets.ca_key_id.is_some_and(|own| own != id) {
                return Err(sw::REFERENCED_DATA_NOT_FOUND);
            }
        }
        Ok(key)
    }

    /// MSE:Set KAT (3DES Chip Authentication): DO'91' ephemeral public key,
    /// optional DO'84' key id. The new session is 3DES with SSC 0.
    fn set_key_agreement_template(&mut self, command: &CommandApdu) -> Result<SecureMessaging, u16> {
        let key = self.ca_key(&command.data)?;
        let ephemeral = find_object(&command.data, 0x91)?.ok_or(sw::INCORRECT_DATA)?;
        let secret = key.agree(ephemeral).map_err(|_| sw::INCORRECT_DATA)?;
        let cipher = SmCipher::TripleDes;
        Ok(SecureMessaging::new(SessionKeys::derive(&secret, cipher), &vec![0; cipher.block_size()]))
    }

    /// MSE:Set AT for Chip Authentication: DO'80' protocol OID (id-CA-ECDH-*),
    /// optional DO'84' key id.
    fn set_ca_authentication_template(&mut self, command: &CommandApdu) -> ResponseApdu {
        let cipher = match find_object(&command.data, 0x80) {
            Ok(Some(protocol)) => match ca_cipher(protocol) {
                Some(cipher) => cipher,
                None => return ResponseApdu::status(sw::INCORRECT_DATA),
            },
            Ok(None) | Err(_) => return ResponseApdu::status(sw::INCORRECT_DATA),
        };
        if let Err(status) = self.ca_key(&command.data) {
            return ResponseApdu::status(status);
        }
        if let Access::Secure(session) = &mut self.access {
            session.ca_template = Some(cipher);
        }
        ResponseApdu::status(sw::OK)
    }

    /// GENERAL AUTHENTICATE after MSE:Set AT (CA): 7C { 80 ephemeral key }.
    fn ca_general_authenticate(&mut self, command: &CommandApdu) -> Result<SecureMessaging, u16> {
        let Access::Secure(session) = &mut self.access else {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        };
        let cipher = session.ca_template.take().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let template = Tlv::parse_expecting(&command.data, 0x7C).map_err(|_| sw::INCORRECT_DATA)?;
        let ephemeral = template.child(0x80).map_err(|_| sw::INCORRECT_DATA)?.value;
        let key = self.secrets.ca.as_ref().ok_or(sw::REFERENCED_DATA_NOT_FOUND)?;
        let secret = key.agree(ephemeral).map_err(|_| sw::INCORRECT_DATA)?;
        Ok(SecureMessaging::new(SessionKeys::derive(&secret, cipher), &vec![0; cipher.block_size()]))
    }
}

/// GET CHALLENGE: 8 random bytes (the only length eMRTD chips give).
fn random_challenge<R: CryptoRng + ?Sized>(command: &CommandApdu, rng: &mut R) -> ResponseApdu {
    if command.p1 != 0 || command.p2 != 0 {
        return ResponseApdu::status(sw::INCORRECT_P1P2);
    }
    if command.ne != Some(8) {
        return ResponseApdu::status(sw::WRONG_LENGTH);
    }
    let mut challenge = vec![0; 8];
    rng.fill_bytes(&mut challenge);
    ResponseApdu::new(challenge, sw::OK)
}

/// The value of the first data object `tag` in an MSE data field.
fn find_object(data: &[u8], tag: u32) -> Result<Option<&[u8]>, u16> {
    for object in TlvIter::new(data) {
        let object = object.map_err(|_| sw::INCORRECT_DATA)?;
        if object.tag == tag {
            return Ok(Some(object.value));
        }
    }
    Ok(None)
}

/// The session cipher of an id-CA-ECDH-* OID given as its DER value bytes.
fn ca_cipher(protocol: &[u8]) -> Option<SmCipher> {
    ca_ecdh_cipher(&Oid::from_bytes(protocol).ok()?)
}
