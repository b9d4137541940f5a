//! The Lambda handler on the sample API Gateway events in `events/`, against the emulator.

use lambdakit_test_support::{emulator, fixture, gateway};
use serde_json::Value;

fn handler(bucket: &str) -> example_s3_uploader::App {
    let url = emulator::url();
    let bucket = bucket.to_owned();
    example_s3_uploader::App::from_env(&emulator::sdk_config(), move |name| match name {
        "UPLOAD_BUCKET" => Some(bucket.clone()),
        "S3_ENDPOINT_URL" => Some(url.clone()),
        _ => None,
    })
    .expect("handler")
}

async fn invoke(
    handler: &example_s3_uploader::App,
    event: &str,
    edit: impl FnOnce(&mut Value),
) -> (u16, Value) {
    let mut event: Value =
        serde_json::from_slice(&fixture(format!("examples/s3-uploader/events/{event}")))
            .expect("event");
    edit(&mut event);
    let request = lambda_http::request::from_str(&event.to_string()).expect("request");
    let response = handler.route(request).await;
    assert_eq!(response.headers()["content-type"], "application/json");
    gateway::json_response(&response).expect("a JSON body")
}

#[tokio::test]
async fn sample_events_get_presigned_urls() {
    let h = handler("sample-bucket");
    let (status, body) = invoke(&h, "get-uploads.json", |_| {}).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["uploadURL"]
            .as_str()
            .expect("url")
            .contains("/sample-bucket/uploads/")
    );
    assert_eq!(body["headers"]["content-length"], "61306");
    assert_eq!(body["method"], "PUT");

    let (status, body) = invoke(&h, "get-uploads-post.json", |_| {}).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fields"]["key"], body["key"]);
    assert_eq!(body["fields"]["Content-Type"], "image/jpeg");
}

#[tokio::test]
async fn jwt_claims_scope_keys_per_user() {
    let h = handler("sample-bucket");
    let (status, body) = invoke(&h, "get-uploads-jwt.json", |_| {}).await;
    assert_eq!(status, 200, "{body}");
    let key = body["Key"].as_str().expect("key");
    assert!(
        key.starts_with("uploads/7f3c9a52-1e7b-4f0e-9d55-1b1f2a6c9e01/"),
        "{key}"
    );

    // A subject that tries to climb out of its prefix is refused.
    let (status, body) = invoke(&h, "get-uploads-jwt.json", |e| {
        e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = "..".into();
    })
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "InvalidKey");
}

#[tokio::test]
async fn bad_requests_get_typed_errors() {
    let h = handler("sample-bucket");
    let cases: [(&str, &str, u16, &str); 4] = [
        (
            "contentType=image%2Fjpeg&size=lots",
            "GET",
            400,
            "InvalidRequest",
        ),
        ("contentType=image%2Fjpeg", "GET", 400, "InvalidRequest"),
        (
            "contentType=image%2Fgif&size=10",
            "GET",
            415,
            "UnsupportedContentType",
        ),
        (
            "contentType=image%2Fjpeg&size=999999999",
            "GET",
            413,
            "TooLarge",
        ),
    ];
    for (query, method, status, code) in cases {
        let (got, body) = invoke(&h, "get-uploads.json", |e| {
            e["rawQueryString"] = query.into();
            e["requestContext"]["http"]["method"] = method.into();
        })
        .await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{query}: {body}"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, _) = invoke(&h, "get-uploads.json", |e| {
        e["rawPath"] = "/elsewhere".into();
        e["requestContext"]["http"]["path"] = "/elsewhere".into();
    })
    .await;
    assert_eq!(status, 404);
}

#[test]
fn configuration_errors_are_reported() {
    let config = emulator::sdk_config();
    let err = example_s3_uploader::App::from_env(&config, |_| None).expect_err("no bucket");
    assert!(err.to_string().contains("UPLOAD_BUCKET"), "{err}");
    let err = example_s3_uploader::App::from_env(&config, |n| match n {
        "UPLOAD_BUCKET" => Some("b-1".into()),
        "MAX_UPLOAD_BYTES" => Some("ten".into()),
        _ => None,
    })
    .expect_err("bad number");
    assert!(err.to_string().contains("MAX_UPLOAD_BYTES"), "{err}");
    let app = example_s3_uploader::App::from_env(&config, |n| match n {
        "UPLOAD_BUCKET" => Some("b-1".into()),
        "AWS_REGION" => Some("eu-west-1".into()),
        "S3_ACCELERATE" => Some("true".into()),
        _ => None,
    })
    .expect("accelerated app");
    assert_eq!(
        app.handler.uploader().presigner().post_url(),
        "https://b-1.s3-accelerate.amazonaws.com/"
    );
}

/// Sends `method path?query` with a JSON `body` through the sample event.
async fn call(
    app: &example_s3_uploader::App,
    method: &str,
    path: &str,
    query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    invoke(app, "get-uploads.json", |e| {
        gateway::retarget(e, method, path, query, body.as_ref());
    })
    .await
}

#[tokio::test]
async fn companion_routes_answer_as_uppy_expects() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "companion").await;
    let url = emulator::url();
    let app = example_s3_uploader::App::from_env(&emulator::sdk_config(), move |name| match name {
        "UPLOAD_BUCKET" => Some(bucket.clone()),
        "S3_ENDPOINT_URL" => Some(url.clone()),
        "ALLOWED_TYPES" => Some("image/jpeg,application/octet-stream".into()),
        _ => None,
    })
    .expect("app");

    // Simple uploads: a POST form, as Companion's `s3/params` answers.
    let (status, params) = call(
        &app,
        "GET",
        "/s3/params",
        "filename=cat.jpg&type=image%2Fjpeg&metadata%5Bname%5D=cat.jpg",
        None,
    )
    .await;
    assert_eq!(status, 200, "{params}");
    assert_eq!(params["method"], "POST");
    assert_eq!(params["fields"]["key"], params["key"]);
    assert!(params["fields"]["x-amz-signature"].is_string());
    assert!(
        params["fields"].get("x-amz-meta-name").is_none(),
        "client metadata is not signed"
    );

    // Multipart: create, batch-sign, list, abort.
    let create = serde_json::json!({"filename": "big.bin", "type": "application/octet-stream", "metadata": {}});
    let (status, created) = call(&app, "POST", "/s3/multipart", "", Some(create)).await;
    assert_eq!(status, 200, "{created}");
    let key = created["key"].as_str().expect("key").to_owned();
    let upload_id = created["uploadId"].as_str().expect("uploadId").to_owned();
    let query = format!("key={}", key.replace('/', "%2F"));
    let base = format!("/s3/multipart/{upload_id}");

    let (status, batch) = call(
        &app,
        "GET",
        &format!("{base}/batch"),
        &format!("{query}&partNumbers=1,2"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{batch}");
    assert!(
        batch["presignedUrls"]["2"]
            .as_str()
            .is_some_and(|u| u.contains("partNumber=2")),
        "{batch}"
    );
    let (status, one) = call(&app, "GET", &format!("{base}/3"), &query, None).await;
    assert_eq!(status, 200, "{one}");
    assert!(
        one["url"]
            .as_str()
            .is_some_and(|u| u.contains("partNumber=3")),
        "{one}"
    );
    assert_eq!(one["expires"], 300);
    let (status, parts) = call(&app, "GET", &base, &query, None).await;
    assert_eq!((status, parts), (200, serde_json::json!([])));
    let (status, _) = call(&app, "DELETE", &base, &query, None).await;
    assert_eq!(status, 200);
    let (status, gone) = call(&app, "GET", &base, &query, None).await;
    assert_eq!((status, gone["code"].as_str()), (404, Some("NoSuchUpload")));

    // Bad part numbers, keys outside the prefix, unknown routes.
    let (status, _) = call(&app, "GET", &format!("{base}/0"), &query, None).await;
    assert_eq!(status, 400);
    let (status, _) = call(
        &app,
        "GET",
        &format!("{base}/1"),
        "key=other%2Fkey.bin",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, "GET", "/s3/unknown", "", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn rest_api_cognito_claims_scope_keys_too() {
    let h = handler("sample-bucket");
    let (status, body) = invoke(&h, "get-uploads-rest-cognito.json", |_| {}).await;
    assert_eq!(status, 200, "{body}");
    let key = body["Key"].as_str().expect("key");
    assert!(
        key.starts_with("uploads/4a1c7e58-0a55-4a3b-9e0e-5b0c2d7e9f10/"),
        "{key}"
    );
    assert_eq!(body["headers"]["content-length"], "61306");
}

#[tokio::test]
async fn the_blogs_own_frontend_can_be_served() {
    // The blog's page calls `GET /uploads` with no parameters and PUTs with only a
    // content type: the compatibility settings answer it as the blog's Lambda did.
    let url = emulator::url();
    let app = example_s3_uploader::App::from_env(&emulator::sdk_config(), move |name| match name {
        "UPLOAD_BUCKET" => Some("sample-bucket".into()),
        "S3_ENDPOINT_URL" => Some(url.clone()),
        "REQUIRE_SIZE" => Some("false".into()),
        "ALLOW_OVERWRITE" => Some("true".into()),
        _ => None,
    })
    .expect("app");
    let (status, body) = invoke(&app, "get-uploads.json", |e| {
        e["rawQueryString"] = "".into();
        e["queryStringParameters"] = Value::Null;
    })
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["uploadURL"].is_string() && body["Key"].is_string(),
        "{body}"
    );
    assert_eq!(
        body["headers"],
        serde_json::json!({"content-type": "image/jpeg"})
    );
}
