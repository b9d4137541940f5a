//! What the operator emits.

use std::fmt;
use std::time::Duration;

/// The final result for one element.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<O, E> {
    /// The function's result (after any retries).
    Ok(O),
    /// The element timed out and [`AsyncFunction::on_timeout`](crate::AsyncFunction::on_timeout)
    /// gave this value.
    Fallback(O),
    /// The element timed out: the timeout runs from the element's arrival to its final result,
    /// across retries.
    TimedOut,
    /// The function failed and no retry was left (or allowed by the budget or the deadline).
    Failed(E),
}

impl<O, E> Outcome<O, E> {
    /// True for [`Outcome::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// The value of [`Outcome::Ok`] or [`Outcome::Fallback`].
    pub fn value(&self) -> Option<&O> {
        match self {
            Outcome::Ok(o) | Outcome::Fallback(o) => Some(o),
            Outcome::TimedOut | Outcome::Failed(_) => None,
        }
    }
}

/// One input with its outcome, emitted by the operator.
///
/// The input is the very value that entered the operator (moved, never cloned).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Completed<T, O, E> {
    /// The input element.
    pub input: T,
    /// Its final result.
    pub outcome: Outcome<O, E>,
    /// How many times the function was called for it (0 when it timed out before its first
    /// call, which only a rate limit can cause).
    pub attempts: u32,
    /// From its arrival in the operator to its final result.
    pub elapsed: Duration,
}

/// An element of a stream with event-time markers (watermarks, epochs, checkpoint barriers).
///
/// In unordered mode, results are reordered only between two markers; a marker is emitted
/// after every result that arrived before it and before any that arrived after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<T, M> {
    /// A data element.
    Record(T),
    /// A marker.
    Marker(M),
}

/// Why an element failed, as returned by [`FailFast`](crate::FailFast).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure<T, E> {
    /// The element timed out.
    TimedOut {
        /// The input element.
        input: T,
    },
    /// The function failed for it.
    Failed {
        /// The input element.
        input: T,
        /// The last error.
        error: E,
    },
}

impl<T, E> Failure<T, E> {
    /// The input element.
    pub fn input(&self) -> &T {
        match self {
            Failure::TimedOut { input } | Failure::Failed { input, .. } => input,
        }
    }
}

impl<T, E: fmt::Display> fmt::Display for Failure<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::TimedOut { .. } => f.write_str("an element timed out"),
            Failure::Failed { error, .. } => write!(f, "an element failed: {error}"),
        }
    }
}

impl<T: fmt::Debug, E: std::error::Error + 'static> std::error::Error for Failure<T, E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::TimedOut { .. } => None,
            Failure::Failed { error, .. } => Some(error),
        }
    }
}
