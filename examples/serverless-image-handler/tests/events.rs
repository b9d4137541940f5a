//! The sample events in `events/` through the Lambda's handler (`handle_lambda`, as
//! `lambda_http` delivers them), against the emulator: each SIH URL answers with the image it
//! asks for.
//!
//! Run with `cargo xtask test`, or with the emulator running (`cargo xtask emulator`):
//! `cargo test -p example-serverless-image-handler --all-features --test events`.

use example_serverless_image_handler::local::{
    self, EVENTS_BUCKET, PHOTO_CACHE_CONTROL, PHOTO_EXPIRES, Stack, decode,
};
use lambda_http::{Body, Response};

async fn answer(event: &str, overrides: &[(&str, &str)]) -> Response<Body> {
    let stack = Stack::start("sih-events").await.expect("stack");
    local::events_bucket(&stack.clients.s3)
        .await
        .expect("events bucket");
    let mut env = vec![("SOURCE_BUCKETS", EVENTS_BUCKET)];
    env.extend_from_slice(overrides);
    let handler = stack.handler(&env);
    let path = format!("{}/events/{event}", env!("CARGO_MANIFEST_DIR"));
    let json = std::fs::read_to_string(&path).expect("event");
    let request = lambda_http::request::from_str(&json).expect("a lambda_http event");
    handler.handle_lambda(request).await.expect("infallible")
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn image(response: &Response<Body>) -> local::Decoded {
    assert_eq!(
        response.status(),
        200,
        "{}",
        String::from_utf8_lossy(response.body().as_ref())
    );
    match response.body() {
        Body::Binary(bytes) => decode(bytes).expect("an image"),
        other => panic!("an image is a binary body (base64 for API Gateway), got {other:?}"),
    }
}

#[tokio::test]
async fn rest_api_default_request_crops_the_photo_and_passes_its_s3_metadata_on() {
    let response = answer("apigw-rest-default.json", &[]).await;
    let out = image(&response);
    assert_eq!((out.format, out.width, out.height), ("jpeg", 400, 300));
    assert_eq!(header(&response, "content-type"), Some("image/jpeg"));
    assert_eq!(
        header(&response, "cache-control"),
        Some(PHOTO_CACHE_CONTROL)
    );
    assert_eq!(header(&response, "expires"), Some(PHOTO_EXPIRES));
    assert!(header(&response, "last-modified").is_some_and(|v| v.ends_with(" GMT")));
    assert_eq!(
        header(&response, "access-control-allow-methods"),
        Some("GET")
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn rest_api_thumbor_request_fits_in_and_turns_gray() {
    let response = answer("apigw-rest-thumbor.json", &[]).await;
    let out = image(&response);
    // 2560x1600 inside 300x300.
    assert_eq!((out.format, out.width, out.height), ("jpeg", 300, 188));
    assert!(out.is_gray(6), "grayscale() leaves colour");
}

#[tokio::test]
async fn rest_api_signed_request_is_accepted_with_the_secret_from_secrets_manager() {
    let response = answer("apigw-rest-signed.json", &[("ENABLE_SIGNATURE", "Yes")]).await;
    let out = image(&response);
    // Landscape_6 is stored 800x1200 with EXIF orientation 6: upright it is 1200x800, and
    // 200x200 crops it.
    assert_eq!((out.format, out.width, out.height), ("webp", 200, 200));
    // With `expires`, the response may be cached until then, no longer.
    let cache_control = header(&response, "cache-control").expect("cache-control");
    assert!(
        cache_control.starts_with("max-age=") && cache_control.ends_with(",public"),
        "{cache_control}"
    );
}

#[tokio::test]
async fn http_api_default_request_converts_the_transparent_png_to_webp() {
    let response = answer("apigw-http-default.json", &[]).await;
    let out = image(&response);
    assert_eq!((out.format, out.width, out.height), ("webp", 320, 240));
    assert!(out.has_alpha, "the PNG's transparency is kept");
    assert_eq!(header(&response, "content-type"), Some("image/webp"));
}

#[tokio::test]
async fn alb_thumbor_request_answers_without_credentials_header() {
    let response = answer("alb-thumbor.json", &[]).await;
    let out = image(&response);
    assert_eq!((out.format, out.width, out.height), ("png", 100, 100));
    assert!(out.has_alpha, "the WebP's alpha is kept");
    assert_eq!(header(&response, "access-control-allow-credentials"), None);
    assert_eq!(
        header(&response, "access-control-allow-methods"),
        Some("GET")
    );
}
