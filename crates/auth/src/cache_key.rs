//! Authorizer caching keys on the identity sources only: check that a cached decision cannot leak
//! to another route.
//!
//! # The problem
//!
//! With a result TTL above zero, API Gateway caches the authorizer's answer under a key made of
//! the configured *identity sources* (the `Authorization` header, a query string, ...) and
//! nothing else. The next request with the same identity sources gets the cached answer without
//! calling the authorizer, **whatever route it calls**:
//!
//! * **HTTP API**: the cached `isAuthorized` (or policy) is replayed for every route. An authorizer
//!   that allowed `GET /reports` because the caller may read reports has, for the TTL, also allowed
//!   `DELETE /reports/1` to the same token, unless `$context.routeKey` is an identity source.
//! * **REST API**: the cached *policy* is re-evaluated against each new method ARN. A policy that
//!   allows exactly the method ARN of the first request turns every other route into a 403 for
//!   the TTL (intermittent, order-dependent denials); a policy widened to `*` because that one
//!   route was fine leaks like the HTTP API case. The policy must cover every method the caller
//!   may use, or the cache must key on the method (`context.httpMethod` with
//!   `context.resourcePath`, `context.resourceId` or `context.path` as identity sources).
//!
//! # The check
//!
//! [`CacheSettings`] holds the authorizer's identity sources and TTL, exactly as configured
//! (`IdentitySource` in SAM/CloudFormation, `AuthorizerResultTtlInSeconds`), and answers whether a
//! decision may be cached:
//!
//! * [`CacheSettings::check`] takes a [`RouteDependence`] the handler states: did the decision look
//!   at the route?
//! * [`CacheSettings::check_policy`] works it out for an IAM policy: a policy whose only `Allow`
//!   matching the request names its method ARN exactly (no wildcard) was made for that route
//!   ([`route_dependence`]).
//!
//! Both return `Ok(())` when caching is off, the decision is the same on every route, or the
//! cache keys on the route; otherwise [`Error::InvalidResponse`]: deny (with
//! [`deny_on_error`](crate::response::deny_on_error)) and fix the configuration, which the error
//! message names.
//!
//! # Worked example
//!
//! An HTTP API authorizer lets any valid token read, but only admins write. Its decision depends
//! on the route, and it is cached for five minutes on the `Authorization` header alone:
//!
//! ```
//! use std::time::Duration;
//! use lambdakit_auth::cache_key::{CacheSettings, RouteDependence};
//! use lambdakit_auth::response::{deny_on_error, SimpleResponse};
//!
//! fn decide(cache: &CacheSettings, route_key: &str, is_admin: bool) -> Result<SimpleResponse, lambdakit_auth::Error> {
//!     let writes = !route_key.starts_with("GET ");
//!     // This decision looks at the route: say so, and let the cache settings veto it.
//!     cache.check(RouteDependence::PerRoute)?;
//!     Ok(if writes && !is_admin { SimpleResponse::deny() } else { SimpleResponse::allow() })
//! }
//!
//! // Misconfigured: Alice's allowed `GET /reports` would be replayed on `DELETE /reports/1`.
//! let leaky = CacheSettings::new(["$request.header.Authorization"], Duration::from_secs(300))?;
//! let answer = deny_on_error(decide(&leaky, "GET /reports", false).and_then(SimpleResponse::build));
//! assert!(!answer.is_authorized, "denied: the configuration could leak");
//!
//! // Fixed: the route is part of the cache key, each route gets its own cached answer.
//! let keyed = CacheSettings::new(
//!     ["$request.header.Authorization", "$context.routeKey"],
//!     Duration::from_secs(300),
//! )?;
//! let answer = deny_on_error(decide(&keyed, "GET /reports", false).and_then(SimpleResponse::build));
//! assert!(answer.is_authorized);
//!
//! // Also fine: caching off (TTL 0).
//! let uncached = CacheSettings::new(["$request.header.Authorization"], Duration::ZERO)?;
//! assert!(uncached.check(RouteDependence::PerRoute).is_ok());
//! # Ok::<(), lambdakit_auth::Error>(())
//! ```
//!
//! And a REST policy, checked from the policy itself:
//!
//! ```
//! use std::time::Duration;
//! use lambdakit_auth::arn::MethodArn;
//! use lambdakit_auth::cache_key::CacheSettings;
//! use lambdakit_auth::policy::Policy;
//!
//! let request: MethodArn =
//!     "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/reports".parse()?;
//! let cache = CacheSettings::new(["method.request.header.Authorization"], Duration::from_secs(300))?;
//!
//! // Allows exactly this request: cached, every other route would get this policy and a 403.
//! let exact = Policy::new(&request, "alice").allow_arn(&request).build()?;
//! assert!(cache.check_policy(&exact, &request).is_err());
//!
//! // Covers every method Alice may call: safe to cache.
//! let covering = Policy::new(&request, "alice").allow_all().build()?;
//! assert!(cache.check_policy(&covering, &request).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse,
};
use aws_lambda_events::iam::IamPolicyEffect;

use crate::Error;
use crate::arn::{MethodArn, iam_match};

/// Whether an authorizer's decision depends on the route being called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteDependence {
    /// The decision depends only on the identity sources (the token is valid or not): the same
    /// answer holds on every route, and caching it is safe.
    SameOnEveryRoute,
    /// The decision looked at the route, method or path (per-route scopes, an allow-list of
    /// paths, a policy naming only this method ARN): caching it under the identity sources alone
    /// replays it on other routes.
    PerRoute,
}

/// Prefixes of identity sources API Gateway knows, and which API uses them.
const KNOWN_PREFIXES: [&str; 10] = [
    // HTTP API
    "$request.header.",
    "$request.querystring.",
    "$context.",
    "$stageVariables.",
    // REST API
    "method.request.header.",
    "method.request.querystring.",
    "context.",
    "stageVariables.",
    // WebSocket API
    "route.request.header.",
    "route.request.querystring.",
];

/// An authorizer's cache configuration: its identity sources and result TTL.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheSettings {
    identity_sources: Vec<String>,
    ttl: Duration,
}

impl fmt::Debug for CacheSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheSettings")
            .field("identity_sources", &self.identity_sources)
            .field("ttl", &self.ttl)
            .field("keys_on_route", &self.keys_on_route())
            .finish()
    }
}

impl CacheSettings {
    /// The settings of an authorizer with these identity sources and result TTL.
    ///
    /// `identity_sources` are written as API Gateway writes them: `$request.header.Authorization`,
    /// `$context.routeKey` (HTTP API), `method.request.header.Authorization`,
    /// `context.resourcePath` (REST), `route.request.header.Auth` (WebSocket). An item may hold
    /// several, comma-separated, as REST's `IdentitySource` does. Names are case-sensitive, as in
    /// API Gateway.
    ///
    /// Returns [`Error::InvalidResponse`] for a source that is none of those forms (a typo would
    /// otherwise silently leave the route out of the key), and when the TTL is above zero with no
    /// identity source at all.
    pub fn new<I, S>(identity_sources: I, ttl: Duration) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut sources = Vec::new();
        for item in identity_sources {
            for source in item.as_ref().split(',').map(str::trim) {
                if source.is_empty() {
                    continue;
                }
                let known = KNOWN_PREFIXES
                    .iter()
                    .any(|p| source.len() > p.len() && source.starts_with(p));
                if !known {
                    return Err(Error::InvalidResponse(format!(
                        "unknown authorizer identity source {source:?}: expected $request.header.X, $context.X, method.request.header.X, context.X, route.request.header.X, ..."
                    )));
                }
                sources.push(source.to_owned());
            }
        }
        if sources.is_empty() && !ttl.is_zero() {
            return Err(Error::InvalidResponse(
                "authorizer caching is on but no identity source is configured".to_owned(),
            ));
        }
        Ok(CacheSettings {
            identity_sources: sources,
            ttl,
        })
    }

    /// An authorizer without caching (TTL 0): every check passes.
    pub fn disabled() -> Self {
        CacheSettings {
            identity_sources: Vec::new(),
            ttl: Duration::ZERO,
        }
    }

    /// The identity sources, one per item.
    pub fn identity_sources(&self) -> &[String] {
        &self.identity_sources
    }

    /// The result TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether results are cached (TTL above zero).
    pub fn is_enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// Whether the cache key includes the route, so that a per-route decision stays on its route:
    /// `$context.routeKey` (HTTP API); or the method together with the resource or path,
    /// `$context.httpMethod` with `$context.path` (HTTP API), `context.httpMethod` with
    /// `context.resourcePath`, `context.resourceId` or `context.path` (REST).
    pub fn keys_on_route(&self) -> bool {
        let has = |name: &str| self.identity_sources.iter().any(|s| s == name);
        has("$context.routeKey")
            || (has("$context.httpMethod") && has("$context.path"))
            || (has("context.httpMethod")
                && (has("context.resourcePath")
                    || has("context.resourceId")
                    || has("context.path")))
    }

    /// Whether a decision of this route dependence may be returned under these settings.
    ///
    /// Returns `Ok(())` when caching is off, the decision is [`RouteDependence::SameOnEveryRoute`],
    /// or [`keys_on_route`](CacheSettings::keys_on_route) holds; otherwise
    /// [`Error::InvalidResponse`], on which the authorizer must deny.
    pub fn check(&self, dependence: RouteDependence) -> Result<(), Error> {
        if !self.is_enabled()
            || dependence == RouteDependence::SameOnEveryRoute
            || self.keys_on_route()
        {
            return Ok(());
        }
        Err(Error::InvalidResponse(format!(
            "a route-dependent decision would be cached for {:?} under identity sources {:?}, which do not include the route: add $context.routeKey (HTTP API) or context.httpMethod and context.resourcePath (REST) to the identity sources, return a policy that covers every route the caller may use, or set the TTL to 0",
            self.ttl, self.identity_sources
        )))
    }

    /// [`check`](CacheSettings::check) with the route dependence read from an IAM policy
    /// response and the method ARN it answers ([`route_dependence`]).
    pub fn check_policy<P: PolicyResponse + ?Sized>(
        &self,
        response: &P,
        request: &MethodArn,
    ) -> Result<(), Error> {
        self.check(route_dependence(response.policy_document(), request))
    }
}

/// A response that carries an IAM policy document.
pub trait PolicyResponse {
    /// The policy document.
    fn policy_document(&self) -> &ApiGatewayCustomAuthorizerPolicy;
}

impl PolicyResponse for ApiGatewayCustomAuthorizerPolicy {
    fn policy_document(&self) -> &ApiGatewayCustomAuthorizerPolicy {
        self
    }
}

impl PolicyResponse for ApiGatewayCustomAuthorizerResponse {
    fn policy_document(&self) -> &ApiGatewayCustomAuthorizerPolicy {
        &self.policy_document
    }
}

impl PolicyResponse for ApiGatewayV2CustomAuthorizerIamPolicyResponse {
    fn policy_document(&self) -> &ApiGatewayCustomAuthorizerPolicy {
        &self.policy_document
    }
}

/// Whether `policy`, the answer to a request for `request`, was made for that route only.
///
/// [`RouteDependence::PerRoute`] when the policy allows the request and every `Allow` resource
/// that matches it is wildcard-free (it names this method ARN exactly, so other routes the caller
/// may use are not covered); [`RouteDependence::SameOnEveryRoute`] otherwise, including when the
/// policy does not allow the request at all (a cached Deny fails closed).
///
/// This reads the policy only. A decision that looked at the route and then allowed `*` is
/// indistinguishable from one that did not: state it with [`CacheSettings::check`] and
/// [`RouteDependence::PerRoute`].
pub fn route_dependence(
    policy: &ApiGatewayCustomAuthorizerPolicy,
    request: &MethodArn,
) -> RouteDependence {
    let request = request.to_string();
    let mut matching = policy
        .statement
        .iter()
        .filter(|s| s.effect == IamPolicyEffect::Allow)
        .flat_map(|s| s.resource.iter())
        .filter(|resource| iam_match(resource, &request))
        .peekable();
    if matching.peek().is_none() {
        return RouteDependence::SameOnEveryRoute;
    }
    if matching.any(|resource| resource.contains(['*', '?'])) {
        RouteDependence::SameOnEveryRoute
    } else {
        RouteDependence::PerRoute
    }
}
