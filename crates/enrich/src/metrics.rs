//! Counters and gauges of one operator.

/// A snapshot of an operator's counters (since it started) and gauges (now).
///
/// The operator also emits `tracing` events under the target `lambdakit_enrich`: `debug` for
/// retries, denied retries and timeouts, `trace` when the queue fills (backpressure) and for
/// each element emitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Gauge: elements and markers held (what capacity limits).
    pub occupancy: usize,
    /// Gauge: elements whose call (or wait before a call) is in progress.
    pub in_flight: usize,
    /// Gauge: finished elements that cannot leave yet because an earlier one (ordered) or an
    /// earlier segment (unordered) has not finished.
    pub head_of_line_blocked: usize,
    /// The most elements and markers held at once; never above capacity.
    pub max_occupancy: usize,
    /// Elements accepted.
    pub started: u64,
    /// Elements emitted.
    pub emitted: u64,
    /// Calls made, first attempts and retries.
    pub attempts: u64,
    /// Retries made.
    pub retries: u64,
    /// Retries the predicate asked for but the budget or the deadline refused.
    pub retries_denied: u64,
    /// Elements that timed out.
    pub timeouts: u64,
    /// Elements that ended with an error.
    pub failures: u64,
    /// Times the queue became full and the input was held back.
    pub backpressured: u64,
}
