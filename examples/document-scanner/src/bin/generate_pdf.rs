//! The `scanner-generate-pdf` Lambda (GeneratePDF), behind the REST API with the Cognito authorizer:
//! GET /pdf?project=NAME[&mode=text]: the project as a searchable (or text-only) PDF.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::api;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve(api::Function::GeneratePdf).await
}
