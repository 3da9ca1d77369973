//! The passenger's declaration app: sign a C5360 declaration and render it
//! as the QR code the phone shows (payload version 2, docs/declaration-qr.md).

use ed25519_dalek::SigningKey;
use image::{Luma, RgbImage};
use qrcode::{EcLevel, QrCode};

use kiosk::declaration::Declaration;
use kiosk::declaration::payload;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the declaration does not fit in a QR code: {0}")]
    TooLarge(String),
    #[error("the app cannot sign this declaration: {0}")]
    Sign(#[from] payload::SignError),
}

/// Sign the declaration (valid from `now` for `valid_secs`) into QR text.
pub fn qr_text(decl: &Declaration, key: &SigningKey, now: u32, valid_secs: u32) -> Result<String, AppError> {
    Ok(payload::sign(decl, key, now, now.saturating_add(valid_secs))?)
}

/// The QR code (error correction M, as a phone screen is glossy but clean).
/// The version 2 text is all QR alphanumeric characters, so the encoder
/// packs it in alphanumeric mode.
pub fn qr_code(text: &str) -> Result<QrCode, AppError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::TooLarge(e.to_string()))
}

/// The QR version number (1 to 40) of a code.
pub fn version_number(code: &QrCode) -> i16 {
    match code.version() {
        qrcode::Version::Normal(n) | qrcode::Version::Micro(n) => n,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk::declaration::payload::{TrustStore, signing_key_from_seed};
    use kiosk::declaration::{AlcoholClass, Answers, Family, FamilyMember, GoodsKind, GoodsLine, Holder};

    const NOW: u32 = 1_795_392_000;

    /// A family of four (the holder and three members' passports) with
    /// ten goods lines: alcohol, tobacco and perfume by kind, other goods
    /// named from the app's list, and a real-length hotel address.
    fn family_of_four() -> Declaration {
        let member = |passport: &str, dob: &str| FamilyMember {
            passport_number: passport.into(),
            nationality: "GBR".into(),
            date_of_birth: dob.into(),
        };
        let line = |kind, description: &str, quantity, value_yen| GoodsLine {
            kind,
            description: description.into(),
            quantity,
            value_yen,
        };
        let alcohol = |class, bottle_ml| GoodsKind::Alcohol { class, bottle_ml };
        Declaration {
            flight: "BA5".into(),
            departure: "LONDON".into(),
            arrival_date: "2026-11-23".into(),
            holder: Holder {
                surname: "JOHNSON".into(),
                given_names: "ELIZABETH MARY".into(),
                nationality: "GBR".into(),
                date_of_birth: "800214".into(),
                passport_number: "533401372".into(),
                occupation: "TEACHER".into(),
                address_in_japan: "Hotel Gracery, 1-19-1 Kabukicho, Shinjuku-ku, Tokyo".into(),
                phone: "+81-3-6833-2489".into(),
            },
            family: Family {
                age_20_plus: 1,
                age_6_to_19: 1,
                under_6: 1,
                members: vec![
                    member("533401373", "790730"),
                    member("533401374", "130502"),
                    member("533401375", "220911"),
                ],
            },
            answers: Answers { over_allowance: true, ..Answers::default() },
            goods: vec![
                line(alcohol(AlcoholClass::WineBeerOther, 750), "", 4, 24_000),
                line(alcohol(AlcoholClass::WhiskyBrandy, 700), "", 2, 30_000),
                line(GoodsKind::Cigarettes, "", 400, 12_000),
                line(GoodsKind::HeatedTobacco, "", 5, 3_000),
                line(GoodsKind::Perfume, "", 100, 25_000),
                line(GoodsKind::Other, "handbag", 1, 250_000),
                line(GoodsKind::Other, "camera", 1, 150_000),
                line(GoodsKind::Other, "shoes", 2, 36_000),
                line(GoodsKind::Other, "chocolate", 6, 6_000),
                line(GoodsKind::Other, "watch", 1, 90_000),
            ],
        }
    }

    #[test]
    fn a_family_of_four_with_ten_goods_lines_fits_version_15_at_level_m() {
        let key = signing_key_from_seed(payload::DEMO_SERVICE_KEY_SEED);
        let text = qr_text(&family_of_four(), &key, NOW, 24 * 3600).unwrap();
        let code = qr_code(&text).unwrap();
        let version = version_number(&code);
        assert_eq!(code.error_correction_level(), EcLevel::M);
        eprintln!(
            "family of four, ten goods lines: {} characters, QR version {version} at level M",
            text.len()
        );
        assert!(version <= 15, "QR version {version} ({} characters)", text.len());
    }

    #[test]
    fn a_single_passenger_fits_a_small_code() {
        let key = signing_key_from_seed(payload::DEMO_SERVICE_KEY_SEED);
        let mut decl = family_of_four();
        decl.family = Family::default();
        decl.answers = Answers::default();
        decl.goods.clear();
        let text = qr_text(&decl, &key, NOW, 24 * 3600).unwrap();
        let version = version_number(&qr_code(&text).unwrap());
        eprintln!(
            "single passenger, nothing to declare: {} characters, QR version {version} at level M",
            text.len()
        );
        assert!(version <= 11, "QR version {version}");
    }

    #[test]
    fn the_rendered_code_reads_back_at_the_kiosk() {
        let key = signing_key_from_seed(payload::DEMO_SERVICE_KEY_SEED);
        let decl = family_of_four();
        let text = qr_text(&decl, &key, NOW, 24 * 3600).unwrap();
        let image = render_png(&qr_code(&text).unwrap(), 4);
        let read = kiosk::qr::decode_frame(&image).unwrap();
        assert_eq!(read.texts, vec![text.clone()]);
        let mut trust = TrustStore::new();
        trust.add(key.verifying_key());
        assert_eq!(trust.verify_qr(&read.texts[0], NOW + 60).unwrap().declaration, decl);
    }

    #[test]
    fn invalid_declarations_are_not_signed() {
        let key = signing_key_from_seed("test");
        let mut decl = family_of_four();
        decl.arrival_date = "tomorrow".into();
        assert!(matches!(qr_text(&decl, &key, NOW, 60), Err(AppError::Sign(_))));
    }
}
