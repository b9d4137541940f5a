//! Per-element overhead of lambdakit-enrich's operator against `futures`' own
//! `buffer_unordered` and `buffered`.
//!
//! Run with `cargo bench --package lambdakit-benches --bench enrich` (or `cargo xtask bench`).
//!
//! Every variant runs the same N = 10,000 elements through the same trivial function
//! (`Ok::<u64, ()>(x)`) at the same capacity (20 and 200) on a current-thread Tokio runtime,
//! and sums the results, so what differs is only the adapter: the work per element that the
//! operator adds (its queue, its clock reads, its timeout timer, its counters) on top of the
//! `FuturesUnordered` both sides use. Throughput is in elements, so criterion's `thrpt` line is
//! elements per second.
//!
//! - `enrich_ready`: the future is ready at its first poll, so no timeout machinery runs: this
//!   is the floor.
//! - `enrich_yield_once`: the future yields once (`tokio::task::yield_now`) before answering, so
//!   it is pending at its first poll, as every real call is. With a timeout configured, the
//!   operator keeps the call's waker for its one operator-wide timeout timer: this is the path
//!   that counts for real use.

use std::future::Future;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{Stream, StreamExt, pin_mut, stream};
use lambdakit_enrich::{AsyncIo, Outcome};

/// Elements per iteration.
const N: u64 = 10_000;

/// Capacities compared: the blog's 20, and ten times that.
const CAPACITIES: [usize; 2] = [20, 200];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn input() -> impl Stream<Item = u64> {
    stream::iter(0..black_box(N))
}

async fn ready(x: u64) -> Result<u64, ()> {
    Ok(x)
}

async fn yield_once(x: u64) -> Result<u64, ()> {
    tokio::task::yield_now().await;
    Ok(x)
}

/// Sums a stream of plain results (the `futures` peers).
async fn sum_results(results: impl Stream<Item = Result<u64, ()>>) -> u64 {
    pin_mut!(results);
    let mut sum = 0;
    while let Some(r) = results.next().await {
        sum += r.unwrap_or(0);
    }
    assert_eq!(sum, N * (N - 1) / 2, "every element came out once");
    sum
}

/// Sums the values the operator emits.
async fn sum_outcomes<S>(done: S) -> u64
where
    S: Stream<Item = lambdakit_enrich::Completed<u64, u64, ()>>,
{
    pin_mut!(done);
    let mut sum = 0;
    while let Some(c) = done.next().await {
        if let Outcome::Ok(v) = c.outcome {
            sum += v;
        }
    }
    assert_eq!(sum, N * (N - 1) / 2, "every element came out once");
    sum
}

/// One group: the five adapters at each capacity, over futures made by `call` (a function
/// item, so every adapter gets it inlined alike).
fn compare<F, Fut>(c: &mut Criterion, group: &str, call: F)
where
    F: Fn(u64) -> Fut + Copy,
    Fut: Future<Output = Result<u64, ()>>,
{
    let rt = runtime();
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(N));
    for cap in CAPACITIES {
        group.bench_with_input(
            BenchmarkId::new("buffer_unordered", cap),
            &cap,
            |b, &cap| {
                b.to_async(&rt)
                    .iter(|| sum_results(input().map(call).buffer_unordered(cap)));
            },
        );
        group.bench_with_input(BenchmarkId::new("buffered", cap), &cap, |b, &cap| {
            b.to_async(&rt)
                .iter(|| sum_results(input().map(call).buffered(cap)));
        });
        // The default 30 s timeout is on: the operator as a user gets it.
        group.bench_with_input(BenchmarkId::new("unordered", cap), &cap, |b, &cap| {
            b.to_async(&rt).iter(|| {
                sum_outcomes(AsyncIo::unordered(cap).run(input(), move |x: &u64| call(*x)))
            });
        });
        group.bench_with_input(
            BenchmarkId::new("unordered_no_timeout", cap),
            &cap,
            |b, &cap| {
                b.to_async(&rt).iter(|| {
                    sum_outcomes(
                        AsyncIo::unordered(cap)
                            .no_timeout()
                            .run(input(), move |x: &u64| call(*x)),
                    )
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("ordered", cap), &cap, |b, &cap| {
            b.to_async(&rt)
                .iter(|| sum_outcomes(AsyncIo::ordered(cap).run(input(), move |x: &u64| call(*x))));
        });
    }
    group.finish();
}

fn enrich_ready(c: &mut Criterion) {
    compare(c, "enrich_ready", ready);
}

fn enrich_yield_once(c: &mut Criterion) {
    compare(c, "enrich_yield_once", yield_once);
}

criterion_group!(benches, enrich_ready, enrich_yield_once);
criterion_main!(benches);
