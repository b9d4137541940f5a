//! The image handler Lambda: Serverless Image Handler's URLs (Default, Thumbor, query
//! parameters) from API Gateway (REST or HTTP API) or an Application Load Balancer, original
//! images from S3, the signing key from Secrets Manager, configured by the solution's
//! environment variables.
//!
//! Run with `cargo lambda watch` (events in `events/`), deploy with `sam build && sam deploy
//! --guided` (see the README), or serve the same URLs locally:
//! `cargo run -p example-serverless-image-handler -- serve --dir ./images --port 8080`.

use std::sync::Arc;

use example_serverless_image_handler::aws::Clients;
use example_serverless_image_handler::{
    BoxError, Command, LocalSource, ServeOptions, USAGE, handler, local_config,
};
use lambdakit_image::handler::{Config, ImageHandler};
use lambdakit_image::source::{DirSource, ImageSource, S3Source};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match Command::parse(std::env::args().skip(1))? {
        Command::Lambda => lambda().await,
        Command::Serve(options) => serve(options).await,
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
    }
}

async fn lambda() -> Result<(), BoxError> {
    example_serverless_image_handler::init_logs();
    let clients = Clients::aws(&aws_config::load_from_env().await);
    let handler = ImageHandler::from_env(clients.s3, clients.secrets);
    tracing::info!(config = ?handler.config(), "image handler ready");
    lambdakit_image::handler::lambda::run(Arc::new(handler)).await
}

async fn serve(options: ServeOptions) -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let clients = Clients::from_env().await;
    match options.source {
        LocalSource::Dir(dir) => {
            println!("images from {}", dir.display());
            let source = DirSource::new(dir);
            listen(options.addr, local_config("local"), source, clients).await
        }
        LocalSource::Bucket(bucket) => {
            println!("images from s3://{bucket}");
            let source = S3Source::new(clients.s3.clone());
            listen(options.addr, local_config(&bucket), source, clients).await
        }
    }
}

async fn listen<S: ImageSource + 'static>(
    addr: std::net::SocketAddr,
    config: Config,
    source: S,
    clients: Clients,
) -> Result<(), BoxError> {
    let handler = Arc::new(handler(config, source, clients.secrets));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving on http://{}/", listener.local_addr()?);
    example_serverless_image_handler::serve::serve(listener, handler).await?;
    Ok(())
}
