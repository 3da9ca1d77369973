//! The gate controller: what runs on (or stands in for) the flap-barrier gate's board.
//!
//! Invariant: nothing in here does I/O or reads a clock. [`machine`] is the operating state
//! machine (`next(state, input, now) -> (state, actions)`); [`endpoint`] wraps it with the
//! protocol's reliability rules (ACK/NAK, de-duplication, retransmission, heartbeats). A driver
//! (such as [`crate::sim`]) moves bytes between a serial line and the endpoint and applies flap
//! commands to a [`GateHardware`].

pub mod endpoint;
pub mod machine;

#[cfg(test)]
mod tests;

pub use endpoint::{EndpointConfig, GateEndpoint, Output};
pub use machine::{
    Action, Command, Config, FlapCommand, GateState, Input, OosReason, Passage, Phase, Reply, SensorEvent,
    Side, next,
};

/// The gate's physical side: flap motors and the lane sensors.
pub trait GateHardware {
    /// Drives the flaps.
    fn drive_flaps(&mut self, command: FlapCommand, now_ms: u64);
    /// Sensor events since the last call, in order.
    fn poll_sensors(&mut self, now_ms: u64) -> Vec<SensorEvent>;
}
