use super::synth::{Condition, render_frame};
use super::*;
use crate::declaration::payload::{
    self, DEMO_SERVICE_KEY_SEED, PayloadError, TrustStore, signing_key_from_seed,
};

const NOW: u32 = 1_796_169_600;

fn qr_image(text: &str) -> RgbImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let luma = code.render::<image::Luma<u8>>().module_dimensions(4, 4).build();
    image::DynamicImage::ImageLuma8(luma).to_rgb8()
}

fn signed_sample() -> (String, TrustStore) {
    let key = signing_key_from_seed(DEMO_SERVICE_KEY_SEED);
    let text = payload::sign(&crate::declaration::tests::sample(), &key, NOW, NOW + 86_400).unwrap();
    let mut trust = TrustStore::new();
    trust.add(key.verifying_key());
    (text, trust)
}

#[test]
fn decodes_a_rendered_code() {
    let r = decode_frame(&qr_image("C5360:hello")).unwrap();
    assert_eq!(r.texts, vec!["C5360:hello".to_string()]);
    let direct = Reader { stages: vec![Stage::Direct], ..Reader::default() };
    assert_eq!(direct.read(&qr_image("C5360:hello")).stage, Some(Stage::Direct));
}

#[test]
fn blank_frame_has_no_code() {
    assert_eq!(decode_frame(&RgbImage::new(64, 64)), Err(QrError::NotFound));
    let white = RgbImage::from_pixel(640, 480, image::Rgb([255, 255, 255]));
    let scan = Reader::default().read(&white);
    assert!(scan.texts.is_empty() && scan.stage.is_none());
    assert_eq!(scan.stages_tried, Reader::default_stages().len());
}

#[test]
fn odd_sizes_never_panic() {
    for (w, h) in
        [(0, 0), (1, 1), (0, 100), (100, 0), (20, 20), (21, 21), (1, 4000), (4000, 1), (22, 3000), (3000, 22)]
    {
        let frame = RgbImage::from_fn(w, h, |x, y| image::Rgb([((x * 7 + y * 13) % 256) as u8; 3]));
        assert!(decode_frame(&frame).is_err(), "{w}x{h}");
    }
}

#[test]
fn a_signed_declaration_reads_back_from_phone_frames() {
    let (text, trust) = signed_sample();
    let reader = Reader::for_declarations();
    for (i, condition) in
        [Condition::Clean, Condition::Perspective, Condition::LowContrast].into_iter().enumerate()
    {
        let (frame, _) = render_frame(&text, condition, 640, 480, 11 + i as u64).unwrap();
        let scan = reader.read(&frame);
        assert_eq!(scan.texts, vec![text.clone()], "{condition:?}");
        let v = trust.verify_qr(&scan.texts[0], NOW + 60).unwrap();
        assert_eq!(v.declaration, crate::declaration::tests::sample());
    }
}

/// Most frames of each degradation decode (each is tried with three seeds).
#[test]
fn degraded_frames_decode() {
    let (text, _) = signed_sample();
    let reader = Reader::for_declarations();
    for condition in [Condition::Blur, Condition::Glare, Condition::Moire] {
        let decoded = (0..3)
            .filter(|seed| {
                let (frame, _) = render_frame(&text, condition, 640, 480, *seed).unwrap();
                reader.read(&frame).texts.contains(&text)
            })
            .count();
        assert!(decoded >= 2, "{condition:?}: {decoded} of 3");
    }
}

#[test]
fn dark_mode_needs_the_inverted_image() {
    let (text, _) = signed_sample();
    let (frame, _) = render_frame(&text, Condition::DarkMode, 640, 480, 3).unwrap();
    let direct_only = Reader { stages: vec![Stage::Direct], ..Reader::default() };
    assert!(direct_only.read(&frame).texts.is_empty());
    let scan = Reader::for_declarations().read(&frame);
    assert_eq!(scan.texts, vec![text]);
    assert!(scan.stage.is_some_and(|s| s != Stage::Direct), "{:?}", scan.stage);
    // The located patch is recognised as light on dark and inverted.
    let g = prep::luma(&frame);
    let patch = prep::crop(&g, prep::locate(&g).unwrap());
    assert!(prep::is_light_on_dark(&patch));
}

#[test]
fn an_inverted_printed_code_reads() {
    let mut img = qr_image("C5360:DARK");
    for p in img.pixels_mut() {
        p.0 = p.0.map(|v| 255 - v);
    }
    let r = decode_frame(&img).unwrap();
    assert_eq!(r.texts, vec!["C5360:DARK".to_string()]);
    // The fast pass tries light on dark after dark on light.
    assert_eq!(r.stage, Stage::Fast);
    // rqrr alone needs the inverted image.
    let rqrr_only = Reader { stages: vec![Stage::Direct, Stage::Inverted], ..Reader::default() };
    assert_eq!(rqrr_only.read(&img).stage, Some(Stage::Inverted));
}

#[test]
fn a_foreign_code_is_read_and_reported_as_foreign() {
    let boarding = "M1ERIKSSON/ANNA MARIA  EABC123 LHRHNDNH 0212 327Y012A0001 100";
    let (frame, _) = render_frame(boarding, Condition::Clean, 640, 480, 5).unwrap();
    let scan = Reader::for_declarations().read(&frame);
    assert_eq!(scan.texts, vec![boarding.to_string()]);
    // The declaration reader kept looking for a declaration after it.
    assert_eq!(scan.stages_tried, Reader::default_stages().len());
    let (_, trust) = signed_sample();
    assert_eq!(trust.verify_qr(&scan.texts[0], NOW), Err(PayloadError::Foreign));
}

#[test]
fn every_code_in_view_is_returned() {
    let a = qr_image("C5360:FIRST");
    let b = qr_image("BOARDING PASS 0212");
    let mut frame = RgbImage::from_pixel(
        a.width() + b.width() + 40,
        a.height().max(b.height()) + 20,
        image::Rgb([255; 3]),
    );
    image::imageops::replace(&mut frame, &a, 10, 10);
    image::imageops::replace(&mut frame, &b, i64::from(a.width()) + 30, 10);
    let mut texts = decode_frame(&frame).unwrap().texts;
    texts.sort();
    assert_eq!(texts, vec!["BOARDING PASS 0212".to_string(), "C5360:FIRST".to_string()]);
}

#[test]
fn the_budget_stops_further_stages() {
    let white = RgbImage::from_pixel(200, 200, image::Rgb([255, 255, 255]));
    let reader = Reader { budget: Some(Duration::ZERO), ..Reader::default() };
    assert_eq!(reader.read(&white).stages_tried, 1);
}

#[test]
fn our_finder_detector_reads_clean_and_tilted_phone_frames() {
    let (text, _) = signed_sample();
    let reader = Reader { stages: vec![Stage::FinderFrame], ..Reader::default() };
    let reads = |condition, seeds: std::ops::Range<u64>| {
        seeds
            .filter(|seed| {
                let (frame, _) = render_frame(&text, condition, 640, 480, *seed).unwrap();
                reader.read(&frame).texts == vec![text.clone()]
            })
            .count()
    };
    assert!(reads(Condition::Clean, 0..6) >= 5);
    // Tilted by 20 to 30 degrees: frames 3 to 5 of this text were measured
    // to read (0 to 2 need the alignment pattern searched with the
    // perspective, which this detector does not do yet).
    assert!(reads(Condition::Perspective, 3..6) >= 2);
}

#[test]
fn the_locator_finds_the_code_and_not_a_blank_screen() {
    let (text, _) = signed_sample();
    let (frame, _) = render_frame(&text, Condition::Clean, 640, 480, 4).unwrap();
    let g = prep::luma(&frame);
    let r = prep::locate(&g).unwrap();
    // The code spans at least half the frame height, and the patch is
    // smaller than the frame.
    assert!(r.height() >= 240 && r.width() * r.height() < 640 * 480, "{r:?}");
    let blank = Grey::new(640, 480, vec![200; 640 * 480]).unwrap();
    assert_eq!(prep::locate(&blank), None);
}

#[test]
fn every_stage_survives_odd_frames() {
    for (w, h) in [(0, 0), (1, 1), (21, 21), (2000, 22), (22, 2000)] {
        let frame = RgbImage::from_fn(w, h, |x, y| image::Rgb([((x * 31 + y * 17) % 256) as u8; 3]));
        for stage in Stage::all() {
            let scan = Reader { stages: vec![stage], ..Reader::default() }.read(&frame);
            assert!(scan.texts.is_empty(), "{stage} {w}x{h}");
        }
    }
}

#[test]
fn the_fast_pass_reads_phone_frames_of_both_sizes_and_dark_mode() {
    let (text, _) = signed_sample();
    let fast = Reader { stages: vec![Stage::Fast], ..Reader::default() };
    let mut read = 0;
    let mut tried = 0;
    for (w, h) in [(640, 480), (1280, 720)] {
        for condition in [Condition::Clean, Condition::Glare, Condition::DarkMode] {
            for seed in 0..2 {
                let (frame, _) = render_frame(&text, condition, w, h, seed).unwrap();
                tried += 1;
                let scan = fast.read(&frame);
                if scan.texts == vec![text.clone()] {
                    assert_eq!(scan.stage, Some(Stage::Fast));
                    read += 1;
                }
            }
        }
    }
    assert!(read * 4 >= tried * 3, "{read} of {tried}");
}

#[test]
fn the_fast_pass_reads_a_printed_code_of_every_size() {
    for text in ["C5360:A", &"C5360:".repeat(30), &"0123456789ABCDEF".repeat(40)] {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
        let luma = code.render::<image::Luma<u8>>().module_dimensions(3, 3).build();
        let img = image::DynamicImage::ImageLuma8(luma).to_rgb8();
        let scan = Reader { stages: vec![Stage::Fast], ..Reader::default() }.read(&img);
        assert_eq!(scan.texts, vec![text.to_string()], "version {:?}", code.version());
        // The same code inverted (light modules on dark).
        let mut inv = img.clone();
        for p in inv.pixels_mut() {
            p.0 = p.0.map(|v| 255 - v);
        }
        let scan = Reader { stages: vec![Stage::Fast], ..Reader::default() }.read(&inv);
        assert_eq!(scan.texts, vec![text.to_string()]);
    }
}

#[test]
fn fast_half_reads_a_large_frame_and_falls_back_to_full_size() {
    let (text, _) = signed_sample();
    let (frame, _) = render_frame(&text, Condition::Clean, 1280, 720, 2).unwrap();
    let reader = Reader { stages: vec![Stage::FastHalf, Stage::Fast, Stage::Located], ..Reader::default() };
    let scan = reader.read(&frame);
    assert_eq!(scan.texts, vec![text]);
    assert!(scan.stages_tried >= 1);
    // A blank large frame runs every stage and finds nothing.
    let white = RgbImage::from_pixel(1280, 720, image::Rgb([255; 3]));
    let scan = reader.read(&white);
    assert!(scan.texts.is_empty() && scan.stage.is_none());
    assert_eq!(scan.stages_tried, 3);
}
