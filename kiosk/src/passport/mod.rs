//! The IC passport: formats (pure), and the reader boundary.
//!
//! - [`mrz`], [`tlv`], [`lds`], [`chip_image`]: formats, no I/O, no panics.
//! - [`PassportReader`]: the device boundary. [`sim::SimulatedPassportReader`]
//!   (feature `sim`) reads a chip image placed in its slot by a simulator.
//!
//! Issue 2 scope: the simulated reader reads the elementary files directly;
//! BAC/PACE, secure messaging over APDUs and document authentication come
//! with the IC passport work, behind this same trait.

pub mod apdu;
pub mod chip_image;
pub mod lds;
pub mod mrz;
pub mod oid;
#[cfg(feature = "sim")]
pub mod sim;
pub mod tlv;
pub mod transport;
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
    /// How the chip was accessed, for the record ("file" for the simulator's
    /// direct read; "bac" or "pace" for real chips).
    pub access: &'static str,
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
}

/// The passport reader: page scanner plus contactless chip reader.
pub trait PassportReader: Send {
    /// Read the document currently on the reader.
    fn read(&mut self) -> Result<PassportRead, PassportError>;
}
