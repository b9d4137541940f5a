//! Settings, read once at cold start from the environment the template sets.

use std::time::Duration;

use crate::Error;

/// The largest base64 body GeneratePDF returns inline by default: 5 MB, below Lambda's 6 MB
/// response limit (6,291,456 bytes for the whole response, headers and JSON envelope included).
pub const DEFAULT_PDF_INLINE_LIMIT: usize = 5_000_000;

/// How long a presigned link to a large PDF works by default.
pub const DEFAULT_URL_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// The scanner's settings.
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `BUCKET` | required | the bucket with page images (`private/`), Textract results (`textract/`) and large PDFs (`exports/`) |
/// | `PROJECTS_TABLE` | required | the Projects table (`username`, `project_name`) |
/// | `PAGES_TABLE` | required | the Pages table (`project`, `page` as a number) |
/// | `PDF_INLINE_LIMIT` | `5000000` | the largest base64 PDF body returned inline; larger PDFs go to S3 behind a presigned link |
/// | `URL_EXPIRY_SECONDS` | `900` | how long that link works |
/// | `CORS_ALLOW_ORIGIN` | `*` | the `Access-Control-Allow-Origin` of every API response |
/// | `QUERY_PAGE_SIZE` | none (DynamoDB's 1 MB pages) | `Limit` of each DynamoDB `Query` (tests set it small to force pagination) |
/// | `LIST_PAGE_SIZE` | none (1000) | `MaxKeys` of each S3 `ListObjectsV2` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The bucket.
    pub bucket: String,
    /// The Projects table.
    pub projects_table: String,
    /// The Pages table.
    pub pages_table: String,
    /// The largest base64 PDF body returned inline, in bytes.
    pub pdf_inline_limit: usize,
    /// How long a presigned link to a large PDF works.
    pub url_expiry: Duration,
    /// The `Access-Control-Allow-Origin` of every API response.
    pub cors_allow_origin: String,
    /// `Limit` of each DynamoDB `Query`, when set.
    pub query_page_size: Option<i32>,
    /// `MaxKeys` of each S3 `ListObjectsV2`, when set.
    pub list_page_size: Option<i32>,
}

impl Config {
    /// Settings with the defaults for everything but the bucket and the tables.
    pub fn new(
        bucket: impl Into<String>,
        projects_table: impl Into<String>,
        pages_table: impl Into<String>,
    ) -> Self {
        Self {
            bucket: bucket.into(),
            projects_table: projects_table.into(),
            pages_table: pages_table.into(),
            pdf_inline_limit: DEFAULT_PDF_INLINE_LIMIT,
            url_expiry: DEFAULT_URL_EXPIRY,
            cors_allow_origin: "*".into(),
            query_page_size: None,
            list_page_size: None,
        }
    }

    /// Reads the settings from `env` (a lookup such as `|k| std::env::var(k).ok()`).
    ///
    /// Returns [`Error::Config`] naming the variable when a required one is missing or a number
    /// does not parse.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let required = |name: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| Error::Config(format!("{name} is not set")))
        };
        let mut config = Self::new(
            required("BUCKET")?,
            required("PROJECTS_TABLE")?,
            required("PAGES_TABLE")?,
        );
        if let Some(v) = env("PDF_INLINE_LIMIT") {
            config.pdf_inline_limit = number(&v, "PDF_INLINE_LIMIT")?;
        }
        if let Some(v) = env("URL_EXPIRY_SECONDS") {
            let seconds: u64 = number(&v, "URL_EXPIRY_SECONDS")?;
            // SigV4 presigned URLs work at most 7 days.
            if !(1..=7 * 24 * 3600).contains(&seconds) {
                return Err(Error::Config(format!(
                    "URL_EXPIRY_SECONDS={seconds} is not between 1 and 604800"
                )));
            }
            config.url_expiry = Duration::from_secs(seconds);
        }
        if let Some(v) = env("CORS_ALLOW_ORIGIN").filter(|v| !v.trim().is_empty()) {
            let origin = v.trim();
            // It becomes a header value: visible ASCII only.
            if !origin.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Config(format!(
                    "CORS_ALLOW_ORIGIN={origin:?} is not an origin"
                )));
            }
            config.cors_allow_origin = origin.to_owned();
        }
        if let Some(v) = env("QUERY_PAGE_SIZE") {
            config.query_page_size = Some(positive(&v, "QUERY_PAGE_SIZE")?);
        }
        if let Some(v) = env("LIST_PAGE_SIZE") {
            config.list_page_size = Some(positive(&v, "LIST_PAGE_SIZE")?);
        }
        Ok(config)
    }
}

fn number<T: std::str::FromStr>(value: &str, name: &str) -> Result<T, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::Config(format!("{name}={value:?} is not a number")))
}

fn positive(value: &str, name: &str) -> Result<i32, Error> {
    let n: i32 = number(value, name)?;
    if n < 1 {
        return Err(Error::Config(format!("{name}={n} must be at least 1")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn required_settings_are_named_when_missing() {
        let e = Config::from_env(env(&[("BUCKET", "b"), ("PAGES_TABLE", "p")]))
            .expect_err("missing PROJECTS_TABLE");
        assert_eq!(
            e.to_string(),
            "invalid configuration: PROJECTS_TABLE is not set"
        );
    }

    #[test]
    fn defaults_and_overrides() {
        let base = [
            ("BUCKET", "b"),
            ("PROJECTS_TABLE", "projects"),
            ("PAGES_TABLE", "pages"),
        ];
        let c = Config::from_env(env(&base)).expect("config");
        assert_eq!(c, Config::new("b", "projects", "pages"));
        assert_eq!(c.pdf_inline_limit, 5_000_000);

        let mut vars = base.to_vec();
        vars.extend([
            ("PDF_INLINE_LIMIT", "1000"),
            ("URL_EXPIRY_SECONDS", "60"),
            ("CORS_ALLOW_ORIGIN", "https://scanner.example.com"),
            ("QUERY_PAGE_SIZE", "2"),
        ]);
        let c = Config::from_env(env(&vars)).expect("config");
        assert_eq!(c.pdf_inline_limit, 1000);
        assert_eq!(c.url_expiry, Duration::from_secs(60));
        assert_eq!(c.cors_allow_origin, "https://scanner.example.com");
        assert_eq!(c.query_page_size, Some(2));

        for bad in [
            ("PDF_INLINE_LIMIT", "5MB"),
            ("URL_EXPIRY_SECONDS", "0"),
            ("QUERY_PAGE_SIZE", "0"),
            ("CORS_ALLOW_ORIGIN", "https://a.example\r\nx-evil: 1"),
        ] {
            let mut vars = base.to_vec();
            vars.push(bad);
            let e = Config::from_env(env(&vars)).expect_err("bad value");
            assert!(e.to_string().contains(bad.0), "{e}");
        }
    }
}
