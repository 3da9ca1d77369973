//! The decision engine: pure, explainable, no I/O.
//!
//! Input: what the kiosk established about the document, the declaration and
//! the face. Output: [`Decision::Green`] (walk to the gate) or
//! [`Decision::Referral`] with every [`ReasonCode`] that applies, so that the
//! officer at the staffed desk and the audit trail see *why*.

use serde::{Deserialize, Serialize};

/// Why a passenger is sent to the staffed desk. Stable codes: they are stored
/// in the records and translated for the passenger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Prohibited or restricted articles declared (C5360 question 1-1).
    ProhibitedArticles,
    /// Goods over the duty-free allowance declared (question 1-2).
    OverAllowance,
    /// Commercial goods or samples (question 1-3).
    CommercialGoods,
    /// Items carried for someone else (question 1-4).
    CarriedForOthers,
    /// Cash or securities over 1,000,000 yen, or gold over 1 kg (question 2).
    CashOrGold,
    /// Unaccompanied articles (question 3).
    UnaccompaniedArticles,
    /// The live face did not match the chip portrait.
    FaceMismatch,
    /// No usable face capture.
    FaceNotCaptured,
    /// The face in front of the camera looks like a photo or a screen
    /// (presentation attack detection over the capture burst).
    PresentationAttackSuspected,
    /// The passport has expired.
    DocumentExpired,
    /// The printed MRZ and the chip's DG1 disagree, or a check digit fails.
    DocumentInconsistent,
    /// The chip could not be read or its data are malformed.
    ChipUnreadable,
    /// Passive Authentication did not pass: the chip data are not signed by
    /// a trusted issuer, or were altered.
    DocumentNotAuthentic,
    /// Chip or Active Authentication failed: a cloned or substituted chip.
    ChipNotGenuine,
    /// The declaration belongs to another passport.
    DeclarationHolderMismatch,
    /// The declaration QR code is invalid (signature, expiry, format).
    DeclarationInvalid,
    /// Selected for inspection at random.
    RandomSelection,
    /// The document or its holder (name + date of birth) is on the risk
    /// watch list. Shown to the passenger with the random-selection text.
    WatchList,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::ProhibitedArticles => "prohibited_articles",
            ReasonCode::OverAllowance => "over_allowance",
            ReasonCode::CommercialGoods => "commercial_goods",
            ReasonCode::CarriedForOthers => "carried_for_others",
            ReasonCode::CashOrGold => "cash_or_gold",
            ReasonCode::UnaccompaniedArticles => "unaccompanied_articles",
            ReasonCode::FaceMismatch => "face_mismatch",
            ReasonCode::FaceNotCaptured => "face_not_captured",
            ReasonCode::PresentationAttackSuspected => "presentation_attack_suspected",
            ReasonCode::DocumentExpired => "document_expired",
            ReasonCode::DocumentInconsistent => "document_inconsistent",
            ReasonCode::ChipUnreadable => "chip_unreadable",
            ReasonCode::DocumentNotAuthentic => "document_not_authentic",
            ReasonCode::ChipNotGenuine => "chip_not_genuine",
            ReasonCode::DeclarationHolderMismatch => "declaration_holder_mismatch",
            ReasonCode::DeclarationInvalid => "declaration_invalid",
            ReasonCode::RandomSelection => "random_selection",
            ReasonCode::WatchList => "watch_list",
        }
    }

    pub const ALL: [ReasonCode; 18] = [
        ReasonCode::ProhibitedArticles,
        ReasonCode::OverAllowance,
        ReasonCode::CommercialGoods,
        ReasonCode::CarriedForOthers,
        ReasonCode::CashOrGold,
        ReasonCode::UnaccompaniedArticles,
        ReasonCode::FaceMismatch,
        ReasonCode::FaceNotCaptured,
        ReasonCode::PresentationAttackSuspected,
        ReasonCode::DocumentExpired,
        ReasonCode::DocumentInconsistent,
        ReasonCode::ChipUnreadable,
        ReasonCode::DocumentNotAuthentic,
        ReasonCode::ChipNotGenuine,
        ReasonCode::DeclarationHolderMismatch,
        ReasonCode::DeclarationInvalid,
        ReasonCode::RandomSelection,
        ReasonCode::WatchList,
    ];
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reasons", rename_all = "snake_case")]
pub enum Decision {
    Green,
    Referral(Vec<ReasonCode>),
}

impl Decision {
    pub fn is_green(&self) -> bool {
        matches!(self, Decision::Green)
    }
    pub fn reasons(&self) -> &[ReasonCode] {
        match self {
            Decision::Green => &[],
            Decision::Referral(r) => r,
        }
    }
}

/// What the document step established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentFinding {
    Valid,
    Expired,
    Inconsistent,
    Unreadable,
}

/// What document authentication established (only meaningful when the chip
/// was read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticity {
    /// Passive Authentication passed.
    pub data_genuine: bool,
    /// No chip check (Chip/Active Authentication) failed.
    pub chip_genuine: bool,
}

impl Authenticity {
    pub const GENUINE: Authenticity = Authenticity { data_genuine: true, chip_genuine: true };
}

/// What the declaration step established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclarationFinding {
    /// Valid and belonging to this passport; the reasons its answers raise.
    Valid {
        declared: Vec<ReasonCode>,
    },
    /// Valid signature but for another passport.
    HolderMismatch,
    Invalid,
}

/// What the face step established.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaceFinding {
    Matched { score: f32 },
    NotMatched { score: f32 },
    NotCaptured,
}

/// What presentation attack detection established over the face burst
/// ([`crate::face::pad`]); the score is higher for a live face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PresentationFinding {
    BonaFide {
        score: f32,
    },
    AttackSuspected {
        score: f32,
    },
    /// Too few usable frames to tell: the capture is not usable either.
    NotAssessed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    pub document: DocumentFinding,
    pub authenticity: Authenticity,
    pub declaration: DeclarationFinding,
    pub face: FaceFinding,
    pub presentation: PresentationFinding,
    pub randomly_selected: bool,
    /// The chip's DG1 matched a watch-list entry ([`crate::watch_list`]).
    pub watch_list_hit: bool,
}

/// Green only when every finding is clean; otherwise every applicable reason,
/// sorted and without duplicates.
pub fn decide(f: &Findings) -> Decision {
    let mut reasons = Vec::new();
    match f.document {
        DocumentFinding::Valid => {}
        DocumentFinding::Expired => reasons.push(ReasonCode::DocumentExpired),
        DocumentFinding::Inconsistent => reasons.push(ReasonCode::DocumentInconsistent),
        DocumentFinding::Unreadable => reasons.push(ReasonCode::ChipUnreadable),
    }
    if f.document != DocumentFinding::Unreadable {
        if !f.authenticity.data_genuine {
            reasons.push(ReasonCode::DocumentNotAuthentic);
        }
        if !f.authenticity.chip_genuine {
            reasons.push(ReasonCode::ChipNotGenuine);
        }
    }
    match &f.declaration {
        DeclarationFinding::Valid { declared } => reasons.extend(declared.iter().copied()),
        DeclarationFinding::HolderMismatch => reasons.push(ReasonCode::DeclarationHolderMismatch),
        DeclarationFinding::Invalid => reasons.push(ReasonCode::DeclarationInvalid),
    }
    match f.face {
        FaceFinding::Matched { .. } => {}
        FaceFinding::NotMatched { .. } => reasons.push(ReasonCode::FaceMismatch),
        FaceFinding::NotCaptured => reasons.push(ReasonCode::FaceNotCaptured),
    }
    match f.presentation {
        PresentationFinding::BonaFide { .. } => {}
        PresentationFinding::AttackSuspected { .. } => reasons.push(ReasonCode::PresentationAttackSuspected),
        // A face that matched but could not be checked for liveness is no
        // usable capture: never green on an unchecked presentation.
        PresentationFinding::NotAssessed => reasons.push(ReasonCode::FaceNotCaptured),
    }
    if f.randomly_selected {
        reasons.push(ReasonCode::RandomSelection);
    }
    if f.watch_list_hit {
        reasons.push(ReasonCode::WatchList);
    }
    reasons.sort();
    reasons.dedup();
    if reasons.is_empty() { Decision::Green } else { Decision::Referral(reasons) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean() -> Findings {
        Findings {
            document: DocumentFinding::Valid,
            authenticity: Authenticity::GENUINE,
            declaration: DeclarationFinding::Valid { declared: vec![] },
            face: FaceFinding::Matched { score: 0.7 },
            presentation: PresentationFinding::BonaFide { score: 0.9 },
            randomly_selected: false,
            watch_list_hit: false,
        }
    }

    #[test]
    fn all_clean_is_green() {
        assert_eq!(decide(&clean()), Decision::Green);
    }

    #[test]
    fn every_problem_is_listed() {
        let f = Findings {
            document: DocumentFinding::Expired,
            authenticity: Authenticity { data_genuine: false, chip_genuine: true },
            declaration: DeclarationFinding::Valid {
                declared: vec![ReasonCode::OverAllowance, ReasonCode::CashOrGold, ReasonCode::OverAllowance],
            },
            face: FaceFinding::NotMatched { score: 0.1 },
            presentation: PresentationFinding::AttackSuspected { score: 0.1 },
            randomly_selected: true,
            watch_list_hit: true,
        };
        assert_eq!(
            decide(&f),
            Decision::Referral(vec![
                ReasonCode::OverAllowance,
                ReasonCode::CashOrGold,
                ReasonCode::FaceMismatch,
                ReasonCode::PresentationAttackSuspected,
                ReasonCode::DocumentExpired,
                ReasonCode::DocumentNotAuthentic,
                ReasonCode::RandomSelection,
                ReasonCode::WatchList,
            ])
        );
    }

    #[test]
    fn each_single_finding_refers() {
        let cases: Vec<(Findings, ReasonCode)> = vec![
            (Findings { document: DocumentFinding::Unreadable, ..clean() }, ReasonCode::ChipUnreadable),
            (
                Findings { document: DocumentFinding::Inconsistent, ..clean() },
                ReasonCode::DocumentInconsistent,
            ),
            (
                Findings { declaration: DeclarationFinding::HolderMismatch, ..clean() },
                ReasonCode::DeclarationHolderMismatch,
            ),
            (
                Findings { declaration: DeclarationFinding::Invalid, ..clean() },
                ReasonCode::DeclarationInvalid,
            ),
            (Findings { face: FaceFinding::NotCaptured, ..clean() }, ReasonCode::FaceNotCaptured),
            (
                Findings {
                    authenticity: Authenticity { data_genuine: false, chip_genuine: true },
                    ..clean()
                },
                ReasonCode::DocumentNotAuthentic,
            ),
            (
                Findings {
                    authenticity: Authenticity { data_genuine: true, chip_genuine: false },
                    ..clean()
                },
                ReasonCode::ChipNotGenuine,
            ),
            (
                Findings { presentation: PresentationFinding::AttackSuspected { score: 0.2 }, ..clean() },
                ReasonCode::PresentationAttackSuspected,
            ),
            (
                Findings { presentation: PresentationFinding::NotAssessed, ..clean() },
                ReasonCode::FaceNotCaptured,
            ),
            (Findings { randomly_selected: true, ..clean() }, ReasonCode::RandomSelection),
            (Findings { watch_list_hit: true, ..clean() }, ReasonCode::WatchList),
        ];
        for (f, want) in cases {
            assert_eq!(decide(&f), Decision::Referral(vec![want]));
        }
    }

    #[test]
    fn reason_codes_serialise_as_their_names() {
        for r in ReasonCode::ALL {
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{}\"", r.as_str()));
        }
    }
}
