//! `cargo xtask demo` for the serverless image handler: the template's resources on the local
//! emulator (a source bucket holding real photos, PNG, WebP and an animated GIF; the signing
//! secret in Secrets Manager), and Serverless Image Handler URLs through the Lambda's handler:
//! a Default resize, Thumbor edits, format conversions, a watermark, an EXIF-rotated photo,
//! an animated GIF, signed and tampered URLs, a missing key and a forbidden bucket. Each answer
//! is printed (status, content type, dimensions) and each image written to
//! `target/demo/serverless-image-handler/`.
//!
//! Run with `cargo xtask demo` (it starts the emulator and sets `LAMBDAKIT_EMULATOR_URL`), or
//! `cargo run -p example-serverless-image-handler --features local --bin
//! serverless-image-handler-demo` with the emulator running.

use std::collections::BTreeMap;
use std::path::Path;

use example_serverless_image_handler::BoxError;
use example_serverless_image_handler::local::{PHOTO, SIGNING_KEY, Stack, decode, default_path};
use example_serverless_image_handler::serve::query_parameters;
use lambdakit_image::handler::{HandlerRequest, ImageHandler};
use lambdakit_image::secret::SecretsManagerSecret;
use lambdakit_image::signature::{SignatureMode, sign_url};
use lambdakit_image::source::S3Source;

type Handler = ImageHandler<S3Source, SecretsManagerSecret>;

/// The request API Gateway delivers for a URL path with its query.
fn request(url: &str) -> HandlerRequest {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    HandlerRequest {
        path: path.to_owned(),
        query: query_parameters(query),
        ..HandlerRequest::default()
    }
}

/// Runs `url`, checks the status, prints the answer and writes an image to `out/name`.
async fn step(
    handler: &Handler,
    out: &Path,
    name: &str,
    what: &str,
    url: &str,
    status: u16,
) -> Result<(), BoxError> {
    let response = handler.handle(&request(url)).await;
    let shown = if url.len() > 110 {
        format!("{}…", &url[..110])
    } else {
        url.to_owned()
    };
    println!("\n{what}\n  GET {shown}");
    let content_type = response.header("content-type").unwrap_or("-").to_owned();
    if response.status != status {
        return Err(format!(
            "{what}: expected {status}, got {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )
        .into());
    }
    if response.is_base64 {
        let image = decode(&response.body)?;
        let path = out.join(format!("{name}.{}", image.format));
        std::fs::write(&path, &response.body)?;
        let frames = if image.frames > 1 {
            format!(", {} frames", image.frames)
        } else {
            String::new()
        };
        println!(
            "  {} {content_type} {}x{}{frames}, {} bytes -> {}",
            response.status,
            image.width,
            image.height,
            response.body.len(),
            path.display()
        );
    } else {
        println!(
            "  {} {content_type} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    lambdakit_test_support::init_tracing();
    let root = example_serverless_image_handler::local::workspace_root();
    let out = std::env::var_os("LAMBDAKIT_DEMO_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target/demo"))
        .join("serverless-image-handler");
    std::fs::create_dir_all(&out)?;

    // The stack: the source bucket with the fixture images, the signing secret.
    let stack = Stack::start("sih-demo").await?;
    println!(
        "source bucket {} (the fixtures of crates/image/tests/fixtures), signing secret {}",
        stack.bucket, stack.secret_id
    );
    let handler = stack.handler(&[]);
    let bucket = stack.bucket.as_str();

    step(
        &handler,
        &out,
        "01-default-resize",
        "Default request: the photo (2560x1600) cropped to 600x400",
        &default_path(&serde_json::json!({
            "bucket": bucket,
            "key": PHOTO,
            "edits": { "resize": { "width": 600, "height": 400, "fit": "cover" } }
        })),
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "02-thumbor-fit-in-grayscale",
        "Thumbor request: fit in 300x300, grayscale",
        &format!("/fit-in/300x300/filters:grayscale()/{PHOTO}"),
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "03-to-webp",
        "JPEG to WebP",
        &format!("/fit-in/400x400/filters:format(webp)/{PHOTO}"),
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "04-webp-alpha-to-png",
        "WebP with alpha to PNG (alpha kept)",
        "/filters:format(png)/transparent.webp",
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "05-query-parameters",
        "Query parameters (v7+): 300 wide, WebP",
        "/Portrait_1.jpg?width=300&format=webp",
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "06-watermark",
        "Watermark: the toucan (a palette PNG with transparency), 30% of the size, at (10, 10)",
        &format!(
            "/fit-in/600x600/filters:watermark({bucket},pil123p.png,10,10,0,30,30)/Landscape_1.jpg"
        ),
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "07-exif-upright",
        "EXIF orientation 6 (stored 800x1200 on its side): comes out upright, 400x267",
        "/fit-in/400x400/Landscape_6.jpg",
        200,
    )
    .await?;
    step(
        &handler,
        &out,
        "08-animated-gif",
        "Animated GIF (320x240, 31 frames) resized to 160x120, every frame kept",
        "/fit-in/160x160/chi.gif",
        200,
    )
    .await?;

    // Signatures on: the key comes from Secrets Manager.
    let signed_handler = stack.handler(&[("ENABLE_SIGNATURE", "Yes")]);
    let mut query = BTreeMap::new();
    query.insert("expires".to_owned(), "20991231T235959Z".to_owned());
    let signed = sign_url(
        "/fit-in/300x300/filters:format(webp)/Portrait_6.jpg",
        &query,
        SIGNING_KEY.as_bytes(),
        SignatureMode::PathAndQuery,
    );
    step(
        &signed_handler,
        &out,
        "09-signed",
        "Signed URL (ENABLE_SIGNATURE=Yes): accepted",
        &signed,
        200,
    )
    .await?;
    step(
        &signed_handler,
        &out,
        "10-tampered",
        "The same URL asking for another size: refused",
        &signed.replace("300x300", "3000x3000"),
        403,
    )
    .await?;
    step(
        &handler,
        &out,
        "11-missing",
        "A key that is not in the bucket",
        "/fit-in/300x300/photos/missing.jpg",
        404,
    )
    .await?;
    step(
        &handler,
        &out,
        "12-forbidden-bucket",
        "A Default request for a bucket outside SOURCE_BUCKETS",
        &default_path(&serde_json::json!({ "bucket": "someone-elses-bucket", "key": PHOTO })),
        403,
    )
    .await?;

    println!("\nimages in {}", out.display());
    Ok(())
}
