//! The verifier: picks the issuer by `iss`, the key by `kid`, then checks signature and claims.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::bearer::bearer_token;
use super::claims::Claims;
use super::error::{JwtError, JwtErrorKind, quoted};
use super::fetch::{Fetcher, parse_jwks_uri};
use super::issuer::{CognitoUserPool, IssuerRules, OidcIssuer};
use super::jwks::{JwksCache, Timing};
use super::token;

/// Default [`JwtVerifierBuilder::clock_skew`]: 60 seconds.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// Default [`JwtVerifierBuilder::max_token_bytes`]: 8 KiB.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Default [`JwtVerifierBuilder::jwks_timeout`]: 3 seconds.
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(3);
/// Default [`JwtVerifierBuilder::jwks_max_bytes`]: 64 KiB.
pub const DEFAULT_JWKS_MAX_BYTES: usize = 64 * 1024;
/// Default [`JwtVerifierBuilder::jwks_refetch_cooldown`]: 60 seconds.
pub const DEFAULT_JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);
/// Default [`JwtVerifierBuilder::jwks_failure_backoff`]: 5 seconds.
pub const DEFAULT_JWKS_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// Default [`JwtVerifierBuilder::jwks_max_age`]: 1 hour.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

struct Issuer {
    rules: IssuerRules,
    jwks: JwksCache,
}

struct Inner {
    issuers: HashMap<String, Issuer>,
    clock_skew: Duration,
    max_token_bytes: usize,
}

/// Verifies JWTs from the issuers it was built with, and returns their claims.
///
/// Cheap to clone (an `Arc`): build one per process (in a Lambda function, outside the
/// handler) so the JWKS cache survives between invocations.
///
/// A token is checked in this order, and the first failure refuses it:
///
/// 1. size, three base64url segments, JSON header and payload without duplicated names;
/// 2. `alg` one of RS256/384/512, ES256/384, EdDSA (never `none` or HS*), no `crit`, a `kid`;
/// 3. `iss` equal to a configured issuer, before any network access: a token from an unknown
///    issuer causes no fetch;
/// 4. the key with the token's `kid` from that issuer's JWKS (fetched, or refetched once per
///    cooldown for an unknown `kid`), whose `alg`, `use`, `kty` and `crv` must fit the token;
/// 5. the signature;
/// 6. `exp` (required), `nbf` and `iat`, with the clock skew;
/// 7. audience (OIDC `aud`; Cognito `token_use` and client id), groups, scopes;
/// 8. the issuer's custom check.
///
/// ```no_run
/// use lambdakit_auth::jwt::{CognitoUserPool, JwtVerifier};
///
/// # async fn handler(authorization: &str) -> Result<(), lambdakit_auth::Error> {
/// let verifier = JwtVerifier::builder()
///     .cognito(CognitoUserPool::access_tokens("eu-west-1_AbCdEf123", "3n4b5urk1ft4fl3mg5e62d9ado"))
///     .build()?;
/// let claims = verifier.verify_bearer(authorization).await?;
/// println!("{:?} may call the API", claims.sub());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut issuers: Vec<&IssuerRules> =
            self.inner.issuers.values().map(|i| &i.rules).collect();
        issuers.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        f.debug_struct("JwtVerifier")
            .field("issuers", &issuers)
            .field("clock_skew", &self.inner.clock_skew)
            .field("max_token_bytes", &self.inner.max_token_bytes)
            .finish_non_exhaustive()
    }
}

fn now_secs(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A NumericDate claim (RFC 7519, section 2): absent, or a finite JSON number.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| {
                JwtError::new(
                    JwtErrorKind::InvalidClaim,
                    format!("{name} is not a finite number"),
                )
            }),
        Some(_) => Err(JwtError::new(
            JwtErrorKind::InvalidClaim,
            format!("{name} is not a number"),
        )),
    }
}

/// `exp`, `nbf` and `iat` against `now`, each allowed `skew` of clock difference.
fn check_times(claims: &Map<String, Value>, now: f64, skew: f64) -> Result<(), JwtError> {
    let exp = numeric_date(claims, "exp")?
        .ok_or_else(|| JwtError::new(JwtErrorKind::MissingExpiry, "no exp claim"))?;
    // RFC 7519, 4.1.4: the current time must be before exp.
    if now >= exp + skew {
        return Err(JwtError::new(
            JwtErrorKind::Expired,
            format!("expired {:.0} s ago (clock skew {skew} s)", now - exp),
        ));
    }
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now < nbf - skew
    {
        return Err(JwtError::new(
            JwtErrorKind::NotYetValid,
            format!("valid in {:.0} s (clock skew {skew} s)", nbf - now),
        ));
    }
    if let Some(iat) = numeric_date(claims, "iat")?
        && iat - skew > now
    {
        return Err(JwtError::new(
            JwtErrorKind::IssuedInFuture,
            format!(
                "issued {:.0} s in the future (clock skew {skew} s)",
                iat - now
            ),
        ));
    }
    Ok(())
}

impl JwtVerifier {
    /// A builder with no issuer yet and the documented defaults.
    pub fn builder() -> JwtVerifierBuilder {
        JwtVerifierBuilder::default()
    }

    /// Verifies the token of an `Authorization` header value (or API Gateway identity source)
    /// `Bearer <jwt>` (see [`bearer_token`]) now.
    ///
    /// # Errors
    /// See [`Self::verify_at`]; also [`JwtErrorKind::NotBearer`] for a value that is not
    /// `Bearer <token>`.
    pub async fn verify_bearer(&self, authorization: &str) -> Result<Claims, crate::Error> {
        let token = bearer_token(authorization).inspect_err(|e| {
            tracing::debug!(kind = ?e.kind(), detail = e.detail(), "jwt refused");
        })?;
        self.verify(token).await
    }

    /// Verifies `token` (a compact JWS, without `Bearer `) now.
    ///
    /// # Errors
    /// See [`Self::verify_at`].
    pub async fn verify(&self, token: &str) -> Result<Claims, crate::Error> {
        self.verify_at(token, SystemTime::now()).await
    }

    /// Verifies `token` as if the time were `now` (for tests and replays; the JWKS cache keeps
    /// real time).
    ///
    /// # Errors
    /// [`crate::Error::Jwt`] with the [`JwtErrorKind`] of the first failed check (status 401,
    /// or 403 for a missing group or scope); [`crate::Error::Unavailable`] (500) when the
    /// issuer's JWKS is needed and cannot be fetched; whatever the issuer's custom check
    /// returns.
    pub async fn verify_at(&self, token: &str, now: SystemTime) -> Result<Claims, crate::Error> {
        let result = self.verify_inner(token, now).await;
        if let Err(error) = &result {
            match error {
                crate::Error::Jwt(e) => {
                    tracing::debug!(kind = ?e.kind(), detail = e.detail(), "jwt refused");
                }
                other => tracing::debug!(error = %other, "jwt refused"),
            }
        }
        result
    }

    async fn verify_inner(&self, token: &str, now: SystemTime) -> Result<Claims, crate::Error> {
        let inner = &*self.inner;
        let unverified = token::decode(token, inner.max_token_bytes)?;
        let issuer = match unverified.claims.get("iss") {
            Some(Value::String(iss)) => inner.issuers.get(iss.as_str()).ok_or_else(|| {
                JwtError::new(
                    JwtErrorKind::UnknownIssuer,
                    format!("iss {} is not a configured issuer", quoted(iss)),
                )
            })?,
            Some(_) => {
                return Err(
                    JwtError::new(JwtErrorKind::InvalidClaim, "iss is not a string").into(),
                );
            }
            None => return Err(JwtError::new(JwtErrorKind::UnknownIssuer, "no iss claim").into()),
        };
        let key = issuer.jwks.key(&unverified.kid).await?;
        key.verify(
            unverified.alg,
            unverified.signing_input,
            &unverified.signature,
        )?;
        check_times(
            &unverified.claims,
            now_secs(now),
            inner.clock_skew.as_secs_f64(),
        )?;
        issuer.rules.check_claims(&unverified.claims)?;
        let claims = Claims::new(unverified.claims, unverified.alg, unverified.kid);
        issuer.rules.custom_check(&claims)?;
        Ok(claims)
    }

    /// Fetches the JWKS of every issuer now, so the first requests do not wait for it (call
    /// it during a Lambda function's init).
    ///
    /// # Errors
    /// [`crate::Error::Unavailable`] for the first JWKS that cannot be fetched (the others are
    /// still fetched). Verification stays possible: a later request fetches again.
    pub async fn hydrate(&self) -> Result<(), crate::Error> {
        let mut first_error = None;
        for issuer in self.inner.issuers.values() {
            if let Err(e) = issuer.jwks.refresh().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Replaces the cached keys of `issuer` with the JWKS document `jwks`, as if fetched now
    /// (for keys shipped with the function, or a JWKS fetched some other way).
    ///
    /// # Errors
    /// [`JwtErrorKind::InvalidConfig`] when `issuer` is not configured or `jwks` is not a JSON
    /// object with a `keys` array.
    pub fn cache_jwks(&self, issuer: &str, jwks: &[u8]) -> Result<(), crate::Error> {
        let entry = self.inner.issuers.get(issuer).ok_or_else(|| {
            JwtError::new(
                JwtErrorKind::InvalidConfig,
                format!("issuer {} is not configured", quoted(issuer)),
            )
        })?;
        entry
            .jwks
            .insert(jwks)
            .map_err(|why| JwtError::new(JwtErrorKind::InvalidConfig, why).into())
    }
}

/// Builds a [`JwtVerifier`]: at least one issuer, and options that all have defaults.
#[derive(Debug, Clone)]
pub struct JwtVerifierBuilder {
    cognito: Vec<CognitoUserPool>,
    oidc: Vec<OidcIssuer>,
    clock_skew: Duration,
    max_token_bytes: usize,
    jwks_timeout: Duration,
    jwks_max_bytes: usize,
    timing: Timing,
    allow_http_loopback: bool,
}

impl Default for JwtVerifierBuilder {
    fn default() -> Self {
        Self {
            cognito: Vec::new(),
            oidc: Vec::new(),
            clock_skew: DEFAULT_CLOCK_SKEW,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            jwks_timeout: DEFAULT_JWKS_TIMEOUT,
            jwks_max_bytes: DEFAULT_JWKS_MAX_BYTES,
            timing: Timing {
                refetch_cooldown: DEFAULT_JWKS_REFETCH_COOLDOWN,
                failure_backoff: DEFAULT_JWKS_FAILURE_BACKOFF,
                max_age: DEFAULT_JWKS_MAX_AGE,
            },
            allow_http_loopback: false,
        }
    }
}

impl JwtVerifierBuilder {
    /// Trusts a Cognito user pool (add as many as needed).
    pub fn cognito(mut self, pool: CognitoUserPool) -> Self {
        self.cognito.push(pool);
        self
    }

    /// Trusts an OpenID Connect issuer (add as many as needed).
    pub fn oidc(mut self, issuer: OidcIssuer) -> Self {
        self.oidc.push(issuer);
        self
    }

    /// How far clocks may disagree (default [`DEFAULT_CLOCK_SKEW`], 60 s): `exp` is accepted
    /// that much after it passed, `nbf` and `iat` that much before.
    ///
    /// aws-jwt-verify's `graceSeconds` defaults to 0 and it does not check `iat`; we check
    /// `iat`, so a token used the second it was issued by a slightly faster clock would be
    /// refused without some skew. 60 s is jsonwebtoken's default leeway too. Use
    /// `Duration::ZERO` for aws-jwt-verify's behaviour.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The longest token accepted, in bytes (default [`DEFAULT_MAX_TOKEN_BYTES`], 8 KiB, well
    /// above a Cognito id token with many groups and below API Gateway's header limits);
    /// longer ones are refused with [`JwtErrorKind::TooLarge`] before any decoding.
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// How long one JWKS fetch may take, connection and body included (default
    /// [`DEFAULT_JWKS_TIMEOUT`], 3 s, as aws-jwt-verify's response timeout).
    pub fn jwks_timeout(mut self, timeout: Duration) -> Self {
        self.jwks_timeout = timeout;
        self
    }

    /// The largest JWKS document accepted (default [`DEFAULT_JWKS_MAX_BYTES`], 64 KiB; a
    /// Cognito JWKS is about 1 KiB).
    pub fn jwks_max_bytes(mut self, max: usize) -> Self {
        self.jwks_max_bytes = max;
        self
    }

    /// After a successful JWKS fetch, how long a token with an unknown `kid` is refused
    /// without fetching again (default [`DEFAULT_JWKS_REFETCH_COOLDOWN`], 60 s). This bounds
    /// the fetches that tokens with made-up `kid`s can cause to one per cooldown and issuer.
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.timing.refetch_cooldown = cooldown;
        self
    }

    /// After a failed JWKS fetch, how long requests that need the JWKS are refused
    /// ([`crate::Error::Unavailable`]) without fetching again (default
    /// [`DEFAULT_JWKS_FAILURE_BACKOFF`], 5 s).
    pub fn jwks_failure_backoff(mut self, backoff: Duration) -> Self {
        self.timing.failure_backoff = backoff;
        self
    }

    /// How old a cached JWKS may get before one request refetches it, so that keys the issuer
    /// removed stop being trusted (default [`DEFAULT_JWKS_MAX_AGE`], 1 hour). While that
    /// refetch runs, or if it fails, the other requests keep using the cached keys.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.timing.max_age = max_age;
        self
    }

    /// Allows JWKS URIs with plain `http://` when their host is a loopback address
    /// (`127.0.0.0/8`, `::1`, `localhost`): for a local test server. Without it, and for any
    /// other host, a JWKS URI must be `https://`.
    pub fn allow_http_to_loopback(mut self) -> Self {
        self.allow_http_loopback = true;
        self
    }

    /// The verifier.
    ///
    /// # Errors
    /// [`JwtErrorKind::InvalidConfig`] when there is no issuer, an issuer is configured twice,
    /// a user pool id is malformed, a requirement can never hold, a JWKS URI is not HTTPS (or
    /// plain HTTP to loopback when allowed), or the system's root certificates cannot be
    /// loaded.
    pub fn build(self) -> Result<JwtVerifier, crate::Error> {
        let mut all = Vec::with_capacity(self.cognito.len() + self.oidc.len());
        for pool in self.cognito {
            all.push(pool.into_rules()?);
        }
        for issuer in self.oidc {
            all.push(issuer.into_rules()?);
        }
        if all.is_empty() {
            return Err(JwtError::new(JwtErrorKind::InvalidConfig, "no issuer configured").into());
        }
        let fetcher = Fetcher::new(
            self.jwks_timeout,
            self.jwks_max_bytes,
            self.allow_http_loopback,
        )?;
        let mut issuers = HashMap::with_capacity(all.len());
        for rules in all {
            let uri = parse_jwks_uri(&rules.jwks_uri, self.allow_http_loopback)?;
            if issuers.contains_key(&rules.issuer) {
                return Err(JwtError::new(
                    JwtErrorKind::InvalidConfig,
                    format!("issuer {} configured twice", quoted(&rules.issuer)),
                )
                .into());
            }
            let jwks = JwksCache::new(uri, fetcher.clone(), self.timing);
            issuers.insert(rules.issuer.clone(), Issuer { rules, jwks });
        }
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                issuers,
                clock_skew: self.clock_skew,
                max_token_bytes: self.max_token_bytes,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(claims: serde_json::Value, now: f64) -> Result<(), JwtErrorKind> {
        let Value::Object(map) = claims else {
            panic!("an object")
        };
        check_times(&map, now, 60.0).map_err(|e| e.kind())
    }

    #[test]
    fn exp_boundaries() {
        let exp = serde_json::json!({"exp": 1000});
        assert_eq!(times(exp.clone(), 1059.0), Ok(()));
        assert_eq!(times(exp.clone(), 1060.0), Err(JwtErrorKind::Expired));
        assert_eq!(times(exp, 1061.0), Err(JwtErrorKind::Expired));
        assert_eq!(times(serde_json::json!({"exp": 1000.5}), 1060.4), Ok(()));
    }

    #[test]
    fn exp_is_required_and_numeric() {
        assert_eq!(
            times(serde_json::json!({}), 0.0),
            Err(JwtErrorKind::MissingExpiry)
        );
        assert_eq!(
            times(serde_json::json!({"exp": "2000"}), 0.0),
            Err(JwtErrorKind::InvalidClaim)
        );
        assert_eq!(
            times(serde_json::json!({"exp": null}), 0.0),
            Err(JwtErrorKind::InvalidClaim)
        );
        assert_eq!(
            times(serde_json::json!({"exp": 2000, "nbf": "1"}), 0.0),
            Err(JwtErrorKind::InvalidClaim)
        );
        assert_eq!(
            times(serde_json::json!({"exp": 2000, "iat": [1]}), 0.0),
            Err(JwtErrorKind::InvalidClaim)
        );
    }

    #[test]
    fn nbf_and_iat_boundaries() {
        let nbf = serde_json::json!({"exp": 5000, "nbf": 1000});
        assert_eq!(times(nbf.clone(), 940.0), Ok(()));
        assert_eq!(times(nbf, 939.0), Err(JwtErrorKind::NotYetValid));
        let iat = serde_json::json!({"exp": 5000, "iat": 1000});
        assert_eq!(times(iat.clone(), 940.0), Ok(()));
        assert_eq!(times(iat, 939.0), Err(JwtErrorKind::IssuedInFuture));
    }

    #[test]
    fn builds_need_an_issuer() {
        let err = JwtVerifier::builder().build().expect_err("no issuer");
        assert!(matches!(err, crate::Error::Jwt(e) if e.kind() == JwtErrorKind::InvalidConfig));
    }

    #[test]
    fn builds_refuse_duplicates_and_plain_http() {
        let pool = || CognitoUserPool::access_tokens("eu-west-1_a", "c");
        let err = JwtVerifier::builder()
            .cognito(pool())
            .cognito(pool())
            .build()
            .expect_err("twice");
        assert!(err.to_string().contains("twice"), "{err}");
        let err = JwtVerifier::builder()
            .cognito(pool().jwks_uri("http://127.0.0.1:1/jwks.json"))
            .build()
            .expect_err("http");
        assert!(err.to_string().contains("not https"), "{err}");
        assert!(
            JwtVerifier::builder()
                .cognito(pool().jwks_uri("http://127.0.0.1:1/jwks.json"))
                .allow_http_to_loopback()
                .build()
                .is_ok()
        );
    }
}
