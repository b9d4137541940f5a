//! `cargo xtask demo` for the fraud-inference example: transactions go into a Kinesis stream on
//! the local emulator; the `fraud-consumer` Lambda's handler scores them batch by batch through
//! a local model endpoint that checks SigV4 and the API key (and fails 5% of requests), and
//! writes them to the output stream; a poison record is reported back as a batch item failure.
//! Then the pipeline's throughput against the Little's-law bound.
//!
//! Run with `cargo xtask demo` (it starts the emulator and sets `LAMBDAKIT_EMULATOR_URL`).

use std::time::Duration;

use example_fraud_inference::consumer::{BoxError, Consumer};
use example_fraud_inference::enrich::Settings;
use example_fraud_inference::local::{
    self, ModelEndpoint, create_stream, kinesis_event, put_transactions, read_jsonl, read_stream,
    sample_event, score_locally,
};
use example_fraud_inference::model::Scored;
use lambdakit_enrich::http::{HttpVersion, SignedClient};
use lambdakit_test_support::{emulator, unique_name, workspace_root};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let root = workspace_root();
    let out = std::env::var_os("LAMBDAKIT_DEMO_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/demo"))
        .join("fraud-inference");
    std::fs::create_dir_all(&out)?;
    let transactions =
        read_jsonl(&root.join("examples/fraud-inference/events/transactions.jsonl"))?;

    // 1. The producer: transactions into the input stream on the emulator.
    let kinesis = aws_sdk_kinesis::Client::new(&emulator::sdk_config());
    let input = unique_name("transactions");
    let output = unique_name("scored-transactions");
    create_stream(&kinesis, &input).await?;
    create_stream(&kinesis, &output).await?;
    put_transactions(&kinesis, &input, &transactions).await?;
    println!(
        "put {} transactions into Kinesis stream {input}",
        transactions.len()
    );

    // 2. The consumer Lambda, batch by batch (batch size 100, as the template's mapping).
    let endpoint = ModelEndpoint {
        latency: Duration::from_millis(20),
        error_rate: 0.05,
        error_status: 500,
        seed: 7,
    };
    let server = endpoint.start().await?;
    let model = SignedClient::builder(format!("{}/score", server.url()))
        .region(local::REGION)
        .credentials(local::credentials())
        .api_key(local::API_KEY)
        .pool_size(20)
        .build()?;
    let consumer = Consumer::new(model, kinesis.clone(), output.clone(), Settings::default());
    let records = read_stream(&kinesis, &input).await?;
    let mut failed = Vec::new();
    let mut written = 0;
    for batch in records.chunks(100) {
        let event = kinesis_event(batch)?;
        let (response, summary) = consumer.handle(event, None).await;
        println!(
            "consumer batch: {} records, {} written, {} batch item failures",
            summary.received,
            summary.written,
            response.batch_item_failures.len()
        );
        written += summary.written;
        failed.extend(summary.failed);
    }
    // The sample event with a record that is not a transaction ("Hello World").
    let (response, summary) = consumer
        .handle(sample_event("kinesis-transactions-malformed.json")?, None)
        .await;
    println!(
        "malformed sample event: {} records, {} written, batch item failures {:?}",
        summary.received,
        summary.written,
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    );
    written += summary.written;
    let stats = server.stats();
    println!(
        "model endpoint: {} requests, {} injected 500s (retried), {} refused for signature or API key",
        stats.requests(),
        stats.injected_errors(),
        stats.refused_signature() + stats.refused_api_key()
    );
    server.shutdown().await;

    // 3. Read the output stream back.
    let scored: Vec<Scored> = read_stream(&kinesis, &output)
        .await?
        .iter()
        .map(|r| serde_json::from_slice(&r.data))
        .collect::<Result<_, _>>()?;
    if scored.len() != written {
        return Err(format!(
            "{written} written but {} in the output stream",
            scored.len()
        )
        .into());
    }
    let flagged: Vec<&Scored> = scored.iter().filter(|s| s.fraud_score >= 0.5).collect();
    let mut lines = String::new();
    for s in &scored {
        lines.push_str(&serde_json::to_string(s)?);
        lines.push('\n');
    }
    std::fs::write(out.join("scored.jsonl"), lines)?;
    println!(
        "output stream {output}: {} scored transactions, {} flagged (score >= 0.5), {} retried later by Lambda",
        scored.len(),
        flagged.len(),
        failed.len()
    );

    // 4. Throughput: 200 transactions, capacity 20, 20 ms per call.
    let settings = Settings::default();
    let fast = ModelEndpoint::default();
    let run = score_locally(transactions, &fast, &settings, HttpVersion::Http1).await?;
    let summary = run.summary(settings.capacity, fast.latency);
    println!(
        "pipeline (200 transactions are few: connection set-up and ramp-up weigh; \
         docs/benchmarks.md has steady-state throughput):\n{summary}"
    );
    std::fs::write(out.join("summary.txt"), format!("{summary}\n"))?;
    println!("output in {}", out.display());
    Ok(())
}
