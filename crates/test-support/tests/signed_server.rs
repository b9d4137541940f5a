//! The local signed endpoint, driven over real sockets by hyper's client with requests signed
//! by `aws-sigv4` (the AWS SDK's signer).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambdakit_test_support::signed_server::{InjectedError, SignedServer, SignedServerConfig};
use lambdakit_test_support::sigv4_verify::{SdkSigner, Secret};

const REGION: &str = "eu-west-1";
const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http1_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn http2_client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

struct Creds<'a> {
    akid: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
}

const CREDS: Creds<'static> = Creds {
    akid: AKID,
    secret: SECRET,
    token: None,
    region: REGION,
};

/// A request signed by aws-sigv4 with its default settings, as an `execute-api` client signs.
fn signed(
    creds: &Creds<'_>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Request<Full<Bytes>> {
    let credentials = aws_credential_types::Credentials::new(
        creds.akid,
        creds.secret,
        creds.token.map(str::to_owned),
        None,
        "test",
    );
    let signer = SdkSigner {
        credentials: &credentials,
        region: creds.region,
        service: "execute-api",
        time: SystemTime::now(),
    };
    signer
        .sign(method, url, headers, body)
        .unwrap()
        .map(|()| Full::new(Bytes::copy_from_slice(body)))
}

async fn send(
    client: &HttpClient,
    request: http::Request<Full<Bytes>>,
) -> (u16, http::HeaderMap, String) {
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn echo_config() -> SignedServerConfig {
    SignedServerConfig::new(REGION)
        .credential(AKID, Secret::new(SECRET))
        .handler(|parts, body| {
            let answer = serde_json::json!({
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "body": String::from_utf8_lossy(body),
            });
            (200, answer.to_string().into_bytes())
        })
}

#[tokio::test]
async fn signed_requests_are_accepted_over_http1_and_http2() {
    let server = SignedServer::start(echo_config()).await.unwrap();
    let url = format!("{}/prod/models/fraud%20v2/score?b=2&a=1", server.url());
    let json = br#"{"amount":12.5}"#;

    for client in [http1_client(), http2_client()] {
        let request = signed(
            &CREDS,
            "POST",
            &url,
            &[("content-type", "application/json")],
            json,
        );
        let (status, headers, body) = send(&client, request).await;
        assert_eq!(status, 200, "{body} / {:?}", server.stats().last_refusal());
        assert_eq!(headers["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["method"], "POST");
        assert_eq!(body["path"], "/prod/models/fraud%20v2/score");
        assert_eq!(body["body"], r#"{"amount":12.5}"#);

        let (status, _, _) = send(&client, signed(&CREDS, "GET", &server.url(), &[], b"")).await;
        assert_eq!(status, 200);
    }
    // The second client really spoke HTTP/2 (h2c with prior knowledge).
    let response = http2_client()
        .request(signed(&CREDS, "GET", &server.url(), &[], b""))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);

    let stats = server.stats();
    assert_eq!(stats.requests(), 5);
    assert_eq!(stats.accepted(), 5);
    assert_eq!(stats.refused_signature(), 0);
    // One connection per client (three clients): HTTP/1.1 keep-alive and HTTP/2 reuse theirs.
    assert_eq!(stats.connections(), 3);
}

#[tokio::test]
async fn bad_signatures_get_api_gateway_403s() {
    let server = SignedServer::start(echo_config()).await.unwrap();
    let client = http1_client();
    let url = format!("{}/prod/score", server.url());

    // Not signed at all.
    let unsigned = http::Request::post(&url)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let (status, headers, body) = send(&client, unsigned).await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    assert_eq!(
        headers["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );

    // The wrong secret.
    let wrong = Creds {
        secret: "not the secret",
        ..CREDS
    };
    let (status, headers, body) = send(&client, signed(&wrong, "POST", &url, &[], b"{}")).await;
    assert_eq!(status, 403);
    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        message["message"].as_str().unwrap().starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{body}"
    );
    assert_eq!(headers["x-amzn-errortype"], "InvalidSignatureException");

    // The body changed after signing.
    let mut tampered = signed(&CREDS, "POST", &url, &[], b"{}");
    *tampered.body_mut() = Full::new(Bytes::from_static(b"{\"a\":1}"));
    let (status, _, _) = send(&client, tampered).await;
    assert_eq!(status, 403);

    // An unknown key, another region.
    let unknown = Creds {
        akid: "AKIDUNKNOWN",
        ..CREDS
    };
    let (status, _, body) = send(&client, signed(&unknown, "GET", &url, &[], b"")).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        r#"{"message":"The security token included in the request is invalid."}"#
    );
    let elsewhere = Creds {
        region: "us-east-1",
        ..CREDS
    };
    let (status, _, body) = send(&client, signed(&elsewhere, "GET", &url, &[], b"")).await;
    assert_eq!(status, 403);
    assert!(
        body.contains("Credential should be scoped to a valid region"),
        "{body}"
    );

    let stats = server.stats();
    assert_eq!(stats.refused_signature(), 5);
    assert_eq!(stats.accepted(), 0);
}

#[tokio::test]
async fn the_api_key_is_required() {
    let server = SignedServer::start(echo_config().api_key("key-123"))
        .await
        .unwrap();
    let client = http1_client();
    let url = server.url();

    let (status, headers, body) = send(&client, signed(&CREDS, "GET", &url, &[], b"")).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    assert_eq!(headers["x-amzn-errortype"], "ForbiddenException");

    let mut wrong = signed(&CREDS, "GET", &url, &[], b"");
    wrong
        .headers_mut()
        .insert("x-api-key", "key-124".parse().unwrap());
    let (status, _, body) = send(&client, wrong).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));

    // The key added after signing (it need not be signed), and signed.
    let mut right = signed(&CREDS, "GET", &url, &[], b"");
    right
        .headers_mut()
        .insert("x-api-key", "key-123".parse().unwrap());
    assert_eq!(send(&client, right).await.0, 200);
    let signed_key = signed(&CREDS, "GET", &url, &[("x-api-key", "key-123")], b"");
    assert_eq!(send(&client, signed_key).await.0, 200);

    // A signature refusal comes first.
    let unsigned = http::Request::get(&url)
        .header("x-api-key", "key-123")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(&client, unsigned).await.0, 403);

    let stats = server.stats();
    assert_eq!(stats.refused_api_key(), 2);
    assert_eq!(stats.refused_signature(), 1);
    assert_eq!(stats.accepted(), 2);
}

#[tokio::test]
async fn latency_is_applied() {
    let latency = Duration::from_millis(300);
    let server = SignedServer::start(echo_config().latency(latency))
        .await
        .unwrap();
    let client = http1_client();
    for _ in 0..2 {
        let started = Instant::now();
        let (status, _, _) = send(&client, signed(&CREDS, "GET", &server.url(), &[], b"")).await;
        assert_eq!(status, 200);
        assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
    }
}

async fn error_pattern(
    config: SignedServerConfig,
    n: usize,
) -> (Vec<u16>, Vec<http::HeaderMap>, u64) {
    let server = SignedServer::start(config).await.unwrap();
    let client = http1_client();
    let mut statuses = Vec::with_capacity(n);
    let mut headers = Vec::new();
    for _ in 0..n {
        let (status, h, _) = send(&client, signed(&CREDS, "GET", &server.url(), &[], b"")).await;
        if status != 200 {
            headers.push(h);
        }
        statuses.push(status);
    }
    (statuses, headers, server.stats().injected_errors())
}

#[tokio::test]
async fn errors_are_injected_at_the_configured_rate() {
    let n = 400;
    let config = || echo_config().error_rate(0.25).seed(42);
    let (statuses, _, injected) = error_pattern(config(), n).await;
    let errors = statuses.iter().filter(|s| **s == 500).count();
    assert_eq!(
        statuses.iter().filter(|s| **s != 200 && **s != 500).count(),
        0
    );
    assert_eq!(u64::try_from(errors).unwrap(), injected);
    // 100 expected; the binomial's standard deviation is about 8.7.
    assert!((70..=130).contains(&errors), "{errors} errors in {n}");

    // The same seed, the same requests in the same order: the same errors.
    let (again, _, _) = error_pattern(config(), n).await;
    assert_eq!(statuses, again);
    // Another seed: another pattern.
    let (other, _, _) = error_pattern(echo_config().error_rate(0.25).seed(43), n).await;
    assert_ne!(statuses, other);

    // Throttling with Retry-After, every request.
    let (statuses, headers, _) = error_pattern(
        echo_config()
            .error_rate(1.0)
            .injected_error(InjectedError::throttled(Duration::from_millis(1500))),
        5,
    )
    .await;
    assert_eq!(statuses, vec![429; 5]);
    assert!(headers.iter().all(|h| h["retry-after"] == "2"));

    // Rate 0: never.
    let (statuses, _, injected) = error_pattern(echo_config().error_rate(0.0), 50).await;
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(injected, 0);
}

#[tokio::test]
async fn a_hanging_server_makes_clients_time_out() {
    let server = SignedServer::start(echo_config().hang(true)).await.unwrap();
    let client = http1_client();
    let request = client.request(signed(&CREDS, "GET", &server.url(), &[], b""));
    let timed_out = tokio::time::timeout(Duration::from_millis(500), request).await;
    assert!(timed_out.is_err(), "the server answered while hanging");
    let stats = server.stats();
    assert_eq!(stats.accepted(), 1);

    server.set_hang(false);
    let (status, _, _) = send(&client, signed(&CREDS, "GET", &server.url(), &[], b"")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn many_concurrent_connections() {
    let latency = Duration::from_millis(200);
    let server = SignedServer::start(echo_config().latency(latency))
        .await
        .unwrap();
    let client = http1_client();
    let n = 300;
    let started = Instant::now();
    let ok = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..n {
        let request = signed(
            &CREDS,
            "POST",
            &format!("{}/score/{i}", server.url()),
            &[("content-type", "application/json")],
            b"{}",
        );
        let client = client.clone();
        let ok = Arc::clone(&ok);
        tasks.push(tokio::spawn(async move {
            if send(&client, request).await.0 == 200 {
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    assert_eq!(ok.load(Ordering::Relaxed), n);
    let stats = server.stats();
    // HTTP/1.1 carries one request at a time: concurrent requests need their own connections,
    // and the server must hold them all at once, not one after another (300 x 200 ms = 60 s).
    assert!(stats.connections() >= 100, "{stats:?}");
    assert!(stats.max_in_flight() >= 100, "{stats:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(stats.in_flight(), 0);
}

#[tokio::test]
async fn the_credential_log_shows_refreshes() {
    let server = SignedServer::start(
        echo_config()
            .credential("AKIDTEMP1", Secret::new("s1").with_session_token("token-1"))
            .credential("AKIDTEMP2", Secret::new("s2").with_session_token("token-2")),
    )
    .await
    .unwrap();
    let client = http1_client();
    let first = Creds {
        akid: "AKIDTEMP1",
        secret: "s1",
        token: Some("token-1"),
        region: REGION,
    };
    let second = Creds {
        akid: "AKIDTEMP2",
        secret: "s2",
        token: Some("token-2"),
        region: REGION,
    };
    for creds in [&first, &first, &second, &second, &second, &CREDS] {
        let (status, _, body) = send(&client, signed(creds, "GET", &server.url(), &[], b"")).await;
        assert_eq!(status, 200, "{body}");
    }
    // Temporary credentials without their own token are refused.
    let mixed = Creds {
        token: Some("token-2"),
        ..first
    };
    let (status, _, _) = send(&client, signed(&mixed, "GET", &server.url(), &[], b"")).await;
    assert_eq!(status, 403);

    let seen: Vec<(String, Option<String>, u64)> = server
        .stats()
        .credentials_seen()
        .into_iter()
        .map(|c| (c.access_key_id, c.session_token, c.requests))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("AKIDTEMP1".into(), Some("token-1".into()), 2),
            ("AKIDTEMP2".into(), Some("token-2".into()), 3),
            (AKID.into(), None, 1),
        ]
    );
    // Tokens are secrets: not in Debug output.
    let debug = format!("{:?}", server.stats().credentials_seen());
    assert!(!debug.contains("token-1"), "{debug}");
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let server = SignedServer::start(echo_config()).await.unwrap();
    let addr = server.addr();
    let client = http1_client();
    let (status, _, _) = send(&client, signed(&CREDS, "GET", &server.url(), &[], b"")).await;
    assert_eq!(status, 200);
    let stats = server.stats();
    server.shutdown().await;
    assert_eq!(stats.open_connections(), 0);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
