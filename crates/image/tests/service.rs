//! The handler end to end over a local directory and a static secret: statuses, headers in
//! Serverless Image Handler's order, its JSON error bodies byte for byte (cases from its
//! `test/index.spec.ts` and `test/image-request/setup.spec.ts`, v8.0.1), CORS, ALB and API
//! Gateway, the fallback image, and what we add (ETag and 304, `Vary`, the 413 before the
//! Lambda payload limit). The `lambda` module is fed real event JSON through `lambda_http`'s
//! own deserializer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lambdakit_image::handler::{Config, HandlerRequest, ImageHandler};
use lambdakit_image::secret::{NoSecret, SecretProvider, StaticSecret};
use lambdakit_image::signature::{self, SignatureMode};
use lambdakit_image::source::DirSource;
use lambdakit_test_support::unique_name;

/// A file of this repository, by path from its root (resolved from this crate's folder, so a
/// shared build cache cannot point it at another checkout).
fn fixture(path: impl AsRef<std::path::Path>) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path.as_ref());
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", full.display()))
}

const BUCKET: &str = "source-bucket";
/// 2009-12-19 16:30:47 UTC, the `LastModified` of Serverless Image Handler's specs.
const MTIME: u64 = 1_261_240_247;
const MTIME_HTTP: &str = "Sat, 19 Dec 2009 16:30:47 GMT";

struct Fixture {
    root: PathBuf,
    jpeg: Vec<u8>,
}

impl Fixture {
    /// A directory with `test.jpg` (a real 512x600 photograph), a not-an-image file, and
    /// `fallback-bucket/fallback.png`.
    fn new() -> Self {
        let root = std::env::temp_dir().join(unique_name("lambdakit-image-service"));
        std::fs::create_dir_all(root.join("fallback-bucket")).expect("mkdir");
        let jpeg = fixture("fixtures/images/grace_hopper.jpg");
        write(&root.join("test.jpg"), &jpeg);
        write(&root.join("not-an-image.jpg"), b"SampleImageContent\n");
        write(&root.join("fallback-bucket/fallback.png"), &png(4, 3));
        Self { root, jpeg }
    }

    fn handler(&self, vars: &[(&str, &str)]) -> ImageHandler<DirSource, NoSecret> {
        ImageHandler::builder(DirSource::new(&self.root))
            .config(config(vars))
            .build()
    }

    fn signed_handler(&self, vars: &[(&str, &str)]) -> ImageHandler<DirSource, StaticSecret> {
        ImageHandler::builder(DirSource::new(&self.root))
            .config(config(vars))
            .secret(StaticSecret::new("secret"))
            .build()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(MTIME))
        .expect("mtime");
}

fn png(width: u32, height: u32) -> Vec<u8> {
    // Noise (a fixed LCG) so that PNG cannot compress it.
    let mut state: u32 = 0x1234_5678;
    let pixels: Vec<u8> = (0..width * height * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    let image = image::RgbImage::from_raw(width, height, pixels).expect("buffer");
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

fn config(vars: &[(&str, &str)]) -> Config {
    let mut all: HashMap<String, String> =
        HashMap::from([("SOURCE_BUCKETS".into(), BUCKET.into())]);
    for (k, v) in vars {
        all.insert((*k).to_owned(), (*v).to_owned());
    }
    Config::from_lookup(|name| all.get(name).cloned())
}

/// A Default request path: `/` and base64 of the JSON.
fn default_path(json: &serde_json::Value) -> String {
    format!(
        "/{}",
        base64::engine::general_purpose::STANDARD.encode(json.to_string())
    )
}

fn names(headers: &[(String, String)]) -> Vec<&str> {
    headers.iter().map(|(n, _)| n.as_str()).collect()
}

fn header<'a>(r: &'a lambdakit_image::response::HandlerResponse, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", r.headers))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn without_etag(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(n, _)| n != "ETag")
        .cloned()
        .collect()
}

const NO_SUCH_KEY: &str = r#"{"status":404,"code":"NoSuchKey","message":"The image missing.jpg does not exist or the request may not be base64 encoded properly."}"#;

// index.spec.ts: "should return the image when there is no error using RestAPI handler".
#[tokio::test]
async fn original_bytes_when_nothing_to_do_with_headers_in_order() {
    let f = Fixture::new();
    let r = f
        .handler(&[])
        .handle(&HandlerRequest::get("/test.jpg"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.is_base64);
    assert!(r.body == f.jpeg, "the original bytes, untouched");
    assert_eq!(
        without_etag(&r.headers),
        pairs(&[
            ("Cache-Control", "max-age=31536000,public"),
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Content-Type", "image/jpeg"),
            ("Last-Modified", MTIME_HTTP),
        ])
    );
    assert_eq!(r.headers.last().map(|(n, _)| n.as_str()), Some("ETag"));
    assert_eq!(r.header("Vary"), None, "no Vary without AUTO_WEBP");
}

// index.spec.ts: "should return the image when the request is from ALB".
#[tokio::test]
async fn alb_requests_get_no_allow_credentials() {
    let f = Fixture::new();
    let mut req = HandlerRequest::get("/test.jpg");
    req.is_alb = true;
    let r = f.handler(&[]).handle(&req).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        names(&r.headers),
        [
            "Cache-Control",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Content-Type",
            "Last-Modified",
            "ETag"
        ]
    );
}

#[tokio::test]
async fn cors_origin_only_when_enabled() {
    let f = Fixture::new();
    let on = f
        .handler(&[
            ("CORS_ENABLED", "Yes"),
            ("CORS_ORIGIN", "https://example.com"),
        ])
        .handle(&HandlerRequest::get("/test.jpg"))
        .await;
    assert_eq!(
        names(&on.headers)[1..5],
        [
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Allow-Credentials",
            "Access-Control-Allow-Origin"
        ]
    );
    assert_eq!(
        header(&on, "Access-Control-Allow-Origin"),
        "https://example.com"
    );
    for vars in [
        &[("CORS_ENABLED", "No"), ("CORS_ORIGIN", "*")][..],
        &[("CORS_ENABLED", "Yes")][..],
    ] {
        let off = f
            .handler(vars)
            .handle(&HandlerRequest::get("/test.jpg"))
            .await;
        assert_eq!(off.header("Access-Control-Allow-Origin"), None, "{vars:?}");
    }
}

// index.spec.ts: "should return an error JSON when an error occurs" and the ALB variant.
#[tokio::test]
async fn missing_image_is_serverless_image_handlers_404() {
    let f = Fixture::new();
    let r = f
        .handler(&[("CORS_ENABLED", "Yes"), ("CORS_ORIGIN", "*")])
        .handle(&HandlerRequest::get("/missing.jpg"))
        .await;
    assert_eq!(r.status, 404);
    assert!(!r.is_base64);
    assert_eq!(String::from_utf8_lossy(&r.body), NO_SUCH_KEY);
    assert_eq!(
        r.headers,
        pairs(&[
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Origin", "*"),
            ("Content-Type", "application/json"),
        ])
    );
    let mut alb = HandlerRequest::get("/missing.jpg");
    alb.is_alb = true;
    let r = f.handler(&[]).handle(&alb).await;
    assert_eq!(
        r.headers,
        pairs(&[
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Content-Type", "application/json"),
        ])
    );
}

#[tokio::test]
async fn keys_outside_the_directory_are_not_found() {
    let f = Fixture::new();
    let outside = f.root.with_extension("secret.jpg");
    std::fs::write(&outside, &f.jpeg).expect("write outside");
    let name = outside.file_name().and_then(|n| n.to_str()).expect("name");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, f.root.join("link.jpg")).expect("symlink");
    let h = f.handler(&[]);
    for key in [
        format!("../{name}"),
        outside.display().to_string(),
        "link.jpg".into(),
    ] {
        let path = default_path(&serde_json::json!({ "key": key }));
        let r = h.handle(&HandlerRequest::get(path)).await;
        assert_eq!(r.status, 404, "{key}: {}", String::from_utf8_lossy(&r.body));
        assert!(r.body != f.jpeg);
    }
    let _ = std::fs::remove_file(outside);
}

// index.spec.ts: "should return the image with custom headers when custom headers are provided".
#[tokio::test]
async fn custom_headers_of_a_default_request() {
    let f = Fixture::new();
    let path = default_path(&serde_json::json!({
        "bucket": BUCKET, "key": "test.jpg", "headers": {"Custom-Header": "CustomValue"}
    }));
    let r = f.handler(&[]).handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        without_etag(&r.headers),
        pairs(&[
            ("Cache-Control", "max-age=31536000,public"),
            ("Custom-Header", "CustomValue"),
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Content-Type", "image/jpeg"),
            ("Last-Modified", MTIME_HTTP),
        ])
    );
}

// index.spec.ts: Cache-Control may be overwritten by the request, not when `expires` is given.
#[tokio::test]
async fn cache_control_from_request_then_expires() {
    let f = Fixture::new();
    let path = default_path(&serde_json::json!({
        "key": "test.jpg", "headers": {"Cache-Control": "max-age=50,public"}
    }));
    let h = f.handler(&[]);
    let r = h.handle(&HandlerRequest::get(path.clone())).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.headers[0],
        ("Cache-Control".into(), "max-age=50,public".into())
    );

    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let expires = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        in_a_day.year(),
        u8::from(in_a_day.month()),
        in_a_day.day(),
        in_a_day.hour(),
        in_a_day.minute(),
        in_a_day.second()
    );
    let r = h
        .handle(&HandlerRequest::get(path).with_query("expires", expires))
        .await;
    assert_eq!(r.status, 200);
    let (name, value) = &r.headers[0];
    assert_eq!(name, "Cache-Control");
    let seconds: u64 = value
        .strip_prefix("max-age=")
        .and_then(|v| v.strip_suffix(",public"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{value}"));
    assert!((86_000..=86_400).contains(&seconds), "{value}");
}

#[tokio::test]
async fn expired_and_malformed_expires() {
    let f = Fixture::new();
    let h = f.handler(&[]);
    let r = h
        .handle(&HandlerRequest::get("/test.jpg").with_query("expires", "19700101T000000Z"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":400,"code":"ImageRequestExpired","message":"Request has expired."}"#
    );
    let r = h
        .handle(&HandlerRequest::get("/test.jpg").with_query("expires", "19700101T000000"))
        .await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains(r#""code":"ImageRequestExpiryFormat""#));
}

// setup.spec.ts "enableSignature".
#[tokio::test]
async fn signatures_are_checked_before_anything_else() {
    let f = Fixture::new();
    let vars = [("ENABLE_SIGNATURE", "Yes")];
    let h = f.signed_handler(&vars);

    // Missing: 400, even for a path that would not parse, and before `expires`.
    for req in [
        HandlerRequest::get("/test.jpg"),
        HandlerRequest::get("/!!!not a request").with_query("expires", "x"),
        HandlerRequest::get("/test.jpg").with_query("signature", ""),
    ] {
        let r = h.handle(&req).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            r#"{"status":400,"code":"AuthorizationQueryParametersError","message":"Query-string requires the signature parameter."}"#
        );
    }
    let r = h
        .handle(&HandlerRequest::get("/test.jpg").with_query("signature", "invalid"))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":403,"code":"SignatureDoesNotMatch","message":"Signature does not match."}"#
    );

    let query = [("width".to_owned(), "100".to_owned())]
        .into_iter()
        .collect();
    let good = signature::signature("/test.jpg", &query, b"secret", SignatureMode::PathAndQuery);
    let signed = HandlerRequest::get("/test.jpg")
        .with_query("width", "100")
        .with_query("signature", good.clone());
    let r = h.handle(&signed).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    // The same URL with another width, or a v6 handler: 403.
    let r = h.handle(&signed.clone().with_query("width", "101")).await;
    assert_eq!(r.status, 403);
    let v6 = f.signed_handler(&[
        ("ENABLE_SIGNATURE", "Yes"),
        ("LAMBDAKIT_SIGNATURE_MODE", "v6"),
    ]);
    assert_eq!(v6.handle(&signed).await.status, 403);

    // The secret cannot be read: 500 SignatureValidationFailure.
    let r = f.handler(&vars).handle(&signed).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":500,"code":"SignatureValidationFailure","message":"Signature validation failed."}"#
    );
}

#[tokio::test]
async fn a_failing_secret_provider_is_a_validation_failure() {
    struct Broken;
    impl SecretProvider for Broken {
        async fn signing_key(
            &self,
        ) -> lambdakit_image::Result<lambdakit_image::secret::SigningKey> {
            Err(lambdakit_image::Error::new(503, "Throttled", "slow down"))
        }
    }
    let f = Fixture::new();
    let h = ImageHandler::builder(DirSource::new(&f.root))
        .config(config(&[("ENABLE_SIGNATURE", "Yes")]))
        .secret(Broken)
        .build();
    let r = h
        .handle(&HandlerRequest::get("/test.jpg").with_query("signature", "00"))
        .await;
    assert_eq!(r.status, 500);
    assert!(String::from_utf8_lossy(&r.body).contains("SignatureValidationFailure"));
}

// index.spec.ts: "should return the default fallback image when an error occurs ...".
#[tokio::test]
async fn fallback_image_with_the_errors_status() {
    let f = Fixture::new();
    let vars = [
        ("ENABLE_DEFAULT_FALLBACK_IMAGE", "Yes"),
        ("DEFAULT_FALLBACK_IMAGE_BUCKET", "fallback-bucket"),
        ("DEFAULT_FALLBACK_IMAGE_KEY", "fallback.png"),
        ("CORS_ENABLED", "Yes"),
        ("CORS_ORIGIN", "*"),
    ];
    let h = f.handler(&vars);
    let r = h.handle(&HandlerRequest::get("/missing.jpg")).await;
    assert_eq!(r.status, 404);
    assert!(r.is_base64);
    assert!(r.body == png(4, 3));
    assert_eq!(
        r.headers,
        pairs(&[
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Origin", "*"),
            ("Content-Type", "image/png"),
            // The S3 Date object, serialized by JSON.stringify.
            ("Last-Modified", "2009-12-19T16:30:47.000Z"),
            ("Cache-Control", "max-age=31536000,public"),
        ])
    );

    // The request's own Cache-Control when the fallback image has none.
    let path = "/ewoia2V5IjogIm1pc3NpbmcuanBnIiwKImhlYWRlcnMiOiB7CiJDYWNoZS1Db250cm9sIjoibWF4LWFnZT0xMSxwdWJsaWMiCn0KfQ==";
    let r = h.handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 404);
    assert_eq!(header(&r, "Cache-Control"), "max-age=11,public");

    // Any error, a signature failure included.
    let signed = f.handler(&[vars.as_slice(), &[("ENABLE_SIGNATURE", "Yes")]].concat());
    let r = signed.handle(&HandlerRequest::get("/test.jpg")).await;
    assert_eq!((r.status, r.is_base64), (400, true));
}

// index.spec.ts: "should return an error JSON when getting the default fallback image fails".
#[tokio::test]
async fn missing_fallback_image_gives_the_original_error() {
    let f = Fixture::new();
    let h = f.handler(&[
        ("ENABLE_DEFAULT_FALLBACK_IMAGE", "Yes"),
        ("DEFAULT_FALLBACK_IMAGE_BUCKET", "fallback-bucket"),
        ("DEFAULT_FALLBACK_IMAGE_KEY", "nope.png"),
    ]);
    let r = h.handle(&HandlerRequest::get("/missing.jpg")).await;
    assert_eq!((r.status, r.is_base64), (404, false));
    assert_eq!(String::from_utf8_lossy(&r.body), NO_SUCH_KEY);
}

#[tokio::test]
async fn etag_and_if_none_match() {
    let f = Fixture::new();
    let h = f.handler(&[]);
    let r = h.handle(&HandlerRequest::get("/test.jpg")).await;
    let tag = header(&r, "ETag").to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
        "{tag}"
    );

    let again = h
        .handle(&HandlerRequest::get("/test.jpg").with_header("if-none-match", &tag))
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty() && !again.is_base64);
    assert_eq!(header(&again, "ETag"), tag);
    assert_eq!(header(&again, "Cache-Control"), "max-age=31536000,public");
    assert_eq!(again.header("Content-Type"), None);

    let other = h
        .handle(&HandlerRequest::get("/test.jpg").with_header("If-None-Match", "\"abc\""))
        .await;
    assert_eq!(other.status, 200);
    assert!(other.body == f.jpeg);
}

#[tokio::test]
async fn vary_accept_with_auto_webp() {
    let f = Fixture::new();
    let r = f
        .handler(&[("AUTO_WEBP", "Yes")])
        .handle(
            &HandlerRequest::get("/test.jpg").with_header("accept", "image/avif,image/webp,*/*"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(header(&r, "Vary"), "Accept");
    assert_eq!(header(&r, "Content-Type"), "image/webp");
    assert!(r.body.starts_with(b"RIFF"));
}

#[tokio::test]
async fn too_large_for_lambda_is_413() {
    let f = Fixture::new();
    // 1,400 x 1,400 noise: about 5.9 MB of PNG, 7.8 MB in base64.
    write(&f.root.join("noise.png"), &png(1400, 1400));
    let h = f.handler(&[]);
    let expected = r#"{"status":413,"code":"TooLargeImageException","message":"The converted image is too large to return."}"#;
    let r = h.handle(&HandlerRequest::get("/noise.png")).await;
    assert_eq!(r.status, 413);
    assert_eq!(String::from_utf8_lossy(&r.body), expected);

    // A transform whose PNG output is over the limit.
    let path = default_path(&serde_json::json!({"key": "noise.png", "edits": {"flip": true}}));
    let r = h.handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(String::from_utf8_lossy(&r.body), expected);
}

#[tokio::test]
async fn an_image_past_the_functions_memory_is_413_before_decoding() {
    let f = Fixture::new();
    // 1,400 x 1,400: 7.8 MB of RGBA decoded, about 16 MB with the working copy.
    write(&f.root.join("big.png"), &png(1400, 1400));
    let path = "/fit-in/10x10/big.png";
    for vars in [
        &[("LAMBDAKIT_MAX_DECODED_MB", "8")][..],
        &[
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("LAMBDAKIT_MAX_DECODED_MB", "12"),
        ][..],
    ] {
        let r = f.handler(vars).handle(&HandlerRequest::get(path)).await;
        assert_eq!(r.status, 413, "{vars:?}");
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            r#"{"status":413,"code":"TooLargeImageException","message":"The image is too large to process."}"#
        );
    }
    // A 1,024 MB function (896 MiB of pixels) and a 128 MB one (64 MiB) both take it.
    for memory in ["1024", "128"] {
        let r = f
            .handler(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)])
            .handle(&HandlerRequest::get(path))
            .await;
        assert_eq!(r.status, 200, "{memory} MB");
    }
}

// SIH calls sharp once per edits key, in the request's order, and sharp rotates before a
// resize called after the rotation, after one called before it (sharp 0.34.2 on a 400x200
// image: rotate(90).resize({width: 100}) is 100x200, resize({width: 100}).rotate(90) is 50x100).
#[tokio::test]
async fn edits_apply_in_the_order_the_request_gives_them() {
    let f = Fixture::new();
    write(&f.root.join("wide.png"), &png(400, 200));
    let h = f.handler(&[]);
    for (json, size) in [
        (
            r#"{"key":"wide.png","edits":{"rotate":90,"resize":{"width":100}}}"#,
            (100, 200),
        ),
        (
            r#"{"key":"wide.png","edits":{"resize":{"width":100},"rotate":90}}"#,
            (50, 100),
        ),
        // A repeated key keeps its first place and its last value, as in JSON.parse.
        (
            r#"{"key":"wide.png","edits":{"rotate":0,"resize":{"width":100},"rotate":90}}"#,
            (100, 200),
        ),
    ] {
        let path = format!(
            "/{}",
            base64::engine::general_purpose::STANDARD.encode(json)
        );
        let r = h.handle(&HandlerRequest::get(path)).await;
        assert_eq!(
            r.status,
            200,
            "{json}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let img = image::load_from_memory(&r.body).expect("image");
        assert_eq!((img.width(), img.height()), size, "{json}");
    }
}

/// Frames of a GIF or WebP.
fn frames(bytes: &[u8]) -> usize {
    use image::AnimationDecoder as _;
    let cursor = std::io::Cursor::new(bytes);
    if bytes.starts_with(b"GIF") {
        image::codecs::gif::GifDecoder::new(cursor)
            .expect("gif")
            .into_frames()
            .count()
    } else {
        let decoder = image::codecs::webp::WebPDecoder::new(cursor).expect("webp");
        if decoder.has_animation() {
            decoder.into_frames().count()
        } else {
            1
        }
    }
}

// image-handler/animated.spec.ts: SIH animates only when `edits.animated` says so or, when it
// does not, when the request's content type (after the output format is chosen) is
// image/gif. An animated GIF asked for as WebP (AUTO_WEBP, format(webp)) gives one frame.
#[tokio::test]
async fn gifs_animate_as_sih_decides_from_the_content_type() {
    let f = Fixture::new();
    write(
        &f.root.join("chi.gif"),
        &fixture("crates/image/tests/fixtures/chi.gif"),
    );
    let webp = [("Accept", "image/webp,*/*")];
    for (vars, path, accept, (format, count)) in [
        (&[][..], "/fit-in/64x64/chi.gif", None, ("image/gif", 31)),
        (
            &[][..],
            "/fit-in/64x64/filters:format(webp)/chi.gif",
            None,
            ("image/webp", 1),
        ),
        (
            &[("AUTO_WEBP", "Yes")][..],
            "/fit-in/64x64/chi.gif",
            Some(&webp),
            ("image/webp", 1),
        ),
        (
            &[("AUTO_WEBP", "Yes")][..],
            "/fit-in/64x64/chi.gif",
            None,
            ("image/gif", 31),
        ),
    ] {
        let mut request = HandlerRequest::get(path);
        for (k, v) in accept.into_iter().flatten() {
            request = request.with_header(k, v);
        }
        let r = f.handler(vars).handle(&request).await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(header(&r, "Content-Type"), format, "{path} {vars:?}");
        assert_eq!(frames(&r.body), count, "{path} {vars:?}");
    }
    // `"animated": true` animates the WebP too (libwebp's animation encoder merges the
    // identical frames of chi.gif's 31 into 22, as sharp's WebP of it has 22 pages); `false`
    // keeps one frame in GIF.
    for (edits, format, count) in [
        (serde_json::json!({"animated": true}), "webp", 22),
        (serde_json::json!({"animated": false}), "gif", 1),
    ] {
        let path = default_path(
            &serde_json::json!({"key": "chi.gif", "edits": edits, "outputFormat": format}),
        );
        let r = f.handler(&[]).handle(&HandlerRequest::get(path)).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(frames(&r.body), count, "{edits} {format}");
    }
}

#[tokio::test]
async fn transforms_and_content_type() {
    let f = Fixture::new();
    let h = f.handler(&[]);
    let path = default_path(&serde_json::json!({
        "key": "test.jpg", "edits": {"resize": {"width": 100}}, "outputFormat": "png"
    }));
    let r = h.handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(header(&r, "Content-Type"), "image/png");
    let decoded = image::load_from_memory(&r.body).expect("a PNG");
    assert_eq!((decoded.width(), decoded.height()), (100, 117));

    let r = h
        .handle(&HandlerRequest::get(
            "/fit-in/50x50/filters:grayscale()/test.jpg",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(header(&r, "Content-Type"), "image/jpeg");
    let (width, height) = jpeg_size(&r.body);
    assert!(width <= 50 && height == 50, "{width}x{height}");
}

/// Width and height from a JPEG's start-of-frame marker (the `image` crate here reads no
/// JPEG).
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut i = 2;
    while i + 9 < bytes.len() {
        assert_eq!(bytes[i], 0xFF, "marker at {i}");
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return (u32::from(w), u32::from(h));
        }
        i += 2 + len;
    }
    panic!("no start-of-frame marker")
}

// index.spec.ts: "should return 400 error when sharp is passed invalid image format".
#[tokio::test]
async fn invalid_image_is_instantiation_error() {
    let f = Fixture::new();
    let path = default_path(&serde_json::json!({
        "bucket": BUCKET, "key": "not-an-image.jpg", "edits": {"grayscale": true}
    }));
    let r = f.handler(&[]).handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":400,"code":"InstantiationError","message":"Input image could not be instantiated. Please choose a valid image."}"#
    );
}

#[tokio::test]
async fn bucket_outside_source_buckets_is_403() {
    let f = Fixture::new();
    let path =
        default_path(&serde_json::json!({"bucket": "fallback-bucket", "key": "fallback.png"}));
    let r = f.handler(&[]).handle(&HandlerRequest::get(path)).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":403,"code":"ImageBucket::CannotAccessBucket","message":"The bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS."}"#
    );
}

#[tokio::test]
async fn overlay_bucket_is_checked_and_a_missing_overlay_is_400() {
    let f = Fixture::new();
    let h = f.handler(&[]);
    let outside = default_path(&serde_json::json!({
        "key": "test.jpg",
        "edits": {"overlayWith": {"bucket": "fallback-bucket", "key": "fallback.png"}}
    }));
    let r = h.handle(&HandlerRequest::get(outside)).await;
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":403,"code":"ImageBucket::CannotAccessBucket","message":"The overlay image bucket you specified could not be accessed. Please check that the bucket is specified in your SOURCE_BUCKETS."}"#
    );
    let missing = default_path(&serde_json::json!({
        "key": "test.jpg",
        "edits": {"overlayWith": {"bucket": BUCKET, "key": "nope.png"}}
    }));
    let r = h.handle(&HandlerRequest::get(missing)).await;
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":400,"code":"OverlayImageException","message":"The overlay image could not be applied. Please contact the system administrator."}"#
    );
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn path_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>().prop_map(|s| format!("/{s}")),
            "/[a-zA-Z0-9+/=]{0,64}",
            "/(fit-in/)?([0-9]{1,5}x[0-9]{1,5}/)?(filters:[a-z_]{1,12}\\([^)/]{0,12}\\)/){0,3}(test|missing|\\.\\.|%2e%2e)(\\.jpg|\\.png|/x\\.jpg)?",
            prop::collection::vec(any::<(String, i32)>(), 0..4).prop_map(|edits| {
                let edits: serde_json::Map<String, serde_json::Value> =
                    edits.into_iter().map(|(k, v)| (k, v.into())).collect();
                default_path(&serde_json::json!({"key": "test.jpg", "edits": edits}))
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        /// Whatever arrives, the answer is an image or one of Serverless Image Handler's JSON
        /// errors with the status it names: never a panic.
        #[test]
        fn any_request_gets_an_image_or_a_json_error(
            path in path_strategy(),
            query in prop::collection::btree_map("[a-z]{1,9}", ".{0,16}", 0..4),
            signed in any::<bool>(),
        ) {
            let f = Fixture::new();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let vars: &[(&str, &str)] = if signed { &[("ENABLE_SIGNATURE", "Yes")] } else { &[] };
            let mut req = HandlerRequest::get(path);
            req.query = query;
            let r = runtime.block_on(f.signed_handler(vars).handle(&req));
            if r.status == 200 {
                prop_assert!(r.is_base64 && !r.body.is_empty());
            } else {
                prop_assert_eq!(r.header("Content-Type"), Some("application/json"));
                let body: serde_json::Value =
                    serde_json::from_slice(&r.body).expect("a JSON body");
                prop_assert_eq!(body["status"].as_u64(), Some(u64::from(r.status)));
                prop_assert!(body["code"].is_string() && body["message"].is_string());
            }
        }
    }
}

#[cfg(feature = "lambda")]
mod lambda {
    use super::*;
    use lambda_http::Body;
    use lambdakit_image::handler::lambda::handler_request;

    /// API Gateway REST API proxy integration event (payload format 1.0), as AWS documents it:
    /// "Input format of a Lambda function for proxy integration",
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
    /// (values adapted: the path and query of an image request).
    const REST: &str = r#"{
      "resource": "/{proxy+}",
      "path": "/test.jpg",
      "httpMethod": "GET",
      "headers": {"Accept": "image/jpeg,*/*", "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
      "multiValueHeaders": {"Accept": ["image/jpeg,*/*"], "Host": ["abcdef1234.execute-api.us-east-1.amazonaws.com"]},
      "queryStringParameters": {"v": "2", "signature": "SIG"},
      "multiValueQueryStringParameters": {"v": ["1", "2"], "signature": ["SIG"]},
      "pathParameters": {"proxy": "test.jpg"},
      "stageVariables": null,
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "abcdef1234",
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "httpMethod": "GET",
        "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/8.5.0"},
        "path": "/prod/test.jpg",
        "protocol": "HTTP/1.1",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTime": "06/Dec/2026:09:00:00 +0000",
        "requestTimeEpoch": 1796547600000,
        "resourceId": "abc123",
        "resourcePath": "/{proxy+}",
        "stage": "prod"
      },
      "body": null,
      "isBase64Encoded": false
    }"#;

    /// HTTP API event (payload format 2.0), as AWS documents it: "Working with AWS Lambda
    /// proxy integrations for HTTP APIs",
    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    const HTTP_API: &str = r#"{
      "version": "2.0",
      "routeKey": "$default",
      "rawPath": "/test.jpg",
      "rawQueryString": "v=2&signature=SIG",
      "headers": {"accept": "image/jpeg,*/*", "host": "abcdef1234.execute-api.us-east-1.amazonaws.com"},
      "queryStringParameters": {"v": "2", "signature": "SIG"},
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "abcdef1234",
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abcdef1234",
        "http": {"method": "GET", "path": "/test.jpg", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "curl/8.5.0"},
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "06/Dec/2026:09:00:00 +0000",
        "timeEpoch": 1796547600000
      },
      "isBase64Encoded": false
    }"#;

    /// Application Load Balancer target group event, as AWS documents it: "Lambda functions
    /// as targets", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
    /// (the load balancer passes query values percent-encoded, as received).
    const ALB: &str = r#"{
      "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"}},
      "httpMethod": "GET",
      "path": "/test.jpg",
      "queryStringParameters": {"v": "2", "note": "a%20b%26c", "signature": "SIG"},
      "headers": {
        "accept": "image/jpeg,*/*",
        "host": "lambda-alb-123578498.us-east-1.elb.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
        "x-forwarded-for": "192.0.2.1",
        "x-forwarded-port": "80",
        "x-forwarded-proto": "http"
      },
      "body": "",
      "isBase64Encoded": false
    }"#;

    fn event(json: &str, signature: &str) -> lambda_http::Request {
        lambda_http::request::from_str(&json.replace("SIG", signature))
            .expect("lambda_http parses the event")
    }

    #[test]
    fn events_become_serverless_image_handler_requests() {
        let rest = handler_request(&event(REST, "s"));
        assert_eq!(rest.path, "/test.jpg");
        assert_eq!(
            rest.query.get("v").map(String::as_str),
            Some("2"),
            "the last value, as queryStringParameters"
        );
        assert!(!rest.is_alb);
        assert_eq!(
            rest.headers.get("accept").and_then(|v| v.to_str().ok()),
            Some("image/jpeg,*/*")
        );

        let v2 = handler_request(&event(HTTP_API, "s"));
        assert_eq!((v2.path.as_str(), v2.is_alb), ("/test.jpg", false));
        assert_eq!(v2.query.get("v").map(String::as_str), Some("2"));

        let alb = handler_request(&event(ALB, "s"));
        assert!(alb.is_alb);
        assert_eq!(alb.path, "/test.jpg");
        assert_eq!(
            alb.query.get("note").map(String::as_str),
            Some("a b&c"),
            "decoded"
        );
    }

    #[tokio::test]
    async fn each_event_kind_end_to_end() {
        let f = Fixture::new();
        let h = f.signed_handler(&[("ENABLE_SIGNATURE", "Yes")]);
        for (json, alb) in [(REST, false), (HTTP_API, false), (ALB, true)] {
            // Signed over the decoded query, as the handler receives it.
            let unsigned = handler_request(&event(json, ""));
            let sig = signature::signature(
                &unsigned.path,
                &unsigned.query,
                b"secret",
                SignatureMode::PathAndQuery,
            );
            let response = h
                .handle_lambda(event(json, &sig))
                .await
                .expect("infallible");
            assert_eq!(response.status(), 200, "{json}");
            assert_eq!(
                response
                    .headers()
                    .contains_key("access-control-allow-credentials"),
                !alb
            );
            assert_eq!(response.headers()["content-type"], "image/jpeg");
            match response.body() {
                Body::Binary(bytes) => assert!(*bytes == f.jpeg),
                other => panic!("a binary body, base64-encoded by lambda_http: {other:?}"),
            }

            let refused = h
                .handle_lambda(event(json, "bad"))
                .await
                .expect("infallible");
            assert_eq!(refused.status(), 403);
            assert_eq!(refused.headers()["content-type"], "application/json");
            match refused.body() {
                Body::Text(text) => assert_eq!(
                    text,
                    r#"{"status":403,"code":"SignatureDoesNotMatch","message":"Signature does not match."}"#
                ),
                other => panic!("a text body: {other:?}"),
            }
        }
    }
}

// index.spec.ts: "should return an error JSON with the expected message when one or both
// overlay image dimensions are greater than the base image dimensions" (its test images, as
// the pipeline's fixtures hold them; the spec serves the JPEGs under `.png` keys).
#[tokio::test]
async fn overlay_larger_than_the_image_is_sihs_400() {
    let f = Fixture::new();
    let sih = |name: &str| fixture(format!("crates/image/tests/fixtures/sih/{name}"));
    // A 1x1 base (the spec's is 5x5) under a 10x10 overlay.
    write(&f.root.join("transparent-5x5.png"), &sih("1x1.jpg"));
    write(
        &f.root.join("transparent-10x10.png"),
        &sih("transparent-10x10.jpeg"),
    );
    let path = default_path(&serde_json::json!({
        "bucket": BUCKET,
        "key": "transparent-5x5.png",
        "edits": {"overlayWith": {"bucket": BUCKET, "key": "transparent-10x10.png"}},
        "headers": {"Custom-Header": "Custom header test", "Cache-Control": "max-age:1,public"}
    }));
    let r = f
        .handler(&[("CORS_ENABLED", "Yes"), ("CORS_ORIGIN", "*")])
        .handle(&HandlerRequest::get(path))
        .await;
    assert_eq!((r.status, r.is_base64), (400, false));
    assert_eq!(
        r.headers,
        pairs(&[
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization"
            ),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Origin", "*"),
            ("Content-Type", "application/json"),
        ])
    );
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"status":400,"code":"BadRequest","message":"Image to overlay must have same dimensions or smaller"}"#
    );
}
