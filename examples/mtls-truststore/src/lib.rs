//! The AWS Compute Blog's "Automating mutual TLS setup for Amazon API Gateway", its
//! truststore custom resource in Rust: a CloudFormation custom resource that writes the CA
//! certificates API Gateway checks client certificates against into a versioned S3 object, for
//! a custom domain name's `MutualTlsAuthentication` (`TruststoreUri`, `TruststoreVersion`).
//!
//! - [`bundle`]: PEM text in, a validated, ordered, deduplicated truststore out (no I/O);
//! - [`properties`]: the resource's properties, as CloudFormation sends them;
//! - [`truststore`]: Create, Update and Delete on S3, over a client given to it;
//! - [`custom_resource`]: runs a provider so that CloudFormation always gets an answer, even
//!   when it fails, panics or runs out of time, within the 4096-byte response limit;
//! - [`respond`]: the `PUT` of the answer to the pre-signed `ResponseURL`;
//! - `local` (feature `local`): a versioned bucket on the emulator, the sample events and a
//!   local stand-in for the `ResponseURL`, for the demo and the tests.

pub mod bundle;
pub mod custom_resource;
mod error;
#[cfg(feature = "local")]
pub mod local;
pub mod properties;
pub mod respond;
pub mod truststore;

pub use error::{BoxError, Error};

/// JSON logs for the Lambda function, filtered by `RUST_LOG`.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}
