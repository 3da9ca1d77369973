//! Face verification: the chip portrait against the live capture at the kiosk,
//! and the walking passenger against the active clearances at the gate.
//!
//! [`FaceMatcher`] is the boundary; the OpenCV backend (`vision` feature,
//! [`opencv_backend`]) runs YuNet 2023mar through `cv::dnn` with our own output
//! decoding (OpenCV 4.6's FaceDetectorYN cannot load that model) and SFace 2021dec
//! through `FaceRecognizerSF`.
//!
//! Privacy invariant: a [`FaceTemplate`] zeroes its memory when dropped.

pub mod eval;
#[cfg(feature = "vision")]
pub mod opencv_backend;
pub mod pad;
pub mod pad_bursts;
#[cfg(feature = "vision")]
pub mod pad_eval;
pub mod quality;
pub mod variants;

use image::RgbImage;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Default decision threshold on SFace cosine similarity (configuration key
/// `face_threshold`); how it was chosen is in docs/face.md.
pub const DEFAULT_FACE_THRESHOLD: f32 = 0.363;

/// Embedding of one face (SFace: 128 floats, L2-normalised).
///
/// `Zeroize`/`ZeroizeOnDrop` are implemented by hand rather than derived so
/// that this does not depend on zeroize's optional `derive` feature (which a
/// `--no-default-features` build does not get through feature unification).
#[derive(Clone)]
pub struct FaceTemplate(pub Vec<f32>);

impl Zeroize for FaceTemplate {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for FaceTemplate {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for FaceTemplate {}

impl std::fmt::Debug for FaceTemplate {
    // Never print biometric data, not even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceTemplate({} dims)", self.0.len())
    }
}

impl FaceTemplate {
    /// Cosine similarity in [-1, 1]; higher is more alike.
    pub fn cosine_similarity(&self, other: &FaceTemplate) -> f32 {
        let dot: f32 = self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum();
        let na: f32 = self.0.iter().map(|a| a * a).sum::<f32>().sqrt();
        let nb: f32 = other.0.iter().map(|b| b * b).sum::<f32>().sqrt();
        if na == 0.0 || nb == 0.0 {
            return 0.0;
        }
        dot / (na * nb)
    }
}

/// A face found in a frame: box, five landmarks (right eye, left eye, nose tip,
/// right mouth corner, left mouth corner, as YuNet orders them) and score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectedFace {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub landmarks: [(f32, f32); 5],
    pub score: f32,
}

/// Result of comparing a probe with a reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchOutcome {
    pub score: f32,
    pub threshold: f32,
}

impl MatchOutcome {
    pub fn is_match(&self) -> bool {
        self.score >= self.threshold
    }
}

pub trait FaceMatcher: Send {
    /// Detect faces in a frame, best first.
    fn detect(&mut self, image: &RgbImage) -> Result<Vec<DetectedFace>, FaceError>;
    /// Template of the single dominant face in the image.
    fn template(&mut self, image: &RgbImage) -> Result<FaceTemplate, FaceError>;
    /// Template of `face`, already found in `image` by [`FaceMatcher::detect`]
    /// (a burst detects every frame once; this saves a second detection). The
    /// default detects again.
    fn template_of(&mut self, image: &RgbImage, face: &DetectedFace) -> Result<FaceTemplate, FaceError> {
        let _ = face;
        self.template(image)
    }
    /// Decision threshold on cosine similarity.
    fn threshold(&self) -> f32;
    fn compare(&self, reference: &FaceTemplate, probe: &FaceTemplate) -> MatchOutcome {
        MatchOutcome { score: reference.cosine_similarity(probe), threshold: self.threshold() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("no face found in the image")]
    NoFace,
    #[error("{0} faces in the image; exactly one person must stand in front of the camera")]
    SeveralFaces(usize),
    #[error("the face is too small ({0:.0} px wide); come closer to the camera")]
    FaceTooSmall(f32),
    #[error("the image is empty or unreadable: {0}")]
    BadImage(String),
    #[error(
        "the frame is too dark to find a face (mean brightness {0:.0} of 255); check the camera and the lighting"
    )]
    TooDark(f32),
    #[error("face model not loaded from {path}: {reason}. Run scripts/setup.sh to fetch the models")]
    ModelMissing { path: String, reason: String },
    #[error("OpenCV error: {0}")]
    Backend(String),
}
