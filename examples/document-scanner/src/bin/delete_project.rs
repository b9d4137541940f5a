//! The `scanner-delete-project` Lambda (DeleteProject), behind the REST API with the Cognito authorizer:
//! DELETE /projects?project=NAME: the project, its pages, images and Textract results.
//!
//! Run with `cargo lambda watch`, or deploy with `sam build && sam deploy --guided` (see the
//! README).

use example_document_scanner::api;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve(api::Function::DeleteProject).await
}
