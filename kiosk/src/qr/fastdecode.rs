//! A fast decoder for a sampled module grid: rqrr reads the format and the
//! codeword stream, the Reed-Solomon check and the segment parsing are ours
//! (rqrr's syndromes take a GF(256) power per term: milliseconds for a
//! version 17 code). A block with errors is corrected here too
//! (Berlekamp-Massey, Chien search, Forney); whatever this decoder does not
//! handle (Kanji, ECI, a failed correction) goes to rqrr's own decoder, so
//! the result is never worse than rqrr's.

use rqrr::BitGrid;

/// Error-correction codewords per block, by version (1-40) and level
/// (L, M, Q, H): ISO/IEC 18004 table 9 (as in the `qrcode` crate).
const EC_BYTES_PER_BLOCK: [[usize; 4]; 40] = [
    [7, 10, 13, 17],  // 1
    [10, 16, 22, 28], // 2
    [15, 26, 18, 22], // 3
    [20, 18, 26, 16], // 4
    [26, 24, 18, 22], // 5
    [18, 16, 24, 28], // 6
    [20, 18, 18, 26], // 7
    [24, 22, 22, 26], // 8
    [30, 22, 20, 24], // 9
    [18, 26, 24, 28], // 10
    [20, 30, 28, 24], // 11
    [24, 22, 26, 28], // 12
    [26, 22, 24, 22], // 13
    [30, 24, 20, 24], // 14
    [22, 24, 30, 24], // 15
    [24, 28, 24, 30], // 16
    [28, 28, 28, 28], // 17
    [30, 26, 28, 28], // 18
    [28, 26, 26, 26], // 19
    [28, 26, 30, 28], // 20
    [28, 26, 28, 30], // 21
    [28, 28, 30, 24], // 22
    [30, 28, 30, 30], // 23
    [30, 28, 30, 30], // 24
    [26, 28, 30, 30], // 25
    [28, 28, 28, 30], // 26
    [30, 28, 30, 30], // 27
    [30, 28, 30, 30], // 28
    [30, 28, 30, 30], // 29
    [30, 28, 30, 30], // 30
    [30, 28, 30, 30], // 31
    [30, 28, 30, 30], // 32
    [30, 28, 30, 30], // 33
    [30, 28, 30, 30], // 34
    [30, 28, 30, 30], // 35
    [30, 28, 30, 30], // 36
    [30, 28, 30, 30], // 37
    [30, 28, 30, 30], // 38
    [30, 28, 30, 30], // 39
    [30, 28, 30, 30], // 40
];

/// Data codewords per block: (short block size, count, long block size,
/// count) by version and level (L, M, Q, H).
const DATA_BYTES_PER_BLOCK: [[(usize, usize, usize, usize); 4]; 40] = [
    [(19, 1, 0, 0), (16, 1, 0, 0), (13, 1, 0, 0), (9, 1, 0, 0)], // 1
    [(34, 1, 0, 0), (28, 1, 0, 0), (22, 1, 0, 0), (16, 1, 0, 0)], // 2
    [(55, 1, 0, 0), (44, 1, 0, 0), (17, 2, 0, 0), (13, 2, 0, 0)], // 3
    [(80, 1, 0, 0), (32, 2, 0, 0), (24, 2, 0, 0), (9, 4, 0, 0)], // 4
    [(108, 1, 0, 0), (43, 2, 0, 0), (15, 2, 16, 2), (11, 2, 12, 2)], // 5
    [(68, 2, 0, 0), (27, 4, 0, 0), (19, 4, 0, 0), (15, 4, 0, 0)], // 6
    [(78, 2, 0, 0), (31, 4, 0, 0), (14, 2, 15, 4), (13, 4, 14, 1)], // 7
    [(97, 2, 0, 0), (38, 2, 39, 2), (18, 4, 19, 2), (14, 4, 15, 2)], // 8
    [(116, 2, 0, 0), (36, 3, 37, 2), (16, 4, 17, 4), (12, 4, 13, 4)], // 9
    [(68, 2, 69, 2), (43, 4, 44, 1), (19, 6, 20, 2), (15, 6, 16, 2)], // 10
    [(81, 4, 0, 0), (50, 1, 51, 4), (22, 4, 23, 4), (12, 3, 13, 8)], // 11
    [(92, 2, 93, 2), (36, 6, 37, 2), (20, 4, 21, 6), (14, 7, 15, 4)], // 12
    [(107, 4, 0, 0), (37, 8, 38, 1), (20, 8, 21, 4), (11, 12, 12, 4)], // 13
    [(115, 3, 116, 1), (40, 4, 41, 5), (16, 11, 17, 5), (12, 11, 13, 5)], // 14
    [(87, 5, 88, 1), (41, 5, 42, 5), (24, 5, 25, 7), (12, 11, 13, 7)], // 15
    [(98, 5, 99, 1), (45, 7, 46, 3), (19, 15, 20, 2), (15, 3, 16, 13)], // 16
    [(107, 1, 108, 5), (46, 10, 47, 1), (22, 1, 23, 15), (14, 2, 15, 17)], // 17
    [(120, 5, 121, 1), (43, 9, 44, 4), (22, 17, 23, 1), (14, 2, 15, 19)], // 18
    [(113, 3, 114, 4), (44, 3, 45, 11), (21, 17, 22, 4), (13, 9, 14, 16)], // 19
    [(107, 3, 108, 5), (41, 3, 42, 13), (24, 15, 25, 5), (15, 15, 16, 10)], // 20
    [(116, 4, 117, 4), (42, 17, 0, 0), (22, 17, 23, 6), (16, 19, 17, 6)], // 21
    [(111, 2, 112, 7), (46, 17, 0, 0), (24, 7, 25, 16), (13, 34, 0, 0)], // 22
    [(121, 4, 122, 5), (47, 4, 48, 14), (24, 11, 25, 14), (15, 16, 16, 14)], // 23
    [(117, 6, 118, 4), (45, 6, 46, 14), (24, 11, 25, 16), (16, 30, 17, 2)], // 24
    [(106, 8, 107, 4), (47, 8, 48, 13), (24, 7, 25, 22), (15, 22, 16, 13)], // 25
    [(114, 10, 115, 2), (46, 19, 47, 4), (22, 28, 23, 6), (16, 33, 17, 4)], // 26
    [(122, 8, 123, 4), (45, 22, 46, 3), (23, 8, 24, 26), (15, 12, 16, 28)], // 27
    [(117, 3, 118, 10), (45, 3, 46, 23), (24, 4, 25, 31), (15, 11, 16, 31)], // 28
    [(116, 7, 117, 7), (45, 21, 46, 7), (23, 1, 24, 37), (15, 19, 16, 26)], // 29
    [(115, 5, 116, 10), (47, 19, 48, 10), (24, 15, 25, 25), (15, 23, 16, 25)], // 30
    [(115, 13, 116, 3), (46, 2, 47, 29), (24, 42, 25, 1), (15, 23, 16, 28)], // 31
    [(115, 17, 0, 0), (46, 10, 47, 23), (24, 10, 25, 35), (15, 19, 16, 35)], // 32
    [(115, 17, 116, 1), (46, 14, 47, 21), (24, 29, 25, 19), (15, 11, 16, 46)], // 33
    [(115, 13, 116, 6), (46, 14, 47, 23), (24, 44, 25, 7), (16, 59, 17, 1)], // 34
    [(121, 12, 122, 7), (47, 12, 48, 26), (24, 39, 25, 14), (15, 22, 16, 41)], // 35
    [(121, 6, 122, 14), (47, 6, 48, 34), (24, 46, 25, 10), (15, 2, 16, 64)], // 36
    [(122, 17, 123, 4), (46, 29, 47, 14), (24, 49, 25, 10), (15, 24, 16, 46)], // 37
    [(122, 4, 123, 18), (46, 13, 47, 32), (24, 48, 25, 14), (15, 42, 16, 32)], // 38
    [(117, 20, 118, 4), (47, 40, 48, 7), (24, 43, 25, 22), (15, 10, 16, 67)], // 39
    [(118, 19, 119, 6), (47, 18, 48, 31), (24, 34, 25, 34), (15, 20, 16, 61)], // 40
];

/// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1: exp and log.
struct Gf {
    exp: [u8; 512],
    log: [u8; 256],
}

const GF: Gf = {
    let mut exp = [0u8; 512];
    let mut log = [0u8; 256];
    let mut x: u32 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11d;
        }
        i += 1;
    }
    while i < 512 {
        exp[i] = exp[i - 255];
        i += 1;
    }
    Gf { exp, log }
};

fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 { 0 } else { GF.exp[GF.log[a as usize] as usize + GF.log[b as usize] as usize] }
}

fn div(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 { 0 } else { GF.exp[GF.log[a as usize] as usize + 255 - GF.log[b as usize] as usize] }
}

/// alpha^i.
fn pow_a(i: usize) -> u8 {
    GF.exp[i % 255]
}

/// Evaluate a polynomial given lowest degree first.
fn eval_low(p: &[u8], x: u8) -> u8 {
    p.iter().rev().fold(0u8, |acc, &c| mul(acc, x) ^ c)
}

/// Correct one Reed-Solomon block in place (codewords highest degree first,
/// `npar` parity codewords, roots alpha^0 .. alpha^(npar-1)). False when it
/// holds more errors than the code corrects.
pub(crate) fn rs_correct(block: &mut [u8], npar: usize) -> bool {
    let n = block.len();
    if npar == 0 || npar >= n || n > 255 {
        return npar == 0;
    }
    let syndromes = |block: &[u8]| -> Vec<u8> {
        (0..npar)
            .map(|i| {
                let x = pow_a(i);
                block.iter().fold(0u8, |acc, &c| mul(acc, x) ^ c)
            })
            .collect()
    };
    let s = syndromes(block);
    if s.iter().all(|&v| v == 0) {
        return true;
    }
    // Berlekamp-Massey: the error locator C (lowest degree first).
    let mut c = vec![0u8; npar + 1];
    let mut b = vec![0u8; npar + 1];
    c[0] = 1;
    b[0] = 1;
    let (mut l, mut m, mut bb) = (0usize, 1usize, 1u8);
    for k in 0..npar {
        let mut d = s[k];
        for i in 1..=l {
            d ^= mul(c[i], s[k - i]);
        }
        if d == 0 {
            m += 1;
            continue;
        }
        let coef = div(d, bb);
        let t = c.clone();
        for i in 0..=npar - m.min(npar) {
            if i + m <= npar {
                c[i + m] ^= mul(coef, b[i]);
            }
        }
        if 2 * l <= k {
            l = k + 1 - l;
            b = t;
            bb = d;
            m = 1;
        } else {
            m += 1;
        }
    }
    if 2 * l > npar {
        return false;
    }
    let c = &c[..=l];
    // Omega = S * C mod x^npar.
    let mut omega = vec![0u8; npar];
    for (i, &ci) in c.iter().enumerate() {
        for (j, &sj) in s.iter().enumerate() {
            if i + j < npar {
                omega[i + j] ^= mul(ci, sj);
            }
        }
    }
    // Formal derivative of C.
    let deriv: Vec<u8> = (1..c.len()).map(|i| if i % 2 == 1 { c[i] } else { 0 }).collect();
    let mut found = 0;
    #[allow(clippy::needless_range_loop)] // k is the codeword's position, not just an index
    for k in 0..n {
        // Position k holds the coefficient of x^(n-1-k): locator X = alpha^(n-1-k).
        let deg = n - 1 - k;
        let x_inv = pow_a(255 - deg % 255);
        if eval_low(c, x_inv) != 0 {
            continue;
        }
        let denom = eval_low(&deriv, x_inv);
        if denom == 0 {
            return false;
        }
        let magnitude = mul(pow_a(deg), div(eval_low(&omega, x_inv), denom));
        block[k] ^= magnitude;
        found += 1;
    }
    found == l && syndromes(block).iter().all(|&v| v == 0)
}

/// What decoding a grid gave.
pub(crate) enum Fast {
    Text(String),
    /// Not a QR code (format or Reed-Solomon failed).
    Fail,
    /// Something this decoder leaves to rqrr (Kanji, ECI, other modes).
    Rqrr,
}

#[allow(clippy::manual_is_multiple_of)] // the mask formulas as ISO/IEC 18004 writes them
fn mask_bit(mask: u16, y: usize, x: usize) -> bool {
    match mask {
        0 => (y + x) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (y + x) % 3 == 0,
        4 => ((y / 2) + (x / 3)) % 2 == 0,
        5 => (y * x) % 2 + (y * x) % 3 == 0,
        6 => ((y * x) % 2 + (y * x) % 3) % 2 == 0,
        _ => ((y * x) % 3 + (y + x) % 2) % 2 == 0,
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Option<u32> {
        if n > self.left() || n > 32 {
            return None;
        }
        let mut v = 0u32;
        for _ in 0..n {
            let bit = (self.data[self.pos / 8] >> (7 - self.pos % 8)) & 1;
            v = (v << 1) | u32::from(bit);
            self.pos += 1;
        }
        Some(v)
    }
}

const ALNUM: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Numeric, alphanumeric and byte segments; `None` for anything else.
fn parse(data: &[u8], version: usize) -> Option<Result<String, ()>> {
    let class = if version <= 9 {
        0
    } else if version <= 26 {
        1
    } else {
        2
    };
    let mut r = BitReader { data, pos: 0 };
    let mut out: Vec<u8> = Vec::new();
    loop {
        if r.left() < 4 {
            break;
        }
        let mode = r.take(4)?;
        match mode {
            0 => break,
            1 => {
                let Some(mut count) = r.take([10, 12, 14][class]) else { return Some(Err(())) };
                while count >= 3 {
                    let Some(v) = r.take(10).filter(|v| *v < 1000) else { return Some(Err(())) };
                    out.extend(format!("{v:03}").bytes());
                    count -= 3;
                }
                if count > 0 {
                    let bits = if count == 2 { 7 } else { 4 };
                    let Some(v) = r.take(bits) else { return Some(Err(())) };
                    if (count == 2 && v >= 100) || (count == 1 && v >= 10) {
                        return Some(Err(()));
                    }
                    out.extend(format!("{v:0width$}", width = count as usize).bytes());
                }
            }
            2 => {
                let Some(mut count) = r.take([9, 11, 13][class]) else { return Some(Err(())) };
                while count >= 2 {
                    let Some(v) = r.take(11).filter(|v| *v < 45 * 45) else { return Some(Err(())) };
                    out.push(ALNUM[(v / 45) as usize]);
                    out.push(ALNUM[(v % 45) as usize]);
                    count -= 2;
                }
                if count == 1 {
                    let Some(v) = r.take(6).filter(|v| *v < 45) else { return Some(Err(())) };
                    out.push(ALNUM[v as usize]);
                }
            }
            4 => {
                let Some(count) = r.take([8, 16, 16][class]) else { return Some(Err(())) };
                for _ in 0..count {
                    let Some(v) = r.take(8) else { return Some(Err(())) };
                    out.push(v as u8);
                }
            }
            _ => return None,
        }
    }
    Some(String::from_utf8(out).map_err(|_| ()))
}

/// Decode a sampled grid (true = dark).
pub(crate) fn decode(grid: &rqrr::SimpleGrid) -> Fast {
    let size = grid.size();
    if !(21..=177).contains(&size) || !(size - 17).is_multiple_of(4) {
        return Fast::Fail;
    }
    let version = (size - 17) / 4;
    let Ok((meta, _)) = rqrr::Grid::new(grid.clone()).get_raw_data() else { return Fast::Fail };
    if meta.version.0 != version {
        return Fast::Fail;
    }
    // rqrr reads the stream without unmasking it: hand it the grid with the
    // mask taken off every cell but the format information.
    let format_cell =
        |y: usize, x: usize| (y == 8 && (x <= 8 || x >= size - 8)) || (x == 8 && (y <= 8 || y >= size - 8));
    let unmasked = rqrr::SimpleGrid::from_func(size, |x, y| {
        grid.bit(y, x) ^ (!format_cell(y, x) && mask_bit(meta.mask, y, x))
    });
    let Ok((_, raw)) = rqrr::Grid::new(unmasked).get_raw_data() else { return Fast::Fail };
    // rqrr's ECC levels follow the format bits (M, L, H, Q); the tables L, M, Q, H.
    let level = [1, 0, 3, 2][usize::from(meta.ecc_level & 3)];
    let (short, n_short, long, n_long) = DATA_BYTES_PER_BLOCK[version - 1][level];
    let ecb = EC_BYTES_PER_BLOCK[version - 1][level];
    let blocks = n_short + n_long;
    let total = short * n_short + long * n_long + ecb * blocks;
    if raw.len / 8 < total || blocks == 0 {
        return Fast::Fail;
    }
    let stream = &raw.data[..total];
    let dw = |i: usize| if i < n_short { short } else { long };
    let mut block_data: Vec<Vec<u8>> = (0..blocks).map(|i| Vec::with_capacity(dw(i) + ecb)).collect();
    let mut k = 0;
    for j in 0..long.max(short) {
        for (i, b) in block_data.iter_mut().enumerate() {
            if j < dw(i) {
                b.push(stream[k]);
                k += 1;
            }
        }
    }
    for _ in 0..ecb {
        for b in block_data.iter_mut() {
            b.push(stream[k]);
            k += 1;
        }
    }
    let mut data = Vec::with_capacity(short * n_short + long * n_long);
    for (i, b) in block_data.iter_mut().enumerate() {
        if !rs_correct(b, ecb) {
            return Fast::Fail;
        }
        data.extend_from_slice(&b[..dw(i)]);
    }
    match parse(&data, version) {
        Some(Ok(text)) => Fast::Text(text),
        Some(Err(())) => Fast::Fail,
        None => Fast::Rqrr,
    }
}

/// Decode with ours, falling back on rqrr's decoder for what ours leaves.
pub(crate) fn decode_text(grid: rqrr::SimpleGrid) -> Option<String> {
    match decode(&grid) {
        Fast::Text(t) => Some(t),
        Fast::Fail => None,
        Fast::Rqrr => rqrr::Grid::new(grid).decode().ok().map(|(_, t)| t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_of(text: &str, level: qrcode::EcLevel) -> rqrr::SimpleGrid {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level).unwrap();
        let w = code.width();
        let colors = code.to_colors();
        rqrr::SimpleGrid::from_func(w, |x, y| colors[y * w + x] == qrcode::Color::Dark)
    }

    #[test]
    fn decodes_what_the_encoder_made_at_every_level() {
        let texts = [
            "C5360:HELLO WORLD 123".to_string(),
            "0123456789".repeat(20),
            "mixed text, lower case and UTF-8: \u{65e5}\u{672c}".to_string(),
            "C5360:".to_string() + &"ABC$%*+-./: 9".repeat(40),
        ];
        for text in &texts {
            for level in [qrcode::EcLevel::L, qrcode::EcLevel::M, qrcode::EcLevel::Q, qrcode::EcLevel::H] {
                let g = grid_of(text, level);
                let ours = decode_text(g.clone());
                let theirs = rqrr::Grid::new(g).decode().ok().map(|(_, t)| t);
                assert_eq!(ours.as_deref(), Some(text.as_str()), "{level:?}");
                assert_eq!(ours, theirs);
            }
        }
    }

    #[test]
    fn corrects_errors_up_to_the_limit_and_refuses_beyond() {
        // Version 17-M-sized text; flip modules in the data area.
        let text = "C5360:".to_string() + &"FM8WD0K A%KP/J0H20K.098GEM3B20F".repeat(20);
        let g = grid_of(&text, qrcode::EcLevel::M);
        let size = g.size();
        let flipped = |step: usize| {
            rqrr::SimpleGrid::from_func(size, |x, y| {
                let i = y * size + x;
                // Scattered flips away from the function patterns.
                let hit = x > 10 && y > 10 && x < size - 10 && i.is_multiple_of(step);
                g.bit(y, x) ^ hit
            })
        };
        assert_eq!(decode_text(flipped(97)).as_deref(), Some(text.as_str()));
        assert_eq!(decode_text(flipped(3)), None);
    }

    #[test]
    fn rs_correct_fixes_a_corrupted_block() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let ec = qrcode::ec::create_error_correction_code(&data, 18);
        let mut block: Vec<u8> = data.iter().chain(&ec).copied().collect();
        let good = block.clone();
        for (k, v) in
            [(0usize, 1u8), (5, 200), (17, 3), (30, 77), (45, 9), (57, 255), (12, 8), (22, 100), (39, 1)]
        {
            block[k] ^= v;
        }
        assert!(rs_correct(&mut block, 18));
        assert_eq!(block, good);
        let mut too_many = good.clone();
        for k in 0..20 {
            too_many[k * 2] ^= 0x5a;
        }
        assert!(!rs_correct(&mut too_many, 18) || too_many != good);
    }

    #[test]
    fn never_panics_on_arbitrary_grids() {
        for size in [0usize, 1, 20, 21, 22, 25, 45, 177, 181] {
            for seed in 0..4u64 {
                let g = rqrr::SimpleGrid::from_func(size, |x, y| {
                    ((x as u64 * 31 + y as u64 * 17 + seed * 7) * 2654435761) >> 7 & 1 == 1
                });
                let _ = decode_text(g);
            }
        }
    }
}
