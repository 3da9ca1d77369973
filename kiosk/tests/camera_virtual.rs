//! The virtual camera: plays what the simulator shows, never invents frames.

use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use kiosk::camera::virtual_camera::{VirtualCamera, VirtualCameraFeed};
use kiosk::camera::{Camera, CameraError};

fn solid(v: u8) -> RgbImage {
    RgbImage::from_pixel(4, 3, Rgb([v, v, v]))
}

fn value(img: &RgbImage) -> u8 {
    img.get_pixel(0, 0).0[0]
}

#[test]
fn nothing_in_front_gives_no_frame() {
    let mut cam = VirtualCamera::new("face camera", 0);
    assert_eq!(cam.name(), "face camera");
    assert!(matches!(cam.capture(), Err(CameraError::NoFrame)));
    let feed = cam.feed();
    feed.show(vec![solid(1)]);
    assert!(cam.capture().is_ok());
    feed.clear();
    assert!(matches!(cam.capture(), Err(CameraError::NoFrame)));
    feed.show(Vec::new());
    assert!(matches!(cam.capture(), Err(CameraError::NoFrame)));
}

#[test]
fn frames_play_in_a_loop_and_restart_when_the_scene_changes() {
    let feed = VirtualCameraFeed::new();
    let mut cam = VirtualCamera::with_feed("gate", 0, feed.clone());
    feed.show(vec![solid(10), solid(20), solid(30)]);
    let seq: Vec<u8> = (0..7).map(|_| value(&cam.capture().unwrap())).collect();
    assert_eq!(seq, [10, 20, 30, 10, 20, 30, 10]);
    feed.show(vec![solid(1), solid(2)]);
    let seq: Vec<u8> = (0..3).map(|_| value(&cam.capture().unwrap())).collect();
    assert_eq!(seq, [1, 2, 1]);
    assert_eq!(feed.len(), 2);
}

#[test]
fn captures_are_paced_at_the_frame_rate() {
    let mut cam = VirtualCamera::new("paced", 20); // 50 ms per frame
    cam.feed().show(vec![solid(5)]);
    let t0 = Instant::now();
    for _ in 0..6 {
        cam.capture().unwrap();
    }
    let elapsed = t0.elapsed();
    // First frame at once, then five intervals.
    assert!(elapsed >= Duration::from_millis(240), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");

    // A slow consumer does not get a burst of catch-up frames, nor a wait
    // longer than one interval.
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    cam.capture().unwrap();
    cam.capture().unwrap();
    let e = t.elapsed();
    assert!(e <= Duration::from_millis(100), "{e:?}");
    assert!(e >= Duration::from_millis(40), "{e:?}");
}

#[test]
fn the_feed_is_shared_across_threads() {
    let mut cam = VirtualCamera::new("kiosk", 0);
    let feed = cam.feed();
    std::thread::spawn(move || feed.show(vec![solid(42)])).join().unwrap();
    assert_eq!(value(&cam.capture().unwrap()), 42);
    let boxed: Box<dyn Camera> = Box::new(cam);
    std::thread::spawn(move || {
        let mut c = boxed;
        assert_eq!(value(&c.capture().unwrap()), 42);
    })
    .join()
    .unwrap();
}

#[test]
fn show_file_loads_photos_and_reports_bad_files() {
    let mut cam = VirtualCamera::new("kiosk", 0);
    let feed = cam.feed();
    feed.show_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/photos/astronaut.png")).unwrap();
    let f = cam.capture().unwrap();
    assert_eq!(f.dimensions(), (512, 512));

    let err = feed.show_file("/nonexistent/portrait.jpg").unwrap_err();
    assert!(matches!(err, CameraError::Decode(ref m) if m.contains("/nonexistent/portrait.jpg")), "{err}");
    // A failed load leaves the scene as it was.
    assert_eq!(cam.capture().unwrap().dimensions(), (512, 512));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"\xFF\xD8garbage").unwrap();
    assert!(matches!(feed.show_file(&bad), Err(CameraError::Decode(_))));
}

#[test]
fn a_motion_jpeg_video_plays_frame_by_frame_and_bad_videos_are_refused() {
    // A Motion-JPEG file is JPEG images back to back: make one from real photos.
    let photos = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/photos/");
    let mut video = Vec::new();
    let mut sizes = Vec::new();
    for name in ["obama.jpg", "biden.jpg", "astronaut.png"] {
        let img = image::open(format!("{photos}{name}")).unwrap().to_rgb8();
        sizes.push(img.dimensions());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut video, 85).encode_image(&img).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("walk-up.mjpeg");
    std::fs::write(&path, &video).unwrap();

    let mut cam = VirtualCamera::new("face camera", 30);
    let feed = cam.feed();
    feed.show_video(&path).unwrap();
    assert_eq!(feed.len(), 3);
    let played: Vec<(u32, u32)> = (0..4).map(|_| cam.capture().unwrap().dimensions()).collect();
    assert_eq!(played, [sizes[0], sizes[1], sizes[2], sizes[0]]);

    // Cut off mid-frame, or not a Motion-JPEG file at all: a clear error naming
    // the file, and the scene stays as it was.
    let cut = dir.path().join("cut.mjpeg");
    std::fs::write(&cut, &video[..video.len() - 100]).unwrap();
    let err = feed.show_video(&cut).unwrap_err();
    assert!(
        matches!(err, CameraError::Decode(ref m) if m.contains("cut.mjpeg") && m.contains("cut off")),
        "{err}"
    );
    let avi = dir.path().join("clip.avi");
    std::fs::write(&avi, b"RIFF\x00\x00\x00\x00AVI LIST").unwrap();
    let err = feed.show_video(&avi).unwrap_err();
    assert!(matches!(err, CameraError::Decode(ref m) if m.contains("Motion-JPEG")), "{err}");
    assert_eq!(feed.len(), 3);
}
