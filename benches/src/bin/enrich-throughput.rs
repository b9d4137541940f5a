//! lambdakit-enrich against the Little's-law bound, a timeout storm, and retries under errors.
//!
//! Run with `cargo build --release --package lambdakit-benches --bin enrich-throughput` and
//! then `target/release/enrich-throughput` (`cargo xtask bench` runs both). It prints markdown
//! tables; `docs/benchmarks.md` records them and how to read them.
//!
//! - **Throughput.** A local SigV4-verifying endpoint (`lambdakit-test-support`'s
//!   `SignedServer`) answers every request after a fixed latency. `AsyncIo` drives
//!   `SignedClient::json` over M elements at capacity 20, 200 and 2,000, ordered and
//!   unordered, over HTTP/1.1 keep-alive (`pool_size(capacity)`) and over HTTP/2 (one
//!   connection). By Little's law the best possible rate is `capacity / latency`; each row
//!   gives the share of it reached, p50 and p99 element latency (`Completed::elapsed`),
//!   requests per element, and the CPU time each side spent per element. The first
//!   `capacity` elements are spread over one latency (`paced_inputs`) and the rate is taken
//!   from the first element out to the last. A row with a timer-only function
//!   (`tokio::time::sleep(latency)`, no HTTP) shows the operator alone.
//! - **Timeout storm.** The endpoint hangs for a window and then recovers: how many elements
//!   time out, and how long after the endpoint recovers the stream is back to full speed.
//! - **Errors.** 10% and 50% of requests answer 500: requests per element and success rate
//!   with `retry_transient(Retry::exponential(..))`, with and without a `RetryBudget`.
//!
//! The endpoint runs in a child process (this binary, `serve` mode), so that client and
//! endpoint each have their own 2-worker Tokio runtime and their CPU time can be told apart;
//! on a 2-core machine they still share the cores. `--in-process` runs the endpoint on the
//! client's runtime instead, to compare.
//!
//! Options: `--quick` (a fifth of the elements, a smoke run); `--in-process`; `--only
//! throughput|storm|errors`; `--plan CAP:LATENCY_MS:ELEMENTS,...` (the throughput rows,
//! default `20:10:10000,20:50:2000,200:50:20000,2000:500:20000`).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::{Stream, StreamExt, future, pin_mut, stream};
use lambdakit_enrich::http::{HttpVersion, Reply, SignedClient, retry_transient};
use lambdakit_enrich::{AsyncFunction, AsyncIo, Metrics, Outcome, Retry, RetryBudget};
use lambdakit_test_support::signed_server::{SignedServer, SignedServerConfig};
use lambdakit_test_support::sigv4_verify::Secret;
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

const REGION: &str = "us-east-1";
const ACCESS_KEY_ID: &str = "AKIDENRICHBENCH";
/// A fixed test value known to both sides, not a secret.
const SECRET_ACCESS_KEY: &str = "enrich-bench-secret";
const API_KEY: &str = "enrich-bench-api-key";
/// Tokio workers on each side: the machine's two cores.
const WORKERS: usize = 2;
/// The default throughput rows: capacity, endpoint latency in ms, elements. Each lasts about
/// five seconds, and the fastest asks for 4,000 calls a second, which the two cores serve with
/// room to spare (signing, HTTP and SigV4 checking cost about 150 µs of CPU per call, both
/// sides together). Capacity 20 runs twice: at 10 ms, where the endpoint's own 1 ms timer
/// resolution already costs about 10% of the bound, and at 50 ms, where it costs about 2%.
const DEFAULT_PLAN: &str = "20:10:10000,20:50:2000,200:50:20000,2000:500:20000";

/// An input element: what the blog's consumer sends to the model.
#[derive(Clone, Debug, Serialize)]
struct Tx {
    id: u64,
    amount: f64,
}

/// The model's answer.
#[derive(Debug, Deserialize)]
struct Score {
    #[allow(dead_code)] // decoded, as a real consumer would, but not used
    fraud_score: f64,
}

fn tx(id: u64) -> Tx {
    Tx {
        id,
        amount: (id % 1000) as f64 + 0.25,
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn server_config(latency: Duration, error_rate: f64) -> SignedServerConfig {
    SignedServerConfig::new(REGION)
        .credential(ACCESS_KEY_ID, Secret::new(SECRET_ACCESS_KEY))
        .api_key(API_KEY)
        .latency(latency)
        .error_rate(error_rate)
        .seed(42)
        // The log of credentials seen is for tests of credential refresh; keep its lock out
        // of the endpoint's per-request cost.
        .credential_log_capacity(0)
        .handler(|_, _| (200, br#"{"fraud_score":0.12}"#.to_vec()))
}

/// CPU time (user + system) of a process so far, from `/proc/<pid>/stat` (10 ms ticks);
/// `None` off Linux.
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux architecture Rust targets.
    Some(Duration::from_millis(ticks * 10))
}

// ---------------------------------------------------------------------------------------------
// The endpoint: in a child process (default) or on the client's runtime.

/// `enrich-throughput serve LATENCY_MS ERROR_RATE`: starts the endpoint, prints its URL, then
/// answers commands on stdin, one a line: `hang on`, `hang off`, `stats` (one JSON line);
/// ends on `quit` or end of input.
fn serve(args: &[String]) -> ExitCode {
    let (Some(Ok(latency_ms)), Some(Ok(error_rate))) = (
        args.first().map(|a| a.parse::<u64>()),
        args.get(1).map(|a| a.parse::<f64>()),
    ) else {
        eprintln!("usage: enrich-throughput serve LATENCY_MS ERROR_RATE");
        return ExitCode::from(2);
    };
    let rt = runtime();
    let server = match rt.block_on(SignedServer::start(server_config(
        Duration::from_millis(latency_ms),
        error_rate,
    ))) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("serve: cannot bind: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", server.url());
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match line.trim() {
            "hang on" => {
                server.set_hang(true);
                "ok".to_owned()
            }
            "hang off" => {
                server.set_hang(false);
                "ok".to_owned()
            }
            "stats" => {
                let s = server.stats();
                serde_json::json!({
                    "requests": s.requests(),
                    "refused": s.refused_signature() + s.refused_api_key() + s.refused_other(),
                    "injected_errors": s.injected_errors(),
                    "connections": s.connections(),
                    "cpu_ms": cpu_time("self").map(|d| d.as_millis() as u64),
                })
                .to_string()
            }
            "quit" => break,
            other => format!("error: unknown command {other:?}"),
        };
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
    rt.block_on(server.shutdown());
    ExitCode::SUCCESS
}

/// Counters of the endpoint at one instant.
#[derive(Clone, Copy, Debug, Default)]
struct EndpointStats {
    requests: u64,
    refused: u64,
    injected_errors: u64,
    connections: u64,
    /// CPU time of the endpoint's process; `None` when it shares the client's.
    cpu: Option<Duration>,
}

impl EndpointStats {
    fn since(self, before: Self) -> Self {
        Self {
            requests: self.requests - before.requests,
            refused: self.refused - before.refused,
            injected_errors: self.injected_errors - before.injected_errors,
            connections: self.connections - before.connections,
            cpu: self.cpu.zip(before.cpu).map(|(a, b)| a.saturating_sub(b)),
        }
    }
}

enum Endpoint {
    Process {
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
        url: String,
    },
    InProcess(SignedServer),
}

impl Endpoint {
    fn start(rt: &Runtime, in_process: bool, latency: Duration, error_rate: f64) -> Self {
        if in_process {
            let server = rt
                .block_on(SignedServer::start(server_config(latency, error_rate)))
                .expect("the endpoint binds a loopback port");
            return Endpoint::InProcess(server);
        }
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .args([
                "serve",
                &latency.as_millis().to_string(),
                &error_rate.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the endpoint process");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut url = String::new();
        stdout
            .read_line(&mut url)
            .expect("the endpoint prints its URL");
        assert!(url.starts_with("http://"), "endpoint said {url:?}");
        Endpoint::Process {
            child,
            stdin,
            stdout,
            url: url.trim().to_owned(),
        }
    }

    fn url(&self) -> String {
        match self {
            Endpoint::Process { url, .. } => url.clone(),
            Endpoint::InProcess(server) => server.url(),
        }
    }

    fn command(&mut self, command: &str) -> String {
        let Endpoint::Process { stdin, stdout, .. } = self else {
            unreachable!("only a child process takes commands");
        };
        writeln!(stdin, "{command}").expect("endpoint stdin");
        stdin.flush().expect("endpoint stdin");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("endpoint stdout");
        line
    }

    fn set_hang(&mut self, hang: bool) {
        match self {
            Endpoint::Process { .. } => {
                let answer = self.command(if hang { "hang on" } else { "hang off" });
                assert_eq!(answer.trim(), "ok");
            }
            Endpoint::InProcess(server) => server.set_hang(hang),
        }
    }

    fn stats(&mut self) -> EndpointStats {
        match self {
            Endpoint::Process { .. } => {
                let line = self.command("stats");
                let v: serde_json::Value = serde_json::from_str(&line).expect("stats JSON");
                let n = |k: &str| v[k].as_u64().unwrap_or(0);
                EndpointStats {
                    requests: n("requests"),
                    refused: n("refused"),
                    injected_errors: n("injected_errors"),
                    connections: n("connections"),
                    cpu: v["cpu_ms"].as_u64().map(Duration::from_millis),
                }
            }
            Endpoint::InProcess(server) => {
                let s = server.stats();
                EndpointStats {
                    requests: s.requests(),
                    refused: s.refused_signature() + s.refused_api_key() + s.refused_other(),
                    injected_errors: s.injected_errors(),
                    connections: s.connections(),
                    cpu: None,
                }
            }
        }
    }

    fn stop(self, rt: &Runtime) {
        match self {
            Endpoint::Process {
                mut child,
                mut stdin,
                ..
            } => {
                let _ = writeln!(stdin, "quit");
                drop(stdin);
                let _ = child.wait();
            }
            Endpoint::InProcess(server) => rt.block_on(server.shutdown()),
        }
    }
}

fn client(url: &str, capacity: usize, version: HttpVersion) -> SignedClient {
    SignedClient::builder(format!("{url}/prod/score"))
        .region(REGION)
        .credentials(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "enrich-throughput",
        )))
        .api_key(API_KEY)
        .pool_size(capacity)
        .http_version(version)
        .build()
        .expect("a valid client configuration")
}

// ---------------------------------------------------------------------------------------------
// Driving the operator.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ok,
    TimedOut,
    Failed,
}

/// What one run produced.
struct Run {
    wall: Duration,
    /// Per element: when it left (since the start), how, and its `Completed::elapsed`.
    emitted: Vec<(Duration, Kind, Duration)>,
    metrics: Metrics,
    client_cpu: Option<Duration>,
}

impl Run {
    fn len(&self) -> usize {
        self.emitted.len()
    }

    fn count(&self, kind: Kind) -> usize {
        self.emitted.iter().filter(|e| e.1 == kind).count()
    }

    fn throughput(&self) -> f64 {
        self.len() as f64 / self.wall.as_secs_f64()
    }

    /// Elements per second between the first element out and the last: the steady rate,
    /// without the first latency period, when nothing can have finished yet.
    fn steady_throughput(&self) -> f64 {
        match (self.emitted.first(), self.emitted.last()) {
            (Some(first), Some(last)) if last.0 > first.0 => {
                (self.len() - 1) as f64 / (last.0 - first.0).as_secs_f64()
            }
            _ => self.throughput(),
        }
    }

    /// Nearest-rank percentile of element latency.
    fn latency(&self, p: f64) -> Duration {
        let mut l: Vec<Duration> = self.emitted.iter().map(|e| e.2).collect();
        l.sort_unstable();
        let rank = ((p * l.len() as f64).ceil() as usize).clamp(1, l.len().max(1));
        l.get(rank - 1).copied().unwrap_or_default()
    }

    fn mean_latency(&self) -> Duration {
        let total: Duration = self.emitted.iter().map(|e| e.2).sum();
        total / u32::try_from(self.len().max(1)).unwrap_or(u32::MAX)
    }
}

/// Runs `io` over `input` with `function` on a runtime worker and records every element.
fn drive<S, F, O, E>(
    rt: &Runtime,
    io: AsyncIo<O, E>,
    input: S,
    function: F,
    ok: fn(&O) -> bool,
) -> Run
where
    S: Stream<Item = Tx> + Send + 'static,
    F: AsyncFunction<Tx, Output = O, Error = E> + Send + 'static,
    F::Future: Send,
    O: Send + 'static,
    E: Send + 'static,
{
    let cpu_before = cpu_time("self");
    let task = rt.spawn(async move {
        let started = Instant::now();
        let out = io.run(input, function);
        pin_mut!(out);
        let mut emitted = Vec::new();
        while let Some(done) = out.next().await {
            let kind = match &done.outcome {
                Outcome::Ok(value) if ok(value) => Kind::Ok,
                Outcome::TimedOut => Kind::TimedOut,
                _ => Kind::Failed,
            };
            emitted.push((started.elapsed(), kind, done.elapsed));
        }
        (started.elapsed(), emitted, out.metrics())
    });
    let (wall, emitted, metrics) = rt.block_on(task).expect("the run does not panic");
    let client_cpu = cpu_time("self")
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));
    Run {
        wall,
        emitted,
        metrics,
        client_cpu,
    }
}

fn inputs(n: u64) -> impl Stream<Item = Tx> + Send + 'static {
    stream::iter((0..n).map(tx))
}

/// `n` elements, the first `capacity` of them spread evenly over one `latency`, the rest as
/// fast as the operator takes them.
///
/// Started all at once, with a fixed latency, the calls would stay in lockstep: waves of
/// `capacity` requests reaching the endpoint within a millisecond, then nothing. Spreading
/// the first ones gives the steady stream of arrivals and completions that a real source and
/// a real endpoint (whose latency varies) produce, and that Little's law describes.
fn paced_inputs(
    n: u64,
    capacity: usize,
    latency: Duration,
) -> impl Stream<Item = Tx> + Send + 'static {
    let start = tokio::time::Instant::now();
    stream::iter(0..n).then(move |i| async move {
        if i < capacity as u64 {
            let offset = latency.mul_f64(i as f64 / capacity as f64);
            tokio::time::sleep_until(start + offset).await;
        }
        tx(i)
    })
}

fn is_2xx<R>(reply: &Reply<R>) -> bool {
    reply.status.is_success()
}

fn always<T>(_: &T) -> bool {
    true
}

fn mode(ordered: bool, capacity: usize) -> AsyncIo<Reply<Score>, lambdakit_enrich::http::Error> {
    if ordered {
        AsyncIo::ordered(capacity)
    } else {
        AsyncIo::unordered(capacity)
    }
}

/// Opens the client's connections (HTTP/1.1: one per slot) before anything is timed.
fn warm_up(rt: &Runtime, client: &SignedClient, capacity: usize) {
    let run = drive(
        rt,
        AsyncIo::unordered(capacity),
        inputs(2 * capacity as u64),
        client.json::<Score>(),
        is_2xx,
    );
    assert_eq!(
        run.count(Kind::Ok),
        run.len(),
        "warm-up calls must succeed (signature, API key)"
    );
}

// ---------------------------------------------------------------------------------------------
// Reporting.

/// `1234567` as `1,234,567`.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn us_per(d: Option<Duration>, n: usize) -> String {
    d.map_or_else(
        || "n/a".to_owned(),
        |d| format!("{:.0}", d.as_secs_f64() * 1e6 / n.max(1) as f64),
    )
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

struct Options {
    quick: bool,
    in_process: bool,
    only: Option<String>,
    plan: Vec<(usize, Duration, u64)>,
}

fn parse_plan(plan: &str) -> Option<Vec<(usize, Duration, u64)>> {
    plan.split(',')
        .map(|row| {
            let mut parts = row.split(':').map(str::parse::<u64>);
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(Ok(cap)), Some(Ok(ms)), Some(Ok(n)), None) if cap > 0 && n > 0 => {
                    Some((cap as usize, Duration::from_millis(ms), n))
                }
                _ => None,
            }
        })
        .collect()
}

fn throughput(rt: &Runtime, options: &Options) -> String {
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| function | mode | capacity | latency | elements | time (s) | steady throughput (/s) | bound (/s) | % of bound | p50 (ms) | p99 (ms) | mean in flight | requests/element | client CPU (µs/element) | endpoint CPU (µs/element) |"
    );
    let _ = writeln!(
        table,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for &(capacity, latency, n) in &options.plan {
        let n = if options.quick { (n / 5).max(1) } else { n };
        let bound = capacity as f64 / latency.as_secs_f64();
        let mut row = |name: &str,
                       ordered: bool,
                       run: &Run,
                       requests: Option<u64>,
                       endpoint_cpu: Option<Duration>| {
            let line = format!(
                "| {name} | {} | {} | {} ms | {} | {:.2} | {} | {} | **{:.1}%** | {} | {} | {:.0} | {} | {} | {} |",
                if ordered { "ordered" } else { "unordered" },
                thousands(capacity as f64),
                latency.as_millis(),
                thousands(run.len() as f64),
                run.wall.as_secs_f64(),
                thousands(run.steady_throughput()),
                thousands(bound),
                100.0 * run.steady_throughput() / bound,
                ms(run.latency(0.50)),
                ms(run.latency(0.99)),
                // Little's law backwards: the average number of elements the operator kept
                // in flight, whatever the latency turned out to be.
                run.steady_throughput() * run.mean_latency().as_secs_f64(),
                requests.map_or_else(
                    || format!("{:.3}", run.metrics.attempts as f64 / run.len() as f64),
                    |r| format!("{:.3}", r as f64 / run.len() as f64),
                ),
                us_per(run.client_cpu, run.len()),
                us_per(endpoint_cpu, run.len()),
            );
            eprintln!("{line}");
            let _ = writeln!(table, "{line}");
            let bad = run.len() - run.count(Kind::Ok);
            assert_eq!(bad, 0, "{name}: {bad} elements did not succeed");
        };

        for ordered in [false, true] {
            let sleep = move |x: &Tx| {
                let id = x.id;
                async move {
                    tokio::time::sleep(latency).await;
                    Ok::<u64, ()>(id)
                }
            };
            let io = if ordered {
                AsyncIo::ordered(capacity)
            } else {
                AsyncIo::unordered(capacity)
            };
            let run = drive(rt, io, paced_inputs(n, capacity, latency), sleep, always);
            row("timer only (no HTTP)", ordered, &run, None, None);
        }

        let mut endpoint = Endpoint::start(rt, options.in_process, latency, 0.0);
        for (name, version) in [
            ("SignedClient HTTP/1.1", HttpVersion::Http1),
            ("SignedClient HTTP/2", HttpVersion::Http2),
        ] {
            let client = client(&endpoint.url(), capacity, version);
            for ordered in [false, true] {
                warm_up(rt, &client, capacity);
                let before = endpoint.stats();
                let run = drive(
                    rt,
                    mode(ordered, capacity),
                    paced_inputs(n, capacity, latency),
                    client.json::<Score>(),
                    is_2xx,
                );
                let seen = endpoint.stats().since(before);
                assert_eq!(seen.refused, 0, "the endpoint refused requests");
                row(name, ordered, &run, Some(seen.requests), seen.cpu);
            }
        }
        endpoint.stop(rt);
    }
    table
}

/// The endpoint hangs for a while during a steady stream; elements time out, then it recovers.
fn storm(rt: &Runtime, options: &Options) -> String {
    const CAPACITY: usize = 200;
    const LATENCY: Duration = Duration::from_millis(50);
    const TIMEOUT: Duration = Duration::from_secs(1);
    const BEFORE: Duration = Duration::from_secs(3);
    // Not a multiple of the timeout: the calls that hang time out in waves one timeout
    // apart, and when the hang ends mid-way between two waves the stream recovers half a
    // timeout later (a multiple would look better than typical, just past one, worse).
    const HANG: Duration = Duration::from_millis(2500);
    const AFTER: Duration = Duration::from_millis(3500);
    const BUCKET: Duration = Duration::from_millis(100);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "| transport | before (/s) | during the hang: ok, timed out | timed out in all | back to 90% after | new connections | requests/element |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut timelines = String::new();
    for (name, version) in [
        ("HTTP/1.1", HttpVersion::Http1),
        ("HTTP/2", HttpVersion::Http2),
    ] {
        let mut endpoint = Endpoint::start(rt, options.in_process, LATENCY, 0.0);
        let client = client(&endpoint.url(), CAPACITY, version);
        warm_up(rt, &client, CAPACITY);
        let before = endpoint.stats();
        let total = BEFORE + HANG + AFTER;
        let start = Instant::now();
        let input = paced_inputs(u64::MAX, CAPACITY, LATENCY)
            .take_while(move |_| future::ready(start.elapsed() < total));
        let io = AsyncIo::unordered(CAPACITY).timeout(TIMEOUT);
        let (run, (hang_on, hang_off)) = std::thread::scope(|s| {
            let control = s.spawn(|| {
                std::thread::sleep(BEFORE.saturating_sub(start.elapsed()));
                let on = start.elapsed();
                endpoint.set_hang(true);
                std::thread::sleep(HANG);
                let off = start.elapsed();
                endpoint.set_hang(false);
                (on, off)
            });
            let run = drive(rt, io, input, client.json::<Score>(), is_2xx);
            (
                run,
                control.join().expect("the control thread does not panic"),
            )
        });
        let seen = endpoint.stats().since(before);
        endpoint.stop(rt);

        // The run started a few µs after `start`; the difference is below a bucket.
        let buckets = (run.wall.as_millis() / BUCKET.as_millis() + 1) as usize;
        let mut ok = vec![0usize; buckets];
        let mut timed_out = vec![0usize; buckets];
        for &(at, kind, _) in &run.emitted {
            let b = (at.as_millis() / BUCKET.as_millis()) as usize;
            match kind {
                Kind::Ok => ok[b] += 1,
                Kind::TimedOut => timed_out[b] += 1,
                Kind::Failed => {}
            }
        }
        let per_s = BUCKET.as_secs_f64();
        let steady = |from: Duration, to: Duration| {
            run.emitted
                .iter()
                .filter(|e| e.1 == Kind::Ok && e.0 >= from && e.0 < to)
                .count() as f64
                / (to - from).as_secs_f64()
        };
        let rate_before = steady(Duration::from_secs(1), hang_on);
        let in_hang = |kind| {
            run.emitted
                .iter()
                .filter(|e| e.1 == kind && e.0 >= hang_on && e.0 < hang_off)
                .count()
        };
        let first_after = (hang_off.as_millis() / BUCKET.as_millis()) as usize + 1;
        let recovered = (first_after..buckets)
            .find(|&b| ok[b] as f64 / per_s >= 0.9 * rate_before)
            .map(|b| Duration::from_millis(((b + 1) as u64) * BUCKET.as_millis() as u64));
        let line = format!(
            "| {name} | {} | {}, {} | {} | {} | {} | {:.3} |",
            thousands(rate_before),
            thousands(in_hang(Kind::Ok) as f64),
            thousands(in_hang(Kind::TimedOut) as f64),
            thousands(run.count(Kind::TimedOut) as f64),
            recovered.map_or_else(
                || "not within the run".to_owned(),
                |at| format!("{:.1} s", at.saturating_sub(hang_off).as_secs_f64())
            ),
            seen.connections,
            seen.requests as f64 / run.len() as f64,
        );
        eprintln!("{line}");
        let _ = writeln!(out, "{line}");

        // Half-second timeline: successes and timeouts per second.
        let _ = writeln!(
            timelines,
            "\n{name}, hang from {:.1} s to {:.1} s; per 0.5 s, ok/s (timed out/s):\n",
            hang_on.as_secs_f64(),
            hang_off.as_secs_f64()
        );
        let mut cells = Vec::new();
        for (i, chunk) in ok.chunks(5).zip(timed_out.chunks(5)).enumerate() {
            let (o, t): (usize, usize) = (chunk.0.iter().sum(), chunk.1.iter().sum());
            cells.push(format!(
                "{:.1}s {} ({})",
                i as f64 * 0.5,
                thousands(o as f64 * 2.0),
                thousands(t as f64 * 2.0)
            ));
        }
        let _ = writeln!(timelines, "    {}", cells.join(" | "));
    }
    let _ = write!(
        out,
        "\nCapacity {CAPACITY}, latency {} ms, timeout {} s, unordered; the endpoint hangs from {} s to {} s.\n{timelines}",
        LATENCY.as_millis(),
        TIMEOUT.as_secs(),
        BEFORE.as_secs_f64(),
        (BEFORE + HANG).as_secs_f64()
    );
    out
}

/// Requests per element and success rate with injected 500s, with and without a budget.
fn errors(rt: &Runtime, options: &Options) -> String {
    const CAPACITY: usize = 200;
    const LATENCY: Duration = Duration::from_millis(50);
    let n: u64 = if options.quick { 2_000 } else { 10_000 };
    let retry = || Retry::exponential(Duration::from_millis(20), Duration::from_secs(1), 3);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "| error rate | retry budget | requests/element | retries | retries denied | success | failed | throughput (/s) | p50 (ms) | p99 (ms) |"
    );
    let _ = writeln!(
        out,
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for error_rate in [0.0, 0.1, 0.5] {
        let mut endpoint = Endpoint::start(rt, options.in_process, LATENCY, error_rate);
        let client = client(&endpoint.url(), CAPACITY, HttpVersion::Http1);
        let budgets: &[Option<(f64, f64)>] = if error_rate == 0.0 {
            &[None]
        } else {
            &[None, Some((0.2, 5.0))]
        };
        for &budget in budgets {
            // Warm-up without retries: some of its calls get the injected error.
            let _ = drive(
                rt,
                AsyncIo::unordered(CAPACITY),
                inputs(2 * CAPACITY as u64),
                client.json::<Score>(),
                is_2xx,
            );
            let mut io = AsyncIo::unordered(CAPACITY)
                .retry(retry_transient(retry()))
                .jitter_seed(7);
            if let Some((ratio, reserve)) = budget {
                io = io.retry_budget(RetryBudget::new(ratio, reserve));
            }
            let before = endpoint.stats();
            let run = drive(rt, io, inputs(n), client.json::<Score>(), is_2xx);
            let seen = endpoint.stats().since(before);
            let line = format!(
                "| {:.0}% | {} | {:.3} | {} | {} | {:.2}% | {} | {} | {} | {} |",
                error_rate * 100.0,
                budget.map_or_else(
                    || "none".to_owned(),
                    |(r, s)| format!("`RetryBudget::new({r}, {s})`")
                ),
                seen.requests as f64 / run.len() as f64,
                thousands(run.metrics.retries as f64),
                thousands(run.metrics.retries_denied as f64),
                100.0 * run.count(Kind::Ok) as f64 / run.len() as f64,
                thousands((run.len() - run.count(Kind::Ok)) as f64),
                thousands(run.throughput()),
                ms(run.latency(0.50)),
                ms(run.latency(0.99)),
            );
            eprintln!("{line}");
            let _ = writeln!(out, "{line}");
        }
        endpoint.stop(rt);
    }
    let _ = write!(
        out,
        "\n{} elements per row, capacity {CAPACITY}, unordered, HTTP/1.1, latency {} ms, injected `500`; `retry_transient(Retry::exponential(20 ms, 1 s, 3))` (up to 4 calls per element), default 30 s timeout.\n",
        thousands(n as f64),
        LATENCY.as_millis()
    );
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1..]);
    }
    let mut options = Options {
        quick: false,
        in_process: false,
        only: None,
        plan: parse_plan(DEFAULT_PLAN).expect("the default plan parses"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--in-process" => options.in_process = true,
            "--only" => options.only = it.next().cloned(),
            "--plan" => match it.next().and_then(|p| parse_plan(p)) {
                Some(plan) => options.plan = plan,
                None => {
                    eprintln!("--plan takes CAP:LATENCY_MS:ELEMENTS[,...]");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!(
                    "usage: enrich-throughput [--quick] [--in-process] [--only throughput|storm|errors] [--plan CAP:LATENCY_MS:ELEMENTS,...]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let wanted = |name: &str| options.only.as_deref().is_none_or(|o| o == name);
    let rt = runtime();
    println!(
        "enrich-throughput: {WORKERS} Tokio workers, endpoint {}\n",
        if options.in_process {
            "on the same runtime"
        } else {
            "in its own process (2 workers)"
        }
    );
    if wanted("throughput") {
        println!(
            "## Throughput against capacity / latency\n\n{}",
            throughput(&rt, &options)
        );
    }
    if wanted("storm") {
        println!("## Timeout storm\n\n{}", storm(&rt, &options));
    }
    if wanted("errors") {
        println!(
            "## Injected errors and retries\n\n{}",
            errors(&rt, &options)
        );
    }
    ExitCode::SUCCESS
}
