//! The `scanner-generate-pdf` Lambda (GeneratePDF), behind the REST API with the Cognito authorizer:
//! GET /pdf?project=NAME[&mode=text]: the project as a searchable (or text-only) PDF.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::{Scanner, api};
use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let sdk = aws_config::load_from_env().await;
    let scanner = Scanner::from_env(&sdk)?;
    let scanner = &scanner;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(api::generate_pdf(scanner, request).await)
    }))
    .await
}
