//! ISO/IEC 7816-4 application protocol data units: command APDUs in short and
//! extended length, response APDUs and their status words.
//!
//! Pure and panic-free: [`CommandApdu::parse`] and [`ResponseApdu::parse`]
//! accept any bytes and say what is wrong with them; the chip simulator uses
//! the parser, the reader the encoder, and both are tested against each other.

/// The largest Ne a short APDU can ask for (Le = 00).
pub const SHORT_NE_MAX: usize = 256;
/// The largest Ne an extended APDU can ask for (Le = 0000).
pub const EXTENDED_NE_MAX: usize = 65536;
/// The largest command data field of an extended APDU.
pub const EXTENDED_NC_MAX: usize = 65535;

pub mod ins {
    pub const SELECT: u8 = 0xA4;
    pub const READ_BINARY: u8 = 0xB0;
    /// READ BINARY with the offset in data object 54 (offsets above 32767).
    pub const READ_BINARY_ODD: u8 = 0xB1;
    pub const GET_CHALLENGE: u8 = 0x84;
    pub const EXTERNAL_AUTHENTICATE: u8 = 0x82;
    pub const INTERNAL_AUTHENTICATE: u8 = 0x88;
    pub const MANAGE_SECURITY_ENVIRONMENT: u8 = 0x22;
    pub const GENERAL_AUTHENTICATE: u8 = 0x86;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    #[error("a command APDU needs at least the 4 header bytes, got {0}")]
    TooShort(usize),
    #[error("command APDU body of {len} bytes does not match any ISO 7816-4 case")]
    BadBody { len: usize },
    #[error("command data of {0} bytes is longer than an extended APDU can carry (65535)")]
    DataTooLong(usize),
    #[error("Ne {0} is out of range (1..=65536)")]
    BadNe(usize),
    #[error("a response APDU needs at least the 2 status bytes, got {0}")]
    ResponseTooShort(usize),
}

/// A command APDU. `ne` is the number of response bytes expected: `None` for
/// no Le field, `Some(256)` / `Some(65536)` for "as many as available" in
/// short / extended form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandApdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    pub ne: Option<usize>,
}

impl CommandApdu {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        CommandApdu { cla, ins, p1, p2, data: Vec::new(), ne: None }
    }

    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    pub fn with_ne(mut self, ne: usize) -> Self {
        self.ne = Some(ne);
        self
    }

    /// Extended length is needed when the data or Ne exceed short limits.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.ne.is_some_and(|ne| ne > SHORT_NE_MAX)
    }

    pub fn header(&self) -> [u8; 4] {
        [self.cla, self.ins, self.p1, self.p2]
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        if self.data.len() > EXTENDED_NC_MAX {
            return Err(ApduError::DataTooLong(self.data.len()));
        }
        if let Some(ne) = self.ne
            && !(1..=EXTENDED_NE_MAX).contains(&ne)
        {
            return Err(ApduError::BadNe(ne));
        }
        let mut out = Vec::with_capacity(self.data.len() + 9);
        out.extend_from_slice(&self.header());
        let extended = self.is_extended();
        if !self.data.is_empty() {
            if extended {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(ne) = self.ne {
            if extended {
                if self.data.is_empty() {
                    out.push(0);
                }
                // 65536 wraps to 0000, as the standard encodes it.
                out.extend_from_slice(&((ne % EXTENDED_NE_MAX) as u16).to_be_bytes());
            } else {
                out.push((ne % SHORT_NE_MAX) as u8);
            }
        }
        Ok(out)
    }

    /// Parse any of the seven ISO 7816-4 cases (1, 2S, 3S, 4S, 2E, 3E, 4E).
    pub fn parse(bytes: &[u8]) -> Result<CommandApdu, ApduError> {
        let Some((header, body)) = bytes.split_first_chunk::<4>() else {
            return Err(ApduError::TooShort(bytes.len()));
        };
        let mut cmd = CommandApdu::new(header[0], header[1], header[2], header[3]);
        let bad = || ApduError::BadBody { len: body.len() };
        let short_ne = |b: u8| if b == 0 { SHORT_NE_MAX } else { b as usize };
        let ext_ne = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => EXTENDED_NE_MAX,
            n => n as usize,
        };
        match body {
            [] => {}
            [le] => cmd.ne = Some(short_ne(*le)),
            [0, hi, lo] => cmd.ne = Some(ext_ne(*hi, *lo)),
            [0, rest @ ..] if rest.len() >= 2 => {
                let nc = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                let after = &rest[2..];
                if nc == 0 {
                    return Err(bad());
                }
                if after.len() == nc {
                    cmd.data = after.to_vec();
                } else if after.len() == nc + 2 {
                    cmd.data = after[..nc].to_vec();
                    cmd.ne = Some(ext_ne(after[nc], after[nc + 1]));
                } else {
                    return Err(bad());
                }
            }
            [lc, rest @ ..] => {
                let nc = *lc as usize;
                if nc == 0 {
                    return Err(bad());
                }
                if rest.len() == nc {
                    cmd.data = rest.to_vec();
                } else if rest.len() == nc + 1 {
                    cmd.data = rest[..nc].to_vec();
                    cmd.ne = Some(short_ne(rest[nc]));
                } else {
                    return Err(bad());
                }
            }
        }
        Ok(cmd)
    }
}

/// A response APDU: data and the status word SW1-SW2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl ResponseApdu {
    pub fn new(data: impl Into<Vec<u8>>, sw: u16) -> Self {
        ResponseApdu { data: data.into(), sw }
    }

    pub fn status(sw: u16) -> Self {
        ResponseApdu { data: Vec::new(), sw }
    }

    pub fn parse(bytes: &[u8]) -> Result<ResponseApdu, ApduError> {
        let Some((data, sw)) = bytes.split_last_chunk::<2>() else {
            return Err(ApduError::ResponseTooShort(bytes.len()));
        };
        Ok(ResponseApdu { data: data.to_vec(), sw: u16::from_be_bytes(*sw) })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }

    /// 9000, or 6282 (end of file reached before Ne bytes: the data is good).
    pub fn is_success(&self) -> bool {
        self.sw == sw::OK || self.sw == sw::END_OF_FILE
    }

    /// The data if the status word says success, else the typed status.
    pub fn into_result(self) -> Result<Vec<u8>, StatusError> {
        if self.is_success() { Ok(self.data) } else { Err(StatusError::from_sw(self.sw)) }
    }
}

/// Status words the eMRTD protocols rely on.
pub mod sw {
    pub const OK: u16 = 0x9000;
    pub const END_OF_FILE: u16 = 0x6282;
    pub const WRONG_LENGTH: u16 = 0x6700;
    pub const SM_NOT_SUPPORTED: u16 = 0x6882;
    pub const SECURITY_STATUS_NOT_SATISFIED: u16 = 0x6982;
    pub const AUTHENTICATION_BLOCKED: u16 = 0x6983;
    pub const REFERENCE_DATA_NOT_USABLE: u16 = 0x6984;
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    pub const COMMAND_NOT_ALLOWED: u16 = 0x6986;
    pub const SM_DATA_OBJECTS_MISSING: u16 = 0x6987;
    pub const SM_DATA_OBJECTS_INCORRECT: u16 = 0x6988;
    pub const INCORRECT_DATA: u16 = 0x6A80;
    pub const FUNCTION_NOT_SUPPORTED: u16 = 0x6A81;
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    pub const INCORRECT_P1P2: u16 = 0x6A86;
    pub const REFERENCED_DATA_NOT_FOUND: u16 = 0x6A88;
    pub const WRONG_PARAMETERS: u16 = 0x6B00;
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
    pub const UNKNOWN: u16 = 0x6F00;
}

/// A status word other than success, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("6700: wrong length")]
    WrongLength,
    #[error("6882: secure messaging not supported")]
    SecureMessagingNotSupported,
    #[error("6982: security status not satisfied (access control or secure messaging needed)")]
    SecurityStatusNotSatisfied,
    #[error("6983: authentication method blocked")]
    AuthenticationBlocked,
    #[error("6984: reference data not usable")]
    ReferenceDataNotUsable,
    #[error("6985: conditions of use not satisfied")]
    ConditionsNotSatisfied,
    #[error("6986: command not allowed")]
    CommandNotAllowed,
    #[error("6987: expected secure messaging data objects missing")]
    SmDataObjectsMissing,
    #[error("6988: secure messaging data objects incorrect")]
    SmDataObjectsIncorrect,
    #[error("6A80: incorrect data in the command")]
    IncorrectData,
    #[error("6A81: function not supported")]
    FunctionNotSupported,
    #[error("6A82: file or application not found")]
    FileNotFound,
    #[error("6A86: incorrect parameters P1-P2")]
    IncorrectP1P2,
    #[error("6A88: referenced data not found")]
    ReferencedDataNotFound,
    #[error("6B00: wrong parameters (offset outside the file)")]
    WrongParameters,
    #[error("6C{0:02X}: wrong Le, the chip has {0} bytes")]
    WrongLe(u8),
    #[error("61{0:02X}: {0} more response bytes available")]
    MoreData(u8),
    #[error("63C{0:X}: verification failed, {0} tries left")]
    TriesLeft(u8),
    #[error("6D00: instruction not supported")]
    InsNotSupported,
    #[error("6E00: class not supported")]
    ClaNotSupported,
    #[error("6F00: no precise diagnosis")]
    NoDiagnosis,
    #[error("{0:04X}: unexpected status word")]
    Other(u16),
}

impl StatusError {
    pub fn from_sw(sw: u16) -> StatusError {
        let [sw1, sw2] = sw.to_be_bytes();
        match sw {
            self::sw::WRONG_LENGTH => StatusError::WrongLength,
            self::sw::SM_NOT_SUPPORTED => StatusError::SecureMessagingNotSupported,
            self::sw::SECURITY_STATUS_NOT_SATISFIED => StatusError::SecurityStatusNotSatisfied,
            self::sw::AUTHENTICATION_BLOCKED => StatusError::AuthenticationBlocked,
            self::sw::REFERENCE_DATA_NOT_USABLE => StatusError::ReferenceDataNotUsable,
            self::sw::CONDITIONS_NOT_SATISFIED => StatusError::ConditionsNotSatisfied,
            self::sw::COMMAND_NOT_ALLOWED => StatusError::CommandNotAllowed,
            self::sw::SM_DATA_OBJECTS_MISSING => StatusError::SmDataObjectsMissing,
            self::sw::SM_DATA_OBJECTS_INCORRECT => StatusError::SmDataObjectsIncorrect,
            self::sw::INCORRECT_DATA => StatusError::IncorrectData,
            self::sw::FUNCTION_NOT_SUPPORTED => StatusError::FunctionNotSupported,
            self::sw::FILE_NOT_FOUND => StatusError::FileNotFound,
            self::sw::INCORRECT_P1P2 => StatusError::IncorrectP1P2,
            self::sw::REFERENCED_DATA_NOT_FOUND => StatusError::ReferencedDataNotFound,
            self::sw::WRONG_PARAMETERS => StatusError::WrongParameters,
            self::sw::INS_NOT_SUPPORTED => StatusError::InsNotSupported,
            self::sw::CLA_NOT_SUPPORTED => StatusError::ClaNotSupported,
            self::sw::UNKNOWN => StatusError::NoDiagnosis,
            _ if sw1 == 0x6C => StatusError::WrongLe(sw2),
            _ if sw1 == 0x61 => StatusError::MoreData(sw2),
            _ if sw1 == 0x63 && sw2 & 0xF0 == 0xC0 => StatusError::TriesLeft(sw2 & 0x0F),
            _ => StatusError::Other(sw),
        }
    }
}

/// SELECT an elementary file by FID under the current application, no FCI
/// returned (P2 = 0C), as ICAO 9303 readers do.
pub fn select_file(fid: u16) -> CommandApdu {
    CommandApdu::new(0x00, ins::SELECT, 0x02, 0x0C).with_data(fid.to_be_bytes())
}

/// SELECT an application by AID (the eMRTD application is A0000002471001).
pub fn select_application(aid: &[u8]) -> CommandApdu {
    CommandApdu::new(0x00, ins::SELECT, 0x04, 0x0C).with_data(aid)
}

/// SELECT the master file (before reading EF.CardAccess / EF.CardSecurity).
pub fn select_master_file() -> CommandApdu {
    CommandApdu::new(0x00, ins::SELECT, 0x00, 0x0C).with_data([0x3F, 0x00])
}

/// READ BINARY `ne` bytes at `offset` of the selected file. Offsets up to
/// 32767 go in P1-P2 (INS B0); larger ones in data object 54 (INS B1).
pub fn read_binary(offset: usize, ne: usize) -> CommandApdu {
    if offset <= 0x7FFF {
        let [p1, p2] = (offset as u16).to_be_bytes();
        CommandApdu::new(0x00, ins::READ_BINARY, p1, p2).with_ne(ne)
    } else {
        let mut off = offset.to_be_bytes().to_vec();
        while off.len() > 1 && off[0] == 0 {
            off.remove(0);
        }
        let mut data = vec![0x54, off.len() as u8];
        data.extend(off);
        CommandApdu::new(0x00, ins::READ_BINARY_ODD, 0x00, 0x00).with_data(data).with_ne(ne)
    }
}

/// The eMRTD application identifier (ICAO 9303 Part 10).
pub const EMRTD_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn every_case_round_trips() {
        let cases = [
            CommandApdu::new(0, 0x84, 0, 0),
            CommandApdu::new(0, 0x84, 0, 0).with_ne(8),
            CommandApdu::new(0, 0xB0, 0, 0).with_ne(256),
            select_file(0x011E),
            CommandApdu::new(0, 0x82, 0, 0).with_data(vec![7; 40]).with_ne(40),
            CommandApdu::new(0, 0xB0, 0, 0).with_ne(65536),
            CommandApdu::new(0, 0xB0, 0, 0).with_ne(1000),
            CommandApdu::new(0, 0x86, 0, 0).with_data(vec![1; 300]),
            CommandApdu::new(0, 0x86, 0, 0).with_data(vec![1; 300]).with_ne(65536),
            CommandApdu::new(0, 0x86, 0, 0).with_data(vec![1; 3]).with_ne(4000),
        ];
        for c in cases {
            let bytes = c.to_bytes().unwrap();
            assert_eq!(CommandApdu::parse(&bytes).unwrap(), c, "{bytes:02X?}");
        }
    }

    #[test]
    fn encodings_match_the_standard() {
        assert_eq!(select_file(0x011E).to_bytes().unwrap(), hex("00A4020C02011E"));
        assert_eq!(read_binary(0, 4).to_bytes().unwrap(), hex("00B0000004"));
        assert_eq!(read_binary(4, 256).to_bytes().unwrap(), hex("00B0000400"));
        assert_eq!(read_binary(0, 65536).to_bytes().unwrap(), hex("00B00000000000"));
        assert_eq!(read_binary(0x8000, 255).to_bytes().unwrap(), hex("00B100000454028000FF"));
        assert_eq!(read_binary(0x8000, 2000).to_bytes().unwrap(), hex("00B100000000045402800007D0"));
    }

    #[test]
    fn malformed_commands_are_errors_not_panics() {
        assert_eq!(CommandApdu::parse(&[0, 1]), Err(ApduError::TooShort(2)));
        assert!(CommandApdu::parse(&hex("00A4020C05011E")).is_err());
        assert!(CommandApdu::parse(&hex("00A4020C0000")).is_err());
        assert_eq!(CommandApdu::parse(&hex("00A4020C000000")).unwrap().ne, Some(65536));
        assert!(CommandApdu::parse(&hex("00A4020C00")).is_ok());
        for len in 0..12 {
            let _ = CommandApdu::parse(&vec![0; len]);
            let _ = CommandApdu::parse(&vec![0xFF; len]);
        }
        assert!(CommandApdu::new(0, 0, 0, 0).with_ne(0).to_bytes().is_err());
        assert!(CommandApdu::new(0, 0, 0, 0).with_data(vec![0; 65536]).to_bytes().is_err());
    }

    #[test]
    fn status_words_are_typed() {
        let r = ResponseApdu::parse(&hex("60145F019000")).unwrap();
        assert_eq!(r.clone().into_result().unwrap(), hex("60145F01"));
        assert_eq!(ResponseApdu::parse(&hex("6A82")).unwrap().into_result(), Err(StatusError::FileNotFound));
        assert_eq!(StatusError::from_sw(0x6C10), StatusError::WrongLe(0x10));
        assert_eq!(StatusError::from_sw(0x63C2), StatusError::TriesLeft(2));
        assert_eq!(StatusError::from_sw(0x6A88), StatusError::ReferencedDataNotFound);
        assert!(ResponseApdu::new(vec![1], 0x6282).is_success());
        assert_eq!(ResponseApdu::parse(&[0x90]), Err(ApduError::ResponseTooShort(1)));
        assert_eq!(r.to_bytes(), hex("60145F019000"));
    }
}
