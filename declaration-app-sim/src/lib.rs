//! Stands in for the two parties outside the airport:
//! - the passenger's declaration app ([`app`]): fills form C5360, signs it with
//!   the declaration service key and renders the QR code;
//! - the passport issuer ([`issuer`]): writes chip images holding EF.COM, DG1
//!   and DG2 in the kiosk's LDS formats.
//!
//! [`population`] makes whole synthetic passengers (passport, declaration,
//! face photos) for the demo and the end-to-end tests.
//!
//! Built on the kiosk's public formats; the kiosk never depends on this crate.

pub mod app;
pub mod issuer;
pub mod photos;
pub mod pki;
pub mod population;
