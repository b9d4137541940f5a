//! The local Textract replay server, driven over real sockets by hyper's client with the
//! requests `aws-sdk-textract` sends (`awsJson1_1`).

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambdakit_test_support::textract_replay::TextractReplay;
use serde_json::{Value, json};

type HttpClient = Client<HttpConnector, Full<Bytes>>;

const MULTI_PAGE: &str = "crates/textract/tests/fixtures/multi-page-forms-2-page.analyze.json";

struct Reply {
    status: u16,
    error_type: Option<String>,
    content_type: Option<String>,
    body: Value,
}

impl Reply {
    fn error(&self) -> Option<&str> {
        (self.status == 400).then(|| self.body["__type"].as_str().unwrap_or_default())
    }
}

async fn raw(replay: &TextractReplay, method: &str, target: Option<&str>, body: Vec<u8>) -> Reply {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{}/", replay.endpoint_url()))
        .header("content-type", "application/x-amz-json-1.1");
    if let Some(target) = target {
        request = request.header("x-amz-target", target);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let error_type = header("x-amzn-errortype");
    let content_type = header("content-type");
    assert!(header("x-amzn-requestid").is_some());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        error_type,
        content_type,
        body: serde_json::from_slice(&bytes).unwrap(),
    }
}

async fn call(replay: &TextractReplay, operation: &str, body: Value) -> Reply {
    let target = format!("Textract.{operation}");
    raw(replay, "POST", Some(&target), body.to_string().into_bytes()).await
}

fn recording(blocks: usize) -> Vec<u8> {
    let blocks: Vec<Value> = (0..blocks)
        .map(|i| json!({"Id": format!("b{i}"), "BlockType": "WORD", "Text": format!("w{i}"), "Page": 1}))
        .collect();
    json!({
        "DocumentMetadata": {"Pages": 1},
        "JobStatus": "SUCCEEDED",
        "NextToken": "recorded-token",
        "StatusMessage": "recorded",
        "ResponseMetadata": {"RequestId": "x"},
        "DetectDocumentTextModelVersion": "1.0",
        "Blocks": blocks,
    })
    .to_string()
    .into_bytes()
}

fn s3(key: &str) -> Value {
    json!({"S3Object": {"Bucket": "in", "Name": key}})
}

async fn start_job(replay: &TextractReplay, operation: &str, key: &str) -> String {
    let mut body = json!({"DocumentLocation": s3(key)});
    if operation == "StartDocumentAnalysis" {
        body["FeatureTypes"] = json!(["TABLES", "FORMS"]);
    }
    let reply = call(replay, operation, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["JobId"].as_str().unwrap().to_owned()
}

fn ids(body: &Value) -> Vec<String> {
    body["Blocks"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|b| b["Id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn sync_calls_return_the_recording_without_job_fields() {
    let replay = TextractReplay::start().await;
    replay.add("receipt.jpg", &recording(3));
    for (operation, extra) in [
        ("DetectDocumentText", json!({})),
        ("AnalyzeDocument", json!({"FeatureTypes": ["TABLES"]})),
    ] {
        let mut body = json!({"Document": s3("receipt.jpg")});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let reply = call(&replay, operation, body).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(ids(&reply.body), ["b0", "b1", "b2"]);
        assert_eq!(reply.body["DocumentMetadata"]["Pages"], 1);
        assert_eq!(reply.body["DetectDocumentTextModelVersion"], "1.0");
        for gone in [
            "JobStatus",
            "NextToken",
            "StatusMessage",
            "ResponseMetadata",
        ] {
            assert!(reply.body.get(gone).is_none(), "{operation} kept {gone}");
        }
    }
}

#[tokio::test]
async fn keys_choose_the_recording_and_star_is_the_default() {
    let replay = TextractReplay::start().await;
    replay.add("one.png", &recording(1));
    let bytes = json!({"Document": {"Bytes": "aGVsbG8="}});
    let reply = call(&replay, "DetectDocumentText", bytes.clone()).await;
    assert_eq!(reply.error(), Some("UnsupportedDocumentException"));
    let reply = call(
        &replay,
        "DetectDocumentText",
        json!({"Document": s3("two.png")}),
    )
    .await;
    assert_eq!(reply.error(), Some("InvalidS3ObjectException"));
    assert_eq!(
        reply.error_type.as_deref(),
        Some("InvalidS3ObjectException")
    );
    assert!(reply.body["message"].as_str().unwrap().contains("S3"));

    replay.add("*", &recording(2));
    let reply = call(&replay, "DetectDocumentText", bytes).await;
    assert_eq!(ids(&reply.body).len(), 2);
    let reply = call(
        &replay,
        "DetectDocumentText",
        json!({"Document": s3("two.png")}),
    )
    .await;
    assert_eq!(ids(&reply.body).len(), 2);
    let reply = call(
        &replay,
        "DetectDocumentText",
        json!({"Document": s3("one.png")}),
    )
    .await;
    assert_eq!(ids(&reply.body).len(), 1);
}

#[tokio::test]
async fn jobs_page_blocks_by_max_results() {
    let replay = TextractReplay::start().await;
    replay.add("doc.pdf", &recording(5));
    let job = start_job(&replay, "StartDocumentTextDetection", "doc.pdf").await;
    assert_eq!(job.len(), 64);

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let mut body = json!({"JobId": job, "MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let reply = call(&replay, "GetDocumentTextDetection", body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["JobStatus"], "SUCCEEDED");
        assert_eq!(reply.body["StatusMessage"], "recorded");
        assert_ne!(reply.body["NextToken"], "recorded-token");
        let chunk = ids(&reply.body);
        sizes.push(chunk.len());
        seen.extend(chunk);
        token = reply.body["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(seen, ["b0", "b1", "b2", "b3", "b4"]);
    assert_eq!(replay.count("GetDocumentTextDetection"), 3);

    // Without MaxResults: the service's 1000.
    let reply = call(&replay, "GetDocumentTextDetection", json!({"JobId": job})).await;
    assert_eq!(ids(&reply.body).len(), 5);
    assert!(reply.body.get("NextToken").is_none());
}

#[tokio::test]
async fn a_real_recording_pages_at_the_service_limit() {
    let replay = TextractReplay::start().await;
    replay.add("forms.pdf", &lambdakit_test_support::fixture(MULTI_PAGE));
    let job = start_job(&replay, "StartDocumentAnalysis", "forms.pdf").await;
    let reply = call(
        &replay,
        "GetDocumentAnalysis",
        json!({"JobId": job, "MaxResults": 1000}),
    )
    .await;
    assert_eq!(ids(&reply.body).len(), 418);
    assert_eq!(reply.body["DocumentMetadata"]["Pages"], 2);
    assert!(reply.body.get("NextToken").is_none());

    let mut count = 0;
    let mut token = Value::Null;
    let mut calls = 0;
    loop {
        let reply = call(
            &replay,
            "GetDocumentAnalysis",
            json!({"JobId": job, "MaxResults": 100, "NextToken": token}),
        )
        .await;
        calls += 1;
        count += ids(&reply.body).len();
        token = reply.body["NextToken"].clone();
        if token.is_null() {
            break;
        }
    }
    assert_eq!((count, calls), (418, 5));
}

#[tokio::test]
async fn jobs_answer_in_progress_first() {
    let replay = TextractReplay::start().await;
    replay.add("doc.pdf", &recording(3));
    replay.in_progress_polls(2);
    let job = start_job(&replay, "StartDocumentAnalysis", "doc.pdf").await;
    for _ in 0..2 {
        let reply = call(&replay, "GetDocumentAnalysis", json!({"JobId": job})).await;
        assert_eq!(reply.body["JobStatus"], "IN_PROGRESS");
        assert!(reply.body.get("Blocks").is_none());
    }
    let reply = call(&replay, "GetDocumentAnalysis", json!({"JobId": job})).await;
    assert_eq!(reply.body["JobStatus"], "SUCCEEDED");
    assert_eq!(ids(&reply.body).len(), 3);

    // Per job: a new job starts counting again.
    let second = start_job(&replay, "StartDocumentAnalysis", "doc.pdf").await;
    assert_ne!(second, job);
    let reply = call(&replay, "GetDocumentAnalysis", json!({"JobId": second})).await;
    assert_eq!(reply.body["JobStatus"], "IN_PROGRESS");
}

#[tokio::test]
async fn failed_and_partial_recordings() {
    let replay = TextractReplay::start().await;
    replay.add(
        "bad.pdf",
        &lambdakit_test_support::fixture("crates/textract/tests/fixtures/job-failed.json"),
    );
    let mut partial: Value = serde_json::from_slice(&recording(2)).unwrap();
    partial["JobStatus"] = json!("PARTIAL_SUCCESS");
    partial["Warnings"] = json!([{"ErrorCode": "UnsupportedDocumentException", "Pages": [3]}]);
    replay.add("partial.pdf", partial.to_string().as_bytes());

    let job = start_job(&replay, "StartDocumentTextDetection", "bad.pdf").await;
    let reply = call(&replay, "GetDocumentTextDetection", json!({"JobId": job})).await;
    assert_eq!(reply.body["JobStatus"], "FAILED");
    assert_eq!(reply.body["StatusMessage"], "Dummy Status Message");
    assert!(reply.body.get("Blocks").is_none());

    let job = start_job(&replay, "StartDocumentTextDetection", "partial.pdf").await;
    let reply = call(&replay, "GetDocumentTextDetection", json!({"JobId": job})).await;
    assert_eq!(reply.body["JobStatus"], "PARTIAL_SUCCESS");
    assert_eq!(reply.body["Warnings"][0]["Pages"][0], 3);
    assert_eq!(ids(&reply.body).len(), 2);
}

#[tokio::test]
async fn bad_job_requests_get_the_services_errors() {
    let replay = TextractReplay::start().await;
    replay.add("doc.pdf", &recording(5));
    let job = start_job(&replay, "StartDocumentTextDetection", "doc.pdf").await;
    let cases = [
        (
            "GetDocumentTextDetection",
            json!({"JobId": "nope"}),
            "InvalidJobIdException",
        ),
        // A text detection job is not an analysis job.
        (
            "GetDocumentAnalysis",
            json!({"JobId": job}),
            "InvalidJobIdException",
        ),
        (
            "GetDocumentTextDetection",
            json!({}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "MaxResults": 0}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "MaxResults": 1001}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "MaxResults": -1}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "MaxResults": "2"}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "NextToken": "forged"}),
            "InvalidParameterException",
        ),
        (
            "GetDocumentTextDetection",
            json!({"JobId": job, "NextToken": 7}),
            "InvalidParameterException",
        ),
        (
            "StartDocumentTextDetection",
            json!({"DocumentLocation": s3("other.pdf")}),
            "InvalidS3ObjectException",
        ),
        (
            "StartDocumentTextDetection",
            json!({"DocumentLocation": {}}),
            "InvalidParameterException",
        ),
        (
            "StartDocumentTextDetection",
            json!({"DocumentLocation": {"S3Object": {"Name": "doc.pdf"}}}),
            "InvalidParameterException",
        ),
        (
            "StartDocumentAnalysis",
            json!({"DocumentLocation": s3("doc.pdf")}),
            "InvalidParameterException",
        ),
        (
            "StartDocumentAnalysis",
            json!({"DocumentLocation": s3("doc.pdf"), "FeatureTypes": ["QUERIES"]}),
            "InvalidParameterException",
        ),
        (
            "AnalyzeDocument",
            json!({"Document": s3("doc.pdf"), "FeatureTypes": []}),
            "InvalidParameterException",
        ),
        (
            "DetectDocumentText",
            json!({"Document": {}}),
            "InvalidParameterException",
        ),
        (
            "DetectDocumentText",
            json!({"Document": "x"}),
            "InvalidParameterException",
        ),
        (
            "DetectDocumentText",
            json!({"Document": {"S3Object": 3}}),
            "InvalidParameterException",
        ),
        (
            "StartExpenseAnalysis",
            json!({}),
            "UnknownOperationException",
        ),
    ];
    for (operation, body, expected) in cases {
        let reply = call(&replay, operation, body.clone()).await;
        assert_eq!(reply.status, 400, "{operation} {body}");
        assert_eq!(reply.error(), Some(expected), "{operation} {body}");
        assert_eq!(reply.error_type.as_deref(), Some(expected));
    }
    // The token of one job does not page another.
    let reply = call(
        &replay,
        "GetDocumentTextDetection",
        json!({"JobId": job, "MaxResults": 2}),
    )
    .await;
    let token = reply.body["NextToken"].clone();
    let other = start_job(&replay, "StartDocumentTextDetection", "doc.pdf").await;
    let reply = call(
        &replay,
        "GetDocumentTextDetection",
        json!({"JobId": other, "NextToken": token}),
    )
    .await;
    assert_eq!(reply.error(), Some("InvalidParameterException"));
}

#[tokio::test]
async fn malformed_http_never_breaks_the_server() {
    let replay = TextractReplay::start().await;
    replay.add("*", &recording(1));
    let reply = raw(
        &replay,
        "POST",
        Some("Textract.DetectDocumentText"),
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(reply.error(), Some("SerializationException"));
    let reply = raw(
        &replay,
        "POST",
        Some("Textract.DetectDocumentText"),
        b"[1,2]".to_vec(),
    )
    .await;
    assert_eq!(reply.error(), Some("SerializationException"));
    let reply = raw(&replay, "POST", None, b"{}".to_vec()).await;
    assert_eq!(reply.error(), Some("UnknownOperationException"));
    let reply = raw(
        &replay,
        "POST",
        Some("Rekognition.DetectText"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(reply.error(), Some("UnknownOperationException"));
    let reply = raw(
        &replay,
        "GET",
        Some("Textract.DetectDocumentText"),
        Vec::new(),
    )
    .await;
    assert_eq!(reply.error(), Some("UnknownOperationException"));
    let huge = vec![b' '; 10 * 1024 * 1024 + 1];
    let reply = raw(&replay, "POST", Some("Textract.DetectDocumentText"), huge).await;
    assert_eq!(reply.error(), Some("DocumentTooLargeException"));

    // Still serving.
    let reply = call(
        &replay,
        "DetectDocumentText",
        json!({"Document": {"Bytes": "eA=="}}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(replay.requests().len(), 7);
}

#[tokio::test]
async fn requests_are_logged_in_order_and_tokens_are_idempotent() {
    let replay = TextractReplay::start().await;
    replay.add("doc.pdf", &recording(1));
    let start = json!({"DocumentLocation": s3("doc.pdf"), "ClientRequestToken": "once"});
    let a = call(&replay, "StartDocumentTextDetection", start.clone()).await;
    let b = call(&replay, "StartDocumentTextDetection", start.clone()).await;
    assert_eq!(a.body["JobId"], b.body["JobId"]);
    // The same token for the other kind of job is another job.
    let mut analysis = start.clone();
    analysis["FeatureTypes"] = json!(["FORMS"]);
    let c = call(&replay, "StartDocumentAnalysis", analysis).await;
    assert_ne!(a.body["JobId"], c.body["JobId"]);
    call(
        &replay,
        "GetDocumentTextDetection",
        json!({"JobId": a.body["JobId"]}),
    )
    .await;

    let requests = replay.requests();
    let operations: Vec<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        operations,
        [
            "StartDocumentTextDetection",
            "StartDocumentTextDetection",
            "StartDocumentAnalysis",
            "GetDocumentTextDetection"
        ]
    );
    assert_eq!(requests[0].1, start);
    assert_eq!(replay.count("StartDocumentTextDetection"), 2);
    assert_eq!(replay.count("DetectDocumentText"), 0);
}

#[tokio::test]
async fn dropping_stops_the_server() {
    let replay = TextractReplay::start().await;
    let addr = replay
        .endpoint_url()
        .trim_start_matches("http://")
        .to_owned();
    assert!(format!("{replay:?}").contains("TextractReplay"));
    drop(replay);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{addr} still accepts connections after the server was dropped");
}
