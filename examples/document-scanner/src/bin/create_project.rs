//! The `scanner-create-project` Lambda (CreateProject), behind the REST API with the Cognito authorizer:
//! POST /projects: a new project (409 when it exists).
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::api;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve(api::Function::CreateProject).await
}
