//! Where original images come from: an [`ImageSource`].
//!
//! [`S3Source`] (feature `aws`) reads S3 objects as Serverless Image Handler's
//! `getOriginalImage` does; [`DirSource`] reads a local directory (development, tests).

use std::future::Future;
use std::path::{Component, Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::{Error, ErrorKind, Result};

/// The default most bytes read from one source object: 64 MiB.
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// Serverless Image Handler's supported content types (its `ContentTypes`): a stored content
/// type outside this list is replaced by one inferred from the bytes.
pub const IMAGE_CONTENT_TYPES: [&str; 7] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/tiff",
    "image/gif",
    "image/svg+xml",
    "image/avif",
];

/// An original image and the metadata the response headers are built from.
#[derive(Debug, Clone, Default)]
pub struct SourceImage {
    /// The encoded image.
    pub bytes: bytes::Bytes,
    /// Its media type; `None` when the store has none (the response then says `image`, as
    /// Serverless Image Handler's does).
    pub content_type: Option<String>,
    /// The stored `Cache-Control`, if any.
    pub cache_control: Option<String>,
    /// The stored `Expires`, as an HTTP date (`Tue, 24 Dec 2019 13:46:28 GMT`).
    pub expires: Option<String>,
    /// The last modification time, as an HTTP date (`Sat, 19 Dec 2009 16:30:47 GMT`), as
    /// JavaScript's `toUTCString` writes it.
    pub last_modified: Option<String>,
    /// The store's entity tag, if any.
    pub etag: Option<String>,
}

/// A store of original images.
pub trait ImageSource: Send + Sync {
    /// The image at `key` in `bucket`.
    ///
    /// # Errors
    /// 404 `NoSuchKey` ([`not_found`]) when there is no such image or it may not be read;
    /// 500 `ImageRetrieval::CannotRetrieveImage` when reading it fails midway or it is over the
    /// size limit; 500 `RequestTypeError` when its type is not an image type and cannot be
    /// inferred from its bytes.
    fn fetch(&self, bucket: &str, key: &str) -> impl Future<Output = Result<SourceImage>> + Send;
}

impl<T: ImageSource> ImageSource for std::sync::Arc<T> {
    fn fetch(&self, bucket: &str, key: &str) -> impl Future<Output = Result<SourceImage>> + Send {
        (**self).fetch(bucket, key)
    }
}

/// Serverless Image Handler's 404 for an image that cannot be fetched.
pub fn not_found(key: &str) -> Error {
    Error::new(
        404,
        "NoSuchKey",
        format!(
            "The image {key} does not exist or the request may not be base64 encoded properly."
        ),
    )
}

/// Serverless Image Handler's 500 for an image that could not be read.
pub fn cannot_retrieve() -> Error {
    Error::new(
        500,
        "ImageRetrieval::CannotRetrieveImage",
        "Image could not be retrieved from S3.",
    )
}

/// The content type of an image from its first bytes, as Serverless Image Handler's
/// `inferImageType`: PNG, WebP (any RIFF), TIFF, GIF, JPEG, AVIF.
///
/// # Errors
/// Serverless Image Handler's 500 `RequestTypeError` when the bytes are none of these (SVG
/// included: it has no signature).
pub fn infer_image_type(bytes: &[u8]) -> Result<&'static str> {
    let inferred = match bytes {
        [0x89, 0x50, 0x4E, 0x47, ..] => Some("image/png"),
        [0x52, 0x49, 0x46, 0x46, ..] => Some("image/webp"),
        [0x49, 0x49, 0x2A, 0x00, ..] | [0x4D, 0x4D, 0x00, 0x2A, ..] => Some("image/tiff"),
        [0x47, 0x49, 0x46, 0x38, ..] => Some("image/gif"),
        [0xFF, 0xD8, ..] => Some("image/jpeg"),
        [
            _,
            _,
            _,
            _,
            b'f',
            b't',
            b'y',
            b'p',
            b'a',
            b'v',
            b'i',
            b'f',
            ..,
        ] => Some("image/avif"),
        _ => None,
    };
    inferred.ok_or_else(|| {
        Error::new(
            500,
            "RequestTypeError",
            "The file does not have an extension and the file type could not be inferred. Please ensure that your original image is of a supported file type (jpg/jpeg, png, tiff, webp, gif, avif). Inferring the image type from hex headers is not available for SVG images. Refer to the documentation for additional guidance on forming image requests.",
        )
    })
}

/// The content type Serverless Image Handler settles on for a stored one: kept when it is one
/// of [`IMAGE_CONTENT_TYPES`], otherwise inferred from the bytes.
///
/// # Errors
/// As [`infer_image_type`].
pub fn resolve_content_type(stored: Option<&str>, bytes: &[u8]) -> Result<Option<String>> {
    match stored {
        None => Ok(None),
        Some(ct) if IMAGE_CONTENT_TYPES.contains(&ct) => Ok(Some(ct.to_owned())),
        Some(_) => infer_image_type(bytes).map(|ct| Some(ct.to_owned())),
    }
}

const HTTP_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// A time as JavaScript's `Date.prototype.toUTCString` writes it:
/// `Sat, 19 Dec 2009 16:30:47 GMT`.
pub fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

/// Parses an HTTP date (`Sat, 19 Dec 2009 16:30:47 GMT`); `None` when malformed.
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s.trim(), HTTP_DATE)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// Original images in a local directory: `root/<bucket>/<key>` when the folder `root/<bucket>`
/// exists, `root/<key>` otherwise.
///
/// Keys that would leave the root (`..`, absolute paths, symbolic links pointing outside) are
/// refused with the same 404 `NoSuchKey` as a missing file. The content type comes from the
/// bytes (and `.svg` names); there is no `Cache-Control` or `Expires`; `Last-Modified` is the
/// file's modification time.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
    max_bytes: u64,
}

impl DirSource {
    /// Images under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            max_bytes: DEFAULT_MAX_SOURCE_BYTES,
        }
    }

    /// The most bytes read from one file (default [`DEFAULT_MAX_SOURCE_BYTES`]).
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    fn read(root: &Path, bucket: &str, key: &str, max_bytes: u64) -> Result<SourceImage> {
        let root = root
            .canonicalize()
            .map_err(|e| not_found(key).with_source(e))?;
        let relative = safe_relative(key).ok_or_else(|| not_found(key))?;
        let base = match safe_relative(bucket) {
            Some(b) if b.components().count() == 1 && root.join(&b).is_dir() => root.join(b),
            _ => root.clone(),
        };
        let path = base
            .join(relative)
            .canonicalize()
            .map_err(|e| not_found(key).with_source(e))?;
        if !path.starts_with(&root) {
            tracing::warn!(key, "key resolves outside the image directory; refused");
            return Err(not_found(key));
        }
        let meta = std::fs::metadata(&path).map_err(|e| not_found(key).with_source(e))?;
        if !meta.is_file() {
            return Err(not_found(key));
        }
        if meta.len() > max_bytes {
            return Err(cannot_retrieve().with_kind(ErrorKind::TooLarge));
        }
        let bytes = std::fs::read(&path).map_err(|e| cannot_retrieve().with_source(e))?;
        let content_type = match infer_image_type(&bytes) {
            Ok(ct) => Some(ct.to_owned()),
            Err(_) if is_svg(&path, &bytes) => Some("image/svg+xml".to_owned()),
            Err(_) => None,
        };
        let last_modified = meta
            .modified()
            .ok()
            .map(|t| http_date(OffsetDateTime::from(t)));
        Ok(SourceImage {
            bytes: bytes.into(),
            content_type,
            cache_control: None,
            expires: None,
            last_modified,
            etag: None,
        })
    }
}

fn is_svg(path: &Path, bytes: &[u8]) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
        || bytes.windows(4).take(1024).any(|w| w == b"<svg")
}

/// `key` as a path of normal components only; `None` for `..`, roots, prefixes or nothing.
fn safe_relative(key: &str) -> Option<PathBuf> {
    if key.is_empty() || key.contains('\\') || key.contains('\0') {
        return None;
    }
    let path = Path::new(key);
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

impl ImageSource for DirSource {
    async fn fetch(&self, bucket: &str, key: &str) -> Result<SourceImage> {
        let (root, bucket_owned, key_owned, max) = (
            self.root.clone(),
            bucket.to_owned(),
            key.to_owned(),
            self.max_bytes,
        );
        tokio::task::spawn_blocking(move || Self::read(&root, &bucket_owned, &key_owned, max))
            .await
            .map_err(|e| cannot_retrieve().with_source(e))?
    }
}

/// Original images in S3, read as Serverless Image Handler's `getOriginalImage` reads them.
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub use self::s3::S3Source;

#[cfg(feature = "aws")]
mod s3 {
    use super::{
        DEFAULT_MAX_SOURCE_BYTES, ImageSource, SourceImage, cannot_retrieve, http_date, not_found,
        parse_http_date, resolve_content_type,
    };
    use crate::{ErrorKind, Result};

    /// Original images in S3 buckets (`GetObject`).
    ///
    /// As Serverless Image Handler: any `GetObject` failure (no such key or bucket, access
    /// denied, ...) is the 404 `NoSuchKey`; a stored content type that is not an image type is
    /// replaced by one inferred from the bytes; `Expires` and `Last-Modified` are rewritten as
    /// HTTP dates. Beyond it: objects over the size limit (64 MiB unless set) are refused with
    /// the 500 `ImageRetrieval::CannotRetrieveImage` before their body is read.
    ///
    /// IAM: `s3:GetObject` on the source buckets.
    #[derive(Debug, Clone)]
    pub struct S3Source {
        client: aws_sdk_s3::Client,
        max_bytes: u64,
    }

    impl S3Source {
        /// Objects read with this client.
        pub fn new(client: aws_sdk_s3::Client) -> Self {
            Self {
                client,
                max_bytes: DEFAULT_MAX_SOURCE_BYTES,
            }
        }

        /// The most bytes read from one object (default [`DEFAULT_MAX_SOURCE_BYTES`]).
        #[must_use]
        pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
            self.max_bytes = max_bytes;
            self
        }
    }

    impl ImageSource for S3Source {
        async fn fetch(&self, bucket: &str, key: &str) -> Result<SourceImage> {
            tracing::debug!(bucket, key, "getting the image from S3");
            let out = self
                .client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| {
                    let e = aws_sdk_s3::Error::from(e);
                    tracing::info!(bucket, key, error = %e, "GetObject failed");
                    not_found(key).with_source(e)
                })?;
            let declared = out.content_length().and_then(|n| u64::try_from(n).ok());
            if declared.is_some_and(|n| n > self.max_bytes) {
                tracing::warn!(
                    bucket,
                    key,
                    bytes = declared,
                    max = self.max_bytes,
                    "object over the size limit"
                );
                return Err(cannot_retrieve().with_kind(ErrorKind::TooLarge));
            }
            let content_type = out.content_type().map(str::to_owned);
            let cache_control = out.cache_control().map(str::to_owned);
            let expires = out
                .expires_string()
                .and_then(parse_http_date)
                .map(http_date);
            let last_modified = out.last_modified().and_then(|t| {
                time::OffsetDateTime::from_unix_timestamp(t.secs())
                    .ok()
                    .map(http_date)
            });
            let etag = out.e_tag().map(str::to_owned);

            let mut body = out.body;
            let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(0));
            let mut bytes = Vec::with_capacity(capacity);
            while let Some(chunk) = body.try_next().await.map_err(|e| {
                tracing::warn!(bucket, key, error = %e, "reading the object failed");
                cannot_retrieve().with_source(e)
            })? {
                if (bytes.len() + chunk.len()) as u64 > self.max_bytes {
                    return Err(cannot_retrieve().with_kind(ErrorKind::TooLarge));
                }
                bytes.extend_from_slice(&chunk);
            }
            let content_type = resolve_content_type(content_type.as_deref(), &bytes)?;
            Ok(SourceImage {
                bytes: bytes.into(),
                content_type,
                cache_control,
                expires,
                last_modified,
                etag,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_image_types_as_serverless_image_handler() {
        // get-original-image.spec.ts's table.
        let cases: [(&[u8], &str); 10] = [
            (&[0x89, 0x50, 0x4e, 0x47], "image/png"),
            (&[0xff, 0xd8, 0xff, 0xdb], "image/jpeg"),
            (&[0xff, 0xd8, 0xff, 0xe0], "image/jpeg"),
            (&[0xff, 0xd8, 0xff, 0xee], "image/jpeg"),
            (&[0xff, 0xd8, 0xff, 0xe1], "image/jpeg"),
            (&[0x52, 0x49, 0x46, 0x46], "image/webp"),
            (&[0x49, 0x49, 0x2a, 0x00], "image/tiff"),
            (&[0x4d, 0x4d, 0x00, 0x2a], "image/tiff"),
            (&[0x47, 0x49, 0x46, 0x38], "image/gif"),
            (
                &[
                    0x00, 0x00, 0x00, 0x20, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66,
                ],
                "image/avif",
            ),
        ];
        for (bytes, expected) in cases {
            for stored in ["binary/octet-stream", "application/octet-stream"] {
                assert_eq!(
                    resolve_content_type(Some(stored), bytes).expect("inferred"),
                    Some(expected.to_owned())
                );
            }
        }
        let e = resolve_content_type(Some("binary/octet-stream"), b"SampleImageContent\n")
            .expect_err("not an image");
        assert_eq!((e.status(), e.code()), (500, "RequestTypeError"));
        assert_eq!(
            resolve_content_type(Some("image/svg+xml"), b"<svg/>").expect("kept"),
            Some("image/svg+xml".to_owned())
        );
        assert_eq!(resolve_content_type(None, b"x").expect("none"), None);
    }

    #[test]
    fn http_dates_as_javascript_writes_them() {
        let t = parse_http_date("Sat, 19 Dec 2009 16:30:47 GMT").expect("parse");
        assert_eq!(http_date(t), "Sat, 19 Dec 2009 16:30:47 GMT");
        assert_eq!(
            http_date(OffsetDateTime::UNIX_EPOCH + time::Duration::days(1)),
            "Fri, 02 Jan 1970 00:00:00 GMT"
        );
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn keys_that_leave_the_root_are_not_paths() {
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\..\\b",
            "..",
            "a/..",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
        assert_eq!(safe_relative("a/./b.jpg"), Some(PathBuf::from("a/b.jpg")));
    }
}
