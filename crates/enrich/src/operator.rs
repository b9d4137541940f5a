//! The async I/O operator: a `Stream` adapter with Flink's `AsyncWaitOperator` contract.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::function::AsyncFunction;
use crate::metrics::Metrics;
use crate::outcome::{Completed, Event, Failure, Outcome};
use crate::queue::{Queue, remaining};
use crate::retry::{RateLimit, Retry, RetryBudget, RetryDecision, Rng};

/// The default per-element timeout, the blog's 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Configures an async I/O operator: order, capacity, timeout, retries, budget and rate limit.
///
/// ```
/// use std::time::Duration;
/// use futures_util::StreamExt;
/// use lambdakit_enrich::{AsyncIo, Outcome};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let scores = AsyncIo::unordered(20)
///     .timeout(Duration::from_secs(30))
///     .run(futures_util::stream::iter(1..=5u32), |n: &u32| {
///         let n = *n;
///         async move { Ok::<_, std::io::Error>(n * 10) }
///     });
/// let mut total = 0;
/// futures_util::pin_mut!(scores);
/// while let Some(done) = scores.next().await {
///     if let Outcome::Ok(score) = done.outcome {
///         total += score;
///     }
/// }
/// assert_eq!(total, 150);
/// # }
/// ```
///
/// Capacity means what it means in Flink: elements in flight plus finished elements not yet
/// emitted (plus markers not yet emitted). When the queue is full the operator stops pulling
/// from its input, so a slow endpoint is backpressure, never an unbounded buffer. A capacity
/// of 0 counts as 1.
///
/// The operator needs a Tokio runtime with the time driver (timeouts, backoff and the rate
/// limit are Tokio timers).
pub struct AsyncIo<O, E> {
    capacity: usize,
    ordered: bool,
    timeout: Option<Duration>,
    retry: Retry<O, E>,
    budget: Option<RetryBudget>,
    rate: Option<RateLimit>,
    seed: Option<u64>,
}

impl<O, E> fmt::Debug for AsyncIo<O, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncIo")
            .field("capacity", &self.capacity)
            .field("ordered", &self.ordered)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("budget", &self.budget)
            .field("rate", &self.rate)
            .finish()
    }
}

impl<O, E> Clone for AsyncIo<O, E> {
    fn clone(&self) -> Self {
        Self {
            capacity: self.capacity,
            ordered: self.ordered,
            timeout: self.timeout,
            retry: self.retry.clone(),
            budget: self.budget.clone(),
            rate: self.rate.clone(),
            seed: self.seed,
        }
    }
}

impl<O, E> AsyncIo<O, E> {
    /// Results leave in input order (Flink's `orderedWait`).
    pub fn ordered(capacity: usize) -> Self {
        Self::new(capacity, true)
    }

    /// Results leave as they finish, reordered only between markers (Flink's `unorderedWait`).
    pub fn unordered(capacity: usize) -> Self {
        Self::new(capacity, false)
    }

    fn new(capacity: usize, ordered: bool) -> Self {
        Self {
            capacity: capacity.max(1),
            ordered,
            timeout: Some(DEFAULT_TIMEOUT),
            retry: Retry::none(),
            budget: None,
            rate: None,
            seed: None,
        }
    }

    /// The longest an element may take from its arrival to its final result, across retries
    /// (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// No timeout: an element whose call never finishes holds its slot forever. Only for
    /// functions that enforce their own deadline.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// The retry strategy (default: no retries).
    pub fn retry(mut self, retry: Retry<O, E>) -> Self {
        self.retry = retry;
        self
    }

    /// Caps retries across the operator (default: none, only `max_retries` per element).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Limits calls per second, retries included.
    pub fn rate_limit(mut self, rate: RateLimit) -> Self {
        self.rate = Some(rate);
        self
    }

    /// Seeds the jitter generator, for reproducible tests.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Runs `function` over every element of `input`; the stream yields each input with its
    /// outcome.
    pub fn run<S, F>(self, input: S, function: F) -> Enriched<S, F>
    where
        S: Stream,
        F: AsyncFunction<S::Item, Output = O, Error = E>,
    {
        Enriched {
            inner: self.run_events(Records { inner: input }, function),
        }
    }

    /// Like [`run`](Self::run) over a stream of records and markers: markers come out in
    /// place, and in unordered mode no result crosses one.
    pub fn run_events<S, F, T, M>(self, input: S, function: F) -> AsyncWait<S, F, T, M>
    where
        S: Stream<Item = Event<T, M>>,
        F: AsyncFunction<T, Output = O, Error = E>,
    {
        AsyncWait {
            input,
            input_done: false,
            tasks: FuturesUnordered::new(),
            queue: Queue::new(self.ordered, self.capacity),
            state: State {
                function,
                capacity: self.capacity,
                timeout: self.timeout,
                retry: self.retry,
                budget: self.budget,
                rate: self.rate,
                rng: self.seed.map_or_else(Rng::from_entropy, Rng::seeded),
                metrics: Metrics::default(),
                full: false,
                timer: None,
                armed: None,
            },
        }
    }
}

pin_project! {
    /// One call in progress, or one wait (backoff, rate limit) before the next call.
    struct Task<Fut> {
        slot: usize,
        deadline: Option<Instant>,
        // Set by the operator's timeout sweep: the call is abandoned at its next poll.
        expired: bool,
        // The task's waker, kept while a call with a deadline is pending, so the sweep can have
        // it polled again once its deadline has passed.
        waker: Option<Waker>,
        #[pin]
        kind: Kind<Fut>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<Fut> {
        // Calls have no timer of their own: one operator-wide timer sweeps the calls past their
        // deadline (`State::sweep`), instead of registering one Tokio timer per element. A
        // wait's `Sleep` is boxed: inline, its 100-odd bytes would enlarge every task.
        Call { #[pin] call: Fut },
        Wait { sleep: Pin<Box<Sleep>>, expires: bool },
    }
}

enum TaskResult<R> {
    Done(R),
    TimedOut,
    WaitOver,
}

impl<Fut: Future> Future for Task<Fut> {
    type Output = (usize, TaskResult<Fut::Output>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let slot = *this.slot;
        match this.kind.project() {
            KindProj::Call { call } => {
                if let Poll::Ready(result) = call.poll(cx) {
                    return Poll::Ready((slot, TaskResult::Done(result)));
                }
                if *this.expired {
                    return Poll::Ready((slot, TaskResult::TimedOut));
                }
                if this.deadline.is_some() {
                    match this.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *this.waker = Some(cx.waker().clone()),
                    }
                }
                Poll::Pending
            }
            KindProj::Wait { sleep, expires } => {
                ready!(sleep.as_mut().poll(cx));
                let result = if *expires {
                    TaskResult::TimedOut
                } else {
                    TaskResult::WaitOver
                };
                Poll::Ready((slot, result))
            }
        }
    }
}

/// Everything but the input, the tasks and the queue, so the poll loop can borrow them apart.
struct State<F, O, E> {
    function: F,
    capacity: usize,
    timeout: Option<Duration>,
    retry: Retry<O, E>,
    budget: Option<RetryBudget>,
    rate: Option<RateLimit>,
    rng: Rng,
    metrics: Metrics,
    full: bool,
    /// The one timer behind every call's timeout, created at the first deadline.
    timer: Option<Pin<Box<Sleep>>>,
    /// When `timer` fires: no later than the earliest deadline of a call in progress.
    armed: Option<Instant>,
}

pin_project! {
    /// The operator over a stream of [`Event`]s; made by [`AsyncIo::run_events`].
    ///
    /// Yields `Event::Record(Completed)` for each input and `Event::Marker` for each marker, in
    /// the order the mode allows; ends when the input has ended and every element has left.
    #[must_use = "streams do nothing unless polled"]
    pub struct AsyncWait<S, F, T, M>
    where
        F: AsyncFunction<T>,
    {
        #[pin]
        input: S,
        input_done: bool,
        tasks: FuturesUnordered<Task<F::Future>>,
        queue: Queue<T, F::Output, F::Error, M>,
        state: State<F, F::Output, F::Error>,
    }
}

impl<S, F, T, M> fmt::Debug for AsyncWait<S, F, T, M>
where
    F: AsyncFunction<T>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncWait")
            .field("capacity", &self.state.capacity)
            .field("input_done", &self.input_done)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

impl<S, F, T, M> AsyncWait<S, F, T, M>
where
    F: AsyncFunction<T>,
{
    /// Counters and gauges of this operator.
    pub fn metrics(&self) -> Metrics {
        let mut m = self.state.metrics;
        m.occupancy = self.queue.len();
        m.in_flight = self.queue.in_flight();
        m.head_of_line_blocked = self.queue.finished_waiting();
        m
    }

    /// The inputs accepted but not yet emitted, in arrival order: what a checkpoint must keep
    /// to replay them after a restart (Flink stores exactly these in its operator state).
    pub fn snapshot(&self) -> Vec<&T> {
        self.queue.snapshot()
    }

    /// Cancels every call in progress and returns the inputs accepted but not yet emitted, in
    /// arrival order; markers held are dropped. The operator stays usable: polling again pulls
    /// more input.
    pub fn drain(self: Pin<&mut Self>) -> Vec<T> {
        let this = self.project();
        this.tasks.clear();
        this.queue.drain()
    }
}

impl<S, F, T, M> Stream for AsyncWait<S, F, T, M>
where
    S: Stream<Item = Event<T, M>>,
    F: AsyncFunction<T>,
{
    type Item = Event<Completed<T, F::Output, F::Error>, M>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        // One clock read per call, shared by every element started or finished in it: reading
        // the clock costs as much as the rest of the work for an element. Completions are
        // handled in batches below, so most calls that emit read no clock at all.
        let mut clock: Option<Instant> = None;
        loop {
            if let Some(event) = this.queue.pop_ready() {
                if let Event::Record(done) = &event {
                    this.state.metrics.emitted += 1;
                    tracing::trace!(
                        target: "lambdakit_enrich",
                        attempts = done.attempts,
                        elapsed_us = done.elapsed.as_micros() as u64,
                        "element emitted"
                    );
                }
                return Poll::Ready(Some(event));
            }

            let mut progressed = false;
            while !*this.input_done && this.queue.len() < this.state.capacity {
                match this.input.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Event::Record(input))) => {
                        let now = *clock.get_or_insert_with(Instant::now);
                        this.state.start(input, now, this.queue, this.tasks);
                        progressed = true;
                    }
                    Poll::Ready(Some(Event::Marker(marker))) => {
                        this.queue.push_marker(marker);
                        progressed = true;
                    }
                    Poll::Ready(None) => *this.input_done = true,
                    Poll::Pending => break,
                }
            }
            this.state.note_occupancy(this.queue);

            // Take every result that is ready now (up to a queue's worth), then emit them one
            // per call without further work.
            for _ in 0..this.state.capacity {
                match Pin::new(&mut *this.tasks).poll_next(cx) {
                    Poll::Ready(Some((slot, result))) => {
                        let now = *clock.get_or_insert_with(Instant::now);
                        this.state
                            .on_result(slot, result, now, this.queue, this.tasks);
                        progressed = true;
                    }
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            // A busy stream may go a long time without waiting (and polling the timer).
            if let (Some(now), Some(armed)) = (clock, this.state.armed)
                && armed <= now
            {
                this.state.sweep(now, this.tasks);
            }
            if progressed {
                continue;
            }
            if *this.input_done && this.queue.is_empty() && this.tasks.is_empty() {
                tracing::debug!(
                    target: "lambdakit_enrich",
                    emitted = this.state.metrics.emitted,
                    retries = this.state.metrics.retries,
                    timeouts = this.state.metrics.timeouts,
                    failures = this.state.metrics.failures,
                    "input ended and every element left"
                );
                return Poll::Ready(None);
            }
            // About to wait: the timeout timer must be able to wake this task.
            if this.state.poll_timer(cx, this.tasks) {
                continue;
            }
            return Poll::Pending;
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let held = self.queue.len();
        if self.input_done {
            (0, Some(held))
        } else {
            let (_, upper) = self.input.size_hint();
            (0, upper.and_then(|u| u.checked_add(held)))
        }
    }
}

impl<F, O, E> State<F, O, E> {
    /// Accepts an element: its clock starts now.
    fn start<T, M>(
        &mut self,
        input: T,
        now: Instant,
        queue: &mut Queue<T, O, E, M>,
        tasks: &mut FuturesUnordered<Task<F::Future>>,
    ) where
        F: AsyncFunction<T, Output = O, Error = E>,
    {
        // A timeout too large to add to the clock is no deadline at all.
        let deadline = self.timeout.and_then(|t| now.checked_add(t));
        let slot = queue.push_record(input, now, deadline);
        self.metrics.started += 1;
        if let Some(budget) = &mut self.budget {
            budget.deposit();
        }
        self.call_or_wait(slot, now, Duration::ZERO, queue, tasks);
    }

    /// Makes the next call for `slot` after `delay` (and after the rate limit allows it).
    fn call_or_wait<T, M>(
        &mut self,
        slot: usize,
        now: Instant,
        delay: Duration,
        queue: &mut Queue<T, O, E, M>,
        tasks: &mut FuturesUnordered<Task<F::Future>>,
    ) where
        F: AsyncFunction<T, Output = O, Error = E>,
    {
        let mut wait = delay;
        if let Some(rate) = &mut self.rate {
            wait = wait.max(rate.reserve(now));
        }
        if wait.is_zero() {
            self.call_now(slot, queue, tasks);
        } else {
            let Some(deadline) = queue.get(slot).map(|entry| entry.deadline) else {
                return;
            };
            // A wait past what the clock can hold (a `Retry-After` of u64::MAX seconds) is
            // cut at the deadline, or at a year without one.
            let at = now
                .checked_add(wait)
                .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
            let (at, expires) = match deadline {
                Some(d) if d <= at => (d, true),
                _ => (at, false),
            };
            tasks.push(Task {
                slot,
                deadline,
                expired: false,
                waker: None,
                kind: Kind::Wait {
                    sleep: Box::pin(sleep_until(at)),
                    expires,
                },
            });
        }
    }

    /// Calls the function for `slot` now (its rate-limit token, if any, is already taken).
    fn call_now<T, M>(
        &mut self,
        slot: usize,
        queue: &mut Queue<T, O, E, M>,
        tasks: &mut FuturesUnordered<Task<F::Future>>,
    ) where
        F: AsyncFunction<T, Output = O, Error = E>,
    {
        let Some(entry) = queue.get_mut(slot) else {
            return;
        };
        entry.attempts += 1;
        self.metrics.attempts += 1;
        let call = self.function.call(&entry.input);
        let deadline = entry.deadline;
        tasks.push(Task {
            slot,
            deadline,
            expired: false,
            waker: None,
            kind: Kind::Call { call },
        });
        if let Some(deadline) = deadline {
            self.arm(deadline);
        }
    }

    /// Makes the timeout timer fire no later than `deadline`. Deadlines grow with arrival
    /// (arrival plus one timeout), so this resets the timer only when it is disarmed, or for a
    /// retry of an element older than the one it is armed for.
    fn arm(&mut self, deadline: Instant) {
        if self.armed.is_some_and(|armed| armed <= deadline) {
            return;
        }
        self.armed = Some(deadline);
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.timer = Some(Box::pin(sleep_until(deadline))),
        }
    }

    /// Polls the timeout timer; when it has fired, sweeps and returns true.
    fn poll_timer<Fut>(
        &mut self,
        cx: &mut Context<'_>,
        tasks: &mut FuturesUnordered<Task<Fut>>,
    ) -> bool {
        if self.armed.is_none() {
            return false;
        }
        let Some(timer) = &mut self.timer else {
            return false;
        };
        if timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.sweep(Instant::now(), tasks);
        true
    }

    /// Marks every call past its deadline as expired and wakes it (its task then yields
    /// `TimedOut`, which drops the call), and re-arms the timer at the earliest deadline left.
    /// O(tasks), but it runs only when the timer fires: once per timeout period while calls
    /// finish in time, and once per wave of expiries when they do not.
    fn sweep<Fut>(&mut self, now: Instant, tasks: &mut FuturesUnordered<Task<Fut>>) {
        let mut next: Option<Instant> = None;
        for task in Pin::new(tasks).iter_pin_mut() {
            let task = task.project();
            let Some(deadline) = *task.deadline else {
                continue;
            };
            if !matches!(task.kind.project(), KindProj::Call { .. }) {
                continue;
            }
            if deadline <= now {
                if !*task.expired {
                    *task.expired = true;
                    if let Some(waker) = task.waker.take() {
                        waker.wake();
                    }
                }
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.armed = None;
        if let Some(next) = next {
            self.arm(next);
        }
    }

    fn on_result<T, M>(
        &mut self,
        slot: usize,
        result: TaskResult<Result<O, E>>,
        now: Instant,
        queue: &mut Queue<T, O, E, M>,
        tasks: &mut FuturesUnordered<Task<F::Future>>,
    ) where
        F: AsyncFunction<T, Output = O, Error = E>,
    {
        match result {
            TaskResult::WaitOver => self.call_now(slot, queue, tasks),
            TaskResult::TimedOut => {
                self.metrics.timeouts += 1;
                let Some(entry) = queue.get(slot) else {
                    return;
                };
                tracing::debug!(
                    target: "lambdakit_enrich",
                    attempts = entry.attempts,
                    "element timed out"
                );
                let outcome = match self.function.on_timeout(&entry.input) {
                    Some(value) => Outcome::Fallback(value),
                    None => Outcome::TimedOut,
                };
                queue.finish(slot, outcome, now);
            }
            TaskResult::Done(result) => {
                let Some(entry) = queue.get_mut(slot) else {
                    return;
                };
                let decision = self.retry.decide(&result);
                let retry_delay = match decision {
                    RetryDecision::Stop => None,
                    RetryDecision::Retry | RetryDecision::RetryAfter(_) => {
                        if entry.retries >= self.retry.max_retries {
                            None
                        } else {
                            let mut delay =
                                self.retry.backoff.delay(entry.retries + 1, &mut self.rng);
                            if let RetryDecision::RetryAfter(at_least) = decision {
                                delay = delay.max(at_least);
                            }
                            // A retry that could only start after the deadline is pointless:
                            // keep this result rather than wait to time out.
                            let fits =
                                remaining(entry.deadline, now).is_none_or(|left| delay < left);
                            let budget_ok = fits
                                && self
                                    .budget
                                    .as_mut()
                                    .is_none_or(|budget| budget.try_withdraw(now));
                            if !fits || !budget_ok {
                                self.metrics.retries_denied += 1;
                                tracing::debug!(
                                    target: "lambdakit_enrich",
                                    attempts = entry.attempts,
                                    past_deadline = !fits,
                                    "retry denied"
                                );
                                None
                            } else {
                                Some(delay)
                            }
                        }
                    }
                };
                match retry_delay {
                    Some(delay) => {
                        entry.retries += 1;
                        self.metrics.retries += 1;
                        tracing::debug!(
                            target: "lambdakit_enrich",
                            attempts = entry.attempts,
                            delay_ms = delay.as_millis() as u64,
                            "retrying element"
                        );
                        self.call_or_wait(slot, now, delay, queue, tasks);
                    }
                    None => {
                        let outcome = match result {
                            Ok(value) => Outcome::Ok(value),
                            Err(error) => {
                                self.metrics.failures += 1;
                                Outcome::Failed(error)
                            }
                        };
                        queue.finish(slot, outcome, now);
                    }
                }
            }
        }
    }

    /// Tracks the high-water mark, and reports when the queue becomes full (backpressure).
    fn note_occupancy<T, M>(&mut self, queue: &Queue<T, O, E, M>) {
        let len = queue.len();
        self.metrics.max_occupancy = self.metrics.max_occupancy.max(len);
        let full = len >= self.capacity;
        if full && !self.full {
            self.metrics.backpressured += 1;
            tracing::trace!(
                target: "lambdakit_enrich",
                occupancy = len,
                in_flight = queue.in_flight(),
                head_of_line_blocked = queue.finished_waiting(),
                "queue full: backpressure on the input"
            );
        }
        self.full = full;
    }
}

pin_project! {
    /// Wraps a plain stream as records without markers.
    #[derive(Debug)]
    pub struct Records<S> {
        #[pin]
        inner: S,
    }
}

impl<S: Stream> Stream for Records<S> {
    type Item = Event<S::Item, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project()
            .inner
            .poll_next(cx)
            .map(|item| item.map(Event::Record))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

pin_project! {
    /// The operator over a plain stream; made by [`AsyncIo::run`]. Yields one [`Completed`]
    /// per input.
    #[must_use = "streams do nothing unless polled"]
    pub struct Enriched<S, F>
    where
        S: Stream,
        F: AsyncFunction<S::Item>,
    {
        #[pin]
        inner: AsyncWait<Records<S>, F, S::Item, Infallible>,
    }
}

impl<S, F> fmt::Debug for Enriched<S, F>
where
    S: Stream,
    F: AsyncFunction<S::Item>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<S, F> Enriched<S, F>
where
    S: Stream,
    F: AsyncFunction<S::Item>,
{
    /// See [`AsyncWait::metrics`].
    pub fn metrics(&self) -> Metrics {
        self.inner.metrics()
    }

    /// See [`AsyncWait::snapshot`].
    pub fn snapshot(&self) -> Vec<&S::Item> {
        self.inner.snapshot()
    }

    /// See [`AsyncWait::drain`].
    pub fn drain(self: Pin<&mut Self>) -> Vec<S::Item> {
        self.project().inner.drain()
    }

    /// A stream of `Result`s that ends at the first element that timed out or failed: Flink's
    /// default of failing the job, as a `TryStream` (`try_next()?`). The operator stays inside,
    /// so [`FailFast::get_pin_mut`] then [`drain`](Self::drain) recovers the unfinished inputs.
    pub fn fail_fast(self) -> FailFast<Self> {
        FailFast {
            inner: self,
            failed: false,
        }
    }
}

impl<S, F> Stream for Enriched<S, F>
where
    S: Stream,
    F: AsyncFunction<S::Item>,
{
    type Item = Completed<S::Item, F::Output, F::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.project().inner.poll_next(cx)) {
            Some(Event::Record(done)) => Poll::Ready(Some(done)),
            Some(Event::Marker(never)) => match never {},
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

pin_project! {
    /// Ends at the first failure; made by [`Enriched::fail_fast`].
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct FailFast<S> {
        #[pin]
        inner: S,
        failed: bool,
    }
}

impl<S> FailFast<S> {
    /// The operator inside, for `drain`, `snapshot` and `metrics`.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut S> {
        self.project().inner
    }

    /// The operator inside.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, T, O, E> Stream for FailFast<S>
where
    S: Stream<Item = Completed<T, O, E>>,
{
    type Item = Result<(T, O), Failure<T, E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        let Some(done) = ready!(this.inner.poll_next(cx)) else {
            return Poll::Ready(None);
        };
        let item = match done.outcome {
            Outcome::Ok(value) | Outcome::Fallback(value) => Ok((done.input, value)),
            Outcome::TimedOut => Err(Failure::TimedOut { input: done.input }),
            Outcome::Failed(error) => Err(Failure::Failed {
                input: done.input,
                error,
            }),
        };
        *this.failed = item.is_err();
        Poll::Ready(Some(item))
    }
}
