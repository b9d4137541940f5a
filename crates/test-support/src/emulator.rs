//! Clients for the local AWS emulator.
//!
//! `cargo xtask test` starts moto's server on a free loopback port and passes its URL in
//! `LAMBDAKIT_EMULATOR_URL`.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

/// The environment variable holding the emulator's URL.
pub const ENV: &str = "LAMBDAKIT_EMULATOR_URL";
/// The region every emulator test uses.
pub const REGION: &str = "us-east-1";
/// The emulator's (dummy) access key id.
pub const ACCESS_KEY_ID: &str = "testing";
/// The emulator's (dummy) secret key.
pub const SECRET_ACCESS_KEY: &str = "testing";

/// The emulator's URL, such as `http://127.0.0.1:40123`.
///
/// # Panics
/// When `LAMBDAKIT_EMULATOR_URL` is unset or nothing listens there: emulator tests are never
/// skipped. Run them with `cargo xtask test`, which starts the emulator.
pub fn url() -> String {
    check_url(std::env::var(ENV).ok()).unwrap_or_else(|message| panic!("{message}"))
}

/// Checks an emulator URL: set, and something listening there. The error names the command
/// that starts the emulator.
pub fn check_url(url: Option<String>) -> Result<String, String> {
    let url = url.ok_or_else(|| {
        format!(
            "{ENV} is not set: this test needs the local AWS emulator. \
             Run the tests with `cargo xtask test`, which starts it."
        )
    })?;
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .unwrap_or(&url);
    let reachable = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    if reachable {
        Ok(url)
    } else {
        Err(format!(
            "the local AWS emulator at {url} is not reachable. \
             Run the tests with `cargo xtask test`, which starts it."
        ))
    }
}

/// The dummy credentials the emulator accepts.
pub fn credentials() -> Credentials {
    Credentials::from_keys(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None)
}

/// An `SdkConfig` pointed at the emulator: its endpoint, dummy credentials, `us-east-1`,
/// and checksums only where an operation requires them (the emulator does not take the
/// SDK's default streaming checksums everywhere).
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials()),
        )
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build()
}

/// An S3 client for the emulator, with path-style addressing.
pub fn s3() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&sdk_config())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Creates a bucket with a unique name, with CORS rules that let a browser on any origin
/// PUT, POST and read, and see the `ETag` header (multipart uploads need it).
///
/// # Panics
/// When the emulator refuses: the test cannot go on.
pub async fn bucket(s3: &aws_sdk_s3::Client, prefix: &str) -> String {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let name = crate::unique_name(prefix);
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
    let rule = CorsRule::builder()
        .allowed_origins("*")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_methods("POST")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(300)
        .build()
        .unwrap_or_else(|e| panic!("cors rule: {e}"));
    s3.put_bucket_cors()
        .bucket(&name)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap_or_else(|e| panic!("cors configuration: {e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("put bucket cors {name}: {e:?}"));
    name
}

/// The bytes of an object, or `None` when it does not exist.
///
/// # Panics
/// On any other error.
pub async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Vec<u8>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => Some(
            out.body
                .collect()
                .await
                .unwrap_or_else(|e| panic!("read {bucket}/{key}: {e}"))
                .into_bytes()
                .to_vec(),
        ),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
        Err(e) => panic!("get {bucket}/{key}: {e:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_emulator_fails_naming_the_test_command() {
        let unset = check_url(None).expect_err("unset");
        assert!(unset.contains("cargo xtask test"), "{unset}");
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        let down = check_url(Some(format!("http://127.0.0.1:{port}"))).expect_err("down");
        assert!(
            down.contains("not reachable") && down.contains("cargo xtask test"),
            "{down}"
        );
    }
}
