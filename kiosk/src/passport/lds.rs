//! Logical Data Structure (ICAO 9303 Part 10): EF.COM, DG1 (MRZ) and DG2
//! (face, ISO/IEC 19794-5 inside a CBEFF biometric information template).
//!
//! Each file type has `parse` (bytes -> validated value) and `encode`
//! (value -> bytes); parsing never panics.

use super::mrz::{Mrz, MrzError};
use super::tlv::{self, Tlv, TlvError};

/// Elementary file identifiers on the eMRTD application.
pub mod fid {
    pub const EF_COM: u16 = 0x011E;
    pub const EF_SOD: u16 = 0x011D;
    pub const DG1: u16 = 0x0101;
    pub const DG2: u16 = 0x0102;
    pub const DG14: u16 = 0x010E;
    pub const DG15: u16 = 0x010F;
}

#[derive(Debug, thiserror::Error)]
pub enum LdsError {
    #[error("{file}: malformed TLV: {source}")]
    Tlv { file: &'static str, source: TlvError },
    #[error("DG1: the MRZ is malformed: {0}")]
    Mrz(#[from] MrzError),
    #[error("DG1: the MRZ is not ASCII text")]
    MrzNotText,
    #[error("DG2: {0}")]
    Face(String),
}

fn tlv_err(file: &'static str) -> impl Fn(TlvError) -> LdsError {
    move |source| LdsError::Tlv { file, source }
}

/// EF.COM: LDS version, Unicode version and the list of data-group tags present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EfCom {
    pub lds_version: String,
    pub unicode_version: String,
    pub tags: Vec<u8>,
}

impl EfCom {
    pub fn parse(data: &[u8]) -> Result<EfCom, LdsError> {
        let e = tlv_err("EF.COM");
        let com = Tlv::parse_expecting(data, 0x60).map_err(&e)?;
        let text = |tag| -> Result<String, LdsError> {
            Ok(String::from_utf8_lossy(com.child(tag).map_err(&e)?.value).into_owned())
        };
        Ok(EfCom {
            lds_version: text(0x5F01)?,
            unicode_version: text(0x5F36)?,
            tags: com.child(0x5C).map_err(&e)?.value.to_vec(),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut body = tlv::encode(0x5F01, self.lds_version.as_bytes());
        body.extend(tlv::encode(0x5F36, self.unicode_version.as_bytes()));
        body.extend(tlv::encode(0x5C, &self.tags));
        tlv::encode(0x60, &body)
    }
}

/// DG1: the MRZ as stored on the chip.
pub fn parse_dg1(data: &[u8]) -> Result<Mrz, LdsError> {
    let e = tlv_err("DG1");
    let dg1 = Tlv::parse_expecting(data, 0x61).map_err(&e)?;
    let raw = dg1.child(0x5F1F).map_err(&e)?.value;
    let text = std::str::from_utf8(raw).map_err(|_| LdsError::MrzNotText)?;
    // TD3 is stored as 88 characters without a line break.
    if text.len() == 88 && text.is_ascii() {
        Ok(Mrz::parse_lines(&[&text[..44], &text[44..]])?)
    } else {
        Ok(Mrz::parse(text)?)
    }
}

pub fn encode_dg1(lines: &[String; 2]) -> Vec<u8> {
    let mrz = format!("{}{}", lines[0], lines[1]);
    tlv::encode(0x61, &tlv::encode(0x5F1F, mrz.as_bytes()))
}

/// How the portrait is compressed (ISO/IEC 19794-5 image data type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageDataType {
    Jpeg,
    Jpeg2000,
    Unknown(u8),
}

/// The portrait from DG2.
#[derive(Clone, PartialEq, Eq)]
pub struct FacePortrait {
    pub data_type: ImageDataType,
    pub width: u16,
    pub height: u16,
    /// The encoded image (JPEG or JPEG 2000 bytes).
    pub image: Vec<u8>,
}

impl std::fmt::Debug for FacePortrait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FacePortrait({:?}, {}x{}, {} bytes)",
            self.data_type,
            self.width,
            self.height,
            self.image.len()
        )
    }
}

const FAC_HEADER_LEN: usize = 14;
const FACIAL_INFO_LEN: usize = 20;
const FEATURE_POINT_LEN: usize = 8;
const IMAGE_INFO_LEN: usize = 12;

/// DG2: the first face image of the biometric information group template.
pub fn parse_dg2(data: &[u8]) -> Result<FacePortrait, LdsError> {
    let e = tlv_err("DG2");
    let dg2 = Tlv::parse_expecting(data, 0x75).map_err(&e)?;
    let group = dg2.child(0x7F61).map_err(&e)?;
    let template = group.child(0x7F60).map_err(&e)?;
    // The biometric data block is 5F2E, or 7F2E when it is itself constructed.
    let block = template.child(0x5F2E).or_else(|_| template.child(0x7F2E)).map_err(&e)?;
    parse_iso19794_5(block.value)
}

fn be(data: &[u8], at: usize, n: usize) -> Option<u32> {
    data.get(at..at + n).map(|b| b.iter().fold(0u32, |a, &x| (a << 8) | x as u32))
}

/// An ISO/IEC 19794-5:2005 facial record: general header, facial information,
/// feature points, image information, image data.
pub fn parse_iso19794_5(rec: &[u8]) -> Result<FacePortrait, LdsError> {
    let bad = |m: &str| LdsError::Face(m.to_string());
    if rec.get(0..4) != Some(b"FAC\0") {
        return Err(bad("the facial record does not start with \"FAC\\0\""));
    }
    let faces = be(rec, 12, 2).ok_or_else(|| bad("facial record header truncated"))?;
    if faces == 0 {
        return Err(bad("the facial record holds no image"));
    }
    let info = FAC_HEADER_LEN;
    let block_len = be(rec, info, 4).ok_or_else(|| bad("facial information truncated"))? as usize;
    let points = be(rec, info + 4, 2).ok_or_else(|| bad("facial information truncated"))? as usize;
    let image_info = info + FACIAL_INFO_LEN + points * FEATURE_POINT_LEN;
    let data_type = match rec.get(image_info + 1) {
        Some(0) => ImageDataType::Jpeg,
        Some(1) => ImageDataType::Jpeg2000,
        Some(&other) => ImageDataType::Unknown(other),
        None => return Err(bad("image information truncated")),
    };
    let width = be(rec, image_info + 2, 2).ok_or_else(|| bad("image information truncated"))? as u16;
    let height = be(rec, image_info + 4, 2).ok_or_else(|| bad("image information truncated"))? as u16;
    let image_start = image_info + IMAGE_INFO_LEN;
    let image_end = info.checked_add(block_len).ok_or_else(|| bad("facial block length overflows"))?;
    if image_end > rec.len() || image_end < image_start {
        return Err(bad("the facial block length does not fit the record"));
    }
    Ok(FacePortrait { data_type, width, height, image: rec[image_start..image_end].to_vec() })
}

/// Encode a portrait as DG2 (one face, no feature points).
pub fn encode_dg2(p: &FacePortrait) -> Vec<u8> {
    let block_len = FACIAL_INFO_LEN + IMAGE_INFO_LEN + p.image.len();
    let record_len = FAC_HEADER_LEN + block_len;
    let mut rec = Vec::with_capacity(record_len);
    rec.extend_from_slice(b"FAC\x00010\x00");
    rec.extend_from_slice(&(record_len as u32).to_be_bytes());
    rec.extend_from_slice(&1u16.to_be_bytes());
    // Facial information: length, 0 feature points, gender/eye/hair unspecified,
    // feature mask, expression neutral (1), pose angles and uncertainties 0.
    rec.extend_from_slice(&(block_len as u32).to_be_bytes());
    rec.extend_from_slice(&0u16.to_be_bytes());
    rec.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Image information: full frontal (1), data type, size, sRGB (1), static
    // photo from unknown source (2), device type 0, quality 0.
    let dt = match p.data_type {
        ImageDataType::Jpeg => 0,
        ImageDataType::Jpeg2000 => 1,
        ImageDataType::Unknown(x) => x,
    };
    rec.extend_from_slice(&[1, dt]);
    rec.extend_from_slice(&p.width.to_be_bytes());
    rec.extend_from_slice(&p.height.to_be_bytes());
    rec.extend_from_slice(&[1, 2, 0, 0, 0, 0]);
    rec.extend_from_slice(&p.image);

    // CBEFF header: patron header version 1.1, biometric type face (02),
    // format owner ISO/IEC JTC1 SC37 (0101), format type 19794-5 (0008).
    let mut header = tlv::encode(0x80, &[0x01, 0x01]);
    header.extend(tlv::encode(0x81, &[0x02]));
    header.extend(tlv::encode(0x87, &[0x01, 0x01]));
    header.extend(tlv::encode(0x88, &[0x00, 0x08]));
    let mut template = tlv::encode(0xA1, &header);
    template.extend(tlv::encode(0x5F2E, &rec));
    let mut group = tlv::encode(0x02, &[1]);
    group.extend(tlv::encode(0x7F60, &template));
    tlv::encode(0x75, &tlv::encode(0x7F61, &group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ef_com_round_trip() {
        let com =
            EfCom { lds_version: "0107".into(), unicode_version: "040000".into(), tags: vec![0x61, 0x75] };
        assert_eq!(EfCom::parse(&com.encode()).unwrap(), com);
    }

    #[test]
    fn dg1_round_trip() {
        let lines = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
        ];
        let m = parse_dg1(&encode_dg1(&lines)).unwrap();
        assert_eq!(m.document_number, "L898902C3");
        assert!(m.all_checks_pass());
    }

    #[test]
    fn dg2_round_trip_and_truncation() {
        let p = FacePortrait {
            data_type: ImageDataType::Jpeg,
            width: 240,
            height: 320,
            image: (0..5000u32).map(|i| i as u8).collect(),
        };
        let enc = encode_dg2(&p);
        assert_eq!(parse_dg2(&enc).unwrap(), p);
        for cut in [0, 1, 5, 20, 60, enc.len() / 2, enc.len() - 1] {
            assert!(parse_dg2(&enc[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn dg2_rejects_a_lying_block_length() {
        let p = FacePortrait { data_type: ImageDataType::Jpeg, width: 1, height: 1, image: vec![1, 2, 3] };
        let mut rec = Vec::new();
        let enc = encode_dg2(&p);
        let tl = Tlv::parse(&enc).unwrap();
        let t = tl.child(0x7F61).unwrap().child(0x7F60).unwrap().child(0x5F2E).unwrap();
        rec.extend_from_slice(t.value);
        rec[FAC_HEADER_LEN..FAC_HEADER_LEN + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_iso19794_5(&rec).is_err());
    }
}
