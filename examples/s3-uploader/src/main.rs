//! Run with `cargo lambda watch` locally, or deploy with `sam build && sam deploy --guided`
//! (see the README); `cargo xtask demo` runs it against the local emulator.
//!
//! The blog's uploader Lambda: `GET /uploads` returns a presigned PUT URL for a new random
//! key; `GET /uploads/post` returns a presigned POST form; `/s3/...` serves Uppy's
//! `@uppy/aws-s3` plugin (Companion's API).

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = example_s3_uploader::App::from_env(&config, |k| std::env::var(k).ok())?;
    let app = &app;
    run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(app.route(request).await)
    }))
    .await
}
