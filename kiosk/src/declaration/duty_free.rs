//! The duty-free allowance (per person, since 1 October 2021) and a
//! **simplified** duty estimate: a pure function from a declaration and the
//! passenger's age to an [`Assessment`].
//!
//! Allowance (docs/declaration-qr.md, "Duty-free rules"):
//!
//! | goods | allowance |
//! |---|---|
//! | alcoholic beverages | 3 bottles of about 760 ml (a larger bottle counts as ceil(ml / 760) bottles) |
//! | tobacco | 200 cigarettes, or 50 cigars, or 10 packages of heated tobacco, or 250 g other; several kinds share one allowance, each counting as its share of its own limit |
//! | perfume | 2 oz, taken as 56 ml |
//! | other goods | 200,000 yen of overseas market value in total |
//!
//! - a line of other goods worth under 10,000 yen in total is left out of the
//!   200,000 yen total (and is free);
//! - a single item (or set) worth more than 200,000 yen gets no allowance: it
//!   is taxed in full;
//! - under 20: no alcohol or tobacco allowance; under 6: only goods clearly for
//!   the child are free, which the kiosk cannot judge, so an under-6 passenger
//!   with counted goods sees an officer (the estimate then gives no allowance);
//! - where goods exceed an allowance, the allowance goes first to the goods
//!   that would cost the most duty (first fit, in decreasing order: an
//!   officer may find a better combination).
//!
//! Duty estimate: the simplified flat rates Japan Customs publishes for
//! accompanied personal effects ([`simplified_rate`]), which include customs
//! duty and consumption taxes. **Simplified**: the real assessment uses the
//! general tariff for some goods (cigars and other tobacco have no simplified
//! rate here, and are sent to an officer; goods free of customs duty such as
//! wristwatches pay only consumption tax), rounds the way the tax law says,
//! and the officer's figure is final. The taxable value of other goods and
//! perfume is taken as 60 % of the overseas retail price (the customs value of
//! goods bought for personal use). The kiosk never collects duty: any duty
//! means the staffed desk ([`Assessment::reason_codes`]).

use crate::decision::ReasonCode;

use super::{AlcoholClass, Declaration, GoodsKind, GoodsLine};

pub const ADULT_AGE: u8 = 20;
pub const CHILD_AGE: u8 = 6;
pub const ALCOHOL_BOTTLES: u32 = 3;
pub const STANDARD_BOTTLE_ML: u32 = 760;
pub const CIGARETTES: u32 = 200;
pub const CIGARS: u32 = 50;
pub const HEATED_TOBACCO_PACKAGES: u32 = 10;
pub const OTHER_TOBACCO_GRAMS: u32 = 250;
pub const PERFUME_ML: u32 = 56;
pub const OTHER_GOODS_YEN: u64 = 200_000;
/// Lines of other goods worth less than this are left out of the total.
pub const SMALL_LINE_YEN: u64 = 10_000;
/// Cash and securities above this must be declared to an officer.
pub const CASH_LIMIT_YEN: u64 = 1_000_000;
/// Gold above this must be declared to an officer.
pub const GOLD_LIMIT_GRAMS: u32 = 1_000;
/// Taxable value of personal goods: this share of the overseas retail price.
pub const TAXABLE_VALUE_PERCENT: u64 = 60;
/// Sticks in a package of heated tobacco.
pub const STICKS_PER_PACKAGE: u64 = 20;

/// A simplified duty rate (customs duty and consumption taxes together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Yen per litre.
    PerLitre(u64),
    /// Yen per unit of the line's quantity.
    PerUnit(u64),
    /// Percent of the taxable value (60 % of the declared value).
    PercentOfTaxableValue(u64),
    /// No simplified rate: an officer applies the general tariff.
    General,
}

/// The simplified duty rate table (Japan Customs, "Simplified Customs Duty
/// Rates for Accompanied Personal Effects"; simplified further here, see the
/// module documentation).
pub fn simplified_rate(kind: GoodsKind) -> Rate {
    match kind {
        GoodsKind::Alcohol { class, .. } => Rate::PerLitre(match class {
            AlcoholClass::WhiskyBrandy => 800,
            AlcoholClass::RumGinVodka => 500,
            AlcoholClass::Liqueur => 400,
            AlcoholClass::Distilled => 300,
            AlcoholClass::WineBeerOther => 200,
        }),
        GoodsKind::Cigarettes => Rate::PerUnit(15),
        // 15 yen a stick.
        GoodsKind::HeatedTobacco => Rate::PerUnit(15 * STICKS_PER_PACKAGE),
        GoodsKind::Cigars | GoodsKind::OtherTobacco => Rate::General,
        GoodsKind::Perfume | GoodsKind::Other => Rate::PercentOfTaxableValue(15),
    }
}

/// The part of a goods line over the allowance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excess {
    /// Index into [`Declaration::goods`].
    pub line: usize,
    pub kind: GoodsKind,
    /// How much is over the allowance, in the unit of the kind ([`GoodsKind::unit`]).
    pub quantity: u32,
    /// The declared value of that quantity, in yen.
    pub value_yen: u64,
    /// Estimated duty with the simplified rates; `None` when there is none.
    pub duty_yen: Option<u64>,
}

/// Why the passenger must see an officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OfficerReason {
    /// 1-1 prohibited or restricted articles.
    ProhibitedArticles,
    /// 1-3 commercial goods or samples.
    CommercialGoods,
    /// 1-4 items carried for someone else.
    CarriedForOthers,
    /// Cash or securities over 1,000,000 yen.
    CashOverLimit,
    /// Gold over 1 kg.
    GoldOverLimit,
    /// Question 2 answered yes (a Declaration of Carrying of Means of Payment is needed).
    CashOrGoldDeclared,
    /// 3 unaccompanied articles (the declaration is needed in duplicate).
    UnaccompaniedArticles,
    /// Goods over the allowance that have no simplified rate (cigars, other tobacco).
    NoSimplifiedRate,
    /// A passenger under 6 with goods that count: only goods clearly for the
    /// child are free, which an officer judges.
    GoodsOfYoungChild,
    /// Question 1-2 answered yes, but the listed goods are within the allowance.
    OverAllowanceNotItemised,
}

impl OfficerReason {
    pub fn reason_code(self) -> ReasonCode {
        match self {
            OfficerReason::ProhibitedArticles => ReasonCode::ProhibitedArticles,
            OfficerReason::CommercialGoods => ReasonCode::CommercialGoods,
            OfficerReason::CarriedForOthers => ReasonCode::CarriedForOthers,
            OfficerReason::CashOverLimit
            | OfficerReason::GoldOverLimit
            | OfficerReason::CashOrGoldDeclared => ReasonCode::CashOrGold,
            OfficerReason::UnaccompaniedArticles => ReasonCode::UnaccompaniedArticles,
            OfficerReason::NoSimplifiedRate
            | OfficerReason::GoodsOfYoungChild
            | OfficerReason::OverAllowanceNotItemised => ReasonCode::OverAllowance,
        }
    }
}

/// What the declaration means for the passenger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// Nothing to pay, nothing to show: the gate.
    WithinAllowance,
    /// Goods over the allowance, with the estimated duty.
    DutyPayable { items: Vec<Excess>, total_duty_yen: u64 },
    /// An officer must see the passenger; `items` are the goods over the
    /// allowance, if any.
    SeeOfficer { reasons: Vec<OfficerReason>, items: Vec<Excess> },
}

impl Assessment {
    /// The goods over the allowance.
    pub fn items(&self) -> &[Excess] {
        match self {
            Assessment::WithinAllowance => &[],
            Assessment::DutyPayable { items, .. } | Assessment::SeeOfficer { items, .. } => items,
        }
    }

    /// The estimated duty of the items that have a simplified rate.
    pub fn estimated_duty_yen(&self) -> u64 {
        self.items().iter().filter_map(|e| e.duty_yen).fold(0, u64::saturating_add)
    }

    /// The decision engine's reason codes: every reason, each once, in
    /// [`ReasonCode`] order. Duty payable is [`ReasonCode::OverAllowance`].
    pub fn reason_codes(&self) -> Vec<ReasonCode> {
        reason_codes(self)
    }
}

/// The decision engine's reason codes for an assessment (see
/// [`Assessment::reason_codes`]).
pub fn reason_codes(a: &Assessment) -> Vec<ReasonCode> {
    let mut codes: Vec<ReasonCode> = match a {
        Assessment::WithinAllowance => vec![],
        Assessment::DutyPayable { .. } => vec![ReasonCode::OverAllowance],
        Assessment::SeeOfficer { reasons, items } => reasons
            .iter()
            .map(|r| r.reason_code())
            .chain((!items.is_empty()).then_some(ReasonCode::OverAllowance))
            .collect(),
    };
    codes.sort();
    codes.dedup();
    codes
}

/// `a * b / c` without overflow (c > 0), rounded down.
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    (u128::from(a) * u128::from(b) / u128::from(c.max(1))) as u64
}

fn duty(kind: GoodsKind, quantity: u32, value_yen: u64) -> Option<u64> {
    match simplified_rate(kind) {
        Rate::PerLitre(yen) => {
            let ml = match kind {
                GoodsKind::Alcohol { bottle_ml, .. } => u64::from(bottle_ml),
                _ => 0,
            };
            Some(mul_div(yen * ml, u64::from(quantity), 1000))
        }
        Rate::PerUnit(yen) => Some(yen * u64::from(quantity)),
        Rate::PercentOfTaxableValue(pct) => Some(mul_div(value_yen, TAXABLE_VALUE_PERCENT * pct, 10_000)),
        Rate::General => None,
    }
}

/// The excess of `line` when `free` of its units are within the allowance.
fn excess(line: usize, g: &GoodsLine, free: u32) -> Option<Excess> {
    let quantity = g.quantity.saturating_sub(free);
    if quantity == 0 {
        return None;
    }
    let value_yen = g.value_yen - mul_div(g.value_yen, u64::from(free), u64::from(g.quantity));
    Some(Excess { line, kind: g.kind, quantity, value_yen, duty_yen: duty(g.kind, quantity, value_yen) })
}

/// Share a count allowance among lines: `cost` is what one unit of a line
/// takes of it, `order` the lines in the order they are served.
fn share(
    goods: &[GoodsLine],
    order: &[usize],
    mut allowance: u64,
    cost: impl Fn(&GoodsLine) -> u64,
    out: &mut Vec<Excess>,
) {
    for &i in order {
        let g = &goods[i];
        let c = cost(g).max(1);
        let free = (allowance / c).min(u64::from(g.quantity));
        allowance -= free * c;
        out.extend(excess(i, g, free as u32));
    }
}

fn lines_where(goods: &[GoodsLine], f: impl Fn(&GoodsLine) -> bool) -> Vec<usize> {
    (0..goods.len()).filter(|&i| f(&goods[i])).collect()
}

/// The duty-free assessment of `decl` for a passenger aged `age` (in whole
/// years on the arrival date).
pub fn assess(decl: &Declaration, age: u8) -> Assessment {
    let a = &decl.answers;
    let goods = &decl.goods;
    let mut reasons = Vec::new();
    let mut reason = |yes: bool, r: OfficerReason| {
        if yes {
            reasons.push(r);
        }
    };
    reason(a.prohibited, OfficerReason::ProhibitedArticles);
    reason(a.commercial, OfficerReason::CommercialGoods);
    reason(a.carried_for_others, OfficerReason::CarriedForOthers);
    let cash = a.cash_yen > CASH_LIMIT_YEN;
    let gold = a.gold_grams > GOLD_LIMIT_GRAMS;
    reason(cash, OfficerReason::CashOverLimit);
    reason(gold, OfficerReason::GoldOverLimit);
    reason(a.cash_or_gold && !cash && !gold, OfficerReason::CashOrGoldDeclared);
    reason(a.unaccompanied || a.unaccompanied_packages > 0, OfficerReason::UnaccompaniedArticles);

    let adult = age >= ADULT_AGE;
    let child = age < CHILD_AGE;
    let mut items = Vec::new();

    // Alcohol: bottles, the most expensive duty first.
    let bottles_of = |g: &GoodsLine| match g.kind {
        GoodsKind::Alcohol { bottle_ml, .. } => {
            u64::from(bottle_ml).div_ceil(u64::from(STANDARD_BOTTLE_ML)).max(1)
        }
        _ => 1,
    };
    let mut order = lines_where(goods, |g| g.kind.is_alcohol());
    // Duty a bottle slot saves, descending; stable for equal ones.
    order.sort_by_key(|&i| std::cmp::Reverse(duty(goods[i].kind, 1, 0).unwrap_or(0) / bottles_of(&goods[i])));
    let allowance = if adult { u64::from(ALCOHOL_BOTTLES) } else { 0 };
    share(goods, &order, allowance, bottles_of, &mut items);

    // Tobacco: one allowance of 1000 points (a cigarette 5, a cigar 20, a
    // package of heated tobacco 100, a gram of other tobacco 4); the kinds
    // without a simplified rate first, so they need no officer if they fit.
    let points = |g: &GoodsLine| -> u64 {
        match g.kind {
            GoodsKind::Cigarettes => u64::from(1000 / CIGARETTES),
            GoodsKind::Cigars => u64::from(1000 / CIGARS),
            GoodsKind::HeatedTobacco => u64::from(1000 / HEATED_TOBACCO_PACKAGES),
            _ => u64::from(1000 / OTHER_TOBACCO_GRAMS),
        }
    };
    let mut order = lines_where(goods, |g| g.kind.is_tobacco());
    order.sort_by_key(|&i| match goods[i].kind {
        GoodsKind::Cigars => 0,
        GoodsKind::OtherTobacco => 1,
        GoodsKind::Cigarettes => 2,
        _ => 3,
    });
    share(goods, &order, if adult { 1000 } else { 0 }, points, &mut items);

    // Perfume: millilitres, the most valuable per ml first.
    let mut order = lines_where(goods, |g| g.kind == GoodsKind::Perfume);
    order.sort_by(|&x, &y| by_unit_value_desc(&goods[x], &goods[y]));
    share(goods, &order, if child { 0 } else { u64::from(PERFUME_ML) }, |_| 1, &mut items);

    // Other goods: value.
    let counted = lines_where(goods, |g| g.kind == GoodsKind::Other && g.value_yen >= SMALL_LINE_YEN);
    let mut remaining = if child { 0 } else { OTHER_GOODS_YEN };
    let (single_over, mut pool): (Vec<usize>, Vec<usize>) =
        counted.iter().partition(|&&i| goods[i].value_yen > OTHER_GOODS_YEN * u64::from(goods[i].quantity));
    for &i in &single_over {
        items.extend(excess(i, &goods[i], 0));
    }
    pool.sort_by(|&x, &y| by_unit_value_desc(&goods[x], &goods[y]));
    for &i in &pool {
        let g = &goods[i];
        // Units whose value fits in what is left of the allowance.
        let mut free = mul_div(remaining, u64::from(g.quantity), g.value_yen).min(u64::from(g.quantity));
        let value_of =
            |k: u64| (u128::from(g.value_yen) * u128::from(k)).div_ceil(u128::from(g.quantity)) as u64;
        while free > 0 && value_of(free) > remaining {
            free -= 1;
        }
        remaining -= value_of(free);
        items.extend(excess(i, g, free as u32));
    }
    let young_child_goods = child
        && goods.iter().any(|g| {
            g.kind == GoodsKind::Perfume || (g.kind == GoodsKind::Other && g.value_yen >= SMALL_LINE_YEN)
        });

    items.sort_by_key(|e| e.line);
    if items.iter().any(|e| e.duty_yen.is_none()) {
        reasons.push(OfficerReason::NoSimplifiedRate);
    }
    if young_child_goods {
        reasons.push(OfficerReason::GoodsOfYoungChild);
    }
    if a.over_allowance && items.is_empty() {
        reasons.push(OfficerReason::OverAllowanceNotItemised);
    }
    if !reasons.is_empty() {
        reasons.sort();
        Assessment::SeeOfficer { reasons, items }
    } else if !items.is_empty() {
        let total_duty_yen = items.iter().filter_map(|e| e.duty_yen).fold(0, u64::saturating_add);
        Assessment::DutyPayable { items, total_duty_yen }
    } else {
        Assessment::WithinAllowance
    }
}

/// Higher value per unit first (exact: cross-multiplied).
fn by_unit_value_desc(a: &GoodsLine, b: &GoodsLine) -> std::cmp::Ordering {
    let va = u128::from(a.value_yen) * u128::from(b.quantity.max(1));
    let vb = u128::from(b.value_yen) * u128::from(a.quantity.max(1));
    vb.cmp(&va)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::tests::{family_of_four, sample};
    use crate::declaration::{Answers, GoodsKind::*};

    fn wine(bottles: u32, yen: u64) -> GoodsLine {
        alcohol(AlcoholClass::WineBeerOther, 750, bottles, yen)
    }
    fn alcohol(class: AlcoholClass, bottle_ml: u16, bottles: u32, yen: u64) -> GoodsLine {
        GoodsLine {
            kind: Alcohol { class, bottle_ml },
            description: String::new(),
            quantity: bottles,
            value_yen: yen,
        }
    }
    fn line(kind: GoodsKind, quantity: u32, value_yen: u64) -> GoodsLine {
        GoodsLine { kind, description: "item".into(), quantity, value_yen }
    }

    /// (line, quantity over, value over, duty)
    type Row = (usize, u32, u64, Option<u64>);

    enum Expect {
        Within,
        Duty(&'static [Row]),
        Officer(&'static [OfficerReason], &'static [Row]),
    }

    struct Case {
        name: &'static str,
        age: u8,
        goods: Vec<GoodsLine>,
        answers: Answers,
        expect: Expect,
    }

    fn case(name: &'static str, age: u8, goods: Vec<GoodsLine>, expect: Expect) -> Case {
        Case { name, age, goods, answers: Answers::default(), expect }
    }

    fn answers(name: &'static str, answers: Answers, expect: Expect) -> Case {
        Case { name, age: 40, goods: vec![], answers, expect }
    }

    use Expect::*;
    use OfficerReason as R;

    fn cases() -> Vec<Case> {
        vec![
            case("nothing to declare", 40, vec![], Within),
            // Alcohol.
            case("3 bottles of wine", 40, vec![wine(3, 9_000)], Within),
            case(
                "4 bottles of wine: one over, 200 yen/l",
                40,
                vec![wine(4, 8_000)],
                Duty(&[(0, 1, 2_000, Some(150))]),
            ),
            case(
                "under 20: no alcohol allowance",
                19,
                vec![wine(3, 9_000)],
                Duty(&[(0, 3, 9_000, Some(450))]),
            ),
            case("20 on the day: the allowance", 20, vec![wine(3, 9_000)], Within),
            case(
                "a 1.5 l bottle counts as two; whisky is served first",
                40,
                vec![wine(2, 4_000), alcohol(AlcoholClass::WhiskyBrandy, 1500, 1, 12_000)],
                Duty(&[(0, 1, 2_000, Some(150))]),
            ),
            case(
                "whisky over the allowance: 800 yen/l",
                40,
                vec![alcohol(AlcoholClass::WhiskyBrandy, 700, 5, 50_000)],
                Duty(&[(0, 2, 20_000, Some(1_120))]),
            ),
            // Tobacco.
            case("200 cigarettes", 40, vec![line(Cigarettes, 200, 6_000)], Within),
            case(
                "201 cigarettes: 15 yen each",
                40,
                vec![line(Cigarettes, 201, 6_030)],
                Duty(&[(0, 1, 30, Some(15))]),
            ),
            case(
                "100 cigarettes and 5 packages of heated tobacco share one allowance",
                40,
                vec![line(Cigarettes, 100, 3_000), line(HeatedTobacco, 5, 3_000)],
                Within,
            ),
            case(
                "100 cigarettes and 6 packages: one package over",
                40,
                vec![line(Cigarettes, 100, 3_000), line(HeatedTobacco, 6, 3_600)],
                Duty(&[(1, 1, 600, Some(300))]),
            ),
            case("50 cigars", 40, vec![line(Cigars, 50, 50_000)], Within),
            case(
                "51 cigars: no simplified rate",
                40,
                vec![line(Cigars, 51, 51_000)],
                Officer(&[R::NoSimplifiedRate], &[(0, 1, 1_000, None)]),
            ),
            case(
                "cigars are served before cigarettes",
                40,
                vec![line(Cigarettes, 100, 3_000), line(Cigars, 25, 25_000)],
                Within,
            ),
            case(
                "under 20: no tobacco allowance",
                19,
                vec![line(Cigarettes, 20, 600)],
                Duty(&[(0, 20, 600, Some(300))]),
            ),
            // Perfume.
            case("56 ml of perfume", 40, vec![line(Perfume, 56, 15_000)], Within),
            case(
                "100 ml of perfume: 44 ml over at 15 % of 60 %",
                40,
                vec![line(Perfume, 100, 20_000)],
                Duty(&[(0, 44, 8_800, Some(792))]),
            ),
            // Other goods.
            case("199,999 yen", 40, vec![line(Other, 1, 199_999)], Within),
            case("exactly 200,000 yen", 40, vec![line(Other, 1, 200_000)], Within),
            case(
                "lines under 10,000 yen are left out of the total",
                40,
                vec![line(Other, 1, 195_000), line(Other, 3, 9_999)],
                Within,
            ),
            case(
                "a line of 10,000 yen counts",
                40,
                vec![line(Other, 1, 195_000), line(Other, 1, 10_000)],
                Duty(&[(1, 1, 10_000, Some(900))]),
            ),
            case(
                "a single item over 200,000 yen is taxed in full; the others keep the allowance",
                40,
                vec![line(Other, 1, 200_001), line(Other, 1, 150_000)],
                Duty(&[(0, 1, 200_001, Some(18_000))]),
            ),
            case(
                "two items of 150,000: one is free",
                40,
                vec![line(Other, 2, 300_000)],
                Duty(&[(0, 1, 150_000, Some(13_500))]),
            ),
            case(
                "the dearest items take the allowance first",
                40,
                vec![line(Other, 1, 50_000), line(Other, 1, 180_000)],
                Duty(&[(0, 1, 50_000, Some(4_500))]),
            ),
            case(
                "a cheaper item still fits after a dear one",
                40,
                vec![line(Other, 1, 120_000), line(Other, 1, 100_000), line(Other, 1, 70_000)],
                Duty(&[(1, 1, 100_000, Some(9_000))]),
            ),
            case("under 6: small goods are free", 5, vec![line(Other, 1, 5_000)], Within),
            case(
                "under 6: goods that count need an officer",
                5,
                vec![line(Other, 1, 50_000)],
                Officer(&[R::GoodsOfYoungChild], &[(0, 1, 50_000, Some(4_500))]),
            ),
            case("6: the allowance for other goods", 6, vec![line(Other, 1, 50_000)], Within),
            // Answers.
            answers("cash of 1,000,000 yen", Answers { cash_yen: 1_000_000, ..Answers::default() }, Within),
            answers(
                "cash over 1,000,000 yen",
                Answers { cash_yen: 1_000_001, cash_or_gold: true, ..Answers::default() },
                Officer(&[R::CashOverLimit], &[]),
            ),
            answers("1 kg of gold", Answers { gold_grams: 1_000, ..Answers::default() }, Within),
            answers(
                "gold over 1 kg",
                Answers { gold_grams: 1_001, ..Answers::default() },
                Officer(&[R::GoldOverLimit], &[]),
            ),
            answers(
                "question 2 answered yes",
                Answers { cash_or_gold: true, ..Answers::default() },
                Officer(&[R::CashOrGoldDeclared], &[]),
            ),
            answers(
                "prohibited, commercial, for others, unaccompanied",
                Answers {
                    prohibited: true,
                    commercial: true,
                    carried_for_others: true,
                    unaccompanied: true,
                    unaccompanied_packages: 2,
                    ..Answers::default()
                },
                Officer(
                    &[
                        R::ProhibitedArticles,
                        R::CommercialGoods,
                        R::CarriedForOthers,
                        R::UnaccompaniedArticles,
                    ],
                    &[],
                ),
            ),
            answers(
                "over the allowance, but nothing listed",
                Answers { over_allowance: true, ..Answers::default() },
                Officer(&[R::OverAllowanceNotItemised], &[]),
            ),
        ]
    }

    fn rows(items: &[Excess]) -> Vec<Row> {
        items.iter().map(|e| (e.line, e.quantity, e.value_yen, e.duty_yen)).collect()
    }

    #[test]
    fn the_allowance_table() {
        for c in cases() {
            let mut d = sample();
            d.goods = c.goods;
            d.answers = c.answers;
            let got = assess(&d, c.age);
            match (&c.expect, &got) {
                (Within, Assessment::WithinAllowance) => {}
                (Duty(want), Assessment::DutyPayable { items, total_duty_yen }) => {
                    assert_eq!(rows(items), want.to_vec(), "{}", c.name);
                    assert_eq!(*total_duty_yen, want.iter().filter_map(|r| r.3).sum::<u64>(), "{}", c.name);
                }
                (Officer(want, want_items), Assessment::SeeOfficer { reasons, items }) => {
                    assert_eq!(reasons, &want.to_vec(), "{}", c.name);
                    assert_eq!(rows(items), want_items.to_vec(), "{}", c.name);
                }
                _ => panic!("{}: got {got:?}", c.name),
            }
        }
    }

    #[test]
    fn reason_codes_for_the_decision_engine() {
        assert!(reason_codes(&Assessment::WithinAllowance).is_empty());
        let duty = Assessment::DutyPayable { items: vec![], total_duty_yen: 0 };
        assert_eq!(duty.reason_codes(), vec![ReasonCode::OverAllowance]);
        let officer = Assessment::SeeOfficer {
            reasons: vec![R::ProhibitedArticles, R::CashOverLimit, R::GoldOverLimit, R::NoSimplifiedRate],
            items: vec![Excess { line: 0, kind: Cigars, quantity: 1, value_yen: 1, duty_yen: None }],
        };
        assert_eq!(
            officer.reason_codes(),
            vec![ReasonCode::ProhibitedArticles, ReasonCode::OverAllowance, ReasonCode::CashOrGold]
        );
        let all = [
            (R::ProhibitedArticles, ReasonCode::ProhibitedArticles),
            (R::CommercialGoods, ReasonCode::CommercialGoods),
            (R::CarriedForOthers, ReasonCode::CarriedForOthers),
            (R::CashOverLimit, ReasonCode::CashOrGold),
            (R::GoldOverLimit, ReasonCode::CashOrGold),
            (R::CashOrGoldDeclared, ReasonCode::CashOrGold),
            (R::UnaccompaniedArticles, ReasonCode::UnaccompaniedArticles),
            (R::NoSimplifiedRate, ReasonCode::OverAllowance),
            (R::GoodsOfYoungChild, ReasonCode::OverAllowance),
            (R::OverAllowanceNotItemised, ReasonCode::OverAllowance),
        ];
        for (r, code) in all {
            assert_eq!(r.reason_code(), code);
        }
    }

    #[test]
    fn the_family_example() {
        // The spec's example: what each line of the family of four costs the
        // holder (52 on arrival).
        let d = family_of_four();
        let a = d.duty_free_assessment();
        let Assessment::DutyPayable { items, total_duty_yen } = &a else { panic!("{a:?}") };
        assert_eq!(
            rows(items),
            vec![
                // 2 whisky take two of the three bottles, 1 wine the third: 3 wine over.
                (0, 3, 18_000, Some(450)),
                // 400 cigarettes fill the allowance; the 5 packages are all over.
                (2, 200, 6_000, Some(3_000)),
                (3, 5, 3_000, Some(1_500)),
                // 100 ml of perfume: 44 ml over.
                (4, 44, 11_000, Some(990)),
                // The 250,000 yen handbag: taxed in full.
                (5, 1, 250_000, Some(22_500)),
                // The camera (150,000) takes the allowance first; the watch
                // (90,000) no longer fits, the sneakers (2 x 18,000) do; the
                // chocolate (6,000 in all) is left out of the total.
                (9, 1, 90_000, Some(8_100)),
            ]
        );
        assert_eq!(*total_duty_yen, 450 + 3_000 + 1_500 + 990 + 22_500 + 8_100);
        assert_eq!(a.reason_codes(), vec![ReasonCode::OverAllowance]);
    }

    #[test]
    fn assess_never_panics_on_extremes() {
        let mut d = sample();
        d.goods = vec![
            alcohol(AlcoholClass::Liqueur, u16::MAX, u32::MAX, u64::MAX),
            line(Other, u32::MAX, u64::MAX),
            line(Other, 1, u64::MAX),
            line(Perfume, u32::MAX, u64::MAX),
            line(OtherTobacco, u32::MAX, 0),
        ];
        d.answers.cash_yen = u64::MAX;
        for age in [0, 5, 6, 19, 20, 255] {
            let a = assess(&d, age);
            assert!(!a.reason_codes().is_empty());
        }
    }
}
