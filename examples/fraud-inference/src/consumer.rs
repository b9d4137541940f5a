//! The `fraud-consumer` Lambda: a Kinesis batch in, scored transactions out, and a partial
//! batch response naming every record that was not written.

use std::time::{Duration, SystemTime};

use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use lambdakit_enrich::http::SignedClient;
use serde::Deserialize;
use tokio::time::Instant;

use crate::enrich::{Settings, Verdict, error_chain, score_batch};
use crate::model::{Scored, Transaction};

/// A boxed error for start-up failures.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Kinesis takes at most 500 records per `PutRecords`.
const PUT_RECORDS_MAX: usize = 500;

/// Time kept back from the invocation's deadline to write results and answer.
const SAFETY_MARGIN: Duration = Duration::from_secs(3);

/// The consumer's clients and settings.
#[derive(Clone, Debug)]
pub struct Consumer {
    model: SignedClient,
    kinesis: aws_sdk_kinesis::Client,
    output_stream: String,
    settings: Settings,
}

/// What one batch came to, for logs and tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Records received.
    pub received: usize,
    /// Records scored and written to the output stream.
    pub written: usize,
    /// Sequence numbers reported as failures (Lambda retries from the lowest).
    pub failed: Vec<String>,
}

#[derive(Deserialize)]
struct ApiKeyValue {
    value: String,
}

impl Consumer {
    /// A consumer with explicit clients.
    pub fn new(
        model: SignedClient,
        kinesis: aws_sdk_kinesis::Client,
        output_stream: impl Into<String>,
        settings: Settings,
    ) -> Self {
        Self {
            model,
            kinesis,
            output_stream: output_stream.into(),
            settings,
        }
    }

    /// Builds the consumer from the environment the template sets: `MODEL_ENDPOINT`,
    /// `MODEL_API_KEY_ID` (the key's value is read once from API Gateway) or `MODEL_API_KEY`
    /// (the value, for local runs), `OUTPUT_STREAM`, `CAPACITY`, `TIMEOUT_MS`.
    pub async fn from_env(config: &aws_config::SdkConfig) -> Result<Self, BoxError> {
        let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or("no AWS region configured")?;
        let credentials = config
            .credentials_provider()
            .ok_or("no AWS credentials provider")?;
        let api_key = match (
            std::env::var("MODEL_API_KEY_ID"),
            std::env::var("MODEL_API_KEY"),
        ) {
            (Ok(id), _) => Some(read_api_key(&id, &region, credentials.clone()).await?),
            (Err(_), Ok(value)) => Some(value),
            (Err(_), Err(_)) => None,
        };
        let mut settings = Settings::default();
        if let Ok(capacity) = std::env::var("CAPACITY") {
            settings.capacity = capacity.parse().map_err(|e| format!("CAPACITY: {e}"))?;
        }
        if let Ok(ms) = std::env::var("TIMEOUT_MS") {
            settings.timeout =
                Duration::from_millis(ms.parse().map_err(|e| format!("TIMEOUT_MS: {e}"))?);
        }
        let mut model = SignedClient::builder(env("MODEL_ENDPOINT")?)
            .region(region)
            .credentials(credentials)
            .pool_size(settings.capacity);
        if let Some(key) = api_key {
            model = model.api_key(key);
        }
        Ok(Self::new(
            model.build()?,
            aws_sdk_kinesis::Client::new(config),
            env("OUTPUT_STREAM")?,
            settings,
        ))
    }

    /// Scores one Kinesis batch and writes the results. Every record that was not written (not
    /// a transaction, refused, failed, timed out, unfinished at the deadline, or rejected by
    /// `PutRecords`) is reported by sequence number, so Lambda retries it (and after the
    /// mapping's retries, sends it to the on-failure destination): nothing is dropped.
    pub async fn handle(
        &self,
        event: KinesisEvent,
        deadline: Option<SystemTime>,
    ) -> (KinesisEventResponse, BatchSummary) {
        let received = event.records.len();
        let stop_at = deadline.map(|d| {
            let left = d
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(SAFETY_MARGIN);
            Instant::now() + left
        });

        let mut failed: Vec<String> = Vec::new();
        let mut keys = Vec::new();
        let mut transactions = Vec::new();
        for record in &event.records {
            match decode(record) {
                Ok(tx) => {
                    keys.push((
                        record.kinesis.sequence_number.clone(),
                        record.kinesis.partition_key.clone(),
                    ));
                    transactions.push(tx);
                }
                Err(e) => {
                    tracing::warn!(
                        sequence_number = %record.kinesis.sequence_number,
                        error = %e,
                        "record is not a transaction"
                    );
                    failed.push(record.kinesis.sequence_number.clone());
                }
            }
        }

        let report = score_batch(&self.model, transactions, &self.settings, stop_at).await;
        let mut to_write: Vec<(String, String, Scored)> = Vec::new();
        for ((sequence, partition_key), verdict) in keys.into_iter().zip(report.verdicts) {
            match verdict {
                Verdict::Scored(scored) => to_write.push((sequence, partition_key, *scored)),
                other => {
                    tracing::warn!(sequence_number = %sequence, verdict = ?other, "not scored");
                    failed.push(sequence);
                }
            }
        }
        let written = to_write.len();
        let rejected = self.write(to_write).await;
        let written = written - rejected.len();
        failed.extend(rejected);
        tracing::info!(
            received,
            written,
            failed = failed.len(),
            calls = report.metrics.attempts,
            retries = report.metrics.retries,
            timeouts = report.metrics.timeouts,
            "batch done"
        );

        let mut response = KinesisEventResponse::default();
        response.batch_item_failures = failed
            .iter()
            .map(|sequence| {
                let mut failure = KinesisBatchItemFailure::default();
                failure.item_identifier = Some(sequence.clone());
                failure
            })
            .collect();
        (
            response,
            BatchSummary {
                received,
                written,
                failed,
            },
        )
    }

    /// Writes scored records in input order under their input's partition key; returns the
    /// sequence numbers of the records that were not written.
    async fn write(&self, records: Vec<(String, String, Scored)>) -> Vec<String> {
        let mut rejected = Vec::new();
        for chunk in records.chunks(PUT_RECORDS_MAX) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (_, partition_key, scored) in chunk {
                let entry = serde_json::to_vec(scored)
                    .map_err(BoxError::from)
                    .and_then(|data| {
                        PutRecordsRequestEntry::builder()
                            .data(Blob::new(data))
                            .partition_key(partition_key)
                            .build()
                            .map_err(BoxError::from)
                    });
                match entry {
                    Ok(entry) => entries.push(entry),
                    Err(e) => {
                        tracing::error!(error = %e, "could not build an output record");
                        return records.into_iter().map(|(s, _, _)| s).collect();
                    }
                }
            }
            match self
                .kinesis
                .put_records()
                .stream_name(&self.output_stream)
                .set_records(Some(entries))
                .send()
                .await
            {
                Ok(output) => {
                    for ((sequence, _, _), result) in chunk.iter().zip(output.records()) {
                        if let Some(code) = result.error_code() {
                            tracing::warn!(sequence_number = %sequence, code, "PutRecords refused a record");
                            rejected.push(sequence.clone());
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %error_chain(&e), "PutRecords failed");
                    rejected.extend(chunk.iter().map(|(s, _, _)| s.clone()));
                }
            }
        }
        rejected
    }
}

fn decode(record: &KinesisEventRecord) -> Result<Transaction, serde_json::Error> {
    serde_json::from_slice(&record.kinesis.data.0)
}

/// Reads an API key's value from API Gateway (`GET /apikeys/{id}?includeValue=true`, signed for
/// service `apigateway`), so the value is in no template or environment variable.
pub async fn read_api_key(
    id: &str,
    region: &str,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
) -> Result<String, BoxError> {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    read_api_key_at(
        &format!("https://apigateway.{region}.{suffix}"),
        id,
        region,
        credentials,
    )
    .await
}

/// [`read_api_key`] from the API Gateway endpoint `base` (the emulator in tests).
pub async fn read_api_key_at(
    base: &str,
    id: &str,
    region: &str,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
) -> Result<String, BoxError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("{id:?} is not an API key id").into());
    }
    let url = format!(
        "{}/apikeys/{id}?includeValue=true",
        base.trim_end_matches('/')
    );
    let client = SignedClient::builder(url)
        .region(region)
        .service("apigateway")
        .credentials(credentials)
        .build()?;
    let reply = client.get_json::<ApiKeyValue>().await?;
    match reply.value {
        Some(key) => Ok(key.value),
        None => Err(format!("API Gateway answered {} for the API key", reply.status).into()),
    }
}
