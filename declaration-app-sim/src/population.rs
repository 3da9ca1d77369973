//! Synthetic passengers: identity, passport (page MRZ + chip image), signed
//! declaration QR code and face photos, written as passenger folders the
//! kiosk's simulated lane reads (`kiosk::lane::sim`).

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use image::RgbImage;
use kiosk::declaration::{Answers, Declaration, Family, GoodsKind, GoodsLine, Holder};
use kiosk::face::opencv_backend::{OpenCvFaceMatcher, dominant_face};
use kiosk::face::pad_bursts::{BurstKind, make_burst};
use kiosk::face::{DetectedFace, FaceMatcher};
use kiosk::lane::sim::{MANIFEST, PassengerManifest};

use std::collections::BTreeMap;

use kiosk::passport::ca::EcCurve;

use crate::app;
use crate::issuer::{self, AaKeyKind, ChipAccess, ChipFault, ChipOptions, PassportData};
use crate::photos::{self, Identity};
use crate::pki::{PkiOptions, SignatureScheme, TestPki};

/// What a passenger does, and so what the kiosk should decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Nothing to declare, own QR code, own face: green, through the gate.
    Green,
    /// Goods over the allowance declared: referral.
    DeclaresGoods,
    /// Someone else stands at the kiosk with this passport: face mismatch.
    FaceMismatch,
    /// Shows another passenger's QR code: declaration holder mismatch.
    OthersQr,
    /// The passport has expired.
    ExpiredPassport,
    /// The chip portrait was replaced after issue: Passive Authentication fails.
    ForgedChip,
    /// Genuine data on a cloned chip: Chip/Active Authentication fail.
    ClonedChip,
    /// Someone holds a print of the holder's photo up to the kiosk camera:
    /// presentation attack detection refers them (the face itself matches).
    PhotoAttack,
    /// The holder's photo shown on a phone screen to the kiosk camera.
    ScreenAttack,
    /// A green passenger at the kiosk, followed through the open gate by
    /// someone else (`gate_behaviour: "tailgated"` in the manifest): the
    /// gate raises a tailgating alarm.
    Tailgater,
}

/// The problem cases a share of passengers brings (`generate --problem-share`).
pub const PROBLEMS: [Scenario; 7] = [
    Scenario::ExpiredPassport,
    Scenario::ForgedChip,
    Scenario::ClonedChip,
    Scenario::OthersQr,
    Scenario::FaceMismatch,
    Scenario::PhotoAttack,
    Scenario::ScreenAttack,
];

/// The manifest's `gate_behaviour` of a tailgated passenger.
pub const TAILGATED: &str = "tailgated";

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Green | Scenario::Tailgater => "green",
            Scenario::DeclaresGoods => "referral:over_allowance",
            Scenario::FaceMismatch => "referral:face_mismatch",
            Scenario::OthersQr => "referral:declaration_holder_mismatch",
            Scenario::ExpiredPassport => "referral:document_expired",
            Scenario::ForgedChip => "referral:document_not_authentic",
            Scenario::ClonedChip => "referral:chip_not_genuine",
            Scenario::PhotoAttack | Scenario::ScreenAttack => "referral:presentation_attack_suspected",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Some(match s {
            "green" => Scenario::Green,
            "goods" => Scenario::DeclaresGoods,
            "face-mismatch" => Scenario::FaceMismatch,
            "others-qr" => Scenario::OthersQr,
            "expired" => Scenario::ExpiredPassport,
            "forged-chip" => Scenario::ForgedChip,
            "cloned-chip" => Scenario::ClonedChip,
            "photo-attack" => Scenario::PhotoAttack,
            "screen-attack" => Scenario::ScreenAttack,
            "tailgater" => Scenario::Tailgater,
            _ => return None,
        })
    }

    /// The demo mix: mostly green, every kind of referral along the way.
    pub fn in_mix(index: usize) -> Scenario {
        const MIX: [Scenario; 12] = [
            Scenario::Green,
            Scenario::DeclaresGoods,
            Scenario::Green,
            Scenario::FaceMismatch,
            Scenario::Green,
            Scenario::OthersQr,
            Scenario::Green,
            Scenario::ExpiredPassport,
            Scenario::ForgedChip,
            Scenario::Green,
            Scenario::ClonedChip,
            Scenario::PhotoAttack,
        ];
        MIX[index % MIX.len()]
    }

    /// What happens at the gate besides the passenger walking through
    /// (the manifest's `gate_behaviour`).
    pub fn gate_behaviour(self) -> Option<&'static str> {
        (self == Scenario::Tailgater).then_some(TAILGATED)
    }

    /// The expected outcome, and what happens at the gate: for people.
    pub fn describe(self) -> String {
        match self.gate_behaviour() {
            Some(g) => format!("{} ({g} at the gate)", self.name()),
            None => self.name().to_string(),
        }
    }
}

/// The mix of passengers by share (`generate --goods-share --problem-share
/// --tailgater-share`); the rest are green.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shares {
    /// Declaring goods over the allowance.
    pub goods: f64,
    /// Problem cases, spread over [`PROBLEMS`].
    pub problem: f64,
    /// Green at the kiosk, tailgated at the gate.
    pub tailgater: f64,
}

impl Shares {
    /// Each share is in 0..=1 and they add up to at most 1.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [("goods", self.goods), ("problem", self.problem), ("tailgater", self.tailgater)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("the {name} share {v} is not between 0 and 1"));
            }
        }
        let sum = self.goods + self.problem + self.tailgater;
        if sum > 1.0 + 1e-9 {
            return Err(format!("the shares add up to {sum}, more than 1"));
        }
        Ok(())
    }

    /// `count` scenarios with these shares (rounded so that the counts add
    /// up: cumulative rounding), in an order shuffled by `rng`. The problem
    /// cases go round [`PROBLEMS`] from `first_problem`, so a few of them
    /// are all different (and populations from consecutive seeds, such as
    /// the demo's lanes, start on different ones).
    pub fn scenarios(&self, count: usize, first_problem: usize, rng: &mut StdRng) -> Vec<Scenario> {
        let upto = |share: f64| ((share * count as f64).round() as usize).min(count);
        let goods = upto(self.goods);
        let problems = upto(self.goods + self.problem).max(goods);
        let tailgaters = upto(self.goods + self.problem + self.tailgater).max(problems);
        let start = first_problem % PROBLEMS.len();
        let mut mix: Vec<Scenario> = (0..count)
            .map(|i| match i {
                _ if i < goods => Scenario::DeclaresGoods,
                _ if i < problems => PROBLEMS[(start + i - goods) % PROBLEMS.len()],
                _ if i < tailgaters => Scenario::Tailgater,
                _ => Scenario::Green,
            })
            .collect();
        // Fisher-Yates.
        for i in (1..mix.len()).rev() {
            mix.swap(i, rng.random_range(0..=i));
        }
        mix
    }
}

/// Arrival times of `count` passengers, ms after the lane opens: a Poisson
/// process of `per_minute` arrivals a minute (exponential gaps).
pub fn poisson_arrivals(count: usize, per_minute: f64, rng: &mut StdRng) -> Vec<u64> {
    let mean_gap_ms = 60_000.0 / per_minute.max(1e-6);
    let mut at = 0.0f64;
    (0..count)
        .map(|_| {
            let u: f64 = rng.random();
            at += -(1.0 - u).ln() * mean_gap_ms;
            at.round() as u64
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Photo(#[from] photos::PhotoError),
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Issue(#[from] issuer::IssueError),
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    #[error("face models for the live-capture bursts: {0}")]
    Face(#[from] kiosk::face::FaceError),
}

/// Frames of the kiosk camera's burst in each passenger folder (the kiosk
/// takes `face_burst_frames`, 6 by default, and the camera loops).
pub const KIOSK_BURST_FRAMES: usize = 8;

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), GenerateError> {
    std::fs::write(path, bytes)
        .map_err(|source| GenerateError::Io { path: path.display().to_string(), source })
}

const SURNAMES: [&str; 10] =
    ["SATO", "SMITH", "KIM", "WANG", "GARCIA", "MULLER", "TANAKA", "NGUYEN", "SILVA", "JOHNSON"];
const GIVEN: [&str; 10] = ["ALEX", "YUKI", "MIN JUN", "LI", "MARIA", "JONAS", "HANA", "AN", "LUCAS", "SAM"];
const STATES: [&str; 8] = ["JPN", "USA", "GBR", "KOR", "CHN", "FRA", "DEU", "AUS"];
const FLIGHTS: [(&str, &str); 5] =
    [("NH212", "LHR"), ("JL5", "JFK"), ("KE703", "ICN"), ("CA925", "PEK"), ("AF276", "CDG")];

/// Everything the generator needs.
pub struct Generator<'a> {
    pub identities: Vec<Identity>,
    pub service_key: &'a SigningKey,
    /// Unix seconds the declarations are issued at.
    pub now: u32,
    pub rng: StdRng,
    /// One passport PKI (CSCA + Document Signer) per issuing state, made on
    /// first use.
    pkis: BTreeMap<String, TestPki>,
    /// `models/` beside the photos folder (both under assets/): the face
    /// detector that places the depth map of the live-capture bursts.
    models_dir: PathBuf,
    detector: Option<OpenCvFaceMatcher>,
}

/// The synthetic person behind one passenger folder.
struct Person {
    passport: PassportData,
    declaration: Declaration,
}

impl<'a> Generator<'a> {
    pub fn new(photos_dir: &Path, service_key: &'a SigningKey, seed: u64, now: u32) -> Self {
        Generator {
            identities: photos::identities(photos_dir),
            service_key,
            now,
            rng: StdRng::seed_from_u64(seed),
            pkis: BTreeMap::new(),
            models_dir: photos_dir.parent().unwrap_or(Path::new(".")).join("models"),
            detector: None,
        }
    }

    /// The face of `img` the burst generator shapes its depth map around.
    fn face_in(&mut self, img: &RgbImage) -> Result<DetectedFace, GenerateError> {
        if self.detector.is_none() {
            self.detector = Some(OpenCvFaceMatcher::load_default(&self.models_dir)?);
        }
        let detector = self.detector.as_mut().expect("loaded above");
        let faces = detector.detect(img)?;
        Ok(dominant_face(&faces)?)
    }

    /// What the kiosk camera films, as Motion-JPEG: a live (synthetic, see
    /// `kiosk::face::pad_bursts`) burst of `live`, or for the attack
    /// scenarios the chip photo's source printed or on a screen.
    fn kiosk_burst(
        &mut self,
        scenario: Scenario,
        live: &RgbImage,
        portrait_src: &RgbImage,
    ) -> Result<Vec<u8>, GenerateError> {
        let seed = self.rng.random::<u64>();
        let (kind, img) = match scenario {
            Scenario::PhotoAttack => (BurstKind::Print, portrait_src),
            Scenario::ScreenAttack => (BurstKind::Screen, portrait_src),
            _ => (BurstKind::BonaFide, live),
        };
        let face = self.face_in(img)?;
        let mut video = Vec::new();
        for frame in make_burst(kind, img, &face, KIOSK_BURST_FRAMES, seed) {
            video.extend(photos::jpeg(&frame, 90)?);
        }
        Ok(video)
    }

    /// The issuing state's PKI. States differ the way real ones do: RSA-PSS,
    /// brainpool or NIST curves.
    fn pki(&mut self, state: &str) -> Result<&TestPki, GenerateError> {
        if !self.pkis.contains_key(state) {
            let alpha2 = kiosk::passport::countries::alpha2_for(state).unwrap_or("UT");
            let scheme = match state {
                "GBR" => SignatureScheme::RsaPssSha256,
                "DEU" => SignatureScheme::EcdsaBrainpoolP256Sha256,
                "FRA" => SignatureScheme::EcdsaP384Sha384,
                _ => SignatureScheme::EcdsaP256Sha256,
            };
            let pki = TestPki::generate(alpha2, scheme, &PkiOptions::default())?;
            self.pkis.insert(state.to_string(), pki);
        }
        Ok(&self.pkis[state])
    }

    /// The chip a state issues: access protocols and chip keys vary by state.
    fn chip_options(state: &str, scenario: Scenario) -> ChipOptions {
        let mut o = ChipOptions::default();
        match state {
            // A PACE-only chip with PACE-CAM (no BAC).
            "DEU" => {
                o.access = ChipAccess::PaceOnly;
                o.pace_protocol = kiosk::passport::oid::PACE_ECDH_CAM_AES_128;
            }
            // An older design: BAC only, RSA Active Authentication, no CA.
            "USA" => {
                o.access = ChipAccess::BacOnly;
                o.chip_authentication = None;
                o.active_authentication = Some(AaKeyKind::Rsa1024);
            }
            "KOR" => {
                o.pace_protocol = kiosk::passport::oid::PACE_ECDH_GM_AES_256;
                o.pace_parameter_id = 12;
                o.chip_authentication = Some(EcCurve::P256);
            }
            _ => {}
        }
        o.fault = match scenario {
            Scenario::ForgedChip => Some(ChipFault::TamperedDg2),
            Scenario::ClonedChip => Some(ChipFault::ClonedChip),
            _ => None,
        };
        o
    }

    /// Write the CSCA certificates (and CRLs) of every issuer used so far into
    /// `folder`: the kiosk's Passive Authentication trust store.
    pub fn export_trust(&self, folder: &Path) -> Result<(), GenerateError> {
        for pki in self.pkis.values() {
            pki.export_trust_anchors(folder)?;
        }
        Ok(())
    }

    fn person(&mut self, expired: bool) -> Person {
        let r = &mut self.rng;
        let state = STATES[r.random_range(0..STATES.len())];
        let surname = SURNAMES[r.random_range(0..SURNAMES.len())];
        let given = GIVEN[r.random_range(0..GIVEN.len())];
        let letters: String = (0..2).map(|_| (b'A' + r.random_range(0..26u8)) as char).collect();
        let document_number = format!("{letters}{:07}", r.random_range(0..10_000_000u32));
        let dob = format!(
            "{:02}{:02}{:02}",
            r.random_range(50..100u32) % 100,
            r.random_range(1..13u32),
            r.random_range(1..29u32)
        );
        let expiry = if expired {
            format!(
                "{:02}{:02}{:02}",
                r.random_range(18..25u32),
                r.random_range(1..13u32),
                r.random_range(1..29u32)
            )
        } else {
            format!(
                "{:02}{:02}{:02}",
                r.random_range(28..36u32),
                r.random_range(1..13u32),
                r.random_range(1..29u32)
            )
        };
        let sex = if r.random_bool(0.5) { 'F' } else { 'M' };
        let (flight, departure) = FLIGHTS[r.random_range(0..FLIGHTS.len())];
        let passport = PassportData {
            issuing_state: state.into(),
            surname: surname.into(),
            given_names: given.into(),
            document_number: document_number.clone(),
            nationality: state.into(),
            date_of_birth: dob.clone(),
            sex,
            date_of_expiry: expiry,
        };
        let declaration = Declaration {
            flight: flight.into(),
            departure: departure.into(),
            arrival_date: "2026-11-23".into(),
            holder: Holder {
                surname: surname.into(),
                given_names: given.into(),
                nationality: state.into(),
                date_of_birth: dob,
                passport_number: document_number,
                occupation: "OFFICE WORKER".into(),
                address_in_japan: "Hotel, 1-1 Marunouchi, Chiyoda, Tokyo".into(),
                phone: "+81-3-0000-0000".into(),
            },
            family: Family::default(),
            answers: Answers::default(),
            goods: vec![],
        };
        Person { passport, declaration }
    }

    /// Write one passenger folder `dir` for `scenario`.
    pub fn passenger(
        &mut self,
        dir: &Path,
        id: &str,
        scenario: Scenario,
    ) -> Result<PassengerManifest, GenerateError> {
        self.passenger_arriving(dir, id, scenario, None)
    }

    /// [`Generator::passenger`], arriving at the lane `arrival_ms` after it opens.
    pub fn passenger_arriving(
        &mut self,
        dir: &Path,
        id: &str,
        scenario: Scenario,
        arrival_ms: Option<u64>,
    ) -> Result<PassengerManifest, GenerateError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| GenerateError::Io { path: dir.display().to_string(), source })?;
        let mut person = self.person(scenario == Scenario::ExpiredPassport);
        if scenario == Scenario::DeclaresGoods {
            person.declaration.answers.over_allowance = true;
            person.declaration.goods.push(GoodsLine {
                kind: GoodsKind::Other,
                description: "wristwatch".into(),
                quantity: 1,
                value_yen: 350_000,
            });
        }
        let n = self.identities.len();
        let who = self.rng.random_range(0..n);
        let holder = self.identities[who].clone();
        // Face mismatch: someone else at the kiosk with this passport.
        let at_kiosk = if scenario == Scenario::FaceMismatch {
            self.identities[(who + 1) % n].clone()
        } else {
            holder.clone()
        };

        // Passport: portrait from the holder's first photo.
        let portrait_src = photos::load(&holder.photos[0])?;
        let (jpeg, w, h) = photos::chip_portrait(&portrait_src)?;
        let options = Self::chip_options(&person.passport.issuing_state, scenario);
        let pki = self.pki(&person.passport.issuing_state)?;
        let chip =
            issuer::issue_passport(&person.passport, issuer::jpeg_portrait(jpeg, w, h), pki, &options)?;
        write(&dir.join("chip.json"), chip.to_json())?;

        // Declaration QR: their own, or another (synthetic) passenger's.
        let shown = if scenario == Scenario::OthersQr {
            self.person(false).declaration
        } else {
            person.declaration.clone()
        };
        let text = app::qr_text(&shown, self.service_key, self.now, 24 * 3600)?;
        let code = app::qr_code(&text)?;
        app::render_png(&code, 4).save(dir.join("qr.png")).map_err(|e| GenerateError::Io {
            path: dir.join("qr.png").display().to_string(),
            source: std::io::Error::other(e),
        })?;
        write(&dir.join("declaration.json"), serde_json::to_vec_pretty(&shown).unwrap_or_default())?;

        // Live captures: another photo of the person where one exists.
        let live_src = |k: usize| at_kiosk.photos[k.min(at_kiosk.photos.len() - 1)].clone();
        // An even variant (no added blur): the burst's own resampling softens
        // it further, and the kiosk matches only frames sharp enough.
        let kiosk_img = photos::live_variant(&photos::load(&live_src(1))?, self.rng.random_range(0..4) * 2);
        let video = self.kiosk_burst(scenario, &kiosk_img, &portrait_src)?;
        write(&dir.join("kiosk-face.mjpeg"), video)?;
        let gate_img = photos::live_variant(&photos::load(&live_src(2))?, self.rng.random_range(0..8));
        write(&dir.join("gate-face.jpg"), photos::jpeg(&gate_img, 85)?)?;

        let manifest = PassengerManifest {
            id: id.to_string(),
            page_mrz: person.passport.mrz_lines().join("\n"),
            chip: PathBuf::from("chip.json"),
            qr: PathBuf::from("qr.png"),
            kiosk_face: vec![PathBuf::from("kiosk-face.mjpeg")],
            gate_face: vec![PathBuf::from("gate-face.jpg")],
            expected: Some(scenario.name().to_string()),
            arrival_ms,
            gate_behaviour: scenario.gate_behaviour().map(str::to_string),
        };
        write(&dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_give_rounded_counts_that_add_up() {
        let shares = Shares { goods: 0.15, problem: 0.25, tailgater: 0.1 };
        shares.check().unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let mix = shares.scenarios(20, 4, &mut rng);
        let n = |f: &dyn Fn(&Scenario) -> bool| mix.iter().filter(|s| f(s)).count();
        assert_eq!(mix.len(), 20);
        assert_eq!(n(&|s| *s == Scenario::DeclaresGoods), 3);
        assert_eq!(n(&|s| PROBLEMS.contains(s)), 5);
        assert_eq!(n(&|s| *s == Scenario::Tailgater), 2);
        assert_eq!(n(&|s| *s == Scenario::Green), 10);
        // Five problem cases, all different kinds.
        let mut kinds: Vec<_> =
            mix.iter().filter(|s| PROBLEMS.contains(s)).map(|s| format!("{s:?}")).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), 5);
        assert!(Shares { goods: 0.6, problem: 0.5, tailgater: 0.0 }.check().is_err());
        assert!(Shares { goods: -0.1, problem: 0.0, tailgater: 0.0 }.check().is_err());
    }

    #[test]
    fn poisson_arrivals_increase_at_about_the_rate() {
        let mut rng = StdRng::seed_from_u64(9);
        let at = poisson_arrivals(2000, 30.0, &mut rng);
        assert!(at.windows(2).all(|w| w[0] <= w[1]));
        // 2000 arrivals at 30 a minute: about 4000 s.
        let secs = *at.last().unwrap() as f64 / 1000.0;
        assert!((3600.0..4400.0).contains(&secs), "{secs}");
    }

    #[test]
    fn a_tailgater_is_green_at_the_kiosk_and_tailgated_at_the_gate() {
        assert_eq!(Scenario::parse("tailgater"), Some(Scenario::Tailgater));
        assert_eq!(Scenario::Tailgater.name(), "green");
        assert_eq!(Scenario::Tailgater.gate_behaviour(), Some(TAILGATED));
        assert_eq!(Scenario::Green.gate_behaviour(), None);
    }
}
