//! Splitting and decoding a compact JWS, before anything about it is trusted.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::error::{JwtError, JwtErrorKind, quoted};
use super::key::Algorithm;

/// Decodes unpadded, canonical base64url (RFC 7515, section 2): padding and non-zero trailing
/// bits are errors.
pub(crate) fn b64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

/// Encodes bytes as unpadded base64url.
#[cfg(test)]
pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The header members this crate reads. Unknown members are ignored, but a member named twice
/// is an error (serde's derive refuses duplicate fields), so two parsers can never read two
/// different `alg`s or `kid`s from the same header.
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Presence,
}

/// Whether a header member is there at all, whatever its value (`null` included).
#[derive(Default)]
struct Presence(bool);

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Self(true))
    }
}

/// The parts of a token after decoding, none of them verified yet.
pub(crate) struct Unverified<'t> {
    /// The header's `alg`, one this crate verifies.
    pub(crate) alg: Algorithm,
    /// The header's `kid`.
    pub(crate) kid: String,
    /// The claims, each name once.
    pub(crate) claims: Map<String, Value>,
    /// `<header>.<payload>`, the bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
    /// The decoded signature.
    pub(crate) signature: Vec<u8>,
}

fn malformed(detail: impl Into<String>) -> JwtError {
    JwtError::new(JwtErrorKind::Malformed, detail)
}

/// Splits and decodes `token`, checking everything that needs no key: size, shape, base64url,
/// JSON, `alg`, `crit` and `kid`.
///
/// # Errors
/// [`JwtErrorKind::TooLarge`], [`JwtErrorKind::Malformed`],
/// [`JwtErrorKind::UnsupportedAlgorithm`], [`JwtErrorKind::CriticalHeader`] or
/// [`JwtErrorKind::MissingKid`].
pub(crate) fn decode(token: &str, max_bytes: usize) -> Result<Unverified<'_>, JwtError> {
    if token.len() > max_bytes {
        return Err(JwtError::new(
            JwtErrorKind::TooLarge,
            format!("{} bytes, more than {max_bytes}", token.len()),
        ));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        let count = token.split('.').count();
        return Err(malformed(format!("{count} segments, a compact jws has 3")));
    };

    let header_json = b64url(header).map_err(|_| malformed("the header is not base64url"))?;
    let raw: RawHeader<'_> = serde_json::from_slice(&header_json)
        .map_err(|e| malformed(format!("the header is not a valid json object: {e}")))?;
    let alg_name = raw
        .alg
        .ok_or_else(|| JwtError::new(JwtErrorKind::UnsupportedAlgorithm, "no alg in the header"))?;
    let alg = Algorithm::from_name(&alg_name).ok_or_else(|| {
        JwtError::new(
            JwtErrorKind::UnsupportedAlgorithm,
            format!("alg {} is not accepted", quoted(&alg_name)),
        )
    })?;
    if raw.crit.0 {
        return Err(JwtError::new(
            JwtErrorKind::CriticalHeader,
            "the header has crit; no extension is supported",
        ));
    }
    let kid = match raw.kid {
        Some(kid) if !kid.is_empty() => kid.into_owned(),
        _ => {
            return Err(JwtError::new(
                JwtErrorKind::MissingKid,
                "no kid in the header",
            ));
        }
    };

    let payload_json = b64url(payload).map_err(|_| malformed("the payload is not base64url"))?;
    let claims = serde_json::from_slice::<UniqueClaims>(&payload_json)
        .map_err(|e| malformed(format!("the payload is not a valid json object: {e}")))?
        .0;
    if signature.is_empty() {
        return Err(JwtError::new(
            JwtErrorKind::InvalidSignature,
            "the signature is empty",
        ));
    }
    let signature = b64url(signature).map_err(|_| malformed("the signature is not base64url"))?;
    let signing_input = &token.as_bytes()[..header.len() + 1 + payload.len()];
    Ok(Unverified {
        alg,
        kid,
        claims,
        signing_input,
        signature,
    })
}

/// A JSON object whose member names are all different. serde_json's own `Map` keeps the last
/// of a duplicated name; a token whose `exp` or `iss` appears twice is refused instead, as
/// RFC 7519 (section 4) allows and as avoids disagreeing with another parser about it.
struct UniqueClaims(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueClaims {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Claims;
        impl<'de> Visitor<'de> for Claims {
            type Value = UniqueClaims;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a json object of claims")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueClaims, A::Error> {
                let mut map = Map::new();
                while let Some(name) = access.next_key::<String>()? {
                    match map.entry(name) {
                        serde_json::map::Entry::Occupied(taken) => {
                            return Err(de::Error::custom(format_args!(
                                "duplicate claim {}",
                                quoted(taken.key())
                            )));
                        }
                        serde_json::map::Entry::Vacant(free) => {
                            free.insert(access.next_value()?);
                        }
                    }
                }
                Ok(UniqueClaims(map))
            }
        }
        deserializer.deserialize_map(Claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64url_encode(header.as_bytes()),
            b64url_encode(payload.as_bytes()),
            b64url_encode(signature)
        )
    }

    fn kind(token: &str) -> JwtErrorKind {
        match decode(token, 8192) {
            Ok(_) => panic!("{token} decoded"),
            Err(e) => e.kind(),
        }
    }

    const HEADER: &str = r#"{"alg":"RS256","kid":"k1"}"#;

    #[test]
    fn decodes_a_well_formed_token() {
        let t = token(HEADER, r#"{"iss":"x","exp":1}"#, b"sig");
        let decoded = decode(&t, 8192).expect("decodes");
        assert_eq!(decoded.alg, Algorithm::Rs256);
        assert_eq!(decoded.kid, "k1");
        assert_eq!(decoded.claims["iss"], "x");
        assert_eq!(decoded.signature, b"sig");
        assert_eq!(
            decoded.signing_input,
            t.rsplit_once('.')
                .map(|(input, _)| input.as_bytes())
                .unwrap_or_default()
        );
    }

    #[test]
    fn segment_counts_other_than_three_are_malformed() {
        let t = token(HEADER, "{}", b"sig");
        let (head, _) = t.rsplit_once('.').unwrap_or_default();
        assert_eq!(kind(head), JwtErrorKind::Malformed);
        assert_eq!(kind(&format!("{t}.e30")), JwtErrorKind::Malformed);
        assert_eq!(kind(""), JwtErrorKind::Malformed);
    }

    #[test]
    fn padding_and_non_canonical_base64url_are_malformed() {
        let t = token(HEADER, r#"{"a":1}"#, b"sig");
        let (head, sig) = t.rsplit_once('.').unwrap_or_default();
        assert_eq!(kind(&format!("{head}.{sig}=")), JwtErrorKind::Malformed);
        assert_eq!(kind(&format!("{head}.{sig}+")), JwtErrorKind::Malformed);
        // One zero byte: "AA" is canonical, "AB" decodes to it too but with a non-zero
        // trailing bit.
        assert!(decode(&format!("{head}.AA"), 8192).is_ok());
        assert_eq!(kind(&format!("{head}.AB")), JwtErrorKind::Malformed);
    }

    #[test]
    fn json_problems_are_malformed() {
        assert_eq!(kind(&token("{", "{}", b"s")), JwtErrorKind::Malformed);
        assert_eq!(kind(&token("[]", "{}", b"s")), JwtErrorKind::Malformed);
        assert_eq!(kind(&token(HEADER, "{", b"s")), JwtErrorKind::Malformed);
        assert_eq!(kind(&token(HEADER, "[1]", b"s")), JwtErrorKind::Malformed);
        assert_eq!(kind(&token(HEADER, "\"x\"", b"s")), JwtErrorKind::Malformed);
        assert_eq!(
            kind(&token(r#"{"alg":"RS256","kid":7}"#, "{}", b"s")),
            JwtErrorKind::Malformed
        );
    }

    #[test]
    fn duplicated_header_members_and_claims_are_malformed() {
        let dup_alg = r#"{"alg":"RS256","alg":"none","kid":"k"}"#;
        assert_eq!(kind(&token(dup_alg, "{}", b"s")), JwtErrorKind::Malformed);
        let dup_kid = r#"{"alg":"RS256","kid":"a","kid":"b"}"#;
        assert_eq!(kind(&token(dup_kid, "{}", b"s")), JwtErrorKind::Malformed);
        let dup_exp = r#"{"exp":1,"exp":99999999999}"#;
        assert_eq!(kind(&token(HEADER, dup_exp, b"s")), JwtErrorKind::Malformed);
    }

    #[test]
    fn none_and_hmac_are_unsupported() {
        for alg in [
            "none", "None", "NONE", "HS256", "HS384", "HS512", "PS256", "",
        ] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k1"}}"#);
            assert_eq!(
                kind(&token(&header, "{}", b"")),
                JwtErrorKind::UnsupportedAlgorithm,
                "{alg}"
            );
        }
        assert_eq!(
            kind(&token(r#"{"kid":"k1"}"#, "{}", b"s")),
            JwtErrorKind::UnsupportedAlgorithm
        );
    }

    #[test]
    fn crit_is_refused() {
        for crit in [r#"["exp"]"#, "[]", "null", "1"] {
            let header = format!(r#"{{"alg":"RS256","kid":"k1","crit":{crit},"exp":1}}"#);
            assert_eq!(
                kind(&token(&header, "{}", b"s")),
                JwtErrorKind::CriticalHeader
            );
        }
    }

    #[test]
    fn missing_or_empty_kid() {
        assert_eq!(
            kind(&token(r#"{"alg":"RS256"}"#, "{}", b"s")),
            JwtErrorKind::MissingKid
        );
        assert_eq!(
            kind(&token(r#"{"alg":"RS256","kid":""}"#, "{}", b"s")),
            JwtErrorKind::MissingKid
        );
    }

    #[test]
    fn size_limit() {
        let t = token(HEADER, "{}", b"s");
        assert!(decode(&t, t.len()).is_ok());
        assert_eq!(
            decode(&t, t.len() - 1).err().map(|e| e.kind()),
            Some(JwtErrorKind::TooLarge)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "\\PC{0,300}") {
            let _ = decode(&input, 8192);
        }

        #[test]
        fn never_panics_on_three_segments(a in "[A-Za-z0-9_-]{0,60}", b in "[A-Za-z0-9_-]{0,60}", c in "[A-Za-z0-9_-]{0,60}") {
            let _ = decode(&format!("{a}.{b}.{c}"), 8192);
        }
    }
}
