//! What the app tells the passenger: the goods in words, the allowance, and
//! the duty-free assessment (within the allowance / duty payable / see an
//! officer), like the warning a real app shows before it makes the QR code.

use std::fmt::Write as _;

use kiosk::declaration::duty_free::{self, Assessment, OfficerReason};
use kiosk::declaration::{AlcoholClass, Declaration, GoodsKind, GoodsLine};

use crate::answers::yen;

/// The QR code for a terminal, in Unicode half blocks (two rows of modules
/// a line) with the quiet zone. The blocks are drawn in the terminal's text
/// colour: on a dark background (`dark_background`) they draw the light
/// modules, so that the code keeps its dark-on-light polarity and scans from
/// the screen; on a light background they draw the dark modules.
pub fn terminal_qr(code: &qrcode::QrCode, dark_background: bool) -> String {
    use qrcode::render::unicode::Dense1x2;
    let mut r = code.render::<Dense1x2>();
    r.quiet_zone(true);
    if dark_background {
        r.dark_color(Dense1x2::Light).light_color(Dense1x2::Dark);
    }
    r.build()
}

/// The kind of goods in words.
pub fn kind_name(kind: GoodsKind) -> String {
    match kind {
        GoodsKind::Alcohol { class, bottle_ml } => {
            let class = match class {
                AlcoholClass::WhiskyBrandy => "whisky or brandy",
                AlcoholClass::RumGinVodka => "rum, gin or vodka",
                AlcoholClass::Liqueur => "liqueur",
                AlcoholClass::Distilled => "shochu or other distilled",
                AlcoholClass::WineBeerOther => "wine, beer or sake",
            };
            format!("{class} ({bottle_ml} ml bottles)")
        }
        GoodsKind::Cigarettes => "cigarettes".into(),
        GoodsKind::Cigars => "cigars".into(),
        GoodsKind::HeatedTobacco => "heated tobacco".into(),
        GoodsKind::OtherTobacco => "other tobacco".into(),
        GoodsKind::Perfume => "perfume".into(),
        GoodsKind::Other => "other goods".into(),
    }
}

/// A goods line's name: its description, else its kind.
pub fn line_name(g: &GoodsLine) -> String {
    if g.description.is_empty() { kind_name(g.kind) } else { g.description.clone() }
}

/// A quantity in the unit of the kind: `1 bottle`, `400 cigarettes`, `100 ml`.
pub fn quantity_text(kind: GoodsKind, quantity: u32) -> String {
    let one = quantity == 1;
    let unit = match kind {
        GoodsKind::Alcohol { .. } if one => "bottle",
        GoodsKind::Cigarettes if one => "cigarette",
        GoodsKind::Cigars if one => "cigar",
        GoodsKind::HeatedTobacco if one => "package",
        GoodsKind::Other if one => "piece",
        GoodsKind::Other => "pieces",
        k => k.unit(),
    };
    format!("{quantity} {unit}")
}

/// A goods line in words: `4 bottles of wine, beer or sake (750 ml bottles), 24,000 yen`,
/// `400 cigarettes, 12,000 yen`, `handbag, 1 piece, 250,000 yen`.
pub fn describe_line(g: &GoodsLine) -> String {
    let q = quantity_text(g.kind, g.quantity);
    let what = match g.kind {
        GoodsKind::Other => format!("{}, {q}", g.description),
        GoodsKind::Cigarettes | GoodsKind::Cigars => q,
        k => format!("{q} of {}", kind_name(k)),
    };
    let note = match g.kind {
        GoodsKind::Other => String::new(),
        _ if g.description.is_empty() => String::new(),
        _ => format!(" ({})", g.description),
    };
    format!("{what}{note}, {} yen", yen(g.value_yen))
}

/// The allowance that goes with a kind of goods, for the prompt.
pub fn allowance_text(kind: GoodsKind) -> &'static str {
    match kind {
        GoodsKind::Alcohol { .. } => {
            "allowance: 3 bottles of about 760 ml (a larger bottle counts as more), from age 20"
        }
        GoodsKind::Cigarettes | GoodsKind::Cigars | GoodsKind::HeatedTobacco | GoodsKind::OtherTobacco => {
            "allowance: 200 cigarettes, or 50 cigars, or 10 packages of heated tobacco, or 250 g of other \
             tobacco (kinds share one allowance), from age 20"
        }
        GoodsKind::Perfume => "allowance: 2 oz (56 ml); eau de toilette and cologne are not perfume",
        GoodsKind::Other => {
            "allowance: 200,000 yen in total (overseas market value); a line under 10,000 yen is free, \
             a single item over 200,000 yen is taxed in full"
        }
    }
}

/// The duty-free allowance, for the help of question 1-2.
pub const ALLOWANCE_SUMMARY: [&str; 5] = [
    "Duty-free allowance per person:",
    "  alcohol: 3 bottles (760 ml each); tobacco: 200 cigarettes, 50 cigars, 10 packages of heated tobacco or 250 g other (20 and over only)",
    "  perfume: 2 oz (56 ml); other goods: 200,000 yen in total (overseas market value)",
    "  a line of goods under 10,000 yen is left out; a single item over 200,000 yen is taxed in full",
    "  under 6: only goods clearly for the child",
];

/// Why an officer must see the passenger, in words.
pub fn officer_reason_text(r: OfficerReason) -> &'static str {
    match r {
        OfficerReason::ProhibitedArticles => {
            "you are bringing prohibited or restricted articles (question 1-1)"
        }
        OfficerReason::CommercialGoods => "you are bringing commercial goods or samples (question 1-3)",
        OfficerReason::CarriedForOthers => "you are carrying items for someone else (question 1-4)",
        OfficerReason::CashOverLimit => {
            "you carry cash or securities over 1,000,000 yen: fill in the Declaration of Carrying of Means of Payment"
        }
        OfficerReason::GoldOverLimit => "you carry gold over 1 kg: it must be declared to an officer",
        OfficerReason::CashOrGoldDeclared => {
            "you answered yes to question 2 (cash or securities over 1,000,000 yen, or gold over 1 kg)"
        }
        OfficerReason::UnaccompaniedArticles => {
            "you have unaccompanied articles (question 3): the declaration is needed in duplicate"
        }
        OfficerReason::NoSimplifiedRate => {
            "goods over the allowance have no simplified duty rate (cigars, other tobacco)"
        }
        OfficerReason::GoodsOfYoungChild => {
            "the declaration is filed by a child under 6: only goods clearly for the child are free"
        }
        OfficerReason::OverAllowanceNotItemised => {
            "you answered yes to question 1-2 but the goods listed are within the allowance: list them all"
        }
    }
}

/// A stable name of an officer reason (for manifests).
pub fn officer_reason_name(r: OfficerReason) -> &'static str {
    match r {
        OfficerReason::ProhibitedArticles => "prohibited_articles",
        OfficerReason::CommercialGoods => "commercial_goods",
        OfficerReason::CarriedForOthers => "carried_for_others",
        OfficerReason::CashOverLimit => "cash_over_limit",
        OfficerReason::GoldOverLimit => "gold_over_limit",
        OfficerReason::CashOrGoldDeclared => "cash_or_gold_declared",
        OfficerReason::UnaccompaniedArticles => "unaccompanied_articles",
        OfficerReason::NoSimplifiedRate => "no_simplified_rate",
        OfficerReason::GoodsOfYoungChild => "goods_of_young_child",
        OfficerReason::OverAllowanceNotItemised => "over_allowance_not_itemised",
    }
}

/// `within_allowance`, `duty_payable` or `see_officer`.
pub fn outcome_name(a: &Assessment) -> &'static str {
    match a {
        Assessment::WithinAllowance => "within_allowance",
        Assessment::DutyPayable { .. } => "duty_payable",
        Assessment::SeeOfficer { .. } => "see_officer",
    }
}

fn excess_lines(out: &mut String, decl: &Declaration, items: &[duty_free::Excess]) {
    for e in items {
        let g = &decl.goods[e.line];
        let duty = match e.duty_yen {
            Some(d) => format!("estimated duty {} yen", yen(d)),
            None => "no simplified rate: the officer assesses it".into(),
        };
        let _ = writeln!(
            out,
            "    goods[{}] {}: {} over the allowance, worth {} yen; {duty}",
            e.line,
            line_name(g),
            quantity_text(g.kind, e.quantity),
            yen(e.value_yen)
        );
    }
}

/// The assessment as the app shows it to the passenger.
pub fn assessment_text(decl: &Declaration, holder_age: Option<u8>, a: &Assessment) -> String {
    let mut out = String::new();
    let age = match holder_age {
        Some(age) => format!("the holder is {age} on {}", decl.arrival_date),
        None => "the holder's age is unknown (date of birth not complete), taken as 0".into(),
    };
    let _ = writeln!(out, "Duty-free check (on the holder's allowance; {age}):");
    match a {
        Assessment::WithinAllowance => {
            let _ = writeln!(
                out,
                "  Within the duty-free allowance: nothing to pay. Show this QR code and your passport at the \
                 e-Gate kiosk."
            );
        }
        Assessment::DutyPayable { items, total_duty_yen } => {
            let _ = writeln!(
                out,
                "  Duty payable: goods over the allowance, estimated duty {} yen (simplified rates; the \
                 officer's figure is final).",
                yen(*total_duty_yen)
            );
            excess_lines(&mut out, decl, items);
            let _ = writeln!(out, "  The kiosk will send you to the staffed inspection desk to pay.");
        }
        Assessment::SeeOfficer { reasons, items } => {
            let _ = writeln!(out, "  You must see a customs officer:");
            for r in reasons {
                let _ = writeln!(out, "    - {}", officer_reason_text(*r));
            }
            if !items.is_empty() {
                let est = a.estimated_duty_yen();
                if est > 0 {
                    let _ = writeln!(out, "  Goods over the allowance (estimated duty {} yen):", yen(est));
                } else {
                    let _ = writeln!(out, "  Goods over the allowance:");
                }
                excess_lines(&mut out, decl, items);
            }
            let _ = writeln!(out, "  The kiosk will send you to the staffed inspection desk.");
        }
    }
    out
}

/// The declaration in words, for the passenger to check before signing.
pub fn summary_text(decl: &Declaration) -> String {
    let mut out = String::new();
    let h = &decl.holder;
    let _ = writeln!(out, "Declaration (form C5360):");
    let _ = writeln!(out, "  flight {} from {}, arriving {}", decl.flight, decl.departure, decl.arrival_date);
    let _ = writeln!(
        out,
        "  {} {}, {}, born {}, passport {}",
        h.surname, h.given_names, h.nationality, h.date_of_birth, h.passport_number
    );
    let f = &decl.family;
    if f.count() > 0 || !f.members.is_empty() {
        let _ = writeln!(
            out,
            "  family: {} aged 20 or over, {} aged 6 to 19, {} under 6; passports: {}",
            f.age_20_plus,
            f.age_6_to_19,
            f.under_6,
            if f.members.is_empty() {
                "none".to_string()
            } else {
                f.members.iter().map(|m| m.passport_number.as_str()).collect::<Vec<_>>().join(", ")
            }
        );
    }
    let a = &decl.answers;
    let yn = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(
        out,
        "  1-1 {}, 1-2 {}, 1-3 {}, 1-4 {}, 2 {}, 3 {}",
        yn(a.prohibited),
        yn(a.over_allowance),
        yn(a.commercial),
        yn(a.carried_for_others),
        yn(a.cash_or_gold),
        yn(a.unaccompanied)
    );
    if a.cash_yen > 0 || a.gold_grams > 0 {
        let _ = writeln!(out, "  cash {} yen, gold {} g", yen(a.cash_yen), yen(u64::from(a.gold_grams)));
    }
    if a.unaccompanied_packages > 0 {
        let _ = writeln!(out, "  {} package(s) sent separately", a.unaccompanied_packages);
    }
    for (i, g) in decl.goods.iter().enumerate() {
        let _ = writeln!(out, "  goods[{i}]: {}", describe_line(g));
    }
    out
}
