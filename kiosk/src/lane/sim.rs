//! Simulated passengers at a simulated lane: a passenger folder (written by
//! declaration-app-sim) says what the passenger presents; the driver puts it
//! in front of the simulated devices, exactly where a real passenger would.
//!
//! Passenger folder: `passenger.json` ([`PassengerManifest`]) plus the files
//! it names (chip image, QR code PNG, face photos).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::camera::CameraError;
use crate::camera::virtual_camera::VirtualCameraFeed;
use crate::passport::chip_image::{ChipImage, ChipImageError};
use crate::passport::sim::{PassportSlot, PlacedDocument};

pub const MANIFEST: &str = "passenger.json";

/// What a simulated passenger presents. Paths are relative to the folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassengerManifest {
    pub id: String,
    /// The two MRZ lines printed on the data page.
    pub page_mrz: String,
    pub chip: PathBuf,
    /// The phone screen shown to the QR scanner.
    pub qr: PathBuf,
    /// Frames of the face camera at the kiosk (images, or `.mjpeg` videos).
    pub kiosk_face: Vec<PathBuf>,
    /// Frames of the gate camera as the passenger walks up.
    pub gate_face: Vec<PathBuf>,
    /// What the generator expects (for tests and the demo summary; the kiosk
    /// never reads it to decide).
    #[serde(default)]
    pub expected: Option<String>,
    /// When the passenger reaches the lane, in ms after the lane opens
    /// (`declaration-app-sim generate --arrivals-per-minute`: Poisson
    /// arrivals). `kiosk lane` waits for it; someone arriving while the lane
    /// is busy waits in the queue. None: as soon as the lane is free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_ms: Option<u64>,
    /// What happens at the gate besides the passenger walking through:
    /// `tailgated` (someone follows them through the open flaps). For the
    /// demo's gate simulator scenario; the kiosk never reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_behaviour: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read passenger {path}: {reason}")]
    Manifest { path: String, reason: String },
    #[error(transparent)]
    Chip(#[from] ChipImageError),
    #[error(transparent)]
    Camera(#[from] CameraError),
}

#[derive(Debug, Clone)]
pub struct Passenger {
    pub dir: PathBuf,
    pub manifest: PassengerManifest,
}

impl Passenger {
    pub fn load(dir: &Path) -> Result<Passenger, SimError> {
        let path = dir.join(MANIFEST);
        let err = |reason: String| SimError::Manifest { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
        let manifest = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        Ok(Passenger { dir: dir.to_path_buf(), manifest })
    }

    /// Every passenger folder below `root`, in name order.
    pub fn load_all(root: &Path) -> Result<Vec<Passenger>, SimError> {
        let err = |reason: String| SimError::Manifest { path: root.display().to_string(), reason };
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(MANIFEST).is_file())
            .collect();
        dirs.sort();
        dirs.iter().map(|d| Passenger::load(d)).collect()
    }
}

/// Still images (JPEG, PNG) and Motion-JPEG videos (`.mjpeg`, every frame).
fn load_frames(dir: &Path, files: &[PathBuf]) -> Result<Vec<image::RgbImage>, SimError> {
    let mut frames = Vec::new();
    for f in files {
        let path = dir.join(f);
        if crate::camera::mjpeg::is_mjpeg_path(&path) {
            frames.extend(
                crate::camera::mjpeg::load(&path).map_err(|e| SimError::Camera(CameraError::Decode(e)))?,
            );
            continue;
        }
        let img = image::open(&path)
            .map_err(|e| SimError::Camera(CameraError::Decode(format!("{}: {e}", path.display()))))?;
        frames.push(img.to_rgb8());
    }
    Ok(frames)
}

/// The handles through which the driver puts things in front of the devices.
#[derive(Clone, Default)]
pub struct SimulatedScene {
    pub passport_slot: PassportSlot,
    pub qr_scanner: VirtualCameraFeed,
    pub face_camera: VirtualCameraFeed,
    pub gate_camera: VirtualCameraFeed,
}

impl SimulatedScene {
    /// The passenger steps up to the kiosk: passport on the reader, phone to
    /// the scanner, face to the camera.
    pub fn present_at_kiosk(&self, p: &Passenger) -> Result<(), SimError> {
        let m = &p.manifest;
        let chip = ChipImage::load(&p.dir.join(&m.chip))?;
        self.passport_slot.place(PlacedDocument { page_mrz: m.page_mrz.clone(), chip });
        self.qr_scanner.show_file(p.dir.join(&m.qr))?;
        self.face_camera.show(load_frames(&p.dir, &m.kiosk_face)?);
        Ok(())
    }

    /// The passenger takes the passport and phone and walks to the gate.
    pub fn walk_to_gate(&self, p: &Passenger) -> Result<(), SimError> {
        self.leave_kiosk();
        let m = &p.manifest;
        self.gate_camera.show(load_frames(&p.dir, &m.gate_face)?);
        Ok(())
    }

    pub fn leave_kiosk(&self) {
        self.passport_slot.remove();
        self.qr_scanner.clear();
        self.face_camera.clear();
    }

    pub fn leave_gate(&self) {
        self.gate_camera.clear();
    }
}
