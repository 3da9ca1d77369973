//! Synthetic live-capture variants of a portrait, for the evaluation set:
//! what a kiosk camera does to a face that the original photo does not show.
//! Each [`Variant`] is one named, deterministic transformation (lighting,
//! blur, JPEG artefacts, small in-plane rotation, scale), applied to the
//! photo placed in a 640x480 frame like the kiosk camera's.
//!
//! The chip portrait is made the way `declaration-app-sim`'s `photos` module
//! makes it (at most 480 px wide, JPEG quality 80), so that the pairs are
//! chip portrait against live capture, as at the kiosk.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb, RgbImage};

/// One live-capture transformation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Variant {
    /// Gain and offset on every channel (`out = in * gain + offset`).
    Lighting { gain: f32, offset: f32 },
    /// Gaussian blur of this sigma in frame pixels (focus / motion).
    Blur { sigma: f32 },
    /// Re-encoded as JPEG at this quality.
    Jpeg { quality: u8 },
    /// In-plane rotation (head tilt or a tilted camera), degrees.
    Rotate { degrees: f32 },
    /// The person further away: the face scaled by this factor in the frame.
    Scale { factor: f32 },
}

impl Variant {
    pub fn name(&self) -> String {
        match *self {
            Variant::Lighting { gain, offset } => format!("light-g{gain:.2}-o{offset:+.0}"),
            Variant::Blur { sigma } => format!("blur-{sigma:.1}"),
            Variant::Jpeg { quality } => format!("jpeg-q{quality}"),
            Variant::Rotate { degrees } => format!("rot{degrees:+.0}"),
            Variant::Scale { factor } => format!("scale-{factor:.2}"),
        }
    }
}

/// The variants of the evaluation set: two of each kind.
pub const STANDARD: [Variant; 10] = [
    Variant::Lighting { gain: 0.55, offset: -10.0 },
    Variant::Lighting { gain: 1.25, offset: 30.0 },
    Variant::Blur { sigma: 1.5 },
    Variant::Blur { sigma: 3.0 },
    Variant::Jpeg { quality: 25 },
    Variant::Jpeg { quality: 10 },
    Variant::Rotate { degrees: -8.0 },
    Variant::Rotate { degrees: 12.0 },
    Variant::Scale { factor: 0.7 },
    Variant::Scale { factor: 0.45 },
];

/// A chip portrait: at most 480 px wide, JPEG quality 80.
pub fn chip_portrait(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let scaled = if img.width() > 480 {
        DynamicImage::ImageRgb8(img.clone()).resize(480, 640, FilterType::Triangle).to_rgb8()
    } else {
        img.clone()
    };
    jpeg(&scaled, 80)
}

pub fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), quality);
    img.write_with_encoder(enc)?;
    Ok(out)
}

/// The photo scaled by `factor` of the frame height and centred on a grey
/// 640x480 frame.
pub fn camera_frame(photo: &RgbImage, factor: f32) -> RgbImage {
    let h = ((480.0 * factor).round() as u32).clamp(1, 480);
    let w = ((photo.width() as f32 * h as f32 / photo.height().max(1) as f32).round() as u32).clamp(1, 640);
    let small = imageops::resize(photo, w, h, FilterType::Triangle);
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([90, 95, 100]));
    imageops::overlay(&mut frame, &small, i64::from((640 - w) / 2), i64::from((480 - h) / 2));
    frame
}

/// Apply one variant to a photo, giving a 640x480 live-capture frame.
pub fn apply(photo: &RgbImage, v: Variant) -> Result<RgbImage, image::ImageError> {
    let frame = match v {
        Variant::Scale { factor } => return Ok(camera_frame(photo, factor)),
        _ => camera_frame(photo, 1.0),
    };
    Ok(match v {
        Variant::Lighting { gain, offset } => {
            let mut out = frame;
            for p in out.pixels_mut() {
                for c in p.0.iter_mut() {
                    *c = (f32::from(*c) * gain + offset).round().clamp(0.0, 255.0) as u8;
                }
            }
            out
        }
        Variant::Blur { sigma } => imageops::blur(&frame, sigma),
        Variant::Jpeg { quality } => {
            image::load_from_memory_with_format(&jpeg(&frame, quality)?, image::ImageFormat::Jpeg)?.to_rgb8()
        }
        Variant::Rotate { degrees } => rotate(&frame, degrees),
        Variant::Scale { .. } => frame,
    })
}

/// Rotate about the centre (bilinear, grey outside).
pub fn rotate(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let fill = [90.0f32, 95.0, 100.0];
    let sample = |x: i64, y: i64, ch: usize| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(w) || y >= i64::from(h) {
            fill[ch]
        } else {
            f32::from(img.get_pixel(x as u32, y as u32)[ch])
        }
    };
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        // Inverse mapping: where this output pixel comes from.
        let sx = c * dx + s * dy + cx - 0.5;
        let sy = -s * dx + c * dy + cy - 0.5;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let mut px = [0u8; 3];
        for (ch, out) in px.iter_mut().enumerate() {
            let v = sample(x0, y0, ch) * (1.0 - fx) * (1.0 - fy)
                + sample(x0 + 1, y0, ch) * fx * (1.0 - fy)
                + sample(x0, y0 + 1, ch) * (1.0 - fx) * fy
                + sample(x0 + 1, y0 + 1, ch) * fx * fy;
            *out = v.round().clamp(0.0, 255.0) as u8;
        }
        Rgb(px)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_give_camera_frames() {
        let mut photo = RgbImage::from_pixel(300, 400, Rgb([200, 150, 100]));
        photo.put_pixel(10, 10, Rgb([0, 0, 0]));
        for v in STANDARD {
            let f = apply(&photo, v).unwrap();
            assert_eq!(f.dimensions(), (640, 480), "{}", v.name());
        }
        let dark = apply(&photo, Variant::Lighting { gain: 0.5, offset: 0.0 }).unwrap();
        assert_eq!(dark.get_pixel(320, 240)[0], 100);
        // Rotation by 0 is the identity; by 90 degrees moves a corner pixel.
        let frame = camera_frame(&photo, 1.0);
        assert_eq!(rotate(&frame, 0.0), frame);
        assert!(chip_portrait(&photo).unwrap().starts_with(&[0xFF, 0xD8]));
    }
}

/// The people of `assets/photos` (scripts/setup.sh): three photos of one
/// person, one each of two others.
pub const IDENTITIES: [(&str, &[&str]); 3] = [
    ("obama", &["obama.jpg", "obama2.jpg", "obama3.jpg"]),
    ("biden", &["biden.jpg"]),
    ("astronaut", &["astronaut.png"]),
];

#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error("cannot load photo {path}: {reason}. Run scripts/setup.sh to fetch the test photos")]
    Photo { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

/// Build the evaluation set in `out_dir` from the photos in `photos_dir` and
/// return its pairs (also written to `out_dir/pairs.tsv`, with paths relative
/// to it):
/// - real pairs: every two original photos (same person or not);
/// - synthetic pairs: the chip portrait of every photo against every
///   [`STANDARD`] live-capture variant of every photo (same person when both
///   photos show one identity; a chip portrait against a variant of its own
///   photo is a genuine pair too, the easiest kind).
pub fn build_synthetic_set(
    photos_dir: &std::path::Path,
    out_dir: &std::path::Path,
) -> Result<Vec<super::eval::Pair>, SyntheticError> {
    use super::eval::Pair;
    use std::path::PathBuf;

    let write_err = |p: &std::path::Path, e: &dyn std::fmt::Display| SyntheticError::Write {
        path: p.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(out_dir).map_err(|e| write_err(out_dir, &e))?;
    // Absolute paths, so that pairs.tsv resolves from its own folder.
    let out_dir = &out_dir.canonicalize().map_err(|e| write_err(out_dir, &e))?;
    let photos_dir = &photos_dir.canonicalize().map_err(|e| SyntheticError::Photo {
        path: photos_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut photos: Vec<(&str, &str, RgbImage)> = Vec::new();
    for (who, files) in IDENTITIES {
        for f in files {
            let path = photos_dir.join(f);
            let img = image::open(&path)
                .map_err(|e| SyntheticError::Photo {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?
                .to_rgb8();
            photos.push((who, f, img));
        }
    }
    let stem = |f: &str| f.rsplit_once('.').map_or(f, |(s, _)| s).to_string();
    let mut pairs = Vec::new();
    // Real pairs between the original photos.
    for i in 0..photos.len() {
        for j in i + 1..photos.len() {
            pairs.push(Pair {
                a: photos_dir.join(photos[i].1),
                b: photos_dir.join(photos[j].1),
                same: photos[i].0 == photos[j].0,
            });
        }
    }
    // Chip portraits and live-capture variants.
    let mut chips = Vec::new();
    let mut lives: Vec<(&str, PathBuf)> = Vec::new();
    for (who, f, img) in &photos {
        let chip = out_dir.join(format!("chip-{}.jpg", stem(f)));
        let bytes = chip_portrait(img).map_err(|e| write_err(&chip, &e))?;
        std::fs::write(&chip, bytes).map_err(|e| write_err(&chip, &e))?;
        chips.push((*who, chip));
        for v in STANDARD {
            let live = out_dir.join(format!("live-{}-{}.png", stem(f), v.name()));
            apply(img, v).map_err(|e| write_err(&live, &e))?.save(&live).map_err(|e| write_err(&live, &e))?;
            lives.push((*who, live));
        }
    }
    for (cw, chip) in &chips {
        for (lw, live) in &lives {
            pairs.push(Pair { a: chip.clone(), b: live.clone(), same: cw == lw });
        }
    }
    let rel: Vec<Pair> = pairs
        .iter()
        .map(|p| {
            let r = |x: &PathBuf| x.strip_prefix(out_dir).map(PathBuf::from).unwrap_or_else(|_| x.clone());
            Pair { a: r(&p.a), b: r(&p.b), same: p.same }
        })
        .collect();
    let list = out_dir.join("pairs.tsv");
    std::fs::write(&list, super::eval::format_pairs(&rel)).map_err(|e| write_err(&list, &e))?;
    Ok(pairs)
}
