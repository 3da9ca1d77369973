//! The IC passport: formats (pure), and the reader boundary.
//!
//! Three layers, as in JMRTD:
//! - formats, pure over bytes, never panicking: [`mrz`], [`tlv`], [`lds`],
//!   [`security_infos`], [`sod`], [`apdu`], [`chip_image`], [`oid`];
//! - protocols, pure state machines plus small drivers over a
//!   [`transport::CardTransport`]: [`sm`] (secure messaging), [`bac`], [`pace`]
//!   (GM and CAM), [`ca`], [`aa`], and [`pa`] with its [`trust`] store;
//! - the reader: [`reader::read_chip`] runs them in BSI TR-03135 order with
//!   reconnect-and-resume, behind the [`PassportReader`] device trait.
//!
//! Transports: the PC/SC reader (`pcsc` feature, [`pcsc_reader`]) and the
//! virtual chip (`sim` feature, [`chip`]), which answers the same APDUs.

pub mod aa;
pub mod apdu;
pub mod bac;
pub mod ca;
#[cfg(feature = "sim")]
pub mod chip;
pub mod chip_image;
pub mod countries;
pub mod lds;
pub mod mrz;
pub mod oid;
pub mod pa;
pub mod pace;
#[cfg(feature = "pcsc")]
pub mod pcsc_reader;
pub mod reader;
pub mod security_infos;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sm;
pub mod sod;
pub mod tlv;
pub mod transport;
pub mod trust;
pub mod verdict;

use lds::{EfCom, FacePortrait, LdsError};
use mrz::{Mrz, MrzError};

/// What the kiosk learns from the document on the reader.
#[derive(Debug, Clone)]
pub struct PassportRead {
    /// The MRZ printed on the data page, as the reader's page scanner saw it.
    pub page_mrz: Mrz,
    pub com: EfCom,
    /// DG1: the MRZ as the chip holds it.
    pub chip_mrz: Mrz,
    /// DG2: the holder's portrait.
    pub portrait: FacePortrait,
    /// How the chip was opened: "bac", "pace" or "pace-cam".
    pub access: &'static str,
    /// Passive, Chip and Active Authentication, each with its verdict.
    pub authentication: reader::DocumentAuthentication,
    /// Per-step times of the chip read, for the record and the benchmark.
    pub timings: Vec<reader::StepTiming>,
}

impl PassportRead {
    /// The printed page and the chip must describe the same document, and
    /// every check digit must hold on both.
    pub fn is_consistent(&self) -> bool {
        self.page_mrz.all_checks_pass()
            && self.chip_mrz.all_checks_pass()
            && self.page_mrz.lines == self.chip_mrz.lines
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PassportError {
    #[error("no passport on the reader")]
    NoDocument,
    #[error("the passport reader is unavailable: {0}")]
    ReaderUnavailable(String),
    #[error("the data page MRZ cannot be read: {0}")]
    PageMrz(MrzError),
    #[error("the chip does not hold {0}")]
    MissingFile(&'static str),
    #[error("the chip data are malformed: {0}")]
    Lds(#[from] LdsError),
    #[error("the chip could not be read: {0}")]
    Chip(String),
    #[error("the chip could not be read: {0}")]
    Read(#[from] reader::ReadError),
}

/// The passport reader: page scanner plus contactless chip reader.
pub trait PassportReader: Send {
    /// Read the document currently on the reader.
    fn read(&mut self) -> Result<PassportRead, PassportError>;
}
