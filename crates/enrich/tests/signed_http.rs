//! `SignedClient` against a real local HTTP server that recomputes every SigV4 signature with
//! an independent implementation (`lambdakit-test-support`'s `sigv4_verify`), checks the API
//! key, and injects latency, errors and hangs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use futures_util::{StreamExt, stream};
use lambdakit_enrich::http::{Error, HttpVersion, Reply, SignedClient, retry_transient};
use lambdakit_enrich::{AsyncIo, Outcome, Retry};
use lambdakit_test_support::signed_server::{InjectedError, SignedServer, SignedServerConfig};
use lambdakit_test_support::sigv4_verify::Secret;
use serde::{Deserialize, Serialize};

const REGION: &str = "eu-west-1";
const AKID: &str = "AKIDTESTENRICH";
const SECRET: &str = "enrich-test-secret";
const API_KEY: &str = "enrich-api-key";

#[derive(Debug, Serialize)]
struct Tx {
    id: u32,
    amount: f64,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Echo {
    id: u32,
    doubled: f64,
}

/// Answers `{"id", "doubled"}` from the request body.
fn echo(_: &http::request::Parts, body: &[u8]) -> (u16, Vec<u8>) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let reply = serde_json::json!({
        "id": v["id"],
        "doubled": v["amount"].as_f64().unwrap_or(0.0) * 2.0,
    });
    (200, reply.to_string().into_bytes())
}

fn server_config() -> SignedServerConfig {
    SignedServerConfig::new(REGION)
        .credential(AKID, Secret::new(SECRET))
        .api_key(API_KEY)
        .handler(echo)
}

fn static_credentials(secret: &str) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(AKID, secret, None, None, "test"))
}

fn client(server: &SignedServer, version: HttpVersion) -> SignedClient {
    SignedClient::builder(format!("{}/prod/score", server.url()))
        .region(REGION)
        .credentials(static_credentials(SECRET))
        .api_key(API_KEY)
        .http_version(version)
        .pool_size(8)
        .build()
        .expect("client")
}

fn txs(n: u32) -> Vec<Tx> {
    (0..n)
        .map(|id| Tx {
            id,
            amount: f64::from(id) + 0.5,
        })
        .collect()
}

#[tokio::test]
async fn signed_calls_are_accepted_over_http1_and_http2() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let server = SignedServer::start(server_config()).await.expect("server");
        let client = client(&server, version);
        let out: Vec<_> = AsyncIo::unordered(8)
            .run(stream::iter(txs(40)), client.json::<Echo>())
            .collect()
            .await;
        assert_eq!(out.len(), 40);
        for done in &out {
            let reply = done.outcome.value().expect("a reply");
            assert_eq!(
                reply.status,
                200,
                "{version:?}: {:?}",
                server.stats().last_refusal()
            );
            assert_eq!(
                reply.value,
                Some(Echo {
                    id: done.input.id,
                    doubled: done.input.amount * 2.0
                })
            );
        }
        let stats = server.stats();
        assert_eq!(stats.accepted(), 40);
        assert_eq!(stats.refused_signature() + stats.refused_api_key(), 0);
        assert!(stats.max_in_flight() <= 8);
        match version {
            // HTTP/2 multiplexes every call on one connection.
            HttpVersion::Http2 => assert_eq!(stats.connections(), 1),
            // HTTP/1.1 keep-alive reuses at most `capacity` connections.
            _ => assert!(
                stats.connections() <= 8,
                "{} connections",
                stats.connections()
            ),
        }
    }
}

#[tokio::test]
async fn a_wrong_secret_region_or_api_key_is_a_403_reply_and_is_not_retried() {
    let server = SignedServer::start(server_config()).await.expect("server");
    let url = format!("{}/prod/score", server.url());
    let cases = [
        (
            "wrong secret",
            SignedClient::builder(&url)
                .region(REGION)
                .credentials(static_credentials("not-the-secret"))
                .api_key(API_KEY),
        ),
        (
            "wrong region",
            SignedClient::builder(&url)
                .region("us-east-1")
                .credentials(static_credentials(SECRET))
                .api_key(API_KEY),
        ),
        (
            "wrong service",
            SignedClient::builder(&url)
                .region(REGION)
                .service("lambda")
                .credentials(static_credentials(SECRET))
                .api_key(API_KEY),
        ),
        (
            "no api key",
            SignedClient::builder(&url)
                .region(REGION)
                .credentials(static_credentials(SECRET)),
        ),
    ];
    for (name, builder) in cases {
        let function = builder.build().expect("client").json::<Echo>();
        let out: Vec<_> = AsyncIo::ordered(1)
            .retry(retry_transient(Retry::fixed(Duration::from_millis(1), 3)))
            .run(stream::iter(txs(1)), function)
            .collect()
            .await;
        let reply = out[0].outcome.value().expect("a reply, not an error");
        assert_eq!(reply.status, 403, "{name}");
        assert_eq!(reply.value, None, "{name}");
        assert!(!reply.error_body.is_empty(), "{name}");
        assert_eq!(out[0].attempts, 1, "{name}: a 403 is final");
    }
    let stats = server.stats();
    assert_eq!(stats.accepted(), 0);
    assert_eq!(stats.refused_signature(), 3);
    assert_eq!(stats.refused_api_key(), 1);
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after() {
    // Every request is throttled with Retry-After: 1 until the server is told otherwise.
    let server = SignedServer::start(
        server_config()
            .error_rate(1.0)
            .injected_error(InjectedError::throttled(Duration::from_secs(1))),
    )
    .await
    .expect("server");
    let client = client(&server, HttpVersion::Http1);
    let started = std::time::Instant::now();
    let out: Vec<_> = AsyncIo::ordered(1)
        .retry(retry_transient(Retry::fixed(Duration::from_millis(10), 1)))
        .run(stream::iter(txs(1)), client.json::<Echo>())
        .collect()
        .await;
    let reply = out[0].outcome.value().expect("a reply");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(out[0].attempts, 2);
    // The retry waited for Retry-After (1 s), not the 10 ms backoff.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.stats().requests(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_until_they_succeed() {
    // Half the requests fail with 500 (seeded): with enough retries every element succeeds.
    let server = SignedServer::start(server_config().error_rate(0.5).seed(3))
        .await
        .expect("server");
    let client = client(&server, HttpVersion::Http1);
    let out: Vec<_> = AsyncIo::unordered(8)
        .retry(retry_transient(Retry::fixed(Duration::from_millis(1), 20)))
        .run(stream::iter(txs(30)), client.json::<Echo>())
        .collect()
        .await;
    assert!(out.iter().all(|d| {
        d.outcome
            .value()
            .is_some_and(|r: &Reply<Echo>| r.status == 200)
    }));
    let stats = server.stats();
    assert!(stats.injected_errors() > 0);
    assert_eq!(stats.requests(), 30 + stats.injected_errors());
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_with_the_input_kept() {
    let server = SignedServer::start(server_config().hang(true))
        .await
        .expect("server");
    let client = client(&server, HttpVersion::Http1);
    let out: Vec<_> = AsyncIo::unordered(4)
        .timeout(Duration::from_millis(300))
        .run(stream::iter(txs(3)), client.json::<Echo>())
        .collect()
        .await;
    assert_eq!(out.len(), 3);
    for done in out {
        assert!(matches!(done.outcome, Outcome::TimedOut));
        assert!(done.elapsed >= Duration::from_millis(300));
    }
}

#[tokio::test]
async fn transport_errors_and_bad_bodies_are_typed() {
    // Nothing listens on this port any more.
    let server = SignedServer::start(server_config()).await.expect("server");
    let url = format!("{}/prod/score", server.url());
    server.shutdown().await;
    let client = SignedClient::builder(url)
        .region(REGION)
        .credentials(static_credentials(SECRET))
        .build()
        .expect("client");
    let err = client
        .post_json::<Echo>(b"{}".to_vec())
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Transport(_)), "{err}");
    assert!(err.is_transient());

    // A 2xx body that is not the expected JSON, and one over the size limit.
    let server = SignedServer::start(server_config().handler(|_, _| (200, vec![b'x'; 4096])))
        .await
        .expect("server");
    let base = SignedClient::builder(format!("{}/score", server.url()))
        .region(REGION)
        .credentials(static_credentials(SECRET))
        .api_key(API_KEY);
    let err = base
        .build()
        .expect("client")
        .post_json::<Echo>(b"{}".to_vec())
        .await
        .expect_err("not json");
    assert!(matches!(err, Error::Decode(_)), "{err}");
    assert!(!err.is_transient());
    let small = SignedClient::builder(format!("{}/score", server.url()))
        .region(REGION)
        .credentials(static_credentials(SECRET))
        .api_key(API_KEY)
        .max_response_bytes(1024)
        .build()
        .expect("client");
    let err = small
        .post_json::<Echo>(b"{}".to_vec())
        .await
        .expect_err("too large");
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 1024 }),
        "{err}"
    );
}

/// Hands out short-lived numbered credentials with session tokens.
#[derive(Debug)]
struct Rotating {
    calls: Arc<AtomicU32>,
    lifetime: Duration,
}

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        future::ProvideCredentials::ready(Ok(Credentials::new(
            format!("ASIAROTATING{n}"),
            format!("secret-{n}"),
            Some(format!("token-{n}")),
            Some(SystemTime::now() + self.lifetime),
            "rotating",
        )))
    }
}

#[tokio::test]
async fn credentials_are_refreshed_before_they_expire() {
    let server = SignedServer::start(
        SignedServerConfig::new(REGION)
            .credential_lookup(|akid: &str| {
                akid.strip_prefix("ASIAROTATING")
                    .map(|n| Secret::new(format!("secret-{n}")))
            })
            .handler(echo),
    )
    .await
    .expect("server");
    let calls = Arc::new(AtomicU32::new(0));
    // Valid for 1.5 s, refreshed when less than 1 s is left: a new set every ~0.5 s.
    let client = SignedClient::builder(format!("{}/score", server.url()))
        .region(REGION)
        .credentials(SharedCredentialsProvider::new(Rotating {
            calls: calls.clone(),
            lifetime: Duration::from_millis(1500),
        }))
        .refresh_window(Duration::from_secs(1))
        .build()
        .expect("client");
    let ticks = stream::iter(txs(8)).then(|tx| async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        tx
    });
    let out: Vec<_> = AsyncIo::ordered(1)
        .run(ticks, client.json::<Echo>())
        .collect()
        .await;
    assert!(out.iter().all(|d| {
        d.outcome
            .value()
            .is_some_and(|r: &Reply<Echo>| r.status == 200)
    }));
    let seen = server.stats().credentials_seen();
    let keys: std::collections::BTreeSet<_> =
        seen.iter().map(|c| c.access_key_id.clone()).collect();
    assert!(keys.len() >= 2, "credentials were not refreshed: {seen:?}");
    assert!(
        seen.iter().all(|c| c.session_token.is_some()),
        "session tokens sent"
    );
    assert!(calls.load(Ordering::SeqCst) <= 8);
}
