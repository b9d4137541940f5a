//! The upload rules of one application: which types, how large, where, for how long.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::content_type::ContentTypes;
use crate::key::{KeyPrefix, ObjectKey};
use crate::multipart::{PartPlan, SignedPart};
use crate::post::{PostPolicy, PresignedPost};
use crate::presign::{CannedAcl, Presigner, serialize_time};
use crate::sigv4::Credentials;

/// Credentials are fetched again when they expire within this margin.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// What a client asks for. Built by the handler from the client's request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UploadRequest {
    /// The file's content type. When absent and exactly one type is allowed, that type.
    pub content_type: Option<String>,
    /// The file's size in bytes.
    pub size: Option<u64>,
    /// The base64 SHA-256 of the file, signed so S3 refuses any other body.
    pub checksum_sha256: Option<String>,
    /// A key chosen by the application (never by the client); it must lie under the
    /// uploader's prefix and scope. When absent a random key is made.
    #[serde(skip)]
    pub key: Option<ObjectKey>,
    /// A path segment under the prefix, such as a user id from a JWT: keys go under
    /// `prefix/scope/`.
    #[serde(skip)]
    pub scope: Option<String>,
}

impl UploadRequest {
    /// A request for a file of `content_type`.
    pub fn new(content_type: impl Into<String>) -> Self {
        Self {
            content_type: Some(content_type.into()),
            ..Self::default()
        }
    }

    /// Sets the size in bytes.
    #[must_use]
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Sets the base64 SHA-256 of the body.
    #[must_use]
    pub fn checksum_sha256(mut self, base64: impl Into<String>) -> Self {
        self.checksum_sha256 = Some(base64.into());
        self
    }

    /// Uses a key chosen by the application.
    #[must_use]
    pub fn key(mut self, key: ObjectKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Puts the key under `prefix/scope/`.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

/// A presigned PUT, in the shape of the blog's response (`uploadURL`, `Key`) plus what a
/// client needs to use it safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedUpload {
    /// The URL to PUT the file to.
    #[serde(rename = "uploadURL")]
    pub upload_url: String,
    /// The object key.
    #[serde(rename = "Key")]
    pub key: String,
    /// Always `PUT`.
    pub method: &'static str,
    /// Headers the client must send, exactly.
    pub headers: BTreeMap<String, String>,
    /// When the URL stops working.
    #[serde(rename = "expiresAt", serialize_with = "serialize_time")]
    pub expires_at: SystemTime,
}

/// A presigned POST form and the key it uploads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostUpload {
    /// The object key.
    pub key: String,
    /// The form's URL, fields and expiry.
    #[serde(flatten)]
    pub post: PresignedPost,
}

enum CredentialSource {
    Static(Arc<Credentials>),
    Provider {
        provider: SharedCredentialsProvider,
        cached: Mutex<Option<Arc<Credentials>>>,
    },
}

/// Presigns uploads under one application's rules.
///
/// Every URL it signs has a checked content type and extension, a key that is random or
/// checked, a size limit S3 enforces (signed `content-length` or `content-length-range`),
/// and a bounded expiry.
pub struct Uploader {
    presigner: Presigner,
    types: ContentTypes,
    prefix: KeyPrefix,
    min_size: u64,
    max_size: u64,
    require_size: bool,
    expires_in: Duration,
    acl: Option<CannedAcl>,
    part_size: u64,
    overwrite: bool,
    credentials: CredentialSource,
}

impl fmt::Debug for Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uploader")
            .field("presigner", &self.presigner)
            .field("types", &self.types)
            .field("prefix", &self.prefix)
            .field("max_size", &self.max_size)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Uploader`].
pub struct UploaderBuilder {
    presigner: Option<Presigner>,
    types: ContentTypes,
    prefix: String,
    min_size: u64,
    max_size: u64,
    require_size: bool,
    expires_in: Duration,
    acl: Option<CannedAcl>,
    part_size: u64,
    overwrite: bool,
    credentials: Option<CredentialSource>,
}

impl fmt::Debug for UploaderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploaderBuilder").finish_non_exhaustive()
    }
}

impl UploaderBuilder {
    /// The presigner (bucket, region, endpoint). Required.
    pub fn presigner(mut self, presigner: Presigner) -> Self {
        self.presigner = Some(presigner);
        self
    }

    /// The allowed content types (default: `image/jpeg` only, as in the blog).
    pub fn content_types(mut self, types: ContentTypes) -> Self {
        self.types = types;
        self
    }

    /// The key prefix, such as `uploads/` (default: none).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The smallest and largest upload in bytes (default 1 byte to 10 MiB).
    pub fn size_range(mut self, min: u64, max: u64) -> Self {
        self.min_size = min;
        self.max_size = max;
        self
    }

    /// Whether a presigned PUT needs the file's size (default true). Without it S3 cannot
    /// enforce the size limit on a PUT; turn it off only for clients like the blog's that
    /// do not send a size.
    pub fn require_size(mut self, yes: bool) -> Self {
        self.require_size = yes;
        self
    }

    /// How long URLs work (default 300 s, at most 7 days).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// A canned ACL for every upload (default none: the bucket's own setting).
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Whether a presigned PUT may replace an existing object (default false). By default
    /// every PUT URL signs `if-none-match: *`, so S3 refuses to overwrite anything: not an
    /// object another upload stored, nor this upload's own object when its URL is replayed.
    pub fn allow_overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// The preferred multipart part size (default 8 MiB; at least 5 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Signs with fixed credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(CredentialSource::Static(Arc::new(credentials)));
        self
    }

    /// Signs with credentials from a provider, such as `SdkConfig::credentials_provider()`.
    /// They are cached until five minutes before they expire.
    pub fn credentials_provider(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(CredentialSource::Provider {
            provider,
            cached: Mutex::new(None),
        });
        self
    }

    /// Checks the settings.
    ///
    /// Returns [`Error::InvalidRequest`] when the presigner or credentials are missing, no
    /// content type is allowed, or the size range or expiry is empty, and
    /// [`Error::ExpiryTooLong`] or [`Error::InvalidKey`] for a bad expiry or prefix.
    pub fn build(self) -> Result<Uploader, Error> {
        let presigner = self
            .presigner
            .ok_or_else(|| Error::InvalidRequest("a presigner is required".into()))?;
        let credentials = self
            .credentials
            .ok_or_else(|| Error::InvalidRequest("credentials are required".into()))?;
        if self.types.is_empty() {
            return Err(Error::InvalidRequest("no content type is allowed".into()));
        }
        if self.min_size > self.max_size {
            return Err(Error::InvalidRequest(format!(
                "the size range {}..={} is empty",
                self.min_size, self.max_size
            )));
        }
        if self.expires_in > crate::MAX_EXPIRY {
            return Err(Error::ExpiryTooLong {
                requested: self.expires_in,
                max: crate::MAX_EXPIRY,
            });
        }
        if self.expires_in < Duration::from_secs(1) {
            return Err(Error::InvalidRequest(
                "the expiry must be at least one second".into(),
            ));
        }
        Ok(Uploader {
            presigner,
            types: self.types,
            prefix: KeyPrefix::parse(self.prefix)?,
            min_size: self.min_size,
            max_size: self.max_size,
            require_size: self.require_size,
            expires_in: self.expires_in,
            acl: self.acl,
            part_size: self.part_size,
            overwrite: self.overwrite,
            credentials,
        })
    }
}

/// The key, content type and extension an upload will get.
struct Target {
    key: ObjectKey,
    content_type: String,
}

impl Uploader {
    /// Starts an [`UploaderBuilder`].
    pub fn builder() -> UploaderBuilder {
        UploaderBuilder {
            presigner: None,
            types: ContentTypes::jpeg_only(),
            prefix: String::new(),
            min_size: 1,
            max_size: 10 * 1024 * 1024,
            require_size: true,
            expires_in: Duration::from_secs(300),
            acl: None,
            part_size: 8 * 1024 * 1024,
            overwrite: false,
            credentials: None,
        }
    }

    /// The presigner.
    pub fn presigner(&self) -> &Presigner {
        &self.presigner
    }

    /// How long signed URLs and forms work.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The largest upload in bytes.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// The current signing credentials, from the cache or the provider.
    ///
    /// Returns [`Error::Credentials`] when the provider fails.
    pub async fn credentials(&self) -> Result<Arc<Credentials>, Error> {
        match &self.credentials {
            CredentialSource::Static(c) => Ok(Arc::clone(c)),
            CredentialSource::Provider { provider, cached } => {
                let now = SystemTime::now();
                let fresh = |c: &Arc<Credentials>| {
                    c.expires_at().is_none_or(|at| at > now + REFRESH_MARGIN)
                };
                if let Some(c) = cached.lock().ok().and_then(|g| g.clone()).filter(fresh) {
                    return Ok(c);
                }
                let creds = provider
                    .provide_credentials()
                    .await
                    .map_err(|e| Error::Credentials(Box::new(e)))?;
                let creds = Arc::new(Credentials::from(&creds));
                if let Ok(mut guard) = cached.lock() {
                    *guard = Some(Arc::clone(&creds));
                }
                Ok(creds)
            }
        }
    }

    /// Presigns a PUT for `req` with the current credentials.
    ///
    /// Errors: see [`Uploader::presign_put_with`], and [`Error::Credentials`].
    pub async fn presign_put(&self, req: &UploadRequest) -> Result<PresignedUpload, Error> {
        let creds = self.credentials().await?;
        self.presign_put_with(req, &creds, SystemTime::now())
    }

    /// Presigns a PUT for `req` with the given credentials and clock.
    ///
    /// Returns [`Error::UnsupportedContentType`], [`Error::TooLarge`] (or
    /// [`Error::InvalidRequest`] for a size under the minimum, a missing size when one is
    /// required, or a malformed checksum), and [`Error::InvalidKey`] / [`Error::Forbidden`]
    /// for a key outside the prefix.
    pub fn presign_put_with(
        &self,
        req: &UploadRequest,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<PresignedUpload, Error> {
        let target = self.target(req)?;
        if let Some(size) = req.size {
            self.check_size(size)?;
        } else if self.require_size {
            return Err(Error::InvalidRequest(
                "the file's size is required (the `size` parameter)".into(),
            ));
        }
        let mut put = self
            .presigner
            .put(&target.key, &target.content_type)
            .expires_in(self.expires_in);
        if let Some(size) = req.size {
            put = put.content_length(size);
        }
        if let Some(sum) = &req.checksum_sha256 {
            put = put.checksum_sha256(decode_sha256(sum)?);
        }
        if let Some(acl) = self.acl {
            put = put.acl(acl);
        }
        if !self.overwrite {
            put = put.header("if-none-match", "*");
        }
        let signed = put.sign(creds, now)?;
        Ok(PresignedUpload {
            upload_url: signed.url,
            key: target.key.to_string(),
            method: signed.method,
            headers: signed.headers,
            expires_at: signed.expires_at,
        })
    }

    /// Presigns a browser form POST for `req` with the current credentials.
    ///
    /// Errors: see [`Uploader::presign_post_with`], and [`Error::Credentials`].
    pub async fn presign_post(&self, req: &UploadRequest) -> Result<PostUpload, Error> {
        let creds = self.credentials().await?;
        self.presign_post_with(req, &creds, SystemTime::now())
    }

    /// Presigns a browser form POST: exact key, exact content type, `content-length-range`
    /// from the uploader's limits, the ACL if any, and `success_action_status` 201.
    ///
    /// Returns the errors of [`Uploader::presign_put_with`], except that no size is needed:
    /// S3 checks the size against the policy.
    pub fn presign_post_with(
        &self,
        req: &UploadRequest,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<PostUpload, Error> {
        let target = self.target(req)?;
        if let Some(size) = req.size {
            self.check_size(size)?;
        }
        let mut policy = PostPolicy::new(target.key.clone())
            .content_type(target.content_type)
            .content_length_range(self.min_size, self.max_size)
            .success_action_status(201)
            .expires_in(self.expires_in);
        if let Some(acl) = self.acl {
            policy = policy.acl(acl);
        }
        if let Some(sum) = &req.checksum_sha256 {
            decode_sha256(sum)?;
            policy = policy.field("x-amz-checksum-sha256", sum.clone());
        }
        let post = policy.sign(&self.presigner, creds, now)?;
        Ok(PostUpload {
            key: target.key.to_string(),
            post,
        })
    }

    /// Plans the parts of a multipart upload of `size` bytes within the size limits.
    ///
    /// Returns [`Error::TooLarge`] over the limit and [`Error::InvalidRequest`] under it.
    pub fn plan_parts(&self, size: u64) -> Result<PartPlan, Error> {
        self.check_size(size)?;
        PartPlan::new(size, self.part_size)
    }

    /// Presigns UploadPart URLs for `part_numbers` of an upload created by
    /// [`Uploader::create_multipart`]. `scope` must be the one the upload was created with.
    ///
    /// Returns [`Error::Forbidden`] for a key outside the prefix and scope, and
    /// [`Error::InvalidRequest`] for part numbers outside 1..=10000 or more than 10000 at once.
    pub async fn sign_parts(
        &self,
        key: &str,
        upload_id: &str,
        part_numbers: &[u32],
        scope: Option<&str>,
    ) -> Result<Vec<SignedPart>, Error> {
        let key = self.owned_key(key, scope)?;
        if part_numbers.len() > crate::multipart::MAX_PARTS as usize {
            return Err(Error::InvalidRequest("too many parts at once".into()));
        }
        let creds = self.credentials().await?;
        let now = SystemTime::now();
        part_numbers
            .iter()
            .map(|&n| {
                let req =
                    self.presigner
                        .upload_part(&key, upload_id, n, self.expires_in, &creds, now)?;
                Ok(SignedPart {
                    part_number: n,
                    url: req.url,
                })
            })
            .collect()
    }

    /// Checks that a key the client sent back lies under the prefix and scope.
    ///
    /// Returns [`Error::InvalidKey`] for a malformed key and [`Error::Forbidden`] for one
    /// outside the prefix and scope.
    pub fn owned_key(&self, key: &str, scope: Option<&str>) -> Result<ObjectKey, Error> {
        let key = ObjectKey::parse(key)?;
        let prefix = self.scoped_prefix(scope)?;
        if key.starts_with(&prefix) {
            Ok(key)
        } else {
            Err(Error::Forbidden(format!(
                "the key is not under {:?}",
                prefix.as_str()
            )))
        }
    }

    fn scoped_prefix(&self, scope: Option<&str>) -> Result<KeyPrefix, Error> {
        match scope {
            Some(scope) => self.prefix.join_segment(scope),
            None => Ok(self.prefix.clone()),
        }
    }

    fn target(&self, req: &UploadRequest) -> Result<Target, Error> {
        let requested = match &req.content_type {
            Some(t) => t.as_str(),
            None => {
                let list = self.types.list();
                if list.contains(',') {
                    return Err(Error::InvalidRequest(format!(
                        "a content type is required (one of {list})"
                    )));
                }
                return self.target(&UploadRequest {
                    content_type: Some(list),
                    ..req.clone()
                });
            }
        };
        let (content_type, extension) = self.types.check(requested)?;
        let prefix = self.scoped_prefix(req.scope.as_deref())?;
        let key = match &req.key {
            Some(key) if key.starts_with(&prefix) => key.clone(),
            Some(_) => {
                return Err(Error::Forbidden(format!(
                    "the key is not under {:?}",
                    prefix.as_str()
                )));
            }
            None => ObjectKey::random(&prefix, extension)?,
        };
        Ok(Target {
            key,
            content_type: content_type.to_owned(),
        })
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        if size > self.max_size {
            return Err(Error::TooLarge {
                size,
                max: self.max_size,
            });
        }
        if size < self.min_size {
            return Err(Error::InvalidRequest(format!(
                "an upload of {size} bytes is under the minimum of {} bytes",
                self.min_size
            )));
        }
        Ok(())
    }
}

#[cfg(feature = "s3")]
impl Uploader {
    /// Creates a multipart upload for `req` and, when its size is given, checks it against
    /// the limit and plans its parts. Without a size (Uppy sends none) the limit is enforced
    /// when the upload is completed.
    ///
    /// Returns the errors of [`Uploader::presign_put_with`] and [`Error::S3`].
    pub async fn create_multipart(
        &self,
        client: &aws_sdk_s3::Client,
        req: &UploadRequest,
    ) -> Result<crate::CreatedUpload, Error> {
        let target = self.target(req)?;
        let plan = req.size.map(|size| self.plan_parts(size)).transpose()?;
        let upload_id = crate::multipart::s3::create(
            client,
            self.presigner.bucket(),
            &target.key,
            &target.content_type,
        )
        .await?;
        Ok(crate::CreatedUpload {
            upload_id,
            key: target.key.to_string(),
            plan,
        })
    }

    /// Lists the parts S3 has received.
    ///
    /// Returns [`Error::Forbidden`], [`Error::NoSuchUpload`] or [`Error::S3`].
    pub async fn list_parts(
        &self,
        client: &aws_sdk_s3::Client,
        key: &str,
        upload_id: &str,
        scope: Option<&str>,
    ) -> Result<Vec<crate::UploadedPart>, Error> {
        let key = self.owned_key(key, scope)?;
        crate::multipart::s3::list_parts(client, self.presigner.bucket(), &key, upload_id).await
    }

    /// Completes an upload. The parts S3 holds are summed first: an upload over the size
    /// limit is aborted and [`Error::TooLarge`] returned, so it never becomes an object.
    ///
    /// Returns [`Error::Forbidden`], [`Error::NoSuchUpload`], [`Error::TooLarge`] or
    /// [`Error::S3`].
    pub async fn complete_multipart(
        &self,
        client: &aws_sdk_s3::Client,
        key: &str,
        upload_id: &str,
        parts: &[crate::UploadedPart],
        scope: Option<&str>,
    ) -> Result<crate::CompletedUpload, Error> {
        let owned = self.owned_key(key, scope)?;
        let bucket = self.presigner.bucket();
        let held = crate::multipart::s3::list_parts(client, bucket, &owned, upload_id).await?;
        let total: u64 = held
            .iter()
            .filter(|p| parts.iter().any(|q| q.part_number == p.part_number))
            .filter_map(|p| p.size)
            .sum();
        if total > self.max_size {
            crate::multipart::s3::abort(client, bucket, &owned, upload_id).await?;
            return Err(Error::TooLarge {
                size: total,
                max: self.max_size,
            });
        }
        crate::multipart::s3::complete(client, bucket, &owned, upload_id, parts).await
    }

    /// Aborts an upload and frees its parts.
    ///
    /// Returns [`Error::Forbidden`], [`Error::NoSuchUpload`] or [`Error::S3`].
    pub async fn abort_multipart(
        &self,
        client: &aws_sdk_s3::Client,
        key: &str,
        upload_id: &str,
        scope: Option<&str>,
    ) -> Result<(), Error> {
        let key = self.owned_key(key, scope)?;
        crate::multipart::s3::abort(client, self.presigner.bucket(), &key, upload_id).await
    }
}

fn decode_sha256(b64: &str) -> Result<[u8; 32], Error> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| {
            Error::InvalidRequest("checksumSha256 must be the base64 of 32 bytes".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploader() -> Uploader {
        Uploader::builder()
            .presigner(
                Presigner::builder()
                    .bucket("photos")
                    .region("us-east-1")
                    .build()
                    .expect("presigner"),
            )
            .prefix("uploads/")
            .size_range(1, 1000)
            .credentials(Credentials::new("AKID", "secret"))
            .build()
            .expect("uploader")
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn put_follows_the_rules() {
        let u = uploader();
        let creds = Credentials::new("AKID", "secret");
        let ok = u
            .presign_put_with(&UploadRequest::new("image/jpeg").size(10), &creds, now())
            .expect("signed");
        assert!(ok.key.starts_with("uploads/") && ok.key.ends_with(".jpg"));
        assert_eq!(ok.headers["content-length"], "10");
        assert_eq!(ok.headers["if-none-match"], "*", "no overwrites by default");
        // The content type defaults to the only allowed one.
        let req = UploadRequest {
            size: Some(5),
            ..UploadRequest::default()
        };
        assert!(u.presign_put_with(&req, &creds, now()).is_ok());

        let err = |r: UploadRequest| u.presign_put_with(&r, &creds, now()).expect_err("refused");
        assert_eq!(err(UploadRequest::new("image/png").size(1)).status(), 415);
        assert_eq!(
            err(UploadRequest::new("image/jpeg").size(1001)).status(),
            413
        );
        assert_eq!(err(UploadRequest::new("image/jpeg").size(0)).status(), 400);
        assert_eq!(err(UploadRequest::new("image/jpeg")).status(), 400);
        assert_eq!(
            err(UploadRequest::new("image/jpeg")
                .size(1)
                .checksum_sha256("nope"))
            .status(),
            400
        );
        let outside = ObjectKey::parse("elsewhere/x.jpg").expect("key");
        assert_eq!(
            err(UploadRequest::new("image/jpeg").size(1).key(outside)).status(),
            403
        );
        assert_eq!(
            err(UploadRequest::new("image/jpeg").size(1).scope("..")).status(),
            400
        );
        let scoped = u
            .presign_put_with(
                &UploadRequest::new("image/jpeg").size(1).scope("alice"),
                &creds,
                now(),
            )
            .expect("signed");
        assert!(scoped.key.starts_with("uploads/alice/"));
        assert!(u.owned_key(&scoped.key, Some("alice")).is_ok());
        assert_eq!(
            u.owned_key(&scoped.key, Some("bob"))
                .map(|_| ())
                .expect_err("bob")
                .status(),
            403
        );
    }

    #[test]
    fn post_carries_the_limits() {
        let u = uploader();
        let creds = Credentials::new("AKID", "secret");
        let post = u
            .presign_post_with(&UploadRequest::new("image/jpeg"), &creds, now())
            .expect("signed");
        assert_eq!(post.post.fields.get("key"), Some(post.key.as_str()));
        assert_eq!(post.post.fields.get("Content-Type"), Some("image/jpeg"));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(post.post.fields.get("policy").expect("policy"))
            .expect("base64");
        let policy: serde_json::Value = serde_json::from_slice(&raw).expect("json");
        assert!(
            policy["conditions"]
                .as_array()
                .expect("conditions")
                .contains(&serde_json::json!(["content-length-range", 1, 1000]))
        );
        let json = serde_json::to_value(&post).expect("json");
        assert_eq!(json["key"], post.key);
        assert!(json["fields"]["x-amz-signature"].is_string());
    }

    #[test]
    fn builder_refuses_bad_settings() {
        let p = || {
            Presigner::builder()
                .bucket("photos")
                .region("us-east-1")
                .build()
                .expect("presigner")
        };
        let c = || Credentials::new("AKID", "secret");
        assert!(Uploader::builder().credentials(c()).build().is_err());
        assert!(Uploader::builder().presigner(p()).build().is_err());
        assert!(
            Uploader::builder()
                .presigner(p())
                .credentials(c())
                .size_range(5, 1)
                .build()
                .is_err()
        );
        assert!(
            Uploader::builder()
                .presigner(p())
                .credentials(c())
                .expires_in(Duration::from_secs(8 * 86400))
                .build()
                .is_err()
        );
        assert!(
            Uploader::builder()
                .presigner(p())
                .credentials(c())
                .prefix("../")
                .build()
                .is_err()
        );
        assert!(
            Uploader::builder()
                .presigner(p())
                .credentials(c())
                .content_types(ContentTypes::new())
                .build()
                .is_err()
        );
    }
}
