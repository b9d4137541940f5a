//! The `mtls-backend` Lambda: the API's route. It answers with the caller the authorizer
//! verified (principal, subject, issuer, serial, fingerprint).
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke mtls-backend --data-file
//! events/backend-request.json`, or deploy with `sam build && sam deploy --guided`.

use example_mtls_authorizer::backend;
use lambda_http::{Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    example_mtls_authorizer::init_logs();
    lambda_http::run(service_fn(|request: Request| async move {
        Ok::<_, lambda_http::Error>(backend::handle(&request))
    }))
    .await
}
