//! The `mtls-truststore` Lambda: the CloudFormation custom resource `Custom::MtlsTrustStore`.
//! Each Create, Update or Delete request is carried out on S3 and answered with a `PUT` to its
//! pre-signed `ResponseURL`, whatever happens, before the function's time runs out.
//!
//! Run with `cargo lambda watch` and `cargo lambda invoke mtls-truststore --data-file
//! events/create.json`, or deploy with `sam build && sam deploy --guided` (see the README);
//! `cargo xtask demo` runs Create, Update and Delete against the local emulator.

use example_mtls_truststore::custom_resource::Runner;
use example_mtls_truststore::respond::Responder;
use example_mtls_truststore::truststore::TrustStore;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    example_mtls_truststore::init_logs();
    let sdk = aws_config::load_from_env().await;
    let store = TrustStore::new(aws_sdk_s3::Client::new(&sdk));
    let runner = Runner::new(Responder::https()?);
    let (store, runner) = (&store, &runner);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // The raw JSON, not the typed request: a request that does not parse is still
        // answered (FAILED), as long as it has a ResponseURL.
        let budget = runner.budget(event.context.deadline());
        let store = store.clone();
        runner
            .run(event.payload, budget, move |request| store.handle(request))
            .await
            // Only when no answer could be delivered: the invocation fails, and shows in the
            // function's Errors metric and logs.
            .map(|response| serde_json::json!({ "Status": response.status }))
            .map_err(example_mtls_truststore::BoxError::from)
    }))
    .await
}
