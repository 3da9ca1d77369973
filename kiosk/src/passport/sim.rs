//! Simulated passport reader: a simulator places a document (printed MRZ and
//! chip image) in a [`PassportSlot`]; the kiosk's reader reads it. With
//! nothing in the slot it answers [`PassportError::NoDocument`], like a real
//! reader with no passport on it.

use std::sync::{Arc, Mutex};

use super::chip_image::ChipImage;
use super::lds::{self, fid};
use super::mrz::Mrz;
use super::{PassportError, PassportRead, PassportReader};

/// A document as placed on the reader.
#[derive(Debug, Clone)]
pub struct PlacedDocument {
    /// The two MRZ lines printed on the data page.
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
}

impl SimulatedPassportReader {
    pub fn new(slot: PassportSlot) -> Self {
        SimulatedPassportReader { slot }
    }
}

impl PassportReader for SimulatedPassportReader {
    fn read(&mut self) -> Result<PassportRead, PassportError> {
        let doc = self.slot.current().ok_or(PassportError::NoDocument)?;
        let page_mrz = Mrz::parse(&doc.page_mrz).map_err(PassportError::PageMrz)?;
        let file = |id, name| doc.chip.file(id).ok_or(PassportError::MissingFile(name));
        let com = lds::EfCom::parse(file(fid::EF_COM, "EF.COM")?)?;
        let chip_mrz = lds::parse_dg1(file(fid::DG1, "DG1")?)?;
        let portrait = lds::parse_dg2(file(fid::DG2, "DG2")?)?;
        Ok(PassportRead { page_mrz, com, chip_mrz, portrait, access: "file" })
    }
}
