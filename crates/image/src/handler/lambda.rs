//! The handler behind `lambda_http`: API Gateway REST (payload 1.0), HTTP API (payload 2.0)
//! and Application Load Balancer events.
//!
//! ```no_run
//! # #[cfg(feature = "aws")]
//! # async fn main_(
//! #     s3: aws_sdk_s3::Client,
//! #     secrets_manager: aws_sdk_secretsmanager::Client,
//! # ) -> Result<(), lambda_http::Error> {
//! use std::sync::Arc;
//! use lambdakit_image::handler::ImageHandler;
//!
//! // The clients come from `aws_config::load_from_env()` in the function's `main`.
//! let handler = Arc::new(ImageHandler::from_env(s3, secrets_manager));
//! lambdakit_image::handler::lambda::run(handler).await
//! # }
//! //! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use super::{HandlerRequest, ImageHandler};
use crate::response::HandlerResponse;
use crate::secret::SecretProvider;
use crate::source::ImageSource;

/// The [`HandlerRequest`] of a `lambda_http` request: the event's path (without the stage),
/// its query parameters (the last value of a repeated name, as API Gateway's
/// `queryStringParameters` holds it; percent-decoded for ALB, whose events carry them encoded,
/// so a URL signed for API Gateway verifies behind an ALB too), its headers, and whether it
/// came through an ALB.
pub fn handler_request(req: &Request) -> HandlerRequest {
    let mut query = BTreeMap::new();
    if let Some(params) = req.query_string_parameters_ref() {
        // Values of one name come in order: the last one wins.
        for (name, value) in params.iter() {
            query.insert(name.to_owned(), value.to_owned());
        }
    }
    let is_alb = matches!(req.request_context_ref(), Some(RequestContext::Alb(_)));
    HandlerRequest {
        path: req.raw_http_path().to_owned(),
        query,
        headers: req.headers().clone(),
        is_alb,
    }
}

/// The `lambda_http` response of a [`HandlerResponse`]: images as a binary body (which
/// `lambda_http` base64-encodes, setting `isBase64Encoded`), errors as text. Header values
/// that are not valid HTTP are dropped (and logged).
pub fn lambda_response(response: HandlerResponse) -> Response<Body> {
    let mut out = Response::new(if response.body.is_empty() {
        Body::Empty
    } else if response.is_base64 {
        Body::Binary(response.body)
    } else {
        match String::from_utf8(response.body) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    });
    *out.status_mut() = http::StatusCode::from_u16(response.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        match (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                out.headers_mut().append(n, v);
            }
            _ => tracing::warn!(header = %name, "header is not valid HTTP; dropped"),
        }
    }
    out
}

impl<S: ImageSource, K: SecretProvider> ImageHandler<S, K> {
    /// Answers a `lambda_http` request (API Gateway REST, HTTP API or ALB). Never fails.
    pub async fn handle_lambda(&self, req: Request) -> Result<Response<Body>, Infallible> {
        let request = handler_request(&req);
        Ok(lambda_response(self.handle(&request).await))
    }
}

/// Runs the handler as the function's `lambda_http` service until the runtime stops.
///
/// # Errors
/// The runtime's, when it cannot reach the Lambda runtime API.
pub async fn run<S, K>(handler: Arc<ImageHandler<S, K>>) -> Result<(), lambda_http::Error>
where
    S: ImageSource + 'static,
    K: SecretProvider + 'static,
{
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let handler = Arc::clone(&handler);
        async move { handler.handle_lambda(req).await }
    }))
    .await
}
