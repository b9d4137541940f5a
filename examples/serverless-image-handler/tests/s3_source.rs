//! Original images from S3 (the emulator) through the real handler: what is read, which
//! metadata comes back as headers, and SIH's answers for missing keys and buckets outside
//! `SOURCE_BUCKETS`.
//!
//! Run with `cargo xtask test`, or with the emulator running (`cargo xtask emulator`):
//! `cargo test -p example-serverless-image-handler --all-features --test s3_source`.

use example_serverless_image_handler::local::{
    PHOTO, PHOTO_CACHE_CONTROL, PHOTO_EXPIRES, Stack, decode, default_path, served_image,
};
use lambdakit_image::handler::HandlerRequest;
use lambdakit_image::response::HandlerResponse;
use serde_json::{Value, json};

/// A Default request: `/` and the base64 of the JSON.
fn default_request(request: &Value) -> HandlerRequest {
    HandlerRequest::get(default_path(request))
}

fn error_body(response: &HandlerResponse) -> Value {
    assert_eq!(response.header("content-type"), Some("application/json"));
    serde_json::from_slice(&response.body).expect("a JSON error body")
}

#[tokio::test]
async fn a_default_request_reads_the_object_and_passes_its_metadata_on() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let handler = stack.handler(&[]);
    let request = default_request(&json!({
        "bucket": stack.bucket,
        "key": PHOTO,
        "edits": { "resize": { "width": 400 } }
    }));
    let response = handler.handle(&request).await;
    let out = served_image(&response).expect("a 200 with an image");
    // 2560x1600 at 400 wide.
    assert_eq!((out.format, out.width, out.height), ("jpeg", 400, 250));
    assert_eq!(response.header("content-type"), Some("image/jpeg"));
    // The object's Cache-Control and Expires, and its LastModified as an HTTP date.
    assert_eq!(response.header("cache-control"), Some(PHOTO_CACHE_CONTROL));
    assert_eq!(response.header("expires"), Some(PHOTO_EXPIRES));
    let last_modified = response.header("last-modified").expect("last-modified");
    assert!(
        last_modified.len() == 29 && last_modified.ends_with(" GMT"),
        "{last_modified}"
    );
    // SIH's CORS headers, without Access-Control-Allow-Origin while CORS is off.
    assert_eq!(response.header("access-control-allow-methods"), Some("GET"));
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("Content-Type, Authorization")
    );
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert!(
        response.is_base64,
        "images go back base64-encoded through API Gateway"
    );
}

#[tokio::test]
async fn without_stored_cache_control_the_answer_is_cached_a_year_and_cors_names_the_origin() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let handler = stack.handler(&[
        ("CORS_ENABLED", "Yes"),
        ("CORS_ORIGIN", "https://www.example.com"),
    ]);
    // A Default request without a bucket reads the first of SOURCE_BUCKETS.
    let request = default_request(&json!({ "key": "Landscape_1.jpg" }));
    let response = handler.handle(&request).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    assert_eq!(
        response.header("cache-control"),
        Some("max-age=31536000,public")
    );
    assert_eq!(response.header("expires"), None);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://www.example.com")
    );
    let out = decode(&response.body).expect("image");
    assert_eq!((out.width, out.height), (1200, 800));
}

#[tokio::test]
async fn a_missing_key_is_404_no_such_key() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let handler = stack.handler(&[]);
    for request in [
        default_request(&json!({ "bucket": stack.bucket, "key": "photos/missing.jpg" })),
        HandlerRequest::get("/fit-in/100x100/photos/missing.jpg"),
    ] {
        let response = handler.handle(&request).await;
        assert_eq!(response.status, 404);
        assert_eq!(
            error_body(&response),
            json!({
                "status": 404,
                "code": "NoSuchKey",
                "message": "The image photos/missing.jpg does not exist or the request may not be base64 encoded properly."
            })
        );
        assert!(!response.is_base64);
    }
}

#[tokio::test]
async fn an_allowed_bucket_that_does_not_exist_is_404_too() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let gone = lambdakit_test_support::unique_name("sih-gone");
    let buckets = format!("{},{gone}", stack.bucket);
    let handler = stack.handler(&[("SOURCE_BUCKETS", &buckets)]);
    let response = handler
        .handle(&default_request(&json!({ "bucket": gone, "key": PHOTO })))
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(error_body(&response)["code"], "NoSuchKey");
}

#[tokio::test]
async fn a_bucket_outside_source_buckets_is_403_even_when_it_exists() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    // Another bucket on the same account, with the same photo: not in SOURCE_BUCKETS.
    let other = Stack::start("sih-other").await.expect("other stack");
    let handler = stack.handler(&[]);
    let response = handler
        .handle(&default_request(
            &json!({ "bucket": other.bucket, "key": PHOTO }),
        ))
        .await;
    assert_eq!(response.status, 403);
    assert_eq!(
        error_body(&response),
        json!({
            "status": 403,
            "code": "ImageBucket::CannotAccessBucket",
            "message": "The bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS."
        })
    );
}

#[tokio::test]
async fn a_thumbor_request_reads_a_second_bucket_named_with_s3_prefix() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let other = Stack::start("sih-second").await.expect("second bucket");
    let buckets = format!("{},{}", stack.bucket, other.bucket);
    let handler = stack.handler(&[("SOURCE_BUCKETS", &buckets)]);
    let request = HandlerRequest::get(format!("/s3:{}/fit-in/90x90/transparent.png", other.bucket));
    let response = handler.handle(&request).await;
    let out = served_image(&response).expect("a 200 with an image");
    assert_eq!((out.format, out.width, out.height), ("png", 90, 68));
}

#[tokio::test]
async fn with_a_fallback_image_errors_answer_with_it_and_keep_their_status() {
    let stack = Stack::start("sih-s3").await.expect("stack");
    let bucket = stack.bucket.clone();
    let handler = stack.handler(&[
        ("ENABLE_DEFAULT_FALLBACK_IMAGE", "Yes"),
        ("DEFAULT_FALLBACK_IMAGE_BUCKET", &bucket),
        ("DEFAULT_FALLBACK_IMAGE_KEY", "pil123p.png"),
    ]);
    let response = handler
        .handle(&HandlerRequest::get("/fit-in/100x100/photos/missing.jpg"))
        .await;
    assert_eq!(response.status, 404);
    assert_eq!(response.header("content-type"), Some("image/png"));
    assert!(response.is_base64);
    let out = decode(&response.body).expect("the fallback image");
    assert_eq!((out.format, out.width, out.height), ("png", 162, 150));
}
