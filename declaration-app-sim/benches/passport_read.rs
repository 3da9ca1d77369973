//! Kiosk-side software time of a full passport read against the virtual chip:
//! PACE, EF.COM + EF.SOD, Chip Authentication, Active Authentication, DG1, a
//! 20 kB DG2 and Passive Authentication. The time spent inside the chip (its
//! own cryptography) is measured around every `transmit` and subtracted, so
//! the figure is what the kiosk's CPU spends; there is no transport latency.
//!
//!   cargo bench -p declaration-app-sim --bench passport_read
//!
//! Prints median and p95 over the runs for several chip configurations.

use std::time::{Duration, Instant};

use declaration_app_sim::issuer::{self, AaKeyKind, ChipAccess, ChipOptions, PassportData};
use declaration_app_sim::pki::{PkiOptions, SignatureScheme, TestPki};
use kiosk::passport::chip::VirtualChip;
use kiosk::passport::lds::{FacePortrait, ImageDataType};
use kiosk::passport::mrz::Mrz;
use kiosk::passport::oid;
use kiosk::passport::reader::{ReadOptions, read_chip};
use kiosk::passport::transport::{CardTransport, TransportError};

/// Measures the time the chip takes to answer.
struct Timed {
    chip: VirtualChip,
    in_chip: Duration,
}

impl CardTransport for Timed {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let t = Instant::now();
        let r = self.chip.transmit(command);
        self.in_chip += t.elapsed();
        r
    }
    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
        self.chip.reconnect()
    }
    fn describe(&self) -> String {
        self.chip.describe()
    }
}

fn portrait_20kb() -> FacePortrait {
    let (w, h) = (300u32, 400u32);
    let pixels: Vec<u8> = (0..w * h * 3)
        .map(|i| {
            let (x, y) = ((i / 3) % w, (i / 3) / w);
            ((x * 3 + y * 2) / 4 + (x * y % 13) * 2) as u8
        })
        .collect();
    let mut q = 90;
    loop {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, q)
            .encode(&pixels, w, h, image::ExtendedColorType::Rgb8)
            .expect("encode");
        if jpeg.len() <= 21_000 || q <= 20 {
            return FacePortrait {
                data_type: ImageDataType::Jpeg,
                width: w as u16,
                height: h as u16,
                image: jpeg,
            };
        }
        q -= 5;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runs: usize = std::env::var("RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let data = PassportData {
        issuing_state: "JPN".into(),
        surname: "SUZUKI".into(),
        given_names: "HANA".into(),
        document_number: "TK1234567".into(),
        nationality: "JPN".into(),
        date_of_birth: "900101".into(),
        sex: 'F',
        date_of_expiry: "340101".into(),
    };
    let key = Mrz::parse(&data.mrz_lines().join("\n")).expect("mrz").key_information();
    let portrait = portrait_20kb();
    println!(
        "passport read, kiosk side (chip time excluded), {runs} runs each; DG2 JPEG {} bytes",
        portrait.image.len()
    );
    println!("{:<58} {:>9} {:>9} {:>9}", "configuration", "median", "p95", "chip");
    let configs: Vec<(&str, SignatureScheme, ChipOptions)> = vec![
        (
            "PACE-GM bp256 AES-128, CA bp256, AA ECDSA P-256, PA ECDSA",
            SignatureScheme::EcdsaP256Sha256,
            ChipOptions::default(),
        ),
        (
            "PACE-GM P-256 AES-256, AA ECDSA P-256, PA RSA-PSS 2048",
            SignatureScheme::RsaPssSha256,
            ChipOptions {
                pace_protocol: oid::PACE_ECDH_GM_AES_256,
                pace_parameter_id: 12,
                chip_authentication: None,
                ..ChipOptions::default()
            },
        ),
        (
            "PACE-CAM bp256 AES-128, AA ECDSA P-256, PA ECDSA",
            SignatureScheme::EcdsaP256Sha256,
            ChipOptions {
                access: ChipAccess::PaceOnly,
                pace_protocol: oid::PACE_ECDH_CAM_AES_128,
                ..ChipOptions::default()
            },
        ),
        (
            "BAC 3DES, AA RSA-1024 ISO 9796-2, PA RSA PKCS#1 2048",
            SignatureScheme::RsaPkcs1v15Sha256,
            ChipOptions {
                access: ChipAccess::BacOnly,
                chip_authentication: None,
                active_authentication: Some(AaKeyKind::Rsa1024),
                ..ChipOptions::default()
            },
        ),
    ];
    for (name, scheme, options) in configs {
        let pki = TestPki::generate("JP", scheme, &PkiOptions::default()).expect("pki");
        let trust = pki.trust_store().expect("trust");
        let image = issuer::issue_passport(&data, portrait.clone(), &pki, &options).expect("issue");
        let mut kiosk_ms = Vec::with_capacity(runs);
        let mut chip_ms = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut chip = Timed { chip: VirtualChip::new(&image).expect("chip"), in_chip: Duration::ZERO };
            let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
            let t = Instant::now();
            let read = read_chip(&mut chip, &key, &trust, &ReadOptions::default(), &mut rng).expect("read");
            let total = t.elapsed();
            assert!(
                read.authentication.passive.verdict.is_passed(),
                "{}",
                read.authentication.passive.summary()
            );
            assert!(!read.authentication.chip_clone_suspected());
            kiosk_ms.push((total - chip.in_chip).as_secs_f64() * 1e3);
            chip_ms.push(chip.in_chip.as_secs_f64() * 1e3);
        }
        kiosk_ms.sort_by(f64::total_cmp);
        chip_ms.sort_by(f64::total_cmp);
        println!(
            "{name:<58} {:>6.2} ms {:>6.2} ms {:>6.2} ms",
            percentile(&kiosk_ms, 0.5),
            percentile(&kiosk_ms, 0.95),
            percentile(&chip_ms, 0.5)
        );
    }
    println!("target: kiosk side under 30 ms");
}
