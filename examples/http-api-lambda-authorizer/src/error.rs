//! The example's own error: configuration read at cold start. Decisions fail with
//! [`lambdakit_auth::Error`], and every one of those denies.

/// A setting is missing or invalid. The function does not start: API Gateway answers 500
/// until the configuration is fixed, rather than allowing or silently denying everyone.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid; the message names it and what is expected.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl From<lambdakit_auth::Error> for Error {
    fn from(error: lambdakit_auth::Error) -> Self {
        Self::Config(error.to_string())
    }
}
