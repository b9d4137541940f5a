//! One case of the image benchmark through lambdakit-image, on one thread: time per image,
//! output, CPU time and peak memory, as one JSON line.
//!
//! Run with `cargo build --release --package lambdakit-benches --bin image-transform` and then
//! `node benches/image_vs_sharp.mjs target/release/image-transform`, which runs this binary
//! and sharp on the same input, case by case, and prints the ratios. By hand:
//!
//! ```text
//! target/release/image-transform CASE [--input FILE] [--overlay FILE] [--warmup W]
//!     [--rounds R] [--n N] [--out FILE] [--once]
//! ```
//!
//! CASE is one of the cases below (`resize-jpeg`, `grayscale-jpeg`, `watermark-jpeg`,
//! `resize-png`, `resize-webp`, `sepia-jpeg`, `clahe-jpeg`), each a Serverless Image Handler Default request: the edits
//! object and the output format go to `Plan::new`, then `transform(input, plan, overlay,
//! Limits::default())` runs `W` untimed times (default 2) and then `R` rounds (default 5) of
//! `N` images (default 10), one after the other on this thread. The input defaults to
//! `benches/fixtures/photo-12mp.jpg` and the overlay to `benches/fixtures/watermark.png` (read
//! once, before the clock starts; the overlay is passed only to a plan that asks for one, as
//! the handler would after fetching it).
//!
//! It prints one JSON line: the fastest round's and the median round's time per image, the
//! first transform's time (a cold process: nothing warmed up), CPU time per image (user +
//! system from `/proc/self/stat`), the output's format, dimensions and size, and the
//! process's resident memory before the first transform and at its peak (`VmRSS` and `VmHWM`
//! from `/proc/self/status`: the kernel's own maximum resident set size). The last output is
//! written to `--out` when given.
//!
//! `--once` is the cold start: read the input, transform once, write `--out`, print the line,
//! exit. The script times it from process start to that line.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use lambdakit_benches::cpu_time;
use lambdakit_image::{Edits, Format, Limits, Plan, Transformed, transform};
use serde_json::json;

/// The benchmark's cases: name, SIH Default request edits, output format.
const CASES: &[(&str, &str, Format)] = &[
    ("resize-jpeg", r#"{"resize":{"width":800}}"#, Format::Jpeg),
    (
        "grayscale-jpeg",
        r#"{"resize":{"width":800},"grayscale":true}"#,
        Format::Jpeg,
    ),
    (
        "watermark-jpeg",
        r#"{"resize":{"width":800},"overlayWith":{"bucket":"bench-images","key":"watermark.png","wRatio":"15","alpha":"20","options":{"left":"-24","top":"-24"}}}"#,
        Format::Jpeg,
    ),
    ("resize-png", r#"{"resize":{"width":800}}"#, Format::Png),
    ("resize-webp", r#"{"resize":{"width":800}}"#, Format::Webp),
    (
        "sepia-jpeg",
        r#"{"resize":{"width":800},"recomb":[[0.3588,0.7044,0.1368],[0.299,0.587,0.114],[0.2392,0.4696,0.0912]]}"#,
        Format::Jpeg,
    ),
    (
        "clahe-jpeg",
        r#"{"resize":{"width":800},"clahe":{"width":32,"height":32}}"#,
        Format::Jpeg,
    ),
];

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`), or zero where unavailable.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

struct Options {
    case: String,
    input: PathBuf,
    overlay: PathBuf,
    warmup: usize,
    rounds: usize,
    n: usize,
    out: Option<PathBuf>,
    once: bool,
}

fn parse_args() -> Result<Options, String> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut args = std::env::args().skip(1);
    let case = args.next().ok_or("missing CASE")?;
    let mut options = Options {
        case,
        input: fixtures.join("photo-12mp.jpg"),
        overlay: fixtures.join("watermark.png"),
        warmup: 2,
        rounds: 5,
        n: 10,
        out: None,
        once: false,
    };
    while let Some(flag) = args.next() {
        if flag == "--once" {
            options.once = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let count = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--input" => options.input = value.clone().into(),
            "--overlay" => options.overlay = value.clone().into(),
            "--out" => options.out = Some(value.clone().into()),
            "--warmup" => options.warmup = count()?,
            "--rounds" => options.rounds = count()?.max(1),
            "--n" => options.n = count()?.max(1),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<serde_json::Value, String> {
    let (name, edits, output) = CASES
        .iter()
        .find(|(name, _, _)| *name == options.case)
        .ok_or(format!(
            "unknown case {}; cases: {}",
            options.case,
            CASES.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
        ))?;
    let edits: Edits = serde_json::from_str(edits).map_err(|e| e.to_string())?;
    let input =
        std::fs::read(&options.input).map_err(|e| format!("{}: {e}", options.input.display()))?;
    let plan = Plan::new(&edits, Some(*output), None)
        .map_err(|e| format!("Plan::new: {}", e.to_json()))?;
    let overlay = match plan.overlay() {
        Some(_) => Some(
            std::fs::read(&options.overlay)
                .map_err(|e| format!("{}: {e}", options.overlay.display()))?,
        ),
        None => None,
    };
    let limits = Limits::default();
    let once = || -> Result<Transformed, String> {
        transform(black_box(&input), &plan, overlay.as_deref(), &limits)
            .map_err(|e| format!("transform: {}", e.to_json()))
    };

    let baseline_rss_kib = status_kib("VmRSS");
    let start = Instant::now();
    let mut last = once()?;
    let first = start.elapsed();
    let mut result = json!({
        "side": "lambdakit-image",
        "case": name,
        "first_ms": first.as_secs_f64() * 1e3,
    });
    if !options.once {
        for _ in 1..options.warmup {
            last = once()?;
        }
        let cpu_start = cpu_time();
        let mut per_image: Vec<f64> = Vec::with_capacity(options.rounds);
        for _ in 0..options.rounds {
            let start = Instant::now();
            for _ in 0..options.n {
                last = black_box(once()?);
            }
            per_image.push(start.elapsed().as_secs_f64() * 1e3 / options.n as f64);
        }
        let cpu = cpu_time() - cpu_start;
        per_image.sort_by(f64::total_cmp);
        let images = (options.rounds * options.n) as f64;
        result["warmup"] = json!(options.warmup);
        result["rounds"] = json!(options.rounds);
        result["n"] = json!(options.n);
        result["best_ms"] = json!(per_image[0]);
        result["median_ms"] = json!(per_image[per_image.len() / 2]);
        result["rounds_ms"] = json!(per_image);
        result["cpu_ms_per_image"] = json!(cpu.as_secs_f64() * 1e3 / images);
    }
    result["format"] = json!(last.format.name());
    result["width"] = json!(last.width);
    result["height"] = json!(last.height);
    result["bytes"] = json!(last.bytes.len());
    result["input_bytes"] = json!(input.len());
    result["baseline_rss_kib"] = json!(baseline_rss_kib);
    result["peak_rss_kib"] = json!(status_kib("VmHWM"));
    if let Some(out) = &options.out {
        std::fs::write(out, &last.bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(result)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "{message}\nusage: image-transform CASE [--input FILE] [--overlay FILE] \
                 [--warmup W] [--rounds R] [--n N] [--out FILE] [--once]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(result) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("image-transform {}: {message}", options.case);
            ExitCode::FAILURE
        }
    }
}
