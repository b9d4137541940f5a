//! The JWKS cache against a real local endpoint: one fetch shared by concurrent requests, at
//! most one refetch per cooldown for unknown `kid`s, outages and timeouts deny, duplicate and
//! missing `kid`s, stale keys, and preloaded keys.

#![cfg(feature = "jwt")]

mod jwt_common;

use std::time::Duration;

use jwt_common::*;
use lambdakit_auth::Error;
use lambdakit_auth::jwt::{CognitoUserPool, JwtErrorKind, JwtVerifier};
use serde_json::json;

fn verifier_with(
    server: &JwksServer,
    edit: impl FnOnce(
        lambdakit_auth::jwt::JwtVerifierBuilder,
    ) -> lambdakit_auth::jwt::JwtVerifierBuilder,
) -> JwtVerifier {
    edit(builder())
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(server.url()))
        .build()
        .expect("verifier")
}

async fn concurrently(verifier: &JwtVerifier, token: &str, n: usize) -> Vec<Result<(), Error>> {
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let verifier = verifier.clone();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            verifier.verify(&token).await.map(|_| ())
        }));
    }
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

fn unavailable(result: &Result<(), Error>) -> bool {
    matches!(result, Err(Error::Unavailable(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cold_cache_fetches_once_for_50_concurrent_requests() {
    let key = TestKey::rsa("k1", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    // Long enough that every task is waiting before the one fetch completes.
    server.set_delay(Duration::from_secs(1));
    let verifier = verifier_with(&server, |b| b);
    let results = concurrently(&verifier, &key.token(&access_claims()), 50).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_kid_fetches_exactly_once_for_50_concurrent_requests() {
    let known = TestKey::rsa("known", "RS256");
    let server = JwksServer::start(jwks(&[known.jwk()])).await;
    // No cooldown: what keeps it to one fetch is the requests sharing it.
    let verifier = verifier_with(&server, |b| b.jwks_refetch_cooldown(Duration::ZERO));
    assert!(
        verifier
            .verify(&known.token(&access_claims()))
            .await
            .is_ok()
    );
    assert_eq!(server.hits(), 1);

    // Long enough that every task is waiting before the one fetch completes.
    server.set_delay(Duration::from_secs(1));
    let unknown = TestKey::ec("unknown", "ES256");
    let results = concurrently(&verifier, &unknown.token(&access_claims()), 50).await;
    for result in &results {
        assert!(
            matches!(result, Err(Error::Jwt(e)) if e.kind() == JwtErrorKind::UnknownKid),
            "{result:?}"
        );
    }
    assert_eq!(server.hits(), 2, "exactly one more fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_key_is_fetched_once_for_50_concurrent_requests() {
    let old = TestKey::rsa("old", "RS256");
    let server = JwksServer::start(jwks(&[old.jwk()])).await;
    let verifier = verifier_with(&server, |b| b.jwks_refetch_cooldown(Duration::ZERO));
    assert!(verifier.verify(&old.token(&access_claims())).await.is_ok());

    let new = TestKey::ec("new", "ES256");
    server.set_jwks(jwks(&[old.jwk(), new.jwk()]));
    // Long enough that every task is waiting before the one fetch completes.
    server.set_delay(Duration::from_secs(1));
    let results = concurrently(&verifier, &new.token(&access_claims()), 50).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_cooldown() {
    let known = TestKey::rsa("known", "RS256");
    let made_up: Vec<String> = (0..20)
        .map(|i| TestKey::ed25519(&format!("made-up-{i}")).token(&access_claims()))
        .collect();
    let new = TestKey::ed25519("new");
    let new_token = new.token(&access_claims());
    let server = JwksServer::start(jwks(&[known.jwk()])).await;
    let cooldown = Duration::from_secs(2);
    let verifier = verifier_with(&server, |b| b.jwks_refetch_cooldown(cooldown));
    let fetched = std::time::Instant::now();
    assert!(
        verifier
            .verify(&known.token(&access_claims()))
            .await
            .is_ok()
    );
    assert_eq!(server.hits(), 1);

    // Within the cooldown, made-up kids cause no fetch, and neither does a real new key.
    for token in &made_up {
        assert_eq!(kind(verifier.verify(token).await), JwtErrorKind::UnknownKid);
    }
    server.set_jwks(jwks(&[known.jwk(), new.jwk()]));
    assert_eq!(
        kind(verifier.verify(&new_token).await),
        JwtErrorKind::UnknownKid
    );
    assert!(
        fetched.elapsed() < cooldown,
        "the checks above took the whole cooldown"
    );
    assert_eq!(server.hits(), 1);

    // After it, one fetch, which finds the new key.
    tokio::time::sleep(cooldown.saturating_sub(fetched.elapsed()) + Duration::from_millis(100))
        .await;
    assert!(verifier.verify(&new_token).await.is_ok());
    assert!(verifier.verify(&new_token).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_5xx_jwks_denies() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    server.set_status(503);
    let verifier = verifier_with(&server, |b| b.jwks_failure_backoff(Duration::from_secs(1)));
    let token = key.token(&access_claims());
    let err = verifier.verify(&token).await.expect_err("denied");
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("503")),
        "{err:?}"
    );
    assert_eq!(err.status(), 500);

    // Within the backoff: denied without another fetch.
    assert!(unavailable(&verifier.verify(&token).await.map(|_| ())));
    assert_eq!(server.hits(), 1);

    // Once the endpoint recovers and the backoff passed, the token verifies.
    server.set_status(200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn other_error_statuses_deny() {
    let key = TestKey::rsa("k", "RS256");
    for status in [500, 404, 403, 302, 204] {
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        server.set_status(status);
        let verifier = verifier_with(&server, |b| b);
        let result = verifier
            .verify(&key.token(&access_claims()))
            .await
            .map(|_| ());
        assert!(unavailable(&result), "{status}: {result:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_fetch_is_shared_too() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    server.set_status(500);
    // Long enough that every task is waiting before the one fetch completes.
    server.set_delay(Duration::from_secs(1));
    let verifier = verifier_with(&server, |b| b.jwks_failure_backoff(Duration::ZERO));
    let results = concurrently(&verifier, &key.token(&access_claims()), 50).await;
    assert!(results.iter().all(unavailable), "{results:?}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_jwks_timeout_denies() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    server.set_hang(true);
    let verifier = verifier_with(&server, |b| b.jwks_timeout(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let err = verifier
        .verify(&key.token(&access_claims()))
        .await
        .expect_err("denied");
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("no answer")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_jwks_denies() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(Vec::new()).await;
    let url = server.url();
    drop(server);
    let verifier = builder()
        .cognito(CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri(url))
        .build()
        .expect("verifier");
    let result = verifier
        .verify(&key.token(&access_claims()))
        .await
        .map(|_| ());
    assert!(unavailable(&result), "{result:?}");
}

#[tokio::test]
async fn a_malformed_or_oversized_jwks_denies() {
    let key = TestKey::rsa("k", "RS256");
    for body in [b"<html>".to_vec(), b"{\"keys\":7}".to_vec(), b"[]".to_vec()] {
        let server = JwksServer::start(body).await;
        let verifier = verifier_with(&server, |b| b);
        let result = verifier
            .verify(&key.token(&access_claims()))
            .await
            .map(|_| ());
        assert!(unavailable(&result), "{result:?}");
    }
    let mut padded = key.jwk();
    padded["padding"] = json!("x".repeat(4096));
    let server = JwksServer::start(jwks(&[padded])).await;
    let verifier = verifier_with(&server, |b| b.jwks_max_bytes(2048));
    let err = verifier
        .verify(&key.token(&access_claims()))
        .await
        .expect_err("too large");
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("larger than")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_refetch_keeps_the_cached_keys() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_with(&server, |b| b.jwks_refetch_cooldown(Duration::ZERO));
    let token = key.token(&access_claims());
    assert!(verifier.verify(&token).await.is_ok());
    server.set_status(500);
    let unknown = TestKey::ed25519("unknown");
    let result = verifier
        .verify(&unknown.token(&access_claims()))
        .await
        .map(|_| ());
    assert!(unavailable(&result), "{result:?}");
    assert!(
        verifier.verify(&token).await.is_ok(),
        "the cached key still verifies"
    );
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_duplicated_kid_is_refused_and_other_kids_still_verify() {
    let first = TestKey::rsa("dup", "RS256");
    let second = TestKey::ec("dup", "ES256");
    let other = TestKey::ed25519("other");
    let server = JwksServer::start(jwks(&[first.jwk(), second.jwk(), other.jwk()])).await;
    let verifier = verifier_with(&server, |b| b.jwks_refetch_cooldown(Duration::ZERO));
    assert_eq!(
        kind(verifier.verify(&first.token(&access_claims())).await),
        JwtErrorKind::AmbiguousKid
    );
    assert_eq!(
        kind(verifier.verify(&second.token(&access_claims())).await),
        JwtErrorKind::AmbiguousKid
    );
    assert!(
        verifier
            .verify(&other.token(&access_claims()))
            .await
            .is_ok()
    );
    // A refused kid is known: it causes no refetch, even without a cooldown.
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_missing_kid_is_refused_without_a_fetch() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_with(&server, |b| b);
    let no_kid = key.sign(&json!({"alg": "RS256", "typ": "JWT"}), &access_claims());
    assert_eq!(
        kind(verifier.verify(&no_kid).await),
        JwtErrorKind::MissingKid
    );
    let number_kid = key.sign(&json!({"alg": "RS256", "kid": 1}), &access_claims());
    assert_eq!(
        kind(verifier.verify(&number_kid).await),
        JwtErrorKind::Malformed
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn a_duplicated_kid_header_member_is_refused() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_with(&server, |b| b);
    let header = r#"{"alg":"RS256","kid":"k","kid":"other"}"#;
    let input = format!(
        "{}.{}",
        b64(header.as_bytes()),
        b64(access_claims().to_string().as_bytes())
    );
    let token = format!("{input}.{}", b64(&key.signature(input.as_bytes())));
    assert_eq!(kind(verifier.verify(&token).await), JwtErrorKind::Malformed);
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn a_stale_jwks_is_refetched_and_removed_keys_stop_verifying() {
    let old = TestKey::rsa("old", "RS256");
    let new = TestKey::ec("new", "ES256");
    let server = JwksServer::start(jwks(&[old.jwk(), new.jwk()])).await;
    let verifier = verifier_with(&server, |b| b.jwks_max_age(Duration::from_secs(1)));
    let old_token = old.token(&access_claims());
    assert!(verifier.verify(&old_token).await.is_ok());
    server.set_jwks(jwks(&[new.jwk()]));
    assert!(verifier.verify(&old_token).await.is_ok(), "still fresh");
    assert_eq!(server.hits(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        kind(verifier.verify(&old_token).await),
        JwtErrorKind::UnknownKid
    );
    assert!(verifier.verify(&new.token(&access_claims())).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_stale_jwks_that_cannot_be_refetched_keeps_verifying() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_with(&server, |b| b.jwks_max_age(Duration::from_millis(200)));
    let token = key.token(&access_claims());
    assert!(verifier.verify(&token).await.is_ok());
    server.set_status(503);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn preloaded_keys_need_no_fetch() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(Vec::new()).await;
    let verifier = verifier_with(&server, |b| b);
    verifier
        .cache_jwks(&pool_issuer(POOL), &jwks(&[key.jwk()]))
        .expect("cached");
    assert!(verifier.verify(&key.token(&access_claims())).await.is_ok());
    assert_eq!(server.hits(), 0);
    let err = verifier
        .cache_jwks("https://elsewhere", &jwks(&[]))
        .expect_err("unknown issuer");
    assert_eq!(kind(Err::<(), _>(err)), JwtErrorKind::InvalidConfig);
    let err = verifier
        .cache_jwks(&pool_issuer(POOL), b"{}")
        .expect_err("not a jwks");
    assert_eq!(kind(Err::<(), _>(err)), JwtErrorKind::InvalidConfig);
}

#[tokio::test]
async fn hydrate_fetches_every_issuer_up_front() {
    let key = TestKey::rsa("k", "RS256");
    let server = JwksServer::start(jwks(&[key.jwk()])).await;
    let verifier = verifier_with(&server, |b| b);
    verifier.hydrate().await.expect("fetched");
    assert_eq!(server.hits(), 1);
    assert!(verifier.verify(&key.token(&access_claims())).await.is_ok());
    assert_eq!(server.hits(), 1);
    server.set_status(500);
    assert!(matches!(
        verifier.hydrate().await,
        Err(Error::Unavailable(_))
    ));
}

#[tokio::test]
async fn plain_http_is_refused_for_other_hosts_even_when_allowed() {
    let err = builder()
        .cognito(
            CognitoUserPool::access_tokens(POOL, CLIENT).jwks_uri("http://example.com/jwks.json"),
        )
        .build()
        .expect_err("http to a non-loopback host");
    assert_eq!(kind(Err::<(), _>(err)), JwtErrorKind::InvalidConfig);
}
