//! Multipart uploads: part sizes, and (with the `s3` feature) the server-side calls.
//!
//! The browser uploads each part straight to S3 through a presigned UploadPart URL; the
//! server creates, completes, aborts and lists. The JSON shapes are those Uppy's
//! `@uppy/aws-s3` plugin expects from its `createMultipartUpload`, `signPart`,
//! `listParts` and `completeMultipartUpload` callbacks.

use serde::{Deserialize, Serialize};

use crate::Error;

/// S3's smallest part, except the last: 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part: 5 GiB.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's most parts in one upload.
pub const MAX_PARTS: u32 = 10_000;

/// How a file of a given size splits into parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartPlan {
    /// The size of every part but the last.
    pub part_size: u64,
    /// How many parts.
    pub part_count: u32,
    /// The size of the last part (equal to `part_size` when it divides the file).
    pub last_part_size: u64,
}

impl PartPlan {
    /// Splits `file_size` bytes into parts of `preferred` bytes (at least 5 MiB), grown as
    /// needed to stay within 10,000 parts.
    ///
    /// Returns [`Error::InvalidRequest`] for an empty file and [`Error::TooLarge`] for a
    /// file over 10,000 parts of 5 GiB.
    pub fn new(file_size: u64, preferred: u64) -> Result<Self, Error> {
        if file_size == 0 {
            return Err(Error::InvalidRequest(
                "a multipart upload needs at least one byte".into(),
            ));
        }
        let max = MAX_PART_SIZE * u64::from(MAX_PARTS);
        if file_size > max {
            return Err(Error::TooLarge {
                size: file_size,
                max,
            });
        }
        let fewest = file_size.div_ceil(u64::from(MAX_PARTS));
        let part_size = preferred.clamp(MIN_PART_SIZE, MAX_PART_SIZE).max(fewest);
        let part_count = file_size.div_ceil(part_size);
        let last_part_size = file_size - (part_count - 1) * part_size;
        Ok(Self {
            part_size,
            part_count: u32::try_from(part_count).unwrap_or(MAX_PARTS),
            last_part_size,
        })
    }
}

/// A multipart upload that was created: Uppy's `createMultipartUpload` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedUpload {
    /// S3's upload id.
    pub upload_id: String,
    /// The object key.
    pub key: String,
    /// How to split the file, when its size was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PartPlan>,
}

/// A presigned part: Uppy's `signPart` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedPart {
    /// The part number, from 1.
    pub part_number: u32,
    /// The presigned UploadPart URL.
    pub url: String,
}

/// A part S3 has received: Uppy's `listParts` items, and what `complete` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    /// The part number, from 1.
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    /// The ETag S3 returned for the part (the browser reads it from the `ETag` header, so
    /// the bucket's CORS rules must expose it).
    #[serde(rename = "ETag")]
    pub etag: String,
    /// The part's size in bytes, when known.
    #[serde(rename = "Size", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A completed upload: Uppy's `completeMultipartUpload` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedUpload {
    /// The object's URL, as S3 reports it.
    pub location: Option<String>,
    /// The object key.
    pub key: String,
    /// The object's ETag.
    pub etag: Option<String>,
}

#[cfg(feature = "s3")]
pub(crate) mod s3 {
    //! The server-side calls, through `aws-sdk-s3`.

    use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

    use super::{CompletedUpload, UploadedPart};
    use crate::Error;
    use crate::key::ObjectKey;

    fn s3_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match err.code() {
            Some("NoSuchUpload") => return Error::NoSuchUpload,
            Some("PreconditionFailed") => {
                return Error::Conflict("an object already exists under this key".into());
            }
            // The client sent parts S3 cannot assemble: its mistake, not the server's.
            Some(
                code @ ("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "MalformedXML"),
            ) => {
                let message = err.message().unwrap_or("the parts cannot be assembled");
                return Error::InvalidRequest(format!("{code}: {message}"));
            }
            _ => {}
        }
        Error::S3 {
            operation,
            source: Box::new(err),
        }
    }

    pub(crate) async fn create(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &ObjectKey,
        content_type: &str,
    ) -> Result<String, Error> {
        let out = client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key.as_str())
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| s3_error("CreateMultipartUpload", e))?;
        out.upload_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::S3 {
                operation: "CreateMultipartUpload",
                source: "no upload id in the response".into(),
            })
    }

    pub(crate) async fn list_parts(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<Vec<UploadedPart>, Error> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = client
                .list_parts()
                .bucket(bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await
                .map_err(|e| s3_error("ListParts", e))?;
            for p in out.parts() {
                parts.push(UploadedPart {
                    part_number: p
                        .part_number()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                    etag: p.e_tag().unwrap_or_default().to_owned(),
                    size: p.size().and_then(|s| u64::try_from(s).ok()),
                });
            }
            match (out.is_truncated(), out.next_part_number_marker()) {
                (Some(true), Some(next)) if !next.is_empty() => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(parts)
    }

    pub(crate) async fn complete(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &ObjectKey,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<CompletedUpload, Error> {
        let mut sorted: Vec<&UploadedPart> = parts.iter().collect();
        sorted.sort_by_key(|p| p.part_number);
        let completed: Vec<CompletedPart> = sorted
            .into_iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(i32::try_from(p.part_number).unwrap_or(i32::MAX))
                    .e_tag(&p.etag)
                    .build()
            })
            .collect();
        let out = client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            // Never replace an object that already exists under the key.
            .if_none_match("*")
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_error("CompleteMultipartUpload", e))?;
        Ok(CompletedUpload {
            location: out.location().map(str::to_owned),
            key: key.as_str().to_owned(),
            etag: out.e_tag().map(str::to_owned),
        })
    }

    pub(crate) async fn abort(
        client: &aws_sdk_s3::Client,
        bucket: &str,
        key: &ObjectKey,
        upload_id: &str,
    ) -> Result<(), Error> {
        client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .send()
            .await
            .map_err(|e| s3_error("AbortMultipartUpload", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn part_plans_follow_s3_limits() {
        let p = PartPlan::new(12 * MIB, 5 * MIB).expect("plan");
        assert_eq!(
            (p.part_size, p.part_count, p.last_part_size),
            (5 * MIB, 3, 2 * MIB)
        );
        let p = PartPlan::new(10 * MIB, 5 * MIB).expect("plan");
        assert_eq!((p.part_count, p.last_part_size), (2, 5 * MIB));
        // A preferred size under 5 MiB is raised to it.
        assert_eq!(
            PartPlan::new(MIB, 1).expect("plan").part_size,
            MIN_PART_SIZE
        );
        // 100 GiB in 5 MiB parts would be 20,480 parts: the part size grows instead.
        let big = 100 * 1024 * MIB;
        let p = PartPlan::new(big, 5 * MIB).expect("plan");
        assert!(p.part_count <= MAX_PARTS);
        assert!(p.part_size * u64::from(p.part_count) >= big);
        assert!(p.part_size * u64::from(p.part_count - 1) < big);
        assert!(PartPlan::new(0, 5 * MIB).is_err());
        let max = MAX_PART_SIZE * u64::from(MAX_PARTS);
        assert_eq!(PartPlan::new(max, 1).expect("plan").part_count, MAX_PARTS);
        assert!(matches!(
            PartPlan::new(max + 1, 1),
            Err(Error::TooLarge { .. })
        ));
    }
}
