//! S3 objects the authorizer reads: the truststore bundle at cold start, and the CRLs through
//! [`lambdakit_auth::mtls::CrlCache`], for which [`S3Object`] is the fetcher.

use lambdakit_auth::mtls::{CrlFetcher, FetchFuture};

use crate::Error;

/// An object, by `s3://bucket/key` and optionally a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// A version id, to read that version rather than the current one.
    pub version: Option<String>,
}

impl S3Location {
    /// Parses `s3://bucket/key`; `None` for anything else.
    pub fn parse(uri: &str) -> Option<Self> {
        let (bucket, key) = uri.strip_prefix("s3://")?.split_once('/')?;
        (!bucket.is_empty() && !key.is_empty()).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version: None,
        })
    }

    /// The same object at `version` (`None` or empty: the current version).
    pub fn at_version(mut self, version: Option<String>) -> Self {
        self.version = version.filter(|v| !v.is_empty());
        self
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)?;
        if let Some(version) = &self.version {
            write!(f, "?versionId={version}")?;
        }
        Ok(())
    }
}

/// An S3 object and the client to read it with.
#[derive(Debug, Clone)]
pub struct S3Object {
    s3: aws_sdk_s3::Client,
    location: S3Location,
}

impl S3Object {
    /// `location`, read with `s3`.
    pub fn new(s3: aws_sdk_s3::Client, location: S3Location) -> Self {
        Self { s3, location }
    }

    /// Where it is.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// Its bytes.
    ///
    /// Errors: [`Error::NotFound`] when there is no such object (or version),
    /// [`Error::S3`] for any other failure.
    pub async fn read(&self) -> Result<Vec<u8>, Error> {
        let target = self.location.to_string();
        let mut request = self
            .s3
            .get_object()
            .bucket(&self.location.bucket)
            .key(&self.location.key);
        if let Some(version) = &self.location.version {
            request = request.version_id(version);
        }
        let object = request.send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                Error::NotFound(target.clone())
            } else {
                let message = match e.as_service_error() {
                    Some(service) => format!(
                        "{}: {}",
                        aws_sdk_s3::error::ProvideErrorMetadata::code(service).unwrap_or("error"),
                        aws_sdk_s3::error::ProvideErrorMetadata::message(service)
                            .unwrap_or("no message")
                    ),
                    None => aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                };
                Error::S3 {
                    operation: "s3:GetObject",
                    target: target.clone(),
                    message,
                    source: Box::new(e),
                }
            }
        })?;
        let bytes = object.body.collect().await.map_err(|e| Error::S3 {
            operation: "s3:GetObject",
            target,
            message: e.to_string(),
            source: Box::new(e),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }
}

/// The CRLs come from the object: one or more CRLs, PEM (`X509 CRL` blocks) or DER back to
/// back, as [`lambdakit_auth::mtls::CrlSet::parse`] reads them.
impl CrlFetcher for S3Object {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move { self.read().await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_print() {
        let location = S3Location::parse("s3://pki-bucket/crl/partners.crl").expect("uri");
        assert_eq!(location.bucket, "pki-bucket");
        assert_eq!(location.key, "crl/partners.crl");
        assert_eq!(
            location.clone().at_version(Some("v1".into())).to_string(),
            "s3://pki-bucket/crl/partners.crl?versionId=v1"
        );
        assert_eq!(
            location.clone().at_version(Some(String::new())).version,
            None
        );
        for bad in [
            "pki-bucket/crl",
            "s3://",
            "s3://b",
            "s3:///k",
            "s3://b/",
            "https://b/k",
        ] {
            assert_eq!(S3Location::parse(bad), None, "{bad}");
        }
    }
}
