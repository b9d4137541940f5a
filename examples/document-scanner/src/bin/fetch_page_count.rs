//! The `scanner-fetch-page-count` Lambda (FetchPageCount), behind the REST API with the Cognito authorizer:
//! GET /pagecount?project=NAME: how many pages the project has.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::api;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve(api::Function::FetchPageCount).await
}
