//! The outcome of one document-authentication check, as reported to the
//! officer and stored with the transaction: never a silent skip.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    /// The check ran and held; `detail` says what was verified (algorithm, key).
    Passed { detail: String },
    /// The check ran and failed: the document or chip is not genuine, or
    /// the evidence is inconsistent.
    Failed { reason: String },
    /// The check could not run: the chip does not offer it, or it uses an
    /// algorithm this kiosk does not implement.
    NotSupported { reason: String },
}

impl Verdict {
    pub fn passed(detail: impl Into<String>) -> Verdict {
        Verdict::Passed { detail: detail.into() }
    }
    pub fn failed(reason: impl Into<String>) -> Verdict {
        Verdict::Failed { reason: reason.into() }
    }
    pub fn not_supported(reason: impl Into<String>) -> Verdict {
        Verdict::NotSupported { reason: reason.into() }
    }
    pub fn is_passed(&self) -> bool {
        matches!(self, Verdict::Passed { .. })
    }
    pub fn is_failed(&self) -> bool {
        matches!(self, Verdict::Failed { .. })
    }
    /// Short word for logs and tables.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Passed { .. } => "passed",
            Verdict::Failed { .. } => "failed",
            Verdict::NotSupported { .. } => "not supported",
        }
    }
    /// The detail or reason text.
    pub fn text(&self) -> &str {
        match self {
            Verdict::Passed { detail } => detail,
            Verdict::Failed { reason } | Verdict::NotSupported { reason } => reason,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.label(), self.text())
    }
}
