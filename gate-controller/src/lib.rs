//! The flap-barrier gate: its serial protocol, the controller state machine, the host-side link
//! and a simulator.
//!
//! * [`wire`]: frames and messages over bytes. Pure, no I/O, never panics on input.
//! * [`controller`]: the gate's side as pure state machines (time is passed in, no I/O).
//! * [`link`]: the host (kiosk) side, [`link::GateLink`], an I/O thread over a serial port.
//! * [`sim`]: simulated gate hardware and passengers, and the serving loop of `gate-sim`.

pub mod controller;
pub mod link;
pub mod sim;
pub mod wire;

pub use link::{GateEvent, GateLink, GateStatusReport, LinkConfig, LinkError, LinkState};
pub use wire::{AlarmKind, Direction, GateMode};
