//! The `http-api-backend` Lambda: the routes behind both APIs. It answers with the route and
//! the authorizer's context (the client, or the Cognito user and groups).
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke http-api-backend --data-file
//! events/backend-request.json`, or deploy with `sam build && sam deploy --guided`.

use example_http_api_lambda_authorizer::backend;
use lambda_http::{Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    example_http_api_lambda_authorizer::init_logs();
    lambda_http::run(service_fn(|request: Request| async move {
        Ok::<_, lambda_http::Error>(backend::handle(&request))
    }))
    .await
}
