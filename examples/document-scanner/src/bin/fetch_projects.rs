//! The `scanner-fetch-projects` Lambda (FetchProjects), behind the REST API with the Cognito authorizer:
//! GET /projects: the signed-in user's projects.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::api;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve(api::Function::FetchProjects).await
}
