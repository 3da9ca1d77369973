//! Measuring presentation attack detection (`kiosk face pad-eval`): bursts of
//! every [`BurstKind`] made from real photos ([`super::pad_bursts`]), run
//! through the same detector and [`pad::assess_burst`] as the lane, with
//! APCER per attack kind and BPCER (ISO/IEC 30107-3 terms) at a threshold
//! and over a sweep.
//!
//! A burst the detector finds no single face in (in fewer than two frames)
//! is not assessed: the lane refers that passenger (no usable capture), so it
//! counts as *rejected*: against BPCER for bona fide bursts, never as a
//! successful attack. The counts are printed apart so nothing hides there.

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::Serialize;

use super::opencv_backend::{OpenCvFaceMatcher, dominant_face, load_image_file};
use super::pad::{self, PadAssessment, PadCalibration};
use super::pad_bursts::{BurstKind, make_burst};
use super::{DetectedFace, FaceError, FaceMatcher, quality};

/// One evaluated burst.
#[derive(Debug, Clone, Serialize)]
pub struct BurstScore {
    pub photo: String,
    pub kind: &'static str,
    pub seed: u64,
    /// Frames with a single detected face (of the burst's frames).
    pub frames_with_face: usize,
    pub assessment: Option<PadAssessment>,
    pub error: Option<String>,
}

impl BurstScore {
    /// Accepted as bona fide at `threshold` (never when not assessed).
    pub fn accepted(&self, threshold: f32) -> bool {
        self.assessment.is_some_and(|a| a.score >= threshold)
    }
}

/// Error rates at one threshold.
#[derive(Debug, Clone, Serialize)]
pub struct PadOperatingPoint {
    pub threshold: f32,
    /// Bona fide bursts rejected (including not assessed) / bona fide bursts.
    pub bpcer: f64,
    pub bona_fide_rejected: usize,
    /// Per attack kind: (kind, accepted, bursts, APCER).
    pub apcer: Vec<(&'static str, usize, usize, f64)>,
    /// The worst kind's APCER (ISO/IEC 30107-3 reports the maximum).
    pub max_apcer: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PadEvaluation {
    pub photos: usize,
    pub bursts_per_kind: usize,
    pub frames_per_burst: usize,
    pub bona_fide: usize,
    pub not_assessed: Vec<(&'static str, usize)>,
    pub configured: PadOperatingPoint,
    pub sweep: Vec<PadOperatingPoint>,
    pub scores: Vec<BurstScore>,
}

pub fn operating_point(scores: &[BurstScore], threshold: f32) -> PadOperatingPoint {
    let bona: Vec<&BurstScore> = scores.iter().filter(|s| s.kind == BurstKind::BonaFide.name()).collect();
    let rejected = bona.iter().filter(|s| !s.accepted(threshold)).count();
    let rate = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let apcer: Vec<(&'static str, usize, usize, f64)> = BurstKind::ALL
        .iter()
        .filter(|k| k.is_attack())
        .map(|k| {
            let of_kind: Vec<&BurstScore> = scores.iter().filter(|s| s.kind == k.name()).collect();
            let accepted = of_kind.iter().filter(|s| s.accepted(threshold)).count();
            (k.name(), accepted, of_kind.len(), rate(accepted, of_kind.len()))
        })
        .collect();
    let max_apcer = apcer.iter().map(|a| a.3).fold(0.0, f64::max);
    PadOperatingPoint {
        threshold,
        bpcer: rate(rejected, bona.len()),
        bona_fide_rejected: rejected,
        apcer,
        max_apcer,
    }
}

/// Detect the single face of every frame; frames without one are left out,
/// as the lane leaves them out of its burst.
fn faces_of(
    matcher: &mut OpenCvFaceMatcher,
    frames: &[RgbImage],
) -> Result<Vec<(usize, DetectedFace)>, FaceError> {
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        match matcher.detect(f) {
            Ok(faces) => {
                if let Some(face) = quality::single_face(&faces) {
                    out.push((i, face));
                }
            }
            Err(e @ (FaceError::ModelMissing { .. } | FaceError::Backend(_))) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(out)
}

/// Score one burst the way the lane does.
pub fn score_burst(
    matcher: &mut OpenCvFaceMatcher,
    frames: &[RgbImage],
    calibration: &PadCalibration,
) -> Result<(usize, Result<PadAssessment, pad::PadError>), FaceError> {
    let found = faces_of(matcher, frames)?;
    let used: Vec<&RgbImage> = found.iter().map(|(i, _)| &frames[*i]).collect();
    let faces: Vec<DetectedFace> = found.iter().map(|(_, f)| *f).collect();
    Ok((faces.len(), pad::assess_burst(&used, &faces, calibration)))
}

/// Bursts of every kind from every photo, `bursts_per_kind` seeds each.
pub fn evaluate(
    matcher: &mut OpenCvFaceMatcher,
    photos: &[PathBuf],
    bursts_per_kind: usize,
    frames: usize,
    calibration: &PadCalibration,
    threshold: f32,
    dump: Option<&Path>,
) -> Result<PadEvaluation, FaceError> {
    let mut scores = Vec::new();
    for path in photos {
        let photo = load_image_file(path)?;
        // The generator needs the face of the source photo (for the depth map).
        let faces = matcher.detect(&photo)?;
        let face = dominant_face(&faces)?;
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
        for kind in BurstKind::ALL {
            for b in 0..bursts_per_kind {
                let seed = (b as u64) << 8 | kind as u64;
                let burst = make_burst(kind, &photo, &face, frames, seed);
                if let Some(dir) = dump {
                    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
                    for (i, f) in burst.iter().enumerate() {
                        let out = dir.join(format!("{stem}-{}-{seed}-{i}.png", kind.name()));
                        f.save(&out).map_err(|e| FaceError::BadImage(format!("{}: {e}", out.display())))?;
                    }
                }
                let (with_face, r) = score_burst(matcher, &burst, calibration)?;
                let (assessment, error) = match r {
                    Ok(a) => (Some(a), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                scores.push(BurstScore {
                    photo: name.clone(),
                    kind: kind.name(),
                    seed,
                    frames_with_face: with_face,
                    assessment,
                    error,
                });
            }
        }
    }
    let sweep: Vec<PadOperatingPoint> = (1..20).map(|i| operating_point(&scores, i as f32 * 0.05)).collect();
    let not_assessed = BurstKind::ALL
        .iter()
        .map(|k| (k.name(), scores.iter().filter(|s| s.kind == k.name() && s.assessment.is_none()).count()))
        .collect();
    Ok(PadEvaluation {
        photos: photos.len(),
        bursts_per_kind: bursts_per_kind * photos.len(),
        frames_per_burst: frames,
        bona_fide: scores.iter().filter(|s| s.kind == BurstKind::BonaFide.name()).count(),
        not_assessed,
        configured: operating_point(&scores, threshold),
        sweep,
        scores,
    })
}

/// The photos of `dir` (JPEG and PNG), in name order.
pub fn photos_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
        })
        .collect();
    out.sort();
    Ok(out)
}
