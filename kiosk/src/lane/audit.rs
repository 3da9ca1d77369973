//! The audit setting for face images (`KioskConfig::audit_face_images`, off by
//! default). Off: nothing here is active and no face image or template is
//! written anywhere; the templates live only in memory until passage.
//! On: the face camera and gate camera are wrapped in a [`RecordingCamera`]
//! that remembers the last frame it delivered, and the lane writes that
//! frame as `<folder>/<transaction>/kiosk-face.jpg` (the capture the kiosk
//! decided on) and `gate-face.jpg` (the capture the gate recognised).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::RgbImage;
use tracing::{info, warn};

use crate::camera::{Camera, CameraError};

/// The last frame a [`RecordingCamera`] delivered, taken (and so forgotten)
/// by the lane.
#[derive(Clone, Default)]
pub struct LastFrame(Arc<Mutex<Option<RgbImage>>>);

impl LastFrame {
    pub fn take(&self) -> Option<RgbImage> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
    fn set(&self, frame: RgbImage) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(frame);
    }
}

/// A camera that remembers the last frame it delivered (audit only).
pub struct RecordingCamera {
    inner: Box<dyn Camera>,
    last: LastFrame,
}

impl RecordingCamera {
    pub fn wrap(inner: Box<dyn Camera>) -> (RecordingCamera, LastFrame) {
        let last = LastFrame::default();
        (RecordingCamera { inner, last: last.clone() }, last)
    }
}

impl Camera for RecordingCamera {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        let frame = self.inner.capture()?;
        self.last.set(frame.clone());
        Ok(frame)
    }
}

/// Where audited face images go, and the frames to take them from.
pub struct FaceAudit {
    folder: PathBuf,
    pub kiosk: LastFrame,
    pub gate: LastFrame,
}

impl FaceAudit {
    /// Wrap the two face cameras when the audit setting names a folder.
    pub fn install(
        folder: Option<&Path>,
        face_camera: &mut Box<dyn Camera>,
        gate_camera: &mut Box<dyn Camera>,
    ) -> Option<FaceAudit> {
        let folder = folder?.to_path_buf();
        let wrap = |cam: &mut Box<dyn Camera>| {
            let placeholder: Box<dyn Camera> = Box::new(NoCamera);
            let (rec, last) = RecordingCamera::wrap(std::mem::replace(cam, placeholder));
            *cam = Box::new(rec);
            last
        };
        let kiosk = wrap(face_camera);
        let gate = wrap(gate_camera);
        info!(folder = %folder.display(), "audit setting on: face captures are kept");
        Some(FaceAudit { folder, kiosk, gate })
    }

    /// Write the last frame of `which` for `transaction` as `<name>.jpg`. A
    /// failure is logged, never fatal: the audit copy is not the record.
    pub fn keep(&self, which: &LastFrame, transaction: &str, name: &str) {
        let Some(frame) = which.take() else { return };
        let dir = self.folder.join(transaction);
        let path = dir.join(format!("{name}.jpg"));
        let r = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|_| frame.save_with_format(&path, image::ImageFormat::Jpeg).map_err(|e| e.to_string()));
        match r {
            Ok(()) => info!(transaction, file = %path.display(), "audit: face capture kept"),
            Err(e) => warn!(transaction, error = %e, "audit: face capture could not be kept"),
        }
    }

    /// Forget a frame that belongs to no transaction.
    pub fn discard(&self, which: &LastFrame) {
        drop(which.take());
    }
}

struct NoCamera;

impl Camera for NoCamera {
    fn name(&self) -> &str {
        "none"
    }
    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        Err(CameraError::NoFrame)
    }
}
