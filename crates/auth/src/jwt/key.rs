//! Signature algorithms and the keys of a JWKS, each pinned to the algorithms it may verify.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use serde_json::{Map, Value};

use super::error::{JwtError, JwtErrorKind, quoted};
use super::token::b64url;

/// The smallest RSA modulus accepted, in bits (NIST SP 800-57, and the floor of aws-lc-rs's
/// `RSA_PKCS1_2048_8192_*`).
const MIN_RSA_BITS: usize = 2048;
/// The largest: aws-lc-rs's ceiling, which also bounds the work one verification can cost.
const MAX_RSA_BITS: usize = 8192;

/// A JWS signature algorithm this crate verifies.
///
/// There is deliberately no `none` and no HMAC (`HS256`, ...): a verifier that holds only
/// public keys must never accept a token it could have forged itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`), what Cognito signs with.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (`RS384`).
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (`RS512`).
    Rs512,
    /// ECDSA on P-256 with SHA-256 (`ES256`).
    Es256,
    /// ECDSA on P-384 with SHA-384 (`ES384`).
    Es384,
    /// EdDSA on Ed25519 (`EdDSA`, RFC 8037).
    EdDsa,
}

impl Algorithm {
    /// The algorithm's name in a JOSE header (`"RS256"`, `"EdDSA"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm named `name` (exact, case-sensitive JOSE name), or `None` for any name
    /// this crate does not verify, `none` and `HS256` included.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" => Self::EdDsa,
            _ => return None,
        })
    }

    const RSA: [Self; 3] = [Self::Rs256, Self::Rs384, Self::Rs512];

    fn rsa_parameters(self) -> Option<&'static signature::RsaParameters> {
        match self {
            Self::Rs256 => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
            Self::Rs384 => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
            Self::Rs512 => Some(&signature::RSA_PKCS1_2048_8192_SHA512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A public key from a JWKS with the algorithms it may verify: exactly the JWK's `alg` when it
/// has one, otherwise those its `kty` and `crv` allow (the three RSA ones for an RSA key, one
/// for each curve).
pub(crate) struct VerifyingKey {
    /// One parsed key per permitted algorithm: parsing once keeps it out of every verification.
    permitted: Vec<(Algorithm, ParsedPublicKey)>,
}

impl VerifyingKey {
    /// Checks `signature` over `message` with this key for `alg`.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), JwtError> {
        let Some((_, key)) = self.permitted.iter().find(|(a, _)| *a == alg) else {
            let permitted: Vec<&str> = self.permitted.iter().map(|(a, _)| a.name()).collect();
            return Err(JwtError::new(
                JwtErrorKind::KeyMismatch,
                format!(
                    "the token's alg is {alg}, the key may only verify {}",
                    permitted.join(", ")
                ),
            ));
        };
        key.verify_sig(message, signature)
            .map_err(|_| JwtError::new(JwtErrorKind::InvalidSignature, "signature mismatch"))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algs: Vec<&str> = self.permitted.iter().map(|(a, _)| a.name()).collect();
        f.debug_struct("VerifyingKey")
            .field("algorithms", &algs)
            .finish_non_exhaustive()
    }
}

/// What a `kid` of a JWKS leads to.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    /// A usable key.
    Key(Arc<VerifyingKey>),
    /// A key that must not be used: several keys with this `kid`, or a key that is not a
    /// signature key this crate can use. Tokens naming it are refused without a refetch.
    Refused(JwtErrorKind, String),
}

/// A parsed JWKS: each `kid` to its key, or to why it is refused.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    slots: HashMap<String, Slot>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`).
    ///
    /// The document must be a JSON object with a `keys` array, or it is an error as a whole.
    /// Each key is judged alone: an unusable key or a duplicated `kid` refuses only that `kid`;
    /// keys without a `kid` are skipped, as no token could name them.
    pub(crate) fn parse(document: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(document).map_err(|e| format!("the jwks is not json: {e}"))?;
        let Some(keys) = value.get("keys").and_then(Value::as_array) else {
            return Err("the jwks is not an object with a \"keys\" array".into());
        };
        let mut slots: HashMap<String, Slot> = HashMap::with_capacity(keys.len());
        for jwk in keys {
            let Some(object) = jwk.as_object() else {
                continue;
            };
            let Some(kid) = object.get("kid").and_then(Value::as_str) else {
                continue;
            };
            let slot = match parse_jwk(object) {
                Ok(key) => Slot::Key(Arc::new(key)),
                Err(reason) => Slot::Refused(JwtErrorKind::KeyMismatch, reason),
            };
            match slots.get_mut(kid) {
                Some(existing) => {
                    *existing = Slot::Refused(
                        JwtErrorKind::AmbiguousKid,
                        format!("the jwks has several keys with kid {}", quoted(kid)),
                    );
                }
                None => {
                    slots.insert(kid.to_owned(), slot);
                }
            }
        }
        Ok(Self { slots })
    }

    /// The slot for `kid`, if the JWKS names it.
    pub(crate) fn get(&self, kid: &str) -> Option<&Slot> {
        self.slots.get(kid)
    }

    /// How many `kid`s the JWKS names.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

fn string_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("the key's {name} is not a string")),
    }
}

fn required_bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let text = string_member(jwk, name)?.ok_or_else(|| format!("the key has no {name}"))?;
    b64url(text).map_err(|_| format!("the key's {name} is not base64url"))
}

/// Turns one JWK into a verifying key, or says why it may not verify anything.
fn parse_jwk(jwk: &Map<String, Value>) -> Result<VerifyingKey, String> {
    if let Some(usage) = string_member(jwk, "use")?
        && usage != "sig"
    {
        return Err(format!("the key's use is {}, not \"sig\"", quoted(usage)));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("the key's key_ops do not include \"verify\"".into());
        }
    }
    let pinned = match string_member(jwk, "alg")? {
        None => None,
        Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
            format!(
                "the key's alg {} is not a supported signature algorithm",
                quoted(name)
            )
        })?),
    };
    let kty = string_member(jwk, "kty")?.ok_or("the key has no kty")?;
    let crv = string_member(jwk, "crv")?;
    let permitted = match kty {
        "RSA" => rsa_key(jwk, pinned)?,
        "EC" => {
            let (alg, params, size) = match crv {
                Some("P-256") => (Algorithm::Es256, &signature::ECDSA_P256_SHA256_FIXED, 32),
                Some("P-384") => (Algorithm::Es384, &signature::ECDSA_P384_SHA384_FIXED, 48),
                Some(other) => return Err(format!("unsupported EC curve {}", quoted(other))),
                None => return Err("the EC key has no crv".into()),
            };
            check_pinned(pinned, alg, kty)?;
            let x = required_bytes(jwk, "x")?;
            let y = required_bytes(jwk, "y")?;
            if x.len() != size || y.len() != size {
                return Err(format!("the {alg} key's x and y are not {size} bytes each"));
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(params, &point)
                .map_err(|e| format!("the {alg} key is not a point on its curve: {e}"))?;
            vec![(alg, key)]
        }
        "OKP" => {
            match crv {
                Some("Ed25519") => {}
                Some(other) => return Err(format!("unsupported OKP curve {}", quoted(other))),
                None => return Err("the OKP key has no crv".into()),
            }
            check_pinned(pinned, Algorithm::EdDsa, kty)?;
            let x = required_bytes(jwk, "x")?;
            if x.len() != 32 {
                return Err("the Ed25519 key's x is not 32 bytes".into());
            }
            let key = ParsedPublicKey::new(&signature::ED25519, &x)
                .map_err(|e| format!("the Ed25519 key is invalid: {e}"))?;
            vec![(Algorithm::EdDsa, key)]
        }
        other => return Err(format!("unsupported key type {}", quoted(other))),
    };
    Ok(VerifyingKey { permitted })
}

fn check_pinned(pinned: Option<Algorithm>, fits: Algorithm, kty: &str) -> Result<(), String> {
    match pinned {
        Some(alg) if alg != fits => Err(format!("the key's alg {alg} does not fit its kty {kty}")),
        _ => Ok(()),
    }
}

fn rsa_key(
    jwk: &Map<String, Value>,
    pinned: Option<Algorithm>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, String> {
    let algs: &[Algorithm] = match pinned {
        Some(alg) if alg.rsa_parameters().is_some() => &[alg][..],
        Some(alg) => return Err(format!("the key's alg {alg} does not fit its kty RSA")),
        None => &Algorithm::RSA,
    };
    let n = required_bytes(jwk, "n")?;
    let e = required_bytes(jwk, "e")?;
    // RFC 7518 forbids leading zero octets, yet some issuers add one; aws-lc wants none.
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = n.first().map_or(0, |top| {
        (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(format!(
            "the RSA modulus has {bits} bits, not {MIN_RSA_BITS} to {MAX_RSA_BITS}"
        ));
    }
    // An odd exponent from 3 to 2^32 + 1 (65537 in practice): e = 1 would make every padded
    // message its own signature.
    let exponent = (e.len() <= 5)
        .then(|| e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        .filter(|&e| e >= 3 && e % 2 == 1 && e <= (1 << 32) + 1);
    if exponent.is_none() {
        return Err("the RSA public exponent is not an odd number from 3 to 2^32 + 1".into());
    }
    let components = RsaPublicKeyComponents { n, e };
    algs.iter()
        .map(|&alg| {
            let params = alg.rsa_parameters().ok_or("not an RSA algorithm")?;
            components
                .to_parsed_public_key(params)
                .map(|key| (alg, key))
                .map_err(|e| format!("the RSA key is invalid: {e}"))
        })
        .collect()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(jwks: &str, kid: &str) -> (JwtErrorKind, String) {
        match KeySet::parse(jwks.as_bytes()).expect("a jwks").get(kid) {
            Some(Slot::Refused(kind, why)) => (*kind, why.clone()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in [
            Algorithm::Rs256,
            Algorithm::Rs384,
            Algorithm::Rs512,
            Algorithm::Es256,
            Algorithm::Es384,
            Algorithm::EdDsa,
        ] {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for name in [
            "none", "None", "HS256", "HS384", "HS512", "PS256", "ES512", "rs256", "",
        ] {
            assert_eq!(Algorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn documents_that_are_not_a_jwks_are_errors() {
        for doc in ["", "[]", "{}", r#"{"keys":{}}"#, "null", r#"{"keys":"x"}"#] {
            assert!(KeySet::parse(doc.as_bytes()).is_err(), "{doc}");
        }
        assert_eq!(KeySet::parse(br#"{"keys":[]}"#).map(|s| s.len()), Ok(0));
    }

    #[test]
    fn symmetric_and_unknown_keys_are_refused() {
        let (kind, why) = refusal(r#"{"keys":[{"kid":"k","kty":"oct","k":"c2VjcmV0"}]}"#, "k");
        assert_eq!(kind, JwtErrorKind::KeyMismatch);
        assert!(why.contains("oct"), "{why}");
        let (_, why) = refusal(r#"{"keys":[{"kid":"k","kty":"RSA","alg":"HS256"}]}"#, "k");
        assert!(why.contains("HS256"), "{why}");
    }

    #[test]
    fn encryption_keys_are_refused() {
        let (_, why) = refusal(r#"{"keys":[{"kid":"k","kty":"RSA","use":"enc"}]}"#, "k");
        assert!(why.contains("enc"), "{why}");
        let (_, why) = refusal(
            r#"{"keys":[{"kid":"k","kty":"RSA","key_ops":["encrypt"]}]}"#,
            "k",
        );
        assert!(why.contains("key_ops"), "{why}");
    }

    #[test]
    fn small_rsa_moduli_are_refused() {
        // A 1024-bit modulus: 128 bytes, top bit set.
        let n = crate::jwt::token::b64url_encode(&[0xC5; 128]);
        let jwks = format!(r#"{{"keys":[{{"kid":"k","kty":"RSA","n":"{n}","e":"AQAB"}}]}}"#);
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("1024 bits"), "{why}");
        // With a leading zero octet (which some issuers add), still 1024 bits.
        let mut padded = vec![0];
        padded.extend([0xC5; 128]);
        let n = crate::jwt::token::b64url_encode(&padded);
        let jwks = format!(r#"{{"keys":[{{"kid":"k","kty":"RSA","n":"{n}","e":"AQAB"}}]}}"#);
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("1024 bits"), "{why}");
        let n = crate::jwt::token::b64url_encode(&[0xC5; 1025]);
        let jwks = format!(r#"{{"keys":[{{"kid":"k","kty":"RSA","n":"{n}","e":"AQAB"}}]}}"#);
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("8200 bits"), "{why}");
    }

    #[test]
    fn weak_rsa_exponents_are_refused() {
        let n = crate::jwt::token::b64url_encode(&[0xC5; 256]);
        // 1, 2, 65536 and 2^40 + 1.
        for e in ["AQ", "Ag", "AQAA", "AQAAAAAB"] {
            let jwks = format!(r#"{{"keys":[{{"kid":"k","kty":"RSA","n":"{n}","e":"{e}"}}]}}"#);
            let (_, why) = refusal(&jwks, "k");
            assert!(why.contains("exponent"), "{e}: {why}");
        }
    }

    #[test]
    fn duplicated_kids_are_ambiguous() {
        let (kind, _) = refusal(
            r#"{"keys":[{"kid":"k","kty":"oct"},{"kid":"k","kty":"oct"},{"kid":"k","kty":"oct"}]}"#,
            "k",
        );
        assert_eq!(kind, JwtErrorKind::AmbiguousKid);
    }

    #[test]
    fn mismatched_alg_and_curve_are_refused() {
        let x = crate::jwt::token::b64url_encode(&[1; 32]);
        let jwks = format!(
            r#"{{"keys":[{{"kid":"k","kty":"EC","crv":"P-256","alg":"ES384","x":"{x}","y":"{x}"}}]}}"#
        );
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("ES384"), "{why}");
        let jwks = format!(r#"{{"keys":[{{"kid":"k","kty":"OKP","crv":"X25519","x":"{x}"}}]}}"#);
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("X25519"), "{why}");
    }

    #[test]
    fn points_off_the_curve_are_refused() {
        let x = crate::jwt::token::b64url_encode(&[1; 32]);
        let jwks =
            format!(r#"{{"keys":[{{"kid":"k","kty":"EC","crv":"P-256","x":"{x}","y":"{x}"}}]}}"#);
        let (_, why) = refusal(&jwks, "k");
        assert!(why.contains("not a point"), "{why}");
    }
}
