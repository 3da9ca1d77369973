//! The kiosk: electronic customs declaration terminal and gate station.
//!
//! Layers (see docs/ARCHITECTURE.md):
//! - formats, pure over bytes, no I/O: [`passport::mrz`], [`passport::tlv`],
//!   [`passport::lds`], [`declaration::payload`];
//! - device boundaries (traits with a real and a simulated backend):
//!   [`passport::PassportReader`], [`camera::Camera`], [`face::FaceMatcher`],
//!   the gate link from the `gate-controller` crate, and [`store::Store`];
//! - orchestration: [`decision`] (pure), [`lane`] (one passenger's flow, the
//!   gate station), and the UI (`ui`, Bevy) that only observes the lane.

pub mod camera;
pub mod config;
#[cfg(feature = "console")]
pub mod console;
pub mod decision;
pub mod declaration;
pub mod face;
pub mod i18n;
pub mod lane;
pub mod passport;
pub mod qr;
pub mod store;
#[cfg(feature = "ui")]
pub mod ui;
pub mod uplink;
pub mod watch_list;
