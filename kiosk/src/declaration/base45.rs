//! Base45 (RFC 9285): bytes as text in the QR alphanumeric alphabet.
//!
//! A QR code stores the 45 characters `0-9 A-Z space $ % * + - . / :` in
//! 5.5 bits each, so base45 costs 8.25 bits a byte where base64 in byte
//! mode costs 10.7. Decoding is strict: a character outside the alphabet, a
//! dangling single character or a group whose value is too large is an
//! error, so each byte string has exactly one text. Never panics.

/// The alphabet, in value order.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Base45Error {
    #[error("character {0:?} is not in the base45 alphabet")]
    Character(char),
    #[error("base45 text has a dangling last character")]
    Length,
    #[error("base45 group at character {0} is out of range")]
    Range(usize),
}

fn value(c: u8) -> Result<u32, Base45Error> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32).ok_or(Base45Error::Character(char::from(c)))
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let push = |out: &mut String, v: u32| out.push(char::from(ALPHABET[(v % 45) as usize]));
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = u32::from(a) * 256 + u32::from(b);
                push(&mut out, n);
                push(&mut out, n / 45);
                push(&mut out, n / (45 * 45));
            }
            [a] => {
                let n = u32::from(a);
                push(&mut out, n);
                push(&mut out, n / 45);
            }
            _ => {}
        }
    }
    out
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    if let Some(c) = text.chars().find(|&c| !c.is_ascii() || !ALPHABET.contains(&(c as u8))) {
        return Err(Base45Error::Character(c));
    }
    let t = text.as_bytes();
    if t.len() % 3 == 1 {
        return Err(Base45Error::Length);
    }
    let mut out = Vec::with_capacity(t.len() / 3 * 2 + 1);
    for (i, group) in t.chunks(3).enumerate() {
        match *group {
            [c, d, e] => {
                let n = value(c)? + value(d)? * 45 + value(e)? * 45 * 45;
                let n = u16::try_from(n).map_err(|_| Base45Error::Range(i * 3))?;
                out.extend_from_slice(&n.to_be_bytes());
            }
            [c, d] => {
                let n = value(c)? + value(d)? * 45;
                out.push(u8::try_from(n).map_err(|_| Base45Error::Range(i * 3))?);
            }
            _ => return Err(Base45Error::Length),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc9285_vectors() {
        for (bytes, text) in [
            (&b"AB"[..], "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
            (b"", ""),
        ] {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text).unwrap(), bytes);
        }
    }

    #[test]
    fn strict_decoding() {
        assert_eq!(decode("GGW"), Err(Base45Error::Range(0)));
        assert_eq!(decode("BB8::"), Err(Base45Error::Range(3)));
        assert_eq!(decode("BB8A"), Err(Base45Error::Length));
        assert_eq!(decode("bb8"), Err(Base45Error::Character('b')));
        assert_eq!(decode("BB\u{e9}"), Err(Base45Error::Character('\u{e9}')));
        assert_eq!(decode(":::"), Err(Base45Error::Range(0)));
        assert_eq!(decode("FGW").unwrap(), vec![0xff, 0xff]);
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|c| ALPHABET.contains(&c)));
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(text in "\\PC{0,64}") {
            if let Ok(bytes) = decode(&text) {
                prop_assert_eq!(encode(&bytes), text);
            }
        }
    }
}
