//! Enumerated payload fields. Each maps to one byte; unknown values are kept as `Unknown(u8)`.

macro_rules! byte_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this protocol version does not define, kept as received.
            Unknown(u8),
        }

        impl From<u8> for $name {
            fn from(value: u8) -> Self {
                match value {
                    $($value => $name::$variant,)+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                match value {
                    $($name::$variant => $value,)+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

byte_enum! {
    /// Direction of an authorised passage.
    Direction {
        /// From the entry side (landside) to the exit side.
        Entry = 1,
        /// From the exit side back to the entry side.
        Exit = 2,
    }
}

byte_enum! {
    /// Operating mode of the gate (SET_MODE, STATUS).
    GateMode {
        /// Flaps closed, opens for authorised passages.
        Normal = 0,
        /// Flaps closed, refuses authorisations.
        Locked = 1,
        /// Flaps held open (evacuation).
        EmergencyOpen = 2,
        /// Flaps closed, not in service (also after the host's heartbeats stop).
        OutOfService = 3,
    }
}

byte_enum! {
    /// Physical state of the flaps (STATUS).
    FlapState {
        Closed = 0,
        Open = 1,
    }
}

byte_enum! {
    /// Alarm reported by the gate (ALARM).
    AlarmKind {
        /// A second body entered while a passage was in progress.
        Tailgating = 1,
        /// Someone entered from the side opposite to the authorised direction.
        CounterDirection = 2,
        /// Someone entered the lane with no authorisation.
        Intrusion = 3,
        /// The lane stayed occupied for too long.
        Obstruction = 4,
        /// A flap did not reach the commanded position.
        DoorFault = 5,
        /// The emergency input is active: flaps are open.
        Emergency = 6,
        /// The cabinet was opened or a sensor was tampered with.
        Tamper = 7,
    }
}

byte_enum! {
    /// Why the receiver refused a frame (NAK).
    NakReason {
        /// The message type is not known to the receiver.
        UnknownType = 1,
        /// The payload is malformed for its message type, or carries an unknown field value.
        BadPayload = 2,
        /// The command is not allowed in the gate's current mode (locked, alarm, out of service,
        /// emergency).
        NotAllowed = 3,
        /// Another passage is already authorised or in progress.
        Busy = 4,
        /// The frame's protocol version is not supported.
        BadVersion = 5,
    }
}

impl AlarmKind {
    /// Bit of this alarm in [`AlarmFlags`] (unknown kinds have no bit).
    pub fn flag(self) -> u16 {
        match self {
            AlarmKind::Unknown(_) => 0,
            known => 1 << u8::from(known),
        }
    }
}

/// Set of active alarms, one bit per [`AlarmKind`] (bit n for kind value n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlarmFlags(pub u16);

impl AlarmFlags {
    pub fn insert(&mut self, kind: AlarmKind) {
        self.0 |= kind.flag();
    }

    pub fn contains(self, kind: AlarmKind) -> bool {
        let flag = kind.flag();
        flag != 0 && self.0 & flag != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for NakReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NakReason::UnknownType => f.write_str("unknown message type"),
            NakReason::BadPayload => f.write_str("malformed payload"),
            NakReason::NotAllowed => f.write_str("not allowed in the current gate mode"),
            NakReason::Busy => f.write_str("another passage is in progress"),
            NakReason::BadVersion => f.write_str("unsupported protocol version"),
            NakReason::Unknown(v) => write!(f, "unknown reason {v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        assert_eq!(Direction::from(9), Direction::Unknown(9));
        assert_eq!(u8::from(Direction::Unknown(9)), 9);
        assert_eq!(AlarmKind::from(7), AlarmKind::Tamper);
        assert_eq!(GateMode::from(200), GateMode::Unknown(200));
        for v in 0..=255u8 {
            assert_eq!(u8::from(AlarmKind::from(v)), v);
            assert_eq!(u8::from(NakReason::from(v)), v);
        }
    }

    #[test]
    fn alarm_flags() {
        let mut f = AlarmFlags::default();
        f.insert(AlarmKind::Tailgating);
        f.insert(AlarmKind::Unknown(3));
        assert_eq!(f.0, 0b10);
        assert!(f.contains(AlarmKind::Tailgating));
        assert!(!f.contains(AlarmKind::Intrusion));
    }
}
