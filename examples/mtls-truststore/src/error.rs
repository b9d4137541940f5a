//! The example's one error type. Its message is the `Reason` CloudFormation shows in the
//! stack's events, so it says what to fix.

/// A boxed error, kept as the `source` of [`Error::S3`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything the custom resource can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is not a CloudFormation custom resource request.
    #[error("malformed custom resource request: {0}")]
    Request(String),
    /// A resource property is missing, misspelt or of the wrong shape.
    #[error("invalid resource properties: {0}")]
    Properties(String),
    /// A CA certificate is not one, or the chain is incomplete.
    #[error("{0}")]
    Certificate(String),
    /// A CA certificate object does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The truststore bucket does not keep versions: API Gateway pins a truststore version.
    #[error(
        "bucket {0} is not versioned: enable versioning (VersioningConfiguration Status Enabled) \
         so each truststore keeps its own object version"
    )]
    NotVersioned(String),
    /// An S3 call failed. The message has the service's error code; the SDK error is the source.
    #[error("{operation} {target} failed: {message}")]
    S3 {
        /// The API operation, such as `s3:PutObject`.
        operation: &'static str,
        /// The bucket or object.
        target: String,
        /// The service's error code and message, or the SDK's description.
        message: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// The provider did not finish within the Lambda function's remaining time.
    #[error("timed out after {0:?}: the function's time ran out before the truststore was done")]
    Timeout(std::time::Duration),
    /// The provider panicked: a bug, reported rather than leaving the stack waiting.
    #[error("internal error (panic): {0}")]
    Panicked(String),
    /// The response could not be delivered to CloudFormation's pre-signed URL.
    #[error("sending the response to CloudFormation failed: {0}")]
    Respond(String),
    /// A setting is missing or invalid (at cold start).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// Wraps an SDK error of `operation` on `target`, keeping the service's error code and
    /// message for the reason CloudFormation shows.
    pub fn s3<E>(
        operation: &'static str,
        target: impl Into<String>,
        error: aws_sdk_s3::error::SdkError<E>,
    ) -> Self
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let message = match error.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("error"),
                service.message().unwrap_or("no message")
            ),
            None => aws_sdk_s3::error::DisplayErrorContext(&error).to_string(),
        };
        Self::S3 {
            operation,
            target: target.into(),
            message,
            source: Box::new(error),
        }
    }
}
