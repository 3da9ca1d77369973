//! Frame quality for live capture, after the ideas of ISO/IEC 29794-5 (face
//! image quality; reference implementation OFIQ), reduced to measures that
//! come from the detector's box and five landmarks plus the pixels:
//!
//! - exactly one face (others much smaller, further back, are ignored);
//! - face size (box width) and inter-eye distance, in pixels;
//! - roll from the eye line; yaw from where the nose tip sits between the eyes
//!   (an estimate: the nose tip stands about 0.6 inter-eye distances in front
//!   of the eye plane, so its sideways offset is about 0.6 * IED * tan(yaw));
//! - sharpness: variance of the 4-neighbour Laplacian of the face region
//!   scaled to 128 px wide (so that it does not depend on the face size);
//! - exposure: mean luminance of the face region and the share of clipped
//!   pixels (under 10 or over 245);
//! - eyes visible: the two eye patches must not be much darker than the nose
//!   and cheeks (dark sunglasses), and the landmarks must be plausible.
//!
//! Each failed check gives a [`Guidance`] the UI can show. Everything here is
//! pure (no OpenCV): it runs on any detector's output.

use image::{GenericImageView, GrayImage, RgbImage, imageops};
use serde::{Deserialize, Serialize};

use super::DetectedFace;

/// Acceptance limits of a live-capture frame (configuration key
/// `face_quality`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityThresholds {
    /// Smallest face box width, in frame pixels.
    pub min_face_width_px: f32,
    /// Smallest distance between the eye centres, in frame pixels.
    pub min_inter_eye_px: f32,
    /// Largest head turn left/right (estimated), in degrees.
    pub max_yaw_deg: f32,
    /// Largest head tilt (eye line against the horizontal), in degrees.
    pub max_roll_deg: f32,
    /// Smallest Laplacian variance of the face scaled to 128 px wide.
    pub min_sharpness: f32,
    /// Accepted mean luminance (0-255) of the face region.
    pub min_face_luma: f32,
    pub max_face_luma: f32,
    /// Largest share of clipped (under 10 or over 245) face pixels.
    pub max_clipped_fraction: f32,
    /// Eye patches darker than this fraction of the nose/cheek patch mean the
    /// eyes are covered (sunglasses).
    pub min_eye_to_face_luma: f32,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        QualityThresholds {
            min_face_width_px: 80.0,
            min_inter_eye_px: 30.0,
            max_yaw_deg: 25.0,
            max_roll_deg: 15.0,
            min_sharpness: 20.0,
            min_face_luma: 50.0,
            max_face_luma: 210.0,
            max_clipped_fraction: 0.25,
            min_eye_to_face_luma: 0.35,
        }
    }
}

/// What the passenger should do; [`Guidance::message`] is the UI's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guidance {
    /// No face in the frame.
    LookAtCamera,
    /// Several people in front of the camera.
    OnePersonOnly,
    /// Face too small or eyes too close together.
    ComeCloser,
    /// Head turned to the side.
    FaceTheCamera,
    /// Head tilted.
    HoldHeadStraight,
    /// Motion or focus blur.
    HoldStill,
    /// Face too dark.
    TooDark,
    /// Face too bright or washed out.
    TooBright,
    /// Eyes not found (dark sunglasses, hand, hair).
    RemoveSunglasses,
}

impl Guidance {
    pub fn message(self) -> &'static str {
        match self {
            Guidance::LookAtCamera => "look at the camera",
            Guidance::OnePersonOnly => "one person at a time, please",
            Guidance::ComeCloser => "come closer",
            Guidance::FaceTheCamera => "turn your face towards the camera",
            Guidance::HoldHeadStraight => "hold your head straight",
            Guidance::HoldStill => "hold still",
            Guidance::TooDark => "the picture is too dark; step into the light",
            Guidance::TooBright => "the picture is too bright",
            Guidance::RemoveSunglasses => "remove sunglasses",
        }
    }
}

/// Measures of one frame; `issues` is empty when the frame is usable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameQuality {
    /// Faces the detector reported (including small background ones).
    pub faces: usize,
    /// The measures below are of the dominant face; `None` without a face.
    pub detector_score: Option<f32>,
    pub face_width_px: Option<f32>,
    pub inter_eye_px: Option<f32>,
    pub yaw_deg: Option<f32>,
    pub roll_deg: Option<f32>,
    pub sharpness: Option<f32>,
    pub face_luma: Option<f32>,
    pub clipped_fraction: Option<f32>,
    pub eye_to_face_luma: Option<f32>,
    /// Mean luminance of the whole frame.
    pub frame_luma: f32,
    /// Failed checks, most important first.
    pub issues: Vec<Guidance>,
    /// Ranking score for best-of-burst selection (higher is better; only
    /// compared between frames of one burst).
    pub rank: f32,
}

impl FrameQuality {
    pub fn is_acceptable(&self) -> bool {
        self.issues.is_empty()
    }
    /// The one thing to tell the passenger, if any.
    pub fn guidance(&self) -> Option<Guidance> {
        self.issues.first().copied()
    }
}

/// Luminance (ITU-R BT.601) of an RGB frame.
pub fn luma(image: &RgbImage) -> GrayImage {
    imageops::grayscale(image)
}

/// Variance of the 4-neighbour Laplacian over the interior of `gray`.
pub fn laplacian_variance(gray: &GrayImage) -> f32 {
    let (w, h) = gray.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let px = |x: u32, y: u32| f64::from(gray.get_pixel(x, y)[0]);
    let (mut sum, mut sum2, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let l = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y);
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum2 / n - mean * mean).max(0.0) as f32
}

/// Integer crop rectangle clamped to the image; `None` if empty.
fn clamp_rect(gray: &GrayImage, x: f32, y: f32, w: f32, h: f32) -> Option<(u32, u32, u32, u32)> {
    let (iw, ih) = (gray.width() as f32, gray.height() as f32);
    if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite()) {
        return None;
    }
    let x0 = x.max(0.0).min(iw);
    let y0 = y.max(0.0).min(ih);
    let x1 = (x + w).max(0.0).min(iw);
    let y1 = (y + h).max(0.0).min(ih);
    let (cw, ch) = ((x1 - x0) as u32, (y1 - y0) as u32);
    (cw >= 2 && ch >= 2).then_some((x0 as u32, y0 as u32, cw, ch))
}

fn patch_mean(gray: &GrayImage, cx: f32, cy: f32, half: f32) -> Option<f32> {
    let (x, y, w, h) = clamp_rect(gray, cx - half, cy - half, 2.0 * half, 2.0 * half)?;
    let view = imageops::crop_imm(gray, x, y, w, h);
    let (mut s, mut n) = (0u64, 0u64);
    for (_, _, p) in view.pixels() {
        s += u64::from(p[0]);
        n += 1;
    }
    Some(s as f32 / n.max(1) as f32)
}

/// Geometry of the dominant face: inter-eye distance, yaw and roll (degrees).
/// Landmarks in YuNet order: subject's right eye (image left), left eye, nose,
/// right and left mouth corners.
pub fn pose(face: &DetectedFace) -> (f32, f32, f32) {
    let [re, le, nose, _, _] = face.landmarks;
    let (dx, dy) = (le.0 - re.0, le.1 - re.1);
    let ied = (dx * dx + dy * dy).sqrt();
    let roll = dy.atan2(dx).to_degrees();
    if ied <= f32::EPSILON {
        return (0.0, 90.0, roll);
    }
    // Nose offset from the eye midpoint along the eye line, in IEDs.
    let mid = ((re.0 + le.0) / 2.0, (re.1 + le.1) / 2.0);
    let along = ((nose.0 - mid.0) * dx + (nose.1 - mid.1) * dy) / (ied * ied);
    let yaw = (along / 0.6).atan().to_degrees();
    (ied, yaw, roll)
}

/// Assess one frame given the detector's faces (best first or in any order).
pub fn assess(image: &RgbImage, faces: &[DetectedFace], limits: &QualityThresholds) -> FrameQuality {
    let gray = luma(image);
    let frame_luma = {
        let n = gray.as_raw().len().max(1);
        gray.as_raw().iter().map(|&p| u64::from(p)).sum::<u64>() as f32 / n as f32
    };
    let mut q = FrameQuality {
        faces: faces.len(),
        detector_score: None,
        face_width_px: None,
        inter_eye_px: None,
        yaw_deg: None,
        roll_deg: None,
        sharpness: None,
        face_luma: None,
        clipped_fraction: None,
        eye_to_face_luma: None,
        frame_luma,
        issues: Vec::new(),
        rank: f32::NEG_INFINITY,
    };
    let face = match dominant(faces) {
        Dominant::None => {
            q.issues.push(if frame_luma < limits.min_face_luma / 2.0 {
                Guidance::TooDark
            } else {
                Guidance::LookAtCamera
            });
            return q;
        }
        Dominant::Several => {
            q.issues.push(Guidance::OnePersonOnly);
            return q;
        }
        Dominant::One(f) => f,
    };
    let (ied, yaw, roll) = pose(&face);
    q.detector_score = Some(face.score);
    q.face_width_px = Some(face.width);
    q.inter_eye_px = Some(ied);
    q.yaw_deg = Some(yaw);
    q.roll_deg = Some(roll);

    // Face region statistics.
    if let Some((x, y, w, h)) = clamp_rect(&gray, face.x, face.y, face.width, face.height) {
        let crop = imageops::crop_imm(&gray, x, y, w, h).to_image();
        let (mut s, mut clipped) = (0u64, 0u64);
        for p in crop.as_raw() {
            s += u64::from(*p);
            if *p < 10 || *p > 245 {
                clipped += 1;
            }
        }
        let n = crop.as_raw().len().max(1) as f32;
        q.face_luma = Some(s as f32 / n);
        q.clipped_fraction = Some(clipped as f32 / n);
        let th = ((128.0 * h as f32 / w as f32).round() as u32).clamp(16, 512);
        let scaled = imageops::resize(&crop, 128, th, imageops::FilterType::Triangle);
        q.sharpness = Some(laplacian_variance(&scaled));
    }
    // Eye patches against the nose/cheek patch (between the nose tip and the
    // eye line, where sunglasses do not reach).
    let [re, le, nose, _, _] = face.landmarks;
    let half = (ied * 0.18).max(2.0);
    let cheek = (nose.0, nose.1 - 0.15 * ied);
    if let (Some(a), Some(b), Some(c)) = (
        patch_mean(&gray, re.0, re.1, half),
        patch_mean(&gray, le.0, le.1, half),
        patch_mean(&gray, cheek.0, cheek.1, half),
    ) {
        q.eye_to_face_luma = Some((a + b) / 2.0 / c.max(1.0));
    }

    // Landmarks that make no sense for a face seen from the front (eyes below
    // the nose, eyes swapped or outside the box) mean the eyes were not found.
    let eyes_plausible = le.0 > re.0
        && re.1 < nose.1
        && le.1 < nose.1
        && ied > 0.2 * face.width
        && [re, le].iter().all(|e| e.0 >= face.x && e.0 <= face.x + face.width);

    let l = limits;
    if face.width < l.min_face_width_px || ied < l.min_inter_eye_px {
        q.issues.push(Guidance::ComeCloser);
    }
    if !eyes_plausible || q.eye_to_face_luma.is_some_and(|r| r < l.min_eye_to_face_luma) {
        q.issues.push(Guidance::RemoveSunglasses);
    }
    if yaw.abs() > l.max_yaw_deg {
        q.issues.push(Guidance::FaceTheCamera);
    }
    if roll.abs() > l.max_roll_deg {
        q.issues.push(Guidance::HoldHeadStraight);
    }
    if let Some(fl) = q.face_luma {
        if fl < l.min_face_luma {
            q.issues.push(Guidance::TooDark);
        } else if fl > l.max_face_luma {
            q.issues.push(Guidance::TooBright);
        } else if q.clipped_fraction.is_some_and(|c| c > l.max_clipped_fraction) {
            q.issues.push(if fl < 128.0 { Guidance::TooDark } else { Guidance::TooBright });
        }
    }
    if q.sharpness.is_some_and(|s| s < l.min_sharpness) {
        q.issues.push(Guidance::HoldStill);
    }

    // Rank: bigger, sharper, more frontal, better exposed faces first.
    let sharp = q.sharpness.unwrap_or(0.0).min(400.0) / 400.0;
    let size = (ied / 100.0).min(1.0);
    let frontal = 1.0 - (yaw.abs() / 45.0).min(1.0) * 0.5 - (roll.abs() / 45.0).min(1.0) * 0.5;
    let exposure = 1.0 - ((q.face_luma.unwrap_or(0.0) - 128.0).abs() / 128.0).min(1.0);
    q.rank = sharp + size + frontal + 0.5 * exposure + face.score - 10.0 * q.issues.len() as f32;
    q
}

/// The one face a frame is about: the largest, unless another face is at
/// least half its area (two people at the camera) or there is none.
pub fn single_face(faces: &[DetectedFace]) -> Option<DetectedFace> {
    match dominant(faces) {
        Dominant::One(f) => Some(f),
        Dominant::None | Dominant::Several => None,
    }
}

enum Dominant {
    None,
    Several,
    One(DetectedFace),
}

/// Same rule as the matcher's: the largest face, unless another one is at
/// least half its area (a second person at the camera).
fn dominant(faces: &[DetectedFace]) -> Dominant {
    let area = |f: &DetectedFace| f.width.max(0.0) * f.height.max(0.0);
    let Some(best) = faces.iter().max_by(|a, b| area(a).total_cmp(&area(b))) else {
        return Dominant::None;
    };
    if faces.iter().filter(|f| area(f) >= 0.5 * area(best)).count() > 1 {
        return Dominant::Several;
    }
    Dominant::One(*best)
}

/// Best frame of a burst: the index of the best acceptable frame, or `Err`
/// with the guidance of the most promising frame (the one with fewest
/// issues) when none is acceptable. An empty burst asks the passenger to look
/// at the camera.
pub fn best_of_burst(qualities: &[FrameQuality]) -> Result<usize, Guidance> {
    let best = qualities.iter().enumerate().max_by(|(_, a), (_, b)| a.rank.total_cmp(&b.rank));
    match best {
        Some((i, q)) if q.is_acceptable() => Ok(i),
        Some((_, q)) => Err(q.guidance().unwrap_or(Guidance::LookAtCamera)),
        None => Err(Guidance::LookAtCamera),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    fn face(landmarks: [(f32, f32); 5]) -> DetectedFace {
        DetectedFace { x: 100.0, y: 100.0, width: 200.0, height: 240.0, landmarks, score: 0.9 }
    }

    const FRONTAL: [(f32, f32); 5] =
        [(160.0, 180.0), (240.0, 180.0), (200.0, 230.0), (170.0, 280.0), (230.0, 280.0)];

    #[test]
    fn face_pose_from_landmarks() {
        let (ied, yaw, roll) = pose(&face(FRONTAL));
        assert!((ied - 80.0).abs() < 1e-3 && yaw.abs() < 1e-3 && roll.abs() < 1e-3);
        // Nose 0.3 IED to the side: atan(0.5) = 26.6 degrees.
        let mut lm = FRONTAL;
        lm[2].0 += 24.0;
        let (_, yaw, _) = pose(&face(lm));
        assert!((yaw - 26.57).abs() < 0.1, "{yaw}");
        // Left eye 20 px lower over 80 px: 14 degrees of roll.
        let mut lm = FRONTAL;
        lm[1].1 += 20.0;
        let (_, _, roll) = pose(&face(lm));
        assert!((roll - 14.04).abs() < 0.1, "{roll}");
    }

    #[test]
    fn laplacian_variance_falls_with_blur() {
        let mut img = GrayImage::new(128, 128);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = Luma([if (x / 4 + y / 4) % 2 == 0 { 30 } else { 220 }]);
        }
        let sharp = laplacian_variance(&img);
        let blurred = laplacian_variance(&imageops::blur(&img, 2.0));
        assert!(sharp > 10.0 * blurred, "{sharp} vs {blurred}");
        assert_eq!(laplacian_variance(&GrayImage::from_pixel(64, 64, Luma([77]))), 0.0);
        assert_eq!(laplacian_variance(&GrayImage::new(2, 2)), 0.0);
    }

    #[test]
    fn frames_without_a_usable_face_get_guidance() {
        let limits = QualityThresholds::default();
        let black = RgbImage::new(640, 480);
        assert_eq!(assess(&black, &[], &limits).guidance(), Some(Guidance::TooDark));
        let grey = RgbImage::from_pixel(640, 480, Rgb([120, 120, 120]));
        assert_eq!(assess(&grey, &[], &limits).guidance(), Some(Guidance::LookAtCamera));
        let two = [face(FRONTAL), DetectedFace { x: 350.0, ..face(FRONTAL) }];
        assert_eq!(assess(&grey, &two, &limits).guidance(), Some(Guidance::OnePersonOnly));
        let tiny = DetectedFace {
            x: 10.0,
            y: 10.0,
            width: 30.0,
            height: 36.0,
            landmarks: [(19.0, 22.0), (31.0, 22.0), (25.0, 29.0), (20.0, 36.0), (30.0, 36.0)],
            score: 0.8,
        };
        assert!(assess(&grey, &[tiny], &limits).issues.contains(&Guidance::ComeCloser));
        let mut turned = FRONTAL;
        turned[2].0 += 40.0;
        assert!(assess(&grey, &[face(turned)], &limits).issues.contains(&Guidance::FaceTheCamera));
        let mut tilted = FRONTAL;
        tilted[1].1 += 40.0;
        assert!(assess(&grey, &[face(tilted)], &limits).issues.contains(&Guidance::HoldHeadStraight));
        // A flat grey "face" has no detail at all.
        assert!(assess(&grey, &[face(FRONTAL)], &limits).issues.contains(&Guidance::HoldStill));
    }

    #[test]
    fn burst_selection_prefers_acceptable_frames() {
        let q = |rank: f32, issues: Vec<Guidance>| FrameQuality {
            faces: 1,
            detector_score: None,
            face_width_px: None,
            inter_eye_px: None,
            yaw_deg: None,
            roll_deg: None,
            sharpness: None,
            face_luma: None,
            clipped_fraction: None,
            eye_to_face_luma: None,
            frame_luma: 100.0,
            issues,
            rank,
        };
        assert_eq!(best_of_burst(&[]), Err(Guidance::LookAtCamera));
        let burst = [q(-7.0, vec![Guidance::HoldStill]), q(2.5, vec![]), q(3.0, vec![])];
        assert_eq!(best_of_burst(&burst), Ok(2));
        let bad =
            [q(-17.0, vec![Guidance::ComeCloser, Guidance::HoldStill]), q(-8.0, vec![Guidance::HoldStill])];
        assert_eq!(best_of_burst(&bad), Err(Guidance::HoldStill));
    }
}
