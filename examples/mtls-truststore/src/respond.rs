//! Delivering the response: an HTTP `PUT` of the JSON body to the pre-signed `ResponseURL`.
//!
//! The URL is an S3 pre-signed URL signed without a `Content-Type`, so none is sent (a
//! `Content-Type: application/json` breaks the signature). Connection errors, timeouts and 5xx
//! answers are retried with backoff while the time allows; a 4xx (an expired or altered URL)
//! is not.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::Instant;

use crate::Error;

/// How long one attempt may take.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many attempts at most.
pub const DEFAULT_ATTEMPTS: u32 = 4;

/// Sends responses to CloudFormation. Cheap to clone: the connection pool is shared.
#[derive(Clone)]
pub struct Responder {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    https_only: bool,
    attempts: u32,
    attempt_timeout: Duration,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("https_only", &self.https_only)
            .field("attempts", &self.attempts)
            .field("attempt_timeout", &self.attempt_timeout)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder for the pre-signed URLs CloudFormation gives: `https` only, server
    /// certificates checked against the system's roots (`/etc/pki` on `provided.al2023`).
    ///
    /// Errors ([`Error::Config`]) when the system has no root certificates.
    pub fn https() -> Result<Self, Error> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider())
            .map_err(|e| Error::Config(format!("no system root certificates: {e}")))?
            .https_only()
            .enable_http1();
        Ok(Self::with_connector(
            builder.wrap_connector(http_connector()),
            true,
        ))
    }

    /// A responder that sends to `http://` URLs too, trusting no server certificate: for the
    /// local stand-in of the `ResponseURL` (tests, the demo). Never in a deployed function.
    ///
    /// Errors ([`Error::Config`]) only if the TLS provider cannot be set up.
    pub fn allowing_http() -> Result<Self, Error> {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1();
        Ok(Self::with_connector(
            builder.wrap_connector(http_connector()),
            false,
        ))
    }

    fn with_connector(connector: HttpsConnector<HttpConnector>, https_only: bool) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            client,
            https_only,
            attempts: DEFAULT_ATTEMPTS,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }

    /// At most `attempts` attempts (at least one).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Each attempt may take `timeout`.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// PUTs `body` to `url`, retrying until `within` has passed; returns the HTTP status.
    ///
    /// Errors ([`Error::Respond`]): a URL that does not parse (or `http://` on an
    /// [`https`](Self::https) responder), a 4xx answer, or every attempt failing.
    pub async fn send(&self, url: &str, body: Vec<u8>, within: Duration) -> Result<u16, Error> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::Respond(format!("ResponseURL does not parse: {e}")))?;
        if self.https_only && uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
            return Err(Error::Respond(format!(
                "ResponseURL is not https: {}",
                uri.scheme_str().unwrap_or("no scheme")
            )));
        }
        let deadline = Instant::now() + within;
        let body = Bytes::from(body);
        let mut backoff = Duration::from_millis(200);
        let mut last = String::from("no attempt made");
        for attempt in 1..=self.attempts {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let request = http::Request::put(uri.clone())
                .header(http::header::CONTENT_LENGTH, body.len())
                .body(Full::new(body.clone()))
                .map_err(|e| Error::Respond(format!("building the request: {e}")))?;
            let outcome =
                tokio::time::timeout(left.min(self.attempt_timeout), self.client.request(request))
                    .await;
            match outcome {
                Ok(Ok(response)) => {
                    let status = response.status();
                    // Read the answer so the connection can be reused; S3's error is XML.
                    let answer = response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    if status.is_success() {
                        return Ok(status.as_u16());
                    }
                    last = format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&answer[..answer.len().min(300)])
                    );
                    if status.is_client_error() {
                        return Err(Error::Respond(last));
                    }
                }
                Ok(Err(e)) => last = format!("attempt {attempt}: {e}"),
                Err(_) => last = format!("attempt {attempt} timed out"),
            }
            tracing::warn!(attempt, error = %last, "sending the response failed; retrying");
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(backoff.min(left)).await;
            backoff *= 2;
        }
        Err(Error::Respond(last))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn http_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(3)));
    http.set_nodelay(true);
    http
}
