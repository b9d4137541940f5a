//! Parsing a request into what to fetch and which edits to make, exactly as Serverless Image
//! Handler v8 does (`image-request.ts`, `thumbor-mapper.ts`, `query-param-mapper.ts`): the
//! request type, the bucket, the key, the edits, the headers of a Default request, and, once
//! the source's content type is known, the output format. Pure: no I/O.
//!
//! ```
//! use std::collections::BTreeMap;
//! use lambdakit_image::{ImageRequest, RequestConfig, RequestType};
//!
//! let config = RequestConfig::from_lookup(|name| match name {
//!     "SOURCE_BUCKETS" => Some("images, other".to_owned()),
//!     _ => None,
//! });
//! let query = BTreeMap::from([("width".to_owned(), "100".to_owned())]);
//! let mut request = ImageRequest::parse(
//!     "/fit-in/200x300/filters:grayscale()/photos/cat.jpg",
//!     &query,
//!     None,
//!     &config,
//! )?;
//! assert_eq!(request.request_type, RequestType::Thumbor);
//! assert_eq!((request.bucket.as_str(), request.key.as_str()), ("images", "photos/cat.jpg"));
//! // The query's `width` replaces the path's whole `resize`, as in Serverless Image Handler.
//! assert_eq!(
//!     serde_json::to_value(&request.edits).expect("JSON"),
//!     serde_json::json!({"resize": {"width": 100}, "grayscale": true})
//! );
//! // In the order Serverless Image Handler calls sharp.
//! assert_eq!(request.edits.keys().collect::<Vec<_>>(), ["resize", "grayscale"]);
//! request.resolve_output("image/jpeg")?;
//! assert_eq!(request.output_format, None);
//! # Ok::<(), lambdakit_image::Error>(())
//! ```
//!
//! # The edits object
//!
//! [`ImageRequest::edits`] is the object Serverless Image Handler hands to its pipeline,
//! key for key and value for value, with these conventions where JSON cannot say what
//! JavaScript holds:
//!
//! - **`rotate`**: absent = no rotation; a number = rotate by that angle; `null` = keep no
//!   metadata and do not rotate (`filters:strip_exif()`, `filters:strip_icc()`, `?rotate=`,
//!   or a Default request's `"rotate": null`); the string [`AUTO_ORIENT`] (`"auto"`) = the
//!   key present with the value `undefined`, which Serverless Image Handler v8 sets for
//!   `filters:rotate()` and answers with sharp's `autoOrient()`. (v6.3.3 mapped
//!   `filters:rotate()` to `rotate: 0`.) A Default request that sends `"rotate": "auto"`
//!   itself gets auto-orientation too, where sharp would have failed.
//! - **Numbers** are what JavaScript computes: integral values as JSON integers, others as
//!   floats (`proportion(0.3)` of 100 is `30.000000000000004`), `-0` as `0`. `NaN` and
//!   infinities, which JSON cannot hold, are the strings `"NaN"`, `"Infinity"` and
//!   `"-Infinity"`: JavaScript's `Number()` turns them back into the same values, so a
//!   pipeline that coerces like sharp's callers do sees what sharp would have seen.
//! - **`undefined`** members (`overlayWith.alpha` when the watermark gives none,
//!   `smartCrop.padding`, ...) are absent.
//! - Default requests' edits pass through untouched apart from the numbers; an `edits` that
//!   is an array or a string becomes an object keyed by index, as JavaScript's spread and
//!   `for...in` see it.
//!
//! # Where this differs from Serverless Image Handler
//!
//! - A request whose JSON has a number out of `f64` range (`1e400`), a lone surrogate escape
//!   or nesting deeper than 128 is not a Default request here (`serde_json` rejects it); Node
//!   would accept it.
//! - Query parameters come as a map, so their URL order is lost; it only matters when both
//!   `grayscale` and `greyscale` are given (`greyscale` wins here).
//! - Output format `raw` (raw pixels) is refused with Serverless Image Handler's
//!   `UnsupportedOutputImageFormatException`, as it refuses `heic` or `pdf`.
//! - Custom patterns: JavaScript's `i` flag folds case by Unicode rules here, `\p{...}` and
//!   lone-surrogate escapes are refused, a backreference to a group that did not take part
//!   fails to match instead of matching the empty string, and without the `u` flag an astral
//!   character (an emoji) is one character here where JavaScript sees two UTF-16 halves.
//!   A pattern that backtracks without bound is stopped with a 500 where Node would hang.
//!
//! Everything else is checked against Serverless Image Handler's own code: the crate's tests
//! hold its Jest specs as cases and 2,704 answers of its `ImageRequest.setup` run on Node.
//!
//! # Serverless Image Handler v6.3.3
//!
//! v6.3.3, still widely deployed, parses requests the same way (same regexes, same Thumbor
//! mapper, same Default requests) except that:
//!
//! - it has no query-parameter edits: `?width=`, `?format=` and the rest change nothing;
//! - `filters:rotate()` is `rotate: 0` (v8: auto-orient, [`AUTO_ORIENT`]);
//! - it has no `filters:smart_crop()` filter (the filter is ignored);
//! - its header deny-list lacks `Set-Cookie`;
//! - it has no `expires` parameter (not parsed here in either version).

pub(crate) mod color_names;
mod default;
mod js;
mod jsregex;
mod query;
mod thumbor;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

pub use default::decode_request;

use crate::{Edits, Error, Format, Result};

/// The value [`ImageRequest::edits`] holds under `rotate` for `filters:rotate()`: auto-orient
/// from EXIF (sharp's `autoOrient()`).
pub const AUTO_ORIENT: &str = "auto";

/// JavaScript's `Number(value)` for a value of the edits: `"100"` is 100, `null` and `""` are
/// 0, `true` is 1, `"abc"` and objects are `NaN`, and the strings `"NaN"`, `"Infinity"` and
/// `"-Infinity"` this module writes for what JSON cannot hold are those values again. For the
/// pipeline, wherever Serverless Image Handler or sharp coerces an edit to a number.
pub fn js_number(value: &Value) -> f64 {
    js::value_to_number(value)
}

/// JavaScript's truthiness of a value of the edits (`if (resize.width)`): `false` for `null`,
/// `false`, 0, `""` and the `"NaN"` this module writes for `NaN`; `true` otherwise.
pub fn js_truthy(value: &Value) -> bool {
    match value {
        Value::String(s) if s == "NaN" => false,
        other => js::truthy(other),
    }
}

/// The query parameters that make edits (`QueryParamMapper.QUERY_PARAM_KEYS`).
pub const QUERY_PARAM_KEYS: [&str; 9] = [
    "format",
    "fit",
    "width",
    "height",
    "rotate",
    "flip",
    "flop",
    "grayscale",
    "greyscale",
];

const SVG: &str = "image/svg+xml";

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
    /// `SOURCE_BUCKETS`: the allowed buckets; the first is the default. Empty means the
    /// variable is unset, which every request answers with a 400
    /// `GetAllowedSourceBuckets::NoSourceBuckets` (an empty variable is `vec![""]`).
    pub source_buckets: Vec<String>,
    /// `REWRITE_MATCH_PATTERN` (a JavaScript regex literal such as `/^\/v1\//g`) and
    /// `REWRITE_SUBSTITUTION`. Requests are Custom only when both are non-empty.
    pub rewrite: Option<(String, String)>,
    /// `AUTO_WEBP=Yes`: WebP output when the `Accept` header includes `image/webp`.
    pub auto_webp: bool,
}

impl RequestConfig {
    /// Reads `SOURCE_BUCKETS`, `REWRITE_MATCH_PATTERN`, `REWRITE_SUBSTITUTION` and `AUTO_WEBP`
    /// through `get` (for example `|name| std::env::var(name).ok()`), as Serverless Image
    /// Handler reads them: white space removed from `SOURCE_BUCKETS` before splitting at
    /// commas, the rewrite kept only when both variables are non-empty, `AUTO_WEBP` on only
    /// for exactly `Yes`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let source_buckets = get("SOURCE_BUCKETS")
            .map(|s| {
                let compact: String = s.chars().filter(|&c| !js::is_js_space(c)).collect();
                compact.split(',').map(str::to_owned).collect()
            })
            .unwrap_or_default();
        let rewrite = match (get("REWRITE_MATCH_PATTERN"), get("REWRITE_SUBSTITUTION")) {
            (Some(pattern), Some(substitution))
                if !pattern.is_empty() && !substitution.is_empty() =>
            {
                Some((pattern, substitution))
            }
            _ => None,
        };
        Self {
            source_buckets,
            rewrite,
            auto_webp: get("AUTO_WEBP").as_deref() == Some("Yes"),
        }
    }

    /// `getAllowedSourceBuckets()`.
    fn allowed_buckets(&self) -> Result<&[String]> {
        if self.source_buckets.is_empty() {
            return Err(Error::new(
                400,
                "GetAllowedSourceBuckets::NoSourceBuckets",
                "The SOURCE_BUCKETS variable could not be read. Please check that it is not empty and contains at least one source bucket, or multiple buckets separated by commas. Spaces can be provided between commas and bucket names, these will be automatically parsed out when decoding.",
            ));
        }
        Ok(&self.source_buckets)
    }
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
    /// The edits, as Serverless Image Handler's edits object (see the [module docs](self)).
    pub edits: Edits,
    /// The output format. After [`ImageRequest::parse`] it is the one a non-SVG source would
    /// get; [`ImageRequest::resolve_output`] settles it. `None`: keep the source's format.
    pub output_format: Option<Format>,
    /// WebP `effort` (0..=6) of a Default request whose output is WebP; `None`: sharp's
    /// default (4).
    pub effort: Option<u8>,
    /// Response headers asked for by a Default request, after the deny-list.
    pub headers: Option<BTreeMap<String, String>>,
    /// The response's `Content-Type` as Serverless Image Handler sets it: `image/<format>`
    /// when the output format was changed (so `toFormat: "jpg"` gives `image/jpg`), the
    /// source's otherwise. `None` until [`ImageRequest::resolve_output`].
    pub content_type: Option<String>,
    /// What `determineOutputFormat` needs later.
    pending: Pending,
}

#[derive(Debug, Clone, PartialEq)]
struct Pending {
    /// `getOutputFormat()`: `"webp"` from `AUTO_WEBP`, or a Default request's `outputFormat`.
    output: Option<Value>,
    /// A Default request's `effort`, as sent.
    effort: Option<Value>,
    /// False when the edits are JavaScript's `undefined` or `null`.
    edits_defined: bool,
}

/// What `determineOutputFormat` decided.
struct Settled {
    output: Option<Value>,
    effort: Option<u8>,
}

static DEFAULT_PATH: LazyLock<jsregex::JsRegex> = LazyLock::new(|| {
    jsregex::fixed(
        r"^(\/?)([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$",
        "",
    )
});

impl ImageRequest {
    /// Parses a request path, its query parameters and `Accept` header, in Serverless Image
    /// Handler's order: request type, bucket, key, edits, query-parameter edits.
    ///
    /// `signature` and `expires` are not checked here (see [`crate::signature`]); like any
    /// other parameter without a mapping they make no edits.
    ///
    /// # Errors
    ///
    /// Serverless Image Handler's errors: 400 `RequestTypeError` for a path that is none of
    /// the three types, 400 `GetAllowedSourceBuckets::NoSourceBuckets` when
    /// `source_buckets` is empty, 403 `ImageBucket::CannotAccessBucket` for a Default
    /// request's bucket outside it, 404 `NoSuchKey` for a key that is empty or not a string
    /// (what S3 answers), and the 500 `InternalError` where its JavaScript throws: a Default
    /// request that is JSON `null`, a Thumbor filter not of the form `name(value)`, a colour
    /// `fill()` or `background_color()` cannot parse, a bad `%` escape in the key, or a
    /// `REWRITE_MATCH_PATTERN` that is not a valid regular expression (the reason is the
    /// error's source).
    pub fn parse(
        path: &str,
        query: &BTreeMap<String, String>,
        accept: Option<&str>,
        config: &RequestConfig,
    ) -> Result<Self> {
        let (request_type, decoded) = request_type(path, config)?;
        let (bucket, key, mut edits, edits_defined) = match &decoded {
            Some(decoded) => {
                if decoded.is_null() {
                    return Err(internal(
                        "TypeError: Cannot read properties of null (reading 'bucket')",
                    ));
                }
                let allowed = config.allowed_buckets()?;
                let bucket = match default::field(decoded, "bucket") {
                    None => allowed[0].clone(),
                    Some(Value::String(b)) if allowed.contains(b) => b.clone(),
                    Some(_) => {
                        return Err(Error::new(
                            403,
                            "ImageBucket::CannotAccessBucket",
                            "The bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS.",
                        ));
                    }
                };
                let key = match default::field(decoded, "key") {
                    Some(Value::String(k)) => Ok(k.clone()),
                    Some(other) => Err(js::to_js_string(other)),
                    None => Err("undefined".to_owned()),
                };
                let raw_edits = default::field(decoded, "edits");
                let edits: Edits = raw_edits
                    .map(|e| match e {
                        Value::Object(map) => default::in_document_order(
                            map,
                            default::edits_key_order(path).unwrap_or_default(),
                        ),
                        other => default::entries(other).into_iter().collect(),
                    })
                    .unwrap_or_default();
                let defined = raw_edits.is_some_and(|e| !e.is_null());
                (bucket, key, edits, defined)
            }
            None => {
                let allowed = config.allowed_buckets()?;
                let bucket = path
                    .split('/')
                    .filter_map(|part| part.strip_prefix("s3:"))
                    .find(|candidate| allowed.iter().any(|b| b == candidate))
                    .map_or_else(|| allowed[0].clone(), str::to_owned);
                let rewritten = match (&config.rewrite, request_type) {
                    (Some((pattern, substitution)), RequestType::Custom) => {
                        rewrite(path, pattern, substitution)?
                    }
                    _ => path.to_owned(),
                };
                let key = thumbor::parse_key(&rewritten, &bucket).map_err(|e| internal(e.0))?;
                let edits = thumbor::map_path_to_edits(&rewritten).map_err(|e| internal(e.0))?;
                (bucket, Ok(key), edits, true)
            }
        };

        let query_edits = query::map_query_params_to_edits(query);
        let edits_defined = if query_edits.is_empty() {
            edits_defined
        } else {
            edits.extend(query_edits);
            true
        };

        let key = match key {
            Ok(key) if !key.is_empty() => key,
            Ok(_) => return Err(no_such_key("")),
            Err(shown) => return Err(no_such_key(&shown)),
        };

        let accepts_webp = config.auto_webp && accept.is_some_and(|a| a.contains("image/webp"));
        let pending = Pending {
            output: if accepts_webp {
                Some(Value::from("webp"))
            } else {
                decoded
                    .as_ref()
                    .and_then(|d| default::field(d, "outputFormat"))
                    .cloned()
            },
            effort: decoded
                .as_ref()
                .and_then(|d| default::field(d, "effort"))
                .cloned(),
            edits_defined,
        };
        let headers = decoded.as_ref().and_then(default::headers);
        let mut request = Self {
            request_type,
            bucket,
            key,
            edits,
            output_format: None,
            effort: None,
            headers,
            content_type: None,
            pending,
        };
        if let Ok(settled) = request.settle("") {
            request.effort = settled.effort;
            request.output_format = settled.output.as_ref().and_then(|o| convert_format(o).ok());
        }
        Ok(request)
    }

    /// Settles the output format, WebP effort, `Content-Type` and per-format quality once the
    /// source image's content type is known, as Serverless Image Handler's `setup` does after
    /// fetching it: an SVG source with edits but no `toFormat` becomes PNG;
    /// `determineOutputFormat` (`AUTO_WEBP` and `Accept`, a Default request's `outputFormat`
    /// and `effort`, `edits.toFormat` over both) runs unless the source is SVG with nothing
    /// asked; `fixQuality` moves a Thumbor or Custom request's quality (`jpeg: {quality}`) to
    /// the output format's key.
    ///
    /// # Errors
    ///
    /// 500 `UnsupportedOutputImageFormatException` (`Format to pdf not supported`) for an
    /// output format Serverless Image Handler cannot convert to (and `raw`, see the module
    /// docs), which it answers when processing; and its 500 `InternalError` for an SVG source
    /// of a Default request without edits (its JavaScript reads `edits.toFormat` of
    /// `undefined`).
    pub fn resolve_output(&mut self, content_type: &str) -> Result<()> {
        let settled = self.settle(content_type)?;
        self.effort = settled.effort;
        let Some(output) = settled.output else {
            self.output_format = None;
            self.content_type = Some(content_type.to_owned());
            return Ok(());
        };
        let name = js::to_js_string(&output);
        self.content_type = Some(format!("image/{name}"));
        self.fix_quality(&output);
        self.output_format = Some(convert_format(&output)?);
        Ok(())
    }

    /// `determineOutputFormat` and the SVG rules around it.
    fn settle(&self, content_type: &str) -> Result<Settled> {
        let svg = content_type == SVG;
        let to_format = self.edits.get("toFormat").filter(|f| js::truthy(f));
        let mut output = None;
        if svg && self.pending.edits_defined && !self.edits.is_empty() && to_format.is_none() {
            output = Some(Value::from("png"));
        }
        if svg && !self.pending.edits_defined {
            return Err(internal(
                "TypeError: Cannot read properties of undefined (reading 'toFormat')",
            ));
        }
        let mut effort = None;
        if !svg || to_format.is_some() || output.is_some() {
            let requested = self.pending.output.as_ref();
            if self.request_type == RequestType::Default
                && requested.and_then(Value::as_str) == Some("webp")
                && let Some(sent) = &self.pending.effort
            {
                let e = js::value_to_number(sent).trunc();
                effort = Some(if (0.0..=6.0).contains(&e) {
                    // In 0..=6 and integral: exact.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let e = e as u8;
                    e
                } else {
                    4
                });
            }
            if let Some(to_format) = to_format {
                output = Some(to_format.clone());
            } else if let Some(requested) = requested.filter(|r| js::truthy(r)) {
                output = Some(requested.clone());
            }
        }
        Ok(Settled { output, effort })
    }

    /// `fixQuality`.
    fn fix_quality(&mut self, output: &Value) {
        const ACCEPTED: [&str; 7] = ["jpeg", "png", "webp", "tiff", "heif", "gif", "avif"];
        if !matches!(
            self.request_type,
            RequestType::Custom | RequestType::Thumbor
        ) {
            return;
        }
        let Some(output) = output.as_str().filter(|o| ACCEPTED.contains(o)) else {
            return;
        };
        let quality_key = self
            .edits
            .keys()
            .find(|k| ACCEPTED.contains(&k.as_str()))
            .cloned();
        if let Some(key) = quality_key.filter(|k| k != output)
            && let Some(quality) = self.edits.shift_remove(&key)
        {
            self.edits.insert(output.to_owned(), quality);
        }
    }

    /// The headers a path would ask for read as a Default request, whatever its type, or
    /// `None`: what Serverless Image Handler reads the `Cache-Control` of its default
    /// fallback image from (`parseImageHeaders(event, RequestTypes.DEFAULT)`, errors
    /// ignored).
    pub fn fallback_headers(path: &str) -> Option<BTreeMap<String, String>> {
        decode_request(path)
            .ok()
            .as_ref()
            .and_then(default::headers)
    }
}

/// `parseRequestType`, with the decoded JSON of a Default request.
fn request_type(path: &str, config: &RequestConfig) -> Result<(RequestType, Option<Value>)> {
    if DEFAULT_PATH.is_match(path).unwrap_or(false)
        && let Ok(decoded) = decode_request(path)
    {
        return Ok((RequestType::Default, Some(decoded)));
    }
    let custom = config
        .rewrite
        .as_ref()
        .is_some_and(|(pattern, substitution)| !pattern.is_empty() && !substitution.is_empty());
    if custom {
        return Ok((RequestType::Custom, None));
    }
    if has_no_extension(path) || has_image_extension(path) {
        return Ok((RequestType::Thumbor, None));
    }
    Err(Error::new(
        400,
        "RequestTypeError",
        "The type of request you are making could not be processed. Please ensure that your original image is of a supported file type (jpg/jpeg, png, tiff/tif, webp, svg, gif, avif) and that your image request is provided in the correct syntax. Refer to the documentation for additional guidance on forming image requests.",
    ))
}

/// `/^((.(?!(\.[^.\\/]+$)))*$)/i`: no line terminator, and no extension after the first
/// character (a last `.` followed by characters none of which is `\` or `/`).
fn has_no_extension(path: &str) -> bool {
    if path.chars().any(js::is_line_terminator) {
        return false;
    }
    match path.rfind('.') {
        Some(dot) if dot > 0 => {
            let tail = &path[dot + 1..];
            tail.is_empty() || tail.contains(['\\', '/'])
        }
        _ => true,
    }
}

/// `/.*(\.jpg$|\.jpeg$|.\.png$|\.webp$|\.tiff$|\.tif$|\.svg$|\.gif$|\.avif$)/i`.
fn has_image_extension(path: &str) -> bool {
    let ends_with = |suffix: &str| {
        path.len() >= suffix.len()
            && path.is_char_boundary(path.len() - suffix.len())
            && path[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    if [
        ".jpg", ".jpeg", ".webp", ".tiff", ".tif", ".svg", ".gif", ".avif",
    ]
    .into_iter()
    .any(ends_with)
    {
        return true;
    }
    ends_with(".png")
        && path[..path.len() - 4]
            .chars()
            .next_back()
            .is_some_and(|c| !js::is_line_terminator(c))
}

/// `path.replace(new RegExp(pattern, flags), substitution)` with the pattern and flags cut
/// out of `REWRITE_MATCH_PATTERN` as Serverless Image Handler cuts them: the flags are what
/// follows the last `/`, the pattern what lies between the first character and that `/`.
fn rewrite(path: &str, literal: &str, substitution: &str) -> Result<String> {
    let units: Vec<u16> = literal.encode_utf16().collect();
    let flags = literal.rsplit('/').next().unwrap_or(literal);
    let flags_len = flags.encode_utf16().count();
    // `slice(1, length - 1 - flags.length)`: a negative end counts from the end.
    let len = units.len();
    let end = match (len + 1).checked_sub(flags_len + 2) {
        Some(end) => end,
        None => len.saturating_sub(1),
    };
    let source = if end > 1 {
        String::from_utf16_lossy(&units[1..end])
    } else {
        String::new()
    };
    // The pattern is configuration: compile it once, not on every request.
    static LAST: Mutex<Option<(String, Arc<jsregex::JsRegex>)>> = Mutex::new(None);
    let cached = LAST.lock().ok().and_then(|last| {
        last.as_ref()
            .filter(|(l, _)| l == literal)
            .map(|(_, re)| Arc::clone(re))
    });
    let re = match cached {
        Some(re) => re,
        None => {
            let re = Arc::new(
                jsregex::JsRegex::new(&source, flags)
                    .map_err(|e| internal(format!("SyntaxError: {e} (REWRITE_MATCH_PATTERN)")))?,
            );
            if let Ok(mut last) = LAST.lock() {
                *last = Some((literal.to_owned(), Arc::clone(&re)));
            }
            re
        }
    };
    re.replace(path, substitution).map_err(internal)
}

/// `convertImageFormatType`: the formats sharp is asked to write.
fn convert_format(output: &Value) -> Result<Format> {
    Ok(match output.as_str() {
        Some("jpg" | "jpeg") => Format::Jpeg,
        Some("png") => Format::Png,
        Some("webp") => Format::Webp,
        Some("tiff") => Format::Tiff,
        Some("heif") => Format::Heif,
        Some("gif") => Format::Gif,
        Some("avif") => Format::Avif,
        _ => {
            return Err(Error::new(
                500,
                "UnsupportedOutputImageFormatException",
                format!("Format to {} not supported", js::to_js_string(output)),
            ));
        }
    })
}

/// What `getOriginalImage` answers when S3 rejects or misses the key.
fn no_such_key(shown: &str) -> Error {
    Error::new(
        404,
        "NoSuchKey",
        format!(
            "The image {shown} does not exist or the request may not be base64 encoded properly."
        ),
    )
}

/// Serverless Image Handler's catch-all 500 for a JavaScript exception; the reason is kept
/// as the source.
fn internal(reason: impl Into<String>) -> Error {
    Error::internal().with_source(reason.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercions_follow_javascript() {
        use serde_json::json;
        assert_eq!(js_number(&json!("100")), 100.0);
        assert_eq!(js_number(&json!(null)), 0.0);
        assert_eq!(js_number(&json!("")), 0.0);
        assert_eq!(js_number(&json!(true)), 1.0);
        assert_eq!(js_number(&json!([7])), 7.0);
        assert_eq!(js_number(&json!("-Infinity")), f64::NEG_INFINITY);
        assert!(js_number(&json!("NaN")).is_nan());
        assert!(js_number(&json!({})).is_nan());
        assert!(!js_truthy(&json!("NaN")));
        assert!(!js_truthy(&json!(0)));
        assert!(!js_truthy(&json!(null)));
        assert!(js_truthy(&json!("0")));
        assert!(js_truthy(&json!({})));
    }

    #[test]
    fn extension_rules_match_the_regexes() {
        assert!(has_no_extension("/image"));
        assert!(has_no_extension(".jpg"));
        assert!(has_no_extension("/a.b/c"));
        assert!(has_no_extension("/a."));
        assert!(!has_no_extension("/a.jpg"));
        assert!(!has_no_extension("/a\n"));
        assert!(has_image_extension("image.JPG"));
        assert!(has_image_extension("a.png"));
        assert!(!has_image_extension(".png"));
        assert!(!has_image_extension("\n.png"));
        assert!(!has_image_extension("a.bmp"));
    }

    #[test]
    fn rewrite_literals_are_cut_as_sih_cuts_them() {
        assert_eq!(
            rewrite("/filters-rotate(90)/x.jpg", "/(filters-)/gm", "filters:").ok(),
            Some("/filters:rotate(90)/x.jpg".to_owned())
        );
        // `/v1/` is the pattern `v1`: the slashes are not part of it.
        assert_eq!(
            rewrite("/v1/x.jpg", "/v1/", "/v2").ok(),
            Some("//v2/x.jpg".to_owned())
        );
        // No slashes: the whole string is taken as flags, which JavaScript rejects.
        assert_eq!(
            rewrite("/x.jpg", "matchPattern", "y").map_err(|e| e.status()),
            Err(500)
        );
    }
}
