//! Fetching a JWKS document over HTTPS (hyper, rustls with aws-lc-rs, the system's roots).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::{JwtError, JwtErrorKind, quoted};

/// Where a JWKS is, checked once when the verifier is built.
pub(crate) fn parse_jwks_uri(uri: &str, allow_http_loopback: bool) -> Result<http::Uri, JwtError> {
    let invalid = |why: &str| {
        JwtError::new(
            JwtErrorKind::InvalidConfig,
            format!("jwks uri {}: {why}", quoted(uri)),
        )
    };
    let parsed: http::Uri = uri.parse().map_err(|_| invalid("not a uri"))?;
    let host = parsed.host().ok_or_else(|| invalid("no host"))?;
    match parsed.scheme_str() {
        Some("https") => Ok(parsed),
        Some("http") if allow_http_loopback && is_loopback(host) => Ok(parsed),
        Some("http") if allow_http_loopback => {
            Err(invalid("plain http is allowed for loopback hosts only"))
        }
        _ => Err(invalid("not https")),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An HTTP client for JWKS documents: GET, a status of 200, a bounded body, within a timeout.
/// Redirects are not followed.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    max_bytes: usize,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("timeout", &self.timeout)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A client that speaks HTTPS with the system's root certificates, and plain HTTP only
    /// when `allow_http` (the URIs themselves were checked by [`parse_jwks_uri`]).
    pub(crate) fn new(
        timeout: Duration,
        max_bytes: usize,
        allow_http: bool,
    ) -> Result<Self, JwtError> {
        let builder = HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| {
                JwtError::new(
                    JwtErrorKind::InvalidConfig,
                    format!("no root certificates for https: {e}"),
                )
            })?;
        let connector = if allow_http {
            builder.https_or_http().enable_http1().build()
        } else {
            builder.https_only().enable_http1().build()
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self {
            client,
            timeout,
            max_bytes,
        })
    }

    /// The body of a `200` answer to `GET uri`.
    ///
    /// # Errors
    /// A lowercase description of the failure: connection, TLS, another status, a body larger
    /// than the limit, or the timeout.
    pub(crate) async fn get(&self, uri: &http::Uri) -> Result<Bytes, String> {
        match tokio::time::timeout(self.timeout, self.get_unbounded(uri)).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }

    async fn get_unbounded(&self, uri: &http::Uri) -> Result<Bytes, String> {
        let request = http::Request::get(uri.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("lambdakit-auth/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("request failed: {}", error_chain(&e)))?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Err(format!("answered {status}, not 200"));
        }
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(format!("body larger than {} bytes", self.max_bytes));
        }
        Limited::new(response.into_body(), self.max_bytes)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!("body larger than {} bytes", self.max_bytes)
                } else {
                    format!("reading the body failed: {e}")
                }
            })
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required() {
        assert!(parse_jwks_uri("https://example.com/jwks.json", false).is_ok());
        for uri in [
            "http://example.com/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "ftp://example.com/x",
            "example.com/jwks.json",
            "/jwks.json",
            "",
        ] {
            assert!(parse_jwks_uri(uri, false).is_err(), "{uri}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_allowed() {
        for uri in [
            "http://127.0.0.1:8080/jwks.json",
            "http://127.1.2.3/jwks.json",
            "http://localhost:1/x",
            "http://[::1]:9/x",
        ] {
            assert!(parse_jwks_uri(uri, true).is_ok(), "{uri}");
        }
        for uri in [
            "http://example.com/jwks.json",
            "http://10.0.0.1/x",
            "http://127.0.0.1.example.com/x",
        ] {
            assert!(parse_jwks_uri(uri, true).is_err(), "{uri}");
        }
    }
}
