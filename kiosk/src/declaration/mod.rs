//! The customs declaration (form C No.5360) and its signed QR payload.
//!
//! - this module: the declaration model and what its answers mean for the
//!   decision ([`Declaration::referral_reasons`]);
//! - [`payload`]: the wire format inside the QR code, pure, signed with Ed25519.

pub mod payload;

use serde::{Deserialize, Serialize};

use crate::decision::ReasonCode;

/// The passenger who files the declaration (the identity fields of C5360).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub surname: String,
    pub given_names: String,
    /// ICAO 3-letter code, as in the MRZ.
    pub nationality: String,
    /// YYMMDD, as in the MRZ.
    pub date_of_birth: String,
    /// As in the MRZ, without filler.
    pub passport_number: String,
    pub occupation: String,
    pub address_in_japan: String,
    pub phone: String,
}

/// Accompanying family members by age band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub age_20_plus: u8,
    pub age_6_to_19: u8,
    pub under_6: u8,
}

/// The yes/no questions of C5360.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// 1-1 prohibited or restricted articles.
    pub prohibited: bool,
    /// 1-2 purchases, souvenirs or gifts over the duty-free allowance.
    pub over_allowance: bool,
    /// 1-3 commercial goods or samples.
    pub commercial: bool,
    /// 1-4 items carried for someone else.
    pub carried_for_others: bool,
    /// 2 cash or securities over 1,000,000 yen, or gold over 1 kg.
    pub cash_or_gold: bool,
    /// 3 unaccompanied articles.
    pub unaccompanied: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoodsKind {
    Alcohol,
    Cigarettes,
    Cigars,
    HeatedTobacco,
    OtherTobacco,
    Perfume,
    Other,
}

/// A line of goods over the allowance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsLine {
    pub kind: GoodsKind,
    pub description: String,
    pub quantity: u32,
    pub value_yen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub flight: String,
    pub departure: String,
    /// YYYY-MM-DD
    pub arrival_date: String,
    pub holder: Holder,
    pub family: Family,
    pub answers: Answers,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub goods: Vec<GoodsLine>,
}

impl Declaration {
    /// The reasons the answers give to send the passenger to the staffed desk.
    /// (The duty-free computation on goods lines comes with the declaration work.)
    pub fn referral_reasons(&self) -> Vec<ReasonCode> {
        let a = &self.answers;
        [
            (a.prohibited, ReasonCode::ProhibitedArticles),
            (a.over_allowance || !self.goods.is_empty(), ReasonCode::OverAllowance),
            (a.commercial, ReasonCode::CommercialGoods),
            (a.carried_for_others, ReasonCode::CarriedForOthers),
            (a.cash_or_gold, ReasonCode::CashOrGold),
            (a.unaccompanied, ReasonCode::UnaccompaniedArticles),
        ]
        .into_iter()
        .filter_map(|(yes, r)| yes.then_some(r))
        .collect()
    }

    /// Whether this declaration was filed by the holder of the passport with
    /// these MRZ fields.
    pub fn belongs_to(&self, mrz: &crate::passport::mrz::Mrz) -> bool {
        self.holder.passport_number == mrz.document_number
            && self.holder.nationality == mrz.nationality
            && self.holder.date_of_birth == mrz.date_of_birth
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Declaration {
        Declaration {
            flight: "NH212".into(),
            departure: "LHR".into(),
            arrival_date: "2026-11-23".into(),
            holder: Holder {
                surname: "ERIKSSON".into(),
                given_names: "ANNA MARIA".into(),
                nationality: "UTO".into(),
                date_of_birth: "740812".into(),
                passport_number: "L898902C3".into(),
                occupation: "ENGINEER".into(),
                address_in_japan: "1-1 Chiyoda, Tokyo".into(),
                phone: "+81-3-0000-0000".into(),
            },
            family: Family::default(),
            answers: Answers::default(),
            goods: vec![],
        }
    }

    #[test]
    fn nothing_to_declare_gives_no_reason() {
        assert!(sample().referral_reasons().is_empty());
    }

    #[test]
    fn each_answer_maps_to_its_reason() {
        let mut d = sample();
        d.answers = Answers { prohibited: true, cash_or_gold: true, ..Answers::default() };
        assert_eq!(d.referral_reasons(), vec![ReasonCode::ProhibitedArticles, ReasonCode::CashOrGold]);
        let mut d = sample();
        d.goods.push(GoodsLine {
            kind: GoodsKind::Other,
            description: "watch".into(),
            quantity: 1,
            value_yen: 300_000,
        });
        assert_eq!(d.referral_reasons(), vec![ReasonCode::OverAllowance]);
    }

    #[test]
    fn belongs_to_compares_the_mrz_identity() {
        let m = crate::passport::mrz::Mrz::parse(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
        )
        .unwrap();
        assert!(sample().belongs_to(&m));
        let mut other = sample();
        other.holder.passport_number = "X0000000".into();
        assert!(!other.belongs_to(&m));
    }
}
