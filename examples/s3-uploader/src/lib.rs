//! The blog's S3 uploader, wired from environment variables.
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `UPLOAD_BUCKET` | required | the bucket uploads go to |
//! | `AWS_REGION` | from the Lambda environment | the bucket's region |
//! | `UPLOAD_PREFIX` | `uploads/` | key prefix; with a JWT authorizer, keys go under `prefix/<sub>/` |
//! | `ALLOWED_TYPES` | `image/jpeg` | comma-separated content types |
//! | `MAX_UPLOAD_BYTES` | `10485760` | the largest upload |
//! | `URL_EXPIRY_SECONDS` | `300` | how long URLs work |
//! | `REQUIRE_SIZE` | `true` | whether `GET /uploads` needs `size` (S3 then enforces it) |
//! | `ALLOW_OVERWRITE` | `false` | `true` stops signing `if-none-match: *` into PUT URLs |
//!
//! With `REQUIRE_SIZE=false` and `ALLOW_OVERWRITE=true`, `GET /uploads` answers the blog's own
//! frontend as the blog's Lambda did: no parameters, and a URL that signs only the content
//! type (S3 then enforces no size).
//! | `S3_ACCELERATE` | `false` | `true` sends uploads through S3 Transfer Acceleration |
//! | `S3_ENDPOINT_URL` | AWS | another S3 endpoint, such as the local emulator (path style) |

use std::time::Duration;

use lambda_http::{Body, Request, RequestExt, Response};
use lambdakit_upload::lambda::{UploadHandler, respond};
use lambdakit_upload::{ContentTypes, Error, Presigner, Uploader};

/// The application: the upload handler and the S3 client its multipart routes use.
#[derive(Debug)]
pub struct App {
    /// Signs uploads.
    pub handler: UploadHandler,
    /// Creates, lists, completes and aborts multipart uploads.
    pub s3: aws_sdk_s3::Client,
}

impl App {
    /// Builds the app from `env` (a lookup such as `std::env::var`) and the SDK config.
    ///
    /// Returns [`Error::InvalidRequest`] (or the builders' errors) for missing or bad settings.
    pub fn from_env(
        config: &aws_config::SdkConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let mut s3 = aws_sdk_s3::config::Builder::from(config);
        if let Some(endpoint) = env("S3_ENDPOINT_URL") {
            s3 = s3.endpoint_url(endpoint).force_path_style(true);
        }
        Ok(Self {
            handler: handler_from_env(config, env)?,
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
        })
    }

    /// Routes the HTTP API's requests: `GET /uploads` (presigned PUT, the blog's route),
    /// `GET /uploads/post` (presigned POST form), and Uppy Companion's `/s3/...` routes
    /// (simple and multipart uploads).
    pub async fn route(&self, request: Request) -> Response<Body> {
        // Without the REST API's stage prefix (`/Prod/uploads` is `/uploads`).
        let path = request.raw_http_path().trim_end_matches('/').to_owned();
        match (request.method().as_str(), path.as_str()) {
            ("GET", "/uploads") => self.handler.presigned_put(&request).await,
            ("GET", "/uploads/post") => self.handler.presigned_post(&request).await,
            (_, p) if p.starts_with("/s3/") => self.handler.companion(&self.s3, &request).await,
            (method, _) => respond::<()>(Err(Error::NotFound(format!("{method} {path}")))),
        }
    }
}

/// Builds the upload handler from `env` (a lookup such as `std::env::var`) and the SDK
/// config.
///
/// Returns [`Error::InvalidRequest`] (or the builders' errors) for missing or bad settings.
pub fn handler_from_env(
    config: &aws_config::SdkConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<UploadHandler, Error> {
    let bucket = env("UPLOAD_BUCKET")
        .ok_or_else(|| Error::InvalidRequest("UPLOAD_BUCKET is not set".into()))?;
    let region = env("AWS_REGION")
        .or_else(|| config.region().map(ToString::to_string))
        .ok_or_else(|| Error::InvalidRequest("AWS_REGION is not set".into()))?;
    let number = |name: &str, default: u64| -> Result<u64, Error> {
        env(name).map_or(Ok(default), |v| {
            v.trim()
                .parse()
                .map_err(|_| Error::InvalidRequest(format!("{name}={v:?} is not a number")))
        })
    };
    let mut presigner = Presigner::builder().bucket(bucket).region(region);
    if let Some(endpoint) = env("S3_ENDPOINT_URL") {
        presigner = presigner.endpoint_url(endpoint).force_path_style(true);
    }
    if env("S3_ACCELERATE").is_some_and(|v| v == "true") {
        presigner = presigner.accelerate(true);
    }
    let mut types = ContentTypes::new();
    for t in env("ALLOWED_TYPES")
        .unwrap_or_else(|| "image/jpeg".into())
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        types = types.allow(t)?;
    }
    let provider = config
        .credentials_provider()
        .ok_or_else(|| Error::InvalidRequest("no AWS credentials provider".into()))?;
    let uploader = Uploader::builder()
        .presigner(presigner.build()?)
        .content_types(types)
        .prefix(env("UPLOAD_PREFIX").unwrap_or_else(|| "uploads/".into()))
        .size_range(1, number("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)?)
        .expires_in(Duration::from_secs(number("URL_EXPIRY_SECONDS", 300)?))
        .require_size(env("REQUIRE_SIZE").is_none_or(|v| v != "false"))
        .allow_overwrite(env("ALLOW_OVERWRITE").is_some_and(|v| v == "true"))
        .credentials_provider(provider)
        .build()?;
    Ok(UploadHandler::new(uploader))
}
