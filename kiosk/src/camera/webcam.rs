//! Real webcams through nokhwa (V4L2 on Linux), `camera` feature.
//!
//! Format negotiation: among the formats the device offers in MJPEG or YUYV,
//! take the highest resolution that fits in [`MAX_WIDTH`] x [`MAX_HEIGHT`]
//! (more pixels only slow face detection down, which works at 640 px), then
//! the highest frame rate, then MJPEG over YUYV (less USB bandwidth). Frames
//! are decoded to [`RgbImage`].

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, CameraInfo, FrameFormat, RequestedFormat, RequestedFormatType,
};

use std::sync::mpsc;

use image::RgbImage;

use super::{Camera, CameraError};

/// Largest frame width requested from the device.
pub const MAX_WIDTH: u32 = 1280;
/// Largest frame height requested from the device.
pub const MAX_HEIGHT: u32 = 720;
const WANTED: [FrameFormat; 2] = [FrameFormat::MJPEG, FrameFormat::YUYV];

/// A V4L2 (or platform-native) webcam.
///
/// `nokhwa::Camera` is not `Send` (its backend is a `Box<dyn CaptureBackendTrait>`;
/// nokhwa only asserts `Send` behind its `camera-sync-impl` feature), but our
/// [`Camera`] trait is. Rather than an `unsafe impl Send`, the device lives on
/// a dedicated thread for its whole life (opened, streamed and closed there);
/// this handle sends it capture requests over channels.
pub struct Webcam {
    name: String,
    format: CameraFormat,
    requests: Option<mpsc::SyncSender<()>>,
    frames: mpsc::Receiver<Result<RgbImage, CameraError>>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Webcam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webcam").field("name", &self.name).field("format", &self.format).finish()
    }
}

fn describe(info: &CameraInfo) -> String {
    format!("{}: {} ({})", info.index(), info.human_name(), info.description())
}

fn query() -> Result<Vec<CameraInfo>, String> {
    nokhwa::query(ApiBackend::Auto).map_err(|e| e.to_string())
}

/// Pick the format to stream (see the module docs), or `None` if the device
/// offers neither MJPEG nor YUYV within the size limit.
pub fn choose_format(formats: &[CameraFormat]) -> Option<CameraFormat> {
    formats
        .iter()
        .filter(|f| WANTED.contains(&f.format()))
        .filter(|f| f.width() <= MAX_WIDTH && f.height() <= MAX_HEIGHT)
        .max_by_key(|f| {
            (u64::from(f.width()) * u64::from(f.height()), f.frame_rate(), f.format() == FrameFormat::MJPEG)
        })
        .copied()
}

impl Webcam {
    /// Names of the cameras the system reports, e.g. `"0: HD Webcam (Video4Linux
    /// Device @ /dev/video0)"`. Empty when there is none (or the query fails).
    pub fn list() -> Vec<String> {
        query().map(|cams| cams.iter().map(describe).collect()).unwrap_or_default()
    }

    /// Open camera `index` (`/dev/video<index>` on Linux) and start streaming.
    pub fn open(index: u32) -> Result<Self, CameraError> {
        let cams = query()
            .map_err(|e| CameraError::Unavailable(format!("no camera found (device query failed: {e})")))?;
        if cams.is_empty() {
            return Err(CameraError::Unavailable(
                "no camera found (the system lists no video devices; check the USB cable and \
                 that /dev/video* exists and is readable)"
                    .into(),
            ));
        }
        let Some(info) = cams.iter().find(|c| c.index().as_index().ok() == Some(index)) else {
            let present: Vec<String> = cams.iter().map(describe).collect();
            return Err(CameraError::Unavailable(format!(
                "no camera found (none at index {index}, /dev/video{index} on Linux; present: {})",
                present.join(", ")
            )));
        };
        let name = describe(info);

        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let (req_tx, req_rx) = mpsc::sync_channel::<()>(1);
        let (frame_tx, frame_rx) = mpsc::sync_channel(1);
        let thread_name = name.clone();
        let worker = std::thread::Builder::new()
            .name(format!("webcam-{index}"))
            .spawn(move || {
                let mut camera = match open_device(index, &thread_name) {
                    Ok((camera, format)) => {
                        let _ = opened_tx.send(Ok(format));
                        camera
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                // Ends when the handle is dropped (request channel closed).
                while req_rx.recv().is_ok() {
                    if frame_tx.send(grab(&mut camera, &thread_name)).is_err() {
                        break;
                    }
                }
                if let Err(e) = camera.stop_stream() {
                    tracing::debug!(camera = %thread_name, "stopping the stream: {e}");
                }
            })
            .map_err(|e| CameraError::Unavailable(format!("camera {name}: no capture thread: {e}")))?;
        let format = match opened_rx.recv() {
            Ok(Ok(format)) => format,
            Ok(Err(e)) => {
                let _ = worker.join();
                return Err(e);
            }
            Err(_) => {
                let _ = worker.join();
                return Err(CameraError::Unavailable(format!("camera {name}: the capture thread died")));
            }
        };
        tracing::info!(camera = %name, %format, "webcam streaming");
        Ok(Self { name, format, requests: Some(req_tx), frames: frame_rx, worker: Some(worker) })
    }

    /// The negotiated format.
    pub fn format(&self) -> CameraFormat {
        self.format
    }
}

impl Camera for Webcam {
    fn name(&self) -> &str {
        &self.name
    }

    fn capture(&mut self) -> Result<RgbImage, CameraError> {
        let dead = || CameraError::Unavailable(format!("camera {}: the capture thread stopped", self.name));
        let requests = self.requests.as_ref().ok_or_else(dead)?;
        requests.send(()).map_err(|_| dead())?;
        self.frames.recv().map_err(|_| dead())?
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        // Closing the request channel ends the worker, which stops the stream.
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// On the worker thread: open the device and negotiate the format.
fn open_device(index: u32, name: &str) -> Result<(nokhwa::Camera, CameraFormat), CameraError> {
    let unavailable =
        |what: &str, e: nokhwa::NokhwaError| CameraError::Unavailable(format!("camera {name}: {what}: {e}"));
    let mut camera = nokhwa::Camera::new(
        CameraIndex::Index(index),
        RequestedFormat::with_formats(RequestedFormatType::None, &WANTED),
    )
    .map_err(|e| unavailable("could not be opened", e))?;
    let formats =
        camera.compatible_camera_formats().map_err(|e| unavailable("could not list its formats", e))?;
    let format = choose_format(&formats).ok_or_else(|| {
        CameraError::Unavailable(format!(
            "camera {name} offers no MJPEG or YUYV format up to {MAX_WIDTH}x{MAX_HEIGHT} (it offers: {})",
            formats.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ")
        ))
    })?;
    camera
        .set_camera_requset(RequestedFormat::with_formats(RequestedFormatType::Exact(format), &WANTED))
        .map_err(|e| unavailable("refused the format", e))?;
    camera.open_stream().map_err(|e| unavailable("could not start streaming", e))?;
    let format = camera.camera_format();
    Ok((camera, format))
}

/// On the worker thread: one frame, decoded to RGB.
fn grab(camera: &mut nokhwa::Camera, name: &str) -> Result<RgbImage, CameraError> {
    let buffer = camera.frame().map_err(|e| CameraError::Unavailable(format!("camera {name}: {e}")))?;
    buffer.decode_image::<RgbFormat>().map_err(|e| CameraError::Decode(e.to_string()))
}
