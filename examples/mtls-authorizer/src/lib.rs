//! An HTTP API custom domain with mutual TLS, and a Lambda authorizer that verifies each
//! client certificate against the CA bundle and the CAs' CRLs in S3, with
//! [`lambdakit_auth::mtls`]. API Gateway checks the chain during the handshake but no
//! revocation: this is where a revoked partner certificate is refused.
//!
//! - [`authorizer`]: the `mtls-authorizer` function's decision (payload format 2.0, simple
//!   responses), denying on anything but a verified, unrevoked certificate;
//! - [`s3`]: the truststore and CRL objects, and the S3 CRL fetcher of the
//!   [`CrlCache`](lambdakit_auth::mtls::CrlCache);
//! - [`config`]: the settings, from the environment at cold start;
//! - [`backend`]: the `mtls-backend` function, which answers with the verified caller;
//! - `local` (feature `local`): a throwaway PKI made with rcgen, its truststore and CRLs in a
//!   bucket on the local emulator, and the sample events, for the demo and the tests.
//!
//! The truststore itself comes from the [`mtls-truststore`](../mtls-truststore) custom
//! resource, or from any `s3://` URI.

pub mod authorizer;
pub mod backend;
pub mod config;
mod error;
#[cfg(feature = "local")]
pub mod local;
pub mod s3;

pub use error::{BoxError, Error};

/// JSON logs for the Lambda functions, filtered by `RUST_LOG`.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}
