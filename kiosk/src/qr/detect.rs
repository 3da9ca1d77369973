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

use super::prep::Grey;

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

struct Bits<'a> {
    w: usize,
    h: usize,
    bits: &'a [bool],
}

impl Bits<'_> {
    fn at(&self, x: i64, y: i64) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.w
            && (y as usize) < self.h
            && self.bits[y as usize * self.w + x as usize]
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
    for y in 0..b.h {
        let row = &b.bits[y * b.w..(y + 1) * b.w];
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
            let cy = y as f64 + vc - 0.5;
            let Some((hr, hc)) = b.cross(cx as i64, cy.round() as i64, 1, 0, total * 2) else { continue };
            let Some(hm) = ratio_ok(hr) else { continue };
            let cx = cx.floor() + hc - 0.5;
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

/// The bottom-right alignment pattern near `guess`: the centre of the
/// positions that best match its 5x5 modules (dark centre, light ring, dark
/// ring) along the local module axes `ex`, `ey`.
fn find_alignment(b: &Bits<'_>, guess: Pt, ex: Pt, ey: Pt, radius: f64) -> Option<Pt> {
    let r = radius.ceil() as i64;
    let (gx, gy) = (guess.0.round() as i64, guess.1.round() as i64);
    let mut best = 0;
    let mut sum = (0.0, 0.0, 0.0);
    for y in gy - r..=gy + r {
        for x in gx - r..=gx + r {
            let mut score = 0;
            for a in -2i64..=2 {
                for c in -2i64..=2 {
                    let want = a.abs().max(c.abs()) != 1;
                    let px = x as f64 + a as f64 * ex.0 + c as f64 * ey.0;
                    let py = y as f64 + a as f64 * ex.1 + c as f64 * ey.1;
                    if b.at(px.round() as i64, py.round() as i64) == want {
                        score += 1;
                    }
                }
            }
            if score > best {
                best = score;
                sum = (0.0, 0.0, 0.0);
            }
            if score == best {
                sum = (sum.0 + x as f64, sum.1 + y as f64, sum.2 + 1.0);
            }
        }
    }
    (best >= 21 && sum.2 > 0.0).then(|| (sum.0 / sum.2, sum.1 / sum.2))
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
    let (w, h) = (g.w, g.h);
    let mut texts = Vec::new();
    if bits.len() != w * h || g.data.len() != w * h || mean.data.len() != w * h || w < 21 || h < 21 {
        return texts;
    }
    let b = Bits { w, h, bits };
    let finders = find_finders(&b);
    for (tl, tr, bl, _) in triples(&finders) {
        if let Some(t) = decode_triple(&b, g, mean, tl, tr, bl)
            && !texts.contains(&t)
        {
            texts.push(t);
            break;
        }
    }
    texts
}

fn decode_triple(b: &Bits<'_>, g: &Grey, mean: &Grey, tl: Finder, tr: Finder, bl: Finder) -> Option<String> {
    let (ptl, ptr, pbl) = ((tl.x, tl.y), (tr.x, tr.y), (bl.x, bl.y));
    let d1 = dist(ptl, ptr) / ((tl.module + tr.module) / 2.0);
    let d2 = dist(ptl, pbl) / ((tl.module + bl.module) / 2.0);
    let estimate = (d1 + d2) / 2.0 + 7.0;
    let base = (((estimate - 17.0) / 4.0).round() * 4.0 + 17.0) as i64;
    for delta in [0i64, 4, -4, 8, -8, 12, -12] {
        let dim = base + delta;
        if !(21..=177).contains(&dim) {
            continue;
        }
        let n = dim as f64;
        let span = n - 7.0;
        let ex = ((ptr.0 - ptl.0) / span, (ptr.1 - ptl.1) / span);
        let ey = ((pbl.0 - ptl.0) / span, (pbl.1 - ptl.1) / span);
        let module = (ex.0.hypot(ex.1) + ey.0.hypot(ey.1)) / 2.0;
        let mut corners = None;
        if dim >= 25 {
            let f = (n - 10.0) / span;
            let guess = (
                ptl.0 + (ptr.0 - ptl.0) * f + (pbl.0 - ptl.0) * f,
                ptl.1 + (ptr.1 - ptl.1) * f + (pbl.1 - ptl.1) * f,
            );
            let radius = (module * 4.0).max(span * module * 0.25);
            if let Some(ap) = find_alignment(b, guess, ex, ey, radius) {
                corners = Some(([(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 6.5, n - 6.5)], ap));
            }
        }
        let (src, fourth) = corners.unwrap_or((
            [(3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5), (n - 3.5, n - 3.5)],
            (ptr.0 + pbl.0 - ptl.0, ptr.1 + pbl.1 - ptl.1),
        ));
        let Some(hm) = homography(src, [ptl, ptr, pbl, fourth]) else { continue };
        let size = dim as usize;
        // Bilinear samples against the local mean first, then the
        // threshold image's nearest pixel.
        let grey = rqrr::SimpleGrid::from_func(size, |x, y| {
            let p = apply(&hm, (x as f64 + 0.5, y as f64 + 0.5));
            bilinear(g, p) < bilinear(mean, p)
        });
        if let Ok((_, text)) = rqrr::Grid::new(grey).decode() {
            return Some(text);
        }
        let grid = rqrr::SimpleGrid::from_func(size, |x, y| {
            let (px, py) = apply(&hm, (x as f64 + 0.5, y as f64 + 0.5));
            b.at(px.floor() as i64, py.floor() as i64)
        });
        if let Ok((_, text)) = rqrr::Grid::new(grid).decode() {
            return Some(text);
        }
    }
    None
}
