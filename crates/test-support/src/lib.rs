//! Test helpers for lambdakit.
//!
//! - [`emulator`]: SDK clients for the local AWS emulator (moto's server) that
//!   `cargo xtask test` starts; a test that needs it fails, naming that command, when it is
//!   absent. It is never skipped.
//! - [`unique_name`], [`fixture`], [`init_tracing`].
//! - [`http`]: a small blocking HTTP client for presigned URLs.
//! - [`gateway`]: a local API Gateway (HTTP API, payload v2) in front of a `lambda_http`
//!   handler, with static files.
//! - [`sigv4_verify`]: an independent SigV4 `Authorization` header verifier, to cross-check
//!   clients that sign with `aws-sigv4`.
//! - [`signed_server`]: a local HTTP/1.1 and HTTP/2 endpoint standing in for API Gateway with
//!   IAM authorization and an API key in front of a model: it verifies signatures and can add
//!   latency, inject errors or hang.
//! - [`browser`]: headless Chromium driven over the DevTools protocol.

mod accept;
pub mod browser;
pub mod emulator;
pub mod gateway;
pub mod http;
pub mod s3_rules;
pub mod signed_server;
pub mod sigv4_verify;
pub mod textract_replay;

use std::path::{Path, PathBuf};

/// A lowercase name unique to this test run, usable as a bucket or table name:
/// `prefix-` and 12 hex digits.
pub fn unique_name(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&nanos.to_le_bytes()[..6]);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", prefix.to_ascii_lowercase())
}

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Reads a fixture file, relative to the workspace root.
///
/// # Panics
/// When the file cannot be read: a missing fixture is a broken test.
pub fn fixture(path: impl AsRef<Path>) -> Vec<u8> {
    let full = workspace_root().join(path.as_ref());
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", full.display()))
}

/// Installs a test-friendly `tracing` subscriber once (`RUST_LOG` filters it).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
