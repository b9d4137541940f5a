//! Why a token was refused, as a value a handler (and a test) can match on.

use std::fmt;

/// Which check refused a token, or why a verifier could not be built.
///
/// Every kind denies. [`JwtErrorKind::status`] gives the HTTP status API Gateway should answer
/// with: 401 for a token that is not valid, 403 for a valid token that lacks a required group
/// or scope, 500 for a verifier that is misconfigured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwtErrorKind {
    /// The identity source is not exactly `Bearer <token>`: empty, another scheme, no token,
    /// extra or missing spaces.
    NotBearer,
    /// The token is longer than the verifier's maximum (see
    /// [`JwtVerifierBuilder::max_token_bytes`](super::JwtVerifierBuilder::max_token_bytes)).
    TooLarge,
    /// Not a compact JWS: not three segments, bad base64url, header or payload not a JSON
    /// object, a duplicated header member or claim, a header member of the wrong type.
    Malformed,
    /// The header's `alg` is `none`, an HMAC algorithm (`HS256`, ...) or any algorithm this
    /// crate does not verify.
    UnsupportedAlgorithm,
    /// The header has a `crit` member: no extension is understood, so none may be critical.
    CriticalHeader,
    /// The header has no `kid`, so no key can be chosen.
    MissingKid,
    /// The issuer's JWKS has no key with the token's `kid`, also after the one refetch allowed
    /// per cooldown.
    UnknownKid,
    /// The issuer's JWKS has more than one key with the token's `kid`.
    AmbiguousKid,
    /// The key with the token's `kid` may not verify this token: its `alg` differs from the
    /// token's, its `use` is not `sig`, its `kty` or `crv` does not fit the algorithm, an RSA
    /// modulus is shorter than 2048 bits, or the key itself is malformed.
    KeyMismatch,
    /// The signature does not verify with the key.
    InvalidSignature,
    /// The token has no `exp` claim.
    MissingExpiry,
    /// A registered claim has the wrong JSON type: `exp`, `nbf` or `iat` not a number, `iss`
    /// or `token_use` not a string, `aud` not a string or array of strings, `scope` not a
    /// string, `cognito:groups` not an array of strings.
    InvalidClaim,
    /// `exp` (plus the clock skew) has passed.
    Expired,
    /// `nbf` (minus the clock skew) is still in the future.
    NotYetValid,
    /// `iat` (minus the clock skew) is in the future.
    IssuedInFuture,
    /// The token has no `iss`, or one that no configured issuer matches exactly.
    UnknownIssuer,
    /// `aud` is missing or holds none of the accepted audiences.
    InvalidAudience,
    /// A Cognito token whose `token_use` is not the one the user pool accepts (an id token
    /// where an access token is expected, or the reverse).
    InvalidTokenUse,
    /// A Cognito token issued to an app client that is not accepted (`client_id` of an access
    /// token, `aud` of an id token).
    InvalidClientId,
    /// A valid token without any of the groups (`cognito:groups`) a requirement names: 403.
    MissingGroup,
    /// A valid token without any of the scopes (`scope`) a requirement names: 403.
    MissingScope,
    /// The verifier's configuration is invalid (no issuer, a malformed user pool id, a JWKS
    /// URI that is not HTTPS, ...): 500.
    InvalidConfig,
}

impl JwtErrorKind {
    /// The HTTP status API Gateway should answer with: 403 for [`Self::MissingGroup`] and
    /// [`Self::MissingScope`], 500 for [`Self::InvalidConfig`], 401 for every other kind.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingGroup | Self::MissingScope => 403,
            Self::InvalidConfig => 500,
            _ => 401,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::NotBearer => "not a bearer token",
            Self::TooLarge => "token too large",
            Self::Malformed => "malformed token",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::CriticalHeader => "critical header extension",
            Self::MissingKid => "missing kid",
            Self::UnknownKid => "unknown kid",
            Self::AmbiguousKid => "ambiguous kid",
            Self::KeyMismatch => "key does not fit the token",
            Self::InvalidSignature => "invalid signature",
            Self::MissingExpiry => "missing exp",
            Self::InvalidClaim => "invalid claim",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::UnknownIssuer => "unknown issuer",
            Self::InvalidAudience => "invalid audience",
            Self::InvalidTokenUse => "invalid token_use",
            Self::InvalidClientId => "invalid client id",
            Self::MissingGroup => "missing group",
            Self::MissingScope => "missing scope",
            Self::InvalidConfig => "invalid jwt verifier configuration",
        }
    }
}

impl fmt::Display for JwtErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A refused token (or an invalid verifier configuration): its [`JwtErrorKind`] and a short,
/// lowercase detail.
///
/// The detail never holds the token. It may quote short, truncated values read from the
/// unverified token (`kid`, `alg`, `iss`), escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError {
    kind: JwtErrorKind,
    detail: String,
}

impl JwtError {
    pub(crate) fn new(kind: JwtErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// Which check refused the token.
    pub fn kind(&self) -> JwtErrorKind {
        self.kind
    }

    /// What exactly failed, for logs.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The HTTP status API Gateway should answer with (see [`JwtErrorKind::status`]).
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.kind, self.detail)
        }
    }
}

impl std::error::Error for JwtError {}

/// Quotes a value read from an unverified token for an error detail: escaped, and cut to a
/// length that keeps logs small whatever the token holds.
pub(crate) fn quoted(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(JwtErrorKind::Expired.status(), 401);
        assert_eq!(JwtErrorKind::MissingScope.status(), 403);
        assert_eq!(JwtErrorKind::MissingGroup.status(), 403);
        assert_eq!(JwtErrorKind::InvalidConfig.status(), 500);
    }

    #[test]
    fn quoted_values_are_escaped_and_cut() {
        assert_eq!(quoted("a\"b"), r#""a\"b""#);
        let long = "x".repeat(1000);
        assert_eq!(quoted(&long).len(), 64 + 2 + 3);
    }

    #[test]
    fn display_is_lowercase_kind_and_detail() {
        let e = JwtError::new(JwtErrorKind::UnknownKid, "kid \"k1\" not in the jwks");
        assert_eq!(e.to_string(), "unknown kid: kid \"k1\" not in the jwks");
    }
}
