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
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Green => "green",
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
        };
        write(&dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
        Ok(manifest)
    }
}
