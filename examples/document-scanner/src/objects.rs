//! The bucket: page images, Textract results and exported PDFs.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::Error;

/// `DeleteObjects` takes at most 1000 keys.
pub const DELETE_OBJECTS_MAX: usize = 1000;

/// The bucket.
#[derive(Debug, Clone)]
pub struct Objects {
    s3: aws_sdk_s3::Client,
    bucket: String,
    page_size: Option<i32>,
}

impl Objects {
    /// The bucket `bucket`; `page_size` is the `MaxKeys` of each `ListObjectsV2` (`None`: 1000).
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>, page_size: Option<i32>) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            page_size,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object's bytes, or `None` when there is no such key.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let result = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(Error::aws("s3:GetObject", e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| Error::aws("s3:GetObject", e))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    /// Writes an object.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), Error> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| Error::aws("s3:PutObject", e))?;
        Ok(())
    }

    /// Every key under `prefix`, following continuation tokens to the end.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_max_keys(self.page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| Error::aws("s3:ListObjectsV2", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token {
                Some(next) if out.is_truncated == Some(true) => token = Some(next),
                _ => return Ok(keys),
            }
        }
    }

    /// Deletes `keys` with `DeleteObjects`, 1000 at a time. Returns how many were deleted.
    ///
    /// Returns [`Error::Internal`] naming the first key S3 could not delete (the caller fails
    /// and can be retried: deleting is idempotent).
    pub async fn delete(&self, keys: &[String]) -> Result<usize, Error> {
        for chunk in keys.chunks(DELETE_OBJECTS_MAX) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::Internal(format!("delete request: {e}")))?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| Error::Internal(format!("delete request: {e}")))?;
            let out = self
                .s3
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| Error::aws("s3:DeleteObjects", e))?;
            if let Some(failed) = out.errors().first() {
                return Err(Error::Internal(format!(
                    "{} of {} objects not deleted; first {:?}: {}",
                    out.errors().len(),
                    chunk.len(),
                    failed.key().unwrap_or_default(),
                    failed.code().unwrap_or_default()
                )));
            }
        }
        Ok(keys.len())
    }

    /// A presigned GET URL for `key`, valid for `expires_in`.
    pub async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, Error> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| Error::Internal(format!("presigning: {e}")))?;
        let request = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type("application/pdf")
            .presigned(config)
            .await
            .map_err(|e| Error::aws("s3:GetObject (presign)", e))?;
        Ok(request.uri().to_owned())
    }
}
