//! Run with `cargo xtask demo` (it starts the local AWS emulator and sets
//! `LAMBDAKIT_EMULATOR_URL`).
//!
//! The blog's flow end to end, with no AWS account: the Lambda handler answers the sample
//! `GET /uploads` event with a presigned PUT, the "browser" PUTs a real photo to it, and the
//! object is read back from the emulator; then the same with a presigned POST form; then a
//! request over the size limit is refused.

use std::path::PathBuf;

use lambdakit_test_support::{emulator, fixture, gateway, http, workspace_root};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn say(msg: &str) {
    println!("  {msg}");
}

async fn invoke(
    app: &example_s3_uploader::App,
    event: &str,
    query: &[(&str, &str)],
) -> Result<(u16, Value)> {
    let mut event: Value =
        serde_json::from_slice(&fixture(format!("examples/s3-uploader/events/{event}")))?;
    if !query.is_empty() {
        let map: serde_json::Map<String, Value> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        event["queryStringParameters"] = Value::Object(map);
        // lambda_http reads the raw query string, as API Gateway sends both.
        let raw: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        event["rawQueryString"] = Value::String(raw.join("&"));
    }
    send(app, event).await
}

/// Sends `method path` with a JSON `body` through the sample event, as API Gateway would.
async fn call(
    app: &example_s3_uploader::App,
    method: &str,
    path: &str,
    query: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let mut event: Value =
        serde_json::from_slice(&fixture("examples/s3-uploader/events/get-uploads.json"))?;
    gateway::retarget(&mut event, method, path, query, body.as_ref());
    send(app, event).await
}

async fn send(app: &example_s3_uploader::App, event: Value) -> Result<(u16, Value)> {
    let request = lambda_http::request::from_str(&event.to_string())?;
    let response = app.route(request).await;
    Ok(gateway::json_response(&response)?)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The string entries of a JSON object, in order.
fn string_pairs(object: &Value) -> Vec<(String, String)> {
    object
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads `key` back from the emulator, checks it holds `expected`, and keeps a copy as `copy`.
async fn check_stored(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    expected: &[u8],
    copy: Option<PathBuf>,
) -> Result {
    let stored = emulator::object(s3, bucket, key)
        .await
        .ok_or(format!("s3://{bucket}/{key} is missing"))?;
    if stored != expected {
        return Err(format!("s3://{bucket}/{key} differs from the uploaded bytes").into());
    }
    let kept = match copy {
        Some(path) => {
            std::fs::write(&path, &stored)?;
            format!(" (copy: {})", path.display())
        }
        None => String::new(),
    };
    say(&format!(
        "s3://{bucket}/{key} holds the same {} bytes{kept}",
        stored.len()
    ));
    Ok(())
}

#[tokio::main]
async fn main() -> Result {
    let url = emulator::url();
    let out: PathBuf = std::env::var_os("LAMBDAKIT_DEMO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/demo"))
        .join("s3-uploader");
    std::fs::create_dir_all(&out)?;
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "demo-uploads").await;
    say(&format!(
        "created bucket {bucket} (with CORS) in the emulator at {url}"
    ));

    let env = |name: &str| -> Option<String> {
        match name {
            "UPLOAD_BUCKET" => Some(bucket.clone()),
            "AWS_REGION" => Some(emulator::REGION.into()),
            "S3_ENDPOINT_URL" => Some(url.clone()),
            "ALLOWED_TYPES" => Some("image/jpeg,application/octet-stream".into()),
            _ => None,
        }
    };
    let app = example_s3_uploader::App::from_env(&emulator::sdk_config(), env)?;
    let photo = fixture("fixtures/images/grace_hopper.jpg");
    let size = photo.len().to_string();

    // 1. The blog's flow: GET /uploads, then PUT.
    let (status, body) = invoke(
        &app,
        "get-uploads.json",
        &[("contentType", "image/jpeg"), ("size", &size)],
    )
    .await?;
    std::fs::write(
        out.join("get-uploads.json"),
        serde_json::to_vec_pretty(&body)?,
    )?;
    say(&format!("GET /uploads -> {status}, key {}", body["Key"]));
    let headers = string_pairs(&body["headers"]);
    let put = http::put(
        body["uploadURL"].as_str().ok_or("no uploadURL")?,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &photo,
    );
    say(&format!(
        "PUT {} bytes to the presigned URL -> {}",
        photo.len(),
        put.status
    ));
    let key = body["Key"].as_str().ok_or("no Key")?;
    check_stored(&s3, &bucket, key, &photo, Some(out.join("put-object.jpg"))).await?;
    let replay = http::put(
        body["uploadURL"].as_str().ok_or("no uploadURL")?,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        b"something else",
    );
    say(&format!(
        "PUT other bytes to the same URL again -> {} (if-none-match: the upload is never overwritten)",
        replay.status
    ));
    if replay.status != 412 {
        return Err("a replayed URL overwrote the upload".into());
    }

    // 2. The POST-policy variant: GET /uploads/post, then a multipart/form-data POST.
    let (status, body) = invoke(
        &app,
        "get-uploads-post.json",
        &[("contentType", "image/jpeg")],
    )
    .await?;
    std::fs::write(
        out.join("get-uploads-post.json"),
        serde_json::to_vec_pretty(&body)?,
    )?;
    say(&format!(
        "GET /uploads/post -> {status}, key {}",
        body["key"]
    ));
    let fields = string_pairs(&body["fields"]);
    let post = http::post_form(
        body["url"].as_str().ok_or("no url")?,
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        "grace_hopper.jpg",
        "image/jpeg",
        &photo,
    );
    say(&format!("POST form with the file -> {}", post.status));
    let key = body["key"].as_str().ok_or("no key")?;
    check_stored(&s3, &bucket, key, &photo, Some(out.join("post-object.jpg"))).await?;

    // 3. A large file the way Uppy's @uppy/aws-s3 plugin sends it: a multipart upload through
    //    the Companion-style routes, each part PUT to its presigned URL.
    let big: Vec<u8> = (0..6 * 1024 * 1024 + 321)
        .map(|i| (i % 251) as u8)
        .collect();
    let create = serde_json::json!({"filename": "big.bin", "type": "application/octet-stream"});
    let (status, created) = call(&app, "POST", "/s3/multipart", "", Some(create)).await?;
    let key = created["key"].as_str().ok_or("no key")?.to_owned();
    let upload_id = created["uploadId"]
        .as_str()
        .ok_or("no uploadId")?
        .to_owned();
    say(&format!("POST /s3/multipart -> {status}, key {key}"));
    let query = format!("key={}", encode(&key));
    let mut parts = Vec::new();
    for (i, chunk) in big.chunks(5 * 1024 * 1024).enumerate() {
        let n = i + 1;
        let (_, signed) = call(
            &app,
            "GET",
            &format!("/s3/multipart/{}/{n}", encode(&upload_id)),
            &query,
            None,
        )
        .await?;
        let put = http::put(signed["url"].as_str().ok_or("no url")?, [], chunk);
        let etag = put.headers.get("etag").cloned().ok_or("no ETag")?;
        say(&format!(
            "PUT part {n} ({} bytes) -> {}",
            chunk.len(),
            put.status
        ));
        parts.push(serde_json::json!({"PartNumber": n, "ETag": etag}));
    }
    let complete = serde_json::json!({ "parts": parts });
    let (status, done) = call(
        &app,
        "POST",
        &format!("/s3/multipart/{}/complete", encode(&upload_id)),
        &query,
        Some(complete),
    )
    .await?;
    say(&format!("POST /s3/multipart/…/complete -> {status}"));
    if done["key"] != key.as_str() {
        return Err(format!("the multipart upload did not complete: {done}").into());
    }
    check_stored(&s3, &bucket, &key, &big, None).await?;

    // 4. What the blog's Lambda would have signed, refused up front.
    let (status, body) = invoke(
        &app,
        "get-uploads.json",
        &[("contentType", "image/jpeg"), ("size", "52428800")],
    )
    .await?;
    say(&format!(
        "GET /uploads for 50 MiB -> {status} {}",
        body["code"]
    ));
    let (status, body) = invoke(
        &app,
        "get-uploads.json",
        &[("contentType", "text/html"), ("size", "10")],
    )
    .await?;
    say(&format!(
        "GET /uploads for text/html -> {status} {}",
        body["code"]
    ));

    println!(
        "s3-uploader: uploaded fixtures/images/grace_hopper.jpg through a presigned PUT and a presigned POST, and 6 MiB as a multipart upload; output in {}",
        out.display()
    );
    Ok(())
}
