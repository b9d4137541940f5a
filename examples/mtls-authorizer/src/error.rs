//! The example's own error: loading the truststore and settings at cold start. Decisions fail
//! with [`lambdakit_auth::Error`], and every one of those denies.

/// A boxed error, kept as the `source` of [`Error::S3`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What can stop the authorizer from starting. It does not start then: API Gateway answers
/// 500 until it is fixed, and no request gets through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid; the message names it and what is expected.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The object does not exist (or that version of it).
    #[error("{0} does not exist")]
    NotFound(String),
    /// An S3 call failed. The message has the service's error code; the SDK error is the source.
    #[error("{operation} {target} failed: {message}")]
    S3 {
        /// The API operation, such as `s3:GetObject`.
        operation: &'static str,
        /// The object.
        target: String,
        /// The service's error code and message, or the SDK's description.
        message: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// The truststore is unusable (no certificate, no root, not PEM).
    #[error(transparent)]
    Auth(#[from] lambdakit_auth::Error),
}
