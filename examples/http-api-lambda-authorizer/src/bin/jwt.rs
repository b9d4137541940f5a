//! The `http-authorizer-jwt` Lambda: the HTTP API's Lambda authorizer for Cognito user pool
//! tokens (`Authorization: Bearer <access token>`), verified with `lambdakit_auth::jwt`
//! against the pool's JWKS (fetched once, cached). Each route requires the groups or scopes
//! `ROUTE_RULES` gives it; a route without a rule is denied.
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke http-authorizer-jwt --data-file
//! events/authorizer-request-jwt.json`, or deploy with `sam build && sam deploy --guided`
//! (see the README).

use example_http_api_lambda_authorizer::authorizer::JwtAuthorizer;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_http_api_lambda_authorizer::init_logs();
    let authorizer = JwtAuthorizer::from_env()?;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(authorizer.authorize(event.payload).await)
    }))
    .await
}
