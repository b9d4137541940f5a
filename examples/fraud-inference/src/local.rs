//! Running the pipeline on one machine: a local model endpoint that checks SigV4 and the API
//! key as API Gateway does, transactions from a JSON-lines file or a Kinesis stream on the
//! emulator, and credentials for both.

use std::path::Path;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use lambdakit_test_support::signed_server::{InjectedError, SignedServer, SignedServerConfig};
use lambdakit_test_support::sigv4_verify::Secret;

use crate::consumer::BoxError;
use crate::model::{Transaction, answer};

/// The region everything local signs for.
pub const REGION: &str = "us-east-1";
/// The local endpoint's access key id.
pub const ACCESS_KEY_ID: &str = "AKIDLOCALFRAUD";
/// The local endpoint's secret (a test value, not a secret).
pub const SECRET_ACCESS_KEY: &str = "local-fraud-model-secret";
/// The local endpoint's API key.
pub const API_KEY: &str = "local-fraud-model-api-key";

/// How the local model endpoint behaves.
#[derive(Clone, Debug)]
pub struct ModelEndpoint {
    /// Added to every answer.
    pub latency: Duration,
    /// Share of requests answered with an injected error.
    pub error_rate: f64,
    /// The injected error's status (500, or 429 with `Retry-After: 1`).
    pub error_status: u16,
    /// Seed of the error injection, so runs are reproducible.
    pub seed: u64,
}

impl Default for ModelEndpoint {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(20),
            error_rate: 0.0,
            error_status: 500,
            seed: 42,
        }
    }
}

impl ModelEndpoint {
    /// Starts the endpoint on a free loopback port; `server.url()` + `/score` is the model URL.
    pub async fn start(&self) -> std::io::Result<SignedServer> {
        let error = if self.error_status == 429 {
            InjectedError::throttled(Duration::from_secs(1))
        } else {
            InjectedError::new(self.error_status)
        };
        SignedServer::start(
            SignedServerConfig::new(REGION)
                .credential(ACCESS_KEY_ID, Secret::new(SECRET_ACCESS_KEY))
                .api_key(API_KEY)
                .latency(self.latency)
                .error_rate(self.error_rate)
                .injected_error(error)
                .seed(self.seed)
                .handler(|_, body| answer(body)),
        )
        .await
    }
}

/// The credentials the local endpoint accepts.
pub fn credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        None,
        None,
        "fraud-inference-local",
    ))
}

/// Reads transactions from a JSON-lines file; blank lines are skipped, a bad line is an error
/// naming its number.
pub fn read_jsonl(path: &Path) -> Result<Vec<Transaction>, BoxError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1).into())
        })
        .collect()
}

/// Writes transactions to a Kinesis stream (keyed by card, as a producer would), in
/// `PutRecords` calls of at most 500.
pub async fn put_transactions(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
    transactions: &[Transaction],
) -> Result<(), BoxError> {
    for chunk in transactions.chunks(500) {
        let mut entries = Vec::with_capacity(chunk.len());
        for tx in chunk {
            entries.push(
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(serde_json::to_vec(tx)?))
                    .partition_key(&tx.card_id)
                    .build()?,
            );
        }
        let out = kinesis
            .put_records()
            .stream_name(stream)
            .set_records(Some(entries))
            .send()
            .await?;
        if out.failed_record_count().unwrap_or(0) > 0 {
            return Err(
                format!("{stream}: {:?} records refused", out.failed_record_count()).into(),
            );
        }
    }
    Ok(())
}

/// One record read back from a stream.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    /// The record's sequence number.
    pub sequence_number: String,
    /// Its partition key.
    pub partition_key: String,
    /// Its data.
    pub data: Vec<u8>,
}

/// Reads every record now in `stream`, from the start of each shard (`TRIM_HORIZON`) until
/// the shard is caught up.
pub async fn read_stream(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<Vec<StreamRecord>, BoxError> {
    let shards = kinesis.list_shards().stream_name(stream).send().await?;
    let mut records = Vec::new();
    for shard in shards.shards() {
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await?
            .shard_iterator;
        while let Some(it) = iterator {
            let page = kinesis
                .get_records()
                .shard_iterator(it)
                .limit(1000)
                .send()
                .await?;
            for r in page.records() {
                records.push(StreamRecord {
                    sequence_number: r.sequence_number().to_owned(),
                    partition_key: r.partition_key().unwrap_or_default().to_owned(),
                    data: r.data().as_ref().to_vec(),
                });
            }
            let caught_up = page.records().is_empty()
                || (page.records().len() < 1000 && page.millis_behind_latest() == Some(0));
            iterator = if caught_up {
                None
            } else {
                page.next_shard_iterator
            };
        }
    }
    Ok(records)
}

/// Creates a one-shard stream and waits until it is active.
pub async fn create_stream(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<(), BoxError> {
    kinesis
        .create_stream()
        .stream_name(stream)
        .shard_count(1)
        .send()
        .await?;
    for _ in 0..50 {
        let summary = kinesis
            .describe_stream_summary()
            .stream_name(stream)
            .send()
            .await?;
        let active = summary
            .stream_description_summary()
            .map(|s| s.stream_status().as_str() == "ACTIVE")
            .unwrap_or(false);
        if active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("stream {stream} did not become active").into())
}

/// The outcome of a local run: the batch report, the wall time, and what the endpoint saw.
#[derive(Debug)]
pub struct LocalRun {
    /// Verdicts in input order, with the operator's counters.
    pub report: crate::enrich::Report,
    /// Wall time of the scoring.
    pub elapsed: Duration,
    /// Requests the endpoint received.
    pub requests: u64,
    /// Requests it refused for a bad signature or API key (must be zero).
    pub refused: u64,
    /// Errors it injected.
    pub injected_errors: u64,
    /// The most requests it served at once.
    pub max_in_flight: u64,
}

/// Starts the local endpoint, scores `transactions` through it with a signed client, and
/// stops it.
pub async fn score_locally(
    transactions: Vec<Transaction>,
    endpoint: &ModelEndpoint,
    settings: &crate::enrich::Settings,
    version: lambdakit_enrich::http::HttpVersion,
) -> Result<LocalRun, BoxError> {
    let server = endpoint.start().await?;
    let client = lambdakit_enrich::http::SignedClient::builder(format!("{}/score", server.url()))
        .region(REGION)
        .credentials(credentials())
        .api_key(API_KEY)
        .pool_size(settings.capacity)
        .http_version(version)
        .build()?;
    let started = std::time::Instant::now();
    let report = crate::enrich::score_batch(&client, transactions, settings, None).await;
    let elapsed = started.elapsed();
    let stats = server.stats();
    let run = LocalRun {
        report,
        elapsed,
        requests: stats.requests(),
        refused: stats.refused_signature() + stats.refused_api_key(),
        injected_errors: stats.injected_errors(),
        max_in_flight: stats.max_in_flight(),
    };
    server.shutdown().await;
    Ok(run)
}

impl LocalRun {
    /// A short human summary: counts per verdict, throughput against the Little's-law bound,
    /// latency percentiles, calls per transaction.
    pub fn summary(&self, capacity: usize, latency: Duration) -> String {
        use crate::enrich::Verdict;
        let verdicts = &self.report.verdicts;
        let count = |f: fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
        let scored = count(|v| matches!(v, Verdict::Scored(_)));
        let refused = count(|v| matches!(v, Verdict::Refused { .. }));
        let failed = count(|v| matches!(v, Verdict::Failed(_)));
        let timed_out = count(|v| matches!(v, Verdict::TimedOut));
        let flagged = verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Scored(s) if s.fraud_score >= 0.5))
            .count();
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let throughput = verdicts.len() as f64 / secs;
        let bound = capacity as f64 / latency.as_secs_f64().max(1e-9);
        let mut latencies = self.report.latencies.clone();
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let m = &self.report.metrics;
        format!(
            "{} transactions in {:.2} s: {scored} scored ({flagged} flagged >= 0.5), {refused} refused, {failed} failed, {timed_out} timed out\n\
             throughput {throughput:.0}/s; Little's-law bound capacity/latency = {bound:.0}/s ({:.0}%)\n\
             latency p50 {:.1} ms, p99 {:.1} ms; calls {} ({:.3} per transaction), retries {}, retries denied {}\n\
             endpoint: {} requests, {} refused (signature or API key), {} injected errors, at most {} at once",
            verdicts.len(),
            secs,
            100.0 * throughput / bound,
            pct(0.5),
            pct(0.99),
            m.attempts,
            m.attempts as f64 / verdicts.len().max(1) as f64,
            m.retries,
            m.retries_denied,
            self.requests,
            self.refused,
            self.injected_errors,
            self.max_in_flight,
        )
    }
}

/// The sample Kinesis event (`events/kinesis-transactions.json`), as Lambda delivers it.
pub fn sample_event(name: &str) -> Result<aws_lambda_events::kinesis::KinesisEvent, BoxError> {
    let path = lambdakit_test_support::workspace_root()
        .join("examples/fraud-inference/events")
        .join(name);
    let bytes = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// The event Lambda's event source mapping would deliver for `records`: each record in the
/// shape of the sample event's first record, with its own data, key and sequence number.
pub fn kinesis_event(
    records: &[StreamRecord],
) -> Result<aws_lambda_events::kinesis::KinesisEvent, BoxError> {
    let sample = sample_event("kinesis-transactions.json")?;
    let template = sample
        .records
        .first()
        .ok_or("the sample event has no records")?
        .clone();
    let mut event = sample;
    event.records = records
        .iter()
        .map(|r| {
            let mut record = template.clone();
            record.kinesis.data.0 = r.data.clone();
            record.kinesis.partition_key = r.partition_key.clone();
            record.kinesis.sequence_number = r.sequence_number.clone();
            record.event_id = Some(format!("shardId-000000000000:{}", r.sequence_number));
            record
        })
        .collect();
    Ok(event)
}
