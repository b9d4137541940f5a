//! `lambda_http` handlers: the blog's `GET /uploads`, a POST-policy variant, and (with the
//! `s3` feature) Uppy Companion's S3 routes for simple and multipart uploads.
//!
//! Each handler reads the client's parameters from the query string (`contentType`, `size`,
//! `checksumSha256`) or a JSON body, scopes keys to the caller when an authorizer passed JWT
//! claims, and answers JSON: the result with 200, or `{"code", "message"}` with the
//! error's status.
//!
//! ```rust,no_run
//! use lambda_http::{run, service_fn, Error, Request};
//! use lambdakit_upload::{lambda::UploadHandler, Presigner, Uploader};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//!     let bucket = std::env::var("UPLOAD_BUCKET")?;
//!     let uploader = Uploader::builder()
//!         .presigner(Presigner::builder().bucket(bucket).region("eu-west-1").build()?)
//!         .prefix("uploads/")
//!         .credentials_provider(config.credentials_provider().ok_or("no credentials")?)
//!         .build()?;
//!     let handler = &UploadHandler::new(uploader);
//!     // GET /uploads?contentType=image/jpeg&size=1234 -> {"uploadURL", "Key", "headers", ...}
//!     run(service_fn(move |request: Request| async move {
//!         Ok::<_, Error>(handler.presigned_put(&request).await)
//!     }))
//!     .await
//! }
//! ```

use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::Error;
#[cfg(feature = "s3")]
use crate::multipart::UploadedPart;
use crate::uploader::{UploadRequest, Uploader};

/// Serves upload URLs over HTTP with an [`Uploader`].
#[derive(Debug)]
pub struct UploadHandler {
    uploader: Uploader,
    scope_claim: Option<String>,
    require_scope: bool,
}

impl UploadHandler {
    /// A handler that signs with `uploader` and scopes keys by the JWT `sub` claim when an
    /// authorizer supplies one.
    pub fn new(uploader: Uploader) -> Self {
        Self {
            uploader,
            scope_claim: Some("sub".into()),
            require_scope: false,
        }
    }

    /// Scopes keys by another claim (such as `username`), or by none.
    #[must_use]
    pub fn scope_claim(mut self, claim: Option<&str>) -> Self {
        self.scope_claim = claim.map(str::to_owned);
        self
    }

    /// Refuses requests without the scope claim (401) instead of using the bare prefix.
    #[must_use]
    pub fn require_scope(mut self, yes: bool) -> Self {
        self.require_scope = yes;
        self
    }

    /// The uploader.
    pub fn uploader(&self) -> &Uploader {
        &self.uploader
    }

    /// `GET /uploads?contentType=image/jpeg&size=1234`: a presigned PUT as
    /// `{"uploadURL", "Key", "method", "headers", "expiresAt"}`.
    pub async fn presigned_put(&self, request: &Request) -> Response<Body> {
        let result = async {
            let req = self.upload_request(request)?;
            self.uploader.presign_put(&req).await
        };
        respond(result.await)
    }

    /// `GET /uploads/post?contentType=image/jpeg`: a presigned POST form as
    /// `{"key", "url", "fields", "expiresAt"}`.
    pub async fn presigned_post(&self, request: &Request) -> Response<Body> {
        let result = async {
            let req = self.upload_request(request)?;
            self.uploader.presign_post(&req).await
        };
        respond(result.await)
    }

    /// The scope of the caller: the configured claim of a JWT authorizer, if any.
    ///
    /// Returns [`Error::Unauthorized`] when the scope is required and absent.
    pub fn scope(&self, request: &Request) -> Result<Option<String>, Error> {
        let scope = self
            .scope_claim
            .as_deref()
            .and_then(|claim| jwt_claim(request, claim));
        if scope.is_none() && self.require_scope {
            return Err(Error::Unauthorized);
        }
        Ok(scope)
    }

    fn upload_request(&self, request: &Request) -> Result<UploadRequest, Error> {
        let mut req = upload_request_from_query(request.query_string_parameters_ref())?;
        req.scope = self.scope(request)?;
        Ok(req)
    }
}

#[cfg(feature = "s3")]
impl UploadHandler {
    /// Serves the S3 routes of Uppy's Companion server, so Uppy's `@uppy/aws-s3` plugin
    /// works with `endpoint` set to this API. Paths are matched from their last `/s3/`:
    ///
    /// | request | answer |
    /// | --- | --- |
    /// | `GET s3/params?filename&type` | a presigned POST form `{method, url, fields, key, expires}` |
    /// | `POST s3/multipart` `{filename, type}` | `{key, uploadId}` |
    /// | `GET s3/multipart/{uploadId}/{partNumber}?key` | `{url, expires}` |
    /// | `GET s3/multipart/{uploadId}/batch?key&partNumbers=1,2` | `{presignedUrls: {"1": url}}` |
    /// | `GET s3/multipart/{uploadId}?key` | `[{PartNumber, ETag, Size}]` |
    /// | `POST s3/multipart/{uploadId}/complete?key` `{parts}` | `{location, key}` |
    /// | `DELETE s3/multipart/{uploadId}?key` | `{}` |
    ///
    /// Client-sent `metadata` is ignored: it would be stored unchecked. Keys are random
    /// (never the client's file name) and scoped by the JWT claim like the other routes.
    pub async fn companion(
        &self,
        client: &aws_sdk_s3::Client,
        request: &Request,
    ) -> Response<Body> {
        respond(self.companion_result(client, request).await)
    }

    async fn companion_result(
        &self,
        client: &aws_sdk_s3::Client,
        request: &Request,
    ) -> Result<serde_json::Value, Error> {
        use serde_json::json;
        let path = request.uri().path();
        let rest = path
            .rfind("/s3/")
            .map(|i| &path[i + 4..])
            .ok_or_else(|| Error::NotFound(path.to_owned()))?;
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let q = request.query_string_parameters_ref();
        let scope = self.scope(request)?;
        let scope = scope.as_deref();
        let expires = self.uploader.expires_in().as_secs();
        let u = &self.uploader;
        // These types always serialize; a failure would be an empty value, not a panic.
        let to_json = |v: serde_json::Result<serde_json::Value>| Ok(v.unwrap_or_default());
        match (request.method().as_str(), segments.as_slice()) {
            ("GET", ["params"]) => {
                let req = UploadRequest {
                    content_type: q.and_then(|q| q.first("type")).map(str::to_owned),
                    scope: scope.map(str::to_owned),
                    ..UploadRequest::default()
                };
                let form = u.presign_post(&req).await?;
                Ok(json!({
                    "method": "POST",
                    "url": form.post.url,
                    "fields": serde_json::to_value(&form.post.fields).unwrap_or_default(),
                    "key": form.key,
                    "expires": expires,
                }))
            }
            ("POST", ["multipart"]) => {
                #[derive(serde::Deserialize)]
                struct Create {
                    #[serde(rename = "type")]
                    content_type: Option<String>,
                    size: Option<u64>,
                }
                let body: Create = json_body(request)?;
                let req = UploadRequest {
                    content_type: body.content_type,
                    size: body.size,
                    scope: scope.map(str::to_owned),
                    ..UploadRequest::default()
                };
                let created = u.create_multipart(client, &req).await?;
                Ok(json!({ "key": created.key, "uploadId": created.upload_id }))
            }
            ("GET", ["multipart", upload_id]) => {
                let parts = u
                    .list_parts(client, param(q, "key")?, upload_id, scope)
                    .await?;
                to_json(serde_json::to_value(&parts))
            }
            ("DELETE", ["multipart", upload_id]) => {
                u.abort_multipart(client, param(q, "key")?, upload_id, scope)
                    .await?;
                Ok(json!({}))
            }
            ("GET", ["multipart", upload_id, "batch"]) => {
                let numbers = part_numbers(param(q, "partNumbers")?)?;
                let signed = u
                    .sign_parts(param(q, "key")?, upload_id, &numbers, scope)
                    .await?;
                let urls: serde_json::Map<String, serde_json::Value> = signed
                    .into_iter()
                    .map(|p| (p.part_number.to_string(), p.url.into()))
                    .collect();
                Ok(json!({ "presignedUrls": urls }))
            }
            ("GET", ["multipart", upload_id, number]) => {
                let numbers = part_numbers(number)?;
                let signed = u
                    .sign_parts(param(q, "key")?, upload_id, &numbers, scope)
                    .await?;
                let url = signed.into_iter().next().map(|p| p.url);
                Ok(json!({ "url": url, "expires": expires }))
            }
            ("POST", ["multipart", upload_id, "complete"]) => {
                #[derive(serde::Deserialize)]
                struct Complete {
                    parts: Vec<UploadedPart>,
                }
                let body: Complete = json_body(request)?;
                let done = u
                    .complete_multipart(client, param(q, "key")?, upload_id, &body.parts, scope)
                    .await?;
                Ok(json!({ "location": done.location, "key": done.key }))
            }
            (method, _) => Err(Error::NotFound(format!("{method} {path}"))),
        }
    }
}

#[cfg(feature = "s3")]
fn part_numbers(list: &str) -> Result<Vec<u32>, Error> {
    list.split(',')
        .map(|n| n.trim().parse::<u32>())
        .collect::<Result<Vec<u32>, _>>()
        .map_err(|_| Error::InvalidRequest("part numbers must be numbers from 1 to 10000".into()))
}

/// Reads `contentType`, `size` and `checksumSha256` from a query string.
///
/// Returns [`Error::InvalidRequest`] for a size that is not a number.
pub fn upload_request_from_query(query: Option<&QueryMap>) -> Result<UploadRequest, Error> {
    let get = |name: &str| query.and_then(|q| q.first(name)).map(str::to_owned);
    let size =
        match get("size") {
            None => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                Error::InvalidRequest(format!("size {s:?} is not a number of bytes"))
            })?),
        };
    Ok(UploadRequest {
        content_type: get("contentType"),
        size,
        checksum_sha256: get("checksumSha256"),
        ..UploadRequest::default()
    })
}

/// A claim of the JWT an API Gateway authorizer verified: HTTP APIs' JWT authorizer
/// (`authorizer.jwt.claims`), or a REST API's Cognito authorizer (`authorizer.claims`).
pub fn jwt_claim(request: &Request, claim: &str) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx
            .authorizer
            .as_ref()?
            .jwt
            .as_ref()?
            .claims
            .get(claim)
            .cloned(),
        RequestContext::ApiGatewayV1(ctx) => {
            match ctx.authorizer.fields.get("claims")?.get(claim)? {
                serde_json::Value::String(s) => Some(s.clone()),
                _ => None,
            }
        }
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

#[cfg(feature = "s3")]
fn param<'a>(query: Option<&'a QueryMap>, name: &str) -> Result<&'a str, Error> {
    query
        .and_then(|q| q.first(name))
        .ok_or_else(|| Error::InvalidRequest(format!("the `{name}` parameter is required")))
}

#[cfg(feature = "s3")]
fn json_body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, Error> {
    serde_json::from_slice(request.body().as_ref())
        .map_err(|e| Error::InvalidRequest(format!("the body is not the expected JSON: {e}")))
}

/// Turns a result into a JSON response: 200 with the value, or the error's status and
/// `{"code", "message"}`. Server errors are logged; their details stay out of the body.
pub fn respond<T: Serialize>(result: Result<T, Error>) -> Response<Body> {
    let (status, body) = match result.map(|v| serde_json::to_string(&v)) {
        Ok(Ok(json)) => (200, json),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not serialize the response");
            let body = r#"{"code":"InternalError","message":"the response could not be written"}"#;
            (500, body.to_owned())
        }
        Err(e) => {
            if e.is_client_error() {
                tracing::info!(code = e.code(), error = %e, "upload refused");
            } else {
                tracing::error!(code = e.code(), error = ?e, "upload failed");
            }
            (e.status(), e.to_json().to_string())
        }
    };
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
