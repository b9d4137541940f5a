//! The `fraud-consumer` Lambda: scores each Kinesis batch of transactions through the model API
//! and writes them to the output stream, reporting unwritten records as batch item failures.
//!
//! Run with `cargo lambda watch` or deploy with `sam build && sam deploy --guided`; locally,
//! `cargo run -p example-fraud-inference --features local --bin fraud-pipeline` runs the same scoring.

use std::time::{Duration, SystemTime};

use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::streams::KinesisEventResponse;
use example_fraud_inference::consumer::{BoxError, Consumer};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let config = aws_config::load_from_env().await;
    let consumer = Consumer::from_env(&config).await?;
    let consumer = &consumer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<KinesisEvent>| async move {
            let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(event.context.deadline);
            let (response, _summary) = consumer.handle(event.payload, Some(deadline)).await;
            Ok::<KinesisEventResponse, BoxError>(response)
        },
    ))
    .await
}
