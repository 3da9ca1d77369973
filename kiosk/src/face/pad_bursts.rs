//! Synthetic camera bursts for presentation attack detection (issue 5): from
//! one real photo and its face box and landmarks (measured by the caller),
//! N-frame bursts of 640x480 camera frames of four kinds.
//!
//! - [`BurstKind::BonaFide`]: a depth-aware warp of the photo. An approximate
//!   face depth map (an ellipsoid over the face box plus a bump at the nose
//!   tip) is rotated by a few degrees of yaw and pitch per frame, rendered by
//!   backward mapping (displacement proportional to depth), with jitter, a
//!   slight lighting change and sensor noise. **These bursts are synthetic**:
//!   a 2.5-D approximation of a live head, not recordings of live people.
//! - [`BurstKind::Print`]: the whole photo printed on a sheet (white margin,
//!   halftone dots, paper grain) moved in front of the camera: a different
//!   homography per frame (in-plane rotation, tilt up to 20 degrees, scale,
//!   translation) over a background, slight blur.
//! - [`BurstKind::Screen`]: the photo shown on a screen (pixel grid with RGB
//!   subpixel stripes, gamma and colour shift, bezel) moved like the print;
//!   the camera resamples the grid (moire).
//! - [`BurstKind::VideoReplay`]: a bona fide burst replayed frame by frame
//!   through the screen model (it carries the recorded parallax).
//!
//! Pure image code (`image` crate, a seeded SplitMix64), deterministic for a
//! seed, no OpenCV, no panics on any photo size.

use image::{Rgb, RgbImage, imageops};

use super::DetectedFace;
use super::pad::homography;

pub const FRAME_W: u32 = 640;
pub const FRAME_H: u32 = 480;

/// The four kinds of burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstKind {
    BonaFide,
    Print,
    Screen,
    VideoReplay,
}

impl BurstKind {
    pub const ALL: [BurstKind; 4] =
        [BurstKind::BonaFide, BurstKind::Print, BurstKind::Screen, BurstKind::VideoReplay];

    pub fn name(self) -> &'static str {
        match self {
            BurstKind::BonaFide => "bona-fide",
            BurstKind::Print => "print",
            BurstKind::Screen => "screen",
            BurstKind::VideoReplay => "video-replay",
        }
    }

    pub fn is_attack(self) -> bool {
        self != BurstKind::BonaFide
    }
}

/// Seeded SplitMix64 (deterministic, no dependency).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [a, b).
    pub fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.unit()
    }

    /// Approximately standard normal (sum of four uniforms).
    pub fn normal(&mut self) -> f32 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
}

/// Any burst kind; `face` is the face in `photo`'s coordinates. The photo
/// is first cropped to a portrait around the face (as on a passport page:
/// the face about half the width), which is what a live passenger shows the
/// camera and what an attacker prints or puts on a screen.
pub fn make_burst(
    kind: BurstKind,
    photo: &RgbImage,
    face: &DetectedFace,
    frames: usize,
    seed: u64,
) -> Vec<RgbImage> {
    let grey;
    let photo = if photo.width() == 0 || photo.height() == 0 {
        grey = RgbImage::from_pixel(1, 1, Rgb([128, 128, 128]));
        &grey
    } else {
        photo
    };
    let (portrait, face) = portrait_crop(photo, face);
    let photo = &portrait;
    let face = &face;
    match kind {
        BurstKind::BonaFide => bona_fide_burst(photo, face, frames, seed),
        BurstKind::Print => print_burst(photo, frames, seed),
        BurstKind::Screen => screen_burst(photo, frames, seed),
        BurstKind::VideoReplay => video_replay_burst(photo, face, frames, seed),
    }
}

/// The face with margins (2 face widths wide, 2.4 face heights tall, the
/// face a little above the middle), clipped to the photo; the face moved
/// into the crop's coordinates. A degenerate face box leaves the photo as is.
fn portrait_crop(photo: &RgbImage, face: &DetectedFace) -> (RgbImage, DetectedFace) {
    let (w, h) = (photo.width() as f32, photo.height() as f32);
    let ok = [face.x, face.y, face.width, face.height].iter().all(|v| v.is_finite())
        && face.width >= 8.0
        && face.height >= 8.0;
    if !ok {
        return (photo.clone(), *face);
    }
    let (cx, cy) = (face.x + face.width / 2.0, face.y + face.height / 2.0);
    let x0 = (cx - face.width).clamp(0.0, w - 1.0);
    let y0 = (cy - 1.1 * face.height).clamp(0.0, h - 1.0);
    let x1 = (cx + face.width).clamp(x0 + 1.0, w);
    let y1 = (cy + 1.3 * face.height).clamp(y0 + 1.0, h);
    let (x0, y0) = (x0.floor() as u32, y0.floor() as u32);
    let (cw, ch) = ((x1.ceil() as u32 - x0).max(1), (y1.ceil() as u32 - y0).max(1));
    let crop = imageops::crop_imm(photo, x0, y0, cw, ch).to_image();
    let (dx, dy) = (x0 as f32, y0 as f32);
    let moved = DetectedFace {
        x: face.x - dx,
        y: face.y - dy,
        landmarks: face.landmarks.map(|(x, y)| (x - dx, y - dy)),
        ..*face
    };
    (crop, moved)
}

fn to_px(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Bilinear sample; `None` outside the image.
fn sample(img: &RgbImage, x: f32, y: f32) -> Option<[f32; 3]> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 || !x.is_finite() || !y.is_finite() {
        return None;
    }
    let (x, y) = (x - 0.5, y - 0.5);
    if x < -0.5 || y < -0.5 || x > w as f32 - 0.5 || y > h as f32 - 0.5 {
        return None;
    }
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| img.get_pixel(xx, yy).0;
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0f32; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let top = f32::from(a[i]) * (1.0 - fx) + f32::from(b[i]) * fx;
        let bot = f32::from(c[i]) * (1.0 - fx) + f32::from(d[i]) * fx;
        *o = top * (1.0 - fy) + bot * fy;
    }
    Some(out)
}

/// An office-wall background: a soft gradient with some low-contrast blobs.
fn background(rng: &mut Rng) -> RgbImage {
    let base = [rng.range(80.0, 150.0), rng.range(80.0, 150.0), rng.range(80.0, 150.0)];
    let (gx, gy) = (rng.range(-0.06, 0.06), rng.range(-0.06, 0.06));
    let blobs: Vec<(f32, f32, f32, f32)> = (0..4)
        .map(|_| {
            (rng.range(0.0, 640.0), rng.range(0.0, 480.0), rng.range(40.0, 160.0), rng.range(-25.0, 25.0))
        })
        .collect();
    RgbImage::from_fn(FRAME_W, FRAME_H, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let mut d = gx * (xf - 320.0) + gy * (yf - 240.0);
        for &(bx, by, r, a) in &blobs {
            d += a * (-((xf - bx).powi(2) + (yf - by).powi(2)) / (2.0 * r * r)).exp();
        }
        Rgb([to_px(base[0] + d), to_px(base[1] + d), to_px(base[2] + d)])
    })
}

fn add_noise(img: &mut RgbImage, sigma: f32, rng: &mut Rng) {
    for p in img.pixels_mut() {
        let n = rng.normal() * sigma;
        for c in p.0.iter_mut() {
            *c = to_px(f32::from(*c) + n);
        }
    }
}

/// Scale and offsets that fit `photo` into the frame, `height` px tall at most.
fn placement(photo: &RgbImage, height: f32) -> (f32, f32, f32) {
    let (w, h) = (photo.width().max(1) as f32, photo.height().max(1) as f32);
    let s = (height / h).min((FRAME_W as f32 - 20.0) / w);
    (s, (FRAME_W as f32 - w * s) / 2.0, (FRAME_H as f32 - h * s) / 2.0)
}

/// Bona fide bursts (synthetic): see the module documentation.
fn bona_fide_burst(photo: &RgbImage, face: &DetectedFace, frames: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = Rng::new(seed.wrapping_mul(4).wrapping_add(1));
    let bg = background(&mut rng);
    let (s, ox, oy) = placement(photo, 440.0);
    let fw = (face.width * s).max(1.0);
    let fh = (face.height * s).max(1.0);
    let (cx, cy) = (ox + (face.x + face.width / 2.0) * s, oy + (face.y + face.height / 2.0) * s);
    let (nx, ny) = (ox + face.landmarks[2].0 * s, oy + face.landmarks[2].1 * s);
    let (rx, ry) = (0.6 * fw, 0.65 * fh);
    let (depth, bump, sigma) = (0.45 * fw, 0.3 * fw, 0.11 * fw);
    let depth_at = |x: f32, y: f32| {
        let e = 1.0 - ((x - cx) / rx).powi(2) - ((y - cy) / ry).powi(2);
        let z = if e > 0.0 { depth * e.sqrt() } else { 0.0 };
        z + bump * (-((x - nx).powi(2) + (y - ny).powi(2)) / (2.0 * sigma * sigma)).exp()
    };
    (0..frames)
        .map(|_| {
            let yaw = rng.range(-5.0, 5.0).to_radians().sin();
            let pitch = rng.range(-4.0, 4.0).to_radians().sin();
            let (tx, ty) = (rng.range(-3.0, 3.0), rng.range(-3.0, 3.0));
            let (gain, offset) = (rng.range(0.93, 1.07), rng.range(-6.0, 6.0));
            let mut f = RgbImage::from_fn(FRAME_W, FRAME_H, |x, y| {
                let (xf, yf) = (x as f32 + 0.5, y as f32 + 0.5);
                let z = depth_at(xf, yf);
                let (sx, sy) = (xf - z * yaw - tx, yf - z * pitch - ty);
                match sample(photo, (sx - ox) / s, (sy - oy) / s) {
                    Some(v) => Rgb(v.map(|c| to_px(c * gain + offset))),
                    None => *bg.get_pixel(x, y),
                }
            });
            add_noise(&mut f, 1.5, &mut rng);
            f
        })
        .collect()
}

/// A flat sheet's pose in front of the camera.
#[derive(Debug, Clone, Copy)]
struct Pose {
    /// Frame pixels per sheet pixel (before perspective).
    scale: f32,
    roll: f32,
    tilt_x: f32,
    tilt_y: f32,
    tx: f32,
    ty: f32,
}

impl Pose {
    fn random(rng: &mut Rng, scale: f32, max_tilt: f32, max_roll: f32, max_shift: f32) -> Pose {
        Pose {
            scale: scale * rng.range(0.88, 1.1),
            roll: rng.range(-max_roll, max_roll).to_radians(),
            tilt_x: rng.range(-max_tilt, max_tilt).to_radians(),
            tilt_y: rng.range(-max_tilt, max_tilt).to_radians(),
            tx: rng.range(-max_shift, max_shift),
            ty: rng.range(-max_shift, max_shift),
        }
    }

    /// Homography taking frame coordinates to sheet coordinates.
    fn frame_to_sheet(&self, sw: f32, sh: f32) -> Option<[f64; 9]> {
        let f = 700.0f32;
        let (sr, cr) = self.roll.sin_cos();
        let (sa, ca) = self.tilt_x.sin_cos();
        let (sb, cb) = self.tilt_y.sin_cos();
        let project = |u: f32, v: f32| {
            let (x, y) = ((u - sw / 2.0) * self.scale, (v - sh / 2.0) * self.scale);
            let (x, y) = (cr * x - sr * y, sr * x + cr * y);
            // about the x axis, then the y axis
            let (y, z) = (ca * y, sa * y);
            let (x, z) = (cb * x + sb * z, -sb * x + cb * z);
            let zc = f + z;
            (
                f64::from(FRAME_W as f32 / 2.0 + self.tx + f * x / zc),
                f64::from(FRAME_H as f32 / 2.0 + self.ty + f * y / zc),
            )
        };
        let corners = [(0.0, 0.0), (sw, 0.0), (sw, sh), (0.0, sh)];
        let src = corners.map(|(u, v)| project(u, v));
        let dst = corners.map(|(u, v)| (f64::from(u), f64::from(v)));
        homography(&src, &dst)
    }
}

fn apply_h(h: &[f64; 9], x: f64, y: f64) -> (f32, f32) {
    let w = h[6] * x + h[7] * y + h[8];
    (((h[0] * x + h[1] * y + h[2]) / w) as f32, ((h[3] * x + h[4] * y + h[5]) / w) as f32)
}

/// Render a flat surface (`texel(u, v)` in sheet coordinates, `None` off the
/// sheet) in front of the background, `samples` x `samples` supersampled per
/// frame pixel (the sensor's pixel area, which turns a fine grid into moire).
fn render_sheet(
    bg: &RgbImage,
    sw: f32,
    sh: f32,
    pose: &Pose,
    samples: u32,
    texel: &dyn Fn(f32, f32) -> Option<[f32; 3]>,
) -> RgbImage {
    let Some(h) = pose.frame_to_sheet(sw, sh) else { return bg.clone() };
    let samples = samples.max(1);
    let offsets: Vec<f64> = (0..samples).map(|i| (f64::from(i) + 0.5) / f64::from(samples)).collect();
    let weight = 1.0 / (samples * samples) as f32;
    RgbImage::from_fn(FRAME_W, FRAME_H, |x, y| {
        let mut acc = [0f32; 3];
        for &dy in &offsets {
            for &dx in &offsets {
                let (u, v) = apply_h(&h, f64::from(x) + dx, f64::from(y) + dy);
                let c = if u >= 0.0 && v >= 0.0 && u < sw && v < sh { texel(u, v) } else { None };
                let c = c.unwrap_or_else(|| bg.get_pixel(x, y).0.map(f32::from));
                for i in 0..3 {
                    acc[i] += c[i] * weight;
                }
            }
        }
        Rgb(acc.map(to_px))
    })
}

/// Print attacks: see the module documentation.
fn print_burst(photo: &RgbImage, frames: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = Rng::new(seed.wrapping_mul(4).wrapping_add(2));
    let bg = background(&mut rng);
    // The print: the photo 400 px tall on a sheet with a 24 px margin.
    let (s, _, _) = placement(photo, 400.0);
    let (pw, ph) = ((photo.width() as f32 * s).max(1.0), (photo.height() as f32 * s).max(1.0));
    let small = imageops::resize(photo, pw as u32, ph as u32, imageops::FilterType::Triangle);
    let margin = 24.0;
    let (sw, sh) = (pw + 2.0 * margin, ph + 2.0 * margin);
    let paper = [rng.range(228.0, 245.0), rng.range(226.0, 242.0), rng.range(215.0, 235.0)];
    let pitch = rng.range(2.2, 3.2);
    let grain: Vec<f32> = (0..64 * 64).map(|_| rng.normal() * 4.0).collect();
    let texel = |u: f32, v: f32| -> Option<[f32; 3]> {
        let g = grain[((v as usize) % 64) * 64 + (u as usize) % 64];
        let (iu, iv) = (u - margin, v - margin);
        let c = sample(&small, iu, iv).map_or(paper, |c| {
            // Halftone: ink coverage modulated by a rotated dot screen.
            let (a, b) =
                ((iu + iv) * std::f32::consts::FRAC_1_SQRT_2, (iu - iv) * std::f32::consts::FRAC_1_SQRT_2);
            let dots = (std::f32::consts::TAU * a / pitch).cos() * (std::f32::consts::TAU * b / pitch).cos();
            c.map(|v| v * (1.0 + 0.18 * dots) * 0.93 + 8.0)
        });
        Some(c.map(|v| v + g))
    };
    (0..frames)
        .map(|_| {
            let pose = Pose::random(&mut rng, 1.0, 20.0, 10.0, 30.0);
            let f = render_sheet(&bg, sw, sh, &pose, 2, &texel);
            let mut f = imageops::blur(&f, rng.range(0.5, 0.9));
            add_noise(&mut f, 1.5, &mut rng);
            f
        })
        .collect()
}

/// The screen model: `content` shown on a display of `content`'s size in
/// screen pixels, each made of R, G, B stripes with a dark gap, gamma and a
/// colour cast, inside a bezel. Returns (width, height, texel function).
fn screen_texel<'a>(
    content: &'a RgbImage,
    rng: &mut Rng,
) -> (f32, f32, impl Fn(f32, f32) -> Option<[f32; 3]> + use<'a>) {
    let bezel = rng.range(6.0, 14.0);
    let gamma = rng.range(0.8, 1.2);
    let cast = [rng.range(0.88, 1.0), rng.range(0.95, 1.05), rng.range(1.0, 1.12)];
    let (cw, ch) = (content.width() as f32, content.height() as f32);
    let texel = move |u: f32, v: f32| -> Option<[f32; 3]> {
        let (iu, iv) = (u - bezel, v - bezel);
        if iu < 0.0 || iv < 0.0 || iu >= cw || iv >= ch {
            return Some([18.0, 18.0, 20.0]);
        }
        let px =
            content.get_pixel((iu as u32).min(content.width() - 1), (iv as u32).min(content.height() - 1)).0;
        let (fu, fv) = (iu.fract(), iv.fract());
        let channel = ((fu * 3.0) as usize).min(2);
        let in_stripe = (fu * 3.0).fract() < 0.8 && fv < 0.85;
        let mut out = [6.0f32; 3];
        if in_stripe {
            let lin = (f32::from(px[channel]) / 255.0).powf(gamma);
            out[channel] = (255.0 * lin * cast[channel] * 2.7).min(255.0 * 2.7);
        }
        Some(out)
    };
    (cw + 2.0 * bezel, ch + 2.0 * bezel, texel)
}

fn screen_frames(
    contents: &[RgbImage],
    rng: &mut Rng,
    max_tilt: f32,
    max_roll: f32,
    max_shift: f32,
) -> Vec<RgbImage> {
    let bg = background(rng);
    // Frame pixels per screen pixel: a tablet or monitor held close (a
    // screen pixel a little smaller than a camera pixel: the grid aliases
    // into moire rather than showing as stripes).
    let pitch = rng.range(0.6, 0.95);
    contents
        .iter()
        .map(|content| {
            let (sw, sh, texel) = screen_texel(content, &mut rng.clone());
            let pose = Pose::random(rng, pitch, max_tilt, max_roll, max_shift);
            // 4x4 samples: the sensor integrates the sub-pixel grid over its
            // pixel area; the lens adds a little blur.
            let f = render_sheet(&bg, sw, sh, &pose, 4, &texel);
            let mut f = imageops::blur(&f, rng.range(0.5, 0.8));
            add_noise(&mut f, 1.5, rng);
            f
        })
        .collect()
}

/// Screen replay of the still photo: see the module documentation.
fn screen_burst(photo: &RgbImage, frames: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = Rng::new(seed.wrapping_mul(4).wrapping_add(3));
    // The photo fills a display about 380 frame pixels tall.
    let (s, _, _) = placement(photo, 480.0);
    let (w, h) = (((photo.width() as f32 * s) as u32).max(1), ((photo.height() as f32 * s) as u32).max(1));
    let content = imageops::resize(photo, w, h, imageops::FilterType::Triangle);
    let contents = vec![content; frames];
    screen_frames(&contents, &mut rng, 20.0, 10.0, 30.0)
}

/// A bona fide burst replayed through the screen model (a phone held fairly
/// still: tilt up to 10 degrees).
fn video_replay_burst(photo: &RgbImage, face: &DetectedFace, frames: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = Rng::new(seed.wrapping_mul(4).wrapping_add(4));
    let live = bona_fide_burst(photo, face, frames, seed ^ 0x5EED);
    // Played back full screen on a display about 480 screen pixels tall.
    let contents: Vec<RgbImage> =
        live.iter().map(|f| imageops::resize(f, 560, 420, imageops::FilterType::Triangle)).collect();
    screen_frames(&contents, &mut rng, 10.0, 5.0, 15.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_photo() -> (RgbImage, DetectedFace) {
        let img = RgbImage::from_fn(200, 260, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let face = DetectedFace {
            x: 50.0,
            y: 60.0,
            width: 100.0,
            height: 130.0,
            landmarks: [(80.0, 100.0), (120.0, 100.0), (100.0, 130.0), (85.0, 160.0), (115.0, 160.0)],
            score: 0.9,
        };
        (img, face)
    }

    #[test]
    fn bursts_have_the_requested_size_and_are_deterministic() {
        let (img, face) = test_photo();
        for kind in BurstKind::ALL {
            let a = make_burst(kind, &img, &face, 2, 7);
            assert_eq!(a.len(), 2, "{kind:?}");
            assert!(a.iter().all(|f| f.dimensions() == (FRAME_W, FRAME_H)), "{kind:?}");
            let b = make_burst(kind, &img, &face, 2, 7);
            assert!(a == b, "{kind:?} is not deterministic");
            let c = make_burst(kind, &img, &face, 2, 8);
            assert!(a != c, "{kind:?} ignores the seed");
            assert!(a[0] != a[1], "{kind:?} frames do not change");
        }
    }

    #[test]
    fn degenerate_photos_do_not_panic() {
        let face =
            DetectedFace { x: 0.0, y: 0.0, width: 0.0, height: 0.0, landmarks: [(0.0, 0.0); 5], score: 0.0 };
        for img in [RgbImage::new(1, 1), RgbImage::new(3000, 2)] {
            for kind in BurstKind::ALL {
                assert_eq!(make_burst(kind, &img, &face, 1, 1).len(), 1);
            }
        }
        assert!(make_burst(BurstKind::Print, &RgbImage::new(0, 0), &face, 1, 1).len() == 1);
    }
}
