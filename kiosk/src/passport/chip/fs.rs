//! The chip's file system (ICAO 9303 Part 10 §3): the master file with
//! EF.CardAccess (and EF.DIR / EF.ATR/INFO when present), and the eMRTD
//! application (AID A0000002471001) with EF.COM, EF.SOD and the data groups.
//! SELECT and READ BINARY as pure functions over it.

use std::collections::BTreeMap;

use super::super::apdu::{CommandApdu, EMRTD_AID, ResponseApdu, sw};
use super::super::tlv;

/// FIDs that live in the master file; every other FID of the image is an
/// elementary file of the eMRTD application.
pub const MASTER_FILE_FIDS: [u16; 3] = [0x011C, 0x2F00, 0x2F01];

/// A dedicated file: the master file or the eMRTD application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Df {
    Master,
    Emrtd,
}

/// What is selected: a DF and, within it, maybe an EF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    pub df: Df,
    pub ef: Option<u16>,
}

impl Default for Selection {
    /// After reset the master file is selected (ISO/IEC 7816-4 §7.1.1).
    fn default() -> Self {
        Selection { df: Df::Master, ef: None }
    }
}

#[derive(Debug, Clone, Default)]
pub struct FileSystem {
    master: BTreeMap<u16, Vec<u8>>,
    emrtd: BTreeMap<u16, Vec<u8>>,
}

impl FileSystem {
    pub fn new(files: &BTreeMap<u16, Vec<u8>>) -> FileSystem {
        let mut fs = FileSystem::default();
        for (&fid, content) in files {
            let df = if MASTER_FILE_FIDS.contains(&fid) { &mut fs.master } else { &mut fs.emrtd };
            df.insert(fid, content.clone());
        }
        fs
    }

    pub fn file(&self, df: Df, fid: u16) -> Option<&[u8]> {
        match df {
            Df::Master => self.master.get(&fid),
            Df::Emrtd => self.emrtd.get(&fid),
        }
        .map(Vec::as_slice)
    }

    /// SELECT (INS A4). Returns the new selection and the response.
    pub fn select(&self, current: Selection, command: &CommandApdu) -> (Selection, ResponseApdu) {
        let fail = |status| (current, ResponseApdu::status(status));
        // P2: 0C no data back; 00 / 04 FCI / FCP (a few readers ask).
        let want_fcp = match command.p2 {
            0x0C => false,
            0x00 | 0x04 => true,
            _ => return fail(sw::INCORRECT_P1P2),
        };
        let new = match (command.p1, command.data.as_slice()) {
            (0x00, [] | [0x3F, 0x00]) | (0x03, []) => Selection { df: Df::Master, ef: None },
            (0x00 | 0x02, [hi, lo]) => {
                let fid = u16::from_be_bytes([*hi, *lo]);
                if self.file(current.df, fid).is_none() {
                    return fail(sw::FILE_NOT_FOUND);
                }
                Selection { df: current.df, ef: Some(fid) }
            }
            (0x00 | 0x02, _) => return fail(sw::WRONG_LENGTH),
            (0x04, aid) if aid == EMRTD_AID => Selection { df: Df::Emrtd, ef: None },
            (0x04, []) => return fail(sw::WRONG_LENGTH),
            (0x04 | 0x01, _) => return fail(sw::FILE_NOT_FOUND),
            _ => return fail(sw::INCORRECT_P1P2),
        };
        if !want_fcp {
            return (new, ResponseApdu::status(sw::OK));
        }
        let fcp = match new.ef.and_then(|fid| self.file(new.df, fid).map(|c| (fid, c.len()))) {
            // FCP: 80 size, 82 descriptor (transparent EF), 83 FID.
            Some((fid, size)) => {
                let mut body = tlv::encode(0x80, &(size.min(0xFFFF) as u16).to_be_bytes());
                body.extend(tlv::encode(0x82, &[0x01]));
                body.extend(tlv::encode(0x83, &fid.to_be_bytes()));
                tlv::encode(0x62, &body)
            }
            None if new.df == Df::Emrtd => tlv::encode(0x6F, &tlv::encode(0x84, &EMRTD_AID)),
            None => tlv::encode(0x62, &tlv::encode(0x83, &[0x3F, 0x00])),
        };
        (new, ResponseApdu::new(fcp, sw::OK))
    }

    /// The file a READ BINARY addresses, and the offset: (selection after the
    /// command, file, offset), or the status word to answer.
    pub fn read_target(
        &self,
        current: Selection,
        command: &CommandApdu,
    ) -> Result<(Selection, u16, usize), u16> {
        let (selection, offset) = match command.ins {
            0xB0 if command.p1 & 0x80 != 0 => {
                // Short EF identifier: P1 = 100xxxxx, offset in P2.
                if command.p1 & 0x60 != 0 || command.p1 & 0x1F == 0 {
                    return Err(sw::INCORRECT_P1P2);
                }
                let fid = 0x0100 | u16::from(command.p1 & 0x1F);
                (Selection { df: current.df, ef: Some(fid) }, usize::from(command.p2))
            }
            0xB0 => {
                if !command.data.is_empty() {
                    return Err(sw::WRONG_LENGTH);
                }
                (current, usize::from(u16::from_be_bytes([command.p1 & 0x7F, command.p2])))
            }
            0xB1 => {
                let offset = offset_object(&command.data).ok_or(sw::INCORRECT_DATA)?;
                let selection = match [command.p1, command.p2] {
                    [0, 0] => current,
                    // 00 || SFI in bits 5-1 of P2.
                    [0, p2] if p2 & 0xE0 == 0 => {
                        Selection { df: current.df, ef: Some(0x0100 | u16::from(p2)) }
                    }
                    [p1, p2] => Selection { df: current.df, ef: Some(u16::from_be_bytes([p1, p2])) },
                };
                (selection, offset)
            }
            _ => return Err(sw::INS_NOT_SUPPORTED),
        };
        let fid = selection.ef.ok_or(sw::COMMAND_NOT_ALLOWED)?;
        if self.file(selection.df, fid).is_none() {
            return Err(sw::FILE_NOT_FOUND);
        }
        Ok((selection, fid, offset))
    }
}

/// How many file bytes fit in a response of `budget` bytes: all of it for
/// B0; for B1, the largest n with n + header of DO'53'(n) <= budget.
fn data_budget(budget: usize, odd_ins: bool) -> usize {
    if !odd_ins {
        return budget;
    }
    let header = |n: usize| {
        if n < 0x80 {
            2
        } else if n < 0x100 {
            3
        } else if n < 0x10000 {
            4
        } else {
            5
        }
    };
    let mut n = budget.saturating_sub(2);
    while n > 0 && n + header(n) > budget {
        n -= 1;
    }
    n
}

/// DO'54' offset of READ BINARY B1 (1 to 4 bytes).
fn offset_object(data: &[u8]) -> Option<usize> {
    let t = tlv::Tlv::parse(data).ok()?;
    if t.tag != 0x54 || t.encoded_len != data.len() || t.value.is_empty() || t.value.len() > 4 {
        return None;
    }
    Some(t.value.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
}

/// READ BINARY's answer: at most `ne` bytes (and at most `max_read`) from
/// `offset`; B1 wraps them in DO'53', which counts against `ne`.
/// 6B00 for an offset past the end; 6282 when the end of the file comes
/// before `ne` bytes.
pub fn read(file: &[u8], offset: usize, ne: usize, max_read: usize, odd_ins: bool) -> ResponseApdu {
    if offset > file.len() || (offset == file.len() && !file.is_empty()) {
        return ResponseApdu::status(sw::WRONG_PARAMETERS);
    }
    let rest = file.get(offset..).unwrap_or_default();
    let budget = data_budget(ne.min(max_read), odd_ins);
    let n = budget.min(rest.len());
    let data = rest.get(..n).unwrap_or_default();
    let status = if rest.len() < budget { sw::END_OF_FILE } else { sw::OK };
    let body = if odd_ins { tlv::encode(0x53, data) } else { data.to_vec() };
    ResponseApdu::new(body, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chunks_and_ends() {
        let file: Vec<u8> = (0..100u8).collect();
        assert_eq!(read(&file, 0, 10, 223, false), ResponseApdu::new((0..10u8).collect::<Vec<_>>(), sw::OK));
        assert_eq!(
            read(&file, 95, 10, 223, false),
            ResponseApdu::new((95..100u8).collect::<Vec<_>>(), sw::END_OF_FILE)
        );
        assert_eq!(read(&file, 90, 10, 223, false).sw, sw::OK);
        assert_eq!(read(&file, 100, 1, 223, false).sw, sw::WRONG_PARAMETERS);
        assert_eq!(read(&file, 101, 1, 223, false).sw, sw::WRONG_PARAMETERS);
        assert_eq!(read(&[], 0, 1, 223, false), ResponseApdu::new(vec![], sw::END_OF_FILE));
        // The chip's own limit is not an end of file.
        assert_eq!(read(&file, 0, 256, 50, false), ResponseApdu::new((0..50u8).collect::<Vec<_>>(), sw::OK));
        // B1: DO'53' counts against Ne.
        let r = read(&file, 0, 20, 223, true);
        assert_eq!(r.data, tlv::encode(0x53, &(0..18u8).collect::<Vec<_>>()));
        let big = vec![7u8; 1000];
        let r = read(&big, 0, 300, 65536, true);
        assert_eq!(r.data.len(), 300);
        assert_eq!(offset_object(&[0x54, 0x02, 0x80, 0x00]), Some(0x8000));
        assert_eq!(offset_object(&[0x54, 0x00]), None);
        assert_eq!(offset_object(&[0x54, 0x05, 1, 2, 3, 4, 5]), None);
        assert_eq!(offset_object(&[0x53, 0x01, 1]), None);
    }
}
