//! The image handler: Serverless Image Handler's `handleRequest`, with the source and the
//! signing secret injected.
//!
//! The flow is Serverless Image Handler's: signature, `expires`, parsing, fetching the
//! original (and the overlay, its bucket checked against `SOURCE_BUCKETS`), the transform,
//! then the headers in its order. Errors become its JSON bodies, or the default fallback
//! image. Beyond it: a strong `ETag` with `If-None-Match` answered by 304, `Vary: Accept` when
//! `AUTO_WEBP` is on, and the 413 `TooLargeImageException` before the 6 MB Lambda limit.
//!
//! The transform runs on tokio's blocking pool (see `ImageHandler::handle`), bounded by the
//! time budget of [`Config::limits`]: past it the answer is the 503 `TimeoutException`.
//!
//! # Where this differs from Serverless Image Handler
//!
//! - A Default request's custom `headers` come after `Cache-Control` sorted by name, not in
//!   the JSON's order (request parsing keeps them in a sorted map).
//! - The overlay image is fetched before the transform, so a request with both an
//!   unreadable base image and an overlay outside `SOURCE_BUCKETS` gets the overlay's 403
//!   rather than the base image's 400.
//! - The default fallback image goes through the same [`ImageSource`] as originals: a
//!   stored content type that is not an image type is inferred from its bytes, where
//!   Serverless Image Handler passes S3's through.
//! - S3 Object Lambda (`ENABLE_S3_OBJECT_LAMBDA`) is not supported.

mod config;
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub mod lambda;

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use tracing::Instrument as _;

pub use self::config::{
    Config, FUNCTION_MEMORY_VAR, FallbackImage, MAX_DECODED_MB_VAR, MAX_OUTPUT_DIMENSION_VAR,
    SIGNATURE_MODE_VAR, TIME_BUDGET_VAR,
};
use crate::ops::{OverlaySource, Plan, transform};
use crate::request::{ImageRequest, RequestConfig};
use crate::response::{
    DEFAULT_CACHE_CONTROL, HandlerResponse, ResponseHeaders, check_payload, etag, if_none_match,
    js_json_date,
};
use crate::secret::{NoSecret, SecretProvider};
use crate::signature;
use crate::source::{ImageSource, SourceImage, parse_http_date};
use crate::{Error, Result};

/// A request as the handler sees it: Serverless Image Handler's normalized event.
#[derive(Clone, Default)]
pub struct HandlerRequest {
    /// The request path (API Gateway's `path`, without the stage).
    pub path: String,
    /// The query parameters, decoded, one value per name.
    pub query: BTreeMap<String, String>,
    /// The request headers (`Accept`, `If-None-Match` are read).
    pub headers: http::HeaderMap,
    /// Whether the request came through an Application Load Balancer (no
    /// `Access-Control-Allow-Credentials` then).
    pub is_alb: bool,
}

impl HandlerRequest {
    /// A GET of `path` with no query and no headers.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    /// The same request with a query parameter added.
    #[must_use]
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.insert(name.into(), value.into());
        self
    }

    /// The same request with a header added (ignored when name or value is not valid HTTP).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }
}

impl fmt::Debug for HandlerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The signature is a credential for this URL: never printed.
        let query: BTreeMap<&str, &str> = self
            .query
            .iter()
            .map(|(k, v)| {
                let v = if k == signature::SIGNATURE_PARAM {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("HandlerRequest")
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("is_alb", &self.is_alb)
            .finish()
    }
}

/// Serves image requests from a source, checking signatures with a secret provider.
///
/// Built with [`ImageHandler::builder`]; cheap to share behind an `Arc`.
pub struct ImageHandler<S, K = NoSecret> {
    config: Config,
    request_config: RequestConfig,
    source: S,
    secret: K,
}

impl<S: fmt::Debug, K: fmt::Debug> fmt::Debug for ImageHandler<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageHandler")
            .field("config", &self.config)
            .field("source", &self.source)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Builds an [`ImageHandler`].
#[derive(Debug)]
pub struct ImageHandlerBuilder<S, K> {
    config: Config,
    source: S,
    secret: K,
}

impl<S: ImageSource> ImageHandler<S, NoSecret> {
    /// A builder for a handler reading originals from `source`, with the default [`Config`]
    /// and no secret (set both before building).
    pub fn builder(source: S) -> ImageHandlerBuilder<S, NoSecret> {
        ImageHandlerBuilder {
            config: Config::default(),
            source,
            secret: NoSecret,
        }
    }
}

impl<S: ImageSource, K: SecretProvider> ImageHandlerBuilder<S, K> {
    /// The configuration (usually [`Config::from_env`]).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The provider of the signing key, used when `enable_signature` is on.
    pub fn secret<K2: SecretProvider>(self, secret: K2) -> ImageHandlerBuilder<S, K2> {
        ImageHandlerBuilder {
            config: self.config,
            source: self.source,
            secret,
        }
    }

    /// The handler.
    pub fn build(self) -> ImageHandler<S, K> {
        ImageHandler {
            request_config: self.config.request_config(),
            config: self.config,
            source: self.source,
            secret: self.secret,
        }
    }
}

#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
impl ImageHandler<crate::source::S3Source, crate::secret::SecretsManagerSecret> {
    /// Serverless Image Handler's Lambda, as configured by its environment: originals from S3,
    /// the key from the secret `SECRETS_MANAGER`, field `SECRET_KEY` (both read only when
    /// `ENABLE_SIGNATURE=Yes`; unset, signed requests fail with a 500
    /// `SignatureValidationFailure`, as Serverless Image Handler's do).
    pub fn from_env(
        s3: aws_sdk_s3::Client,
        secrets_manager: aws_sdk_secretsmanager::Client,
    ) -> Self {
        let config = Config::from_env();
        let secret = crate::secret::SecretsManagerSecret::new(
            secrets_manager,
            config.secrets_manager.clone().unwrap_or_default(),
            config.secret_key.clone().unwrap_or_default(),
        );
        ImageHandler::builder(crate::source::S3Source::new(s3))
            .config(config)
            .secret(secret)
            .build()
    }
}

impl<S: ImageSource, K: SecretProvider> ImageHandler<S, K> {
    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Answers one request. Never fails: errors become Serverless Image Handler's JSON error
    /// responses (or the default fallback image).
    pub async fn handle(&self, req: &HandlerRequest) -> HandlerResponse {
        let span = tracing::info_span!("image_request", path = %req.path, alb = req.is_alb);
        async {
            tracing::info!(
                query = ?req.query.keys().collect::<Vec<_>>(),
                "image request"
            );
            match self.process(req).await {
                Ok(response) => {
                    tracing::info!(
                        status = response.status,
                        bytes = response.body.len(),
                        "image response"
                    );
                    response
                }
                Err(error) => self.error_response(req, error).await,
            }
        }
        .instrument(span)
        .await
    }

    async fn error_response(&self, req: &HandlerRequest, error: Error) -> HandlerResponse {
        if error.status() >= 500 {
            tracing::error!(status = error.status(), code = error.code(), error = ?error, "request failed");
        } else {
            tracing::info!(
                status = error.status(),
                code = error.code(),
                message = error.message(),
                "request refused"
            );
        }
        if let Some(fallback) = &self.config.fallback_image {
            match self.fallback(req, &error, fallback).await {
                Ok(response) => return response,
                Err(e) => {
                    tracing::error!(error = ?e, "getting the default fallback image failed");
                }
            }
        }
        HandlerResponse::error(&error, &self.config.cors, req.is_alb)
    }

    async fn process(&self, req: &HandlerRequest) -> Result<HandlerResponse> {
        if self.config.enable_signature {
            self.check_signature(req).await?;
        }
        let seconds_to_expiry =
            signature::check_expires(&req.query, time::OffsetDateTime::now_utc())?;

        let accept = req
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let mut request = ImageRequest::parse(&req.path, &req.query, accept, &self.request_config)?;
        tracing::debug!(
            request_type = ?request.request_type,
            bucket = %request.bucket,
            key = %request.key,
            "parsed"
        );

        let source = self.source.fetch(&request.bucket, &request.key).await?;
        let source_type = source
            .content_type
            .clone()
            .unwrap_or_else(|| "image".to_owned());
        request.resolve_output(&source_type)?;
        // `image/<format>` as Serverless Image Handler names it (`image/jpg` for `jpg`).
        let content_type = request.content_type.clone().unwrap_or(source_type);

        let plan = Plan::new(&request.edits, request.output_format, request.effort)?
            .with_content_type(&content_type);
        let body = if plan.is_noop() {
            source.bytes.to_vec()
        } else {
            let overlay = match plan.overlay() {
                Some(overlay) => Some(self.fetch_overlay(overlay).await?),
                None => None,
            };
            self.run_transform(source.bytes.clone(), plan, overlay)
                .await?
        };
        check_payload(&body)?;

        let SourceImage {
            cache_control,
            expires,
            last_modified,
            ..
        } = source;
        let mut headers = ResponseHeaders::new();
        headers.set(
            "Cache-Control",
            cache_control.unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_owned()),
        );
        if let Some(custom) = &request.headers {
            for (name, value) in custom {
                headers.set(name.as_str(), value.as_str());
            }
        }
        if let Some(seconds) = seconds_to_expiry {
            headers.set("Cache-Control", format!("max-age={seconds},public"));
        }
        self.config.cors.apply(&mut headers, req.is_alb);
        headers.set("Content-Type", content_type);
        headers.set_opt("Expires", expires);
        headers.set_opt("Last-Modified", last_modified);

        let tag = etag(&body);
        headers.set("ETag", tag.as_str());
        if self.config.auto_webp {
            headers.set("Vary", "Accept");
        }

        let not_modified = req
            .headers
            .get_all(http::header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| if_none_match(v, &tag));
        if not_modified {
            headers.remove("Content-Type");
            return Ok(HandlerResponse {
                status: 304,
                headers: headers.into_vec(),
                body: Vec::new(),
                is_base64: false,
            });
        }
        Ok(HandlerResponse {
            status: 200,
            headers: headers.into_vec(),
            body,
            is_base64: true,
        })
    }

    async fn check_signature(&self, req: &HandlerRequest) -> Result<()> {
        if !signature::has_signature(&req.query) {
            return Err(signature::missing_signature());
        }
        let key = self.secret.signing_key().await.map_err(|e| {
            tracing::error!(error = ?e, "reading the signing key failed");
            signature::validation_failure()
        })?;
        signature::verify(
            &req.path,
            &req.query,
            key.as_bytes(),
            self.config.signature_mode,
        )
    }

    async fn fetch_overlay(&self, overlay: &OverlaySource) -> Result<Bytes> {
        let buckets = self
            .config
            .source_buckets
            .as_ref()
            .ok_or_else(no_source_buckets)?;
        if !buckets.contains(&overlay.bucket) {
            return Err(Error::new(
                403,
                "ImageBucket::CannotAccessBucket",
                "The overlay image bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS.",
            ));
        }
        match self.source.fetch(&overlay.bucket, &overlay.key).await {
            Ok(image) => Ok(image.bytes),
            Err(e) => Err(Error::new(
                400,
                "OverlayImageException",
                "The overlay image could not be applied. Please contact the system administrator.",
            )
            .with_source(e)),
        }
    }

    /// Runs the pipeline on the blocking pool: decoding and encoding take tens to hundreds of
    /// milliseconds of CPU, which would stall every other task of the runtime (other
    /// requests when the handler serves several at once, the Lambda runtime client's own
    /// work) if run inline.
    async fn run_transform(
        &self,
        input: Bytes,
        plan: Plan,
        overlay: Option<Bytes>,
    ) -> Result<Vec<u8>> {
        let limits = self.config.limits.clone();
        let budget = limits.time_budget;
        let task = tokio::task::spawn_blocking(move || {
            transform(&input, &plan, overlay.as_deref(), &limits)
        });
        match tokio::time::timeout(budget, task).await {
            Ok(Ok(result)) => result.map(|t| t.bytes),
            Ok(Err(join)) => {
                tracing::error!(error = %join, "the transform panicked");
                Err(Error::internal())
            }
            Err(_) => Err(Error::new(
                503,
                "TimeoutException",
                "Image processing timed out.",
            )),
        }
    }

    async fn fallback(
        &self,
        req: &HandlerRequest,
        error: &Error,
        fallback: &FallbackImage,
    ) -> Result<HandlerResponse> {
        let image = self.source.fetch(&fallback.bucket, &fallback.key).await?;
        let mut headers = ResponseHeaders::new();
        self.config.cors.apply(&mut headers, req.is_alb);
        headers.set_opt("Content-Type", image.content_type);
        // Serverless Image Handler puts S3's `LastModified` Date object in the headers; the
        // Lambda runtime serializes it with JSON.stringify.
        headers.set_opt(
            "Last-Modified",
            image
                .last_modified
                .as_deref()
                .and_then(parse_http_date)
                .map(js_json_date),
        );
        let cache_control = image
            .cache_control
            .or_else(|| requested_cache_control(&req.path))
            .unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_owned());
        headers.set("Cache-Control", cache_control);
        Ok(HandlerResponse {
            status: error.status(),
            headers: headers.into_vec(),
            body: image.bytes.to_vec(),
            is_base64: true,
        })
    }
}

fn no_source_buckets() -> Error {
    Error::new(
        400,
        "GetAllowedSourceBuckets::NoSourceBuckets",
        "The SOURCE_BUCKETS variable could not be read. Please check that it is not empty and contains at least one source bucket, or multiple buckets separated by commas. Spaces can be provided between commas and bucket names, these will be automatically parsed out when decoding.",
    )
}

/// The `Cache-Control` a Default request asks for in its `headers`, read as Serverless Image
/// Handler's fallback does (`parseImageHeaders(event, DEFAULT)`, errors ignored): the path
/// decoded as a Default request whatever its type.
fn requested_cache_control(path: &str) -> Option<String> {
    ImageRequest::fallback_headers(path)?.remove("Cache-Control")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_cache_control_reads_default_request_headers() {
        // index.spec.ts: {key: "test.jpg", headers: {Cache-Control: "max-age=11,public"}}
        assert_eq!(
            requested_cache_control(
                "ewoia2V5IjogInRlc3QuanBnIiwKImhlYWRlcnMiOiB7CiJDYWNoZS1Db250cm9sIjoibWF4LWFnZT0xMSxwdWJsaWMiCn0KfQ=="
            )
            .as_deref(),
            Some("max-age=11,public")
        );
        assert_eq!(requested_cache_control("/test.jpg"), None);
        assert_eq!(requested_cache_control(""), None);
    }

    #[test]
    fn debug_redacts_the_signature() {
        let req = HandlerRequest::get("/x.jpg").with_query("signature", "abcdef0123");
        assert!(!format!("{req:?}").contains("abcdef0123"));
    }
}
