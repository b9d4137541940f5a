//! The blog's page in a real browser: headless Chromium opens `frontend/index.html` served by
//! a local API Gateway in front of the Lambda handler, uploads a real photo through the
//! presigned PUT and through the presigned POST form, and the test reads each object back
//! from the emulator. Run with `cargo xtask test` (it starts the emulator and installs
//! Chromium).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lambdakit_test_support::browser::{Browser, Page};
use lambdakit_test_support::gateway::{Gateway, GatewayConfig};
use lambdakit_test_support::{emulator, fixture, workspace_root};

struct App {
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    bucket: String,
    gateway: Gateway,
}

fn start(max_bytes: u64) -> App {
    start_with(max_bytes, "image/jpeg")
}

fn start_with(max_bytes: u64, types: &str) -> App {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let s3 = emulator::s3();
    let bucket = runtime.block_on(emulator::bucket(&s3, "browser"));
    let url = emulator::url();
    let (b, max, types) = (bucket.clone(), max_bytes.to_string(), types.to_owned());
    let env = move |name: &str| match name {
        "UPLOAD_BUCKET" => Some(b.clone()),
        "AWS_REGION" => Some(emulator::REGION.to_owned()),
        "S3_ENDPOINT_URL" => Some(url.clone()),
        "MAX_UPLOAD_BYTES" => Some(max.clone()),
        "ALLOWED_TYPES" => Some(types.clone()),
        _ => None,
    };
    let handler = Arc::new(
        example_s3_uploader::App::from_env(&emulator::sdk_config(), env).expect("handler"),
    );
    let gateway = Gateway::start(GatewayConfig {
        handler: Arc::new(move |request| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler.route(request).await })
        }),
        static_dir: Some(workspace_root().join("examples/s3-uploader/frontend")),
        jwt_claims: None,
    });
    App {
        runtime,
        s3,
        bucket,
        gateway,
    }
}

/// Chooses `file`, picks the mode, clicks Upload, and returns (state, status text, key).
fn upload(page: &mut Page, file: &Path, mode: &str) -> (String, String, String) {
    page.eval(&format!(
        "document.getElementById('mode-{mode}').checked = true"
    ))
    .expect("choose mode");
    page.set_file("#file", file);
    page.eval("document.getElementById('upload').click()")
        .expect("click");
    let state = page.wait_for(
        "['done', 'error'].includes(document.getElementById('status').dataset.state) \
         && document.getElementById('status').dataset.state",
        Duration::from_secs(30),
    );
    let text = page
        .eval("document.getElementById('status').textContent")
        .expect("status");
    let key = page
        .eval("document.getElementById('result').textContent")
        .expect("key");
    let s = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    (s(state), s(text), s(key))
}

#[test]
fn browser_uploads_a_photo_through_presigned_put_and_post() {
    let app = start(10 * 1024 * 1024);
    let photo_path = workspace_root().join("fixtures/images/grace_hopper.jpg");
    let photo = fixture("fixtures/images/grace_hopper.jpg");
    let browser = Browser::launch();
    let mut page = browser.open(&format!("{}/index.html", app.gateway.url()));

    for mode in ["put", "post"] {
        let (state, text, key) = upload(&mut page, &photo_path, mode);
        assert_eq!(state, "done", "{mode}: {text}");
        assert!(
            key.starts_with("uploads/") && key.ends_with(".jpg"),
            "{mode}: {key}"
        );
        let stored = app
            .runtime
            .block_on(emulator::object(&app.s3, &app.bucket, &key));
        assert_eq!(
            stored.as_deref(),
            Some(&photo[..]),
            "{mode}: stored bytes differ"
        );
        let progress = page
            .eval("document.getElementById('progress').value")
            .expect("progress");
        assert_eq!(progress, 100, "{mode}");
    }
}

#[test]
fn browser_shows_why_an_upload_is_refused() {
    let app = start(1000);
    let browser = Browser::launch();
    let mut page = browser.open(&format!("{}/index.html", app.gateway.url()));

    // Too large for the limit: the API refuses with 413 before anything reaches S3.
    let photo_path = workspace_root().join("fixtures/images/grace_hopper.jpg");
    for mode in ["put", "post"] {
        let (state, text, key) = upload(&mut page, &photo_path, mode);
        assert_eq!(state, "error", "{mode}: {text}");
        assert!(
            text.contains("over the limit of 1000 bytes"),
            "{mode}: {text}"
        );
        assert_eq!(key, "");
    }

    // A type that is not allowed: 415, shown to the user.
    let html = std::env::temp_dir().join(format!(
        "{}.html",
        lambdakit_test_support::unique_name("page")
    ));
    std::fs::write(&html, "<script>alert(1)</script>").expect("write");
    let (state, text, _) = upload(&mut page, &html, "put");
    let _ = std::fs::remove_file(&html);
    assert_eq!(state, "error", "{text}");
    assert!(
        text.contains("text/html") && text.contains("not allowed"),
        "{text}"
    );

    let listed = app.runtime.block_on(async {
        app.s3
            .list_objects_v2()
            .bucket(&app.bucket)
            .send()
            .await
            .expect("list")
            .key_count()
    });
    assert_eq!(listed, Some(0), "nothing may be stored");
}

/// The bytes the Uppy test uploads: `i % 251`, so a misplaced part shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn uppy_uploads_through_the_companion_routes() {
    // Uppy's own browser bundle (pinned in frontend/package.json, installed by `cargo xtask
    // test`) with its @uppy/aws-s3 plugin pointed at the API: a file over 5 MiB goes up as a
    // multipart upload with presigned parts. (Files under 5 MiB go up as a POST form from
    // `s3/params`; Uppy reads the ETag header of S3's answer, which moto does not send, so
    // that route is tested in tests/handler.rs and the form against S3's rules.)
    let app = start_with(20 * 1024 * 1024, "image/jpeg,application/octet-stream");
    let browser = Browser::launch();
    let mut page = browser.open(&format!("{}/uppy.html", app.gateway.url()));
    let big = 6 * 1024 * 1024 + 123;
    let result = page
        .eval(&format!(
            r#"(async () => {{
                const make = (n) => {{ const a = new Uint8Array(n); for (let i = 0; i < n; i++) a[i] = i % 251; return a; }};
                const type = "application/octet-stream";
                uppy.addFile({{ name: "big.bin", type, data: new Blob([make({big})], {{ type }}) }});
                // Uppy waits forever on an upload whose response it cannot read: give up after
                // a minute and report where each file stands.
                const timeout = new Promise((resolve) => setTimeout(() => resolve({{
                    successful: [],
                    failed: uppy.getFiles().map((f) => ({{ name: f.name, error: "timed out at " + JSON.stringify(f.progress) }})),
                }}), 60000));
                const result = await Promise.race([uppy.upload(), timeout]);
                return {{
                    successful: result.successful.map((f) => ({{ name: f.name, key: f.s3Multipart ? f.s3Multipart.key : null }})),
                    failed: result.failed.map((f) => ({{ name: f.name, error: String(f.error) }})),
                }};
            }})()"#
        ))
        .expect("uppy.upload()");
    assert_eq!(result["failed"], serde_json::json!([]), "{result}");
    let successful = result["successful"].as_array().expect("successful");
    assert_eq!(successful.len(), 1, "{result}");
    let multipart_key = successful
        .iter()
        .find(|f| f["name"] == "big.bin")
        .and_then(|f| f["key"].as_str())
        .expect("the big file went up as a multipart upload")
        .to_owned();

    let objects = app.runtime.block_on(async {
        let listed = app
            .s3
            .list_objects_v2()
            .bucket(&app.bucket)
            .send()
            .await
            .expect("list");
        let mut out = Vec::new();
        for object in listed.contents() {
            let key = object.key().expect("key").to_owned();
            let bytes = emulator::object(&app.s3, &app.bucket, &key)
                .await
                .expect("object");
            out.push((key, bytes));
        }
        out
    });
    assert_eq!(
        objects.len(),
        1,
        "{:?}",
        objects.iter().map(|o| &o.0).collect::<Vec<_>>()
    );
    let (key, bytes) = &objects[0];
    assert_eq!(*key, multipart_key);
    assert!(
        key.starts_with("uploads/") && key.ends_with(".bin"),
        "{key}"
    );
    assert_eq!(bytes.len(), big, "{key}");
    assert!(*bytes == pattern(big), "{key}: content differs");
}
