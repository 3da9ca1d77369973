//! Real contactless readers through PC/SC (feature `pcsc`): a
//! [`CardTransport`] over the `pcsc` crate (pcsc-lite on Linux).
//!
//! Build needs `libpcsclite-dev`; use needs the `pcscd` service running and a
//! PC/SC reader (CCID, or a vendor driver). Extended-length APDUs need a reader
//! and driver that pass them through; the receive buffer is sized for them.
//!
//! **Untested against hardware here**: this machine has no reader. The code is
//! compile-checked (`--features sim,pcsc`) and its error mapping is unit
//! tested; everything above it (secure messaging, BAC, PACE) is tested against
//! the virtual chip. `pcscd` with Debian's `vsmartcard-vpcd` gives a virtual
//! reader for an end-to-end trial.

use std::ffi::CString;

use pcsc::{
    Attribute, Card, Context, Disposition, MAX_BUFFER_SIZE_EXTENDED, Protocols, ReaderState, Scope,
    ShareMode, State,
};

use super::transport::{CardTransport, TransportError};

/// A connected PC/SC reader and the chip in its field.
pub struct PcscTransport {
    context: Context,
    reader: CString,
    card: Option<Card>,
    atr: Vec<u8>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .field("connected", &self.card.is_some())
            .field("atr", &hex::encode_upper(&self.atr))
            .finish()
    }
}

impl PcscTransport {
    /// Names of the readers pcscd knows (empty when none is plugged in).
    pub fn list_readers() -> Result<Vec<String>, TransportError> {
        let context = establish()?;
        reader_names(&context)
    }

    /// Connect to the chip on `reader` (by its PC/SC name), or, when `None`,
    /// on the first reader with a card in its field. `NoCard` when the reader's
    /// field is empty.
    pub fn connect(reader: Option<&str>) -> Result<PcscTransport, TransportError> {
        let context = establish()?;
        let reader = match reader {
            Some(name) => CString::new(name)
                .map_err(|_| TransportError::Reader(format!("reader name {name:?} contains a NUL byte")))?,
            None => first_reader_with_card(&context)?,
        };
        let card = context
            .connect(&reader, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| map_error("connect", e))?;
        let atr = read_atr(&card);
        Ok(PcscTransport { context, reader, card: Some(card), atr })
    }

    /// The reader's PC/SC name.
    pub fn reader_name(&self) -> String {
        self.reader.to_string_lossy().into_owned()
    }

    /// The chip's ATR (for contactless chips, built by the reader from the ATS).
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }
}

impl CardTransport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let card =
            self.card.as_ref().ok_or_else(|| TransportError::LinkLost("not connected; reconnect".into()))?;
        // Room for an extended-length response (up to 65536 data bytes + SW).
        let mut buffer = vec![0u8; MAX_BUFFER_SIZE_EXTENDED];
        match card.transmit(command, &mut buffer) {
            Ok(response) => Ok(response.to_vec()),
            Err(e) => Err(map_error("transmit", e)),
        }
    }

    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
        // Power-cycle the field first (the chip forgets its session); if the
        // handle is gone (chip removed and put back), connect afresh.
        if let Some(card) = self.card.as_mut() {
            let cycled = card
                .reconnect(ShareMode::Shared, Protocols::ANY, Disposition::UnpowerCard)
                .or_else(|_| card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard));
            if cycled.is_ok() {
                self.atr = read_atr(card);
                return Ok(self.atr.clone());
            }
        }
        self.card = None;
        let card = self
            .context
            .connect(&self.reader, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| map_error("reconnect", e))?;
        self.atr = read_atr(&card);
        self.card = Some(card);
        Ok(self.atr.clone())
    }

    fn describe(&self) -> String {
        format!("PC/SC: {}", self.reader_name())
    }
}

fn establish() -> Result<Context, TransportError> {
    Context::establish(Scope::User).map_err(|e| map_error("connect to the PC/SC service", e))
}

fn reader_names(context: &Context) -> Result<Vec<String>, TransportError> {
    match context.list_readers_owned() {
        Ok(names) => Ok(names.iter().map(|n| n.to_string_lossy().into_owned()).collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_error("list readers", e)),
    }
}

fn first_reader_with_card(context: &Context) -> Result<CString, TransportError> {
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => return Err(map_error("list readers", e)),
    };
    if names.is_empty() {
        return Err(TransportError::Reader("no PC/SC reader is connected".into()));
    }
    let mut states: Vec<ReaderState> =
        names.iter().map(|n| ReaderState::new(n.clone(), State::UNAWARE)).collect();
    // Zero timeout: just read the current state of every reader.
    context
        .get_status_change(std::time::Duration::ZERO, &mut states)
        .map_err(|e| map_error("query readers", e))?;
    states
        .iter()
        .find(|s| s.event_state().contains(State::PRESENT) && !s.event_state().contains(State::MUTE))
        .map(|s| s.name().to_owned())
        .ok_or(TransportError::NoCard)
}

fn read_atr(card: &Card) -> Vec<u8> {
    card.get_attribute_owned(Attribute::AtrString).unwrap_or_default()
}

/// PC/SC errors by what the caller can do about them.
fn map_error(operation: &str, error: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match error {
        E::NoSmartcard => TransportError::NoCard,
        E::RemovedCard | E::ResetCard | E::UnpoweredCard | E::UnresponsiveCard | E::CommDataLost => {
            TransportError::LinkLost(format!("{operation}: {error}"))
        }
        E::NoService | E::ServiceStopped => TransportError::Reader(format!(
            "{operation}: {error}: the PC/SC service is not running; start pcscd (systemctl start pcscd.socket)"
        )),
        E::NoReadersAvailable | E::ReaderUnavailable | E::UnknownReader => {
            TransportError::Reader(format!("{operation}: {error}: plug in the reader or check its name"))
        }
        E::SharingViolation => TransportError::Reader(format!(
            "{operation}: {error}: another program holds the reader exclusively; close it"
        )),
        other => TransportError::Reader(format!("{operation}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_the_caller_can_do() {
        assert_eq!(map_error("transmit", pcsc::Error::NoSmartcard), TransportError::NoCard);
        for lost in [pcsc::Error::RemovedCard, pcsc::Error::ResetCard, pcsc::Error::UnresponsiveCard] {
            let mapped = map_error("transmit", lost);
            assert!(mapped.is_link_failure(), "{mapped}");
        }
        let mapped = map_error("connect to the PC/SC service", pcsc::Error::NoService);
        assert!(matches!(mapped, TransportError::Reader(ref m) if m.contains("pcscd")), "{mapped}");
        assert!(!map_error("transmit", pcsc::Error::InvalidParameter).is_link_failure());
    }
}
