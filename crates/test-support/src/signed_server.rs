//! A local HTTP endpoint standing in for "API Gateway with IAM authorization and an API key in
//! front of a model".
//!
//! [`SignedServer`] listens on `127.0.0.1` (a free port), serves HTTP/1.1 with keep-alive and
//! HTTP/2 with prior knowledge (h2c) on the same port, one tokio task per connection, and
//! answers each request as API Gateway would:
//!
//! 1. the SigV4 signature is checked with [`crate::sigv4_verify`]; a refusal is a `403` with
//!    API Gateway's `{"message": …}` body and `x-amzn-ErrorType`;
//! 2. when an API key is required, a missing or wrong `x-api-key` is a `403
//!    {"message":"Forbidden"}`;
//! 3. when the hang switch is on, the request is never answered (to test client timeouts);
//! 4. the configured latency passes;
//! 5. a seeded share of requests gets the configured error (`500`, or `429` with
//!    `Retry-After`, …);
//! 6. the handler answers the rest, as `application/json`.
//!
//! [`Stats`] counts what happened with atomics, so the server can be driven at thousands of
//! concurrent connections; the only lock taken per request guards a short, bounded log of the
//! credentials seen.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use lambdakit_test_support::signed_server::{SignedServer, SignedServerConfig};
//! use lambdakit_test_support::sigv4_verify::Secret;
//!
//! let server = SignedServer::start(
//!     SignedServerConfig::new("eu-west-1")
//!         .credential("AKIDEXAMPLE", Secret::new("secret"))
//!         .api_key("key-1")
//!         .latency(Duration::from_millis(250))
//!         .error_rate(0.01)
//!         .handler(|_parts, body| (200, body.to_vec())),
//! )
//! .await?;
//! println!("POST signed requests to {}", server.url());
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use subtle::ConstantTimeEq as _;
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::sigv4_verify::{CredentialLookup, KeyStore, Secret, Verifier};

/// Produces the normal answer to an accepted request: a status and a JSON body.
pub type Handler = Arc<dyn Fn(&http::request::Parts, &[u8]) -> (u16, Vec<u8>) + Send + Sync>;

/// API Gateway's largest request payload.
const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;
const DEFAULT_LOG_CAPACITY: usize = 1024;
const DEFAULT_SEED: u64 = 0x5EED_1DEA_0000_0001;

/// The error a share of accepted requests gets instead of the handler's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InjectedError {
    status: u16,
    retry_after: Option<Duration>,
}

impl InjectedError {
    /// An error with this status and API Gateway's body for it (`{"message": …}`).
    pub fn new(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
        }
    }

    /// `500 {"message": "Internal server error"}`, what API Gateway answers when the
    /// integration fails.
    pub fn internal() -> Self {
        Self::new(500)
    }

    /// `429 {"message":"Too Many Requests"}` with `Retry-After` (whole seconds, rounded up).
    pub fn throttled(retry_after: Duration) -> Self {
        Self::new(429).retry_after(retry_after)
    }

    /// Adds a `Retry-After` header (whole seconds, rounded up).
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    fn message(&self) -> &'static str {
        match self.status {
            429 => "Too Many Requests",
            500 | 502 => "Internal server error",
            503 => "Service Unavailable",
            504 => "Endpoint request timed out",
            _ => "Injected error",
        }
    }
}

/// How a [`SignedServer`] behaves. Every option has a default but the region and the keys:
/// with no key, every signed request is refused as from an unknown access key.
#[derive(Clone)]
pub struct SignedServerConfig {
    region: String,
    service: String,
    keys: KeyStore,
    lookup: Option<Arc<dyn CredentialLookup>>,
    max_skew: Duration,
    api_key: Option<String>,
    latency: Duration,
    error_rate: f64,
    injected: InjectedError,
    seed: u64,
    hang: bool,
    handler: Handler,
    log_capacity: usize,
    max_body: usize,
}

impl SignedServerConfig {
    /// Requests must be signed for `region` and service `execute-api`; no key is known yet, no
    /// API key is required, no latency, no errors; the handler answers `200 {"ok":true}`.
    pub fn new(region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            service: "execute-api".into(),
            keys: KeyStore::new(),
            lookup: None,
            max_skew: crate::sigv4_verify::DEFAULT_MAX_SKEW,
            api_key: None,
            latency: Duration::ZERO,
            error_rate: 0.0,
            injected: InjectedError::internal(),
            seed: DEFAULT_SEED,
            hang: false,
            handler: Arc::new(|_, _| (200, br#"{"ok":true}"#.to_vec())),
            log_capacity: DEFAULT_LOG_CAPACITY,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The service name in the credential scope (default `execute-api`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Accepts this access key (add as many as needed).
    pub fn credential(mut self, access_key_id: impl Into<String>, secret: Secret) -> Self {
        self.keys.insert(access_key_id, secret);
        self
    }

    /// Finds keys with `lookup` instead of the keys added with [`Self::credential`], for
    /// example to accept credentials a test issues while the server runs.
    pub fn credential_lookup(mut self, lookup: impl CredentialLookup + 'static) -> Self {
        self.lookup = Some(Arc::new(lookup));
        self
    }

    /// The clock skew allowed (default 5 minutes, like AWS).
    pub fn max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// Requires this `x-api-key` on every request.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Waits this long before answering each accepted request (the model's latency).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The share of accepted requests (0.0 to 1.0, clamped; NaN is 0) that get the
    /// [`InjectedError`] instead of the handler's answer.
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.error_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// The injected error (default [`InjectedError::internal`]).
    pub fn injected_error(mut self, error: InjectedError) -> Self {
        self.injected = error;
        self
    }

    /// Seeds the generator that picks which requests get an error: the same seed and the
    /// same order of requests give the same errors.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Starts with the hang switch on: accepted requests are never answered (see
    /// [`SignedServer::set_hang`]).
    pub fn hang(mut self, hang: bool) -> Self {
        self.hang = hang;
        self
    }

    /// Answers accepted requests with `handler(parts, body) -> (status, json)`.
    pub fn handler(
        mut self,
        handler: impl Fn(&http::request::Parts, &[u8]) -> (u16, Vec<u8>) + Send + Sync + 'static,
    ) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// Keeps at most this many entries in the log of credentials seen (default 1024; 0 turns
    /// the log off). See [`Stats::credentials_seen`].
    pub fn credential_log_capacity(mut self, capacity: usize) -> Self {
        self.log_capacity = capacity;
        self
    }

    /// Refuses bodies larger than this with `413` (default 10 MiB, API Gateway's limit).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }
}

impl fmt::Debug for SignedServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedServerConfig")
            .field("region", &self.region)
            .field("service", &self.service)
            .field("keys", &self.keys)
            .field("custom_lookup", &self.lookup.is_some())
            .field("max_skew", &self.max_skew)
            .field("api_key", &self.api_key.as_ref().map(|_| "** redacted **"))
            .field("latency", &self.latency)
            .field("error_rate", &self.error_rate)
            .field("injected", &self.injected)
            .field("seed", &self.seed)
            .field("hang", &self.hang)
            .field("log_capacity", &self.log_capacity)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// One run of consecutive accepted requests signed with the same credentials.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeenCredential {
    /// The access key id.
    pub access_key_id: String,
    /// The `x-amz-security-token` sent, if any.
    pub session_token: Option<String>,
    /// How many consecutive accepted requests used these credentials.
    pub requests: u64,
}

impl fmt::Debug for SeenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeenCredential")
            .field("access_key_id", &self.access_key_id)
            .field(
                "session_token",
                &self
                    .session_token
                    .as_ref()
                    .map(|t| format!("** {} chars **", t.len())),
            )
            .field("requests", &self.requests)
            .finish()
    }
}

/// What a [`SignedServer`] has seen. Counters only grow, except [`Stats::in_flight`] and
/// [`Stats::open_connections`].
#[derive(Default)]
pub struct Stats {
    requests: AtomicU64,
    accepted: AtomicU64,
    refused_signature: AtomicU64,
    refused_api_key: AtomicU64,
    refused_other: AtomicU64,
    injected_errors: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    connections: AtomicU64,
    open_connections: AtomicU64,
    log_capacity: usize,
    log: Mutex<Vec<SeenCredential>>,
    last_refusal: Mutex<Option<String>>,
}

impl Stats {
    /// Requests received (every request, whatever the answer).
    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }

    /// Requests whose signature and API key passed (answered by the handler, given an
    /// injected error, or hung).
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Relaxed)
    }

    /// Requests refused for their signature (any [`crate::sigv4_verify::SigRefusal`]).
    pub fn refused_signature(&self) -> u64 {
        self.refused_signature.load(Relaxed)
    }

    /// Requests refused for a missing or wrong `x-api-key`.
    pub fn refused_api_key(&self) -> u64 {
        self.refused_api_key.load(Relaxed)
    }

    /// Requests refused before authentication: a body over the limit or cut short.
    pub fn refused_other(&self) -> u64 {
        self.refused_other.load(Relaxed)
    }

    /// Accepted requests answered with the injected error.
    pub fn injected_errors(&self) -> u64 {
        self.injected_errors.load(Relaxed)
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Relaxed)
    }

    /// The most requests handled at the same time.
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Relaxed)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.connections.load(Relaxed)
    }

    /// TCP connections open now.
    pub fn open_connections(&self) -> u64 {
        self.open_connections.load(Relaxed)
    }

    /// The credentials of accepted requests, in order, as runs: a new entry starts when the
    /// access key id or session token changes (so a credential refresh shows as a new entry).
    /// Bounded by [`SignedServerConfig::credential_log_capacity`]; entries past it are dropped.
    pub fn credentials_seen(&self) -> Vec<SeenCredential> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The message of the last signature refusal, to explain a failing test.
    pub fn last_refusal(&self) -> Option<String> {
        self.last_refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record_credentials(&self, access_key_id: &str, session_token: Option<&str>) {
        if self.log_capacity == 0 {
            return;
        }
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = log.last_mut()
            && last.access_key_id == access_key_id
            && last.session_token.as_deref() == session_token
        {
            last.requests += 1;
            return;
        }
        if log.len() < self.log_capacity {
            log.push(SeenCredential {
                access_key_id: access_key_id.to_owned(),
                session_token: session_token.map(str::to_owned),
                requests: 1,
            });
        }
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stats")
            .field("requests", &self.requests())
            .field("accepted", &self.accepted())
            .field("refused_signature", &self.refused_signature())
            .field("refused_api_key", &self.refused_api_key())
            .field("refused_other", &self.refused_other())
            .field("injected_errors", &self.injected_errors())
            .field("in_flight", &self.in_flight())
            .field("max_in_flight", &self.max_in_flight())
            .field("connections", &self.connections())
            .field("open_connections", &self.open_connections())
            .finish_non_exhaustive()
    }
}

/// Counts a request in flight until dropped (also when a hung request's connection closes).
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        let now = stats.in_flight.fetch_add(1, Relaxed) + 1;
        stats.max_in_flight.fetch_max(now, Relaxed);
        Self(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

struct Shared {
    verifier: Verifier,
    api_key: Option<String>,
    latency: Duration,
    error_rate: f64,
    injected: InjectedError,
    rng: AtomicU64,
    hang: AtomicBool,
    handler: Handler,
    max_body: usize,
    stats: Arc<Stats>,
    request_ids: AtomicU64,
}

impl Shared {
    /// The next number in [0, 1) from SplitMix64: lock-free, and the same sequence for the
    /// same seed.
    fn draw(&self) -> f64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self.rng.fetch_add(GAMMA, Relaxed).wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A running local endpoint; it stops when dropped or on [`SignedServer::shutdown`].
pub struct SignedServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl fmt::Debug for SignedServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedServer")
            .field("addr", &self.addr)
            .field("stats", &self.shared.stats)
            .finish_non_exhaustive()
    }
}

type Answer = Response<Full<Bytes>>;

fn json_message(status: u16, message: &str) -> Answer {
    let body = serde_json::json!({ "message": message }).to_string();
    answer(status, body.into_bytes())
}

fn answer(status: u16, body: Vec<u8>) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Infallible> {
    let stats = &*shared.stats;
    stats.requests.fetch_add(1, Relaxed);
    let _in_flight = InFlight::enter(stats);
    let id = shared.request_ids.fetch_add(1, Relaxed);
    let mut response = respond(&shared, request).await;
    // API Gateway names every answer with a request id; a deterministic one is enough here.
    let request_id = format!("00000000-0000-4000-8000-{:012x}", id & 0xFFFF_FFFF_FFFF);
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    Ok(response)
}

async fn respond(shared: &Shared, request: Request<Incoming>) -> Answer {
    let stats = &*shared.stats;
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, shared.max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            stats.refused_other.fetch_add(1, Relaxed);
            return if e.downcast_ref::<LengthLimitError>().is_some() {
                json_message(413, "Request Too Long")
            } else {
                json_message(400, "Bad Request")
            };
        }
    };

    let verified = match shared.verifier.verify(&parts, &body, SystemTime::now()) {
        Ok(verified) => verified,
        Err(refusal) => {
            stats.refused_signature.fetch_add(1, Relaxed);
            let message = refusal.to_string();
            *stats
                .last_refusal
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(format!("{refusal:?}: {message}"));
            let mut response = json_message(refusal.status(), &message);
            response.headers_mut().insert(
                "x-amzn-errortype",
                http::HeaderValue::from_static(refusal.error_type()),
            );
            return response;
        }
    };
    if let Some(expected) = &shared.api_key {
        let sent = parts
            .headers
            .get("x-api-key")
            .map(http::HeaderValue::as_bytes);
        if !sent.is_some_and(|sent| bool::from(sent.ct_eq(expected.as_bytes()))) {
            stats.refused_api_key.fetch_add(1, Relaxed);
            let mut response = json_message(403, "Forbidden");
            response.headers_mut().insert(
                "x-amzn-errortype",
                http::HeaderValue::from_static("ForbiddenException"),
            );
            return response;
        }
    }
    stats.accepted.fetch_add(1, Relaxed);
    stats.record_credentials(&verified.access_key_id, verified.session_token.as_deref());

    if shared.hang.load(Relaxed) {
        std::future::pending::<()>().await;
    }
    // Drawn on arrival, so the pattern follows the order requests come in.
    let inject = shared.error_rate > 0.0 && shared.draw() < shared.error_rate;
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    if inject {
        stats.injected_errors.fetch_add(1, Relaxed);
        let error = shared.injected;
        let mut response = json_message(error.status, error.message());
        if let Some(after) = error.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        return response;
    }
    let (status, body) = (shared.handler)(&parts, &body);
    answer(status, body)
}

impl SignedServer {
    /// Binds `127.0.0.1` on a free port and starts serving `config`.
    ///
    /// Must be called inside a tokio runtime. Fails only when the socket cannot be bound.
    pub async fn start(config: SignedServerConfig) -> io::Result<Self> {
        let verifier = match config.lookup {
            Some(lookup) => Verifier::new(&config.region, &config.service, move |id: &str| {
                lookup.secret_for(id)
            }),
            None => Verifier::new(&config.region, &config.service, config.keys),
        }
        .max_skew(config.max_skew);
        let stats = Arc::new(Stats {
            log_capacity: config.log_capacity,
            ..Stats::default()
        });
        let shared = Arc::new(Shared {
            verifier,
            api_key: config.api_key,
            latency: config.latency,
            error_rate: config.error_rate,
            injected: config.injected,
            rng: AtomicU64::new(config.seed),
            hang: AtomicBool::new(config.hang),
            handler: config.handler,
            max_body: config.max_body,
            stats,
            request_ids: AtomicU64::new(1),
        });

        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        // A deep backlog: a benchmark opens thousands of connections at once.
        let listener = socket.listen(4096)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let for_connections = Arc::clone(&shared);
        let accept = tokio::spawn(crate::accept::accept_loop(
            listener,
            stopped,
            move |stream, stopped| {
                for_connections.stats.connections.fetch_add(1, Relaxed);
                for_connections.stats.open_connections.fetch_add(1, Relaxed);
                serve_connection(stream, Arc::clone(&for_connections), stopped)
            },
        ));
        Ok(Self {
            addr,
            shared,
            stop,
            accept: Some(accept),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its counters, which stay readable after it stops.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.shared.stats)
    }

    /// Turns the hang switch on or off. While on, accepted requests are never answered;
    /// requests already hanging stay so until their connection closes.
    pub fn set_hang(&self, hang: bool) {
        self.shared.hang.store(hang, Relaxed);
    }

    /// Stops accepting, closes every connection (requests in flight are dropped) and waits,
    /// up to 5 seconds, for the connection tasks to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.shared.stats.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for SignedServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Pooled keep-alive connections may sit idle between requests; no header timeout.
    builder.http1().keep_alive(true).header_read_timeout(None);
    // Many streams per connection: a client multiplexing a whole benchmark over HTTP/2.
    builder.http2().max_concurrent_streams(10_000);
    let stats = Arc::clone(&shared.stats);
    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        _ = stopped.changed() => {}
    }
    stats.open_connections.fetch_sub(1, Relaxed);
}
