//! The `mtls-authorizer` Lambda: the Lambda authorizer (payload format 2.0, simple responses)
//! of an HTTP API whose custom domain requires mutual TLS. The client certificate is verified
//! against the truststore (read from S3 at cold start) and the CRLs (read from S3 through a
//! cache, refreshed every `CRL_TTL_SECONDS`); anything else is `isAuthorized: false`.
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke mtls-authorizer --data-file
//! events/authorizer-request.json`, or deploy with `sam build && sam deploy --guided` (see the
//! README); `cargo xtask demo` runs the demo against the local emulator.

use example_mtls_authorizer::authorizer::MtlsAuthorizer;
use example_mtls_authorizer::config::Config;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_mtls_authorizer::init_logs();
    let config = Config::from_env()?;
    let sdk = aws_config::load_from_env().await;
    // Without a usable truststore the function does not start: API Gateway answers 500.
    let authorizer = MtlsAuthorizer::load(aws_sdk_s3::Client::new(&sdk), &config).await?;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(authorizer.authorize(event.payload).await)
    }))
    .await
}
