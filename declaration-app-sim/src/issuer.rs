//! The passport issuer: chip images in the kiosk's LDS formats.

use kiosk::passport::chip_image::ChipImage;
use kiosk::passport::lds::{self, EfCom, FacePortrait, ImageDataType, fid};
use kiosk::passport::mrz::Td3Fields;

/// The holder data printed on the data page and stored on the chip.
pub type PassportData = Td3Fields;

/// A chip image with EF.COM, DG1 and DG2 (portrait JPEG of `width` x `height`).
pub fn issue_chip(data: &PassportData, portrait_jpeg: Vec<u8>, width: u16, height: u16) -> ChipImage {
    let lines = data.mrz_lines();
    let mut chip = ChipImage::default();
    let com = EfCom { lds_version: "0107".into(), unicode_version: "040000".into(), tags: vec![0x61, 0x75] };
    chip.files.insert(fid::EF_COM, com.encode());
    chip.files.insert(fid::DG1, lds::encode_dg1(&lines));
    let portrait = FacePortrait { data_type: ImageDataType::Jpeg, width, height, image: portrait_jpeg };
    chip.files.insert(fid::DG2, lds::encode_dg2(&portrait));
    chip
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk::passport::PassportReader;
    use kiosk::passport::sim::{PassportSlot, PlacedDocument, SimulatedPassportReader};

    #[test]
    fn the_kiosk_reads_what_the_issuer_wrote() {
        let data = PassportData {
            issuing_state: "JPN".into(),
            surname: "SATO".into(),
            given_names: "KEN".into(),
            document_number: "TR0001234".into(),
            nationality: "JPN".into(),
            date_of_birth: "880214".into(),
            sex: 'M',
            date_of_expiry: "330101".into(),
        };
        let chip = issue_chip(&data, vec![0xFF, 0xD8, 0xFF, 0xD9], 10, 12);
        let slot = PassportSlot::default();
        slot.place(PlacedDocument { page_mrz: data.mrz_lines().join("\n"), chip });
        let read = SimulatedPassportReader::new(slot).read().unwrap();
        assert!(read.is_consistent());
        assert_eq!(read.chip_mrz.document_number, "TR0001234");
        assert_eq!((read.portrait.width, read.portrait.height), (10, 12));
    }
}
