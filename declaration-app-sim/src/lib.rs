//! Stands in for the two parties outside the airport:
//! - the passenger's declaration app ([`app`]): fills form C5360, signs it with
//!   the declaration service key and renders the QR code;
//! - the passport issuer ([`issuer`]): writes chip images holding EF.COM, DG1
//!   and DG2 in the kiosk's LDS formats.
//!
//! [`answers`] (answers from flags and answer files, checked as the app
//! does), [`prompt`] (the interactive questions), [`report`] (what the app
//! tells the passenger) and [`batch`] (random declarations from a seed) are
//! the app's command line.
//!
//! [`population`] makes whole synthetic passengers (passport, declaration,
//! face photos) for the demo and the end-to-end tests.
//!
//! Built on the kiosk's public formats; the kiosk never depends on this crate.

pub mod answers;
pub mod app;
pub mod batch;
pub mod issuer;
pub mod photos;
pub mod pki;
pub mod population;
pub mod prompt;
pub mod report;
