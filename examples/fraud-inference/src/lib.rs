//! The blog "Real-Time In-Stream Inference with Kinesis, SageMaker and Apache Flink", in Rust:
//! card transactions from a Kinesis stream are scored by a model behind API Gateway (IAM auth
//! and an API key), through `lambdakit-enrich`'s async operator, and written to an output
//! stream.
//!
//! - [`model`]: the transaction schema and the stand-in model (the `fraud-model` Lambda and the
//!   local endpoint answer with it);
//! - [`enrich`]: one batch through the operator, with the deadline and the outcome of each
//!   record;
//! - [`consumer`]: the `fraud-consumer` Lambda's logic: Kinesis batch in, `PutRecords` out,
//!   partial batch response;
//! - `local` (feature `local`): the local model endpoint and the Kinesis reader used by
//!   `fraud-pipeline` and the demo.

pub mod consumer;
pub mod enrich;
#[cfg(feature = "local")]
pub mod local;
pub mod model;
