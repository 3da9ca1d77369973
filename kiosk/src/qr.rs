//! QR code reading from camera frames (rqrr).
//!
//! A frame may hold other codes (a boarding pass beside the phone): every grid
//! found is decoded and all texts are returned, so that the caller can pick the
//! declaration among them.

use std::time::{Duration, Instant};

use image::RgbImage;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("no QR code found in the frame; hold the phone flat, screen towards the scanner")]
    NotFound,
    #[error("a QR code was found but could not be decoded ({0}); hold the phone still")]
    Undecodable(String),
}

/// What one frame gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrRead {
    pub texts: Vec<String>,
    pub elapsed: Duration,
}

/// Decode every QR code in the frame.
pub fn decode_frame(frame: &RgbImage) -> Result<QrRead, QrError> {
    let start = Instant::now();
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let p = frame.get_pixel(x as u32, y as u32).0;
        // ITU-R BT.601 luma in integer arithmetic.
        ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8
    });
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(QrError::NotFound);
    }
    let mut texts = Vec::new();
    let mut last_error = None;
    for g in grids {
        match g.decode() {
            Ok((_, text)) => texts.push(text),
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    if texts.is_empty() {
        return Err(QrError::Undecodable(last_error.unwrap_or_default()));
    }
    Ok(QrRead { texts, elapsed: start.elapsed() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qr_image(text: &str) -> RgbImage {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let luma = code.render::<image::Luma<u8>>().module_dimensions(4, 4).build();
        image::DynamicImage::ImageLuma8(luma).to_rgb8()
    }

    #[test]
    fn decodes_a_rendered_code() {
        let r = decode_frame(&qr_image("C5360:hello")).unwrap();
        assert_eq!(r.texts, vec!["C5360:hello".to_string()]);
    }

    #[test]
    fn blank_frame_has_no_code() {
        assert_eq!(decode_frame(&RgbImage::new(64, 64)), Err(QrError::NotFound));
    }
}
