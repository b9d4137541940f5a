//! Where the signing key comes from: a [`SecretProvider`].
//!
//! [`StaticSecret`] holds a key given by the application (local use, tests);
//! [`SecretsManagerSecret`] (feature `aws`) reads it from AWS Secrets Manager as Serverless
//! Image Handler does: the secret `SECRETS_MANAGER` holds a JSON object whose field
//! `SECRET_KEY` is the key. Keys never appear in `Debug` output or logs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::{Error, Result};

/// A signing key. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Arc<[u8]>);

impl SigningKey {
    /// A key from its bytes (a string key's UTF-8 bytes).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::from(bytes.into()))
    }

    /// The key's bytes, for the HMAC.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// Gives the key that URL signatures are checked with.
///
/// The handler calls it once per signed request; implementations cache as they see fit.
pub trait SecretProvider: Send + Sync {
    /// The current signing key.
    ///
    /// # Errors
    /// Any failure to read it; the handler answers Serverless Image Handler's 500
    /// `SignatureValidationFailure` whatever the error is.
    fn signing_key(&self) -> impl Future<Output = Result<SigningKey>> + Send;
}

/// A key given by the application.
#[derive(Clone)]
pub struct StaticSecret(SigningKey);

impl StaticSecret {
    /// A provider that always gives this key.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self(SigningKey::new(key))
    }
}

impl fmt::Debug for StaticSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticSecret(<redacted>)")
    }
}

impl SecretProvider for StaticSecret {
    async fn signing_key(&self) -> Result<SigningKey> {
        Ok(self.0.clone())
    }
}

/// No key: for handlers that do not check signatures. Asked for one anyway (signatures
/// enabled without a provider), it fails, so signed requests get a 500
/// `SignatureValidationFailure` rather than being let through.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSecret;

impl SecretProvider for NoSecret {
    async fn signing_key(&self) -> Result<SigningKey> {
        Err(Error::internal().with_source("signatures are enabled but no secret provider is set"))
    }
}

impl<T: SecretProvider> SecretProvider for Arc<T> {
    fn signing_key(&self) -> impl Future<Output = Result<SigningKey>> + Send {
        (**self).signing_key()
    }
}

/// Reads the key from a Secrets Manager secret holding a JSON object: the value of one of its
/// fields (a string) is the key.
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub use self::secrets_manager::SecretsManagerSecret;

#[cfg(feature = "aws")]
mod secrets_manager {
    use std::fmt;
    use std::time::Duration;

    use super::{KeyCache, SecretProvider, SigningKey};
    use crate::{Error, Result};

    /// How long a fetched key is used before it is read again, by default.
    const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

    /// The signing key in AWS Secrets Manager, as Serverless Image Handler keeps it: secret
    /// `SECRETS_MANAGER`, a JSON object, field `SECRET_KEY`.
    ///
    /// The key is cached for the container's life and read again after the refresh interval
    /// (5 minutes unless set), so a rotated secret is picked up without a redeploy. Concurrent
    /// callers share one `GetSecretValue` call. When a refresh fails, the previous key stays in
    /// use and the call is retried a little later.
    ///
    /// IAM: `secretsmanager:GetSecretValue` on the secret.
    pub struct SecretsManagerSecret {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
        field: String,
        refresh: Duration,
        cache: KeyCache,
    }

    impl fmt::Debug for SecretsManagerSecret {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SecretsManagerSecret")
                .field("secret_id", &self.secret_id)
                .field("field", &self.field)
                .field("refresh", &self.refresh)
                .finish_non_exhaustive()
        }
    }

    impl SecretsManagerSecret {
        /// The key in field `field` (`SECRET_KEY`) of secret `secret_id` (`SECRETS_MANAGER`).
        pub fn new(
            client: aws_sdk_secretsmanager::Client,
            secret_id: impl Into<String>,
            field: impl Into<String>,
        ) -> Self {
            Self {
                client,
                secret_id: secret_id.into(),
                field: field.into(),
                refresh: DEFAULT_REFRESH,
                cache: KeyCache::default(),
            }
        }

        /// How long a key is used before it is read again (default 5 minutes; zero reads it
        /// on every call).
        #[must_use]
        pub fn with_refresh(mut self, refresh: Duration) -> Self {
            self.refresh = refresh;
            self
        }

        async fn fetch(&self) -> Result<SigningKey> {
            let out = self
                .client
                .get_secret_value()
                .secret_id(&self.secret_id)
                .send()
                .await
                .map_err(|e| {
                    Error::internal().with_source(aws_sdk_secretsmanager::Error::from(e))
                })?;
            let text = out
                .secret_string()
                .ok_or_else(|| Error::internal().with_source("the secret has no SecretString"))?;
            key_from_json(text, &self.field)
        }
    }

    /// The key in field `field` of a JSON secret string.
    pub(super) fn key_from_json(text: &str, field: &str) -> Result<SigningKey> {
        // The parse error names a position, never the content.
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::internal().with_source(format!("the secret is not JSON: {e}")))?;
        match value.get(field) {
            Some(serde_json::Value::String(key)) => Ok(SigningKey::new(key.as_bytes())),
            Some(_) => Err(Error::internal()
                .with_source(format!("field {field:?} of the secret is not a string"))),
            None => {
                Err(Error::internal().with_source(format!("the secret has no field {field:?}")))
            }
        }
    }

    impl SecretProvider for SecretsManagerSecret {
        async fn signing_key(&self) -> Result<SigningKey> {
            self.cache
                .get(self.refresh, &self.secret_id, || self.fetch())
                .await
        }
    }
}

/// After a failed refresh, how long the previous key is kept before trying again.
const RETRY_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_secs(10);

/// A key cached for a refresh interval; concurrent callers share one fetch.
#[derive(Default)]
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub(crate) struct KeyCache(tokio::sync::Mutex<Option<Cached>>);

struct Cached {
    key: SigningKey,
    next_fetch: tokio::time::Instant,
}

#[cfg_attr(not(feature = "aws"), allow(dead_code))]
impl KeyCache {
    /// The cached key while fresh; otherwise the result of `fetch`, cached for `refresh`. When
    /// a refresh fails, the previous key stays in use and the fetch is retried after
    /// [`RETRY_AFTER_FAILURE`] (or `refresh`, if shorter).
    pub(crate) async fn get<F, Fut>(
        &self,
        refresh: std::time::Duration,
        name: &str,
        fetch: F,
    ) -> Result<SigningKey>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<SigningKey>>,
    {
        use tokio::time::Instant;
        // Held across the fetch: callers arriving meanwhile wait and take its result.
        let mut cache = self.0.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.next_fetch
        {
            return Ok(cached.key.clone());
        }
        match fetch().await {
            Ok(key) => {
                tracing::debug!(secret_id = %name, "signing key read");
                *cache = Some(Cached {
                    key: key.clone(),
                    next_fetch: Instant::now() + refresh,
                });
                Ok(key)
            }
            Err(error) => match cache.as_mut() {
                Some(cached) => {
                    tracing::warn!(secret_id = %name, error = %error, "refreshing the signing key failed; keeping the previous one");
                    cached.next_fetch = Instant::now() + RETRY_AFTER_FAILURE.min(refresh);
                    Ok(cached.key.clone())
                }
                None => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted() {
        let key = StaticSecret::new("hunter2");
        assert!(!format!("{key:?}").contains("hunter2"));
        assert!(!format!("{:?}", SigningKey::new("hunter2")).contains("hunter2"));
    }

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    async fn counted(calls: &AtomicUsize, key: &str) -> Result<SigningKey> {
        calls.fetch_add(1, Ordering::SeqCst);
        // Let the other callers reach the lock while this fetch is in flight.
        tokio::task::yield_now().await;
        Ok(SigningKey::new(key))
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch_until_the_refresh() {
        let cache = KeyCache::default();
        let calls = AtomicUsize::new(0);
        let refresh = Duration::from_secs(300);
        let get = || cache.get(refresh, "s", || counted(&calls, "one"));
        let (a, b, c) = tokio::join!(get(), get(), get());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for k in [a, b, c] {
            assert_eq!(k.expect("key").as_bytes(), b"one");
        }
        tokio::time::advance(Duration::from_secs(299)).await;
        cache
            .get(refresh, "s", || counted(&calls, "two"))
            .await
            .expect("cached");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        let k = cache
            .get(refresh, "s", || counted(&calls, "two"))
            .await
            .expect("refreshed");
        assert_eq!(
            (k.as_bytes(), calls.load(Ordering::SeqCst)),
            (&b"two"[..], 2)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_the_previous_key_then_retries() {
        let cache = KeyCache::default();
        let refresh = Duration::from_secs(60);
        let fail = || async { Err(Error::internal()) };
        assert!(
            cache.get(refresh, "s", fail).await.is_err(),
            "nothing to fall back on"
        );
        cache
            .get(refresh, "s", || async { Ok(SigningKey::new("one")) })
            .await
            .expect("first");
        tokio::time::advance(Duration::from_secs(61)).await;
        let k = cache.get(refresh, "s", fail).await.expect("stale key");
        assert_eq!(k.as_bytes(), b"one");
        // Not retried before RETRY_AFTER_FAILURE...
        let calls = AtomicUsize::new(0);
        cache
            .get(refresh, "s", || counted(&calls, "two"))
            .await
            .expect("stale");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // ...then retried.
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        let k = cache
            .get(refresh, "s", || counted(&calls, "two"))
            .await
            .expect("new");
        assert_eq!(k.as_bytes(), b"two");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn json_field_is_the_key() {
        use secrets_manager::key_from_json;
        assert_eq!(
            key_from_json(r#"{"signatureKey":"secret"}"#, "signatureKey")
                .expect("key")
                .as_bytes(),
            b"secret"
        );
        for bad in [r#"{"other":"secret"}"#, r#"{"signatureKey":1}"#, "secret"] {
            let e = key_from_json(bad, "signatureKey").expect_err(bad);
            assert!(!format!("{e:?}").contains("secret\""), "{e:?}");
        }
    }
}
