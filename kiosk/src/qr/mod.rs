//! QR code reading from camera frames.
//!
//! [`Reader::read`] is a pipeline over one frame, stages in order of
//! measured yield per millisecond ([`Reader::default_stages`]). First the
//! fast pass ([`Stage::FastHalf`] on a large frame, then [`Stage::Fast`]):
//! block thresholds ([`prep::BlockThreshold`]), our own finder-pattern
//! detector, version information, alignment pattern and homography
//! ([`detect`]), modules sampled at their centres, and our Reed-Solomon and
//! segment decoder over rqrr's format and codeword reading (`fastdecode`):
//! one to three milliseconds, and no rqrr flood fill. When it finds nothing:
//! rqrr on the *located* patch ([`prep::locate`]: the densest patch of
//! edges, turned dark-on-light for a dark-mode screen), our detector on the
//! patch's local-mean threshold, the patch sharpened, resized and
//! thresholded, then the whole frame as it is, inverted, stretched,
//! thresholded, halved and doubled, and with the `vision` feature OpenCV
//! stages (CLAHE, Gaussian adaptive threshold, area/cubic resizing). It
//! stops at the first stage that yields a wanted code and reports every code
//! found, the stage that found it and the time taken.
//!
//! A frame may hold other codes (a boarding pass beside the phone): every
//! grid found is decoded and all texts are returned, so that the caller can
//! pick the declaration among them. [`Votes`] accumulates frames: a text
//! counts once it was seen in N of the last M frames.
//!
//! Invariant: never panics on any frame (0x0, 1x1, any aspect ratio); rqrr
//! runs under `catch_unwind` as a last line of defence.

#[cfg(feature = "vision")]
mod cv;
mod detect;
mod fastdecode;
pub mod prep;
#[cfg(feature = "sim")]
pub mod synth;
mod vote;

use std::time::{Duration, Instant};

use image::RgbImage;

pub use prep::Grey;
pub use vote::Votes;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("no QR code found in the frame; hold the phone flat, screen towards the scanner")]
    NotFound,
    #[error("a QR code was found but could not be decoded ({0}); hold the phone still")]
    Undecodable(String),
}

/// One way of preparing the frame for rqrr. `Located*` stages work on the
/// patch where the code is ([`prep::locate`]: the densest patch of edges),
/// which keeps rqrr's finder-pattern search away from the text and pictures
/// on the phone's screen and is smaller than the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The fast first pass: block thresholds over the whole frame
    /// ([`prep::BlockThreshold`]), our finder-pattern detector and grid
    /// sampling ([`detect`]) handed to rqrr's decoder, dark on light then
    /// light on dark. No flood fill: a few milliseconds a frame.
    Fast,
    /// [`Stage::Fast`] at half size. First for a frame larger than 640x480:
    /// its modules are wide enough at half size, the luma is computed at half
    /// size straight from the RGB frame, and the full-size luma is only made
    /// when this stage finds nothing.
    FastHalf,
    /// The frame's luma as it is (rqrr's own threshold).
    Direct,
    /// Half size (2x2 box mean): large frames, moire and blur.
    Half,
    /// Luma inverted: light modules on a dark screen.
    Inverted,
    /// Contrast stretched between the 1st and 99th percentiles.
    Stretched,
    /// Local-mean adaptive threshold (pure Rust).
    Adaptive,
    /// Adaptive threshold for light modules on dark.
    AdaptiveInverted,
    /// Twice the size (bilinear): very small modules.
    Double,
    /// The located patch, light modules on dark turned dark on light
    /// ([`prep::is_light_on_dark`]).
    Located,
    /// The located patch in the other polarity (in case the guess was wrong).
    LocatedFlipped,
    /// The located patch, contrast stretched.
    LocatedStretched,
    /// The located patch, adaptive threshold.
    LocatedAdaptive,
    /// The located patch at twice the size.
    LocatedDouble,
    /// The located patch at half size.
    LocatedHalf,
    /// The located patch at 0.75 of its size.
    Located75,
    /// The located patch at 1.25 times its size.
    Located125,
    /// The located patch at 1.5 times its size.
    Located150,
    /// The located patch sharpened (blur).
    LocatedSharpened,
    /// The located patch sharpened, at 1.25 times its size.
    LocatedSharpened125,
    /// The located patch sharpened, at 1.5 times its size.
    LocatedSharpened150,
    /// The located patch smoothed 3x3 (noise, moire).
    LocatedSmoothed,
    /// The located patch smoothed, at 1.25 times its size.
    LocatedSmoothed125,
    /// Our finder-pattern detector ([`detect`]) on the adaptive threshold of
    /// the located patch, with rqrr's decoder.
    Finder,
    /// Our detector on the located patch sharpened at 1.25 times its size.
    FinderSharpened,
    /// Our detector on the adaptive threshold of the whole frame.
    FinderFrame,
    /// Our detector on the located patch at 1.5 times its size (small modules).
    FinderLarge,
    /// OpenCV CLAHE (local contrast equalisation) of the located patch.
    #[cfg(feature = "vision")]
    CvClahe,
    /// OpenCV Gaussian-weighted adaptive threshold of the located patch.
    #[cfg(feature = "vision")]
    CvAdaptive,
    /// OpenCV resize of the located patch to 0.75 (area averaging).
    #[cfg(feature = "vision")]
    CvThreeQuarter,
    /// OpenCV resize of the located patch to 1.5 (cubic).
    #[cfg(feature = "vision")]
    CvOneAndHalf,
}

impl Stage {
    /// Every stage this build has.
    pub fn all() -> Vec<Stage> {
        #[allow(unused_mut)]
        let mut v = vec![
            Stage::Fast,
            Stage::FastHalf,
            Stage::Direct,
            Stage::Half,
            Stage::Inverted,
            Stage::Stretched,
            Stage::Adaptive,
            Stage::AdaptiveInverted,
            Stage::Double,
            Stage::Located,
            Stage::LocatedFlipped,
            Stage::LocatedStretched,
            Stage::LocatedAdaptive,
            Stage::LocatedDouble,
            Stage::LocatedHalf,
            Stage::Located75,
            Stage::Located125,
            Stage::Located150,
            Stage::LocatedSharpened,
            Stage::LocatedSharpened125,
            Stage::LocatedSharpened150,
            Stage::LocatedSmoothed,
            Stage::LocatedSmoothed125,
            Stage::Finder,
            Stage::FinderSharpened,
            Stage::FinderFrame,
            Stage::FinderLarge,
        ];
        #[cfg(feature = "vision")]
        v.extend([Stage::CvClahe, Stage::CvAdaptive, Stage::CvThreeQuarter, Stage::CvOneAndHalf]);
        v
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Fast => "fast",
            Stage::FastHalf => "fast_half",
            Stage::Direct => "direct",
            Stage::Half => "half",
            Stage::Inverted => "inverted",
            Stage::Stretched => "stretched",
            Stage::Adaptive => "adaptive",
            Stage::AdaptiveInverted => "adaptive_inverted",
            Stage::Double => "double",
            Stage::Located => "located",
            Stage::LocatedFlipped => "located_flipped",
            Stage::LocatedStretched => "located_stretched",
            Stage::LocatedAdaptive => "located_adaptive",
            Stage::LocatedDouble => "located_double",
            Stage::LocatedHalf => "located_half",
            Stage::Located75 => "located_75",
            Stage::Located125 => "located_125",
            Stage::Located150 => "located_150",
            Stage::LocatedSharpened => "located_sharpened",
            Stage::LocatedSharpened125 => "located_sharpened_125",
            Stage::LocatedSharpened150 => "located_sharpened_150",
            Stage::LocatedSmoothed => "located_smoothed",
            Stage::LocatedSmoothed125 => "located_smoothed_125",
            Stage::Finder => "finder",
            Stage::FinderSharpened => "finder_sharpened",
            Stage::FinderFrame => "finder_frame",
            Stage::FinderLarge => "finder_large",
            #[cfg(feature = "vision")]
            Stage::CvClahe => "cv_clahe",
            #[cfg(feature = "vision")]
            Stage::CvAdaptive => "cv_adaptive",
            #[cfg(feature = "vision")]
            Stage::CvThreeQuarter => "cv_three_quarter",
            #[cfg(feature = "vision")]
            Stage::CvOneAndHalf => "cv_one_and_half",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What one frame gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrScan {
    /// Every distinct text decoded, in the order found.
    pub texts: Vec<String>,
    /// The stage that decoded the first text (`None`: nothing decoded).
    pub stage: Option<Stage>,
    /// Stages run, including the successful one.
    pub stages_tried: usize,
    /// A grid was located but its data did not decode (the last such error).
    pub undecodable: Option<String>,
    pub elapsed: Duration,
}

/// A frame that gave at least one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrRead {
    pub texts: Vec<String>,
    pub stage: Stage,
    pub elapsed: Duration,
}

impl QrScan {
    pub fn into_result(self) -> Result<QrRead, QrError> {
        match self.stage {
            Some(stage) => Ok(QrRead { texts: self.texts, stage, elapsed: self.elapsed }),
            None => Err(match self.undecodable {
                Some(e) => QrError::Undecodable(e),
                None => QrError::NotFound,
            }),
        }
    }
}

/// The QR reader: which stages to run, in order, and when to stop.
#[derive(Debug, Clone)]
pub struct Reader {
    pub stages: Vec<Stage>,
    /// Stop only once a text with this prefix is found (other codes in view
    /// do not end the search); `None`: stop at the first stage with any text.
    pub wanted_prefix: Option<String>,
    /// Start no further stage once this much time has passed (the next
    /// camera frame is a better bet); `None`: run every stage.
    pub budget: Option<Duration>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader { stages: Reader::default_stages(), wanted_prefix: None, budget: None }
    }
}

/// Frames smaller than this in either direction cannot hold a QR code
/// (version 1 is 21 modules) and are not searched.
const MIN_SIDE: usize = 21;
/// Above this many pixels, the frame is searched at half size first.
const LARGE_FRAME: usize = 640 * 480;

impl Reader {
    /// The declaration reader of the lane: stops at a `C5360:` code.
    pub fn for_declarations() -> Reader {
        Reader {
            wanted_prefix: Some(crate::declaration::payload::QR_PREFIX.to_string()),
            ..Reader::default()
        }
    }

    /// The stages in the order measured best on the benchmark frames
    /// (`examples/qr_probe.rs`: greedily, the stage that decodes the most
    /// frames not yet decoded per millisecond). The fast pass first: at
    /// half size on a large frame (54 of the 84 1280x720 frames in under
    /// 2 ms), then at full size (60 more of the 168); the rest of the stages
    /// only see the frames it misses. The located patch comes before the
    /// frame as it is: it decodes more frames in half the time, and when
    /// nothing stands out it costs nothing.
    pub fn default_stages() -> Vec<Stage> {
        #[allow(unused_mut)]
        let mut stages = vec![
            Stage::FastHalf,
            Stage::Fast,
            Stage::Located,
            Stage::Finder,
            Stage::LocatedSharpened125,
            Stage::FinderFrame,
            Stage::LocatedDouble,
            Stage::Located125,
            Stage::LocatedAdaptive,
            Stage::FinderSharpened,
            Stage::FinderLarge,
            Stage::LocatedSharpened,
            Stage::Located150,
            Stage::Stretched,
            Stage::Direct,
            Stage::Inverted,
            Stage::Half,
            Stage::Adaptive,
            Stage::AdaptiveInverted,
            Stage::Double,
            Stage::LocatedFlipped,
            Stage::LocatedStretched,
            Stage::LocatedHalf,
            Stage::Located75,
            Stage::LocatedSharpened150,
            Stage::LocatedSmoothed,
            Stage::LocatedSmoothed125,
        ];
        #[cfg(feature = "vision")]
        stages.extend([Stage::CvAdaptive, Stage::CvClahe, Stage::CvOneAndHalf, Stage::CvThreeQuarter]);
        stages
    }

    /// Decode every QR code in the frame.
    pub fn read(&self, frame: &RgbImage) -> QrScan {
        let start = Instant::now();
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        // A large frame's first pass at half size, from the RGB frame: the
        // full-size luma is made only when it finds nothing wanted.
        if self.stages.first() == Some(&Stage::FastHalf) && w * h > LARGE_FRAME {
            let attempt = fast(&prep::luma_half(frame));
            let mut scan = QrScan {
                texts: attempt.texts,
                stage: None,
                stages_tried: 1,
                undecodable: attempt.undecodable,
                elapsed: Duration::ZERO,
            };
            if !scan.texts.is_empty() {
                scan.stage = Some(Stage::FastHalf);
            }
            if self.is_done(&scan.texts) {
                scan.elapsed = start.elapsed();
                return scan;
            }
            let rest = Reader { stages: self.stages[1..].to_vec(), ..self.clone() };
            let mut more = rest.read_grey_since(&prep::luma(frame), start);
            for t in scan.texts {
                if !more.texts.contains(&t) {
                    more.texts.insert(0, t);
                    more.stage = Some(Stage::FastHalf);
                }
            }
            more.stages_tried += 1;
            if more.undecodable.is_none() {
                more.undecodable = scan.undecodable;
            }
            more.elapsed = start.elapsed();
            return more;
        }
        let grey = prep::luma(frame);
        let mut scan = self.read_grey_since(&grey, start);
        scan.elapsed = start.elapsed();
        scan
    }

    fn is_done(&self, texts: &[String]) -> bool {
        match &self.wanted_prefix {
            Some(p) => texts.iter().any(|t| t.starts_with(p.as_str())),
            None => !texts.is_empty(),
        }
    }

    /// [`read`](Self::read) on a grey image.
    pub fn read_grey(&self, grey: &Grey) -> QrScan {
        self.read_grey_since(grey, Instant::now())
    }

    /// [`read_grey`](Self::read_grey) with the budget counted from `start`.
    fn read_grey_since(&self, grey: &Grey, start: Instant) -> QrScan {
        let mut scan = QrScan {
            texts: Vec::new(),
            stage: None,
            stages_tried: 0,
            undecodable: None,
            elapsed: Duration::ZERO,
        };
        if grey.w < MIN_SIDE || grey.h < MIN_SIDE {
            scan.elapsed = start.elapsed();
            return scan;
        }
        let mut cache = Cache::default();
        for &stage in &self.stages {
            if let Some(budget) = self.budget
                && scan.stages_tried > 0
                && start.elapsed() >= budget
            {
                break;
            }
            scan.stages_tried += 1;
            let attempt = run_stage(stage, grey, &mut cache);
            if let Some(e) = attempt.undecodable {
                scan.undecodable = Some(e);
            }
            for t in attempt.texts {
                if !scan.texts.contains(&t) {
                    scan.texts.push(t);
                    scan.stage.get_or_insert(stage);
                }
            }
            if self.is_done(&scan.texts) {
                break;
            }
        }
        scan.elapsed = start.elapsed();
        scan
    }
}

/// Decode every QR code in the frame with the default [`Reader`].
pub fn decode_frame(frame: &RgbImage) -> Result<QrRead, QrError> {
    Reader::default().read(frame).into_result()
}

/// Intermediate images shared between stages.
#[derive(Default)]
struct Cache {
    half: Option<Grey>,
    inverted: Option<Grey>,
    /// The located patch, dark on light (`Some(None)`: searched, nothing
    /// stands out).
    located: Option<Option<Grey>>,
    flipped: Option<Grey>,
}

impl Cache {
    fn half(&mut self, g: &Grey) -> &Grey {
        self.half.get_or_insert_with(|| prep::downscale2(g))
    }

    fn inverted(&mut self, g: &Grey) -> &Grey {
        self.inverted.get_or_insert_with(|| prep::invert(g))
    }

    fn located(&mut self, g: &Grey) -> Option<&Grey> {
        self.located
            .get_or_insert_with(|| {
                let patch = prep::crop(g, prep::locate(g)?);
                Some(if prep::is_light_on_dark(&patch) { prep::invert(&patch) } else { patch })
            })
            .as_ref()
    }

    fn flipped(&mut self, g: &Grey) -> Option<&Grey> {
        if self.flipped.is_none() {
            let inv = prep::invert(self.located(g)?);
            self.flipped = Some(inv);
        }
        self.flipped.as_ref()
    }
}

fn window_for(g: &Grey) -> usize {
    (g.w.min(g.h) / 14).max(11) | 1
}

fn adaptive(g: &Grey, invert: bool) -> Attempt {
    rqrr_bits(g.w, g.h, &prep::adaptive_bits(g, window_for(g), 4, invert))
}

fn run_stage(stage: Stage, g: &Grey, cache: &mut Cache) -> Attempt {
    match stage {
        Stage::Fast => fast(g),
        Stage::FastHalf => {
            if g.w * g.h <= LARGE_FRAME {
                return Attempt::default();
            }
            fast(cache.half(g))
        }
        Stage::Direct => rqrr_grey(g),
        Stage::Half => rqrr_grey(cache.half(g)),
        Stage::Inverted => rqrr_grey(cache.inverted(g)),
        Stage::Stretched => rqrr_grey(&prep::stretch(g, 0.01, 0.99)),
        Stage::Adaptive => adaptive(g, false),
        Stage::AdaptiveInverted => adaptive(g, true),
        Stage::Double => {
            // Only worth it for small frames (a large one has room for modules).
            if g.w * g.h > LARGE_FRAME {
                return Attempt::default();
            }
            rqrr_grey(&prep::upscale2(g))
        }
        Stage::Located => cache.located(g).map(rqrr_grey).unwrap_or_default(),
        Stage::LocatedFlipped => cache.flipped(g).map(rqrr_grey).unwrap_or_default(),
        Stage::LocatedStretched => {
            cache.located(g).map(|p| rqrr_grey(&prep::stretch(p, 0.01, 0.99))).unwrap_or_default()
        }
        Stage::LocatedAdaptive => cache.located(g).map(|p| adaptive(p, false)).unwrap_or_default(),
        Stage::LocatedDouble => located_scaled(cache.located(g), 2.0),
        Stage::LocatedHalf => cache.located(g).map(|p| rqrr_grey(&prep::downscale2(p))).unwrap_or_default(),
        Stage::Located75 => located_scaled(cache.located(g), 0.75),
        Stage::Located125 => located_scaled(cache.located(g), 1.25),
        Stage::Located150 => located_scaled(cache.located(g), 1.5),
        Stage::LocatedSharpened => {
            cache.located(g).map(|p| rqrr_grey(&prep::sharpen(p, 3))).unwrap_or_default()
        }
        Stage::LocatedSharpened125 => located_transformed(cache.located(g), 1.25, |p| prep::sharpen(p, 3)),
        Stage::LocatedSharpened150 => located_transformed(cache.located(g), 1.5, |p| prep::sharpen(p, 3)),
        Stage::LocatedSmoothed => cache.located(g).map(|p| rqrr_grey(&prep::smooth(p))).unwrap_or_default(),
        Stage::LocatedSmoothed125 => located_transformed(cache.located(g), 1.25, prep::smooth),
        Stage::Finder => cache.located(g).map(finder).unwrap_or_default(),
        Stage::FinderSharpened => cache
            .located(g)
            .filter(|p| p.w * p.h <= LARGE_FRAME)
            .map(|p| finder(&prep::sharpen(&prep::scale(p, 1.25), 3)))
            .unwrap_or_default(),
        Stage::FinderFrame => finder(g),
        Stage::FinderLarge => cache
            .located(g)
            .filter(|p| p.w * p.h <= LARGE_FRAME)
            .map(|p| finder(&prep::scale(p, 1.5)))
            .unwrap_or_default(),
        #[cfg(feature = "vision")]
        Stage::CvClahe => cache.located(g).and_then(cv::clahe).map(|p| rqrr_grey(&p)).unwrap_or_default(),
        #[cfg(feature = "vision")]
        Stage::CvAdaptive => cv_adaptive(cache.located(g), false),
        #[cfg(feature = "vision")]
        Stage::CvThreeQuarter => {
            cache.located(g).and_then(|p| cv::resize(p, 0.75)).map(|p| rqrr_grey(&p)).unwrap_or_default()
        }
        #[cfg(feature = "vision")]
        Stage::CvOneAndHalf => cv_one_and_half(cache.located(g)),
    }
}

/// Our detector over block thresholds of `g`, both polarities.
fn fast(g: &Grey) -> Attempt {
    guarded(|| {
        for invert in [false, true] {
            let thr = prep::BlockThreshold::new(g, invert);
            let texts = detect::decode_blocks(g, &thr);
            if !texts.is_empty() {
                return Attempt { texts, undecodable: None };
            }
        }
        Attempt::default()
    })
}

/// Our detector over the adaptive threshold of `g`.
fn finder(g: &Grey) -> Attempt {
    let mean = prep::local_mean(g, window_for(g));
    let bits: Vec<bool> =
        g.data.iter().zip(&mean.data).map(|(&v, &m)| i32::from(v) < i32::from(m) - 4).collect();
    guarded(|| Attempt { texts: detect::decode(g, &mean, &bits), undecodable: None })
}

/// rqrr on the located patch resized then transformed (same size limit as
/// [`located_scaled`]).
fn located_transformed(p: Option<&Grey>, factor: f64, f: impl Fn(&Grey) -> Grey) -> Attempt {
    match p {
        Some(p) if (p.w * p.h) as f64 * factor * factor <= LARGE_FRAME as f64 * 1.5 => {
            rqrr_grey(&f(&prep::scale(p, factor)))
        }
        _ => Attempt::default(),
    }
}

/// rqrr on the located patch resized; enlarging is skipped above
/// [`LARGE_FRAME`] pixels (such a patch has room for its modules).
fn located_scaled(p: Option<&Grey>, factor: f64) -> Attempt {
    match p {
        Some(p) if factor <= 1.0 || (p.w * p.h) as f64 * factor * factor <= LARGE_FRAME as f64 * 1.5 => {
            rqrr_grey(&prep::scale(p, factor))
        }
        _ => Attempt::default(),
    }
}

#[cfg(feature = "vision")]
fn cv_adaptive(p: Option<&Grey>, invert: bool) -> Attempt {
    let Some(p) = p else { return Attempt::default() };
    cv::adaptive(p, window_for(p), invert).map(|b| rqrr_bits(p.w, p.h, &b)).unwrap_or_default()
}

#[cfg(feature = "vision")]
fn cv_one_and_half(p: Option<&Grey>) -> Attempt {
    match p {
        Some(p) if p.w * p.h <= LARGE_FRAME => cv::resize(p, 1.5).map(|p| rqrr_grey(&p)).unwrap_or_default(),
        _ => Attempt::default(),
    }
}

/// What one rqrr pass gave.
#[derive(Debug, Default)]
struct Attempt {
    texts: Vec<String>,
    undecodable: Option<String>,
}

/// Detect and decode every grid of a prepared rqrr image.
macro_rules! decode_grids {
    ($prepared:expr) => {{
        let mut attempt = Attempt::default();
        for grid in $prepared.detect_grids() {
            match grid.decode() {
                Ok((_, text)) => attempt.texts.push(text),
                Err(e) => attempt.undecodable = Some(e.to_string()),
            }
        }
        attempt
    }};
}

/// rqrr with its own threshold over a grey image.
fn rqrr_grey(g: &Grey) -> Attempt {
    if g.w < MIN_SIDE || g.h < MIN_SIDE {
        return Attempt::default();
    }
    guarded(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(g.w, g.h, |x, y| g.data[y * g.w + x]);
        decode_grids!(prepared)
    })
}

/// rqrr over a bitmap (true = dark).
fn rqrr_bits(w: usize, h: usize, bits: &[bool]) -> Attempt {
    if w < MIN_SIDE || h < MIN_SIDE || bits.len() != w * h {
        return Attempt::default();
    }
    guarded(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| bits[y * w + x]);
        decode_grids!(prepared)
    })
}

/// rqrr is third-party code over untrusted pixels: a panic inside it is a
/// frame without a code, not a kiosk without a scanner.
fn guarded(f: impl FnOnce() -> Attempt) -> Attempt {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| Attempt {
        texts: Vec::new(),
        undecodable: Some("the decoder failed on this frame".into()),
    })
}

#[cfg(test)]
mod tests;
