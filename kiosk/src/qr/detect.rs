//! Our own QR detector in front of rqrr's decoder, in the manner of ZXing:
//! finder patterns from 1:1:3:1:1 runs along rows, checked down the column
//! and along the row again; the three that make a right angle; the grid size
//! from their distance (and its neighbours 4 and 8 modules either side, as
//! blur biases the module size); the bottom-right alignment pattern searched
//! near where the three finders put it; a homography from the four; every
//! module sampled; rqrr's decoder (format, version, Reed-Solomon, data)
//! decides whether the guess was right.
//!
//! rqrr's own detector (a port of quirc) measures the grid size along the
//! timing pattern, which a blurred or tilted code at 3-4 pixels a module
//! easily gets wrong; this one tries the sizes instead. It works on a
//! binarised image (true = dark) and never panics: every index is checked.

use super::prep::{BlockThreshold, Grey};

/// A finder-pattern candidate.
#[derive(Debug, Clone, Copy)]
struct Finder {
    x: f64,
    y: f64,
    module: f64,
    count: u32,
}

fn ratio_ok(runs: [usize; 5]) -> Option<f64> {
    let total: usize = runs.iter().sum();
    if total < 7 {
        return None;
    }
    let m = total as f64 / 7.0;
    let tol = m * 0.6;
    let ok = (runs[0] as f64 - m).abs() < tol
        && (runs[1] as f64 - m).abs() < tol
        && (runs[2] as f64 - 3.0 * m).abs() < 3.0 * tol
        && (runs[3] as f64 - m).abs() < tol
        && (runs[4] as f64 - m).abs() < tol;
    ok.then_some(m)
}

/// The binarised image (true = module colour): a bitmap, or the grey image
/// against block thresholds, binarised where it is looked at.
struct Bits<'a> {
    w: usize,
    h: usize,
    src: Src<'a>,
}

enum Src<'a> {
    Bitmap(&'a [bool]),
    Blocks(&'a [u8], &'a BlockThreshold),
}

impl Bits<'_> {
    fn at(&self, x: i64, y: i64) -> bool {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return false;
        }
        let (x, y) = (x as usize, y as usize);
        match self.src {
            Src::Bitmap(b) => b[y * self.w + x],
            Src::Blocks(g, t) => t.is_module(g[y * self.w + x], x, y),
        }
    }

    fn fill_row(&self, y: usize, row: &mut [bool]) {
        match self.src {
            Src::Bitmap(b) => row.copy_from_slice(&b[y * self.w..(y + 1) * self.w]),
            Src::Blocks(g, t) => t.fill_row(&g[y * self.w..(y + 1) * self.w], y, row),
        }
    }

    /// Runs through (x, y) along (dx, dy): the centre dark run's extent
    /// either side and the two runs beyond it each way. Returns the five run
    /// lengths and the centre position along the direction.
    fn cross(&self, x: i64, y: i64, dx: i64, dy: i64, max: usize) -> Option<([usize; 5], f64)> {
        if !self.at(x, y) {
            return None;
        }
        let walk = |sign: i64| -> Option<[usize; 3]> {
            let mut out = [0usize; 3];
            let (mut cx, mut cy) = (x, y);
            if sign > 0 {
                cx += dx;
                cy += dy;
            }
            for (k, want) in [(0, true), (1, false), (2, true)] {
                while self.at(cx, cy) == want && out[k] <= max {
                    if cx < 0 || cy < 0 || cx as usize >= self.w || cy as usize >= self.h {
                        break;
                    }
                    out[k] += 1;
                    cx += dx * sign;
                    cy += dy * sign;
                }
                if out[k] == 0 || out[k] > max {
                    return None;
                }
            }
            Some(out)
        };
        let back = walk(-1)?;
        let fwd = walk(1)?;
        let runs = [back[2], back[1], back[0] + fwd[0], fwd[1], fwd[2]];
        // Centre along the direction, relative to (x, y).
        let centre = (fwd[0] as f64 - back[0] as f64) / 2.0 + 0.5;
        Some((runs, centre))
    }
}

fn find_finders(b: &Bits<'_>) -> Vec<Finder> {
    let mut found: Vec<Finder> = Vec::new();
    let mut runs: Vec<(usize, usize, bool)> = Vec::new();
    // Every other row: a finder's centre is three modules tall, so even
    // modules of 2.5 pixels give it three rows.
    let mut row = vec![false; b.w];
    for y in (0..b.h).step_by(2) {
        b.fill_row(y, &mut row);
        runs.clear();
        let mut start = 0;
        for x in 1..=b.w {
            if x == b.w || row[x] != row[start] {
                runs.push((start, x - start, row[start]));
                start = x;
            }
        }
        for i in 0..runs.len().saturating_sub(4) {
            if !runs[i].2 {
                continue;
            }
            let r = [runs[i].1, runs[i + 1].1, runs[i + 2].1, runs[i + 3].1, runs[i + 4].1];
            let Some(m) = ratio_ok(r) else { continue };
            let total: usize = r.iter().sum();
            let cx = runs[i + 2].0 as f64 + runs[i + 2].1 as f64 / 2.0;
            // Down the column, then along the row again at the vertical centre.
            let Some((vr, vc)) = b.cross(cx as i64, y as i64, 0, 1, total * 2) else { continue };
            let Some(vm) = ratio_ok(vr) else { continue };
            let vt: usize = vr.iter().sum();
            if vt * 2 < total || vt > total * 2 {
                continue;
            }
            // The run covers pixels y - back + 1 ..= y + fwd: its centre, in pixel
            // edge coordinates, is y + 1 + (fwd - back) / 2 = y + vc + 0.5.
            let cy = y as f64 + vc + 0.5;
            let Some((hr, hc)) = b.cross(cx as i64, cy.round() as i64, 1, 0, total * 2) else { continue };
            let Some(hm) = ratio_ok(hr) else { continue };
            let cx = cx.floor() + hc + 0.5;
            let module = (m + vm + hm) / 3.0;
            match found.iter_mut().find(|f| {
                (f.x - cx).abs() < f.module * 2.0
                    && (f.y - cy).abs() < f.module * 2.0
                    && (f.module / module - 1.0).abs() < 0.5
            }) {
                Some(f) => {
                    let n = f64::from(f.count);
                    f.x = (f.x * n + cx) / (n + 1.0);
                    f.y = (f.y * n + cy) / (n + 1.0);
                    f.module = (f.module * n + module) / (n + 1.0);
                    f.count += 1;
                }
                None => found.push(Finder { x: cx, y: cy, module, count: 1 }),
            }
        }
    }
    found.retain(|f| f.count >= 2);
    found.sort_by_key(|f| std::cmp::Reverse(f.count));
    found.truncate(12);
    found
}

type Pt = (f64, f64);

fn dist(a: Pt, b: Pt) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// Triples (top-left, top-right, bottom-left) that make a plausible code,
/// best first.
fn triples(f: &[Finder]) -> Vec<(Finder, Finder, Finder, f64)> {
    let mut out = Vec::new();
    for i in 0..f.len() {
        for j in i + 1..f.len() {
            for k in j + 1..f.len() {
                let (a, b, c) = (f[i], f[j], f[k]);
                let ms = [a.module, b.module, c.module];
                let (lo, hi) =
                    (ms.iter().cloned().fold(f64::MAX, f64::min), ms.iter().cloned().fold(0.0, f64::max));
                if hi > lo * 1.7 {
                    continue;
                }
                let (pa, pb, pc) = ((a.x, a.y), (b.x, b.y), (c.x, c.y));
                let (ab, bc, ca) = (dist(pa, pb), dist(pb, pc), dist(pc, pa));
                // The corner is opposite the longest side.
                let (corner, p, q, hyp) = if ab >= bc && ab >= ca {
                    (c, a, b, ab)
                } else if bc >= ab && bc >= ca {
                    (a, b, c, bc)
                } else {
                    (b, c, a, ca)
                };
                let (l1, l2) =
                    (dist((corner.x, corner.y), (p.x, p.y)), dist((corner.x, corner.y), (q.x, q.y)));
                let module = (a.module + b.module + c.module) / 3.0;
                if l1.min(l2) < module * 10.0 {
                    continue;
                }
                let score = (l1 - l2).abs() / l1.max(l2) + (hyp - (l1 * l1 + l2 * l2).sqrt()).abs() / hyp;
                if score > 0.5 {
                    continue;
                }
                // Top-right then bottom-left, clockwise in image coordinates (y down).
                let cross = (p.x - corner.x) * (q.y - corner.y) - (p.y - corner.y) * (q.x - corner.x);
                let (tr, bl) = if cross > 0.0 { (p, q) } else { (q, p) };
                out.push((corner, tr, bl, score));
            }
        }
    }
    out.sort_by(|a, b| a.3.total_cmp(&b.3));
    out.truncate(4);
    out
}

/// Below this fraction of timing-pattern modules read right, a sampled grid
/// is not worth decoding (a right grid of a blurred code reads 85 % or more).
const MIN_TIMING: f64 = 0.7;

/// The fraction of the timing-pattern modules (row and column 6 between the
/// finders: dark at even positions) that a sampled grid reads right.
fn timing_agreement(size: usize, module: impl Fn(usize, usize) -> bool) -> f64 {
    if size < 21 {
        return 0.0;
    }
    let mut right = 0usize;
    for i in 8..size - 8 {
        let want = i % 2 == 0;
        right += usize::from(module(i, 6) == want) + usize::from(module(6, i) == want);
    }
    right as f64 / (2 * (size - 16)) as f64
}

/// Homography from module coordinates to image coordinates through four
/// correspondences (Gaussian elimination; `None` when degenerate).
fn homography(src: [Pt; 4], dst: [Pt; 4]) -> Option<[f64; 8]> {
    let mut m = [[0.0f64; 9]; 8];
    for k in 0..4 {
        let ((u, v), (x, y)) = (src[k], dst[k]);
        m[2 * k] = [u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x, x];
        m[2 * k + 1] = [0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y, y];
    }
    for col in 0..8 {
        let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-9 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (c, v) in row.iter_mut().enumerate().skip(col) {
                    *v -= f * pivot_row[c];
                }
            }
        }
    }
    let mut h = [0.0; 8];
    for (i, v) in h.iter_mut().enumerate() {
        *v = m[i][8] / m[i][i];
    }
    Some(h)
}

fn apply(h: &[f64; 8], (u, v): Pt) -> Pt {
    let d = h[6] * u + h[7] * v + 1.0;
    ((h[0] * u + h[1] * v + h[2]) / d, (h[3] * u + h[4] * v + h[5]) / d)
}

/// The 25 pixel offsets of the alignment pattern's 5x5 modules along the
/// local module axes `ex`, `ey`, each with whether it is dark (centre and
/// outer ring). round(x + o) = x + round(o) for an integer x, so the offsets
/// hold for every position searched.
fn alignment_offsets(ex: Pt, ey: Pt) -> [(i64, i64, bool); 25] {
    let mut offsets = [(0i64, 0i64, false); 25];
    let mut k = 0;
    for a in -2i64..=2 {
        for c in -2i64..=2 {
            let ox = a as f64 * ex.0 + c as f64 * ey.0;
            let oy = a as f64 * ex.1 + c as f64 * ey.1;
            offsets[k] = (ox.round() as i64, oy.round() as i64, a.abs().max(c.abs()) != 1);
            k += 1;
        }
    }
    offsets
}

/// The alignment pattern within `radius` of `guess`: the centre of the
/// positions that best match its 5x5 modules, and that score (of 25).
fn search_alignment(
    b: &Bits<'_>,
    guess: Pt,
    offsets: &[(i64, i64, bool); 25],
    radius: f64,
) -> Option<(Pt, u32)> {
    // Coarse positions half a module apart (the pattern's centre module is
    // a module wide), then every position around the best of them.
    let module = offsets.iter().map(|&(x, y, _)| x.abs().max(y.abs())).max().unwrap_or(2) as f64 / 2.0;
    let step = ((module / 2.0).floor() as i64).max(1);
    let r = radius.ceil().clamp(0.0, 4096.0) as i64;
    let (gx, gy) = (guess.0.round() as i64, guess.1.round() as i64);
    let score_at = |x: i64, y: i64| -> u32 {
        offsets.iter().map(|&(ox, oy, want)| u32::from(b.at(x + ox, y + oy) == want)).sum()
    };
    let mut coarse = (0, gx, gy);
    let mut y = gy - r;
    while y <= gy + r {
        let mut x = gx - r;
        while x <= gx + r {
            let s = score_at(x, y);
            if s > coarse.0 {
                coarse = (s, x, y);
            }
            x += step;
        }
        y += step;
    }
    if coarse.0 < 19 {
        return None;
    }
    let mut best = 0;
    let mut sum = (0.0, 0.0, 0.0);
    for y in coarse.2 - step..=coarse.2 + step {
        for x in coarse.1 - step..=coarse.1 + step {
            let score = score_at(x, y);
            if score > best {
                best = score;
                sum = (0.0, 0.0, 0.0);
            }
            if score == best {
                sum = (sum.0 + x as f64, sum.1 + y as f64, sum.2 + 1.0);
            }
        }
    }
    (best >= 21 && sum.2 > 0.0).then(|| ((sum.0 / sum.2, sum.1 / sum.2), best))
}

/// The 18-bit version information of `version` (7 to 40): the version in
/// the top 6 bits, its BCH(18, 6) remainder (generator 0x1F25) below.
fn version_code(version: u32) -> u32 {
    let mut rem = version << 12;
    for bit in (12..18).rev() {
        if rem & (1 << bit) != 0 {
            rem ^= 0x1F25 << (bit - 12);
        }
    }
    (version << 12) | rem
}

/// The version read from the two version information blocks (bit k at
/// column n-11+k%3, row k/3 beside the top-right finder, transposed beside
/// the bottom-left one) of a grid of `dim` modules sampled by `module_at`
/// through `hm`: the nearest code within 3 bit errors in either copy.
fn read_version(hm: &[f64; 8], dim: usize, module_at: &impl Fn(Pt) -> bool) -> Option<u32> {
    if dim < 45 {
        return None;
    }
    let n = dim as f64;
    let mut best: Option<(u32, u32)> = None;
    for transposed in [false, true] {
        let mut bits = 0u32;
        for k in 0..18u32 {
            let (a, c) = (n - 11.0 + f64::from(k % 3) + 0.5, f64::from(k / 3) + 0.5);
            let p = if transposed { (c, a) } else { (a, c) };
            if module_at(apply(hm, p)) {
                bits |= 1 << k;
            }
        }
        for v in 7..=40 {
            let d = (version_code(v) ^ bits).count_ones();
            if d <= 3 && best.is_none_or(|(_, e)| d < e) {
                best = Some((v, d));
            }
        }
    }
    best.map(|(v, _)| v)
}

/// Bilinear sample of a grey image (clamped at the borders).
fn bilinear(g: &Grey, (x, y): Pt) -> f64 {
    let fx = (x - 0.5).clamp(0.0, (g.w - 1) as f64);
    let fy = (y - 0.5).clamp(0.0, (g.h - 1) as f64);
    let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(g.w - 1), (y0 + 1).min(g.h - 1));
    let (ax, ay) = (fx - x0 as f64, fy - y0 as f64);
    let p = |xx: usize, yy: usize| f64::from(g.data[yy * g.w + xx]);
    let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
    let bottom = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
    top * (1.0 - ay) + bottom * ay
}

/// Detect and decode QR codes in a grey image: finder and alignment patterns
/// on its adaptive threshold (`bits`, true = dark), modules sampled from the
/// grey image (bilinear) against its local mean (`mean`).
pub fn decode(g: &Grey, mean: &Grey, bits: &[bool]) -> Vec<String> {
    if mean.w != g.w || mean.h != g.h || mean.data.len() != g.w * g.h || bits.len() != g.w * g.h {
        return Vec::new();
    }
    let b = Bits { w: g.w, h: g.h, src: Src::Bitmap(bits) };
    decode_with(g, &b, |p| bilinear(g, p) < bilinear(mean, p))
}

/// [`decode`] over block thresholds ([`BlockThreshold`]: the reader's fast
/// first pass), binarising only the pixels looked at (modules are light on
/// dark when `thr.invert`).
pub fn decode_blocks(g: &Grey, thr: &BlockThreshold) -> Vec<String> {
    if thr.w != g.w || thr.h != g.h || g.data.len() != g.w * g.h {
        return Vec::new();
    }
    let b = Bits { w: g.w, h: g.h, src: Src::Blocks(&g.data, thr) };
    decode_with(g, &b, |p| {
        let (v, t) = (bilinear(g, p), thr.at(p.0, p.1));
        if thr.invert { v > t } else { v < t }
    })
}

fn decode_with(g: &Grey, b: &Bits<'_>, module: impl Fn(Pt) -> bool) -> Vec<String> {
    let mut texts = Vec::new();
    if g.data.len() != g.w * g.h || g.w < 21 || g.h < 21 {
        return texts;
    }
    let mut finders = find_finders(b);
    // Every code in view: after a code decodes, its finders are dropped and
    // the rest searched again (at once done when fewer than three remain).
    while finders.len() >= 3 {
        let mut used = None;
        for (tl, tr, bl, _) in triples(&finders) {
            if let Some(t) = decode_triple(b, &module, tl, tr, bl) {
                if !texts.contains(&t) {
                    texts.push(t);
                }
                used = Some([tl, tr, bl]);
                break;
            }
        }
        let Some(used) = used else { break };
        finders.retain(|f| !used.iter().any(|u| u.x == f.x && u.y == f.y));
    }
    texts
}

fn decode_triple(
    b: &Bits<'_>,
    module_at: &impl Fn(Pt) -> bool,
    tl: Finder,
    tr: Finder,
    bl: Finder,
) -> Option<String> {
    let (ptl, ptr, pbl) = ((tl.x, tl.y), (tr.x, tr.y), (bl.x, bl.y));
    let d1 = dist(ptl, ptr) / ((tl.module + tr.module) / 2.0);
    let d2 = dist(ptl, pbl) / ((tl.module + bl.module) / 2.0);
    let estimate = (d1 + d2) / 2.0 + 7.0;
    let base = (((estimate - 17.0) / 4.0).round() * 4.0 + 17.0) as i64;
    let mut dims: Vec<i64> = [0i64, 4, -4, 8, -8, 12, -12].iter().map(|d| base + d).collect();
    // The version information (version 7 and up) names the size: read it
    // through the three finders alone and try that size first.
    if (41..=181).contains(&base) {
        let n = base as f64;
        let fourth = (ptr.0 + pbl.0 - ptl.0, ptr.1 + pbl.1 - ptl.1);
        let src = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 3.5, n - 3.5)];
        if let Some(hm) = homography(src, [ptl, ptr, pbl, fourth])
            && let Some(v) = read_version(&hm, base as usize, module_at)
        {
            let dim = i64::from(v) * 4 + 17;
            dims.retain(|&d| d != dim);
            dims.insert(0, dim);
        }
    }
    let sample = |hm: &[f64; 8], size: usize| -> Option<String> {
        let at = |x: usize, y: usize| apply(hm, (x as f64 + 0.5, y as f64 + 0.5));
        // Bilinear samples against the threshold first, then the
        // binarised image's nearest pixel. A wrong size, corner or a false
        // finder shows in the timing patterns: rqrr's Reed-Solomon decoder
        // (most of a decode's cost) is skipped for those.
        if timing_agreement(size, |x, y| module_at(at(x, y))) >= MIN_TIMING {
            let grid = rqrr::SimpleGrid::from_func(size, |x, y| module_at(at(x, y)));
            if let Some(text) = super::fastdecode::decode_text(grid) {
                return Some(text);
            }
        }
        let nearest = |x: usize, y: usize| {
            let (px, py) = at(x, y);
            b.at(px.floor() as i64, py.floor() as i64)
        };
        if timing_agreement(size, nearest) >= MIN_TIMING {
            let grid = rqrr::SimpleGrid::from_func(size, nearest);
            if let Some(text) = super::fastdecode::decode_text(grid) {
                return Some(text);
            }
        }
        None
    };
    let mut wide = Vec::new();
    for &dim in &dims {
        if !(21..=177).contains(&dim) {
            continue;
        }
        let n = dim as f64;
        let size = dim as usize;
        let span = n - 7.0;
        let ex = ((ptr.0 - ptl.0) / span, (ptr.1 - ptl.1) / span);
        let ey = ((pbl.0 - ptl.0) / span, (pbl.1 - ptl.1) / span);
        let module = (ex.0.hypot(ex.1) + ey.0.hypot(ey.1)) / 2.0;
        let with_alignment = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 6.5, n - 6.5)];
        if dim >= 25 {
            // The bottom-right alignment pattern, near where the three
            // finders put it (a parallelogram).
            let f = (n - 10.0) / span;
            let guess = (
                ptl.0 + (ptr.0 - ptl.0) * f + (pbl.0 - ptl.0) * f,
                ptl.1 + (ptr.1 - ptl.1) * f + (pbl.1 - ptl.1) * f,
            );
            let offsets = alignment_offsets(ex, ey);
            if let Some((ap, _)) = search_alignment(b, guess, &offsets, module * 4.0)
                && let Some(hm) = homography(with_alignment, [ptl, ptr, pbl, ap])
                && let Some(t) = sample(&hm, size)
            {
                return Some(t);
            }
            if wide.len() < 2 {
                wide.push((size, guess, offsets, (span * module * 0.25).max(module * 4.0)));
            }
        }
        let parallelogram = (ptr.0 + pbl.0 - ptl.0, ptr.1 + pbl.1 - ptl.1);
        let src = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 3.5, n - 3.5)];
        if let Some(hm) = homography(src, [ptl, ptr, pbl, parallelogram])
            && let Some(t) = sample(&hm, size)
        {
            return Some(t);
        }
    }
    // Strong perspective: the alignment pattern further from the guess
    // (for the two likeliest sizes only: this search is the costly one).
    for (size, guess, offsets, radius) in wide {
        let n = size as f64;
        let with_alignment = [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 6.5, n - 6.5)];
        if let Some((ap, _)) = search_alignment(b, guess, &offsets, radius)
            && let Some(hm) = homography(with_alignment, [ptl, ptr, pbl, ap])
            && let Some(t) = sample(&hm, size)
        {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_codes_match_the_standard() {
        // ISO/IEC 18004 annex D: version 7 is 0x07C94, version 40 0x28C69.
        assert_eq!(version_code(7), 0x07C94);
        assert_eq!(version_code(17), 0x1145D);
        assert_eq!(version_code(40), 0x28C69);
    }

    #[test]
    fn the_version_is_read_from_an_encoded_grid_with_errors() {
        for text in ["A".repeat(200), "B".repeat(560), "C".repeat(1200)] {
            let code =
                qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L).unwrap();
            let n = code.width();
            let colors = code.to_colors();
            let version = (n as u32 - 17) / 4;
            assert!(version >= 7);
            // The identity homography: module (x, y) at pixel (x, y).
            let id = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
            let flip = |x: usize, y: usize| x == n - 10 && y < 2; // two errors in one copy
            let at = |p: Pt| {
                let (x, y) = (p.0.floor() as usize, p.1.floor() as usize);
                x < n && y < n && (colors[y * n + x] == qrcode::Color::Dark) ^ flip(x, y)
            };
            assert_eq!(read_version(&id, n, &at), Some(version));
        }
        // Below version 7 there is nothing to read.
        assert_eq!(read_version(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], 41, &|_| true), None);
    }

    #[test]
    fn timing_agreement_tells_a_right_grid_from_noise() {
        let right = timing_agreement(45, |x, y| if y == 6 { x % 2 == 0 } else { y % 2 == 0 });
        assert_eq!(right, 1.0);
        let noise = timing_agreement(45, |x, y| (x * 7 + y * 13) % 5 < 2);
        assert!(noise < MIN_TIMING);
        assert_eq!(timing_agreement(3, |_, _| true), 0.0);
    }

    #[test]
    fn decode_refuses_mismatched_sizes() {
        let g = Grey::new(30, 30, vec![0; 900]).unwrap();
        let small = Grey::new(10, 10, vec![0; 100]).unwrap();
        assert!(decode(&g, &small, &[false; 900]).is_empty());
        assert!(decode(&g, &g, &[false; 10]).is_empty());
        let thr = BlockThreshold::new(&small, false);
        assert!(decode_blocks(&g, &thr).is_empty());
    }
}
