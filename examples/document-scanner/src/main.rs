//! The `scanner-process-document` Lambda (ProcessDocument): S3 `ObjectCreated` events for page
//! images under `private/` run Textract `DetectDocumentText`; the result goes to S3 and the
//! page's lines to the Pages table.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README); `cargo xtask demo` runs the whole flow against the local emulator.

use aws_lambda_events::s3::S3Event;
use example_document_scanner::process::process_document;
use example_document_scanner::{BoxError, Scanner};
use lambda_runtime::{LambdaEvent, service_fn};
use lambdakit_textract::jobs::Textract;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    example_document_scanner::init_logs();
    let sdk = aws_config::load_from_env().await;
    let scanner = Scanner::from_env(&sdk)?;
    let textract = Textract::new(aws_sdk_textract::Client::new(&sdk));
    let (scanner, textract) = (&scanner, &textract);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        // An error fails the invocation, and Lambda retries the event (twice, then the
        // template's on-failure destination): only for failures that may pass.
        process_document(scanner, textract, event.payload)
            .await
            .into_result()
            .map_err(BoxError::from)
    }))
    .await
}
