//! The provider: Create, Update and Delete of a truststore object in a versioned bucket.
//!
//! - **Create** reads the CA certificates (inline and from S3), builds the [`Bundle`], checks
//!   the bucket keeps versions, writes the bundle and answers with the object version: the
//!   physical id is `s3://bucket/key?versionId=...`, `Fn::GetAtt` gives `TrustStoreUri`
//!   (`s3://bucket/key`), `ObjectVersion` and `CertificateCount`.
//! - **Update** does the same, writing a new version, so the physical id changes and
//!   CloudFormation later sends a Delete for the version it replaced. When the new bundle is
//!   byte for byte the stored version (only `RetainOnDelete` changed, say), the version is kept
//!   and nothing is replaced.
//! - **Delete** removes nothing unless `RetainOnDelete` is `false`; then it deletes the one
//!   object version the physical id names, never the key's other versions, which other stacks
//!   or earlier updates may still pin. A physical id that is not a truststore version (a
//!   failed Create) or a bucket already gone is a successful Delete.

use std::collections::HashMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use serde_json::Value;

use crate::Error;
use crate::bundle::{self, Bundle, Source};
use crate::custom_resource::{Outcome, Request};
use crate::properties::{S3Location, TrustStoreProperties, retain_on_delete};

/// `Fn::GetAtt` name of the truststore's URI, `s3://bucket/key` (`TruststoreUri`).
pub const TRUSTSTORE_URI: &str = "TrustStoreUri";
/// `Fn::GetAtt` name of the object version (`TruststoreVersion`).
pub const OBJECT_VERSION: &str = "ObjectVersion";
/// `Fn::GetAtt` name of the number of certificates in the truststore.
pub const CERTIFICATE_COUNT: &str = "CertificateCount";
/// The content type the truststore is stored with.
pub const CONTENT_TYPE: &str = "application/x-pem-file";

/// One version of a truststore object: the resource's physical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStoreVersion {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The S3 version id.
    pub version_id: String,
}

impl TrustStoreVersion {
    /// Reads a physical id, `s3://bucket/key?versionId=...`; `None` for anything else.
    pub fn parse(physical_id: &str) -> Option<Self> {
        let (location, version_id) = physical_id.rsplit_once("?versionId=")?;
        // Without `s3://` the bucket would be "", which `parse` refuses.
        let location = S3Location::parse(location, "")?;
        (!version_id.is_empty()).then(|| Self {
            bucket: location.bucket,
            key: location.key,
            version_id: version_id.to_owned(),
        })
    }

    /// `s3://bucket/key`, as API Gateway's `TruststoreUri` takes it.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn outcome(&self, certificates: usize, reason: String) -> Outcome {
        Outcome {
            physical_resource_id: self.to_string(),
            data: HashMap::from([
                (TRUSTSTORE_URI.to_owned(), self.uri()),
                (OBJECT_VERSION.to_owned(), self.version_id.clone()),
                (CERTIFICATE_COUNT.to_owned(), certificates.to_string()),
            ]),
            reason,
        }
    }
}

impl std::fmt::Display for TrustStoreVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "s3://{}/{}?versionId={}",
            self.bucket, self.key, self.version_id
        )
    }
}

/// The truststore provider, over an S3 client.
#[derive(Debug, Clone)]
pub struct TrustStore {
    s3: aws_sdk_s3::Client,
}

impl TrustStore {
    /// A provider using `s3`.
    pub fn new(s3: aws_sdk_s3::Client) -> Self {
        Self { s3 }
    }

    /// Carries out one request. Errors are the reason of the `FAILED` answer.
    pub async fn handle(self, request: Request) -> Result<Outcome, Error> {
        match request {
            Request::Create(create) => {
                let properties = TrustStoreProperties::from_value(&create.resource_properties)?;
                self.write(&properties, None).await
            }
            Request::Update(update) => {
                let properties = TrustStoreProperties::from_value(&update.resource_properties)?;
                self.write(
                    &properties,
                    TrustStoreVersion::parse(&update.physical_resource_id),
                )
                .await
            }
            Request::Delete(delete) => {
                self.delete(&delete.physical_resource_id, &delete.resource_properties)
                    .await
            }
            // `Request` is non-exhaustive; CloudFormation sends only the three above.
            _ => Err(Error::Request("unknown RequestType".into())),
        }
    }

    /// Builds the bundle and writes it as a new version, unless `current` (the version an
    /// Update replaces) holds the same bytes at the same place.
    pub async fn write(
        &self,
        properties: &TrustStoreProperties,
        current: Option<TrustStoreVersion>,
    ) -> Result<Outcome, Error> {
        let bundle = bundle::build(&self.sources(properties).await?)?;
        let summary = summary(&bundle);
        let target = &properties.truststore;
        if let Some(current) = current.filter(|c| c.bucket == target.bucket && c.key == target.key)
            && self.version_holds(&current, bundle.pem().as_bytes()).await
        {
            return Ok(current.outcome(
                bundle.len(),
                format!("unchanged: {current} already holds {summary}"),
            ));
        }
        self.check_versioned(&target.bucket).await?;
        let written = self
            .s3
            .put_object()
            .bucket(&target.bucket)
            .key(&target.key)
            .content_type(CONTENT_TYPE)
            .body(ByteStream::from(bundle.pem().as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| Error::s3("s3:PutObject", target.to_string(), e))?;
        let version_id = written
            .version_id()
            .filter(|v| !v.is_empty() && *v != "null")
            .ok_or_else(|| Error::NotVersioned(target.bucket.clone()))?;
        let version = TrustStoreVersion {
            bucket: target.bucket.clone(),
            key: target.key.clone(),
            version_id: version_id.to_owned(),
        };
        Ok(version.outcome(bundle.len(), format!("wrote {version}: {summary}")))
    }

    /// Deletes the version `physical_id` names when `properties` say `RetainOnDelete: false`.
    pub async fn delete(&self, physical_id: &str, properties: &Value) -> Result<Outcome, Error> {
        let kept = |reason: String| Outcome {
            physical_resource_id: physical_id.to_owned(),
            data: HashMap::new(),
            reason,
        };
        let Some(version) = TrustStoreVersion::parse(physical_id) else {
            return Ok(kept(format!(
                "nothing to delete: {physical_id} is not a truststore version"
            )));
        };
        if retain_on_delete(properties) {
            return Ok(kept(format!("kept {version} (RetainOnDelete)")));
        }
        let deleted = self
            .s3
            .delete_object()
            .bucket(&version.bucket)
            .key(&version.key)
            .version_id(&version.version_id)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(kept(format!("deleted {version}"))),
            Err(e)
                if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchBucket") =>
            {
                Ok(kept(format!(
                    "nothing to delete: bucket {} is gone",
                    version.bucket
                )))
            }
            Err(e) => Err(Error::s3("s3:DeleteObjectVersion", version.to_string(), e)),
        }
    }

    /// The PEM texts: `Certificates` in order, then each of `CertificateKeys`.
    pub async fn sources(&self, properties: &TrustStoreProperties) -> Result<Vec<Source>, Error> {
        let mut sources: Vec<Source> = properties
            .certificates
            .iter()
            .enumerate()
            .map(|(i, pem)| Source::new(format!("Certificates[{i}]"), pem.as_bytes()))
            .collect();
        for location in &properties.certificate_objects {
            sources.push(Source::new(
                location.to_string(),
                self.read(location).await?,
            ));
        }
        Ok(sources)
    }

    async fn read(&self, location: &S3Location) -> Result<Vec<u8>, Error> {
        let object = self
            .s3
            .get_object()
            .bucket(&location.bucket)
            .key(&location.key)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    Error::NotFound(location.to_string())
                } else {
                    Error::s3("s3:GetObject", location.to_string(), e)
                }
            })?;
        if object
            .content_length()
            .is_some_and(|n| n > bundle::MAX_BYTES as i64)
        {
            return Err(Error::Certificate(format!(
                "{location}: larger than a truststore may be ({} bytes)",
                bundle::MAX_BYTES
            )));
        }
        let bytes = object.body.collect().await.map_err(|e| Error::S3 {
            operation: "s3:GetObject",
            target: location.to_string(),
            message: e.to_string(),
            source: Box::new(e),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn check_versioned(&self, bucket: &str) -> Result<(), Error> {
        let versioning = self
            .s3
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| Error::s3("s3:GetBucketVersioning", bucket, e))?;
        match versioning.status() {
            Some(BucketVersioningStatus::Enabled) => Ok(()),
            _ => Err(Error::NotVersioned(bucket.to_owned())),
        }
    }

    /// Whether `version` exists and holds exactly `bytes`. Any error reads as "no": a new
    /// version is written then.
    async fn version_holds(&self, version: &TrustStoreVersion, bytes: &[u8]) -> bool {
        let stored = self
            .s3
            .get_object()
            .bucket(&version.bucket)
            .key(&version.key)
            .version_id(&version.version_id)
            .send()
            .await;
        match stored {
            Ok(object) => match object.body.collect().await {
                Ok(body) => body.into_bytes().as_ref() == bytes,
                Err(_) => false,
            },
            Err(e) => {
                tracing::debug!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), %version, "cannot read the current version");
                false
            }
        }
    }
}

fn summary(bundle: &Bundle) -> String {
    let roots = bundle.certificates().iter().filter(|c| c.root).count();
    let mut text = format!(
        "{} CA certificate{} ({roots} root{})",
        bundle.len(),
        if bundle.len() == 1 { "" } else { "s" },
        if roots == 1 { "" } else { "s" },
    );
    if bundle.duplicates() > 0 {
        text.push_str(&format!(", {} duplicate(s) dropped", bundle.duplicates()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let expired = bundle.expired(now);
    if !expired.is_empty() {
        tracing::warn!(?expired, "the truststore holds expired certificates");
        text.push_str(&format!("; warning: expired: {}", expired.join("; ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_ids_round_trip_and_others_are_not_versions() {
        let id = "s3://truststores/api/truststore.pem?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY";
        let version = TrustStoreVersion::parse(id).expect("version");
        assert_eq!(version.bucket, "truststores");
        assert_eq!(version.key, "api/truststore.pem");
        assert_eq!(version.uri(), "s3://truststores/api/truststore.pem");
        assert_eq!(version.to_string(), id);
        // A key may itself hold `?`.
        let odd = TrustStoreVersion::parse("s3://b/what?.pem?versionId=v").expect("odd key");
        assert_eq!(odd.key, "what?.pem");
        for other in [
            "create-failed:82304eb2",
            "s3://b/k",
            "s3://b/k?versionId=",
            "b/k?versionId=v",
            "s3://b?versionId=v",
        ] {
            assert_eq!(TrustStoreVersion::parse(other), None, "{other}");
        }
    }
}
