//! A small DER reader for the informational fields rustls-webpki does not expose: the leaf's
//! names, validity, subject alternative names and key usages, and a CRL's update times.
//!
//! It never decides trust: every certificate and CRL it reads has been, or will be, verified by
//! rustls-webpki, which also re-checks validity and `nextUpdate` on its own. It only has to be
//! correct on well-formed input and must never panic on anything else.

use std::fmt::Write as _;
use std::net::IpAddr;

/// Input that is not the DER this module expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

pub(crate) const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BOOLEAN: u8 = 0x01;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A cursor over a run of DER TLVs.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next TLV: its tag, its contents and the whole encoding (tag and length included).
    pub(crate) fn read_any(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), Malformed> {
        let input = self.rest;
        let (&tag, after_tag) = input.split_first().ok_or(Malformed)?;
        // Multi-byte tags appear nowhere in the structures read here.
        if tag & 0x1f == 0x1f {
            return Err(Malformed);
        }
        let (&first, after_len) = after_tag.split_first().ok_or(Malformed)?;
        let (len, after_len) = match first {
            0..=0x7f => (usize::from(first), after_len),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                if after_len.len() < n {
                    return Err(Malformed);
                }
                let (len_bytes, rest) = after_len.split_at(n);
                let len = len_bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                (len, rest)
            }
            // Indefinite lengths are BER, not DER; longer lengths cannot be real.
            _ => return Err(Malformed),
        };
        if after_len.len() < len {
            return Err(Malformed);
        }
        let (contents, rest) = after_len.split_at(len);
        let header = input.len() - after_len.len();
        self.rest = rest;
        Ok((tag, contents, &input[..header + len]))
    }

    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], Malformed> {
        match self.read_any()? {
            (t, contents, _) if t == tag => Ok(contents),
            _ => Err(Malformed),
        }
    }

    fn read_optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, Malformed> {
        if self.peek_tag() == Some(tag) {
            self.read(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    fn read_time(&mut self) -> Result<i64, Malformed> {
        match self.read_any()? {
            (UTC_TIME, contents, _) => parse_time(contents, false),
            (GENERALIZED_TIME, contents, _) => parse_time(contents, true),
            _ => Err(Malformed),
        }
    }
}

/// Reads a whole input as exactly one TLV with the given tag and returns its contents.
fn single(input: &[u8], tag: u8) -> Result<&[u8], Malformed> {
    let mut reader = Reader::new(input);
    let contents = reader.read(tag)?;
    if reader.is_empty() {
        Ok(contents)
    } else {
        Err(Malformed)
    }
}

/// Seconds since the Unix epoch of an RFC 5280 `UTCTime` (`YYMMDDHHMMSSZ`) or
/// `GeneralizedTime` (`YYYYMMDDHHMMSSZ`).
fn parse_time(value: &[u8], generalized: bool) -> Result<i64, Malformed> {
    let (year, rest) = if generalized {
        if value.len() != 15 {
            return Err(Malformed);
        }
        (digits(&value[..4])?, &value[4..])
    } else {
        if value.len() != 13 {
            return Err(Malformed);
        }
        // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, otherwise 20YY.
        let yy = digits(&value[..2])?;
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &value[2..])
    };
    if rest[10] != b'Z' {
        return Err(Malformed);
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(Malformed);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn digits(bytes: &[u8]) -> Result<i64, Malformed> {
    bytes.iter().try_fold(0i64, |acc, &b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + i64::from(b - b'0'))
        } else {
            Err(Malformed)
        }
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Dotted-decimal form of an OID's contents; `None` when malformed or an arc exceeds `u64`.
pub(crate) fn oid_to_string(oid: &[u8]) -> Option<String> {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    let mut pending = false;
    for &b in oid {
        if !pending && b == 0x80 {
            return None; // non-minimal encoding
        }
        value = value.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        pending = b & 0x80 != 0;
        if !pending {
            arcs.push(value);
            value = 0;
        }
    }
    if pending || arcs.is_empty() {
        return None;
    }
    let first = arcs[0];
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in &arcs[1..] {
        let _ = write!(out, ".{arc}");
    }
    Some(out)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// One attribute of a distinguished name, as read from the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawAttribute {
    /// Short name (`CN`, `O`, ...) or the dotted OID when the type has no short name.
    pub(crate) name: String,
    /// The decoded string value, or `None` when the value is not a string type we decode.
    pub(crate) value: Option<String>,
    /// The DER encoding of the value, for RFC 4514's `#hex` form.
    pub(crate) value_der: Vec<u8>,
}

/// A distinguished name: the RDNs in certificate order, each a set of attributes.
pub(crate) type RawName = Vec<Vec<RawAttribute>>;

/// Parses the contents of a `Name` (a SEQUENCE OF RelativeDistinguishedName).
pub(crate) fn parse_name(contents: &[u8]) -> Result<RawName, Malformed> {
    let mut rdns = Vec::new();
    let mut reader = Reader::new(contents);
    while !reader.is_empty() {
        let set = reader.read(SET)?;
        let mut attributes = Vec::new();
        let mut set_reader = Reader::new(set);
        while !set_reader.is_empty() {
            let atv = set_reader.read(SEQUENCE)?;
            let mut atv_reader = Reader::new(atv);
            let oid = atv_reader.read(OID)?;
            let (tag, value, value_der) = atv_reader.read_any()?;
            if !atv_reader.is_empty() {
                return Err(Malformed);
            }
            let name = match attribute_short_name(oid) {
                Some(short) => short.to_owned(),
                None => oid_to_string(oid).ok_or(Malformed)?,
            };
            attributes.push(RawAttribute {
                name,
                value: decode_string(tag, value),
                value_der: value_der.to_vec(),
            });
        }
        if attributes.is_empty() {
            return Err(Malformed);
        }
        rdns.push(attributes);
    }
    Ok(rdns)
}

fn attribute_short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x04] => "SN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "STREET",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x0c] => "title",
        [0x55, 0x04, 0x11] => "postalCode",
        [0x55, 0x04, 0x2a] => "GN",
        [0x55, 0x04, 0x2e] => "dnQualifier",
        [0x55, 0x04, 0x41] => "pseudonym",
        [0x55, 0x04, 0x61] => "organizationIdentifier",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        _ => return None,
    })
}

/// Decodes the string types X.520 names use; `None` for anything else or invalid content.
fn decode_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        // UTF8String
        0x0c => String::from_utf8(value.to_vec()).ok(),
        // NumericString, PrintableString, IA5String, VisibleString
        0x12 | 0x13 | 0x16 | 0x1a => value
            .is_ascii()
            .then(|| String::from_utf8(value.to_vec()).ok())
            .flatten(),
        // TeletexString: read as Latin-1, as most software does.
        0x14 => Some(value.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e => {
            if !value.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        // UniversalString: UTF-32BE.
        0x1c => {
            if !value.len().is_multiple_of(4) {
                return None;
            }
            value
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// Renders a name like API Gateway's `subjectDN`: RDNs in certificate order, separated by
/// `,`, multi-valued RDNs joined by `+`, values escaped as RFC 4514 section 2.4 says.
pub(crate) fn render_name(name: &RawName) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(&attribute.name);
            out.push('=');
            match &attribute.value {
                Some(value) => escape_value(value, &mut out),
                None => {
                    out.push('#');
                    out.push_str(&hex(&attribute.value_der));
                }
            }
        }
    }
    out
}

fn escape_value(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
}

/// A subject alternative name as read from the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawSan {
    Dns(String),
    Email(String),
    Uri(String),
    Ip(IpAddr),
    DirectoryName(RawName),
    /// `otherName` with its type OID, `registeredID` with its OID, or another kind.
    Other(String),
}

fn parse_san(contents: &[u8]) -> Result<Vec<RawSan>, Malformed> {
    let mut names = Vec::new();
    let mut reader = Reader::new(single(contents, SEQUENCE)?);
    while !reader.is_empty() {
        let (tag, value, _) = reader.read_any()?;
        let ascii = || {
            if value.is_ascii() {
                String::from_utf8(value.to_vec()).map_err(|_| Malformed)
            } else {
                Err(Malformed)
            }
        };
        names.push(match tag {
            0xa0 => {
                let type_id = Reader::new(value).read(OID)?;
                RawSan::Other(format!(
                    "otherName:{}",
                    oid_to_string(type_id).ok_or(Malformed)?
                ))
            }
            0x81 => RawSan::Email(ascii()?),
            0x82 => RawSan::Dns(ascii()?),
            0x86 => RawSan::Uri(ascii()?),
            0x87 => match value.len() {
                4 => RawSan::Ip(IpAddr::from(
                    <[u8; 4]>::try_from(value).map_err(|_| Malformed)?,
                )),
                16 => RawSan::Ip(IpAddr::from(
                    <[u8; 16]>::try_from(value).map_err(|_| Malformed)?,
                )),
                _ => return Err(Malformed),
            },
            0xa4 => RawSan::DirectoryName(parse_name(single(value, SEQUENCE)?)?),
            0x88 => RawSan::Other(format!(
                "registeredID:{}",
                oid_to_string(value).ok_or(Malformed)?
            )),
            0xa3 => RawSan::Other("x400Address".to_owned()),
            0xa5 => RawSan::Other("ediPartyName".to_owned()),
            _ => return Err(Malformed),
        });
    }
    Ok(names)
}

/// What the verifier reports about a certificate, read from its DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub(crate) serial: Vec<u8>,
    pub(crate) issuer: RawName,
    pub(crate) subject: RawName,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) sans: Vec<RawSan>,
    /// `Some(true)` when a keyUsage extension asserts digitalSignature, `Some(false)` when it is
    /// present without it, `None` when absent.
    pub(crate) digital_signature: Option<bool>,
    /// The extendedKeyUsage OIDs (contents), `None` when the extension is absent.
    pub(crate) extended_key_usages: Option<Vec<Vec<u8>>>,
}

const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// id-kp-clientAuth, 1.3.6.1.5.5.7.3.2.
pub(crate) const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

/// Reads a certificate's informational fields (RFC 5280 section 4.1).
pub(crate) fn parse_certificate(der: &[u8]) -> Result<CertInfo, Malformed> {
    let mut cert = Reader::new(single(der, SEQUENCE)?);
    let mut tbs = Reader::new(cert.read(SEQUENCE)?);
    tbs.read_optional(0xa0)?; // version
    let serial = tbs.read(INTEGER)?.to_vec();
    tbs.read(SEQUENCE)?; // signature algorithm
    let issuer = parse_name(tbs.read(SEQUENCE)?)?;
    let mut validity = Reader::new(tbs.read(SEQUENCE)?);
    let not_before = validity.read_time()?;
    let not_after = validity.read_time()?;
    let subject = parse_name(tbs.read(SEQUENCE)?)?;
    tbs.read(SEQUENCE)?; // subjectPublicKeyInfo
    tbs.read_optional(0x81)?; // issuerUniqueID
    tbs.read_optional(0x82)?; // subjectUniqueID
    let mut info = CertInfo {
        serial,
        issuer,
        subject,
        not_before,
        not_after,
        sans: Vec::new(),
        digital_signature: None,
        extended_key_usages: None,
    };
    if let Some(extensions) = tbs.read_optional(0xa3)? {
        let mut extensions = Reader::new(single(extensions, SEQUENCE)?);
        while !extensions.is_empty() {
            let mut extension = Reader::new(extensions.read(SEQUENCE)?);
            let id = extension.read(OID)?;
            extension.read_optional(BOOLEAN)?;
            let value = extension.read(OCTET_STRING)?;
            match id {
                OID_SAN => info.sans = parse_san(value)?,
                OID_KEY_USAGE => {
                    let bits = single(value, BIT_STRING)?;
                    // First byte: unused bits; digitalSignature is the first named bit.
                    info.digital_signature = Some(bits.get(1).is_some_and(|b| b & 0x80 != 0));
                }
                OID_EXT_KEY_USAGE => {
                    let mut oids = Reader::new(single(value, SEQUENCE)?);
                    let mut list = Vec::new();
                    while !oids.is_empty() {
                        list.push(oids.read(OID)?.to_vec());
                    }
                    info.extended_key_usages = Some(list);
                }
                _ => {}
            }
        }
    }
    if !tbs.is_empty() {
        return Err(Malformed);
    }
    Ok(info)
}

/// A CRL's `thisUpdate` and `nextUpdate` (RFC 5280 section 5.1), in seconds since the epoch.
pub(crate) fn crl_update_times(der: &[u8]) -> Result<(i64, Option<i64>), Malformed> {
    let mut list = Reader::new(single(der, SEQUENCE)?);
    let mut tbs = Reader::new(list.read(SEQUENCE)?);
    tbs.read_optional(INTEGER)?; // version
    tbs.read(SEQUENCE)?; // signature algorithm
    tbs.read(SEQUENCE)?; // issuer
    let this_update = tbs.read_time()?;
    let next_update = match tbs.peek_tag() {
        Some(UTC_TIME | GENERALIZED_TIME) => Some(tbs.read_time()?),
        _ => None,
    };
    Ok((this_update, next_update))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_known_instants() {
        assert_eq!(parse_time(b"700101000000Z", false), Ok(0));
        assert_eq!(parse_time(b"491231235959Z", false), Ok(2_524_607_999));
        assert_eq!(parse_time(b"500101000000Z", false), Ok(-631_152_000));
        assert_eq!(parse_time(b"20000229120000Z", true), Ok(951_825_600));
        assert_eq!(parse_time(b"99991231235959Z", true), Ok(253_402_300_799));
        assert_eq!(parse_time(b"20010229120000Z", true), Err(Malformed));
        assert_eq!(parse_time(b"20000229120000+", true), Err(Malformed));
        assert_eq!(parse_time(b"2000022912000Z", true), Err(Malformed));
    }

    #[test]
    fn oids_render_dotted() {
        assert_eq!(
            oid_to_string(&[0x55, 0x04, 0x03]).as_deref(),
            Some("2.5.4.3")
        );
        assert_eq!(
            oid_to_string(OID_CLIENT_AUTH).as_deref(),
            Some("1.3.6.1.5.5.7.3.2")
        );
        assert_eq!(oid_to_string(&[0x2a, 0x86]), None);
        assert_eq!(oid_to_string(&[]), None);
    }

    #[test]
    fn name_values_are_escaped() {
        let render = |value: &str| {
            render_name(&vec![vec![RawAttribute {
                name: "CN".into(),
                value: Some(value.into()),
                value_der: Vec::new(),
            }]])
        };
        assert_eq!(render("#a,b+c\\ "), r"CN=\#a\,b\+c\\\ ");
        assert_eq!(render(" x#y"), r"CN=\ x#y");
        assert_eq!(render("a\nb"), r"CN=a\0ab");
    }

    #[test]
    fn lengths_past_the_input_are_malformed() {
        assert_eq!(Reader::new(&[0x30, 0x05, 0x00]).read_any(), Err(Malformed));
        assert_eq!(Reader::new(&[0x30, 0x80]).read_any(), Err(Malformed));
        assert_eq!(
            Reader::new(&[0x30, 0x84, 0xff, 0xff]).read_any(),
            Err(Malformed)
        );
        assert_eq!(Reader::new(&[0x1f, 0x00]).read_any(), Err(Malformed));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_certificate(&bytes);
            let _ = crl_update_times(&bytes);
            let _ = parse_name(&bytes);
            let _ = parse_san(&bytes);
            let _ = oid_to_string(&bytes);
        }
    }
}
