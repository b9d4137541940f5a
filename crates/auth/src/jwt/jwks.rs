//! One issuer's keys: cached by `kid`, refetched at most once per cooldown when a token names
//! an unknown `kid`, one fetch shared by every request waiting for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::error::{JwtError, JwtErrorKind, quoted};
use super::fetch::Fetcher;
use super::key::{KeySet, Slot, VerifyingKey};

/// How often a JWKS may be fetched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// After a successful fetch, an unknown `kid` triggers no new fetch for this long.
    pub(crate) refetch_cooldown: Duration,
    /// After a failed fetch, no new fetch for this long: requests that need one are refused.
    pub(crate) failure_backoff: Duration,
    /// A JWKS older than this is refetched (by one request; the others keep using it).
    pub(crate) max_age: Duration,
}

#[derive(Debug)]
struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
}

#[derive(Debug, Default)]
struct FetchLog {
    last_success: Option<Instant>,
    last_failure: Option<(Instant, String)>,
    /// The outcome of the latest attempt, shared with the requests that waited for it.
    last_outcome: Option<Result<(), String>>,
}

/// The keys of one issuer.
#[derive(Debug)]
pub(crate) struct JwksCache {
    uri: http::Uri,
    fetcher: Fetcher,
    timing: Timing,
    cached: RwLock<Option<Cached>>,
    /// Held while fetching: the single flight. Waiters find the result when they get it.
    fetch: tokio::sync::Mutex<FetchLog>,
    /// Fetch attempts completed, so a waiter can tell that one finished while it waited.
    attempts: AtomicU64,
}

fn unavailable(detail: String) -> crate::Error {
    crate::Error::Unavailable(detail)
}

impl JwksCache {
    pub(crate) fn new(uri: http::Uri, fetcher: Fetcher, timing: Timing) -> Self {
        Self {
            uri,
            fetcher,
            timing,
            cached: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(FetchLog::default()),
            attempts: AtomicU64::new(0),
        }
    }

    fn lookup(&self, kid: &str) -> Option<(Option<Slot>, Instant)> {
        let cached = self.cached.read().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .map(|c| (c.keys.get(kid).cloned(), c.fetched_at))
    }

    fn store(&self, keys: Arc<KeySet>) {
        let mut cached = self.cached.write().unwrap_or_else(PoisonError::into_inner);
        *cached = Some(Cached {
            keys,
            fetched_at: Instant::now(),
        });
    }

    /// Replaces the cached keys with `document`, as if just fetched.
    pub(crate) fn insert(&self, document: &[u8]) -> Result<(), String> {
        self.store(Arc::new(KeySet::parse(document)?));
        Ok(())
    }

    /// The key for `kid`.
    ///
    /// # Errors
    /// [`JwtErrorKind::UnknownKid`] when the JWKS (fetched now, or recently) has no such key;
    /// the refusal of that `kid` ([`JwtErrorKind::AmbiguousKid`],
    /// [`JwtErrorKind::KeyMismatch`]); [`crate::Error::Unavailable`] when the JWKS could not
    /// be fetched.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, crate::Error> {
        let seen = self.attempts.load(Ordering::Acquire);
        match self.lookup(kid) {
            Some((Some(slot), fetched_at)) => {
                if fetched_at.elapsed() < self.timing.max_age {
                    return from_slot(slot);
                }
                self.refresh_stale(kid, slot).await
            }
            _ => self.fetch_for_unknown(kid, seen).await,
        }
    }

    /// A `kid` the cache does not know (or no JWKS yet): fetch, unless a fetch finished while
    /// we waited for the lock or the cooldown forbids one.
    async fn fetch_for_unknown(
        &self,
        kid: &str,
        seen: u64,
    ) -> Result<Arc<VerifyingKey>, crate::Error> {
        let mut log = self.fetch.lock().await;
        let cached = self.lookup(kid);
        if let Some((Some(slot), _)) = cached {
            return from_slot(slot);
        }
        if self.attempts.load(Ordering::Acquire) != seen {
            // Someone fetched while we waited: share their outcome rather than fetch again.
            return match &log.last_outcome {
                Some(Err(why)) => Err(unavailable(format!(
                    "jwks {} could not be fetched: {why}",
                    self.uri
                ))),
                _ => Err(unknown_kid(kid)),
            };
        }
        if let Some((at, why)) = &log.last_failure
            && at.elapsed() < self.timing.failure_backoff
        {
            return Err(unavailable(format!(
                "jwks {} failed {:?} ago ({why}); not retrying yet",
                self.uri,
                at.elapsed()
            )));
        }
        if cached.is_some()
            && log
                .last_success
                .is_some_and(|at| at.elapsed() < self.timing.refetch_cooldown)
        {
            tracing::debug!(kid = %quoted(kid), "unknown kid during the jwks refetch cooldown");
            return Err(unknown_kid(kid));
        }
        match self.fetch_now(&mut log).await {
            Ok(keys) => match keys.get(kid) {
                Some(slot) => from_slot(slot.clone()),
                None => Err(unknown_kid(kid)),
            },
            Err(why) => Err(unavailable(format!(
                "jwks {} could not be fetched: {why}",
                self.uri
            ))),
        }
    }

    /// A known `kid` in a JWKS older than the maximum age: one request refetches, the others
    /// (and that one, if the fetch fails) keep using the cached key.
    async fn refresh_stale(
        &self,
        kid: &str,
        stale: Slot,
    ) -> Result<Arc<VerifyingKey>, crate::Error> {
        let Ok(mut log) = self.fetch.try_lock() else {
            return from_slot(stale);
        };
        if let Some((Some(slot), fetched_at)) = self.lookup(kid)
            && fetched_at.elapsed() < self.timing.max_age
        {
            return from_slot(slot);
        }
        if log
            .last_failure
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.timing.failure_backoff)
        {
            return from_slot(stale);
        }
        match self.fetch_now(&mut log).await {
            Ok(keys) => match keys.get(kid) {
                Some(slot) => from_slot(slot.clone()),
                // The issuer removed the key: tokens signed with it are no longer accepted.
                None => Err(unknown_kid(kid)),
            },
            Err(why) => {
                tracing::warn!(uri = %self.uri, error = %why, "refreshing a stale jwks failed; using the cached keys");
                from_slot(stale)
            }
        }
    }

    /// Fetches and parses the JWKS, recording the outcome; a failure keeps the cached keys.
    async fn fetch_now(&self, log: &mut FetchLog) -> Result<Arc<KeySet>, String> {
        let outcome = match self.fetcher.get(&self.uri).await {
            Ok(body) => KeySet::parse(&body),
            Err(why) => Err(why),
        };
        let result = match outcome {
            Ok(keys) => {
                tracing::info!(uri = %self.uri, kids = keys.len(), "fetched jwks");
                let keys = Arc::new(keys);
                self.store(Arc::clone(&keys));
                log.last_success = Some(Instant::now());
                log.last_failure = None;
                log.last_outcome = Some(Ok(()));
                Ok(keys)
            }
            Err(why) => {
                tracing::warn!(uri = %self.uri, error = %why, "jwks fetch failed");
                log.last_failure = Some((Instant::now(), why.clone()));
                log.last_outcome = Some(Err(why.clone()));
                Err(why)
            }
        };
        self.attempts.fetch_add(1, Ordering::Release);
        result
    }

    /// Fetches the JWKS now, whatever the cache holds (still one fetch at a time).
    pub(crate) async fn refresh(&self) -> Result<(), crate::Error> {
        let mut log = self.fetch.lock().await;
        self.fetch_now(&mut log)
            .await
            .map(|_| ())
            .map_err(|why| unavailable(format!("jwks {} could not be fetched: {why}", self.uri)))
    }
}

fn unknown_kid(kid: &str) -> crate::Error {
    JwtError::new(
        JwtErrorKind::UnknownKid,
        format!("no key with kid {} in the jwks", quoted(kid)),
    )
    .into()
}

fn from_slot(slot: Slot) -> Result<Arc<VerifyingKey>, crate::Error> {
    match slot {
        Slot::Key(key) => Ok(key),
        Slot::Refused(kind, why) => Err(JwtError::new(kind, why).into()),
    }
}
