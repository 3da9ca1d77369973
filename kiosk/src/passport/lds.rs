//! Logical Data Structure (ICAO 9303 Part 10): EF.COM, EF.SOD's wrapper, DG1
//! (MRZ), DG2 (face, ISO/IEC 19794-5 inside a CBEFF biometric information
//! template), DG11 and DG12 (additional personal and document details), DG14
//! (SecurityInfos) and DG15 (Active Authentication public key); the file
//! identifiers and tags of every LDS file.
//!
//! Each file type has `parse` (bytes -> validated value) and `encode`
//! (value -> bytes). Parsing never panics and never allocates more than the
//! input holds: every length comes from the data and is checked against it.

use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;

use super::mrz::{Mrz, MrzError};
use super::security_infos::{SecurityInfos, SecurityInfosError};
use super::tlv::{self, Tlv, TlvError, TlvHeader};

/// Elementary file identifiers. EF.CardAccess and EF.CardSecurity live in the
/// master file; the others in the eMRTD application (AID A0000002471001).
pub mod fid {
    pub const EF_CARD_ACCESS: u16 = 0x011C;
    /// Under the master file (same number as EF.SOD, which is in the application).
    pub const EF_CARD_SECURITY: u16 = 0x011D;
    pub const EF_COM: u16 = 0x011E;
    pub const EF_SOD: u16 = 0x011D;
    pub const DG1: u16 = 0x0101;
    pub const DG2: u16 = 0x0102;
    pub const DG11: u16 = 0x010B;
    pub const DG12: u16 = 0x010C;
    pub const DG14: u16 = 0x010E;
    pub const DG15: u16 = 0x010F;
}

/// The largest LDS file this reader accepts. Real chips hold well under this
/// (a DG2 portrait is typically 15-100 kB); a header announcing more means
/// corrupt or hostile data, and a reader must not allocate for it.
pub const MAX_FILE_LEN: usize = 1 << 20;

/// The largest portrait side decoded, in pixels (ICAO portraits are around
/// 500 x 650, rarely above 1200); it bounds the memory a hostile image can make
/// the decoder take.
pub const MAX_PORTRAIT_SIDE: u32 = 2048;

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
    #[error("DG2: the {format} portrait cannot be decoded: {reason}")]
    PortraitDecode { format: &'static str, reason: String },
    #[error(
        "DG2: the portrait is {width}x{height} pixels; this reader decodes at most \
         {MAX_PORTRAIT_SIDE}x{MAX_PORTRAIT_SIDE}"
    )]
    PortraitTooLarge { width: u32, height: u32 },
    #[error("{file}: {source}")]
    SecurityInfos { file: &'static str, source: SecurityInfosError },
    #[error("{file}: {what} is not valid DER: {reason}")]
    Der { file: &'static str, what: &'static str, reason: String },
    #[error(
        "the file announces {length} bytes, more than the {MAX_FILE_LEN} an eMRTD file can hold: \
         the chip data are corrupt"
    )]
    FileTooLarge { length: usize },
}

fn tlv_err(file: &'static str) -> impl Fn(TlvError) -> LdsError {
    move |source| LdsError::Tlv { file, source }
}

/// A data group, DG1 to DG16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataGroup(u8);

/// Tags of DG1..DG16 (ICAO 9303 Part 10, table 35).
const DG_TAGS: [u8; 16] =
    [0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70];

impl DataGroup {
    pub const DG1: DataGroup = DataGroup(1);
    pub const DG2: DataGroup = DataGroup(2);
    pub const DG11: DataGroup = DataGroup(11);
    pub const DG12: DataGroup = DataGroup(12);
    pub const DG14: DataGroup = DataGroup(14);
    pub const DG15: DataGroup = DataGroup(15);

    /// DG`number`, for 1 to 16.
    pub fn new(number: u8) -> Option<DataGroup> {
        (1..=16).contains(&number).then_some(DataGroup(number))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// File identifier: 0101 for DG1 ... 0110 for DG16.
    pub fn fid(self) -> u16 {
        0x0100 + u16::from(self.0)
    }

    /// The file's outer tag (61 for DG1, 75 for DG2, ...), as EF.COM lists it.
    pub fn tag(self) -> u8 {
        DG_TAGS.get(usize::from(self.0).saturating_sub(1)).copied().unwrap_or(0)
    }

    pub fn from_tag(tag: u8) -> Option<DataGroup> {
        let index = DG_TAGS.iter().position(|&t| t == tag)?;
        DataGroup::new(u8::try_from(index + 1).ok()?)
    }

    pub fn from_fid(fid: u16) -> Option<DataGroup> {
        DataGroup::new(u8::try_from(fid.checked_sub(0x0100)?).ok()?)
    }

    /// DG1 to DG16 in order.
    pub fn all() -> impl Iterator<Item = DataGroup> {
        (1..=16).map(DataGroup)
    }
}

impl std::fmt::Display for DataGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DG{}", self.0)
    }
}

/// Any file a reader selects on an eMRTD chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LdsFile {
    /// PACE parameters (SecurityInfos), master file.
    CardAccess,
    /// Signed SecurityInfos for PACE-CAM and CA, master file.
    CardSecurity,
    Com,
    Sod,
    DataGroup(DataGroup),
}

impl LdsFile {
    pub fn fid(self) -> u16 {
        match self {
            LdsFile::CardAccess => fid::EF_CARD_ACCESS,
            LdsFile::CardSecurity => fid::EF_CARD_SECURITY,
            LdsFile::Com => fid::EF_COM,
            LdsFile::Sod => fid::EF_SOD,
            LdsFile::DataGroup(dg) => dg.fid(),
        }
    }

    /// The outer tag; `None` for EF.CardAccess (a bare DER SET) and
    /// EF.CardSecurity (a bare CMS ContentInfo).
    pub fn tag(self) -> Option<u8> {
        match self {
            LdsFile::CardAccess | LdsFile::CardSecurity => None,
            LdsFile::Com => Some(0x60),
            LdsFile::Sod => Some(0x77),
            LdsFile::DataGroup(dg) => Some(dg.tag()),
        }
    }

    /// Whether the file is selected in the master file rather than in the
    /// eMRTD application.
    pub fn in_master_file(self) -> bool {
        matches!(self, LdsFile::CardAccess | LdsFile::CardSecurity)
    }

    /// The application file with this outer tag (EF.COM, EF.SOD or a data group).
    pub fn from_tag(tag: u8) -> Option<LdsFile> {
        match tag {
            0x60 => Some(LdsFile::Com),
            0x77 => Some(LdsFile::Sod),
            _ => DataGroup::from_tag(tag).map(LdsFile::DataGroup),
        }
    }

    /// The file with this identifier in the eMRTD application (`in_master_file`
    /// false) or in the master file (true).
    pub fn from_fid(fid: u16, in_master_file: bool) -> Option<LdsFile> {
        match (fid, in_master_file) {
            (fid::EF_CARD_ACCESS, true) => Some(LdsFile::CardAccess),
            (fid::EF_CARD_SECURITY, true) => Some(LdsFile::CardSecurity),
            (_, true) => None,
            (fid::EF_COM, false) => Some(LdsFile::Com),
            (fid::EF_SOD, false) => Some(LdsFile::Sod),
            (fid, false) => DataGroup::from_fid(fid).map(LdsFile::DataGroup),
        }
    }
}

impl std::fmt::Display for LdsFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LdsFile::CardAccess => f.write_str("EF.CardAccess"),
            LdsFile::CardSecurity => f.write_str("EF.CardSecurity"),
            LdsFile::Com => f.write_str("EF.COM"),
            LdsFile::Sod => f.write_str("EF.SOD"),
            LdsFile::DataGroup(dg) => dg.fmt(f),
        }
    }
}

/// The total length of an LDS file (tag, length and value) from its first
/// bytes, so that a reader can size its READ BINARY commands. Pass the first
/// [`TlvHeader::MAX_LEN`] bytes, or the whole file if shorter; six are enough
/// for every eMRTD file. Works for the DER files too (EF.CardAccess,
/// EF.CardSecurity). A file longer than [`MAX_FILE_LEN`] is an error.
pub fn file_length(first_bytes: &[u8]) -> Result<usize, LdsError> {
    let header = TlvHeader::parse(first_bytes).map_err(tlv_err("LDS file header"))?;
    match header.total_len() {
        Some(length) if length <= MAX_FILE_LEN => Ok(length),
        length => Err(LdsError::FileTooLarge { length: length.unwrap_or(usize::MAX) }),
    }
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

    /// The data groups listed (unknown tags are skipped).
    pub fn data_groups(&self) -> Vec<DataGroup> {
        self.tags.iter().filter_map(|&t| DataGroup::from_tag(t)).collect()
    }
}

/// EF.SOD: the CMS ContentInfo (DER) inside tag 77, for the Passive
/// Authentication code to parse.
pub fn parse_ef_sod(data: &[u8]) -> Result<&[u8], LdsError> {
    let sod = Tlv::parse_expecting(data, 0x77).map_err(tlv_err("EF.SOD"))?;
    match sod.value.first() {
        Some(0x30) => Ok(sod.value),
        _ => Err(LdsError::Der {
            file: "EF.SOD",
            what: "the content",
            reason: "a CMS ContentInfo starts with a SEQUENCE (30)".into(),
        }),
    }
}

/// EF.SOD around a DER CMS ContentInfo.
pub fn encode_ef_sod(content_info: &[u8]) -> Vec<u8> {
    tlv::encode(0x77, content_info)
}

/// DG1: the MRZ as stored on the chip: 90 (TD1), 72 (TD2) or 88 (TD3)
/// characters without line breaks.
pub fn parse_dg1(data: &[u8]) -> Result<Mrz, LdsError> {
    let e = tlv_err("DG1");
    let dg1 = Tlv::parse_expecting(data, 0x61).map_err(&e)?;
    let raw = dg1.child(0x5F1F).map_err(&e)?.value;
    let text = std::str::from_utf8(raw).map_err(|_| LdsError::MrzNotText)?;
    Ok(Mrz::parse(text)?)
}

/// DG1 holding these MRZ lines (2 or 3), concatenated.
pub fn encode_dg1(lines: &[String]) -> Vec<u8> {
    tlv::encode(0x61, &tlv::encode(0x5F1F, lines.concat().as_bytes()))
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

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
/// JP2 signature box.
const JP2_MAGIC: &[u8] = &[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A];
/// Raw JPEG 2000 codestream: SOC and SIZ markers.
const J2K_MAGIC: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];

impl FacePortrait {
    /// The compression the bytes actually use, recognised by their signature;
    /// the declared type when the signature is unknown. Some issuers label a
    /// JPEG 2000 portrait as JPEG or the other way round.
    pub fn detected_type(&self) -> ImageDataType {
        if self.image.starts_with(JPEG_MAGIC) {
            ImageDataType::Jpeg
        } else if self.image.starts_with(JP2_MAGIC) || self.image.starts_with(J2K_MAGIC) {
            ImageDataType::Jpeg2000
        } else {
            self.data_type
        }
    }

    /// Decode the portrait: JPEG with `image`, JPEG 2000 (JP2 file or raw
    /// codestream) with `hayro-jpeg2000`. Images larger than
    /// [`MAX_PORTRAIT_SIDE`] are refused before decoding.
    pub fn decode(&self) -> Result<image::DynamicImage, LdsError> {
        match self.detected_type() {
            ImageDataType::Jpeg => guarded("JPEG", || decode_jpeg(&self.image)),
            ImageDataType::Jpeg2000 => guarded("JPEG 2000", || decode_jpeg2000(&self.image)),
            ImageDataType::Unknown(t) => Err(LdsError::PortraitDecode {
                format: "unknown",
                reason: format!("image data type {t} is neither JPEG (0) nor JPEG 2000 (1)"),
            }),
        }
    }
}

/// Runs a third-party decoder so that a panic inside it on hostile data
/// becomes an error instead of taking the kiosk down.
fn guarded(
    format: &'static str,
    decode: impl FnOnce() -> Result<image::DynamicImage, LdsError>,
) -> Result<image::DynamicImage, LdsError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|_| {
        Err(LdsError::PortraitDecode { format, reason: "the decoder failed on this data".into() })
    })
}

fn check_portrait_size(width: u32, height: u32) -> Result<(), LdsError> {
    if width > MAX_PORTRAIT_SIDE || height > MAX_PORTRAIT_SIDE {
        return Err(LdsError::PortraitTooLarge { width, height });
    }
    Ok(())
}

fn decode_jpeg(data: &[u8]) -> Result<image::DynamicImage, LdsError> {
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_PORTRAIT_SIDE);
    limits.max_image_height = Some(MAX_PORTRAIT_SIDE);
    reader.limits(limits);
    reader.decode().map_err(|e| LdsError::PortraitDecode {
        format: "JPEG",
        reason: match e {
            image::ImageError::Limits(_) => format!("the image is larger than this reader decodes ({e})"),
            e => e.to_string(),
        },
    })
}

fn decode_jpeg2000(data: &[u8]) -> Result<image::DynamicImage, LdsError> {
    let fail = |reason: String| LdsError::PortraitDecode { format: "JPEG 2000", reason };
    let image = hayro_jpeg2000::Image::new(data, &hayro_jpeg2000::DecodeSettings::default())
        .map_err(|e| fail(e.to_string()))?;
    check_portrait_size(image.width(), image.height())?;
    // Grey, RGB or CMYK, with or without alpha; a codestream may declare up to
    // 16384 components, each decoded at full size before conversion.
    let channels = u32::from(image.color_space().num_channels()) + u32::from(image.has_alpha());
    if channels > 4 {
        return Err(fail(format!("{channels} colour channels; a portrait has at most 4")));
    }
    image::DynamicImage::from_decoder(image).map_err(|e| fail(e.to_string()))
}

const FAC_HEADER_LEN: usize = 14;
const FACIAL_INFO_LEN: usize = 20;
const FEATURE_POINT_LEN: usize = 8;
const IMAGE_INFO_LEN: usize = 12;

/// DG2: the first face image of the biometric information group template.
/// A group may hold several templates (7F60); the first that holds a face
/// record is taken.
pub fn parse_dg2(data: &[u8]) -> Result<FacePortrait, LdsError> {
    let e = tlv_err("DG2");
    let dg2 = Tlv::parse_expecting(data, 0x75).map_err(&e)?;
    let group = dg2.child(0x7F61).map_err(&e)?;
    let mut first_error = None;
    for template in group.children() {
        let template = template.map_err(&e)?;
        if template.tag != 0x7F60 {
            continue;
        }
        match parse_biometric_template(template) {
            Ok(portrait) => return Ok(portrait),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    Err(first_error.unwrap_or(LdsError::Tlv { file: "DG2", source: TlvError::Missing(0x7F60) }))
}

fn parse_biometric_template(template: Tlv<'_>) -> Result<FacePortrait, LdsError> {
    // The biometric data block is 5F2E, or 7F2E when it is itself constructed.
    let block = template.child(0x5F2E).or_else(|_| template.child(0x7F2E)).map_err(tlv_err("DG2"))?;
    if block.tag == 0x7F2E && !block.value.starts_with(b"FAC\0") {
        return Err(LdsError::Face(
            "the face is encoded per ISO/IEC 39794-5 (7F2E), which this reader does not decode yet".into(),
        ));
    }
    parse_iso19794_5(block.value)
}

fn be(data: &[u8], at: usize, n: usize) -> Option<u32> {
    data.get(at..at.checked_add(n)?).map(|b| b.iter().fold(0u32, |a, &x| (a << 8) | x as u32))
}

/// An ISO/IEC 19794-5:2005 facial record: general header, facial information,
/// feature points, image information, image data. The first face is taken.
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
    let image = rec
        .get(image_start..image_end)
        .filter(|_| image_end >= image_start)
        .ok_or_else(|| bad("the facial block length does not fit the record"))?;
    Ok(FacePortrait { data_type, width, height, image: image.to_vec() })
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

/// Text of an LDS data object: UTF-8 (ISO/IEC 10646) per LDS 1.7; invalid
/// sequences are replaced rather than rejected.
fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// A date (yyyymmdd, or yyyymmddhhmmss) as ASCII digits; older chips write it
/// as packed BCD, which is unpacked to the same digits.
fn date_text(value: &[u8]) -> String {
    let is_bcd = !value.is_empty()
        && !value.iter().all(u8::is_ascii_digit)
        && value.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9);
    if is_bcd {
        value.iter().flat_map(|b| [char::from(b'0' + (b >> 4)), char::from(b'0' + (b & 0x0F))]).collect()
    } else {
        text(value)
    }
}

/// The tag's encoded bytes, as a tag list (5C) holds them.
fn tag_bytes(tag: u32) -> Vec<u8> {
    let bytes = tag.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    bytes.get(skip..).unwrap_or_default().to_vec()
}

/// Builds a data group: tag list 5C, then the present data objects in order.
struct GroupWriter {
    tags: Vec<u8>,
    body: Vec<u8>,
}

impl GroupWriter {
    fn new() -> GroupWriter {
        GroupWriter { tags: Vec::new(), body: Vec::new() }
    }

    fn bytes(&mut self, tag: u32, value: Option<&[u8]>) {
        if let Some(v) = value {
            self.tags.extend(tag_bytes(tag));
            self.body.extend(tlv::encode(tag, v));
        }
    }

    fn text(&mut self, tag: u32, value: &Option<String>) {
        self.bytes(tag, value.as_deref().map(str::as_bytes));
    }

    /// A list in an A0 template: count (02), then one object per entry.
    fn list(&mut self, entry_tag: u32, entries: &[String]) {
        if entries.is_empty() {
            return;
        }
        let count = u8::try_from(entries.len()).unwrap_or(u8::MAX);
        let mut inner = tlv::encode(0x02, &[count]);
        for entry in entries {
            inner.extend(tlv::encode(entry_tag, entry.as_bytes()));
        }
        self.tags.push(0xA0);
        self.body.extend(tlv::encode(0xA0, &inner));
    }

    fn finish(self, outer: u32) -> Vec<u8> {
        let mut content = tlv::encode(0x5C, &self.tags);
        content.extend(self.body);
        tlv::encode(outer, &content)
    }
}

/// The entries of a list: inside A0 templates (the ICAO layout) or bare, as
/// some issuers write them.
fn list_entry(
    object: Tlv<'_>,
    entry_tag: u32,
    out: &mut Vec<String>,
    e: &impl Fn(TlvError) -> LdsError,
) -> Result<(), LdsError> {
    if object.tag == entry_tag {
        out.push(text(object.value));
    } else if object.tag == 0xA0 {
        for inner in object.children() {
            let inner = inner.map_err(e)?;
            if inner.tag == entry_tag {
                out.push(text(inner.value));
            }
        }
    }
    Ok(())
}

/// DG11: additional personal details (ICAO 9303 Part 10 4.7.11). Every field
/// is optional; texts are as stored (several values separated by '<').
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dg11 {
    /// 5F0E: full name in national characters, "SURNAME<<GIVEN NAMES".
    pub full_name: Option<String>,
    /// A0 / 5F0F.
    pub other_names: Vec<String>,
    /// 5F10.
    pub personal_number: Option<String>,
    /// 5F2B: yyyymmdd.
    pub full_date_of_birth: Option<String>,
    /// 5F11.
    pub place_of_birth: Option<String>,
    /// 5F42.
    pub address: Option<String>,
    /// 5F12.
    pub telephone: Option<String>,
    /// 5F13.
    pub profession: Option<String>,
    /// 5F14.
    pub title: Option<String>,
    /// 5F15.
    pub personal_summary: Option<String>,
    /// 5F16: an image (JPEG or JPEG 2000).
    pub proof_of_citizenship: Option<Vec<u8>>,
    /// 5F17.
    pub other_travel_document_numbers: Option<String>,
    /// 5F18.
    pub custody_information: Option<String>,
}

impl Dg11 {
    /// Parse DG11 (tag 6B); unknown data objects are skipped.
    pub fn parse(data: &[u8]) -> Result<Dg11, LdsError> {
        let e = tlv_err("DG11");
        let dg11 = Tlv::parse_expecting(data, 0x6B).map_err(&e)?;
        let mut out = Dg11::default();
        for object in dg11.children() {
            let object = object.map_err(&e)?;
            let value = Some(text(object.value));
            match object.tag {
                0x5F0E => out.full_name = value,
                0x5F10 => out.personal_number = value,
                0x5F2B => out.full_date_of_birth = Some(date_text(object.value)),
                0x5F11 => out.place_of_birth = value,
                0x5F42 => out.address = value,
                0x5F12 => out.telephone = value,
                0x5F13 => out.profession = value,
                0x5F14 => out.title = value,
                0x5F15 => out.personal_summary = value,
                0x5F16 => out.proof_of_citizenship = Some(object.value.to_vec()),
                0x5F17 => out.other_travel_document_numbers = value,
                0x5F18 => out.custody_information = value,
                _ => list_entry(object, 0x5F0F, &mut out.other_names, &e)?,
            }
        }
        Ok(out)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = GroupWriter::new();
        w.text(0x5F0E, &self.full_name);
        w.list(0x5F0F, &self.other_names);
        w.text(0x5F10, &self.personal_number);
        w.text(0x5F2B, &self.full_date_of_birth);
        w.text(0x5F11, &self.place_of_birth);
        w.text(0x5F42, &self.address);
        w.text(0x5F12, &self.telephone);
        w.text(0x5F13, &self.profession);
        w.text(0x5F14, &self.title);
        w.text(0x5F15, &self.personal_summary);
        w.bytes(0x5F16, self.proof_of_citizenship.as_deref());
        w.text(0x5F17, &self.other_travel_document_numbers);
        w.text(0x5F18, &self.custody_information);
        w.finish(0x6B)
    }
}

/// DG12: additional document details (ICAO 9303 Part 10 4.7.12).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dg12 {
    /// 5F19.
    pub issuing_authority: Option<String>,
    /// 5F26: yyyymmdd.
    pub date_of_issue: Option<String>,
    /// A0 / 5F1A: names of other persons included in the document.
    pub other_persons: Vec<String>,
    /// 5F1B: endorsements and observations.
    pub endorsements: Option<String>,
    /// 5F1C: tax or exit requirements.
    pub tax_exit_requirements: Option<String>,
    /// 5F1D: image of the front of the document.
    pub front_image: Option<Vec<u8>>,
    /// 5F1E: image of the rear of the document.
    pub rear_image: Option<Vec<u8>>,
    /// 5F55: yyyymmddhhmmss.
    pub personalisation_time: Option<String>,
    /// 5F56: serial number of the personalisation system.
    pub personalisation_device_serial: Option<String>,
}

impl Dg12 {
    /// Parse DG12 (tag 6C); unknown data objects are skipped.
    pub fn parse(data: &[u8]) -> Result<Dg12, LdsError> {
        let e = tlv_err("DG12");
        let dg12 = Tlv::parse_expecting(data, 0x6C).map_err(&e)?;
        let mut out = Dg12::default();
        for object in dg12.children() {
            let object = object.map_err(&e)?;
            let value = Some(text(object.value));
            match object.tag {
                0x5F19 => out.issuing_authority = value,
                0x5F26 => out.date_of_issue = Some(date_text(object.value)),
                0x5F1B => out.endorsements = value,
                0x5F1C => out.tax_exit_requirements = value,
                0x5F1D => out.front_image = Some(object.value.to_vec()),
                0x5F1E => out.rear_image = Some(object.value.to_vec()),
                0x5F55 => out.personalisation_time = Some(date_text(object.value)),
                0x5F56 => out.personalisation_device_serial = value,
                _ => list_entry(object, 0x5F1A, &mut out.other_persons, &e)?,
            }
        }
        Ok(out)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = GroupWriter::new();
        w.text(0x5F19, &self.issuing_authority);
        w.text(0x5F26, &self.date_of_issue);
        w.list(0x5F1A, &self.other_persons);
        w.text(0x5F1B, &self.endorsements);
        w.text(0x5F1C, &self.tax_exit_requirements);
        w.bytes(0x5F1D, self.front_image.as_deref());
        w.bytes(0x5F1E, self.rear_image.as_deref());
        w.text(0x5F55, &self.personalisation_time);
        w.text(0x5F56, &self.personalisation_device_serial);
        w.finish(0x6C)
    }
}

/// EF.CardAccess: a bare SecurityInfos (PACE parameters).
pub fn parse_card_access(data: &[u8]) -> Result<SecurityInfos, LdsError> {
    SecurityInfos::parse(data).map_err(|source| LdsError::SecurityInfos { file: "EF.CardAccess", source })
}

/// DG14: the SecurityInfos for Chip Authentication (and ECDSA Active
/// Authentication) inside tag 6E.
pub fn parse_dg14(data: &[u8]) -> Result<SecurityInfos, LdsError> {
    let dg14 = Tlv::parse_expecting(data, 0x6E).map_err(tlv_err("DG14"))?;
    SecurityInfos::parse(dg14.value).map_err(|source| LdsError::SecurityInfos { file: "DG14", source })
}

pub fn encode_dg14(infos: &SecurityInfos) -> Result<Vec<u8>, LdsError> {
    let set = infos.encode().map_err(|source| LdsError::SecurityInfos { file: "DG14", source })?;
    Ok(tlv::encode(0x6E, &set))
}

/// DG15: the Active Authentication public key (a DER SubjectPublicKeyInfo,
/// RSA or EC) inside tag 6F.
pub fn parse_dg15(data: &[u8]) -> Result<SubjectPublicKeyInfoOwned, LdsError> {
    let dg15 = Tlv::parse_expecting(data, 0x6F).map_err(tlv_err("DG15"))?;
    SubjectPublicKeyInfoOwned::from_der(dg15.value).map_err(|e| LdsError::Der {
        file: "DG15",
        what: "the SubjectPublicKeyInfo",
        reason: e.to_string(),
    })
}

pub fn encode_dg15(public_key: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, LdsError> {
    let der = public_key.to_der().map_err(|e| LdsError::Der {
        file: "DG15",
        what: "the SubjectPublicKeyInfo",
        reason: e.to_string(),
    })?;
    Ok(tlv::encode(0x6F, &der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passport::mrz::{MrzFormat, Td3Fields, build_td1, build_td2, build_td3};
    use crate::passport::oid;
    use crate::passport::security_infos::{ChipAuthenticationInfo, PaceInfo, SecurityInfo};

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn fields() -> Td3Fields {
        Td3Fields {
            issuing_state: "UTO".into(),
            surname: "ERIKSSON".into(),
            given_names: "ANNA MARIA".into(),
            document_number: "D23145890734".into(),
            nationality: "UTO".into(),
            date_of_birth: "740812".into(),
            sex: 'F',
            date_of_expiry: "120415".into(),
        }
    }

    /// Pseudo-random bytes (xorshift), for garbage inputs.
    fn noise(seed: &mut u32, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 17;
                *seed ^= *seed << 5;
                (*seed >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn ef_com_round_trip_and_appendix_d_vector() {
        let com =
            EfCom { lds_version: "0107".into(), unicode_version: "040000".into(), tags: vec![0x61, 0x75] };
        assert_eq!(EfCom::parse(&com.encode()).unwrap(), com);
        let d4 = EfCom::parse(&hex("60145F0104303130365F36063034303030305C026175")).unwrap();
        assert_eq!(d4.lds_version, "0106");
        assert_eq!(d4.data_groups(), vec![DataGroup::DG1, DataGroup::DG2]);
    }

    #[test]
    fn file_identifiers_and_tags() {
        let table = [(1, 0x0101, 0x61), (2, 0x0102, 0x75), (11, 0x010B, 0x6B), (12, 0x010C, 0x6C)];
        for (n, fid, tag) in
            table.into_iter().chain([(14, 0x010E, 0x6E), (15, 0x010F, 0x6F), (16, 0x0110, 0x70)])
        {
            let dg = DataGroup::new(n).unwrap();
            assert_eq!((dg.fid(), dg.tag()), (fid, tag), "{dg}");
        }
        for dg in DataGroup::all() {
            assert_eq!(DataGroup::from_tag(dg.tag()), Some(dg));
            assert_eq!(DataGroup::from_fid(dg.fid()), Some(dg));
            assert_eq!(LdsFile::from_fid(dg.fid(), false), Some(LdsFile::DataGroup(dg)));
            assert_eq!(LdsFile::from_tag(dg.tag()), Some(LdsFile::DataGroup(dg)));
        }
        assert_eq!(DataGroup::all().count(), 16);
        assert_eq!((DataGroup::new(0), DataGroup::new(17), DataGroup::from_tag(0x77)), (None, None, None));
        assert_eq!(DataGroup::from_fid(0x0111), None);
        assert_eq!((LdsFile::Com.fid(), LdsFile::Com.tag()), (0x011E, Some(0x60)));
        assert_eq!((LdsFile::Sod.fid(), LdsFile::Sod.tag()), (0x011D, Some(0x77)));
        assert_eq!((LdsFile::CardAccess.fid(), LdsFile::CardAccess.tag()), (0x011C, None));
        assert_eq!((LdsFile::CardSecurity.fid(), LdsFile::CardSecurity.in_master_file()), (0x011D, true));
        assert!(!LdsFile::Sod.in_master_file());
        assert_eq!(LdsFile::from_fid(0x011D, true), Some(LdsFile::CardSecurity));
        assert_eq!(LdsFile::from_fid(0x011D, false), Some(LdsFile::Sod));
        assert_eq!(LdsFile::from_fid(0x011C, true), Some(LdsFile::CardAccess));
        assert_eq!(LdsFile::from_fid(0x0101, true), None);
        assert_eq!(LdsFile::from_tag(0x60), Some(LdsFile::Com));
        assert_eq!(LdsFile::DataGroup(DataGroup::DG14).to_string(), "DG14");
    }

    #[test]
    fn file_length_from_the_first_bytes() {
        let dg2 = tlv::encode(0x75, &vec![0; 30_000]);
        assert_eq!(file_length(&dg2[..TlvHeader::MAX_LEN]).unwrap(), dg2.len());
        assert_eq!(file_length(&dg2[..4]).unwrap(), dg2.len());
        let card_access = hex("3114 3012 060A 04007F00070202040202 020102 02010D");
        assert_eq!(file_length(&card_access[..2]).unwrap(), card_access.len());
        assert!(matches!(file_length(&dg2[..2]), Err(LdsError::Tlv { .. })));
        assert!(matches!(file_length(&[0x75, 0x84, 0x7F, 0, 0, 0]), Err(LdsError::FileTooLarge { .. })));
        assert!(file_length(&[]).is_err());
    }

    #[test]
    fn ef_sod_wrapper() {
        let content_info = hex("3003 020101");
        let sod = encode_ef_sod(&content_info);
        assert_eq!(sod[0], 0x77);
        assert_eq!(parse_ef_sod(&sod).unwrap(), &content_info[..]);
        assert!(matches!(parse_ef_sod(&hex("7703 020101")), Err(LdsError::Der { .. })));
        assert!(matches!(parse_ef_sod(&content_info), Err(LdsError::Tlv { .. })));
        assert!(parse_ef_sod(&[0x77]).is_err());
    }

    #[test]
    fn dg1_holds_every_mrz_format() {
        let f = fields();
        let td3 = build_td3(&f).to_vec();
        let td2 = build_td2(&f).to_vec();
        let td1 = build_td1(&f).to_vec();
        for (lines, format, len) in
            [(td1, MrzFormat::Td1, 90), (td2, MrzFormat::Td2, 72), (td3, MrzFormat::Td3, 88)]
        {
            let dg1 = encode_dg1(&lines);
            assert_eq!(Tlv::parse(&dg1).unwrap().child(0x5F1F).unwrap().value.len(), len);
            let m = parse_dg1(&dg1).unwrap();
            assert_eq!(m.format, format);
            assert_eq!(m.lines, lines);
            assert!(m.all_checks_pass(), "{format}: {:?}", m.checks);
        }
        // The ICAO TD3 specimen, as before.
        let lines = [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<".to_string(),
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10".to_string(),
        ];
        let m = parse_dg1(&encode_dg1(&lines)).unwrap();
        assert_eq!(m.document_number, "L898902C3");
        assert!(matches!(
            parse_dg1(&tlv::encode(0x61, &tlv::encode(0x5F1F, &[0xFF; 88]))),
            Err(LdsError::MrzNotText)
        ));
        assert!(matches!(
            parse_dg1(&tlv::encode(0x61, &tlv::encode(0x5F1F, b"P<UTO"))),
            Err(LdsError::Mrz(_))
        ));
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
    fn dg2_takes_the_first_face_of_several_templates() {
        let face = |byte: u8| FacePortrait {
            data_type: ImageDataType::Jpeg,
            width: 2,
            height: 3,
            image: vec![byte; 10],
        };
        // Take the 7F60 templates out of two single-face DG2s.
        let template = |p: &FacePortrait| {
            let enc = encode_dg2(p);
            let group = Tlv::parse(&enc).unwrap().child(0x7F61).unwrap().child(0x7F60).unwrap();
            tlv::encode(0x7F60, group.value)
        };
        // A first template holding ISO/IEC 39794-5 data, then two faces.
        let modern = tlv::encode(0x7F60, &tlv::encode(0x7F2E, &tlv::encode(0xA1, &[1, 2, 3])));
        let mut group = tlv::encode(0x02, &[3]);
        group.extend(modern.clone());
        group.extend(template(&face(1)));
        group.extend(template(&face(2)));
        let dg2 = tlv::encode(0x75, &tlv::encode(0x7F61, &group));
        assert_eq!(parse_dg2(&dg2).unwrap(), face(1));
        // Only the unsupported encoding: its error is the one reported.
        let only = tlv::encode(0x75, &tlv::encode(0x7F61, &[tlv::encode(0x02, &[1]), modern].concat()));
        let err = parse_dg2(&only).unwrap_err().to_string();
        assert!(err.contains("39794-5"), "{err}");
        // No template at all.
        let empty = tlv::encode(0x75, &tlv::encode(0x7F61, &tlv::encode(0x02, &[0])));
        assert!(matches!(parse_dg2(&empty), Err(LdsError::Tlv { source: TlvError::Missing(0x7F60), .. })));
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
        rec[FAC_HEADER_LEN..FAC_HEADER_LEN + 4].copy_from_slice(&4u32.to_be_bytes());
        assert!(parse_iso19794_5(&rec).is_err());
    }

    fn test_jp2() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/portrait.jp2");
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The contiguous codestream box ("jp2c") of a JP2 file.
    fn codestream(jp2: &[u8]) -> &[u8] {
        let mut at = 0;
        while at + 8 <= jp2.len() {
            let len = u32::from_be_bytes(jp2[at..at + 4].try_into().unwrap()) as usize;
            let end = if len == 0 { jp2.len() } else { at + len };
            if &jp2[at + 4..at + 8] == b"jp2c" {
                return &jp2[at + 8..end];
            }
            at = end;
        }
        panic!("no jp2c box")
    }

    #[test]
    fn portraits_decode_from_jpeg_2000_and_jpeg() {
        let jp2 = test_jp2();
        let portrait =
            FacePortrait { data_type: ImageDataType::Jpeg2000, width: 120, height: 150, image: jp2 };
        // Through DG2, as a chip delivers it.
        let portrait = parse_dg2(&encode_dg2(&portrait)).unwrap();
        let decoded = portrait.decode().unwrap();
        assert_eq!((decoded.width(), decoded.height()), (120, 150));
        let rgb = decoded.to_rgb8();
        // A real photograph: not a flat image.
        let lumas: Vec<u32> =
            rgb.pixels().map(|p| u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])).collect();
        assert!(lumas.iter().max().unwrap() - lumas.iter().min().unwrap() > 300);

        // The raw codestream (J2K) decodes to the same picture.
        let raw = FacePortrait { image: codestream(&portrait.image).to_vec(), ..portrait.clone() };
        assert!(raw.image.starts_with(J2K_MAGIC));
        assert_eq!(raw.decode().unwrap().to_rgb8(), rgb);

        // JPEG, even when mislabelled as JPEG 2000.
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&rgb).unwrap();
        let as_jpeg =
            FacePortrait { data_type: ImageDataType::Jpeg2000, width: 120, height: 150, image: jpeg };
        assert_eq!(as_jpeg.detected_type(), ImageDataType::Jpeg);
        let decoded = as_jpeg.decode().unwrap();
        assert_eq!((decoded.width(), decoded.height()), (120, 150));
    }

    #[test]
    fn broken_portraits_are_errors() {
        let jp2 = test_jp2();
        let mut seed = 7u32;
        let mut cases = vec![
            vec![],
            JPEG_MAGIC.to_vec(),
            JP2_MAGIC.to_vec(),
            J2K_MAGIC.to_vec(),
            [JPEG_MAGIC, &noise(&mut seed, 500)].concat(),
            [J2K_MAGIC, &noise(&mut seed, 500)].concat(),
            [JP2_MAGIC, &noise(&mut seed, 500)].concat(),
        ];
        // Truncated JPEG 2000 decodes what it has (the format is progressive).
        cases.push(jp2[..jp2.len() / 3].to_vec());
        cases.extend((0..20).map(|i| {
            let mut d = jp2.clone();
            d[100 + i * 37] ^= 0x5A;
            d
        }));
        for (i, image) in cases.into_iter().enumerate() {
            let p = FacePortrait { data_type: ImageDataType::Jpeg2000, width: 1, height: 1, image };
            // Decoding may succeed for a flipped bit in the entropy-coded data;
            // it must never panic.
            let result = p.decode();
            if i < 7 {
                assert!(result.is_err(), "case {i}");
            }
        }
        let unknown =
            FacePortrait { data_type: ImageDataType::Unknown(7), width: 1, height: 1, image: vec![1, 2] };
        assert!(matches!(unknown.decode(), Err(LdsError::PortraitDecode { format: "unknown", .. })));
    }

    #[test]
    fn oversized_portraits_are_refused_before_decoding() {
        let side = MAX_PORTRAIT_SIDE + 1;
        // JPEG: a 1x1 image whose frame header (SOF0) announces more.
        let mut jpeg = Vec::new();
        let pixel = image::RgbImage::from_pixel(1, 1, image::Rgb([128, 64, 32]));
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg).encode_image(&pixel).unwrap();
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[
            (side >> 8) as u8,
            side as u8,
            (side >> 8) as u8,
            side as u8,
        ]);
        let p = FacePortrait { data_type: ImageDataType::Jpeg, width: 1, height: 1, image: jpeg };
        let err = p.decode().unwrap_err().to_string();
        assert!(err.contains("larger"), "{err}");
        // JPEG 2000: the SIZ marker's Xsiz/Ysiz.
        let mut j2k = codestream(&test_jp2()).to_vec();
        j2k[8..12].copy_from_slice(&side.to_be_bytes());
        j2k[12..16].copy_from_slice(&side.to_be_bytes());
        let p = FacePortrait { data_type: ImageDataType::Jpeg2000, width: 1, height: 1, image: j2k };
        assert!(matches!(p.decode(), Err(LdsError::PortraitTooLarge { width, .. }) if width == side));
    }

    #[test]
    fn dg11_and_dg12_round_trip() {
        let dg11 = Dg11 {
            full_name: Some("ERIKSSON<<ANNA MARIA".into()),
            other_names: vec!["ANNA<ERIKSDOTTER".into(), "ANNIE".into()],
            personal_number: Some("123456789".into()),
            full_date_of_birth: Some("19740812".into()),
            place_of_birth: Some("ZÜRICH<SWITZERLAND".into()),
            address: Some("1 MAIN STREET<ANYTOWN".into()),
            telephone: Some("+81-3-0000-0000".into()),
            profession: Some("ENGINEER".into()),
            title: Some("DR".into()),
            personal_summary: Some("BROWN HAIR".into()),
            proof_of_citizenship: Some(vec![0xFF, 0xD8, 0xFF, 0xD9]),
            other_travel_document_numbers: Some("X1234567".into()),
            custody_information: None,
        };
        let enc = dg11.encode();
        assert_eq!(Dg11::parse(&enc).unwrap(), dg11);
        // The tag list names what is present.
        let list = Tlv::parse(&enc).unwrap().child(0x5C).unwrap().value.to_vec();
        assert!(list.starts_with(&[0x5F, 0x0E, 0xA0, 0x5F, 0x10]));
        assert!(!list.windows(2).any(|w| w == [0x5F, 0x18]));
        assert_eq!(Dg11::parse(&Dg11::default().encode()).unwrap(), Dg11::default());

        let dg12 = Dg12 {
            issuing_authority: Some("UTOPIA PASSPORT OFFICE".into()),
            date_of_issue: Some("20120415".into()),
            other_persons: vec!["ERIKSSON<<ERIK".into()],
            endorsements: Some("NONE".into()),
            tax_exit_requirements: Some("EXEMPT".into()),
            front_image: Some(vec![1, 2, 3]),
            rear_image: Some(vec![4, 5]),
            personalisation_time: Some("20120401093000".into()),
            personalisation_device_serial: Some("SN-0042".into()),
        };
        assert_eq!(Dg12::parse(&dg12.encode()).unwrap(), dg12);
    }

    #[test]
    fn dg11_and_dg12_tolerate_other_layouts() {
        // Unknown tags, other names without the A0 template, a BCD date.
        let body = [
            tlv::encode(0x5C, &[0x5F, 0x0F, 0x5F, 0x2B]),
            tlv::encode(0x5F0F, b"ALIAS"),
            tlv::encode(0x5F77, b"future"),
            tlv::encode(0xA5, &tlv::encode(0x80, &[1])),
            tlv::encode(0x5F2B, &[0x19, 0x74, 0x08, 0x12]),
        ]
        .concat();
        let dg11 = Dg11::parse(&tlv::encode(0x6B, &body)).unwrap();
        assert_eq!(dg11.other_names, vec!["ALIAS".to_string()]);
        assert_eq!(dg11.full_date_of_birth.as_deref(), Some("19740812"));
        let dg12 = Dg12::parse(&tlv::encode(0x6C, &tlv::encode(0x5F55, &hex("20120401093000")))).unwrap();
        assert_eq!(dg12.personalisation_time.as_deref(), Some("20120401093000"));
        assert!(Dg11::parse(&tlv::encode(0x6C, &[])).is_err());
        assert!(Dg12::parse(&tlv::encode(0x6B, &[])).is_err());
    }

    #[test]
    fn dg14_dg15_and_card_access() {
        let infos = SecurityInfos {
            infos: vec![
                SecurityInfo::ChipAuthentication(ChipAuthenticationInfo {
                    protocol: oid::CA_ECDH_AES_128,
                    version: 1,
                    key_id: None,
                }),
                SecurityInfo::Pace(PaceInfo {
                    protocol: oid::PACE_ECDH_GM_AES_128,
                    version: 2,
                    parameter_id: Some(13),
                }),
            ],
        };
        let dg14 = encode_dg14(&infos).unwrap();
        assert_eq!(dg14[0], 0x6E);
        let parsed = parse_dg14(&dg14).unwrap();
        assert_eq!(parsed.infos.len(), 2);
        assert!(parsed.infos.iter().all(|i| infos.infos.contains(i)));
        assert!(matches!(
            parse_dg14(&tlv::encode(0x6E, &[0x30, 0])),
            Err(LdsError::SecurityInfos { file: "DG14", .. })
        ));
        let card_access =
            parse_card_access(&hex("3114 3012 060A 04007F00070202040202 020102 02010D")).unwrap();
        assert_eq!(card_access.pace_infos().next().unwrap().parameter_id, Some(13));

        // An EC P-256 SubjectPublicKeyInfo.
        let mut point = vec![0x04];
        point.extend(1..=64u8);
        let algorithm =
            [tlv::encode(0x06, oid::EC_PUBLIC_KEY.as_bytes()), tlv::encode(0x06, oid::CURVE_P256.as_bytes())]
                .concat();
        let spki_der = tlv::encode(
            0x30,
            &[tlv::encode(0x30, &algorithm), tlv::encode(0x03, &[&[0u8][..], &point].concat())].concat(),
        );
        let spki = SubjectPublicKeyInfoOwned::from_der(&spki_der).unwrap();
        let dg15 = encode_dg15(&spki).unwrap();
        assert_eq!(dg15, tlv::encode(0x6F, &spki_der));
        assert_eq!(parse_dg15(&dg15).unwrap(), spki);
        assert!(matches!(
            parse_dg15(&tlv::encode(0x6F, &[0x30, 0x00])),
            Err(LdsError::Der { file: "DG15", .. })
        ));
    }

    #[test]
    fn every_parser_survives_garbage_and_truncation() {
        let f = fields();
        let samples: Vec<Vec<u8>> = vec![
            EfCom { lds_version: "0107".into(), unicode_version: "040000".into(), tags: vec![0x61, 0x75] }
                .encode(),
            encode_dg1(&build_td1(&f)),
            encode_dg2(&FacePortrait {
                data_type: ImageDataType::Jpeg,
                width: 1,
                height: 1,
                image: vec![9; 40],
            }),
            Dg11 { full_name: Some("A<<B".into()), other_names: vec!["C".into()], ..Dg11::default() }
                .encode(),
            Dg12 { other_persons: vec!["D".into()], front_image: Some(vec![1]), ..Dg12::default() }.encode(),
            tlv::encode(0x6E, &hex("3114 3012 060A 04007F00070202040202 020102 02010D")),
            encode_ef_sod(&hex("3003 020101")),
        ];
        let run = |d: &[u8]| {
            let _ = EfCom::parse(d);
            let _ = parse_dg1(d);
            let _ = parse_dg2(d);
            let _ = parse_iso19794_5(d);
            let _ = Dg11::parse(d);
            let _ = Dg12::parse(d);
            let _ = parse_dg14(d);
            let _ = parse_dg15(d);
            let _ = parse_card_access(d);
            let _ = parse_ef_sod(d);
            let _ = file_length(d);
        };
        for sample in &samples {
            for cut in 0..sample.len() {
                run(&sample[..cut]);
            }
            for i in 0..sample.len() {
                for v in [0x00, 0x7F, 0x80, 0x84, 0xFF] {
                    let mut d = sample.clone();
                    d[i] = v;
                    run(&d);
                }
            }
        }
        let mut seed = 0xC0FFEEu32;
        for n in 0..2000usize {
            let tag = [0x60, 0x61, 0x75, 0x6B, 0x6C, 0x6E, 0x6F, 0x77][n % 8];
            let body = noise(&mut seed, n % 97);
            run(&tlv::encode(tag, &body));
            run(&body);
        }
    }
}
