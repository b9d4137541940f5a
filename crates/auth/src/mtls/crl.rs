//! Certificate revocation lists: parsing, and a cache shared across invocations.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::pem::{PemObject, SectionKind};
use webpki::{CertRevocationList, OwnedCertRevocationList};

use super::der;
use super::error::{MtlsError, MtlsErrorKind, refused};
use crate::Error;

/// One or more parsed CRLs, ready for [`RevocationCheck::Crls`](super::RevocationCheck::Crls).
///
/// Parsing checks the encoding only: each CRL's signature, issuer and `nextUpdate` are checked
/// by rustls-webpki for every verification, against the CA that issued the certificate being
/// checked, so a forged, foreign or stale CRL denies rather than allows.
pub struct CrlSet {
    pub(crate) crls: Vec<CertRevocationList<'static>>,
    next_update: SystemTime,
}

impl CrlSet {
    /// Parses CRL bytes: one or more DER CRLs back to back, or PEM with one or more
    /// `X509 CRL` blocks (so the CRLs of a root and an intermediate can be concatenated into
    /// one object). When two CRLs come from the same issuer, the one with the latest
    /// `thisUpdate` is consulted.
    ///
    /// Returns [`MtlsErrorKind::CrlInvalid`] (500) when the bytes hold no CRL, a block other
    /// than a CRL, or a CRL rustls-webpki does not support (version 1, delta CRLs, no
    /// `nextUpdate`).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |why: String| refused(MtlsErrorKind::CrlInvalid, why);
        let trimmed = bytes.trim_ascii_start();
        let ders: Vec<Vec<u8>> = if trimmed.starts_with(b"-----BEGIN") {
            let mut ders = Vec::new();
            for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(trimmed) {
                let (kind, der) = section.map_err(|e| invalid(format!("not pem: {e}")))?;
                if kind != SectionKind::Crl {
                    return Err(invalid(format!("unexpected pem block {kind:?}")));
                }
                ders.push(der);
            }
            ders
        } else {
            let mut reader = der::Reader::new(bytes);
            let mut ders = Vec::new();
            while !reader.is_empty() {
                match reader.read_any() {
                    Ok((der::SEQUENCE, _, whole)) => ders.push(whole.to_vec()),
                    _ => return Err(invalid("neither pem nor der".to_owned())),
                }
            }
            ders
        };
        if ders.is_empty() {
            return Err(invalid("no crl".to_owned()));
        }
        let mut parsed = Vec::with_capacity(ders.len());
        for (i, der) in ders.iter().enumerate() {
            let crl = OwnedCertRevocationList::from_der(der)
                .map_err(|e| invalid(format!("crl {} does not parse: {e:?}", i + 1)))?;
            let (this_update, next_update) = der::crl_update_times(der)
                .map_err(|_| invalid(format!("crl {} has malformed update times", i + 1)))?;
            let next_update =
                next_update.ok_or_else(|| invalid(format!("crl {} has no nextUpdate", i + 1)))?;
            parsed.push((this_update, next_update, crl));
        }
        // rustls-webpki consults the first CRL whose issuer matches: newest first.
        parsed.sort_by_key(|p| std::cmp::Reverse(p.0));
        let next_update = parsed.iter().map(|p| p.1).min().unwrap_or(i64::MIN);
        Ok(Self {
            next_update: system_time(next_update),
            crls: parsed
                .into_iter()
                .map(|(_, _, crl)| CertRevocationList::from(crl))
                .collect(),
        })
    }

    /// The earliest `nextUpdate` of the CRLs: from then on, at least one of them is stale and
    /// verifications that need it deny.
    pub fn next_update(&self) -> SystemTime {
        self.next_update
    }

    /// How many CRLs the set holds (at least one).
    pub fn len(&self) -> usize {
        self.crls.len()
    }

    /// Always `false`: parsing refuses an empty set.
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }
}

impl fmt::Debug for CrlSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrlSet")
            .field("len", &self.crls.len())
            .field("next_update", &self.next_update)
            .finish()
    }
}

fn system_time(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    let time = if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    };
    time.unwrap_or(UNIX_EPOCH)
}

/// The error a [`CrlFetcher`] returns.
pub type FetchError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`CrlFetcher`] returns. Boxed so that the trait is object safe and a handler
/// future awaiting it can be spawned (is `Send`) whatever error type the fetcher converts from.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, FetchError>> + Send + 'a>>;

/// Where a [`CrlCache`] gets CRL bytes from: an S3 object, a file, an HTTP distribution point.
///
/// The bytes are whatever [`CrlSet::parse`] accepts. Any `Fn() -> impl Future<Output =
/// Result<Vec<u8>, E>>` closure (with a `'static` future, for example one that owns a clone of
/// an SDK client) is a fetcher; implement the trait on your own type to name it, returning
/// `Box::pin(async move { ... })`. The fetcher is given its client by the caller, never
/// creates one, and should set its own timeouts; the cache also bounds each fetch with
/// [`CrlCache::with_fetch_timeout`].
pub trait CrlFetcher: Send + Sync {
    /// Fetches the current CRL bytes.
    fn fetch(&self) -> FetchFuture<'_>;
}

impl<F, Fut, E> CrlFetcher for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<u8>, E>> + Send + 'static,
    E: Into<FetchError>,
{
    fn fetch(&self) -> FetchFuture<'_> {
        let fut = self();
        Box::pin(async move {
            match fut.await {
                Ok(bytes) => Ok(bytes),
                Err(e) => Err(e.into()),
            }
        })
    }
}

#[derive(Debug, Default)]
struct State {
    current: Option<Arc<CrlSet>>,
    /// When the current set should be refetched (before its `nextUpdate` if the TTL says so).
    refresh_at: Option<SystemTime>,
    /// Why the last attempt failed, for requests that shared it.
    last_error: Option<MtlsError>,
    /// Bumped by every fetch attempt, so that requests that waited on it share its outcome.
    attempts: u64,
}

/// CRLs cached across invocations of a warm Lambda, refreshed by one fetch at a time.
///
/// [`get`](Self::get) returns the cached set until the TTL passes or its
/// [`next_update`](CrlSet::next_update) does, then fetches again. Requests that find the set
/// stale while a fetch is running wait for that fetch and share its outcome: 50 concurrent
/// invocations cause one fetch. When a fetch fails (or returns bytes that do not parse, or a
/// CRL already past `nextUpdate`):
///
/// - if the cached set is still before its `nextUpdate`, it is kept and used, and the next
///   attempt waits [`with_retry_interval`](Self::with_retry_interval);
/// - otherwise (nothing cached, or cached past `nextUpdate`) `get` returns
///   an error ([`MtlsErrorKind::CrlExpired`], [`MtlsErrorKind::CrlUnavailable`] or
///   [`MtlsErrorKind::CrlInvalid`], all 500): revocation cannot be checked, so the request is
///   denied.
///
/// Time is the `now` the caller passes, the same instant it verifies certificates at, so tests
/// control it.
pub struct CrlCache<F> {
    fetcher: F,
    ttl: Duration,
    retry_interval: Duration,
    fetch_timeout: Duration,
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl<F> fmt::Debug for CrlCache<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrlCache")
            .field("ttl", &self.ttl)
            .field("retry_interval", &self.retry_interval)
            .field("fetch_timeout", &self.fetch_timeout)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<F: CrlFetcher> CrlCache<F> {
    /// A cache that fetches with `fetcher`, with a 5 minute TTL, a 30 second retry interval
    /// after a failed refresh and a 5 second fetch timeout.
    pub fn new(fetcher: F) -> Self {
        Self {
            fetcher,
            ttl: Duration::from_secs(300),
            retry_interval: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            state: Mutex::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// How long a fetched set is used before fetching again, however far its `nextUpdate`
    /// is: the delay before a newly published revocation takes effect.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// After a failed refresh with a still-valid cached set, how long to keep using it before
    /// trying again (instead of a fetch per request while the source is down).
    pub fn with_retry_interval(mut self, retry_interval: Duration) -> Self {
        self.retry_interval = retry_interval;
        self
    }

    /// The longest a fetch may take; a fetch that takes longer counts as failed.
    pub fn with_fetch_timeout(mut self, fetch_timeout: Duration) -> Self {
        self.fetch_timeout = fetch_timeout;
        self
    }

    /// The cached set, without fetching or checking its age.
    pub fn cached(&self) -> Option<Arc<CrlSet>> {
        self.lock().current.clone()
    }

    /// The CRLs to verify with at `now`: the cached set when fresh, otherwise the result of a
    /// (shared) refresh.
    ///
    /// Returns an error when no set valid at `now` can be had: [`MtlsErrorKind::CrlExpired`]
    /// when the cached set is past its `nextUpdate` (or the fetched one already is),
    /// [`MtlsErrorKind::CrlInvalid`] when the fetched bytes are not usable CRLs,
    /// [`MtlsErrorKind::CrlUnavailable`] when the fetch failed or timed out.
    pub async fn get(&self, now: SystemTime) -> Result<Arc<CrlSet>, Error> {
        let seen = {
            let state = self.lock();
            if let (Some(current), Some(refresh_at)) = (&state.current, state.refresh_at)
                && now < refresh_at
                && now < current.next_update()
            {
                return Ok(Arc::clone(current));
            }
            state.attempts
        };

        let _refreshing = self.refresh.lock().await;
        {
            let state = self.lock();
            if state.attempts != seen {
                // Another request fetched while this one waited: share its outcome.
                return usable(&state, now);
            }
        }

        let outcome = match tokio::time::timeout(self.fetch_timeout, self.fetcher.fetch()).await {
            Err(_) => Err(MtlsError::new(
                MtlsErrorKind::CrlUnavailable,
                format!("fetch timed out after {:?}", self.fetch_timeout),
            )),
            Ok(Err(e)) => Err(MtlsError::new(
                MtlsErrorKind::CrlUnavailable,
                format!("fetch failed: {e}"),
            )),
            Ok(Ok(bytes)) => match CrlSet::parse(&bytes) {
                Err(Error::Mtls(e)) => Err(e),
                Err(e) => Err(MtlsError::new(MtlsErrorKind::CrlInvalid, e.to_string())),
                Ok(set) if now >= set.next_update() => Err(MtlsError::new(
                    MtlsErrorKind::CrlExpired,
                    "fetched crl is already past its nextUpdate",
                )),
                Ok(set) => Ok(set),
            },
        };

        let mut state = self.lock();
        state.attempts = state.attempts.wrapping_add(1);
        match outcome {
            Ok(set) => {
                let set = Arc::new(set);
                tracing::debug!(crls = set.len(), next_update = ?set.next_update(), "crl refreshed");
                state.refresh_at = Some(now.checked_add(self.ttl).unwrap_or(now));
                state.current = Some(Arc::clone(&set));
                state.last_error = None;
                Ok(set)
            }
            Err(error) => {
                tracing::warn!(%error, "crl refresh failed");
                state.last_error = Some(error);
                if state.current.is_some() {
                    state.refresh_at = Some(now.checked_add(self.retry_interval).unwrap_or(now));
                }
                usable(&state, now)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement; a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The cached set if it is still before its `nextUpdate`, otherwise why not.
fn usable(state: &State, now: SystemTime) -> Result<Arc<CrlSet>, Error> {
    let last_error = || {
        state
            .last_error
            .clone()
            .unwrap_or_else(|| MtlsError::new(MtlsErrorKind::CrlUnavailable, "no fetch succeeded"))
    };
    match &state.current {
        Some(current) if now < current.next_update() => Ok(Arc::clone(current)),
        Some(_) => Err(refused(
            MtlsErrorKind::CrlExpired,
            format!(
                "cached crl past its nextUpdate and refresh failed: {}",
                last_error()
            ),
        )),
        None => Err(last_error().into()),
    }
}
