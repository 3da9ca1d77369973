//! Orchestration of one lane: the kiosk flow and the gate station.
//!
//! [`Lane`] owns the devices (behind their traits), the store and the
//! clearances. It runs on a worker thread; observers (UI, console printer)
//! receive [`events::FlowEvent`]s and never call back into it; the only way
//! back in is [`control::LaneControl`] (cancel, step time limits). Staff
//! reach the gate through [`gate_monitor::GateDesk`], at once.

pub mod audit;
pub mod clock;
pub mod control;
pub mod events;
mod flow;
pub mod gate_monitor;
pub mod gate_station;
pub mod printer;
#[cfg(feature = "sim")]
pub mod sim;

pub use flow::{GateOutcome, KioskOutcome, Lane, LaneDevices, LaneError};
