//! `serve`: the handler behind a small HTTP/1.1 server, for the same URLs on a local port.
//!
//! Each request becomes the [`HandlerRequest`] API Gateway's REST event would carry (the raw
//! path, the query parameters decoded with the last of repeated ones kept, the headers), and the
//! [`HandlerResponse`] goes back as is: status, headers in order, the raw body.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use lambdakit_image::handler::{HandlerRequest, ImageHandler};
use lambdakit_image::response::HandlerResponse;
use lambdakit_image::secret::SecretProvider;
use lambdakit_image::source::ImageSource;
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;

/// The request the handler sees for an HTTP request: what API Gateway's REST API puts in its
/// event. The path stays as sent (API Gateway does not decode it); query parameters are
/// percent-decoded, and of a repeated one the last is kept (`queryStringParameters`).
pub fn handler_request(parts: &http::request::Parts) -> HandlerRequest {
    HandlerRequest {
        path: parts.uri.path().to_owned(),
        query: query_parameters(parts.uri.query().unwrap_or_default()),
        headers: parts.headers.clone(),
        is_alb: false,
    }
}

/// `a=1&b=x%20y&a=2` as `{a: 2, b: "x y"}`. A parameter without `=` has an empty value.
pub fn query_parameters(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The HTTP response for a handler response. A header whose name or value HTTP cannot carry
/// is left out (and logged).
pub fn http_response(response: HandlerResponse) -> http::Response<Full<Bytes>> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        match (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(name), Ok(value)) => builder = builder.header(name, value),
            _ => tracing::warn!(header = %name, "header left out: not valid in HTTP"),
        }
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, status = response.status, "cannot build the response");
            let mut fallback = http::Response::new(Full::new(Bytes::new()));
            *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}

/// Answers HTTP/1.1 requests on `listener` with `handler`, until the listener fails.
///
/// # Errors
/// When accepting a connection fails.
pub async fn serve<S, K>(
    listener: TcpListener,
    handler: Arc<ImageHandler<S, K>>,
) -> std::io::Result<()>
where
    S: ImageSource + 'static,
    K: SecretProvider + 'static,
{
    loop {
        let (stream, peer) = listener.accept().await?;
        let handler = Arc::clone(&handler);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                let handler = Arc::clone(&handler);
                async move {
                    let (parts, _body) = request.into_parts();
                    let request = handler_request(&parts);
                    let response = handler.handle(&request).await;
                    tracing::info!(
                        method = %parts.method,
                        path = %parts.uri.path(),
                        status = response.status,
                        bytes = response.body.len(),
                        "served"
                    );
                    Ok::<_, Infallible>(http_response(response))
                }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded_and_the_last_repeated_one_wins() {
        let query = query_parameters("width=100&format=webp&width=200&expires&name=a%20b%2Bc");
        assert_eq!(query.get("width").map(String::as_str), Some("200"));
        assert_eq!(query.get("format").map(String::as_str), Some("webp"));
        assert_eq!(query.get("expires").map(String::as_str), Some(""));
        assert_eq!(query.get("name").map(String::as_str), Some("a b+c"));
        assert!(query_parameters("").is_empty());
    }

    #[test]
    fn the_path_stays_as_sent_and_headers_pass_through() {
        let request =
            http::Request::get("/fit-in/100x100/filters:grayscale()/a%20b.jpg?signature=ab")
                .header("accept", "image/webp")
                .body(())
                .expect("request");
        let (parts, ()) = request.into_parts();
        let request = handler_request(&parts);
        assert_eq!(
            request.path,
            "/fit-in/100x100/filters:grayscale()/a%20b.jpg"
        );
        assert_eq!(
            request.query.get("signature").map(String::as_str),
            Some("ab")
        );
        assert_eq!(
            request.headers.get("accept").and_then(|v| v.to_str().ok()),
            Some("image/webp")
        );
        assert!(!request.is_alb);
    }

    #[test]
    fn the_response_keeps_status_headers_and_body() {
        let response = http_response(HandlerResponse {
            status: 403,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("Bad\nName".to_owned(), "x".to_owned()),
            ],
            body: b"{}".to_vec(),
            is_base64: false,
        });
        assert_eq!(response.status(), 403);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers().len(), 1);
    }
}
