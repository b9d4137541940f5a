//! The example's one error type, and the HTTP status each case maps to.

/// A boxed error, kept as the `source` of [`Error::Aws`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything the scanner's functions can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed: a missing or invalid parameter or body (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request carries no Cognito user (401): the authorizer passed no
    /// `cognito:username` claim.
    #[error("no signed-in user")]
    Unauthorized,
    /// The project (or what was asked of it) does not exist (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request clashes with what is stored: the project exists already, or a page's image
    /// is gone (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A setting is missing or invalid (500; only at cold start).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A call to S3 or DynamoDB failed (500). The SDK error is the source.
    #[error("{operation} failed")]
    Aws {
        /// The API operation, such as `dynamodb:Query`.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// Textract, a Textract result or a page image failed: its own status (502 for the
    /// service, 415 for an image a PDF cannot embed, ...).
    #[error(transparent)]
    Textract(#[from] lambdakit_textract::Error),
    /// Something that should not happen did (500): stored data of the wrong shape, writes
    /// DynamoDB kept refusing.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status an API function answers with when it returns this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Config(_) | Self::Aws { .. } | Self::Internal(_) => 500,
            Self::Textract(e) => e.status(),
        }
    }

    /// Wraps an SDK error of `operation`.
    pub fn aws(operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Aws {
            operation,
            source: source.into(),
        }
    }
}

/// The error with its chain of sources, for logs (never for responses).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Error::BadRequest("x".into()).status(), 400);
        assert_eq!(Error::Unauthorized.status(), 401);
        assert_eq!(Error::NotFound("x".into()).status(), 404);
        assert_eq!(Error::Conflict("x".into()).status(), 409);
        assert_eq!(Error::aws("s3:GetObject", "boom").status(), 500);
    }

    #[test]
    fn the_chain_names_every_cause() {
        let e = Error::aws("dynamodb:Query", std::io::Error::other("connection reset"));
        assert_eq!(chain(&e), "dynamodb:Query failed: connection reset");
    }
}
