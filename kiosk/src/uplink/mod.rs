//! A lane's link to the staff console: [`wire`] is the format (pure), and
//! [`client`] (feature `uplink`) the thread that syncs the lane's records and
//! live state to the console.

#[cfg(feature = "uplink")]
pub mod client;
pub mod wire;
