//! OpenCV backend of [`FaceMatcher`]: YuNet 2023mar for detection, SFace 2021dec
//! for the embedding.
//!
//! OpenCV 4.6 (Debian 12) ships a `FaceDetectorYN` that cannot load YuNet
//! 2023mar ("Layer with requested id=-1 not found"), so the detector runs the
//! ONNX graph through `cv::dnn::readNet` and decodes its twelve outputs here, the
//! way OpenCV 4.10's `FaceDetectorYN::postProcess` does:
//!
//! 1. the frame is downscaled so that its longer side is at most
//!    [`DETECTION_MAX_SIDE`] px (full-size photos take 130-800 ms otherwise) and
//!    padded right/bottom with black to a multiple of 32;
//! 2. `blobFromImage` with scale 1, no mean, no channel swap: the network wants
//!    BGR as OpenCV loads it, so RGB frames are converted first;
//! 3. for each stride s in 8/16/32 and each cell (row, col):
//!    score = sqrt(clamp01(cls) * clamp01(obj)); box centre =
//!    ((col + bx) * s, (row + by) * s), size = (exp(bw) * s, exp(bh) * s);
//!    landmarks = ((kx + col) * s, (ky + row) * s);
//! 4. `dnn::NMSBoxes`, then coordinates are mapped back to the original image.
//!
//! The template is computed on the full-resolution BGR image: `alignCrop` gets
//! the detector's 15-value row (box, 5 landmarks, score) in original
//! coordinates, then `feature` gives 128 floats, L2-normalised here.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::RgbImage;
use opencv::core::{self, Mat, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{dnn, imgcodecs, imgproc, objdetect};

use super::eval::Pair;
use super::quality::{self, FrameQuality, Guidance, QualityThresholds};
use super::{DetectedFace, FaceError, FaceMatcher, FaceTemplate};

/// File name of the YuNet detector inside the models directory.
pub const DETECTOR_MODEL: &str = "face_detection_yunet_2023mar.onnx";
/// File name of the SFace recogniser inside the models directory.
pub const RECOGNIZER_MODEL: &str = "face_recognition_sface_2021dec.onnx";

/// OpenCV's published SFace cosine threshold (LFW). Measured with these models
/// on the test photos: same person 0.6-0.8, different people below 0.3.
pub const DEFAULT_THRESHOLD: f32 = super::DEFAULT_FACE_THRESHOLD;
/// Detections scoring below this are dropped (FaceDetectorYN's default is 0.9;
/// 0.6 keeps slightly turned or badly lit faces, which the template step then
/// judges by size).
pub const SCORE_THRESHOLD: f32 = 0.6;
/// IoU above which overlapping detections are merged.
pub const NMS_THRESHOLD: f32 = 0.3;
/// Longer side of the image the detector sees.
pub const DETECTION_MAX_SIDE: u32 = 640;
/// Faces narrower than this (original pixels) give [`FaceError::FaceTooSmall`]
/// in [`FaceMatcher::template`]: SFace works on a 112x112 crop, and below about
/// 40 px the landmarks get too coarse to align.
pub const MIN_FACE_WIDTH: f32 = 40.0;
/// A second face whose area is at least this fraction of the largest face's
/// counts as another person standing at the camera ([`FaceError::SeveralFaces`]);
/// smaller faces are people further back and are ignored.
pub const SECOND_FACE_AREA_RATIO: f32 = 0.5;
/// Largest encoded image accepted by [`OpenCvFaceMatcher::template_from_encoded`].
const MAX_DECODED_SIDE: u32 = 8192;

const STRIDES: [i32; 3] = [8, 16, 32];
const OUTPUT_NAMES: [&str; 12] = [
    "cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32", "bbox_8", "bbox_16", "bbox_32", "kps_8",
    "kps_16", "kps_32",
];

fn backend(e: opencv::Error) -> FaceError {
    FaceError::Backend(e.to_string())
}

/// YuNet + SFace through OpenCV's dnn module.
pub struct OpenCvFaceMatcher {
    detector: dnn::Net,
    recognizer: core::Ptr<objdetect::FaceRecognizerSF>,
    threshold: f32,
    output_names: Vector<String>,
}

// `dnn::Net` and `Ptr<FaceRecognizerSF>` are plain owned C++ objects with no
// thread affinity (no thread-local state, no GUI handles); the opencv crate
// generates `Send` for them. The assertion below fails to compile if that ever
// changes, rather than us papering over it with an `unsafe impl`.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<OpenCvFaceMatcher>();
};

impl std::fmt::Debug for OpenCvFaceMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenCvFaceMatcher").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

impl OpenCvFaceMatcher {
    /// Load both models from `models_dir` (see `scripts/setup.sh`).
    pub fn load(models_dir: &Path, threshold: f32) -> Result<Self, FaceError> {
        let det_path = model_path(models_dir, DETECTOR_MODEL)?;
        let rec_path = model_path(models_dir, RECOGNIZER_MODEL)?;
        let det_str = det_path.to_string_lossy();
        let rec_str = rec_path.to_string_lossy();

        let mut detector = dnn::read_net(&det_str, "", "").map_err(|e| FaceError::ModelMissing {
            path: det_path.display().to_string(),
            reason: format!("OpenCV could not load it: {e}"),
        })?;
        if detector.empty().unwrap_or(true) {
            return Err(FaceError::ModelMissing {
                path: det_path.display().to_string(),
                reason: "OpenCV loaded an empty network".into(),
            });
        }
        let recognizer =
            objdetect::FaceRecognizerSF::create(&rec_str, "", 0, 0).map_err(|e| FaceError::ModelMissing {
                path: rec_path.display().to_string(),
                reason: format!("OpenCV could not load it: {e}"),
            })?;
        // Plain CPU inference through OpenCV's own layers (the default, made
        // explicit: no OpenVINO/CUDA backend exists in Debian's 4.6 build).
        detector.set_preferable_backend(dnn::DNN_BACKEND_OPENCV).map_err(backend)?;
        detector.set_preferable_target(dnn::DNN_TARGET_CPU).map_err(backend)?;
        let output_names = OUTPUT_NAMES.iter().copied().collect();
        Ok(Self { detector, recognizer, threshold, output_names })
    }

    /// Alignment (`alignCrop` on the detector's landmarks) and embedding of a
    /// face already found in `image` by [`FaceMatcher::detect`].
    pub fn embed_face(&mut self, image: &RgbImage, face: &DetectedFace) -> Result<FaceTemplate, FaceError> {
        let bgr = rgb_to_bgr_mat(image)?;
        self.embed(&bgr, face)
    }

    /// Detection and, when exactly one usable face is present, its template,
    /// from one colour conversion (the quality checks need the faces even when
    /// no template can be made).
    pub fn detect_and_embed(
        &mut self,
        image: &RgbImage,
    ) -> Result<(Vec<DetectedFace>, Result<FaceTemplate, FaceError>), FaceError> {
        let bgr = rgb_to_bgr_mat(image)?;
        let faces = self.detect_bgr(&bgr)?;
        let template = match dominant_face(&faces) {
            Ok(face) => self.embed(&bgr, &face),
            Err(e) => Err(e),
        };
        Ok((faces, template))
    }

    /// Load with [`DEFAULT_THRESHOLD`].
    pub fn load_default(models_dir: &Path) -> Result<Self, FaceError> {
        Self::load(models_dir, DEFAULT_THRESHOLD)
    }

    /// Template of the single dominant face in an encoded image (the chip
    /// portrait: JPEG or PNG; JPEG 2000 through OpenCV's decoder).
    pub fn template_from_encoded(&mut self, bytes: &[u8]) -> Result<FaceTemplate, FaceError> {
        let image = decode_image(bytes)?;
        self.template(&image)
    }

    /// Detection, frame quality and (when a single usable face is present)
    /// the template of one live-capture frame. A frame with no face whose mean
    /// brightness is below half of `limits.min_face_luma` gives
    /// [`FaceError::TooDark`] rather than [`FaceError::NoFace`] (a covered
    /// lens or a dead camera, not a passenger looking away).
    pub fn analyse(
        &mut self,
        image: &RgbImage,
        limits: &QualityThresholds,
    ) -> Result<FrameAnalysis, FaceError> {
        let (faces, template) = self.detect_and_embed(image)?;
        let quality = quality::assess(image, &faces, limits);
        let template = match template {
            Err(FaceError::NoFace) if quality.frame_luma < limits.min_face_luma / 2.0 => {
                Err(FaceError::TooDark(quality.frame_luma))
            }
            other => other,
        };
        Ok(FrameAnalysis { faces, quality, template })
    }

    /// Best frame of a short burst: every frame is analysed, the best
    /// acceptable one (by [`quality::best_of_burst`]) gives the template.
    /// When no frame is acceptable the error carries the guidance to show.
    pub fn best_of_burst(
        &mut self,
        frames: &[RgbImage],
        limits: &QualityThresholds,
    ) -> Result<BurstResult, BurstError> {
        let mut analyses = Vec::with_capacity(frames.len());
        for (index, f) in frames.iter().enumerate() {
            match self.analyse(f, limits) {
                Ok(a) => analyses.push((index, a)),
                Err(e @ (FaceError::ModelMissing { .. } | FaceError::Backend(_))) => {
                    return Err(BurstError::Face(e));
                }
                Err(_) => {} // an unusable frame (empty image) is simply skipped
            }
        }
        let qualities: Vec<FrameQuality> = analyses.iter().map(|(_, a)| a.quality.clone()).collect();
        match quality::best_of_burst(&qualities) {
            Ok(i) => {
                let (index, a) = analyses.swap_remove(i);
                match a.template {
                    Ok(template) => Ok(BurstResult { index, quality: a.quality, template }),
                    Err(e) => Err(BurstError::Face(e)),
                }
            }
            Err(g) => Err(BurstError::Guidance(g)),
        }
    }

    /// Detect on an already converted BGR Mat of the original image.
    fn detect_bgr(&mut self, bgr: &Mat) -> Result<Vec<DetectedFace>, FaceError> {
        let (w, h) = (bgr.cols(), bgr.rows());
        let longer = w.max(h) as f32;
        let scale = (DETECTION_MAX_SIDE as f32 / longer).min(1.0);
        let sw = ((w as f32 * scale).round() as i32).max(1);
        let sh = ((h as f32 * scale).round() as i32).max(1);
        let resized;
        let small: &Mat = if (sw, sh) == (w, h) {
            bgr
        } else {
            let mut dst = Mat::default();
            imgproc::resize(bgr, &mut dst, Size::new(sw, sh), 0.0, 0.0, imgproc::INTER_AREA)
                .map_err(backend)?;
            resized = dst;
            &resized
        };
        let pad_w = (sw - 1) / 32 * 32 + 32;
        let pad_h = (sh - 1) / 32 * 32 + 32;
        let mut padded = Mat::default();
        core::copy_make_border(
            small,
            &mut padded,
            0,
            pad_h - sh,
            0,
            pad_w - sw,
            core::BORDER_CONSTANT,
            Scalar::all(0.0),
        )
        .map_err(backend)?;
        let blob = dnn::blob_from_image(
            &padded,
            1.0,
            Size::new(pad_w, pad_h),
            Scalar::all(0.0),
            false,
            false,
            core::CV_32F,
        )
        .map_err(backend)?;
        self.detector.set_input(&blob, "", 1.0, Scalar::all(0.0)).map_err(backend)?;
        let mut outs = Vector::<Mat>::new();
        self.detector.forward(&mut outs, &self.output_names).map_err(backend)?;
        if outs.len() != OUTPUT_NAMES.len() {
            return Err(FaceError::Backend(format!(
                "YuNet gave {} outputs, expected {}",
                outs.len(),
                OUTPUT_NAMES.len()
            )));
        }

        let mut candidates: Vec<[f32; 15]> = Vec::new();
        for (i, &stride) in STRIDES.iter().enumerate() {
            let cols = (pad_w / stride) as usize;
            let rows = (pad_h / stride) as usize;
            let n = rows * cols;
            let cls = outs.get(i).map_err(backend)?;
            let obj = outs.get(i + 3).map_err(backend)?;
            let bbox = outs.get(i + 6).map_err(backend)?;
            let kps = outs.get(i + 9).map_err(backend)?;
            let cls = output_f32(&cls, n, 1, OUTPUT_NAMES[i])?;
            let obj = output_f32(&obj, n, 1, OUTPUT_NAMES[i + 3])?;
            let bbox = output_f32(&bbox, n, 4, OUTPUT_NAMES[i + 6])?;
            let kps = output_f32(&kps, n, 10, OUTPUT_NAMES[i + 9])?;
            let s = stride as f32;
            for r in 0..rows {
                for c in 0..cols {
                    let idx = r * cols + c;
                    let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
                    if score.is_nan() || score < SCORE_THRESHOLD {
                        continue;
                    }
                    let b = &bbox[idx * 4..idx * 4 + 4];
                    let cx = (c as f32 + b[0]) * s;
                    let cy = (r as f32 + b[1]) * s;
                    let bw = b[2].exp() * s;
                    let bh = b[3].exp() * s;
                    // Degenerate boxes (seen on extreme aspect ratios) and boxes
                    // centred in the black padding are not faces.
                    if !(bw >= 1.0 && bh >= 1.0) || cx >= sw as f32 || cy >= sh as f32 || cx < 0.0 || cy < 0.0
                    {
                        continue;
                    }
                    let mut row = [0f32; 15];
                    row[0] = cx - bw / 2.0;
                    row[1] = cy - bh / 2.0;
                    row[2] = bw;
                    row[3] = bh;
                    let k = &kps[idx * 10..idx * 10 + 10];
                    for p in 0..5 {
                        row[4 + 2 * p] = (k[2 * p] + c as f32) * s;
                        row[5 + 2 * p] = (k[2 * p + 1] + r as f32) * s;
                    }
                    row[14] = score;
                    if row.iter().all(|v| v.is_finite()) {
                        candidates.push(row);
                    }
                }
            }
        }
        if candidates.is_empty() {
            return Ok(Vec::new());
        }

        let boxes: Vector<Rect> = candidates
            .iter()
            .map(|f| Rect::new(f[0] as i32, f[1] as i32, f[2] as i32, f[3] as i32))
            .collect();
        let scores: Vector<f32> = candidates.iter().map(|f| f[14]).collect();
        let mut keep = Vector::<i32>::new();
        dnn::nms_boxes(&boxes, &scores, SCORE_THRESHOLD, NMS_THRESHOLD, &mut keep, 1.0, 5000)
            .map_err(backend)?;

        // Back to original coordinates (x and y scales differ by rounding).
        let fx = w as f32 / sw as f32;
        let fy = h as f32 / sh as f32;
        let mut faces: Vec<DetectedFace> = keep
            .iter()
            .filter_map(|i| candidates.get(i as usize))
            .map(|f| {
                let mut landmarks = [(0.0, 0.0); 5];
                for (p, lm) in landmarks.iter_mut().enumerate() {
                    *lm = (f[4 + 2 * p] * fx, f[5 + 2 * p] * fy);
                }
                DetectedFace {
                    x: f[0] * fx,
                    y: f[1] * fy,
                    width: f[2] * fx,
                    height: f[3] * fy,
                    landmarks,
                    score: f[14],
                }
            })
            .collect();
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }

    fn embed(&mut self, bgr: &Mat, face: &DetectedFace) -> Result<FaceTemplate, FaceError> {
        let mut row = [0f32; 15];
        row[0] = face.x;
        row[1] = face.y;
        row[2] = face.width;
        row[3] = face.height;
        for (p, (x, y)) in face.landmarks.iter().enumerate() {
            row[4 + 2 * p] = *x;
            row[5 + 2 * p] = *y;
        }
        row[14] = face.score;
        let row = Mat::from_slice_2d(&[row]).map_err(backend)?;
        let mut aligned = Mat::default();
        self.recognizer.align_crop(bgr, &row, &mut aligned).map_err(backend)?;
        let mut feature = Mat::default();
        self.recognizer.feature(&aligned, &mut feature).map_err(backend)?;
        // `feature` may alias the network's output buffer: copy it out now.
        let mut v: Vec<f32> = if feature.is_continuous() {
            feature.data_typed::<f32>().map_err(backend)?.to_vec()
        } else {
            feature.try_clone().map_err(backend)?.data_typed::<f32>().map_err(backend)?.to_vec()
        };
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if v.is_empty() || !norm.is_finite() || norm == 0.0 {
            return Err(FaceError::Backend("SFace returned an empty feature".into()));
        }
        v.iter_mut().for_each(|x| *x /= norm);
        Ok(FaceTemplate(v))
    }
}

impl FaceMatcher for OpenCvFaceMatcher {
    fn detect(&mut self, image: &RgbImage) -> Result<Vec<DetectedFace>, FaceError> {
        let bgr = rgb_to_bgr_mat(image)?;
        self.detect_bgr(&bgr)
    }

    fn template(&mut self, image: &RgbImage) -> Result<FaceTemplate, FaceError> {
        let bgr = rgb_to_bgr_mat(image)?;
        let faces = self.detect_bgr(&bgr)?;
        let face = dominant_face(&faces)?;
        self.embed(&bgr, &face)
    }

    fn template_of(&mut self, image: &RgbImage, face: &DetectedFace) -> Result<FaceTemplate, FaceError> {
        self.embed_face(image, face)
    }

    fn threshold(&self) -> f32 {
        self.threshold
    }
}

impl OpenCvFaceMatcher {
    /// Score every pair (each image's template is computed once). A pair
    /// whose images give no template is a failure to acquire: `score` is
    /// `None` and `error` says why.
    pub fn score_pairs(&mut self, pairs: &[Pair]) -> Vec<PairScore> {
        let mut cache: HashMap<PathBuf, Result<FaceTemplate, String>> = HashMap::new();
        let mut template = |m: &mut Self, p: &Path| -> Result<FaceTemplate, String> {
            cache
                .entry(p.to_path_buf())
                .or_insert_with(|| {
                    load_image_file(p)
                        .and_then(|img| m.template(&img))
                        .map_err(|e| format!("{}: {e}", p.display()))
                })
                .clone()
        };
        pairs
            .iter()
            .map(|pair| {
                let (a, b) = (template(self, &pair.a), template(self, &pair.b));
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        PairScore { pair: pair.clone(), score: Some(a.cosine_similarity(&b)), error: None }
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        PairScore { pair: pair.clone(), score: None, error: Some(e) }
                    }
                }
            })
            .collect()
    }
}

/// One scored pair of [`OpenCvFaceMatcher::score_pairs`].
#[derive(Debug, Clone)]
pub struct PairScore {
    pub pair: Pair,
    pub score: Option<f32>,
    pub error: Option<String>,
}

/// What [`OpenCvFaceMatcher::analyse`] found in one frame.
#[derive(Debug)]
pub struct FrameAnalysis {
    pub faces: Vec<DetectedFace>,
    pub quality: FrameQuality,
    pub template: Result<FaceTemplate, FaceError>,
}

/// The frame of a burst that was matched.
#[derive(Debug)]
pub struct BurstResult {
    pub index: usize,
    pub quality: FrameQuality,
    pub template: FaceTemplate,
}

#[derive(Debug, thiserror::Error)]
pub enum BurstError {
    #[error("no usable frame: {}", .0.message())]
    Guidance(Guidance),
    #[error(transparent)]
    Face(FaceError),
}

/// Pick the face to enrol: the largest one, unless another face is comparably
/// large (two people at the camera).
pub fn dominant_face(faces: &[DetectedFace]) -> Result<DetectedFace, FaceError> {
    let area = |f: &DetectedFace| f.width.max(0.0) * f.height.max(0.0);
    let best = faces.iter().max_by(|a, b| area(a).total_cmp(&area(b))).ok_or(FaceError::NoFace)?;
    let big = faces.iter().filter(|f| area(f) >= SECOND_FACE_AREA_RATIO * area(best)).count();
    if big > 1 {
        return Err(FaceError::SeveralFaces(big));
    }
    if best.width < MIN_FACE_WIDTH {
        return Err(FaceError::FaceTooSmall(best.width));
    }
    Ok(*best)
}

fn model_path(dir: &Path, file: &str) -> Result<PathBuf, FaceError> {
    let path = dir.join(file);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() > 0 => Ok(path),
        Ok(_) => Err(FaceError::ModelMissing {
            path: path.display().to_string(),
            reason: "not a regular, non-empty file".into(),
        }),
        Err(e) => Err(FaceError::ModelMissing { path: path.display().to_string(), reason: e.to_string() }),
    }
}

/// One YuNet output as `n * width` floats (shape [1, n, width]).
fn output_f32<'a>(m: &'a Mat, n: usize, width: usize, name: &str) -> Result<&'a [f32], FaceError> {
    let data = m.data_typed::<f32>().map_err(backend)?;
    if data.len() != n * width {
        return Err(FaceError::Backend(format!(
            "YuNet output {name} has {} values, expected {}",
            data.len(),
            n * width
        )));
    }
    Ok(data)
}

/// RGB image -> 8-bit 3-channel BGR Mat (OpenCV's channel order), with one
/// `cvtColor` over a borrowed view of the pixels (vectorised; a per-pixel loop
/// in our crate costs milliseconds per frame in the dev profile).
pub fn rgb_to_bgr_mat(image: &RgbImage) -> Result<Mat, FaceError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Err(FaceError::BadImage(format!("{w}x{h} image")));
    }
    let (wi, hi) = (
        i32::try_from(w).map_err(|_| FaceError::BadImage(format!("{w} px wide")))?,
        i32::try_from(h).map_err(|_| FaceError::BadImage(format!("{h} px high")))?,
    );
    let raw = image.as_raw();
    if raw.len() != w as usize * h as usize * 3 {
        return Err(FaceError::BadImage("pixel buffer does not match the image size".into()));
    }
    let flat = Mat::from_slice(raw).map_err(backend)?;
    let view = flat.reshape(3, hi).map_err(backend)?;
    debug_assert_eq!(view.cols(), wi);
    let mut bgr = Mat::default();
    imgproc::cvt_color_def(&view, &mut bgr, imgproc::COLOR_RGB2BGR).map_err(backend)?;
    Ok(bgr)
}

/// `cv::setNumThreads`: threads OpenCV's parallel loops (and the dnn layers)
/// use; 0 or a negative value restores OpenCV's default (one per core).
pub fn set_opencv_threads(n: i32) -> Result<(), FaceError> {
    core::set_num_threads(if n <= 0 { -1 } else { n }).map_err(backend)
}

/// Threads OpenCV currently uses.
pub fn opencv_threads() -> i32 {
    core::get_num_threads().unwrap_or(0)
}

/// Read and decode an image file (JPEG, PNG, JPEG 2000) with the same checks
/// as [`decode_image`]; a missing file, a text file or a cut-off JPEG is a
/// [`FaceError::BadImage`] naming the file, never a panic.
pub fn load_image_file(path: &Path) -> Result<RgbImage, FaceError> {
    const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
    let meta = std::fs::metadata(path)
        .map_err(|e| FaceError::BadImage(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(FaceError::BadImage(format!("{} is not a file", path.display())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(FaceError::BadImage(format!("{} is larger than 64 MiB", path.display())));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| FaceError::BadImage(format!("cannot read {}: {e}", path.display())))?;
    decode_image(&bytes).map_err(|e| match e {
        FaceError::BadImage(m) => FaceError::BadImage(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Decode JPEG/PNG with the `image` crate (strict, size-limited); JPEG 2000
/// (common in passport chips) through OpenCV's imdecode (OpenJPEG).
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::BadImage("no image data".into()));
    }
    if is_jpeg2000(bytes) {
        return decode_with_opencv(bytes);
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // The JPEG decoder fills a cut-off scan with grey instead of failing;
        // a truncated portrait is a read error, not a photo to match against.
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if !bytes[..end].ends_with(&[0xFF, 0xD9]) {
            return Err(FaceError::BadImage("truncated JPEG (no end-of-image marker)".into()));
        }
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::BadImage(e.to_string()))?;
    if reader.format().is_none() {
        return Err(FaceError::BadImage("unknown image format (expected JPEG, PNG or JPEG 2000)".into()));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| FaceError::BadImage(e.to_string()))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(FaceError::BadImage("empty image".into()));
    }
    Ok(img.to_rgb8())
}

fn is_jpeg2000(bytes: &[u8]) -> bool {
    const JP2: [u8; 12] = [0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A];
    bytes.starts_with(&JP2) || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

fn decode_with_opencv(bytes: &[u8]) -> Result<RgbImage, FaceError> {
    let buf = Mat::from_slice(bytes).map_err(backend)?;
    let bgr = imgcodecs::imdecode(&buf, imgcodecs::IMREAD_COLOR).map_err(backend)?;
    if bgr.empty() || bgr.typ() != core::CV_8UC3 {
        return Err(FaceError::BadImage("JPEG 2000 data could not be decoded".into()));
    }
    let (w, h) = (bgr.cols() as u32, bgr.rows() as u32);
    if w > MAX_DECODED_SIDE || h > MAX_DECODED_SIDE {
        return Err(FaceError::BadImage(format!("{w}x{h} image is too large")));
    }
    let bgr = if bgr.is_continuous() { bgr } else { bgr.try_clone().map_err(backend)? };
    let data = bgr.data_bytes().map_err(backend)?;
    let mut rgb = Vec::with_capacity(data.len());
    for px in data.chunks_exact(3) {
        rgb.extend_from_slice(&[px[2], px[1], px[0]]);
    }
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| FaceError::BadImage("decoded size mismatch".into()))
}
