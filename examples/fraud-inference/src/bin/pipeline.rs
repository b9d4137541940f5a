//! The blog's pipeline on one machine: transactions from a JSON-lines file or a Kinesis stream
//! (on the local emulator), scored through a local model endpoint that checks SigV4 and the API
//! key, written as JSON lines.
//!
//! Run with `cargo run -p example-fraud-inference --features local --bin fraud-pipeline -- --help`.

use std::path::PathBuf;
use std::time::Duration;

use example_fraud_inference::consumer::BoxError;
use example_fraud_inference::enrich::{Settings, Verdict};
use example_fraud_inference::local::{ModelEndpoint, read_jsonl, read_stream, score_locally};
use example_fraud_inference::model::Transaction;
use lambdakit_enrich::http::HttpVersion;

const USAGE: &str = "\
fraud-pipeline: score transactions through a local SigV4-checking model endpoint

  --input FILE          JSON-lines transactions (default events/transactions.jsonl)
  --kinesis-stream NAME read the transactions from this stream on the emulator
                        (LAMBDAKIT_EMULATOR_URL, as `cargo xtask emulator` prints)
  --output FILE         scored transactions as JSON lines (default target/fraud-pipeline/scored.jsonl)
  --capacity N          calls in flight plus results not yet emitted (default 20)
  --timeout-ms N        per transaction, retries included (default 30000)
  --max-retries N       retries on 429/5xx/transport errors (default 3)
  --latency-ms N        the endpoint's latency (default 20)
  --error-rate X        share of requests the endpoint fails, 0..1 (default 0)
  --error-status N      the injected error: 500, 503 or 429 (default 500)
  --http2               HTTP/2 (one multiplexed connection) instead of HTTP/1.1 keep-alive
";

struct Options {
    input: PathBuf,
    stream: Option<String>,
    output: PathBuf,
    settings: Settings,
    endpoint: ModelEndpoint,
    http2: bool,
}

fn parse() -> Result<Options, BoxError> {
    let root = lambdakit_test_support::workspace_root();
    let mut options = Options {
        input: root.join("examples/fraud-inference/events/transactions.jsonl"),
        stream: None,
        output: root.join("target/fraud-pipeline/scored.jsonl"),
        settings: Settings::default(),
        endpoint: ModelEndpoint::default(),
        http2: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--input" => options.input = value()?.into(),
            "--kinesis-stream" => options.stream = Some(value()?),
            "--output" => options.output = value()?.into(),
            "--capacity" => options.settings.capacity = value()?.parse()?,
            "--timeout-ms" => options.settings.timeout = Duration::from_millis(value()?.parse()?),
            "--max-retries" => options.settings.max_retries = value()?.parse()?,
            "--latency-ms" => options.endpoint.latency = Duration::from_millis(value()?.parse()?),
            "--error-rate" => options.endpoint.error_rate = value()?.parse()?,
            "--error-status" => options.endpoint.error_status = value()?.parse()?,
            "--http2" => options.http2 = true,
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other}\n\n{USAGE}").into()),
        }
    }
    if !(0.0..=1.0).contains(&options.endpoint.error_rate) {
        return Err("--error-rate must be between 0 and 1".into());
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let options = parse()?;
    let transactions: Vec<Transaction> = match &options.stream {
        Some(stream) => {
            let kinesis =
                aws_sdk_kinesis::Client::new(&lambdakit_test_support::emulator::sdk_config());
            read_stream(&kinesis, stream)
                .await?
                .into_iter()
                .map(|r| serde_json::from_slice(&r.data))
                .collect::<Result<_, _>>()?
        }
        None => read_jsonl(&options.input)?,
    };
    let version = if options.http2 {
        HttpVersion::Http2
    } else {
        HttpVersion::Http1
    };
    let run = score_locally(transactions, &options.endpoint, &options.settings, version).await?;

    if let Some(dir) = options.output.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut lines = String::new();
    for verdict in &run.report.verdicts {
        if let Verdict::Scored(scored) = verdict {
            lines.push_str(&serde_json::to_string(scored)?);
            lines.push('\n');
        }
    }
    std::fs::write(&options.output, lines)?;
    println!(
        "{}",
        run.summary(options.settings.capacity, options.endpoint.latency)
    );
    println!(
        "scored transactions written to {}",
        options.output.display()
    );
    Ok(())
}
