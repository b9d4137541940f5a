//! Serverless Image Handler's `ThumborMapper` (`thumbor-mapper.ts`) and the Thumbor half of
//! `parseImageKey`: a Thumbor path to sharp edits, and to the S3 key.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::color_names::COLOR_NAMES;
use super::js;
use super::jsregex::{JsRegex, fixed};
use crate::Edits;

/// Why a path could not be mapped: the places where Serverless Image Handler's mapper throws a
/// JavaScript `Error` (which its handler answers with a 500 `InternalError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapError(pub(crate) String);

static CROP: LazyLock<JsRegex> = LazyLock::new(|| fixed(r"\d{1,6}x\d{1,6}:\d{1,6}x\d{1,6}", ""));
static RESIZE: LazyLock<JsRegex> = LazyLock::new(|| fixed(r"\/((\d+x\d+)|(0x\d+))\/", ""));
static FILTERS: LazyLock<JsRegex> = LazyLock::new(|| fixed(r"filters(:[^)]*\))+", "g"));
static FILTER: LazyLock<JsRegex> = LazyLock::new(|| fixed(r":(.+)\((.*)\)", ""));
static POSITION: LazyLock<JsRegex> =
    LazyLock::new(|| fixed(r"^(100|[1-9]?\d|-(100|[1-9]\d?))p$", ""));
static KEY_STEPS: LazyLock<[JsRegex; 5]> = LazyLock::new(|| {
    [
        fixed(r"\/\d+x\d+:\d+x\d+(?=\/)", "g"),
        fixed(r"\/\d+x\d+(?=\/)", "g"),
        fixed(r"filters:watermark\(.*\)", "u"),
        fixed(r"filters:[^/]+", "g"),
        fixed(r"\/fit-in(?=\/)", "g"),
    ]
});
static LEADING_SLASHES: LazyLock<JsRegex> = LazyLock::new(|| fixed(r"^\/+", "g"));

fn first_match(re: &JsRegex, s: &str) -> Option<String> {
    let mut found = None;
    re.replace_with(s, |caps, _| {
        if found.is_none() {
            found = caps.get(0).map(|m| m.as_str().to_owned());
        }
    })
    .ok()?;
    found
}

fn all_matches(re: &JsRegex, s: &str) -> Vec<String> {
    let mut found = Vec::new();
    let _ = re.replace_with(s, |caps, _| {
        if let Some(m) = caps.get(0) {
            found.push(m.as_str().to_owned());
        }
    });
    found
}

/// `mapPathToEdits(path)`.
pub(crate) fn map_path_to_edits(path: &str) -> Result<Edits, MapError> {
    let file_format = match path.rfind('.') {
        Some(dot) => &path[dot + 1..],
        None => path,
    };
    let mut edits = Edits::new();
    if let Some(crop) = map_crop(path) {
        edits.insert("crop".to_owned(), crop);
    }
    let mut resize = map_resize(path);
    if path.contains("fit-in") {
        resize
            .get_or_insert_with(Map::new)
            .insert("fit".to_owned(), json!("inside"));
    }
    if let Some(resize) = resize {
        edits.insert("resize".to_owned(), Value::Object(resize));
    }

    // SIH sorts so that `format()` comes before `quality()`.
    let mut filters: Vec<String> = all_matches(&FILTERS, path)
        .iter()
        .flat_map(|m| {
            m.split(':')
                .skip(1)
                .map(|f| format!("filters:{f}"))
                .collect::<Vec<_>>()
        })
        .collect();
    js::sort_utf16(&mut filters);
    for filter in &filters {
        map_filter(filter, file_format, &mut edits)?;
    }
    Ok(edits)
}

fn map_crop(path: &str) -> Option<Value> {
    let m = first_match(&CROP, path)?;
    let (left_top, right_bottom) = m.split_once(':')?;
    let point = |s: &str| -> Option<(f64, f64)> {
        let (x, y) = s.split_once('x')?;
        Some((x.parse().ok()?, y.parse().ok()?))
    };
    let (left, top) = point(left_top)?;
    let (right, bottom) = point(right_bottom)?;
    Some(json!({
        "left": js::number(left),
        "top": js::number(top),
        "width": js::number(right - left),
        "height": js::number(bottom - top),
    }))
}

fn map_resize(path: &str) -> Option<Map<String, Value>> {
    let m = first_match(&RESIZE, path)?;
    let (w, h) = m.trim_matches('/').split_once('x')?;
    let (width, height) = (js::parse_int(w), js::parse_int(h));
    let mut resize = Map::new();
    if width == 0.0 || height == 0.0 {
        resize.insert("fit".to_owned(), json!("inside"));
    }
    let dim = |v: f64| if v == 0.0 { Value::Null } else { js::number(v) };
    resize.insert("width".to_owned(), dim(width));
    resize.insert("height".to_owned(), dim(height));
    Some(resize)
}

/// `mapFilter(filterExpression, fileFormat, previousEdits)`, in place.
pub(crate) fn map_filter(
    filter: &str,
    file_format: &str,
    edits: &mut Edits,
) -> Result<(), MapError> {
    let mut captured = None;
    let _ = FILTER.replace_with(filter, |caps, _| {
        captured = Some((
            caps.get(1).map_or("", |m| m.as_str()).to_owned(),
            caps.get(2).map_or("", |m| m.as_str()).to_owned(),
        ));
    });
    let Some((name, value)) = captured else {
        return Err(MapError(format!(
            "TypeError: the filter {filter:?} does not have the form name(value)"
        )));
    };
    let value = value.as_str();
    match name.as_str() {
        "autojpg" => {
            edits.insert("toFormat".to_owned(), json!("jpeg"));
        }
        "background_color" => {
            let background = color(value)?;
            edits.insert("flatten".to_owned(), json!({ "background": background }));
        }
        "blur" => {
            let parts: Vec<f64> = value
                .split(',')
                .map(|x| {
                    if x.is_empty() {
                        f64::NAN
                    } else {
                        js::to_number(x)
                    }
                })
                .collect();
            let radius = parts.first().copied().unwrap_or(f64::NAN);
            let sigma = parts.get(1).copied().unwrap_or(f64::NAN);
            let blur = if sigma.is_nan() { radius / 2.0 } else { sigma };
            edits.insert("blur".to_owned(), js::number(blur));
        }
        "convolution" => {
            let values: Vec<&str> = value.split(',').collect();
            let matrix: Vec<f64> = values[0].split(';').map(js::to_number).collect();
            let width = values.get(1).map_or(f64::NAN, |w| js::to_number(w));
            #[allow(clippy::cast_precision_loss)]
            let height = (matrix.len() as f64 / width).ceil();
            edits.insert(
                "convolve".to_owned(),
                json!({
                    "width": js::number(width),
                    "height": js::number(height),
                    "kernel": matrix.into_iter().map(js::number).collect::<Vec<_>>(),
                }),
            );
        }
        "equalize" => {
            edits.insert("normalize".to_owned(), json!(true));
        }
        "fill" => {
            let background = color(value)?;
            let resize = resize_of(edits);
            resize.insert("fit".to_owned(), json!("contain"));
            resize.insert("background".to_owned(), background);
        }
        "format" => {
            let cleaned: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
            let format = replace_first_jpg(&cleaned);
            const ACCEPTED: [&str; 9] = [
                "heic", "heif", "jpeg", "png", "raw", "tiff", "webp", "gif", "avif",
            ];
            if ACCEPTED.contains(&format.as_str()) {
                edits.insert("toFormat".to_owned(), Value::from(format));
            }
        }
        "grayscale" => {
            edits.insert("grayscale".to_owned(), json!(true));
        }
        "no_upscale" => {
            resize_of(edits).insert("withoutEnlargement".to_owned(), json!(true));
        }
        "proportion" => {
            let ratio = js::to_number(value);
            let resize = resize_of(edits);
            let dims = (resize.get("width"), resize.get("height"));
            if let (Some(w), Some(h)) = dims
                && number_truthy(w)
                && number_truthy(h)
            {
                let (w, h) = (js::value_to_number(w), js::value_to_number(h));
                resize.insert("width".to_owned(), js::number(w * ratio));
                resize.insert("height".to_owned(), js::number(h * ratio));
            } else {
                resize.insert("ratio".to_owned(), js::number(ratio));
            }
        }
        "quality" => {
            let target = supported_format(file_format).or_else(|| {
                edits
                    .get("toFormat")
                    .and_then(Value::as_str)
                    .and_then(supported_format)
            });
            if let Some(target) = target {
                edits.insert(
                    target.to_owned(),
                    json!({ "quality": js::number(js::to_number(value)) }),
                );
            }
        }
        "rgb" => {
            let mut tint = Map::new();
            for (label, pct) in ["r", "g", "b"].into_iter().zip(value.split(',')) {
                tint.insert(
                    label.to_owned(),
                    js::number(255.0 * (js::to_number(pct) / 100.0)),
                );
            }
            edits.insert("tint".to_owned(), Value::Object(tint));
        }
        "rotate" => {
            let rotate = if value.is_empty() {
                Value::from(super::AUTO_ORIENT)
            } else {
                js::number(js::to_number(value))
            };
            edits.insert("rotate".to_owned(), rotate);
        }
        "sharpen" => {
            let sigma = value.split(',').nth(1).map_or(f64::NAN, js::to_number);
            edits.insert("sharpen".to_owned(), js::number(1.0 + sigma / 2.0));
        }
        "stretch" => {
            let resize = resize_of(edits);
            if resize.get("fit").and_then(Value::as_str) != Some("inside") {
                resize.insert("fit".to_owned(), json!("fill"));
            }
        }
        "strip_exif" | "strip_icc" => {
            edits.insert("rotate".to_owned(), Value::Null);
        }
        "upscale" => {
            resize_of(edits).insert("fit".to_owned(), json!("inside"));
        }
        "watermark" => {
            edits.insert("overlayWith".to_owned(), watermark(value));
        }
        "animated" => {
            edits.insert(
                "animated".to_owned(),
                Value::from(value.to_lowercase() != "false"),
            );
        }
        "smart_crop" => {
            let mut parts = value.split(',');
            let mut smart_crop = Map::new();
            for label in ["faceIndex", "padding"] {
                if let Some(part) = parts.next().filter(|p| !p.is_empty()) {
                    smart_crop.insert(label.to_owned(), js::number(js::parse_int(part)));
                }
            }
            edits.insert("smartCrop".to_owned(), Value::Object(smart_crop));
        }
        _ => {}
    }
    Ok(())
}

/// `currentEdits.resize`, created empty when undefined.
fn resize_of(edits: &mut Edits) -> &mut Map<String, Value> {
    let resize = edits
        .entry("resize".to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !resize.is_object() {
        *resize = Value::Object(Map::new());
    }
    resize
        .as_object_mut()
        .expect("resize was just made an object")
}

/// Truthiness of a number this mapper stored (`"NaN"` stands for `NaN`, which is falsy).
fn number_truthy(v: &Value) -> bool {
    match v {
        Value::String(s) if s == "NaN" => false,
        other => js::truthy(other),
    }
}

/// `.replace(/jpg/i, "jpeg")`.
fn replace_first_jpg(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    match lower.find("jpg") {
        Some(at) => format!("{}jpeg{}", &s[..at], &s[at + 3..]),
        None => s.to_owned(),
    }
}

/// `toSupportedImageFormatType` of `mapQuality`.
fn supported_format(format: &str) -> Option<&'static str> {
    Some(match format {
        "jpg" | "jpeg" => "jpeg",
        "png" => "png",
        "webp" => "webp",
        "tiff" => "tiff",
        "heif" => "heif",
        "gif" => "gif",
        "avif" => "avif",
        _ => return None,
    })
}

fn watermark(value: &str) -> Value {
    let compact: String = value.chars().filter(|&c| !js::is_js_space(c)).collect();
    let options: Vec<&str> = compact.split(',').collect();
    let mut overlay = Map::new();
    for (label, index) in [
        ("bucket", 0),
        ("key", 1),
        ("alpha", 4),
        ("wRatio", 5),
        ("hRatio", 6),
    ] {
        if let Some(v) = options.get(index) {
            overlay.insert(label.to_owned(), Value::from(*v));
        }
    }
    let mut position = Map::new();
    for (label, index) in [("left", 2), ("top", 3)] {
        if let Some(v) = options.get(index)
            && (POSITION.is_match(v).unwrap_or(false) || !js::to_number(v).is_nan())
        {
            position.insert(label.to_owned(), Value::from(*v));
        }
    }
    overlay.insert("options".to_owned(), Value::Object(position));
    Value::Object(overlay)
}

/// `Color(ColorName[v] ? v : "#" + v).object()`: `{r, g, b}` plus `alpha` when not 1.
fn color(value: &str) -> Result<Value, MapError> {
    if let Ok(i) = COLOR_NAMES.binary_search_by(|(name, _)| name.cmp(&value)) {
        let [r, g, b] = COLOR_NAMES[i].1;
        return Ok(json!({ "r": r, "g": g, "b": b }));
    }
    let hex = value;
    let parse_error = || {
        MapError(format!(
            "Error: Unable to parse color from string: #{value}"
        ))
    };
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(parse_error());
    }
    let byte = |s: &str| u8::from_str_radix(s, 16).map_err(|_| parse_error());
    let (rgb, alpha) = match hex.len() {
        6 | 8 => (
            [byte(&hex[0..2])?, byte(&hex[2..4])?, byte(&hex[4..6])?],
            hex.get(6..8).map(byte).transpose()?,
        ),
        3 | 4 => {
            let double = |i: usize| byte(&hex[i..=i].repeat(2));
            (
                [double(0)?, double(1)?, double(2)?],
                if hex.len() == 4 {
                    Some(double(3)?)
                } else {
                    None
                },
            )
        }
        _ => return Err(parse_error()),
    };
    let mut object = json!({ "r": rgb[0], "g": rgb[1], "b": rgb[2] });
    if let Some(a) = alpha.filter(|&a| a != 255) {
        object["alpha"] = js::number(f64::from(a) / 255.0);
    }
    Ok(object)
}

/// `key.replace(new RegExp("s3:" + bucket + "/"), "")`: the bucket is a regular expression,
/// so a `.` in it matches any character. Bucket names of letters, digits, `-`, `_`, `:` and
/// `.` are matched directly; anything else is compiled.
fn strip_bucket_tag(key: &str, bucket: &str) -> Result<String, MapError> {
    let simple = bucket
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if !simple {
        let tag = JsRegex::new(&format!("s3:{bucket}/"), "")
            .map_err(|e| MapError(format!("SyntaxError: {e}")))?;
        return tag.replace(key, "").map_err(MapError);
    }
    let pattern: Vec<char> = format!("s3:{bucket}/").chars().collect();
    let matches_at = |start: usize| -> Option<usize> {
        let mut chars = key[start..].char_indices();
        for &p in &pattern {
            let (_, c) = chars.next()?;
            let ok = if p == '.' {
                !js::is_line_terminator(c)
            } else {
                c == p
            };
            if !ok {
                return None;
            }
        }
        Some(chars.next().map_or(key.len(), |(i, _)| start + i))
    };
    for (start, _) in key.char_indices() {
        if let Some(end) = matches_at(start) {
            return Ok(format!("{}{}", &key[..start], &key[end..]));
        }
    }
    Ok(key.to_owned())
}

/// The Thumbor half of `parseImageKey`: strips sizes, filters, `fit-in` and `s3:<bucket>/`
/// from the (rewritten) path and URL-decodes the rest. `Err` where JavaScript throws: a
/// bucket name that is not a valid regular expression, or a bad `%` escape (`URIError`).
pub(crate) fn parse_key(path: &str, bucket: &str) -> Result<String, MapError> {
    let mut key = path.to_owned();
    for step in KEY_STEPS.iter() {
        key = step.replace(&key, "").map_err(MapError)?;
    }
    key = strip_bucket_tag(&key, bucket)?;
    key = LEADING_SLASHES.replace(&key, "").map_err(MapError)?;
    js::decode_uri_component(&key).ok_or_else(|| MapError("URIError: URI malformed".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_patterns_compile() {
        let _ = (
            &*CROP,
            &*RESIZE,
            &*FILTERS,
            &*FILTER,
            &*POSITION,
            &*KEY_STEPS,
            &*LEADING_SLASHES,
        );
    }

    #[test]
    fn bucket_tags_strip_as_the_regex_does() {
        let keys = [
            "a/s3:xzy/s3:x.y/b",
            "s3:x.y/b",
            "s3:x\ny/b",
            "s3:x.y",
            "é/s3:xéy/z",
            "",
            "s3:s3:x.y/",
            "s3:my-bucket/s3:my-bucket/k",
            "xs3:x.y/",
        ];
        for bucket in ["x.y", "my-bucket", "a", "...", "x:y"] {
            let regex = JsRegex::new(&format!("s3:{bucket}/"), "").expect("compiles");
            for key in keys {
                assert_eq!(
                    strip_bucket_tag(key, bucket),
                    regex.replace(key, "").map_err(MapError),
                    "{bucket} in {key:?}"
                );
            }
        }
        assert_eq!(strip_bucket_tag("a/s3:xzy/b", "x.y").as_deref(), Ok("a/b"));
        assert!(strip_bucket_tag("s3:a/b", "a(").is_err());
    }

    #[test]
    fn colors_follow_color_string() {
        assert_eq!(color("red"), Ok(json!({"r": 255, "g": 0, "b": 0})));
        assert_eq!(color("fff"), Ok(json!({"r": 255, "g": 255, "b": 255})));
        assert_eq!(
            color("ff000080"),
            Ok(json!({"r": 255, "g": 0, "b": 0, "alpha": 0.5019607843137255}))
        );
        assert_eq!(color("f00f"), Ok(json!({"r": 255, "g": 0, "b": 0})));
        assert!(color("transparent").is_err());
        assert!(color("ff").is_err());
        assert!(color("constructor").is_err());
    }
}
