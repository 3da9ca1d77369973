//! The `declare` command line, run as the real binary: answers from flags, a
//! TOML file, a JSON file and the interactive prompt (through stdin); each
//! QR code it writes is read back as the kiosk reads it (`kiosk::qr`) and
//! verified with the kiosk's trust store (the demo key of its default
//! configuration).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kiosk::declaration::Declaration;
use kiosk::declaration::duty_free::Assessment;
use kiosk::declaration::payload::VerifiedDeclaration;

const BIN: &str = env!("CARGO_BIN_EXE_declaration-app-sim");
/// 2026-11-22T00:00:00Z: the examples arrive on 2026-11-23.
const ISSUED_AT: u32 = 1_795_392_000;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run declaration-app-sim");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// `declare --answers FILE --out PNG --issued-at ISSUED_AT`.
fn declare_file(file: &Path, png: &Path) -> Output {
    let issued = ISSUED_AT.to_string();
    run(
        &[
            "declare",
            "--answers",
            file.to_str().unwrap(),
            "--out",
            png.to_str().unwrap(),
            "--issued-at",
            &issued,
        ],
        None,
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
}

/// Read the PNG as the kiosk's scanner does and verify it with the kiosk's
/// default trust store (the demo declaration service key).
fn read_back(png: &Path) -> VerifiedDeclaration {
    let frame = image::open(png).expect("a PNG").to_rgb8();
    let read = kiosk::qr::decode_frame(&frame).expect("the QR code decodes");
    assert_eq!(read.texts.len(), 1);
    let trust = kiosk::config::KioskConfig::default().trust_store().unwrap();
    trust.verify_qr(&read.texts[0], ISSUED_AT + 60).expect("the QR code verifies with the demo key")
}

/// The QR code printed with --terminal, drawn back into pixels as a screen
/// shows it: each character is two modules (upper, lower half block), the
/// blocks in the text colour (light on a dark terminal, dark on a light one).
fn terminal_image(out: &str, dark_background: bool) -> image::RgbImage {
    let is_qr_line = |l: &str| {
        l.chars().all(|c| matches!(c, ' ' | '▀' | '▄' | '█')) && l.chars().filter(|&c| c != ' ').count() >= 10
    };
    let lines: Vec<Vec<char>> = out.lines().filter(|l| is_qr_line(l)).map(|l| l.chars().collect()).collect();
    assert!(lines.len() > 10, "a code in the terminal output:\n{out}");
    let (ink, paper) = if dark_background { (255u8, 0u8) } else { (0, 255) };
    let px = 4u32;
    let margin = 4u32;
    let w = lines.iter().map(Vec::len).max().unwrap() as u32;
    let h = 2 * lines.len() as u32;
    let mut img =
        image::RgbImage::from_pixel((w + 2 * margin) * px, (h + 2 * margin) * px, image::Rgb([paper; 3]));
    for (row, line) in lines.iter().enumerate() {
        for (col, c) in line.iter().enumerate() {
            let (top, bottom) = match c {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                _ => (false, false),
            };
            for (half, on) in [(0u32, top), (1, bottom)] {
                let v = if on { ink } else { paper };
                for dy in 0..px {
                    for dx in 0..px {
                        let x = (col as u32 + margin) * px + dx;
                        let y = (2 * row as u32 + half + margin) * px + dy;
                        img.put_pixel(x, y, image::Rgb([v; 3]));
                    }
                }
            }
        }
    }
    img
}

fn qr_text_of(png: &Path) -> String {
    let frame = image::open(png).unwrap().to_rgb8();
    kiosk::qr::decode_frame(&frame).unwrap().texts.remove(0)
}

#[test]
fn the_terminal_code_scans_from_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let file = examples().join("single-traveller.toml");
    let issued = ISSUED_AT.to_string();
    for dark in [true, false] {
        let png = dir.path().join(format!("qr-{dark}.png"));
        let mut args = vec!["declare", "--answers", file.to_str().unwrap(), "--out", png.to_str().unwrap()];
        args.extend(["--terminal", "--issued-at", &issued]);
        if !dark {
            args.push("--light-terminal");
        }
        let o = run(&args, None);
        assert_ok(&o);
        let screen = terminal_image(&stdout(&o), dark);
        let read = kiosk::qr::decode_frame(&screen).expect("the terminal code decodes");
        assert_eq!(read.texts, vec![qr_text_of(&png)], "dark background: {dark}");
    }
}

fn holder_flags() -> Vec<&'static str> {
    vec![
        "--flight",
        "nh 212",
        "--departure",
        "LHR",
        "--arrival-date",
        "2026-11-23",
        "--surname",
        "Eriksson",
        "--given-names",
        "Anna Maria",
        "--nationality",
        "UTO",
        "--dob",
        "1974-08-12",
        "--passport",
        "L898902C3",
        "--occupation",
        "ENGINEER",
        "--address",
        "1-1 Chiyoda, Tokyo",
        "--phone",
        "+81-3-0000-0000",
    ]
}

#[test]
fn flags_only_declare_with_goods_and_family() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let svg = dir.path().join("qr.svg");
    let issued = ISSUED_AT.to_string();
    let mut args = vec!["declare"];
    args.extend(holder_flags());
    args.extend([
        "--member",
        "L898903C1:760304",
        "--member",
        "L898904C9:2012-06-15:GBR",
        "--prohibited=no",
        "--commercial=no",
        "--goods",
        "wine@750:4:24,000",
        "--goods",
        "cigarettes:200:5000",
        "--goods",
        "handbag:1:250000",
        "--goods",
        "other:1:30000:kimono",
        "--out",
        png.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--terminal",
        "--issued-at",
        &issued,
    ]);
    let o = run(&args, None);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("Duty payable"), "{out}");
    assert!(out.contains("goods[2] handbag"), "{out}");
    assert!(out.contains("QR code version"), "{out}");
    assert!(out.contains('▀') || out.contains('▄'), "the terminal code uses half blocks");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    let v = read_back(&png);
    let d = &v.declaration;
    assert_eq!(d.flight, "NH212");
    assert_eq!(d.holder.surname, "ERIKSSON");
    assert_eq!(d.holder.date_of_birth, "740812");
    assert_eq!((d.family.age_20_plus, d.family.age_6_to_19, d.family.under_6), (1, 1, 0));
    assert_eq!(d.family.members[0].nationality, "UTO");
    assert_eq!(d.family.members[1].nationality, "GBR");
    assert_eq!(d.goods.len(), 4);
    assert_eq!(d.goods[2].description, "handbag");
    assert_eq!(d.goods[3].description, "kimono");
    assert!(d.answers.over_allowance, "question 1-2 follows from the goods");
    assert!(matches!(d.duty_free_assessment(), Assessment::DutyPayable { .. }));
    assert_eq!(v.issued_at, ISSUED_AT);
}

#[test]
fn toml_answer_file_single_traveller_within_the_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("single-traveller.toml");
    let o = declare_file(&file, &png);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("Within the duty-free allowance"), "{out}");
    let v = read_back(&png);
    assert_eq!(v.declaration.holder.passport_number, "L898902C3");
    assert_eq!(v.declaration.goods.len(), 5);
    assert!(!v.declaration.answers.over_allowance);
    assert_eq!(v.declaration.duty_free_assessment(), Assessment::WithinAllowance);
}

#[test]
fn flags_override_the_answer_file() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("single-traveller.toml");
    let issued = ISSUED_AT.to_string();
    let o = run(
        &[
            "declare",
            "--answers",
            file.to_str().unwrap(),
            "--flight",
            "JL44",
            "--goods",
            "watch:1:300000",
            "--out",
            png.to_str().unwrap(),
            "--issued-at",
            &issued,
        ],
        None,
    );
    assert_ok(&o);
    let d = read_back(&png).declaration;
    assert_eq!(d.flight, "JL44");
    assert_eq!(d.holder.surname, "ERIKSSON", "the file's other answers stay");
    assert_eq!(d.goods.len(), 1, "--goods replaces the file's goods");
    assert!(d.answers.over_allowance);
}

#[test]
fn json_answer_file_family_of_four_with_duty() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("family-of-four.json");
    let o = declare_file(&file, &png);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("Duty payable"), "{out}");
    let d = read_back(&png).declaration;
    assert_eq!(d.family.members.len(), 3);
    assert_eq!((d.family.age_20_plus, d.family.age_6_to_19, d.family.under_6), (1, 1, 1));
    assert_eq!(d.goods.len(), 10);
    match d.duty_free_assessment() {
        Assessment::DutyPayable { total_duty_yen, .. } => {
            assert!(out.contains(&declaration_app_sim::answers::yen(total_duty_yen)), "{out}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_officer_example_says_see_an_officer() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("see-officer.toml");
    let o = declare_file(&file, &png);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("You must see a customs officer"), "{out}");
    assert!(out.contains("Declaration of Carrying of Means of Payment"), "{out}");
    let d = read_back(&png).declaration;
    assert!(d.answers.cash_or_gold && d.answers.unaccompanied);
    assert!(matches!(d.duty_free_assessment(), Assessment::SeeOfficer { .. }));
}

#[test]
fn the_old_declaration_json_is_still_an_answer_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("declaration.json");
    let png = dir.path().join("qr.png");
    let decl: Declaration = read_back_example_family();
    std::fs::write(&json, serde_json::to_vec_pretty(&decl).unwrap()).unwrap();
    let o = declare_file(&json, &png);
    assert_ok(&o);
    assert_eq!(read_back(&png).declaration, decl);
}

/// The family example as the kiosk model (through the binary's --check path
/// would not give it; sign it and read it back).
fn read_back_example_family() -> Declaration {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("family-of-four.json");
    let o = declare_file(&file, &png);
    assert_ok(&o);
    read_back(&png).declaration
}

#[test]
fn an_invalid_answer_file_names_the_field_and_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(examples().join("single-traveller.toml"))
        .unwrap()
        .replace("date_of_birth = \"1974-08-12\"", "date_of_birth = \"1974-13-01\"");
    std::fs::write(&file, text).unwrap();
    let o = run(&["declare", "--answers", file.to_str().unwrap(), "--out", png.to_str().unwrap()], None);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("holder.date_of_birth"), "{err}");
    assert!(err.contains("nothing was signed"), "{err}");
    assert!(!png.exists(), "nothing is written");

    // A contradiction: question 1-2 answered no with goods over the allowance.
    let o = run(
        &[
            "declare",
            "--answers",
            examples().join("single-traveller.toml").to_str().unwrap(),
            "--over-allowance=no",
            "--goods",
            "watch:1:300000",
            "--out",
            png.to_str().unwrap(),
        ],
        None,
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("answers.over_allowance") && err.contains("goods[0] watch"), "{err}");
    assert!(!png.exists());

    // A misspelt key in JSON.
    let file = dir.path().join("bad.json");
    std::fs::write(&file, r#"{"flight": "NH212", "holder": {"surnam": "X"}}"#).unwrap();
    let o = run(&["declare", "--answers", file.to_str().unwrap(), "--out", png.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("surnam"), "{}", stderr(&o));
}

#[test]
fn interactive_mode_through_stdin_re_asks_an_invalid_answer() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let issued = ISSUED_AT.to_string();
    let answers = [
        "nh212",                 // flight
        "London",                // departure
        "2026-11-23",            // arrival date
        "Eriksson",              // surname
        "Anna Maria",            // given names
        "Hotel Sakura, Asakusa", // address
        "+81-3-1234-5678",       // phone
        "uto",                   // nationality
        "engineer",              // occupation
        "1974-13-01",            // date of birth: invalid, asked again
        "1974-08-12",            // date of birth
        "L898902C3",             // passport number
        "y",                     // add a family member
        "L898903C1",             //   passport
        "760304",                //   date of birth
        "",                      //   nationality: the holder's
        "n",                     // another member?
        "no",                    // 1-1
        "maybe",                 // 1-2: not yes or no, asked again
        "yes",                   // 1-2
        "no",                    // 1-3
        "no",                    // 1-4
        "no",                    // 2
        "no",                    // 3
        "y",                     // add a goods line
        "whisky",                //   kind
        "700",                   //   bottle size
        "5",                     //   bottles
        "40,000",                //   value
        "",                      //   description
        "y",                     // another line
        "handbag",               //   kind
        "0",                     //   quantity: invalid, asked again
        "1",                     //   quantity
        "280000",                //   value
        "n",                     // another line?
        "",                      // sign? (yes)
    ]
    .join("\n")
        + "\n";
    let o = run(
        &["declare", "--interactive", "--out", png.to_str().unwrap(), "--issued-at", &issued],
        Some(&answers),
    );
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("Date of birth"), "{out}");
    assert!(
        out.contains("the date of birth is not a real date") || out.contains("the date of birth must be"),
        "{out}"
    );
    assert!(out.contains("\"maybe\" is not yes or no"), "{out}");
    assert!(out.contains("the quantity must be between 1 and 1,000,000"), "{out}");
    assert!(out.contains("allowance: 3 bottles"), "the allowance is shown: {out}");
    assert!(out.contains("Duty payable"), "{out}");
    let d = read_back(&png).declaration;
    assert_eq!(d.flight, "NH212");
    assert_eq!(d.holder.date_of_birth, "740812");
    assert_eq!(d.holder.nationality, "UTO");
    assert_eq!(d.family.members.len(), 1);
    assert_eq!(d.family.members[0].nationality, "UTO");
    assert_eq!(d.family.age_20_plus, 1);
    assert_eq!(d.goods.len(), 2);
    assert_eq!(d.goods[1].description, "handbag");
    assert!(d.answers.over_allowance);
}

#[test]
fn interactive_mode_insists_on_question_1_2_when_goods_are_over() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("single-traveller.toml");
    let issued = ISSUED_AT.to_string();
    // Everything from the file (Enter keeps it), 1-2 answered no, then a
    // watch over the allowance: 1-2 is asked again and must be yes.
    let mut lines: Vec<&str> = vec![""; 11]; // trip and holder fields
    lines.extend(["n", "no", "no", "no", "no", "no", "no"]); // family, 1-1 .. 3
    lines.extend(["n"]); // no more goods (the file has five lines)
    let input = lines.join("\n") + "\n";
    // The file's goods are within the allowance: no re-ask, signed.
    let o = run(
        &[
            "declare",
            "--answers",
            file.to_str().unwrap(),
            "--interactive",
            "--out",
            png.to_str().unwrap(),
            "--issued-at",
            &issued,
        ],
        Some(&(input.clone() + "\n")),
    );
    assert_ok(&o);
    assert_eq!(read_back(&png).declaration.goods.len(), 5);

    std::fs::remove_file(&png).unwrap();
    let o = run(
        &[
            "declare",
            "--answers",
            file.to_str().unwrap(),
            "--goods",
            "watch:1:300000",
            "--interactive",
            "--out",
            png.to_str().unwrap(),
            "--issued-at",
            &issued,
        ],
        Some(&(input + "no\nyes\n\n")),
    );
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("You answered no to question 1-2"), "{out}");
    assert!(out.contains("the answer to 1-2 is yes"), "{out}");
    assert!(read_back(&png).declaration.answers.over_allowance);
}

#[test]
fn interactive_input_that_ends_early_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let o = run(&["declare", "--interactive", "--out", png.to_str().unwrap()], Some("NH212\nLHR\n"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("the input ended"), "{}", stderr(&o));
    assert!(!png.exists());
}

#[test]
fn check_only_shows_the_assessment_and_signs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("qr.png");
    let file = examples().join("see-officer.toml");
    let o = run(
        &["declare", "--answers", file.to_str().unwrap(), "--out", png.to_str().unwrap(), "--check"],
        None,
    );
    assert_ok(&o);
    let out = stdout(&o);
    assert!(out.contains("You must see a customs officer") && out.contains("nothing was signed"), "{out}");
    assert!(!png.exists());
    // No output at all is refused before anything is asked.
    let o = run(&["declare", "--answers", file.to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
}
