//! The crate's one error type.

use crate::model::Warning;

/// Everything that can go wrong turning Textract output into documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a Textract response.
    #[error("not a textract response: {0}")]
    InvalidResponse(#[source] serde_json::Error),
    /// The response parsed but breaks Textract's own rules (e.g. two blocks with one id).
    #[error("malformed textract response: {0}")]
    Malformed(String),
    /// A page image this crate cannot embed (not JPEG or PNG, or a broken file).
    #[error("unsupported page image: {0}")]
    UnsupportedImage(String),
    /// A page image or a document over a configured limit.
    #[error("too large: {0}")]
    TooLarge(String),
    /// An S3 object key that is not percent-encoded UTF-8, or does not match the expected pattern.
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey {
        /// The key as received.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The asynchronous job failed; the message is Textract's `StatusMessage`.
    #[error("textract job {job_id} failed: {message}")]
    JobFailed {
        /// The job.
        job_id: String,
        /// Textract's reason.
        message: String,
    },
    /// The job finished with `PARTIAL_SUCCESS`: some pages were not processed. The pages that
    /// were are in `document`.
    #[error("textract job {job_id} partly succeeded: {} warning(s)", warnings.len())]
    PartialSuccess {
        /// The job.
        job_id: String,
        /// What Textract could not process.
        warnings: Vec<Warning>,
        /// The pages that were processed.
        document: Box<crate::Document>,
    },
    /// The job was still running when the caller's wait ran out.
    #[error("textract job {job_id} still running after {waited:?}")]
    Timeout {
        /// The job.
        job_id: String,
        /// How long was waited.
        waited: std::time::Duration,
    },
    /// A call to Textract failed (throttling, access denied, bad document, ...).
    #[error("textract call {operation} failed")]
    Service {
        /// The API operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// The HTTP status a handler should answer with when it returns this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidResponse(_) | Self::Malformed(_) | Self::Service { .. } => 502,
            Self::UnsupportedImage(_) => 415,
            Self::TooLarge(_) => 413,
            Self::InvalidKey { .. } => 400,
            Self::JobFailed { .. } => 422,
            Self::PartialSuccess { .. } => 207,
            Self::Timeout { .. } => 504,
        }
    }
}
