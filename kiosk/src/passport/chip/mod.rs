//! The virtual eMRTD chip (feature `sim`): a [`CardTransport`] that answers
//! APDUs as a passport chip does, built from a [`ChipImage`].
//!
//! - [`ChipProfile`]: what kind of chip (extended length or short APDUs only,
//!   how many bytes one READ BINARY returns at most).
//! - [`ChipFaults`]: what goes wrong on the link (the chip leaves the field
//!   after N response bytes, once or K times; slow answers). Faults belong to
//!   the simulator, not to the image: the same document can be read well or
//!   badly.
//! - [`ChipCounters`]: APDUs and bytes exchanged, for tests and benchmarks.
//!
//! The command processing itself ([`engine`]) is pure: it takes bytes and
//! returns bytes, never panics, and keeps the security state of a real chip
//! (see its module documentation). This file adds the link around it.

mod engine;
mod fs;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_core::CryptoRng;

use super::aa::AaHash;
use super::chip_image::{ChipImage, ChipImageError, FID_CARD_ACCESS};
use super::lds::{self, fid};
use super::security_infos::{SecurityInfos, SecurityInfosError};
use super::transport::{CardTransport, TransportError};

pub use self::engine::{AccessMethod, SessionState};
pub use self::fs::MASTER_FILE_FIDS;

/// The answer to reset a contactless chip gives through PC/SC (a pseudo-ATR
/// without historical bytes).
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// The kind of chip: what a reader must adapt to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChipProfile {
    /// Whether the chip takes extended-length APDUs. A short-only chip
    /// answers any extended APDU with 6700 (and so ends a session).
    pub extended_length: bool,
    /// The most file bytes one READ BINARY returns, whatever Le asks.
    pub max_read: usize,
}

impl ChipProfile {
    /// A chip of short APDUs only: 223 bytes per read, which fit a 3DES or
    /// AES secure-messaging response in 256 bytes.
    pub fn short_only() -> ChipProfile {
        ChipProfile { extended_length: false, max_read: 223 }
    }

    /// A modern chip: extended length, up to 64 KiB per read.
    pub fn extended() -> ChipProfile {
        ChipProfile { extended_length: true, max_read: 65536 }
    }
}

impl Default for ChipProfile {
    fn default() -> Self {
        ChipProfile::extended()
    }
}

/// Link faults of the simulated reader field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChipFaults {
    /// The chip leaves the field once the responses since the last
    /// (re)connect would exceed this many data bytes: that response is lost,
    /// `transmit` fails with [`TransportError::LinkLost`] and the chip forgets
    /// its session until [`CardTransport::reconnect`].
    pub drop_after_bytes: Option<u64>,
    /// How many times the link drops (1: once; then the chip behaves).
    pub drops: u32,
    /// Time the chip takes for every answer.
    pub response_delay: Duration,
    /// Extra time per response byte (a slow contactless bit rate).
    pub delay_per_byte: Duration,
}

impl ChipFaults {
    /// The link drops `times` times, each after `bytes` response data bytes.
    pub fn drop_link(bytes: u64, times: u32) -> ChipFaults {
        ChipFaults { drop_after_bytes: Some(bytes), drops: times, ..ChipFaults::default() }
    }
}

/// What went over the link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChipCounters {
    /// Command APDUs received (including those answered by a link drop).
    pub apdus: u64,
    pub command_bytes: u64,
    /// Response bytes delivered (data and status words).
    pub response_bytes: u64,
    pub link_drops: u64,
    pub reconnects: u64,
}

/// A handle on a chip's counters that stays usable after the chip is boxed
/// into a `dyn CardTransport`.
#[derive(Debug, Clone, Default)]
pub struct ChipCountersHandle(Arc<Mutex<ChipCounters>>);

impl ChipCountersHandle {
    pub fn snapshot(&self) -> ChipCounters {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn reset(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = ChipCounters::default();
    }

    fn update(&self, f: impl FnOnce(&mut ChipCounters)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChipBuildError {
    #[error(transparent)]
    Image(#[from] ChipImageError),
    #[error("the chip image has no usable DG1 ({0}); BAC and PACE take their keys from its MRZ")]
    NoMrz(String),
    #[error("the chip image's EF.CardAccess is malformed ({0}); PACE cannot be offered")]
    CardAccess(SecurityInfosError),
}

/// The virtual chip on the reader.
pub struct VirtualChip {
    engine: engine::ChipCore,
    faults: ChipFaults,
    counters: ChipCountersHandle,
    /// Whether the chip is in the field (false after a link drop).
    connected: bool,
    bytes_since_connect: u64,
    drops_left: u32,
    rng: Box<dyn CryptoRng + Send>,
    summary: String,
}

impl std::fmt::Debug for VirtualChip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualChip")
            .field("summary", &self.summary)
            .field("profile", self.engine.profile())
            .field("faults", &self.faults)
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

impl VirtualChip {
    /// A chip of the default (extended-length) profile, without faults,
    /// drawing its randomness from the operating system.
    pub fn new(image: &ChipImage) -> Result<VirtualChip, ChipBuildError> {
        VirtualChip::with_profile(image, ChipProfile::default())
    }

    pub fn with_profile(image: &ChipImage, profile: ChipProfile) -> Result<VirtualChip, ChipBuildError> {
        let secrets = secrets(image)?;
        let summary = summary(&secrets, &profile);
        let engine = engine::ChipCore::new(fs::FileSystem::new(&image.files), profile, secrets);
        Ok(VirtualChip {
            engine,
            faults: ChipFaults::default(),
            counters: ChipCountersHandle::default(),
            connected: true,
            bytes_since_connect: 0,
            drops_left: 0,
            rng: Box::new(rand_core::UnwrapErr(getrandom::SysRng)),
            summary,
        })
    }

    pub fn with_faults(mut self, faults: ChipFaults) -> VirtualChip {
        self.faults = faults;
        self.drops_left = faults.drops;
        self
    }

    /// Replace the chip's randomness (deterministic tests).
    pub fn with_rng(mut self, rng: Box<dyn CryptoRng + Send>) -> VirtualChip {
        self.rng = rng;
        self
    }

    pub fn counters(&self) -> ChipCounters {
        self.counters.snapshot()
    }

    pub fn counters_handle(&self) -> ChipCountersHandle {
        self.counters.clone()
    }

    pub fn profile(&self) -> ChipProfile {
        *self.engine.profile()
    }

    pub fn session_state(&self) -> SessionState {
        self.engine.session_state()
    }

    fn sleep_for(&self, response_len: usize) {
        let per_byte =
            self.faults.delay_per_byte.saturating_mul(u32::try_from(response_len).unwrap_or(u32::MAX));
        let delay = self.faults.response_delay.saturating_add(per_byte);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }
}

impl CardTransport for VirtualChip {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if !self.connected {
            return Err(TransportError::LinkLost("the chip is out of the field; reconnect".into()));
        }
        self.counters.update(|c| {
            c.apdus += 1;
            c.command_bytes += command.len() as u64;
        });
        let response = self.engine.process(command, &mut *self.rng);
        self.sleep_for(response.len());
        let data_len = response.len().saturating_sub(2) as u64;
        if let Some(limit) = self.faults.drop_after_bytes
            && self.drops_left > 0
            && self.bytes_since_connect + data_len > limit
        {
            self.drops_left -= 1;
            self.connected = false;
            self.engine.reset();
            self.counters.update(|c| c.link_drops += 1);
            return Err(TransportError::LinkLost(format!(
                "the chip left the field after {} response bytes",
                self.bytes_since_connect
            )));
        }
        self.bytes_since_connect += data_len;
        self.counters.update(|c| c.response_bytes += response.len() as u64);
        Ok(response)
    }

    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
        self.connected = true;
        self.bytes_since_connect = 0;
        self.engine.reset();
        self.counters.update(|c| c.reconnects += 1);
        Ok(ATR.to_vec())
    }

    fn describe(&self) -> String {
        format!("virtual chip ({})", self.summary)
    }
}

/// The chip's secrets from its image: keys parsed, the MRZ information for
/// BAC and PACE, the PACEInfos of EF.CardAccess, AA's hash.
fn secrets(image: &ChipImage) -> Result<engine::Secrets, ChipBuildError> {
    let aa = image.chip.aa_key()?;
    let ca = image.chip.ca_key()?;
    let pace_infos = match image.file(FID_CARD_ACCESS) {
        Some(card_access) => SecurityInfos::parse(card_access)
            .map_err(ChipBuildError::CardAccess)?
            .pace_infos()
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let mrz_information = match image.file(fid::DG1) {
        Some(dg1) => {
            Some(lds::parse_dg1(dg1).map_err(|e| ChipBuildError::NoMrz(e.to_string()))?.key_information())
        }
        None => None,
    };
    if mrz_information.is_none() && (image.chip.bac || !pace_infos.is_empty()) {
        return Err(ChipBuildError::NoMrz("DG1 is absent".into()));
    }
    // ECDSA AA signs with the hash DG14's ActiveAuthenticationInfo names,
    // unless the image says otherwise.
    let aa_hash = image.chip.aa_hash.or_else(|| {
        let infos = lds::parse_dg14(image.file(fid::DG14)?).ok()?;
        AaHash::from_signature_oid(&infos.active_authentication()?.signature_algorithm)
    });
    Ok(engine::Secrets {
        bac: image.chip.bac,
        mrz_information,
        pace_infos,
        aa,
        aa_hash,
        ca,
        ca_key_id: image.chip.ca_key_id,
    })
}

fn summary(secrets: &engine::Secrets, profile: &ChipProfile) -> String {
    let mut parts = Vec::new();
    if secrets.bac {
        parts.push("BAC".to_string());
    }
    if !secrets.pace_infos.is_empty() {
        parts.push("PACE".to_string());
    }
    if let Some(aa) = &secrets.aa {
        parts.push(format!("AA {}", aa.public_key().describe()));
    }
    if let Some(ca) = &secrets.ca {
        parts.push(format!("CA {}", ca.curve().name()));
    }
    parts.push(if profile.extended_length { "extended length".into() } else { "short APDUs".into() });
    parts.push(format!("{} bytes per read", profile.max_read));
    parts.join(", ")
}
