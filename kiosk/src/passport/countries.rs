//! ICAO 9303 issuing-state codes (MRZ, three letters) to ISO 3166-1 alpha-2,
//! the form X.509 certificates use in their country (C) attribute.
//!
//! Passive Authentication checks that the Document Signer certificate comes
//! from the state named in DG1. MRZ codes are ISO 3166-1 alpha-3 plus ICAO's
//! own codes (Doc 9303 Part 3): Germany writes `D`, the United Kingdom issues
//! five kinds of British national under one CSCA, and some codes name an
//! organisation or a status rather than a state.

/// What a three-letter MRZ issuing-state code means for certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuingState {
    /// A state: its certificates carry this ISO 3166-1 alpha-2 country.
    Country { alpha2: &'static str },
    /// A code that names no country (an organisation or a status such as
    /// stateless or refugee): no certificate country can be expected.
    NoCountry { description: &'static str },
    /// Not an ISO 3166-1 or ICAO code.
    Unknown,
}

/// Map an MRZ issuing-state code (`DEU`, `D<<`, `GBD`, ...) to what its
/// certificates should say. Fillers (`<`) and surrounding spaces are ignored,
/// letters are compared case-insensitively.
pub fn issuing_state(mrz_code: &str) -> IssuingState {
    let code: String =
        mrz_code.trim().trim_end_matches('<').chars().map(|c| c.to_ascii_uppercase()).collect();
    if let Some(special) = icao_special(&code) {
        return special;
    }
    match ISO_3166_ALPHA3_TO_ALPHA2.binary_search_by(|(alpha3, _)| (*alpha3).cmp(code.as_str())) {
        Ok(i) => ISO_3166_ALPHA3_TO_ALPHA2
            .get(i)
            .map_or(IssuingState::Unknown, |(_, alpha2)| IssuingState::Country { alpha2 }),
        Err(_) => IssuingState::Unknown,
    }
}

/// The alpha-2 country for an MRZ code, when there is one.
pub fn alpha2_for(mrz_code: &str) -> Option<&'static str> {
    match issuing_state(mrz_code) {
        IssuingState::Country { alpha2 } => Some(alpha2),
        _ => None,
    }
}

/// ICAO Doc 9303 Part 3 codes that are not ISO 3166-1 alpha-3.
fn icao_special(code: &str) -> Option<IssuingState> {
    let country = |alpha2| Some(IssuingState::Country { alpha2 });
    let none = |description| Some(IssuingState::NoCountry { description });
    match code {
        // Germany keeps its historical one-letter code in the MRZ.
        "D" => country("DE"),
        // British citizens of other kinds; all are issued under the UK CSCA.
        "GBD" | "GBN" | "GBO" | "GBP" | "GBS" => country("GB"),
        // ICAO's fictitious state for specimen and test documents; its test
        // PKI uses the user-assigned alpha-2 code UT.
        "UTO" => country("UT"),
        "UNO" => none("United Nations Organization"),
        "UNA" => none("specialized agency of the United Nations"),
        "UNK" => {
            none("resident of Kosovo, document issued by the UN Interim Administration Mission in Kosovo")
        }
        "EUE" => none("European Union"),
        "XXA" => none("stateless person (1954 Convention)"),
        "XXB" => none("refugee (1951 Convention)"),
        "XXC" => none("refugee (other than the 1951 Convention)"),
        "XXX" => none("unspecified nationality"),
        "XBA" => none("African Development Bank"),
        "XIM" => none("African Export-Import Bank"),
        "XCC" => none("Caribbean Community (CARICOM)"),
        "XCE" => none("Council of Europe"),
        "XCO" => none("Common Market for Eastern and Southern Africa"),
        "XEC" => none("Economic Community of West African States"),
        "XES" => none("Organisation of Eastern Caribbean States"),
        "XMP" => none("Parliamentary Assembly of the Mediterranean"),
        "XOM" => none("Sovereign Military Order of Malta"),
        "XDC" => none("Southern African Development Community"),
        "XPO" => none("International Criminal Police Organization (INTERPOL)"),
        _ => None,
    }
}

/// ISO 3166-1: every officially assigned alpha-3 code with its alpha-2 code,
/// sorted by alpha-3 (binary search). Generated from Debian's iso-codes 4.15.
#[rustfmt::skip]
const ISO_3166_ALPHA3_TO_ALPHA2: [(&str, &str); 249] = [
    ("ABW", "AW"), ("AFG", "AF"), ("AGO", "AO"), ("AIA", "AI"), ("ALA", "AX"), ("ALB", "AL"),
    ("AND", "AD"), ("ARE", "AE"), ("ARG", "AR"), ("ARM", "AM"), ("ASM", "AS"), ("ATA", "AQ"),
    ("ATF", "TF"), ("ATG", "AG"), ("AUS", "AU"), ("AUT", "AT"), ("AZE", "AZ"), ("BDI", "BI"),
    ("BEL", "BE"), ("BEN", "BJ"), ("BES", "BQ"), ("BFA", "BF"), ("BGD", "BD"), ("BGR", "BG"),
    ("BHR", "BH"), ("BHS", "BS"), ("BIH", "BA"), ("BLM", "BL"), ("BLR", "BY"), ("BLZ", "BZ"),
    ("BMU", "BM"), ("BOL", "BO"), ("BRA", "BR"), ("BRB", "BB"), ("BRN", "BN"), ("BTN", "BT"),
    ("BVT", "BV"), ("BWA", "BW"), ("CAF", "CF"), ("CAN", "CA"), ("CCK", "CC"), ("CHE", "CH"),
    ("CHL", "CL"), ("CHN", "CN"), ("CIV", "CI"), ("CMR", "CM"), ("COD", "CD"), ("COG", "CG"),
    ("COK", "CK"), ("COL", "CO"), ("COM", "KM"), ("CPV", "CV"), ("CRI", "CR"), ("CUB", "CU"),
    ("CUW", "CW"), ("CXR", "CX"), ("CYM", "KY"), ("CYP", "CY"), ("CZE", "CZ"), ("DEU", "DE"),
    ("DJI", "DJ"), ("DMA", "DM"), ("DNK", "DK"), ("DOM", "DO"), ("DZA", "DZ"), ("ECU", "EC"),
    ("EGY", "EG"), ("ERI", "ER"), ("ESH", "EH"), ("ESP", "ES"), ("EST", "EE"), ("ETH", "ET"),
    ("FIN", "FI"), ("FJI", "FJ"), ("FLK", "FK"), ("FRA", "FR"), ("FRO", "FO"), ("FSM", "FM"),
    ("GAB", "GA"), ("GBR", "GB"), ("GEO", "GE"), ("GGY", "GG"), ("GHA", "GH"), ("GIB", "GI"),
    ("GIN", "GN"), ("GLP", "GP"), ("GMB", "GM"), ("GNB", "GW"), ("GNQ", "GQ"), ("GRC", "GR"),
    ("GRD", "GD"), ("GRL", "GL"), ("GTM", "GT"), ("GUF", "GF"), ("GUM", "GU"), ("GUY", "GY"),
    ("HKG", "HK"), ("HMD", "HM"), ("HND", "HN"), ("HRV", "HR"), ("HTI", "HT"), ("HUN", "HU"),
    ("IDN", "ID"), ("IMN", "IM"), ("IND", "IN"), ("IOT", "IO"), ("IRL", "IE"), ("IRN", "IR"),
    ("IRQ", "IQ"), ("ISL", "IS"), ("ISR", "IL"), ("ITA", "IT"), ("JAM", "JM"), ("JEY", "JE"),
    ("JOR", "JO"), ("JPN", "JP"), ("KAZ", "KZ"), ("KEN", "KE"), ("KGZ", "KG"), ("KHM", "KH"),
    ("KIR", "KI"), ("KNA", "KN"), ("KOR", "KR"), ("KWT", "KW"), ("LAO", "LA"), ("LBN", "LB"),
    ("LBR", "LR"), ("LBY", "LY"), ("LCA", "LC"), ("LIE", "LI"), ("LKA", "LK"), ("LSO", "LS"),
    ("LTU", "LT"), ("LUX", "LU"), ("LVA", "LV"), ("MAC", "MO"), ("MAF", "MF"), ("MAR", "MA"),
    ("MCO", "MC"), ("MDA", "MD"), ("MDG", "MG"), ("MDV", "MV"), ("MEX", "MX"), ("MHL", "MH"),
    ("MKD", "MK"), ("MLI", "ML"), ("MLT", "MT"), ("MMR", "MM"), ("MNE", "ME"), ("MNG", "MN"),
    ("MNP", "MP"), ("MOZ", "MZ"), ("MRT", "MR"), ("MSR", "MS"), ("MTQ", "MQ"), ("MUS", "MU"),
    ("MWI", "MW"), ("MYS", "MY"), ("MYT", "YT"), ("NAM", "NA"), ("NCL", "NC"), ("NER", "NE"),
    ("NFK", "NF"), ("NGA", "NG"), ("NIC", "NI"), ("NIU", "NU"), ("NLD", "NL"), ("NOR", "NO"),
    ("NPL", "NP"), ("NRU", "NR"), ("NZL", "NZ"), ("OMN", "OM"), ("PAK", "PK"), ("PAN", "PA"),
    ("PCN", "PN"), ("PER", "PE"), ("PHL", "PH"), ("PLW", "PW"), ("PNG", "PG"), ("POL", "PL"),
    ("PRI", "PR"), ("PRK", "KP"), ("PRT", "PT"), ("PRY", "PY"), ("PSE", "PS"), ("PYF", "PF"),
    ("QAT", "QA"), ("REU", "RE"), ("ROU", "RO"), ("RUS", "RU"), ("RWA", "RW"), ("SAU", "SA"),
    ("SDN", "SD"), ("SEN", "SN"), ("SGP", "SG"), ("SGS", "GS"), ("SHN", "SH"), ("SJM", "SJ"),
    ("SLB", "SB"), ("SLE", "SL"), ("SLV", "SV"), ("SMR", "SM"), ("SOM", "SO"), ("SPM", "PM"),
    ("SRB", "RS"), ("SSD", "SS"), ("STP", "ST"), ("SUR", "SR"), ("SVK", "SK"), ("SVN", "SI"),
    ("SWE", "SE"), ("SWZ", "SZ"), ("SXM", "SX"), ("SYC", "SC"), ("SYR", "SY"), ("TCA", "TC"),
    ("TCD", "TD"), ("TGO", "TG"), ("THA", "TH"), ("TJK", "TJ"), ("TKL", "TK"), ("TKM", "TM"),
    ("TLS", "TL"), ("TON", "TO"), ("TTO", "TT"), ("TUN", "TN"), ("TUR", "TR"), ("TUV", "TV"),
    ("TWN", "TW"), ("TZA", "TZ"), ("UGA", "UG"), ("UKR", "UA"), ("UMI", "UM"), ("URY", "UY"),
    ("USA", "US"), ("UZB", "UZ"), ("VAT", "VA"), ("VCT", "VC"), ("VEN", "VE"), ("VGB", "VG"),
    ("VIR", "VI"), ("VNM", "VN"), ("VUT", "VU"), ("WLF", "WF"), ("WSM", "WS"), ("YEM", "YE"),
    ("ZAF", "ZA"), ("ZMB", "ZM"), ("ZWE", "ZW"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_complete() {
        assert!(ISO_3166_ALPHA3_TO_ALPHA2.windows(2).all(|w| w[0].0 < w[1].0));
        let mut alpha2: Vec<_> = ISO_3166_ALPHA3_TO_ALPHA2.iter().map(|(_, a2)| *a2).collect();
        alpha2.sort_unstable();
        alpha2.dedup();
        assert_eq!(alpha2.len(), 249);
        assert!(ISO_3166_ALPHA3_TO_ALPHA2.iter().all(|(a3, a2)| a3.len() == 3 && a2.len() == 2));
    }

    #[test]
    fn iso_codes() {
        assert_eq!(alpha2_for("DEU"), Some("DE"));
        assert_eq!(alpha2_for("JPN"), Some("JP"));
        assert_eq!(alpha2_for("GBR"), Some("GB"));
        assert_eq!(alpha2_for("NLD"), Some("NL"));
        assert_eq!(alpha2_for("ZWE"), Some("ZW"));
        assert_eq!(alpha2_for("ABW"), Some("AW"));
        assert_eq!(alpha2_for("usa"), Some("US"));
    }

    #[test]
    fn icao_specials() {
        assert_eq!(alpha2_for("D"), Some("DE"));
        assert_eq!(alpha2_for("D<<"), Some("DE"));
        for gb in ["GBD", "GBN", "GBO", "GBP", "GBS"] {
            assert_eq!(alpha2_for(gb), Some("GB"), "{gb}");
        }
        assert_eq!(alpha2_for("UTO"), Some("UT"));
        for code in ["UNO", "UNA", "UNK", "XXA", "XXB", "XXC", "XXX"] {
            assert!(matches!(issuing_state(code), IssuingState::NoCountry { .. }), "{code}");
        }
        assert_eq!(issuing_state("QQQ"), IssuingState::Unknown);
        assert_eq!(issuing_state(""), IssuingState::Unknown);
        assert_eq!(issuing_state("<<<"), IssuingState::Unknown);
        assert_eq!(issuing_state("DEUTSCH"), IssuingState::Unknown);
    }
}
