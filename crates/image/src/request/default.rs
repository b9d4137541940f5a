//! Default requests: the path is base64 of a JSON request (`decodeRequest`), and the response
//! headers it may ask for (`parseImageHeaders`, filtered by `HEADER_DENY_LIST`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::js;
use crate::{Error, Result};

/// `decodeRequest`: the JSON a Default request path carries.
///
/// As Serverless Image Handler does, one leading `/` is dropped and the rest is decoded as
/// leniently as Node's `Buffer.from(path, "base64")` (URL-safe characters accepted, others
/// skipped, decoding stopped at a `=`), then as UTF-8 with replacement characters, then as
/// JSON. Numbers come out as JavaScript holds them (see [`super`]).
///
/// # Errors
///
/// `DecodeRequest::CannotReadPath` (400) for an empty path, and
/// `DecodeRequest::CannotDecodeRequest` (400) when the decoded text is not JSON.
pub fn decode_request(path: &str) -> Result<Value> {
    if path.is_empty() {
        return Err(Error::new(
            400,
            "DecodeRequest::CannotReadPath",
            "The URL path you provided could not be read. Please ensure that it is properly formed according to the solution documentation.",
        ));
    }
    let encoded = path.strip_prefix('/').unwrap_or(path);
    let bytes = js::node_base64_decode(encoded);
    let text = String::from_utf8_lossy(&bytes);
    let mut value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            400,
            "DecodeRequest::CannotDecodeRequest",
            "The image request you provided could not be decoded. Please check that your request is base64 encoded properly and refer to the documentation for additional guidance.",
        )
        .with_source(e)
    })?;
    js::normalize_numbers(&mut value);
    Ok(value)
}

/// The keys of the request's `edits` object in the order `JSON.parse` gives them: the order
/// of the document (a repeated key keeps its first place and its last value), except that
/// array-index keys (`"0"`, `"1"`, ...) come first in ascending order, as in any JavaScript
/// object. `None` when the path does not decode to an object whose `edits` is an object.
pub(crate) fn edits_key_order(path: &str) -> Option<Vec<String>> {
    let encoded = path.strip_prefix('/').unwrap_or(path);
    let text = String::from_utf8_lossy(&js::node_base64_decode(encoded)).into_owned();
    let top: TopLevel = serde_json::from_str(&text).ok()?;
    let mut keys = top.0?;
    let index = |k: &str| {
        k.parse::<u32>()
            .ok()
            .filter(|n| *n != u32::MAX && n.to_string() == k)
    };
    keys.sort_by_key(|k| index(k).map_or((1, 0), |n| (0, n)));
    Some(keys)
}

/// `map` (the edits as parsed, in no particular order) in the order of `keys`; keys the list
/// lacks go last, in `map`'s order.
pub(crate) fn in_document_order(
    map: &serde_json::Map<String, Value>,
    keys: Vec<String>,
) -> crate::Edits {
    let mut edits: crate::Edits = keys
        .into_iter()
        .filter_map(|k| map.get(&k).map(|v| (k, v.clone())))
        .collect();
    for (k, v) in map {
        if !edits.contains_key(k) {
            edits.insert(k.clone(), v.clone());
        }
    }
    edits
}

/// A JSON document read only for the key order of its top-level `edits` object (the last
/// `edits` wins, as in `JSON.parse`).
struct TopLevel(Option<Vec<String>>);

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TopLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<TopLevel, A::Error> {
                let mut edits = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "edits" {
                        edits = map.next_value::<KeyOrder>()?.0;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(TopLevel(edits))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The keys of a JSON object in document order, each once; `None` for any other value.
struct KeyOrder(Option<Vec<String>>);

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<KeyOrder, A::Error> {
                let mut keys: Vec<String> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                Ok(KeyOrder(Some(keys)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<KeyOrder, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyOrder(None))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
            fn visit_unit<E>(self) -> std::result::Result<KeyOrder, E> {
                Ok(KeyOrder(None))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `decoded[field]` as JavaScript reads it: `None` (undefined) for a missing field and for
/// anything that is not an object.
pub(crate) fn field<'a>(decoded: &'a Value, name: &str) -> Option<&'a Value> {
    decoded.as_object().and_then(|o| o.get(name))
}

/// The entries `Object.entries(value)` walks for a JSON value: an object's own, an array's or
/// a string's by index, none for the rest.
pub(crate) fn entries(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
        Value::String(s) => s
            .encode_utf16()
            .enumerate()
            .map(|(i, u)| (i.to_string(), Value::from(String::from_utf16_lossy(&[u]))))
            .collect(),
        _ => Vec::new(),
    }
}

/// Header names Serverless Image Handler v8 never lets a request set (`HEADER_DENY_LIST`).
const DENIED: [&str; 10] = [
    "authorization",
    "connection",
    "server",
    "transfer-encoding",
    "referrer-policy",
    "permissions-policy",
    "www-authenticate",
    "proxy-authenticate",
    "x-api-key",
    // Not in v6.3.3's list.
    "set-cookie",
];
/// Header name prefixes it never lets a request set.
const DENIED_PREFIXES: [&str; 10] = [
    "x-frame-",
    "x-content-",
    "x-xss-",
    "strict-transport-",
    "permissions-",
    "x-amz-",
    "x-amzn-",
    "access-control-",
    "cross-origin-",
    "content-",
];

/// Whether `HEADER_DENY_LIST` filters this header out.
pub(crate) fn is_denied(header: &str) -> bool {
    let lower = header.to_lowercase();
    DENIED.contains(&lower.as_str())
        || DENIED_PREFIXES.iter().any(|prefix| {
            // `/^content-.*$/`: `.` does not match line terminators.
            lower
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.chars().any(js::is_line_terminator))
        })
}

/// `parseImageHeaders` for a decoded Default request: `None` when it asks for none (a falsy
/// `headers`), otherwise the headers left after the deny-list, values as `String(value)`.
pub(crate) fn headers(decoded: &Value) -> Option<BTreeMap<String, String>> {
    let headers = field(decoded, "headers").filter(|h| js::truthy(h))?;
    Some(
        entries(headers)
            .into_iter()
            .filter(|(name, _)| !is_denied(name))
            .map(|(name, value)| (name, js::to_js_string(&value)))
            .collect(),
    )
}
