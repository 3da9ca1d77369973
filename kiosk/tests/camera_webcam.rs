//! The nokhwa webcam backend on a machine without a camera.
#![cfg(feature = "camera")]

use kiosk::camera::CameraError;
use kiosk::camera::webcam::{Webcam, choose_format};
use nokhwa::utils::{CameraFormat, FrameFormat};

#[test]
fn no_camera_is_unavailable_with_a_plain_message() {
    let cams = Webcam::list();
    if !cams.is_empty() {
        eprintln!("skipped: this machine has cameras: {cams:?}");
        return;
    }
    match Webcam::open(0) {
        Err(CameraError::Unavailable(msg)) => {
            eprintln!("{msg}");
            assert!(msg.starts_with("no camera found ("), "{msg}");
            assert!(msg.ends_with(')'), "{msg}");
        }
        Err(e) => panic!("expected Unavailable, got {e:?}"),
        Ok(w) => panic!("opened a camera on a machine without one: {w:?}"),
    }
}

#[test]
fn format_negotiation_prefers_the_largest_allowed_size() {
    let f = |w, h, fmt, fps| CameraFormat::new_from(w, h, fmt, fps);
    let offered = [
        f(1920, 1080, FrameFormat::MJPEG, 30),
        f(1280, 720, FrameFormat::YUYV, 10),
        f(1280, 720, FrameFormat::MJPEG, 30),
        f(1280, 720, FrameFormat::NV12, 60),
        f(640, 480, FrameFormat::YUYV, 30),
    ];
    assert_eq!(choose_format(&offered), Some(f(1280, 720, FrameFormat::MJPEG, 30)));
    let yuyv_only = [f(640, 480, FrameFormat::YUYV, 30), f(320, 240, FrameFormat::YUYV, 30)];
    assert_eq!(choose_format(&yuyv_only), Some(yuyv_only[0]));
    assert_eq!(choose_format(&[f(1920, 1080, FrameFormat::MJPEG, 30)]), None);
    assert_eq!(choose_format(&[]), None);
}
