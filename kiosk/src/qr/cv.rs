//! OpenCV preparation stages (feature `vision`): CLAHE, Gaussian adaptive
//! threshold, area/cubic resizing. Each returns `None` when OpenCV refuses
//! the image (the stage then finds nothing), never panics.

use opencv::boxed_ref::BoxedRef;
use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::prep::Grey;

fn to_grey(mat: &Mat) -> Option<Grey> {
    let (w, h) = (usize::try_from(mat.cols()).ok()?, usize::try_from(mat.rows()).ok()?);
    let bytes = mat.data_bytes().ok()?;
    Grey::new(w, h, bytes.to_vec())
}

fn with_mat<T>(g: &Grey, f: impl FnOnce(&BoxedRef<'_, Mat>) -> opencv::Result<T>) -> Option<T> {
    let rows = i32::try_from(g.h).ok()?;
    let cols = i32::try_from(g.w).ok()?;
    let src = Mat::new_rows_cols_with_data(rows, cols, &g.data).ok()?;
    f(&src).ok()
}

/// Contrast-limited adaptive histogram equalisation (8x8 tiles, clip 3).
pub fn clahe(g: &Grey) -> Option<Grey> {
    with_mat(g, |src| {
        let mut clahe = imgproc::create_clahe(3.0, Size::new(8, 8))?;
        let mut dst = Mat::default();
        clahe.apply(src, &mut dst)?;
        Ok(dst)
    })
    .and_then(|m| to_grey(&m))
}

/// Gaussian-weighted adaptive threshold; true = dark module (with
/// `invert`, light modules on a dark screen are the modules).
pub fn adaptive(g: &Grey, window: usize, invert: bool) -> Option<Vec<bool>> {
    let block = i32::try_from(window.max(3) | 1).ok()?;
    let mat = with_mat(g, |src| {
        let mut dst = Mat::default();
        let kind = if invert { imgproc::THRESH_BINARY } else { imgproc::THRESH_BINARY_INV };
        // C: how far below (above) the local mean a module must be.
        let c = if invert { -4.0 } else { 4.0 };
        imgproc::adaptive_threshold(
            src,
            &mut dst,
            255.0,
            imgproc::ADAPTIVE_THRESH_GAUSSIAN_C,
            kind,
            block,
            c,
        )?;
        Ok(dst)
    })?;
    Some(mat.data_bytes().ok()?.iter().map(|&v| v != 0).collect())
}

/// Resize by `factor`: area averaging down, cubic up.
pub fn resize(g: &Grey, factor: f64) -> Option<Grey> {
    let w = ((g.w as f64) * factor).round() as i32;
    let h = ((g.h as f64) * factor).round() as i32;
    if w < 1 || h < 1 {
        return None;
    }
    let interpolation = if factor < 1.0 { imgproc::INTER_AREA } else { imgproc::INTER_CUBIC };
    with_mat(g, |src| {
        let mut dst = Mat::default();
        imgproc::resize(src, &mut dst, Size::new(w, h), 0.0, 0.0, interpolation)?;
        Ok(dst)
    })
    .and_then(|m| to_grey(&m))
}
