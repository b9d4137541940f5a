//! The CRL cache: one shared fetch, refresh on nextUpdate and TTL, fail closed.

#![cfg(feature = "mtls")]
#![allow(clippy::unwrap_used)]

mod mtls_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lambdakit_auth::Error;
use lambdakit_auth::mtls::{ClientCertVerifier, CrlCache, FetchError, MtlsErrorKind};
use mtls_support::*;

/// Root and intermediate CRLs issued a day before `now()`, revoking `revoked` client serials,
/// with `nextUpdate` at `now() + valid_for`.
fn crls(pki: &Pki, revoked: &[&[u8]], valid_for: Duration) -> Vec<u8> {
    let next = now() + valid_for;
    (crl_pem(&pki.root_crl(&[], next)) + &crl_pem(&pki.intermediate_crl(revoked, next)))
        .into_bytes()
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_verifications_share_one_fetch() {
    let pki = Pki::new("Concurrent");
    let verifier = Arc::new(ClientCertVerifier::new(pki.truststore()));
    let pem = Arc::new(pki.client(client_params("concurrent")));
    let calls = Arc::new(AtomicUsize::new(0));
    let bytes = crls(&pki, &[], days(7));
    let cache = Arc::new(CrlCache::new({
        let calls = Arc::clone(&calls);
        move || {
            let calls = Arc::clone(&calls);
            let bytes = bytes.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                // Slow enough that every request finds the fetch in flight.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, FetchError>(bytes)
            }
        }
    }));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (verifier, pem, cache) = (verifier.clone(), pem.clone(), cache.clone());
        tasks.spawn(async move { verifier.verify_with_crl_cache(&pem, now(), &cache).await });
    }
    let results = tasks.join_all().await;

    assert_eq!(results.len(), 50);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_share_a_failed_fetch_and_all_deny() {
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = Arc::new(CrlCache::new({
        let calls = Arc::clone(&calls);
        move || {
            let calls = Arc::clone(&calls);
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err::<Vec<u8>, FetchError>("s3 unavailable".into())
            }
        }
    }));

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let cache = cache.clone();
        tasks.spawn(async move { cache.get(now()).await });
    }
    let results = tasks.join_all().await;

    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(Error::Mtls(e)) if e.kind() == MtlsErrorKind::CrlUnavailable && e.detail().contains("s3 unavailable"))),
        "{results:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn cached_crls_are_reused_until_the_ttl() {
    let pki = Pki::new("Ttl");
    let fetcher =
        ScriptedFetcher::new([Ok(crls(&pki, &[], days(7))), Ok(crls(&pki, &[], days(7)))]);
    let cache = CrlCache::new(&fetcher).with_ttl(Duration::from_secs(600));

    cache.get(now()).await.unwrap();
    cache.get(now() + Duration::from_secs(599)).await.unwrap();
    let calls_within_ttl = fetcher.calls();
    cache.get(now() + Duration::from_secs(600)).await.unwrap();

    assert_eq!(calls_within_ttl, 1);
    assert_eq!(fetcher.calls(), 2);
}

#[tokio::test]
async fn refresh_after_next_update_picks_up_a_new_revocation() {
    let pki = Pki::new("NextUpdate");
    let verifier = ClientCertVerifier::new(pki.truststore());
    let pem = pki.client(client_params("next-update"));
    let fetcher = ScriptedFetcher::new([
        Ok(crls(&pki, &[], Duration::from_secs(3600))),
        Ok(crls(&pki, &[&[0x10, 0x01]], days(7))),
    ]);
    // A TTL longer than the first CRL's life: only nextUpdate triggers the refresh.
    let cache = CrlCache::new(&fetcher).with_ttl(days(1));

    let before = verifier.verify_with_crl_cache(&pem, now(), &cache).await;
    let still_cached = verifier
        .verify_with_crl_cache(&pem, now() + Duration::from_secs(3599), &cache)
        .await;
    let calls_before_next_update = fetcher.calls();
    let after = verifier
        .verify_with_crl_cache(&pem, now() + Duration::from_secs(3600), &cache)
        .await;

    assert!(before.is_ok(), "{before:?}");
    assert!(still_cached.is_ok(), "{still_cached:?}");
    assert_eq!(calls_before_next_update, 1);
    assert_eq!(kind(after), MtlsErrorKind::Revoked);
    assert_eq!(fetcher.calls(), 2);
}

#[tokio::test]
async fn fetch_failure_with_an_expired_cached_crl_denies() {
    let pki = Pki::new("FailClosed");
    let verifier = ClientCertVerifier::new(pki.truststore());
    let pem = pki.client(client_params("fail-closed"));
    let fetcher = ScriptedFetcher::new([
        Ok(crls(&pki, &[], Duration::from_secs(3600))),
        Err("access denied".to_owned()),
    ]);
    let cache = CrlCache::new(&fetcher);

    let fresh = verifier.verify_with_crl_cache(&pem, now(), &cache).await;
    let stale = verifier
        .verify_with_crl_cache(&pem, now() + Duration::from_secs(7200), &cache)
        .await;

    assert!(fresh.is_ok(), "{fresh:?}");
    let stale = refusal(stale);
    assert_eq!(stale.kind(), MtlsErrorKind::CrlExpired);
    assert!(stale.detail().contains("access denied"), "{stale}");
    assert_eq!(stale.status(), 500);
}

#[tokio::test]
async fn fetch_failure_with_a_valid_cached_crl_keeps_using_it() {
    let pki = Pki::new("KeepCache");
    let verifier = ClientCertVerifier::new(pki.truststore());
    let pem = pki.client(client_params("keep"));
    let fetcher = ScriptedFetcher::new([
        Ok(crls(&pki, &[], days(7))),
        Err("throttled".to_owned()),
        Ok(crls(&pki, &[&[0x10, 0x01]], days(7))),
    ]);
    let cache = CrlCache::new(&fetcher)
        .with_ttl(Duration::from_secs(300))
        .with_retry_interval(Duration::from_secs(30));
    let t = |secs| now() + Duration::from_secs(secs);

    let first = verifier.verify_with_crl_cache(&pem, t(0), &cache).await;
    // TTL passed: the refresh fails, the cached CRL (valid for days) is used.
    let during_outage = verifier.verify_with_crl_cache(&pem, t(300), &cache).await;
    // Within the retry interval: no new fetch.
    let before_retry = verifier.verify_with_crl_cache(&pem, t(329), &cache).await;
    let calls_before_retry = fetcher.calls();
    // Retry succeeds with a CRL revoking the certificate.
    let after_retry = verifier.verify_with_crl_cache(&pem, t(330), &cache).await;

    assert!(first.is_ok(), "{first:?}");
    assert!(during_outage.is_ok(), "{during_outage:?}");
    assert!(before_retry.is_ok(), "{before_retry:?}");
    assert_eq!(calls_before_retry, 2);
    assert_eq!(kind(after_retry), MtlsErrorKind::Revoked);
    assert_eq!(fetcher.calls(), 3);
}

#[tokio::test]
async fn first_fetch_failure_denies_and_the_next_request_retries() {
    let pki = Pki::new("ColdStart");
    let fetcher = ScriptedFetcher::new([Err("timeout".to_owned()), Ok(crls(&pki, &[], days(7)))]);
    let cache = CrlCache::new(&fetcher);

    let first = cache.get(now()).await;
    let second = cache.get(now()).await;

    let first = refusal(first);
    assert_eq!(first.kind(), MtlsErrorKind::CrlUnavailable);
    assert!(first.detail().contains("timeout"), "{first}");
    assert!(second.is_ok(), "{second:?}");
}

#[tokio::test]
async fn fetched_bytes_that_are_not_a_crl_deny() {
    let fetcher = ScriptedFetcher::new([Ok(b"<Error><Code>NoSuchKey</Code></Error>".to_vec())]);
    let cache = CrlCache::new(&fetcher);

    let result = cache.get(now()).await;

    assert_eq!(kind(result), MtlsErrorKind::CrlInvalid);
}

#[tokio::test]
async fn fetched_crl_already_past_next_update_is_not_used() {
    let pki = Pki::new("AlreadyStale");
    let stale = crl_pem(&crl(
        &pki.intermediate,
        &[],
        now() - days(2),
        now() - days(1),
    ))
    .into_bytes();
    let fetcher = ScriptedFetcher::new([Ok(stale)]);
    let cache = CrlCache::new(&fetcher);

    let result = cache.get(now()).await;

    assert_eq!(kind(result), MtlsErrorKind::CrlExpired);
}

#[tokio::test(start_paused = true)]
async fn a_fetch_that_hangs_times_out_and_denies() {
    let cache = CrlCache::new(|| async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, FetchError>(Vec::new())
    })
    .with_fetch_timeout(Duration::from_secs(2));

    let result = cache.get(now()).await;

    let error = refusal(result);
    assert_eq!(error.kind(), MtlsErrorKind::CrlUnavailable);
    assert!(error.detail().contains("timed out"), "{error}");
}

#[tokio::test]
async fn garbage_pem_is_refused_without_fetching_crls() {
    let pki = Pki::new("NoFetch");
    let verifier = ClientCertVerifier::new(pki.truststore());
    let fetcher = ScriptedFetcher::new([]);
    let cache = CrlCache::new(&fetcher);

    let result = verifier
        .verify_with_crl_cache("garbage", now(), &cache)
        .await;

    assert_eq!(kind(result), MtlsErrorKind::Malformed);
    assert_eq!(fetcher.calls(), 0);
}
