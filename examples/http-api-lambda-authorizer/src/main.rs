//! The `http-authorizer` Lambda: the HTTP API's Lambda authorizer (payload format 2.0, simple
//! responses). A client's API key, sent as `Authorization: Bearer <key>`, lets it call the
//! routes `API_KEYS` lists for it and nothing else; everything else is `isAuthorized: false`.
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke http-authorizer --data-file
//! events/authorizer-request.json`, or deploy with `sam build && sam deploy --guided` (see the
//! README); `cargo xtask demo` runs the demo.

use example_http_api_lambda_authorizer::authorizer::ApiKeyAuthorizer;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_http_api_lambda_authorizer::init_logs();
    // A bad configuration stops the function here: API Gateway answers 500 until it is fixed.
    let authorizer = ApiKeyAuthorizer::from_env()?;
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(authorizer.authorize(event.payload))
    }))
    .await
}
