//! The blog's page in a real browser: headless Chromium opens `frontend/index.html` served by
//! a local API Gateway in front of the Lambda handler, uploads a real photo through the
//! presigned PUT and through the presigned POST form, and the test reads each object back
//! from the emulator. Run with `cargo xtask test` (it starts the emulator and installs
//! Chromium).

use std::path::PathBuf;
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
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let s3 = emulator::s3();
    let bucket = runtime.block_on(emulator::bucket(&s3, "browser"));
    let url = emulator::url();
    let (b, max) = (bucket.clone(), max_bytes.to_string());
    let env = move |name: &str| match name {
        "UPLOAD_BUCKET" => Some(b.clone()),
        "AWS_REGION" => Some(emulator::REGION.to_owned()),
        "S3_ENDPOINT_URL" => Some(url.clone()),
        "MAX_UPLOAD_BYTES" => Some(max.clone()),
        _ => None,
    };
    let handler = Arc::new(
        example_s3_uploader::handler_from_env(&emulator::sdk_config(), env).expect("handler"),
    );
    let gateway = Gateway::start(GatewayConfig {
        handler: Arc::new(move |request| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { example_s3_uploader::route(&handler, request).await })
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
fn upload(page: &mut Page, file: &PathBuf, mode: &str) -> (String, String, String) {
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
