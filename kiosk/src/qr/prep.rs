//! Pure-Rust image preparation for the QR reader: luma, contrast stretch,
//! inversion, 2x box downscale, 2x bilinear upscale, and a local-mean
//! (integral image) adaptive threshold. Every function accepts any size,
//! including empty images, without panicking.

use image::RgbImage;

/// An 8-bit grey image, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grey {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

impl Grey {
    pub fn new(w: usize, h: usize, data: Vec<u8>) -> Option<Grey> {
        (w.checked_mul(h)? == data.len()).then_some(Grey { w, h, data })
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// ITU-R BT.601 luma in integer arithmetic.
pub fn luma(frame: &RgbImage) -> Grey {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let raw = frame.as_raw();
    let mut data = vec![0u8; w * h];
    // Four pixels (12 bytes) at a time, then the rest.
    let mut chunks = raw.chunks_exact(12);
    let mut out = data.chunks_exact_mut(4);
    for (p, o) in (&mut chunks).zip(&mut out) {
        for k in 0..4 {
            let (r, g, b) = (u32::from(p[3 * k]), u32::from(p[3 * k + 1]), u32::from(p[3 * k + 2]));
            o[k] = ((r * 306 + g * 601 + b * 117) >> 10) as u8;
        }
    }
    let done = (w * h / 4) * 4;
    for (o, p) in data[done..].iter_mut().zip(raw[done * 3..].chunks_exact(3)) {
        *o = ((u32::from(p[0]) * 306 + u32::from(p[1]) * 601 + u32::from(p[2]) * 117) >> 10) as u8;
    }
    Grey { w, h, data }
}

/// Luma at half size, straight from the RGB frame (each pixel the mean of
/// a 2x2 block's luma; an odd last row or column is dropped): the same as
/// `downscale2(&luma(frame))` to within rounding, for a quarter of the
/// output.
pub fn luma_half(frame: &RgbImage) -> Grey {
    let (fw, fh) = (frame.width() as usize, frame.height() as usize);
    let (w, h) = (fw / 2, fh / 2);
    let raw = frame.as_raw();
    let mut data = vec![0u8; w * h];
    let l = |p: &[u8]| u32::from(p[0]) * 306 + u32::from(p[1]) * 601 + u32::from(p[2]) * 117;
    for y in 0..h {
        let r0 = &raw[2 * y * fw * 3..(2 * y + 1) * fw * 3];
        let r1 = &raw[(2 * y + 1) * fw * 3..(2 * y + 2) * fw * 3];
        for (x, o) in data[y * w..(y + 1) * w].iter_mut().enumerate() {
            let i = 6 * x;
            let s = l(&r0[i..i + 3]) + l(&r0[i + 3..i + 6]) + l(&r1[i..i + 3]) + l(&r1[i + 3..i + 6]);
            *o = ((s + 2048) >> 12).min(255) as u8;
        }
    }
    Grey { w, h, data }
}

/// Light for dark.
pub fn invert(g: &Grey) -> Grey {
    Grey { w: g.w, h: g.h, data: g.data.iter().map(|v| 255 - v).collect() }
}

/// Map the `low`..`high` fraction percentiles of the histogram to 0..255.
/// An image with (almost) one grey level is returned as it is.
pub fn stretch(g: &Grey, low: f64, high: f64) -> Grey {
    let mut hist = [0usize; 256];
    for &v in &g.data {
        hist[v as usize] += 1;
    }
    let n = g.data.len();
    let level = |frac: f64| {
        let target = (frac.clamp(0.0, 1.0) * n as f64) as usize;
        let mut acc = 0;
        for (i, c) in hist.iter().enumerate() {
            acc += c;
            if acc > target {
                return i;
            }
        }
        255
    };
    let (lo, hi) = (level(low), level(high));
    if hi <= lo + 8 {
        return g.clone();
    }
    let span = (hi - lo) as u32;
    let mut lut = [0u8; 256];
    for (i, l) in lut.iter_mut().enumerate() {
        *l = ((i.saturating_sub(lo) as u32 * 255) / span).min(255) as u8;
    }
    Grey { w: g.w, h: g.h, data: g.data.iter().map(|&v| lut[v as usize]).collect() }
}

/// Half the size, each pixel the mean of a 2x2 block (removes fine moire and
/// halves the work). An odd last row or column is dropped.
pub fn downscale2(g: &Grey) -> Grey {
    let (w, h) = (g.w / 2, g.h / 2);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let r0 = &g.data[2 * y * g.w..];
        let r1 = &g.data[(2 * y + 1) * g.w..];
        for x in 0..w {
            let s = u32::from(r0[2 * x])
                + u32::from(r0[2 * x + 1])
                + u32::from(r1[2 * x])
                + u32::from(r1[2 * x + 1]);
            data.push(((s + 2) / 4) as u8);
        }
    }
    Grey { w, h, data }
}

/// Twice the size, bilinear (small modules become wide enough for the
/// finder-pattern scan).
pub fn upscale2(g: &Grey) -> Grey {
    let (w, h) = (g.w * 2, g.h * 2);
    let mut data = vec![0u8; w * h];
    if g.is_empty() {
        return Grey { w, h, data };
    }
    for y in 0..h {
        // Source coordinate of the output pixel's centre, in 1/4 pixels.
        let sy4 = (2 * y as i64 - 1).max(0) as usize;
        let (y0, fy) = ((sy4 / 4).min(g.h - 1), (sy4 % 4) as u32);
        let y1 = (y0 + 1).min(g.h - 1);
        for x in 0..w {
            let sx4 = (2 * x as i64 - 1).max(0) as usize;
            let (x0, fx) = ((sx4 / 4).min(g.w - 1), (sx4 % 4) as u32);
            let x1 = (x0 + 1).min(g.w - 1);
            let p = |xx: usize, yy: usize| u32::from(g.data[yy * g.w + xx]);
            let top = p(x0, y0) * (4 - fx) + p(x1, y0) * fx;
            let bottom = p(x0, y1) * (4 - fx) + p(x1, y1) * fx;
            data[y * w + x] = ((top * (4 - fy) + bottom * fy + 8) / 16) as u8;
        }
    }
    Grey { w, h, data }
}

/// The mean of the `window` x `window` square around each pixel (integral
/// image; clipped at the borders).
pub fn local_mean(g: &Grey, window: usize) -> Grey {
    let (w, h) = (g.w, g.h);
    if w == 0 || h == 0 {
        return Grey { w, h, data: Vec::new() };
    }
    let stride = w + 1;
    let mut integral = vec![0u64; stride * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(g.data[y * w + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + row;
        }
    }
    let r = (window / 2).max(1);
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = integral[y1 * stride + x1] + integral[y0 * stride + x0]
                - integral[y0 * stride + x1]
                - integral[y1 * stride + x0];
            data.push((sum / ((y1 - y0) * (x1 - x0)) as u64) as u8);
        }
    }
    Grey { w, h, data }
}

/// Adaptive threshold: a pixel is dark (true) when it is more than `offset`
/// below the mean of the `window` x `window` square around it (with
/// `invert`, more than `offset` above: light modules on a dark screen).
pub fn adaptive_bits(g: &Grey, window: usize, offset: i32, invert: bool) -> Vec<bool> {
    let mean = local_mean(g, window);
    g.data
        .iter()
        .zip(&mean.data)
        .map(|(&v, &m)| {
            let (v, m) = (i32::from(v), i32::from(m));
            if invert { v > m + offset } else { v < m - offset }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_accepts_empty_and_tiny_images() {
        for (w, h) in [(0, 0), (1, 1), (0, 5), (5, 0), (1, 9), (3, 2)] {
            let g = Grey::new(w, h, vec![128; w * h]).unwrap();
            assert_eq!(invert(&g).data.len(), w * h);
            assert_eq!(stretch(&g, 0.01, 0.99).data.len(), w * h);
            assert_eq!(downscale2(&g).data.len(), (w / 2) * (h / 2));
            assert_eq!(upscale2(&g).data.len(), 4 * w * h);
            assert_eq!(adaptive_bits(&g, 15, 5, false).len(), w * h);
        }
    }

    #[test]
    fn half_luma_matches_the_luma_downscaled() {
        for (w, h) in [(0u32, 0u32), (1, 1), (3, 2), (7, 5), (64, 33)] {
            let frame = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 37 % 256) as u8, (y * 91 % 256) as u8, ((x + y) * 13 % 256) as u8])
            });
            let a = luma_half(&frame);
            let b = downscale2(&luma(&frame));
            assert_eq!((a.w, a.h), (b.w, b.h));
            assert!(a.data.iter().zip(&b.data).all(|(p, q)| p.abs_diff(*q) <= 1));
        }
    }

    #[test]
    fn block_threshold_accepts_any_size_and_reads_a_dark_square() {
        for (w, h) in [(0, 0), (1, 1), (9, 3), (17, 17)] {
            let g = Grey::new(w, h, vec![128; w * h]).unwrap();
            let t = BlockThreshold::new(&g, false);
            assert_eq!(t.bits(&g).len(), w * h);
            let _ = t.at(-5.0, 1e9);
        }
        let mut data = vec![220u8; 40 * 40];
        for y in 10..30 {
            for x in 10..30 {
                data[y * 40 + x] = 30;
            }
        }
        let g = Grey::new(40, 40, data).unwrap();
        let bits = BlockThreshold::new(&g, false).bits(&g);
        assert!(bits[20 * 40 + 20] && !bits[2 * 40 + 2]);
        let inv = BlockThreshold::new(&invert(&g), true).bits(&invert(&g));
        assert_eq!(bits, inv);
    }

    #[test]
    fn stretch_spreads_a_low_contrast_image() {
        let g = Grey::new(4, 1, vec![100, 110, 140, 150]).unwrap();
        let s = stretch(&g, 0.0, 0.99);
        assert_eq!(s.data[0], 0);
        assert_eq!(s.data[3], 255);
    }

    #[test]
    fn adaptive_threshold_finds_dark_on_light_and_light_on_dark() {
        let mut data = vec![200u8; 9 * 9];
        data[4 * 9 + 4] = 20;
        let g = Grey::new(9, 9, data).unwrap();
        let bits = adaptive_bits(&g, 5, 10, false);
        assert!(bits[4 * 9 + 4]);
        assert_eq!(bits.iter().filter(|b| **b).count(), 1);
        let inv = adaptive_bits(&invert(&g), 5, 10, true);
        assert_eq!(bits, inv);
    }
}

/// A rectangle of an image: columns `x0..x1`, rows `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
}

/// Cut a rectangle out (clamped to the image).
pub fn crop(g: &Grey, r: Rect) -> Grey {
    let (x0, x1) = (r.x0.min(g.w), r.x1.min(g.w).max(r.x0.min(g.w)));
    let (y0, y1) = (r.y0.min(g.h), r.y1.min(g.h).max(r.y0.min(g.h)));
    let mut data = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        data.extend_from_slice(&g.data[y * g.w + x0..y * g.w + x1]);
    }
    Grey { w: x1 - x0, h: y1 - y0, data }
}

/// Find the QR code: the largest connected patch of dense edges, on a grid
/// of small blocks (a QR code is a square of edges in both directions; text
/// lines and panels around it have far fewer). Polarity does not matter, so
/// dark-mode screens are found too. Returns the patch's bounding box with a
/// margin, or `None` when nothing stands out or the patch is most of the
/// frame anyway.
///
/// This keeps the finder-pattern search of rqrr away from the text and
/// pictures on a phone screen, which otherwise supply false finder patterns
/// that steal a real one (quirc issue #50), and it shrinks the work.
pub fn locate(g: &Grey) -> Option<Rect> {
    if g.w < 32 || g.h < 32 {
        return None;
    }
    let b = (g.w.max(g.h) / 160).max(3);
    let (bw, bh) = (g.w / b, g.h / b);
    let mut energy = vec![0u32; bw * bh];
    for y in 0..bh * b {
        let row = &g.data[y * g.w..(y + 1) * g.w];
        let next = if y + 1 < g.h { &g.data[(y + 1) * g.w..(y + 2) * g.w] } else { row };
        let cells = &mut energy[(y / b) * bw..(y / b + 1) * bw];
        for (x, cell) in cells.iter_mut().enumerate().take(bw) {
            let mut e = 0u32;
            for xx in x * b..x * b + b {
                let v = i32::from(row[xx]);
                let right = i32::from(row[(xx + 1).min(g.w - 1)]);
                let down = i32::from(next[xx]);
                e += ((v - right).unsigned_abs()) + ((v - down).unsigned_abs());
            }
            *cell += e;
        }
    }
    let mut sorted = energy.clone();
    sorted.sort_unstable();
    let high = sorted[sorted.len() * 97 / 100];
    if high == 0 {
        return None;
    }
    let threshold = high * 2 / 5;
    // Connected patches of dense blocks (4-neighbours); keep the strongest.
    let mut label = vec![0u32; bw * bh];
    let mut best: Option<(u64, Rect)> = None;
    let mut stack = Vec::new();
    let mut next_label = 0;
    for start in 0..bw * bh {
        if label[start] != 0 || energy[start] < threshold {
            continue;
        }
        next_label += 1;
        label[start] = next_label;
        stack.push(start);
        let (mut sum, mut rect) = (0u64, Rect { x0: usize::MAX, y0: usize::MAX, x1: 0, y1: 0 });
        while let Some(i) = stack.pop() {
            let (x, y) = (i % bw, i / bw);
            sum += u64::from(energy[i]);
            rect = Rect {
                x0: rect.x0.min(x),
                y0: rect.y0.min(y),
                x1: rect.x1.max(x + 1),
                y1: rect.y1.max(y + 1),
            };
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < bw).then(|| i + 1),
                (y > 0).then(|| i - bw),
                (y + 1 < bh).then(|| i + bw),
            ];
            for n in neighbours.into_iter().flatten() {
                if label[n] == 0 && energy[n] >= threshold {
                    label[n] = next_label;
                    stack.push(n);
                }
            }
        }
        if best.is_none_or(|(s, _)| sum > s) {
            best = Some((sum, rect));
        }
    }
    let (_, r) = best?;
    // Margin: two blocks plus 6 % of the patch, for the quiet zone and blur.
    let (pw, ph) = (r.width() * b, r.height() * b);
    let margin = 2 * b + pw.max(ph) * 6 / 100;
    let rect = Rect {
        x0: (r.x0 * b).saturating_sub(margin),
        y0: (r.y0 * b).saturating_sub(margin),
        x1: (r.x1 * b + margin).min(g.w),
        y1: (r.y1 * b + margin).min(g.h),
    };
    if rect.width() < 21 || rect.height() < 21 || rect.width() * rect.height() * 10 > g.w * g.h * 8 {
        return None;
    }
    Some(rect)
}

/// Resize by `factor` (bilinear; for factors below 1 each output pixel
/// samples the centre of its footprint, which is enough for 0.5 or more).
pub fn scale(g: &Grey, factor: f64) -> Grey {
    let w = ((g.w as f64) * factor).round().max(0.0) as usize;
    let h = ((g.h as f64) * factor).round().max(0.0) as usize;
    let mut data = Vec::with_capacity(w * h);
    if g.is_empty() || w == 0 || h == 0 {
        return Grey { w, h, data: vec![0; w * h] };
    }
    let (sx, sy) = (g.w as f64 / w as f64, g.h as f64 / h as f64);
    // Precomputed columns: source index and weight in 1/256.
    let cols: Vec<(usize, usize, u32)> = (0..w)
        .map(|x| {
            let fx = ((x as f64 + 0.5) * sx - 0.5).clamp(0.0, (g.w - 1) as f64);
            let x0 = fx.floor() as usize;
            (x0, (x0 + 1).min(g.w - 1), ((fx - x0 as f64) * 256.0) as u32)
        })
        .collect();
    for y in 0..h {
        let fy = ((y as f64 + 0.5) * sy - 0.5).clamp(0.0, (g.h - 1) as f64);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(g.h - 1);
        let wy = ((fy - y0 as f64) * 256.0) as u32;
        let (r0, r1) = (&g.data[y0 * g.w..(y0 + 1) * g.w], &g.data[y1 * g.w..(y1 + 1) * g.w]);
        for &(x0, x1, wx) in &cols {
            let top = u32::from(r0[x0]) * (256 - wx) + u32::from(r0[x1]) * wx;
            let bottom = u32::from(r1[x0]) * (256 - wx) + u32::from(r1[x1]) * wx;
            data.push(((top * (256 - wy) + bottom * wy + (1 << 15)) >> 16) as u8);
        }
    }
    Grey { w, h, data }
}

/// Whether a located patch holds light modules on a dark screen: its border
/// (the quiet zone and the screen around it) is darker than the patch.
pub fn is_light_on_dark(g: &Grey) -> bool {
    if g.w < 8 || g.h < 8 {
        return false;
    }
    let ring = (g.w.min(g.h) / 40).max(2);
    let (mut border, mut n_border, mut all) = (0u64, 0u64, 0u64);
    for y in 0..g.h {
        for x in 0..g.w {
            let v = u64::from(g.data[y * g.w + x]);
            all += v;
            if x < ring || y < ring || x >= g.w - ring || y >= g.h - ring {
                border += v;
                n_border += 1;
            }
        }
    }
    let mean = all / (g.w * g.h) as u64;
    border / n_border.max(1) + 8 < mean
}

/// Sharpen (unsharp mask against the 4-neighbour mean, strength `k`):
/// steeper module edges in a blurred frame.
pub fn sharpen(g: &Grey, k: i32) -> Grey {
    let mut data = g.data.clone();
    if g.w < 3 || g.h < 3 {
        return Grey { w: g.w, h: g.h, data };
    }
    for y in 1..g.h - 1 {
        for x in 1..g.w - 1 {
            let i = y * g.w + x;
            let c = i32::from(g.data[i]);
            let n = i32::from(g.data[i - 1])
                + i32::from(g.data[i + 1])
                + i32::from(g.data[i - g.w])
                + i32::from(g.data[i + g.w]);
            data[i] = (c + k * (4 * c - n) / 4).clamp(0, 255) as u8;
        }
    }
    Grey { w: g.w, h: g.h, data }
}

/// 3x3 box mean: sensor noise and fine moire stripes.
pub fn smooth(g: &Grey) -> Grey {
    let mut data = g.data.clone();
    if g.w < 3 || g.h < 3 {
        return Grey { w: g.w, h: g.h, data };
    }
    for y in 1..g.h - 1 {
        for x in 1..g.w - 1 {
            let mut s = 0u32;
            for dy in 0..3 {
                let r = &g.data[(y + dy - 1) * g.w + x - 1..];
                s += u32::from(r[0]) + u32::from(r[1]) + u32::from(r[2]);
            }
            data[y * g.w + x] = ((s + 4) / 9) as u8;
        }
    }
    Grey { w: g.w, h: g.h, data }
}

/// Block thresholds in the manner of ZXing's hybrid binariser: the frame cut
/// into `BLOCK` x `BLOCK` blocks, each block's threshold the mean of the 5x5
/// blocks around it; a flat block (range under [`FLAT_RANGE`], the quiet
/// zone or the screen around the code) takes half its minimum (with
/// `invert`, halfway between its maximum and white), so that it reads light
/// rather than as noise. One pass over the pixels plus one over the blocks:
/// the cheap binarisation of the reader's first pass.
#[derive(Debug, Clone)]
pub struct BlockThreshold {
    pub w: usize,
    pub h: usize,
    /// Blocks across and down (the last ones may be partial).
    pub bw: usize,
    pub bh: usize,
    /// Threshold of each block, row-major.
    pub thr: Vec<u8>,
    /// Light modules on dark: a pixel is a module when above the threshold.
    pub invert: bool,
}

pub const BLOCK: usize = 8;
const FLAT_RANGE: u8 = 16;

impl BlockThreshold {
    pub fn new(g: &Grey, invert: bool) -> BlockThreshold {
        let (w, h) = (g.w, g.h);
        let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
        let n = bw * bh;
        let mut sum = vec![0u32; n];
        let mut count = vec![0u32; n];
        let mut lo = vec![255u8; n];
        let mut hi = vec![0u8; n];
        // Block statistics from every other row and column: a quarter of
        // the work, the same thresholds to within noise.
        for y in (0..h).step_by(2) {
            let row = &g.data[y * w..(y + 1) * w];
            let b0 = (y / BLOCK) * bw;
            for (bx, chunk) in row.chunks(BLOCK).enumerate() {
                let i = b0 + bx;
                let mut s = 0u32;
                let (mut l, mut m) = (lo[i], hi[i]);
                let mut c = 0u32;
                for &v in chunk.iter().step_by(2) {
                    c += 1;
                    s += u32::from(v);
                    l = l.min(v);
                    m = m.max(v);
                }
                sum[i] += s;
                count[i] += c;
                lo[i] = l;
                hi[i] = m;
            }
        }
        let mut avg = vec![0u32; n];
        for i in 0..n {
            avg[i] = if hi[i] - lo[i] > FLAT_RANGE {
                sum[i] / count[i].max(1)
            } else if invert {
                (u32::from(hi[i]) + 255) / 2
            } else {
                u32::from(lo[i]) / 2
            };
        }
        let mut thr = vec![0u8; n];
        for by in 0..bh {
            let (y0, y1) = (by.saturating_sub(2), (by + 3).min(bh));
            for bx in 0..bw {
                let (x0, x1) = (bx.saturating_sub(2), (bx + 3).min(bw));
                let mut s = 0u32;
                for yy in y0..y1 {
                    s += avg[yy * bw + x0..yy * bw + x1].iter().sum::<u32>();
                }
                thr[by * bw + bx] = (s / ((y1 - y0) * (x1 - x0)) as u32) as u8;
            }
        }
        BlockThreshold { w, h, bw, bh, thr, invert }
    }

    /// Whether pixel value `v` at (x, y) is of the module colour (no bounds
    /// check beyond the block grid's: callers index inside the image).
    #[inline]
    pub fn is_module(&self, v: u8, x: usize, y: usize) -> bool {
        let t = self.thr[(y / BLOCK) * self.bw + x / BLOCK];
        if self.invert { v > t } else { v < t }
    }

    /// Binarise row `y` (`row` and `out` of the image's width).
    pub fn fill_row(&self, row: &[u8], y: usize, out: &mut [bool]) {
        let trow = &self.thr[((y / BLOCK) * self.bw).min(self.thr.len())..];
        for ((chunk, o), &t) in row.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(trow) {
            if self.invert {
                for (v, b) in chunk.iter().zip(o) {
                    *b = *v > t;
                }
            } else {
                for (v, b) in chunk.iter().zip(o) {
                    *b = *v < t;
                }
            }
        }
    }

    /// The binarised image: true = module colour (dark, or light when
    /// inverted).
    pub fn bits(&self, g: &Grey) -> Vec<bool> {
        let mut bits = vec![false; g.data.len()];
        if g.w != self.w || g.h != self.h {
            return bits;
        }
        for y in 0..self.h {
            let row = &g.data[y * self.w..(y + 1) * self.w];
            let out = &mut bits[y * self.w..(y + 1) * self.w];
            let trow = &self.thr[(y / BLOCK) * self.bw..];
            for (bx, (chunk, o)) in row.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).enumerate() {
                let t = trow[bx];
                if self.invert {
                    for (v, b) in chunk.iter().zip(o) {
                        *b = *v > t;
                    }
                } else {
                    for (v, b) in chunk.iter().zip(o) {
                        *b = *v < t;
                    }
                }
            }
        }
        bits
    }

    /// The threshold at a point (bilinear between block centres).
    pub fn at(&self, x: f64, y: f64) -> f64 {
        if self.thr.is_empty() {
            return 128.0;
        }
        let fx = (x / BLOCK as f64 - 0.5).clamp(0.0, (self.bw - 1) as f64);
        let fy = (y / BLOCK as f64 - 0.5).clamp(0.0, (self.bh - 1) as f64);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.bw - 1), (y0 + 1).min(self.bh - 1));
        let (ax, ay) = (fx - x0 as f64, fy - y0 as f64);
        let p = |xx: usize, yy: usize| f64::from(self.thr[yy * self.bw + xx]);
        let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
        let bottom = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
        top * (1.0 - ay) + bottom * ay
    }
}
