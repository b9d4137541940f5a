//! The `fraud-model` Lambda behind API Gateway `POST /score` (IAM auth and an API key): scores
//! one transaction with the example's stand-in model.
//!
//! Run with `cargo lambda watch`; the local pipeline serves the same model with
//! `cargo run -p example-fraud-inference --features local --bin fraud-pipeline`.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    lambda_http::run(service_fn(example_fraud_inference::model::handle)).await
}
