//! Reading an eMRTD chip end to end, in the order of BSI TR-03135: access
//! control (PACE from EF.CardAccess, else BAC), EF.COM and EF.SOD, Chip
//! Authentication (or PACE-CAM) and Active Authentication, the data groups,
//! then Passive Authentication over everything read.
//!
//! Link drops are expected (a passport lifted a few millimetres): the reader
//! reconnects, authenticates again, proves again that it is the same chip,
//! and resumes the file it was reading from the last byte it had, within a
//! bounded number of reconnects.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use rand_core::CryptoRng;
use serde::Serialize;

use super::apdu::{self, CommandApdu, EMRTD_AID, ResponseApdu, StatusError, sw};
use super::ca::{self, CaSession};
use super::lds::{self, DataGroup, Dg11, Dg12, EfCom, FacePortrait, LdsError, fid};
use super::mrz::Mrz;
use super::pa::{PassiveAuthReport, passive_authentication};
use super::pace::{self, CamEvidence, PaceError, PaceParams, PacePassword};
use super::sm::{SecureMessaging, SmError};
use super::transport::{CardTransport, TransportError};
use super::trust::TrustStore;
use super::verdict::Verdict;
use super::{aa, bac};
use der::asn1::ObjectIdentifier as Oid;

/// READ BINARY size for short APDUs under secure messaging: 223 data bytes
/// pad to 224 and fit, with the DOs, in a 256-byte response.
pub const SHORT_READ: usize = 0xDF;
/// READ BINARY size for extended APDUs: the whole of a typical DG2 at once.
pub const EXTENDED_READ: usize = 0xFF00;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Reconnects allowed after link drops, over the whole read.
    pub max_reconnects: u32,
    /// Try extended-length READ BINARY first (falls back to short on 6700).
    pub extended_length: bool,
    /// Read DG11 and DG12 when EF.COM lists them.
    pub optional_groups: bool,
    /// The instant certificates must be valid at (the time of reading).
    pub now: SystemTime,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_reconnects: 3,
            extended_length: true,
            optional_groups: true,
            now: SystemTime::now(),
        }
    }
}

/// How the chip was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum AccessProtocol {
    Bac,
    Pace { parameters: String, cam: bool },
}

impl AccessProtocol {
    pub fn name(&self) -> &'static str {
        match self {
            AccessProtocol::Bac => "bac",
            AccessProtocol::Pace { cam: false, .. } => "pace",
            AccessProtocol::Pace { cam: true, .. } => "pace-cam",
        }
    }
}

/// Every document-authentication result, each one reported.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentAuthentication {
    pub passive: PassiveAuthReport,
    /// Chip Authentication v1, or PACE-CAM (which proves the same key).
    pub chip_authentication: Verdict,
    pub active_authentication: Verdict,
}

impl DocumentAuthentication {
    /// The data are genuine (Passive Authentication passed).
    pub fn data_genuine(&self) -> bool {
        self.passive.verdict.is_passed()
    }
    /// A chip check ran and failed: a cloned or substituted chip.
    pub fn chip_clone_suspected(&self) -> bool {
        self.chip_authentication.is_failed() || self.active_authentication.is_failed()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub step: &'static str,
    pub ms: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LinkStats {
    pub apdus: u32,
    pub reconnects: u32,
    /// File bytes read (plain).
    pub file_bytes: usize,
}

/// Everything read from the chip and what it proved.
#[derive(Debug, Clone)]
pub struct ChipRead {
    pub access: AccessProtocol,
    pub com: EfCom,
    pub dg1: Mrz,
    pub portrait: FacePortrait,
    pub dg11: Option<Dg11>,
    pub dg12: Option<Dg12>,
    /// Data groups as read (number -> file); EF.SOD is kept apart.
    pub data_groups: BTreeMap<u8, Vec<u8>>,
    pub sod: Vec<u8>,
    pub authentication: DocumentAuthentication,
    pub timings: Vec<StepTiming>,
    pub link: LinkStats,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "the chip was lost and did not come back after {0} reconnects: {1}; place the passport flat on the reader"
    )]
    LinkLost(u32, TransportError),
    #[error("the reader failed: {0}")]
    Transport(TransportError),
    #[error("BAC failed: {0}")]
    Bac(#[from] bac::BacError),
    #[error("PACE failed: {0}")]
    Pace(#[from] PaceError),
    #[error("the chip offers no access protocol this kiosk supports (PACE: {pace}; BAC: {bac})")]
    NoAccessProtocol { pace: String, bac: String },
    #[error("secure messaging failed: {0}")]
    SecureMessaging(SmError),
    #[error("the chip refused {what}: {status}")]
    Status { what: String, status: StatusError },
    #[error("the chip does not hold {0}, which every eMRTD must have")]
    MissingFile(&'static str),
    #[error("chip data malformed: {0}")]
    Lds(#[from] LdsError),
    #[error(
        "after a reconnect the chip failed Chip Authentication again: {0}; another chip may have been \
         swapped in during the read"
    )]
    ChipChanged(String),
}

/// A failure inside one exchange, before retry policy applies.
enum Failure {
    Link(TransportError),
    Fatal(ReadError),
}

impl From<TransportError> for Failure {
    fn from(e: TransportError) -> Self {
        if e.is_link_failure() { Failure::Link(e) } else { Failure::Fatal(ReadError::Transport(e)) }
    }
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<SmError> for Failure {
    fn from(e: SmError) -> Self {
        // A chip that lost power mid-command answers the next one in plain;
        // a bad MAC is not retried: it is evidence, not noise.
        Failure::Fatal(ReadError::SecureMessaging(e))
    }
}

/// Which access protocol to (re)run after each reconnect.
#[derive(Clone)]
enum Access {
    Bac,
    Pace(PaceParams),
}

/// A chip session: the transport, the secure-messaging state and what is
/// needed to re-open it after a link drop.
struct Session<'t, R: CryptoRng + ?Sized> {
    transport: &'t mut dyn CardTransport,
    rng: &'t mut R,
    mrz_information: String,
    access: Access,
    sm: Option<SecureMessaging>,
    /// PACE-CAM's evidence from the latest PACE run.
    cam: Option<CamEvidence>,
    /// DG14 once Chip Authentication v1 passed: re-run after a reconnect.
    ca_dg14: Option<Vec<u8>>,
    /// The chip's static key once PACE-CAM was verified against it.
    cam_key: Option<Vec<u8>>,
    read_size: usize,
    max_reconnects: u32,
    stats: LinkStats,
    /// Access control has run: a missing session means the chip dropped it.
    access_open: bool,
}

impl<R: CryptoRng + ?Sized> Session<'_, R> {
    fn exchange(&mut self, command: &CommandApdu) -> Result<ResponseApdu, Failure> {
        self.stats.apdus += 1;
        match &mut self.sm {
            Some(sm) => {
                let protected = sm.protect_command(command)?;
                let response = self.transport.exchange(&protected)?;
                match sm.unprotect_response(&response) {
                    Ok(r) => Ok(r),
                    // The chip answered in plain: it has ended the session.
                    Err(SmError::UnprotectedStatus { sw }) => {
                        self.sm = None;
                        Ok(ResponseApdu::status(sw))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            None => Ok(self.transport.exchange(command)?),
        }
    }

    /// Power up again and re-open the session as it was, proving again that
    /// it is the same chip.
    fn reopen(&mut self, cause: TransportError) -> Result<(), ReadError> {
        let mut cause = cause;
        loop {
            if self.stats.reconnects >= self.max_reconnects {
                return Err(ReadError::LinkLost(self.stats.reconnects, cause));
            }
            self.stats.reconnects += 1;
            tracing::info!(reconnect = self.stats.reconnects, %cause, "chip link lost; reconnecting");
            match self.reopen_once() {
                Ok(()) => return Ok(()),
                Err(Failure::Link(e)) => cause = e,
                Err(Failure::Fatal(e)) => return Err(e),
            }
        }
    }

    fn reopen_once(&mut self) -> Result<(), Failure> {
        self.sm = None;
        self.transport.reconnect()?;
        self.open_access()?;
        if let (Some(cam), Some(key)) = (&self.cam, &self.cam_key)
            && !cam.verify(key).is_passed()
        {
            return Err(ReadError::ChipChanged("PACE-CAM no longer proves the chip's key".into()).into());
        }
        if let Some(dg14) = self.ca_dg14.clone() {
            let verdict = self.chip_authentication(&dg14)?;
            if !verdict.is_passed() {
                return Err(ReadError::ChipChanged(verdict.to_string()).into());
            }
        }
        Ok(())
    }

    /// Run `step`; on a link failure reconnect and run it again.
    fn retrying<T>(&mut self, mut step: impl FnMut(&mut Self) -> Result<T, Failure>) -> Result<T, ReadError> {
        loop {
            match step(self) {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Link(cause)) => self.reopen(cause)?,
            }
        }
    }

    /// BAC or PACE, then SELECT the eMRTD application.
    fn open_access(&mut self) -> Result<(), Failure> {
        match self.access.clone() {
            Access::Pace(params) => {
                let password = PacePassword::Mrz(self.mrz_information.clone());
                let result = pace::authenticate(self.transport, &password, &params, self.rng).map_err(
                    |e| match e {
                        PaceError::Transport(t) => Failure::from(t),
                        e => Failure::Fatal(e.into()),
                    },
                )?;
                self.sm = Some(result.sm);
                self.cam = result.cam;
                self.access_open = true;
                self.select_application()
            }
            Access::Bac => {
                // BAC runs inside the selected application.
                self.select_application()?;
                let sm =
                    bac::authenticate(self.transport, &self.mrz_information, self.rng).map_err(
                        |e| match e {
                            bac::BacError::Transport(t) => Failure::from(t),
                            e => Failure::Fatal(e.into()),
                        },
                    )?;
                self.sm = Some(sm);
                self.access_open = true;
                Ok(())
            }
        }
    }

    fn select_application(&mut self) -> Result<(), Failure> {
        let r = self.exchange(&apdu::select_application(&EMRTD_AID))?;
        check(r, "SELECT of the eMRTD application").map(|_| ())
    }

    /// Chip Authentication v1 over the current session. A chip that ends the
    /// session on a failed CA is re-opened (without CA) so the read goes on.
    fn chip_authentication(&mut self, dg14: &[u8]) -> Result<Verdict, Failure> {
        let Some(sm) = self.sm.as_mut() else {
            return Ok(Verdict::not_supported("no secure-messaging session to run Chip Authentication in"));
        };
        match ca::chip_authentication(self.transport, sm, dg14, self.rng) {
            Ok(outcome) => {
                if outcome.session == CaSession::Lost {
                    self.sm = None;
                    self.transport.reconnect()?;
                    self.open_access()?;
                }
                Ok(outcome.verdict)
            }
            Err(e) if e.is_link_failure() => Err(Failure::Link(TransportError::LinkLost(e.to_string()))),
            Err(e) => Err(Failure::Fatal(ReadError::Transport(TransportError::Reader(e.to_string())))),
        }
    }

    fn active_authentication(&mut self, dg15: &[u8], aa_info: Option<&Oid>) -> Result<Verdict, Failure> {
        let Some(sm) = self.sm.as_mut() else {
            return Ok(Verdict::not_supported("no secure-messaging session to run Active Authentication in"));
        };
        match aa::active_authentication(self.transport, sm, dg15, aa_info, self.rng) {
            Ok(verdict) => Ok(verdict),
            Err(e) if e.is_link_failure() => Err(Failure::Link(TransportError::LinkLost(e.to_string()))),
            Err(e) => Err(Failure::Fatal(ReadError::Transport(TransportError::Reader(e.to_string())))),
        }
    }

    /// Read a whole elementary file; `None` if the chip does not have it.
    /// After a link drop the read resumes at the first byte not yet read.
    fn read_file(&mut self, file: u16, name: &str) -> Result<Option<Vec<u8>>, ReadError> {
        let mut data: Vec<u8> = Vec::new();
        let mut total: Option<usize> = None;
        let mut selected = false;
        let present = self.retrying(|s| {
            if !selected {
                let r = s.exchange(&apdu::select_file(file))?;
                if r.sw == sw::FILE_NOT_FOUND {
                    return Ok(false);
                }
                check(r, &format!("SELECT {name}"))?;
                selected = true;
            }
            while total.is_none_or(|t| data.len() < t) {
                // The first read also tells the file's length (its TLV header).
                let want = total.map_or(s.read_size, |t| (t - data.len()).min(s.read_size));
                let r = match s.exchange(&apdu::read_binary(data.len(), want)) {
                    Ok(r) => r,
                    Err(e) => {
                        // The next attempt runs on a fresh session: select again.
                        selected = false;
                        return Err(e);
                    }
                };
                if (r.sw == sw::WRONG_LENGTH || r.sw >> 8 == 0x6C) && s.read_size > SHORT_READ {
                    tracing::debug!(
                        "the chip refused an extended-length READ BINARY; reading in short APDUs"
                    );
                    s.read_size = SHORT_READ;
                    if s.sm.is_none() && s.access_open {
                        // It ended the secure-messaging session with it.
                        selected = false;
                        return Err(Failure::Link(TransportError::LinkLost(
                            "the chip refused an extended-length READ BINARY and ended the session".into(),
                        )));
                    }
                    continue;
                }
                let offset = data.len();
                let mut chunk = check(r, &format!("READ BINARY of {name}"))?;
                if offset > 0x7FFF {
                    // READ BINARY B1 answers in a discretionary data object 53.
                    chunk = super::tlv::Tlv::parse_expecting(&chunk, 0x53)
                        .map_err(|source| ReadError::Lds(LdsError::Tlv { file: "READ BINARY (B1)", source }))?
                        .value
                        .to_vec();
                }
                if chunk.is_empty() {
                    return Err(ReadError::Status {
                        what: format!("READ BINARY of {name} at offset {}", data.len()),
                        status: StatusError::WrongParameters,
                    }
                    .into());
                }
                data.extend_from_slice(&chunk);
                s.stats.file_bytes += chunk.len();
                if total.is_none() {
                    total = Some(lds::file_length(&data)?);
                }
            }
            Ok(true)
        })?;
        if let Some(t) = total {
            data.truncate(t);
        }
        Ok(present.then_some(data))
    }
}

fn check(r: ResponseApdu, what: &str) -> Result<Vec<u8>, Failure> {
    r.into_result().map_err(|status| Failure::Fatal(ReadError::Status { what: what.to_string(), status }))
}

impl From<LdsError> for Failure {
    fn from(e: LdsError) -> Self {
        Failure::Fatal(e.into())
    }
}

/// Choose PACE from EF.CardAccess: the first PACEInfo this kiosk supports.
fn choose_access(card_access: Option<&[u8]>) -> (Access, String) {
    let Some(bytes) = card_access else {
        return (Access::Bac, "no EF.CardAccess: the chip offers BAC only".into());
    };
    let infos = match lds::parse_card_access(bytes) {
        Ok(infos) => infos,
        Err(e) => return (Access::Bac, format!("EF.CardAccess is malformed ({e}); trying BAC")),
    };
    let mut refusals = Vec::new();
    for info in infos.pace_infos() {
        match PaceParams::from_pace_info(&info.protocol, info.parameter_id) {
            Ok(params) => return (Access::Pace(params), String::new()),
            Err(e) => refusals.push(e.to_string()),
        }
    }
    let why = if refusals.is_empty() {
        "EF.CardAccess lists no PACE protocol".to_string()
    } else {
        refusals.join("; ")
    };
    (Access::Bac, why)
}

struct Clock {
    last: Instant,
    timings: Vec<StepTiming>,
}

impl Clock {
    fn lap(&mut self, step: &'static str) {
        let now = Instant::now();
        self.timings.push(StepTiming { step, ms: (now - self.last).as_secs_f64() * 1000.0 });
        self.last = now;
    }
}

/// Read the chip on `transport`, opened with the MRZ information printed on
/// the data page, and authenticate it against `trust`.
pub fn read_chip<R: CryptoRng + ?Sized>(
    transport: &mut dyn CardTransport,
    mrz_information: &str,
    trust: &TrustStore,
    options: &ReadOptions,
    rng: &mut R,
) -> Result<ChipRead, ReadError> {
    let mut clock = Clock { last: Instant::now(), timings: Vec::new() };
    let mut s = Session {
        transport,
        rng,
        mrz_information: mrz_information.to_string(),
        access: Access::Bac,
        sm: None,
        cam: None,
        ca_dg14: None,
        cam_key: None,
        read_size: if options.extended_length { EXTENDED_READ } else { SHORT_READ },
        max_reconnects: options.max_reconnects,
        stats: LinkStats::default(),
        access_open: false,
    };

    // 1. Access control: PACE when EF.CardAccess offers it, else BAC.
    let card_access = s.read_file(fid::EF_CARD_ACCESS, "EF.CardAccess")?;
    let (access, pace_refusal) = choose_access(card_access.as_deref());
    s.access = access;
    let opened = s.retrying(|s| s.open_access());
    if let Err(pace_error) = opened {
        match (&s.access, &pace_error) {
            // A wrong password is the same for BAC: no point trying it.
            (Access::Pace(_), ReadError::Pace(PaceError::AccessDenied { .. })) => return Err(pace_error),
            (Access::Pace(_), _) => {
                tracing::warn!(%pace_error, "PACE failed; trying BAC");
                s.access = Access::Bac;
                s.sm = None;
                s.cam = None;
                s.transport.reconnect().map_err(ReadError::Transport)?;
                s.retrying(|s| s.open_access()).map_err(|bac| ReadError::NoAccessProtocol {
                    pace: pace_error.to_string(),
                    bac: bac.to_string(),
                })?;
            }
            (Access::Bac, _) if !pace_refusal.is_empty() && card_access.is_some() => {
                return Err(ReadError::NoAccessProtocol { pace: pace_refusal, bac: pace_error.to_string() });
            }
            (Access::Bac, _) => return Err(pace_error),
        }
    }
    let access = match &s.access {
        Access::Bac => AccessProtocol::Bac,
        Access::Pace(p) => AccessProtocol::Pace { parameters: p.describe(), cam: s.cam.is_some() },
    };
    clock.lap("access_control");

    // 2. EF.COM and EF.SOD.
    let com_bytes = s.read_file(fid::EF_COM, "EF.COM")?.ok_or(ReadError::MissingFile("EF.COM"))?;
    let com = EfCom::parse(&com_bytes)?;
    let sod = s.read_file(fid::EF_SOD, "EF.SOD")?.ok_or(ReadError::MissingFile("EF.SOD"))?;
    let listed: Vec<u8> = com.data_groups().iter().map(|g| g.number()).collect();
    clock.lap("read_com_sod");

    // 3. Chip authenticity: CA (or PACE-CAM) with DG14, AA with DG15.
    let mut data_groups = BTreeMap::new();
    let dg14 = if listed.contains(&14) { s.read_file(fid::DG14, "DG14")? } else { None };
    let chip_authentication = match (&dg14, s.cam.take()) {
        (Some(dg14), Some(cam)) => match ca::choose_from_dg14(dg14) {
            Ok(choice) => {
                let verdict = cam.verify(&choice.chip_public_key);
                if verdict.is_passed() {
                    s.cam_key = Some(choice.chip_public_key);
                }
                s.cam = Some(cam);
                verdict
            }
            Err(verdict) => verdict,
        },
        (None, Some(_)) => Verdict::not_supported(
            "PACE-CAM ran but the chip has no DG14 to check the chip key against (EF.CardSecurity is not read)",
        ),
        (Some(dg14), None) => {
            let dg14 = dg14.clone();
            let verdict = s.retrying(|s| s.chip_authentication(&dg14))?;
            if verdict.is_passed() {
                s.ca_dg14 = Some(dg14);
            }
            verdict
        }
        (None, None) => Verdict::not_supported("the chip has no DG14: Chip Authentication is not offered"),
    };
    clock.lap("chip_authentication");
    let aa_info = dg14
        .as_deref()
        .and_then(|d| lds::parse_dg14(d).ok())
        .and_then(|infos| infos.active_authentication().map(|a| a.signature_algorithm));
    let dg15 = if listed.contains(&15) { s.read_file(fid::DG15, "DG15")? } else { None };
    let active_authentication = match &dg15 {
        Some(dg15) => {
            let dg15 = dg15.clone();
            s.retrying(|s| s.active_authentication(&dg15, aa_info.as_ref()))?
        }
        None => Verdict::not_supported("the chip has no DG15: Active Authentication is not offered"),
    };
    clock.lap("active_authentication");
    if let Some(d) = dg14 {
        data_groups.insert(14, d);
    }
    if let Some(d) = dg15 {
        data_groups.insert(15, d);
    }

    // 4. The data groups.
    let dg1_bytes = s.read_file(fid::DG1, "DG1")?.ok_or(ReadError::MissingFile("DG1"))?;
    let dg1 = lds::parse_dg1(&dg1_bytes)?;
    data_groups.insert(1, dg1_bytes);
    clock.lap("read_dg1");
    let dg2_bytes = s.read_file(fid::DG2, "DG2")?.ok_or(ReadError::MissingFile("DG2"))?;
    let portrait = lds::parse_dg2(&dg2_bytes)?;
    data_groups.insert(2, dg2_bytes);
    clock.lap("read_dg2");
    let mut dg11 = None;
    let mut dg12 = None;
    if options.optional_groups {
        if listed.contains(&11)
            && let Some(bytes) = s.read_file(fid::DG11, "DG11")?
        {
            dg11 = Some(Dg11::parse(&bytes)?);
            data_groups.insert(11, bytes);
        }
        if listed.contains(&12)
            && let Some(bytes) = s.read_file(fid::DG12, "DG12")?
        {
            dg12 = Some(Dg12::parse(&bytes)?);
            data_groups.insert(12, bytes);
        }
        clock.lap("read_dg11_dg12");
    }

    // 5. Passive Authentication over everything read.
    let passive = passive_authentication(&sod, &data_groups, &dg1.issuing_state, trust, options.now);
    clock.lap("passive_authentication");

    Ok(ChipRead {
        access,
        com,
        dg1,
        portrait,
        dg11,
        dg12,
        data_groups,
        sod,
        authentication: DocumentAuthentication { passive, chip_authentication, active_authentication },
        timings: clock.timings,
        link: s.stats,
    })
}

/// A `DataGroup` number's FID, for callers reading single groups.
pub fn data_group_fid(number: u8) -> Option<u16> {
    DataGroup::new(number).map(|g| g.fid())
}
