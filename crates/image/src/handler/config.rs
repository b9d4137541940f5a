//! The handler's configuration, read from Serverless Image Handler's environment variables.

use std::time::Duration;

use crate::ops::Limits;
use crate::request::RequestConfig;
use crate::response::Cors;
use crate::signature::SignatureMode;

/// `LAMBDAKIT_SIGNATURE_MODE`: `v8` / `path-and-query` (default) or `v6` / `path`.
pub const SIGNATURE_MODE_VAR: &str = "LAMBDAKIT_SIGNATURE_MODE";
/// `LAMBDAKIT_TIME_BUDGET_MS`: the time budget of one transform, in milliseconds.
pub const TIME_BUDGET_VAR: &str = "LAMBDAKIT_TIME_BUDGET_MS";
/// `LAMBDAKIT_MAX_OUTPUT_DIMENSION`: the most output width or height, in pixels.
pub const MAX_OUTPUT_DIMENSION_VAR: &str = "LAMBDAKIT_MAX_OUTPUT_DIMENSION";
/// `LAMBDAKIT_MAX_DECODED_MB`: the pixel memory budget of one transform, in MiB (`0`: none).
pub const MAX_DECODED_MB_VAR: &str = "LAMBDAKIT_MAX_DECODED_MB";
/// Set by Lambda: the function's memory, in MB.
pub const FUNCTION_MEMORY_VAR: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
/// What the memory budget leaves the rest of the function (runtime, the source and encoded
/// image, the response), in MiB.
const FUNCTION_RESERVE_MB: u64 = 128;

/// The image served when a request fails (`ENABLE_DEFAULT_FALLBACK_IMAGE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackImage {
    /// `DEFAULT_FALLBACK_IMAGE_BUCKET`.
    pub bucket: String,
    /// `DEFAULT_FALLBACK_IMAGE_KEY`.
    pub key: String,
}

/// What the handler does, as Serverless Image Handler's environment variables say.
///
/// | variable | field | as Serverless Image Handler reads it |
/// | --- | --- | --- |
/// | `SOURCE_BUCKETS` | `source_buckets` | comma-separated, all whitespace removed; the first is the default |
/// | `REWRITE_MATCH_PATTERN`, `REWRITE_SUBSTITUTION` | `rewrite` | both set and non-empty |
/// | `AUTO_WEBP` | `auto_webp` | `Yes` |
/// | `CORS_ENABLED`, `CORS_ORIGIN` | `cors` | `Yes`; the origin as given |
/// | `ENABLE_SIGNATURE` | `enable_signature` | `Yes` |
/// | `SECRETS_MANAGER`, `SECRET_KEY` | `secrets_manager`, `secret_key` | the secret's id and its JSON field |
/// | `ENABLE_DEFAULT_FALLBACK_IMAGE`, `DEFAULT_FALLBACK_IMAGE_BUCKET`, `DEFAULT_FALLBACK_IMAGE_KEY` | `fallback_image` | `Yes` and both not blank |
/// | `SHARP_SIZE_LIMIT` | `limits.max_input_pixels` | sharp's `limitInputPixels`: empty or not a number: the default (268,402,689); `0`: no limit; else the number |
///
/// And ours:
///
/// | variable | field | default |
/// | --- | --- | --- |
/// | `LAMBDAKIT_SIGNATURE_MODE` | `signature_mode` | `v8` (path and query); `v6` signs the path only |
/// | `LAMBDAKIT_TIME_BUDGET_MS` | `limits.time_budget` | 25 s |
/// | `LAMBDAKIT_MAX_OUTPUT_DIMENSION` | `limits.max_output_dimension` | 16,383 |
/// | `LAMBDAKIT_MAX_DECODED_MB` | `limits.max_decoded_bytes` | on Lambda, the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) less 128 MiB, at least 64 MiB; elsewhere 1 GiB; `0`: no limit |
///
/// Values of ours that do not parse leave the default (and log a warning).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Config {
    /// The allowed buckets; `None` when `SOURCE_BUCKETS` is unset (requests then fail with
    /// Serverless Image Handler's 400 `GetAllowedSourceBuckets::NoSourceBuckets`).
    pub source_buckets: Option<Vec<String>>,
    /// The Custom request rewrite: the JavaScript regex literal and its substitution.
    pub rewrite: Option<(String, String)>,
    /// WebP output for clients that accept it.
    pub auto_webp: bool,
    /// The CORS headers.
    pub cors: Cors,
    /// Whether requests must be signed.
    pub enable_signature: bool,
    /// How signatures are computed.
    pub signature_mode: SignatureMode,
    /// The Secrets Manager secret id holding the signing key.
    pub secrets_manager: Option<String>,
    /// The field of that secret's JSON that is the signing key.
    pub secret_key: Option<String>,
    /// The image served (with the error's status) when a request fails.
    pub fallback_image: Option<FallbackImage>,
    /// Limits on one transform.
    pub limits: Limits,
}

impl Config {
    /// The configuration from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The configuration from a lookup of environment variables (tests, other stores).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let yes = |name: &str| get(name).as_deref() == Some("Yes");
        let not_blank = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());

        let source_buckets = get("SOURCE_BUCKETS").map(|s| {
            s.chars()
                .filter(|c| !is_js_whitespace(*c))
                .collect::<String>()
                .split(',')
                .map(str::to_owned)
                .collect()
        });
        let rewrite = match (get("REWRITE_MATCH_PATTERN"), get("REWRITE_SUBSTITUTION")) {
            (Some(p), Some(s)) if !p.is_empty() && !s.is_empty() => Some((p, s)),
            _ => None,
        };
        let fallback_image = {
            let bucket = get("DEFAULT_FALLBACK_IMAGE_BUCKET");
            let key = get("DEFAULT_FALLBACK_IMAGE_KEY");
            if yes("ENABLE_DEFAULT_FALLBACK_IMAGE") && not_blank(&bucket) && not_blank(&key) {
                bucket
                    .zip(key)
                    .map(|(bucket, key)| FallbackImage { bucket, key })
            } else {
                None
            }
        };

        let mut limits = Limits::default();
        if let Some(pixels) = get("SHARP_SIZE_LIMIT").and_then(|v| sharp_size_limit(&v)) {
            limits.max_input_pixels = pixels;
        }
        if let Some(v) = get(TIME_BUDGET_VAR) {
            match v.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => limits.time_budget = Duration::from_millis(ms),
                _ => {
                    tracing::warn!(variable = TIME_BUDGET_VAR, value = %v, "not a positive number of milliseconds; using the default")
                }
            }
        }
        limits.max_decoded_bytes = memory_budget(
            get(MAX_DECODED_MB_VAR).as_deref(),
            get(FUNCTION_MEMORY_VAR).as_deref(),
        );
        if let Some(v) = get(MAX_OUTPUT_DIMENSION_VAR) {
            match v.trim().parse::<u32>() {
                Ok(px) if px > 0 => limits.max_output_dimension = px,
                _ => {
                    tracing::warn!(variable = MAX_OUTPUT_DIMENSION_VAR, value = %v, "not a positive number of pixels; using the default")
                }
            }
        }
        let signature_mode = match get(SIGNATURE_MODE_VAR) {
            None => SignatureMode::default(),
            Some(v) => SignatureMode::from_name(&v).unwrap_or_else(|| {
                tracing::warn!(variable = SIGNATURE_MODE_VAR, value = %v, "unknown signature mode; using v8 (path and query)");
                SignatureMode::default()
            }),
        };

        Self {
            source_buckets,
            rewrite,
            auto_webp: yes("AUTO_WEBP"),
            cors: Cors {
                enabled: yes("CORS_ENABLED"),
                origin: get("CORS_ORIGIN"),
            },
            enable_signature: yes("ENABLE_SIGNATURE"),
            signature_mode,
            secrets_manager: get("SECRETS_MANAGER"),
            secret_key: get("SECRET_KEY"),
            fallback_image,
            limits,
        }
    }

    /// What request parsing needs of it.
    pub fn request_config(&self) -> RequestConfig {
        RequestConfig {
            source_buckets: self.source_buckets.clone().unwrap_or_default(),
            rewrite: self.rewrite.clone(),
            auto_webp: self.auto_webp,
        }
    }
}

/// JavaScript's `\s`: Unicode white space plus the BOM.
fn is_js_whitespace(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// [`Limits::max_decoded_bytes`] from `LAMBDAKIT_MAX_DECODED_MB`, else from the function's
/// memory, else the default.
fn memory_budget(explicit: Option<&str>, function_mb: Option<&str>) -> u64 {
    const MIB: u64 = 1 << 20;
    if let Some(v) = explicit {
        match v.trim().parse::<u64>() {
            Ok(mb) => return mb.saturating_mul(MIB),
            Err(_) => {
                tracing::warn!(variable = MAX_DECODED_MB_VAR, value = %v, "not a number of MiB; using the default")
            }
        }
    }
    match function_mb.map(|v| v.trim().parse::<u64>()) {
        Some(Ok(mb)) if mb > 0 => mb.saturating_sub(FUNCTION_RESERVE_MB).max(64) * MIB,
        _ => Limits::default().max_decoded_bytes,
    }
}

/// `SHARP_SIZE_LIMIT` as Serverless Image Handler hands it to sharp's `limitInputPixels`:
/// `None` for the default (empty, or not a JavaScript number), `u64::MAX` for `0` (no limit),
/// the number otherwise. Negative or fractional numbers, which sharp refuses, keep the default.
fn sharp_size_limit(value: &str) -> Option<u64> {
    let n = js_number(value)?;
    if n == 0.0 {
        Some(u64::MAX)
    } else if n > 0.0 && n.fract() == 0.0 && n < u64::MAX as f64 {
        Some(n as u64)
    } else {
        None
    }
}

/// JavaScript's `Number(string)` for the forms a size limit takes (decimal, exponent, hex,
/// surrounding white space; blank is 0); `None` for NaN.
fn js_number(value: &str) -> Option<f64> {
    let t = value.trim_matches(is_js_whitespace);
    if value.is_empty() {
        return None; // Serverless Image Handler checks `=== ""` first: the default.
    }
    if t.is_empty() {
        return Some(0.0);
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|n| n as f64);
    }
    if t.chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return None; // "inf", "NaN", "1px": Rust would parse some, JavaScript gives NaN.
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_serverless_image_handler_variables() {
        let c = config(&[
            ("SOURCE_BUCKETS", " bucket-a, bucket-b ,bucket-c"),
            ("AUTO_WEBP", "Yes"),
            ("CORS_ENABLED", "Yes"),
            ("CORS_ORIGIN", "*"),
            ("ENABLE_SIGNATURE", "yes"),
            ("ENABLE_DEFAULT_FALLBACK_IMAGE", "Yes"),
            ("DEFAULT_FALLBACK_IMAGE_BUCKET", "fb"),
            ("DEFAULT_FALLBACK_IMAGE_KEY", " "),
            ("REWRITE_MATCH_PATTERN", "/(filters-)/gm"),
            ("REWRITE_SUBSTITUTION", "filters:"),
            ("SHARP_SIZE_LIMIT", "1e6"),
        ]);
        assert_eq!(
            c.source_buckets,
            Some(vec![
                "bucket-a".into(),
                "bucket-b".into(),
                "bucket-c".into()
            ])
        );
        assert!(c.auto_webp && c.cors.enabled);
        assert_eq!(c.cors.origin.as_deref(), Some("*"));
        assert!(!c.enable_signature, "only `Yes` enables");
        assert_eq!(c.fallback_image, None, "a blank key disables the fallback");
        assert_eq!(
            c.rewrite,
            Some(("/(filters-)/gm".into(), "filters:".into()))
        );
        assert_eq!(c.limits.max_input_pixels, 1_000_000);
        assert_eq!(c.signature_mode, SignatureMode::PathAndQuery);

        let none = config(&[]);
        assert_eq!(none.source_buckets, None);
        assert_eq!(
            none.limits.max_input_pixels,
            Limits::default().max_input_pixels
        );
    }

    #[test]
    fn the_memory_budget_follows_the_function_memory() {
        const MIB: u64 = 1 << 20;
        let budget = |pairs: &[(&str, &str)]| config(pairs).limits.max_decoded_bytes;
        assert_eq!(budget(&[]), Limits::default().max_decoded_bytes);
        assert_eq!(budget(&[(FUNCTION_MEMORY_VAR, "1024")]), 896 * MIB);
        assert_eq!(budget(&[(FUNCTION_MEMORY_VAR, "128")]), 64 * MIB);
        assert_eq!(
            budget(&[(FUNCTION_MEMORY_VAR, "junk")]),
            Limits::default().max_decoded_bytes
        );
        assert_eq!(
            budget(&[(FUNCTION_MEMORY_VAR, "1024"), (MAX_DECODED_MB_VAR, "300")]),
            300 * MIB
        );
        assert_eq!(budget(&[(MAX_DECODED_MB_VAR, "0")]), 0, "0 turns it off");
        assert_eq!(
            budget(&[(MAX_DECODED_MB_VAR, "lots"), (FUNCTION_MEMORY_VAR, "2048")]),
            1920 * MIB
        );
    }

    #[test]
    fn sharp_size_limit_as_javascript_reads_it() {
        assert_eq!(sharp_size_limit(""), None);
        assert_eq!(sharp_size_limit("abc"), None);
        assert_eq!(sharp_size_limit("Infinity"), None);
        assert_eq!(sharp_size_limit("0"), Some(u64::MAX));
        assert_eq!(sharp_size_limit(" "), Some(u64::MAX));
        assert_eq!(sharp_size_limit("0x10"), Some(16));
        assert_eq!(sharp_size_limit(" 1000 "), Some(1000));
        assert_eq!(sharp_size_limit("-5"), None);
        assert_eq!(sharp_size_limit("1.5"), None);
    }

    #[test]
    fn our_variables() {
        let c = config(&[
            (SIGNATURE_MODE_VAR, "v6"),
            (TIME_BUDGET_VAR, "1500"),
            (MAX_OUTPUT_DIMENSION_VAR, "4096"),
        ]);
        assert_eq!(c.signature_mode, SignatureMode::PathOnly);
        assert_eq!(c.limits.time_budget, Duration::from_millis(1500));
        assert_eq!(c.limits.max_output_dimension, 4096);
        let bad = config(&[(SIGNATURE_MODE_VAR, "v9"), (TIME_BUDGET_VAR, "soon")]);
        assert_eq!(bad.signature_mode, SignatureMode::PathAndQuery);
        assert_eq!(bad.limits.time_budget, Limits::default().time_budget);
    }
}
