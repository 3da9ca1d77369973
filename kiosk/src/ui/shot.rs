//! Headless screenshots: capture the primary window until the image is not
//! blank (the software renderer compiles shaders for a while and shows only
//! the clear colour or black meanwhile) and two captures in a row agree, then
//! save it and exit.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use image::RgbImage;

/// Frames to run before the first capture.
const WARMUP_FRAMES: u32 = 3;
/// Give up after this long (debug build, lavapipe: a capture takes well under 10 s).
const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct ShotReport {
    pub captures: u32,
    pub elapsed: Duration,
    pub width: u32,
    pub height: u32,
}

pub type ShotOutcome = Arc<Mutex<Option<Result<ShotReport, String>>>>;

#[derive(Resource)]
pub struct ShotCtl {
    out: PathBuf,
    frame: u32,
    in_flight: bool,
    captures: u32,
    previous: Option<RgbImage>,
    started: Instant,
    done: bool,
    outcome: ShotOutcome,
}

impl ShotCtl {
    pub fn new(out: PathBuf, outcome: ShotOutcome) -> ShotCtl {
        ShotCtl {
            out,
            frame: 0,
            in_flight: false,
            captures: 0,
            previous: None,
            started: Instant::now(),
            done: false,
            outcome,
        }
    }

    fn finish(&mut self, result: Result<ShotReport, String>) {
        self.done = true;
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
    }

    fn save(&mut self, img: &RgbImage) {
        let result = (|| -> Result<ShotReport, String> {
            if let Some(dir) = self.out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            img.save_with_format(&self.out, image::ImageFormat::Png)
                .map_err(|e| format!("cannot write {}: {e}", self.out.display()))?;
            Ok(ShotReport {
                captures: self.captures,
                elapsed: self.started.elapsed(),
                width: img.width(),
                height: img.height(),
            })
        })();
        self.finish(result);
    }
}

/// True when every pixel has the same colour (black or clear-colour frames).
pub fn is_blank(img: &RgbImage) -> bool {
    let mut pixels = img.pixels();
    match pixels.next() {
        None => true,
        Some(first) => pixels.all(|p| p == first),
    }
}

/// Update system: schedules captures and exits when done.
pub fn drive_screenshot(mut commands: Commands, mut ctl: ResMut<ShotCtl>, mut exit: MessageWriter<AppExit>) {
    if ctl.done {
        exit.write(AppExit::Success);
        return;
    }
    ctl.frame += 1;
    if ctl.started.elapsed() > TIMEOUT {
        if let Some(prev) = ctl.previous.take() {
            warn!("screen did not settle in {TIMEOUT:?}; saving the last non-blank capture");
            ctl.save(&prev);
        } else {
            let msg = format!("the screen stayed blank for {TIMEOUT:?} ({} captures)", ctl.captures);
            ctl.finish(Err(msg));
        }
        return;
    }
    if ctl.frame < WARMUP_FRAMES || ctl.in_flight {
        return;
    }
    ctl.in_flight = true;
    ctl.captures += 1;
    commands.spawn(Screenshot::primary_window()).observe(on_captured);
}

fn on_captured(captured: On<ScreenshotCaptured>, mut ctl: ResMut<ShotCtl>) {
    ctl.in_flight = false;
    if ctl.done {
        return;
    }
    let img = match captured.image.clone().try_into_dynamic() {
        Ok(img) => img.to_rgb8(),
        Err(e) => {
            ctl.finish(Err(format!("cannot convert the screenshot: {e:?}")));
            return;
        }
    };
    if is_blank(&img) {
        debug!(capture = ctl.captures, "blank frame, waiting for the renderer");
        ctl.previous = None;
        return;
    }
    if ctl.previous.as_ref() == Some(&img) {
        ctl.save(&img);
    } else {
        ctl.previous = Some(img);
    }
}

/// A synthetic camera frame for screenshots of the preview (drawn, not a
/// photo of anyone): a head-and-shoulders silhouette for the face step, a
/// phone showing a QR-like pattern for the declaration step.
pub fn sample_frame(step: crate::lane::events::Step) -> RgbImage {
    let (w, h) = (480u32, 360u32);
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let v = 150 + (y * 40 / h) as u8;
        image::Rgb([v, v, v.saturating_add(10)])
    });
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        if step == crate::lane::events::Step::Declaration {
            let (pw, ph) = (110.0, 160.0);
            if dx.abs() < pw && dy.abs() < ph {
                *p = image::Rgb([30, 30, 30]);
                let (qx, qy) = ((dx + 90.0) as i32, (dy + 90.0) as i32);
                if (0..180).contains(&qx) && (0..180).contains(&qy) {
                    let cell = ((qx / 12) * 7 + (qy / 12) * 13) % 5;
                    let v = if cell < 2 { 20 } else { 245 };
                    *p = image::Rgb([v, v, v]);
                }
            }
        } else {
            let head = (dx / 80.0).powi(2) + ((dy + 20.0) / 105.0).powi(2) <= 1.0;
            let body = dy > 95.0 && (dx / 190.0).powi(2) + ((dy - 250.0) / 150.0).powi(2) <= 1.0;
            if head {
                *p = image::Rgb([205, 170, 140]);
            } else if body {
                *p = image::Rgb([60, 80, 120]);
            }
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_detection() {
        let mut img = RgbImage::from_pixel(8, 8, image::Rgb([0, 0, 0]));
        assert!(is_blank(&img));
        img.put_pixel(3, 3, image::Rgb([255, 255, 255]));
        assert!(!is_blank(&img));
    }
}
