//! Responses as Serverless Image Handler builds them: header order, CORS headers, JSON error
//! bodies; plus the entity tag and the Lambda payload limit. Pure: no I/O.

use sha2::{Digest, Sha256};

use crate::Error;

/// The most bytes a buffered Lambda response may carry (6 MiB). Serverless Image Handler
/// compares the base64 length of the image with it.
pub const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// `Cache-Control` when the source image has none.
pub const DEFAULT_CACHE_CONTROL: &str = "max-age=31536000,public";

/// What the handler answers: status, headers in order, raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in the order Serverless Image Handler builds them.
    pub headers: Vec<(String, String)>,
    /// The body: image bytes, or a JSON error. Not base64-encoded.
    pub body: Vec<u8>,
    /// Whether API Gateway must receive the body base64-encoded (an image), as Serverless
    /// Image Handler's `isBase64Encoded`.
    pub is_base64: bool,
}

impl HandlerResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Serverless Image Handler's error response: the JSON body of `error`, CORS headers and
    /// `Content-Type: application/json`.
    pub fn error(error: &Error, cors: &Cors, is_alb: bool) -> Self {
        let mut headers = ResponseHeaders::new();
        cors.apply(&mut headers, is_alb);
        headers.set("Content-Type", "application/json");
        Self {
            status: error.status(),
            headers: headers.into_vec(),
            body: error.to_json().into_bytes(),
            is_base64: false,
        }
    }
}

/// Response headers with JavaScript object semantics, as Serverless Image Handler builds them:
/// setting a name already present (same case) replaces its value in place; a new name goes
/// last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders(Vec<(String, String)>);

impl ResponseHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a header: in place when the exact name is present, last otherwise.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Sets a header, or removes it for `None` (JavaScript's `undefined`, which the Lambda
    /// runtime drops).
    pub fn set_opt(&mut self, name: &str, value: Option<impl Into<String>>) {
        match value {
            Some(value) => self.set(name, value),
            None => self.remove(name),
        }
    }

    /// Removes a header by exact name.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }

    /// A header's value by exact name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers in order.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

/// The CORS settings (`CORS_ENABLED`, `CORS_ORIGIN`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    /// `CORS_ENABLED=Yes`.
    pub enabled: bool,
    /// `CORS_ORIGIN`: the `Access-Control-Allow-Origin` value.
    pub origin: Option<String>,
}

impl Cors {
    /// Serverless Image Handler's `getResponseHeaders`: `Access-Control-Allow-Methods` and
    /// `-Headers` always, `-Credentials` unless behind an ALB, `-Origin` when enabled.
    pub fn apply(&self, headers: &mut ResponseHeaders, is_alb: bool) {
        headers.set("Access-Control-Allow-Methods", "GET");
        headers.set(
            "Access-Control-Allow-Headers",
            "Content-Type, Authorization",
        );
        if !is_alb {
            headers.set("Access-Control-Allow-Credentials", "true");
        }
        if self.enabled {
            headers.set_opt("Access-Control-Allow-Origin", self.origin.as_deref());
        }
    }
}

/// The length of `len` bytes in base64 (with padding).
pub fn base64_len(len: usize) -> usize {
    len.div_ceil(3).saturating_mul(4)
}

/// Serverless Image Handler's 413 for an image whose base64 form is over
/// [`LAMBDA_PAYLOAD_LIMIT`].
pub fn too_large() -> Error {
    Error::new(
        413,
        "TooLargeImageException",
        "The converted image is too large to return.",
    )
}

/// Checks that `body` fits a Lambda response once base64-encoded.
///
/// # Errors
/// [`too_large`] when it does not.
pub fn check_payload(body: &[u8]) -> crate::Result<()> {
    if base64_len(body.len()) > LAMBDA_PAYLOAD_LIMIT {
        Err(too_large())
    } else {
        Ok(())
    }
}

/// A strong entity tag for a body: a quoted hex SHA-256 prefix (128 bits).
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-None-Match` header value matches `etag` (`*`, or one of a comma-separated
/// list, weak tags compared weakly as RFC 9110 asks).
pub fn if_none_match(header: &str, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == bare)
}

/// A time as JavaScript's `JSON.stringify` writes a `Date`: `2009-12-19T16:30:47.000Z`.
pub fn js_json_date(t: time::OffsetDateTime) -> String {
    use time::macros::format_description;
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_javascript_object_order() {
        let mut h = ResponseHeaders::new();
        h.set("Cache-Control", "a");
        h.set("Custom", "x");
        h.set("Cache-Control", "b");
        h.set_opt("Expires", None::<String>);
        h.set("cache-control", "c");
        assert_eq!(
            h.into_vec(),
            vec![
                ("Cache-Control".into(), "b".into()),
                ("Custom".into(), "x".into()),
                ("cache-control".into(), "c".into()),
            ]
        );
    }

    #[test]
    fn payload_limit_counts_base64() {
        // 4,718,592 bytes are exactly 6 MiB in base64; one more is over.
        assert!(check_payload(&vec![0; 4_718_592]).is_ok());
        let e = check_payload(&vec![0; 4_718_593]).expect_err("over");
        assert_eq!(
            e.to_json(),
            r#"{"status":413,"code":"TooLargeImageException","message":"The converted image is too large to return."}"#
        );
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let tag = etag(b"x");
        assert!(if_none_match(&tag, &tag));
        assert!(if_none_match(&format!("\"other\", W/{tag}"), &tag));
        assert!(if_none_match("*", &tag));
        assert!(!if_none_match("\"other\"", &tag));
        assert_ne!(etag(b"x"), etag(b"y"));
    }

    #[test]
    fn json_dates_as_javascript() {
        assert_eq!(
            js_json_date(time::OffsetDateTime::UNIX_EPOCH),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
