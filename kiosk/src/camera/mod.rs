//! Cameras: the kiosk's face camera, its QR scanner and the gate camera all sit
//! behind [`Camera`]. Backends: [`virtual_camera::VirtualCamera`] (plays still
//! images or a Motion-JPEG video ([`mjpeg`]) that a simulator puts in front of
//! it, at a frame rate) and, with the `camera` feature,
//! [`webcam::Webcam`], a nokhwa backend for real webcams.
//!
//! Invariant: no backend invents frames. A camera with nothing in front of it
//! returns [`CameraError::NoFrame`]; a missing device returns
//! [`CameraError::Unavailable`] with a message a technician can act on.

pub mod mjpeg;
pub mod virtual_camera;
#[cfg(feature = "camera")]
pub mod webcam;

use image::RgbImage;

/// Something that hands out RGB frames.
pub trait Camera: Send {
    /// Human-readable name for logs and the staff console.
    fn name(&self) -> &str;
    /// Capture one frame. Blocking for at most one frame interval.
    fn capture(&mut self) -> Result<RgbImage, CameraError>;
}

#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("camera unavailable: {0}")]
    Unavailable(String),
    #[error("the camera delivered no frame (nothing in front of it)")]
    NoFrame,
    #[error("camera frame could not be decoded: {0}")]
    Decode(String),
}
