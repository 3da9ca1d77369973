//! The app's interactive mode: ask each question of form C5360 in order, in
//! plain English, check each answer as the app does (the kiosk model's own
//! validation, [`Declaration::validate`], on a declaration that differs only
//! in that field), and ask again with the reason when it is refused.
//!
//! The prompt reads lines from any [`BufRead`] and writes to any [`Write`],
//! so it can be driven through a pipe (the tests do). Answers given before
//! (an answer file, flags) are offered as defaults in `[brackets]`.

use std::io::{BufRead, Write};

use kiosk::declaration::limits::{MAX_FAMILY_MEMBERS, MAX_GOODS_LINES};
use kiosk::declaration::{Declaration, FamilyMember, GoodsKind, GoodsLine, Holder, age_on, parse_date};

use crate::answers::{
    self, AnswerSheet, DEFAULT_BOTTLE_ML, GoodsAnswer, KIND_NAMES, KindAnswer, MemberAnswer, check_dob,
    parse_amount, parse_kind, parse_yes_no,
};
use crate::report;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("the input ended before this question was answered: {0}")]
    Ended(String),
    #[error("cannot talk to the terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// Questions and answers over a reader and a writer.
pub struct Prompter<R, W> {
    input: R,
    out: W,
    /// Write each answer after its question (when the input is not a
    /// terminal, so that the transcript reads like a conversation).
    echo: bool,
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    pub fn new(input: R, out: W, echo: bool) -> Self {
        Prompter { input, out, echo }
    }

    /// Write a line of text.
    pub fn say(&mut self, text: &str) -> Result<(), PromptError> {
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    /// Ask until `parse` accepts the answer; an empty answer takes `default`.
    /// A refused answer is reported with the reason and asked again.
    pub fn ask<T>(
        &mut self,
        question: &str,
        default: Option<&str>,
        mut parse: impl FnMut(&str) -> Result<T, String>,
    ) -> Result<T, PromptError> {
        loop {
            match default {
                Some(d) if !d.is_empty() => write!(self.out, "{question} [{d}]: ")?,
                _ => write!(self.out, "{question}: ")?,
            }
            self.out.flush()?;
            let mut line = String::new();
            if self.input.read_line(&mut line)? == 0 {
                writeln!(self.out)?;
                return Err(PromptError::Ended(question.trim().to_string()));
            }
            let answer = line.trim_end_matches(['\n', '\r']).trim();
            if self.echo {
                writeln!(self.out, "{answer}")?;
            }
            let answer = if answer.is_empty() { default.unwrap_or("") } else { answer };
            match parse(answer) {
                Ok(v) => return Ok(v),
                Err(reason) => writeln!(self.out, "  ✗ {reason}. Please answer again.")?,
            }
        }
    }

    /// A yes/no question; without a default the passenger must answer.
    pub fn yes_no(&mut self, question: &str, default: Option<bool>) -> Result<bool, PromptError> {
        let hint = match default {
            Some(true) => "Y/n",
            Some(false) => "y/N",
            None => "yes/no",
        };
        let q = format!("{question} ({hint})");
        self.ask(&q, None, |s| {
            if s.is_empty() {
                return default.ok_or_else(|| "please answer yes or no".to_string());
            }
            parse_yes_no(s).ok_or_else(|| format!("{s:?} is not yes or no"))
        })
    }
}

/// A valid declaration to try one answer in.
fn template() -> Declaration {
    Declaration {
        flight: "NH212".into(),
        departure: "LHR".into(),
        arrival_date: "2026-11-23".into(),
        holder: Holder {
            surname: "A".into(),
            given_names: String::new(),
            nationality: "UTO".into(),
            date_of_birth: "740812".into(),
            passport_number: "L898902C3".into(),
            occupation: String::new(),
            address_in_japan: String::new(),
            phone: String::new(),
        },
        family: Default::default(),
        answers: Default::default(),
        goods: vec![],
    }
}

/// Whether the model accepts `apply`'s change; the refusal in words,
/// `what` being the answer's name ("the flight number").
fn model_check(what: &str, hint: &str, apply: impl FnOnce(&mut Declaration)) -> Result<(), String> {
    let mut d = template();
    apply(&mut d);
    d.validate().map_err(|e| {
        let hint = if hint.is_empty() { String::new() } else { format!(" ({hint})") };
        format!("{what} {}{hint}", e.problem)
    })
}

/// Ask for a text field checked by the model.
fn text<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    question: &str,
    what: &str,
    hint: &str,
    default: Option<&String>,
    tidy: fn(&str) -> String,
    set: fn(&mut Declaration, String),
) -> Result<String, PromptError> {
    p.ask(question, default.map(String::as_str), |s| {
        let v = tidy(s);
        model_check(what, hint, |d| set(d, v.clone()))?;
        Ok(v)
    })
}

fn keep(s: &str) -> String {
    s.trim().to_string()
}

fn upper(s: &str) -> String {
    s.trim().to_uppercase()
}

fn flight(s: &str) -> String {
    s.trim().to_uppercase().replace([' ', '-'], "")
}

/// Ask every question of C5360 in the order of the form, starting from the
/// answers in `sheet`; returns the sheet with every answer given. `now`
/// (Unix seconds) gives the default arrival date.
pub fn interview<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    sheet: &AnswerSheet,
    now: u32,
) -> Result<AnswerSheet, PromptError> {
    let mut s = sheet.clone();
    p.say("Customs Declaration (form C No.5360), Japan Customs")?;
    p.say("Answer each question and press Enter; Enter alone keeps the answer shown in [brackets].")?;

    p.say("\nYour flight")?;
    s.flight = Some(text(
        p,
        "Flight number",
        "the flight number",
        "letters and digits, e.g. NH212",
        sheet.flight.as_ref(),
        flight,
        |d, v| d.flight = v,
    )?);
    s.departure = Some(text(
        p,
        "Place of departure (city or airport code)",
        "the place of departure",
        "e.g. London or LHR",
        sheet.departure.as_ref(),
        keep,
        |d, v| d.departure = v,
    )?);
    let arrival_default = sheet.arrival_date_or(now);
    let arrival_date = p.ask("Date of arrival in Japan (YYYY-MM-DD)", Some(&arrival_default), |v| {
        let v = v.trim();
        parse_date(v)
            .map(|_| v.to_string())
            .ok_or_else(|| "the date must be a real date YYYY-MM-DD, e.g. 2026-11-23".into())
    })?;
    let arrival = parse_date(&arrival_date).unwrap_or((2026, 1, 1));
    s.arrival_date = Some(arrival_date);

    p.say("\nAbout you (as in your passport)")?;
    let h = &sheet.holder;
    s.holder.surname =
        Some(text(p, "Surname", "the surname", "", h.surname.as_ref(), upper, |d, v| d.holder.surname = v)?);
    s.holder.given_names =
        Some(text(p, "Given names", "the given names", "", h.given_names.as_ref(), upper, |d, v| {
            d.holder.given_names = v
        })?);
    s.holder.address_in_japan = Some(text(
        p,
        "Address in Japan (hotel name and address, or home)",
        "the address",
        "",
        h.address_in_japan.as_ref(),
        keep,
        |d, v| d.holder.address_in_japan = v,
    )?);
    s.holder.phone =
        Some(text(p, "Phone number in Japan", "the phone number", "", h.phone.as_ref(), keep, |d, v| {
            d.holder.phone = v
        })?);
    s.holder.nationality = Some(text(
        p,
        "Nationality (3 letters as in your passport, e.g. JPN, USA, GBR)",
        "the nationality",
        "3 letters, e.g. GBR",
        h.nationality.as_ref(),
        upper,
        |d, v| d.holder.nationality = v,
    )?);
    s.holder.occupation =
        Some(text(p, "Occupation", "the occupation", "", h.occupation.as_ref(), keep, |d, v| {
            d.holder.occupation = v
        })?);
    let dob = p.ask(
        "Date of birth (YYYY-MM-DD, or YYMMDD as in your passport)",
        h.date_of_birth.as_deref(),
        |v| check_dob(v, arrival).map_err(|e| format!("the date of birth {e}")),
    )?;
    if let Some(age) = age_on(&dob, arrival) {
        p.say(&format!(
            "  You will be {age} on arrival{}.",
            if age < kiosk::declaration::duty_free::ADULT_AGE {
                ": under 20 there is no alcohol or tobacco allowance"
            } else {
                ""
            }
        ))?;
    }
    s.holder.date_of_birth = Some(dob);
    s.holder.passport_number = Some(text(
        p,
        "Passport number",
        "the passport number",
        "letters and digits as in the passport",
        h.passport_number.as_ref(),
        |v| upper(v).replace(' ', ""),
        |d, v| d.holder.passport_number = v,
    )?);
    let holder_nationality = s.holder.nationality.clone().unwrap_or_default();

    // Family.
    p.say("\nAccompanying family members")?;
    p.say("  Family members travelling with you can use this declaration: each shows their own passport")?;
    p.say("  at the kiosk. The app needs their passport number and date of birth.")?;
    let mut members: Vec<MemberAnswer> = sheet.family.members.clone().unwrap_or_default();
    for (i, m) in members.iter().enumerate() {
        p.say(&format!(
            "  family member {}: passport {}, born {}",
            i + 1,
            m.passport_number,
            m.date_of_birth
        ))?;
    }
    loop {
        if members.len() >= MAX_FAMILY_MEMBERS {
            p.say(&format!("  (at most {MAX_FAMILY_MEMBERS} family members on one declaration)"))?;
            break;
        }
        let q = if members.is_empty() { "Add a family member?" } else { "Add another family member?" };
        if !p.yes_no(q, Some(false))? {
            break;
        }
        let n = members.len() + 1;
        let passport = p.ask(&format!("  Family member {n}: passport number"), None, |v| {
            let v = upper(v).replace(' ', "");
            model_check("the passport number", "letters and digits as in the passport", |d| {
                d.family.members.push(FamilyMember {
                    passport_number: v.clone(),
                    nationality: "UTO".into(),
                    date_of_birth: "740812".into(),
                })
            })?;
            Ok(v)
        })?;
        let dob =
            p.ask(&format!("  Family member {n}: date of birth (YYYY-MM-DD or YYMMDD)"), None, |v| {
                check_dob(v, arrival).map_err(|e| format!("the date of birth {e}"))
            })?;
        let nationality =
            p.ask(&format!("  Family member {n}: nationality"), Some(&holder_nationality), |v| {
                let v = upper(v);
                model_check("the nationality", "3 letters, e.g. GBR", |d| d.holder.nationality = v.clone())?;
                Ok(v)
            })?;
        members.push(MemberAnswer {
            passport_number: passport,
            date_of_birth: dob,
            nationality: Some(nationality),
        });
    }
    let ages: Option<Vec<u8>> =
        members.iter().map(|m| age_on(&answers::normalise_dob(&m.date_of_birth), arrival)).collect();
    s.family.members = Some(members);
    match ages {
        Some(ages) => {
            let (a, b, c) = answers::age_band_counts(ages);
            s.family.age_20_plus = None;
            s.family.age_6_to_19 = None;
            s.family.under_6 = None;
            if a + b + c > 0 {
                p.say(&format!("  Family with you: {a} aged 20 or over, {b} aged 6 to 19, {c} under 6."))?;
            }
        }
        None => {
            p.say("  A date of birth is not complete: please give the number of family members by age.")?;
            let f = &sheet.family;
            let count = |p: &mut Prompter<R, W>, q: &str, d: Option<u8>| {
                let d = d.unwrap_or(0).to_string();
                p.ask(q, Some(&d), |v| {
                    parse_amount(v)
                        .ok()
                        .and_then(|n| u8::try_from(n).ok())
                        .ok_or_else(|| "give a number from 0 to 255".into())
                })
            };
            s.family.age_20_plus = Some(count(p, "  Aged 20 or over", f.age_20_plus)?);
            s.family.age_6_to_19 = Some(count(p, "  Aged 6 to 19", f.age_6_to_19)?);
            s.family.under_6 = Some(count(p, "  Under 6", f.under_6)?);
        }
    }

    // Questions 1 to 3.
    p.say("\nQuestions: answer yes or no")?;
    p.say("1. Are you bringing into Japan the following items?")?;
    let q = sheet.answers;
    let a = &mut s.answers;
    p.say(
        "  (narcotics, firearms, explosives, counterfeit goods or goods that infringe intellectual property,",
    )?;
    p.say("   certain plants and animals and their products, ...)")?;
    a.prohibited = Some(p.yes_no("1-1 Prohibited or restricted articles?", q.prohibited)?);
    for line in report::ALLOWANCE_SUMMARY {
        p.say(&format!("  {line}"))?;
    }
    a.over_allowance =
        Some(p.yes_no("1-2 Purchases, souvenirs or gifts over the duty-free allowance?", q.over_allowance)?);
    a.commercial = Some(p.yes_no("1-3 Commercial goods or samples?", q.commercial)?);
    a.carried_for_others =
        Some(p.yes_no("1-4 Items that you were asked by someone else to carry?", q.carried_for_others)?);
    let cash_or_gold = p.yes_no(
        "2. Are you carrying cash or securities over 1,000,000 yen (or the equivalent), or gold (90 % pure or more) over 1 kg?",
        q.cash_or_gold,
    )?;
    a.cash_or_gold = Some(cash_or_gold);
    if cash_or_gold {
        let d = q.cash_yen.unwrap_or(0).to_string();
        a.cash_yen =
            Some(p.ask("  Cash, cheques, promissory notes and securities, in yen", Some(&d), |v| {
                let n = parse_amount(v).map_err(|e| format!("the amount {e}"))?;
                if n > kiosk::declaration::limits::MAX_CASH_YEN {
                    return Err("the amount is implausibly large".into());
                }
                Ok(n)
            })?);
        let d = q.gold_grams.unwrap_or(0).to_string();
        a.gold_grams = Some(p.ask("  Gold (90 % pure or more), in grams", Some(&d), |v| {
            parse_amount(v)
                .map_err(|e| format!("the weight {e}"))
                .and_then(|n| u32::try_from(n).map_err(|_| "the weight is implausibly large".into()))
        })?);
        p.say("  You will also need the Declaration of Carrying of Means of Payment: see an officer.")?;
    } else {
        a.cash_yen = Some(0);
        a.gold_grams = Some(0);
    }
    let unaccompanied = p.yes_no(
        "3. Do you have unaccompanied articles (baggage sent separately, arriving later)?",
        q.unaccompanied,
    )?;
    a.unaccompanied = Some(unaccompanied);
    if unaccompanied {
        let d = q.unaccompanied_packages.filter(|&n| n > 0).map(|n| n.to_string());
        a.unaccompanied_packages =
            Some(p.ask("  Number of packages sent separately", d.as_deref(), |v| {
                match parse_amount(v).ok().and_then(|n| u16::try_from(n).ok()) {
                    Some(0) | None => Err("give the number of packages, 1 or more".into()),
                    Some(n) => Ok(n),
                }
            })?);
    } else {
        a.unaccompanied_packages = Some(0);
    }
    let over_answer = a.over_allowance == Some(true);

    // Goods.
    p.say("\nGoods (the back of the form)")?;
    let mut goods: Vec<GoodsAnswer> = sheet.goods.clone().unwrap_or_default();
    let wanted = if over_answer || unaccompanied {
        p.say("  List the goods you are bringing and sending separately (alcohol, tobacco, perfume and other goods).")?;
        true
    } else if goods.is_empty() {
        p.yes_no("  List your purchases so that the app can check them against the allowance?", Some(false))?
    } else {
        true
    };
    for (i, g) in goods.iter().enumerate() {
        if let Ok(line) = answers::goods_line(i, g) {
            p.say(&format!("  goods[{i}]: {}", report::describe_line(&line)))?;
        }
    }
    loop {
        if !wanted {
            break;
        }
        if goods.len() >= MAX_GOODS_LINES {
            p.say(&format!("  (at most {MAX_GOODS_LINES} goods lines)"))?;
            break;
        }
        let q = if goods.is_empty() { "Add a goods line?" } else { "Add another goods line?" };
        if !p.yes_no(q, Some(goods.is_empty()))? {
            break;
        }
        goods.push(goods_line(p, goods.len())?);
        let so_far: Vec<GoodsLine> =
            goods.iter().enumerate().filter_map(|(i, g)| answers::goods_line(i, g).ok()).collect();
        let mut probe = template();
        probe.holder.date_of_birth = s.holder.date_of_birth.clone().unwrap_or_default();
        probe.arrival_date = s.arrival_date.clone().unwrap_or_default();
        probe.goods = so_far;
        let over = answers::over_allowance_lines(&probe, probe.holder_age().unwrap_or(0));
        if over.is_empty() {
            p.say("  So far your goods are within the duty-free allowance.")?;
        } else {
            p.say(&format!("  Over the duty-free allowance so far: {}.", over.join(", ")))?;
        }
    }
    s.goods = Some(goods);

    // Question 1-2 must agree with the goods.
    if let Ok(r) = {
        let mut probe = s.clone();
        probe.answers.over_allowance = None;
        probe.resolve(now)
    } {
        let over = answers::over_allowance_lines(&r.declaration, r.holder_age.unwrap_or(0));
        if !over.is_empty() && !over_answer {
            p.say(&format!(
                "  ✗ You answered no to question 1-2, but these goods are over the duty-free allowance: {}.",
                over.join(", ")
            ))?;
            p.ask("1-2 Purchases, souvenirs or gifts over the duty-free allowance? (yes/no)", None, |v| {
                match parse_yes_no(v) {
                    Some(true) => Ok(()),
                    Some(false) => {
                        Err("your goods are over the allowance, so the answer to 1-2 is yes".into())
                    }
                    None => Err(format!("{v:?} is not yes or no")),
                }
            })?;
            s.answers.over_allowance = Some(true);
        }
    }
    Ok(s)
}

/// Ask for one goods line.
fn goods_line<R: BufRead, W: Write>(p: &mut Prompter<R, W>, i: usize) -> Result<GoodsAnswer, PromptError> {
    let kind_name = p.ask(
        &format!("  goods[{i}] kind ({KIND_NAMES}; or a common name such as handbag, watch)"),
        None,
        |v| {
            parse_kind(v, DEFAULT_BOTTLE_ML).map(|_| v.trim().to_string()).ok_or_else(|| {
                format!(
                    "{v:?} is not a kind of goods: one of {KIND_NAMES}, or \"other\" and then say what it is"
                )
            })
        },
    )?;
    let (kind, common) = parse_kind(&kind_name, DEFAULT_BOTTLE_ML).unwrap_or((GoodsKind::Other, None));
    p.say(&format!("    {}", report::allowance_text(kind)))?;
    let bottle_ml = if kind.is_alcohol() {
        let ml = p.ask("    Size of one bottle, in ml", Some(&DEFAULT_BOTTLE_ML.to_string()), |v| {
            let ml = parse_amount(v.trim_end_matches("ml")).map_err(|e| format!("the size {e}"))?;
            let ml = u16::try_from(ml).map_err(|_| "the size must be between 1 and 20,000 ml".to_string())?;
            model_check("the bottle size", "", |d| {
                d.goods.push(line(
                    GoodsKind::Alcohol {
                        class: kiosk::declaration::AlcoholClass::WineBeerOther,
                        bottle_ml: ml,
                    },
                    1,
                    1,
                ))
            })?;
            Ok(ml)
        })?;
        Some(ml)
    } else {
        None
    };
    let quantity = p.ask(&format!("    Quantity, in {}", kind.unit()), None, |v| {
        let n = parse_amount(v).map_err(|e| format!("the quantity {e}"))?;
        let n = u32::try_from(n).map_err(|_| "the quantity must be between 1 and 1,000,000".to_string())?;
        model_check("the quantity", "", |d| d.goods.push(line(GoodsKind::Cigarettes, n, 1)))?;
        Ok(n)
    })?;
    let value_yen = p.ask("    Value of the whole line in yen (overseas market value)", None, |v| {
        let n = parse_amount(v).map_err(|e| format!("the value {e}"))?;
        model_check("the value", "", |d| d.goods.push(line(GoodsKind::Cigarettes, 1, n)))?;
        Ok(n)
    })?;
    let description = match (kind, common) {
        (_, Some(name)) => Some(name.to_string()),
        (GoodsKind::Other, None) => Some(p.ask("    What is it?", None, |v| {
            let v = v.trim().to_string();
            model_check("the description", "e.g. kimono", |d| {
                d.goods.push(GoodsLine {
                    kind: GoodsKind::Other,
                    description: v.clone(),
                    quantity: 1,
                    value_yen: 1,
                })
            })?;
            Ok(v)
        })?),
        _ => {
            let v = p.ask("    Description (optional)", None, |v| {
                let v = v.trim().to_string();
                model_check("the description", "", |d| {
                    d.goods.push(GoodsLine {
                        kind: GoodsKind::Perfume,
                        description: v.clone(),
                        quantity: 1,
                        value_yen: 1,
                    })
                })?;
                Ok(v)
            })?;
            Some(v).filter(|v| !v.is_empty())
        }
    };
    let answer =
        GoodsAnswer { kind: KindAnswer::Name(kind_name), bottle_ml, description, quantity, value_yen };
    if let Ok(l) = answers::goods_line(i, &answer) {
        p.say(&format!("    Added goods[{i}]: {}", report::describe_line(&l)))?;
    }
    Ok(answer)
}

fn line(kind: GoodsKind, quantity: u32, value_yen: u64) -> GoodsLine {
    GoodsLine { kind, description: String::new(), quantity, value_yen }
}
