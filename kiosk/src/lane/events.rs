//! What the lane tells its observers (the Bevy UI, the console printer, later
//! the staff console). The UI only ever *reads* these: it never drives a device.

use std::sync::Arc;

use image::RgbImage;

use crate::decision::Decision;

/// Transaction id: one passenger's visit to the kiosk. Logged instead of names.
pub type TransactionId = String;

/// The steps the passenger sees, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Welcome,
    Passport,
    Declaration,
    Face,
    Result,
    Gate,
}

impl Step {
    pub const ALL: [Step; 6] =
        [Step::Welcome, Step::Passport, Step::Declaration, Step::Face, Step::Result, Step::Gate];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Welcome => "welcome",
            Step::Passport => "passport",
            Step::Declaration => "declaration",
            Step::Face => "face",
            Step::Result => "result",
            Step::Gate => "gate",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Ok,
    /// The step failed; the message is for logs, the code for the passenger.
    Failed {
        code: &'static str,
        detail: String,
    },
}

/// What happened at the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateStatus {
    /// The gate camera recognised the passenger and the flaps were authorised.
    Authorised,
    /// The passenger walked through.
    PassageCompleted,
    /// Authorised, but nobody came through in time.
    PassageTimedOut,
    /// The gate raised an alarm (tailgating, reverse entry, ...).
    Alarm(String),
    /// The gate could not be reached.
    LinkDown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FlowEvent {
    /// The lane is waiting for the next passenger.
    Idle,
    StepStarted {
        transaction: TransactionId,
        step: Step,
    },
    StepFinished {
        transaction: TransactionId,
        step: Step,
        outcome: StepOutcome,
        elapsed_ms: u64,
    },
    Decided {
        transaction: TransactionId,
        decision: Decision,
    },
    Gate {
        transaction: TransactionId,
        status: GateStatus,
    },
    /// A hint for the passenger during a capture step (face: "come closer",
    /// "remove sunglasses"; see [`guidance`]). Replaced by the next hint or
    /// cleared when the step finishes.
    Guidance {
        transaction: TransactionId,
        step: Step,
        hint: &'static str,
    },
    /// A downscaled camera frame for the on-screen preview. Only the UI sees
    /// it; it is never stored or logged.
    Preview {
        transaction: TransactionId,
        step: Step,
        frame: Arc<RgbImage>,
    },
    /// The step that just started has a time limit (see
    /// [`super::control::StepTimeouts`]); the UI counts down from it. When it
    /// passes, the step ends with [`failure::TIMED_OUT`].
    Deadline {
        transaction: TransactionId,
        step: Step,
        limit_ms: u64,
    },
    /// What the gate's display asks the passenger walking up (before the
    /// gate knows who they are): `hint` is a [`guidance`] code, e.g.
    /// [`guidance::STOP_AND_LOOK`] for the stop-and-capture fallback.
    GateCamera {
        hint: &'static str,
    },
    /// The lane stopped (end of the demo, or a fatal device error).
    Shutdown {
        reason: String,
    },
}

/// Guidance hints of [`FlowEvent::Guidance`]; each has a passenger message
/// `hint-<code with dashes>` in every language.
pub mod guidance {
    pub const LOOK_AT_CAMERA: &str = "look_at_camera";
    pub const COME_CLOSER: &str = "come_closer";
    pub const REMOVE_SUNGLASSES: &str = "remove_sunglasses";
    pub const ONE_PERSON: &str = "one_person";
    pub const MORE_LIGHT: &str = "more_light";
    pub const HOLD_STILL: &str = "hold_still";
    pub const HOLD_QR_STEADY: &str = "hold_qr_steady";
    pub const TOO_BRIGHT: &str = "too_bright";
    /// At the gate: the walking capture found no clearance; stop and look
    /// at the gate camera.
    pub const STOP_AND_LOOK: &str = "stop_and_look";
    pub const ALL: [&str; 9] = [
        LOOK_AT_CAMERA,
        COME_CLOSER,
        REMOVE_SUNGLASSES,
        ONE_PERSON,
        MORE_LIGHT,
        HOLD_STILL,
        HOLD_QR_STEADY,
        TOO_BRIGHT,
        STOP_AND_LOOK,
    ];
}

/// Failure codes of [`StepOutcome::Failed`]; each has a passenger message
/// `error-<code with dashes>` in every language (checked by a test).
pub mod failure {
    pub const CHIP_UNREADABLE: &str = "chip_unreadable";
    pub const READER_UNAVAILABLE: &str = "reader_unavailable";
    pub const QR_INVALID: &str = "qr_invalid";
    pub const QR_NOT_YOURS: &str = "qr_not_yours";
    pub const FACE_NOT_MATCHED: &str = "face_not_matched";
    pub const CAMERA_UNAVAILABLE: &str = "camera_unavailable";
    /// The document on the reader is not a passport the kiosk can read (no
    /// readable machine-readable zone, an unsupported document type).
    pub const DOCUMENT_UNKNOWN: &str = "document_unknown";
    /// The step's time limit passed ([`super::super::control::StepTimeouts`]).
    pub const TIMED_OUT: &str = "timed_out";
    /// The passenger touched "Back / Cancel".
    pub const CANCELLED: &str = "cancelled";
    pub const ALL: [&str; 9] = [
        CHIP_UNREADABLE,
        READER_UNAVAILABLE,
        QR_INVALID,
        QR_NOT_YOURS,
        FACE_NOT_MATCHED,
        CAMERA_UNAVAILABLE,
        DOCUMENT_UNKNOWN,
        TIMED_OUT,
        CANCELLED,
    ];
}
