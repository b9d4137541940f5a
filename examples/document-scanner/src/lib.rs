//! The AWS blog "Building a serverless document scanner using Amazon Textract and AWS Amplify",
//! its backend as Rust Lambda functions on [`lambdakit_textract`]: page images uploaded to
//! `private/{identityId}/{user}/{project}/{page}.png` are read by Textract, their lines kept in
//! DynamoDB and the whole result in S3, and a project comes back as a searchable PDF.
//!
//! - [`process`]: ProcessDocument, the S3-triggered function;
//! - [`api`]: FetchProjects, CreateProject, DeleteProject, FetchPageCount, GeneratePDF, the REST
//!   API functions (`lambda_http`), over [`Scanner`] and [`generate`];
//! - [`model`], [`store`], [`objects`]: the items and key layout, the two tables, the bucket;
//! - [`Config`]: the settings, from the environment at cold start;
//! - `local` (feature `local`): tables, bucket and events on the local emulator, and a Textract
//!   that replays recorded responses, for the demo and the tests.
//!
//! Every function takes its clients ready-made; the binaries (`src/main.rs`, `src/bin/`) build
//! them once per cold start.

pub mod api;
mod config;
mod error;
pub mod generate;
#[cfg(feature = "local")]
pub mod local;
pub mod model;
pub mod objects;
pub mod process;
mod scanner;
pub mod store;

pub use config::{Config, DEFAULT_PDF_INLINE_LIMIT, DEFAULT_URL_EXPIRY};
pub use error::{BoxError, Error, chain};
pub use scanner::{Deleted, Scanner};

/// JSON logs for the Lambda functions, filtered by `RUST_LOG`.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}
