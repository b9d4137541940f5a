//! The two authorizers, on HTTP API Lambda authorizer events (payload format 2.0), answering
//! with simple responses (`{"isAuthorized": ..., "context": {...}}`).
//!
//! Each takes the raw JSON event: whatever API Gateway, a test or a misconfiguration sends, the
//! answer is a response, and anything but a clear yes is `isAuthorized: false` (403). The
//! decision is per route, so each also checks, through
//! [`CacheSettings`], that a cached answer cannot be
//! replayed on another route.

pub use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerSimpleResponse as Response;
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambdakit_auth::Error as AuthError;
use lambdakit_auth::cache_key::{CacheSettings, RouteDependence};
use lambdakit_auth::jwt::{CognitoUserPool, JwtVerifier};
use lambdakit_auth::response::{SimpleResponse, deny_on_error};
use serde_json::{Value, json};

use crate::config;
use crate::rules::{ApiKeys, RouteRules};

/// What a decision reads from an event.
#[derive(Clone)]
pub struct Call {
    /// The route key, as the API defines it (`GET /reports/{id}`).
    pub route_key: String,
    authorization: Option<String>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("route_key", &self.route_key)
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Call {
    /// The `Authorization` header, if the request had exactly one.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

/// Reads an HTTP API authorizer event.
///
/// Errors ([`AuthError::Unauthorized`]): not a payload 2.0 `REQUEST` event; no `routeKey`, or
/// one that differs from `requestContext.routeKey`; an `Authorization` header given twice or
/// not text. The messages never hold the header's value.
pub fn read_event(event: Value) -> Result<Call, AuthError> {
    let refuse = |why: &str| AuthError::Unauthorized(why.to_owned());
    let request: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(event)
        // serde's message may quote a header's value: not logged.
        .map_err(|_| refuse("not an HTTP API authorizer event"))?;
    if request.version.as_deref() != Some("2.0") {
        return Err(refuse(
            "not payload format 2.0 (set AuthorizerPayloadFormatVersion 2.0)",
        ));
    }
    if request.type_.as_deref() != Some("REQUEST") {
        return Err(refuse("not a REQUEST authorizer event"));
    }
    let route_key = request
        .route_key
        .filter(|r| !r.is_empty())
        .ok_or_else(|| refuse("no routeKey"))?;
    if request
        .request_context
        .route_key
        .as_deref()
        .is_some_and(|r| r != route_key)
    {
        return Err(refuse("routeKey and requestContext.routeKey differ"));
    }
    let mut values = request.headers.get_all("authorization").iter();
    let authorization = match (values.next(), values.next()) {
        (None, _) => None,
        (Some(one), None) => Some(
            one.to_str()
                .map_err(|_| refuse("the Authorization header is not text"))?
                .to_owned(),
        ),
        (Some(_), Some(_)) => return Err(refuse("more than one Authorization header")),
    };
    Ok(Call {
        route_key,
        authorization,
    })
}

/// The key of `Authorization: Bearer <key>`: the scheme in any case, one space, then a key of
/// visible ASCII characters.
pub fn bearer_key(authorization: &str) -> Result<&str, AuthError> {
    let refuse = |why: &str| AuthError::Unauthorized(why.to_owned());
    let (scheme, key) = authorization
        .split_once(' ')
        .ok_or_else(|| refuse("expected Authorization: Bearer <key>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(refuse("the scheme is not Bearer"));
    }
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            "the key is empty or has spaces or control characters",
        ));
    }
    Ok(key)
}

/// The API-key authorizer: a client's key lets it call its routes, and no other.
#[derive(Debug, Clone)]
pub struct ApiKeyAuthorizer {
    keys: ApiKeys,
    cache: CacheSettings,
}

impl ApiKeyAuthorizer {
    /// An authorizer over `keys`, configured with `cache`.
    pub fn new(keys: ApiKeys, cache: CacheSettings) -> Self {
        Self { keys, cache }
    }

    /// From the environment: `API_KEYS` ([`ApiKeys::from_json`]), `IDENTITY_SOURCES` and
    /// `AUTHORIZER_TTL_SECONDS` ([`config::cache_settings`]).
    pub fn from_env() -> Result<Self, crate::Error> {
        Ok(Self::new(
            ApiKeys::from_json(&config::required("API_KEYS")?)?,
            config::cache_settings_from_env()?,
        ))
    }

    /// The decision: allow with `{"client", "route"}` as context, or the reason to deny (401
    /// for a missing or unknown key, 403 for a route the client may not call).
    pub fn decide(&self, event: Value) -> Result<SimpleResponse, AuthError> {
        let call = read_event(event)?;
        self.cache.check(RouteDependence::PerRoute)?;
        let header = call
            .authorization()
            .ok_or_else(|| AuthError::Unauthorized("no Authorization header".into()))?;
        let client = self
            .keys
            .client(bearer_key(header)?)
            .ok_or_else(|| AuthError::Unauthorized("unknown API key".into()))?;
        if !client.routes().contains(&call.route_key) {
            return Err(AuthError::Forbidden(format!(
                "client {} may not call {}",
                client.name(),
                call.route_key
            )));
        }
        tracing::info!(client = client.name(), route = %call.route_key, "allowed");
        Ok(SimpleResponse::allow()
            .context("client", client.name())
            .context("route", call.route_key))
    }

    /// The answer to `event`: [`Self::decide`], any error a deny.
    pub fn authorize(&self, event: Value) -> Response {
        deny_on_error(self.decide(event).and_then(SimpleResponse::build))
    }
}

/// The JWT authorizer: a valid Cognito token, and the group or scope the route requires.
#[derive(Debug, Clone)]
pub struct JwtAuthorizer {
    verifier: JwtVerifier,
    rules: RouteRules,
    cache: CacheSettings,
}

impl JwtAuthorizer {
    /// An authorizer verifying tokens with `verifier`, routes ruled by `rules`.
    pub fn new(verifier: JwtVerifier, rules: RouteRules, cache: CacheSettings) -> Self {
        Self {
            verifier,
            rules,
            cache,
        }
    }

    /// From the environment: `USER_POOL_ID`, `USER_POOL_CLIENT_ID`, `TOKEN_USE` (`access`,
    /// the default, or `id`), `ROUTE_RULES` ([`RouteRules::from_json`]), `IDENTITY_SOURCES` and
    /// `AUTHORIZER_TTL_SECONDS`.
    pub fn from_env() -> Result<Self, crate::Error> {
        let pool_id = config::required("USER_POOL_ID")?;
        let client_id = config::required("USER_POOL_CLIENT_ID")?;
        let pool = match std::env::var("TOKEN_USE").as_deref() {
            Err(_) | Ok("access") => CognitoUserPool::access_tokens(pool_id, client_id),
            Ok("id") => CognitoUserPool::id_tokens(pool_id, client_id),
            Ok(other) => {
                return Err(crate::Error::Config(format!(
                    "TOKEN_USE {other:?} is not access or id"
                )));
            }
        };
        let verifier = JwtVerifier::builder().cognito(pool).build()?;
        Ok(Self::new(
            verifier,
            RouteRules::from_json(&config::required("ROUTE_RULES")?)?,
            config::cache_settings_from_env()?,
        ))
    }

    /// The decision: allow with `{"sub", "username", "groups", "route"}` as context, or the
    /// reason to deny: 403 for a route no rule names (before any token is looked at) or a token
    /// without the group or scope the route requires, 401 for a missing or invalid token, 500
    /// when the user pool's keys cannot be fetched.
    pub async fn decide(&self, event: Value) -> Result<SimpleResponse, AuthError> {
        let call = read_event(event)?;
        self.cache.check(RouteDependence::PerRoute)?;
        let requirement = self
            .rules
            .requirement(&call.route_key)
            .ok_or_else(|| AuthError::Forbidden(format!("no rule for route {}", call.route_key)))?;
        let header = call
            .authorization()
            .ok_or_else(|| AuthError::Unauthorized("no Authorization header".into()))?;
        let claims = self.verifier.verify_bearer(header).await?;
        let user = claims.username().or(claims.sub()).unwrap_or("?").to_owned();
        if !requirement.is_met_by(&claims) {
            return Err(AuthError::Forbidden(format!(
                "{user} has none of the groups {:?} or scopes {:?} that {} requires",
                requirement.any_group, requirement.any_scope, call.route_key
            )));
        }
        tracing::info!(%user, route = %call.route_key, "allowed");
        let groups: Vec<&str> = claims.groups().collect();
        Ok(SimpleResponse::allow()
            .context("sub", claims.sub().unwrap_or_default())
            .context("username", user)
            .context("groups", json!(groups))
            .context("route", call.route_key))
    }

    /// The answer to `event`: [`Self::decide`], any error a deny.
    pub async fn authorize(&self, event: Value) -> Response {
        deny_on_error(self.decide(event).await.and_then(SimpleResponse::build))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_keys_are_strict() {
        assert_eq!(bearer_key("Bearer abc-123").ok(), Some("abc-123"));
        assert_eq!(bearer_key("bearer abc").ok(), Some("abc"));
        for bad in [
            "abc",
            "Bearer ",
            "Bearer  abc",
            "Basic abc",
            "Bearer a b",
            "Bearer a\tb",
            "",
        ] {
            assert!(bearer_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_call_never_shows_its_token() {
        let call = Call {
            route_key: "GET /reports".into(),
            authorization: Some("Bearer s3cr3t".into()),
        };
        assert!(!format!("{call:?}").contains("s3cr3t"));
    }
}
