//! AWS's [Serverless Image Handler](https://aws.amazon.com/solutions/implementations/dynamic-image-transformation-for-amazon-cloudfront/)
//! (Dynamic Image Transformation for Amazon CloudFront) as a Rust Lambda on
//! [`lambdakit_image`]: the glue the two binaries share.
//!
//! - [`Command`]: the command line. No arguments: the Lambda function. `serve`: the same URLs
//!   on a local port ([`serve`]).
//! - [`aws`]: SDK configuration, for AWS or for the local emulator.
//! - [`init_logs`]: JSON logs, as Lambda's JSON log format expects.
//! - `local` (feature `local`): the template's resources on the local emulator, for the demo
//!   and the tests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use lambdakit_image::handler::{Config, ImageHandler};
use lambdakit_image::secret::SecretsManagerSecret;
use lambdakit_image::source::ImageSource;

pub mod aws;
#[cfg(feature = "local")]
pub mod local;
pub mod serve;

/// The error `main` returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Installs the JSON log subscriber (`RUST_LOG` filters it; the template sets `info`).
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
}

/// The handler over `source`, configured by `config`, with the signing key read from the
/// secret `SECRETS_MANAGER` (field `SECRET_KEY`) when `ENABLE_SIGNATURE` is `Yes`.
pub fn handler<S: ImageSource>(
    config: Config,
    source: S,
    secrets_manager: aws_sdk_secretsmanager::Client,
) -> ImageHandler<S, SecretsManagerSecret> {
    let secret = SecretsManagerSecret::new(
        secrets_manager,
        config.secrets_manager.clone().unwrap_or_default(),
        config.secret_key.clone().unwrap_or_default(),
    );
    ImageHandler::builder(source)
        .config(config)
        .secret(secret)
        .build()
}

/// The Lambda's configuration from the environment, for `serve`: with `SOURCE_BUCKETS` unset,
/// `default_bucket` is the one allowed bucket (Thumbor and query-parameter requests read it;
/// Default requests may name it or no bucket).
pub fn local_config(default_bucket: &str) -> Config {
    let mut config = Config::from_env();
    if config.source_buckets.is_none() {
        config.source_buckets = Some(vec![default_bucket.to_owned()]);
    }
    config
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The Lambda function (no arguments): API Gateway REST, HTTP API and ALB events.
    Lambda,
    /// `serve`: the handler on a local HTTP port.
    Serve(ServeOptions),
    /// `--help`.
    Help,
}

/// Where `serve` reads original images, and where it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// The images.
    pub source: LocalSource,
    /// The address to listen on (default `127.0.0.1:8080`).
    pub addr: SocketAddr,
}

/// The original images `serve` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSource {
    /// `--dir DIR`: files under `DIR` (`DIR/<bucket>/<key>` when that folder exists,
    /// `DIR/<key>` otherwise).
    Dir(PathBuf),
    /// `--bucket NAME`: an S3 bucket, on the local emulator when `LAMBDAKIT_EMULATOR_URL` is
    /// set, on AWS otherwise.
    Bucket(String),
}

/// The usage text.
pub const USAGE: &str = "\
usage: serverless-image-handler                      the Lambda function
       serverless-image-handler serve [--dir DIR | --bucket NAME] [--port PORT] [--host ADDR]

serve answers the Lambda's URLs on http://ADDR:PORT/ (default 127.0.0.1:8080), with original
images from DIR (default ./images) or from the S3 bucket NAME (on the local emulator when
LAMBDAKIT_EMULATOR_URL is set). The Lambda's environment variables configure both
(SOURCE_BUCKETS, ENABLE_SIGNATURE, SECRETS_MANAGER, SECRET_KEY, AUTO_WEBP, CORS_ENABLED, ...).";

impl Command {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    /// A message naming the bad argument, for anything but the forms in [`USAGE`].
    pub fn parse<I, A>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        let mut args = args.into_iter().map(Into::into);
        match args.next().as_deref() {
            None => return Ok(Self::Lambda),
            Some("serve") => {}
            Some("-h" | "--help" | "help") => return Ok(Self::Help),
            Some(other) => return Err(format!("unknown command `{other}`\n\n{USAGE}")),
        }
        let mut dir = None;
        let mut bucket = None;
        let mut port: u16 = 8080;
        let mut host: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
        while let Some(flag) = args.next() {
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (flag.clone(), None),
            };
            if matches!(name.as_str(), "-h" | "--help") {
                return Ok(Self::Help);
            }
            let value = match inline.or_else(|| args.next()) {
                Some(value) => value,
                None => return Err(format!("`{name}` needs a value\n\n{USAGE}")),
            };
            match name.as_str() {
                "--dir" => dir = Some(PathBuf::from(value)),
                "--bucket" => bucket = Some(value),
                "--port" => {
                    port = value
                        .parse()
                        .map_err(|_| format!("`--port {value}` is not a port number"))?;
                }
                "--host" => {
                    host = value
                        .parse()
                        .map_err(|_| format!("`--host {value}` is not an IP address"))?;
                }
                _ => return Err(format!("unknown option `{name}`\n\n{USAGE}")),
            }
        }
        let source = match (dir, bucket) {
            (Some(_), Some(_)) => return Err("give `--dir` or `--bucket`, not both".to_owned()),
            (None, Some(bucket)) => LocalSource::Bucket(bucket),
            (Some(dir), None) => LocalSource::Dir(dir),
            (None, None) => LocalSource::Dir(PathBuf::from("images")),
        };
        Ok(Self::Serve(ServeOptions {
            source,
            addr: SocketAddr::new(host, port),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeOptions {
        match Command::parse(args.iter().copied()) {
            Ok(Command::Serve(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn no_arguments_is_the_lambda_function() {
        assert_eq!(Command::parse(Vec::<String>::new()), Ok(Command::Lambda));
    }

    #[test]
    fn serve_defaults_to_images_on_localhost_8080() {
        let options = serve(&["serve"]);
        assert_eq!(options.source, LocalSource::Dir(PathBuf::from("images")));
        assert_eq!(options.addr, "127.0.0.1:8080".parse().expect("addr"));
    }

    #[test]
    fn serve_takes_a_dir_or_a_bucket_a_port_and_a_host() {
        let options = serve(&["serve", "--dir", "./photos", "--port", "9000"]);
        assert_eq!(options.source, LocalSource::Dir(PathBuf::from("./photos")));
        assert_eq!(options.addr.port(), 9000);
        let options = serve(&["serve", "--bucket=my-images", "--host", "0.0.0.0"]);
        assert_eq!(options.source, LocalSource::Bucket("my-images".to_owned()));
        assert_eq!(options.addr, "0.0.0.0:8080".parse().expect("addr"));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let error = |args: &[&str]| Command::parse(args.iter().copied()).expect_err("error");
        assert!(error(&["server"]).contains("unknown command `server`"));
        assert!(error(&["serve", "--port", "http"]).contains("not a port number"));
        assert!(error(&["serve", "--port"]).contains("needs a value"));
        assert!(error(&["serve", "--dir", "a", "--bucket", "b"]).contains("not both"));
        assert!(error(&["serve", "--verbose", "1"]).contains("unknown option `--verbose`"));
        assert_eq!(Command::parse(["serve", "--help"]), Ok(Command::Help));
    }
}
