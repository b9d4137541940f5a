//! The operator's contract, on Tokio's paused clock: virtual time makes latencies exact and
//! the tests fast, without timing anything real.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use lambdakit_enrich::{
    AsyncIo, Completed, Event, Failure, Outcome, RateLimit, Retry, RetryBudget, RetryDecision,
    with_fallback,
};
use tokio::time::{Instant, sleep};

/// An input that cannot be cloned: the operator must hand back the very value it received.
#[derive(Debug, PartialEq, Eq)]
struct Tx {
    id: u32,
    latency_ms: u64,
}

fn txs(latencies: &[u64]) -> Vec<Tx> {
    latencies
        .iter()
        .enumerate()
        .map(|(i, &latency_ms)| Tx {
            id: i as u32,
            latency_ms,
        })
        .collect()
}

/// Counts calls in progress and keeps the highest count seen.
#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gauge {
    fn enter(&self) -> InFlight {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        InFlight(self.now.clone())
    }
    fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn in_flight(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }
}

/// A call that answers the element's id after its latency.
fn delayed(
    gauge: &Gauge,
) -> impl Fn(&Tx) -> futures_util::future::BoxFuture<'static, Result<u32, String>> + use<> {
    let gauge = gauge.clone();
    move |tx: &Tx| {
        let guard = gauge.enter();
        let (id, latency) = (tx.id, Duration::from_millis(tx.latency_ms));
        Box::pin(async move {
            sleep(latency).await;
            drop(guard);
            Ok(id)
        })
    }
}

fn ids<E: std::fmt::Debug>(done: &[Completed<Tx, u32, E>]) -> Vec<u32> {
    done.iter().map(|c| c.input.id).collect()
}

#[tokio::test(start_paused = true)]
async fn ordered_mode_emits_in_input_order_and_unordered_in_completion_order() {
    let latencies = [50, 10, 30, 20, 40];
    let gauge = Gauge::default();

    let ordered: Vec<_> = AsyncIo::ordered(10)
        .run(stream::iter(txs(&latencies)), delayed(&gauge))
        .collect()
        .await;
    assert_eq!(ids(&ordered), [0, 1, 2, 3, 4]);

    let unordered: Vec<_> = AsyncIo::unordered(10)
        .run(stream::iter(txs(&latencies)), delayed(&gauge))
        .collect()
        .await;
    assert_eq!(ids(&unordered), [1, 3, 2, 4, 0]);
    for done in &unordered {
        assert_eq!(
            done.outcome,
            Outcome::Ok(done.input.id),
            "input paired with its output"
        );
        assert_eq!(done.attempts, 1);
        assert_eq!(done.elapsed, Duration::from_millis(done.input.latency_ms));
    }
}

#[tokio::test(start_paused = true)]
async fn capacity_bounds_calls_in_flight_and_pulls_from_the_input() {
    let gauge = Gauge::default();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let input = stream::iter(txs(&[100; 50])).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut op = pin!(AsyncIo::unordered(4).run(input, delayed(&gauge)));
    let mut emitted = 0;
    while let Some(_done) = op.next().await {
        emitted += 1;
        // Never more than capacity elements held: the input is held back, not buffered.
        assert!(pulled.load(Ordering::SeqCst) <= emitted + 4);
        assert!(op.metrics().occupancy <= 4);
    }
    assert_eq!(emitted, 50);
    assert_eq!(gauge.max(), 4);
    let metrics = op.metrics();
    assert_eq!(metrics.max_occupancy, 4);
    assert!(metrics.backpressured > 0);
    assert_eq!(
        (metrics.started, metrics.emitted, metrics.attempts),
        (50, 50, 50)
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_head_blocks_ordered_output_but_not_unordered() {
    // The first element takes 1 s, the next three 10 ms; capacity 4.
    let gauge = Gauge::default();
    let mut op =
        pin!(AsyncIo::ordered(4).run(stream::iter(txs(&[1000, 10, 10, 10, 10])), delayed(&gauge)));
    let start = Instant::now();
    let first = op.next().await.map(|c| c.input.id);
    assert_eq!(first, Some(0));
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    let mut op = pin!(
        AsyncIo::unordered(4).run(stream::iter(txs(&[1000, 10, 10, 10, 10])), delayed(&gauge))
    );
    let start = Instant::now();
    let firsts: Vec<u32> = op.as_mut().take(3).map(|c| c.input.id).collect().await;
    assert_eq!(firsts, [1, 2, 3]);
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    // The fifth element entered as soon as a slot was free, and finishes before the head.
    assert_eq!(op.next().await.map(|c| c.input.id), Some(4));
    assert_eq!(op.next().await.map(|c| c.input.id), Some(0));
}

#[tokio::test(start_paused = true)]
async fn markers_are_never_overtaken_in_unordered_mode() {
    let gauge = Gauge::default();
    // a(30) b(10) | w1 | c(5) d(1) | w2 | e(1)
    let mut events = Vec::new();
    let mut txs = txs(&[30, 10, 5, 1, 1]).into_iter();
    for marker in [None, None, Some(1), None, None, Some(2), None] {
        match marker {
            Some(m) => events.push(Event::Marker(m)),
            None => events.push(Event::Record(txs.next().expect("five records"))),
        }
    }
    let out: Vec<String> = AsyncIo::unordered(10)
        .run_events(stream::iter(events), delayed(&gauge))
        .map(|e| match e {
            Event::Record(c) => c.input.id.to_string(),
            Event::Marker(m) => format!("w{m}"),
        })
        .collect()
        .await;
    assert_eq!(out, ["1", "0", "w1", "3", "2", "w2", "4"]);
}

#[tokio::test(start_paused = true)]
async fn timeout_runs_from_arrival_across_retries() {
    let gauge = Gauge::default();
    let g = gauge.clone();
    // Each call fails after 800 ms; a retry 100 ms later. Calls at 0, 0.9 and 1.8 s: the third
    // is cut by the 2 s deadline.
    let failing = move |_: &u32| {
        let guard = g.enter();
        async move {
            sleep(Duration::from_millis(800)).await;
            drop(guard);
            Err::<u32, _>("unavailable")
        }
    };
    let out: Vec<_> = AsyncIo::unordered(4)
        .timeout(Duration::from_secs(2))
        .retry(Retry::fixed(Duration::from_millis(100), 10))
        .run(stream::iter([7u32]), failing)
        .collect()
        .await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].outcome, Outcome::TimedOut);
    assert_eq!(out[0].input, 7);
    assert_eq!(out[0].attempts, 3);
    assert_eq!(out[0].elapsed, Duration::from_secs(2));
    assert_eq!(
        gauge.in_flight(),
        0,
        "the call cut by the timeout was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_that_cannot_start_before_the_deadline_keeps_the_last_result() {
    let failing = |_: &u32| async { Err::<u32, _>("unavailable") };
    let out: Vec<_> = AsyncIo::unordered(4)
        .timeout(Duration::from_secs(1))
        .retry(Retry::fixed(Duration::from_millis(400), 10))
        .run(stream::iter([1u32]), failing)
        .collect()
        .await;
    // Calls at 0, 0.4 and 0.8 s; the next would start at 1.2 s, past the deadline.
    assert_eq!(out[0].outcome, Outcome::Failed("unavailable"));
    assert_eq!(out[0].attempts, 3);
    assert_eq!(out[0].elapsed, Duration::from_millis(800));
}

#[tokio::test(start_paused = true)]
async fn retry_predicates_see_errors_and_results() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    // Answers 503 twice, then 200; errors are never produced.
    let flaky = move |_: &u32| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move { Ok::<u16, &str>(if n < 2 { 503 } else { 200 }) }
    };
    let out: Vec<_> = AsyncIo::ordered(1)
        .retry(
            Retry::fixed(Duration::from_millis(10), 5)
                .retry_if_result(|status: &u16| *status >= 500),
        )
        .run(stream::iter([1u32]), flaky)
        .collect()
        .await;
    assert_eq!(out[0].outcome, Outcome::Ok(200));
    assert_eq!(out[0].attempts, 3);

    // Errors the predicate rejects are final at once.
    let fatal = |_: &u32| async { Err::<u16, &str>("bad request") };
    let out: Vec<_> = AsyncIo::ordered(1)
        .retry(
            Retry::fixed(Duration::from_millis(10), 5)
                .retry_if_error(|e: &&str| *e != "bad request"),
        )
        .run(stream::iter([1u32]), fatal)
        .collect()
        .await;
    assert_eq!(out[0].outcome, Outcome::Failed("bad request"));
    assert_eq!(out[0].attempts, 1);

    // When retries run out, a result the predicate disliked is still the result.
    let always_503 = |_: &u32| async { Ok::<u16, &str>(503) };
    let out: Vec<_> = AsyncIo::ordered(1)
        .retry(Retry::fixed(Duration::ZERO, 2).retry_if_result(|s: &u16| *s == 503))
        .run(stream::iter([1u32]), always_503)
        .collect()
        .await;
    assert_eq!(out[0].outcome, Outcome::Ok(503));
    assert_eq!(out[0].attempts, 3);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let start = Instant::now();
    let throttled = move |_: &u32| {
        let mut log = log.lock().expect("log");
        log.push(start.elapsed());
        let n = log.len();
        async move { Ok::<(u16, u64), ()>(if n == 1 { (429, 3) } else { (200, 0) }) }
    };
    let out: Vec<_> = AsyncIo::ordered(1)
        .retry(
            Retry::exponential(Duration::from_millis(10), Duration::from_millis(100), 3)
                .retry_result_with(|(status, after): &(u16, u64)| match status {
                    429 => RetryDecision::RetryAfter(Duration::from_secs(*after)),
                    _ => RetryDecision::Stop,
                }),
        )
        .run(stream::iter([1u32]), throttled)
        .collect()
        .await;
    assert_eq!(out[0].outcome, Outcome::Ok((200, 0)));
    let calls = calls.lock().expect("log").clone();
    assert_eq!(calls, [Duration::ZERO, Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_delays_grow_per_element() {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let start = Instant::now();
    let failing = move |id: &u32| {
        log.lock().expect("log").push((*id, start.elapsed()));
        async { Err::<(), _>(()) }
    };
    let _: Vec<_> = AsyncIo::unordered(2)
        .timeout(Duration::from_secs(60))
        .retry(
            Retry::exponential(Duration::from_millis(100), Duration::from_secs(1), 4)
                .full_jitter(false),
        )
        .run(stream::iter([1u32, 2]), failing)
        .collect()
        .await;
    let calls = calls.lock().expect("log").clone();
    for id in [1, 2] {
        // Each element has its own backoff: 100, 200, 400, 800 ms between its calls.
        let times: Vec<u128> = calls
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, t)| t.as_millis())
            .collect();
        assert_eq!(times, [0, 100, 300, 700, 1500], "element {id}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_caps_calls_under_a_failing_endpoint() {
    let gauge = Gauge::default();
    let g = gauge.clone();
    let failing = move |_: &u32| {
        let guard = g.enter();
        async move {
            drop(guard);
            Err::<(), _>("down")
        }
    };
    let run = |budget: Option<RetryBudget>| {
        let mut op = AsyncIo::unordered(20).retry(Retry::fixed(Duration::from_millis(5), 5));
        if let Some(b) = budget {
            op = op.retry_budget(b);
        }
        op
    };
    let out: Vec<_> = run(Some(RetryBudget::new(0.1, 0.0)))
        .run(stream::iter(0..100u32), failing.clone())
        .collect()
        .await;
    assert_eq!(out.len(), 100);
    assert!(
        out.iter()
            .all(|c| matches!(c.outcome, Outcome::Failed("down")))
    );
    // 100 first calls plus about 10% retries, instead of 600 calls.
    assert!(
        (100..=111).contains(&gauge.calls()),
        "calls {}",
        gauge.calls()
    );

    let before = gauge.calls();
    let _: Vec<_> = run(None)
        .run(stream::iter(0..100u32), failing)
        .collect()
        .await;
    assert_eq!(gauge.calls() - before, 600);
}

#[tokio::test(start_paused = true)]
async fn the_rate_limit_spaces_calls() {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let start = Instant::now();
    let quick = move |_: &u32| {
        log.lock().expect("log").push(start.elapsed());
        async { Ok::<(), ()>(()) }
    };
    let out: Vec<_> = AsyncIo::unordered(50)
        .rate_limit(RateLimit::new(10.0, 1))
        .run(stream::iter(0..20u32), quick)
        .collect()
        .await;
    assert!(out.iter().all(|c| c.outcome.is_ok()), "{out:?}");
    let calls = calls.lock().expect("log").clone();
    assert_eq!(calls.len(), 20);
    for pair in calls.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(99), "{pair:?}");
    }
    assert!(calls[19] >= Duration::from_millis(1899));
}

#[tokio::test(start_paused = true)]
async fn timeout_fallback_and_fail_fast() {
    let hang = |_: &u32| async {
        std::future::pending::<()>().await;
        Ok::<i32, ()>(1)
    };
    let out: Vec<_> = AsyncIo::unordered(4)
        .timeout(Duration::from_millis(50))
        .run(
            stream::iter([5u32]),
            with_fallback(hang, |n: &u32| -(*n as i32)),
        )
        .collect()
        .await;
    assert_eq!(out[0].outcome, Outcome::Fallback(-5));

    // Fail fast: the stream ends at the first timeout, and the rest can be drained.
    let gauge = Gauge::default();
    let mut latencies = vec![10; 8];
    latencies[2] = 10_000;
    let mut s = pin!(
        AsyncIo::ordered(8)
            .timeout(Duration::from_secs(1))
            .run(stream::iter(txs(&latencies)), delayed(&gauge))
            .fail_fast()
    );
    let mut seen = Vec::new();
    let failure = loop {
        match s.next().await {
            Some(Ok((tx, _))) => seen.push(tx.id),
            Some(Err(failure)) => break failure,
            None => panic!("the stream ended without the timeout"),
        }
    };
    assert_eq!(seen, [0, 1]);
    assert!(matches!(
        failure,
        Failure::TimedOut {
            input: Tx { id: 2, .. }
        }
    ));
    assert!(s.next().await.is_none(), "nothing after the failure");
    let rest: Vec<u32> = s
        .as_mut()
        .get_pin_mut()
        .drain()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(rest, [3, 4, 5, 6, 7]);
}

#[tokio::test(start_paused = true)]
async fn drain_returns_exactly_the_unfinished_inputs_and_cancels_their_calls() {
    let gauge = Gauge::default();
    // Capacity 6 over 10 elements: 0..6 enter; 1, 3 and 5 finish first.
    let latencies = [500, 10, 500, 20, 500, 30, 500, 500, 500, 500];
    let mut op = pin!(AsyncIo::unordered(6).run(stream::iter(txs(&latencies)), delayed(&gauge)));
    let mut emitted = Vec::new();
    for _ in 0..3 {
        emitted.push(op.next().await.map(|c| c.input.id).expect("an element"));
    }
    assert_eq!(emitted, [1, 3, 5]);
    let snapshot: Vec<u32> = op.snapshot().iter().map(|t| t.id).collect();
    let drained: Vec<u32> = op.as_mut().drain().into_iter().map(|t| t.id).collect();
    assert_eq!(snapshot, drained);
    // Every accepted element is either emitted or drained, exactly once, in arrival order.
    let accepted = op.metrics().started as usize;
    let mut all: Vec<u32> = emitted.iter().chain(&drained).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..accepted as u32).collect::<Vec<_>>());
    assert!(drained.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(gauge.in_flight(), 0, "drained calls were cancelled");
    // The operator carries on with the rest of the input.
    let rest: Vec<u32> = op.map(|c| c.input.id).collect().await;
    assert_eq!(rest.len(), 10 - accepted);
}

#[tokio::test(start_paused = true)]
async fn one_input_may_yield_zero_or_more_outputs() {
    let explode = |n: &usize| {
        let n = *n;
        async move { Ok::<Vec<usize>, ()>((0..n).collect()) }
    };
    let out: Vec<_> = AsyncIo::ordered(4)
        .run(stream::iter([0usize, 3, 1]), explode)
        .collect()
        .await;
    let flat: Vec<(usize, usize)> = out
        .into_iter()
        .flat_map(|c| {
            let input = c.input;
            c.outcome
                .value()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |o| (input, o))
        })
        .collect();
    assert_eq!(flat, [(3, 0), (3, 1), (3, 2), (1, 0)]);
}

#[tokio::test(start_paused = true)]
async fn an_empty_input_ends_at_once() {
    let f = |_: &u32| async { Ok::<(), ()>(()) };
    let out: Vec<_> = AsyncIo::unordered(0)
        .run(stream::iter(Vec::<u32>::new()), f)
        .collect()
        .await;
    assert!(out.is_empty());
}

#[test]
fn the_operator_can_move_between_threads() {
    fn assert_send<S: Send>(_: &S) {}
    let f = |n: &u32| {
        let n = *n;
        async move { Ok::<u32, std::io::Error>(n) }
    };
    let op = AsyncIo::unordered(4)
        .retry(Retry::fixed(Duration::from_millis(1), 1).retry_if_error(|_: &std::io::Error| true))
        .run(stream::iter(0..3u32), f);
    assert_send(&op);
    let events = AsyncIo::ordered(4).run_events(stream::iter([Event::<u32, u64>::Marker(1)]), f);
    assert_send(&events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_runs_inside_a_spawned_task() {
    let f = |n: &u32| {
        let n = *n;
        async move {
            tokio::task::yield_now().await;
            Ok::<u32, ()>(n * 2)
        }
    };
    let handle = tokio::spawn(async move {
        AsyncIo::unordered(8)
            .run(stream::iter(0..100u32), f)
            .map(|c| c.outcome.value().copied().unwrap_or_default())
            .collect::<Vec<u32>>()
            .await
    });
    let mut out = handle.await.expect("task");
    out.sort_unstable();
    assert_eq!(out, (0..100).map(|n| n * 2).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn absurd_durations_do_not_panic() {
    // A server asking to retry after u64::MAX seconds, with no timeout and with the largest
    // timeout: the operator neither panics nor waits past its deadline.
    let throttled = |_: &u32| async { Ok::<u16, ()>(429) };
    let retry = || {
        Retry::fixed(Duration::ZERO, 1)
            .retry_result_with(|_: &u16| RetryDecision::RetryAfter(Duration::from_secs(u64::MAX)))
    };
    let out: Vec<_> = AsyncIo::ordered(1)
        .timeout(Duration::MAX)
        .retry(retry())
        .run(stream::iter([1u32]), throttled)
        .collect()
        .await;
    // No deadline: the retry waits (a year, on the paused clock) and answers again.
    assert_eq!(out[0].outcome, Outcome::Ok(429));
    assert_eq!(out[0].attempts, 2);
    let out: Vec<_> = AsyncIo::ordered(1)
        .timeout(Duration::from_secs(1))
        .retry(retry())
        .run(stream::iter([1u32]), throttled)
        .collect()
        .await;
    // With a deadline the retry cannot fit, so the 429 is final at once.
    assert_eq!(out[0].outcome, Outcome::Ok(429));
    assert_eq!(out[0].attempts, 1);
    assert_eq!(out[0].elapsed, Duration::ZERO);
}
