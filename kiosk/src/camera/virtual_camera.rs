//! A camera that plays still images or a video a simulator puts in front of it.
//!
//! [`VirtualCamera`] is the device; [`VirtualCameraFeed`] is a cloneable handle
//! the simulator (or a test) keeps to change what stands in front of the lens.
//! With nothing shown, [`Camera::capture`] returns [`CameraError::NoFrame`]:
//! the camera never invents a frame.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::{Camera, CameraError};

#[derive(Default)]
struct Scene {
    frames: Arc<Vec<RgbImage>>,
    /// Bumped on every change so the camera restarts the loop at frame 0.
    generation: u64,
}

/// Handle to what is in front of a [`VirtualCamera`]. Cheap to clone; all
/// clones (and the camera) see the same scene.
#[derive(Clone, Default)]
pub struct VirtualCameraFeed {
    scene: Arc<Mutex<Scene>>,
}

impl std::fmt::Debug for VirtualCameraFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCameraFeed").field("frames", &self.len()).finish()
    }
}

impl VirtualCameraFeed {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Scene> {
        // A panicking simulator thread must not take the camera down with it:
        // the scene is always in a consistent state, so poisoning is ignored.
        self.scene.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Put these frames in front of the camera; they play in a loop from the
    /// first. An empty list is the same as [`clear`](Self::clear).
    pub fn show(&self, frames: Vec<RgbImage>) {
        let mut scene = self.lock();
        scene.frames = Arc::new(frames);
        scene.generation = scene.generation.wrapping_add(1);
    }

    /// Show one still image loaded from a file (JPEG or PNG).
    pub fn show_file(&self, path: impl AsRef<Path>) -> Result<(), CameraError> {
        let path = path.as_ref();
        let img = image::open(path).map_err(|e| CameraError::Decode(format!("{}: {e}", path.display())))?;
        self.show(vec![img.to_rgb8()]);
        Ok(())
    }

    /// Play a Motion-JPEG video file ([`super::mjpeg`]), frame after frame at
    /// the camera's frame rate, in a loop.
    pub fn show_video(&self, path: impl AsRef<Path>) -> Result<(), CameraError> {
        self.show(super::mjpeg::load(path.as_ref()).map_err(CameraError::Decode)?);
        Ok(())
    }

    /// Nothing in front of the camera any more.
    pub fn clear(&self) {
        self.show(Vec::new());
    }

    /// Number of frames currently shown.
    pub fn len(&self) -> usize {
        self.lock().frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A [`Camera`] that plays what its [`VirtualCameraFeed`] shows, paced at a
/// fixed frame rate.
#[derive(Debug)]
pub struct VirtualCamera {
    name: String,
    feed: VirtualCameraFeed,
    interval: Option<Duration>,
    next_due: Option<Instant>,
    generation: u64,
    position: usize,
}

impl VirtualCamera {
    /// A camera with its own, initially empty, feed. `fps == 0` disables
    /// pacing (captures return immediately; handy in tests).
    pub fn new(name: impl Into<String>, fps: u32) -> Self {
        Self::with_feed(name, fps, VirtualCameraFeed::new())
    }

    /// A camera looking at an existing feed.
    pub fn with_feed(name: impl Into<String>, fps: u32, feed: VirtualCameraFeed) -> Self {
        let interval = (fps > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(fps)));
        Self { name: name.into(), feed, interval, next_due: None, generation: 0, position: 0 }
    }

    /// A handle for the simulator to change what the camera sees.
    pub fn feed(&self) -> VirtualCameraFeed {
        self.feed.clone()
    }

    /// Wait until the next frame slot: at most one frame interval.
    fn pace(&mut self) {
        let Some(interval) = self.interval else { return };
        let now = Instant::now();
        if let Some(due) = self.next_due
            && due > now
        {
            std::thread::sleep((due - now).min(interval));
        }
        let now = Instant::now();
        // Schedule from the previous slot when on time (steady rate), from now
        // when the caller fell behind (no burst of catch-up frames).
        self.next_due = Some(match self.next_due {
            Some(due) if due + interval > now => due + interval,
            _ => now + interval,
        });
    }
}

impl Camera for VirtualCamera {
    fn name(&self) -> &str {
        &self.name
    }

    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        self.pace();
        let (frames, generation) = {
            let scene = self.feed.lock();
            (Arc::clone(&scene.frames), scene.generation)
        };
        if generation != self.generation {
            self.generation = generation;
            self.position = 0;
        }
        if frames.is_empty() {
            return Err(CameraError::NoFrame);
        }
        let frame = frames[self.position % frames.len()].clone();
        self.position = (self.position + 1) % frames.len();
        Ok(frame)
    }
}
