//! Votes over several frames: a text is accepted once it was decoded in at
//! least `needed` of the last `window` frames.
//!
//! The lane does not need votes for a declaration whose signature verifies:
//! Reed-Solomon correction plus an Ed25519 signature make a misread that
//! still verifies practically impossible, so one frame suffices. Votes
//! protect the *negative* verdicts: a code that fails verification (bad
//! signature, expired, foreign) is only reported once it was read the same in
//! `needed` of `window` frames, so that one misread frame never refers a
//! passenger.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct Votes {
    needed: usize,
    window: usize,
    frames: VecDeque<Vec<String>>,
}

impl Default for Votes {
    /// 2 of the last 5 frames.
    fn default() -> Self {
        Votes::new(2, 5)
    }
}

impl Votes {
    /// `needed` of the last `window` frames (`needed` is at least 1 and at
    /// most `window`).
    pub fn new(needed: usize, window: usize) -> Votes {
        let window = window.max(1);
        Votes { needed: needed.clamp(1, window), window, frames: VecDeque::with_capacity(window) }
    }

    pub fn needed(&self) -> usize {
        self.needed
    }

    pub fn window(&self) -> usize {
        self.window
    }

    /// Record one frame's texts (an empty slice for a frame without a code)
    /// and return a text now seen in enough of the last frames: the one seen
    /// most often, the earliest found on a tie.
    pub fn push(&mut self, texts: &[String]) -> Option<String> {
        if self.frames.len() == self.window {
            self.frames.pop_front();
        }
        let mut distinct: Vec<String> = Vec::new();
        for t in texts {
            if !distinct.contains(t) {
                distinct.push(t.clone());
            }
        }
        self.frames.push_back(distinct);
        self.leader().filter(|(_, n)| *n >= self.needed).map(|(t, _)| t.to_string())
    }

    /// How many of the frames in the window hold `text`.
    pub fn count(&self, text: &str) -> usize {
        self.frames.iter().filter(|f| f.iter().any(|t| t == text)).count()
    }

    /// The text seen in the most frames of the window, with its count.
    pub fn leader(&self) -> Option<(&str, usize)> {
        let mut best: Option<(&str, usize)> = None;
        for f in &self.frames {
            for t in f {
                let n = self.count(t);
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((t, n));
                }
            }
        }
        best
    }

    pub fn clear(&mut self) {
        self.frames.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> Vec<String> {
        vec![t.to_string()]
    }

    #[test]
    fn two_of_five_by_default() {
        let mut v = Votes::default();
        assert_eq!(v.push(&s("A")), None);
        assert_eq!(v.push(&[]), None);
        assert_eq!(v.push(&s("A")), Some("A".into()));
    }

    #[test]
    fn old_frames_leave_the_window() {
        let mut v = Votes::new(2, 3);
        assert_eq!(v.push(&s("A")), None);
        assert_eq!(v.push(&[]), None);
        assert_eq!(v.push(&[]), None);
        // The first A has left the window.
        assert_eq!(v.push(&s("A")), None);
        assert_eq!(v.push(&s("A")), Some("A".into()));
    }

    #[test]
    fn a_frame_counts_a_text_once_and_the_majority_wins() {
        let mut v = Votes::new(2, 5);
        assert_eq!(v.push(&[String::from("A"), String::from("A")]), None);
        assert_eq!(v.push(&[String::from("B")]), None);
        assert_eq!(v.push(&[String::from("B"), String::from("A")]), Some("A".into()));
        assert_eq!(v.push(&s("B")), Some("B".into()));
    }

    #[test]
    fn one_of_one_accepts_at_once_and_bounds_are_clamped() {
        assert_eq!(Votes::new(1, 1).push(&s("A")), Some("A".into()));
        let v = Votes::new(9, 0);
        assert_eq!((v.needed(), v.window()), (1, 1));
    }
}
