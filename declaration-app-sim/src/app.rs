//! The passenger's declaration app: sign a C5360 declaration and render it
//! as the QR code the phone shows.

use ed25519_dalek::SigningKey;
use image::{Luma, RgbImage};
use qrcode::{EcLevel, QrCode};

use kiosk::declaration::Declaration;
use kiosk::declaration::payload;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the declaration does not fit in a QR code: {0}")]
    TooLarge(String),
}

/// Sign the declaration (valid from `now` for `valid_secs`) into QR text.
pub fn qr_text(decl: &Declaration, key: &SigningKey, now: u32, valid_secs: u32) -> String {
    payload::sign(decl, key, now, now.saturating_add(valid_secs))
}

/// The QR code (error correction M, as a phone screen is glossy but clean).
pub fn qr_code(text: &str) -> Result<QrCode, AppError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::TooLarge(e.to_string()))
}

/// Render as an RGB image: `module_px` pixels a module, 4-module quiet zone.
pub fn render_png(code: &QrCode, module_px: u32) -> RgbImage {
    let luma = code.render::<Luma<u8>>().module_dimensions(module_px, module_px).quiet_zone(true).build();
    image::DynamicImage::ImageLuma8(luma).to_rgb8()
}

pub fn render_svg(code: &QrCode) -> String {
    code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(300, 300).build()
}

/// The QR code in the terminal (two rows of modules per line).
pub fn render_terminal(code: &QrCode) -> String {
    code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build()
}
