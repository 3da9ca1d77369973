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

use super::DetectedFace;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PadError {
    #[error("{0} frames with a face; presentation attack detection needs at least 2")]
    TooFewFrames(usize),
    #[error("the eye and mouth landmarks of frame {0} do not form a usable quadrilateral")]
    DegenerateLandmarks(usize),
}

/// Solve the 8x8 system of the homography taking `src[i]` to `dst[i]`
/// (h33 = 1), by Gaussian elimination with partial pivoting.
fn homography(src: &[(f64, f64); 4], dst: &[(f64, f64); 4]) -> Option<[f64; 9]> {
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
    let p = parallax(burst)?;
    Ok(1.0 / (1.0 + (-(p - midpoint) / width.max(1e-6)).exp()))
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
}
