//! Presigned PUT and UploadPart URLs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::Serialize;

use crate::Error;
use crate::key::ObjectKey;
use crate::sigv4::{self, Credentials, KeyCache, QueryRequest, Stamp};

/// The longest a presigned URL may live: S3 refuses SigV4 URLs valid for over 7 days.
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// S3 canned ACLs, sent as `x-amz-acl` (PUT) or the `acl` field (POST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CannedAcl {
    /// `private`: only the bucket owner has access (S3's default).
    Private,
    /// `public-read`: anyone may read the object. Needs the bucket's Block Public Access off.
    PublicRead,
    /// `authenticated-read`: any AWS account may read the object.
    AuthenticatedRead,
    /// `bucket-owner-read`: the bucket owner may read the object.
    BucketOwnerRead,
    /// `bucket-owner-full-control`: the bucket owner has full control.
    BucketOwnerFullControl,
}

impl CannedAcl {
    /// The ACL's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
        }
    }
}

/// Where requests go: AWS's own S3 endpoints or a custom one (an emulator, a VPC endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Aws {
        accelerate: bool,
        dual_stack: bool,
    },
    Custom {
        scheme: String,
        authority: String,
        path_style: bool,
    },
}

/// Signs S3 URLs for one bucket, without any network call.
///
/// Cheap to clone: clones share the signing-key cache.
#[derive(Clone)]
pub struct Presigner {
    bucket: String,
    region: String,
    endpoint: Endpoint,
    /// Where requests go, worked out once: scheme, host, and the bucket's path (empty for
    /// virtual-hosted style).
    scheme: String,
    host: String,
    base_path: String,
    cache: Arc<KeyCache>,
}

impl fmt::Debug for Presigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presigner")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Presigner`].
#[derive(Debug, Clone, Default)]
pub struct PresignerBuilder {
    bucket: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    force_path_style: bool,
    accelerate: bool,
    dual_stack: bool,
}

impl PresignerBuilder {
    /// The bucket uploads go to (required).
    pub fn bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// The bucket's region (required), such as `eu-west-1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A custom endpoint such as `http://127.0.0.1:5000`, instead of AWS's own.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Puts the bucket in the path (`https://host/bucket/key`) rather than in the host name.
    pub fn force_path_style(mut self, yes: bool) -> Self {
        self.force_path_style = yes;
        self
    }

    /// Sends uploads through S3 Transfer Acceleration (`bucket.s3-accelerate.amazonaws.com`),
    /// which the bucket must have enabled. Bucket names with dots cannot use it: `build`
    /// refuses them.
    pub fn accelerate(mut self, yes: bool) -> Self {
        self.accelerate = yes;
        self
    }

    /// Uses S3's dual-stack (IPv4 and IPv6) endpoints.
    pub fn dual_stack(mut self, yes: bool) -> Self {
        self.dual_stack = yes;
        self
    }

    /// Checks the settings.
    ///
    /// Returns [`Error::InvalidRequest`] for a missing or malformed bucket, region or
    /// endpoint.
    pub fn build(self) -> Result<Presigner, Error> {
        let bucket = self
            .bucket
            .ok_or_else(|| Error::InvalidRequest("a bucket is required".into()))?;
        check_bucket(&bucket)?;
        let region = self
            .region
            .ok_or_else(|| Error::InvalidRequest("a region is required".into()))?;
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::InvalidRequest(format!("invalid region {region:?}")));
        }
        if self.accelerate && bucket.contains('.') {
            return Err(Error::InvalidRequest(format!(
                "Transfer Acceleration does not take bucket names with dots ({bucket:?})"
            )));
        }
        if (self.accelerate || self.dual_stack) && self.endpoint_url.is_some() {
            return Err(Error::InvalidRequest(
                "accelerate and dual_stack apply to AWS's endpoints, not to endpoint_url".into(),
            ));
        }
        let endpoint = match self.endpoint_url {
            None => Endpoint::Aws {
                accelerate: self.accelerate,
                dual_stack: self.dual_stack,
            },
            Some(url) => {
                let (scheme, rest) = url
                    .split_once("://")
                    .filter(|(s, _)| *s == "http" || *s == "https")
                    .ok_or_else(|| {
                        Error::InvalidRequest(format!(
                            "endpoint {url:?} must start with http(s)://"
                        ))
                    })?;
                let authority = rest.trim_end_matches('/');
                if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
                    return Err(Error::InvalidRequest(format!(
                        "endpoint {url:?} must be a scheme, a host and an optional port"
                    )));
                }
                // Clients leave a default port out of `Host`, so it must not be signed.
                let authority = authority.to_ascii_lowercase();
                let default_port = if scheme == "https" { ":443" } else { ":80" };
                let authority = match authority.strip_suffix(default_port) {
                    Some(host) => host.to_owned(),
                    None => authority,
                };
                Endpoint::Custom {
                    scheme: scheme.to_owned(),
                    authority,
                    path_style: self.force_path_style,
                }
            }
        };
        let (scheme, host, base_path) = target(&bucket, &region, &endpoint);
        Ok(Presigner {
            bucket,
            region,
            endpoint,
            scheme,
            host,
            base_path,
            cache: Arc::default(),
        })
    }
}

/// (scheme, host, path of the bucket without a trailing slash)
fn target(bucket: &str, region: &str, endpoint: &Endpoint) -> (String, String, String) {
    match endpoint {
        Endpoint::Aws {
            accelerate,
            dual_stack,
        } => {
            let domain = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            let dual = if *dual_stack { "dualstack." } else { "" };
            if *accelerate {
                // The signing region stays the bucket's; the host has none.
                return (
                    "https".into(),
                    format!("{bucket}.s3-accelerate.{dual}{domain}"),
                    String::new(),
                );
            }
            // Dotted bucket names do not match S3's wildcard certificate, so they go in the
            // path.
            if bucket.contains('.') {
                (
                    "https".into(),
                    format!("s3.{dual}{region}.{domain}"),
                    format!("/{bucket}"),
                )
            } else {
                (
                    "https".into(),
                    format!("{bucket}.s3.{dual}{region}.{domain}"),
                    String::new(),
                )
            }
        }
        Endpoint::Custom {
            scheme,
            authority,
            path_style,
        } => {
            if *path_style {
                (scheme.clone(), authority.clone(), format!("/{bucket}"))
            } else {
                (
                    scheme.clone(),
                    format!("{bucket}.{authority}"),
                    String::new(),
                )
            }
        }
    }
}

fn check_bucket(bucket: &str) -> Result<(), Error> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.as_bytes()[0].is_ascii_alphanumeric()
        && bucket.as_bytes()[bucket.len() - 1].is_ascii_alphanumeric()
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "invalid bucket name {bucket:?}"
        )))
    }
}

/// A presigned request: what the client sends, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedRequest {
    /// The HTTP method, `PUT`.
    pub method: &'static str,
    /// The full URL, signature included.
    pub url: String,
    /// The headers the client must send exactly as given (they are signed). A browser sets
    /// `content-length` itself.
    pub headers: BTreeMap<String, String>,
    /// When the URL stops working.
    #[serde(serialize_with = "serialize_time")]
    pub expires_at: SystemTime,
}

pub(crate) fn serialize_time<S: serde::Serializer>(
    t: &SystemTime,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&sigv4::iso8601(*t))
}

/// Options of a presigned PutObject; made by [`Presigner::put`].
#[derive(Debug, Clone)]
#[must_use = "a PutObject does nothing until signed"]
pub struct PutObject<'a> {
    presigner: &'a Presigner,
    key: &'a ObjectKey,
    content_type: String,
    content_length: Option<u64>,
    checksum_sha256: Option<String>,
    acl: Option<CannedAcl>,
    metadata: Vec<(String, String)>,
    extra: Vec<(String, String)>,
    expires_in: Duration,
}

/// PutObject headers [`PutObject::header`] may sign, besides those with their own method.
const SIGNABLE_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
    "x-amz-storage-class",
    "x-amz-tagging",
    "x-amz-website-redirect-location",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "x-amz-expected-bucket-owner",
    "if-none-match",
];

impl PutObject<'_> {
    /// Signs the exact size: S3 refuses a body of any other length.
    pub fn content_length(mut self, bytes: u64) -> Self {
        self.content_length = Some(bytes);
        self
    }

    /// Signs the body's SHA-256 (`x-amz-checksum-sha256`): S3 refuses any other body.
    pub fn checksum_sha256(mut self, digest: [u8; 32]) -> Self {
        self.checksum_sha256 = Some(base64::engine::general_purpose::STANDARD.encode(digest));
        self
    }

    /// Signs a canned ACL (`x-amz-acl`).
    pub fn acl(mut self, acl: CannedAcl) -> Self {
        self.acl = Some(acl);
        self
    }

    /// Signs a user metadata header `x-amz-meta-<name>`. Names are lowercase letters, digits
    /// and `-`; values printable ASCII. Bad ones are refused when signing.
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((name.into(), value.into()));
        self
    }

    /// Signs another PutObject header, such as `cache-control`, `content-disposition`,
    /// `x-amz-server-side-encryption`, `x-amz-storage-class`, `x-amz-tagging`, or
    /// `if-none-match: *` (S3 then refuses to overwrite an existing object). Names outside
    /// that list, and values that are not printable ASCII, are refused when signing.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// How long the URL works (default 5 minutes, at most 7 days).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// Signs the request at `now`.
    ///
    /// Returns [`Error::ExpiryTooLong`] over 7 days, [`Error::CredentialsExpired`] when the
    /// credentials have expired, and [`Error::InvalidRequest`] for bad metadata.
    pub fn sign(&self, creds: &Credentials, now: SystemTime) -> Result<PresignedRequest, Error> {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        headers.insert("content-type".into(), self.content_type.clone());
        if let Some(len) = self.content_length {
            headers.insert("content-length".into(), len.to_string());
        }
        if let Some(sum) = &self.checksum_sha256 {
            headers.insert("x-amz-checksum-sha256".into(), sum.clone());
        }
        if let Some(acl) = self.acl {
            headers.insert("x-amz-acl".into(), acl.as_str().into());
        }
        for (name, value) in &self.metadata {
            check_metadata(name, value)?;
            headers.insert(format!("x-amz-meta-{name}"), value.clone());
        }
        for (name, value) in &self.extra {
            if !SIGNABLE_HEADERS.contains(&name.as_str()) {
                return Err(Error::InvalidRequest(format!(
                    "the header {name:?} cannot be signed into a PUT URL"
                )));
            }
            if value.is_empty() || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(Error::InvalidRequest(format!(
                    "the header {name:?} needs a printable ASCII value"
                )));
            }
            headers.insert(name.clone(), value.clone());
        }
        self.presigner
            .presign("PUT", self.key, &[], headers, self.expires_in, creds, now)
    }
}

pub(crate) fn check_metadata(name: &str, value: &str) -> Result<(), Error> {
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let value_ok = value.bytes().all(|b| (0x20..0x7f).contains(&b));
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "metadata {name:?} must have a lowercase name of letters, digits and '-', and a printable ASCII value"
        )))
    }
}

/// Checks a requested expiry and shortens it to the credentials' own expiry.
pub(crate) fn effective_expiry(
    requested: Duration,
    creds: &Credentials,
    now: SystemTime,
) -> Result<u64, Error> {
    if requested > MAX_EXPIRY {
        return Err(Error::ExpiryTooLong {
            requested,
            max: MAX_EXPIRY,
        });
    }
    let mut secs = requested.as_secs();
    if secs == 0 {
        return Err(Error::InvalidRequest(
            "the expiry must be at least one second".into(),
        ));
    }
    if let Some(expires_at) = creds.expires_at() {
        let left = expires_at
            .duration_since(now)
            .map_err(|_| Error::CredentialsExpired)?
            .as_secs();
        if left == 0 {
            return Err(Error::CredentialsExpired);
        }
        secs = secs.min(left);
    }
    Ok(secs)
}

impl Presigner {
    /// Starts a [`PresignerBuilder`].
    pub fn builder() -> PresignerBuilder {
        PresignerBuilder::default()
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A presigned PutObject of `key` with `content_type` (signed, so the client must send
    /// exactly this type).
    pub fn put<'a>(&'a self, key: &'a ObjectKey, content_type: &str) -> PutObject<'a> {
        PutObject {
            presigner: self,
            key,
            content_type: content_type.to_owned(),
            content_length: None,
            checksum_sha256: None,
            acl: None,
            metadata: Vec::new(),
            extra: Vec::new(),
            expires_in: Duration::from_secs(300),
        }
    }

    /// A presigned UploadPart URL of a multipart upload.
    ///
    /// Returns [`Error::InvalidRequest`] for a part number outside 1..=10000 or an empty
    /// upload id, and the errors of [`PutObject::sign`] for the expiry.
    pub fn upload_part(
        &self,
        key: &ObjectKey,
        upload_id: &str,
        part_number: u32,
        expires_in: Duration,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<PresignedRequest, Error> {
        if !(1..=crate::multipart::MAX_PARTS).contains(&part_number) {
            return Err(Error::InvalidRequest(format!(
                "part number {part_number} is outside 1..=10000"
            )));
        }
        if upload_id.is_empty() {
            return Err(Error::InvalidRequest("the upload id is empty".into()));
        }
        let part = part_number.to_string();
        self.presign(
            "PUT",
            key,
            &[("partNumber", &part), ("uploadId", upload_id)],
            BTreeMap::new(),
            expires_in,
            creds,
            now,
        )
    }

    /// The URL a browser form POSTs to: the bucket's root.
    pub fn post_url(&self) -> String {
        format!("{}://{}{}/", self.scheme, self.host, self.base_path)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn presign(
        &self,
        method: &'static str,
        key: &ObjectKey,
        params: &[(&str, &str)],
        headers: BTreeMap<String, String>,
        expires_in: Duration,
        creds: &Credentials,
        now: SystemTime,
    ) -> Result<PresignedRequest, Error> {
        let now = sigv4::whole_seconds(now);
        let expires = effective_expiry(expires_in, creds, now)?;
        let stamp = Stamp::new(now)?;
        let mut path = String::with_capacity(self.base_path.len() + 3 * key.as_str().len() + 1);
        path.push_str(&self.base_path);
        path.push('/');
        sigv4::uri_encode(&mut path, key.as_str(), true);
        let signed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut url = String::with_capacity(self.scheme.len() + self.host.len() + path.len() + 640);
        url.push_str(&self.scheme);
        url.push_str("://");
        url.push_str(&self.host);
        url.push_str(&path);
        url.push('?');
        sigv4::presign_query(
            &mut url,
            &self.cache,
            creds,
            &stamp,
            &QueryRequest {
                method,
                host: &self.host,
                path: &path,
                params,
                headers: &signed,
                region: &self.region,
                expires,
            },
        );
        tracing::debug!(bucket = %self.bucket, key = %key, expires, "presigned {method}");
        Ok(PresignedRequest {
            method,
            url,
            headers,
            expires_at: now + Duration::from_secs(expires),
        })
    }

    pub(crate) fn cache(&self) -> &KeyCache {
        &self.cache
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn matches_the_aws_presigned_get_example() {
        // "Authenticating Requests: Using Query Parameters" in the S3 API reference: a GET of
        // examplebucket/test.txt on 2013-05-24 for 86400 seconds. Our signer is generic over
        // the method, so the published vector checks it byte for byte.
        let p = Presigner::builder()
            .bucket("examplebucket")
            .region("us-east-1")
            .endpoint_url("https://examplebucket.s3.amazonaws.com")
            .force_path_style(false)
            .build()
            .expect("presigner");
        let creds = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
        let stamp = Stamp::new(at(1_369_353_600)).expect("stamp");
        let mut query = String::new();
        sigv4::presign_query(
            &mut query,
            p.cache(),
            &creds,
            &stamp,
            &QueryRequest {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                path: "/test.txt",
                params: &[],
                headers: &[],
                region: "us-east-1",
                expires: 86_400,
            },
        );
        assert!(
            query.ends_with(
                "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{query}"
        );
    }

    #[test]
    fn expiry_rules() {
        let creds = Credentials::new("AKID", "secret");
        assert_eq!(
            effective_expiry(Duration::from_secs(300), &creds, at(0)).ok(),
            Some(300)
        );
        assert!(matches!(
            effective_expiry(MAX_EXPIRY + Duration::from_secs(1), &creds, at(0)),
            Err(Error::ExpiryTooLong { .. })
        ));
        assert_eq!(
            effective_expiry(MAX_EXPIRY, &creds, at(0)).ok(),
            Some(604_800)
        );
        assert!(effective_expiry(Duration::ZERO, &creds, at(0)).is_err());
        let temp = creds.with_expiry(at(1000));
        assert_eq!(
            effective_expiry(Duration::from_secs(3600), &temp, at(900)).ok(),
            Some(100)
        );
        assert!(matches!(
            effective_expiry(Duration::from_secs(60), &temp, at(1000)),
            Err(Error::CredentialsExpired)
        ));
        assert!(matches!(
            effective_expiry(Duration::from_secs(60), &temp, at(2000)),
            Err(Error::CredentialsExpired)
        ));
    }

    #[test]
    fn urls_and_headers() {
        let p = Presigner::builder()
            .bucket("my-bucket")
            .region("eu-west-1")
            .build()
            .expect("presigner");
        let key = ObjectKey::parse("uploads/a b.jpg").expect("key");
        let creds = Credentials::new("AKID", "secret").with_session_token("TOKEN/+=");
        let signed = p
            .put(&key, "image/jpeg")
            .content_length(42)
            .acl(CannedAcl::PublicRead)
            .metadata("owner", "alice")
            .sign(&creds, at(1_700_000_000))
            .expect("signed");
        assert!(
            signed
                .url
                .starts_with("https://my-bucket.s3.eu-west-1.amazonaws.com/uploads/a%20b.jpg?")
        );
        assert!(signed.url.contains("X-Amz-Security-Token=TOKEN%2F%2B%3D"));
        assert!(signed.url.contains(
            "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-acl%3Bx-amz-meta-owner"
        ));
        assert_eq!(signed.headers["content-type"], "image/jpeg");
        assert_eq!(signed.headers["x-amz-acl"], "public-read");
        assert_eq!(signed.headers["x-amz-meta-owner"], "alice");
        assert_eq!(signed.expires_at, at(1_700_000_300));
        assert!(
            p.put(&key, "image/jpeg")
                .metadata("Bad Name", "x")
                .sign(&creds, at(0))
                .is_err()
        );

        let dotted = Presigner::builder()
            .bucket("my.bucket")
            .region("eu-west-1")
            .build()
            .expect("presigner");
        assert_eq!(
            dotted.post_url(),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/"
        );
        let local = Presigner::builder()
            .bucket("b-1")
            .region("us-east-1")
            .endpoint_url("http://127.0.0.1:5000/")
            .force_path_style(true)
            .build()
            .expect("presigner");
        assert_eq!(local.post_url(), "http://127.0.0.1:5000/b-1/");
    }

    #[test]
    fn refuses_bad_settings() {
        let b = || Presigner::builder().region("us-east-1");
        for bucket in ["", "ab", "Upper", "-lead", "trail-", "a..b", "has space"] {
            assert!(b().bucket(bucket).build().is_err(), "{bucket}");
        }
        assert!(Presigner::builder().bucket("ok-bucket").build().is_err());
        assert!(
            b().bucket("ok-bucket")
                .endpoint_url("ftp://x")
                .build()
                .is_err()
        );
        assert!(
            b().bucket("ok-bucket")
                .endpoint_url("http://x/path")
                .build()
                .is_err()
        );
        let p = b().bucket("ok-bucket").build().expect("presigner");
        let key = ObjectKey::parse("k").expect("key");
        let creds = Credentials::new("AKID", "secret");
        assert!(
            p.upload_part(&key, "id", 0, Duration::from_secs(60), &creds, at(0))
                .is_err()
        );
        assert!(
            p.upload_part(&key, "id", 10_001, Duration::from_secs(60), &creds, at(0))
                .is_err()
        );
        assert!(
            p.upload_part(&key, "", 1, Duration::from_secs(60), &creds, at(0))
                .is_err()
        );
        let part = p
            .upload_part(&key, "abc", 3, Duration::from_secs(60), &creds, at(0))
            .expect("part");
        assert!(
            part.url.contains("partNumber=3&uploadId=abc&"),
            "{}",
            part.url
        );
    }
}
