//! Retry strategies, the retry budget and the rate limit.
//!
//! Everything here is plain state driven by the operator with explicit `Instant`s, so it is
//! tested without a runtime.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// What a retry predicate decides about one attempt's result or error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Keep this result: it is final.
    Stop,
    /// Try again after the strategy's backoff delay.
    Retry,
    /// Try again, but not before this delay (an HTTP `Retry-After`); the strategy's own delay
    /// still applies when it is longer.
    RetryAfter(Duration),
}

/// How long to wait before each retry.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Backoff {
    /// The same delay before every retry (Flink's `FixedDelayRetryStrategy`).
    Fixed(Duration),
    /// `initial * multiplier^(retry - 1)`, capped at `max` (Flink's
    /// `ExponentialBackoffDelayRetryStrategy`); with `full_jitter`, a uniformly random delay
    /// between zero and that value, so retries of many elements spread out instead of arriving
    /// together.
    Exponential {
        /// The delay before the first retry.
        initial: Duration,
        /// The longest delay.
        max: Duration,
        /// The growth factor per retry (at least 1).
        multiplier: f64,
        /// Draw the delay uniformly from `[0, computed]`.
        full_jitter: bool,
    },
}

impl Backoff {
    /// The delay before retry number `retry` (1 for the first retry).
    pub(crate) fn delay(&self, retry: u32, rng: &mut Rng) -> Duration {
        match *self {
            Backoff::Fixed(delay) => delay,
            Backoff::Exponential {
                initial,
                max,
                multiplier,
                full_jitter,
            } => {
                let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
                let grown = initial.as_secs_f64() * multiplier.max(1.0).powi(exponent);
                let capped = if grown.is_finite() {
                    grown.min(max.as_secs_f64())
                } else {
                    max.as_secs_f64()
                };
                let secs = if full_jitter {
                    capped * rng.unit()
                } else {
                    capped
                };
                Duration::try_from_secs_f64(secs).unwrap_or(max)
            }
        }
    }
}

type Predicate<X> = Arc<dyn Fn(&X) -> RetryDecision + Send + Sync>;

/// A retry strategy: when to try an element again and how long to wait first.
///
/// The state of each element's retries (how many so far, its backoff) is kept with the element,
/// not shared across the operator, so one element's failures never shorten another's delays.
/// By default every error is retried and no successful result is; change that with
/// [`retry_if_error`](Retry::retry_if_error), [`retry_if_result`](Retry::retry_if_result) or
/// their `_with` forms, which can also ask for a minimum delay (`Retry-After`).
///
/// `max_retries` counts retries, not attempts, as Flink does: `max_retries = 3` allows four
/// calls of the function for one element.
pub struct Retry<O, E> {
    pub(crate) backoff: Backoff,
    pub(crate) max_retries: u32,
    pub(crate) on_error: Option<Predicate<E>>,
    pub(crate) on_result: Option<Predicate<O>>,
}

impl<O, E> Clone for Retry<O, E> {
    fn clone(&self) -> Self {
        Self {
            backoff: self.backoff,
            max_retries: self.max_retries,
            on_error: self.on_error.clone(),
            on_result: self.on_result.clone(),
        }
    }
}

impl<O, E> fmt::Debug for Retry<O, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("backoff", &self.backoff)
            .field("max_retries", &self.max_retries)
            .field("on_error", &self.on_error.as_ref().map(|_| "custom"))
            .field("on_result", &self.on_result.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl<O, E> Default for Retry<O, E> {
    fn default() -> Self {
        Self::none()
    }
}

impl<O, E> Retry<O, E> {
    /// No retries: the first result is final (the default).
    pub fn none() -> Self {
        Self {
            backoff: Backoff::Fixed(Duration::ZERO),
            max_retries: 0,
            on_error: None,
            on_result: None,
        }
    }

    /// Up to `max_retries` retries, each after `delay`.
    pub fn fixed(delay: Duration, max_retries: u32) -> Self {
        Self {
            backoff: Backoff::Fixed(delay),
            max_retries,
            ..Self::none()
        }
    }

    /// Up to `max_retries` retries with exponential backoff from `initial` (doubling) up to
    /// `max`, with full jitter.
    pub fn exponential(initial: Duration, max: Duration, max_retries: u32) -> Self {
        Self {
            backoff: Backoff::Exponential {
                initial,
                max: max.max(initial),
                multiplier: 2.0,
                full_jitter: true,
            },
            max_retries,
            ..Self::none()
        }
    }

    /// Sets the growth factor of exponential backoff (values below 1 count as 1); no effect on
    /// fixed delays.
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        if let Backoff::Exponential { multiplier: m, .. } = &mut self.backoff {
            *m = if multiplier.is_finite() {
                multiplier.max(1.0)
            } else {
                1.0
            };
        }
        self
    }

    /// Turns full jitter on or off for exponential backoff (on by default).
    pub fn full_jitter(mut self, on: bool) -> Self {
        if let Backoff::Exponential { full_jitter, .. } = &mut self.backoff {
            *full_jitter = on;
        }
        self
    }

    /// Retries only the errors for which `predicate` is true.
    pub fn retry_if_error(self, predicate: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.retry_error_with(move |e| {
            if predicate(e) {
                RetryDecision::Retry
            } else {
                RetryDecision::Stop
            }
        })
    }

    /// Decides per error, possibly with a minimum delay.
    pub fn retry_error_with(
        mut self,
        decide: impl Fn(&E) -> RetryDecision + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Some(Arc::new(decide));
        self
    }

    /// Also retries successful results for which `predicate` is true (an HTTP 503 returned as
    /// a value, an empty answer, ...).
    pub fn retry_if_result(self, predicate: impl Fn(&O) -> bool + Send + Sync + 'static) -> Self {
        self.retry_result_with(move |o| {
            if predicate(o) {
                RetryDecision::Retry
            } else {
                RetryDecision::Stop
            }
        })
    }

    /// Decides per successful result, possibly with a minimum delay (`Retry-After`).
    pub fn retry_result_with(
        mut self,
        decide: impl Fn(&O) -> RetryDecision + Send + Sync + 'static,
    ) -> Self {
        self.on_result = Some(Arc::new(decide));
        self
    }

    /// What the strategy decides about one attempt's result, before counting retries.
    pub(crate) fn decide(&self, result: &Result<O, E>) -> RetryDecision {
        if self.max_retries == 0 {
            return RetryDecision::Stop;
        }
        match result {
            Ok(o) => self
                .on_result
                .as_ref()
                .map_or(RetryDecision::Stop, |p| p(o)),
            Err(e) => self
                .on_error
                .as_ref()
                .map_or(RetryDecision::Retry, |p| p(e)),
        }
    }
}

/// A retry budget: caps the extra load retries put on a failing endpoint.
///
/// Every first attempt deposits `ratio` of a token; every retry withdraws one. A small reserve
/// of `reserve_per_second` tokens (refilled continuously, holding at most one second's worth)
/// lets a quiet stream still retry. Over any period the retries are at most
/// `ratio × first attempts + reserve_per_second × seconds + reserve_per_second`, so under a
/// total outage each element costs at most about `1 + ratio` calls instead of
/// `1 + max_retries`. This is the budget of Finagle and of gRPC's retry throttling, kept per
/// operator.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    ratio: f64,
    reserve_per_second: f64,
    max_deposits: f64,
    deposits: f64,
    reserve: f64,
    last: Option<Instant>,
}

impl RetryBudget {
    /// A budget allowing retries of about `ratio` of the calls (0.1 = 10% extra calls) plus
    /// `reserve_per_second` retries per second. Negative or non-finite values count as zero.
    pub fn new(ratio: f64, reserve_per_second: f64) -> Self {
        let clean = |x: f64| if x.is_finite() { x.max(0.0) } else { 0.0 };
        let ratio = clean(ratio);
        let reserve_per_second = clean(reserve_per_second);
        Self {
            ratio,
            reserve_per_second,
            // Deposits of the last ~1,000 calls at most, so a long healthy period does not
            // bank an unbounded retry storm.
            max_deposits: (ratio * 1000.0).max(1.0),
            deposits: 0.0,
            reserve: reserve_per_second,
            last: None,
        }
    }

    /// Called for every first attempt.
    pub(crate) fn deposit(&mut self) {
        self.deposits = (self.deposits + self.ratio).min(self.max_deposits);
    }

    /// Takes one token for a retry at `now`; false when the budget is spent.
    pub(crate) fn try_withdraw(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.reserve =
                (self.reserve + elapsed * self.reserve_per_second).min(self.reserve_per_second);
        }
        self.last = Some(now);
        if self.reserve >= 1.0 {
            self.reserve -= 1.0;
            true
        } else if self.deposits >= 1.0 {
            self.deposits -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Default for RetryBudget {
    /// 20% extra calls plus 10 retries per second, Finagle's defaults.
    fn default() -> Self {
        Self::new(0.2, 10.0)
    }
}

/// A limit on calls per second (first attempts and retries alike), as a token bucket.
///
/// A call over the limit is not refused: it waits for its turn (the element keeps its place in
/// the queue and its timeout keeps running), so the limit shapes the load on the endpoint.
#[derive(Clone, Debug)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimit {
    /// At most `per_second` calls per second on average, with bursts of up to `burst` calls.
    /// Values below a tiny positive number are raised to it, so the limit never divides by zero.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let per_second = if per_second.is_finite() {
            per_second.max(1e-3)
        } else {
            1e-3
        };
        let burst = f64::from(burst.max(1));
        Self {
            per_second,
            burst,
            tokens: burst,
            last: None,
        }
    }

    /// Reserves one call at `now` and returns how long the caller must wait before making it.
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        }
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / self.per_second).unwrap_or(Duration::MAX)
        }
    }
}

/// A small non-cryptographic generator (SplitMix64) for jitter.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        Self(hasher.finish())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits: exactly representable, uniform.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_backoff_is_constant() {
        let mut rng = Rng::seeded(1);
        let b = Backoff::Fixed(Duration::from_millis(50));
        for retry in 1..10 {
            assert_eq!(b.delay(retry, &mut rng), Duration::from_millis(50));
        }
    }

    #[test]
    fn exponential_backoff_grows_and_caps() {
        let mut rng = Rng::seeded(1);
        let b = Backoff::Exponential {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            full_jitter: false,
        };
        let delays: Vec<u128> = (1..=6).map(|r| b.delay(r, &mut rng).as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        // Huge retry counts neither overflow nor panic.
        assert_eq!(b.delay(u32::MAX, &mut rng), Duration::from_secs(1));
    }

    #[test]
    fn full_jitter_stays_within_the_computed_delay_and_spreads() {
        let mut rng = Rng::seeded(7);
        let b = Backoff::Exponential {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            multiplier: 2.0,
            full_jitter: true,
        };
        let samples: Vec<Duration> = (0..1000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(400)));
        let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / 1000.0;
        assert!((0.17..0.23).contains(&mean), "mean {mean}");
    }

    #[test]
    fn predicates_default_to_retrying_errors_only() {
        let r: Retry<u32, &str> = Retry::fixed(Duration::ZERO, 3);
        assert_eq!(r.decide(&Err("boom")), RetryDecision::Retry);
        assert_eq!(r.decide(&Ok(1)), RetryDecision::Stop);
        let r = r
            .retry_if_error(|e| *e == "transient")
            .retry_if_result(|o| *o == 503);
        assert_eq!(r.decide(&Err("boom")), RetryDecision::Stop);
        assert_eq!(r.decide(&Err("transient")), RetryDecision::Retry);
        assert_eq!(r.decide(&Ok(503)), RetryDecision::Retry);
        assert_eq!(r.decide(&Ok(200)), RetryDecision::Stop);
        let none: Retry<u32, &str> = Retry::none();
        assert_eq!(none.decide(&Err("boom")), RetryDecision::Stop);
    }

    #[test]
    fn budget_caps_retries_to_the_ratio_plus_the_reserve() {
        let start = Instant::now();
        let mut budget = RetryBudget::new(0.1, 2.0);
        let mut granted = 0;
        // 1,000 first attempts within one instant, each wanting a retry.
        for _ in 0..1000 {
            budget.deposit();
            if budget.try_withdraw(start) {
                granted += 1;
            }
        }
        // 10% of 1,000 plus the 2-token reserve (deposits are fractional, so allow one less).
        assert!((101..=102).contains(&granted), "granted {granted}");
        // Time refills the reserve only.
        let later = start + Duration::from_secs(5);
        let mut refilled = 0;
        while budget.try_withdraw(later) {
            refilled += 1;
        }
        assert_eq!(refilled, 2);
    }

    #[test]
    fn zero_budget_refuses_every_retry() {
        let now = Instant::now();
        let mut budget = RetryBudget::new(0.0, 0.0);
        budget.deposit();
        assert!(!budget.try_withdraw(now));
    }

    #[test]
    fn rate_limit_spaces_calls_after_the_burst() {
        let now = Instant::now();
        let mut limit = RateLimit::new(10.0, 2);
        assert_eq!(limit.reserve(now), Duration::ZERO);
        assert_eq!(limit.reserve(now), Duration::ZERO);
        let third = limit.reserve(now);
        let fourth = limit.reserve(now);
        assert!((third.as_secs_f64() - 0.1).abs() < 1e-9, "{third:?}");
        assert!((fourth.as_secs_f64() - 0.2).abs() < 1e-9, "{fourth:?}");
        // A second later the reservations are paid back and one burst token is free again.
        let later = now + Duration::from_secs(1);
        assert_eq!(limit.reserve(later), Duration::ZERO);
    }

    #[test]
    fn rate_limit_rejects_nonsense_rates_without_panicking() {
        let now = Instant::now();
        let mut limit = RateLimit::new(f64::NAN, 0);
        assert_eq!(limit.reserve(now), Duration::ZERO);
        assert!(limit.reserve(now) > Duration::from_secs(100));
    }
}
