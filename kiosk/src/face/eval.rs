//! Verification accuracy over labelled image pairs: FMR and FNMR per
//! threshold, DET points and the threshold for a target FMR (the figures BSI
//! TR-03121-3 asks of a face verification algorithm).
//!
//! Pairs file (see docs/face.md): UTF-8 text, one pair a line, three fields
//! separated by tabs: `path_a`, `path_b`, `same` or `different`. Relative
//! paths are relative to the pairs file's folder. Blank lines and lines
//! starting with `#` are ignored.
//!
//! A pair whose images give no template (no face, several faces, unreadable)
//! is a failure to acquire: it is counted and listed apart, not scored.
//! `fnmr` is the algorithm figure over scored genuine pairs; `fnmr_with_fta`
//! also counts genuine pairs that failed to acquire as non-matches.
//!
//! Everything here is pure; the scoring itself is done by the caller.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// One labelled pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub a: PathBuf,
    pub b: PathBuf,
    pub same: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PairsError {
    #[error("line {line}: expected 3 tab-separated fields (path_a, path_b, same|different), found {found}")]
    Fields { line: usize, found: usize },
    #[error("line {line}: label {label:?} is neither `same` nor `different`")]
    Label { line: usize, label: String },
    #[error("the pairs file has no pairs")]
    Empty,
}

/// Parse a pairs file's text; relative paths are joined to `base`.
pub fn parse_pairs(text: &str, base: &Path) -> Result<Vec<Pair>, PairsError> {
    let mut pairs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 3 || fields.iter().any(|f| f.trim().is_empty()) {
            return Err(PairsError::Fields { line: i + 1, found: fields.len() });
        }
        let same = match fields[2].trim() {
            "same" => true,
            "different" => false,
            other => return Err(PairsError::Label { line: i + 1, label: other.to_string() }),
        };
        let path = |f: &str| {
            let p = PathBuf::from(f.trim());
            if p.is_absolute() { p } else { base.join(p) }
        };
        pairs.push(Pair { a: path(fields[0]), b: path(fields[1]), same });
    }
    if pairs.is_empty() {
        return Err(PairsError::Empty);
    }
    Ok(pairs)
}

/// Format pairs as a pairs file (paths written as given).
pub fn format_pairs(pairs: &[Pair]) -> String {
    let mut out = String::from("# path_a\tpath_b\tsame|different\n");
    for p in pairs {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            p.a.display(),
            p.b.display(),
            if p.same { "same" } else { "different" }
        ));
    }
    out
}

/// Error rates at one threshold (a pair matches when score >= threshold).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    pub threshold: f32,
    pub false_matches: usize,
    pub false_non_matches: usize,
    pub fmr: f64,
    pub fnmr: f64,
    pub fnmr_with_fta: f64,
}

/// The evaluation of a scored pair set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    pub genuine_failed_to_acquire: usize,
    pub impostor_failed_to_acquire: usize,
    pub genuine_min: Option<f32>,
    pub genuine_max: Option<f32>,
    pub impostor_min: Option<f32>,
    pub impostor_max: Option<f32>,
    /// Fixed grid of thresholds.
    pub per_threshold: Vec<OperatingPoint>,
    /// DET curve: one point at each observed score (FMR against FNMR).
    pub det: Vec<OperatingPoint>,
    pub target_fmr: f64,
    /// Smallest grid threshold (step 0.001) with FMR <= target; with N
    /// impostor pairs an FMR below 1/N cannot be observed, so for small sets
    /// this is "above every impostor score".
    pub threshold_at_target: Option<f32>,
    pub at_target: Option<OperatingPoint>,
}

/// Scores of genuine and impostor pairs; `None` is a failure to acquire.
pub fn evaluate(
    genuine: &[Option<f32>],
    impostor: &[Option<f32>],
    grid: &[f32],
    target_fmr: f64,
) -> Evaluation {
    let g: Vec<f32> = genuine.iter().flatten().copied().collect();
    let im: Vec<f32> = impostor.iter().flatten().copied().collect();
    let g_fta = genuine.len() - g.len();
    let point = |t: f32| {
        let fm = im.iter().filter(|&&s| s >= t).count();
        let fnm = g.iter().filter(|&&s| s < t).count();
        OperatingPoint {
            threshold: t,
            false_matches: fm,
            false_non_matches: fnm,
            fmr: ratio(fm, im.len()),
            fnmr: ratio(fnm, g.len()),
            fnmr_with_fta: ratio(fnm + g_fta, genuine.len()),
        }
    };
    let per_threshold = grid.iter().map(|&t| point(t)).collect();
    let mut observed: Vec<f32> = g.iter().chain(&im).copied().filter(|s| s.is_finite()).collect();
    observed.sort_by(f32::total_cmp);
    observed.dedup();
    let det = observed.iter().map(|&t| point(t)).collect();
    let threshold_at_target = (0..=2000)
        // Division gives the f32 nearest each 3-decimal value, like a literal.
        .map(|i| (i as f32 - 1000.0) / 1000.0)
        .find(|&t| !im.is_empty() && point(t).fmr <= target_fmr);
    let min = |v: &[f32]| v.iter().copied().min_by(f32::total_cmp);
    let max = |v: &[f32]| v.iter().copied().max_by(f32::total_cmp);
    Evaluation {
        genuine_pairs: genuine.len(),
        impostor_pairs: impostor.len(),
        genuine_failed_to_acquire: g_fta,
        impostor_failed_to_acquire: impostor.len() - im.len(),
        genuine_min: min(&g),
        genuine_max: max(&g),
        impostor_min: min(&im),
        impostor_max: max(&im),
        per_threshold,
        det,
        target_fmr,
        threshold_at_target,
        at_target: threshold_at_target.map(point),
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// The default grid: 0.20 to 0.70 in steps of 0.025, plus OpenCV's 0.363.
pub fn default_grid() -> Vec<f32> {
    let mut g: Vec<f32> = (0..=20).map(|i| 0.2 + i as f32 * 0.025).collect();
    g.push(0.363);
    g.sort_by(f32::total_cmp);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_file_parses_and_reports_bad_lines() {
        let text = "# header\n\na.jpg\tb.jpg\tsame\n/abs/c.png\td.png\tdifferent\r\n";
        let pairs = parse_pairs(text, Path::new("/data")).unwrap();
        assert_eq!(
            pairs,
            vec![
                Pair { a: "/data/a.jpg".into(), b: "/data/b.jpg".into(), same: true },
                Pair { a: "/abs/c.png".into(), b: "/data/d.png".into(), same: false },
            ]
        );
        assert_eq!(parse_pairs(&format_pairs(&pairs), Path::new("/x")).unwrap(), pairs);
        assert_eq!(parse_pairs("a\tb\n", Path::new(".")), Err(PairsError::Fields { line: 1, found: 2 }));
        assert_eq!(
            parse_pairs("# c\na\tb\tmaybe\n", Path::new(".")),
            Err(PairsError::Label { line: 2, label: "maybe".into() })
        );
        assert_eq!(parse_pairs("# only a comment\n", Path::new(".")), Err(PairsError::Empty));
    }

    #[test]
    fn rates_det_and_target_threshold() {
        let genuine = [Some(0.8), Some(0.6), Some(0.4), None];
        let impostor = [Some(0.1), Some(0.3), Some(0.35), None];
        let e = evaluate(&genuine, &impostor, &[0.3, 0.5], 0.0);
        assert_eq!((e.genuine_pairs, e.impostor_pairs), (4, 4));
        assert_eq!((e.genuine_failed_to_acquire, e.impostor_failed_to_acquire), (1, 1));
        let p = e.per_threshold[0];
        assert_eq!((p.false_matches, p.false_non_matches), (2, 0));
        assert!((p.fmr - 2.0 / 3.0).abs() < 1e-9 && p.fnmr == 0.0 && (p.fnmr_with_fta - 0.25).abs() < 1e-9);
        let p = e.per_threshold[1];
        assert_eq!((p.false_matches, p.false_non_matches), (0, 1));
        assert_eq!(e.det.len(), 6);
        // FMR 0 needs a threshold above the highest impostor score 0.35.
        assert_eq!(e.threshold_at_target, Some(0.351));
        assert_eq!(e.at_target.unwrap().false_non_matches, 0);
        assert_eq!(e.impostor_max, Some(0.35));
    }
}
