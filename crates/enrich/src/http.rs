//! SigV4-signed JSON calls to API Gateway (or any SigV4 endpoint), as an [`AsyncFunction`].
//!
//! The blog's `Sig4SignedHttpRequestAsyncFunction`, done so it lasts: the signing service and
//! region are configured, not guessed from the host (custom domains work); credentials come
//! from a provider (the `aws-config` chain) and are refreshed before they expire instead of
//! being frozen at start; non-2xx statuses are values the retry predicate sees
//! ([`retry_transient`]), not exceptions; responses are size-limited.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::credentials::CredentialCache;
use crate::function::AsyncFunction;
use crate::retry::{Retry, RetryDecision};

/// The default limit on a response body: Lambda's own 6 MB response limit.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Why a signed call failed (non-2xx statuses are not errors: see [`Reply`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured wrongly (bad endpoint, missing region or credentials).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// No credentials could be obtained, or they expired and could not be refreshed.
    #[error("no usable AWS credentials")]
    Credentials(#[source] aws_credential_types::provider::error::CredentialsError),
    /// The request could not be signed.
    #[error("could not sign the request: {0}")]
    Signing(String),
    /// The input could not be turned into a JSON body.
    #[error("could not serialise the request body")]
    Serialize(#[source] serde_json::Error),
    /// Connecting, sending or receiving failed (connection refused, reset, TLS).
    #[error("the call failed in transport")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The response body is larger than the limit.
    #[error("the response is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A 2xx response whose body is not the expected JSON.
    #[error("the response is not the expected JSON")]
    Decode(#[source] serde_json::Error),
}

impl Error {
    /// True for errors a retry may cure: transport failures and missing credentials (a
    /// provider that timed out may answer next time).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Transport(_) | Error::Credentials(_))
    }

    /// The HTTP status a handler should answer when it gives up because of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Config(_) | Error::Credentials(_) | Error::Signing(_) | Error::Serialize(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Error::Transport(_) | Error::ResponseTooLarge { .. } | Error::Decode(_) => {
                StatusCode::BAD_GATEWAY
            }
        }
    }
}

/// A response: its status, `Retry-After`, and the decoded body for 2xx statuses.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Reply<R> {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Retry-After` header as a delay (seconds or an HTTP date), if present and valid.
    pub retry_after: Option<Duration>,
    /// The decoded JSON body of a 2xx response; `None` for other statuses.
    pub value: Option<R>,
    /// The raw body of a non-2xx response (for logs and error messages); empty for 2xx.
    pub error_body: Bytes,
}

impl<R> Reply<R> {
    /// The decoded value of a 2xx response.
    pub fn into_value(self) -> Option<R> {
        self.value
    }
}

/// Which HTTP versions the client speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTPS: HTTP/2 when the server offers it by ALPN, otherwise HTTP/1.1 (API Gateway
    /// offers both). Plain HTTP: HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 with keep-alive only.
    Http1,
    /// HTTP/2 only (prior knowledge on plain HTTP): every call multiplexed on one connection.
    Http2,
}

/// An API key, never shown in `Debug` output.
#[derive(Clone)]
struct ApiKey(HeaderValue);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Builds a [`SignedClient`].
#[derive(Debug)]
pub struct SignedClientBuilder {
    endpoint: String,
    region: Option<String>,
    service: String,
    credentials: Option<SharedCredentialsProvider>,
    api_key: Option<String>,
    headers: Vec<(String, String)>,
    pool_size: usize,
    version: HttpVersion,
    connect_timeout: Duration,
    max_response_bytes: usize,
    refresh_window: Duration,
}

impl SignedClientBuilder {
    /// The AWS region to sign for (required; the region of the API, not parsed from the host).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The signing service name (default `execute-api`, API Gateway).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Where credentials come from (required): usually
    /// `aws_config::load_from_env().await.credentials_provider()`. They are cached and
    /// refreshed before they expire.
    pub fn credentials(mut self, provider: SharedCredentialsProvider) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Sends this API key as `x-api-key` (API Gateway usage plans).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Adds a header to every request (signed with it).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Idle connections kept per host: set it to the operator's capacity (default 20).
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    /// The HTTP versions to speak (default [`HttpVersion::Auto`]).
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.version = version;
        self
    }

    /// The limit on establishing a connection (default 5 s). The whole call is bounded by the
    /// operator's timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body accepted (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How long before their expiry cached credentials are refreshed (default 5 minutes, as
    /// the AWS SDKs do).
    pub fn refresh_window(mut self, window: Duration) -> Self {
        self.refresh_window = window;
        self
    }

    /// Checks the configuration and builds the client; `Error::Config` says what is wrong.
    pub fn build(self) -> Result<SignedClient, Error> {
        let endpoint: Uri = self
            .endpoint
            .parse()
            .map_err(|e| Error::Config(format!("endpoint {:?}: {e}", self.endpoint)))?;
        let https = match endpoint.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(Error::Config(format!(
                    "endpoint {:?} must start with https:// or http://",
                    self.endpoint
                )));
            }
        };
        let host = endpoint
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| Error::Config(format!("endpoint {:?} has no host", self.endpoint)))?;
        let region = self
            .region
            .filter(|r| !r.is_empty())
            .ok_or_else(|| Error::Config("a signing region is required".into()))?;
        if self.service.is_empty() {
            return Err(Error::Config("the signing service is empty".into()));
        }
        let provider = self
            .credentials
            .ok_or_else(|| Error::Config("a credentials provider is required".into()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|e| Error::Config(format!("header name {name:?}: {e}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|e| Error::Config(format!("header {name}: {e}")))?;
            headers.append(name, value);
        }
        let api_key = self
            .api_key
            .map(|k| {
                let mut v = HeaderValue::try_from(k)
                    .map_err(|_| Error::Config("the API key is not a valid header value".into()))?;
                v.set_sensitive(true);
                Ok::<_, Error>(ApiKey(v))
            })
            .transpose()?;

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        let tls = tls_config(https)?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let connector = match self.version {
            HttpVersion::Http1 => builder.enable_http1().wrap_connector(http),
            HttpVersion::Auto | HttpVersion::Http2 => {
                builder.enable_all_versions().wrap_connector(http)
            }
        };
        let mut client = Client::builder(TokioExecutor::new());
        client
            .pool_max_idle_per_host(self.pool_size.max(1))
            .pool_idle_timeout(Duration::from_secs(60));
        if self.version == HttpVersion::Http2 {
            client.http2_only(true);
        }
        let client = client.build(connector);

        Ok(SignedClient {
            inner: Arc::new(Inner {
                client,
                endpoint,
                host,
                region,
                service: self.service,
                credentials: CredentialCache::new(provider, self.refresh_window),
                api_key,
                headers,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

fn tls_config(https: bool) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs_roots();
    if found.is_empty() && https {
        return Err(Error::Config(
            "no trusted root certificates found on this system for an https endpoint".into(),
        ));
    }
    roots.add_parsable_certificates(found);
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

fn rustls_native_certs_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        tracing::debug!(target: "lambdakit_enrich", %error, "skipping a system root certificate source");
    }
    loaded.certs
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

struct Inner {
    client: HttpsClient,
    endpoint: Uri,
    host: String,
    region: String,
    service: String,
    credentials: CredentialCache,
    api_key: Option<ApiKey>,
    headers: HeaderMap,
    max_response_bytes: usize,
}

/// A client for one SigV4-protected JSON endpoint (an API Gateway method with IAM auth).
///
/// Cheap to clone (one shared connection pool and credential cache). Use
/// [`json`](Self::json) or [`json_with`](Self::json_with) to make the [`AsyncFunction`] the
/// operator calls.
#[derive(Clone)]
pub struct SignedClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for SignedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedClient")
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .field("service", &self.inner.service)
            .field("api_key", &self.inner.api_key)
            .finish_non_exhaustive()
    }
}

impl SignedClient {
    /// Starts a client for `endpoint`, the full URL to POST to (e.g.
    /// `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/score`).
    pub fn builder(endpoint: impl Into<String>) -> SignedClientBuilder {
        SignedClientBuilder {
            endpoint: endpoint.into(),
            region: None,
            service: "execute-api".into(),
            credentials: None,
            api_key: None,
            headers: Vec::new(),
            pool_size: 20,
            version: HttpVersion::Auto,
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            refresh_window: Duration::from_secs(300),
        }
    }

    /// POSTs `body` (JSON) signed, and decodes a 2xx answer as `R`.
    pub fn post_json<R: DeserializeOwned>(
        &self,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Reply<R>, Error>> + Send + 'static {
        let inner = self.inner.clone();
        async move { inner.send(Method::POST, Some(body)).await }
    }

    /// GETs the endpoint signed, and decodes a 2xx answer as `R` (for lookups such as API
    /// Gateway's `GET /apikeys/{id}?includeValue=true`, service `apigateway`).
    pub fn get_json<R: DeserializeOwned>(
        &self,
    ) -> impl Future<Output = Result<Reply<R>, Error>> + Send + 'static {
        let inner = self.inner.clone();
        async move { inner.send(Method::GET, None).await }
    }

    /// The operator's function: POSTs each input serialised as JSON.
    pub fn json<R>(&self) -> JsonFunction<Identity, R> {
        JsonFunction {
            client: self.clone(),
            map: Identity,
            _reply: std::marker::PhantomData,
        }
    }

    /// The operator's function: POSTs `map(input)` serialised as JSON.
    pub fn json_with<M, R>(&self, map: M) -> JsonFunction<M, R> {
        JsonFunction {
            client: self.clone(),
            map,
            _reply: std::marker::PhantomData,
        }
    }
}

impl Inner {
    async fn send<R: DeserializeOwned>(
        &self,
        method: Method,
        body: Option<Vec<u8>>,
    ) -> Result<Reply<R>, Error> {
        let credentials = self.credentials.get().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(self.endpoint.clone())
            .header(http::header::HOST, self.host.as_str())
            .body(())
            .map_err(|e| Error::Config(e.to_string()))?;
        let headers = request.headers_mut();
        if body.is_some() {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let body = body.unwrap_or_default();
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        if let Some(ApiKey(key)) = &self.api_key {
            headers.insert(HeaderName::from_static("x-api-key"), key.clone());
        }

        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::Signing(e.to_string()))?
            .into();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            request
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| Error::Signing(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Error::Signing(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);

        let request = request.map(|()| Full::new(Bytes::from(body)));
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Error::Transport(Box::new(e)))?;
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, self.max_response_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Error::ResponseTooLarge {
                        limit: self.max_response_bytes,
                    }
                } else {
                    Error::Transport(e)
                }
            })?
            .to_bytes();
        let retry_after = parts
            .headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        if parts.status.is_success() {
            let value = serde_json::from_slice(&bytes).map_err(Error::Decode)?;
            Ok(Reply {
                status: parts.status,
                retry_after,
                value: Some(value),
                error_body: Bytes::new(),
            })
        } else {
            Ok(Reply {
                status: parts.status,
                retry_after,
                value: None,
                error_body: bytes,
            })
        }
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.unix_timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Adds API Gateway's transient failures to `retry`: 429 and 503 (after `Retry-After` when
/// given), 500, 502 and 504, and transport errors. Other statuses and errors are final.
pub fn retry_transient<R>(retry: Retry<Reply<R>, Error>) -> Retry<Reply<R>, Error> {
    retry
        .retry_result_with(|reply: &Reply<R>| match reply.status.as_u16() {
            429 | 503 => reply
                .retry_after
                .map_or(RetryDecision::Retry, RetryDecision::RetryAfter),
            500 | 502 | 504 => RetryDecision::Retry,
            _ => RetryDecision::Stop,
        })
        .retry_error_with(|e: &Error| {
            if e.is_transient() {
                RetryDecision::Retry
            } else {
                RetryDecision::Stop
            }
        })
}

/// Serialises the input itself: the default map of [`SignedClient::json`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

/// Turns an input into the JSON body of its request.
pub trait RequestBody<T> {
    /// The JSON bytes for `input`.
    fn body(&self, input: &T) -> Result<Vec<u8>, serde_json::Error>;
}

impl<T: Serialize> RequestBody<T> for Identity {
    fn body(&self, input: &T) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(input)
    }
}

impl<T, F, B> RequestBody<T> for F
where
    F: Fn(&T) -> B,
    B: Serialize,
{
    fn body(&self, input: &T) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&self(input))
    }
}

/// The [`AsyncFunction`] of a [`SignedClient`]: one signed POST per call, the input mapped to
/// the JSON body, the answer decoded as `R`.
pub struct JsonFunction<M, R> {
    client: SignedClient,
    map: M,
    _reply: std::marker::PhantomData<fn() -> R>,
}

impl<M: Clone, R> Clone for JsonFunction<M, R> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            map: self.map.clone(),
            _reply: std::marker::PhantomData,
        }
    }
}

impl<M, R> fmt::Debug for JsonFunction<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonFunction")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// The future of one [`JsonFunction`] call.
pub type CallFuture<R> = Pin<Box<dyn Future<Output = Result<Reply<R>, Error>> + Send>>;

impl<T, M, R> AsyncFunction<T> for JsonFunction<M, R>
where
    M: RequestBody<T>,
    R: DeserializeOwned + Send + 'static,
{
    type Output = Reply<R>;
    type Error = Error;
    type Future = CallFuture<R>;

    fn call(&self, input: &T) -> Self::Future {
        match self.map.body(input) {
            Ok(body) => Box::pin(self.client.post_json(body)),
            Err(e) => Box::pin(std::future::ready(Err(Error::Serialize(e)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn transient_statuses_are_retried_and_others_are_final() {
        let retry = retry_transient::<()>(Retry::fixed(Duration::ZERO, 3));
        let reply = |status: u16, after: Option<u64>| {
            Ok(Reply {
                status: StatusCode::from_u16(status).expect("status"),
                retry_after: after.map(Duration::from_secs),
                value: None,
                error_body: Bytes::new(),
            })
        };
        assert_eq!(retry.decide(&reply(200, None)), RetryDecision::Stop);
        assert_eq!(retry.decide(&reply(400, None)), RetryDecision::Stop);
        assert_eq!(retry.decide(&reply(403, None)), RetryDecision::Stop);
        assert_eq!(retry.decide(&reply(429, None)), RetryDecision::Retry);
        assert_eq!(
            retry.decide(&reply(429, Some(2))),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(retry.decide(&reply(502, None)), RetryDecision::Retry);
        assert_eq!(
            retry.decide(&Err(Error::Transport("reset".into()))),
            RetryDecision::Retry
        );
        assert_eq!(
            retry.decide(&Err(Error::Decode(
                serde_json::from_str::<u8>("x").expect_err("bad json")
            ))),
            RetryDecision::Stop
        );
    }

    #[test]
    fn configuration_errors_are_typed() {
        let provider = SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "AKID", "secret", None, None, "test",
        ));
        let err = SignedClient::builder("ftp://example.com/")
            .region("us-east-1")
            .credentials(provider.clone())
            .build()
            .expect_err("ftp");
        assert!(matches!(err, Error::Config(_)), "{err}");
        let err = SignedClient::builder("https://example.com/score")
            .credentials(provider.clone())
            .build()
            .expect_err("no region");
        assert!(err.to_string().contains("region"), "{err}");
        let err = SignedClient::builder("https://example.com/score")
            .region("us-east-1")
            .build()
            .expect_err("no credentials");
        assert!(err.to_string().contains("credentials"), "{err}");
        let client = SignedClient::builder("https://example.com/score")
            .region("us-east-1")
            .credentials(provider)
            .api_key("top-secret-key")
            .build()
            .expect("valid");
        assert!(!format!("{client:?}").contains("top-secret-key"));
    }
}
