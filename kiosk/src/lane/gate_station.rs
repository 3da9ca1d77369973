//! Clearances: passengers the kiosk cleared, waiting to be recognised by the
//! gate camera (a small 1:N search). A clearance holds the face template taken
//! at the kiosk (not the passport photo) and expires; when it is removed the
//! template is zeroed (see [`crate::face::FaceTemplate`]).

use std::time::{Duration, Instant};

use crate::face::FaceTemplate;

#[derive(Debug)]
pub struct Clearance {
    pub transaction: String,
    pub template: FaceTemplate,
    pub expires: Instant,
}

#[derive(Debug, Default)]
pub struct Clearances {
    active: Vec<Clearance>,
}

/// The best match among the active clearances.
#[derive(Debug, Clone, PartialEq)]
pub struct GateMatch {
    pub transaction: String,
    pub score: f32,
}

impl Clearances {
    pub fn enroll(&mut self, transaction: String, template: FaceTemplate, ttl: Duration, now: Instant) {
        self.active.push(Clearance { transaction, template, expires: now + ttl });
    }

    /// Drop expired clearances; returns their transaction ids.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let (expired, keep): (Vec<_>, Vec<_>) = self.active.drain(..).partition(|c| c.expires <= now);
        self.active = keep;
        expired.into_iter().map(|c| c.transaction.clone()).collect()
    }

    /// 1:N: the best-scoring clearance at or above `threshold`.
    pub fn best_match(&self, probe: &FaceTemplate, threshold: f32) -> Option<GateMatch> {
        self.active
            .iter()
            .map(|c| GateMatch {
                transaction: c.transaction.clone(),
                score: c.template.cosine_similarity(probe),
            })
            .filter(|m| m.score >= threshold)
            .max_by(|a, b| a.score.total_cmp(&b.score))
    }

    /// Remove a clearance after passage; its template is zeroed on drop.
    pub fn remove(&mut self, transaction: &str) -> bool {
        let before = self.active.len();
        self.active.retain(|c| c.transaction != transaction);
        before != self.active.len()
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32]) -> FaceTemplate {
        FaceTemplate(v.to_vec())
    }

    #[test]
    fn one_to_n_picks_the_best_above_threshold() {
        let now = Instant::now();
        let mut c = Clearances::default();
        c.enroll("a".into(), t(&[1.0, 0.0]), Duration::from_secs(60), now);
        c.enroll("b".into(), t(&[0.6, 0.8]), Duration::from_secs(60), now);
        assert_eq!(c.best_match(&t(&[0.5, 0.86]), 0.6).unwrap().transaction, "b");
        assert!(c.best_match(&t(&[-1.0, 0.0]), 0.3).is_none());
        assert!(c.remove("b"));
        assert_eq!(c.best_match(&t(&[0.5, 0.86]), 0.6).map(|m| m.transaction), None);
    }

    #[test]
    fn clearances_expire() {
        let now = Instant::now();
        let mut c = Clearances::default();
        c.enroll("a".into(), t(&[1.0]), Duration::from_secs(1), now);
        assert!(c.expire(now).is_empty());
        assert_eq!(c.expire(now + Duration::from_secs(2)), vec!["a".to_string()]);
        assert!(c.is_empty());
    }
}
