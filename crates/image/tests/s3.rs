//! `S3Source` and `SecretsManagerSecret` against the local AWS emulator (moto's server, which
//! `cargo xtask test` starts): metadata to headers, Serverless Image Handler's 404 and 403
//! bodies, the size limit, a signing key read from Secrets Manager and its rotation.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use lambdakit_image::handler::{Config, HandlerRequest, ImageHandler};
use lambdakit_image::secret::{SecretProvider, SecretsManagerSecret};
use lambdakit_image::signature::{self, SignatureMode};
use lambdakit_image::source::{ImageSource, S3Source};
use lambdakit_image::{ErrorKind, response::HandlerResponse};
use lambdakit_test_support::{emulator, unique_name};

/// A file of this repository, by path from its root (resolved from this crate's folder, so a
/// shared build cache cannot point it at another checkout).
fn fixture(path: impl AsRef<std::path::Path>) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path.as_ref());
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", full.display()))
}

fn config(vars: &[(&str, &str)]) -> Config {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&emulator::sdk_config()).build(),
    )
}

async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: Option<&str>,
) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .set_content_type(content_type.map(str::to_owned))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

fn body(r: &HandlerResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[tokio::test]
async fn object_metadata_becomes_the_response_headers() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-src").await;
    let jpeg = fixture("fixtures/images/grace_hopper.jpg");
    s3.put_object()
        .bucket(&bucket)
        .key("photos/cat.jpg")
        .body(ByteStream::from(jpeg.clone()))
        .content_type("image/jpeg")
        .cache_control("max-age=300,public")
        .expires(DateTime::from_secs(1_577_195_188)) // Tue, 24 Dec 2019 13:46:28 GMT
        .send()
        .await
        .expect("put");

    let source = S3Source::new(s3.clone());
    let image = source
        .fetch(&bucket, "photos/cat.jpg")
        .await
        .expect("fetch");
    assert!(image.bytes == jpeg);
    assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(image.cache_control.as_deref(), Some("max-age=300,public"));
    assert_eq!(
        image.expires.as_deref(),
        Some("Tue, 24 Dec 2019 13:46:28 GMT")
    );
    let last_modified = image.last_modified.clone().expect("Last-Modified");
    assert!(
        lambdakit_image::source::parse_http_date(&last_modified).is_some(),
        "{last_modified}"
    );
    assert!(image.etag.is_some());

    let handler = ImageHandler::builder(source)
        .config(config(&[("SOURCE_BUCKETS", &format!("other, {bucket}"))]))
        .build();
    let r = handler
        .handle(&HandlerRequest::get(format!("/s3:{bucket}/photos/cat.jpg")))
        .await;
    assert_eq!(r.status, 200, "{}", body(&r));
    assert!(r.body == jpeg);
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        headers[..7],
        [
            ("Cache-Control", "max-age=300,public"),
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Content-Type", "image/jpeg"),
            ("Expires", "Tue, 24 Dec 2019 13:46:28 GMT"),
            ("Last-Modified", last_modified.as_str()),
        ]
    );
    assert_eq!(headers[7].0, "ETag");
}

#[tokio::test]
async fn content_type_is_inferred_when_s3s_is_not_an_image_type() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-infer").await;
    let jpeg = fixture("fixtures/images/grace_hopper.jpg");
    put(
        &s3,
        &bucket,
        "no-extension",
        jpeg,
        Some("binary/octet-stream"),
    )
    .await;
    put(
        &s3,
        &bucket,
        "text",
        b"SampleImageContent\n".to_vec(),
        Some("application/octet-stream"),
    )
    .await;
    let source = S3Source::new(s3);
    let image = source.fetch(&bucket, "no-extension").await.expect("fetch");
    assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));

    let handler = ImageHandler::builder(source)
        .config(config(&[("SOURCE_BUCKETS", &bucket)]))
        .build();
    let r = handler.handle(&HandlerRequest::get("/text")).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        body(&r),
        r#"{"status":500,"code":"RequestTypeError","message":"The file does not have an extension and the file type could not be inferred. Please ensure that your original image is of a supported file type (jpg/jpeg, png, tiff, webp, gif, avif). Inferring the image type from hex headers is not available for SVG images. Refer to the documentation for additional guidance on forming image requests."}"#
    );
}

#[tokio::test]
async fn missing_key_and_bucket_outside_source_buckets() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-missing").await;
    let handler = ImageHandler::builder(S3Source::new(s3))
        .config(config(&[("SOURCE_BUCKETS", &bucket)]))
        .build();

    let r = handler.handle(&HandlerRequest::get("/test.jpg")).await;
    assert_eq!((r.status, r.is_base64), (404, false));
    assert_eq!(
        body(&r),
        r#"{"status":404,"code":"NoSuchKey","message":"The image test.jpg does not exist or the request may not be base64 encoded properly."}"#
    );
    assert_eq!(r.header("Content-Type"), Some("application/json"));

    // A bucket in SOURCE_BUCKETS that does not exist: the same 404, as Serverless Image
    // Handler answers any GetObject failure.
    let gone = ImageHandler::builder(S3Source::new(emulator::s3()))
        .config(config(&[(
            "SOURCE_BUCKETS",
            &unique_name("no-such-bucket"),
        )]))
        .build();
    let r = gone.handle(&HandlerRequest::get("/test.jpg")).await;
    assert_eq!(r.status, 404);

    // A Default request for a bucket outside SOURCE_BUCKETS.
    let request = serde_json::json!({"bucket": "someone-elses-bucket", "key": "test.jpg"});
    let path = format!(
        "/{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            request.to_string()
        )
    );
    let r = handler.handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        body(&r),
        r#"{"status":403,"code":"ImageBucket::CannotAccessBucket","message":"The bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS."}"#
    );
}

#[tokio::test]
async fn objects_over_the_size_limit_are_refused() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-big").await;
    put(
        &s3,
        &bucket,
        "big.jpg",
        fixture("fixtures/images/grace_hopper.jpg"),
        Some("image/jpeg"),
    )
    .await;
    let source = S3Source::new(s3).with_max_bytes(60_000); // the photograph is 61,306 bytes
    let e = source.fetch(&bucket, "big.jpg").await.expect_err("too big");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert_eq!(
        e.to_json(),
        r#"{"status":500,"code":"ImageRetrieval::CannotRetrieveImage","message":"Image could not be retrieved from S3."}"#
    );
}

#[tokio::test]
async fn fallback_image_from_s3_with_its_cache_control() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-fallback").await;
    s3.put_object()
        .bucket(&bucket)
        .key("fallback.png")
        .body(ByteStream::from(b"SampleFallbackImageContent\n".to_vec()))
        .content_type("image/png")
        .cache_control("max-age=12,public")
        .send()
        .await
        .expect("put");
    let handler = ImageHandler::builder(S3Source::new(s3))
        .config(config(&[
            ("SOURCE_BUCKETS", &bucket),
            ("ENABLE_DEFAULT_FALLBACK_IMAGE", "Yes"),
            ("DEFAULT_FALLBACK_IMAGE_BUCKET", &bucket),
            ("DEFAULT_FALLBACK_IMAGE_KEY", "fallback.png"),
        ]))
        .build();
    // {key: "test.jpg", headers: {Cache-Control: "max-age=11,public"}}: the image's own
    // Cache-Control wins (index.spec.ts).
    let r = handler
        .handle(&HandlerRequest::get(
            "ewoia2V5IjogInRlc3QuanBnIiwKImhlYWRlcnMiOiB7CiJDYWNoZS1Db250cm9sIjoibWF4LWFnZT0xMSxwdWJsaWMiCn0KfQ==",
        ))
        .await;
    assert_eq!((r.status, r.is_base64), (404, true));
    assert_eq!(r.body, b"SampleFallbackImageContent\n");
    assert_eq!(r.header("Cache-Control"), Some("max-age=12,public"));
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    let last_modified = r.header("Last-Modified").expect("Last-Modified");
    assert!(
        last_modified.ends_with(".000Z") && last_modified.len() == 24,
        "JSON.stringify of a Date: {last_modified}"
    );
}

async fn create_secret(client: &aws_sdk_secretsmanager::Client, key: &str) -> String {
    let name = unique_name("image-signing");
    client
        .create_secret()
        .name(&name)
        .secret_string(serde_json::json!({ "signatureKey": key }).to_string())
        .send()
        .await
        .expect("create secret");
    name
}

async fn rotate(client: &aws_sdk_secretsmanager::Client, name: &str, key: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(serde_json::json!({ "signatureKey": key }).to_string())
        .send()
        .await
        .expect("put secret value");
}

fn signed(key: &str) -> HandlerRequest {
    let query = BTreeMap::new();
    let sig = signature::signature(
        "/test.jpg",
        &query,
        key.as_bytes(),
        SignatureMode::PathAndQuery,
    );
    HandlerRequest::get("/test.jpg").with_query("signature", sig)
}

#[tokio::test]
async fn signing_key_from_secrets_manager_and_its_rotation() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-signed").await;
    put(
        &s3,
        &bucket,
        "test.jpg",
        fixture("fixtures/images/grace_hopper.jpg"),
        Some("image/jpeg"),
    )
    .await;
    let sm = secrets_manager();
    let name = create_secret(&sm, "first-key").await;
    let vars = [
        ("SOURCE_BUCKETS", bucket.as_str()),
        ("ENABLE_SIGNATURE", "Yes"),
        ("SECRETS_MANAGER", name.as_str()),
        ("SECRET_KEY", "signatureKey"),
    ];
    let cached = ImageHandler::builder(S3Source::new(s3.clone()))
        .config(config(&vars))
        .secret(
            SecretsManagerSecret::new(sm.clone(), &name, "signatureKey")
                .with_refresh(Duration::from_secs(3600)),
        )
        .build();
    let fresh = ImageHandler::builder(S3Source::new(s3.clone()))
        .config(config(&vars))
        .secret(
            SecretsManagerSecret::new(sm.clone(), &name, "signatureKey")
                .with_refresh(Duration::ZERO),
        )
        .build();

    assert_eq!(cached.handle(&signed("first-key")).await.status, 200);
    assert_eq!(fresh.handle(&signed("first-key")).await.status, 200);
    assert_eq!(cached.handle(&signed("other-key")).await.status, 403);

    rotate(&sm, &name, "second-key").await;
    // Within the refresh interval the cached key still rules.
    assert_eq!(cached.handle(&signed("first-key")).await.status, 200);
    assert_eq!(cached.handle(&signed("second-key")).await.status, 403);
    // Past it, the rotated key is read.
    assert_eq!(fresh.handle(&signed("second-key")).await.status, 200);
    assert_eq!(fresh.handle(&signed("first-key")).await.status, 403);

    // Concurrent callers get the same key.
    let provider = SecretsManagerSecret::new(sm, &name, "signatureKey");
    let keys = futures_join(&provider).await;
    assert!(keys.iter().all(|k| k.as_bytes() == b"second-key"));
    assert!(!format!("{provider:?}").contains("second-key"));
}

async fn futures_join(provider: &SecretsManagerSecret) -> Vec<lambdakit_image::secret::SigningKey> {
    let (a, b, c) = tokio::join!(
        provider.signing_key(),
        provider.signing_key(),
        provider.signing_key()
    );
    vec![a.expect("a"), b.expect("b"), c.expect("c")]
}

#[tokio::test]
async fn missing_secret_is_a_validation_failure() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "img-nosecret").await;
    let missing = unique_name("no-such-secret");
    let handler = ImageHandler::builder(S3Source::new(s3))
        .config(config(&[
            ("SOURCE_BUCKETS", &bucket),
            ("ENABLE_SIGNATURE", "Yes"),
            ("SECRETS_MANAGER", &missing),
            ("SECRET_KEY", "signatureKey"),
        ]))
        .secret(SecretsManagerSecret::new(
            secrets_manager(),
            &missing,
            "signatureKey",
        ))
        .build();
    let r = handler.handle(&signed("anything")).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        body(&r),
        r#"{"status":500,"code":"SignatureValidationFailure","message":"Signature validation failed."}"#
    );

    // A secret without the field: the same.
    let sm = secrets_manager();
    let name = create_secret(&sm, "k").await;
    let wrong_field = SecretsManagerSecret::new(sm, &name, "otherField");
    assert!(wrong_field.signing_key().await.is_err());
}
