//! GeneratePDF on S3 and DynamoDB (the local emulator) with real images and recorded Textract
//! results: pages by number (2 before 10), only the project's own pages however the results
//! are paged, text in any script, and PDFs too large for a Lambda response handed out as
//! presigned links.

use aws_sdk_dynamodb::types::AttributeValue;
use example_document_scanner::generate::{Generated, Mode, generate_pdf};
use example_document_scanner::local::{
    ALICE_IDENTITY, BOB_IDENTITY, GENERATE_PDF_EVENT, SAMPLE_PAGES, Stack, api_request, json_body,
    page_key, pdf_page_count, textract_fixture, with_first_line,
};
use example_document_scanner::{Error, api};
use lambda_http::{Body, Response};

const RECEIPT: (&str, &str) = ("receipt.jpg", "receipt.detect.json");
const MULTICOL: (&str, &str) = ("multicol.png", "multicol.detect.json");
const TWOCOL: (&str, &str) = (
    "twocol-header-footer.png",
    "twocol-header-footer.detect.json",
);

async fn pdf_request(stack: &Stack, user: &str, query: &[(&str, &str)]) -> Response<Body> {
    let request = api_request(GENERATE_PDF_EVENT, Some(user), Some(query), None).expect("event");
    api::generate_pdf(&stack.scanner, request).await
}

fn pdf_body(response: &Response<Body>) -> Vec<u8> {
    assert_eq!(response.status(), 200, "{:?}", response.body());
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let Body::Binary(pdf) = response.body() else {
        panic!("not a binary body: {:?}", response.body());
    };
    assert!(pdf.starts_with(b"%PDF-"));
    pdf.clone()
}

async fn upload_all(
    stack: &Stack,
    identity: &str,
    user: &str,
    project: &str,
    pages: &[(u32, (&str, &str))],
) {
    for &(page, sample) in pages {
        let processed = stack
            .upload_sample(identity, user, project, page, sample)
            .await
            .expect("processed");
        assert_eq!(processed.pages.len(), 1, "{processed:?}");
    }
}

#[tokio::test]
async fn pages_are_in_page_number_order_2_before_10() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    stack
        .scanner
        .create_project("alice", "p", ALICE_IDENTITY)
        .await
        .expect("project");
    upload_all(
        &stack,
        ALICE_IDENTITY,
        "alice",
        "p",
        &[(10, TWOCOL), (2, MULTICOL), (1, RECEIPT)],
    )
    .await;

    // The sort key is a number, not the string "10" that sorts before "2".
    let item = stack
        .dynamodb
        .get_item()
        .table_name(&stack.scanner.config().pages_table)
        .key("project", AttributeValue::S("alice/p".into()))
        .key("page", AttributeValue::N("10".into()))
        .send()
        .await
        .expect("get")
        .item
        .expect("page 10");
    assert_eq!(item["page"], AttributeValue::N("10".into()));

    for mode in [Mode::Searchable, Mode::Text] {
        let Generated::Inline { pages, pdf } = generate_pdf(&stack.scanner, "alice", "p", mode)
            .await
            .expect("pdf")
        else {
            panic!("a small PDF is inline");
        };
        assert_eq!(pages, [1, 2, 10], "{mode:?}");
        assert!(pdf.starts_with(b"%PDF-"));
    }
    let pdf = pdf_body(&pdf_request(&stack, "alice", &[("project", "p")]).await);
    assert_eq!(pdf_page_count(&pdf), 3);
}

#[tokio::test]
async fn only_the_projects_own_pages_however_the_results_are_paged() {
    // One item per Query page: every page of the project is its own result page.
    let stack = Stack::start(|c| c.query_page_size = Some(1))
        .await
        .expect("stack");
    for (user, project, identity) in [
        ("alice", "p", ALICE_IDENTITY),
        ("alice", "q", ALICE_IDENTITY),
        ("bob", "p", BOB_IDENTITY),
    ] {
        stack
            .scanner
            .create_project(user, project, identity)
            .await
            .expect("project");
    }
    upload_all(
        &stack,
        ALICE_IDENTITY,
        "alice",
        "p",
        &[(1, RECEIPT), (2, MULTICOL)],
    )
    .await;
    upload_all(&stack, ALICE_IDENTITY, "alice", "q", &[(1, TWOCOL)]).await;
    upload_all(
        &stack,
        BOB_IDENTITY,
        "bob",
        "p",
        &[(1, TWOCOL), (2, TWOCOL), (3, RECEIPT)],
    )
    .await;

    let Generated::Inline { pages, pdf } =
        generate_pdf(&stack.scanner, "alice", "p", Mode::Searchable)
            .await
            .expect("pdf")
    else {
        panic!("inline");
    };
    assert_eq!(pages, [1, 2]);
    assert_eq!(pdf_page_count(&pdf), 2);
    let Generated::Inline { pages, .. } = generate_pdf(&stack.scanner, "bob", "p", Mode::Text)
        .await
        .expect("pdf")
    else {
        panic!("inline");
    };
    assert_eq!(pages, [1, 2, 3]);
}

#[tokio::test]
async fn text_in_any_script_makes_both_pdfs() {
    let project = "Steuererklärung 東京";
    let stack = Stack::start(|_| {}).await.expect("stack");
    stack
        .scanner
        .create_project("alice", project, ALICE_IDENTITY)
        .await
        .expect("project");
    let recording = with_first_line(
        &textract_fixture("receipt.detect.json").expect("recording"),
        &["Grüße", "東京"],
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

    let searchable = pdf_body(&pdf_request(&stack, "alice", &[("project", project)]).await);
    assert_eq!(pdf_page_count(&searchable), 1);
    let response = pdf_request(&stack, "alice", &[("project", project), ("mode", "text")]).await;
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("ascii header")
        .to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''Steuererkl%C3%A4rung%20%E6%9D%B1%E4%BA%AC.pdf"),
        "{disposition}"
    );
    pdf_body(&response);
}

#[tokio::test]
async fn a_pdf_too_large_for_a_lambda_response_is_a_presigned_link() {
    // Any PDF of these pages is over 1000 bytes of base64.
    let stack = Stack::start(|c| c.pdf_inline_limit = 1000)
        .await
        .expect("stack");
    stack
        .scanner
        .create_project("alice", "p", ALICE_IDENTITY)
        .await
        .expect("project");
    let pages: Vec<(u32, (&str, &str))> = SAMPLE_PAGES
        .iter()
        .map(|&(n, image, json)| (n, (image, json)))
        .collect();
    upload_all(&stack, ALICE_IDENTITY, "alice", "p", &pages).await;

    let response = pdf_request(&stack, "alice", &[("project", "p")]).await;
    assert_eq!(response.status(), 200);
    let link = json_body(&response).expect("json");
    assert_eq!(link["expiresIn"], 900);
    assert_eq!(link["pages"], serde_json::json!([1, 2, 3, 10]));
    let key = link["key"].as_str().expect("key");
    assert!(
        key.starts_with("exports/alice/p/") && key.ends_with(".pdf"),
        "{key}"
    );
    let url = link["url"].as_str().expect("url");
    assert!(url.contains("X-Amz-Signature="), "{url}");

    let download = lambdakit_test_support::http::get(url);
    assert_eq!(download.status, 200, "{}", download.text());
    assert!(download.body.starts_with(b"%PDF-"));
    assert_eq!(Some(download.body.len() as u64), link["bytes"].as_u64());
    assert_eq!(pdf_page_count(&download.body), 4);

    // DeleteProject removes the export too.
    let deleted = stack
        .scanner
        .delete_project("alice", "p")
        .await
        .expect("deleted");
    assert_eq!(deleted.objects, 4 * 2 + 1);
    assert!(
        stack
            .scanner
            .objects()
            .list("")
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn missing_projects_pages_and_images_and_bad_modes() {
    let stack = Stack::start(|_| {}).await.expect("stack");
    assert_eq!(
        pdf_request(&stack, "alice", &[("project", "p")])
            .await
            .status(),
        404
    );
    stack
        .scanner
        .create_project("alice", "p", ALICE_IDENTITY)
        .await
        .expect("project");
    let empty = pdf_request(&stack, "alice", &[("project", "p")]).await;
    assert_eq!(empty.status(), 404);
    assert!(
        json_body(&empty).expect("json")["error"]
            .as_str()
            .is_some_and(|e| e.contains("no pages yet"))
    );

    upload_all(
        &stack,
        ALICE_IDENTITY,
        "alice",
        "p",
        &[(1, RECEIPT), (2, MULTICOL)],
    )
    .await;
    let bad = pdf_request(&stack, "alice", &[("project", "p"), ("mode", "docx")]).await;
    assert_eq!(bad.status(), 400);

    // An image deleted behind the scanner's back: not a PDF with a page silently missing.
    stack
        .scanner
        .objects()
        .delete(&[page_key(ALICE_IDENTITY, "alice", "p", 2, "png")])
        .await
        .expect("delete");
    let gone = pdf_request(&stack, "alice", &[("project", "p")]).await;
    assert_eq!(gone.status(), 409);
    assert!(matches!(
        generate_pdf(&stack.scanner, "alice", "p", Mode::Searchable).await,
        Err(Error::Conflict(_))
    ));
    // The text PDF needs only the stored lines.
    pdf_body(&pdf_request(&stack, "alice", &[("project", "p"), ("mode", "text")]).await);
}
