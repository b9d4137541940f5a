//! The crate's one error type.

use std::time::Duration;

/// What went wrong while preparing an upload.
///
/// Every variant maps to an HTTP status ([`Error::status`]) and a stable code
/// ([`Error::code`]), so a handler can return it to the client as is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The content type is not on the allow-list.
    #[error("content type {content_type:?} is not allowed (allowed: {allowed})")]
    UnsupportedContentType {
        /// The type the client asked for.
        content_type: String,
        /// The allowed types.
        allowed: String,
    },
    /// The upload is larger than the limit.
    #[error("an upload of {size} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// The size the client asked for.
        size: u64,
        /// The largest size allowed.
        max: u64,
    },
    /// The requested expiry is longer than allowed (S3 allows at most 7 days).
    #[error("an expiry of {requested:?} is over the maximum of {max:?}")]
    ExpiryTooLong {
        /// The expiry asked for.
        requested: Duration,
        /// The longest expiry allowed.
        max: Duration,
    },
    /// The object key or prefix is not acceptable.
    #[error("invalid key {0}")]
    InvalidKey(String),
    /// The caller is not identified (no JWT claim to scope their keys by).
    #[error("the caller is not identified")]
    Unauthorized,
    /// The caller may not touch this key (it lies outside their prefix or scope).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Some other part of the request is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The signing credentials have expired (or expire within the second).
    #[error("the signing credentials have expired")]
    CredentialsExpired,
    /// The credentials provider failed.
    #[error("could not load signing credentials")]
    Credentials(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The operating system could not supply random bytes for a key.
    #[error("no randomness available: {0}")]
    Random(String),
    /// The upload would replace an object that already exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// No such route or resource.
    #[error("not found: {0}")]
    NotFound(String),
    /// The multipart upload does not exist (already completed or aborted, or never created).
    #[error("no such multipart upload")]
    NoSuchUpload,
    /// An S3 call failed.
    #[error("s3 {operation} failed")]
    S3 {
        /// The S3 operation, such as `CreateMultipartUpload`.
        operation: &'static str,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// The HTTP status a handler should answer with.
    pub fn status(&self) -> u16 {
        match self {
            Error::UnsupportedContentType { .. } => 415,
            Error::TooLarge { .. } => 413,
            Error::ExpiryTooLong { .. } | Error::InvalidKey(_) | Error::InvalidRequest(_) => 400,
            Error::Unauthorized => 401,
            Error::Forbidden(_) => 403,
            Error::NoSuchUpload | Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::S3 { .. } => 502,
            Error::CredentialsExpired | Error::Credentials(_) | Error::Random(_) => 500,
        }
    }

    /// A stable, machine-readable code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedContentType { .. } => "UnsupportedContentType",
            Error::TooLarge { .. } => "TooLarge",
            Error::ExpiryTooLong { .. } => "ExpiryTooLong",
            Error::InvalidKey(_) => "InvalidKey",
            Error::InvalidRequest(_) => "InvalidRequest",
            Error::CredentialsExpired => "CredentialsExpired",
            Error::Credentials(_) => "CredentialsUnavailable",
            Error::Random(_) => "RandomUnavailable",
            Error::Unauthorized => "Unauthorized",
            Error::Forbidden(_) => "Forbidden",
            Error::NoSuchUpload => "NoSuchUpload",
            Error::NotFound(_) => "NotFound",
            Error::Conflict(_) => "Conflict",
            Error::S3 { .. } => "S3Error",
        }
    }

    /// True for errors caused by the client's request (4xx).
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status())
    }

    /// The JSON body a handler returns: `{"code": "...", "message": "..."}`.
    ///
    /// Server-side errors (5xx) carry a generic message: internal details stay in the logs.
    pub fn to_json(&self) -> serde_json::Value {
        let message = if self.is_client_error() {
            self.to_string()
        } else {
            "the upload could not be prepared".to_owned()
        };
        serde_json::json!({ "code": self.code(), "message": message })
    }
}
