//! Request parsing against Serverless Image Handler's own Jest specs and its real code.
//!
//! `tests/request/spec_cases.json` holds the cases of SIH v8's request-parsing specs
//! (`test/image-request/*.spec.ts`, `test/thumbor-mapper/*.spec.ts`,
//! `test/image-handler/query-param-mapper.spec.ts`): each an input (path, query, environment,
//! `Accept`, source content type) and the facts the spec asserts about the result. Where a
//! spec calls one method with the environment it needs left out (no `SOURCE_BUCKETS`), the
//! case adds that variable, since `ImageRequest::parse` runs the whole chain. See
//! `tests/request/SOURCES.md`.

use std::collections::BTreeMap;

use lambdakit_image::{ImageRequest, RequestConfig, RequestType};
use serde_json::{Map, Value};

fn cases(file: &str) -> Vec<Value> {
    let text = match file {
        "spec_cases.json" => include_str!("request/spec_cases.json"),
        "sih_oracle_cases.json" => include_str!("request/sih_oracle_cases.json"),
        "sih_oracle_filter_values.json" => include_str!("request/sih_oracle_filter_values.json"),
        _ => unreachable!(),
    };
    serde_json::from_str::<Value>(text)
        .expect("valid JSON")
        .as_array()
        .expect("an array of cases")
        .clone()
}

fn strings(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string values").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn type_name(t: RequestType) -> &'static str {
    match t {
        RequestType::Default => "Default",
        RequestType::Custom => "Custom",
        RequestType::Thumbor => "Thumbor",
    }
}

/// Numbers compared as the doubles JavaScript has (`1e20` and `100000000000000000000` alike).
fn canonical(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::Number::from_f64(n.as_f64().expect("finite"))
            .map_or(Value::Null, Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

/// The request a case describes, parsed and (with a content type) its output resolved.
fn parse(case: &Value) -> lambdakit_image::Result<ImageRequest> {
    let path = case["path"].as_str().expect("path");
    let query = strings(case.get("query"));
    let env = strings(case.get("env"));
    let accept = case.get("accept").and_then(Value::as_str);
    let config = RequestConfig::from_lookup(|k| env.get(k).cloned());
    ImageRequest::parse(path, &query, accept, &config).and_then(|mut r| {
        if let Some(ct) = case.get("contentType").and_then(Value::as_str) {
            r.resolve_output(ct)?;
        }
        Ok(r)
    })
}

/// Runs one case; returns a description of each mismatch.
fn run(case: &Value) -> Vec<String> {
    let name = case["name"]
        .as_str()
        .map_or_else(|| format!("{:?}", case["path"]), str::to_owned);
    let mut problems = Vec::new();
    let mut fail = |what: String| problems.push(format!("{name}: {what}"));

    let result = parse(case);
    match (result, case.get("error"), case.get("expect")) {
        (Err(e), Some(error), _) => {
            let got =
                serde_json::json!({"status": e.status(), "code": e.code(), "message": e.message()});
            for (k, v) in error.as_object().expect("error object") {
                if &got[k] != v {
                    fail(format!("error {k}: expected {v}, got {}", got[k]));
                }
            }
        }
        (Err(e), None, _) => fail(format!("unexpected error {}", e.to_json())),
        (Ok(r), Some(error), _) => fail(format!("expected error {error}, got {r:?}")),
        (Ok(r), None, Some(expect)) => {
            let expect = expect.as_object().expect("expect object");
            let mut got = Map::new();
            got.insert("requestType".into(), type_name(r.request_type).into());
            got.insert("bucket".into(), r.bucket.clone().into());
            got.insert("key".into(), r.key.clone().into());
            got.insert(
                "edits".into(),
                Value::Object(r.edits.clone().into_iter().collect()),
            );
            got.insert(
                "outputFormat".into(),
                r.output_format.map_or(Value::Null, |f| f.name().into()),
            );
            got.insert("effort".into(), r.effort.map_or(Value::Null, Value::from));
            got.insert(
                "headers".into(),
                r.headers.clone().map_or(Value::Null, |h| {
                    Value::Object(h.into_iter().map(|(k, v)| (k, v.into())).collect())
                }),
            );
            got.insert(
                "contentType".into(),
                r.content_type.clone().map_or(Value::Null, Value::from),
            );
            for (k, v) in expect {
                if k == "editsContain" {
                    for (ek, ev) in v.as_object().expect("object") {
                        if r.edits.get(ek).map(canonical) != Some(canonical(ev)) {
                            fail(format!(
                                "edits.{ek}: expected {ev}, got {:?}",
                                r.edits.get(ek)
                            ));
                        }
                    }
                } else if k == "editsLack" {
                    for ek in v.as_array().expect("array") {
                        let ek = ek.as_str().expect("key");
                        if r.edits.contains_key(ek) {
                            fail(format!(
                                "edits.{ek} should be absent, got {:?}",
                                r.edits[ek]
                            ));
                        }
                    }
                } else if got.get(k).map(canonical) != Some(canonical(v)) {
                    fail(format!(
                        "{k}: expected {v}, got {}",
                        got.get(k).unwrap_or(&Value::Null)
                    ));
                }
            }
        }
        (Ok(_), None, None) => fail("case has neither expect nor error".into()),
    }
    problems
}

fn run_all(file: &str) {
    let cases = cases(file);
    assert!(!cases.is_empty());
    let problems: Vec<String> = cases.iter().flat_map(run).collect();
    assert!(
        problems.is_empty(),
        "{} of {} cases in {file} failed:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

#[test]
fn serverless_image_handler_specs() {
    run_all("spec_cases.json");
}

/// Every input here went through Serverless Image Handler v8.0.1's own `ImageRequest.setup`
/// (its TypeScript transpiled and run on Node 20, S3 stubbed to answer with the case's content
/// type, `convertImageFormatType` applied to the output format): 1,504 cases from the edge
/// cases of each filter, Default request, query parameter, output-format rule and Custom
/// rewrite, URLs real Thumbor clients and SIH's docs use, plus 700 random Thumbor-ish paths.
/// The results are compared whole.
#[test]
fn serverless_image_handler_outputs() {
    run_all("sih_oracle_cases.json");
}

/// 1,200 Thumbor filters with random arguments (numbers as `Number()` and `parseInt` read
/// them, colours, watermark positions), through Serverless Image Handler's own code.
/// The edits keys of a recorded answer in the order SIH's object held them (the recordings
/// are `JSON.stringify` output, which keeps that order).
#[derive(serde::Deserialize)]
struct KeyOrder {
    expect: Option<ExpectedKeys>,
}

#[derive(serde::Deserialize)]
struct ExpectedKeys {
    edits: Option<lambdakit_image::indexmap::IndexMap<String, serde::de::IgnoredAny>>,
}

// SIH calls sharp once per edits key, in the object's order, and some of sharp's results
// depend on that order: every recorded answer's keys must come in the same order.
#[test]
fn edits_keys_come_in_sihs_order() {
    let mut checked = 0;
    for (file, text) in [
        (
            "sih_oracle_cases.json",
            include_str!("request/sih_oracle_cases.json"),
        ),
        (
            "sih_oracle_filter_values.json",
            include_str!("request/sih_oracle_filter_values.json"),
        ),
    ] {
        let orders: Vec<KeyOrder> = serde_json::from_str(text).expect("valid JSON");
        for (case, order) in cases(file).iter().zip(orders) {
            let Some(expected) = order.expect.and_then(|e| e.edits) else {
                continue;
            };
            let Ok(r) = parse(case) else { continue };
            let expected: Vec<&String> = expected.keys().collect();
            let got: Vec<&String> = r.edits.keys().collect();
            assert_eq!(got, expected, "{file}: {}", case["path"]);
            checked += usize::from(expected.len() > 1);
        }
    }
    assert!(
        checked > 100,
        "only {checked} answers with two or more edits"
    );
}

#[test]
fn serverless_image_handler_filter_values() {
    run_all("sih_oracle_filter_values.json");
}

/// The default fallback image's `Cache-Control` comes from the path read as a Default request,
/// whatever its type; anything that does not decode asks for nothing.
#[test]
fn fallback_headers_read_any_path_as_a_default_request() {
    let path = "/eyJidWNrZXQiOiJ2YWxpZEJ1Y2tldCIsImtleSI6InZhbGlkS2V5IiwiaGVhZGVycyI6eyJDYWNoZS1Db250cm9sIjoibWF4LWFnZT0zMTUzNjAwMCxwdWJsaWMifSwib3V0cHV0Rm9ybWF0IjoianBlZyJ9";
    assert_eq!(
        ImageRequest::fallback_headers(path),
        Some(BTreeMap::from([(
            "Cache-Control".to_owned(),
            "max-age=31536000,public".to_owned()
        )]))
    );
    for path in ["/filters:grayscale()/a.jpg", "", "/", "/bnVsbA=="] {
        assert_eq!(ImageRequest::fallback_headers(path), None, "{path}");
    }
}

mod hostile_input {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "/",
        "fit-in",
        "filters:",
        "grayscale()",
        "rotate(",
        ")",
        "(",
        ":",
        ",",
        "100x200",
        "0x0",
        "10x10:90x90",
        "s3:b",
        "s3:",
        ".jpg",
        ".png",
        ".svg",
        ".",
        "%",
        "%2",
        "%E2%82",
        "%zz",
        "é",
        "\n",
        "\u{2028}",
        "=",
        "eyJrZXkiOiJhIn0",
        "eyJ",
        "unsafe",
        "-",
        "9",
        " ",
        "quality(80)",
        "format(webp)",
        "fill(",
        "watermark(a,b,1p,-2p)",
        "proportion(x)",
        "smart_crop(,)",
        "\\",
        "$1",
        "$<x>",
        "\u{FEFF}",
        "\u{1F600}",
        "+",
        "_",
        "99999999999999999999x1",
    ];

    fn path() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(prop::sample::select(PIECES), 0..16).prop_map(|p| p.concat()),
            any::<String>(),
            prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| {
                use base64::Engine as _;
                format!("/{}", base64::engine::general_purpose::STANDARD.encode(b))
            }),
        ]
    }

    fn query() -> impl Strategy<Value = BTreeMap<String, String>> {
        let keys = prop::sample::select(vec![
            "format",
            "fit",
            "width",
            "height",
            "rotate",
            "flip",
            "flop",
            "grayscale",
            "greyscale",
            "signature",
            "expires",
            "x",
        ]);
        prop::collection::btree_map(keys.prop_map(str::to_owned), any::<String>(), 0..4)
    }

    fn config() -> impl Strategy<Value = RequestConfig> {
        (
            prop::collection::vec("[a-z.()+*?]{0,6}", 0..3),
            prop::option::of((".{0,12}", ".{0,6}")),
            any::<bool>(),
        )
            .prop_map(|(source_buckets, rewrite, auto_webp)| RequestConfig {
                source_buckets,
                rewrite,
                auto_webp,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever arrives, parsing answers with a request or one of SIH's errors, never a
        /// panic; and the same input always gets the same answer.
        #[test]
        fn never_panics(
            path in path(),
            query in query(),
            accept in prop::option::of(".{0,20}"),
            config in config(),
            content_type in prop::sample::select(vec!["image/jpeg", "image/svg+xml", "image/png", "image", ""]),
        ) {
            let first = ImageRequest::parse(&path, &query, accept.as_deref(), &config);
            let again = ImageRequest::parse(&path, &query, accept.as_deref(), &config);
            match (first, again) {
                (Ok(mut a), Ok(b)) => {
                    prop_assert_eq!(&a, &b);
                    prop_assert!(!a.key.is_empty());
                    prop_assert!(config.source_buckets.contains(&a.bucket));
                    if let Err(e) = a.resolve_output(content_type) {
                        prop_assert_eq!(e.status(), 500);
                    }
                }
                (Err(a), Err(b)) => {
                    prop_assert_eq!(a.to_json(), b.to_json());
                    prop_assert!(matches!(a.status(), 400 | 403 | 404 | 500));
                }
                (a, b) => prop_assert!(false, "different answers: {:?} / {:?}", a, b),
            }
        }
    }

    /// Long hostile paths and patterns stay cheap: nothing here backtracks without bound.
    #[test]
    fn long_paths_parse() {
        let config = RequestConfig::from_lookup(|k| match k {
            "SOURCE_BUCKETS" => Some("b".to_owned()),
            _ => None,
        });
        let query = BTreeMap::new();
        for path in [
            format!("/{}a.jpg", "filters:grayscale()/".repeat(2000)),
            format!("/{}a.jpg", "1x1/".repeat(5000)),
            format!("/filters:watermark({})/a.jpg", "(".repeat(20_000)),
            format!("/{}", "A".repeat(60_000)),
            format!("/{}", "%".repeat(30_000)),
            format!("{}.jpg", ".".repeat(30_000)),
        ] {
            let _ = ImageRequest::parse(&path, &query, None, &config);
        }
        let hostile = RequestConfig::from_lookup(|k| match k {
            "SOURCE_BUCKETS" => Some("b".to_owned()),
            "REWRITE_MATCH_PATTERN" => Some("/(a+)+$/".to_owned()),
            "REWRITE_SUBSTITUTION" => Some("x".to_owned()),
            _ => None,
        });
        let path = format!("/{}!.jpg", "a".repeat(40));
        let result = ImageRequest::parse(&path, &query, None, &hostile);
        // Catastrophic backtracking is cut off by the backtrack limit: a 500, as a timeout
        // would be in Node, rather than a hung Lambda.
        if let Err(e) = result {
            assert_eq!(e.status(), 500);
        }
    }
}
