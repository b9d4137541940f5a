//! JWT verification for Lambda authorizers: Amazon Cognito user pools and OpenID Connect
//! issuers, keys from a cached JWKS, and every check failing closed.
//!
//! Modelled on [aws-jwt-verify](https://github.com/awslabs/aws-jwt-verify) (its Cognito
//! checks, its JWKS cache shared by concurrent requests, its refusal to fetch again and again
//! for unknown `kid`s), with the defaults jsonwebtoken leaves open closed:
//!
//! - **Issuers are explicit.** A [`JwtVerifier`] trusts the issuers it is built with, and
//!   nothing else: the token's `iss` picks one by exact string match (a trailing slash
//!   matters) *before* any network access, so a token from another issuer, or another user
//!   pool, is refused without a fetch. Each issuer requires an audience: a Cognito
//!   [`CognitoUserPool`] a token use (access or id) and an app client id, an [`OidcIssuer`]
//!   an `aud`.
//! - **Algorithms are pinned per key.** RS256, RS384, RS512 (moduli of 2048 bits or more),
//!   ES256, ES384 and EdDSA (Ed25519), verified with aws-lc-rs. `alg: none` and HMAC are never
//!   accepted, so a token "signed" with HS256 and the RSA public key as secret fails. A JWK's
//!   `alg`, when present, must equal the token's; its `use`, when present, must be `sig`; its
//!   `kty` and `crv` must fit the algorithm. The keys come from the issuer's JWKS only: `jku`,
//!   `jwk` and `x5u` headers are ignored.
//! - **Claims are required.** `exp` must be present and a number; `nbf` and `iat` are checked
//!   when present; a claim of the wrong type is an error, never skipped. A header with `crit`,
//!   a header or payload that names a member twice, a token larger than 8 KiB are refused.
//! - **The JWKS fails closed.** It is fetched over HTTPS (rustls, the system's roots; plain
//!   HTTP only to loopback hosts, and only with
//!   [`JwtVerifierBuilder::allow_http_to_loopback`]), with a timeout and a size limit, and
//!   cached by `kid`. A token with an unknown `kid` causes at most one fetch per cooldown,
//!   shared by every request waiting for it. An outage, an error status, a timeout or a
//!   malformed JWKS is [`Error::Unavailable`](crate::Error::Unavailable): deny, never allow.
//!   Several keys with one `kid` make that `kid` unusable.
//!
//! Every refusal is an [`Error::Jwt`](crate::Error::Jwt) holding a [`JwtError`], whose
//! [`JwtErrorKind`] says which check failed: 401, or 403 for a valid token without a required
//! group or scope.
//!
//! ```no_run
//! use std::time::Duration;
//! use lambdakit_auth::jwt::{CognitoUserPool, JwtVerifier, OidcIssuer};
//!
//! # async fn demo(authorization: &str) -> Result<(), lambdakit_auth::Error> {
//! let verifier = JwtVerifier::builder()
//!     .cognito(
//!         CognitoUserPool::access_tokens("eu-west-1_AbCdEf123", "3n4b5urk1ft4fl3mg5e62d9ado")
//!             .require_any_scope(["orders/read"]),
//!     )
//!     .oidc(OidcIssuer::new(
//!         "https://accounts.example.com",
//!         "https://accounts.example.com/.well-known/jwks.json",
//!         "api://orders",
//!     ))
//!     .clock_skew(Duration::from_secs(30))
//!     .build()?;
//!
//! let claims = verifier.verify_bearer(authorization).await?;
//! let user = claims.username().unwrap_or_default();
//! # let _ = user; Ok(()) }
//! ```

mod bearer;
mod claims;
mod error;
mod fetch;
mod issuer;
mod jwks;
mod key;
mod token;
mod verifier;

pub use bearer::bearer_token;
pub use claims::{Claims, TokenUse};
pub use error::{JwtError, JwtErrorKind};
pub use issuer::{CognitoUserPool, OidcIssuer};
pub use key::Algorithm;
pub use verifier::{
    DEFAULT_CLOCK_SKEW, DEFAULT_JWKS_FAILURE_BACKOFF, DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_MAX_BYTES,
    DEFAULT_JWKS_REFETCH_COOLDOWN, DEFAULT_JWKS_TIMEOUT, DEFAULT_MAX_TOKEN_BYTES, JwtVerifier,
    JwtVerifierBuilder,
};
