//! `serve`: the handler answering real HTTP requests on a loopback port, from the emulator's S3
//! and, through the real binary, from a directory.
//!
//! Run with `cargo xtask test`, or with the emulator running (`cargo xtask emulator`):
//! `cargo test -p example-serverless-image-handler --all-features --test serve`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use example_serverless_image_handler::local::{Stack, decode, fixtures_dir};
use example_serverless_image_handler::serve::serve;
use lambdakit_test_support::http::{Response, get};

async fn fetch(url: String) -> Response {
    tokio::task::spawn_blocking(move || get(&url))
        .await
        .expect("client thread")
}

#[tokio::test]
async fn serve_answers_sih_urls_over_http_from_s3() {
    let stack = Stack::start("sih-serve").await.expect("stack");
    let handler = Arc::new(stack.handler(&[("CORS_ENABLED", "Yes"), ("CORS_ORIGIN", "*")]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(serve(listener, handler));

    let response = fetch(format!(
        "{base}/fit-in/100x100/filters:format(webp)/transparent.png"
    ))
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.headers.get("content-type").map(String::as_str),
        Some("image/webp")
    );
    assert_eq!(
        response
            .headers
            .get("access-control-allow-origin")
            .map(String::as_str),
        Some("*")
    );
    let out = decode(&response.body).expect("image");
    assert_eq!((out.format, out.width, out.height), ("webp", 100, 75));
    assert_eq!(
        response.headers.get("content-length").map(String::as_str),
        Some(response.body.len().to_string().as_str())
    );

    // Query parameters (v7+) are decoded as API Gateway decodes them.
    let response = fetch(format!("{base}/Landscape_1.jpg?width=%3120&format=png")).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let out = decode(&response.body).expect("image");
    assert_eq!((out.format, out.width, out.height), ("png", 120, 80));

    let response = fetch(format!("{base}/fit-in/100x100/nothing-here.jpg")).await;
    assert_eq!(response.status, 404);
    assert_eq!(
        response.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    let body: serde_json::Value = serde_json::from_slice(&response.body).expect("json");
    assert_eq!(body["code"], "NoSuchKey");

    server.abort();
}

/// The real binary, `serve --dir <fixtures> --port 0`, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_a_directory_with_the_lambdas_environment() {
    // images/ holds one photo; next to it, outside the served folder, another.
    let root = std::env::temp_dir().join(lambdakit_test_support::unique_name("sih-serve"));
    let images = root.join("images");
    std::fs::create_dir_all(&images).expect("temp dir");
    std::fs::copy(
        fixtures_dir().join("Portrait_6.jpg"),
        images.join("Portrait_6.jpg"),
    )
    .expect("copy");
    std::fs::copy(
        fixtures_dir().join("Landscape_1.jpg"),
        root.join("outside.jpg"),
    )
    .expect("copy");

    let mut child = Command::new(env!("CARGO_BIN_EXE_serverless-image-handler"))
        .args(["serve", "--dir"])
        .arg(&images)
        .args(["--port", "0"])
        // Only what the test sets: a stray AWS or SIH variable must not change the answer.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CORS_ENABLED", "Yes")
        .env("CORS_ORIGIN", "https://www.example.com")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serverless-image-handler serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let base = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("serving on ")
                    .map(|url| url.trim_end_matches('/').to_owned())
            })
            .expect("the server prints its URL")
    })
    .await
    .expect("reader");

    let response = fetch(format!("{base}/200x100/filters:grayscale()/Portrait_6.jpg")).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.headers.get("content-type").map(String::as_str),
        Some("image/jpeg")
    );
    assert_eq!(
        response
            .headers
            .get("access-control-allow-origin")
            .map(String::as_str),
        Some("https://www.example.com")
    );
    let out = decode(&response.body).expect("image");
    assert_eq!((out.format, out.width, out.height), ("jpeg", 200, 100));
    assert!(out.is_gray(6));

    // A key that climbs out of the folder is a missing key, not the file next to it.
    let response = fetch(format!("{base}/fit-in/10x10/..%2Foutside.jpg")).await;
    assert_eq!(response.status, 404, "{}", response.text());
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}
