//! Presentation attack detection (PAD) over a short burst from a plain RGB
//! camera, cue 1 of issue 5: **planarity of the landmark motion**.
//!
//! The four landmarks around the nose (both eyes, both mouth corners) define a
//! quadrilateral; the homography that maps it onto the unit square is exact
//! (four point pairs). For anything flat (a print, a screen) the nose tip,
//! mapped through that homography, stays at the same point of the square in
//! every frame, however the sheet is moved, tilted or scaled: a projective
//! invariant. A real head that turns or nods a little moves its nose tip (3-4
//! cm in front of the eye/mouth plane) against the quadrilateral: parallax.
//!
//! [`parallax`] is the spread of the nose's square coordinates over the burst;
//! [`planarity_score`] maps it to [0, 1] (higher = more likely bona fide).
//! Pure code on detected landmarks: no I/O, no OpenCV, typed errors, no panics.
//!
//! Limits (see docs/face.md): a passenger who holds perfectly still shows no
//! parallax either, and a *video* of a live face replayed on a screen carries
//! the parallax of the recorded face; this cue alone cannot catch that.
//!
//! Cue 2, **periodic texture** ([`texture_peak`]): a print is a halftone dot
//! screen, a display a grid of R, G, B sub-pixels; the camera resamples either
//! into sharp peaks (moire) in the spatial spectrum of the face region, which
//! skin, noise and blur do not make. The cue is the height of the strongest
//! mid/high-frequency peak of the face crop's spectrum against the median
//! there, on the luminance and on the red-minus-green chroma (sub-pixel
//! stripes are coloured). It catches a *video* replay on a screen too.
//!
//! [`assess_burst`] measures both; its score is the texture cue's. The
//! planarity cue does not separate on what we can measure: YuNet's landmark
//! jitter on a tilted print or screen (0.03-0.37 unit-square units over a
//! burst) is as large as the parallax of a slight head turn (0.03-0.11),
//! see docs/face.md. It is reported, not decided on.

use image::RgbImage;

use super::DetectedFace;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PadError {
    #[error("{0} frames with a face; presentation attack detection needs at least 2")]
    TooFewFrames(usize),
    #[error("the eye and mouth landmarks of frame {0} do not form a usable quadrilateral")]
    DegenerateLandmarks(usize),
    #[error("the face of frame {0} is too small or outside the frame for the texture cue")]
    FaceOutsideFrame(usize),
    #[error("{frames} frames but {faces} faces: one face per frame is needed")]
    LengthMismatch { frames: usize, faces: usize },
}

/// Solve the 8x8 system of the homography taking `src[i]` to `dst[i]`
/// (h33 = 1), by Gaussian elimination with partial pivoting.
pub(crate) fn homography(src: &[(f64, f64); 4], dst: &[(f64, f64); 4]) -> Option<[f64; 9]> {
    let mut a = [[0f64; 9]; 8];
    for (i, (&(x, y), &(u, v))) in src.iter().zip(dst).enumerate() {
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut h = [0f64; 9];
    for (i, (hi, row)) in h.iter_mut().zip(&a).enumerate() {
        *hi = row[8] / row[i];
    }
    h[8] = 1.0;
    h.iter().all(|v| v.is_finite()).then_some(h)
}

/// The nose tip in the coordinates of the unit square spanned by the eyes
/// (top) and mouth corners (bottom). `None` for a degenerate quadrilateral.
pub fn nose_in_square(face: &DetectedFace) -> Option<(f64, f64)> {
    let p = |i: usize| (f64::from(face.landmarks[i].0), f64::from(face.landmarks[i].1));
    // YuNet order: right eye, left eye, nose, right mouth, left mouth.
    let src = [p(0), p(1), p(4), p(3)];
    let dst = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let h = homography(&src, &dst)?;
    let (x, y) = p(2);
    let w = h[6] * x + h[7] * y + h[8];
    if w.abs() < 1e-9 {
        return None;
    }
    let (u, v) = ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w);
    (u.is_finite() && v.is_finite() && u.abs() < 10.0 && v.abs() < 10.0).then_some((u, v))
}

/// Largest distance of a frame's nose position (unit-square coordinates) from
/// the burst's mean: about 0 for a flat presentation.
pub fn parallax(burst: &[DetectedFace]) -> Result<f32, PadError> {
    if burst.len() < 2 {
        return Err(PadError::TooFewFrames(burst.len()));
    }
    let mut pts = Vec::with_capacity(burst.len());
    for (i, f) in burst.iter().enumerate() {
        pts.push(nose_in_square(f).ok_or(PadError::DegenerateLandmarks(i))?);
    }
    let n = pts.len() as f64;
    let (mu, mv) = pts.iter().fold((0.0, 0.0), |(a, b), (u, v)| (a + u / n, b + v / n));
    let spread = pts.iter().map(|(u, v)| ((u - mu).powi(2) + (v - mv).powi(2)).sqrt()).fold(0.0, f64::max);
    Ok(spread as f32)
}

/// Parallax mapped to [0, 1] with a logistic around `midpoint` (unit-square
/// units; the calibration is still to be measured, see docs/face.md).
pub fn planarity_score(burst: &[DetectedFace], midpoint: f32, width: f32) -> Result<f32, PadError> {
    Ok(logistic(parallax(burst)?, midpoint, width))
}

/// Default `pad_threshold` of the kiosk configuration (docs/face.md).
pub const DEFAULT_PAD_THRESHOLD: f32 = 0.5;

/// Largest and smallest side of the square face crop the spectrum is taken
/// over (frame pixels, not resized: resampling would blur away the pattern
/// being looked for); half the face width in between.
pub const TEXTURE_CROP_MAX: usize = 64;
pub const TEXTURE_CROP_MIN: usize = 24;

/// The crop side and the two signals of the texture cue for one frame.
fn crop_signals(frame: &RgbImage, face: &DetectedFace) -> Option<(usize, [Vec<f32>; 2])> {
    let (w, h) = frame.dimensions();
    if !(face.x.is_finite() && face.y.is_finite() && face.width.is_finite() && face.height.is_finite()) {
        return None;
    }
    let n = ((face.width * 0.5) as usize).min(TEXTURE_CROP_MAX);
    if n < TEXTURE_CROP_MIN {
        return None;
    }
    // Centre of the face box, a little below the middle (cheeks and nose:
    // the largest patch of skin without hair or eye contours).
    let cx = (face.x + face.width / 2.0).round() as i64;
    let cy = (face.y + face.height * 0.55).round() as i64;
    let (x0, y0) = (cx - n as i64 / 2, cy - n as i64 / 2);
    if x0 < 0 || y0 < 0 || x0 + n as i64 > w as i64 || y0 + n as i64 > h as i64 {
        return None;
    }
    let mut luma = Vec::with_capacity(n * n);
    let mut chroma = Vec::with_capacity(n * n);
    for y in 0..n {
        for x in 0..n {
            let p = frame.get_pixel((x0 as usize + x) as u32, (y0 as usize + y) as u32).0;
            let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
            luma.push(0.299 * r + 0.587 * g + 0.114 * b);
            chroma.push(r - g);
        }
    }
    Some((n, [luma, chroma]))
}

/// Magnitude spectrum of an n x n signal (mean removed, Hann-windowed):
/// separable DFT, rows then columns.
fn spectrum(signal: &[f32], n: usize) -> Vec<f32> {
    let mean = signal.iter().sum::<f32>() / signal.len() as f32;
    let hann: Vec<f32> =
        (0..n).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / (n as f32 - 1.0)).cos()).collect();
    let (cos, sin): (Vec<f32>, Vec<f32>) =
        (0..n).map(|k| (std::f32::consts::TAU * k as f32 / n as f32).sin_cos()).map(|(s, c)| (c, s)).unzip();
    // Rows: re/im of each row's DFT.
    let mut re = vec![0f32; n * n];
    let mut im = vec![0f32; n * n];
    for y in 0..n {
        for u in 0..n {
            let (mut a, mut b) = (0f32, 0f32);
            for x in 0..n {
                let v = (signal[y * n + x] - mean) * hann[x] * hann[y];
                let k = (u * x) % n;
                a += v * cos[k];
                b -= v * sin[k];
            }
            re[y * n + u] = a;
            im[y * n + u] = b;
        }
    }
    let mut mag = vec![0f32; n * n];
    for u in 0..n {
        for v in 0..n {
            let (mut a, mut b) = (0f32, 0f32);
            for y in 0..n {
                let k = (v * y) % n;
                let (c, s) = (cos[k], sin[k]);
                let (r, i) = (re[y * n + u], im[y * n + u]);
                a += r * c + i * s;
                b += i * c - r * s;
            }
            mag[v * n + u] = (a * a + b * b).sqrt();
        }
    }
    mag
}

/// Strongest spectral peak of the band from 0.2 cycles/px up to Nyquist,
/// divided by the band's median magnitude.
fn peak_ratio(signal: &[f32], n: usize) -> f32 {
    let mag = spectrum(signal, n);
    let mut band = Vec::new();
    let mut peak = 0f32;
    for v in 0..n {
        for u in 0..n {
            let fu = u.min(n - u) as f32 / n as f32;
            let fv = v.min(n - v) as f32 / n as f32;
            let r = (fu * fu + fv * fv).sqrt();
            if r >= 0.2 {
                let m = mag[v * n + u];
                band.push(m);
                peak = peak.max(m);
            }
        }
    }
    if band.is_empty() {
        return 0.0;
    }
    let mid = band.len() / 2;
    let median = *band.select_nth_unstable_by(mid, f32::total_cmp).1;
    if median <= 1e-6 { 0.0 } else { peak / median }
}

/// Texture cue of one frame: the larger peak ratio of luminance and chroma
/// (about 5-10 for skin and sensor noise; a halftone or sub-pixel grid gives
/// far more).
pub fn texture_peak(frame: &RgbImage, face: &DetectedFace) -> Option<f32> {
    let (n, [luma, chroma]) = crop_signals(frame, face)?;
    Some(peak_ratio(&luma, n).max(peak_ratio(&chroma, n)))
}

/// Calibration of [`assess_burst`]'s logistic maps (docs/face.md, measured
/// with `kiosk face pad-eval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PadCalibration {
    /// Parallax (unit-square units) at which the planarity score is 0.5.
    pub parallax_midpoint: f32,
    pub parallax_width: f32,
    /// Texture peak ratio at which the texture score is 0.5 (higher ratios
    /// score lower: more pattern, less live).
    pub texture_midpoint: f32,
    pub texture_width: f32,
}

impl Default for PadCalibration {
    fn default() -> Self {
        PadCalibration {
            parallax_midpoint: 0.012,
            parallax_width: 0.003,
            texture_midpoint: 20.0,
            texture_width: 3.0,
        }
    }
}

/// What [`assess_burst`] measured.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PadAssessment {
    pub parallax: f32,
    /// Median texture peak ratio over the frames.
    pub texture_peak: f32,
    /// Reported only (see the module documentation).
    pub planarity_score: f32,
    pub texture_score: f32,
    /// The presentation score the threshold applies to: the texture score.
    pub score: f32,
}

/// Both cues over a burst: `frames[i]` with its single detected face
/// `faces[i]`.
pub fn assess_burst(
    frames: &[&RgbImage],
    faces: &[DetectedFace],
    calibration: &PadCalibration,
) -> Result<PadAssessment, PadError> {
    if frames.len() != faces.len() {
        return Err(PadError::LengthMismatch { frames: frames.len(), faces: faces.len() });
    }
    let parallax = parallax(faces)?;
    let mut peaks = Vec::with_capacity(frames.len());
    for (i, (frame, face)) in frames.iter().zip(faces).enumerate() {
        peaks.push(texture_peak(frame, face).ok_or(PadError::FaceOutsideFrame(i))?);
    }
    let mid = peaks.len() / 2;
    let texture_peak = *peaks.select_nth_unstable_by(mid, f32::total_cmp).1;
    let c = calibration;
    let planarity_score = logistic(parallax, c.parallax_midpoint, c.parallax_width);
    let texture_score = logistic(-texture_peak, -c.texture_midpoint, c.texture_width);
    Ok(PadAssessment { parallax, texture_peak, planarity_score, texture_score, score: texture_score })
}

fn logistic(x: f32, midpoint: f32, width: f32) -> f32 {
    let s = 1.0 / (1.0 + (-(x - midpoint) / width.max(1e-6)).exp());
    if s.is_finite() { s } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRONTAL: [(f32, f32); 5] =
        [(160.0, 180.0), (240.0, 180.0), (200.0, 230.0), (170.0, 280.0), (230.0, 280.0)];

    fn face(landmarks: [(f32, f32); 5]) -> DetectedFace {
        DetectedFace { x: 100.0, y: 100.0, width: 200.0, height: 240.0, landmarks, score: 0.9 }
    }

    /// Apply a homography to every landmark (a flat sheet moved in view).
    fn warp(h: [f32; 9]) -> DetectedFace {
        face(FRONTAL.map(|(x, y)| {
            let w = h[6] * x + h[7] * y + h[8];
            ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
        }))
    }

    #[test]
    fn a_flat_sheet_shows_no_parallax() {
        let burst = [
            face(FRONTAL),
            warp([1.1, 0.05, -20.0, -0.04, 0.95, 12.0, 0.0004, -0.0002, 1.0]),
            warp([0.8, -0.2, 90.0, 0.2, 0.8, -30.0, -0.0006, 0.0003, 1.0]),
        ];
        assert!(parallax(&burst).unwrap() < 1e-4, "{:?}", parallax(&burst));
    }

    #[test]
    fn a_turning_head_shows_parallax() {
        // Yaw: the nose tip moves sideways against the eyes and mouth.
        let mut turned = FRONTAL;
        turned[2].0 += 8.0;
        let p = parallax(&[face(FRONTAL), face(turned)]).unwrap();
        assert!(p > 0.04, "{p}");
        assert!(planarity_score(&[face(FRONTAL), face(turned)], 0.02, 0.005).unwrap() > 0.9);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        assert_eq!(parallax(&[face(FRONTAL)]), Err(PadError::TooFewFrames(1)));
        let flat = face([(0.0, 0.0); 5]);
        assert_eq!(parallax(&[flat, flat]), Err(PadError::DegenerateLandmarks(0)));
        let nan = face([(f32::NAN, 0.0); 5]);
        assert!(parallax(&[nan, nan]).is_err());
    }

    fn textured(mut f: impl FnMut(u32, u32) -> [u8; 3]) -> RgbImage {
        RgbImage::from_fn(320, 320, |x, y| image::Rgb(f(x, y)))
    }

    #[test]
    fn a_pixel_grid_shows_a_texture_peak_and_noise_does_not() {
        let f = face(FRONTAL);
        let mut seed = 12345u32;
        let mut noise = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as f32 / 65536.0
        };
        let skin = textured(|x, y| {
            let v = 150.0 + 20.0 * ((x as f32 / 40.0).sin() + (y as f32 / 55.0).cos()) + 6.0 * noise();
            [v as u8, (v * 0.8) as u8, (v * 0.7) as u8]
        });
        // Sub-pixel stripes at 2.1 frame pixels per screen pixel.
        let screen = textured(|x, y| {
            let phase = (x as f32 / 2.1).fract();
            let base = 150.0 + 20.0 * (y as f32 / 55.0).cos();
            let c = (phase * 3.0) as usize;
            let mut p = [30u8; 3];
            p[c.min(2)] = base as u8;
            p
        });
        let live = texture_peak(&skin, &f).unwrap();
        let attack = texture_peak(&screen, &f).unwrap();
        assert!(live < 20.0, "{live}");
        assert!(attack > 60.0, "{attack}");
        let cal = PadCalibration::default();
        let mut turned = FRONTAL;
        turned[2].0 += 8.0;
        let faces = [f, face(turned)];
        let ok = assess_burst(&[&skin, &skin], &faces, &cal).unwrap();
        assert!(ok.score > 0.9, "{ok:?}");
        let bad = assess_burst(&[&screen, &screen], &faces, &cal).unwrap();
        assert!(bad.score < 0.1 && bad.planarity_score > 0.9, "{bad:?}");
        // A still photo (no parallax) with a skin-like texture: planarity is
        // reported low, the score is the texture cue's.
        let still = assess_burst(&[&skin, &skin], &[f, f], &cal).unwrap();
        assert!(still.planarity_score < 0.1 && still.score > 0.9, "{still:?}");
        assert_eq!(
            assess_burst(&[&skin], &faces, &cal),
            Err(PadError::LengthMismatch { frames: 1, faces: 2 })
        );
        let tiny = RgbImage::new(40, 40);
        assert_eq!(assess_burst(&[&tiny, &tiny], &faces, &cal), Err(PadError::FaceOutsideFrame(0)));
    }
}
