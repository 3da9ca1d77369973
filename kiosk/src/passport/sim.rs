//! Simulated passport reader: a simulator places a document (printed MRZ and
//! chip image) in a [`PassportSlot`]; the kiosk's reader reads the page MRZ and
//! then the chip, through real APDUs exchanged with a [`VirtualChip`] built
//! from the image, exactly as it would over PC/SC. With nothing in the slot
//! it answers [`PassportError::NoDocument`], like a real reader with no
//! passport on it.

use std::sync::{Arc, Mutex};

use super::chip::{ChipFaults, ChipProfile, VirtualChip};
use super::chip_image::ChipImage;
use super::mrz::Mrz;
use super::reader::{ReadOptions, read_chip};
use super::trust::TrustStore;
use super::{PassportError, PassportRead, PassportReader};

/// A document as placed on the reader.
#[derive(Debug, Clone)]
pub struct PlacedDocument {
    /// The MRZ lines printed on the data page.
    pub page_mrz: String,
    pub chip: ChipImage,
}

/// Shared handle through which a simulator puts a passport on the reader.
#[derive(Debug, Clone, Default)]
pub struct PassportSlot(Arc<Mutex<Option<PlacedDocument>>>);

impl PassportSlot {
    pub fn place(&self, doc: PlacedDocument) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(doc);
    }
    pub fn remove(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    fn current(&self) -> Option<PlacedDocument> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub struct SimulatedPassportReader {
    slot: PassportSlot,
    trust: Arc<TrustStore>,
    profile: ChipProfile,
    faults: ChipFaults,
}

impl SimulatedPassportReader {
    /// A reader that authenticates documents against `trust` (the CSCAs).
    pub fn new(slot: PassportSlot, trust: Arc<TrustStore>) -> Self {
        SimulatedPassportReader {
            slot,
            trust,
            profile: ChipProfile::default(),
            faults: ChipFaults::default(),
        }
    }

    /// Chips of this profile, with these link faults (for tests and demos).
    pub fn with_chip(mut self, profile: ChipProfile, faults: ChipFaults) -> Self {
        self.profile = profile;
        self.faults = faults;
        self
    }
}

impl PassportReader for SimulatedPassportReader {
    fn read(&mut self) -> Result<PassportRead, PassportError> {
        let doc = self.slot.current().ok_or(PassportError::NoDocument)?;
        let page_mrz = Mrz::parse(&doc.page_mrz).map_err(PassportError::PageMrz)?;
        let mut chip = VirtualChip::with_profile(&doc.chip, self.profile)
            .map_err(|e| PassportError::Chip(e.to_string()))?
            .with_faults(self.faults);
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let read = read_chip(
            &mut chip,
            &page_mrz.key_information(),
            &self.trust,
            &ReadOptions::default(),
            &mut rng,
        )?;
        Ok(PassportRead {
            page_mrz,
            com: read.com,
            chip_mrz: read.dg1,
            portrait: read.portrait,
            access: read.access.name(),
            authentication: read.authentication,
            timings: read.timings,
        })
    }
}
