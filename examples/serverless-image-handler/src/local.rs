//! The local stand-ins for the demo and the tests (feature `local`): the template's resources
//! on the emulator (a source bucket holding the real fixture images, the signing secret), the
//! handler over them, and a decoder to check what comes out.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use image::AnimationDecoder as _;
use lambdakit_image::handler::{Config, ImageHandler};
use lambdakit_image::response::HandlerResponse;
use lambdakit_image::secret::SecretsManagerSecret;
use lambdakit_image::source::S3Source;

use crate::BoxError;
use crate::aws::Clients;

/// The fixture images (`crates/image/tests/fixtures`, provenance in its `SOURCES.md`), each
/// uploaded under its file name with its content type.
pub const FIXTURES: &[(&str, &str)] = &[
    ("path.jpg", "image/jpeg"),
    ("Landscape_1.jpg", "image/jpeg"),
    ("Landscape_3.jpg", "image/jpeg"),
    ("Landscape_6.jpg", "image/jpeg"),
    ("Landscape_8.jpg", "image/jpeg"),
    ("Portrait_1.jpg", "image/jpeg"),
    ("Portrait_6.jpg", "image/jpeg"),
    ("transparent.png", "image/png"),
    ("pil123p.png", "image/png"),
    ("flower.webp", "image/webp"),
    ("transparent.webp", "image/webp"),
    ("chi.gif", "image/gif"),
];

/// The real photo (JPEG, 2560x1600, with EXIF, XMP and an ICC profile).
pub const PHOTO: &str = "path.jpg";
/// The `Cache-Control` stored with [`PHOTO`], which the handler passes on.
pub const PHOTO_CACHE_CONTROL: &str = "max-age=86400,public";
/// The `Expires` stored with [`PHOTO`] (an HTTP date), which the handler passes on.
pub const PHOTO_EXPIRES: &str = "Fri, 31 Dec 2049 23:59:59 GMT";

/// The field of the secret's JSON holding the signing key (the template's default
/// `SecretsManagerKey`).
pub const SECRET_KEY: &str = "signature-key";
/// The signing key the demo and the tests store; `events/apigw-rest-signed.json` is signed
/// with it.
pub const SIGNING_KEY: &str = "an-example-signing-key-for-the-sample-events-only";

/// The bucket `events/*.json` name (a name in the form SAM gives the template's bucket).
pub const EVENTS_BUCKET: &str = "serverless-image-handler-sourcebucket-k7w2qz4n8v1c";

/// The path of a Default request: `/` and the base64 of its JSON (standard alphabet, padded,
/// as JavaScript's `btoa` writes it).
pub fn default_path(request: &serde_json::Value) -> String {
    use base64::Engine as _;
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(request.to_string())
    )
}

/// This checkout's workspace root, from this package's own folder (not test-support's: with
/// a build cache shared between checkouts, that one may name another checkout).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fixture folder.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("crates/image/tests/fixtures")
}

/// The bytes of a fixture image.
///
/// # Errors
/// When it cannot be read.
pub fn fixture(name: &str) -> Result<Vec<u8>, BoxError> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// The template's resources on the emulator: a source bucket with every fixture and the
/// signing secret.
#[derive(Debug, Clone)]
pub struct Stack {
    /// Clients for the emulator.
    pub clients: Clients,
    /// The source bucket (the first of `SOURCE_BUCKETS`).
    pub bucket: String,
    /// The secret's ARN (`SECRETS_MANAGER`).
    pub secret_id: String,
}

impl Stack {
    /// Creates a bucket named `prefix-<random>` holding every fixture ([`PHOTO`] with
    /// `Cache-Control` and `Expires`), and a secret `{"signature-key": SIGNING_KEY}`, on the
    /// emulator at `LAMBDAKIT_EMULATOR_URL`.
    ///
    /// # Errors
    /// When the emulator refuses or a fixture cannot be read.
    ///
    /// # Panics
    /// When `LAMBDAKIT_EMULATOR_URL` is unset or nothing answers there (the message names
    /// the command that starts the emulator).
    pub async fn start(prefix: &str) -> Result<Self, BoxError> {
        let clients = Clients::emulator(&lambdakit_test_support::emulator::url());
        let bucket = lambdakit_test_support::unique_name(prefix);
        clients.s3.create_bucket().bucket(&bucket).send().await?;
        upload_fixtures(&clients.s3, &bucket).await?;
        let secret_id = clients
            .secrets
            .create_secret()
            .name(lambdakit_test_support::unique_name(&format!(
                "{prefix}-signing"
            )))
            .secret_string(serde_json::json!({ SECRET_KEY: SIGNING_KEY }).to_string())
            .send()
            .await?
            .arn
            .ok_or("CreateSecret returned no ARN")?;
        Ok(Self {
            clients,
            bucket,
            secret_id,
        })
    }

    /// The Lambda's environment as the template sets it (signatures off, CORS off,
    /// `SOURCE_BUCKETS` this bucket, `SECRETS_MANAGER` this secret), with `overrides` on top.
    pub fn env(&self, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = [
            ("AUTO_WEBP", "No"),
            ("CORS_ENABLED", "No"),
            ("CORS_ORIGIN", "*"),
            ("SOURCE_BUCKETS", self.bucket.as_str()),
            ("REWRITE_MATCH_PATTERN", ""),
            ("REWRITE_SUBSTITUTION", ""),
            ("ENABLE_SIGNATURE", "No"),
            ("SECRETS_MANAGER", self.secret_id.as_str()),
            ("SECRET_KEY", SECRET_KEY),
            ("ENABLE_DEFAULT_FALLBACK_IMAGE", "No"),
            ("DEFAULT_FALLBACK_IMAGE_BUCKET", ""),
            ("DEFAULT_FALLBACK_IMAGE_KEY", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (name, value) in overrides {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        env
    }

    /// The handler, configured by [`Stack::env`] with `overrides`, over this bucket and secret:
    /// what the Lambda runs, with its clients pointed at the emulator.
    pub fn handler(
        &self,
        overrides: &[(&str, &str)],
    ) -> ImageHandler<S3Source, SecretsManagerSecret> {
        let env = self.env(overrides);
        let config = Config::from_lookup(|name| env.get(name).cloned());
        crate::handler(
            config,
            S3Source::new(self.clients.s3.clone()),
            self.clients.secrets.clone(),
        )
    }
}

/// Uploads every fixture to `bucket` under its file name, with its content type; [`PHOTO`]
/// also with [`PHOTO_CACHE_CONTROL`] and [`PHOTO_EXPIRES`].
///
/// # Errors
/// When a fixture cannot be read or the upload fails.
pub async fn upload_fixtures(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), BoxError> {
    for &(name, content_type) in FIXTURES {
        let mut put = s3
            .put_object()
            .bucket(bucket)
            .key(name)
            .content_type(content_type)
            .body(ByteStream::from(fixture(name)?));
        if name == PHOTO {
            put = put.cache_control(PHOTO_CACHE_CONTROL).expires(
                aws_sdk_s3::primitives::DateTime::from_str(
                    PHOTO_EXPIRES,
                    aws_sdk_s3::primitives::DateTimeFormat::HttpDate,
                )?,
            );
        }
        put.send().await?;
    }
    Ok(())
}

/// Creates the bucket the sample events name, if it is not there yet, and uploads the
/// fixtures to it.
///
/// # Errors
/// When the emulator refuses.
pub async fn events_bucket(s3: &aws_sdk_s3::Client) -> Result<(), BoxError> {
    if let Err(e) = s3.create_bucket().bucket(EVENTS_BUCKET).send().await {
        let exists = e
            .as_service_error()
            .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists());
        if !exists {
            return Err(e.into());
        }
    }
    upload_fixtures(s3, EVENTS_BUCKET).await
}

/// An image as decoded from a response body.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// `jpeg`, `png`, `webp` or `gif`, from the bytes.
    pub format: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Whether the image has an alpha channel.
    pub has_alpha: bool,
    /// The number of frames (1 but for animations).
    pub frames: usize,
    /// The first frame as RGB, 3 bytes a pixel, row by row.
    pub rgb: Vec<u8>,
}

impl Decoded {
    /// Whether every pixel has R = G = B (within `tolerance`, for lossy codecs).
    pub fn is_gray(&self, tolerance: u8) -> bool {
        self.rgb.chunks_exact(3).all(|p| {
            let (min, max) = (p.iter().min(), p.iter().max());
            matches!((min, max), (Some(min), Some(max)) if max - min <= tolerance)
        })
    }

    /// The mean absolute difference per channel from `other` (same size), 0 to 255.
    ///
    /// # Errors
    /// When the sizes differ.
    pub fn mean_difference(&self, other: &Decoded) -> Result<f64, String> {
        if (self.width, self.height) != (other.width, other.height) {
            return Err(format!(
                "sizes differ: {}x{} and {}x{}",
                self.width, self.height, other.width, other.height
            ));
        }
        let total: u64 = self
            .rgb
            .iter()
            .zip(&other.rgb)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        Ok(total as f64 / self.rgb.len().max(1) as f64)
    }
}

/// The image of a 200 answer, decoded.
///
/// # Errors
/// When the answer is not a 200 (the error names the status and the body) or its body does
/// not decode.
pub fn served_image(response: &HandlerResponse) -> Result<Decoded, String> {
    if response.status != 200 {
        return Err(format!(
            "status {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    decode(&response.body)
}

/// Decodes a JPEG (libjpeg-turbo), PNG, WebP or GIF (every frame counted).
///
/// # Errors
/// When the bytes are not one of those formats or do not decode.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return decode_jpeg(bytes);
    }
    let format = image::guess_format(bytes).map_err(|e| format!("unknown format: {e}"))?;
    let name = match format {
        image::ImageFormat::Png => "png",
        image::ImageFormat::WebP => "webp",
        image::ImageFormat::Gif => "gif",
        other => return Err(format!("unexpected format {other:?}")),
    };
    let frames = if format == image::ImageFormat::Gif {
        image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
            .map_err(|e| e.to_string())?
            .into_frames()
            .count()
    } else {
        1
    };
    let image = image::load_from_memory_with_format(bytes, format).map_err(|e| e.to_string())?;
    Ok(Decoded {
        format: name,
        width: image.width(),
        height: image.height(),
        has_alpha: image.color().has_alpha(),
        frames,
        rgb: image.to_rgb8().into_raw(),
    })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Decoded, String> {
    // libjpeg reports corrupt data by unwinding; keep it an error here.
    std::panic::catch_unwind(|| -> Result<Decoded, String> {
        let mut started = mozjpeg::Decompress::new_mem(bytes)
            .and_then(|d| d.rgb())
            .map_err(|e| e.to_string())?;
        let (width, height) = (started.width(), started.height());
        let rgb = started.read_scanlines::<u8>().map_err(|e| e.to_string())?;
        Ok(Decoded {
            format: "jpeg",
            width: u32::try_from(width).map_err(|e| e.to_string())?,
            height: u32::try_from(height).map_err(|e| e.to_string())?,
            has_alpha: false,
            frames: 1,
            rgb,
        })
    })
    .map_err(|_| "corrupt JPEG".to_owned())?
}
