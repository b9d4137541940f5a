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

/// Runs one case; returns a description of each mismatch.
fn run(case: &Value) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let path = case["path"].as_str().expect("path");
    let query = strings(case.get("query"));
    let env = strings(case.get("env"));
    let accept = case.get("accept").and_then(Value::as_str);
    let config = RequestConfig::from_lookup(|k| env.get(k).cloned());
    let mut problems = Vec::new();
    let mut fail = |what: String| problems.push(format!("{name}: {what}"));

    let result = ImageRequest::parse(path, &query, accept, &config).and_then(|mut r| {
        if let Some(ct) = case.get("contentType").and_then(Value::as_str) {
            r.resolve_output(ct)?;
        }
        Ok(r)
    });
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
            got.insert("edits".into(), Value::Object(r.edits.clone()));
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
                        if r.edits.get(ek) != Some(ev) {
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
                } else if got.get(k) != Some(v) {
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
