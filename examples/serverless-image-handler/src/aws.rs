//! The S3 and Secrets Manager clients: AWS's default credential chain and region, or the local
//! emulator (moto's server) when `LAMBDAKIT_EMULATOR_URL` is set.

/// The environment variable holding the local emulator's URL (`cargo xtask emulator` prints it).
pub const EMULATOR_ENV: &str = "LAMBDAKIT_EMULATOR_URL";

/// The emulator's region and (dummy) credentials.
const EMULATOR_REGION: &str = "us-east-1";
const EMULATOR_KEY: &str = "testing";

/// The SDK clients the handler uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// S3, for the original images.
    pub s3: aws_sdk_s3::Client,
    /// Secrets Manager, for the signing key.
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// Clients for AWS (the Lambda's role, or the local profile), configured from the
    /// environment.
    pub fn aws(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            s3: aws_sdk_s3::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }

    /// Clients for the local emulator at `url`: dummy credentials, `us-east-1`, path-style S3
    /// addressing, checksums only where an operation requires them.
    pub fn emulator(url: &str) -> Self {
        use aws_sdk_s3::config::{
            BehaviorVersion, Credentials, Region, RequestChecksumCalculation,
            ResponseChecksumValidation,
        };
        let credentials = Credentials::new(EMULATOR_KEY, EMULATOR_KEY, None, None, "emulator");
        let s3 = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(EMULATOR_REGION))
            .endpoint_url(url)
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        let secrets = aws_sdk_secretsmanager::config::Builder::new()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new(EMULATOR_REGION))
            .endpoint_url(url)
            .credentials_provider(credentials)
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            secrets: aws_sdk_secretsmanager::Client::from_conf(secrets),
        }
    }

    /// The emulator's clients when `LAMBDAKIT_EMULATOR_URL` is set, AWS's otherwise.
    pub async fn from_env() -> Self {
        match std::env::var(EMULATOR_ENV) {
            Ok(url) if !url.trim().is_empty() => Self::emulator(url.trim()),
            _ => Self::aws(&aws_config::load_from_env().await),
        }
    }
}
