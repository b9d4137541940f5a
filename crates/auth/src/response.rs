//! Authorizer responses other than the IAM policy builder: the HTTP API simple response, the size
//! check every response goes through, the REST `Unauthorized` convention, and denying on error.
//!
//! # How API Gateway turns an authorizer's answer into a status
//!
//! | the authorizer Lambda ... | REST API | HTTP API |
//! | --- | --- | --- |
//! | returns a policy that allows the method ARN | request goes on | request goes on |
//! | returns a policy with an explicit `Deny`, or that does not allow the method ARN | **403** | **403** |
//! | returns `{"isAuthorized": false}` (simple response, payload 2.0) | — | **403** |
//! | fails with the error message exactly `Unauthorized` ([`Unauthorized`]) | **401** | 500 (the convention is REST's) |
//! | fails with any other error, times out, or returns a malformed or oversized response | **500** | **500** |
//! | (is not called: an identity source is missing from the request) | 401 | 401 |
//!
//! A WebSocket `$connect` authorizer takes the REST request and policy formats; a denied or
//! failed authorization refuses the connection handshake.
//!
//! So a handler has three ways to say no, and this crate gives each a defined path:
//!
//! * **403, a Deny**: [`Policy`](crate::policy::Policy) with `deny...`, a simple response built
//!   with [`SimpleResponse::deny`], or [`DenyResponse::deny_all`].
//! * **401**: return [`Unauthorized`] as the handler's error (REST TOKEN/REQUEST authorizers).
//!   [`unauthorized_or_deny`] maps an error whose status is 401 ([`Error::Unauthorized`]) to it
//!   and every other error to a Deny.
//! * **500**: any other error. It denies too, but looks like an outage; [`deny_on_error`] turns
//!   every error into a Deny instead.
//!
//! A response is never truncated to fit: [`check_size`] refuses anything over
//! [`MAX_RESPONSE_BYTES`] (8 KB), which API Gateway would answer with a 500.
//!
//! # Example
//!
//! ```
//! use lambdakit_auth::response::{deny_on_error, SimpleResponse};
//! use serde_json::json;
//!
//! fn decide(event: &serde_json::Value) -> Result<SimpleResponse, lambdakit_auth::Error> {
//!     let token = event["headers"]["authorization"]
//!         .as_str()
//!         .ok_or_else(|| lambdakit_auth::Error::Unauthorized("no token".into()))?;
//!     Ok(SimpleResponse::allow()
//!         .context("sub", token.trim_start_matches("Bearer "))
//!         .context("groups", json!(["admin", "ops"])))
//! }
//!
//! // A malformed event takes the same path as a refused token: isAuthorized false.
//! let response = deny_on_error(decide(&json!({ "headers": 42 })).and_then(SimpleResponse::build));
//! assert!(!response.is_authorized);
//!
//! let response = deny_on_error(
//!     decide(&json!({ "headers": { "authorization": "Bearer alice" } })).and_then(SimpleResponse::build),
//! );
//! assert!(response.is_authorized);
//! assert_eq!(response.context["groups"][0], "admin");
//! ```

use std::fmt;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::Error;

/// The largest authorizer response API Gateway accepts, in bytes of serialized JSON (8 KB). A
/// response of exactly this size passes [`check_size`]; one byte more is an error.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024;

/// The `principalId` of the responses [`DenyResponse::deny_all`] builds, as in Powertools'
/// `DENY_ALL_RESPONSE`.
pub const DENY_ALL_PRINCIPAL: &str = "deny-all-user";

/// Checks that `response` serializes to at most [`MAX_RESPONSE_BYTES`] and returns its size.
///
/// Returns [`Error::InvalidResponse`] when it is larger (the caller must shrink the context, never
/// cut it) or when it cannot be serialized at all.
pub fn check_size<T: Serialize + ?Sized>(response: &T) -> Result<usize, Error> {
    let bytes = serde_json::to_vec(response).map_err(|e| {
        Error::InvalidResponse(format!("authorizer response does not serialize: {e}"))
    })?;
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(Error::InvalidResponse(format!(
            "authorizer response is {} bytes, over API Gateway's limit of {MAX_RESPONSE_BYTES}",
            bytes.len()
        )));
    }
    Ok(bytes.len())
}

/// Builder of the HTTP API (payload 2.0) simple response, `{"isAuthorized": ..., "context": {...}}`
/// (the authorizer must have `EnableSimpleResponses` on).
///
/// Unlike REST, an HTTP API context may hold arrays and objects; the integration reads them under
/// `$context.authorizer.<key>`. [`build`](SimpleResponse::build) checks the size.
#[derive(Debug, Clone)]
pub struct SimpleResponse {
    authorized: bool,
    context: Map<String, Value>,
}

impl SimpleResponse {
    /// `isAuthorized: true`.
    pub fn allow() -> Self {
        SimpleResponse {
            authorized: true,
            context: Map::new(),
        }
    }

    /// `isAuthorized: false`: API Gateway answers 403.
    pub fn deny() -> Self {
        SimpleResponse {
            authorized: false,
            context: Map::new(),
        }
    }

    /// Adds (or replaces) a context entry. Any JSON value is accepted: string, number, bool,
    /// array, object.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// The response, with `context` absent (`null`) when empty, as Powertools omits it.
    ///
    /// Returns [`Error::InvalidResponse`] when it serializes to more than [`MAX_RESPONSE_BYTES`].
    pub fn build(self) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse, Error> {
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        response.is_authorized = self.authorized;
        response.context = context_value(self.context);
        check_size(&response)?;
        Ok(response)
    }
}

/// An empty context is left out (`null`, which API Gateway reads as absent), as Powertools does.
pub(crate) fn context_value(context: Map<String, Value>) -> Value {
    if context.is_empty() {
        Value::Null
    } else {
        Value::Object(context)
    }
}

/// The error a REST (or WebSocket) Lambda authorizer returns so that API Gateway answers
/// **401 Unauthorized** instead of 500.
///
/// API Gateway recognises a 401 only by the error message being exactly `Unauthorized`, which is
/// what this type displays and nothing else (no detail, so nothing leaks to the caller). Return it
/// from the handler, boxed into `lambda_runtime::Error` by `?` or `.into()`:
///
/// ```
/// use lambdakit_auth::response::Unauthorized;
///
/// type LambdaError = Box<dyn std::error::Error + Send + Sync>; // lambda_runtime::Error
///
/// fn handler(token: Option<&str>) -> Result<(), LambdaError> {
///     let _token = token.ok_or(Unauthorized)?;
///     Ok(())
/// }
/// assert_eq!(handler(None).unwrap_err().to_string(), "Unauthorized");
/// ```
///
/// HTTP APIs do not follow this convention: there any error from the authorizer is a 500, so an
/// HTTP API authorizer answers with a Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unauthorized;

impl fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Exactly this string: API Gateway compares the Lambda error message with it.
        f.write_str("Unauthorized")
    }
}

impl std::error::Error for Unauthorized {}

/// A response type that can deny everything without any input: the fallback when a decision could
/// not be made.
pub trait DenyResponse {
    /// A response that denies every request.
    ///
    /// * IAM policy responses: `principalId` [`DENY_ALL_PRINCIPAL`] and one statement
    ///   `{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": ["*"]}` (Powertools'
    ///   `DENY_ALL_RESPONSE`). `*` needs no method ARN, so it holds in every partition even when
    ///   the event was unreadable.
    /// * Simple response: `{"isAuthorized": false}`.
    fn deny_all() -> Self;
}

fn deny_all_policy() -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec![crate::policy::INVOKE_ACTION.to_owned()];
    // Written out: `IamPolicyEffect::default()` is Allow.
    statement.effect = IamPolicyEffect::Deny;
    statement.resource = vec!["*".to_owned()];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some(crate::policy::POLICY_VERSION.to_owned());
    policy.statement = vec![statement];
    policy
}

impl DenyResponse for ApiGatewayCustomAuthorizerResponse {
    fn deny_all() -> Self {
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some(DENY_ALL_PRINCIPAL.to_owned());
        response.policy_document = deny_all_policy();
        response
    }
}

impl DenyResponse for ApiGatewayV2CustomAuthorizerIamPolicyResponse {
    fn deny_all() -> Self {
        let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
        response.principal_id = Some(DENY_ALL_PRINCIPAL.to_owned());
        response.policy_document = deny_all_policy();
        response
    }
}

impl DenyResponse for ApiGatewayV2CustomAuthorizerSimpleResponse {
    fn deny_all() -> Self {
        let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        response.is_authorized = false;
        response
    }
}

/// The response when the decision succeeded, otherwise a response that denies everything
/// ([`DenyResponse::deny_all`]), so the caller gets a 403 rather than a 500.
///
/// Use it around the whole decision, event parsing included: a malformed event, an unreadable
/// method ARN, a policy this crate refuses to build, an unreachable JWKS endpoint all end here,
/// never in a panic and never in an Allow. The error is logged with `tracing` at `warn` (its
/// `Display`, so an error type must not carry the token it refused).
pub fn deny_on_error<R, E>(result: Result<R, E>) -> R
where
    R: DenyResponse,
    E: fmt::Display,
{
    result.unwrap_or_else(|error| {
        tracing::warn!(%error, "authorizer decision failed: denying");
        R::deny_all()
    })
}

/// For REST (and WebSocket) authorizers: an error whose [`Error::status`] is 401
/// ([`Error::Unauthorized`], an invalid token) becomes the [`Unauthorized`] error, which API
/// Gateway answers with 401; any other error becomes a Deny response (403), like
/// [`deny_on_error`].
///
/// Return the result from the handler: `Ok` is the response, `Err(Unauthorized)` boxes into the
/// handler's error. The reason is logged at `info`, never sent to the caller.
pub fn unauthorized_or_deny<R>(result: Result<R, Error>) -> Result<R, Unauthorized>
where
    R: DenyResponse,
{
    match result {
        Ok(response) => Ok(response),
        Err(error) if error.status() == 401 => {
            tracing::info!(%error, "caller unauthorized: 401");
            Err(Unauthorized)
        }
        Err(error) => Ok(deny_on_error(Err::<R, Error>(error))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn deny_all_is_explicit() {
        let rest = serde_json::to_value(ApiGatewayCustomAuthorizerResponse::deny_all()).unwrap();
        assert_eq!(rest["principalId"], DENY_ALL_PRINCIPAL);
        assert_eq!(
            rest["policyDocument"],
            json!({
                "Version": "2012-10-17",
                "Statement": [{"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": ["*"]}],
            })
        );
        let v2 = serde_json::to_value(ApiGatewayV2CustomAuthorizerIamPolicyResponse::deny_all())
            .unwrap();
        assert_eq!(v2["policyDocument"], rest["policyDocument"]);
        let simple =
            serde_json::to_value(ApiGatewayV2CustomAuthorizerSimpleResponse::deny_all()).unwrap();
        assert_eq!(simple["isAuthorized"], false);
    }

    #[test]
    fn unauthorized_displays_exactly() {
        assert_eq!(Unauthorized.to_string(), "Unauthorized");
        let boxed: Box<dyn std::error::Error + Send + Sync> = Unauthorized.into();
        assert_eq!(boxed.to_string(), "Unauthorized");
    }
}
