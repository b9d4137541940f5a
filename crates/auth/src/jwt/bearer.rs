//! `Authorization: Bearer <token>` (RFC 6750, section 2.1).

use super::error::{JwtError, JwtErrorKind};

/// The token of an `Authorization` header value (or API Gateway identity source) of the form
/// `Bearer <token>`.
///
/// - The scheme is matched case-insensitively (`Bearer`, `bearer`, `BEARER`), as RFC 9110
///   (section 11.1) makes every authentication scheme case-insensitive and RFC 6750 does not
///   override it.
/// - Exactly one space separates scheme and token. RFC 6750 allows several; we refuse them,
///   like leading or trailing whitespace, because no client that sends one token needs them
///   and a stricter grammar leaves less to disagree about with the caches in front of us.
/// - The token must be non-empty and use only the characters of a compact JWS
///   (`A-Z a-z 0-9 - _ .`).
///
/// # Errors
/// [`JwtErrorKind::NotBearer`] for an empty value, another scheme (`Basic ...`, a bare token),
/// a missing token, or extra spaces; [`JwtErrorKind::Malformed`] for a token with other
/// characters.
pub fn bearer_token(value: &str) -> Result<&str, JwtError> {
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(JwtError::new(
            JwtErrorKind::NotBearer,
            if value.is_empty() {
                "empty identity source"
            } else {
                "expected \"Bearer <token>\""
            },
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(JwtError::new(
            JwtErrorKind::NotBearer,
            "the scheme is not Bearer",
        ));
    }
    if token.is_empty() {
        return Err(JwtError::new(
            JwtErrorKind::NotBearer,
            "no token after Bearer",
        ));
    }
    if token.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(JwtError::new(
            JwtErrorKind::NotBearer,
            "whitespace around or inside the token",
        ));
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(JwtError::new(
            JwtErrorKind::Malformed,
            "the token has characters outside base64url and '.'",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bearer_in_any_case() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "bEaReR a.b.c",
        ] {
            assert_eq!(bearer_token(value).ok(), Some("a.b.c"), "{value}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Bearer  a.b.c",
            " Bearer a.b.c",
            "Bearer a.b.c ",
            "Bearer\ta.b.c",
            "Basic dXNlcjpwYXNz",
            "a.b.c",
            "Bearer a.b.c d",
            "Token a.b.c",
            "Bearera.b.c",
        ] {
            let err = bearer_token(value).expect_err(value);
            assert_eq!(err.kind(), JwtErrorKind::NotBearer, "{value:?}");
        }
    }

    #[test]
    fn refuses_characters_outside_a_compact_jws() {
        for value in [
            "Bearer a.b.c=",
            "Bearer a+b.c.d",
            "Bearer a/b.c.d",
            "Bearer é.b.c",
        ] {
            let err = bearer_token(value).expect_err(value);
            assert_eq!(err.kind(), JwtErrorKind::Malformed, "{value:?}");
        }
    }
}
