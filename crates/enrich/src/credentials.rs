//! A credential cache that refreshes before expiry, one refresh at a time.

use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::http::Error;

/// Holds the current credentials; asks the provider again when they are within
/// `refresh_window` of their expiry. Concurrent callers share one refresh. If a refresh fails
/// while the old credentials are still valid, the old ones are used (and the next call tries
/// again); once they have expired, the call fails: never signed with expired credentials.
pub(crate) struct CredentialCache {
    provider: SharedCredentialsProvider,
    current: RwLock<Option<Credentials>>,
    refresh: tokio::sync::Mutex<()>,
    refresh_window: Duration,
}

impl CredentialCache {
    pub(crate) fn new(provider: SharedCredentialsProvider, refresh_window: Duration) -> Self {
        Self {
            provider,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            refresh_window,
        }
    }

    fn fresh(&self, now: SystemTime) -> Option<Credentials> {
        let current = self.current.read().ok()?;
        let credentials = current.as_ref()?;
        match credentials.expiry() {
            None => Some(credentials.clone()),
            Some(expiry)
                if now
                    .checked_add(self.refresh_window)
                    .is_some_and(|refresh_at| expiry > refresh_at) =>
            {
                Some(credentials.clone())
            }
            Some(_) => None,
        }
    }

    fn still_valid(&self, now: SystemTime) -> Option<Credentials> {
        let current = self.current.read().ok()?;
        let credentials = current.as_ref()?;
        credentials
            .expiry()
            .is_none_or(|expiry| expiry > now)
            .then(|| credentials.clone())
    }

    pub(crate) async fn get(&self) -> Result<Credentials, Error> {
        if let Some(credentials) = self.fresh(SystemTime::now()) {
            return Ok(credentials);
        }
        let _refreshing = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(credentials) = self.fresh(SystemTime::now()) {
            return Ok(credentials);
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                tracing::debug!(
                    target: "lambdakit_enrich",
                    expiry = ?credentials.expiry(),
                    "credentials refreshed"
                );
                if let Ok(mut current) = self.current.write() {
                    *current = Some(credentials.clone());
                }
                Ok(credentials)
            }
            Err(error) => match self.still_valid(SystemTime::now()) {
                Some(credentials) => {
                    tracing::warn!(
                        target: "lambdakit_enrich",
                        %error,
                        "credential refresh failed; using the current credentials until they expire"
                    );
                    Ok(credentials)
                }
                None => Err(Error::Credentials(error)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::future;

    use super::*;

    /// Hands out credentials numbered by call, each valid for `lifetime`; fails when `fail` is
    /// set.
    #[derive(Debug)]
    struct Numbered {
        calls: AtomicU32,
        lifetime: Duration,
        fail: std::sync::atomic::AtomicBool,
    }

    impl ProvideCredentials for Numbered {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail.load(Ordering::SeqCst) {
                return future::ProvideCredentials::ready(Err(
                    CredentialsError::provider_timed_out(Duration::from_secs(1)),
                ));
            }
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                Some(format!("token{n}")),
                Some(SystemTime::now() + self.lifetime),
                "numbered",
            )))
        }
    }

    fn new_cache(lifetime: Duration, window: Duration) -> (Arc<Numbered>, CredentialCache) {
        let provider = Arc::new(Numbered {
            calls: AtomicU32::new(0),
            lifetime,
            fail: false.into(),
        });
        let shared = SharedCredentialsProvider::new(ArcProvider(provider.clone()));
        (provider, CredentialCache::new(shared, window))
    }

    #[derive(Debug)]
    struct ArcProvider(Arc<Numbered>);

    impl ProvideCredentials for ArcProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.provide_credentials()
        }
    }

    #[tokio::test]
    async fn long_lived_credentials_are_fetched_once() {
        let (provider, cache) = new_cache(Duration::from_secs(3600), Duration::from_secs(300));
        for _ in 0..10 {
            assert_eq!(cache.get().await.expect("creds").access_key_id(), "AKID1");
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_inside_the_refresh_window_are_refreshed() {
        // Valid for 10 minutes, refreshed 15 minutes before expiry: every call refreshes.
        let (provider, cache) = new_cache(Duration::from_secs(600), Duration::from_secs(900));
        assert_eq!(cache.get().await.expect("creds").access_key_id(), "AKID1");
        assert_eq!(cache.get().await.expect("creds").access_key_id(), "AKID2");
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let (provider, cache) = new_cache(Duration::from_secs(3600), Duration::from_secs(300));
        let cache = Arc::new(cache);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move {
                cache.get().await.map(|c| c.access_key_id().to_owned())
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("creds"), "AKID1");
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_fails_closed_after_expiry() {
        // Inside the window but not expired: the refresh fails, the old ones are still used.
        let (provider, cache) = new_cache(Duration::from_secs(600), Duration::from_secs(900));
        assert_eq!(cache.get().await.expect("creds").access_key_id(), "AKID1");
        provider.fail.store(true, Ordering::SeqCst);
        assert_eq!(
            cache.get().await.expect("still valid").access_key_id(),
            "AKID1"
        );

        // Already expired: no credentials at all.
        let (provider, cache) = new_cache(Duration::ZERO, Duration::ZERO);
        provider.fail.store(false, Ordering::SeqCst);
        let _ = cache.get().await.expect("first");
        provider.fail.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let err = cache.get().await.expect_err("expired and no refresh");
        assert!(matches!(err, Error::Credentials(_)));
    }
}
