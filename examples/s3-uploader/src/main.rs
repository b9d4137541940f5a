//! Run with `cargo lambda watch` locally, or deploy with `sam build && sam deploy --guided`
//! (see the README); `cargo xtask demo` runs it against the local emulator.
//!
//! The blog's uploader Lambda: `GET /uploads` returns a presigned PUT URL for a new random
//! key; `GET /uploads/post` returns a presigned POST form.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let handler = example_s3_uploader::handler_from_env(&config, |k| std::env::var(k).ok())?;
    let handler = &handler;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(example_s3_uploader::route(handler, request).await)
    }))
    .await
}
