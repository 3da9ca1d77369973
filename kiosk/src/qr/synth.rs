//! Synthetic camera frames of a phone screen showing a QR code (feature
//! `sim`): what the QR scanner of a kiosk sees when a passenger holds a phone
//! up to it. Used by the reader's tests, the frame generator
//! (`examples/qr_frames.rs`) and the benchmark.
//!
//! The phone is a flat rectangle in 3-D (bezel, screen, a header bar, the QR
//! code on its card, a few lines of text) seen through a pinhole camera: each
//! output pixel is traced back to the phone's plane (2x2 supersampling), so
//! tilt gives a true perspective. Then the image degrades like a camera
//! frame: optical blur, glare (a specular highlight on the glass), moire (the
//! screen's pixel grid beating with the sensor's), low screen contrast, a
//! dark-mode screen (light modules on dark), sensor noise.
//!
//! Deterministic: the same text, condition, size and seed give the same frame.

use image::RgbImage;

/// What is wrong with the frame (besides a little blur, noise and a tilt of
/// up to 12 degrees that every frame has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    Clean,
    /// The phone tilted by 20 to 30 degrees.
    Perspective,
    /// Out of focus.
    Blur,
    /// A bright highlight over part of the code.
    Glare,
    /// A dim screen: modules and background close in brightness.
    LowContrast,
    /// Interference stripes from the screen's pixel grid.
    Moire,
    /// Light modules on a dark screen.
    DarkMode,
}

impl Condition {
    pub const ALL: [Condition; 7] = [
        Condition::Clean,
        Condition::Perspective,
        Condition::Blur,
        Condition::Glare,
        Condition::LowContrast,
        Condition::Moire,
        Condition::DarkMode,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Condition::Clean => "clean",
            Condition::Perspective => "perspective",
            Condition::Blur => "blur",
            Condition::Glare => "glare",
            Condition::LowContrast => "low_contrast",
            Condition::Moire => "moire",
            Condition::DarkMode => "dark_mode",
        }
    }

    pub fn from_name(name: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A small deterministic generator (SplitMix64); not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
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
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn sign(&mut self) -> f64 {
        if self.next_u64() & 1 == 0 { 1.0 } else { -1.0 }
    }
}

/// The parameters a frame was made with (recorded in the manifest).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameParams {
    pub condition: Condition,
    pub width: u32,
    pub height: u32,
    /// Angle between the phone's normal and the camera axis, degrees.
    pub tilt_deg: f64,
    /// Rotation of the phone in its own plane, degrees.
    pub roll_deg: f64,
    /// Height of the QR code (with its quiet zone) in the frame, as a
    /// fraction of the frame height, before perspective.
    pub qr_fraction: f64,
    /// Gaussian blur sigma in pixels.
    pub blur_sigma: f64,
    pub noise_sigma: f64,
}

/// A QR module matrix (true = dark), without quiet zone.
pub struct Modules {
    pub size: usize,
    pub dark: Vec<bool>,
}

impl Modules {
    /// Encode `text` at error correction level M, as the declaration app does.
    pub fn encode(text: &str) -> Result<Modules, String> {
        let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| e.to_string())?;
        let size = code.width();
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        Ok(Modules { size, dark })
    }

    fn is_dark(&self, x: i64, y: i64) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.size
            && (y as usize) < self.size
            && self.dark[y as usize * self.size + x as usize]
    }
}

/// Screen colours for the phone's content.
struct Palette {
    bezel: [f64; 3],
    screen: [f64; 3],
    card: [f64; 3],
    module: [f64; 3],
    header: [f64; 3],
    text: [f64; 3],
}

impl Palette {
    fn new(condition: Condition, rng: &mut Rng) -> Palette {
        let bezel = [22.0, 22.0, 26.0];
        match condition {
            Condition::DarkMode => Palette {
                bezel,
                screen: [18.0, 18.0, 20.0],
                card: [24.0, 24.0, 26.0],
                module: [rng.range(200.0, 235.0), rng.range(200.0, 235.0), rng.range(200.0, 235.0)],
                header: [40.0, 50.0, 90.0],
                text: [150.0, 150.0, 150.0],
            },
            Condition::LowContrast => {
                // A dim, washed-out screen: contrast ratio about 1.4 to 1.7.
                let light = rng.range(150.0, 175.0);
                let dark = light / rng.range(1.4, 1.7);
                Palette {
                    bezel: [60.0, 60.0, 64.0],
                    screen: [light, light, light],
                    card: [light, light, light],
                    module: [dark, dark, dark],
                    header: [light * 0.8, light * 0.85, light * 0.95],
                    text: [light * 0.8; 3],
                }
            }
            _ => {
                let light = rng.range(215.0, 245.0);
                Palette {
                    bezel,
                    screen: [light * 0.96, light * 0.97, light],
                    card: [light, light, light],
                    module: [rng.range(10.0, 35.0); 3],
                    header: [30.0, 70.0, 160.0],
                    text: [110.0, 110.0, 115.0],
                }
            }
        }
    }
}

/// The phone: coordinates in its own plane, in module units of the QR code,
/// origin at the centre of the phone, y down.
struct Phone<'a> {
    modules: &'a Modules,
    half_w: f64,
    half_h: f64,
    bezel: f64,
    corner: f64,
    /// Top-left of the QR code's first module.
    qr_x: f64,
    qr_y: f64,
    palette: Palette,
}

impl<'a> Phone<'a> {
    fn new(modules: &'a Modules, palette: Palette) -> Phone<'a> {
        let qr = modules.size as f64 + 8.0; // with a 4-module quiet zone
        // The code takes 80 % of the screen's width; the phone is 1:2.
        let screen_w = qr / 0.8;
        let bezel = screen_w * 0.04;
        let half_w = screen_w / 2.0 + bezel;
        let half_h = half_w * 2.0;
        Phone {
            modules,
            half_w,
            half_h,
            bezel,
            corner: half_w * 0.18,
            qr_x: -(modules.size as f64) / 2.0,
            qr_y: -half_h * 0.15 - modules.size as f64 / 2.0,
            palette,
        }
    }

    /// Colour at a point of the phone's plane and whether it is on the screen
    /// (glass), or `None` off the phone.
    fn colour(&self, u: f64, v: f64) -> Option<([f64; 3], bool)> {
        let (au, av) = (u.abs(), v.abs());
        if au > self.half_w || av > self.half_h {
            return None;
        }
        // Rounded corners.
        let (cu, cv) = (au - (self.half_w - self.corner), av - (self.half_h - self.corner));
        if cu > 0.0 && cv > 0.0 && cu * cu + cv * cv > self.corner * self.corner {
            return None;
        }
        let p = &self.palette;
        if au > self.half_w - self.bezel || av > self.half_h - self.bezel * 2.0 {
            return Some((p.bezel, false));
        }
        let mx = u - self.qr_x;
        let my = v - self.qr_y;
        let n = self.modules.size as f64;
        if (-4.0..n + 4.0).contains(&mx) && (-4.0..n + 4.0).contains(&my) {
            let dark = self.modules.is_dark(mx.floor() as i64, my.floor() as i64);
            return Some((if dark { p.module } else { p.card }, true));
        }
        let top = -self.half_h + self.bezel * 2.0;
        // Header bar.
        if v < top + self.half_h * 0.12 {
            return Some((p.header, true));
        }
        // Text lines under the code.
        let below = v - (self.qr_y + n + 4.0);
        if below > 2.0 {
            let line = below / 3.0;
            let frac = line.fract();
            let width = self.half_w * (0.5 + 0.4 * ((line.floor() * 7.3).sin() * 0.5 + 0.5));
            if frac < 0.45 && u > -self.half_w + self.bezel * 3.0 && u < -self.half_w + width * 1.6 {
                return Some((p.text, true));
            }
        }
        Some((p.screen, true))
    }
}

/// A float RGB frame with a mask of where the phone's screen is.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[f64; 3]>,
    screen: Vec<bool>,
}

impl Canvas {
    fn to_rgb(&self) -> RgbImage {
        let mut out = RgbImage::new(self.w as u32, self.h as u32);
        for (o, p) in out.pixels_mut().zip(&self.px) {
            o.0 = [0, 1, 2].map(|c| p[c].round().clamp(0.0, 255.0) as u8);
        }
        out
    }

    fn gaussian_blur(&mut self, sigma: f64) {
        if sigma <= 0.05 || self.w == 0 || self.h == 0 {
            return;
        }
        let r = (sigma * 3.0).ceil() as i64;
        let kernel: Vec<f64> = (-r..=r).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
        let sum: f64 = kernel.iter().sum();
        let kernel: Vec<f64> = kernel.iter().map(|k| k / sum).collect();
        let (w, h) = (self.w as i64, self.h as i64);
        let mut tmp = vec![[0.0; 3]; self.px.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0; 3];
                for (k, kv) in kernel.iter().enumerate() {
                    let sx = (x + k as i64 - r).clamp(0, w - 1);
                    let s = self.px[(y * w + sx) as usize];
                    for c in 0..3 {
                        acc[c] += s[c] * kv;
                    }
                }
                tmp[(y * w + x) as usize] = acc;
            }
        }
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0; 3];
                for (k, kv) in kernel.iter().enumerate() {
                    let sy = (y + k as i64 - r).clamp(0, h - 1);
                    let s = tmp[(sy * w + x) as usize];
                    for c in 0..3 {
                        acc[c] += s[c] * kv;
                    }
                }
                self.px[(y * w + x) as usize] = acc;
            }
        }
    }
}

fn rotation(pitch: f64, yaw: f64, roll: f64) -> [[f64; 3]; 3] {
    let (sp, cp) = pitch.sin_cos();
    let (sy, cy) = yaw.sin_cos();
    let (sr, cr) = roll.sin_cos();
    let rx = [[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]];
    let ry = [[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]];
    let rz = [[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]];
    mul(&mul(&ry, &rx), &rz)
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut o = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            o[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    o
}

/// Render a camera frame of a phone showing a QR code of `text`.
pub fn render_frame(
    text: &str,
    condition: Condition,
    width: u32,
    height: u32,
    seed: u64,
) -> Result<(RgbImage, FrameParams), String> {
    let modules = Modules::encode(text)?;
    Ok(render_modules(&modules, condition, width, height, seed))
}

/// [`render_frame`] from an encoded code.
pub fn render_modules(
    modules: &Modules,
    condition: Condition,
    width: u32,
    height: u32,
    seed: u64,
) -> (RgbImage, FrameParams) {
    let mut rng = Rng::new(seed ^ (condition as u64).wrapping_mul(0x1000_0001) ^ u64::from(width) << 32);
    let (w, h) = (width as usize, height as usize);
    let scale = f64::from(height) / 480.0;

    // Pose.
    let tilt_deg = match condition {
        Condition::Perspective => rng.range(20.0, 30.0),
        _ => rng.range(0.0, 12.0),
    };
    let direction = rng.range(0.0, 2.0 * std::f64::consts::PI);
    let tilt = tilt_deg.to_radians();
    let pitch = tilt * direction.sin();
    let yaw = tilt * direction.cos();
    let roll_deg = rng.range(-20.0, 20.0);
    let r = rotation(pitch, yaw, roll_deg.to_radians());
    let qr_fraction = rng.range(0.5, 0.75);

    // Camera: focal length for about a 65 degree horizontal field of view.
    let f = f64::from(width) * 0.78;
    let (cx, cy) = (f64::from(width) / 2.0, f64::from(height) / 2.0);
    let palette = Palette::new(condition, &mut rng);
    let phone = Phone::new(modules, palette);
    let qr_units = modules.size as f64 + 8.0;
    let distance = f * qr_units / (qr_fraction * f64::from(height));
    // Place the phone so that the code's centre lands near the frame centre.
    let qr_centre = (0.0, phone.qr_y + modules.size as f64 / 2.0);
    let shift = (rng.range(-0.08, 0.08) * f64::from(width), rng.range(-0.06, 0.06) * f64::from(height));
    let code_cam = [
        r[0][0] * qr_centre.0 + r[0][1] * qr_centre.1,
        r[1][0] * qr_centre.0 + r[1][1] * qr_centre.1,
        r[2][0] * qr_centre.0 + r[2][1] * qr_centre.1,
    ];
    let z = distance;
    let t = [shift.0 * z / f - code_cam[0], shift.1 * z / f - code_cam[1], z - code_cam[2]];
    let normal = [r[0][2], r[1][2], r[2][2]];
    let n_dot_t = normal[0] * t[0] + normal[1] * t[1] + normal[2] * t[2];

    // Background: a grey kiosk housing with a light gradient and some panels.
    let bg_base = rng.range(70.0, 130.0);
    let panels: Vec<(f64, f64, f64, f64, f64)> = (0..4)
        .map(|_| {
            (
                rng.range(0.0, 1.0),
                rng.range(0.0, 1.0),
                rng.range(0.1, 0.4),
                rng.range(0.1, 0.4),
                rng.range(-40.0, 40.0),
            )
        })
        .collect();

    let mut canvas = Canvas { w, h, px: vec![[0.0; 3]; w * h], screen: vec![false; w * h] };
    const SUB: [(f64, f64); 4] = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0.0; 3];
            let mut on_screen = 0;
            for (sx, sy) in SUB {
                let d = [(x as f64 + sx - cx) / f, (y as f64 + sy - cy) / f, 1.0];
                let nd = normal[0] * d[0] + normal[1] * d[1] + normal[2] * d[2];
                let hit = if nd.abs() > 1e-9 {
                    let s = n_dot_t / nd;
                    let p = [s * d[0] - t[0], s * d[1] - t[1], s * d[2] - t[2]];
                    // Into the phone's frame: R^T p.
                    let u = r[0][0] * p[0] + r[1][0] * p[1] + r[2][0] * p[2];
                    let v = r[0][1] * p[0] + r[1][1] * p[1] + r[2][1] * p[2];
                    if s > 0.0 { phone.colour(u, v) } else { None }
                } else {
                    None
                };
                let c = match hit {
                    Some((c, screen)) => {
                        on_screen += usize::from(screen);
                        c
                    }
                    None => {
                        let (fx, fy) = (x as f64 / w as f64, y as f64 / h as f64);
                        let mut g = bg_base + 30.0 * (fy - 0.5);
                        for &(px, py, pw, ph, dv) in &panels {
                            if (fx - px).abs() < pw / 2.0 && (fy - py).abs() < ph / 2.0 {
                                g += dv;
                            }
                        }
                        [g, g * 0.98, g * 0.95]
                    }
                };
                for k in 0..3 {
                    acc[k] += c[k] / 4.0;
                }
            }
            canvas.px[y * w + x] = acc;
            canvas.screen[y * w + x] = on_screen >= 2;
        }
    }

    // Moire on the screen: two beating gratings.
    if condition == Condition::Moire {
        let amp = rng.range(0.18, 0.3);
        let gratings: Vec<(f64, f64, f64)> = (0..2)
            .map(|_| {
                let theta = rng.range(0.0, std::f64::consts::PI);
                let period = rng.range(3.0, 9.0) * scale.sqrt();
                (theta.cos() / period, theta.sin() / period, rng.range(0.0, 6.3))
            })
            .collect();
        for y in 0..h {
            for x in 0..w {
                if !canvas.screen[y * w + x] {
                    continue;
                }
                let mut m = 1.0;
                for &(kx, ky, phase) in &gratings {
                    m *= 1.0
                        + amp * (2.0 * std::f64::consts::PI * (kx * x as f64 + ky * y as f64) + phase).sin();
                }
                let p = &mut canvas.px[y * w + x];
                for c in p.iter_mut() {
                    *c *= m;
                }
            }
        }
    }

    // Glare: a specular highlight on the glass near the code.
    if condition == Condition::Glare {
        let qr_px = qr_fraction * f64::from(height);
        let gx = cx + shift.0 + rng.range(-0.3, 0.3) * qr_px;
        let gy = cy + shift.1 + rng.range(-0.3, 0.3) * qr_px;
        let sigma = rng.range(0.12, 0.22) * qr_px;
        let strength = rng.range(0.6, 0.85);
        let elong = rng.range(1.0, 2.0);
        let angle = rng.range(0.0, std::f64::consts::PI);
        let (sa, ca) = angle.sin_cos();
        for y in 0..h {
            for x in 0..w {
                if !canvas.screen[y * w + x] {
                    continue;
                }
                let (dx, dy) = (x as f64 - gx, y as f64 - gy);
                let (a, b) = ((dx * ca + dy * sa) / elong, -dx * sa + dy * ca);
                let g = strength * (-(a * a + b * b) / (2.0 * sigma * sigma)).exp();
                let p = &mut canvas.px[y * w + x];
                for c in p.iter_mut() {
                    *c += (255.0 - *c) * g;
                }
            }
        }
    }

    let blur_sigma = match condition {
        Condition::Blur => rng.range(1.3, 2.0) * scale,
        _ => rng.range(0.5, 0.9) * scale,
    };
    canvas.gaussian_blur(blur_sigma);

    let noise_sigma = match condition {
        Condition::LowContrast => rng.range(2.5, 4.0),
        _ => rng.range(1.5, 3.0),
    };
    for p in canvas.px.iter_mut() {
        let n = rng.normal() * noise_sigma;
        for c in p.iter_mut() {
            *c += n;
        }
    }

    let params =
        FrameParams { condition, width, height, tilt_deg, roll_deg, qr_fraction, blur_sigma, noise_sigma };
    (canvas.to_rgb(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_deterministic() {
        let (a, pa) = render_frame("C5360:ABC", Condition::Glare, 160, 120, 7).unwrap();
        let (b, pb) = render_frame("C5360:ABC", Condition::Glare, 160, 120, 7).unwrap();
        assert_eq!(pa, pb);
        assert!(a == b);
        let (c, _) = render_frame("C5360:ABC", Condition::Glare, 160, 120, 8).unwrap();
        assert!(a != c);
    }

    #[test]
    fn condition_names_round_trip() {
        for c in Condition::ALL {
            assert_eq!(Condition::from_name(c.name()), Some(c));
        }
    }
}
