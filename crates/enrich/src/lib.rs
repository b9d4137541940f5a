#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "http")]
mod credentials;
mod function;
mod metrics;
mod operator;
mod outcome;
mod queue;
mod retry;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

pub use function::{AsyncFunction, WithFallback, with_fallback};
pub use metrics::Metrics;
pub use operator::{AsyncIo, AsyncWait, DEFAULT_TIMEOUT, Enriched, FailFast, Records};
pub use outcome::{Completed, Event, Failure, Outcome};
pub use retry::{Backoff, RateLimit, Retry, RetryBudget, RetryDecision};
