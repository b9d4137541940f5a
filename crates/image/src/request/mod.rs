//! Parsing a request URL into what to fetch and which edits to make: Serverless Image
//! Handler's Default (base64 JSON), Thumbor and Custom (regex rewrite) requests, and the v7
//! query parameters. Pure: no I/O.
//!
//! OWNER: request helper. (Stub: replaced by the real implementation.)

use std::collections::BTreeMap;

use crate::{Edits, Error, Format, Result};

/// Serverless Image Handler's three request types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// The path is base64 of a JSON request `{bucket?, key, edits?, outputFormat?, ...}`.
    Default,
    /// `REWRITE_MATCH_PATTERN` / `REWRITE_SUBSTITUTION` rewrite the path, then Thumbor.
    Custom,
    /// Thumbor-style path: `/fit-in/200x300/filters:grayscale()/key.jpg`.
    Thumbor,
}

/// The configuration that request parsing depends on (Serverless Image Handler's
/// environment variables).
#[derive(Debug, Clone, Default)]
pub struct RequestConfig {
    /// `SOURCE_BUCKETS`: the allowed buckets; the first is the default.
    pub source_buckets: Vec<String>,
    /// `REWRITE_MATCH_PATTERN` (a JavaScript regex literal such as `/^\/v1\//g`) and
    /// `REWRITE_SUBSTITUTION`.
    pub rewrite: Option<(String, String)>,
    /// `AUTO_WEBP=Yes`: WebP output when the `Accept` header includes `image/webp`.
    pub auto_webp: bool,
}

/// A parsed request: where the image is and what to do with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRequest {
    /// The request type detected.
    pub request_type: RequestType,
    /// The source bucket.
    pub bucket: String,
    /// The source key.
    pub key: String,
    /// The edits, as Serverless Image Handler's edits object.
    pub edits: Edits,
    /// The output format asked for, if any.
    pub output_format: Option<Format>,
    /// WebP `effort` (0..=6) of a Default request.
    pub effort: Option<u8>,
    /// Response headers asked for by a Default request, after the deny-list.
    pub headers: Option<BTreeMap<String, String>>,
}

impl ImageRequest {
    /// Parses a request path, its query parameters and `Accept` header.
    pub fn parse(
        path: &str,
        query: &BTreeMap<String, String>,
        accept: Option<&str>,
        config: &RequestConfig,
    ) -> Result<Self> {
        let _ = (path, query, accept, config);
        Err(Error::internal())
    }

    /// Settles the output format and per-format quality once the source image's content type
    /// is known (SVG sources, `toFormat`, Thumbor quality keys).
    pub fn resolve_output(&mut self, content_type: &str) {
        let _ = content_type;
    }
}
