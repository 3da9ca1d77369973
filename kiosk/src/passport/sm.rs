//! Secure messaging (ICAO 9303 Part 11 §9.8): the encrypted and MACed APDUs
//! that follow BAC or PACE, for both ends of the link.
//!
//! - Reader: [`SecureMessaging::protect_command`] and
//!   [`SecureMessaging::unprotect_response`].
//! - Chip (the simulator): [`SecureMessaging::unprotect_command`] and
//!   [`SecureMessaging::protect_response`].
//!
//! Protected command: CLA with bits `0C`, data objects `87` (01 || cryptogram;
//! `85` without the indicator byte for an odd INS such as B1), `97` (Le) and
//! `8E` (MAC), then Le `00` (or `0000` in extended length). Protected response:
//! `87`/`85`, `99` (status word), `8E`. The send sequence counter (SSC) is
//! incremented before every protect and every unprotect, so both ends stay in
//! step as long as every APDU is seen once.
//!
//! 3DES: two-key 3DES-CBC with a zero IV, MAC = ISO/IEC 9797-1 MAC algorithm 3
//! (retail MAC). AES: AES-CBC with IV = E(K_enc, SSC), MAC = AES-CMAC truncated
//! to 8 bytes. Both MAC over `SSC || data`, padded with ISO/IEC 9797-1 padding
//! method 2 (done here; the RustCrypto MACs only do the block cipher part).
//!
//! Pure over byte buffers, and never panics on chip data: a malformed or forged
//! APDU is an [`SmError`]. The response MAC is verified before anything is
//! decrypted. Keys live in [`Zeroizing`] buffers.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};
use cmac::{Cmac, Mac};
use des::{Des, TdesEde2};
use retail_mac::RetailMac;
use serde::Serialize;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::apdu::{
    ApduError, CommandApdu, EXTENDED_NC_MAX, EXTENDED_NE_MAX, ResponseApdu, SHORT_NE_MAX, StatusError, sw,
};
use super::tlv::{self, Tlv};

/// The block cipher of a secure-messaging session (from BAC, or from the
/// PACE / Chip Authentication OID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmCipher {
    /// Two-key 3DES with the retail MAC (BAC, and the `-3DES-` OIDs).
    TripleDes,
    Aes128,
    Aes192,
    Aes256,
}

impl SmCipher {
    /// Cipher block size in bytes: 8 (3DES) or 16 (AES); also the SSC length.
    pub fn block_size(self) -> usize {
        match self {
            SmCipher::TripleDes => 8,
            SmCipher::Aes128 | SmCipher::Aes192 | SmCipher::Aes256 => 16,
        }
    }

    /// Key length in bytes (3DES: K1 || K2).
    pub fn key_len(self) -> usize {
        match self {
            SmCipher::TripleDes | SmCipher::Aes128 => 16,
            SmCipher::Aes192 => 24,
            SmCipher::Aes256 => 32,
        }
    }

    /// Name for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            SmCipher::TripleDes => "3DES",
            SmCipher::Aes128 => "AES-128",
            SmCipher::Aes192 => "AES-192",
            SmCipher::Aes256 => "AES-256",
        }
    }
}

impl std::fmt::Display for SmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// KDF counter for the encryption key.
pub const KDF_ENC: u32 = 1;
/// KDF counter for the MAC key.
pub const KDF_MAC: u32 = 2;
/// KDF counter for the PACE password key K_pi.
pub const KDF_PACE: u32 = 3;

/// The ICAO 9303 key derivation function (Part 11 §9.7.1): the first
/// `key_len` bytes of SHA-1 (3DES, AES-128) or SHA-256 (AES-192/256) of
/// `shared_secret || counter` (counter as 4 bytes big-endian). 3DES keys get
/// odd DES parity, as the standard's vectors show.
pub fn derive_key(shared_secret: &[u8], counter: u32, cipher: SmCipher) -> Zeroizing<Vec<u8>> {
    let counter = counter.to_be_bytes();
    let mut digest: Zeroizing<Vec<u8>> = Zeroizing::new(match cipher {
        SmCipher::TripleDes | SmCipher::Aes128 => {
            Sha1::new().chain_update(shared_secret).chain_update(counter).finalize().to_vec()
        }
        SmCipher::Aes192 | SmCipher::Aes256 => {
            Sha256::new().chain_update(shared_secret).chain_update(counter).finalize().to_vec()
        }
    });
    digest.truncate(cipher.key_len());
    if cipher == SmCipher::TripleDes {
        for byte in digest.iter_mut() {
            *byte = with_odd_parity(*byte);
        }
    }
    digest
}

/// DES keys carry a parity bit in the low bit of each byte; ICAO sets it odd.
fn with_odd_parity(byte: u8) -> u8 {
    let high_bits = byte & 0xFE;
    if high_bits.count_ones().is_multiple_of(2) { high_bits | 1 } else { high_bits }
}

/// A session's key pair. The key bytes are wiped when dropped.
#[derive(Clone)]
pub struct SessionKeys {
    pub cipher: SmCipher,
    pub k_enc: Zeroizing<Vec<u8>>,
    pub k_mac: Zeroizing<Vec<u8>>,
}

impl SessionKeys {
    /// K_enc = KDF(secret, 1), K_mac = KDF(secret, 2): the BAC key seed, the
    /// PACE / CA shared secret, or the BAC session seed K.IC xor K.IFD.
    pub fn derive(shared_secret: &[u8], cipher: SmCipher) -> SessionKeys {
        SessionKeys {
            cipher,
            k_enc: derive_key(shared_secret, KDF_ENC, cipher),
            k_mac: derive_key(shared_secret, KDF_MAC, cipher),
        }
    }
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key bytes, not even in a debug log.
        f.debug_struct("SessionKeys").field("cipher", &self.cipher).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    #[error(
        "the secure-messaging MAC does not verify: the data was altered on the link or the session keys \
         are wrong; end the session and authenticate again"
    )]
    BadMac,
    /// A bare status word where a protected response was due. After 6982,
    /// 6987 or 6988 the chip has dropped the session; some chips also answer
    /// other errors (6A82) this way and keep it.
    #[error(
        "the chip answered {sw:04X} ({}) without secure messaging; after 6982/6987/6988 the session is \
         over: reconnect and authenticate again",
        StatusError::from_sw(*sw)
    )]
    UnprotectedStatus { sw: u16 },
    #[error("secure-messaging data object '{tag:02X}' is missing")]
    MissingDataObject { tag: u8 },
    #[error("unexpected secure-messaging data object '{tag:02X}'")]
    UnexpectedDataObject { tag: u32 },
    #[error("malformed secure-messaging data: {0}")]
    Malformed(String),
    #[error("{cipher} cryptogram of {len} bytes is not a whole number of cipher blocks")]
    CryptogramLength { cipher: SmCipher, len: usize },
    #[error("decrypted data does not end with ISO/IEC 9797-1 padding method 2 (80 00 ..): wrong keys")]
    BadPadding,
    #[error("{cipher} key of {len} bytes has the wrong length")]
    KeyLength { cipher: SmCipher, len: usize },
    #[error("the command does not carry secure messaging (CLA {cla:02X} lacks bits 0C)")]
    CommandNotProtected { cla: u8 },
    #[error("the protected APDU cannot be encoded: {0}")]
    Apdu(#[from] ApduError),
}

/// An established secure-messaging session: the session keys and the send
/// sequence counter. One value per session per side; do not clone a session
/// to use it twice (the counters would diverge).
pub struct SecureMessaging {
    keys: SessionKeys,
    /// SSC as an integer; serialized to the cipher's block size.
    ssc: u128,
    /// Chip side: whether the last unprotected command had an odd INS, so its
    /// response data goes in DO'85' rather than DO'87'.
    last_command_odd_ins: bool,
}

impl std::fmt::Debug for SecureMessaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureMessaging")
            .field("cipher", &self.keys.cipher)
            .field("ssc", &hex::encode_upper(self.ssc_block()))
            .finish_non_exhaustive()
    }
}

impl SecureMessaging {
    /// `ssc`: the initial send sequence counter, big-endian, normally 8 bytes
    /// (3DES) or 16 (AES). A shorter value is zero-extended on the left; of a
    /// longer one only the last block-size bytes count.
    pub fn new(keys: SessionKeys, ssc: &[u8]) -> SecureMessaging {
        let block = keys.cipher.block_size();
        let tail = ssc.get(ssc.len().saturating_sub(block)..).unwrap_or(ssc);
        let ssc = tail.iter().fold(0u128, |acc, &b| (acc << 8) | b as u128);
        SecureMessaging { keys, ssc, last_command_odd_ins: false }
    }

    pub fn cipher(&self) -> SmCipher {
        self.keys.cipher
    }

    /// The current send sequence counter, block-size bytes big-endian.
    pub fn send_sequence_counter(&self) -> Vec<u8> {
        self.ssc_block()
    }

    fn ssc_block(&self) -> Vec<u8> {
        let block = self.keys.cipher.block_size();
        let bytes = self.ssc.to_be_bytes();
        bytes.get(bytes.len() - block..).unwrap_or(&bytes).to_vec()
    }

    fn increment_ssc(&mut self) {
        let bits = self.keys.cipher.block_size() * 8;
        let modulus_mask = if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 };
        self.ssc = self.ssc.wrapping_add(1) & modulus_mask;
    }

    /// IV of the current SSC: zero for 3DES, E(K_enc, SSC) for AES.
    fn iv(&self) -> Result<Vec<u8>, SmError> {
        let cipher = self.keys.cipher;
        match cipher {
            SmCipher::TripleDes => Ok(vec![0; 8]),
            _ => encrypt_block(cipher, &self.keys.k_enc, &self.ssc_block()),
        }
    }

    /// MAC over SSC || padded `input` (`input` is already header + DOs).
    fn mac(&self, input: &[u8]) -> Result<Vec<u8>, SmError> {
        let cipher = self.keys.cipher;
        let mut n = self.ssc_block();
        n.extend_from_slice(input);
        let n = pad(&n, cipher.block_size());
        mac(cipher, &self.keys.k_mac, &n)
    }

    fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, SmError> {
        let cipher = self.keys.cipher;
        let padded = Zeroizing::new(pad(plain, cipher.block_size()));
        cbc_encrypt(cipher, &self.keys.k_enc, &self.iv()?, &padded)
    }

    fn decrypt(&self, cryptogram: &[u8]) -> Result<Vec<u8>, SmError> {
        let cipher = self.keys.cipher;
        let plain = Zeroizing::new(cbc_decrypt(cipher, &self.keys.k_enc, &self.iv()?, cryptogram)?);
        unpad(&plain).map(<[u8]>::to_vec).ok_or(SmError::BadPadding)
    }

    /// Reader: wrap a plain command for the chip.
    pub fn protect_command(&mut self, command: &CommandApdu) -> Result<CommandApdu, SmError> {
        self.increment_ssc();
        let block = self.keys.cipher.block_size();
        let cla = command.cla | 0x0C;
        let header = [cla, command.ins, command.p1, command.p2];

        let mut objects = Vec::new();
        if !command.data.is_empty() {
            let cryptogram = self.encrypt(&command.data)?;
            if command.ins & 1 == 1 {
                objects.extend(tlv::encode(0x85, &cryptogram));
            } else {
                let mut value = Vec::with_capacity(cryptogram.len() + 1);
                value.push(0x01); // padding-content indicator: method 2
                value.extend_from_slice(&cryptogram);
                objects.extend(tlv::encode(0x87, &value));
            }
        }
        let long_le = command.ne.is_some_and(|ne| ne > SHORT_NE_MAX);
        if let Some(ne) = command.ne {
            if !(1..=EXTENDED_NE_MAX).contains(&ne) {
                return Err(ApduError::BadNe(ne).into());
            }
            let le = if long_le {
                ((ne % EXTENDED_NE_MAX) as u16).to_be_bytes().to_vec()
            } else {
                vec![(ne % SHORT_NE_MAX) as u8]
            };
            objects.extend(tlv::encode(0x97, &le));
        }

        let mut mac_input = pad(&header, block);
        mac_input.extend_from_slice(&objects);
        let mac = self.mac(&mac_input)?;
        objects.extend(tlv::encode(0x8E, &mac));

        if objects.len() > EXTENDED_NC_MAX {
            return Err(ApduError::DataTooLong(objects.len()).into());
        }
        let extended = long_le || objects.len() > 255;
        Ok(CommandApdu {
            cla,
            ins: command.ins,
            p1: command.p1,
            p2: command.p2,
            data: objects,
            ne: Some(if extended { EXTENDED_NE_MAX } else { SHORT_NE_MAX }),
        })
    }

    /// Reader: check and open the chip's protected response. A response that
    /// is only a status word is [`SmError::UnprotectedStatus`].
    pub fn unprotect_response(&mut self, response: &ResponseApdu) -> Result<ResponseApdu, SmError> {
        self.increment_ssc();
        if response.data.is_empty() {
            return Err(if response.sw == sw::OK {
                SmError::MissingDataObject { tag: 0x8E }
            } else {
                SmError::UnprotectedStatus { sw: response.sw }
            });
        }
        let objects = parse_objects(&response.data)?;
        let expected_mac = objects.mac.ok_or(SmError::MissingDataObject { tag: 0x8E })?;
        if objects.le.is_some() {
            return Err(SmError::UnexpectedDataObject { tag: 0x97 });
        }
        let mac = self.mac(&objects.mac_input)?;
        if !constant_time_eq(&mac, expected_mac) {
            return Err(SmError::BadMac);
        }
        let status = objects.status.ok_or(SmError::MissingDataObject { tag: 0x99 })?;
        let [hi, lo] = <[u8; 2]>::try_from(status).map_err(|_| {
            SmError::Malformed(format!("DO'99' holds {} bytes, not a status word", status.len()))
        })?;
        let data = match objects.cryptogram {
            Some(cryptogram) => self.decrypt(cryptogram)?,
            None => Vec::new(),
        };
        Ok(ResponseApdu { data, sw: u16::from_be_bytes([hi, lo]) })
    }

    /// Chip: check and open the reader's protected command.
    pub fn unprotect_command(&mut self, command: &CommandApdu) -> Result<CommandApdu, SmError> {
        self.increment_ssc();
        if command.cla & 0x0C != 0x0C {
            return Err(SmError::CommandNotProtected { cla: command.cla });
        }
        let block = self.keys.cipher.block_size();
        let objects = parse_objects(&command.data)?;
        let expected_mac = objects.mac.ok_or(SmError::MissingDataObject { tag: 0x8E })?;
        if objects.status.is_some() {
            return Err(SmError::UnexpectedDataObject { tag: 0x99 });
        }
        let mut mac_input = pad(&command.header(), block);
        mac_input.extend_from_slice(&objects.mac_input);
        let mac = self.mac(&mac_input)?;
        if !constant_time_eq(&mac, expected_mac) {
            return Err(SmError::BadMac);
        }
        let odd_ins = command.ins & 1 == 1;
        if objects.cryptogram.is_some() && objects.odd_ins_cryptogram != odd_ins {
            return Err(SmError::Malformed(format!(
                "INS {:02X} needs DO'{}', the command has the other one",
                command.ins,
                if odd_ins { "85" } else { "87" }
            )));
        }
        let data = match objects.cryptogram {
            Some(cryptogram) => self.decrypt(cryptogram)?,
            None => Vec::new(),
        };
        let ne = match objects.le {
            None | Some([]) => None,
            Some([0]) => Some(SHORT_NE_MAX),
            Some([le]) => Some(*le as usize),
            Some([0, 0]) => Some(EXTENDED_NE_MAX),
            Some([hi, lo]) => Some(u16::from_be_bytes([*hi, *lo]) as usize),
            Some(other) => {
                return Err(SmError::Malformed(format!(
                    "DO'97' holds {} bytes, at most 2 expected",
                    other.len()
                )));
            }
        };
        self.last_command_odd_ins = odd_ins;
        Ok(CommandApdu {
            cla: command.cla & !0x0C,
            ins: command.ins,
            p1: command.p1,
            p2: command.p2,
            data,
            ne,
        })
    }

    /// Chip: protect a response to the command last unprotected.
    pub fn protect_response(&mut self, response: &ResponseApdu) -> Result<ResponseApdu, SmError> {
        self.increment_ssc();
        let mut objects = Vec::new();
        if !response.data.is_empty() {
            let cryptogram = self.encrypt(&response.data)?;
            if self.last_command_odd_ins {
                objects.extend(tlv::encode(0x85, &cryptogram));
            } else {
                let mut value = Vec::with_capacity(cryptogram.len() + 1);
                value.push(0x01);
                value.extend_from_slice(&cryptogram);
                objects.extend(tlv::encode(0x87, &value));
            }
        }
        objects.extend(tlv::encode(0x99, &response.sw.to_be_bytes()));
        let mac = self.mac(&objects)?;
        objects.extend(tlv::encode(0x8E, &mac));
        Ok(ResponseApdu { data: objects, sw: response.sw })
    }
}

/// The data objects of a protected APDU, borrowed from it.
struct SmObjects<'a> {
    cryptogram: Option<&'a [u8]>,
    /// The cryptogram came in DO'85' (odd INS) rather than DO'87'.
    odd_ins_cryptogram: bool,
    le: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    mac: Option<&'a [u8]>,
    /// The encoded DOs before DO'8E', which the MAC covers.
    mac_input: Vec<u8>,
}

fn parse_objects(mut data: &[u8]) -> Result<SmObjects<'_>, SmError> {
    let mut objects = SmObjects {
        cryptogram: None,
        odd_ins_cryptogram: false,
        le: None,
        status: None,
        mac: None,
        mac_input: Vec::new(),
    };
    while !data.is_empty() {
        if objects.mac.is_some() {
            return Err(SmError::Malformed("data follows the MAC (DO'8E')".into()));
        }
        let object = Tlv::parse(data).map_err(|e| SmError::Malformed(e.to_string()))?;
        let (encoded, rest) = data.split_at_checked(object.encoded_len).ok_or_else(|| {
            SmError::Malformed(format!("data object of {} bytes overruns the APDU", object.encoded_len))
        })?;
        let duplicate = || SmError::Malformed(format!("data object '{:02X}' appears twice", object.tag));
        match object.tag {
            0x87 | 0x85 => {
                if objects.cryptogram.is_some() {
                    return Err(duplicate());
                }
                let cryptogram = if object.tag == 0x87 {
                    match object.value.split_first() {
                        Some((0x01, cryptogram)) => cryptogram,
                        Some((indicator, _)) => {
                            return Err(SmError::Malformed(format!(
                                "DO'87' padding-content indicator {indicator:02X}, only 01 (padding method 2) is used"
                            )));
                        }
                        None => return Err(SmError::Malformed("DO'87' is empty".into())),
                    }
                } else {
                    object.value
                };
                objects.cryptogram = Some(cryptogram);
                objects.odd_ins_cryptogram = object.tag == 0x85;
            }
            0x97 => {
                if objects.le.is_some() {
                    return Err(duplicate());
                }
                objects.le = Some(object.value);
            }
            0x99 => {
                if objects.status.is_some() {
                    return Err(duplicate());
                }
                objects.status = Some(object.value);
            }
            0x8E => {
                if object.value.len() != 8 {
                    return Err(SmError::Malformed(format!(
                        "DO'8E' holds {} bytes, not an 8-byte MAC",
                        object.value.len()
                    )));
                }
                objects.mac = Some(object.value);
            }
            other => return Err(SmError::UnexpectedDataObject { tag: other }),
        }
        if object.tag != 0x8E {
            objects.mac_input.extend_from_slice(encoded);
        }
        data = rest;
    }
    Ok(objects)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- Building blocks shared with BAC and PACE (crate-internal) ----

/// ISO/IEC 9797-1 padding method 2: append 80, then 00 up to a whole block
/// (always at least one byte is added).
pub(crate) fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let block = block.max(1);
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while !out.len().is_multiple_of(block) {
        out.push(0);
    }
    out
}

/// Strip padding method 2; `None` when the data does not end with it.
pub(crate) fn unpad(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|&b| b != 0)?;
    match data.get(end) {
        Some(0x80) => data.get(..end),
        _ => None,
    }
}

fn key_error(cipher: SmCipher, key: &[u8]) -> SmError {
    SmError::KeyLength { cipher, len: key.len() }
}

/// Encrypt one block with the raw block cipher (the AES SM IV, PACE-CAM's IV).
pub(crate) fn encrypt_block(cipher: SmCipher, key: &[u8], block: &[u8]) -> Result<Vec<u8>, SmError> {
    if block.len() != cipher.block_size() {
        return Err(SmError::CryptogramLength { cipher, len: block.len() });
    }
    // One-block CBC with a zero IV is the plain block encryption.
    cbc_encrypt(cipher, key, &vec![0; cipher.block_size()], block)
}

/// CBC-encrypt whole blocks (the caller pads).
pub(crate) fn cbc_encrypt(cipher: SmCipher, key: &[u8], iv: &[u8], plain: &[u8]) -> Result<Vec<u8>, SmError> {
    fn run<C: BlockCipherEncrypt + KeyInit>(
        cipher: SmCipher,
        key: &[u8],
        iv: &[u8],
        plain: &[u8],
    ) -> Result<Vec<u8>, SmError> {
        let encryptor = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| key_error(cipher, key))?;
        let mut buffer = plain.to_vec();
        let len = buffer.len();
        encryptor
            .encrypt_padded::<NoPadding>(&mut buffer, len)
            .map_err(|_| SmError::CryptogramLength { cipher, len })?;
        Ok(buffer)
    }
    if !plain.len().is_multiple_of(cipher.block_size()) {
        return Err(SmError::CryptogramLength { cipher, len: plain.len() });
    }
    match cipher {
        SmCipher::TripleDes => run::<TdesEde2>(cipher, key, iv, plain),
        SmCipher::Aes128 => run::<Aes128>(cipher, key, iv, plain),
        SmCipher::Aes192 => run::<Aes192>(cipher, key, iv, plain),
        SmCipher::Aes256 => run::<Aes256>(cipher, key, iv, plain),
    }
}

/// CBC-decrypt whole blocks (the caller unpads).
pub(crate) fn cbc_decrypt(
    cipher: SmCipher,
    key: &[u8],
    iv: &[u8],
    cryptogram: &[u8],
) -> Result<Vec<u8>, SmError> {
    fn run<C: BlockCipherDecrypt + KeyInit>(
        cipher: SmCipher,
        key: &[u8],
        iv: &[u8],
        cryptogram: &[u8],
    ) -> Result<Vec<u8>, SmError> {
        let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| key_error(cipher, key))?;
        let mut buffer = cryptogram.to_vec();
        let len = buffer.len();
        let plain_len = decryptor
            .decrypt_padded::<NoPadding>(&mut buffer)
            .map_err(|_| SmError::CryptogramLength { cipher, len })?
            .len();
        buffer.truncate(plain_len);
        Ok(buffer)
    }
    if cryptogram.is_empty() || !cryptogram.len().is_multiple_of(cipher.block_size()) {
        return Err(SmError::CryptogramLength { cipher, len: cryptogram.len() });
    }
    match cipher {
        SmCipher::TripleDes => run::<TdesEde2>(cipher, key, iv, cryptogram),
        SmCipher::Aes128 => run::<Aes128>(cipher, key, iv, cryptogram),
        SmCipher::Aes192 => run::<Aes192>(cipher, key, iv, cryptogram),
        SmCipher::Aes256 => run::<Aes256>(cipher, key, iv, cryptogram),
    }
}

/// The 8-byte MAC of `data` as given (no padding added here): retail MAC
/// (ISO/IEC 9797-1 MAC algorithm 3, single DES with K1, 3DES final block) for
/// 3DES, AES-CMAC truncated to 8 bytes for AES.
pub(crate) fn mac(cipher: SmCipher, key: &[u8], data: &[u8]) -> Result<Vec<u8>, SmError> {
    fn run<M: Mac + KeyInit>(cipher: SmCipher, key: &[u8], data: &[u8]) -> Result<Vec<u8>, SmError> {
        let mut mac = <M as KeyInit>::new_from_slice(key).map_err(|_| key_error(cipher, key))?;
        mac.update(data);
        let mut tag = mac.finalize().into_bytes().to_vec();
        let result = tag.get(..8).map(<[u8]>::to_vec).unwrap_or_default();
        tag.zeroize();
        Ok(result)
    }
    match cipher {
        SmCipher::TripleDes => {
            // The retail MAC pads with zeros; a whole-block input gets no extra padding.
            if !data.len().is_multiple_of(8) {
                return Err(SmError::CryptogramLength { cipher, len: data.len() });
            }
            run::<RetailMac<Des>>(cipher, key, data)
        }
        SmCipher::Aes128 => run::<Cmac<Aes128>>(cipher, key, data),
        SmCipher::Aes192 => run::<Cmac<Aes192>>(cipher, key, data),
        SmCipher::Aes256 => run::<Cmac<Aes256>>(cipher, key, data),
    }
}

/// Deterministic byte source for tests that must reproduce published vectors
/// (RND.IFD, K.IFD, PACE nonces and ephemeral keys). Never use outside tests.
#[cfg(test)]
pub(crate) mod test_rng {
    use std::convert::Infallible;

    /// Yields the scripted bytes in order, then a counter pattern.
    pub struct ScriptedRng {
        bytes: Vec<u8>,
        position: usize,
        filler: u8,
    }

    impl ScriptedRng {
        pub fn new(script: &[&str]) -> ScriptedRng {
            let bytes = script.iter().flat_map(|h| hex::decode(h).expect("test hex")).collect();
            ScriptedRng { bytes, position: 0, filler: 0x5A }
        }
        /// A non-repeating stream for protocol runs that need no fixed values.
        pub fn seeded(seed: u8) -> ScriptedRng {
            ScriptedRng { bytes: Vec::new(), position: 0, filler: seed }
        }
    }

    impl rand_core::TryRng for ScriptedRng {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for out in dst.iter_mut() {
                *out = match self.bytes.get(self.position) {
                    Some(b) => *b,
                    None => {
                        // xorshift-like filler: varied, deterministic.
                        self.filler = self.filler.rotate_left(3) ^ 0x9D ^ (self.position as u8);
                        self.filler
                    }
                };
                self.position += 1;
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for ScriptedRng {}
}

#[cfg(test)]
mod tests {
    use super::super::apdu::{read_binary, select_file};
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Appendix D.4: the session after the BAC of Appendix D.3.
    fn d4_session() -> SecureMessaging {
        let keys = SessionKeys {
            cipher: SmCipher::TripleDes,
            k_enc: Zeroizing::new(hex("979EC13B1CBFE9DCD01AB0FED307EAE5")),
            k_mac: Zeroizing::new(hex("F1CB1F1FB5ADF208806B89DC579DC1F8")),
        };
        SecureMessaging::new(keys, &hex("887022120C06C226"))
    }

    /// (plain command, protected command, protected response, plain response data)
    const D4: [(&str, &str, &str, &str); 3] = [
        (
            "00A4020C02011E",
            "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
            "990290008E08FA855A5D4C50A8ED9000",
            "",
        ),
        (
            "00B0000004",
            "0CB000000D9701048E08ED6705417E96BA5500",
            "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
            "60145F01",
        ),
        (
            "00B0000412",
            "0CB000040D9701128E082EA28A70F3C7B53500",
            "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
            "04303130365F36063034303030305C026175",
        ),
    ];

    #[test]
    fn kdf_matches_appendix_d() {
        // D.2: K_seed -> K_enc, K_mac (3DES, parity adjusted).
        let seed = hex("239AB9CB282DAF66231DC5A4DF6BFBAE");
        assert_eq!(*derive_key(&seed, KDF_ENC, SmCipher::TripleDes), hex("AB94FDECF2674FDFB9B391F85D7F76F2"));
        assert_eq!(*derive_key(&seed, KDF_MAC, SmCipher::TripleDes), hex("7962D9ECE03D1ACD4C76089DCE131543"));
        // D.3: session seed -> KS_enc, KS_mac.
        let keys = SessionKeys::derive(&hex("0036D272F5C350ACAC50C3F572D23600"), SmCipher::TripleDes);
        assert_eq!(*keys.k_enc, hex("979EC13B1CBFE9DCD01AB0FED307EAE5"));
        assert_eq!(*keys.k_mac, hex("F1CB1F1FB5ADF208806B89DC579DC1F8"));
        // G.1: K_pi (AES-128, SHA-1) and the session keys from the shared secret.
        let k = hex("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD");
        assert_eq!(*derive_key(&k, KDF_PACE, SmCipher::Aes128), hex("89DED1B26624EC1E634C1989302849DD"));
        let keys = SessionKeys::derive(
            &hex("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925"),
            SmCipher::Aes128,
        );
        assert_eq!(*keys.k_enc, hex("F5F0E35C0D7161EE6724EE513A0D9A7F"));
        assert_eq!(*keys.k_mac, hex("FE251C7858B356B24514B3BD5F4297D1"));
        // Lengths and hashes of the other ciphers.
        assert_eq!(derive_key(&k, 1, SmCipher::Aes192).len(), 24);
        assert_eq!(derive_key(&k, 1, SmCipher::Aes256).len(), 32);
        let sha256: Vec<u8> = Sha256::new().chain_update(&k).chain_update([0, 0, 0, 1]).finalize().to_vec();
        assert_eq!(*derive_key(&k, 1, SmCipher::Aes256), sha256);
    }

    #[test]
    fn reader_side_reproduces_appendix_d4_byte_for_byte() {
        let mut sm = d4_session();
        for (plain, protected, response, data) in D4 {
            let command = CommandApdu::parse(&hex(plain)).unwrap();
            let wrapped = sm.protect_command(&command).unwrap();
            assert_eq!(hex::encode_upper(wrapped.to_bytes().unwrap()), protected, "command {plain}");
            let response = ResponseApdu::parse(&hex(response)).unwrap();
            let opened = sm.unprotect_response(&response).unwrap();
            assert_eq!(opened, ResponseApdu::new(hex(data), 0x9000), "response to {plain}");
        }
        assert_eq!(sm.send_sequence_counter(), hex("887022120C06C22C"));
    }

    #[test]
    fn chip_side_reproduces_appendix_d4_byte_for_byte() {
        let mut reader = d4_session();
        let mut chip = d4_session();
        for (plain, protected, response, data) in D4 {
            let plain_command = CommandApdu::parse(&hex(plain)).unwrap();
            let received = CommandApdu::parse(&hex(protected)).unwrap();
            assert_eq!(chip.unprotect_command(&received).unwrap(), plain_command);
            let answer = chip.protect_response(&ResponseApdu::new(hex(data), 0x9000)).unwrap();
            assert_eq!(hex::encode_upper(answer.to_bytes()), response);
            // And the reader accepts what the chip produced.
            let sent = reader.protect_command(&plain_command).unwrap();
            assert_eq!(sent, received);
            assert_eq!(reader.unprotect_response(&answer).unwrap(), ResponseApdu::new(hex(data), 0x9000));
        }
        assert_eq!(select_file(0x011E).to_bytes().unwrap(), hex(D4[0].0));
        assert_eq!(read_binary(4, 0x12).to_bytes().unwrap(), hex(D4[2].0));
    }

    fn session_pair(cipher: SmCipher, secret: &[u8]) -> (SecureMessaging, SecureMessaging) {
        let ssc = vec![0; cipher.block_size()];
        (
            SecureMessaging::new(SessionKeys::derive(secret, cipher), &ssc),
            SecureMessaging::new(SessionKeys::derive(secret, cipher), &ssc),
        )
    }

    fn round_trip(
        reader: &mut SecureMessaging,
        chip: &mut SecureMessaging,
        command: CommandApdu,
        answer: ResponseApdu,
    ) {
        let protected = reader.protect_command(&command).unwrap();
        // Through the wire encoding, as a transport would carry it.
        let on_wire = CommandApdu::parse(&protected.to_bytes().unwrap()).unwrap();
        assert_eq!(on_wire, protected);
        assert_eq!(chip.unprotect_command(&on_wire).unwrap(), command);
        let protected_answer = chip.protect_response(&answer).unwrap();
        let on_wire = ResponseApdu::parse(&protected_answer.to_bytes()).unwrap();
        assert_eq!(reader.unprotect_response(&on_wire).unwrap(), answer);
    }

    #[test]
    fn every_cipher_round_trips_short_extended_and_odd_ins() {
        for cipher in [SmCipher::TripleDes, SmCipher::Aes128, SmCipher::Aes192, SmCipher::Aes256] {
            let (mut reader, mut chip) = session_pair(cipher, b"shared secret for the round trip");
            round_trip(&mut reader, &mut chip, select_file(0x0101), ResponseApdu::status(0x9000));
            round_trip(
                &mut reader,
                &mut chip,
                read_binary(0, 4),
                ResponseApdu::new(vec![0x61, 0x5B, 1, 2], 0x9000),
            );
            // Extended Le (Ne 65536 and 1000) and a long answer.
            let long: Vec<u8> = (0..1200u32).map(|i| (i * 7) as u8).collect();
            round_trip(
                &mut reader,
                &mut chip,
                read_binary(0x20, 65536),
                ResponseApdu::new(long.clone(), 0x9000),
            );
            round_trip(&mut reader, &mut chip, read_binary(0x20, 1000), ResponseApdu::new(long, 0x6282));
            // Odd INS (offset in DO'54'): DO'85' both ways.
            let odd = read_binary(0x8000, 200);
            let protected = reader.protect_command(&odd).unwrap();
            assert_eq!(protected.data.first(), Some(&0x85));
            assert_eq!(chip.unprotect_command(&protected).unwrap(), odd);
            let answer = chip.protect_response(&ResponseApdu::new(vec![0x53, 1, 9], 0x9000)).unwrap();
            assert_eq!(answer.data.first(), Some(&0x85));
            assert_eq!(
                reader.unprotect_response(&answer).unwrap(),
                ResponseApdu::new(vec![0x53, 1, 9], 0x9000)
            );
            // Long command data: extended Lc and Le 0000.
            let big = CommandApdu::new(0x00, 0xD6, 0, 0).with_data(vec![0xA5; 400]);
            let protected = reader.protect_command(&big).unwrap();
            assert!(protected.is_extended());
            assert_eq!(protected.ne, Some(EXTENDED_NE_MAX));
            assert_eq!(chip.unprotect_command(&protected).unwrap(), big);
            let answer = chip.protect_response(&ResponseApdu::status(0x9000)).unwrap();
            reader.unprotect_response(&answer).unwrap();
            assert_eq!(reader.send_sequence_counter(), chip.send_sequence_counter());
            assert_eq!(reader.send_sequence_counter().len(), cipher.block_size());
            assert_eq!(reader.cipher(), cipher);
        }
    }

    #[test]
    fn aes_iv_is_the_encrypted_ssc() {
        // Two identical commands give different cryptograms: the IV follows the SSC.
        let (mut reader, _) = session_pair(SmCipher::Aes128, b"k");
        let command = CommandApdu::new(0, 0x22, 0x41, 0xA4).with_data(vec![1, 2, 3]);
        let a = reader.protect_command(&command).unwrap();
        reader.increment_ssc();
        let b = reader.protect_command(&command).unwrap();
        assert_ne!(a.data, b.data);
    }

    #[test]
    fn tampering_is_a_bad_mac() {
        let mut reader = d4_session();
        reader.protect_command(&CommandApdu::parse(&hex(D4[0].0)).unwrap()).unwrap();
        let mut response = ResponseApdu::parse(&hex(D4[0].2)).unwrap();
        response.data[3] ^= 0x01; // 9000 -> 9001 inside DO'99'
        assert_eq!(reader.unprotect_response(&response), Err(SmError::BadMac));

        // A flipped MAC bit, and a flipped cryptogram bit, on the chip side.
        for index in [3, 18] {
            let mut chip = d4_session();
            let mut command = CommandApdu::parse(&hex(D4[0].1)).unwrap();
            command.data[index] ^= 0x80;
            assert_eq!(chip.unprotect_command(&command), Err(SmError::BadMac));
        }
        // A reader with the wrong keys.
        let mut wrong = SecureMessaging::new(
            SessionKeys::derive(b"other", SmCipher::TripleDes),
            &hex("887022120C06C226"),
        );
        wrong.protect_command(&CommandApdu::parse(&hex(D4[0].0)).unwrap()).unwrap();
        let response = ResponseApdu::parse(&hex(D4[0].2)).unwrap();
        assert_eq!(wrong.unprotect_response(&response), Err(SmError::BadMac));
        // A response replayed later (SSC moved on).
        let mut reader = d4_session();
        reader.protect_command(&CommandApdu::parse(&hex(D4[0].0)).unwrap()).unwrap();
        reader.unprotect_response(&ResponseApdu::parse(&hex(D4[0].2)).unwrap()).unwrap();
        reader.protect_command(&CommandApdu::parse(&hex(D4[1].0)).unwrap()).unwrap();
        assert_eq!(
            reader.unprotect_response(&ResponseApdu::parse(&hex(D4[0].2)).unwrap()),
            Err(SmError::BadMac)
        );
    }

    #[test]
    fn plain_status_words_are_their_own_error() {
        for status in [0x6982, 0x6987, 0x6988] {
            let mut reader = d4_session();
            let error = reader.unprotect_response(&ResponseApdu::status(status)).unwrap_err();
            assert_eq!(error, SmError::UnprotectedStatus { sw: status });
            assert!(error.to_string().contains(&format!("{status:04X}")));
        }
        let mut reader = d4_session();
        assert_eq!(
            reader.unprotect_response(&ResponseApdu::status(0x9000)),
            Err(SmError::MissingDataObject { tag: 0x8E })
        );
        // The chip refuses a plain command inside the session.
        let mut chip = d4_session();
        assert_eq!(
            chip.unprotect_command(&select_file(0x011E)),
            Err(SmError::CommandNotProtected { cla: 0x00 })
        );
    }

    #[test]
    fn missing_and_malformed_objects_are_typed() {
        let mut reader = d4_session();
        // MAC-only response without DO'99': correct MAC, then missing status.
        reader.increment_ssc();
        let mut probe = d4_session();
        probe.increment_ssc();
        probe.increment_ssc();
        let mac = probe.mac(&[]).unwrap();
        let response = ResponseApdu::new(tlv::encode(0x8E, &mac), 0x9000);
        assert_eq!(reader.unprotect_response(&response), Err(SmError::MissingDataObject { tag: 0x99 }));
        let mut reader = d4_session();
        let response = ResponseApdu::new(hex("99029000"), 0x9000);
        assert_eq!(reader.unprotect_response(&response), Err(SmError::MissingDataObject { tag: 0x8E }));
        let mut reader = d4_session();
        let response = ResponseApdu::new(hex("5301008E080000000000000000"), 0x9000);
        assert_eq!(reader.unprotect_response(&response), Err(SmError::UnexpectedDataObject { tag: 0x53 }));
    }

    #[test]
    fn garbage_never_panics() {
        // A small xorshift for varied inputs; every outcome must be an Err or Ok, never a panic.
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let templates: Vec<Vec<u8>> = D4.iter().map(|(_, _, r, _)| hex(r)).collect();
        for cipher in [SmCipher::TripleDes, SmCipher::Aes256] {
            let (mut reader, mut chip) = session_pair(cipher, b"x");
            for round in 0..3000 {
                let len = (next() % 64) as usize;
                let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if round % 3 == 0 {
                    // Mutate a well-formed template: plausible tags, broken lengths.
                    let template = &templates[round % templates.len()];
                    bytes = template.clone();
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                    bytes.truncate(1 + (next() as usize) % bytes.len());
                }
                if let Ok(response) = ResponseApdu::parse(&bytes) {
                    let _ = reader.unprotect_response(&response);
                }
                let mut command_bytes = vec![0x0C, next() as u8, 0, 0];
                command_bytes.extend_from_slice(&bytes);
                if let Ok(command) = CommandApdu::parse(&command_bytes) {
                    let _ = chip.unprotect_command(&command);
                }
            }
        }
        assert_eq!(unpad(&[]), None);
        assert_eq!(unpad(&[0, 0]), None);
        assert_eq!(unpad(&[1, 0x80, 0]), Some(&[1][..]));
        assert!(cbc_decrypt(SmCipher::Aes128, &[0; 3], &[0; 16], &[0; 16]).is_err());
        assert!(mac(SmCipher::TripleDes, &[0; 16], &[0; 7]).is_err());
    }

    #[test]
    fn debug_output_hides_keys() {
        let sm = d4_session();
        let text = format!("{sm:?}");
        assert!(text.contains("887022120C06C226"), "{text}");
        assert!(!text.contains("979E"), "{text}");
        assert!(!format!("{:?}", SessionKeys::derive(b"k", SmCipher::Aes128)).contains("k_enc"));
    }
}
