//! Motion-JPEG video files for the virtual camera: a stream of complete JPEG
//! images back to back (what `ffmpeg -c:v mjpeg -f mjpeg out.mjpeg` and many
//! network cameras write). The virtual camera plays them at its frame rate.
//!
//! [`split_frames`] is pure and never panics: it walks the JPEG marker
//! structure (segment lengths up to the start of scan, then the entropy-coded
//! data up to the end-of-image marker, skipping stuffed `FF 00` bytes and
//! restart markers), so a `FF D9` byte pair inside a segment never cuts a frame.

use std::ops::Range;
use std::path::Path;

use image::RgbImage;

/// Largest video file the virtual camera loads into memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// Most frames it keeps (decoded frames are held in memory).
pub const MAX_FRAMES: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MjpegError {
    #[error("no JPEG frame in the video file")]
    Empty,
    #[error("byte {offset}: expected a JPEG start-of-image marker (FF D8); is this a Motion-JPEG file?")]
    NotJpeg { offset: usize },
    #[error("frame {frame} (byte {offset}) is cut off before its end-of-image marker")]
    Truncated { frame: usize, offset: usize },
    #[error("more than {MAX_FRAMES} frames; cut the video shorter")]
    TooManyFrames,
}

/// Byte ranges of the JPEG images in a Motion-JPEG stream. Padding between
/// frames (zero bytes, or `FF` fill) is skipped.
pub fn split_frames(data: &[u8]) -> Result<Vec<Range<usize>>, MjpegError> {
    let mut frames = Vec::new();
    let mut pos = 0;
    loop {
        while pos < data.len()
            && (data[pos] == 0x00 || (data[pos] == 0xFF && data.get(pos + 1) == Some(&0xFF)))
        {
            pos += 1;
        }
        if pos >= data.len() {
            break;
        }
        if data.get(pos..pos + 2) != Some(&[0xFF, 0xD8]) {
            return Err(MjpegError::NotJpeg { offset: pos });
        }
        if frames.len() == MAX_FRAMES {
            return Err(MjpegError::TooManyFrames);
        }
        let end = frame_end(data, pos).ok_or(MjpegError::Truncated { frame: frames.len(), offset: pos })?;
        frames.push(pos..end);
        pos = end;
    }
    if frames.is_empty() {
        return Err(MjpegError::Empty);
    }
    Ok(frames)
}

/// One past the end-of-image marker of the JPEG starting at `start` (which
/// holds `FF D8`), or `None` when the data end first.
fn frame_end(data: &[u8], start: usize) -> Option<usize> {
    let mut pos = start + 2;
    let mut in_scan = false;
    loop {
        if in_scan {
            // Entropy-coded data: FF 00 is a stuffed FF, FF D0-D7 are restart
            // markers; any other FF xx is the next marker.
            let ff = pos + data.get(pos..)?.iter().position(|&b| b == 0xFF)?;
            let marker = *data.get(ff + 1)?;
            match marker {
                0x00 | 0xD0..=0xD7 | 0xFF => {
                    pos = ff + if marker == 0xFF { 1 } else { 2 };
                    continue;
                }
                _ => {
                    in_scan = false;
                    pos = ff;
                }
            }
        }
        if *data.get(pos)? != 0xFF {
            return None;
        }
        let marker = *data.get(pos + 1)?;
        match marker {
            0xFF => pos += 1, // fill byte before a marker
            0xD9 => return Some(pos + 2),
            0x01 | 0xD0..=0xD7 => pos += 2, // markers without a length
            _ => {
                let len = usize::from(u16::from_be_bytes([*data.get(pos + 2)?, *data.get(pos + 3)?]));
                if len < 2 {
                    return None;
                }
                pos = pos.checked_add(2 + len)?;
                if marker == 0xDA {
                    in_scan = true;
                }
            }
        }
    }
}

/// Loads and decodes every frame of a Motion-JPEG file.
pub fn load(path: &Path) -> Result<Vec<RgbImage>, String> {
    let shown = path.display();
    let size = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{shown}: {size} bytes; the virtual camera loads at most {MAX_FILE_BYTES}"));
    }
    let data = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    let ranges = split_frames(&data).map_err(|e| format!("{shown}: {e}"))?;
    ranges
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            image::load_from_memory_with_format(&data[r], image::ImageFormat::Jpeg)
                .map(|img| img.to_rgb8())
                .map_err(|e| format!("{shown}: frame {i}: {e}"))
        })
        .collect()
}

/// Whether a file name looks like a Motion-JPEG video (`.mjpeg`, `.mjpg`).
pub fn is_mjpeg_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mjpeg") || e.eq_ignore_ascii_case("mjpg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(v: u8, w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([v, (x * 7) as u8, (y * 13) as u8]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn frames_back_to_back_are_split_exactly() {
        let frames = [jpeg(10, 32, 24), jpeg(200, 17, 9), jpeg(90, 64, 48)];
        let mut stream = Vec::new();
        for f in &frames {
            stream.extend_from_slice(f);
        }
        stream.extend_from_slice(&[0, 0, 0]); // trailing padding
        let ranges = split_frames(&stream).unwrap();
        assert_eq!(ranges.len(), 3);
        for (r, f) in ranges.iter().zip(&frames) {
            assert_eq!(&stream[r.clone()], f.as_slice());
        }
    }

    #[test]
    fn an_end_marker_inside_a_segment_does_not_cut_the_frame() {
        // A COM segment holding FF D9 right after SOI.
        let f = jpeg(50, 16, 16);
        let mut with_comment = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD9];
        with_comment.extend_from_slice(&f[2..]);
        let ranges = split_frames(&with_comment).unwrap();
        assert_eq!(ranges, vec![0..with_comment.len()]);
        assert!(image::load_from_memory(&with_comment).is_ok());
    }

    #[test]
    fn bad_streams_are_refused_with_their_reason() {
        assert_eq!(split_frames(&[]), Err(MjpegError::Empty));
        assert_eq!(split_frames(b"RIFF....AVI "), Err(MjpegError::NotJpeg { offset: 0 }));
        let f = jpeg(1, 16, 16);
        assert_eq!(split_frames(&f[..f.len() - 10]), Err(MjpegError::Truncated { frame: 0, offset: 0 }));
        let mut two = f.clone();
        two.extend_from_slice(b"garbage");
        assert_eq!(split_frames(&two), Err(MjpegError::NotJpeg { offset: f.len() }));
    }

    #[test]
    fn no_input_makes_it_panic() {
        let f = jpeg(1, 16, 16);
        for cut in 0..f.len() {
            let _ = split_frames(&f[..cut]);
        }
        let mut x: u32 = 1;
        for _ in 0..2_000 {
            let mut d = vec![0xFF, 0xD8];
            for _ in 0..64 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                d.push(if x.is_multiple_of(5) { 0xFF } else { x as u8 });
            }
            let _ = split_frames(&d);
        }
    }
}
