//! Object identifiers of ICAO 9303 Part 11/12 and BSI TR-03110 used on eMRTD
//! chips, in one place so that parsers, protocols and the simulator agree.

use der::asn1::ObjectIdentifier as Oid;

/// BSI's arc 0.4.0.127.0.7 (TR-03110), under which PACE, CA and TA live.
const fn bsi(suffix: &str) -> Oid {
    // const-eval concatenation is not possible; each constant spells the full arc.
    Oid::new_unwrap(suffix)
}

// PACE protocols: id-PACE = 0.4.0.127.0.7.2.2.4; mapping .1 DH-GM, .2 ECDH-GM,
// .3 DH-IM, .4 ECDH-IM, .6 ECDH-CAM; cipher .1 3DES, .2 AES-128, .3 AES-192, .4 AES-256.
pub const PACE_ECDH_GM_3DES: Oid = bsi("0.4.0.127.0.7.2.2.4.2.1");
pub const PACE_ECDH_GM_AES_128: Oid = bsi("0.4.0.127.0.7.2.2.4.2.2");
pub const PACE_ECDH_GM_AES_192: Oid = bsi("0.4.0.127.0.7.2.2.4.2.3");
pub const PACE_ECDH_GM_AES_256: Oid = bsi("0.4.0.127.0.7.2.2.4.2.4");
pub const PACE_DH_GM_3DES: Oid = bsi("0.4.0.127.0.7.2.2.4.1.1");
pub const PACE_DH_GM_AES_128: Oid = bsi("0.4.0.127.0.7.2.2.4.1.2");
pub const PACE_DH_GM_AES_192: Oid = bsi("0.4.0.127.0.7.2.2.4.1.3");
pub const PACE_DH_GM_AES_256: Oid = bsi("0.4.0.127.0.7.2.2.4.1.4");
pub const PACE_ECDH_IM_3DES: Oid = bsi("0.4.0.127.0.7.2.2.4.4.1");
pub const PACE_ECDH_IM_AES_128: Oid = bsi("0.4.0.127.0.7.2.2.4.4.2");
pub const PACE_ECDH_IM_AES_192: Oid = bsi("0.4.0.127.0.7.2.2.4.4.3");
pub const PACE_ECDH_IM_AES_256: Oid = bsi("0.4.0.127.0.7.2.2.4.4.4");
pub const PACE_ECDH_CAM_AES_128: Oid = bsi("0.4.0.127.0.7.2.2.4.6.2");
pub const PACE_ECDH_CAM_AES_192: Oid = bsi("0.4.0.127.0.7.2.2.4.6.3");
pub const PACE_ECDH_CAM_AES_256: Oid = bsi("0.4.0.127.0.7.2.2.4.6.4");
/// Arc of every PACE protocol OID.
pub const PACE_ARC: Oid = bsi("0.4.0.127.0.7.2.2.4");

// Chip Authentication: id-CA = 0.4.0.127.0.7.2.2.3; .1 DH, .2 ECDH; cipher as PACE.
pub const CA_ECDH_3DES: Oid = bsi("0.4.0.127.0.7.2.2.3.2.1");
pub const CA_ECDH_AES_128: Oid = bsi("0.4.0.127.0.7.2.2.3.2.2");
pub const CA_ECDH_AES_192: Oid = bsi("0.4.0.127.0.7.2.2.3.2.3");
pub const CA_ECDH_AES_256: Oid = bsi("0.4.0.127.0.7.2.2.3.2.4");
pub const CA_DH_3DES: Oid = bsi("0.4.0.127.0.7.2.2.3.1.1");
pub const CA_ARC: Oid = bsi("0.4.0.127.0.7.2.2.3");

// Public keys in ChipAuthenticationPublicKeyInfo: id-PK = 0.4.0.127.0.7.2.2.1.
pub const PK_DH: Oid = bsi("0.4.0.127.0.7.2.2.1.1");
pub const PK_ECDH: Oid = bsi("0.4.0.127.0.7.2.2.1.2");

/// Terminal Authentication (EAC); recognised so it is reported, not used.
pub const TA_ARC: Oid = bsi("0.4.0.127.0.7.2.2.2");

/// ECDSA with plain (r || s) signatures, BSI TR-03111: .1 SHA-1 ... .5 SHA-512.
pub const ECDSA_PLAIN_SHA1: Oid = bsi("0.4.0.127.0.7.1.1.4.1.1");
pub const ECDSA_PLAIN_SHA224: Oid = bsi("0.4.0.127.0.7.1.1.4.1.2");
pub const ECDSA_PLAIN_SHA256: Oid = bsi("0.4.0.127.0.7.1.1.4.1.3");
pub const ECDSA_PLAIN_SHA384: Oid = bsi("0.4.0.127.0.7.1.1.4.1.4");
pub const ECDSA_PLAIN_SHA512: Oid = bsi("0.4.0.127.0.7.1.1.4.1.5");

// ICAO: id-icao-mrtd-security = 2.23.136.1.1.
pub const ICAO_LDS_SECURITY_OBJECT: Oid = Oid::new_unwrap("2.23.136.1.1.1");
pub const ICAO_CSCA_MASTER_LIST: Oid = Oid::new_unwrap("2.23.136.1.1.2");
pub const ICAO_CSCA_MASTER_LIST_SIGNING_KEY: Oid = Oid::new_unwrap("2.23.136.1.1.3");
/// ActiveAuthenticationInfo in DG14 (the signature algorithm for ECDSA AA).
pub const ICAO_AA_PROTOCOL: Oid = Oid::new_unwrap("2.23.136.1.1.5");

// Hashes and signature algorithms seen in SODs and certificates.
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

// Named curves.
pub const CURVE_P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const CURVE_P384: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const CURVE_P521: Oid = Oid::new_unwrap("1.3.132.0.35");
pub const CURVE_BRAINPOOL_P256R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.7");
pub const CURVE_BRAINPOOL_P384R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.11");
pub const CURVE_BRAINPOOL_P512R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.13");

// CMS.
pub const CMS_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub const CMS_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const CMS_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const CMS_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");

/// Whether `oid` lies under `arc` (for example, a PACE OID under [`PACE_ARC`]).
pub fn is_under(oid: &Oid, arc: &Oid) -> bool {
    let (a, b) = (oid.as_bytes(), arc.as_bytes());
    a.len() > b.len() && a.starts_with(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_icao_9303() {
        // id-PACE-ECDH-GM-AES-CBC-CMAC-128 as in the MSE:Set AT of Appendix G.1.
        assert_eq!(
            PACE_ECDH_GM_AES_128.as_bytes(),
            [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02]
        );
        assert!(is_under(&PACE_ECDH_CAM_AES_256, &PACE_ARC));
        assert!(!is_under(&CA_ECDH_AES_128, &PACE_ARC));
        assert!(is_under(&CA_ECDH_AES_128, &CA_ARC));
    }
}
