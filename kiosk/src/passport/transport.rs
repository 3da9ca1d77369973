//! The boundary to the contactless link: one APDU out, one response back.
//!
//! Backends: the PC/SC reader (`pcsc` feature, [`super::pcsc_reader`]) and the
//! in-process virtual chip (`sim` feature, [`super::chip`]). Everything above
//! this trait (secure messaging, BAC/PACE, file reading) is the same for both.

use super::apdu::{ApduError, CommandApdu, ResponseApdu};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no chip in the reader's field")]
    NoCard,
    /// The chip left the field or lost power mid-exchange: its session state
    /// (secure messaging keys) is gone; reconnect and authenticate again.
    #[error("the link to the chip was lost: {0}")]
    LinkLost(String),
    #[error("the chip did not answer within {0} ms")]
    Timeout(u64),
    #[error("the card reader failed: {0} (is pcscd running and the reader plugged in?)")]
    Reader(String),
    #[error("malformed APDU: {0}")]
    Apdu(#[from] ApduError),
}

impl TransportError {
    /// Errors after which a reconnect and a fresh session may succeed.
    pub fn is_link_failure(&self) -> bool {
        matches!(self, TransportError::LinkLost(_) | TransportError::Timeout(_))
    }
}

/// A contactless link to a chip.
pub trait CardTransport: Send {
    /// Send one command APDU (encoded bytes) and return the response APDU
    /// (data followed by SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;

    /// Power the chip down and up again (or reconnect the reader) after a lost
    /// link; returns the ATR/ATS. The chip forgets any session.
    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError>;

    /// A short description for logs ("PC/SC: ACS ACR1252 00 00", "virtual chip").
    fn describe(&self) -> String;

    /// Send a command APDU and parse the response.
    fn exchange(&mut self, command: &CommandApdu) -> Result<ResponseApdu, TransportError> {
        let bytes = command.to_bytes()?;
        let response = self.transmit(&bytes)?;
        Ok(ResponseApdu::parse(&response)?)
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
    fn reconnect(&mut self) -> Result<Vec<u8>, TransportError> {
        (**self).reconnect()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}
