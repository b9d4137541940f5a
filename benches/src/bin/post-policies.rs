//! Signs N presigned POST policies in-process and prints one JSON line with the rate.
//!
//! Run with `cargo build --release -p lambdakit-benches --bin post-policies` and then
//! `target/release/post-policies 200000`; `benches/post_vs_boto3.py` runs it next to boto3's
//! `generate_presigned_post` with the same inputs (`cargo xtask bench` runs both).
//!
//! Each policy is signed at the current time, as boto3 does, so the clock read is in both
//! timings. The line also holds the last signed form (URL and fields) so the script can
//! check both sides produced the same policy.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use lambdakit_benches::{credentials, post_policy, presigner};

/// Policies signed (and not timed) before the timed run: first-use costs such as the
/// signing-key derivation stay out of the rate.
const WARM_UP: u64 = 1_000;

fn main() -> ExitCode {
    let n = match std::env::args().nth(1).map(|arg| arg.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("usage: post-policies N (N > 0: how many policies to sign)");
            return ExitCode::from(2);
        }
    };
    let presigner = presigner();
    let creds = credentials();
    let policy = post_policy();

    for _ in 0..WARM_UP {
        black_box(
            policy
                .sign(&presigner, &creds, SystemTime::now())
                .expect("the benchmark policy signs"),
        );
    }
    let start = Instant::now();
    let mut last = None;
    for _ in 0..n {
        last = Some(black_box(
            black_box(&policy)
                .sign(&presigner, &creds, SystemTime::now())
                .expect("the benchmark policy signs"),
        ));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let last = last.expect("n > 0, so one policy was signed");

    println!(
        "{}",
        serde_json::json!({
            "implementation": "lambdakit-upload",
            "n": n,
            "elapsed_s": elapsed,
            "per_second": n as f64 / elapsed,
            "url": last.url,
            // Pairs, not an object: serde_json's map would sort the names, and the
            // script checks their order.
            "fields": last.fields.iter().collect::<Vec<_>>(),
        })
    );
    ExitCode::SUCCESS
}
