//! Face photos for synthetic passengers, made from real photos of real people
//! (registry packages, see scripts/setup.sh): the chip portrait is a downscaled
//! JPEG; live captures are photometric and geometric variants of another photo
//! of the same person where one exists, of the same photo otherwise.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};

/// A person with one or more photos.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: &'static str,
    pub photos: Vec<PathBuf>,
}

/// The identities available in `photos_dir` (obama: three photos; biden and
/// the astronaut: one each).
pub fn identities(photos_dir: &Path) -> Vec<Identity> {
    let p = |f: &str| photos_dir.join(f);
    vec![
        Identity { name: "obama", photos: vec![p("obama.jpg"), p("obama2.jpg"), p("obama3.jpg")] },
        Identity { name: "biden", photos: vec![p("biden.jpg")] },
        Identity { name: "astronaut", photos: vec![p("astronaut.png")] },
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("cannot load photo {path}: {reason}. Run scripts/setup.sh to fetch the test photos")]
    Load { path: String, reason: String },
    #[error("cannot encode image: {0}")]
    Encode(String),
}

pub fn load(path: &Path) -> Result<RgbImage, PhotoError> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| PhotoError::Load { path: path.display().to_string(), reason: e.to_string() })
}

/// Encode as JPEG of the given quality.
pub fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), quality);
    img.write_with_encoder(enc).map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// A chip portrait: at most 480 px wide, JPEG quality 80 (ICAO portraits are
/// typically 15-25 kB).
pub fn chip_portrait(img: &RgbImage) -> Result<(Vec<u8>, u16, u16), PhotoError> {
    let scaled = if img.width() > 480 {
        DynamicImage::ImageRgb8(img.clone()).resize(480, 640, FilterType::Triangle).to_rgb8()
    } else {
        img.clone()
    };
    Ok((jpeg(&scaled, 80)?, scaled.width() as u16, scaled.height() as u16))
}

/// A live-capture variant: brightness and contrast shift, a crop (the person
/// stands a little off centre), scaling to camera resolution, slight blur.
pub fn live_variant(img: &RgbImage, variant: u32) -> RgbImage {
    let v = variant as i32;
    let (w, h) = (img.width(), img.height());
    let crop_x = (w as i32 * (3 + v % 4) / 100) as u32;
    let crop_y = (h as i32 * (2 + (v / 2) % 4) / 100) as u32;
    let cropped =
        image::imageops::crop_imm(img, crop_x, crop_y, w - 2 * crop_x.min(w / 4), h - crop_y.min(h / 4))
            .to_image();
    let mut d = DynamicImage::ImageRgb8(cropped);
    d = d.brighten(((v * 7) % 31) - 15);
    d = d.adjust_contrast(((v * 5) % 21) as f32 - 10.0);
    if d.width() > 640 {
        d = d.resize(640, 640, FilterType::Triangle);
    }
    if v % 2 == 1 {
        d = d.blur(0.8);
    }
    d.to_rgb8()
}
