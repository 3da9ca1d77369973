//! `kiosk ui screenshot ...`: render one screen to a PNG.

use std::path::PathBuf;
use std::time::Instant;

use crate::decision::{Decision, ReasonCode};
use crate::i18n::Language;
use crate::lane::events::{Step, failure, guidance};

use super::{ScreenSpec, UiOptions};

/// Render one kiosk screen to a PNG and exit (needs an X server: run under
/// `xvfb-run -a` on a headless machine).
#[derive(clap::Args, Debug, Clone)]
pub struct ScreenshotArgs {
    /// Step to show: welcome, passport, declaration, face, result, gate.
    #[arg(long, value_parser = parse_step)]
    pub step: Step,
    /// Language: ja, en, zh-Hans, zh-Hant, ko.
    #[arg(long, default_value = "en", value_parser = parse_language)]
    pub lang: Language,
    /// With --step result: referral reason code(s), e.g. cash_or_gold
    /// (repeatable). Without any, the result is green.
    #[arg(long = "referral-reason", value_name = "CODE", num_args = 1.., value_parser = parse_reason)]
    pub referral_reasons: Vec<ReasonCode>,
    /// A step failure code shown on the step (lane::events::failure), e.g.
    /// qr_not_yours; timed_out shows the timeout screen; cancelled with
    /// --step welcome shows the start screen after a cancel.
    #[arg(long, value_parser = parse_failure)]
    pub failure: Option<&'static str>,
    /// A capture hint code (lane::events::guidance), e.g. come_closer.
    #[arg(long, value_parser = parse_hint)]
    pub hint: Option<&'static str>,
    /// Show a (synthetic) camera preview with its guide.
    #[arg(long)]
    pub preview: bool,
    /// Show the step's countdown from this many seconds.
    #[arg(long)]
    pub countdown: Option<u64>,
    /// Output PNG file.
    #[arg(long)]
    pub out: PathBuf,
    /// Assets folder (holds i18n/<lang>/kiosk.ftl).
    #[arg(long, default_value = "assets")]
    pub assets: PathBuf,
    /// Font file with CJK glyphs (.ttf/.otf/.ttc). Default: $KIOSK_UI_FONT,
    /// <assets>/fonts/NotoSansCJK-Regular.ttc, then Debian fonts-noto-cjk.
    #[arg(long)]
    pub font: Option<PathBuf>,
}

pub fn parse_step(s: &str) -> Result<Step, String> {
    Step::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
        format!("unknown step {s:?}; expected one of {}", Step::ALL.map(|st| st.as_str()).join(", "))
    })
}

pub fn parse_language(s: &str) -> Result<Language, String> {
    Language::from_code(s).ok_or_else(|| {
        format!("unknown language {s:?}; expected one of {}", Language::ALL.map(|l| l.code()).join(", "))
    })
}

pub fn parse_failure(s: &str) -> Result<&'static str, String> {
    let norm = s.trim().replace('-', "_").to_ascii_lowercase();
    failure::ALL
        .into_iter()
        .find(|c| *c == norm)
        .ok_or_else(|| format!("unknown failure code {s:?}; expected one of {}", failure::ALL.join(", ")))
}

pub fn parse_hint(s: &str) -> Result<&'static str, String> {
    let norm = s.trim().replace('-', "_").to_ascii_lowercase();
    guidance::ALL
        .into_iter()
        .find(|c| *c == norm)
        .ok_or_else(|| format!("unknown hint code {s:?}; expected one of {}", guidance::ALL.join(", ")))
}

pub fn parse_reason(s: &str) -> Result<ReasonCode, String> {
    let norm = s.trim().replace('-', "_").to_ascii_lowercase();
    ReasonCode::ALL.into_iter().find(|r| r.as_str() == norm).ok_or_else(|| {
        format!(
            "unknown reason code {s:?}; expected one of {}",
            ReasonCode::ALL.map(|r| r.as_str()).join(", ")
        )
    })
}

impl ScreenshotArgs {
    pub fn screen(&self) -> anyhow::Result<ScreenSpec> {
        let decision = match self.step {
            Step::Result if self.referral_reasons.is_empty() => Some(Decision::Green),
            Step::Result => Some(Decision::Referral(self.referral_reasons.clone())),
            _ if !self.referral_reasons.is_empty() => {
                anyhow::bail!("--referral-reason only applies to --step result")
            }
            _ => None,
        };
        Ok(ScreenSpec {
            step: self.step,
            decision,
            failure: self.failure,
            hint: self.hint,
            preview: self.preview,
            countdown_secs: self.countdown,
        })
    }
}

pub fn run_screenshot(args: ScreenshotArgs) -> anyhow::Result<()> {
    let screen = args.screen()?;
    let options =
        UiOptions { language: args.lang, assets_dir: args.assets.clone(), windowed: true, control: None };
    let t0 = Instant::now();
    let report = super::screenshot_with_font(screen, options, args.font.as_deref(), &args.out)?;
    tracing::info!(
        out = %args.out.display(),
        step = args.step.as_str(),
        lang = args.lang.code(),
        width = report.width,
        height = report.height,
        captures = report.captures,
        render_s = format!("{:.2}", report.elapsed.as_secs_f32()),
        total_s = format!("{:.2}", t0.elapsed().as_secs_f32()),
        "screenshot saved"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ScreenshotArgs,
    }

    #[test]
    fn parses_arguments() {
        let cli = Cli::try_parse_from([
            "x",
            "--step",
            "result",
            "--lang",
            "zh-Hant",
            "--referral-reason",
            "cash_or_gold",
            "random-selection",
            "--out",
            "/tmp/a.png",
        ])
        .unwrap();
        assert_eq!(cli.args.lang, Language::ZhHant);
        assert_eq!(
            cli.args.screen().unwrap().decision,
            Some(Decision::Referral(vec![ReasonCode::CashOrGold, ReasonCode::RandomSelection]))
        );
        let cli = Cli::try_parse_from(["x", "--step", "result", "--out", "a.png"]).unwrap();
        assert_eq!(cli.args.screen().unwrap().decision, Some(Decision::Green));
        assert!(Cli::try_parse_from(["x", "--step", "nope", "--out", "a.png"]).is_err());
        let cli =
            Cli::try_parse_from(["x", "--step", "face", "--referral-reason", "cash_or_gold", "--out", "a"])
                .unwrap();
        assert!(cli.args.screen().is_err());
    }
}
