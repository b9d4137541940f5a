//! Ordering, segment and capacity guarantees under random latencies (property tests on Tokio's
//! paused clock).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use lambdakit_enrich::{AsyncIo, Event, Outcome, Retry};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum In {
    Record { latency_ms: u64 },
    Marker,
}

fn inputs() -> impl Strategy<Value = Vec<In>> {
    prop::collection::vec(
        prop_oneof![
            6 => (0u64..40).prop_map(|latency_ms| In::Record { latency_ms }),
            1 => Just(In::Marker),
        ],
        0..60,
    )
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Out {
    Record(usize),
    Marker(usize),
}

struct Run {
    out: Vec<Out>,
    max_in_flight: usize,
    max_occupancy: usize,
}

fn run(inputs: &[In], capacity: usize, ordered: bool) -> Run {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let events: Vec<Event<(usize, u64), usize>> = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            In::Record { latency_ms } => Event::Record((i, *latency_ms)),
            In::Marker => Event::Marker(i),
        })
        .collect();
    let now = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (n, m) = (now.clone(), max.clone());
    let call = move |x: &(usize, u64)| {
        let (id, latency) = *x;
        let c = n.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(c, Ordering::SeqCst);
        let n = n.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(latency)).await;
            n.fetch_sub(1, Ordering::SeqCst);
            Ok::<usize, ()>(id)
        }
    };
    let op = if ordered {
        AsyncIo::ordered(capacity)
    } else {
        AsyncIo::unordered(capacity)
    };
    runtime.block_on(async move {
        let mut s = Box::pin(op.run_events(stream::iter(events), call));
        let mut out = Vec::new();
        while let Some(e) = s.next().await {
            out.push(match e {
                Event::Record(done) => {
                    assert_eq!(done.outcome.value(), Some(&done.input.0), "paired");
                    Out::Record(done.input.0)
                }
                Event::Marker(i) => Out::Marker(i),
            });
        }
        Run {
            out,
            max_in_flight: max.load(Ordering::SeqCst),
            max_occupancy: s.metrics().max_occupancy,
        }
    })
}

fn expected_in_order(inputs: &[In]) -> Vec<Out> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            In::Record { .. } => Out::Record(i),
            In::Marker => Out::Marker(i),
        })
        .collect()
}

/// Splits a sequence into its segments: the set of records between consecutive markers, and
/// the markers themselves.
fn segments(seq: &[Out]) -> (Vec<BTreeSet<usize>>, Vec<usize>) {
    let mut sets = vec![BTreeSet::new()];
    let mut markers = Vec::new();
    for x in seq {
        match x {
            Out::Record(i) => {
                sets.last_mut().map(|s| s.insert(*i));
            }
            Out::Marker(i) => {
                markers.push(*i);
                sets.push(BTreeSet::new());
            }
        }
    }
    (sets, markers)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ordered_output_is_exactly_the_input_order(inputs in inputs(), capacity in 1usize..8) {
        let run = run(&inputs, capacity, true);
        prop_assert_eq!(run.out, expected_in_order(&inputs));
        prop_assert!(run.max_in_flight <= capacity);
        prop_assert!(run.max_occupancy <= capacity);
    }

    #[test]
    fn unordered_output_reorders_only_within_segments(inputs in inputs(), capacity in 1usize..8) {
        let run = run(&inputs, capacity, false);
        let expected = expected_in_order(&inputs);
        prop_assert_eq!(run.out.len(), expected.len(), "every element exactly once");
        // Same records between the same markers, markers in input order: neither results nor
        // markers overtake each other.
        prop_assert_eq!(segments(&run.out), segments(&expected));
        prop_assert!(run.max_in_flight <= capacity);
        prop_assert!(run.max_occupancy <= capacity);
    }

    #[test]
    fn unordered_without_markers_emits_in_completion_order(
        latencies in prop::collection::vec(0u64..1000, 1..40),
    ) {
        // With capacity above the input size every call starts at time zero, so completion
        // order is latency order (ties in arrival order).
        let inputs: Vec<In> = latencies.iter().map(|&latency_ms| In::Record { latency_ms }).collect();
        let run = run(&inputs, latencies.len(), false);
        let mut by_latency: Vec<usize> = (0..latencies.len()).collect();
        by_latency.sort_by_key(|&i| (latencies[i], i));
        let got: Vec<usize> = run.out.iter().map(|o| match o { Out::Record(i) | Out::Marker(i) => *i }).collect();
        let got_latencies: Vec<u64> = got.iter().map(|&i| latencies[i]).collect();
        let mut sorted = got_latencies.clone();
        sorted.sort_unstable();
        prop_assert_eq!(got_latencies, sorted);
    }

    #[test]
    fn drain_at_any_point_returns_exactly_the_unemitted_inputs(
        latencies in prop::collection::vec(0u64..50, 1..40),
        capacity in 1usize..10,
        take in 0usize..40,
        ordered: bool,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        let n = latencies.len();
        let (emitted, drained, accepted) = runtime.block_on(async {
            let call = |x: &(usize, u64)| {
                let latency = x.1;
                async move {
                    tokio::time::sleep(Duration::from_millis(latency)).await;
                    Ok::<(), ()>(())
                }
            };
            let op = if ordered { AsyncIo::ordered(capacity) } else { AsyncIo::unordered(capacity) };
            let input: Vec<(usize, u64)> = latencies.iter().copied().enumerate().collect();
            let mut s = Box::pin(op.run(stream::iter(input), call));
            let emitted: Vec<usize> = s.as_mut().take(take.min(n)).map(|c| c.input.0).collect().await;
            let accepted = s.metrics().started as usize;
            let drained: Vec<usize> = s.as_mut().drain().into_iter().map(|x| x.0).collect();
            (emitted, drained, accepted)
        });
        // Arrival order, no duplicates, nothing lost: emitted + drained = accepted.
        prop_assert!(drained.windows(2).all(|w| w[0] < w[1]));
        let mut all: Vec<usize> = emitted.iter().chain(&drained).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..accepted).collect::<Vec<_>>());
        prop_assert!(drained.len() <= capacity);
    }
    #[test]
    fn every_call_past_its_deadline_times_out_exactly_then(
        // `None` hangs forever; latencies (plus the 5 ms retry delay) avoid the 100 ms deadline, where a tie
        // between the call and the timeout could go either way.
        latencies in prop::collection::vec(
            prop_oneof![(0u64..94).prop_map(Some), (101u64..300).prop_map(Some), Just(None)],
            1..60,
        ),
        capacity in 1usize..12,
        ordered: bool,
        first_fails: bool,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        let out = runtime.block_on(async {
            // With `first_fails`, each first call fails at once and is retried after 5 ms, so
            // timeouts also run across a retry (and re-arm the operator's timer earlier).
            let call = move |x: &(usize, Option<u64>, std::sync::Arc<AtomicUsize>)| {
                let latency = x.1;
                let attempt = x.2.fetch_add(1, Ordering::SeqCst);
                async move {
                    if first_fails && attempt == 0 {
                        return Err(());
                    }
                    match latency {
                        Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        None => std::future::pending::<()>().await,
                    }
                    Ok::<(), ()>(())
                }
            };
            let op = if ordered { AsyncIo::ordered(capacity) } else { AsyncIo::unordered(capacity) };
            let input: Vec<_> = latencies
                .iter()
                .enumerate()
                .map(|(i, l)| (i, *l, std::sync::Arc::new(AtomicUsize::new(0))))
                .collect();
            op.timeout(Duration::from_millis(100))
                .retry(Retry::fixed(Duration::from_millis(5), 1))
                .run(stream::iter(input), call)
                .collect::<Vec<_>>()
                .await
        });
        prop_assert_eq!(out.len(), latencies.len());
        let delay = if first_fails { 5 } else { 0 };
        for done in &out {
            let latency = done.input.1.map(|ms| ms + delay);
            match latency {
                Some(ms) if ms < 100 => {
                    prop_assert_eq!(&done.outcome, &Outcome::Ok(()));
                    prop_assert_eq!(done.elapsed, Duration::from_millis(ms));
                }
                _ => {
                    prop_assert_eq!(&done.outcome, &Outcome::TimedOut);
                    prop_assert_eq!(done.elapsed, Duration::from_millis(100));
                }
            }
        }
    }
}
