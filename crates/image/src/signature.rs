//! Signed URLs and `expires`, as Serverless Image Handler checks them (`ENABLE_SIGNATURE`).
//!
//! The signature is the lowercase hex HMAC-SHA256, keyed with the secret, of the request path
//! ([`SignatureMode::PathOnly`], v6) or of the path, `?` and the query string rebuilt from the
//! query parameters without `signature` ([`SignatureMode::PathAndQuery`], v7 and v8): each
//! parameter as `key=value` with its raw (decoded) value, sorted as JavaScript sorts the
//! entries, joined by `&`. It travels in the `signature` query parameter and is compared in
//! constant time.
//!
//! Application code signs URLs with [`sign_url`]; the handler checks them with [`verify`] and
//! [`check_expires`]. Pure: no I/O.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::{Error, ErrorKind, Result};

/// The query parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "signature";
/// The query parameter that carries the expiry time, `YYYYMMDDTHHmmssZ` in UTC.
pub const EXPIRES_PARAM: &str = "expires";

/// What the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureMode {
    /// The path only, as Serverless Image Handler v6 signs.
    PathOnly,
    /// The path and the sorted query string without `signature`, as v7 and v8 sign.
    #[default]
    PathAndQuery,
}

impl SignatureMode {
    /// Parses a mode name: `path` or `v6` for [`SignatureMode::PathOnly`]; `path-and-query`,
    /// `v7` or `v8` for [`SignatureMode::PathAndQuery`] (case-insensitive); `None` otherwise.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "path" | "path-only" | "pathonly" | "v6" => Some(Self::PathOnly),
            "path-and-query" | "pathandquery" | "v7" | "v8" => Some(Self::PathAndQuery),
            _ => None,
        }
    }
}

/// The query string Serverless Image Handler v7+ signs (its `recreateQueryString`): every
/// parameter but `signature` as `key=value` (raw values, no encoding), sorted as JavaScript's
/// `Array.prototype.sort` sorts `[key, value]` entries (by the string `key,value`, UTF-16 code
/// unit order), joined by `&`.
pub fn query_string_to_sign(query: &BTreeMap<String, String>) -> String {
    let mut entries: Vec<(String, &str, &str)> = query
        .iter()
        .filter(|(key, _)| key.as_str() != SIGNATURE_PARAM)
        .map(|(key, value)| (format!("{key},{value}"), key.as_str(), value.as_str()))
        .collect();
    // A stable sort, as JavaScript's: ties keep the map's order.
    entries.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
    let mut out = String::new();
    for (i, (_, key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The string the signature covers: the path, or the path, `?` and
/// [`query_string_to_sign`] when that is not empty.
pub fn string_to_sign(path: &str, query: &BTreeMap<String, String>, mode: SignatureMode) -> String {
    match mode {
        SignatureMode::PathOnly => path.to_owned(),
        SignatureMode::PathAndQuery => {
            let query = query_string_to_sign(query);
            if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            }
        }
    }
}

fn mac(secret: &[u8], message: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message.as_bytes());
    mac
}

/// The signature of a request: lowercase hex HMAC-SHA256 of [`string_to_sign`] keyed with
/// `secret`. A `signature` parameter already in `query` is ignored.
pub fn signature(
    path: &str,
    query: &BTreeMap<String, String>,
    secret: &[u8],
    mode: SignatureMode,
) -> String {
    hex::encode(
        mac(secret, &string_to_sign(path, query, mode))
            .finalize()
            .into_bytes(),
    )
}

/// A signed URL path for application code: `path`, then `?`, the query parameters and
/// `signature=...` last. Keys and values are percent-encoded for the URL; the signature covers
/// their decoded form, which is what the handler receives from API Gateway.
pub fn sign_url(
    path: &str,
    query: &BTreeMap<String, String>,
    secret: &[u8],
    mode: SignatureMode,
) -> String {
    let sig = signature(path, query, secret, mode);
    let mut url = String::from(path);
    let mut first = true;
    for (key, value) in query.iter().filter(|(k, _)| k.as_str() != SIGNATURE_PARAM) {
        url.push(if first { '?' } else { '&' });
        first = false;
        url.push_str(&encode_component(key));
        url.push('=');
        url.push_str(&encode_component(value));
    }
    url.push(if first { '?' } else { '&' });
    url.push_str(SIGNATURE_PARAM);
    url.push('=');
    url.push_str(&sig);
    url
}

/// Encodes as JavaScript's `encodeURIComponent` does.
fn encode_component(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// The 400 for a request without a (non-empty) `signature` parameter.
pub fn missing_signature() -> Error {
    Error::new(
        400,
        "AuthorizationQueryParametersError",
        "Query-string requires the signature parameter.",
    )
    .with_kind(ErrorKind::Forbidden)
}

/// The 403 for a signature that does not match.
pub fn signature_mismatch() -> Error {
    Error::new(403, "SignatureDoesNotMatch", "Signature does not match.")
}

/// The 500 for a failure to check the signature (the secret could not be read).
pub fn validation_failure() -> Error {
    Error::new(
        500,
        "SignatureValidationFailure",
        "Signature validation failed.",
    )
}

/// Whether the request carries a non-empty `signature` parameter (checked before the secret
/// is fetched, as Serverless Image Handler does).
pub fn has_signature(query: &BTreeMap<String, String>) -> bool {
    query.get(SIGNATURE_PARAM).is_some_and(|s| !s.is_empty())
}

/// Checks a request's `signature` parameter against `secret`, comparing in constant time.
///
/// # Errors
/// 400 `AuthorizationQueryParametersError` when `signature` is missing or empty; 403
/// `SignatureDoesNotMatch` when it differs in any way (case included, as Serverless Image
/// Handler compares the strings).
pub fn verify(
    path: &str,
    query: &BTreeMap<String, String>,
    secret: &[u8],
    mode: SignatureMode,
) -> Result<()> {
    let given = match query.get(SIGNATURE_PARAM) {
        Some(s) if !s.is_empty() => s,
        _ => return Err(missing_signature()),
    };
    let expected = signature(path, query, secret, mode);
    // Lengths are public (always 64 for a well-formed signature); the bytes are compared in
    // constant time.
    if given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(signature_mismatch())
    }
}

const EXPIRY_FORMAT_MESSAGE: &str = "Request has invalid expires value. The expires query param should map to a real date and follow the following format: YYYYMMDDTHHmmssZ (Ex: Jan 2nd, 1970 at 12:03:04PM UTC becomes 19700102T120304Z).";

/// The 400 for an `expires` value that is not a real `YYYYMMDDTHHmmssZ` time.
pub fn expiry_format_error() -> Error {
    Error::new(400, "ImageRequestExpiryFormat", EXPIRY_FORMAT_MESSAGE)
}

/// The 400 for an `expires` time in the past.
pub fn expired_error() -> Error {
    Error::new(400, "ImageRequestExpired", "Request has expired.").with_kind(ErrorKind::Expired)
}

/// Parses `YYYYMMDDTHHmmssZ` strictly, as dayjs's strict parse does: exactly that shape, a
/// real calendar date and time of day; `None` otherwise.
pub fn parse_expires(value: &str) -> Option<OffsetDateTime> {
    let b = value.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = digits(0..4)?;
    // JavaScript's Date.UTC maps years 0..=99 to 1900..=1999, so dayjs's strict check
    // rejects them.
    if year < 100 {
        return None;
    }
    let month = Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()?;
    let time = Time::from_hms(
        u8::try_from(digits(9..11)?).ok()?,
        u8::try_from(digits(11..13)?).ok()?,
        u8::try_from(digits(13..15)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Checks the `expires` parameter at time `now`: `Ok(None)` without one, `Ok(Some(seconds))`
/// left until it (whole seconds, rounded down, as dayjs's `diff`) when it is still ahead.
///
/// # Errors
/// 400 `ImageRequestExpiryFormat` for a malformed or impossible time; 400
/// `ImageRequestExpired` for a time before `now`.
pub fn check_expires(query: &BTreeMap<String, String>, now: OffsetDateTime) -> Result<Option<u64>> {
    let Some(value) = query.get(EXPIRES_PARAM) else {
        return Ok(None);
    };
    let expiry = parse_expires(value).ok_or_else(expiry_format_error)?;
    if expiry < now {
        return Err(expired_error());
    }
    let seconds = (expiry - now).whole_seconds();
    Ok(Some(u64::try_from(seconds).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_string_sorts_entries_as_javascript() {
        // "a+" sorts before "a" in JavaScript ("a+,1" < "a,2": '+' is 0x2B, ',' is 0x2C),
        // the other way round in a BTreeMap.
        assert_eq!(
            query_string_to_sign(&q(&[("a", "2"), ("a+", "1")])),
            "a+=1&a=2"
        );
        assert_eq!(
            query_string_to_sign(&q(&[("signature", "x"), ("b", "1"), ("a", "")])),
            "a=&b=1"
        );
    }

    #[test]
    fn expires_parses_strictly() {
        assert!(parse_expires("20300102T030405Z").is_some());
        for bad in [
            "20300230T000000Z",
            "20301301T000000Z",
            "20300101T240000Z",
            "20300101T006000Z",
            "00990101T000000Z",
            "2030-101T000000Z",
            "20300101T000000z",
            "+0300101T000000Z",
            "",
            "20300101T000000Zé",
        ] {
            assert!(parse_expires(bad).is_none(), "{bad}");
        }
    }
}
