//! `jobs::Textract` against a local Textract that replays real recorded responses
//! (`lambdakit_test_support::textract_replay`), through the real `aws-sdk-textract` client.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_sdk_textract::config::Region;
use lambdakit_test_support::textract_replay::TextractReplay;
use lambdakit_textract::jobs::{FeatureType, JobId, Source, Textract};
use lambdakit_textract::model::{Query, Warning};
use lambdakit_textract::{Block, BlockType, Document, Error};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    lambdakit_test_support::fixture(format!("crates/textract/tests/fixtures/{name}"))
}

fn client(replay: &TextractReplay) -> aws_sdk_textract::Client {
    let config = aws_sdk_textract::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(lambdakit_test_support::emulator::credentials())
        .endpoint_url(replay.endpoint_url())
        .build();
    aws_sdk_textract::Client::from_conf(config)
}

async fn setup() -> (TextractReplay, Textract) {
    let replay = TextractReplay::start().await;
    let textract = Textract::new(client(&replay));
    (replay, textract)
}

/// The `MaxResults` and `NextToken` of every `Get*` call, in order.
fn get_calls(replay: &TextractReplay, operation: &str) -> Vec<(Value, Value)> {
    replay
        .requests()
        .into_iter()
        .filter(|(op, _)| op == operation)
        .map(|(_, body)| (body["MaxResults"].clone(), body["NextToken"].clone()))
        .collect()
}

fn sdk_code(error: &Error) -> Option<String> {
    use aws_sdk_textract::error::ProvideErrorMetadata as _;
    let Error::Service { source, .. } = error else {
        return None;
    };
    source
        .downcast_ref::<aws_sdk_textract::Error>()
        .and_then(|e| e.code())
        .map(str::to_owned)
}

/// `block` with its numbers rounded to f32, as the SDK reads them.
fn narrowed(block: &Block) -> Block {
    let f = |x: f64| f64::from(x as f32);
    let mut block = block.clone();
    block.confidence = block.confidence.map(f);
    if let Some(g) = &mut block.geometry {
        let b = &mut g.bounding_box;
        (b.width, b.height, b.left, b.top) = (f(b.width), f(b.height), f(b.left), f(b.top));
        for p in &mut g.polygon {
            (p.x, p.y) = (f(p.x), f(p.y));
        }
    }
    block
}

#[tokio::test]
async fn detect_text_reads_a_receipt() {
    let (replay, textract) = setup().await;
    replay.add("scans/receipt.jpg", &fixture("receipt.detect.json"));
    let doc = textract
        .detect_text(Source::s3("scans", "scans/receipt.jpg"))
        .await
        .unwrap();
    let expected = Document::from_json(&fixture("receipt.detect.json")).unwrap();
    let page = doc.page(1).unwrap();
    assert_eq!(doc.page_count(), 1);
    assert_eq!(
        page.lines().count(),
        expected.page(1).unwrap().lines().count()
    );
    assert_eq!(
        page.words().count(),
        expected.page(1).unwrap().words().count()
    );
    assert_eq!(page.lines().count(), 44);
    assert_eq!(page.words().count(), 92);
    let text = doc.text();
    for known in ["MEGA MARKET PLUS", "SUBTOTAL", "$1699.96"] {
        assert!(
            text.contains(known),
            "{known:?} missing from the receipt's text"
        );
    }

    let requests = replay.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, "DetectDocumentText");
    assert_eq!(
        requests[0].1["Document"]["S3Object"],
        json!({"Bucket": "scans", "Name": "scans/receipt.jpg"})
    );
}

#[tokio::test]
async fn conversion_from_the_sdk_keeps_every_block_and_field() {
    // The SDK reads geometry and confidence as f32; widened back they equal the recorded
    // JSON's numbers narrowed to f32, so every block converts to exactly what the JSON parser
    // builds, up to that narrowing.
    let (replay, textract) = setup().await;
    for name in ["paystub.analyze.json", "twocol-header-footer.detect.json"] {
        replay.add(name, &fixture(name));
        let doc = textract
            .analyze(Source::s3("in", name), &[FeatureType::Tables])
            .await
            .unwrap();
        let expected = Document::from_json(&fixture(name)).unwrap();
        assert_eq!(doc.blocks().len(), expected.blocks().len(), "{name}");
        for (got, want) in doc.blocks().iter().zip(expected.blocks()) {
            assert_eq!(got, &narrowed(want), "{name}");
        }
    }
}

#[tokio::test]
async fn analyze_reads_a_paystubs_tables_and_fields() {
    let (replay, textract) = setup().await;
    replay.add("*", &fixture("paystub.analyze.json"));
    let image = fixture("paystub.jpg");
    let doc = textract
        .analyze(
            Source::Bytes(image.clone()),
            &[FeatureType::Tables, FeatureType::Forms],
        )
        .await
        .unwrap();
    let page = doc.page(1).unwrap();
    let tables = page.tables();
    let fields = page.key_values();
    assert_eq!(tables.len(), 7);
    assert!(!fields.is_empty());
    // The first table's first two rows, as in the recording.
    let grid = tables[0].grid();
    assert_eq!(grid[0], ["CO.", "FILE", "DEPT.", "CLOCK", "NUMBER"]);
    assert_eq!(grid[1][1], "126543");
    let pay_date = fields
        .iter()
        .find(|kv| kv.key.contains("Pay date"))
        .unwrap();
    assert_eq!(pay_date.value, "7/25/2008");
    // Query blocks keep their question and alias.
    let query = doc
        .blocks()
        .iter()
        .find(|b| b.block_type == BlockType::Query)
        .unwrap();
    assert_eq!(
        query.query.as_ref().unwrap().alias.as_deref(),
        Some("YTD gross pay")
    );

    let (operation, body) = &replay.requests()[0];
    assert_eq!(operation, "AnalyzeDocument");
    assert_eq!(body["FeatureTypes"], json!(["TABLES", "FORMS"]));
    use base64::Engine as _;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(body["Document"]["Bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent, image);
}

#[tokio::test]
async fn queries_are_sent_with_their_config_and_answered() {
    let (replay, textract) = setup().await;
    replay.add("paystub.jpg", &fixture("paystub.analyze.json"));
    let asked = [
        Query {
            text: "What is the year to date gross pay".into(),
            alias: Some("YTD gross pay".into()),
        },
        Query {
            text: "What is the pay date".into(),
            alias: None,
        },
    ];
    let doc = textract
        .analyze_with_queries(
            Source::s3("scans", "paystub.jpg"),
            &[FeatureType::Tables],
            &asked,
        )
        .await
        .unwrap();
    let (operation, body) = &replay.requests()[0];
    assert_eq!(operation, "AnalyzeDocument");
    assert_eq!(body["FeatureTypes"], json!(["TABLES", "QUERIES"]));
    assert_eq!(
        body["QueriesConfig"]["Queries"][0]["Alias"],
        json!("YTD gross pay")
    );
    assert_eq!(
        body["QueriesConfig"]["Queries"][1]["Text"],
        json!("What is the pay date")
    );
    assert!(body["QueriesConfig"]["Queries"][1].get("Alias").is_none());
    // The recording's answers (its own three queries) come back by question.
    let answers = doc.page(1).unwrap().query_answers();
    assert_eq!(answers.len(), 3);
    let ytd = answers
        .iter()
        .find(|a| a.alias.as_deref() == Some("YTD gross pay"))
        .unwrap();
    assert!(
        ytd.answer
            .as_deref()
            .is_some_and(|a| a.chars().any(|c| c.is_ascii_digit())),
        "{ytd:?}"
    );
    assert!(ytd.confidence.is_some());
}

#[tokio::test]
async fn a_multi_page_job_is_read_in_chunks() {
    let (replay, textract) = setup().await;
    let recording = fixture("multi-page-forms-2-page.analyze.json");
    replay.add("forms/2-page.pdf", &recording);
    let textract = textract.page_size(50);
    let doc = textract
        .analysis(
            "in",
            "forms/2-page.pdf",
            Some("v1"),
            &[FeatureType::Forms, FeatureType::Tables],
        )
        .await
        .unwrap();

    let expected = Document::from_json(&recording).unwrap();
    let ids = |d: &Document| d.blocks().iter().map(|b| b.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&doc), ids(&expected));
    assert_eq!(doc.blocks().len(), 418);
    let pages: Vec<(u32, usize)> = doc
        .pages()
        .map(|p| (p.number(), p.blocks().count()))
        .collect();
    assert_eq!(pages, [(1, 269), (2, 149)]);
    // Page 1 ends inside the sixth chunk (blocks 250..300): it spans chunks.
    let fields = |d: &Document| {
        let page = d.page(1).unwrap();
        page.key_values()
            .into_iter()
            .map(|kv| (kv.key, kv.value, kv.selected))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&doc).len(), 31);
    assert_eq!(fields(&doc), fields(&expected));
    let grids = |d: &Document| {
        d.page(2)
            .unwrap()
            .tables()
            .iter()
            .map(|t| t.grid())
            .collect::<Vec<_>>()
    };
    assert!(!grids(&doc).is_empty());
    assert_eq!(grids(&doc), grids(&expected));

    let start = &replay.requests()[0].1;
    assert_eq!(start["DocumentLocation"]["S3Object"]["Version"], "v1");
    // 418 blocks by 50: nine calls, the first without a token, each asking for 50.
    let calls = get_calls(&replay, "GetDocumentAnalysis");
    assert_eq!(calls.len(), 418usize.div_ceil(50));
    assert!(calls.iter().all(|(max, _)| max == 50));
    assert!(calls[0].1.is_null());
    assert!(calls[1..].iter().all(|(_, token)| token.is_string()));
    assert_eq!(replay.count("GetDocumentTextDetection"), 0);
}

#[tokio::test]
async fn text_detection_job_uses_the_text_operations() {
    let (replay, textract) = setup().await;
    replay.add("twocol.png", &fixture("twocol-header-footer.detect.json"));
    let doc = textract
        .text_detection("in", "twocol.png", None)
        .await
        .unwrap();
    assert_eq!(doc.blocks().len(), 538);
    assert_eq!(replay.count("StartDocumentTextDetection"), 1);
    // 538 blocks at the default 1000 per call: one call.
    assert_eq!(
        get_calls(&replay, "GetDocumentTextDetection"),
        [(json!(1000), Value::Null)]
    );
    assert_eq!(replay.count("GetDocumentAnalysis"), 0);
}

#[tokio::test]
async fn waits_with_backoff_while_in_progress() {
    let (replay, textract) = setup().await;
    replay.add("doc.pdf", &fixture("multi-page-forms-2-page.analyze.json"));
    replay.in_progress_polls(4);
    let textract = textract
        .poll_interval(Duration::from_millis(20))
        .max_poll_interval(Duration::from_millis(50));
    let job = textract
        .start_analysis("in", "doc.pdf", None, &[FeatureType::Forms])
        .await
        .unwrap();
    let began = Instant::now();
    let doc = textract.wait_analysis(&job).await.unwrap();
    let elapsed = began.elapsed();
    assert_eq!(doc.page_count(), 2);
    // Four IN_PROGRESS answers, then one call for the 418 blocks.
    assert_eq!(replay.count("GetDocumentAnalysis"), 5);
    // Pauses of 20, 40, 50 (capped), 50 ms: a fixed 20 ms interval would take 80 ms.
    assert!(
        elapsed >= Duration::from_millis(160),
        "waited only {elapsed:?}"
    );
}

#[tokio::test]
async fn a_job_still_running_times_out() {
    let (replay, textract) = setup().await;
    replay.add("slow.pdf", &fixture("job-in-progress.json"));
    let textract = textract
        .poll_interval(Duration::from_millis(10))
        .max_poll_interval(Duration::from_millis(40))
        .max_wait(Duration::from_millis(150));
    let job = textract
        .start_text_detection("in", "slow.pdf", None)
        .await
        .unwrap();
    // Bounded, so a wait that never gives up fails the test instead of hanging it.
    let err = tokio::time::timeout(Duration::from_secs(20), textract.wait_text_detection(&job))
        .await
        .expect("max_wait was not enforced")
        .unwrap_err();
    match &err {
        Error::Timeout { job_id, waited } => {
            assert_eq!(job_id, job.as_str());
            assert!(*waited >= Duration::from_millis(150), "{waited:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(err.status(), 504);
    // Pauses of 10, 20, 40, 40, 40 ms and a last poll at the deadline: a handful of calls,
    // not a spin (a slow machine only makes fewer).
    let polls = replay.count("GetDocumentTextDetection");
    assert!((1..=8).contains(&polls), "{polls} polls");

    // A zero wait polls exactly once.
    let once = textract.clone().max_wait(Duration::ZERO);
    let job = once
        .start_text_detection("in", "slow.pdf", None)
        .await
        .unwrap();
    let before = replay.count("GetDocumentTextDetection");
    assert!(matches!(
        once.wait_text_detection(&job).await,
        Err(Error::Timeout { .. })
    ));
    assert_eq!(replay.count("GetDocumentTextDetection"), before + 1);
}

#[tokio::test]
async fn a_failed_job_carries_textracts_message() {
    let (replay, textract) = setup().await;
    replay.add("bad.pdf", &fixture("job-failed.json"));
    replay.in_progress_polls(1);
    let textract = textract.poll_interval(Duration::from_millis(5));
    let err = textract
        .analysis("in", "bad.pdf", None, &[FeatureType::Tables])
        .await
        .unwrap_err();
    match &err {
        Error::JobFailed { job_id, message } => {
            assert!(!job_id.is_empty());
            assert_eq!(message, "Dummy Status Message");
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    assert_eq!(replay.count("GetDocumentAnalysis"), 2);
}

#[tokio::test]
async fn partial_success_keeps_the_processed_pages_and_the_warnings() {
    let (replay, textract) = setup().await;
    let mut recording: Value =
        serde_json::from_slice(&fixture("multi-page-forms-2-page.analyze.json")).unwrap();
    // Textract processed page 1 and could not read page 2.
    recording["JobStatus"] = json!("PARTIAL_SUCCESS");
    recording["Warnings"] = json!([{"ErrorCode": "UnsupportedDocumentException", "Pages": [2]}]);
    let blocks = recording["Blocks"].as_array_mut().unwrap();
    blocks.retain(|b| b["Page"] == 1);
    replay.add("partial.pdf", recording.to_string().as_bytes());

    let err = textract
        .page_size(100)
        .analysis("in", "partial.pdf", None, &[FeatureType::Forms])
        .await
        .unwrap_err();
    assert_eq!(err.status(), 207);
    let Error::PartialSuccess {
        job_id,
        warnings,
        document,
    } = err
    else {
        panic!("expected PartialSuccess, got {err:?}");
    };
    assert!(!job_id.is_empty());
    // Sent with every chunk, kept once.
    assert_eq!(
        warnings,
        [Warning {
            error_code: "UnsupportedDocumentException".into(),
            pages: vec![2]
        }]
    );
    assert_eq!(document.blocks().len(), 269);
    assert_eq!(
        document.pages().map(|p| p.number()).collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(replay.count("GetDocumentAnalysis"), 3);
}

#[tokio::test]
async fn an_unknown_s3_key_is_a_service_error() {
    let (replay, textract) = setup().await;
    replay.add("known.pdf", &fixture("receipt.detect.json"));
    let err = textract
        .start_text_detection("in", "missing.pdf", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Service {
                operation: "StartDocumentTextDetection",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(sdk_code(&err).as_deref(), Some("InvalidS3ObjectException"));
    assert_eq!(err.status(), 502);

    let err = textract
        .detect_text(Source::s3("in", "missing.jpg"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Service {
            operation: "DetectDocumentText",
            ..
        }
    ));
    assert_eq!(sdk_code(&err).as_deref(), Some("InvalidS3ObjectException"));

    // A job id the service never issued.
    let err = textract
        .wait_analysis(&JobId::new("no-such-job"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Service {
            operation: "GetDocumentAnalysis",
            ..
        }
    ));
    assert_eq!(sdk_code(&err).as_deref(), Some("InvalidJobIdException"));
}

#[tokio::test]
async fn unknown_block_types_survive_the_sdk() {
    let (replay, textract) = setup().await;
    let recording = json!({
        "DocumentMetadata": {"Pages": 1},
        "Blocks": [
            {"Id": "p", "BlockType": "PAGE", "Relationships": [{"Type": "CHILD", "Ids": ["f", "l"]}]},
            {"Id": "f", "BlockType": "LAYOUT_FUTURE", "EntityTypes": ["FUTURE_ENTITY"],
             "Relationships": [{"Type": "NEW_LINK", "Ids": ["l"]}]},
            {"Id": "l", "BlockType": "LINE", "Text": "hello", "TextType": "SCRIBBLE",
             "SelectionStatus": "HALF_SELECTED"}
        ]
    });
    replay.add("*", recording.to_string().as_bytes());
    let doc = textract
        .detect_text(Source::Bytes(b"png".to_vec()))
        .await
        .unwrap();
    let future = doc.get("f").unwrap();
    assert_eq!(future.block_type, BlockType::Other("LAYOUT_FUTURE".into()));
    assert!(future.block_type.is_layout());
    assert_eq!(future.entity_types, ["FUTURE_ENTITY"]);
    assert_eq!(future.relationships[0].kind.as_str(), "NEW_LINK");
    let line = doc.get("l").unwrap();
    assert_eq!(line.text_type.as_ref().unwrap().as_str(), "SCRIBBLE");
    assert_eq!(
        line.selection_status.as_ref().unwrap().as_str(),
        "HALF_SELECTED"
    );
    assert_eq!(doc.blocks().len(), 3);
}
