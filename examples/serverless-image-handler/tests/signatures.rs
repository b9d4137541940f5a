//! Signed URLs with `ENABLE_SIGNATURE=Yes`, the key read from Secrets Manager (the emulator),
//! through the real handler: URLs signed with `sign_url` pass; tampered, unsigned and expired
//! ones get SIH's errors.
//!
//! Run with `cargo xtask test`, or with the emulator running (`cargo xtask emulator`):
//! `cargo test -p example-serverless-image-handler --all-features --test signatures`.

use std::collections::BTreeMap;

use example_serverless_image_handler::local::{SIGNING_KEY, Stack, default_path, served_image};
use example_serverless_image_handler::serve::query_parameters;
use lambdakit_image::handler::HandlerRequest;
use lambdakit_image::response::HandlerResponse;
use lambdakit_image::signature::{SignatureMode, sign_url};
use serde_json::{Value, json};

const THUMBOR: &str = "/fit-in/120x120/filters:format(png)/Landscape_1.jpg";

/// The request API Gateway delivers for a signed URL (path, then `?` and the query).
fn request_for(url: &str) -> HandlerRequest {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    HandlerRequest {
        path: path.to_owned(),
        query: query_parameters(query),
        ..HandlerRequest::default()
    }
}

fn signed(path: &str, query: &[(&str, &str)]) -> String {
    let query: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    sign_url(
        path,
        &query,
        SIGNING_KEY.as_bytes(),
        SignatureMode::PathAndQuery,
    )
}

fn error_body(response: &HandlerResponse) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON error body")
}

#[tokio::test]
async fn a_url_signed_with_the_secret_is_served() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let response = handler.handle(&request_for(&signed(THUMBOR, &[]))).await;
    let out = served_image(&response).expect("a 200 with an image");
    assert_eq!((out.format, out.width, out.height), ("png", 120, 80));
}

#[tokio::test]
async fn a_default_request_built_and_signed_as_the_readme_shows_is_served() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let request = json!({
        "bucket": stack.bucket,
        "key": "Landscape_6.jpg",
        "edits": { "resize": { "width": 400 }, "toFormat": "webp" }
    });
    let url = sign_url(
        &default_path(&request),
        &BTreeMap::new(),
        SIGNING_KEY.as_bytes(),
        SignatureMode::PathAndQuery,
    );
    let response = handler.handle(&request_for(&url)).await;
    let out = served_image(&response).expect("a 200 with an image");
    // Landscape_6 upright is 1200x800.
    assert_eq!((out.format, out.width, out.height), ("webp", 400, 267));
}

#[tokio::test]
async fn query_parameter_requests_sign_their_parameters_too() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let url = signed("/Portrait_1.jpg", &[("width", "90"), ("format", "webp")]);
    let response = handler.handle(&request_for(&url)).await;
    let out = served_image(&response).expect("a 200 with an image");
    assert_eq!((out.format, out.width, out.height), ("webp", 90, 135));

    // Another width under the same signature: refused.
    let tampered = url.replace("width=90", "width=900");
    let response = handler.handle(&request_for(&tampered)).await;
    assert_eq!(response.status, 403);
    assert_eq!(error_body(&response)["code"], "SignatureDoesNotMatch");
}

#[tokio::test]
async fn a_tampered_url_or_signature_is_403_signature_does_not_match() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let url = signed(THUMBOR, &[]);
    let other_path = url.replace("120x120", "1200x1200");
    let last = url.chars().last().expect("signature");
    let other_signature = format!(
        "{}{}",
        &url[..url.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let signed_by_someone_else = sign_url(
        THUMBOR,
        &BTreeMap::new(),
        b"another key",
        SignatureMode::PathAndQuery,
    );
    for url in [other_path, other_signature, signed_by_someone_else] {
        let response = handler.handle(&request_for(&url)).await;
        assert_eq!(response.status, 403, "{url}");
        assert_eq!(
            error_body(&response),
            json!({
                "status": 403,
                "code": "SignatureDoesNotMatch",
                "message": "Signature does not match."
            })
        );
        assert_eq!(response.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn an_unsigned_url_is_400() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let response = handler.handle(&request_for(THUMBOR)).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        error_body(&response),
        json!({
            "status": 400,
            "code": "AuthorizationQueryParametersError",
            "message": "Query-string requires the signature parameter."
        })
    );
}

#[tokio::test]
async fn an_expired_signed_url_is_400_and_a_live_one_is_cached_until_it_expires() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);

    let expired = signed(THUMBOR, &[("expires", "20200101T000000Z")]);
    let response = handler.handle(&request_for(&expired)).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        error_body(&response),
        json!({ "status": 400, "code": "ImageRequestExpired", "message": "Request has expired." })
    );

    let live = signed(THUMBOR, &[("expires", "20991231T235959Z")]);
    let response = handler.handle(&request_for(&live)).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let cache_control = response.header("cache-control").expect("cache-control");
    let seconds: u64 = cache_control
        .strip_prefix("max-age=")
        .and_then(|rest| rest.strip_suffix(",public"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{cache_control}"));
    // 2099 is more than 70 years away, and no more than 2099 - 1970 years.
    assert!(
        seconds > 70 * 365 * 86_400 && seconds < 130 * 366 * 86_400,
        "{seconds}"
    );
}

#[tokio::test]
async fn a_secret_without_the_configured_field_is_500_signature_validation_failure() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes"), ("SECRET_KEY", "no-such-field")]);
    let response = handler.handle(&request_for(&signed(THUMBOR, &[]))).await;
    assert_eq!(response.status, 500);
    assert_eq!(
        error_body(&response),
        json!({
            "status": 500,
            "code": "SignatureValidationFailure",
            "message": "Signature validation failed."
        })
    );
}

#[tokio::test]
async fn with_signatures_off_unsigned_urls_are_served() {
    let stack = Stack::start("sih-sig").await.expect("stack");
    let handler = stack.handler(&[]);
    let response = handler.handle(&request_for(THUMBOR)).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
}
