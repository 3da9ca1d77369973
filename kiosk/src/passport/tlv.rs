//! BER-TLV as used by the LDS (ISO/IEC 7816-4 / ICAO 9303 Part 10).
//!
//! Parsing never panics: every offset is checked and a malformed encoding is a
//! [`TlvError`]. Tags are kept as their encoded bytes packed in a `u32`
//! (e.g. `0x5F1F`, `0x7F61`), as the LDS tables write them.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("TLV data ends inside a tag at offset {0}")]
    TruncatedTag(usize),
    #[error("TLV data ends inside a length at offset {0}")]
    TruncatedLength(usize),
    #[error("TLV length at offset {offset} is {length} bytes but only {available} remain")]
    ValueOverrun { offset: usize, length: usize, available: usize },
    #[error("unsupported TLV length encoding 0x{0:02X} (indefinite or longer than 4 bytes)")]
    BadLengthEncoding(u8),
    #[error("tag longer than 3 bytes at offset {0}")]
    TagTooLong(usize),
    #[error("expected tag {expected:X}, found {found:X}")]
    UnexpectedTag { expected: u32, found: u32 },
    #[error("required tag {0:X} not found")]
    Missing(u32),
}

/// One TLV object borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u32,
    pub value: &'a [u8],
    /// Total encoded size (tag + length + value).
    pub encoded_len: usize,
}

impl<'a> Tlv<'a> {
    /// Whether the tag is constructed (holds further TLVs).
    pub fn is_constructed(&self) -> bool {
        let first = if self.tag > 0xFFFF {
            (self.tag >> 16) as u8
        } else if self.tag > 0xFF {
            (self.tag >> 8) as u8
        } else {
            self.tag as u8
        };
        first & 0x20 != 0
    }

    /// Parse one TLV at the start of `data` (bytes after it are ignored).
    pub fn parse(data: &'a [u8]) -> Result<Tlv<'a>, TlvError> {
        let TlvHeader { tag, header_len: start, value_len: length } = TlvHeader::parse(data)?;
        let available = data.len().saturating_sub(start);
        let value = start
            .checked_add(length)
            .and_then(|end| data.get(start..end))
            .ok_or(TlvError::ValueOverrun { offset: start, length, available })?;
        Ok(Tlv { tag, value, encoded_len: start + length })
    }

    /// Parse `data` as one TLV with the expected tag.
    pub fn parse_expecting(data: &'a [u8], expected: u32) -> Result<Tlv<'a>, TlvError> {
        let t = Tlv::parse(data)?;
        if t.tag != expected {
            return Err(TlvError::UnexpectedTag { expected, found: t.tag });
        }
        Ok(t)
    }

    /// Iterate over the TLVs inside a constructed value.
    pub fn children(&self) -> TlvIter<'a> {
        TlvIter { data: self.value }
    }

    /// The first direct child with `tag`.
    pub fn child(&self, tag: u32) -> Result<Tlv<'a>, TlvError> {
        for c in self.children() {
            let c = c?;
            if c.tag == tag {
                return Ok(c);
            }
        }
        Err(TlvError::Missing(tag))
    }
}

/// The tag and length of a TLV, read from its first bytes only: enough to
/// know how many bytes the whole object takes (for example, to size the reads
/// of an LDS file from its first few bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlvHeader {
    pub tag: u32,
    /// Bytes taken by the tag and the length.
    pub header_len: usize,
    /// Bytes of the value, as the length field declares them.
    pub value_len: usize,
}

impl TlvHeader {
    /// The most bytes a tag and length can take here (3-byte tag, 5-byte length).
    pub const MAX_LEN: usize = 8;

    /// Parse the tag and length at the start of `data`; the value need not be
    /// present.
    pub fn parse(data: &[u8]) -> Result<TlvHeader, TlvError> {
        let (tag, tag_len) = parse_tag(data, 0)?;
        let (value_len, len_len) = parse_length(data, tag_len)?;
        Ok(TlvHeader { tag, header_len: tag_len + len_len, value_len })
    }

    /// Tag, length and value together; `None` if that overflows `usize`.
    pub fn total_len(&self) -> Option<usize> {
        self.header_len.checked_add(self.value_len)
    }
}

/// Iterator over consecutive TLVs; stops after the first error.
pub struct TlvIter<'a> {
    data: &'a [u8],
}

impl<'a> TlvIter<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        TlvIter { data }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;
    fn next(&mut self) -> Option<Self::Item> {
        // Skip 0x00/0xFF padding between objects (allowed by ISO 7816-4).
        let padding = self.data.iter().take_while(|&&b| b == 0x00 || b == 0xFF).count();
        self.data = self.data.get(padding..).unwrap_or_default();
        if self.data.is_empty() {
            return None;
        }
        match Tlv::parse(self.data) {
            Ok(t) => {
                self.data = self.data.get(t.encoded_len..).unwrap_or_default();
                Some(Ok(t))
            }
            Err(e) => {
                self.data = &[];
                Some(Err(e))
            }
        }
    }
}

fn parse_tag(data: &[u8], at: usize) -> Result<(u32, usize), TlvError> {
    let first = *data.get(at).ok_or(TlvError::TruncatedTag(at))?;
    let mut tag = first as u32;
    let mut len = 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *data.get(at + len).ok_or(TlvError::TruncatedTag(at + len))?;
            tag = (tag << 8) | b as u32;
            len += 1;
            if b & 0x80 == 0 {
                break;
            }
            if len >= 3 {
                return Err(TlvError::TagTooLong(at));
            }
        }
    }
    Ok((tag, len))
}

fn parse_length(data: &[u8], at: usize) -> Result<(usize, usize), TlvError> {
    let first = *data.get(at).ok_or(TlvError::TruncatedLength(at))?;
    if first < 0x80 {
        return Ok((first as usize, 1));
    }
    let n = (first & 0x7F) as usize;
    if n == 0 || n > 4 {
        return Err(TlvError::BadLengthEncoding(first));
    }
    let bytes = data.get(at + 1..at + 1 + n).ok_or(TlvError::TruncatedLength(at))?;
    // Four bytes at most, so this fits a u32; a 16-bit usize would have
    // rejected the length through the overrun check anyway.
    let length = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32);
    let length = usize::try_from(length).map_err(|_| TlvError::BadLengthEncoding(first))?;
    Ok((length, 1 + n))
}

/// Encode a length in the shortest BER form (which is also the DER form).
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
    }
}

/// Encode one TLV (tag given as its packed bytes).
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(&tag_bytes[skip..]);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ef_com_vector_from_appendix_d() {
        // EF.COM from ICAO 9303 Part 11 Appendix D.4.
        let data = hex("60145F0104303130365F36063034303030305C026175");
        let t = Tlv::parse_expecting(&data, 0x60).unwrap();
        assert!(t.is_constructed());
        assert_eq!(t.child(0x5F01).unwrap().value, b"0106");
        assert_eq!(t.child(0x5F36).unwrap().value, b"040000");
        assert_eq!(t.child(0x5C).unwrap().value, &[0x61, 0x75]);
    }

    #[test]
    fn long_lengths_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 256, 65535, 70000] {
            let v = vec![0xAB; n];
            let enc = encode(0x5F2E, &v);
            let t = Tlv::parse(&enc).unwrap();
            assert_eq!((t.tag, t.value.len(), t.encoded_len), (0x5F2E, n, enc.len()));
        }
    }

    #[test]
    fn malformed_never_panics() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x5F],
            vec![0x5F, 0x9F, 0x9F],
            vec![0x61],
            vec![0x61, 0x85, 1, 2, 3, 4, 5],
            vec![0x61, 0x82, 0x01],
            vec![0x61, 0x05, 1, 2],
            vec![0x61, 0x80],
        ];
        for c in cases {
            assert!(Tlv::parse(&c).is_err(), "{c:02X?}");
        }
        // Exhaustive over short buffers: no panic.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = Tlv::parse(&[a, b, 0x01]);
                let _: Vec<_> = TlvIter::new(&[a, b, a]).collect();
            }
        }
    }

    #[test]
    fn header_sizes_a_file_from_its_first_bytes() {
        let dg2 = encode(0x75, &vec![0; 20_000]);
        let h = TlvHeader::parse(&dg2[..4]).unwrap();
        assert_eq!((h.tag, h.header_len, h.value_len, h.total_len()), (0x75, 4, 20_000, Some(dg2.len())));
        let h = TlvHeader::parse(&[0x5F, 0x1F, 0x58]).unwrap();
        assert_eq!((h.tag, h.total_len()), (0x5F1F, Some(3 + 88)));
        assert_eq!(TlvHeader::parse(&[0x77, 0x82, 0x01]), Err(TlvError::TruncatedLength(1)));
        assert_eq!(TlvHeader::parse(&[]), Err(TlvError::TruncatedTag(0)));
        let h = TlvHeader::parse(&[0x6E, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).unwrap();
        assert_eq!(h.value_len, u32::MAX as usize);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
