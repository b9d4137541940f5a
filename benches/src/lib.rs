//! Shared inputs of the lambdakit benchmarks.
//!
//! The criterion bench (`benches/presign.rs`) and the `post-policies` binary sign the same
//! request with every implementation, so the numbers compare the same work.
//! `post_vs_boto3.py` repeats the POST inputs for boto3 and checks that both sides produced
//! the same policy conditions.

use std::time::{Duration, SystemTime};

use lambdakit_upload::{Credentials, ObjectKey, PostPolicy, Presigner};

/// The bucket every URL and policy is signed for.
pub const BUCKET: &str = "lambdakit-bench-uploads";

/// The bucket's region.
pub const REGION: &str = "us-east-1";

/// The object key: `uploads/`, 32 hex digits (as `ObjectKey::random` makes them), `.jpg`.
pub const KEY: &str = "uploads/3f9c2b7e8a1d4c6f9e0b5a7d2c8e1f4a.jpg";

/// The signed content type.
pub const CONTENT_TYPE: &str = "image/jpeg";

/// AWS's documentation example access key id: a fixed, fake, static credential.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

/// AWS's documentation example secret access key (fake).
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// How long presigned PUT and UploadPart URLs live.
pub const PUT_EXPIRY: Duration = Duration::from_secs(300);

/// How long POST policies live (boto3's `ExpiresIn=3600`).
pub const POST_EXPIRY: Duration = Duration::from_secs(3600);

/// The POST policy's `content-length-range`, in bytes: 1 byte to 10 MiB.
pub const CONTENT_LENGTH_RANGE: (u64, u64) = (1, 10 * 1024 * 1024);

/// The upload id of the UploadPart batch (any non-empty string: signing sends nothing).
pub const UPLOAD_ID: &str = "bench-upload-id";

/// How many UploadPart URLs one batch signs.
pub const PARTS_PER_BATCH: u32 = 100;

/// The fixed signing instant of the criterion benches: 2026-05-20T12:00:00Z.
pub fn signing_time() -> SystemTime {
    time::macros::datetime!(2026-05-20 12:00 UTC).into()
}

/// The fixed static credentials as lambdakit's type.
pub fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
}

/// The same credentials as the AWS SDK's type.
pub fn sdk_credentials() -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::from_keys(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None)
}

/// A presigner for [`BUCKET`] in [`REGION`] on AWS's own endpoints.
///
/// Panics only if the constants above stop being a valid bucket and region.
pub fn presigner() -> Presigner {
    Presigner::builder()
        .bucket(BUCKET)
        .region(REGION)
        .build()
        .expect("BUCKET and REGION are valid")
}

/// [`KEY`], checked.
///
/// Panics only if [`KEY`] stops being a valid key.
pub fn key() -> ObjectKey {
    ObjectKey::parse(KEY).expect("KEY is valid")
}

/// The POST policy `post_vs_boto3.py` also asks boto3 for: exact key, the `Content-Type`
/// field, the content-length range and a one-hour expiry.
pub fn post_policy() -> PostPolicy {
    PostPolicy::new(key())
        .content_type(CONTENT_TYPE)
        .content_length_range(CONTENT_LENGTH_RANGE.0, CONTENT_LENGTH_RANGE.1)
        .expires_in(POST_EXPIRY)
}

/// An S3 client that can presign but never sends: fixed static credentials, [`REGION`],
/// and no credential or region lookups from the environment.
pub fn sdk_client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(REGION))
        .credentials_provider(sdk_credentials())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The process's CPU time so far (user + system, all threads), or zero where `/proc` is
/// unavailable.
pub fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces): utime is
    // field 14 and stime field 15 of the whole line, in clock ticks (100 per second on Linux).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
