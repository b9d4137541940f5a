//! ProcessDocument on real S3 events, S3 and DynamoDB (the local emulator), with Textract
//! replaying recorded responses: keys decoded as S3 encodes them, pages only for their project's
//! identity, bad keys skipped, transient failures retried, re-uploads idempotent, the whole
//! result kept with its positions.

use aws_lambda_events::s3::S3Event;
use aws_sdk_dynamodb::types::AttributeValue;
use example_document_scanner::local::{
    ALICE_IDENTITY, BOB_IDENTITY, S3_EVENT, Stack, page_key, s3_event, textract_fixture, upload,
    with_first_line,
};
use example_document_scanner::model::PageRecord;
use example_document_scanner::process::process_document;
use lambdakit_textract::jobs::Textract;
use lambdakit_textract::{BlockType, Document, Response};

async fn stack_with_project(user: &str, project: &str, identity: &str) -> Stack {
    let stack = Stack::start(|_| {}).await.expect("stack");
    stack
        .scanner
        .create_project(user, project, identity)
        .await
        .expect("project");
    stack
}

fn reading_order(recording: &[u8]) -> Vec<String> {
    let document = Document::from_json(recording).expect("recording");
    let page = document.page(1).expect("page 1");
    page.reading_order()
        .into_iter()
        .filter_map(|l| l.text.clone())
        .collect()
}

async fn page(stack: &Stack, project_id: &str, page: u32) -> Option<PageRecord> {
    let out = stack
        .dynamodb
        .get_item()
        .table_name(&stack.scanner.config().pages_table)
        .key("project", AttributeValue::S(project_id.into()))
        .key("page", AttributeValue::N(page.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item");
    out.item
        .map(|item| PageRecord::from_item(&item).expect("page item"))
}

#[tokio::test]
async fn the_sample_event_key_is_decoded_percent_3a_is_a_colon_plus_a_space() {
    let stack = stack_with_project("alice", "My Taxes 2024", ALICE_IDENTITY).await;
    // The sample event as S3 sends it, only pointed at this test's bucket.
    let mut event: S3Event = serde_json::from_str(S3_EVENT).expect("sample");
    let raw = event.records[0].s3.object.key.clone().expect("key");
    assert_eq!(
        raw,
        "private/us-east-1%3A7d1f5c2e-9b8a-4c3d-a1e2-f3b4c5d6e7f8/alice/My+Taxes+2024/1.png"
    );
    event.records[0].s3.bucket.name = Some(stack.bucket().to_owned());
    let key = "private/us-east-1:7d1f5c2e-9b8a-4c3d-a1e2-f3b4c5d6e7f8/alice/My Taxes 2024/1.png";
    upload(
        &stack.s3,
        stack.bucket(),
        key,
        textract_fixture("multicol.png").expect("image"),
    )
    .await
    .expect("upload");
    let recording = textract_fixture("multicol.detect.json").expect("recording");
    stack.replay.add(key, &recording);

    let processed = process_document(&stack.scanner, &stack.textract, event).await;
    assert!(processed.skipped.is_empty(), "{processed:?}");
    assert_eq!(processed.pages.len(), 1);
    // Textract was asked for the object as stored, not as the event spells it.
    let requests = stack.replay.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].1["Document"]["S3Object"]["Name"], key);
    assert_eq!(
        requests[0].1["Document"]["S3Object"]["Bucket"],
        stack.bucket()
    );
    let stored = page(&stack, "alice/My Taxes 2024", 1)
        .await
        .expect("page item");
    assert_eq!(stored.image_key, key);
    assert_eq!(stored.lines, reading_order(&recording));
}

#[tokio::test]
async fn a_literal_plus_in_a_key_is_percent_2b_and_stays_a_plus() {
    let stack = stack_with_project("alice", "Q1 + Q2", ALICE_IDENTITY).await;
    let key = page_key(ALICE_IDENTITY, "alice", "Q1 + Q2", 1, "jpg");
    let event = s3_event(stack.bucket(), &key, 1).expect("event");
    assert!(
        event.records[0]
            .s3
            .object
            .key
            .as_deref()
            .is_some_and(|k| k.ends_with("/alice/Q1+%2B+Q2/1.jpg")),
        "{:?}",
        event.records[0].s3.object.key
    );
    let processed = stack
        .upload_and_process(
            &key,
            textract_fixture("receipt.jpg").expect("image"),
            &textract_fixture("receipt.detect.json").expect("recording"),
        )
        .await
        .expect("processed");
    assert_eq!(processed.pages.len(), 1, "{processed:?}");
    assert_eq!(processed.pages[0].project, "alice/Q1 + Q2");
}

#[tokio::test]
async fn another_identity_cannot_add_pages_to_a_project() {
    let stack = stack_with_project("alice", "taxes", ALICE_IDENTITY).await;
    // Bob may write under his own private/ prefix only, and names Alice's project there.
    let processed = stack
        .upload_sample(
            BOB_IDENTITY,
            "alice",
            "taxes",
            1,
            ("receipt.jpg", "receipt.detect.json"),
        )
        .await
        .expect("processed");
    assert!(processed.pages.is_empty());
    assert_eq!(processed.skipped.len(), 1);
    assert!(
        processed.skipped[0].reason.contains("does not own"),
        "{processed:?}"
    );
    assert!(processed.clone().into_result().is_ok(), "not retried");
    assert_eq!(
        stack.replay.count("DetectDocumentText"),
        0,
        "no Textract call"
    );
    assert!(page(&stack, "alice/taxes", 1).await.is_none());
}

#[tokio::test]
async fn a_page_for_a_project_that_does_not_exist_is_skipped() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    let processed = stack
        .upload_sample(
            ALICE_IDENTITY,
            "alice",
            "nowhere",
            1,
            ("receipt.jpg", "receipt.detect.json"),
        )
        .await
        .expect("processed");
    assert!(processed.pages.is_empty());
    assert!(
        processed.skipped[0].reason.contains("no project"),
        "{processed:?}"
    );
    assert!(processed.into_result().is_ok());
}

#[tokio::test]
async fn keys_that_are_not_page_images_are_skipped_not_retried_forever() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let image = textract_fixture("receipt.jpg").expect("image");
    let mut records = Vec::new();
    for key in [
        format!("private/{ALICE_IDENTITY}/alice/p/cover.jpg"),
        format!("private/{ALICE_IDENTITY}/alice/p/0.jpg"),
        format!("private/{ALICE_IDENTITY}/alice/p/1.gif"),
        format!("private/{ALICE_IDENTITY}/alice/p/sub/1.jpg"),
        format!("textract/{ALICE_IDENTITY}/alice/p/1.json"),
    ] {
        upload(&stack.s3, stack.bucket(), &key, image.clone())
            .await
            .expect("upload");
        records.extend(
            s3_event(stack.bucket(), &key, image.len())
                .expect("event")
                .records,
        );
    }
    // A key that is not percent-encoded UTF-8.
    let mut bad = s3_event(stack.bucket(), "x", 1).expect("event");
    bad.records[0].s3.object.key = Some("private/%FF/alice/p/1.jpg".into());
    records.extend(bad.records);
    let mut event = s3_event(stack.bucket(), "x", 1).expect("event");
    event.records = records;

    let processed = process_document(&stack.scanner, &stack.textract, event).await;
    assert!(processed.pages.is_empty());
    assert_eq!(processed.skipped.len(), 6, "{processed:?}");
    assert!(processed.into_result().is_ok(), "skipped, so not retried");
    assert_eq!(stack.replay.count("DetectDocumentText"), 0);
}

#[tokio::test]
async fn a_document_textract_cannot_read_is_skipped() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let key = page_key(ALICE_IDENTITY, "alice", "p", 1, "png");
    upload(
        &stack.s3,
        stack.bucket(),
        &key,
        textract_fixture("multicol.png").expect("image"),
    )
    .await
    .expect("upload");
    // No recording for the key: Textract answers InvalidS3ObjectException.
    let event = s3_event(stack.bucket(), &key, 1).expect("event");
    let processed = process_document(&stack.scanner, &stack.textract, event).await;
    assert_eq!(processed.skipped.len(), 1, "{processed:?}");
    assert!(
        processed.skipped[0].reason.contains("InvalidS3Object"),
        "{processed:?}"
    );
    assert!(processed.into_result().is_ok());
}

#[tokio::test]
async fn a_transient_failure_fails_the_invocation_so_lambda_retries() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let key = page_key(ALICE_IDENTITY, "alice", "p", 1, "png");
    upload(
        &stack.s3,
        stack.bucket(),
        &key,
        textract_fixture("multicol.png").expect("image"),
    )
    .await
    .expect("upload");
    // Textract unreachable: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let down = Textract::new(example_document_scanner::local::textract(&format!(
        "http://127.0.0.1:{port}"
    )));
    let event = s3_event(stack.bucket(), &key, 1).expect("event");
    let processed = process_document(&stack.scanner, &down, event).await;
    assert_eq!(processed.failed.len(), 1, "{processed:?}");
    let error = processed.into_result().expect_err("fails for a retry");
    assert!(error.to_string().contains("will be retried"), "{error}");
    assert!(page(&stack, "alice/p", 1).await.is_none());
}

#[tokio::test]
async fn uploading_a_page_again_replaces_it_and_redelivery_changes_nothing() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let key = page_key(ALICE_IDENTITY, "alice", "p", 1, "png");
    let first = textract_fixture("multicol.detect.json").expect("recording");
    let processed = stack
        .upload_and_process(
            &key,
            textract_fixture("multicol.png").expect("image"),
            &first,
        )
        .await
        .expect("processed");
    assert_eq!(processed.pages.len(), 1);

    // The same page number again, another scan.
    let second = textract_fixture("twocol-header-footer.detect.json").expect("recording");
    let image = textract_fixture("twocol-header-footer.png").expect("image");
    let size = image.len();
    stack
        .upload_and_process(&key, image, &second)
        .await
        .expect("processed");
    // S3 delivers events at least once: the same event twice.
    let event = s3_event(stack.bucket(), &key, size).expect("event");
    let again = process_document(&stack.scanner, &stack.textract, event).await;
    assert_eq!(again.pages.len(), 1);

    assert_eq!(
        stack
            .scanner
            .store()
            .page_count("alice/p")
            .await
            .expect("count"),
        1
    );
    let stored = page(&stack, "alice/p", 1).await.expect("page");
    assert_eq!(stored.lines, reading_order(&second));
    assert_ne!(stored.lines, reading_order(&first));
    let objects = stack.scanner.objects().list("").await.expect("list");
    assert_eq!(objects.len(), 2, "one image, one result: {objects:?}");
}

#[tokio::test]
async fn the_whole_textract_result_is_kept_with_its_positions_next_to_the_image() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let recording = textract_fixture("paystub.analyze.json").expect("recording");
    stack
        .upload_sample(
            ALICE_IDENTITY,
            "alice",
            "p",
            4,
            ("paystub.jpg", "paystub.analyze.json"),
        )
        .await
        .expect("processed");
    let stored = page(&stack, "alice/p", 4).await.expect("page");
    assert_eq!(
        stored.textract_key,
        format!("textract/{ALICE_IDENTITY}/alice/p/4.json")
    );
    assert_eq!(
        stored.image_key,
        page_key(ALICE_IDENTITY, "alice", "p", 4, "jpg")
    );
    assert_eq!(stored.identity_id, ALICE_IDENTITY);
    assert!(!stored.updated_at.is_empty());
    // The image stays where it was uploaded.
    assert_eq!(
        stack
            .scanner
            .objects()
            .get(&stored.image_key)
            .await
            .expect("get")
            .map(|b| b.len()),
        Some(textract_fixture("paystub.jpg").expect("image").len())
    );
    // The result has every block of the recording, each word and line with its box and polygon.
    let json = stack
        .scanner
        .objects()
        .get(&stored.textract_key)
        .await
        .expect("get")
        .expect("result stored");
    let kept = Response::from_json(&json).expect("a textract response");
    let original = Response::from_json(&recording).expect("recording");
    // The same blocks (Textract's SDK carries positions as f32, so compare ids, types, text).
    let summary = |r: &Response| -> Vec<(String, String, Option<String>)> {
        r.blocks
            .iter()
            .map(|b| (b.id.clone(), b.block_type.to_string(), b.text.clone()))
            .collect()
    };
    assert_eq!(summary(&kept), summary(&original));
    for block in kept
        .blocks
        .iter()
        .filter(|b| matches!(b.block_type, BlockType::Word | BlockType::Line))
    {
        let geometry = block.geometry.as_ref().expect("geometry");
        assert!(geometry.bounding_box.width > 0.0 && geometry.polygon.len() == 4);
    }
    assert_eq!(stored.lines, reading_order(&recording));
}

#[tokio::test]
async fn text_in_any_script_is_stored_as_recognised() {
    let project = "Steuererklärung 東京";
    let stack = stack_with_project("alice", project, ALICE_IDENTITY).await;
    let words = ["Grüße", "東京都", "Ελληνικά", "😀"];
    let recording = with_first_line(
        &textract_fixture("receipt.detect.json").expect("recording"),
        &words,
    )
    .expect("recording");
    let key = page_key(ALICE_IDENTITY, "alice", project, 1, "jpg");
    let processed = stack
        .upload_and_process(
            &key,
            textract_fixture("receipt.jpg").expect("image"),
            &recording,
        )
        .await
        .expect("processed");
    assert_eq!(processed.pages.len(), 1, "{processed:?}");
    let stored = page(&stack, &format!("alice/{project}"), 1)
        .await
        .expect("page");
    assert!(
        stored
            .lines
            .iter()
            .any(|l| l.starts_with("Grüße 東京都 Ελληνικά 😀")),
        "{:?}",
        stored.lines
    );
}

#[tokio::test]
async fn a_page_is_written_only_while_its_project_exists_for_its_identity() {
    let stack = stack_with_project("alice", "p", ALICE_IDENTITY).await;
    let store = stack.scanner.store();
    let project = store
        .project("alice", "p")
        .await
        .expect("get")
        .expect("project");
    let page = |identity: &str| PageRecord {
        project: "alice/p".into(),
        page: 1,
        lines: vec!["x".into()],
        lines_truncated: false,
        image_key: page_key(identity, "alice", "p", 1, "png"),
        textract_key: format!("textract/{identity}/alice/p/1.json"),
        identity_id: identity.into(),
        updated_at: "2024-03-14T09:26:53Z".into(),
    };
    // The project's identity: written.
    assert!(
        store
            .put_page_of(&project, &page(ALICE_IDENTITY))
            .await
            .expect("put")
    );
    // Another identity (the project recreated for it, say): refused in the same transaction.
    assert!(
        !store
            .put_page_of(&project, &page(BOB_IDENTITY))
            .await
            .expect("put")
    );
    // The project deleted while the page was being read: refused.
    assert!(store.delete_project("alice", "p").await.expect("delete"));
    store
        .delete_pages("alice/p", &[1])
        .await
        .expect("delete page");
    assert!(
        !store
            .put_page_of(&project, &page(ALICE_IDENTITY))
            .await
            .expect("put")
    );
    assert_eq!(store.page_count("alice/p").await.expect("count"), 0);
}
