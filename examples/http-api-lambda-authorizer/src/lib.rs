//! The HTTP API Lambda authorizer of the AWS Compute Blog's "Introducing IAM and Lambda
//! authorizers for Amazon API Gateway HTTP APIs" (payload format 2.0, simple responses), done
//! right, on [`lambdakit_auth`]:
//!
//! - [`rules`]: who may call which route, from configuration: API clients with hashed keys, or
//!   the Cognito groups and scopes each route requires (no I/O);
//! - [`authorizer`]: the two authorizers, `http-authorizer` (API keys) and
//!   `http-authorizer-jwt` (Cognito user pool tokens), which deny on anything but a clear yes
//!   and refuse a cache configuration that would replay one route's answer on another;
//! - [`config`]: the settings, from the environment at cold start;
//! - [`backend`]: the function behind the API, which echoes the authorizer's context;
//! - `local` (feature `local`): the sample events, and a signer and JWKS endpoint standing in
//!   for a Cognito user pool, for the demo and the tests.

pub mod authorizer;
pub mod backend;
pub mod config;
mod error;
#[cfg(feature = "local")]
pub mod local;
pub mod rules;

pub use error::Error;

/// JSON logs for the Lambda functions, filtered by `RUST_LOG`.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}
