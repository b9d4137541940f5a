//! The crate's one error type, shaped like Serverless Image Handler's `ImageHandlerError`.

use std::borrow::Cow;

/// What kind of failure an [`Error`] is: the cases a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed or asks for something invalid (400).
    BadRequest,
    /// A signed URL past its `expires` time (400, as Serverless Image Handler answers).
    Expired,
    /// A missing or mismatched signature, or a bucket outside `SOURCE_BUCKETS` (403).
    Forbidden,
    /// The source image does not exist (404).
    NotFound,
    /// An input or output over a limit: pixels, dimensions, bytes (413 or 400).
    TooLarge,
    /// The work ran past its time budget (503).
    Timeout,
    /// Anything else: a failed dependency or a bug (500).
    Internal,
}

/// An error with the HTTP status, code and message that Serverless Image Handler answers with.
///
/// [`Error::to_json`] renders the JSON body byte for byte as Serverless Image Handler does:
/// `{"status":400,"code":"...","message":"..."}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    kind: ErrorKind,
    status: u16,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    /// Serverless Image Handler's catch-all body lists its fields in another order.
    catch_all: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error with this status, code and message; the kind follows from the status.
    pub fn new(
        status: u16,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        let kind = match status {
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            413 => ErrorKind::TooLarge,
            503 | 504 => ErrorKind::Timeout,
            400..=499 => ErrorKind::BadRequest,
            _ => ErrorKind::Internal,
        };
        Self {
            kind,
            status,
            code: code.into(),
            message: message.into(),
            catch_all: false,
            source: None,
        }
    }

    /// Serverless Image Handler's catch-all 500, `InternalError`, for failures that carry no
    /// status of their own.
    pub fn internal() -> Self {
        let mut error = Self::new(
            500,
            "InternalError",
            "Internal error. Please contact the system administrator.",
        );
        error.catch_all = true;
        error
    }

    /// The same error with another kind (for example [`ErrorKind::Expired`] on a 400).
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error with its cause kept as the [`std::error::Error::source`].
    #[must_use]
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status a handler answers with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Serverless Image Handler's error code, such as `SignatureDoesNotMatch`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body Serverless Image Handler sends for this error, byte for byte.
    pub fn to_json(&self) -> String {
        let code = serde_json::Value::from(self.code.as_ref());
        let message = serde_json::Value::from(self.message.as_ref());
        if self.catch_all {
            format!(
                "{{\"message\":{message},\"code\":{code},\"status\":{}}}",
                self.status
            )
        } else {
            format!(
                "{{\"status\":{},\"code\":{code},\"message\":{message}}}",
                self.status
            )
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_match_serverless_image_handler() {
        let e = Error::new(403, "SignatureDoesNotMatch", "Signature does not match.");
        assert_eq!(
            e.to_json(),
            r#"{"status":403,"code":"SignatureDoesNotMatch","message":"Signature does not match."}"#
        );
        assert_eq!(e.kind(), ErrorKind::Forbidden);
        assert_eq!(
            Error::internal().to_json(),
            r#"{"message":"Internal error. Please contact the system administrator.","code":"InternalError","status":500}"#
        );
        let quoted = Error::new(400, "X", "a \"quoted\" / é");
        assert_eq!(
            quoted.to_json(),
            r#"{"status":400,"code":"X","message":"a \"quoted\" / é"}"#
        );
    }
}
